/*
 * proto: encoding and decoding of the auth process's messages.  See
 * proto.h; the limits of every field are the table below.
 */
#include "privsep/proto.h"

#include <string.h>

#include "http.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/email.h"
#include "util/password.h"
#include "util/totp.h"
#include "validate.h"

/* The text of a SHA-256 as bytea: "\x" and 64 hex digits. */
#define HASH_TEXT 66
/* 200 characters of UTF-8 (validate.c's names). */
#define NAME_BYTES (4 * NAME_MAX_CHARS)
/* A verification link: public_url, "/verify/" and a token. */
#define LINK_BYTES (sizeof(((struct config *)0)->public_url) - 1 + sizeof("/verify/") - 1 + TOKEN_CHARS)
/* A code as the client sent it (validated by the worker: 64 bytes at most). */
#define CODE_BYTES 64
/* A user's JSON as the database prints it: email and name, escaped, and a few keys. */
#define USER_JSON_BYTES 4096

struct field_spec {
	uint16_t max;
	bool absent_ok;
};

struct type_spec {
	uint8_t type;
	int nfields;
	struct field_spec fields[AUTHP_FIELDS_MAX];
};

static const struct type_spec types[] = {
	{AUTHP_LOGIN, 6, {
		{EMAIL_MAX, false},         /* AUTHP_LOGIN_EMAIL */
		{PASSWORD_MAX_BYTES, false}, /* AUTHP_LOGIN_PASSWORD */
		{HASH_TEXT, true},           /* AUTHP_LOGIN_OLD_SESSION */
		{255, true},                 /* AUTHP_LOGIN_IP */
		{64, false},                 /* AUTHP_LOGIN_REQUEST_ID */
		{HTTP_USER_AGENT_MAX, true}, /* AUTHP_LOGIN_USER_AGENT */
	}},
	{AUTHP_SIGNUP, 8, {
		{EMAIL_MAX, false},         /* AUTHP_SIGNUP_EMAIL */
		{NAME_BYTES, false},         /* AUTHP_SIGNUP_NAME */
		{PASSWORD_MAX_BYTES, false}, /* AUTHP_SIGNUP_PASSWORD */
		{255, true},                 /* AUTHP_SIGNUP_IP */
		{64, false},                 /* AUTHP_SIGNUP_REQUEST_ID */
		{HASH_TEXT, false},          /* AUTHP_SIGNUP_VERIFY_HASH */
		{LINK_BYTES, false},         /* AUTHP_SIGNUP_VERIFY_LINK */
		{HTTP_USER_AGENT_MAX, true}, /* AUTHP_SIGNUP_USER_AGENT */
	}},
	{AUTHP_ACCEPT, 6, {
		{HASH_TEXT, false},          /* AUTHP_ACCEPT_INVITATION */
		{NAME_BYTES, false},         /* AUTHP_ACCEPT_NAME */
		{PASSWORD_MAX_BYTES, false}, /* AUTHP_ACCEPT_PASSWORD */
		{255, true},                 /* AUTHP_ACCEPT_IP */
		{64, false},                 /* AUTHP_ACCEPT_REQUEST_ID */
		{HTTP_USER_AGENT_MAX, true}, /* AUTHP_ACCEPT_USER_AGENT */
	}},
	{AUTHP_RESET_REQUEST, 3, {
		{EMAIL_MAX, false},          /* AUTHP_RESET_REQUEST_EMAIL */
		{255, true},                 /* AUTHP_RESET_REQUEST_IP */
		{64, false},                 /* AUTHP_RESET_REQUEST_REQUEST_ID */
	}},
	{AUTHP_RESET, 5, {
		{HASH_TEXT, false},          /* AUTHP_RESET_TOKEN */
		{PASSWORD_MAX_BYTES, false}, /* AUTHP_RESET_PASSWORD */
		{255, true},                 /* AUTHP_RESET_IP */
		{64, false},                 /* AUTHP_RESET_REQUEST_ID */
		{HTTP_USER_AGENT_MAX, true}, /* AUTHP_RESET_USER_AGENT */
	}},
	{AUTHP_PASSWORD, 6, {
		{36, false},                 /* AUTHP_PASSWORD_USER */
		{HASH_TEXT, false},          /* AUTHP_PASSWORD_SESSION */
		{PASSWORD_MAX_BYTES, false}, /* AUTHP_PASSWORD_CURRENT */
		{PASSWORD_MAX_BYTES, false}, /* AUTHP_PASSWORD_NEW */
		{255, true},                 /* AUTHP_PASSWORD_IP */
		{64, false},                 /* AUTHP_PASSWORD_REQUEST_ID */
	}},
	{AUTHP_TOTP_ENROL, 4, {
		{HASH_TEXT, false},          /* AUTHP_TOTP_SESSION */
		{0, true},                   /* AUTHP_TOTP_CODE: absent */
		{255, true},                 /* AUTHP_TOTP_IP */
		{64, false},                 /* AUTHP_TOTP_REQUEST_ID */
	}},
	{AUTHP_TOTP_CONFIRM, 4, {
		{HASH_TEXT, false},          /* AUTHP_TOTP_SESSION */
		{CODE_BYTES, false},         /* AUTHP_TOTP_CODE */
		{255, true},                 /* AUTHP_TOTP_IP */
		{64, false},                 /* AUTHP_TOTP_REQUEST_ID */
	}},
	{AUTHP_TOTP_DISABLE, 4, {
		{HASH_TEXT, false},          /* AUTHP_TOTP_SESSION */
		{CODE_BYTES, false},         /* AUTHP_TOTP_CODE */
		{255, true},                 /* AUTHP_TOTP_IP */
		{64, false},                 /* AUTHP_TOTP_REQUEST_ID */
	}},
	{AUTHP_LOGIN_TOTP, 6, {
		{HASH_TEXT, false},          /* AUTHP_LOGIN_TOTP_TOKEN */
		{CODE_BYTES, false},         /* AUTHP_LOGIN_TOTP_CODE */
		{HASH_TEXT, true},           /* AUTHP_LOGIN_TOTP_OLD_SESSION */
		{255, true},                 /* AUTHP_LOGIN_TOTP_IP */
		{64, false},                 /* AUTHP_LOGIN_TOTP_REQUEST_ID */
		{HTTP_USER_AGENT_MAX, true}, /* AUTHP_LOGIN_TOTP_USER_AGENT */
	}},
	{AUTHP_R_TOTP_SECRET, 2, {
		{TOTP_SECRET_CHARS, false},  /* AUTHP_SECRET_BASE32 */
		{EMAIL_MAX, false},          /* AUTHP_SECRET_EMAIL */
	}},
	{AUTHP_R_CODES, 1, {
		{RECOVERY_CODES * (RECOVERY_SHOWN + 1), false}, /* space-separated */
	}},
	{AUTHP_R_TOTP_REQUIRED, 1, {
		{TOKEN_CHARS, false},        /* the login token */
	}},
	{AUTHP_R_SESSION, 2, {
		{TOKEN_CHARS, false},        /* AUTHP_SESSION_TOKEN */
		{USER_JSON_BYTES, false},    /* AUTHP_SESSION_USER */
	}},
	{AUTHP_R_INVALID, 0, {{0, false}}},
	{AUTHP_R_ACCEPTED, 7, {
		{32, false},                 /* AUTHP_ACCEPTED_OUTCOME */
		{16, true},                  /* AUTHP_ACCEPTED_STATUS */
		{36, true},                  /* AUTHP_ACCEPTED_ORG_ID */
		{NAME_BYTES, true},          /* AUTHP_ACCEPTED_ORG_NAME */
		{16, true},                  /* AUTHP_ACCEPTED_ROLE */
		{USER_JSON_BYTES, true},     /* AUTHP_ACCEPTED_USER */
		{TOKEN_CHARS, true},         /* AUTHP_ACCEPTED_TOKEN */
	}},
	{AUTHP_R_DB_ERROR, 7, {
		{5, false},                  /* AUTHP_DB_SQLSTATE */
		{256, true},                 /* AUTHP_DB_MESSAGE */
		{512, true},                 /* AUTHP_DB_DETAIL */
		{256, true},                 /* AUTHP_DB_HINT */
		{64, true},                  /* AUTHP_DB_COLUMN */
		{64, true},                  /* AUTHP_DB_CONSTRAINT */
		{64, true},                  /* AUTHP_DB_TABLE */
	}},
	{AUTHP_R_FAILED, 0, {{0, false}}},
	{AUTHP_R_DONE, 0, {{0, false}}},
	{AUTHP_R_REFUSED, 2, {
		{32, false},                 /* AUTHP_REFUSED_OUTCOME */
		{16, true},                  /* AUTHP_REFUSED_STATUS */
	}},
};

static const struct type_spec *
spec_of(uint8_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

void
authp_init(struct authp_msg *m, enum authp_type type)
{
	const struct type_spec *t = spec_of((uint8_t)type);

	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
	m->nfields = t ? t->nfields : 0;
}

size_t
authp_field_max(enum authp_type type, int i)
{
	const struct type_spec *t = spec_of((uint8_t)type);

	return t != NULL && i >= 0 && i < t->nfields ? t->fields[i].max : 0;
}

bool
authp_is_request(uint8_t type)
{
	return type == AUTHP_LOGIN || type == AUTHP_SIGNUP || type == AUTHP_ACCEPT ||
	    type == AUTHP_RESET_REQUEST || type == AUTHP_RESET || type == AUTHP_PASSWORD ||
	    (type >= AUTHP_TOTP_ENROL && type <= AUTHP_LOGIN_TOTP);
}

bool
authp_hash_ok(const char *s)
{
	if (s == NULL || strncmp(s, "\\x", 2) != 0 || strlen(s) != HASH_TEXT)
		return false;
	return strspn(s + 2, "0123456789abcdef") == HASH_TEXT - 2;
}

long
authp_encode(const struct authp_msg *m, unsigned char *buf, size_t cap, const char **why)
{
	const struct type_spec *t = spec_of(m->type);
	size_t o = AUTHP_HEADER;

	if (t == NULL || m->nfields != t->nfields) {
		*why = "unknown type or wrong number of fields";
		return -1;
	}
	if (cap < AUTHP_HEADER) {
		*why = "buffer too small";
		return -1;
	}
	buf[0] = AUTHP_VERSION;
	buf[1] = m->type;
	buf[2] = (unsigned char)t->nfields;
	buf[3] = 0;
	for (int i = 0; i < 8; i++)
		buf[4 + i] = (unsigned char)(m->deadline_ns >> (56 - 8 * i));
	for (int i = 0; i < t->nfields; i++) {
		const char *f = m->field[i];
		size_t len = f ? strlen(f) : 0;

		if (f == NULL && !t->fields[i].absent_ok) {
			*why = "a required field is absent";
			return -1;
		}
		if (len > t->fields[i].max) {
			*why = "a field is too long";
			return -1;
		}
		if (o + 2 + len > cap) {
			*why = "message too large";
			return -1;
		}
		if (f == NULL) {
			buf[o++] = 0xff;
			buf[o++] = 0xff;
			continue;
		}
		buf[o++] = (unsigned char)(len >> 8);
		buf[o++] = (unsigned char)len;
		memcpy(buf + o, f, len);
		o += len;
	}
	return (long)o;
}

int
authp_decode(const unsigned char *buf, size_t n, struct authp_msg *m, char *text, size_t cap,
    const char **why)
{
	const struct type_spec *t;
	size_t o = AUTHP_HEADER, used = 0;

	memset(m, 0, sizeof(*m));
	if (n < AUTHP_HEADER || n > AUTHP_MSG_MAX) {
		*why = "message too short or too long";
		return -1;
	}
	if (buf[0] != AUTHP_VERSION) {
		*why = "unknown protocol version";
		return -1;
	}
	t = spec_of(buf[1]);
	if (t == NULL || buf[2] != t->nfields || buf[3] != 0) {
		*why = "unknown type or wrong number of fields";
		return -1;
	}
	m->type = buf[1];
	m->nfields = t->nfields;
	for (int i = 0; i < 8; i++)
		m->deadline_ns = (m->deadline_ns << 8) | buf[4 + i];
	for (int i = 0; i < t->nfields; i++) {
		size_t len;

		if (n - o < 2) {
			*why = "message ends inside a field";
			return -1;
		}
		len = (size_t)buf[o] << 8 | buf[o + 1];
		o += 2;
		if (len == AUTHP_ABSENT) {
			if (!t->fields[i].absent_ok) {
				*why = "a required field is absent";
				return -1;
			}
			continue;
		}
		if (len > t->fields[i].max || len > n - o) {
			*why = "a field is too long";
			return -1;
		}
		if (memchr(buf + o, '\0', len) != NULL) {
			*why = "a field holds a NUL byte";
			return -1;
		}
		if (used + len + 1 > cap) {
			*why = "buffer too small";
			return -1;
		}
		memcpy(text + used, buf + o, len);
		text[used + len] = '\0';
		m->field[i] = text + used;
		used += len + 1;
		o += len;
	}
	if (o != n) {
		*why = "bytes after the last field";
		return -1;
	}
	return 0;
}
