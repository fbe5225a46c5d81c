/*
 * main.c - ferryd's entry point: options, configuration, logging, signals,
 * the server, the event loop.  Everything else lives in lib/.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "notify.h"
#include "server.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define DEFAULT_CONFIG SYSCONFDIR "/ferryd/ferryd.ini"

/* How often "systemctl status" gets a new pool summary (usec). */
#define STATUS_EVERY (10 * 1000 * 1000)

struct daemon {
	struct event_base *base;
	struct server *srv;
	struct ferryd_config *cfg;
	struct notify *notify;		/* NULL: not under systemd */
	struct event *status_ev;
	int foreground;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: ferryd [-c FILE] [-f] [-t] [-V] [-h]\n"
	    "  -c FILE   configuration file (default: %s)\n"
	    "  -f        stay in the foreground, log to stderr as well as syslog\n"
	    "  -t        check the configuration file and exit\n"
	    "  -V        print the version and exit\n"
	    "  -h        this help\n", DEFAULT_CONFIG);
}

/* Logs each line of a config_load() error text. */
static void
log_errors(char *errors)
{
	char *line, *save = NULL;

	for (line = strtok_r(errors, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		log_err("%s", line);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct ferryd_config *cfg;
	char *errors = NULL;

	if (sig != SIGHUP) {
		log_notice("signal %d: shutting down", (int)sig);
		notify_stopping(d->notify);
		if (d->status_ev != NULL)
			event_del(d->status_ev);
		server_shutdown(d->srv);
		return;
	}
	notify_reloading(d->notify, clock_now());
	if ((cfg = config_load(d->cfg->path, &errors)) == NULL) {
		log_err("reload failed; the old configuration stays:");
		log_errors(errors);
		free(errors);
	} else if (server_reload(d->srv, cfg) != 0) {
		log_err("reload failed; the old configuration stays");
		config_free(cfg);
	} else {
		config_free(d->cfg);
		d->cfg = cfg;
	}
	/* Serving all along, with the old configuration or the new. */
	notify_ready(d->notify);
}

/* One line with what an operator checks first: version, sockets, pool. */
static void
log_start(const struct daemon *d)
{
	const struct ferryd_config *cfg = d->cfg;
	char listen[CONFIG_MAX_LISTEN * 66] = "";
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_listen && n < sizeof(listen); i++)
		n += (size_t)snprintf(listen + n, sizeof(listen) - n, "%s%s",
		    i > 0 ? " " : "", cfg->listen[i].text);
	log_notice("ferryd %s started: listen %s; pool max_idle %d (%d per "
	    "address), keepalive %.0f s, max_requests_per_connection %ld",
	    PACKAGE_VERSION, listen, cfg->max_idle, cfg->max_idle_per_address,
	    (double)cfg->keepalive / 1e6, cfg->max_requests_per_connection);
}

static void
on_status(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char line[256];

	server_status(d->srv, line, sizeof(line));
	notify_status(d->notify, line);
}

int
main(int argc, char **argv)
{
	struct daemon d = { 0 };
	const char *path = DEFAULT_CONFIG;
	struct event *sigs[3];
	const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	char *errors = NULL;
	int ch, check = 0;

	while ((ch = getopt(argc, argv, "c:ftVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			d.foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("ferryd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}

	/* Until the configuration says otherwise, errors go to stderr too. */
	log_open(LOG_DAEMON, LOG_INFO, 1);
	d.cfg = config_load(path, &errors);
	if (check) {
		if (d.cfg == NULL) {
			fputs(errors, stdout);
			free(errors);
			return 1;
		}
		printf("configuration OK\n");
		config_free(d.cfg);
		return 0;
	}
	if (d.cfg == NULL) {
		log_errors(errors);
		free(errors);
		return 1;
	}
	log_close();
	log_open(d.cfg->syslog_facility, d.cfg->log_level, d.foreground);

	/*
	 * Bodies stream through 256 KiB evbuffer chains that are freed as soon
	 * as they are written.  With glibc's default thresholds every such free
	 * gives pages back to the kernel and the next read faults them in again
	 * (measured: 1 GiB through one connection at 130-280 MB/s, mostly page
	 * faults).  Keep freed memory for reuse instead.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	/*
	 * libevent's events and evbuffers (~140 B) come and go eight per
	 * request, more than the tcache keeps: the largest fast bins (the
	 * maximum, 160 B) take the rest without the small-bin work.
	 */
	mallopt(M_MXFAST, 160);
	/*
	 * glibc's calloc() skips its per-thread cache and takes the arena
	 * path every time, and libevent callocs about 17 objects per proxied
	 * request.  Given malloc, libevent zeroes them itself.  These are the
	 * functions libevent uses by default, so what it allocated before
	 * this line is freed the same way.
	 */
	event_set_mem_functions(malloc, realloc, free);
	signal(SIGPIPE, SIG_IGN);
	if ((d.base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	if ((d.srv = server_new(d.base, d.cfg)) == NULL) {
		event_base_free(d.base);
		config_free(d.cfg);
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0)
			fatal("cannot watch signal %d", signums[i]);
	}
	log_start(&d);
	if ((d.notify = notify_open()) != NULL) {
		struct timeval every = clock_to_timeval(STATUS_EVERY);

		notify_ready(d.notify);
		on_status(-1, 0, &d);
		if ((d.status_ev = event_new(d.base, -1, EV_PERSIST, on_status,
		    &d)) != NULL)
			event_add(d.status_ev, &every);
	}

	event_base_dispatch(d.base);

	if (d.status_ev != NULL)
		event_free(d.status_ev);
	notify_close(d.notify);
	server_free(d.srv);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_base_free(d.base);
	config_free(d.cfg);
	log_notice("ferryd stopped");
	log_close();
	return 0;
}
