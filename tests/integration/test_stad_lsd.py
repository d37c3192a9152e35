"""Local service discovery (BEP 14): stads on one LAN find each other with no
tracker at all (tracker = "", torrents without announce URLs).

The LAN is two network namespaces of the test's own joined by a veth pair,
which carries multicast like a real link. A leecher waits in one; a seeder
appears in the other, announces on the multicast group, and the leecher
dials it and downloads; a stad beside the leecher with lsd = false never
hears of the seeder. Once over IPv4 (239.192.152.143) and once over IPv6
(ff15::efc0:988f)."""

import os

from statest import interop_peers as ip
import statest as st

SIZE = 3 * 1024 * 1024 + 333


class Lsd(st.TestCase):
    def lan_download(self, seed_addr, leech_addr, quiet_addr, lan):
        d = st.tempdir("lsd-")
        data = st.make_file(os.path.join(d, "src", "lan.bin"), SIZE, seed=21)
        tor = st.make_torrent(data)  # no announce URL
        tfile = tor.write(os.path.join(d, "lan.torrent"))

        leech = ip.Stad("", leech_addr, lan.b, name="leech", lsd=True)
        quiet = ip.Stad("", quiet_addr, lan.b, name="quiet", lsd=False)
        for s in (leech, quiet):
            self.assertEqual(s.ctl("request", "--detach", os.path.abspath(tfile)).rc, 0)
        seed = ip.Stad("", seed_addr, lan.a, name="seed", lsd=True)
        os.link(data, os.path.join(seed.download_dir, "lan.bin"))
        r = seed.request(tfile, timeout=st.slack(20))  # checks the data, then seeds
        self.assertEqual(r.rc, 0, r)

        leech.wait_seeding("lan.bin", timeout=30)
        self.assertEqual(st.sha1_file(os.path.join(leech.download_dir, "lan.bin")),
                         st.sha1_file(data))
        self.assertRegex(leech.log(), r"local service discovery: %s port %d has 1 torrent"
                         % (seed_addr, seed.port))
        self.assertIn("not announced", leech.log())  # no tracker was asked
        # The stad without LSD heard nothing and found nobody.
        self.assertEqual(quiet.torrent("lan.bin")["done"], 0)
        self.assertNotIn("local service discovery", quiet.log())
        for s in (seed, leech, quiet):
            s.stop()

    def test_ipv4(self):
        lan = st.VethLan(["198.18.1.1/24"], ["198.18.1.2/24", "198.18.1.3/24"])
        try:
            self.lan_download("198.18.1.1", "198.18.1.2", "198.18.1.3", lan)
        finally:
            lan.delete()

    def test_ipv6(self):
        lan = st.VethLan(["fd00:1::1/64"], ["fd00:1::2/64", "fd00:1::3/64"])
        try:
            self.lan_download("fd00:1::1", "fd00:1::2", "fd00:1::3", lan)
        finally:
            lan.delete()


if __name__ == "__main__":
    st.main()
