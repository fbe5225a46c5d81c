#!/bin/sh
# 09-chromium.sh - a real browser through ferryd: headless Chromium with
# --proxy-server loads a page of the test origin, whose /echo shows what
# arrived, and an https page through a CONNECT tunnel (a certificate made
# at test time; --ignore-certificate-errors).  `tools/dev test` installs Debian's chromium; a bare `make
# check` without it skips this test (exit 77) and says so.
command -v chromium >/dev/null 2>&1 || { echo "# SKIP chromium is not installed"; exit 77; }
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_tls_origin
start_ferryd access.connect_ports="$TLS_PORT" log.access_log="$T/access.log"
O="http://127.0.0.1:$ORIGIN_PORT"

# Chromium's own background requests (updates, time) go to the internet
# through the proxy too; they fail with 502 or 501 here and do not matter.
# --no-sandbox: CI runs as root.  The --disable-* flags keep Chromium's
# own background connections (updates, sync, QUIC probes) away.
# browse URL OUT: Chromium's DOM of URL, through ferryd, into OUT.
browse() {
	timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
	    --disable-quic --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --no-first-run --user-data-dir="$T/profile" \
	    --ignore-certificate-errors \
	    --proxy-server="$PROXY" --proxy-bypass-list='<-loopback>' \
	    --dump-dom "$1" >"$2" 2>>"$T/chromium.log" || true
}
browse "$O/echo" "$T/dom"

check "Chromium rendered the origin's page" grep -q '>GET /echo HTTP/1.1$' "$T/dom"
check "the origin saw ferryd's Via" grep -q '^Via: 1.1 ferryd' "$T/dom"
check "no Proxy-Connection reached the origin" sh -c "! grep -qi '^Proxy-Connection' '$T/dom'"
check_eq "one origin connection" 1 "$(origin_stat accepted)"
check_eq "opened_total matches the origin" 1 \
    "$(metric ferryd_upstream_connections_opened_total)"

browse "https://127.0.0.1:$TLS_PORT/secure" "$T/dom-tls"
check "Chromium rendered the https page through a CONNECT tunnel" \
    grep -q '<p id="where">/secure over TLS</p>' "$T/dom-tls"
tunnels=$(metric ferryd_tunnels_total)
check "ferryd counted the tunnel ($tunnels)" test "$tunnels" -ge 1
check "the access log shows the tunnel to the https origin" \
    grep -q " CONNECT 127.0.0.1:$TLS_PORT 200 " "$T/access.log"
check "clean exit" stop_ferryd

finish
