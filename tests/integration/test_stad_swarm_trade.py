"""stad leechers trade pieces with each other on links that cost something
(issue 6): one origin and four leechers, each on a 20 Mbit/s link of its
own (statest.shapednet: network namespaces through a router, tc HTB).

Judged by counters, not by time: every leecher uploaded a good share of
the file to the others, and the origin sent fewer than two copies of it.
Before the fix every stad laid its pieces out in the same order, so all
leechers fetched the same pieces from the origin at the same time: one
leecher uploaded about two copies, the other three about a tenth each,
and the origin sent two copies or more.
"""

import os

from statest import interop_peers as ip
from statest.shapednet import ROUTER_ADDR, ShapedNet
import statest as st

NAME = "trade.bin"
SIZE = 8 * 1024 * 1024
LEECHERS = 4
RATE = 20  # Mbit/s, up and down, every link


class SwarmTrade(st.TestCase):
    def test_leechers_trade_and_the_origin_sends_under_two_copies(self):
        net = ShapedNet([(RATE, RATE)] * (1 + LEECHERS))
        tracker = st.Trackerd(http_hosts=(ROUTER_ADDR,), udp_hosts=(ROUTER_ADDR,),
                              netns=net.router, min_interval=1)
        url = tracker.url("/announce")
        origin = ip.Stad(url, net.hosts[0].addr, net.hosts[0].ns, name="origin",
                         share={NAME: SIZE}, seed=6, log_level="info")
        t = origin.wait_seeding(NAME, timeout=60)
        tfile = os.path.join(origin.state_dir, "torrents", t["info_hash"] + ".torrent")
        want = st.sha1_file(os.path.join(origin.share_dir, NAME))
        leechers = [ip.Stad(url, h.addr, h.ns, name="leech%d" % i, log_level="info")
                    for i, h in enumerate(net.hosts[1:])]
        for s in leechers:  # all at once, as a swarm starts
            with s.client() as c:
                kind, reply = c.call("REQUEST", {"target": tfile})
                self.assertEqual(kind, "OK", reply)
        for s in leechers:
            s.wait_seeding(NAME, timeout=120)

        sent = {s.name: s.torrent(NAME)["uploaded"] for s in leechers}
        origin_sent = origin.torrent(NAME)["uploaded"]
        for s in leechers:
            self.assertEqual(st.sha1_file(os.path.join(s.download_dir, NAME)), want, s.name)
        shares = ", ".join("%s %.2f" % (k, v / SIZE) for k, v in sorted(sent.items()))
        # Each leecher gets about a quarter of the file from the origin
        # and can pass it to three others: 0.75 copies when all goes well.
        for name, up in sent.items():
            self.assertGreaterEqual(up, SIZE / 4, "%s uploaded too little to the other "
                                    "leechers (copies of the file sent: %s)" % (name, shares))
        self.assertLess(origin_sent, 2 * SIZE, "the origin sent %.2f copies (leechers: %s)"
                        % (origin_sent / SIZE, shares))


if __name__ == "__main__":
    st.main()
