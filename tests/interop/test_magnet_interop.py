"""Magnet links and peer exchange between stad and the real clients, on
loopback (libtorrent and aria2 take 127/8 peers; each process has an
address of its own):

- libtorrent and aria2 fetch the metadata from a stad seeder by magnet
  link (BEP 9) and download the file;
- stad fetches the metadata from libtorrent by magnet link;
- PEX (BEP 11) both ways, with a peer that can only be known through it:
  libtorrent tells stad of a seeder stad had no other way to find, and
  stad tells a libtorrent leecher of one.

Every download ends with a checksum of the whole file.
"""

import json
import os

import statest as st
from statest import interop_peers as ip

SIZE = 4 * 1024 * 1024 + 777


def lt_peers(proc):
    """The last "PEERS [...]" report of an lt_peer.py run."""
    lines = [l for l in proc.log().splitlines() if l.startswith("PEERS ")]
    return json.loads(lines[-1][6:]) if lines else []


class MagnetInterop(st.TestCase):
    def setUp(self):
        self.py = st.require_libtorrent()
        self.dir = st.tempdir("magnet-interop-")
        self.data = os.path.join(self.dir, "data")
        st.make_file(os.path.join(self.data, "mi.bin"), SIZE, seed="magnet-interop")
        self.want = st.sha1_file(os.path.join(self.data, "mi.bin"))

    def lt(self, mode, torrent, addr, *extra, save=None, name="lt"):
        port = st.free_port(host=addr)
        proc = st.Proc([self.py, ip.LT_PEER, mode, torrent, save or self.data, addr, str(port),
                        "--timeout", str(st.slack(60)), "--peers-report"] + list(extra),
                       name, self.dir)
        return proc, port

    def stad_seed(self, tracker=""):
        seed = st.Stad(tracker, name="stad-seed")
        r = seed.ctl("share", os.path.join(self.data, "mi.bin"))
        self.assertEqual(r.rc, 0, r)
        t = seed.wait_seeding("mi.bin")
        return seed, t["info_hash"]

    def torrent_file(self):
        tfile = os.path.join(self.dir, "mi.torrent")
        st.run(["mktorrent", "-l", "18", "-o", tfile, os.path.join(self.data, "mi.bin")])
        with open(tfile, "rb") as f:
            return tfile, st.Torrent(f.read()).hex

    def check(self, path):
        self.assertEqual(st.sha1_file(path), self.want, "%s differs" % path)

    def wait_ok(self, proc, *others):
        """Waits for a leecher to exit 0 (the logs go out if it does not)."""
        rc = proc.wait(st.slack(90))
        if rc != 0:
            for p in (proc,) + others:
                p.dump_log()
        self.assertEqual(rc, 0, "%s exited with %s" % (proc.name, rc))

    def test_libtorrent_fetches_metadata_from_stad(self):
        seed, hexhash = self.stad_seed()
        out = os.path.join(self.dir, "lt-out")
        link = "magnet:?xt=urn:btih:%s&dn=mi.bin" % hexhash
        lt, _ = self.lt("leech", link, "127.0.0.31", "--peer", st.fmt_addr(*seed.addr),
                        save=out, name="lt-leech")
        self.wait_ok(lt, seed)
        self.check(os.path.join(out, "mi.bin"))
        # stad was its only peer, so the metadata came from stad too.
        peers = lt_peers(lt)
        self.assertEqual([p["addr"] for p in peers], [st.fmt_addr(*seed.addr)], peers)
        self.assertGreaterEqual(seed.torrent("mi.bin")["uploaded"], SIZE)

    def test_aria2_fetches_metadata_from_stad(self):
        tracker = st.Trackerd()
        announce = tracker.url("/announce")
        seed, hexhash = self.stad_seed(announce)
        out = os.path.join(self.dir, "aria2-out")
        link = "magnet:?xt=urn:btih:%s&dn=mi.bin&tr=%s" % (hexhash, announce)
        port = st.free_port(host="127.0.0.32")
        aria = ip.aria2_leech(link, out, "127.0.0.32", port, self.dir, timeout=st.slack(60))
        self.wait_ok(aria, seed)
        self.check(os.path.join(out, "mi.bin"))

    def test_pex_from_libtorrent(self):
        """L2 seeds and speaks no PEX; L1 leeches from it, slowly. stad is
        given only L1 (magnet x.pe): it fetches the metadata from L1, hears
        of L2 by PEX, dials it and gets most of the file from it."""
        tfile, hexhash = self.torrent_file()
        # Its upload is limited so that the transfer lasts over its
        # 100 ms sampling of peers.
        l2, l2port = self.lt("seed", tfile, "127.0.0.42", "--no-pex", "--upload-limit", "4000000",
                             name="lt-seed-nopex")
        st.wait_until(lambda: "SEEDING" in l2.log(), st.slack(30), "L2 seeding")
        l1, l1port = self.lt("leech", tfile, "127.0.0.41", "--peer", "127.0.0.42:%d" % l2port,
                             "--download-limit", "100000", save=os.path.join(self.dir, "l1"),
                             name="lt-leech-slow")
        # L1's first PEX message goes out at once: it must know L2 by then.
        st.wait_until(lambda: any(p["addr"] == "127.0.0.42:%d" % l2port for p in lt_peers(l1)),
                      st.slack(20), "L1 connected to L2")
        down = st.Stad("", name="down")
        link = "magnet:?xt=urn:btih:%s&x.pe=127.0.0.41:%d" % (hexhash, l1port)
        r = down.ctl("request", link, timeout=st.slack(60))
        self.assertEqual(r.rc, 0, r)
        self.check(os.path.join(down.download_dir, "mi.bin"))
        log = down.log()
        self.assertIn("metadata fetched from 127.0.0.41:%d" % l1port, log)
        self.assertRegex(log, r"PEX from 127\.0\.0\.41:%d: \d+ added, [1-9]\d* new" % l1port)
        # Only PEX named L2, and L2 never dials (it has no PEX to learn of
        # stad): stad dialled it and L2 uploaded to stad.
        self.assertIn("connecting to 127.0.0.42:%d" % l2port, log)
        st.wait_until(lambda: any(p["addr"].startswith(down.listen + ":") and p["up"] > 0
                                  for p in lt_peers(l2)), st.slack(10), "L2 to report stad")

    def test_pex_to_libtorrent(self):
        """stad fetches the metadata from L2 (a libtorrent seed without PEX,
        uploading slowly) by magnet and downloads. L1 knows only stad; stad
        tells it of L2 by PEX, and L1 dials L2 and downloads from it."""
        tfile, hexhash = self.torrent_file()
        l2, l2port = self.lt("seed", tfile, "127.0.0.52", "--no-pex", "--upload-limit", "400000",
                             name="lt-seed-nopex")
        st.wait_until(lambda: "SEEDING" in l2.log(), st.slack(30), "L2 seeding")
        down = st.Stad("", name="stad-mid")
        link = "magnet:?xt=urn:btih:%s&x.pe=127.0.0.52:%d" % (hexhash, l2port)
        r = down.ctl("request", link, "--detach")
        self.assertEqual(r.rc, 0, r)
        st.wait_until(lambda: [t for t in down.status() if t["info_hash"] == hexhash and
                               t["state"] == "downloading"], st.slack(20), "metadata from L2")
        out = os.path.join(self.dir, "l1")
        l1, _ = self.lt("leech", tfile, "127.0.0.51", "--peer", st.fmt_addr(*down.addr),
                        save=out, name="lt-leech")
        self.wait_ok(l1, down)
        self.check(os.path.join(out, "mi.bin"))
        from_l2 = [p for p in lt_peers(l1) if p["addr"] == "127.0.0.52:%d" % l2port]
        self.assertEqual(len(from_l2), 1, lt_peers(l1))
        self.assertEqual(from_l2[0]["source"], ["pex"], from_l2)
        self.assertGreater(from_l2[0]["down"], 0, from_l2)


if __name__ == "__main__":
    st.main()
