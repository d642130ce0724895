/*
 * test_log: the key=value log lines.  log_kv is checked against the
 * snprintf-based version it replaced (same bytes for every value and every
 * buffer size), log_kv_int and log_kv_ms against printf, and log_line's
 * whole line (time stamp, level, process, pid, also in a forked child) as
 * read back from stderr.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/log.h"

/* The log_kv this file's version replaced, kept as the reference. */
static int
ref_needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' ||
		    (unsigned char)*v == 0x7f)
			return 1;
	return 0;
}

static void
ref_log_kv(char *buf, size_t cap, size_t *len, const char *key, const char *value)
{
	size_t n = *len;

	if (cap == 0 || n >= cap - 1)
		return;
	if (value == NULL)
		value = "-";
	n += (size_t)snprintf(buf + n, cap - n, "%s%s=", n ? " " : "", key);
	if (n >= cap - 1) {
		*len = cap - 1;
		return;
	}
	if (!ref_needs_quotes(value)) {
		n += (size_t)snprintf(buf + n, cap - n, "%s", value);
	} else {
		buf[n++] = '"';
		for (const unsigned char *p = (const unsigned char *)value; *p && n + 6 < cap; p++) {
			if (*p == '"' || *p == '\\') {
				buf[n++] = '\\';
				buf[n++] = (char)*p;
			} else if (*p < ' ' || *p == 0x7f) {
				n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", *p);
			} else {
				buf[n++] = (char)*p;
			}
		}
		if (n < cap - 1)
			buf[n++] = '"';
		buf[n] = '\0';
	}
	*len = n < cap ? n : cap - 1;
}

/* True when the n bytes at p are all still the canary 'Z'. */
static bool
untouched(const char *p, size_t n)
{
	while (n > 0 && *p == 'Z')
		p++, n--;
	return n == 0;
}

static void
test_log_kv(void)
{
	static const struct {
		const char *value;
		const char *line;
	} valid[] = {
		{"GET", "k=GET"},
		{"/api/v1/orgs/6f0c", "k=/api/v1/orgs/6f0c"},
		{"", "k=\"\""},
		{NULL, "k=-"},
		{"two words", "k=\"two words\""},
		{"a\"b", "k=\"a\\\"b\""},
		{"a\\b", "k=\"a\\\\b\""},
		{"a=b", "k=\"a=b\""},
		{"tab\there", "k=\"tab\\x09here\""},
		{"nl\n", "k=\"nl\\x0a\""},
		{"del\x7f", "k=\"del\\x7f\""},
		{"\xc3\xa9t\xc3\xa9", "k=\xc3\xa9t\xc3\xa9"},
	};
	static const char *const values[] = {
		"GET", "", "x", "two words", "quote\"d", "back\\slash", "ctl\x01\x02\x03\x1f",
		"0123456789abcdef0123456789abcdef", "a=b=c", "\x7f\x7f\x7f", NULL,
		"a long value with spaces that will not fit in a small buffer at all, no",
	};
	char line[256], ref[256];
	size_t len, ref_len;
	bool same = true;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		len = 0;
		log_kv(line, sizeof(line), &len, "k", valid[i].value);
		is_str(line, valid[i].line, "log_kv case %zu", i);
		ok(len == strlen(valid[i].line), "log_kv case %zu: length", i);
	}
	len = 0;
	log_kv(line, sizeof(line), &len, "a", "1");
	log_kv(line, sizeof(line), &len, "b", "x y");
	log_kv(line, sizeof(line), &len, "c", NULL);
	is_str(line, "a=1 b=\"x y\" c=-", "pairs are separated by one space");

	/* Every buffer size, every value, as the second pair of a line: same bytes as before. */
	for (size_t cap = 1; cap < 120 && same; cap++) {
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]) && same; v++) {
			memset(line, 'Z', sizeof(line));
			memset(ref, 'Z', sizeof(ref));
			len = ref_len = 0;
			log_kv(line, cap, &len, "request_id", "abc");
			ref_log_kv(ref, cap, &ref_len, "request_id", "abc");
			log_kv(line, cap, &len, "path", values[v]);
			ref_log_kv(ref, cap, &ref_len, "path", values[v]);
			same = len == ref_len && memcmp(line, ref, len + 1) == 0 && len < cap;
			if (!same)
				printf("# cap %zu value %zu: \"%.*s\" (%zu) vs \"%.*s\" (%zu)\n", cap, v,
				    (int)len, line, len, (int)ref_len, ref, ref_len);
		}
	}
	ok(same, "log_kv writes what the snprintf version wrote, at every buffer size 1..119");

	/*
	 * Buffers of 1..12 bytes (the bound wrapped under 6), a one-letter key,
	 * values that need quotes, alone or after a first pair: nothing is
	 * written at or past cap and the line stays NUL-terminated.  The canary
	 * bytes after cap catch an overrun without ASan; the same call on a
	 * buffer malloc'd at exactly cap bytes lets ASan catch it too.
	 */
	{
		static const char *const quoted[] = {"", "two words", "a\"b\\c", "ctl\x01\x02\x03",
			"0123456789 0123456789 0123456789 0123456789"};
		bool fits = true;

		for (size_t cap = 1; cap <= 12 && fits; cap++) {
			for (size_t v = 0; v < sizeof(quoted) / sizeof(quoted[0]) && fits; v++) {
				for (int first = 0; first < 2 && fits; first++) {
					char *exact = malloc(cap);
					size_t l = 0, el = 0;

					memset(line, 'Z', sizeof(line));
					line[0] = exact[0] = '\0'; /* an empty line (cap 1 is already full) */
					if (first) {
						log_kv(line, cap, &l, "a", "1");
						log_kv(exact, cap, &el, "a", "1");
					}
					log_kv(line, cap, &l, "k", quoted[v]);
					log_kv(exact, cap, &el, "k", quoted[v]);
					fits = l < cap && line[l] == '\0' && strlen(line) == l &&
					    untouched(line + cap, sizeof(line) - cap) && el == l &&
					    (l == 0 || memcmp(exact, line, l + 1) == 0);
					if (!fits)
						printf("# cap %zu value %zu first %d: \"%.*s\" (%zu)\n", cap, v, first,
						    (int)(l < sizeof(line) ? l : 0), line, l);
					free(exact);
				}
			}
		}
		ok(fits, "test-log-kv-bad-small-buffer: quoted values stay inside buffers of 1..12 bytes");
	}
	len = 0;
	memset(line, 'Z', sizeof(line));
	log_kv(line, 4, &len, "k", "two words");
	ok(len == 3 && !strcmp(line, "k=\"") && line[4] == 'Z',
	    "test-log-kv-bad-cap-4: \"k=\\\"\" and nothing past the 4th byte (%s)", line);
	len = 0;
	memset(line, 'Z', sizeof(line));
	log_kv(line, 6, &len, "k", "two words");
	ok(len == 4 && !strcmp(line, "k=\"\"") && line[6] == 'Z',
	    "test-log-kv-bad-cap-6: an empty quoted value when nothing else fits");
	len = 0;
	memset(line, 'Z', sizeof(line));
	log_kv(line, 11, &len, "k", "two words");
	ok(len == 6 && !strcmp(line, "k=\"tw\"") && line[11] == 'Z',
	    "test-log-kv-small-cap-11: as much of the value as leaves room for an escape (%s)", line);
	len = 5;
	memcpy(line, "full", 5);
	log_kv(line, 5, &len, "k", "v");
	ok(len == 5 && !strcmp(line, "full"), "test-log-kv-bad-full-buffer left alone");
}

static void
test_log_kv_numbers(void)
{
	static const long ints[] = {0, 7, -1, 200, 503, 1234567890L, LONG_MAX, LONG_MIN};
	static const double seconds[] = {0.0, 0.0000004, 0.0000006, 0.000865, 0.0005, 0.012345678,
		1.0, 2.5, 17.0009994, 123.456789};
	char line[64], want[64];
	size_t len;
	bool same = true;

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		len = 0;
		log_kv_int(line, sizeof(line), &len, "status", ints[i]);
		snprintf(want, sizeof(want), "status=%ld", ints[i]);
		is_str(line, want, "log_kv_int %ld", ints[i]);
	}
	for (size_t i = 0; i < sizeof(seconds) / sizeof(seconds[0]); i++) {
		len = 0;
		log_kv_ms(line, sizeof(line), &len, "duration_ms", seconds[i]);
		snprintf(want, sizeof(want), "duration_ms=%.3f", seconds[i] * 1000.0);
		is_str(line, want, "log_kv_ms %.9f s", seconds[i]);
	}
	/* Pseudo-random durations up to 100 s: printf's "%.3f" except on a half microsecond. */
	srand(42);
	for (int i = 0; i < 20000 && same; i++) {
		double s = (double)rand() / RAND_MAX * (i % 2 ? 100.0 : 0.01);
		double us = s * 1e6;
		if (us - (double)(long long)us > 0.49 && us - (double)(long long)us < 0.51)
			continue;
		len = 0;
		log_kv_ms(line, sizeof(line), &len, "d", s);
		snprintf(want, sizeof(want), "d=%.3f", s * 1000.0);
		same = strcmp(line, want) == 0;
		if (!same)
			printf("# %.12f s: %s vs %s\n", s, line, want);
	}
	ok(same, "log_kv_ms agrees with \"%%.3f\" of milliseconds over 20000 durations");
	len = 0;
	log_kv_ms(line, sizeof(line), &len, "d", -0.5);
	is_str(line, "d=0.000", "test-log-kv-ms-bad-negative is 0.000");
}

/* Read what fd 2 gets while fn runs (at most cap - 1 bytes). */
static size_t
capture_stderr(void (*fn)(void), char *out, size_t cap)
{
	int fds[2], saved = dup(2);
	ssize_t n;
	size_t got = 0;

	if (saved < 0 || pipe(fds) < 0)
		return 0;
	dup2(fds[1], 2);
	close(fds[1]);
	fn();
	dup2(saved, 2);
	close(saved);
	while (got < cap - 1 && (n = read(fds[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	out[got] = '\0';
	return got;
}

static void
log_two_lines(void)
{
	log_line(LOG_INFO, "a=1 b=\"x y\"");
	log_line(LOG_DEBUG, "hidden=1");
	log_msg(LOG_WARN, "could not open \"%s\": %s", "f", "gone");
}

static pid_t forked_child;

static void
log_in_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		log_line(LOG_INFO, "child=1");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	forked_child = pid;
}

/* True when s starts with a time stamp "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static bool
stamp_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

static void
test_log_line(void)
{
	char out[4096], want[256], *second;
	long child;

	log_set_process("test_log");
	log_set_level(LOG_INFO);
	capture_stderr(log_two_lines, out, sizeof(out));
	ok(!strncmp(out, "time=", 5) && stamp_ok(out + 5), "line starts with the time stamp: %.40s", out);
	snprintf(want, sizeof(want), " level=info proc=test_log pid=%ld a=1 b=\"x y\"\n", (long)getpid());
	ok(!strncmp(out + 29, want, strlen(want)), "level, process, pid and the pairs follow");
	second = strchr(out, '\n') + 1;
	snprintf(want, sizeof(want),
	    " level=warn proc=test_log pid=%ld msg=\"could not open \\\"f\\\": gone\"\n", (long)getpid());
	ok(!strncmp(second, "time=", 5) && !strcmp(second + 29, want), "log_msg line: %s", second);
	ok(strstr(out, "hidden") == NULL, "test-log-line-bad-level: debug is not written at info");

	capture_stderr(log_in_child, out, sizeof(out));
	ok(sscanf(strstr(out, "pid=") ? strstr(out, "pid=") : "", "pid=%ld", &child) == 1 &&
	    child == (long)forked_child && child != (long)getpid(),
	    "a forked child logs its own pid (%ld), not its parent's", child);
}

int
main(void)
{
	test_log_kv();
	test_log_kv_numbers();
	test_log_line();
	return done_testing();
}
