/*
 * common_passwords: see common_passwords.h.
 *
 * The embedded file is one entry a line; lines that start with "#" are its
 * header.  The table holds each entry as an offset and a length into the
 * embedded bytes (which stay read-only), sorted by memcmp order with the
 * shorter of two equal prefixes first.
 */
#include "util/common_passwords.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern const char finicom_common_passwords_start[];
extern const char finicom_common_passwords_end[];

/* No entry is longer than this; a longer password is not on the list. */
#define ENTRY_MAX 64

struct entry {
	uint32_t off;
	uint16_t len;
};

static struct entry table[COMMON_PASSWORDS_MAX];
static size_t table_len;
static bool table_built;

static int
compare_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
compare_entries(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;

	return compare_bytes(finicom_common_passwords_start + a->off, a->len,
	    finicom_common_passwords_start + b->off, b->len);
}

static void
build(void)
{
	const char *p = finicom_common_passwords_start, *end = finicom_common_passwords_end;

	while (p < end && table_len < COMMON_PASSWORDS_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && len <= ENTRY_MAX && p[0] != '#') {
			table[table_len].off = (uint32_t)(p - finicom_common_passwords_start);
			table[table_len].len = (uint16_t)len;
			table_len++;
		}
		p += len + 1;
	}
	qsort(table, table_len, sizeof(table[0]), compare_entries);
	table_built = true;
}

void
common_passwords_warm(void)
{
	if (!table_built)
		build();
}

size_t
common_passwords_count(void)
{
	common_passwords_warm();
	return table_len;
}

bool
password_is_common(const char *password)
{
	char key[ENTRY_MAX];
	size_t len = strnlen(password, ENTRY_MAX + 1), lo = 0, hi;

	if (len == 0 || len > ENTRY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		key[i] = password[i] >= 'A' && password[i] <= 'Z' ? (char)(password[i] - 'A' + 'a')
		                                                  : password[i];
	common_passwords_warm();
	hi = table_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_bytes(key, len, finicom_common_passwords_start + table[mid].off,
		    table[mid].len);
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}
