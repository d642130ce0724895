/*
 * routes: the route table.  One line per endpoint: method, pattern,
 * handler, the permission it needs, flags (ROUTE_ONE_TRIP: a read whose
 * handler uses no actor before its first statement; see src/tx.c).  Order
 * matters only between patterns that could both match; literal routes come
 * first.
 */
#include "handlers/handlers.h"
#include "router.h"

const struct route router_routes[] = {
	{HTTP_GET, "/healthz", health_get, PERM_PUBLIC, ROUTE_NO_DB | ROUTE_QUIET_OK},
	{HTTP_GET, "/api/v1/openapi.json", openapi_get, PERM_PUBLIC, ROUTE_NO_DB},
	{HTTP_POST, "/api/v1/auth/signup", auth_signup, PERM_PUBLIC, ROUTE_BODY | ROUTE_NO_API_KEY},
	{HTTP_POST, "/api/v1/auth/login", auth_login, PERM_PUBLIC, ROUTE_BODY | ROUTE_NO_API_KEY},
	{HTTP_POST, "/api/v1/auth/logout", auth_logout, PERM_USER, 0},
	{HTTP_GET, "/api/v1/me", auth_me, PERM_AUTHENTICATED, 0},
	{HTTP_POST, "/api/v1/auth/verify", auth_verify_resend, PERM_USER, ROUTE_NO_API_KEY},
	{HTTP_POST, "/api/v1/auth/verify/{token}", auth_verify, PERM_PUBLIC,
	    ROUTE_SECRET_PATH | ROUTE_NO_API_KEY},

	{HTTP_POST, "/api/v1/orgs", org_create, PERM_USER, ROUTE_BODY},
	{HTTP_GET, "/api/v1/orgs/{org}", org_get, PERM_ORG_VIEW, 0},
	{HTTP_PATCH, "/api/v1/orgs/{org}", org_patch, PERM_SETTINGS_MANAGE, ROUTE_BODY},
	{HTTP_DELETE, "/api/v1/orgs/{org}", org_delete, PERM_SETTINGS_MANAGE, 0},
	{HTTP_GET, "/api/v1/orgs/{org}/billing", billing_get, PERM_BILLING_MANAGE, ROUTE_ONE_TRIP},
	{HTTP_PATCH, "/api/v1/orgs/{org}/billing", billing_patch, PERM_BILLING_MANAGE, ROUTE_BODY},

	{HTTP_GET, "/api/v1/orgs/{org}/members", members_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_GET, "/api/v1/orgs/{org}/members/{user_id}", member_get, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_PATCH, "/api/v1/orgs/{org}/members/{user_id}", member_patch, PERM_MEMBERS_MANAGE, ROUTE_BODY},
	/* Admins remove anyone; every member may remove themselves (checked in the handler). */
	{HTTP_DELETE, "/api/v1/orgs/{org}/members/{user_id}", member_delete, PERM_ORG_LEAVE, 0},

	{HTTP_POST, "/api/v1/orgs/{org}/invitations", invitation_create, PERM_INVITATIONS_MANAGE, ROUTE_BODY},
	{HTTP_GET, "/api/v1/orgs/{org}/invitations", invitations_list, PERM_INVITATIONS_MANAGE, ROUTE_ONE_TRIP},
	{HTTP_DELETE, "/api/v1/orgs/{org}/invitations/{id}", invitation_cancel, PERM_INVITATIONS_MANAGE, 0},
	{HTTP_POST, "/api/v1/orgs/{org}/invitations/{id}/resend", invitation_resend, PERM_INVITATIONS_MANAGE, 0},
	{HTTP_GET, "/api/v1/invitations/{token}", invitation_preview, PERM_PUBLIC, ROUTE_SECRET_PATH},
	{HTTP_POST, "/api/v1/invitations/{token}/accept", invitation_accept, PERM_PUBLIC,
	    ROUTE_SECRET_PATH | ROUTE_OPTIONAL_AUTH | ROUTE_NO_API_KEY},

	{HTTP_POST, "/api/v1/orgs/{org}/api-keys", api_key_create, PERM_API_KEYS_MANAGE, ROUTE_BODY | ROUTE_NO_API_KEY},
	{HTTP_GET, "/api/v1/orgs/{org}/api-keys", api_keys_list, PERM_API_KEYS_MANAGE,
	    ROUTE_ONE_TRIP | ROUTE_NO_API_KEY},
	{HTTP_DELETE, "/api/v1/orgs/{org}/api-keys/{id}", api_key_revoke, PERM_API_KEYS_MANAGE, ROUTE_NO_API_KEY},

	{HTTP_GET, "/api/v1/orgs/{org}/audit-events", audit_events_list, PERM_AUDIT_VIEW, ROUTE_ONE_TRIP},
	{HTTP_POST, "/api/v1/orgs/{org}/connections/{id}/sync", connection_sync, PERM_OBJECTS_WRITE, 0},
	{HTTP_GET, "/api/v1/orgs/{org}/connections/{id}/runs", connection_runs_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	/* sources: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org}/sources", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_POST, "/api/v1/orgs/{org}/sources", object_create, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_GET, "/api/v1/orgs/{org}/sources/{id}", object_get, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_PATCH, "/api/v1/orgs/{org}/sources/{id}", object_patch, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_DELETE, "/api/v1/orgs/{org}/sources/{id}", object_delete, PERM_OBJECTS_WRITE, 0},
	/* integrations: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org}/integrations", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_POST, "/api/v1/orgs/{org}/integrations", object_create, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_GET, "/api/v1/orgs/{org}/integrations/{id}", object_get, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_PATCH, "/api/v1/orgs/{org}/integrations/{id}", object_patch, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_DELETE, "/api/v1/orgs/{org}/integrations/{id}", object_delete, PERM_OBJECTS_WRITE, 0},
	/* destinations: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org}/destinations", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_POST, "/api/v1/orgs/{org}/destinations", object_create, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_GET, "/api/v1/orgs/{org}/destinations/{id}", object_get, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_PATCH, "/api/v1/orgs/{org}/destinations/{id}", object_patch, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_DELETE, "/api/v1/orgs/{org}/destinations/{id}", object_delete, PERM_OBJECTS_WRITE, 0},
	/* connections: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org}/connections", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_POST, "/api/v1/orgs/{org}/connections", object_create, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_GET, "/api/v1/orgs/{org}/connections/{id}", object_get, PERM_ORG_VIEW, ROUTE_ONE_TRIP},
	{HTTP_PATCH, "/api/v1/orgs/{org}/connections/{id}", object_patch, PERM_OBJECTS_WRITE, ROUTE_BODY},
	{HTTP_DELETE, "/api/v1/orgs/{org}/connections/{id}", object_delete, PERM_OBJECTS_WRITE, 0},
};

const size_t router_nroutes = sizeof(router_routes) / sizeof(router_routes[0]);
