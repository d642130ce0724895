/*
 * export: the org's audit events as a file, streamed (API v1.1 "Audit
 * export").  Any number of events, from one snapshot, in constant memory.
 *
 * How.  The handler checks the parameters and opens a server-side cursor
 * (DECLARE ... NO SCROLL CURSOR) in the request's transaction: its query's
 * snapshot is taken once, when it is declared, so the whole file is one
 * consistent view of the trail however long the client takes.  The reply
 * is then a streamed body (http_response.stream): worker.c writes the
 * headers and calls export_stream, which FETCHes EXPORT_CHUNK rows at a
 * time and writes each row to libfcgi's output stream as it goes.  libfcgi
 * buffers at most one record (8 KiB) and writes it to nginx when full;
 * nginx's export location buffers in memory only (no temporary file) and
 * passes it on to the client as it comes (X-Accel-Buffering: no does the
 * same on a site without that location).  A slow client therefore slows
 * the FETCHes down (the sockets are the back-pressure); a stream cut short
 * is cut at the FastCGI connection too (worker.c, abort_stream), so the
 * client sees an incomplete transfer (docs/audit-export.md); the
 * worker holds one chunk's PGresult at a time, whatever the size of the
 * export.  The cursor has a transaction of its own (tx_renew: the
 * request's first one, which may have stamped the session's and the
 * member's activity, is committed first, so that its row locks do not
 * hold the user's other requests for as long as the export runs); it ends
 * after the body, in worker.c.
 *
 * Formats.  csv: RFC 4180 (CRLF line ends; a field with a comma, a double
 * quote, CR or LF is quoted, its quotes doubled), a header line with the
 * columns id,at,action,actor_type,actor_id,actor_label,target_type,
 * target_id,ip,request_id,details, details as its JSON text; NULL is an
 * empty field.  ndjson: one event per line, exactly as GET audit-events
 * shows it (audit.event_json), "\n" after each.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "handlers/handlers.h"
#include "util/log.h"
#include "validate.h"

/* Rows per FETCH: about 250 KB of results at a time. */
#define EXPORT_CHUNK "500"

/* The events of the export, oldest first: $1 org, $2 action, $3 from, $4 to. */
#define EXPORT_FROM \
	" FROM audit.events e" \
	" WHERE e.org_id = $1 AND ($2::text IS NULL OR e.action = $2)" \
	"  AND ($3::timestamptz IS NULL OR e.at >= $3::timestamptz)" \
	"  AND ($4::timestamptz IS NULL OR e.at < $4::timestamptz)" \
	" ORDER BY e.at, e.id"

enum export_format { EXPORT_CSV, EXPORT_NDJSON };

struct export_state {
	struct request_ctx *ctx;
	enum export_format format;
};

typedef int (*export_write_fn)(void *, const char *, size_t);

/* One CSV field, quoted when it has to be (RFC 4180 section 2). */
static int
csv_field(export_write_fn write, void *w, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *q;

	if (len == 0 || strcspn(s, ",\"\r\n") >= len)
		return len == 0 ? 0 : write(w, s, len);
	if (write(w, "\"", 1) < 0)
		return -1;
	while ((q = memchr(p, '"', (size_t)(end - p))) != NULL) {
		if (write(w, p, (size_t)(q - p) + 1) < 0 || write(w, "\"", 1) < 0)
			return -1;
		p = q + 1;
	}
	if (p < end && write(w, p, (size_t)(end - p)) < 0)
		return -1;
	return write(w, "\"", 1);
}

/* Write the rows of one FETCH; returns 0 or -1 (the client is gone). */
static int
export_rows(const struct export_state *st, PGresult *r, export_write_fn write, void *w)
{
	int rows = PQntuples(r), cols = PQnfields(r);

	for (int i = 0; i < rows; i++) {
		if (st->format == EXPORT_NDJSON) {
			if (write(w, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0)) < 0 || write(w, "\n", 1) < 0)
				return -1;
			continue;
		}
		for (int c = 0; c < cols; c++) {
			if (c > 0 && write(w, ",", 1) < 0)
				return -1;
			if (csv_field(write, w, PQgetvalue(r, i, c), (size_t)PQgetlength(r, i, c)) < 0)
				return -1;
		}
		if (write(w, "\r\n", 2) < 0)
			return -1;
	}
	return 0;
}

/*
 * The body: the header line (csv), then FETCH after FETCH until the cursor
 * is done.  On a database error or a client that went away it stops; the
 * reply is then cut short (its status line is already out) and the
 * request's status becomes 500 for the log and the rollback.
 */
static int
export_stream(void *arg, export_write_fn write, void *w)
{
	static const char FETCH_SQL[] = "FETCH " EXPORT_CHUNK " FROM finicom_audit_export";
	static const char CSV_HEAD[] =
	    "id,at,action,actor_type,actor_id,actor_label,target_type,target_id,ip,request_id,details\r\n";
	struct export_state *st = arg;
	PGconn *conn = st->ctx->db->conn;
	long long total = 0;

	if (st->format == EXPORT_CSV && write(w, CSV_HEAD, sizeof(CSV_HEAD) - 1) < 0)
		goto gone;
	for (;;) {
		PGresult *r = PQexecParams(conn, FETCH_SQL, 0, NULL, NULL, NULL, NULL, 0);
		int rows;

		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			log_msg(LOG_ERROR, "audit export: FETCH failed: %s", db_sqlstate(r));
			PQclear(r);
			db_check(st->ctx->db);
			st->ctx->res->status = 500;
			return -1;
		}
		rows = PQntuples(r);
		if (export_rows(st, r, write, w) < 0) {
			PQclear(r);
			goto gone;
		}
		PQclear(r);
		total += rows;
		if (rows == 0)
			break;
	}
	log_msg(LOG_DEBUG, "audit export: %lld events", total);
	return 0;
gone:
	st->ctx->res->status = 500;
	return -1;
}

/*
 * GET /api/v1/orgs/{org}/audit-events/export?format=csv|ndjson&from=&to=&action= (admin)
 * 200 the matching events, oldest first, streamed as text/csv (the
 * default) or application/x-ndjson, as an attachment; 400
 * validation_failed naming format, from, to or action.
 */
void
audit_events_export(struct request_ctx *ctx)
{
	const char *format = http_query(ctx->req, "format");
	const char *params[4] = {ctx->org_id, NULL, NULL, NULL};
	struct export_state *st;
	char disposition[128];
	PGresult *r;

	if (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0) {
		http_error(ctx->res, 400, "validation_failed", "format must be csv or ndjson", "format");
		return;
	}
	if (audit_filters(ctx, &params[1], &params[2], &params[3]) < 0)
		return;
	st = arena_alloc(ctx->arena, sizeof(*st));
	if (st == NULL) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	st->ctx = ctx;
	/* A transaction of its own for the cursor, free of begin_request's row locks (tx_renew). */
	r = tx_renew(ctx);
	ctx->actor.kind = ACTOR_NONE; /* identified afresh from the new begin_request */
	ctx->org_role = ROLE_NONE;
	if (r == NULL || auth_identified(ctx, r) < 0 || auth_authorize(ctx) < 0)
		return;
	st->format = format != NULL && strcmp(format, "ndjson") == 0 ? EXPORT_NDJSON : EXPORT_CSV;
	/* The events' index (org_id, at, id; or org_id, action, at, id) read forwards. */
	if (st->format == EXPORT_CSV)
		r = tx_exec(ctx,
		    "DECLARE finicom_audit_export NO SCROLL CURSOR FOR"
		    " SELECT e.id, finicom.ts(e.at), e.action, e.actor_type, e.actor_id, e.actor_label,"
		    "  e.target_type, e.target_id, e.ip, e.request_id, e.details::text" EXPORT_FROM,
		    4, params, false);
	else
		r = tx_exec(ctx,
		    "DECLARE finicom_audit_export NO SCROLL CURSOR FOR"
		    " SELECT audit.event_json(e)::text" EXPORT_FROM,
		    4, params, false);
	if (r == NULL)
		return;
	PQclear(r);
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"audit-events-%s.%s\"", ctx->org_id,
	    st->format == EXPORT_CSV ? "csv" : "ndjson");
	ctx->res->status = 200;
	ctx->res->content_type = st->format == EXPORT_CSV ? "text/csv; charset=utf-8" : "application/x-ndjson";
	ctx->res->stream = export_stream;
	ctx->res->stream_arg = st;
	http_add_header(ctx->res, "Content-Disposition", disposition);
	/* nginx: pass the body on as it comes (no spooling to a temporary file). */
	http_add_header(ctx->res, "X-Accel-Buffering", "no");
}
