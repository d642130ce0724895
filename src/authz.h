/*
 * authz: the permission table, the one place in C that says which role may
 * do what.  Routes name a permission (routes.c); this file maps permissions
 * to roles.  The same rules live in the database as row-level security
 * policies (sql/), the second lock.
 *
 * Permissions up to PERM_AUTHENTICATED are not about an org: they say who
 * may call at all.  The others are checked against the caller's role in the
 * org named by the path.
 */
#ifndef FINICOM_AUTHZ_H
#define FINICOM_AUTHZ_H

#include <stdbool.h>

enum role { ROLE_NONE = 0, ROLE_READ = 1, ROLE_WRITE = 2, ROLE_ADMIN = 3 };

enum permission {
	PERM_PUBLIC,             /* anyone, no credentials */
	PERM_USER,               /* a signed-in user (not an API key) */
	PERM_AUTHENTICATED,      /* a user or an API key */
	PERM_ORG_VIEW,           /* members.view, objects.view: see the org and its data */
	PERM_ORG_LEAVE,          /* remove yourself */
	PERM_OBJECTS_WRITE,      /* sources, integrations, destinations, connections; sync */
	PERM_MEMBERS_MANAGE,     /* change roles, remove members */
	PERM_INVITATIONS_MANAGE, /* invite, list, resend, cancel */
	PERM_SETTINGS_MANAGE,    /* org settings, delete the org */
	PERM_BILLING_MANAGE,
	PERM_API_KEYS_MANAGE,
	PERM_AUDIT_VIEW,
	PERM_COUNT
};

/* True when a member with role may use perm; org-free permissions are always true. */
bool authz_allows(enum role role, enum permission perm);

/* True when perm is checked against a role in an org. */
bool authz_is_org_permission(enum permission perm);

/* The permission's dotted name ("members.manage"), for logs and docs. */
const char *authz_permission_name(enum permission perm);

/* "admin", "write", "read"; role_from_name returns ROLE_NONE for anything else. */
const char *role_name(enum role role);
enum role role_from_name(const char *name);

#endif
