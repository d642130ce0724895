/*
 * ctl: finicomctl's subcommands.  Each returns the process exit status:
 * 0 done, 1 failed, 2 bad usage or configuration.
 */
#ifndef FINICOM_CTL_H
#define FINICOM_CTL_H

#include <stdbool.h>

#include <libpq-fe.h>

/* Run sql (no rows expected); false after printing the server's message. */
bool ctl_command_ok(PGconn *conn, const char *sql);

int ctl_check_config(int argc, char **argv);
int ctl_migrate(int argc, char **argv);
int ctl_create_user(int argc, char **argv);
int ctl_disable_2fa(int argc, char **argv);
int ctl_create_org(int argc, char **argv);
int ctl_set_plan(int argc, char **argv);
int ctl_verify_audit(int argc, char **argv);
int ctl_audit_anchor(int argc, char **argv);
int ctl_gen_key(int argc, char **argv);
int ctl_rotate_key(int argc, char **argv);
int ctl_normalize_emails(int argc, char **argv);

#endif
