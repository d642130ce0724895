/*
 * crypto: tokens, hashes and comparisons, all from OpenSSL.
 *
 * A "token" is 32 bytes from OpenSSL's CSPRNG written as base64url without
 * padding (43 characters).  Only its SHA-256 is ever stored.  The CSRF token
 * of a session is derived from the session token (SHA-256 of a fixed label
 * and the token), so it needs no storage and cannot be computed by anyone
 * who does not hold the HttpOnly session cookie.
 */
#ifndef FINICOM_CRYPTO_H
#define FINICOM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_BYTES 32
#define TOKEN_CHARS 43 /* base64url of 32 bytes, no padding */
#define SHA256_BYTES 32

/* base64url without padding.  out needs 4*ceil(n/3)+1 bytes; returns its length. */
size_t base64url_encode(const unsigned char *in, size_t n, char *out);
/* Decode; returns the byte count or -1 on a bad character or length. */
long base64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

/* Fill buf with n random bytes; -1 if the CSPRNG fails. */
int random_bytes(unsigned char *buf, size_t n);
/* A new token (TOKEN_CHARS + NUL) in out; -1 if the CSPRNG fails. */
int token_generate(char out[TOKEN_CHARS + 1]);
/* True when s is shaped like a token: exactly TOKEN_CHARS base64url characters. */
bool token_well_formed(const char *s);

void sha256(const void *data, size_t n, unsigned char out[SHA256_BYTES]);
/* SHA-256 as 64 lowercase hex characters + NUL. */
void sha256_hex(const void *data, size_t n, char out[65]);
/* "\\x" + hex, the bytea text form PostgreSQL accepts as a parameter. */
void sha256_bytea(const char *token, char out[2 + 64 + 1]);

/* The CSRF token bound to a session token. */
void csrf_token_for(const char *session_token, char out[TOKEN_CHARS + 1]);

/* Constant-time equality of two NUL-terminated strings (length may leak). */
bool secure_equal(const char *a, const char *b);

#endif
