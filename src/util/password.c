/*
 * password: see password.h.
 *
 * Facts about libargon2 (Debian 12: 0~20171227) this file relies on:
 *
 *  - argon2_ctx() takes its working memory (m KiB, 19 MiB here) from
 *    context->allocate_cbk when one is set, checks only that *memory is not
 *    NULL afterwards (the callback's return value is ignored), wipes the
 *    memory itself and then hands it to context->free_cbk.  Without the
 *    callbacks it uses malloc(), and glibc then keeps the 19 MiB: the first
 *    free() of an mmapped chunk raises malloc's mmap threshold above it
 *    (the dynamic threshold), so every later hash is carved from the heap
 *    and stays resident in the worker for good.  We give the memory our own
 *    mmap()/munmap(), so the pages go back to the kernel after every hash.
 *  - The callbacks exist only on argon2_context, not on the *_hash_encoded()
 *    and *_verify() conveniences, and the library's PHC string encoder and
 *    decoder are not exported.  So this file writes and reads the PHC string
 *    itself, exactly as libargon2's encoding.c does:
 *      $argon2id[$v=<u32>]$m=<u32>,t=<u32>,p=<u32>$<salt>$<hash>
 *    decimals without leading zeros, base64 of the standard alphabet without
 *    padding whose unused trailing bits must be zero, nothing after the
 *    hash, "v" absent meaning version 0x10.  The cost parameters themselves
 *    are checked by argon2_ctx(), as they are for argon2id_verify().
 *  - argon2_verify_ctx() hashes into context->out and compares it with the
 *    expected hash in constant time.
 */
#include "util/password.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <argon2.h>
#include <openssl/crypto.h>

#include "util/crypto.h"

#define T_COST 2
#define M_COST 19456 /* KiB = 19 MiB */
#define PARALLELISM 1
#define SALT_BYTES 16
#define HASH_BYTES 32

/*
 * argon2_context's allocator: fresh anonymous pages, populated in one go
 * (Argon2 writes every block anyway; one MAP_POPULATE measured a little
 * cheaper than faulting them in one by one).  Sets *memory to NULL when
 * there are none.
 */
static int
argon2_pages_get(uint8_t **memory, size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
	    -1, 0);

	if (p == MAP_FAILED) {
		*memory = NULL;
		return ARGON2_MEMORY_ALLOCATION_ERROR;
	}
	*memory = p;
	return ARGON2_OK;
}

/* argon2_context's deallocator: the (already wiped) pages go back to the kernel. */
static void
argon2_pages_put(uint8_t *memory, size_t bytes)
{
	if (memory != NULL)
		munmap(memory, bytes);
}

/*
 * A context for Argon2id with our allocator; the caller fills in the rest.
 * Callers have checked that password is at most ARGON2_MAX_PWD_LENGTH bytes.
 */
static argon2_context
context_new(const char *password, size_t len)
{
	return (argon2_context){
		.pwd = (uint8_t *)password, /* only written with ARGON2_FLAG_CLEAR_PASSWORD */
		.pwdlen = (uint32_t)len,
		.allocate_cbk = argon2_pages_get,
		.free_cbk = argon2_pages_put,
		.flags = ARGON2_DEFAULT_FLAGS,
	};
}

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 (standard alphabet, no padding) of in[0..n) at out; returns the end, NUL-terminated. */
static char *
b64_put(char *out, const unsigned char *in, size_t n)
{
	unsigned acc = 0, bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = b64_chars[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		*out++ = b64_chars[(acc << (6 - bits)) & 0x3f];
	*out = '\0';
	return out;
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode base64 at s up to the first character outside the alphabet into
 * out (cap bytes), length in *n.  Returns the first character not decoded,
 * or NULL when out is too small or the last character leaves bits over
 * (a length of 1 mod 4, or nonzero unused bits), as libargon2 does.
 */
static const char *
b64_get(const char *s, unsigned char *out, size_t cap, size_t *n)
{
	unsigned acc = 0, bits = 0;
	size_t len = 0;
	int d;

	for (; (d = b64_value((unsigned char)*s)) >= 0; s++) {
		acc = ((acc << 6) | (unsigned)d) & 0xfff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len >= cap)
				return NULL;
			out[len++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits > 4 || (acc & ((1u << bits) - 1)) != 0)
		return NULL;
	*n = len;
	return s;
}

/* A decimal uint32 without leading zeros at s into *v; the end, or NULL. */
static const char *
u32_get(const char *s, uint32_t *v)
{
	const char *start = s;
	uint64_t acc = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		acc = acc * 10 + (uint64_t)(*s - '0');
		if (acc > UINT32_MAX)
			return NULL;
	}
	if (s == start || (*start == '0' && s != start + 1))
		return NULL;
	*v = (uint32_t)acc;
	return s;
}

/* s after prefix p, or NULL when s does not start with it. */
static const char *
skip(const char *s, const char *p)
{
	size_t n = strlen(p);

	return s != NULL && strncmp(s, p, n) == 0 ? s + n : NULL;
}

/*
 * Read an encoded Argon2id hash into ctx: version and costs, the salt into
 * salt and the expected hash into want (each cap bytes).  Returns 0, or -1
 * when the string is not one libargon2's decoder would accept.
 */
static int
phc_decode(const char *s, argon2_context *ctx, unsigned char *salt, unsigned char *want,
    size_t cap)
{
	const char *p;
	size_t n;

	s = skip(s, "$argon2id");
	ctx->version = ARGON2_VERSION_10;
	if ((p = skip(s, "$v=")) != NULL && (s = u32_get(p, &ctx->version)) == NULL)
		return -1;
	if ((s = skip(s, "$m=")) == NULL || (s = u32_get(s, &ctx->m_cost)) == NULL ||
	    (s = skip(s, ",t=")) == NULL || (s = u32_get(s, &ctx->t_cost)) == NULL ||
	    (s = skip(s, ",p=")) == NULL || (s = u32_get(s, &ctx->lanes)) == NULL)
		return -1;
	ctx->threads = ctx->lanes;
	if ((s = skip(s, "$")) == NULL || (s = b64_get(s, salt, cap, &n)) == NULL)
		return -1;
	ctx->salt = salt;
	ctx->saltlen = (uint32_t)n;
	if ((s = skip(s, "$")) == NULL || (s = b64_get(s, want, cap, &n)) == NULL || *s != '\0')
		return -1;
	ctx->outlen = (uint32_t)n;
	return 0;
}

int
password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	unsigned char salt[SALT_BYTES], hash[HASH_BYTES];
	size_t len = strlen(password);
	argon2_context ctx = context_new(password, len);
	char *p;
	int rc;

	if (len > ARGON2_MAX_PWD_LENGTH || random_bytes(salt, sizeof(salt)) < 0)
		return -1;
	ctx.out = hash;
	ctx.outlen = sizeof(hash);
	ctx.salt = salt;
	ctx.saltlen = sizeof(salt);
	ctx.t_cost = T_COST;
	ctx.m_cost = M_COST;
	ctx.lanes = ctx.threads = PARALLELISM;
	ctx.version = ARGON2_VERSION_NUMBER;
	rc = argon2id_ctx(&ctx);
	if (rc == ARGON2_OK) {
		/* 31 + 22 + 1 + 43 + 1 bytes: fits PASSWORD_HASH_MAX. */
		p = out + snprintf(out, PASSWORD_HASH_MAX, "$argon2id$v=%d$m=%d,t=%d,p=%d$",
		    ARGON2_VERSION_NUMBER, M_COST, T_COST, PARALLELISM);
		p = b64_put(p, salt, sizeof(salt));
		*p++ = '$';
		b64_put(p, hash, sizeof(hash));
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc == ARGON2_OK ? 0 : -1;
}

/*
 * libargon2's argon2id_verify(), with our allocator: 1 when password
 * matches the encoded hash, 0 when it does not or the string is malformed,
 * -1 when the hash could not be computed (no memory).
 */
static int
verify_encoded(const char *encoded, const char *password)
{
	size_t cap = strlen(encoded), len = strlen(password);
	unsigned char *buf;
	argon2_context ctx = context_new(password, len);
	int rc = ARGON2_DECODING_FAIL;

	if (len > ARGON2_MAX_PWD_LENGTH)
		return 0;
	if ((buf = malloc(3 * (cap ? cap : 1))) == NULL)
		return -1;
	if (phc_decode(encoded, &ctx, buf, buf + cap, cap) == 0) {
		ctx.out = buf + 2 * cap;
		rc = argon2id_verify_ctx(&ctx, (const char *)(buf + cap));
	}
	OPENSSL_cleanse(buf, 3 * (cap ? cap : 1));
	free(buf);
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		return -1;
	return rc == ARGON2_OK;
}

/* A hash of a password nobody knows, made once per process on first use. */
static const char *
dummy_hash(void)
{
	static char hash[PASSWORD_HASH_MAX];
	char secret[TOKEN_CHARS + 1];

	if (hash[0] == '\0') {
		if (token_generate(secret) < 0 || password_hash(secret, hash) < 0)
			snprintf(hash, sizeof(hash), "$argon2id$v=19$m=%d,t=%d,p=%d$"
			    "c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			    M_COST, T_COST, PARALLELISM);
	}
	return hash;
}

void
password_warm(void)
{
	(void)dummy_hash();
}

bool
password_verify(const char *hash, const char *password)
{
	bool known = hash != NULL && strncmp(hash, "$argon2id$", 10) == 0;
	int rc = verify_encoded(known ? hash : dummy_hash(), password);

	return known && rc == 1;
}

bool
password_needs_rehash(const char *hash)
{
	char want[64];

	snprintf(want, sizeof(want), "$argon2id$v=%d$m=%d,t=%d,p=%d$", ARGON2_VERSION_NUMBER, M_COST,
	    T_COST, PARALLELISM);
	return strncmp(hash, want, strlen(want)) != 0;
}
