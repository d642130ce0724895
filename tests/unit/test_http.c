/*
 * test_http: request parsing from FastCGI parameters (method, path, query,
 * percent-decoding, cookies, limits) and response writing.
 */
#include "http.h"
#include "tap.h"

static struct arena a;

static int
parse(struct http_request *req, char *const *env, struct http_failure *fail)
{
	arena_reset(&a);
	return http_request_parse(req, &a, env, fail);
}

static void
test_http_parse(void)
{
	struct http_request req;
	struct http_failure fail;
	char *env[] = {
		"REQUEST_METHOD=PATCH", "REQUEST_URI=/api/v1/orgs/a%20b?limit=5&cursor=x%2By&q=a+b&flag",
		"REQUEST_ID=0123456789abcdef0123456789abcdef", "REMOTE_ADDR=127.0.0.1",
		"CONTENT_TYPE=application/json", "CONTENT_LENGTH=17",
		"HTTP_COOKIE=theme=dark; finicom_session=tok123 ; empty=; quoted=\"v\"",
		"HTTP_X_CSRF_TOKEN=csrf", "HTTP_AUTHORIZATION=Bearer fcm_x", NULL,
	};

	ok(parse(&req, env, &fail) == 0, "request parses");
	ok(req.method == HTTP_PATCH, "method");
	is_str(req.path, "/api/v1/orgs/a b", "path percent-decoded, query cut off");
	is_str(http_query(&req, "limit"), "5", "query limit");
	is_str(http_query(&req, "cursor"), "x+y", "query %%2B decodes to +");
	is_str(http_query(&req, "q"), "a b", "query + decodes to space");
	is_str(http_query(&req, "flag"), "", "query key without value");
	ok(http_query(&req, "nope") == NULL, "absent query key is NULL");
	is_str(http_cookie(&req, "finicom_session"), "tok123", "cookie with spaces trimmed");
	is_str(http_cookie(&req, "theme"), "dark", "first cookie");
	is_str(http_cookie(&req, "empty"), "", "empty cookie value");
	is_str(http_cookie(&req, "quoted"), "v", "quoted cookie value");
	is_str(req.request_id, "0123456789abcdef0123456789abcdef", "request id from nginx kept");
	is_str(req.csrf_token, "csrf", "csrf header");
	is_str(req.authorization, "Bearer fcm_x", "authorization header");
	is_int(req.content_length, 17, "content length");
}

static void
test_http_request_id(void)
{
	struct http_request req;
	struct http_failure fail;
	char *bad_id[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", "REQUEST_ID=evil\"id injected", NULL};
	char *no_id[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", NULL};

	ok(parse(&req, bad_id, &fail) == 0 && strlen(req.request_id) == 32 &&
	    strchr(req.request_id, '"') == NULL, "test-http-bad-request-id is replaced by a fresh one");
	ok(parse(&req, no_id, &fail) == 0 && strlen(req.request_id) == 32, "missing request id is made");
}

static void
test_http_bad(void)
{
	static const struct {
		const char *uri;
		const char *len;
		int status;
	} invalid[] = {
		{"REQUEST_URI=/a%zz", "CONTENT_LENGTH=0", 400},
		{"REQUEST_URI=/a%4", "CONTENT_LENGTH=0", 400},
		{"REQUEST_URI=/a%00b", "CONTENT_LENGTH=0", 400},
		{"REQUEST_URI=/a?x=%G0", "CONTENT_LENGTH=0", 400},
		{"REQUEST_URI=relative", "CONTENT_LENGTH=0", 400},
		{"REQUEST_URI=/a", "CONTENT_LENGTH=65537", 413},
		{"REQUEST_URI=/a", "CONTENT_LENGTH=-1", 400},
		{"REQUEST_URI=/a", "CONTENT_LENGTH=12abc", 400},
		{"REQUEST_URI=/a", "CONTENT_LENGTH=99999999999999999999999", 400},
	};
	struct http_request req;
	struct http_failure fail;

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		char *env[] = {"REQUEST_METHOD=POST", (char *)invalid[i].uri, (char *)invalid[i].len, NULL};
		fail.status = 0;
		ok(parse(&req, env, &fail) == -1 && fail.status == invalid[i].status,
		    "test-http-bad-%zu: %s %s → %d", i, invalid[i].uri, invalid[i].len, invalid[i].status);
	}
	{
		char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", "CONTENT_LENGTH=65536", NULL};
		ok(parse(&req, env, &fail) == 0, "a body of exactly 64 KiB is allowed");
	}
	{
		static char uri[HTTP_MAX_URI + 32];
		char *env[] = {"REQUEST_METHOD=GET", uri, NULL};
		memset(uri, 'a', sizeof(uri) - 1);
		memcpy(uri, "REQUEST_URI=/", 13);
		uri[sizeof(uri) - 1] = '\0';
		ok(parse(&req, env, &fail) == -1 && fail.status == 414, "test-http-bad-long-uri → 414");
	}
	{
		static char uri[2048];
		char *env[] = {"REQUEST_METHOD=GET", uri, NULL};
		size_t n = (size_t)snprintf(uri, sizeof(uri), "REQUEST_URI=/?");
		for (int i = 0; i < HTTP_MAX_QUERY + 1; i++)
			n += (size_t)snprintf(uri + n, sizeof(uri) - n, "k%d=v&", i);
		ok(parse(&req, env, &fail) == -1 && fail.status == 400,
		    "test-http-bad-too-many-query-params → 400");
	}
	{
		char cookies[4096] = "HTTP_COOKIE=";
		char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", cookies, NULL};
		for (int i = 0; i < 50; i++)
			snprintf(cookies + strlen(cookies), sizeof(cookies) - strlen(cookies), "c%d=%d; ", i, i);
		ok(parse(&req, env, &fail) == 0 && req.ncookies == HTTP_MAX_COOKIES,
		    "cookies beyond %d are dropped", HTTP_MAX_COOKIES);
	}
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
test_http_response(void)
{
	struct http_request req = {.method = HTTP_GET, .request_id = "rid1"};
	struct http_response res;
	struct sink s = {.len = 0};

	http_response_init(&res);
	http_error(&res, 405, "method_not_allowed", "no / way", NULL);
	ok(http_add_header(&res, "Allow", "GET, HEAD") == 0, "header added");
	ok(http_add_header(&res, "X-Evil", "a\r\nSet-Cookie: x=y") == -1, "test-http-bad-header-injection refused");
	ok(http_response_write(&res, &req, sink_write, &s) == 0, "response written");
	ok(strstr(s.buf, "Status: 405 Method Not Allowed\r\n") == s.buf, "status line first");
	ok(strstr(s.buf, "X-Request-Id: rid1\r\n") != NULL, "request id echoed");
	ok(strstr(s.buf, "Allow: GET, HEAD\r\n") != NULL, "Allow header");
	ok(strstr(s.buf, "Set-Cookie") == NULL, "no injected header");
	ok(strstr(s.buf, "\r\n\r\n{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"no / way\"}}") != NULL,
	    "error body in the API shape, '/' not escaped");
	http_response_clear(&res);

	req.method = HTTP_HEAD;
	s.len = 0;
	http_respond(&res, 200, json_object_new_object());
	http_response_write(&res, &req, sink_write, &s);
	ok(strstr(s.buf, "Content-Length: 2\r\n") != NULL && strstr(s.buf, "\r\n\r\n")[4] == '\0',
	    "HEAD gets headers and no body");
	http_response_clear(&res);
}

static void
test_http_percent_decode(void)
{
	char out[64];

	ok(http_percent_decode("a%2Fb%2fc", 9, out, false) == 0 && !strcmp(out, "a/b/c"), "hex any case");
	ok(http_percent_decode("a+b", 3, out, false) == 0 && !strcmp(out, "a+b"), "+ kept in paths");
	ok(http_percent_decode("%", 1, out, false) == -1, "test-http-bad-lone-percent");
	ok(http_percent_decode("%e", 2, out, false) == -1, "test-http-bad-short-escape");
}

int
main(void)
{
	arena_init(&a, 1024, 1 << 20);
	test_http_parse();
	test_http_request_id();
	test_http_bad();
	test_http_response();
	test_http_percent_decode();
	arena_free(&a);
	return done_testing();
}
