/*
 * api_keys: keys for REST clients.  The token ("fcm_" + 43 base64url
 * characters) is made here and appears once, in the create reply; the
 * database keeps its SHA-256 and a six-character prefix.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "handlers/handlers.h"
#include "util/crypto.h"
#include "validate.h"

/* The date and time of "YYYY-MM-DDTHH:MM:SS..." exist (no 2030-02-30, no hour 25). */
static bool
calendar_ok(const char *s)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8), h = atoi(s + 11), mi = atoi(s + 14),
	    se = atoi(s + 17);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
		return false;
	return d <= days[mo - 1] + (mo == 2 && leap);
}

/* RFC 3339 with a zone: 2026-01-31T12:00:00Z, optional fraction, or +hh:mm. */
static bool
valid_time(json_object *v, const char **why)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	*why = "must be an RFC 3339 time such as 2030-01-31T12:00:00Z";
	if (s == NULL || strlen(s) < sizeof(shape) || strlen(s) > 40)
		return false;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	if (s[i] == '.') {
		size_t start = ++i;
		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == start || i - start > 9)
			return false;
	}
	if (!(s[i] == 'Z' && s[i + 1] == '\0') &&
	    !((s[i] == '+' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) &&
	    isdigit((unsigned char)s[i + 2]) && s[i + 3] == ':' && isdigit((unsigned char)s[i + 4]) &&
	    isdigit((unsigned char)s[i + 5]) && s[i + 6] == '\0' &&
	    (s[i + 1] - '0') * 10 + (s[i + 2] - '0') < 24 && (s[i + 4] - '0') * 10 + (s[i + 5] - '0') < 60))
		return false;
	return calendar_ok(s);
}

static const struct field key_fields[] = {
	{"name", valid_name, true},         /* KEY_NAME */
	{"role", valid_role, true},         /* KEY_ROLE */
	{"expires_at", valid_time, false},  /* KEY_EXPIRES */
};

/*
 * POST /api/v1/orgs/{org}/api-keys {name, role, expires_at?} (admin)
 * 201 {id, name, role, prefix, created_at, expires_at, last_used_at,
 * created_by, token}; 400 validation_failed (also for a past expires_at).
 */
void
api_key_create(struct request_ctx *ctx)
{
	json_object *f[3], *body;
	char token[4 + TOKEN_CHARS + 1], hash[2 + 64 + 1], prefix[4 + 6 + 1];
	const char *params[6];
	PGresult *r;

	if (validate_body(ctx->req->json, key_fields, 3, f, ctx->res) < 0)
		return;
	memcpy(token, "fcm_", 4);
	if (token_generate(token + 4) < 0) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	sha256_bytea(token + 4, hash);
	snprintf(prefix, sizeof(prefix), "%.10s", token);
	params[0] = ctx->org_id;
	params[1] = json_object_get_string(f[0]);
	params[2] = json_object_get_string(f[1]);
	params[3] = prefix;
	params[4] = hash;
	params[5] = f[2] ? json_object_get_string(f[2]) : NULL;
	r = tx_exec(ctx, "SELECT finicom.api_key_create($1, $2, $3, $4, $5, $6)", 6, params, true);
	if (r != NULL) {
		body = json_from_text(PQgetvalue(r, 0, 0));
		PQclear(r);
		if (body == NULL) {
			http_error(ctx->res, 500, "internal", "internal error", NULL);
		} else {
			json_object_object_add(body, "token", json_object_new_string(token));
			http_respond(ctx->res, 201, body);
		}
	}
	OPENSSL_cleanse(token, sizeof(token));
}

/* GET /api/v1/orgs/{org}/api-keys (admin): 200 page of live keys, without tokens. */
void
api_keys_list(struct request_ctx *ctx)
{
	const char *params[4];

	if (page_params(ctx, params) < 0)
		return;
	params[3] = ctx->org_id;
	respond_page(ctx,
	    PAGE_QUERY(" SELECT finicom.api_key_json(k.id, k.name, k.role, k.prefix, k.created_at, k.expires_at,"
	    "  k.last_used_at, k.created_by) AS item, k.created_at AS kt, k.id AS ki,"
	    "  row_number() OVER (ORDER BY k.created_at, k.id) AS n"
	    " FROM finicom.api_keys k"
	    " WHERE k.org_id = $4 AND k.revoked_at IS NULL"
	    "  AND ($2::timestamptz IS NULL OR (k.created_at, k.id) > ($2::timestamptz, $3::uuid))"
	    " ORDER BY k.created_at, k.id LIMIT $1::integer + 1"),
	    4, params);
}

/* DELETE /api/v1/orgs/{org}/api-keys/{id} (admin): 204, the key is 401 from its next use; 404. */
void
api_key_revoke(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, ctx->req->params[1]};
	PGresult *r;

	if (!uuid_ok(params[1])) {
		http_error(ctx->res, 404, "not_found", "no such API key", NULL);
		return;
	}
	r = tx_exec(ctx,
	    "UPDATE finicom.api_keys SET revoked_at = now()"
	    " WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
	    2, params, true);
	if (r == NULL)
		return;
	if (strcmp(PQcmdTuples(r), "1") != 0)
		http_error(ctx->res, 404, "not_found", "no such API key", NULL);
	else
		http_respond(ctx->res, 204, NULL);
	PQclear(r);
}
