/*
 * audit: finicomctl verify-audit.  Recomputes the hash chain of one org
 * (--org) or of every org that has events, with audit.verify_chain(), and
 * exits 1 when any chain is broken, naming the first bad event.  "Every org
 * that has events" includes an org whose chain head was deleted behind the
 * triggers' back: verify_chain names its chain broken.
 *
 * Since sql/0010_audit_seal.sql an event is written pending and sealed into
 * its org's chain shortly after (audit.seal_pending(), run by finicom-mailer
 * and pg_cron).  verify_chain checks the sealed events and counts the
 * pending ones; pending events are reported, with the time of the oldest,
 * but do not make a chain broken.  Against a database from before 0010
 * (verify_chain without a "pending" column) nothing is pending.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ctl/ctl.h"
#include "validate.h"

#define VERIFY_USAGE "usage: finicomctl verify-audit [--org ID] [--database CONNINFO]\n"

/* The value of column name in row i, or NULL when it is NULL or absent. */
static const char *
field(const PGresult *r, int i, const char *name)
{
	int col = PQfnumber(r, name);

	return col < 0 || PQgetisnull(r, i, col) ? NULL : PQgetvalue(r, i, col);
}

/* Print one org's line; returns 1 when its chain is broken, else 0. */
static int
report_org(const PGresult *r, int i, long long *pending_total)
{
	const char *org = field(r, i, "org_id");
	const char *pending = field(r, i, "pending");
	const char *oldest = field(r, i, "oldest_pending_at");
	const char *id = field(r, i, "first_bad_id");
	const char *reason = field(r, i, "reason");
	char pend[160] = "";

	if (pending != NULL && strcmp(pending, "0") != 0) {
		snprintf(pend, sizeof(pend), ", %s pending (since %s)", pending, oldest ? oldest : "-");
		*pending_total += atoll(pending);
	}
	if (!strcmp(field(r, i, "ok"), "t")) {
		printf("org %s: ok, %s events sealed%s\n", org, field(r, i, "events"), pend);
		return 0;
	}
	printf("org %s: BROKEN at event %s (id %s): %s; %s events before it verify%s\n", org,
	    field(r, i, "first_bad_seq"), id ? id : "-", reason ? reason : "-", field(r, i, "events"), pend);
	return 1;
}

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
	long long pending = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': org = optarg; break;
		case 'd': conninfo = optarg; break;
		default:
			fprintf(stderr, VERIFY_USAGE);
			return 2;
		}
	}
	if (optind != argc || (org != NULL && !uuid_ok(org))) {
		fprintf(stderr, VERIFY_USAGE);
		return 2;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	params[0] = org;
	/*
	 * Orgs with a chain head, orgs with sealed events (even when their head
	 * is gone: found one probe of events_org_seq_key per org), and orgs
	 * whose events are all still pending.
	 */
	r = PQexecParams(conn,
	    "SELECT o.org_id, v.*"
	    " FROM (SELECT org_id FROM audit.chain_heads WHERE $1::uuid IS NULL OR org_id = $1"
	    "       UNION (WITH RECURSIVE s (org_id) AS ("
	    "                SELECT (SELECT x.org_id FROM audit.events x WHERE x.seq IS NOT NULL AND $1::uuid IS NULL"
	    "                        ORDER BY x.org_id LIMIT 1)"
	    "                UNION ALL"
	    "                SELECT (SELECT x.org_id FROM audit.events x WHERE x.seq IS NOT NULL AND x.org_id > s.org_id"
	    "                        ORDER BY x.org_id LIMIT 1)"
	    "                FROM s WHERE s.org_id IS NOT NULL)"
	    "              SELECT org_id FROM s WHERE org_id IS NOT NULL)"
	    "       UNION SELECT DISTINCT org_id FROM audit.events WHERE seq IS NULL AND ($1::uuid IS NULL OR org_id = $1)"
	    "       UNION SELECT $1::uuid WHERE $1::uuid IS NOT NULL) o"
	    " CROSS JOIN LATERAL audit.verify_chain(o.org_id) v ORDER BY o.org_id",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: could not verify: %s", PQerrorMessage(conn));
		rc = 1;
	} else {
		for (int i = 0; i < PQntuples(r); i++)
			broken += report_org(r, i, &pending);
		printf("%d chain(s) checked, %d broken, %lld event(s) pending\n", PQntuples(r), broken, pending);
		rc = broken ? 1 : 0;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}
