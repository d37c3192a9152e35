"""stad trades data with real BitTorrent clients, meeting them through
trackerd only, and the data arrives with matching checksums:

  aria2c / libtorrent / transmission-cli seed  -> stad leeches (stactl request)
  stad seeds (a file in its share dir, published to trackerd's catalog)
                                               -> aria2c / libtorrent /
                                                  transmission-cli leech the
                                                  .torrent from the catalog

Against libtorrent also with message stream encryption forced on both
sides (libtorrent in_enc_policy = out_enc_policy = forced, RC4 only; stad
encryption = "require"), so every byte on the wire is RC4.

Every case runs in a network namespace of its own (transmission refuses
peers on 127/8) with the tracker on 198.18.0.1 and each peer on an address
of its own, which it listens on and connects from. DHT, LSD, PEX, UPnP and
NAT-PMP are off everywhere. Each case is bounded by STA_CASE_SECONDS (30 s;
tripled for sanitizer builds); a working pair needs a few seconds.
"""

import os

from statest import interop_peers as ip
import statest as st

CASE_SECONDS = st.slack(int(os.environ.get("STA_CASE_SECONDS", "30")))
TRACKER, SEEDER, LEECHER, STAD = "198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"


class StadInterop(st.TestCase):
    def setUp(self):
        self.dir = st.tempdir("stad-interop-")
        self.ns = st.Netns([TRACKER, SEEDER, LEECHER, STAD])
        self.tracker = st.Trackerd(http_hosts=(TRACKER,), udp_hosts=(TRACKER,), netns=self.ns,
                                   announce_interval=10, min_interval=1)

    def tearDown(self):
        # Processes are killed by PID by st.TestCase after each test.
        self.ns.delete()

    # ------------------------------------------------------------ helpers

    def http(self, target):
        h, p = self.tracker.http
        return self.ns.socket_call(lambda: st.http_get(h, p, target))

    def scrape(self, h):
        r = self.http("/scrape?" + st.qs([("info_hash", h)]))
        f = st.bdecode(r.body).get(b"files", {}).get(h, {})
        return f.get(b"complete", 0), f.get(b"downloaded", 0), f.get(b"incomplete", 0)

    def payload(self, name, sizes):
        """Seed data: one file, or a directory of files (several sizes)."""
        seed = os.path.join(self.dir, "seed")
        if len(sizes) == 1:
            return seed, st.make_file(os.path.join(seed, name), sizes[0])
        path = os.path.join(seed, name)
        for i, size in enumerate(sizes):
            st.make_file(os.path.join(path, "sub%d" % (i % 2), "f%d.bin" % i), size)
        return seed, path

    def torrent(self, path, piece_length):
        t = st.make_torrent(path, piece_length=piece_length) \
            .with_announce(self.tracker.url("/announce"))
        return t, t.write(os.path.join(self.dir, "%s.torrent" % t.name))

    def wait_seeder(self, t, seeder):
        def seeding():
            if not seeder.running():
                raise AssertionError("%s exited early with %s" % (seeder.name,
                                                                   seeder.p.returncode))
            return self.scrape(t.info_hash)[0] >= 1
        st.wait_until(seeding, 30, "%s to announce itself as a seeder" % seeder.name, 0.2)

    def assert_same(self, want_path, got_path):
        if os.path.isdir(want_path):
            self.assertEqual(st.sha1_tree(got_path), st.sha1_tree(want_path),
                             "downloaded data differs from the seed")
        else:
            self.assertTrue(os.path.exists(got_path), "%s was not written" % got_path)
            self.assertEqual(st.sha1_file(got_path), st.sha1_file(want_path),
                             "downloaded data differs from the seed")

    def stad(self, **kw):
        return ip.Stad(self.tracker.url("/announce"), STAD, self.ns, **kw)

    def stad_leeches(self, t, tfile, want_path, seeder, **stad_kw):
        self.wait_seeder(t, seeder)
        s = self.stad(**stad_kw)
        r = s.request(tfile, timeout=CASE_SECONDS - 10)
        self.assertEqual(r.rc, 0, "stactl request failed: %r" % r)
        tor = s.torrent(t.name)
        self.assertIsNotNone(tor, "stad does not list the torrent it downloaded")
        self.assertEqual(tor["info_hash"], t.hex)
        self.assertEqual(tor["done"], t.size)
        self.assertEqual(tor["state"], "seeding")
        self.assert_same(want_path, os.path.join(s.download_dir, t.name))
        st.wait_until(lambda: self.scrape(t.info_hash)[1] >= 1, 15,
                      "the tracker to count stad's completed download", 0.2)
        s.stop()
        seeder.stop(expect_rc=None)
        return s

    def stad_seeds(self, name, size, **stad_kw):
        """Starts a stad sharing a fresh file; returns (stad, source path,
        Torrent from the catalog, its path on disk)."""
        s = self.stad(share={name: size}, **stad_kw)
        src = os.path.join(s.share_dir, name)

        def listed():
            r = self.http("/catalog")
            if r.status != 200:
                return None
            for e in st.bdecode(r.body).get(b"torrents", []):
                if e.get(b"name") == name.encode() and e.get(b"seeders", 0) >= 1:
                    return e[b"info_hash"].decode()
            return None
        hexhash = st.wait_until(listed, 30, "stad to publish %s with itself seeding" % name,
                                0.2)
        r = self.http("/catalog/%s.torrent" % hexhash)
        self.assertEqual(r.status, 200, "catalog fetch: %r" % r.body[:200])
        t = st.Torrent(r.body)
        self.assertEqual(t.hex, hexhash)
        self.assertEqual(t.size, size)
        self.assertEqual(t.meta.get(b"announce"), self.tracker.url("/announce").encode())
        return s, src, t, t.write(os.path.join(self.dir, "catalog.torrent"))

    def wait_exit(self, proc, timeout):
        rc = proc.wait(timeout)
        if rc is None:
            raise AssertionError("%s did not finish within %ds" % (proc.name, timeout))
        self.assertEqual(rc, 0, "%s exited with %d" % (proc.name, rc))

    # ------------------------------------------------------------ stad leeches

    def test_stad_leeches_from_aria2(self):
        seed, path = self.payload("payload.bin", [5 * 2 ** 20 + 12345])
        t, tfile = self.torrent(path, 1 << 16)
        seeder = ip.aria2_seed(tfile, seed, SEEDER, 6881, self.dir, netns=self.ns)
        self.stad_leeches(t, tfile, path, seeder)

    def test_stad_leeches_multifile_from_libtorrent(self):
        seed, path = self.payload("album", [1, 16383, 16385, 2 ** 20 + 7, 3 * 2 ** 20 + 1])
        t, tfile = self.torrent(path, 1 << 15)
        seeder = ip.lt_seed(tfile, seed, SEEDER, 6881, self.dir, CASE_SECONDS + 30,
                            netns=self.ns)
        self.stad_leeches(t, tfile, path, seeder)

    def test_stad_leeches_from_libtorrent_rc4_forced(self):
        seed, path = self.payload("secret.bin", [3 * 2 ** 20 + 5])
        t, tfile = self.torrent(path, 1 << 16)
        seeder = ip.lt_seed(tfile, seed, SEEDER, 6881, self.dir, CASE_SECONDS + 30,
                            netns=self.ns, extra=["--rc4-forced"])
        s = self.stad_leeches(t, tfile, path, seeder, encryption="require")
        self.assertIn("encryption handshake done, RC4", s.log())

    def test_stad_leeches_from_transmission(self):
        seed, path = self.payload("movie.mkv", [4 * 2 ** 20 + 777])
        t, tfile = self.torrent(path, 1 << 18)
        seeder = ip.transmission(tfile, seed, SEEDER, 51413, self.dir, self.ns,
                                 name="transmission-seed")
        self.stad_leeches(t, tfile, path, seeder)

    # ------------------------------------------------------------ stad seeds

    def test_aria2_leeches_from_stad(self):
        s, src, t, tfile = self.stad_seeds("a.bin", 6 * 2 ** 20 + 3)
        out = os.path.join(self.dir, "out")
        leecher = ip.aria2_leech(tfile, out, LEECHER, 6882, self.dir, CASE_SECONDS - 10,
                                 netns=self.ns)
        self.wait_exit(leecher, CASE_SECONDS)
        self.assert_same(src, os.path.join(out, t.name))
        s.stop()

    def test_libtorrent_leeches_from_stad(self):
        s, src, t, tfile = self.stad_seeds("b.bin", 7 * 2 ** 20 + 99)
        out = os.path.join(self.dir, "out")
        leecher = ip.lt_leech(tfile, out, LEECHER, 6882, self.dir, CASE_SECONDS - 10,
                              netns=self.ns)
        self.wait_exit(leecher, CASE_SECONDS)
        self.assert_same(src, os.path.join(out, t.name))
        st.wait_until(lambda: self.scrape(t.info_hash)[1] >= 1, 10,
                      "the tracker to count libtorrent's completed download", 0.2)
        s.stop()

    def test_libtorrent_leeches_from_stad_rc4_forced(self):
        s, src, t, tfile = self.stad_seeds("d.bin", 3 * 2 ** 20 + 17, encryption="require")
        out = os.path.join(self.dir, "out")
        leecher = ip.lt_leech(tfile, out, LEECHER, 6882, self.dir, CASE_SECONDS - 10,
                              netns=self.ns, extra=["--rc4-forced"])
        self.wait_exit(leecher, CASE_SECONDS)
        self.assert_same(src, os.path.join(out, t.name))
        self.assertIn("encryption handshake done, RC4", s.log())
        s.stop()

    def test_transmission_leeches_from_stad(self):
        s, src, t, tfile = self.stad_seeds("c.mkv", 4 * 2 ** 20 + 4321)
        out = os.path.join(self.dir, "out")
        leecher = ip.transmission(tfile, out, LEECHER, 51414, self.dir, self.ns,
                                  name="transmission-leech")
        final = os.path.join(out, t.name)
        want = st.sha1_file(src)

        def done():
            if not leecher.running():
                raise AssertionError("transmission-cli exited with %s" % leecher.p.returncode)
            return os.path.exists(final) and os.path.getsize(final) == t.size and \
                st.sha1_file(final) == want
        st.wait_until(done, CASE_SECONDS, "transmission to download the file from stad", 0.5)
        leecher.stop(sig=2, expect_rc=None)
        s.stop()


if __name__ == "__main__":
    st.main()
