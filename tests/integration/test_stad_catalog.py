"""stad and stactl against a catalog index: 'request NAME' with the
tracker's exact-name lookup (the seeded one of two same-named entries, and
saying so), an info-hash prefix, 'search WORDS' and 'update' in pages."""

import hashlib
import re

import statest as st

TOKEN = "catalog-token"


def synthetic(name, salt):
    info = {"length": 1000 + salt, "name": name, "piece length": 16384,
            "pieces": hashlib.sha1(b"%d" % salt).digest()}
    return st.bencode({"info": info}), hashlib.sha1(st.bencode(info)).hexdigest()


class CatalogVerbs(st.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tracker = st.Trackerd(publish_token=TOKEN)
        cls.seeder = st.Stad(cls.tracker.url("/announce"), name="seed",
                             share={"dup.bin": 5000})
        cls.seeder.wait_seeding("dup.bin")
        # A second "dup.bin" nobody seeds, and enough others for two pages.
        cls.lone, cls.lone_hash = synthetic("dup.bin", 1)
        others = [synthetic("other-%03d.dat" % i, 100 + i)[0] for i in range(120)]
        body = b"l" + b"".join(b"%d:%s" % (len(t), t) for t in [cls.lone] + others) + b"e"
        r = st.http_post(*cls.tracker.http, "/catalog/batch", body,
                         headers={"X-STA-Token": TOKEN})
        assert r.status == 200, r

        def seeded_hash():
            d = cls.tracker.get("/catalog?name=dup.bin").bdecoded()
            seeded = [e for e in d[b"torrents"] if e[b"seeders"] > 0]
            return seeded[0][b"info_hash"].decode() if seeded else None
        st.wait_until(seeded_hash, st.slack(20), "the seeded dup.bin in the catalog")
        cls.seeded_hash = seeded_hash()
        cls.down = st.Stad(cls.tracker.url("/announce"), name="down")

    @classmethod
    def tearDownClass(cls):
        for d in (cls.down, cls.seeder, cls.tracker):
            d.stop()

    def test_request_name_prefers_the_seeded_entry(self):
        r = self.down.ctl("request", "dup.bin", "--detach")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("2 catalog entries are named \"dup.bin\": chose %s" %
                      self.seeded_hash[:12], r.out)
        self.assertIn("info-hash %s" % self.seeded_hash, r.out)
        self.assertIn(self.seeded_hash, [t["info_hash"] for t in self.down.status()])

    def test_request_by_hash_prefix(self):
        r = self.down.ctl("request", self.lone_hash[:10], "--detach")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("info-hash %s" % self.lone_hash, r.out)
        self.assertNotIn("chose", r.out)
        self.down.ctl("remove", self.lone_hash)

    def test_search(self):
        r = self.down.ctl("search", "DUP")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out.count("dup.bin"), 2, r.out)
        self.assertNotIn("other-", r.out)
        r = self.down.ctl("search", "other", "--limit", "5")
        self.assertEqual(len(re.findall(r"other-\d+", r.out)), 5, r.out)
        self.assertRegex(r.out, r"more: stactl search --after [0-9a-f]+ 'other'")
        r = self.down.ctl("search", "nothing-like-this")
        self.assertEqual(r.rc, 0, (r, r.err))
        self.assertIn("nothing in the catalog matches", r.out)

    def test_update_pages(self):
        r = self.down.ctl("update")
        self.assertEqual(r.rc, 0, r)
        names = set(re.findall(r"(?:other-\d+\.dat|dup\.bin)", r.out))
        m = re.search(r"more: stactl update --after ([0-9a-f]+)", r.out)
        self.assertIsNotNone(m, r.out)
        seen = len(re.findall(r"other-\d+\.dat", r.out))
        self.assertEqual(seen, 98, r.out)    # 100 by name: two dup.bin first
        r = self.down.ctl("update", "--after", m.group(1))
        self.assertEqual(r.rc, 0, r)
        seen += len(re.findall(r"other-\d+\.dat", r.out))
        self.assertEqual(seen, 120)
        self.assertNotIn("more:", r.out)
        self.assertIn("dup.bin", names)
        r = self.down.ctl("update", "--limit", "0")
        self.assertEqual(r.rc, 2, r)


if __name__ == "__main__":
    st.main()
