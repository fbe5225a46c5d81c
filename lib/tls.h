/*
 * tls.h - ferryd's client side of TLS, made from the [tls] settings: one
 * SSL_CTX (verification on or off, the CA set, TLS 1.2 at least), the TLS
 * profile an address gets, the SSL object of each new connection (SNI,
 * the host name or IP address the certificate must name, ALPN, the cached
 * session), the session cache fed by OpenSSL's new-session callback, and
 * the one-line reason a handshake failed.
 *
 * Owner: reference-counted.  The server holds one reference for the
 * settings in force; each TLS upstream connection holds one, so a reload
 * that makes a new context never frees one a live connection still uses.
 */
#ifndef FERRYD_TLS_H
#define FERRYD_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "address.h"

struct ferryd_config;
struct tls;
struct tlscache;

/* The ALPN offer: HTTP/1.1 until there is an HTTP/2 codec. */
#define TLS_ALPN "http/1.1"

/*
 * A context for cfg's [tls] settings, or NULL with a one-line reason in
 * err (a CA file that does not load).
 */
struct tls *tls_new(const struct ferryd_config *cfg, char *err, size_t len);
struct tls *tls_ref(struct tls *t);
void tls_unref(struct tls *t);

/* True when host matches a tls_origination pattern (exact or "*.suffix"). */
bool tls_originates(const struct tls *t, const char *host);

/* Fills p for a TLS connection to host: the whole profile, compared in full. */
void tls_profile(const struct tls *t, const char *host, struct tls_profile *p);

/*
 * A new client SSL for addr (an https address made with tls_profile()),
 * offering addr's cached session.  addr must stay valid as long as the
 * SSL: the new-session callback files tickets under it.  NULL when out of
 * memory.
 */
SSL *tls_ssl_new(struct tls *t, const struct address *addr);

/*
 * Why the handshake of ssl (to addr) failed, in one line: the
 * certificate's fault when verification failed ("certificate has
 * expired", "wrong host: ...", "unknown CA: ..."), else OpenSSL's first
 * error (err, as bufferevent_get_openssl_error() gave it; 0: none).
 * Forgets addr's session, which may be the cause.
 */
void tls_failure(struct tls *t, SSL *ssl, const struct address *addr,
    unsigned long err, char *buf, size_t len);

/* The session cache (NULL with session_cache = no): for tests and /stats. */
struct tlscache *tls_cache(struct tls *t);

#endif
