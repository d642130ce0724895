/*
 * test_mail_budget: the mail retry budget of the defaults, as
 * docs/production.md ("Mail") states it: the schedule of waits, a relay
 * down for a whole day loses nothing and the mail leaves within an hour of
 * its return, and the give-up point.
 */
#include "mailer/smtp.h"
#include "tap.h"
#include "util/config.h"

/* Attempts until the first at or after `until` seconds (the relay is back then). */
static int
attempts_until(const struct config *cfg, double until, double *sent_at, int *gave_up)
{
	double age = 0;
	int attempts = 0, delay;

	*gave_up = 0;
	for (;;) {
		attempts++;
		if (age >= until) {
			*sent_at = age;
			return attempts;
		}
		if (!mail_retry_next(cfg, attempts, age, &delay)) {
			*gave_up = 1;
			*sent_at = age;
			return attempts;
		}
		age += delay;
	}
}

int
main(void)
{
	static const int schedule[] = {30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600};
	struct config cfg;
	double sent_at;
	int gave_up, n, delay, ok_schedule = 1;

	config_defaults(&cfg);
	for (int i = 0; i < 10; i++) {
		if (!mail_retry_next(&cfg, i + 1, 0, &delay) || delay != schedule[i]) {
			printf("#   wait after attempt %d: %d, expected %d\n", i + 1, delay, schedule[i]);
			ok_schedule = 0;
		}
	}
	ok(ok_schedule, "test-mail-budget: waits of 30 s, 1, 2, 4, 8, 16, 32 min, then 1 h");

	n = attempts_until(&cfg, 86400, &sent_at, &gave_up);
	ok(!gave_up, "test-mail-budget: a relay down for 24 h: the mail is not given up");
	ok(sent_at >= 86400 && sent_at < 86400 + 3600,
	    "test-mail-budget: it leaves within an hour of the relay's return (%.0f s after queuing)",
	    sent_at);
	ok(n >= 25 && n <= 35, "test-mail-budget: about 30 attempts in that day (%d)", n);

	n = attempts_until(&cfg, 3 * 86400, &sent_at, &gave_up);
	ok(!gave_up && sent_at < 3 * 86400 + 3600, "test-mail-budget: a 3-day outage too (%d attempts)", n);

	n = attempts_until(&cfg, 1e9, &sent_at, &gave_up);
	ok(gave_up && sent_at >= 5 * 86400 - 1 && sent_at <= 5 * 86400 + 1,
	    "test-mail-budget: down for good: given up at 5 days (%.0f s)", sent_at);
	ok(n >= 120 && n <= 135, "test-mail-budget: after about 127 attempts (%d)", n);
	return done_testing();
}
