"""Shared base: locations, cleanup at exit, ports, processes, network
namespaces."""

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import unittest



SKIP = 77


class Skip(unittest.SkipTest):
    """A prerequisite is missing. Inside a test it is a unittest skip; a
    script whose tests are all skipped exits 77."""


def skip(msg):
    raise Skip(msg)


# ---------------------------------------------------------------- locations

def source_dir():
    d = os.environ.get("STA_SOURCE_DIR")
    if d:
        return d
    # tests/lib/statest/core.py: three levels below the source tree.
    return os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def build_dir():
    d = os.environ.get("STA_BUILD_DIR")
    if not d:
        raise RuntimeError("STA_BUILD_DIR is not set (run through ctest, or export it)")
    return d


def sta_binary(prog):
    """Path of one of our programs in the build dir.

    A program whose sources do not exist yet is a missing prerequisite (skip);
    one whose sources exist but that was not built is a failure."""
    path = os.path.join(build_dir(), prog, prog)
    if os.access(path, os.X_OK):
        return path
    if not os.path.exists(os.path.join(source_dir(), prog, "main.c")):
        skip("%s is not written yet (no %s/main.c)" % (prog, prog))
    raise RuntimeError("%s not built: %s missing" % (prog, path))


def tool(name, paths=()):
    """Path of a third-party executable, or skip if it is not installed."""
    for p in paths:
        if os.access(p, os.X_OK):
            return p
    p = shutil.which(name)
    if not p:
        skip("%s is not installed" % name)
    return p


SYSTEM_PYTHON = "/usr/bin/python3"


def require_libtorrent():
    """Debian's python3-libtorrent is only importable by /usr/bin/python3."""
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import libtorrent"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        skip("python3-libtorrent is not installed for %s" % SYSTEM_PYTHON)
    return SYSTEM_PYTHON


def sanitized():
    """True when the build dir is a sanitizer build (slower daemons)."""
    d = os.environ.get("STA_BUILD_DIR")
    if not d:
        return False
    try:
        with open(os.path.join(d, "CMakeCache.txt")) as f:
            cache = f.read()
        return "STA_SANITIZE:BOOL=ON" in cache or "STA_TSAN:BOOL=ON" in cache
    except OSError:
        return False


def slack(seconds):
    """A deadline scaled for sanitizer builds."""
    return seconds * 3 if sanitized() else seconds


# ---------------------------------------------------------------- cleanup

_cleanups = []


def at_cleanup(fn, *args):
    """Runs fn(*args) at exit, last registered first. Returns a handle for
    cancel_cleanup."""
    entry = [fn, args]
    _cleanups.append(entry)
    return entry


def cancel_cleanup(entry):
    if entry in _cleanups:
        _cleanups.remove(entry)


def run_cleanups():
    while _cleanups:
        fn, args = _cleanups.pop()
        try:
            fn(*args)
        except Exception:
            traceback.print_exc()


atexit.register(run_cleanups)


def _on_signal(signum, frame):
    run_cleanups()
    sys.exit(128 + signum)


for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, _on_signal)


def tempdir(prefix="statest-"):
    """A fresh temporary directory removed at exit (kept if STA_KEEP_TMP=1)."""
    d = tempfile.mkdtemp(prefix=prefix)
    if os.environ.get("STA_KEEP_TMP") != "1":
        at_cleanup(shutil.rmtree, d, True)
    return d


# ---------------------------------------------------------------- ports

_used_ports = set()
_port_rng = random.Random(os.getpid() ^ time.time_ns())


def _ephemeral_low():
    """The first port the kernel hands out to outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(kind="tcp", host="127.0.0.1"):
    """A port that is free for both TCP and UDP on host right now, never
    handed out twice by this process. Picked at random below the kernel's
    ephemeral range: a port bind(0) chose could be taken by any outgoing
    connection (of a test running beside this one) before its daemon
    binds it."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    low = min(_ephemeral_low(), 65536)
    for _ in range(256):
        port = _port_rng.randrange(max(1024, low - 12000), low)
        if port in _used_ports:
            continue
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as t, \
                    socket.socket(fam, socket.SOCK_DGRAM) as u, \
                    socket.socket(fam, socket.SOCK_STREAM) as w:
                t.bind((host, port))
                u.bind((host, port))
                t.close()
                w.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", port))  # free on every address
        except OSError:
            continue
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port found on %s" % host)


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def fmt_addr(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


# ---------------------------------------------------------------- processes

def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns a true value (returned) or timeout
    seconds pass (AssertionError naming what)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tcp_ready(host, port, timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


_all_procs = []


class Proc:
    """A child process with its stdout+stderr captured to a log file.

    argv runs with cwd; netns wraps it in `ip netns exec NAME`. The process
    is killed at exit if still running."""

    def __init__(self, argv, name, logdir, cwd=None, env=None, netns=None):
        self.name = name
        self.argv = list(argv)
        if netns is not None:
            self.argv = ["ip", "netns", "exec", netns.name] + self.argv
        self.log_path = os.path.join(logdir, "%s.log" % name)
        self.rc = None
        self._log = open(self.log_path, "ab")
        e = dict(os.environ)
        if env:
            e.update(env)
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                  stderr=subprocess.STDOUT, cwd=cwd, env=e,
                                  start_new_session=True)
        self.pid = self.p.pid
        self._cleanup = at_cleanup(self._kill_at_exit)
        _all_procs.append(self)

    def running(self):
        return self.p.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def dump_log(self, limit=6000, out=None):
        out = out or sys.stderr
        text = self.log()
        if len(text) > limit:
            text = "...[%d bytes cut]...\n" % (len(text) - limit) + text[-limit:]
        out.write("----- log of %s (pid %d, %s) -----\n%s\n----- end of %s log -----\n"
                  % (self.name, self.pid, " ".join(self.argv), text, self.name))
        out.flush()

    def send_signal(self, sig):
        if self.running():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        try:
            self.rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.rc

    def stop(self, sig=signal.SIGTERM, timeout=10, expect_rc=0):
        """Sends sig to the process and waits for it to exit. With
        expect_rc not None, asserts the exit code (a process that has
        to be killed fails the check). Returns the exit code."""
        if self.running():
            os.kill(self.pid, sig)
        rc = self.wait(slack(timeout))
        if rc is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait(5)
            self._finish()
            raise AssertionError("%s (pid %d) did not exit within %ss of signal %d"
                                 % (self.name, self.pid, slack(timeout), sig))
        self._finish()
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError("%s (pid %d) exited with %d, expected %d"
                                 % (self.name, self.pid, rc, expect_rc))
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL, expect_rc=None)

    def _finish(self):
        cancel_cleanup(self._cleanup)
        if not self._log.closed:
            self._log.close()

    def _kill_at_exit(self):
        if self.running():
            # The whole session: `ip netns exec` and shells fork.
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait(5)
        self._finish()


def run(argv, timeout=30, check=True, netns=None, **kw):
    """subprocess.run with a timeout, captured text output and an assertion
    message that shows both streams."""
    if netns is not None:
        argv = ["ip", "netns", "exec", netns.name] + list(argv)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, **kw)
    r.out = r.stdout.decode("utf-8", "replace")
    r.err = r.stderr.decode("utf-8", "replace")
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(argv), r.returncode, r.out, r.err))
    return r


# ---------------------------------------------------------------- daemons

def libconfig_value(v):
    """A Python bool, str, int, list (of those) or dict (a group) as a
    libconfig value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"%s"' % v
    if isinstance(v, (list, tuple)):
        return "[ %s ]" % ", ".join(libconfig_value(x) for x in v)
    if isinstance(v, dict):
        return "{ %s }" % " ".join("%s = %s;" % (k, libconfig_value(x))
                                   for k, x in sorted(v.items()) if x is not None)
    return str(int(v))


def write_libconfig(path, settings, header=()):
    """Writes settings ({key: value}, None values left out) as a libconfig
    file, after the raw header lines."""
    lines = ["# written by statest"] + list(header)
    for k, v in sorted(settings.items()):
        if v is not None:
            lines.append("%s = %s;" % (k, libconfig_value(v)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Daemon:
    """What the daemon wrappers share: one Proc started with --config,
    readiness polling (subclasses define answers()), stop, restart, logs.
    Subclasses set binary, name, dir, config, extra_args and netns."""

    netns = None

    def start(self, wait=True):
        self.proc = Proc([self.binary, "--config", self.config] + self.extra_args,
                         self.name, self.dir, netns=self.netns)
        if wait:
            self.wait_ready()

    def answers(self):
        raise NotImplementedError

    def wait_ready(self, timeout=10):
        def ready():
            if not self.proc.running():
                self.proc.dump_log()
                raise AssertionError("%s exited with %s before it was ready"
                                     % (self.name, self.proc.p.returncode))
            return self.answers()
        wait_until(ready, slack(timeout), "%s to answer" % self.name)

    def stop(self, **kw):
        return self.proc.stop(**kw)

    def kill9(self):
        return self.proc.kill9()

    def restart(self):
        if self.proc.running():
            self.stop()
        self.start()

    def log(self):
        return self.proc.log()

    def dump_log(self):
        self.proc.dump_log()


# ---------------------------------------------------------------- netns

def _setns(path):
    """Moves the calling process into the network namespace at path
    (os.setns needs Python 3.12)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    finally:
        os.close(fd)


class Netns:
    """A private network namespace with only `lo` up, deleted at exit.
    Processes started with netns=ns run inside it."""

    def __init__(self, addrs=()):
        if os.geteuid() != 0:
            skip("network namespaces need root")
        if not shutil.which("ip"):
            skip("iproute2 (ip) is not installed")
        self.name = "statest-%d-%d" % (os.getpid(), random.randrange(1 << 30))
        r = subprocess.run(["ip", "netns", "add", self.name],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            skip("cannot create a network namespace: %s"
                 % r.stdout.decode(errors="replace").strip())
        self._cleanup = at_cleanup(self.delete)
        run(["ip", "link", "set", "lo", "up"], netns=self)
        for a in addrs:
            self.add_addr(a)

    def add_addr(self, addr):
        plen = 128 if ":" in addr else 32
        run(["ip", "addr", "add", "%s/%d" % (addr, plen), "dev", "lo"], netns=self)

    def delete(self):
        cancel_cleanup(self._cleanup)
        # Any process still inside keeps the namespace's interfaces alive but
        # the name goes; processes are killed by their own cleanups first.
        subprocess.run(["ip", "netns", "del", self.name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def socket_call(self, fn, *args):
        """Runs fn(*args) in a child process that has entered the namespace,
        returning its (picklable) result; lets test code open sockets there."""
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()

        def child():
            try:
                _setns("/var/run/netns/%s" % self.name)
                q.put((True, fn(*args)))
            except BaseException as e:  # report anything to the parent
                q.put((False, repr(e)))
        p = ctx.Process(target=child)
        p.start()
        ok, val = q.get(timeout=60)
        p.join(5)
        if not ok:
            raise AssertionError("in netns %s: %s" % (self.name, val))
        return val


class VethLan:
    """Two fresh namespaces, a and b, each with eth0, the two ends of one
    veth pair: a link that carries multicast (LSD) as a LAN does. addrs_a
    and addrs_b are "ADDR/PREFIX" (IPv6 ones are added without duplicate
    address detection, so they work at once)."""

    def __init__(self, addrs_a, addrs_b):
        self.a, self.b = Netns(), Netns()
        run(["ip", "-n", self.a.name, "link", "add", "eth0", "type", "veth", "peer", "name",
             "eth0", "netns", self.b.name])
        for ns, addrs in ((self.a, addrs_a), (self.b, addrs_b)):
            for addr in addrs:
                argv = ["ip", "-n", ns.name, "addr", "add", addr, "dev", "eth0"]
                run(argv + (["nodad"] if ":" in addr else []))
            run(["ip", "-n", ns.name, "link", "set", "eth0", "up"])

    def delete(self):
        self.a.delete()
        self.b.delete()
