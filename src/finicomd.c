/*
 * finicomd: the FastCGI server's master process.
 *
 * The master reads finicom.conf, binds the listen socket, makes the auth
 * processes' queue (src/privsep/privsep.h), forks the auth processes and
 * then `workers` worker processes (worker.c), and supervises both pools the
 * same way; it never serves a request, opens a database connection or sees
 * a password itself.  Workers inherit the listen socket and the queue's
 * worker end; auth processes only the queue's auth end.
 *
 * Signals are blocked in the master and taken synchronously with
 * sigtimedwait(), so there is no race between "check the children" and
 * "sleep" (the trap fcgiwrap's fork-and-pause loop falls into):
 *   SIGCHLD  reap; respawn at once, or with backoff when a child keeps
 *            dying within a second of its start (0.1 s doubling to 30 s);
 *   SIGTERM  stop: workers finish the request in flight and exit, then the
 *            auth processes (which may be finishing a worker's login) do;
 *            after 9 s the rest are killed, so the master is gone within 10 s;
 *   SIGHUP   re-read the configuration (a bad file is logged and ignored)
 *            and replace the children one at a time in each pool, so
 *            requests keep being served by the others throughout.
 * A child's "generation" is the configuration it was forked with.
 *
 * Under systemd (Type=notify) the master says READY=1 once the socket is
 * bound and every child has reported itself ready in the metrics segment
 * (src/metrics.h), and WATCHDOG=1 from this loop, at half WatchdogSec, for
 * as long as at least one worker is alive and ready; STOPPING=1 on SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "metrics.h"
#include "privsep/privsep.h"
#include "util/config.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/sdnotify.h"
#include "worker.h"

#define MAX_CHILDREN 256 /* of each pool */
#define BACKOFF_MIN 0.1
#define BACKOFF_MAX 30.0
#define CRASH_WINDOW 1.0
#define STOP_GRACE 9.0
#define SETTLE_TIME 0.3 /* a new worker counts as serving after this */

struct slot {
	pid_t pid;
	unsigned generation;
	bool terminating; /* we sent SIGTERM (reload or shrink) */
	double started;
	double backoff;
	double spawn_at;  /* when to (re)spawn an empty slot */
};

/* The children of one kind: the auth processes, or the workers. */
struct pool {
	const char *noun;
	bool auth;
	struct slot slots[MAX_CHILDREN];
};

static struct config cfg;
static const char *config_path = SYSCONFDIR "/finicom/finicom.conf";
/* Supervised in this order: the auth processes are forked before the workers. */
static struct pool pools[2] = {{.noun = "auth process", .auth = true}, {.noun = "worker", .auth = false}};
#define AUTH_POOL (&pools[0])
#define WORKER_POOL (&pools[1])
static unsigned generation;
static int listen_fd = -1;
static int queue[2] = {-1, -1}; /* the auth queue: [0] the workers' end, [1] the auth processes' */

static void
on_sigchld(int sig)
{
	(void)sig;
}

static void
usage(FILE *to, int status)
{
	fprintf(to, "usage: finicomd [-c FILE]\n"
	    "The FastCGI server of Finicom Team Access (finicomd(8)).\n"
	    "  -c, --config FILE  the configuration (default: %s)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      the version\n"
	    "Signals: HUP re-reads the configuration, TERM stops.\n", config_path);
	exit(status);
}

/* Bind the unix socket (mode and group from the config) or TCP address. */
static int
listen_open(void)
{
	int fd;

	if (config_listen_is_unix(&cfg)) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		struct stat st;
		mode_t old;

		memcpy(sun.sun_path, cfg.listen, strlen(cfg.listen) + 1); /* < 108, checked by config */
		if (lstat(cfg.listen, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(cfg.listen);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		old = umask(0177);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			umask(old);
			fprintf(stderr, "finicomd: could not bind \"%s\": %s\n", cfg.listen, strerror(errno));
			close(fd);
			return -1;
		}
		umask(old);
		if (cfg.listen_group[0] != '\0') {
			struct group *gr = getgrnam(cfg.listen_group);
			if (gr == NULL || chown(cfg.listen, (uid_t)-1, gr->gr_gid) < 0) {
				fprintf(stderr, "finicomd: could not give \"%s\" to group \"%s\": %s\n",
				    cfg.listen, cfg.listen_group, gr ? strerror(errno) : "no such group");
				close(fd);
				return -1;
			}
		}
		if (chmod(cfg.listen, (mode_t)cfg.listen_mode) < 0) {
			fprintf(stderr, "finicomd: could not chmod \"%s\": %s\n", cfg.listen, strerror(errno));
			close(fd);
			return -1;
		}
	} else {
		char host[256];
		const char *colon = strrchr(cfg.listen, ':');
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		    .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
		struct addrinfo *ai;
		int one = 1, rc;

		snprintf(host, sizeof(host), "%.*s", (int)(colon - cfg.listen), cfg.listen);
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		rc = getaddrinfo(host, colon + 1, &hints, &ai);
		if (rc != 0) {
			fprintf(stderr, "finicomd: could not resolve \"%s\": %s\n", cfg.listen, gai_strerror(rc));
			return -1;
		}
		fd = socket(ai->ai_family, ai->ai_socktype, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			fprintf(stderr, "finicomd: could not bind \"%s\": %s\n", cfg.listen, strerror(errno));
			freeaddrinfo(ai);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		freeaddrinfo(ai);
	}
	if (listen(fd, 256) < 0) {
		fprintf(stderr, "finicomd: could not listen on \"%s\": %s\n", cfg.listen, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* How many children the configuration wants in pool p. */
static int
pool_size(const struct pool *p)
{
	return p->auth ? config_auth_processes(&cfg) : cfg.workers;
}

/*
 * Fork a child into slot.  It keeps only what it needs: a worker the
 * listen socket and the queue's worker end, an auth process the queue's
 * auth end; each forgets the other's database connection string.
 */
static void
spawn(struct pool *p, struct slot *slot)
{
	enum metrics_pool mp = p->auth ? METRICS_AUTH : METRICS_WORKERS;
	pid_t pid;

	metrics_slot_reset(mp, (int)(slot - p->slots));
	pid = fork();

	if (pid < 0) {
		log_msg(LOG_ERROR, "could not fork a %s: %s", p->noun, strerror(errno));
		slot->spawn_at = db_now() + 1.0;
		return;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		metrics_attach(mp, (int)(slot - p->slots));
		if (p->auth) {
			close(listen_fd);
			close(queue[0]);
			/* Its own connection string spelled out (checked to fit at load), then the workers' gone. */
			if (cfg.auth_database[0] == '\0')
				(void)config_auth_conninfo(&cfg, cfg.auth_database, sizeof(cfg.auth_database));
			explicit_bzero(cfg.database, sizeof(cfg.database));
			/*
			 * The key stays: the auth process encrypts and decrypts the
			 * TOTP secrets with it (docs/two-factor.md); the config
			 * secrets it never sees.
			 */
			_exit(privsep_auth_run(&cfg, queue[1]));
		}
		close(queue[1]);
		explicit_bzero(cfg.auth_database, sizeof(cfg.auth_database));
		_exit(worker_run(&cfg, listen_fd, queue[0]));
	}
	slot->pid = pid;
	slot->generation = generation;
	slot->terminating = false;
	slot->started = db_now();
}

static void
describe_exit(const struct pool *p, pid_t pid, int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "%s %ld exited with status %d", p->noun, (long)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "%s %ld was killed by signal %d (%s)", p->noun, (long)pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "%s %ld ended", p->noun, (long)pid);
}

/* The slot of a child, and its pool. */
static struct slot *
find_child(pid_t pid, struct pool **pool)
{
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < MAX_CHILDREN; i++)
			if (pools[k].slots[i].pid == pid) {
				*pool = &pools[k];
				return &pools[k].slots[i];
			}
	return NULL;
}

/* Reap every exited child; schedule respawns.  Returns how many were reaped. */
static int
reap(bool stopping)
{
	int status, n = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct pool *p;
		struct slot *s = find_child(pid, &p);
		double now = db_now();
		char why[160];

		n++;
		if (s == NULL)
			continue;
		describe_exit(p, pid, status, why, sizeof(why));
		s->pid = 0;
		if (stopping || s->terminating) {
			log_msg(LOG_INFO, "%s", why);
			s->backoff = 0;
			s->spawn_at = now;
		} else if (now - s->started < CRASH_WINDOW) {
			s->backoff = s->backoff == 0 ? BACKOFF_MIN : s->backoff * 2;
			if (s->backoff > BACKOFF_MAX)
				s->backoff = BACKOFF_MAX;
			s->spawn_at = now + s->backoff;
			log_msg(LOG_ERROR, "%s soon after start; respawning in %.1f s", why, s->backoff);
			metrics_respawn(p->auth ? METRICS_AUTH : METRICS_WORKERS);
		} else {
			s->backoff = 0;
			s->spawn_at = now;
			log_msg(LOG_WARN, "%s; respawning", why);
			metrics_respawn(p->auth ? METRICS_AUTH : METRICS_WORKERS);
		}
		s->terminating = false;
	}
	return n;
}

static int
live_children(const struct pool *p)
{
	int n = 0;

	for (int i = 0; i < MAX_CHILDREN; i++)
		if (p->slots[i].pid > 0)
			n++;
	return n;
}

/*
 * Bring pool p in line with the configuration: spawn what is due, and
 * during a reload send SIGTERM to one old child at a time.  Returns the
 * seconds until the next scheduled spawn (or 1).
 */
static double
supervise_pool(struct pool *p)
{
	double now = db_now(), wait = 1.0;
	bool rolling = false;
	int size = pool_size(p);

	for (int i = 0; i < MAX_CHILDREN; i++) {
		/* One replacement at a time: wait for the last one to settle in. */
		if (p->slots[i].pid > 0 && (p->slots[i].terminating ||
		    (p->slots[i].generation == generation && now - p->slots[i].started < SETTLE_TIME))) {
			rolling = true;
			if (wait > SETTLE_TIME)
				wait = SETTLE_TIME;
		}
		if (i < size && p->slots[i].pid == 0)
			rolling = true;
	}
	for (int i = 0; i < MAX_CHILDREN; i++) {
		struct slot *s = &p->slots[i];

		if (i >= size) {
			if (s->pid > 0 && !s->terminating) {
				kill(s->pid, SIGTERM);
				s->terminating = true;
			}
			continue;
		}
		if (s->pid == 0) {
			if (s->spawn_at <= now)
				spawn(p, s);
			else if (s->spawn_at - now < wait)
				wait = s->spawn_at - now;
		} else if (s->generation != generation && !rolling && !s->terminating) {
			kill(s->pid, SIGTERM);
			s->terminating = true;
			rolling = true;
		}
	}
	return wait;
}

/* Both pools, the auth processes first; the sooner of their waits. */
static double
supervise(void)
{
	double a = supervise_pool(AUTH_POOL), w = supervise_pool(WORKER_POOL);

	metrics_alive(METRICS_AUTH, live_children(AUTH_POOL));
	metrics_alive(METRICS_WORKERS, live_children(WORKER_POOL));
	return a < w ? a : w;
}

/* The auth processes' connection string must fit where they keep it. */
static int
auth_conninfo_check(const struct config *c, char *err, size_t len)
{
	char conninfo[sizeof(c->auth_database)];

	if (config_auth_conninfo(c, conninfo, sizeof(conninfo)) < 0) {
		snprintf(err, len, "%s: database is too long to add user=finicom_auth to it; set auth_database",
		    config_path);
		return -1;
	}
	return 0;
}

/* Which keys encrypt and decrypt (their ids, never the keys). */
static void
log_keys(void)
{
	const char *ids[SECRET_OTHER_KEYS_MAX];
	char others[SECRET_OTHER_KEYS_MAX * (SECRET_KEY_ID_CHARS + 1) + 1] = "";
	size_t n = secret_other_key_ids(ids);

	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(others, " ");
		strcat(others, ids[i]);
	}
	log_msg(LOG_INFO, "secret key %s encrypts; decrypt-only keys: %s", secret_key_id(),
	    n ? others : "none");
}

static void
reload(void)
{
	struct config fresh;
	char err[512];

	if (config_load(config_path, &fresh, err, sizeof(err)) < 0 ||
	    auth_conninfo_check(&fresh, err, sizeof(err)) < 0 ||
	    secret_load_other_keys(fresh.secret_decrypt_key_files, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (secret_load_key(fresh.secret_key_file, err, sizeof(err)) < 0) {
		char again[512];
		/* The running keys stay: the other keys as they were too. */
		if (secret_load_other_keys(cfg.secret_decrypt_key_files, again, sizeof(again)) < 0)
			log_msg(LOG_ERROR, "could not load the running decrypt-only keys again: %s", again);
		log_msg(LOG_ERROR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	log_keys();
	if (strcmp(fresh.listen, cfg.listen) != 0 || fresh.listen_mode != cfg.listen_mode ||
	    strcmp(fresh.listen_group, cfg.listen_group) != 0) {
		log_msg(LOG_WARN, "listen settings change only on restart; keeping \"%s\"", cfg.listen);
		memcpy(fresh.listen, cfg.listen, sizeof(fresh.listen));
		fresh.listen_mode = cfg.listen_mode;
		memcpy(fresh.listen_group, cfg.listen_group, sizeof(fresh.listen_group));
	}
	cfg = fresh;
	log_set_level(cfg.log_level);
	log_set_format(cfg.log_format);
	generation++;
	log_msg(LOG_INFO, "configuration reloaded; replacing the auth processes and the workers one at a time");
}

/* SIGTERM to every child of p. */
static void
terminate_pool(const struct pool *p)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (p->slots[i].pid > 0)
			kill(p->slots[i].pid, SIGTERM);
}

/* Reap until pool p is empty or the deadline passes. */
static void
wait_for_pool(const struct pool *p, double deadline)
{
	sigset_t set;
	siginfo_t info;
	struct timespec ts = {0, 100 * 1000 * 1000};

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	while (live_children(p) > 0 && db_now() < deadline) {
		reap(true);
		if (live_children(p) > 0)
			sigtimedwait(&set, &info, &ts);
	}
}

/*
 * Stop: the workers first, so that a login in flight still finds its auth
 * process; then the auth processes.  Whatever is left at STOP_GRACE is
 * killed.
 */
static void
stop(void)
{
	double deadline = db_now() + STOP_GRACE;

	sdnotify_stopping();
	log_msg(LOG_INFO, "stopping: waiting for requests in flight");
	terminate_pool(WORKER_POOL);
	close(listen_fd);
	if (config_listen_is_unix(&cfg))
		unlink(cfg.listen);
	wait_for_pool(WORKER_POOL, deadline);
	terminate_pool(AUTH_POOL);
	wait_for_pool(AUTH_POOL, deadline);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < MAX_CHILDREN; i++)
			if (pools[k].slots[i].pid > 0) {
				log_msg(LOG_WARN, "%s %ld did not stop in time; killing it", pools[k].noun,
				    (long)pools[k].slots[i].pid);
				kill(pools[k].slots[i].pid, SIGKILL);
			}
	while (live_children(AUTH_POOL) + live_children(WORKER_POOL) > 0 && waitpid(-1, NULL, 0) > 0)
		reap(true);
	log_msg(LOG_INFO, "stopped");
}

/* Every child the configuration wants is alive and has said it is ready. */
static bool
all_ready(void)
{
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < pool_size(&pools[k]); i++)
			if (pools[k].slots[i].pid <= 0 ||
			    !metrics_slot_ready(pools[k].auth ? METRICS_AUTH : METRICS_WORKERS, i))
				return false;
	return true;
}

/* Healthy, for the watchdog: at least one worker is alive and serving. */
static bool
healthy(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (WORKER_POOL->slots[i].pid > 0 && metrics_slot_ready(METRICS_WORKERS, i))
			return true;
	return false;
}

static const struct option long_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

int
main(int argc, char **argv)
{
	bool ready_sent = false;
	char err[512];
	sigset_t set;
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
			printf("finicomd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (config_load(config_path, &cfg, err, sizeof(err)) < 0 ||
	    auth_conninfo_check(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "finicomd: %s\n", err);
		return 2;
	}
	/* Loaded once here; the workers inherit the keys through fork. */
	if (secret_load_key(cfg.secret_key_file, err, sizeof(err)) < 0 ||
	    secret_load_other_keys(cfg.secret_decrypt_key_files, err, sizeof(err)) < 0) {
		fprintf(stderr, "finicomd: %s\n", err);
		return 2;
	}
	log_set_process("finicomd");
	log_set_level(cfg.log_level);
	log_set_format(cfg.log_format);
	sdnotify_init();
	/* Before any fork: every child shares it. */
	if (metrics_init() < 0)
		log_msg(LOG_WARN, "could not map the metrics segment: %s; /metrics will answer 500", strerror(errno));
	log_keys();
	signal(SIGPIPE, SIG_IGN);

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	signal(SIGCHLD, on_sigchld); /* a handler, so SIGCHLD is surely queued while blocked */
	listen_fd = listen_open();
	if (listen_fd < 0)
		return 1;
	/* The auth queue: one record per request, each with its reply socket attached. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, queue) < 0) {
		fprintf(stderr, "finicomd: could not make the auth queue: %s\n", strerror(errno));
		return 1;
	}
	log_msg(LOG_INFO, "listening on %s with %d workers and %d auth processes", cfg.listen, cfg.workers,
	    config_auth_processes(&cfg));

	for (;;) {
		double wait = supervise(), now = db_now();
		struct timespec ts;
		siginfo_t info;
		int sig;

		if (!ready_sent && all_ready()) {
			char status[160];
			snprintf(status, sizeof(status), "serving on %s with %d workers", cfg.listen, cfg.workers);
			sdnotify_ready(status);
			ready_sent = true;
		}
		if (!ready_sent && wait > 0.05)
			wait = 0.05; /* look at the children's readiness often until it is said */
		if (healthy()) {
			sdnotify_watchdog(now);
			if (sdnotify_watchdog_wait(now) < wait)
				wait = sdnotify_watchdog_wait(now);
		}
		if (wait < 0.01)
			wait = 0.01;
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGCHLD) {
			reap(false);
		} else if (sig == SIGTERM || sig == SIGINT) {
			stop();
			return 0;
		} else if (sig == SIGHUP) {
			reload();
		}
		reap(false); /* SIGCHLD may coalesce with another signal */
	}
}
