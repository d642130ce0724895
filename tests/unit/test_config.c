/*
 * test_config: the finicom.conf parser.  valid[] files parse to the values
 * expected; invalid[] files fail with a message naming the file and line.
 */
#include <stdlib.h>

#include "tap.h"
#include "util/config.h"

static int
parse_text(const char *text, struct config *cfg, char *err, size_t errlen)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc = config_parse(fp, "test.conf", cfg, err, errlen);

	fclose(fp);
	return rc;
}

#define BASE "listen = /run/finicom.sock\ndatabase = dbname=finicom user=finicom_app\n" \
	"public_url = https://teams.example.com/\n"

static void
test_config_valid(void)
{
	struct config cfg;
	char err[256] = "";

	ok(parse_text(BASE, &cfg, err, sizeof(err)) == 0, "minimal config parses (%s)", err);
	is_str(cfg.listen, "/run/finicom.sock", "listen path kept");
	is_str(cfg.database, "dbname=finicom user=finicom_app", "value with spaces and '=' kept whole");
	is_str(cfg.public_url, "https://teams.example.com", "public_url trailing slash removed");
	is_int(cfg.workers, 4, "workers defaults to 4");
	is_int(cfg.listen_mode, 0660, "listen_mode defaults to 0660");
	ok(cfg.cookie_secure, "cookie_secure defaults to true");
	ok(cfg.signup == SIGNUP_OPEN, "signup defaults to open");
	ok(cfg.smtp_starttls == STARTTLS_REQUIRED, "smtp_starttls defaults to required");
	is_int(cfg.session_idle_timeout, 12 * 3600, "session_idle_timeout defaults to 12 h");
	is_int(cfg.session_max_age, 7 * 86400, "session_max_age defaults to 7 d");

	ok(parse_text("# comment\n\n  " BASE "workers = 8\nlisten_mode = 0666\nlisten_group = www-data\n"
	    "cookie_secure = false\nsignup = invite_only\nlog_level = debug\nsmtp_port = 2525\n"
	    "smtp_starttls = off\nsession_idle_timeout = 15m\nsession_max_age = 90\nmail_from = \"Finicom <no-reply@example.com>\"\n",
	    &cfg, err, sizeof(err)) == 0, "full config parses (%s)", err);
	is_int(cfg.workers, 8, "workers = 8");
	is_int(cfg.listen_mode, 0666, "listen_mode octal");
	is_str(cfg.listen_group, "www-data", "listen_group");
	ok(!cfg.cookie_secure, "cookie_secure = false");
	ok(cfg.signup == SIGNUP_INVITE_ONLY, "signup = invite_only");
	ok(cfg.log_level == LOG_DEBUG, "log_level = debug");
	is_int(cfg.smtp_port, 2525, "smtp_port");
	ok(cfg.smtp_starttls == STARTTLS_OFF, "smtp_starttls = off");
	is_int(cfg.session_idle_timeout, 900, "duration with unit m");
	is_int(cfg.session_max_age, 90, "duration without unit is seconds");
	is_str(cfg.mail_from, "Finicom <no-reply@example.com>", "quoted value unquoted");

	ok(parse_text("listen = 127.0.0.1:9000\ndatabase = x\npublic_url = http://127.0.0.1:8080\n",
	    &cfg, err, sizeof(err)) == 0, "TCP listen address parses");

	/* Mail is retried like an MTA's queue: for days, waits capped at an hour. */
	ok(parse_text(BASE, &cfg, err, sizeof(err)) == 0, "minimal config parses again (%s)", err);
	is_int(cfg.mail_max_age, 5 * 86400, "test-config-mail: mail_max_age defaults to 5 d");
	is_int(cfg.mail_retry_base, 30, "test-config-mail: mail_retry_base defaults to 30 s");
	is_int(cfg.mail_retry_max, 3600, "test-config-mail: mail_retry_max defaults to 1 h");
	is_int(cfg.mail_max_attempts, 0, "test-config-mail: mail_max_attempts has no default limit");
	ok(parse_text(BASE "mail_max_age = 2d\nmail_retry_base = 1m\nmail_retry_max = 30m\n"
	    "mail_max_attempts = 40\n", &cfg, err, sizeof(err)) == 0, "test-config-mail: mail keys parse (%s)",
	    err);
	is_int(cfg.mail_max_age, 2 * 86400, "test-config-mail: mail_max_age = 2d");
	is_int(cfg.mail_retry_base, 60, "test-config-mail: mail_retry_base = 1m");
	is_int(cfg.mail_retry_max, 1800, "test-config-mail: mail_retry_max = 30m");
	is_int(cfg.mail_max_attempts, 40, "test-config-mail: mail_max_attempts = 40 still works");

	/* The auth processes: as many as workers, finicom_auth, 5 s. */
	{
		char conninfo[CONFIG_PATH_MAX + 32];

		ok(parse_text(BASE "workers = 6\n", &cfg, err, sizeof(err)) == 0, "test-config-auth: defaults (%s)", err);
		is_int(config_auth_processes(&cfg), 6, "test-config-auth: auth_processes defaults to the workers");
		is_int(cfg.auth_timeout, 5, "test-config-auth: auth_timeout defaults to 5 s");
		ok(config_auth_conninfo(&cfg, conninfo, sizeof(conninfo)) == 0, "test-config-auth: a conninfo");
		is_str(conninfo, "dbname=finicom user=finicom_app user=finicom_auth",
		    "test-config-auth: without auth_database, database with user=finicom_auth last (it wins)");
		ok(parse_text("listen = /run/f.sock\ndatabase = postgresql://db/finicom?sslmode=require\n"
		    "public_url = https://x.example\n", &cfg, err, sizeof(err)) == 0, "test-config-auth: URI (%s)", err);
		ok(config_auth_conninfo(&cfg, conninfo, sizeof(conninfo)) == 0 &&
		    !strcmp(conninfo, "postgresql://db/finicom?sslmode=require&user=finicom_auth"),
		    "test-config-auth: a URI gets user=finicom_auth as a query parameter (%s)", conninfo);
		ok(parse_text(BASE "auth_processes = 2\nauth_timeout = 90s\n"
		    "auth_database = host=/run/pg dbname=finicom user=finicom_auth passfile=/etc/finicom/auth.pgpass\n",
		    &cfg, err, sizeof(err)) == 0, "test-config-auth: keys parse (%s)", err);
		is_int(config_auth_processes(&cfg), 2, "test-config-auth: auth_processes = 2");
		is_int(cfg.auth_timeout, 90, "test-config-auth: auth_timeout = 90s");
		ok(config_auth_conninfo(&cfg, conninfo, sizeof(conninfo)) == 0 &&
		    !strcmp(conninfo, "host=/run/pg dbname=finicom user=finicom_auth passfile=/etc/finicom/auth.pgpass"),
		    "test-config-auth: auth_database is used as it is");
	}
}

/* public_url: an absolute http(s) URL with a host; what is kept of it. */
static void
test_config_public_url(void)
{
	static const struct {
		const char *url;
		const char *kept; /* NULL: must be refused */
	} cases[] = {
		{"https://teams.example.com", "https://teams.example.com"},
		{"https://teams.example.com///", "https://teams.example.com"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"https://example.com/teams/", "https://example.com/teams"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://localhost", "http://localhost"},
		{"https:///", NULL},
		{"https://", NULL},
		{"http://", NULL},
		{"http:///teams", NULL},
		{"https://:8080/", NULL},
		{"https://a.b:/", NULL},
		{"https://a.b:0", NULL},
		{"https://a.b:65536", NULL},
		{"https://a.b:80x", NULL},
		{"https://user:pw@a.b", NULL},
		{"https://a.b/?x=1", NULL},
		{"https://a.b/#top", NULL},
		{"https://a b", NULL},
		{"https://a.b\\x", NULL},
		{"https://[::1", NULL},
		{"https://[]", NULL},
		{"https://a%2eb", NULL},
		{"ftp://a.b", NULL},
		{"teams.example.com", NULL},
		{"HTTPS//a.b", NULL},
	};
	static const char want[] = "test.conf:3: invalid value for \"public_url\": ";
	struct config cfg;
	char text[512], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		snprintf(text, sizeof(text), "listen = /x.sock\ndatabase = x\npublic_url = %s\n", cases[i].url);
		err[0] = '\0';
		rc = parse_text(text, &cfg, err, sizeof(err));
		if (cases[i].kept != NULL) {
			ok(rc == 0 && !strcmp(cfg.public_url, cases[i].kept),
			    "public_url %s is kept as %s (%s)", cases[i].url, cases[i].kept, rc ? err : cfg.public_url);
		} else {
			ok(rc == -1 && !strncmp(err, want, strlen(want)),
			    "test-config-bad-public-url %s is refused (%s)", cases[i].url,
			    rc ? err : cfg.public_url);
		}
	}
	err[0] = '\0';
	parse_text("listen = /x.sock\ndatabase = x\npublic_url = https:///\n", &cfg, err, sizeof(err));
	ok(strstr(err, "no host") != NULL, "https:/// is refused because it has no host: %s", err);
}

static void
test_config_bad(void)
{
	static const struct {
		const char *text;
		const char *message; /* expected prefix of the error */
	} invalid[] = {
		{BASE "bogus = 1\n", "test.conf:4: unknown key \"bogus\""},
		{BASE "workers = 0\n", "test.conf:4: invalid value for \"workers\""},
		{BASE "workers = 12x\n", "test.conf:4: invalid value for \"workers\""},
		{BASE "workers = 999\n", "test.conf:4: invalid value for \"workers\""},
		{BASE "listen_mode = 999\n", "test.conf:4: invalid value for \"listen_mode\""},
		{BASE "cookie_secure = maybe\n", "test.conf:4: invalid value for \"cookie_secure\""},
		{BASE "signup = closed\n", "test.conf:4: invalid value for \"signup\""},
		{BASE "smtp_port = 70000\n", "test.conf:4: invalid value for \"smtp_port\""},
		{BASE "smtp_starttls = maybe\n", "test.conf:4: invalid value for \"smtp_starttls\""},
		{BASE "log_level = loud\n", "test.conf:4: invalid value for \"log_level\""},
		{BASE "listen_group = bad group\n", "test.conf:4: invalid value for \"listen_group\""},
		{BASE "session_idle_timeout = 0\n", "test.conf:4: invalid value for \"session_idle_timeout\""},
		{BASE "session_idle_timeout = 12x\n", "test.conf:4: invalid value for \"session_idle_timeout\""},
		{BASE "session_max_age = 999d\n", "test.conf:4: invalid value for \"session_max_age\""},
		{BASE "session_max_age = h\n", "test.conf:4: invalid value for \"session_max_age\""},
		{BASE "mail_max_age = 0\n", "test.conf:4: invalid value for \"mail_max_age\""},
		{BASE "mail_max_age = 5x\n", "test.conf:4: invalid value for \"mail_max_age\""},
		{BASE "mail_max_attempts = 0\n", "test.conf:4: invalid value for \"mail_max_attempts\""},
		{BASE "auth_processes = 257\n", "test.conf:4: invalid value for \"auth_processes\""},
		{BASE "auth_processes = -1\n", "test.conf:4: invalid value for \"auth_processes\""},
		{BASE "auth_timeout = 0\n", "test.conf:4: invalid value for \"auth_timeout\""},
		{BASE "auth_timeout = 3m\n", "test.conf:4: invalid value for \"auth_timeout\""},
		{BASE "auth_database =\n", "test.conf:4: invalid value for \"auth_database\""},
		{BASE "workers = 2\nworkers = 3\n", "test.conf:5: key \"workers\" is set twice"},
		{BASE "just words\n", "test.conf:4: expected \"key = value\""},
		{BASE "mail_from = \"open\n", "test.conf:4: unterminated quoted value"},
		{"listen = relative.sock\ndatabase = x\npublic_url = http://a.b\n",
		    "test.conf:1: invalid value for \"listen\""},
		{"listen = /x.sock\ndatabase = x\npublic_url = ftp://a.b\n",
		    "test.conf:3: invalid value for \"public_url\""},
		{"listen = /x.sock\ndatabase =\npublic_url = http://a.b\n",
		    "test.conf:2: invalid value for \"database\""},
		{"listen = /x.sock\npublic_url = http://a.b\n", "test.conf:2: missing required key \"database\""},
	};
	struct config cfg;
	char err[256];

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		err[0] = '\0';
		ok(parse_text(invalid[i].text, &cfg, err, sizeof(err)) == -1 &&
		    strncmp(err, invalid[i].message, strlen(invalid[i].message)) == 0,
		    "test-config-bad-%zu: %s", i, invalid[i].message);
		if (strncmp(err, invalid[i].message, strlen(invalid[i].message)) != 0)
			printf("#   got: %s\n", err);
	}
	ok(config_load("/nonexistent/finicom.conf", &cfg, err, sizeof(err)) == -1 &&
	    strstr(err, "/nonexistent/finicom.conf: could not open") == err,
	    "test-config-bad-missing-file names the file");
}

static void
test_config_sample(void)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	struct config cfg;
	char err[256] = "";

	snprintf(path, sizeof(path), "%s/conf/finicom.conf.sample", top ? top : ".");
	ok(config_load(path, &cfg, err, sizeof(err)) == 0, "conf/finicom.conf.sample is valid (%s)", err);
}

int
main(void)
{
	test_config_valid();
	test_config_bad();
	test_config_public_url();
	test_config_sample();
	return done_testing();
}
