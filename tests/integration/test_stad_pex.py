"""Peer exchange (BEP 11) over IPv6, both ways, between stad and a BEP 10
peer in Python (statest.extpeer) on ::1: the peer tells stad of a seeder
stad knew no other way (added6), stad dials it; stad tells the peer of
that seeder once a PEX minute comes round for it, with the "reachable"
flag. Private torrents (BEP 27) get no PEX at all. The IPv4 paths, and
PEX with libtorrent, are in tests/interop/test_magnet_interop."""

import os
import socket
import struct

import statest as st
from statest.btpeer import BtPeer
from statest.extpeer import ExtPeer

SIZE = 2 * 1024 * 1024 + 321
RATE = 500000   # the seeder's bytes/s: the download lasts past stad's first PEX message


def entries6(blob):
    """(address, port) pairs of a compact IPv6 list."""
    return [(socket.inet_ntop(socket.AF_INET6, blob[i:i + 16]),
             struct.unpack(">H", blob[i + 16:i + 18])[0]) for i in range(0, len(blob), 18)]


class Pex(st.TestCase):
    def setUp(self):
        self.dir = st.tempdir("pex-")
        self.data = os.path.join(self.dir, "p.bin")
        st.make_file(self.data, SIZE, seed="pex6")

    def test_ipv6_both_ways(self):
        if not st.have_ipv6_loopback():
            st.skip("no IPv6 loopback (::1) on this machine")
        tor = st.make_torrent(self.data)
        seed = BtPeer(tor, "::1", data_path=self.data, rate=RATE, name="seed6")
        teller = ExtPeer(tor, "::1", "pex_list", pex_peers=[("::1", seed.port)])
        down = st.Stad("", listen="::1", name="down6")
        link = "magnet:?xt=urn:btih:%s&x.pe=[::1]:%d" % (tor.hex, teller.port)
        r = down.ctl("request", link, timeout=st.slack(60))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(st.sha1_file(os.path.join(down.download_dir, "p.bin")),
                         st.sha1_file(self.data))
        log = down.log()
        self.assertRegex(log, r"PEX from \[::1\]:%d: 1 added, 1 new candidates" % teller.port)
        self.assertIn("connecting to [::1]:%d" % seed.port, log)
        self.assertGreater(seed.bytes_served, 0)
        # stad's message to the teller named the seeder, as dialled by stad.
        told = [(e, f) for m in teller.pex_received
                for e, f in zip(entries6(m.get(b"added6", b"")), m.get(b"added6.f", b""))]
        # Flags: a seed (0x02) that takes connections (0x10).
        self.assertIn((("::1", seed.port), 0x12), told, teller.pex_received)

    def test_private_torrent_gets_no_pex(self):
        tor = st.make_torrent(self.data, private=True)
        seed = BtPeer(tor, "127.0.0.21", data_path=self.data, rate=RATE, name="seed")
        other = BtPeer(tor, "127.0.0.22", data_path=self.data, rate=RATE, name="other")
        # It sends ut_pex to stad's usual id although stad offers none.
        teller = ExtPeer(tor, "127.0.0.23", "pex_list", pex_peers=[("127.0.0.22", other.port)],
                         pex_id=2)
        tfile = os.path.join(self.dir, "private.torrent")
        with open(tfile, "wb") as f:
            f.write(tor.data)
        down = st.Stad("", name="down")
        r = down.ctl("request", tfile, "--detach")
        self.assertEqual(r.rc, 0, r)
        # Both handed over at once, as a tracker would.
        r = down.ctl("request", "magnet:?xt=urn:btih:%s&x.pe=%s&x.pe=%s" % (
            tor.hex, st.fmt_addr(seed.host, seed.port), st.fmt_addr(teller.host, teller.port)),
            "--detach")
        self.assertEqual(r.rc, 0, r)
        st.wait_until(lambda: down.torrent("p.bin")["state"] == "seeding", st.slack(30),
                      "the private download")
        self.assertTrue(teller.handshakes)
        self.assertEqual(teller.pex_sent, 1)
        # stad offered no ut_pex, sent none, and ignored what it was told.
        self.assertNotIn(b"ut_pex", teller.their_ids)
        self.assertEqual(teller.pex_received, [])
        self.assertEqual(other.handshakes, 0)
        self.assertNotIn("PEX from", down.log())


if __name__ == "__main__":
    st.main()
