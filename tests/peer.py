#!/usr/bin/env python3
"""peer.py - the far ends of tunnel tests, on 127.0.0.1, on a free port.

  peer.py https CERT KEY READY   an https origin (Python's ssl: OpenSSL):
                                 GET /bytes/N sends N bytes, GET /counts
                                 "tcp N tls N resumed N sni NAME" (TCP
                                 connections accepted, handshakes done, of
                                 them resumed, the SNI name of the latest
                                 other request ("-": none),
                                 connections the client ended with and
                                 without close_notify), GET /idle-close and
                                 /idle-drop a small page, then 0.3 s later
                                 a close with and without close_notify,
                                 GET /close-delimited and
                                 /close-delimited-dirty a body without
                                 length that ends with the connection,
                                 with and without close_notify,
                                 anything else a small HTML page naming
                                 the path
  peer.py echo READY             a TCP echo server: echoes every byte, and
                                 closes its side after the client's EOF
  peer.py upgrade READY          an HTTP/1.1 origin that switches protocols:
                                 /ws with an Upgrade offer gets a 101
                                 (Upgrade: websocket), "hello " and then an
                                 echo as above; /ws-bare a 101 without
                                 Upgrade; /ws-other a 101 to h2c; any other
                                 request a 200 saying which Upgrade it saw
  peer.py upgrade-tls CERT KEY READY   the same over TLS (an https:// origin);
                                 the echo's end: " clean" and close_notify
                                 after the client's close_notify, only a
                                 close after a bare FIN
  peer.py trickle READY          a TLS origin that never finishes its
                                 handshake: after the ClientHello, the
                                 head of a 16 KiB record, then a byte of
                                 it every 0.5 s
  peer.py blackhole READY        a port whose connects hang: a listener with
                                 a full accept queue, never accepting

READY gets the port once listening.  Runs until killed.
"""
import http.server
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

PAGE = (b"<!DOCTYPE html><html><head><title>tls origin</title></head>"
        b"<body><p id=\"where\">%s over TLS</p></body></html>\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body are two writes: without TCP_NODELAY the body waits
    # for the head's delayed ACK (40 ms) behind a delaying relay.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path == "/counts":
            srv = self.server
            with srv.lock:
                body = ("tcp %d tls %d resumed %d sni %s clean %d dirty %d\n"
                        % (srv.tcp, srv.tls, srv.resumed, srv.sni,
                           srv.clean, srv.dirty)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        # The SNI name of the latest request's connection (not /counts's).
        with self.server.lock:
            self.server.sni = getattr(self.connection, "sni", None) or "-"
        if self.path in ("/idle-close", "/idle-drop"):
            # finish_request() closes after a pause: the client holds
            # the connection idle by then.
            self.tls_end = (0.3, self.path == "/idle-close")
            self.close_connection = True
        if self.path in ("/close-delimited", "/close-delimited-dirty"):
            # A body that ends with the connection, with close_notify
            # or without.
            self.tls_end = (0, self.path == "/close-delimited")
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"all of it\n")
            return
        if self.path.startswith("/bytes/"):
            n = int(self.path[len("/bytes/"):])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"\0" * 65536
            while n > 0:
                k = min(n, len(chunk))
                self.wfile.write(chunk[:k])
                n -= k
            return
        body = PAGE % self.path.encode("ascii", "replace")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The handshake runs in each connection's thread, and is counted."""
    daemon_threads = True
    request_queue_size = 128    # many tunnels connect at once

    def setup_tls(self, ctx):
        self.ctx = ctx
        self.lock = threading.Lock()
        self.tcp = self.tls = self.resumed = self.clean = self.dirty = 0
        self.sni = "-"
        ctx.sni_callback = self.on_sni

    def on_sni(self, sock, name, ctx):
        sock.sni = name

    def finish_request(self, request, client_address):
        with self.lock:
            self.tcp += 1
        try:
            # A client's EOF without close_notify raises: it is counted.
            conn = self.ctx.wrap_socket(request, server_side=True,
                                        suppress_ragged_eofs=False)
        except (ssl.SSLError, OSError):
            return
        with self.lock:
            self.tls += 1
            if conn.session_reused:
                self.resumed += 1
        try:
            h = self.RequestHandlerClass(conn, client_address, self)
            end = getattr(h, "tls_end", None)
            if end is None:
                with self.lock:
                    self.clean += 1
            else:
                pause, notify = end
                time.sleep(pause)
                if notify:
                    conn = conn.unwrap()
        except ssl.SSLEOFError:
            with self.lock:
                self.dirty += 1
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def ready(path, port):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(path + ".tmp", path)


def https(cert, key, path):
    srv = TLSServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.setup_tls(ctx)
    ready(path, srv.server_address[1])
    srv.serve_forever()


def half_close(conn):
    """Ends the sending side: close_notify over TLS, else a FIN."""
    if isinstance(conn, ssl.SSLSocket):
        return conn.unwrap()
    conn.shutdown(socket.SHUT_WR)
    return conn


def echo_one(conn):
    with conn:
        while True:
            try:
                b = conn.recv(65536)
            except ssl.SSLEOFError:
                return              # a FIN without close_notify: cut off
            if not b:
                break
            conn.sendall(b)
        if isinstance(conn, ssl.SSLSocket):
            conn.sendall(b" clean")     # the client's close_notify came
        conn = half_close(conn)
        # Wait for the other side to close too before closing.
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass


def serve(path, handle, ctx=None):
    """Accepts on 127.0.0.1 for ever, a thread per connection (TLS with ctx)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    ready(path, s.getsockname()[1])
    while True:
        conn, _ = s.accept()
        threading.Thread(target=tls_then if ctx else handle,
                         args=(conn, handle, ctx) if ctx else (conn,),
                         daemon=True).start()


def tls_then(conn, handle, ctx):
    try:
        conn = ctx.wrap_socket(conn, server_side=True,
                               suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError):
        conn.close()
        return
    handle(conn)


def upgrade_one(conn):
    with conn:
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                b = conn.recv(65536)
                if not b:
                    return
                buf += b
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            fields = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                fields[k.strip().lower()] = v.strip()
            offer = fields.get("upgrade")
            if path == "/ws" and offer:
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                             b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             b"X-Origin: peer\r\n\r\nhello ")
                if buf:
                    conn.sendall(buf)
                echo_one(conn)
                return
            if path == "/ws-bare":
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                             b"Connection: Upgrade\r\n\r\n")
                return
            if path == "/ws-other":
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                             b"Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
                return
            body = ("upgrade: %s\n" % (offer or "-")).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))


def trickle_one(conn):
    with conn:
        try:
            conn.recv(65536)
            conn.sendall(b"\x16\x03\x03\x40\x00")
            while True:
                time.sleep(0.5)
                conn.sendall(b"\x02")
        except OSError:
            pass


def blackhole(path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    # One connection fills the queue; later SYNs are dropped.
    filler = socket.create_connection(s.getsockname())
    ready(path, s.getsockname()[1])
    while True:
        threading.Event().wait(3600)
    filler.close()


if __name__ == "__main__":
    if sys.argv[1] == "https":
        https(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "echo":
        serve(sys.argv[2], echo_one)
    elif sys.argv[1] == "upgrade":
        serve(sys.argv[2], upgrade_one)
    elif sys.argv[1] == "upgrade-tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        serve(sys.argv[4], upgrade_one, ctx)
    elif sys.argv[1] == "trickle":
        serve(sys.argv[2], trickle_one)
    elif sys.argv[1] == "blackhole":
        blackhole(sys.argv[2])
    else:
        sys.exit("usage: peer.py https CERT KEY READY | echo READY | upgrade READY | upgrade-tls CERT KEY READY | trickle READY | blackhole READY")
