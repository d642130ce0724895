/*
 * metrics: finicomd's counters, in one shared-memory segment.
 *
 * The master maps the segment (MAP_SHARED | MAP_ANONYMOUS) before it forks
 * anything, so every child sees the same pages.  Each worker and each auth
 * process has a slot of its own, by its index in its pool; it is the only
 * writer of that slot while it lives, and a child respawned into the slot
 * goes on adding to the same counters, so they never go back.  Writes are
 * relaxed atomic stores of a value only that process changes: no lock, no
 * system call, a handful of instructions per request.  The master writes
 * its own part (respawns, children alive).  GET /metrics, served by
 * whichever worker takes it, sums every slot and renders the Prometheus
 * text exposition format (metrics_render); nothing is written to the
 * database.  docs/observability.md lists the metrics.
 */
#ifndef FINICOM_METRICS_H
#define FINICOM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

#define METRICS_SLOTS 256  /* of each pool (MAX_CHILDREN in finicomd.c) */
#define METRICS_ROUTES 128 /* route indexes; the last one: no route matched (or beyond) */
#define METRICS_BUCKETS 14 /* latency buckets, and one more for +Inf */

enum metrics_pool { METRICS_AUTH, METRICS_WORKERS };

/* Why a statement failed, as src/request.c sorts it. */
enum metrics_db_error {
	METRICS_DB_UNAVAILABLE, /* connection gone, server shutting down, timed out: 503 */
	METRICS_DB_CONFLICT,    /* serialization failure or deadlock: 409 */
	METRICS_DB_INTERNAL,    /* anything else the server did not expect: 500 */
	METRICS_DB_ERROR_KINDS
};

/*
 * Map the segment.  The master calls it once, before forking; returns 0 or
 * -1 (then every other call here does nothing and /metrics answers 503).
 */
int metrics_init(void);

/* In a child just forked into slot index of pool: its counters from now on. */
void metrics_attach(enum metrics_pool pool, int index);

/* The master: a slot is about to get a new child (it is not ready yet). */
void metrics_slot_reset(enum metrics_pool pool, int index);

/* The child: initialized, serving. */
void metrics_ready(void);

/* The master: is the child in slot index ready? */
bool metrics_slot_ready(enum metrics_pool pool, int index);

/* The master: a child of pool died unexpectedly and will be respawned. */
void metrics_respawn(enum metrics_pool pool);

/* The master: how many children of pool are alive now. */
void metrics_alive(enum metrics_pool pool, int n);

/*
 * A worker: one request done.  route is the index of its route in
 * router_routes (-1: none matched), seconds its time from accept to the
 * reply written.
 */
void metrics_request(int route, int status, double seconds);

/* A statement failed (src/request.c). */
void metrics_db_error(enum metrics_db_error kind);

/*
 * db.c's events (db_event_hook): a connection opened (reconnect: not the
 * process's first), a connect failed, an open connection was lost.
 */
void metrics_db_event(int event);

/*
 * The exposition text of everything in the segment, in a (NUL-terminated;
 * length in *len), or NULL when the arena is full or there is no segment.
 */
char *metrics_render(struct arena *a, size_t *len);

/* The status's index in the table of statuses counted (the last: any other). */
int metrics_status_index(int status);

/* The latency bucket of seconds (METRICS_BUCKETS: +Inf). */
int metrics_bucket_index(double seconds);

#endif
