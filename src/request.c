/*
 * request: database helpers that know the request (its response and its
 * transaction).  See context.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "metrics.h"
#include "util/crypto.h"
#include "util/jsoncheck.h"
#include "util/log.h"
#include "validate.h"

/*
 * The one place where a failed statement becomes a response.  The SQLSTATE
 * decides, by class where the class says it all:
 *   08, 53, 57P01-57P03, 57014, 55P03   the database is gone, overloaded,
 *                               shutting down, timed out: 503 unavailable
 *   40 (serialization failure, deadlock)  a concurrent change got in the
 *                               way: 409 conflict (retrying is safe: the
 *                               transaction rolled back)
 *   23505, 23P01                409 conflict (a unique or exclusion rule)
 *   23001                       409 conflict (still referenced)
 *   23503                       404 not_found: what the request refers to
 *                               is gone (the org or an object deleted
 *                               while the request ran)
 *   22 (data exception), 23502, 23514, 2200x..., 54000, 54001
 *                               400 validation_failed: a value the client
 *                               sent that the database cannot take (out of
 *                               range, malformed, too large, too deep).
 *                               The field is the column PostgreSQL names,
 *                               else the column of a "<table>_<column>_check"
 *                               constraint, else ctx->db_field (what the
 *                               handler said its statement takes from the
 *                               client), else none.  Handlers check values
 *                               in C first where that is cheaper; this is
 *                               the backstop, so that no client input
 *                               answers 500.
 *   42501                       403 forbidden (row-level security)
 *   F04xx                       our own RAISEs: that status, MESSAGE the
 *                               code, DETAIL the text, HINT the field
 * Everything else is the server's fault: 500 with nothing internal in the
 * message, and the SQLSTATE in the log.
 */
static const char *
error_field(struct request_ctx *ctx, const struct db_failure *f, char *buf, size_t len)
{
	const char *column = f->column, *constraint = f->constraint, *table = f->table;

	if (column != NULL && *column != '\0')
		return column;
	if (constraint != NULL && table != NULL) {
		size_t c = strlen(constraint), t = strlen(table);
		if (c > t + 1 + 6 && !strncmp(constraint, table, t) && constraint[t] == '_' &&
		    !strcmp(constraint + c - 6, "_check") && c - t - 7 < len) {
			memcpy(buf, constraint + t + 1, c - t - 7);
			buf[c - t - 7] = '\0';
			return buf;
		}
	}
	return ctx->db_field;
}

void
respond_db_error(struct request_ctx *ctx, const PGresult *r)
{
	struct db_failure f;

	if (ctx->db->conn == NULL || PQstatus(ctx->db->conn) != CONNECTION_OK || r == NULL) {
		metrics_db_error(METRICS_DB_UNAVAILABLE);
		http_error(ctx->res, 503, "unavailable", "the database is unavailable; try again", NULL);
		return;
	}
	f.sqlstate = db_sqlstate(r);
	f.message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	f.detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	f.hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
	f.column = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
	f.constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	f.table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
	respond_db_failure(ctx, &f);
}

void
respond_db_failure(struct request_ctx *ctx, const struct db_failure *f)
{
	const char *state = f->sqlstate ? f->sqlstate : "";
	char field[64];

	if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strcmp(state, "57P01") ||
	    !strcmp(state, "57P02") || !strcmp(state, "57P03") || !strcmp(state, "57014") ||
	    !strcmp(state, "55P03") || !strcmp(state, "25006")) {
		metrics_db_error(METRICS_DB_UNAVAILABLE);
		http_error(ctx->res, 503, "unavailable", "the database is unavailable; try again", NULL);
		return;
	}
	if (!strncmp(state, "40", 2)) {
		metrics_db_error(METRICS_DB_CONFLICT);
		http_error(ctx->res, 409, "conflict",
		    "a concurrent change got in the way; nothing was changed, try again", NULL);
		return;
	}
	if (!strcmp(state, "23505") || !strcmp(state, "23P01")) {
		http_error(ctx->res, 409, "conflict", "this conflicts with an existing record", NULL);
		return;
	}
	if (!strcmp(state, "23001")) {
		http_error(ctx->res, 409, "conflict", "this is still in use", NULL);
		return;
	}
	if (!strcmp(state, "23503")) {
		http_error(ctx->res, 404, "not_found",
		    "something this request refers to does not exist (any more)", NULL);
		return;
	}
	if (!strncmp(state, "22", 2) || !strcmp(state, "23502") || !strcmp(state, "23514") ||
	    !strcmp(state, "54000") || !strcmp(state, "54001")) {
		const char *name = error_field(ctx, f, field, sizeof(field));
		char message[160];
		snprintf(message, sizeof(message), "%.64s%s cannot be stored: it is out of range, "
		    "malformed or too large", name ? name : "a value", name ? "" : " of the request");
		log_msg(LOG_INFO, "database refused a value (%s): %s", state, f->message);
		http_error(ctx->res, 400, "validation_failed", message, name);
		return;
	}
	if (!strcmp(state, "42501")) {
		http_error(ctx->res, 403, "forbidden", "you are not allowed to do this", NULL);
		return;
	}
	/*
	 * Our own errors: RAISE ... USING ERRCODE = 'F0409', MESSAGE = code,
	 * DETAIL = text, and for validation HINT = the field's name; for F0429
	 * (rate_limited) HINT is the seconds to wait, sent as Retry-After.
	 */
	if (state[0] == 'F' && state[1] == '0' && strlen(state) == 5) {
		int status = (state[2] - '0') * 100 + (state[3] - '0') * 10 + (state[4] - '0');
		const char *code = f->message, *detail = f->detail, *hint = f->hint;
		if (status == 429 && code != NULL) {
			http_error(ctx->res, 429, code, detail ? detail : code, NULL);
			if (hint != NULL && hint[0] != '\0' && strlen(hint) <= 10 &&
			    strspn(hint, "0123456789") == strlen(hint))
				http_add_header(ctx->res, "Retry-After", hint);
			return;
		}
		if (status >= 400 && status < 500 && code != NULL) {
			http_error(ctx->res, status, code, detail ? detail : code, hint);
			return;
		}
	}
	log_msg(LOG_ERROR, "database error %s: %s", state, f->message);
	metrics_db_error(METRICS_DB_INTERNAL);
	http_error(ctx->res, 500, "internal", "internal error", NULL);
}

PGresult *
db_exec_once(struct request_ctx *ctx, const char *sql, int nparams, const char *const *params)
{
	PGresult *r;

	if (db_connection(ctx->db) == NULL) {
		respond_db_error(ctx, NULL);
		return NULL;
	}
	r = PQexecParams(ctx->db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!db_ok(r)) {
		db_check(ctx->db);
		respond_db_error(ctx, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

json_object *
json_from_text(const char *text)
{
	const char *why;

	/* Exact (numbers keep their text), and as deep as a request body may be. */
	return text ? json_parse_exact(text, strlen(text), HTTP_JSON_DEPTH, &why) : NULL;
}

void
respond_json_text(struct request_ctx *ctx, int status, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	char *body = len > 0 ? arena_strndup(ctx->arena, text, len) : NULL;

	if (body == NULL) {
		log_msg(LOG_ERROR, "the database returned no JSON text");
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	http_respond_raw(ctx->res, status, body, len);
}

/*
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ": the cursor's time (as finicom.cursor_key
 * writes it), shape checked and a moment that exists, so that no cursor
 * reaches PostgreSQL's timestamptz cast to fail there (month 13, year
 * 0000, February 30 are 400 naming "cursor", like any malformed cursor).
 */
static bool
cursor_time_ok(const char *s, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	if (n != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return datetime_fields_ok(s);
}

int
page_params(struct request_ctx *ctx, const char *params[3])
{
	const char *limit = http_query(ctx->req, "limit");
	const char *cursor = http_query(ctx->req, "cursor");
	unsigned char raw[128];
	long n;
	char *text, *comma;

	params[0] = "50";
	params[1] = NULL;
	params[2] = NULL;
	if (limit != NULL) {
		char *end;
		long v = strtol(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || !isdigit((unsigned char)*limit) || v < 1 || v > 200) {
			http_error(ctx->res, 400, "validation_failed", "limit must be a number from 1 to 200",
			    "limit");
			return -1;
		}
		params[0] = limit;
	}
	if (cursor == NULL || *cursor == '\0')
		return 0;
	n = strlen(cursor) < 120 ? base64url_decode(cursor, strlen(cursor), raw, sizeof(raw) - 1) : -1;
	if (n > 0) {
		raw[n] = '\0';
		text = arena_strndup(ctx->arena, (const char *)raw, (size_t)n);
		comma = text ? strchr(text, ',') : NULL;
		if (comma != NULL && cursor_time_ok(text, (size_t)(comma - text)) && uuid_ok(comma + 1)) {
			*comma = '\0';
			params[1] = text;
			params[2] = comma + 1;
			return 0;
		}
	}
	http_error(ctx->res, 400, "validation_failed", "cursor is not valid", "cursor");
	return -1;
}

void
respond_page(struct request_ctx *ctx, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = tx_exec(ctx, sql, nparams, params, true);
	static const char head[] = "{\"items\":", mid[] = ",\"next_cursor\":";
	const char *items, *last;
	char cursor[256] = "null";
	size_t items_len, cursor_len = 4, len;
	char *body, *p;

	if (r == NULL)
		return;
	items = PQgetvalue(r, 0, 0);
	items_len = (size_t)PQgetlength(r, 0, 0);
	last = PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1);
	/* A cursor_key is a timestamp, a comma and a uuid: 64 bytes at most. */
	if (last != NULL && (size_t)PQgetlength(r, 0, 1) <= 96) {
		cursor[0] = '"';
		cursor_len = 1 + base64url_encode((const unsigned char *)last, (size_t)PQgetlength(r, 0, 1),
		    cursor + 1);
		cursor[cursor_len++] = '"';
	}
	/* Put together with memcpy: the items are the bulk of the reply. */
	len = sizeof(head) - 1 + items_len + sizeof(mid) - 1 + cursor_len + 1;
	body = p = arena_alloc(ctx->arena, len + 1);
	if (body != NULL) {
		memcpy(p, head, sizeof(head) - 1), p += sizeof(head) - 1;
		memcpy(p, items, items_len), p += items_len;
		memcpy(p, mid, sizeof(mid) - 1), p += sizeof(mid) - 1;
		memcpy(p, cursor, cursor_len), p += cursor_len;
		*p++ = '}';
		*p = '\0';
	}
	PQclear(r);
	if (body == NULL || (last != NULL && cursor_len == 4)) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	http_respond_raw(ctx->res, 200, body, len);
}
