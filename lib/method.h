/*
 * method.h - request methods as evhttp 2.1.12 reports them: the nine it
 * parses by name (EVHTTP_REQ_*; any other comes as "unknown", its name
 * kept by the scanner), their names, and which may be sent twice.
 * Pure functions; no state.
 */
#ifndef FERRYD_METHOD_H
#define FERRYD_METHOD_H

#include <stdbool.h>

/* True for the methods evhttp 2.1.12 parses by name (EVHTTP_REQ_*). */
bool method_known(int type);

/* "GET" for EVHTTP_REQ_GET, and so on ("-" for an unknown type). */
const char *method_name(int type);

/*
 * RFC 9110 section 9.2.2: safe to send twice.  An extension method is
 * not: nothing says what it does.
 */
bool method_idempotent(int type);

#endif
