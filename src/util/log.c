/*
 * log: key=value lines on stderr.  See log.h.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;
static const char *process_name = "finicom";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level level)
{
	current_level = level;
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

static int
needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' ||
		    (unsigned char)*v == 0x7f)
			return 1;
	return 0;
}

void
log_kv(char *buf, size_t cap, size_t *len, const char *key, const char *value)
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
	if (!needs_quotes(value)) {
		n += (size_t)snprintf(buf + n, cap - n, "%s", value);
	} else {
		buf[n++] = '"';
		for (const unsigned char *p = (const unsigned char *)value; *p && n < cap - 6; p++) {
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

void
log_line(enum log_level level, const char *kv)
{
	char stamp[40];
	struct timespec ts;
	struct tm tm;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line: stderr is unbuffered, lines from workers do not interleave. */
	fprintf(stderr, "time=%s.%03ldZ level=%s proc=%s pid=%ld %s\n", stamp,
	    ts.tv_nsec / 1000000, level_names[level], process_name, (long)getpid(), kv);
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
