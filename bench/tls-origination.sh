#!/usr/bin/env bash
# bench/tls-origination.sh - what a warm pooled TLS connection saves a
# client that opens a new connection per request.  Not a test: it prints
# figures and never fails on them.  Builds nothing: run `tools/dev test`
# (or `make -C build`) first.
#
# bench/delay-relay.py puts DELAY_MS each way (and one round trip for each
# new TCP connection) between the client side and a TLS origin
# (tests/peer.py https, certificate from a CA made here).  Then N
# sequential one-shot requests (a new curl, so a new client connection,
# each), timed by curl's time_total:
#
#   direct  curl --cacert CA https://localhost:RELAY/       TCP + TLS + request
#   ferryd  curl -x ferryd http://localhost:RELAY/          request only
#           (ferryd with tls_origination = localhost; its own connection
#           to the origin goes through the relay too, and stays warm)
#
# The physical limit of the ratio direct/ferryd is 3: three round trips
# against one.
#
# Then the large-body read path: one BIG-byte download over TLS without
# the relay, direct and through ferryd (tls_origination), best of RUNS,
# and ferryd's peak RSS (VmHWM) after it.
#
#   N=200 DELAY_MS=10 BIG=1073741824 RUNS=3 bench/tls-origination.sh
set -euo pipefail
BENCH_NAME=tls
. "$(dirname "$0")/lib.sh"
N=${N:-200}
DELAY_MS=${DELAY_MS:-10}
BIG=${BIG:-1073741824}
RUNS=${RUNS:-3}

bench_need curl openssl python3

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 1 -subj "/CN=bench CA" -keyout "$run/ca.key" -out "$run/ca.crt" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$run/ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=localhost -keyout "$run/o.key" -out "$run/o.csr" 2>/dev/null
openssl x509 -req -in "$run/o.csr" -CA "$run/ca.crt" -CAkey "$run/ca.key" \
    -CAcreateserial -days 1 -extfile "$run/ext" -out "$run/o.crt" 2>/dev/null

python3 "$top/tests/peer.py" https "$run/o.crt" "$run/o.key" "$run/origin.ready" &
pids+=("$!")
wait_file "$run/origin.ready"
read -r OPORT < "$run/origin.ready"
python3 "$top/bench/delay-relay.py" 0 "127.0.0.1:$OPORT" "$DELAY_MS" "$run/relay.ready" &
pids+=("$!")
wait_file "$run/relay.ready"
read -r RPORT < "$run/relay.ready"

printf '[server]\nlisten = 127.0.0.1:0\n[tls]\nca_file = %s\ntls_origination = localhost\n[log]\nlevel = notice\n' \
    "$run/ca.crt" >"$run/ferryd.ini"
"$ferryd" -f -c "$run/ferryd.ini" 2>"$run/ferryd.log" &
pids+=("$!")
for _ in $(seq 50); do grep -q "listening on" "$run/ferryd.log" && break; sleep 0.1; done
FPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$run/ferryd.log" | head -n 1)

# times FILE URL CURL_ARGS...: N one-shot requests to URL1, URL2, ...;
# time_total in ms, one per line.
times() {
	local out=$1 url=$2 code
	shift 2
	: >"$out"
	for i in $(seq "$N"); do
		code=$(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@" "$url$i")
		case $code in
		"200 "*) echo "${code#200 }" | awk '{ printf "%.3f\n", $1 * 1000 }' >>"$out" ;;
		*) echo "request $i failed: $code" >&2; exit 1 ;;
		esac
	done
}
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m }'; }
p90() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int(NR * 0.9 + 0.5)] }'; }

FPID=${pids[-1]}

# The first ferryd request opens its connection: warm it, as a pool is.
curl -s -o /dev/null -x "127.0.0.1:$FPORT" "http://localhost:$RPORT/warm"
times "$run/direct" "https://localhost:$RPORT/d/" --cacert "$run/ca.crt"
times "$run/ferryd" "http://localhost:$RPORT/f/" -x "127.0.0.1:$FPORT"
counts=$(curl -s --cacert "$run/ca.crt" "https://127.0.0.1:$OPORT/counts")
full=$(curl -s "http://127.0.0.1:$FPORT/metrics" | awk '$1 ~ /kind="full"/ { print $2 }')

md=$(median "$run/direct") mf=$(median "$run/ferryd")
echo "$N sequential one-shot requests, ${DELAY_MS} ms each way (RTT $((2 * DELAY_MS)) ms)"
printf '%-8s median %7s ms  p90 %7s ms\n' direct "$md" "$(p90 "$run/direct")"
printf '%-8s median %7s ms  p90 %7s ms\n' ferryd "$mf" "$(p90 "$run/ferryd")"
awk -v a="$md" -v b="$mf" 'BEGIN { printf "ratio direct/ferryd %.2f (limit 3)\n", a / b }'
echo "origin: $counts (the direct curls' own, plus ferryd's)"
echo "ferryd full TLS handshakes: $full"

# best SPEC CURL_ARGS...: the best of RUNS downloads of BIG bytes, in MiB/s.
best() {
	local url=$1 b=0 s
	shift
	for _ in $(seq "$RUNS"); do
		s=$(curl -s -o /dev/null -w '%{size_download} %{speed_download}' "$@" "$url")
		[ "${s%% *}" = "$BIG" ] || { echo "short download: $s" >&2; exit 1; }
		b=$(awk -v a="$b" -v c="${s#* }" 'BEGIN { print (c > a) ? c : a }')
	done
	awk -v b="$b" 'BEGIN { printf "%.0f", b / 1048576 }'
}
d=$(best "https://localhost:$OPORT/bytes/$BIG" --cacert "$run/ca.crt")
f=$(best "http://localhost:$OPORT/bytes/$BIG" -x "127.0.0.1:$FPORT")
echo "$BIG bytes over TLS, best of $RUNS: direct $d MiB/s, through ferryd $f MiB/s"
awk '/VmHWM/ { printf "ferryd peak RSS (VmHWM) %.1f MiB\n", $2 / 1024 }' "/proc/$FPID/status"
