/*
 * router: the one static table of routes.
 *
 * A route is (method, path pattern, handler, permission, flags).  Patterns
 * are literal segments and {name} segments, each {name} matching exactly one
 * non-empty segment; the values land in req->params in order.  The table is
 * the single place that says which permission a route needs (authz.c says
 * which roles have it).
 */
#ifndef FINICOM_ROUTER_H
#define FINICOM_ROUTER_H

#include <stddef.h>

#include "authz.h"
#include "http.h"

struct request_ctx;
typedef void (*route_handler)(struct request_ctx *ctx);

enum route_flags {
	ROUTE_BODY = 1 << 0,      /* takes a JSON object body (an empty one is 400) */
	ROUTE_SECRET_PATH = 1 << 1, /* the path holds a token: never log it */
	ROUTE_NO_DB = 1 << 2,     /* no request transaction: the handler uses the db itself, if at all */
	ROUTE_OPTIONAL_AUTH = 1 << 3, /* public, but a valid session is picked up when sent */
	ROUTE_NO_API_KEY = 1 << 4,    /* people only: a request with an API key is 403 */
	ROUTE_ONE_TRIP = 1 << 5,      /* a read whose handler needs no actor before its first statement:
	                                 begin_request travels with it (src/tx.c) */
	ROUTE_QUIET_OK = 1 << 6,      /* a 2xx gets no worker log line (health checks: nginx's access
	                                 log has each one); every other status is logged */
};

struct route {
	enum http_method method;
	const char *pattern;
	route_handler handler;
	enum permission permission;
	unsigned flags;
};

/* The application's route table and its length. */
extern const struct route router_routes[];
extern const size_t router_nroutes;

/*
 * Find the route for (method, path) in table.  On a match, returns it and
 * stores up to HTTP_MAX_PARAMS captured segments in params/nparams (copied
 * into a).  Returns NULL when nothing matches; then allow holds the
 * comma-separated methods the path does accept ("" for an unknown path,
 * which is a 404; otherwise a 405).  HEAD is accepted wherever GET is.
 */
const struct route *router_match(const struct route *table, size_t n, enum http_method method,
    const char *path, struct arena *a, const char **params, int *nparams, char *allow,
    size_t allowlen);

#endif
