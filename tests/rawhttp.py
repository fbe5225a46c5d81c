"""rawhttp.py - an exact HTTP/1.1 client for the integration tests: one
connection to a proxy, responses parsed byte for byte (status, fields,
body by its framing) and told apart as ended clean, cut short, or ended
by the connection's close; and what the connection does after a response.

Imported by the Python drivers the tests write ($TESTS_DIR on sys.path).
"""
import socket


class Conn:
    """One keep-alive connection to 127.0.0.1:port."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def close(self):
        self.s.close()

    def fill(self):
        b = self.s.recv(1 << 20)
        if not b:
            self.eof = True
            raise EOFError("the proxy closed the connection")
        self.buf += b

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def take(self, n):
        """(up to n bytes, whether all n came before the connection ended)."""
        try:
            while len(self.buf) < n:
                self.fill()
        except (EOFError, ConnectionResetError):
            got, self.buf = self.buf, b""
            return got, False
        got, self.buf = self.buf[:n], self.buf[n:]
        return got, True

    def response(self, method="GET"):
        """(status, fields, body, end) of the next final response; 1xx
        are skipped.  fields: lower-case name -> [values] (bytes); end:
        "clean", "cut" (short of its framing) or "eof" (close-delimited)."""
        while True:
            status = int(self.line().split(b" ", 2)[1])
            fields = {}
            while True:
                l = self.line()
                if not l:
                    break
                k, v = l.split(b":", 1)
                fields.setdefault(k.strip().lower(), []).append(v.strip())
            if status >= 200:
                break
        if method == "HEAD" or status in (204, 304):
            return status, fields, b"", "clean"
        if b"chunked" in b"".join(fields.get(b"transfer-encoding", [])):
            body = b""
            try:
                while True:
                    n = int(self.line().split(b";")[0], 16)
                    if n == 0:
                        while self.line():
                            pass
                        return status, fields, body, "clean"
                    got, ok = self.take(n + 2)
                    body += got[:n]
                    if not ok:
                        return status, fields, body, "cut"
                    if got[n:] != b"\r\n":
                        raise ValueError("chunk data not ended by CRLF")
            except (EOFError, ConnectionResetError):
                return status, fields, body, "cut"
        if b"content-length" in fields:
            got, ok = self.take(int(fields[b"content-length"][0]))
            return status, fields, got, "clean" if ok else "cut"
        got, _ = self.take(1 << 30)
        return status, fields, got, "eof"

    def state(self, wait=0.3):
        """"open", "closed", or "extra" (bytes after the response):
        what the connection does next, within wait seconds."""
        if self.buf:
            return "extra"
        if self.eof:
            return "closed"
        self.s.settimeout(wait)
        try:
            b = self.s.recv(4096)
            if b:
                self.buf += b
            return "extra" if b else "closed"
        except socket.timeout:
            return "open"
        except ConnectionResetError:
            return "closed"
        finally:
            self.s.settimeout(self.timeout)
