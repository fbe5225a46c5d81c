#!/bin/sh
# 21-connect.sh - CONNECT tunnels: curl to an https origin through ferryd
# (certificate made at test time), bytes sent before the 200 relayed,
# half-close passed on both ways, the refusals (403 port, 502 closed port,
# 400 not authority-form), a 50 MiB download with bounded memory, many
# tunnels at once, the idle timeout, the counters and the access log.
. "$TESTS_DIR/integration/lib.sh"

start_tls_origin
start_echo
start_blackhole
CLOSED_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_ferryd access.connect_ports="$TLS_PORT $ECHO_PORT $CLOSED_PORT $BLACKHOLE_PORT" \
    server.client_idle_timeout=2 upstream.connect_timeout=1 \
    log.access_log="$T/access.log"
S="https://127.0.0.1:$TLS_PORT"

# tunnel_raw PORT PAYLOAD: CONNECT to PORT sending PAYLOAD in the same
# write as the head, then half-closes; prints what came back until EOF.
tunnel_raw() {
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
head = "CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n" % (sys.argv[2], sys.argv[2])
s.sendall(head.encode() + sys.argv[3].encode())
reply = b""
while b"\r\n\r\n" not in reply:
    b = s.recv(65536)
    if not b:
        break
    reply += b
s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(65536)
    if not b:
        break
    reply += b
sys.stdout.write(reply.decode("latin-1"))
' "$PROXY_PORT" "$1" "$2"
}

# connect_code PORT: the status ferryd gave curl's CONNECT to PORT.
connect_code() {
	curl -s -o /dev/null -w '%{http_connect}' --max-time 20 \
	    --cacert "$TLS_CERT" -x "$PROXY" "https://127.0.0.1:$1/" || true
}

body=$(curl -s --max-time 20 --cacert "$TLS_CERT" -x "$PROXY" "$S/hello" || true)
check_eq "curl -x: https page through the tunnel" \
    '<!DOCTYPE html><html><head><title>tls origin</title></head><body><p id="where">/hello over TLS</p></body></html>' \
    "$body"
check_eq "CONNECT answered 200" 200 "$(connect_code "$TLS_PORT")"

out=$(tunnel_raw "$ECHO_PORT" "early bytes")
check "bytes sent with the CONNECT head are relayed, EOF both ways" \
    test "$out" = "$(printf 'HTTP/1.1 200 Connection established\r\n\r\nearly bytes')"

# Pauses shorter than client_idle_timeout are fine, however long the
# connect timeout (libevent would re-arm that one after each read).
out=$(python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
got = b""
for word in (b"one ", b"two"):
    s.sendall(word)
    while not got.endswith(word):
        got += s.recv(100)
    time.sleep(1.5)
sys.stdout.write(got.decode())
' "$PROXY_PORT" "$ECHO_PORT")
check_eq "pauses of 1.5 s, connect_timeout 1 s: the tunnel lives" \
    "$(printf 'HTTP/1.1 200 Connection established\r\n\r\none two')" "$out"

check_eq "port not in connect_ports: 403" 403 "$(connect_code 8443)"
check_eq "closed port: 502" 502 "$(connect_code "$CLOSED_PORT")"
t0=$(date +%s%N)
check_eq "connect timeout (1 s): 504" 504 "$(connect_code "$BLACKHOLE_PORT")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "504 after about connect_timeout ($ms ms)" test "$ms" -ge 900 -a "$ms" -lt 8000
# The client gives up while ferryd connects: counted as 499, nothing kept
# (ASan checks the exit for leaks).
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
time.sleep(0.3)
s.close()
' "$PROXY_PORT" "$BLACKHOLE_PORT"
gone() { [ "$(metric 'ferryd_requests_total{code="499"}')" = 1 ]; }
check "client gone while connecting: 499" wait_for 5 gone
# A refused CONNECT's tunnel bytes are never read as a request (evhttp
# would: it keeps a connection open after any reply to a CONNECT).
out=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' \
    "$CLOSED_PORT" | raw 127.0.0.1 "$PROXY_PORT")
check_eq "closed port, a request after the CONNECT: one reply, then close" \
    "502 1" "$(echo "$out" | status_of) $(echo "$out" | grep -c '^HTTP/1')"
st=$(printf 'CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n' | raw 127.0.0.1 "$PROXY_PORT" | status_of)
check_eq "CONNECT not in authority-form: 400" 400 "$st"
st=$(printf 'CONNECT localhost:%s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab' \
    "$ECHO_PORT" | raw 127.0.0.1 "$PROXY_PORT" | status_of)
check_eq "CONNECT with a body: 400" 400 "$st"

# 50 MiB through one tunnel to a client reading at 20 MB/s: ferryd must
# stop reading the origin, not buffer the body.
BIG=52428800
got=$(curl -s --max-time 60 --limit-rate 20m --cacert "$TLS_CERT" -x "$PROXY" \
    -o /dev/null -w '%{size_download}' "$S/bytes/$BIG" || true)
check_eq "50 MiB through a tunnel" "$BIG" "$got"
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$FERRYD_PID/status")
if [ "${SANITIZERS:-no}" = yes ]; then
	echo "ok - 50 MiB tunnel: VmHWM $hwm kB under 16384 kB # SKIP sanitizer build"
else
	check_le "50 MiB tunnel: VmHWM (kB) stays small" "$hwm" 16384
fi

# 40 tunnels at once.
i=0
CURLS=""
while [ $i -lt 40 ]; do
	curl -s --max-time 30 --cacert "$TLS_CERT" -x "$PROXY" -o "$T/many.$i" \
	    "$S/bytes/100000" &
	CURLS="$CURLS $!"
	i=$((i + 1))
done
all_whole() {
	i=0
	while [ $i -lt 40 ]; do
		[ -f "$T/many.$i" ] && [ "$(wc -c < "$T/many.$i")" -eq 100000 ] ||
			return 1
		i=$((i + 1))
	done
}
for p in $CURLS; do wait "$p" || true; done
check "40 tunnels at once: every download whole" all_whole

no_tunnel_left() { [ "$(metric ferryd_tunnels_active)" = 0 ]; }
check "every tunnel closed" wait_for 10 no_tunnel_left
check_eq "tunnels counted" 45 "$(metric ferryd_tunnels_total)"
check_eq "tunnels are not pooled" 0 "$(metric ferryd_upstream_connections_opened_total)"

# A silent tunnel closes after client_idle_timeout (2 s).
t0=$(date +%s%N)
out=$(python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())
' "$PROXY_PORT" "$ECHO_PORT")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "idle tunnel: open, then closed by ferryd" \
    test "$out" = "$(printf 'HTTP/1.1 200 Connection established\r\n\r\n')"
check "idle tunnel closed after about 2 s ($ms ms)" test "$ms" -ge 1900 -a "$ms" -lt 8000

check "access log: a line per tunnel" \
    grep -q "^[^ ]* 127.0.0.1 CONNECT 127.0.0.1:$TLS_PORT 200 [0-9]* [0-9]* [0-9]* new$" "$T/access.log"
check "access log: the refused port" \
    grep -q "^[^ ]* 127.0.0.1 CONNECT 127.0.0.1:8443 403 " "$T/access.log"
check "access log: the connect timeout" \
    grep -q "^[^ ]* 127.0.0.1 CONNECT 127.0.0.1:$BLACKHOLE_PORT 504 " "$T/access.log"
check "access log: the closed port" \
    grep -q "^[^ ]* 127.0.0.1 CONNECT 127.0.0.1:$CLOSED_PORT 502 " "$T/access.log"

# SIGTERM with a tunnel open: ferryd waits for shutdown_timeout, then
# closes it and exits cleanly (no leak under ASan).
stop_ferryd
start_ferryd access.connect_ports="$ECHO_PORT" server.shutdown_timeout=1
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
s.recv(100)
time.sleep(30)
' "$PROXY_PORT" "$ECHO_PORT" &
HOLD=$!
PIDS="$PIDS $HOLD"
open_one() { [ "$(metric ferryd_tunnels_active)" = 1 ]; }
check "a tunnel is open" wait_for 10 open_one
check "SIGTERM with an open tunnel: clean exit" stop_ferryd
kill "$HOLD" 2>/dev/null || true

# With every port allowed, a CONNECT to ferryd itself is refused (it
# would nest without end: one write of such CONNECTs opened 1000).
start_ferryd access.connect_ports='*'
st=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n' "$PROXY_PORT" |
    raw 127.0.0.1 "$PROXY_PORT" | status_of)
check_eq "CONNECT to ferryd's own address: 403" 403 "$st"
st=$(printf 'CONNECT localhost:%s HTTP/1.1\r\nHost: x\r\n\r\n' "$PROXY_PORT" |
    raw 127.0.0.1 "$PROXY_PORT" | status_of)
check_eq "CONNECT to ferryd by name: 403" 403 "$st"
for spelling in 0.0.0.0 '[::ffff:127.0.0.1]' '[::ffff:0.0.0.0]'; do
	st=$(printf 'CONNECT %s:%s HTTP/1.1\r\nHost: x\r\n\r\n' "$spelling" "$PROXY_PORT" |
	    raw 127.0.0.1 "$PROXY_PORT" | status_of)
	check_eq "CONNECT to ferryd as $spelling: 403" 403 "$st"
done
check_eq "no tunnel opened" 0 "$(metric ferryd_tunnels_total)"
check "clean exit (self)" stop_ferryd

finish
