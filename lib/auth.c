/*
 * auth.c - HTTP Basic proxy credentials checked against an htpasswd file.
 * The file is read once into an array of users; auth_check() decodes the
 * header, finds the user by a linear scan and runs crypt(3) from
 * libxcrypt, which implements bcrypt as well as SHA-crypt.  See auth.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "auth.h"

/*
 * Longest Proxy-Authorization value looked at.  Real credentials are far
 * shorter; the cap bounds the decode buffer on the stack.
 */
#define AUTH_HEADER_MAX 4096

/* Successful checks remembered, so a busy client pays bcrypt once. */
#define AUTH_CACHE_SIZE 32

/* The alphabet crypt(3) hashes are written in. */
#define CRYPT_ALPHABET \
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#define ACCEPTED_FORMATS \
	"accepted: bcrypt ($2y$, htpasswd -B), SHA-256 crypt ($5$, htpasswd -2) " \
	"or SHA-512 crypt ($6$, htpasswd -5)"

/* One line of the file.  Owner: the struct auth that holds it. */
struct auth_user {
	char *name;
	char *hash;			/* as in the file, e.g. "$2y$05$..." */
	size_t line;			/* for the duplicate-user message */
};

/*
 * A header value that checked AUTH_OK.  Only its SHA-256 digest is kept,
 * so a core dump holds no reusable credentials.  Owner: struct auth.
 */
struct auth_cache_entry {
	bool used;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	size_t user;			/* index into auth->users, for the log name */
};

struct auth {
	struct auth_user *users;
	size_t n, cap;
	struct auth_cache_entry cache[AUTH_CACHE_SIZE];
	size_t cache_next;		/* round-robin: the entry replaced next */
	size_t crypt_calls;
	/*
	 * crypt_rn()'s scratch space is some 32 KiB: kept here rather than
	 * on the event loop's stack.
	 */
	struct crypt_data cd;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Copies at most len bytes of s into out (outlen bytes, always
 * terminated), replacing bytes outside printable ASCII by '?', so a user
 * name can go into a log line or an error message as it is.
 */
static void
copy_printable(char *out, size_t outlen, const char *s, size_t len)
{
	size_t i;

	if (out == NULL || outlen == 0)
		return;
	for (i = 0; i < len && i < outlen - 1; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/* True when s[0..len) is written only in the crypt(3) alphabet. */
static bool
in_crypt_alphabet(const char *s, size_t len)
{
	return strspn(s, CRYPT_ALPHABET) >= len;
}

/* "$2y$NN$" then 22 characters of salt and 31 of hash: 60 in all. */
static bool
bcrypt_well_formed(const char *h)
{
	if (strlen(h) != 60 || h[6] != '$')
		return false;
	if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9')
		return false;
	if ((h[4] - '0') * 10 + (h[5] - '0') < 4 ||
	    (h[4] - '0') * 10 + (h[5] - '0') > 31)
		return false;
	return in_crypt_alphabet(h + 7, 53);
}

/*
 * "$5$[rounds=N$]SALT$HASH" with a salt of at most 16 characters and a
 * hash of hashlen characters (43 for SHA-256, 86 for SHA-512).
 */
static bool
shacrypt_well_formed(const char *h, size_t hashlen)
{
	const char *p = h + 3, *dollar;
	size_t saltlen;

	if (strncmp(p, "rounds=", 7) == 0) {
		p += 7;
		if (*p < '1' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != '$')
			return false;
	}
	if ((dollar = strchr(p, '$')) == NULL)
		return false;
	saltlen = (size_t)(dollar - p);
	if (saltlen > 16 || !in_crypt_alphabet(p, saltlen))
		return false;
	p = dollar + 1;
	return strlen(p) == hashlen && in_crypt_alphabet(p, hashlen);
}

/*
 * NULL when hash is in an accepted format, else why not.  The reasons
 * name the format found but never quote the hash: it may be a plaintext
 * password.
 */
static const char *
hash_refusal(const char *h)
{
	if (strncmp(h, "$2y$", 4) == 0 || strncmp(h, "$2a$", 4) == 0 ||
	    strncmp(h, "$2b$", 4) == 0)
		return bcrypt_well_formed(h) ? NULL :
		    "malformed bcrypt hash";
	if (strncmp(h, "$5$", 3) == 0)
		return shacrypt_well_formed(h, 43) ? NULL :
		    "malformed SHA-256 crypt hash";
	if (strncmp(h, "$6$", 3) == 0)
		return shacrypt_well_formed(h, 86) ? NULL :
		    "malformed SHA-512 crypt hash";
	if (strncmp(h, "$apr1$", 6) == 0)
		return "MD5 ($apr1$) hashes are not accepted";
	if (strncmp(h, "{SHA}", 5) == 0)
		return "SHA-1 ({SHA}) hashes are not accepted";
	if (strncmp(h, "$1$", 3) == 0)
		return "MD5 crypt ($1$) hashes are not accepted";
	if (strlen(h) == 13 && in_crypt_alphabet(h, 13))
		return "DES crypt hashes are not accepted";
	if (*h == '\0')
		return "empty hash";
	return "not a hash of an accepted format (plaintext?)";
}

/* The index of the user called name (len bytes), or -1. */
static ssize_t
user_find(const struct auth *a, const char *name, size_t len)
{
	for (size_t i = 0; i < a->n; i++)
		if (strlen(a->users[i].name) == len &&
		    memcmp(a->users[i].name, name, len) == 0)
			return (ssize_t)i;
	return -1;
}

/* Adds a user; -1 when out of memory. */
static int
user_add(struct auth *a, const char *name, size_t namelen, const char *hash,
    size_t line)
{
	struct auth_user *u;

	if (a->n == a->cap) {
		size_t cap = a->cap == 0 ? 16 : a->cap * 2;

		if ((u = reallocarray(a->users, cap, sizeof(*u))) == NULL)
			return -1;
		a->users = u;
		a->cap = cap;
	}
	u = &a->users[a->n];
	if ((u->name = strndup(name, namelen)) == NULL)
		return -1;
	if ((u->hash = strdup(hash)) == NULL) {
		free(u->name);
		return -1;
	}
	u->line = line;
	a->n++;
	return 0;
}

/*
 * Reads one line into a: 0 when it was taken or skipped, -1 with err set.
 * The line has no newline left.
 */
static int
auth_load_line(struct auth *a, const char *path, size_t lineno, char *line,
    char *err, size_t errlen)
{
	char shown[64];
	const char *colon, *why;
	ssize_t dup;

	if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
		return 0;
	if ((colon = strchr(line, ':')) == NULL) {
		set_err(err, errlen, "%s:%zu: no ':' between user name and hash",
		    path, lineno);
		return -1;
	}
	if (colon == line) {
		set_err(err, errlen, "%s:%zu: empty user name", path, lineno);
		return -1;
	}
	copy_printable(shown, sizeof(shown), line, (size_t)(colon - line));
	if ((dup = user_find(a, line, (size_t)(colon - line))) >= 0) {
		set_err(err, errlen, "%s:%zu: user \"%s\" is already on line %zu",
		    path, lineno, shown, a->users[dup].line);
		return -1;
	}
	if ((why = hash_refusal(colon + 1)) != NULL) {
		set_err(err, errlen, "%s:%zu: user \"%s\": %s; " ACCEPTED_FORMATS,
		    path, lineno, shown, why);
		return -1;
	}
	if (user_add(a, line, (size_t)(colon - line), colon + 1, lineno) == -1) {
		set_err(err, errlen, "%s:%zu: %s", path, lineno, strerror(errno));
		return -1;
	}
	return 0;
}

struct auth *
auth_load(const char *path, char *err, size_t errlen)
{
	struct auth *a;
	FILE *f;
	char *line = NULL;
	size_t linecap = 0, lineno = 0;
	ssize_t len;
	int saved;

	if ((f = fopen(path, "r")) == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	while (errno = 0, (len = getline(&line, &linecap, f)) != -1) {
		lineno++;
		/* Files edited on Windows end their lines in CRLF. */
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			set_err(err, errlen, "%s:%zu: NUL byte in line", path,
			    lineno);
			goto fail;
		}
		if (auth_load_line(a, path, lineno, line, err, errlen) == -1)
			goto fail;
	}
	/* getline() says -1 at the end and on errors (EISDIR for a directory). */
	if (ferror(f) || errno == ENOMEM) {
		set_err(err, errlen, "%s: %s", path,
		    strerror(errno != 0 ? errno : EIO));
		goto fail;
	}
	/* The line may hold a hash: not a secret, but no reason to leave it. */
	if (line != NULL)
		OPENSSL_cleanse(line, linecap);
	free(line);
	fclose(f);
	return a;

fail:
	saved = errno;
	if (line != NULL)
		OPENSSL_cleanse(line, linecap);
	free(line);
	fclose(f);
	auth_free(a);
	errno = saved;
	return NULL;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

size_t
auth_count(const struct auth *a)
{
	return a->n;
}

size_t
auth_crypt_calls(const struct auth *a)
{
	return a->crypt_calls;
}

/* The 6-bit value of a base64 character, or -1 for any other byte. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes standard base64 (RFC 4648 section 4) by hand rather than with
 * EVP_DecodeBlock(), which skips whitespace and counts padding as output.
 * Padding may be present or left out, but only at the end.  Returns the
 * decoded length, or -1.  out must hold len * 3 / 4 bytes.
 */
static ssize_t
b64_decode(const char *in, size_t len, unsigned char *out)
{
	uint32_t acc = 0;
	size_t n = 0, bits = 0;
	int v;

	if (len >= 1 && in[len - 1] == '=') {
		if (len % 4 != 0)
			return -1;
		len--;
		if (in[len - 1] == '=')
			len--;
	}
	if (len == 0 || len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)n;
}

/* Where digest is cached, or -1. */
static ssize_t
cache_find(const struct auth *a, const unsigned char *digest)
{
	for (size_t i = 0; i < AUTH_CACHE_SIZE; i++)
		if (a->cache[i].used && CRYPTO_memcmp(a->cache[i].digest,
		    digest, SHA256_DIGEST_LENGTH) == 0)
			return (ssize_t)i;
	return -1;
}

/* Remembers a header value that checked AUTH_OK for user. */
static void
cache_add(struct auth *a, const unsigned char *digest, size_t user)
{
	struct auth_cache_entry *e = &a->cache[a->cache_next];

	e->used = true;
	memcpy(e->digest, digest, SHA256_DIGEST_LENGTH);
	e->user = user;
	a->cache_next = (a->cache_next + 1) % AUTH_CACHE_SIZE;
}

/* True when password hashes to stored, compared in constant time. */
static bool
password_matches(struct auth *a, const char *password, const char *stored)
{
	const char *h;
	bool ok;

	a->crypt_calls++;
	h = crypt_rn(password, stored, &a->cd, (int)sizeof(a->cd));
	ok = h != NULL && h[0] != '*' && strlen(h) == strlen(stored) &&
	    CRYPTO_memcmp(h, stored, strlen(stored)) == 0;
	/* The scratch space held state derived from the password. */
	OPENSSL_cleanse(&a->cd, sizeof(a->cd));
	return ok;
}

/*
 * Surrounding whitespace is skipped (it is not part of a field value,
 * RFC 9110 section 5.5); everything between is held to the grammar.
 */
enum auth_result
auth_check(struct auth *a, const char *header, char *user, size_t userlen)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	unsigned char decoded[AUTH_HEADER_MAX * 3 / 4 + 1];
	enum auth_result r;
	const char *p, *end, *colon;
	bool have_digest;
	ssize_t n, u, hit;
	size_t len;

	copy_printable(user, userlen, "", 0);
	if (header == NULL)
		return AUTH_MISSING;
	if ((len = strnlen(header, AUTH_HEADER_MAX + 1)) > AUTH_HEADER_MAX)
		return AUTH_MALFORMED;

	have_digest = EVP_Digest(header, len, digest, NULL, EVP_sha256(),
	    NULL) == 1;
	if (have_digest && (hit = cache_find(a, digest)) >= 0) {
		const char *name = a->users[a->cache[hit].user].name;

		copy_printable(user, userlen, name, strlen(name));
		return AUTH_OK;
	}

	p = header + strspn(header, " \t");
	end = header + len;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - p < 6 || strncasecmp(p, "Basic", 5) != 0 || p[5] != ' ')
		return AUTH_MALFORMED;
	for (p += 5; *p == ' '; p++)
		;
	if ((n = b64_decode(p, (size_t)(end - p), decoded)) < 0) {
		r = AUTH_MALFORMED;
		goto out;
	}
	decoded[n] = '\0';
	/* A NUL would cut the password short for crypt(3). */
	if (memchr(decoded, '\0', (size_t)n) != NULL ||
	    (colon = memchr(decoded, ':', (size_t)n)) == NULL) {
		r = AUTH_MALFORMED;
		goto out;
	}
	copy_printable(user, userlen, (const char *)decoded,
	    (size_t)(colon - (const char *)decoded));
	if ((u = user_find(a, (const char *)decoded,
	    (size_t)(colon - (const char *)decoded))) < 0) {
		/* Cost what a known name costs: timing must not list the users. */
		if (a->n > 0)
			(void)password_matches(a, colon + 1, a->users[0].hash);
		r = AUTH_UNKNOWN_USER;
		goto out;
	}
	if (!password_matches(a, colon + 1, a->users[u].hash)) {
		r = AUTH_WRONG_PASSWORD;
		goto out;
	}
	if (have_digest)
		cache_add(a, digest, (size_t)u);
	r = AUTH_OK;
out:
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return r;
}

const char *
auth_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "ok";
	case AUTH_MISSING:
		return "missing credentials";
	case AUTH_MALFORMED:
		return "malformed credentials";
	case AUTH_UNKNOWN_USER:
		return "unknown user";
	case AUTH_WRONG_PASSWORD:
		return "wrong password";
	}
	return "unknown result";
}
