/*
 * test_connector.c - unit tests of lib/connector.c driven by a fake
 * transport: the connector dials through fake_dial(), which makes each
 * connection one end of a bufferevent pair (no socket) and reports how
 * the connect went as libevent would, by the route's address:
 * 127.0.0.1 connects, 127.0.0.2 is refused after a loop turn, 127.0.0.3
 * times out, 127.0.0.4 fails at once, 127.0.0.5 finds no descriptor
 * left (EMFILE).  A pooled connection comes back at
 * once, an IP literal is connected without the resolver, a failed route
 * is tried after the others and counted, a dead route makes a 502 that
 * names it and a timeout a 504, the DNS cache is used, a retry never gets
 * a pooled connection, a tunnel's (unpooled) connection is new, the
 * caller's and out of the pool's counts, and a cancelled request calls
 * nobody back and leaks nothing.  Only the resolver case asks a (dead) name server.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/bufferevent.h>

#include "clock.h"
#include "connector.h"
#include "dnscache.h"
#include "owner.h"
#include "pool.h"
#include "routedb.h"
#include "stats.h"
#include "upstream.h"

static struct event_base *base;
static struct evdns_base *dns;
static struct dnscache *dnscache;
static struct pool *pool;
static struct stats stats;
static struct connector *cn;
static struct owner *owner;
static const uint16_t port = 8080;
static uint16_t dead_port;	/* nothing listens there: the name server */

/* The origin's ends of the fake connections, freed at teardown. */
static struct bufferevent *origin_ends[32];
static int dials;

/* What the callback saw. */
static struct {
	int calls;
	struct upstream *up;
	bool reused;
	int status;
	char why[256];
} got;

static void
on_result(const struct connect_result *res, void *arg)
{
	got.calls++;
	got.up = res->up;
	got.reused = res->reused;
	got.status = res->status;
	snprintf(got.why, sizeof(got.why), "%s", res->why ? res->why : "");
}

/*
 * The fake transport: an upstream on one end of a pair, whose connect
 * ends as the route's address says, through the upstream's own event
 * callback (deferred, as a socket's would come from the loop).
 */
static struct upstream *
fake_dial(struct event_base *b, struct pool *p, const struct address *addr,
    const struct route *route, int64_t connect_timeout,
    const struct upstream_ops *uops, void *arg, int *error)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&route->addr;
	uint32_t ip = ntohl(sin->sin_addr.s_addr) & 0xff;
	struct bufferevent *pair[2];
	struct upstream *up;
	short what;

	dials++;
	if (ip == 4 || ip == 5) {
		*error = ip == 4 ? ENETUNREACH : EMFILE;
		return NULL;
	}
	ck_assert_int_eq(bufferevent_pair_new(b, 0, pair), 0);
	ck_assert_msg(dials <= (int)(sizeof(origin_ends) /
	    sizeof(origin_ends[0])), "dials fit");
	origin_ends[dials - 1] = pair[1];
	up = upstream_new(pair[0], p, addr, route);
	ck_assert_msg(up != NULL, "upstream_new");
	up->ops = uops;
	up->arg = arg;
	what = ip == 1 ? BEV_EVENT_CONNECTED : ip == 3 ?
	    BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING :
	    BEV_EVENT_ERROR | BEV_EVENT_WRITING;
	bufferevent_trigger_event(pair[0], what, BEV_TRIG_DEFER_CALLBACKS);
	return up;
}

static uint16_t
bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* A port that was free a moment ago: a connect to it is refused. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t p;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	p = bound_port(fd);
	close(fd);
	return p;
}

static void
close_conn(struct pool_conn *pc, enum pool_evict_reason reason, void *arg)
{
	upstream_close((struct upstream *)pc, pool_evict_reason_name(reason));
}

static bool
healthy(struct pool_conn *pc, void *arg)
{
	return true;
}

static const struct pool_conn_ops ops = { close_conn, healthy };

/* evdns says on stderr that the dead name server failed: expected here. */
static void
quiet(int severity, const char *msg)
{
}

static void
setup(void)
{
	struct pool_params params;

	memset(&params, 0, sizeof(params));
	params.max_idle = 8;
	params.max_idle_per_address = 8;
	params.keepalive = 60 * USEC_PER_SEC;
	params.max_requests_per_connection = 100;
	params.max_connection_lifetime = 3600 * USEC_PER_SEC;
	params.healthcheck_after_idle = 10 * USEC_PER_SEC;
	params.route_failure_ttl = 60 * USEC_PER_SEC;
	event_set_log_callback(quiet);
	memset(&stats, 0, sizeof(stats));
	memset(&got, 0, sizeof(got));
	base = event_base_new();
	dns = evdns_base_new(base, 0);
	dnscache = dnscache_new(16);
	pool = pool_new(&params, &ops, NULL, base);
	cn = connector_new(base, dns, dnscache, pool, &stats);
	owner = owner_new("GET", "/", 0);
	ck_assert_msg(base && dns && dnscache && pool && cn && owner, "set-up");

	connector_set_dial(cn, fake_dial);
	dials = 0;
	memset(origin_ends, 0, sizeof(origin_ends));
	dead_port = free_port();
	/* A name server nobody runs, on loopback: lookups fail fast. */
	{
		char ns[32];

		snprintf(ns, sizeof(ns), "127.0.0.1:%u", dead_port);
		ck_assert_int_eq(evdns_base_nameserver_ip_add(dns, ns), 0);
		evdns_base_set_option(dns, "timeout:", "0.2");
		evdns_base_set_option(dns, "attempts:", "1");
	}
}

static void
teardown(void)
{
	connector_free(cn);
	pool_free(pool);
	for (int i = 0; i < dials; i++)
		if (origin_ends[i] != NULL)
			bufferevent_free(origin_ends[i]);
	owner_kill(owner);
	owner_unref(owner);
	dnscache_free(dnscache);
	evdns_base_free(dns, 0);
	event_base_free(base);
}

/* Runs the loop until the callback came, for at most 2 s. */
static void
run_until_called(void)
{
	int64_t end = clock_now() + 2 * USEC_PER_SEC;

	while (got.calls == 0 && clock_now() < end)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static struct connect_params
params_for(struct address *a, const char *host, uint16_t p)
{
	struct connect_params cp = {
		.address = a,
		.owner = owner,
		.retriable = true,
		.connect_timeout = USEC_PER_SEC,
		.dns_cache_ttl = 60 * USEC_PER_SEC,
	};

	ck_assert_int_eq(address_init(a, "http", host, p), 0);
	return cp;
}

static struct route
route_to(const char *ip, uint16_t p)
{
	struct route r;

	ck_assert_int_eq(route_from_literal(&r, ip, p), 0);
	return r;
}

/*
 * Connects to origin.test, whose routes are n of rs from the DNS cache,
 * and waits for the callback.
 */
static void
connect_cached(struct connect_params *cp, struct address *a,
    const struct route *rs, size_t n)
{
	int64_t now = clock_now();

	*cp = params_for(a, "origin.test", port);
	dnscache_put(dnscache, "origin.test", port, rs, n,
	    now + 60 * USEC_PER_SEC, now);
	connector_connect(cn, cp, on_result, NULL);
	run_until_called();
}

/* A connect to ip fails: status, and why starts with want. */
static void
expect_failure(const char *ip, int status, const char *want)
{
	struct address a;
	struct connect_params cp = params_for(&a, ip, port);

	connector_connect(cn, &cp, on_result, NULL);
	run_until_called();
	ck_assert_int_eq(got.calls, 1);
	ck_assert_msg(got.up == NULL, "no connection");
	ck_assert_int_eq(got.status, status);
	ck_assert_msg(strncmp(got.why, want, strlen(want)) == 0,
	    "why names it: %s", got.why);
	ck_assert_uint_eq(stats.route_failures, 1);
	ck_assert_uint_eq(pool_counts(pool)->opened, 0);
}

/* An IP literal: no resolver, a connect, the pool owns the result. */
START_TEST(test_literal_connects)
{
	struct address a;
	struct connect_params cp = params_for(&a, "127.0.0.1", port);
	struct connect_req *req;

	req = connector_connect(cn, &cp, on_result, NULL);
	ck_assert_msg(req != NULL, "pending while connecting");
	ck_assert_int_eq(got.calls, 0);
	run_until_called();
	ck_assert_int_eq(got.calls, 1);
	ck_assert_msg(got.up != NULL, "connected: %s", got.why);
	ck_assert_msg(!got.reused, "a new connection");
	ck_assert_msg(got.up->pooled && got.up->pc.n_allocs == 1,
	    "in the pool, allocated to the owner");
	ck_assert_uint_eq(pool_counts(pool)->opened, 1);
	ck_assert_uint_eq(stats.dns_lookups, 0);

	/* Released, it comes back at once from the pool. */
	upstream_release(got.up, owner, true, POOL_EVICT_NOT_REUSABLE);
	memset(&got, 0, sizeof(got));
	req = connector_connect(cn, &cp, on_result, NULL);
	ck_assert_msg(req == NULL && got.calls == 1 && got.reused,
	    "a pooled connection, before connector_connect returned");
	ck_assert_uint_eq(pool_counts(pool)->reused, 1);

	/* A retry must not get a pooled one. */
	upstream_release(got.up, owner, true, POOL_EVICT_NOT_REUSABLE);
	memset(&got, 0, sizeof(got));
	cp.fresh = true;
	req = connector_connect(cn, &cp, on_result, NULL);
	ck_assert_msg(req != NULL, "fresh: connecting again");
	run_until_called();
	ck_assert_msg(got.up != NULL && !got.reused, "a second connection");
	ck_assert_uint_eq(pool_counts(pool)->opened, 2);
	upstream_release(got.up, owner, false, POOL_EVICT_NOT_REUSABLE);
}
END_TEST

/*
 * A tunnel's connection: never from the pool, even with an idle one for
 * the address; never put in it; an id from the pool's sequence.
 */
START_TEST(test_unpooled)
{
	struct address a;
	struct connect_params cp = params_for(&a, "127.0.0.1", port);
	struct connect_req *req;
	uint64_t pooled_id;

	connector_connect(cn, &cp, on_result, NULL);
	run_until_called();
	ck_assert_msg(got.up != NULL, "connected: %s", got.why);
	pooled_id = got.up->pc.id;
	upstream_release(got.up, owner, true, POOL_EVICT_NOT_REUSABLE);
	ck_assert_uint_eq(pool_counts(pool)->idle, 1);

	memset(&got, 0, sizeof(got));
	cp.unpooled = true;
	req = connector_connect(cn, &cp, on_result, NULL);
	ck_assert_msg(req != NULL, "connecting, not the idle one");
	run_until_called();
	ck_assert_msg(got.up != NULL && !got.reused, "a new connection");
	ck_assert_msg(!got.up->pooled && got.up->codec == NULL,
	    "not in the pool, no HTTP codec");
	ck_assert_uint_gt(got.up->pc.id, pooled_id);
	ck_assert_uint_eq(pool_counts(pool)->opened, 1);
	ck_assert_uint_eq(pool_counts(pool)->idle, 1);
	ck_assert_int_eq(dials, 2);
	upstream_close(got.up, "test done");
}
END_TEST

/* Refused everywhere: 502 naming the target, each route counted. */
START_TEST(test_refused)
{
	char want[64];

	snprintf(want, sizeof(want), "cannot connect to 127.0.0.2:%u: ", port);
	expect_failure("127.0.0.2", 502, want);
}
END_TEST

/* No descriptor left for a socket: 503, and the route is not blamed. */
START_TEST(test_out_of_descriptors)
{
	struct address a;
	struct connect_params cp = params_for(&a, "127.0.0.5", port);

	connector_connect(cn, &cp, on_result, NULL);
	run_until_called();
	ck_assert_int_eq(got.calls, 1);
	ck_assert_msg(got.up == NULL, "no connection");
	ck_assert_int_eq(got.status, 503);
	ck_assert_msg(strstr(got.why, "Too many open files") != NULL,
	    "why names it: %s", got.why);
	ck_assert_uint_eq(stats.route_failures, 0);
	ck_assert_uint_eq(pool_counts(pool)->opened, 0);
}
END_TEST

/*
 * Two cached routes, the first dead: it is tried, fails, goes to the
 * route database, and the second one connects.  Next time the dead one
 * is tried last.
 */
START_TEST(test_routes_in_order)
{
	struct address a;
	struct connect_params cp;
	struct route rs[2] = { route_to("127.0.0.2", port),
	    route_to("127.0.0.1", port) }, out[2];

	connect_cached(&cp, &a, rs, 2);
	ck_assert_msg(got.up != NULL, "the second route connected: %s", got.why);
	ck_assert_msg(route_equal(&got.up->pc.route, &rs[1]), "route 2");
	ck_assert_uint_eq(stats.dns_cache_hits, 1);
	ck_assert_uint_eq(stats.dns_lookups, 0);
	ck_assert_uint_eq(stats.route_failures, 1);
	upstream_release(got.up, owner, false, POOL_EVICT_NOT_REUSABLE);

	out[0] = rs[0];
	out[1] = rs[1];
	routedb_order(pool_routedb(pool), out, 2, clock_now());
	ck_assert_msg(route_equal(&out[0], &rs[1]), "the failed route goes last");
}
END_TEST

/* A connect that times out: 504, the route counted as failed. */
START_TEST(test_connect_timeout)
{
	char want[64];

	snprintf(want, sizeof(want), "connect to 127.0.0.3:%u timed out", port);
	expect_failure("127.0.0.3", 504, want);
}
END_TEST

/*
 * Routes that fail at once, later, and by timing out come before one
 * that works: each is dialled once, in order, and counted; the last
 * connects.  A single route failing at once is a 502 before
 * connector_connect() returns.
 */
START_TEST(test_every_failure_then_success)
{
	struct address a;
	struct connect_params cp;
	struct route rs[4] = { route_to("127.0.0.4", port),
	    route_to("127.0.0.2", port), route_to("127.0.0.3", port),
	    route_to("127.0.0.1", port) };

	connect_cached(&cp, &a, rs, 4);
	ck_assert_msg(got.up != NULL, "the fourth route connected: %s", got.why);
	ck_assert_msg(route_equal(&got.up->pc.route, &rs[3]), "route 4");
	ck_assert_int_eq(dials, 4);
	ck_assert_uint_eq(stats.route_failures, 3);
	ck_assert_msg(got.up->codec != NULL, "a codec chosen");
	upstream_release(got.up, owner, false, POOL_EVICT_NOT_REUSABLE);

	memset(&got, 0, sizeof(got));
	cp = params_for(&a, "127.0.0.4", port);
	ck_assert_msg(connector_connect(cn, &cp, on_result, NULL) == NULL,
	    "nothing pending");
	ck_assert_int_eq(got.calls, 1);
	ck_assert_int_eq(got.status, 502);
	ck_assert_msg(strstr(got.why, strerror(ENETUNREACH)) != NULL,
	    "why: %s", got.why);
}
END_TEST

/* A name nobody resolves: 502 "cannot resolve". */
START_TEST(test_unresolvable)
{
	struct address a;
	struct connect_params cp = params_for(&a, "no-such-host.invalid", port);

	connector_connect(cn, &cp, on_result, NULL);
	run_until_called();
	ck_assert_int_eq(got.calls, 1);
	ck_assert_int_eq(got.status, 502);
	ck_assert_msg(strncmp(got.why, "cannot resolve no-such-host.invalid",
	    35) == 0, "why: %s", got.why);
	ck_assert_uint_eq(stats.dns_lookups, 1);
}
END_TEST

/* Cancelled while connecting: no callback, the socket closed, no leak. */
START_TEST(test_cancel)
{
	struct address a;
	struct connect_params cp = params_for(&a, "127.0.0.1", port);
	struct connect_req *req;
	int64_t end;

	req = connector_connect(cn, &cp, on_result, NULL);
	ck_assert_msg(req != NULL, "pending");
	connector_cancel(req);
	end = clock_now() + 200000;
	while (clock_now() < end)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(got.calls, 0);
	ck_assert_int_eq(dials, 1);
	ck_assert_uint_eq(pool_counts(pool)->opened, 0);
}
END_TEST

/*
 * Cancelled while the name is being resolved: evdns calls back later
 * with EVUTIL_EAI_CANCEL and the freed request (ASan would see a touch).
 */
START_TEST(test_cancel_resolving)
{
	struct address a;
	struct connect_params cp = params_for(&a, "slow-name.invalid", port);
	struct connect_req *req;
	int64_t end;

	req = connector_connect(cn, &cp, on_result, NULL);
	ck_assert_msg(req != NULL, "pending: the name server is asked");
	ck_assert_uint_eq(stats.dns_lookups, 1);
	connector_cancel(req);
	end = clock_now() + 500000;
	while (clock_now() < end)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(got.calls, 0);
}
END_TEST

static Suite *
connector_suite(void)
{
	Suite *s = suite_create("connector");
	TCase *tc = tcase_create("connector");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_literal_connects);
	tcase_add_test(tc, test_unpooled);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_out_of_descriptors);
	tcase_add_test(tc, test_routes_in_order);
	tcase_add_test(tc, test_connect_timeout);
	tcase_add_test(tc, test_every_failure_then_success);
	tcase_add_test(tc, test_unresolvable);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_resolving);
	suite_add_tcase(s, tc);
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(connector_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
