/*
 * jsoncheck: a strict RFC 8259 syntax check run before json-c parses a
 * request body.  json-c's strict mode still takes single-quoted strings and
 * NaN; this check refuses anything that is not plain JSON: one value,
 * nesting at most max_depth, valid UTF-8 (no overlongs, no surrogates),
 * only whitespace around it, no NUL byte anywhere.
 */
#ifndef FINICOM_JSONCHECK_H
#define FINICOM_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>

bool json_check(const char *text, size_t len, int max_depth);

#endif
