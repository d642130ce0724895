/*
 * password: Argon2id password hashes (libargon2), OWASP's parameters:
 * m = 19 MiB, t = 2, p = 1, 16-byte salt, 32-byte hash, stored as the
 * encoded PHC string ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash").  The
 * parameters travel inside the string, so a hash made with weaker ones is
 * noticed at the next login (password_needs_rehash) and replaced.
 *
 * Each hash or verification maps its 19 MiB of working memory afresh and
 * unmaps it when done, so a worker that has served logins does not keep
 * them resident (with malloc, glibc would).  That costs the kernel a few
 * milliseconds of page clearing per login.
 */
#ifndef FINICOM_PASSWORD_H
#define FINICOM_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN_BYTES 8
#define PASSWORD_MAX_BYTES 1024
#define PASSWORD_HASH_MAX 128

/* Hash password into out (PASSWORD_HASH_MAX bytes).  Returns 0 or -1. */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);

/*
 * True when password matches the encoded hash.  With hash NULL (no such
 * user) the same work is done against a fixed dummy hash and false is
 * returned, so an unknown email costs what a wrong password costs.
 */
bool password_verify(const char *hash, const char *password);

/* Make the dummy hash now (at worker start) rather than at the first unknown email. */
void password_warm(void);

/* True when hash was made with other parameters than today's. */
bool password_needs_rehash(const char *hash);

#endif
