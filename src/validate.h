/*
 * validate: request body fields, checked by named validators before a
 * handler reads them (kcgi's pattern).  A handler declares its fields as a
 * table; validate_body() refuses unknown fields, missing required ones and
 * bad values with 400 validation_failed naming the field, and hands back
 * each field's value (borrowed from the body; NULL when absent).
 */
#ifndef FINICOM_VALIDATE_H
#define FINICOM_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "http.h"

#define NAME_MAX_CHARS 200

/* A validator: true when v is acceptable; otherwise *why says what is wrong. */
typedef bool (*field_validator)(json_object *v, const char **why);

struct field {
	const char *name;
	field_validator check;
	bool required;
};

/* The most fields a body has. */
#define FIELDS_MAX 8

/*
 * The fields of a route's body (src/routes.c): a field table, its length,
 * and whether every field is optional whatever the table says (a PATCH
 * sends only what changes).
 */
struct fieldset {
	const struct field *fields;
	size_t n;
	bool patch;
};
#define FIELDSET(table) {(table), sizeof(table) / sizeof((table)[0]), false}
#define FIELDSET_PATCH(table) {(table), sizeof(table) / sizeof((table)[0]), true}

/*
 * Check body (may be NULL: no body) against fields[0..n).  On success
 * returns 0 with out[i] set; on failure writes the 400 into res, returns -1.
 */
int validate_body(json_object *body, const struct field *fields, size_t n, json_object **out,
    struct http_response *res);

/* validate_body() for a route's fieldset (fs->n ≤ FIELDS_MAX). */
int validate_fields(json_object *body, const struct fieldset *fs, json_object **out,
    struct http_response *res);

/*
 * An email address by the rule of util/email.h; on success the string is
 * replaced by its canonical form (IDN domain as A-labels, domain
 * lowercased), which the handler then reads.
 */
bool valid_email(json_object *v, const char **why);
bool valid_password(json_object *v, const char **why);
bool valid_name(json_object *v, const char **why);
bool valid_role(json_object *v, const char **why);
/*
 * An RFC 3339 time with a zone (Z or +hh:mm, optional fraction) that
 * PostgreSQL's timestamptz takes without a data exception: a date that
 * exists (datetime_fields_ok) and an offset under 16 hours.  For every body
 * field that is a time (API keys' expires_at).
 */
bool valid_time(json_object *v, const char **why);
/* The same check on a string (query parameters: the audit log's from, to). */
bool time_ok(const char *s, const char **why);

/* Orgs: invite_ttl_hours (1 to 720 hours), plan (trial, free or pro). */
bool valid_ttl(json_object *v, const char **why);
bool valid_plan(json_object *v, const char **why);

/*
 * Data objects: type (a lowercase word of at most TYPE_MAX_CHARS), config
 * (a JSON object of at most CONFIG_MAX_BYTES as config_json_text measures
 * it), an id, a list of at most INTEGRATIONS_MAX distinct ids, a schedule
 * ("manual" or "every N minutes", N from 5 to 1440), a boolean.
 */
#define CONFIG_MAX_BYTES (16 * 1024)
#define TYPE_MAX_CHARS 40
#define INTEGRATIONS_MAX 100
bool valid_type(json_object *v, const char **why);
bool valid_config(json_object *v, const char **why);
bool valid_uuid(json_object *v, const char **why);
bool valid_uuid_list(json_object *v, const char **why);
bool valid_schedule(json_object *v, const char **why);
bool valid_bool(json_object *v, const char **why);

struct json_size;
/*
 * The config's JSON text as it goes to the database (json-c's compact form,
 * numbers as the client wrote them) and its measure; NULL when it cannot
 * be printed.
 */
const char *config_json_text(json_object *v, struct json_size *size);

/*
 * Access reviews: an item's decision (keep, remove or change_role), its
 * note (a string of at most ACCESS_REVIEW_NOTE_MAX_CHARS characters, or
 * null), the org's access_review_interval_days (0, or 30 to 365).
 */
#define ACCESS_REVIEW_NOTE_MAX_CHARS 500
bool valid_decision(json_object *v, const char **why);
bool valid_note(json_object *v, const char **why);
bool valid_review_interval(json_object *v, const char **why);

/* The same checks on plain strings (for the CLI; email_ok only says yes or no:
 * email_normalize gives the canonical form). */
bool email_ok(const char *s, const char **why);
bool name_ok(const char *s, size_t len, const char **why);
bool password_ok(const char *s, size_t len, const char **why);
/*
 * A password equal to the account's email or name (ASCII letters compared
 * case-insensitively; either may be NULL) is refused wherever a password
 * is set.
 */
bool password_personal_ok(const char *password, const char *email, const char *name,
    const char **why);
/*
 * The rule for every password being set (signup, accepting an invitation,
 * finicomctl create-user): not on the 10,000 most common passwords
 * (util/common_passwords.h: ASCII case ignored), and password_personal_ok.
 * Not for logins: a password set before the rule still signs in.
 */
bool password_new_ok(const char *password, const char *email, const char *name,
    const char **why);

/*
 * The fields of "YYYY-MM-DDTHH:MM:SS" at s (any separators; the first 19
 * bytes are read) are digits and name a moment that exists: year 0001 to
 * 9999, a day the month has (leap years too), hour 00-23, minute and
 * second 00-59.  PostgreSQL refuses the rest with a data exception.
 */
bool datetime_fields_ok(const char *s);

/* Parse a UUID in canonical text form (any case); true when well formed. */
bool uuid_ok(const char *s);

#endif
