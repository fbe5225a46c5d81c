/*
 * clock.c - monotonic and wall clocks in microseconds.  See clock.h.
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"

static int64_t
read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
clock_now(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

int64_t
clock_wall(void)
{
	return read_clock(CLOCK_REALTIME);
}

void
clock_format_iso(int64_t wall_usec, char *buf, size_t len)
{
	time_t secs = (time_t)(wall_usec / USEC_PER_SEC);
	struct tm tm;
	char date[32];

	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", date,
	    (int)(wall_usec % USEC_PER_SEC / 1000));
}

struct timeval
clock_to_timeval(int64_t usec)
{
	struct timeval tv;

	if (usec < 0)
		usec = 0;
	tv.tv_sec = (time_t)(usec / USEC_PER_SEC);
	tv.tv_usec = (suseconds_t)(usec % USEC_PER_SEC);
	return tv;
}
