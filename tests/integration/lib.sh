# lib.sh - shared by the integration tests (sourced, not run).
#
# Starts the test origin and the real ferryd on free loopback ports (both
# bind 127.0.0.1:0 and say which port they got), drives them with curl,
# and stops every process it started, by PID, when the test exits.
# Results: check/check_eq print "ok"/"not ok" lines; finish prints
# "N passed, N failed" and sets the exit status.
set -eu

: "${FERRYD:?FERRYD must name the ferryd binary}"
: "${ORIGIN:?ORIGIN must name the test origin binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/ferryd-test.XXXXXX")
PIDS=""
PASSED=0
FAILED=0

cleanup() {
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$FAILED" -gt 0 ] || [ -n "${KEEP_TEST_DIR:-}" ]; then
		echo "# logs kept in $T"
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# ---- $f (last 40 lines)"
			tail -n 40 "$f" | sed 's/^/# /'
		done
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $1"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# check_le DESCRIPTION A B: A <= B (integers)
check_le() {
	if [ "$2" -le "$3" ]; then ok "$1 ($2 <= $3)"; else not_ok "$1 ($2 > $3)"; fi
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# wait_for SECONDS COMMAND...: polls every 0.05 s until the command succeeds.
wait_for() {
	limit=$1
	shift
	end=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -lt "$end" ] || return 1
		sleep 0.05
	done
}

# start_origin [ARGS...]: sets ORIGIN_PORT, ORIGIN_CTL, ORIGIN_PID.
start_origin() {
	n=${ORIGIN_N:-0}
	ORIGIN_N=$((n + 1))
	rm -f "$T/origin$n.ready"
	"$ORIGIN" -l 127.0.0.1:0 -r "$T/origin$n.ready" -q "$@" 2>"$T/origin$n.log" &
	ORIGIN_PID=$!
	PIDS="$PIDS $ORIGIN_PID"
	wait_for 10 test -s "$T/origin$n.ready" || { echo "origin did not start"; exit 1; }
	read -r ORIGIN_PORT ORIGIN_CTL < "$T/origin$n.ready"
}

# tls_certs: a throw-away CA ($T/ca.crt) and, signed by it, the
# certificates the TLS tests need: good (IP 127.0.0.1 and localhost),
# wronghost (other.example only) and expired (yesterday); and rogue, for
# 127.0.0.1 and localhost but signed by a CA that nobody trusts.  Made
# once per test directory.
tls_certs() {
	[ -f "$T/certs.done" ] && return 0
	mkcert_ca ca "ferryd test CA" && mkcert_ca rogue-ca "rogue CA" &&
	    mkcert good ca 2 IP:127.0.0.1,DNS:localhost &&
	    mkcert wronghost ca 2 DNS:other.example &&
	    mkcert expired ca -1 IP:127.0.0.1,DNS:localhost &&
	    mkcert rogue rogue-ca 2 IP:127.0.0.1,DNS:localhost ||
		{ echo "openssl failed"; cat "$T/openssl.log"; exit 1; }
	: >"$T/certs.done"
}

mkcert_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj "/CN=$2" -keyout "$T/$1.key" \
	    -out "$T/$1.crt" 2>>"$T/openssl.log"
}

# mkcert NAME CA DAYS SAN: a leaf certificate; DAYS -1 has expired.
mkcert() {
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$4" >"$T/$1.ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -subj "/CN=$1" -keyout "$T/$1.key" -out "$T/$1.csr" \
	    2>>"$T/openssl.log" &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" \
	    -CAcreateserial -days "$3" -extfile "$T/$1.ext" \
	    -out "$T/$1.crt" 2>>"$T/openssl.log"
}

# start_tls_origin [CERT]: an https origin (tests/peer.py) with the
# certificate CERT of tls_certs (default good); sets TLS_PORT, TLS_PID and
# TLS_CERT (the CA to trust).
start_tls_origin() {
	tls_certs
	TLS_CERT=$T/ca.crt
	rm -f "$T/tls.ready"
	python3 "$TESTS_DIR/peer.py" https "$T/${1:-good}.crt" \
	    "$T/${1:-good}.key" "$T/tls.ready" 2>>"$T/tls-origin.log" &
	TLS_PID=$!
	PIDS="$PIDS $TLS_PID"
	wait_for 10 test -s "$T/tls.ready" || { echo "tls origin did not start"; exit 1; }
	read -r TLS_PORT < "$T/tls.ready"
}

# start_peer MODE: one of tests/peer.py's plain servers; prints its port.
start_peer() {
	rm -f "$T/$1.ready"
	python3 "$TESTS_DIR/peer.py" "$1" "$T/$1.ready" 2>"$T/$1.log" &
	PIDS="$PIDS $!"
	wait_for 10 test -s "$T/$1.ready" || { echo "peer.py $1 did not start" >&2; exit 1; }
	cat "$T/$1.ready"
}

# start_echo: a TCP echo server; sets ECHO_PORT.
start_echo() { start_peer echo >"$T/port"; read -r ECHO_PORT <"$T/port"; }

# start_upgrade_origin: an origin that answers Upgrade offers with 101;
# sets UPGRADE_PORT.
start_upgrade_origin() { start_peer upgrade >"$T/port"; read -r UPGRADE_PORT <"$T/port"; }

# ws URL UPGRADE: a GET of URL through ferryd offering UPGRADE; after a
# 101 sends "ping", half-closes and reads to EOF.  Prints all it got.
ws() {
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: %s\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (sys.argv[2], sys.argv[3])).encode())
got = b""
while b"\r\n\r\n" not in got:
    b = s.recv(65536)
    if not b:
        break
    got += b
if got.startswith(b"HTTP/1.1 101"):
    s.sendall(b"ping")
    s.shutdown(socket.SHUT_WR)
else:
    s.settimeout(1)     # a keep-alive reply: its body comes at once
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    got += b
sys.stdout.write(got.decode("latin-1"))
' "$PROXY_PORT" "$1" "$2"
}

# start_blackhole: a port whose connects hang; sets BLACKHOLE_PORT.
start_blackhole() { start_peer blackhole >"$T/port"; read -r BLACKHOLE_PORT <"$T/port"; }

# origin_stat accepted|requests|open
origin_stat() {
	curl -s --max-time 5 "http://127.0.0.1:$ORIGIN_CTL/stats" | awk -v k="$1" '$1 == k { print $2 }'
}

# write_ini FILE [section.key=value ...]: a complete ini, listen on a free port.
write_ini() {
	f=$1
	shift
	{
		for section in server pool upstream tls access log; do
			echo "[$section]"
			[ "$section" = server ] && echo "listen = 127.0.0.1:0"
			[ "$section" = log ] && echo "level = debug"
			for kv in "$@"; do
				case $kv in
				"$section".*) k=${kv#*.}; echo "${k%%=*} = ${kv#*=}" ;;
				esac
			done
		done
	} > "$f"
}

# start_ferryd [section.key=value ...]: sets PROXY_PORT, FERRYD_PID, PROXY.
start_ferryd() {
	write_ini "$T/ferryd.ini" "$@"
	: > "$T/ferryd.log"
	# FERRYD_WRAPPER: a command to run ferryd under (tools/dev memcheck).
	${FERRYD_WRAPPER:-} "$FERRYD" -f -c "$T/ferryd.ini" 2>>"$T/ferryd.log" &
	FERRYD_PID=$!
	PIDS="$PIDS $FERRYD_PID"
	wait_for 10 grep -q "listening on 127.0.0.1:" "$T/ferryd.log" ||
		{ echo "ferryd did not start"; cat "$T/ferryd.log"; exit 1; }
	PROXY_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/ferryd.log" | head -n 1)
	PROXY="http://127.0.0.1:$PROXY_PORT"
}

# stop_ferryd: SIGTERM; succeeds when ferryd exits 0 (under ASan, 0 also
# means no leak was found).
stop_ferryd() {
	kill -TERM "$FERRYD_PID"
	rc=0
	wait "$FERRYD_PID" || rc=$?
	PIDS=$(echo "$PIDS" | sed "s/ $FERRYD_PID\b//")
	return "$rc"
}

# metric NAME_WITH_LABELS: its value from /metrics (0 when absent).
metric() {
	v=$(curl -s --max-time 5 "$PROXY/metrics" | awk -v m="$1" '$1 == m { print $2 }')
	echo "${v:-0}"
}

# px CURL_ARGS...: curl through ferryd.
px() {
	curl -s --max-time 20 -x "$PROXY" "$@"
}

# rawseq HOST PORT PIECE...: one TCP connection, written piece by piece:
# a PIECE is bytes to send (with \r, \n, \xNN escapes), "-" (all of
# stdin, as it is), "sleep:SECONDS", or "close" (close at once, reading
# nothing).  Then prints what comes back until the server closes or
# RAW_TIMEOUT (10) seconds of silence pass.  The socket is not
# half-closed: ferryd, like nginx and squid, takes a client that shuts
# down its side before the reply as gone.
rawseq() {
	python3 -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])),
                             timeout=float(os.environ.get("RAW_TIMEOUT", "10")))
for a in sys.argv[3:]:
    if a.startswith("sleep:"):
        time.sleep(float(a[6:]))
    elif a == "close":
        s.close()
        sys.exit(0)
    elif a == "-":
        s.sendall(sys.stdin.buffer.read())
    else:
        s.sendall(a.encode().decode("unicode_escape").encode("latin-1"))
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
sys.stdout.buffer.write(out)
' "$@"
}

# raw HOST PORT: sends stdin on one TCP connection, prints what comes back
# until the server closes (send "Connection: close" last) or 5 s pass.
raw() { RAW_TIMEOUT=5 rawseq "$1" "$2" -; }

# status_of: the status code of the first response line on stdin.
status_of() {
	head -n 1 | awk '{ print $2 }'
}
