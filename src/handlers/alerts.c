/*
 * alerts: the org's activity alerts and its rule settings, for its admins.
 * The alerts themselves are raised by the database as audit events are
 * written (sql/0026_alerts.sql, docs/alerts.md); this lists them, lets an
 * admin acknowledge one, and turns rules on and off.  Words: a "rule" is
 * one of the six fixed names below; an alert is "open" until acknowledged.
 */
#include <stdio.h>
#include <string.h>

#include "handlers/handlers.h"
#include "validate.h"

/*
 * GET /api/v1/orgs/{org}/alerts?status=open|acknowledged|all&limit=&cursor= (admin)
 * 200 page, newest first (default status: all); 400 validation_failed
 * for another status, a bad limit or cursor.
 */
void
alerts_list(struct request_ctx *ctx)
{
	static const char *const statuses[] = {"open", "acknowledged", "all"};
	const char *status = http_query(ctx->req, "status");
	const char *params[5];
	size_t i;

	if (status == NULL)
		status = "all";
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (!strcmp(status, statuses[i]))
			break;
	if (i == sizeof(statuses) / sizeof(statuses[0])) {
		http_error(ctx->res, 400, "validation_failed", "status must be open, acknowledged or all", "status");
		return;
	}
	if (page_params(ctx, params) < 0)
		return;
	params[3] = ctx->org_id;
	params[4] = status;
	respond_page(ctx,
	    PAGE_QUERY(" SELECT finicom.alert_json(a) AS item, a.at AS kt, a.id AS ki,"
	    "  row_number() OVER (ORDER BY a.at DESC, a.id DESC) AS n"
	    " FROM finicom.alerts a"
	    " WHERE a.org_id = $4"
	    "  AND ($5 = 'all' OR ($5 = 'open') = (a.acknowledged_at IS NULL))"
	    "  AND ($2::timestamptz IS NULL OR (a.at, a.id) < ($2::timestamptz, $3::uuid))"
	    " ORDER BY a.at DESC, a.id DESC LIMIT $1::integer + 1"),
	    5, params);
}

/*
 * POST /api/v1/orgs/{org}/alerts/{id}/acknowledge (admin)
 * 200 alert, now acknowledged; acknowledging an acknowledged alert again
 * changes nothing and answers it as it is (200); 404 no such alert.  Who
 * acknowledged it is stamped by the database from the request context.
 */
void
alert_acknowledge(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, ctx->req->params[1]}; /* {id:uuid} */
	PGresult *r;

	r = tx_exec(ctx,
	    "WITH ack AS (UPDATE finicom.alerts a SET acknowledged_at = clock_timestamp()"
	    "  WHERE a.org_id = $1 AND a.id = $2 AND a.acknowledged_at IS NULL RETURNING a.*)"
	    " SELECT finicom.alert_json(ack)::text FROM ack"
	    " UNION ALL SELECT finicom.alert_json(a)::text FROM finicom.alerts a"
	    "  WHERE a.org_id = $1 AND a.id = $2 AND a.acknowledged_at IS NOT NULL",
	    2, params, true);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1)
		http_error(ctx->res, 404, "not_found", "no such alert", NULL);
	else
		respond_json_text(ctx, 200, PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* GET /api/v1/orgs/{org}/alert-rules (admin): 200 {rules: [{rule, enabled}]}, every rule. */
void
alert_rules_get(struct request_ctx *ctx)
{
	const char *params[1] = {ctx->org_id};
	PGresult *r;

	r = tx_exec(ctx, "SELECT finicom.alert_rules_json($1)::text", 1, params, true);
	if (r == NULL)
		return;
	respond_json_text(ctx, 200, PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* The rules, in the order of finicom.alert_rule_names() (sql/0026_alerts.sql). */
static const struct field rule_fields[] = {
	{"admin_granted", valid_bool, false},         /* RULE_ADMIN_GRANTED */
	{"admin_api_key_created", valid_bool, false}, /* RULE_ADMIN_API_KEY */
	{"mass_removal", valid_bool, false},          /* RULE_MASS_REMOVAL */
	{"failed_logins", valid_bool, false},         /* RULE_FAILED_LOGINS */
	{"db_change", valid_bool, false},             /* RULE_DB_CHANGE */
	{"audit_chain_broken", valid_bool, false},    /* RULE_CHAIN_BROKEN */
};
const struct fieldset alert_rules_body = FIELDSET_PATCH(rule_fields);

/*
 * PATCH /api/v1/orgs/{org}/alert-rules {rule: enabled, ...} (admin)
 * 200 {rules: [{rule, enabled}]}, every rule after the change; 400
 * validation_failed naming an unknown rule or a value that is not a
 * boolean; 400 for an empty object.  A rule whose state changes records
 * alert_rule.updated.
 */
void
alert_rules_patch(struct request_ctx *ctx)
{
	char names[256], values[64];
	size_t nl = 0, vl = 0;
	const char *params[3];
	PGresult *r;

	names[nl++] = '{';
	values[vl++] = '{';
	for (size_t i = 0; i < sizeof(rule_fields) / sizeof(rule_fields[0]); i++) {
		/* The fieldset reads null as absent; a rule is on or off, never null. */
		if (ctx->fields[i] == NULL && ctx->req->json != NULL &&
		    json_object_object_get_ex(ctx->req->json, rule_fields[i].name, NULL)) {
			char message[64];

			snprintf(message, sizeof(message), "%s must be true or false", rule_fields[i].name);
			http_error(ctx->res, 400, "validation_failed", message, rule_fields[i].name);
			return;
		}
		if (ctx->fields[i] == NULL)
			continue;
		nl += (size_t)snprintf(names + nl, sizeof(names) - nl, "%s%s", nl > 1 ? "," : "", rule_fields[i].name);
		vl += (size_t)snprintf(values + vl, sizeof(values) - vl, "%s%s", vl > 1 ? "," : "",
		    json_object_get_boolean(ctx->fields[i]) ? "t" : "f");
	}
	if (nl == 1) {
		http_error(ctx->res, 400, "validation_failed", "name at least one rule", NULL);
		return;
	}
	snprintf(names + nl, sizeof(names) - nl, "}");
	snprintf(values + vl, sizeof(values) - vl, "}");
	params[0] = ctx->org_id;
	params[1] = names;
	params[2] = values;
	/* The INSERT runs to completion (a data-modifying WITH always does); the
	 * SELECT sees the settings before it, so the sent values come from v. */
	r = tx_exec(ctx,
	    "WITH v AS (SELECT * FROM unnest($2::text[], $3::boolean[]) AS v (rule, enabled)),"
	    " up AS (INSERT INTO finicom.alert_rule_settings AS s (org_id, rule, enabled)"
	    "  SELECT $1, v.rule, v.enabled FROM v"
	    "  ON CONFLICT (org_id, rule) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()"
	    "  WHERE s.enabled IS DISTINCT FROM EXCLUDED.enabled)"
	    " SELECT json_build_object('rules', json_agg(json_build_object('rule', r.rule,"
	    "   'enabled', coalesce(v.enabled, s.enabled, true)) ORDER BY r.n))::text"
	    " FROM unnest(finicom.alert_rule_names()) WITH ORDINALITY AS r (rule, n)"
	    " LEFT JOIN v ON v.rule = r.rule"
	    " LEFT JOIN finicom.alert_rule_settings s ON s.org_id = $1 AND s.rule = r.rule",
	    3, params, true);
	if (r == NULL)
		return;
	respond_json_text(ctx, 200, PQgetvalue(r, 0, 0));
	PQclear(r);
}
