/*
 * authd_int: what the auth process's request handlers share (authd.c and
 * authd_totp.c, the two-factor requests).  Not for the workers.
 */
#ifndef FINICOM_PRIVSEP_AUTHD_INT_H
#define FINICOM_PRIVSEP_AUTHD_INT_H

#include <libpq-fe.h>

#include "db.h"
#include "privsep/proto.h"
#include "util/config.h"

/* One reply being built: the message and the text its fields point into. */
struct reply {
	struct authp_msg msg;
	char sqlstate[6];
	char text[AUTHP_MSG_MAX];
	size_t used;
};

/* Start rep as a message of type with every field absent. */
void reply_start(struct reply *rep, enum authp_type type);
/* Copy s into rep as field i (cut at the field's limit); NULL: absent. */
void reply_set(struct reply *rep, int i, const char *s);
/* One autocommit statement; the result, or NULL with R_DB_ERROR in rep. */
PGresult *auth_exec(struct db *db, struct reply *rep, const char *sql, int nparams, const char *const *params);
/* Wipe every value of a result, then free it. */
void clear_wiped(PGresult *r);

/* The two-factor requests (authd_totp.c). */
/* Record a new session's client address and User-Agent (authd.c). */
void describe_session(struct db *db, const char *token_hash, const char *ip, const char *user_agent);
void handle_totp_enrol(struct db *db, const struct authp_msg *m, struct reply *rep);
void handle_totp_confirm(struct db *db, const struct authp_msg *m, struct reply *rep);
void handle_totp_disable(struct db *db, const struct authp_msg *m, struct reply *rep);
void handle_login_totp(const struct config *cfg, struct db *db, const struct authp_msg *m, struct reply *rep);

#endif
