/*
 * test_pool.c - unit tests of lib/pool.c: the scenarios of OkHttp's
 * ConnectionPoolTest and the rules of shared/design/pool.md, driven by a
 * fake clock (plain int64 values) and fake connections (a struct embedding
 * struct pool_conn whose ops record every close).  No sockets, no sleeps.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pool.h"

#define N_CONNS		8
#define N_OWNERS	32
#define N_LOGS		8

/* A connection as the tests see it: the pool's part and what the ops saw. */
struct fake_conn {
	struct pool_conn pc;		/* first: the ops cast back to this */
	bool healthy;
	int health_checks;
	int closes;
	enum pool_evict_reason reason;
	bool free_on_close;		/* heap conn freed by close, as upstream may */
};

static struct pool *pool;
static struct pool_params params;
static struct fake_conn conns[N_CONNS];
static struct owner *owners[N_OWNERS];
static int n_owners;
static int n_closed;
static enum pool_evict_reason heap_reasons[N_CONNS];
static int n_heap_closed;
static char logs[N_LOGS][1024];
static int log_levels_seen[N_LOGS];
static int n_logs;

/* Records the close; frees the conn when the test made it on the heap. */
static void
fake_close(struct pool_conn *conn, enum pool_evict_reason reason, void *arg)
{
	struct fake_conn *fc = (struct fake_conn *)conn;

	n_closed++;
	if (fc->free_on_close) {
		heap_reasons[n_heap_closed++] = reason;
		free(fc);
		return;
	}
	fc->closes++;
	fc->reason = reason;
}

/* The health peek: whatever the test set. */
static bool
fake_healthy(struct pool_conn *conn, void *arg)
{
	struct fake_conn *fc = (struct fake_conn *)conn;

	fc->health_checks++;
	return fc->healthy;
}

static const struct pool_conn_ops fake_ops = {
	.close = fake_close,
	.healthy = fake_healthy,
};

/* Captures every message that passes the log level. */
static void
capture_log(int level, const char *msg, void *arg)
{
	if (n_logs < N_LOGS) {
		snprintf(logs[n_logs], sizeof(logs[n_logs]), "%s", msg);
		log_levels_seen[n_logs] = level;
	}
	n_logs++;
}

/* OkHttp-sized numbers: keep-alive 100 ticks, 5 idle, grace 0 (OkHttp's rule). */
static void
default_params(struct pool_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_idle = 5;
	p->max_idle_per_address = 100;
	p->keepalive = 100;
	p->idle_grace = 0;
	p->max_requests_per_connection = 10000;
	p->max_connection_lifetime = 1000000;
	p->healthcheck_after_idle = 10;
	p->route_failure_ttl = 60;
}

/* A fresh pool with OkHttp-like settings, no event base, the log captured. */
static void
setup(void)
{
	memset(conns, 0, sizeof(conns));
	memset(owners, 0, sizeof(owners));
	n_owners = n_closed = n_heap_closed = n_logs = 0;
	log_set_hook(capture_log, NULL);
	default_params(&params);
	pool = pool_new(&params, &fake_ops, NULL, NULL);
	ck_assert_msg(pool != NULL, "pool_new failed");
}

/* Frees the pool first (it may still hold allocations), then the tokens. */
static void
teardown(void)
{
	pool_free(pool);
	pool = NULL;
	for (int i = 0; i < n_owners; i++)
		owner_unref(owners[i]);
	log_set_hook(NULL, NULL);
}

/* Changes the pool's settings after the test edited params. */
static void
apply_params(void)
{
	pool_set_params(pool, &params);
}

/* A request's owner token; teardown drops the request's reference. */
static struct owner *
new_owner(void)
{
	struct owner *o;

	ck_assert_msg(n_owners < N_OWNERS, "too many owners in one test");
	o = owner_new("GET", "http://a/", 0);
	ck_assert_msg(o != NULL, "owner_new failed");
	owners[n_owners++] = o;
	return o;
}

/* The request behind o is freed: its token dies and loses its own reference. */
static void
drop_owner(struct owner *o)
{
	for (int i = 0; i < n_owners; i++) {
		if (owners[i] == o) {
			owners[i] = owners[--n_owners];
			break;
		}
	}
	owner_kill(o);
	owner_unref(o);
}

/* A fake HTTP/1.1 conn to http://host:80, made at created. */
static struct fake_conn *
mkconn(int i, const char *host, int64_t created)
{
	struct fake_conn *fc = &conns[i];

	memset(fc, 0, sizeof(*fc));
	ck_assert_int_eq(address_init(&fc->pc.address, "http", host, 80), 0);
	fc->pc.http_version = 11;
	fc->pc.alloc_limit = 1;
	fc->pc.created_at = created;
	fc->healthy = true;
	return fc;
}

/* Puts fc at now for a new request; it stays in use. */
static struct owner *
put_busy(struct fake_conn *fc, int64_t now)
{
	struct owner *o = new_owner();

	pool_put(pool, &fc->pc, o, now);
	return o;
}

/* OkHttp's factory.newConnection(pool, route, idleAt): idle since now. */
static void
put_idle(struct fake_conn *fc, int64_t now)
{
	struct owner *o = put_busy(fc, now);

	pool_release(pool, &fc->pc, o, now);
}

/* An address like mkconn()'s, for acquire. */
static struct address
addr_of(const char *host)
{
	struct address a;

	ck_assert_int_eq(address_init(&a, "http", host, 80), 0);
	return a;
}

/* Shorthand for the fixture pool's counts. */
static const struct pool_counts *
counts(void)
{
	return pool_counts(pool);
}

START_TEST(test_keepalive_eviction)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);

	ck_assert_int_eq(pool_cleanup(pool, 50), -1);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);

	put_idle(c1, 50);
	ck_assert_int_eq(pool_cleanup(pool, 50), 100);
	ck_assert_int_eq(pool_next_cleanup(pool), 150);
	ck_assert_int_eq(pool_cleanup(pool, 60), 90);
	ck_assert_int_eq(pool_cleanup(pool, 149), 1);
	ck_assert_int_eq(counts()->total, 1);
	ck_assert_int_eq(c1->closes, 0);

	ck_assert_int_eq(pool_cleanup(pool, 150), 0);
	ck_assert_int_eq(pool_next_cleanup(pool), 150);
	ck_assert_int_eq(counts()->total, 0);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_KEEPALIVE);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_KEEPALIVE], 1);

	ck_assert_int_eq(pool_cleanup(pool, 150), -1);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);
	ck_assert_int_eq(c1->closes, 1);
}
END_TEST

START_TEST(test_in_use_not_evicted)
{
	struct fake_conn *c1 = mkconn(0, "a", 50);

	put_busy(c1, 50);
	ck_assert_int_eq(pool_cleanup(pool, 50), 100);
	ck_assert_int_eq(pool_cleanup(pool, 60), 100);
	ck_assert_int_eq(pool_cleanup(pool, 160), 100);
	ck_assert_int_eq(pool_cleanup(pool, 100000), 100);
	ck_assert_int_eq(pool_next_cleanup(pool), 100100);
	ck_assert_int_eq(c1->closes, 0);
	ck_assert_int_eq(counts()->in_use, 1);
	ck_assert_int_eq(counts()->idle, 0);
}
END_TEST

START_TEST(test_earliest_eviction_first)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "b", 0);

	put_idle(c1, 75);
	put_idle(c2, 50);
	ck_assert_int_eq(pool_cleanup(pool, 75), 75);
	ck_assert_int_eq(pool_cleanup(pool, 149), 1);
	ck_assert_int_eq(counts()->total, 2);

	ck_assert_int_eq(pool_cleanup(pool, 150), 0);
	ck_assert_msg(c2->closes == 1 && c1->closes == 0,
	    "the longest idle (c2) goes first");
	ck_assert_int_eq(pool_cleanup(pool, 150), 25);
	ck_assert_int_eq(pool_cleanup(pool, 175), 0);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(counts()->total, 0);
	ck_assert_int_eq(pool_cleanup(pool, 175), -1);
}
END_TEST

START_TEST(test_over_idle_limit_okhttp)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "b", 0);
	struct fake_conn *c3 = mkconn(2, "c", 0);

	params.max_idle = 2;
	apply_params();
	put_idle(c1, 50);
	put_idle(c2, 75);
	ck_assert_int_eq(pool_cleanup(pool, 100), 50);
	ck_assert_int_eq(counts()->idle, 2);

	put_idle(c3, 75);
	ck_assert_int_eq(pool_cleanup(pool, 100), 0);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_OVER_LIMIT);
	ck_assert_msg(c2->closes == 0 && c3->closes == 0,
	    "only the longest idle is bounced");
	ck_assert_int_eq(counts()->idle, 2);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_OVER_LIMIT], 1);
	ck_assert_int_eq(pool_cleanup(pool, 100), 75);
}
END_TEST

START_TEST(test_over_idle_limit_grace_zero_immediate)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "b", 0);

	params.max_idle = 1;
	apply_params();
	put_idle(c1, 10);
	put_idle(c2, 10);
	/* idle for 0 ticks, yet over the limit: OkHttp evicts at once */
	ck_assert_int_eq(pool_cleanup(pool, 10), 0);
	ck_assert_int_eq(c1->closes + c2->closes, 1);
	ck_assert_int_eq(counts()->idle, 1);
	ck_assert_int_eq(pool_cleanup(pool, 10), 100);
}
END_TEST

START_TEST(test_over_idle_limit_grace)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "b", 0);
	struct fake_conn *c3 = mkconn(2, "c", 0);

	params.max_idle = 2;
	params.idle_grace = 20;
	apply_params();
	put_idle(c1, 50);
	put_idle(c2, 60);
	put_idle(c3, 60);

	/* c1 idle 10 of its 20 grace: the grace remainder beats keep-alive */
	ck_assert_int_eq(pool_cleanup(pool, 60), 10);
	ck_assert_int_eq(pool_next_cleanup(pool), 70);
	ck_assert_int_eq(pool_cleanup(pool, 69), 1);
	ck_assert_int_eq(counts()->idle, 3);

	ck_assert_int_eq(pool_cleanup(pool, 70), 0);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_OVER_LIMIT);
	/* back at the limit: only keep-alive is left, for c2 idle since 60 */
	ck_assert_int_eq(pool_cleanup(pool, 70), 90);
	ck_assert_msg(c2->closes == 0 && c3->closes == 0,
	    "connections within the limit stay");
}
END_TEST

START_TEST(test_per_address_limit)
{
	struct fake_conn *b1 = mkconn(0, "b", 0);
	struct fake_conn *a1 = mkconn(1, "a", 0);
	struct fake_conn *a2 = mkconn(2, "a", 0);

	params.max_idle = 10;
	params.max_idle_per_address = 1;
	apply_params();
	put_idle(b1, 10);
	put_idle(a1, 20);
	put_idle(a2, 30);

	/* b1 is the oldest but its address is within limit; a1 goes */
	ck_assert_int_eq(pool_cleanup(pool, 30), 0);
	ck_assert_int_eq(a1->closes, 1);
	ck_assert_int_eq(a1->reason, POOL_EVICT_OVER_LIMIT);
	ck_assert_msg(b1->closes == 0 && a2->closes == 0,
	    "b1 and the most recent a2 stay");
	ck_assert_int_eq(pool_cleanup(pool, 30), 80);
}
END_TEST

START_TEST(test_per_address_limit_grace)
{
	struct fake_conn *b1 = mkconn(0, "b", 0);
	struct fake_conn *a1 = mkconn(1, "a", 0);
	struct fake_conn *a2 = mkconn(2, "a", 0);

	params.max_idle = 10;
	params.max_idle_per_address = 1;
	params.idle_grace = 50;
	apply_params();
	put_idle(b1, 10);
	put_idle(a1, 20);
	put_idle(a2, 30);

	/* keep-alive of b1 is due in 80, a1's grace ends in 40 */
	ck_assert_int_eq(pool_cleanup(pool, 30), 40);
	ck_assert_int_eq(pool_cleanup(pool, 69), 1);
	ck_assert_int_eq(n_closed, 0);
	ck_assert_int_eq(pool_cleanup(pool, 70), 0);
	ck_assert_int_eq(a1->closes, 1);
	ck_assert_int_eq(a1->reason, POOL_EVICT_OVER_LIMIT);
	ck_assert_int_eq(pool_cleanup(pool, 70), 40);
	ck_assert_msg(b1->closes == 0 && a2->closes == 0, "others stay");
}
END_TEST

START_TEST(test_per_address_limit_reload)
{
	struct fake_conn *a1 = mkconn(0, "a", 0);
	struct fake_conn *a2 = mkconn(1, "a", 0);

	put_idle(a1, 10);
	put_idle(a2, 20);
	ck_assert_int_eq(pool_cleanup(pool, 20), 90);
	/* a reload that lowers the per-address limit takes effect at once */
	params.max_idle_per_address = 1;
	apply_params();
	ck_assert_int_eq(pool_cleanup(pool, 20), 0);
	ck_assert_int_eq(a1->closes, 1);
	ck_assert_int_eq(a1->reason, POOL_EVICT_OVER_LIMIT);
	ck_assert_int_eq(pool_cleanup(pool, 20), 100);
}
END_TEST

START_TEST(test_leak_last_allocation)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o;
	const char *want =
	    "connection to http://a:80 was leaked by request "
	    "\"GET http://a/x\" (started at 2021-01-01T00:00:00.123Z); "
	    "the exchange ended without releasing it";

	o = owner_new("GET", "http://a/x", INT64_C(1609459200123000));
	ck_assert_msg(o != NULL, "owner_new failed");
	pool_put(pool, &c1->pc, o, 0);
	ck_assert_int_eq(o->refs, 2);
	drop_owner(o);		/* the request is freed without a release */

	ck_assert_int_eq(pool_cleanup(pool, 10), 0);
	ck_assert_int_eq(n_logs, 1);
	ck_assert_int_eq(log_levels_seen[0], LOG_WARNING);
	ck_assert_str_eq(logs[0], want);
	ck_assert_uint_eq(counts()->leaks, 1);
	/* idle since now - keepalive: evicted in the same pass */
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_LEAKED);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_LEAKED], 1);
	ck_assert_int_eq(counts()->total, 0);
	ck_assert_int_eq(counts()->in_use, 0);
	ck_assert_int_eq(counts()->idle, 0);

	ck_assert_int_eq(pool_cleanup(pool, 10), -1);
	ck_assert_int_eq(n_logs, 1);
}
END_TEST

START_TEST(test_leak_not_last_allocation)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct address a = addr_of("a");
	struct owner *o1, *o2, *o3;

	c1->pc.http_version = 20;
	c1->pc.alloc_limit = 3;
	o1 = put_busy(c1, 0);
	o2 = new_owner();
	ck_assert_ptr_eq(pool_acquire(pool, &a, o2, 0, true), &c1->pc);
	drop_owner(o1);

	ck_assert_int_eq(pool_cleanup(pool, 10), 100);
	ck_assert_int_eq(n_logs, 1);
	ck_assert_msg(strstr(logs[0], "was leaked by request") != NULL,
	    "leak warned: %s", logs[0]);
	ck_assert_int_eq(c1->pc.n_allocs, 1);
	ck_assert_msg(c1->pc.no_new_exchanges, "a leaky conn takes nothing new");
	ck_assert_int_eq(c1->closes, 0);

	/* warned once only */
	ck_assert_int_eq(pool_cleanup(pool, 20), 100);
	ck_assert_int_eq(n_logs, 1);
	ck_assert_uint_eq(counts()->leaks, 1);

	o3 = new_owner();
	ck_assert_ptr_null(pool_acquire(pool, &a, o3, 20, true));

	pool_release(pool, &c1->pc, o2, 30);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_LEAKED);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);
}
END_TEST

START_TEST(test_evict_all)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "a", 0);
	struct address a = addr_of("a");
	struct owner *o2;

	put_idle(c1, 10);
	o2 = put_busy(c2, 10);
	pool_evict_all(pool, 20);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_EVICT_ALL);
	ck_assert_int_eq(c2->closes, 0);
	ck_assert_msg(c2->pc.no_new_exchanges, "in-use conn retired");
	ck_assert_int_eq(counts()->total, 1);
	ck_assert_ptr_null(pool_acquire(pool, &a, new_owner(), 20, true));

	pool_release(pool, &c2->pc, o2, 30);
	ck_assert_int_eq(c2->closes, 1);
	ck_assert_int_eq(c2->reason, POOL_EVICT_EVICT_ALL);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_EVICT_ALL], 2);
	ck_assert_int_eq(counts()->total, 0);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);
}
END_TEST

START_TEST(test_address_mismatch)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o = new_owner();
	struct address a;

	put_idle(c1, 10);

	ck_assert_int_eq(address_init(&a, "https", "a", 80), 0);
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL, "scheme differs");
	ck_assert_int_eq(address_init(&a, "http", "b", 80), 0);
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL, "host differs");
	ck_assert_int_eq(address_init(&a, "http", "a", 81), 0);
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL, "port differs");
	ck_assert_int_eq(address_init(&a, "http", "a", 80), 0);
	a.tls.tls = true;
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL, "tls differs");
	a.tls.tls = false;
	a.tls.verify = true;
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL, "verify differs");
	a.tls.verify = false;
	strcpy(a.tls.ca_file, "/ca.pem");
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL, "CA set differs");
	ck_assert_int_eq(o->refs, 1);
	ck_assert_uint_eq(counts()->reused, 0);

	ck_assert_int_eq(address_init(&a, "HTTP", "A", 80), 0);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 11, true), &c1->pc);
	ck_assert_int_eq(o->refs, 2);
	ck_assert_uint_eq(counts()->reused, 1);
	pool_release(pool, &c1->pc, o, 12);
}
END_TEST

/* https://a:443 with a whole TLS profile, as the exchange makes it. */
static void
https_address(struct address *a, const char *host)
{
	ck_assert_int_eq(address_init(a, "https", host, 443), 0);
	a->tls.tls = true;
	a->tls.verify = true;
	strcpy(a->tls.sni, host);
	strcpy(a->tls.alpn, "http/1.1");
}

/*
 * An https connection is never handed to an http request for the same
 * host and port, nor to a request whose TLS profile differs in any part.
 */
START_TEST(test_tls_never_shared)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o = new_owner();
	struct address a;

	https_address(&c1->pc.address, "a");
	put_idle(c1, 10);

	ck_assert_int_eq(address_init(&a, "http", "a", 443), 0);
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL,
	    "http://a:443 never rides https://a:443");
	https_address(&a, "a");
	a.tls.tls = false;
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL,
	    "the scheme alone does not make it TLS");
	https_address(&a, "a");
	a.tls.verify = false;
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL,
	    "verify = no does not get a verified connection");
	https_address(&a, "a");
	strcpy(a.tls.sni, "b");
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL,
	    "another SNI name");
	https_address(&a, "a");
	strcpy(a.tls.alpn, "h2,http/1.1");
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL,
	    "another ALPN offer");
	https_address(&a, "a");
	strcpy(a.tls.ca_file, "/other-ca.pem");
	ck_assert_msg(pool_acquire(pool, &a, o, 11, true) == NULL,
	    "another CA set");
	ck_assert_uint_eq(counts()->reused, 0);

	https_address(&a, "a");
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 11, true), &c1->pc);
	pool_release(pool, &c1->pc, o, 12);
}
END_TEST

/* Per-address TLS counts and the latest version and cipher, for /stats. */
static void
collect_tls(const struct pool_address_stats *st, void *arg)
{
	*(struct pool_address_stats *)arg = *st;
}

START_TEST(test_tls_counts_per_address)
{
	struct fake_conn *c1 = mkconn(0, "a", 0), *c2 = mkconn(1, "a", 0);
	struct pool_address_stats st;

	https_address(&c1->pc.address, "a");
	https_address(&c2->pc.address, "a");
	c1->pc.tls_version = "TLSv1.2";
	c1->pc.tls_cipher = "ECDHE-RSA-AES128-GCM-SHA256";
	put_idle(c1, 10);
	pool_count_tls(pool, &c1->pc, false);
	c2->pc.tls_version = "TLSv1.3";
	c2->pc.tls_cipher = "TLS_AES_256_GCM_SHA384";
	put_idle(c2, 11);
	pool_count_tls(pool, &c2->pc, true);

	pool_foreach_address(pool, collect_tls, &st);
	ck_assert_uint_eq(st.tls_full, 1);
	ck_assert_uint_eq(st.tls_resumed, 1);
	ck_assert_str_eq(st.tls_version, "TLSv1.3");
	ck_assert_str_eq(st.tls_cipher, "TLS_AES_256_GCM_SHA384");
	ck_assert_uint_eq(counts()->tls_full, 1);
	ck_assert_uint_eq(counts()->tls_resumed, 1);
}
END_TEST

START_TEST(test_allocation_limit)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *h2 = mkconn(1, "b", 0);
	struct address a = addr_of("a"), b = addr_of("b");
	struct owner *o1, *o2, *o3;

	o1 = put_busy(c1, 10);
	ck_assert_msg(pool_acquire(pool, &a, new_owner(), 11, true) == NULL,
	    "an HTTP/1.1 conn in use takes no second exchange");

	h2->pc.http_version = 20;
	h2->pc.alloc_limit = 2;
	o2 = put_busy(h2, 10);
	o3 = new_owner();
	ck_assert_ptr_eq(pool_acquire(pool, &b, o3, 11, true), &h2->pc);
	ck_assert_int_eq(h2->pc.n_allocs, 2);
	ck_assert_msg(pool_acquire(pool, &b, new_owner(), 11, true) == NULL,
	    "an HTTP/2 conn at its limit is not shared");
	ck_assert_int_eq(counts()->in_use, 2);
	ck_assert_uint_eq(counts()->reused, 1);

	pool_release(pool, &h2->pc, o2, 12);
	ck_assert_int_eq(counts()->in_use, 2);
	ck_assert_int_eq(counts()->idle, 0);
	pool_release(pool, &h2->pc, o3, 13);
	ck_assert_int_eq(counts()->in_use, 1);
	ck_assert_int_eq(counts()->idle, 1);
	pool_release(pool, &c1->pc, o1, 14);
	ck_assert_int_eq(counts()->idle, 2);
	ck_assert_int_eq(n_closed, 0);
}
END_TEST

START_TEST(test_no_new_exchanges)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct address a = addr_of("a");

	put_idle(c1, 10);
	pool_conn_retire(&c1->pc, POOL_EVICT_ERROR);
	pool_conn_retire(&c1->pc, POOL_EVICT_NOT_REUSABLE);
	ck_assert_msg(pool_acquire(pool, &a, new_owner(), 20, true) == NULL,
	    "a retired conn is not reused");
	ck_assert_int_eq(pool_cleanup(pool, 110), 0);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_msg(c1->reason == POOL_EVICT_ERROR,
	    "closed with its first retire reason, got %s",
	    pool_evict_reason_name(c1->reason));
}
END_TEST

START_TEST(test_retired_in_use_closes_on_release)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o = put_busy(c1, 10);

	pool_conn_retire(&c1->pc, POOL_EVICT_NOT_REUSABLE);
	pool_release(pool, &c1->pc, o, 20);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_NOT_REUSABLE);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_NOT_REUSABLE], 1);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);
}
END_TEST

/* A 101: the conn leaves the pool, open, and the pool forgets it. */
START_TEST(test_detach)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "a", 0);
	struct address a = addr_of("a");
	struct owner *o = put_busy(c1, 10);

	ck_assert_int_eq(pool_detach(pool, &c1->pc, new_owner()), -1);
	ck_assert_int_eq(counts()->in_use, 1);
	ck_assert_int_eq(pool_detach(pool, &c1->pc, o), 0);
	ck_assert_int_eq(c1->closes, 0);
	ck_assert_int_eq(counts()->total, 0);
	ck_assert_int_eq(counts()->in_use, 0);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_UPGRADED], 1);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);
	ck_assert_msg(pool_acquire(pool, &a, new_owner(), 11, true) == NULL,
	    "a detached conn is never handed out");

	/* The pool goes on with the others of the address. */
	put_idle(c2, 12);
	ck_assert_ptr_eq(pool_acquire(pool, &a, new_owner(), 13, true),
	    &c2->pc);
	ck_assert_int_eq(c1->closes, 0);
}
END_TEST

START_TEST(test_most_recently_used_first)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "a", 0);
	struct address a = addr_of("a");
	struct owner *o = new_owner();

	put_idle(c1, 10);
	put_idle(c2, 20);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 25, true), &c2->pc);
	pool_release(pool, &c2->pc, o, 25);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 26, true), &c2->pc);
	pool_release(pool, &c2->pc, o, 26);

	/* c1 stays the longest idle and goes first */
	ck_assert_int_eq(pool_cleanup(pool, 110), 0);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c2->closes, 0);
}
END_TEST

START_TEST(test_health_check)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct address a = addr_of("a");
	struct owner *o = new_owner();

	put_idle(c1, 0);
	/* Every reuse peeks, however short the idle time (stale bytes). */
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 0, true), &c1->pc);
	ck_assert_int_eq(c1->health_checks, 1);
	pool_release(pool, &c1->pc, o, 1);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 2, true), &c1->pc);
	ck_assert_int_eq(c1->health_checks, 2);
	pool_release(pool, &c1->pc, o, 2);

	c1->healthy = false;
	ck_assert_ptr_null(pool_acquire(pool, &a, o, 3, true));
	ck_assert_int_eq(c1->health_checks, 3);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_UNHEALTHY);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_UNHEALTHY], 1);
	ck_assert_int_eq(o->refs, 1);
	ck_assert_int_eq(counts()->total, 0);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);
}
END_TEST

/*
 * A request that must not be sent twice gets only a connection idle no
 * longer than healthcheck_after_idle (10 ticks here): older ones stay
 * pooled for requests that may be retried.
 */
START_TEST(test_not_retriable)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "a", 0);
	struct address a = addr_of("a");
	struct owner *o = new_owner();

	put_idle(c1, 0);
	ck_assert_msg(pool_acquire(pool, &a, o, 11, false) == NULL,
	    "idle 11 > 10: not for a POST");
	ck_assert_int_eq(c1->closes, 0);
	ck_assert_int_eq(counts()->idle, 1);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 10, false), &c1->pc);
	ck_assert_int_eq(c1->health_checks, 1);
	pool_release(pool, &c1->pc, o, 10);

	/* c2, idle 5, is taken; c1, idle 35, is skipped and stays pooled. */
	put_idle(c2, 30);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 35, false), &c2->pc);
	pool_release(pool, &c2->pc, o, 35);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 50, true), &c2->pc);
	pool_release(pool, &c2->pc, o, 50);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 51, true), &c2->pc);
	ck_assert_int_eq(counts()->idle, 1);
	pool_release(pool, &c2->pc, o, 51);
	ck_assert_int_eq(c1->closes, 0);
}
END_TEST

START_TEST(test_unhealthy_tries_next)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "a", 0);
	struct address a = addr_of("a");
	struct owner *o = new_owner();

	put_idle(c1, 0);
	put_idle(c2, 5);
	c2->healthy = false;
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 50, true), &c1->pc);
	ck_assert_int_eq(c2->closes, 1);
	ck_assert_int_eq(c2->reason, POOL_EVICT_UNHEALTHY);
	ck_assert_int_eq(c1->health_checks, 1);
	ck_assert_int_eq(counts()->in_use, 1);
	ck_assert_int_eq(counts()->idle, 0);
	pool_release(pool, &c1->pc, o, 51);
}
END_TEST

START_TEST(test_request_budget)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct address a = addr_of("a");
	struct owner *o = new_owner();

	params.max_requests_per_connection = 2;
	apply_params();
	put_idle(c1, 10);
	ck_assert_int_eq(c1->closes, 0);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 11, true), &c1->pc);
	ck_assert_int_eq(c1->pc.exchanges, 2);
	pool_release(pool, &c1->pc, o, 12);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_REQUEST_BUDGET);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_REQUEST_BUDGET], 1);
}
END_TEST

START_TEST(test_lifetime)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "b", 0);
	struct address a = addr_of("a"), b = addr_of("b");
	struct owner *o = new_owner();

	params.max_connection_lifetime = 100;
	apply_params();
	put_idle(c1, 50);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 99, true), &c1->pc);
	pool_release(pool, &c1->pc, o, 100);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_LIFETIME);

	/* one that ages past its lifetime while idle is not handed out */
	put_idle(c2, 60);
	ck_assert_ptr_null(pool_acquire(pool, &b, o, 100, true));
	ck_assert_int_eq(c2->closes, 1);
	ck_assert_int_eq(c2->reason, POOL_EVICT_LIFETIME);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_LIFETIME], 2);
}
END_TEST

START_TEST(test_max_idle_zero)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);

	params.max_idle = 0;
	apply_params();
	put_idle(c1, 10);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_OVER_LIMIT);
	ck_assert_int_eq(counts()->total, 0);
	ck_assert_int_eq(pool_next_cleanup(pool), -1);
}
END_TEST

START_TEST(test_schedule)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "b", 0);
	struct owner *o1;

	ck_assert_int_eq(pool_next_cleanup(pool), -1);
	o1 = put_busy(c1, 5);
	ck_assert_int_eq(pool_next_cleanup(pool), 5);
	put_busy(c2, 7);
	ck_assert_msg(pool_next_cleanup(pool) == 5,
	    "put leaves a pending pass alone");
	ck_assert_int_eq(pool_cleanup(pool, 5), 100);
	ck_assert_int_eq(pool_next_cleanup(pool), 105);

	pool_release(pool, &c1->pc, o1, 20);
	ck_assert_msg(pool_next_cleanup(pool) == 105,
	    "a release within the limits keeps the pending pass");
	ck_assert_int_eq(pool_cleanup(pool, 105), 15);
	ck_assert_int_eq(pool_next_cleanup(pool), 120);

	pool_evict(pool, &c1->pc, POOL_EVICT_CLOSED_BY_ORIGIN);
	ck_assert_int_eq(c1->reason, POOL_EVICT_CLOSED_BY_ORIGIN);
	ck_assert_int_eq(pool_next_cleanup(pool), 120);
}
END_TEST

/* Over an idle limit the pass must run now: it may evict (OkHttp's rule). */
START_TEST(test_release_over_limit_schedules_now)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "a", 0);
	struct owner *o1, *o2;

	params.max_idle = 1;
	params.idle_grace = 0;
	apply_params();
	o1 = put_busy(c1, 5);
	o2 = put_busy(c2, 5);
	ck_assert_int_eq(pool_cleanup(pool, 5), 100);
	pool_release(pool, &c1->pc, o1, 10);
	ck_assert_msg(pool_next_cleanup(pool) == 105,
	    "one idle of one allowed: the pending pass stays");
	pool_release(pool, &c2->pc, o2, 12);
	ck_assert_msg(pool_next_cleanup(pool) == 12,
	    "two idle of one allowed: a pass at once");
	ck_assert_int_eq(pool_cleanup(pool, 12), 0);
	ck_assert_msg(c1->closes == 1 && c1->reason == POOL_EVICT_OVER_LIMIT,
	    "the longest idle goes first");
	ck_assert_int_eq(c2->closes, 0);
}
END_TEST

/* Collects pool_foreach_address() output. */
struct seen {
	int n;
	int idle_a, in_use_a;
	uint64_t opened_a, reused_a;
};

/* Remembers how many addresses were seen and the numbers of host "a". */
static void
collect(const struct pool_address_stats *st, void *arg)
{
	struct seen *s = arg;

	s->n++;
	if (strcmp(st->address->host, "a") == 0) {
		s->idle_a = st->idle;
		s->in_use_a = st->in_use;
		s->opened_a = st->opened;
		s->reused_a = st->reused;
	}
}

START_TEST(test_counts)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct fake_conn *c2 = mkconn(1, "a", 0);
	struct fake_conn *c3 = mkconn(2, "b", 0);
	struct address a = addr_of("a");
	struct owner *o = new_owner();
	struct seen s = { 0 };

	put_idle(c1, 10);
	put_busy(c2, 11);
	put_idle(c3, 12);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o, 13, true), &c1->pc);
	pool_count_tls(pool, &c1->pc, false);
	pool_count_tls(pool, &c3->pc, true);
	pool_count_tls(pool, &c3->pc, true);

	ck_assert_uint_eq(counts()->opened, 3);
	ck_assert_uint_eq(counts()->reused, 1);
	ck_assert_int_eq(counts()->total, 3);
	ck_assert_int_eq(counts()->in_use, 2);
	ck_assert_int_eq(counts()->idle, 1);
	ck_assert_uint_eq(counts()->tls_full, 1);
	ck_assert_uint_eq(counts()->tls_resumed, 2);
	ck_assert_uint_eq(c1->pc.id, 1);
	ck_assert_uint_eq(c3->pc.id, 3);

	pool_foreach_address(pool, collect, &s);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.idle_a, 0);
	ck_assert_int_eq(s.in_use_a, 2);
	ck_assert_uint_eq(s.opened_a, 2);
	ck_assert_uint_eq(s.reused_a, 1);

	pool_release(pool, &c1->pc, o, 14);
	ck_assert_int_eq(counts()->idle, 2);
	ck_assert_int_eq(counts()->in_use, 1);

	pool_evict(pool, &c3->pc, POOL_EVICT_CLOSED_BY_ORIGIN);
	ck_assert_uint_eq(counts()->evictions[POOL_EVICT_CLOSED_BY_ORIGIN], 1);
	ck_assert_int_eq(counts()->total, 2);
	memset(&s, 0, sizeof(s));
	pool_foreach_address(pool, collect, &s);
	ck_assert_msg(s.n == 1, "an address without connections is forgotten");
}
END_TEST

START_TEST(test_release_not_held)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o1 = put_busy(c1, 10);
	struct owner *other = new_owner();

	pool_release(pool, &c1->pc, other, 20);
	ck_assert_int_eq(n_logs, 1);
	ck_assert_int_eq(log_levels_seen[0], LOG_ERR);
	ck_assert_int_eq(c1->pc.n_allocs, 1);
	ck_assert_int_eq(counts()->in_use, 1);
	ck_assert_int_eq(other->refs, 1);
	pool_release(pool, &c1->pc, o1, 21);
	ck_assert_int_eq(counts()->idle, 1);
}
END_TEST

START_TEST(test_evict_in_use_retires)
{
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o1 = put_busy(c1, 10);

	pool_evict(pool, &c1->pc, POOL_EVICT_ERROR);
	ck_assert_int_eq(c1->closes, 0);
	ck_assert_int_eq(n_logs, 1);
	ck_assert_msg(c1->pc.no_new_exchanges, "retired instead");
	pool_release(pool, &c1->pc, o1, 11);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_ERROR);
}
END_TEST

START_TEST(test_free_closes_everything)
{
	struct fake_conn *heap1, *heap2;
	struct owner *o;

	heap1 = calloc(1, sizeof(*heap1));
	heap2 = calloc(1, sizeof(*heap2));
	ck_assert_msg(heap1 != NULL && heap2 != NULL, "calloc");
	heap1->free_on_close = heap2->free_on_close = true;
	ck_assert_int_eq(address_init(&heap1->pc.address, "http", "a", 80), 0);
	ck_assert_int_eq(address_init(&heap2->pc.address, "http", "a", 80), 0);
	heap1->pc.alloc_limit = heap2->pc.alloc_limit = 1;

	o = put_busy(heap1, 10);
	put_idle(heap2, 10);
	ck_assert_int_eq(o->refs, 2);
	pool_free(pool);
	pool = NULL;
	ck_assert_int_eq(n_heap_closed, 2);
	ck_assert_int_eq(heap_reasons[0], POOL_EVICT_EVICT_ALL);
	ck_assert_int_eq(heap_reasons[1], POOL_EVICT_EVICT_ALL);
	ck_assert_msg(o->refs == 1, "pool_free drops the allocation's reference");
}
END_TEST

START_TEST(test_heap_conn_freed_by_close)
{
	struct fake_conn *heap;

	heap = calloc(1, sizeof(*heap));
	ck_assert_msg(heap != NULL, "calloc");
	heap->free_on_close = true;
	ck_assert_int_eq(address_init(&heap->pc.address, "http", "a", 80), 0);
	heap->pc.alloc_limit = 1;
	put_idle(heap, 0);
	/* ASan catches any touch of the conn after ops->close freed it */
	ck_assert_int_eq(pool_cleanup(pool, 100), 0);
	ck_assert_int_eq(n_heap_closed, 1);
	ck_assert_int_eq(heap_reasons[0], POOL_EVICT_KEEPALIVE);
	ck_assert_int_eq(pool_cleanup(pool, 100), -1);
}
END_TEST

START_TEST(test_event_timer)
{
	struct event_base *base;
	struct pool *epool;
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o = new_owner();
	int64_t now, keepalive = 300 * USEC_PER_SEC;

	base = event_base_new();
	ck_assert_msg(base != NULL, "event_base_new");
	params.keepalive = keepalive;
	/* Over the per-address limit, a release runs a pass at once. */
	params.max_idle_per_address = 0;
	epool = pool_new(&params, &fake_ops, NULL, base);
	ck_assert_msg(epool != NULL, "pool_new with a base");
	ck_assert_int_eq(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 0);

	now = clock_now();
	c1->pc.created_at = now;
	pool_put(epool, &c1->pc, o, now);
	ck_assert_msg(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED) == 1, "put arms the timer");

	/* the due pass runs, finds the conn in use, re-arms for keepalive */
	ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ck_assert_int_eq(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 1);
	ck_assert_msg(pool_next_cleanup(epool) >= now + keepalive,
	    "next pass one keep-alive away");

	/* released long ago by the fake clock: the next pass evicts it */
	pool_release(epool, &c1->pc, o, now - keepalive);
	ck_assert_int_ne(event_base_loop(base, EVLOOP_NONBLOCK), -1);
	ck_assert_int_eq(c1->closes, 1);
	ck_assert_int_eq(c1->reason, POOL_EVICT_KEEPALIVE);
	ck_assert_msg(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED) == 0, "no timer once the pool is empty");
	ck_assert_int_eq(pool_next_cleanup(epool), -1);

	pool_free(epool);
	event_base_free(base);
}
END_TEST

START_TEST(test_event_timer_evict)
{
	struct event_base *base;
	struct pool *epool;
	struct fake_conn *c1 = mkconn(0, "a", 0);
	struct owner *o = new_owner();
	int64_t now;

	base = event_base_new();
	ck_assert_msg(base != NULL, "event_base_new");
	params.keepalive = 300 * USEC_PER_SEC;
	epool = pool_new(&params, &fake_ops, NULL, base);
	ck_assert_msg(epool != NULL, "pool_new with a base");
	now = clock_now();
	c1->pc.created_at = now;
	pool_put(epool, &c1->pc, o, now);
	pool_release(epool, &c1->pc, o, now);
	ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ck_assert_int_eq(c1->closes, 0);
	ck_assert_int_eq(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 1);

	pool_evict(epool, &c1->pc, POOL_EVICT_CLOSED_BY_ORIGIN);
	ck_assert_msg(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED) == 0, "evicting the last conn disarms");
	pool_free(epool);
	event_base_free(base);
}
END_TEST

START_TEST(test_params_and_names)
{
	struct ferryd_config cfg;
	struct pool_params p;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_idle = 64;
	cfg.max_idle_per_address = 16;
	cfg.keepalive = 300 * USEC_PER_SEC;
	cfg.idle_grace = USEC_PER_SEC;
	cfg.max_requests_per_connection = 10000;
	cfg.max_connection_lifetime = 3600 * USEC_PER_SEC;
	cfg.healthcheck_after_idle = 10 * USEC_PER_SEC;
	cfg.route_failure_ttl = 60 * USEC_PER_SEC;
	pool_params_from_config(&p, &cfg);
	ck_assert_int_eq(p.max_idle, 64);
	ck_assert_int_eq(p.max_idle_per_address, 16);
	ck_assert_int_eq(p.keepalive, 300 * USEC_PER_SEC);
	ck_assert_int_eq(p.idle_grace, USEC_PER_SEC);
	ck_assert_int_eq(p.max_requests_per_connection, 10000);
	ck_assert_int_eq(p.max_connection_lifetime, 3600 * USEC_PER_SEC);
	ck_assert_int_eq(p.healthcheck_after_idle, 10 * USEC_PER_SEC);
	ck_assert_int_eq(p.route_failure_ttl, 60 * USEC_PER_SEC);

	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_KEEPALIVE), "keepalive");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_OVER_LIMIT), "over_limit");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_UNHEALTHY), "unhealthy");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_LEAKED), "leaked");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_CLOSED_BY_ORIGIN),
	    "closed_by_origin");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_REQUEST_BUDGET),
	    "request_budget");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_LIFETIME), "lifetime");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_EVICT_ALL), "evict_all");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_ERROR), "error");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_NOT_REUSABLE),
	    "not_reusable");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_EXTRA_BYTES),
	    "extra_bytes");
	ck_assert_str_eq(pool_evict_reason_name(POOL_EVICT_UPGRADED),
	    "upgraded");
}
END_TEST

/* One TCase per behaviour, all on the same fixture. */
static void
add_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

/* The pool suite: one case per rule of pool.md. */
static Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");

	add_case(s, "keepalive_eviction", test_keepalive_eviction);
	add_case(s, "in_use_not_evicted", test_in_use_not_evicted);
	add_case(s, "earliest_eviction_first", test_earliest_eviction_first);
	add_case(s, "over_idle_limit_okhttp", test_over_idle_limit_okhttp);
	add_case(s, "over_idle_limit_grace_zero",
	    test_over_idle_limit_grace_zero_immediate);
	add_case(s, "over_idle_limit_grace", test_over_idle_limit_grace);
	add_case(s, "per_address_limit", test_per_address_limit);
	add_case(s, "per_address_limit_grace", test_per_address_limit_grace);
	add_case(s, "per_address_limit_reload", test_per_address_limit_reload);
	add_case(s, "leak_last_allocation", test_leak_last_allocation);
	add_case(s, "leak_not_last_allocation", test_leak_not_last_allocation);
	add_case(s, "evict_all", test_evict_all);
	add_case(s, "address_mismatch", test_address_mismatch);
	add_case(s, "tls_never_shared", test_tls_never_shared);
	add_case(s, "tls_counts_per_address", test_tls_counts_per_address);
	add_case(s, "allocation_limit", test_allocation_limit);
	add_case(s, "no_new_exchanges", test_no_new_exchanges);
	add_case(s, "retired_in_use_closes_on_release",
	    test_retired_in_use_closes_on_release);
	add_case(s, "detach", test_detach);
	add_case(s, "most_recently_used_first", test_most_recently_used_first);
	add_case(s, "health_check", test_health_check);
	add_case(s, "not_retriable", test_not_retriable);
	add_case(s, "unhealthy_tries_next", test_unhealthy_tries_next);
	add_case(s, "request_budget", test_request_budget);
	add_case(s, "lifetime", test_lifetime);
	add_case(s, "max_idle_zero", test_max_idle_zero);
	add_case(s, "schedule", test_schedule);
	add_case(s, "release over a limit schedules now",
	    test_release_over_limit_schedules_now);
	add_case(s, "counts", test_counts);
	add_case(s, "release_not_held", test_release_not_held);
	add_case(s, "evict_in_use_retires", test_evict_in_use_retires);
	add_case(s, "free_closes_everything", test_free_closes_everything);
	add_case(s, "heap_conn_freed_by_close", test_heap_conn_freed_by_close);
	add_case(s, "event_timer", test_event_timer);
	add_case(s, "event_timer_evict", test_event_timer_evict);
	add_case(s, "params_and_names", test_params_and_names);
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(pool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
