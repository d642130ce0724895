/*
 * client_ip: trusted_proxies and X-Forwarded-For.  See client_ip.h.
 */
#include "util/client_ip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Parse an address into family/addr; IPv4-mapped IPv6 becomes IPv4. */
static bool
addr_parse(const char *text, size_t len, int *family, unsigned char addr[16])
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(addr, mapped, 12) == 0) {
			memmove(addr, addr + 12, 4);
			*family = AF_INET;
		} else {
			*family = AF_INET6;
		}
		return true;
	}
	return false;
}

int
cidr_list_parse(const char *text, struct cidr_list *list, const char **why)
{
	const char *p = text;

	memset(list, 0, sizeof(*list));
	while (*p) {
		size_t len, alen;
		const char *slash;
		struct cidr c = {0};
		int max;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == 0)
			break;
		if (list->n == CIDR_LIST_MAX) {
			*why = "at most 32 addresses or networks";
			return -1;
		}
		slash = memchr(p, '/', len);
		alen = slash ? (size_t)(slash - p) : len;
		if (!addr_parse(p, alen, &c.family, c.addr)) {
			*why = "expected IP addresses or CIDR networks such as 10.0.0.0/8 or 2001:db8::/32";
			return -1;
		}
		max = c.family == AF_INET ? 32 : 128;
		c.bits = max;
		if (slash != NULL) {
			char num[8];
			size_t n = len - alen - 1;
			char *end;
			long bits;

			if (n == 0 || n >= sizeof(num)) {
				*why = "expected a prefix length after '/'";
				return -1;
			}
			memcpy(num, slash + 1, n);
			num[n] = '\0';
			bits = strtol(num, &end, 10);
			if (*end != '\0' || num[0] < '0' || num[0] > '9' || bits > max) {
				*why = "prefix length out of range (0-32 for IPv4, 0-128 for IPv6)";
				return -1;
			}
			c.bits = (int)bits;
		}
		list->items[list->n++] = c;
		p += len;
	}
	return 0;
}

static bool
cidr_match(const struct cidr *c, int family, const unsigned char addr[16])
{
	int full = c->bits / 8, rest = c->bits % 8;

	if (c->family != family)
		return false;
	if (memcmp(c->addr, addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (addr[full] & mask);
}

static bool
contains(const struct cidr_list *list, int family, const unsigned char addr[16])
{
	for (size_t i = 0; i < list->n; i++)
		if (cidr_match(&list->items[i], family, addr))
			return true;
	return false;
}

bool
cidr_list_contains(const struct cidr_list *list, const char *addr)
{
	unsigned char a[16];
	int family;

	return list != NULL && addr != NULL && addr_parse(addr, strlen(addr), &family, a) &&
	    contains(list, family, a);
}

const char *
client_ip(const struct cidr_list *trusted, const char *peer, const char *forwarded_for, char *out,
    size_t cap)
{
	const char *end, *start, *answer = peer;
	size_t answer_len = 0;

	if (trusted == NULL || trusted->n == 0 || forwarded_for == NULL || cap == 0 ||
	    !cidr_list_contains(trusted, peer))
		return peer;
	end = forwarded_for + strlen(forwarded_for);
	while (end > forwarded_for) {
		unsigned char a[16];
		int family;
		const char *s, *e;

		start = end;
		while (start > forwarded_for && start[-1] != ',')
			start--;
		for (s = start; s < end && (*s == ' ' || *s == '\t'); s++)
			;
		for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (!addr_parse(s, (size_t)(e - s), &family, a))
			break; /* not an address: the last trusted hop is the answer */
		answer = s;
		answer_len = (size_t)(e - s);
		if (!contains(trusted, family, a))
			break; /* the client */
		end = start > forwarded_for ? start - 1 : start;
	}
	if (answer == peer)
		return peer;
	if (answer_len >= cap)
		return peer;
	memcpy(out, answer, answer_len);
	out[answer_len] = '\0';
	return out;
}
