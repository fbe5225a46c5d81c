#!/bin/sh
# 29-origin-faults.sh - the origin-fault matrix: each broken response of
# the origin's /fault/NAME (and a stall, an origin that never reads, a
# connect that hangs) gives the client the right outcome and leaves the
# pool clean; then the same faults under load, 16 clients at once on
# shared upstream connections, every response tagged with its request's
# id: a fault on one connection never shows in another client's answer.
# Refused connects, DNS failures, resets before the head and garbage are
# in 04-errors.sh; a pooled connection the origin closed, in
# 15-origin-close.sh; 1xx responses, in 20-semantics.sh.
. "$TESTS_DIR/integration/lib.sh"

start_origin
start_blackhole
start_ferryd upstream.read_timeout=1 upstream.connect_timeout=1

cat > "$T/faults.py" <<'EOF2'
import os, random, re, socket, sys, threading, time
sys.path.insert(0, os.environ["TESTS_DIR"])
import rawhttp

PPORT, OPORT = int(sys.argv[2]), int(sys.argv[3])
TOK = re.compile(rb"k\d{6}z")
serial = [0]
lock = threading.Lock()

def token():
    with lock:
        serial[0] += 1
        return "k%06dz" % serial[0]

def tagged(tok, n):
    t = tok.encode()
    return (t * (n // len(t) + 1))[:n]

def req(method, path, tok, body=b""):
    sep = "&" if "?" in path else "?"
    h = ("%s http://127.0.0.1:%d%s%sid=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
         % (method, OPORT, path, sep, tok, OPORT))
    if body:
        h += "Content-Length: %d\r\n" % len(body)
    return h.encode() + b"\r\n" + body

def Conn():
    return rawhttp.Conn(PPORT)

def body_check(tok, status, body):
    """own: every byte is this request's; foreign: another request's token
    appears; none: neither (a page of ferryd's own)."""
    others = [t for t in TOK.findall(body) if t != tok.encode()]
    if others:
        return "foreign"
    if status == 200 and body and tagged(tok, len(body)) == body:
        return "own"
    return "none" if body else "empty"

CASES = {
    # name: (method, expected "status end conn")
    "http09": "GET", "truncated-head": "GET", "reset-head": "GET",
    "cut-length": "GET", "reset-body": "GET", "cut-chunked": "GET",
    "cut-chunk-mid": "GET", "length-abc": "GET", "length-neg": "GET",
    "length-plus": "GET", "length-two": "GET", "cl-te": "GET",
    "body-204": "GET", "body-304": "GET", "head-body": "HEAD",
    "interim-cut": "GET",
}

def one(name, method, body=b""):
    c = Conn()
    tok = token()
    path = "/stall" if name == "stall" else "/fault/" + name
    c.s.sendall(req(method, path, tok, body))
    try:
        st, h, b, end = c.response(method)
    except (EOFError, ConnectionResetError) as e:
        return "%s: no response (%s)" % (name, type(e).__name__)
    where = c.state()
    follow = "-"
    if where == "open":
        t2 = token()
        c.s.sendall(req("GET", "/tagged/3000", t2))
        s2, h2, b2, e2 = c.response("GET")
        follow = "%d/%s" % (s2, body_check(t2, s2, b2))
        oc = h.get(b"x-origin-conn")
        if oc is not None and oc == h2.get(b"x-origin-conn"):
            follow += "/same-upstream"
    c.s.close()
    return "%s: %d %s %s body=%s follow=%s" % (name, st, end, where,
        body_check(tok, st, b), follow)

# What a client must get from each fault: status and end.
EXPECT = {
    "http09": (502, "clean"), "truncated-head": (502, "clean"),
    "reset-head": (502, "clean"), "cut-length": (200, "cut"),
    "reset-body": (200, "cut"), "cut-chunked": (200, "cut"),
    "cut-chunk-mid": (200, "cut"), "length-abc": (502, "clean"),
    "length-neg": (502, "clean"), "length-plus": (502, "clean"),
    "length-two": (502, "clean"), "cl-te": (200, "clean"),
    "body-204": (204, "clean"), "body-304": (304, "clean"),
    "head-body": (200, "clean"), "interim-cut": (502, "clean"),
}

def load(nclients, nreq, seed):
    wrong, foreign, counts = [], [0], {"good": 0, "fault": 0}
    def client(i):
        rng = random.Random(seed * 1000 + i)
        c = None
        for _ in range(nreq):
            if c is None:
                c = Conn()
            tok = token()
            if rng.random() < 0.6:
                n = rng.randint(1, 40000)
                path = rng.choice(["/tagged/%d", "/tagged-chunked/%d"]) % n
                name, method, want = "good", "GET", (200, "clean")
            else:
                name = rng.choice(sorted(EXPECT))
                path, method, want = "/fault/" + name, CASES[name], EXPECT[name]
                n = None
            try:
                c.s.sendall(req(method, path, tok))
                st, h, b, end = c.response(method)
            except (OSError, EOFError, ValueError, IndexError) as e:
                wrong.append("%s %s: %s" % (path, tok, type(e).__name__))
                c.s.close()
                c = None
                continue
            chk = body_check(tok, st, b)
            rid = h.get(b"x-req-id", [tok.encode()])[0]
            with lock:
                counts["fault" if n is None else "good"] += 1
            if chk == "foreign" or rid != tok.encode():
                foreign[0] += 1
                wrong.append("%s %s: another request's bytes" % (path, tok))
            ok = (st, end) == want
            if n is not None:
                ok = ok and len(b) == n and chk == "own"
            elif st == 200 and method == "GET":
                ok = ok and chk == "own"
            if not ok:
                wrong.append("%s %s: got %d %s %s, %d bytes" %
                             (path, tok, st, end, chk, len(b)))
            if end == "cut":
                if c.state() != "closed":
                    wrong.append("%s %s: open after a cut body" % (path, tok))
                c.s.close()
                c = None
        if c is not None:
            c.s.close()
    ts = [threading.Thread(target=client, args=(i,)) for i in range(nclients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("load: %d requests (%d good, %d faults) from %d clients: "
          "%d wrong, %d with another request's bytes" %
          (counts["good"] + counts["fault"], counts["good"], counts["fault"],
           nclients, len(wrong), foreign[0]))
    for w in wrong[:10]:
        print("  " + w)

if sys.argv[1] == "load":
    load(int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
if sys.argv[1] == "cases":
    for name in sys.argv[4:]:
        if name == "deaf":
            print(one(name, "POST", b"x" * (8 << 20)))
        elif name == "stall":
            print(one("stall", "GET"))
        else:
            print(one(name, CASES[name]))
EOF2

# case NAME EXPECTED: one request on a new client connection; EXPECTED is
# "STATUS END CONN body=WHOSE follow=NEXT" (END: clean or cut; CONN: what
# the client connection does after it; follow: a next request on it).
case_is() {
	got=$(python3 "$T/faults.py" cases "$PROXY_PORT" "$ORIGIN_PORT" "$1" 2>&1)
	check_eq "$1" "$1: $2" "$got"
}
case_is http09		"502 clean open body=none follow=200/own"
case_is truncated-head	"502 clean open body=none follow=200/own"
case_is reset-head	"502 clean open body=none follow=200/own"
case_is interim-cut	"502 clean open body=none follow=200/own"
case_is length-abc	"502 clean open body=none follow=200/own"
case_is length-neg	"502 clean open body=none follow=200/own"
case_is length-plus	"502 clean open body=none follow=200/own"
case_is length-two	"502 clean open body=none follow=200/own"
# What arrived is forwarded, then the client connection is closed: never
# a clean end of a body that was cut.
case_is cut-length	"200 cut closed body=own follow=-"
case_is reset-body	"200 cut closed body=own follow=-"
case_is cut-chunked	"200 cut closed body=own follow=-"
case_is cut-chunk-mid	"200 cut closed body=own follow=-"
# Transfer-Encoding wins over Content-Length, and the upstream connection
# is not used again (follow has no /same-upstream).
case_is cl-te		"200 clean open body=own follow=200/own"
# A body after a 204, a 304 or a HEAD answer is not forwarded, and the
# connection that carried it is not reused (after_extra below).
case_is body-204	"204 clean open body=empty follow=200/own"
case_is body-304	"304 clean open body=empty follow=200/own"
case_is head-body	"200 clean open body=empty follow=200/own"
# No answer within read_timeout: 504; an origin that never reads the
# 8 MiB body: 504, and the client connection closes (its body unread).
case_is stall		"504 clean open body=none follow=200/own"
case_is deaf		"504 clean closed body=none follow=-"
code=$(px -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BLACKHOLE_PORT/x" || true)
check_eq "connect that hangs: 504 after connect_timeout" 504 "$code"

inuse_0() { [ "$(metric 'ferryd_upstream_connections{state="in_use"}')" = 0 ]; }
check "after the cases: nothing in use" wait_for 5 inuse_0
check_eq "after the cases: no leak" 0 "$(metric ferryd_upstream_leaks_total)"
check_eq "no request came on a connection after its stray bytes" 0 \
    "$(origin_stat after_extra)"

python3 "$T/faults.py" load "$PROXY_PORT" "$ORIGIN_PORT" 16 200 1 >"$T/load.out" 2>&1 || true
sed 's/^/# /' "$T/load.out"
check "under load: every answer right, none with another's bytes" \
    grep -q '^load: 3200 requests (.*) from 16 clients: 0 wrong, 0 with another' "$T/load.out"
check "under load: upstream connections were shared" \
    test "$(metric ferryd_upstream_reused_total)" -gt 500
check "after the load: nothing in use" wait_for 5 inuse_0
check_eq "after the load: no leak" 0 "$(metric ferryd_upstream_leaks_total)"
check "the leak is never logged" sh -c '! grep -q "was leaked" "$1"' sh "$T/ferryd.log"
check_eq "after the load: no request on a connection after stray bytes" 0 \
    "$(origin_stat after_extra)"
check_eq "ferryd opened exactly the connections the origin accepted" \
    "$(origin_stat accepted)" "$(metric ferryd_upstream_connections_opened_total)"
check "clean exit" stop_ferryd
finish
