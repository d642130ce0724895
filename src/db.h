/*
 * db: a worker's one connection to PostgreSQL.
 *
 * The connection is opened after fork, lazily, and reopened by itself when
 * PostgreSQL goes away and comes back: db_connection() notices a connection
 * the server closed (the socket turned readable while idle) before a request
 * uses it, so the first request after a restart already succeeds.  While the
 * database is down db_connection() returns NULL and the caller answers 503.
 */
#ifndef FINICOM_DB_H
#define FINICOM_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

/* Statements prepared on the current connection, by their SQL's address. */
#define DB_PREPARED_MAX 96

struct db {
	PGconn *conn;
	const char *conninfo;
	const char *application_name;
	double last_failure; /* monotonic seconds of the last failed connect */
	bool prepare;        /* use named prepared statements (db_init: on) */
	const char *prepared_sql[DB_PREPARED_MAX]; /* the caller's SQL pointer ... */
	const char *prepared[DB_PREPARED_MAX]; /* ... a copy of its text (confirms a match) ... */
	unsigned prepared_id[DB_PREPARED_MAX]; /* ... as statement "f<id>" */
	int nprepared;
	unsigned next_id;    /* names are never reused on a connection */
};

void db_init(struct db *db, const char *conninfo, const char *application_name);

/*
 * Told of every connection opened, connect failed and connection lost, when
 * set (NULL: nobody listens).  finicomd's metrics and the mailer's count them.
 */
enum db_event { DB_EVENT_CONNECTED, DB_EVENT_CONNECT_FAILED, DB_EVENT_LOST };
extern void (*db_event_hook)(int event);

/* A live connection, or NULL when PostgreSQL cannot be reached right now. */
PGconn *db_connection(struct db *db);

/* After a failed statement: drop the connection if it is broken. */
void db_check(struct db *db);

void db_close(struct db *db);

/* Seconds on the monotonic clock. */
double db_now(void);

/* One statement of a pipeline: SQL with text parameters (NULL = SQL NULL). */
struct db_stmt {
	const char *sql;
	int nparams;
	const char *const *params;
};

/*
 * Send n statements in one libpq pipeline and one network round trip.
 * results[i] gets each statement's result (caller PQclear()s them; an
 * aborted statement's result has status PGRES_PIPELINE_ABORTED).  Returns 0
 * when every statement succeeded, -1 otherwise (the connection is checked).
 */
int db_pipeline(struct db *db, const struct db_stmt *stmts, int n, PGresult **results);

/* True when r is a successful command or query result. */
bool db_ok(const PGresult *r);

/* The SQLSTATE of a failed result ("" when none). */
const char *db_sqlstate(const PGresult *r);

#endif
