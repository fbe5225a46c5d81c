/*
 * sockio.c - large socket reads into an evbuffer.  See sockio.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "sockio.h"

void
sockio_clear_timeouts(struct bufferevent *bev)
{
	bufferevent_set_timeouts(bev, NULL, NULL);
	if (bufferevent_getfd(bev) >= 0)
		bufferevent_setfd(bev, bufferevent_getfd(bev));
}

ssize_t
sockio_read(int fd, struct evbuffer *in, size_t max)
{
	struct evbuffer_iovec vec[2];
	struct iovec iov[2];
	int n, i;
	ssize_t got;

	if (max == 0)
		return 0;
	if ((n = evbuffer_reserve_space(in, (ev_ssize_t)max, vec, 2)) <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = vec[i].iov_base;
		iov[i].iov_len = vec[i].iov_len;
	}
	/* The reservation may be larger than asked: never read past max. */
	if (iov[0].iov_len >= max) {
		iov[0].iov_len = max;
		n = 1;
	} else if (n == 2 && iov[0].iov_len + iov[1].iov_len > max)
		iov[1].iov_len = max - iov[0].iov_len;
	got = readv(fd, iov, n);
	if (got <= 0) {
		evbuffer_commit_space(in, vec, 0);
		if (got == 0) {
			errno = 0;
			return -1;
		}
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	}
	for (i = 0; i < n; i++) {
		size_t take = (size_t)got < iov[i].iov_len ? (size_t)got :
		    iov[i].iov_len;
		vec[i].iov_len = take;
		got -= (ssize_t)take;
	}
	evbuffer_commit_space(in, vec, n);
	return (ssize_t)(vec[0].iov_len + (n == 2 ? vec[1].iov_len : 0));
}

void
sockio_nodelay(int fd)
{
	int one = 1;

	/* ENOTSUP/EOPNOTSUPP on a non-TCP socket: nothing to turn off. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void
sockio_quickack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}
