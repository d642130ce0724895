/*
 * totp: RFC 6238 codes and recovery codes.  See totp.h.
 */
#include "util/totp.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/crypto.h"

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t
base32_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	unsigned buf = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = B32[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = B32[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	return o;
}

static int
b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

long
base32_decode(const char *in, unsigned char *out, size_t cap)
{
	unsigned buf = 0;
	int bits = 0;
	size_t o = 0;

	for (; *in; in++) {
		int v = b32_value(*in);
		if (v < 0)
			return -1;
		buf = (buf << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(buf >> (bits - 8));
			bits -= 8;
		}
	}
	return (long)o;
}

uint32_t
totp_at(const unsigned char *key, size_t keylen, uint64_t step)
{
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	uint32_t bin;
	int off;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (unsigned char)(step & 0xff);
	if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac, &maclen) == NULL || maclen < 20)
		return UINT32_MAX; /* never a six-digit value: matches nothing */
	off = mac[maclen - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	    ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	OPENSSL_cleanse(mac, sizeof(mac));
	return bin % 1000000u;
}

uint64_t
totp_step(uint64_t t)
{
	return t / TOTP_PERIOD;
}

int64_t
totp_match(const unsigned char *key, size_t keylen, const char *code, uint64_t now)
{
	int64_t found = -1;
	uint32_t want = 0;

	if (strlen(code) != TOTP_DIGITS)
		return -1;
	for (int i = 0; i < TOTP_DIGITS; i++) {
		if (code[i] < '0' || code[i] > '9')
			return -1;
		want = want * 10 + (uint32_t)(code[i] - '0');
	}
	/* Every step of the window, whatever matched: the time does not tell which. */
	for (int d = -TOTP_SKEW; d <= TOTP_SKEW; d++) {
		uint64_t step = now + (uint64_t)(int64_t)d;
		uint32_t diff = totp_at(key, keylen, step) ^ want;
		/* diff == 0 without a branch on the code's value */
		uint32_t same = ((diff | (0u - diff)) >> 31) ^ 1u;
		found = same ? (int64_t)step : found;
	}
	return found;
}

enum totp_kind
totp_code_kind(const char *code, char norm[RECOVERY_CHARS + 1])
{
	size_t n = 0;
	bool digits = true;

	for (const char *p = code; *p; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (n >= RECOVERY_CHARS || (b32_value(*p) < 0 && !(*p >= '0' && *p <= '9')))
			return TOTP_KIND_NONE;
		if (*p < '0' || *p > '9')
			digits = false;
		norm[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	}
	norm[n] = '\0';
	if (digits && n == TOTP_DIGITS)
		return TOTP_KIND_TOTP;
	if (n == RECOVERY_CHARS) {
		for (size_t i = 0; i < n; i++)
			if (b32_value(norm[i]) < 0)
				return TOTP_KIND_NONE;
		return TOTP_KIND_RECOVERY;
	}
	return TOTP_KIND_NONE;
}

int
recovery_code_generate(char out[RECOVERY_SHOWN + 1])
{
	unsigned char raw[10];
	char b32[17];
	size_t o = 0;

	if (random_bytes(raw, sizeof(raw)) < 0)
		return -1;
	base32_encode(raw, sizeof(raw), b32);
	OPENSSL_cleanse(raw, sizeof(raw));
	for (int i = 0; i < RECOVERY_CHARS; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = (char)(b32[i] >= 'A' && b32[i] <= 'Z' ? b32[i] - 'A' + 'a' : b32[i]);
	}
	out[o] = '\0';
	OPENSSL_cleanse(b32, sizeof(b32));
	return 0;
}
