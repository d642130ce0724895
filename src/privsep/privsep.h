/*
 * privsep: the auth processes, and the workers' side of talking to them.
 *
 * finicomd's master forks `auth_processes` auth processes before the
 * workers and supervises both alike.  An auth process holds the only
 * database connection as finicom_auth, the role that alone may read
 * password hashes, create sessions and store new hashes
 * (sql/0019_auth_role.sql); it verifies and hashes passwords (Argon2id).
 * The workers (finicom_app) hand it the credential steps of login, signup
 * (with its verification mail) and invitation acceptance without a
 * session (with the takeover of an unverified account) and never see a
 * hash.
 *
 * The channel: the master makes one SOCK_SEQPACKET socketpair, the queue,
 * before forking anything.  Workers inherit only its worker end, auth
 * processes only its auth end, so nothing else can reach either (no path in
 * the file system, no name).  A worker sends its request on the queue with
 * a fresh socketpair's other end attached (SCM_RIGHTS) and waits on its own
 * end for the reply: whichever auth process is idle takes the next record
 * (the kernel's queue is the dispatcher), answers on the attached socket and
 * closes it.  An auth process that dies mid-request closes that socket, so
 * the worker sees the end at once; one that is stuck, or none at all, runs
 * into auth_timeout.  Either way the worker answers 503 unavailable.  The
 * message format is src/privsep/proto.h.
 */
#ifndef FINICOM_PRIVSEP_H
#define FINICOM_PRIVSEP_H

#include "context.h"
#include "util/config.h"
#include "util/crypto.h"

/*
 * The auth process: serve requests from queue_fd until SIGTERM, then finish
 * the one in hand and return the exit status.  Never returns otherwise.
 */
int privsep_auth_run(const struct config *cfg, int queue_fd);

/* A worker's end of the queue, set once after fork. */
void privsep_worker_init(int queue_fd, int timeout_seconds);

/* What a new session comes back as. */
struct privsep_session {
	char token[TOKEN_CHARS + 1]; /* the cookie's value: the caller wipes it */
	const char *user_json;       /* the user object as PostgreSQL printed it, in the arena */
	/* privsep_login's PRIVSEP_TOTP: the login token of the second step (wipe it) */
	char login_token[TOKEN_CHARS + 1];
};

/* The row of an invitation accepted (or not) for a new account. */
struct privsep_accepted {
	const char *outcome, *status, *org_id, *org_name, *role, *user_json; /* in the arena */
	char token[TOKEN_CHARS + 1]; /* with outcome "ok": the new session's token; wipe it */
};

enum { PRIVSEP_OK = 0, PRIVSEP_INVALID = 1, PRIVSEP_REFUSED = 2, PRIVSEP_TOTP = 3 };

/*
 * The credential steps, each one round trip to an auth process.  They
 * return PRIVSEP_OK with *out filled; privsep_login PRIVSEP_INVALID for a
 * wrong email or password (after the same work either way); or -1 with the
 * response set: a database error as respond_db_failure answers it (429
 * rate_limited with Retry-After while the email is throttled, 409 for a
 * taken email, 503 when the database is unavailable), 503 unavailable when
 * no auth process answers within auth_timeout, 500 otherwise.
 * old_session_hash is the bytea text of the cookie's token hash, or NULL.
 * privsep_signup also has the new account's verification mail written in
 * the signup's transaction (sql/0018): verify_hash is the bytea text of
 * the verification token's SHA-256, verify_link the mail's link
 * {public_url}/verify/{token}, which the auth process checks against it.
 */
int privsep_login(struct request_ctx *ctx, const char *email, const char *password,
    const char *old_session_hash, struct privsep_session *out);
int privsep_signup(struct request_ctx *ctx, const char *email, const char *name,
    const char *password, const char *verify_hash, const char *verify_link, struct privsep_session *out);
int privsep_accept(struct request_ctx *ctx, const char *invitation_hash, const char *name,
    const char *password, struct privsep_accepted *out);

/*
 * Password reset and change (sql/0022), with the same -1 cases.
 * privsep_reset_request: the auth process makes the token and its link
 * {public_url}/reset/{token} (no worker ever holds one) and queues the mail
 * when an account has the address, the same work either way: PRIVSEP_OK.
 * privsep_reset: PRIVSEP_OK with the new session in *out (every other
 * session of the account ended), PRIVSEP_TOTP with out->login_token and no
 * session when the account has two-factor on (every session ended), or
 * PRIVSEP_REFUSED with *outcome
 * "not_found" or "gone" and *status ("used", "replaced", "expired"), in
 * the arena.  privsep_password_change: the actor's password, checked
 * against current (PRIVSEP_INVALID when wrong), becomes new_password; the
 * session whose hash is session_hash stays, every other ends.  Every
 * password given is wiped once sent.  Each request carries the client's
 * address, request id and (for sessions made) User-Agent.
 */
int privsep_reset_request(struct request_ctx *ctx, const char *email);
int privsep_reset(struct request_ctx *ctx, const char *token_hash, const char *password,
    struct privsep_session *out, const char **outcome, const char **status);
int privsep_password_change(struct request_ctx *ctx, const char *session_hash, const char *current,
    const char *new_password);

/*
 * Two-factor (docs/two-factor.md).  privsep_login returns PRIVSEP_TOTP
 * when the password was right and the account has two-factor on: then
 * out->login_token is the second step's token and there is no session.
 * session_hash is the bytea text of the caller's session token hash;
 * codes are what the client sent (a TOTP code, or a recovery code where
 * one is accepted).  PRIVSEP_INVALID for a wrong, replayed or spent code
 * (or an unknown, expired or spent login token); -1 with the response set
 * otherwise (409 conflict when two-factor is not in the state the call
 * needs, 429 while the account is throttled).
 *   privsep_totp_enrol    *secret (base32) and *email, in the arena
 *   privsep_totp_confirm  *codes: the ten recovery codes, space-separated, in the arena
 *   privsep_totp_disable  -
 *   privsep_login_totp    the new session, as privsep_login's
 */
int privsep_totp_enrol(struct request_ctx *ctx, const char *session_hash, const char **secret,
    const char **email);
int privsep_totp_confirm(struct request_ctx *ctx, const char *session_hash, const char *code,
    const char **codes);
int privsep_totp_disable(struct request_ctx *ctx, const char *session_hash, const char *code);
int privsep_login_totp(struct request_ctx *ctx, const char *login_hash, const char *code,
    const char *old_session_hash, struct privsep_session *out);

#endif
