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
check "clean exit" stop_ferryd
finish
