/*
 * routes: the route table.  One line per endpoint: method, pattern,
 * handler, the permission it needs, flags (ROUTE_ONE_TRIP: a read whose
 * handler uses no actor before its first statement; see src/tx.c), and the
 * body's fields (NULL: none, or the handler checks them itself: signup,
 * whose 403 on an invite-only server comes before any 400, and accepting an
 * invitation, which takes a body only without a session).  A
 * "{name:uuid}" parameter is a UUID or the request is 404, checked before
 * the handler runs, like the fields (src/router.h).  Order matters only
 * between patterns that could both match; literal routes come first.
 */
#include "handlers/handlers.h"
#include "router.h"

const struct route router_routes[] = {
	{HTTP_GET, "/healthz", health_get, PERM_PUBLIC, ROUTE_NO_DB | ROUTE_QUIET_OK, NULL},
	/* The operator's (src/handlers/observe.c); nginx lets only loopback reach /metrics. */
	{HTTP_GET, "/metrics", metrics_get, PERM_PUBLIC, ROUTE_NO_DB | ROUTE_QUIET_OK, NULL},
	{HTTP_GET, "/livez", livez_get, PERM_PUBLIC, ROUTE_NO_DB | ROUTE_QUIET_OK, NULL},
	{HTTP_GET, "/readyz", readyz_get, PERM_PUBLIC, ROUTE_NO_DB | ROUTE_QUIET_OK, NULL},
	{HTTP_GET, "/api/v1/openapi.json", openapi_get, PERM_PUBLIC, ROUTE_NO_DB, NULL},
	{HTTP_POST, "/api/v1/auth/signup", auth_signup, PERM_PUBLIC, ROUTE_BODY | ROUTE_NO_API_KEY, NULL},
	{HTTP_POST, "/api/v1/auth/login", auth_login, PERM_PUBLIC, ROUTE_BODY | ROUTE_NO_API_KEY,
	    &login_body},
	{HTTP_POST, "/api/v1/auth/login/totp", auth_login_totp, PERM_PUBLIC, ROUTE_BODY | ROUTE_NO_API_KEY,
	    &login_totp_body},
	{HTTP_POST, "/api/v1/auth/logout", auth_logout, PERM_USER, 0, NULL},
	{HTTP_GET, "/api/v1/me", auth_me, PERM_AUTHENTICATED, 0, NULL},
	/* two-factor (handlers/totp.c) */
	{HTTP_POST, "/api/v1/me/totp", totp_enrol, PERM_USER, ROUTE_NO_API_KEY, NULL},
	{HTTP_DELETE, "/api/v1/me/totp", totp_disable, PERM_USER, ROUTE_BODY | ROUTE_NO_API_KEY, &totp_code_body},
	{HTTP_POST, "/api/v1/me/totp/confirm", totp_confirm, PERM_USER, ROUTE_BODY | ROUTE_NO_API_KEY,
	    &totp_code_body},
	{HTTP_POST, "/api/v1/auth/verify", auth_verify_resend, PERM_USER, ROUTE_NO_API_KEY, NULL},
	{HTTP_POST, "/api/v1/auth/verify/{token}", auth_verify, PERM_PUBLIC,
	    ROUTE_SECRET_PATH | ROUTE_NO_API_KEY, NULL},
	/* Password reset, password change, profile, sessions: handlers/account.c. */
	{HTTP_POST, "/api/v1/auth/password-reset", password_reset_request, PERM_PUBLIC,
	    ROUTE_BODY | ROUTE_NO_API_KEY, &password_reset_request_body},
	{HTTP_GET, "/api/v1/auth/password-reset/{token}", password_reset_preview, PERM_PUBLIC,
	    ROUTE_SECRET_PATH | ROUTE_NO_API_KEY, NULL},
	{HTTP_POST, "/api/v1/auth/password-reset/{token}", password_reset_complete, PERM_PUBLIC,
	    ROUTE_BODY | ROUTE_SECRET_PATH | ROUTE_NO_API_KEY, &password_reset_body},
	{HTTP_PATCH, "/api/v1/me", me_patch, PERM_USER, ROUTE_BODY | ROUTE_NO_API_KEY, &me_patch_body},
	{HTTP_POST, "/api/v1/me/password", me_password, PERM_USER, ROUTE_BODY | ROUTE_NO_API_KEY, &me_password_body},
	{HTTP_GET, "/api/v1/me/sessions", my_sessions_list, PERM_USER, ROUTE_NO_API_KEY, NULL},
	{HTTP_DELETE, "/api/v1/me/sessions", my_sessions_delete_others, PERM_USER, ROUTE_NO_API_KEY, NULL},
	{HTTP_DELETE, "/api/v1/me/sessions/{id:uuid}", my_session_delete, PERM_USER, ROUTE_NO_API_KEY, NULL},

	{HTTP_POST, "/api/v1/orgs", org_create, PERM_USER, ROUTE_BODY, &org_create_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}", org_get, PERM_ORG_VIEW, 0, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}", org_patch, PERM_SETTINGS_MANAGE, ROUTE_BODY, &org_patch_body},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}", org_delete, PERM_SETTINGS_MANAGE, 0, NULL},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/billing", billing_get, PERM_BILLING_MANAGE, ROUTE_ONE_TRIP, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/billing", billing_patch, PERM_BILLING_MANAGE,
	    ROUTE_BODY, &billing_body},

	{HTTP_GET, "/api/v1/orgs/{org:uuid}/members", members_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/members/{user_id:uuid}", member_get, PERM_ORG_VIEW,
	    ROUTE_ONE_TRIP, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/members/{user_id:uuid}", member_patch, PERM_MEMBERS_MANAGE,
	    ROUTE_BODY, &member_patch_body},
	/* Admins remove anyone; every member may remove themselves (checked in the handler). */
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/members/{user_id:uuid}", member_delete, PERM_ORG_LEAVE, 0, NULL},

	{HTTP_POST, "/api/v1/orgs/{org:uuid}/invitations", invitation_create, PERM_INVITATIONS_MANAGE,
	    ROUTE_BODY, &invite_body},
	/* Before .../invitations/{id:uuid}, which would answer "batch" as no such invitation. */
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/invitations/batch", invitation_batch, PERM_INVITATIONS_MANAGE,
	    ROUTE_BODY, &invite_batch_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/invitations", invitations_list, PERM_INVITATIONS_MANAGE,
	    ROUTE_ONE_TRIP, NULL},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/invitations/{id:uuid}", invitation_cancel, PERM_INVITATIONS_MANAGE,
	    0, NULL},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/invitations/{id:uuid}/resend", invitation_resend, PERM_INVITATIONS_MANAGE,
	    0, NULL},
	{HTTP_GET, "/api/v1/invitations/{token}", invitation_preview, PERM_PUBLIC, ROUTE_SECRET_PATH, NULL},
	{HTTP_POST, "/api/v1/invitations/{token}/accept", invitation_accept, PERM_PUBLIC,
	    ROUTE_SECRET_PATH | ROUTE_OPTIONAL_AUTH | ROUTE_NO_API_KEY, NULL},

	{HTTP_POST, "/api/v1/orgs/{org:uuid}/api-keys", api_key_create, PERM_API_KEYS_MANAGE,
	    ROUTE_BODY | ROUTE_NO_API_KEY, &api_key_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/api-keys", api_keys_list, PERM_API_KEYS_MANAGE,
	    ROUTE_ONE_TRIP | ROUTE_NO_API_KEY, NULL},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/api-keys/{id:uuid}", api_key_revoke, PERM_API_KEYS_MANAGE,
	    ROUTE_NO_API_KEY, NULL},

	{HTTP_GET, "/api/v1/orgs/{org:uuid}/audit-events", audit_events_list, PERM_AUDIT_VIEW, ROUTE_ONE_TRIP, NULL},
	/* Activity alerts (alerts.c): admins only, like the audit events they come from. */
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/alerts", alerts_list, PERM_AUDIT_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/alerts/{id:uuid}/acknowledge", alert_acknowledge, PERM_AUDIT_VIEW,
	    0, NULL},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/alert-rules", alert_rules_get, PERM_AUDIT_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/alert-rules", alert_rules_patch, PERM_SETTINGS_MANAGE,
	    ROUTE_BODY, &alert_rules_body},

	/* Streamed from a cursor in the request's transaction (src/handlers/export.c). */
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/audit-events/export", audit_events_export, PERM_AUDIT_VIEW, 0, NULL},

	/* Access reviews (src/handlers/reviews.c): admins only; decided by people (no API keys). */
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/access-reviews", access_review_create, PERM_MEMBERS_MANAGE,
	    ROUTE_NO_API_KEY, &review_start_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/access-reviews", access_reviews_list, PERM_MEMBERS_MANAGE,
	    ROUTE_ONE_TRIP, NULL},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/access-reviews/{id:uuid}", access_review_get, PERM_MEMBERS_MANAGE,
	    ROUTE_ONE_TRIP, NULL},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/access-reviews/{id:uuid}", access_review_cancel,
	    PERM_MEMBERS_MANAGE, ROUTE_NO_API_KEY, NULL},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/access-reviews/{id:uuid}/items", access_review_items_list,
	    PERM_MEMBERS_MANAGE, 0, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/access-reviews/{id:uuid}/items/{user_id:uuid}",
	    access_review_item_patch, PERM_MEMBERS_MANAGE, ROUTE_BODY | ROUTE_NO_API_KEY, &review_decide_body},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/access-reviews/{id:uuid}/complete", access_review_complete,
	    PERM_MEMBERS_MANAGE, ROUTE_NO_API_KEY, NULL},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/connections/{id:uuid}/sync", connection_sync, PERM_OBJECTS_WRITE,
	    0, NULL},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/connections/{id:uuid}/runs", connection_runs_list, PERM_ORG_VIEW,
	    ROUTE_ONE_TRIP, NULL},
	/* sources: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/sources", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/sources", object_create, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &resource_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/sources/{id:uuid}", object_get, PERM_ORG_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/sources/{id:uuid}", object_patch, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &resource_patch_body},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/sources/{id:uuid}", object_delete, PERM_OBJECTS_WRITE, 0, NULL},
	/* integrations: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/integrations", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/integrations", object_create, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &resource_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/integrations/{id:uuid}", object_get, PERM_ORG_VIEW,
	    ROUTE_ONE_TRIP, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/integrations/{id:uuid}", object_patch, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &resource_patch_body},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/integrations/{id:uuid}", object_delete, PERM_OBJECTS_WRITE, 0, NULL},
	/* destinations: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/destinations", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/destinations", object_create, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &resource_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/destinations/{id:uuid}", object_get, PERM_ORG_VIEW,
	    ROUTE_ONE_TRIP, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/destinations/{id:uuid}", object_patch, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &resource_patch_body},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/destinations/{id:uuid}", object_delete, PERM_OBJECTS_WRITE, 0, NULL},
	/* connections: the generic object handlers (objects.c) read the kind from the path. */
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/connections", objects_list, PERM_ORG_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_POST, "/api/v1/orgs/{org:uuid}/connections", object_create, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &connection_body},
	{HTTP_GET, "/api/v1/orgs/{org:uuid}/connections/{id:uuid}", object_get, PERM_ORG_VIEW, ROUTE_ONE_TRIP, NULL},
	{HTTP_PATCH, "/api/v1/orgs/{org:uuid}/connections/{id:uuid}", object_patch, PERM_OBJECTS_WRITE,
	    ROUTE_BODY, &connection_patch_body},
	{HTTP_DELETE, "/api/v1/orgs/{org:uuid}/connections/{id:uuid}", object_delete, PERM_OBJECTS_WRITE, 0, NULL},
};

const size_t router_nroutes = sizeof(router_routes) / sizeof(router_routes[0]);
