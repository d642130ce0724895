/*
 * client_ip: whose address a request is, behind load balancers.
 *
 * trusted_proxies (finicom.conf) is a list of CIDRs: the addresses of the
 * load balancers and proxies in front of nginx.  A request whose peer
 * (REMOTE_ADDR, what nginx saw) is one of them carries the client's
 * address in X-Forwarded-For; any other peer is the client itself, and
 * whatever X-Forwarded-For it sent is ignored (anyone can write one).
 *
 * The one decision: client_ip().  The worker makes it once per request and
 * stores it in req->remote_addr, which every user of the client's address
 * (rate limits, the audit trail, sessions, the log) reads.
 */
#ifndef FINICOM_CLIENT_IP_H
#define FINICOM_CLIENT_IP_H

#include <stdbool.h>
#include <stddef.h>

#define CIDR_LIST_MAX 32

struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network byte order; 4 bytes used for AF_INET */
	int bits;                /* prefix length */
};

struct cidr_list {
	size_t n;
	struct cidr items[CIDR_LIST_MAX];
};

/*
 * Parse "10.0.0.0/8 192.168.1.7, 2001:db8::/32" (separated by spaces or
 * commas; an address without /N is one host) into list.  Returns 0, or -1
 * with *why set.
 */
int cidr_list_parse(const char *text, struct cidr_list *list, const char **why);

/* True when the address text addr (IPv4, IPv6, or IPv4-mapped IPv6) is in list. */
bool cidr_list_contains(const struct cidr_list *list, const char *addr);

/*
 * The client's address.  peer: REMOTE_ADDR (may be NULL); forwarded_for:
 * the X-Forwarded-For header (NULL when absent).  When peer is not in
 * trusted, or there is no header, the answer is peer.  Otherwise the header
 * is read from its right end (the entry the nearest proxy appended), each
 * trusted entry skipped: the first entry that is not trusted is the client;
 * an entry that is not an IP address stops the walk at the last trusted
 * address seen (as nginx's real_ip_recursive does).  The answer is peer or
 * a copy in out (cap bytes; INET6_ADDRSTRLEN is enough).
 */
const char *client_ip(const struct cidr_list *trusted, const char *peer, const char *forwarded_for,
    char *out, size_t cap);

#endif
