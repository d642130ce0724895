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
	{HTTP_GET, "/healthz", h, PERM_PUBLIC, 0, NULL},
	{HTTP_GET, "/api/v1/orgs/{org}", h, PERM_ORG_VIEW, 0, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org}", h, PERM_SETTINGS_MANAGE, ROUTE_BODY, NULL},
	{HTTP_DELETE, "/api/v1/orgs/{org}", h, PERM_SETTINGS_MANAGE, 0, NULL},
	{HTTP_GET, "/api/v1/orgs/{org}/members/{user_id}", h, PERM_ORG_VIEW, 0, NULL},
	{HTTP_POST, "/api/v1/orgs/{org}/invitations/{id}/resend", h, PERM_INVITATIONS_MANAGE, 0, NULL},
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

/*
 * Typed parameters: "{name:uuid}" takes any segment when matching (so a
 * malformed id is a 404 of its own, not a 405), and router_bad_param names
 * the first one that is not a UUID, with the noun of its collection.
 */
static void
test_router_typed(struct arena *a)
{
	static const struct route typed[] = {
		{HTTP_GET, "/api/v1/orgs/{org:uuid}/members/{user_id:uuid}", h, PERM_ORG_VIEW, 0, NULL},
		{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/api-keys/{id:uuid}", h, PERM_API_KEYS_MANAGE, 0, NULL},
		{HTTP_GET, "/api/v1/invitations/{token}", h, PERM_PUBLIC, 0, NULL},
		{HTTP_GET, "/api/v1/orgs/{org:uuid}/sources/{id:uuid}", h, PERM_ORG_VIEW, 0, NULL},
	};
	static const char uuid[] = "8c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5f";
	const char *params[HTTP_MAX_PARAMS];
	char allow[128], message[64], plain[160];
	int np;
	const struct route *r;
	const size_t n = sizeof(typed) / sizeof(typed[0]);

	r = router_match(typed, n, HTTP_GET, "/api/v1/orgs/x/members/y", a, params, &np, allow,
	    sizeof(allow));
	ok(r == &typed[0] && np == 2, "a typed parameter matches any segment");
	ok(router_bad_param(r, params, np, NULL, message, sizeof(message)) == 0 &&
	    !strcmp(message, "no such resource"), "the org is the first bad one: no such resource");
	ok(router_bad_param(r, params, np, "org", message, sizeof(message)) == 1 &&
	    !strcmp(message, "no such member"), "skipping org: the user_id, no such member");
	params[1] = uuid;
	ok(router_bad_param(r, params, np, "org", message, sizeof(message)) == -1,
	    "a UUID user_id passes");
	params[1] = "8C5B6F0E-64D4-4E5C-9D67-0A1B2C3D4E5F";
	ok(router_bad_param(r, params, np, "org", message, sizeof(message)) == -1,
	    "upper-case hex is a UUID too");
	params[1] = "8c5b6f0e64d44e5c9d670a1b2c3d4e5f";
	ok(router_bad_param(r, params, np, "org", message, sizeof(message)) == 1, "no dashes: not one");
	r = router_match(typed, n, HTTP_DELETE, "/api/v1/orgs/o/api-keys/k", a, params, &np, allow,
	    sizeof(allow));
	ok(r == &typed[1] && router_bad_param(r, params, np, "org", message, sizeof(message)) == 1 &&
	    !strcmp(message, "no such API key"), "api-keys: no such API key");
	r = router_match(typed, n, HTTP_GET, "/api/v1/orgs/o/sources/s", a, params, &np, allow,
	    sizeof(allow));
	ok(r == &typed[3] && router_bad_param(r, params, np, "org", message, sizeof(message)) == 1 &&
	    !strcmp(message, "no such source"), "sources: no such source");
	r = router_match(typed, n, HTTP_GET, "/api/v1/invitations/anything", a, params, &np, allow,
	    sizeof(allow));
	ok(r == &typed[2] && router_bad_param(r, params, np, NULL, message, sizeof(message)) == -1,
	    "an untyped parameter takes anything");
	r = router_match(typed, n, HTTP_POST, "/api/v1/orgs/o/members/u", a, params, &np, allow,
	    sizeof(allow));
	is_str(r == NULL ? allow : "matched", "GET, HEAD", "a bad id under a wrong method is still a 405");
	ok(router_param_index(&typed[0], "org") == 0 && router_param_index(&typed[0], "user_id") == 1 &&
	    router_param_index(&typed[2], "org") == -1 && router_param_index(&typed[2], "token") == 0,
	    "router_param_index finds parameters by name");
	is_str(router_plain_pattern(typed[0].pattern, plain, sizeof(plain)),
	    "/api/v1/orgs/{org}/members/{user_id}", "router_plain_pattern drops the types");
	is_str(router_plain_pattern(typed[2].pattern, plain, sizeof(plain)), "/api/v1/invitations/{token}",
	    "an untyped pattern is left as it is");
	is_str(router_plain_pattern(typed[0].pattern, plain, 14), "/api/v1/orgs/", "cut to the buffer");
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
		char plain[160];

		router_plain_pattern(r->pattern, plain, sizeof(plain));
		ok(paths && json_object_object_get_ex(paths, plain, &item) &&
		    json_object_object_get_ex(item, method, NULL),
		    "route %s %s is in openapi.json", m, r->pattern);
	}
	json_object_put(root);
}

/* The route of (method in lower case, plain pattern), or NULL. */
static const struct route *
route_for(const char *method, const char *path)
{
	char plain[160], lower[16];

	for (size_t i = 0; i < router_nroutes; i++) {
		const char *m = http_method_name(router_routes[i].method);
		size_t k;

		for (k = 0; m[k] && k < sizeof(lower) - 1; k++)
			lower[k] = (char)(m[k] - 'A' + 'a');
		lower[k] = '\0';
		router_plain_pattern(router_routes[i].pattern, plain, sizeof(plain));
		if (!strcmp(lower, method) && !strcmp(plain, path))
			return &router_routes[i];
	}
	return NULL;
}

/* And the other way: every operation the OpenAPI document describes has its route. */
static void
test_operations_routed(void)
{
	static const char *const methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
	size_t len, operations = 0;
	const char *doc = openapi_document(&len);
	json_object *root = json_tokener_parse(doc), *paths = NULL;

	if (root != NULL)
		json_object_object_get_ex(root, "paths", &paths);
	if (paths != NULL) {
		json_object_object_foreach(paths, path, item) {
			for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
				if (!json_object_object_get_ex(item, methods[i], NULL))
					continue;
				operations++;
				ok(route_for(methods[i], path) != NULL, "openapi operation %s %s has a route", methods[i], path);
			}
		}
	}
	ok(operations >= router_nroutes, "control: the document has %zu operations, the table %zu routes",
	    operations, router_nroutes);
	json_object_put(root);
}

int
main(void)
{
	struct arena a;

	arena_init(&a, 4096, 1 << 20);
	test_router_match(&a);
	test_router_bad(&a);
	test_router_typed(&a);
	test_routes_documented();
	test_operations_routed();
	arena_free(&a);
	return done_testing();
}
