"""trackerd's catalog as an index: exact-name and info-hash-prefix lookups,
word search, pages with a cursor, sorting, batch publish, withdrawal,
expiry, crash safety of acknowledged and half-done publishes, the clean-up
of an interrupted publish's temporary files, and the HTML view."""

import hashlib
import json
import os
import threading
import time
import urllib.parse

import statest as st

TOKEN = "index-token"


def synthetic(name, size=1000, salt=0):
    """(torrent bytes, info-hash) of a one-file torrent; no file needed."""
    info = {"length": size, "name": name, "piece length": 16384,
            "pieces": hashlib.sha1(b"%d %s" % (salt, name.encode())).digest()}
    return st.bencode({"info": info}), hashlib.sha1(st.bencode(info)).digest()


class Index(st.TestCase):
    def setUp(self):
        self.t = st.Trackerd(publish_token=TOKEN)

    def tearDown(self):
        if self.t.proc.running():
            self.t.stop()

    def publish(self, data, token=TOKEN, source=None):
        headers = {"X-STA-Token": token} if token else {}
        return st.http_post(*self.t.http, "/catalog", data, headers=headers, source=source)

    def batch(self, torrents, token=TOKEN):
        body = b"l" + b"".join(b"%d:%s" % (len(t), t) for t in torrents) + b"e"
        headers = {"X-STA-Token": token} if token else {}
        return st.http_post(*self.t.http, "/catalog/batch", body, headers=headers)

    def page(self, query):
        r = self.t.get("/catalog?" + query)
        self.assertEqual(r.status, 200, r)
        d = r.bdecoded()
        return d[b"torrents"], d.get(b"next", b"").decode()

    def names(self, query):
        return [e[b"name"].decode() for e in self.page(query)[0]]

    def publish_many(self, names):
        torrents = [synthetic(n, size=100 + i, salt=i) for i, n in enumerate(names)]
        r = self.batch([t for t, _ in torrents])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.bdecoded()[b"added"], len(names))
        return [h for _, h in torrents]

    def test_exact_name_and_hash_prefix(self):
        hashes = self.publish_many(["report.pdf", "report.pdf", "Report.pdf", "other.bin"])
        got = self.page("name=report.pdf")[0]
        self.assertEqual(sorted(bytes.fromhex(e[b"info_hash"].decode()) for e in got),
                         sorted(hashes[:2]))
        self.assertEqual(self.page("name=nothing")[0], [])
        got = self.page("hash=" + hashes[3].hex()[:6].upper())[0]
        self.assertEqual([e[b"name"] for e in got], [b"other.bin"])
        # A name with spaces and a plus, as stad encodes it.
        _, h = synthetic("a b+c.txt")
        self.assertEqual(self.publish(synthetic("a b+c.txt")[0]).status, 200)
        self.assertEqual(self.names("name=a%20b%2Bc.txt"), ["a b+c.txt"])

    def test_search_words_and_prefixes(self):
        self.publish_many(["Holiday Photos 2024.zip", "holiday-video.mp4", "Holidays.txt",
                           "Résumé final.pdf", "unrelated.iso"])
        self.assertEqual(sorted(self.names("q=HOLIDAY")),
                         ["Holiday Photos 2024.zip", "Holidays.txt", "holiday-video.mp4"])
        # Whole words rank before prefixes: "Holidays" only starts with it.
        self.assertEqual(self.names("q=holiday")[-1], "Holidays.txt")
        self.assertEqual(self.names("q=hol+phot"), ["Holiday Photos 2024.zip"])
        self.assertEqual(self.names("q=resume"), ["Résumé final.pdf"])
        self.assertEqual(self.names("q=nothing+here"), [])
        r = self.t.get("/catalog?q=holiday&format=json")
        self.assertEqual(len(json.loads(r.body.decode())["torrents"]), 3)
        r = self.t.get("/catalog?q=%20%20")
        self.assertEqual(r.status, 200, r)  # blank words: the plain listing

    def test_search_words_with_punctuation_and_limits(self):
        self.publish_many(["backup-2024.tar.gz", "backup notes.txt", "tarball.zip",
                           "Ünïcödé Straße.flac"])
        # A word with punctuation stands for its parts, the last one a prefix.
        self.assertEqual(self.names("q=tar.gz"), ["backup-2024.tar.gz"])
        self.assertEqual(sorted(self.names("q=backup-20")), ["backup-2024.tar.gz"])
        self.assertEqual(sorted(self.names("q=tar")), ["backup-2024.tar.gz", "tarball.zip"])
        self.assertEqual(self.names("q=TAR")[0], "backup-2024.tar.gz")   # whole word first
        self.assertEqual(self.names("q=" + urllib.parse.quote("unicode STRAßE")),
                         ["Ünïcödé Straße.flac"])
        self.assertEqual(self.names("q=" + "+".join(["backup"] * 16)),
                         ["backup notes.txt", "backup-2024.tar.gz"])
        r = self.t.get("/catalog?q=" + "+".join(["backup"] * 17))
        self.assertEqual(r.status, 400)
        self.assertIn(b"at most 16 words", r.body)
        self.assertEqual(self.names("q=---"), [])

    def test_name_lookup_sorts_by_seeders(self):
        hashes = self.publish_many(["same.iso", "same.iso", "other.iso"])
        self.t.announce(hashes[1], st.peer_id(1), 7001, left=0, source="127.0.0.90")
        got = self.page("name=same.iso&sort=seeders")[0]
        self.assertEqual([(e[b"name"], e[b"seeders"]) for e in got],
                         [(b"same.iso", 1), (b"same.iso", 0)])

    def test_search_ranks_seeded_first(self):
        hashes = self.publish_many(["song one.mp3", "song two.mp3", "song three.mp3"])
        for i in range(3):
            self.t.announce(hashes[1], st.peer_id(i), 7000 + i, left=0,
                            source="127.0.0.%d" % (50 + i))
        self.t.announce(hashes[2], st.peer_id(9), 7009, left=0, source="127.0.0.60")
        got = self.page("q=song")[0]
        self.assertEqual([e[b"name"] for e in got],
                         [b"song two.mp3", b"song three.mp3", b"song one.mp3"])
        self.assertEqual([e[b"seeders"] for e in got], [3, 1, 0])

    def test_pages_cover_everything_once(self):
        names = ["file-%03d.dat" % i for i in range(57)]
        self.publish_many(names)
        for sort in ("name", "size", "added", "seeders"):
            seen, query, pages = [], "sort=%s&limit=10" % sort, 0
            while True:
                entries, nxt = self.page(query)
                seen += [e[b"name"].decode() for e in entries]
                pages += 1
                if not nxt:
                    break
                query = "sort=%s&limit=10&after=%s" % (sort, nxt)
            self.assertEqual(pages, 6, sort)
            self.assertEqual(sorted(seen), names, sort)
            if sort == "name":
                self.assertEqual(seen, names)
            if sort == "size":
                self.assertEqual(seen, names[::-1])   # biggest first
        self.assertEqual(len(self.page("limit=1000")[0]), 57)
        for bad in ("limit=0", "limit=1001", "sort=colour", "after=00", "name=a&q=b"):
            r = self.t.get("/catalog?" + bad)
            self.assertEqual(r.status, 400, bad)
            self.assertIn(b"failure reason", r.body)

    def test_batch_needs_token_and_reports_each(self):
        good, gh = synthetic("good.bin")
        again, _ = synthetic("good.bin")
        self.assertEqual(self.batch([good], token=None).status, 403)
        self.assertEqual(self.batch([good], token="wrong").status, 403)
        r = self.batch([good, b"not a torrent", again])
        self.assertEqual(r.status, 200, r)
        d = r.bdecoded()
        self.assertEqual((d[b"added"], d[b"exists"], d[b"failed"]), (1, 1, 1))
        by_index = {e[b"index"]: e for e in d[b"results"]}
        self.assertEqual(by_index[0][b"status"], b"added")
        self.assertEqual(by_index[0][b"info_hash"], gh.hex().encode())
        self.assertEqual(by_index[1][b"status"], b"failed")
        self.assertIn(b"error", by_index[1])
        self.assertEqual(by_index[2][b"status"], b"exists")
        self.assertEqual(self.t.get("/catalog/%s.torrent" % gh.hex()).body, good)
        self.assertEqual(self.batch([]).bdecoded()[b"added"], 0)
        self.assertEqual(st.http_post(*self.t.http, "/catalog/batch", b"i5e",
                                      headers={"X-STA-Token": TOKEN}).status, 400)

    def test_withdraw(self):
        mine, mh = synthetic("mine.bin")
        other, oh = synthetic("by-token.bin")
        self.t.announce(mh, st.peer_id(1), 7001, left=0, source="127.0.0.70")
        self.assertEqual(self.publish(mine, token=None, source="127.0.0.70").status, 200)
        self.assertEqual(self.publish(other).status, 200)

        def withdraw(h, token=None, source=None):
            headers = {"X-STA-Token": token} if token else {}
            return st.http_request(*self.t.http, "DELETE", "/catalog/%s.torrent" % h.hex(),
                                   headers=headers, source=source)
        self.assertEqual(withdraw(mh, source="127.0.0.71").status, 403)
        self.assertEqual(withdraw(oh, source="127.0.0.70").status, 403)
        self.assertEqual(withdraw(mh, source="127.0.0.70").status, 200)
        self.assertEqual(withdraw(mh, source="127.0.0.70").status, 404)
        self.assertEqual(withdraw(oh, token=TOKEN).status, 200)
        self.assertEqual(self.t.get("/catalog/%s.torrent" % mh.hex()).status, 404)
        self.assertEqual(self.page("")[0], [])
        self.t.restart()
        self.assertEqual(self.page("")[0], [])

    def test_kill9_after_acknowledged_batch(self):
        torrents = [synthetic("k%d" % i, salt=i) for i in range(200)]
        self.assertEqual(self.batch([t for t, _ in torrents]).status, 200)
        self.t.kill9()
        self.t.start()
        self.assertEqual(len(self.page("limit=1000")[0]), 200)
        for t, h in torrents[::50]:
            self.assertEqual(self.t.get("/catalog/%s.torrent" % h.hex()).body, t)

    def test_kill9_during_batches_is_all_or_nothing(self):
        """Batches of 500 go in while trackerd is killed: after the restart
        each batch is there whole or not at all, and every acknowledged one
        is there."""
        batches = [[synthetic("b%d-%d" % (b, i), salt=b * 1000 + i)[0] for i in range(500)]
                   for b in range(6)]
        acked = []

        def send():
            for b, ts in enumerate(batches):
                try:
                    if self.batch(ts).status == 200:
                        acked.append(b)
                except OSError:
                    return
        th = threading.Thread(target=send)
        th.start()
        st.wait_until(lambda: acked, st.slack(20), "a first acknowledged batch")
        self.t.kill9()
        th.join(30)
        self.t.start()
        present = {e[b"name"].decode() for e in self.all_entries()}
        for b in range(len(batches)):
            got = sum(("b%d-%d" % (b, i)) in present for i in range(500))
            self.assertIn(got, (0, 500), "batch %d is half there: %d of 500" % (b, got))
            if b in acked:
                self.assertEqual(got, 500, "acknowledged batch %d lost" % b)

    def all_entries(self):
        out, query = [], "limit=1000"
        while True:
            entries, nxt = self.page(query)
            out += entries
            if not nxt:
                return out
            query = "limit=1000&after=" + nxt

    def test_html_for_browsers(self):
        self.publish_many(["<b>bold & co.txt"])
        r = self.t.get("/catalog", headers={"Accept": "text/html,*/*"})
        self.assertEqual(r.status, 200)
        self.assertIn("text/html", r.headers.get("content-type", ""))
        html = r.body.decode()
        self.assertIn("&lt;b&gt;bold &amp; co.txt", html)
        self.assertNotIn("<b>bold", html)
        self.assertIn('href="magnet:?xt=urn:btih:', html)
        self.assertIn('name="q"', html)
        # BitTorrent clients, and format=bencode, still get bencode.
        self.assertTrue(self.t.get("/catalog").body.startswith(b"d8:torrents"))
        r = self.t.get("/catalog?format=bencode", headers={"Accept": "text/html"})
        self.assertTrue(r.body.startswith(b"d8:torrents"))


class Lifecycle(st.TestCase):
    def test_database_of_the_fts5_version(self):
        """A catalog written by the version that kept an FTS5 word index in
        the database: the first start drops it and serves from memory."""
        import sqlite3
        state = os.path.join(st.tempdir("trackerd-fts5-"), "state")
        os.makedirs(os.path.join(state, "catalog"))
        db = sqlite3.connect(os.path.join(state, "catalog", "catalog.db"))
        db.executescript(
            "PRAGMA journal_mode = WAL;"
            "CREATE TABLE entries(id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
            " name TEXT NOT NULL, size INTEGER NOT NULL, added INTEGER NOT NULL,"
            " seen INTEGER NOT NULL, publisher BLOB);"
            "CREATE TABLE bodies(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
            "CREATE INDEX entries_name ON entries(name);"
            "CREATE INDEX entries_size ON entries(size);"
            "CREATE INDEX entries_added ON entries(added);"
            "CREATE VIRTUAL TABLE words USING fts5(name, content='entries', content_rowid='id',"
            " tokenize='unicode61 remove_diacritics 2', prefix='2 3');"
            "CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN"
            " INSERT INTO words(rowid, name) VALUES (new.id, new.name); END;"
            "CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN"
            " INSERT INTO words(words, rowid, name) VALUES ('delete', old.id, old.name);"
            " DELETE FROM bodies WHERE id = old.id; END;")
        hashes = []
        for i, name in enumerate(["Old Holiday.zip", "old notes.txt"]):
            data, h = synthetic(name, salt=i)
            hashes.append(h)
            db.execute("INSERT INTO entries(hash, name, size, added, seen) VALUES (?,?,?,?,?)",
                       (h, name, 100, int(time.time()), int(time.time())))
            db.execute("INSERT INTO bodies(id, data) VALUES (last_insert_rowid(), ?)", (data,))
        db.commit()
        db.close()
        t = st.Trackerd(publish_token=TOKEN, state_dir=state)
        try:
            names = [e[b"name"] for e in t.get("/catalog?q=old").bdecoded()[b"torrents"]]
            self.assertEqual(sorted(names), [b"Old Holiday.zip", b"old notes.txt"])
            self.assertEqual(len(t.get("/catalog?q=holi").bdecoded()[b"torrents"]), 1)
            r = st.http_request(*t.http, "DELETE", "/catalog/%s.torrent" % hashes[0].hex(),
                                headers={"X-STA-Token": TOKEN})
            self.assertEqual(r.status, 200)
        finally:
            t.stop()
        db = sqlite3.connect(os.path.join(state, "catalog", "catalog.db"))
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        self.assertNotIn("words", tables)
        self.assertEqual(db.execute("SELECT count(*) FROM bodies").fetchone()[0], 1)
        db.close()

    def test_expiry_hides_unseeded_entries(self):
        t = st.Trackerd(publish_token=TOKEN, catalog_expire=3)
        try:
            lone, lh = synthetic("lonely.bin")
            kept, kh = synthetic("seeded.bin")
            for data in (lone, kept):
                r = st.http_post(*t.http, "/catalog", data, headers={"X-STA-Token": TOKEN})
                self.assertEqual(r.status, 200)

            def listed():
                return {e[b"name"] for e in t.get("/catalog").bdecoded()[b"torrents"]}
            self.assertEqual(listed(), {b"lonely.bin", b"seeded.bin"})
            deadline = time.time() + st.slack(15)
            while b"lonely.bin" in listed() and time.time() < deadline:
                t.announce(kh, st.peer_id(1), 7001, left=0, source="127.0.0.80")
                time.sleep(0.5)
            self.assertEqual(listed(), {b"seeded.bin"})
            self.assertEqual(t.get("/catalog?name=lonely.bin").bdecoded()[b"torrents"], [])
            # Still fetchable by info-hash; a new publish brings it back.
            self.assertEqual(t.get("/catalog/%s.torrent" % lh.hex()).body, lone)
            st.http_post(*t.http, "/catalog", lone, headers={"X-STA-Token": TOKEN})
            self.assertIn(b"lonely.bin", listed())
        finally:
            t.stop()

    def test_start_deletes_temporaries_and_imports_old_files(self):
        state = os.path.join(st.tempdir("trackerd-old-"), "state")
        cat = os.path.join(state, "catalog")
        os.makedirs(cat)
        old, oh = synthetic("from-an-old-trackerd.bin")
        with open(os.path.join(cat, oh.hex() + ".torrent"), "wb") as f:
            f.write(old)
        temp = os.path.join(cat, ".%s.torrent.x1Y2z3" % ("ab" * 20))
        with open(temp, "wb") as f:
            f.write(b"d4:info")   # what a publish killed mid-write leaves
        t = st.Trackerd(publish_token=TOKEN, state_dir=state)
        try:
            self.assertFalse(os.path.exists(temp), "the temporary file is still there")
            self.assertEqual(t.get("/catalog/%s.torrent" % oh.hex()).body, old)
            self.assertFalse(os.path.exists(os.path.join(cat, oh.hex() + ".torrent")))
            self.assertIn("deleted 1 temporary file", t.log())
        finally:
            t.stop()


if __name__ == "__main__":
    st.main()
