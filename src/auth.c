/*
 * auth: credentials (who is calling) and the permission check (may they).
 * The transaction they run in is src/tx.c's.  See auth.h.
 */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include "util/crypto.h"
#include "util/log.h"
#include "validate.h"

/* The columns of finicom.begin_request(). */
enum { BR_ACTOR_TYPE, BR_ACTOR_ID, BR_EMAIL, BR_NAME, BR_CREATED_AT, BR_ORG_ID, BR_ORG_ROLE,
	BR_TWO_FACTOR_REQUIRED /* sql/0023 */ };

static bool
method_is_unsafe(enum http_method m)
{
	return m != HTTP_GET && m != HTTP_HEAD && m != HTTP_OPTIONS;
}

static void
unauthenticated(struct request_ctx *ctx, const char *message)
{
	http_error(ctx->res, 401, "unauthenticated", message, NULL);
}

static const char *
copy(struct request_ctx *ctx, const PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? NULL : arena_strdup(ctx->arena, PQgetvalue(r, 0, col));
}

/* The {org} parameter of the route, if the pattern has one. */
static const char *
path_org(struct request_ctx *ctx)
{
	int i = router_param_index(ctx->route, "org");

	return i >= 0 && i < ctx->req->nparams ? ctx->req->params[i] : NULL;
}

int
auth_prepare(struct request_ctx *ctx)
{
	struct http_request *req = ctx->req;
	struct tx_begin_args *b = &ctx->begin;
	const char *cookie = http_cookie(req, SESSION_COOKIE);
	const char *bearer = NULL, *credential = NULL, *token = NULL, *org;
	bool required = ctx->route->permission != PERM_PUBLIC;

	if (req->authorization != NULL) {
		if (strncmp(req->authorization, "Bearer ", 7) != 0) {
			unauthenticated(ctx, "the Authorization header must be \"Bearer <API key>\"");
			return -1;
		}
		bearer = req->authorization + 7;
	}
	if (cookie != NULL && bearer != NULL) {
		unauthenticated(ctx, "send a session cookie or an API key, not both");
		return -1;
	}
	if (cookie != NULL) {
		credential = "session";
		token = cookie;
	} else if (bearer != NULL) {
		credential = "api_key";
		token = strncmp(bearer, "fcm_", 4) == 0 ? bearer + 4 : NULL;
	}
	if (credential != NULL && !token_well_formed(token) && !required) {
		credential = NULL; /* a stale cookie on a public route: carry on anonymously */
		token = NULL;
	} else if (credential != NULL && !token_well_formed(token)) {
		unauthenticated(ctx, "the session or API key is not valid");
		return -1;
	}
	if (credential == NULL && required) {
		unauthenticated(ctx, "sign in or send an API key");
		return -1;
	}
	org = path_org(ctx);
	if (org != NULL && !uuid_ok(org)) {
		http_error(ctx->res, 404, "not_found", "no such resource", NULL);
		return -1;
	}
	ctx->org_id = org;
	if (token != NULL)
		sha256_bytea(token, b->hash);
	snprintf(b->idle, sizeof(b->idle), "%d", ctx->cfg->session_idle_timeout);
	b->credential = credential;
	b->token = token;
	b->params[0] = credential;
	b->params[1] = token ? b->hash : NULL;
	b->params[2] = org;
	b->params[3] = b->idle;
	b->params[4] = req->request_id;
	b->params[5] = req->remote_addr;
	return 0;
}

int
auth_identified(struct request_ctx *ctx, PGresult *r)
{
	bool required = ctx->route->permission != PERM_PUBLIC;

	if (PQntuples(r) == 1) {
		const char *type = PQgetvalue(r, 0, BR_ACTOR_TYPE);
		ctx->actor.kind = !strcmp(type, "user") ? ACTOR_USER : ACTOR_API_KEY;
		ctx->actor.id = copy(ctx, r, BR_ACTOR_ID);
		ctx->actor.email = copy(ctx, r, BR_EMAIL);
		ctx->actor.name = copy(ctx, r, BR_NAME);
		ctx->actor.created_at = copy(ctx, r, BR_CREATED_AT);
		ctx->org_role = role_from_name(PQgetisnull(r, 0, BR_ORG_ROLE) ? NULL : PQgetvalue(r, 0, BR_ORG_ROLE));
		/* sql/0023: the path's org requires two-factor, and this member has none. */
		ctx->two_factor_required = PQnfields(r) > BR_TWO_FACTOR_REQUIRED &&
		    !strcmp(PQgetvalue(r, 0, BR_TWO_FACTOR_REQUIRED), "t");
		if (ctx->actor.kind == ACTOR_API_KEY) {
			ctx->actor.org_id = copy(ctx, r, BR_ORG_ID);
			ctx->actor.key_role = ctx->org_role;
			if (ctx->org_id == NULL)
				ctx->org_role = ROLE_NONE; /* no org in the path: no org role */
		}
		ctx->actor_label = arena_printf(ctx->arena, "%s:%s",
		    ctx->actor.kind == ACTOR_USER ? "user" : "api_key", ctx->actor.id);
		if (ctx->actor.kind == ACTOR_USER)
			ctx->session_token = ctx->begin.token;
	}
	PQclear(r);
	if (ctx->begin.credential != NULL && ctx->actor.kind == ACTOR_NONE && required) {
		unauthenticated(ctx, "the session or API key is not valid or has expired");
		return -1;
	}
	return 0;
}

int
auth_identify(struct request_ctx *ctx)
{
	PGresult *r;

	if (auth_prepare(ctx) < 0 || (r = tx_begin(ctx, ctx->begin.params)) == NULL)
		return -1;
	return auth_identified(ctx, r);
}

int
auth_authorize(struct request_ctx *ctx)
{
	enum permission perm = ctx->route->permission;
	const char *sent = ctx->req->csrf_token;

	if (ctx->actor.kind == ACTOR_NONE) {
		if (perm == PERM_PUBLIC)
			return 0;
		unauthenticated(ctx, "sign in or send an API key");
		return -1;
	}
	/*
	 * Cookies ride along on cross-site requests; the CSRF token cannot.
	 * This holds on public routes too, once a session is in use there.
	 */
	if (ctx->session_token != NULL && method_is_unsafe(ctx->req->method)) {
		char expected[TOKEN_CHARS + 1];
		csrf_token_for(ctx->session_token, expected);
		if (sent == NULL || !secure_equal(sent, expected)) {
			http_error(ctx->res, 403, "csrf_failed",
			    "missing or wrong X-CSRF-Token header", NULL);
			return -1;
		}
	}
	if (perm == PERM_PUBLIC)
		return 0;
	if (perm == PERM_USER && ctx->actor.kind != ACTOR_USER) {
		http_error(ctx->res, 403, "forbidden", "API keys cannot do this; sign in", NULL);
		return -1;
	}
	if (authz_is_org_permission(perm)) {
		if (ctx->org_role == ROLE_NONE) {
			http_error(ctx->res, 404, "not_found", "no such resource", NULL);
			return -1;
		}
		/*
		 * The org's policy require_2fa (sql/0023): a member without
		 * two-factor gets nothing of it, whatever the role (begin_request
		 * set no org in the context either).  API keys are never flagged.
		 */
		if (ctx->two_factor_required) {
			http_error(ctx->res, 403, "two_factor_required",
			    "this organization requires two-factor authentication: turn it on for your account first",
			    NULL);
			return -1;
		}
		if (!authz_allows(ctx->org_role, perm)) {
			http_error(ctx->res, 403, "forbidden", "your role does not allow this", NULL);
			return -1;
		}
	}
	return 0;
}

void
auth_set_cookie(struct request_ctx *ctx, const char *token)
{
	char value[256];

	if (token != NULL)
		snprintf(value, sizeof(value), "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s",
		    SESSION_COOKIE, token, ctx->cfg->session_max_age,
		    ctx->cfg->cookie_secure ? "; Secure" : "");
	else
		snprintf(value, sizeof(value), "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s",
		    SESSION_COOKIE, ctx->cfg->cookie_secure ? "; Secure" : "");
	http_add_header(ctx->res, "Set-Cookie", value);
}
