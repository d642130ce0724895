/*
 * test_password: the Argon2id wrapper against libargon2 itself (the PHC
 * string we write is the one argon2id_hash_encoded() writes, and we accept
 * and refuse what argon2id_verify() does), and the worker's memory: hashing
 * and verifying must not leave the 19 MiB of Argon2 working memory resident.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <argon2.h>

#include "tap.h"
#include "util/crypto.h"
#include "util/password.h"

/* Resident set size of this process in KiB (/proc/self/statm), or -1. */
static long
rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, resident = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The salt of a PHC string (the standard base64 after the 4th '$'), or -1. */
static long
salt_of(const char *phc, unsigned char *out, size_t cap)
{
	char b64url[128];
	const char *p = phc;
	size_t n = 0;

	for (int i = 0; i < 3 && p != NULL; i++)
		p = strchr(p + 1, '$');
	if (p == NULL)
		return -1;
	for (p++; *p != '$' && *p != '\0' && n < sizeof(b64url) - 1; p++)
		b64url[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return base64url_decode(b64url, n, out, cap);
}

static void
test_round_trip(void)
{
	char hash[PASSWORD_HASH_MAX], again[PASSWORD_HASH_MAX];
	unsigned char salt[64];
	long n;

	ok(password_hash("Tr0ub4dor&3 ünïcode", hash) == 0, "hashed through the mmap allocator");
	ok(strlen(hash) == 97 && !strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31),
	    "PHC string, 22 salt and 43 hash characters: %s", hash);
	ok(password_verify(hash, "Tr0ub4dor&3 ünïcode"), "our hash verifies with password_verify");
	ok(!password_verify(hash, "Tr0ub4dor&3 ünïcodE"), "test-password-bad-wrong");
	ok(!password_verify(hash, ""), "test-password-bad-empty");
	ok(argon2id_verify(hash, "Tr0ub4dor&3 ünïcode", strlen("Tr0ub4dor&3 ünïcode")) == ARGON2_OK,
	    "our hash verifies with libargon2's argon2id_verify");
	n = salt_of(hash, salt, sizeof(salt));
	ok(n == 16 && argon2id_hash_encoded(2, 19456, 1, "Tr0ub4dor&3 ünïcode",
	    strlen("Tr0ub4dor&3 ünïcode"), salt, 16, 32, again, sizeof(again)) == ARGON2_OK,
	    "libargon2 hashes the same password with the same salt");
	is_str(hash, again, "the string is byte for byte what argon2id_hash_encoded writes");
	ok(password_verify(again, "Tr0ub4dor&3 ünïcode"),
	    "libargon2's hash verifies with password_verify");
}

/*
 * Hashes made by libargon2 with other parameters (a rehash is due for those,
 * but the login must still work), including version 0x10 with and without
 * its "$v=16".
 */
static void
test_other_parameters(void)
{
	static const struct {
		uint32_t t, m, p, saltlen, hashlen;
		argon2_version version;
	} valid[] = {
		{1, 64, 1, 8, 32, ARGON2_VERSION_13},    {3, 4096, 1, 16, 32, ARGON2_VERSION_13},
		{2, 256, 2, 16, 16, ARGON2_VERSION_13},  {1, 128, 1, 32, 64, ARGON2_VERSION_13},
		{1, 64, 1, 16, 32, ARGON2_VERSION_10},   {1, 4096, 4, 48, 4, ARGON2_VERSION_13},
	};
	const unsigned char salt[64] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!";
	char enc[256], hash[128];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		int rc = argon2_hash(valid[i].t, valid[i].m, valid[i].p, "pa55word", 8, salt,
		    valid[i].saltlen, hash, valid[i].hashlen, enc, sizeof(enc), Argon2_id,
		    valid[i].version);
		ok(rc == ARGON2_OK && password_verify(enc, "pa55word") && !password_verify(enc, "pa55wore"),
		    "libargon2 hash %zu verifies, and only with its password: %s", i, enc);
		if (valid[i].version == ARGON2_VERSION_10) {
			char *v = strstr(enc, "$v=16");
			memmove(v, v + 5, strlen(v + 5) + 1);
			ok(argon2id_verify(enc, "pa55word", 8) == ARGON2_OK &&
			    password_verify(enc, "pa55word"), "no $v= means version 0x10: %s", enc);
		}
	}
}

/*
 * Strings libargon2's decoder refuses must be refused here too (and strings
 * it takes, taken): each case is checked against argon2id_verify().
 */
static void
test_malformed(void)
{
	/* argon2id, t=1, m=64, p=1, salt "somesalt", password "password". */
	static const char good[] = "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$";
	static const char *const invalid[] = {
		"",
		"$argon2id",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2d$v=19$m=64,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2ID$v=19$m=64,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=019$m=64,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=64,t=01,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$HASHx",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$HASH$",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$HASH ",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHR$HASH",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$HASH",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ",
		"$argon2id$v=19$m=64,t=1,p=1",
		"$argon2id$v=19$m=64,t=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$t=1,m=64,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=64,t=1,p=1,data=YWQ$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=4294967296,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=7,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$HASH",
		"$argon2id$v=$m=64,t=1,p=1$c29tZXNhbHQ$HASH",
		"$argon2id$v=19$m=64,t=1,p=1$$HASH",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$QUJD",
	};
	char enc[128], tail[64], s[256];
	const unsigned char salt[] = "somesalt";

	if (!ok(argon2id_hash_encoded(1, 64, 1, "password", 8, salt, 8, 32, enc, sizeof(enc)) ==
	    ARGON2_OK && !strncmp(enc, good, strlen(good)), "reference hash: %s", enc))
		return;
	strcpy(tail, enc + strlen(good));
	ok(password_verify(enc, "password"), "the reference hash verifies");
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		/* HASH stands for the right hash, so only the syntax is wrong. */
		const char *h = strstr(invalid[i], "HASH");
		if (h != NULL)
			snprintf(s, sizeof(s), "%.*s%s%s", (int)(h - invalid[i]), invalid[i], tail, h + 4);
		else
			snprintf(s, sizeof(s), "%s", invalid[i]);
		ok(argon2id_verify(s, "password", 8) != ARGON2_OK && !password_verify(s, "password"),
		    "test-password-bad-encoding \"%s\"", invalid[i]);
	}
}

/*
 * The worker's memory: after hashes and verifications, with the Argon2
 * working memory given back each time, the resident set is where it was.
 */
static void
test_memory_given_back(void)
{
	char hash[PASSWORD_HASH_MAX];
	unsigned char warm[16];
	long before, after;
	bool good;

	/* Warm up OpenSSL's CSPRNG and stdio, but not Argon2: its first run counts. */
	good = random_bytes(warm, sizeof(warm)) == 0 && rss_kib() > 0;
	before = rss_kib();
	for (int i = 0; i < 3; i++) {
		good = good && password_hash("correct horse battery", hash) == 0;
		good = good && password_verify(hash, "correct horse battery");
		good = good && !password_verify(hash, "wrong horse battery");
		good = good && !password_verify(NULL, "no such user");
	}
	after = rss_kib();
	ok(good, "three rounds of hash, verify, wrong password and unknown user");
	ok(before > 0 && after > 0 && after - before <= 1024,
	    "RSS grew by at most 1 MiB over 12 Argon2id runs of 19 MiB (%ld KiB -> %ld KiB)", before,
	    after);
#ifndef __SANITIZE_ADDRESS__
	ok(after <= 8 * 1024, "RSS stays at most 8 MiB (%ld KiB)", after);
#endif

	/* For comparison only: libargon2's own malloc path in this allocator. */
	argon2id_hash_encoded(2, 19456, 1, "x", 1, (const unsigned char *)"saltsaltsaltsalt", 16, 32,
	    hash, sizeof(hash));
	argon2id_hash_encoded(2, 19456, 1, "x", 1, (const unsigned char *)"saltsaltsaltsalt", 16, 32,
	    hash, sizeof(hash));
	printf("# for comparison, after two argon2id_hash_encoded() (malloc): RSS %ld KiB\n", rss_kib());
}

int
main(void)
{
	/* First: the others use libargon2's malloc path, which leaves 19 MiB in the heap. */
	test_memory_given_back();
	test_round_trip();
	test_other_parameters();
	test_malformed();
	return done_testing();
}
