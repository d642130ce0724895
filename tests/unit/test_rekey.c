/*
 * test_rekey: secret_rekey_config (finicomctl rotate-key's core) and the
 * decrypt-only keys (secret_load_other_keys): ciphertexts under the old key
 * get new stored forms under the current key with the same AAD (so they
 * decrypt at their own path only), URL passwords too, current ones are left
 * alone, and a ciphertext whose key is not loaded stops the rotation.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/secret.h"

static const unsigned char key_old[SECRET_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
static const unsigned char key_new[SECRET_KEY_BYTES] = {9, 9, 9, 9, 9, 9, 9, 9};

#define AAD "org:source:obj:"

/* A config sealed under the current key (as finicomd stores it). */
static json_object *
sealed(const char *text)
{
	json_object *c = json_tokener_parse(text);
	char err[256];

	if (config_merge_for_patch(c, NULL, AAD, err, sizeof(err)) != 0)
		printf("# seal: %s\n", err);
	return c;
}

static char *
plain_at(const char *stored, const char *path)
{
	char aad[128];
	size_t n;

	snprintf(aad, sizeof(aad), "%s%s", AAD, path);
	return secret_decrypt(stored, aad, &n);
}

/* Write a key file (0600) in dir; returns its path (static buffer). */
static const char *
key_file(const char *dir, const char *name, const unsigned char key[SECRET_KEY_BYTES])
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	for (int i = 0; i < SECRET_KEY_BYTES; i++)
		fprintf(fp, "%02x", key[i]);
	fputc('\n', fp);
	fclose(fp);
	chmod(path, 0600);
	return path;
}

int
main(void)
{
	char dir[] = "/tmp/test_rekey.XXXXXX", err[512], old_id[9], new_id[9], id[9];
	struct secret_rekey k;
	json_object *c, *v;
	const char *ids[SECRET_OTHER_KEYS_MAX];
	char *p;

	if (mkdtemp(dir) == NULL)
		return 1;
	secret_key_id_of(key_old, old_id);
	secret_key_id_of(key_new, new_id);

	secret_use_key(key_old);
	c = sealed("{\"host\":\"h\",\"password\":\"pw\",\"url\":\"postgres://u:urlpw@db/x\","
	    "\"nested\":{\"api_token\":[1,2]},\"n\":1}");

	/* The new key current, the old one decrypt-only (from its file). */
	secret_use_key(key_new);
	ok(secret_load_other_keys(key_file(dir, "old", key_old), err, sizeof(err)) == 0,
	    "test-rekey: the old key loads as a decrypt-only key (%s)", err);
	ok(secret_other_key_ids(ids) == 1 && !strcmp(ids[0], old_id), "test-rekey: its id is listed");
	json_object_object_get_ex(c, "password", &v);
	p = plain_at(json_object_get_string(v), "/password");
	is_str(p, "\"pw\"", "test-rekey: an old ciphertext decrypts with the decrypt-only key");
	free(p);

	ok(secret_rekey_config(c, AAD, false, &k, err, sizeof(err)) == 0 && k.other == 3 &&
	    k.current == 0 && k.n == 0, "test-rekey: check mode counts 3 under the old key, changes none");
	secret_rekey_free(&k);

	ok(secret_rekey_config(c, AAD, true, &k, err, sizeof(err)) == 0 && k.n == 3,
	    "test-rekey: 3 replacements (%s)", err);
	for (size_t i = 0; i < k.n; i++) {
		ok(secret_stored_key_id(k.old[i], id) && !strcmp(id, old_id),
		    "test-rekey: replacement %zu replaces an old-key form", i);
		ok(secret_stored_key_id(k.new[i], id) && !strcmp(id, new_id),
		    "test-rekey: by a new-key form");
	}
	/* Which one is the password's: decrypts at /password and nowhere else. */
	{
		int at_password = 0, elsewhere = 0;
		for (size_t i = 0; i < k.n; i++) {
			char *a = plain_at(k.new[i], "/password"), *b = plain_at(k.new[i], "/host");
			at_password += a && !strcmp(a, "\"pw\"");
			elsewhere += b != NULL;
			free(a);
			free(b);
		}
		ok(at_password == 1 && elsewhere == 0,
		    "test-rekey: the new forms keep their AAD (one decrypts at /password, none at /host)");
		for (size_t i = 0; i < k.n; i++) {
			char *u = plain_at(k.new[i], "/url");
			if (u != NULL)
				is_str(u, "urlpw", "test-rekey: a URL password is re-encrypted as its bytes");
			free(u);
		}
	}
	secret_rekey_free(&k);

	/* Once every form is current: nothing to do. */
	json_object_put(c);
	c = sealed("{\"password\":\"again\"}");
	ok(secret_rekey_config(c, AAD, true, &k, err, sizeof(err)) == 0 && k.n == 0 && k.current == 1,
	    "test-rekey: a current ciphertext is left as it is");
	secret_rekey_free(&k);
	json_object_put(c);

	/* The old key forgotten: an old ciphertext stops the rotation. */
	secret_use_key(key_old);
	c = sealed("{\"password\":\"orphan\"}");
	secret_use_key(key_new);
	ok(secret_load_other_keys("", err, sizeof(err)) == 0 && secret_other_key_ids(ids) == 0,
	    "test-rekey: an empty list forgets the decrypt-only keys");
	ok(secret_rekey_config(c, AAD, true, &k, err, sizeof(err)) < 0 && strstr(err, "not loaded"),
	    "test-rekey-bad-missing-key: %s", err);
	secret_rekey_free(&k);
	json_object_put(c);

	ok(secret_load_other_keys("/nonexistent/key", err, sizeof(err)) < 0,
	    "test-rekey-bad-file: %s", err);
	{
		char five[2600] = "", name[8];
		for (int i = 0; i < 5; i++) {
			snprintf(name, sizeof(name), "k%d", i);
			strcat(five, key_file(dir, name, key_old));
			strcat(five, " ");
		}
		ok(secret_load_other_keys(five, err, sizeof(err)) < 0 && strstr(err, "more than 4"),
		    "test-rekey-bad-too-many: %s", err);
		for (int i = 0; i < 5; i++) {
			snprintf(name, sizeof(name), "k%d", i);
			unlink(key_file(dir, name, key_old));
		}
	}

	unlink(key_file(dir, "old", key_old));
	rmdir(dir);
	secret_forget_key();
	return done_testing();
}
