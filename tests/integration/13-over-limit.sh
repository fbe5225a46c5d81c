#!/bin/sh
# 13-over-limit.sh - more idle connections than pool.max_idle (or
# max_idle_per_address) are closed down to the limit: at once with
# idle_grace = 0 (OkHttp's rule), after the grace otherwise.
. "$TESTS_DIR/integration/lib.sh"

if [ "${SANITIZERS:-no}" = yes ]; then TOL=1000; else TOL=500; fi
OVER='ferryd_upstream_evictions_total{reason="over_limit"}'
IDLE='ferryd_upstream_connections{state="idle"}'
INUSE='ferryd_upstream_connections{state="in_use"}'

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# burst N: N parallel slow one-shot requests; prints how many answered 200.
burst() {
	j=0
	pids=""
	rm -f "$T"/burst.*
	while [ "$j" -lt "$1" ]; do
		px -o /dev/null -w '%{http_code}\n' \
		    "$O/size/10?delay=300" > "$T/burst.$j" &
		pids="$pids $!"
		j=$((j + 1))
	done
	for p in $pids; do
		wait "$p" || true
	done
	cat "$T"/burst.* | grep -c '^200$' || true
}

open_is() { [ "$(origin_stat open)" = "$1" ]; }

# about_1s MS: within 1000 ms +- TOL.
about_1s() {
	[ "$1" != never ] && [ "$1" -ge $((1000 - TOL)) ] &&
	    [ "$1" -le $((1000 + TOL)) ]
}

# --- max_idle = 2, idle_grace = 0: the extra connections go at once.
start_origin
start_ferryd pool.max_idle=2 pool.idle_grace=0
O="http://127.0.0.1:$ORIGIN_PORT"
check_eq "grace 0: 6 parallel requests answered 200" 6 "$(burst 6)"
check_eq "grace 0: they needed 6 upstream connections" 6 "$(origin_stat accepted)"
check "grace 0: the origin is left with 2 open connections" wait_for 2 open_is 2
check_eq "grace 0: 2 idle in the pool" 2 "$(metric "$IDLE")"
check_eq "grace 0: none in use" 0 "$(metric "$INUSE")"
check_eq "grace 0: evictions{reason=over_limit} = 4" 4 "$(metric "$OVER")"
check_eq "grace 0: opened_total matches the origin" 6 \
    "$(metric ferryd_upstream_connections_opened_total)"
check "grace 0: clean exit" stop_ferryd

# --- max_idle = 2, idle_grace = 1: the extra ones live for about 1 s.
start_origin
start_ferryd pool.max_idle=2 pool.idle_grace=1
O="http://127.0.0.1:$ORIGIN_PORT"
check_eq "grace 1: 6 parallel requests answered 200" 6 "$(burst 6)"
t0=$(now_ms)
check_eq "grace 1: all 6 idle right after" 6 "$(metric "$IDLE")"
check_eq "grace 1: the origin has 6 open" 6 "$(origin_stat open)"
check_eq "grace 1: nothing evicted yet" 0 "$(metric "$OVER")"
dgrace=never
while [ $(( $(now_ms) - t0 )) -lt 4000 ]; do
	if open_is 2; then
		dgrace=$(( $(now_ms) - t0 ))
		break
	fi
	sleep 0.05
done
echo "# over-limit eviction with idle_grace 1: ${dgrace} ms after the burst"
check "grace 1: down to 2 open after 1 s +- ${TOL} ms (${dgrace} ms)" \
    about_1s "$dgrace"
check_eq "grace 1: 2 idle in the pool" 2 "$(metric "$IDLE")"
check_eq "grace 1: evictions{reason=over_limit} = 4" 4 "$(metric "$OVER")"
check_eq "grace 1: a new request reuses a survivor" \
    "200 $(origin_stat accepted)" \
    "$(px -o /dev/null -w '%{http_code} ' "$O/size/10")$(origin_stat accepted)"
check "grace 1: clean exit" stop_ferryd

# --- max_idle_per_address = 1 (max_idle 64): one stays for the address.
start_origin
start_ferryd pool.max_idle=64 pool.max_idle_per_address=1 pool.idle_grace=0
O="http://127.0.0.1:$ORIGIN_PORT"
check_eq "per address: 6 parallel requests answered 200" 6 "$(burst 6)"
check_eq "per address: they needed 6 upstream connections" 6 "$(origin_stat accepted)"
check "per address: the origin is left with 1 open connection" wait_for 2 open_is 1
check_eq "per address: 1 idle in the pool" 1 "$(metric "$IDLE")"
check_eq "per address: evictions{reason=over_limit} = 5" 5 "$(metric "$OVER")"
check_eq "per address: opened_total matches the origin" 6 \
    "$(metric ferryd_upstream_connections_opened_total)"

check "clean exit" stop_ferryd
finish
