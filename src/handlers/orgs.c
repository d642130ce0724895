/*
 * orgs: organizations and their billing settings.
 *
 * Every statement runs in the request transaction, where the database knows
 * the actor and the org of the path; row-level security refuses what the
 * permission check in C already refused.
 */
#include <stdio.h>
#include <string.h>

#include "handlers/handlers.h"
#include "validate.h"

/* Reply with the org of the path as the caller sees it. */
#define ORG_SELECT "SELECT finicom.org_json(o, $2) FROM finicom.orgs o WHERE o.id = $1"

static void
respond_org(struct request_ctx *ctx, PGresult *r, int status)
{
	if (PQntuples(r) != 1)
		http_error(ctx->res, 404, "not_found", "no such resource", NULL);
	else
		respond_json_text(ctx, status, PQgetvalue(r, 0, 0));
	PQclear(r);
}

static const struct field org_create_fields[] = {
	{"name", valid_name, true}, /* ORG_NAME */
};
const struct fieldset org_create_body = FIELDSET(org_create_fields);

/*
 * POST /api/v1/orgs {name} (a signed-in user)
 * 201 org, the caller its admin; 400 validation_failed; 403 for API keys.
 */
void
org_create(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* org_create_body */
	const char *params[1];
	PGresult *r;

	params[0] = json_object_get_string(f[0]);
	r = tx_exec(ctx, "SELECT finicom.org_json(o, 'admin') FROM finicom.org_create($1) o", 1, params,
	    true);
	if (r != NULL)
		respond_org(ctx, r, 201);
}

/* GET /api/v1/orgs/{org} (member): 200 org; 404 for non-members. */
void
org_get(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, role_name(ctx->org_role)};
	PGresult *r = tx_exec(ctx, ORG_SELECT, 2, params, true);

	if (r != NULL)
		respond_org(ctx, r, 200);
}

static const struct field org_patch_fields[] = {
	{"name", valid_name, false},             /* PATCH_NAME */
	{"invite_ttl_hours", valid_ttl, false},  /* PATCH_TTL */
	{"require_2fa", valid_bool, false},      /* PATCH_REQUIRE_2FA (sql/0023) */
	{"access_review_interval_days", valid_review_interval, false}, /* PATCH_REVIEW_INTERVAL */
};
const struct fieldset org_patch_body = FIELDSET(org_patch_fields);

/*
 * PATCH /api/v1/orgs/{org} {name?, invite_ttl_hours?, require_2fa?, access_review_interval_days?}
 * (admin) 200 org; 400 validation_failed; 403 below admin; 404 non-members;
 * 409 two_factor_required when turning require_2fa on without two-factor.
 */
void
org_patch(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* org_patch_body */
	const char *params[6];
	char ttl[16], interval[16];
	PGresult *r;

	params[0] = ctx->org_id;
	params[1] = role_name(ctx->org_role);
	params[2] = f[0] ? json_object_get_string(f[0]) : NULL;
	if (f[1] != NULL)
		snprintf(ttl, sizeof(ttl), "%d", json_object_get_int(f[1]));
	params[3] = f[1] ? ttl : NULL;
	params[4] = f[2] ? (json_object_get_boolean(f[2]) ? "t" : "f") : NULL;
	/* Turning require_2fa on without two-factor of one's own: 409 two_factor_required (a trigger, sql/0023). */
	if (f[3] != NULL)
		snprintf(interval, sizeof(interval), "%d", json_object_get_int(f[3]));
	params[5] = f[3] ? interval : NULL;
	r = tx_exec(ctx,
	    "WITH changed AS ("
	    " UPDATE finicom.orgs SET name = coalesce($3, name),"
	    "  invite_ttl_hours = coalesce($4::integer, invite_ttl_hours),"
	    "  require_2fa = coalesce($5::boolean, require_2fa),"
	    "  access_review_interval_days = coalesce($6::integer, access_review_interval_days)"
	    " WHERE id = $1 RETURNING *)"
	    " SELECT finicom.org_json(o, $2) FROM changed o",
	    6, params, true);
	if (r != NULL)
		respond_org(ctx, r, 200);
}

/* DELETE /api/v1/orgs/{org} (admin): 204; its audit events stay. */
void
org_delete(struct request_ctx *ctx)
{
	const char *params[1] = {ctx->org_id};
	PGresult *r = tx_exec(ctx, "DELETE FROM finicom.orgs WHERE id = $1", 1, params, true);

	if (r == NULL)
		return;
	if (strcmp(PQcmdTuples(r), "1") != 0)
		http_error(ctx->res, 404, "not_found", "no such resource", NULL);
	else
		http_respond(ctx->res, 204, NULL);
	PQclear(r);
}

#define BILLING_JSON \
	"pg_catalog.json_build_object('plan', finicom.effective_plan(o)," \
	" 'trial_ends_at', finicom.ts(o.trial_ends_at), 'billing_email', o.billing_email," \
	" 'seats_used', (SELECT count(*) FROM finicom.memberships m WHERE m.org_id = o.id))::text"

/* GET /api/v1/orgs/{org}/billing (admin): 200 {plan, trial_ends_at, billing_email, seats_used}. */
void
billing_get(struct request_ctx *ctx)
{
	const char *params[1] = {ctx->org_id};
	PGresult *r = tx_exec(ctx, "SELECT " BILLING_JSON " FROM finicom.orgs o WHERE o.id = $1", 1,
	    params, true);

	if (r != NULL)
		respond_org(ctx, r, 200);
}

static const struct field billing_fields[] = {
	{"plan", valid_plan, false},                   /* BILLING_PLAN */
	{"billing_email", valid_email, false},        /* BILLING_EMAIL */
};
const struct fieldset billing_body = FIELDSET(billing_fields);

/*
 * PATCH /api/v1/orgs/{org}/billing {plan?, billing_email?} (admin)
 * 200 billing; 400 validation_failed.  billing_email null clears it.
 * An admin may always move the org to free; to pro or back to trial only
 * with plan_changes = admin (self-hosted without payment), else 403: the
 * operator sets plans (finicomctl set-plan).  Sending the plan the org
 * already has is no change, so a billing read sent back still works.  The
 * check is in the UPDATE's WHERE, so a concurrent set-plan cannot slip in
 * between a check and the write.
 */
void
billing_patch(struct request_ctx *ctx)
{
	json_object **f = ctx->fields; /* billing_body */
	bool email_present;
	const char *params[5];
	PGresult *r;

	/* json-c keeps a JSON null as a NULL value: ask whether the key is there. */
	email_present = json_object_object_get_ex(ctx->req->json, "billing_email", NULL);
	params[0] = ctx->org_id;
	params[1] = f[0] ? json_object_get_string(f[0]) : NULL;
	params[2] = f[1] ? json_object_get_string(f[1]) : NULL;
	params[3] = email_present ? "t" : "f"; /* present (maybe null): set it */
	params[4] = ctx->cfg->plan_changes == PLAN_CHANGES_ADMIN ? "t" : "f";
	r = tx_exec(ctx,
	    "WITH changed AS ("
	    " UPDATE finicom.orgs SET plan = coalesce($2::finicom.plan, plan),"
	    "  billing_email = CASE WHEN $4::boolean THEN $3 ELSE billing_email END"
	    " WHERE id = $1 AND ($5::boolean OR $2::finicom.plan IS NULL"
	    "  OR $2::finicom.plan IN ('free', plan))"
	    " RETURNING *)"
	    " SELECT (SELECT " BILLING_JSON " FROM changed o),"
	    "  EXISTS (SELECT 1 FROM finicom.orgs WHERE id = $1)",
	    5, params, true);
	if (r == NULL)
		return;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		respond_json_text(ctx, 200, PQgetvalue(r, 0, 0));
	else if (PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 1), "t"))
		http_error(ctx->res, 403, "forbidden",
		    "the operator sets plans (finicomctl set-plan); an admin may move the org to free",
		    NULL);
	else
		http_error(ctx->res, 404, "not_found", "no such resource", NULL);
	PQclear(r);
}
