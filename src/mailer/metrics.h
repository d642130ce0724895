/*
 * mailer metrics: finicom-mailer's counters, served in the Prometheus text
 * format on mailer_metrics_listen by a thread of its own (util/prom.h), so
 * a scrape is answered even while an SMTP session holds the main loop.
 * The main loop is the only writer (relaxed atomic stores); the thread
 * only reads.  The queue's depth and the age of its oldest message are
 * read from the outbox by the main loop every QUEUE_POLL seconds (a
 * SELECT; nothing is written for metrics).
 */
#ifndef FINICOM_MAILER_METRICS_H
#define FINICOM_MAILER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* Start serving on hostport; also counts db.c's events.  0, or -1 with err. */
int mailer_metrics_start(const char *hostport, char *err, size_t errlen);

/* A message was sent; a delivery failed (permanent: the row is 'failed' now). */
void mailer_metrics_sent(void);
void mailer_metrics_failed(bool permanent);

/* A database statement of the loop failed. */
void mailer_metrics_db_error(void);

/* Between messages: refresh the queue gauges when QUEUE_POLL has passed (one SELECT). */
void mailer_metrics_poll(struct db *db);

#endif
