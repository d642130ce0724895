/*
 * test_router: path patterns, parameter capture, 404 versus 405 with Allow,
 * and the real route table against the OpenAPI document.
 */
#include <json-c/json.h>

#include "handlers/handlers.h"
#include "router.h"
#include "tap.h"

static void h(struct request_ctx *ctx) { (void)ctx; }

static const struct route table[] = {
	{HTTP_GET, "/healthz", h, PERM_PUBLIC, 0},
	{HTTP_GET, "/api/v1/orgs/{org}", h, PERM_ORG_VIEW, 0},
	{HTTP_PATCH, "/api/v1/orgs/{org}", h, PERM_SETTINGS_MANAGE, ROUTE_BODY},
	{HTTP_DELETE, "/api/v1/orgs/{org}", h, PERM_SETTINGS_MANAGE, 0},
	{HTTP_GET, "/api/v1/orgs/{org}/members/{user_id}", h, PERM_ORG_VIEW, 0},
	{HTTP_POST, "/api/v1/orgs/{org}/invitations/{id}/resend", h, PERM_INVITATIONS_MANAGE, 0},
};
#define N (sizeof(table) / sizeof(table[0]))

static void
test_router_match(struct arena *a)
{
	const char *params[HTTP_MAX_PARAMS];
	int np;
	char allow[128];
	const struct route *r;

	r = router_match(table, N, HTTP_GET, "/healthz", a, params, &np, allow, sizeof(allow));
	ok(r == &table[0] && np == 0, "literal route matches");
	r = router_match(table, N, HTTP_HEAD, "/healthz", a, params, &np, allow, sizeof(allow));
	ok(r == &table[0], "HEAD matches a GET route");
	r = router_match(table, N, HTTP_GET, "/api/v1/orgs/abc", a, params, &np, allow, sizeof(allow));
	ok(r == &table[1] && np == 1 && !strcmp(params[0], "abc"), "one parameter captured");
	r = router_match(table, N, HTTP_PATCH, "/api/v1/orgs/abc", a, params, &np, allow, sizeof(allow));
	ok(r == &table[2], "same path, other method, other route");
	r = router_match(table, N, HTTP_GET, "/api/v1/orgs/o1/members/u2", a, params, &np, allow,
	    sizeof(allow));
	ok(r == &table[4] && np == 2 && !strcmp(params[0], "o1") && !strcmp(params[1], "u2"),
	    "two parameters captured in order");
	r = router_match(table, N, HTTP_POST, "/api/v1/orgs/o/invitations/i/resend", a, params, &np,
	    allow, sizeof(allow));
	ok(r == &table[5], "literal after parameter");
}

static void
test_router_bad(struct arena *a)
{
	static const char *const not_found[] = {
		"/", "/healthz/", "/healthzz", "/api/v1/orgs", "/api/v1/orgs/", "/api/v1/orgs//members/u",
		"/api/v1/orgs/a/b", "/api/v1/orgs/o/members/u/x", "//healthz", "/HEALTHZ",
	};
	const char *params[HTTP_MAX_PARAMS];
	int np;
	char allow[128];
	const struct route *r;

	for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
		r = router_match(table, N, HTTP_GET, not_found[i], a, params, &np, allow, sizeof(allow));
		ok(r == NULL && allow[0] == '\0', "test-router-bad-path %s is 404", not_found[i]);
	}
	r = router_match(table, N, HTTP_POST, "/healthz", a, params, &np, allow, sizeof(allow));
	is_str(r == NULL ? allow : "matched", "GET, HEAD", "test-router-bad-method POST /healthz: Allow");
	r = router_match(table, N, HTTP_PUT, "/api/v1/orgs/x", a, params, &np, allow, sizeof(allow));
	is_str(r == NULL ? allow : "matched", "GET, HEAD, PATCH, DELETE",
	    "test-router-bad-method PUT on org: Allow lists every method");
}

/* Every route the server has is described in the OpenAPI document. */
static void
test_routes_documented(void)
{
	size_t len;
	const char *doc = openapi_document(&len);
	json_object *root = json_tokener_parse(doc), *paths, *version, *item;

	ok(root != NULL, "openapi.json parses");
	ok(root && json_object_object_get_ex(root, "openapi", &version) &&
	    !strncmp(json_object_get_string(version), "3.1", 3), "openapi version is 3.1");
	ok(root && json_object_object_get_ex(root, "paths", &paths), "openapi has paths");
	for (size_t i = 0; i < router_nroutes; i++) {
		const struct route *r = &router_routes[i];
		char method[16];
		const char *m = http_method_name(r->method);
		size_t k;

		for (k = 0; m[k] && k < sizeof(method) - 1; k++)
			method[k] = (char)(m[k] - 'A' + 'a');
		method[k] = '\0';
		ok(paths && json_object_object_get_ex(paths, r->pattern, &item) &&
		    json_object_object_get_ex(item, method, NULL),
		    "route %s %s is in openapi.json", m, r->pattern);
	}
	json_object_put(root);
}

int
main(void)
{
	struct arena a;

	arena_init(&a, 4096, 1 << 20);
	test_router_match(&a);
	test_router_bad(&a);
	test_routes_documented();
	arena_free(&a);
	return done_testing();
}
