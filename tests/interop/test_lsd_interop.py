"""Local service discovery (BEP 14) with libtorrent, both ways, with no
tracker at all: on a LAN of two network namespaces joined by a veth pair
(statest.VethLan), libtorrent (enable_lsd) hears a stad seeder's announce
and downloads from it, and a stad leecher hears a libtorrent seeder's
announce and downloads from it; checksums equal. Each side joins only
after the other has announced, so each must hear the other."""

import os

from statest import interop_peers as ip
import statest as st

CASE_SECONDS = st.slack(int(os.environ.get("STA_CASE_SECONDS", "30")))
A, B = "198.18.1.1", "198.18.1.2"
SIZE = 3 * 1024 * 1024 + 4567


class LsdInterop(st.TestCase):
    def setUp(self):
        st.require_libtorrent()
        self.lan = st.VethLan([A + "/24"], [B + "/24"])
        self.dir = st.tempdir("lsd-interop-")
        self.data = st.make_file(os.path.join(self.dir, "src", "lan.bin"), SIZE, seed=33)
        self.tfile = st.make_torrent(self.data).write(os.path.join(self.dir, "lan.torrent"))

    def tearDown(self):
        self.lan.delete()

    def test_libtorrent_finds_stad(self):
        out = os.path.join(self.dir, "out")
        leech = ip.lt_leech(self.tfile, out, B, 6882, self.dir, CASE_SECONDS, netns=self.lan.b,
                            extra=["--lsd"])
        st.wait_until(lambda: "state=" in leech.log(), CASE_SECONDS,
                      "libtorrent to add the torrent", 0.1)
        seed = ip.Stad("", A, self.lan.a, name="seed", lsd=True)
        os.link(self.data, os.path.join(seed.download_dir, "lan.bin"))
        self.assertEqual(seed.request(self.tfile, timeout=CASE_SECONDS).rc, 0)
        rc = leech.wait(CASE_SECONDS)
        self.assertEqual(rc, 0, "libtorrent did not complete (exit %s)" % rc)
        self.assertEqual(st.sha1_file(os.path.join(out, "lan.bin")), st.sha1_file(self.data))
        seed.stop()

    def test_stad_finds_libtorrent(self):
        leech = ip.Stad("", B, self.lan.b, name="leech", lsd=True)
        self.assertEqual(leech.ctl("request", "--detach", os.path.abspath(self.tfile)).rc, 0)
        # Its own announce out (the next is a minute away) before libtorrent
        # listens: libtorrent cannot hear of stad, stad has to hear it.
        st.wait_until(lambda: "announced 1 torrent" in leech.log(), CASE_SECONDS,
                      "stad's first LSD announce", 0.1)
        seed = ip.lt_seed(self.tfile, os.path.dirname(self.data), A, 6881, self.dir,
                          CASE_SECONDS + 30, netns=self.lan.a, extra=["--lsd"])
        leech.wait_seeding("lan.bin", timeout=CASE_SECONDS)
        self.assertEqual(st.sha1_file(os.path.join(leech.download_dir, "lan.bin")),
                         st.sha1_file(self.data))
        self.assertRegex(leech.log(), r"local service discovery: %s port 6881 has 1 torrent"
                         % A)
        leech.stop()
        seed.stop(sig=2, expect_rc=None)


if __name__ == "__main__":
    st.main()
