"""Hostile BEP 9 and BEP 11 peers (statest.extpeer) against a stad that
fetches a magnet link: metadata whose hash does not match, a huge
metadata_size, piece indexes out of range, a bitfield larger than any
torrent before the piece count is known, a PEX flood. stad survives,
keeps its memory small, deals with each liar, and completes from an
honest seed with the right bytes."""

import os
import re

import statest as st
from statest.extpeer import ExtPeer

SIZE = 2 * 1024 * 1024 + 999
ANON_LIMIT_KIB = 64 * 1024


def rss_anon_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon for pid %d" % pid)


class HostileExt(st.TestCase):
    def setUp(self):
        self.seed = st.Stad("", name="seed", share={"h.bin": SIZE}, seed=5)
        self.seed.wait_seeding("h.bin")
        self.hex = self.seed.torrent("h.bin")["info_hash"]
        path = os.path.join(self.seed.state_dir, "torrents", self.hex + ".torrent")
        with open(path, "rb") as f:
            self.torrent = st.Torrent(f.read())
        self.want = st.sha1_file(os.path.join(self.seed.share_dir, "h.bin"))
        self.down = st.Stad("", name="down")

    def link(self, *peers):
        return "magnet:?xt=urn:btih:%s&dn=h.bin%s" % (
            self.hex, "".join("&x.pe=" + p for p in peers))

    def complete_from_seed(self):
        """Hands the honest seed over (asking for the link again adds its
        peers) and checks the download."""
        r = self.down.ctl("request", self.link(st.fmt_addr(*self.seed.addr)),
                          timeout=st.slack(60))
        self.assertEqual(r.rc, 0, r)
        path = os.path.join(self.down.download_dir, "h.bin")
        self.assertEqual(st.sha1_file(path), self.want)
        self.assertTrue(self.down.proc.running())
        anon = rss_anon_kib(self.down.proc.pid)
        self.assertLess(anon, ANON_LIMIT_KIB, "stad holds %d KiB of anonymous memory" % anon)

    def test_metadata_liars_lose(self):
        wrong = ExtPeer(self.torrent, "127.0.0.11", "wrong")
        huge = ExtPeer(self.torrent, "127.0.0.12", "huge")
        oor = ExtPeer(self.torrent, "127.0.0.13", "out_of_range")
        big = ExtPeer(self.torrent, "127.0.0.15", "big_bitfield")
        liars = (wrong, huge, oor, big)
        r = self.down.ctl("request", self.link(*(p.xpe for p in liars)), "--detach")
        self.assertEqual(r.rc, 0, r)
        st.wait_until(lambda: all(p.closed_by_remote for p in liars), st.slack(30),
                      "stad to close all four liars")
        log = self.down.log()
        self.assertIn("the metadata from 127.0.0.11:%d does not match the info-hash: "
                      "banning it" % wrong.port, log)
        self.assertIn("claims metadata of 1073741824 bytes, over the 16777216 limit", log)
        self.assertIn("ut_metadata: piece out of range", log)
        self.assertIn("127.0.0.15:%d: bitfield larger than any torrent we accept" % big.port, log)
        # The liar that was asked sent its whole dict; the huge one was
        # asked for nothing.
        self.assertGreaterEqual(wrong.requests, 1)
        self.assertEqual(huge.requests, 0)
        self.assertEqual(self.down.torrent("h.bin")["state"], "metadata")
        # Banned: the wrong peer is not dialled again when named again.
        before = wrong.handshakes
        self.complete_from_seed()
        self.assertEqual(wrong.handshakes, before)

    def test_pex_flood(self):
        # 100 addresses on loopback ports nobody listens on: dialling one
        # fails at once.
        bogus = [("127.0.0.1", p) for p in range(1, 101)]
        flood = ExtPeer(self.torrent, "127.0.0.14", "pex_flood", pex_peers=bogus)
        r = self.down.ctl("request", self.link(flood.xpe), "--detach")
        self.assertEqual(r.rc, 0, r)
        st.wait_until(lambda: flood.closed_by_remote, st.slack(20), "stad to drop the flooder")
        self.assertIn("PEX messages far more often than once a minute", self.down.log())
        # It sent dozens; one was read, and it gave at most 50 candidates.
        self.assertGreater(flood.pex_sent, 3)
        taken = [int(n) for n in re.findall(r"PEX from 127\.0\.0\.14:\d+: \d+ added, (\d+) new "
                                            r"candidates", self.down.log())]
        self.assertEqual(len(taken), 1, taken)
        self.assertLessEqual(taken[0], 50)
        dialled = re.findall(r"connecting to 127\.0\.0\.1:(\d+)$", self.down.log(), re.M)
        self.assertLessEqual(len(dialled), 50)
        self.complete_from_seed()


if __name__ == "__main__":
    st.main()
