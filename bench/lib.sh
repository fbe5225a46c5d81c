# bench/lib.sh - what the bench/ scripts share (bash, sourced after
# `set -euo pipefail`): a run directory, every process started killed by
# PID on exit, and starting the test origin and ferryd on free ports.
# Before sourcing, a script may set BENCH_NAME (the run directory's name).
top=$(cd "$(dirname "$0")/.." && pwd)
ferryd=${FERRYD:-$top/build/daemon/ferryd}
origin=${ORIGIN:-$top/build/tests/origin}
run=$(mktemp -d -t "ferryd-${BENCH_NAME:-bench}.XXXXXX")
pids=()
bench_cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$run"
}
trap bench_cleanup EXIT

# bench_need CMD...: each command exists (ferryd and the origin too).
bench_need() {
	for x in "$ferryd" "$origin"; do
		[ -x "$x" ] || { echo "no $x: build first (tools/dev test)" >&2; exit 1; }
	done
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "missing $c (apt-get install -y $c)" >&2; exit 1; }
	done
}

# wait_file FILE: until FILE has something in it (5 s at most).
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

# start_origin: the test origin on a free port; sets OPORT and O.
start_origin() {
	"$origin" -l 127.0.0.1:0 -r "$run/origin.ready" -q 2>"$run/origin.log" &
	pids+=("$!")
	wait_file "$run/origin.ready"
	read -r OPORT _ < "$run/origin.ready"
	O=http://127.0.0.1:$OPORT
}

# start_ferryd NAME [ini lines...]: ferryd on a free port, with those
# lines after its [server] listen line; sets PORT and PID.
start_ferryd() {
	local name=$1
	shift
	printf '[server]\nlisten = 127.0.0.1:0\n%s\n' "$(printf '%s\n' "$@")" \
	    >"$run/$name.ini"
	"$ferryd" -f -c "$run/$name.ini" 2>"$run/$name.log" &
	PID=$!
	pids+=("$PID")
	for _ in $(seq 50); do grep -q "listening on" "$run/$name.log" && break; sleep 0.1; done
	PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$run/$name.log" | head -n 1)
	[ -n "$PORT" ] || { cat "$run/$name.log" >&2; exit 1; }
}
