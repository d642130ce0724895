/*
 * smtp: build the text of one outbox message and send it with libESMTP.
 * See smtp.h.
 *
 * libESMTP facts this file relies on (checked against libESMTP 1.1.0):
 *  - smtp_start_session() returns success when the dialogue ran, even if
 *    the relay refused the message: the verdict is in the message's
 *    transfer status, the reverse path's status and each recipient's
 *    status, which mail_classify() reads as an MTA does (5xx for the
 *    recipient or the message: permanent; the rest: retry);
 *  - smtp_set_timeout() takes milliseconds (the docs say seconds) and
 *    raises any value below RFC 5321's minutes unless the which argument is
 *    ORed with Timeout_OVERRIDE_RFC2822_MINIMUM;
 *  - the message callback's *ctx is free()d by libESMTP when the session is
 *    destroyed; we never allocate it and keep the read position in our own
 *    struct (the callback's arg), so there is nothing to leak or free twice;
 *  - smtp_starttls_set_ctx() takes its own reference on the SSL_CTX and the
 *    session drops it, so one context serves every session;
 *  - with Starttls_REQUIRED a relay that does not offer STARTTLS ends the
 *    session (SMTP_EV_EXTNA_STARTTLS); a certificate that does not verify
 *    ends it too, since our event callback never sets the "accept anyway"
 *    flag and the context verifies peers (SSL_VERIFY_PEER).
 */
#include "mailer/smtp.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* <openssl/ssl.h> first: libesmtp.h declares smtp_starttls_set_ctx() only then. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "util/email.h"

/* Raw bytes of UTF-8 text per encoded word: 52 base64 characters, so
 * "Subject: =?UTF-8?B?...?=" stays within 78 columns. */
#define ENCODED_WORD_BYTES 39

/* ------------------------------------------------------------------ */
/* A growing string; any allocation failure is remembered and reported once. */

struct strbuf {
	char *data;
	size_t len, cap;
	int failed;
};

static void
sb_append(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->failed)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 1024;
		char *p;

		while (cap < sb->len + n + 1)
			cap *= 2;
		p = realloc(sb->data, cap);
		if (p == NULL) {
			sb->failed = 1;
			return;
		}
		sb->data = p;
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static void
sb_puts(struct strbuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* Checks. */

int
mail_is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* True when s holds no control character but, where tab_ok, a tab. */
static int
header_value_ok(const char *s, int tab_ok)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f)
			return 0;
	}
	return 1;
}

int
mail_address_ok(const char *addr)
{
	const char *at = strchr(addr, '@');
	size_t n = strlen(addr);

	if (n < 3 || n > 254 || at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (const char *p = addr; *p; p++) {
		unsigned char c = (unsigned char)*p;

		/* No SMTPUTF8 here; nothing that could end the address or the line. */
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\\\"", c) != NULL)
			return 0;
	}
	return 1;
}

int
mail_envelope_address(const char *from, char *buf, size_t len)
{
	const char *start = strrchr(from, '<'), *end;
	size_t n;

	if (start != NULL) {
		start++;
		end = strchr(start, '>');
		if (end == NULL)
			return -1;
	} else {
		start = from;
		while (*start == ' ' || *start == '\t')
			start++;
		end = start + strlen(start);
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	n = (size_t)(end - start);
	if (n >= len)
		return -1;
	memcpy(buf, start, n);
	buf[n] = '\0';
	return mail_address_ok(buf) ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Encodings. */

static void
base64_append(struct strbuf *sb, const unsigned char *in, size_t n)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[0] = digits[(v >> 18) & 63];
		out[1] = digits[(v >> 12) & 63];
		out[2] = i + 1 < n ? digits[(v >> 6) & 63] : '=';
		out[3] = i + 2 < n ? digits[v & 63] : '=';
		sb_append(sb, out, 4);
	}
}

/* Length of the UTF-8 sequence starting at s (1 for a stray byte). */
static size_t
utf8_length(const unsigned char *s)
{
	size_t n = *s < 0x80 ? 1 : (*s & 0xe0) == 0xc0 ? 2 : (*s & 0xf0) == 0xe0 ? 3 :
	    (*s & 0xf8) == 0xf0 ? 4 : 1;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

/*
 * Append text as RFC 2047 "B" encoded words, folded one word a line, never
 * splitting a UTF-8 character between two words (RFC 2047 section 5).
 */
static void
encoded_words_append(struct strbuf *sb, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	int first = 1;

	while (*p) {
		size_t n = 0, c;

		while (p[n] && n + (c = utf8_length(p + n)) <= ENCODED_WORD_BYTES)
			n += c;
		if (n == 0) /* cannot happen with 39 >= 4, but never loop forever */
			n = utf8_length(p);
		sb_puts(sb, first ? "=?UTF-8?B?" : "\r\n =?UTF-8?B?");
		base64_append(sb, p, n);
		sb_puts(sb, "?=");
		p += n;
		first = 0;
	}
}

/* A Subject or a display name goes out as is when it is plain, short ASCII. */
static int
needs_encoding(const char *s)
{
	return !mail_is_ascii(s) || strstr(s, "=?") != NULL || strlen(s) > 900;
}

int
mail_format_date(time_t t, char *buf, size_t len)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long year;
	int n;

	if (len > 0)
		buf[0] = '\0';
	/* gmtime_r fails (NULL, EOVERFLOW) when the year does not fit an int. */
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	/* RFC 5322: a year of four digits, 1900 or later; also keeps tm_year + 1900 from overflowing. */
	year = (long)tm.tm_year + 1900;
	if (year < 1900 || year > 9999 || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11)
		return -1;
	/* Names spelt out here: strftime's %a and %b follow the locale. */
	n = snprintf(buf, len, "%s, %02d %s %04ld %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], year, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* From: the display name encoded when it is not ASCII, the address kept. */
static void
from_append(struct strbuf *sb, const char *from)
{
	const char *lt = strrchr(from, '<');
	const char *name_end;

	if (lt == NULL || mail_is_ascii(from)) {
		sb_puts(sb, from);
		return;
	}
	name_end = lt;
	while (name_end > from && (name_end[-1] == ' ' || name_end[-1] == '"'))
		name_end--;
	while (*from == ' ' || *from == '"')
		from++;
	if (name_end > from) {
		char *name = strndup(from, (size_t)(name_end - from));

		if (name == NULL) {
			sb->failed = 1;
			return;
		}
		encoded_words_append(sb, name);
		free(name);
		sb_puts(sb, " ");
	}
	sb_puts(sb, lt);
}

/* The body with every line ending (LF, CRLF or a lone CR) made CRLF. */
static void
body_append(struct strbuf *sb, const char *body)
{
	const char *p = body, *line = body;

	for (; *p; p++) {
		if (*p != '\n' && *p != '\r')
			continue;
		sb_append(sb, line, (size_t)(p - line));
		sb_puts(sb, "\r\n");
		if (p[0] == '\r' && p[1] == '\n')
			p++;
		line = p + 1;
	}
	if (p > line) {
		sb_append(sb, line, (size_t)(p - line));
		sb_puts(sb, "\r\n");
	}
}

char *
mail_build_message(const struct mail_message *msg, char *err, size_t errlen)
{
	struct strbuf sb = {0};
	const char *id = msg->message_id, *why = NULL;
	char date[64], canonical[EMAIL_MAX + 1];
	size_t idlen;
	int bracketed;

	if (!header_value_ok(msg->from, 0) || !header_value_ok(msg->subject, 1) ||
	    !header_value_ok(id, 0)) {
		snprintf(err, errlen, "cannot send a header value that holds a line break or control character");
		return NULL;
	}
	/* The recipient goes into RCPT TO and the To header: only the email
	 * rule's canonical form (util/email.h), which is plain ASCII. */
	if (email_normalize(msg->to, strlen(msg->to), canonical, &why) < 0 ||
	    strcmp(canonical, msg->to) != 0) {
		snprintf(err, errlen, "cannot send to this address: the recipient %s",
		    canonical[0] == '\0' ? why : "must be in its canonical form (ASCII, domain as A-labels)");
		return NULL;
	}
	idlen = strlen(id);
	bracketed = idlen >= 3 && id[0] == '<' && id[idlen - 1] == '>';
	if (idlen == 0 || strpbrk(id, " \t") != NULL ||
	    (!bracketed && strpbrk(id, "<>") != NULL)) {
		snprintf(err, errlen, "cannot send with an invalid Message-ID");
		return NULL;
	}

	if (mail_format_date(msg->date, date, sizeof(date)) < 0) {
		snprintf(err, errlen, "cannot format the Date header: the time %lld is out of range",
		    (long long)msg->date);
		return NULL;
	}

	sb_puts(&sb, "From: ");
	from_append(&sb, msg->from);
	sb_puts(&sb, "\r\nTo: ");
	sb_puts(&sb, msg->to);
	sb_puts(&sb, "\r\nSubject: ");
	if (needs_encoding(msg->subject))
		encoded_words_append(&sb, msg->subject);
	else
		sb_puts(&sb, msg->subject);
	sb_puts(&sb, "\r\nDate: ");
	sb_puts(&sb, date);
	sb_puts(&sb, bracketed ? "\r\nMessage-ID: " : "\r\nMessage-ID: <");
	sb_puts(&sb, id);
	sb_puts(&sb, bracketed ? "\r\n" : ">\r\n");
	sb_puts(&sb, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n");
	body_append(&sb, msg->body);
	if (sb.failed) {
		free(sb.data);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return sb.data;
}

/* ------------------------------------------------------------------ */
/* Sending. */

struct mail_sender {
	char server[300];            /* "host:port" */
	char tls_host[256];          /* the name the certificate must carry */
	enum starttls_mode starttls;
	long timeout_ms;
	char envelope_from[320];
	char user[256];
	char *password;              /* NULL without smtp_user */
	SSL_CTX *tls;                /* NULL when smtp_starttls = off */
	char event_error[256];       /* why libESMTP gave up, from its events */
};

/* The message text served to libESMTP; also the callback's read position. */
struct message_source {
	const char *text;
	size_t len, pos;
};

/*
 * libESMTP asks for the text in pieces; len == NULL means "rewind".  *ctx
 * stays NULL: libESMTP would free() whatever we put there.
 */
static const char *
message_source_cb(void **ctx, int *len, void *arg)
{
	struct message_source *src = arg;
	size_t n;

	(void)ctx;
	if (len == NULL) {
		src->pos = 0;
		return NULL;
	}
	n = src->len - src->pos;
	if (n > 65536)
		n = 65536;
	*len = (int)n;
	src->pos += n;
	return src->text + src->pos - n;
}

static void __attribute__((format(printf, 2, 3)))
set_event_error(struct mail_sender *s, const char *fmt, ...)
{
	va_list ap;

	if (s->event_error[0] != '\0') /* the first cause is the one that matters */
		return;
	va_start(ap, fmt);
	vsnprintf(s->event_error, sizeof(s->event_error), fmt, ap);
	va_end(ap);
}

/*
 * Record why the session stops.  It never sets the "ok" flag libESMTP offers
 * on certificate problems: a certificate that does not verify stops the mail.
 */
static void
event_cb(smtp_session_t session, int event, void *arg, ...)
{
	struct mail_sender *s = arg;
	va_list ap;

	(void)session;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_EXTNA_STARTTLS:
		set_event_error(s, "STARTTLS required but not offered by the server");
		break;
	case SMTP_EV_EXTNA_8BITMIME:
		set_event_error(s, "the server does not offer 8BITMIME, needed for this non-ASCII message");
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long result = va_arg(ap, long);

		set_event_error(s, "the server's certificate did not verify: %s",
		    X509_verify_cert_error_string(result));
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE:
		set_event_error(s, "the server sent no certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		set_event_error(s, "the server's certificate is not for %s", s->tls_host);
		break;
	case SMTP_EV_WEAK_CIPHER:
		set_event_error(s, "the TLS cipher is too weak");
		break;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CA_LIST:
		set_event_error(s, "TLS could not be set up (certificate files)");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* SASL asks for the user and the password; anything else (a realm) fails. */
static int
auth_interact(auth_client_request_t request, char **result, int fields, void *arg)
{
	struct mail_sender *s = arg;

	for (int i = 0; i < fields; i++) {
		if (request[i].flags & AUTH_USER)
			result[i] = s->user;
		else if (request[i].flags & AUTH_PASS)
			result[i] = s->password;
		else
			return 0;
	}
	return 1;
}

static SSL_CTX *
tls_context_new(const char *host, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;

	if (ctx == NULL) {
		snprintf(err, errlen, "could not create a TLS context");
		return NULL;
	}
	/*
	 * TLS 1.2 only: under TLS 1.3 the relay sends its session tickets after
	 * the handshake, and libESMTP 1.1.0, woken by them, waits for the reply
	 * to an EHLO it has not sent yet until the timeout (seen with aiosmtpd
	 * and OpenSSL 3.0: most sessions after the first one hung).
	 */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "could not load the system's trusted certificates");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* OpenSSL checks the name too (libESMTP does again after the handshake). */
	param = SSL_CTX_get0_param(ctx);
	if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1)
		X509_VERIFY_PARAM_set1_host(param, host, 0);
	return ctx;
}

struct mail_sender *
mail_sender_new(const struct config *cfg, const char *password, char *err, size_t errlen)
{
	struct mail_sender *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* libESMTP splits "host:port" at the first colon. */
	if (strchr(cfg->smtp_host, ':') != NULL) {
		snprintf(err, errlen, "smtp_host cannot be an IPv6 address; use a host name");
		goto fail;
	}
	snprintf(s->server, sizeof(s->server), "%s:%d", cfg->smtp_host, cfg->smtp_port);
	snprintf(s->tls_host, sizeof(s->tls_host), "%s", cfg->smtp_host);
	s->starttls = cfg->smtp_starttls;
	s->timeout_ms = (long)cfg->smtp_timeout * 1000L;
	if (mail_envelope_address(cfg->mail_from, s->envelope_from, sizeof(s->envelope_from)) < 0 ||
	    !header_value_ok(cfg->mail_from, 0)) {
		snprintf(err, errlen, "mail_from has no usable address");
		goto fail;
	}
	if (cfg->smtp_user[0] != '\0') {
		snprintf(s->user, sizeof(s->user), "%s", cfg->smtp_user);
		s->password = strdup(password ? password : "");
		if (s->password == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (s->starttls != STARTTLS_OFF && (s->tls = tls_context_new(cfg->smtp_host, err, errlen)) == NULL)
		goto fail;
	auth_client_init();
	return s;
fail:
	free(s->password);
	free(s);
	return NULL;
}

void
mail_sender_free(struct mail_sender *s)
{
	if (s == NULL)
		return;
	SSL_CTX_free(s->tls);
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
	auth_client_exit();
}

/* Copy an SMTP reply text without its line breaks or other control bytes. */
static void
reply_text(char *buf, size_t len, const char *what, const smtp_status_t *st)
{
	size_t n;

	n = (size_t)snprintf(buf, len, "%s: %d %s", what, st->code, st->text ? st->text : "");
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
}

/*
 * The reason libESMTP gave up, with OpenSSL's when TLS was the cause.
 * libESMTP reports a timeout as a dropped connection; elapsed tells them apart.
 */
static void
library_error(struct mail_sender *s, double elapsed, char *err, size_t errlen)
{
	char buf[160];
	unsigned long e = ERR_peek_last_error();
	int code = smtp_errno();

	if (s->event_error[0] != '\0')
		snprintf(err, errlen, "%s", s->event_error);
	else if (e != 0)
		snprintf(err, errlen, "TLS with %s failed: %s", s->server,
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown error");
	else if (code == SMTP_ERR_DROPPED_CONNECTION && elapsed * 1000 >= (double)s->timeout_ms)
		snprintf(err, errlen, "SMTP session with %s failed: no answer within %ld s", s->server,
		    s->timeout_ms / 1000);
	else if (code != 0)
		snprintf(err, errlen, "SMTP session with %s failed: %s", s->server,
		    smtp_strerror(code, buf, sizeof(buf)));
	else
		snprintf(err, errlen, "the server %s ended the session before the message was sent",
		    s->server);
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int
is_5xx(int code)
{
	return code >= 500 && code <= 599;
}

enum mail_verdict
mail_classify(int sender_code, int recipient_code, int message_code, enum mail_step *step)
{
	enum mail_step dummy;

	if (step == NULL)
		step = &dummy;
	*step = MAIL_STEP_NONE;
	if (message_code == 250 && (recipient_code == 250 || recipient_code == 251))
		return MAIL_SENT;
	if (sender_code != 0 && sender_code != 250) {
		*step = MAIL_STEP_SENDER;
		return MAIL_RETRY;
	}
	if (recipient_code != 0 && recipient_code != 250 && recipient_code != 251) {
		*step = MAIL_STEP_RECIPIENT;
		return is_5xx(recipient_code) ? MAIL_PERMANENT : MAIL_RETRY;
	}
	if (message_code != 0 && message_code != 250) {
		*step = MAIL_STEP_MESSAGE;
		return is_5xx(message_code) && recipient_code != 0 ? MAIL_PERMANENT : MAIL_RETRY;
	}
	return MAIL_RETRY;
}

int
mail_retry_delay(int base, int cap, int attempts)
{
	double d = base < 1 ? 1 : base;

	for (int i = 1; i < attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d < 1 ? 1 : (int)d;
}

int
mail_retry_next(const struct config *cfg, int attempts, double age, int *delay)
{
	double left = (double)cfg->mail_max_age - age;
	int d;

	if (cfg->mail_max_attempts > 0 && attempts >= cfg->mail_max_attempts)
		return 0;
	if (left <= 0)
		return 0;
	d = mail_retry_delay(cfg->mail_retry_base, cfg->mail_retry_max, attempts);
	if ((double)d > left)
		d = left < 1 ? 1 : (int)(left + 0.999);
	*delay = d;
	return 1;
}

enum mail_verdict
mail_sender_send(struct mail_sender *s, const char *recipient, const char *text, char *err,
    size_t errlen)
{
	struct message_source src = {.text = text, .len = strlen(text), .pos = 0};
	static const int phases[] = {Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA,
	    Timeout_TRANSFER, Timeout_DATA2};
	smtp_session_t session;
	smtp_message_t message;
	smtp_recipient_t rcpt;
	auth_context_t auth = NULL;
	const smtp_status_t *st, *ms, *rs;
	struct timespec started;
	enum mail_verdict rc = MAIL_RETRY;
	enum mail_step step;

	s->event_error[0] = '\0';
	ERR_clear_error();
	if (src.len > INT_MAX) {
		snprintf(err, errlen, "cannot send a message this large");
		return MAIL_PERMANENT;
	}
	session = smtp_create_session();
	if (session == NULL) {
		snprintf(err, errlen, "out of memory");
		return MAIL_RETRY;
	}
	if ((message = smtp_add_message(session)) == NULL || !smtp_set_server(session, s->server) ||
	    !smtp_set_reverse_path(message, s->envelope_from) ||
	    (rcpt = smtp_add_recipient(message, recipient)) == NULL ||
	    !smtp_set_messagecb(message, message_source_cb, &src) ||
	    !smtp_set_eventcb(session, event_cb, s)) {
		snprintf(err, errlen, "could not set up the SMTP session");
		goto done;
	}
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		smtp_set_timeout(session, phases[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, s->timeout_ms);
	if (!mail_is_ascii(text))
		smtp_8bitmime_set_body(message, E8bitmime_8BITMIME);
	switch (s->starttls) {
	case STARTTLS_OFF:
		smtp_starttls_enable(session, Starttls_DISABLED);
		break;
	case STARTTLS_ENABLED:
		smtp_starttls_enable(session, Starttls_ENABLED);
		break;
	case STARTTLS_REQUIRED:
		smtp_starttls_enable(session, Starttls_REQUIRED);
		break;
	}
	if (s->tls != NULL && !smtp_starttls_set_ctx(session, s->tls)) {
		snprintf(err, errlen, "could not set up TLS for the SMTP session");
		goto done;
	}
	if (s->password != NULL) {
		auth = auth_create_context();
		if (auth == NULL) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, auth_interact, s);
		smtp_auth_set_context(session, auth);
	}

	clock_gettime(CLOCK_MONOTONIC, &started);
	if (!smtp_start_session(session)) {
		library_error(s, seconds_since(&started), err, errlen);
		goto done;
	}
	/* The session ran: the verdict is in the replies (see the top of this file). */
	st = smtp_message_transfer_status(message);
	ms = smtp_reverse_path_status(message);
	rs = smtp_recipient_status(rcpt);
	rc = mail_classify(ms ? ms->code : 0, rs ? rs->code : 0, st ? st->code : 0, &step);
	if (rc == MAIL_SENT)
		goto done;
	/* Say which step the relay refused, or why libESMTP stopped. */
	if (step == MAIL_STEP_SENDER)
		reply_text(err, errlen, "sender refused", ms);
	else if (step == MAIL_STEP_RECIPIENT)
		reply_text(err, errlen, "recipient refused", rs);
	else if (step == MAIL_STEP_MESSAGE)
		reply_text(err, errlen, "message refused", st);
	else if (s->event_error[0] != '\0')
		snprintf(err, errlen, "%s", s->event_error);
	else if (st != NULL && st->code == 250)
		snprintf(err, errlen, "the server gave no reply for the recipient");
	else
		library_error(s, seconds_since(&started), err, errlen);
done:
	/* Destroying the session drops its reference on s->tls (not ours). */
	smtp_destroy_session(session);
	if (auth != NULL)
		auth_destroy_context(auth);
	return rc;
}
