/*
 * totp handlers: two-factor authentication (docs/two-factor.md).
 *
 * POST /api/v1/me/totp, POST /api/v1/me/totp/confirm, DELETE
 * /api/v1/me/totp (session, CSRF) and the second step of a sign-in,
 * POST /api/v1/auth/login/totp.  The auth processes make, keep and check
 * the secret (src/privsep/authd_totp.c); here the fields are checked and
 * the replies built.  The worker sees the secret once, in the reply to the
 * enrolment, which it must send; it never reads it back (finicom_app has
 * no privilege on the column) and never checks a code itself.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "handlers/handlers.h"
#include "privsep/privsep.h"
#include "util/crypto.h"
#include "util/totp.h"
#include "validate.h"

/* A code: a string that is six digits or a recovery code (spaces and '-' ignored). */
static bool
valid_code(json_object *v, const char **why)
{
	char norm[RECOVERY_CHARS + 1];
	bool ok;

	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 64) {
		*why = "must be a string of at most 64 characters";
		return false;
	}
	ok = totp_code_kind(json_object_get_string(v), norm) != TOTP_KIND_NONE;
	OPENSSL_cleanse(norm, sizeof(norm));
	if (!ok)
		*why = "must be the 6-digit code of your authenticator app or a recovery code";
	return ok;
}

/* A login token as login answered it; any other string is simply not one (401). */
static bool
valid_login_token(json_object *v, const char **why)
{
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 64) {
		*why = "must be the login_token of the login's reply";
		return false;
	}
	return true;
}

static const struct field code_fields[] = {
	{"code", valid_code, true},
};
const struct fieldset totp_code_body = FIELDSET(code_fields);

static const struct field login_totp_fields[] = {
	{"login_token", valid_login_token, true},
	{"code", valid_code, true},
};
const struct fieldset login_totp_body = FIELDSET(login_totp_fields);

/* s percent-encoded for an otpauth URI's label, in the arena. */
static const char *
uri_escape(struct request_ctx *ctx, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = arena_alloc(ctx->arena, 3 * n + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static void
session_hash(struct request_ctx *ctx, char out[2 + 64 + 1])
{
	sha256_bytea(ctx->session_token, out);
}

/*
 * POST /api/v1/me/totp (session, CSRF)
 * 200 {secret, otpauth_uri}: a new secret (160 bits, base32), SHA-1, 6
 * digits, 30 s, not active until confirmed; a pending one is replaced.
 * 409 conflict while two-factor is on; 403 email_unverified until the
 * address is verified (not with signup = invite_only); 403 for API keys.
 */
void
totp_enrol(struct request_ctx *ctx)
{
	char hash[2 + 64 + 1];
	const char *secret, *email, *label, *uri;
	const char *params[1] = {email_verified_required(ctx)};
	json_object *body;
	PGresult *r;

	/*
	 * Only a verified address enrols (403 email_unverified, as for API keys):
	 * two-factor on an unverified account would let whoever made it lock the
	 * address's owner out after the owner takes the account over.
	 */
	r = tx_exec(ctx, "SELECT finicom.require_email_verified($1)", 1, params, false);
	if (r == NULL)
		return;
	PQclear(r);
	session_hash(ctx, hash);
	if (privsep_totp_enrol(ctx, hash, &secret, &email) != PRIVSEP_OK)
		return;
	label = uri_escape(ctx, email);
	uri = label ? arena_printf(ctx->arena,
	    "otpauth://totp/Finicom:%s?secret=%s&issuer=Finicom&algorithm=SHA1&digits=%d&period=%d",
	    label, secret, TOTP_DIGITS, TOTP_PERIOD) : NULL;
	if (uri == NULL) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	body = json_object_new_object();
	json_object_object_add(body, "secret", json_object_new_string(secret));
	json_object_object_add(body, "otpauth_uri", json_object_new_string(uri));
	http_respond(ctx->res, 200, body);
	OPENSSL_cleanse((char *)secret, strlen(secret));
	OPENSSL_cleanse((char *)uri, strlen(uri));
}

/*
 * POST /api/v1/me/totp/confirm {code} (session, CSRF)
 * 200 {recovery_codes: [10]}: two-factor is on; the codes are shown this
 * once (stored as SHA-256), each works once.  400 validation_failed
 * (field code) for a wrong code; 409 conflict with nothing to confirm;
 * 429 while the account is throttled after wrong codes.
 */
void
totp_confirm(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* totp_code_body */
	char hash[2 + 64 + 1], *list, *save = NULL;
	const char *codes;
	json_object *body, *arr;
	int rc;

	session_hash(ctx, hash);
	rc = privsep_totp_confirm(ctx, hash, json_object_get_string(f[0]), &codes);
	if (rc == PRIVSEP_INVALID)
		http_error(ctx->res, 400, "validation_failed", "the code is not right; try the current one",
		    "code");
	if (rc != PRIVSEP_OK)
		return;
	list = (char *)codes;
	arr = json_object_new_array();
	for (char *c = strtok_r(list, " ", &save); c != NULL; c = strtok_r(NULL, " ", &save))
		json_object_array_add(arr, json_object_new_string(c));
	body = json_object_new_object();
	json_object_object_add(body, "recovery_codes", arr);
	http_respond(ctx->res, 200, body);
}

/*
 * DELETE /api/v1/me/totp {code} (session, CSRF)
 * 204: two-factor is off.  The code is a current TOTP code or an unused
 * recovery code; a wrong one is 400 validation_failed (field code).  409
 * conflict when two-factor is not on.
 */
void
totp_disable(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* totp_code_body */
	char hash[2 + 64 + 1];
	int rc;

	session_hash(ctx, hash);
	rc = privsep_totp_disable(ctx, hash, json_object_get_string(f[0]));
	if (rc == PRIVSEP_INVALID)
		http_error(ctx->res, 400, "validation_failed", "the code is not right", "code");
	if (rc == PRIVSEP_OK)
		http_respond(ctx->res, 204, NULL);
}

/*
 * POST /api/v1/auth/login/totp {login_token, code}
 * 200 {user, csrf_token} and a new session cookie (the session the client
 * came with, if any, ends).  401 invalid_credentials for a wrong,
 * replayed or spent code and for an unknown, expired (5 minutes) or spent
 * login token, alike; 429 rate_limited while the account is throttled.
 */
void
auth_login_totp(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* login_totp_body */
	const char *login = json_object_get_string(f[0]);
	const char *old_cookie = http_cookie(ctx->req, SESSION_COOKIE);
	char login_hash[2 + 64 + 1], old_hash[2 + 64 + 1];
	struct privsep_session session;
	int rc;

	if (!token_well_formed(login)) {
		http_error(ctx->res, 401, "invalid_credentials", "the code or the sign-in is not valid; sign in again",
		    NULL);
		return;
	}
	sha256_bytea(login, login_hash);
	if (token_well_formed(old_cookie))
		sha256_bytea(old_cookie, old_hash);
	rc = privsep_login_totp(ctx, login_hash, json_object_get_string(f[1]),
	    token_well_formed(old_cookie) ? old_hash : NULL, &session);
	if (rc == PRIVSEP_INVALID)
		http_error(ctx->res, 401, "invalid_credentials", "the code is not right, or the sign-in has expired",
		    NULL);
	if (rc != PRIVSEP_OK)
		return;
	respond_session(ctx, 200, session.user_json, session.token);
	OPENSSL_cleanse(session.token, sizeof(session.token));
}
