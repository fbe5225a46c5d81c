#!/usr/bin/env bash
# bench/tunnel.sh - CONNECT tunnels and proxy authentication, side by side
# in one run.  Not a test: it prints figures and never fails on them.
# Builds nothing: run `tools/dev test` (or `make -C build check`) first.
#
#   1. a 1 GiB download through a CONNECT tunnel (curl --proxytunnel to the
#      test origin's /big/N), ferryd against squid and against no proxy,
#      and ferryd's peak RSS (VmHWM) after it;
#   2. small requests through ferryd with auth_file (a bcrypt user, the
#      same Proxy-Authorization on every request) against ferryd without:
#      wrk req/s, one run after the other.
#
#   RUNS=5 BIG=1073741824 DURATION=5s bench/tunnel.sh
set -euo pipefail
BENCH_NAME=tunnel
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-5}
BIG=${BIG:-1073741824}
DURATION=${DURATION:-5s}
PATH="$PATH:/usr/sbin:/sbin"

bench_need curl wrk farm-bench htpasswd
chmod 755 "$run"
start_origin

start_ferryd plain "[access]" "connect_ports = *"
FPORT=$PORT FPID=$PID
echo "# $(date -u +%FT%TZ), $(nproc) cores; origin $O, ferryd :$FPORT"

get="curl -s -o /dev/null --max-time 120"
echo
echo "## 1. $BIG bytes through a CONNECT tunnel"
echo "### ferryd vs no proxy"
farm-bench -n "$RUNS" --timeout 900 --vs "$get $O/big/$BIG" -- \
    $get -p -x "http://127.0.0.1:$FPORT" "$O/big/$BIG"
echo "ferryd VmHWM after the runs: $(awk '$1 == "VmHWM:" { print $2, $3 }' /proc/$FPID/status)"
if command -v squid >/dev/null; then
	mkdir -p "$run/squid"; chmod 777 "$run/squid"
	cat >"$run/squid/squid.conf" <<EOF
http_port 127.0.0.1:18091
visible_hostname tunnelbench
acl localhost src 127.0.0.1/32
http_access allow localhost
http_access deny all
cache deny all
cache_mem 0 MB
access_log none
cache_store_log none
cache_log $run/squid/cache.log
pid_filename $run/squid/squid.pid
coredump_dir $run/squid
netdb_filename none
pinger_enable off
shutdown_lifetime 1 seconds
EOF
	squid -N -f "$run/squid/squid.conf" >"$run/squid/out.log" 2>&1 &
	pids+=("$!")
	for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18091/ && break; sleep 0.1; done
	echo "### ferryd vs squid ($(squid -v | head -1))"
	farm-bench -n "$RUNS" --timeout 900 --vs "$get -p -x http://127.0.0.1:18091 $O/big/$BIG" -- \
	    $get -p -x "http://127.0.0.1:$FPORT" "$O/big/$BIG"
fi

echo
echo "## 2. proxy authentication: $DURATION of wrk -c50 on /size/100"
htpasswd -c -b -B "$run/htpasswd" bench 'bench password' 2>/dev/null
start_ferryd auth "[access]" "connect_ports = *" "auth_file = $run/htpasswd"
APORT=$PORT
cred=$(printf 'bench:bench password' | base64)
lua=${WRK_LUA:-$top/../shared/bench/wrk/proxy.lua}
for which in "without auth_file:$FPORT:" "with auth_file (bcrypt, cached):$APORT:Proxy-Authorization: Basic $cred"; do
	name=${which%%:*}; rest=${which#*:}; port=${rest%%:*}; hdr=${rest#*:}
	args=(-t1 -c50 -d "$DURATION" -s "$lua")
	[ -n "$hdr" ] && args+=(-H "$hdr")
	line=$(wrk "${args[@]}" "http://127.0.0.1:$port/" -- "$O/size/100" | grep '^BENCH')
	req=$(echo "$line" | sed 's/.*requests=\([0-9]*\).*/\1/')
	us=$(echo "$line" | sed 's/.*duration_us=\([0-9]*\).*/\1/')
	st=$(echo "$line" | sed 's/.*err_status=\([0-9]*\).*/\1/')
	echo "$name: $((req * 1000000 / us)) req/s ($st non-2xx)"
done
