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
