/*
 * test_auth.c - unit tests of lib/auth.c: loading htpasswd files (accepted
 * and refused hash formats, file:line errors), checking Basic credentials,
 * and the cache of successful checks.  The files are written at test time
 * into a mkdtemp() directory, with hashes made by libxcrypt here rather
 * than by htpasswd, so the unit tests need no external program.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>

#include "auth.h"

static char tmpdir[64];
static char *tmpfiles[16];
static size_t ntmpfiles;

/* Every test gets a fresh directory for its files. */
static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_auth.XXXXXX");
	ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp");
	ntmpfiles = 0;
}

static void
teardown(void)
{
	for (size_t i = 0; i < ntmpfiles; i++) {
		unlink(tmpfiles[i]);
		free(tmpfiles[i]);
	}
	rmdir(tmpdir);
}

/* Writes text to a file called name in tmpdir; returns its path. */
static const char *
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	ck_assert(ntmpfiles < sizeof(tmpfiles) / sizeof(tmpfiles[0]));
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_msg((f = fopen(path, "w")) != NULL, "cannot write %s", path);
	ck_assert(fputs(text, f) >= 0);
	ck_assert(fclose(f) == 0);
	ck_assert((tmpfiles[ntmpfiles] = strdup(path)) != NULL);
	return tmpfiles[ntmpfiles++];
}

/*
 * A hash of password in the format of prefix ("$2y$", "$5$", ...), made
 * with the same library auth.c checks with.  bcrypt at cost 5, the
 * cheapest htpasswd -B allows, to keep the tests fast.  Static storage,
 * so one call per line of the file.
 */
static const char *
make_hash(const char *prefix, const char *password)
{
	static struct crypt_data cd;
	static char out[4][CRYPT_OUTPUT_SIZE];
	static size_t next;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	char *o = out[next++ % 4];
	const char *h;

	ck_assert_msg(crypt_gensalt_rn(prefix, prefix[1] == '2' ? 5 : 0,
	    NULL, 0, salt, sizeof(salt)) != NULL, "gensalt %s", prefix);
	h = crypt_rn(password, salt, &cd, sizeof(cd));
	ck_assert_msg(h != NULL && h[0] != '*', "crypt %s", prefix);
	snprintf(o, CRYPT_OUTPUT_SIZE, "%s", h);
	return o;
}

/* "Basic " and the base64 of userpass, as a client sends it. */
static const char *
basic(const char *userpass)
{
	static char buf[8192];

	memcpy(buf, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)buf + 6,
	    (const unsigned char *)userpass, (int)strlen(userpass));
	return buf;
}

/* Loads a file that must be accepted. */
static struct auth *
load_ok(const char *path)
{
	char err[256] = "";
	struct auth *a = auth_load(path, err, sizeof(err));

	ck_assert_msg(a != NULL, "%s must load: %s", path, err);
	return a;
}

/* One file with a user "alice" (password "secret") of each accepted format. */
static const char *const formats[] = { "$2y$", "$2a$", "$2b$", "$5$", "$6$" };

START_TEST(test_ok_each_format)
{
	char text[512], user[64];
	struct auth *a;

	snprintf(text, sizeof(text), "alice:%s\n",
	    make_hash(formats[_i], "secret"));
	ck_assert_msg(strncmp(text + 6, formats[_i], strlen(formats[_i])) == 0,
	    "libxcrypt made a %s hash", formats[_i]);
	a = load_ok(write_file("htpasswd", text));
	ck_assert_uint_eq(auth_count(a), 1);
	ck_assert_int_eq(auth_check(a, basic("alice:secret"), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(auth_check(a, basic("alice:secreT"), user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_int_eq(auth_check(a, basic("alice:"), user, sizeof(user)),
	    AUTH_WRONG_PASSWORD);
	auth_free(a);
}
END_TEST

/* Two users, so a password is checked against its own user's hash. */
static struct auth *
load_two(void)
{
	char text[512];

	snprintf(text, sizeof(text), "alice:%s\nbob:%s\n",
	    make_hash("$2y$", "secret"), make_hash("$5$", "hunter2"));
	return load_ok(write_file("htpasswd", text));
}

START_TEST(test_wrong_password)
{
	struct auth *a = load_two();
	char user[64];

	ck_assert_int_eq(auth_check(a, basic("alice:hunter2"), user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(auth_check(a, basic("bob:secret"), user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_str_eq(user, "bob");
	ck_assert_int_eq(auth_check(a, basic("bob:hunter2"), user,
	    sizeof(user)), AUTH_OK);
	auth_free(a);
}
END_TEST

START_TEST(test_unknown_user)
{
	struct auth *a = load_two();
	char user[64];

	ck_assert_int_eq(auth_check(a, basic("carol:secret"), user,
	    sizeof(user)), AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "carol");
	ck_assert_int_eq(auth_check(a, basic("Alice:secret"), user,
	    sizeof(user)), AUTH_UNKNOWN_USER);
	ck_assert_int_eq(auth_check(a, basic("alic:secret"), user,
	    sizeof(user)), AUTH_UNKNOWN_USER);
	ck_assert_int_eq(auth_check(a, basic("alicee:secret"), user,
	    sizeof(user)), AUTH_UNKNOWN_USER);
	ck_assert_int_eq(auth_check(a, basic(":secret"), user, sizeof(user)),
	    AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "");
	/* Each costs a crypt, as a known name would: no timing oracle. */
	ck_assert_uint_eq(auth_crypt_calls(a), 5);
	auth_free(a);
}
END_TEST

START_TEST(test_missing)
{
	struct auth *a = load_two();
	char user[64] = "stale";

	ck_assert_int_eq(auth_check(a, NULL, user, sizeof(user)),
	    AUTH_MISSING);
	ck_assert_str_eq(user, "");
	ck_assert_int_eq(auth_check(a, NULL, NULL, 0), AUTH_MISSING);
	auth_free(a);
}
END_TEST

/* Header values auth_check() must call malformed. */
static const char *const malformed[] = {
	"",
	"Basic",
	"Basic ",
	"Basic    ",
	"BasicYWxpY2U6c2VjcmV0",		/* no space */
	"Basic\tYWxpY2U6c2VjcmV0",		/* a tab is not a space here */
	"Bearer YWxpY2U6c2VjcmV0",
	"Digest username=\"alice\"",
	"YWxpY2U6c2VjcmV0",			/* no scheme */
	"Basic YWxpY2U6c2VjcmV0 x",		/* two tokens */
	"Basic YWxpY2U6c2Vj*mV0",		/* not base64 */
	"Basic YWxpY2U6c2VjcmV0!",
	"Basic YWxpY2U6c2Vj\nmV0",
	"Basic YWxpY2U6c2VjcmV0-",		/* base64url is not base64 */
	"Basic YWxpY2U6c2VjcmV0===",		/* three pads */
	"Basic YWxpY2U6c2VjcmV=0",		/* pad inside */
	"Basic YWxpY2U6c2VjcmV0=",		/* pad on a whole group */
	"Basic YWxpY2U6c2Vjc",		/* 4n+1 characters */
	"Basic =",
	"Basic ====",
	"Basic YWxpY2U=",			/* "alice": no colon */
	"Basic YWxpY2UAOnNlY3JldA==",		/* "alice\0:secret" */
	"Basic YWxpY2U6c2VjAHJldA==",		/* "alice:sec\0ret" */
};

START_TEST(test_malformed)
{
	struct auth *a = load_two();
	char user[64] = "stale";

	ck_assert_msg(auth_check(a, malformed[_i], user, sizeof(user)) ==
	    AUTH_MALFORMED, "\"%s\" must be malformed", malformed[_i]);
	ck_assert_str_eq(user, "");
	ck_assert_uint_eq(auth_crypt_calls(a), 0);
	auth_free(a);
}
END_TEST

START_TEST(test_oversize)
{
	struct auth *a = load_two();
	char userpass[4096], header[8192], user[64];

	/* Just under the cap: still checked.  Just over: malformed. */
	memset(userpass, 'x', sizeof(userpass));
	memcpy(userpass, "alice:", 6);
	userpass[3066] = '\0';
	snprintf(header, sizeof(header), "%s", basic(userpass));
	ck_assert_uint_eq(strlen(header), 4094);
	ck_assert_int_eq(auth_check(a, header, user, sizeof(user)),
	    AUTH_WRONG_PASSWORD);
	userpass[3066] = 'x';
	userpass[3072] = '\0';
	snprintf(header, sizeof(header), "%s", basic(userpass));
	ck_assert_uint_eq(strlen(header), 4102);
	ck_assert_int_eq(auth_check(a, header, user, sizeof(user)),
	    AUTH_MALFORMED);
	ck_assert_str_eq(user, "");
	auth_free(a);
}
END_TEST

START_TEST(test_password_with_colon)
{
	char text[512], user[64];
	struct auth *a;

	snprintf(text, sizeof(text), "alice:%s\n",
	    make_hash("$6$", "a:b::c:"));
	a = load_ok(write_file("htpasswd", text));
	ck_assert_int_eq(auth_check(a, basic("alice:a:b::c:"), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(auth_check(a, basic("alice:a:b::c"), user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_int_eq(auth_check(a, basic("alice:a"), user, sizeof(user)),
	    AUTH_WRONG_PASSWORD);
	auth_free(a);
}
END_TEST

START_TEST(test_scheme_and_padding)
{
	struct auth *a = load_two();
	char user[64];

	/* "alice:secret" is 12 bytes: no padding; "bob:hunter2" needs one. */
	ck_assert_int_eq(auth_check(a, "basic YWxpY2U6c2VjcmV0", user,
	    sizeof(user)), AUTH_OK);
	ck_assert_int_eq(auth_check(a, "BASIC YWxpY2U6c2VjcmV0", user,
	    sizeof(user)), AUTH_OK);
	ck_assert_int_eq(auth_check(a, "bAsIc    YWxpY2U6c2VjcmV0", user,
	    sizeof(user)), AUTH_OK);
	ck_assert_int_eq(auth_check(a, " Basic YWxpY2U6c2VjcmV0\t ", user,
	    sizeof(user)), AUTH_OK);
	ck_assert_int_eq(auth_check(a, "Basic Ym9iOmh1bnRlcjI=", user,
	    sizeof(user)), AUTH_OK);
	ck_assert_str_eq(user, "bob");
	ck_assert_int_eq(auth_check(a, "Basic Ym9iOmh1bnRlcjI", user,
	    sizeof(user)), AUTH_OK);
	/* "bob:hunter" needs two. */
	ck_assert_int_eq(auth_check(a, "Basic Ym9iOmh1bnRlcg==", user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_int_eq(auth_check(a, "Basic Ym9iOmh1bnRlcg", user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_int_eq(auth_check(a, "Basic Ym9iOmh1bnRlcg=", user,
	    sizeof(user)), AUTH_MALFORMED);
	auth_free(a);
}
END_TEST

START_TEST(test_user_name_for_log)
{
	char text[512], user[8];
	struct auth *a;

	snprintf(text, sizeof(text), "j\xc3\xb6rg:%s\n",
	    make_hash("$5$", "pw"));
	a = load_ok(write_file("htpasswd", text));
	ck_assert_int_eq(auth_check(a, basic("j\xc3\xb6rg:pw"), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_str_eq(user, "j??rg");
	ck_assert_int_eq(auth_check(a, basic("a\tb\x7f" "c:pw"), user,
	    sizeof(user)), AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "a?b?c");
	ck_assert_int_eq(auth_check(a, basic("averylongname:pw"), user,
	    sizeof(user)), AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "averylo");
	ck_assert_int_eq(auth_check(a, basic("averylongname:pw"), user, 1),
	    AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "");
	ck_assert_int_eq(auth_check(a, basic("j\xc3\xb6rg:pw"), NULL, 0),
	    AUTH_OK);
	auth_free(a);
}
END_TEST

START_TEST(test_cache)
{
	struct auth *a = load_two(), *b;
	char header[128], user[64];

	ck_assert_int_eq(auth_check(a, basic("alice:secret"), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_uint_eq(auth_crypt_calls(a), 1);
	user[0] = '\0';
	ck_assert_int_eq(auth_check(a, basic("alice:secret"), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_uint_eq(auth_crypt_calls(a), 1);
	ck_assert_msg(strcmp(user, "alice") == 0,
	    "a cache hit still names the user");

	/* Failures are not remembered: each one pays crypt. */
	ck_assert_int_eq(auth_check(a, basic("bob:guess"), user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_int_eq(auth_check(a, basic("bob:guess"), user,
	    sizeof(user)), AUTH_WRONG_PASSWORD);
	ck_assert_uint_eq(auth_crypt_calls(a), 3);

	/* The key is the exact value: other spacing is another entry. */
	ck_assert_int_eq(auth_check(a, "Basic  YWxpY2U6c2VjcmV0", user,
	    sizeof(user)), AUTH_OK);
	ck_assert_uint_eq(auth_crypt_calls(a), 4);

	/* 30 more values fill the 32 entries; the 31st replaces the oldest. */
	for (int i = 0; i < 31; i++) {
		snprintf(header, sizeof(header), "Basic%*sYm9iOmh1bnRlcjI=",
		    i + 1, "");
		ck_assert_int_eq(auth_check(a, header, user, sizeof(user)),
		    AUTH_OK);
		ck_assert_str_eq(user, "bob");
	}
	ck_assert_uint_eq(auth_crypt_calls(a), 35);
	ck_assert_int_eq(auth_check(a, "Basic  YWxpY2U6c2VjcmV0", user,
	    sizeof(user)), AUTH_OK);
	ck_assert_uint_eq(auth_crypt_calls(a), 35);
	ck_assert_int_eq(auth_check(a, basic("alice:secret"), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_msg(auth_crypt_calls(a) == 36,
	    "the oldest entry was replaced first");

	/* A reload is a new struct auth, with its own empty cache. */
	b = load_ok(tmpfiles[0]);
	ck_assert_int_eq(auth_check(b, basic("alice:secret"), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_uint_eq(auth_crypt_calls(b), 1);
	auth_free(b);
	auth_free(a);
}
END_TEST

START_TEST(test_comments_and_blank_lines)
{
	char text[1024], user[64];
	struct auth *a;

	snprintf(text, sizeof(text),
	    "# made by htpasswd -B\n"
	    "\n"
	    "alice:%s\n"
	    "   \n"
	    "#bob:{SHA}not-a-user\n"
	    "\t\n"
	    "bob:%s\r\n"
	    "carol:%s",				/* no newline at the end */
	    make_hash("$2y$", "a"), make_hash("$5$", "b"),
	    make_hash("$6$", "c"));
	a = load_ok(write_file("htpasswd", text));
	ck_assert_uint_eq(auth_count(a), 3);
	ck_assert_int_eq(auth_check(a, basic("alice:a"), user, sizeof(user)),
	    AUTH_OK);
	ck_assert_int_eq(auth_check(a, basic("bob:b"), user, sizeof(user)),
	    AUTH_OK);
	ck_assert_int_eq(auth_check(a, basic("carol:c"), user, sizeof(user)),
	    AUTH_OK);
	ck_assert_int_eq(auth_check(a, basic("#bob:b"), user, sizeof(user)),
	    AUTH_UNKNOWN_USER);
	auth_free(a);

	a = load_ok(write_file("empty", "# nobody yet\n\n"));
	ck_assert_uint_eq(auth_count(a), 0);
	ck_assert_int_eq(auth_check(a, basic("alice:a"), user, sizeof(user)),
	    AUTH_UNKNOWN_USER);
	auth_free(a);
}
END_TEST

/*
 * A file auth_load() must refuse: its lines, with "%s" standing for a
 * bcrypt hash, and what the message must say after "PATH:".
 */
static const struct {
	const char *text;
	const char *why;
} bad_files[] = {
	{ "alice:%s\nbob:$apr1$/B6w9ogW$Wrids5JS/KPCB62poxBLC1\n",
	  "2: user \"bob\": MD5 ($apr1$) hashes are not accepted; accepted: "
	  "bcrypt ($2y$, htpasswd -B), SHA-256 crypt ($5$, htpasswd -2) "
	  "or SHA-512 crypt ($6$, htpasswd -5)" },
	{ "# users\nalice:%s\n\nbob:{SHA}UWuXg/ylF+7L0dBk2i0WUxCxl1k=\n",
	  "4: user \"bob\": SHA-1 ({SHA}) hashes are not accepted; accepted: " },
	{ "alice:%s\nbob:CpNaWUeSFgoeA\n",
	  "2: user \"bob\": DES crypt hashes are not accepted; accepted: " },
	{ "bob:$1$abcdefgh$abcdefghijklmnopqrstuv\nalice:%s\n",
	  "1: user \"bob\": MD5 crypt ($1$) hashes are not accepted" },
	{ "alice:%s\nbob:hunter2\n",
	  "2: user \"bob\": not a hash of an accepted format (plaintext?); "
	  "accepted: " },
	{ "alice:%s\nbob:\n", "2: user \"bob\": empty hash; accepted: " },
	{ "alice:%s\nb\x01ob:x\n", "2: user \"b?ob\": not a hash" },
	{ "alice:%.40s\n", "1: user \"alice\": malformed bcrypt hash" },
	{ "alice:%s \n", "1: user \"alice\": malformed bcrypt hash" },
	{ "alice:$5$abc$tooshort%s\n", "1: user \"alice\": malformed SHA-256" },
	{ "alice:$6$abc$tooshort%s\n", "1: user \"alice\": malformed SHA-512" },
	{ "alice:%s\nbob\n", "2: no ':' between user name and hash" },
	{ "alice:%s\n:$2y$05$abc\n", "2: empty user name" },
	{ "alice:%s\nbob:%s\nalice:%s\n",
	  "3: user \"alice\" is already on line 1" },
	{ "alice:%s\n\n#\nalice:%s\n",
	  "4: user \"alice\" is already on line 1" },
};

START_TEST(test_load_errors)
{
	char text[1024], want[512], err[512] = "";
	const char *path, *h = make_hash("$2y$", "pw");

	/* -Wformat-nonliteral: the table's texts are the tests' own. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(text, sizeof(text), bad_files[_i].text, h, h, h);
#pragma GCC diagnostic pop
	path = write_file("htpasswd", text);
	ck_assert_msg(auth_load(path, err, sizeof(err)) == NULL,
	    "file %d must be refused", _i);
	snprintf(want, sizeof(want), "%s:%s", path, bad_files[_i].why);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "file %d: \"%s\" should start \"%s\"", _i, err, want);
	ck_assert_msg(strchr(err, '\n') == NULL, "one line");
	ck_assert_msg(strstr(err, "hunter2") == NULL,
	    "a plaintext password is never quoted");
}
END_TEST

START_TEST(test_load_unreadable)
{
	char path[128], want[256], err[256] = "";

	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	ck_assert(auth_load(path, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(err, want);

	ck_assert(auth_load(tmpdir, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	ck_assert_str_eq(err, want);

	ck_assert_msg(auth_load(path, NULL, 0) == NULL,
	    "no room for a message is allowed");
}
END_TEST

START_TEST(test_result_names)
{
	ck_assert_str_eq(auth_result_name(AUTH_OK), "ok");
	ck_assert_str_eq(auth_result_name(AUTH_MISSING), "missing credentials");
	ck_assert_str_eq(auth_result_name(AUTH_MALFORMED),
	    "malformed credentials");
	ck_assert_str_eq(auth_result_name(AUTH_UNKNOWN_USER), "unknown user");
	ck_assert_str_eq(auth_result_name(AUTH_WRONG_PASSWORD),
	    "wrong password");
}
END_TEST

/* Adds a test case with the temporary directory fixture. */
static TCase *
tcase_with_dir(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

/* One test case per behaviour of lib/auth.c. */
static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc;

	tc = tcase_with_dir(s, "each accepted format");
	tcase_add_loop_test(tc, test_ok_each_format, 0,
	    (int)(sizeof(formats) / sizeof(formats[0])));
	tc = tcase_with_dir(s, "wrong password");
	tcase_add_test(tc, test_wrong_password);
	tc = tcase_with_dir(s, "unknown user");
	tcase_add_test(tc, test_unknown_user);
	tc = tcase_with_dir(s, "missing header");
	tcase_add_test(tc, test_missing);
	tc = tcase_with_dir(s, "malformed header");
	tcase_add_loop_test(tc, test_malformed, 0,
	    (int)(sizeof(malformed) / sizeof(malformed[0])));
	tc = tcase_with_dir(s, "oversize header");
	tcase_add_test(tc, test_oversize);
	tc = tcase_with_dir(s, "password with colons");
	tcase_add_test(tc, test_password_with_colon);
	tc = tcase_with_dir(s, "scheme case and padding");
	tcase_add_test(tc, test_scheme_and_padding);
	tc = tcase_with_dir(s, "user name for the log");
	tcase_add_test(tc, test_user_name_for_log);
	tc = tcase_with_dir(s, "cache of successful checks");
	tcase_add_test(tc, test_cache);
	tc = tcase_with_dir(s, "comments and blank lines");
	tcase_add_test(tc, test_comments_and_blank_lines);
	tc = tcase_with_dir(s, "load errors");
	tcase_add_loop_test(tc, test_load_errors, 0,
	    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tc = tcase_with_dir(s, "unreadable file");
	tcase_add_test(tc, test_load_unreadable);
	tc = tcase_create("result names");
	tcase_add_test(tc, test_result_names);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; fails when any check failed. */
int
main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
