/*
 * orgs: finicomctl create-org.
 *
 * Creates an org with an existing user as its admin, and optionally adds
 * other existing users with a role, in one transaction.  Like migrate it
 * needs an owner or superuser connection: it works outside any request
 * context, as an operator would in psql.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "authz.h"
#include "ctl/ctl.h"
#include "validate.h"

#define MAX_MEMBERS 64

static bool
exec_ok(PGconn *conn, PGresult *r)
{
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "finicomctl: %s", PQerrorMessage(conn));
	return ok;
}

/* Add the user with email to org as role; false (after a message) if no such user. */
static bool
add_member(PGconn *conn, const char *org, const char *email, const char *role)
{
	const char *params[3] = {org, email, role};
	PGresult *r = PQexecParams(conn,
	    "INSERT INTO finicom.memberships (org_id, user_id, role)"
	    " SELECT $1, u.id, $3::finicom.role FROM finicom.users u WHERE lower(u.email) = lower($2)",
	    3, NULL, params, NULL, NULL, 0);
	bool ok = exec_ok(conn, r);

	if (ok && strcmp(PQcmdTuples(r), "1") != 0) {
		fprintf(stderr, "finicomctl: no user with email \"%s\" (create it first)\n", email);
		ok = false;
	}
	PQclear(r);
	return ok;
}

int
ctl_create_org(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"name", required_argument, NULL, 'n'},
		{"admin", required_argument, NULL, 'a'},
		{"member", required_argument, NULL, 'm'},
		{"database", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *name = NULL, *admin = NULL, *conninfo = "", *why = NULL;
	char *members[MAX_MEMBERS];
	int nmembers = 0, opt, rc = 1;
	char org[64];
	const char *params[1];
	PGconn *conn;
	PGresult *r;
	bool ok;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:a:m:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'a': admin = optarg; break;
		case 'm':
			if (nmembers < MAX_MEMBERS)
				members[nmembers++] = optarg;
			break;
		case 'd': conninfo = optarg; break;
		default: name = NULL; break;
		}
	}
	if (name == NULL || admin == NULL || optind != argc) {
		fprintf(stderr, "usage: finicomctl create-org --name NAME --admin EMAIL "
		    "[--member EMAIL=ROLE]... [--database CONNINFO]\n");
		return 2;
	}
	if (!name_ok(name, strlen(name), &why)) {
		fprintf(stderr, "finicomctl: name %s\n", why);
		return 2;
	}
	for (int i = 0; i < nmembers; i++) {
		char *eq = strchr(members[i], '=');
		if (eq == NULL || role_from_name(eq + 1) == ROLE_NONE) {
			fprintf(stderr, "finicomctl: --member wants EMAIL=admin|write|read, not \"%s\"\n",
			    members[i]);
			return 2;
		}
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	PQclear(PQexec(conn, "BEGIN"));
	params[0] = name;
	r = PQexecParams(conn, "INSERT INTO finicom.orgs (name) VALUES ($1) RETURNING id", 1, NULL, params,
	    NULL, NULL, 0);
	ok = exec_ok(conn, r);
	if (ok)
		snprintf(org, sizeof(org), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	ok = ok && add_member(conn, org, admin, role_name(ROLE_ADMIN));
	for (int i = 0; ok && i < nmembers; i++) {
		char *eq = strchr(members[i], '=');
		*eq = '\0';
		ok = add_member(conn, org, members[i], eq + 1);
		*eq = '=';
	}
	r = PQexec(conn, ok ? "COMMIT" : "ROLLBACK");
	if (ok && exec_ok(conn, r)) {
		printf("created org %s id %s\n", name, org);
		rc = 0;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}
