/*
 * db: connection management for workers.  See db.h.
 */
#include "db.h"

#include <poll.h>
#include <time.h>

#include "util/log.h"

/* Do not retry a failed connect more often than this (seconds). */
#define RECONNECT_INTERVAL 0.2

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
	const char *const values[] = {"3", db->application_name,
	    "-c statement_timeout=15s -c idle_in_transaction_session_timeout=60s", "30",
	    db->conninfo, NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		log_msg(LOG_WARN, "could not connect to the database: %s",
		    conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		db->last_failure = db_now();
		return NULL;
	}
	log_msg(LOG_INFO, "connected to the database");
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
		 */
		if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0) {
			PGnotify *n;
			if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
				log_msg(LOG_WARN, "database connection lost; reconnecting");
				PQfinish(db->conn);
				db->conn = NULL;
			} else {
				while ((n = PQnotifies(db->conn)) != NULL)
					PQfreemem(n);
			}
		}
	} else if (db->conn != NULL) {
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
		PQfinish(db->conn);
		db->conn = NULL;
	}
}

void
db_close(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
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

int
db_pipeline(struct db *db, const struct db_stmt *stmts, int n, PGresult **results)
{
	PGconn *conn = db->conn;
	int ok = 0, got = 0;
	PGresult *r;

	for (int i = 0; i < n; i++)
		results[i] = NULL;
	if (conn == NULL || !PQenterPipelineMode(conn))
		return -1;
	for (int i = 0; i < n; i++)
		if (!PQsendQueryParams(conn, stmts[i].sql, stmts[i].nparams, NULL, stmts[i].params, NULL,
		    NULL, 0)) {
			ok = -1;
			break;
		}
	if (ok < 0 || !PQpipelineSync(conn)) {
		/* A half-sent pipeline leaves the connection unusable. */
		log_msg(LOG_WARN, "could not send to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		db->conn = NULL;
		return -1;
	}
	{
		/* Each statement yields its result then NULL; the sync yields PGRES_PIPELINE_SYNC. */
		for (;;) {
			r = PQgetResult(conn);
			if (r == NULL) {
				if (PQstatus(conn) != CONNECTION_OK)
					break;
				got++;
				continue;
			}
			if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
				PQclear(r);
				break;
			}
			if (got < n && results[got] == NULL)
				results[got] = r;
			else
				PQclear(r);
		}
	}
	if (!PQexitPipelineMode(conn))
		ok = -1;
	for (int i = 0; i < n; i++)
		if (!db_ok(results[i]))
			ok = -1;
	if (ok < 0)
		db_check(db);
	return ok;
}
