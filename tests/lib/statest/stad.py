"""The stad wrapper and a STATUS poller."""

import os
import threading

from .core import Daemon, free_port, sta_binary, tempdir, wait_until, slack, write_libconfig
from .torrents import make_file
from .ctl import CtlClient, stactl


_next_host = [100]


def loopback_host():
    """A loopback address of its own for each daemon (127.0.0.100 up):
    peers and trackers tell peers apart by address, as on separate
    machines. Tests use fixed addresses below 100 for their own peers."""
    if _next_host[0] > 254:
        raise RuntimeError("out of loopback addresses")
    h = "127.0.0.%d" % _next_host[0]
    _next_host[0] += 1
    return h


class Stad(Daemon):
    """stad on loopback with its own config file, state/share/download
    dirs, listen address (loopback_host() unless given), peer port and
    control socket (all under one temp dir).

    tracker is the announce URL (trackerd.url("/announce")); options are
    extra config keys. share gives {relative path: size} files to create
    in the share dir before start (pseudo-random content, seeded by seed).

    The DHT is off unless a test turns it on (dht={"enabled": True,
    "bootstrap": [...]}); a DHT turned on without a bootstrap list gets an
    empty one: no stad in the suite ever asks the public routers."""

    def __init__(self, tracker, listen=None, name="stad", share=None, seed=0,
                 wait=True, extra_args=(), **options):
        self.binary = sta_binary("stad")
        self.name = name
        self.dir = tempdir("stad-")
        self.state_dir = os.path.join(self.dir, "state")
        self.share_dir = os.path.join(self.dir, "share")
        self.download_dir = os.path.join(self.dir, "downloads")
        for d in (self.state_dir, self.share_dir, self.download_dir):
            os.makedirs(d)
        self.socket = os.path.join(self.dir, "ctl.sock")
        self.listen = listen or loopback_host()
        self.port = free_port(host=self.listen)
        # LSD off unless a test turns it on: it would multicast on the host.
        self.options = {"tracker": tracker, "workers": 2, "log_level": "debug",
                        "dht": {"enabled": False}, "lsd": False}
        self.options.update(options)
        self.config = os.path.join(self.dir, "stad.conf")
        self.extra_args = list(extra_args)
        for rel, size in (share or {}).items():
            make_file(os.path.join(self.share_dir, rel), size, seed="%s/%s" % (seed, rel))
        self.write_config()
        self.proc = None
        self.start(wait)

    @property
    def addr(self):
        return (self.listen, self.port)

    def write_config(self, **changes):
        self.options.update(changes)
        base = {"listen_address": self.listen, "listen_port": self.port,
                "state_dir": self.state_dir, "share_dir": self.share_dir,
                "download_dir": self.download_dir, "control_socket": self.socket}
        base.update(self.options)
        base["dht"] = dict({"bootstrap": []}, **base["dht"])
        write_libconfig(self.config, base)

    def answers(self):
        try:
            with CtlClient(self.socket, timeout=2):
                return True
        except (OSError, EOFError, AssertionError):
            return False

    def ctl(self, *args, **kw):
        """stactl against this daemon (see stactl())."""
        return stactl(self.socket, *args, **kw)

    def client(self, **kw):
        return CtlClient(self.socket, **kw)

    def status(self, torrent=None, peers=False):
        with self.client() as c:
            return c.status(torrent, peers)

    def torrent(self, name):
        """This daemon's STATUS dict of the torrent called name, or None."""
        for t in self.status(peers=True):
            if t.get("name") == name:
                return t
        return None

    def wait_torrent(self, name, pred, timeout, what):
        """Polls STATUS until pred(torrent dict) holds; returns the dict."""
        def check():
            t = self.torrent(name)
            return t if t is not None and pred(t) else None
        return wait_until(check, slack(timeout), "%s: %s %s" % (self.name, name, what), 0.05)

    def wait_seeding(self, name, timeout=20):
        return self.wait_torrent(name, lambda t: t.get("state") == "seeding", timeout, "seeding")


class PeerRecorder:
    """Polls a downloader's STATUS with peers=1 as fast as it answers and
    keeps, per peer address, the largest down/blocks/hash_fails seen, every
    STATUS flag it showed (flags, a set) and the torrent's done bytes when
    the peer was last listed (last_done): a finished download drops its seed
    connections, and their counters with them."""

    def __init__(self, stad, name):
        self.stad = stad
        self.name = name
        self.peers = {}
        self.snapshots = 0
        self.last = []               # peer_list of the latest snapshot
        self.done = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            wait_until(lambda: os.path.exists(self.stad.socket), 10, "control socket")
            with self.stad.client() as c:
                while not self.done.is_set():
                    for t in c.status(peers=True):
                        if t.get("name") != self.name:
                            continue
                        self.snapshots += 1
                        self.last = t.get("peer_list", [])
                        for p in self.last:
                            m = self.peers.setdefault(p["addr"], {})
                            for k in ("down", "blocks", "hash_fails"):
                                m[k] = max(m.get(k, 0), p.get(k, 0))
                            m.setdefault("flags", set()).update(p.get("flags", ""))
                            m["last_done"] = t.get("done")
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.done.set()
        self.thread.join(10)
        if self.error:
            raise AssertionError("STATUS polling failed: %r" % self.error)
        return self.peers
