#!/bin/sh
# 25-upload.sh - request bodies stream through ferryd as they come, with
# backpressure both ways: memory stays flat whatever the size; Expect:
# 100-continue goes to the origin and its answer comes back (a 417 makes
# curl retry without it, a 401 stops the upload); chunked bodies keep
# their trailers; clients that stall or leave mid-body free everything.
. "$TESTS_DIR/integration/lib.sh"

INUSE='ferryd_upstream_connections{state="in_use"}'
inuse_is() { [ "$(metric "$INUSE")" = "$1" ]; }
no_leak_logged() { ! grep -q "was leaked" "$T/ferryd.log"; }
# field NAME: a value of /upload's report line on stdin.
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
sha_of() { sha256sum <"$1" | cut -c1-64; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$FERRYD_PID/status"; }
# mkdata FILE BYTES: pseudo-random bytes, fast (AES-CTR of zeros).
mkdata() {
	openssl enc -aes-128-ctr -nosalt -pass pass:ferryd -pbkdf2 \
	    -in /dev/zero 2>/dev/null | head -c "$2" >"$1"
}
# Peak RSS bounds hold for the plain build; ASan's shadow memory and
# quarantine make them meaningless there (the figures are still shown).
rss_check() {
	if [ "${SANITIZERS:-no}" = yes ]; then
		ok "$1: peak RSS $2 kB (not checked under ASan)"
	else
		check_le "$1: ferryd's peak RSS (kB)" "$2" "$3"
	fi
}

start_origin
O="http://127.0.0.1:$ORIGIN_PORT"
start_ferryd server.max_body_size=2g server.client_idle_timeout=2 \
    pool.keepalive=1

# --- 1 GiB with Content-Length (curl -T sends Expect: 100-continue).
mkdata "$T/big" 1073741824
want=$(sha_of "$T/big")
out=$(px --max-time 120 -T "$T/big" "$O/upload")
check_eq "1 GiB upload: every byte arrives" 1073741824 "$(echo "$out" | field bytes)"
check_eq "1 GiB upload: SHA-256 intact" "$want" "$(echo "$out" | field sha256)"
check_eq "1 GiB upload: Expect went to the origin" 1 "$(echo "$out" | field expect)"
rss_check "1 GiB upload" "$(hwm_kb)" 16384

# --- Ten at once, 100 MiB each, one of them to an origin slower than
# its client: ferryd holds a few socket buffers per upload.
head -c 104857600 "$T/big" >"$T/b100"
rm -f "$T/big"
want=$(sha_of "$T/b100")
for i in 0 1 2 3 4 5 6 7 8 9; do
	q=""
	[ "$i" = 0 ] && q="?slow=1"
	px --max-time 120 -T "$T/b100" "$O/upload$q" >"$T/up.$i" &
	eval "p$i=\$!"
done
good=0
for i in 0 1 2 3 4 5 6 7 8 9; do
	eval "wait \$p$i" || true
	[ "$(field sha256 <"$T/up.$i")" = "$want" ] && good=$((good + 1))
done
check_eq "ten concurrent 100 MiB uploads: all intact" 10 "$good"
rss_check "ten concurrent 100 MiB uploads" "$(hwm_kb)" 32768

# --- A body of unknown length (stdin): chunked all the way.
out=$(px --max-time 60 -T - "$O/upload" <"$T/b100")
check_eq "chunked 100 MiB: intact" "$want" "$(echo "$out" | field sha256)"
check_eq "chunked 100 MiB: chunked to the origin" chunked "$(echo "$out" | field framing)"

# --- The origin sees the request before its body is all sent: a client
# that sends 10 bytes of 1000, then waits.
reqs=$(origin_stat requests)
rawseq 127.0.0.1 "$PROXY_PORT" \
    "PUT $O/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789" \
    sleep:1 "0123456789" >"$T/early" &
pid=$!
sleep 0.5
check_eq "the head reaches the origin before the body ends" $((reqs + 1)) \
    "$(origin_stat requests)"
wait "$pid" || true
check_eq "... and the body follows" 20 "$(tail -n 1 "$T/early" | field bytes)"

# --- Expect: 100-continue, end to end.
head -c 3000000 "$T/b100" >"$T/b3"
want3=$(sha_of "$T/b3")
out=$(px -w ' code=%{http_code} time=%{time_total}' -T "$T/b3" "$O/upload")
check_eq "Expect: the origin's 100 Continue, then the body" \
    "1 $want3 200" "$(echo "$out" | field expect) $(echo "$out" | field sha256) $(echo "$out" | field code)"
ms=$(echo "$out" | field time | awk '{ printf "%d", $1 * 1000 }')
check_le "Expect: no 1 s wait for a 100 that comes (ms)" "$ms" 900
# curl's own Expect (bodies over 1 MiB), which it leaves out when it asks
# again; it sends the body anyway after --expect100-timeout (1 s by
# default): a slow CI machine must not turn this into a 417 after the
# body began.
acc=$(metric ferryd_client_connections_accepted_total)
out=$(px -w ' code=%{http_code}' --expect100-timeout 10 -T "$T/b3" "$O/upload?expect-fail")
check_eq "417 to the Expect: asked again without it, the upload succeeds" \
    "200 0 $want3" "$(echo "$out" | field code) $(echo "$out" | field expect) $(echo "$out" | field sha256)"
check_eq "... on the same client connection" 1 \
    $(( $(metric ferryd_client_connections_accepted_total) - acc - 1 ))
# The same after a retry: the pooled connection is dropped when the head
# arrives (?drop-next), the request goes again with its Expect, and the
# 417 to that one is asked again too.
px -o /dev/null "$O/size/1?drop-next"
retries0=$(metric ferryd_upstream_retries_total)
out=$(px -w ' code=%{http_code}' --expect100-timeout 10 -T "$T/b3" "$O/upload?expect-fail")
check_eq "417 after a retry on a dropped connection: asked again, succeeds" \
    "200 0 $want3" "$(echo "$out" | field code) $(echo "$out" | field expect) $(echo "$out" | field sha256)"
check_eq "... the held body (none of it sent) was retried" $((retries0 + 1)) \
    "$(metric ferryd_upstream_retries_total)"
# The origin's 417 never reaches the client: ferryd asks again without
# Expect and tells the client to go on, so whatever the client sends next
# is the body, even sent early, without waiting (RFC 9110 10.1.1): the
# origin gets it as a body, never as a request.
SMUG="GET $O/size/1 HTTP/1.1\r\nHost: x\r\n\r\n"
SMUG_LEN=$(printf "$SMUG" | wc -c)
r0=$(origin_stat requests)
out=$(rawseq 127.0.0.1 "$PROXY_PORT" \
    "PUT $O/upload?expect-fail HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: $SMUG_LEN\r\nConnection: close\r\n\r\n" \
    sleep:0.5 "$SMUG")
check_eq "417 to the Expect: ferryd's 100, then the origin's 200 for the body" \
    "100 200 $SMUG_LEN 0" \
    "$(echo "$out" | awk '/^HTTP\/1/ { printf "%s ", $2 }')$(echo "$out" | grep '^bytes=' | field bytes) $(echo "$out" | grep '^bytes=' | field expect)"
check_eq "... the origin got the refused request and the one asked again" $((r0 + 2)) "$(origin_stat requests)"
r0=$(origin_stat requests)
out=$(rawseq 127.0.0.1 "$PROXY_PORT" \
    "PUT $O/upload?expect-fail&delay=500 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: $SMUG_LEN\r\nConnection: close\r\n\r\n" \
    sleep:0.1 "$SMUG" sleep:1)
check_eq "417 after a body sent without waiting: the body goes as a body" \
    "$SMUG_LEN 0 $((r0 + 2))" \
    "$(echo "$out" | grep '^bytes=' | field bytes) $(echo "$out" | grep '^bytes=' | field expect) $(origin_stat requests)"
out=$(px -D "$T/h401e" -w ' code=%{http_code} up=%{size_upload}' -T "$T/b3" "$O/upload?early=401")
check_eq "401 before the body: relayed, and the body never sent" \
    "401 0" "$(echo "$out" | field code) $(echo "$out" | field up)"
# The body was never read: the client may still send it (RFC 9110
# 10.1.1), so its next bytes cannot be taken for a request.
check "401 before the body: Connection: close" grep -qi '^Connection: close' "$T/h401e"
# Without Expect the client sends at once; the rest of its body is not
# read, so its connection ends with the reply too.
px -D "$T/h401" -o /dev/null -H 'Expect:' -T "$T/b100" "$O/upload?early=401" || true
check_eq "401 while the body streams: relayed" 401 "$(status_of <"$T/h401")"
check "401 while the body streams: Connection: close" grep -qi '^Connection: close' "$T/h401"
check "in_use back to 0 after the early answers" wait_for 3 inuse_is 0

# --- A body left unread must never be taken for a request, however the
# early answer came: a client may send the body after it (RFC 9110
# 10.1.1).  Each body here is a whole request; the origin must see only
# the upload, and the client one reply, ending the connection.
# unread_body DESCRIPTION RAWSEQ_PIECES...
unread_body() {
	d=$1
	shift
	r0=$(origin_stat requests)
	out=$(rawseq 127.0.0.1 "$PROXY_PORT" "$@")
	check_eq "$d: one reply, Connection: close, nothing smuggled" "1 1 $((r0 + 1))" \
	    "$(echo "$out" | grep -c '^HTTP/1\.[01] [2-5]') $(echo "$out" | grep -ci '^Connection: close') $(origin_stat requests)"
}
unread_body "no Expect, 417 at once, body after it" \
    "PUT $O/upload?early=417 HTTP/1.1\r\nHost: x\r\nContent-Length: $SMUG_LEN\r\n\r\n" \
    sleep:0.5 "$SMUG"
unread_body "Expect, the origin's 100 then 417, body after the 100" \
    "PUT $O/upload?late=417 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: $SMUG_LEN\r\n\r\n" \
    sleep:0.5 "$SMUG"
unread_body "HTTP/1.0 keep-alive client with Expect, 417 at once" \
    "PUT $O/upload?early=417 HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: $SMUG_LEN\r\n\r\n" \
    sleep:0.5 "$SMUG"
unread_body "401 after the origin's 100, body after the 100" \
    "PUT $O/upload?late=401 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: $SMUG_LEN\r\n\r\n" \
    sleep:0.5 "$SMUG"

# --- An HTTP/1.0 origin: no 100 Continue ever comes; the body goes
# after a second all the same.  Once ferryd has heard it answer in
# HTTP/1.0 it sends it no Expect, and tells the client to go on itself.
out=$(px -w ' code=%{http_code}' -T "$T/b3" "$O/upload?http10")
check_eq "HTTP/1.0 origin: upload intact" "200 $want3" \
    "$(echo "$out" | field code) $(echo "$out" | field sha256)"
out=$(px -w ' code=%{http_code} time=%{time_total}' --expect100-timeout 10 \
    -T "$T/b3" "$O/upload?http10")
check_eq "HTTP/1.0 origin known: intact, and no Expect reaches it" \
    "200 $want3 0" "$(echo "$out" | field code) $(echo "$out" | field sha256) $(echo "$out" | field expect)"
ms=$(echo "$out" | field time | awk '{ printf "%d", $1 * 1000 }')
check_le "HTTP/1.0 origin known: ferryd's own 100 Continue, no wait (ms)" "$ms" 900
# RFC 9112 6.1: no Transfer-Encoding to a server known for HTTP/1.0 (it
# would take the chunks for the body, or lose them).
code=$(px -o /dev/null -w '%{http_code}' -T - "$O/upload?http10" <"$T/b3" || true)
check_eq "HTTP/1.0 origin known: a body of unknown length gets 411" 411 "$code"
# The test origin was HTTP/1.0 only for ?http10: one HTTP/1.1 answer and
# ferryd forgets it.
check_eq "an HTTP/1.1 answer again" 200 "$(px -o /dev/null -w '%{http_code}' "$O/size/1")"
out=$(px -T "$T/b3" "$O/upload")
check_eq "... and Expect goes to it again" 1 "$(echo "$out" | field expect)"

# --- Trailers: passed on with a body streamed chunked (less the ones a
# trailer must not carry), dropped when the body went with a length.
out=$(rawseq 127.0.0.1 "$PROXY_PORT" \
    "PUT $O/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n" \
    sleep:0.3 "0\r\nX-Sum: 42\r\nContent-Length: 9\r\n\r\n" \
    "GET $O/size/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check_eq "request trailers: forwarded with the chunked body" \
    "chunked 5 X-Sum: 42" "$(echo "$out" | grep '^bytes=' | field framing) $(echo "$out" | grep '^bytes=' | field bytes) $(echo "$out" | grep '^bytes=' | sed 's/.*trailers=//' | tr -d '\r')"
check_eq "request trailers: the next request on the connection is served" 2 \
    "$(echo "$out" | grep -c '^HTTP/1.1 200')"
out=$(rawseq 127.0.0.1 "$PROXY_PORT" \
    "PUT $O/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n")
check_eq "a chunked body here whole goes with its length, trailers dropped" \
    "length trailers=" "$(echo "$out" | grep '^bytes=' | field framing) $(echo "$out" | grep '^bytes=' | sed 's/.*\(trailers=.*\)/\1/' | tr -d '\r')"
px --raw -o "$T/rt" "$O/chunked-trailers/10" || true
check "response trailers reach an HTTP/1.1 client" grep -q '^X-Body-Length: 10' "$T/rt"
check "a response trailer that must not pass is dropped" sh -c '! grep -q "^Content-Length" "$1"' - "$T/rt"

# --- A client that stalls mid-body: 408 after client_idle_timeout (2 s),
# and the upstream connection is closed, not pooled.
t0=$(date +%s%N)
out=$(rawseq 127.0.0.1 "$PROXY_PORT" \
    "PUT $O/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "a client stalled mid-body: 408" 408 "$(echo "$out" | status_of)"
check_le "... at client_idle_timeout (ms)" "$ms" 4500
check "in_use back to 0 after the stall" wait_for 3 inuse_is 0

# --- A client that closes mid-body.
rawseq 127.0.0.1 "$PROXY_PORT" \
    "PUT $O/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789" \
    sleep:0.3 close
check "a client gone mid-body: in_use back to 0" wait_for 3 inuse_is 0
check "a client gone mid-body: logged" wait_for 3 \
    grep -q 'client went away after 10 bytes of the request body' "$T/ferryd.log"

check_eq "no leak counted" 0 "$(metric ferryd_upstream_leaks_total)"
check "clean exit" stop_ferryd
check "no \"was leaked\" line in the log" no_leak_logged

# --- max_body_size is crossed mid-stream: 413, the upstream connection
# closed.
start_ferryd server.max_body_size=1m
out=$(px -D - -o /dev/null -w '%{http_code}' -T - "$O/upload" <"$T/b3" || true)
check_eq "a chunked body over max_body_size: 413" 413 "$(echo "$out" | tail -n 1)"
check "413: in_use back to 0" wait_for 3 inuse_is 0
check "clean exit after the 413" stop_ferryd
finish
