/*
 * client: the workers' side of the auth processes (see privsep.h).
 *
 * One call is one request record on the queue with a fresh reply socket
 * attached, and one reply record back on it, within auth_timeout.  The
 * request buffer (it holds the password, and for a signup the verification
 * link) and the reply (it holds the new session token) are wiped before
 * return.  What the reply says becomes the
 * response here only where it is the auth process's own (503 when it does
 * not answer, 500 when it says it failed, a forwarded database error as
 * respond_db_failure answers it); the handlers build the rest.
 */
#include "privsep/privsep.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "privsep/proto.h"
#include "util/log.h"

static int queue = -1;
static int timeout_ms = 5000;

void
privsep_worker_init(int queue_fd, int timeout_seconds)
{
	queue = queue_fd;
	timeout_ms = timeout_seconds * 1000;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
unavailable(struct request_ctx *ctx)
{
	http_error(ctx->res, 503, "unavailable", "signing in is unavailable right now; try again", NULL);
}

/* Send the encoded request with the reply socket's far end attached.  0 or -1 (errno). */
static int
send_request(const unsigned char *buf, size_t len, int reply_end)
{
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
	    .msg_controllen = sizeof(control.space)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&control, 0, sizeof(control));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &reply_end, sizeof(int));
	/* Never block: a full queue means the auth processes are far behind. */
	return sendmsg(queue, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/*
 * Wait for the reply record on fd until deadline.  Returns its length,
 * 0 when the auth process closed the socket without answering, -1 on
 * timeout (errno ETIMEDOUT) or error.
 */
static long
await_reply(int fd, uint64_t deadline, unsigned char *buf, size_t cap)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	for (;;) {
		uint64_t now = now_ns();
		int rc;

		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		/* A SIGTERM to the worker interrupts; the request in flight still gets its answer. */
		rc = poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n > 0 && (msg.msg_flags & MSG_TRUNC)) {
		errno = EMSGSIZE;
		return -1;
	}
	return (long)n;
}

/*
 * One round trip: req (deadline set here) out, the reply decoded into rep
 * with its fields in text.  Returns 0, or -1 with the response set (503,
 * or 500 for a reply that is not one); an R_DB_ERROR or R_FAILED reply is
 * answered here too (-1).
 */
static int
call(struct request_ctx *ctx, struct authp_msg *req, struct authp_msg *rep, char *text, size_t cap)
{
	unsigned char buf[AUTHP_MSG_MAX];
	const char *why;
	int pair[2];
	long n;

	req->deadline_ns = now_ns() + (uint64_t)timeout_ms * 1000000u;
	n = authp_encode(req, buf, sizeof(buf), &why);
	if (n < 0) {
		log_msg(LOG_ERROR, "could not encode a request for the auth process: %s", why);
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		OPENSSL_cleanse(buf, (size_t)n);
		log_msg(LOG_WARN, "could not make a reply socket: %s", strerror(errno));
		unavailable(ctx);
		return -1;
	}
	if (send_request(buf, (size_t)n, pair[1]) < 0) {
		log_msg(LOG_WARN, "could not queue a request for the auth processes: %s", strerror(errno));
		OPENSSL_cleanse(buf, (size_t)n);
		close(pair[0]);
		close(pair[1]);
		unavailable(ctx);
		return -1;
	}
	OPENSSL_cleanse(buf, (size_t)n);
	close(pair[1]);
	n = await_reply(pair[0], req->deadline_ns, buf, sizeof(buf));
	close(pair[0]);
	if (n <= 0) {
		if (n == 0)
			log_msg(LOG_WARN, "the auth process ended without answering");
		else if (errno == ETIMEDOUT)
			log_msg(LOG_WARN, "no auth process answered within %d s", timeout_ms / 1000);
		else
			log_msg(LOG_WARN, "could not read the auth process's reply: %s", strerror(errno));
		unavailable(ctx);
		return -1;
	}
	if (authp_decode(buf, (size_t)n, rep, text, cap, &why) < 0 || authp_is_request(rep->type)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		log_msg(LOG_ERROR, "the auth process's reply is malformed: %s", why ? why : "a request");
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return -1;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rep->type == AUTHP_R_DB_ERROR) {
		struct db_failure f = {
			rep->field[AUTHP_DB_SQLSTATE], rep->field[AUTHP_DB_MESSAGE], rep->field[AUTHP_DB_DETAIL],
			rep->field[AUTHP_DB_HINT], rep->field[AUTHP_DB_COLUMN], rep->field[AUTHP_DB_CONSTRAINT],
			rep->field[AUTHP_DB_TABLE],
		};
		respond_db_failure(ctx, &f);
		return -1;
	}
	if (rep->type == AUTHP_R_FAILED) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return -1;
	}
	return 0;
}

/*
 * Wipe the worker's own copies of a password once it is on its way: the
 * string of the parsed body and the body's text in the arena (both read
 * no more).  libfcgi's input buffer is overwritten by the next request.
 */
static void
scrub(struct request_ctx *ctx, const char *password)
{
	if (password != NULL)
		OPENSSL_cleanse((char *)password, strlen(password));
	if (ctx->req->body != NULL)
		OPENSSL_cleanse((char *)ctx->req->body, ctx->req->body_len);
}

/* A reply of another type than the request can get: 500. */
static int
unexpected(struct request_ctx *ctx, const struct authp_msg *rep)
{
	log_msg(LOG_ERROR, "the auth process answered with an unexpected reply (type %d)", rep->type);
	http_error(ctx->res, 500, "internal", "internal error", NULL);
	return -1;
}

/* R_SESSION into out: the token copied, the user JSON into the arena. */
static int
take_session(struct request_ctx *ctx, const struct authp_msg *rep, struct privsep_session *out)
{
	const char *token = rep->field[AUTHP_SESSION_TOKEN];

	if (strlen(token) != TOKEN_CHARS ||
	    (out->user_json = arena_strdup(ctx->arena, rep->field[AUTHP_SESSION_USER])) == NULL)
		return unexpected(ctx, rep);
	memcpy(out->token, token, TOKEN_CHARS + 1);
	return PRIVSEP_OK;
}

/* R_TOTP_REQUIRED into out: PRIVSEP_TOTP with the login token copied. */
static int
take_login_token(struct request_ctx *ctx, const struct authp_msg *rep, struct privsep_session *out)
{
	const char *token = rep->field[0];

	if (strlen(token) != TOKEN_CHARS)
		return unexpected(ctx, rep);
	memcpy(out->login_token, token, TOKEN_CHARS + 1);
	out->user_json = NULL;
	return PRIVSEP_TOTP;
}

int
privsep_login(struct request_ctx *ctx, const char *email, const char *password,
    const char *old_session_hash, struct privsep_session *out)
{
	struct authp_msg req, rep;
	char text[AUTHP_MSG_MAX];
	int rc;

	authp_init(&req, AUTHP_LOGIN);
	req.field[AUTHP_LOGIN_EMAIL] = email;
	req.field[AUTHP_LOGIN_PASSWORD] = password;
	req.field[AUTHP_LOGIN_OLD_SESSION] = old_session_hash;
	req.field[AUTHP_LOGIN_IP] = ctx->req->remote_addr;
	req.field[AUTHP_LOGIN_REQUEST_ID] = ctx->req->request_id;
	req.field[AUTHP_LOGIN_USER_AGENT] = ctx->req->user_agent;
	rc = call(ctx, &req, &rep, text, sizeof(text));
	scrub(ctx, password);
	if (rc == 0 && rep.type == AUTHP_R_INVALID)
		rc = PRIVSEP_INVALID;
	else if (rc == 0 && rep.type == AUTHP_R_TOTP_REQUIRED)
		rc = take_login_token(ctx, &rep, out); /* two-factor: the second step's token */
	else if (rc == 0)
		rc = rep.type == AUTHP_R_SESSION ? take_session(ctx, &rep, out) : unexpected(ctx, &rep);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
privsep_signup(struct request_ctx *ctx, const char *email, const char *name, const char *password,
    const char *verify_hash, const char *verify_link, struct privsep_session *out)
{
	struct authp_msg req, rep;
	char text[AUTHP_MSG_MAX];
	int rc;

	authp_init(&req, AUTHP_SIGNUP);
	req.field[AUTHP_SIGNUP_EMAIL] = email;
	req.field[AUTHP_SIGNUP_NAME] = name;
	req.field[AUTHP_SIGNUP_PASSWORD] = password;
	req.field[AUTHP_SIGNUP_IP] = ctx->req->remote_addr;
	req.field[AUTHP_SIGNUP_REQUEST_ID] = ctx->req->request_id;
	req.field[AUTHP_SIGNUP_VERIFY_HASH] = verify_hash;
	req.field[AUTHP_SIGNUP_VERIFY_LINK] = verify_link;
	req.field[AUTHP_SIGNUP_USER_AGENT] = ctx->req->user_agent;
	rc = call(ctx, &req, &rep, text, sizeof(text));
	scrub(ctx, password);
	if (rc == 0)
		rc = rep.type == AUTHP_R_SESSION ? take_session(ctx, &rep, out) : unexpected(ctx, &rep);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

/* An arena copy of a field that may be absent. */
static const char *
copy_field(struct request_ctx *ctx, const char *s)
{
	return s != NULL ? arena_strdup(ctx->arena, s) : NULL;
}

int
privsep_accept(struct request_ctx *ctx, const char *invitation_hash, const char *name,
    const char *password, struct privsep_accepted *out)
{
	struct authp_msg req, rep;
	char text[AUTHP_MSG_MAX];
	const char *token;
	int rc;

	authp_init(&req, AUTHP_ACCEPT);
	req.field[AUTHP_ACCEPT_INVITATION] = invitation_hash;
	req.field[AUTHP_ACCEPT_NAME] = name;
	req.field[AUTHP_ACCEPT_PASSWORD] = password;
	req.field[AUTHP_ACCEPT_IP] = ctx->req->remote_addr;
	req.field[AUTHP_ACCEPT_REQUEST_ID] = ctx->req->request_id;
	req.field[AUTHP_ACCEPT_USER_AGENT] = ctx->req->user_agent;
	rc = call(ctx, &req, &rep, text, sizeof(text));
	scrub(ctx, password);
	if (rc == 0 && rep.type != AUTHP_R_ACCEPTED)
		rc = unexpected(ctx, &rep);
	if (rc == 0) {
		token = rep.field[AUTHP_ACCEPTED_TOKEN];
		out->outcome = copy_field(ctx, rep.field[AUTHP_ACCEPTED_OUTCOME]);
		out->status = copy_field(ctx, rep.field[AUTHP_ACCEPTED_STATUS]);
		out->org_id = copy_field(ctx, rep.field[AUTHP_ACCEPTED_ORG_ID]);
		out->org_name = copy_field(ctx, rep.field[AUTHP_ACCEPTED_ORG_NAME]);
		out->role = copy_field(ctx, rep.field[AUTHP_ACCEPTED_ROLE]);
		out->user_json = copy_field(ctx, rep.field[AUTHP_ACCEPTED_USER]);
		out->token[0] = '\0';
		if (out->outcome == NULL ||
		    (!strcmp(out->outcome, "ok") && (token == NULL || strlen(token) != TOKEN_CHARS ||
		    out->org_id == NULL || out->org_name == NULL || out->role == NULL || out->user_json == NULL)))
			rc = unexpected(ctx, &rep);
		else if (token != NULL)
			memcpy(out->token, token, strlen(token) + 1);
	}
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
privsep_reset_request(struct request_ctx *ctx, const char *email)
{
	struct authp_msg req, rep;
	char text[AUTHP_MSG_MAX];
	int rc;

	authp_init(&req, AUTHP_RESET_REQUEST);
	req.field[AUTHP_RESET_REQUEST_EMAIL] = email;
	req.field[AUTHP_RESET_REQUEST_IP] = ctx->req->remote_addr;
	req.field[AUTHP_RESET_REQUEST_REQUEST_ID] = ctx->req->request_id;
	rc = call(ctx, &req, &rep, text, sizeof(text));
	if (rc == 0 && rep.type != AUTHP_R_DONE)
		rc = unexpected(ctx, &rep);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
privsep_reset(struct request_ctx *ctx, const char *token_hash, const char *password,
    struct privsep_session *out, const char **outcome, const char **status)
{
	struct authp_msg req, rep;
	char text[AUTHP_MSG_MAX];
	int rc;

	authp_init(&req, AUTHP_RESET);
	req.field[AUTHP_RESET_TOKEN] = token_hash;
	req.field[AUTHP_RESET_PASSWORD] = password;
	req.field[AUTHP_RESET_IP] = ctx->req->remote_addr;
	req.field[AUTHP_RESET_REQUEST_ID] = ctx->req->request_id;
	req.field[AUTHP_RESET_USER_AGENT] = ctx->req->user_agent;
	rc = call(ctx, &req, &rep, text, sizeof(text));
	scrub(ctx, password);
	if (rc == 0 && rep.type == AUTHP_R_REFUSED) {
		*outcome = copy_field(ctx, rep.field[AUTHP_REFUSED_OUTCOME]);
		*status = copy_field(ctx, rep.field[AUTHP_REFUSED_STATUS]);
		rc = PRIVSEP_REFUSED;
	} else if (rc == 0 && rep.type == AUTHP_R_TOTP_REQUIRED) {
		rc = take_login_token(ctx, &rep, out); /* two-factor on: the second step's token */
	} else if (rc == 0) {
		rc = rep.type == AUTHP_R_SESSION ? take_session(ctx, &rep, out) : unexpected(ctx, &rep);
	}
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
privsep_password_change(struct request_ctx *ctx, const char *session_hash, const char *current,
    const char *new_password)
{
	struct authp_msg req, rep;
	char text[AUTHP_MSG_MAX];
	int rc;

	authp_init(&req, AUTHP_PASSWORD);
	req.field[AUTHP_PASSWORD_USER] = ctx->actor.id;
	req.field[AUTHP_PASSWORD_SESSION] = session_hash;
	req.field[AUTHP_PASSWORD_CURRENT] = current;
	req.field[AUTHP_PASSWORD_NEW] = new_password;
	req.field[AUTHP_PASSWORD_IP] = ctx->req->remote_addr;
	req.field[AUTHP_PASSWORD_REQUEST_ID] = ctx->req->request_id;
	rc = call(ctx, &req, &rep, text, sizeof(text));
	scrub(ctx, current);
	scrub(ctx, new_password);
	if (rc == 0 && rep.type == AUTHP_R_INVALID)
		rc = PRIVSEP_INVALID;
	else if (rc == 0 && rep.type != AUTHP_R_DONE)
		rc = unexpected(ctx, &rep);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

/* ---------------------------------------------------------------------
 * Two-factor (docs/two-factor.md): the requests of the routes of
 * src/handlers/totp.c.  The code sent is wiped with the body.
 */

/* One two-factor request with the session's hash and a code (or none). */
static int
totp_call(struct request_ctx *ctx, enum authp_type type, const char *session_hash, const char *code,
    struct authp_msg *rep, char *text, size_t cap)
{
	struct authp_msg req;
	int rc;

	authp_init(&req, type);
	req.field[AUTHP_TOTP_SESSION] = session_hash;
	req.field[AUTHP_TOTP_CODE] = code;
	req.field[AUTHP_TOTP_IP] = ctx->req->remote_addr;
	req.field[AUTHP_TOTP_REQUEST_ID] = ctx->req->request_id;
	rc = call(ctx, &req, rep, text, cap);
	scrub(ctx, code);
	if (rc == 0 && rep->type == AUTHP_R_INVALID)
		rc = PRIVSEP_INVALID;
	return rc;
}

int
privsep_totp_enrol(struct request_ctx *ctx, const char *session_hash, const char **secret,
    const char **email)
{
	struct authp_msg rep;
	char text[AUTHP_MSG_MAX];
	int rc = totp_call(ctx, AUTHP_TOTP_ENROL, session_hash, NULL, &rep, text, sizeof(text));

	if (rc == 0 && rep.type != AUTHP_R_TOTP_SECRET)
		rc = unexpected(ctx, &rep);
	if (rc == 0) {
		*secret = arena_strdup(ctx->arena, rep.field[AUTHP_SECRET_BASE32]);
		*email = arena_strdup(ctx->arena, rep.field[AUTHP_SECRET_EMAIL]);
		if (*secret == NULL || *email == NULL)
			rc = unexpected(ctx, &rep);
	}
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
privsep_totp_confirm(struct request_ctx *ctx, const char *session_hash, const char *code, const char **codes)
{
	struct authp_msg rep;
	char text[AUTHP_MSG_MAX];
	int rc = totp_call(ctx, AUTHP_TOTP_CONFIRM, session_hash, code, &rep, text, sizeof(text));

	if (rc == 0 && rep.type != AUTHP_R_CODES)
		rc = unexpected(ctx, &rep);
	if (rc == 0 && (*codes = arena_strdup(ctx->arena, rep.field[0])) == NULL)
		rc = unexpected(ctx, &rep);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
privsep_totp_disable(struct request_ctx *ctx, const char *session_hash, const char *code)
{
	struct authp_msg rep;
	char text[AUTHP_MSG_MAX];
	int rc = totp_call(ctx, AUTHP_TOTP_DISABLE, session_hash, code, &rep, text, sizeof(text));

	if (rc == 0 && rep.type != AUTHP_R_DONE)
		rc = unexpected(ctx, &rep);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
privsep_login_totp(struct request_ctx *ctx, const char *login_hash, const char *code,
    const char *old_session_hash, struct privsep_session *out)
{
	struct authp_msg req, rep;
	char text[AUTHP_MSG_MAX];
	int rc;

	authp_init(&req, AUTHP_LOGIN_TOTP);
	req.field[AUTHP_LOGIN_TOTP_TOKEN] = login_hash;
	req.field[AUTHP_LOGIN_TOTP_CODE] = code;
	req.field[AUTHP_LOGIN_TOTP_OLD_SESSION] = old_session_hash;
	req.field[AUTHP_LOGIN_TOTP_IP] = ctx->req->remote_addr;
	req.field[AUTHP_LOGIN_TOTP_REQUEST_ID] = ctx->req->request_id;
	req.field[AUTHP_LOGIN_TOTP_USER_AGENT] = ctx->req->user_agent;
	rc = call(ctx, &req, &rep, text, sizeof(text));
	scrub(ctx, code);
	if (rc == 0 && rep.type == AUTHP_R_INVALID)
		rc = PRIVSEP_INVALID;
	else if (rc == 0)
		rc = rep.type == AUTHP_R_SESSION ? take_session(ctx, &rep, out) : unexpected(ctx, &rep);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}
