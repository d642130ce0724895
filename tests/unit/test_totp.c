/*
 * test_totp: util/totp.c against RFC 6238's SHA-1 test vectors (appendix
 * B, the last six digits), RFC 4648's base32 vectors, the window of
 * totp_match and the shapes totp_code_kind accepts.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "util/totp.h"

int
main(void)
{
	static const unsigned char key[] = "12345678901234567890";
	static const struct {
		unsigned long long t;
		const char *code;
	} rfc[] = {
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000ULL, "353130"},
	};
	static const struct {
		const char *raw, *enc;
	} b32[] = {
		{"", ""}, {"f", "MY"}, {"fo", "MZXQ"}, {"foo", "MZXW6"}, {"foob", "MZXW6YQ"},
		{"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI"},
	};
	char out[64], norm[RECOVERY_CHARS + 1], rc[RECOVERY_SHOWN + 1];
	unsigned char back[64];

	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		snprintf(out, sizeof(out), "%06u", totp_at(key, 20, totp_step(rfc[i].t)));
		is_str(out, rfc[i].code, "RFC 6238 T=%llu", rfc[i].t);
	}
	for (size_t i = 0; i < sizeof(b32) / sizeof(b32[0]); i++) {
		size_t n = strlen(b32[i].raw);
		base32_encode((const unsigned char *)b32[i].raw, n, out);
		is_str(out, b32[i].enc, "base32 of \"%s\"", b32[i].raw);
		ok(base32_decode(b32[i].enc, back, sizeof(back)) == (long)n && memcmp(back, b32[i].raw, n) == 0,
		    "base32 back \"%s\"", b32[i].enc);
	}
	ok(base32_decode("MZ1W", back, sizeof(back)) < 0, "base32: 1 is no base32 digit");

	/* the window: one step either way, not two; the step that matched comes back */
	uint64_t now = totp_step(1111111111);
	for (int d = -2; d <= 2; d++) {
		snprintf(out, sizeof(out), "%06u", totp_at(key, 20, now + (uint64_t)(int64_t)d));
		int64_t got = totp_match(key, 20, out, now);
		if (d >= -1 && d <= 1)
			ok(got == (int64_t)(now + (uint64_t)(int64_t)d), "step %+d accepted as that step", d);
		else
			ok(got == -1, "step %+d refused", d);
	}
	ok(totp_match(key, 20, "05047", now) == -1 && totp_match(key, 20, "0504711", now) == -1 &&
	    totp_match(key, 20, "05047a", now) == -1, "not six digits: refused");

	ok(totp_code_kind("050471", norm) == TOTP_KIND_TOTP && !strcmp(norm, "050471"), "six digits: TOTP");
	ok(totp_code_kind(" 050 471 ", norm) == TOTP_KIND_TOTP && !strcmp(norm, "050471"), "spaces dropped");
	ok(totp_code_kind("ABCD-EFGH-2345-67ab", norm) == TOTP_KIND_RECOVERY && !strcmp(norm, "abcdefgh234567ab"),
	    "a recovery code, lowercased, dashes dropped");
	ok(totp_code_kind("abcd-efgh-2345-67a1", norm) == TOTP_KIND_NONE, "1 is no base32: none");
	ok(totp_code_kind("12345", norm) == TOTP_KIND_NONE && totp_code_kind("", norm) == TOTP_KIND_NONE &&
	    totp_code_kind("abcdefgh234567abc", norm) == TOTP_KIND_NONE, "other lengths: none");
	ok(recovery_code_generate(rc) == 0 && strlen(rc) == RECOVERY_SHOWN && rc[4] == '-' &&
	    totp_code_kind(rc, norm) == TOTP_KIND_RECOVERY, "a new recovery code has the shape it is checked for");
	return done_testing();
}
