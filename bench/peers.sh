#!/usr/bin/env bash
# bench/peers.sh - ferryd side by side with the peer proxies of
# ../shared/bench (wrk on loopback against an nginx origin, counting the
# origin's TCP connections).  Builds nothing: run `tools/dev test` or
# `make -C build` first.  Not a test: it prints a table and never fails on
# figures.
#
#   bench/peers.sh                 # ferryd + haproxy + squid, 10 s per run
#   DURATION=5s PEERS="haproxy" bench/peers.sh
#
# Needs Debian's nginx squid tinyproxy privoxy haproxy wrk.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ferryd=${FERRYD:-$top/build/daemon/ferryd}
shared=${SHARED_BENCH:-$top/../shared/bench}
export PEERS=${PEERS-"haproxy squid"}

[ -x "$ferryd" ] || { echo "no $ferryd: build first (tools/dev test)" >&2; exit 1; }
log=$(mktemp -t ferryd-bench.XXXXXX)
"$ferryd" -f -c "$top/bench/ferryd-bench.ini" 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$log" && break; sleep 0.1; done
grep -q "listening on" "$log" || { cat "$log" >&2; exit 1; }

"$shared/peers.sh" ferryd=127.0.0.1:18099
echo
echo "ferryd's own counters after the run:"
curl -s http://127.0.0.1:18099/metrics | grep -E '^ferryd_(upstream_connections_opened_total|upstream_reused_total|upstream_evictions_total|requests_total)' || true
