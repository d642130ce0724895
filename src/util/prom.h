/*
 * prom: the Prometheus text exposition format (version 0.0.4), written
 * into a caller's buffer, and a tiny HTTP listener that serves it (for
 * finicom-mailer, which has no nginx in front of it).
 */
#ifndef FINICOM_PROM_H
#define FINICOM_PROM_H

#include <stdbool.h>
#include <stddef.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_buf {
	char *p;
	size_t len, cap;
	bool overflow; /* something did not fit: the text is incomplete */
};

void prom_init(struct prom_buf *b, char *mem, size_t cap);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void prom_family(struct prom_buf *b, const char *name, const char *type, const char *help);

/* printf into the buffer. */
void prom_printf(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A label value with \, " and newline escaped, into out (cap bytes). */
const char *prom_label_escape(const char *v, char *out, size_t cap);

/*
 * Serve GET /metrics on hostport ("127.0.0.1:9188", "[::1]:9188") from a
 * thread of its own: each scrape calls render(b), which fills b (at most
 * cap bytes) from values it reads with atomic loads.  One connection at a
 * time, a few seconds' timeout each; anything but GET /metrics is 404.
 * Returns 0 when listening, -1 with the reason in err.
 */
int prom_serve(const char *hostport, size_t cap, void (*render)(struct prom_buf *b), char *err,
    size_t errlen);

#endif
