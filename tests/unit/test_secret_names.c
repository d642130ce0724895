/*
 * test_secret_names: the secret-name rule and URL passwords of util/secret.c,
 * case by case from tests/sql/secret-names.psql, the table that
 * tests/sql/13-secret-names.sql runs through the database's
 * finicom.config_mask: both sides must agree on every line.  For each case
 * the name rule (secret_name), the mask a reader sees (config_mask) and
 * what is stored (config_merge_for_patch: encrypted exactly when secret,
 * masked as the database masks it) are checked; then the PATCH round trip
 * of a URL whose password is "********".
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/secret.h"

static const unsigned char test_key[SECRET_KEY_BYTES] = "0123456789abcdef0123456789abcdef";
#define PREFIX "org:source:obj:"

struct secret_case {
	char kind[16], input[256], expected[256];
};

/* Read one SQL string literal at *p ('...', '' for a quote) into out; -1 if malformed. */
static int
sql_string(const char **p, char *out, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == ',')
		s++;
	if (*s++ != '\'')
		return -1;
	for (;;) {
		if (*s == '\0')
			return -1;
		if (*s == '\'' && s[1] != '\'')
			break;
		if (*s == '\'')
			s++;
		if (n + 1 >= size)
			return -1;
		out[n++] = *s++;
	}
	out[n] = '\0';
	*p = s + 1;
	return 0;
}

static size_t
load_cases(struct secret_case *cases, size_t max)
{
	const char *top = getenv("top_srcdir");
	char path[1024], line[1024];
	size_t n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/sql/secret-names.psql", top ? top : ".");
	fp = fopen(path, "r");
	if (!ok(fp != NULL, "%s opens", path))
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL && n < max) {
		const char *p = line + 1;
		if (strncmp(line, "('", 2) != 0)
			continue;
		if (!ok(sql_string(&p, cases[n].kind, sizeof(cases[n].kind)) == 0 &&
		    sql_string(&p, cases[n].input, sizeof(cases[n].input)) == 0 &&
		    sql_string(&p, cases[n].expected, sizeof(cases[n].expected)) == 0 &&
		    (!strcmp(cases[n].kind, "name") || !strcmp(cases[n].kind, "value")),
		    "case line parses: %.60s", line))
			continue;
		n++;
	}
	fclose(fp);
	return n;
}

/* config_mask of a copy of v, as JSON text of the member at key (malloc'd). */
static char *
masked_member(json_object *config, const char *key)
{
	json_object *copy = json_tokener_parse(json_object_to_json_string(config)), *v;
	char *out = NULL;

	config_mask(copy);
	if (json_object_object_get_ex(copy, key, &v))
		out = strdup(json_object_get_string(v));
	json_object_put(copy);
	return out;
}

/* Decrypt the len bytes of s at start with the AAD of /url (malloc'd, or NULL). */
static char *
decrypt_part(const char *s, size_t start, size_t len, size_t *n)
{
	char *part = strndup(s + start, len), *plain = NULL;

	if (part != NULL)
		plain = secret_decrypt(part, PREFIX "/url", n);
	free(part);
	return plain;
}

static void
test_name(const struct secret_case *c)
{
	bool secret = !strcmp(c->expected, "secret");
	json_object *config = json_object_new_object(), *arr = json_object_new_array(), *inner;
	char err[256], *got;
	const char *stored;

	ok(secret_name(c->input) == secret, "name \"%s\" is %s", c->input, c->expected);

	json_object_object_add(config, c->input, json_object_new_string("v1"));
	got = masked_member(config, c->input);
	ok(got != NULL && (strcmp(got, SECRET_MASK) == 0) == secret,
	    "name \"%s\": a reader sees %s", c->input, secret ? "\"********\"" : "the value");
	free(got);

	inner = json_object_new_object();
	json_object_object_add(inner, c->input, json_object_new_int(42));
	json_object_array_add(arr, inner);
	json_object_object_add(config, "hosts", arr);
	ok(config_merge_for_patch(config, NULL, PREFIX, err, sizeof(err)) == 0, "name \"%s\" seals", c->input);
	stored = json_object_get_string(json_object_object_get(config, c->input));
	ok(secret_is_ciphertext(stored) == secret, "name \"%s\": stored %s", c->input,
	    secret ? "encrypted" : "as sent");
	stored = json_object_get_string(json_object_object_get(inner, c->input));
	ok(secret_is_ciphertext(stored) == secret, "name \"%s\" in an array: stored %s", c->input,
	    secret ? "encrypted" : "as sent");
	json_object_put(config);
}

static void
test_value(const struct secret_case *c)
{
	bool secret = strcmp(c->input, c->expected) != 0;
	json_object *config = json_object_new_object(), *arr = json_object_new_array();
	char err[256], *got, *plain;
	const char *stored;
	size_t start, len, n;
	int rc;

	got = secret_url_mask(c->input);
	is_str(got ? got : c->input, c->expected, "value \"%s\" reads as \"%s\"", c->input, c->expected);
	free(got);

	json_object_object_add(config, "url", json_object_new_string(c->input));
	json_object_array_add(arr, json_object_new_string(c->input));
	json_object_object_add(config, "urls", arr);
	got = masked_member(config, "url");
	is_str(got, c->expected, "value \"%s\": config_mask agrees", c->input);
	free(got);

	rc = config_merge_for_patch(config, NULL, PREFIX, err, sizeof(err));
	if (secret_url_password(c->input, &start, &len) && len == strlen(SECRET_MASK) &&
	    memcmp(c->input + start, SECRET_MASK, len) == 0) {
		ok(rc == -1, "value \"%s\" on create: \"********\" with nothing stored is refused (%s)",
		    c->input, err);
		json_object_put(config);
		return;
	}
	ok(rc == 0, "value \"%s\" seals", c->input);
	stored = json_object_get_string(json_object_object_get(config, "url"));
	if (!secret) {
		is_str(stored, c->input, "value \"%s\" is stored as sent", c->input);
	} else {
		ok(secret_url_password(stored, &start, &len) && secret_is_ciphertext(stored + start),
		    "value \"%s\": the password is stored encrypted (%s)", c->input, stored);
		got = secret_url_mask(stored);
		is_str(got, c->expected, "value \"%s\": the stored form reads as the database shows it",
		    c->input);
		free(got);
		plain = decrypt_part(stored, start, len, &n);
		secret_url_password(c->input, &start, &len);
		ok(plain != NULL && n == len && memcmp(plain, c->input + start, len) == 0,
		    "value \"%s\": the password decrypts with its path as AAD", c->input);
		free(plain);
	}
	stored = json_object_get_string(json_object_array_get_idx(arr, 0));
	got = secret_url_mask(stored);
	is_str(got ? got : stored, c->expected, "value \"%s\" in an array: stored %s", c->input,
	    secret ? "encrypted" : "as sent");
	free(got);
	json_object_put(config);
}

static const char *
member(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

/* PATCH: a URL sent back as read keeps the stored password; "********" elsewhere is refused. */
static void
test_url_round_trip(void)
{
	json_object *stored = json_tokener_parse("{\"url\": \"postgres://bob:hunter2@db/app\"}");
	json_object *patch;
	char err[256], *plain;
	const char *ct;
	size_t start, len, n;

	ok(config_merge_for_patch(stored, NULL, PREFIX, err, sizeof(err)) == 0, "a URL config seals");
	ct = member(stored, "url");

	patch = json_tokener_parse("{\"url\": \"postgres://bob:********@db/app\"}");
	ok(config_merge_for_patch(patch, stored, PREFIX, err, sizeof(err)) == 0, "the URL as read merges");
	is_str(member(patch, "url"), ct, "and keeps the stored ciphertext exactly");
	json_object_put(patch);

	patch = json_tokener_parse("{\"url\": \"postgres://bob:********@evil.example/app\"}");
	ok(config_merge_for_patch(patch, stored, PREFIX, err, sizeof(err)) == -1,
	    "test-url-bad-other-host: \"********\" for another host is refused (%s)", err);
	json_object_put(patch);
	patch = json_tokener_parse("{\"other\": \"postgres://bob:********@db/app\"}");
	ok(config_merge_for_patch(patch, stored, PREFIX, err, sizeof(err)) == -1,
	    "test-url-bad-other-path: \"********\" at another path is refused");
	json_object_put(patch);

	patch = json_tokener_parse("{\"url\": \"postgres://bob:new-one@db/app\"}");
	ok(config_merge_for_patch(patch, stored, PREFIX, err, sizeof(err)) == 0 &&
	    strcmp(member(patch, "url"), ct) != 0 && strstr(member(patch, "url"), "new-one") == NULL,
	    "a new password is encrypted afresh");
	json_object_put(patch);
	json_object_put(stored);

	/* Stored in clear (by hand, or before the rule): sent back as read, it is encrypted now. */
	stored = json_tokener_parse("{\"url\": \"postgres://bob:hunter2@db/app\"}");
	patch = json_tokener_parse("{\"url\": \"postgres://bob:********@db/app\"}");
	ok(config_merge_for_patch(patch, stored, PREFIX, err, sizeof(err)) == 0, "a clear stored URL merges");
	ok(secret_url_password(member(patch, "url"), &start, &len) &&
	    secret_is_ciphertext(member(patch, "url") + start), "and its password is encrypted now");
	plain = decrypt_part(member(patch, "url"), start, len, &n);
	is_str(plain, "hunter2", "to the stored password");
	free(plain);
	json_object_put(patch);
	json_object_put(stored);

	/* A URL under a secret key is encrypted whole. */
	patch = json_tokener_parse("{\"dsn_password\": \"postgres://bob:hunter2@db/app\"}");
	ok(config_merge_for_patch(patch, NULL, PREFIX, err, sizeof(err)) == 0 &&
	    secret_is_ciphertext(member(patch, "dsn_password")), "a URL under a secret key is encrypted whole");
	json_object_put(patch);
}

int
main(void)
{
	static struct secret_case cases[512];
	size_t n;

	secret_use_key(test_key);
	n = load_cases(cases, sizeof(cases) / sizeof(cases[0]));
	ok(n >= 50, "the table has its cases (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(cases[i].kind, "name"))
			test_name(&cases[i]);
		else
			test_value(&cases[i]);
	}
	test_url_round_trip();
	secret_forget_key();
	return done_testing();
}
