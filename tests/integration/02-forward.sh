#!/bin/sh
# 02-forward.sh - plain forwarding with real curl: every method reaches the
# origin in origin-form over HTTP/1.1 with Host rebuilt, Via added and the
# hop-by-hop headers gone; request bodies re-framed with Content-Length;
# every response framing (length, chunked, close, HEAD, 204, 304, 100,
# hop-by-hop) arrives intact, to HTTP/1.1 and HTTP/1.0 clients.
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_ferryd
U="http://127.0.0.1:$ORIGIN_PORT"
HOSTHDR="Host: 127.0.0.1:$ORIGIN_PORT"

# pattern_md5 N: md5 of the origin's generated body of N bytes.
pattern_md5() {
	yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c "$1" | md5sum |
	    awk '{ print $1 }'
}

# md5_of FILE
md5_of() {
	md5sum 2>/dev/null <"$1" | awk '{ print $1 }'
}

# echo_head FILE: the request head the origin saw, CRs removed.
echo_head() {
	tr -d '\r' 2>/dev/null <"$1" | sed '/^$/q' | sed '/^$/d'
}

# echo_body FILE: the request body the origin saw (after CRLFCRLF).
echo_body() {
	n=$(sed '/^\r$/q' "$1" | wc -c)
	tail -c +$((n + 1)) "$1"
}

# dechunk: a chunked body on stdin, decoded (trailers dropped).
dechunk() {
	python3 -c '
import sys
d = sys.stdin.buffer.read(); out = bytearray()
while True:
    eol = d.index(b"\r\n"); n = int(d[:eol], 16); d = d[eol + 2:]
    if n == 0: break
    out += d[:n]; d = d[n + 2:]
sys.stdout.buffer.write(out)'
}

# has_line FILE LINE: the echoed head has exactly this line.
has_line() {
	echo_head "$1" | grep -qxF -- "$2"
}

# no_field FILE NAME: the echoed head has no field NAME.
no_field() {
	! echo_head "$1" | grep -qi "^$2:"
}

# count_field FILE NAME
count_field() {
	echo_head "$1" | grep -ci "^$2:" || true
}

# Every method, origin-form, HTTP/1.1, Host, Via.
for m in GET POST PUT DELETE OPTIONS PATCH TRACE; do
	px -X "$m" -o "$T/echo.$m" "$U/echo?q=1&r=$m" || true
	check_eq "$m: request line in origin-form over HTTP/1.1" \
	    "$m /echo?q=1&r=$m HTTP/1.1" "$(echo_head "$T/echo.$m" | head -n 1)"
	check "$m: Host rebuilt from the URI" has_line "$T/echo.$m" "$HOSTHDR"
	check "$m: Via added" has_line "$T/echo.$m" "Via: 1.1 ferryd"
	check "$m: no Transfer-Encoding" no_field "$T/echo.$m" Transfer-Encoding
done
for m in GET DELETE OPTIONS TRACE; do
	check "$m without body: no Content-Length" no_field "$T/echo.$m" Content-Length
done
for m in POST PUT PATCH; do
	check "$m without body: Content-Length: 0" has_line "$T/echo.$m" "Content-Length: 0"
done

# HEAD reaches the origin (its answer has the echo's length, no body).
before=$(origin_stat requests)
code=$(px -I -o "$T/head.h" -w '%{http_code}' "$U/echo") || true
check_eq "HEAD: 200" 200 "$code"
check_eq "HEAD: one request at the origin" $((before + 1)) "$(origin_stat requests)"
check "HEAD: Content-Length of the would-be body" \
    grep -qi '^Content-Length: [1-9][0-9]*' "$T/head.h"

# Host from the URI even when the client names another; exactly one Host.
px -H 'Host: other.example' -o "$T/echo.host" "$U/echo" || true
check "client Host replaced by the URI's" has_line "$T/echo.host" "$HOSTHDR"
check_eq "exactly one Host" 1 "$(count_field "$T/echo.host" Host)"
check "client's Host not forwarded" sh -c '! grep -qi "other.example" "$1"' sh "$T/echo.host"

# Hop-by-hop request headers, and the ones named in Connection.
px -H 'Connection: X-Foo, Keep-Alive' -H 'X-Foo: 1' -H 'Keep-Alive: 300' \
    -H 'Proxy-Connection: keep-alive' -H 'TE: trailers' \
    -H 'Proxy-Authorization: Basic Zm9vOmJhcg==' -H 'X-Bar: 2' \
    -o "$T/echo.hop" "$U/echo" || true
for f in Keep-Alive X-Foo Proxy-Connection TE Proxy-Authorization; do
	check "request $f removed" no_field "$T/echo.hop" "$f"
done
# The client's Connection goes; ferryd's own says keep-alive, once.
check_eq "request Connection is ferryd's: keep-alive" "Connection: keep-alive" \
    "$(tr -d '\r' < "$T/echo.hop" | grep -i '^Connection:')"
check "end-to-end X-Bar kept" has_line "$T/echo.hop" "X-Bar: 2"
check "Via still added" has_line "$T/echo.hop" "Via: 1.1 ferryd"

# Request bodies: --data gets its exact Content-Length.
px --data 'hello=world' -o "$T/echo.data" "$U/echo" || true
check "POST --data: Content-Length: 11" has_line "$T/echo.data" "Content-Length: 11"
check_eq "POST --data: body intact" "hello=world" "$(echo_body "$T/echo.data")"
check_eq "POST --data: one Content-Length" 1 "$(count_field "$T/echo.data" Content-Length)"
px -X PUT --data-binary 'put body' -o "$T/echo.put" "$U/echo" || true
check "PUT --data-binary: Content-Length: 8" has_line "$T/echo.put" "Content-Length: 8"
check_eq "PUT: body intact" "put body" "$(echo_body "$T/echo.put")"
# A GET with a body (Elasticsearch's _search, for one): evhttp reads it.
px -X GET --data-binary '{"q":1}' -H 'Content-Type: application/json' "$U/echo" >"$T/echo.getbody"
check "GET with a body: Content-Length 7" has_line "$T/echo.getbody" "Content-Length: 7"
check_eq "GET with a body: body intact" '{"q":1}' "$(echo_body "$T/echo.getbody")"

# A chunked upload streams on chunked, or with its Content-Length when the
# whole body came with its head; either way the body arrives intact.
head -c 100000 /dev/urandom >"$T/up.bin"
px -H 'Transfer-Encoding: chunked' --data-binary @"$T/up.bin" -o "$T/echo.chunked" "$U/echo" || true
if has_line "$T/echo.chunked" "Transfer-Encoding: chunked"; then
	check "chunked upload: no Content-Length with chunked" \
	    no_field "$T/echo.chunked" Content-Length
	echo_body "$T/echo.chunked" | dechunk >"$T/echo.chunked.body"
else
	check "chunked upload: Content-Length: 100000" \
	    has_line "$T/echo.chunked" "Content-Length: 100000"
	echo_body "$T/echo.chunked" >"$T/echo.chunked.body"
fi
check_eq "chunked upload: body md5" "$(md5_of "$T/up.bin")" "$(md5_of "$T/echo.chunked.body")"

# Response: Content-Length.
px -D "$T/size.h" -o "$T/size.b" "$U/size/100000" || true
check_eq "Content-Length body: size" 100000 "$(wc -c 2>/dev/null <"$T/size.b" | tr -d ' ')"
check_eq "Content-Length body: md5" "$(pattern_md5 100000)" "$(md5_of "$T/size.b")"
check "Content-Length response: header kept" grep -qix 'Content-Length: 100000.' "$T/size.h"
check "response Via added" grep -qix 'Via: 1.1 ferryd.' "$T/size.h"

# Response: chunked.
code=$(px -D "$T/chunked.h" -o "$T/chunked.b" -w '%{http_code}' "$U/chunked/300000") || true
check_eq "chunked: 200" 200 "$code"
check_eq "chunked: md5" "$(pattern_md5 300000)" "$(md5_of "$T/chunked.b")"
check_eq "chunked: empty body" "" "$(px "$U/chunked/0")"

# Response: close-delimited.
code=$(px -o "$T/close.b" -w '%{http_code}' "$U/close/300000") || true
check_eq "close-delimited: 200" 200 "$code"
check_eq "close-delimited: md5" "$(pattern_md5 300000)" "$(md5_of "$T/close.b")"

# HEAD: headers, not a byte of body (raw, so that curl cannot hide it).
printf 'HEAD %s/size/1000 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' \
    "$U" "$ORIGIN_PORT" | raw 127.0.0.1 "$PROXY_PORT" >"$T/head.raw"
check_eq "raw HEAD: 200" 200 "$(status_of <"$T/head.raw")"
check "raw HEAD: Content-Length of the body" grep -q '^Content-Length: 1000.$' "$T/head.raw"
check_eq "raw HEAD: no body bytes" "" "$(echo_body "$T/head.raw")"
printf 'HEAD %s/chunked/1000 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' \
    "$U" "$ORIGIN_PORT" | raw 127.0.0.1 "$PROXY_PORT" >"$T/headc.raw"
check_eq "raw HEAD of chunked: 200" 200 "$(status_of <"$T/headc.raw")"
check_eq "raw HEAD of chunked: no body bytes" "" "$(echo_body "$T/headc.raw")"

# 204 and 304: no body, and the connection stays usable for the next one.
printf 'GET %s/status/204 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$U" "$ORIGIN_PORT" >"$T/req"
printf 'GET %s/status/304 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$U" "$ORIGIN_PORT" >>"$T/req"
printf 'GET %s/size/5 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$U" "$ORIGIN_PORT" >>"$T/req"
# Prints the statuses in order, then "body=" and what follows the last head
# (nothing may follow the 204 and 304 heads), then whether 204 had a length.
python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(open(sys.argv[2], "rb").read())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
p = out.split(b"\r\n\r\n")
st = [x.split(b" ")[1].decode() for x in p[:-1] if x.startswith(b"HTTP/1.1 ")]
print(" ".join(st), "body=" + p[-1].decode("latin-1"),
    "cl204=" + str(b"content-length" in p[0].lower()))' "$PROXY_PORT" "$T/req" >"$T/nobody.out" || true
check_eq "204, 304, 200 on one connection, no body after 204/304" \
    "204 304 200 body=abcde cl204=False" "$(cat "$T/nobody.out")"
code=$(px -o /dev/null -w '%{http_code}' "$U/status/204") || true
check_eq "curl: 204" 204 "$code"
code=$(px -o /dev/null -w '%{http_code}' "$U/status/304") || true
check_eq "curl: 304" 304 "$code"

# 100 Continue, then 200.
px -H 'Expect: 100-continue' --data 'x' -D "$T/cont.h" -o "$T/cont.b" "$U/continue" || true
check_eq "/continue: 100 then 200" "100 200" \
    "$(grep '^HTTP/' "$T/cont.h" | awk '{ printf "%s%s", sep, $2; sep = " " }')"
check_eq "/continue: body" "ok" "$(cat "$T/cont.b")"
px --data 'x' -D "$T/cont2.h" -o "$T/cont2.b" "$U/continue" || true
check_eq "/continue without Expect: 200 (the origin's 100 absorbed or passed)" 200 \
    "$(grep '^HTTP/' "$T/cont2.h" | tail -n 1 | awk '{ print $2 }')"

# Hop-by-hop response headers.
px -D "$T/hop.h" -o "$T/hop.b" "$U/hop" || true
for f in X-Drop-Me Close-Me Keep-Alive Proxy-Authenticate Trailer Upgrade; do
	check "response $f removed" sh -c '! grep -qi "^$2:" "$1"' sh "$T/hop.h" "$f"
done
check "response Connection from the origin not passed" \
    sh -c '! grep -qi "^Connection:.*close-me" "$1"' sh "$T/hop.h"
check "response X-Keep-Me kept" grep -qix 'X-Keep-Me: 1.' "$T/hop.h"
check "response Via added" grep -qix 'Via: 1.1 ferryd.' "$T/hop.h"
check_eq "/hop body" "ok" "$(cat "$T/hop.b")"

# HTTP/1.0 clients get whole bodies of chunked and close-delimited origins
# (each a few times: the end of the body may race the client's drain).
px -0 -D "$T/h10c.h" -o "$T/h10c.b" "$U/chunked/200000" || true
check_eq "HTTP/1.0 client, chunked origin: md5" "$(pattern_md5 200000)" "$(md5_of "$T/h10c.b")"
check "HTTP/1.0 client, chunked origin: not chunked" \
    sh -c '! grep -qi "^Transfer-Encoding" "$1"' sh "$T/h10c.h"
px -0 -o "$T/h10k.b" "$U/close/200000" || true
check_eq "HTTP/1.0 client, close origin: md5" "$(pattern_md5 200000)" "$(md5_of "$T/h10k.b")"
good=0
for _ in 1 2 3 4 5; do
	for p in chunked close size; do
		s=$(px -0 -o /dev/null -w '%{http_code}:%{size_download}' "$U/$p/1000") || true
		[ "$s" = "200:1000" ] && good=$((good + 1))
	done
done
check_eq "HTTP/1.0 client: 15 small bodies of every framing complete" 15 "$good"
px -0 -o "$T/echo.10" "$U/echo" || true
check "HTTP/1.0 client: upstream request is HTTP/1.1" \
    sh -c 'tr -d "\r" <"$1" | head -n 1 | grep -qx "GET /echo HTTP/1.1"' sh "$T/echo.10"
check "HTTP/1.0 client: Host added" has_line "$T/echo.10" "$HOSTHDR"

check "clean exit" stop_ferryd
finish
