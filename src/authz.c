/*
 * authz: permission → lowest role that has it.  See authz.h.
 *
 * Roles are ordered (read < write < admin) and every permission is held by a
 * role and all roles above it, so the table needs one column.
 */
#include "authz.h"

#include <string.h>

static const struct {
	const char *name;
	enum role min_role; /* ROLE_NONE: not an org permission */
} permissions[PERM_COUNT] = {
	[PERM_PUBLIC] = {"public", ROLE_NONE},
	[PERM_USER] = {"user", ROLE_NONE},
	[PERM_AUTHENTICATED] = {"authenticated", ROLE_NONE},
	[PERM_ORG_VIEW] = {"org.view", ROLE_READ},
	[PERM_ORG_LEAVE] = {"org.leave", ROLE_READ},
	[PERM_OBJECTS_WRITE] = {"objects.write", ROLE_WRITE},
	[PERM_MEMBERS_MANAGE] = {"members.manage", ROLE_ADMIN},
	[PERM_INVITATIONS_MANAGE] = {"invitations.manage", ROLE_ADMIN},
	[PERM_SETTINGS_MANAGE] = {"settings.manage", ROLE_ADMIN},
	[PERM_BILLING_MANAGE] = {"billing.manage", ROLE_ADMIN},
	[PERM_API_KEYS_MANAGE] = {"api_keys.manage", ROLE_ADMIN},
	[PERM_AUDIT_VIEW] = {"audit.view", ROLE_ADMIN},
};

bool
authz_is_org_permission(enum permission perm)
{
	return perm < PERM_COUNT && permissions[perm].min_role != ROLE_NONE;
}

bool
authz_allows(enum role role, enum permission perm)
{
	if (perm >= PERM_COUNT)
		return false;
	if (permissions[perm].min_role == ROLE_NONE)
		return true;
	return role >= permissions[perm].min_role;
}

const char *
authz_permission_name(enum permission perm)
{
	return perm < PERM_COUNT ? permissions[perm].name : "unknown";
}

const char *
role_name(enum role role)
{
	switch (role) {
	case ROLE_ADMIN: return "admin";
	case ROLE_WRITE: return "write";
	case ROLE_READ: return "read";
	default: return "none";
	}
}

enum role
role_from_name(const char *name)
{
	if (name == NULL)
		return ROLE_NONE;
	if (!strcmp(name, "admin"))
		return ROLE_ADMIN;
	if (!strcmp(name, "write"))
		return ROLE_WRITE;
	if (!strcmp(name, "read"))
		return ROLE_READ;
	return ROLE_NONE;
}
