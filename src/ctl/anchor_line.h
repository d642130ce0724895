/*
 * anchor_line: the lines of an audit anchor file, which finicomctl
 * audit-anchor appends and verify-audit --anchors reads (docs/audit-anchors.md).
 * One line per org per run, fields separated by one space:
 *
 *   TIME ORG SEQ HASH
 *   2025-03-01T10:00:00Z 6f0c2b1e-...-9a1d 42 3e7d...(64 hex digits)
 *
 * TIME  when audit-anchor ran, UTC, by the clock of the machine it ran on
 * ORG   the org's id: a UUID in lowercase hex with its dashes
 * SEQ   the seq of the org's chain head, decimal without sign or leading
 *       zeros; 0 for an org whose events are all still pending
 * HASH  the head's hash, 64 lowercase hex digits; 64 zeros with SEQ 0 (the
 *       prev_hash of an org's first event)
 *
 * Nothing else is a line: no comments, no blank lines, no other spacing.
 * A line is at most ANCHOR_LINE_MAX bytes before its newline, and ends with
 * one; a last line cut short by a crash is malformed.
 */
#ifndef FINICOM_ANCHOR_LINE_H
#define FINICOM_ANCHOR_LINE_H

#include <stddef.h>
#include <stdio.h>

#define ANCHOR_TIME_CHARS 20 /* YYYY-MM-DDTHH:MM:SSZ */
#define ANCHOR_ORG_CHARS 36
#define ANCHOR_HASH_BYTES 32
/* The longest line: time, org, a 19-digit seq, hash and three spaces. */
#define ANCHOR_LINE_MAX (ANCHOR_TIME_CHARS + ANCHOR_ORG_CHARS + 19 + 2 * ANCHOR_HASH_BYTES + 3)

struct anchor {
	char at[ANCHOR_TIME_CHARS + 1];
	char org[ANCHOR_ORG_CHARS + 1];
	long long seq;
	unsigned char hash[ANCHOR_HASH_BYTES];
};

/*
 * Parse one line of len bytes (without its newline) into *a.  Returns 0,
 * or -1 with *why set to a static phrase saying what is wrong.
 */
int anchor_parse(const char *line, size_t len, struct anchor *a, const char **why);

/*
 * Write a's line and its newline into out (size bytes, NUL-terminated).
 * Returns the line's length, or -1 when a is not a valid anchor or out is
 * too small.
 */
int anchor_format(const struct anchor *a, char *out, size_t size);

/* Parse a hex text of exactly 64 lowercase digits into 32 bytes; 0 or -1. */
int anchor_hash_parse(const char *hex, size_t len, unsigned char out[ANCHOR_HASH_BYTES]);

/* A reader of an anchor file: reads lines of bounded length from fp. */
struct anchor_reader {
	FILE *fp;
	long long lineno; /* of the line last read, from 1 */
};

enum anchor_read {
	ANCHOR_READ_LINE, /* *a holds the next line */
	ANCHOR_READ_BAD,  /* line lineno is malformed: *why says how */
	ANCHOR_READ_EOF,
	ANCHOR_READ_ERROR, /* the stream failed (errno) */
};

/*
 * Read the next line.  A line longer than ANCHOR_LINE_MAX is skipped to its
 * end and reported bad; so is a last line without a newline.
 */
enum anchor_read anchor_read(struct anchor_reader *r, struct anchor *a, const char **why);

#endif
