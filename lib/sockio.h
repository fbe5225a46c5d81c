/*
 * sockio.h - reading a socket into an evbuffer in large pieces.
 * libevent 2.1 reads at most 4 KiB per read(2) (EVBUFFER_MAX_READ), which
 * costs a system call and a loop turn per 4 KiB of a download; the owners
 * of a descriptor (upstream.c, client.c) read on with this when they know
 * more is wanted.  No state: the caller owns fd and buf.
 */
#ifndef FERRYD_SOCKIO_H
#define FERRYD_SOCKIO_H

#include <stddef.h>
#include <sys/types.h>

struct evbuffer;

struct bufferevent;

/*
 * Takes every timeout off a socket bufferevent.  Clearing them is not
 * enough: libevent 2.1 re-arms a persistent event with the last timeout
 * it was added with after every activation (event_persist_closure), so a
 * cleared connect or idle timeout would still fire; setting the
 * descriptor again re-assigns the events, which forgets it.
 */
void sockio_clear_timeouts(struct bufferevent *bev);

/*
 * Reads up to max bytes from fd into buf without blocking.  Returns the
 * bytes read, 0 when none were waiting, or -1 at EOF (errno 0) or on an
 * error (errno set).
 */
ssize_t sockio_read(int fd, struct evbuffer *buf, size_t max);

/*
 * Turns Nagle's algorithm off on a TCP socket (a no-op on others).  A
 * proxy writes a response in pieces as they arrive; with Nagle, a short
 * piece waits for the ACK of the previous one, which a delayed-ACK peer
 * holds back for 40 ms: every response of 16 KiB or more took 40 ms.
 */
void sockio_nodelay(int fd);
void sockio_quickack(int fd);

#endif
