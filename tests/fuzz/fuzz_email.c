/*
 * fuzz_email: the email rule (util/email.c) on any bytes.  It must never
 * crash or read out of bounds, and what it accepts must be canonical: at
 * most EMAIL_MAX bytes of printable ASCII with one '@', accepted again
 * unchanged (idempotence), and refused or accepted alike by the
 * validator's email_ok and the mailer-side check (same function).  The
 * input is handed over without a NUL, so a read past its end shows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/email.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[EMAIL_MAX + 1], again[EMAIL_MAX + 1];
	const char *why = NULL;
	char *copy;
	size_t n, ats = 0;

	if (size > 4 * EMAIL_INPUT_MAX)
		return 0;
	/* An exact-size heap copy: ASan catches a read one byte beyond. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (email_normalize(copy, size, out, &why) < 0) {
		if (why == NULL || out[0] != '\0')
			abort(); /* a refusal always says why and leaves out empty */
		free(copy);
		return 0;
	}
	n = strlen(out);
	if (n < 3 || n > EMAIL_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c <= ' ' || c >= 0x7f)
			abort(); /* not printable ASCII */
		if (c == '@')
			ats++;
	}
	if (ats != 1)
		abort();
	if (email_normalize(out, n, again, &why) < 0 || strcmp(again, out) != 0)
		abort(); /* not idempotent */
	/* NUL-terminated input: email_ok agrees when there is no NUL inside. */
	if (memchr(copy, '\0', size) == NULL) {
		char *s = malloc(size + 1);
		if (s != NULL) {
			memcpy(s, copy, size);
			s[size] = '\0';
			if (!email_ok(s, &why))
				abort();
			free(s);
		}
	}
	free(copy);
	return 0;
}
