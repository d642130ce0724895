/*
 * objects: the data objects of an org (sources, integrations, destinations,
 * connections), their sync runs, and one implementation of create, list,
 * get, update and delete for the four kinds.
 *
 * Words:
 *   kind        one row of the kinds[] table below: the {kind} of the path
 *               ("sources"), its singular ("source": audit events, errors,
 *               the AAD of secrets), its fields and its SQL.  Everything
 *               that differs between kinds is in that table; the handlers
 *               below never ask which kind they serve.
 *   fields      validated before the handler runs, by the route's fieldset
 *               (resource_body, connection_body and their _patch forms, in
 *               src/routes.c; unknown, missing, wrong type: 400
 *               validation_failed naming the field), then bound as text
 *               parameters $3, $4, ... in table order after $1 = the org and
 *               $2 = the object's id.  An absent (or null) field is an SQL
 *               NULL: on create the column's default, on PATCH "unchanged".
 *   config      secret members are encrypted here (util/secret.c) before
 *               the database sees them, and masked as "********" in every
 *               reply.
 *
 * The object's id is made here (a random UUID) so that it is part of the
 * AAD of its secrets from the start.  Writes are followed by a read of the
 * object in the same transaction, so every reply shows what is stored.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers/handlers.h"
#include "util/crypto.h"
#include "util/jsoncheck.h"
#include "util/log.h"
#include "util/secret.h"
#include "validate.h"

/*
 * A config's limits.  CONFIG_MAX_BYTES (validate.h) is the API's: the config as the
 * client wrote it, without whitespace and with every number written out in
 * full as it is stored and read back (jsonb keeps numbers exactly, and
 * prints 1e3 as 1000: so "1e20000" counts 20001 bytes).  CONFIG_STORED_MAX
 * is the database's CHECK (octet_length(config::text) <= 32768, in
 * sql/0008_objects.sql) on what is stored, secrets encrypted: checked here
 * with the same measure so that an accepted config always fits, and a
 * config that would not is a 400 naming it, never a failed INSERT.
 */
#define CONFIG_STORED_MAX (32 * 1024) /* CONFIG_MAX_BYTES: validate.h */

/* How a validated field becomes a text parameter. */
enum value_type {
	VALUE_TEXT,      /* a string, as is */
	VALUE_BOOL,      /* "true" / "false" */
	VALUE_UUID_LIST, /* a PostgreSQL array literal "{...}" */
	VALUE_CONFIG,    /* an object, secrets encrypted, as JSON text */
};

struct kind {
	const char *plural;   /* the {kind} of the path */
	const char *singular;
	const struct field *fields; /* validators; required means required on create */
	const enum value_type *types; /* parallel to fields */
	size_t nfields;
	const char *select_sql; /* $1 org, $2 id: the object's JSON */
	const char *page_sql;   /* respond_page's shape with $4 org */
	const char *lock_sql;   /* $1 org, $2 id: the stored config (or NULL), row locked */
	const char *insert_sql; /* $1 org, $2 id, $3... the fields */
	const char *update_sql; /* the same; NULL fields stay as they are */
};

/* ------------------------------------------------------------------ */
/* The kinds */

/* Sources, integrations and destinations: {name, type, config}. */
static const struct field resource_fields[] = {
	{"name", valid_name, true},      /* RESOURCE_NAME   $3 */
	{"type", valid_type, true},      /* RESOURCE_TYPE   $4 */
	{"config", valid_config, false}, /* RESOURCE_CONFIG $5 */
};
const struct fieldset resource_body = FIELDSET(resource_fields);
const struct fieldset resource_patch_body = FIELDSET_PATCH(resource_fields);
static const enum value_type resource_types[] = {VALUE_TEXT, VALUE_TEXT, VALUE_CONFIG};

#define RESOURCE_JSON \
	"pg_catalog.json_build_object('id', t.id, 'name', t.name, 'type', t.type," \
	" 'config', t.config_masked," \
	" 'created_at', finicom.ts(t.created_at), 'updated_at', finicom.ts(t.updated_at)," \
	" 'created_by', t.created_by)"
#define RESOURCE_INSERT(table) \
	"INSERT INTO " table " (org_id, id, name, type, config)" \
	" VALUES ($1, $2, $3, $4, coalesce($5::jsonb, '{}'))"
#define RESOURCE_UPDATE(table) \
	"UPDATE " table " t SET name = coalesce($3, t.name), type = coalesce($4, t.type)," \
	" config = coalesce($5::jsonb, t.config) WHERE t.org_id = $1 AND t.id = $2"
#define RESOURCE_LOCK(table) \
	"SELECT t.config::text FROM " table " t WHERE t.org_id = $1 AND t.id = $2 FOR UPDATE"

/* Connections: {name, source_id, destination_id, integration_ids, schedule, enabled}. */
static const struct field connection_fields[] = {
	{"name", valid_name, true},                 /* CONNECTION_NAME         $3 */
	{"source_id", valid_uuid, true},            /* CONNECTION_SOURCE       $4 */
	{"destination_id", valid_uuid, true},       /* CONNECTION_DESTINATION  $5 */
	{"integration_ids", valid_uuid_list, false}, /* CONNECTION_INTEGRATIONS $6 */
	{"schedule", valid_schedule, false},        /* CONNECTION_SCHEDULE     $7 */
	{"enabled", valid_bool, false},             /* CONNECTION_ENABLED      $8 */
};
const struct fieldset connection_body = FIELDSET(connection_fields);
const struct fieldset connection_patch_body = FIELDSET_PATCH(connection_fields);
static const enum value_type connection_types[] = {
	VALUE_TEXT, VALUE_TEXT, VALUE_TEXT, VALUE_UUID_LIST, VALUE_TEXT, VALUE_BOOL,
};

#define CONNECTION_JSON \
	"pg_catalog.json_build_object('id', t.id, 'name', t.name, 'source_id', t.source_id," \
	" 'destination_id', t.destination_id, 'integration_ids', (" \
	"  SELECT coalesce(pg_catalog.json_agg(ci.integration_id ORDER BY ci.integration_id)," \
	"   '[]') FROM finicom.connection_integrations ci" \
	"  WHERE ci.org_id = t.org_id AND ci.connection_id = t.id)," \
	" 'schedule', t.schedule, 'enabled', t.enabled," \
	" 'created_at', finicom.ts(t.created_at), 'updated_at', finicom.ts(t.updated_at)," \
	" 'created_by', t.created_by)"
/* The named objects are checked (and locked) first: a foreign id is 400 naming the field. */
#define CONNECTION_INSERT \
	"WITH c AS (" \
	" INSERT INTO finicom.connections" \
	"  (org_id, id, name, source_id, destination_id, schedule, enabled)" \
	" SELECT $1, $2, $3, $4::uuid, $5::uuid, coalesce($7, 'manual')," \
	"  coalesce($8::boolean, true)" \
	" FROM finicom.connection_refs_check($1, $4::uuid, $5::uuid, $6::uuid[])" \
	" RETURNING org_id, id)" \
	" INSERT INTO finicom.connection_integrations (org_id, connection_id, integration_id)" \
	" SELECT c.org_id, c.id, i FROM c, pg_catalog.unnest(coalesce($6::uuid[], '{}')) i"
/* integration_ids, when given, replaces the set: links not in it go, new ones come. */
#define CONNECTION_UPDATE \
	"WITH c AS (" \
	" UPDATE finicom.connections t SET name = coalesce($3, t.name)," \
	"  source_id = coalesce($4::uuid, t.source_id)," \
	"  destination_id = coalesce($5::uuid, t.destination_id)," \
	"  schedule = coalesce($7, t.schedule), enabled = coalesce($8::boolean, t.enabled)" \
	" FROM finicom.connection_refs_check($1, $4::uuid, $5::uuid, $6::uuid[]) checked" \
	" WHERE t.org_id = $1 AND t.id = $2 RETURNING t.org_id, t.id)," \
	" gone AS (" \
	" DELETE FROM finicom.connection_integrations ci USING c" \
	" WHERE $6::uuid[] IS NOT NULL AND ci.org_id = c.org_id AND ci.connection_id = c.id" \
	"  AND ci.integration_id <> ALL ($6::uuid[]))" \
	" INSERT INTO finicom.connection_integrations (org_id, connection_id, integration_id)" \
	" SELECT c.org_id, c.id, i FROM c, pg_catalog.unnest(coalesce($6::uuid[], '{}')) i" \
	" ON CONFLICT DO NOTHING"
#define CONNECTION_LOCK \
	"SELECT NULL::text FROM finicom.connections t WHERE t.org_id = $1 AND t.id = $2 FOR UPDATE"

/* Every kind: one object by id, and a page oldest first. */
#define OBJECT_SELECT(table, json) \
	"SELECT " json "::text FROM " table " t WHERE t.org_id = $1 AND t.id = $2"
#define OBJECT_PAGE(table, json) \
	PAGE_QUERY(" SELECT " json " AS item, t.created_at AS kt, t.id AS ki," \
	"  row_number() OVER (ORDER BY t.created_at, t.id) AS n" \
	" FROM " table " t WHERE t.org_id = $4" \
	"  AND ($2::timestamptz IS NULL OR (t.created_at, t.id) > ($2::timestamptz, $3::uuid))" \
	" ORDER BY t.created_at, t.id LIMIT $1::integer + 1")

#define RESOURCE_KIND(plural, singular, table) \
	{plural, singular, resource_fields, resource_types, 3, \
	    OBJECT_SELECT(table, RESOURCE_JSON), OBJECT_PAGE(table, RESOURCE_JSON), \
	    RESOURCE_LOCK(table), RESOURCE_INSERT(table), RESOURCE_UPDATE(table)}

static const struct kind kinds[] = {
	RESOURCE_KIND("sources", "source", "finicom.sources"),
	RESOURCE_KIND("integrations", "integration", "finicom.integrations"),
	RESOURCE_KIND("destinations", "destination", "finicom.destinations"),
	{"connections", "connection", connection_fields, connection_types, 6,
	    OBJECT_SELECT("finicom.connections", CONNECTION_JSON),
	    OBJECT_PAGE("finicom.connections", CONNECTION_JSON), CONNECTION_LOCK, CONNECTION_INSERT,
	    CONNECTION_UPDATE},
};

#define CONNECTIONS (&kinds[3])

/* ------------------------------------------------------------------ */
/* Helpers */

/*
 * The kind named by the path /api/v1/orgs/{org}/{kind}[/...], whether the
 * route has {kind} as a parameter or the kind spelled out.  NULL after a
 * 404 for anything else.
 */
static const struct kind *
path_kind(struct request_ctx *ctx)
{
	static const char prefix[] = "/api/v1/orgs/";
	const char *p = ctx->req->path, *end;

	if (p != NULL && !strncmp(p, prefix, sizeof(prefix) - 1)) {
		p = strchr(p + sizeof(prefix) - 1, '/');
		if (p != NULL) {
			p++;
			end = strchr(p, '/');
			for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
				size_t n = strlen(kinds[i].plural);
				size_t len = end ? (size_t)(end - p) : strlen(p);
				if (len == n && !strncmp(p, kinds[i].plural, n))
					return &kinds[i];
			}
		}
	}
	http_error(ctx->res, 404, "not_found", "no such resource", NULL);
	return NULL;
}

/* The {id:uuid} of the path, its last parameter (a UUID: the router checked it). */
static const char *
path_id(struct request_ctx *ctx)
{
	return ctx->req->params[ctx->req->nparams - 1];
}

static char *
lowercase(struct request_ctx *ctx, const char *s)
{
	char *out = arena_strndup(ctx->arena, s, strlen(s));

	for (char *p = out; p && *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* A new random (version 4) UUID in out. */
static int
new_uuid(char out[37])
{
	unsigned char b[16];

	if (random_bytes(b, sizeof(b)) < 0)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
	return 0;
}

/*
 * Reply status with the object the select returns, as the database built
 * it (its config is the masked copy, config_masked); 404 when it returns none.
 */
static void
respond_object(struct request_ctx *ctx, const struct kind *kind, const char *const *params,
    int status)
{
	PGresult *r = tx_exec(ctx, kind->select_sql, 2, params, true);
	char message[64];

	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		snprintf(message, sizeof(message), "no such %s", kind->singular);
		http_error(ctx->res, 404, "not_found", message, NULL);
	} else {
		respond_json_text(ctx, status, PQgetvalue(r, 0, 0));
	}
	PQclear(r);
}

/*
 * Turn the validated fields f[] of kind into parameters $3... (params[2...]).
 * The config (if sent) is sealed: secrets encrypted, "********" replaced by
 * what stored (the row's config, or NULL) holds.  Returns 0, or -1 with the
 * response set.
 */
static int
bind_fields(struct request_ctx *ctx, const struct kind *kind, json_object **f, const char *id,
    json_object *stored, const char **params)
{
	char err[300];

	for (size_t i = 0; i < kind->nfields; i++) {
		const char **p = &params[2 + i];
		*p = NULL;
		if (f[i] == NULL)
			continue;
		switch (kind->types[i]) {
		case VALUE_TEXT:
			*p = json_object_get_string(f[i]);
			break;
		case VALUE_BOOL:
			*p = json_object_get_boolean(f[i]) ? "true" : "false";
			break;
		case VALUE_UUID_LIST: {
			size_t n = json_object_array_length(f[i]);
			char *list = arena_alloc(ctx->arena, 2 + n * 37 + 1), *q = list;
			if (list == NULL)
				goto fault;
			*q++ = '{';
			for (size_t j = 0; j < n; j++)
				q += sprintf(q, "%s%s", j ? "," : "",
				    json_object_get_string(json_object_array_get_idx(f[i], j)));
			strcpy(q, "}");
			*p = list;
			break;
		}
		case VALUE_CONFIG: {
			char *aad = arena_printf(ctx->arena, "%s:%s:%s:",
			    lowercase(ctx, ctx->org_id), kind->singular, lowercase(ctx, id));
			int rc = aad ? config_merge_for_patch(f[i], stored, aad, err, sizeof(err))
			             : -2;
			if (rc == -1) {
				http_error(ctx->res, 400, "validation_failed", err,
				    kind->fields[i].name);
				return -1;
			}
			if (rc < 0) {
				log_msg(LOG_ERROR, "%s", aad ? err : "out of memory");
				goto fault;
			}
			struct json_size size;
			*p = config_json_text(f[i], &size);
			if (*p == NULL) {
				log_msg(LOG_ERROR, "a sealed config is not valid JSON");
				goto fault;
			}
			if (size.pg > CONFIG_STORED_MAX) {
				http_error(ctx->res, 400, "validation_failed",
				    "config is too large to store once its secrets are encrypted "
				    "(at most 32 KiB stored); send fewer or shorter secret values",
				    kind->fields[i].name);
				return -1;
			}
			/* A value the database still refuses is a 400 naming the config. */
			ctx->db_field = kind->fields[i].name;
			break;
		}
		}
	}
	return 0;
fault:
	http_error(ctx->res, 500, "internal", "internal error", NULL);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Handlers */

/*
 * GET /api/v1/orgs/{org}/{kind}?limit=&cursor= (member)
 * 200 page, oldest first; 400 bad limit or cursor; 404 unknown kind.
 */
void
objects_list(struct request_ctx *ctx)
{
	const struct kind *kind = path_kind(ctx);
	const char *params[4];

	if (kind == NULL || page_params(ctx, params) < 0)
		return;
	params[3] = ctx->org_id;
	respond_page(ctx, kind->page_sql, 4, params);
}

/* GET /api/v1/orgs/{org}/{kind}/{id} (member): 200 object; 404. */
void
object_get(struct request_ctx *ctx)
{
	const struct kind *kind = path_kind(ctx);
	const char *params[2];

	if (kind == NULL)
		return;
	params[0] = ctx->org_id;
	params[1] = path_id(ctx);
	respond_object(ctx, kind, params, 200);
}

/*
 * POST /api/v1/orgs/{org}/{kind} (write, admin)
 * 201 object; 400 validation_failed naming the field (unknown, missing, bad
 * value, an id that is not of this org); 403 below write; 404 unknown kind.
 */
void
object_create(struct request_ctx *ctx)
{
	const struct kind *kind = path_kind(ctx);
	json_object **f = ctx->fields; /* resource_body or connection_body */
	const char *params[2 + FIELDS_MAX];
	char id[37];
	PGresult *r;

	if (kind == NULL)
		return;
	if (new_uuid(id) < 0) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	params[0] = ctx->org_id;
	params[1] = id;
	if (bind_fields(ctx, kind, f, id, NULL, params) < 0)
		return;
	r = tx_exec(ctx, kind->insert_sql, 2 + (int)kind->nfields, params, false);
	if (r == NULL)
		return;
	PQclear(r);
	respond_object(ctx, kind, params, 201);
}

/*
 * PATCH /api/v1/orgs/{org}/{kind}/{id} (write, admin): only the fields
 * sent change; a config sent replaces the stored one, where "********" for
 * a secret keeps the stored value.
 * 200 object; 400 validation_failed; 403 below write; 404.
 */
void
object_patch(struct request_ctx *ctx)
{
	const struct kind *kind = path_kind(ctx);
	json_object **f = ctx->fields, *stored = NULL; /* resource_patch_body or connection_patch_body */
	const char *params[2 + FIELDS_MAX];
	char message[64];
	PGresult *r;
	int rc;

	if (kind == NULL)
		return;
	params[0] = ctx->org_id;
	params[1] = path_id(ctx);
	r = tx_exec(ctx, kind->lock_sql, 2, params, false);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		snprintf(message, sizeof(message), "no such %s", kind->singular);
		http_error(ctx->res, 404, "not_found", message, NULL);
		return;
	}
	if (!PQgetisnull(r, 0, 0))
		stored = json_from_text(PQgetvalue(r, 0, 0));
	PQclear(r);
	rc = bind_fields(ctx, kind, f, params[1], stored, params);
	json_object_put(stored);
	if (rc < 0)
		return;
	r = tx_exec(ctx, kind->update_sql, 2 + (int)kind->nfields, params, false);
	if (r == NULL)
		return;
	PQclear(r);
	respond_object(ctx, kind, params, 200);
}

/*
 * DELETE /api/v1/orgs/{org}/{kind}/{id} (write, admin)
 * 204; 403 below write; 404; 409 in_use for a source, destination or
 * integration that a connection uses.
 */
void
object_delete(struct request_ctx *ctx)
{
	const struct kind *kind = path_kind(ctx);
	const char *params[3];
	char message[64];
	PGresult *r;

	if (kind == NULL)
		return;
	params[0] = ctx->org_id;
	params[1] = path_id(ctx);
	params[2] = kind->singular;
	r = tx_exec(ctx, "SELECT finicom.object_delete($3, $1, $2)", 3, params, true);
	if (r == NULL)
		return;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		snprintf(message, sizeof(message), "no such %s", kind->singular);
		http_error(ctx->res, 404, "not_found", message, NULL);
	} else {
		http_respond(ctx->res, 204, NULL);
	}
	PQclear(r);
}

/*
 * POST /api/v1/orgs/{org}/connections/{id}/sync (write, admin)
 * 202 {id, connection_id, status: "queued", requested_by, requested_at,
 * started_at, finished_at}; 402 plan_required on free (or an ended trial);
 * 403 below write; 404.
 */
void
connection_sync(struct request_ctx *ctx)
{
	const char *params[2] = {ctx->org_id, path_id(ctx)};
	PGresult *r;

	r = tx_exec(ctx, "SELECT finicom.sync_request($1, $2)", 2, params, true);
	if (r == NULL)
		return;
	respond_json_text(ctx, 202, PQgetvalue(r, 0, 0));
	PQclear(r);
}

/*
 * GET /api/v1/orgs/{org}/connections/{id}/runs?limit=&cursor= (member)
 * 200 page, newest first; 400 bad limit or cursor; 404.
 */
void
connection_runs_list(struct request_ctx *ctx)
{
	const char *params[5];
	PGresult *r;

	if (page_params(ctx, params) < 0)
		return;
	params[4] = path_id(ctx);
	params[3] = ctx->org_id;
	r = tx_exec(ctx, "SELECT 1 FROM finicom.connections c WHERE c.org_id = $1 AND c.id = $2", 2,
	    &params[3], false);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		http_error(ctx->res, 404, "not_found", "no such connection", NULL);
		return;
	}
	PQclear(r);
	respond_page(ctx,
	    PAGE_QUERY(" SELECT finicom.sync_run_json(r) AS item,"
	    "  r.requested_at AS kt, r.id AS ki,"
	    "  row_number() OVER (ORDER BY r.requested_at DESC, r.id DESC) AS n"
	    " FROM finicom.sync_runs r WHERE r.org_id = $4 AND r.connection_id = $5"
	    "  AND ($2::timestamptz IS NULL"
	    "   OR (r.requested_at, r.id) < ($2::timestamptz, $3::uuid))"
	    " ORDER BY r.requested_at DESC, r.id DESC LIMIT $1::integer + 1"),
	    5, params);
}
