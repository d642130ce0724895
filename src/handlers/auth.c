/*
 * auth handlers: signup, login, logout, me, and email verification.
 *
 * Passwords are hashed and verified by the auth processes
 * (src/privsep/privsep.h), outside any transaction of the worker's: only
 * their database role, finicom_auth, reads or stores hashes and creates
 * sessions (sql/0019_auth_role.sql).  Here the fields are checked and the
 * reply is built.
 *
 * Signup also mails a verification link {public_url}/verify/{token}; the
 * token is made here, exists in clear only in the mail (the outbox row,
 * until the mailer sends it) and is stored as its SHA-256
 * (sql/0018_email_verification.sql).  The auth process writes the mail
 * with the account, in the signup's own transaction; it gets the token's
 * hash and the link, and logs neither.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "handlers/handlers.h"
#include "privsep/privsep.h"
#include "util/crypto.h"
#include "util/password.h"
#include "validate.h"

/* Reply {user, csrf_token} with a fresh session cookie (also account.c's). */
void
respond_session(struct request_ctx *ctx, int status, const char *user_json, const char *token)
{
	json_object *body = json_object_new_object();
	char csrf[TOKEN_CHARS + 1];

	csrf_token_for(token, csrf);
	json_object_object_add(body, "user", json_from_text(user_json));
	json_object_object_add(body, "csrf_token", json_object_new_string(csrf));
	http_respond(ctx->res, status, body);
	auth_set_cookie(ctx, token);
}

static const struct field signup_fields[] = {
	{"email", valid_email, true},    /* SIGNUP_EMAIL */
	{"password", valid_password, true}, /* SIGNUP_PASSWORD */
	{"name", valid_name, true},      /* SIGNUP_NAME */
};
enum { SIGNUP_EMAIL, SIGNUP_PASSWORD, SIGNUP_NAME, SIGNUP_NFIELDS };

/*
 * POST /api/v1/auth/signup {email, password, name}
 * 201 {user, csrf_token} and the session cookie; 400 validation_failed
 * (also for a password on the 10,000 most common ones, or equal to the
 * email or the name);
 * 403 forbidden when signup = invite_only; 409 email_taken.
 */
void
auth_signup(struct request_ctx *ctx)
{
	json_object *f[SIGNUP_NFIELDS];
	struct privsep_session session;
	char verify[TOKEN_CHARS + 1], verify_hash[2 + 64 + 1];
	const char *link, *why;
	int rc;

	if (ctx->cfg->signup == SIGNUP_INVITE_ONLY) {
		http_error(ctx->res, 403, "forbidden",
		    "signup is by invitation only on this server", NULL);
		return;
	}
	if (validate_body(ctx->req->json, signup_fields, SIGNUP_NFIELDS, f, ctx->res) < 0)
		return;
	if (!password_new_ok(json_object_get_string(f[SIGNUP_PASSWORD]),
	    json_object_get_string(f[SIGNUP_EMAIL]), json_object_get_string(f[SIGNUP_NAME]), &why)) {
		char message[80];
		snprintf(message, sizeof(message), "password %s", why);
		http_error(ctx->res, 400, "validation_failed", message, "password");
		return;
	}
	if (token_generate(verify) < 0) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	sha256_bytea(verify, verify_hash);
	link = arena_printf(ctx->arena, "%s/verify/%s", ctx->cfg->public_url, verify);
	OPENSSL_cleanse(verify, sizeof(verify));
	if (link == NULL) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	/*
	 * The auth process hashes the password, then the account, its session
	 * and its verification mail are made in one transaction
	 * (finicom.auth_signup_verify).
	 */
	rc = privsep_signup(ctx, json_object_get_string(f[SIGNUP_EMAIL]),
	    json_object_get_string(f[SIGNUP_NAME]), json_object_get_string(f[SIGNUP_PASSWORD]),
	    verify_hash, link, &session);
	/* The link is in the outbox now (or nowhere): no copy of it stays here. */
	OPENSSL_cleanse((char *)link, strlen(link));
	if (rc < 0) {
		if (ctx->res->status == 409)
			http_error(ctx->res, 409, "email_taken",
			    "an account with this email already exists; sign in instead", NULL);
		return;
	}
	respond_session(ctx, 201, session.user_json, session.token);
	OPENSSL_cleanse(session.token, sizeof(session.token));
}

static const struct field login_fields[] = {
	{"email", valid_email, true},       /* LOGIN_EMAIL */
	{"password", valid_password, true}, /* LOGIN_PASSWORD */
};
enum { LOGIN_EMAIL, LOGIN_PASSWORD, LOGIN_NFIELDS };
const struct fieldset login_body = FIELDSET(login_fields);

/*
 * POST /api/v1/auth/login {email, password}
 * 200 {user, csrf_token} and a new session cookie (the session the client
 * came with, if any, ends), or, when the account has two-factor on, 200
 * {totp_required: true, login_token} and no session; 400 validation_failed; 401 invalid_credentials,
 * the same reply after the same work for an unknown email and a wrong
 * password; 429 rate_limited with Retry-After while the email is throttled
 * after repeated failures (the same for an unknown email).
 */
void
auth_login(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* login_body */
	char old_hash[2 + 64 + 1];
	const char *old_cookie = http_cookie(ctx->req, SESSION_COOKIE);
	struct privsep_session session;
	int rc;

	if (token_well_formed(old_cookie))
		sha256_bytea(old_cookie, old_hash);
	/*
	 * The auth process counts the attempt per email (sql/0015: F0429, 429
	 * rate_limited with Retry-After while the email is throttled, without
	 * checking the password), verifies the password against the stored
	 * hash (an unknown email against a dummy one: the same work), and on
	 * success rehashes if needed, ends the session the client came with and
	 * starts a new one.
	 */
	rc = privsep_login(ctx, json_object_get_string(f[LOGIN_EMAIL]),
	    json_object_get_string(f[LOGIN_PASSWORD]), token_well_formed(old_cookie) ? old_hash : NULL,
	    &session);
	if (rc == PRIVSEP_INVALID)
		http_error(ctx->res, 401, "invalid_credentials", "the email or password is incorrect", NULL);
	if (rc == PRIVSEP_TOTP) {
		/* Two-factor on: no session yet; the second step is POST /auth/login/totp (totp.c). */
		respond_totp_required(ctx, session.login_token);
		OPENSSL_cleanse(session.login_token, sizeof(session.login_token));
		return;
	}
	if (rc != PRIVSEP_OK)
		return;
	respond_session(ctx, 200, session.user_json, session.token);
	OPENSSL_cleanse(session.token, sizeof(session.token));
}

void
respond_totp_required(struct request_ctx *ctx, const char *login_token)
{
	json_object *body = json_object_new_object();

	json_object_object_add(body, "totp_required", json_object_new_boolean(1));
	json_object_object_add(body, "login_token", json_object_new_string(login_token));
	http_respond(ctx->res, 200, body);
}

/*
 * POST /api/v1/auth/logout (session, CSRF)
 * 204 and a cookie that clears it; the session is deleted server-side.
 */
void
auth_logout(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	const char *params[1] = {hash};
	PGresult *r;

	sha256_bytea(ctx->session_token, hash);
	r = tx_exec(ctx, "SELECT finicom.auth_logout($1)", 1, params, true);
	if (r == NULL)
		return;
	PQclear(r);
	http_respond(ctx->res, 204, NULL);
	auth_set_cookie(ctx, NULL);
}

/*
 * GET /api/v1/me
 * 200 {user, csrf_token, memberships: [{org: {id, name}, role, joined_at}]} for a session
 * (user with email_verified and totp_enabled);
 * 200 {api_key: {id, name, role, org_id}} for an API key; 401 otherwise.
 */
void
auth_me(struct request_ctx *ctx)
{
	json_object *body, *user;
	char csrf[TOKEN_CHARS + 1];
	const char *params[1] = {ctx->actor.id};
	PGresult *r;

	if (ctx->actor.kind == ACTOR_API_KEY) {
		json_object *key = json_object_new_object();
		json_object_object_add(key, "id", json_object_new_string(ctx->actor.id));
		json_object_object_add(key, "name", json_object_new_string(ctx->actor.name));
		json_object_object_add(key, "role", json_object_new_string(role_name(ctx->actor.key_role)));
		json_object_object_add(key, "org_id", json_object_new_string(ctx->actor.org_id));
		body = json_object_new_object();
		json_object_object_add(body, "api_key", key);
		http_respond(ctx->res, 200, body);
		return;
	}
	r = tx_exec(ctx,
	    "SELECT coalesce(json_agg(json_build_object("
	    " 'org', json_build_object('id', o.id, 'name', o.name),"
	    " 'role', m.role, 'joined_at', finicom.ts(m.joined_at)) ORDER BY m.joined_at, o.id), '[]')::text,"
	    " (SELECT u.email_verified_at IS NOT NULL FROM finicom.users u WHERE u.id = $1),"
	    " EXISTS (SELECT 1 FROM finicom.totp_credentials t" /* sql/0023 */
	    "  WHERE t.user_id = $1 AND t.confirmed_at IS NOT NULL)"
	    " FROM finicom.memberships m JOIN finicom.orgs o ON o.id = m.org_id WHERE m.user_id = $1",
	    1, params, true);
	if (r == NULL)
		return;
	body = json_object_new_object();
	user = json_object_new_object();
	json_object_object_add(user, "id", json_object_new_string(ctx->actor.id));
	json_object_object_add(user, "email", json_object_new_string(ctx->actor.email));
	json_object_object_add(user, "name", json_object_new_string(ctx->actor.name));
	json_object_object_add(user, "created_at", json_object_new_string(ctx->actor.created_at));
	json_object_object_add(user, "email_verified",
	    json_object_new_boolean(!strcmp(PQgetvalue(r, 0, 1), "t")));
	json_object_object_add(user, "totp_enabled", json_object_new_boolean(!strcmp(PQgetvalue(r, 0, 2), "t")));
	json_object_object_add(body, "user", user);
	csrf_token_for(ctx->session_token, csrf);
	json_object_object_add(body, "csrf_token", json_object_new_string(csrf));
	json_object_object_add(body, "memberships", json_from_text(PQgetvalue(r, 0, 0)));
	PQclear(r);
	http_respond(ctx->res, 200, body);
}

/*
 * POST /api/v1/auth/verify/{token} (no authentication; the token is the proof)
 * 200 {user}: the address of the account the link was mailed for is
 * verified, and the token spent.  404 not_found for a token that was never
 * issued (or is malformed); 410 gone with "status": "used", "replaced" (a
 * newer link was sent) or "expired" (24 hours after it was mailed).  403
 * for API keys (route flag).  No session is made or needed.
 */
void
auth_verify(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	const char *params[3] = {hash, ctx->req->remote_addr, ctx->req->request_id};
	const char *outcome;
	json_object *body;
	PGresult *r;

	if (!token_well_formed(ctx->req->params[0])) {
		http_error(ctx->res, 404, "not_found", "no such verification link", NULL);
		return;
	}
	sha256_bytea(ctx->req->params[0], hash);
	r = db_exec_once(ctx, "SELECT outcome, status, user_json::text FROM finicom.email_verify($1, $2, $3)",
	    3, params);
	if (r == NULL)
		return;
	outcome = PQgetvalue(r, 0, 0);
	if (!strcmp(outcome, "ok")) {
		body = json_object_new_object();
		json_object_object_add(body, "user", json_from_text(PQgetvalue(r, 0, 2)));
		http_respond(ctx->res, 200, body);
	} else if (!strcmp(outcome, "gone")) {
		json_object *err = json_object_new_object();
		const char *status = PQgetvalue(r, 0, 1);
		body = json_object_new_object();
		json_object_object_add(err, "code", json_object_new_string("gone"));
		json_object_object_add(err, "message", json_object_new_string(!strcmp(status, "used")
		    ? "this verification link was already used"
		    : !strcmp(status, "replaced") ? "a newer verification link was sent; use that one"
		                                  : "this verification link has expired"));
		json_object_object_add(body, "error", err);
		json_object_object_add(body, "status", json_object_new_string(status));
		http_respond(ctx->res, 410, body);
	} else {
		http_error(ctx->res, 404, "not_found", "no such verification link", NULL);
	}
	PQclear(r);
}

/*
 * POST /api/v1/auth/verify (session, CSRF): mail a new verification link
 * to the signed-in user's address; the older link stops working (410
 * replaced).  202 {}; 409 already_verified; 429 rate_limited with
 * Retry-After after 5 resends in a day (the signup mail does not count);
 * 403 for API keys.
 */
void
auth_verify_resend(struct request_ctx *ctx)
{
	char token[TOKEN_CHARS + 1], hash[2 + 64 + 1], session_hash[2 + 64 + 1];
	const char *params[3] = {session_hash, hash, NULL};
	PGresult *r;

	if (token_generate(token) < 0) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	sha256_bytea(token, hash);
	sha256_bytea(ctx->session_token, session_hash);
	params[2] = arena_printf(ctx->arena, "%s/verify/%s", ctx->cfg->public_url, token);
	OPENSSL_cleanse(token, sizeof(token));
	if (params[2] == NULL) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	r = tx_exec(ctx, "SELECT finicom.email_verification_resend($1, $2, $3)", 3, params, true);
	if (r == NULL)
		return;
	PQclear(r);
	http_respond(ctx->res, 202, json_object_new_object());
}
