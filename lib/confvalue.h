/*
 * confvalue.h - how config.c turns the text of one value into its field:
 * the kinds of key, the table entry that describes one, and why a value
 * was refused.  Private to config.c and confvalue.c.
 *
 * Owner: nothing here allocates but the fields it fills (paths and host
 * lists), which belong to the struct ferryd_config they are in and go
 * with config_free().
 */
#ifndef FERRYD_CONFVALUE_H
#define FERRYD_CONFVALUE_H

#include <stddef.h>
#include <stdint.h>

struct ferryd_config;

#define TOKEN_MAX	256			/* one word of a list value */
#define MAX_SECONDS	INT64_C(31536000)	/* one year: longer is a typo */

/* How the text of a value is turned into its field. */
enum kind {
	KIND_DURATION,		/* int64_t microseconds, from seconds */
	KIND_SIZE,		/* size_t bytes, optional k/m/g */
	KIND_INT,		/* int */
	KIND_LONG,		/* long */
	KIND_BOOL,		/* bool */
	KIND_LISTEN,		/* listen[], n_listen */
	KIND_ACL,		/* struct acl */
	KIND_PORTS,		/* connect_ports[], n_connect_ports, any_port */
	KIND_HOSTS,		/* char **, NULL-terminated */
	KIND_TOKENS,		/* char **, NULL-terminated, lower case */
	KIND_PATH,		/* char *, NULL when empty */
	KIND_FACILITY,		/* int, LOG_DAEMON ... */
	KIND_LEVEL,		/* int, LOG_ERR ... LOG_DEBUG */
};

/* One key of the file: where it lives, its field, the range it allows. */
struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t offset;		/* of the field in struct ferryd_config */
	int64_t min, max;	/* numbers; durations in microseconds */
	const char *why_min;	/* said after "must be greater than 0" */
};

/* Why a value was refused: the word at fault (empty: the whole value). */
struct problem {
	char token[TOKEN_MAX];
	char why[256];
};

/*
 * Parses value for key k into its field of cfg.  0; or -1, the field
 * unchanged and pb saying why.
 */
int confvalue_apply(struct ferryd_config *cfg, const struct key *k,
    const char *value, struct problem *pb);

/* Frees a NULL-terminated list of strings (KIND_HOSTS); NULL is allowed. */
void confvalue_free_strings(char **v);

#endif
