"""Whole swarms on shaped links: stad, libtorrent and aria2 side by side.
Run by swarm_bench.sh (which sets STA_BUILD_DIR and PYTHONPATH); run with
/usr/bin/python3 (python3-libtorrent).

N hosts, each in a network namespace of its own, joined through a router
namespace by veth pairs; each host's upload and download shaped with tc
HTB (statest.shapednet; no added delay: this kernel has no sch_netem).
The shaping is checked with iperf3 first and the check printed.

A swarm is one origin seeder (host 0) and N-1 leechers of one client,
through trackerd (in the router namespace). The leechers start at once:
stad daemons are started first and then all handed the torrent within a
few milliseconds; libtorrent peers (tests/interop/lt_peer.py --go) wait,
session up, for a go file; aria2 starts with its process. A leecher that
completes stays and seeds. The figure is the time from the start until the
last leecher is complete, against the lower bound of the topology (Kumar
and Ross):

    T_min = max(F / U_origin, F / D_min, (N-1) F / (U_origin + sum of U))

with the links' nominal rates (TCP/IP headers make the goodput 95.6% of
those, so even a perfect swarm would measure 1.05 T_min). origin/F is how
many copies of the file the origin uploaded; leechers/F what the leechers
uploaded to each other; wasted/F what the leechers received and dropped
(duplicates: stad's STATUS "wasted", libtorrent's total_redundant_bytes;
aria2 does not say). aria2 leechers run with a libtorrent origin.

Rounds are round-robin (each client once per round); a fresh set of
processes and a restarted tracker for every swarm. Every download is
checked against the file's SHA-1.

The .torrent is the one stad makes when it shares the file (so a stad
origin seeds a torrent it created), used by all three clients.
"""

import argparse
import os
import shutil
import statistics
import sys
import time

from statest import interop_peers as ip
from statest.shapednet import ROUTER_ADDR, ShapedNet, mbit
import statest as st

MIB = 1 << 20
NAME = "swarm.bin"
PORT = 6881
CLIENTS = ("stad", "libtorrent", "aria2")

# name: hosts (origin + leechers), file size, (up, down) Mbit/s of the
# origin's link and of every leecher's.
SCENARIOS = {
    "all100": dict(hosts=12, size=128 * MIB, origin=(100, 100), peer=(100, 100),
                   what="128 MiB, all links 100 Mbit/s"),
    "origin20": dict(hosts=12, size=64 * MIB, origin=(20, 20), peer=(100, 100),
                     what="64 MiB, origin 20 Mbit/s, peers 100"),
    "peers20": dict(hosts=12, size=64 * MIB, origin=(100, 100), peer=(20, 100),
                    what="64 MiB, peers 20 up / 100 down, origin 100"),
}
# --quick: 6 hosts and a quarter of the data.
QUICK = dict(hosts=6, size_div=4)


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def t_min(sc):
    f, n = sc["size"], sc["hosts"]
    u0, up, down = mbit(sc["origin"][0]), mbit(sc["peer"][0]), mbit(sc["peer"][1])
    return max(f / u0, f / down, (n - 1) * f / (u0 + (n - 1) * up))


class Run:
    """One swarm's outcome: completion times (s from the start), bytes the
    origin and the leechers uploaded, bytes the leechers received and
    dropped (wasted: duplicates; None where the client does not say), the
    leechers' CPU seconds."""

    def __init__(self, ends, origin_up, leech_up, wasted, cpu):
        self.ends, self.origin_up, self.leech_up = ends, origin_up, leech_up
        self.wasted, self.cpu = wasted, cpu

    @property
    def wall(self):
        return max(self.ends)


class Bench:
    def __init__(self, a, sc_name):
        self.a = a
        self.sc_name = sc_name
        self.sc = dict(SCENARIOS[sc_name])
        if a.quick:
            self.sc["hosts"] = QUICK["hosts"]
            self.sc["size"] //= QUICK["size_div"]
        if a.hosts:
            self.sc["hosts"] = a.hosts
        n = self.sc["hosts"]
        self.net = ShapedNet([self.sc["origin"]] + [self.sc["peer"]] * (n - 1))
        self.dir = st.tempdir("swarm-bench-")
        self.logdir = os.path.join(self.dir, "logs")
        os.makedirs(self.logdir)
        self.tracker = st.Trackerd(http_hosts=(ROUTER_ADDR,), udp_hosts=(ROUTER_ADDR,),
                                   netns=self.net.router, announce_interval=30,
                                   min_interval=1, log_level="info")
        self.url = self.tracker.url("/announce")
        self.share = os.path.join(self.dir, "share")
        os.makedirs(self.share)
        self.path = os.path.join(self.share, NAME)
        with open(self.path, "wb") as f:
            f.write(os.urandom(self.sc["size"]))
        self.want = st.sha1_file(self.path)
        self.tfile = os.path.join(self.dir, "swarm.torrent")
        self.serial = 0

    def stad_options(self):
        return dict({"log_level": "info", "max_peers_per_torrent": 80}, **self.a.stad_options)

    def check_links(self):
        # Origin to a leecher and back, and leecher to leecher: each
        # direction crosses one shaped uplink and one shaped downlink.
        return self.net.check([(0, 1), (1, 0), (1, 2)])

    def make_torrent(self):
        """The torrent stad makes when it shares the file."""
        s = ip.Stad(self.url, self.net.hosts[0].addr, self.net.hosts[0].ns, name="maker",
                    share_dir=self.share, **self.stad_options())
        t = s.wait_seeding(NAME, timeout=120)
        shutil.copy(os.path.join(s.state_dir, "torrents", t["info_hash"] + ".torrent"),
                    self.tfile)
        s.stop(expect_rc=None)

    def fresh_dir(self, what):
        self.serial += 1
        d = os.path.join(self.dir, "%s-%d" % (what, self.serial))
        os.makedirs(d)
        return d

    def scrape_complete(self):
        h, p = self.tracker.http
        ih = st.Torrent(open(self.tfile, "rb").read()).info_hash

        def ask():
            r = st.http_get(h, p, "/scrape?" + st.qs([("info_hash", ih)]))
            return st.bdecode(r.body).get(b"files", {}).get(ih, {}).get(b"complete", 0)
        return self.net.router.socket_call(ask)

    # ------------------------------------------------------------ origins

    def origin(self, kind):
        """Starts the origin on host 0 and waits until the tracker lists it
        as a seeder. Returns (stop function returning bytes uploaded)."""
        host = self.net.hosts[0]
        if kind == "stad":
            s = ip.Stad(self.url, host.addr, host.ns, name="stad-origin-%d" % self.serial,
                        share_dir=self.share, **self.stad_options())
            s.wait_seeding(NAME, timeout=120)

            def stop():
                up = s.torrent(NAME)["uploaded"]
                s.stop(expect_rc=None)
                return up
        else:
            data = self.fresh_dir("lt-origin")
            os.link(self.path, os.path.join(data, NAME))
            proc = ip.lt_seed(self.tfile, data, host.addr, PORT, self.logdir, 24 * 3600,
                              netns=host.ns, name="lt-origin-%d" % self.serial)
            st.wait_until(lambda: "SEEDING" in proc.log() or not proc.running(), 120,
                          "the libtorrent origin to seed")

            def stop():
                proc.stop(sig=15, expect_rc=None, timeout=20)
                return lt_counter(proc, "up")
        st.wait_until(lambda: self.scrape_complete() >= 1, 60, "the origin to be listed", 0.1)
        return stop

    # ------------------------------------------------------------ leechers

    def leechers(self, kind):
        """Starts a leecher on every host but 0, all at once. Returns
        (t0, [poll() -> completion monotonic time or None], [cpu() ->
        seconds], stop() -> leechers' upload bytes, [data paths])."""
        hosts = self.net.hosts[1:]
        if kind == "stad":
            return self.stad_leechers(hosts)
        polls, cpus, paths, stops = [], [], [], []
        go = os.path.join(self.dir, "go-%d" % self.serial)
        procs = []
        for h in hosts:
            out = self.fresh_dir("%s-leech" % kind)
            name = os.path.basename(out)
            paths.append(os.path.join(out, NAME))
            if kind == "libtorrent":
                py = st.require_libtorrent()
                proc = st.Proc([py, ip.LT_PEER, "leech", self.tfile, out, h.addr, str(PORT),
                                "--timeout", "3600", "--stay", "--go", go], name, self.logdir,
                               netns=h.ns)
                polls.append(log_marker(proc, "COMPLETE"))
            else:
                marker = os.path.join(out, "complete")
                hook = os.path.join(out, "on-complete.sh")
                with open(hook, "w") as f:
                    f.write("#!/bin/sh\ntouch '%s'\n" % marker)
                os.chmod(hook, 0o755)
                proc = st.Proc(ip.aria2_argv(h.addr, PORT, [
                    "--seed-ratio=0.0", "--file-allocation=falloc",
                    "--on-bt-download-complete=" + hook, "--dir", out, self.tfile]),
                    name, self.logdir, netns=h.ns)
                polls.append(file_marker(marker))
            procs.append(proc)
            cpus.append(lambda pid=proc.pid: ip.cpu_seconds(pid) or 0.0)
        if kind == "libtorrent":
            st.wait_until(lambda: all("READY" in p.log() for p in procs), 120,
                          "libtorrent leechers to be ready", 0.05)
        t0 = time.monotonic()
        if kind == "libtorrent":
            open(go, "w").close()

        def stop():
            up, waste = 0, 0
            for p in procs:
                p.stop(sig=15, expect_rc=None, timeout=20)
                if kind == "libtorrent":
                    up += lt_counter(p, "up")
                    waste += lt_counter(p, "waste")
            return up, waste if kind == "libtorrent" else None
        return t0, polls, cpus, stop, paths, procs

    def stad_leechers(self, hosts):
        daemons = [ip.Stad(self.url, h.addr, h.ns, name="stad-leech-%d-%d" % (self.serial, i),
                           **self.stad_options()) for i, h in enumerate(hosts)]
        clients = [d.client() for d in daemons]
        t0 = time.monotonic()
        for c in clients:
            kind, reply = c.call("REQUEST", {"target": os.path.abspath(self.tfile)})
            if kind != "OK":
                raise AssertionError("REQUEST failed: %r" % reply)

        def poller(c):
            def poll():
                for t in c.status():
                    if t.get("name") == NAME and t.get("state") == "seeding":
                        return time.monotonic()
                return None
            return poll

        def stop():
            up, waste = 0, 0
            for c, d in zip(clients, daemons):
                for t in c.status():
                    if t.get("name") == NAME:
                        up += t["uploaded"]
                        waste += t.get("wasted", 0)
                c.close()
                d.stop(expect_rc=None)
            return up, waste
        return t0, [poller(c) for c in clients], \
            [lambda pid=d.pid: ip.cpu_seconds(pid) or 0.0 for d in daemons], stop, \
            [os.path.join(d.download_dir, NAME) for d in daemons], [d.proc for d in daemons]

    # ------------------------------------------------------------ one swarm

    def swarm(self, kind):
        self.serial += 1
        self.tracker.restart()  # a clean swarm table
        stop_origin = self.origin("libtorrent" if kind == "aria2" else kind)
        t0, polls, cpus, stop, paths, procs = self.leechers(kind)
        ends = [None] * len(polls)
        cpu = [0.0] * len(polls)
        timeout = 20 * t_min(self.sc) + 120

        def all_done():
            for i, poll in enumerate(polls):
                cpu[i] = cpus[i]() or cpu[i]
                if ends[i] is None:
                    t = poll()
                    if t is not None:
                        ends[i] = t - t0
                if not procs[i].running():
                    procs[i].dump_log()
                    raise AssertionError("%s leecher %d exited" % (kind, i))
            return all(e is not None for e in ends)
        try:
            st.wait_until(all_done, timeout, "the %s swarm to complete" % kind, 0.05)
        finally:
            leech_up, wasted = stop()
            origin_up = stop_origin()
        for p, proc in zip(paths, procs):
            got = st.sha1_file(p) if os.path.exists(p) else "(missing)"
            if got != self.want:
                proc.dump_log()
                raise AssertionError("%s: SHA-1 %s, want %s" % (p, got, self.want))
            shutil.rmtree(os.path.dirname(p), ignore_errors=True) if kind != "stad" \
                else os.unlink(p)
        r = Run(ends, origin_up, leech_up, wasted, sum(cpu))
        f = self.sc["size"]
        log("%-10s %-10s last complete %6.2f s = %.2fx T_min (first %.2f s), origin sent "
            "%.2f copies, leechers %.2f, wasted %s, leechers' CPU %.1f s" % (
                self.sc_name, kind, r.wall, r.wall / t_min(self.sc), min(ends),
                origin_up / f, leech_up / f,
                "-" if wasted is None else "%.3f" % (wasted / f), r.cpu))
        return r

    def run(self):
        sc = self.sc
        log("scenario %s: %s; %d hosts, %d MiB, origin %g/%g Mbit/s up/down, leechers "
            "%g/%g; T_min %.2f s" % (self.sc_name, sc["what"], sc["hosts"], sc["size"] >> 20,
                                     sc["origin"][0], sc["origin"][1], sc["peer"][0],
                                     sc["peer"][1], t_min(sc)))
        checks = self.check_links()
        for line in checks:
            log(line)
        self.make_torrent()
        res = {}
        for _ in range(self.a.rounds):
            for kind in self.a.clients:
                res.setdefault(kind, []).append(self.swarm(kind))
        return checks, res


def log_marker(proc, text):
    def poll():
        return time.monotonic() if text in proc.log() else None
    return poll


def file_marker(path):
    def poll():
        return time.monotonic() if os.path.exists(path) else None
    return poll


def lt_counter(proc, name):
    """A counter (up=, waste=) of lt_peer's last status line."""
    v = 0
    for line in proc.log().splitlines():
        for field in line.split():
            if field.startswith(name + "="):
                v = int(field[len(name) + 1:])
    return v


def spread(xs, fmt):
    m = statistics.median(xs)
    if len(xs) == 1:
        return fmt % m
    return (fmt + " (" + fmt + "-" + fmt + ")") % (m, min(xs), max(xs))


def report(a, all_res, loads):
    print()
    print("swarm benchmark: median (min-max) of %d round(s); load average %s at start, %s at "
          "end; %d CPUs; stad from %s" % (a.rounds, loads[0], loads[1], os.cpu_count(),
                                          st.build_dir()))
    for sc_name, (sc, checks, res) in all_res.items():
        tm = t_min(sc)
        print()
        print("%s: %s; %d hosts, %d MiB; T_min %.2f s" % (sc_name, sc["what"], sc["hosts"],
                                                         sc["size"] >> 20, tm))
        for line in checks:
            print("  " + line)
        hdr = "  %-22s %-24s %-22s %-20s %-20s %-20s %s" % (
            "client", "last complete s", "x T_min", "origin sent / F", "leechers sent / F",
            "wasted / F", "leechers' CPU s")
        print(hdr)
        for kind, runs in res.items():
            f = sc["size"]
            label = kind + (" (lt origin)" if kind == "aria2" else "")
            print("  %-22s %-24s %-22s %-20s %-20s %-20s %s" % (
                label, spread([r.wall for r in runs], "%.2f"),
                spread([r.wall / tm for r in runs], "%.2f"),
                spread([r.origin_up / f for r in runs], "%.2f"),
                spread([r.leech_up / f for r in runs], "%.2f") if kind != "aria2" else "-",
                spread([r.wasted / f for r in runs], "%.3f") if kind != "aria2" else "-",
                spread([r.cpu for r in runs], "%.1f")))
        if "stad" in res and "libtorrent" in res:
            s = statistics.median(r.wall for r in res["stad"])
            lt = statistics.median(r.wall for r in res["libtorrent"])
            print("  stad %.2fx T_min (goal 1.15x: %s); libtorrent/stad time %.2f (goal > 1: %s)"
                  % (s / tm, "met" if s / tm <= 1.15 else "not met", lt / s,
                     "met" if lt > s else "not met"))
    sys.stdout.flush()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default=",".join(SCENARIOS),
                    help="comma-separated, of: %s" % ", ".join(
                        "%s (%s)" % (k, v["what"]) for k, v in SCENARIOS.items()))
    ap.add_argument("--quick", action="store_true",
                    help="%d hosts and 1/%d of the data" % (QUICK["hosts"], QUICK["size_div"]))
    ap.add_argument("--hosts", type=int, help="hosts, origin included (overrides the scenario)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--stad-option", action="append", default=[], metavar="KEY=VALUE",
                    help="a stad.conf setting for every stad (repeatable)")
    a = ap.parse_args()
    a.clients = [x for x in a.clients.split(",") if x]
    scenarios = [x for x in a.scenario.split(",") if x]
    for x in a.clients:
        if x not in CLIENTS:
            ap.error("unknown client %s (one of %s)" % (x, ", ".join(CLIENTS)))
    for x in scenarios:
        if x not in SCENARIOS:
            ap.error("unknown scenario %s (one of %s)" % (x, ", ".join(SCENARIOS)))
    if a.hosts is not None and not 3 <= a.hosts <= 250:
        ap.error("--hosts wants 3 to 250")
    a.stad_options = {}
    for o in a.stad_option:
        k, eq, v = o.partition("=")
        if not eq:
            ap.error("--stad-option wants KEY=VALUE")
        a.stad_options[k] = int(v) if v.lstrip("-").isdigit() else \
            {"true": True, "false": False}.get(v, v)
    if "libtorrent" in a.clients or "aria2" in a.clients:
        st.require_libtorrent()
    st.tool("iperf3")
    all_res = {}
    load0 = loadavg()
    try:
        for sc_name in scenarios:
            b = Bench(a, sc_name)
            checks, res = b.run()
            all_res[sc_name] = (b.sc, checks, res)
            st.run_cleanups()  # namespaces and files of this scenario
        report(a, all_res, (load0, loadavg()))
    except st.Skip as e:
        print("SKIP: %s" % e)
        return st.SKIP
    finally:
        st.run_cleanups()
    return 0


if __name__ == "__main__":
    sys.exit(main())
