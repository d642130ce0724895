/*
 * config: parse finicom.conf into struct config.  See config.h.
 *
 * The keys are a table (name, parser, where the value goes), in the manner of
 * kcgi's validator arrays: adding a key is one line here and one field there.
 */
#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef int (*value_parser)(const char *value, void *dst, size_t size, const char **why);

struct key_spec {
	const char *name;
	value_parser parse;
	size_t offset;
	size_t size;
	bool required;
};

static int
parse_string(const char *v, void *dst, size_t size, const char **why)
{
	if (strlen(v) >= size) {
		*why = "value is too long";
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
parse_nonempty(const char *v, void *dst, size_t size, const char **why)
{
	if (*v == '\0') {
		*why = "value must not be empty";
		return -1;
	}
	return parse_string(v, dst, size, why);
}

static int
parse_int_range(const char *v, int lo, int hi, int base, int *out)
{
	char *end;
	long n;

	if (*v == '\0' || !(isdigit((unsigned char)*v)))
		return -1;
	errno = 0;
	n = strtol(v, &end, base);
	if (errno || *end != '\0' || n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

static int
parse_workers(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (parse_int_range(v, 1, 256, 10, dst) < 0) {
		*why = "expected a whole number from 1 to 256";
		return -1;
	}
	return 0;
}

static int
parse_auth_processes(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (parse_int_range(v, 0, 256, 10, dst) < 0) {
		*why = "expected a whole number from 0 (as many as workers) to 256";
		return -1;
	}
	return 0;
}

static int
parse_attempts(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (parse_int_range(v, 1, 1000, 10, dst) < 0) {
		*why = "expected a whole number from 1 to 1000";
		return -1;
	}
	return 0;
}

static int
parse_port(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (parse_int_range(v, 1, 65535, 10, dst) < 0) {
		*why = "expected a port number from 1 to 65535";
		return -1;
	}
	return 0;
}

static int
parse_mode(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (parse_int_range(v, 0, 0777, 8, dst) < 0) {
		*why = "expected an octal mode such as 0660";
		return -1;
	}
	return 0;
}

/* Seconds, with an optional unit: 90, 90s, 15m, 12h, 7d (1 s to 365 d). */
static int
parse_duration(const char *v, void *dst, size_t size, const char **why)
{
	char num[32];
	size_t n = strlen(v);
	int mult = 1, value;

	(void)size;
	if (n > 0 && n < sizeof(num) && strchr("smhd", v[n - 1]) != NULL) {
		mult = v[n - 1] == 's' ? 1 : v[n - 1] == 'm' ? 60 : v[n - 1] == 'h' ? 3600 : 86400;
		n--;
	}
	if (n == 0 || n >= sizeof(num)) {
		*why = "expected a duration such as 90s, 15m, 12h or 7d";
		return -1;
	}
	memcpy(num, v, n);
	num[n] = '\0';
	if (parse_int_range(num, 1, 365 * 86400, 10, &value) < 0 || value > 365 * 86400 / mult) {
		*why = "expected a duration from 1s to 365d, such as 90s, 15m, 12h or 7d";
		return -1;
	}
	*(int *)dst = value * mult;
	return 0;
}

/* A duration of 1 s to 2 min: how long a worker waits for an auth process. */
static int
parse_auth_timeout(const char *v, void *dst, size_t size, const char **why)
{
	if (parse_duration(v, dst, size, why) < 0)
		return -1;
	if (*(int *)dst > 120) {
		*why = "expected a duration from 1s to 2m";
		return -1;
	}
	return 0;
}

static int
parse_bool(const char *v, void *dst, size_t size, const char **why)
{
	bool *b = dst;

	(void)size;
	if (!strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "yes"))
		*b = true;
	else if (!strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "no"))
		*b = false;
	else {
		*why = "expected true or false";
		return -1;
	}
	return 0;
}

static int
parse_signup(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (!strcmp(v, "open"))
		*(enum signup_mode *)dst = SIGNUP_OPEN;
	else if (!strcmp(v, "invite_only"))
		*(enum signup_mode *)dst = SIGNUP_INVITE_ONLY;
	else {
		*why = "expected open or invite_only";
		return -1;
	}
	return 0;
}

static int
parse_plan_changes(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (!strcmp(v, "operator"))
		*(enum plan_changes *)dst = PLAN_CHANGES_OPERATOR;
	else if (!strcmp(v, "admin"))
		*(enum plan_changes *)dst = PLAN_CHANGES_ADMIN;
	else {
		*why = "expected admin or operator";
		return -1;
	}
	return 0;
}

static int
parse_starttls(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (!strcmp(v, "off"))
		*(enum starttls_mode *)dst = STARTTLS_OFF;
	else if (!strcmp(v, "enabled"))
		*(enum starttls_mode *)dst = STARTTLS_ENABLED;
	else if (!strcmp(v, "required"))
		*(enum starttls_mode *)dst = STARTTLS_REQUIRED;
	else {
		*why = "expected off, enabled or required";
		return -1;
	}
	return 0;
}

static int
parse_log_level(const char *v, void *dst, size_t size, const char **why)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	(void)size;
	for (int i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			*(enum log_level *)dst = (enum log_level)i;
			return 0;
		}
	*why = "expected debug, info, warn or error";
	return -1;
}

static int
parse_log_format(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	if (!strcmp(v, "text"))
		*(enum log_format *)dst = LOG_FORMAT_TEXT;
	else if (!strcmp(v, "json"))
		*(enum log_format *)dst = LOG_FORMAT_JSON;
	else {
		*why = "expected text or json";
		return -1;
	}
	return 0;
}

/* "host:port" (a TCP address to listen on: "127.0.0.1:9188", "[::1]:9188"). */
static int
parse_hostport(const char *v, void *dst, size_t size, const char **why)
{
	const char *colon = strrchr(v, ':');
	int port;

	if (v[0] == '/' || colon == NULL || colon == v || parse_int_range(colon + 1, 1, 65535, 10, &port) < 0) {
		*why = "expected host:port";
		return -1;
	}
	return parse_string(v, dst, size, why);
}

/* "/absolute/path" (fits sockaddr_un) or "host:port". */
static int
parse_listen(const char *v, void *dst, size_t size, const char **why)
{
	const char *colon;
	int port;

	if (v[0] == '/') {
		if (strlen(v) >= 108) {
			*why = "unix socket path is longer than 107 bytes";
			return -1;
		}
		return parse_string(v, dst, size, why);
	}
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v || parse_int_range(colon + 1, 1, 65535, 10, &port) < 0) {
		*why = "expected an absolute unix socket path or host:port";
		return -1;
	}
	return parse_string(v, dst, size, why);
}

/*
 * An absolute http:// or https:// URL with a host (a name, an IPv4 address
 * or an [IPv6] literal), an optional port and an optional path; invitation
 * links are this followed by "/invite/<token>", so no user info, query or
 * fragment.  Trailing slashes of the path are removed.
 */
static int
parse_url(const char *v, void *dst, size_t size, const char **why)
{
	const char *host, *end, *p;
	size_t n, scheme;

	if (!strncmp(v, "http://", 7))
		scheme = 7;
	else if (!strncmp(v, "https://", 8))
		scheme = 8;
	else {
		*why = "expected an absolute http:// or https:// URL";
		return -1;
	}
	for (p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f || *p == '"' || *p == '<' ||
		    *p == '>' || *p == '\\') {
			*why = "URL contains a space, quote, backslash or control character";
			return -1;
		}
	if (strpbrk(v, "?#") != NULL) {
		*why = "URL must not have a query or fragment (invitation links are appended to it)";
		return -1;
	}
	host = v + scheme;
	end = host + strcspn(host, "/");
	if (memchr(host, '@', (size_t)(end - host)) != NULL) {
		*why = "URL must not contain a user name or password";
		return -1;
	}
	p = host;
	if (*p == '[') {
		/* IPv6 literal: hex digits, ':' and '.' between the brackets. */
		for (p++; p < end && (isxdigit((unsigned char)*p) || *p == ':' || *p == '.'); p++)
			;
		if (p == host + 1 || p >= end || *p != ']') {
			*why = "URL has an invalid [IPv6] host";
			return -1;
		}
		p++;
	} else {
		for (; p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_'); p++)
			;
		if (p == host) {
			*why = "URL has no host (expected http://host or https://host)";
			return -1;
		}
	}
	if (p < end && *p == ':') {
		char port[8];
		int num;

		n = (size_t)(end - p - 1);
		if (n == 0 || n >= sizeof(port)) {
			*why = "URL has an invalid port (expected 1 to 65535)";
			return -1;
		}
		memcpy(port, p + 1, n);
		port[n] = '\0';
		if (parse_int_range(port, 1, 65535, 10, &num) < 0) {
			*why = "URL has an invalid port (expected 1 to 65535)";
			return -1;
		}
		p = end;
	}
	if (p != end) {
		*why = "URL has an invalid host";
		return -1;
	}
	if (parse_string(v, dst, size, why) < 0)
		return -1;
	n = strlen(v);
	while (n > (size_t)(end - v) && ((char *)dst)[n - 1] == '/')
		((char *)dst)[--n] = '\0';
	return 0;
}

static int
parse_group(const char *v, void *dst, size_t size, const char **why)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') {
			*why = "expected a group name";
			return -1;
		}
	return parse_string(v, dst, size, why);
}

static int
parse_cidrs(const char *v, void *dst, size_t size, const char **why)
{
	(void)size;
	return cidr_list_parse(v, dst, why);
}

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

static const struct key_spec keys[] = {
	{"listen", parse_listen, F(listen), true},
	{"listen_mode", parse_mode, F(listen_mode), false},
	{"listen_group", parse_group, F(listen_group), false},
	{"workers", parse_workers, F(workers), false},
	{"database", parse_nonempty, F(database), true},
	{"mailer_database", parse_nonempty, F(mailer_database), false},
	{"auth_database", parse_nonempty, F(auth_database), false},
	{"auth_processes", parse_auth_processes, F(auth_processes), false},
	{"auth_timeout", parse_auth_timeout, F(auth_timeout), false},
	{"database_prepared", parse_bool, F(database_prepared), false},
	{"one_trip_reads", parse_bool, F(one_trip_reads), false},
	{"public_url", parse_url, F(public_url), true},
	{"cookie_secure", parse_bool, F(cookie_secure), false},
	{"signup", parse_signup, F(signup), false},
	{"plan_changes", parse_plan_changes, F(plan_changes), false},
	{"secret_key_file", parse_nonempty, F(secret_key_file), false},
	{"secret_decrypt_key_files", parse_string, F(secret_decrypt_key_files), false},
	{"trusted_proxies", parse_cidrs, F(trusted_proxies), false},
	{"session_idle_timeout", parse_duration, F(session_idle_timeout), false},
	{"session_max_age", parse_duration, F(session_max_age), false},
	{"log_level", parse_log_level, F(log_level), false},
	{"log_format", parse_log_format, F(log_format), false},
	{"mailer_metrics_listen", parse_hostport, F(mailer_metrics_listen), false},
	{"smtp_host", parse_nonempty, F(smtp_host), false},
	{"smtp_port", parse_port, F(smtp_port), false},
	{"smtp_starttls", parse_starttls, F(smtp_starttls), false},
	{"smtp_user", parse_nonempty, F(smtp_user), false},
	{"smtp_password_file", parse_nonempty, F(smtp_password_file), false},
	{"mail_from", parse_nonempty, F(mail_from), false},
	{"smtp_timeout", parse_duration, F(smtp_timeout), false},
	{"mail_retry_base", parse_duration, F(mail_retry_base), false},
	{"mail_retry_max", parse_duration, F(mail_retry_max), false},
	{"mail_max_age", parse_duration, F(mail_max_age), false},
	{"mail_max_attempts", parse_attempts, F(mail_max_attempts), false},
	{"mail_poll_interval", parse_duration, F(mail_poll_interval), false},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen_mode = 0660;
	cfg->workers = 4;
	cfg->cookie_secure = true;
	cfg->database_prepared = true;
	cfg->one_trip_reads = true;
	cfg->auth_processes = 0;
	cfg->auth_timeout = 5;
	cfg->signup = SIGNUP_OPEN;
	cfg->plan_changes = PLAN_CHANGES_OPERATOR;
	cfg->log_level = LOG_INFO;
	cfg->log_format = LOG_FORMAT_TEXT;
	cfg->session_idle_timeout = 12 * 3600;
	cfg->session_max_age = 7 * 86400;
	snprintf(cfg->smtp_host, sizeof(cfg->smtp_host), "127.0.0.1");
	cfg->smtp_port = 25;
	cfg->smtp_starttls = STARTTLS_REQUIRED;
	snprintf(cfg->mail_from, sizeof(cfg->mail_from), "Finicom <no-reply@localhost>");
	cfg->smtp_timeout = 30;
	cfg->mail_retry_base = 30;
	cfg->mail_retry_max = 3600;
	cfg->mail_max_age = 5 * 86400; /* Postfix's maximal_queue_lifetime */
	cfg->mail_max_attempts = 0;      /* no count limit: mail_max_age decides */
	cfg->mail_poll_interval = 10;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

int
config_parse(FILE *fp, const char *name, struct config *cfg, char *err, size_t errlen)
{
	char line[4096];
	bool seen[NKEYS] = {false};
	int lineno = 0;

	config_defaults(cfg);
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *key, *value, *eq;
		const char *why = NULL;
		size_t i;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line is longer than %zu bytes", name, lineno,
			    sizeof(line) - 2);
			return -1;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected \"key = value\"", name, lineno);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		if (value[0] == '"') {
			size_t n = strlen(value);
			if (n < 2 || value[n - 1] != '"') {
				snprintf(err, errlen, "%s:%d: unterminated quoted value", name, lineno);
				return -1;
			}
			value[n - 1] = '\0';
			value++;
		}
		for (i = 0; i < NKEYS; i++)
			if (!strcmp(keys[i].name, key))
				break;
		if (i == NKEYS) {
			snprintf(err, errlen, "%s:%d: unknown key \"%.64s\"", name, lineno, key);
			return -1;
		}
		if (seen[i]) {
			snprintf(err, errlen, "%s:%d: key \"%s\" is set twice", name, lineno, key);
			return -1;
		}
		seen[i] = true;
		if (keys[i].parse(value, (char *)cfg + keys[i].offset, keys[i].size, &why) < 0) {
			snprintf(err, errlen, "%s:%d: invalid value for \"%s\": %s", name, lineno, key, why);
			return -1;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: could not read: %s", name, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].required && !seen[i]) {
			snprintf(err, errlen, "%s:%d: missing required key \"%s\"", name, lineno, keys[i].name);
			return -1;
		}
	return 0;
}

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	int rc;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: could not open: %s", path, strerror(errno));
		return -1;
	}
	rc = config_parse(fp, path, cfg, err, errlen);
	fclose(fp);
	return rc;
}

const char *
config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

int
config_auth_processes(const struct config *cfg)
{
	return cfg->auth_processes > 0 ? cfg->auth_processes : cfg->workers;
}

int
config_auth_conninfo(const struct config *cfg, char *out, size_t cap)
{
	const char *base = cfg->database;
	int n;

	if (cfg->auth_database[0] != '\0')
		n = snprintf(out, cap, "%s", cfg->auth_database);
	else if (!strncmp(base, "postgresql://", 13) || !strncmp(base, "postgres://", 11))
		n = snprintf(out, cap, "%s%suser=finicom_auth", base, strchr(base, '?') ? "&" : "?");
	else
		n = snprintf(out, cap, "%s user=finicom_auth", base);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

bool
config_listen_is_unix(const struct config *cfg)
{
	return cfg->listen[0] == '/';
}
