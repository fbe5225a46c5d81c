/*
 * clock.h - the daemon's two clocks.  Only event-loop glue calls these; the
 * pool and everything it decides take "now" as a parameter (fake clocks in
 * the unit tests).  Times are microseconds in an int64_t.
 */
#ifndef FERRYD_CLOCK_H
#define FERRYD_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

#define USEC_PER_SEC INT64_C(1000000)

/* Monotonic time: for deadlines and durations. */
int64_t clock_now(void);
/* Wall-clock time: only for what people read (logs, the leak warning). */
int64_t clock_wall(void);
/* Formats a wall-clock time as ISO 8601 UTC with milliseconds. */
void clock_format_iso(int64_t wall_usec, char *buf, size_t len);
/* Converts a duration to a struct timeval for libevent. */
struct timeval clock_to_timeval(int64_t usec);

#endif
