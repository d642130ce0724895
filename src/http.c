/*
 * http: request parsing and response writing.  See http.h.
 */
#include "http.h"
#include "util/jsoncheck.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

static const struct {
	enum http_method method;
	const char *name;
} methods[] = {
	{HTTP_GET, "GET"}, {HTTP_HEAD, "HEAD"}, {HTTP_POST, "POST"}, {HTTP_PUT, "PUT"},
	{HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"}, {HTTP_OPTIONS, "OPTIONS"},
};

enum http_method
http_method_from(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, name))
			return methods[i].method;
	return HTTP_OTHER;
}

const char *
http_method_name(enum http_method m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == m)
			return methods[i].name;
	return "OTHER";
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
http_percent_decode(const char *in, size_t len, char *out, bool plus_is_space)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hexval((unsigned char)in[i + 1]);
			lo = hexval((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * The FastCGI parameters a request is built from.  nginx sends twenty and
 * more (every client header among them); one pass over the list picks these
 * out, the first of a name winning, rather than one pass per name.
 */
enum param {
	PARAM_METHOD, PARAM_URI, PARAM_ID, PARAM_ADDR, PARAM_CTYPE, PARAM_CLEN, PARAM_AUTH,
	PARAM_CSRF, PARAM_COOKIE, PARAM_XFF, PARAM_UA, PARAM_COUNT
};

static const struct {
	const char *name; /* with its '=' */
	size_t len;
} param_names[PARAM_COUNT] = {
	{"REQUEST_METHOD=", 15},     /* PARAM_METHOD */
	{"REQUEST_URI=", 12},        /* PARAM_URI */
	{"REQUEST_ID=", 11},         /* PARAM_ID */
	{"REMOTE_ADDR=", 12},        /* PARAM_ADDR */
	{"CONTENT_TYPE=", 13},       /* PARAM_CTYPE */
	{"CONTENT_LENGTH=", 15},     /* PARAM_CLEN */
	{"HTTP_AUTHORIZATION=", 19}, /* PARAM_AUTH */
	{"HTTP_X_CSRF_TOKEN=", 18},  /* PARAM_CSRF */
	{"HTTP_COOKIE=", 12},        /* PARAM_COOKIE */
	{"HTTP_X_FORWARDED_FOR=", 21}, /* PARAM_XFF */
	{"HTTP_USER_AGENT=", 16},    /* PARAM_UA */
};

/* Point values[p] at the value of each parameter in envp, NULL when absent. */
static void
params_pick(char *const *envp, const char *values[PARAM_COUNT])
{
	int found = 0;

	for (int p = 0; p < PARAM_COUNT; p++)
		values[p] = NULL;
	for (; *envp != NULL && found < PARAM_COUNT; envp++) {
		const char *e = *envp;
		if (e[0] != 'R' && e[0] != 'C' && e[0] != 'H')
			continue;
		for (int p = 0; p < PARAM_COUNT; p++) {
			if (values[p] == NULL && e[0] == param_names[p].name[0] &&
			    e[1] == param_names[p].name[1] &&
			    strncmp(e, param_names[p].name, param_names[p].len) == 0) {
				values[p] = e + param_names[p].len;
				found++;
				break;
			}
		}
	}
}

/*
 * The User-Agent as sessions keep it: its first HTTP_USER_AGENT_MAX bytes,
 * each byte outside printable ASCII replaced by '?' (so it is always valid
 * text for the database, whatever the client sent), in the arena; NULL for
 * none or an empty one.
 */
static const char *
user_agent_copy(struct arena *a, const char *v)
{
	size_t n;
	char *out;

	if (v == NULL || *v == '\0')
		return NULL;
	n = strnlen(v, HTTP_USER_AGENT_MAX);
	if ((out = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = (v[i] >= 0x20 && v[i] <= 0x7e) ? v[i] : '?';
	out[n] = '\0';
	return out;
}

/* A request id we accept from nginx: 1-64 chars of [A-Za-z0-9_-]. */
static bool
request_id_ok(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++)
		if (!isalnum((unsigned char)id[n]) && id[n] != '-' && id[n] != '_')
			return false;
	return n > 0 && n <= 64;
}

static const char *
make_request_id(struct arena *a)
{
	unsigned char raw[16];
	char *id = arena_alloc(a, 33);

	if (id == NULL)
		return "-";
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 0, sizeof(raw));
	for (int i = 0; i < 16; i++) {
		id[2 * i] = "0123456789abcdef"[raw[i] >> 4];
		id[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
	}
	id[32] = '\0';
	return id;
}

static int
parse_query(struct http_request *req, const char *qs, struct http_failure *fail)
{
	const char *p = qs;

	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		char *key, *val;

		if (len > 0) {
			if (req->nquery == HTTP_MAX_QUERY) {
				*fail = (struct http_failure){400, "validation_failed", "too many query parameters"};
				return -1;
			}
			key = arena_alloc(req->arena, klen + 1);
			val = arena_alloc(req->arena, (eq ? len - klen - 1 : 0) + 1);
			if (key == NULL || val == NULL ||
			    http_percent_decode(p, klen, key, true) < 0 ||
			    http_percent_decode(eq ? eq + 1 : "", eq ? len - klen - 1 : 0, val, true) < 0) {
				*fail = (struct http_failure){400, "validation_failed", "malformed query string"};
				return -1;
			}
			req->query[req->nquery++] = (struct http_pair){key, val};
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
}

void
http_parse_cookies(struct http_request *req, char *header)
{
	char *save = NULL;

	for (char *part = strtok_r(header, ";", &save); part != NULL; part = strtok_r(NULL, ";", &save)) {
		char *eq, *name, *value, *end;

		while (*part == ' ' || *part == '\t')
			part++;
		eq = strchr(part, '=');
		if (eq == NULL || eq == part)
			continue;
		*eq = '\0';
		name = part;
		value = eq + 1;
		end = eq;
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (value[0] == '"' && end - value >= 2 && end[-1] == '"') {
			end[-1] = '\0';
			value++;
		}
		if (req->ncookies == HTTP_MAX_COOKIES)
			break;
		req->cookies[req->ncookies++] = (struct http_pair){name, value};
	}
}

void
http_request_client_ip(struct http_request *req, const struct cidr_list *trusted)
{
	char buf[64];
	const char *ip = client_ip(trusted, req->peer_addr, req->forwarded_for, buf, sizeof(buf));

	req->remote_addr = ip == buf ? arena_strdup(req->arena, buf) : ip;
	if (req->remote_addr == NULL)
		req->remote_addr = req->peer_addr;
}

int
http_request_parse(struct http_request *req, struct arena *a, char *const *envp,
    struct http_failure *fail)
{
	const char *param[PARAM_COUNT];
	const char *method, *uri, *v, *q;
	size_t path_len;
	char *path;

	params_pick(envp, param);
	method = param[PARAM_METHOD];
	uri = param[PARAM_URI];
	memset(req, 0, sizeof(*req));
	req->arena = a;
	v = param[PARAM_ID];
	req->request_id = (v != NULL && request_id_ok(v)) ? v : make_request_id(a);
	req->peer_addr = param[PARAM_ADDR];
	req->remote_addr = req->peer_addr; /* until http_request_client_ip() */
	req->forwarded_for = param[PARAM_XFF];
	req->user_agent = user_agent_copy(a, param[PARAM_UA]);
	req->method_name = method ? method : "";
	req->method = http_method_from(req->method_name);
	req->path = "/";

	if (uri == NULL || uri[0] != '/') {
		*fail = (struct http_failure){400, "validation_failed", "malformed request URI"};
		return -1;
	}
	if (strlen(uri) > HTTP_MAX_URI) {
		*fail = (struct http_failure){414, "validation_failed", "request URI is too long"};
		return -1;
	}
	q = strchr(uri, '?');
	path_len = q ? (size_t)(q - uri) : strlen(uri);
	path = arena_alloc(a, path_len + 1);
	if (path == NULL || http_percent_decode(uri, path_len, path, false) < 0) {
		*fail = (struct http_failure){400, "validation_failed", "malformed request path"};
		return -1;
	}
	req->path = path;
	if (q != NULL && parse_query(req, q + 1, fail) < 0)
		return -1;

	req->content_type = param[PARAM_CTYPE];
	if (req->content_type != NULL && req->content_type[0] == '\0')
		req->content_type = NULL;
	v = param[PARAM_CLEN];
	if (v != NULL && *v != '\0') {
		char *end;
		errno = 0;
		req->content_length = strtoll(v, &end, 10);
		if (errno || *end != '\0' || req->content_length < 0 || !isdigit((unsigned char)*v)) {
			*fail = (struct http_failure){400, "validation_failed", "malformed Content-Length"};
			return -1;
		}
		if (req->content_length > HTTP_BODY_MAX) {
			*fail = (struct http_failure){413, "payload_too_large", "request body is larger than 64 KiB"};
			return -1;
		}
	}
	req->authorization = param[PARAM_AUTH];
	req->csrf_token = param[PARAM_CSRF];
	v = param[PARAM_COOKIE];
	if (v != NULL) {
		char *copy = arena_strndup(a, v, strnlen(v, 8192));
		if (copy != NULL)
			http_parse_cookies(req, copy);
	}
	return 0;
}

void
http_request_clear(struct http_request *req)
{
	if (req->json != NULL) {
		json_object_put(req->json);
		req->json = NULL;
	}
}

/* application/json, optionally with "; charset=utf-8", any case. */
static bool
content_type_is_json(const char *ct)
{
	const char *p;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		return false;
	p = ct + 16;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
	if (*p++ != ';')
		return false;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	if (*p == '"')
		p++;
	return strncasecmp(p, "utf-8", 5) == 0 && (p[5] == '\0' || p[5] == '"' || p[5] == ' ');
}

/* The client's message for a refused body: jsoncheck's reason, said of the body. */
static const char *
why_message(const char *why)
{
	static const struct {
		const char *prefix, *message;
	} messages[] = {
		{"nested", "request body is nested deeper than 32"},
		{"not valid", "request body is not valid JSON"},
	};

	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (why != NULL && !strncmp(why, messages[i].prefix, strlen(messages[i].prefix)))
			return messages[i].message;
	return why != NULL ? why : "request body is not valid JSON";
}

int
http_parse_body(struct http_request *req, struct http_failure *fail)
{
	json_object *obj;
	const char *why;

	if (req->body == NULL || req->body_len == 0)
		return 0;
	if (!content_type_is_json(req->content_type)) {
		*fail = (struct http_failure){415, "unsupported_media_type",
		    "request bodies must be application/json"};
		return -1;
	}
	/*
	 * The strict check, json-c's parse, and the walk that refuses duplicate
	 * keys and keeps every number's text as sent (util/jsoncheck.h): what
	 * a handler stores from req->json is what the client wrote.
	 */
	obj = json_parse_exact(req->body, req->body_len, HTTP_JSON_DEPTH, &why);
	if (obj == NULL) {
		if (why == json_why_nomem) {
			*fail = (struct http_failure){500, "internal", "internal error"};
			return -1;
		}
		*fail = (struct http_failure){400, "invalid_json", why_message(why)};
		return -1;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		*fail = (struct http_failure){400, "invalid_json", "request body must be a JSON object"};
		return -1;
	}
	req->json = obj;
	return 0;
}

const char *
http_query(const struct http_request *req, const char *name)
{
	for (int i = 0; i < req->nquery; i++)
		if (!strcmp(req->query[i].name, name))
			return req->query[i].value;
	return NULL;
}

const char *
http_cookie(const struct http_request *req, const char *name)
{
	for (int i = 0; i < req->ncookies; i++)
		if (!strcmp(req->cookies[i].name, name))
			return req->cookies[i].value;
	return NULL;
}

void
http_response_init(struct http_response *res)
{
	res->status = 0;
	res->stream = NULL;
	res->stream_arg = NULL;
	res->body = NULL;
	res->raw_body = NULL;
	res->raw_len = 0;
	res->content_type = NULL;
	res->headers_len = 0;
	res->headers[0] = '\0';
}

void
http_response_clear(struct http_response *res)
{
	if (res->body != NULL)
		json_object_put(res->body);
	http_response_init(res);
}

void
http_respond(struct http_response *res, int status, json_object *body)
{
	if (res->body != NULL)
		json_object_put(res->body);
	res->status = status;
	res->body = body;
	res->raw_body = NULL;
}

void
http_respond_raw(struct http_response *res, int status, const char *body, size_t len)
{
	http_respond(res, status, NULL);
	res->raw_body = body;
	res->raw_len = len;
	res->content_type = "application/json";
}

void
http_error(struct http_response *res, int status, const char *code, const char *message,
    const char *field)
{
	json_object *err = json_object_new_object();
	json_object *outer = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	if (field != NULL)
		json_object_object_add(err, "field", json_object_new_string(field));
	json_object_object_add(outer, "error", err);
	http_respond(res, status, outer);
}

void
http_fail(struct http_response *res, const struct http_failure *fail)
{
	http_error(res, fail->status, fail->code, fail->message, NULL);
}

int
http_add_header(struct http_response *res, const char *name, const char *value)
{
	size_t room = sizeof(res->headers) - res->headers_len;
	int n;

	/* Header injection is impossible by construction, but refuse it anyway. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	n = snprintf(res->headers + res->headers_len, room, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= room) {
		res->headers[res->headers_len] = '\0';
		return -1;
	}
	res->headers_len += (size_t)n;
	return 0;
}

/* Append s[0..n) to buf (size cap) at *len, as much as fits (the head's parts are bounded). */
static void
head_put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n > cap - *len)
		n = cap - *len;
	memcpy(buf + *len, s, n);
	*len += n;
}

#define HEAD_PUT_LITERAL(buf, len, s) head_put(buf, sizeof(buf), len, s, sizeof(s) - 1)

/* Append the decimal digits of v. */
static void
head_put_number(char *buf, size_t cap, size_t *len, size_t v)
{
	char tmp[24];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	head_put(buf, cap, len, tmp + n, sizeof(tmp) - n);
}

/*
 * The head is put together with memcpy rather than snprintf: this runs on
 * every request.  Its parts are bounded (a request id is at most 64
 * characters, content types are our own), so 512 bytes always hold it.
 */
int
http_response_write(const struct http_response *res, const struct http_request *req,
    http_write_fn write, void *ctx)
{
	char head[512];
	const char *body = NULL, *reason = http_reason(res->status);
	const char *id = req->request_id ? req->request_id : "-";
	size_t body_len = 0, n = 0;
	const char *ctype = "application/json";

	if (res->body != NULL) {
		body = json_object_to_json_string_length(res->body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &body_len);
	} else if (res->raw_body != NULL) {
		body = res->raw_body;
		body_len = res->raw_len;
		if (res->content_type != NULL)
			ctype = res->content_type;
	}
	HEAD_PUT_LITERAL(head, &n, "Status: ");
	head_put_number(head, sizeof(head), &n, res->status >= 0 ? (size_t)res->status : 0);
	HEAD_PUT_LITERAL(head, &n, " ");
	head_put(head, sizeof(head), &n, reason, strlen(reason));
	HEAD_PUT_LITERAL(head, &n, "\r\nX-Request-Id: ");
	head_put(head, sizeof(head), &n, id, strnlen(id, 64));
	HEAD_PUT_LITERAL(head, &n, "\r\nCache-Control: no-store\r\n");
	if (res->stream != NULL && body == NULL) {
		ctype = res->content_type != NULL ? res->content_type : "application/octet-stream";
		HEAD_PUT_LITERAL(head, &n, "Content-Type: ");
		head_put(head, sizeof(head), &n, ctype, strnlen(ctype, 128));
		HEAD_PUT_LITERAL(head, &n, "\r\n");
	} else if (body != NULL) {
		HEAD_PUT_LITERAL(head, &n, "Content-Type: ");
		head_put(head, sizeof(head), &n, ctype, strnlen(ctype, 128));
		HEAD_PUT_LITERAL(head, &n, "\r\nContent-Length: ");
		head_put_number(head, sizeof(head), &n, body_len);
		HEAD_PUT_LITERAL(head, &n, "\r\n");
	}
	if (write(ctx, head, n) < 0)
		return -1;
	if (res->headers_len > 0 && write(ctx, res->headers, res->headers_len) < 0)
		return -1;
	if (write(ctx, "\r\n", 2) < 0)
		return -1;
	if (body != NULL && req->method != HTTP_HEAD && body_len > 0)
		return write(ctx, body, body_len);
	if (body == NULL && res->stream != NULL && req->method != HTTP_HEAD)
		return res->stream(res->stream_arg, write, ctx);
	return 0;
}
