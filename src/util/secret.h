/*
 * secret: encryption at rest of the secret values of an object's config
 * (AES-256-GCM through OpenSSL's EVP interface).
 *
 * Words:
 *   secret key   a config member whose name, with '_' and '-' dropped and
 *                ASCII letters lowercased (so case boundaries do not count
 *                either), contains "password", "passwd", "passphrase",
 *                "secret", "token", "apikey", "accesskey", "privatekey" or
 *                "credential": aws_secret_access_key, apiKey, Passwd,
 *                ssh-passphrase, credentials.  The rule applies at every
 *                depth: in nested objects and in objects inside arrays (a
 *                secret key's value is encrypted whole, whatever its JSON
 *                type; null stays null, there is nothing to hide).  The
 *                database masks by the same rule (finicom.config_mask,
 *                sql/0014_secret_names.sql); tests/sql/secret-names.psql is
 *                the one table of cases both are tested with.
 *   URL password the password of any other string value, at any depth, that
 *                is a URL with one: "scheme://user:password@host...", where
 *                scheme is a letter then letters, digits, '+', '.' or '-';
 *                the authority ends at the first '/', '?' or '#' after
 *                "://", the userinfo at its last '@', the user at the first
 *                ':' of the userinfo; an empty password is none.  Only the
 *                password is encrypted (its bytes as they are, not JSON
 *                text): "scheme://user:enc:v1:...@host", read back as
 *                "scheme://user:********@host".
 *   path         where a member sits in the config, as a JSON Pointer
 *                (RFC 6901): "/password", "/auth/token", "/hosts/0/secret".
 *   AAD          the additional authenticated data of a ciphertext:
 *                "enc:v1:<key id>:<aad prefix><path>", where finicomd makes
 *                the prefix "<org id>:<kind>:<object id>:".  A ciphertext
 *                copied to another org, object or member fails to decrypt.
 *   stored form  "enc:v1:<key id>:<base64url(nonce || ciphertext || tag)>",
 *                a 12-byte random nonce and a 16-byte tag; the plaintext is
 *                the JSON text of the value.
 *   key file     64 hexadecimal characters (32 bytes), optionally followed
 *                by one newline; a regular file that group and others cannot
 *                read, write or run (mode 0600 or 0400).  finicomctl gen-key
 *                writes one.
 *   key id       the first 8 hex characters of the SHA-256 of the key; it
 *                is stored beside each ciphertext so that keys can be
 *                rotated.  Decryption picks the key by id among the current
 *                key (secret_key_file, which alone encrypts) and the other
 *                keys (secret_decrypt_key_files, decrypt only); a ciphertext
 *                under any other id does not decrypt.  finicomctl rotate-key
 *                re-encrypts every ciphertext under the current key, after
 *                which the other keys can go (docs/production.md).
 *
 * The key lives in this module's memory: finicomd loads it once in the
 * master before forking, so every worker has it.
 */
#ifndef FINICOM_SECRET_H
#define FINICOM_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define SECRET_KEY_BYTES 32
#define SECRET_KEY_ID_CHARS 8
#define SECRET_MASK "********"
#define SECRET_PREFIX "enc:v1:"
#define SECRET_OTHER_KEYS_MAX 4

/*
 * Load the key file at path and make it the current key.  Returns 0, or -1
 * with a message for the operator in err (the current key, if any, stays).
 */
int secret_load_key(const char *path, char *err, size_t errlen);

/*
 * Load the key files named in paths (separated by spaces; "" for none) as
 * the other keys, which decrypt but never encrypt, replacing the other keys
 * loaded before.  Returns 0, or -1 with a message in err (nothing changes).
 */
int secret_load_other_keys(const char *paths, char *err, size_t errlen);

/* Forget the other keys (the current one stays). */
void secret_forget_other_keys(void);

/* The ids of the other keys loaded, in ids; returns how many. */
size_t secret_other_key_ids(const char *ids[SECRET_OTHER_KEYS_MAX]);

/* The key id of a stored form, in out; false when stored is not one. */
bool secret_stored_key_id(const char *stored, char out[SECRET_KEY_ID_CHARS + 1]);

/* What secret_rekey_config found in one config. */
struct secret_rekey {
	int current;  /* ciphertexts under the current key (all decrypt) */
	int other;    /* ciphertexts under another loaded key (all decrypt) */
	size_t n;     /* with rewrite: the replacements, old[i] -> new[i] */
	char **old, **new;
};

/*
 * Decrypt every ciphertext of config (a secret member's value or a URL's
 * password; aad_prefix as for config_merge_for_patch) and count them by
 * key; with rewrite, each one under another key than the current one gets
 * a new stored form under the current key, with the same AAD, as a pair in
 * out (config itself is not changed: the caller replaces each old[i] by
 * new[i] in the config's stored text).  Returns 0, or -1 with a message in
 * err (a ciphertext that does not decrypt).  Free out with secret_rekey_free.
 */
int secret_rekey_config(json_object *config, const char *aad_prefix, bool rewrite,
    struct secret_rekey *out, char *err, size_t errlen);
void secret_rekey_free(struct secret_rekey *out);

/* Make key the current key (tests; finicomctl gen-key). */
void secret_use_key(const unsigned char key[SECRET_KEY_BYTES]);

/* Forget the current key (wiped from memory). */
void secret_forget_key(void);

/* The id of key (8 hex characters + NUL). */
void secret_key_id_of(const unsigned char key[SECRET_KEY_BYTES], char out[SECRET_KEY_ID_CHARS + 1]);

/* The current key's id, or NULL when no key is loaded. */
const char *secret_key_id(void);

/* True when a config member of this name holds a secret. */
bool secret_name(const char *name);

/*
 * True when the string s is a URL with a password (see "URL password"),
 * which starts at byte *start and is *len bytes long.
 */
bool secret_url_password(const char *s, size_t *start, size_t *len);

/* s with its URL password replaced by "********" (malloc'd), or NULL when it has none. */
char *secret_url_mask(const char *s);

/* True when s looks like a stored ciphertext ("enc:v1:..."). */
bool secret_is_ciphertext(const char *s);

/*
 * Encrypt n bytes with the current key, binding aad.  Returns the stored
 * form (malloc'd; the caller frees it), or NULL when no key is loaded or
 * OpenSSL fails.
 */
char *secret_encrypt(const void *plain, size_t n, const char *aad);

/*
 * Decrypt a stored form made with the same aad.  Returns the plaintext,
 * NUL-terminated, with its length in *n (malloc'd; the caller wipes and
 * frees it), or NULL when the form is malformed, its key is not loaded, or
 * the ciphertext, nonce, tag or aad do not match.
 */
char *secret_decrypt(const char *stored, const char *aad, size_t *n);

/*
 * Replace, in place, the value of every secret member of config by
 * "********", and the password of every URL value by "********".
 */
void config_mask(json_object *config);

/*
 * Make config (a request's config object, changed in place) ready to store:
 * every secret member's value is encrypted with a fresh nonce, except the
 * value "********", which stands for the value stored at the same path in
 * stored (the row's current config; NULL on create) and is replaced by
 * that ciphertext exactly as it is; every URL password is encrypted the
 * same way, and a URL sent back as read ("********" as its password) keeps
 * the stored one.  aad_prefix + the member's path is the AAD of each value.  Returns 0; -1 with a message for the client in err
 * ("********" where nothing is stored); -2 with a message
 * for the log when it is the server's fault (no key loaded, OpenSSL).
 */
int config_merge_for_patch(json_object *config, json_object *stored, const char *aad_prefix,
    char *err, size_t errlen);

#endif
