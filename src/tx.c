/*
 * tx: the request transaction, in one place.
 *
 * Every authenticated request is one transaction on the worker's
 * connection, in this order:
 *   tx_begin   BEGIN and finicom.begin_request(), one round trip (libpq
 *              pipeline): the database verifies the credential and the org
 *              and seals the request context (sql/0009_security_layer.sql)
 *   tx_exec    the handler's statements; the last one carries COMMIT in
 *              the same round trip.  A read route flagged ROUTE_ONE_TRIP
 *              defers tx_begin: begin_request and its statement then
 *              travel together in one implicit transaction (no BEGIN or
 *              COMMIT: the pipeline's Sync ends it), and the caller is identified
 *              and authorized from begin_request's result before the
 *              statement's result is used (row-level security has already
 *              limited that to the sealed context; the C check only picks
 *              the status).  A handler that answers without the database
 *              (a 400) is then followed by the usual tx_begin, so an
 *              unauthenticated caller still gets 401 first.
 *   tx_end     COMMIT when the handler answered 2xx/3xx and did not commit
 *              already, else ROLLBACK
 *   tx_reset   after the response: never carry a transaction into the next
 *              request
 * Nothing else in the worker sends BEGIN, COMMIT or ROLLBACK.
 */
#include <string.h>

#include "context.h"
#include "util/log.h"

/*
 * One text for every path that sends it: prepared statements are found by
 * the SQL's address (db.c), so one literal is one statement per connection.
 */
static const char BEGIN_REQUEST_SQL[] = "SELECT * FROM finicom.begin_request($1, $2, $3, $4, $5, $6)";

PGresult *
tx_begin(struct request_ctx *ctx, const char *const params[6])
{
	struct db_stmt stmts[2] = {
		{"BEGIN", 0, NULL},
		{BEGIN_REQUEST_SQL, 6, params},
	};
	PGresult *results[2];

	if (db_connection(ctx->db) == NULL) {
		respond_db_error(ctx, NULL);
		return NULL;
	}
	if (db_pipeline(ctx->db, stmts, 2, results) < 0) {
		respond_db_error(ctx, db_ok(results[0]) ? results[1] : results[0]);
		PQclear(results[0]);
		PQclear(results[1]);
		tx_reset(ctx->db);
		return NULL;
	}
	PQclear(results[0]);
	ctx->in_tx = true;
	return results[1];
}

/*
 * The deferred begin of a read that is the request's only statement:
 * begin_request and the statement without BEGIN and COMMIT.  In the
 * extended protocol everything up to the pipeline's one Sync is one
 * implicit transaction: begin_request's context (set_config with
 * is_local) holds for the statement, the Sync commits both, and an error
 * in either rolls both back.  Two statements fewer for the server to run.
 */
static PGresult *
tx_exec_implicit(struct request_ctx *ctx, const char *const *begin_params, const char *sql,
    int nparams, const char *const *params)
{
	struct db_stmt stmts[2] = {
		{BEGIN_REQUEST_SQL, 6, begin_params},
		{sql, nparams, params},
	};
	PGresult *results[2];

	(void)db_pipeline(ctx->db, stmts, 2, results);
	ctx->in_tx = false; /* the Sync ended the implicit transaction, either way */
	if (!db_ok(results[0])) {
		respond_db_error(ctx, results[0]);
		PQclear(results[0]);
		PQclear(results[1]);
		tx_reset(ctx->db);
		return NULL;
	}
	if (ctx->begin.check(ctx, results[0]) < 0 || !db_ok(results[1])) {
		if (ctx->res->status == 0)
			respond_db_error(ctx, results[1]);
		PQclear(results[1]);
		return NULL;
	}
	return results[1];
}

/*
 * tx_exec for a deferred begin whose statement is not the request's last:
 * BEGIN, begin_request and the statement in one round trip, the
 * transaction left open; then the caller is identified and authorized from
 * begin_request's result before the statement's is used.
 */
static PGresult *
tx_exec_with_begin(struct request_ctx *ctx, const char *sql, int nparams,
    const char *const *params)
{
	struct db_stmt stmts[3] = {
		{"BEGIN", 0, NULL},
		{BEGIN_REQUEST_SQL, 6, ctx->begin.params},
		{sql, nparams, params},
	};
	PGresult *results[3];

	(void)db_pipeline(ctx->db, stmts, 3, results);
	if (!db_ok(results[0]) || !db_ok(results[1])) {
		respond_db_error(ctx, db_ok(results[0]) ? results[1] : results[0]);
		for (int i = 0; i < 3; i++)
			PQclear(results[i]);
		tx_reset(ctx->db);
		return NULL;
	}
	PQclear(results[0]);
	ctx->in_tx = true; /* still open: tx_end ends it */
	if (ctx->begin.check(ctx, results[1]) < 0 || !db_ok(results[2])) {
		if (ctx->res->status == 0)
			respond_db_error(ctx, results[2]);
		PQclear(results[2]);
		return NULL;
	}
	return results[2];
}

PGresult *
tx_exec(struct request_ctx *ctx, const char *sql, int nparams, const char *const *params,
    bool last)
{
	struct db_stmt stmts[2] = {{sql, nparams, params}, {"COMMIT", 0, NULL}};
	PGresult *results[2];
	int rc;

	if (ctx->begin.deferred) {
		ctx->begin.deferred = false;
		if (db_connection(ctx->db) == NULL) {
			respond_db_error(ctx, NULL);
			return NULL;
		}
		return last ? tx_exec_implicit(ctx, ctx->begin.params, sql, nparams, params)
			    : tx_exec_with_begin(ctx, sql, nparams, params);
	}
	rc = db_pipeline(ctx->db, stmts, last ? 2 : 1, results);
	/* A failed statement leaves the transaction aborted: tx_end() rolls it back. */
	if (last && db_ok(results[0]))
		ctx->in_tx = false;
	if (rc < 0) {
		/* The failed statement's own error, not the aborted COMMIT's. */
		respond_db_error(ctx, db_ok(results[0]) && last ? results[1] : results[0]);
		PQclear(results[0]);
		if (last)
			PQclear(results[1]);
		return NULL;
	}
	if (last)
		PQclear(results[1]);
	return results[0];
}

PGresult *
tx_renew(struct request_ctx *ctx)
{
	struct db_stmt stmts[3] = {
		{"COMMIT", 0, NULL},
		{"BEGIN", 0, NULL},
		{BEGIN_REQUEST_SQL, 6, ctx->begin.params},
	};
	PGresult *results[3];

	if (db_pipeline(ctx->db, stmts, 3, results) < 0) {
		int bad = !db_ok(results[0]) ? 0 : !db_ok(results[1]) ? 1 : 2;
		respond_db_error(ctx, results[bad]);
		for (int i = 0; i < 3; i++)
			PQclear(results[i]);
		tx_reset(ctx->db);
		ctx->in_tx = false;
		return NULL;
	}
	PQclear(results[0]);
	PQclear(results[1]);
	ctx->in_tx = true;
	return results[2];
}

void
tx_end(struct request_ctx *ctx)
{
	PGresult *r;

	if (!ctx->in_tx)
		return;
	ctx->in_tx = false;
	if (ctx->db->conn == NULL)
		return;
	if (ctx->res->status >= 400) {
		PQclear(PQexec(ctx->db->conn, "ROLLBACK"));
		return;
	}
	r = PQexec(ctx->db->conn, "COMMIT");
	if (!db_ok(r)) {
		db_check(ctx->db);
		http_response_clear(ctx->res);
		respond_db_error(ctx, r);
	}
	PQclear(r);
}

void
tx_reset(struct db *db)
{
	if (db->conn != NULL && PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		if (PQtransactionStatus(db->conn) != PQTRANS_INERROR)
			log_msg(LOG_ERROR, "request left a transaction open; rolling back");
		PQclear(PQexec(db->conn, "ROLLBACK"));
	}
}
