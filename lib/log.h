/*
 * log.h - the one place ferryd writes diagnostics.
 *
 * Every message goes to syslog (ident "ferryd"); with log_open(..., 1) it is
 * also written to stderr, which is what -f and the tests use.  Nothing else
 * in ferryd writes to stderr.
 */
#ifndef FERRYD_LOG_H
#define FERRYD_LOG_H

#include <stdbool.h>
#include <syslog.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Opens syslog with the given facility; messages above max_level are dropped. */
void log_open(int facility, int max_level, int foreground);
/* Changes the level at run time (a reload). */
void log_set_level(int max_level);
void log_close(void);
/* True when debug messages pass: formatting one costs on every request. */
bool log_debug_on(void);

/* Level names as in the ini file: "err", "warning", "notice", "info", "debug". */
int log_level_from_name(const char *name);
int log_facility_from_name(const char *name);

void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Logs at LOG_ERR and exits with status 1. */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/* Tests capture what would be logged: the hook sees every message that passes the level. */
typedef void (*log_hook_fn)(int level, const char *msg, void *arg);
void log_set_hook(log_hook_fn hook, void *arg);

#endif
