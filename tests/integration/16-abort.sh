#!/bin/sh
# 16-abort.sh - a client that goes away mid-exchange takes its upstream
# connection down with it: nothing stays allocated (in_use back to 0, no
# leak), the half-used connection is closed rather than pooled, and the
# next request works.
. "$TESTS_DIR/integration/lib.sh"

INUSE='ferryd_upstream_connections{state="in_use"}'
IDLE='ferryd_upstream_connections{state="idle"}'

inuse_is() { [ "$(metric "$INUSE")" = "$1" ]; }
open_is() { [ "$(origin_stat open)" = "$1" ]; }
no_leak_logged() { ! grep -q "was leaked" "$T/ferryd.log"; }

start_origin
O="http://127.0.0.1:$ORIGIN_PORT"
# Leaks are found by the cleanup pass, which runs at least once per
# keepalive while the pool holds a connection: keep it short so that a
# pass runs before the leak checks below.
start_ferryd pool.keepalive=1

# One pooled connection first, so that the abort is on a reused one.
check_eq "warm-up request" "200 1" \
    "$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/10")"

# --- Abort while the body streams: 20 MB at 50 kB/s, given up after 1 s.
rc=0
px -o /dev/null --max-time 1 --limit-rate 50k "$O/big/20000000" || rc=$?
check_eq "curl gave up mid-body (exit 28)" 28 "$rc"
check "in_use back to 0 after the streaming abort" wait_for 3 inuse_is 0
check_eq "the aborted connection was not pooled" 0 "$(metric "$IDLE")"
check "the origin saw it closed" wait_for 3 open_is 0
check_eq "no leak counted" 0 "$(metric ferryd_upstream_leaks_total)"
out=$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/10")
check_eq "next request works" 200 "${out% *}"
check_eq "next request came on a new connection" 2 "${out#* }"

# --- Abort while waiting for the response head (the origin waits 2 s).
t0=$(( $(date +%s%N) / 1000000 ))
rc=0
px -o /dev/null --max-time 0.5 "$O/size/10?delay=2000" || rc=$?
check_eq "curl gave up waiting (exit 28)" 28 "$rc"
# Well before the origin would have answered (2 s after the request).
check "in_use back to 0 within 1 s of the abort" wait_for 1 inuse_is 0
check "the origin saw the waiting connection closed" wait_for 1 open_is 0
echo "# waiting abort cleaned up $(( $(date +%s%N) / 1000000 - t0 )) ms after the request"
check_eq "the aborted connection was not pooled" 0 "$(metric "$IDLE")"
out=$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/10")
check_eq "next request works" 200 "${out% *}"
check_eq "next request came on a new connection" 3 "${out#* }"

# --- Both kinds at once: one takes the idle connection, one a new one;
# both must be closed.
px -o /dev/null --max-time 1 --limit-rate 50k "$O/big/20000000" &
p1=$!
px -o /dev/null --max-time 0.5 "$O/size/10?delay=2000" &
p2=$!
wait "$p1" || true
wait "$p2" || true
check "in_use back to 0 soon after two aborts at once" wait_for 1 inuse_is 0
check "the origin saw both connections closed" wait_for 1 open_is 0
check_eq "nothing pooled" 0 "$(metric "$IDLE")"

sleep 1.2	# at least one cleanup pass since the aborts
check_eq "no leak counted" 0 "$(metric ferryd_upstream_leaks_total)"
check_eq "no evictions{reason=leaked}" 0 \
    "$(metric 'ferryd_upstream_evictions_total{reason="leaked"}')"
check "no \"was leaked\" line in the log" no_leak_logged
check_eq "a request after all that works" 200 \
    "$(px -o /dev/null -w '%{http_code}' "$O/size/10")"
check_eq "opened_total matches the origin" "$(origin_stat accepted)" \
    "$(metric ferryd_upstream_connections_opened_total)"

check "clean exit" stop_ferryd
check "no \"was leaked\" line in the log after shutdown" no_leak_logged
finish
