/*
 * email: the one rule for email addresses, shared by finicomd (signup,
 * login, invitations, billing_email), finicomctl and finicom-mailer, so
 * that an address the API accepts is one the mailer can send to.
 *
 * Words:
 *   local part   what comes before the '@': an RFC 5321 dot-atom of ASCII
 *                atext (letters, digits and ! # $ % & ' * + - / = ? ^ _ `
 *                { | } ~) with single dots between atoms, 1 to 64 bytes.
 *                Quoted local parts ("a b"@x) and anything non-ASCII are
 *                refused, so no Unicode look-alike (U+212A KELVIN SIGN,
 *                U+0130) can fold onto an ASCII address.  Its case is kept
 *                as written (RFC 5321 leaves the local part's case to the
 *                receiving server).
 *   domain       what comes after the '@': a domain name of at least two
 *                labels, ASCII or internationalized, stored in its ASCII
 *                form: each Unicode label converted by libidn2 to its
 *                A-label ("bücher" -> "xn--bcher-kva"), every ASCII letter
 *                lowercased.  Each label 1 to 63 letters, digits and
 *                hyphens, not starting or ending with a hyphen; the whole
 *                domain at most 253 bytes; the last label not all digits.
 *                Address literals ([192.0.2.1], [IPv6:...]) are refused.
 *   canonical    the stored and sent form: local part as written, '@', the
 *                domain as above; at most 254 bytes, printable ASCII only.
 *                Canonical forms are compared with ASCII letters lowercased
 *                and nothing else (finicom.ascii_lower in the database).
 *
 * Normalizing a canonical address gives it back unchanged.
 */
#ifndef FINICOM_UTIL_EMAIL_H
#define FINICOM_UTIL_EMAIL_H

#include <stddef.h>

#define EMAIL_MAX 254        /* bytes of a canonical address */
#define EMAIL_LOCAL_MAX 64   /* bytes of its local part */
#define EMAIL_DOMAIN_MAX 253 /* bytes of its domain (ASCII form) */
#define EMAIL_INPUT_MAX 1024 /* bytes of input looked at: a Unicode domain may be longer than its A-labels */

/*
 * Check the UTF-8 address in[0..len) (len bytes, not necessarily
 * NUL-terminated) against the rule and write its canonical form, with a
 * NUL, to out.  Returns 0, or -1 with *why set to a reason that reads after
 * a field's name ("must have an ASCII local part ..."); out is then empty.
 */
int email_normalize(const char *in, size_t len, char out[EMAIL_MAX + 1], const char **why);

#endif
