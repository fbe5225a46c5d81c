#!/bin/sh
# 05-stream.sh - responses stream with backpressure: a slow client does not
# make ferryd buffer the body, a 100 MiB download arrives whole while
# ferryd's peak RSS stays small, and a 3 MiB upload arrives whole.
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_ferryd
U="http://127.0.0.1:$ORIGIN_PORT"
BIG=104857600
HWM_LIMIT_KB=16384

# hwm_kb: ferryd's peak resident set (VmHWM) in kB.
hwm_kb() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$FERRYD_PID/status"
}

# check_hwm WHAT: VmHWM under the limit (not under sanitizers).
check_hwm() {
	if [ "${SANITIZERS:-no}" = yes ]; then
		echo "ok - $1: VmHWM under $HWM_LIMIT_KB kB # SKIP sanitizer build"
	else
		check_le "$1: VmHWM (kB) under the limit" "$(hwm_kb)" "$HWM_LIMIT_KB"
	fi
}

in_use_zero() {
	[ "$(metric 'ferryd_upstream_connections{state="in_use"}')" = 0 ]
}

echo "# VmHWM at start: $(hwm_kb) kB"

# A slow client (2 MB/s for ~3 s) on a 100 MiB body: ferryd must pause the
# origin instead of reading it all into memory.
rc=0
got=$(curl -s -x "$PROXY" --limit-rate 2m --max-time 3 -o /dev/null \
    -w '%{size_download}' "$U/big/$BIG") || rc=$?
check_eq "slow client: stopped by its own --max-time (28)" 28 "$rc"
check "slow client: got some of the body (${got:-0} bytes)" \
    test "${got:-0}" -gt 1000000 -a "${got:-0}" -lt "$BIG"
check_hwm "after the slow client"
check "slow client gone: no upstream connection in use" wait_for 5 in_use_zero

# 100 MiB at full speed.
rc=0
got=$(px --max-time 60 -o /dev/null -w '%{http_code} %{size_download}' \
    "$U/big/$BIG") || rc=$?
check_eq "100 MiB download: curl ok" 0 "$rc"
check_eq "100 MiB download: complete" "200 $BIG" "$got"
check_hwm "after 100 MiB"

# Its content too (a smaller body, hashed).
want=$(yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c 5000000 | md5sum |
    awk '{ print $1 }')
check_eq "5 MB download: md5" "$want" \
    "$(px "$U/big/5000000" | md5sum | awk '{ print $1 }')"

# A 3 MiB upload arrives whole: the echo is the head, then our body.
head -c 3145728 /dev/urandom >"$T/up.bin"
rc=0
px --max-time 30 --data-binary @"$T/up.bin" -o "$T/echo.out" "$U/echo" || rc=$?
check_eq "3 MiB upload: curl ok" 0 "$rc"
n=$(sed '/^\r$/q' "$T/echo.out" | wc -c)
tail -c +$((n + 1)) "$T/echo.out" >"$T/echo.body"
check "3 MiB upload: Content-Length: 3145728 at the origin" \
    grep -qa '^Content-Length: 3145728.$' "$T/echo.out"
check_eq "3 MiB upload: body length" 3145728 "$(wc -c 2>/dev/null <"$T/echo.body" | tr -d ' ')"
check_eq "3 MiB upload: body md5" "$(md5sum 2>/dev/null <"$T/up.bin" | awk '{ print $1 }')" \
    "$(md5sum 2>/dev/null <"$T/echo.body" | awk '{ print $1 }')"

# 64 KiB answers on a pooled connection from an origin that uses Nagle
# (this one does): ferryd must ACK each read at once.  A delayed ACK held
# the origin's last piece back for 40 ms on every such response.
px -o /dev/null "$U/size/65536"
t0=$(date +%s%N)
i=0
while [ "$i" -lt 10 ]; do
	px -o /dev/null "$U/size/65536"
	i=$((i + 1))
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "${SANITIZERS:-no}" = yes ]; then
	echo "ok - 10 pooled 64 KiB answers: no 40 ms ACK stall ($ms ms) # SKIP sanitizer build"
else
	check_le "10 pooled 64 KiB answers, no 40 ms ACK stall each (ms)" "$ms" 300
fi

echo "# VmHWM at the end: $(hwm_kb) kB"
check "nothing in use at the end" wait_for 5 in_use_zero
check_eq "no leak" 0 "$(metric ferryd_upstream_leaks_total)"
check "clean exit" stop_ferryd
finish
