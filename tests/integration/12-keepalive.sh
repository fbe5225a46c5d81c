#!/bin/sh
# 12-keepalive.sh - an idle connection is closed when it has been idle for
# pool.keepalive, not before and not much later: the pool's timer sleeps
# until the deadline.  A reuse restarts the idle clock.
. "$TESTS_DIR/integration/lib.sh"

# The expected delay is 1000 ms; a sanitizer build is slower to wake up.
if [ "${SANITIZERS:-no}" = yes ]; then TOL=1000; else TOL=500; fi

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# evicted_after T0: polls the origin every 50 ms until it has no open
# connection (at most 5 s); prints the milliseconds since T0, or "never".
evicted_after() {
	end=$(( $1 + 5000 ))
	while [ "$(origin_stat open)" != 0 ]; do
		if [ "$(now_ms)" -ge "$end" ]; then
			echo never
			return
		fi
		sleep 0.05
	done
	echo $(( $(now_ms) - $1 ))
}

# delay_ok MS: within 1000 ms +- TOL.
delay_ok() {
	[ "$1" != never ] && [ "$1" -ge $((1000 - TOL)) ] &&
	    [ "$1" -le $((1000 + TOL)) ]
}

start_origin
start_ferryd pool.keepalive=1
O="http://127.0.0.1:$ORIGIN_PORT"
KA='ferryd_upstream_evictions_total{reason="keepalive"}'

c1=$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/10")
t0=$(now_ms)
check_eq "first request answered over origin connection 1" "200 1" "$c1"
check_eq "the connection is idle in the pool" 1 \
    "$(metric 'ferryd_upstream_connections{state="idle"}')"
d1=$(evicted_after "$t0")
echo "# keepalive eviction after ${d1} ms (keepalive 1 s)"
check "idle connection closed 1 s +- ${TOL} ms after the request (${d1} ms)" \
    delay_ok "$d1"
check_eq "evictions{reason=keepalive} = 1" 1 "$(metric "$KA")"
check_eq "the pool is empty" 0 \
    "$(metric 'ferryd_upstream_connections{state="idle"}')"

# A reuse at 0.6 s restarts the idle clock: the connection lives until
# 1 s after the second request, 1.6 s after the first.
c2=$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/10")
check_eq "next request opens origin connection 2" "200 2" "$c2"
sleep 0.6
c3=$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$O/size/10")
t1=$(now_ms)
check_eq "a request 0.6 s later reuses it" "200 2" "$c3"
d2=$(evicted_after "$t1")
echo "# keepalive eviction after reuse: ${d2} ms after the last request"
check "reused connection closed 1 s +- ${TOL} ms after its last request (${d2} ms)" \
    delay_ok "$d2"
check_eq "evictions{reason=keepalive} = 2" 2 "$(metric "$KA")"
check_eq "ferryd_upstream_connections_opened_total matches the origin" \
    "$(origin_stat accepted)" "$(metric ferryd_upstream_connections_opened_total)"
check_eq "no other eviction" 2 \
    "$(curl -s "$PROXY/metrics" | awk '/^ferryd_upstream_evictions_total/ { n += $2 } END { print n + 0 }')"

check "clean exit" stop_ferryd
finish
