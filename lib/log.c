/*
 * log.c - syslog, and stderr in the foreground.  See log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static int log_max_level = LOG_INFO;
static int log_foreground;
static log_hook_fn log_hook;
static void *log_hook_arg;

static const struct {
	const char *name;
	int value;
} log_levels[] = {
	{ "err", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

static const struct {
	const char *name;
	int value;
} log_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

void
log_open(int facility, int max_level, int foreground)
{
	log_max_level = max_level;
	log_foreground = foreground;
	openlog("ferryd", LOG_PID | LOG_NDELAY, facility);
}

bool
log_debug_on(void)
{
	return log_max_level >= LOG_DEBUG;
}

void
log_set_level(int max_level)
{
	log_max_level = max_level;
}

void
log_close(void)
{
	closelog();
}

int
log_level_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].value;
	return -1;
}

int
log_facility_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
		if (strcasecmp(name, log_facilities[i].name) == 0)
			return log_facilities[i].value;
	return -1;
}

void
log_set_hook(log_hook_fn hook, void *arg)
{
	log_hook = hook;
	log_hook_arg = arg;
}

static const char *
level_prefix(int level)
{
	switch (level) {
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

static void __attribute__((format(printf, 2, 0)))
log_vwrite(int level, const char *fmt, va_list ap)
{
	char msg[2048];

	if (level > log_max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_hook != NULL)
		log_hook(level, msg, log_hook_arg);
	syslog(level, "%s", msg);
	if (log_foreground)
		fprintf(stderr, "ferryd: %s%s\n", level_prefix(level), msg);
}

#define LOG_FN(fn, level)				\
	void						\
	fn(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		va_start(ap, fmt);			\
		log_vwrite(level, fmt, ap);		\
		va_end(ap);				\
	}

LOG_FN(log_err, LOG_ERR)
LOG_FN(log_warn, LOG_WARNING)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
