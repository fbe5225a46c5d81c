#!/bin/sh
# 28-limits.sh - resource limits: out of file descriptors (EMFILE) accept
# pauses, logs once, and resumes when a descriptor frees, without a busy
# loop; 1000 slowloris connections are cut at client_header_timeout while
# other clients are served; 10,000 idle client connections at once, with
# ferryd's RSS reported.
. "$TESTS_DIR/integration/lib.sh"

# The 10,000 clients and ferryd's room for them (2 descriptors a client).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
start_origin
U="http://127.0.0.1:$ORIGIN_PORT"

cat > "$T/limits.py" <<'EOF2'
import os, resource, socket, subprocess, sys, threading, time

lim = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (lim[1], lim[1]))
mode, PPORT, OPORT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REQ = ("GET http://127.0.0.1:%d/size/5 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
       % (OPORT, OPORT)).encode()

def conn():
    return socket.create_connection(("127.0.0.1", PPORT), timeout=10)

def answer(s):
    """One response to REQ (5-byte body): its status, or None at EOF."""
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf.split(b"\r\n\r\n", 1)[1]) < 5:
        b = s.recv(65536)
        if not b:
            return None
        buf += b
    return int(buf.split(b" ", 2)[1])

def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def set_room(pid, k, hard):
    """Lowers ferryd's soft limit so that exactly k descriptor numbers
    are free under it.  prlimit caps the numbers, not the count: the
    lowest k free numbers are left, and descriptors above the limit
    (inherited ones, or valgrind's own) stay open but do not count."""
    fds = set(int(f) for f in os.listdir("/proc/%d/fd" % pid))
    lim, free = 0, 0
    while free < k:
        if lim not in fds:
            free += 1
        lim += 1
    subprocess.run(["prlimit", "--pid", str(pid),
                    "--nofile=%d:%s" % (lim, hard)], check=True)

if mode == "emfile":
    pid, hard = int(sys.argv[4]), sys.argv[5]
    # Room for 4 descriptors: these idle clients take them, then
    # accept() fails, and a client waits in the accept queue.
    set_room(pid, 4, hard)
    held = [conn() for i in range(12)]
    time.sleep(0.5)
    late = conn()
    late.sendall(REQ)
    late.settimeout(1.0)
    c0 = cpu(pid)
    try:
        print("late answered while short:", answer(late))
        late = None
    except socket.timeout:
        print("late waits while short")
    print("cpu while paused %.2f s of 1" % (cpu(pid) - c0))
    if late is not None:
        # Descriptors come back with no client leaving: only the retry
        # timer can find out.
        subprocess.run(["prlimit", "--pid", str(pid),
                        "--nofile=%s:%s" % (hard, hard)], check=True)
        late.settimeout(5)
        print("late after the limit is raised:", answer(late))
    # Short again, and this time clients leave.
    set_room(pid, 4, hard)
    held2 = [conn() for i in range(8)]
    time.sleep(0.5)
    late2 = conn()
    late2.sendall(REQ)
    late2.settimeout(1.0)
    try:
        print("late2 answered while short:", answer(late2))
    except socket.timeout:
        print("late2 waits while short")
        for s in held2:
            s.close()
        late2.settimeout(5)
        print("late2 after clients leave:", answer(late2))
elif mode == "slowloris":
    n = int(sys.argv[4])
    slow = []
    for i in range(n):
        s = conn()
        s.sendall(REQ.split(b"\r\n", 1)[0] + b"\r\n")   # the request line
        slow.append(s)
    t0 = time.time()
    print("slowloris open:", len(slow))
    # Normal clients meanwhile, a new connection each.
    codes, worst = [], 0.0
    alive = set(range(n))
    while time.time() - t0 < 6:
        for i in list(alive):
            try:
                slow[i].send(b"X-Slow: 1\r\n")
            except OSError:
                alive.discard(i)
        t = time.time()
        s = conn()
        s.sendall(REQ)
        codes.append(answer(s))
        worst = max(worst, time.time() - t)
        s.close()
        time.sleep(0.2)
    # The cut ones: EOF (or a reset) after at most a 408.
    cut = 0
    for s in slow:
        s.setblocking(False)
        try:
            got = b""
            while True:
                b = s.recv(65536)
                if not b:
                    cut += 1
                    break
                got += b
        except BlockingIOError:
            pass
        except OSError:
            cut += 1
        s.close()
    print("slowloris cut: %d of %d" % (cut, n))
    print("normal answers: %d, all 200: %s, slowest %.0f ms" %
          (len(codes), all(c == 200 for c in codes), worst * 1000))
elif mode == "idle":
    n = int(sys.argv[4])
    pid = int(sys.argv[5])
    socks = []
    for i in range(n):
        s = conn()
        socks.append(s)
    ok = 0
    for i, s in enumerate(socks):
        if i % 2 == 0:                 # half have had a request answered
            s.sendall(REQ)
    for i, s in enumerate(socks):
        if i % 2 == 0 and answer(s) == 200:
            ok += 1
    time.sleep(1)
    rss = [l.split()[1] for l in open("/proc/%d/status" % pid)
           if l.startswith("VmRSS:")][0]
    print("idle open: %d, answered: %d, ferryd VmRSS %s kB" % (n, ok, rss))
    s = conn()
    s.sendall(REQ)
    print("one more client:", answer(s))
    s.close()
    sys.stdout.flush()
    sys.stdin.readline()               # until the shell has read metrics
    for s in socks:
        s.close()
EOF2

# --- out of file descriptors -------------------------------------------
start_ferryd
px -o /dev/null "$U/size/5"
python3 "$T/limits.py" emfile "$PROXY_PORT" "$ORIGIN_PORT" "$FERRYD_PID" \
    "$(ulimit -Hn)" >"$T/emfile.out" 2>&1 || true
cat "$T/emfile.out" | sed 's/^/# /'
cp "$T/ferryd.log" "$T/emfile.log"
check "out of descriptors: the queued client waits" \
    grep -q '^late waits while short' "$T/emfile.out"
cpu=$(sed -n 's/^cpu while paused \([0-9.]*\) .*/\1/p' "$T/emfile.out")
check "out of descriptors: no busy loop (${cpu:-?} s of CPU in 1 s)" \
    awk -v c="${cpu:-9}" 'BEGIN { exit !(c < 0.3) }'
check_eq "descriptors back, no client left: the retry timer finds them" \
    "late after the limit is raised: 200" "$(grep '^late after' "$T/emfile.out")"
check "short again: the queued client waits" \
    grep -q '^late2 waits while short' "$T/emfile.out"
check_eq "clients leave: the queued client is answered" \
    "late2 after clients leave: 200" "$(grep '^late2 after' "$T/emfile.out")"
check_eq "the shortage is logged once" 1 \
    "$(grep -c 'accept: Too many open files: not accepting until a descriptor is free' "$T/emfile.log")"
check "and its end" grep -q 'accepting clients again' "$T/emfile.log"
check "ferryd_accept_pauses_total counts it" \
    test "$(metric ferryd_accept_pauses_total)" -ge 1
inuse_0() { [ "$(metric 'ferryd_upstream_connections{state="in_use"}')" = 0 ]; }
check "nothing in use after it" wait_for 5 inuse_0
check_eq "no leak" 0 "$(metric ferryd_upstream_leaks_total)"
check "clean exit" stop_ferryd

# --- slowloris ------------------------------------------------------------
start_ferryd server.client_header_timeout=2
python3 "$T/limits.py" slowloris "$PROXY_PORT" "$ORIGIN_PORT" 1000 \
    >"$T/slow.out" 2>&1 || true
cat "$T/slow.out" | sed 's/^/# /'
check_eq "slowloris: 1000 connections cut at client_header_timeout" \
    "slowloris cut: 1000 of 1000" "$(grep '^slowloris cut' "$T/slow.out")"
check "normal clients meanwhile: all 200" \
    grep -q '^normal answers: [0-9]*, all 200: True' "$T/slow.out"
worst=$(sed -n 's/.*slowest \([0-9]*\) ms/\1/p' "$T/slow.out")
check_le "normal clients meanwhile: slowest answer (ms)" "${worst:-99999}" 1000
check "clean exit" stop_ferryd

# --- 10,000 idle clients --------------------------------------------------
N=10000
if [ "$(ulimit -n)" -lt 25000 ]; then
	N=$(( ($(ulimit -n) - 200) / 2 ))
	echo "# ulimit -n is $(ulimit -n): $N idle clients instead of 10000"
fi
start_ferryd server.max_clients=$((N + 100))
mkfifo "$T/idle.in"
python3 "$T/limits.py" idle "$PROXY_PORT" "$ORIGIN_PORT" "$N" "$FERRYD_PID" \
    <"$T/idle.in" >"$T/idle.out" 2>&1 &
IDLE_PID=$!
PIDS="$PIDS $IDLE_PID"
exec 7>"$T/idle.in"
idle_ready() { grep -q '^one more client' "$T/idle.out"; }
wait_for 60 idle_ready || true
cat "$T/idle.out" | sed 's/^/# /'
check_eq "$N idle clients open, half of them answered once" \
    "idle open: $N, answered: $((N / 2))" \
    "$(sed -n 's/^\(idle open: [0-9]*, answered: [0-9]*\),.*/\1/p' "$T/idle.out")"
check_eq "one more client is served meanwhile" "one more client: 200" \
    "$(grep '^one more client' "$T/idle.out")"
clients_n() { [ "$(metric ferryd_client_connections)" = $((N + 1)) ]; }
check "ferryd_client_connections: $N and this request" wait_for 5 clients_n
exec 7>&-
wait "$IDLE_PID" || true
clients_0() { [ "$(metric ferryd_client_connections)" = 1 ]; }
check "all gone: ferryd_client_connections back to 1 (this request)" wait_for 10 clients_0
check "clean exit" stop_ferryd
finish
