#!/bin/sh
# 26-notify.sh - ferryd under systemd's Type=notify, and what it logs
# for an operator (the start-up line, each pool decision at debug): on a test
# $NOTIFY_SOCKET it says READY=1 once listening, a STATUS= line with the
# pool, RELOADING=1 with MONOTONIC_USEC and READY=1 again around a
# reload (a broken file too: it goes on serving), STOPPING=1 on SIGTERM.
. "$TESTS_DIR/integration/lib.sh"

# A datagram socket that writes each message it gets on a line of its own
# (newlines inside a message as "|").
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
while True:
    m = s.recv(4096).decode().replace("\n", "|")
    with open(sys.argv[2], "a") as f:
        f.write(m + "\n")
' "$T/notify.sock" "$T/notify.log" &
PIDS="$PIDS $!"
wait_for 5 test -S "$T/notify.sock" || { echo "no notify socket"; exit 1; }

# msgs: the messages so far, one per line, STATUS lines as "STATUS".
msgs() { sed 's/^STATUS=.*/STATUS/' "$T/notify.log" | uniq; }
has() { grep -q "$1" "$T/notify.log"; }

start_origin
NOTIFY_SOCKET="$T/notify.sock"
export NOTIFY_SOCKET
start_ferryd pool.keepalive=30
unset NOTIFY_SOCKET
check "READY=1 once listening" wait_for 5 has '^READY=1$'
check "a STATUS line with the pool" wait_for 5 has '^STATUS=upstream: 0 idle, 0 in use; 0 of 0 acquisitions reused (0.0 %); 0 clients$'

px -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/size/1"
px -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/size/1"
check "the start-up line: version, listen addresses, pool" grep -q \
    "ferryd [0-9.]* started: listen 127.0.0.1:0; pool max_idle 64 (16 per address), keepalive 30 s, max_requests_per_connection 10000" \
    "$T/ferryd.log"
check "debug: a new upstream connection is logged" grep -q "pool: new connection 1 to http://127.0.0.1:$ORIGIN_PORT" "$T/ferryd.log"
check "debug: its reuse too" grep -q "pool: reusing connection 1 to http://127.0.0.1:$ORIGIN_PORT (exchange 2)" "$T/ferryd.log"
kill -HUP "$FERRYD_PID"
check "RELOADING=1 with MONOTONIC_USEC, then READY=1" wait_for 5 sh -c \
    'sed "s/MONOTONIC_USEC=[0-9]*/MONOTONIC_USEC=N/" "$1" | grep -qx "RELOADING=1|MONOTONIC_USEC=N"' - "$T/notify.log"
# A broken file: the old configuration stays, and ferryd says it is ready.
echo "no_such_key = 1" >>"$T/ferryd.ini"
kill -HUP "$FERRYD_PID"
check "a failed reload is logged" wait_for 5 grep -q "reload failed" "$T/ferryd.log"
check_eq "still serving after the failed reload" 200 \
    "$(px -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORIGIN_PORT/size/1")"
check "clean exit" stop_ferryd
check_eq "the messages, in order" \
    "READY=1 STATUS RELOADING=1|MONOTONIC_USEC=N READY=1 RELOADING=1|MONOTONIC_USEC=N READY=1 STOPPING=1" \
    "$(msgs | sed 's/MONOTONIC_USEC=[0-9]*/MONOTONIC_USEC=N/' | tr '\n' ' ' | sed 's/ $//')"
# Without NOTIFY_SOCKET nothing is sent and nothing breaks.
: >"$T/notify.log"
start_ferryd
check_eq "without NOTIFY_SOCKET: serving" 200 \
    "$(px -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORIGIN_PORT/size/1")"
check "clean exit" stop_ferryd
check_eq "without NOTIFY_SOCKET: no message" 0 "$(wc -l <"$T/notify.log")"
finish
