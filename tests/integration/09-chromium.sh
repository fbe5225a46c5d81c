#!/bin/sh
# 09-chromium.sh - a real browser through ferryd: headless Chromium with
# --proxy-server loads a page of the test origin, whose /echo shows what
# arrived.  `tools/dev test` installs Debian's chromium; a bare `make
# check` without it skips this test (exit 77) and says so.
command -v chromium >/dev/null 2>&1 || { echo "# SKIP chromium is not installed"; exit 77; }
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_ferryd
O="http://127.0.0.1:$ORIGIN_PORT"

# Chromium's own background requests (updates, time) go to the internet
# through the proxy too; they fail with 502 or 501 here and do not matter.
# --no-sandbox: CI runs as root.  The --disable-* flags keep Chromium's
# own background connections (updates, sync, QUIC probes) away.
timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
    --disable-quic --disable-background-networking \
    --disable-component-update --disable-sync \
    --no-first-run --user-data-dir="$T/profile" \
    --proxy-server="$PROXY" --proxy-bypass-list='<-loopback>' \
    --dump-dom "$O/echo" >"$T/dom" 2>"$T/chromium.log" || true

check "Chromium rendered the origin's page" grep -q '>GET /echo HTTP/1.1$' "$T/dom"
check "the origin saw ferryd's Via" grep -q '^Via: 1.1 ferryd' "$T/dom"
check "no Proxy-Connection reached the origin" sh -c "! grep -qi '^Proxy-Connection' '$T/dom'"
check_eq "one origin connection" 1 "$(origin_stat accepted)"
check_eq "opened_total matches the origin" 1 \
    "$(metric ferryd_upstream_connections_opened_total)"
check "clean exit" stop_ferryd

finish
