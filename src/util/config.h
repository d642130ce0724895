/*
 * config: the finicom.conf file shared by finicomd, finicom-mailer and
 * finicomctl.
 *
 * The format is "key = value", one per line; '#' starts a comment line;
 * a value may be wrapped in double quotes.  Every key is known in advance:
 * an unknown key, a repeated key or a bad value is an error that names the
 * file and the line.  Values are stored already parsed and checked.
 */
#ifndef FINICOM_CONFIG_H
#define FINICOM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/client_ip.h"
#include "util/log.h"

#define CONFIG_PATH_MAX 1024

enum signup_mode { SIGNUP_OPEN, SIGNUP_INVITE_ONLY };
enum plan_changes { PLAN_CHANGES_OPERATOR, PLAN_CHANGES_ADMIN };
enum starttls_mode { STARTTLS_OFF, STARTTLS_ENABLED, STARTTLS_REQUIRED };

struct config {
	char listen[CONFIG_PATH_MAX];     /* "/abs/path.sock" or "host:port" */
	int listen_mode;                  /* unix socket permission bits */
	char listen_group[64];            /* unix socket group, "" = unchanged */
	int workers;
	char database[CONFIG_PATH_MAX];   /* libpq connection string for finicom_app */
	char mailer_database[CONFIG_PATH_MAX]; /* for finicom_mailer; "" = database with user=finicom_mailer */
	char auth_database[CONFIG_PATH_MAX]; /* for finicom_auth (the auth processes); "" = database with user=finicom_auth */
	int auth_processes;               /* auth processes; 0 = as many as workers */
	int auth_timeout;                 /* seconds a worker waits for an auth process */
	bool database_prepared;
	bool one_trip_reads;              /* ROUTE_ONE_TRIP reads in one round trip */           /* named prepared statements (off behind PgBouncer's transaction pooling) */
	char public_url[512];             /* no trailing slash */
	bool cookie_secure;
	enum signup_mode signup;
	enum plan_changes plan_changes;   /* who moves an org to pro or trial: the operator (finicomctl set-plan) or its admins too */
	char secret_key_file[CONFIG_PATH_MAX];
	char secret_decrypt_key_files[4 * CONFIG_PATH_MAX]; /* decrypt-only keys, separated by spaces (rotation) */
	struct cidr_list trusted_proxies; /* peers whose X-Forwarded-For names the client */
	int session_idle_timeout;         /* seconds; sessions end after this idle */
	int session_max_age;              /* seconds; and after this in any case */
	enum log_level log_level;
	enum log_format log_format;       /* text (key=value) or json (one object per line) */
	char mailer_metrics_listen[300];  /* host:port of the mailer's /metrics; "" = none */
	char smtp_host[256];
	int smtp_port;
	enum starttls_mode smtp_starttls;
	char smtp_user[256];
	char smtp_password_file[CONFIG_PATH_MAX];
	char mail_from[320];
	int smtp_timeout;                 /* seconds for each SMTP exchange */
	int mail_retry_base;              /* seconds before the first retry; doubles */
	int mail_retry_max;               /* the longest wait between retries */
	int mail_max_age;                 /* seconds a message is retried, from its queuing */
	int mail_max_attempts;            /* also fail after this many attempts; 0 = no count limit */
	int mail_poll_interval;           /* seconds between outbox polls besides NOTIFY */
};

/* Fill cfg with the defaults of every optional key. */
void config_defaults(struct config *cfg);

/*
 * Read and check the file at path into cfg.  Returns 0, or -1 with a
 * "path:line: message" (or "path: message") text in err.
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* Same, from an open stream; name is used in messages. */
int config_parse(FILE *fp, const char *name, struct config *cfg, char *err, size_t errlen);

/* The name of the parser's i-th key, NULL past the last (tests: the sample lists every key). */
const char *config_key_name(size_t i);

/* How many auth processes finicomd forks: auth_processes, or workers when that is 0. */
int config_auth_processes(const struct config *cfg);

/*
 * The auth processes' libpq connection string: auth_database, or database
 * with user=finicom_auth put last (a later keyword wins; for a URI, a
 * query parameter).  Returns 0, or -1 when it does not fit in out.
 */
int config_auth_conninfo(const struct config *cfg, char *out, size_t cap);

/* True when listen names a unix socket path. */
bool config_listen_is_unix(const struct config *cfg);

#endif
