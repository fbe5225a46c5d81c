#!/bin/sh
# bench/reload-rss.sh [FERRYD] [N] - resident memory of ferryd before and
# after N (default 1000) SIGHUPs, each waited for in the log.  A benchmark,
# not a test: it prints figures and never fails on them.
set -eu
FERRYD=${1:-build/daemon/ferryd}
N=${2:-1000}
W=$(mktemp -d "${TMPDIR:-/tmp}/ferryd-reload.XXXXXX")
printf '[server]\nlisten = 127.0.0.1:0\n[log]\nlevel = notice\n' > "$W/f.ini"
"$FERRYD" -f -c "$W/f.ini" 2>"$W/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$W"' EXIT
until grep -q "started" "$W/log"; do sleep 0.05; done
rss() { awk '/^VmRSS/ { print $2 }' /proc/$pid/status; }
before=$(rss)
i=0
while [ "$i" -lt "$N" ]; do
	kill -HUP $pid
	i=$((i + 1))
	# One reload at a time: wait for its log line.
	until [ "$(grep -c 'configuration reloaded' "$W/log")" -ge "$i" ]; do
		sleep 0.001
	done
done
after=$(rss)
echo "ferryd: VmRSS $before kB before, $after kB after $N SIGHUPs ($((after - before)) kB)"
