/*
 * orgs: finicomctl create-org and set-plan.
 *
 * create-org creates an org with an existing user as its admin, and
 * optionally adds other existing users with a role, in one transaction.
 * set-plan moves an org to free, trial or pro: the operator's way to set
 * plans (admins may only move to free through the API unless the server
 * has plan_changes = admin).  Like migrate they need an owner or superuser
 * connection: they work outside any request context, as an operator would
 * in psql (the audit trail records the change as billing.updated).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "authz.h"
#include "ctl/ctl.h"
#include "util/email.h"
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

/*
 * Add the user with email (canonical, util/email.h; compared with ASCII
 * letters lowercased, as the API compares) to org as role; false (after a
 * message) if no such user.
 */
static bool
add_member(PGconn *conn, const char *org, const char *email, const char *role)
{
	const char *params[3] = {org, email, role};
	PGresult *r = PQexecParams(conn,
	    "INSERT INTO finicom.memberships (org_id, user_id, role)"
	    " SELECT $1, u.id, $3::finicom.role FROM finicom.users u"
	    " WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower($2)",
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
	char admin_email[EMAIL_MAX + 1], member_emails[MAX_MEMBERS][EMAIL_MAX + 1];
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
	if (email_normalize(admin, strlen(admin), admin_email, &why) < 0) {
		fprintf(stderr, "finicomctl: --admin email %s\n", why);
		return 2;
	}
	for (int i = 0; i < nmembers; i++) {
		char *eq = strrchr(members[i], '=');
		if (eq == NULL || role_from_name(eq + 1) == ROLE_NONE) {
			fprintf(stderr, "finicomctl: --member wants EMAIL=admin|write|read, not \"%s\"\n",
			    members[i]);
			return 2;
		}
		if (email_normalize(members[i], (size_t)(eq - members[i]), member_emails[i], &why) < 0) {
			fprintf(stderr, "finicomctl: --member email %s\n", why);
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
	ok = ok && add_member(conn, org, admin_email, role_name(ROLE_ADMIN));
	for (int i = 0; ok && i < nmembers; i++)
		ok = add_member(conn, org, member_emails[i], strrchr(members[i], '=') + 1);
	r = PQexec(conn, ok ? "COMMIT" : "ROLLBACK");
	if (ok && exec_ok(conn, r)) {
		printf("created org %s id %s\n", name, org);
		rc = 0;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}

int
ctl_set_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"org", required_argument, NULL, 'o'},
		{"plan", required_argument, NULL, 'p'},
		{"database", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *plan = NULL, *conninfo = "", *params[2];
	int opt, rc = 1;
	bool bad = false;
	PGconn *conn;
	PGresult *r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:p:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': org = optarg; break;
		case 'p': plan = optarg; break;
		case 'd': conninfo = optarg; break;
		default: bad = true; break;
		}
	}
	if (bad || org == NULL || plan == NULL || optind != argc) {
		fprintf(stderr, "usage: finicomctl set-plan --org ID --plan free|trial|pro "
		    "[--database CONNINFO]\n");
		return 2;
	}
	if (!uuid_ok(org)) {
		fprintf(stderr, "finicomctl: --org wants an org id (a UUID), not \"%s\"\n", org);
		return 2;
	}
	if (strcmp(plan, "free") && strcmp(plan, "trial") && strcmp(plan, "pro")) {
		fprintf(stderr, "finicomctl: --plan wants free, trial or pro, not \"%s\"\n", plan);
		return 2;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	params[0] = org;
	params[1] = plan;
	r = PQexecParams(conn,
	    "WITH old AS (SELECT id, plan FROM finicom.orgs WHERE id = $1 FOR UPDATE)"
	    " UPDATE finicom.orgs o SET plan = $2::finicom.plan FROM old WHERE o.id = old.id"
	    " RETURNING o.name, old.plan, finicom.effective_plan(o)",
	    2, NULL, params, NULL, NULL, 0);
	if (exec_ok(conn, r)) {
		if (PQntuples(r) != 1) {
			fprintf(stderr, "finicomctl: no org with id %s\n", org);
		} else {
			printf("org %s id %s: plan %s (was %s)", PQgetvalue(r, 0, 0), org, plan,
			    PQgetvalue(r, 0, 1));
			if (strcmp(PQgetvalue(r, 0, 2), plan) != 0)
				printf("; it counts as %s: its trial has ended", PQgetvalue(r, 0, 2));
			printf("\n");
			rc = 0;
		}
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}
