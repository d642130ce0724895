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
 * recipient that is not a plain address, and a date mail_format_date
 * cannot write.
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

/* True when addr is a plain address fit for RCPT TO and the To header. */
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

/*
 * Send text (from mail_build_message) to recipient in one SMTP session.
 * Returns 0 when the relay accepted the message for the recipient (250 after
 * DATA), -1 otherwise with the reason in err: libESMTP's error or the relay's
 * reply, never the message itself nor a credential.
 */
int mail_sender_send(struct mail_sender *sender, const char *recipient, const char *text,
    char *err, size_t errlen);

#endif
