/*
 * test_stats.c - unit tests of lib/stats.c: the /metrics page carries every
 * metric of shared/design/interface.md with its type and the exact counts,
 * and is valid Prometheus text format 0.0.4 line by line; the /stats page
 * is valid JSON with the same counts and one entry per pool address.  The
 * counts come from a real pool (no event base) driven with fake
 * connections and a fake clock, as in test_pool.c.
 */
#include <check.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "clock.h"
#include "log.h"
#include "owner.h"
#include "pool.h"
#include "stats.h"

#define N_CONNS		5
#define N_OWNERS	8
#define N_SERIES	64

/* A connection as the tests see it: the pool's part and its closes. */
struct fake_conn {
	struct pool_conn pc;		/* first: the ops cast back to this */
	int closes;
	enum pool_evict_reason reason;
};

static struct pool *pool;
static struct stats st;
static struct fake_conn conns[N_CONNS];
static struct owner *owners[N_OWNERS];
static int n_owners;
static int n_warnings;

/* Records the close; the conns live in a static array. */
static void
fake_close(struct pool_conn *conn, enum pool_evict_reason reason, void *arg)
{
	struct fake_conn *fc = (struct fake_conn *)conn;

	fc->closes++;
	fc->reason = reason;
}

/* Every fake connection is healthy. */
static bool
fake_healthy(struct pool_conn *conn, void *arg)
{
	return true;
}

static const struct pool_conn_ops fake_ops = {
	.close = fake_close,
	.healthy = fake_healthy,
};

/* Counts the pool's warnings (the leak) so none goes unnoticed. */
static void
count_warnings(int level, const char *msg, void *arg)
{
	if (level <= LOG_WARNING)
		n_warnings++;
}

/* An empty pool with roomy limits, no event base, zeroed counters. */
static void
setup(void)
{
	struct pool_params p;

	memset(&p, 0, sizeof(p));
	p.max_idle = 5;
	p.max_idle_per_address = 5;
	p.keepalive = 100;
	p.idle_grace = 0;
	p.max_requests_per_connection = 10000;
	p.max_connection_lifetime = 1000000;
	p.healthcheck_after_idle = 10;
	p.route_failure_ttl = 60;
	memset(conns, 0, sizeof(conns));
	memset(owners, 0, sizeof(owners));
	memset(&st, 0, sizeof(st));
	n_owners = n_warnings = 0;
	log_set_hook(count_warnings, NULL);
	pool = pool_new(&p, &fake_ops, NULL, NULL);
	ck_assert_msg(pool != NULL, "pool_new failed");
}

/* Frees the pool first (it may hold allocations), then the tokens. */
static void
teardown(void)
{
	pool_free(pool);
	pool = NULL;
	for (int i = 0; i < n_owners; i++)
		owner_unref(owners[i]);
	log_set_hook(NULL, NULL);
}

/* A request's token; teardown drops the request's reference. */
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

/* A fake HTTP/1.1 conn to http://host:80 put into the pool in use at now. */
static struct fake_conn *
put_conn(int i, const char *host, struct owner *o, int64_t now)
{
	struct fake_conn *fc = &conns[i];

	ck_assert_int_eq(address_init(&fc->pc.address, "http", host, 80), 0);
	fc->pc.http_version = 11;
	fc->pc.alloc_limit = 1;
	fc->pc.created_at = now;
	pool_put(pool, &fc->pc, o, now);
	return fc;
}

/*
 * Drives the pool to: opened 5, reused 1, idle 2 (a), in use 1
 * (https://[::1]), one eviction closed_by_origin (c), one leak evicted as
 * leaked (d), TLS handshakes 3 full and 4 resumed (all to [::1]); and fills the daemon's counters
 * with values that differ from each other, so no two fields can swap
 * unnoticed.
 */
static void
fill(void)
{
	struct address a;
	struct owner *o1 = new_owner(), *o2 = new_owner(), *o3 = new_owner();
	struct owner *o4, *o5 = new_owner();
	struct fake_conn *c1, *c2, *c3, *c4, *c5;

	c1 = put_conn(0, "a", o1, 10);
	pool_release(pool, &c1->pc, o1, 10);
	ck_assert_int_eq(address_init(&a, "http", "a", 80), 0);
	ck_assert_ptr_eq(pool_acquire(pool, &a, o1, 11, true), &c1->pc);
	pool_release(pool, &c1->pc, o1, 12);

	c5 = put_conn(4, "a", o5, 12);
	pool_release(pool, &c5->pc, o5, 12);
	/* [::1] is an https address: its entry gets a "tls" object. */
	c2 = &conns[1];
	ck_assert_int_eq(address_init(&c2->pc.address, "https", "::1", 443), 0);
	c2->pc.address.tls.tls = true;
	c2->pc.address.tls.verify = true;
	strcpy(c2->pc.address.tls.alpn, "http/1.1");
	c2->pc.http_version = 11;
	c2->pc.alloc_limit = 1;
	c2->pc.created_at = 13;
	c2->pc.tls_version = "TLSv1.3";
	c2->pc.tls_cipher = "TLS_AES_256_GCM_SHA384";
	pool_put(pool, &c2->pc, o2, 13);

	c3 = put_conn(2, "c", o3, 14);
	pool_release(pool, &c3->pc, o3, 14);
	pool_evict(pool, &c3->pc, POOL_EVICT_CLOSED_BY_ORIGIN);
	ck_assert_int_eq(c3->closes, 1);

	/* d's request goes without releasing: the pass prunes and evicts it */
	o4 = owner_new("GET", "http://d/", 0);
	ck_assert_msg(o4 != NULL, "owner_new failed");
	c4 = put_conn(3, "d", o4, 15);
	owner_kill(o4);
	owner_unref(o4);
	ck_assert_int_eq(pool_cleanup(pool, 20), 0);
	ck_assert_int_eq(c4->closes, 1);
	ck_assert_int_eq(c4->reason, POOL_EVICT_LEAKED);
	ck_assert_msg(n_warnings == 1, "the leak was logged: %d", n_warnings);

	for (int i = 0; i < 3; i++)
		pool_count_tls(pool, &c2->pc, false);
	for (int i = 0; i < 4; i++)
		pool_count_tls(pool, &c2->pc, true);

	ck_assert_uint_eq(pool_counts(pool)->opened, 5);
	ck_assert_uint_eq(pool_counts(pool)->reused, 1);
	ck_assert_int_eq(pool_counts(pool)->idle, 2);
	ck_assert_int_eq(pool_counts(pool)->in_use, 1);

	st.client_connections_accepted = 7;
	stats_count_request(&st, 200);
	stats_count_request(&st, 200);
	stats_count_request(&st, 200);
	stats_count_request(&st, 502);
	stats_count_request(&st, 404);
	st.retries = 11;
	st.route_failures = 13;
	st.tls_failures = 31;
	st.tunnels_total = 17;
	st.tunnels_active = 19;
	st.clients_active = 23;
	st.exchanges_active = 29;
}

/* The buffer's text as a NUL-terminated heap string, owned by the caller. */
static char *
text_of(struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf);
	char *s = malloc(len + 1);

	ck_assert_msg(s != NULL, "malloc");
	ck_assert_int_eq((int)evbuffer_remove(buf, s, len), (int)len);
	s[len] = '\0';
	return s;
}

/* Renders /metrics for the fixture's stats and pool. */
static char *
render_metrics(void)
{
	struct evbuffer *buf = evbuffer_new();
	char *s;

	ck_assert_msg(buf != NULL, "evbuffer_new");
	stats_render_metrics(&st, pool, buf);
	s = text_of(buf);
	evbuffer_free(buf);
	return s;
}

/* Renders /stats for the fixture's stats and pool. */
static char *
render_json(int64_t uptime)
{
	struct evbuffer *buf = evbuffer_new();
	char *s;

	ck_assert_msg(buf != NULL, "evbuffer_new");
	stats_render_json(&st, pool, uptime, buf);
	s = text_of(buf);
	evbuffer_free(buf);
	return s;
}

/* True when line is one whole line of text. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* The metric table of interface.md ("Pages on the proxy port"). */
static const struct {
	const char *name;
	const char *type;
} metrics[] = {
	{ "ferryd_client_connections_accepted_total", "counter" },
	{ "ferryd_client_connections", "gauge" },
	{ "ferryd_accept_pauses_total", "counter" },
	{ "ferryd_requests_total", "counter" },
	{ "ferryd_requests_cut_total", "counter" },
	{ "ferryd_upstream_connections_opened_total", "counter" },
	{ "ferryd_upstream_connections", "gauge" },
	{ "ferryd_upstream_reused_total", "counter" },
	{ "ferryd_upstream_evictions_total", "counter" },
	{ "ferryd_upstream_leaks_total", "counter" },
	{ "ferryd_upstream_retries_total", "counter" },
	{ "ferryd_tls_handshakes_total", "counter" },
	{ "ferryd_tls_handshake_failures_total", "counter" },
	{ "ferryd_route_failures_total", "counter" },
	{ "ferryd_tunnels_total", "counter" },
	{ "ferryd_tunnels_active", "gauge" },
};

/* The eviction reason labels of interface.md. */
static const char *const reasons[] = {
	"keepalive", "over_limit", "unhealthy", "leaked", "closed_by_origin",
	"request_budget", "lifetime", "evict_all", "error",
};

#define SAMPLE_RE							\
	"^([a-zA-Z_:][a-zA-Z0-9_:]*)"					\
	"(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""	\
	"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*,?\\})?" \
	" (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)"		\
	"( -?[0-9]+)?$"
#define HELP_RE	"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) [^\n]*$"
#define TYPE_RE	\
	"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$"

/* Copies regex group g of line into out. */
static void
group(const char *line, const regmatch_t *m, int g, char *out, size_t len)
{
	int n = (int)(m[g].rm_eo - m[g].rm_so);

	snprintf(out, len, "%.*s", n, line + m[g].rm_so);
}

/*
 * Checks text against the Prometheus text format 0.0.4: it ends with a
 * newline; every line is a HELP, a TYPE or a sample; HELP and TYPE come at
 * most once per metric and before its samples; a metric's samples form one
 * group; no series (name and labels) repeats; counters end in _total and
 * have no negative value.
 */
static void
check_prometheus(const char *text)
{
	regex_t sample_re, help_re, type_re;
	regmatch_t m[12];
	char *copy, *line, *save = NULL;
	char cur[128] = "", cur_type[16] = "", name[128];
	char types[N_SERIES][128], helps[N_SERIES][128];
	char series[N_SERIES][256];
	int n_types = 0, n_helps = 0, n_series = 0, n_lines = 0;

	ck_assert_msg(regcomp(&sample_re, SAMPLE_RE, REG_EXTENDED) == 0,
	    "sample regex");
	ck_assert_msg(regcomp(&help_re, HELP_RE, REG_EXTENDED) == 0,
	    "help regex");
	ck_assert_msg(regcomp(&type_re, TYPE_RE, REG_EXTENDED) == 0,
	    "type regex");
	ck_assert_msg(text[0] != '\0', "the page is not empty");
	ck_assert_msg(text[strlen(text) - 1] == '\n',
	    "the page ends with a newline");
	ck_assert_msg(strstr(text, "\n\n") == NULL, "no empty line");

	copy = strdup(text);
	ck_assert_msg(copy != NULL, "strdup");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		n_lines++;
		if (strncmp(line, "# HELP ", 7) == 0) {
			ck_assert_msg(regexec(&help_re, line, 12, m, 0) == 0,
			    "malformed HELP line: \"%s\"", line);
			group(line, m, 1, name, sizeof(name));
			for (int i = 0; i < n_helps; i++)
				ck_assert_msg(strcmp(helps[i], name) != 0,
				    "HELP twice for %s", name);
			ck_assert_int_lt(n_helps, N_SERIES);
			snprintf(helps[n_helps++], sizeof(helps[0]), "%s", name);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			ck_assert_msg(regexec(&type_re, line, 12, m, 0) == 0,
			    "malformed TYPE line: \"%s\"", line);
			group(line, m, 1, cur, sizeof(cur));
			group(line, m, 2, cur_type, sizeof(cur_type));
			for (int i = 0; i < n_types; i++)
				ck_assert_msg(strcmp(types[i], cur) != 0,
				    "TYPE twice for %s", cur);
			ck_assert_int_lt(n_types, N_SERIES);
			snprintf(types[n_types++], sizeof(types[0]), "%s", cur);
			if (strcmp(cur_type, "counter") == 0) {
				size_t n = strlen(cur);
				ck_assert_msg(n > 6 &&
				    strcmp(cur + n - 6, "_total") == 0,
				    "counter %s ends in _total", cur);
			}
			continue;
		}
		ck_assert_msg(line[0] != '#', "unknown comment: \"%s\"", line);
		ck_assert_msg(regexec(&sample_re, line, 12, m, 0) == 0,
		    "malformed sample line: \"%s\"", line);
		group(line, m, 1, name, sizeof(name));
		ck_assert_msg(strcmp(name, cur) == 0,
		    "sample \"%s\" outside its metric's group (after TYPE %s)",
		    line, cur);
		ck_assert_msg(strcmp(cur_type, "counter") != 0 ||
		    strchr(line, '-') == NULL || strrchr(line, '-') <
		    strrchr(line, ' '), "negative counter: \"%s\"", line);
		ck_assert_int_lt(n_series, N_SERIES);
		snprintf(series[n_series], sizeof(series[0]), "%.*s",
		    (int)(strrchr(line, ' ') - line), line);
		for (int i = 0; i < n_series; i++)
			ck_assert_msg(strcmp(series[i], series[n_series]) != 0,
			    "series twice: %s", series[i]);
		n_series++;
	}
	ck_assert_msg(n_lines > 0, "some lines");
	free(copy);
	regfree(&sample_re);
	regfree(&help_re);
	regfree(&type_re);
}

START_TEST(test_metrics_names_and_types)
{
	char *text, want[160];

	fill();
	text = render_metrics();
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		snprintf(want, sizeof(want), "# TYPE %s %s", metrics[i].name,
		    metrics[i].type);
		ck_assert_msg(has_line(text, want), "missing \"%s\"", want);
		snprintf(want, sizeof(want), "# HELP %s ", metrics[i].name);
		ck_assert_msg(strstr(text, want) != NULL, "missing \"%s\"",
		    want);
	}
	free(text);
}
END_TEST

START_TEST(test_metrics_values)
{
	static const char *const lines[] = {
		"ferryd_client_connections_accepted_total 7",
		"ferryd_requests_total{code=\"200\"} 3",
		"ferryd_requests_total{code=\"404\"} 1",
		"ferryd_requests_total{code=\"502\"} 1",
		"ferryd_upstream_connections_opened_total 5",
		"ferryd_upstream_connections{state=\"idle\"} 2",
		"ferryd_upstream_connections{state=\"in_use\"} 1",
		"ferryd_upstream_reused_total 1",
		"ferryd_upstream_evictions_total{reason=\"keepalive\"} 0",
		"ferryd_upstream_evictions_total{reason=\"closed_by_origin\"} 1",
		"ferryd_upstream_evictions_total{reason=\"leaked\"} 1",
		"ferryd_upstream_leaks_total 1",
		"ferryd_upstream_retries_total 11",
		"ferryd_tls_handshakes_total{kind=\"full\"} 3",
		"ferryd_tls_handshakes_total{kind=\"resumed\"} 4",
		"ferryd_tls_handshake_failures_total 31",
		"ferryd_route_failures_total 13",
		"ferryd_tunnels_total 17",
		"ferryd_tunnels_active 19",
	};
	char *text;

	fill();
	text = render_metrics();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ck_assert_msg(has_line(text, lines[i]), "missing line \"%s\"",
		    lines[i]);
	ck_assert_msg(strstr(text, "code=\"0\"") == NULL,
	    "codes never answered have no sample");
	ck_assert_msg(strstr(text, "code=\"201\"") == NULL,
	    "codes never answered have no sample");
	ck_assert_msg(strstr(text, "ferryd_requests_total{code=\"200\"}") <
	    strstr(text, "ferryd_requests_total{code=\"404\"}") &&
	    strstr(text, "ferryd_requests_total{code=\"404\"}") <
	    strstr(text, "ferryd_requests_total{code=\"502\"}"),
	    "codes in ascending order");
	free(text);
}
END_TEST

START_TEST(test_metrics_eviction_reasons)
{
	char *text, want[128];

	fill();
	text = render_metrics();
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		snprintf(want, sizeof(want),
		    "ferryd_upstream_evictions_total{reason=\"%s\"} ",
		    reasons[i]);
		ck_assert_msg(strstr(text, want) != NULL,
		    "reason \"%s\" always present", reasons[i]);
	}
	ck_assert_msg(strstr(text, "reason=\"unknown\"") == NULL,
	    "no reason without a name");
	free(text);
}
END_TEST

START_TEST(test_metrics_format)
{
	char *text;

	fill();
	text = render_metrics();
	check_prometheus(text);
	free(text);
}
END_TEST

START_TEST(test_metrics_empty)
{
	char *text;

	text = render_metrics();
	check_prometheus(text);
	ck_assert_msg(has_line(text, "# TYPE ferryd_requests_total counter"),
	    "a metric without samples still has its TYPE");
	ck_assert_msg(strstr(text, "ferryd_requests_total{") == NULL,
	    "no request sample before any request");
	ck_assert_msg(has_line(text,
	    "ferryd_upstream_connections{state=\"idle\"} 0"), "idle 0");
	ck_assert_msg(has_line(text,
	    "ferryd_upstream_connections{state=\"in_use\"} 0"), "in_use 0");
	ck_assert_msg(has_line(text, "ferryd_tunnels_active 0"), "tunnels 0");
	free(text);
}
END_TEST

START_TEST(test_count_request_range)
{
	char *text;

	stats_count_request(&st, -1);
	stats_count_request(&st, STATS_MAX_CODE);
	stats_count_request(&st, 100000);
	stats_count_request(&st, STATS_MAX_CODE - 1);
	stats_count_request(&st, 100);
	for (int c = 0; c < STATS_MAX_CODE; c++)
		ck_assert_msg(st.requests[c] ==
		    (c == 100 || c == STATS_MAX_CODE - 1 ? 1u : 0u),
		    "requests[%d] = %llu", c,
		    (unsigned long long)st.requests[c]);
	text = render_metrics();
	ck_assert_msg(has_line(text, "ferryd_requests_total{code=\"599\"} 1"),
	    "the last code in range is counted");
	ck_assert_msg(has_line(text, "ferryd_requests_total{code=\"100\"} 1"),
	    "code 100 is counted");
	check_prometheus(text);
	free(text);
}
END_TEST

/* A minimal JSON parser: advances *p over one value, false when invalid. */
static bool json_value(const char **p, int depth);

/* Skips JSON whitespace. */
static void
json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

/* A JSON string with its escapes; no raw control characters. */
static bool
json_str(const char **p)
{
	const char *s = *p;

	if (*s++ != '"')
		return false;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return false;
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)s[i]))
					return false;
			s += 4;
		} else if (strchr("\"\\/bfnrt", *s) == NULL || *s == '\0')
			return false;
	}
	*p = s + 1;
	return true;
}

/* A JSON number: -?int frac? exp? with no leading zeros. */
static bool
json_num(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	*p = s;
	return true;
}

/* An object or array body after its opening bracket. */
static bool
json_container(const char **p, char close, int depth)
{
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}') {
			json_ws(p);
			if (!json_str(p))
				return false;
			json_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!json_value(p, depth + 1))
			return false;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

/* One value of any kind; depth bounds the recursion on bad input. */
static bool
json_value(const char **p, int depth)
{
	if (depth > 32)
		return false;
	json_ws(p);
	switch (**p) {
	case '{':
		(*p)++;
		return json_container(p, '}', depth);
	case '[':
		(*p)++;
		return json_container(p, ']', depth);
	case '"':
		return json_str(p);
	case 't':
		return strncmp(*p, "true", 4) == 0 ? (*p += 4, true) : false;
	case 'f':
		return strncmp(*p, "false", 5) == 0 ? (*p += 5, true) : false;
	case 'n':
		return strncmp(*p, "null", 4) == 0 ? (*p += 4, true) : false;
	default:
		return json_num(p);
	}
}

/* Asserts text is one JSON object and nothing else. */
static void
check_json(const char *text)
{
	const char *p = text;

	json_ws(&p);
	ck_assert_msg(*p == '{', "the page is an object");
	ck_assert_msg(json_value(&p, 0), "invalid JSON near \"%.40s\"", p);
	json_ws(&p);
	ck_assert_msg(*p == '\0', "trailing bytes after the object: \"%.40s\"",
	    p);
}

/* The JSON without whitespace outside strings, so checks ignore layout. */
static char *
json_compact(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	bool in_str = false;

	ck_assert_msg(out != NULL, "malloc");
	for (const char *s = text; *s != '\0'; s++) {
		if (in_str) {
			*o++ = *s;
			if (*s == '\\' && s[1] != '\0')
				*o++ = *++s;
			else if (*s == '"')
				in_str = false;
		} else if (*s == '"') {
			in_str = true;
			*o++ = *s;
		} else if (!isspace((unsigned char)*s))
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Counts the occurrences of needle in text. */
static int
count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

START_TEST(test_json_valid)
{
	char *text;

	fill();
	text = render_json(12345000);
	check_json(text);
	free(text);
}
END_TEST

START_TEST(test_json_values)
{
	static const char *const want[] = {
		"\"uptime_seconds\":12.345,",
		"\"client_connections_accepted\":7,",
		"\"client_connections_active\":23,",
		"\"exchanges_active\":29,",
		"\"requests\":{\"200\":3,\"404\":1,\"502\":1}",
		"\"upstream\":{\"opened\":5,\"reused\":1,\"idle\":2,"
		    "\"in_use\":1,\"leaks\":1,\"retries\":11,"
		    "\"route_failures\":13,",
		"\"keepalive\":0,",
		"\"closed_by_origin\":1",
		"\"leaked\":1",
		"\"tls_handshakes\":{\"full\":3,\"resumed\":4,\"failed\":31}",
		"\"tunnels\":{\"total\":17,\"active\":19}",
		"{\"address\":\"http://a:80\",\"idle\":2,\"in_use\":0,"
		    "\"opened\":2,\"reused\":1}",
		"{\"address\":\"https://[::1]:443\",\"idle\":0,\"in_use\":1,"
		    "\"opened\":1,\"reused\":0,\"tls\":{\"version\":"
		    "\"TLSv1.3\",\"cipher\":\"TLS_AES_256_GCM_SHA384\","
		    "\"full\":3,\"resumed\":4}}",
	};
	char *text, *c, key[64];

	fill();
	text = render_json(12345000);
	c = json_compact(text);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(c, want[i]) != NULL, "missing %s in %s",
		    want[i], c);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		snprintf(key, sizeof(key), "\"%s\":", reasons[i]);
		ck_assert_msg(strstr(c, key) != NULL, "eviction %s present",
		    reasons[i]);
	}
	ck_assert_msg(count_of(c, "\"address\":") == 2,
	    "one entry per address with connections (c and d are gone)");
	free(c);
	free(text);
}
END_TEST

START_TEST(test_json_empty)
{
	char *text, *c;

	text = render_json(0);
	check_json(text);
	c = json_compact(text);
	ck_assert_msg(strstr(c, "\"uptime_seconds\":0.000,") != NULL,
	    "uptime 0: %s", c);
	ck_assert_msg(strstr(c, "\"requests\":{}") != NULL,
	    "no requests: an empty object: %s", c);
	ck_assert_msg(strstr(c, "\"addresses\":[]") != NULL,
	    "no addresses: an empty array: %s", c);
	ck_assert_msg(strstr(c, "\"opened\":0,") != NULL, "opened 0: %s", c);
	free(c);
	free(text);
}
END_TEST

START_TEST(test_json_uptime)
{
	char *text, *c;

	text = render_json(3 * 86400 * USEC_PER_SEC + 999999);
	check_json(text);
	c = json_compact(text);
	ck_assert_msg(strstr(c, "\"uptime_seconds\":259201.000,") != NULL,
	    "uptime in seconds, rounded to milliseconds: %s", c);
	free(c);
	free(text);
}
END_TEST

/* The stats suite: one case per behaviour, all on the same fixture. */
static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	const struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "metrics_names_and_types", test_metrics_names_and_types },
		{ "metrics_values", test_metrics_values },
		{ "metrics_eviction_reasons", test_metrics_eviction_reasons },
		{ "metrics_format", test_metrics_format },
		{ "metrics_empty", test_metrics_empty },
		{ "count_request_range", test_count_request_range },
		{ "json_valid", test_json_valid },
		{ "json_values", test_json_values },
		{ "json_empty", test_json_empty },
		{ "json_uptime", test_json_uptime },
	};
	TCase *tc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
