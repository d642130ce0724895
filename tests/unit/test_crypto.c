/*
 * test_crypto: base64url, tokens, CSRF derivation, constant-time compare,
 * the Argon2id wrapper and the field validators used by accounts.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/crypto.h"
#include "util/password.h"
#include "validate.h"

static void
test_base64url(void)
{
	static const struct {
		const char *raw;
		const char *enc;
	} valid[] = {
		{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
		{"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
	};
	static const char *const invalid[] = {"Zm9vY", "Zm9=", "Zm+v", "Zm/v", "Zh", "a b"};
	char out[64];
	unsigned char back[64];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		size_t n = strlen(valid[i].raw);
		long m;
		base64url_encode((const unsigned char *)valid[i].raw, n, out);
		is_str(out, valid[i].enc, "base64url encodes case %zu", i);
		m = base64url_decode(valid[i].enc, strlen(valid[i].enc), back, sizeof(back));
		ok(m == (long)n && memcmp(back, valid[i].raw, n) == 0, "base64url decodes \"%s\"",
		    valid[i].enc);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(base64url_decode(invalid[i], strlen(invalid[i]), back, sizeof(back)) == -1,
		    "test-base64url-bad \"%s\"", invalid[i]);
}

static void
test_tokens(void)
{
	char a[TOKEN_CHARS + 1], b[TOKEN_CHARS + 1], c1[TOKEN_CHARS + 1], c2[TOKEN_CHARS + 1];
	char hex[65], bytea[67];
	unsigned char raw[40];

	ok(token_generate(a) == 0 && token_generate(b) == 0, "tokens generated");
	is_int(strlen(a), 43, "a token is 43 characters");
	ok(token_well_formed(a), "a generated token is well formed");
	ok(strcmp(a, b) != 0, "two tokens differ");
	is_int(base64url_decode(a, strlen(a), raw, sizeof(raw)), 32, "a token carries 32 bytes");
	ok(!token_well_formed("short"), "test-token-bad-short");
	ok(!token_well_formed("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), "test-token-bad-character");
	ok(!token_well_formed("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "test-token-bad-long");
	ok(!token_well_formed(NULL), "test-token-bad-null");

	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of abc");
	sha256_bytea("abc", bytea);
	ok(!strncmp(bytea, "\\x", 2) && !strcmp(bytea + 2, hex), "bytea form is \\x + hex");

	csrf_token_for(a, c1);
	csrf_token_for(a, c2);
	ok(!strcmp(c1, c2) && token_well_formed(c1), "csrf token is stable per session and token-shaped");
	csrf_token_for(b, c2);
	ok(strcmp(c1, c2) != 0, "another session, another csrf token");
	ok(strcmp(c1, a) != 0, "the csrf token is not the session token");

	ok(secure_equal("same", "same"), "secure_equal equal");
	ok(!secure_equal("same", "sane"), "secure_equal different");
	ok(!secure_equal("same", "same!"), "secure_equal different length");
}

static void
test_password(void)
{
	char hash[PASSWORD_HASH_MAX], hash2[PASSWORD_HASH_MAX];

	ok(password_hash("correct horse", hash) == 0, "password hashed");
	ok(!strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31), "PHC string with OWASP parameters: %s",
	    hash);
	ok(strstr(hash, "correct horse") == NULL, "hash does not contain the password");
	ok(password_verify(hash, "correct horse"), "right password verifies");
	ok(!password_verify(hash, "correct horsE"), "test-password-bad-wrong");
	ok(!password_verify(hash, ""), "test-password-bad-empty");
	ok(!password_verify(NULL, "correct horse"), "test-password-bad-unknown-user");
	ok(!password_verify("$2b$10$bcrypt", "correct horse"), "test-password-bad-foreign-hash");
	ok(password_hash("correct horse", hash2) == 0 && strcmp(hash, hash2) != 0, "salted: hashes differ");
	ok(!password_needs_rehash(hash), "current parameters need no rehash");
	ok(password_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"),
	    "weaker parameters need a rehash");
	ok(password_needs_rehash("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"),
	    "another variant needs a rehash");
}

static void
test_validators(void)
{
	static const char *const good_emails[] = {"a@b.co", "Ann.Lee+tag@mail.example.com", "x@y-z.io"};
	static const char *const bad_emails[] = {
		"", "plain", "@b.co", "a@", "a@b", "a@@b.co", "a@b@c.co", "a b@c.co", "a@b..co", "a@.b.co",
		"a@b.co.", "<a@b.co>", "a\"b@c.co",
	};
	const char *why;
	char long_email[300];

	for (size_t i = 0; i < sizeof(good_emails) / sizeof(good_emails[0]); i++)
		ok(email_ok(good_emails[i], &why), "email %s accepted", good_emails[i]);
	for (size_t i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++)
		ok(!email_ok(bad_emails[i], &why), "test-email-bad \"%s\"", bad_emails[i]);
	memset(long_email, 'a', sizeof(long_email));
	memcpy(long_email + 250, "@example.com", 13); /* 262 bytes */
	ok(!email_ok(long_email, &why), "test-email-bad-over-254-bytes");
	ok(name_ok("Ann", 3, &why) && name_ok("Zoë ✓", strlen("Zoë ✓"), &why), "names accepted");
	ok(!name_ok("", 0, &why) && !name_ok("   ", 3, &why), "test-name-bad-blank");
	ok(!name_ok("a\nb", 3, &why), "test-name-bad-control");
	{
		char n201[202];
		memset(n201, 'n', 201);
		n201[201] = '\0';
		ok(!name_ok(n201, 201, &why) && name_ok(n201 + 1, 200, &why), "names: 200 ok, 201 refused");
	}
	ok(password_ok("12345678", 8, &why) && !password_ok("1234567", 7, &why), "passwords: 8 bytes minimum");
	ok(!password_ok("a\0bcdefghi", 10, &why), "test-password-bad-nul");
	ok(uuid_ok("123e4567-e89b-12d3-a456-426614174000") && !uuid_ok("123e4567e89b12d3a456426614174000") &&
	    !uuid_ok("123e4567-e89b-12d3-a456-42661417400g") && !uuid_ok(NULL), "uuid shape");
}

/*
 * datetime_fields_ok reads its fields at fixed offsets: strings shorter
 * than "YYYY-MM-DDTHH:MM:SS" (found by tests/fuzz/fuzz_values: "2026" was
 * read past its end), each in a buffer of exactly its size for ASan.
 */
static void
test_datetime_short(void)
{
	static const char *const shorts[] = {"", "2", "2026", "2026-", "2026-01", "2026-01-01",
	    "2026-01-01T12", "2026-01-01T12:00", "2026-01-01T12:00:0"};

	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		size_t n = strlen(shorts[i]) + 1;
		char *s = malloc(n);

		memcpy(s, shorts[i], n);
		ok(!datetime_fields_ok(s), "test-datetime-short \"%s\" is refused, not read past", shorts[i]);
		free(s);
	}
	ok(datetime_fields_ok("2024-02-29T23:59:59"), "test-datetime-leap-day");
	ok(!datetime_fields_ok("2026-02-29T00:00:00"), "test-datetime-no-leap-day");
}

int
main(void)
{
	test_base64url();
	test_tokens();
	test_password();
	test_validators();
	test_datetime_short();
	return done_testing();
}
