#!/usr/bin/env bash
# bench/soak.sh - ferryd under full load for a long time (10 min by
# default): does its memory stay flat?  Not a test: it prints figures and
# never fails on them.  Builds nothing: run `tools/dev test` first.
#
# Three loads run at once against the test origin, for DURATION seconds:
#   - wrk, 50 keep-alive clients, /size/100 (the pooled fast path);
#   - wrk, 10 clients sending "Connection: close", /chunked/16384 (a new
#     client connection per request, chunked bodies);
#   - a curl loop of faults and odd requests: a reset, garbage, a stall
#     cut by read_timeout, a body cut mid-way, a 1 MiB upload, a refused
#     connect, a 404 (the paths that free things on error).
# ferryd's VmRSS is sampled every 10 s; the table gives it per minute and
# the script ends with the first and last minute's figures.
#
#   DURATION=600 bench/soak.sh
set -euo pipefail
BENCH_NAME=soak
. "$(dirname "$0")/lib.sh"
lua=${WRK_LUA:-$top/../shared/bench/wrk/proxy.lua}
DURATION=${DURATION:-600}

bench_need curl wrk
start_origin
start_ferryd soak "max_clients = 4096" "[upstream]" "read_timeout = 1" \
    "[log]" "level = notice"
FPORT=$PORT FPID=$PID
P=http://127.0.0.1:$FPORT
closed=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
head -c 1048576 /dev/zero >"$run/up.bin"
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$FPID/status"; }

echo "# $(date -u +%FT%TZ), $(nproc) cores; ferryd $($ferryd -V 2>&1 | head -1), $DURATION s"
echo "# RSS before load: $(rss) kB"
wrk -t1 -c50 -d "${DURATION}s" -s "$lua" "$P/" -- "$O/size/100" >"$run/wrk-a" 2>&1 &
pids+=("$!"); wa=$!
wrk -t1 -c10 -d "${DURATION}s" -H 'Connection: close' -s "$lua" "$P/" -- \
    "$O/chunked/16384" >"$run/wrk-b" 2>&1 &
pids+=("$!"); wb=$!
(
	end=$(( $(date +%s) + DURATION ))
	c="curl -s -o /dev/null --max-time 5 -x $P"
	while [ "$(date +%s)" -lt "$end" ]; do
		$c "$O/reset" || true
		$c "$O/garbage" || true
		$c "$O/stall" || true
		$c "$O/stall-body/100000" || true
		$c -T "$run/up.bin" "$O/upload" || true
		$c "http://127.0.0.1:$closed/" || true
		$c "$O/no-such-path" || true
	done
) &
pids+=("$!"); wc=$!

echo "| minute | VmRSS kB |"
echo "|---:|---:|"
t=0 first="" last=""
while kill -0 "$wa" 2>/dev/null; do
	sleep 10
	t=$((t + 10))
	r=$(rss)
	[ -n "$first" ] || { [ "$t" -ge 60 ] && first=$r; }
	last=$r
	[ $((t % 60)) -ne 0 ] || echo "| $((t / 60)) | $r |"
done
wait "$wa" "$wb" "$wc" 2>/dev/null || true
for f in wrk-a wrk-b; do
	echo "# $f: $(grep -E 'Requests/sec|requests in|Non-2xx|Socket errors' "$run/$f" | tr -s ' ' | tr '\n' ';')"
done
echo "# RSS after the first minute: ${first:-?} kB; at the end: $last kB; VmHWM $(awk '$1 == "VmHWM:" { print $2 }' /proc/$FPID/status) kB"
curl -s "$P/metrics" | grep -E '^ferryd_(upstream_connections|upstream_leaks_total|upstream_connections_opened_total|upstream_reused_total|client_connections)' || true
