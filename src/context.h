/*
 * context: what a handler is given.  The request is parsed and its body
 * checked, the caller is authenticated and the route's permission has been
 * enforced; for authenticated routes a transaction is open with the request
 * context sealed (see sql/0009_security_layer.sql).  Handlers never touch sockets or
 * write raw headers.
 */
#ifndef FINICOM_CONTEXT_H
#define FINICOM_CONTEXT_H

#include <libpq-fe.h>

#include "authz.h"
#include "db.h"
#include "http.h"
#include "router.h"
#include "util/config.h"

struct request_ctx;

enum actor_kind { ACTOR_NONE, ACTOR_USER, ACTOR_API_KEY };

struct actor {
	enum actor_kind kind;
	const char *id;
	const char *email;      /* users */
	const char *name;       /* users; the key's name for API keys */
	const char *created_at;
	const char *org_id;     /* API keys: the key's org */
	enum role key_role;     /* API keys: the key's own role */
};

/*
 * The arguments of finicom.begin_request() for this request (auth_prepare),
 * and whether it is deferred: for a read route flagged ROUTE_ONE_TRIP it
 * travels with the handler's first statement (see tx_exec).
 */
struct tx_begin_args {
	const char *params[6];
	char hash[2 + 64 + 1];     /* \x + SHA-256 of the token, hex */
	char idle[16];
	const char *credential;    /* "session", "api_key" or NULL */
	const char *token;
	bool deferred;
	/* With deferred: identify and authorize from begin_request's result
	 * (which it PQclear()s); 0, or -1 with the response set. */
	int (*check)(struct request_ctx *ctx, PGresult *r);
};

struct request_ctx {
	struct http_request *req;
	struct http_response *res;
	struct db *db;
	const struct config *cfg;
	const struct route *route;
	struct arena *arena;
	struct actor actor;
	const char *session_token; /* the cookie's token when signed in by cookie */
	const char *org_id;        /* the {org} of the path, once it is known to be a UUID */
	enum role org_role;        /* the actor's role in org_id; ROLE_NONE if not a member */
	bool two_factor_required;  /* org_id requires two-factor and the member has none (sql/0023) */
	bool in_tx;                /* a request transaction is open */
	struct tx_begin_args begin;
	const char *actor_label;   /* for the log line */
	/*
	 * The body field a handler's statement takes its client values from
	 * (e.g. "config"), named by the 400 when PostgreSQL refuses a value
	 * with a data exception and names no column itself (respond_db_error).
	 * NULL: none named.
	 */
	const char *db_field;
	/* The route's body fields (route->body), checked, in its table's order; NULL: absent. */
	json_object *fields[FIELDS_MAX];
};

/*
 * The request transaction (src/tx.c).  tx_begin sends BEGIN and
 * finicom.begin_request(params) in one round trip and returns the latter's
 * result (caller PQclear()s it), or NULL after writing the error response.
 */
PGresult *tx_begin(struct request_ctx *ctx, const char *const params[6]);

/*
 * Run one statement inside the request transaction (one round trip).
 * With last set, COMMIT travels in the same round trip and the transaction
 * ends.  When the begin is deferred (ctx->begin.deferred), BEGIN and
 * begin_request travel in the same round trip too, and ctx->begin.check
 * decides before the statement's result is used: a caller it refuses gets
 * its 401/403/404, and the result (which row-level security already
 * limited to the sealed context) is thrown away.  Returns the result (caller
 * PQclear()s it), or NULL after writing the error response.
 */
PGresult *tx_exec(struct request_ctx *ctx, const char *sql, int nparams,
    const char *const *params, bool last);

/*
 * Commit the request transaction so far and begin another with
 * finicom.begin_request() again (one round trip), for a request that then
 * keeps its transaction open for long (the audit export's cursor): the
 * first begin_request may have stamped the session's last_seen_at and the
 * member's last_active_at, and those row locks would otherwise hold every
 * other request of that user to that org until the export ends.  The
 * second finds the stamps fresh and writes nothing.  Returns its result
 * (the caller identifies and authorizes the caller again from it and
 * PQclear()s it), or NULL after writing the error response.
 */
PGresult *tx_renew(struct request_ctx *ctx);

/* End the request transaction: COMMIT after a success (unless done), else ROLLBACK. */
void tx_end(struct request_ctx *ctx);

/* Roll back whatever transaction the connection is still in (between requests). */
void tx_reset(struct db *db);

/* One autocommit statement for routes without a request transaction. */
PGresult *db_exec_once(struct request_ctx *ctx, const char *sql, int nparams,
    const char *const *params);

/*
 * Turn a failed statement into a response, the one place where SQLSTATEs
 * become statuses (the table is in src/request.c): 503 when the database
 * is gone or overloaded, 409 for a unique violation or a concurrent change
 * (serialization failure, deadlock), 404 for a foreign key whose row is
 * gone (an org or object deleted meanwhile), 400 validation_failed for a
 * data exception or a check the client's value broke (naming the field
 * when it can: see ctx->db_field), 403 for a row-level security refusal,
 * custom SQLSTATEs F04xx as their HTTP status (see sql/), else 500 with
 * nothing internal in the message.  r may be NULL.
 */
void respond_db_error(struct request_ctx *ctx, const PGresult *r);

/*
 * A failed statement's SQLSTATE and fields (each NULL when absent), from
 * this worker's connection or forwarded by an auth process.
 */
struct db_failure {
	const char *sqlstate, *message, *detail, *hint, *column, *constraint, *table;
};

/* respond_db_error's table for a failure given by its fields (the connection is not asked). */
void respond_db_failure(struct request_ctx *ctx, const struct db_failure *f);

/*
 * Keyset pagination.  Reads ?limit (1-200, default 50) and ?cursor from the
 * query (400 validation_failed naming the field when bad) into params[0..2]
 * as text: the limit, the cursor's time and id (NULL without a cursor).
 * Returns 0 or -1 with the response set.
 */
int page_params(struct request_ctx *ctx, const char *params[3]);

/*
 * A page query from its inner SELECT, which yields item (JSON), kt and ki
 * (the row's cursor time and id) and n (its row_number in page order),
 * filtered by the cursor ($2, $3) and limited to $1 + 1 rows.  The wrapper
 * returns the first $1 items as a JSON array and, when there are more, the
 * cursor_key of the last one, computed for that row only.  The inner
 * SELECT is scanned once (a subquery, not a CTE read twice).  String
 * concatenation at compile time: no SQL is built at run time.
 */
#define PAGE_QUERY(inner) \
	"SELECT coalesce(json_agg(item::json ORDER BY n) FILTER (WHERE n <= $1::integer), '[]')::text," \
	" CASE WHEN count(*) > $1::integer" \
	"  THEN max(finicom.cursor_key(kt, ki)) FILTER (WHERE n = $1::integer) END" \
	" FROM (" inner ") page"

/*
 * Run a page query and reply 200 {"items": [...], "next_cursor": ...}.
 * The query takes $1 limit, $2 cursor time, $3 cursor id (then its own
 * parameters) and returns one row: the items as a JSON array text and the
 * cursor_key of the last item when there are more, else NULL.
 */
void respond_page(struct request_ctx *ctx, const char *sql, int nparams, const char *const *params);

/*
 * Reply status with a JSON text from the database as the body, passed
 * through as PostgreSQL printed it (copied into the request's arena); the
 * database built it, so it is not parsed again.  NULL or empty is a 500.
 */
void respond_json_text(struct request_ctx *ctx, int status, const char *text);

/* Parse a JSON text column into an object (owned by the caller) or NULL: for
 * the few replies a handler must change (a new API key's token). */
json_object *json_from_text(const char *text);

#endif
