/*
 * rotate: finicomctl rotate-key, the secret key's rotation, online.
 *
 * Every ciphertext of the objects' configs (sources, destinations,
 * integrations; util/secret.h) made under another key than the current
 * one (secret_key_file of the configuration) is decrypted with its own key
 * (one of secret_decrypt_key_files) and encrypted again under the current
 * key, with the same AAD.  The config's stored text changes in those
 * ciphertexts only.  Rows are taken in batches (--batch, 100), each batch
 * in a transaction of its own holding its rows' locks (SELECT ... FOR
 * UPDATE), so finicomd's workers go on serving reads and writes meanwhile;
 * --pause sleeps between batches to spread the load.  A worker that
 * started its PATCH before a row was rotated may write the old ciphertext
 * back ("********" keeps the stored value): passes are repeated until one
 * finds nothing left (at most 10).
 *
 * The workers must already encrypt under the new key and still decrypt
 * under the old one while this runs (docs/production.md, "Key rotation"):
 * secret_key_file is the new key, secret_decrypt_key_files the old one,
 * and finicomd was reloaded.  --check changes nothing: it decrypts every
 * ciphertext and counts them by key; exit status 0 when every one decrypts
 * and is under the current key (the old key can go), 1 otherwise.
 *
 * The TOTP secrets of two-factor authentication (finicom.totp_credentials,
 * secret_enc: one stored form each, AAD "totp:<user id>", made and read by
 * the auth processes; docs/two-factor.md) are rotated the same way, by
 * user id, after the objects' configs; a row is rewritten only if its
 * ciphertext is still the one read (an enrolment may replace it meanwhile).
 *
 * The connection is a superuser's, as for migrate (it reads every org's
 * rows); each changed row is audited as the database role's (actor type db).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "config.h"
#include "ctl/ctl.h"
#include "util/config.h"
#include "util/secret.h"

/* The tables whose config column holds secrets, and the kind in their AAD. */
static const struct {
	const char *table, *kind;
} places[] = {
	{"finicom.sources", "source"},
	{"finicom.destinations", "destination"},
	{"finicom.integrations", "integration"},
};

#define MAX_PASSES 10

struct totals {
	long rows, current, other, rewritten, failed;
};

/* text with every old[i] replaced by new[i] (malloc'd), NULL when out of memory. */
static char *
replace_all(const char *text, const struct secret_rekey *k)
{
	char *out = strdup(text);

	for (size_t i = 0; out != NULL && i < k->n; i++) {
		size_t ol = strlen(k->old[i]), nl = strlen(k->new[i]), count = 0;
		const char *p;
		char *next, *q;

		for (p = out; (p = strstr(p, k->old[i])) != NULL; p += ol)
			count++;
		next = malloc(strlen(out) + count * (nl > ol ? nl - ol : 0) + 1);
		if (next == NULL) {
			free(out);
			return NULL;
		}
		q = next;
		for (p = out;;) {
			const char *hit = strstr(p, k->old[i]);
			size_t keep = hit ? (size_t)(hit - p) : strlen(p);
			memcpy(q, p, keep);
			q += keep;
			if (hit == NULL)
				break;
			memcpy(q, k->new[i], nl);
			q += nl;
			p = hit + ol;
		}
		*q = '\0';
		free(out);
		out = next;
	}
	return out;
}

/*
 * A batch's transaction begun (read-only unless rewrite) and its rows
 * selected; NULL, rolled back and printed, on a database error.
 */
static PGresult *
batch_rows(PGconn *conn, bool rewrite, const char *sql, int nparams, const char *const *params)
{
	PGresult *rows;

	if (!ctl_command_ok(conn, rewrite ? "BEGIN" : "BEGIN READ ONLY"))
		return NULL;
	rows = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: %s", PQerrorMessage(conn));
		PQclear(rows);
		ctl_command_ok(conn, "ROLLBACK");
		return NULL;
	}
	return rows;
}

/*
 * One batch of one table after (org, id): up to batch rows that hold a
 * ciphertext (with rewrite: one under another key).  Returns the number of
 * rows looked at, -1 on a database error; last_org and last_id advance.
 */
static int
one_batch(PGconn *conn, const char *table, const char *kind, bool rewrite, int batch,
    char *last_org, char *last_id, struct totals *t)
{
	char sql[512], limit[16], pattern[64];
	const char *params[4];
	PGresult *rows;
	int n;

	snprintf(limit, sizeof(limit), "%d", batch);
	if (rewrite)
		snprintf(pattern, sizeof(pattern), "enc:v1:(?!%s:)[0-9a-f]{8}:", secret_key_id());
	else
		snprintf(pattern, sizeof(pattern), "enc:v1:");
	snprintf(sql, sizeof(sql),
	    "SELECT org_id::text, id::text, config::text FROM %s"
	    " WHERE (org_id, id) > ($1::uuid, $2::uuid) AND config::text ~ $3"
	    " ORDER BY org_id, id LIMIT $4::int%s", table, rewrite ? " FOR UPDATE" : "");
	params[0] = last_org;
	params[1] = last_id;
	params[2] = pattern;
	params[3] = limit;
	rows = batch_rows(conn, rewrite, sql, 4, params);
	if (rows == NULL)
		return -1;
	n = PQntuples(rows);
	for (int i = 0; i < n; i++) {
		const char *org = PQgetvalue(rows, i, 0), *id = PQgetvalue(rows, i, 1);
		const char *text = PQgetvalue(rows, i, 2);
		char aad[128], err[512];
		struct secret_rekey k;
		json_object *config = json_tokener_parse(text);

		t->rows++;
		snprintf(aad, sizeof(aad), "%s:%s:%s:", org, kind, id);
		if (config == NULL || secret_rekey_config(config, aad, rewrite, &k, err, sizeof(err)) < 0) {
			fprintf(stderr, "finicomctl: %s %s (org %s): %s\n", kind, id, org,
			    config ? err : "config is not valid JSON");
			t->failed++;
			json_object_put(config);
			continue;
		}
		json_object_put(config);
		t->current += k.current;
		t->other += k.other;
		if (rewrite && k.n > 0) {
			char *fresh = replace_all(text, &k), upd[256];
			const char *up[3] = {fresh, org, id};
			PGresult *r;

			snprintf(upd, sizeof(upd),
			    "UPDATE %s SET config = $1::jsonb WHERE org_id = $2::uuid AND id = $3::uuid",
			    table);
			r = fresh ? PQexecParams(conn, upd, 3, NULL, up, NULL, NULL, 0) : NULL;
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				fprintf(stderr, "finicomctl: %s %s: %s", kind, id,
				    r ? PQerrorMessage(conn) : "out of memory\n");
				PQclear(r);
				free(fresh);
				secret_rekey_free(&k);
				PQclear(rows);
				ctl_command_ok(conn, "ROLLBACK");
				return -1;
			}
			PQclear(r);
			free(fresh);
			t->rewritten += (long)k.n;
		}
		secret_rekey_free(&k);
	}
	if (n > 0) {
		snprintf(last_org, 37, "%s", PQgetvalue(rows, n - 1, 0));
		snprintf(last_id, 37, "%s", PQgetvalue(rows, n - 1, 1));
	}
	PQclear(rows);
	return ctl_command_ok(conn, "COMMIT") ? n : -1;
}

/*
 * One batch of TOTP secrets after last_user (as one_batch): decrypt each
 * (AAD "totp:<user id>"), count it by key, and with rewrite store it again
 * under the current key.  Returns the rows looked at, -1 on a database error.
 */
static int
one_totp_batch(PGconn *conn, bool rewrite, int batch, char *last_user, struct totals *t)
{
	char limit[16], pattern[64];
	const char *params[3] = {last_user, pattern, limit};
	PGresult *rows;
	int n;

	snprintf(limit, sizeof(limit), "%d", batch);
	if (rewrite)
		snprintf(pattern, sizeof(pattern), "^enc:v1:(?!%s:)[0-9a-f]{8}:", secret_key_id());
	else
		snprintf(pattern, sizeof(pattern), "^enc:v1:");
	rows = batch_rows(conn, rewrite, rewrite
	    ? "SELECT user_id::text, secret_enc FROM finicom.totp_credentials"
	      " WHERE user_id > $1::uuid AND secret_enc ~ $2 ORDER BY user_id LIMIT $3::int FOR UPDATE"
	    : "SELECT user_id::text, secret_enc FROM finicom.totp_credentials"
	      " WHERE user_id > $1::uuid AND secret_enc ~ $2 ORDER BY user_id LIMIT $3::int",
	    3, params);
	if (rows == NULL)
		return -1;
	n = PQntuples(rows);
	for (int i = 0; i < n; i++) {
		const char *user = PQgetvalue(rows, i, 0), *stored = PQgetvalue(rows, i, 1);
		char aad[64], kid[SECRET_KEY_ID_CHARS + 1];
		size_t len = 0;
		char *plain, *fresh;

		t->rows++;
		snprintf(aad, sizeof(aad), "totp:%s", user);
		plain = secret_decrypt(stored, aad, &len);
		if (plain == NULL || !secret_stored_key_id(stored, kid)) {
			fprintf(stderr, "finicomctl: the TOTP secret of user %s does not decrypt with the loaded keys\n",
			    user);
			t->failed++;
			free(plain);
			continue;
		}
		if (!strcmp(kid, secret_key_id()))
			t->current++;
		else
			t->other++;
		if (rewrite && strcmp(kid, secret_key_id()) != 0) {
			const char *up[3];
			PGresult *r;

			fresh = secret_encrypt(plain, len, aad);
			up[0] = fresh, up[1] = user, up[2] = stored;
			r = fresh ? PQexecParams(conn, "UPDATE finicom.totp_credentials SET secret_enc = $1"
			    " WHERE user_id = $2::uuid AND secret_enc = $3", 3, NULL, up, NULL, NULL, 0) : NULL;
			free(fresh);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				fprintf(stderr, "finicomctl: the TOTP secret of user %s: %s", user,
				    r ? PQerrorMessage(conn) : "could not encrypt\n");
				PQclear(r);
				OPENSSL_cleanse(plain, len);
				free(plain);
				PQclear(rows);
				ctl_command_ok(conn, "ROLLBACK");
				return -1;
			}
			PQclear(r);
			t->rewritten++;
		}
		OPENSSL_cleanse(plain, len);
		free(plain);
	}
	if (n > 0)
		snprintf(last_user, 37, "%s", PQgetvalue(rows, n - 1, 0));
	PQclear(rows);
	return ctl_command_ok(conn, "COMMIT") ? n : -1;
}

static void
pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (ms > 0)
		nanosleep(&ts, NULL);
}

/* One pass over every table; -1 on a database error. */
static int
one_pass(PGconn *conn, bool rewrite, int batch, long pause, struct totals *t)
{
	for (size_t p = 0; p < sizeof(places) / sizeof(places[0]); p++) {
		char org[37] = "00000000-0000-0000-0000-000000000000";
		char id[37] = "00000000-0000-0000-0000-000000000000";
		int n;

		/* (org, id) > (zero, zero) would skip a row of all zeros: none is ever made. */
		while ((n = one_batch(conn, places[p].table, places[p].kind, rewrite, batch, org, id,
		    t)) == batch)
			pause_ms(pause);
		if (n < 0)
			return -1;
		pause_ms(pause);
	}
	{
		char user[37] = "00000000-0000-0000-0000-000000000000";
		int n;

		while ((n = one_totp_batch(conn, rewrite, batch, user, t)) == batch)
			pause_ms(pause);
		if (n < 0)
			return -1;
	}
	return 0;
}

int
ctl_rotate_key(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"database", required_argument, NULL, 'd'},
		{"batch", required_argument, NULL, 'b'},
		{"pause", required_argument, NULL, 'p'},
		{"check", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = SYSCONFDIR "/finicom/finicom.conf", *conninfo = "";
	const char *ids[SECRET_OTHER_KEYS_MAX];
	struct config cfg;
	struct totals t;
	char err[1200];
	bool check = false;
	int opt, batch = 100, passes = 0, rc = 1;
	long pause = 0;
	PGconn *conn;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'd': conninfo = optarg; break;
		case 'b':
			batch = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || batch < 1 || batch > 10000) {
				fprintf(stderr, "finicomctl: --batch takes a number from 1 to 10000\n");
				return 2;
			}
			break;
		case 'p':
			pause = strtol(optarg, &end, 10);
			if (end == optarg || strcmp(end, "ms") != 0 || pause < 0 || pause > 60000) {
				fprintf(stderr, "finicomctl: --pause takes milliseconds such as 200ms (at most 60000ms)\n");
				return 2;
			}
			break;
		case 'k': check = true; break;
		case 'h':
			printf("usage: finicomctl rotate-key [-c FILE] [--database CONNINFO] [--batch N] "
			    "[--pause MSms] [--check]\n");
			return 0;
		default:
			fprintf(stderr, "usage: finicomctl rotate-key [-c FILE] [--database CONNINFO] "
			    "[--batch N] [--pause MSms] [--check]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: finicomctl rotate-key [-c FILE] [--database CONNINFO] "
		    "[--batch N] [--pause MSms] [--check]\n");
		return 2;
	}
	if (config_load(config_path, &cfg, err, sizeof(err)) < 0 ||
	    secret_load_key(cfg.secret_key_file, err, sizeof(err)) < 0 ||
	    secret_load_other_keys(cfg.secret_decrypt_key_files, err, sizeof(err)) < 0) {
		fprintf(stderr, "finicomctl: %s\n", err);
		return 2;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		secret_forget_key();
		return 1;
	}
	PQclear(PQexec(conn, "SET application_name = 'finicomctl rotate-key'"));
	if (!check) {
		size_t n = secret_other_key_ids(ids);
		printf("rotating to key %s\n", secret_key_id());
		for (size_t i = 0; i < n; i++)
			printf("  decrypt-only key %s\n", ids[i]);
		do {
			memset(&t, 0, sizeof(t));
			if (one_pass(conn, true, batch, pause, &t) < 0)
				goto out;
			passes++;
			printf("pass %d: %ld rows, %ld values re-encrypted, %ld rows failed\n", passes,
			    t.rows, t.rewritten, t.failed);
			if (t.failed > 0)
				goto out;
		} while (t.rows > 0 && passes < MAX_PASSES);
	}
	memset(&t, 0, sizeof(t));
	if (one_pass(conn, false, batch, 0, &t) < 0)
		goto out;
	printf("%ld secret values in %ld rows: %ld under key %s, %ld under other keys, %ld rows "
	    "do not decrypt\n", t.current + t.other, t.rows, t.current, secret_key_id(), t.other,
	    t.failed);
	if (t.other == 0 && t.failed == 0) {
		printf("every secret is under key %s: the other keys can be removed\n", secret_key_id());
		rc = 0;
	}
out:
	PQfinish(conn);
	secret_forget_key();
	return rc;
}
