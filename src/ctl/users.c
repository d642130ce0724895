/*
 * users: finicomctl create-user.
 *
 * The password is read from the first line of standard input when that is
 * not a terminal; when it is a terminal, or the line is empty, a password is
 * generated and printed once.  The account's address counts as verified
 * (the operator made it).  The connection needs the right to call
 * finicom.user_create_verified() (a superuser, or finicom_owner's member).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "ctl/ctl.h"
#include "util/crypto.h"
#include "util/email.h"
#include "util/password.h"
#include "validate.h"

int
ctl_create_user(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"email", required_argument, NULL, 'e'},
		{"name", required_argument, NULL, 'n'},
		{"database", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *email = NULL, *name = NULL, *conninfo = "", *why = NULL;
	char password[PASSWORD_MAX_BYTES + 2] = "", hash[PASSWORD_HASH_MAX], canonical[EMAIL_MAX + 1];
	bool generated = false;
	const char *params[3];
	PGconn *conn;
	PGresult *r;
	int opt, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "e:n:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e': email = optarg; break;
		case 'n': name = optarg; break;
		case 'd': conninfo = optarg; break;
		default: email = NULL; optind = argc + 1; break;
		}
	}
	if (email == NULL || name == NULL || optind != argc) {
		fprintf(stderr, "usage: finicomctl create-user --email EMAIL --name NAME "
		    "[--database CONNINFO] [< password]\n");
		return 2;
	}
	/* The email rule of the API (util/email.h); the account gets the canonical form. */
	if (email_normalize(email, strlen(email), canonical, &why) < 0) {
		fprintf(stderr, "finicomctl: email %s\n", why);
		return 2;
	}
	email = canonical;
	if (!name_ok(name, strlen(name), &why)) {
		fprintf(stderr, "finicomctl: name %s\n", why);
		return 2;
	}
	if (!isatty(STDIN_FILENO) && fgets(password, sizeof(password), stdin) != NULL)
		password[strcspn(password, "\r\n")] = '\0';
	if (password[0] == '\0') {
		if (token_generate(password) < 0)
			return 1;
		password[20] = '\0'; /* 20 base64url characters: 120 bits */
		generated = true;
	}
	if (!password_ok(password, strlen(password), &why) ||
	    !password_new_ok(password, email, name, &why)) {
		fprintf(stderr, "finicomctl: password %s\n", why);
		return 2;
	}
	if (password_hash(password, hash) < 0) {
		fprintf(stderr, "finicomctl: could not hash the password\n");
		return 1;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		goto out;
	}
	params[0] = email;
	params[1] = name;
	params[2] = hash;
	r = PQexecParams(conn, "SELECT id FROM finicom.user_create_verified($1, $2, $3)", 3, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (state != NULL && !strcmp(state, "23505"))
			fprintf(stderr, "finicomctl: an account with email \"%s\" already exists\n", email);
		else
			fprintf(stderr, "finicomctl: could not create the user: %s", PQerrorMessage(conn));
	} else {
		printf("created user %s <%s> id %s\n", name, email, PQgetvalue(r, 0, 0));
		if (generated)
			printf("password (shown once): %s\n", password);
		rc = 0;
	}
	PQclear(r);
out:
	PQfinish(conn);
	OPENSSL_cleanse(password, sizeof(password));
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

/*
 * finicomctl disable-2fa EMAIL: turn off the two-factor authentication of
 * the account with that address, for a user who lost both the device and
 * the recovery codes (docs/two-factor.md, "When a user is locked out").
 * Its secret, recovery codes and pending login tokens go; its sessions
 * stay; the auth event 'totp.disabled_by_operator' records it
 * (finicom.totp_disable_by_operator, sql/0028).  Exit status 1 when no
 * account has the address or its two-factor is not on.  The connection
 * needs finicom_owner's rights (a superuser, as for create-user).
 */
int
ctl_disable_2fa(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"database", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *conninfo = "", *why = NULL, *params[2];
	char canonical[EMAIL_MAX + 1];
	PGconn *conn;
	PGresult *r;
	int opt, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
		if (opt != 'd') {
			optind = argc + 1;
			break;
		}
		conninfo = optarg;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: finicomctl disable-2fa EMAIL [--database CONNINFO]\n");
		return 2;
	}
	if (email_normalize(argv[optind], strlen(argv[optind]), canonical, &why) < 0) {
		fprintf(stderr, "finicomctl: email %s\n", why);
		return 2;
	}
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "finicomctl: could not connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	params[0] = canonical;
	params[1] = "finicomctl disable-2fa";
	r = PQexecParams(conn, "SELECT finicom.totp_disable_by_operator($1, $2)::text", 2, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "finicomctl: could not turn two-factor off: %s", PQerrorMessage(conn));
	} else if (PQgetisnull(r, 0, 0)) {
		fprintf(stderr, "finicomctl: no account with email \"%s\" has two-factor authentication on\n",
		    canonical);
	} else {
		printf("two-factor authentication is off for %s (user %s); its recovery codes are gone\n",
		    canonical, PQgetvalue(r, 0, 0));
		rc = 0;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}
