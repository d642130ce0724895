/*
 * validate: field validators and the body checker.  See validate.h.
 */
#include "validate.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "util/common_passwords.h"
#include "util/email.h"
#include "util/jsoncheck.h"
#include "util/password.h"

/* Count UTF-8 code points; the body already passed a strict UTF-8 check. */
static size_t
utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static bool
has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return true;
	return false;
}

/* The email rule is util/email.c's; here only its yes or no. */
bool
email_ok(const char *s, const char **why)
{
	char canonical[EMAIL_MAX + 1];

	return email_normalize(s, strlen(s), canonical, why) == 0;
}

bool
name_ok(const char *s, size_t len, const char **why)
{
	size_t chars = utf8_chars(s, len);

	if (strlen(s) != len || has_control(s, len)) {
		*why = "must not contain control characters";
		return false;
	}
	if (chars < 1 || chars > NAME_MAX_CHARS) {
		*why = "must be 1 to 200 characters";
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return true;
	*why = "must not be blank";
	return false;
}

bool
password_ok(const char *s, size_t len, const char **why)
{
	if (strlen(s) != len) {
		*why = "must not contain NUL characters";
		return false;
	}
	if (len < PASSWORD_MIN_BYTES || len > PASSWORD_MAX_BYTES) {
		*why = "must be 8 to 1024 bytes";
		return false;
	}
	return true;
}

/* ASCII letters compared case-insensitively, every other byte exactly. */
static bool
ascii_case_equal(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

bool
password_personal_ok(const char *password, const char *email, const char *name, const char **why)
{
	if ((email != NULL && ascii_case_equal(password, email)) ||
	    (name != NULL && ascii_case_equal(password, name))) {
		*why = "must not be the same as the email or the name";
		return false;
	}
	return true;
}

bool
password_new_ok(const char *password, const char *email, const char *name, const char **why)
{
	if (password_is_common(password)) {
		*why = "must not be one of the 10,000 most common passwords";
		return false;
	}
	return password_personal_ok(password, email, name, why);
}

static bool
want_string(json_object *v, const char **why)
{
	if (!json_object_is_type(v, json_type_string)) {
		*why = "must be a string";
		return false;
	}
	return true;
}

/*
 * The value is replaced by its canonical form (util/email.h), so the
 * handler stores, looks up and mails what the mailer will send to.
 */
bool
valid_email(json_object *v, const char **why)
{
	char canonical[EMAIL_MAX + 1];

	if (!want_string(v, why))
		return false;
	if (email_normalize(json_object_get_string(v), (size_t)json_object_get_string_len(v),
	    canonical, why) < 0)
		return false;
	if (json_object_set_string(v, canonical) != 1) {
		*why = "could not be stored";
		return false;
	}
	return true;
}

bool
valid_password(json_object *v, const char **why)
{
	return want_string(v, why) &&
	    password_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v), why);
}

bool
valid_name(json_object *v, const char **why)
{
	return want_string(v, why) &&
	    name_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v), why);
}

bool
valid_role(json_object *v, const char **why)
{
	const char *s;

	if (!want_string(v, why))
		return false;
	s = json_object_get_string(v);
	if (role_from_name(s) == ROLE_NONE) {
		*why = "must be admin, write or read";
		return false;
	}
	return true;
}

bool
datetime_fields_ok(const char *s)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int v[6], at[6] = {0, 5, 8, 11, 14, 17}, width[6] = {4, 2, 2, 2, 2, 2};
	bool leap;

	/* The fields are read at fixed offsets, past the separators: a string
	 * shorter than "YYYY-MM-DDTHH:MM:SS" must not be read beyond its end. */
	if (strnlen(s, 19) < 19)
		return false;
	for (int i = 0; i < 6; i++) {
		v[i] = 0;
		for (int j = 0; j < width[i]; j++) {
			if (!isdigit((unsigned char)s[at[i] + j]))
				return false;
			v[i] = v[i] * 10 + (s[at[i] + j] - '0');
		}
	}
	leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
	if (v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[3] > 23 || v[4] > 59 || v[5] > 59)
		return false;
	return v[2] <= days[v[1] - 1] + (v[1] == 2 && leap);
}

/*
 * RFC 3339 with a zone: 2026-01-31T12:00:00Z, optional fraction, or
 * +hh:mm.  Checked here rather than by PostgreSQL's cast, which would
 * answer a data exception: the date must exist (datetime_fields_ok) and
 * the offset must be under 16 hours (PostgreSQL's limit for a time zone
 * displacement; real zones are within -12:00 to +14:00).
 */
bool
time_ok(const char *s, const char **why)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	*why = "must be an RFC 3339 time such as 2030-01-31T12:00:00Z";
	if (s == NULL || strlen(s) < sizeof(shape) || strlen(s) > 40)
		return false;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	if (s[i] == '.') {
		size_t start = ++i;
		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == start || i - start > 9)
			return false;
	}
	if (!(s[i] == 'Z' && s[i + 1] == '\0') &&
	    !((s[i] == '+' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) &&
	    isdigit((unsigned char)s[i + 2]) && s[i + 3] == ':' && isdigit((unsigned char)s[i + 4]) &&
	    isdigit((unsigned char)s[i + 5]) && s[i + 6] == '\0' &&
	    (s[i + 1] - '0') * 10 + (s[i + 2] - '0') < 16 && (s[i + 4] - '0') * 10 + (s[i + 5] - '0') < 60))
		return false;
	return datetime_fields_ok(s);
}

bool
valid_time(json_object *v, const char **why)
{
	*why = "must be an RFC 3339 time such as 2030-01-31T12:00:00Z";
	return json_object_is_type(v, json_type_string) && time_ok(json_object_get_string(v), why);
}

bool
uuid_ok(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Data objects (src/handlers/objects.c). */

bool
valid_type(json_object *v, const char **why)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	size_t n = s ? strlen(s) : 0;

	*why = "must be a lowercase word: a letter, then letters, digits or _ (at most 40)";
	if (s == NULL || n < 1 || n > TYPE_MAX_CHARS ||
	    (size_t)json_object_get_string_len(v) != n || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/*
 * The config's JSON text as it goes to the database: json-c's compact
 * form, where every number is written as the client sent it (the body
 * parser gave each its original text: util/jsoncheck.h), every string
 * holds what the client's escapes said, and every key is unique.
 */
const char *
config_json_text(json_object *v, struct json_size *size)
{
	const char *text = json_object_to_json_string_ext(v, (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	if (text == NULL || json_measure(text, strlen(text), size) < 0)
		return NULL;
	return text;
}

bool
valid_config(json_object *v, const char **why)
{
	struct json_size size;

	if (!json_object_is_type(v, json_type_object)) {
		*why = "must be a JSON object";
		return false;
	}
	if (config_json_text(v, &size) == NULL || size.full > CONFIG_MAX_BYTES) {
		*why = "must be at most 16 KiB (numbers count with every digit they are stored with)";
		return false;
	}
	return true;
}

bool
valid_uuid(json_object *v, const char **why)
{
	if (!json_object_is_type(v, json_type_string) || !uuid_ok(json_object_get_string(v))) {
		*why = "must be an id (a UUID)";
		return false;
	}
	return true;
}

bool
valid_uuid_list(json_object *v, const char **why)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array)) {
		*why = "must be an array of ids";
		return false;
	}
	n = json_object_array_length(v);
	if (n > INTEGRATIONS_MAX) {
		*why = "must name at most 100 ids";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!valid_uuid(e, why)) {
			*why = "must be an array of ids (UUIDs)";
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(json_object_get_string(e),
			        json_object_get_string(json_object_array_get_idx(v, j)))) {
				*why = "must not name the same id twice";
				return false;
			}
	}
	return true;
}

/* "manual" or "every N minutes", N from 5 to 1440 without leading zeros. */
bool
valid_schedule(json_object *v, const char **why)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	int n = 0, digits = 0;

	*why = "must be \"manual\" or \"every N minutes\" with N from 5 to 1440";
	if (!strcmp(s, "manual"))
		return true;
	if (strncmp(s, "every ", 6) != 0)
		return false;
	for (s += 6; *s >= '0' && *s <= '9' && digits < 5; s++, digits++) {
		if (digits == 0 && *s == '0')
			return false;
		n = n * 10 + (*s - '0');
	}
	return digits > 0 && !strcmp(s, " minutes") && n >= 5 && n <= 1440;
}

bool
valid_bool(json_object *v, const char **why)
{
	if (!json_object_is_type(v, json_type_boolean)) {
		*why = "must be true or false";
		return false;
	}
	return true;
}

/* Orgs (src/handlers/orgs.c). */

bool
valid_ttl(json_object *v, const char **why)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int)) {
		*why = "must be a whole number of hours";
		return false;
	}
	n = json_object_get_int64(v);
	if (n < 1 || n > 720) {
		*why = "must be from 1 to 720 hours";
		return false;
	}
	return true;
}

bool
valid_plan(json_object *v, const char **why)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	if (strcmp(s, "trial") && strcmp(s, "free") && strcmp(s, "pro")) {
		*why = "must be trial, free or pro";
		return false;
	}
	return true;
}

int
validate_body(json_object *body, const struct field *fields, size_t n, json_object **out,
    struct http_response *res)
{
	char message[300];
	const char *why = NULL;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (body != NULL) {
		json_object_object_foreach(body, key, val) {
			size_t i;
			for (i = 0; i < n; i++)
				if (!strcmp(fields[i].name, key))
					break;
			if (i == n) {
				/* At most 64 bytes of the name, cut at a character boundary. */
				int cut = (int)strlen(key);
				if (cut > 64)
					for (cut = 64; cut > 0 && ((unsigned char)key[cut] & 0xc0) == 0x80; cut--)
						;
				snprintf(message, sizeof(message), "unknown field \"%.*s\"", cut, key);
				http_error(res, 400, "validation_failed", message, key);
				return -1;
			}
			out[i] = val;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i] == NULL || json_object_is_type(out[i], json_type_null)) {
			out[i] = NULL;
			if (fields[i].required) {
				snprintf(message, sizeof(message), "%s is required", fields[i].name);
				http_error(res, 400, "validation_failed", message, fields[i].name);
				return -1;
			}
			continue;
		}
		if (!fields[i].check(out[i], &why)) {
			snprintf(message, sizeof(message), "%s %s", fields[i].name, why);
			http_error(res, 400, "validation_failed", message, fields[i].name);
			return -1;
		}
	}
	return 0;
}

int
validate_fields(json_object *body, const struct fieldset *fs, json_object **out,
    struct http_response *res)
{
	struct field optional[FIELDS_MAX];

	if (fs->n > FIELDS_MAX) {
		http_error(res, 500, "internal", "internal error", NULL);
		return -1;
	}
	if (!fs->patch)
		return validate_body(body, fs->fields, fs->n, out, res);
	for (size_t i = 0; i < fs->n; i++) {
		optional[i] = fs->fields[i];
		optional[i].required = false;
	}
	return validate_body(body, optional, fs->n, out, res);
}

/* Access reviews (src/handlers/reviews.c). */

bool
valid_decision(json_object *v, const char **why)
{
	const char *s;

	if (!want_string(v, why))
		return false;
	s = json_object_get_string(v);
	if (strcmp(s, "keep") && strcmp(s, "remove") && strcmp(s, "change_role")) {
		*why = "must be keep, remove or change_role";
		return false;
	}
	return true;
}

bool
valid_note(json_object *v, const char **why)
{
	const char *s;
	size_t len;

	if (!want_string(v, why))
		return false;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len) {
		*why = "must not contain NUL characters";
		return false;
	}
	if (utf8_chars(s, len) > ACCESS_REVIEW_NOTE_MAX_CHARS) {
		*why = "must be at most 500 characters";
		return false;
	}
	return true;
}

bool
valid_review_interval(json_object *v, const char **why)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int)) {
		*why = "must be a whole number of days";
		return false;
	}
	n = json_object_get_int64(v);
	if (n != 0 && (n < 30 || n > 365)) {
		*why = "must be 0 (off) or from 30 to 365 days";
		return false;
	}
	return true;
}
