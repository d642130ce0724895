/*
 * authd_totp: the auth process's two-factor requests (see
 * docs/two-factor.md and sql/0023_totp.sql).
 *
 * The TOTP secret exists in clear only here and, once, in the reply to
 * the enrolment (the worker passes it to the client, who must see it): it
 * is made here (20 bytes from the CSPRNG), stored encrypted with the
 * server's key (AES-256-GCM, util/secret.c, AAD "totp:<user id>", so a
 * ciphertext copied to another account does not decrypt), and decrypted
 * here to check a code.  finicom_app cannot read the ciphertext at all.
 * The worker sends the code the client typed; this process decides.
 *
 * Every check is counted before it is made (sql/0023: per account, and
 * per login token), and a matched time step is applied by the database
 * only if it is newer than the last one accepted (no replay).  The
 * secret, the codes, the recovery codes and their hashes are wiped once
 * used; none is logged.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "privsep/authd_int.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/totp.h"

/* A refusal the worker answers as it answers the database's own (F04xx, code, text). */
static void
reply_refuse(struct reply *rep, const char *sqlstate, const char *code, const char *text)
{
	reply_start(rep, AUTHP_R_DB_ERROR);
	snprintf(rep->sqlstate, sizeof(rep->sqlstate), "%s", sqlstate);
	rep->msg.field[AUTHP_DB_SQLSTATE] = rep->sqlstate;
	reply_set(rep, AUTHP_DB_MESSAGE, code);
	reply_set(rep, AUTHP_DB_DETAIL, text);
}

static void
aad_for(const char *user_id, char aad[64])
{
	snprintf(aad, 64, "totp:%s", user_id);
}

/* The secret of user_id from its stored form into key; 0 or -1 (logged). */
static int
secret_open(const char *user_id, const char *stored, unsigned char key[TOTP_SECRET_BYTES])
{
	char aad[64];
	size_t n = 0;
	char *plain;

	aad_for(user_id, aad);
	plain = secret_decrypt(stored, aad, &n);
	if (plain == NULL || n != TOTP_SECRET_BYTES) {
		log_msg(LOG_ERROR, "a TOTP secret does not decrypt with the loaded key");
		if (plain != NULL) {
			OPENSSL_cleanse(plain, n);
			free(plain);
		}
		return -1;
	}
	memcpy(key, plain, TOTP_SECRET_BYTES);
	OPENSSL_cleanse(plain, n);
	free(plain);
	return 0;
}

/*
 * What code is, against key: a TOTP code of the window (its step in
 * step_text) or, when recovery_ok, a recovery code's shape (its SHA-256 as
 * bytea text in recovery).  False for neither (or a TOTP code of no step).
 */
static bool
code_check(const unsigned char key[TOTP_SECRET_BYTES], const char *code, bool recovery_ok,
    char step_text[24], char recovery[2 + 64 + 1])
{
	char norm[RECOVERY_CHARS + 1];
	enum totp_kind kind = totp_code_kind(code, norm);
	bool ok = false;

	step_text[0] = recovery[0] = '\0';
	if (kind == TOTP_KIND_TOTP) {
		int64_t step = totp_match(key, TOTP_SECRET_BYTES, norm, totp_step((uint64_t)time(NULL)));
		if (step >= 0) {
			snprintf(step_text, 24, "%lld", (long long)step);
			ok = true;
		}
	} else if (kind == TOTP_KIND_RECOVERY && recovery_ok) {
		sha256_bytea(norm, recovery);
		ok = true;
	}
	OPENSSL_cleanse(norm, sizeof(norm));
	return ok;
}

/* The event of a wrong code (the attempt was counted before the check). */
static void
record_failure(struct db *db, struct reply *rep, const char *user_id, bool login, const struct authp_msg *m,
    int ip, int rid)
{
	const char *params[4] = {user_id, login ? "t" : "f", m->field[ip], m->field[rid]};
	PGresult *r = auth_exec(db, rep, "SELECT finicom.auth_totp_failed($1, $2, $3, $4)", 4, params);

	if (r == NULL)
		return;
	PQclear(r);
	reply_start(rep, AUTHP_R_INVALID);
}

/*
 * TOTP_ENROL: a new secret for the session's user, stored encrypted and
 * not yet active (auth_totp_enrol: 409 while two-factor is on); the reply
 * carries it in base32 with the user's email (the otpauth URI's label).
 */
void
handle_totp_enrol(struct db *db, const struct authp_msg *m, struct reply *rep)
{
	const char *session = m->field[AUTHP_TOTP_SESSION], *params[4];
	unsigned char key[TOTP_SECRET_BYTES];
	char b32[TOTP_SECRET_CHARS + 1], aad[64], user_id[40], email[256];
	char *stored;
	PGresult *r;

	if (!authp_hash_ok(session)) {
		log_msg(LOG_WARN, "refused a two-factor request: malformed session hash");
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	params[0] = session;
	r = auth_exec(db, rep, "SELECT user_id, email FROM finicom.auth_totp_user($1)", 1, params);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		reply_refuse(rep, "F0401", "unauthenticated", "the session is not valid or has expired");
		return;
	}
	snprintf(user_id, sizeof(user_id), "%s", PQgetvalue(r, 0, 0));
	snprintf(email, sizeof(email), "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	if (random_bytes(key, sizeof(key)) < 0) {
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	aad_for(user_id, aad);
	stored = secret_encrypt(key, sizeof(key), aad);
	base32_encode(key, sizeof(key), b32);
	OPENSSL_cleanse(key, sizeof(key));
	if (stored == NULL) {
		log_msg(LOG_ERROR, "could not encrypt a TOTP secret (is secret_key_file loaded?)");
		OPENSSL_cleanse(b32, sizeof(b32));
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	params[1] = stored;
	params[2] = m->field[AUTHP_TOTP_IP];
	params[3] = m->field[AUTHP_TOTP_REQUEST_ID];
	r = auth_exec(db, rep, "SELECT finicom.auth_totp_enrol($1, $2, $3, $4)", 4, params);
	free(stored);
	if (r != NULL) {
		PQclear(r);
		reply_start(rep, AUTHP_R_TOTP_SECRET);
		reply_set(rep, AUTHP_SECRET_BASE32, b32);
		reply_set(rep, AUTHP_SECRET_EMAIL, email);
	}
	OPENSSL_cleanse(b32, sizeof(b32));
}

/* The columns of finicom.auth_totp_begin(). */
enum { TB_USER, TB_SECRET, TB_ENABLED, TB_LAST_STEP };

/*
 * The first half of confirm and disable: the session's enrolment (the
 * attempt counted; 429 while throttled) and its secret in key.  Returns
 * the result (caller clears it) or NULL with the reply set: 409 when
 * two-factor is not in the state want_enabled says.
 */
static PGresult *
begin_session_check(struct db *db, const struct authp_msg *m, struct reply *rep, bool want_enabled,
    unsigned char key[TOTP_SECRET_BYTES])
{
	const char *params[1] = {m->field[AUTHP_TOTP_SESSION]};
	PGresult *r;

	if (!authp_hash_ok(params[0])) {
		log_msg(LOG_WARN, "refused a two-factor request: malformed session hash");
		reply_start(rep, AUTHP_R_FAILED);
		return NULL;
	}
	r = auth_exec(db, rep, "SELECT user_id, secret_enc, enabled, last_step FROM finicom.auth_totp_begin($1)",
	    1, params);
	if (r == NULL)
		return NULL;
	if (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, TB_ENABLED), "t") != want_enabled) {
		bool on = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, TB_ENABLED), "t");
		clear_wiped(r);
		reply_refuse(rep, "F0409", "conflict",
		    on ? "two-factor authentication is already on"
		       : want_enabled ? "two-factor authentication is not on"
		                      : "there is no enrolment to confirm; start one with POST /api/v1/me/totp");
		return NULL;
	}
	if (secret_open(PQgetvalue(r, 0, TB_USER), PQgetvalue(r, 0, TB_SECRET), key) < 0) {
		clear_wiped(r);
		reply_start(rep, AUTHP_R_FAILED);
		return NULL;
	}
	return r;
}

/*
 * TOTP_CONFIRM: the code (a TOTP code only) against the pending secret;
 * then two-factor is on, with ten new recovery codes, which the reply
 * carries (stored as their SHA-256).  R_INVALID for a wrong code.
 */
void
handle_totp_confirm(struct db *db, const struct authp_msg *m, struct reply *rep)
{
	unsigned char key[TOTP_SECRET_BYTES];
	char step[24], unused[2 + 64 + 1], user_id[40];
	char codes[RECOVERY_CODES * (RECOVERY_SHOWN + 1)], hashes[RECOVERY_CODES * 65];
	const char *params[5];
	PGresult *r = begin_session_check(db, m, rep, false, key);
	bool ok;

	if (r == NULL)
		return;
	snprintf(user_id, sizeof(user_id), "%s", PQgetvalue(r, 0, TB_USER));
	clear_wiped(r);
	ok = code_check(key, m->field[AUTHP_TOTP_CODE], false, step, unused);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		record_failure(db, rep, user_id, false, m, AUTHP_TOTP_IP, AUTHP_TOTP_REQUEST_ID);
		return;
	}
	codes[0] = hashes[0] = '\0';
	for (int i = 0; i < RECOVERY_CODES; i++) {
		char code[RECOVERY_SHOWN + 1], norm[RECOVERY_CHARS + 1], hex[65];
		if (recovery_code_generate(code) < 0) {
			OPENSSL_cleanse(codes, sizeof(codes));
			reply_start(rep, AUTHP_R_FAILED);
			return;
		}
		(void)totp_code_kind(code, norm);
		sha256_hex(norm, strlen(norm), hex);
		strcat(codes, i ? " " : ""), strcat(codes, code);
		strcat(hashes, i ? "," : ""), strcat(hashes, hex);
		OPENSSL_cleanse(code, sizeof(code));
		OPENSSL_cleanse(norm, sizeof(norm));
	}
	params[0] = m->field[AUTHP_TOTP_SESSION];
	params[1] = step;
	params[2] = hashes;
	params[3] = m->field[AUTHP_TOTP_IP];
	params[4] = m->field[AUTHP_TOTP_REQUEST_ID];
	r = auth_exec(db, rep,
	    "SELECT finicom.auth_totp_confirm($1, $2,"
	    " (SELECT pg_catalog.array_agg(pg_catalog.decode(h, 'hex'))"
	    "  FROM pg_catalog.unnest(pg_catalog.string_to_array($3, ',')) h), $4, $5)",
	    5, params);
	OPENSSL_cleanse(hashes, sizeof(hashes));
	if (r != NULL && !strcmp(PQgetvalue(r, 0, 0), "t")) {
		reply_start(rep, AUTHP_R_CODES);
		reply_set(rep, 0, codes);
	} else if (r != NULL) {
		/* That step was used already (a replay), or the enrolment changed meanwhile. */
		record_failure(db, rep, user_id, false, m, AUTHP_TOTP_IP, AUTHP_TOTP_REQUEST_ID);
	}
	PQclear(r);
	OPENSSL_cleanse(codes, sizeof(codes));
}

/*
 * TOTP_DISABLE: a TOTP code or an unused recovery code; then two-factor
 * is off, its secret and recovery codes gone.  R_INVALID for a wrong,
 * replayed or spent code.
 */
void
handle_totp_disable(struct db *db, const struct authp_msg *m, struct reply *rep)
{
	unsigned char key[TOTP_SECRET_BYTES];
	char step[24], recovery[2 + 64 + 1], user_id[40];
	const char *params[5];
	PGresult *r = begin_session_check(db, m, rep, true, key);
	bool ok;

	if (r == NULL)
		return;
	snprintf(user_id, sizeof(user_id), "%s", PQgetvalue(r, 0, TB_USER));
	clear_wiped(r);
	ok = code_check(key, m->field[AUTHP_TOTP_CODE], true, step, recovery);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		record_failure(db, rep, user_id, false, m, AUTHP_TOTP_IP, AUTHP_TOTP_REQUEST_ID);
		return;
	}
	params[0] = m->field[AUTHP_TOTP_SESSION];
	params[1] = step[0] ? step : NULL;
	params[2] = recovery[0] ? recovery : NULL;
	params[3] = m->field[AUTHP_TOTP_IP];
	params[4] = m->field[AUTHP_TOTP_REQUEST_ID];
	r = auth_exec(db, rep, "SELECT finicom.auth_totp_disable($1, $2, $3, $4, $5)", 5, params);
	OPENSSL_cleanse(recovery, sizeof(recovery));
	if (r != NULL && !strcmp(PQgetvalue(r, 0, 0), "t"))
		reply_start(rep, AUTHP_R_DONE);
	else if (r != NULL)
		record_failure(db, rep, user_id, false, m, AUTHP_TOTP_IP, AUTHP_TOTP_REQUEST_ID);
	PQclear(r);
}

/*
 * LOGIN_TOTP: the second step of a sign-in.  The login token's account
 * (the attempt counted for the token and the account; 429 while the
 * account is throttled), the code against its secret, then the token
 * spent, the session the client came with ended, a new one started
 * (auth_totp_login_complete).  R_INVALID for an unknown, expired or spent
 * token and for a wrong, replayed or spent code.
 */
void
handle_login_totp(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep)
{
	const char *login = m->field[AUTHP_LOGIN_TOTP_TOKEN], *old = m->field[AUTHP_LOGIN_TOTP_OLD_SESSION];
	unsigned char key[TOTP_SECRET_BYTES];
	char step[24], recovery[2 + 64 + 1], user_id[40], token[TOKEN_CHARS + 1], token_hash[2 + 64 + 1];
	char max_age[16];
	const char *params[8];
	PGresult *r;
	bool ok;

	if (!authp_hash_ok(login) || (old != NULL && !authp_hash_ok(old))) {
		log_msg(LOG_WARN, "refused a second-step request: malformed hash");
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	params[0] = login;
	r = auth_exec(db, rep, "SELECT user_id, secret_enc FROM finicom.auth_totp_login_begin($1)", 1, params);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		reply_start(rep, AUTHP_R_INVALID);
		return;
	}
	snprintf(user_id, sizeof(user_id), "%s", PQgetvalue(r, 0, 0));
	if (secret_open(user_id, PQgetvalue(r, 0, 1), key) < 0) {
		clear_wiped(r);
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	clear_wiped(r);
	ok = code_check(key, m->field[AUTHP_LOGIN_TOTP_CODE], true, step, recovery);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		record_failure(db, rep, user_id, true, m, AUTHP_LOGIN_TOTP_IP, AUTHP_LOGIN_TOTP_REQUEST_ID);
		return;
	}
	if (token_generate(token) < 0) {
		reply_start(rep, AUTHP_R_FAILED);
		return;
	}
	sha256_bytea(token, token_hash);
	snprintf(max_age, sizeof(max_age), "%d", cfg->session_max_age);
	params[1] = step[0] ? step : NULL;
	params[2] = recovery[0] ? recovery : NULL;
	params[3] = token_hash;
	params[4] = max_age;
	params[5] = old;
	params[6] = m->field[AUTHP_LOGIN_TOTP_IP];
	params[7] = m->field[AUTHP_LOGIN_TOTP_REQUEST_ID];
	r = auth_exec(db, rep,
	    "SELECT finicom.auth_totp_login_complete($1, $2, $3, $4, $5, $6, $7, $8)::text", 8, params);
	OPENSSL_cleanse(recovery, sizeof(recovery));
	if (r != NULL && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		reply_start(rep, AUTHP_R_SESSION);
		reply_set(rep, AUTHP_SESSION_TOKEN, token);
		reply_set(rep, AUTHP_SESSION_USER, PQgetvalue(r, 0, 0));
		describe_session(db, token_hash, m->field[AUTHP_LOGIN_TOTP_IP], m->field[AUTHP_LOGIN_TOTP_USER_AGENT]);
	} else if (r != NULL) {
		record_failure(db, rep, user_id, true, m, AUTHP_LOGIN_TOTP_IP, AUTHP_LOGIN_TOTP_REQUEST_ID);
	}
	PQclear(r);
	OPENSSL_cleanse(token, sizeof(token));
}
