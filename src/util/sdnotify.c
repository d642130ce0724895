/*
 * sdnotify: sd_notify(3) for finicomd and finicom-mailer.  See sdnotify.h.
 */
#include "util/sdnotify.h"

#include <stdio.h>

#include <systemd/sd-daemon.h>

static double interval; /* seconds between two WATCHDOG=1; 0: no watchdog */
static double next_ping;

void
sdnotify_init(void)
{
	uint64_t usec = 0;

	/* > 0 only when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is us). */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		interval = (double)usec / 2e6;
	next_ping = 0;
}

void
sdnotify_ready(const char *status)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	sd_notify(0, msg);
}

void
sdnotify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

double
sdnotify_watchdog_wait(double now)
{
	if (interval <= 0)
		return 1e9;
	return next_ping > now ? next_ping - now : 0;
}

void
sdnotify_watchdog(double now)
{
	if (interval <= 0 || now < next_ping)
		return;
	sd_notify(0, "WATCHDOG=1");
	next_ping = now + interval;
}
