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

/* The segment of pattern that holds parameter i (its "{...}"), or NULL. */
static const char *
param_segment(const char *pattern, int i, size_t *len, const char **before, size_t *before_len)
{
	const char *p = pattern, *prev = NULL;
	size_t prev_len = 0;
	int k = 0;

	while (*p == '/') {
		const char *seg = p + 1, *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if (n >= 2 && seg[0] == '{' && seg[n - 1] == '}') {
			if (k++ == i) {
				*len = n;
				*before = prev;
				*before_len = prev_len;
				return seg;
			}
		} else {
			prev = seg;
			prev_len = n;
		}
		p = seg + n;
	}
	return NULL;
}

/* The noun of a collection segment, for "no such ...". */
static const char *
segment_noun(const char *seg, size_t n)
{
	static const struct {
		const char *segment, *noun;
	} nouns[] = {
		{"members", "member"}, {"invitations", "invitation"}, {"api-keys", "API key"},
		{"sources", "source"}, {"integrations", "integration"}, {"destinations", "destination"},
		{"connections", "connection"}, {"alerts", "alert"}, {"orgs", "resource"}, {"sessions", "session"},
		{"access-reviews", "access review"}, {"items", "member in this access review"},
	};

	for (size_t i = 0; seg != NULL && i < sizeof(nouns) / sizeof(nouns[0]); i++)
		if (strlen(nouns[i].segment) == n && !memcmp(nouns[i].segment, seg, n))
			return nouns[i].noun;
	return "resource";
}

int
router_bad_param(const struct route *r, const char *const *params, int nparams, const char *skip,
    char *message, size_t cap)
{
	for (int i = 0; i < nparams; i++) {
		const char *seg, *before, *colon;
		size_t len, before_len, name_len;

		seg = param_segment(r->pattern, i, &len, &before, &before_len);
		if (seg == NULL)
			break;
		colon = memchr(seg, ':', len);
		if (colon == NULL)
			continue; /* untyped: any non-empty segment */
		name_len = (size_t)(colon - seg) - 1;
		if (skip != NULL && strlen(skip) == name_len && !memcmp(seg + 1, skip, name_len))
			continue;
		/* The one type there is: a UUID. */
		if ((size_t)(seg + len - 1 - colon - 1) == 4 && !memcmp(colon + 1, "uuid", 4) &&
		    !uuid_ok(params[i])) {
			snprintf(message, cap, "no such %s", segment_noun(before, before_len));
			return i;
		}
	}
	return -1;
}

int
router_param_index(const struct route *r, const char *name)
{
	size_t want = strlen(name);

	for (int i = 0; i < HTTP_MAX_PARAMS; i++) {
		const char *seg, *before;
		size_t len, before_len, n;

		seg = param_segment(r->pattern, i, &len, &before, &before_len);
		if (seg == NULL)
			return -1;
		n = strcspn(seg + 1, ":}");
		if (n == want && !memcmp(seg + 1, name, n))
			return i;
	}
	return -1;
}

const char *
router_plain_pattern(const char *pattern, char *out, size_t cap)
{
	size_t o = 0;
	bool in_type = false;

	if (cap == 0)
		return "";
	for (const char *p = pattern; *p != '\0' && o + 1 < cap; p++) {
		if (*p == ':' && !in_type) {
			in_type = true;
			continue;
		}
		if (*p == '}')
			in_type = false;
		if (!in_type)
			out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}
