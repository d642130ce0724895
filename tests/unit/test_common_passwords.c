/*
 * test_common_passwords: the embedded list of the 10,000 most common
 * passwords (src/util/common-passwords.txt) and its lookup: exactly 10,000
 * entries, each once; the most and least common of them are found, with
 * any ASCII case; near misses and everything around the edges are not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "util/common_passwords.h"
#include "validate.h"

static void
test_list(void)
{
	char path[4096], line[256];
	const char *srcdir = getenv("top_srcdir");
	size_t n = 0, found = 0;
	FILE *f;

	is_int(common_passwords_count(), 10000, "the table holds 10,000 entries");
	snprintf(path, sizeof(path), "%s/src/util/common-passwords.txt", srcdir ? srcdir : ".");
	f = fopen(path, "r");
	if (!ok(f != NULL, "the vendored list %s opens", path))
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		n++;
		found += password_is_common(line);
	}
	fclose(f);
	is_int(n, 10000, "the vendored file has 10,000 entries after its header");
	is_int(found, 10000, "every entry of the file is found in the table");
}

static void
test_lookup(void)
{
	static const char *const common[] = {
		"123456",       /* rank 1 */
		"password",     /* rank 2 */
		"password1",
		"qwerty123",
		"iloveyou",
		"PassWord1",    /* ASCII case is ignored */
		"QWERTY123",
		"Iloveyou",
		"24081990",     /* the 10,000th */
		"1qaz2wsx",
		"trustno1",
	};
	static const char *const not_common[] = {
		"",
		"password1!",   /* one byte more */
		"assword1",     /* one byte less */
		" password1",
		"password1\t",
		"correct horse battery staple",
		"pw-3f9a6c1e0b7d4e2a",
		"passwörd1",    /* non-ASCII bytes compare exactly */
		"21081990x",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	size_t i;

	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		ok(password_is_common(common[i]), "test-common-%s: on the list", common[i]);
	for (i = 0; i < sizeof(not_common) / sizeof(not_common[0]); i++)
		ok(!password_is_common(not_common[i]), "test-common-bad-%zu: \"%.20s\" is not on the list", i,
		    not_common[i]);
}

/* The rule as the callers see it: 400 message text, and the email/name rule beside it. */
static void
test_new_password_rule(void)
{
	const char *why = NULL;
	bool good;

	good = password_new_ok("Password1", "ada@example.test", "Ada", &why);
	ok(!good && why != NULL && strstr(why, "common") != NULL,
	    "password_new_ok refuses a common one: %s", why ? why : "-");
	why = NULL;
	good = password_new_ok("ada@example.test", "ada@example.test", "Ada", &why);
	ok(!good && why != NULL && strstr(why, "email") != NULL, "and one equal to the email: %s",
	    why ? why : "-");
	ok(password_new_ok("correct horse battery staple", "ada@example.test", "Ada", &why),
	    "and takes a good one");
}

/* Fast: a million lookups well under a second (a worker checks one per signup). */
static void
test_speed(void)
{
	struct timespec a, b;
	size_t hits = 0;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 1000000; i++)
		hits += password_is_common(i % 2 ? "Password1" : "not-on-any-list");
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	ok(hits == 500000 && s < 2.0, "1,000,000 lookups in %.3f s", s);
}

int
main(void)
{
	test_list();
	test_lookup();
	test_new_password_rule();
	test_speed();
	return done_testing();
}
