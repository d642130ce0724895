/*
 * account handlers: password reset by email, password change, the
 * profile's name, and one's own sessions (API v1.1 "Accounts";
 * docs/accounts.md, sql/0022_account_self_service.sql).
 *
 * Words: a reset token is the 32 random bytes of the link
 * {public_url}/reset/{token} in the reset mail.  The auth process makes it
 * (src/privsep/authd.c), so no worker ever holds one; the database keeps its
 * SHA-256.  Passwords are verified and hashed by the auth processes, as for
 * logins; here the fields and the new-password rule are checked (the
 * email and name it compares with come from the token's account, or from
 * the signed-in user) and the reply is built.  Reset routes carry the token
 * in their path and log their pattern (ROUTE_SECRET_PATH).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "handlers/handlers.h"
#include "privsep/privsep.h"
#include "util/crypto.h"
#include "validate.h"

static const struct field reset_request_fields[] = {
	{"email", valid_email, true}, /* RESET_REQUEST_EMAIL */
};
enum { RESET_REQUEST_EMAIL };
const struct fieldset password_reset_request_body = FIELDSET(reset_request_fields);

/*
 * POST /api/v1/auth/password-reset {email} (no authentication)
 * 202 {} whether or not an account has that email, after the same work
 * either way (the auth process runs one statement that differs only in
 * the mail it queues); 400 validation_failed; 429 rate_limited with
 * Retry-After after 5 requests for the address in an hour (any address,
 * known or not), or from nginx's per-address limit on /api/v1/auth/.
 */
void
password_reset_request(struct request_ctx *ctx)
{
	if (privsep_reset_request(ctx, json_object_get_string(ctx->fields[RESET_REQUEST_EMAIL])) < 0)
		return;
	http_respond(ctx->res, 202, json_object_new_object());
}

/* 410 gone with "status" (used, replaced, expired) for a reset link. */
static void
respond_reset_gone(struct request_ctx *ctx, const char *status)
{
	json_object *body = json_object_new_object(), *err = json_object_new_object();
	const char *message = !strcmp(status, "used") ? "this password reset link was already used"
	    : !strcmp(status, "replaced")             ? "a newer password reset link was sent; use that one"
	                                              : "this password reset link has expired";

	json_object_object_add(err, "code", json_object_new_string("gone"));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(body, "error", err);
	json_object_object_add(body, "status", json_object_new_string(status));
	http_respond(ctx->res, 410, body);
}

static void
reset_not_found(struct request_ctx *ctx)
{
	http_error(ctx->res, 404, "not_found", "no such password reset link", NULL);
}

/* The columns of finicom.password_reset_preview(). */
enum { PREVIEW_OUTCOME, PREVIEW_STATUS, PREVIEW_EMAIL, PREVIEW_NAME, PREVIEW_EXPIRES_AT };

/*
 * The preview of the reset token in the path: its row (caller PQclear()s
 * it) when the link works, else NULL after answering 404 or 410 (or the
 * database's error).  hash gets the token's SHA-256 as bytea text.
 */
static PGresult *
reset_lookup(struct request_ctx *ctx, char hash[2 + 64 + 1])
{
	const char *params[1] = {hash};
	PGresult *r;

	if (!token_well_formed(ctx->req->params[0])) {
		reset_not_found(ctx);
		return NULL;
	}
	sha256_bytea(ctx->req->params[0], hash);
	r = db_exec_once(ctx, "SELECT outcome, status, email, name, expires_at FROM finicom.password_reset_preview($1)",
	    1, params);
	if (r == NULL)
		return NULL;
	if (PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, PREVIEW_OUTCOME), "ok"))
		return r;
	if (PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, PREVIEW_OUTCOME), "gone"))
		respond_reset_gone(ctx, PQgetvalue(r, 0, PREVIEW_STATUS));
	else
		reset_not_found(ctx);
	PQclear(r);
	return NULL;
}

/*
 * GET /api/v1/auth/password-reset/{token} (no authentication)
 * 200 {email, expires_at}; 404 not_found for a token never issued (or
 * malformed); 410 gone with "status": "used", "replaced" (a newer link was
 * sent) or "expired" (an hour after it was mailed).
 */
void
password_reset_preview(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	json_object *body;
	PGresult *r = reset_lookup(ctx, hash);

	if (r == NULL)
		return;
	body = json_object_new_object();
	json_object_object_add(body, "email", json_object_new_string(PQgetvalue(r, 0, PREVIEW_EMAIL)));
	json_object_object_add(body, "expires_at", json_object_new_string(PQgetvalue(r, 0, PREVIEW_EXPIRES_AT)));
	PQclear(r);
	http_respond(ctx->res, 200, body);
}

/* 400 validation_failed naming field for a new password the rule refuses (why). */
static void
password_refused(struct request_ctx *ctx, const char *field, const char *why)
{
	char message[96];

	snprintf(message, sizeof(message), "%s %s", field, why);
	http_error(ctx->res, 400, "validation_failed", message, field);
}

static const struct field reset_fields[] = {
	{"password", valid_password, true}, /* RESET_PASSWORD */
};
enum { RESET_PASSWORD };
const struct fieldset password_reset_body = FIELDSET(reset_fields);

/*
 * POST /api/v1/auth/password-reset/{token} {password} (no authentication)
 * 200 {user, csrf_token} and a fresh session cookie: the password is
 * replaced, every other session of the account has ended, the token is
 * spent and the address verified (an unverified account is taken over).
 * When the account has two-factor on, the same but no session: 200
 * {totp_required: true, login_token}, as POST /auth/login's first step
 * (sql/0028), and POST /auth/login/totp completes the sign-in.
 * 400 validation_failed (field "password": also on the common list, or
 * equal to the account's email or name); 404 and 410 as the preview, and
 * then nothing has changed.
 */
void
password_reset_complete(struct request_ctx *ctx)
{
	const char *password = json_object_get_string(ctx->fields[RESET_PASSWORD]), *why, *outcome, *status;
	struct privsep_session session;
	char hash[2 + 64 + 1];
	PGresult *r = reset_lookup(ctx, hash);
	bool ok;
	int rc;

	if (r == NULL)
		return;
	ok = password_new_ok(password, PQgetvalue(r, 0, PREVIEW_EMAIL), PQgetvalue(r, 0, PREVIEW_NAME), &why);
	PQclear(r);
	if (!ok) {
		password_refused(ctx, "password", why);
		return;
	}
	rc = privsep_reset(ctx, hash, password, &session, &outcome, &status);
	if (rc == PRIVSEP_REFUSED) {
		/* Used or replaced between the preview and now. */
		if (outcome != NULL && !strcmp(outcome, "gone"))
			respond_reset_gone(ctx, status != NULL ? status : "expired");
		else
			reset_not_found(ctx);
		return;
	}
	if (rc == PRIVSEP_TOTP) {
		respond_totp_required(ctx, session.login_token);
		OPENSSL_cleanse(session.login_token, sizeof(session.login_token));
		return;
	}
	if (rc != PRIVSEP_OK)
		return;
	respond_session(ctx, 200, session.user_json, session.token);
	OPENSSL_cleanse(session.token, sizeof(session.token));
}

static const struct field password_fields[] = {
	{"current_password", valid_password, true}, /* PASSWORD_CURRENT */
	{"new_password", valid_password, true},     /* PASSWORD_NEW */
};
enum { PASSWORD_CURRENT, PASSWORD_NEW };
const struct fieldset me_password_body = FIELDSET(password_fields);

/*
 * POST /api/v1/me/password {current_password, new_password} (session, CSRF)
 * 204: the new password is set and every other session of the user has
 * ended; this one stays.  400 validation_failed with field
 * "current_password" when it is wrong, "new_password" when the rule
 * refuses it; 429 rate_limited with Retry-After while the account's
 * address is throttled (wrong current passwords count as failed logins).
 */
void
me_password(struct request_ctx *ctx)
{
	const char *current = json_object_get_string(ctx->fields[PASSWORD_CURRENT]);
	const char *new_password = json_object_get_string(ctx->fields[PASSWORD_NEW]), *why;
	char session_hash[2 + 64 + 1];
	int rc;

	if (!password_new_ok(new_password, ctx->actor.email, ctx->actor.name, &why)) {
		password_refused(ctx, "new_password", why);
		return;
	}
	sha256_bytea(ctx->session_token, session_hash);
	rc = privsep_password_change(ctx, session_hash, current, new_password);
	if (rc == PRIVSEP_INVALID)
		http_error(ctx->res, 400, "validation_failed", "current_password is incorrect", "current_password");
	if (rc != PRIVSEP_OK)
		return;
	http_respond(ctx->res, 204, NULL);
}

static const struct field me_fields[] = {
	{"name", valid_name, true}, /* ME_NAME */
};
enum { ME_NAME };
const struct fieldset me_patch_body = FIELDSET(me_fields);

/* PATCH /api/v1/me {name} (session, CSRF): 200 {user}; 400 validation_failed. */
void
me_patch(struct request_ctx *ctx)
{
	const char *params[1] = {json_object_get_string(ctx->fields[ME_NAME])};
	json_object *body;
	PGresult *r = tx_exec(ctx, "SELECT finicom.me_update($1)::text", 1, params, true);

	if (r == NULL)
		return;
	if (PQgetisnull(r, 0, 0)) {
		PQclear(r);
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	body = json_object_new_object();
	json_object_object_add(body, "user", json_from_text(PQgetvalue(r, 0, 0)));
	PQclear(r);
	http_respond(ctx->res, 200, body);
}

/*
 * GET /api/v1/me/sessions?limit=&cursor= (session)
 * 200 {items: [{id, created_at, last_seen_at, ip, user_agent, current}],
 * next_cursor}: the user's live sessions, newest first; 400 for a bad
 * limit or cursor.
 */
void
my_sessions_list(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1], idle[16];
	const char *params[5];

	if (page_params(ctx, params) < 0)
		return;
	sha256_bytea(ctx->session_token, hash);
	snprintf(idle, sizeof(idle), "%d", ctx->cfg->session_idle_timeout);
	params[3] = hash;
	params[4] = idle;
	respond_page(ctx,
	    PAGE_QUERY(" SELECT item, kt, ki, row_number() OVER (ORDER BY kt DESC, ki DESC) AS n"
	    " FROM finicom.my_sessions($4, $5::integer, $1::integer, $2::timestamptz, $3::uuid)"),
	    5, params);
}

/*
 * DELETE /api/v1/me/sessions/{id} (session, CSRF)
 * 204: that session has ended (its next request is 401); when it was this
 * one, the reply also clears the cookie.  404 for an id that is no session
 * of the user.
 */
void
my_session_delete(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	const char *params[2] = {ctx->req->params[0], hash};
	bool current;
	PGresult *r;

	sha256_bytea(ctx->session_token, hash);
	r = tx_exec(ctx, "SELECT finicom.session_revoke($1, $2)", 2, params, true);
	if (r == NULL)
		return;
	if (PQgetisnull(r, 0, 0)) {
		PQclear(r);
		http_error(ctx->res, 404, "not_found", "no such session", NULL);
		return;
	}
	current = !strcmp(PQgetvalue(r, 0, 0), "current");
	PQclear(r);
	http_respond(ctx->res, 204, NULL);
	if (current)
		auth_set_cookie(ctx, NULL);
}

/* DELETE /api/v1/me/sessions (session, CSRF): 204, every session of the user but this one has ended. */
void
my_sessions_delete_others(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	const char *params[1] = {hash};
	PGresult *r;

	sha256_bytea(ctx->session_token, hash);
	r = tx_exec(ctx, "SELECT finicom.sessions_revoke_others($1)", 1, params, true);
	if (r == NULL)
		return;
	PQclear(r);
	http_respond(ctx->res, 204, NULL);
}
