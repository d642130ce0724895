/*
 * fuzz_authproto: the decoder of the auth processes' records
 * (src/privsep/proto.c), which every auth process runs on what a worker
 * sends, and every worker on what comes back.  A record that decodes must
 * encode to the same bytes but for its deadline's (kept) and decode again
 * to the same message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[AUTHP_MSG_MAX], again[AUTHP_MSG_MAX];
	static unsigned char buf[AUTHP_MSG_MAX];
	struct authp_msg m, back;
	const char *why;
	long n;

	if (authp_decode(data, size, &m, text, sizeof(text), &why) < 0)
		return 0;
	(void)authp_is_request(m.type);
	for (int i = 0; i < m.nfields; i++)
		(void)authp_hash_ok(m.field[i]);
	n = authp_encode(&m, buf, sizeof(buf), &why);
	if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
		abort(); /* what decodes must encode back byte for byte */
	if (authp_decode(buf, (size_t)n, &back, again, sizeof(again), &why) < 0 || back.type != m.type ||
	    back.deadline_ns != m.deadline_ns || back.nfields != m.nfields)
		abort();
	for (int i = 0; i < m.nfields; i++)
		if ((m.field[i] == NULL) != (back.field[i] == NULL) ||
		    (m.field[i] != NULL && strcmp(m.field[i], back.field[i]) != 0))
			abort();
	return 0;
}
