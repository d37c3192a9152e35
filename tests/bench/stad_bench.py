"""stad against aria2, libtorrent and transmission on one random file, all
inside one network namespace of the benchmark's own, through trackerd.
Run by stad_bench.sh (which sets STA_BUILD_DIR and PYTHONPATH); run with
/usr/bin/python3 (python3-libtorrent).

Part 1, the same seeders for every leecher, one leecher at a time: by
default three libtorrent seeders (--seeders names other kinds, each run as
its own group of --seed-count seeders), started once, each on an address
of its own and with its own hard link of the file. After one uncounted
warm-up download, the leechers take turns, round by round (each round
starting with the next leecher in the list). Each leecher
is a fresh process, timed from its spawn until the whole file is on its
disk (stad: until `stactl request` returns, i.e. complete and verified;
libtorrent: COMPLETE; aria2: exit; transmission: the .part suffix
dropped). The leecher's CPU time (user + sys, every thread) and memory
(peak RSS = VmHWM, peak anonymous = RssAnon sampled every 50 ms) are
measured over the same span. Each download is checked against the seed's
SHA-1, then deleted.

Part 2, whole swarms: one seeder and three leechers of one client, the
three spawned together; the time until the last one is complete.

stad runs in plaintext (encryption = "off", as the other clients run
here); the leecher variant "stad-rc4" has encryption = "require" (MSE/PE,
RC4 on every byte; the libtorrent seeders take it with their default
settings), so `--leechers stad,stad-rc4` shows RC4's cost in one run, round
by round.

With --perf, stad is profiled (perf record -e cpu-clock -g) while it
leeches from libtorrent and while it seeds libtorrent.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from statest import interop_peers as ip
import statest as st

TRACKER, LEECHER = "198.18.0.1", "198.18.0.3"
SEEDERS = ("198.18.0.2", "198.18.0.7", "198.18.0.8", "198.18.0.9")
SWARM = ("198.18.0.4", "198.18.0.5", "198.18.0.6")
SEED_PORT, LEECH_PORT = 6881, 6882
DHT_NODE = "198.18.0.10"        # a libtorrent DHT node for stad-dht to join
NAME = "random.bin"
CLIENTS = ("stad", "libtorrent", "aria2", "transmission")
# stad as it is (PEX on) and variants for the cost of BEP 9 and 11, RC4
# and the DHT: with pex = false; given a magnet link instead of the
# .torrent (the metadata comes from the seeders first); with encryption
# required; and with its DHT node on, joined to a libtorrent DHT node on
# DHT_NODE, looking up and announcing the torrent while it downloads (the
# others have the DHT off). Not in the default --leechers.
STAD_VARIANTS = {"stad": {}, "stad-nopex": {"pex": False}, "stad-magnet": {},
                 "stad-rc4": {"encryption": "require"},
                 "stad-dht": {"dht": {"enabled": True,
                                      "bootstrap": ["%s:%d" % (DHT_NODE, SEED_PORT)]}}}
STAD_BASE = {"log_level": "info", "encryption": "off"}


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Result:
    def __init__(self, wall, cpu, hwm_kib, anon_kib, size):
        self.wall, self.cpu, self.hwm, self.anon, self.size = wall, cpu, hwm_kib, anon_kib, size

    @property
    def mbps(self):
        return self.size / 1e6 / self.wall

    @property
    def cpu_per_gib(self):
        return self.cpu / (self.size / 2 ** 30)


def median_result(rs):
    return Result(statistics.median(r.wall for r in rs), statistics.median(r.cpu for r in rs),
                  statistics.median(r.hwm for r in rs), statistics.median(r.anon for r in rs),
                  rs[0].size)


class Bench:
    def __init__(self, a):
        self.a = a
        self.timeout = a.timeout
        self.ns = st.Netns((TRACKER, LEECHER, DHT_NODE) + SEEDERS + SWARM)
        self.dht_node = None
        self.dir = st.tempdir("stad-bench-")
        self.logdir = os.path.join(self.dir, "logs")
        os.makedirs(self.logdir)
        self.tracker = st.Trackerd(http_hosts=(TRACKER,), udp_hosts=(TRACKER,), netns=self.ns,
                                   announce_interval=30, min_interval=1, log_level="info")
        self.url = self.tracker.url("/announce")
        self.seed_dir = os.path.join(self.dir, "seed")
        os.makedirs(self.seed_dir)
        self.path = os.path.join(self.seed_dir, NAME)
        log("writing %d random bytes" % a.size)
        with open(self.path, "wb") as f:
            subprocess.run(["head", "-c", str(a.size), "/dev/urandom"], stdout=f, check=True)
        self.want = st.sha1_file(self.path)
        self.tfile = os.path.join(self.dir, "random.torrent")
        st.run([st.tool("mktorrent"), "-l", "20", "-a", self.url, "-o", self.tfile, self.path],
               timeout=300)
        with open(self.tfile, "rb") as f:
            self.t = st.Torrent(f.read())
        self.n = 0

    def fresh_dir(self, what):
        self.n += 1
        d = os.path.join(self.dir, "%s-%d" % (what, self.n))
        os.makedirs(d)
        return d

    def scrape_complete(self):
        h, p = self.tracker.http

        def ask():
            r = st.http_get(h, p, "/scrape?" + st.qs([("info_hash", self.t.info_hash)]))
            f = st.bdecode(r.body).get(b"files", {}).get(self.t.info_hash, {})
            return f.get(b"complete", 0)
        return self.ns.socket_call(ask)

    # ------------------------------------------------------------ seeders

    def start_seeders(self, kind, n):
        """Starts n seeders of the whole file, each on its own address with
        its own hard link of the file; returns a stop function once the
        tracker lists them all as seeders."""
        before = self.scrape_complete()
        procs, stops = [], []
        for i, addr in enumerate(SEEDERS[:n]):
            name = "%s-seed%d" % (kind, i)
            if kind == "stad":
                s = ip.Stad(self.url, addr, self.ns, name=name,
                            **dict(STAD_BASE, **self.a.stad_options))
                os.link(self.path, os.path.join(s.download_dir, NAME))
                s.request(self.tfile, timeout=self.timeout)  # checks the data, then seeds
                procs.append(s.proc)
                stops.append(lambda s=s: s.stop(expect_rc=None))
                continue
            data = self.fresh_dir(name)
            os.link(self.path, os.path.join(data, NAME))
            if kind == "aria2":
                proc = ip.aria2_seed(self.tfile, data, addr, SEED_PORT, self.logdir,
                                     netns=self.ns, name=name)
            elif kind == "libtorrent":
                proc = ip.lt_seed(self.tfile, data, addr, SEED_PORT, self.logdir,
                                  24 * 3600, netns=self.ns, name=name)
            elif kind == "transmission":
                proc = ip.transmission(self.tfile, data, addr, SEED_PORT, self.logdir,
                                       self.ns, name=name)
            procs.append(proc)
            stops.append(lambda proc=proc: proc.stop(sig=2, expect_rc=None, timeout=20))

        def listed():
            for proc in procs:
                if not proc.running():
                    proc.dump_log()
                    raise AssertionError("%s exited with %s" % (proc.name, proc.p.returncode))
            return self.scrape_complete() >= before + n
        st.wait_until(listed, self.timeout, "%d %s seeder(s) to be listed" % (n, kind), 0.2)

        def stop_all():
            for stop in stops:
                stop()
        return stop_all

    # ------------------------------------------------------------ leechers

    def spawn_leecher(self, kind, addr, port, name):
        """Spawns one leecher; returns (sampler, done predicate, output
        path, stop function)."""
        t0 = time.monotonic()
        out = self.fresh_dir(name)
        name = os.path.basename(out)  # logs are appended to: one per spawn
        if kind in STAD_VARIANTS:
            opts = dict(STAD_BASE, **self.a.stad_options)
            opts.update(STAD_VARIANTS[kind])
            if kind == "stad-dht" and self.dht_node is None:
                self.dht_node = ip.lt_dht_node(DHT_NODE, SEED_PORT, self.logdir, 24 * 3600,
                                               netns=self.ns)
            s = ip.Stad(self.url, addr, self.ns, name=name, **opts)
            target = os.path.abspath(self.tfile) if kind != "stad-magnet" else \
                "magnet:?xt=urn:btih:%s&dn=%s&tr=%s" % (self.t.hex, NAME, self.url)
            req = subprocess.Popen([st.sta_binary("stactl"), "--socket",
                                    s.socket, "request", target],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            smp = ip.Sampler(s.pid, t0=t0, cpu0=0.0)

            def done():
                if req.poll() is None:
                    return False
                if req.returncode != 0:
                    s.dump_log()
                    raise AssertionError("stactl request exited %d: %s" % (
                        req.returncode, req.stderr.read().decode(errors="replace")))
                return True
            return smp, done, os.path.join(s.download_dir, NAME), \
                (lambda: s.stop(expect_rc=None)), s.proc
        if kind == "libtorrent":
            proc = ip.lt_leech(self.tfile, out, addr, port, self.logdir, self.timeout,
                               netns=self.ns, name=name)
            smp = ip.Sampler(proc.pid, t0=t0, cpu0=0.0)

            def done():
                if "COMPLETE" in proc.log():
                    return True
                if not proc.running():
                    raise AssertionError("libtorrent leecher exited with %s" % proc.p.returncode)
                return False
        elif kind == "aria2":
            proc = ip.aria2_leech(self.tfile, out, addr, port, self.logdir, self.timeout,
                                  netns=self.ns, name=name)
            smp = ip.Sampler(proc.pid, t0=t0, cpu0=0.0)

            def done():
                if not smp.reaped(proc):
                    return False
                if proc.p.returncode != 0:
                    raise AssertionError("aria2c leecher exited with %d" % proc.p.returncode)
                return True
        elif kind == "transmission":
            proc = ip.transmission(self.tfile, out, addr, port, self.logdir, self.ns,
                                   name=name)
            smp = ip.Sampler(proc.pid, t0=t0, cpu0=0.0)
            final = os.path.join(out, NAME)

            def done():
                if not proc.running():
                    raise AssertionError("transmission leecher exited with %s"
                                         % proc.p.returncode)
                return os.path.exists(final)
        return smp, done, os.path.join(out, NAME), \
            (lambda: proc.stop(sig=2, expect_rc=None, timeout=20)), proc

    def finish_leecher(self, path, stop, proc):
        stop()
        got = st.sha1_file(path) if os.path.exists(path) else "(missing)"
        if got != self.want:
            proc.dump_log()
            raise AssertionError("%s: SHA-1 %s, want %s" % (path, got, self.want))
        os.unlink(path)

    def perf_start(self, pid, tag):
        if not self.a.perf:
            return None
        data = os.path.join(self.dir, "perf-%s.data" % tag)
        p = st.Proc(["perf", "record", "-e", "cpu-clock", "-F", "2000", "-g", "-p", str(pid),
                     "-o", data], "perf-" + tag, self.logdir)
        time.sleep(0.3)
        return p, data, tag

    def perf_stop(self, h):
        if h is None:
            return
        p, data, tag = h
        p.stop(sig=2, expect_rc=None, timeout=30)
        rep = st.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                      "--sort", "dso,symbol", "--percent-limit", "0.7", "-g", "none"],
                     timeout=120, check=False)
        lines = [ln for ln in rep.out.splitlines() if ln.strip() and not ln.startswith("#")]
        self.profiles.append((tag, lines[:40]))

    def one_pair(self, seeder, leecher):
        smp, done, path, stop, proc = self.spawn_leecher(leecher, LEECHER, LEECH_PORT,
                                                         "%s-leech" % leecher)
        h = self.perf_start(smp.pid, "stad-leech-from-libtorrent") \
            if leecher == "stad" and seeder == "libtorrent" and self.perf_pending.pop(
                "leech", None) else None
        try:
            smp.wait(done, self.timeout, "%s to download from %s" % (leecher, seeder))
        finally:
            self.perf_stop(h)
        r = Result(smp.wall, smp.cpu, smp.hwm, smp.peak_anon, self.t.size)
        self.finish_leecher(path, stop, proc)
        log("%-12s -> %-12s %6.2f s %7.1f MB/s cpu %5.2f s rss %6.1f MiB anon %6.1f MiB"
            % (seeder, leecher, r.wall, r.mbps, r.cpu, r.hwm / 1024, r.anon / 1024))
        return r

    def matrix(self):
        res = {}
        for seeder in self.a.seeders:
            stop = self.start_seeders(seeder, self.a.seed_count)
            perf_seed = None
            # The first download from fresh seeders is slower for anyone
            # (libtorrent seeders map and fault in the file): an uncounted
            # warm-up takes that, and rounds interleave the leechers so
            # drift during the run is shared.
            log("warm-up (not counted):")
            self.one_pair(seeder, self.a.leechers[0])
            for i in range(self.a.runs):
                # Each round starts with another leecher: the first of a
                # round was measurably faster (whatever the leecher).
                k = i % len(self.a.leechers)
                for leecher in self.a.leechers[k:] + self.a.leechers[:k]:
                    if seeder == "stad" and leecher == "libtorrent" and \
                            self.perf_pending.pop("seed", None):
                        perf_seed = self.perf_start(self.seeder_pid(), "stad-seed-to-libtorrent")
                    res.setdefault((seeder, leecher), []).append(self.one_pair(seeder, leecher))
                    self.perf_stop(perf_seed)
                    perf_seed = None
            stop()
        return res

    def seeder_pid(self):
        for p in reversed(st._all_procs):
            if p.name == "stad-seed0" and p.running():
                return p.pid
        raise AssertionError("no stad seeder running")

    def swarm(self, kind):
        stop_seed = self.start_seeders(kind, 1)
        t0 = time.monotonic()
        legs = [self.spawn_leecher(kind, addr, LEECH_PORT, "%s-swarm%d" % (kind, i))
                for i, addr in enumerate(SWARM)]
        left = set(range(len(legs)))
        ends = {}
        cpu = 0.0

        def all_done():
            for i in list(left):
                smp, done = legs[i][0], legs[i][1]
                smp.sample()
                if done():
                    ends[i] = time.monotonic() - t0
                    left.discard(i)
            return not left
        st.wait_until(all_done, self.timeout, "the %s swarm to complete" % kind, 0.05)
        for smp, _, path, stop, proc in legs:
            cpu += smp.cpu
            self.finish_leecher(path, stop, proc)
        stop_seed()
        wall = max(ends.values())
        log("swarm %-12s all 3 complete in %.2f s (each: %s), leechers' CPU %.2f s"
            % (kind, wall, ", ".join("%.2f" % ends[i] for i in sorted(ends)), cpu))
        return wall, sorted(ends.values()), cpu

    def run(self):
        self.profiles = []
        self.perf_pending = {"leech": True, "seed": True}
        load0 = loadavg()
        log("load average at start: %s (%d CPUs)" % (load0, os.cpu_count()))
        res = self.matrix()
        swarms = {}
        if not self.a.no_swarm:
            for kind in ("stad", "libtorrent"):
                for i in range(self.a.runs):
                    swarms.setdefault(kind, []).append(self.swarm(kind))
        self.report(res, swarms, load0, loadavg())

    def report_rc4(self, res):
        """RC4's cost: stad-rc4 against stad from the same seeders, paired
        round by round (the rounds interleave the leechers)."""
        for seeder in self.a.seeders:
            plain, rc4 = res.get((seeder, "stad")), res.get((seeder, "stad-rc4"))
            if not plain or not rc4:
                continue
            extra = [b.cpu_per_gib - a.cpu_per_gib for a, b in zip(plain, rc4)]
            ratio = [b.mbps / a.mbps for a, b in zip(plain, rc4)]
            print("from %s: encryption = require costs %+.2f CPU-s/GiB (median; rounds %s) "
                  "and runs at %.2fx the plaintext MB/s (rounds %s)"
                  % (seeder, statistics.median(extra), ", ".join("%+.2f" % x for x in extra),
                     statistics.median(ratio), ", ".join("%.2f" % x for x in ratio)))
        print()

    def report(self, res, swarms, load0, load1):
        size = self.t.size
        print()
        print("stad benchmark: %d MiB file, %d piece(s) of %d KiB, median of %d run(s)"
              % (size >> 20, len(self.t.meta[b"info"][b"pieces"]) // 20,
                 self.t.meta[b"info"][b"piece length"] >> 10, self.a.runs))
        print("load average: %s at start, %s at end; %d CPUs; stad from %s"
              % (load0, load1, os.cpu_count(), st.build_dir()))
        print("part 1: %d seeder(s) of each kind serve one leecher at a time" % self.a.seed_count)
        hdr = "%-13s %-13s %8s %8s %13s %8s %9s %11s %9s %9s" % (
            "seeder", "leecher", "wall s", "MB/s", "(min-max)", "CPU s", "CPU s/GiB",
            "(min-max)", "peak RSS", "peak anon")
        print(hdr)
        print("-" * len(hdr))
        best = {}
        for (seeder, leecher), rs in res.items():
            m = median_result(rs)
            if leecher not in STAD_VARIANTS and m.mbps > best.get(seeder, ("", 0))[1]:
                best[seeder] = (leecher, m.mbps)
            print("%-13s %-13s %8.2f %8.1f %13s %8.2f %9.2f %11s %7.1f M %7.1f M" % (
                seeder, leecher, m.wall, m.mbps,
                "%.0f-%.0f" % (min(r.mbps for r in rs), max(r.mbps for r in rs)),
                m.cpu, m.cpu_per_gib,
                "%.2f-%.2f" % (min(r.cpu_per_gib for r in rs), max(r.cpu_per_gib for r in rs)),
                m.hwm / 1024, m.anon / 1024))
        print()
        self.report_rc4(res)
        for seeder, (other, b) in best.items():
            s = res.get((seeder, "stad"))
            if s:
                m = median_result(s)
                print("from %-13s stad %.1f MB/s = %.2fx the fastest other leecher (%s, %.1f MB/s)"
                      % (seeder, m.mbps, m.mbps / b, other, b))
        if swarms:
            print()
            print("swarm: 1 seeder + 3 leechers  time until all 3 complete (median), "
                  "each leecher's time, leechers' CPU s")
            for kind, rows in swarms.items():
                wall = statistics.median(r[0] for r in rows)
                each = min(rows, key=lambda r: abs(r[0] - wall))
                print("  %-12s %8.2f s   (%s)   CPU %.2f s" % (
                    kind, wall, ", ".join("%.2f" % x for x in each[1]), each[2]))
        for tag, lines in self.profiles:
            print()
            print("perf profile of %s (cpu-clock, self time by object and symbol, >= 0.7%%):" % tag)
            for ln in lines:
                print("  " + ln)
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--size", type=int, default=1 << 30, help="file size in bytes")
    ap.add_argument("--seeders", default="libtorrent",
                    help="seeder kinds, each a group of --seed-count seeders")
    ap.add_argument("--seed-count", type=int, default=3, choices=range(1, len(SEEDERS) + 1))
    ap.add_argument("--leechers", default=",".join(CLIENTS))
    ap.add_argument("--no-swarm", action="store_true")
    ap.add_argument("--stad-option", action="append", default=[], metavar="KEY=VALUE",
                    help="a stad.conf setting (integer, true/false or string) for every stad "
                    "(repeatable)")
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--timeout", type=float, default=300, help="per transfer, seconds")
    a = ap.parse_args()
    a.seeders = [x for x in a.seeders.split(",") if x]
    a.leechers = [x for x in a.leechers.split(",") if x]
    a.stad_options = {}
    for o in a.stad_option:
        k, eq, v = o.partition("=")
        if not eq:
            ap.error("--stad-option wants KEY=VALUE")
        a.stad_options[k] = int(v) if v.lstrip("-").isdigit() else \
            {"true": True, "false": False}.get(v, v)
    for x in a.seeders:
        if x not in CLIENTS:
            ap.error("unknown seeder %s (one of %s)" % (x, ", ".join(CLIENTS)))
    for x in a.leechers:
        if x not in CLIENTS + tuple(STAD_VARIANTS):
            ap.error("unknown leecher %s (one of %s)"
                     % (x, ", ".join(CLIENTS + tuple(STAD_VARIANTS)[1:])))
    if "libtorrent" in a.seeders + a.leechers or not a.no_swarm:
        st.require_libtorrent()
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
