/*
 * test_anchor_line: the lines of an audit anchor file (src/ctl/anchor_line.h):
 * what parses and what does not, that a written line parses back the same,
 * and the reader's bounds (a line too long, a last line without newline,
 * NUL bytes) on a stream.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl/anchor_line.h"
#include "tap.h"

#define ORG "6f0c2b1e-8d3a-4c5b-9e7f-0a1b2c3d4e5f"
#define HASH "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

static const char *const valid[] = {
    "2025-03-01T10:00:00Z " ORG " 42 " HASH,
    "2025-03-01T10:00:00Z " ORG " 0 " ZERO,
    "2024-02-29T23:59:60Z " ORG " 1 " HASH,
    "2025-12-31T00:00:00Z " ORG " 9223372036854775807 " HASH,
};

static const struct {
	const char *line, *what;
} invalid[] = {
    {"", "empty"},
    {"2025-03-01T10:00:00Z " ORG " 42", "no hash"},
    {"2025-03-01T10:00:00Z " ORG " 42 " HASH " ", "trailing space"},
    {"2025-03-01T10:00:00Z " ORG "  42 " HASH, "two spaces"},
    {"2025-03-01T10:00:00Z\t" ORG " 42 " HASH, "a tab"},
    {" 2025-03-01T10:00:00Z " ORG " 42 " HASH, "leading space"},
    {"2025-03-01 10:00:00Z " ORG " 42 " HASH, "time with a space"},
    {"2025-13-01T10:00:00Z " ORG " 42 " HASH, "month 13"},
    {"2025-02-29T10:00:00Z " ORG " 42 " HASH, "29 February of a common year"},
    {"2025-04-31T10:00:00Z " ORG " 42 " HASH, "31 April"},
    {"2025-03-01T24:00:00Z " ORG " 42 " HASH, "hour 24"},
    {"2025-03-01T10:00:00+00 " ORG " 42 " HASH, "an offset, not Z"},
    {"2025-03-01T10:00:00Z 6F0C2B1E-8D3A-4C5B-9E7F-0A1B2C3D4E5F 42 " HASH, "uppercase org"},
    {"2025-03-01T10:00:00Z 6f0c2b1e8d3a4c5b9e7f0a1b2c3d4e5f0000 42 " HASH, "org without dashes"},
    {"2025-03-01T10:00:00Z 6f0c2b1e-8d3a-4c5b-9e7f-0a1b2c3d4e5g 42 " HASH, "org not hex"},
    {"2025-03-01T10:00:00Z " ORG " 042 " HASH, "seq with a leading zero"},
    {"2025-03-01T10:00:00Z " ORG " -1 " HASH, "negative seq"},
    {"2025-03-01T10:00:00Z " ORG " +1 " HASH, "seq with a sign"},
    {"2025-03-01T10:00:00Z " ORG " 9223372036854775808 " HASH, "seq past 2^63-1"},
    {"2025-03-01T10:00:00Z " ORG " 99999999999999999999 " HASH, "seq of 20 digits"},
    {"2025-03-01T10:00:00Z " ORG " 4x " HASH, "seq not a number"},
    {"2025-03-01T10:00:00Z " ORG " 42 "
     "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
     "uppercase hash"},
    {"2025-03-01T10:00:00Z " ORG " 42 "
     "00112233445566778899aabbccddeeff00112233445566778899aabbccddee",
     "hash of 31 bytes"},
    {"2025-03-01T10:00:00Z " ORG " 42 " HASH "00", "hash of 33 bytes"},
    {"2025-03-01T10:00:00Z " ORG " 0 " HASH, "seq 0 with a non-zero hash"},
    {"# 2025-03-01T10:00:00Z " ORG " 42 " HASH, "a comment"},
};

static void
test_valid(void)
{
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct anchor a;
		const char *why = "unset";
		char out[ANCHOR_LINE_MAX + 2];
		int n;

		int rc = anchor_parse(valid[i], strlen(valid[i]), &a, &why);

		if (!ok(rc == 0, "test-anchor-parse: line %zu (%s)", i, why ? why : "ok"))
			continue;
		is_str(a.org, ORG, "test-anchor-parse: org of line %zu", i);
		n = anchor_format(&a, out, sizeof(out));
		ok(n == (int)strlen(valid[i]) + 1 && out[n - 1] == '\n' &&
		       !strncmp(out, valid[i], (size_t)n - 1),
		   "test-anchor-format: line %zu written back the same", i);
	}
}

static void
test_fields(void)
{
	struct anchor a;
	const char *why;
	const char *line = valid[0];

	ok(anchor_parse(line, strlen(line), &a, &why) == 0, "test-anchor-fields: parses");
	is_str(a.at, "2025-03-01T10:00:00Z", "test-anchor-fields: time");
	is_int(a.seq, 42, "test-anchor-fields: seq");
	ok(a.hash[0] == 0x00 && a.hash[1] == 0x11 && a.hash[15] == 0xff && a.hash[31] == 0xff,
	   "test-anchor-fields: hash bytes");
}

static void
test_invalid(void)
{
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct anchor a;
		const char *why = NULL;
		int rc = anchor_parse(invalid[i].line, strlen(invalid[i].line), &a, &why);

		ok(rc == -1 && why != NULL && *why, "test-anchor-parse-bad-%s: %s", invalid[i].what,
		   why ? why : "(accepted)");
	}
}

static void
test_format_bad(void)
{
	struct anchor a;
	const char *why;
	char out[ANCHOR_LINE_MAX + 2];

	anchor_parse(valid[0], strlen(valid[0]), &a, &why);
	ok(anchor_format(&a, out, 50) == -1, "test-anchor-format-bad-small: too small a buffer");
	a.seq = -1;
	ok(anchor_format(&a, out, sizeof(out)) == -1, "test-anchor-format-bad-seq: negative seq");
	a.seq = 0;
	ok(anchor_format(&a, out, sizeof(out)) == -1,
	   "test-anchor-format-bad-seq0: seq 0 with a hash");
	a.seq = 1;
	strcpy(a.org, "6F0C2B1E-8D3A-4C5B-9E7F-0A1B2C3D4E5F");
	ok(anchor_format(&a, out, sizeof(out)) == -1, "test-anchor-format-bad-org: uppercase org");
}

/* The reader over a stream of n bytes: the results in order, as letters. */
static void
read_all(const char *data, size_t n, char *got, size_t size, long long *lines)
{
	FILE *fp = fmemopen((void *)data, n, "r");
	struct anchor_reader r = {fp, 0};
	struct anchor a;
	const char *why;
	enum anchor_read x;
	size_t k = 0;

	while (k + 1 < size && (x = anchor_read(&r, &a, &why)) != ANCHOR_READ_EOF &&
	       x != ANCHOR_READ_ERROR)
		got[k++] = x == ANCHOR_READ_LINE ? 'L' : 'B';
	got[k] = '\0';
	*lines = r.lineno;
	fclose(fp);
}

static void
test_reader(void)
{
	char buf[4096], got[16], *p = buf;
	long long lines;
	size_t n;

	/* good, too long (kept going to its end), good, blank, with a NUL, good without a newline
	 */
	p += sprintf(p, "%s\n", valid[0]);
	memset(p, 'x', 1000);
	p += 1000;
	*p++ = '\n';
	p += sprintf(p, "%s\n\n", valid[1]);
	n = (size_t)(p - buf);
	memcpy(p, valid[2], strlen(valid[2]));
	p[20] = '\0';
	p += strlen(valid[2]);
	*p++ = '\n';
	p += sprintf(p, "%s", valid[3]);
	read_all(buf, (size_t)(p - buf), got, sizeof(got), &lines);
	is_str(got, "LBLBBB", "test-anchor-reader: good, too long, good, blank, NUL, no newline");
	is_int(lines, 6, "test-anchor-reader: six lines counted");
	read_all(buf, n, got, sizeof(got), &lines);
	is_str(got, "LBLB", "test-anchor-reader: a stream ending in a newline has no extra line");
	read_all("", 0, got, sizeof(got), &lines);
	ok(got[0] == '\0' && lines == 0, "test-anchor-reader: an empty file has no line");
}

int
main(void)
{
	test_valid();
	test_fields();
	test_invalid();
	test_format_bad();
	test_reader();
	return done_testing();
}
