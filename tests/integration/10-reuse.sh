#!/bin/sh
# 10-reuse.sh - the point of ferryd: clients that open a new connection for
# every request still share one upstream connection.  200 separate curl
# runs, one after the other, must reach the origin over at most one TCP
# connection, and one keep-alive client sending 100 requests must not open
# another.
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_ferryd
O="http://127.0.0.1:$ORIGIN_PORT"

# get URL: one curl run through ferryd; prints "STATUS X-Origin-Conn".
get() {
	px -o /dev/null -w '%{http_code} %header{x-origin-conn}\n' "$1"
}

accepted0=$(origin_stat accepted)
reused0=$(metric ferryd_upstream_reused_total)
check_eq "origin has accepted nothing yet" 0 "$accepted0"

i=0
while [ "$i" -lt 200 ]; do
	get "$O/size/10" >> "$T/oneshot"
	i=$((i + 1))
done

check_eq "200 one-shot requests answered 200" 200 "$(grep -c '^200 ' "$T/oneshot")"
check_eq "every one-shot request came over one upstream connection" 1 \
    "$(awk '{ print $2 }' "$T/oneshot" | sort -u | grep -c .)"
accepted1=$(origin_stat accepted)
check_le "origin accepted at most 1 connection for 200 one-shot clients" \
    $((accepted1 - accepted0)) 1
check_eq "origin counted 200 requests" 200 "$(origin_stat requests)"
reused1=$(metric ferryd_upstream_reused_total)
check_le "ferryd_upstream_reused_total >= 199" 199 $((reused1 - reused0))
check_eq "ferryd_upstream_connections_opened_total matches the origin" \
    "$accepted1" "$(metric ferryd_upstream_connections_opened_total)"
check_eq "the one connection is idle in the pool" 1 \
    "$(metric 'ferryd_upstream_connections{state="idle"}')"
check_eq "nothing in use" 0 \
    "$(metric 'ferryd_upstream_connections{state="in_use"}')"
conn1=$(awk 'NR == 1 { print $2 }' "$T/oneshot")

# One keep-alive client, 100 URLs on one curl command line.
set --
i=0
while [ "$i" -lt 100 ]; do
	set -- "$@" -o /dev/null "$O/size/10"
	i=$((i + 1))
done
clients0=$(metric ferryd_client_connections_accepted_total)
px -w '%{http_code} %{num_connects} %header{x-origin-conn}\n' "$@" > "$T/ka"
clients1=$(metric ferryd_client_connections_accepted_total)
check_eq "100 keep-alive requests answered 200" 100 "$(grep -c '^200 ' "$T/ka")"
check_eq "curl opened one connection to ferryd" 1 \
    "$(awk '{ n += $2 } END { print n }' "$T/ka")"
# The metric call in between is one more client connection.
check_eq "ferryd accepted 1 client connection for them" 2 \
    $((clients1 - clients0))
check_eq "all 100 went over the same upstream connection as before" \
    "$conn1" "$(awk '{ print $3 }' "$T/ka" | sort -u)"
check_eq "origin accepted no further connection" "$accepted1" \
    "$(origin_stat accepted)"
check_eq "origin counted 300 requests" 300 "$(origin_stat requests)"
check_eq "ferryd_upstream_reused_total grew by 100" $((reused1 + 100)) \
    "$(metric ferryd_upstream_reused_total)"
check_eq "ferryd_upstream_connections_opened_total still matches the origin" \
    "$accepted1" "$(metric ferryd_upstream_connections_opened_total)"

check "clean exit" stop_ferryd
finish
