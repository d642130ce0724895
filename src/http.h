/*
 * http: the request a handler sees and the response it fills in.
 *
 * A request is built from the FastCGI parameters (CGI-style names such as
 * REQUEST_METHOD, REQUEST_URI, HTTP_COOKIE) and the body; every string in it
 * lives in the worker's per-request arena.  Nothing here knows about sockets:
 * worker.c reads the FastCGI stream and hands the bytes over, so the parsing
 * is unit-tested without a server.
 *
 * Words: "params" are the values captured from {name} segments of a route
 * pattern; "query" is the decoded query string; the "body" is at most
 * HTTP_BODY_MAX bytes and, when present, must be a JSON object.
 */
#ifndef FINICOM_HTTP_H
#define FINICOM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "util/arena.h"
#include "util/client_ip.h"

#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_JSON_DEPTH 32
#define HTTP_MAX_QUERY 32
#define HTTP_MAX_COOKIES 32
#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_URI 4096

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER,
};

/* The longest User-Agent kept (sessions record it: API v1.1). */
#define HTTP_USER_AGENT_MAX 256

struct http_pair {
	const char *name;
	const char *value;
};

struct http_request {
	enum http_method method;
	const char *method_name;
	const char *path;          /* percent-decoded path, without the query */
	struct http_pair query[HTTP_MAX_QUERY];
	int nquery;
	struct http_pair cookies[HTTP_MAX_COOKIES];
	int ncookies;
	const char *content_type;  /* NULL when absent */
	long long content_length;  /* 0 when absent */
	const char *authorization; /* NULL when absent */
	const char *csrf_token;
	const char *request_id;    /* always set: nginx's, or one made here */
	const char *remote_addr;   /* the client's address: client_ip() (util/client_ip.h) */
	const char *peer_addr;     /* REMOTE_ADDR, the address nginx saw */
	const char *forwarded_for; /* X-Forwarded-For as sent, NULL when absent */
	const char *user_agent;    /* User-Agent, printable ASCII (others '?'), at most
	                              HTTP_USER_AGENT_MAX bytes; NULL when absent */
	const char *body;          /* NULL when there is none */
	size_t body_len;
	json_object *json;         /* parsed body (an object) or NULL; freed by http_request_clear */
	const char *params[HTTP_MAX_PARAMS];
	int nparams;
	struct arena *arena;
};

struct http_response {
	int status;
	/*
	 * A streamed body instead of body/raw_body (the audit export): after
	 * the headers (content_type, no Content-Length), stream(stream_arg,
	 * write, write_ctx) writes the body as it comes, in the request's
	 * transaction, which stays open until it returns; 0 or -1.
	 */
	int (*stream)(void *arg, int (*write)(void *, const char *, size_t), void *write_ctx);
	void *stream_arg;
	json_object *body;         /* owned; NULL for no body */
	const char *raw_body;      /* a static body instead of json (not owned) */
	size_t raw_len;
	const char *content_type;  /* for raw_body */
	char headers[2048];        /* extra "Name: value\r\n" lines */
	size_t headers_len;
};

/*
 * Set req->remote_addr to the client's address: client_ip() of the peer and
 * X-Forwarded-For under trusted (finicom.conf's trusted_proxies).
 */
void http_request_client_ip(struct http_request *req, const struct cidr_list *trusted);

/* Outcome of parsing: 0 or an HTTP status with code/message for http_error. */
struct http_failure {
	int status;
	const char *code;
	const char *message;
};

/*
 * Fill req from NULL-terminated "NAME=value" FastCGI parameters.
 * Returns 0, or -1 with fail set (400 for a malformed URI or query,
 * 413 for a declared body over HTTP_BODY_MAX, 414 for a URI too long).
 */
int http_request_parse(struct http_request *req, struct arena *a, char *const *envp,
    struct http_failure *fail);

/* Release what the request owns (the parsed JSON body). */
void http_request_clear(struct http_request *req);

/*
 * Check and parse req->body: 415 if it is not declared as JSON, 400
 * invalid_json if it is not one JSON object (strict, valid UTF-8, nested at
 * most HTTP_JSON_DEPTH deep, nothing after it).  An empty body is fine
 * (req->json stays NULL).  Returns 0 or -1 with fail set.
 */
int http_parse_body(struct http_request *req, struct http_failure *fail);

/* Decode %XX and (when plus_is_space) '+'; -1 on a bad escape or a NUL byte. */
int http_percent_decode(const char *in, size_t len, char *out, bool plus_is_space);

/* First value of a query parameter or cookie, or NULL. */
const char *http_query(const struct http_request *req, const char *name);
const char *http_cookie(const struct http_request *req, const char *name);

/* Parse a Cookie header into req->cookies (at most HTTP_MAX_COOKIES). */
void http_parse_cookies(struct http_request *req, char *header);

const char *http_method_name(enum http_method m);
enum http_method http_method_from(const char *name);
const char *http_reason(int status);

/* Response building.  body ownership passes to res. */
void http_response_init(struct http_response *res);
void http_response_clear(struct http_response *res);
void http_respond(struct http_response *res, int status, json_object *body);
/* Reply status with a ready JSON text (not owned: it must outlive the write). */
void http_respond_raw(struct http_response *res, int status, const char *body, size_t len);
void http_error(struct http_response *res, int status, const char *code, const char *message,
    const char *field);
void http_fail(struct http_response *res, const struct http_failure *fail);
int http_add_header(struct http_response *res, const char *name, const char *value);

typedef int (*http_write_fn)(void *ctx, const char *data, size_t len);

/*
 * Write the response as a CGI/FastCGI reply (Status line, headers, blank
 * line, body) through write.  No body is written for HEAD.  Returns 0/-1.
 */
int http_response_write(const struct http_response *res, const struct http_request *req,
    http_write_fn write, void *ctx);

#endif
