/*
 * metrics: the shared counters of finicomd's processes.  See metrics.h.
 */
#include "metrics.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "router.h"
#include "util/prom.h"

/* The statuses counted one by one; any other is counted as status="other". */
static const int statuses[] = {200, 201, 202, 204, 400, 401, 402, 403, 404, 405, 409, 410, 413,
    414, 415, 429, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Upper bounds of the latency buckets, seconds; /healthz takes about 0.4 ms. */
static const double bounds[METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const char *const bound_text[METRICS_BUCKETS] = {"0.0005", "0.001", "0.0025", "0.005",
    "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"};

/* What every child of either pool counts. */
struct proc_slot {
	uint32_t ready;
	uint32_t ever_connected;
	uint64_t db_errors[METRICS_DB_ERROR_KINDS];
	uint64_t db_connects, db_reconnects, db_connect_failures, db_lost;
};

/* What a worker counts besides. */
struct request_slot {
	uint64_t requests[METRICS_ROUTES][NSTATUS];
	uint64_t latency[METRICS_ROUTES][METRICS_BUCKETS + 1]; /* per bucket, not cumulative */
	uint64_t latency_us[METRICS_ROUTES];                   /* sum, microseconds */
};

struct segment {
	/* The master's. */
	uint64_t respawns[2];
	uint32_t alive[2];
	uint32_t used[2]; /* slots ever given a child: the scrape reads no further */
	double started;   /* CLOCK_REALTIME of the master's start */
	struct proc_slot procs[2][METRICS_SLOTS];
	struct request_slot requests[METRICS_SLOTS];
};

static struct segment *seg;
static struct proc_slot *self;
static struct request_slot *self_requests;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
/* Single writer: a load and a store, no locked instruction. */
#define BUMP(p, n) STORE((p), LOAD(p) + (n))

int
metrics_init(void)
{
	struct timespec ts;
	void *p = mmap(NULL, sizeof(struct segment), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);

	if (p == MAP_FAILED)
		return -1;
	seg = p;
	clock_gettime(CLOCK_REALTIME, &ts);
	seg->started = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	db_event_hook = metrics_db_event;
	return 0;
}

void
metrics_attach(enum metrics_pool pool, int index)
{
	if (seg == NULL || index < 0 || index >= METRICS_SLOTS)
		return;
	self = &seg->procs[pool][index];
	self_requests = pool == METRICS_WORKERS ? &seg->requests[index] : NULL;
	STORE(&self->ever_connected, 0);
}

void
metrics_slot_reset(enum metrics_pool pool, int index)
{
	if (seg == NULL || index < 0 || index >= METRICS_SLOTS)
		return;
	STORE(&seg->procs[pool][index].ready, 0);
	if ((uint32_t)index >= LOAD(&seg->used[pool]))
		STORE(&seg->used[pool], (uint32_t)index + 1);
}

void
metrics_ready(void)
{
	if (self != NULL)
		STORE(&self->ready, 1);
}

bool
metrics_slot_ready(enum metrics_pool pool, int index)
{
	return seg != NULL && index >= 0 && index < METRICS_SLOTS && LOAD(&seg->procs[pool][index].ready);
}

void
metrics_respawn(enum metrics_pool pool)
{
	if (seg != NULL)
		BUMP(&seg->respawns[pool], 1);
}

void
metrics_alive(enum metrics_pool pool, int n)
{
	if (seg != NULL)
		STORE(&seg->alive[pool], (uint32_t)n);
}

int
metrics_status_index(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			return (int)i;
	return (int)NSTATUS - 1;
}

int
metrics_bucket_index(double seconds)
{
	int i = 0;

	while (i < METRICS_BUCKETS && seconds > bounds[i])
		i++;
	return i;
}

void
metrics_request(int route, int status, double seconds)
{
	struct request_slot *r = self_requests;

	if (r == NULL)
		return;
	if (route < 0 || route >= METRICS_ROUTES - 1)
		route = METRICS_ROUTES - 1;
	if (!(seconds >= 0))
		seconds = 0;
	BUMP(&r->requests[route][metrics_status_index(status)], 1);
	BUMP(&r->latency[route][metrics_bucket_index(seconds)], 1);
	BUMP(&r->latency_us[route], (uint64_t)(seconds * 1e6 + 0.5));
}

void
metrics_db_error(enum metrics_db_error kind)
{
	if (self != NULL && kind < METRICS_DB_ERROR_KINDS)
		BUMP(&self->db_errors[kind], 1);
}

void
metrics_db_event(int event)
{
	if (self == NULL)
		return;
	switch (event) {
	case DB_EVENT_CONNECTED:
		BUMP(&self->db_connects, 1);
		if (LOAD(&self->ever_connected))
			BUMP(&self->db_reconnects, 1);
		STORE(&self->ever_connected, 1);
		break;
	case DB_EVENT_CONNECT_FAILED:
		BUMP(&self->db_connect_failures, 1);
		break;
	case DB_EVENT_LOST:
		BUMP(&self->db_lost, 1);
		break;
	}
}

static const char *const pool_names[2] = {"auth", "worker"};

/* The label text of route i: method and pattern ("" for no route). */
static void
route_labels(size_t i, char *out, size_t cap)
{
	char plain[160], esc[200];

	if (i >= router_nroutes || i == METRICS_ROUTES - 1) {
		snprintf(out, cap, "method=\"\",route=\"none\"");
		return;
	}
	router_plain_pattern(router_routes[i].pattern, plain, sizeof(plain));
	snprintf(out, cap, "method=\"%s\",route=\"%s\"", http_method_name(router_routes[i].method),
	    prom_label_escape(plain, esc, sizeof(esc)));
}

/* Sum of field (an offset into struct proc_slot) over the used slots of pool. */
static uint64_t
proc_sum(int pool, size_t offset)
{
	uint64_t n = 0;
	uint32_t used = LOAD(&seg->used[pool]);

	for (uint32_t i = 0; i < used && i < METRICS_SLOTS; i++)
		n += LOAD((uint64_t *)((char *)&seg->procs[pool][i] + offset));
	return n;
}

static void
render_db(struct prom_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} counters[] = {
	    {"finicom_db_connects_total", "Database connections opened (first ones and reconnects).",
		offsetof(struct proc_slot, db_connects)},
	    {"finicom_db_reconnects_total", "Database connections opened again after one was lost or failed.",
		offsetof(struct proc_slot, db_reconnects)},
	    {"finicom_db_connect_failures_total", "Attempts to connect to the database that failed.",
		offsetof(struct proc_slot, db_connect_failures)},
	    {"finicom_db_connections_lost_total", "Open database connections found broken.",
		offsetof(struct proc_slot, db_lost)},
	};
	static const char *const kinds[METRICS_DB_ERROR_KINDS] = {"unavailable", "conflict", "internal"};

	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		prom_family(b, counters[c].name, "counter", counters[c].help);
		for (int p = 0; p < 2; p++)
			prom_printf(b, "%s{pool=\"%s\"} %llu\n", counters[c].name, pool_names[p],
			    (unsigned long long)proc_sum(p, counters[c].offset));
	}
	prom_family(b, "finicom_db_errors_total", "counter",
	    "Failed statements: unavailable (answered 503), conflict (409), internal (500).");
	for (int p = 0; p < 2; p++)
		for (int k = 0; k < METRICS_DB_ERROR_KINDS; k++)
			prom_printf(b, "finicom_db_errors_total{pool=\"%s\",kind=\"%s\"} %llu\n", pool_names[p],
			    kinds[k], (unsigned long long)proc_sum(p, offsetof(struct proc_slot, db_errors) +
			    (size_t)k * sizeof(uint64_t)));
}

static void
render_requests(struct prom_buf *b)
{
	uint32_t used = LOAD(&seg->used[METRICS_WORKERS]);
	size_t nroutes = router_nroutes < METRICS_ROUTES - 1 ? router_nroutes : METRICS_ROUTES - 1;
	char labels[256];

	prom_family(b, "finicom_http_requests_total", "counter",
	    "Requests answered, by route (its pattern; \"none\": no route matched) and status.");
	for (size_t r = 0; r < METRICS_ROUTES; r++) {
		if (r >= nroutes && r != METRICS_ROUTES - 1)
			continue;
		route_labels(r, labels, sizeof(labels));
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t n = 0;
			for (uint32_t w = 0; w < used && w < METRICS_SLOTS; w++)
				n += LOAD(&seg->requests[w].requests[r][s]);
			if (n == 0)
				continue;
			if (s < NSTATUS - 1)
				prom_printf(b, "finicom_http_requests_total{%s,status=\"%d\"} %llu\n", labels,
				    statuses[s], (unsigned long long)n);
			else
				prom_printf(b, "finicom_http_requests_total{%s,status=\"other\"} %llu\n", labels,
				    (unsigned long long)n);
		}
	}
	prom_family(b, "finicom_http_request_duration_seconds", "histogram",
	    "Time from accepting a request to its reply written, by route.");
	for (size_t r = 0; r < METRICS_ROUTES; r++) {
		uint64_t bucket[METRICS_BUCKETS + 1] = {0}, us = 0, cum = 0;

		if (r >= nroutes && r != METRICS_ROUTES - 1)
			continue;
		for (uint32_t w = 0; w < used && w < METRICS_SLOTS; w++) {
			for (int k = 0; k <= METRICS_BUCKETS; k++)
				bucket[k] += LOAD(&seg->requests[w].latency[r][k]);
			us += LOAD(&seg->requests[w].latency_us[r]);
		}
		for (int k = 0; k <= METRICS_BUCKETS; k++)
			cum += bucket[k];
		if (cum == 0)
			continue;
		route_labels(r, labels, sizeof(labels));
		cum = 0;
		for (int k = 0; k < METRICS_BUCKETS; k++) {
			cum += bucket[k];
			prom_printf(b, "finicom_http_request_duration_seconds_bucket{%s,le=\"%s\"} %llu\n", labels,
			    bound_text[k], (unsigned long long)cum);
		}
		cum += bucket[METRICS_BUCKETS];
		/* _count is the +Inf bucket read here, so the two always agree. */
		prom_printf(b, "finicom_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", labels,
		    (unsigned long long)cum);
		prom_printf(b, "finicom_http_request_duration_seconds_sum{%s} %.6f\n", labels, (double)us / 1e6);
		prom_printf(b, "finicom_http_request_duration_seconds_count{%s} %llu\n", labels,
		    (unsigned long long)cum);
	}
}

char *
metrics_render(struct arena *a, size_t *len)
{
	const size_t cap = 1024 * 1024;
	struct prom_buf b;
	char *mem;

	if (seg == NULL || (mem = arena_alloc(a, cap)) == NULL)
		return NULL;
	prom_init(&b, mem, cap);
	prom_family(&b, "finicom_build_info", "gauge", "The running version of finicomd.");
	prom_printf(&b, "finicom_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	prom_family(&b, "finicom_start_time_seconds", "gauge", "When the finicomd master started (Unix time).");
	prom_printf(&b, "finicom_start_time_seconds %.3f\n", seg->started);
	prom_family(&b, "finicom_processes_alive", "gauge", "Children of the master alive, by pool.");
	for (int p = 0; p < 2; p++)
		prom_printf(&b, "finicom_processes_alive{pool=\"%s\"} %u\n", pool_names[p],
		    (unsigned)LOAD(&seg->alive[p]));
	prom_family(&b, "finicom_respawns_total", "counter",
	    "Children that died unexpectedly and were forked again, by pool.");
	for (int p = 0; p < 2; p++)
		prom_printf(&b, "finicom_respawns_total{pool=\"%s\"} %llu\n", pool_names[p],
		    (unsigned long long)LOAD(&seg->respawns[p]));
	render_requests(&b);
	render_db(&b);
	if (b.overflow)
		return NULL;
	*len = b.len;
	return b.p;
}
