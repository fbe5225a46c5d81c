/*
 * fuzz_target.c - libFuzzer harness for request-target parsing
 * (lib/target.c): every form, as a proxy request, a CONNECT and an
 * OPTIONS.  A target that parses must describe itself consistently: a
 * non-empty host, no byte in it that ends a line or hides userinfo, a
 * path that starts with "/" (or is "*"), a port given only with its digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *uri, bool is_connect, bool is_options)
{
	struct target t;
	const char *why = NULL;

	memset(&t, 0, sizeof(t));
	if (target_parse(&t, uri, is_connect, is_options, &why) != 0) {
		if (why == NULL || *why == '\0')
			abort();	/* a refusal without a reason */
		target_clear(&t);
		return;
	}
	if (t.form == TARGET_ABSOLUTE || t.form == TARGET_AUTHORITY) {
		if (t.host[0] == '\0' || strpbrk(t.host, "\r\n\t /@") != NULL)
			abort();
		if (strlen(t.host) >= sizeof(t.host))
			abort();
	}
	if (t.form == TARGET_ABSOLUTE && t.path != NULL &&
	    t.path[0] != '/' && strcmp(t.path, "*") != 0)
		abort();
	if (t.path != NULL && strpbrk(t.path, "\r\n") != NULL)
		abort();
	target_clear(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri;

	if (size > 65536 || (uri = malloc(size + 1)) == NULL)
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';
	check(uri, false, false);
	check(uri, true, false);
	check(uri, false, true);
	free(uri);
	return 0;
}
