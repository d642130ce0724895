/*
 * test_privsep: the auth processes' messages (src/privsep/proto.c).  valid[]
 * messages encode and decode back to themselves; invalid[] records are
 * refused whole by the decoder, and messages that break their type's limits
 * by the encoder.
 */
#include <stdlib.h>

#include "privsep/proto.h"
#include "tap.h"
#include "util/password.h"

static char long_password[PASSWORD_MAX_BYTES + 2];
static char max_password[PASSWORD_MAX_BYTES + 1];

/* A record by hand: header, then (len, text) pairs; len -1 = absent. */
static size_t
record(unsigned char *buf, int version, int type, int nfields, int zero, const int *lens, const char *const *texts)
{
	size_t o = AUTHP_HEADER;

	buf[0] = (unsigned char)version;
	buf[1] = (unsigned char)type;
	buf[2] = (unsigned char)nfields;
	buf[3] = (unsigned char)zero;
	memset(buf + 4, 0x7f, 8);
	for (int i = 0; lens[i] != -2; i++) {
		if (lens[i] == -1) {
			buf[o++] = 0xff;
			buf[o++] = 0xff;
			continue;
		}
		buf[o++] = (unsigned char)(lens[i] >> 8);
		buf[o++] = (unsigned char)lens[i];
		memcpy(buf + o, texts[i], (size_t)lens[i]);
		o += (size_t)lens[i];
	}
	return o;
}

static void
test_privsep_round_trips(void)
{
	static const struct {
		enum authp_type type;
		const char *fields[AUTHP_FIELDS_MAX];
		const char *name;
	} valid[] = {
		{AUTHP_LOGIN, {"a@example.test", "correct horse", NULL, "127.0.0.1", "rid-1"}, "login without old session"},
		{AUTHP_LOGIN, {"a@example.test", "pw-12345", "\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		    "::1", "rid"}, "login with old session"},
		{AUTHP_LOGIN, {"a@example.test", "", NULL, NULL, "r"}, "login with an empty password and no address"},
		{AUTHP_SIGNUP, {"b@example.test", "Bé Ñame ☃", "pw-12345", "10.0.0.1", "rid",
		    "\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		    "http://127.0.0.1:8080/verify/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"},
		    "signup with UTF-8 name and its verification mail"},
		{AUTHP_ACCEPT, {"\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "N", "pw-12345",
		    "10.0.0.1", "rid"}, "accept"},
		{AUTHP_LOGIN, {"a@example.test", "pw-12345", NULL, "::1", "rid", "Mozilla/5.0 (X11; Linux x86_64)"},
		    "login with a User-Agent"},
		{AUTHP_RESET_REQUEST, {"a@example.test", "10.0.0.1", "rid"}, "password reset request"},
		{AUTHP_RESET, {"\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "pw-12345",
		    "10.0.0.1", "rid", "curl/8"}, "password reset"},
		{AUTHP_PASSWORD, {"6f0c0000-0000-0000-0000-000000000000",
		    "\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "old-pass-1", "new-pass-2",
		    NULL, "rid"}, "password change"},
		{AUTHP_R_DONE, {NULL}, "done reply (no fields)"},
		{AUTHP_R_REFUSED, {"gone", "used"}, "refused reply"},
		{AUTHP_R_SESSION, {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "{\"id\" : \"x\"}"}, "session reply"},
		{AUTHP_R_INVALID, {NULL}, "invalid reply (no fields)"},
		{AUTHP_R_ACCEPTED, {"gone", "expired", NULL, NULL, NULL, NULL, NULL}, "accepted reply, gone"},
		{AUTHP_R_ACCEPTED, {"ok", "accepted", "6f0c0000-0000-0000-0000-000000000000", "Acme", "read", "{}",
		    "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"}, "accepted reply, ok"},
		{AUTHP_R_DB_ERROR, {"F0429", "rate_limited", "too many", "3", NULL, NULL, NULL}, "db error reply"},
		{AUTHP_R_FAILED, {NULL}, "failed reply"},
	};

	for (size_t t = 0; t < sizeof(valid) / sizeof(valid[0]); t++) {
		struct authp_msg m, back;
		unsigned char buf[AUTHP_MSG_MAX];
		char text[AUTHP_MSG_MAX];
		const char *why = NULL;
		long n;
		bool same = true;

		authp_init(&m, valid[t].type);
		m.deadline_ns = 0x0102030405060708ull * (t + 1);
		for (int i = 0; i < m.nfields; i++)
			m.field[i] = valid[t].fields[i];
		n = authp_encode(&m, buf, sizeof(buf), &why);
		ok(n >= AUTHP_HEADER, "test-privsep-encode %s (%s)", valid[t].name, n < 0 ? why : "ok");
		if (n < 0)
			continue;
		ok(authp_decode(buf, (size_t)n, &back, text, (size_t)n, &why) == 0,
		    "test-privsep-decode %s, into a text buffer of the record's length", valid[t].name);
		same = back.type == m.type && back.nfields == m.nfields && back.deadline_ns == m.deadline_ns;
		for (int i = 0; same && i < m.nfields; i++)
			same = m.field[i] == NULL ? back.field[i] == NULL
			                          : back.field[i] != NULL && strcmp(m.field[i], back.field[i]) == 0;
		ok(same, "test-privsep-round-trip %s: type, deadline and every field", valid[t].name);
	}
}

static void
test_privsep_bad_records(void)
{
	static const char *const t5[] = {"a@example.test", "password", "x", "127.0.0.1", "rid", "ua"};
	static const struct {
		int version, type, nfields, zero;
		int lens[AUTHP_FIELDS_MAX + 2];
		size_t extra; /* bytes after the fields */
		size_t cut;   /* bytes taken off the end */
		const char *name;
	} invalid[] = {
		{2, AUTHP_LOGIN, 6, 0, {14, 8, -1, 9, 3, -1, -2}, 0, 0, "test-privsep-bad-version"},
		{1, 9, 5, 0, {14, 8, -1, 9, 3, -1, -2}, 0, 0, "test-privsep-bad-type"},
		{1, AUTHP_LOGIN, 4, 0, {14, 8, -1, 9, -2}, 0, 0, "test-privsep-bad-field-count"},
		{1, AUTHP_LOGIN, 6, 1, {14, 8, -1, 9, 3, -1, -2}, 0, 0, "test-privsep-bad-reserved-byte"},
		{1, AUTHP_LOGIN, 6, 0, {14, 8, -1, 9, 3, -1, -2}, 1, 0, "test-privsep-bad-trailing-byte"},
		{1, AUTHP_LOGIN, 6, 0, {14, 8, -1, 9, 3, -1, -2}, 0, 1, "test-privsep-bad-truncated-field"},
		{1, AUTHP_LOGIN, 6, 0, {14, 8, -1, 9, 3, -1, -2}, 0, 2, "test-privsep-bad-missing-field"},
		{1, AUTHP_LOGIN, 6, 0, {-1, 8, -1, 9, 3, -1, -2}, 0, 0, "test-privsep-bad-required-field-absent"},
		{1, AUTHP_LOGIN, 6, 0, {14, 8, 1, 9, 3, -1, -2}, 0, 0, "test-privsep-bad-old-session-short (decodes; hash check refuses)"},
	};
	unsigned char buf[AUTHP_MSG_MAX + 16];
	char text[AUTHP_MSG_MAX];
	struct authp_msg m;
	const char *why;

	for (size_t t = 0; t < sizeof(invalid) / sizeof(invalid[0]); t++) {
		size_t n = record(buf, invalid[t].version, invalid[t].type, invalid[t].nfields, invalid[t].zero,
		    invalid[t].lens, t5);
		int rc;

		memset(buf + n, 'x', invalid[t].extra);
		n += invalid[t].extra;
		n -= invalid[t].cut;
		why = NULL;
		rc = authp_decode(buf, n, &m, text, sizeof(text), &why);
		if (t == sizeof(invalid) / sizeof(invalid[0]) - 1)
			ok(rc == 0 && !authp_hash_ok(m.field[AUTHP_LOGIN_OLD_SESSION]), "%s", invalid[t].name);
		else
			ok(rc < 0 && why != NULL, "%s (%s)", invalid[t].name, why ? why : "accepted");
	}

	/* A NUL inside a field, a field over its limit, a record too short or too long. */
	{
		static const char *const nul[] = {"a@ex\0mple.test", "password", "", "127.0.0.1", "rid", ""};
		static const int lens[] = {14, 8, -1, 9, 3, -1, -2};
		size_t n = record(buf, 1, AUTHP_LOGIN, 6, 0, lens, nul);
		int rc = authp_decode(buf, n, &m, text, sizeof(text), &why);
		ok(rc < 0, "test-privsep-bad-nul-in-field (%s)", why);
	}
	{
		static char email[300];
		const char *big[] = {email, "password", "", "127.0.0.1", "rid", ""};
		int lens[] = {255, 8, -1, 9, 3, -1, -2};
		memset(email, 'e', 255);
		size_t n = record(buf, 1, AUTHP_LOGIN, 6, 0, lens, big);
		int rc = authp_decode(buf, n, &m, text, sizeof(text), &why);
		ok(rc < 0, "test-privsep-bad-email-over-254 (%s)", why);
		lens[0] = 254;
		n = record(buf, 1, AUTHP_LOGIN, 6, 0, lens, big);
		ok(authp_decode(buf, n, &m, text, sizeof(text), &why) == 0, "an email of 254 bytes decodes");
	}
	ok(authp_decode(buf, AUTHP_HEADER - 1, &m, text, sizeof(text), &why) < 0, "test-privsep-bad-short-header");
	ok(authp_decode(buf, AUTHP_MSG_MAX + 1, &m, text, sizeof(text), &why) < 0, "test-privsep-bad-record-over-max");
	{
		static const char *const none[] = {NULL};
		static const int lens[] = {-2};
		size_t n = record(buf, 1, AUTHP_R_INVALID, 0, 0, lens, none);
		ok(authp_decode(buf, n, &m, text, sizeof(text), &why) == 0 && m.type == AUTHP_R_INVALID &&
		    !authp_is_request(m.type), "a reply without fields decodes, and is no request");
	}
}

static void
test_privsep_encoder_limits(void)
{
	struct authp_msg m;
	unsigned char buf[AUTHP_MSG_MAX];
	const char *why;
	long n;

	memset(long_password, 'p', sizeof(long_password) - 1);
	memset(max_password, 'p', sizeof(max_password) - 1);
	authp_init(&m, AUTHP_LOGIN);
	m.field[AUTHP_LOGIN_EMAIL] = "a@example.test";
	m.field[AUTHP_LOGIN_PASSWORD] = max_password;
	m.field[AUTHP_LOGIN_REQUEST_ID] = "rid";
	ok(authp_encode(&m, buf, sizeof(buf), &why) > 0, "a password of %d bytes encodes", PASSWORD_MAX_BYTES);
	m.field[AUTHP_LOGIN_PASSWORD] = long_password;
	n = authp_encode(&m, buf, sizeof(buf), &why);
	ok(n < 0, "test-privsep-bad-encode-password-over-max (%s)", why);
	m.field[AUTHP_LOGIN_PASSWORD] = "pw";
	m.field[AUTHP_LOGIN_REQUEST_ID] = NULL;
	n = authp_encode(&m, buf, sizeof(buf), &why);
	ok(n < 0, "test-privsep-bad-encode-request-id-absent (%s)", why);
	m.field[AUTHP_LOGIN_REQUEST_ID] = "rid";
	m.nfields = 4;
	n = authp_encode(&m, buf, sizeof(buf), &why);
	ok(n < 0, "test-privsep-bad-encode-field-count (%s)", why);
	m.nfields = 5;
	n = authp_encode(&m, buf, 20, &why);
	ok(n < 0, "test-privsep-bad-encode-buffer-too-small (%s)", why);
	m.type = 0x7e;
	n = authp_encode(&m, buf, sizeof(buf), &why);
	ok(n < 0, "test-privsep-bad-encode-unknown-type (%s)", why);
	/* A signup's verification mail: the hash and the link are required, the link as long as public_url allows. */
	authp_init(&m, AUTHP_SIGNUP);
	m.field[AUTHP_SIGNUP_EMAIL] = "b@example.test";
	m.field[AUTHP_SIGNUP_NAME] = "B";
	m.field[AUTHP_SIGNUP_PASSWORD] = "pw-12345";
	m.field[AUTHP_SIGNUP_REQUEST_ID] = "rid";
	m.field[AUTHP_SIGNUP_VERIFY_HASH] = "\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	n = authp_encode(&m, buf, sizeof(buf), &why);
	ok(n < 0, "test-privsep-bad-encode-signup-without-verification-link (%s)", why);
	{
		static char link[511 + 8 + 43 + 2];
		memset(link, 'l', 511 + 8 + 43);
		m.field[AUTHP_SIGNUP_VERIFY_LINK] = link;
		ok(authp_encode(&m, buf, sizeof(buf), &why) > 0,
		    "a verification link of a 511-byte public_url, /verify/ and a token encodes");
		link[511 + 8 + 43] = 'l';
		n = authp_encode(&m, buf, sizeof(buf), &why);
		ok(n < 0, "test-privsep-bad-encode-verification-link-over-max (%s)", why);
		m.field[AUTHP_SIGNUP_VERIFY_HASH] = NULL;
		link[511 + 8 + 43] = '\0';
		n = authp_encode(&m, buf, sizeof(buf), &why);
		ok(n < 0, "test-privsep-bad-encode-signup-without-verification-hash (%s)", why);
	}
	is_int(authp_field_max(AUTHP_R_SESSION, AUTHP_SESSION_TOKEN), 43, "a session token is 43 characters");
	is_int(authp_field_max(AUTHP_LOGIN, 7), 0, "a login has no eighth field");
}

static void
test_privsep_hash_shape(void)
{
	static const struct {
		const char *s;
		bool want;
	} cases[] = {
		{"\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true},
		{"\\x0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false},
		{"\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", false},
		{"\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", false},
		{"0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false},
		{"\\x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", false},
		{"", false},
		{NULL, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(authp_hash_ok(cases[i].s) == cases[i].want, "authp_hash_ok(%s) is %s",
		    cases[i].s ? cases[i].s : "NULL", cases[i].want ? "true" : "false");
}

int
main(void)
{
	test_privsep_round_trips();
	test_privsep_bad_records();
	test_privsep_encoder_limits();
	test_privsep_hash_shape();
	return done_testing();
}
