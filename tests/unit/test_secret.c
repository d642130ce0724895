/*
 * test_secret: AES-256-GCM of secret config values (util/secret.c): the
 * round trip, tampering with nonce, ciphertext and tag, the AAD and the key
 * id, the key file checks, the secret-name rule, masking, and the PATCH
 * merge that keeps a stored ciphertext for "********".
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/crypto.h"
#include "util/secret.h"

static const unsigned char key_a[SECRET_KEY_BYTES] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[SECRET_KEY_BYTES] = "fedcba9876543210fedcba9876543210";

#define AAD "0b0b0b0b-0000-4000-8000-000000000001:source:0c0c0c0c-0000-4000-8000-000000000002:/password"

/* Decrypts to exactly want? */
static int
decrypts_to(const char *stored, const char *aad, const char *want)
{
	size_t n = 0;
	char *plain = secret_decrypt(stored, aad, &n);
	int same = plain != NULL && n == strlen(want) && memcmp(plain, want, n) == 0;

	free(plain);
	return same;
}

/* A copy of stored with the byte at raw offset i of the decoded payload flipped. */
static char *
tampered(const char *stored, size_t i)
{
	const char *b64 = strrchr(stored, ':') + 1;
	size_t head = (size_t)(b64 - stored);
	unsigned char raw[512];
	long n = base64url_decode(b64, strlen(b64), raw, sizeof(raw));
	char *out = malloc(head + 4 * sizeof(raw) / 3 + 4);

	raw[i] ^= 0x01;
	memcpy(out, stored, head);
	base64url_encode(raw, (size_t)n, out + head);
	return out;
}

static void
test_round_trip(void)
{
	const char *plain = "\"hunter2 \\u00e9\"";
	char *a, *b, *t, id[SECRET_KEY_ID_CHARS + 1], prefix[64];
	size_t n;

	secret_forget_key();
	ok(secret_encrypt("x", 1, AAD) == NULL, "test-encrypt-bad-no-key");
	secret_use_key(key_a);
	secret_key_id_of(key_a, id);
	is_str(secret_key_id(), id, "the key id is the one of the key in use");
	is_int(strlen(id), 8, "a key id is 8 hex characters");
	a = secret_encrypt(plain, strlen(plain), AAD);
	b = secret_encrypt(plain, strlen(plain), AAD);
	ok(a != NULL && b != NULL, "encrypted");
	snprintf(prefix, sizeof(prefix), "enc:v1:%s:", id);
	ok(a && !strncmp(a, prefix, strlen(prefix)), "stored form starts with enc:v1:<key id>: (%s)",
	    a ? a : "(null)");
	ok(a && secret_is_ciphertext(a), "looks like a ciphertext");
	ok(a && strstr(a, "hunter2") == NULL, "the plaintext is not in the stored form");
	ok(a && b && strcmp(a, b) != 0, "a fresh nonce each time: two encryptions differ");
	ok(decrypts_to(a, AAD, plain), "round trip");
	ok(decrypts_to(b, AAD, plain), "round trip of the second");
	{
		char *e = secret_encrypt("", 0, AAD);
		ok(e != NULL && decrypts_to(e, AAD, ""), "round trip of an empty value");
		free(e);
	}

	/* Tampering: the decoded payload is nonce (0-11) || ciphertext || tag (last 16). */
	n = strlen(plain);
	{
		static const char *const spots[] = {"nonce", "nonce-end", "ciphertext", "ciphertext-end",
		    "tag", "tag-end"};
		size_t at[6] = {0, 11, 12, 12 + n - 1, 12 + n, 12 + n + 15};
		for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
			t = tampered(a, at[i]);
			ok(secret_decrypt(t, AAD, &n) == NULL, "test-decrypt-bad-tampered-%s (byte %zu)",
			    spots[i], at[i]);
			free(t);
		}
		n = strlen(plain);
	}
	ok(secret_decrypt(a, "another-org:source:x:/password", &n) == NULL, "test-decrypt-bad-aad-org");
	ok(secret_decrypt(a, AAD "2", &n) == NULL, "test-decrypt-bad-aad-field");
	{
		size_t len = strlen(a);
		char *cut = strdup(a);
		cut[len - 4] = '\0';
		ok(secret_decrypt(cut, AAD, &n) == NULL, "test-decrypt-bad-truncated");
		free(cut);
	}
	ok(secret_decrypt("enc:v1:zz", AAD, &n) == NULL, "test-decrypt-bad-malformed");
	ok(secret_decrypt("hunter2", AAD, &n) == NULL, "test-decrypt-bad-not-a-ciphertext");

	/* Another key id: the id is checked first, and the key itself too. */
	t = strdup(a);
	memcpy(t + 7, "00000000", 8);
	ok(secret_decrypt(t, AAD, &n) == NULL, "test-decrypt-bad-key-id");
	free(t);
	secret_use_key(key_b);
	ok(secret_decrypt(a, AAD, &n) == NULL, "test-decrypt-bad-other-key-loaded");
	secret_use_key(key_a);
	ok(decrypts_to(a, AAD, plain), "with the right key loaded again, it decrypts");
	free(a);
	free(b);
}

static void
test_key_file(void)
{
	char dir[] = "/tmp/test_secret.XXXXXX", path[64], err[256];
	FILE *fp;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/key", dir);
	ok(secret_load_key("", err, sizeof(err)) == -1 && strstr(err, "gen-key") != NULL,
	    "test-keyfile-bad-unset: %s", err);
	ok(secret_load_key(path, err, sizeof(err)) == -1 && strstr(err, "could not open") != NULL,
	    "test-keyfile-bad-missing: %s", err);
	fp = fopen(path, "w");
	fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", fp);
	fclose(fp);
	chmod(path, 0644);
	ok(secret_load_key(path, err, sizeof(err)) == -1 && strstr(err, "chmod 600") != NULL,
	    "test-keyfile-bad-mode-0644: %s", err);
	chmod(path, 0640);
	ok(secret_load_key(path, err, sizeof(err)) == -1, "test-keyfile-bad-mode-0640");
	chmod(path, 0600);
	ok(secret_load_key(path, err, sizeof(err)) == 0, "a 0600 file of 64 hex characters loads");
	{
		unsigned char raw[SECRET_KEY_BYTES];
		char id[SECRET_KEY_ID_CHARS + 1];
		for (int i = 0; i < SECRET_KEY_BYTES; i++)
			raw[i] = (unsigned char)i;
		secret_key_id_of(raw, id);
		is_str(secret_key_id(), id, "the file's key is in use");
	}
	fp = fopen(path, "w");
	fputs("0001020304050607080g0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", fp);
	fclose(fp);
	ok(secret_load_key(path, err, sizeof(err)) == -1 && strstr(err, "64 hexadecimal") != NULL,
	    "test-keyfile-bad-not-hex");
	fp = fopen(path, "w");
	fputs("00010203", fp);
	fclose(fp);
	ok(secret_load_key(path, err, sizeof(err)) == -1, "test-keyfile-bad-short");
	ok(secret_load_key(dir, err, sizeof(err)) == -1, "test-keyfile-bad-directory");
	unlink(path);
	rmdir(dir);
	secret_use_key(key_a);
}

static void
test_names(void)
{
	static const char *const valid[] = {
		"password", "PASSWORD", "db_password", "dbPassword", "secret", "client_secret",
		"ClientSecret", "token", "access_token", "refreshToken", "api_key", "stripe_api_key",
		"API_KEY", "private_key", "ssh_private_key", "SSH_Private_Key",
	};
	/* The whole table, shared with the database's mask: tests/unit/test_secret_names.c. */
	static const char *const invalid[] = {
		"", "user", "key", "public_key", "private", "pass", "api.key",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(secret_name(valid[i]), "\"%s\" is a secret name", valid[i]);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(!secret_name(invalid[i]), "test-secret-name-bad \"%s\"", invalid[i]);
}

static const char *
get_str(json_object *o, const char *a, const char *b)
{
	json_object *v = o;

	if (a && !json_object_object_get_ex(v, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static void
test_mask_and_merge(void)
{
	const char *prefix = "org:source:obj:";
	json_object *config, *stored, *patch, *copy;
	char err[256], *plain;
	const char *ct, *nested;
	size_t n;

	config = json_tokener_parse("{\"host\": \"db\", \"Password\": \"hunter2\", \"port\": 5432,"
	    " \"auth\": {\"api_key\": \"k-1\", \"user\": \"u\"}, \"hosts\": [{\"token\": 7}],"
	    " \"empty_token\": null}");
	ok(config_merge_for_patch(config, NULL, prefix, err, sizeof(err)) == 0, "a new config seals");
	ct = get_str(config, "Password", NULL);
	nested = get_str(config, "auth", "api_key");
	ok(secret_is_ciphertext(ct), "a top-level secret is encrypted");
	ok(secret_is_ciphertext(nested), "a nested secret is encrypted");
	is_str(get_str(config, "host", NULL), "db", "a plain member stays as it is");
	is_str(get_str(config, "auth", "user"), "u", "a plain nested member stays as it is");
	ok(strstr(json_object_to_json_string(config), "hunter2") == NULL &&
	    strstr(json_object_to_json_string(config), "k-1") == NULL, "no plaintext left in the config");
	ok(json_object_is_type(json_object_object_get(config, "empty_token"), json_type_null),
	    "a null secret stays null");
	plain = secret_decrypt(ct, "org:source:obj:/Password", &n);
	is_str(plain, "\"hunter2\"", "the secret decrypts with its path as AAD");
	free(plain);
	ok(secret_decrypt(ct, "org:source:obj:/auth/api_key", &n) == NULL,
	    "test-merge-bad-moved: a ciphertext does not decrypt at another path");
	plain = secret_decrypt(get_str(json_object_array_get_idx(json_object_object_get(config, "hosts"), 0),
	    "token", NULL), "org:source:obj:/hosts/0/token", &n);
	is_str(plain, "7", "a secret inside an array is encrypted whole (a number here)");
	free(plain);

	stored = config; /* what the database now holds */
	copy = json_tokener_parse(json_object_to_json_string(stored));
	config_mask(copy);
	is_str(get_str(copy, "Password", NULL), SECRET_MASK, "masking replaces a secret");
	is_str(get_str(copy, "auth", "api_key"), SECRET_MASK, "masking replaces a nested secret");
	is_str(get_str(json_object_array_get_idx(json_object_object_get(copy, "hosts"), 0), "token", NULL),
	    SECRET_MASK, "masking replaces a secret in an array");
	is_str(get_str(copy, "host", NULL), "db", "masking leaves plain members");
	ok(json_object_is_type(json_object_object_get(copy, "empty_token"), json_type_null),
	    "masking leaves a null secret null");

	/* PATCH with the masked config sent back: every ciphertext kept exactly. */
	ok(config_merge_for_patch(copy, stored, prefix, err, sizeof(err)) == 0, "the masked config merges");
	is_str(get_str(copy, "Password", NULL), ct, "\"********\" keeps the stored ciphertext exactly");
	is_str(get_str(copy, "auth", "api_key"), nested, "and a nested one too");
	json_object_put(copy);

	/* A new value: a new ciphertext. */
	patch = json_tokener_parse("{\"Password\": \"new-one\", \"auth\": {\"api_key\": \"********\"}}");
	ok(config_merge_for_patch(patch, stored, prefix, err, sizeof(err)) == 0, "a changed config merges");
	ok(secret_is_ciphertext(get_str(patch, "Password", NULL)) &&
	    strcmp(get_str(patch, "Password", NULL), ct) != 0, "a new value gets a new ciphertext");
	plain = secret_decrypt(get_str(patch, "Password", NULL), "org:source:obj:/Password", &n);
	is_str(plain, "\"new-one\"", "which decrypts to the new value");
	free(plain);
	json_object_put(patch);

	patch = json_tokener_parse("{\"db_password\": \"********\"}");
	ok(config_merge_for_patch(patch, stored, prefix, err, sizeof(err)) == -1,
	    "test-merge-bad-mask-without-stored: %s", err);
	json_object_put(patch);
	patch = json_tokener_parse("{\"password\": \"********\"}");
	ok(config_merge_for_patch(patch, NULL, prefix, err, sizeof(err)) == -1,
	    "test-merge-bad-mask-on-create");
	json_object_put(patch);
	patch = json_tokener_parse("{\"note\": \"********\"}");
	ok(config_merge_for_patch(patch, NULL, prefix, err, sizeof(err)) == 0 &&
	    !strcmp(get_str(patch, "note", NULL), SECRET_MASK), "\"********\" in a plain member is a plain value");
	json_object_put(patch);

	/*
	 * Keys as long as a config allows make paths of any length: a fixed
	 * 4 KiB path once refused such a config (secrets or not) with a 400.
	 */
	{
		size_t long_len = 6000;
		char *long_key = malloc(long_len + 1), *text, *aad;
		memset(long_key, 'k', long_len);
		memcpy(long_key, "a/b~c", 5); /* escaped in the path as a~1b~0c */
		long_key[long_len] = '\0';
		text = malloc(2 * long_len + 200);
		aad = malloc(2 * long_len + 200);
		sprintf(text, "{\"%s\": {\"%s\": [{\"token\": \"t-1\", \"plain\": \"u\"}]}}", long_key, long_key);
		patch = json_tokener_parse(text);
		err[0] = '\0';
		ok(config_merge_for_patch(patch, NULL, prefix, err, sizeof(err)) == 0,
		    "a config whose path is 12 KB long seals: %s", err);
		sprintf(aad, "org:source:obj:/a~1b~0c%s/a~1b~0c%s/0/token", long_key + 5, long_key + 5);
		ct = json_object_get_string(json_object_object_get(json_object_array_get_idx(
		    json_object_object_get(json_object_object_get(patch, long_key), long_key), 0), "token"));
		plain = secret_decrypt(ct, aad, &n);
		is_str(plain, "\"t-1\"", "its secret decrypts with the long path as AAD");
		free(plain);
		json_object_put(patch);
		free(aad);
		free(text);
		free(long_key);
	}

	secret_forget_key();
	patch = json_tokener_parse("{\"password\": \"x\"}");
	ok(config_merge_for_patch(patch, NULL, prefix, err, sizeof(err)) == -2,
	    "test-merge-bad-no-key: the server's fault");
	json_object_put(patch);
	secret_use_key(key_a);
	json_object_put(stored);
}

int
main(void)
{
	test_round_trip();
	test_key_file();
	test_names();
	test_mask_and_merge();
	return done_testing();
}
