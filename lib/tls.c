/*
 * tls.c - the client TLS context.  See tls.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "log.h"
#include "tls.h"
#include "tlscache.h"

/* Addresses whose latest session is kept. */
#define TLS_CACHE_MAX 1024

struct tls {
	int refs;
	SSL_CTX *ctx;
	bool verify;
	char ca_file[TLS_CA_FILE_MAX];
	char **origination;		/* NULL-terminated patterns, copied */
	struct tlscache *cache;		/* NULL: session_cache = no */
};

/* Where an SSL keeps the address its sessions are filed under. */
static int ssl_address_index = -1;
/* Where the SSL_CTX keeps its struct tls. */
static int ctx_tls_index = -1;

/*
 * TLS 1.3 sends tickets after the handshake, so they are taken here, as
 * they come, not at the handshake's end.  Returning 1 keeps sess's
 * reference, which the cache takes over.
 */
static int
tls_on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls *t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_tls_index);
	const struct address *addr = SSL_get_ex_data(ssl, ssl_address_index);

	if (t == NULL || t->cache == NULL || addr == NULL)
		return 0;
	tlscache_put(t->cache, addr, sess);
	return 1;
}

static void
free_patterns(char **p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; p[i] != NULL; i++)
		free(p[i]);
	free(p);
}

static char **
copy_patterns(char *const *from)
{
	size_t n = 0;
	char **to;

	while (from != NULL && from[n] != NULL)
		n++;
	if ((to = calloc(n + 1, sizeof(*to))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((to[i] = strdup(from[i])) == NULL) {
			free_patterns(to);
			return NULL;
		}
	return to;
}

/* OpenSSL's first queued error as one line, and the queue emptied. */
static void
openssl_error(const char *what, char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s: %s", what, r != NULL ? r : "unknown error");
	ERR_clear_error();
}

struct tls *
tls_new(const struct ferryd_config *cfg, char *err, size_t len)
{
	struct tls *t;

	if (ssl_address_index < 0)
		ssl_address_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
	if (ctx_tls_index < 0)
		ctx_tls_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->origination = copy_patterns(cfg->tls_origination)) == NULL ||
	    (cfg->tls_session_cache &&
	    (t->cache = tlscache_new(TLS_CACHE_MAX)) == NULL) ||
	    (t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, len, "out of memory");
		goto fail;
	}
	t->refs = 1;
	t->verify = cfg->tls_verify;
	if (cfg->tls_ca_file != NULL) {
		if (strlen(cfg->tls_ca_file) >= sizeof(t->ca_file)) {
			snprintf(err, len, "ca_file: path too long");
			goto fail;
		}
		strcpy(t->ca_file, cfg->tls_ca_file);
	}
	SSL_CTX_set_ex_data(t->ctx, ctx_tls_index, t);
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/*
	 * A TLS 1.2 renegotiation would run a handshake under a stream or
	 * on an idle pooled connection, where nobody checks it.
	 */
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION);
	/*
	 * Not SSL_OP_IGNORE_UNEXPECTED_EOF: it would make an EOF without
	 * close_notify look like one with it, and a body that ends with the
	 * connection is whole only with close_notify (RFC 9112 9.8).  So such
	 * an EOF is an error (on an idle connection, an eviction all the same).
	 */
	/* An idle pooled connection need not hold 34 KiB of buffers. */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(t->ctx, t->verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	if (t->ca_file[0] != '\0') {
		/* OpenSSL's message for a missing file says less than errno. */
		if (access(t->ca_file, R_OK) != 0) {
			snprintf(err, len, "ca_file: cannot load %s: %s",
			    t->ca_file, strerror(errno));
			goto fail;
		}
		if (SSL_CTX_load_verify_locations(t->ctx, t->ca_file,
		    NULL) != 1) {
			char what[TLS_CA_FILE_MAX + 32];

			snprintf(what, sizeof(what), "ca_file: cannot load %s",
			    t->ca_file);
			openssl_error(what, err, len);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		openssl_error("cannot load the system's CA store", err, len);
		goto fail;
	}
	if (t->cache != NULL) {
		SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_CLIENT |
		    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(t->ctx, tls_on_new_session);
	} else
		SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	return t;
fail:
	if (t != NULL) {
		t->refs = 1;
		tls_unref(t);
	}
	return NULL;
}

struct tls *
tls_ref(struct tls *t)
{
	t->refs++;
	return t;
}

void
tls_unref(struct tls *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	SSL_CTX_free(t->ctx);
	tlscache_free(t->cache);
	free_patterns(t->origination);
	free(t);
}

bool
tls_originates(const struct tls *t, const char *host)
{
	size_t hlen = strlen(host);

	for (char **p = t->origination; *p != NULL; p++) {
		const char *pat = *p;

		if (pat[0] == '*' && pat[1] == '.') {
			size_t slen = strlen(pat + 1);	/* ".example.com" */

			if (hlen > slen &&
			    strcasecmp(host + hlen - slen, pat + 1) == 0)
				return true;
		} else if (strcasecmp(host, pat) == 0)
			return true;
	}
	return false;
}

static bool
is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

void
tls_profile(const struct tls *t, const char *host, struct tls_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->tls = true;
	p->verify = t->verify;
	strcpy(p->ca_file, t->ca_file);
	/* RFC 6066 3: no SNI for an IP address. */
	if (!is_ip_literal(host) && strlen(host) < sizeof(p->sni))
		strcpy(p->sni, host);
	strcpy(p->alpn, TLS_ALPN);
}

/* "h2,http/1.1" in ALPN's wire format: each name after its length. */
static size_t
alpn_wire(const char *list, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (*list != '\0') {
		size_t len = strcspn(list, ",");

		if (len > 0 && len < 256 && n + 1 + len <= max) {
			out[n++] = (unsigned char)len;
			memcpy(out + n, list, len);
			n += len;
		}
		list += len;
		if (*list == ',')
			list++;
	}
	return n;
}

SSL *
tls_ssl_new(struct tls *t, const struct address *addr)
{
	unsigned char alpn[TLS_ALPN_MAX + 8];
	size_t alpn_len;
	SSL_SESSION *sess;
	SSL *ssl;
	int ok;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		return NULL;
	SSL_set_ex_data(ssl, ssl_address_index, (void *)addr);
	ok = addr->tls.sni[0] == '\0' ||
	    SSL_set_tlsext_host_name(ssl, addr->tls.sni) == 1;
	/* The name or address the certificate must carry. */
	if (ok && t->verify) {
		if (is_ip_literal(addr->host))
			ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    addr->host) == 1;
		else {
			SSL_set_hostflags(ssl,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(ssl, addr->host) == 1;
		}
	}
	alpn_len = alpn_wire(addr->tls.alpn, alpn, sizeof(alpn));
	/* SSL_set_alpn_protos() returns 0 on success. */
	if (ok && alpn_len > 0)
		ok = SSL_set_alpn_protos(ssl, alpn, (unsigned)alpn_len) == 0;
	if (ok && t->cache != NULL &&
	    (sess = tlscache_get(t->cache, addr)) != NULL)
		ok = SSL_set_session(ssl, sess) == 1;
	if (!ok) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	return ssl;
}

/* What a failed verification means to whoever reads the 502. */
static void
verify_reason(long v, const struct address *addr, char *buf, size_t len)
{
	switch (v) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		snprintf(buf, len, "certificate has expired");
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(buf, len, "certificate is not yet valid");
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		snprintf(buf, len, "wrong host: the certificate is not for %s",
		    addr->host);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		snprintf(buf, len, "unknown CA: the certificate's issuer is "
		    "not trusted (%s)", X509_verify_cert_error_string(v));
		break;
	default:
		snprintf(buf, len, "certificate does not verify: %s",
		    X509_verify_cert_error_string(v));
		break;
	}
}

void
tls_failure(struct tls *t, SSL *ssl, const struct address *addr,
    unsigned long err, char *buf, size_t len)
{
	long v = SSL_get_verify_result(ssl);
	const char *r = err != 0 ? ERR_reason_error_string(err) : NULL;

	if (t->cache != NULL)
		tlscache_drop(t->cache, addr);
	if (t->verify && v != X509_V_OK)
		verify_reason(v, addr, buf, len);
	else if (r != NULL)
		snprintf(buf, len, "%s", r);
	else
		snprintf(buf, len, "the origin closed the connection during "
		    "the handshake");
	ERR_clear_error();
}

struct tlscache *
tls_cache(struct tls *t)
{
	return t->cache;
}
