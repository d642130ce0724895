/*
 * emails: finicomctl normalize-emails, the upgrade step of
 * sql/0017_email_rule.sql for rows written before the email rule.
 *
 * Every stored email (users.email, invitations.email, orgs.billing_email)
 * is put through the rule of util/email.h in one transaction:
 *   - a row whose value is not canonical gets the canonical form (an old
 *     Unicode domain its A-labels, a domain in capitals lowercased);
 *   - a row the rule refuses (a non-ASCII local part, an address literal,
 *     ...) is listed and left as it is: only its owner or the operator can
 *     choose another address;
 *   - a canonical form that another account already has (ASCII case
 *     aside) is listed as a conflict and left as it is.
 * Then each of the constraints users_email_check, invitations_email_check
 * and orgs_billing_email_check that 0017 left NOT VALID is validated when
 * no row breaks it any more.  --dry-run reports and rolls back.  The
 * connection must own the tables (a superuser, or finicom_owner's member),
 * as for migrate; the changes are audited as the database role's (actor
 * type db).  Exit status 0 when nothing was left, 1 otherwise.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "ctl/ctl.h"
#include "util/email.h"

/* One email column and how to name and change its rows. */
struct email_column {
	const char *table, *column, *constraint;
	const char *select; /* key, value: every row with a value */
	const char *update; /* $1 key, $2 new value */
};

static const struct email_column columns[] = {
    {"finicom.users", "email", "users_email_check",
	"SELECT id::text, email FROM finicom.users ORDER BY created_at, id",
	"UPDATE finicom.users SET email = $2 WHERE id = $1::uuid"},
    {"finicom.invitations", "email", "invitations_email_check",
	"SELECT org_id || '/' || id, email FROM finicom.invitations ORDER BY created_at, id",
	"UPDATE finicom.invitations SET email = $2"
	" WHERE org_id = split_part($1, '/', 1)::uuid AND id = split_part($1, '/', 2)::uuid"},
    {"finicom.orgs", "billing_email", "orgs_billing_email_check",
	"SELECT id::text, billing_email FROM finicom.orgs WHERE billing_email IS NOT NULL ORDER BY created_at, id",
	"UPDATE finicom.orgs SET billing_email = $2 WHERE id = $1::uuid"},
};

/*
 * Normalize every row of one column; *left counts the rows left as they
 * are (refused or in conflict).  Returns -1 on a database error.
 */
static int
normalize_column(PGconn *conn, const struct email_column *c, int *left)
{
	PGresult *rows = PQexec(conn, c->select);
	int changed = 0, refused = 0, conflicts = 0;

	if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: %s", PQerrorMessage(conn));
		PQclear(rows);
		return -1;
	}
	for (int i = 0; i < PQntuples(rows); i++) {
		const char *key = PQgetvalue(rows, i, 0), *value = PQgetvalue(rows, i, 1), *why;
		const char *params[2];
		char canonical[EMAIL_MAX + 1];
		PGresult *r;

		if (email_normalize(value, strlen(value), canonical, &why) < 0) {
			printf("%s %s: \"%s\" is left: it %s\n", c->table, key, value, why);
			refused++;
			continue;
		}
		if (!strcmp(canonical, value))
			continue;
		params[0] = key;
		params[1] = canonical;
		if (!ctl_command_ok(conn, "SAVEPOINT normalize_email"))
			goto fail;
		r = PQexecParams(conn, c->update, 2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			printf("%s %s: \"%s\" becomes \"%s\"\n", c->table, key, value, canonical);
			changed++;
		} else {
			const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			if (state == NULL || strcmp(state, "23505") != 0) {
				fprintf(stderr, "finicomctl: %s %s: %s", c->table, key, PQerrorMessage(conn));
				PQclear(r);
				goto fail;
			}
			printf("%s %s: \"%s\" is left: \"%s\" is taken by another row\n", c->table, key,
			    value, canonical);
			conflicts++;
			if (!ctl_command_ok(conn, "ROLLBACK TO SAVEPOINT normalize_email")) {
				PQclear(r);
				goto fail;
			}
		}
		PQclear(r);
		if (!ctl_command_ok(conn, "RELEASE SAVEPOINT normalize_email"))
			goto fail;
	}
	PQclear(rows);
	printf("%s.%s: %d changed, %d refused by the rule, %d in conflict\n", c->table, c->column,
	    changed, refused, conflicts);
	*left += refused + conflicts;
	return 0;
fail:
	PQclear(rows);
	return -1;
}

/* Validate c's constraint when it is NOT VALID and no row breaks it. */
static int
validate_constraint(PGconn *conn, const struct email_column *c)
{
	const char *params[1] = {c->constraint};
	char sql[200];
	PGresult *r = PQexecParams(conn,
	    "SELECT NOT convalidated FROM pg_catalog.pg_constraint"
	    " WHERE conname = $1 AND connamespace = 'finicom'::regnamespace",
	    1, NULL, params, NULL, NULL, 0);
	bool pending;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: %s", PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	pending = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	if (!pending)
		return 0;
	/* Names from the table above, never from input. */
	snprintf(sql, sizeof(sql), "ALTER TABLE %s VALIDATE CONSTRAINT %s", c->table, c->constraint);
	if (!ctl_command_ok(conn, "SAVEPOINT validate_email"))
		return -1;
	r = PQexec(conn, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		printf("%s: %s validated\n", c->table, c->constraint);
		PQclear(r);
		return ctl_command_ok(conn, "RELEASE SAVEPOINT validate_email") ? 0 : -1;
	}
	printf("%s: %s stays NOT VALID: %s", c->table, c->constraint, PQerrorMessage(conn));
	PQclear(r);
	return ctl_command_ok(conn, "ROLLBACK TO SAVEPOINT validate_email") ? 1 : -1;
}

int
ctl_normalize_emails(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"database", required_argument, NULL, 'd'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	const char *conninfo = "";
	bool dry_run = false, ok = true;
	int opt, left = 0;
	PGconn *conn;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:n", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': conninfo = optarg; break;
		case 'n': dry_run = true; break;
		default:
			fprintf(stderr, "usage: finicomctl normalize-emails [--dry-run] [--database CONNINFO]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: finicomctl normalize-emails [--dry-run] [--database CONNINFO]\n");
		return 2;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	ok = ctl_command_ok(conn, "BEGIN");
	for (size_t i = 0; ok && i < sizeof(columns) / sizeof(columns[0]); i++) {
		int column_left = 0;
		ok = normalize_column(conn, &columns[i], &column_left) == 0;
		/* With rows left the constraint cannot be validated yet (it tells). */
		ok = ok && validate_constraint(conn, &columns[i]) >= 0;
		left += column_left;
	}
	if (ok && dry_run) {
		ok = ctl_command_ok(conn, "ROLLBACK");
		printf("dry run: nothing was changed\n");
	} else if (ok) {
		ok = ctl_command_ok(conn, "COMMIT");
	}
	PQfinish(conn);
	if (!ok)
		return 1;
	if (left > 0)
		printf("%d rows left: change those addresses (UPDATE as the operator), then run this "
		    "again\n", left);
	return left > 0 ? 1 : 0;
}
