"""Peers that serve garbage. stad checks every piece: a peer that sent a
bad piece is counted a hash failure (STATUS peer_list hash_fails), a peer
that keeps doing it is banned, and the download completes from the
others.

The swarm is made of btpeer (Python BEP 3) seeders so that they can be
slowed down: the download lasts about a second and STATUS can be watched
while it runs. The .torrent is stad's own, published to the catalog by a
stad that then leaves."""

import os
import re

import statest as st
from statest.btpeer import BtPeer, dial

SIZE = 6 * 1024 * 1024 + 777
HONEST, LIAR, EVIL = "127.0.0.8", "127.0.0.9", "127.0.0.11"


def at(addr):
    return lambda a: a.startswith(addr + ":")


class EvilPeers(st.TestCase):
    def test_garbage_peer_is_banned(self):
        tracker = st.Trackerd()
        maker = st.Stad(tracker.url("/announce"), name="maker", share={"bait.bin": SIZE})
        maker.wait_seeding("bait.bin")
        st.wait_until(lambda: b"bait.bin" in tracker.get("/catalog?format=json").body,
                      st.slack(20), "bait.bin in the catalog")
        data = os.path.join(maker.share_dir, "bait.bin")
        ih = maker.torrent("bait.bin")["info_hash"]
        r = tracker.get("/catalog/%s.torrent" % ih)
        self.assertEqual(r.status, 200)
        tor = st.Torrent(r.body)
        maker.stop()

        rate = st.slack(3e6)
        honest = BtPeer(tor, HONEST, data_path=data, rate=rate, name="honest")
        liar = BtPeer(tor, LIAR, data_path=data, lies=1, rate=rate, name="liar")
        evil = BtPeer(tor, EVIL, garbage=True, name="evil")
        for p in (honest, liar, evil):
            p.announce(tracker)

        down = st.Stad(tracker.url("/announce"), name="down")
        rec = st.PeerRecorder(down, "bait.bin")
        r = down.ctl("request", "bait.bin", timeout=st.slack(60))
        rec.stop()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(st.sha1_file(os.path.join(down.download_dir, "bait.bin")),
                         st.sha1_file(data))

        def seen(addr):
            m = [v for a, v in rec.peers.items() if at(addr)(a)]
            self.assertTrue(m, "%s never showed in STATUS: %r" % (addr, rec.peers))
            return m[0]
        log = down.log()
        self.assertRegex(log, r"piece \d+ failed its hash check")

        # The liar: one bad piece, counted, not banned, then useful.
        self.assertEqual(liar.garbage_sent, 1)
        self.assertEqual(seen(LIAR)["hash_fails"], 1, rec.peers)
        self.assertNotIn("banning %s" % LIAR, log)
        self.assertGreater(seen(LIAR)["blocks"], 1, rec.peers)
        self.assertEqual(seen(HONEST)["hash_fails"], 0, rec.peers)
        self.assertGreater(seen(HONEST)["blocks"], 0, rec.peers)

        # The garbage peer: asked, caught, banned, disconnected.
        self.assertGreater(evil.requests, 0, "stad never asked the evil peer for a block")
        self.assertRegex(log, r"banning %s:%d" % (re.escape(EVIL), evil.port))
        self.assertGreaterEqual(evil.closed_by_remote, 1, "stad kept the evil peer connected")
        # It may come and go between two STATUS polls; if it was listed,
        # it was gone before the download completed.
        for m in [v for a, v in rec.peers.items() if at(EVIL)(a)]:
            self.assertLess(m["last_done"], SIZE,
                            "the banned peer was listed until the download completed")
        self.assertFalse([p for p in down.torrent("bait.bin")["peer_list"] if at(EVIL)(p["addr"])])

        # Banned for good: not dialled again after a re-announce, its own
        # connections are refused, while another address gets a handshake.
        accepted = evil.accepted
        evil.announce(tracker)
        self.assertEqual(down.ctl("start").rc, 0)
        self.assertIsNone(dial(down.listen, down.port, tor.info_hash, EVIL),
                          "a banned address got a handshake")
        self.assertIsNotNone(dial(down.listen, down.port, tor.info_hash, "127.0.0.12"),
                             "an innocent address got no handshake")
        self.assertEqual(evil.accepted, accepted, "stad dialled the banned peer again")


if __name__ == "__main__":
    st.main()
