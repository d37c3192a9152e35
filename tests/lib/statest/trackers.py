"""Tracker wrappers: a UDP tracker client, trackerd and opentracker."""

import os
import random
import signal
import socket
import struct
import time

from .core import Daemon, Proc, fmt_addr, free_port, sta_binary, tcp_ready, tempdir, tool, wait_until, write_libconfig
from .httpreq import announce_params, http_get, http_post, parse_compact_peers, qs


# ---------------------------------------------------------------- UDP tracker

UDP_PROTOCOL_ID = 0x41727101980
UDP_CONNECT, UDP_ANNOUNCE, UDP_SCRAPE, UDP_ERROR = 0, 1, 2, 3
UDP_EVENTS = {None: 0, "completed": 1, "started": 2, "stopped": 3}


class UdpTracker:
    """A BEP 15 client on one socket. Methods assert on malformed replies."""

    def __init__(self, host, port, timeout=3, bind=None):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.addr = (host, port)
        self.family = fam
        self.s = socket.socket(fam, socket.SOCK_DGRAM)
        if bind:
            self.s.bind((bind, 0))
        self.s.settimeout(timeout)
        self.cid = None

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, pkt):
        self.s.sendto(pkt, self.addr)

    def recv(self):
        """One datagram, or None on timeout."""
        try:
            data, _ = self.s.recvfrom(65536)
            return data
        except socket.timeout:
            return None

    def request(self, pkt, tid, tries=2):
        """Sends pkt, returns (action, body) of the reply with transaction
        id tid; retransmits once (UDP)."""
        for _ in range(tries):
            self.send(pkt)
            while True:
                r = self.recv()
                if r is None:
                    break
                if len(r) < 8:
                    raise AssertionError("UDP reply shorter than 8 bytes: %r" % r)
                action, rtid = struct.unpack(">II", r[:8])
                if rtid == tid:
                    return action, r[8:]
        raise AssertionError("no UDP reply from %s:%d" % self.addr)

    def connect(self):
        tid = random.getrandbits(32)
        action, body = self.request(struct.pack(">QII", UDP_PROTOCOL_ID, UDP_CONNECT, tid), tid)
        if action != UDP_CONNECT or len(body) != 8:
            raise AssertionError("bad connect reply: action %d body %r" % (action, body))
        self.cid = struct.unpack(">Q", body)[0]
        return self.cid

    def announce_packet(self, info_hash, pid, port, left=0, event=None, numwant=-1,
                        key=0, ip=0, uploaded=0, downloaded=0, cid=None, tid=None):
        cid = self.cid if cid is None else cid
        tid = random.getrandbits(32) if tid is None else tid
        pkt = struct.pack(">QII20s20sQQQIIIiH", cid, UDP_ANNOUNCE, tid, info_hash, pid,
                          downloaded, left, uploaded, UDP_EVENTS[event], ip, key, numwant, port)
        return pkt, tid

    def announce(self, info_hash, pid, port, **kw):
        """Returns dict(interval, leechers, seeders, peers=[(ip, port)]) or
        dict(error=msg)."""
        pkt, tid = self.announce_packet(info_hash, pid, port, **kw)
        action, body = self.request(pkt, tid)
        return self._announce_reply(action, body)

    def _announce_reply(self, action, body):
        if action == UDP_ERROR:
            return {"error": body.decode("utf-8", "replace")}
        if action != UDP_ANNOUNCE or len(body) < 12:
            raise AssertionError("bad announce reply: action %d body %r" % (action, body[:64]))
        interval, leechers, seeders = struct.unpack(">III", body[:12])
        return {"interval": interval, "leechers": leechers, "seeders": seeders,
                "peers": parse_compact_peers(body[12:], self.family)}

    def scrape(self, hashes, cid=None):
        """Returns [(seeders, completed, leechers)] per hash, or dict(error=)."""
        cid = self.cid if cid is None else cid
        tid = random.getrandbits(32)
        pkt = struct.pack(">QII", cid, UDP_SCRAPE, tid) + b"".join(hashes)
        action, body = self.request(pkt, tid)
        if action == UDP_ERROR:
            return {"error": body.decode("utf-8", "replace")}
        if action != UDP_SCRAPE or len(body) != 12 * len(hashes):
            raise AssertionError("bad scrape reply: action %d, %d bytes for %d hashes"
                                 % (action, len(body), len(hashes)))
        return [struct.unpack(">III", body[i:i + 12]) for i in range(0, len(body), 12)]


def udp_ready(host, port):
    try:
        with UdpTracker(host, port, timeout=0.2) as u:
            u.connect()
        return True
    except (AssertionError, OSError):
        return False


# ---------------------------------------------------------------- trackerd

class Trackerd(Daemon):
    """trackerd on loopback with a config file and state dir of its own.

    Options are config keys (see trackerd's config); http/udp are lists of
    hosts to listen on, each given a fresh port. `http` and `udp` give the
    first (host, port) of each."""

    def __init__(self, http_hosts=("127.0.0.1",), udp_hosts=("127.0.0.1",), state_dir=None,
                 netns=None, wait=True, name="trackerd", extra_args=(), **options):
        self.binary = sta_binary("trackerd")
        self.dir = tempdir("trackerd-")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.netns = netns
        self.name = name
        self.http_addrs = [(h, free_port(host="127.0.0.1" if netns else h)) for h in http_hosts]
        self.udp_addrs = [(h, free_port(host="127.0.0.1" if netns else h)) for h in udp_hosts]
        self.options = {"threads": 1, "log_level": "debug"}
        self.options.update(options)
        self.config = os.path.join(self.dir, "trackerd.conf")
        self.extra_args = list(extra_args)
        self.write_config()
        self.proc = None
        self.start(wait)

    @property
    def http(self):
        return self.http_addrs[0]

    @property
    def udp(self):
        return self.udp_addrs[0]

    def write_config(self, **changes):
        """(Re)writes the config file; changes update the options first."""
        self.options.update(changes)
        header = [
            "http_listen = [%s];" % ", ".join('"%s"' % fmt_addr(*a) for a in self.http_addrs),
            "udp_listen = [%s];" % ", ".join('"%s"' % fmt_addr(*a) for a in self.udp_addrs),
            'state_dir = "%s";' % self.state_dir,
        ]
        write_libconfig(self.config, self.options, header)

    def answers(self):
        if self.netns is not None:
            return self.netns.socket_call(_all_ready, self.http_addrs, self.udp_addrs)
        return _all_ready(self.http_addrs, self.udp_addrs)

    def reload(self):
        """SIGHUP, then waits until the daemon answers again."""
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        self.wait_ready()

    def url(self, path):
        return "http://%s%s" % (fmt_addr(*self.http), path)

    def get(self, target, **kw):
        return http_get(self.http[0], self.http[1], target, **kw)

    def post(self, target, body, **kw):
        return http_post(self.http[0], self.http[1], target, body, **kw)

    def announce(self, info_hash, pid, port, source=None, **kw):
        """HTTP announce from address source; returns the decoded reply dict
        (status must be 200)."""
        r = self.get("/announce?" + qs(announce_params(info_hash, pid, port, **kw)),
                     source=source)
        if r.status != 200:
            raise AssertionError("announce got HTTP %d: %r" % (r.status, r.body[:300]))
        return r.bdecoded()

    def scrape(self, hashes):
        """{info_hash: (complete, downloaded, incomplete)} from an HTTP scrape."""
        r = self.get("/scrape?" + qs([("info_hash", h) for h in hashes]))
        if r.status != 200:
            raise AssertionError("scrape got HTTP %d: %r" % (r.status, r.body[:300]))
        d = r.bdecoded()
        if b"files" not in d:
            raise AssertionError("scrape reply without 'files': %r" % d)
        return {h: (v[b"complete"], v[b"downloaded"], v[b"incomplete"])
                for h, v in d[b"files"].items()}

    def udp_client(self, **kw):
        return UdpTracker(self.udp[0], self.udp[1], **kw)


class Opentracker:
    """Debian's opentracker, for comparison: built whitelist-only, so every
    info-hash it should serve goes in `hashes` (raw 20 bytes). Same http/udp
    attributes as Trackerd; one port serves both."""

    def __init__(self, hashes, host="127.0.0.1", netns=None, taskset=None):
        binary = tool("opentracker", ["/usr/bin/opentracker"])
        self.dir = tempdir("opentracker-")
        # It chroots to -d and drops to "nobody": the dir must be readable.
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "whitelist"), "w") as f:
            f.write("".join(h.hex() + "\n" for h in hashes))
        with open(os.path.join(self.dir, "opentracker.conf"), "w") as f:
            f.write("access.whitelist whitelist\n")
        port = free_port(host="127.0.0.1" if netns else host)
        self.http = self.udp = (host, port)
        argv = [binary, "-f", os.path.join(self.dir, "opentracker.conf"), "-d", self.dir,
                "-i", host, "-p", str(port), "-P", str(port)]
        if taskset is not None:
            argv = ["taskset", "-c", str(taskset)] + argv
        self.proc = Proc(argv, "opentracker", self.dir, netns=netns)
        self.netns = netns
        check = (lambda: netns.socket_call(_all_ready, [self.http], [self.udp])) if netns \
            else (lambda: _all_ready([self.http], [self.udp]))
        wait_until(lambda: self.proc.running() and check(), 10, "opentracker to listen")

    def url(self, path):
        return "http://%s%s" % (fmt_addr(*self.http), path)

    def stop(self):
        # opentracker exits through its signal handler with a non-zero code.
        return self.proc.stop(expect_rc=None)


def _all_ready(http_addrs, udp_addrs):
    return (all(tcp_ready(h, p) for h, p in http_addrs)
            and all(udp_ready(h, p) for h, p in udp_addrs))
