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
 *
 * With --anchors FILE it also checks every org of an anchor file written by
 * finicomctl audit-anchor (anchor.c): the chain must still extend each of
 * the org's anchors, and an anchored org must still have events or a chain
 * head.  An anchor mismatch, a missing org or a malformed line of the file
 * exits 1 too.  Everything is read in one snapshot.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ctl/anchor.h"
#include "ctl/ctl.h"
#include "validate.h"

#define VERIFY_USAGE                                                                               \
	"usage: finicomctl verify-audit [--org ID] [--anchors FILE] [--database CONNINFO]\n"

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

/* Run sql on conn; false after a message when it fails. */
static bool
command_ok(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "finicomctl: could not verify: %s", PQerrorMessage(conn));
	PQclear(r);
	return ok;
}

/* The row of org in r (rows in org order), or -1. */
static int
row_of(const PGresult *r, const char *org)
{
	int lo = 0, hi = PQntuples(r) - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(PQgetvalue(r, mid, 0), org);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Does the database have an event or a chain head of the org in row i? */
static bool
present(const PGresult *r, int i)
{
	return !strcmp(field(r, i, "has_events"), "t") || field(r, i, "head_seq") != NULL;
}

/*
 * The anchor check of every org of set (verify-audit --anchors); r holds
 * the rows of the chains checked.  Returns 1 when any anchor failed, -1 when
 * a query failed, else 0.
 */
static int
check_anchors(PGconn *conn, const struct anchor_set *set, const PGresult *r)
{
	long long counts[4] = {0};
	int unanchored = 0;

	for (size_t k = 0; k < set->norgs; k++) {
		const struct anchored_org *o = set->orgs[k];
		int i = row_of(r, o->org);
		const char *head = i < 0 ? NULL : field(r, i, "head_seq");
		enum anchor_verdict v;

		v = anchor_check_org(conn, set, o, i >= 0 && present(r, i), head ? atoll(head) : -1);
		counts[v]++;
		if (v == ANCHOR_ERROR)
			return -1;
	}
	for (int i = 0; i < PQntuples(r); i++)
		if (present(r, i) && anchor_set_find(set, PQgetvalue(r, i, 0)) == NULL)
			unanchored++;
	anchor_set_print_bad(set);
	printf("anchors: %zu org(s) in %s, %lld extend their anchors, %lld mismatch, %lld missing, "
	       "%lld malformed line(s); %d chain(s) not anchored yet\n",
	    set->norgs, set->path, counts[ANCHOR_EXTENDS], counts[ANCHOR_MISMATCH],
	    counts[ANCHOR_MISSING], set->bad, unanchored);
	return counts[ANCHOR_MISMATCH] || counts[ANCHOR_MISSING] || set->bad ? 1 : 0;
}

int
ctl_verify_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"org", required_argument, NULL, 'o'},
		{"anchors", required_argument, NULL, 'a'},
		{"database", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *conninfo = "", *anchors = NULL;
	const char *params[2];
	char *anchored = NULL;
	struct anchor_set set = {0};
	PGconn *conn = NULL;
	PGresult *r = NULL;
	int opt, rc = 1, broken = 0, checked = 0;
	long long pending = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:a:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': org = optarg; break;
		case 'a': anchors = optarg; break;
		case 'd': conninfo = optarg; break;
		default:
			fprintf(stderr, VERIFY_USAGE);
			return 2;
		}
	}
	if (optind != argc || (org != NULL && !uuid_ok(org)) ||
	    (anchors != NULL && *anchors == '\0')) {
		fprintf(stderr, VERIFY_USAGE);
		return 2;
	}
	if (anchors != NULL) {
		char lower[ANCHOR_ORG_CHARS + 1] = "";
		if (org != NULL) { /* anchor lines spell org ids in lowercase */
			for (size_t i = 0; i < ANCHOR_ORG_CHARS; i++)
				lower[i] = (char)(org[i] >= 'A' && org[i] <= 'F' ? org[i] + ('a' - 'A')
				                                                 : org[i]);
		}
		if (anchor_set_read(anchors, org ? lower : NULL, &set) < 0)
			goto out;
		if ((anchored = anchor_set_org_array(&set)) == NULL) {
			fprintf(stderr, "finicomctl: out of memory\n");
			goto out;
		}
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		goto out;
	}
	/* One snapshot; with anchors, the text that anchor.c hashes in UTF-8 as the database does. */
	if (!command_ok(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") ||
	    (anchors != NULL &&
	        !command_ok(conn, "SET LOCAL client_encoding = 'UTF8'; SET LOCAL search_path = ''")))
		goto out;
	params[0] = org;
	params[1] = anchored;
	/*
	 * Orgs with a chain head, orgs with sealed events (even when their head
	 * is gone: found one probe of events_org_seq_key per org), orgs whose
	 * events are all still pending, and the anchored orgs; head_seq and
	 * has_events say whether the database still has anything of them.
	 * Rows in uuid order, which is the order of their text (row_of).
	 */
	r = PQexecParams(conn,
	    "SELECT o.org_id, v.*, h.seq AS head_seq,"
	    "       EXISTS (SELECT FROM audit.events x WHERE x.org_id = o.org_id) AS has_events"
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
	    "       UNION SELECT $1::uuid WHERE $1::uuid IS NOT NULL"
	    "       UNION SELECT unnest(coalesce($2::uuid[], '{}'))) o"
	    " CROSS JOIN LATERAL audit.verify_chain(o.org_id) v"
	    " LEFT JOIN audit.chain_heads h ON h.org_id = o.org_id"
	    " ORDER BY o.org_id",
	    2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: could not verify: %s", PQerrorMessage(conn));
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		/* An anchored org with nothing left is reported MISSING below, not "ok, 0 events". */
		if (anchors != NULL && !present(r, i) &&
		    anchor_set_find(&set, PQgetvalue(r, i, 0)) != NULL)
			continue;
		broken += report_org(r, i, &pending);
		checked++;
	}
	printf("%d chain(s) checked, %d broken, %lld event(s) pending\n", checked, broken, pending);
	rc = broken ? 1 : 0;
	if (anchors != NULL) {
		int a = check_anchors(conn, &set, r);
		if (a != 0)
			rc = 1;
	}
out:
	PQclear(r);
	PQfinish(conn);
	free(anchored);
	anchor_set_free(&set);
	return rc;
}
