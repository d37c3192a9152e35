"""Hosts on shaped links, for swarm tests and the swarm benchmark.

Each host is a network namespace of its own with one interface, eth0,
whose other end (a veth pair) sits in a router namespace that forwards
between them. Each link is shaped with tc HTB in both directions: the
host's upload on its own eth0, its download on the router's end. Both
classes feed a byte-limited FIFO holding queue_ms of traffic at the link
rate.

There is no added propagation delay: this kernel has no sch_netem (nor
fq/etf), so a packet waits only in the queues of the two links it crosses;
round-trip times are those of the queues (up to 2 * queue_ms when both are
full).

Host i is 10.77.i.2 (router side 10.77.i.1); the router also has
ROUTER_ADDR on its loopback, for a tracker every host reaches.
"""

import json

from .core import Netns, Proc, run, tempdir, tool, wait_until

ROUTER_ADDR = "10.77.255.1"
# veth hands whole TSO/GSO bursts (up to 64 KiB) to the qdisc: a FIFO of a
# few tens of KiB would drop every one of them, so bursts are kept small.
GSO_MAX = 16384


def mbit(rate):
    """Bytes per second of a rate in Mbit/s."""
    return rate * 1e6 / 8


class Host:
    """One host: its namespace (a statest.Netns: processes started with
    netns=host.ns run there), address and link rates in Mbit/s."""

    def __init__(self, index, ns, up, down):
        self.index = index
        self.ns = ns
        self.addr = "10.77.%d.2" % index
        self.up = up
        self.down = down


def shape(ns, dev, rate, queue_ms):
    """HTB at rate Mbit/s on dev's egress, over a FIFO of queue_ms."""
    limit = max(4 * GSO_MAX, int(mbit(rate) * queue_ms / 1000))
    for argv in (["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10"],
                 ["class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb",
                  "rate", "%gmbit" % rate, "ceil", "%gmbit" % rate],
                 ["qdisc", "add", "dev", dev, "parent", "1:10", "handle", "10:", "bfifo",
                  "limit", str(limit)]):
        run(["tc"] + argv, netns=ns)


class ShapedNet:
    """links: one (up, down) pair of Mbit/s rates per host. Everything is
    deleted at exit (the namespaces through statest.Netns)."""

    def __init__(self, links, queue_ms=25):
        if len(links) > 250:
            raise ValueError("at most 250 hosts")
        self.queue_ms = queue_ms
        self.router = Netns((ROUTER_ADDR,))
        run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], netns=self.router)
        self.hosts = [self._add_host(i, up, down) for i, (up, down) in enumerate(links)]

    def _add_host(self, i, up, down):
        ns = Netns()
        r, h = self.router.name, ns.name
        rdev = "h%d" % i
        run(["ip", "-n", r, "link", "add", rdev, "type", "veth", "peer", "name", "eth0",
             "netns", h])
        run(["ip", "-n", r, "addr", "add", "10.77.%d.1/24" % i, "dev", rdev])
        run(["ip", "-n", r, "link", "set", rdev, "up"])
        run(["ip", "-n", h, "addr", "add", "10.77.%d.2/24" % i, "dev", "eth0"])
        run(["ip", "-n", h, "link", "set", "eth0", "up"])
        for ns_name, dev in ((r, rdev), (h, "eth0")):
            run(["ip", "-n", ns_name, "link", "set", dev, "gso_max_size", str(GSO_MAX)])
        run(["ip", "-n", h, "route", "add", "default", "via", "10.77.%d.1" % i])
        shape(ns, "eth0", up, self.queue_ms)
        shape(self.router, rdev, down, self.queue_ms)
        return Host(i, ns, up, down)

    def iperf(self, src, dst, seconds=3):
        """TCP goodput in Mbit/s from host src to host dst (iperf3, one
        stream), as the receiver counted it. Tried up to three times (a
        run now and then ends without its summary)."""
        errors = []
        for _ in range(3):
            got = self._iperf_once(self.hosts[src], self.hosts[dst], seconds, errors)
            if got is not None:
                return got
        raise AssertionError("iperf3 %s -> %s failed:\n%s" % (
            self.hosts[src].addr, self.hosts[dst].addr, "\n".join(errors)))

    def _iperf_once(self, a, b, seconds, errors):
        iperf3 = tool("iperf3")
        logdir = tempdir("iperf3-")
        server = Proc([iperf3, "-s", "-1", "-B", b.addr], "iperf3-server", logdir, netns=b.ns)
        try:
            # Its "listening" line may sit in a stdio buffer: ask the kernel.
            wait_until(lambda: ":5201" in run(["ss", "-Hltn", "src", b.addr], netns=b.ns).out,
                       10, "iperf3 -s to listen")
            r = run([iperf3, "-c", b.addr, "-B", a.addr, "-t", str(seconds), "-J"],
                    timeout=seconds + 30, check=False, netns=a.ns)
        finally:
            server.stop(expect_rc=None)
        try:
            return json.loads(r.out)["end"]["sum_received"]["bits_per_second"] / 1e6
        except (ValueError, KeyError):
            errors.append("exit %d: %s%s%s" % (r.returncode, r.out[-2000:], r.err,
                                              server.log()))
            return None

    def check(self, pairs, seconds=3, tolerance=(0.85, 1.02)):
        """Measures each (src, dst) pair with iperf3 against the rate the
        shaping allows, min(src up, dst down). Returns printable lines;
        raises AssertionError when a pair is outside tolerance of it."""
        lines, bad = [], []
        for src, dst in pairs:
            want = min(self.hosts[src].up, self.hosts[dst].down)
            got = self.iperf(src, dst, seconds)
            ok = tolerance[0] * want <= got <= tolerance[1] * want
            lines.append("iperf3 host %d -> host %d: %.1f Mbit/s goodput, shaped to %g "
                         "(%.1f%%)%s" % (src, dst, got, want, 100 * got / want,
                                         "" if ok else "  OUT OF RANGE"))
            if not ok:
                bad.append(lines[-1])
        if bad:
            raise AssertionError("link shaping is off:\n" + "\n".join(bad))
        return lines
