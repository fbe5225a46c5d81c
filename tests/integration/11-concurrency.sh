#!/bin/sh
# 11-concurrency.sh - N clients at once need N upstream connections, and no
# more: 8 parallel slow requests open at most 8 connections, and two more
# rounds of 8 reuse them instead of opening new ones.
. "$TESTS_DIR/integration/lib.sh"

N=8
start_origin
start_ferryd
O="http://127.0.0.1:$ORIGIN_PORT"

# round R: N parallel one-shot clients; each writes "STATUS X-Origin-Conn".
round() {
	j=0
	pids=""
	while [ "$j" -lt "$N" ]; do
		px -o /dev/null -w '%{http_code} %header{x-origin-conn}\n' \
		    "$O/size/100?delay=300" > "$T/round$1.$j" &
		pids="$pids $!"
		j=$((j + 1))
	done
	for p in $pids; do
		wait "$p" || true
	done
	cat "$T"/round"$1".* > "$T/round$1"
}

round 1
check_eq "round 1: $N answers 200" "$N" "$(grep -c '^200 ' "$T/round1")"
a1=$(origin_stat accepted)
check_le "round 1 opened at most $N upstream connections" "$a1" "$N"
check_eq "round 1: ferryd counts what the origin accepted" "$a1" \
    "$(metric ferryd_upstream_connections_opened_total)"
check_eq "round 1: all $a1 connections idle afterwards" "$a1" \
    "$(metric 'ferryd_upstream_connections{state="idle"}')"
check_eq "round 1: the origin still has them open" "$a1" "$(origin_stat open)"
reused1=$(metric ferryd_upstream_reused_total)

round 2
round 3
check_eq "round 2: $N answers 200" "$N" "$(grep -c '^200 ' "$T/round2")"
check_eq "round 3: $N answers 200" "$N" "$(grep -c '^200 ' "$T/round3")"
check_eq "rounds 2 and 3 opened no new upstream connection" "$a1" \
    "$(origin_stat accepted)"
check_eq "origin saw $((3 * N)) requests" $((3 * N)) "$(origin_stat requests)"
check_eq "rounds 2 and 3 were served by reuse" $((reused1 + 2 * N)) \
    "$(metric ferryd_upstream_reused_total)"
awk '{ print $2 }' "$T/round1" | sort -u > "$T/conns1"
awk '{ print $2 }' "$T/round2" "$T/round3" | sort -u > "$T/conns23"
check_eq "rounds 2 and 3 used only round 1's connections" "" \
    "$(comm -13 "$T/conns1" "$T/conns23")"
check_eq "ferryd_upstream_connections_opened_total matches the origin" \
    "$(origin_stat accepted)" "$(metric ferryd_upstream_connections_opened_total)"
check_eq "nothing in use at the end" 0 \
    "$(metric 'ferryd_upstream_connections{state="in_use"}')"
check_eq "no eviction happened" 0 \
    "$(curl -s "$PROXY/metrics" | awk '/^ferryd_upstream_evictions_total/ { n += $2 } END { print n + 0 }')"

check "clean exit" stop_ferryd
finish
