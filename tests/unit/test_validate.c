/*
 * test_validate: every validator of src/validate.c against tables of
 * values it must take and values it must refuse (with the reason it
 * gives), and the body checker: unknown fields, missing required ones,
 * null as absent, a PATCH's fieldset where every field is optional.
 * Values are JSON texts, parsed as the service parses bodies
 * (json_parse_exact: numbers keep their text).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"
#include "tap.h"
#include "util/jsoncheck.h"
#include "validate.h"

struct vcase {
	const char *json; /* a JSON value */
	bool valid;
	const char *why;  /* for an invalid one: the start of the reason, or NULL */
};

static json_object *
parse(const char *text)
{
	const char *why = NULL;

	return json_parse_exact(text, strlen(text), 16, &why);
}

static void
check_table(const char *name, field_validator check, const struct vcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object *v = parse(cases[i].json);
		const char *why = NULL;
		bool got;

		if (v == NULL && strcmp(cases[i].json, "null") != 0) {
			ok(0, "%s %s: the test's JSON parses", name, cases[i].json);
			continue;
		}
		got = check(v, &why);
		if (cases[i].valid)
			ok(got, "%s takes %s", name, cases[i].json);
		else
			ok(!got && why != NULL && (cases[i].why == NULL || !strncmp(why, cases[i].why, strlen(cases[i].why))),
			    "%s refuses %s (%s)", name, cases[i].json, why ? why : "no reason");
		json_object_put(v);
	}
}

#define TABLE(name, fn, cases) check_table(name, fn, cases, sizeof(cases) / sizeof(cases[0]))

static void
test_validators(void)
{
	static const struct vcase names[] = {
		{"\"Ada\"", true, NULL},
		{"\"Ada Lovelace-Byron\"", true, NULL},
		{"\"\\u00c5sa \\ud83d\\ude00\"", true, NULL},
		{"\"\"", false, "must be 1 to 200"},
		{"\"   \"", false, "must not be blank"},
		{"\"tab\\there\"", false, "must not contain control"},
		{"42", false, "must be a string"},
		{"[\"Ada\"]", false, "must be a string"},
	};
	static const struct vcase passwords[] = {
		{"\"correct horse\"", true, NULL},
		{"\"12345678\"", true, NULL}, /* length only here: common ones are refused elsewhere */
		{"\"short\"", false, "must be 8 to 1024"},
		{"true", false, "must be a string"},
	};
	static const struct vcase roles[] = {
		{"\"admin\"", true, NULL}, {"\"write\"", true, NULL}, {"\"read\"", true, NULL},
		{"\"Admin\"", false, "must be admin, write or read"},
		{"\"owner\"", false, "must be admin, write or read"},
		{"\"\"", false, "must be admin, write or read"},
		{"1", false, "must be a string"},
	};
	static const struct vcase times[] = {
		{"\"2030-01-31T12:00:00Z\"", true, NULL},
		{"\"2030-01-31T12:00:00.123456+05:30\"", true, NULL},
		{"\"2028-02-29T00:00:00-15:59\"", true, NULL},
		{"\"2030-02-29T00:00:00Z\"", false, NULL},    /* not a leap year */
		{"\"2030-13-01T00:00:00Z\"", false, NULL},
		{"\"0000-01-01T00:00:00Z\"", false, NULL},
		{"\"2030-01-01T00:00:00+16:00\"", false, NULL}, /* PostgreSQL refuses 16 h */
		{"\"2030-01-01T00:00:00\"", false, NULL},        /* no zone */
		{"\"2030-01-01\"", false, NULL},
		{"1893456000", false, NULL},
	};
	static const struct vcase ttls[] = {
		{"1", true, NULL}, {"72", true, NULL}, {"720", true, NULL},
		{"0", false, "must be from 1 to 720"}, {"721", false, "must be from 1 to 720"},
		{"-5", false, "must be from 1 to 720"}, {"1.5", false, "must be a whole number"},
		{"\"72\"", false, "must be a whole number"},
	};
	static const struct vcase plans[] = {
		{"\"trial\"", true, NULL}, {"\"free\"", true, NULL}, {"\"pro\"", true, NULL},
		{"\"enterprise\"", false, "must be trial, free or pro"}, {"\"PRO\"", false, NULL},
		{"null", false, NULL},
	};
	static const struct vcase types[] = {
		{"\"postgres\"", true, NULL}, {"\"s3_bucket2\"", true, NULL},
		{"\"a234567890123456789012345678901234567890\"", true, NULL},                /* 40 */
		{"\"a2345678901234567890123456789012345678901\"", false, "must be a lowercase word"}, /* 41 */
		{"\"Postgres\"", false, NULL}, {"\"2fa\"", false, NULL}, {"\"my-db\"", false, NULL},
		{"\"\"", false, NULL}, {"7", false, NULL},
	};
	static const struct vcase configs[] = {
		{"{}", true, NULL},
		{"{\"host\": \"db\", \"port\": 5432, \"tls\": {\"on\": true}}", true, NULL},
		{"[]", false, "must be a JSON object"},
		{"\"{}\"", false, "must be a JSON object"},
	};
	static const struct vcase uuids[] = {
		{"\"8c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5f\"", true, NULL},
		{"\"8C5B6F0E-64D4-4E5C-9D67-0A1B2C3D4E5F\"", true, NULL},
		{"\"8c5b6f0e64d44e5c9d670a1b2c3d4e5f\"", false, "must be an id"},
		{"\"8c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5\"", false, "must be an id"},
		{"\"8c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5g\"", false, "must be an id"},
		{"123", false, "must be an id"},
	};
	static const struct vcase uuid_lists[] = {
		{"[]", true, NULL},
		{"[\"8c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5f\", \"9c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5f\"]", true, NULL},
		{"[\"8c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5f\", \"8C5B6F0E-64D4-4E5C-9D67-0A1B2C3D4E5F\"]", false,
		    "must not name the same id twice"},
		{"[\"x\"]", false, "must be an array of ids"},
		{"\"8c5b6f0e-64d4-4e5c-9d67-0a1b2c3d4e5f\"", false, "must be an array of ids"},
	};
	static const struct vcase schedules[] = {
		{"\"manual\"", true, NULL}, {"\"every 5 minutes\"", true, NULL},
		{"\"every 1440 minutes\"", true, NULL},
		{"\"every 4 minutes\"", false, NULL}, {"\"every 1441 minutes\"", false, NULL},
		{"\"every 05 minutes\"", false, NULL}, {"\"every 10 minute\"", false, NULL},
		{"\"Manual\"", false, NULL}, {"\"every  10 minutes\"", false, NULL}, {"10", false, NULL},
	};
	static const struct vcase bools[] = {
		{"true", true, NULL}, {"false", true, NULL},
		{"\"true\"", false, "must be true or false"}, {"1", false, "must be true or false"},
	};

	TABLE("valid_name", valid_name, names);
	TABLE("valid_password", valid_password, passwords);
	TABLE("valid_role", valid_role, roles);
	TABLE("valid_time", valid_time, times);
	TABLE("valid_ttl", valid_ttl, ttls);
	TABLE("valid_plan", valid_plan, plans);
	TABLE("valid_type", valid_type, types);
	TABLE("valid_config", valid_config, configs);
	TABLE("valid_uuid", valid_uuid, uuids);
	TABLE("valid_uuid_list", valid_uuid_list, uuid_lists);
	TABLE("valid_schedule", valid_schedule, schedules);
	TABLE("valid_bool", valid_bool, bools);
}

/* A config just over CONFIG_MAX_BYTES as stored is refused; one at it is taken. */
static void
test_config_size(void)
{
	char text[CONFIG_MAX_BYTES + 64];
	const char *why = NULL;
	json_object *v;
	size_t pad;

	/* {"k":"...."}: 8 bytes around the string. */
	pad = CONFIG_MAX_BYTES - 8;
	memcpy(text, "{\"k\":\"", 6);
	memset(text + 6, 'x', pad);
	memcpy(text + 6 + pad, "\"}", 3);
	v = parse(text);
	ok(v != NULL && valid_config(v, &why), "a config of exactly CONFIG_MAX_BYTES is taken");
	json_object_put(v);
	memcpy(text + 6, "xx", 2);
	memset(text + 6, 'x', pad + 1);
	memcpy(text + 6 + pad + 1, "\"}", 3);
	v = parse(text);
	ok(v != NULL && !valid_config(v, &why), "one byte more is refused");
	json_object_put(v);
	/* 1e3000 is stored as 1 and 3000 zeros: it counts that long. */
	v = parse("{\"n\": 1e20000}");
	ok(v != NULL && !valid_config(v, &why), "a number counts with every digit it is stored with");
	json_object_put(v);
}

static void
test_uuid_and_dates(void)
{
	ok(uuid_ok("00000000-0000-0000-0000-000000000000"), "uuid_ok: all zeros");
	ok(!uuid_ok(NULL), "uuid_ok: NULL");
	ok(!uuid_ok(""), "uuid_ok: empty");
	ok(!uuid_ok("00000000-0000-0000-0000-0000000000000"), "uuid_ok: one digit too many");
	ok(!uuid_ok("{00000000-0000-0000-0000-000000000000}"), "uuid_ok: braces");
	ok(datetime_fields_ok("2024-02-29T23:59:59"), "datetime: leap day");
	ok(!datetime_fields_ok("2100-02-29T00:00:00"), "datetime: 2100 is not a leap year");
	ok(datetime_fields_ok("2000-02-29T00:00:00"), "datetime: 2000 is");
	ok(!datetime_fields_ok("2024-04-31T00:00:00"), "datetime: April 31");
	ok(!datetime_fields_ok("2024-01-01T24:00:00"), "datetime: hour 24");
	ok(!datetime_fields_ok("2024-01-01T00:60:00"), "datetime: minute 60");
	ok(!datetime_fields_ok("2024-01-01T00:00:60"), "datetime: second 60");
}

static const struct field body_fields[] = {
	{"name", valid_name, true},
	{"role", valid_role, false},
};
static const struct fieldset body = FIELDSET(body_fields);
static const struct fieldset body_patch = FIELDSET_PATCH(body_fields);

/* Run the body checker on text; 0 or the status it answered, field named in *field. */
static int
run(const struct fieldset *fs, const char *text, json_object **out, char *field, size_t cap)
{
	struct http_response res;
	json_object *v = text ? parse(text) : NULL;
	int rc, status;

	http_response_init(&res);
	rc = validate_fields(v, fs, out, &res);
	status = rc == 0 ? 0 : res.status;
	field[0] = '\0';
	if (rc != 0 && res.body != NULL) {
		json_object *e, *f;
		if (json_object_object_get_ex(res.body, "error", &e) && json_object_object_get_ex(e, "field", &f))
			snprintf(field, cap, "%s", json_object_get_string(f));
	}
	http_response_clear(&res);
	/* out[] borrows from v: the caller only looks at whether each is set. */
	json_object_put(v);
	return status;
}

static void
test_body_checker(void)
{
	json_object *out[FIELDS_MAX];
	char field[64];

	ok(run(&body, "{\"name\": \"Ada\", \"role\": \"read\"}", out, field, sizeof(field)) == 0 &&
	    out[0] != NULL && out[1] != NULL, "both fields taken");
	ok(run(&body, "{\"name\": \"Ada\"}", out, field, sizeof(field)) == 0 && out[1] == NULL,
	    "an optional field may be absent");
	ok(run(&body, "{\"name\": \"Ada\", \"role\": null}", out, field, sizeof(field)) == 0 && out[1] == NULL,
	    "null is absent");
	ok(run(&body, "{\"role\": \"read\"}", out, field, sizeof(field)) == 400 && !strcmp(field, "name"),
	    "a missing required field is 400 naming it");
	ok(run(&body, "{\"name\": \"Ada\", \"nick\": \"A\"}", out, field, sizeof(field)) == 400 &&
	    !strcmp(field, "nick"), "an unknown field is 400 naming it");
	ok(run(&body, "{\"name\": \"Ada\", \"role\": \"boss\"}", out, field, sizeof(field)) == 400 &&
	    !strcmp(field, "role"), "a bad value is 400 naming its field");
	ok(run(&body, NULL, out, field, sizeof(field)) == 400 && !strcmp(field, "name"),
	    "no body: the required field is missing");
	ok(run(&body_patch, "{\"role\": \"write\"}", out, field, sizeof(field)) == 0 && out[0] == NULL &&
	    out[1] != NULL, "a PATCH's fieldset: the required field may be absent");
	ok(run(&body_patch, "{}", out, field, sizeof(field)) == 0, "a PATCH may send nothing");
	ok(run(&body_patch, "{\"name\": \"\"}", out, field, sizeof(field)) == 400 && !strcmp(field, "name"),
	    "a PATCH's values are still checked");
}

int
main(void)
{
	test_validators();
	test_config_size();
	test_uuid_and_dates();
	test_body_checker();
	return done_testing();
}
