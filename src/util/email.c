/*
 * email: the email rule and the canonical form.  See email.h.
 *
 * libidn2 facts this file relies on (checked against libidn2 2.3.3,
 * Debian 12):
 *  - idn2_to_ascii_8z() with IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL applies
 *    UTS #46 non-transitional processing (the mapping browsers use: case
 *    folded, "ß" kept rather than turned into "ss", U+212A mapped to "k",
 *    ignorable characters such as U+00AD dropped, U+3002 and U+FF0E read as
 *    dots), then the IDNA2008 checks (Bidi, CONTEXTJ, no hyphen first,
 *    last or in positions 3 and 4, labels of at most 63 bytes); an "xn--"
 *    label of the input is decoded and must be a valid A-label;
 *  - ASCII characters outside letters, digits and hyphens go through
 *    unchanged without IDN2_USE_STD3_ASCII_RULES, and empty labels ("a..b",
 *    a trailing dot) too: this file checks the input's ASCII bytes before
 *    and every label of the output after;
 *  - with IDN2_USE_STD3_ASCII_RULES, 2.3.3 silently deletes such characters
 *    ("a_b" gives "ab", "[192.0.2.1]" gives "192.0.2.1"), which would turn
 *    one domain into another: that flag is never used;
 *  - the output is malloc'd and freed with idn2_free().
 * IDNA2003 (Python's encodings.idna) differs: it maps "ß" to "ss" and
 * allows symbols IDNA2008 disallows; addresses are converted by IDNA2008.
 */
#include "util/email.h"

#include <stdbool.h>
#include <string.h>

#include <idn2.h>

static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* The local part l[0..n): a dot-atom of ASCII atext; 0, or -1 with *why. */
static int
check_local(const char *l, size_t n, const char **why)
{
	if (n > 0 && l[0] == '"') {
		*why = "must not have a quoted local part";
		return -1;
	}
	if (n == 0 || n > EMAIL_LOCAL_MAX) {
		*why = "must have a local part (before the @) of 1 to 64 bytes";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)l[i] >= 0x80) {
			*why = "must have an ASCII local part (before the @)";
			return -1;
		}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c == '.' ? i == 0 || i == n - 1 || l[i - 1] == '.' : !is_atext(c)) {
			*why = "must have a local part of letters, digits and !#$%&'*+-/=?^_`{|}~ with "
			    "single dots between them";
			return -1;
		}
	}
	return 0;
}

/*
 * The ASCII form d (made lowercase here): labels of 1 to 63 letters,
 * digits and hyphens, no hyphen first or last, at least two labels, the
 * last not all digits, at most EMAIL_DOMAIN_MAX bytes.
 */
static int
check_ascii_domain(char *d, const char **why)
{
	size_t n = strlen(d), start = 0, labels = 0;
	bool digits_only = true;

	if (n > EMAIL_DOMAIN_MAX) {
		*why = "must have a domain of at most 253 bytes (as ASCII, after IDN conversion)";
		return -1;
	}
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.' || c == '\0') {
			size_t len = i - start;
			if (len == 0 || len > 63 || d[start] == '-' || d[i - 1] == '-') {
				*why = "must have a domain of dotted labels of 1 to 63 letters, digits or "
				    "hyphens (no hyphen first or last)";
				return -1;
			}
			labels++;
			if (c == '\0')
				break;
			start = i + 1;
			digits_only = true;
			continue;
		}
		if (!is_ldh(c)) {
			*why = "must have a domain of letters, digits, hyphens and dots";
			return -1;
		}
		if (c >= 'A' && c <= 'Z')
			d[i] = (char)(c - 'A' + 'a');
		if (c < '0' || c > '9')
			digits_only = false;
	}
	if (labels < 2) {
		*why = "must have a dotted domain (name.tld)";
		return -1;
	}
	if (digits_only) {
		*why = "must have a domain name, not an IP address, after the @";
		return -1;
	}
	return 0;
}

int
email_normalize(const char *in, size_t len, char out[EMAIL_MAX + 1], const char **why)
{
	char domain[EMAIL_INPUT_MAX + 1];
	const char *at = NULL;
	size_t local_len, domain_len;
	bool ascii = true;
	char *ace = NULL;
	int rc;

	out[0] = '\0';
	if (len == 0 || len > EMAIL_INPUT_MAX) {
		*why = "must be an email address of at most 254 bytes";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '\0') {
			*why = "must not contain NUL characters";
			return -1;
		}
		if (c <= ' ' || c == 0x7f) {
			*why = "must not contain spaces or control characters";
			return -1;
		}
		if (c == '@' && at == NULL)
			at = in + i;
	}
	if (len > 0 && in[0] == '"') {
		*why = "must not have a quoted local part";
		return -1;
	}
	if (at == NULL || memchr(at + 1, '@', len - (size_t)(at + 1 - in)) != NULL) {
		*why = "must be an email address with one @";
		return -1;
	}
	local_len = (size_t)(at - in);
	if (check_local(in, local_len, why) < 0)
		return -1;

	domain_len = len - local_len - 1;
	if (domain_len > 0 && at[1] == '[') {
		*why = "must not have an address literal ([...]) as its domain";
		return -1;
	}
	if (domain_len == 0) {
		*why = "must have a domain after the @";
		return -1;
	}
	/* ASCII bytes of the domain are letters, digits, hyphens and dots
	 * before libidn2 sees them (it would let ':' or '_' through). */
	for (size_t i = 0; i < domain_len; i++) {
		unsigned char c = (unsigned char)at[1 + i];
		if (c >= 0x80)
			ascii = false;
		else if (!is_ldh(c) && c != '.') {
			*why = "must have a domain of letters, digits, hyphens and dots";
			return -1;
		}
	}
	memcpy(domain, at + 1, domain_len);
	domain[domain_len] = '\0';
	rc = idn2_to_ascii_8z(domain, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		switch (rc) {
		case IDN2_TOO_BIG_LABEL:
		case IDN2_TOO_BIG_DOMAIN:
			*why = "must have a domain of at most 253 bytes in labels of at most 63 (as ASCII)";
			break;
		case IDN2_ENCODING_ERROR:
			*why = "must be valid UTF-8";
			break;
		default:
			*why = ascii ? "must have a valid domain name (labels of letters, digits and hyphens; "
			    "an xn-- label must be a valid A-label)" :
			    "must have a valid internationalized domain name (IDNA2008)";
			break;
		}
		return -1;
	}
	if (strlen(ace) > EMAIL_DOMAIN_MAX) {
		idn2_free(ace);
		*why = "must have a domain of at most 253 bytes (as ASCII, after IDN conversion)";
		return -1;
	}
	memcpy(domain, ace, strlen(ace) + 1);
	idn2_free(ace);
	if (check_ascii_domain(domain, why) < 0)
		return -1;
	domain_len = strlen(domain);
	if (local_len + 1 + domain_len > EMAIL_MAX) {
		*why = "must be an email address of at most 254 bytes (with the domain as ASCII)";
		return -1;
	}
	memcpy(out, in, local_len);
	out[local_len] = '@';
	memcpy(out + local_len + 1, domain, domain_len + 1);
	return 0;
}
