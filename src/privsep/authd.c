/*
 * authd: the auth process (see privsep.h).
 *
 * One request at a time: take the next record from the queue with the
 * reply socket that came with it, check it (proto.c), drop it when its
 * worker has stopped waiting (deadline passed, or its end closed), do the
 * work on the finicom_auth connection, send one reply record, close the
 * reply socket.  Several auth processes share the queue; each is as
 * simple as one worker.
 *
 * Secrets: the password, the password hash, the verification link, the
 * reset token and its link, the new session token and its reply are wiped from this process's buffers once
 * sent; none is logged.
 * The process is not dumpable (no ptrace or /proc/<pid>/mem for the
 * workers, which run as the same user).
 */
#include "privsep/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "db.h"
#include "metrics.h"
#include "privsep/authd_int.h"
#include "privsep/proto.h"
#include "util/log.h"
#include "util/password.h"

/*
 * The user object of the API (src/openapi.json, with email_verified), built
 * by the database (finicom.user_json) for the account of the session whose
 * token hash is the parameter named.
 */
#define SESSION_USER_JSON(param) "finicom.session_user_json(" param ")::text"

static volatile sig_atomic_t stopping;
static int queue = -1;
static int devnull_fd = -1;

/*
 * SIGTERM: finish the request in hand, take no other.  The queue is
 * replaced by /dev/null so that a recvmsg() the signal did not interrupt
 * (it came just before) fails at once instead of waiting for a record.
 */
static void
on_terminate(int sig)
{
	(void)sig;
	stopping = 1;
	if (devnull_fd >= 0)
		dup2(devnull_fd, queue);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


/*
 * Copy s into the reply's text as field i, cut at the field's limit (on a
 * UTF-8 character boundary: database messages may be translated).
 */
void
reply_set(struct reply *rep, int i, const char *s)
{
	size_t max = authp_field_max(rep->msg.type, i), len;

	if (s == NULL) {
		rep->msg.field[i] = NULL;
		return;
	}
	len = strlen(s);
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	if (rep->used + len + 1 > sizeof(rep->text)) {
		rep->msg.field[i] = NULL;
		return;
	}
	memcpy(rep->text + rep->used, s, len);
	rep->text[rep->used + len] = '\0';
	rep->msg.field[i] = rep->text + rep->used;
	rep->used += len + 1;
}

void
reply_start(struct reply *rep, enum authp_type type)
{
	authp_init(&rep->msg, type);
	rep->used = 0;
}

/* R_DB_ERROR from a failed result, or for no connection at all (r NULL). */
static void
reply_db_error(struct reply *rep, const PGresult *r)
{
	const char *state = r ? db_sqlstate(r) : "";

	reply_start(rep, AUTHP_R_DB_ERROR);
	/* No SQLSTATE means the connection failed: answer as for 08006. */
	snprintf(rep->sqlstate, sizeof(rep->sqlstate), "%s", strlen(state) == 5 ? state : "08006");
	rep->msg.field[AUTHP_DB_SQLSTATE] = rep->sqlstate;
	if (r == NULL)
		return;
	reply_set(rep, AUTHP_DB_MESSAGE, PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	reply_set(rep, AUTHP_DB_DETAIL, PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
	reply_set(rep, AUTHP_DB_HINT, PQresultErrorField(r, PG_DIAG_MESSAGE_HINT));
	reply_set(rep, AUTHP_DB_COLUMN, PQresultErrorField(r, PG_DIAG_COLUMN_NAME));
	reply_set(rep, AUTHP_DB_CONSTRAINT, PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME));
	reply_set(rep, AUTHP_DB_TABLE, PQresultErrorField(r, PG_DIAG_TABLE_NAME));
}

/*
 * One autocommit statement on the finicom_auth connection (unnamed, as the
 * workers ran these before).  Returns the result (caller PQclear()s it), or
 * NULL with R_DB_ERROR in rep.
 */
PGresult *
auth_exec(struct db *db, struct reply *rep, const char *sql, int nparams, const char *const *params)
{
	PGresult *r;

	if (db_connection(db) == NULL) {
		reply_db_error(rep, NULL);
		return NULL;
	}
	r = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!db_ok(r)) {
		db_check(db);
		if (db->conn == NULL)
			reply_db_error(rep, NULL);
		else
			reply_db_error(rep, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Wipe the text of every value of a result before it is freed (hashes). */
void
clear_wiped(PGresult *r)
{
	for (int i = 0; r != NULL && i < PQntuples(r); i++)
		for (int j = 0; j < PQnfields(r); j++)
			OPENSSL_cleanse(PQgetvalue(r, i, j), (size_t)PQgetlength(r, i, j));
	PQclear(r);
}

static void
reply_session(struct reply *rep, const char *token, const char *user_json)
{
	reply_start(rep, AUTHP_R_SESSION);
	reply_set(rep, AUTHP_SESSION_TOKEN, token);
	reply_set(rep, AUTHP_SESSION_USER, user_json);
}

/*
 * Record where the session just made came from (finicom.session_describe,
 * sql/0022: its client address and User-Agent).  The session exists
 * already and the reply is set: a failure here is logged, not answered.
 */
void
describe_session(struct db *db, const char *token_hash, const char *ip, const char *user_agent)
{
	const char *params[3] = {token_hash, ip, user_agent};
	PGresult *r;

	if (db->conn == NULL)
		return;
	r = PQexecParams(db->conn, "SELECT finicom.session_describe($1, $2, $3)", 3, NULL, params, NULL, NULL, 0);
	if (!db_ok(r)) {
		log_msg(LOG_WARN, "could not record where a new session came from: %s", db_sqlstate(r));
		db_check(db);
	}
	PQclear(r);
}

/*
 * LOGIN: count the attempt and get the hash (auth_login_begin: F0429 while
 * the email is throttled), verify (an unknown email against a dummy hash:
 * the same work), then either record the failure or replace an outdated
 * hash, end the old session and start a new one (auth_login_complete).
 */
static void
handle_login(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep)
{
	const char *email = m->field[AUTHP_LOGIN_EMAIL], *password = m->field[AUTHP_LOGIN_PASSWORD];
	const char *old = m->field[AUTHP_LOGIN_OLD_SESSION];
	char token[TOKEN_CHARS + 1], token_hash[2 + 64 + 1], max_age[16], user_id[40];
	char login_token[TOKEN_CHARS + 1], login_hash[2 + 64 + 1];
	char new_hash[PASSWORD_HASH_MAX];
	const char *params[8], *stored;
	PGresult *r;
	bool ok;

	if (old != NULL && !authp_hash_ok(old)) {
		log_msg(LOG_WARN, "refused a login request: malformed session hash");
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	params[0] = email;
	r = auth_exec(db, rep, "SELECT user_id, password_hash FROM finicom.auth_login_begin($1)", 1, params);
	if (r == NULL)
		return;
	stored = PQntuples(r) == 1 ? PQgetvalue(r, 0, 1) : NULL;
	ok = password_verify(stored, password);
	if (!ok) {
		clear_wiped(r);
		params[1] = m->field[AUTHP_LOGIN_IP];
		params[2] = m->field[AUTHP_LOGIN_REQUEST_ID];
		r = auth_exec(db, rep, "SELECT finicom.auth_login_failed($1, $2, $3)", 3, params);
		if (r == NULL)
			return;
		PQclear(r);
		reply_start(rep, AUTHP_R_INVALID);
		return;
	}
	new_hash[0] = '\0';
	if (password_needs_rehash(stored) && password_hash(password, new_hash) < 0)
		new_hash[0] = '\0';
	snprintf(user_id, sizeof(user_id), "%s", PQgetvalue(r, 0, 0));
	clear_wiped(r);
	if (token_generate(token) < 0) {
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	/* A session token, and a login token in case the account has two-factor on (sql/0023). */
	if (token_generate(login_token) < 0) {
		OPENSSL_cleanse(token, sizeof(token));
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	sha256_bytea(token, token_hash);
	sha256_bytea(login_token, login_hash);
	snprintf(max_age, sizeof(max_age), "%d", cfg->session_max_age);
	params[0] = user_id;
	params[1] = token_hash;
	params[2] = max_age;
	params[3] = new_hash[0] ? new_hash : NULL;
	params[4] = old;
	params[5] = m->field[AUTHP_LOGIN_IP];
	params[6] = m->field[AUTHP_LOGIN_REQUEST_ID];
	params[7] = login_hash;
	/*
	 * auth_login_proceed: without two-factor, auth_login_complete (the
	 * session); with it, the login token of the second step and no session.
	 */
	r = auth_exec(db, rep,
	    "SELECT totp_required, user_json::text FROM finicom.auth_login_proceed($1, $2, $3, $4, $5, $6, $7, $8)",
	    8, params);
	OPENSSL_cleanse(new_hash, sizeof(new_hash));
	if (r != NULL && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t")) {
		reply_start(rep, AUTHP_R_TOTP_REQUIRED);
		reply_set(rep, 0, login_token);
	} else if (r != NULL && PQntuples(r) == 1 && !PQgetisnull(r, 0, 1)) {
		reply_session(rep, token, PQgetvalue(r, 0, 1));
		describe_session(db, token_hash, m->field[AUTHP_LOGIN_IP], m->field[AUTHP_LOGIN_USER_AGENT]);
	} else if (r != NULL) {
		log_msg(LOG_ERROR, "auth_login_proceed returned no user");
		reply_start(rep, AUTHP_R_FAILED);
	}
	PQclear(r);
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(login_token, sizeof(login_token));
}

/*
 * True when link ends in "/verify/" and a token whose SHA-256 is hash (the
 * mail's link opens the token stored).  Only the token part is checked: the
 * worker built the link from public_url, which a reload may be changing.
 */
static bool
verify_link_ok(const char *link, const char *hash)
{
	const char *at = NULL, *p;
	char mine[2 + 64 + 1];
	bool same;

	for (p = strstr(link, "/verify/"); p != NULL; p = strstr(p + 1, "/verify/"))
		at = p;
	if (at == NULL || at == link || !token_well_formed(at + 8) || !authp_hash_ok(hash))
		return false;
	sha256_bytea(at + 8, mine);
	same = CRYPTO_memcmp(mine, hash, sizeof(mine)) == 0;
	OPENSSL_cleanse(mine, sizeof(mine));
	return same;
}

/*
 * SIGNUP: hash the password, then the account, its first session and its
 * verification mail (the token's hash and the link the worker made) in one
 * transaction (auth_signup_verify, sql/0018).
 */
static void
handle_signup(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep)
{
	char hash[PASSWORD_HASH_MAX], token[TOKEN_CHARS + 1], token_hash[2 + 64 + 1], max_age[16];
	const char *params[9];
	PGresult *r;

	if (!verify_link_ok(m->field[AUTHP_SIGNUP_VERIFY_LINK], m->field[AUTHP_SIGNUP_VERIFY_HASH])) {
		log_msg(LOG_WARN, "refused a signup request: the verification link does not match its hash");
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	if (password_hash(m->field[AUTHP_SIGNUP_PASSWORD], hash) < 0 || token_generate(token) < 0) {
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	sha256_bytea(token, token_hash);
	snprintf(max_age, sizeof(max_age), "%d", cfg->session_max_age);
	params[0] = m->field[AUTHP_SIGNUP_EMAIL];
	params[1] = m->field[AUTHP_SIGNUP_NAME];
	params[2] = hash;
	params[3] = token_hash;
	params[4] = max_age;
	params[5] = m->field[AUTHP_SIGNUP_IP];
	params[6] = m->field[AUTHP_SIGNUP_REQUEST_ID];
	params[7] = m->field[AUTHP_SIGNUP_VERIFY_HASH];
	params[8] = m->field[AUTHP_SIGNUP_VERIFY_LINK];
	r = auth_exec(db, rep,
	    "SELECT finicom.auth_signup_verify($1, $2, $3, $4, $5, $6, $7, $8, $9)::text", 9, params);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r != NULL && (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))) {
		log_msg(LOG_ERROR, "auth_signup_verify returned no user");
		reply_start(rep, AUTHP_R_FAILED);
	} else if (r != NULL) {
		reply_session(rep, token, PQgetvalue(r, 0, 0));
		describe_session(db, token_hash, m->field[AUTHP_SIGNUP_IP], m->field[AUTHP_SIGNUP_USER_AGENT]);
	}
	PQclear(r);
	OPENSSL_cleanse(token, sizeof(token));
}

/* The columns of finicom.invitation_accept_new_user(). */
enum { ACC_OUTCOME, ACC_STATUS, ACC_ORG_ID, ACC_ORG_NAME, ACC_ROLE, ACC_USER };

/*
 * ACCEPT: hash the password, then in one statement the account with the
 * invited email (or the takeover of an unverified account with that
 * email: its name and password replaced, its sessions ended), its session,
 * its verified address and the membership (invitation_accept_new_user,
 * sql/0019); the outcome comes back as the row says.
 */
static void
handle_accept(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep)
{
	char hash[PASSWORD_HASH_MAX], token[TOKEN_CHARS + 1], token_hash[2 + 64 + 1], max_age[16];
	const char *params[7];
	PGresult *r;

	if (!authp_hash_ok(m->field[AUTHP_ACCEPT_INVITATION])) {
		log_msg(LOG_WARN, "refused an accept request: malformed invitation hash");
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	if (password_hash(m->field[AUTHP_ACCEPT_PASSWORD], hash) < 0 || token_generate(token) < 0) {
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	sha256_bytea(token, token_hash);
	snprintf(max_age, sizeof(max_age), "%d", cfg->session_max_age);
	params[0] = m->field[AUTHP_ACCEPT_INVITATION];
	params[1] = m->field[AUTHP_ACCEPT_NAME];
	params[2] = hash;
	params[3] = token_hash;
	params[4] = max_age;
	params[5] = m->field[AUTHP_ACCEPT_IP];
	params[6] = m->field[AUTHP_ACCEPT_REQUEST_ID];
	r = auth_exec(db, rep,
	    "SELECT outcome, status, org_id, org_name, role, user_json"
	    " FROM finicom.invitation_accept_new_user($1, $2, $3, $4, $5, $6, $7)", 7, params);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r != NULL && PQntuples(r) != 1) {
		log_msg(LOG_ERROR, "invitation_accept_new_user returned %d rows", PQntuples(r));
		reply_start(rep, AUTHP_R_FAILED);
	} else if (r != NULL) {
		bool accepted = !strcmp(PQgetvalue(r, 0, ACC_OUTCOME), "ok");
		reply_start(rep, AUTHP_R_ACCEPTED);
		for (int i = ACC_OUTCOME; i <= ACC_USER; i++)
			reply_set(rep, AUTHP_ACCEPTED_OUTCOME + i, PQgetisnull(r, 0, i) ? NULL : PQgetvalue(r, 0, i));
		reply_set(rep, AUTHP_ACCEPTED_TOKEN, accepted ? token : NULL);
		if (accepted)
			describe_session(db, token_hash, m->field[AUTHP_ACCEPT_IP], m->field[AUTHP_ACCEPT_USER_AGENT]);
	}
	PQclear(r);
	OPENSSL_cleanse(token, sizeof(token));
}

/*
 * RESET_REQUEST: make the reset token and its link here, so that no worker
 * ever holds one, then the same statement for a known and an unknown
 * address (finicom.auth_password_reset_request, sql/0022: the throttle,
 * the request's row, the mail when an account has the address).  The
 * token and the link are wiped once the statement is done; the outbox row
 * holds the link until the mailer sends it and scrubs it.
 */
static void
handle_reset_request(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep)
{
	char token[TOKEN_CHARS + 1], token_hash[2 + 64 + 1], link[sizeof(cfg->public_url) + 8 + TOKEN_CHARS];
	const char *params[5] = {m->field[AUTHP_RESET_REQUEST_EMAIL], token_hash, link,
	    m->field[AUTHP_RESET_REQUEST_IP], m->field[AUTHP_RESET_REQUEST_REQUEST_ID]};
	PGresult *r;

	if (token_generate(token) < 0) {
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	sha256_bytea(token, token_hash);
	snprintf(link, sizeof(link), "%s/reset/%s", cfg->public_url, token);
	OPENSSL_cleanse(token, sizeof(token));
	r = auth_exec(db, rep, "SELECT finicom.auth_password_reset_request($1, $2, $3, $4, $5)", 5, params);
	OPENSSL_cleanse(link, sizeof(link));
	if (r != NULL)
		reply_start(rep, AUTHP_R_DONE);
	PQclear(r);
}

/* The columns of finicom.auth_password_reset(). */
enum { RESET_OUTCOME, RESET_STATUS, RESET_USER };

/*
 * RESET: hash the new password, then in one statement the password
 * replaced, every session of the account ended and a new one made, the
 * token spent and the address verified (finicom.auth_password_reset,
 * sql/0022 and 0028); R_REFUSED for a token that is unknown or gone.  When
 * the account has two-factor on, no session is made: R_TOTP_REQUIRED with
 * a login token, as LOGIN's, so the mailbox alone does not sign anyone in.
 * The worker checked the new-password rule before it asked.
 */
static void
handle_reset(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep)
{
	char hash[PASSWORD_HASH_MAX], token[TOKEN_CHARS + 1], token_hash[2 + 64 + 1], max_age[16];
	char login_token[TOKEN_CHARS + 1], login_hash[2 + 64 + 1];
	const char *params[8];
	PGresult *r;

	if (!authp_hash_ok(m->field[AUTHP_RESET_TOKEN])) {
		log_msg(LOG_WARN, "refused a reset request: malformed token hash");
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	if (password_hash(m->field[AUTHP_RESET_PASSWORD], hash) < 0 || token_generate(token) < 0 ||
	    token_generate(login_token) < 0) {
		OPENSSL_cleanse(hash, sizeof(hash));
		OPENSSL_cleanse(token, sizeof(token));
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	sha256_bytea(token, token_hash);
	sha256_bytea(login_token, login_hash);
	snprintf(max_age, sizeof(max_age), "%d", cfg->session_max_age);
	params[0] = m->field[AUTHP_RESET_TOKEN];
	params[1] = hash;
	params[2] = token_hash;
	params[3] = max_age;
	params[4] = m->field[AUTHP_RESET_IP];
	params[5] = m->field[AUTHP_RESET_REQUEST_ID];
	params[6] = m->field[AUTHP_RESET_USER_AGENT];
	params[7] = login_hash;
	r = auth_exec(db, rep,
	    "SELECT outcome, status, user_json FROM finicom.auth_password_reset($1, $2, $3, $4, $5, $6, $7, $8)",
	    8, params);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r != NULL && PQntuples(r) != 1) {
		log_msg(LOG_ERROR, "auth_password_reset returned %d rows", PQntuples(r));
		reply_start(rep, AUTHP_R_FAILED);
	} else if (r != NULL && !strcmp(PQgetvalue(r, 0, RESET_OUTCOME), "ok")) {
		reply_session(rep, token, PQgetvalue(r, 0, RESET_USER));
	} else if (r != NULL && !strcmp(PQgetvalue(r, 0, RESET_OUTCOME), "totp_required")) {
		reply_start(rep, AUTHP_R_TOTP_REQUIRED);
		reply_set(rep, 0, login_token);
	} else if (r != NULL) {
		reply_start(rep, AUTHP_R_REFUSED);
		reply_set(rep, AUTHP_REFUSED_OUTCOME, PQgetvalue(r, 0, RESET_OUTCOME));
		reply_set(rep, AUTHP_REFUSED_STATUS, PQgetisnull(r, 0, RESET_STATUS) ? NULL : PQgetvalue(r, 0, RESET_STATUS));
	}
	PQclear(r);
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(login_token, sizeof(login_token));
}

/*
 * PASSWORD: the hash of the asking session's account (counted in the
 * login throttle: F0429 while throttled), verify the current password
 * (R_INVALID when wrong), hash the new one and store it, ending every
 * other session (finicom.auth_password_change_begin and _change, sql/0022).
 * A session that is not the user's live one gets R_INVALID too.
 */
static void
handle_password(struct db *db, const struct authp_msg *m, struct reply *rep)
{
	char hash[PASSWORD_HASH_MAX];
	const char *params[5] = {m->field[AUTHP_PASSWORD_USER], m->field[AUTHP_PASSWORD_SESSION]};
	PGresult *r;
	bool ok;

	if (!authp_hash_ok(m->field[AUTHP_PASSWORD_SESSION])) {
		log_msg(LOG_WARN, "refused a password change: malformed session hash");
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	r = auth_exec(db, rep, "SELECT password_hash FROM finicom.auth_password_change_begin($1, $2)", 2, params);
	if (r == NULL)
		return;
	ok = PQntuples(r) == 1 && password_verify(PQgetvalue(r, 0, 0), m->field[AUTHP_PASSWORD_CURRENT]);
	clear_wiped(r);
	if (!ok) {
		reply_start(rep, AUTHP_R_INVALID);
		return;
	}
	if (password_hash(m->field[AUTHP_PASSWORD_NEW], hash) < 0) {
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	params[2] = hash;
	params[3] = m->field[AUTHP_PASSWORD_IP];
	params[4] = m->field[AUTHP_PASSWORD_REQUEST_ID];
	r = auth_exec(db, rep, "SELECT finicom.auth_password_change($1, $2, $3, $4, $5)", 5, params);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r != NULL)
		reply_start(rep, !strcmp(PQgetvalue(r, 0, 0), "t") ? AUTHP_R_DONE : AUTHP_R_INVALID);
	PQclear(r);
}

/* True when the worker on the other end of fd has closed it (stopped waiting). */
static bool
peer_gone(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = 0};

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/*
 * Take the next record and its reply socket.  Returns the record's length
 * with *reply_fd set, 0 for a record to drop (its socket, if any, closed),
 * or -1 when interrupted or the queue failed.
 */
static long
take(unsigned char *buf, size_t cap, int *reply_fd)
{
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
	    .msg_controllen = sizeof(control.space)};
	struct cmsghdr *c;
	ssize_t n;
	int fds = 0;

	*reply_fd = -1;
	n = recvmsg(queue, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fds++ == 0)
				*reply_fd = fd;
			else
				close(fd);
		}
	}
	if (fds != 1 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		log_msg(LOG_WARN, "dropped a malformed request record (%d descriptors%s)", fds,
		    msg.msg_flags & MSG_TRUNC ? ", truncated" : "");
		if (*reply_fd >= 0)
			close(*reply_fd);
		*reply_fd = -1;
		OPENSSL_cleanse(buf, cap);
		return 0;
	}
	return (long)n;
}

/* Answer one request: rep gets the reply. */
static void
serve(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep)
{
	switch (m->type) {
	case AUTHP_LOGIN:
		handle_login(cfg, db, m, rep);
		break;
	case AUTHP_SIGNUP:
		handle_signup(cfg, db, m, rep);
		break;
	case AUTHP_ACCEPT:
		handle_accept(cfg, db, m, rep);
		break;
	case AUTHP_RESET_REQUEST:
		handle_reset_request(cfg, db, m, rep);
		break;
	case AUTHP_RESET:
		handle_reset(cfg, db, m, rep);
		break;
	case AUTHP_PASSWORD:
		handle_password(db, m, rep);
		break;
	case AUTHP_TOTP_ENROL:
		handle_totp_enrol(db, m, rep);
		break;
	case AUTHP_TOTP_CONFIRM:
		handle_totp_confirm(db, m, rep);
		break;
	case AUTHP_TOTP_DISABLE:
		handle_totp_disable(db, m, rep);
		break;
	case AUTHP_LOGIN_TOTP:
		handle_login_totp(cfg, db, m, rep);
		break;
	default:
		reply_start(rep, AUTHP_R_FAILED);
	}
}

int
privsep_auth_run(const struct config *cfg, int queue_fd)
{
	static unsigned char buf[AUTHP_MSG_MAX], out[AUTHP_MSG_MAX];
	static char text[AUTHP_MSG_MAX];
	static struct reply rep;
	char conninfo[CONFIG_PATH_MAX + 32];
	struct sigaction sa;
	struct db db;

	log_set_process("finicomd-auth");
	prctl(PR_SET_NAME, "finicomd-auth");
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_terminate; /* no SA_RESTART: recvmsg() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	/* ^C in a terminal reaches the whole group: the master stops us after the workers. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	queue = queue_fd;
	devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (config_auth_conninfo(cfg, conninfo, sizeof(conninfo)) < 0) {
		log_msg(LOG_ERROR, "the auth processes' connection string is too long");
		return 1;
	}
	db_init(&db, conninfo, "finicomd-auth");
	db_connection(&db); /* connect now if we can; requests retry otherwise */
	password_warm();    /* so the first unknown-email login costs what later ones do */
	log_msg(LOG_INFO, "auth process ready");
	metrics_ready(); /* for finicomd's READY=1 (src/metrics.h) */

	while (!stopping) {
		struct authp_msg m;
		const char *why;
		int reply_fd;
		long n = take(buf, sizeof(buf), &reply_fd), len;

		if (n < 0) {
			if (stopping || errno == EINTR)
				continue;
			log_msg(LOG_ERROR, "could not read the request queue: %s", strerror(errno));
			return 1;
		}
		if (n == 0)
			continue;
		if (authp_decode(buf, (size_t)n, &m, text, sizeof(text), &why) < 0 ||
		    !authp_is_request(m.type)) {
			log_msg(LOG_WARN, "refused a request: %s", why ? why : "not a request");
			reply_start(&rep, AUTHP_R_FAILED);
		} else if (now_ns() > m.deadline_ns || peer_gone(reply_fd)) {
			/* Its worker has answered 503 already: doing it now would surprise. */
			log_msg(LOG_WARN, "dropped a request its worker no longer waits for");
			close(reply_fd);
			OPENSSL_cleanse(buf, sizeof(buf));
			OPENSSL_cleanse(text, sizeof(text));
			continue;
		} else {
			serve(cfg, &db, &m, &rep);
		}
		len = authp_encode(&rep.msg, out, sizeof(out), &why);
		if (len < 0) {
			log_msg(LOG_ERROR, "could not encode a reply: %s", why);
			reply_start(&rep, AUTHP_R_FAILED);
			len = authp_encode(&rep.msg, out, sizeof(out), &why);
		}
		if (send(reply_fd, out, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len)
			log_msg(LOG_WARN, "could not answer a worker: %s", strerror(errno));
		close(reply_fd);
		OPENSSL_cleanse(buf, sizeof(buf));
		OPENSSL_cleanse(text, sizeof(text));
		OPENSSL_cleanse(out, (size_t)len);
		OPENSSL_cleanse(rep.text, sizeof(rep.text));
	}
	db_close(&db);
	log_msg(LOG_INFO, "auth process stopped");
	return 0;
}
