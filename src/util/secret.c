/*
 * secret: AES-256-GCM for the secret values of configs.  See secret.h for
 * the words (secret key, path, AAD, stored form, key file, key id).
 */
#include "util/secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/crypto.h"

#define NONCE_BYTES 12
#define TAG_BYTES 16
#define PLAIN_MAX_BYTES (1024 * 1024)

struct key_slot {
	bool loaded;
	unsigned char key[SECRET_KEY_BYTES];
	char id[SECRET_KEY_ID_CHARS + 1];
};

/* The current key (encrypts and decrypts) and the others (decrypt only). */
static struct key_slot current;
static struct key_slot others[SECRET_OTHER_KEYS_MAX];

void
secret_key_id_of(const unsigned char key[SECRET_KEY_BYTES], char out[SECRET_KEY_ID_CHARS + 1])
{
	char hex[65];

	sha256_hex(key, SECRET_KEY_BYTES, hex);
	memcpy(out, hex, SECRET_KEY_ID_CHARS);
	out[SECRET_KEY_ID_CHARS] = '\0';
}

void
secret_use_key(const unsigned char key[SECRET_KEY_BYTES])
{
	memcpy(current.key, key, SECRET_KEY_BYTES);
	secret_key_id_of(key, current.id);
	current.loaded = true;
}

void
secret_forget_key(void)
{
	OPENSSL_cleanse(current.key, sizeof(current.key));
	current.id[0] = '\0';
	current.loaded = false;
	secret_forget_other_keys();
}

void
secret_forget_other_keys(void)
{
	for (size_t i = 0; i < SECRET_OTHER_KEYS_MAX; i++) {
		OPENSSL_cleanse(others[i].key, sizeof(others[i].key));
		others[i].id[0] = '\0';
		others[i].loaded = false;
	}
}

/* The loaded key (current or other) whose id is id, or NULL. */
static const struct key_slot *
key_by_id(const char *id)
{
	if (current.loaded && !strcmp(current.id, id))
		return &current;
	for (size_t i = 0; i < SECRET_OTHER_KEYS_MAX; i++)
		if (others[i].loaded && !strcmp(others[i].id, id))
			return &others[i];
	return NULL;
}

const char *
secret_key_id(void)
{
	return current.loaded ? current.id : NULL;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Read and check the key file at path into key; 0, or -1 with a message. */
static int
read_key_file(const char *path, unsigned char key[SECRET_KEY_BYTES], char *err, size_t errlen)
{
	char text[2 * SECRET_KEY_BYTES + 2];
	struct stat st;
	ssize_t got;
	int fd, rc = -1;

	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "secret_key_file is not set: create a key with "
		    "\"finicomctl gen-key FILE\" and name FILE in secret_key_file");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "could not open secret key file \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "could not stat secret key file \"%s\": %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret key file \"%s\" is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
		    "secret key file \"%s\" has mode %04o: it must not be accessible by group or "
		    "others (chmod 600)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	got = read(fd, text, sizeof(text));
	if (got < 0) {
		snprintf(err, errlen, "could not read secret key file \"%s\": %s", path,
		    strerror(errno));
		goto out;
	}
	if (got == (ssize_t)sizeof(text) - 1 && text[got - 1] == '\n')
		got--;
	if (got != 2 * SECRET_KEY_BYTES) {
		snprintf(err, errlen, "secret key file \"%s\" must hold 64 hexadecimal characters "
		    "(finicomctl gen-key writes one)", path);
		goto out;
	}
	for (size_t i = 0; i < SECRET_KEY_BYTES; i++) {
		int hi = hex_value((unsigned char)text[2 * i]);
		int lo = hex_value((unsigned char)text[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "secret key file \"%s\" must hold 64 hexadecimal "
			    "characters (finicomctl gen-key writes one)", path);
			goto out;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	rc = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	close(fd);
	return rc;
}

int
secret_load_key(const char *path, char *err, size_t errlen)
{
	unsigned char key[SECRET_KEY_BYTES];
	int rc = read_key_file(path, key, err, errlen);

	if (rc == 0)
		secret_use_key(key);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
secret_load_other_keys(const char *paths, char *err, size_t errlen)
{
	struct key_slot loaded[SECRET_OTHER_KEYS_MAX];
	size_t n = 0;
	const char *p = paths ? paths : "";
	int rc = -1;

	memset(loaded, 0, sizeof(loaded));
	while (*p) {
		char path[1024];
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0)
			break;
		if (len >= sizeof(path)) {
			snprintf(err, errlen, "a path in secret_decrypt_key_files is too long");
			goto out;
		}
		if (n == SECRET_OTHER_KEYS_MAX) {
			snprintf(err, errlen, "secret_decrypt_key_files names more than %d files",
			    SECRET_OTHER_KEYS_MAX);
			goto out;
		}
		memcpy(path, p, len);
		path[len] = '\0';
		p += len;
		if (read_key_file(path, loaded[n].key, err, errlen) < 0)
			goto out;
		secret_key_id_of(loaded[n].key, loaded[n].id);
		loaded[n].loaded = true;
		n++;
	}
	secret_forget_other_keys();
	memcpy(others, loaded, sizeof(others));
	rc = 0;
out:
	OPENSSL_cleanse(loaded, sizeof(loaded));
	return rc;
}

size_t
secret_other_key_ids(const char *ids[SECRET_OTHER_KEYS_MAX])
{
	size_t n = 0;

	for (size_t i = 0; i < SECRET_OTHER_KEYS_MAX; i++)
		if (others[i].loaded)
			ids[n++] = others[i].id;
	return n;
}

bool
secret_stored_key_id(const char *stored, char out[SECRET_KEY_ID_CHARS + 1])
{
	const char *p;

	if (!secret_is_ciphertext(stored))
		return false;
	p = stored + strlen(SECRET_PREFIX);
	if (strlen(p) < SECRET_KEY_ID_CHARS + 1 || p[SECRET_KEY_ID_CHARS] != ':')
		return false;
	memcpy(out, p, SECRET_KEY_ID_CHARS);
	out[SECRET_KEY_ID_CHARS] = '\0';
	return true;
}

/*
 * The secret-name rule (the same as finicom.config_mask in
 * sql/0014_secret_names.sql): the name, with '_' and '-' dropped and ASCII
 * letters lowercased (so camelCase boundaries do not count), contains one of
 * these words.  Bytes outside ASCII are compared as they are.
 */
static const char *const secret_words[] = {
	"password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
	"privatekey", "credential",
};

bool
secret_name(const char *name)
{
	size_t len = name ? strlen(name) : 0, n = 0;
	char *folded;
	bool found = false;

	if (len == 0)
		return false;
	folded = malloc(len + 1);
	if (folded == NULL)
		return true; /* out of memory: hide rather than show */
	for (const char *p = name; *p; p++) {
		if (*p == '_' || *p == '-')
			continue;
		folded[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
	}
	folded[n] = '\0';
	for (size_t i = 0; !found && i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
		found = strstr(folded, secret_words[i]) != NULL;
	free(folded);
	return found;
}

bool
secret_url_password(const char *s, size_t *start, size_t *len)
{
	const char *p = s, *auth, *end, *at = NULL, *colon;

	if (s == NULL || !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		return false;
	for (p++; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    (*p >= '0' && *p <= '9') || *p == '+' || *p == '.' || *p == '-'; p++)
		;
	if (strncmp(p, "://", 3) != 0)
		return false;
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *q = auth; q < end; q++)
		if (*q == '@')
			at = q; /* the userinfo ends at the last '@' of the authority */
	if (at == NULL)
		return false;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL || colon + 1 == at)
		return false; /* no password, or an empty one: nothing to hide */
	*start = (size_t)(colon + 1 - s);
	*len = (size_t)(at - colon - 1);
	return true;
}

char *
secret_url_mask(const char *s)
{
	size_t start, len, n;
	char *out;

	if (!secret_url_password(s, &start, &len))
		return NULL;
	n = strlen(s) - len + strlen(SECRET_MASK);
	out = malloc(n + 1);
	if (out != NULL)
		snprintf(out, n + 1, "%.*s" SECRET_MASK "%s", (int)start, s, s + start + len);
	return out;
}

bool
secret_is_ciphertext(const char *s)
{
	return s != NULL && strncmp(s, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0;
}

/* "enc:v1:<key id>:" + aad, the AAD that GCM authenticates (malloc'd). */
static char *
full_aad(const char *key_id, const char *aad, size_t *len)
{
	size_t n = strlen(SECRET_PREFIX) + strlen(key_id) + 1 + strlen(aad);
	char *s = malloc(n + 1);

	if (s != NULL)
		snprintf(s, n + 1, "%s%s:%s", SECRET_PREFIX, key_id, aad);
	*len = n;
	return s;
}

char *
secret_encrypt(const void *plain, size_t n, const char *aad)
{
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *raw = NULL;
	char *out = NULL, *ad = NULL;
	size_t raw_len = NONCE_BYTES + n + TAG_BYTES, ad_len, head;
	int len, fin;

	if (!current.loaded || n > PLAIN_MAX_BYTES || aad == NULL)
		return NULL;
	raw = malloc(raw_len);
	ad = full_aad(current.id, aad, &ad_len);
	c = EVP_CIPHER_CTX_new();
	if (raw == NULL || ad == NULL || c == NULL || random_bytes(raw, NONCE_BYTES) < 0 ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, current.key, raw) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)ad, (int)ad_len) != 1 ||
	    EVP_EncryptUpdate(c, raw + NONCE_BYTES, &len, plain, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(c, raw + NONCE_BYTES + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, raw + NONCE_BYTES + n) != 1)
		goto out;
	head = strlen(SECRET_PREFIX) + SECRET_KEY_ID_CHARS + 1;
	out = malloc(head + 4 * ((raw_len + 2) / 3) + 1);
	if (out == NULL)
		goto out;
	snprintf(out, head + 1, "%s%s:", SECRET_PREFIX, current.id);
	base64url_encode(raw, raw_len, out + head);
out:
	EVP_CIPHER_CTX_free(c);
	if (raw != NULL)
		OPENSSL_cleanse(raw, raw_len);
	free(raw);
	free(ad);
	return out;
}

char *
secret_decrypt(const char *stored, const char *aad, size_t *n)
{
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *raw = NULL;
	char *plain = NULL, *ad = NULL, key_id[SECRET_KEY_ID_CHARS + 1];
	const struct key_slot *slot;
	const char *p;
	size_t ad_len, b64_len;
	long raw_len;
	int len, fin, ok = 0;

	if (aad == NULL || !secret_stored_key_id(stored, key_id))
		return NULL;
	slot = key_by_id(key_id);
	if (slot == NULL)
		return NULL; /* a key that is not loaded (neither current nor other) */
	p = stored + strlen(SECRET_PREFIX) + SECRET_KEY_ID_CHARS + 1;
	b64_len = strlen(p);
	raw = malloc(b64_len * 3 / 4 + 3);
	if (raw == NULL)
		return NULL;
	raw_len = base64url_decode(p, b64_len, raw, b64_len * 3 / 4 + 3);
	if (raw_len < NONCE_BYTES + TAG_BYTES)
		goto out;
	*n = (size_t)raw_len - NONCE_BYTES - TAG_BYTES;
	plain = malloc(*n + 1);
	ad = full_aad(key_id, aad, &ad_len);
	c = EVP_CIPHER_CTX_new();
	if (plain == NULL || ad == NULL || c == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, slot->key, raw) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)ad, (int)ad_len) != 1 ||
	    EVP_DecryptUpdate(c, (unsigned char *)plain, &len, raw + NONCE_BYTES, (int)*n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, raw + NONCE_BYTES + *n) != 1 ||
	    EVP_DecryptFinal_ex(c, (unsigned char *)plain + len, &fin) != 1)
		goto out;
	plain[*n] = '\0';
	ok = 1;
out:
	EVP_CIPHER_CTX_free(c);
	free(raw);
	free(ad);
	if (!ok && plain != NULL) {
		OPENSSL_cleanse(plain, *n + 1);
		free(plain);
		plain = NULL;
	}
	return plain;
}

void
config_mask(json_object *v)
{
	if (json_object_is_type(v, json_type_string)) {
		char *masked = secret_url_mask(json_object_get_string(v));
		if (masked != NULL) {
			json_object_set_string(v, masked);
			free(masked);
		}
		return;
	}
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			config_mask(json_object_array_get_idx(v, i));
		return;
	}
	if (!json_object_is_type(v, json_type_object))
		return;
	json_object_object_foreach(v, key, val) {
		if (secret_name(key)) {
			if (val != NULL && !json_object_is_type(val, json_type_null))
				json_object_object_add(v, key, json_object_new_string(SECRET_MASK));
		} else {
			config_mask(val);
		}
	}
}

/*
 * What config_merge_for_patch carries down the walk.  The path grows as
 * the walk needs: a config's keys are as long as its 16 KiB allow, at any
 * depth (a fixed buffer here once refused a config whose keys made a path
 * of 4 KiB, secrets or not).
 */
struct seal {
	const char *aad_prefix;
	char *path; /* the JSON Pointer of the member being looked at (malloc'd) */
	size_t len, cap;
	char *err;
	size_t errlen;
};

/* Append "/" and the escaped token to the path; -1 when out of memory. */
static int
path_push(struct seal *s, const char *token)
{
	size_t len = s->len, need = len + 1 + 2 * strlen(token) + 1;

	if (need > s->cap) {
		size_t cap = need > 2 * s->cap ? need : 2 * s->cap;
		char *bigger = realloc(s->path, cap);
		if (bigger == NULL)
			return -1;
		s->path = bigger;
		s->cap = cap;
	}
	s->path[len++] = '/';
	for (const char *p = token; *p; p++) {
		const char *put = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
		size_t n = put ? 2 : 1;
		memcpy(s->path + len, put ? put : p, n);
		len += n;
	}
	s->path[len] = '\0';
	s->len = len;
	return 0;
}

/* The stored value at the same place: the stored container's member or element. */
static json_object *
stored_member(json_object *stored, const char *key, size_t idx)
{
	json_object *v = NULL;

	if (key != NULL && json_object_is_type(stored, json_type_object))
		json_object_object_get_ex(stored, key, &v);
	else if (key == NULL && json_object_is_type(stored, json_type_array) &&
	    idx < json_object_array_length(stored))
		v = json_object_array_get_idx(stored, idx);
	return v;
}

/* The stored form of n bytes at s->path (malloc'd); NULL after a message, *fault set. */
static char *
seal_bytes(struct seal *s, const char *plain, size_t n, bool *fault)
{
	size_t aad_len = strlen(s->aad_prefix) + s->len;
	char *aad = malloc(aad_len + 1), *enc;

	*fault = true;
	if (aad == NULL) {
		snprintf(s->err, s->errlen, "out of memory");
		return NULL;
	}
	snprintf(aad, aad_len + 1, "%s%s", s->aad_prefix, s->path);
	enc = secret_encrypt(plain, n, aad);
	free(aad);
	if (enc == NULL) {
		snprintf(s->err, s->errlen, "could not encrypt a secret value%s",
		    secret_key_id() ? "" : ": no secret key is loaded");
		return NULL;
	}
	*fault = false;
	return enc;
}

/*
 * A string value that is a URL with a password (scheme://user:password@host):
 * the password, in place, becomes its stored form, the rest of the URL stays
 * as it is.  A password of "********" keeps the password stored at the same
 * path when the stored value is the same URL apart from its password (a
 * password stored in clear, by hand or before the rule, is encrypted now);
 * anything else with "********" is the client's error.  0, -1, -2.
 */
static int
seal_url(struct seal *s, json_object *v, json_object *stored)
{
	const char *text = json_object_get_string(v), *plain;
	size_t start, len, pstart, plen, n;
	char *enc, *out;
	bool fault = false;

	if (!secret_url_password(text, &start, &len))
		return 0;
	plain = text;
	pstart = start;
	plen = len;
	if (len == strlen(SECRET_MASK) && memcmp(text + start, SECRET_MASK, len) == 0) {
		const char *old = json_object_is_type(stored, json_type_string)
		    ? json_object_get_string(stored) : NULL;
		char *old_masked = secret_url_mask(old);
		bool same = old_masked != NULL && strcmp(old_masked, text) == 0;

		free(old_masked);
		if (!same) {
			snprintf(s->err, s->errlen,
			    "config%s is a URL whose password is \"" SECRET_MASK "\", but no "
			    "password is stored there for that URL", s->path);
			return -1;
		}
		secret_url_password(old, &pstart, &plen);
		if (secret_is_ciphertext(old + pstart)) {
			json_object_set_string(v, old); /* the stored ciphertext, exactly */
			return 0;
		}
		plain = old;
	}
	enc = seal_bytes(s, plain + pstart, plen, &fault);
	if (enc == NULL)
		return -2;
	n = strlen(text) - len + strlen(enc);
	out = malloc(n + 1);
	if (out == NULL) {
		free(enc);
		snprintf(s->err, s->errlen, "out of memory");
		return -2;
	}
	snprintf(out, n + 1, "%.*s%s%s", (int)start, text, enc, text + start + len);
	json_object_set_string(v, out);
	OPENSSL_cleanse(enc, strlen(enc));
	free(enc);
	free(out);
	return 0;
}

/*
 * The new value of a secret member: the stored ciphertext for "********",
 * else the encryption of val's JSON text.  NULL after a message in s->err;
 * *fault says whether it is the server's fault.
 */
static json_object *
seal_value(struct seal *s, json_object *val, json_object *stored, bool *fault)
{
	const char *text;
	char *enc;
	json_object *out;

	if (json_object_is_type(val, json_type_string) &&
	    !strcmp(json_object_get_string(val), SECRET_MASK)) {
		if (json_object_is_type(stored, json_type_string) &&
		    secret_is_ciphertext(json_object_get_string(stored)))
			return json_object_new_string(json_object_get_string(stored));
		if (stored == NULL || json_object_is_type(stored, json_type_null)) {
			snprintf(s->err, s->errlen,
			    "config%s is \"" SECRET_MASK "\", but no secret is stored there",
			    s->path);
			return NULL;
		}
		val = stored; /* a value stored in clear (by hand): encrypt it now */
	}
	text = json_object_to_json_string_ext(val,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	enc = seal_bytes(s, text, strlen(text), fault);
	if (enc == NULL)
		return NULL;
	out = json_object_new_string(enc);
	OPENSSL_cleanse(enc, strlen(enc));
	free(enc);
	return out;
}

/* Walk v (a config or a part of it) beside stored; 0, -1 (client), -2 (fault). */
static int
seal_walk(struct seal *s, json_object *v, json_object *stored)
{
	size_t saved = s->len;
	bool fault = false;
	int rc = 0;

	if (json_object_is_type(v, json_type_string))
		return seal_url(s, v, stored);
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v) && rc == 0; i++) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", i);
			if (path_push(s, idx) < 0)
				goto nomem;
			rc = seal_walk(s, json_object_array_get_idx(v, i),
			    stored_member(stored, NULL, i));
			s->len = saved;
			s->path[saved] = '\0';
		}
		return rc;
	}
	if (!json_object_is_type(v, json_type_object))
		return 0;
	json_object_object_foreach(v, key, val) {
		if (path_push(s, key) < 0)
			goto nomem;
		if (secret_name(key)) {
			if (val != NULL && !json_object_is_type(val, json_type_null)) {
				json_object *sealed =
				    seal_value(s, val, stored_member(stored, key, 0), &fault);
				if (sealed == NULL)
					return fault ? -2 : -1;
				json_object_object_add(v, key, sealed);
			}
		} else {
			rc = seal_walk(s, val, stored_member(stored, key, 0));
		}
		s->len = saved;
		s->path[saved] = '\0';
		if (rc != 0)
			return rc;
	}
	return 0;
nomem:
	snprintf(s->err, s->errlen, "out of memory");
	return -2;
}

int
config_merge_for_patch(json_object *config, json_object *stored, const char *aad_prefix, char *err,
    size_t errlen)
{
	struct seal *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	s->aad_prefix = aad_prefix;
	s->err = err;
	s->errlen = errlen;
	s->path = calloc(1, 1); /* "": the config itself */
	rc = s->path != NULL ? seal_walk(s, config, stored) : -2;
	if (s->path == NULL)
		snprintf(err, errlen, "out of memory");
	free(s->path);
	free(s);
	return rc;
}

/*
 * Re-encryption (finicomctl rotate-key): every ciphertext of a config (a
 * whole secret member's value or a URL's password) is found with its path
 * and decrypted with its own key and the AAD of its path; one made under
 * another key than the current one is encrypted again under the current
 * key with the same AAD.  The pairs (old stored form, new stored form) are
 * what the caller replaces in the config's text, which it stores as it
 * was otherwise, byte for byte.
 */
struct rekey {
	struct seal seal;
	bool rewrite;
	struct secret_rekey *out;
};

static int
rekey_add(struct secret_rekey *out, const char *old, char *enc)
{
	char **olds = realloc(out->old, (out->n + 1) * sizeof(char *));
	char **news;

	if (olds == NULL)
		return -1;
	out->old = olds;
	news = realloc(out->new, (out->n + 1) * sizeof(char *));
	if (news == NULL)
		return -1;
	out->new = news;
	out->old[out->n] = strdup(old);
	if (out->old[out->n] == NULL)
		return -1;
	out->new[out->n++] = enc;
	return 0;
}

/* One stored form at the walk's path: checked, counted, maybe re-encrypted; 0 or -1. */
static int
rekey_one(struct rekey *r, const char *stored)
{
	char id[SECRET_KEY_ID_CHARS + 1], *aad, *plain, *enc = NULL;
	size_t aad_len = strlen(r->seal.aad_prefix) + r->seal.len, n;
	bool is_current;

	if (!secret_stored_key_id(stored, id)) {
		snprintf(r->seal.err, r->seal.errlen, "config%s is not a valid ciphertext", r->seal.path);
		return -1;
	}
	is_current = !strcmp(id, current.id);
	aad = malloc(aad_len + 1);
	if (aad == NULL) {
		snprintf(r->seal.err, r->seal.errlen, "out of memory");
		return -1;
	}
	snprintf(aad, aad_len + 1, "%s%s", r->seal.aad_prefix, r->seal.path);
	plain = secret_decrypt(stored, aad, &n);
	if (plain == NULL) {
		snprintf(r->seal.err, r->seal.errlen, "config%s (key %s) does not decrypt%s",
		    r->seal.path, id, key_by_id(id) ? " (damaged, or copied from another place)"
		                                   : ": its key is not loaded");
		free(aad);
		return -1;
	}
	if (!is_current && r->rewrite)
		enc = secret_encrypt(plain, n, aad);
	OPENSSL_cleanse(plain, n);
	free(plain);
	free(aad);
	if (is_current) {
		r->out->current++;
		return 0;
	}
	r->out->other++;
	if (!r->rewrite)
		return 0;
	if (enc == NULL || rekey_add(r->out, stored, enc) < 0) {
		free(enc);
		snprintf(r->seal.err, r->seal.errlen, "could not encrypt config%s", r->seal.path);
		return -1;
	}
	return 0;
}

static int
rekey_walk(struct rekey *r, json_object *v)
{
	size_t saved = r->seal.len;
	int rc = 0;

	if (json_object_is_type(v, json_type_string)) {
		const char *text = json_object_get_string(v);
		size_t start, len;
		char *piece;

		if (secret_is_ciphertext(text))
			return rekey_one(r, text);
		if (!secret_url_password(text, &start, &len) || !secret_is_ciphertext(text + start))
			return 0;
		piece = strndup(text + start, len);
		if (piece == NULL) {
			snprintf(r->seal.err, r->seal.errlen, "out of memory");
			return -1;
		}
		rc = rekey_one(r, piece);
		free(piece);
		return rc;
	}
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v) && rc == 0; i++) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", i);
			if (path_push(&r->seal, idx) < 0)
				goto nomem;
			rc = rekey_walk(r, json_object_array_get_idx(v, i));
			r->seal.len = saved;
			r->seal.path[saved] = '\0';
		}
		return rc;
	}
	if (!json_object_is_type(v, json_type_object))
		return 0;
	json_object_object_foreach(v, key, val) {
		if (path_push(&r->seal, key) < 0)
			goto nomem;
		rc = rekey_walk(r, val);
		r->seal.len = saved;
		r->seal.path[saved] = '\0';
		if (rc != 0)
			return rc;
	}
	return 0;
nomem:
	snprintf(r->seal.err, r->seal.errlen, "out of memory");
	return -1;
}

int
secret_rekey_config(json_object *config, const char *aad_prefix, bool rewrite,
    struct secret_rekey *out, char *err, size_t errlen)
{
	struct rekey r = {.seal = {.aad_prefix = aad_prefix, .err = err, .errlen = errlen},
	    .rewrite = rewrite, .out = out};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!current.loaded) {
		snprintf(err, errlen, "no secret key is loaded");
		return -1;
	}
	r.seal.path = calloc(1, 1);
	if (r.seal.path == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = rekey_walk(&r, config);
	free(r.seal.path);
	return rc;
}

void
secret_rekey_free(struct secret_rekey *out)
{
	for (size_t i = 0; i < out->n; i++) {
		free(out->old[i]);
		free(out->new[i]);
	}
	free(out->old);
	free(out->new);
	memset(out, 0, sizeof(*out));
}
