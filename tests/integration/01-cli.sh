#!/bin/sh
# 01-cli.sh - the command line: -V, -h, -t with good and bad files, and
# start-up refusing a bad or missing configuration (interface.md).
. "$TESTS_DIR/integration/lib.sh"

# run_cli OUT ERR ARGS...: runs ferryd with ARGS, prints its exit status.
run_cli() {
	o=$1
	e=$2
	shift 2
	rc=0
	"$FERRYD" "$@" >"$o" 2>"$e" </dev/null || rc=$?
	echo "$rc"
}

# -V: "ferryd VERSION", the version of configure.ac.
want=$(sed -n 's/^AC_INIT(\[ferryd\], \[\([^]]*\)\].*/\1/p' \
    "$TESTS_DIR/../configure.ac")
rc=$(run_cli "$T/out" "$T/err" -V)
check_eq "-V exits 0" 0 "$rc"
check_eq "-V prints the version" "ferryd ${want:-?}" "$(cat "$T/out")"

# -h: the usage on stdout, exit 0.
rc=$(run_cli "$T/out" "$T/err" -h)
check_eq "-h exits 0" 0 "$rc"
check "-h prints the usage" grep -q '^usage: ferryd \[-c FILE\]' "$T/out"
check "-h names every option" sh -c 'for o in -c -f -t -V -h; do
	grep -q -- "^  $o " "$1" || exit 1; done' sh "$T/out"

# An unknown option: usage on stderr, exit 1.
rc=$(run_cli "$T/out" "$T/err" -Z)
check_eq "unknown option exits 1" 1 "$rc"
check "unknown option prints the usage on stderr" grep -q '^usage: ferryd' "$T/err"

# -t on a good file.
write_ini "$T/good.ini" pool.keepalive=30 server.max_body_size=1m
rc=$(run_cli "$T/out" "$T/err" -t -c "$T/good.ini")
check_eq "-t good.ini exits 0" 0 "$rc"
check_eq "-t good.ini says so" "configuration OK" "$(cat "$T/out")"

# -t on the shipped configuration.
if [ -f "$TESTS_DIR/../conf/ferryd.ini" ]; then
	rc=$(run_cli "$T/out" "$T/err" -t -c "$TESTS_DIR/../conf/ferryd.ini")
	check_eq "-t conf/ferryd.ini exits 0" 0 "$rc"
	check_eq "-t conf/ferryd.ini says OK" "configuration OK" "$(cat "$T/out")"
fi

# -t on a bad file: one FILE:LINE: section.key: message per error.
cat >"$T/bad.ini" <<'EOF'
[server]
listen = 127.0.0.1:0
bogus_key = 1
max_body_size = 12q
[pool]
keepalive = 0
[nosuch]
x = 1
[upstream]
via = maybe
EOF
rc=$(run_cli "$T/out" "$T/err" -t -c "$T/bad.ini")
check_eq "-t bad.ini exits 1" 1 "$rc"
check "-t bad.ini does not say OK" sh -c '! grep -q "configuration OK" "$1"' sh "$T/out"
check "unknown key reported at its line" \
    grep -q "^$T/bad.ini:3: server.bogus_key: unknown key" "$T/out"
check "bad size reported at its line" \
    grep -q "^$T/bad.ini:4: server.max_body_size: .*12q" "$T/out"
check "keepalive = 0 reported at its line" \
    grep -q "^$T/bad.ini:6: pool.keepalive: .*greater than 0" "$T/out"
check "unknown section reported at its line" \
    grep -q "^$T/bad.ini:7: .*nosuch.*unknown section" "$T/out"
check "bad boolean reported at its line" \
    grep -q "^$T/bad.ini:10: upstream.via: .*maybe" "$T/out"
check_eq "one line per error" 5 "$(grep -c "^$T/bad.ini:[0-9]*: " "$T/out")"

# A bad listen address.
write_ini "$T/listen.ini" server.max_clients=10
sed 's/^listen = .*/listen = nothost/' "$T/listen.ini" >"$T/badlisten.ini"
rc=$(run_cli "$T/out" "$T/err" -t -c "$T/badlisten.ini")
check_eq "-t bad listen exits 1" 1 "$rc"
check "bad listen reported" \
    grep -q "^$T/badlisten.ini:2: server.listen: .*nothost" "$T/out"
sed 's/^listen = .*/listen = 127.0.0.1:99999/' "$T/listen.ini" >"$T/badport.ini"
rc=$(run_cli "$T/out" "$T/err" -t -c "$T/badport.ini")
check_eq "-t listen port 99999 exits 1" 1 "$rc"
check "bad listen port reported" \
    grep -q "^$T/badport.ini:2: server.listen: " "$T/out"

# Starting with a bad configuration: exit 1, the errors on stderr.
rc=$(run_cli "$T/out" "$T/err" -f -c "$T/bad.ini")
check_eq "start with bad.ini exits 1" 1 "$rc"
check "start with bad.ini names the key on stderr" \
    grep -q "$T/bad.ini:3: server.bogus_key: unknown key" "$T/err"
check "start with bad.ini never listens" \
    sh -c '! grep -q "listening on" "$1"' sh "$T/err"

# A missing file: exit 1 with -t and at start-up, naming the file.
rc=$(run_cli "$T/out" "$T/err" -t -c "$T/missing.ini")
check_eq "-t missing file exits 1" 1 "$rc"
check "-t missing file is named" grep -q "$T/missing.ini" "$T/out" "$T/err"
rc=$(run_cli "$T/out" "$T/err" -f -c "$T/missing.ini")
check_eq "start with a missing file exits 1" 1 "$rc"
check "start with a missing file names it on stderr" grep -q "$T/missing.ini" "$T/err"

# A good file starts and stops cleanly.
start_ferryd
check "ferryd with good config answers /metrics" \
    sh -c 'curl -s --max-time 5 "$1/metrics" | grep -q "^ferryd_client_connections_accepted_total 1$"' sh "$PROXY"
check "clean exit" stop_ferryd

finish
