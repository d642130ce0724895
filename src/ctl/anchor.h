/*
 * anchor: the audit chains anchored outside the database
 * (docs/audit-anchors.md).  finicomctl audit-anchor appends every org's
 * chain head to an anchor file; verify-audit --anchors reads the file back
 * into an anchor set and checks each anchored org against the database.
 *
 * Words: an "anchor" is one line of the file (anchor_line.h); an org's
 * anchors are its distinct (seq, hash) pairs; a chain "extends" an anchor
 * when its events 1..seq, hashed afresh here from their columns, give the
 * anchored hash.
 */
#ifndef FINICOM_ANCHOR_H
#define FINICOM_ANCHOR_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "ctl/anchor_line.h"

/* At most this many distinct anchors are held (about 80 bytes each). */
#define ANCHOR_SET_MAX (4L * 1024 * 1024)
/* Malformed lines named one by one; beyond, only counted. */
#define ANCHOR_BAD_SHOWN 20

struct anchor_entry {
	long long seq;
	unsigned char hash[ANCHOR_HASH_BYTES];
	char at[ANCHOR_TIME_CHARS + 1];
	long long lineno;
};

struct anchored_org {
	char org[ANCHOR_ORG_CHARS + 1];
	struct anchor_entry
	    *entries; /* sorted by seq, distinct (seq, hash) after anchor_set_read */
	size_t n, cap;
	struct anchor_entry latest; /* the org's last line in the file */
};

struct anchor_bad {
	long long lineno;
	const char *why; /* static */
};

struct anchor_set {
	const char *path;
	struct anchored_org **orgs; /* sorted by org id after anchor_set_read */
	size_t norgs;
	long long lines, bad;
	struct anchor_bad shown[ANCHOR_BAD_SHOWN];
	/* internal: the hash table while reading */
	struct anchored_org **slots;
	size_t nslots, entries;
};

/*
 * Read the anchor file at path into *set, keeping only the lines of org
 * when org is not NULL (malformed lines are counted whatever their org).
 * Returns 0, or -1 after a message on stderr when the file cannot be read
 * or holds more than ANCHOR_SET_MAX distinct anchors.  Free with
 * anchor_set_free() either way.
 */
int anchor_set_read(const char *path, const char *org, struct anchor_set *set);
void anchor_set_free(struct anchor_set *set);

/* The anchored org with this id, or NULL. */
const struct anchored_org *anchor_set_find(const struct anchor_set *set, const char *org);

/* The org ids of the set as a PostgreSQL array literal (malloc'd; NULL when out of memory). */
char *anchor_set_org_array(const struct anchor_set *set);

enum anchor_verdict {
	ANCHOR_EXTENDS,  /* the chain extends every anchor of the org */
	ANCHOR_MISMATCH, /* it does not extend one of them */
	ANCHOR_MISSING,  /* the database has no event and no chain head of the org */
	ANCHOR_ERROR,    /* a query failed (message on stderr) */
};

/*
 * Check org o against the database on conn (inside the caller's snapshot)
 * and print its line on stdout.  present: the database has an event or a
 * chain head of the org; head_seq: its chain head's seq, or -1 without one.
 */
enum anchor_verdict anchor_check_org(PGconn *conn, const struct anchor_set *set,
                                     const struct anchored_org *o, bool present,
                                     long long head_seq);

/* Print the malformed lines of set (at most ANCHOR_BAD_SHOWN, then a count). */
void anchor_set_print_bad(const struct anchor_set *set);

#endif
