/*
 * auth: who is calling, and may they call this route.
 *
 * Credentials are a session cookie (finicom_session) or an API key
 * (Authorization: Bearer fcm_...), never both.  auth_identify() checks
 * their shape and opens the request transaction with tx_begin() (src/tx.c):
 * the database checks the credential, seals the request context and
 * returns the actor and the actor's role in the org of the path.  Then
 * auth_authorize() applies the route's permission (authz.c): unknown
 * credential 401, CSRF 403 csrf_failed, not a member 404, role too low 403.
 */
#ifndef FINICOM_AUTH_H
#define FINICOM_AUTH_H

#include "context.h"

#define SESSION_COOKIE "finicom_session"

/*
 * Identify the caller, opening the request transaction: auth_prepare()
 * checks the credentials' shape and fills ctx->begin (no database), then
 * tx_begin() runs begin_request, and auth_identified() reads the actor from
 * its result (and PQclear()s it).  Each: 0, or -1 with the response set.
 */
int auth_identify(struct request_ctx *ctx);
int auth_prepare(struct request_ctx *ctx);
int auth_identified(struct request_ctx *ctx, PGresult *r);

/* Enforce the route's permission for the identified caller.  0 or -1 with the response set. */
int auth_authorize(struct request_ctx *ctx);

/* Add Set-Cookie for a new session token, or one that clears it (token NULL). */
void auth_set_cookie(struct request_ctx *ctx, const char *token);

#endif
