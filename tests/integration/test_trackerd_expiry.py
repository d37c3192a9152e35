"""trackerd forgets peers that stop announcing (peer_timeout)."""

import statest as st


def ih(tag):
    return st.hashlib.sha1(tag.encode()).digest()


class Expiry(st.TestCase):
    def test_silent_peers_expire(self):
        # The smallest timeout trackerd accepts is 10 s.
        t = st.Trackerd(announce_interval=10, min_interval=1, peer_timeout=10)
        h = ih("expiry")
        t.announce(h, st.peer_id(1), 6001, left=0, source="127.0.0.61")
        t.announce(h, st.peer_id(2), 6002, left=5, source="127.0.0.62")
        self.assertEqual(t.scrape([h])[h], (1, 0, 1))
        # Peer 3 keeps announcing; 1 and 2 go silent and must disappear.
        def gone():
            r = t.announce(h, st.peer_id(3), 6003, left=5, source="127.0.0.63")
            return not st.reply_peers(r) and t.scrape([h]).get(h, (0, 0, 0))[::2] == (0, 1)
        # A silent peer may live up to peer_timeout plus one sweep cycle (a
        # quarter of peer_timeout); 90 s only bounds the wait.
        st.wait_until(gone, 90, "silent peers to expire", interval=1)
        t.stop()


if __name__ == "__main__":
    st.main()
