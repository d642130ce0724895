/*
 * finicom_guard: a PostgreSQL 15 module that makes the request context
 * settings something finicom_app cannot write.
 *
 * The context of a request is six settings (finicom.actor_type, actor_id,
 * org_id, org_role, request_id, client_ip), read by the row-level security
 * policies through inlinable SQL helpers (docs/security-layer.md).  Without
 * this module they would be placeholder settings that any role may SET.
 * Here they are defined as PGC_SUSET: only a superuser, or a role granted
 * SET on the parameter (GRANT SET ON PARAMETER, PostgreSQL 15), may change
 * them.  The migration grants that to finicom_owner alone, so only the
 * SECURITY DEFINER functions it owns (finicom.begin_request and the few
 * system paths) can produce a context; a SET, set_config() or RESET by
 * finicom_app fails with 42501 and changes nothing.  The settings are set
 * with is_local = true, so they end with the transaction and cannot be
 * carried into the next one.
 *
 * finicom.context_guard() is the helpers' proof that the module is loaded
 * in this backend: calling it loads the library if shared_preload_libraries
 * did not, and loading it turns any placeholder of the same name into the
 * protected setting, re-applying values set earlier only with the rights
 * of the role that set them (PostgreSQL's define_custom_variable), so a
 * value finicom_app set before the load is dropped.  Without the library
 * the function cannot be called at all, and every policy fails closed.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
PGDLLEXPORT Datum finicom_context_guard(PG_FUNCTION_ARGS);

static char *actor_type;
static char *actor_id;
static char *org_id;
static char *org_role;
static char *request_id;
static char *client_ip;

static void
define(const char *name, const char *what, char **var)
{
	DefineCustomStringVariable(name, what,
	    "Set by finicom.begin_request for one transaction; only finicom_owner may set it.",
	    var, "", PGC_SUSET, GUC_NOT_IN_SAMPLE | GUC_NO_RESET_ALL, NULL, NULL, NULL);
}

void
_PG_init(void)
{
	define("finicom.actor_type", "The verified caller's kind: user, api_key, system.", &actor_type);
	define("finicom.actor_id", "The verified caller's id (user or API key).", &actor_id);
	define("finicom.org_id", "The org the caller is verified to belong to in this request.", &org_id);
	define("finicom.org_role", "The caller's verified role in finicom.org_id.", &org_role);
	define("finicom.request_id", "The request id, for the audit trail.", &request_id);
	define("finicom.client_ip", "The client address, for the audit trail.", &client_ip);
}

PG_FUNCTION_INFO_V1(finicom_context_guard);

Datum
finicom_context_guard(PG_FUNCTION_ARGS)
{
	(void)fcinfo;
	PG_RETURN_BOOL(true);
}
