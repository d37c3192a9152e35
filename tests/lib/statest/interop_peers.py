"""Real peers for the stad interop tests and the stad benchmark: stad in a
network namespace (statest.Stad there), aria2c, libtorrent (through
tests/interop/lt_peer.py) and transmission-cli, each started on one address
(loopback, or a network namespace for transmission), plus a sampler of a
process's CPU time and memory.

Every process goes through statest.Proc, so it is killed by PID at exit.
"""

import json
import os
import time

import statest as st

LT_PEER = os.path.join(st.source_dir(), "tests", "interop", "lt_peer.py")


def aria2_argv(addr, port, extra=()):
    """aria2c with everything but the tracker off; addr is where it listens
    and connects from (aria2 has no option for the outgoing address of peer
    connections: in a namespace with one address per peer, --interface picks
    it)."""
    return [st.tool("aria2c"), "--enable-dht=false", "--enable-dht6=false",
            "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true",
            "--interface=%s" % addr, "--listen-port=%d" % port,
            "--console-log-level=warn", "--log=-", "--log-level=notice",
            "--summary-interval=0", "--bt-tracker-connect-timeout=5",
            "--bt-tracker-timeout=5", "--max-overall-upload-limit=0",
            "--max-overall-download-limit=0", "--bt-max-peers=0"] + list(extra)


def aria2_seed(tfile, data_root, addr, port, logdir, netns=None, name="aria2-seed"):
    return st.Proc(aria2_argv(addr, port, ["--seed-ratio=0.0", "--check-integrity=true",
                                           "--file-allocation=none", "--dir", data_root,
                                           tfile]),
                   name, logdir, netns=netns)


def aria2_leech(tfile, out_dir, addr, port, logdir, timeout, netns=None, name="aria2-leech"):
    """Exits 0 once the download is complete and checked."""
    return st.Proc(aria2_argv(addr, port, ["--seed-time=0", "--file-allocation=falloc",
                                           "--bt-stop-timeout=%d" % timeout,
                                           "--dir", out_dir, tfile]),
                   name, logdir, netns=netns)


def lt_seed(tfile, data_root, addr, port, logdir, timeout, netns=None, name="lt-seed",
            extra=()):
    """Prints SEEDING once it has checked its data. extra: more lt_peer.py
    options (e.g. --rc4-forced)."""
    py = st.require_libtorrent()
    return st.Proc([py, LT_PEER, "seed", tfile, data_root, addr, str(port),
                    "--timeout", str(timeout)] + list(extra), name, logdir, netns=netns)


def lt_leech(tfile, out_dir, addr, port, logdir, timeout, netns=None, name="lt-leech",
             extra=()):
    """Prints COMPLETE when done, then exits 0 half a second later."""
    py = st.require_libtorrent()
    return st.Proc([py, LT_PEER, "leech", tfile, out_dir, addr, str(port),
                    "--timeout", str(timeout)] + list(extra), name, logdir, netns=netns)


def dht_args(nodes):
    """lt_peer.py options to join a private DHT through nodes ((addr, port)
    pairs): for lt_seed's and lt_leech's extra."""
    return [x for node in nodes for x in ("--dht", "%s:%d" % node)]


def lt_dht_node(addr, port, logdir, timeout, netns=None, name="lt-dht"):
    """A libtorrent DHT node without torrents that the others join through
    (prints "DHT nodes=N")."""
    py = st.require_libtorrent()
    return st.Proc([py, LT_PEER, "node", "-", logdir, addr, str(port),
                    "--timeout", str(timeout)], name, logdir, netns=netns)


def transmission(tfile, data_dir, addr, port, logdir, netns, name="transmission",
                 encrypt=False):
    """transmission-cli on addr (which must not be in 127/8: transmission
    refuses "martian" peers). With the complete data in data_dir it checks
    it and seeds; otherwise it downloads into data_dir, the file keeping a
    .part suffix until it is complete (so its final name appearing means
    done). It never exits by itself. encrypt: prefer encrypted connections
    (else plaintext is preferred: the fair choice for a benchmark)."""
    tcli = st.tool("transmission-cli")
    conf = st.tempdir("transmission-conf-")
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(conf, "settings.json"), "w") as f:
        json.dump({"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
                   "utp-enabled": False, "port-forwarding-enabled": False,
                   "bind-address-ipv4": addr, "peer-port": port,
                   "peer-port-random-on-start": False, "rename-partial-files": True,
                   "incomplete-dir-enabled": False, "download-dir": data_dir,
                   "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
                   "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
                   "preallocation": 1, "cache-size-mb": 16,
                   "encryption": 1 if encrypt else 0, "message-level": 2}, f)
    return st.Proc([tcli, "-g", conf, "-w", data_dir, "-p", str(port), "-M", "-D", "-U",
                    "-ep" if encrypt else "-et", tfile], name, logdir, netns=netns)


# ---------------------------------------------------------------- stad

class Stad(st.Stad):
    """statest's Stad, started inside netns (a statest.Netns) on listen, an
    address of that namespace (statest's own wrapper runs on the host's
    loopback only)."""

    def __init__(self, tracker, listen, netns, **kw):
        self.netns = netns
        self._configured = False
        # The parent picks a port on the host's loopback (any port is free
        # in a fresh namespace) and writes a config; both are redone below.
        super().__init__(tracker, listen="127.0.0.1", wait=False, **kw)
        self.listen = listen
        self.write_config()
        self._configured = True
        self.start()

    def start(self, wait=True):
        if self._configured:
            super().start(wait)
            self.pid = self.proc.pid

    def request(self, tfile, timeout):
        """stactl request: returns once the download is complete and
        verified (a CtlResult), or fails the test after timeout seconds."""
        try:
            return self.ctl("request", os.path.abspath(tfile), timeout=timeout)
        except st.subprocess.TimeoutExpired:
            raise AssertionError("stactl request %s did not finish within %ss"
                                 % (tfile, timeout)) from None


# ---------------------------------------------------------------- measuring

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """user + sys CPU seconds of pid (all its threads), or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # Fields after the command: state is [0], utime [11], stime [12].
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def mem_kib(pid):
    """{VmHWM, VmRSS, RssAnon} in KiB from /proc/PID/status, {} if gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon"):
                    out[k] = int(v.split()[0])
    except OSError:
        return {}
    return out


class Sampler:
    """Follows one process while the caller waits for it to finish a job:
    wall time since t0, CPU seconds (user + sys, all threads) since cpu0,
    peak VmHWM and peak RssAnon (sampled) in KiB. A process started for
    the job gives cpu0=0 and t0 = just before it was spawned."""

    def __init__(self, pid, t0=None, cpu0=None):
        self.pid = pid
        self.t0 = time.monotonic() if t0 is None else t0
        self.cpu0 = (cpu_seconds(pid) or 0.0) if cpu0 is None else cpu0
        self.peak_anon = 0
        self.hwm = 0
        self.cpu = 0.0
        self.wall = None

    def sample(self):
        m = mem_kib(self.pid)
        self.peak_anon = max(self.peak_anon, m.get("RssAnon", 0))
        self.hwm = max(self.hwm, m.get("VmHWM", 0))
        c = cpu_seconds(self.pid)
        if c is not None:
            self.cpu = c - self.cpu0

    def reaped(self, proc):
        """For a job that ends with the process: reaps proc (a statest.Proc
        whose pid is ours) if it has exited, taking CPU time and peak RSS
        from its rusage (exact, where /proc is gone). True once reaped."""
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == 0:
            return False
        proc.p.returncode = os.waitstatus_to_exitcode(status)
        self.cpu = ru.ru_utime + ru.ru_stime - self.cpu0
        self.hwm = max(self.hwm, ru.ru_maxrss)
        return True

    def wait(self, done, timeout, what, interval=0.05):
        """Samples every interval until done() is true, then freezes the
        wall time. Returns self."""
        def poll():
            self.sample()
            return done()
        st.wait_until(poll, timeout, what, interval)
        self.wall = time.monotonic() - self.t0
        return self
