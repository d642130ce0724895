/*
 * test_client_ip: trusted_proxies and X-Forwarded-For (util/client_ip.h).
 */
#include "tap.h"
#include "util/client_ip.h"

static const char *
who(const char *trusted, const char *peer, const char *xff, char *buf, size_t cap)
{
	struct cidr_list list;
	const char *why = NULL;

	if (cidr_list_parse(trusted, &list, &why) < 0)
		return why;
	return client_ip(&list, peer, xff, buf, cap);
}

int
main(void)
{
	struct cidr_list list;
	const char *why = NULL;
	char buf[64];

	ok(cidr_list_parse("10.0.0.0/8, 192.168.1.7 2001:db8::/32", &list, &why) == 0 && list.n == 3,
	    "test-client-ip: three CIDRs separated by commas and spaces");
	ok(cidr_list_parse("", &list, &why) == 0 && list.n == 0, "test-client-ip: empty list");
	ok(cidr_list_parse("10.0.0.0/33", &list, &why) < 0, "test-client-ip: /33 is refused");
	ok(cidr_list_parse("10.0.0/8", &list, &why) < 0, "test-client-ip: a short address is refused");
	ok(cidr_list_parse("::/129", &list, &why) < 0, "test-client-ip: /129 is refused");
	ok(cidr_list_parse("10.0.0.0/", &list, &why) < 0, "test-client-ip: an empty prefix is refused");
	ok(cidr_list_parse("example.com", &list, &why) < 0, "test-client-ip: a name is refused");

	cidr_list_parse("10.0.0.0/8 2001:db8::/32 127.0.0.2", &list, &why);
	ok(cidr_list_contains(&list, "10.1.2.3"), "test-client-ip: 10.1.2.3 in 10/8");
	ok(!cidr_list_contains(&list, "11.1.2.3"), "test-client-ip: 11.1.2.3 not in 10/8");
	ok(cidr_list_contains(&list, "::ffff:10.9.9.9"), "test-client-ip: IPv4-mapped in 10/8");
	ok(cidr_list_contains(&list, "2001:db8:1::5"), "test-client-ip: IPv6 in 2001:db8::/32");
	ok(!cidr_list_contains(&list, "2001:db9::5"), "test-client-ip: IPv6 outside");
	ok(!cidr_list_contains(&list, "127.0.0.1") && cidr_list_contains(&list, "127.0.0.2"),
	    "test-client-ip: a host entry is /32");

	is_str(who("", "198.51.100.1", "203.0.113.9", buf, sizeof(buf)), "198.51.100.1",
	    "test-client-ip: no trusted proxies: the peer, whatever the header says");
	is_str(who("10.0.0.0/8", "198.51.100.1", "203.0.113.9", buf, sizeof(buf)), "198.51.100.1",
	    "test-client-ip: an untrusted peer's X-Forwarded-For changes nothing");
	is_str(who("10.0.0.0/8", "10.0.0.5", NULL, buf, sizeof(buf)), "10.0.0.5",
	    "test-client-ip: a trusted peer without the header is the client");
	is_str(who("10.0.0.0/8", "10.0.0.5", "203.0.113.9", buf, sizeof(buf)), "203.0.113.9",
	    "test-client-ip: a trusted peer's header names the client");
	is_str(who("10.0.0.0/8", "10.0.0.5", "1.2.3.4, 203.0.113.9, 10.0.0.7", buf, sizeof(buf)),
	    "203.0.113.9", "test-client-ip: the rightmost untrusted entry, not a spoofed leftmost one");
	is_str(who("10.0.0.0/8", "10.0.0.5", "10.0.0.8,10.0.0.7", buf, sizeof(buf)), "10.0.0.8",
	    "test-client-ip: all trusted: the leftmost");
	is_str(who("10.0.0.0/8", "10.0.0.5", "203.0.113.9, junk, 10.0.0.7", buf, sizeof(buf)),
	    "10.0.0.7", "test-client-ip: a bad entry stops at the last trusted hop");
	is_str(who("10.0.0.0/8", "10.0.0.5", "junk", buf, sizeof(buf)), "10.0.0.5",
	    "test-client-ip: a bad only entry leaves the peer");
	is_str(who("10.0.0.0/8", "10.0.0.5", "", buf, sizeof(buf)), "10.0.0.5",
	    "test-client-ip: an empty header leaves the peer");
	is_str(who("2001:db8::/32", "2001:db8::1", " 2001:db8:ffff::2 , 2a00::1 ", buf, sizeof(buf)),
	    "2a00::1", "test-client-ip: IPv6 entries, spaces trimmed");
	is_str(who("10.0.0.0/8", NULL, "203.0.113.9", buf, sizeof(buf)), NULL,
	    "test-client-ip: no peer: nothing to trust");
	return done_testing();
}
