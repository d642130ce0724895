/*
 * reviews: access reviews, the regular review of who has access to an org
 * (sql/0025_access_reviews.sql).  A review snapshots every member as an
 * item; admins decide each item (keep, remove, change_role); completing it
 * applies every decision in one transaction, or nothing.
 *
 * The workflow lives in the database: the one-open-review rule is a unique
 * index, the state checks and the all-or-nothing completion are the
 * finicom.access_review_* functions, the audit events are triggers.  These
 * handlers check the request's values, call one function or read one view,
 * and pass PostgreSQL's JSON through.  Reviews are admins' only
 * (PERM_MEMBERS_MANAGE in the route table, admin-only policies below it).
 */
#include <string.h>

#include "handlers/handlers.h"
#include "validate.h"

/* The {id:uuid} of the path: the review (the router checked it is a UUID). */
static const char *
path_review(struct request_ctx *ctx)
{
	return ctx->req->params[1];
}

/* One JSON row from the database, or 404 "no such <what>". */
static void
respond_one(struct request_ctx *ctx, PGresult *r, int status, const char *what)
{
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
		http_error(ctx->res, 404, "not_found", what, NULL);
	else
		respond_json_text(ctx, status, PQgetvalue(r, 0, 0));
	PQclear(r);
}

static const struct field review_start_fields[] = {
	{"due_at", valid_time, false}, /* START_DUE_AT */
};
const struct fieldset review_start_body = FIELDSET(review_start_fields);

/*
 * POST /api/v1/orgs/{org}/access-reviews {due_at?} (admin)
 * 201 review with every current member as an item; 400 validation_failed
 * (due_at malformed or not in the future); 409 conflict while another
 * review of the org is open.
 */
void
access_review_create(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* review_start_body */
	const char *params[1] = {f[0] ? json_object_get_string(f[0]) : NULL};
	PGresult *r;

	ctx->db_field = "due_at";
	r = tx_exec(ctx, "SELECT finicom.access_review_start($1::timestamptz)::text", 1, params, true);
	if (r != NULL)
		respond_one(ctx, r, 201, "no such access review");
}

/* GET /api/v1/orgs/{org}/access-reviews?limit=&cursor= (admin): 200 page, newest first. */
void
access_reviews_list(struct request_ctx *ctx)
{
	const char *params[4];

	if (page_params(ctx, params) < 0)
		return;
	params[3] = ctx->org_id;
	respond_page(ctx,
	    PAGE_QUERY(" SELECT v.item, v.created_at AS kt, v.id AS ki,"
	    "  row_number() OVER (ORDER BY v.created_at DESC, v.id DESC) AS n"
	    " FROM finicom.access_review_rows v"
	    " WHERE v.org_id = $4"
	    "  AND ($2::timestamptz IS NULL OR (v.created_at, v.id) < ($2::timestamptz, $3::uuid))"
	    " ORDER BY v.created_at DESC, v.id DESC LIMIT $1::integer + 1"),
	    4, params);
}

/* GET /api/v1/orgs/{org}/access-reviews/{id} (admin): 200 review; 404. */
void
access_review_get(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, path_review(ctx)};
	PGresult *r = tx_exec(ctx,
	    "SELECT v.item::text FROM finicom.access_review_rows v WHERE v.org_id = $1 AND v.id = $2", 2, params,
	    true);

	if (r != NULL)
		respond_one(ctx, r, 200, "no such access review");
}

/*
 * GET /api/v1/orgs/{org}/access-reviews/{id}/items?limit=&cursor= (admin)
 * 200 page in the members list's order (joined_at, user id); 404 for an
 * unknown review (an empty page needs the review to exist).
 */
void
access_review_items_list(struct request_ctx *ctx)
{
	const char *params[5];
	PGresult *r;

	if (page_params(ctx, params) < 0)
		return;
	params[3] = ctx->org_id;
	params[4] = path_review(ctx);
	r = tx_exec(ctx,
	    "SELECT EXISTS (SELECT 1 FROM finicom.access_reviews r WHERE r.org_id = $1 AND r.id = $2)", 2,
	    params + 3, false);
	if (r == NULL)
		return;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		http_error(ctx->res, 404, "not_found", "no such access review", NULL);
		return;
	}
	PQclear(r);
	respond_page(ctx,
	    PAGE_QUERY(" SELECT v.item, v.joined_at AS kt, v.user_id AS ki,"
	    "  row_number() OVER (ORDER BY v.joined_at, v.user_id) AS n"
	    " FROM finicom.access_review_item_rows v"
	    " WHERE v.org_id = $4 AND v.review_id = $5"
	    "  AND ($2::timestamptz IS NULL OR (v.joined_at, v.user_id) > ($2::timestamptz, $3::uuid))"
	    " ORDER BY v.joined_at, v.user_id LIMIT $1::integer + 1"),
	    5, params);
}

static const struct field review_decide_fields[] = {
	{"decision", valid_decision, true}, /* DECIDE_DECISION */
	{"new_role", valid_role, false},    /* DECIDE_NEW_ROLE */
	{"note", valid_note, false},        /* DECIDE_NOTE */
};
const struct fieldset review_decide_body = FIELDSET(review_decide_fields);

/*
 * PATCH /api/v1/orgs/{org}/access-reviews/{id}/items/{user_id}
 * {decision, new_role?, note?} (admin)
 * 200 item; 400 validation_failed (new_role missing with change_role, or
 * given with another decision; note over 500 characters); 404 unknown
 * review or member of it; 409 conflict when the review is not open.
 */
void
access_review_item_patch(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* review_decide_body */
	const char *decision = json_object_get_string(f[0]);
	bool change = strcmp(decision, "change_role") == 0;
	const char *params[5];
	PGresult *r;

	if (change && f[1] == NULL) {
		http_error(ctx->res, 400, "validation_failed", "new_role is required with change_role", "new_role");
		return;
	}
	if (!change && f[1] != NULL) {
		http_error(ctx->res, 400, "validation_failed", "new_role is only for change_role", "new_role");
		return;
	}
	params[0] = path_review(ctx);
	params[1] = ctx->req->params[2];
	params[2] = decision;
	params[3] = f[1] ? json_object_get_string(f[1]) : NULL;
	params[4] = f[2] ? json_object_get_string(f[2]) : NULL; /* null (absent): no note */
	ctx->db_field = "note";
	r = tx_exec(ctx,
	    "SELECT finicom.access_review_decide($1, $2, $3::finicom.access_review_decision,"
	    " $4::finicom.role, $5)::text",
	    5, params, true);
	if (r != NULL)
		respond_one(ctx, r, 200, "no such member in this access review");
}

/*
 * POST /api/v1/orgs/{org}/access-reviews/{id}/complete (admin)
 * 200 review, every remove and change_role applied with its member event
 * and access_review.completed; 404; 409 review_incomplete (an undecided
 * item), last_admin (nothing applied), conflict (not open).
 */
void
access_review_complete(struct request_ctx *ctx)
{
	const char *params[1] = {path_review(ctx)};
	PGresult *r = tx_exec(ctx, "SELECT finicom.access_review_complete($1)::text", 1, params, true);

	if (r != NULL)
		respond_one(ctx, r, 200, "no such access review");
}

/* DELETE /api/v1/orgs/{org}/access-reviews/{id} (admin): 204 canceled; 404; 409 conflict when not open. */
void
access_review_cancel(struct request_ctx *ctx)
{
	const char *params[1] = {path_review(ctx)};
	PGresult *r = tx_exec(ctx, "SELECT finicom.access_review_cancel($1)", 1, params, true);

	if (r == NULL)
		return;
	PQclear(r);
	http_respond(ctx->res, 204, NULL);
}
