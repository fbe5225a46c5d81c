/*
 * auth.h - proxy authentication: HTTP Basic credentials (RFC 7617) from
 * Proxy-Authorization, checked against an htpasswd file as made by Apache's
 * htpasswd.  Accepted hashes are bcrypt ($2y$, $2a$, $2b$; htpasswd -B) and
 * crypt(3) SHA-256 ($5$; htpasswd -2) and SHA-512 ($6$; htpasswd -5).
 * Anything else (MD5 $apr1$, the htpasswd default, SHA-1 {SHA}, DES crypt,
 * plaintext) is refused when the file is loaded, so a weak hash is found
 * by whoever reloads, not by an attacker.
 *
 * Nothing here logs: errors and results come back as values and the caller
 * decides what to log.
 */
#ifndef FERRYD_AUTH_H
#define FERRYD_AUTH_H

#include <stddef.h>

struct auth;	/* the users of one htpasswd file; owner: the server, which loads one at start and on SIGHUP */

enum auth_result {
	AUTH_OK,
	AUTH_MISSING,		/* no Proxy-Authorization header */
	AUTH_MALFORMED,		/* not "Basic <base64 of user:password>" */
	AUTH_UNKNOWN_USER,
	AUTH_WRONG_PASSWORD,
};

/* Loads path; NULL on error, with a one-line message "PATH:LINE: ..." or "PATH: ..." in err. */
struct auth *auth_load(const char *path, char *err, size_t errlen);
void auth_free(struct auth *a);
/* Number of users loaded. */
size_t auth_count(const struct auth *a);
/*
 * Checks a Proxy-Authorization field value (NULL when absent).  user
 * gets the user name when one could be decoded (for the log; "" otherwise),
 * cut to userlen and with bytes outside printable ASCII replaced by '?'.
 *
 * A bcrypt check costs milliseconds of the event loop, so the last few
 * header values that checked AUTH_OK are remembered (as SHA-256 digests,
 * never as text) and answer without crypt.  Failures are not remembered,
 * so a wrong guess always pays the full price.
 */
enum auth_result auth_check(struct auth *a, const char *header, char *user, size_t userlen);
/* "missing credentials", "malformed credentials", "unknown user", "wrong password", "ok". */
const char *auth_result_name(enum auth_result r);

/*
 * How many times auth_check() has called crypt on a: for the tests, which
 * show the cache answers, and for metrics.
 */
size_t auth_crypt_calls(const struct auth *a);

#endif
