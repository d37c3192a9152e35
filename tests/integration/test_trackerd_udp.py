"""trackerd's UDP tracker (BEP 15): connect, announce, scrape, error packets,
and garbage that must not hurt it."""

import os
import random
import socket
import struct

import statest as st


def ih(tag):
    return st.hashlib.sha1(tag.encode()).digest()


def src(n):
    return "127.0.0.%d" % (20 + n)


class Udp(st.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = st.Trackerd(numwant_max=50)

    @classmethod
    def tearDownClass(cls):
        cls.t.stop()

    def setUp(self):
        self.assertTrue(self.t.proc.running(), "trackerd died during an earlier test")
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.assertTrue(self.t.proc.running(), "trackerd died")

    def client(self, n):
        c = self.t.udp_client(bind=src(n))
        self.clients.append(c)
        c.connect()
        return c

    def test_connect(self):
        c = self.client(0)
        self.assertIsInstance(c.cid, int)
        # Two clients at different addresses get different ids.
        self.assertNotEqual(self.client(1).cid, c.cid)

    def test_announce_and_peers(self):
        h = ih("udp-announce")
        a, b, c = self.client(1), self.client(2), self.client(3)
        r = a.announce(h, st.peer_id(1), 6001, left=0, event="started")
        self.assertNotIn("error", r)
        self.assertGreater(r["interval"], 0)
        self.assertEqual(r["peers"], [])
        self.assertEqual((r["seeders"], r["leechers"]), (1, 0))
        b.announce(h, st.peer_id(2), 6002, left=100, event="started")
        r = c.announce(h, st.peer_id(3), 6003, left=100, event="started")
        self.assertEqual(set(r["peers"]), {(src(1), 6001), (src(2), 6002)})
        self.assertEqual((r["seeders"], r["leechers"]), (1, 2))
        # numwant limits, stopped removes.
        self.assertEqual(len(c.announce(h, st.peer_id(3), 6003, left=100, numwant=1)["peers"]), 1)
        a.announce(h, st.peer_id(1), 6001, left=0, event="stopped")
        r = c.announce(h, st.peer_id(3), 6003, left=100)
        self.assertEqual(set(r["peers"]), {(src(2), 6002)})
        self.assertEqual((r["seeders"], r["leechers"]), (0, 2))

    def test_udp_and_http_share_swarms(self):
        h = ih("udp-http")
        self.t.announce(h, st.peer_id(5), 6005, left=0, source=src(5))
        r = self.client(6).announce(h, st.peer_id(6), 6006, left=7)
        self.assertEqual(r["peers"], [(src(5), 6005)])
        self.assertEqual(self.t.scrape([h])[h], (1, 0, 1))

    def test_scrape(self):
        a_h, b_h, unknown = ih("udp-s-a"), ih("udp-s-b"), ih("udp-s-unknown")
        c = self.client(7)
        c.announce(a_h, st.peer_id(7), 6007, left=0)
        self.client(8).announce(a_h, st.peer_id(8), 6008, left=9)
        self.client(9).announce(b_h, st.peer_id(9), 6009, left=9, event="started")
        self.client(9).announce(b_h, st.peer_id(9), 6009, left=0, event="completed")
        self.assertEqual(c.scrape([a_h]), [(1, 0, 1)])
        self.assertEqual(c.scrape([a_h, b_h, unknown]), [(1, 0, 1), (1, 1, 0), (0, 0, 0)])

    def test_scrape_max_hashes(self):
        # 74 hashes fill a 1496-byte packet: all must be answered.
        c = self.client(10)
        hashes = [ih("many-%d" % i) for i in range(74)]
        self.assertEqual(c.scrape(hashes), [(0, 0, 0)] * 74)

    def test_bad_connection_id_gets_error(self):
        c = self.client(11)
        for cid in (0, c.cid ^ 1, c.cid ^ (1 << 63), st.UDP_PROTOCOL_ID):
            r = c.announce(ih("udp-badcid"), st.peer_id(11), 6011, cid=cid)
            self.assertIn("error", r, "connection id %#x accepted" % cid)
            self.assertTrue(r["error"], "error packet without a message")
            r = c.scrape([ih("udp-badcid")], cid=cid)
            self.assertIn("error", r)
        # A connection id is bound to the address it was issued to.
        other = self.t.udp_client(bind=src(12))
        self.clients.append(other)
        r = other.announce(ih("udp-badcid"), st.peer_id(12), 6012, cid=c.cid)
        self.assertIn("error", r, "another address's connection id was accepted")
        self.assertEqual(self.t.scrape([ih("udp-badcid")]).get(ih("udp-badcid"), (0, 0, 0)),
                         (0, 0, 0))

    def test_error_keeps_transaction_id(self):
        c = self.client(13)
        pkt, tid = c.announce_packet(ih("udp-tid"), st.peer_id(13), 6013, cid=12345,
                                     tid=0xDEADBEEF)
        action, body = c.request(pkt, 0xDEADBEEF)
        self.assertEqual(action, st.UDP_ERROR)

    def test_bad_port_refused(self):
        c = self.client(14)
        r = c.announce(ih("udp-port0"), st.peer_id(14), 0)
        if "error" not in r:
            self.assertEqual(self.t.scrape([ih("udp-port0")]).get(ih("udp-port0"),
                                                                 (0, 0, 0)), (0, 0, 0))

    def test_garbage_packets(self):
        c = self.client(15)
        rnd = random.Random(1234)
        good, _ = c.announce_packet(ih("udp-garbage"), st.peer_id(15), 6015)
        junk = [b"", b"\x00", b"\x00" * 15, struct.pack(">QII", 0, 0, 1),
                struct.pack(">QII", st.UDP_PROTOCOL_ID + 1, 0, 2),          # wrong magic
                struct.pack(">QII", st.UDP_PROTOCOL_ID, 0, 3) + b"extra",  # long connect
                good[:97], good[:20],                                      # truncated announce
                struct.pack(">QII", c.cid, 2, 4),                          # scrape of 0 hashes
                struct.pack(">QII", c.cid, 2, 5) + b"h" * 19,              # ragged scrape
                struct.pack(">QII", c.cid, 2, 6) + b"h" * 20 * 100,        # too many hashes
                struct.pack(">QII", c.cid, 99, 7), struct.pack(">QII", c.cid, 3, 8) + b"err",
                bytes(rnd.getrandbits(8) for _ in range(1500)), b"\xff" * 65000]
        junk += [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 200)))
                 for _ in range(300)]
        for j in junk:
            c.send(j)
        # Drain whatever came back; every reply must be a well-formed packet.
        while True:
            r = c.recv()
            if r is None:
                break
            self.assertGreaterEqual(len(r), 8, "short reply %r" % r)
            self.assertIn(struct.unpack(">I", r[:4])[0], (0, 1, 2, 3))
        c.s.settimeout(3)
        c.connect()
        r = c.announce(ih("udp-garbage"), st.peer_id(15), 6015, left=0)
        self.assertEqual(r["seeders"], 1)

    def test_flood_of_connects(self):
        c = self.client(16)
        for i in range(2000):
            c.send(struct.pack(">QII", st.UDP_PROTOCOL_ID, 0, i))
        got = 0
        c.s.settimeout(0.5)
        while c.recv() is not None:
            got += 1
        self.assertGreater(got, 100, "tracker answered only %d of 2000 connects" % got)
        c.s.settimeout(3)
        c.connect()


if __name__ == "__main__":
    st.main()
