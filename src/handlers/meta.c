/*
 * meta: service health and the API description.
 */
#include <string.h>

#include "handlers/handlers.h"

extern const char finicom_openapi_start[];
extern const char finicom_openapi_end[];

const char *
openapi_document(size_t *len)
{
	*len = (size_t)(finicom_openapi_end - finicom_openapi_start);
	return finicom_openapi_start;
}

/*
 * GET /healthz: runs SELECT 1 on the worker's connection.
 * 200 {"status":"ok"}; 503 {"status":"unavailable"} when the database does
 * not answer.
 */
void
health_get(struct request_ctx *ctx)
{
	PGconn *conn = db_connection(ctx->db);
	PGresult *r = NULL;
	bool ok = false;
	json_object *body = json_object_new_object();

	if (conn != NULL) {
		r = PQexecParams(conn, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
		ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
		if (!ok)
			db_check(ctx->db);
	}
	json_object_object_add(body, "status", json_object_new_string(ok ? "ok" : "unavailable"));
	http_respond(ctx->res, ok ? 200 : 503, body);
}

/* GET /api/v1/openapi.json: 200 with the OpenAPI 3.1 document. */
void
openapi_get(struct request_ctx *ctx)
{
	size_t len;
	const char *doc = openapi_document(&len);

	http_respond(ctx->res, 200, NULL);
	ctx->res->raw_body = doc;
	ctx->res->raw_len = len;
	ctx->res->content_type = "application/json";
}
