/*
 * finicom-mailer: drains finicom.mail_outbox to the SMTP relay.
 *
 * One message at a time, as sql/0004_invitations.sql describes it:
 * finicom.mail_claim() (the next due row, locked FOR UPDATE SKIP LOCKED, so
 * any number of mailers can run) with a lease committed at once (the row is
 * not due again for LEASE_SECONDS); then the row locked again, the SMTP
 * session (smtp.c), finicom.mail_sent() or finicom.mail_failed() and
 * COMMIT.  A mailer that dies between the send and the COMMIT leaves the
 * row queued: the message goes again after the lease, with the same
 * Message-ID (at least once, never lost).  When the database goes away
 * instead (a failover), the mailer remembers the message it sent and marks
 * it sent first thing once the database is back, within the lease, which
 * replication carried to the new primary: not sent twice (deploy/SCALING.md).
 *
 * Retries are an MTA's queue (smtp.h, mail_retry_next): a 4xx reply or a
 * relay that cannot be reached or fails TLS is tried again after
 * mail_retry_base, doubling up to mail_retry_max, until mail_max_age has
 * passed since the row was queued (and at most mail_max_attempts times when
 * that is set); a 5xx for the recipient or the message (mail_classify) is
 * the relay's bounce: the row is 'failed' at once with the relay's reply in
 * last_error.  The mailer picks each wait; mail_failed() just applies it.
 *
 * With nothing due the mailer asks finicom.mail_next_due() how long to
 * sleep, and sleeps on its connection's socket at most mail_poll_interval:
 * LISTEN finicom_mail wakes it when a row is queued.  The connection comes
 * back by itself after PostgreSQL restarts (db.c); LISTEN is issued again on
 * every new connection.
 *
 * It also seals the audit trail (sql/0010_audit_seal.sql): audit events are
 * written pending, and every SEAL_INTERVAL, between messages and while
 * idle, the loop calls audit.seal_pending(), which gives the committed
 * pending events of every org their place in the org's hash chain.  That
 * bounds the sealing lag to about SEAL_INTERVAL plus one seal, or one SMTP
 * session while a message is being sent (pg_cron's minute job is the bound
 * when no mailer runs).  finicom_mailer may call that function and touches
 * nothing else of the audit schema.  A failing seal is logged once, tried
 * again every SEAL_RETRY, and never holds up the mail.
 *
 * Observability (docs/observability.md): with mailer_metrics_listen set,
 * counters and the queue's depth are served there (mailer/metrics.h).
 * Under systemd it says READY=1 once it has its first connection and
 * LISTEN, and WATCHDOG=1 at half WatchdogSec from this loop, also while
 * sleeping (wait_on) and while the database is away (it reconnects by
 * itself; a restart would not help).
 *
 * Signals: SIGTERM and SIGINT are blocked except inside ppoll(), so they
 * never interrupt a transaction or an SMTP exchange.  Their handler only
 * sets a flag; the loop ends after the message in flight and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "mailer/metrics.h"
#include "mailer/smtp.h"
#include "util/config.h"
#include "util/email.h"
#include "util/log.h"
#include "util/sdnotify.h"

#define MAILER_USER "finicom_mailer"
#define RETRY_MIN 1.0      /* seconds before reconnecting; doubles ... */
#define RETRY_MAX 30.0     /* ... up to this */
#define BUSY_FLOOR 0.25    /* shortest sleep when due rows are locked by another mailer */
#define SEAL_INTERVAL 0.2  /* seconds between two seals of the audit trail */
#define SEAL_RETRY 30.0    /* ... after a seal that failed */
#define NOTICE_REPEAT 60.0 /* the same server notice is logged again after this */
/* A claimed message is not due again for this long (seconds, as SQL text). */
#define LEASE_SECONDS "30"

static volatile sig_atomic_t stop_requested;
static sigset_t wait_mask; /* the mask inside ppoll(): SIGTERM and SIGINT open */

static struct config cfg;
static struct db db;
static struct mail_sender *sender;
static char conninfo[CONFIG_PATH_MAX + 64];

/* The connection LISTEN was issued on (pointer and backend, since a new
 * connection may reuse the old one's address). */
static PGconn *listening_conn;
static int listening_pid;

static double next_seal; /* monotonic time of the next seal */
static int ready_sent;   /* READY=1 was said */
static int seal_failing; /* the last seal failed (and that was logged) */

static const char *config_path = SYSCONFDIR "/finicom/finicom.conf";

static void
usage(FILE *to, int status)
{
	fprintf(to, "usage: finicom-mailer [-c FILE]\n"
	    "Sends the mail queued in finicom.mail_outbox (finicom-mailer(8)).\n"
	    "  -c, --config FILE  the configuration (default: %s)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      the version\n"
	    "Signals: TERM and INT stop after the message being sent.\n", config_path);
	exit(status);
}

static const struct option long_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * Sleep up to seconds, waking for input on fd (-1: none) or a stop signal;
 * in slices of at most half WatchdogSec, saying WATCHDOG=1 between them.
 */
static int
wait_on(int fd, double seconds)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	double end = db_now() + (seconds > 0 ? seconds : 0);

	for (;;) {
		double now = db_now(), slice = end - now, wd;
		struct timespec ts;
		int rc;

		sdnotify_watchdog(now);
		wd = sdnotify_watchdog_wait(now);
		if (slice < 0)
			slice = 0;
		if (wd < slice)
			slice = wd;
		ts.tv_sec = (time_t)slice;
		ts.tv_nsec = (long)((slice - (double)ts.tv_sec) * 1e9);
		rc = ppoll(&pfd, fd >= 0 ? 1 : 0, &ts, &wait_mask);
		if (rc != 0 || db_now() >= end)
			return rc;
	}
}

/* Let a pending SIGTERM/SIGINT in, without sleeping. */
static void
check_signals(void)
{
	wait_on(-1, 0);
}

/*
 * The connection string: mailer_database, or database with the mailer's
 * role put last (libpq: a later keyword wins; for a URI, a query parameter).
 */
static void
build_conninfo(void)
{
	const char *base = cfg.database;

	if (cfg.mailer_database[0] != '\0')
		snprintf(conninfo, sizeof(conninfo), "%s", cfg.mailer_database);
	else if (!strncmp(base, "postgresql://", 13) || !strncmp(base, "postgres://", 11))
		snprintf(conninfo, sizeof(conninfo), "%s%suser=" MAILER_USER, base,
		    strchr(base, '?') ? "&" : "?");
	else
		snprintf(conninfo, sizeof(conninfo), "%s user=" MAILER_USER, base);
}

/*
 * Read the SMTP password: the file's first line.  Returns a malloc'd string
 * the caller frees, or NULL with the reason in err.
 */
static char *
read_password(const char *path, char *err, size_t errlen)
{
	char buf[1024];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: could not open: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: could not read: %s", path, strerror(errno));
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errlen, "%s: the SMTP password is empty", path);
		return NULL;
	}
	return strdup(buf);
}

/* Undo an open transaction after a failed statement, if the connection lives. */
static void
rollback(void)
{
	PGresult *r;

	if (db.conn == NULL || PQstatus(db.conn) != CONNECTION_OK ||
	    PQtransactionStatus(db.conn) == PQTRANS_IDLE)
		return;
	r = PQexec(db.conn, "ROLLBACK");
	PQclear(r);
	db_check(&db);
}

static void
clear_results(PGresult **res, int n)
{
	for (int i = 0; i < n; i++)
		PQclear(res[i]);
}

/* The first line of a libpq message, in buf. */
static const char *
first_line(const char *text, char *buf, size_t len)
{
	snprintf(buf, len, "%s", text);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

/* The first error among failed results, for the log. */
static const char *
results_error(PGresult **res, int n)
{
	static char buf[300];

	for (int i = 0; i < n; i++)
		if (res[i] != NULL && !db_ok(res[i]) && PQresultStatus(res[i]) != PGRES_PIPELINE_ABORTED)
			return first_line(PQresultErrorMessage(res[i]), buf, sizeof(buf));
	return db.conn ? first_line(PQerrorMessage(db.conn), buf, sizeof(buf)) : "connection lost";
}

/*
 * Server notices (such as "terminating connection") go to our log, not raw
 * to stderr.  The same notice again (a seal's WARNING about an org whose
 * chain cannot be continued comes every SEAL_INTERVAL) is logged at most
 * every NOTICE_REPEAT seconds, with how often it came meanwhile.
 */
static void
log_notice(void *arg, const char *message)
{
	static char last[300];
	static double last_at;
	static long repeats;
	char buf[300];
	double now = db_now();

	(void)arg;
	first_line(message, buf, sizeof(buf));
	if (!strcmp(buf, last) && now - last_at < NOTICE_REPEAT) {
		repeats++;
		return;
	}
	if (repeats > 0 && !strcmp(buf, last))
		log_msg(LOG_INFO, "database says: %s (and %ld times more)", buf, repeats);
	else
		log_msg(LOG_INFO, "database says: %s", buf);
	snprintf(last, sizeof(last), "%s", buf);
	last_at = now;
	repeats = 0;
}

/*
 * On a new connection: LISTEN, and let a transaction stay idle for as long
 * as one SMTP session may take (db.c's default of 60 s could otherwise end
 * it mid-send and have the message sent twice).  Returns 0 or -1.
 */
static int
session_setup(PGconn *conn)
{
	char idle[32];
	const char *params[] = {idle};
	const struct db_stmt stmts[] = {
	    {"LISTEN finicom_mail", 0, NULL},
	    {"SELECT pg_catalog.set_config('idle_in_transaction_session_timeout', $1, false)", 1,
		params},
	};
	PGresult *res[2];

	PQsetNoticeProcessor(conn, log_notice, NULL);
	snprintf(idle, sizeof(idle), "%lds", 5L * cfg.smtp_timeout + 60);
	if (db_pipeline(&db, stmts, 2, res) < 0) {
		log_msg(LOG_WARN, "could not listen for new mail: %s", results_error(res, 2));
		clear_results(res, 2);
		return -1;
	}
	clear_results(res, 2);
	listening_conn = conn;
	listening_pid = PQbackendPID(conn);
	if (!ready_sent) {
		sdnotify_ready("connected; sending mail");
		ready_sent = 1;
	}
	return 0;
}

/* The domain part of an address, for the log (the rest stays private). */
static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "-";
}

static void
log_delivery(enum log_level level, const char *message_id, const char *recipient,
    const char *status, int attempts, const char *error)
{
	char line[1200], n[16];
	size_t len = 0;

	snprintf(n, sizeof(n), "%d", attempts);
	log_kv(line, sizeof(line), &len, "msg", status[0] == 's' ? "mail sent" : "mail not sent");
	log_kv(line, sizeof(line), &len, "message_id", message_id);
	log_kv(line, sizeof(line), &len, "to_domain", domain_of(recipient));
	log_kv(line, sizeof(line), &len, "status", status);
	log_kv(line, sizeof(line), &len, "attempts", n);
	if (error != NULL)
		log_kv(line, sizeof(line), &len, "error", error);
	log_line(level, line);
}

enum outcome { OUTCOME_DELIVERED, OUTCOME_IDLE, OUTCOME_DB_ERROR };

/* With nothing to claim: end the transaction and learn when to look again. */
/*
 * A message the relay accepted whose mail_sent() did not commit (the
 * database went away: a failover).  Its claim's lease keeps every mailer
 * from sending it again for LEASE_SECONDS; this one marks it sent first
 * thing once the database is back, so it is not sent twice.
 */
static struct {
	bool set;
	char id[64], message_id[256], recipient[EMAIL_MAX + 1];
	int attempts;
} unrecorded;

static void
remember_unrecorded(const char *id, const char *message_id, const char *recipient, int attempts)
{
	unrecorded.set = snprintf(unrecorded.id, sizeof(unrecorded.id), "%s", id) < (int)sizeof(unrecorded.id);
	snprintf(unrecorded.message_id, sizeof(unrecorded.message_id), "%s", message_id);
	snprintf(unrecorded.recipient, sizeof(unrecorded.recipient), "%s", recipient);
	unrecorded.attempts = attempts;
}

/* Mark the unrecorded message sent (unless it is no longer queued): 0 when done. */
static int
record_unrecorded(void)
{
	const char *params[] = {unrecorded.id};
	const struct db_stmt stmts[] = {
	    {"SELECT finicom.mail_sent(m.id) FROM finicom.mail_outbox m "
		"WHERE m.id = $1::uuid AND m.status = 'queued'", 1, params},
	};
	PGresult *res[1];

	if (!unrecorded.set)
		return 0;
	if (db_pipeline(&db, stmts, 1, res) < 0) {
		log_msg(LOG_WARN, "could not mark message %s sent yet: %s", unrecorded.message_id,
		    results_error(res, 1));
		clear_results(res, 1);
		return -1;
	}
	log_delivery(LOG_INFO, unrecorded.message_id, unrecorded.recipient,
	    PQntuples(res[0]) == 1 ? "sent" : "sent (already recorded)", unrecorded.attempts, NULL);
	clear_results(res, 1);
	unrecorded.set = false;
	return 0;
}

/* Nothing is due: how long until something is (*next_due, -1 for never). */
static enum outcome
finish_idle(double *next_due)
{
	const struct db_stmt stmts[] = {{"SELECT finicom.mail_next_due()", 0, NULL}};
	PGresult *res[1];

	if (db_pipeline(&db, stmts, 1, res) < 0) {
		log_msg(LOG_WARN, "could not read the outbox: %s", results_error(res, 1));
		clear_results(res, 1);
		return OUTCOME_DB_ERROR;
	}
	*next_due = PQntuples(res[0]) == 1 && !PQgetisnull(res[0], 0, 0) ?
	    strtod(PQgetvalue(res[0], 0, 0), NULL) : -1;
	clear_results(res, 1);
	return OUTCOME_IDLE;
}

/*
 * Claim the next due message (committed, with its lease), send it while
 * holding its row lock, and record the result.  Returns OUTCOME_DELIVERED when a message was handled (sent
 * or not), OUTCOME_IDLE with *next_due (seconds, -1 for none) when nothing
 * is due, OUTCOME_DB_ERROR when the database failed.
 */
static enum outcome
deliver_next(double *next_due)
{
	/*
	 * The claim is committed first, with a lease (LEASE_SECONDS): the row
	 * is not due again before it ends, on this primary or, replicated, on
	 * the standby that replaces it.  The row's age (mail_max_age) comes
	 * from the row claimed.
	 */
	static const struct db_stmt claim[] = {
	    {"BEGIN", 0, NULL},
	    {"WITH c AS (SELECT * FROM finicom.mail_claim()) "
		"UPDATE finicom.mail_outbox m SET next_attempt_at = pg_catalog.now() + "
		"pg_catalog.make_interval(secs => " LEASE_SECONDS ") FROM c WHERE m.id = c.id "
		"RETURNING c.id, c.recipient, c.subject, c.body, c.message_id, c.attempts, "
		"EXTRACT(epoch FROM pg_catalog.now() - m.created_at)::float8", 0, NULL},
	    {"COMMIT", 0, NULL},
	};
	PGresult *res[3], *done[2];
	const char *id, *recipient, *message_id, *why;
	char error[600], wait[16], max[16], date[64], rcpt[EMAIL_MAX + 1];
	struct mail_message msg;
	char *text;
	int attempts, sent = 0, delay = 0, retry;
	enum mail_verdict verdict = MAIL_RETRY;
	double age;
	const char *status = "sent";

	if (record_unrecorded() < 0)
		return OUTCOME_DB_ERROR;
	if (db_pipeline(&db, claim, 3, res) < 0) {
		log_msg(LOG_WARN, "could not claim a message: %s", results_error(res, 3));
		clear_results(res, 3);
		rollback();
		return OUTCOME_DB_ERROR;
	}
	PQclear(res[0]);
	PQclear(res[2]);
	if (PQntuples(res[1]) == 0) {
		PQclear(res[1]);
		return finish_idle(next_due);
	}
	/*
	 * Locked again for the send, so no other mailer takes it even after
	 * the lease.  It waits (no SKIP LOCKED): another mailer's claim may
	 * hold the lock for a moment (a row it found due, then not, stays
	 * locked until its claim commits).
	 */
	{
		const char *params[] = {PQgetvalue(res[1], 0, 0)};
		const struct db_stmt lock[] = {
		    {"BEGIN", 0, NULL},
		    {"SELECT 1 FROM finicom.mail_outbox m WHERE m.id = $1 AND m.status = 'queued' "
			"FOR UPDATE", 1, params},
		};
		PGresult *lr[2];
		int locked;

		if (db_pipeline(&db, lock, 2, lr) < 0) {
			log_msg(LOG_WARN, "could not lock the message claimed: %s", results_error(lr, 2));
			clear_results(lr, 2);
			rollback();
			PQclear(res[1]);
			return OUTCOME_DB_ERROR;
		}
		locked = PQntuples(lr[1]) == 1;
		clear_results(lr, 2);
		if (!locked) { /* no longer queued: nothing to send */
			rollback();
			PQclear(res[1]);
			return OUTCOME_DELIVERED;
		}
	}

	id = PQgetvalue(res[1], 0, 0);
	recipient = PQgetvalue(res[1], 0, 1);
	message_id = PQgetvalue(res[1], 0, 4);
	attempts = atoi(PQgetvalue(res[1], 0, 5));
	age = PQgetisnull(res[1], 0, 6) ? 0 : strtod(PQgetvalue(res[1], 0, 6), NULL);
	/*
	 * The API stores only addresses that pass the email rule; a row that
	 * does not (written before the rule, or behind the API's back) could
	 * never be sent, so it fails now with the reason instead of retrying
	 * for days.  An older row with a Unicode domain goes to its A-label.
	 */
	if (email_normalize(recipient, strlen(recipient), rcpt, &why) < 0)
		snprintf(error, sizeof(error), "cannot send to this address: the recipient %s", why);
	msg = (struct mail_message){
	    .from = cfg.mail_from,
	    .to = rcpt,
	    .subject = PQgetvalue(res[1], 0, 2),
	    .body = PQgetvalue(res[1], 0, 3),
	    .message_id = message_id,
	    .date = time(NULL),
	};
	if (rcpt[0] == '\0') {
		verdict = MAIL_PERMANENT;
	} else if (mail_format_date(msg.date, date, sizeof(date)) < 0) {
		/* The clock's fault, not the row's: retried with the usual backoff. */
		snprintf(error, sizeof(error), "cannot format the Date header: the clock reads %lld",
		    (long long)msg.date);
	} else if ((text = mail_build_message(&msg, error, sizeof(error))) == NULL) {
		verdict = MAIL_PERMANENT; /* the same row will never build: fail it now */
	} else {
		verdict = mail_sender_send(sender, rcpt, text, error, sizeof(error));
		sent = verdict == MAIL_SENT;
		free(text);
	}

	if (sent) {
		const char *params[] = {id};
		const struct db_stmt stmts[] = {
		    {"SELECT finicom.mail_sent($1)", 1, params},
		    {"COMMIT", 0, NULL},
		};

		if (db_pipeline(&db, stmts, 2, done) < 0) {
			log_msg(LOG_ERROR, "message %s was sent but could not be marked sent (%s); marking it "
			    "sent once the database is back (within the claim's lease of " LEASE_SECONDS " s, "
			    "else it is sent again)", message_id, results_error(done, 2));
			clear_results(done, 2);
			rollback();
			remember_unrecorded(id, message_id, recipient, attempts + 1);
			PQclear(res[1]);
			return OUTCOME_DB_ERROR;
		}
	} else {
		/*
		 * mail_failed() waits LEAST(cap, base * 2^n): with base = cap =
		 * the wait mail_retry_next() chose, it waits exactly that.  A
		 * permanent refusal, or a budget used up, gives a limit of one
		 * attempt: the row is 'failed' now, with the relay's words.
		 */
		const char *params[] = {id, error, wait, wait, max};
		const struct db_stmt stmts[] = {
		    {"SELECT finicom.mail_failed($1, $2, $3, $4, $5)", 5, params},
		    {"COMMIT", 0, NULL},
		};

		retry = verdict != MAIL_PERMANENT && mail_retry_next(&cfg, attempts + 1, age, &delay);
		snprintf(wait, sizeof(wait), "%d", retry ? delay : 1);
		snprintf(max, sizeof(max), "%d", retry ? INT_MAX : 1);
		if (db_pipeline(&db, stmts, 2, done) < 0) {
			log_msg(LOG_ERROR, "could not record the failure of message %s: %s", message_id,
			    results_error(done, 2));
			clear_results(done, 2);
			rollback();
			PQclear(res[1]);
			return OUTCOME_DB_ERROR;
		}
		status = PQntuples(done[0]) == 1 && !strcmp(PQgetvalue(done[0], 0, 0), "failed") ?
		    "failed" : "retry";
	}
	if (sent)
		mailer_metrics_sent();
	else
		mailer_metrics_failed(status[0] == 'f');
	log_delivery(sent ? LOG_INFO : LOG_WARN, message_id, recipient, status, attempts + 1,
	    sent ? NULL : error);
	clear_results(done, 2);
	PQclear(res[1]);
	return OUTCOME_DELIVERED;
}

/*
 * Seal the audit trail when SEAL_INTERVAL has passed since the last seal:
 * audit.seal_pending() (one statement, its own transaction; it never waits
 * for writers or for another sealer).  Called between transactions only.
 */
static void
seal_audit(void)
{
	static const struct db_stmt seal[] = {{"SELECT audit.seal_pending()", 0, NULL}};
	PGresult *res[1];
	double now = db_now();

	if (now < next_seal)
		return;
	if (db_pipeline(&db, seal, 1, res) < 0) {
		if (!seal_failing)
			log_msg(LOG_WARN, "could not seal the audit trail: %s (trying again every %.0f s)",
			    results_error(res, 1), SEAL_RETRY);
		seal_failing = 1;
		clear_results(res, 1);
		/* A lost connection: at once on the next one; else in a while. */
		next_seal = db.conn != NULL ? now + SEAL_RETRY : now;
		return;
	}
	if (seal_failing)
		log_msg(LOG_INFO, "sealing the audit trail again");
	seal_failing = 0;
	if (PQntuples(res[0]) == 1 && strcmp(PQgetvalue(res[0], 0, 0), "0") != 0)
		log_msg(LOG_DEBUG, "sealed %s audit events", PQgetvalue(res[0], 0, 0));
	clear_results(res, 1);
	next_seal = now + SEAL_INTERVAL;
}

/* Seconds until the next seal is due (0 when it is). */
static double
seal_due_in(void)
{
	double left = next_seal - db_now();

	return left > 0 ? left : 0;
}

/* True when a NOTIFY already sits in libpq's buffer (none is lost unread). */
static int
drain_notifies(PGconn *conn)
{
	PGnotify *n;
	int got = 0;

	while ((n = PQnotifies(conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

/* Sleep until a NOTIFY, a stop signal or seconds pass. */
static void
wait_for_mail(PGconn *conn, double seconds)
{
	if (drain_notifies(conn))
		return;
	if (wait_on(PQsocket(conn), seconds) > 0) {
		if (!PQconsumeInput(conn))
			db_check(&db); /* the server went away; reconnect next time */
		else
			drain_notifies(conn);
	}
}

static void
run(void)
{
	double retry = RETRY_MIN;

	while (!stop_requested) {
		PGconn *conn = db_connection(&db);
		double next_due = -1, sleep;

		sdnotify_watchdog(db_now());
		if (conn == NULL || ((conn != listening_conn || PQbackendPID(conn) != listening_pid) &&
		    session_setup(conn) < 0)) {
			wait_on(-1, retry);
			retry = retry * 2 < RETRY_MAX ? retry * 2 : RETRY_MAX;
			continue;
		}
		seal_audit();
		if (db.conn == conn)
			mailer_metrics_poll(&db);
		if (db.conn != conn) /* the seal or the queue's count found the connection lost */
			continue;
		switch (deliver_next(&next_due)) {
		case OUTCOME_DELIVERED:
			retry = RETRY_MIN;
			check_signals();
			continue;
		case OUTCOME_DB_ERROR:
			mailer_metrics_db_error();
			wait_on(-1, retry);
			retry = retry * 2 < RETRY_MAX ? retry * 2 : RETRY_MAX;
			continue;
		case OUTCOME_IDLE:
			retry = RETRY_MIN;
			break;
		}
		sleep = cfg.mail_poll_interval;
		if (next_due >= 0 && next_due < sleep)
			sleep = next_due < BUSY_FLOOR ? BUSY_FLOOR : next_due;
		if (seal_due_in() < sleep)
			sleep = seal_due_in();
		if (db.conn == conn) /* finish_idle may have lost it */
			wait_for_mail(conn, sleep);
	}
}

int
main(int argc, char **argv)
{
	char err[1200];
	char *password = NULL;
	sigset_t block;
	struct sigaction sa;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:hV", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			printf("finicom-mailer %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "finicom-mailer: %s\n", err);
		return 2;
	}
	log_set_process("finicom-mailer");
	log_set_level(cfg.log_level);
	log_set_format(cfg.log_format);
	sdnotify_init();

	if (cfg.smtp_user[0] != '\0') {
		if (cfg.smtp_password_file[0] == '\0') {
			fprintf(stderr, "finicom-mailer: %s: smtp_user is set but smtp_password_file is not\n",
			    config_path);
			return 2;
		}
		if ((password = read_password(cfg.smtp_password_file, err, sizeof(err))) == NULL) {
			fprintf(stderr, "finicom-mailer: %s\n", err);
			return 2;
		}
		if (cfg.smtp_starttls == STARTTLS_OFF)
			log_msg(LOG_WARN, "smtp_starttls is off: the SMTP password may cross the network in clear");
	}
	sender = mail_sender_new(&cfg, password, err, sizeof(err));
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (sender == NULL) {
		fprintf(stderr, "finicom-mailer: %s: %s\n", config_path, err);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN); /* a relay that hangs up must not kill us mid-write */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/*
	 * After the signal mask: the metrics thread keeps SIGTERM and SIGINT
	 * blocked.  A listener that cannot start is logged, and mail goes on:
	 * delivery matters more than its numbers.
	 */
	if (cfg.mailer_metrics_listen[0] != '\0' &&
	    mailer_metrics_start(cfg.mailer_metrics_listen, err, sizeof(err)) < 0)
		log_msg(LOG_ERROR, "no metrics: mailer_metrics_listen: %s", err);
	build_conninfo();
	db_init(&db, conninfo, "finicom-mailer");
	log_msg(LOG_INFO, "started; relay %s:%d, starttls %s", cfg.smtp_host, cfg.smtp_port,
	    cfg.smtp_starttls == STARTTLS_OFF ? "off" :
	    cfg.smtp_starttls == STARTTLS_ENABLED ? "enabled" : "required");
	run();
	sdnotify_stopping();
	db_close(&db);
	mail_sender_free(sender);
	log_msg(LOG_INFO, "stopped");
	return 0;
}
