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

static const struct field key_fields[] = {
	{"name", valid_name, true},         /* KEY_NAME */
	{"role", valid_role, true},         /* KEY_ROLE */
	{"expires_at", valid_time, false},  /* KEY_EXPIRES */
};
const struct fieldset api_key_body = FIELDSET(key_fields);

/*
 * POST /api/v1/orgs/{org}/api-keys {name, role, expires_at?} (admin)
 * 201 {id, name, role, prefix, created_at, expires_at, last_used_at,
 * created_by, token}; 400 validation_failed (also for a past expires_at);
 * 403 email_unverified while the caller's address is unverified (not with
 * signup = invite_only).
 */
void
api_key_create(struct request_ctx *ctx)
{
	json_object **f = ctx->fields, *body; /* api_key_body */
	char token[4 + TOKEN_CHARS + 1], hash[2 + 64 + 1], prefix[4 + 6 + 1];
	const char *params[7];
	PGresult *r;

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
	params[6] = email_verified_required(ctx);
	/* The function in FROM runs first: an unverified caller gets its 403, no key. */
	r = tx_exec(ctx,
	    "SELECT finicom.api_key_create($1, $2, $3, $4, $5, $6) FROM finicom.require_email_verified($7)",
	    7, params, true);
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
	const char *params[2] = {ctx->org_id, ctx->req->params[1]}; /* {id:uuid} */
	PGresult *r;

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
