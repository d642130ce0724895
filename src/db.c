/*
 * db: connection management for workers.  See db.h.
 */
#include "db.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

/* Do not retry a failed connect more often than this (seconds). */
#define RECONNECT_INTERVAL 0.2
/*
 * Reads of an idle connection before a request uses it (db_connection): a
 * closing server sends its FATAL, then the end; two reads see both, the
 * rest is room for a notice or a parameter change sent alongside.
 */
#define IDLE_READS_MAX 4

void (*db_event_hook)(int event);

static void
db_event(int event)
{
	if (db_event_hook != NULL)
		db_event_hook(event);
}

double
db_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
db_init(struct db *db, const char *conninfo, const char *application_name)
{
	db->conn = NULL;
	db->conninfo = conninfo;
	db->application_name = application_name;
	db->last_failure = -1e9;
	db->prepare = false;
	db->nprepared = 0;
}

/* Forget the statements prepared on a connection that is gone. */
static void
forget_prepared(struct db *db)
{
	for (int i = 0; i < db->nprepared; i++)
		free((char *)db->prepared[i]);
	db->nprepared = 0;
}

static PGconn *
db_connect(struct db *db)
{
	/*
	 * Our defaults come first so that the configured connection string,
	 * expanded in place of dbname, can override any of them.
	 */
	const char *const keys[] = {"connect_timeout", "application_name", "options",
	    "keepalives_idle", "dbname", NULL};
	/*
	 * With prepared statements, generic plans: a custom plan would fold
	 * "$2 IS NULL" (no cursor) into a cheaper-looking plan every time and
	 * be planned again on every request, which is what preparing avoids.
	 */
	const char *const values[] = {"3", db->application_name,
	    db->prepare ? "-c statement_timeout=15s -c idle_in_transaction_session_timeout=60s"
	                  " -c plan_cache_mode=force_generic_plan"
	                : "-c statement_timeout=15s -c idle_in_transaction_session_timeout=60s",
	    "30", db->conninfo, NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		log_msg(LOG_WARN, "could not connect to the database: %s",
		    conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		db->last_failure = db_now();
		db_event(DB_EVENT_CONNECT_FAILED);
		return NULL;
	}
	log_msg(LOG_INFO, "connected to the database");
	db_event(DB_EVENT_CONNECTED);
	forget_prepared(db);
	return conn;
}

PGconn *
db_connection(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
		struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};

		/*
		 * An idle connection has nothing to read unless the server
		 * closed it (shutdown, restart, terminated backend) or sent a
		 * notice.  Consume it and see whether the connection survived.
		 * A server that closes first sends why (a FATAL error): libpq
		 * reads that as a notice and still calls the connection fine,
		 * and only its next read finds the end.  So read while there is
		 * something to read (IDLE_READS_MAX times at most: an idle server
		 * sends little), or the request would be the one to find it (a
		 * 503).
		 */
		int reads = 0;

		while (pfd.fd >= 0 && reads < IDLE_READS_MAX && poll(&pfd, 1, 0) > 0) {
			PGnotify *n;

			reads++;
			if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
				log_msg(LOG_WARN, "database connection lost; reconnecting");
				db_event(DB_EVENT_LOST);
				PQfinish(db->conn);
				db->conn = NULL;
				break;
			}
			while ((n = PQnotifies(db->conn)) != NULL)
				PQfreemem(n);
		}
	} else if (db->conn != NULL) {
		db_event(DB_EVENT_LOST);
		PQfinish(db->conn);
		db->conn = NULL;
	}
	if (db->conn == NULL && db_now() - db->last_failure >= RECONNECT_INTERVAL)
		db->conn = db_connect(db);
	return db->conn;
}

void
db_check(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK) {
		log_msg(LOG_WARN, "database connection lost");
		db_event(DB_EVENT_LOST);
		PQfinish(db->conn);
		db->conn = NULL;
	}
}

void
db_close(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
	forget_prepared(db);
}

bool
db_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return r != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

const char *
db_sqlstate(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

/*
 * The prepared statement for sql on this connection: its index in
 * db->prepared, or -1 when it is not prepared yet.  Callers pass static SQL,
 * so the address finds it; the kept copy of the text confirms it, so an
 * address reused for other text is never mistaken for it (that text is
 * then prepared anew).
 */
static int
prepared_index(const struct db *db, const char *sql)
{
	for (int i = 0; i < db->nprepared; i++)
		if (db->prepared_sql[i] == sql && !strcmp(db->prepared[i], sql))
			return i;
	return -1;
}

/*
 * One statement of a pipeline as sent: with db->prepare, a statement with
 * parameters runs as a named prepared statement ("f<id>"), and one not yet
 * prepared on this connection is prepared (Parse) in the same pipeline.
 * Names are never reused on a connection, so a Parse that did not happen
 * (an aborted pipeline) leaves nothing to clean up.
 */
struct pending {
	bool parse;  /* a Parse result comes first */
	bool named;  /* run as "f<id>" */
	unsigned id;
};

int
db_pipeline(struct db *db, const struct db_stmt *stmts, int n, PGresult **results)
{
	PGconn *conn = db->conn;
	int ok = 0, got = 0, nsent = 0, room = DB_PREPARED_MAX - db->nprepared;
	struct pending pend[16];
	bool parsing, synced = false;
	PGresult *r;
	char name[24];

	for (int i = 0; i < n; i++)
		results[i] = NULL;
	if (conn == NULL || n > 16 || !PQenterPipelineMode(conn))
		return -1;
	for (int i = 0; i < n && ok == 0; i++) {
		const struct db_stmt *st = &stmts[i];
		int idx = db->prepare && st->nparams > 0 ? prepared_index(db, st->sql) : -1;

		pend[i] = (struct pending){false, idx >= 0, idx >= 0 ? db->prepared_id[idx] : 0};
		if (db->prepare && st->nparams > 0 && idx < 0 && room > 0) {
			pend[i] = (struct pending){true, true, db->next_id++};
			room--;
			snprintf(name, sizeof(name), "f%u", pend[i].id);
			if (!PQsendPrepare(conn, name, st->sql, st->nparams, NULL))
				ok = -1;
		}
		if (ok == 0 && pend[i].named) {
			snprintf(name, sizeof(name), "f%u", pend[i].id);
			if (!PQsendQueryPrepared(conn, name, st->nparams, st->params, NULL, NULL, 0))
				ok = -1;
		} else if (ok == 0 &&
		    !PQsendQueryParams(conn, st->sql, st->nparams, NULL, st->params, NULL, NULL, 0)) {
			ok = -1;
		}
		nsent++;
	}
	if (ok < 0 || !PQpipelineSync(conn)) {
		/* A half-sent pipeline leaves the connection unusable. */
		log_msg(LOG_WARN, "could not send to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		db->conn = NULL;
		forget_prepared(db);
		return -1;
	}
	/*
	 * Each Parse and each statement yields its result then NULL; the sync
	 * yields PGRES_PIPELINE_SYNC.  got counts the statements done; parsing
	 * says the current one's Parse result is still to come.
	 */
	parsing = nsent > 0 && pend[0].parse;
	for (;;) {
		r = PQgetResult(conn);
		if (r == NULL) {
			if (PQstatus(conn) != CONNECTION_OK)
				break;
			if (parsing)
				parsing = false;
			else if (++got < nsent)
				parsing = pend[got].parse;
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			synced = true;
			break;
		}
		if (parsing && got < nsent) {
			/* Remembered only once the server has it. */
			if (PQresultStatus(r) == PGRES_COMMAND_OK && db->nprepared < DB_PREPARED_MAX &&
			    (db->prepared[db->nprepared] = strdup(stmts[got].sql)) != NULL) {
				db->prepared_sql[db->nprepared] = stmts[got].sql;
				db->prepared_id[db->nprepared++] = pend[got].id;
			} else if (PQresultStatus(r) != PGRES_COMMAND_OK && results[got] == NULL) {
				results[got] = r; /* the Parse's error is the statement's */
				continue;
			}
			PQclear(r);
			continue;
		}
		if (got < nsent && results[got] == NULL)
			results[got] = r;
		else
			PQclear(r);
	}
	/*
	 * No answer to the Sync: the connection broke after the last result.
	 * A COMMIT's "ok" may then be one the server should not have given
	 * (PostgreSQL 15 answers a COMMIT whose wait for the synchronous
	 * standby ends with the postmaster's death), so the pipeline failed:
	 * whether it committed is unknown (deploy/SCALING.md, "Failover").
	 */
	if (!synced)
		ok = -1;
	if (!PQexitPipelineMode(conn))
		ok = -1;
	for (int i = 0; i < n; i++)
		if (!db_ok(results[i]))
			ok = -1;
	if (ok < 0) {
		/*
		 * A migration that changed what a prepared statement returns
		 * ("cached plan must not change result type"): start afresh.
		 */
		for (int i = 0; i < n; i++)
			if (db->nprepared > 0 && !strcmp(db_sqlstate(results[i]), "0A000")) {
				log_msg(LOG_WARN, "prepared statements are stale; reconnecting");
				PQfinish(db->conn);
				db->conn = NULL;
				forget_prepared(db);
				break;
			}
		/*
		 * A write refused as read-only: this connection reaches a standby
		 * (a pooler in front of a node that was the primary before a
		 * failover).  Reconnect: target_session_attrs=read-write finds
		 * the primary (deploy/SCALING.md).  The request answers 503.
		 */
		for (int i = 0; i < n && db->conn != NULL; i++)
			if (!strcmp(db_sqlstate(results[i]), "25006")) {
				log_msg(LOG_WARN, "the database is read-only (a standby?); reconnecting");
				PQfinish(db->conn);
				db->conn = NULL;
				forget_prepared(db);
			}
		db_check(db);
	}
	return ok;
}
