#!/bin/sh
# 07-signals.sh - SIGTERM when idle exits 0 at once; SIGTERM during a slow
# request lets it finish, then exits 0; SIGINT is SIGTERM; SIGHUP applies
# a valid configuration (idle pool evicted, nothing in flight dropped) and
# keeps the old one, logging the key, when the new one is invalid.
. "$TESTS_DIR/integration/lib.sh"

start_origin
U="http://127.0.0.1:$ORIGIN_PORT"

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# SIGTERM when idle.
start_ferryd
px -o /dev/null "$U/size/10" || true
t0=$(now_ms)
check "idle SIGTERM: exit 0" stop_ferryd
t1=$(now_ms)
if [ "${SANITIZERS:-no}" = yes ]; then
	echo "ok - idle SIGTERM: exit within 1 s # SKIP sanitizer build"
else
	check_le "idle SIGTERM: exit within 1 s (ms)" $((t1 - t0)) 1000
fi
check "idle SIGTERM: logged" grep -q 'signal 15: shutting down' "$T/ferryd.log"
check "idle SIGTERM: stopped" grep -q 'ferryd stopped' "$T/ferryd.log"

# SIGINT does the same.
start_ferryd
kill -INT "$FERRYD_PID"
rc=0
wait "$FERRYD_PID" || rc=$?
PIDS=$(echo "$PIDS" | sed "s/ $FERRYD_PID\b//")
check_eq "SIGINT: exit 0" 0 "$rc"

# SIGTERM while a slow request (1.5 s at the origin) is in flight.
start_ferryd
before=$(origin_stat requests)
px -o "$T/slow.b" -w '%{http_code}' "$U/size/1000?delay=1500" >"$T/slow.code" &
curl_pid=$!
origin_has_it() {
	[ "$(origin_stat requests)" -gt "$before" ]
}
check "slow request reached the origin" wait_for 5 origin_has_it
t0=$(now_ms)
check "SIGTERM with a request in flight: exit 0" stop_ferryd
t1=$(now_ms)
rc=0
wait "$curl_pid" || rc=$?
check_eq "in-flight request: curl ok" 0 "$rc"
check_eq "in-flight request: 200" 200 "$(cat "$T/slow.code")"
check_eq "in-flight request: whole body" 1000 "$(wc -c 2>/dev/null <"$T/slow.b" | tr -d ' ')"
check "ferryd waited for it (${t0}..${t1} ms)" test $((t1 - t0)) -ge 500
check "waiting was logged" grep -q 'waiting for 1 exchanges and 0 tunnels to finish' "$T/ferryd.log"

# SIGHUP with a valid new configuration.
start_ferryd upstream.via=yes pool.max_idle=64
px -o "$T/echo1" "$U/echo" || true
check "before reload: Via added" grep -q '^Via: 1.1 ferryd' "$T/echo1"
evicted=$(metric 'ferryd_upstream_evictions_total{reason="evict_all"}')
PORT_BEFORE=$PROXY_PORT
write_ini "$T/ferryd.ini" upstream.via=no pool.max_idle=8
before=$(origin_stat requests)
px -o "$T/slow2.b" -w '%{http_code}' "$U/size/1000?delay=1000" >"$T/slow2.code" &
curl_pid=$!
check "slow request reached the origin" wait_for 5 origin_has_it
kill -HUP "$FERRYD_PID"
reloaded() {
	grep -q 'configuration reloaded' "$T/ferryd.log"
}
check "valid SIGHUP: reload logged" wait_for 5 reloaded
rc=0
wait "$curl_pid" || rc=$?
check_eq "request in flight across the reload: 200" "0 200" "$rc $(cat "$T/slow2.code")"
check_eq "request in flight across the reload: whole body" 1000 \
    "$(wc -c 2>/dev/null <"$T/slow2.b" | tr -d ' ')"
check_eq "valid SIGHUP: the idle connection was evicted" $((evicted + 1)) \
    "$(metric 'ferryd_upstream_evictions_total{reason="evict_all"}')"
px -o "$T/echo2" "$U/echo" || true
check "after reload: the new config applies (no Via)" \
    sh -c 'grep -q "^GET /echo HTTP/1.1" "$1" && ! grep -qi "^Via:" "$1"' sh "$T/echo2"
code=$(px -o /dev/null -w '%{http_code}' "$U/size/10") || true
check_eq "after reload: still serving" 200 "$code"
check_eq "after reload: same port" "$PORT_BEFORE" "$PROXY_PORT"

# SIGHUP with an invalid configuration: logged with the key, old one stays.
cp "$T/ferryd.ini" "$T/good.ini"
sed 's/^\[pool\]$/[pool]\nno_such_key = 1/' "$T/good.ini" >"$T/ferryd.ini"
kill -HUP "$FERRYD_PID"
reload_failed() {
	grep -q 'reload failed' "$T/ferryd.log"
}
check "invalid SIGHUP: failure logged" wait_for 5 reload_failed
check "invalid SIGHUP: the key is named with file and line" \
    grep -q "$T/ferryd.ini:[0-9]*: pool.no_such_key: unknown key" "$T/ferryd.log"
code=$(px -o "$T/echo3" -w '%{http_code}' "$U/echo") || true
check_eq "invalid SIGHUP: still serving" 200 "$code"
check "invalid SIGHUP: the old config stays (still no Via)" \
    sh -c '! grep -qi "^Via:" "$1"' sh "$T/echo3"

# Listen addresses follow the file: added ones are bound, dropped ones
# closed; one that cannot be bound fails the whole reload.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# relisten LISTEN: the good file with another listen line.
relisten() { sed "s/^listen = .*/listen = $1/" "$T/good.ini" >"$T/ferryd.ini"; }
reloads() { grep -c 'configuration reloaded' "$T/ferryd.log"; }
via() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$1" "$U/size/1"; }
# Port 0 made explicit: the dropped socket's port goes to the new one
# (old sockets close before new ones bind).
n=$(reloads)
relisten "127.0.0.1:$PROXY_PORT"
kill -HUP "$FERRYD_PID"
check "SIGHUP naming the port 0 got: reloaded" wait_for 5 sh -c '[ "$(grep -c "configuration reloaded" "$1")" -gt "$2" ]' - "$T/ferryd.log" "$n"
check_eq "... and the same port serves" 200 "$(via "$PROXY_PORT")"
P2=$(free_port)
n=$(reloads)
relisten "127.0.0.1:$PROXY_PORT 127.0.0.1:$P2"
kill -HUP "$FERRYD_PID"
check "SIGHUP adding a listen address: reloaded" wait_for 5 sh -c '[ "$(grep -c "configuration reloaded" "$1")" -gt "$2" ]' - "$T/ferryd.log" "$n"
check_eq "the added address serves, the kept one too" "200 200" "$(via "$P2") $(via "$PROXY_PORT")"
n=$(reloads)
relisten "127.0.0.1:$P2"
kill -HUP "$FERRYD_PID"
check "SIGHUP dropping one: reloaded" wait_for 5 sh -c '[ "$(grep -c "configuration reloaded" "$1")" -gt "$2" ]' - "$T/ferryd.log" "$n"
check "the dropped address is closed" sh -c '! curl -s --max-time 5 -o /dev/null -x "http://127.0.0.1:$1" "$2"' - "$PROXY_PORT" "$U/size/1"
check_eq "the other still serves" 200 "$(via "$P2")"
check "the close is logged" grep -q "no longer listening on 127.0.0.1:$PROXY_PORT" "$T/ferryd.log"
# A port that is taken: the reload fails, and nothing changes.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(60)' "$T/busy.port" &
BUSY_PID=$!
PIDS="$PIDS $BUSY_PID"
wait_for 5 test -s "$T/busy.port"
relisten "127.0.0.1:$(cat "$T/busy.port")"
kill -HUP "$FERRYD_PID"
check "SIGHUP to a taken port: the reload fails" wait_for 5 sh -c \
    '[ "$(grep -c "reload failed" "$1")" -ge 2 ]' - "$T/ferryd.log"
check "... saying why" grep -q "cannot listen on 127.0.0.1:$(cat "$T/busy.port")" "$T/ferryd.log"
check_eq "... and the old address still serves" 200 "$(via "$P2")"
kill "$BUSY_PID"

# An access list that shuts the client out takes effect at once, while a
# request in flight finishes under the configuration it started with.
relisten "127.0.0.1:$P2"
sed -i 's/^\[access\]$/[access]\nallow = 192.0.2.0\/24/' "$T/ferryd.ini"
n=$(reloads)
curl -s --max-time 20 -x "http://127.0.0.1:$P2" -o "$T/slow3.b" -w '%{http_code}' \
    "$U/size/1000?delay=2000" >"$T/slow3.code" &
curl_pid=$!
before=$(origin_stat requests)
sleep 0.3
kill -HUP "$FERRYD_PID"
check "SIGHUP narrowing [access] allow: reloaded" wait_for 5 sh -c '[ "$(grep -c "configuration reloaded" "$1")" -gt "$2" ]' - "$T/ferryd.log" "$n"
check_eq "a new request is refused at once" 403 "$(via "$P2")"
rc=0
wait "$curl_pid" || rc=$?
check_eq "the 2 s request in flight finishes: 200" "0 200 1000" \
    "$rc $(cat "$T/slow3.code") $(wc -c <"$T/slow3.b" | tr -d ' ')"
check "clean exit" stop_ferryd
finish
