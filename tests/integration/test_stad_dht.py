"""stad's DHT node over real UDP on loopback, driven by a KRPC client:
it answers ping, find_node, get_peers and announce_peer (tokens bound to the
querier's address), keeps its node id across a restart, and survives
hostile senders with its memory bounded: malformed datagrams, a flood from
hundreds of source ports of one host (one budget of answers), and
announces for thousands of info-hashes (a bounded store)."""

import os
import time

import statest as st
from statest.krpc import KrpcClient, compact_peers, malformed_datagrams

IH = bytes.fromhex("0123456789abcdef0123456789abcdef01234567")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


# Sanitizer allocators keep freed memory in quarantine, so RSS says nothing
# about stad's own bounds there: growth is checked in plain builds, and the
# bounds themselves (answers, stored peers) in every build.
RSS_GROWTH_KIB = None if st.sanitized() else 8 * 1024


class StadDht(st.TestCase):
    def client(self, host="127.0.0.1"):
        c = KrpcClient(host)
        self.addCleanup(c.close)
        return c

    def assert_rss_bounded(self, s, before):
        if RSS_GROWTH_KIB is not None:
            self.assertLess(rss_kib(s.proc.pid) - before, RSS_GROWTH_KIB)

    def stad(self, **dht):
        conf = {"enabled": True}
        conf.update(dht)
        s = st.Stad("", dht=conf)
        self.to = (s.listen, s.port)
        return s

    def test_answers_and_keeps_its_id(self):
        s = self.stad()
        c = self.client()
        r = c.query(self.to, "ping")
        self.assertIsNotNone(r, "no answer to ping on UDP %s:%d" % self.to)
        self.assertEqual(r[b"y"], b"r", r)
        node_id = r[b"r"][b"id"]
        self.assertEqual(len(node_id), 20)
        # BEP 42: the answer says where it saw us.
        self.assertEqual(r[b"ip"], bytes([127, 0, 0, 1]) + c.addr[1].to_bytes(2, "big"))

        r = c.query(self.to, "find_node", target=os.urandom(20))
        self.assertEqual(r[b"y"], b"r", r)
        r = c.query(self.to, "get_peers", info_hash=IH)
        token = r[b"r"][b"token"]
        self.assertNotIn(b"values", r[b"r"])
        r = c.query(self.to, "announce_peer", info_hash=IH, port=7777, token=token)
        self.assertEqual(r[b"y"], b"r", r)
        # The token is bound to the address that got it.
        other = self.client("127.0.0.2")
        r = other.query(self.to, "announce_peer", info_hash=IH, port=7778, token=token)
        self.assertEqual(r[b"y"], b"e", r)
        self.assertEqual(r[b"e"][0], 203)
        r = other.query(self.to, "get_peers", info_hash=IH)
        self.assertEqual(compact_peers(r[b"r"][b"values"]), [("127.0.0.1", 7777)])
        r = other.query(self.to, "sample_infohashes", target=IH)
        self.assertEqual(r[b"e"][0], 204, "an unknown method gets 204: %r" % r)

        # stactl status: the node's health. Both clients queried it, so it
        # pinged them back: they answer nothing, and stay out of its table.
        d = s.ctl("status", json_out=True).json["dht"]
        self.assertEqual((d["nodes"], d["good_nodes"], d["stored_peers"]), (0, 0, 1), d)
        self.assertGreaterEqual(d["lookups"], 0)
        text = s.ctl("status").out
        self.assertIn("DHT: 0 nodes (0 good), ", text)
        self.assertIn("1 peer stored", text)

        s.stop()
        path = os.path.join(s.state_dir, "dht.state")
        self.assertTrue(os.path.exists(path), "no %s after a stop" % path)
        s.start()
        r = c.query(self.to, "ping")
        self.assertEqual(r[b"r"][b"id"], node_id, "the node id changed across a restart")

    def test_status_counts_nodes_that_answer(self):
        s = self.stad()
        c = self.client()
        c.query(self.to, "ping")
        # stad pings a stranger that queried it; an answer puts it in the table.
        q = None
        for _ in range(20):
            q = c.recv(0.2)
            if q is not None and q.get(b"y") == b"q":
                break
        self.assertIsNotNone(q, "stad did not ping back a node that queried it")
        self.assertEqual(q[b"q"], b"ping")
        c.sock.sendto(st.bencode({"t": q[b"t"], "y": "r", "r": {"id": c.id}}), self.to)
        d = st.wait_until(lambda: (lambda d: d if d["good_nodes"] == 1 else None)(
            s.ctl("status", json_out=True).json["dht"]), 5, "the node in stad's table")
        self.assertEqual(d["nodes"], 1)
        self.assertEqual(d["nodes6"], 0)
        self.assertIn("DHT: 1 node (1 good)", s.ctl("status").out)
        off = st.Stad("")
        self.assertNotIn("dht", off.ctl("status", json_out=True).json)
        self.assertNotIn("DHT:", off.ctl("status").out)

    def test_malformed_krpc_is_dropped(self):
        s = self.stad(answers_per_second=100000)
        c = self.client()
        before = rss_kib(s.proc.pid)
        errors = 0
        for d in malformed_datagrams() * 20:
            c.sock.sendto(d, self.to)
            for m in c.drain(0.002):
                if m.get(b"y") == b"e":
                    self.assertEqual(m[b"e"][0], 203, m)
                    errors += 1
                else:
                    self.assertEqual(m.get(b"y"), b"q", "answered a malformed datagram: %r" % m)
        # Queries with a readable tid got "203 protocol error".
        self.assertGreater(errors, 0)
        r = c.query(self.to, "ping")
        self.assertIsNotNone(r, "no answer after the malformed datagrams")
        self.assertEqual(r[b"y"], b"r")
        self.assertTrue(s.answers(), "stad's control socket stopped answering")
        self.assert_rss_bounded(s, before)

    def test_flood_from_many_ports(self):
        rate = 50
        s = self.stad(answers_per_second=rate)
        socks = [self.client() for _ in range(400)]
        before = rss_kib(s.proc.pid)
        t0 = time.monotonic()
        for c in socks:
            for _ in range(5):
                c.send(self.to, "ping", {})
        # Another host is answered meanwhile: the budget is per host.
        bystander = self.client("127.0.0.2")
        for _ in range(3):  # the flood may overflow the socket's buffer: retry
            r = bystander.query(self.to, "ping", timeout=1)
            if r is not None:
                break
        self.assertIsNotNone(r, "a second host got no answer during the flood")
        elapsed = time.monotonic() - t0
        answers = sum(len([m for m in c.drain(0.01) if m.get(b"y") == b"r"]) for c in socks)
        elapsed = time.monotonic() - t0 if answers else elapsed
        # One second's worth at once, then `rate` a second.
        allowed = rate * (1 + elapsed) + 5
        self.assertGreater(answers, 0)
        self.assertLessEqual(answers, allowed, "%d answers to 2000 queries from one host in "
                             "%.2f s (budget %d/s)" % (answers, elapsed, rate))
        self.assert_rss_bounded(s, before)
        time.sleep(1.1)
        self.assertIsNotNone(self.client().query(self.to, "ping"), "no answer after the flood")

    def test_store_is_bounded(self):
        s = self.stad(answers_per_second=100000, peers_per_torrent=5, max_stored_peers=200)
        c = self.client()
        token = c.query(self.to, "get_peers", info_hash=IH)[b"r"][b"token"]
        before = rss_kib(s.proc.pid)
        for port in range(20):
            self.assertEqual(c.query(self.to, "announce_peer", info_hash=IH, port=2000 + port,
                                     token=token)[b"y"], b"r")
        hashes = [os.urandom(20) for _ in range(3000)]
        for i, h in enumerate(hashes):
            c.send(self.to, "announce_peer", {"info_hash": h, "port": 1000 + i, "token": token})
            if i % 50 == 49:
                c.drain(0.005)
        c.drain(0.1)
        other = self.client("127.0.0.2")
        r = other.query(self.to, "get_peers", info_hash=IH)
        self.assertEqual(len(r[b"r"][b"values"]), 5, "peers kept per info-hash")
        stored = 0
        for h in hashes:
            r = other.query(self.to, "get_peers", info_hash=h)
            stored += len(r[b"r"].get(b"values", []))
        self.assertLessEqual(stored + 5, 200, "more peers stored than max_stored_peers")
        self.assertGreater(stored, 0)
        self.assert_rss_bounded(s, before)


if __name__ == "__main__":
    st.main()
