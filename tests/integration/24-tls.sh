#!/bin/sh
# 24-tls.sh - TLS to origins: an https:// absolute-form request, an
# http:// request sent as https:// by tls_origination (SNI, the host name
# checked), 200 one-shot clients on one TLS connection and one full
# handshake, a resumed handshake after a keepalive eviction (never with
# another host's session), close_notify on eviction, an idle origin's
# close_notify or dirty close as a normal eviction, a close-delimited body
# whole only with close_notify, a large body, the 502
# reasons (wrong host, unknown CA, expired, not TLS), a handshake that
# times out (504), an Upgrade over https:// (close_notify for the
# half-close), verify = no, and a ca_file that does not load.
# Certificates come from a CA made at test time (lib.sh tls_certs).
. "$TESTS_DIR/integration/lib.sh"

start_tls_origin good; GOOD=$TLS_PORT
start_tls_origin wronghost; WRONGHOST=$TLS_PORT
start_tls_origin rogue; ROGUE=$TLS_PORT
start_tls_origin expired; EXPIRED=$TLS_PORT
start_origin
start_echo
start_ferryd tls.ca_file="$T/ca.crt" tls.tls_origination="localhost" \
    pool.keepalive=1 upstream.connect_timeout=2

# counts PORT: the TLS origin's "tcp N tls N resumed N sni S clean N dirty N".
counts() {
	curl -s --max-time 10 --cacert "$T/ca.crt" "https://127.0.0.1:$1/counts"
}
# count PORT FIELD: one number of counts (the curl itself is counted too).
count() {
	counts "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}
# absolute TARGET: an absolute-form request on a raw connection.
absolute() {
	printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$1" |
	    raw 127.0.0.1 "$PROXY_PORT"
}

# tls_origination: curl speaks http:// to ferryd, ferryd https:// to the
# origin, with SNI and the certificate checked for "localhost".
body=$(px "http://localhost:$GOOD/orig")
check "tls_origination: http:// went out as https://" \
    sh -c 'echo "$1" | grep -q "/orig over TLS"' - "$body"
check_eq "tls_origination: SNI localhost" localhost "$(count "$GOOD" sni)"
check_eq "a plain http:// origin is not sent TLS" 200 \
    "$(px -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORIGIN_PORT/size/10")"

# 200 one-shot clients (a new client connection each): one TCP connection
# and one full handshake at the origin.
tcp0=$(count "$GOOD" tcp)
full0=$(metric 'ferryd_tls_handshakes_total{kind="full"}')
bad=0
i=0
while [ $i -lt 200 ]; do
	c=$(px -o /dev/null -w '%{http_code}' "http://localhost:$GOOD/one/$i")
	[ "$c" = 200 ] || bad=$((bad + 1))
	i=$((i + 1))
done
check_eq "200 one-shot requests over TLS: all 200" 0 "$bad"
# One counts request is direct (+1); the 200 add nothing.
check_eq "200 one-shot requests: no new TCP connection at the origin" \
    $((tcp0 + 1)) "$(count "$GOOD" tcp)"
check_eq "200 one-shot requests: no new full handshake" \
    "$full0" "$(metric 'ferryd_tls_handshakes_total{kind="full"}')"

# After the keepalive eviction the next connection is resumed; the same
# origin under another name (127.0.0.1) never gets localhost's session.
clean0=$(count "$GOOD" clean)
wait_for 5 sh -c '[ "$(curl -s "$1/metrics" | awk "/^ferryd_upstream_connections.state=.idle/ { print \$2 }")" = 0 ]' - "$PROXY"
check "keepalive evicted the idle TLS connections" test $? -eq 0
check_eq "eviction sent close_notify" $((clean0 + 2)) "$(count "$GOOD" clean)"
check_eq "no dirty close from ferryd" 0 "$(count "$GOOD" dirty)"
res0=$(count "$GOOD" resumed)
px -o /dev/null "http://localhost:$GOOD/again"
check_eq "after eviction: a resumed handshake (origin)" $((res0 + 1)) \
    "$(count "$GOOD" resumed)"
check_eq "after eviction: a resumed handshake (ferryd)" 1 \
    "$(metric 'ferryd_tls_handshakes_total{kind="resumed"}')"
# The same origin under another name (127.0.0.1, first use, absolute
# form): a full handshake, never localhost's session, and no SNI.
full1=$(metric 'ferryd_tls_handshakes_total{kind="full"}')
reply=$(absolute "https://127.0.0.1:$GOOD/abs")
check_eq "https:// absolute-form: 200" 200 "$(echo "$reply" | status_of)"
check "https:// absolute-form: the origin's page" \
    sh -c 'echo "$1" | grep -q "/abs over TLS"' - "$reply"
check_eq "no SNI for an IP address" - "$(count "$GOOD" sni)"
check_eq "another name for the same origin: a full handshake" \
    $((full1 + 1)) "$(metric 'ferryd_tls_handshakes_total{kind="full"}')"
check_eq "another name: localhost's session was not offered" \
    $((res0 + 1)) "$(count "$GOOD" resumed)"
stats=$(curl -s --max-time 5 "$PROXY/stats")
check "/stats: TLS version, cipher and counts per address" \
    sh -c 'echo "$1" | grep -q "\"address\": \"https://localhost:$2\".*" &&
        echo "$1" | grep -q "\"tls\": {\"version\": \"TLSv1.3\", \"cipher\": \"TLS_[A-Z0-9_]*\", \"full\": 0, \"resumed\": 1}"' \
    - "$stats" "$GOOD"

# An idle origin that closes, with close_notify or without: an eviction
# (closed_by_origin), no error, and the next request gets a new connection.
ev0=$(metric 'ferryd_upstream_evictions_total{reason="closed_by_origin"}')
px -o /dev/null "http://localhost:$GOOD/idle-close"
px -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/spacer"
wait_for 3 sh -c '[ "$(curl -s "$1/metrics" | awk "/closed_by_origin/ && !/^#/ { print \$2 }")" -gt "$2" ]' - "$PROXY" "$ev0"
check "origin's close_notify while idle: closed_by_origin" test $? -eq 0
px -o /dev/null "http://localhost:$GOOD/idle-drop"
wait_for 3 sh -c '[ "$(curl -s "$1/metrics" | awk "/closed_by_origin/ && !/^#/ { print \$2 }")" -gt "$(( $2 + 1 ))" ]' - "$PROXY" "$ev0"
check "origin's dirty close while idle: closed_by_origin" test $? -eq 0
check_eq "after the origin's close: a new connection works" 200 \
    "$(px -o /dev/null -w '%{http_code}' "http://localhost:$GOOD/after")"

# A body that ends with the connection is whole over TLS only when the
# origin's close_notify ends it (RFC 9112 9.8): without, the client's
# reply is cut off, never ended cleanly.
px -o "$T/cd.body" "http://localhost:$GOOD/close-delimited" && rc=0 || rc=$?
check_eq "close-delimited body with close_notify: complete" "0 all of it" \
    "$rc $(cat "$T/cd.body")"
px -o "$T/cd.body" "http://localhost:$GOOD/close-delimited-dirty" && rc=0 || rc=$?
check "close-delimited body without close_notify: the reply is cut" \
    test "$rc" -ne 0
check "close-delimited body without close_notify: logged" \
    grep -q "close-delimited-dirty: response cut: origin connection failed: unexpected eof" \
    "$T/ferryd.log"

# A large body over TLS arrives whole.
size=$(px -o /dev/null -w '%{size_download}' --max-time 60 \
    "http://localhost:$GOOD/bytes/33554432")
check_eq "a 32 MiB body over TLS" 33554432 "$size"

# Certificates that do not verify: 502 with the reason, a log line, and
# no connection in the pool.
opened0=$(metric ferryd_upstream_connections_opened_total)
# bad_cert PORT WHAT REASON
bad_cert() {
	reply=$(absolute "https://127.0.0.1:$1/x")
	check_eq "$2: 502" 502 "$(echo "$reply" | status_of)"
	check "$2: the reply says why ($3)" \
	    sh -c 'echo "$1" | grep -q "TLS handshake with 127.0.0.1:$2 failed: $3"' \
	    - "$reply" "$1" "$3"
	check "$2: logged" grep -q "TLS handshake with 127.0.0.1:$1 failed: $3" \
	    "$T/ferryd.log"
}
bad_cert "$WRONGHOST" "wrong host" "wrong host: the certificate is not for 127.0.0.1"
bad_cert "$ROGUE" "unknown CA" "unknown CA"
bad_cert "$EXPIRED" "expired certificate" "certificate has expired"
bad_cert "$ECHO_PORT" "not a TLS origin" "[a-z]"
reply=$(absolute "https://127.0.0.1:$ORIGIN_PORT/x")
check_eq "an origin that never answers the handshake: 504" 504 \
    "$(echo "$reply" | status_of)"
check "504: the reply says why" sh -c 'echo "$1" | grep -q "TLS handshake with 127.0.0.1:$2 timed out"' \
    - "$reply" "$ORIGIN_PORT"
# connect_timeout bounds the whole handshake, not the silence in it: an
# origin that sends a byte every 0.5 s is cut off at 2 s all the same.
start_peer trickle >"$T/port"
read -r TRICKLE_PORT <"$T/port"
t0=$(date +%s%N)
reply=$(absolute "https://127.0.0.1:$TRICKLE_PORT/x")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "a handshake trickled byte by byte: 504" 504 "$(echo "$reply" | status_of)"
check_le "the trickled handshake ends at connect_timeout (2 s)" "$ms" 3500
code=$(px -o "$T/body" -w '%{http_code}' "http://localhost:$EXPIRED/x")
check_eq "tls_origination to an expired certificate: 502" 502 "$code"
check_eq "the failed handshakes are counted" 7 \
    "$(metric ferryd_tls_handshake_failures_total)"
check_eq "a failed handshake is never pooled" "$opened0" \
    "$(metric ferryd_upstream_connections_opened_total)"
check_eq "nothing in use after the failures" 0 \
    "$(metric 'ferryd_upstream_connections{state="in_use"}')"
# An Upgrade on an https:// target: the tunnel runs over the TLS
# connection, and the client's half-close reaches the origin as
# close_notify (the origin's echo ends only then, with its own).
python3 "$TESTS_DIR/peer.py" upgrade-tls "$T/good.crt" "$T/good.key" \
    "$T/wss.ready" 2>"$T/wss.log" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/wss.ready" || { echo "peer.py upgrade-tls did not start"; exit 1; }
read -r WSS_PORT <"$T/wss.ready"
ws "https://127.0.0.1:$WSS_PORT/ws" websocket >"$T/wss.out" 2>&1
check_eq "Upgrade over https://: 101" 101 "$(status_of <"$T/wss.out")"
check "Upgrade over https://: bytes both ways, then close_notify both ways" \
    sh -c 'tail -n 1 "$1" | grep -qx "hello ping clean"' sh "$T/wss.out"
no_tunnel_left() { [ "$(metric ferryd_tunnels_active)" = 0 ]; }
check "Upgrade over https://: the tunnel ended" wait_for 10 no_tunnel_left
check "ferryd stopped cleanly" stop_ferryd

# verify = no: a warning at start-up, and the rogue origin is reached.
start_ferryd tls.verify=no
check "verify = no: a warning at start-up" \
    grep -q "tls.verify = no: origin certificates are not checked" "$T/ferryd.log"
reply=$(absolute "https://127.0.0.1:$ROGUE/rogue")
check_eq "verify = no: an unknown CA is accepted" 200 "$(echo "$reply" | status_of)"
check "ferryd stopped cleanly" stop_ferryd

# A CA file that does not load stops start-up, naming the key.
write_ini "$T/bad.ini" tls.ca_file="$T/nonexistent.pem"
"$FERRYD" -f -c "$T/bad.ini" 2>"$T/bad.log" && rc=0 || rc=$?
check "a bad ca_file: start-up fails" test "$rc" -ne 0
check "a bad ca_file: the message names the key and file" \
    grep -q "tls.ca_file: cannot load $T/nonexistent.pem" "$T/bad.log"

finish
