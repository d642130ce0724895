/*
 * meta: service health and the API description.
 *
 * /healthz is what load balancers and the load test hit most, so it costs
 * as little as it can while staying honest about the database: see
 * HEALTH_VOUCH_SECONDS.
 */
#include <poll.h>
#include <string.h>

#include "handlers/handlers.h"

extern const char finicom_openapi_start[];
extern const char finicom_openapi_end[];

const char *
openapi_document(size_t *len)
{
	*len = (size_t)(finicom_openapi_end - finicom_openapi_start);
	return finicom_openapi_start;
}

/*
 * How long one successful round trip vouches for the connection.  In
 * between, /healthz still looks at the connection itself on every request:
 * a server that closes it (shutdown, restart, a terminated backend) or
 * says anything on it makes the socket readable, and then the round trip is
 * made at once.  What goes unseen for at most this long is a server that
 * hangs without closing; a connection the worker has replaced is never
 * vouched for by its predecessor's round trip.
 */
#define HEALTH_VOUCH_SECONDS 1.0

static const char health_ok[] = "{\"status\":\"ok\"}";
static const char health_unavailable[] = "{\"status\":\"unavailable\"}";

/* The last successful SELECT 1 of this worker: on which connection, and when. */
static struct {
	const PGconn *conn;
	int backend_pid;
	double at;
} health_seen;

/*
 * True when the worker's connection answered SELECT 1 less than
 * HEALTH_VOUCH_SECONDS ago, is idle and still open, and nothing has
 * arrived on it since (one poll(2) with no wait).
 */
static bool
health_vouched(const struct db *db)
{
	PGconn *conn = db->conn;
	struct pollfd pfd;

	if (conn == NULL || conn != health_seen.conn || PQstatus(conn) != CONNECTION_OK ||
	    PQtransactionStatus(conn) != PQTRANS_IDLE ||
	    PQbackendPID(conn) != health_seen.backend_pid ||
	    db_now() - health_seen.at >= HEALTH_VOUCH_SECONDS)
		return false;
	pfd = (struct pollfd){.fd = PQsocket(conn), .events = POLLIN};
	return pfd.fd >= 0 && poll(&pfd, 1, 0) == 0;
}

/*
 * GET /healthz: the worker's connection answers SELECT 1 (a round trip at
 * most once a second, see health_vouched).
 * 200 {"status":"ok"}; 503 {"status":"unavailable"} when the database does
 * not answer.
 */
void
health_get(struct request_ctx *ctx)
{
	PGconn *conn;
	PGresult *r;
	bool ok = health_vouched(ctx->db);

	if (!ok && (conn = db_connection(ctx->db)) != NULL) {
		r = PQexecParams(conn, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
		ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
		health_seen.conn = NULL;
		if (ok) {
			health_seen.conn = conn;
			health_seen.backend_pid = PQbackendPID(conn);
			health_seen.at = db_now();
		} else {
			db_check(ctx->db);
		}
	}
	/* Static bodies: no JSON object to build, print and free for two fixed replies. */
	if (ok)
		http_respond_raw(ctx->res, 200, health_ok, sizeof(health_ok) - 1);
	else
		http_respond_raw(ctx->res, 503, health_unavailable, sizeof(health_unavailable) - 1);
}

/* GET /api/v1/openapi.json: 200 with the OpenAPI 3.1 document. */
void
openapi_get(struct request_ctx *ctx)
{
	size_t len;
	const char *doc = openapi_document(&len);

	http_respond_raw(ctx->res, 200, doc, len);
}
