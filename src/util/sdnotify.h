/*
 * sdnotify: systemd's service notifications (sd_notify(3)) for the
 * Type=notify units: READY=1 once the daemon serves, WATCHDOG=1 from its
 * main loop while it is healthy, STOPPING=1 when it begins to stop.
 * Without NOTIFY_SOCKET (not started by systemd) every call does nothing.
 */
#ifndef FINICOM_SDNOTIFY_H
#define FINICOM_SDNOTIFY_H

/* Read WATCHDOG_USEC (and WATCHDOG_PID) once; call before the main loop. */
void sdnotify_init(void);

/* READY=1, with a STATUS= line saying what is up. */
void sdnotify_ready(const char *status);

void sdnotify_stopping(void);

/*
 * The most a main loop may sleep between two sdnotify_watchdog() calls
 * (half of WatchdogSec), or a large number when no watchdog is asked for.
 */
double sdnotify_watchdog_wait(double now);

/*
 * From the main loop while healthy: WATCHDOG=1 when half of WatchdogSec
 * has passed since the last one (now: monotonic seconds).
 */
void sdnotify_watchdog(double now);

#endif
