"""kill -9 of a downloading stad half-way, restart on the same state dir:
the verified pieces are kept and only the rest is downloaded again.

The seeder is btpeer (a Python BEP 3 peer) so that it can be slowed down to
catch the download half-way, and counts every byte it serves: an account
of the transfer independent of stad's own counters."""

import os

import statest as st
from statest.btpeer import BtPeer

SIZE = 8 * 1024 * 1024 + 12345
PIECE = 1 << 16                      # 4 blocks a piece: kills land mid-piece


class Resume(st.TestCase):
    def test_kill9_and_resume(self):
        tracker = st.Trackerd()
        src_dir = st.tempdir("resume-src-")
        data = st.make_file(os.path.join(src_dir, "resume.bin"), SIZE, seed=11)
        tor = st.make_torrent(data, announce=tracker.url("/announce"), piece_length=PIECE)
        tpath = tor.write(os.path.join(src_dir, "resume.bin.torrent"))
        seeder = BtPeer(tor, "127.0.0.7", data_path=data, rate=st.slack(2.5e6))
        seeder.announce(tracker)

        down = st.Stad(tracker.url("/announce"), name="down")
        r = down.ctl("request", "--detach", tpath)
        self.assertEqual(r.rc, 0, r)
        before = down.wait_torrent("resume.bin", lambda t: t["done"] > SIZE * 0.3, 30,
                                   "past 30%")
        down.kill9()
        self.assertLess(before["done"], SIZE * 0.8, "too late: the download was not caught "
                        "half-way (%d of %d bytes)" % (before["done"], SIZE))
        served_at_kill = seeder.bytes_served

        down.start()
        # The download goes on while the STATUS that ends the check is read:
        # only bytes served after that STATUS (counted from just after it)
        # are sure to be for pieces t0 does not count as done.
        served_at_t0 = {}

        def checked(t):
            served_at_t0["n"] = seeder.bytes_served
            return t["state"] != "checking"
        t0 = down.wait_torrent("resume.bin", checked, 20, "checked")
        # Still slow until t0 is read: unthrottled, the rest took 30 ms on
        # loopback and a poll could find it complete already.
        seeder.rate = None
        self.assertGreaterEqual(t0["done"], before["done"],
                                "verified pieces lost across kill -9: %d bytes done before, "
                                "%d after the restart" % (before["done"], t0["done"]))
        self.assertLess(t0["done"], SIZE)
        r = down.ctl("watch", "resume.bin", timeout=st.slack(60))
        self.assertEqual(r.rc, 0, r)
        t1 = down.wait_seeding("resume.bin")
        path = os.path.join(down.download_dir, "resume.bin")
        self.assertEqual(st.sha1_file(path), st.sha1_file(data))

        missing = SIZE - t0["done"]
        slack = 4 * PIECE    # blocks in flight when the pieces complete (end game)
        by_stad = t1["downloaded"] - t0["downloaded"]
        by_seeder = seeder.bytes_served - served_at_t0["n"]
        # Blocks of pieces still in flight when t0 was read were counted
        # before it: the lower bounds allow for them.
        self.assertGreaterEqual(by_stad, missing - slack)
        self.assertLessEqual(by_stad, missing + slack,
                             "after the restart stad downloaded %d bytes for %d missing"
                             % (by_stad, missing))
        self.assertGreaterEqual(seeder.bytes_served - served_at_kill, missing - slack)
        self.assertLessEqual(by_seeder, missing + slack + PIECE,
                             "after the restart the seeder served %d bytes for %d missing"
                             % (by_seeder, missing))


if __name__ == "__main__":
    st.main()
