/*
 * notify.c - sd_notify(3) by hand.  See notify.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

struct notify {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	bool failed;			/* a send failed: logged once */
};

struct notify *
notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct notify *n;
	size_t len;

	if (path == NULL || *path == '\0')
		return NULL;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    len >= sizeof(n->addr.sun_path)) {
		log_warn("NOTIFY_SOCKET=%s: not a socket path; no notifications",
		    path);
		unsetenv("NOTIFY_SOCKET");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		log_warn("NOTIFY_SOCKET: %s; no notifications", strerror(errno));
		free(n);
		unsetenv("NOTIFY_SOCKET");
		return NULL;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	/* "@name": the abstract namespace, whose names begin with a NUL. */
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0';
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	unsetenv("NOTIFY_SOCKET");
	return n;
}

void
notify_close(struct notify *n)
{
	if (n == NULL)
		return;
	close(n->fd);
	free(n);
}

int
notify_send(struct notify *n, const char *text)
{
	if (n == NULL)
		return 0;
	/*
	 * Never wait: a receiver that does not read fills its queue after
	 * ten datagrams, and a blocking send would stop the event loop.
	 */
	if (sendto(n->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&n->addr, n->addrlen) >= 0) {
		n->failed = false;
		return 0;
	}
	if (!n->failed)
		log_warn("cannot notify systemd: %s", strerror(errno));
	n->failed = true;
	return -1;
}

int
notify_ready(struct notify *n)
{
	return notify_send(n, "READY=1");
}

int
notify_reloading(struct notify *n, int64_t monotonic_usec)
{
	char text[64];

	snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%" PRId64,
	    monotonic_usec);
	return notify_send(n, text);
}

int
notify_stopping(struct notify *n)
{
	return notify_send(n, "STOPPING=1");
}

int
notify_status(struct notify *n, const char *status)
{
	char text[512];

	snprintf(text, sizeof(text), "STATUS=%s", status);
	/* One line: a newline would start another assignment. */
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	return notify_send(n, text);
}
