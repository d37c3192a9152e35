"""trackerd HTTP announce and scrape (BEP 3, 23, 7, 48) against the real daemon.

Every peer announces from its own loopback address (127.0.0.x) because a
tracker tells peers apart by source address.
"""

import os
import socket

import statest as st


def ih(tag):
    """A distinct 20-byte info-hash per test."""
    return st.hashlib.sha1(tag.encode()).digest()


def src(n):
    return "127.0.0.%d" % (10 + n)


class Announce(st.TestCase):
    def setUp(self):
        self.t = st.Trackerd(numwant_max=5)

    def tearDown(self):
        self.t.stop()

    def join(self, h, n, left=0, **kw):
        """Peer n announces (started) on hash h from src(n), port 6000+n."""
        return self.t.announce(h, st.peer_id(n), 6000 + n, left=left, event="started",
                               source=src(n), **kw)

    def test_compact_reply_lists_other_peers(self):
        h = ih("compact")
        r0 = self.join(h, 0, left=100)
        self.assertNotIn(b"failure reason", r0)
        self.assertIsInstance(r0[b"interval"], int)
        self.assertGreater(r0[b"interval"], 0)
        self.assertEqual(r0[b"peers"], b"", "first peer must get no peers back")
        self.join(h, 1, left=0)
        r2 = self.join(h, 2, left=100)
        self.assertIsInstance(r2[b"peers"], bytes, "compact=1 must give a peer string")
        peers = st.reply_peers(r2)
        self.assertEqual(peers, {(src(0), 6000), (src(1), 6001)})
        self.assertEqual(r2[b"complete"], 1)
        self.assertEqual(r2[b"incomplete"], 2)

    def test_non_compact_has_dicts_without_peer_id(self):
        h = ih("noncompact")
        self.join(h, 0)
        # Leechers ask: a tracker may leave seeders out of a seeder's reply.
        r = self.join(h, 1, left=5, compact=0)
        self.assertIsInstance(r[b"peers"], list)
        self.assertEqual(len(r[b"peers"]), 1)
        p = r[b"peers"][0]
        self.assertEqual(p[b"ip"], src(0).encode())
        self.assertEqual(p[b"port"], 6000)
        # trackerd keeps 12 bytes per IPv4 peer and no peer ids, so dict
        # replies always read as if no_peer_id were set (clients ignore it).
        self.assertNotIn(b"peer id", p)
        r = self.join(h, 2, left=5, compact=0, extra=[("no_peer_id", 1)])
        for p in r[b"peers"]:
            self.assertNotIn(b"peer id", p)
        self.assertEqual(st.reply_peers(r), {(src(0), 6000), (src(1), 6001)})

    def test_reannounce_does_not_duplicate(self):
        h = ih("reannounce")
        for _ in range(3):
            self.join(h, 0, left=5)
        r = self.t.announce(h, st.peer_id(0), 6000, left=5, source=src(0))
        self.assertEqual((r[b"complete"], r[b"incomplete"]), (0, 1))
        r = self.join(h, 1)
        self.assertEqual(st.reply_peers(r), {(src(0), 6000)})

    def test_numwant(self):
        h = ih("numwant")
        for n in range(8):
            self.join(h, n, left=1)
        r = self.join(h, 20, numwant=3)
        self.assertEqual(len(st.reply_peers(r)), 3)
        r = self.join(h, 20, numwant=0)
        self.assertEqual(len(st.reply_peers(r)), 0)
        # numwant_max = 5 caps a greedy request and the default (50).
        r = self.join(h, 20, numwant=100000)
        self.assertEqual(len(st.reply_peers(r)), 5)
        r = self.join(h, 20)
        self.assertEqual(len(st.reply_peers(r)), 5)
        self.assertNotIn((src(20), 6020), st.reply_peers(r), "a peer must not get itself")

    def test_stopped_removes_peer(self):
        h = ih("stopped")
        self.join(h, 0, left=0)
        self.join(h, 1, left=9)
        r = self.t.announce(h, st.peer_id(0), 6000, left=0, event="stopped", source=src(0))
        self.assertNotIn(b"failure reason", r)
        r = self.join(h, 2, left=9)
        self.assertEqual(st.reply_peers(r), {(src(1), 6001)})
        self.assertEqual((r[b"complete"], r[b"incomplete"]), (0, 2))
        self.assertEqual(self.t.scrape([h])[h], (0, 0, 2))

    def test_completed_counts_once(self):
        h = ih("completed")
        self.join(h, 0, left=50)
        self.join(h, 1, left=50)
        self.assertEqual(self.t.scrape([h])[h], (0, 0, 2))
        for _ in range(3):
            self.t.announce(h, st.peer_id(0), 6000, left=0, event="completed", source=src(0))
        self.assertEqual(self.t.scrape([h])[h], (1, 1, 1))
        self.t.announce(h, st.peer_id(1), 6001, left=0, event="completed", source=src(1))
        self.assertEqual(self.t.scrape([h])[h], (2, 2, 0))
        # A regular re-announce of a seeder changes nothing.
        self.t.announce(h, st.peer_id(1), 6001, left=0, source=src(1))
        self.assertEqual(self.t.scrape([h])[h], (2, 2, 0))

    def test_seeder_leecher_counts(self):
        h = ih("counts")
        for n in range(3):
            self.join(h, n, left=0)
        for n in range(3, 7):
            self.join(h, n, left=1000)
        r = self.t.announce(h, st.peer_id(3), 6003, left=1000, source=src(3))
        self.assertEqual((r[b"complete"], r[b"incomplete"]), (3, 4))
        self.assertEqual(self.t.scrape([h])[h], (3, 0, 4))
        # A leecher that finishes without saying "completed" moves over.
        self.t.announce(h, st.peer_id(4), 6004, left=0, source=src(4))
        self.assertEqual(self.t.scrape([h])[h][0::2], (4, 3))

    def test_same_ip_two_ports_are_two_peers(self):
        h = ih("sameip")
        self.t.announce(h, st.peer_id(1), 7001, left=1, source=src(1))
        self.t.announce(h, st.peer_id(2), 7002, left=1, source=src(1))
        r = self.t.announce(h, st.peer_id(3), 7003, left=1, source=src(2))
        self.assertEqual(st.reply_peers(r), {(src(1), 7001), (src(1), 7002)})

    def test_swarms_are_separate(self):
        a, b = ih("swarm-a"), ih("swarm-b")
        self.join(a, 0)
        r = self.join(b, 1)
        self.assertEqual(st.reply_peers(r), set())
        self.assertEqual(self.t.scrape([a])[a], (1, 0, 0))


class Scrape(st.TestCase):
    def setUp(self):
        self.t = st.Trackerd()

    def tearDown(self):
        self.t.stop()

    def test_one_several_unknown(self):
        a, b, unknown = ih("scrape-a"), ih("scrape-b"), ih("scrape-unknown")
        self.t.announce(a, st.peer_id(1), 6001, left=0, source=src(1))
        self.t.announce(a, st.peer_id(2), 6002, left=3, source=src(2))
        self.t.announce(b, st.peer_id(3), 6003, left=3, source=src(3))
        self.assertEqual(self.t.scrape([a]), {a: (1, 0, 1)})
        got = self.t.scrape([a, b])
        self.assertEqual(got, {a: (1, 0, 1), b: (0, 0, 1)})
        # An unknown hash is either absent or all zeros, never an error.
        got = self.t.scrape([unknown, b])
        self.assertEqual(got[b], (0, 0, 1))
        self.assertIn(got.get(unknown, (0, 0, 0)), [(0, 0, 0)])
        # The same hash twice is harmless.
        self.assertEqual(self.t.scrape([a, a])[a], (1, 0, 1))
        # Many hashes asked in descending order: the reply's "files" dict
        # must still be canonical bencode (keys sorted), which scrape checks.
        many = sorted((ih("scrape-many-%d" % i) for i in range(20)), reverse=True)
        for n, h in enumerate(many):
            self.t.announce(h, st.peer_id(n), 6100 + n, left=n % 2, source=src(n))
        got = self.t.scrape(many)
        self.assertEqual(got, {h: (1 - n % 2, 0, n % 2) for n, h in enumerate(many)})

    def test_scrape_bad_hash_is_refused(self):
        r = self.t.get("/scrape?" + st.qs([("info_hash", b"short")]))
        if r.status == 200:
            self.assertIn(b"failure reason", r.bdecoded())
        else:
            self.assertGreaterEqual(r.status, 400)
        self.assertEqual(self.t.scrape([ih("x")]).get(ih("x"), (0, 0, 0)), (0, 0, 0))


class Ipv6(st.TestCase):
    def setUp(self):
        if not st.have_ipv6_loopback():
            st.skip("no IPv6 loopback (::1) on this machine")
        self.t = st.Trackerd(http_hosts=("127.0.0.1", "::1"))
        self.v6 = self.t.http_addrs[1]

    def tearDown(self):
        self.t.stop()

    def announce6(self, h, n, **kw):
        r = st.http_get(self.v6[0], self.v6[1],
                        "/announce?" + st.qs(st.announce_params(h, st.peer_id(n), 6000 + n,
                                                                **kw)))
        self.assertEqual(r.status, 200, r)
        return r.bdecoded()

    def test_peers6_compact_and_dict(self):
        h = ih("ipv6")
        self.announce6(h, 1, left=0)
        r = self.announce6(h, 2, left=5)
        self.assertNotIn(b"failure reason", r)
        self.assertIn(b"peers6", r, "an IPv6 peer must come back in peers6 (BEP 7)")
        self.assertEqual(st.parse_compact_peers(r[b"peers6"], socket.AF_INET6), [("::1", 6001)])
        self.assertEqual((r[b"complete"], r[b"incomplete"]), (1, 1))
        r = self.announce6(h, 3, left=5, compact=0)
        self.assertEqual(st.reply_peers(r), {("::1", 6001), ("::1", 6002)})
        # An IPv4 peer of the same swarm sees the IPv6 ones only in peers6,
        # never mangled into the 6-byte "peers".
        r = self.t.announce(h, st.peer_id(4), 6004, left=5, source="127.0.0.9")
        v4 = st.parse_compact_peers(r.get(b"peers", b""))
        self.assertEqual(v4, [])
        if b"peers6" in r:
            self.assertEqual(len(st.parse_compact_peers(r[b"peers6"], socket.AF_INET6)), 3)


if __name__ == "__main__":
    st.main()
