/*
 * password: see password.h.
 */
#include "util/password.h"

#include <stdio.h>
#include <string.h>

#include <argon2.h>

#include "util/crypto.h"

#define T_COST 2
#define M_COST 19456 /* KiB = 19 MiB */
#define PARALLELISM 1
#define SALT_BYTES 16
#define HASH_BYTES 32

int
password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	unsigned char salt[SALT_BYTES];

	if (random_bytes(salt, sizeof(salt)) < 0)
		return -1;
	return argon2id_hash_encoded(T_COST, M_COST, PARALLELISM, password, strlen(password), salt,
	    sizeof(salt), HASH_BYTES, out, PASSWORD_HASH_MAX) == ARGON2_OK ? 0 : -1;
}

/* A hash of a password nobody knows, made once per process on first use. */
static const char *
dummy_hash(void)
{
	static char hash[PASSWORD_HASH_MAX];
	char secret[TOKEN_CHARS + 1];

	if (hash[0] == '\0') {
		if (token_generate(secret) < 0 || password_hash(secret, hash) < 0)
			snprintf(hash, sizeof(hash), "$argon2id$v=19$m=%d,t=%d,p=%d$"
			    "c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			    M_COST, T_COST, PARALLELISM);
	}
	return hash;
}

void
password_warm(void)
{
	(void)dummy_hash();
}

bool
password_verify(const char *hash, const char *password)
{
	bool known = hash != NULL && strncmp(hash, "$argon2id$", 10) == 0;
	int rc = argon2id_verify(known ? hash : dummy_hash(), password, strlen(password));

	return known && rc == ARGON2_OK;
}

bool
password_needs_rehash(const char *hash)
{
	char want[64];

	snprintf(want, sizeof(want), "$argon2id$v=%d$m=%d,t=%d,p=%d$", ARGON2_VERSION_NUMBER, M_COST,
	    T_COST, PARALLELISM);
	return strncmp(hash, want, strlen(want)) != 0;
}
