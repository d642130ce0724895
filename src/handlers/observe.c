/*
 * observe: what an operator's tools ask of finicomd.
 *
 *   GET /metrics  the Prometheus text of every process's counters
 *                 (src/metrics.h); no database.  Never public: nginx lets
 *                 only loopback addresses reach it (conf/nginx.conf.in).
 *   GET /livez    the process answers; no database.
 *   GET /readyz   the database answers and is migrated at least as far as
 *                 this binary's migrations go (FINICOM_SCHEMA_VERSION, the
 *                 highest sql/NNNN_*.sql it was built with).
 * docs/observability.md says why each answers what it does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "metrics.h"
#include "src/schema_version.h"
#include "util/prom.h"

static const char live_ok[] = "{\"status\":\"alive\"}";

/* GET /metrics: 200 text/plain (exposition format 0.0.4); 500 if it does not fit. */
void
metrics_get(struct request_ctx *ctx)
{
	size_t len;
	char *text = metrics_render(ctx->arena, &len);

	if (text == NULL) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	http_respond_raw(ctx->res, 200, text, len);
	ctx->res->content_type = PROM_CONTENT_TYPE;
}

/* GET /livez: 200 {"status":"alive"}, whatever the database does. */
void
livez_get(struct request_ctx *ctx)
{
	http_respond_raw(ctx->res, 200, live_ok, sizeof(live_ok) - 1);
}

/* A JSON text of readyz's answer, in the arena. */
static void
ready_reply(struct request_ctx *ctx, int status, const char *state, const char *reason, long version)
{
	char buf[200], *body;
	int n;

	if (version >= 0)
		n = snprintf(buf, sizeof(buf), "{\"status\":\"%s\",\"reason\":%s%s%s,\"schema_version\":%ld,"
		    "\"expected_schema_version\":%d}", state, reason ? "\"" : "", reason ? reason : "null",
		    reason ? "\"" : "", version, FINICOM_SCHEMA_VERSION);
	else
		n = snprintf(buf, sizeof(buf), "{\"status\":\"%s\",\"reason\":%s%s%s,\"schema_version\":null,"
		    "\"expected_schema_version\":%d}", state, reason ? "\"" : "", reason ? reason : "null",
		    reason ? "\"" : "", FINICOM_SCHEMA_VERSION);
	body = arena_strndup(ctx->arena, buf, (size_t)n);
	if (body == NULL) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	http_respond_raw(ctx->res, status, body, (size_t)n);
}

/*
 * GET /readyz: one round trip, finicom.schema_version() (sql/0027).
 * 200 {"status":"ready","reason":null,"schema_version":N,"expected_schema_version":E}
 *   when N >= E (a database migrated ahead of this binary is ready: an
 *   upgrade migrates first, then restarts the workers);
 * 503 {"status":"unavailable","reason":"database_unreachable",...} when the
 *   database does not answer;
 * 503 {"status":"not_ready","reason":"schema_behind",...} when N < E, or
 *   the function itself is missing (a database from before 0027).
 */
void
readyz_get(struct request_ctx *ctx)
{
	PGconn *conn = db_connection(ctx->db);
	PGresult *r;
	long version;

	if (conn == NULL) {
		ready_reply(ctx, 503, "unavailable", "database_unreachable", -1);
		return;
	}
	r = PQexecParams(conn, "SELECT finicom.schema_version()", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		/* 42883 undefined_function, 3F000 no schema: not migrated this far. */
		const char *state = db_sqlstate(r);
		bool behind = !strcmp(state, "42883") || !strcmp(state, "3F000");
		PQclear(r);
		db_check(ctx->db);
		if (behind)
			ready_reply(ctx, 503, "not_ready", "schema_behind", -1);
		else
			ready_reply(ctx, 503, "unavailable", "database_unreachable", -1);
		return;
	}
	version = PQgetisnull(r, 0, 0) ? 0 : strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (version < FINICOM_SCHEMA_VERSION)
		ready_reply(ctx, 503, "not_ready", "schema_behind", version);
	else
		ready_reply(ctx, 200, "ready", NULL, version);
}
