/*
 * totp: time-based one-time passwords (RFC 6238 over RFC 4226's HOTP):
 * HMAC-SHA-1, 6 digits, 30-second steps from the Unix epoch; the secret
 * is 20 random bytes (160 bits), shown as RFC 4648 base32 without padding
 * (32 characters).  And the recovery codes: 16 characters of the same
 * base32 alphabet (80 bits), shown in four groups of four.
 *
 * Only the auth processes use the secret (src/privsep/authd.c); the code
 * checks compare in constant time and try each step of the window.
 */
#ifndef FINICOM_TOTP_H
#define FINICOM_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_BYTES 20
#define TOTP_SECRET_CHARS 32 /* base32 of 20 bytes, no padding */
#define TOTP_DIGITS 6
#define TOTP_PERIOD 30
#define TOTP_SKEW 1          /* steps accepted either side of now */
#define RECOVERY_CODES 10
#define RECOVERY_CHARS 16    /* normalized: lowercase base32 */
#define RECOVERY_SHOWN 19    /* "xxxx-xxxx-xxxx-xxxx" */

/* RFC 4648 base32 (uppercase, no padding).  out needs (8n + 4) / 5 + 1 bytes; returns the length. */
size_t base32_encode(const unsigned char *in, size_t n, char *out);
/* Decode (either case, no padding); the byte count or -1. */
long base32_decode(const char *in, unsigned char *out, size_t cap);

/* The HOTP value of key at counter step (0..999999). */
uint32_t totp_at(const unsigned char *key, size_t keylen, uint64_t step);

/* The time step of t (seconds since the epoch). */
uint64_t totp_step(uint64_t t);

/*
 * The step in [now - TOTP_SKEW, now + TOTP_SKEW] whose code is code (six
 * ASCII digits), every step tried whatever matches.  Returns it, or -1.
 */
int64_t totp_match(const unsigned char *key, size_t keylen, const char *code, uint64_t now);

/*
 * What a code a client sent is, once spaces and '-' are dropped: six
 * digits (TOTP: *norm holds them), or sixteen base32 characters (a
 * recovery code: *norm holds them lowercased).  norm needs 17 bytes.
 */
enum totp_kind { TOTP_KIND_NONE, TOTP_KIND_TOTP, TOTP_KIND_RECOVERY };
enum totp_kind totp_code_kind(const char *code, char norm[RECOVERY_CHARS + 1]);

/* A new recovery code as shown ("xxxx-xxxx-xxxx-xxxx"); -1 if the CSPRNG fails. */
int recovery_code_generate(char out[RECOVERY_SHOWN + 1]);

#endif
