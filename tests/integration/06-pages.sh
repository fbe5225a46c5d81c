#!/bin/sh
# 06-pages.sh - ferryd's own pages on the proxy port: /metrics (every
# metric of interface.md, Prometheus text 0.0.4), /stats (JSON), a hint
# for any other origin-form path, and 403 for a client outside access.allow.
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_ferryd
U="http://127.0.0.1:$ORIGIN_PORT"

# Known traffic first: one 502 (its connection closed), one 200 (its
# connection left idle in the pool).
px -o /dev/null "$U/bad-status" || true
px -o /dev/null "$U/size/10" || true

code=$(curl -s --max-time 5 -D "$T/m.h" -o "$T/m.b" -w '%{http_code}' "$PROXY/metrics") || true
check_eq "/metrics: 200" 200 "$code"
check "/metrics: Content-Type text/plain; version=0.0.4" \
    grep -qi '^Content-Type: text/plain; version=0\.0\.4' "$T/m.h"

# type_is NAME TYPE: "# TYPE NAME TYPE" is there, once.
type_is() {
	[ "$(grep -c "^# TYPE $1 $2\$" "$T/m.b")" = 1 ]
}
for mt in client_connections_accepted_total:counter requests_total:counter \
    upstream_connections_opened_total:counter upstream_connections:gauge \
    upstream_reused_total:counter upstream_evictions_total:counter \
    upstream_leaks_total:counter upstream_retries_total:counter \
    tls_handshakes_total:counter route_failures_total:counter \
    tunnels_total:counter tunnels_active:gauge; do
	check "/metrics: ferryd_${mt%%:*} is a ${mt#*:}" type_is "ferryd_${mt%%:*}" "${mt#*:}"
done

# sample NAME_WITH_LABELS: its value in the page fetched above.
sample() {
	awk -v m="$1" '$1 == m { print $2 }' "$T/m.b"
}
for s in ferryd_client_connections_accepted_total \
    ferryd_upstream_connections_opened_total \
    'ferryd_upstream_connections{state="idle"}' \
    'ferryd_upstream_connections{state="in_use"}' \
    ferryd_upstream_reused_total ferryd_upstream_leaks_total \
    ferryd_upstream_retries_total \
    'ferryd_tls_handshakes_total{kind="full"}' \
    'ferryd_tls_handshakes_total{kind="resumed"}' \
    ferryd_route_failures_total ferryd_tunnels_total ferryd_tunnels_active; do
	check "/metrics: sample $s" test -n "$(sample "$s")"
done
for r in keepalive over_limit unhealthy leaked closed_by_origin request_budget \
    lifetime evict_all error; do
	check "/metrics: evictions reason=$r" \
	    test -n "$(sample "ferryd_upstream_evictions_total{reason=\"$r\"}")"
done
check_eq "/metrics: 3 client connections so far" 3 \
    "$(sample ferryd_client_connections_accepted_total)"
check_eq "/metrics: one 200 so far" 1 "$(sample 'ferryd_requests_total{code="200"}')"
check_eq "/metrics: one 502 so far" 1 "$(sample 'ferryd_requests_total{code="502"}')"
check_eq "/metrics: two upstream connections opened" 2 \
    "$(sample ferryd_upstream_connections_opened_total)"
check_eq "/metrics: one idle upstream connection" 1 \
    "$(sample 'ferryd_upstream_connections{state="idle"}')"
check_eq "/metrics: none in use" 0 "$(sample 'ferryd_upstream_connections{state="in_use"}')"
check "/metrics: every sample line is NAME VALUE" sh -c \
    '! grep -v "^#" "$1" | grep -qv "^ferryd_[a-z_]*\({[a-z_]*=\"[^\"]*\"}\)\{0,1\} [0-9][0-9.e+]*$"' \
    sh "$T/m.b"

# /stats: valid JSON with the same counts and the origin's address.
code=$(curl -s --max-time 5 -D "$T/s.h" -o "$T/s.json" -w '%{http_code}' "$PROXY/stats") || true
check_eq "/stats: 200" 200 "$code"
check "/stats: Content-Type application/json" \
    grep -qi '^Content-Type: application/json' "$T/s.h"
check "/stats: valid JSON" sh -c 'python3 -m json.tool <"$1" >"$1.pretty"' sh "$T/s.json"
check "/stats: the origin's address is listed" \
    grep -q "\"address\": \"http://127.0.0.1:$ORIGIN_PORT\"" "$T/s.json.pretty"
check "/stats: two 200 (with /metrics) and one 502" \
    grep -q '"requests": {"200": 2, .*"502": 1' "$T/s.json"

# HEAD of a page: the head only.
printf 'HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    raw 127.0.0.1 "$PROXY_PORT" >"$T/head.raw" || true
n=$(sed '/^\r$/q' "$T/head.raw" | wc -c)
check_eq "HEAD /metrics: 200" 200 "$(status_of <"$T/head.raw")"
check_eq "HEAD /metrics: no body bytes" 0 "$(tail -c +$((n + 1)) "$T/head.raw" | wc -c | tr -d ' ')"

# Other origin-form paths: 400 with a hint.
for p in / /foo /metrics/x; do
	code=$(curl -s --max-time 5 -o "$T/h.b" -w '%{http_code}' "$PROXY$p") || true
	check_eq "GET $p: 400" 400 "$code"
	check "GET $p: the hint says this is a proxy" grep -qi 'proxy' "$T/h.b"
	check_eq "GET $p: one line" 1 "$(wc -l 2>/dev/null <"$T/h.b" | tr -d ' ')"
done
check "clean exit" stop_ferryd

# A client outside access.allow: 403 for proxying and for the pages.
before=$(origin_stat requests)
start_ferryd access.allow=10.0.0.0/8
code=$(px -o "$T/d.b" -w '%{http_code}' "$U/size/10") || true
check_eq "denied client, proxy request: 403" 403 "$code"
check "denied client: says access denied" grep -qx 'access denied' "$T/d.b"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$PROXY/metrics") || true
check_eq "denied client, /metrics: 403" 403 "$code"
check_eq "denied client: the origin saw nothing" "$before" "$(origin_stat requests)"
check "denied client is logged" grep -q 'client 127.0.0.1: 403 access denied' "$T/ferryd.log"
check "clean exit (denied)" stop_ferryd
finish
