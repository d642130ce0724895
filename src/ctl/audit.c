/*
 * audit: finicomctl verify-audit.  Recomputes the hash chain of one org
 * (--org) or of every org that has events, with audit.verify_chain(), and
 * exits 1 when any chain is broken, naming the first bad event.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "ctl/ctl.h"
#include "validate.h"

int
ctl_verify_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"org", required_argument, NULL, 'o'},
		{"database", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *conninfo = "";
	const char *params[1];
	PGconn *conn;
	PGresult *r;
	int opt, rc = 0, broken = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': org = optarg; break;
		case 'd': conninfo = optarg; break;
		default:
			fprintf(stderr, "usage: finicomctl verify-audit [--org ID] [--database CONNINFO]\n");
			return 2;
		}
	}
	if (optind != argc || (org != NULL && !uuid_ok(org))) {
		fprintf(stderr, "usage: finicomctl verify-audit [--org ID] [--database CONNINFO]\n");
		return 2;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	params[0] = org;
	r = PQexecParams(conn,
	    "SELECT o.org_id, v.ok, v.events, v.first_bad_seq, v.first_bad_id, v.reason"
	    " FROM (SELECT DISTINCT org_id FROM audit.chain_heads WHERE $1::uuid IS NULL OR org_id = $1"
	    "       UNION SELECT $1::uuid WHERE $1::uuid IS NOT NULL) o"
	    " CROSS JOIN LATERAL audit.verify_chain(o.org_id) v ORDER BY o.org_id",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: could not verify: %s", PQerrorMessage(conn));
		rc = 1;
	} else {
		for (int i = 0; i < PQntuples(r); i++) {
			if (!strcmp(PQgetvalue(r, i, 1), "t")) {
				printf("org %s: ok, %s events\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 2));
			} else {
				broken++;
				printf("org %s: BROKEN at event %s (id %s): %s\n", PQgetvalue(r, i, 0),
				    PQgetvalue(r, i, 3), PQgetisnull(r, i, 4) ? "-" : PQgetvalue(r, i, 4),
				    PQgetvalue(r, i, 5));
			}
		}
		printf("%d chain(s) checked, %d broken\n", PQntuples(r), broken);
		rc = broken ? 1 : 0;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}
