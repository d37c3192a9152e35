"""trackerd's pages in a real browser (Debian's headless Chromium): the
index, the catalog with its search box and magnet links, and the statistics
page, which must show the live figures and refresh them itself."""

import hashlib
import os
import re

import statest as st

TOKEN = "web-token"


def chromium(args, timeout=60):
    exe = st.tool("chromium", ["/usr/bin/chromium"])
    profile = st.tempdir("chromium-")
    argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--user-data-dir=" + profile] + args
    return st.run(argv, timeout=timeout)


def dom(url, budget_ms=3000):
    """The page's DOM after its scripts ran for budget_ms of virtual time."""
    return chromium(["--virtual-time-budget=%d" % budget_ms, "--dump-dom", url]).out


class Pages(st.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = st.Trackerd(publish_token=TOKEN)
        torrents = []
        for i, name in enumerate(["Holiday photos.zip", "holiday video.mp4", "taxes 2025.pdf"]):
            info = {"length": 1000 * (i + 1), "name": name, "piece length": 16384,
                    "pieces": hashlib.sha1(name.encode()).digest()}
            torrents.append((st.bencode({"info": info}), hashlib.sha1(st.bencode(info)).digest()))
        body = b"l" + b"".join(b"%d:%s" % (len(t), t) for t, _ in torrents) + b"e"
        r = st.http_post(*cls.t.http, "/catalog/batch", body, headers={"X-STA-Token": TOKEN})
        assert r.status == 200, r
        cls.hashes = [h for _, h in torrents]
        cls.t.announce(cls.hashes[0], st.peer_id(1), 7001, left=0, source="127.0.0.101")
        cls.t.announce(cls.hashes[0], st.peer_id(2), 7002, left=5, source="127.0.0.102")

    @classmethod
    def tearDownClass(cls):
        cls.t.stop()

    def test_index(self):
        html = dom(self.t.url("/"), 500)
        for link in ('href="/catalog"', 'href="/stats"', 'href="/metrics"'):
            self.assertIn(link, html)
        self.assertIn("http://%s:%d/announce" % self.t.http, html)

    def test_catalog_search_and_screenshot(self):
        shot = os.path.join(st.tempdir("shot-"), "catalog.png")
        chromium(["--window-size=1200,700", "--screenshot=" + shot,
                  self.t.url("/catalog?q=holiday")])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertGreater(len(png), 10000, "an empty page?")
        html = dom(self.t.url("/catalog?q=holiday"), 500)
        rows = re.findall(r'<tr class="entry"><td class="name">([^<]*)</td>', html)
        self.assertEqual(rows, ["Holiday photos.zip", "holiday video.mp4"])
        # The seeded one first, with its figures, its magnet link and the
        # search box still holding the words.
        self.assertIn('<td class="n seeders">1</td><td class="n leechers">1</td>', html)
        self.assertIn('href="magnet:?xt=urn:btih:%s&amp;dn=Holiday%%20photos.zip&amp;tr='
                      % self.hashes[0].hex(), html)
        self.assertIn('<code class="hash">%s</code>' % self.hashes[0].hex(), html)
        self.assertRegex(html, r'<input type="search" name="q"[^>]*value="holiday"')

    def test_stats_shows_figures_and_refreshes(self):
        html = dom(self.t.url("/stats"), 5000)
        self.assertRegex(html, r'id="swarms">1<')
        self.assertRegex(html, r'id="seeders">1<')
        self.assertRegex(html, r'id="leechers">1<')
        self.assertRegex(html, r'id="catalog_entries">3<')
        self.assertRegex(html, r'id="total-http_announce">2<')
        # Its script fetched /stats?format=json and rewrote the figures.
        m = re.search(r'<body data-refreshed="(\d+)"', html)
        self.assertIsNotNone(m, "the page never refreshed itself")
        self.assertGreaterEqual(int(m.group(1)), 1)


if __name__ == "__main__":
    st.main()
