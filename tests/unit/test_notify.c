/*
 * test_notify.c - unit tests of lib/notify.c against a datagram socket of
 * the test's own: messages arrive as sd_notify(3) says, to a path or an
 * abstract name; nothing is sent without $NOTIFY_SOCKET; a bad value is
 * refused; the variable is not passed on.
 */
#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static int sock = -1;
static char path[108];

/* A datagram socket at path (or, when abstract, at "@" path). */
static void
listen_at(bool abstract)
{
	struct sockaddr_un a;
	socklen_t len;
	struct timeval tv = { 2, 0 };

	snprintf(path, sizeof(path), "%s/ferryd-notify-%d", abstract ? "" :
	    "/tmp", (int)getpid());
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, path);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if (abstract) {
		a.sun_path[0] = '\0';
		path[0] = '@';
	} else
		unlink(path);
	sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(sock, 0);
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&a, len), 0);
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setenv("NOTIFY_SOCKET", path, 1);
}

static void
teardown(void)
{
	if (sock >= 0)
		close(sock);
	sock = -1;
	if (path[0] == '/')
		unlink(path);
	unsetenv("NOTIFY_SOCKET");
}

static void
expect(const char *want)
{
	char got[600];
	ssize_t n = recv(sock, got, sizeof(got) - 1, 0);

	ck_assert_int_ge(n, 0);
	got[n] = '\0';
	ck_assert_str_eq(got, want);
}

static void
sequence(bool abstract)
{
	struct notify *n;

	listen_at(abstract);
	ck_assert_msg((n = notify_open()) != NULL, "notify_open");
	ck_assert_msg(getenv("NOTIFY_SOCKET") == NULL, "the variable is taken");
	ck_assert_int_eq(notify_ready(n), 0);
	expect("READY=1");
	ck_assert_int_eq(notify_reloading(n, 1234567), 0);
	expect("RELOADING=1\nMONOTONIC_USEC=1234567");
	ck_assert_int_eq(notify_ready(n), 0);
	expect("READY=1");
	ck_assert_int_eq(notify_status(n, "idle 3, in use 1\nsecond line"), 0);
	expect("STATUS=idle 3, in use 1 second line");
	ck_assert_int_eq(notify_stopping(n), 0);
	expect("STOPPING=1");
	notify_close(n);
}

START_TEST(to_a_path)
{
	sequence(false);
}
END_TEST

START_TEST(to_an_abstract_name)
{
	sequence(true);
}
END_TEST

START_TEST(without_systemd)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_msg(notify_open() == NULL, "no variable: no notifier");
	ck_assert_int_eq(notify_ready(NULL), 0);
	ck_assert_int_eq(notify_status(NULL, "x"), 0);
	notify_close(NULL);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ck_assert_msg(notify_open() == NULL, "not a path: refused");
	ck_assert_msg(getenv("NOTIFY_SOCKET") == NULL, "and not passed on");
}
END_TEST

/* A receiver that never reads: sends fail at once, never block. */
START_TEST(receiver_not_reading)
{
	struct notify *n;
	int i, failed = 0;

	listen_at(false);
	ck_assert_msg((n = notify_open()) != NULL, "notify_open");
	for (i = 0; i < 1000; i++)
		if (notify_status(n, "a line the receiver never reads") != 0)
			failed++;
	ck_assert_msg(failed > 0, "a full queue makes sends fail");
	notify_close(n);
}
END_TEST

/* Nobody listening: -1, and ferryd goes on. */
START_TEST(nobody_listening)
{
	struct notify *n;

	setenv("NOTIFY_SOCKET", "/tmp/ferryd-notify-nobody-here", 1);
	ck_assert_msg((n = notify_open()) != NULL, "notify_open");
	ck_assert_int_eq(notify_ready(n), -1);
	ck_assert_int_eq(notify_ready(n), -1);
	notify_close(n);
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, to_a_path);
	tcase_add_test(tc, to_an_abstract_name);
	tcase_add_test(tc, without_systemd);
	tcase_add_test(tc, nobody_listening);
	tcase_add_test(tc, receiver_not_reading);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	log_open(LOG_DAEMON, LOG_ERR, 0);
	sr = srunner_create(notify_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
