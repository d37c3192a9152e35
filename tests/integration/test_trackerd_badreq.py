"""Hostile and malformed HTTP input to trackerd: each gets a clear failure
reason (bencoded, HTTP 200 as BEP 3 clients expect) or a 4xx, and the tracker
keeps serving afterwards."""

import socket
import time

import statest as st

H = st.hashlib.sha1(b"badreq").digest()
PID = st.peer_id(1)


def refused(testcase, r, what):
    """r must be a 4xx, or a 200 whose body is a bencoded failure reason."""
    if r.status == 200:
        d = r.bdecoded()
        testcase.assertIn(b"failure reason", d, "%s: accepted: %r" % (what, d))
        reason = d[b"failure reason"]
        testcase.assertTrue(reason and all(32 <= c < 127 for c in reason),
                            "%s: failure reason must be short printable text: %r" % (what, reason))
        testcase.assertLess(len(reason), 300)
        testcase.assertNotIn(b"peers", d)
    else:
        testcase.assertTrue(400 <= r.status < 500, "%s: HTTP %d" % (what, r.status))


class BadAnnounce(st.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = st.Trackerd()

    @classmethod
    def tearDownClass(cls):
        cls.t.stop()

    def setUp(self):
        self.assertTrue(self.t.proc.running(), "trackerd died during an earlier test")

    def tearDown(self):
        # Still alive and still correct after whatever the test sent.
        self.assertTrue(self.t.proc.running(), "trackerd died")
        r = self.t.announce(H, PID, 6881, left=0)
        self.assertNotIn(b"failure reason", r)

    def ann(self, params):
        return self.t.get("/announce?" + st.qs(params))

    def base(self, **over):
        p = dict(info_hash=H, peer_id=PID, port=6881, uploaded=0, downloaded=0, left=0)
        p.update(over)
        return [(k, v) for k, v in p.items() if v is not None]

    def test_missing_fields(self):
        for key in ("info_hash", "peer_id", "port"):
            refused(self, self.ann(self.base(**{key: None})), "missing " + key)
        refused(self, self.t.get("/announce"), "no query at all")
        refused(self, self.t.get("/announce?"), "empty query")

    def test_info_hash_length(self):
        for bad in (b"", b"x" * 19, b"x" * 21, b"x" * 40):
            refused(self, self.ann(self.base(info_hash=bad)), "info_hash of %d bytes" % len(bad))
        refused(self, self.t.get("/announce?info_hash=%zz" + "a" * 18 + "&peer_id=" + "p" * 20 +
                                 "&port=1"), "bad percent escape")
        refused(self, self.t.get("/announce?info_hash=%4" + "&peer_id=" + "p" * 20 +
                                 "&port=1"), "truncated percent escape")

    def test_peer_id_length(self):
        for bad in (b"x" * 19, b"x" * 21):
            refused(self, self.ann(self.base(peer_id=bad)), "peer_id of %d bytes" % len(bad))

    def test_bad_port(self):
        for bad in ("0", "65536", "70000", "-1", "abc", "", "6881x", "99999999999999999999"):
            refused(self, self.ann(self.base(port=bad)), "port=%r" % bad)

    def test_bad_numbers(self):
        for key in ("left", "uploaded", "downloaded"):
            for bad in ("-1", "1e5", "x", "184467440737095516160"):
                refused(self, self.ann(self.base(**{key: bad})), "%s=%r" % (key, bad))

    def test_bad_numwant_does_not_crash(self):
        for v in ("-1", "abc", "4294967296", "99999999999999999999"):
            r = self.ann(self.base(numwant=v))
            if r.status == 200 and b"failure reason" not in r.bdecoded():
                self.assertIsInstance(r.bdecoded()[b"peers"], bytes)
            else:
                refused(self, r, "numwant=%r" % v)

    def test_bad_event(self):
        r = self.ann(self.base(event="exploded"))
        # Unknown events may be ignored or refused, never crash.
        self.assertTrue(r.status == 200 or 400 <= r.status < 500)
        r.bdecoded() if r.status == 200 else None

    def test_huge_query(self):
        q = st.qs(self.base()) + "&pad=" + "A" * 100000
        r = st.http_raw(*self.t.http, b"GET /announce?" + q.encode() + b" HTTP/1.1\r\n"
                        b"Host: x\r\n\r\n")
        status = st.http_status(r)
        self.assertTrue(status is None or 400 <= status < 500 or
                        (status == 200 and b"failure reason" in r),
                        "100 KB query: %r" % r[:200])

    def test_huge_header(self):
        r = st.http_raw(*self.t.http, b"GET /announce?" + st.qs(self.base()).encode() +
                        b" HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"j" * 1000000 + b"\r\n\r\n")
        status = st.http_status(r)
        self.assertTrue(status is None or 400 <= status < 500, "1 MB header: %r" % r[:200])

    def test_many_headers(self):
        req = b"GET /stats HTTP/1.1\r\nHost: x\r\n" + b"A: b\r\n" * 20000 + b"\r\n"
        status = st.http_status(st.http_raw(*self.t.http, req))
        self.assertTrue(status is None or 400 <= status < 500, "20000 headers: %r" % status)

    def test_garbage_paths(self):
        for path in ("/nope", "/index.html", "/announce/../../etc/passwd", "/announcex?info_hash=1",
                     "/catalog/../../etc/passwd", "/catalog/zz.torrent", "/%00", "/scrape/x"):
            r = self.t.get(path)
            self.assertTrue(400 <= r.status < 500 or
                            (r.status == 200 and path.startswith("/announce") and
                             b"failure reason" in r.body),
                            "GET %s gave HTTP %d %r" % (path, r.status, r.body[:100]))
            self.assertNotIn(b"root:", r.body)

    def test_garbage_requests(self):
        for raw in (b"\x00\xff\xfe garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"BREW /announce HTTP/1.1\r\n\r\n", b"GET /announce HTTP/1.1\r\n",
                    b"\r\n" * 1000, b"G" * 70000, b"GET /stats HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: -5\r\n\r\n",
                    b"POST /catalog HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                    b"POST /catalog HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"fffffffffffffff\r\n"):
            r = st.http_raw(*self.t.http, raw)
            status = st.http_status(r)
            self.assertTrue(status is None or 400 <= status < 600,
                            "%r... answered %r" % (raw[:30], r[:100]))

    def test_abrupt_clients(self):
        # Half a request, then a reset; a connection that says nothing.
        idle = socket.create_connection(self.t.http)
        for _ in range(50):
            s = socket.create_connection(self.t.http)
            s.sendall(b"GET /announce?info_hash=")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        idle.close()

    def test_wrong_methods(self):
        r = st.http_request(*self.t.http, "POST", "/announce?" + st.qs(self.base()), body=b"x")
        self.assertTrue(r.status == 200 and b"failure reason" in r.body or
                        400 <= r.status < 500, r)
        r = st.http_request(*self.t.http, "DELETE", "/catalog")
        self.assertTrue(400 <= r.status < 500 or r.status == 501, r)

    def test_keep_alive_serves_several_requests(self):
        # HTTP/1.1 persistent connection: three requests, three replies.
        conn = st.http.client.HTTPConnection(*self.t.http, timeout=5)
        try:
            for n in range(3):
                conn.request("GET", "/announce?" + st.qs(self.base(port=7000 + n)))
                r = conn.getresponse()
                body = r.read()
                self.assertEqual(r.status, 200)
                self.assertNotIn(b"failure reason", st.bdecode(body))
        finally:
            conn.close()

    def test_pipelined_requests(self):
        one = ("GET /announce?%s HTTP/1.1\r\nHost: x\r\n\r\n" % st.qs(self.base())).encode()
        with socket.create_connection(self.t.http, timeout=5) as s:
            s.sendall(one * 5)
            out = b""
            deadline = time.monotonic() + 5
            while out.count(b"HTTP/1.1 200") < 5 and time.monotonic() < deadline:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        self.assertEqual(out.count(b"HTTP/1.1 200"), 5, out[:500])

    def test_slow_request_in_pieces(self):
        req = ("GET /announce?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
               % st.qs(self.base())).encode()
        with socket.create_connection(self.t.http, timeout=5) as s:
            for i in range(0, len(req), 7):
                s.sendall(req[i:i + 7])
                time.sleep(0.002)
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        self.assertEqual(st.http_status(out), 200, out[:200])
        body = out.split(b"\r\n\r\n", 1)[1]
        self.assertNotIn(b"failure reason", st.bdecode(body))


if __name__ == "__main__":
    st.main()
