/*
 * smtp: one outbox message turned into RFC 5322 text and handed to the SMTP
 * relay with libESMTP.
 *
 * Words used here: the "message text" is the whole mail as it goes after
 * DATA (headers, blank line, body) with CRLF line endings; the "envelope
 * sender" is the bare address of MAIL FROM, taken from mail_from; a
 * "sender" holds what every session needs (relay, TLS context, credentials)
 * and sends one message per SMTP session.
 *
 * Building is separate from sending so that the unit tests can check the
 * text without a network.  Dot-stuffing is libESMTP's job, not ours.
 */
#ifndef FINICOM_MAILER_SMTP_H
#define FINICOM_MAILER_SMTP_H

#include <stddef.h>
#include <time.h>

#include "util/config.h"

/* One message as the outbox holds it.  Every field is UTF-8 text. */
struct mail_message {
	const char *from;       /* From header, e.g. "Finicom <no-reply@example.com>" */
	const char *to;         /* the recipient's bare address */
	const char *subject;
	const char *body;       /* lines end with LF or CRLF */
	const char *message_id; /* "<id@host>"; the brackets are added when missing */
	time_t date;            /* the Date header */
};

/*
 * Build the message text of msg: From, To, Subject (an RFC 2047 encoded word
 * when it is not plain ASCII), Date, Message-ID, MIME-Version, Content-Type
 * text/plain; charset=utf-8 and Content-Transfer-Encoding 8bit, a blank line
 * and the body, every line ending with CRLF.  Header values holding CR, LF
 * or another control character are refused (header injection), as is a
 * recipient that is not an address in the canonical form of the email rule
 * (util/email.h), and a date mail_format_date cannot write.
 *
 * Returns the text, which the caller frees with free(), or NULL with the
 * reason in err.
 */
char *mail_build_message(const struct mail_message *msg, char *err, size_t errlen);

/*
 * Write t as an RFC 5322 date in UTC ("Tue, 04 Mar 2025 05:06:07 +0000") to
 * buf.  Returns 0, or -1 (buf made empty) when t cannot be converted
 * (gmtime_r fails), its year is not 1900 to 9999, or buf is too small.
 */
int mail_format_date(time_t t, char *buf, size_t len);

/*
 * Copy the bare address of a From value ("Name <a@b>" or "a@b") to buf.
 * Returns 0, or -1 when there is no usable address in it.
 */
int mail_envelope_address(const char *from, char *buf, size_t len);

/* True when addr is a plain ASCII address fit for MAIL FROM (mail_from is the
 * operator's: "no-reply@localhost" passes; recipients follow util/email.h). */
int mail_address_ok(const char *addr);

/* True when every byte of s is 7-bit. */
int mail_is_ascii(const char *s);

struct mail_sender;

/*
 * Make a sender from the configuration; password is the SMTP password (NULL
 * when smtp_user is empty) and is copied.  Returns NULL with the reason in
 * err.  Free with mail_sender_free().
 */
struct mail_sender *mail_sender_new(const struct config *cfg, const char *password, char *err,
    size_t errlen);

void mail_sender_free(struct mail_sender *sender);

/* What became of one attempt to send a message. */
enum mail_verdict {
	MAIL_SENT = 0,       /* the relay took it for the recipient */
	MAIL_RETRY = -1,     /* a 4xx, or no verdict at all (connection, TLS, timeout): try again */
	MAIL_PERMANENT = -2, /* a 5xx for the recipient or the message: never try again */
};

/* Which reply decided a verdict (for the error text). */
enum mail_step { MAIL_STEP_NONE, MAIL_STEP_SENDER, MAIL_STEP_RECIPIENT, MAIL_STEP_MESSAGE };

/*
 * The verdict of an SMTP session that ran to its end, from the relay's reply
 * codes (0: no reply) to MAIL FROM (sender), RCPT TO (recipient) and the
 * message's transfer (DATA and the end of data), as an MTA reads them:
 *  - 250 for the message with 250/251 for the recipient: MAIL_SENT;
 *  - a sender that is not 250: MAIL_RETRY, whatever its class: the refusal
 *    is about our relay account or mail_from, not this recipient, and the
 *    replies that follow it (a pipelined RCPT or DATA answered 503) prove
 *    nothing about the recipient;
 *  - a 5xx for the recipient, or for the message once the recipient was
 *    accepted: MAIL_PERMANENT (the relay's bounce);
 *  - anything else (4xx, no reply): MAIL_RETRY.
 * *step (may be NULL) names the reply that decided, MAIL_STEP_NONE when
 * none did (the session ended early: libESMTP's error explains it).
 */
enum mail_verdict mail_classify(int sender_code, int recipient_code, int message_code,
    enum mail_step *step);

/*
 * Send text (from mail_build_message) to recipient in one SMTP session.
 * Returns MAIL_SENT when the relay accepted the message for the recipient
 * (250 after DATA), else MAIL_RETRY or MAIL_PERMANENT (mail_classify) with
 * the reason in err: libESMTP's error or the relay's reply with its code
 * ("recipient refused: 550 5.1.1 no such user"), never the message itself
 * nor a credential.  smtp_start_session() succeeds even when the relay
 * refused the mail, so the verdict comes from the replies, not from it.
 */
enum mail_verdict mail_sender_send(struct mail_sender *sender, const char *recipient,
    const char *text, char *err, size_t errlen);

/*
 * The retry policy, an MTA's queue: a message that failed for a temporary
 * reason waits mail_retry_base seconds, then twice that after each further
 * failure, never more than mail_retry_max; it is retried until
 * mail_max_age has passed since it was queued (and, when mail_max_attempts
 * is set, not more than that many times), then it is 'failed'.
 */

/* Seconds to wait after the attempts-th failed attempt (attempts >= 1):
 * base * 2^(attempts - 1), at most cap (and at least 1). */
int mail_retry_delay(int base, int cap, int attempts);

/*
 * After a temporary failure of attempt number attempts (counting this one)
 * of a message queued age seconds ago: returns 1 and the wait in *delay
 * (seconds, >= 1) when it is to be tried again, 0 when it has used up its
 * budget.  The last wait is shortened so that the final attempt comes when
 * mail_max_age is reached rather than up to mail_retry_max after it.
 */
int mail_retry_next(const struct config *cfg, int attempts, double age, int *delay);

#endif
