/*
 * migrate: apply sql/NNNN_name.sql files in order, each once, each in its
 * own transaction, recording them in finicom.schema_migrations.
 *
 * The connection must be a superuser's: the first migration creates the
 * roles and schemas.  Every later file runs under SET LOCAL ROLE
 * finicom_owner, so whatever it creates is owned by finicom_owner, unless
 * its first line is "-- migrate: superuser" (extensions, pg_cron jobs).
 * A session-wide advisory lock keeps two concurrent runs from interleaving.
 * The SHA-256 of each file is stored; a file edited after it was applied is
 * reported, since migrations are never edited once they land.
 *
 * --to VERSION stops after that version: later files are neither applied
 * nor read, so an upgrade can be replayed one version at a time (deploy/dev
 * test does, to check that a fresh install equals an upgraded one).  A
 * database already past VERSION is left as it is: nothing is ever undone.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "config.h"
#include "ctl/ctl.h"

#define MIGRATION_MAX_BYTES (4 * 1024 * 1024)
#define MIGRATE_LOCK_KEY "7162534" /* any constant; names this lock in pg_locks */
#define MIGRATE_USAGE \
	"usage: finicomctl migrate [--database CONNINFO] [--sql-dir DIR] [--without-pg-cron]\n" \
	"                          [--to VERSION]\n"

static int
name_filter(const struct dirent *d)
{
	regex_t re;
	int ok;

	if (regcomp(&re, "^[0-9]{4}_[a-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	ok = regexec(&re, d->d_name, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* Read a whole file; returns malloc'd text (caller frees) or NULL. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	buf = malloc(MIGRATION_MAX_BYTES + 1);
	if (buf == NULL) {
		fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, MIGRATION_MAX_BYTES + 1, fp);
	fclose(fp);
	if (n > MIGRATION_MAX_BYTES) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool
command_ok(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "finicomctl: %s", PQerrorMessage(conn));
	PQclear(r);
	return ok;
}

/* Applied versions and checksums; NULL result when the table is not there yet. */
static PGresult *
applied_migrations(PGconn *conn)
{
	PGresult *r = PQexec(conn, "SELECT to_regclass('finicom.schema_migrations') IS NOT NULL");
	bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "t");

	PQclear(r);
	if (!exists)
		return NULL;
	return PQexec(conn, "SELECT version, checksum FROM finicom.schema_migrations ORDER BY version");
}

static const char *
applied_checksum(PGresult *applied, const char *version)
{
	if (applied == NULL || PQresultStatus(applied) != PGRES_TUPLES_OK)
		return NULL;
	for (int i = 0; i < PQntuples(applied); i++)
		if (!strcmp(PQgetvalue(applied, i, 0), version))
			return PQgetvalue(applied, i, 1);
	return NULL;
}

static int
apply_one(PGconn *conn, const char *dir, const char *name, PGresult *applied, int *count)
{
	char path[4096], version[5], sum[65];
	const char *params[3];
	const char *old;
	size_t len;
	char *sql;
	PGresult *r;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memcpy(version, name, 4);
	version[4] = '\0';
	sql = read_file(path, &len);
	if (sql == NULL) {
		fprintf(stderr, "finicomctl: could not read \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	sha256_hex(sql, len, sum);
	old = applied_checksum(applied, version);
	if (old != NULL) {
		if (strcmp(old, sum) != 0)
			fprintf(stderr, "finicomctl: warning: %s was changed after it was applied; "
			    "the change is not applied (write a new migration)\n", name);
		free(sql);
		return 0;
	}
	if (!command_ok(conn, "BEGIN")) {
		free(sql);
		return -1;
	}
	ok = strncmp(sql, "-- migrate: superuser", 21) == 0 ||
	    command_ok(conn, "SET LOCAL ROLE finicom_owner");
	if (ok) {
		r = PQexec(conn, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
		if (!ok)
			fprintf(stderr, "finicomctl: migration %s failed: %s", name, PQerrorMessage(conn));
		PQclear(r);
	}
	free(sql);
	if (ok) {
		params[0] = version;
		params[1] = name;
		params[2] = sum;
		r = PQexecParams(conn,
		    "INSERT INTO finicom.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
		    3, NULL, params, NULL, NULL, 0);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			fprintf(stderr, "finicomctl: could not record %s: %s", name, PQerrorMessage(conn));
		PQclear(r);
	}
	if (!ok || !command_ok(conn, "COMMIT")) {
		command_ok(conn, "ROLLBACK");
		return -1;
	}
	printf("applied %s\n", name);
	(*count)++;
	return 0;
}

static int
migrate_help(void)
{
	printf(MIGRATE_USAGE
	    "Apply the pending sql/NNNN_name.sql files in order, each in its own transaction.\n"
	    "  --database CONNINFO  libpq connection string of a superuser (default: the libpq environment)\n"
	    "  --sql-dir DIR        where the migrations are (default: " PKGDATADIR "/sql)\n"
	    "  --without-pg-cron    go on without pg_cron: 0005_cron.sql is recorded, its jobs not installed\n"
	    "  --to VERSION         apply pending migrations up to and including VERSION (four digits,\n"
	    "                       such as 0003), then stop; later ones stay pending\n");
	return 0;
}

/* Is s a migration version: exactly four digits? */
static bool
is_version(const char *s)
{
	if (strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * How many of the sorted names to consider for --to VERSION: those whose
 * version is VERSION or earlier.  Returns -1 when no file has VERSION.
 */
static int
files_up_to(struct dirent **names, int n, const char *to)
{
	int last = 0;
	bool found = false;

	for (int i = 0; i < n; i++) {
		int cmp = strncmp(names[i]->d_name, to, 4);

		if (cmp > 0)
			break;
		found = found || cmp == 0;
		last = i + 1;
	}
	return found ? last : -1;
}

/* Latest applied version, or NULL; points into applied. */
static const char *
latest_applied(PGresult *applied)
{
	if (applied == NULL || PQresultStatus(applied) != PGRES_TUPLES_OK || PQntuples(applied) == 0)
		return NULL;
	return PQgetvalue(applied, PQntuples(applied) - 1, 0);
}

int
ctl_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"database", required_argument, NULL, 'd'},
		{"sql-dir", required_argument, NULL, 's'},
		{"without-pg-cron", no_argument, NULL, 'n'},
		{"to", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *conninfo = "", *dir = PKGDATADIR "/sql", *to = NULL, *latest;
	bool without_cron = false;
	struct dirent **names = NULL;
	PGresult *applied, *r;
	PGconn *conn;
	int opt, n, last, rc = 0, count = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': conninfo = optarg; break;
		case 's': dir = optarg; break;
		case 'n': without_cron = true; break;
		case 't': to = optarg; break;
		case 'h': return migrate_help();
		default:
			fprintf(stderr, MIGRATE_USAGE);
			return 2;
		}
	}
	if (to != NULL && !is_version(to)) {
		fprintf(stderr, "finicomctl: --to needs a four-digit version such as 0003, not \"%s\"\n", to);
		return 2;
	}
	n = scandir(dir, &names, name_filter, alphasort);
	if (n < 0) {
		fprintf(stderr, "finicomctl: could not read directory \"%s\": %s\n", dir, strerror(errno));
		return 1;
	}
	last = to == NULL ? n : files_up_to(names, n, to);
	if (last < 0) {
		fprintf(stderr, "finicomctl: no migration %s in \"%s\"\n", to, dir);
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return 1;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		rc = 1;
		goto out;
	}
	r = PQexec(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "t")) {
		fprintf(stderr, "finicomctl: migrate needs a superuser connection "
		    "(the migrations create roles and extensions)\n");
		PQclear(r);
		rc = 1;
		goto out;
	}
	PQclear(r);
	if (!command_ok(conn, "SET client_min_messages = warning") ||
	    !command_ok(conn, without_cron ? "SET finicom.without_pg_cron = 'on'"
	                                   : "SET finicom.without_pg_cron = 'off'") ||
	    !command_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")")) {
		rc = 1;
		goto out;
	}
	applied = applied_migrations(conn);
	latest = latest_applied(applied);
	if (to != NULL && latest != NULL && strcmp(latest, to) > 0)
		fprintf(stderr, "finicomctl: warning: the database is at %s already, past %s; "
		    "migrations are never undone\n", latest, to);
	for (int i = 0; i < last && rc == 0; i++)
		if (apply_one(conn, dir, names[i]->d_name, applied, &count) < 0)
			rc = 1;
	PQclear(applied);
	if (rc == 0 && to == NULL)
		printf("migrations: %d applied now, %d in all\n", count, n);
	else if (rc == 0)
		printf("migrations: %d applied now, %d up to %s, %d in all\n", count, last, to, n);
out:
	PQfinish(conn);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
