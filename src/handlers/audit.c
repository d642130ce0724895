/*
 * audit: the org's audit events for its admins.  The events themselves are
 * written by the database (sql/0008_audit.sql); this only reads them.
 */
#include <string.h>

#include "handlers/handlers.h"
#include "validate.h"

/*
 * GET /api/v1/orgs/{org}/audit-events?limit=&cursor=&action=&actor_id= (admin)
 * 200 page, newest first; 400 validation_failed for a malformed actor_id,
 * action, limit or cursor.
 */
void
audit_events_list(struct request_ctx *ctx)
{
	const char *params[6];
	const char *action = http_query(ctx->req, "action");
	const char *actor = http_query(ctx->req, "actor_id");

	if (action != NULL && (strlen(action) == 0 || strlen(action) > 64 ||
	    strspn(action, "abcdefghijklmnopqrstuvwxyz_.") != strlen(action))) {
		http_error(ctx->res, 400, "validation_failed", "action must be an action name such as member.added",
		    "action");
		return;
	}
	if (actor != NULL && !uuid_ok(actor)) {
		http_error(ctx->res, 400, "validation_failed", "actor_id must be a UUID", "actor_id");
		return;
	}
	if (page_params(ctx, params) < 0)
		return;
	params[3] = ctx->org_id;
	params[4] = action;
	params[5] = actor;
	respond_page(ctx,
	    PAGE_QUERY(" SELECT audit.event_json(e) AS item, e.at AS kt, e.id AS ki,"
	    "  row_number() OVER (ORDER BY e.at DESC, e.id DESC) AS n"
	    " FROM audit.events e"
	    " WHERE e.org_id = $4 AND ($5::text IS NULL OR e.action = $5) AND ($6::uuid IS NULL OR e.actor_id = $6)"
	    "  AND ($2::timestamptz IS NULL OR (e.at, e.id) < ($2::timestamptz, $3::uuid))"
	    " ORDER BY e.at DESC, e.id DESC LIMIT $1::integer + 1"),
	    6, params);
}
