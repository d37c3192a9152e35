"""stad daemons on distinct loopback addresses (--listen 127.0.0.x), as
peers on separate machines would be: the tracker must hand out the address
each one listens on, and they must reach each other through it; and stad
on IPv6 only."""

import os

import statest as st

SIZE = 2 * 1024 * 1024 + 4321


class Addresses(st.TestCase):
    def test_peers_on_distinct_addresses(self):
        tracker = st.Trackerd()
        ann = tracker.url("/announce")
        seeders = [st.Stad(ann, listen="127.0.0.%d" % (2 + i), name="seed%d" % i,
                           share={"spread.bin": SIZE}, seed=5) for i in range(2)]
        for s in seeders:
            s.wait_seeding("spread.bin")
        ih = bytes.fromhex(seeders[0].torrent("spread.bin")["info_hash"])
        # Seeding comes before the first announce is out: wait for both.
        st.wait_until(lambda: tracker.scrape([ih])[ih][0] == 2, st.slack(10),
                      "both seeders in the scrape")
        # What any client learns from the tracker: each seeder at the
        # address and port it listens on.
        reply = tracker.announce(ih, st.peer_id(99), 6881, left=SIZE, source="127.0.0.99")
        got = st.reply_peers(reply)
        want = {s.addr for s in seeders}
        self.assertEqual(got, want, "the tracker hands out %s for seeders listening on %s: "
                         "stad's announces do not come from its listen address"
                         % (sorted(got), sorted(want)))

        down = st.Stad(ann, listen="127.0.0.4", name="down")
        r = down.ctl("request", "--detach", "spread.bin")
        self.assertEqual(r.rc, 0, r)
        t = down.wait_torrent("spread.bin", lambda t: t["state"] == "seeding", 15, "complete")
        self.assertEqual(t["done"], SIZE)
        self.assertEqual(st.sha1_file(os.path.join(down.download_dir, "spread.bin")),
                         st.sha1_file(os.path.join(seeders[0].share_dir, "spread.bin")))


class Ipv6(st.TestCase):
    def test_download_over_ipv6(self):
        """A tracker and two stads on ::1 only: the announces go over IPv6,
        the tracker hands the seeder out in peers6, and the download runs
        over an IPv6 peer connection."""
        if not st.have_ipv6_loopback():
            st.skip("no IPv6 loopback (::1) on this machine")
        tracker = st.Trackerd(http_hosts=("::1",), udp_hosts=("::1",))
        ann = tracker.url("/announce")
        seed = st.Stad(ann, listen="::1", name="seed6", share={"six.bin": SIZE}, seed=6)
        seed.wait_seeding("six.bin")
        ih = bytes.fromhex(seed.torrent("six.bin")["info_hash"])
        reply = tracker.announce(ih, st.peer_id(98), 6881, left=SIZE, source="::1")
        self.assertIn(seed.addr, st.reply_peers(reply))

        down = st.Stad(ann, listen="::1", name="down6")
        rec = st.PeerRecorder(down, "six.bin")
        r = down.ctl("request", "six.bin", timeout=st.slack(60))
        peers = rec.stop()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(st.sha1_file(os.path.join(down.download_dir, "six.bin")),
                         st.sha1_file(os.path.join(seed.share_dir, "six.bin")))
        # The seed listens on ::1 only, so what it uploaded went over IPv6;
        # the recorder may miss a download this short, but any peer it saw
        # sending blocks is the seed at its IPv6 address.
        self.assertGreaterEqual(seed.torrent("six.bin")["uploaded"], SIZE)
        served = {a: m for a, m in peers.items() if m.get("blocks", 0) > 0}
        self.assertLessEqual(set(served), {st.fmt_addr(*seed.addr)}, peers)


if __name__ == "__main__":
    st.main()
