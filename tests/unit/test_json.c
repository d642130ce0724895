/*
 * test_json: request bodies.  Only one JSON object, strict, valid UTF-8,
 * nested at most 32 deep, declared as application/json, is accepted; no
 * duplicate keys, no \u0000, no lone surrogate, no number PostgreSQL
 * could not keep exactly.  What is accepted serializes back with every
 * number as sent, and json_measure() gives PostgreSQL's jsonb text length.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tap.h"
#include "util/jsoncheck.h"

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
		{"application/json", S("{\"zero\":0e1073741822,\"z\":-0.0E+0001073741822}")},
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
		/* duplicate keys, also when escaped alike, at any depth */
		{"application/json", S("{\"a\":1,\"a\":2}"), 400},
		{"application/json", S("{\"a\":1,\"\\u0061\":2}"), 400},
		{"application/json", S("{\"\\u00e9\":1,\"\xc3\xa9\":2}"), 400},
		{"application/json", S("{\"x\":{\"a\":{},\"b\":1,\"a\":[]}}"), 400},
		{"application/json", S("{\"l\":[1,{\"p\":null,\"p\":null}]}"), 400},
		/* U+0000 in a value or a key; lone surrogates */
		{"application/json", S("{\"a\":\"x\\u0000y\"}"), 400},
		{"application/json", S("{\"a\\u0000b\":1}"), 400},
		{"application/json", S("{\"a\":\"\\ud800\"}"), 400},
		{"application/json", S("{\"a\":\"\\ud800x\"}"), 400},
		{"application/json", S("{\"a\":\"\\ud800\\u0041\"}"), 400},
		{"application/json", S("{\"a\":\"\\udc00\"}"), 400},
		/* numbers beyond PostgreSQL's numeric */
		{"application/json", S("{\"a\":1e131072}"), 400},
		{"application/json", S("{\"a\":1e-16384}"), 400},
		{"application/json", S("{\"a\":-1.5e99999999999999999999}"), 400},
		{"application/json", S("{\"a\":1e1000000}"), 400},
		/* an exponent numeric's input refuses even for zero (it was a 400 from the database) */
		{"application/json", S("{\"a\":0e1073741823}"), 400},
		{"application/json", S("{\"a\":-0.0E+10000000000}"), 400},
		{"application/json", S("{\"a\":0e-1073741823}"), 400},
	};
	static const char *const exact[] = {
		"{\"big\":12345678901234567890123456789012345678901}",
		"{\"neg\":-98765432109876543210987654321,\"u\":18446744073709551616}",
		"{\"d\":0.1000000000000000055511151231257827021181583404541015625,\"t\":1.50}",
		"{\"e\":[1e400,-2.5E-300,1e131071,1e-16383,-0,0.0]}",
		"{\"s\":\"\xf0\x9f\x98\x80\",\"n\":null,\"b\":[true,false,{}],\"x\":{\"y\":[[]]}}",
	};
	static const struct {
		const char *text;
		size_t full, pg;
	} sizes[] = {
		/* PostgreSQL prints these as shown (checked with psql). */
		{"[100e-5]", 9, 9},           /* [0.00100] */
		{"[0e5]", 3, 3},              /* [0] */
		{"[123e-1]", 6, 6},           /* [12.3] */
		{"[-1.5e1]", 5, 5},           /* [-15] */
		{"[0.01e1]", 5, 5},           /* [0.1] */
		{"[5E+3]", 6, 6},             /* [5000] */
		{"[1.000]", 7, 7},            /* [1.000] */
		{"[-0.0e-2]", 7, 7},          /* [0.000] */
		{"[12345e-10]", 14, 14},      /* [0.0000012345] */
		{"{\"a\":1e3,\"b\":[1,2]}", 20, 24}, /* {"a": 1000, "b": [1, 2]} */
		{" { \"a\" : [ ] } ", 8, 9},    /* {"a": []} */
		{"[0e1073741822]", 3, 3},     /* [0] */
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
	is_int(body_status("application/json", S("{\"a\":\"\\ud83d\\ude00\",\"b\":\"\\u00e9\\u0001\"}")), 200,
	    "a surrogate pair and other escapes are accepted");
	is_int(body_status("application/json", S("{\"a\":1,\"b\":{\"a\":1},\"c\":[{\"a\":1},{\"a\":1}]}")), 200,
	    "the same key in different objects is fine");
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		struct http_request req = {.content_type = "application/json", .body = exact[i],
		    .body_len = strlen(exact[i])};
		struct http_failure fail = {0, NULL, NULL};
		const char *out = NULL;
		if (http_parse_body(&req, &fail) == 0)
			out = json_object_to_json_string_ext(req.json,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		is_str(out ? out : "(refused)", exact[i], "numbers serialize as sent %zu", i);
		http_request_clear(&req);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct json_size size = {0, 0};
		int rc = json_measure(sizes[i].text, strlen(sizes[i].text), &size);
		ok(rc == 0 && size.full == sizes[i].full && size.pg == sizes[i].pg,
		    "json_measure %s: full %zu (want %zu), pg %zu (want %zu)", sizes[i].text, size.full,
		    sizes[i].full, size.pg, sizes[i].pg);
	}
	{
		/*
		 * Escaped surrogate pairs are characters, in keys and values, also
		 * those json-c 0.16 alone decodes to U+FFFD (low 16 bits D800..DFFF:
		 * U+1D800, U+2D200, U+10DFFF); an escaped backslash before "ud836"
		 * is no escape.
		 */
		static const char text[] = "{\"\\ud836\\udc00\":[\"\\uD874\\uDE00\",\"a\\\\ud836b\","
		    "\"\\ud83d\\ude00\\udbf7\\udfff\",\"\\u00e9\"],\"\\uD874\\uDE01\":1}";
		static const char want[] = "{\"\xf0\x9d\xa0\x80\":[\"\xf0\xad\x88\x80\",\"a\\\\ud836b\","
		    "\"\xf0\x9f\x98\x80\xf4\x8d\xbf\xbf\",\"\xc3\xa9\"],\"\xf0\xad\x88\x81\":1}";
		const char *why = NULL;
		json_object *o = json_parse_exact(text, sizeof(text) - 1, 32, &why);
		is_str(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE) : "(refused)", want,
		    "escaped surrogate pairs decode to their characters");
		json_object_put(o);
		o = json_parse_exact(S("{\"\\ud836\\udc00\":1,\"\xf0\x9d\xa0\x80\":2}"), 32, &why);
		ok(o == NULL && why != NULL && strstr(why, "same key") != NULL,
		    "test-json-bad-duplicate: a key escaped as a pair and the same key raw: %s", why ? why : "(none)");
	}
	{
		const char *why = NULL;
		json_object *o = json_parse_exact(S("{\"a\":1,\"a\":1}"), 32, &why);
		ok(o == NULL && why != NULL && strstr(why, "same key") != NULL, "a duplicate key says so: %s",
		    why ? why : "(none)");
		o = json_parse_exact(S("{\"a\":\"\\u0000\"}"), 32, &why);
		ok(o == NULL && why != NULL && strstr(why, "u0000") != NULL, "\\u0000 says so: %s",
		    why ? why : "(none)");
	}
	free(ok32);
	free(bad40);
	free(bad33);
	return done_testing();
}
