/*
 * test_listeners.c - unit tests of lib/listeners.c: sockets bound as the
 * configuration says, room given and taken, a reload that adds, keeps
 * and drops addresses (and one that fails, changing nothing), and
 * accept() out of descriptors: paused, counted, resumed by a client that
 * leaves or by the retry timer (fired by hand).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "config.h"
#include "listeners.h"
#include "log.h"

static struct event_base *base;
static struct evhttp *http;
static struct listeners ls;
static uint64_t pauses;

static void
setup(void)
{
	log_set_level(LOG_ERR);
	base = event_base_new();
	http = evhttp_new(base);
	memset(&ls, 0, sizeof(ls));
	pauses = 0;
}

static void
teardown(void)
{
	listeners_close(&ls);
	evhttp_free(http);
	event_base_free(base);
}

static const struct ferryd_config *
config_with(const char *listen)
{
	char text[256], *errors = NULL;
	const struct ferryd_config *cfg;

	snprintf(text, sizeof(text), "[server]\nlisten = %s\n", listen);
	cfg = config_parse_string(text, "test", &errors);
	ck_assert_msg(cfg != NULL, "config parses: %s", errors ? errors : "");
	return cfg;
}

static uint16_t
port_of(size_t i)
{
	return ntohs(((struct sockaddr_in *)&ls.socks[i].got)->sin_port);
}

static void
open_with(const char *listen)
{
	const struct ferryd_config *cfg = config_with(listen);

	ck_assert_int_eq(listeners_open(&ls, base, http, cfg, &pauses), 0);
	config_free(cfg);
}

/* A port nobody has: bound, noted, let go. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	return ntohs(sin.sin_port);
}

START_TEST(open_and_addrs)
{
	struct sockaddr_storage out[4];

	open_with("127.0.0.1:0 127.0.0.1:0");
	ck_assert_uint_eq(ls.n, 2);
	ck_assert(port_of(0) != 0 && port_of(1) != 0 && port_of(0) != port_of(1));
	ck_assert_msg(ls.accepting && ls.room, "accepting from the start");
	ck_assert_uint_eq(listeners_addrs(&ls, out, 4), 2);
	ck_assert_uint_eq(listeners_addrs(&ls, out, 1), 1);
	ck_assert(memcmp(&out[0], &ls.socks[0].got, sizeof(out[0])) == 0);
}
END_TEST

START_TEST(room)
{
	open_with("127.0.0.1:0");
	listeners_set_room(&ls, false);
	ck_assert(!ls.accepting);
	listeners_client_left(&ls);
	ck_assert_msg(!ls.accepting, "a client leaving makes no room");
	listeners_set_room(&ls, true);
	ck_assert(ls.accepting);
}
END_TEST

START_TEST(rebind)
{
	const struct ferryd_config *cfg;
	char text[64];
	uint16_t a, b, c = free_port();
	int fd;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	open_with("127.0.0.1:0 127.0.0.1:0");
	a = port_of(0);
	b = port_of(1);
	/* Keep a (made explicit), drop b, add c. */
	snprintf(text, sizeof(text), "127.0.0.1:%u 127.0.0.1:%u", a, c);
	cfg = config_with(text);
	ck_assert_int_eq(listeners_rebind(&ls, cfg), 0);
	config_free(cfg);
	ck_assert_uint_eq(ls.n, 2);
	ck_assert_uint_eq(port_of(0), a);
	ck_assert_uint_eq(port_of(1), c);
	ck_assert_msg(port_of(1) != b, "b dropped");

	/* A taken port fails the reload and changes nothing. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	{
		socklen_t len = sizeof(sin);

		getsockname(fd, (struct sockaddr *)&sin, &len);
	}
	snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sin.sin_port));
	cfg = config_with(text);
	ck_assert_int_eq(listeners_rebind(&ls, cfg), -1);
	config_free(cfg);
	close(fd);
	ck_assert_uint_eq(ls.n, 2);
	ck_assert_uint_eq(port_of(0), a);
	ck_assert_uint_eq(port_of(1), c);
}
END_TEST

/* A kept socket keeps its accept queue: the same socket, not a new one. */
START_TEST(rebind_keeps_socket)
{
	const struct ferryd_config *cfg;
	struct evconnlistener *kept;
	char text[64];

	uint16_t a, b = free_port();

	snprintf(text, sizeof(text), "127.0.0.1:0 127.0.0.1:%u", b);
	open_with(text);
	kept = ls.socks[1].lev;
	a = port_of(0);
	/* The second as configured before; the first made explicit. */
	snprintf(text, sizeof(text), "127.0.0.1:%u 127.0.0.1:%u", a, b);
	cfg = config_with(text);
	ck_assert_int_eq(listeners_rebind(&ls, cfg), 0);
	config_free(cfg);
	ck_assert_msg(ls.socks[1].lev == kept, "the same socket");
	ck_assert_msg(ls.socks[0].lev != kept && port_of(0) == a,
	    "made explicit: bound again, on its port");
}
END_TEST

/* Connects a client created before the limit went down. */
static int
client_to(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* The lowest free descriptor number: a soft limit there leaves none. */
static rlim_t
no_room(void)
{
	int fd = dup(0);

	close(fd);
	return (rlim_t)fd;
}

START_TEST(out_of_descriptors)
{
	struct rlimit old, low;
	int c;

	open_with("127.0.0.1:0");
	c = client_to(port_of(0));
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = no_room();
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_msg(pauses == 1, "the shortage is counted once: %llu",
	    (unsigned long long)pauses);
	ck_assert_msg(ls.fd_short && !ls.accepting, "paused");
	ck_assert(ls.fd_logged);
	/* The retry timer, fired by hand: accepting again. */
	ck_assert(event_pending(ls.fd_retry, EV_TIMEOUT, NULL));
	event_active(ls.fd_retry, EV_TIMEOUT, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_msg(!ls.fd_short && ls.accepting, "resumed by the timer");
	listeners_client_came(&ls);
	ck_assert_msg(!ls.fd_logged, "a client came: the shortage is over");
	/* Short again; this time a client leaving resumes it. */
	ls.fd_short = true;
	listeners_set_room(&ls, true);
	ck_assert(!ls.accepting);
	listeners_client_left(&ls);
	ck_assert(ls.accepting);
	close(c);
}
END_TEST

static Suite *
listeners_suite(void)
{
	Suite *s = suite_create("listeners");
	TCase *tc = tcase_create("listeners");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_and_addrs);
	tcase_add_test(tc, room);
	tcase_add_test(tc, rebind);
	tcase_add_test(tc, rebind_keeps_socket);
	tcase_add_test(tc, out_of_descriptors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(listeners_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
