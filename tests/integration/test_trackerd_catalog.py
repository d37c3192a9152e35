"""trackerd's catalog: publish rules (seeder or token), limits, listing in
bencode and JSON, exact fetch, persistence across restart and kill -9."""

import json
import os
import time

import statest as st

TOKEN = "s3cret-token"
MAX_TORRENT = 16384


class Catalog(st.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = st.tempdir("catalog-files-")
        cls.single = st.make_torrent(st.make_file(os.path.join(cls.files, "hello_big.txt"),
                                                  1000003), piece_length=1 << 16)
        d = os.path.join(cls.files, "album")
        st.make_file(os.path.join(d, "a.bin"), 16385)
        st.make_file(os.path.join(d, "sub", "b.bin"), 65537)
        st.make_file(os.path.join(d, "sub", "c.bin"), 1)
        cls.multi = st.make_torrent(d, piece_length=1 << 14)
        cls.other = st.make_torrent(st.make_file(os.path.join(cls.files, "other.iso"), 77777),
                                    piece_length=1 << 14)

    def setUp(self):
        self.t = st.Trackerd(publish_token=TOKEN, max_torrent_size=MAX_TORRENT)

    def tearDown(self):
        if self.t.proc.running():
            self.t.stop()

    def publish(self, torrent_bytes, source=None, token=None):
        headers = {"Content-Type": "application/x-bittorrent"}
        if token is not None:
            headers["X-STA-Token"] = token
        return st.http_post(*self.t.http, "/catalog", torrent_bytes, headers=headers,
                            source=source)

    def seed(self, torrent, source, left=0):
        r = self.t.announce(torrent.info_hash, st.peer_id(9), 6881, left=left,
                            event="started", source=source)
        self.assertNotIn(b"failure reason", r)

    def listing(self):
        r = self.t.get("/catalog")
        self.assertEqual(r.status, 200, r)
        return self.entry_list(r.bdecoded())

    def entry_list(self, top):
        """The list of entries: a bare list, or a dict holding one list
        (trackerd sends {"torrents": [...]})."""
        if isinstance(top, dict):
            lists = [v for v in top.values() if isinstance(v, list)]
            self.assertEqual(len(lists), 1, "cannot find the entry list in %r" % top)
            top = lists[0]
        self.assertIsInstance(top, list)
        return top

    def listing_json(self):
        r = self.t.get("/catalog?format=json")
        self.assertEqual(r.status, 200, r)
        self.assertIn("json", r.headers.get("content-type", ""))
        return json.loads(r.body.decode())

    def json_entries(self):
        return {e["info_hash"]: e for e in self.entry_list(self.listing_json())}

    def fetch(self, torrent):
        return self.t.get("/catalog/%s.torrent" % torrent.hex)

    def test_empty_catalog(self):
        self.assertEqual(self.listing(), [])
        self.assertEqual(self.json_entries(), {})

    def test_publish_refused_without_seeding_or_token(self):
        r = self.publish(self.single.data, source="127.0.0.30")
        self.assertEqual(r.status, 403, r)
        # Leeching is not enough; nor is seeding from another address.
        self.seed(self.single, "127.0.0.30", left=5)
        self.seed(self.single, "127.0.0.31", left=0)
        self.assertEqual(self.publish(self.single.data, source="127.0.0.30").status, 403)
        # Seeding another torrent is not enough either.
        self.seed(self.other, "127.0.0.32")
        self.assertEqual(self.publish(self.single.data, source="127.0.0.32").status, 403)
        self.assertEqual(self.publish(self.single.data, token="wrong").status, 403)
        self.assertEqual(self.publish(self.single.data, token="").status, 403)
        self.assertEqual(self.listing(), [])
        self.assertEqual(self.fetch(self.single).status, 404)

    def test_publish_after_seeding(self):
        self.seed(self.single, "127.0.0.33")
        r = self.publish(self.single.data, source="127.0.0.33")
        self.assertEqual(r.status, 200, r)
        got = self.fetch(self.single)
        self.assertEqual(got.status, 200)
        self.assertEqual(got.body, self.single.data, "fetched .torrent differs from published")

    def test_publish_with_token(self):
        r = self.publish(self.multi.data, token=TOKEN)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.fetch(self.multi).body, self.multi.data)
        # Publishing again is harmless and does not duplicate the entry.
        self.assertEqual(self.publish(self.multi.data, token=TOKEN).status, 200)
        self.assertEqual(len(self.listing()), 1)

    def test_oversize_is_413(self):
        d = os.path.join(self.files, "big")
        # 2000 pieces = 40000 bytes of hashes: over max_torrent_size.
        big = st.make_torrent(st.make_file(os.path.join(d, "big.bin"), 2000 * 16384),
                              piece_length=16384)
        self.assertGreater(len(big.data), MAX_TORRENT)
        r = self.publish(big.data, token=TOKEN)
        self.assertEqual(r.status, 413, r)
        # A lying Content-Length is refused before the body is read.
        raw = (b"POST /catalog HTTP/1.1\r\nHost: x\r\nX-STA-Token: " + TOKEN.encode() +
               b"\r\nContent-Length: 1000000000\r\n\r\n" + b"d" * 100)
        self.assertEqual(st.http_status(st.http_raw(*self.t.http, raw, timeout=5)), 413)
        self.assertEqual(self.fetch(big).status, 404)
        self.assertEqual(self.listing(), [])

    def test_invalid_torrent_is_400(self):
        info = self.single.meta[b"info"]
        bad_pieces = dict(info)
        bad_pieces[b"pieces"] = info[b"pieces"][:-1]          # not a multiple of 20
        no_len = {k: v for k, v in info.items() if k != b"length"}
        evil_path = dict(self.multi.meta[b"info"])
        evil_path[b"files"] = [{b"length": 1, b"path": [b"..", b"etc", b"passwd"]}]
        evil_path[b"pieces"] = b"\0" * 20
        for what, body in (("garbage", b"this is not bencode"),
                           ("empty", b""),
                           ("a list", b"le"),
                           ("trailing junk", self.single.data + b"x"),
                           ("no info", st.bencode({"announce": "http://x/"})),
                           ("info not a dict", st.bencode({"info": 5})),
                           ("bad pieces", st.bencode({"info": bad_pieces})),
                           ("no length", st.bencode({"info": no_len})),
                           ("path escape", st.bencode({"info": evil_path})),
                           ("deep nesting", b"l" * 5000 + b"e" * 5000),
                           ("truncated", self.single.data[:len(self.single.data) // 2])):
            r = self.publish(body, token=TOKEN)
            self.assertEqual(r.status, 400, "%s: %r" % (what, r))
        self.assertEqual(self.listing(), [])
        self.assertTrue(self.t.proc.running())

    def test_list_bencode_and_json(self):
        self.assertEqual(self.publish(self.single.data, token=TOKEN).status, 200)
        self.assertEqual(self.publish(self.multi.data, token=TOKEN).status, 200)
        before = int(time.time())
        # Swarm state shows up in the listing: 1 seeder + 2 leechers on single.
        self.seed(self.single, "127.0.0.40")
        self.t.announce(self.single.info_hash, st.peer_id(41), 6041, left=5, source="127.0.0.41")
        self.t.announce(self.single.info_hash, st.peer_id(42), 6042, left=5, source="127.0.0.42")
        lst = self.listing()
        self.assertEqual(len(lst), 2)
        by_hash = {}
        for e in lst:
            for k in (b"name", b"size", b"info_hash", b"seeders", b"leechers", b"added"):
                self.assertIn(k, e)
            h = e[b"info_hash"]
            h = bytes.fromhex(h.decode()) if len(h) == 40 else h
            by_hash[h] = e
        s = by_hash[self.single.info_hash]
        self.assertEqual(s[b"name"], b"hello_big.txt")
        self.assertEqual(s[b"size"], 1000003)
        self.assertEqual((s[b"seeders"], s[b"leechers"]), (1, 2))
        m = by_hash[self.multi.info_hash]
        self.assertEqual(m[b"name"], b"album")
        self.assertEqual(m[b"size"], 16385 + 65537 + 1)
        self.assertEqual((m[b"seeders"], m[b"leechers"]), (0, 0))
        self.assertLessEqual(abs(s[b"added"] - before), 60)

        j = self.json_entries()
        self.assertEqual(set(j), {self.single.hex, self.multi.hex})
        js = j[self.single.hex]
        self.assertEqual((js["name"], js["size"], js["seeders"], js["leechers"]),
                         ("hello_big.txt", 1000003, 1, 2))
        self.assertEqual(js["added"], s[b"added"])

    def test_json_escapes_names(self):
        d = os.path.join(self.files, "weird")
        # JSON must escape the quote and keep UTF-8.
        name = 'quote" \u00e9\u4e2d <tag>'
        t = st.make_torrent(st.make_file(os.path.join(d, "w.bin"), 10), name=name)
        self.assertEqual(self.publish(t.data, token=TOKEN).status, 200)
        self.assertEqual(self.json_entries()[t.hex]["name"], name)
        # A control byte in a name is refused outright (metainfo rule).
        bad = st.make_torrent(st.make_file(os.path.join(d, "c.bin"), 10), name="ctl\x01")
        r = self.publish(bad.data, token=TOKEN)
        self.assertEqual(r.status, 400)
        self.assertIn(b"control character", r.body)

    def test_fetch_unknown_and_malformed(self):
        self.assertEqual(self.t.get("/catalog/%s.torrent" % ("0" * 40)).status, 404)
        for bad in ("zz" * 20, "0" * 39, "0" * 41, "../" * 10 + "etc/passwd", "%2e%2e%2f"):
            r = self.t.get("/catalog/%s.torrent" % bad)
            self.assertTrue(400 <= r.status < 500, "%s: %r" % (bad, r))

    def test_restart_keeps_catalog(self):
        self.assertEqual(self.publish(self.single.data, token=TOKEN).status, 200)
        self.assertEqual(self.publish(self.multi.data, token=TOKEN).status, 200)
        self.t.restart()
        self.assertEqual(self.fetch(self.single).body, self.single.data)
        self.assertEqual(self.fetch(self.multi).body, self.multi.data)
        self.assertEqual(len(self.listing()), 2)

    def test_kill9_keeps_catalog(self):
        self.assertEqual(self.publish(self.single.data, token=TOKEN).status, 200)
        # Killed right after its 200: the reply promised the entry is stored.
        self.assertEqual(self.publish(self.multi.data, token=TOKEN).status, 200)
        self.t.kill9()
        self.t.start()
        self.assertEqual(self.fetch(self.single).body, self.single.data)
        self.assertEqual(self.fetch(self.multi).body, self.multi.data)
        self.assertEqual(len(self.listing()), 2)
        # No temp files left lying around as entries.
        self.assertEqual(len(self.json_entries()), 2)

    def test_junk_in_state_dir_is_survived(self):
        self.assertEqual(self.publish(self.single.data, token=TOKEN).status, 200)
        self.t.stop()
        cat = os.path.join(self.t.state_dir, "catalog")
        self.assertTrue(os.path.isdir(cat), "no %s after a publish" % cat)
        with open(os.path.join(cat, "f" * 40 + ".torrent"), "wb") as f:
            f.write(b"garbage, as if a disk went bad")
        with open(os.path.join(cat, "README"), "wb") as f:
            f.write(b"not a torrent")
        self.t.start()
        self.assertEqual(self.fetch(self.single).body, self.single.data)
        hexes = set(self.json_entries())
        self.assertIn(self.single.hex, hexes)
        self.assertNotIn("f" * 40, hexes)


if __name__ == "__main__":
    st.main()
