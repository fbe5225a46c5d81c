/*
 * listeners.c - the listen sockets of one worker.  See listeners.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "clock.h"
#include "listeners.h"
#include "log.h"

/* How long accept() rests when out of descriptors, if no client leaves. */
#define LISTENERS_RETRY_MS 250
/* A shortage is logged at most this often (usec). */
#define LISTENERS_LOG_EVERY (60 * USEC_PER_SEC)

/*
 * evhttp makes itself its sockets' callback argument, so the accept
 * error hook finds its set in this list (one per worker).
 */
static struct listeners *all;

/* The sockets run while the server has room and descriptors are there. */
static void
update(struct listeners *ls)
{
	bool on = ls->room && !ls->fd_short;

	if (ls->accepting == on)
		return;
	ls->accepting = on;
	for (size_t i = 0; i < ls->n; i++) {
		if (on)
			evconnlistener_enable(ls->socks[i].lev);
		else
			evconnlistener_disable(ls->socks[i].lev);
	}
}

/*
 * accept() failed for a reason libevent does not retry.  Out of
 * descriptors, the listen socket stays readable and libevent would call
 * accept() again at once, forever: the sockets pause instead, until a
 * client leaves or LISTENERS_RETRY_MS passes (an upstream connection or
 * something else may free one).
 */
static void
listeners_on_accept_error(struct evconnlistener *lev, void *http)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, LISTENERS_RETRY_MS * 1000 };
	struct listeners *ls;

	(void)lev;
	for (ls = all; ls != NULL && ls->http != http; ls = ls->next)
		;
	if (ls == NULL)
		return;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warn("accept: %s", strerror(err));
		return;
	}
	(*ls->pauses)++;
	/* A shortage comes and goes with every client: say so once a minute. */
	if (ls->fd_logged_at == 0 ||
	    clock_now() - ls->fd_logged_at >= LISTENERS_LOG_EVERY) {
		log_warn("accept: %s: not accepting until a descriptor is free",
		    strerror(err));
		ls->fd_logged = true;
		ls->fd_logged_at = clock_now();
	}
	ls->fd_short = true;
	update(ls);
	evtimer_add(ls->fd_retry, &tv);
}

static void
listeners_on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	listeners_client_left(arg);
}

static int
bind_socket(struct listeners *ls, const struct config_listen *l,
    struct listen_socket *out)
{
	socklen_t len = sizeof(out->got);
	char host[INET6_ADDRSTRLEN];
	uint16_t port;

	out->lev = evconnlistener_new_bind(ls->base, NULL, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, (const struct sockaddr *)&l->addr, (int)l->addrlen);
	if (out->lev == NULL) {
		log_err("cannot listen on %s: %s", l->text, strerror(errno));
		return -1;
	}
	if ((out->bound = evhttp_bind_listener(ls->http, out->lev)) == NULL) {
		evconnlistener_free(out->lev);
		log_err("cannot listen on %s", l->text);
		return -1;
	}
	evconnlistener_set_error_cb(out->lev, listeners_on_accept_error);
	out->want = *l;
	/* Port 0 asks for any free port: say which one. */
	getsockname(evconnlistener_get_fd(out->lev),
	    (struct sockaddr *)&out->got, &len);
	if (out->got.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->got;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		log_notice("listening on %s:%u", host, port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->got;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		log_notice("listening on [%s]:%u", host, port);
	}
	return 0;
}

static bool
same_listen(const struct config_listen *a, const struct config_listen *b)
{
	return a->addrlen == b->addrlen &&
	    memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}

int
listeners_rebind(struct listeners *ls, const struct ferryd_config *cfg)
{
	struct listen_socket next[CONFIG_MAX_LISTEN], old[CONFIG_MAX_LISTEN];
	bool kept[CONFIG_MAX_LISTEN] = { false };
	const struct config_listen *want[CONFIG_MAX_LISTEN];
	size_t n = 0, n_old = ls->n, i, j;

	memcpy(old, ls->socks, n_old * sizeof(old[0]));
	for (i = 0; i < cfg->n_listen && i < CONFIG_MAX_LISTEN; i++) {
		want[i] = &cfg->listen[i];
		for (j = 0; j < n_old; j++)
			if (!kept[j] && same_listen(want[i], &old[j].want))
				break;
		if (j < n_old) {
			kept[j] = true;
			next[i] = old[j];
			want[i] = NULL;		/* nothing to bind */
		}
	}
	for (j = 0; j < n_old; j++)
		if (!kept[j])
			evhttp_del_accept_socket(ls->http, old[j].bound);
	for (n = 0; n < cfg->n_listen && n < CONFIG_MAX_LISTEN; n++) {
		if (want[n] == NULL)
			continue;
		if (bind_socket(ls, want[n], &next[n]) != 0)
			goto undo;
		if (!ls->accepting)
			evconnlistener_disable(next[n].lev);
	}
	for (j = 0; j < n_old; j++)
		if (!kept[j])
			log_notice("no longer listening on %s", old[j].want.text);
	memcpy(ls->socks, next, n * sizeof(next[0]));
	ls->n = n;
	return 0;

undo:
	for (i = 0; i < n; i++)
		if (want[i] != NULL)
			evhttp_del_accept_socket(ls->http, next[i].bound);
	/* The old set again: kept ones are still open, dropped ones rebound. */
	for (i = j = 0; j < n_old; j++) {
		if (!kept[j] && bind_socket(ls, &old[j].want, &old[j]) != 0) {
			log_err("%s stays closed", old[j].want.text);
			continue;
		}
		if (!kept[j] && !ls->accepting)
			evconnlistener_disable(old[j].lev);
		ls->socks[i++] = old[j];
	}
	ls->n = i;
	return -1;
}

int
listeners_open(struct listeners *ls, struct event_base *base,
    struct evhttp *http, const struct ferryd_config *cfg, uint64_t *pauses)
{
	ls->base = base;
	ls->http = http;
	ls->pauses = pauses;
	ls->room = ls->accepting = true;
	ls->next = all;
	all = ls;
	if ((ls->fd_retry = evtimer_new(base, listeners_on_retry, ls)) == NULL) {
		log_err("out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_listen && i < CONFIG_MAX_LISTEN; i++) {
		if (bind_socket(ls, &cfg->listen[i], &ls->socks[ls->n]) != 0)
			return -1;
		ls->n++;
	}
	return 0;
}

void
listeners_set_room(struct listeners *ls, bool room)
{
	ls->room = room;
	update(ls);
}

void
listeners_client_came(struct listeners *ls)
{
	if (ls->fd_logged) {
		log_notice("accepting clients again");
		ls->fd_logged = false;
	}
}

void
listeners_client_left(struct listeners *ls)
{
	ls->fd_short = false;
	update(ls);
}

size_t
listeners_addrs(const struct listeners *ls, struct sockaddr_storage *out,
    size_t max)
{
	size_t i;

	for (i = 0; i < ls->n && i < max; i++)
		out[i] = ls->socks[i].got;
	return i;
}

void
listeners_close(struct listeners *ls)
{
	struct listeners **p;

	ls->n = 0;
	if (ls->fd_retry != NULL)
		event_free(ls->fd_retry);
	ls->fd_retry = NULL;
	for (p = &all; *p != NULL; p = &(*p)->next)
		if (*p == ls) {
			*p = ls->next;
			break;
		}
}
