#!/bin/sh
# 17-invariant.sh - the pool's count of opened connections equals the
# number of TCP connections the origin accepted, whatever the traffic did
# to them: one-shots, parallel bursts, Connection: close, close-delimited
# and chunked bodies, HEAD, 404s and a reset.  /stats shows the same pool
# per address, as valid JSON.
. "$TESTS_DIR/integration/lib.sh"

start_origin
O="http://127.0.0.1:$ORIGIN_PORT"
start_ferryd

# req EXPECT DESCRIPTION CURL_ARGS...: one curl run through ferryd whose
# "STATUS BYTES" must be EXPECT.
req() {
	want=$1
	what=$2
	shift 2
	check_eq "$what" "$want" \
	    "$(px -o /dev/null -w '%{http_code} %{size_download}' "$@")"
}

# burst N URL: N parallel one-shot GETs; prints how many answered 200.
burst() {
	j=0
	pids=""
	rm -f "$T"/burst.*
	while [ "$j" -lt "$1" ]; do
		px -o /dev/null -w '%{http_code}\n' "$2" > "$T/burst.$j" &
		pids="$pids $!"
		j=$((j + 1))
	done
	for p in $pids; do
		wait "$p" || true
	done
	cat "$T"/burst.* | grep -c '^200$' || true
}

i=0
while [ "$i" -lt 10 ]; do
	px -o /dev/null -w '%{http_code}\n' "$O/size/100" >> "$T/seq"
	i=$((i + 1))
done
check_eq "10 sequential one-shots answered 200" 10 "$(grep -c '^200$' "$T/seq")"
check_eq "burst of 6 answered 200" 6 "$(burst 6 "$O/size/1000?delay=200")"
req "200 3" "Connection: close response" "$O/connection-close"
req "200 100" "close-delimited body" "$O/close/100"
req "200 5000" "chunked body" "$O/chunked/5000"
req "200 0" "HEAD" -I "$O/size/100"
req "404 10" "404" "$O/no-such-path"
check_eq "burst of 4 answered 200" 4 "$(burst 4 "$O/size/10?delay=100")"
req "200 3" "Connection: close response again" "$O/connection-close"
req "200 70000" "close-delimited body, large" "$O/close/70000"
req "200 65536" "chunked body, large" "$O/chunked/65536"
req "404 10" "404 again" "$O/no-such-path"
req "200 0" "HEAD again" -I "$O/chunked/100"
rc=$(px -o /dev/null -w '%{http_code}' "$O/reset" || true)
check_eq "reset by the origin: 502" 502 "$rc"
req "200 1" "after the reset" "$O/size/1"
check_eq "a last burst of 5 answered 200" 5 "$(burst 5 "$O/size/10?delay=100")"
i=0
while [ "$i" -lt 5 ]; do
	px -o /dev/null -w '%{http_code}\n' "$O/size/10" >> "$T/seq2"
	i=$((i + 1))
done
check_eq "5 more one-shots answered 200" 5 "$(grep -c '^200$' "$T/seq2")"

inuse_0() { [ "$(metric 'ferryd_upstream_connections{state="in_use"}')" = 0 ]; }
check "nothing in use at the end" wait_for 3 inuse_0
accepted=$(origin_stat accepted)
opened=$(metric ferryd_upstream_connections_opened_total)
echo "# origin accepted $accepted connections; ferryd opened $opened;" \
    "$(metric ferryd_upstream_reused_total) reuses"
check_eq "ferryd_upstream_connections_opened_total == origin accepted" \
    "$accepted" "$opened"
check_le "connections were reused (opened < requests)" "$opened" 30
check_eq "no leak" 0 "$(metric ferryd_upstream_leaks_total)"
open_is_idle() {
	[ "$(origin_stat open)" = \
	    "$(metric 'ferryd_upstream_connections{state="idle"}')" ]
}
check "the origin has open exactly the connections ferryd holds idle" \
    wait_for 2 open_is_idle

# /stats: valid JSON, and the origin's address with its pool state.
curl -s --max-time 5 "$PROXY/stats" > "$T/stats.json"
idle=$(metric 'ferryd_upstream_connections{state="idle"}')
check "/stats parses and has the origin's address entry" python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
want = "http://127.0.0.1:" + sys.argv[2]
rows = [a for a in st["addresses"] if a["address"] == want]
assert len(rows) == 1, rows
a = rows[0]
for k in ("idle", "in_use", "opened", "reused"):
    assert isinstance(a[k], int) and a[k] >= 0, (k, a)
assert a["idle"] == int(sys.argv[3]), a
assert a["in_use"] == 0, a
assert 1 <= a["opened"] <= st["upstream"]["opened"], (a, st["upstream"])
assert a["reused"] <= st["upstream"]["reused"], (a, st["upstream"])
assert st["upstream"]["opened"] == int(sys.argv[4]), st["upstream"]
assert st["upstream"]["idle"] == a["idle"], st["upstream"]
assert st["upstream"]["in_use"] == 0, st["upstream"]
' "$T/stats.json" "$ORIGIN_PORT" "$idle" "$accepted"

check "clean exit" stop_ferryd
finish
