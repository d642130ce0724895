/*
 * mailer metrics: see metrics.h.
 */
#include "mailer/metrics.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "util/prom.h"

#define QUEUE_POLL 5.0 /* seconds between two reads of the queue's depth */

static bool serving;
static uint64_t sends, failures_retry, failures_permanent, db_errors;
static uint64_t db_connects, db_reconnects, db_connect_failures, db_lost;
static uint32_t ever_connected;
static int64_t queue_depth = -1;          /* -1: not read yet */
static double oldest_age, queue_read_at;  /* seconds; Unix time of the read */
static double next_poll;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define BUMP(p) STORE((p), LOAD(p) + 1)

static void
on_db_event(int event)
{
	switch (event) {
	case DB_EVENT_CONNECTED:
		BUMP(&db_connects);
		if (ever_connected)
			BUMP(&db_reconnects);
		ever_connected = 1;
		break;
	case DB_EVENT_CONNECT_FAILED:
		BUMP(&db_connect_failures);
		break;
	case DB_EVENT_LOST:
		BUMP(&db_lost);
		break;
	}
}

static void
counter(struct prom_buf *b, const char *name, const char *help, uint64_t v)
{
	prom_family(b, name, "counter", help);
	prom_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
render(struct prom_buf *b)
{
	int64_t depth = LOAD(&queue_depth);
	double age, at;

	__atomic_load(&oldest_age, &age, __ATOMIC_RELAXED);
	__atomic_load(&queue_read_at, &at, __ATOMIC_RELAXED);
	prom_family(b, "finicom_mailer_build_info", "gauge", "The running version of finicom-mailer.");
	prom_printf(b, "finicom_mailer_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	counter(b, "finicom_mailer_sends_total", "Messages the relay accepted.", LOAD(&sends));
	prom_family(b, "finicom_mailer_failures_total", "counter",
	    "Deliveries that failed: retry (tried again later) or permanent (the message is failed).");
	prom_printf(b, "finicom_mailer_failures_total{kind=\"retry\"} %llu\n",
	    (unsigned long long)LOAD(&failures_retry));
	prom_printf(b, "finicom_mailer_failures_total{kind=\"permanent\"} %llu\n",
	    (unsigned long long)LOAD(&failures_permanent));
	counter(b, "finicom_mailer_db_errors_total", "Statements of the mailer's loop that failed.",
	    LOAD(&db_errors));
	counter(b, "finicom_mailer_db_connects_total", "Database connections opened.", LOAD(&db_connects));
	counter(b, "finicom_mailer_db_reconnects_total", "Database connections opened again after one was lost.",
	    LOAD(&db_reconnects));
	counter(b, "finicom_mailer_db_connect_failures_total", "Attempts to connect that failed.",
	    LOAD(&db_connect_failures));
	counter(b, "finicom_mailer_db_connections_lost_total", "Open connections found broken.", LOAD(&db_lost));
	if (depth < 0)
		return; /* not read yet: no gauge rather than a made-up 0 */
	prom_family(b, "finicom_mailer_queue_depth", "gauge", "Messages queued in the outbox (due or not).");
	prom_printf(b, "finicom_mailer_queue_depth %lld\n", (long long)depth);
	prom_family(b, "finicom_mailer_oldest_queued_age_seconds", "gauge",
	    "Age of the oldest queued message (0: none queued).");
	prom_printf(b, "finicom_mailer_oldest_queued_age_seconds %.3f\n", age);
	prom_family(b, "finicom_mailer_queue_read_timestamp_seconds", "gauge",
	    "When the two gauges above were read from the outbox (Unix time).");
	prom_printf(b, "finicom_mailer_queue_read_timestamp_seconds %.3f\n", at);
}

int
mailer_metrics_start(const char *hostport, char *err, size_t errlen)
{
	db_event_hook = on_db_event;
	if (prom_serve(hostport, 16 * 1024, render, err, errlen) < 0)
		return -1;
	serving = true;
	return 0;
}

void
mailer_metrics_sent(void)
{
	BUMP(&sends);
}

void
mailer_metrics_failed(bool permanent)
{
	if (permanent)
		BUMP(&failures_permanent);
	else
		BUMP(&failures_retry);
}

void
mailer_metrics_db_error(void)
{
	BUMP(&db_errors);
}

void
mailer_metrics_poll(struct db *db)
{
	static const struct db_stmt stmt[] = {{
	    "SELECT count(*), COALESCE(EXTRACT(epoch FROM pg_catalog.now() - min(m.created_at)), 0)::float8 "
	    "FROM finicom.mail_outbox m WHERE m.status = 'queued'", 0, NULL}};
	PGresult *r[1];
	double now = db_now(), age, at;
	struct timespec ts;

	if (!serving || now < next_poll)
		return;
	next_poll = now + QUEUE_POLL;
	if (db_pipeline(db, stmt, 1, r) < 0 || PQntuples(r[0]) != 1) {
		PQclear(r[0]);
		BUMP(&db_errors);
		return;
	}
	age = strtod(PQgetvalue(r[0], 0, 1), NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	__atomic_store(&oldest_age, &age, __ATOMIC_RELAXED);
	__atomic_store(&queue_read_at, &at, __ATOMIC_RELAXED);
	STORE(&queue_depth, (int64_t)strtoll(PQgetvalue(r[0], 0, 0), NULL, 10));
	PQclear(r[0]);
}
