/*
 * crypto: see crypto.h.
 */
#include "util/crypto.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
base64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64val(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;

	return p ? (int)(p - b64url) : -1;
}

long
base64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-canonical: leftover bits must be zero */
		return -1;
	return (long)o;
}

int
random_bytes(unsigned char *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int
token_generate(char out[TOKEN_CHARS + 1])
{
	unsigned char raw[TOKEN_BYTES];

	if (random_bytes(raw, sizeof(raw)) < 0)
		return -1;
	base64url_encode(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

bool
token_well_formed(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++)
		if (n >= TOKEN_CHARS || b64val(s[n]) < 0)
			return false;
	return n == TOKEN_CHARS;
}

void
sha256(const void *data, size_t n, unsigned char out[SHA256_BYTES])
{
	unsigned int len = 0;

	EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

void
sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char md[SHA256_BYTES];

	sha256(data, n, md);
	for (int i = 0; i < SHA256_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
sha256_bytea(const char *token, char out[2 + 64 + 1])
{
	out[0] = '\\';
	out[1] = 'x';
	sha256_hex(token, strlen(token), out + 2);
}

void
csrf_token_for(const char *session_token, char out[TOKEN_CHARS + 1])
{
	static const char label[] = "finicom-csrf-v1";
	unsigned char md[SHA256_BYTES];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, label, sizeof(label)); /* with its NUL: a separator */
	EVP_DigestUpdate(ctx, session_token, strlen(session_token));
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	base64url_encode(md, sizeof(md), out);
}

bool
secure_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n != strlen(b))
		return false;
	return CRYPTO_memcmp(a, b, n) == 0;
}
