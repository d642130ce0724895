/*
 * request: database helpers that know the request (its response and its
 * transaction).  See context.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "util/crypto.h"
#include "util/log.h"
#include "validate.h"

void
respond_db_error(struct request_ctx *ctx, const PGresult *r)
{
	const char *state = db_sqlstate(r);

	if (ctx->db->conn == NULL || PQstatus(ctx->db->conn) != CONNECTION_OK || r == NULL ||
	    !strcmp(state, "57P01") || !strcmp(state, "57014")) {
		http_error(ctx->res, 503, "unavailable", "the database is unavailable; try again", NULL);
		return;
	}
	if (!strcmp(state, "23505")) {
		http_error(ctx->res, 409, "conflict", "this conflicts with an existing record", NULL);
		return;
	}
	if (!strcmp(state, "42501")) {
		http_error(ctx->res, 403, "forbidden", "you are not allowed to do this", NULL);
		return;
	}
	/*
	 * Our own errors: RAISE ... USING ERRCODE = 'F0409', MESSAGE = code,
	 * DETAIL = text, and for validation HINT = the field's name.
	 */
	if (state[0] == 'F' && state[1] == '0' && strlen(state) == 5) {
		int status = (state[2] - '0') * 100 + (state[3] - '0') * 10 + (state[4] - '0');
		const char *code = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
		const char *field = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
		if (status >= 400 && status < 500 && code != NULL) {
			http_error(ctx->res, status, code, detail ? detail : code, field);
			return;
		}
	}
	log_msg(LOG_ERROR, "database error %s: %s", state,
	    r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : "no result");
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
	return text ? json_tokener_parse(text) : NULL;
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

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ": the cursor's time, shape checked. */
static bool
cursor_time_ok(const char *s, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	if (n != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
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
