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
	/* Floor, not truncation: before 1970 the fraction must stay positive. */
	int64_t rem = wall_usec % USEC_PER_SEC;
	time_t secs = (time_t)(wall_usec / USEC_PER_SEC - (rem < 0));
	struct tm tm;
	char date[32];

	if (rem < 0)
		rem += USEC_PER_SEC;
	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", date, (int)(rem / 1000));
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
