/*
 * jsoncheck: a strict RFC 8259 syntax check run before json-c parses a
 * request body, and the walk after it that makes json-c's tree faithful to
 * the text.
 *
 * The check refuses anything that is not plain JSON: one value, nesting at
 * most max_depth, valid UTF-8 (no overlongs, no surrogates), only
 * whitespace around it, no NUL byte anywhere.  It also refuses, because
 * the service could not keep them as sent:
 *   - "\u0000" anywhere (PostgreSQL's text and jsonb cannot hold U+0000,
 *     and C strings end there: json-c would cut a key at it);
 *   - "\uXXXX" escapes that are lone surrogates (not a character: json-c
 *     and PostgreSQL would each do something else with them);
 *   - numbers PostgreSQL's numeric cannot hold exactly: more than 131072
 *     digits before the decimal point or more than 16383 after it, once
 *     the exponent is applied, or an exponent of 1073741823 or more either
 *     way, which numeric's input refuses even for zero (jsonb keeps every
 *     other number exactly).
 *
 * json_parse_exact() is what the service uses: the check, json-c's parse,
 * then a walk of the text beside json-c's tree that
 *   - refuses duplicate keys in an object (compared after unescaping, so
 *     "a" and "\u0061" are the same key): json-c would keep the last one
 *     silently;
 *   - (before json-c parses) writes every escaped surrogate pair as the
 *     character's UTF-8 bytes: json-c 0.16 decodes one astral character
 *     in 32 to U+FFFD when it comes escaped;
 *   - gives every number its text as sent as its serializer, so that
 *     json_object_to_json_string() writes it back exactly (json-c clamps
 *     an integer beyond 64 bits to 18446744073709551615 and rounds
 *     decimals to a double).  Read numbers as text, never with
 *     json_object_get_int() and friends, where exactness matters.
 */
#ifndef FINICOM_JSONCHECK_H
#define FINICOM_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/*
 * PostgreSQL numeric's limits: digits before and after the decimal point,
 * and the exponent its input takes at all (INT_MAX / 2, excluded, even for 0).
 */
#define JSON_NUMBER_MAX_INT_DIGITS 131072
#define JSON_NUMBER_MAX_SCALE 16383
#define JSON_NUMBER_MAX_EXPONENT 1073741823LL

/* The check alone; with why, *why says what is wrong (for the client). */
bool json_check(const char *text, size_t len, int max_depth);
bool json_check_why(const char *text, size_t len, int max_depth, const char **why);

/*
 * Check text, parse it with json-c (strict, nesting at most max_depth),
 * refuse duplicate keys and make numbers serialize as sent.  Returns the
 * value (the caller json_object_put()s it; a JSON null is refused too), or
 * NULL with *why set for the client.
 */
json_object *json_parse_exact(const char *text, size_t len, int max_depth, const char **why);

/* The *why of json_parse_exact when it ran out of memory (the server's fault). */
extern const char json_why_nomem[];

/*
 * The sizes of a JSON text (valid by json_check) once PostgreSQL has it as
 * jsonb: full is its length without whitespace and with every number
 * written out in full as numeric prints it (1e3 is 1000); pg is full plus
 * the space jsonb's text form puts after every ':' and ',' (what
 * octet_length(config::text) measures; strings are escaped alike by json-c
 * and PostgreSQL).  Returns 0, or -1 when text is not valid JSON.
 */
struct json_size {
	size_t full;
	size_t pg;
};
int json_measure(const char *text, size_t len, struct json_size *out);

#endif
