#!/bin/sh
# 18-clean-reuse.sh - bytes an origin sends after the end of a response (a
# stray CRLF, a whole second response) never reach another client.  The
# connection that carries them is closed, not reused, whether ferryd has
# read them already or they still wait in the kernel (pool.md, "The
# connection is clean before anyone else gets it").
#
# libevent reads a socket 4 KiB at a time and ferryd reads the rest of a
# body exactly up to its end, so the extra bytes are often still unread
# when the response is done; the idle watch sees them one loop pass later.
# Only a request taken in that same pass gets the connection.  The pair
# cases make that happen every time: ferryd is frozen (SIGSTOP) while A's
# response and B's request both arrive, then thawed, so that A ends and B
# is read in one pass.  B's connection is already open (A's body ends in
# the first pass: up to 256 KiB) or is accepted in the first pass and
# read in the second (A's body ends in the second: 256..512 KiB).  The
# load case mixes extra bytes into 3000 requests from 28 clients (at most
# 30 s of sending, 8 s more for a stuck answer).
. "$TESTS_DIR/integration/lib.sh"

# thaw: SIGCONT to ferryd, which the client stops.  A thaw the client
# could not do must not leave it stopped: cleanup's SIGTERM and wait would
# hang on it.  Never fails (set -e), before start_ferryd or after stop.
thaw() {
	[ -z "${FERRYD_PID:-}" ] || kill -CONT "$FERRYD_PID" 2>/dev/null || true
}
trap 'thaw; cleanup' EXIT

cat > "$T/client.py" <<'EOF'
import os, random, signal, socket, sys, threading, time
sys.path.insert(0, os.environ["TESTS_DIR"])
import rawhttp

PPORT, OPORT, CTL, FPID = map(int, sys.argv[1:5])
STALE = b"STALE-RESPONSE"

def request(path):
    return ("GET http://127.0.0.1:%d%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "\r\n" % (OPORT, path, OPORT)).encode()

def tagged(tok, n):
    return (tok.encode() * (n // len(tok) + 1))[:n]

class Client(rawhttp.Conn):
    """One keep-alive connection to ferryd: (status, fields, body) of each
    response, which must end as its framing says; junk(): bytes after it."""
    def __init__(self, timeout=8):
        rawhttp.Conn.__init__(self, PPORT, timeout)
    def response(self):
        status, fields, body, end = rawhttp.Conn.response(self)
        if end != "clean":
            raise ValueError("response %s" % end)
        return status, dict((k.decode("latin-1"), v[-1].decode("latin-1"))
                            for k, v in fields.items()), body
    def junk(self, wait):
        """Bytes after the response (nothing may come): a short wait."""
        self.state(wait)
        return len(self.buf)

def verdict(r, tok, n):
    """'ok', or what is wrong with response r to the request tok, n."""
    status, h, body = r
    rid = h.get("x-req-id")
    if rid == "stale" or STALE in body:
        return "stale"
    if status != 200:
        return "non200"
    if rid != tok:
        return "wrong-id"
    if body != tagged(tok, n):
        return "bad-body"
    return "ok"

def origin_requests():
    c = socket.create_connection(("127.0.0.1", CTL), timeout=5)
    c.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
    d = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        d += b
    c.close()
    for l in d.decode().split("\n"):
        if l.startswith("requests "):
            return int(l.split()[1])
    raise ValueError("no requests count in the origin's stats")

def pair(k, mode, n, extra):
    """One frozen pair: A with extra bytes, then B; prints the outcome."""
    a = Client()
    b = Client() if mode == "open" else None
    # A big transfer first grows the connection's receive buffer, so that
    # all of A's response fits in the kernel while ferryd is frozen; A
    # then reuses that connection (most recently used first).
    a.s.sendall(request("/size/4000000"))
    if a.response()[0] != 200:
        raise ValueError("warm-up failed")
    ida, idb = "A%d" % k, "B%d" % k
    r0 = origin_requests()
    stopped = False
    try:
        a.s.sendall(request("/tagged/%d?id=%s&extra=%s&delay=100" %
                            (n, ida, extra)))
        end = time.time() + 5
        while origin_requests() == r0:
            if time.time() > end:
                raise ValueError("A never reached the origin")
            time.sleep(0.005)
        # The origin answers 0.1 s after it got A; ferryd sleeps through it.
        os.kill(FPID, signal.SIGSTOP)
        stopped = True
        time.sleep(0.3)
        if b is None:
            b = Client()
        b.s.sendall(request("/tagged/100?id=%s" % idb))
        time.sleep(0.05)
        os.kill(FPID, signal.SIGCONT)
        stopped = False
        ra, rb = a.response(), b.response()
    finally:
        if stopped:
            os.kill(FPID, signal.SIGCONT)
    va, vb = verdict(ra, ida, n), verdict(rb, idb, 100)
    ca, cb = ra[1].get("x-origin-conn"), rb[1].get("x-origin-conn")
    if vb == "ok" and ca == cb:
        vb = "ok-but-on-A's-connection"
    ja, jb = a.junk(0.05), b.junk(0.05)
    a.close()
    b.close()
    desc = "%s-%d-%s" % (mode, n, extra)
    print("%s A=%s B=%s junk=%d B-got=%d/%s/%s" % (desc, va, vb, ja + jb,
          rb[0], rb[1].get("x-req-id"), len(rb[2])))
    sys.stdout.flush()

def load(seed, nclients, total, deadline):
    """nclients keep-alive clients share total requests; prints counts."""
    counts = dict(done=0, ok=0, stale=0, non200=0, wrong_id=0, bad_body=0,
                  errors=0, junk=0, extra=0)
    first = []
    lock = threading.Lock()
    stop_at = time.time() + deadline

    def note(key, what):
        with lock:
            counts[key] += 1
            if key not in ("ok", "done", "extra") and len(first) < 5:
                first.append(what)

    def worker(w, quota):
        rng = random.Random(seed * 1000 + w)
        c = None
        for i in range(quota):
            if time.time() > stop_at:
                return
            r = rng.random()
            if r < 0.45:
                n = rng.randint(100, 4000)
            elif r < 0.75:
                n = rng.randint(4000, 30000)
            elif r < 0.92:
                n = rng.randint(30000, 140000)
            else:
                n = rng.randint(140000, 300000)
            tok = "c%d-%d-%d" % (w, i, rng.randint(0, 999999))
            path = "/tagged-chunked/%d" if rng.random() < 0.2 else "/tagged/%d"
            path = path % n + "?id=" + tok
            e = rng.random()
            if e < 0.03:
                path += "&extra=response"
            elif e < 0.06:
                path += "&extra=crlf"
            try:
                if c is None:
                    c = Client()
                c.s.sendall(request(path))
                resp = c.response()
            except Exception as ex:
                note("errors", "%s: %r" % (path, ex))
                if c is not None:
                    c.close()
                c = None
                continue
            with lock:
                counts["done"] += 1
                if "extra=" in path:
                    counts["extra"] += 1
            v = verdict(resp, tok, n)
            key = {"ok": "ok", "stale": "stale", "non200": "non200",
                   "wrong-id": "wrong_id", "bad-body": "bad_body"}[v]
            note(key, "%s: %s (status %d, X-Req-Id %s, %d bytes)" % (
                path, v, resp[0], resp[1].get("x-req-id"), len(resp[2])))
            if c.buf:
                note("junk", "%s: %d bytes after the response" % (path,
                     len(c.buf)))
                c.buf = b""
            if resp[1].get("connection", "").lower() == "close":
                c.close()
                c = None
        if c is not None:
            c.close()

    threads = []
    for w in range(nclients):
        quota = total // nclients + (1 if w < total % nclients else 0)
        t = threading.Thread(target=worker, args=(w, quota), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(max(0.1, stop_at + 9 - time.time()))
    for f in first:
        print("# first problems: " + f)
    print("total %d done %d ok %d wrong_id %d stale %d non200 %d bad_body %d "
          "errors %d junk %d extra %d" % (total, counts["done"], counts["ok"],
          counts["wrong_id"] + counts["stale"], counts["stale"],
          counts["non200"], counts["bad_body"], counts["errors"],
          counts["junk"], counts["extra"]))

if sys.argv[5] == "pair":
    for k, case in enumerate(sys.argv[6:]):
        mode, n, extra = case.split(":")
        try:
            pair(k, mode, int(n), extra)
        except Exception as ex:
            print("%s-%s-%s failed: %r" % (mode, n, extra, ex))
else:
    load(int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]),
         float(sys.argv[9]))
EOF

# client pair|load ARGS...: the client above, pointed at ferryd and the
# origin, for at most 60 s; then ferryd runs again, whatever happened.
client() {
	timeout 60 python3 "$T/client.py" "$PROXY_PORT" "$ORIGIN_PORT" \
	    "$ORIGIN_CTL" "$FERRYD_PID" "$@" || true
	thaw
}

# evictions: all reasons together.
evictions() {
	curl -s --max-time 5 "$PROXY/metrics" |
	    awk '/^ferryd_upstream_evictions_total/ { n += $2 } END { print n + 0 }'
}

start_origin
# A check only after healthcheck_after_idle would not do: every reuse is
# checked, however short the idle time.
start_ferryd pool.healthcheck_after_idle=3600

# --- Pairs.  100 bytes: libevent reads body and extra bytes together; the
# others end the body with the extra bytes still in the kernel.
e0=$(evictions)
client pair open:100:response open:100:crlf \
    open:20000:response open:20000:crlf \
    open:262100:response open:262100:crlf \
    new:100:response new:100:crlf \
    new:300000:response new:300000:crlf > "$T/pairs"
npairs=0
while read -r what result; do
	echo "# $what $result"
	npairs=$((npairs + 1))
	check_eq "pair $what: A and B each got exactly their own response" \
	    "A=ok B=ok junk=0" "${result% B-got=*}"
done < "$T/pairs"
check_eq "all 10 pairs ran" 10 "$npairs"
check_eq "no request came on a connection after its extra bytes" 0 \
    "$(origin_stat after_extra)"
check_le "each of the 10 connections with extra bytes was closed" \
    $((e0 + 10)) "$(evictions)"
check_eq "the origin accepted as many connections as ferryd opened" \
    "$(origin_stat accepted)" "$(metric ferryd_upstream_connections_opened_total)"

# --- Load: 28 clients, 3000 requests, 3% with extra=response and 3% with
# extra=crlf, bodies of 100 bytes to 300 KB (a fifth chunked).
a0=$(origin_stat after_extra)
e0=$(evictions)
client load 18 28 3000 30 > "$T/load"
grep '^#' "$T/load" || true
line=$(grep '^total ' "$T/load" || echo "total ? (the client failed)")
echo "# $line"
# field NAME: a count from the client's summary line ("?" if missing).
field() {
	echo "$line" | awk -v k="$1" '
	    { for (i = 1; i < NF; i++) if ($i == k) v = $(i + 1) }
	    END { print v == "" ? "?" : v }'
}
extras=$(field extra)
case $extras in *[!0-9]*|'') extras=0 ;; esac
check_eq "load: all 3000 requests answered" 3000 "$(field done)"
check_eq "load: every response carried the right X-Req-Id" 0 "$(field wrong_id)"
check_eq "load: no client got a stale response" 0 "$(field stale)"
check_eq "load: no non-200 (no 502 from a stray CRLF)" 0 "$(field non200)"
check_eq "load: every body was the request's own" 0 "$(field bad_body)"
check_eq "load: no client error or timeout" 0 "$(field errors)"
check_eq "load: nothing after any response" 0 "$(field junk)"
check_eq "load: no request came on a connection after its extra bytes" \
    "$a0" "$(origin_stat after_extra)"
check_le "load: each connection with extra bytes was closed" \
    $((e0 + extras)) "$(evictions)"

# --- The pool's invariant after all that.
inuse_0() { [ "$(metric 'ferryd_upstream_connections{state="in_use"}')" = 0 ]; }
check "nothing in use at the end" wait_for 3 inuse_0
check_eq "ferryd_upstream_connections_opened_total == origin accepted" \
    "$(origin_stat accepted)" "$(metric ferryd_upstream_connections_opened_total)"
check_eq "no leak" 0 "$(metric ferryd_upstream_leaks_total)"
check "clean exit" stop_ferryd
finish
