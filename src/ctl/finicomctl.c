/*
 * finicomctl: the operator's command line.  One function per subcommand,
 * in the files beside this one.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "ctl/ctl.h"
#include "util/config.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{"check-config", ctl_check_config, "check-config FILE"},
	{"migrate", ctl_migrate,
	    "migrate [--database CONNINFO] [--sql-dir DIR] [--without-pg-cron] [--to VERSION]"},
	{"create-user", ctl_create_user,
	    "create-user --email EMAIL --name NAME [--database CONNINFO] [< password]"},
	{"disable-2fa", ctl_disable_2fa, "disable-2fa EMAIL [--database CONNINFO]"},
	{"create-org", ctl_create_org,
	    "create-org --name NAME --admin EMAIL [--member EMAIL=ROLE]... [--database CONNINFO]"},
	{"set-plan", ctl_set_plan, "set-plan --org ID --plan free|trial|pro [--database CONNINFO]"},
	{"verify-audit", ctl_verify_audit, "verify-audit [--org ID] [--anchors FILE] [--database CONNINFO]"},
	{"audit-anchor", ctl_audit_anchor, "audit-anchor --file PATH [--database CONNINFO]"},
	{"gen-key", ctl_gen_key, "gen-key [--owner USER] [--group GROUP] FILE"},
	{"rotate-key", ctl_rotate_key, "rotate-key [-c FILE] [--database CONNINFO] [--batch N] [--pause MSms] [--check]"},
	{"normalize-emails", ctl_normalize_emails, "normalize-emails [--dry-run] [--database CONNINFO]"},
};

static int
usage(FILE *to, int status)
{
	fprintf(to, "usage:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(to, "  finicomctl %s\n", commands[i].usage);
	if (status == 0)
		fprintf(to, "  finicomctl --help | --version\n"
		    "The operator's command line of Finicom Team Access; see finicomctl(8).\n");
	return status;
}

bool
ctl_command_ok(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "finicomctl: %s", PQerrorMessage(conn));
	PQclear(r);
	return ok;
}

int
ctl_check_config(int argc, char **argv)
{
	struct config cfg;
	char err[512];

	if (argc != 2) {
		fprintf(stderr, "usage: finicomctl check-config FILE\n");
		return 2;
	}
	if (config_load(argv[1], &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "finicomctl: %s\n", err);
		return 2;
	}
	printf("%s: ok\n", argv[1]);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, 2);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout, 0);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("finicomctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "finicomctl: unknown command \"%s\"\n", argv[1]);
	return usage(stderr, 2);
}
