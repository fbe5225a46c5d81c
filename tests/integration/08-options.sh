#!/bin/sh
# 08-options.sh - configuration keys that change what ferryd does per
# request: the access log, X-Forwarded-For, Via off, the request budget and
# the lifetime of an upstream connection, the client idle timeout, the DNS
# cache, max_clients.
. "$TESTS_DIR/integration/lib.sh"

start_origin
O="http://127.0.0.1:$ORIGIN_PORT"

# conn_of PATH: the origin connection that served one request through ferryd.
conn_of() {
	px -o /dev/null -w '%header{x-origin-conn}' "$O$1"
}

# --- access log, X-Forwarded-For, Via off -------------------------------
start_ferryd log.access_log="$T/access.log" upstream.x_forwarded_for=yes \
    upstream.via=no
px "$O/echo" > "$T/echo1"
check "X-Forwarded-For names the client" grep -q '^X-Forwarded-For: 127.0.0.1.$' "$T/echo1"
check "via = no: no Via header upstream" sh -c "! grep -qi '^Via:' '$T/echo1'"
px -H 'X-Forwarded-For: 192.0.2.7' "$O/echo" > "$T/echo2"
check "an existing X-Forwarded-For is extended" \
    grep -q '^X-Forwarded-For: 192.0.2.7, 127.0.0.1.$' "$T/echo2"
px -o /dev/null "$O/status/404"
px -o /dev/null "http://127.0.0.1:1/" || true
check "access log written" test -s "$T/access.log"
# TIME CLIENT_IP METHOD TARGET STATUS BYTES DURATION_MS UPSTREAM_CONN_ID REUSED
check_eq "access log: one line per exchange" 4 "$(wc -l < "$T/access.log" | tr -d ' ')"
check "access log: first line has the nine fields of interface.md" awk -v o="$O" '
    NR == 1 { exit !(NF == 9 && $1 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/ && $2 == "127.0.0.1" &&
        $3 == "GET" && $4 == o "/echo" && $5 == 200 && $6 > 0 && $7 ~ /^[0-9]+$/ &&
        $8 == 1 && $9 == "new") }' "$T/access.log"
check "access log: the second exchange reused connection 1" awk '
    NR == 2 { exit !($8 == 1 && $9 == "reused") }' "$T/access.log"
check "access log: the 404 is logged as 404" awk 'NR == 3 { exit !($5 == 404) }' "$T/access.log"
check "access log: the refused connect is logged as 502" awk 'NR == 4 { exit !($5 == 502) }' "$T/access.log"
check "clean exit" stop_ferryd

# --- request budget ------------------------------------------------------
start_ferryd pool.max_requests_per_connection=3
c1=$(conn_of /size/1); c2=$(conn_of /size/1); c3=$(conn_of /size/1); c4=$(conn_of /size/1)
check_eq "three requests share one connection" "$c1 $c1" "$c2 $c3"
check "the fourth takes a new one" test "$c4" != "$c3"
check_eq "evictions: request_budget" 1 \
    "$(metric 'ferryd_upstream_evictions_total{reason="request_budget"}')"
check "clean exit" stop_ferryd

# --- connection lifetime -------------------------------------------------
start_ferryd pool.max_connection_lifetime=0.5
c1=$(conn_of /size/1)
sleep 0.7
c2=$(conn_of /size/1)
check "a connection older than max_connection_lifetime is not reused" test "$c1" != "$c2"
check_eq "evictions: lifetime" 1 \
    "$(metric 'ferryd_upstream_evictions_total{reason="lifetime"}')"
check "clean exit" stop_ferryd

# --- client idle timeout -------------------------------------------------
start_ferryd server.client_idle_timeout=0.5
# One request on a keep-alive client connection, then silence: ferryd
# closes the connection after client_idle_timeout.
took=$(python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("GET http://127.0.0.1:%s/size/1 HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2]).encode())
t0 = time.monotonic()
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print("%d %s" % (int((time.monotonic() - t0) * 1000), data.split(b" ")[1].decode()))
' "$PROXY_PORT" "$ORIGIN_PORT")
check_eq "idle client: the request was answered" 200 "${took#* }"
ms=${took% *}
if [ "${SANITIZERS:-no}" = yes ]; then
	ok "idle client closed after about 0.5 s ($ms ms) # SKIP sanitizer build"
else
	check "idle client closed after about 0.5 s ($ms ms)" test "$ms" -ge 400 -a "$ms" -le 1500
fi
check "clean exit" stop_ferryd

# --- DNS cache ---------------------------------------------------------------
# max_idle = 0: every request needs a new connection, so a name to resolve.
start_ferryd pool.max_idle=0
L="http://localhost:$ORIGIN_PORT"
check_eq "localhost, first request" 200 "$(px -o /dev/null -w '%{http_code}' "$L/size/1")"
check_eq "localhost, second request" 200 "$(px -o /dev/null -w '%{http_code}' "$L/size/1")"
check_eq "dns_cache_ttl 60: one lookup" 1 "$(metric ferryd_dns_lookups_total)"
check_eq "dns_cache_ttl 60: one cache hit" 1 "$(metric ferryd_dns_cache_hits_total)"
check "clean exit" stop_ferryd
start_ferryd pool.max_idle=0 upstream.dns_cache_ttl=0
px -o /dev/null "$L/size/1"
px -o /dev/null "$L/size/1"
check_eq "dns_cache_ttl 0: two lookups" 2 "$(metric ferryd_dns_lookups_total)"
check_eq "dns_cache_ttl 0: no cache hit" 0 "$(metric ferryd_dns_cache_hits_total)"
check "clean exit" stop_ferryd

# --- max_clients -----------------------------------------------------------
start_ferryd server.max_clients=2
# Two keep-alive clients fill ferryd; a third waits in the kernel's backlog
# until one of them leaves, then it is served.
res=$(python3 -c '
import socket, sys
p, o = int(sys.argv[1]), sys.argv[2]
req = ("GET http://127.0.0.1:%s/size/1 HTTP/1.1\r\nHost: x\r\n\r\n" % o).encode()
def ask(s):
    s.sendall(req)
    return s.recv(4096).split(b" ")[1].decode()
a = socket.create_connection(("127.0.0.1", p), timeout=3)
b = socket.create_connection(("127.0.0.1", p), timeout=3)
first = ask(a) + "," + ask(b)
c = socket.create_connection(("127.0.0.1", p), timeout=1)
try:
    third = ask(c)
except socket.timeout:
    third = "waits"
a.close()
c.settimeout(3)
try:
    later = c.recv(4096).split(b" ")[1].decode()
except socket.timeout:
    later = "timeout"
print(first, third, later)
' "$PROXY_PORT" "$ORIGIN_PORT")
check_eq "max_clients = 2: two served, the third waits, then is served"     "200,200 waits 200" "$res"
check "max_clients: ferryd said so" grep -q 'max_clients (2) reached' "$T/ferryd.log"
check "clean exit" stop_ferryd

finish
