/*
 * test_email: the email rule of util/email.c, case by case.
 *
 * The expected A-labels were computed with implementations not written
 * here: Python's idna package 3.3 (IDNA2008 with UTS #46 non-transitional
 * mapping: idna.encode(d, uts46=True, transitional=False)) and the idn2
 * command of Debian's idn2 2.3.3; both agree on every line.  Python's
 * built-in encodings.idna (IDNA2003) differs where noted: it turns "ß"
 * into "ss" ("straße.de" is "strasse.de" there, "xn--strae-oqa.de" here)
 * and keeps the case of ASCII labels.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/email.h"
#include "validate.h"

struct valid_case {
	const char *input, *canonical, *what;
};

static const struct valid_case valid[] = {
    {"a@b.co", "a@b.co", "short"},
    {"Ann.Lee+tag@mail.example.com", "Ann.Lee+tag@mail.example.com", "dots and a plus"},
    {"x@y-z.io", "x@y-z.io", "hyphen in the domain"},
    {"Ada@Example.COM", "Ada@example.com", "local case kept, domain lowercased"},
    {"!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com", "every atext symbol"},
    {"a.b.c@example.com", "a.b.c@example.com", "several dots"},
    {"a@b.c", "a@b.c", "one-letter labels"},
    {"a@123.example", "a@123.example", "digits in a label that is not the last"},
    {"user@Bücher.example", "user@xn--bcher-kva.example", "IDN to A-label"},
    {"user@BÜCHER.Example", "user@xn--bcher-kva.example", "IDN in capitals: UTS 46 folds case"},
    {"u@straße.de", "u@xn--strae-oqa.de", "non-transitional: ß kept (IDNA2003: strasse.de)"},
    {"u@fußball.example", "u@xn--fuball-cta.example", "non-transitional ß inside a label"},
    {"u@münchen.de", "u@xn--mnchen-3ya.de", "umlaut"},
    {"u@例え.テスト", "u@xn--r8jz45g.xn--zckzah", "CJK labels, IDN top-level domain"},
    {"u@пример.рф", "u@xn--e1afmkfd.xn--p1ai", "Cyrillic"},
    {"u@ελληνικά.example", "u@xn--hxargifdar.example", "Greek"},
    {"u@İstanbul.example", "u@xn--istanbul-o0e.example", "U+0130 in a domain is not i"},
    {"u@a\xe3\x80\x82" "b.example", "u@a.b.example", "U+3002 ideographic full stop is a dot"},
    {"u@ac\xe2\x84\xaa" "me.test", "u@ackme.test", "U+212A in a domain maps to k (UTS 46)"},
    {"u@exa\xc2\xad" "mple.com", "u@example.com", "U+00AD soft hyphen is ignored (UTS 46)"},
    {"u@xn--bcher-kva.example", "u@xn--bcher-kva.example", "A-label input kept"},
    {"u@XN--BCHER-KVA.EXAMPLE", "u@xn--bcher-kva.example", "A-label in capitals"},
};

struct invalid_case {
	const char *input, *what;
};

static const struct invalid_case invalid[] = {
    {"", "empty"},
    {"plain", "no @"},
    {"@b.co", "empty local part"},
    {"a@", "empty domain"},
    {"a@b", "undotted domain"},
    {"a@@b.co", "two @"},
    {"a@b@c.co", "two @ apart"},
    {"a b@c.co", "space"},
    {"a\tb@c.co", "tab"},
    {"a\x7f@c.co", "DEL"},
    {"a@exa\x01mple.com", "control character in the domain"},
    {"<a@b.co>", "angle brackets"},
    {"a\"b@c.co", "a quote"},
    {"\"a b\"@example.com", "quoted local part"},
    {"\"ab\"@example.com", "quoted local part without a space"},
    {"a@[192.0.2.1]", "address literal"},
    {"a@[IPv6:2001:db8::1]", "IPv6 address literal"},
    {"a:b@example.com", "colon in the local part"},
    {"a@b:c.example", "colon in the domain"},
    {"a[b]@example.com", "brackets in the local part"},
    {"a@exa]mple.com", "bracket in the domain"},
    {"a,b@example.com", "comma"},
    {"a;b@example.com", "semicolon"},
    {"a\\b@example.com", "backslash"},
    {"a(b)@example.com", "parentheses"},
    {".a@example.com", "leading dot"},
    {"a.@example.com", "trailing dot"},
    {"a..b@example.com", "two dots"},
    {"ad\xe2\x84\xaa" "min@acme.test", "U+212A KELVIN SIGN in the local part (lower() gives k)"},
    {"\xc4\xb0nfo@example.com", "U+0130 in the local part (lower() gives i)"},
    {"jos\xc3\xa9@example.com", "non-ASCII local part"},
    {"\xef\xbd\x81" "dmin@example.com", "fullwidth a in the local part"},
    {"a@b..co", "empty label"},
    {"a@.b.co", "domain starts with a dot"},
    {"a@b.co.", "domain ends with a dot"},
    {"a@-b.example", "label starts with a hyphen"},
    {"a@b-.example", "label ends with a hyphen"},
    {"a@ab--cd.example", "hyphens in positions 3 and 4 (IDNA2008)"},
    {"a@my_host.example", "underscore in the domain"},
    {"a@xn--zz.example", "xn-- label that is not punycode"},
    {"a@xn--a.example", "xn-- label that decodes to ASCII"},
    {"a@1.2.3.4", "IPv4 address without brackets"},
    {"a@example.123", "all-digit top-level label"},
    {"a@x\xef\xbc\xa0y.example", "U+FF20 fullwidth @ maps to @ in the domain"},
    {"a@x\xef\xbc\x9ay.example", "U+FF1A fullwidth colon maps to : in the domain"},
    {"a@\xd9\xa1\xd9\xa2.example", "Arabic-Indic digits alone (Bidi rule)"},
    {"a@\xe2\x80\x8d.example", "a lone ZERO WIDTH JOINER (CONTEXTJ)"},
    {"a@\xff.example", "invalid UTF-8"},
    {"a@\xc3.example", "truncated UTF-8"},
    {"a@\xe2\x98\x83.example", "a symbol IDNA2008 disallows (U+2603; IDNA2003 took it)"},
};

/* A string of n copies of c, in a static buffer per call site. */
static char *
repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void
test_email_valid(void)
{
	char out[EMAIL_MAX + 1], again[EMAIL_MAX + 1];
	const char *why;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		why = NULL;
		if (!ok(email_normalize(valid[i].input, strlen(valid[i].input), out, &why) == 0,
		    "test-email: %s (%s)", valid[i].input, valid[i].what))
			printf("#   refused: %s\n", why ? why : "(no reason)");
		if (!ok(!strcmp(out, valid[i].canonical), "test-email: %s gives %s", valid[i].input,
		    valid[i].canonical))
			printf("#   got: \"%s\"\n", out);
		ok(email_normalize(out, strlen(out), again, &why) == 0 && !strcmp(again, out),
		    "test-email-idempotent: %s", valid[i].canonical);
	}
}

static void
test_email_invalid(void)
{
	char out[EMAIL_MAX + 1];
	const char *why;

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int rc;
		why = NULL;
		strcpy(out, "x");
		rc = email_normalize(invalid[i].input, strlen(invalid[i].input), out, &why);
		if (!ok(rc < 0 && why != NULL && out[0] == '\0', "test-email-bad: %s", invalid[i].what))
			printf("#   accepted as \"%s\"\n", out);
	}
	/* A NUL inside the length given is refused, not read as the end. */
	ok(email_normalize("a@b.co\0x", 8, out, &why) < 0, "test-email-bad-embedded-nul");
	ok(email_normalize("a@b.co", 0, out, &why) < 0, "test-email-bad-zero-length");
}

static void
test_email_lengths(void)
{
	char in[2 * EMAIL_INPUT_MAX], out[EMAIL_MAX + 1], l64[65], l65[66], l63[64], l61[62], l62[63];
	const char *why;

	/* Local part: 64 bytes, not 65. */
	snprintf(in, sizeof(in), "%s@example.com", repeat(l64, 'a', 64));
	ok(email_normalize(in, strlen(in), out, &why) == 0 && !strcmp(out, in),
	    "test-email-length: local part of 64 bytes");
	snprintf(in, sizeof(in), "%s@example.com", repeat(l65, 'a', 65));
	ok(email_normalize(in, strlen(in), out, &why) < 0, "test-email-bad-length: local part of 65 bytes");
	/* A label: 63 bytes, not 64. */
	snprintf(in, sizeof(in), "a@%s.example", repeat(l63, 'b', 63));
	ok(email_normalize(in, strlen(in), out, &why) == 0, "test-email-length: label of 63 bytes");
	snprintf(in, sizeof(in), "a@%sb.example", l63);
	ok(email_normalize(in, strlen(in), out, &why) < 0, "test-email-bad-length: label of 64 bytes");
	/* The whole address: 254 bytes (64 + 1 + 63.63.61), not 255. */
	snprintf(in, sizeof(in), "%s@%s.%s.%s", l64, l63, l63, repeat(l61, 'c', 61));
	is_int(strlen(in), 254, "test-email-length: the 254-byte case has 254 bytes");
	ok(email_normalize(in, strlen(in), out, &why) == 0 && !strcmp(out, in),
	    "test-email-length: address of 254 bytes");
	snprintf(in, sizeof(in), "%s@%s.%s.%s", l64, l63, l63, repeat(l62, 'c', 62));
	ok(email_normalize(in, strlen(in), out, &why) < 0, "test-email-bad-length: address of 255 bytes");
	/* A domain over 253 bytes, whatever the local part. */
	snprintf(in, sizeof(in), "a@%s.%s.%s.%s", l63, l63, l63, l61);
	ok(email_normalize(in, strlen(in), out, &why) < 0, "test-email-bad-length: domain of 253 bytes "
	    "and a local part (255 in all)");
	/* The limit is on the A-label: 57 "ü" (114 bytes of UTF-8) make one of
	 * 63 bytes, "xn--td" and 57 "a"; 58 make one of 64 (Python's idna agrees). */
	{
		char u[200] = "", want[100];
		for (int i = 0; i < 58; i++)
			strcat(u, "\xc3\xbc");
		snprintf(in, sizeof(in), "a@%s.example", u);
		ok(email_normalize(in, strlen(in), out, &why) < 0,
		    "test-email-bad-length: 58 ü make an A-label of 64 bytes");
		u[2 * 57] = '\0';
		snprintf(in, sizeof(in), "a@%s.example", u);
		snprintf(want, sizeof(want), "a@xn--td%s.example", repeat(l61, 'a', 57));
		ok(email_normalize(in, strlen(in), out, &why) == 0, "test-email-length: 57 ü make an A-label of 63 bytes");
		is_str(out, want, "test-email-length: the A-label of 57 ü");
	}
	/* Input beyond EMAIL_INPUT_MAX is refused unread, even if ignorable
	 * characters would shrink it. */
	{
		size_t n = 0;
		n += (size_t)snprintf(in, sizeof(in), "a@b");
		while (n + 2 < EMAIL_INPUT_MAX + 10) {
			memcpy(in + n, "\xc2\xad", 2); /* U+00AD, ignored by UTS 46 */
			n += 2;
		}
		memcpy(in + n, ".example", 9);
		n += 8;
		ok(email_normalize(in, n, out, &why) < 0, "test-email-bad-length: %zu bytes of input", n);
	}
}

/* The validators of validate.c use the rule: email_ok says yes or no. */
static void
test_email_validators(void)
{
	const char *why;

	ok(email_ok("user@Bücher.example", &why), "test-email-ok: IDN accepted");
	ok(!email_ok("ad\xe2\x84\xaa" "min@acme.test", &why), "test-email-ok-bad: Kelvin sign refused");
	ok(!email_ok("a:b@example.com", &why), "test-email-ok-bad: colon refused");
	{
		json_object *body = json_tokener_parse("{\"email\": \"Ada@B\\u00fccher.Example\"}"), *v;
		ok(json_object_object_get_ex(body, "email", &v) && valid_email(v, &why),
		    "test-valid-email: accepted");
		is_str(json_object_get_string(v), "Ada@xn--bcher-kva.example",
		    "test-valid-email: the body now holds the canonical form");
		json_object_put(body);
	}
}

int
main(void)
{
	test_email_valid();
	test_email_invalid();
	test_email_lengths();
	test_email_validators();
	return done_testing();
}
