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
#include "validate.h"

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

/*
 * A route: method, pattern, handler, the permission it needs, flags, and
 * the body's fields (NULL: the handler reads no body fields, or checks
 * them itself).  A pattern's segment "{name}" captures any non-empty
 * segment; "{name:uuid}" only a UUID in canonical text form: a segment that
 * is not one is a 404 naming what the path's resource is ("no such
 * member"), answered by dispatch after the caller is identified and
 * authorized, before the handler runs (router_bad_param).  The body's
 * fields are checked by validate_fields() at the same point; the handler
 * finds their values in ctx->fields, in the order of the field table.
 */
struct route {
	enum http_method method;
	const char *pattern;
	route_handler handler;
	enum permission permission;
	unsigned flags;
	const struct fieldset *body;
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

/*
 * The first typed parameter of route r whose captured value (params, in
 * pattern order) is not of its type, skipping the one named skip (NULL:
 * none): returns its index and writes "no such <noun>" into message, the
 * noun being that of the literal segment before it (members → member,
 * api-keys → API key); -1 when every typed parameter is well formed.
 */
int router_bad_param(const struct route *r, const char *const *params, int nparams, const char *skip,
    char *message, size_t cap);

/* The index of the parameter called name in r's pattern, or -1. */
int router_param_index(const struct route *r, const char *name);

/*
 * pattern without its parameter types ("{id:uuid}" → "{id}"), as the
 * OpenAPI document and the log name the route; into out (cap bytes).
 */
const char *router_plain_pattern(const char *pattern, char *out, size_t cap);

#endif
