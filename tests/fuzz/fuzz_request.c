/*
 * fuzz_request: FastCGI parameters -> the request struct, then the body.
 * The input is NUL-separated "NAME=value" strings (the last one, if it
 * has no '=', is the body), as nginx would pass them; a few parameters
 * the parser requires get defaults when the input leaves them out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena a;
	static int ready;
	char *copy, *env[40], *body = NULL;
	size_t n = 0, i = 0;
	struct http_request req;
	struct http_failure fail;

	if (!ready) {
		arena_init(&a, 1024, 1 << 20);
		ready = 1;
	}
	if (size > 65536)
		return 0;
	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (i < size && n < 36) {
		char *s = copy + i;
		size_t len = strlen(s);
		if (strchr(s, '=') != NULL)
			env[n++] = s;
		else
			body = s;
		i += len + 1;
	}
	env[n] = NULL;
	arena_reset(&a);
	memset(&req, 0, sizeof(req));
	if (http_request_parse(&req, &a, env, &fail) == 0) {
		if (body != NULL) {
			req.body = body;
			req.body_len = strlen(body);
			(void)http_parse_body(&req, &fail);
		}
		(void)http_query(&req, "cursor");
		(void)http_cookie(&req, "finicom_session");
	}
	http_request_clear(&req);
	free(copy);
	return 0;
}
