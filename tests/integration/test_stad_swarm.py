"""stad swarms on loopback: trackerd plus several stad daemons, each on a
127.0.0.x address of its own; files are shared from share dirs, published
to the catalog and requested by name."""

import os
import threading

import statest as st

# Not a multiple of a piece or a block; big enough (over 1000 pieces) that
# the download lasts long enough for STATUS polls to see every seeder serve.
AWKWARD = 32 * 1024 * 1024 + 12345


class Swarm(st.TestCase):
    def setUp(self):
        self.tracker = st.Trackerd()
        self.announce = self.tracker.url("/announce")

    def stad(self, name, **kw):
        return st.Stad(self.announce, name=name, **kw)

    def wait_published(self, name, seeders, timeout=20):
        def listed():
            r = self.tracker.get("/catalog?format=json")
            if r.status != 200:
                return False
            return name.encode() in r.body
        st.wait_until(listed, st.slack(timeout), "%s in the catalog" % name)

    def test_multi_source_download_by_name(self):
        """Three seeders, two downloaders: each downloader gets the whole
        file, byte-identical, and blocks from at least two seeders."""
        seeders = [self.stad("seed%d" % i, share={"big.bin": AWKWARD}, seed=7) for i in range(3)]
        want = st.sha1_file(os.path.join(seeders[0].share_dir, "big.bin"))
        for s in seeders:
            s.wait_seeding("big.bin")
        self.wait_published("big.bin", 3)
        r = seeders[0].ctl("update")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("big.bin", r.out)
        downloaders = [self.stad("down%d" % i) for i in range(2)]
        recorders = [st.PeerRecorder(d, "big.bin") for d in downloaders]
        results = [None] * len(downloaders)

        def fetch(i):
            results[i] = downloaders[i].ctl("request", "big.bin", timeout=st.slack(60),
                                            json_out=(i == 0))
        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(downloaders))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(st.slack(70))
        for d, r, rec in zip(downloaders, results, recorders):
            peers = rec.stop()
            self.assertIsNotNone(r, "%s: stactl request did not return" % d.name)
            self.assertEqual(r.rc, 0, "%s: %r" % (d.name, r))
            self.assertIn("complete", r.out)
            if r.json is not None:
                # The last event sums the download up: its average rate and
                # the peers blocks came from (they have left: both seeds).
                self.assertEqual(r.json.get("complete"), 1, r)
                self.assertGreaterEqual(r.json.get("peers", 0), 2, r)
                self.assertGreater(r.json.get("down_rate", 0), 0, r)
            path = os.path.join(d.download_dir, "big.bin")
            self.assertEqual(os.path.getsize(path), AWKWARD)
            self.assertEqual(st.sha1_file(path), want, "%s: checksum differs" % d.name)
            t = d.torrent("big.bin")
            self.assertEqual(t["done"], AWKWARD)
            self.assertEqual(t["state"], "seeding")
            seeder_addrs = {st.fmt_addr(*s.addr) for s in seeders}
            served = {a: m for a, m in peers.items()
                      if m.get("blocks", 0) > 0 and a in seeder_addrs}
            self.assertGreaterEqual(
                len(served), 2, "%s received blocks from %d seeder(s) only (%d STATUS snapshots): "
                "%r" % (d.name, len(served), rec.snapshots, peers))
            self.assertEqual(sum(m.get("hash_fails", 0) for m in peers.values()), 0, peers)
            # Every byte was counted once (a block may be re-requested at the
            # end game, hence the slack).
            self.assertGreaterEqual(t["downloaded"], AWKWARD)
            self.assertLess(t["downloaded"], AWKWARD * 1.25)
        # The seeders uploaded what the downloaders got.
        up = sum(s.torrent("big.bin")["uploaded"] for s in seeders)
        self.assertGreaterEqual(up, AWKWARD)

    def test_multi_file_directory(self):
        """A shared directory: nested dirs, an empty file, names with spaces
        and non-ASCII characters, all arriving intact."""
        layout = {
            "top.txt": 70001,
            "empty file.dat": 0,
            "sous-dossier/été à Noël.bin": 16384 * 3 + 1,
            "sous-dossier/deeper/日本語 名前.txt": 123457,
            "sous-dossier/deeper/zero": 0,
            "a b c/ Ω/last piece.bin": 40000,
        }
        shares = {"Album été 2024/" + k: v for k, v in layout.items()}
        seeders = [self.stad("seed%d" % i, share=shares, seed=3) for i in range(2)]
        for s in seeders:
            s.wait_seeding("Album été 2024")
        self.wait_published("Album", 2)
        down = self.stad("down")
        r = down.ctl("request", "Album été 2024", timeout=st.slack(60))
        self.assertEqual(r.rc, 0, r)
        src = os.path.join(seeders[0].share_dir, "Album été 2024")
        dst = os.path.join(down.download_dir, "Album été 2024")
        self.assertEqual(st.sha1_tree(dst), st.sha1_tree(src))
        for rel, size in layout.items():
            self.assertEqual(os.path.getsize(os.path.join(dst, rel)), size, rel)
        t = down.torrent("Album été 2024")
        self.assertEqual(t["size"], sum(layout.values()))
        self.assertEqual(t["done"], t["size"])

    def test_unknown_name(self):
        seeder = self.stad("seed", share={"present.bin": 1000})
        seeder.wait_seeding("present.bin")
        self.wait_published("present.bin", 1)
        down = self.stad("down")
        r = down.ctl("request", "absent.bin")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("absent.bin", r.err)
        self.assertRegex(r.err, r"(?i)no file|not found|not in the catalog")
        self.assertEqual(down.status(), [])
        # Under --json the error is JSON on stdout, with its code.
        r = down.ctl("request", "absent.bin", json_out=True)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.err, "")
        self.assertEqual(r.jsons, [{"error": 'no file "absent.bin" in the catalog',
                                    "code": "not_found", "exit": 1}])


if __name__ == "__main__":
    st.main()
