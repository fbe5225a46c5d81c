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
top=$(cd "$(dirname "$0")/.." && pwd)
ferryd=${FERRYD:-$top/build/daemon/ferryd}
origin=${ORIGIN:-$top/build/tests/origin}
lua=${WRK_LUA:-$top/../shared/bench/wrk/proxy.lua}
DURATION=${DURATION:-600}

for x in "$ferryd" "$origin"; do
	[ -x "$x" ] || { echo "no $x: build first (tools/dev test)" >&2; exit 1; }
done
for c in curl wrk; do
	command -v "$c" >/dev/null || { echo "missing $c (apt-get install -y $c)" >&2; exit 1; }
done
run=$(mktemp -d -t ferryd-soak.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$run"
}
trap cleanup EXIT

"$origin" -l 127.0.0.1:0 -r "$run/origin.ready" -q 2>"$run/origin.log" &
pids+=("$!")
for _ in $(seq 50); do [ -s "$run/origin.ready" ] && break; sleep 0.1; done
read -r OPORT _ < "$run/origin.ready"
O=http://127.0.0.1:$OPORT

printf '[server]\nlisten = 127.0.0.1:0\nmax_clients = 4096\n[upstream]\nread_timeout = 1\n[log]\nlevel = warning\n' >"$run/ferryd.ini"
"$ferryd" -f -c "$run/ferryd.ini" 2>"$run/ferryd.log" &
FPID=$!
pids+=("$FPID")
for _ in $(seq 50); do grep -q "listening on" "$run/ferryd.log" 2>/dev/null && break; sleep 0.1; done
FPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$run/ferryd.log" | head -n 1)
if [ -z "$FPORT" ]; then
	# level = warning hides the listening line: ask the kernel instead.
	FPORT=$(ss -ltnpH | awk -v p="pid=$FPID," 'index($0, p) { split($4, a, ":"); print a[2]; exit }')
fi
[ -n "$FPORT" ] || { cat "$run/ferryd.log" >&2; exit 1; }
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
