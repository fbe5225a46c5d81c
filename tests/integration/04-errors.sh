#!/bin/sh
# 04-errors.sh - upstream failures become one-line plain-text 502/504
# replies; a response cut mid-body and a client that leaves mid-download
# leave no connection in use and no leak, and ferryd keeps serving.
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_ferryd upstream.connect_timeout=2 upstream.read_timeout=1
U="http://127.0.0.1:$ORIGIN_PORT"

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# error_case NAME STATUS URL: curl through ferryd; checks the status and
# that the body is one line of plain text.
error_case() {
	code=$(px -D "$T/err.h" -o "$T/err.b" -w '%{http_code}' "$3") || true
	check_eq "$1: $2" "$2" "$code"
	check_eq "$1: one-line body" 1 "$(wc -l 2>/dev/null <"$T/err.b" | tr -d ' ')"
	check "$1: body is text ($(head -c 80 "$T/err.b"))" \
	    grep -q '^[[:print:]]\{4,\}$' "$T/err.b"
	check "$1: text/plain" grep -qi '^Content-Type: text/plain' "$T/err.h"
}

# A port nobody listens on: bind one, note it, let it go.
closed=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
error_case "connect refused" 502 "http://127.0.0.1:$closed/x"
check "connect refused: says so" grep -qi 'refused' "$T/err.b"

# A connect that fails inside connect() itself (Linux refuses TCP to a
# multicast address with ENETUNREACH): the connector calls back before it
# returns, and the exchange it freed must not be touched (ASan found it).
error_case "connect fails at once (224.0.0.1)" 502 "http://224.0.0.1:$closed/x"
check_eq "still serving after it" 200 \
    "$(px -o /dev/null -w '%{http_code}' "$U/size/3" || true)"

# after_head FILE: the bytes after the first response head.
after_head() {
	n=$(sed '/^\r$/q' "$1" | wc -c)
	tail -c +$((n + 1)) "$1"
}

# An error answer to HEAD has a head only: body bytes would be read as the
# next response by a keep-alive client.
printf 'HEAD http://127.0.0.1:%s/x HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' \
    "$closed" "$closed" | raw 127.0.0.1 "$PROXY_PORT" >"$T/head.raw" || true
check_eq "HEAD, connect refused: 502" 502 "$(status_of <"$T/head.raw")"
check_eq "HEAD, connect refused: no body bytes" 0 "$(after_head "$T/head.raw" | wc -c | tr -d ' ')"

t0=$(now_ms)
error_case "DNS failure" 502 "http://nonexistent.invalid/"
t1=$(now_ms)
check "DNS failure: names the host" grep -q 'nonexistent.invalid' "$T/err.b"
if [ "${SANITIZERS:-no}" = yes ]; then
	echo "ok - DNS failure: answered within 5 s # SKIP sanitizer build"
else
	check_le "DNS failure: answered within 5 s (ms)" $((t1 - t0)) 5000
fi

error_case "/reset" 502 "$U/reset"
error_case "/garbage" 502 "$U/garbage"
error_case "/bad-length" 502 "$U/bad-length"
check "/bad-length: none of the origin's body passed" \
    sh -c '! grep -q abcdef "$1"' sh "$T/err.b"
error_case "/bad-status" 502 "$U/bad-status"

t0=$(now_ms)
error_case "/stall with read_timeout = 1" 504 "$U/stall"
t1=$(now_ms)
if [ "${SANITIZERS:-no}" = yes ]; then
	echo "ok - /stall: 504 after about 1 s # SKIP sanitizer build"
else
	check "/stall: 504 after about 1 s ($((t1 - t0)) ms)" \
	    test $((t1 - t0)) -ge 900 -a $((t1 - t0)) -le 3000
fi

# A body cut after its head went out: the client sees a short body.
rc=0
px -o "$T/cut.b" "$U/stall-body/100000" || rc=$?
check_eq "/stall-body: curl reports a partial body (18)" 18 "$rc"
check "/stall-body: less than the whole body" \
    test "$(wc -c 2>/dev/null <"$T/cut.b")" -lt 100000

check_eq "502 counted" 8 "$(metric 'ferryd_requests_total{code="502"}')"
check_eq "504 counted" 1 "$(metric 'ferryd_requests_total{code="504"}')"

# A client that leaves mid-download.
rc=0
curl -s -x "$PROXY" --max-time 1 --limit-rate 100k -o /dev/null \
    "$U/big/50000000" || rc=$?
check_eq "aborting client: curl timed out (28)" 28 "$rc"
in_use_zero() {
	[ "$(metric 'ferryd_upstream_connections{state="in_use"}')" = 0 ]
}
check "after the abort: no upstream connection in use" wait_for 5 in_use_zero
check_eq "after the abort: no leak" 0 "$(metric ferryd_upstream_leaks_total)"
check "after the abort: the leak is not logged" \
    sh -c '! grep -q "was leaked" "$1"' sh "$T/ferryd.log"

# Still serving, and the pool still works.
code=$(px -o "$T/ok.b" -w '%{http_code}' "$U/size/1000") || true
check_eq "still serving: 200" 200 "$code"
check_eq "still serving: whole body" 1000 "$(wc -c 2>/dev/null <"$T/ok.b" | tr -d ' ')"
code=$(px -o /dev/null -w '%{http_code}' "$U/size/1000") || true
check_eq "still serving: second 200" 200 "$code"
check "idle connection back in the pool" wait_for 5 in_use_zero
check_eq "no leak at the end" 0 "$(metric ferryd_upstream_leaks_total)"
check "clean exit" stop_ferryd
finish
