#!/bin/sh
# 15-origin-close.sh - an origin that closes idle connections never shows
# through to clients.  The idle watch evicts a connection as soon as its
# origin closes it; the race it cannot see (the origin closes just as the
# next request arrives, ?drop-next) is covered by one retry, only for the
# idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE).  POST and
# PATCH are never sent twice, with a body or without (pool.md, "Retry"):
# sent on a connection that was idle only briefly and peeked clean, which
# the origin then drops, they get 502.
. "$TESTS_DIR/integration/lib.sh"

CBO='ferryd_upstream_evictions_total{reason="closed_by_origin"}'
RETRIES=ferryd_upstream_retries_total
OPENED=ferryd_upstream_connections_opened_total

# --- An origin with a 0.3 s keep-alive; requests 0.5 s apart (the idle
# watch has 0.2 s to see each close before the next request).
start_origin -i 0.3
O="http://127.0.0.1:$ORIGIN_PORT"
start_ferryd

i=0
while [ "$i" -lt 10 ]; do
	[ "$i" -eq 0 ] || sleep 0.5
	px -o /dev/null -w '%{http_code}\n' "$O/size/10" >> "$T/spaced" || true
	i=$((i + 1))
done
cbo_is() { [ "$(metric "$CBO")" = "$1" ]; }
check_eq "10 spaced requests all answered 200" 10 "$(grep -c '^200$' "$T/spaced")"
check_eq "no client saw an error" 0 "$(grep -vc '^200$' "$T/spaced" || true)"
check "the idle watch noticed every origin close (closed_by_origin = 10)" \
    wait_for 3 cbo_is 10
check_eq "each request needed a new connection" 10 "$(origin_stat accepted)"
check_le "evictions{reason=closed_by_origin} >= 1" 1 "$(metric "$CBO")"
check_eq "no retry was needed" 0 "$(metric "$RETRIES")"
check_eq "the origin accepted as many connections as ferryd opened" \
    "$(origin_stat accepted)" "$(metric "$OPENED")"
check_eq "ferryd holds nothing the origin closed" 0 \
    "$(metric 'ferryd_upstream_connections{state="idle"}')"

# --- The race the idle watch cannot see: the origin closes a reused
# connection when the next request head arrives.  A fresh origin without
# an idle timeout, so only ?drop-next closes.
start_origin
O="http://127.0.0.1:$ORIGIN_PORT"
a0=$(metric "$OPENED")
r0=$(metric "$RETRIES")
A0=$(origin_stat accepted)	# 0: a new origin

# arm: a request whose connection the origin drops on the next request.
arm() {
	px -o /dev/null -w '%{http_code}' "$O/size/5?drop-next"
}

check_eq "GET ?drop-next answered" 200 "$(arm)"
out=$(px -w ' %{http_code} %header{x-origin-conn}' "$O/size/5")
check_eq "GET on the dropped connection is retried: 200 on connection 2" \
    "abcde 200 2" "$out"
check_eq "ferryd_upstream_retries_total = 1" $((r0 + 1)) "$(metric "$RETRIES")"

# not_retried DESCRIPTION CURL_ARGS...: a request on the connection the
# origin drops gets 502; no retry, and the origin got it exactly once.
not_retried() {
	d=$1
	shift
	q0=$(origin_stat requests)
	check_eq "$d on the dropped connection: 502, not retried" 502 \
	    "$(px -o /dev/null -w '%{http_code}' "$@")"
	check_eq "$d: ferryd_upstream_retries_total unchanged" "$r1" \
	    "$(metric "$RETRIES")"
	check_eq "$d: the origin received it exactly once" $((q0 + 1)) \
	    "$(origin_stat requests)"
}

check_eq "GET ?drop-next answered (connection 2)" 200 "$(arm)"
r1=$((r0 + 1))
not_retried "POST with a body" -d 'hello' "$O/echo"

check_eq "GET ?drop-next answered (connection 3)" 200 "$(arm)"
check_eq "PUT with a body on the dropped connection is retried: 200" \
    "200 4" "$(px -o "$T/put" -w '%{http_code} %header{x-origin-conn}' \
    -X PUT -d 'hello' "$O/echo")"
# /echo returns the request as the origin got it: the body once, whole.
check_eq "the retried PUT carried its whole body" "PUT /echo HTTP/1.1 hello" \
    "$(tr -d '\r' < "$T/put" | awk 'NR == 1 { l = $0 } END { print l, $0 }')"
check_eq "the PUT was retried once" $((r0 + 2)) "$(metric "$RETRIES")"

# A POST or PATCH without a body is no safer to send twice.
r1=$((r0 + 2))
check_eq "GET ?drop-next answered (connection 4)" 200 "$(arm)"
not_retried "POST without a body" -X POST "$O/size/3"
check_eq "GET ?drop-next answered (connection 5)" 200 "$(arm)"
not_retried "PATCH without a body" -X PATCH "$O/size/3"

check_eq "the origin accepted as many connections as ferryd opened" \
    "$(origin_stat accepted)" $(( $(metric "$OPENED") - a0 + A0 ))
check_eq "a GET after the failures opens connection 6" "200 6" \
    "$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/5")"
check_eq "and the next one reuses it" "200 6" \
    "$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/5")"
check_eq "the origin accepted as many connections as ferryd opened, still" \
    "$(origin_stat accepted)" $(( $(metric "$OPENED") - a0 + A0 ))

# A body streamed out beyond what ferryd keeps for a retry (64 KiB) is
# never sent twice, PUT or not: it is no longer all in ferryd.
head -c 1048576 /dev/zero >"$T/1m"
r1=$(metric "$RETRIES")
check_eq "GET ?drop-next answered (connection 6)" 200 "$(arm)"
not_retried "PUT with a 1 MiB streamed body" -X PUT -H 'Expect:' \
    --data-binary @"$T/1m" "$O/echo"
check_eq "no leak" 0 "$(metric ferryd_upstream_leaks_total)"

check "clean exit" stop_ferryd
finish
