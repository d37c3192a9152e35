"""Magnet links between stad daemons on loopback (BEP 9 over BEP 10): a
stad with only the link fetches the info dict from a stad seeder, checks
it against the info-hash, saves the .torrent and downloads; restarted, it
does not fetch again. Hostile peers (tests/lib/statest/btpeer.py) are in
test_stad_hostile_ext.py."""

import json
import os

import statest as st

SIZE = 3 * 1024 * 1024 + 4321


class Magnet(st.TestCase):
    def setUp(self):
        self.tracker = st.Trackerd()
        self.announce = self.tracker.url("/announce")
        self.seed = st.Stad(self.announce, name="seed", share={"m.bin": SIZE}, seed=3)
        self.seed.wait_seeding("m.bin")
        self.hex = self.seed.torrent("m.bin")["info_hash"]
        self.want = st.sha1_file(os.path.join(self.seed.share_dir, "m.bin"))

    def check_download(self, d, name="m.bin"):
        path = os.path.join(d.download_dir, name)
        self.assertEqual(os.path.getsize(path), SIZE)
        self.assertEqual(st.sha1_file(path), self.want, "%s: checksum differs" % d.name)

    def catalog_magnet(self):
        """The magnet link of m.bin in the tracker's JSON catalog."""
        def listed():
            r = self.tracker.get("/catalog?format=json")
            if r.status != 200:
                return None
            entries = [e for e in json.loads(r.body)["torrents"] if e["name"] == "m.bin"]
            return entries[0]["magnet"] if entries else None
        return st.wait_until(listed, st.slack(20), "m.bin in the catalog")

    def test_catalog_magnet_then_restart(self):
        """The catalog's magnet link for the file (which names the tracker
        as tr) is all the downloader has; after a restart the torrent is
        known without fetching (its .torrent is in state_dir/torrents)."""
        link = self.catalog_magnet()
        host = self.announce.split("/")[2]
        self.assertEqual(link, "magnet:?xt=urn:btih:%s&dn=m.bin&tr=http%%3A%%2F%%2F%s%%2Fannounce"
                         % (self.hex, host.replace(":", "%3A")))
        # stactl gives the same link (stad's tracker as tr), for update and search.
        for args in (("update", "--magnet"), ("search", "m.bin", "-m")):
            r = self.seed.ctl(*args)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(r.out.splitlines(), [link], r)
        down = st.Stad("", name="down")
        r = down.ctl("request", link, timeout=st.slack(60), json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.check_download(down)
        saved = os.path.join(down.state_dir, "torrents", self.hex + ".torrent")
        self.assertTrue(os.path.exists(saved))
        self.assertFalse(os.path.exists(os.path.join(down.state_dir, "magnets",
                                                     self.hex + ".magnet")))
        self.assertIn("metadata fetched from", down.log())
        down.restart()
        t = down.wait_torrent("m.bin", lambda t: t["state"] == "seeding", 20, "seeding again")
        self.assertEqual(t["done"], SIZE)
        self.assertEqual(down.log().count("metadata fetched from"), 1)

    def test_magnet_by_xpe_base32_no_tracker(self):
        """No tracker anywhere on the downloader: the x.pe address is the
        only way to the seed; the hash is given in base32."""
        import base64
        b32 = base64.b32encode(bytes.fromhex(self.hex)).decode()
        down = st.Stad("", name="down")
        link = "magnet:?xt=urn:btih:%s&x.pe=%s" % (b32, st.fmt_addr(*self.seed.addr))
        r = down.ctl("request", link, timeout=st.slack(60))
        self.assertEqual(r.rc, 0, r)
        self.check_download(down)

    def test_restart_while_fetching_goes_on(self):
        """A link whose peers are not there yet survives a restart (it is
        kept in state_dir/magnets) and completes once a peer is known."""
        down = st.Stad("", name="down")
        link = "magnet:?xt=urn:btih:%s&dn=m.bin" % self.hex
        r = down.ctl("request", link, "--detach", timeout=st.slack(20))
        self.assertEqual(r.rc, 0, r)
        t = down.torrent("m.bin")
        self.assertEqual(t["state"], "metadata")
        self.assertEqual(t["size"], 0)
        down.restart()
        down.wait_torrent("m.bin", lambda t: t["state"] == "metadata", 10, "fetching again")
        # Now a tracker: the seed is found through it.
        down.stop()
        down.write_config(tracker=self.announce)
        down.start()
        down.wait_torrent("m.bin", lambda t: t["state"] == "seeding", st.slack(60),
                          "downloaded")
        self.check_download(down)

    def test_bad_links_say_what_is_wrong(self):
        down = st.Stad("", name="down")
        r = down.ctl("request", "magnet:?xt=urn:btih:1234&dn=x")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("is not 40 hex or 32 base32 digits", r.err)
        r = down.ctl("request", "magnet:?dn=x")
        self.assertIn("no info-hash", r.err)


if __name__ == "__main__":
    st.main()
