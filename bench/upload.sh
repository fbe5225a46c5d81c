#!/bin/sh
# bench/upload.sh - uploads through ferryd against the same uploads sent
# straight to the origin, side by side in one run: throughput of a 1 GiB
# PUT on one connection, ferryd's peak RSS, and when the origin sees the
# first byte of a 100 MiB body.
#
#   tools/dev test            # builds build/daemon/ferryd and build/tests/origin
#   RUNS=5 bench/upload.sh    # FERRYD=path/to/ferryd to measure another build
#
# The origin is ferryd's test origin (/upload: SHA-256 of the body, and
# when its first byte came); the client is curl from a file in the page
# cache.  Medians of RUNS runs; nothing here fails on a figure.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
FERRYD=${FERRYD:-$top/build/daemon/ferryd}
ORIGIN=${ORIGIN:-$top/build/tests/origin}
RUNS=${RUNS:-5}
T=$(mktemp -d /tmp/ferryd-upload.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT

"$ORIGIN" -l 127.0.0.1:0 -r "$T/origin.ready" -q 2>"$T/origin.log" &
PIDS="$PIDS $!"
printf '[server]\nlisten = 127.0.0.1:0\nmax_body_size = 4g\n' >"$T/f.ini"
"$FERRYD" -f -c "$T/f.ini" 2>"$T/ferryd.log" &
FPID=$!
PIDS="$PIDS $FPID"
for _ in $(seq 50); do
	[ -s "$T/origin.ready" ] && grep -q "listening on" "$T/ferryd.log" && break
	sleep 0.1
done
read -r OPORT _ <"$T/origin.ready"
PPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/ferryd.log" | head -n 1)
U="http://127.0.0.1:$OPORT/upload"

openssl enc -aes-128-ctr -nosalt -pass pass:bench -pbkdf2 -in /dev/zero \
    2>/dev/null | head -c 1073741824 >"$T/1g"
head -c 104857600 "$T/1g" >"$T/100m"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# MiB/s of one 1 GiB PUT (curl's own Expect: 100-continue included).
put_rate() {
	curl -s -o /dev/null -w '%{speed_upload}\n' "$@" -T "$T/1g" "$U" |
	    awk '{ printf "%.0f\n", $1 / 1048576 }'
}

# ms from the client's start to the origin's first body byte, 100 MiB,
# without Expect (the body follows the head at once).
first_byte_ms() {
	t0=$(date +%s%6N)
	at=$(curl -s -H 'Expect:' "$@" -T "$T/100m" "$U" |
	    tr ' ' '\n' | sed -n 's/^first_byte_at=//p')
	echo "$at $t0" | awk '{ printf "%.1f\n", ($1 - $2) / 1000 }'
}

for _ in $(seq "$RUNS"); do put_rate >>"$T/direct"; put_rate -x "http://127.0.0.1:$PPORT" >>"$T/proxy"; done
for _ in $(seq "$RUNS"); do first_byte_ms >>"$T/fb.direct"; first_byte_ms -x "http://127.0.0.1:$PPORT" >>"$T/fb.proxy"; done
# Ten 100 MiB uploads at once through ferryd: its peak RSS after them.
for i in 0 1 2 3 4 5 6 7 8 9; do
	curl -s -o /dev/null -x "http://127.0.0.1:$PPORT" -T "$T/100m" "$U" &
	eval "c$i=\$!"
done
for i in 0 1 2 3 4 5 6 7 8 9; do eval "wait \$c$i"; done

d=$(median <"$T/direct")
p=$(median <"$T/proxy")
echo "1 GiB PUT, one connection, median of $RUNS: direct $d MiB/s, through ferryd $p MiB/s ($(echo "$p $d" | awk '{ printf "%.2f", $1 / $2 }') of direct)"
echo "100 MiB PUT, origin's first body byte after the client started: direct $(median <"$T/fb.direct") ms, through ferryd $(median <"$T/fb.proxy") ms"
echo "ferryd peak RSS after all of it (incl. ten 100 MiB uploads at once): $(awk '/^VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$FPID/status")"
