"""Real BitTorrent clients find each other through trackerd alone and
complete a download with matching checksums.

  aria2c seeder     -> libtorrent leecher   (loopback, distinct 127.0.0.x)
  libtorrent seeder -> aria2c leecher       (loopback, multi-file torrent)
  libtorrent seeder -> transmission-cli     (own network namespace: transmission
                                             refuses peers on 127/8)

DHT, LSD, PEX, UPnP and NAT-PMP are off everywhere, so the tracker is the only
way the peers can meet. STA_INTEROP_TRACKER=opentracker runs the same cases
against Debian's opentracker (to tell a client problem from a tracker one).
"""

import json
import os
import time

import statest as st

HERE = os.path.dirname(os.path.abspath(__file__))
LT_PEER = os.path.join(HERE, "lt_peer.py")
CASE_SECONDS = 60


def aria2_args(port, extra=()):
    return [st.tool("aria2c"), "--enable-dht=false", "--enable-dht6=false",
            "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true",
            "--listen-port=%d" % port, "--file-allocation=none", "--console-log-level=warn",
            "--log=-", "--log-level=info",
            "--summary-interval=0", "--bt-tracker-connect-timeout=5",
            "--bt-tracker-timeout=5", "--max-overall-upload-limit=0"] + list(extra)


class Interop(st.TestCase):
    def setUp(self):
        self.dir = st.tempdir("interop-")
        self.kind = os.environ.get("STA_INTEROP_TRACKER", "trackerd")

    def start_tracker(self, torrent_hashes, host="127.0.0.1", netns=None):
        if self.kind == "opentracker":
            return st.Opentracker(torrent_hashes, host=host, netns=netns)
        # Short intervals: a peer that missed the others re-asks soon.
        return st.Trackerd(http_hosts=(host,), udp_hosts=(host,), netns=netns,
                           announce_interval=10, min_interval=1)

    def payload(self, name, sizes):
        """Creates seed data: one file (single size) or a directory."""
        seed = os.path.join(self.dir, "seed")
        if len(sizes) == 1:
            path = st.make_file(os.path.join(seed, name), sizes[0])
        else:
            path = os.path.join(seed, name)
            for i, size in enumerate(sizes):
                st.make_file(os.path.join(path, "sub%d" % (i % 2), "f%d.bin" % i), size)
        return seed, path

    def scrape(self, tracker, h, netns=None):
        def ask():
            r = st.http_get(tracker.http[0], tracker.http[1],
                            "/scrape?" + st.qs([("info_hash", h)]))
            f = st.bdecode(r.body).get(b"files", {}).get(h, {})
            return (f.get(b"complete", 0), f.get(b"downloaded", 0), f.get(b"incomplete", 0))
        return netns.socket_call(ask) if netns else ask()

    def wait_seeder(self, tracker, torrent, seeder, netns=None):
        def seeding():
            if not seeder.running():
                raise AssertionError("seeder exited early with %s" % seeder.p.returncode)
            return self.scrape(tracker, torrent.info_hash, netns)[0] >= 1
        st.wait_until(seeding, 30, "the seeder to announce itself to the tracker", 0.2)

    def wait_exit(self, proc, timeout):
        rc = proc.wait(timeout)
        if rc is None:
            raise AssertionError("%s did not finish within %ds" % (proc.name, timeout))
        self.assertEqual(rc, 0, "%s exited with %d" % (proc.name, rc))

    def check_same(self, seed_root, leech_root, name):
        want = st.sha1_tree(os.path.join(seed_root, name)) \
            if os.path.isdir(os.path.join(seed_root, name)) else \
            {name: st.sha1_file(os.path.join(seed_root, name))}
        got_path = os.path.join(leech_root, name)
        got = st.sha1_tree(got_path) if os.path.isdir(got_path) else \
            {name: st.sha1_file(got_path)}
        self.assertEqual(got, want, "downloaded data differs from the seed")

    def test_aria2_seeds_libtorrent_leeches(self):
        py = st.require_libtorrent()
        seed, path = self.payload("payload.bin", [5 * 2 ** 20 + 12345])
        t0 = st.make_torrent(path, piece_length=1 << 16)
        tracker = self.start_tracker([t0.info_hash])
        t = t0.with_announce(tracker.url("/announce"))
        tfile = t.write(os.path.join(self.dir, "a.torrent"))
        seeder = st.Proc(aria2_args(st.free_port(), ["--seed-ratio=0.0",
                                                     "--check-integrity=true",
                                                     "--dir", seed, tfile]),
                         "aria2c-seed", self.dir)
        self.wait_seeder(tracker, t, seeder)
        leech = os.path.join(self.dir, "leech")
        os.makedirs(leech)
        leecher = st.Proc([py, LT_PEER, "leech", tfile, leech, "127.0.0.3",
                           str(st.free_port()), "--timeout", str(CASE_SECONDS - 10)],
                          "libtorrent-leech", self.dir)
        self.wait_exit(leecher, CASE_SECONDS)
        self.check_same(seed, leech, "payload.bin")
        st.wait_until(lambda: self.scrape(tracker, t.info_hash)[1] >= 1, 10,
                      "the tracker to count the completed download")
        seeder.stop(expect_rc=None)
        tracker.stop()

    def test_libtorrent_seeds_aria2_leeches(self):
        py = st.require_libtorrent()
        sizes = [1, 16383, 16385, 2 ** 20 + 7, 3 * 2 ** 20 + 1]
        seed, path = self.payload("album", sizes)
        t0 = st.make_torrent(path, piece_length=1 << 15)
        tracker = self.start_tracker([t0.info_hash])
        t = t0.with_announce(tracker.url("/announce"))
        tfile = t.write(os.path.join(self.dir, "b.torrent"))
        seeder = st.Proc([py, LT_PEER, "seed", tfile, seed, "127.0.0.2", str(st.free_port()),
                          "--timeout", str(CASE_SECONDS + 30)], "libtorrent-seed", self.dir)
        self.wait_seeder(tracker, t, seeder)
        leech = os.path.join(self.dir, "leech")
        leecher = st.Proc(aria2_args(st.free_port(), ["--seed-time=0",
                                                      "--bt-stop-timeout=%d" % (CASE_SECONDS - 10),
                                                      "--dir", leech, tfile]),
                          "aria2c-leech", self.dir)
        self.wait_exit(leecher, CASE_SECONDS)
        self.check_same(seed, leech, "album")
        seeder.stop(expect_rc=None)
        tracker.stop()

    def test_transmission_leeches_in_netns(self):
        py = st.require_libtorrent()
        tcli = st.tool("transmission-cli")
        ns = st.Netns(["198.18.0.1", "198.18.0.2", "198.18.0.3"])
        seed, path = self.payload("movie.mkv", [4 * 2 ** 20 + 777])
        t0 = st.make_torrent(path, piece_length=1 << 16)
        tracker = self.start_tracker([t0.info_hash], host="198.18.0.1", netns=ns)
        t = t0.with_announce(tracker.url("/announce"))
        tfile = t.write(os.path.join(self.dir, "c.torrent"))
        seeder = st.Proc([py, LT_PEER, "seed", tfile, seed, "198.18.0.2", "6882",
                          "--timeout", str(CASE_SECONDS + 30)], "libtorrent-seed", self.dir,
                         netns=ns)
        self.wait_seeder(tracker, t, seeder, netns=ns)
        conf = os.path.join(self.dir, "transmission")
        leech = os.path.join(self.dir, "leech")
        os.makedirs(conf)
        os.makedirs(leech)
        with open(os.path.join(conf, "settings.json"), "w") as f:
            json.dump({"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
                       "utp-enabled": False, "port-forwarding-enabled": False,
                       "bind-address-ipv4": "198.18.0.3", "peer-port": 51413,
                       "peer-port-random-on-start": False, "rename-partial-files": True,
                       "incomplete-dir-enabled": False, "download-dir": leech,
                       "encryption": 1, "message-level": 2}, f)
        leecher = st.Proc([tcli, "-g", conf, "-w", leech, "-p", "51413", "-M", "-D", "-U",
                           "-ep", tfile], "transmission-cli", self.dir, netns=ns)
        final = os.path.join(leech, "movie.mkv")
        want = st.sha1_file(path)

        def done():
            if not leecher.running():
                raise AssertionError("transmission-cli exited with %s" % leecher.p.returncode)
            return os.path.exists(final) and os.path.getsize(final) == t.size and \
                st.sha1_file(final) == want
        st.wait_until(done, CASE_SECONDS, "transmission to download the file", 0.5)
        leecher.stop(sig=2, expect_rc=None)
        seeder.stop(expect_rc=None)
        tracker.stop()
        ns.delete()


if __name__ == "__main__":
    st.main()
