/*
 * auth: who is calling, and may they call this route.
 *
 * Credentials are a session cookie (finicom_session) or an API key
 * (Authorization: Bearer fcm_...), never both.  auth_begin() opens the
 * request transaction and runs finicom.begin_request() in the same round
 * trip: the database checks the credential, sets the request context and
 * returns the actor and the actor's role in the org of the path.  Then
 * auth_authorize() applies the route's permission (authz.c): unknown
 * credential 401, CSRF 403 csrf_failed, not a member 404, role too low 403.
 */
#ifndef FINICOM_AUTH_H
#define FINICOM_AUTH_H

#include "context.h"

#define SESSION_COOKIE "finicom_session"

/* Open the transaction and identify the caller.  0, or -1 with the response set. */
int auth_begin(struct request_ctx *ctx);

/* Enforce the route's permission for the identified caller.  0 or -1 with the response set. */
int auth_authorize(struct request_ctx *ctx);

/* End the request transaction: COMMIT when the response is a success, else ROLLBACK. */
void auth_end(struct request_ctx *ctx);

/* Add Set-Cookie for a new session token, or one that clears it (token NULL). */
void auth_set_cookie(struct request_ctx *ctx, const char *token);

#endif
