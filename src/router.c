/*
 * router: pattern matching over the route table.  See router.h.
 *
 * The table itself is in routes.c, next to nothing else, so that "which
 * permission does this route need" is answered by reading one list.
 */
#include "router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * Match one pattern against path.  Returns true and fills params when every
 * segment matches.  Segments are compared without copying; captured ones are
 * copied into the arena only on a full match.
 */
static bool
pattern_match(const char *pattern, const char *path, struct arena *a, const char **params,
    int *nparams)
{
	const char *pat = pattern, *p = path;
	const char *starts[HTTP_MAX_PARAMS];
	size_t lens[HTTP_MAX_PARAMS];
	int n = 0;

	while (*pat != '\0' && *p != '\0') {
		const char *pend, *send;
		size_t plen, slen;

		if (*pat != '/' || *p != '/')
			return false;
		pat++;
		p++;
		pend = strchr(pat, '/');
		send = strchr(p, '/');
		plen = pend ? (size_t)(pend - pat) : strlen(pat);
		slen = send ? (size_t)(send - p) : strlen(p);
		if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
			if (slen == 0 || n == HTTP_MAX_PARAMS)
				return false;
			starts[n] = p;
			lens[n] = slen;
			n++;
		} else if (plen != slen || memcmp(pat, p, plen) != 0) {
			return false;
		}
		pat += plen;
		p += slen;
	}
	if (*pat != '\0' || *p != '\0')
		return false;
	if (params != NULL) {
		for (int i = 0; i < n; i++) {
			params[i] = arena_strndup(a, starts[i], lens[i]);
			if (params[i] == NULL)
				return false;
		}
		*nparams = n;
	}
	return true;
}

static void
allow_add(char *allow, size_t allowlen, const char *name)
{
	size_t len = strlen(allow);

	if (strstr(allow, name) != NULL)
		return;
	snprintf(allow + len, allowlen - len, "%s%s", len ? ", " : "", name);
}

const struct route *
router_match(const struct route *table, size_t n, enum http_method method, const char *path,
    struct arena *a, const char **params, int *nparams, char *allow, size_t allowlen)
{
	allow[0] = '\0';
	*nparams = 0;
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &table[i];
		bool same = r->method == method || (method == HTTP_HEAD && r->method == HTTP_GET);

		if (same && pattern_match(r->pattern, path, a, params, nparams))
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &table[i];

		if (pattern_match(r->pattern, path, NULL, NULL, NULL)) {
			allow_add(allow, allowlen, http_method_name(r->method));
			if (r->method == HTTP_GET)
				allow_add(allow, allowlen, "HEAD");
		}
	}
	return NULL;
}
