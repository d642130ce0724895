/*
 * anchor: finicomctl audit-anchor, and the anchor check of verify-audit
 * --anchors (docs/audit-anchors.md; the words are in anchor.h).
 *
 * A superuser can do anything inside the database: disable the append-only
 * trigger, edit an event, hash every later event again and move the chain
 * head, and audit.verify_chain then finds nothing wrong; or delete an org's
 * events and head together, and the org is no longer there to be checked.
 * An anchor file kept where that superuser cannot write remembers each
 * org's head as it was: a rewritten chain no longer gives the anchored
 * hash at the anchored seq, and a deleted org is still in the file.
 *
 * The check does not trust the database's functions either (a superuser
 * may replace audit.verify_chain or audit.canonical as easily as edit a
 * row): it reads the events' columns and hashes the chain here, from the
 * zero hash, the way audit.canonical() and audit.seal_pending() do
 * (sql/0010_audit_seal.sql): hash = sha256(prev_hash || canonical event),
 * canonical event = concat_ws(0x1f, org_id, seq, at as
 * YYYY-MM-DDTHH:MI:SS.USZ in UTC, action, actor_type, actor_id or '',
 * actor_label or '', target_type or '', target_id or '', details as jsonb
 * text, ip or '', request_id or '') in UTF-8.  A migration that changes the
 * canonical form must change canonical_update() below with it
 * (tests/e2e/test_audit_anchor.py fails otherwise).  What it still trusts:
 * that the server answers a SELECT with the rows it holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ctl/anchor.h"
#include "ctl/ctl.h"

#define ANCHOR_USAGE "usage: finicomctl audit-anchor --file PATH [--database CONNINFO]\n"

/* ------------------------------------------------------------------ */
/* The anchor set: a hash table of orgs while reading, then a sorted array. */

static uint64_t
org_hash(const char *org)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *org; org++)
		h = (h ^ (unsigned char)*org) * 1099511628211ULL;
	return h;
}

static struct anchored_org **
slot_of(struct anchor_set *set, const char *org)
{
	size_t i = (size_t)org_hash(org) & (set->nslots - 1);

	while (set->slots[i] != NULL && strcmp(set->slots[i]->org, org) != 0)
		i = (i + 1) & (set->nslots - 1);
	return &set->slots[i];
}

/* Double the table (or make its first one); -1 when out of memory. */
static int
grow_slots(struct anchor_set *set)
{
	struct anchored_org **old = set->slots;
	size_t n = set->nslots;

	set->nslots = n ? 2 * n : 1024;
	set->slots = calloc(set->nslots, sizeof(*set->slots));
	if (set->slots == NULL) {
		set->slots = old;
		set->nslots = n;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (old[i] != NULL)
			*slot_of(set, old[i]->org) = old[i];
	free(old);
	return 0;
}

/* Add one line's anchor; -1 when out of memory or past ANCHOR_SET_MAX (message printed). */
static int
set_add(struct anchor_set *set, const struct anchor *a, long long lineno)
{
	struct anchored_org **slot, *o;
	struct anchor_entry e;

	if ((set->norgs + 1) * 2 > set->nslots && grow_slots(set) < 0)
		goto nomem;
	slot = slot_of(set, a->org);
	if (*slot == NULL) {
		if ((*slot = calloc(1, sizeof(**slot))) == NULL)
			goto nomem;
		memcpy((*slot)->org, a->org, sizeof(a->org));
		set->norgs++;
	}
	o = *slot;
	e.seq = a->seq;
	memcpy(e.hash, a->hash, sizeof(e.hash));
	memcpy(e.at, a->at, sizeof(e.at));
	e.lineno = lineno;
	o->latest = e;
	/* A run without new events repeats the line before: keep one. */
	if (o->n > 0 && o->entries[o->n - 1].seq == e.seq &&
	    !memcmp(o->entries[o->n - 1].hash, e.hash, sizeof(e.hash)))
		return 0;
	if ((long)set->entries >= ANCHOR_SET_MAX) {
		fprintf(stderr,
		        "finicomctl: \"%s\" holds more than %ld distinct anchors; start a new "
		        "anchor file\n",
		        set->path, ANCHOR_SET_MAX);
		return -1;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 4;
		struct anchor_entry *p = realloc(o->entries, cap * sizeof(*p));
		if (p == NULL)
			goto nomem;
		o->entries = p;
		o->cap = cap;
	}
	o->entries[o->n++] = e;
	set->entries++;
	return 0;
nomem:
	fprintf(stderr, "finicomctl: out of memory reading \"%s\"\n", set->path);
	return -1;
}

static int
entry_order(const void *a, const void *b)
{
	const struct anchor_entry *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

static int
org_order(const void *a, const void *b)
{
	return strcmp((*(struct anchored_org *const *)a)->org,
	              (*(struct anchored_org *const *)b)->org);
}

/* Sort each org's anchors by seq and keep the first of each (seq, hash). */
static void
org_dedupe(struct anchored_org *o)
{
	size_t k = 0;

	qsort(o->entries, o->n, sizeof(*o->entries), entry_order);
	for (size_t i = 0; i < o->n; i++) {
		bool seen = false;
		for (size_t j = k; j-- > 0 && o->entries[j].seq == o->entries[i].seq;)
			if (!memcmp(o->entries[j].hash, o->entries[i].hash, ANCHOR_HASH_BYTES))
				seen = true;
		if (!seen)
			o->entries[k++] = o->entries[i];
	}
	o->n = k;
}

int
anchor_set_read(const char *path, const char *org, struct anchor_set *set)
{
	struct anchor_reader reader = {0};
	struct anchor a;
	const char *why;
	enum anchor_read got;
	size_t k = 0;

	memset(set, 0, sizeof(*set));
	set->path = path;
	if ((reader.fp = fopen(path, "re")) == NULL) {
		fprintf(stderr, "finicomctl: could not open \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	while ((got = anchor_read(&reader, &a, &why)) != ANCHOR_READ_EOF) {
		if (got == ANCHOR_READ_ERROR) {
			fprintf(stderr, "finicomctl: could not read \"%s\": %s\n", path,
			        strerror(errno));
			fclose(reader.fp);
			return -1;
		}
		set->lines++;
		if (got == ANCHOR_READ_BAD) {
			if (set->bad < ANCHOR_BAD_SHOWN)
				set->shown[set->bad] = (struct anchor_bad){reader.lineno, why};
			set->bad++;
			continue;
		}
		if (org != NULL && strcmp(a.org, org) != 0)
			continue;
		if (set_add(set, &a, reader.lineno) < 0) {
			fclose(reader.fp);
			return -1;
		}
	}
	fclose(reader.fp);
	if (set->norgs > 0 && (set->orgs = malloc(set->norgs * sizeof(*set->orgs))) == NULL) {
		fprintf(stderr, "finicomctl: out of memory reading \"%s\"\n", path);
		return -1;
	}
	for (size_t i = 0; i < set->nslots; i++)
		if (set->slots[i] != NULL) {
			org_dedupe(set->slots[i]);
			set->orgs[k++] = set->slots[i];
		}
	if (set->norgs > 0)
		qsort(set->orgs, set->norgs, sizeof(*set->orgs), org_order);
	return 0;
}

void
anchor_set_free(struct anchor_set *set)
{
	for (size_t i = 0; i < set->nslots; i++)
		if (set->slots[i] != NULL) {
			free(set->slots[i]->entries);
			free(set->slots[i]);
		}
	free(set->slots);
	free(set->orgs);
	memset(set, 0, sizeof(*set));
}

const struct anchored_org *
anchor_set_find(const struct anchor_set *set, const char *org)
{
	struct anchored_org key, *k = &key, **found;

	if (set->norgs == 0 || strlen(org) != ANCHOR_ORG_CHARS)
		return NULL;
	memcpy(key.org, org, sizeof(key.org));
	found = bsearch(&k, set->orgs, set->norgs, sizeof(*set->orgs), org_order);
	return found ? *found : NULL;
}

char *
anchor_set_org_array(const struct anchor_set *set)
{
	char *s = malloc(set->norgs * (ANCHOR_ORG_CHARS + 1) + 3), *p = s;

	if (s == NULL)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < set->norgs; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, set->orgs[i]->org, ANCHOR_ORG_CHARS);
		p += ANCHOR_ORG_CHARS;
	}
	*p++ = '}';
	*p = '\0';
	return s;
}

void
anchor_set_print_bad(const struct anchor_set *set)
{
	for (long long i = 0; i < set->bad && i < ANCHOR_BAD_SHOWN; i++)
		printf("anchors %s line %lld: malformed: %s\n", set->path, set->shown[i].lineno,
		       set->shown[i].why);
	if (set->bad > ANCHOR_BAD_SHOWN)
		printf("anchors %s: %lld more malformed line(s)\n", set->path,
		       set->bad - ANCHOR_BAD_SHOWN);
}

/* ------------------------------------------------------------------ */
/* The check of one org. */

/* The columns of audit.canonical(), in its order, from column 2 on. */
static const char EVENTS_SQL[] =
    "SELECT e.seq, e.org_id::text, e.seq::text,"
    " pg_catalog.to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " e.action, e.actor_type, e.actor_id::text, e.actor_label, e.target_type, e.target_id::text,"
    " e.details::text, e.ip, e.request_id"
    " FROM audit.events e WHERE e.org_id = $1 AND e.seq IS NOT NULL AND e.seq <= $2 ORDER BY e.seq";
#define CANONICAL_FIRST 1
#define CANONICAL_FIELDS 12
/* Fields audit.canonical() passes through coalesce(x, ''); concat_ws skips the others when NULL. */
static const bool canonical_coalesced[CANONICAL_FIELDS] = {
    false, false, false, false, false, /* org_id, seq, at, action, actor_type */
    true,  true,  true,  true,         /* actor_id, actor_label, target_type, target_id */
    false,                             /* details */
    true,  true,                       /* ip, request_id */
};

/* hash = sha256(hash || canonical form of row i of r); -1 if the digest fails. */
static int
canonical_update(const PGresult *r, int i, unsigned char hash[ANCHOR_HASH_BYTES])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	bool first = true;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, hash, ANCHOR_HASH_BYTES);
	for (int f = 0; ok && f < CANONICAL_FIELDS; f++) {
		int col = CANONICAL_FIRST + f;
		bool null = PQgetisnull(r, i, col);
		if (null && !canonical_coalesced[f])
			continue;
		if (!first)
			ok = EVP_DigestUpdate(ctx, "\x1f", 1);
		if (ok && !null)
			ok = EVP_DigestUpdate(ctx, PQgetvalue(r, i, col),
			                      (size_t)PQgetlength(r, i, col));
		first = false;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, hash, &len) && len == ANCHOR_HASH_BYTES;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Where the walk along an org's chain stopped believing its anchors. */
struct walk {
	long long expect;                      /* the next seq the chain must have */
	unsigned char hash[ANCHOR_HASH_BYTES]; /* the hash through seq expect - 1 */
	size_t next;                           /* the first anchor not yet reached */
	const struct anchor_entry *held;       /* the last anchor the chain extends */
	const struct anchor_entry *bad;        /* the anchor it does not extend */
	long long missing;                     /* a seq absent from the chain, or 0 */
	long long doubled;                     /* a seq twice in the chain, or 0 */
	bool digest_failed;
};

/* Take one event (row i of r) into the walk; false once the walk has failed. */
static bool
walk_event(struct walk *w, const struct anchored_org *o, const PGresult *r, int i)
{
	long long seq = atoll(PQgetvalue(r, i, 0));

	if (seq != w->expect) {
		if (seq < w->expect)
			w->doubled = seq;
		else
			w->missing = w->expect;
		w->bad = &o->entries[w->next];
		return false;
	}
	if (canonical_update(r, i, w->hash) < 0) {
		w->digest_failed = true;
		return false;
	}
	w->expect++;
	for (; w->next < o->n && o->entries[w->next].seq == seq; w->next++) {
		if (memcmp(o->entries[w->next].hash, w->hash, ANCHOR_HASH_BYTES) != 0) {
			w->bad = &o->entries[w->next];
			return false;
		}
		w->held = &o->entries[w->next];
	}
	return w->next < o->n;
}

/* Walk o's chain from its first event to its last anchored one; -1 if the query fails. */
static int
walk_chain(PGconn *conn, const struct anchored_org *o, struct walk *w)
{
	char last[24];
	const char *params[2] = {o->org, last};
	PGresult *r;
	bool going = true;
	int rc = 0;

	memset(w, 0, sizeof(*w));
	w->expect = 1;
	while (w->next < o->n && o->entries[w->next].seq == 0)
		w->next++; /* seq 0: the zero hash, which the parser checked */
	if (w->next == o->n)
		return 0;
	snprintf(last, sizeof(last), "%lld", o->entries[o->n - 1].seq);
	if (!PQsendQueryParams(conn, EVENTS_SQL, 2, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn)) {
		fprintf(stderr, "finicomctl: could not read the events of org %s: %s", o->org,
		        PQerrorMessage(conn));
		while ((r = PQgetResult(conn)) != NULL)
			PQclear(r);
		return -1;
	}
	/* Rows arrive one at a time; after a failure the rest are read and dropped. */
	while ((r = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && going)
			going = walk_event(w, o, r, 0);
		else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
			fprintf(stderr, "finicomctl: could not read the events of org %s: %s",
			        o->org, PQresultErrorMessage(r));
			rc = -1;
		}
		PQclear(r);
	}
	if (rc == 0 && w->digest_failed) {
		fprintf(stderr, "finicomctl: could not hash the events of org %s\n", o->org);
		rc = -1;
	}
	if (rc == 0 && w->bad == NULL && w->next < o->n)
		w->bad = &o->entries[w->next]; /* the chain ends before it */
	return rc;
}

enum anchor_verdict
anchor_check_org(PGconn *conn, const struct anchor_set *set, const struct anchored_org *o,
                 bool present, long long head_seq)
{
	const struct anchor_entry *last = &o->entries[o->n - 1], *latest = &o->latest;
	struct walk w;
	char held[160] = "";

	if (!present) {
		printf("org %s: MISSING: anchored at event %lld on %s (%s line %lld), but the "
		       "database has no "
		       "event and no chain head of it\n",
		       o->org, latest->seq, latest->at, set->path, latest->lineno);
		return ANCHOR_MISSING;
	}
	if (walk_chain(conn, o, &w) < 0)
		return ANCHOR_ERROR;
	if (w.held != NULL)
		snprintf(held, sizeof(held), "; events 1 to %lld still give the anchor of %s",
		         w.held->seq, w.held->at);
	if (w.bad != NULL) {
		printf("org %s: ANCHOR MISMATCH: ", o->org);
		if (w.missing > 0)
			printf("event %lld is missing, and event %lld was anchored", w.missing,
			       w.bad->seq);
		else if (w.doubled > 0)
			printf("event %lld is there twice, and event %lld was anchored", w.doubled,
			       w.bad->seq);
		else if (w.expect <= w.bad->seq)
			printf("the chain ends at event %lld, but event %lld was anchored",
			       w.expect - 1, w.bad->seq);
		else
			printf("events 1 to %lld no longer give the hash anchored", w.bad->seq);
		printf(" on %s (%s line %lld)%s\n", w.bad->at, set->path, w.bad->lineno, held);
		return ANCHOR_MISMATCH;
	}
	if (last->seq > 0 && head_seq < last->seq) {
		char head[48] = "there is no chain head";
		if (head_seq >= 0)
			snprintf(head, sizeof(head), "the chain head is at event %lld", head_seq);
		printf("org %s: ANCHOR MISMATCH: %s, behind event %lld anchored on %s (%s line "
		       "%lld)\n",
		       o->org, head, last->seq, last->at, set->path, last->lineno);
		return ANCHOR_MISMATCH;
	}
	printf("org %s: extends its anchors (%zu checked, up to event %lld; the latest, of %s, at "
	       "event %lld)\n",
	       o->org, o->n, last->seq, latest->at, latest->seq);
	return ANCHOR_EXTENDS;
}

/* ------------------------------------------------------------------ */
/* finicomctl audit-anchor. */

/*
 * Open path for appending: created with mode 0600 when it does not exist,
 * never through a symbolic link, and only when it is a regular file that
 * no one but its owner may write.  Returns the descriptor (*created says
 * whether it was made now), or -1 after a message.
 */
static int
anchor_file_open(const char *path, bool *created, off_t *size)
{
	const int flags = O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int fd;

	*created = false;
	fd = open(path, flags);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
		if (fd >= 0)
			*created = true;
		else if (errno == EEXIST)
			fd = open(path, flags);
	}
	if (fd < 0) {
		if (errno == ELOOP)
			fprintf(stderr,
			        "finicomctl: cannot append to \"%s\": it is a symbolic link\n",
			        path);
		else
			fprintf(stderr, "finicomctl: could not open \"%s\": %s\n", path,
			        strerror(errno));
		return -1;
	}
	if (*created && fchmod(fd, 0600) < 0) {
		fprintf(stderr, "finicomctl: could not set the mode of \"%s\": %s\n", path,
		        strerror(errno));
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "finicomctl: could not lock \"%s\": %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "finicomctl: cannot append to \"%s\": it is not a regular file\n",
		        path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		fprintf(stderr,
		        "finicomctl: cannot append to \"%s\": others than its owner may write it "
		        "(mode %04o)\n",
		        path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	*size = st.st_size;
	return fd;
}

/* Write all of buf to fd; -1 with errno on failure. */
static int
write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync the directory of path, so that a file just created stays; -1 with errno. */
static int
sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

/*
 * The lines of this run, one per org: every chain head, and seq 0 for each
 * org whose events are all pending.  Returns the lines (malloc'd) with
 * their count in *orgs, or NULL after a message.  A head that is not a seq
 * and a 32-byte hash cannot be written: it is named on stderr and counted
 * in *skipped, and the other orgs are anchored all the same (one damaged
 * head must not stop the anchoring of every org).
 */
static char *
anchor_lines(PGconn *conn, const char *at, const char *lead, size_t *len, int *orgs, int *skipped)
{
	PGresult *r;
	char *buf = NULL;
	size_t n;

	r = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "finicomctl: could not read the chain heads: %s",
		        PQerrorMessage(conn));
		PQclear(r);
		return NULL;
	}
	PQclear(r);
	r = PQexecParams(
	    conn,
	    "SELECT h.org_id::text, h.seq, pg_catalog.encode(h.hash, 'hex') FROM audit.chain_heads "
	    "h"
	    " UNION ALL"
	    " SELECT p.org_id::text, 0, pg_catalog.repeat('0', 64)"
	    " FROM (SELECT DISTINCT x.org_id FROM audit.events x WHERE x.seq IS NULL) p"
	    " WHERE NOT EXISTS (SELECT FROM audit.chain_heads h WHERE h.org_id = p.org_id)"
	    " ORDER BY 1",
	    0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: could not read the chain heads: %s",
		        PQerrorMessage(conn));
		goto out;
	}
	*orgs = PQntuples(r);
	if ((buf = malloc((size_t)*orgs * (ANCHOR_LINE_MAX + 1) + 2)) == NULL) {
		fprintf(stderr, "finicomctl: out of memory\n");
		goto out;
	}
	n = strlen(lead);
	memcpy(buf, lead, n);
	for (int i = 0; i < *orgs; i++) {
		struct anchor a;
		const char *org = PQgetvalue(r, i, 0), *hex = PQgetvalue(r, i, 2);
		int w = -1;
		memset(&a, 0, sizeof(a));
		memcpy(a.at, at, sizeof(a.at));
		a.seq = atoll(PQgetvalue(r, i, 1));
		if (strlen(org) == ANCHOR_ORG_CHARS &&
		    anchor_hash_parse(hex, strlen(hex), a.hash) == 0) {
			memcpy(a.org, org, sizeof(a.org));
			w = anchor_format(&a, buf + n, ANCHOR_LINE_MAX + 2);
		}
		if (w < 0) {
			fprintf(stderr,
			        "finicomctl: cannot anchor org %s: its chain head (seq %s) is not "
			        "a seq and a "
			        "32-byte hash\n",
			        org, PQgetvalue(r, i, 1));
			(*skipped)++;
			continue;
		}
		n += (size_t)w;
	}
	*orgs -= *skipped;
	*len = n;
out:
	PQclear(r);
	return buf;
}

int
ctl_audit_anchor(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"database", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *conninfo = "";
	char at[ANCHOR_TIME_CHARS + 1], last = '\n', *lines = NULL;
	bool created;
	off_t size;
	size_t len = 0;
	int opt, fd, orgs = 0, skipped = 0, rc = 1;
	PGconn *conn = NULL;
	struct tm tm;
	time_t now;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': path = optarg; break;
		case 'd': conninfo = optarg; break;
		default: fprintf(stderr, ANCHOR_USAGE); return 2;
		}
	}
	if (optind != argc || path == NULL || *path == '\0') {
		fprintf(stderr, ANCHOR_USAGE);
		return 2;
	}
	if ((fd = anchor_file_open(path, &created, &size)) < 0)
		return 1;
	/* A line cut short by a crash stays malformed; this run's lines start on a line of their
	 * own. */
	if (size > 0 && pread(fd, &last, 1, size - 1) != 1) {
		fprintf(stderr, "finicomctl: could not read \"%s\": %s\n", path, strerror(errno));
		goto out;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s",
		        PQerrorMessage(conn));
		goto out;
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm) != ANCHOR_TIME_CHARS) {
		fprintf(stderr, "finicomctl: could not read the clock\n");
		goto out;
	}
	if ((lines = anchor_lines(conn, at, last == '\n' ? "" : "\n", &len, &orgs, &skipped)) ==
	    NULL)
		goto out;
	if (write_all(fd, lines, len) < 0 || fsync(fd) < 0 || (created && sync_dir_of(path) < 0)) {
		fprintf(stderr, "finicomctl: could not write \"%s\": %s\n", path, strerror(errno));
		goto out;
	}
	printf("anchored %d org(s) in %s at %s\n", orgs, path, at);
	rc = skipped ? 1 : 0;
out:
	free(lines);
	PQfinish(conn);
	if (close(fd) < 0 && rc == 0) {
		fprintf(stderr, "finicomctl: could not write \"%s\": %s\n", path, strerror(errno));
		rc = 1;
	}
	return rc;
}
