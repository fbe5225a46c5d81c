/*
 * notify.h - the systemd service notification protocol (sd_notify(3)),
 * by hand: one datagram of "KEY=VALUE" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 * Written here rather than linked from libsystemd: it is one sendmsg(),
 * and ferryd then runs the same without systemd installed.  Without
 * $NOTIFY_SOCKET every call does nothing.
 *
 * Owner: the daemon (main.c), one for the process.
 */
#ifndef FERRYD_NOTIFY_H
#define FERRYD_NOTIFY_H

#include <stdint.h>

struct notify;

/*
 * Reads $NOTIFY_SOCKET (and unsets it, so that nothing ferryd starts
 * inherits it).  NULL when it is not set, or when out of memory or
 * malformed (logged): every notify_*() takes a NULL.
 */
struct notify *notify_open(void);
void notify_close(struct notify *n);

/* Sends text, "KEY=VALUE" lines; 0, or -1 (logged once). */
int notify_send(struct notify *n, const char *text);

/* READY=1: listening, or done reloading. */
int notify_ready(struct notify *n);
/* RELOADING=1 with MONOTONIC_USEC (now, CLOCK_MONOTONIC). */
int notify_reloading(struct notify *n, int64_t monotonic_usec);
/* STOPPING=1. */
int notify_stopping(struct notify *n);
/* STATUS= one line (what "systemctl status" shows). */
int notify_status(struct notify *n, const char *status);

#endif
