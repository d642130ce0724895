/*
 * members: the people of an org.  Role changes and removals take effect on
 * the very next request, since every request reads the membership from the
 * database in its own transaction (finicom.begin_request); nothing is
 * cached.  The last admin is protected by the database itself.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "validate.h"

/* The {user_id:uuid} of the path (a UUID: the router checked it). */
static const char *
path_user(struct request_ctx *ctx)
{
	return ctx->req->params[1];
}

static void
respond_member(struct request_ctx *ctx, PGresult *r)
{
	if (PQntuples(r) != 1)
		http_error(ctx->res, 404, "not_found", "no such member", NULL);
	else
		respond_json_text(ctx, 200, PQgetvalue(r, 0, 0));
	PQclear(r);
}

/*
 * The page of GET members over finicom.member_rows (sql/0011): the verified
 * org's memberships with their users and activity, the org checked once in
 * the view (it is the path's org or none: begin_request sets no other).
 * PAGE_QUERY's shape, in two texts: the first page, and the pages after a
 * cursor.  One text for both ("$2 IS NULL OR (...) > ($2, $3)") gave the
 * generic plan a row estimate of 1 for any org, and with it a nested loop
 * that scans member_activity again for every member; without the OR the
 * planner sees the org's size and reads member_activity once.
 */
#define MEMBER_PAGE_FROM(from) \
	"SELECT coalesce(json_agg(finicom.member_item(p.user_id, p.email, p.name, p.role, p.joined_at," \
	"  p.last_active_at, p.expires_at) ORDER BY p.n) FILTER (WHERE p.n <= $1::integer), '[]')::text," \
	" CASE WHEN count(*) > $1::integer" \
	"  THEN max(finicom.cursor_key(p.joined_at, p.user_id)) FILTER (WHERE p.n = $1::integer) END" \
	" FROM (SELECT r.user_id, r.email, r.name, r.role, r.joined_at, r.last_active_at, r.expires_at," \
	"   row_number() OVER (ORDER BY r.joined_at, r.user_id) AS n" \
	"  FROM " from
#define MEMBER_PAGE(cond) \
	MEMBER_PAGE_FROM("finicom.member_rows r" cond "  ORDER BY r.joined_at, r.user_id LIMIT $1::integer + 1) p")

/* Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
static bool
utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		unsigned c = s[i], n, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
		if (n == 0 || c > 0xf4 || i + n >= len)
			return false;
		min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
		cp = c & (0x3f >> n);
		for (unsigned j = 1; j <= n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/*
 * The filters of GET members (docs/members.md).  q: 1 to 100 characters of
 * valid UTF-8 without control characters, matched as a substring of the
 * email or the name with ASCII letters lowercased (as emails are
 * compared); LIKE's %, _ and \ in it match themselves.  role: admin, write
 * or read.  inactive_days: 1 to 3650.  Each sets its out parameter (NULL
 * when absent) or answers 400 naming itself and returns -1.
 */
static int
member_filters(struct request_ctx *ctx, const char **like, const char **role, const char **days)
{
	const char *q = http_query(ctx->req, "q"), *why = NULL;
	size_t len, chars = 0;
	char *out;

	*like = *role = *days = NULL;
	if (q != NULL) {
		len = strlen(q);
		if (len > 400)
			why = "q must be 1 to 100 characters";
		else if (!utf8_valid(q, len))
			why = "q must be valid UTF-8";
		for (size_t i = 0; why == NULL && i < len; i++) {
			if ((unsigned char)q[i] < 0x20 || (unsigned char)q[i] == 0x7f)
				why = "q must not contain control characters";
			if (((unsigned char)q[i] & 0xc0) != 0x80)
				chars++;
		}
		if (why == NULL && (chars < 1 || chars > 100))
			why = "q must be 1 to 100 characters";
		if (why != NULL) {
			http_error(ctx->res, 400, "validation_failed", why, "q");
			return -1;
		}
		out = arena_alloc(ctx->arena, 2 * len + 3);
		if (out == NULL) {
			http_error(ctx->res, 500, "internal", "internal error", NULL);
			return -1;
		}
		*like = out;
		*out++ = '%';
		for (size_t i = 0; i < len; i++) {
			if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
				*out++ = '\\';
			*out++ = (q[i] >= 'A' && q[i] <= 'Z') ? (char)(q[i] - 'A' + 'a') : q[i];
		}
		*out++ = '%';
		*out = '\0';
	}
	*role = http_query(ctx->req, "role");
	if (*role != NULL && role_from_name(*role) == ROLE_NONE) {
		http_error(ctx->res, 400, "validation_failed", "role must be admin, write or read", "role");
		return -1;
	}
	*days = http_query(ctx->req, "inactive_days");
	if (*days != NULL) {
		char *end;
		long v = strtol(*days, &end, 10);
		if (!isdigit((unsigned char)**days) || *end != '\0' || strlen(*days) > 4 || v < 1 || v > 3650) {
			http_error(ctx->res, 400, "validation_failed", "inactive_days must be a number from 1 to 3650",
			    "inactive_days");
			return -1;
		}
	}
	return 0;
}

/*
 * GET /api/v1/orgs/{org}/members?limit=&cursor=&q=&role=&inactive_days= (member)
 * 200 page, oldest first; 400 validation_failed naming a bad parameter.
 * Without filters the page reads finicom.member_rows; with any, one call of
 * finicom.member_search (sql/0024), which applies them below the org check
 * where their indexes serve them.  Expired memberships are not listed.
 */
void
members_list(struct request_ctx *ctx)
{
	const char *params[6];

	if (page_params(ctx, params) < 0 || member_filters(ctx, &params[3], &params[4], &params[5]) < 0)
		return;
	if (params[3] != NULL || params[4] != NULL || params[5] != NULL)
		respond_page(ctx,
		    MEMBER_PAGE_FROM("finicom.member_search($1::integer + 1, $2::timestamptz, $3::uuid, $4,"
		    " $5::finicom.role, $6::integer) r) p"),
		    6, params);
	else if (params[1] == NULL)
		respond_page(ctx, MEMBER_PAGE(""), 1, params);
	else
		respond_page(ctx, MEMBER_PAGE(" WHERE (r.joined_at, r.user_id) > ($2::timestamptz, $3::uuid)"), 3,
		    params);
}

#define MEMBER_SELECT \
	"SELECT finicom.member_json(m, u.email, u.name, a.last_active_at) FROM finicom.memberships m" \
	" JOIN finicom.users u ON u.id = m.user_id" \
	" LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id" \
	" WHERE m.org_id = $1 AND m.user_id = $2"

/* GET /api/v1/orgs/{org}/members/{user_id} (member): 200 item; 404. */
void
member_get(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, path_user(ctx)};
	PGresult *r;

	r = tx_exec(ctx, MEMBER_SELECT, 2, params, true);
	if (r != NULL)
		respond_member(ctx, r);
}

static const struct field member_patch_fields[] = {
	{"role", valid_role, false},       /* MEMBER_ROLE */
	{"expires_at", valid_time, false}, /* MEMBER_EXPIRES */
};
const struct fieldset member_patch_body = FIELDSET_PATCH(member_patch_fields);

/*
 * PATCH /api/v1/orgs/{org}/members/{user_id} {role?, expires_at?} (admin)
 * 200 item; 400 validation_failed (neither field, or an expires_at not in
 * the future; null clears it); 404 not a member (an expired one is none);
 * 409 last_admin (the org keeps an admin without an expiry).
 */
void
member_patch(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* member_patch_body */
	bool expires_present;
	const char *params[5] = {ctx->org_id, path_user(ctx), NULL, NULL, NULL};
	PGresult *r;

	/* json-c keeps a JSON null as a NULL value: ask whether the key is there. */
	expires_present = json_object_object_get_ex(ctx->req->json, "expires_at", NULL);
	if (f[0] == NULL && !expires_present) {
		http_error(ctx->res, 400, "validation_failed", "role or expires_at is required", "role");
		return;
	}
	params[2] = f[0] ? json_object_get_string(f[0]) : NULL;
	params[3] = f[1] ? json_object_get_string(f[1]) : NULL;
	params[4] = expires_present ? "t" : "f";
	r = tx_exec(ctx,
	    "WITH changed AS ("
	    " UPDATE finicom.memberships SET role = coalesce($3::finicom.role, role),"
	    "  expires_at = CASE WHEN $5::boolean THEN finicom.future_time($4::timestamptz, 'expires_at')"
	    "   ELSE expires_at END"
	    " WHERE org_id = $1 AND user_id = $2 RETURNING *)"
	    " SELECT finicom.member_json(m, u.email, u.name, a.last_active_at) FROM changed m"
	    " JOIN finicom.users u ON u.id = m.user_id"
	    " LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id",
	    5, params, true);
	if (r != NULL)
		respond_member(ctx, r);
}

/*
 * DELETE /api/v1/orgs/{org}/members/{user_id} (admin, or the member: leave)
 * 204; 403 removing someone else below admin; 404; 409 last_admin.
 */
void
member_delete(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, path_user(ctx)};
	PGresult *r;

	if ((ctx->actor.id == NULL || strcmp(params[1], ctx->actor.id) != 0) &&
	    !authz_allows(ctx->org_role, PERM_MEMBERS_MANAGE)) {
		http_error(ctx->res, 403, "forbidden", "your role does not allow removing others", NULL);
		return;
	}
	r = tx_exec(ctx, "DELETE FROM finicom.memberships WHERE org_id = $1 AND user_id = $2", 2, params,
	    true);
	if (r == NULL)
		return;
	if (strcmp(PQcmdTuples(r), "1") != 0)
		http_error(ctx->res, 404, "not_found", "no such member", NULL);
	else
		http_respond(ctx->res, 204, NULL);
	PQclear(r);
}
