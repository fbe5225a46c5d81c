#!/bin/sh
# 14-idle-cpu.sh - an idle daemon sleeps: with one pooled connection
# (keepalive 300 s) and with an emptied pool, ferryd uses no CPU over 10 s
# (the pool's timer sleeps until the next deadline; nothing polls).  The
# pooled connection is still there afterwards.
#
# Two daemons are measured over the same 10 s window: A holds one idle
# connection, B had one that its keepalive evicted, so its pool is empty.
. "$TESTS_DIR/integration/lib.sh"

# ticks PID: utime + stime (fields 14 and 15 of /proc/PID/stat).  The
# command name, field 2, may hold spaces: cut up to its ")" first.
ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

start_origin
OA_CTL=$ORIGIN_CTL
OA="http://127.0.0.1:$ORIGIN_PORT"
start_origin
OB_CTL=$ORIGIN_CTL
OB="http://127.0.0.1:$ORIGIN_PORT"

# stat_of CTLPORT KEY: origin_stat of one of the two origins.
stat_of() {
	ORIGIN_CTL=$1 origin_stat "$2"
}
b_empty() { [ "$(stat_of "$OB_CTL" open)" = 0 ]; }

start_ferryd
A_PID=$FERRYD_PID
A_PROXY=$PROXY
mv "$T/ferryd.log" "$T/ferryd-a.log"	# A keeps writing to it
check_eq "A: request answered over origin connection 1" "200 1" \
    "$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$OA/size/10")"
check_eq "A: one idle connection" 1 \
    "$(metric 'ferryd_upstream_connections{state="idle"}')"

start_ferryd pool.keepalive=0.3
B_PID=$FERRYD_PID
B_PROXY=$PROXY
check_eq "B: request answered" 200 \
    "$(px -o /dev/null -w '%{http_code}' "$OB/size/10")"
check "B: its keepalive emptied the pool" wait_for 5 b_empty
check_eq "B: no idle connection" 0 \
    "$(metric 'ferryd_upstream_connections{state="idle"}')"
check_eq "B: evicted by keepalive" 1 \
    "$(metric 'ferryd_upstream_evictions_total{reason="keepalive"}')"

# Let the replies to those /metrics requests settle, then measure.
sleep 0.2
a0=$(ticks "$A_PID")
b0=$(ticks "$B_PID")
sleep 10
check "A: still running after 10 s" kill -0 "$A_PID"
check "B: still running after 10 s" kill -0 "$B_PID"
a1=$(ticks "$A_PID")
b1=$(ticks "$B_PID")
echo "# idle CPU over 10 s: $((a1 - a0)) ticks with a pooled connection," \
    "$((b1 - b0)) ticks with an empty pool"
check_le "A: no CPU while idle with one pooled connection (ticks)" \
    $((a1 - a0)) 1
check_le "B: no CPU while idle with an empty pool (ticks)" $((b1 - b0)) 1

PROXY=$A_PROXY
check_eq "A: the pooled connection is still open at the origin" 1 \
    "$(stat_of "$OA_CTL" open)"
check_eq "A: no eviction of any kind" 0 \
    "$(curl -s "$PROXY/metrics" | awk '/^ferryd_upstream_evictions_total/ { n += $2 } END { print n + 0 }')"
check_eq "A: the next request reuses it" "200 1" \
    "$(px -o /dev/null -w '%{http_code} %header{x-origin-conn}' "$OA/size/10")"
check_eq "A: the origin accepted one connection in all" 1 \
    "$(stat_of "$OA_CTL" accepted)"

FERRYD_PID=$A_PID
check "A: clean exit" stop_ferryd
FERRYD_PID=$B_PID
check "clean exit" stop_ferryd
finish
