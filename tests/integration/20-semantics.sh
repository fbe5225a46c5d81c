#!/bin/sh
# 20-semantics.sh - what a proxy must pass on as the origin and the client
# said it: transfer codings other than chunked keep their names, 1xx
# interim responses reach HTTP/1.1 clients, extension methods are
# forwarded by name (RFC 9110 9.1, 15.2; RFC 9112 6.1, 7); a request that
# loops back to ferryd is stopped by its Via (RFC 9110 7.6.3).
. "$TESTS_DIR/integration/lib.sh"

start_origin
O=127.0.0.1:$ORIGIN_PORT
start_ferryd

# semantics.py PROXY_PORT CASE...: raw exchanges over one connection per
# case, parsed properly; prints one "CASE RESULT" line per case.
cat > "$T/semantics.py" <<'PY'
import gzip, socket, sys

proxy = int(sys.argv[1])
origin = sys.argv[2]

def talk(data, timeout=5):
    s = socket.create_connection(("127.0.0.1", proxy), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except socket.timeout:
        pass
    s.close()
    return out

def responses(raw, head_only=False):
    """Splits raw into (status, headers, body) tuples, 1xx included."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:]]
        names = [k.lower() for k, _ in fields]
        te = ", ".join(v for k, v in fields if k.lower() == "transfer-encoding")
        body = b""
        if status < 200 or status in (204, 304) or head_only:
            pass
        elif "content-length" in names:
            n = int(dict((k.lower(), v) for k, v in fields)["content-length"])
            body, rest = rest[:n], rest[n:]
        elif te.lower().endswith("chunked"):
            while True:
                line, _, rest = rest.partition(b"\r\n")
                n = int(line, 16)
                if n == 0:
                    rest = rest.partition(b"\r\n")[2]
                    break
                body += rest[:n]
                rest = rest[n + 2:]
        else:
            body, rest = rest, b""
        out.append((lines[0], status, fields, te, body))
        raw = rest
    return out

def req(method, path, version="1.1", extra=""):
    h = "Host: %s\r\n" % origin if version == "1.1" else ""
    return ("%s http://%s%s HTTP/%s\r\n%s%sConnection: close\r\n\r\n" %
            (method, origin, path, version, h, extra)).encode()

def say(case, result):
    print(case, result)

for case in sys.argv[3:]:
    if case == "gzip-chunked":
        r = responses(talk(req("GET", "/te/gzip-chunked")))
        _, st, _, te, body = r[-1]
        say(case, "%d te=%s body=%s" % (st, te.replace(" ", ""),
            gzip.decompress(body).decode().strip() if body else "-"))
    elif case == "gzip-chunked-1.0":
        r = responses(talk(req("GET", "/te/gzip-chunked", "1.0")))
        line, st, _, te, body = r[-1]
        say(case, "%s te=%s body=%s" % (line.split()[0], te.replace(" ", ""),
            gzip.decompress(body).decode().strip() if body else "-"))
    elif case == "gzip-close":
        r = responses(talk(req("GET", "/te/gzip")))
        _, st, _, te, body = r[-1]
        say(case, "%d te=%s body=%s" % (st, te.replace(" ", ""),
            gzip.decompress(body).decode().strip() if body else "-"))
    elif case == "chunked-gzip":
        r = responses(talk(req("GET", "/te/chunked-gzip")))
        say(case, "%d" % r[-1][1])
    elif case == "head-gzip-chunked":
        r = responses(talk(req("HEAD", "/te/gzip-chunked")), head_only=True)
        _, st, fields, te, _ = r[-1]
        say(case, "%d te=%s cl=%s" % (st, te.replace(" ", "") or "-",
            "yes" if any(k.lower() == "content-length" for k, _ in fields)
            else "no"))
    elif case == "interim":
        r = responses(talk(req("GET", "/interim")))
        parts = []
        for line, st, fields, te, body in r:
            link = [v for k, v in fields if k.lower() == "link"]
            parts.append("%d%s" % (st, "+link" if link else ""))
        say(case, ",".join(parts) + " body=" + r[-1][4].decode().strip())
    elif case == "interim-1.0":
        r = responses(talk(req("GET", "/interim", "1.0")))
        say(case, ",".join(str(x[1]) for x in r))
    elif case == "ext-method":
        r = responses(talk(req("MOOO", "/headers")))
        _, st, _, _, body = r[-1]
        say(case, "%d %s" % (st, body.split(b"\r\n")[0].decode()))
    elif case == "ext-pipelined":
        data = (("MOOO http://%s/headers HTTP/1.1\r\nHost: %s\r\n\r\n"
                 "GET http://%s/size/3 HTTP/1.1\r\nHost: %s\r\n\r\n"
                 "BREW-COFFEE http://%s/headers HTTP/1.1\r\nHost: %s\r\n"
                 "Connection: close\r\n\r\n") % ((origin,) * 6)).encode()
        r = responses(talk(data))
        say(case, "|".join("%d:%s" % (st, body.split(b"\r\n")[0].decode())
            for _, st, _, _, body in r))
    elif case == "http10-two-connection":
        # An HTTP/1.0 client with keep-alive in its second Connection
        # field, and a chunked origin: the body has no length, so the
        # connection must close after it (no Content-Length: 0, no reuse).
        s = socket.create_connection(("127.0.0.1", proxy), timeout=3)
        s.sendall(("GET http://%s/chunked/5 HTTP/1.0\r\nConnection: foo\r\n"
                   "Connection: keep-alive\r\n\r\n" % origin).encode())
        out, closed = b"", False
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    closed = True
                    break
                out += b
        except socket.timeout:
            pass
        head, _, body = out.partition(b"\r\n\r\n")
        cl0 = b"content-length: 0" in head.lower()
        say(case, "body=%s closed=%s cl0=%s" % (body.decode(), closed, cl0))
    elif case.startswith("persist:"):
        # persist:VERSION:FIELD|FIELD: two pipelined GETs with those
        # Connection fields on the first; says whether ferryd closed after
        # the first (and said so) or answered the second.
        _, version, fields = case.split(":", 2)
        conn = "".join("Connection: %s\r\n" % f for f in fields.split("|"))
        host = "Host: %s\r\n" % origin
        data = ("GET http://%s/size/3 HTTP/%s\r\n%s%s\r\n"
                "GET http://%s/size/4 HTTP/1.1\r\n%sConnection: close\r\n\r\n"
                % (origin, version, host, conn, origin, host)).encode()
        r = responses(talk(data))
        said = [v.lower() for k, v in r[0][2] if k.lower() == "connection"]
        say(case, "%d said=%s" % (len(r), ",".join(said) or "-"))
    elif case == "ext-body":
        r = responses(talk(req("MOOO", "/echo",
            extra="Content-Length: 3\r\n") + b"abc"))
        say(case, "%d %s" % (r[0][1], r[0][4].rsplit(b"\r\n\r\n", 1)[1].decode()))
PY

sem() {
	python3 "$T/semantics.py" "$PROXY_PORT" "$O" "$1" | sed "s/^$1 //"
}

# --- Transfer codings (RFC 9112 6.1, 7): only chunked is ferryd's to undo.
check_eq "gzip, chunked: de-chunked, re-chunked, gzip kept by name" \
    "200 te=gzip,chunked body=hello gzip" "$(sem gzip-chunked)"
check_eq "gzip, chunked to an HTTP/1.0 client: close-delimited, gzip named" \
    "HTTP/1.0 te=gzip body=hello gzip" "$(sem gzip-chunked-1.0)"
nr0=$(metric 'ferryd_upstream_evictions_total{reason="not_reusable"}')
check_eq "gzip alone: read until close, re-chunked, gzip named" \
    "200 te=gzip,chunked body=hello gzip" "$(sem gzip-close)"
check_eq "a close-delimited coding leaves the connection unused" \
    $((nr0 + 1)) "$(metric 'ferryd_upstream_evictions_total{reason="not_reusable"}')"
check_eq "chunked, gzip: cannot be re-chunked, 502" 502 "$(sem chunked-gzip)"
check_eq "HEAD keeps the origin's Transfer-Encoding, no Content-Length" \
    "200 te=gzip,chunked cl=no" "$(sem head-gzip-chunked)"

check_eq "HTTP/1.0, keep-alive in a second Connection field, chunked origin: close-delimited" \
    "body=abcde closed=True cl0=False" "$(sem http10-two-connection)"

# --- Persistence by every Connection token (RFC 9110 7.6.1), not just
# the first field as evhttp reads it.
check_eq "1.1 'keep-alive, close': closed after the first, said so" \
    "1 said=close" "$(sem 'persist:1.1:keep-alive, close')"
check_eq "1.1 'foo' then 'close': closed after the first" \
    "1 said=close" "$(sem 'persist:1.1:foo|close')"
check_eq "1.1 'keep-alive': both answered" "2 said=-" \
    "$(sem 'persist:1.1:keep-alive')"
check_eq "1.0 'keep-alivex' is no keep-alive: closed" "1 said=close" \
    "$(sem 'persist:1.0:keep-alivex')"
check_eq "1.0 'foo, keep-alive': kept" "2 said=keep-alive" \
    "$(sem 'persist:1.0:foo, keep-alive')"

# --- 1xx interim responses (RFC 9110 15.2).
check_eq "103 (with its Link) and 102 reach an HTTP/1.1 client, then 200" \
    "103+link,102,200 body=final" "$(sem interim)"
check_eq "an HTTP/1.0 client sees only the final response" "200" \
    "$(sem interim-1.0)"

# --- Extension methods (RFC 9110 9.1).
r0=$(origin_stat requests)
check_eq "MOOO is forwarded by name" "200 MOOO /headers HTTP/1.1" \
    "$(sem ext-method)"
check_eq "pipelined extension and known methods keep their names, in order" \
    "200:MOOO /headers HTTP/1.1|200:abc|200:BREW-COFFEE /headers HTTP/1.1" \
    "$(sem ext-pipelined)"
r1=$(origin_stat requests)
check_eq "the origin got those 4 requests" $((r0 + 4)) "$r1"
check_eq "an extension method with a body: forwarded, body and all" "200 abc" \
    "$(sem ext-body)"

# --- A forwarding loop, found by ferryd's own Via (RFC 9110 7.6.3).  The
# "origin" is a relay that hands each request back to ferryd as a proxy
# request for itself, as an interceptor chained to ferryd would.  Without
# the check, each pass would open one more connection, until descriptors
# ran out; with it, the fifth pass gets 508.  One or two ferryd hops in
# a Via are separate installs on one path, and pass.
cat > "$T/relay.py" <<'PY'
import socket, sys, threading
proxy = int(sys.argv[1])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
print(ls.getsockname()[1], flush=True)
def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        b = c.recv(65536)
        if not b:
            return
        head += b
    line, rest = head.split(b"\r\n", 1)
    m, target, v = line.split(b" ")
    me = ("http://127.0.0.1:%d" % ls.getsockname()[1]).encode()
    p = socket.create_connection(("127.0.0.1", proxy))
    p.sendall(b" ".join([m, me + target, v]) + b"\r\n" + rest)
    while True:
        b = p.recv(65536)
        if not b:
            break
        c.sendall(b)
        if b"\r\n\r\n" in b:
            break
    c.close()
    p.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$T/relay.py" "$PROXY_PORT" >"$T/relay.port" 2>"$T/relay.log" &
PIDS="$PIDS $!"
wait_for 5 test -s "$T/relay.port"
RELAY=$(cat "$T/relay.port")
opened0=$(metric ferryd_upstream_connections_opened_total)
px -D "$T/loop.h" -o "$T/loop.b" "http://127.0.0.1:$RELAY/x" || true
check_eq "a request that loops back: 508" 508 "$(status_of <"$T/loop.h")"
check "it says why" grep -q 'forwarding loop' "$T/loop.b"
check_eq "five passes through the relay, not a flood of them" $((opened0 + 5)) \
    "$(metric ferryd_upstream_connections_opened_total)"
check "the loop is logged" grep -q 'forwarding loop: its Via names ferryd 5 times' "$T/ferryd.log"
via_status() {
	printf 'GET http://%s/headers HTTP/1.1\r\nHost: %s\r\n%bConnection: close\r\n\r\n' \
	    "$O" "$O" "$1" | raw 127.0.0.1 "$PROXY_PORT" >"$T/via.reply" || true
	status_of <"$T/via.reply"
}
check_eq "another ferryd on the path (Via names one): 200" 200 \
    "$(via_status 'Via: 1.0 fred, 1.1 ferryd\r\n')"
check_eq "four ferryd hops: 200" 200 \
    "$(via_status 'Via: 1.1 ferryd, 1.1 ferryd\r\nVia: 1.1 ferryd, 1.1 ferryd\r\n')"
check_eq "five, over two Via fields: 508" 508 \
    "$(via_status 'Via: 1.1 ferryd, 1.1 ferryd\r\nvia: 1.1 ferryd,1.1 Ferryd, 1.1 ferryd (x)\r\n')"
check_eq "a client's unclosed ( hides no hop a merging proxy appends: 508" 508 \
    "$(via_status 'Via: 1.0 x (, 1.1 ferryd, 1.1 ferryd, 1.1 ferryd, 1.1 ferryd, 1.1 ferryd\r\n')"
check_eq "ferryd named in comments only: 200" 200 \
    "$(via_status 'Via: 1.1 a (1.1 ferryd, 1.1 ferryd, 1.1 ferryd, 1.1 ferryd, 1.1 ferryd)\r\n')"
printf 'GET http://%s/headers HTTP/1.1\r\nHost: %s\r\nVia: 1.0 fred, 1.1 squid (ferryd)\r\nConnection: close\r\n\r\n' \
    "$O" "$O" | raw 127.0.0.1 "$PROXY_PORT" >"$T/via.reply" || true
check_eq "a Via of other proxies passes" 200 "$(status_of <"$T/via.reply")"
check "... kept, and ferryd's hop added after it" sh -c \
    'grep -A1 -x "Via: 1.0 fred, 1.1 squid (ferryd)." "$1" | tail -n +2 |
    grep -q . && sed -n "/^Via: 1.0 fred/,\$p" "$1" | grep -qx "Via: 1.1 ferryd."' \
    sh "$T/via.reply"

check_eq "no leak" 0 "$(metric ferryd_upstream_leaks_total)"
check "clean exit" stop_ferryd
finish
