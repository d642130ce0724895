/*
 * test_json: request bodies.  Only one JSON object, strict, valid UTF-8,
 * nested at most 32 deep, declared as application/json, is accepted.
 */
#include <stdlib.h>

#include "http.h"
#include "tap.h"

static int
body_status(const char *ctype, const char *body, size_t len)
{
	struct http_request req = {.content_type = ctype, .body = body, .body_len = len};
	struct http_failure fail = {0, NULL, NULL};
	int rc = http_parse_body(&req, &fail);

	http_request_clear(&req);
	return rc == 0 ? 200 : fail.status;
}

#define S(x) x, sizeof(x) - 1

static char *
nested(int depth)
{
	char *s = malloc((size_t)depth * 7 + 16);
	size_t n = 0;

	for (int i = 0; i < depth; i++)
		n += (size_t)sprintf(s + n, "{\"a\":");
	n += (size_t)sprintf(s + n, "1");
	for (int i = 0; i < depth; i++)
		s[n++] = '}';
	s[n] = '\0';
	return s;
}

int
main(void)
{
	static const struct {
		const char *ctype;
		const char *body;
		size_t len;
	} valid[] = {
		{"application/json", S("{}")},
		{"application/json", S("{\"name\":\"Ünïcödé ✓\",\"n\":1.5,\"b\":true,\"z\":null}")},
		{"application/json; charset=utf-8", S("{\"a\":[1,2,{\"b\":\"c\"}]}")},
		{"Application/JSON; charset=UTF-8", S(" {\"a\":1} \n")},
		{"application/json", S("{\"e\":\"\\u00e9\\n\\\"\",\"x\":-0.5e+10,\"y\":[],\"z\":{}}")},
		{"application/json", S("{\"emoji\":\"\xf0\x9f\x98\x80\"}")},
	};
	static const struct {
		const char *ctype;
		const char *body;
		size_t len;
		int status;
	} invalid[] = {
		{"text/plain", S("{}"), 415},
		{NULL, S("{}"), 415},
		{"application/json; charset=latin1", S("{}"), 415},
		{"application/jsonx", S("{}"), 415},
		{"application/json", S("{\"a\":"), 400},
		{"application/json", S("[1,2]"), 400},
		{"application/json", S("\"str\""), 400},
		{"application/json", S("42"), 400},
		{"application/json", S("{} {}"), 400},
		{"application/json", S("{\"a\":1,}"), 400},
		{"application/json", S("{'a':1}"), 400},
		{"application/json", S("{\"a\":\"\xff\xfe\"}"), 400},
		{"application/json", S("{\"a\":\"\xc3\"}"), 400},
		{"application/json", S("{\"a\":1}\0garbage"), 400},
		{"application/json", S("{\"a\":NaN}"), 400},
		{"application/json", S("{\"a\":01}"), 400},
		{"application/json", S("{\"a\":1e}"), 400},
		{"application/json", S("{\"a\":-}"), 400},
		{"application/json", S("{\"a\":\"\xc0\xaf\"}"), 400},
		{"application/json", S("{\"a\":\"\xed\xa0\x80\"}"), 400},
		{"application/json", S("{\"a\":\"tab\there\"}"), 400},
		{"application/json", S("{\"a\":\"\\x\"}"), 400},
		{"application/json", S("{\"a\":\"\\u12\"}"), 400},
		{"application/json", S("{\"a\" 1}"), 400},
		{"application/json", S("{a:1}"), 400},
		{"application/json", S("{\"a\":tru}"), 400},
	};
	char *ok32 = nested(32), *bad33 = nested(33), *bad40 = nested(40);

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		is_int(body_status(valid[i].ctype, valid[i].body, valid[i].len), 200, "valid body %zu: %s", i,
		    valid[i].body);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		is_int(body_status(invalid[i].ctype, invalid[i].body, invalid[i].len), invalid[i].status,
		    "test-json-bad-%zu → %d", i, invalid[i].status);
	is_int(body_status("application/json", ok32, strlen(ok32)), 200, "nested 32 deep is accepted");
	is_int(body_status("application/json", bad33, strlen(bad33)), 400, "test-json-bad-depth 33 → 400");
	is_int(body_status("application/json", bad40, strlen(bad40)), 400, "test-json-bad-depth 40 → 400");
	is_int(body_status("text/plain", NULL, 0), 200, "no body needs no content type");
	free(ok32);
	free(bad40);
	free(bad33);
	return done_testing();
}
