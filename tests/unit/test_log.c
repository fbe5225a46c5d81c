/*
 * test_log.c - unit tests of lib/log.c: level and facility names of the
 * ini file, the level filter (seen through the test hook), printf
 * formatting, the cut of over-long messages, the stderr copy in the
 * foreground, and fatal()'s exit status (in Check's forked child).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define N_SEEN		8
#define SEEN_MAX	8192

static int seen_levels[N_SEEN];
static char seen_msgs[N_SEEN][SEEN_MAX];
static int n_seen;

/* Records every message that passed the level. */
static void
capture(int level, const char *msg, void *arg)
{
	if (n_seen < N_SEEN) {
		seen_levels[n_seen] = level;
		snprintf(seen_msgs[n_seen], SEEN_MAX, "%s", msg);
	}
	n_seen++;
}

/* Logging at LOG_INFO, not to stderr, every message captured. */
static void
setup(void)
{
	n_seen = 0;
	memset(seen_msgs, 0, sizeof(seen_msgs));
	log_open(LOG_USER, LOG_INFO, 0);
	log_set_hook(capture, NULL);
}

/* Leaves the log module as a fresh process has it. */
static void
teardown(void)
{
	log_set_hook(NULL, NULL);
	log_set_level(LOG_INFO);
	log_close();
}

START_TEST(test_level_names)
{
	ck_assert_int_eq(log_level_from_name("err"), LOG_ERR);
	ck_assert_int_eq(log_level_from_name("warning"), LOG_WARNING);
	ck_assert_int_eq(log_level_from_name("notice"), LOG_NOTICE);
	ck_assert_int_eq(log_level_from_name("info"), LOG_INFO);
	ck_assert_int_eq(log_level_from_name("debug"), LOG_DEBUG);
	ck_assert_msg(log_level_from_name("DEBUG") == LOG_DEBUG,
	    "names are case-insensitive");
	ck_assert_msg(log_level_from_name("Warning") == LOG_WARNING,
	    "names are case-insensitive");
}
END_TEST

START_TEST(test_level_names_bad)
{
	static const char *const bad[] = {
		"", "error", "warn", "crit", "emerg", "alert", "infos", "inf",
		"debug ", " info", "7", "local0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(log_level_from_name(bad[i]) == -1,
		    "level \"%s\" is refused", bad[i]);
}
END_TEST

START_TEST(test_facility_names)
{
	static const struct {
		const char *name;
		int value;
	} good[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
		{ "DAEMON", LOG_DAEMON }, { "Local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(log_facility_from_name(good[i].name) ==
		    good[i].value, "facility \"%s\" is %d", good[i].name,
		    good[i].value);
}
END_TEST

START_TEST(test_facility_names_bad)
{
	static const char *const bad[] = {
		"", "local8", "local", "kern", "auth", "syslog", "mail",
		"daemon ", "info", "24",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(log_facility_from_name(bad[i]) == -1,
		    "facility \"%s\" is refused", bad[i]);
}
END_TEST

START_TEST(test_level_filter)
{
	log_debug("below");
	ck_assert_msg(n_seen == 0, "debug is dropped at level info");
	log_info("at");
	ck_assert_int_eq(n_seen, 1);
	ck_assert_int_eq(seen_levels[0], LOG_INFO);
	ck_assert_str_eq(seen_msgs[0], "at");
	log_notice("n");
	log_warn("w");
	log_err("e");
	ck_assert_int_eq(n_seen, 4);
	ck_assert_int_eq(seen_levels[1], LOG_NOTICE);
	ck_assert_int_eq(seen_levels[2], LOG_WARNING);
	ck_assert_int_eq(seen_levels[3], LOG_ERR);
	ck_assert_str_eq(seen_msgs[1], "n");
	ck_assert_str_eq(seen_msgs[2], "w");
	ck_assert_str_eq(seen_msgs[3], "e");
}
END_TEST

START_TEST(test_set_level)
{
	log_set_level(LOG_DEBUG);
	log_debug("now seen");
	ck_assert_int_eq(n_seen, 1);
	ck_assert_int_eq(seen_levels[0], LOG_DEBUG);
	ck_assert_str_eq(seen_msgs[0], "now seen");

	log_set_level(LOG_ERR);
	log_warn("dropped");
	log_notice("dropped");
	log_info("dropped");
	log_debug("dropped");
	ck_assert_msg(n_seen == 1, "only err passes at level err");
	log_err("kept");
	ck_assert_int_eq(n_seen, 2);
	ck_assert_int_eq(seen_levels[1], LOG_ERR);
	ck_assert_str_eq(seen_msgs[1], "kept");

	/* log_open sets the level too */
	log_open(LOG_USER, LOG_WARNING, 0);
	log_notice("dropped");
	log_warn("kept");
	ck_assert_int_eq(n_seen, 3);
	ck_assert_str_eq(seen_msgs[2], "kept");
}
END_TEST

START_TEST(test_no_hook)
{
	log_set_hook(NULL, NULL);
	log_info("nobody listens");
	ck_assert_msg(n_seen == 0, "a removed hook is not called");
	log_set_hook(capture, NULL);
	log_info("heard");
	ck_assert_int_eq(n_seen, 1);
}
END_TEST

/* Hands arg back so the test can see the hook's argument arrives. */
static void
capture_arg(int level, const char *msg, void *arg)
{
	*(int *)arg += 1;
}

START_TEST(test_hook_arg)
{
	int calls = 0;

	log_set_hook(capture_arg, &calls);
	log_info("one");
	log_warn("two");
	ck_assert_msg(calls == 2, "the hook gets its argument: %d", calls);
}
END_TEST

START_TEST(test_printf)
{
	log_info("%d %s %05.1f %c %x %lld 100%%", -42, "str", 3.14159, 'z',
	    255, (long long)INT64_MAX);
	ck_assert_int_eq(n_seen, 1);
	ck_assert_str_eq(seen_msgs[0],
	    "-42 str 003.1 z ff 9223372036854775807 100%");
	log_info("%s", "%d %s not a format");
	ck_assert_str_eq(seen_msgs[1], "%d %s not a format");
	log_info("%.3s|%-4s|", "abcdef", "ab");
	ck_assert_str_eq(seen_msgs[2], "abc|ab  |");
}
END_TEST

START_TEST(test_long_message_cut)
{
	static char big[6000];
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_warn("start:%s:end", big);
	ck_assert_int_eq(n_seen, 1);
	len = strlen(seen_msgs[0]);
	ck_assert_msg(len > 1000 && len < sizeof(big),
	    "the message is cut, not dropped or overflowed: %zu", len);
	ck_assert_msg(strncmp(seen_msgs[0], "start:xxxx", 10) == 0,
	    "the cut keeps the start");
	ck_assert_msg(strspn(seen_msgs[0] + 6, "x") == len - 6,
	    "nothing but the format's own bytes: the end is cut");

	/* the next message is whole again */
	log_warn("short %d", 7);
	ck_assert_str_eq(seen_msgs[1], "short 7");
}
END_TEST

/*
 * Runs fn with stderr sent to a temporary file and returns what was
 * written there in out (NUL-terminated).
 */
static void
capture_stderr(void (*fn)(void), char *out, size_t len)
{
	FILE *tmp = tmpfile();
	int saved;
	size_t n;

	ck_assert_msg(tmp != NULL, "tmpfile");
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_msg(saved >= 0, "dup stderr");
	ck_assert_msg(dup2(fileno(tmp), STDERR_FILENO) >= 0, "dup2");
	fn();
	fflush(stderr);
	ck_assert_msg(dup2(saved, STDERR_FILENO) >= 0, "restore stderr");
	close(saved);
	rewind(tmp);
	n = fread(out, 1, len - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

/* The foreground daemon (-f): one message of each level. */
static void
log_each_level(void)
{
	log_err("e %d", 1);
	log_warn("w");
	log_notice("n");
	log_info("i");
	log_debug("d");
}

START_TEST(test_foreground_stderr)
{
	char out[1024];

	log_open(LOG_USER, LOG_DEBUG, 1);
	capture_stderr(log_each_level, out, sizeof(out));
	ck_assert_str_eq(out,
	    "ferryd: error: e 1\n"
	    "ferryd: warning: w\n"
	    "ferryd: n\n"
	    "ferryd: i\n"
	    "ferryd: debug: d\n");
	ck_assert_msg(n_seen == 5, "the hook sees them too");

	log_set_level(LOG_WARNING);
	capture_stderr(log_each_level, out, sizeof(out));
	ck_assert_msg(strcmp(out, "ferryd: error: e 1\nferryd: warning: w\n")
	    == 0, "the level filters stderr too: \"%s\"", out);
}
END_TEST

START_TEST(test_background_quiet)
{
	char out[256];

	log_open(LOG_USER, LOG_DEBUG, 0);
	capture_stderr(log_each_level, out, sizeof(out));
	ck_assert_msg(out[0] == '\0', "nothing on stderr without -f: \"%s\"",
	    out);
	ck_assert_int_eq(n_seen, 5);
}
END_TEST

/*
 * Runs at fatal()'s exit in the forked child: the exit test expects status
 * 1, so a missing or wrong message turns into a different status.
 */
static void
check_fatal_message(void)
{
	if (n_seen != 1 || seen_levels[0] != LOG_ERR ||
	    strcmp(seen_msgs[0], "cannot go on: 3") != 0)
		_exit(2);
}

START_TEST(test_fatal)
{
	atexit(check_fatal_message);
	log_set_level(LOG_ERR);
	fatal("cannot go on: %d", 3);
}
END_TEST

/* The log suite: one case per behaviour. */
static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	const char *fork_env = getenv("CK_FORK");
	const struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "level_names", test_level_names },
		{ "level_names_bad", test_level_names_bad },
		{ "facility_names", test_facility_names },
		{ "facility_names_bad", test_facility_names_bad },
		{ "level_filter", test_level_filter },
		{ "set_level", test_set_level },
		{ "no_hook", test_no_hook },
		{ "hook_arg", test_hook_arg },
		{ "printf", test_printf },
		{ "long_message_cut", test_long_message_cut },
		{ "foreground_stderr", test_foreground_stderr },
		{ "background_quiet", test_background_quiet },
	};
	TCase *tc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	/* fatal() exits: only in Check's forked child, never under CK_FORK=no */
	if (fork_env == NULL || strcmp(fork_env, "no") != 0) {
		tc = tcase_create("fatal");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_exit_test(tc, test_fatal, 1);
		suite_add_tcase(s, tc);
	}
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
