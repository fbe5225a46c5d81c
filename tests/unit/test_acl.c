/*
 * test_acl.c - unit tests of lib/acl.c: parsing CIDR blocks, matching IPv4,
 * IPv6 and IPv4-mapped client addresses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <check.h>

#include "acl.h"

/* A client address as accept() would give it, from its text. */
static struct sockaddr_storage
addr_of(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(40000);
	} else {
		ck_assert_msg(inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1,
		    "test address %s must parse", text);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(40000);
	}
	return ss;
}

/* True when text matches acl. */
static bool
matches(const struct acl *acl, const char *text)
{
	struct sockaddr_storage ss = addr_of(text);

	return acl_match(acl, (struct sockaddr *)&ss);
}

/* Builds an acl from blocks that must all be valid. */
static void
acl_build(struct acl *acl, const char *const *blocks, size_t n)
{
	const char *why = NULL;

	memset(acl, 0, sizeof(*acl));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(acl_add(acl, blocks[i], &why) == 0,
		    "block %s must be accepted (%s)", blocks[i],
		    why != NULL ? why : "");
}

START_TEST(test_ipv4_blocks)
{
	static const char *const blocks[] = {
		"10.0.0.0/8", "172.16.0.0/12", "192.168.1.7",
	};
	struct acl acl;

	acl_build(&acl, blocks, 3);
	ck_assert_uint_eq(acl.n, 3);
	ck_assert_msg(matches(&acl, "10.0.0.0"), "network address of /8");
	ck_assert_msg(matches(&acl, "10.255.255.255"), "last address of /8");
	ck_assert_msg(!matches(&acl, "11.0.0.0"), "next /8 is outside");
	ck_assert_msg(!matches(&acl, "9.255.255.255"), "previous /8 is outside");
	ck_assert_msg(matches(&acl, "172.31.255.255"), "last address of /12");
	ck_assert_msg(!matches(&acl, "172.32.0.0"), "first address past /12");
	ck_assert_msg(!matches(&acl, "172.15.255.255"), "address before /12");
	ck_assert_msg(matches(&acl, "192.168.1.7"), "a bare address is a /32");
	ck_assert_msg(!matches(&acl, "192.168.1.6"), "a /32 holds one address");
	ck_assert_msg(!matches(&acl, "192.168.1.8"), "a /32 holds one address");
	ck_assert_int_eq(acl.entries[2].prefix, 32);
	ck_assert_msg(!matches(&acl, "::ffff:11.0.0.1"),
	    "a mapped address outside every block does not match");
}
END_TEST

START_TEST(test_ipv6_blocks)
{
	static const char *const blocks[] = {
		"2001:db8::/32", "::1", "fd00:0:0:1:8000::/65",
	};
	struct acl acl;

	acl_build(&acl, blocks, 3);
	ck_assert_int_eq(acl.entries[1].family, AF_INET6);
	ck_assert_int_eq(acl.entries[1].prefix, 128);
	ck_assert_msg(matches(&acl, "2001:db8::"), "network address of /32");
	ck_assert_msg(matches(&acl, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
	    "last address of /32");
	ck_assert_msg(!matches(&acl, "2001:db9::"), "next /32 is outside");
	ck_assert_msg(matches(&acl, "::1"), "::1 is allowed");
	ck_assert_msg(!matches(&acl, "::2"), "::1 is a /128");
	ck_assert_msg(matches(&acl, "fd00:0:0:1:ffff::1"), "inside the /65");
	ck_assert_msg(!matches(&acl, "fd00:0:0:1:7fff::1"), "outside the /65");
	ck_assert_msg(!matches(&acl, "127.0.0.1"),
	    "IPv6 blocks never match IPv4 clients");
}
END_TEST

START_TEST(test_prefix_zero)
{
	static const char *const v4[] = { "0.0.0.0/0" };
	static const char *const v6[] = { "::/0" };
	struct acl acl;

	acl_build(&acl, v4, 1);
	ck_assert_msg(matches(&acl, "1.2.3.4"), "0.0.0.0/0 matches any IPv4");
	ck_assert_msg(matches(&acl, "255.255.255.255"), "0.0.0.0/0 matches any IPv4");
	ck_assert_msg(matches(&acl, "::ffff:8.8.8.8"),
	    "0.0.0.0/0 matches a mapped IPv4 client");
	ck_assert_msg(!matches(&acl, "2001:db8::1"), "0.0.0.0/0 is IPv4 only");

	acl_build(&acl, v6, 1);
	ck_assert_msg(matches(&acl, "2001:db8::1"), "::/0 matches any IPv6");
	ck_assert_msg(matches(&acl, "::"), "::/0 matches ::");
	ck_assert_msg(!matches(&acl, "1.2.3.4"), "::/0 is IPv6 only");
	ck_assert_msg(!matches(&acl, "::ffff:1.2.3.4"),
	    "a mapped client is matched as IPv4, not against ::/0");

	acl_build(&acl, v4, 0);
	ck_assert_msg(!matches(&acl, "127.0.0.1"), "an empty list matches nothing");
}
END_TEST

START_TEST(test_mapped_addresses)
{
	static const char *const blocks[] = {
		"127.0.0.0/8", "::ffff:10.0.0.0/104", "::ffff:192.0.2.1",
	};
	struct acl acl;

	acl_build(&acl, blocks, 3);
	ck_assert_msg(matches(&acl, "::ffff:127.0.0.1"),
	    "a mapped loopback client matches 127.0.0.0/8");
	ck_assert_msg(!matches(&acl, "::ffff:128.0.0.1"),
	    "a mapped client outside the block does not match");
	ck_assert_int_eq(acl.entries[1].family, AF_INET);
	ck_assert_int_eq(acl.entries[1].prefix, 8);
	ck_assert_msg(matches(&acl, "10.9.8.7"),
	    "a mapped /104 block matches plain IPv4 clients");
	ck_assert_msg(matches(&acl, "::ffff:10.9.8.7"),
	    "a mapped /104 block matches mapped clients");
	ck_assert_msg(!matches(&acl, "11.0.0.1"), "outside the mapped /104");
	ck_assert_int_eq(acl.entries[2].family, AF_INET);
	ck_assert_int_eq(acl.entries[2].prefix, 32);
	ck_assert_msg(matches(&acl, "192.0.2.1"), "a mapped host address");
	ck_assert_msg(!matches(&acl, "::1"), "::1 is not in 127.0.0.0/8");
}
END_TEST

START_TEST(test_host_bits_masked)
{
	static const uint8_t net4[4] = { 10, 0, 0, 0 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const char *const blocks[] = {
		"10.1.2.3/8", "2001:db8::1/32", "192.168.1.255/25", "192.0.2.255/31",
	};
	struct acl acl;

	acl_build(&acl, blocks, 4);
	ck_assert_uint_eq(acl.entries[3].addr[3], 0xfe);
	ck_assert_msg(matches(&acl, "192.0.2.254"), "first address of the /31");
	ck_assert_msg(!matches(&acl, "192.0.2.253"), "before the /31");
	ck_assert_msg(memcmp(acl.entries[0].addr, net4, 4) == 0,
	    "10.1.2.3/8 is stored as 10.0.0.0/8");
	ck_assert_msg(memcmp(acl.entries[1].addr, net6, 16) == 0,
	    "2001:db8::1/32 is stored as 2001:db8::/32");
	ck_assert_uint_eq(acl.entries[2].addr[3], 0x80);
	ck_assert_msg(matches(&acl, "10.200.0.1"), "the masked /8 matches");
	ck_assert_msg(matches(&acl, "192.168.1.128"), "first address of the /25");
	ck_assert_msg(!matches(&acl, "192.168.1.127"), "before the /25");
}
END_TEST

/* A block acl_add() must refuse, and the start of the reason it gives. */
static const struct {
	const char *text;
	const char *why;
} bad_blocks[] = {
	{ "", "an address is required" },
	{ "/8", "an address is required" },
	{ "10.0.0.0/", "the prefix of an IPv4 block must be a number from 0 to 32" },
	{ "10.0.0.0/33", "the prefix of an IPv4 block must be a number from 0 to 32" },
	{ "10.0.0.0/-1", "the prefix of an IPv4 block" },
	{ "10.0.0.0/+8", "the prefix of an IPv4 block" },
	{ "10.0.0.0/8/8", "the prefix of an IPv4 block" },
	{ "10.0.0.0/8x", "the prefix of an IPv4 block" },
	{ "10.0.0.0/0008", "the prefix of an IPv4 block" },
	{ "::1/129", "the prefix of an IPv6 block must be a number from 0 to 128" },
	{ "::/1000", "the prefix of an IPv6 block" },
	{ "10.0.0.256", "not an IPv4 or IPv6 address" },
	{ "10.0.0", "not an IPv4 or IPv6 address" },
	{ "localhost", "not an IPv4 or IPv6 address (host names are not allowed)" },
	{ "fe80::1%eth0", "not an IPv4 or IPv6 address" },
	{ "1:2:3:4:5:6:7:8:9", "not an IPv4 or IPv6 address" },
	{ " 10.0.0.1", "not an IPv4 or IPv6 address" },
	{ "0123456789012345678901234567890123456789012345678901234567890123456789",
	  "not an IPv4 or IPv6 address" },
};

START_TEST(test_bad_blocks)
{
	struct acl acl;
	const char *why = NULL;

	memset(&acl, 0, sizeof(acl));
	ck_assert_msg(acl_add(&acl, bad_blocks[_i].text, &why) == -1,
	    "\"%s\" must be refused", bad_blocks[_i].text);
	ck_assert_msg(why != NULL && strncmp(why, bad_blocks[_i].why,
	    strlen(bad_blocks[_i].why)) == 0,
	    "\"%s\": reason \"%s\" should start \"%s\"", bad_blocks[_i].text,
	    why != NULL ? why : "(null)", bad_blocks[_i].why);
	ck_assert_msg(acl.n == 0, "a refused block is not added");
}
END_TEST

START_TEST(test_list_full)
{
	struct acl acl;
	const char *why = NULL;
	char text[32];

	memset(&acl, 0, sizeof(acl));
	for (int i = 0; i < ACL_MAX_ENTRIES; i++) {
		snprintf(text, sizeof(text), "10.0.%d.0/24", i);
		ck_assert_msg(acl_add(&acl, text, &why) == 0,
		    "entry %d of %d fits", i, ACL_MAX_ENTRIES);
	}
	ck_assert_msg(acl_add(&acl, "192.168.0.0/16", &why) == -1,
	    "entry %d does not fit", ACL_MAX_ENTRIES + 1);
	ck_assert_str_eq(why, "too many blocks (at most 64)");
	ck_assert_uint_eq(acl.n, ACL_MAX_ENTRIES);
	ck_assert_msg(matches(&acl, "10.0.63.1"), "the last entry that fit works");
	ck_assert_msg(!matches(&acl, "192.168.0.1"), "the refused entry is absent");
}
END_TEST

START_TEST(test_other_families)
{
	static const char *const blocks[] = { "0.0.0.0/0", "::/0" };
	struct sockaddr_un sun;
	struct acl acl;

	acl_build(&acl, blocks, 2);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_msg(!acl_match(&acl, (struct sockaddr *)&sun),
	    "an AF_UNIX peer never matches");
	ck_assert_msg(!acl_match(&acl, NULL), "no address never matches");
}
END_TEST

/* One test case per behaviour of lib/acl.c. */
static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc;

	tc = tcase_create("ipv4 blocks");
	tcase_add_test(tc, test_ipv4_blocks);
	suite_add_tcase(s, tc);
	tc = tcase_create("ipv6 blocks");
	tcase_add_test(tc, test_ipv6_blocks);
	suite_add_tcase(s, tc);
	tc = tcase_create("prefix zero");
	tcase_add_test(tc, test_prefix_zero);
	suite_add_tcase(s, tc);
	tc = tcase_create("ipv4-mapped addresses");
	tcase_add_test(tc, test_mapped_addresses);
	suite_add_tcase(s, tc);
	tc = tcase_create("host bits are masked");
	tcase_add_test(tc, test_host_bits_masked);
	suite_add_tcase(s, tc);
	tc = tcase_create("bad blocks");
	tcase_add_loop_test(tc, test_bad_blocks, 0,
	    (int)(sizeof(bad_blocks) / sizeof(bad_blocks[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("list full");
	tcase_add_test(tc, test_list_full);
	suite_add_tcase(s, tc);
	tc = tcase_create("other address families");
	tcase_add_test(tc, test_other_families);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; fails when any check failed. */
int
main(void)
{
	SRunner *sr = srunner_create(acl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
