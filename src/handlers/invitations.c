/*
 * invitations: inviting people by email, and the invitee's side.
 *
 * A token is made here, sent only inside the email (the outbox row, until
 * the mailer sends it) and stored only as its SHA-256; no reply and no log
 * line carries it.  The database functions in sql/0004_invitations.sql do
 * each step in one statement, with the mail queued in the same transaction.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "handlers/handlers.h"
#include "privsep/privsep.h"
#include "util/crypto.h"
#include "validate.h"

/* A fresh token, its hash (bytea text) and the accept link for the mail. */
static int
new_invitation_token(struct request_ctx *ctx, char token[TOKEN_CHARS + 1], char hash[2 + 64 + 1],
    const char **link)
{
	if (token_generate(token) < 0) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return -1;
	}
	sha256_bytea(token, hash);
	*link = arena_printf(ctx->arena, "%s/invite/%s", ctx->cfg->public_url, token);
	return *link ? 0 : -1;
}

static const struct field invite_fields[] = {
	{"email", valid_email, true}, /* INVITE_EMAIL */
	{"role", valid_role, true},   /* INVITE_ROLE */
	{"membership_expires_at", valid_time, false}, /* INVITE_MEMBERSHIP_EXPIRES */
};
const struct fieldset invite_body = FIELDSET(invite_fields);

/*
 * POST /api/v1/orgs/{org}/invitations {email, role, membership_expires_at?} (admin)
 * 201 invitation; 400 validation_failed (also for a membership_expires_at
 * not in the future: the membership made on accept carries it); 403 email_unverified while the
 * caller's address is unverified (not with signup = invite_only); 409
 * already_member or invitation_pending; 429 rate_limited.  The mail is
 * queued in the same transaction.
 */
void
invitation_create(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* invite_body */
	char token[TOKEN_CHARS + 1], hash[2 + 64 + 1];
	const char *params[7];
	PGresult *r;

	if (new_invitation_token(ctx, token, hash, &params[4]) < 0)
		return;
	params[0] = ctx->org_id;
	params[1] = json_object_get_string(f[0]);
	params[2] = json_object_get_string(f[1]);
	params[3] = hash;
	params[5] = email_verified_required(ctx);
	params[6] = f[2] ? json_object_get_string(f[2]) : NULL;
	r = tx_exec(ctx,
	    "SELECT finicom.invitation_create($1, $2, $3, $4, $5, $7::timestamptz)"
	    " FROM finicom.require_email_verified($6)",
	    7, params, true);
	OPENSSL_cleanse(token, sizeof(token));
	if (r == NULL)
		return;
	respond_json_text(ctx, 201, PQgetvalue(r, 0, 0));
	PQclear(r);
}

/*
 * GET /api/v1/orgs/{org}/invitations?status=pending|accepted|canceled|expired|all (admin)
 * 200 page, oldest first; 400 validation_failed for another status.  A
 * pending invitation past its expiry lists as expired.
 */
void
invitations_list(struct request_ctx *ctx)
{
	static const char *const statuses[] = {"pending", "accepted", "canceled", "expired", "all"};
	const char *status = http_query(ctx->req, "status");
	const char *params[5];
	size_t i;

	if (status == NULL)
		status = "pending";
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (!strcmp(status, statuses[i]))
			break;
	if (i == sizeof(statuses) / sizeof(statuses[0])) {
		http_error(ctx->res, 400, "validation_failed",
		    "status must be pending, accepted, canceled, expired or all", "status");
		return;
	}
	if (page_params(ctx, params) < 0)
		return;
	params[3] = ctx->org_id;
	params[4] = status;
	respond_page(ctx,
	    PAGE_QUERY(" SELECT i.item, i.created_at AS kt, i.id AS ki,"
	    "  row_number() OVER (ORDER BY i.created_at, i.id) AS n"
	    " FROM finicom.invitation_items i"
	    " WHERE i.org_id = $4 AND ($5 = 'all' OR i.status = $5)"
	    "  AND ($2::timestamptz IS NULL OR (i.created_at, i.id) > ($2::timestamptz, $3::uuid))"
	    " ORDER BY i.created_at, i.id LIMIT $1::integer + 1"),
	    5, params);
}

/* The {id:uuid} of .../invitations/{id} (a UUID: the router checked it). */
static const char *
path_invitation(struct request_ctx *ctx)
{
	return ctx->req->params[1];
}

/* DELETE /api/v1/orgs/{org}/invitations/{id} (admin): 204 canceled; 404; 409 not_pending. */
void
invitation_cancel(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, path_invitation(ctx)};
	PGresult *r;

	r = tx_exec(ctx, "SELECT finicom.invitation_cancel($1, $2)", 2, params, true);
	if (r == NULL)
		return;
	PQclear(r);
	http_respond(ctx->res, 204, NULL);
}

/*
 * POST /api/v1/orgs/{org}/invitations/{id}/resend (admin)
 * 200 invitation with a new expiry; the old link stops working and a new
 * mail is queued; 403 email_unverified (as for create); 404; 409
 * not_pending; 429 rate_limited.
 */
void
invitation_resend(struct request_ctx *ctx)
{
	char token[TOKEN_CHARS + 1], hash[2 + 64 + 1];
	const char *params[5] = {ctx->org_id, path_invitation(ctx), hash, NULL, email_verified_required(ctx)};
	PGresult *r;

	if (new_invitation_token(ctx, token, hash, &params[3]) < 0)
		return;
	r = tx_exec(ctx,
	    "SELECT finicom.invitation_resend($1, $2, $3, $4) FROM finicom.require_email_verified($5)",
	    5, params, true);
	OPENSSL_cleanse(token, sizeof(token));
	if (r == NULL)
		return;
	respond_json_text(ctx, 200, PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* The token of the path as a hash, or NULL after a 404 for a malformed one. */
static const char *
path_token_hash(struct request_ctx *ctx, char hash[2 + 64 + 1])
{
	if (!token_well_formed(ctx->req->params[0])) {
		http_error(ctx->res, 404, "not_found", "no such invitation", NULL);
		return NULL;
	}
	sha256_bytea(ctx->req->params[0], hash);
	return hash;
}

static void
respond_gone(struct request_ctx *ctx, const char *status)
{
	json_object *body = json_object_new_object(), *err = json_object_new_object();
	char message[96];

	snprintf(message, sizeof(message), "this invitation is %s", status);
	json_object_object_add(err, "code", json_object_new_string("gone"));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(body, "error", err);
	json_object_object_add(body, "status", json_object_new_string(status));
	http_respond(ctx->res, 410, body);
}

/*
 * GET /api/v1/invitations/{token} (no authentication)
 * 200 {org: {name}, email, role, invited_by: {name}, expires_at, status};
 * 404 unknown token; 410 gone with status when expired, canceled or accepted.
 */
void
invitation_preview(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	const char *params[1] = {path_token_hash(ctx, hash)};
	PGresult *r;

	if (params[0] == NULL)
		return;
	r = db_exec_once(ctx, "SELECT status, body FROM finicom.invitation_preview($1)", 1, params);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1)
		http_error(ctx->res, 404, "not_found", "no such invitation", NULL);
	else if (strcmp(PQgetvalue(r, 0, 0), "pending") != 0)
		respond_gone(ctx, arena_strdup(ctx->arena, PQgetvalue(r, 0, 0)));
	else
		respond_json_text(ctx, 200, PQgetvalue(r, 0, 1));
	PQclear(r);
}

/*
 * The password rule for the account an anonymous accept makes or takes
 * over (password_new_ok): not a common password, not the name given, not
 * the invitation's email (looked up by the token's hash; an unknown token
 * is left to the accept itself).  0, or -1 with the 400 (or a database
 * error) set.
 */
static int
accept_password_ok(struct request_ctx *ctx, const char *token_hash, const char *password,
    const char *name)
{
	const char *params[1] = {token_hash}, *why, *email = NULL;
	char message[96];
	PGresult *r = NULL;
	bool good = password_new_ok(password, NULL, name, &why);

	if (good) {
		static const char sql[] = "SELECT body::json->>'email' FROM finicom.invitation_preview($1)";
		r = ctx->in_tx ? tx_exec(ctx, sql, 1, params, false) : db_exec_once(ctx, sql, 1, params);
		if (r == NULL)
			return -1;
		if (PQntuples(r) == 1)
			email = PQgetvalue(r, 0, 0);
		good = password_personal_ok(password, email, NULL, &why);
	}
	if (r != NULL)
		PQclear(r);
	if (good)
		return 0;
	snprintf(message, sizeof(message), "password %s", why);
	http_error(ctx->res, 400, "validation_failed", message, "password");
	return -1;
}

static const struct field accept_fields[] = {
	{"name", valid_name, true},         /* ACCEPT_NAME */
	{"password", valid_password, true}, /* ACCEPT_PASSWORD */
};

/* The columns of finicom.invitation_join(). */
enum { ACC_OUTCOME, ACC_STATUS, ACC_ORG_ID, ACC_ORG_NAME, ACC_ROLE, ACC_USER };

/*
 * POST /api/v1/invitations/{token}/accept
 * Signed in (session): 200 {org: {id, name}, role}; 403 email_mismatch when
 * the invitation is for another email; 409 already_member.
 * Not signed in, body {name, password}: creates the account with the
 * invited email and signs it in: 201 {org, role, user, csrf_token} and the
 * cookie; 400 validation_failed (also for a common password, or one equal
 * to the name or the invited email); 409 email_taken when a verified
 * account has that email (sign in first).  An unverified account with that
 * email is taken over: the name and password given replace its own, and
 * every session of it ends (sql/0018_email_verification.sql).
 * Either way the address counts as verified from then on.
 * Either way: 404 unknown token; 410 gone once expires_at has passed (even
 * before the expiry job ran), or when canceled or already accepted; 403 for
 * API keys.  The signed-in user joins in the request's transaction
 * (invitation_join, as the user of the verified context); a new account is
 * the auth process's (src/privsep/privsep.h), which hashes the password.
 */
void
invitation_accept(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	const char *params[1];
	json_object *f[2], *body, *org;
	struct privsep_accepted acc;
	bool signed_in = ctx->actor.kind == ACTOR_USER;
	PGresult *r = NULL;

	if (ctx->actor.kind == ACTOR_API_KEY) {
		http_error(ctx->res, 403, "forbidden", "API keys cannot accept invitations", NULL);
		return;
	}
	params[0] = path_token_hash(ctx, hash);
	if (params[0] == NULL)
		return;
	acc.token[0] = '\0';
	if (signed_in) {
		r = tx_exec(ctx, "SELECT * FROM finicom.invitation_join($1)", 1, params, true);
		if (r == NULL)
			return;
		acc.outcome = PQgetvalue(r, 0, ACC_OUTCOME);
		acc.status = PQgetvalue(r, 0, ACC_STATUS);
		acc.org_id = PQgetvalue(r, 0, ACC_ORG_ID);
		acc.org_name = PQgetvalue(r, 0, ACC_ORG_NAME);
		acc.role = PQgetvalue(r, 0, ACC_ROLE);
		acc.user_json = NULL;
	} else {
		if (validate_body(ctx->req->json, accept_fields, 2, f, ctx->res) < 0 ||
		    accept_password_ok(ctx, hash, json_object_get_string(f[1]),
		    json_object_get_string(f[0])) < 0)
			return;
		if (privsep_accept(ctx, hash, json_object_get_string(f[0]), json_object_get_string(f[1]),
		    &acc) < 0)
			return;
	}
	if (!strcmp(acc.outcome, "not_found")) {
		http_error(ctx->res, 404, "not_found", "no such invitation", NULL);
	} else if (!strcmp(acc.outcome, "gone")) {
		respond_gone(ctx, arena_strdup(ctx->arena, acc.status));
	} else if (!strcmp(acc.outcome, "email_mismatch")) {
		http_error(ctx->res, 403, "email_mismatch",
		    "this invitation is for another email address; sign in with that one", NULL);
	} else if (!strcmp(acc.outcome, "already_member")) {
		http_error(ctx->res, 409, "already_member", "you are already a member of this organization",
		    NULL);
	} else if (!strcmp(acc.outcome, "email_taken")) {
		http_error(ctx->res, 409, "email_taken",
		    "an account with this email exists; sign in, then accept", NULL);
	} else {
		body = json_object_new_object();
		org = json_object_new_object();
		json_object_object_add(org, "id", json_object_new_string(acc.org_id));
		json_object_object_add(org, "name", json_object_new_string(acc.org_name));
		json_object_object_add(body, "org", org);
		json_object_object_add(body, "role", json_object_new_string(acc.role));
		if (!signed_in) {
			char csrf[TOKEN_CHARS + 1];
			csrf_token_for(acc.token, csrf);
			json_object_object_add(body, "user", json_from_text(acc.user_json));
			json_object_object_add(body, "csrf_token", json_object_new_string(csrf));
			auth_set_cookie(ctx, acc.token);
		}
		http_respond(ctx->res, signed_in ? 200 : 201, body);
	}
	PQclear(r);
	OPENSSL_cleanse(acc.token, sizeof(acc.token));
}
