/*
 * log: one line per event on stderr, as key=value pairs.
 *
 * Values are quoted when they hold spaces, quotes or control bytes, so a line
 * always parses back.  Nothing secret is ever passed here: callers log route
 * patterns, never raw paths that may carry tokens.
 */
#ifndef FINICOM_LOG_H
#define FINICOM_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_set_level(enum log_level level);

/*
 * text: "time=... level=... proc=... pid=... key=value ...".  json: the
 * same keys in the same order as one JSON object per line; every value a
 * string, but pid, status, duration_ms and attempts, which are numbers.
 */
void log_set_format(enum log_format format);
void log_set_process(const char *name);
int log_enabled(enum log_level level);

/* Log "msg" with printf-style text at level. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append key=value to buf (size cap) at *len, quoting when needed. */
void log_kv(char *buf, size_t cap, size_t *len, const char *key, const char *value);

/* log_kv of a decimal integer, without printf. */
void log_kv_int(char *buf, size_t cap, size_t *len, const char *key, long value);

/* log_kv of a duration given in seconds, as milliseconds with three decimals ("12.345"). */
void log_kv_ms(char *buf, size_t cap, size_t *len, const char *key, double seconds);

/*
 * Write a finished line (no trailing newline in buf) with time and level,
 * in one write(2) to stderr; a line longer than 2 KiB loses its end.
 */
void log_line(enum log_level level, const char *kv);

#endif
