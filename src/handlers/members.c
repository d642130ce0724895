/*
 * members: the people of an org.  Role changes and removals take effect on
 * the very next request, since every request reads the membership from the
 * database in its own transaction (finicom.begin_request); nothing is
 * cached.  The last admin is protected by the database itself.
 */
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
#define MEMBER_PAGE(cond) \
	"SELECT coalesce(json_agg(finicom.member_item(p.user_id, p.email, p.name, p.role, p.joined_at," \
	"  p.last_active_at) ORDER BY p.n) FILTER (WHERE p.n <= $1::integer), '[]')::text," \
	" CASE WHEN count(*) > $1::integer" \
	"  THEN max(finicom.cursor_key(p.joined_at, p.user_id)) FILTER (WHERE p.n = $1::integer) END" \
	" FROM (SELECT r.user_id, r.email, r.name, r.role, r.joined_at, r.last_active_at," \
	"   row_number() OVER (ORDER BY r.joined_at, r.user_id) AS n" \
	"  FROM finicom.member_rows r" cond \
	"  ORDER BY r.joined_at, r.user_id LIMIT $1::integer + 1) p"

/* GET /api/v1/orgs/{org}/members?limit=&cursor= (member): 200 page, oldest first. */
void
members_list(struct request_ctx *ctx)
{
	const char *params[3];

	if (page_params(ctx, params) < 0)
		return;
	if (params[1] == NULL)
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
	{"role", valid_role, true}, /* MEMBER_ROLE */
};
const struct fieldset member_patch_body = FIELDSET(member_patch_fields);

/*
 * PATCH /api/v1/orgs/{org}/members/{user_id} {role} (admin)
 * 200 item; 400 validation_failed; 404 not a member; 409 last_admin.
 */
void
member_patch(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* member_patch_body */
	const char *params[3] = {ctx->org_id, path_user(ctx), NULL};
	PGresult *r;

	params[2] = json_object_get_string(f[0]);
	r = tx_exec(ctx,
	    "WITH changed AS ("
	    " UPDATE finicom.memberships SET role = $3::finicom.role"
	    " WHERE org_id = $1 AND user_id = $2 RETURNING *)"
	    " SELECT finicom.member_json(m, u.email, u.name, a.last_active_at) FROM changed m"
	    " JOIN finicom.users u ON u.id = m.user_id"
	    " LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id",
	    3, params, true);
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
