"""trackerd's HTTP/1.1 framing as clients see it: versions and keep-alive,
HEAD, chunked and 100-continue uploads, pipelining that mixes bodies and
errors, and the status of each kind of malformed request."""

import os
import socket
import time

import statest as st

TOKEN = "http-token"
H = st.hashlib.sha1(b"http-framing").digest()


def read_replies(s, count, timeout=5):
    """Reads count complete replies (Content-Length framed) from s."""
    s.settimeout(timeout)
    buf, replies = b"", []
    deadline = time.monotonic() + timeout
    while len(replies) < count and time.monotonic() < deadline:
        while b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            fields = dict(l.split(b": ", 1) for l in head.split(b"\r\n")[1:])
            n = int(fields.get(b"Content-Length", b"0"))
            if len(rest) < n:
                break
            replies.append((head, rest[:n]))
            buf = rest[n:]
            if len(replies) == count:
                return replies
        b = s.recv(65536)
        if not b:
            break
        buf += b
    return replies


class HttpFraming(st.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = st.Trackerd(publish_token=TOKEN)
        files = st.tempdir("http-files-")
        cls.torrent = st.make_torrent(st.make_file(os.path.join(files, "framed.bin"), 40000),
                                      piece_length=1 << 14)

    @classmethod
    def tearDownClass(cls):
        cls.t.stop()

    def announce_target(self, port=6881):
        return "/announce?" + st.qs([("info_hash", H), ("peer_id", st.peer_id(1)),
                                     ("port", port), ("left", 0)])

    def test_versions_and_connection(self):
        # HTTP/1.0 closes unless asked to keep alive; 1.1 keeps alive unless
        # asked to close. Every reply carries Content-Length and Date.
        req = ("GET %s HTTP/1.0\r\n\r\n" % self.announce_target()).encode()
        raw = st.http_raw(*self.t.http, req)
        self.assertTrue(raw.startswith(b"HTTP/1.0 200 OK\r\n"), raw[:100])
        self.assertIn(b"\r\nContent-Length: ", raw)
        self.assertIn(b"\r\nDate: ", raw)
        with socket.create_connection(self.t.http) as s:
            s.sendall(("GET %s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                       % self.announce_target()).encode() * 2)
            got = read_replies(s, 2)
            self.assertEqual(len(got), 2)
            self.assertIn(b"Connection: keep-alive", got[0][0])
        with socket.create_connection(self.t.http) as s:
            s.sendall(("GET %s HTTP/1.1\r\nConnection: close\r\n\r\n"
                       % self.announce_target()).encode())
            head, body = read_replies(s, 1)[0]
            self.assertIn(b"Connection: close", head)
            self.assertEqual(s.recv(10), b"", "the server closes after the reply")

    def test_head_has_no_body(self):
        with socket.create_connection(self.t.http) as s:
            s.sendall(b"HEAD /stats HTTP/1.1\r\nHost: x\r\n\r\nGET /stats?format=json "
                      b"HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(5)
            data = b""
            while data.count(b"HTTP/1.1 200") < 2 or not data.rstrip().endswith(b"}"):
                b = s.recv(65536)
                if not b:
                    break
                data += b
        head, rest = data.split(b"\r\n\r\n", 1)
        length = int(dict(l.split(b": ", 1) for l in head.split(b"\r\n")[1:])[b"Content-Length"])
        self.assertGreater(length, 0)
        # The GET's reply follows the HEAD's fields at once: no body between.
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 OK\r\n"), rest[:80])

    def publish_raw(self, body_part):
        req = (b"POST /catalog HTTP/1.1\r\nHost: x\r\nX-STA-Token: " + TOKEN.encode() +
               b"\r\n" + body_part)
        with socket.create_connection(self.t.http) as s:
            s.sendall(req)
            return read_replies(s, 1)

    def test_chunked_upload(self):
        data = self.torrent.data
        chunks = b"".join(b"%x;x=y\r\n%s\r\n" % (len(data[i:i + 1000]), data[i:i + 1000])
                          for i in range(0, len(data), 1000))
        got = self.publish_raw(b"Transfer-Encoding: chunked\r\n\r\n" + chunks +
                               b"0\r\nTrailer: t\r\n\r\n")
        self.assertEqual(len(got), 1)
        self.assertIn(b" 200 OK", got[0][0])
        r = self.t.get("/catalog/%s.torrent" % self.torrent.info_hash.hex())
        self.assertEqual(r.body, data)
        bad = self.publish_raw(b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
        self.assertIn(b" 400 ", bad[0][0])

    def test_expect_continue(self):
        data = self.torrent.data
        with socket.create_connection(self.t.http) as s:
            s.sendall(b"POST /catalog HTTP/1.1\r\nHost: x\r\nX-STA-Token: " + TOKEN.encode() +
                      b"\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(data))
            s.settimeout(5)
            self.assertEqual(s.recv(100), b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(data)
            head, body = read_replies(s, 1)[0]
            self.assertIn(b" 200 OK", head)

    def test_pipeline_with_bodies_and_errors(self):
        post = (b"POST /catalog HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nnot bencode")
        get = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % self.announce_target(7001)).encode()
        with socket.create_connection(self.t.http) as s:
            s.sendall(get + post + get + b"GET / HTTP/7.0\r\n\r\n" + get)
            got = read_replies(s, 5)
        # Four replies, then the connection closes after the bad version.
        self.assertEqual([h.split(b"\r\n")[0] for h, _ in got],
                         [b"HTTP/1.1 200 OK", b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 200 OK",
                          b"HTTP/1.1 505 HTTP Version Not Supported"])
        self.assertNotIn(b"failure reason", got[0][1])

    def test_statuses_of_bad_requests(self):
        cases = [
            (b"PUT /announce HTTP/1.1\r\n\r\n", 501),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 100 + b"\r\n", 431),
            (b"GET / HTTP/1.1\r\nBad Field: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400),
            (b"POST /catalog HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
            (b"POST /catalog HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            (b"POST /catalog HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413),
        ]
        for raw, status in cases:
            r = st.http_raw(*self.t.http, raw)
            self.assertEqual(st.http_status(r), status, raw[:60])
            self.assertIn(b"failure reason", r)
        self.assertEqual(self.t.get("/stats").status, 200)

    def test_absolute_form(self):
        r = st.http_raw(*self.t.http, ("GET http://tracker.example%s HTTP/1.1\r\n"
                                       "Connection: close\r\n\r\n"
                                       % self.announce_target(7002)).encode())
        self.assertEqual(st.http_status(r), 200)
        self.assertNotIn(b"failure reason", r)


if __name__ == "__main__":
    st.main()
