/*
 * log: key=value lines on stderr.  See log.h.
 *
 * A worker writes one line per request, so this is on every request's path:
 * lines are put together with memcpy rather than printf, the time stamp's
 * date and time of day are formatted once a second, the pid is asked for
 * once per process (again in a forked child), and the line leaves in one
 * write(2), so lines from several workers sharing stderr never interleave.
 */
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2048

static enum log_level current_level = LOG_INFO;
static enum log_format current_format = LOG_FORMAT_TEXT;
static const char *process_name = "finicom";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Our pid, 0 until first asked; a forked child asks again. */
static long cached_pid;

void
log_set_level(enum log_level level)
{
	current_level = level;
}

void
log_set_format(enum log_format format)
{
	current_format = format;
}

void
log_set_process(const char *name)
{
	process_name = name;
}

int
log_enabled(enum log_level level)
{
	return level >= current_level;
}

/* Append s[0..n) to buf (size cap) at *len, as much as fits; keeps buf NUL-terminated. */
static void
append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	size_t room = cap - 1 - *len;

	if (n > room)
		n = room;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/*
 * The length of v, or (size_t)-1 when it needs quotes: it is empty, or holds
 * a space, quote, '=', backslash or control byte.
 */
static size_t
plain_length(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	for (; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
			return (size_t)-1;
	return p == (const unsigned char *)v ? (size_t)-1 : (size_t)(p - (const unsigned char *)v);
}

void
log_kv(char *buf, size_t cap, size_t *len, const char *key, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = *len, plain;

	if (cap == 0 || n >= cap - 1)
		return;
	if (value == NULL)
		value = "-";
	if (n > 0)
		append(buf, cap, &n, " ", 1);
	append(buf, cap, &n, key, strlen(key));
	append(buf, cap, &n, "=", 1);
	if (n >= cap - 1) {
		*len = cap - 1;
		return;
	}
	plain = plain_length(value);
	if (plain != (size_t)-1) {
		append(buf, cap, &n, value, plain);
	} else {
		buf[n++] = '"';
		const unsigned char *p = (const unsigned char *)value;

		/* Room for the longest escape (4), the closing quote and the NUL;
		 * n + 6 < cap, not n < cap - 6, which wraps when cap < 6. */
		for (; *p && n + 6 < cap; p++) {
			if (*p == '"' || *p == '\\') {
				buf[n++] = '\\';
				buf[n++] = (char)*p;
			} else if (*p < ' ' || *p == 0x7f) {
				buf[n++] = '\\';
				buf[n++] = 'x';
				buf[n++] = hex[*p >> 4];
				buf[n++] = hex[*p & 15];
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

/* Decimal digits of v (v >= 0) at out; returns how many. */
static size_t
put_decimal(char *out, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

void
log_kv_int(char *buf, size_t cap, size_t *len, const char *key, long value)
{
	char num[24];
	size_t n = 0;

	if (value < 0) {
		num[n++] = '-';
		n += put_decimal(num + n, 0ULL - (unsigned long long)value);
	} else {
		n += put_decimal(num + n, (unsigned long long)value);
	}
	num[n] = '\0';
	log_kv(buf, cap, len, key, num);
}

void
log_kv_ms(char *buf, size_t cap, size_t *len, const char *key, double seconds)
{
	char num[32];
	unsigned long long us;
	size_t n;

	/* Like printf's "%.3f" of milliseconds, rounded to the microsecond. */
	if (!(seconds >= 0.0))
		seconds = 0.0;
	if (seconds > 1e9)
		seconds = 1e9;
	us = (unsigned long long)(seconds * 1e6 + 0.5);
	n = put_decimal(num, us / 1000);
	num[n++] = '.';
	num[n++] = (char)('0' + us / 100 % 10);
	num[n++] = (char)('0' + us / 10 % 10);
	num[n++] = (char)('0' + us % 10);
	num[n] = '\0';
	log_kv(buf, cap, len, key, num);
}

static void
forget_pid(void)
{
	cached_pid = 0;
}

static long
current_pid(void)
{
	static bool registered;

	if (!registered) {
		pthread_atfork(NULL, NULL, forget_pid);
		registered = true;
	}
	if (cached_pid == 0)
		cached_pid = (long)getpid();
	return cached_pid;
}

/*
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" of now (UTC) at out (at least 25 bytes);
 * returns 24.  The part up to the seconds is formatted once a second.
 */
static size_t
put_stamp(char *out)
{
	static time_t cached_sec = (time_t)-1;
	static char cached[24];
	struct timespec ts;
	struct tm tm;
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		if (strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
			memcpy(cached, "0000-00-00T00:00:00", 20);
		cached_sec = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	memcpy(out, cached, 19);
	out[19] = '.';
	out[20] = (char)('0' + ms / 100);
	out[21] = (char)('0' + ms / 10 % 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
	return 24;
}

/* Write all of buf[0..n) to stderr, going on after a signal or a short write. */
static void
write_stderr(const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

/*
 * JSON: out gets s[0..n) as the inside of a JSON string; control bytes as
 * \u00XX, bytes that are not UTF-8 as U+FFFD.  Returns the length, or
 * (size_t)-1 when it would not fit in cap.
 */
static size_t
json_escape(const unsigned char *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t want = 1, seq = 0;

		if (o + 7 > cap)
			return (size_t)-1;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
			i++;
			continue;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		/* A well-formed UTF-8 sequence (no overlongs, surrogates or > U+10FFFF) is kept. */
		if (c >= 0xc2 && c <= 0xdf)
			want = 2;
		else if (c >= 0xe0 && c <= 0xef)
			want = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			want = 4;
		if (want > 1 && i + want <= n) {
			seq = 1;
			for (size_t k = 1; k < want; k++)
				if ((s[i + k] & 0xc0) != 0x80)
					seq = 0;
			if (seq && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
			    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f)))
				seq = 0;
		}
		if (seq) {
			memcpy(out + o, s + i, want);
			o += want;
			i += want;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	return o;
}

/* Keys whose values are numbers in a JSON line (when they read as one). */
static bool
numeric_key(const char *k, size_t n)
{
	static const char *const keys[] = {"status", "duration_ms", "attempts"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && !memcmp(keys[i], k, n))
			return true;
	return false;
}

/* -?digits(.digits)?, without leading zeros: a JSON number. */
static bool
json_number(const char *v, size_t n)
{
	size_t i = 0, d;

	if (i < n && v[i] == '-')
		i++;
	d = i;
	while (i < n && v[i] >= '0' && v[i] <= '9')
		i++;
	if (i == d || (v[d] == '0' && i - d > 1))
		return false;
	if (i < n && v[i] == '.') {
		size_t f = ++i;
		while (i < n && v[i] >= '0' && v[i] <= '9')
			i++;
		if (i == f)
			return false;
	}
	return i == n;
}

/*
 * One key=value pair of a text line at *p (log_kv's quoting undone: \" \\
 * and \xHH) as ,"key":"value" at out; advances *p.  Returns the length
 * written, 0 at the end of the text, (size_t)-1 when it does not fit.
 */
static size_t
json_pair(const char **p, char *out, size_t cap)
{
	const char *s = *p, *key;
	char value[LINE_MAX_BYTES];
	size_t klen, vlen = 0, o = 0, e;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	key = s;
	while (*s && *s != '=' && *s != ' ')
		s++;
	klen = (size_t)(s - key);
	if (*s == '=')
		s++;
	if (*s == '"') {
		for (s++; *s && *s != '"' && vlen < sizeof(value) - 1; s++) {
			if (*s == '\\' && s[1] == 'x' && s[2] && s[3]) {
				static const char hex[] = "0123456789abcdef";
				const char *h = strchr(hex, s[2]), *l = strchr(hex, s[3]);
				if (h != NULL && l != NULL) {
					value[vlen++] = (char)((h - hex) << 4 | (l - hex));
					s += 3;
					continue;
				}
			}
			if (*s == '\\' && s[1])
				s++;
			value[vlen++] = *s;
		}
		if (*s == '"')
			s++;
	} else {
		while (*s && *s != ' ' && vlen < sizeof(value) - 1)
			value[vlen++] = *s++;
	}
	*p = s;
	if (klen == 0)
		return json_pair(p, out, cap);
	if (cap < klen * 6 + 8)
		return (size_t)-1;
	out[o++] = ',';
	out[o++] = '"';
	e = json_escape((const unsigned char *)key, klen, out + o, cap - o);
	if (e == (size_t)-1 || o + e + 4 > cap)
		return (size_t)-1;
	o += e;
	memcpy(out + o, "\":", 2);
	o += 2;
	if (numeric_key(key, klen) && json_number(value, vlen)) {
		if (o + vlen > cap)
			return (size_t)-1;
		memcpy(out + o, value, vlen);
		return o + vlen;
	}
	out[o++] = '"';
	e = json_escape((const unsigned char *)value, vlen, out + o, cap - o);
	if (e == (size_t)-1 || o + e + 1 > cap)
		return (size_t)-1;
	o += e;
	out[o++] = '"';
	return o;
}

/* log_line in JSON: {"time":...,"level":...,"proc":...,"pid":N, then kv's pairs}. */
static void
json_line(enum log_level level, const char *kv)
{
	char line[LINE_MAX_BYTES * 2], stamp[32], pid[24], pair[LINE_MAX_BYTES * 2];
	const char *p = kv;
	size_t len = 0, n;
	char proc[200];

	append(line, sizeof(line), &len, "{\"time\":\"", 9);
	append(line, sizeof(line), &len, stamp, put_stamp(stamp));
	append(line, sizeof(line), &len, "\",\"level\":\"", 11);
	append(line, sizeof(line), &len, level_names[level], strlen(level_names[level]));
	append(line, sizeof(line), &len, "\",\"proc\":\"", 10);
	n = json_escape((const unsigned char *)process_name, strlen(process_name), proc, sizeof(proc));
	if (n != (size_t)-1)
		append(line, sizeof(line), &len, proc, n);
	append(line, sizeof(line), &len, "\",\"pid\":", 8);
	n = put_decimal(pid, (unsigned long long)current_pid());
	append(line, sizeof(line), &len, pid, n);
	/* Pairs that fit, with room kept for the closing brace; the rest is dropped. */
	while ((n = json_pair(&p, pair, sizeof(line) - 1 - len - 3)) != 0) {
		if (n == (size_t)-1) {
			static const char cut[] = ",\"truncated\":true";
			if (len + sizeof(cut) - 1 + 3 < sizeof(line))
				append(line, sizeof(line), &len, cut, sizeof(cut) - 1);
			break;
		}
		append(line, sizeof(line), &len, pair, n);
	}
	line[len++] = '}';
	line[len++] = '\n';
	write_stderr(line, len);
}

void
log_line(enum log_level level, const char *kv)
{
	char line[LINE_MAX_BYTES], stamp[32], pid[24];
	size_t len = 0, n;

	if (!log_enabled(level))
		return;
	if (current_format == LOG_FORMAT_JSON) {
		json_line(level, kv);
		return;
	}
	/* time=... level=... proc=... pid=... KV\n, as one write(2). */
	append(line, sizeof(line), &len, "time=", 5);
	append(line, sizeof(line), &len, stamp, put_stamp(stamp));
	append(line, sizeof(line), &len, " level=", 7);
	append(line, sizeof(line), &len, level_names[level], strlen(level_names[level]));
	append(line, sizeof(line), &len, " proc=", 6);
	append(line, sizeof(line), &len, process_name, strlen(process_name));
	append(line, sizeof(line), &len, " pid=", 5);
	n = put_decimal(pid, (unsigned long long)current_pid());
	append(line, sizeof(line), &len, pid, n);
	append(line, sizeof(line), &len, " ", 1);
	append(line, sizeof(line), &len, kv, strlen(kv));
	if (len == sizeof(line) - 1)
		len--; /* a line too long loses its end, never its newline */
	line[len++] = '\n';
	write_stderr(line, len);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char text[1024], line[1400];
	size_t len = 0;
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_kv(line, sizeof(line), &len, "msg", text);
	log_line(level, line);
}
