/*
 * test_http_params: the one-pass pick of FastCGI parameters in
 * http_request_parse (the first of a name wins, a longer name sharing the
 * prefix is not taken for it, odd entries are skipped) and the response head
 * written without printf, byte for byte.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "http.h"
#include "tap.h"

static void
test_params_pick(void)
{
	char *env[] = {
		"", "R", "=", "REQUEST_URI", "REQUEST_URIS=/not-this", "REQUEST_METHODS=PUT",
		"HTTP_COOKIE_X=a=b", "CONTENT_TYPE_X=text/plain", "REMOTE_ADDRESS=10.0.0.1",
		"HTTP_HOST=localhost", "REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/me?x=1",
		"REQUEST_URI=/second", "REMOTE_ADDR=127.0.0.1", "CONTENT_TYPE=application/json",
		"CONTENT_LENGTH=2", "HTTP_AUTHORIZATION=Bearer k", "HTTP_X_CSRF_TOKEN=t",
		"HTTP_COOKIE=finicom_session=s1; other=2", "HTTP_COOKIE=finicom_session=evil",
		"REQUEST_ID=abc-DEF_123", "REQUEST_ID=second", NULL,
	};
	struct arena a;
	struct http_request req;
	struct http_failure fail;

	if (!ok(arena_init(&a, 4096, 65536) == 0, "arena"))
		return;
	ok(http_request_parse(&req, &a, env, &fail) == 0, "request parsed");
	ok(req.method == HTTP_POST, "REQUEST_METHOD, not REQUEST_METHODS");
	is_str(req.path, "/api/v1/me", "the first REQUEST_URI, not REQUEST_URIS or the second");
	is_str(http_query(&req, "x"), "1", "its query");
	is_str(req.remote_addr, "127.0.0.1", "REMOTE_ADDR, not REMOTE_ADDRESS");
	is_str(req.content_type, "application/json", "CONTENT_TYPE, not CONTENT_TYPE_X");
	ok(req.content_length == 2, "CONTENT_LENGTH");
	is_str(req.authorization, "Bearer k", "HTTP_AUTHORIZATION");
	is_str(req.csrf_token, "t", "HTTP_X_CSRF_TOKEN");
	is_str(http_cookie(&req, "finicom_session"), "s1", "the first HTTP_COOKIE, not HTTP_COOKIE_X");
	ok(http_cookie(&req, "a") == NULL, "test-http-params-bad-prefix: HTTP_COOKIE_X not parsed");
	is_str(req.request_id, "abc-DEF_123", "the first REQUEST_ID");
	arena_reset(&a);

	{
		char *bare[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/healthz", NULL};
		bool hex = true;

		ok(http_request_parse(&req, &a, bare, &fail) == 0, "minimal request parsed");
		ok(req.content_type == NULL && req.authorization == NULL && req.csrf_token == NULL &&
		    req.remote_addr == NULL && req.ncookies == 0 && req.content_length == 0,
		    "absent parameters are NULL or 0");
		for (const char *p = req.request_id; *p; p++)
			hex = hex && isxdigit((unsigned char)*p) && !isupper((unsigned char)*p);
		ok(strlen(req.request_id) == 32 && hex, "no REQUEST_ID: 32 lowercase hex digits made here (%s)",
		    req.request_id);
	}
	arena_free(&a);
}

struct sink {
	char buf[4096];
	size_t len;
};

static int
sink_write(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	if (s->len + len >= sizeof(s->buf))
		return -1;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

static void
test_response_head(void)
{
	static const char id64[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct http_request req = {.method = HTTP_GET, .request_id = "rid"};
	struct http_response res;
	struct sink s = {.len = 0};

	http_response_init(&res);
	http_respond(&res, 200, NULL);
	res.raw_body = "{\"status\":\"ok\"}";
	res.raw_len = 15;
	res.content_type = "application/json";
	ok(http_response_write(&res, &req, sink_write, &s) == 0, "raw reply written");
	is_str(s.buf,
	    "Status: 200 OK\r\nX-Request-Id: rid\r\nCache-Control: no-store\r\n"
	    "Content-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}",
	    "raw reply, byte for byte");

	s.len = 0;
	req.request_id = id64;
	req.method = HTTP_HEAD;
	http_respond(&res, 503, json_object_new_object());
	json_object_object_add(res.body, "status", json_object_new_string("unavailable"));
	http_add_header(&res, "Retry-After", "5");
	ok(http_response_write(&res, &req, sink_write, &s) == 0, "JSON reply to HEAD written");
	is_str(s.buf,
	    "Status: 503 Service Unavailable\r\nX-Request-Id: "
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"
	    "Cache-Control: no-store\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
	    "Retry-After: 5\r\n\r\n",
	    "JSON reply to HEAD: 64-character id, extra header, length of the body not sent");
	http_response_clear(&res);

	s.len = 0;
	req.request_id = NULL;
	req.method = HTTP_DELETE;
	res.status = 204;
	ok(http_response_write(&res, &req, sink_write, &s) == 0, "empty reply written");
	is_str(s.buf, "Status: 204 No Content\r\nX-Request-Id: -\r\nCache-Control: no-store\r\n\r\n",
	    "no body: no Content-Type or Content-Length; no id: \"-\"");
}

int
main(void)
{
	test_params_pick();
	test_response_head();
	return done_testing();
}
