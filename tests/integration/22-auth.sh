#!/bin/sh
# 22-auth.sh - proxy authentication with an htpasswd file made by Apache's
# htpasswd (bcrypt -B and SHA-512 -5): 407 with Proxy-Authenticate without
# or with wrong credentials, 200 with right ones for requests and CONNECT
# tunnels, Proxy-Authorization never forwarded, failures logged, 401 for
# ferryd's own pages, the file re-read on SIGHUP (a bad one refused), a bad
# file stopping start-up with its name and line; and a client outside
# access.allow refused a CONNECT with 403.
command -v htpasswd >/dev/null 2>&1 || { echo "# SKIP htpasswd (apache2-utils) is not installed"; exit 77; }
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_tls_origin
U="http://127.0.0.1:$ORIGIN_PORT"
S="https://127.0.0.1:$TLS_PORT"
PW=$T/htpasswd
htpasswd -c -b -B "$PW" alice 'open sesame:1' 2>/dev/null
htpasswd -b -5 "$PW" bob hunter2 2>/dev/null
start_ferryd access.auth_file="$PW" access.connect_ports="$TLS_PORT" \
    log.access_log="$T/access.log"

code=$(px -D "$T/h0" -o /dev/null -w '%{http_code}' "$U/size/3" || true)
check_eq "no credentials: 407" 407 "$code"
check "407 asks for Basic credentials" \
    grep -q '^Proxy-Authenticate: Basic realm="ferryd"' "$T/h0"
code=$(px -D "$T/h" -o /dev/null -w '%{http_code}' -U alice:wrong "$U/size/3" || true)
check_eq "wrong password: 407" 407 "$code"
check "wrong password: the connection closes (one guess per connection)" \
    grep -qi '^Connection: close' "$T/h"
check "no credentials: the connection stays (browsers ask again on it)" \
    sh -c "! grep -qi '^Connection: close' '$T/h0'"
code=$(px -o /dev/null -w '%{http_code}' -U mallory:x "$U/size/3" || true)
check_eq "unknown user: 407" 407 "$code"
code=$(px -o "$T/echo" -w '%{http_code}' -U 'alice:open sesame:1' "$U/echo" || true)
check_eq "bcrypt user, right password: 200" 200 "$code"
check "Proxy-Authorization is not forwarded" sh -c "! grep -qi '^Proxy-Authorization' '$T/echo'"
code=$(px -o /dev/null -w '%{http_code}' -U bob:hunter2 "$U/size/3" || true)
check_eq "SHA-512 user, right password: 200" 200 "$code"

# CONNECT: the same credentials, and the tunnel.
code=$(curl -s -o /dev/null -w '%{http_connect}' --max-time 20 --cacert "$TLS_CERT" \
    -x "$PROXY" "$S/x" || true)
check_eq "CONNECT without credentials: 407" 407 "$code"
body=$(curl -s --max-time 20 --cacert "$TLS_CERT" -x "$PROXY" \
    -U bob:hunter2 "$S/in" || true)
check "CONNECT with credentials: the https page" \
    test "$body" = '<!DOCTYPE html><html><head><title>tls origin</title></head><body><p id="where">/in over TLS</p></body></html>'
# A client that sends its ClientHello with the CONNECT and gets a 407:
# those bytes are not read as a request.
out=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' \
    "$TLS_PORT" | raw 127.0.0.1 "$PROXY_PORT")
check_eq "CONNECT 407: one reply, then close" \
    "407 1" "$(echo "$out" | status_of) $(echo "$out" | grep -c '^HTTP/1')"

# A body is read only for a client with credentials: no 100 Continue and
# no 64 MiB buffered for a client without them.
out=$(printf 'POST %s/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 60000000\r\n\r\n' \
    "$U" | raw 127.0.0.1 "$PROXY_PORT")
check_eq "POST without credentials: 407 before the body, then close" \
    "407 1" "$(echo "$out" | status_of) $(echo "$out" | grep -c '^HTTP/1')"
check "that 407 asks for credentials too" \
    sh -c "echo '$(echo "$out" | grep -i '^Proxy-Authenticate' | tr -d '\r')' | grep -q 'Basic realm=\"ferryd\"'"
cred=$(printf 'bob:hunter2' | base64)
# With them, the Expect goes on and the origin's 100 Continue comes back.
st=$(printf 'POST %s/upload HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic %s\r\nExpect: 100-continue\r\nContent-Length: 60000000\r\n\r\n' \
    "$U" "$cred" | raw 127.0.0.1 "$PROXY_PORT" | status_of)
check_eq "POST with credentials: the origin's 100 Continue" 100 "$st"

check "wrong password logged with the user" \
    grep -q 'client 127.0.0.1: authentication failed: wrong password (user "alice")' "$T/ferryd.log"
check "unknown user logged" \
    grep -q 'authentication failed: unknown user (user "mallory")' "$T/ferryd.log"
check "access log: the 407" \
    grep -q " 127.0.0.1 GET $U/size/3 407 " "$T/access.log"
# The log (level debug) names users, never what they sent as proof.
check "no password, right or wrong, in the logs" sh -c \
    '! grep -qE "open sesame|hunter2|$1" "$2" "$3"' - \
    "$cred" "$T/ferryd.log" "$T/access.log"

# ferryd's own pages are asked for directly: Authorization, 401.
code=$(curl -s -D "$T/h" -o /dev/null -w '%{http_code}' --max-time 5 "$PROXY/metrics" || true)
check_eq "/metrics without credentials: 401" 401 "$code"
check "401 asks for Basic credentials" grep -q '^WWW-Authenticate: Basic realm="ferryd"' "$T/h"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u bob:hunter2 "$PROXY/metrics" || true)
check_eq "/metrics with credentials: 200" 200 "$code"

# SIGHUP re-reads the file: alice goes, carol comes.
htpasswd -c -b -B "$PW" carol sekrit 2>/dev/null
kill -HUP "$FERRYD_PID"
reloaded() { grep -q 'configuration reloaded' "$T/ferryd.log"; }
check "SIGHUP: reloaded" wait_for 5 reloaded
code=$(px -o /dev/null -w '%{http_code}' -U 'alice:open sesame:1' "$U/size/3" || true)
check_eq "after SIGHUP: alice is gone (407)" 407 "$code"
code=$(px -o /dev/null -w '%{http_code}' -U carol:sekrit "$U/size/3" || true)
check_eq "after SIGHUP: carol is in (200)" 200 "$code"

# A file with a hash ferryd refuses: the reload fails, carol stays.
printf 'carol:$apr1$abc$0123456789012345678901\n' > "$PW"
kill -HUP "$FERRYD_PID"
refused() { grep -q 'reload failed' "$T/ferryd.log"; }
check "SIGHUP with a bad file: refused" wait_for 5 refused
check "the error names the file and line" \
    grep -q "access.auth_file: $PW:1: " "$T/ferryd.log"
code=$(px -o /dev/null -w '%{http_code}' -U carol:sekrit "$U/size/3" || true)
check_eq "bad reload: the old users stay" 200 "$code"
check "clean exit" stop_ferryd

# The same file at start-up: ferryd does not start.
write_ini "$T/bad.ini" access.auth_file="$PW"
rc=0
timeout 10 "$FERRYD" -f -c "$T/bad.ini" 2>"$T/bad.log" || rc=$?
check "bad auth_file: start-up fails" test "$rc" -ne 0
check "bad auth_file: names the file and line" grep -q "access.auth_file: $PW:1: " "$T/bad.log"
printf '' > "$T/missing"; rm -f "$T/missing"
write_ini "$T/bad.ini" access.auth_file="$T/missing"
rc=0
timeout 10 "$FERRYD" -f -c "$T/bad.ini" 2>"$T/bad.log" || rc=$?
check "missing auth_file: start-up fails naming it" \
    sh -c "test $rc -ne 0 && grep -q 'access.auth_file: $T/missing: ' '$T/bad.log'"

# A client outside access.allow: CONNECT refused with 403 too.
start_ferryd access.allow=10.0.0.0/8 access.connect_ports="$TLS_PORT"
code=$(curl -s -o /dev/null -w '%{http_connect}' --max-time 20 --cacert "$TLS_CERT" \
    -x "$PROXY" "$S/x" || true)
check_eq "client outside allow, CONNECT: 403" 403 "$code"
check "clean exit (denied)" stop_ferryd

finish
