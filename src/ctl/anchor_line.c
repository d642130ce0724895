/*
 * anchor_line: parse and write the lines of an audit anchor file; the
 * format is in anchor_line.h.  Parsing is strict (one spelling per line) so
 * that a line that parses is exactly the line audit-anchor wrote.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "ctl/anchor_line.h"

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
number(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* YYYY-MM-DDTHH:MM:SSZ, a date that exists, seconds up to 60 (a leap second). */
static bool
time_ok(const char *s)
{
	static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year, month, day;

	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
	    s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
	    s[16] != ':' || !digits(s + 17, 2) || s[19] != 'Z')
		return false;
	year = number(s, 4);
	month = number(s + 5, 2);
	day = number(s + 8, 2);
	if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1])
		return false;
	if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return false;
	return number(s + 11, 2) <= 23 && number(s + 14, 2) <= 59 && number(s + 17, 2) <= 60;
}

/* A UUID as PostgreSQL prints it: lowercase hex, dashes at 8, 13, 18, 23. */
static bool
org_ok(const char *s)
{
	for (size_t i = 0; i < ANCHOR_ORG_CHARS; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
anchor_hash_parse(const char *hex, size_t len, unsigned char out[ANCHOR_HASH_BYTES])
{
	if (len != 2 * ANCHOR_HASH_BYTES)
		return -1;
	for (size_t i = 0; i < ANCHOR_HASH_BYTES; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Decimal 0..LLONG_MAX without sign or leading zeros; 0 or -1. */
static int
seq_parse(const char *s, size_t n, long long *out)
{
	long long v = 0;

	if (n == 0 || n > 19 || !digits(s, n) || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d = s[i] - '0';
		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static bool
zero_hash(const unsigned char h[ANCHOR_HASH_BYTES])
{
	for (size_t i = 0; i < ANCHOR_HASH_BYTES; i++)
		if (h[i] != 0)
			return false;
	return true;
}

int
anchor_parse(const char *line, size_t len, struct anchor *a, const char **why)
{
	const char *seq, *hash, *end = line + len;

	*why = "a line must be: TIME ORG SEQ HASH";
	if (len > ANCHOR_LINE_MAX) {
		*why = "line too long";
		return -1;
	}
	if (len < ANCHOR_TIME_CHARS + 1 + ANCHOR_ORG_CHARS + 1 + 1 + 1 + 2 * ANCHOR_HASH_BYTES)
		return -1;
	if (line[ANCHOR_TIME_CHARS] != ' ' ||
	    line[ANCHOR_TIME_CHARS + 1 + ANCHOR_ORG_CHARS] != ' ' ||
	    end[-2 * ANCHOR_HASH_BYTES - 1] != ' ')
		return -1;
	seq = line + ANCHOR_TIME_CHARS + 1 + ANCHOR_ORG_CHARS + 1;
	hash = end - 2 * ANCHOR_HASH_BYTES;
	if (!time_ok(line)) {
		*why = "bad time (YYYY-MM-DDTHH:MM:SSZ)";
		return -1;
	}
	if (!org_ok(line + ANCHOR_TIME_CHARS + 1)) {
		*why = "bad org id (a UUID in lowercase hex)";
		return -1;
	}
	if (seq_parse(seq, (size_t)(hash - 1 - seq), &a->seq) < 0) {
		*why = "bad seq (a decimal number without leading zeros)";
		return -1;
	}
	if (anchor_hash_parse(hash, 2 * ANCHOR_HASH_BYTES, a->hash) < 0) {
		*why = "bad hash (64 lowercase hex digits)";
		return -1;
	}
	if (a->seq == 0 && !zero_hash(a->hash)) {
		*why = "seq 0 must have the zero hash";
		return -1;
	}
	memcpy(a->at, line, ANCHOR_TIME_CHARS);
	a->at[ANCHOR_TIME_CHARS] = '\0';
	memcpy(a->org, line + ANCHOR_TIME_CHARS + 1, ANCHOR_ORG_CHARS);
	a->org[ANCHOR_ORG_CHARS] = '\0';
	*why = NULL;
	return 0;
}

int
anchor_format(const struct anchor *a, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char hash[2 * ANCHOR_HASH_BYTES + 1];
	int n;

	if (strlen(a->at) != ANCHOR_TIME_CHARS || !time_ok(a->at) ||
	    strlen(a->org) != ANCHOR_ORG_CHARS || !org_ok(a->org) || a->seq < 0 ||
	    (a->seq == 0 && !zero_hash(a->hash)))
		return -1;
	for (size_t i = 0; i < ANCHOR_HASH_BYTES; i++) {
		hash[2 * i] = hex[a->hash[i] >> 4];
		hash[2 * i + 1] = hex[a->hash[i] & 15];
	}
	hash[2 * ANCHOR_HASH_BYTES] = '\0';
	n = snprintf(out, size, "%s %s %lld %s\n", a->at, a->org, a->seq, hash);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

enum anchor_read
anchor_read(struct anchor_reader *r, struct anchor *a, const char **why)
{
	char buf[ANCHOR_LINE_MAX + 1];
	size_t n = 0;
	bool long_line = false;
	int c;

	while ((c = getc(r->fp)) != EOF && c != '\n') {
		if (n < sizeof(buf))
			buf[n++] = (char)c;
		else
			long_line = true;
	}
	if (c == EOF) {
		if (ferror(r->fp))
			return ANCHOR_READ_ERROR;
		if (n == 0 && !long_line)
			return ANCHOR_READ_EOF;
	}
	r->lineno++;
	if (long_line || n > ANCHOR_LINE_MAX) {
		*why = "line too long";
		return ANCHOR_READ_BAD;
	}
	if (c == EOF) {
		*why = "the last line has no newline (cut short?)";
		return ANCHOR_READ_BAD;
	}
	return anchor_parse(buf, n, a, why) == 0 ? ANCHOR_READ_LINE : ANCHOR_READ_BAD;
}
