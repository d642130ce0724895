/*
 * worker: the accept loop and the dispatch of one request.
 *
 * Dispatch order, which decides which error a bad request gets:
 *   parse (400/413/414) → route (404/405) → body (415/400) →
 *   begin + identify (401) → authorize (403/404) → typed path parameters
 *   (404) and body fields (400) → handler → end (src/tx.c).
 * Every response, error or not, carries X-Request-Id and gets one log line
 * (but a success of a ROUTE_QUIET_OK route: /healthz).
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth.h"
#include "context.h"
#include "db.h"
#include "handlers/handlers.h"
#include "http.h"
#include "metrics.h"
#include "privsep/privsep.h"
#include "router.h"
#include "util/arena.h"
#include "util/log.h"
#include "util/common_passwords.h"

#define ARENA_FIRST_BLOCK (128 * 1024)
#define ARENA_LIMIT (4 * 1024 * 1024)

static volatile sig_atomic_t stopping;
static int worker_listen_fd = -1;
static int devnull_fd = -1;

/*
 * SIGTERM: stop accepting.  Replacing the listen descriptor with /dev/null
 * makes a blocked or upcoming accept() fail at once, so the loop ends after
 * the request in flight, without a race between "check flag" and "accept".
 */
static void
on_terminate(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
	if (devnull_fd >= 0)
		dup2(devnull_fd, worker_listen_fd);
}

static int
fcgx_write(void *ctx, const char *data, size_t len)
{
	return FCGX_PutStr(data, (int)len, ctx) == (int)len ? 0 : -1;
}

/*
 * libfcgi closes a connection with a lingering close (shutdown, poll, read,
 * close) so that input still in flight cannot turn into a reset that loses
 * the reply.  nginx sends the whole request before it reads the reply
 * (request buffering), and the reply is still in libfcgi's buffer here
 * (Finish writes it), so nginx has not closed yet: when nothing unread is
 * waiting on the socket, nothing more will come, and a plain close is as
 * safe in one call instead of four.  Otherwise (a body the handler did not
 * read, an abort record) libfcgi's own close, as before.
 */
static void
close_plainly_if_drained(FCGX_Request *fcgx)
{
	struct pollfd pfd = {.fd = fcgx->ipcFd, .events = POLLIN};

	if (pfd.fd >= 0 && !fcgx->keepConnection && poll(&pfd, 1, 0) == 0)
		FCGX_Detach(fcgx);
}

/*
 * A streamed body that stopped part way (a failed FETCH, a client gone):
 * its status line went out long ago, so the reply must not look complete.
 * Ending the request normally would send FCGI_END_REQUEST, and nginx would
 * then close the chunked body with its last chunk: a truncated export that
 * parses as a whole one.  Shutting the connection down instead leaves
 * nginx an upstream that closed early ("upstream prematurely closed"):
 * it drops the client's connection without the last chunk, which every
 * HTTP client reports as an incomplete transfer.  FCGX_Finish_r's writes
 * then fail quietly and it closes the connection.
 */
static void
abort_stream(FCGX_Request *fcgx)
{
	log_msg(LOG_WARN, "a streamed reply stopped part way: the connection is cut so the client "
	    "sees an incomplete transfer");
	if (fcgx->ipcFd >= 0)
		shutdown(fcgx->ipcFd, SHUT_RDWR);
	fcgx->keepConnection = 0;
}

/* Read the declared body (at most HTTP_BODY_MAX, checked by the parser). */
static int
read_body(struct http_request *req, FCGX_Stream *in)
{
	char *buf;
	size_t got = 0, want = (size_t)req->content_length;

	if (want == 0)
		return 0;
	buf = arena_alloc(req->arena, want + 1);
	if (buf == NULL)
		return -1;
	while (got < want) {
		int n = FCGX_GetStr(buf + got, (int)(want - got), in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	req->body = buf;
	req->body_len = got;
	return 0;
}

/*
 * The path for the log when the route does not say it holds a token (or no
 * route matched): segments longer than 40 bytes, token-sized, are hidden.
 */
static const char *
loggable_path(struct arena *a, const char *path)
{
	size_t n = strnlen(path, 256);
	char *out = arena_alloc(a, n + 16 * 8);
	size_t o = 0;
	const char *p = path;

	if (out == NULL)
		return "-";
	while (*p && (size_t)(p - path) < n) {
		const char *slash = strchr(p + 1, '/');
		size_t seg = slash ? (size_t)(slash - p) : strlen(p);
		if (seg > 40) {
			memcpy(out + o, "/{redacted}", 11);
			o += 11;
		} else {
			memcpy(out + o, p, seg);
			o += seg;
		}
		p += seg;
		if (o > n + 100)
			break;
	}
	out[o] = '\0';
	return out;
}

static void
log_request(struct request_ctx *ctx, double elapsed)
{
	char line[1024], pattern[160] = "-";
	size_t len = 0;
	struct http_request *req = ctx->req;

	if (ctx->route != NULL && (ctx->route->flags & ROUTE_QUIET_OK) && ctx->res->status >= 200 &&
	    ctx->res->status < 300)
		return;
	if (ctx->route != NULL)
		router_plain_pattern(ctx->route->pattern, pattern, sizeof(pattern));
	log_kv(line, sizeof(line), &len, "request_id", req->request_id);
	log_kv(line, sizeof(line), &len, "method", req->method_name);
	/* A route whose path carries a token logs its pattern; others their path. */
	log_kv(line, sizeof(line), &len, "path",
	    ctx->route != NULL && (ctx->route->flags & ROUTE_SECRET_PATH) ? pattern
	                                                                  : loggable_path(ctx->arena, req->path));
	log_kv(line, sizeof(line), &len, "route", pattern);
	log_kv_int(line, sizeof(line), &len, "status", ctx->res->status);
	log_kv_ms(line, sizeof(line), &len, "duration_ms", elapsed);
	log_kv(line, sizeof(line), &len, "actor", ctx->actor_label);
	log_kv(line, sizeof(line), &len, "org", ctx->org_id);
	log_kv(line, sizeof(line), &len, "ip", req->remote_addr);
	log_line(ctx->res->status >= 500 ? LOG_WARN : LOG_INFO, line);
}

/* ctx->begin.check of a deferred begin: who is calling, and may they. */
static int
identify_and_authorize(struct request_ctx *ctx, PGresult *r)
{
	if (auth_identified(ctx, r) < 0)
		return -1;
	return auth_authorize(ctx);
}

/*
 * The route's typed path parameters and body fields, checked after the
 * caller is identified and authorized (so a refused caller learns nothing
 * from them), before the handler: a malformed id is 404 "no such member",
 * a bad field 400 naming it.  {org} was checked when the caller was
 * identified (src/auth.c).  False after writing the error.
 */
static bool
inputs_ok(struct request_ctx *ctx)
{
	char message[64];

	if (router_bad_param(ctx->route, ctx->req->params, ctx->req->nparams, "org", message,
	        sizeof(message)) >= 0) {
		http_error(ctx->res, 404, "not_found", message, NULL);
		return false;
	}
	return ctx->route->body == NULL ||
	    validate_fields(ctx->req->json, ctx->route->body, ctx->fields, ctx->res) == 0;
}

/* Route, check and run one request; fills ctx->res. */
static void
dispatch(struct request_ctx *ctx, FCGX_Request *fcgx)
{
	struct http_request *req = ctx->req;
	struct http_failure fail;
	const struct route *route;
	char allow[128];

	int parsed = http_request_parse(req, ctx->arena, fcgx->envp, &fail);

	/* The client's address, decided once for everyone (rate limits, audit, sessions, log). */
	http_request_client_ip(req, &ctx->cfg->trusted_proxies);
	if (parsed < 0) {
		http_fail(ctx->res, &fail);
		return;
	}
	route = router_match(router_routes, router_nroutes, req->method, req->path, ctx->arena,
	    req->params, &req->nparams, allow, sizeof(allow));
	if (route == NULL) {
		if (allow[0] != '\0') {
			http_error(ctx->res, 405, "method_not_allowed",
			    "this method is not allowed on this path", NULL);
			http_add_header(ctx->res, "Allow", allow);
		} else {
			http_error(ctx->res, 404, "not_found", "no such resource", NULL);
		}
		return;
	}
	ctx->route = route;
	if (read_body(req, fcgx->in) < 0) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	if (http_parse_body(req, &fail) < 0) {
		http_fail(ctx->res, &fail);
		return;
	}
	if ((route->flags & ROUTE_BODY) && req->json == NULL) {
		http_error(ctx->res, 400, "invalid_json", "a JSON object body is required", NULL);
		return;
	}
	if ((route->flags & ROUTE_NO_API_KEY) && req->authorization != NULL) {
		http_error(ctx->res, 403, "forbidden", "API keys cannot do this; sign in", NULL);
		return;
	}
	if (route->permission != PERM_PUBLIC || (route->flags & ROUTE_OPTIONAL_AUTH)) {
		if ((route->flags & ROUTE_ONE_TRIP) && ctx->cfg->one_trip_reads) {
			/* begin + identify + authorize travel with the handler's first statement */
			if (auth_prepare(ctx) < 0)
				return;
			ctx->begin.deferred = true;
			ctx->begin.check = identify_and_authorize;
		} else if (auth_identify(ctx) < 0 || auth_authorize(ctx) < 0) {
			tx_end(ctx);
			return;
		}
	}
	if (inputs_ok(ctx))
		route->handler(ctx);
	if (ctx->begin.deferred) {
		/* The handler answered without the database: the caller is checked now, first. */
		ctx->begin.deferred = false;
		PGresult *r = tx_begin(ctx, ctx->begin.params);
		if (r == NULL || identify_and_authorize(ctx, r) < 0) {
			tx_end(ctx);
			return;
		}
	}
	if (ctx->res->status == 0)
		http_error(ctx->res, 500, "internal", "internal error", NULL);
	/* A streamed body reads from the transaction: worker_run ends it after the write. */
	if (ctx->res->stream == NULL || ctx->res->status != 200)
		tx_end(ctx);
}

int
worker_run(const struct config *cfg, int listen_fd, int auth_queue_fd)
{
	struct sigaction sa;
	FCGX_Request fcgx;
	struct arena arena;
	struct db db;
	struct http_request req;
	struct http_response res;

	log_set_process("finicomd-worker");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_terminate; /* no SA_RESTART: accept() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	worker_listen_fd = listen_fd;
	devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/*
	 * libfcgi ends each connection with a lingering close: shutdown(), then
	 * poll() up to 2 s for nginx to close its end first, reading what comes.
	 * nginx sends the whole request before it reads the reply (request
	 * buffering is on) and closes as soon as FCGI_END_REQUEST arrives, so
	 * waiting for it only parks the worker; with 0 whatever is already
	 * there is still read and dropped.  Read once, by FCGX_Init().
	 */
	setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgx, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0 ||
	    arena_init(&arena, ARENA_FIRST_BLOCK, ARENA_LIMIT) < 0) {
		log_msg(LOG_ERROR, "could not initialize the worker");
		return 1;
	}
	db_init(&db, cfg->database, "finicomd");
	db.prepare = cfg->database_prepared;
	db_connection(&db); /* connect now if we can; requests retry otherwise */
	privsep_worker_init(auth_queue_fd, cfg->auth_timeout);
	common_passwords_warm(); /* the new-password rule of signup and accept (validate.h) */
	log_msg(LOG_INFO, "worker ready");
	metrics_ready();

	while (!stopping) {
		struct request_ctx ctx = {
			.req = &req, .res = &res, .db = &db, .cfg = cfg, .route = NULL,
			.arena = &arena, .actor_label = "-", .org_id = NULL, .org_role = ROLE_NONE,
		};
		double started, elapsed;

		if (FCGX_Accept_r(&fcgx) < 0) {
			if (stopping)
				break;
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERROR, "accept failed: %s", strerror(errno));
			break;
		}
		started = db_now();
		http_response_init(&res);
		memset(&req, 0, sizeof(req));
		req.request_id = "-";
		req.method_name = "-";
		req.path = "-";
		dispatch(&ctx, &fcgx);
		if (http_response_write(&res, &req, fcgx_write, fcgx.out) < 0) {
			if (res.stream != NULL)
				abort_stream(&fcgx);
			else
				log_msg(LOG_WARN, "could not write the response (client gone)");
		}
		tx_end(&ctx); /* a streamed body's transaction (no-op otherwise) */
		tx_reset(&db); /* never carry a transaction into the next request */
		/* Before Finish: the parameters the request points into are freed there. */
		elapsed = db_now() - started;
		/* Shared-memory counters of this worker's slot: no system call (src/metrics.h). */
		metrics_request(ctx.route ? (int)(ctx.route - router_routes) : -1, res.status, elapsed);
		log_request(&ctx, elapsed);
		close_plainly_if_drained(&fcgx);
		FCGX_Finish_r(&fcgx);
		http_request_clear(&req);
		http_response_clear(&res);
		arena_reset(&arena);
	}
	FCGX_Free(&fcgx, 0);
	db_close(&db);
	arena_free(&arena);
	log_msg(LOG_INFO, "worker stopped");
	return 0;
}
