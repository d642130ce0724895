/*
 * validate: field validators and the body checker.  See validate.h.
 */
#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "authz.h"
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

bool
email_ok(const char *s, const char **why)
{
	size_t len = strlen(s);
	const char *at = strchr(s, '@'), *domain, *dot;

	if (len == 0 || len > EMAIL_MAX_BYTES) {
		*why = "must be an email address of at most 254 bytes";
		return false;
	}
	if (at == NULL || at == s || strchr(at + 1, '@') != NULL) {
		*why = "must be an email address with one @";
		return false;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' ||
		    *p == ';' || *p == '"' || *p == '\\' || *p == '(' || *p == ')') {
			*why = "must be an email address without spaces or special characters";
			return false;
		}
	domain = at + 1;
	dot = strchr(domain, '.');
	if (dot == NULL || domain[0] == '.' || domain[strlen(domain) - 1] == '.' ||
	    strstr(domain, "..") != NULL) {
		*why = "must be an email address with a dotted domain";
		return false;
	}
	return true;
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

static bool
want_string(json_object *v, const char **why)
{
	if (!json_object_is_type(v, json_type_string)) {
		*why = "must be a string";
		return false;
	}
	return true;
}

bool
valid_email(json_object *v, const char **why)
{
	const char *s;

	if (!want_string(v, why))
		return false;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		*why = "must not contain NUL characters";
		return false;
	}
	return email_ok(s, why);
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
				snprintf(message, sizeof(message), "unknown field \"%.64s\"", key);
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
