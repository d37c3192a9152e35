"""Trackerless torrents through a private DHT of libtorrent nodes and stad,
both ways, with matching checksums:

  libtorrent seeds A (no tracker anywhere)  -> stad finds it by get_peers
                                               and downloads (stactl request)
  stad seeds B (no tracker anywhere)        -> libtorrent finds stad by
                                               get_peers and downloads

In a network namespace of the test's own: a libtorrent DHT node without
torrents on 198.18.0.1 that everyone joins through, the libtorrent seeder
of A, the libtorrent leecher of B, and stad, each on an address of its
own. Both directions run at once, since a private DHT of libtorrent nodes
takes 25-35 s to form (each node changes its id once it learns its
address); the whole case is bounded by STA_CASE_SECONDS (90 s; tripled
for sanitizer builds).
"""

import os

from statest import interop_peers as ip
import statest as st

CASE_SECONDS = st.slack(int(os.environ.get("STA_CASE_SECONDS", "90")))
ROUTER, LT_SEED, LT_LEECH, STAD = "198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"
PORT = 6881


class DhtInterop(st.TestCase):
    def setUp(self):
        self.dir = st.tempdir("dht-interop-")
        self.ns = st.Netns([ROUTER, LT_SEED, LT_LEECH, STAD])

    def tearDown(self):
        self.ns.delete()

    def trackerless(self, name, size):
        """A file in a directory of its own and its .torrent without any
        tracker; returns (Torrent, .torrent path, data dir, file path)."""
        d = os.path.join(self.dir, name + "-seed")
        path = st.make_file(os.path.join(d, name), size, seed=name)
        t = st.make_torrent(path, piece_length=1 << 16)
        self.assertNotIn(b"announce", t.meta)
        return t, t.write(os.path.join(self.dir, name + ".torrent")), d, path

    def test_trackerless_both_ways(self):
        a, a_file, a_dir, a_path = self.trackerless("a.bin", 3 * 2 ** 20 + 17)
        b, b_file, b_dir, b_path = self.trackerless("b.bin", 2 * 2 ** 20 + 5)
        boot = [(ROUTER, PORT)]
        ip.lt_dht_node(ROUTER, PORT, self.dir, CASE_SECONDS + 30, netns=self.ns)
        ip.lt_seed(a_file, a_dir, LT_SEED, PORT, self.dir, CASE_SECONDS + 30, netns=self.ns,
                   extra=ip.dht_args(boot))
        out = os.path.join(self.dir, "lt-out")
        leecher = ip.lt_leech(b_file, out, LT_LEECH, PORT, self.dir, CASE_SECONDS,
                              netns=self.ns, extra=ip.dht_args(boot))
        s = ip.Stad("", STAD, self.ns, dht={"enabled": True,
                                             "bootstrap": ["%s:%d" % boot[0]]})
        # stad seeds B: its data in place, the .torrent handed over.
        os.link(b_path, os.path.join(s.download_dir, b.name))
        s.request(b_file, timeout=30)
        # ...and downloads A, whose only peer the DHT knows.
        r = s.request(a_file, timeout=CASE_SECONDS)
        self.assertEqual(r.rc, 0, "stactl request of the trackerless torrent: %r" % r)
        self.assertEqual(st.sha1_file(os.path.join(s.download_dir, a.name)),
                         st.sha1_file(a_path), "stad's copy of A differs")
        rc = leecher.wait(CASE_SECONDS)
        self.assertEqual(rc, 0, "libtorrent did not download B from stad through the DHT "
                         "(exit %s)" % rc)
        self.assertEqual(st.sha1_file(os.path.join(out, b.name)), st.sha1_file(b_path),
                         "libtorrent's copy of B differs")
        # stactl status: the libtorrent nodes in stad's table, and what the
        # last round of lookups for A found (the one that found its seeder:
        # the next comes 15 minutes later).
        j = s.ctl("status", json_out=True).json
        self.assertTrue(1 <= j["dht"]["good_nodes"] <= j["dht"]["nodes"] <= 3, j["dht"])
        words = [t["dht"] for t in j["torrents"] if t["name"] == a.name]
        self.assertRegex(words[0], r"^[1-9]\d* peers? from [1-9]\d* nodes?$")
        s.stop()


if __name__ == "__main__":
    st.main()
