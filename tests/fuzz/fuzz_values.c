/*
 * fuzz_values: the small validators and decoders that see client text:
 * email, name, password (and the common-password and email/name rules of
 * a new one), uuid, times, percent-decoding, cookies, base64url (cursors),
 * secret decoding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util/crypto.h"
#include "util/secret.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int keyed;
	char *s, *out, *cookies;
	const char *why;
	size_t n;
	char *plain;

	if (!keyed) {
		unsigned char key[SECRET_KEY_BYTES] = {1, 2, 3};
		secret_use_key(key);
		keyed = 1;
	}
	if (size > 8192)
		return 0;
	s = malloc(size + 1);
	out = malloc(size * 3 + 8);
	cookies = malloc(size + 1);
	if (s == NULL || out == NULL || cookies == NULL)
		goto done;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)email_ok(s, &why);
	(void)name_ok(s, strlen(s), &why);
	(void)password_ok(s, strlen(s), &why);
	(void)password_new_ok(s, "fuzz@example.test", "Fuzz Name", &why);
	(void)uuid_ok(s);
	(void)datetime_fields_ok(s);
	(void)http_percent_decode(s, strlen(s), out, true);
	(void)base64url_decode(s, strlen(s), (unsigned char *)out, size * 3 + 8);
	plain = secret_decrypt(s, "org/sources/id/config.password", &n);
	free(plain);
	{
		struct http_request req;
		memset(&req, 0, sizeof(req));
		memcpy(cookies, s, size + 1);
		http_parse_cookies(&req, cookies);
		(void)http_cookie(&req, "finicom_session");
	}
done:
	free(s);
	free(out);
	free(cookies);
	return 0;
}
