/*
 * test_metrics: the shared counters (src/metrics.c) as one process sees
 * them, with a forked child writing its slot; the Prometheus text they
 * render; util/prom.c's escaping; and the JSON log lines (util/log.c,
 * log_format = json) read back from stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "metrics.h"
#include "router.h"
#include "tap.h"
#include "util/arena.h"
#include "util/log.h"
#include "util/prom.h"

/* The value of the sample line that starts with prefix, or -1. */
static double
sample(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while ((p = strstr(p, prefix)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

static int
route_index(const char *pattern)
{
	for (size_t i = 0; i < router_nroutes; i++)
		if (!strcmp(router_routes[i].pattern, pattern))
			return (int)i;
	return -1;
}

/* Run fn with stderr into a pipe; return what it wrote (static buffer). */
static const char *
capture(void (*fn)(void))
{
	static char buf[8192];
	int p[2], saved = dup(2);
	ssize_t n;

	if (pipe(p) < 0)
		return "";
	dup2(p[1], 2);
	close(p[1]);
	fn();
	dup2(saved, 2);
	close(saved);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
log_request_like(void)
{
	char line[1024];
	size_t len = 0;

	log_kv(line, sizeof(line), &len, "request_id", "abc");
	log_kv(line, sizeof(line), &len, "path", "/a b\"c\\d\x01");
	log_kv_int(line, sizeof(line), &len, "status", 404);
	log_kv_ms(line, sizeof(line), &len, "duration_ms", 0.0012345);
	log_kv(line, sizeof(line), &len, "actor", "-");
	log_kv(line, sizeof(line), &len, "name", "J\xc3\xa9r\xff");
	log_line(LOG_WARN, line);
}

static void
log_text_line(void)
{
	log_msg(LOG_INFO, "hello \"world\"");
}

int
main(void)
{
	struct arena a;
	size_t len;
	char *text, esc[64];
	int health = route_index("/healthz"), metrics = route_index("/metrics");
	pid_t pid;
	const char *out;

	/* Statuses and buckets. */
	ok(metrics_status_index(200) == 0, "200 is the first status counted");
	ok(metrics_status_index(599) == metrics_status_index(299), "uncounted statuses share the last index");
	ok(metrics_bucket_index(0.0004) == 0, "0.4 ms is in the first bucket (le 0.0005)");
	ok(metrics_bucket_index(0.0005) == 0, "a bound belongs to its bucket (le is <=)");
	ok(metrics_bucket_index(0.00051) == 1, "just above a bound is in the next");
	ok(metrics_bucket_index(100) == METRICS_BUCKETS, "100 s is +Inf");
	is_str(prom_label_escape("a\"b\\c\nd", esc, sizeof(esc)), "a\\\"b\\\\c\\nd", "label values are escaped");

	ok(health >= 0 && metrics >= 0, "the route table has /healthz and /metrics");
	arena_init(&a, 64 * 1024, 4 * 1024 * 1024);
	ok(metrics_render(&a, &len) == NULL, "no segment: nothing to render");
	ok(metrics_init() == 0, "the segment maps");

	/* A child in worker slot 3 counts; the parent sees it through the segment. */
	metrics_slot_reset(METRICS_WORKERS, 3);
	ok(!metrics_slot_ready(METRICS_WORKERS, 3), "a reset slot is not ready");
	pid = fork();
	if (pid == 0) {
		metrics_attach(METRICS_WORKERS, 3);
		metrics_ready();
		metrics_request(health, 200, 0.0004);
		metrics_request(health, 200, 0.003);
		metrics_request(health, 503, 0.02);
		metrics_request(-1, 404, 0.0001);
		metrics_db_error(METRICS_DB_UNAVAILABLE);
		metrics_db_event(DB_EVENT_CONNECTED);
		metrics_db_event(DB_EVENT_LOST);
		metrics_db_event(DB_EVENT_CONNECTED);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	ok(metrics_slot_ready(METRICS_WORKERS, 3), "the child's readiness is seen by the parent");
	metrics_respawn(METRICS_WORKERS);
	metrics_alive(METRICS_WORKERS, 4);

	text = metrics_render(&a, &len);
	ok(text != NULL && len == strlen(text), "renders");
	if (text == NULL)
		text = "";
	ok(sample(text, "finicom_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}") == 2,
	    "requests by route and status");
	ok(sample(text, "finicom_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"503\"}") == 1,
	    "a second status of the route");
	ok(sample(text, "finicom_http_requests_total{method=\"\",route=\"none\",status=\"404\"}") == 1,
	    "no route matched");
	ok(sample(text, "finicom_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0005\"}") == 1,
	    "the first bucket");
	ok(sample(text, "finicom_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"}") == 2,
	    "buckets are cumulative");
	ok(sample(text, "finicom_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"}") == 3,
	    "+Inf holds every request");
	ok(sample(text, "finicom_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"}") == 3,
	    "_count equals +Inf");
	ok(sample(text, "finicom_http_request_duration_seconds_sum{method=\"GET\",route=\"/healthz\"}") > 0.0233 &&
	    sample(text, "finicom_http_request_duration_seconds_sum{method=\"GET\",route=\"/healthz\"}") < 0.0235,
	    "_sum is the seconds added up");
	ok(strstr(text, "route=\"/metrics\"") == NULL, "a route never requested has no series");
	ok(sample(text, "finicom_db_errors_total{pool=\"worker\",kind=\"unavailable\"}") == 1, "db errors");
	ok(sample(text, "finicom_db_connects_total{pool=\"worker\"}") == 2, "connects");
	ok(sample(text, "finicom_db_reconnects_total{pool=\"worker\"}") == 1, "the second connect is a reconnect");
	ok(sample(text, "finicom_db_connections_lost_total{pool=\"worker\"}") == 1, "lost");
	ok(sample(text, "finicom_respawns_total{pool=\"worker\"}") == 1, "respawns");
	ok(sample(text, "finicom_processes_alive{pool=\"worker\"}") == 4, "workers alive");
	ok(strstr(text, "# TYPE finicom_http_request_duration_seconds histogram\n") != NULL, "TYPE lines");

	/* A respawned child in the same slot adds to the same counters. */
	pid = fork();
	if (pid == 0) {
		metrics_attach(METRICS_WORKERS, 3);
		metrics_request(health, 200, 0.0004);
		metrics_db_event(DB_EVENT_CONNECTED);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	arena_reset(&a);
	text = metrics_render(&a, &len);
	if (text == NULL)
		text = "";
	ok(sample(text, "finicom_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}") == 3,
	    "counters go on across a respawn");
	ok(sample(text, "finicom_db_reconnects_total{pool=\"worker\"}") == 1,
	    "a new process's first connect is no reconnect");

	/* JSON log lines. */
	log_set_process("test");
	log_set_format(LOG_FORMAT_JSON);
	out = capture(log_request_like);
	ok(!strncmp(out, "{\"time\":\"", 9), "a JSON line starts with the time: %s", out);
	ok(strstr(out, "\"level\":\"warn\",\"proc\":\"test\",\"pid\":") != NULL, "level, proc, pid (a number)");
	ok(strstr(out, ",\"request_id\":\"abc\",\"path\":\"/a b\\\"c\\\\d\\u0001\",\"status\":404,"
	    "\"duration_ms\":1.235,\"actor\":\"-\",\"name\":\"J\xc3\xa9r\xef\xbf\xbd\"}\n") != NULL,
	    "the pairs in order, unquoted and escaped for JSON; numbers as numbers; bad UTF-8 replaced");
	out = capture(log_text_line);
	ok(strstr(out, "\"msg\":\"hello \\\"world\\\"\"}\n") != NULL, "log_msg in JSON");
	log_set_format(LOG_FORMAT_TEXT);
	out = capture(log_text_line);
	ok(!strncmp(out, "time=", 5) && strstr(out, " msg=\"hello \\\"world\\\"\"\n") != NULL,
	    "text is unchanged");
	arena_free(&a);
	return done_testing();
}
