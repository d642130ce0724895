/*
 * test_mailer: the mailer's message builder (src/mailer/smtp.c).  The text
 * it makes has every header, CRLF line endings only, the body unchanged but
 * for its line endings, a non-ASCII Subject as RFC 2047 encoded words; a
 * header value with a line break (header injection) is refused.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mailer/smtp.h"
#include "tap.h"

/* 2025-03-04 05:06:07 UTC, a Tuesday. */
#define DATE ((time_t)1741064767)

static struct mail_message
sample(void)
{
	return (struct mail_message){
	    .from = "Finicom <no-reply@example.com>",
	    .to = "ada@example.org",
	    .subject = "Bob invited you to Acme on Finicom",
	    .body = "Hello,\n\nOpen this link:\n\nhttps://teams.example.com/invite/abc\n",
	    .message_id = "<6f1c@finicom.invalid>",
	    .date = DATE,
	};
}

/* The headers part of text (before the blank line), malloc'd. */
static char *
headers_of(const char *text)
{
	const char *end = strstr(text, "\r\n\r\n");

	return end ? strndup(text, (size_t)(end - text) + 2) : NULL;
}

static const char *
body_of(const char *text)
{
	const char *end = strstr(text, "\r\n\r\n");

	return end ? end + 4 : NULL;
}

/* True when every LF is preceded by CR and every CR followed by LF. */
static int
crlf_only(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			return 0;
		if (*p == '\r' && p[1] != '\n')
			return 0;
	}
	return 1;
}

static void
test_mailer_headers(void)
{
	struct mail_message m = sample();
	char err[256] = "";
	char *text = mail_build_message(&m, err, sizeof(err));
	char *h = text ? headers_of(text) : NULL;
	static const char *const want[] = {
	    "From: Finicom <no-reply@example.com>\r\n",
	    "To: ada@example.org\r\n",
	    "Subject: Bob invited you to Acme on Finicom\r\n",
	    "Date: Tue, 04 Mar 2025 05:06:07 +0000\r\n",
	    "Message-ID: <6f1c@finicom.invalid>\r\n",
	    "MIME-Version: 1.0\r\n",
	    "Content-Type: text/plain; charset=utf-8\r\n",
	    "Content-Transfer-Encoding: 8bit\r\n",
	};

	ok(text != NULL, "test-mailer-build: a plain message builds (%s)", err);
	ok(h != NULL, "test-mailer-build: headers end with an empty line");
	for (size_t i = 0; h && i < sizeof(want) / sizeof(want[0]); i++)
		ok(strstr(h, want[i]) != NULL, "test-mailer-headers: has %.*s", (int)strlen(want[i]) - 2,
		    want[i]);
	ok(h && !strncmp(h, "From: ", 6), "test-mailer-headers: text starts with a header");
	free(h);
	free(text);

	m.message_id = "abc@finicom.invalid";
	text = mail_build_message(&m, err, sizeof(err));
	ok(text && strstr(text, "\r\nMessage-ID: <abc@finicom.invalid>\r\n"),
	    "test-mailer-headers: a Message-ID without brackets gets them");
	free(text);
}

static void
test_mailer_crlf(void)
{
	static const char *const bodies[] = {
	    "one\ntwo\n",
	    "one\r\ntwo\r\n",
	    "one\rtwo",
	    "mixed\n\r\n\rend",
	    "",
	    "no newline at the end",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct mail_message m = sample();
		char *text;

		m.body = bodies[i];
		text = mail_build_message(&m, err, sizeof(err));
		ok(text && crlf_only(text), "test-mailer-crlf: body %zu: CRLF line endings only", i);
		ok(text && (strlen(text) < 2 || !strcmp(text + strlen(text) - 2, "\r\n")),
		    "test-mailer-crlf: body %zu: text ends with CRLF", i);
		free(text);
	}
}

static void
test_mailer_body(void)
{
	struct mail_message m = sample();
	char err[256];
	char *text;

	text = mail_build_message(&m, err, sizeof(err));
	is_str(text ? body_of(text) : NULL,
	    "Hello,\r\n\r\nOpen this link:\r\n\r\nhttps://teams.example.com/invite/abc\r\n",
	    "test-mailer-body: body kept, line endings made CRLF");
	free(text);

	m.body = "Grüße aus Zürich — ✓\n.leading dot stays (libESMTP stuffs it)\nlast";
	text = mail_build_message(&m, err, sizeof(err));
	is_str(text ? body_of(text) : NULL,
	    "Grüße aus Zürich — ✓\r\n.leading dot stays (libESMTP stuffs it)\r\nlast\r\n",
	    "test-mailer-body: UTF-8 body and leading dots unchanged");
	free(text);
}

static void
test_mailer_subject(void)
{
	struct mail_message m = sample();
	char err[256];
	char *text, *h;

	m.subject = "Zoë invited you to Café";
	text = mail_build_message(&m, err, sizeof(err));
	h = text ? headers_of(text) : NULL;
	ok(h && strstr(h, "Subject: =?UTF-8?B?Wm/DqyBpbnZpdGVkIHlvdSB0byBDYWbDqQ==?=\r\n"),
	    "test-mailer-subject: non-ASCII subject is one encoded word");
	ok(h && mail_is_ascii(h), "test-mailer-subject: headers are 7-bit");
	free(h);
	free(text);

	/* "a" and 30 three-byte characters: three words of whole characters (37, 39
	 * and 15 bytes), folded one a line. */
	m.subject = "a€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€";
	text = mail_build_message(&m, err, sizeof(err));
	h = text ? headers_of(text) : NULL;
	ok(h && strstr(h, "Subject: =?UTF-8?B?YeKCrOKCrOKCrOKCrOKCrOKCrOKCrOKCrOKCrOKCrOKCrOKCrA==?=\r\n"
	    " =?UTF-8?B?4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs4oKs?=\r\n"
	    " =?UTF-8?B?4oKs4oKs4oKs4oKs4oKs?=\r\n"),
	    "test-mailer-subject: long subject folded into words of whole characters");
	for (const char *line = h; line && *line; line = strstr(line, "\r\n") + 2)
		if (strstr(line, "\r\n") - line > 78)
			ok(0, "test-mailer-subject: header line longer than 78: %.20s", line);
	ok(h && mail_is_ascii(h), "test-mailer-subject: folded headers are 7-bit");
	free(h);
	free(text);

	m.subject = "ASCII but =?looks?= encoded";
	text = mail_build_message(&m, err, sizeof(err));
	ok(text && strstr(text, "Subject: =?UTF-8?B?") != NULL,
	    "test-mailer-subject: ASCII holding \"=?\" is encoded too");
	free(text);
}

static void
test_mailer_bad_injection(void)
{
	static const struct {
		const char *field, *value;
	} invalid[] = {
	    {"subject", "Hi\r\nBcc: victim@example.net"},
	    {"subject", "Hi\nBcc: victim@example.net"},
	    {"subject", "Hi\rBcc: victim@example.net"},
	    {"subject", "Hi\x01"},
	    {"to", "ada@example.org\r\nBcc: victim@example.net"},
	    {"to", "ada@example.org>\r\nRCPT TO:<victim@example.net"},
	    {"to", "Ada <ada@example.org>"},
	    {"to", "not-an-address"},
	    /* Outside the email rule (util/email.h), though without a line break. */
	    {"to", "jos\xc3\xa9@example.org"},
	    {"to", "ad\xe2\x84\xaa" "min@example.org"},
	    {"to", "a:b@example.org"},
	    {"to", "a@[192.0.2.1]"},
	    {"to", "\"a b\"@example.org"},
	    /* Not the canonical form: the mailer normalizes before building. */
	    {"to", "ada@B\xc3\xbc" "cher.example"},
	    {"to", "ada@Example.org"},
	    {"from", "Finicom <no-reply@example.com>\r\nBcc: victim@example.net"},
	    {"message_id", "<x@y>\r\nBcc: victim@example.net"},
	    {"message_id", "<x@y> <z@w>"},
	    {"message_id", ""},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct mail_message m = sample();
		char *text;

		err[0] = '\0';
		if (!strcmp(invalid[i].field, "subject"))
			m.subject = invalid[i].value;
		else if (!strcmp(invalid[i].field, "to"))
			m.to = invalid[i].value;
		else if (!strcmp(invalid[i].field, "from"))
			m.from = invalid[i].value;
		else
			m.message_id = invalid[i].value;
		text = mail_build_message(&m, err, sizeof(err));
		ok(text == NULL && err[0] != '\0', "test-mailer-bad-injection: %s %zu refused (%s)",
		    invalid[i].field, i, err);
		free(text);
	}

	{
		struct mail_message m = sample();
		char *text;

		m.subject = "tab\tis fine";
		text = mail_build_message(&m, err, sizeof(err));
		ok(text != NULL, "test-mailer-headers: a tab in the subject is allowed");
		free(text);
	}
}

static void
test_mailer_envelope(void)
{
	static const struct {
		const char *from, *want;
	} valid[] = {
	    {"Finicom <no-reply@example.com>", "no-reply@example.com"},
	    {"no-reply@example.com", "no-reply@example.com"},
	    {"  no-reply@example.com ", "no-reply@example.com"},
	    {"\"Finicom, Inc.\" <a@b.example>", "a@b.example"},
	};
	static const char *const invalid[] = {
	    "Finicom", "Finicom <no-reply@example.com", "<>", "Finicom <a b@example.com>",
	};
	char buf[320];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		buf[0] = '\0';
		ok(mail_envelope_address(valid[i].from, buf, sizeof(buf)) == 0 &&
		    !strcmp(buf, valid[i].want), "test-mailer-envelope: \"%s\" gives %s", valid[i].from,
		    valid[i].want);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(mail_envelope_address(invalid[i], buf, sizeof(buf)) < 0,
		    "test-mailer-envelope-bad-address: \"%s\" refused", invalid[i]);
}

static void
test_mailer_from_encoded(void)
{
	struct mail_message m = sample();
	char err[256];
	char *text;

	m.from = "Équipe Finicom <no-reply@example.com>";
	text = mail_build_message(&m, err, sizeof(err));
	ok(text && strstr(text, "From: =?UTF-8?B?w4lxdWlwZSBGaW5pY29t?= <no-reply@example.com>\r\n"),
	    "test-mailer-headers: non-ASCII display name encoded, address kept");
	free(text);
}

/* The Date header of a time gmtime_r cannot convert, or out of RFC 5322's years: refused. */
static void
test_mailer_bad_date(void)
{
	static const struct {
		time_t t;
		const char *date; /* NULL: refused */
	} cases[] = {
	    {DATE, "Tue, 04 Mar 2025 05:06:07 +0000"},
	    {(time_t)0, "Thu, 01 Jan 1970 00:00:00 +0000"},
	    {(time_t)253402300799LL, "Fri, 31 Dec 9999 23:59:59 +0000"},
	    {(time_t)-2208988800LL, "Mon, 01 Jan 1900 00:00:00 +0000"},
	    {(time_t)253402300800LL, NULL},  /* year 10000 */
	    {(time_t)-2208988801LL, NULL},   /* 1899 */
	    {(time_t)INTMAX_MAX, NULL},      /* gmtime_r fails: EOVERFLOW */
	    {(time_t)INTMAX_MIN, NULL},
	};
	struct mail_message m = sample();
	char buf[64], err[256], *text;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(buf, 'Z', sizeof(buf));
		rc = mail_format_date(cases[i].t, buf, sizeof(buf));
		if (cases[i].date != NULL)
			ok(rc == 0 && !strcmp(buf, cases[i].date), "test-mailer-date %lld is %s (%s)",
			    (long long)cases[i].t, cases[i].date, buf);
		else
			ok(rc == -1 && buf[0] == '\0', "test-mailer-bad-date %lld is refused",
			    (long long)cases[i].t);
	}
	ok(mail_format_date(DATE, buf, 31) == -1 && buf[0] == '\0',
	    "test-mailer-bad-date: a buffer too small is refused");

	m.date = (time_t)INTMAX_MAX;
	err[0] = '\0';
	text = mail_build_message(&m, err, sizeof(err));
	ok(text == NULL && strstr(err, "Date header") != NULL,
	    "test-mailer-bad-date: a message dated out of range does not build (%s)", err);
	free(text);
}

/*
 * The retry policy (issue: mail lost after an SMTP outage longer than about
 * 5 hours): with the default configuration a message that fails every time
 * is retried for mail_max_age (5 days, like Postfix's queue), its waits
 * doubling from mail_retry_base and never over mail_retry_max (1 hour).
 */
static void
test_mailer_retry_delay(void)
{
	is_int(mail_retry_delay(30, 3600, 1), 30, "test-mailer-retry: the first wait is the base");
	is_int(mail_retry_delay(30, 3600, 2), 60, "test-mailer-retry: the second wait doubles");
	is_int(mail_retry_delay(30, 3600, 5), 480, "test-mailer-retry: 30 s * 2^4");
	is_int(mail_retry_delay(30, 3600, 8), 3600, "test-mailer-retry: capped at the max");
	is_int(mail_retry_delay(30, 3600, 1000), 3600, "test-mailer-retry: no overflow after many attempts");
	is_int(mail_retry_delay(30, 3600, INT32_MAX), 3600, "test-mailer-retry: no overflow at INT_MAX");
	is_int(mail_retry_delay(7200, 3600, 1), 3600, "test-mailer-retry: a base over the max is capped");
	is_int(mail_retry_delay(0, 3600, 1), 1, "test-mailer-retry: never less than 1 s");
}

static void
test_mailer_retry_budget(void)
{
	struct config cfg;
	double age = 0;
	int attempts = 0, delay = 0, longest = 0, more = 1;

	config_defaults(&cfg);
	ok(cfg.mail_max_age == 5 * 86400 && cfg.mail_retry_base == 30 && cfg.mail_retry_max == 3600 &&
	    cfg.mail_max_attempts == 0,
	    "test-mailer-retry-defaults: 5 days, from 30 s doubling to 1 h, no attempt count limit");
	/* A relay that is down for good: every attempt fails. */
	while (more && attempts < 100000) {
		attempts++;
		more = mail_retry_next(&cfg, attempts, age, &delay);
		if (more) {
			if (delay > longest)
				longest = delay;
			age += delay;
		}
	}
	ok(!more, "test-mailer-retry-budget: a message is given up in the end (%d attempts)", attempts);
	ok(age >= 5 * 86400 && age < 5 * 86400 + 1, "test-mailer-retry-budget: the last attempt is "
	    "at 5 days (%.0f s), not after 5 hours", age);
	ok(attempts > 12 && attempts < 200, "test-mailer-retry-budget: about one attempt an hour (%d)",
	    attempts);
	ok(longest == 3600, "test-mailer-retry-budget: no wait over 1 hour (%d)", longest);

	/* After 5 hours down, as the old 12 attempts, the message is still queued. */
	ok(mail_retry_next(&cfg, 12, 5 * 3600 + 60, &delay) == 1 && delay == 3600,
	    "test-mailer-retry-budget: still retried after 5 hours and 12 attempts (wait %d)", delay);
	ok(mail_retry_next(&cfg, 3, 5 * 86400 - 10, &delay) == 1 && delay == 10,
	    "test-mailer-retry-budget: the last wait ends at mail_max_age (%d)", delay);
	ok(mail_retry_next(&cfg, 3, 5 * 86400, &delay) == 0,
	    "test-mailer-retry-budget: at mail_max_age a failure is final");

	/* mail_max_attempts, when set, still limits the count. */
	cfg.mail_max_attempts = 3;
	ok(mail_retry_next(&cfg, 2, 60, &delay) == 1, "test-mailer-retry-attempts: the 2nd of 3 is retried");
	ok(mail_retry_next(&cfg, 3, 60, &delay) == 0, "test-mailer-retry-attempts: the 3rd of 3 is final");
}

/* An MTA's reading of the relay's replies: 5xx bounces, 4xx waits. */
static void
test_mailer_classify(void)
{
	static const struct {
		int sender, rcpt, message;
		enum mail_verdict verdict;
		enum mail_step step;
		const char *what;
	} cases[] = {
	    {250, 250, 250, MAIL_SENT, MAIL_STEP_NONE, "accepted"},
	    {250, 251, 250, MAIL_SENT, MAIL_STEP_NONE, "251 user not local, will forward"},
	    {250, 550, 0, MAIL_PERMANENT, MAIL_STEP_RECIPIENT, "550 for the recipient"},
	    {250, 553, 0, MAIL_PERMANENT, MAIL_STEP_RECIPIENT, "553 mailbox name not allowed"},
	    {250, 550, 503, MAIL_PERMANENT, MAIL_STEP_RECIPIENT, "550 recipient, pipelined DATA 503"},
	    {250, 451, 0, MAIL_RETRY, MAIL_STEP_RECIPIENT, "451 for the recipient"},
	    {250, 450, 503, MAIL_RETRY, MAIL_STEP_RECIPIENT, "450 recipient, pipelined DATA 503"},
	    {250, 452, 0, MAIL_RETRY, MAIL_STEP_RECIPIENT, "452 insufficient storage"},
	    {250, 250, 554, MAIL_PERMANENT, MAIL_STEP_MESSAGE, "554 after the data"},
	    {250, 250, 552, MAIL_PERMANENT, MAIL_STEP_MESSAGE, "552 message too big"},
	    {250, 250, 451, MAIL_RETRY, MAIL_STEP_MESSAGE, "451 after the data"},
	    {250, 250, 421, MAIL_RETRY, MAIL_STEP_MESSAGE, "421 shutting down"},
	    {451, 0, 0, MAIL_RETRY, MAIL_STEP_SENDER, "451 for the sender"},
	    {530, 503, 503, MAIL_RETRY, MAIL_STEP_SENDER, "530 auth required for the sender"},
	    {0, 0, 0, MAIL_RETRY, MAIL_STEP_NONE, "no reply at all (connection lost)"},
	    {250, 250, 0, MAIL_RETRY, MAIL_STEP_NONE, "dropped before the end of the data"},
	    {250, 0, 250, MAIL_RETRY, MAIL_STEP_NONE, "no reply for the recipient"},
	    {250, 0, 554, MAIL_RETRY, MAIL_STEP_MESSAGE, "554 with no recipient reply"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum mail_step step = (enum mail_step)-1;
		enum mail_verdict v = mail_classify(cases[i].sender, cases[i].rcpt, cases[i].message, &step);

		ok(v == cases[i].verdict && step == cases[i].step, "test-mailer-classify: %s is %s (got %d, "
		    "step %d)", cases[i].what, cases[i].verdict == MAIL_SENT ? "sent" :
		    cases[i].verdict == MAIL_RETRY ? "retried" : "permanent", (int)v, (int)step);
	}
	ok(mail_classify(250, 550, 0, NULL) == MAIL_PERMANENT, "test-mailer-classify: step may be NULL");
}

int
main(void)
{
	test_mailer_headers();
	test_mailer_crlf();
	test_mailer_body();
	test_mailer_subject();
	test_mailer_bad_injection();
	test_mailer_envelope();
	test_mailer_from_encoded();
	test_mailer_bad_date();
	test_mailer_retry_delay();
	test_mailer_retry_budget();
	test_mailer_classify();
	return done_testing();
}
