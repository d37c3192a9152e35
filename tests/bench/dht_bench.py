"""stad's idle cost with a loaded DHT node, beside the same stad with the
DHT off, in one run, in a network namespace of the benchmark's own.
Run by dht_bench.sh (which sets STA_BUILD_DIR and PYTHONPATH).

Phase "off": stad with the DHT off, no torrents, idle for --idle seconds.
Phase "on": stad with the DHT on, joined to a crowd of --crowd small DHT
nodes (tests/bench/dht_swarm.py: they answer stad's queries and each pings
it once, so that stad pings them back and fills its routing table as far
as its buckets allow; --fill seconds for that), then --stored peers
announced to it (announce_peer for 50 info-hashes from one client, the
store's limits raised to hold them), then idle for --idle seconds while it
keeps its table (pings, refreshes, token rotation). The table's size is
read from the state file stad writes at its stop.
Measured over each idle span: stad's CPU seconds (user + sys, all threads)
and its memory (VmRSS and RssAnon at the end). Each phase runs --runs
times, alternating.
"""

import argparse
import os
import statistics
import sys
import time

from statest import interop_peers as ip
from statest.krpc import KrpcClient
import statest as st

STAD, CLIENT = "198.18.0.1", "198.18.0.2"
CROWD_PORTS = 4
HASHES = 50


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def crowd_addrs(n):
    return ["198.18.%d.%d" % (1 + i // 250, 1 + i % 250) for i in range((n + CROWD_PORTS - 1)
                                                                        // CROWD_PORTS)]


def announce_many(to, total):
    """From CLIENT: announce_peer `total` peers (ports) over HASHES
    info-hashes; returns how many were answered with a response."""
    c = KrpcClient(CLIENT)
    token = c.query(to, "get_peers", info_hash=b"\x11" * 20)[b"r"][b"token"]
    ok = 0
    for i in range(total):
        ih = bytes([i % HASHES]) * 20
        c.send(to, "announce_peer", {"info_hash": ih, "port": 1024 + i, "token": token})
        if i % 100 == 99:
            ok += sum(1 for m in c.drain(0.01) if m.get(b"y") == b"r")
    ok += sum(1 for m in c.drain(0.3) if m.get(b"y") == b"r")
    c.close()
    return ok


class Bench:
    def __init__(self, a):
        self.a = a
        self.addrs = crowd_addrs(a.crowd)
        self.ns = st.Netns((STAD, CLIENT))
        log("adding %d addresses for the crowd" % len(self.addrs))
        for addr in self.addrs:
            self.ns.add_addr(addr)
        self.logdir = st.tempdir("dht-bench-")

    def saved_nodes(self, s):
        """Nodes in the routing table stad saved at its stop (dht.state)."""
        with open(os.path.join(s.state_dir, "dht.state"), "rb") as f:
            d = st.bdecode(f.read(), strict=False)
        return len(d.get(b"nodes", b"")) // 26 + len(d.get(b"nodes6", b"")) // 38

    def idle(self, s, what):
        time.sleep(5)  # settle: start-up work is not idle
        cpu0 = ip.cpu_seconds(s.pid)
        time.sleep(self.a.idle)
        cpu = ip.cpu_seconds(s.pid) - cpu0
        mem = ip.mem_kib(s.pid)
        log("%-3s idle %ds: CPU %.3f s (%.3f%% of a core), RSS %.1f MiB, anon %.1f MiB"
            % (what, self.a.idle, cpu, 100 * cpu / self.a.idle, mem["VmRSS"] / 1024,
               mem["RssAnon"] / 1024))
        return [cpu, mem["VmRSS"], mem["RssAnon"], ""]

    def phase_off(self):
        s = ip.Stad("", STAD, self.ns, name="stad-off", log_level="info")
        r = self.idle(s, "off")
        s.stop()
        return r

    def phase_on(self):
        s = ip.Stad("", STAD, self.ns, name="stad-on", log_level="info",
                    dht={"enabled": True, "answers_per_second": 100000,
                         "peers_per_torrent": self.a.stored, "max_stored_peers": self.a.stored,
                         "bootstrap": []})
        crowd = st.Proc([sys.executable, os.path.join(os.path.dirname(__file__), "dht_swarm.py"),
                         "%s:%d" % (STAD, s.port), str(CROWD_PORTS)] + self.addrs,
                        "dht-crowd", self.logdir, netns=self.ns)
        st.wait_until(lambda: "READY" in crowd.log(), 60, "the crowd to bind its sockets")
        time.sleep(self.a.fill)  # the crowd pings stad, stad pings back and fills its table
        got = self.ns.socket_call(announce_many, (STAD, s.port), self.a.stored)
        log("announced %d peers, %d answered" % (self.a.stored, got))
        r = self.idle(s, "on")
        crowd.stop(expect_rc=None)
        s.stop()
        r[3] = "%d nodes in its table, %d peers stored" % (self.saved_nodes(s), got)
        log("on: " + r[3])
        return r

    def run(self):
        rows = {"off": [], "on": []}
        for i in range(self.a.runs):
            rows["off"].append(self.phase_off())
            rows["on"].append(self.phase_on())
        print()
        print("stad idle for %d s, median of %d run(s); DHT crowd of %d nodes, %d stored peers"
              % (self.a.idle, self.a.runs, len(self.addrs) * CROWD_PORTS, self.a.stored))
        print("%-8s %10s %10s %10s %10s  %s" % ("DHT", "CPU s", "% core", "RSS MiB",
                                               "anon MiB", "DHT entries (last run)"))
        for what, rs in rows.items():
            cpu = statistics.median(r[0] for r in rs)
            print("%-8s %10.3f %10.3f %10.1f %10.1f  %s" % (
                what, cpu, 100 * cpu / self.a.idle, statistics.median(r[1] for r in rs) / 1024,
                statistics.median(r[2] for r in rs) / 1024, rs[-1][3]))
            print("%-8s each run: CPU %s" % ("", ", ".join("%.3f" % r[0] for r in rs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--idle", type=int, default=60, help="seconds measured per phase")
    ap.add_argument("--crowd", type=int, default=1000, help="DHT nodes around stad")
    ap.add_argument("--stored", type=int, default=5000, help="peers announced to stad")
    ap.add_argument("--fill", type=int, default=30,
                    help="seconds the crowd has to fill stad's table before the announces")
    a = ap.parse_args()
    try:
        Bench(a).run()
    except st.Skip as e:
        print("SKIP: %s" % e)
        return st.SKIP
    finally:
        st.run_cleanups()
    return 0


if __name__ == "__main__":
    sys.exit(main())
