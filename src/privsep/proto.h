/*
 * proto: the messages between the workers and the auth processes.
 *
 * One message is one SOCK_SEQPACKET record of at most AUTHP_MSG_MAX bytes:
 *
 *   version  u8     AUTHP_VERSION
 *   type     u8     enum authp_type
 *   nfields  u8     exactly the type's count
 *   zero     u8     0
 *   deadline u64    requests: CLOCK_MONOTONIC nanoseconds after which the
 *                   worker no longer waits (the auth process drops it);
 *                   replies: 0
 *   fields   nfields times: u16 length, then that many bytes; the length
 *                   0xffff is an absent field (SQL NULL)
 *
 * Integers are big-endian.  Every field of every type has a maximum length
 * and says whether it may be absent (the table in proto.c); no field may
 * contain a NUL byte (fields become libpq text parameters), and the fields
 * must fill the record exactly.  A message that breaks any of it is
 * refused whole, by the encoder and by the decoder.
 *
 * Requests (worker → auth process), with the reply each may get besides
 * R_DB_ERROR (a failed statement: its SQLSTATE and fields, which the
 * worker answers as it answers its own database errors) and R_FAILED
 * (an internal error: 500):
 *   LOGIN   email, password, old session's hash (or absent), client
 *           address, request id           → R_SESSION or R_INVALID
 *   SIGNUP  email, name, password, client address, request id, the
 *           verification token's hash, the verification link (the mail's
 *           {public_url}/verify/{token}: the token's only copy besides
 *           the mail)                     → R_SESSION
 *   ACCEPT  invitation token's hash, name, password, client address,
 *           request id                    → R_ACCEPTED
 *   RESET_REQUEST  email, client address, request id: the auth process
 *           makes the reset token and its link {public_url}/reset/{token}
 *           and queues the mail (for a known address)   → R_DONE
 *   RESET   reset token's hash, new password, client address, request id,
 *           User-Agent                    → R_SESSION or R_REFUSED, or
 *           R_TOTP_REQUIRED when the account has two-factor on
 *   PASSWORD  user id, the asking session's hash, current password, new
 *           password, client address, request id
 *                                         → R_DONE or R_INVALID
 * LOGIN, SIGNUP and ACCEPT end with the client's User-Agent (or absent),
 * which the new session records.
 *   LOGIN may also get R_TOTP_REQUIRED (the password was right, the
 *           account has two-factor on: a login token, no session)
 *   TOTP_ENROL    session's hash, (absent), client address, request id
 *                                         → R_TOTP_SECRET
 *   TOTP_CONFIRM  session's hash, code, client address, request id
 *                                         → R_CODES or R_INVALID
 *   TOTP_DISABLE  session's hash, code, client address, request id
 *                                         → R_DONE or R_INVALID
 *   LOGIN_TOTP    login token's hash, code, old session's hash (or
 *           absent), client address, request id → R_SESSION or R_INVALID
 * Hashes travel as bytea text ("\x" and 64 hex digits).  The password
 * travels because the auth process verifies or hashes it; nothing that
 * comes back holds a password hash.  The verification link travels because
 * the auth process writes the mail in the signup's transaction; like the
 * password it is wiped on both sides and never logged.
 */
#ifndef FINICOM_PRIVSEP_PROTO_H
#define FINICOM_PRIVSEP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTHP_VERSION 1
#define AUTHP_MSG_MAX 8192
#define AUTHP_HEADER 12
#define AUTHP_FIELDS_MAX 8
#define AUTHP_ABSENT 0xffff

enum authp_type {
	AUTHP_LOGIN = 1,
	AUTHP_SIGNUP = 2,
	AUTHP_ACCEPT = 3,
	AUTHP_RESET_REQUEST = 4,
	AUTHP_RESET = 5,
	AUTHP_PASSWORD = 6,
	AUTHP_TOTP_ENROL = 7,    /* two-factor (docs/two-factor.md) */
	AUTHP_TOTP_CONFIRM = 8,
	AUTHP_TOTP_DISABLE = 9,
	AUTHP_LOGIN_TOTP = 10,
	AUTHP_R_SESSION = 0x41,  /* token, user JSON */
	AUTHP_R_INVALID = 0x42,  /* wrong email or password: nothing */
	AUTHP_R_ACCEPTED = 0x43, /* outcome, status, org id, org name, role, user JSON, token */
	AUTHP_R_DB_ERROR = 0x44, /* SQLSTATE, message, detail, hint, column, constraint, table */
	AUTHP_R_FAILED = 0x45,   /* nothing */
	AUTHP_R_DONE = 0x46,     /* nothing: done */
	AUTHP_R_REFUSED = 0x47,  /* outcome (not_found, gone), status (used, replaced, expired) */
	AUTHP_R_TOTP_SECRET = 0x48,   /* the new secret (base32), the user's email */
	AUTHP_R_CODES = 0x49,         /* the ten recovery codes, space-separated */
	AUTHP_R_TOTP_REQUIRED = 0x4a, /* the login token of the second step */
};

/* Field positions, by type. */
enum { AUTHP_LOGIN_EMAIL, AUTHP_LOGIN_PASSWORD, AUTHP_LOGIN_OLD_SESSION, AUTHP_LOGIN_IP,
	AUTHP_LOGIN_REQUEST_ID, AUTHP_LOGIN_USER_AGENT };
enum { AUTHP_SIGNUP_EMAIL, AUTHP_SIGNUP_NAME, AUTHP_SIGNUP_PASSWORD, AUTHP_SIGNUP_IP,
	AUTHP_SIGNUP_REQUEST_ID, AUTHP_SIGNUP_VERIFY_HASH, AUTHP_SIGNUP_VERIFY_LINK, AUTHP_SIGNUP_USER_AGENT };
enum { AUTHP_ACCEPT_INVITATION, AUTHP_ACCEPT_NAME, AUTHP_ACCEPT_PASSWORD, AUTHP_ACCEPT_IP,
	AUTHP_ACCEPT_REQUEST_ID, AUTHP_ACCEPT_USER_AGENT };
enum { AUTHP_RESET_REQUEST_EMAIL, AUTHP_RESET_REQUEST_IP, AUTHP_RESET_REQUEST_REQUEST_ID };
enum { AUTHP_RESET_TOKEN, AUTHP_RESET_PASSWORD, AUTHP_RESET_IP, AUTHP_RESET_REQUEST_ID,
	AUTHP_RESET_USER_AGENT };
enum { AUTHP_PASSWORD_USER, AUTHP_PASSWORD_SESSION, AUTHP_PASSWORD_CURRENT, AUTHP_PASSWORD_NEW,
	AUTHP_PASSWORD_IP, AUTHP_PASSWORD_REQUEST_ID };
enum { AUTHP_REFUSED_OUTCOME, AUTHP_REFUSED_STATUS };
/* The two-factor requests: the session's hash (enrol, confirm, disable) or the login token's. */
enum { AUTHP_TOTP_SESSION, AUTHP_TOTP_CODE, AUTHP_TOTP_IP, AUTHP_TOTP_REQUEST_ID };
enum { AUTHP_LOGIN_TOTP_TOKEN, AUTHP_LOGIN_TOTP_CODE, AUTHP_LOGIN_TOTP_OLD_SESSION, AUTHP_LOGIN_TOTP_IP,
	AUTHP_LOGIN_TOTP_REQUEST_ID, AUTHP_LOGIN_TOTP_USER_AGENT };
enum { AUTHP_SECRET_BASE32, AUTHP_SECRET_EMAIL };
enum { AUTHP_SESSION_TOKEN, AUTHP_SESSION_USER };
enum { AUTHP_ACCEPTED_OUTCOME, AUTHP_ACCEPTED_STATUS, AUTHP_ACCEPTED_ORG_ID, AUTHP_ACCEPTED_ORG_NAME,
	AUTHP_ACCEPTED_ROLE, AUTHP_ACCEPTED_USER, AUTHP_ACCEPTED_TOKEN };
enum { AUTHP_DB_SQLSTATE, AUTHP_DB_MESSAGE, AUTHP_DB_DETAIL, AUTHP_DB_HINT, AUTHP_DB_COLUMN,
	AUTHP_DB_CONSTRAINT, AUTHP_DB_TABLE };

/*
 * A message.  field[i] is NUL-terminated text (NULL when absent); after
 * authp_decode it points into the caller's text buffer.
 */
struct authp_msg {
	uint8_t type;
	uint64_t deadline_ns;
	int nfields;
	const char *field[AUTHP_FIELDS_MAX];
};

/* Start a message of type with all of its fields absent (nfields from the table). */
void authp_init(struct authp_msg *m, enum authp_type type);

/* The longest field i of type may be (0 when there is no such field). */
size_t authp_field_max(enum authp_type type, int i);

/*
 * Encode m into buf (cap bytes).  Returns the length, or -1 (and *why)
 * when m is not a valid message of its type.  buf holds what m holds
 * (a password): the caller wipes it.
 */
long authp_encode(const struct authp_msg *m, unsigned char *buf, size_t cap, const char **why);

/*
 * Decode the record buf[0..n) into m, copying the fields NUL-terminated
 * into text (cap bytes; n is always enough).  Returns 0, or -1 (and *why)
 * for anything but a valid message of a known type.
 */
int authp_decode(const unsigned char *buf, size_t n, struct authp_msg *m, char *text, size_t cap,
    const char **why);

/* True for a request type (LOGIN, SIGNUP, ACCEPT, RESET_REQUEST, RESET, PASSWORD). */
bool authp_is_request(uint8_t type);

/* True for "\x" and 64 lowercase hex digits: the bytea text of a SHA-256. */
bool authp_hash_ok(const char *s);

#endif
