"""Shared helpers for STA's integration, interop and benchmark scripts.

A test script imports this module, starts real daemons on loopback (or in a
network namespace it creates), talks to them with the plain protocol helpers
below and exits non-zero with a clear message on failure. Exit code 77 means
"skipped": only for a prerequisite that is genuinely absent (a third-party
client not installed, no permission to create a namespace).

Everything started through this module (processes, temp dirs, namespaces) is
registered and torn down at exit, whatever happened.
"""

import atexit
import errno
import hashlib
import http.client
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
import urllib.parse

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
    return os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


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
            return "STA_SANITIZE:BOOL=ON" in f.read()
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


# ---------------------------------------------------------------- bencode

def bencode(obj):
    """Encodes int, bytes, str (UTF-8), list/tuple and dict (keys bytes or
    str, sorted as raw bytes)."""
    out = []
    _benc(obj, out)
    return b"".join(out)


def _benc(obj, out):
    if isinstance(obj, bool):
        raise TypeError("bool is not bencodable")
    if isinstance(obj, int):
        out.append(b"i%de" % obj)
    elif isinstance(obj, (bytes, bytearray)):
        out.append(b"%d:" % len(obj))
        out.append(bytes(obj))
    elif isinstance(obj, str):
        _benc(obj.encode(), out)
    elif isinstance(obj, (list, tuple)):
        out.append(b"l")
        for x in obj:
            _benc(x, out)
        out.append(b"e")
    elif isinstance(obj, dict):
        items = [(k.encode() if isinstance(k, str) else bytes(k), v) for k, v in obj.items()]
        items.sort(key=lambda kv: kv[0])
        out.append(b"d")
        for k, v in items:
            _benc(k, out)
            _benc(v, out)
        out.append(b"e")
    else:
        raise TypeError("cannot bencode %r" % type(obj))


class BencodeError(ValueError):
    pass


def bdecode(data, strict=True):
    """Decodes one bencoded value that must span all of data. Strings come
    back as bytes, dict keys as bytes. strict also rejects non-canonical
    forms (unsorted or duplicate keys, leading zeros, -0)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("bdecode wants bytes")
    data = bytes(data)
    val, pos = _bdec(data, 0, strict, 0)
    if pos != len(data):
        raise BencodeError("trailing data at offset %d" % pos)
    return val


def _bint(data, pos, end, strict):
    s = data[pos:end]
    if not s or not (s.isdigit() or (s[:1] == b"-" and s[1:].isdigit())):
        raise BencodeError("bad integer %r at %d" % (s[:20], pos))
    if strict and (s == b"-0" or (len(s) > 1 and s[0:1] == b"0") or s[:2] == b"-0"):
        raise BencodeError("non-canonical integer %r at %d" % (s[:20], pos))
    return int(s)


def _bdec(data, pos, strict, depth):
    if depth > 64:
        raise BencodeError("nesting too deep")
    if pos >= len(data):
        raise BencodeError("truncated at %d" % pos)
    c = data[pos:pos + 1]
    if c == b"i":
        end = data.find(b"e", pos)
        if end < 0:
            raise BencodeError("unterminated integer at %d" % pos)
        return _bint(data, pos + 1, end, strict), end + 1
    if c == b"l":
        pos += 1
        out = []
        while data[pos:pos + 1] != b"e":
            v, pos = _bdec(data, pos, strict, depth + 1)
            out.append(v)
        return out, pos + 1
    if c == b"d":
        pos += 1
        out = {}
        last = None
        while data[pos:pos + 1] != b"e":
            if pos >= len(data):
                raise BencodeError("unterminated dict")
            if not data[pos:pos + 1].isdigit():
                raise BencodeError("dict key is not a string at %d" % pos)
            k, pos = _bdec(data, pos, strict, depth + 1)
            if strict and last is not None and k <= last:
                raise BencodeError("dict keys unsorted or duplicated at %r" % k)
            last = k
            v, pos = _bdec(data, pos, strict, depth + 1)
            out[k] = v
        return out, pos + 1
    if c.isdigit():
        colon = data.find(b":", pos)
        if colon < 0:
            raise BencodeError("unterminated string length at %d" % pos)
        n = _bint(data, pos, colon, strict)
        if n < 0 or colon + 1 + n > len(data):
            raise BencodeError("string length %d past end at %d" % (n, pos))
        return data[colon + 1:colon + 1 + n], colon + 1 + n
    raise BencodeError("unexpected byte %r at %d" % (c, pos))


# ---------------------------------------------------------------- torrents

AWKWARD_SIZES = (1, 2, 16383, 16384, 16385, 65535, 65537, 262143, 262145, 1000003)


def random_bytes(n, seed=None):
    rnd = random.Random(seed)
    return rnd.randbytes(n)


def make_file(path, size, seed=None):
    """Writes size pseudo-random bytes to path (parents created)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    rnd = random.Random(seed if seed is not None else path)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n
    return path


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha1_tree(root):
    """{relative path: sha1 hex} of every regular file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for fn in files:
            p = os.path.join(d, fn)
            out[os.path.relpath(p, root)] = sha1_file(p)
    return out


class Torrent:
    """A metainfo built in Python: data (the .torrent bytes), info_hash
    (20 raw bytes), hex, name, total size."""

    def __init__(self, data):
        self.data = data
        self.meta = bdecode(data)
        info = self.meta[b"info"]
        self.info_hash = hashlib.sha1(bencode(info)).digest()
        self.hex = self.info_hash.hex()
        self.name = info[b"name"].decode()
        if b"length" in info:
            self.size = info[b"length"]
        else:
            self.size = sum(f[b"length"] for f in info[b"files"])

    def with_announce(self, url):
        """The same torrent (same info-hash) with another announce URL."""
        meta = dict(self.meta)
        meta[b"announce"] = url.encode()
        return Torrent(bencode(meta))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.data)
        return path


def make_torrent(path, announce=None, piece_length=1 << 16, name=None, private=False,
                 extra_info=None):
    """Builds a BitTorrent v1 metainfo for the file or directory at path
    (a directory gives a multi-file torrent, files sorted by path).
    Returns a Torrent."""
    if piece_length <= 0 or piece_length & (piece_length - 1):
        raise ValueError("piece length must be a power of two")
    name = name or os.path.basename(os.path.normpath(path))
    if os.path.isdir(path):
        rels = []
        for d, _, files in os.walk(path):
            for fn in files:
                rels.append(os.path.relpath(os.path.join(d, fn), path))
        rels.sort()
        if not rels:
            raise ValueError("empty directory")
        paths = [os.path.join(path, r) for r in rels]
    else:
        rels = None
        paths = [path]
    pieces = []
    h = hashlib.sha1()
    fill = 0
    for p in paths:
        with open(p, "rb") as f:
            while True:
                chunk = f.read(piece_length - fill)
                if not chunk:
                    break
                h.update(chunk)
                fill += len(chunk)
                if fill == piece_length:
                    pieces.append(h.digest())
                    h = hashlib.sha1()
                    fill = 0
    if fill:
        pieces.append(h.digest())
    info = {"name": name, "piece length": piece_length, "pieces": b"".join(pieces)}
    if rels is None:
        info["length"] = os.path.getsize(path)
    else:
        info["files"] = [{"length": os.path.getsize(p), "path": r.split(os.sep)}
                         for p, r in zip(paths, rels)]
    if private:
        info["private"] = 1
    if extra_info:
        info.update(extra_info)
    meta = {"info": info, "created by": "statest", "creation date": 1700000000}
    if announce:
        meta["announce"] = announce
    return Torrent(bencode(meta))


# ---------------------------------------------------------------- HTTP

class HttpResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def bdecoded(self):
        try:
            return bdecode(self.body)
        except BencodeError as e:
            raise AssertionError("HTTP %d body is not canonical bencode (%s): %r"
                                 % (self.status, e, self.body[:300]))

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:200])


def http_request(host, port, method, target, body=None, headers=None, timeout=10, source=None):
    """One request on a fresh connection. target is the raw request target
    (already percent-encoded); source is the local address to send from
    (trackers tell peers apart by it: use 127.0.0.x)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        return HttpResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def http_get(host, port, target, **kw):
    return http_request(host, port, "GET", target, **kw)


def http_post(host, port, target, body, **kw):
    return http_request(host, port, "POST", target, body=body, **kw)


def http_raw(host, port, data, timeout=5, limit=1 << 20):
    """Sends raw bytes, half-closes, returns everything read until the
    server closes (or timeout / limit). For malformed requests."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close early on garbage: read what it said
        out = b""
        try:
            while len(out) < limit:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def http_status(raw):
    """Status code of a raw HTTP response, or None."""
    if not raw.startswith(b"HTTP/1."):
        return None
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def qs(params):
    """A query string from a list of (key, value) pairs; bytes values are
    percent-encoded byte by byte."""
    parts = []
    for k, v in params:
        if isinstance(v, int):
            v = str(v)
        if isinstance(v, str):
            v = v.encode()
        parts.append("%s=%s" % (urllib.parse.quote(k, safe=""),
                                urllib.parse.quote_from_bytes(v, safe="")))
    return "&".join(parts)


def peer_id(n):
    """A distinct, recognisable 20-byte peer id."""
    return b"-ST0001-" + (b"%012d" % n)


def announce_params(info_hash, pid, port, left=0, event=None, uploaded=0, downloaded=0,
                    compact=1, numwant=None, extra=()):
    p = [("info_hash", info_hash), ("peer_id", pid), ("port", port),
         ("uploaded", uploaded), ("downloaded", downloaded), ("left", left)]
    if compact is not None:
        p.append(("compact", compact))
    if event:
        p.append(("event", event))
    if numwant is not None:
        p.append(("numwant", numwant))
    p.extend(extra)
    return p


def parse_compact_peers(blob, family=socket.AF_INET):
    size = 6 if family == socket.AF_INET else 18
    if len(blob) % size:
        raise AssertionError("compact peers length %d is not a multiple of %d"
                             % (len(blob), size))
    out = []
    for i in range(0, len(blob), size):
        a = socket.inet_ntop(family, blob[i:i + size - 2])
        out.append((a, struct.unpack(">H", blob[i + size - 2:i + size])[0]))
    return out


def reply_peers(reply):
    """Set of (ip, port) from an announce reply, compact or dict form,
    peers and peers6."""
    out = set()
    peers = reply.get(b"peers", b"")
    if isinstance(peers, bytes):
        out.update(parse_compact_peers(peers))
    else:
        for d in peers:
            out.add((ipaddress.ip_address(d[b"ip"].decode()).compressed, d[b"port"]))
    if b"peers6" in reply:
        out.update(parse_compact_peers(reply[b"peers6"], socket.AF_INET6))
    return out


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

def libconfig_value(v):
    """A Python bool, str or int as a libconfig value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"%s"' % v
    return str(int(v))


class Trackerd:
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
        lines = [
            "# written by statest",
            "http_listen = [%s];" % ", ".join('"%s"' % fmt_addr(*a) for a in self.http_addrs),
            "udp_listen = [%s];" % ", ".join('"%s"' % fmt_addr(*a) for a in self.udp_addrs),
            'state_dir = "%s";' % self.state_dir,
        ]
        for k, v in sorted(self.options.items()):
            if v is None:
                continue
            lines.append("%s = %s;" % (k, libconfig_value(v)))
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, wait=True):
        self.proc = Proc([self.binary, "--config", self.config] + self.extra_args,
                         self.name, self.dir, netns=self.netns)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=10):
        def ready():
            if not self.proc.running():
                self.proc.dump_log()
                raise AssertionError("%s exited with %s before it was ready"
                                     % (self.name, self.proc.p.returncode))
            if self.netns is not None:
                return self.netns.socket_call(_all_ready, self.http_addrs, self.udp_addrs)
            return _all_ready(self.http_addrs, self.udp_addrs)
        wait_until(ready, slack(timeout), "%s to listen" % self.name)

    def stop(self, **kw):
        return self.proc.stop(**kw)

    def kill9(self):
        return self.proc.kill9()

    def restart(self):
        if self.proc.running():
            self.stop()
        self.start()

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

    def log(self):
        return self.proc.log()

    def dump_log(self):
        self.proc.dump_log()


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


# ---------------------------------------------------------------- stad

CTL_VERSION = 1
CTL_MSG = {"HELLO": 0x0001, "STATUS": 0x0101, "START": 0x0102, "UPDATE": 0x0103,
           "REQUEST": 0x0104, "SHARE": 0x0105, "REMOVE": 0x0106, "PAUSE": 0x0107,
           "RESUME": 0x0108, "CLOSE": 0x0109, "WATCH": 0x010a, "OK": 0x0201,
           "ERROR": 0x0202, "EVENT": 0x0301}


def ctl_frame(msg, payload=None, version=CTL_VERSION):
    """One control-protocol frame (see common/ctl_proto.h); msg is a name
    or a number, payload a dict (bencoded) or raw bytes."""
    body = payload if isinstance(payload, bytes) else bencode(payload or {})
    mtype = CTL_MSG[msg] if isinstance(msg, str) else msg
    return struct.pack(">IHH", len(body), version, mtype) + body


class CtlClient:
    """stad's control protocol spoken directly (no stactl): for polling
    STATUS many times a second and for hostile frames. Replies come back as
    (type name, decoded payload dict)."""

    def __init__(self, path, timeout=10, hello=True):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        try:
            self.s.connect(path)
        except OSError:
            self.s.close()
            raise
        self.buf = b""
        if hello:
            kind, reply = self.call("HELLO", {"client": "statest"})
            if kind != "OK":
                raise AssertionError("HELLO refused: %r" % reply)

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        self.s.sendall(data)

    def _read(self, n):
        while len(self.buf) < n:
            b = self.s.recv(65536)
            if not b:
                raise EOFError("stad closed the control connection")
            self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        length, version, mtype = struct.unpack(">IHH", self._read(8))
        if length > 1 << 20:
            raise AssertionError("control frame of %d bytes" % length)
        body = self._read(length)
        names = {v: k for k, v in CTL_MSG.items()}
        if mtype not in names:
            raise AssertionError("unknown control message type %#x" % mtype)
        return names[mtype], bdecode(body)

    def call(self, msg, payload=None):
        self.send(ctl_frame(msg, payload))
        return self.recv()

    def status(self, torrent=None, peers=False):
        """The torrents list of a STATUS reply (str values decoded)."""
        req = {"peers": int(peers)}
        if torrent is not None:
            req["torrent"] = torrent
        kind, reply = self.call("STATUS", req)
        if kind != "OK":
            raise AssertionError("STATUS failed: %r" % reply)
        return [plain(t) for t in reply.get(b"torrents", [])]


def plain(v):
    """bdecode output with bytes turned into str where they are UTF-8
    (info-hashes in the control protocol are hex text already)."""
    if isinstance(v, bytes):
        try:
            return v.decode()
        except UnicodeDecodeError:
            return v
    if isinstance(v, dict):
        return {plain(k): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


class CtlResult:
    """A stactl run: rc, out, err, and json (the last JSON line of stdout,
    or None) and jsons (every JSON line) when --json was given."""

    def __init__(self, r, want_json):
        self.rc = r.returncode
        self.out = r.stdout.decode("utf-8", "replace")
        self.err = r.stderr.decode("utf-8", "replace")
        self.jsons = []
        if want_json:
            for line in self.out.splitlines():
                if line.strip():
                    try:
                        self.jsons.append(json.loads(line))
                    except ValueError:
                        raise AssertionError("stactl --json printed a non-JSON line: %r\n%s"
                                             % (line, self))
        self.json = self.jsons[-1] if self.jsons else None

    def __repr__(self):
        return "<stactl exit %d>\n--- stdout:\n%s--- stderr:\n%s" % (self.rc, self.out, self.err)


def stactl(socket_path, *args, json_out=False, timeout=60, env=None):
    """Runs stactl --socket socket_path [--json] args...; never raises on a
    non-zero exit (see CtlResult.rc)."""
    argv = [sta_binary("stactl"), "--socket", socket_path]
    if json_out:
        argv.append("--json")
    e = dict(os.environ)
    e.pop("STA_SOCKET", None)
    if env:
        e.update(env)
    r = subprocess.run(argv + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout, env=e)
    return CtlResult(r, json_out)


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


class Stad:
    """stad on loopback with its own config file, state/share/download
    dirs, listen address (loopback_host() unless given), peer port and
    control socket (all under one temp dir).

    tracker is the announce URL (trackerd.url("/announce")); options are
    extra config keys. share gives {relative path: size} files to create
    in the share dir before start (pseudo-random content, seeded by seed)."""

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
        self.options = {"tracker": tracker, "workers": 2, "log_level": "debug"}
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
        lines = ["# written by statest"]
        for k, v in sorted(base.items()):
            if v is None:
                continue
            lines.append("%s = %s;" % (k, libconfig_value(v)))
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, wait=True):
        self.proc = Proc([self.binary, "--config", self.config] + self.extra_args,
                         self.name, self.dir)
        if wait:
            self.wait_ready()

    def _answers(self):
        try:
            with CtlClient(self.socket, timeout=2):
                return True
        except (OSError, EOFError, AssertionError):
            return False

    def wait_ready(self, timeout=10):
        def ready():
            if not self.proc.running():
                self.proc.dump_log()
                raise AssertionError("%s exited with %s before it was ready"
                                     % (self.name, self.proc.p.returncode))
            return self._answers()
        wait_until(ready, slack(timeout), "%s's control socket to answer" % self.name)

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


class PeerRecorder:
    """Polls a downloader's STATUS with peers=1 as fast as it answers and
    keeps, per peer address, the largest down/blocks/hash_fails seen and
    the torrent's done bytes when the peer was last listed (last_done): a
    finished download drops its seed connections, and their counters with
    them."""

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
                            m["last_done"] = t.get("done")
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.done.set()
        self.thread.join(10)
        if self.error:
            raise AssertionError("STATUS polling failed: %r" % self.error)
        return self.peers


# ---------------------------------------------------------------- unittest glue

class TestCase(unittest.TestCase):
    """Prints the logs of the processes a test started when it fails, and
    kills what is left of them after each test."""

    def run(self, result=None):
        result = result or self.defaultTestResult()
        first = len(_all_procs)
        bad = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            mine = _all_procs[first:]
            if len(result.failures) + len(result.errors) > bad:
                for p in mine:
                    p.dump_log()
            for p in mine:
                p._kill_at_exit()


def main():
    """Runs the unittest cases of __main__; exits 0, 1 (failure) or 77
    (a prerequisite is missing: every test skipped with a Skip)."""
    try:
        prog = unittest.main(module="__main__", exit=False, verbosity=2)
    except Skip as e:
        print("SKIP: %s" % e)
        run_cleanups()
        sys.exit(SKIP)
    res = prog.result
    run_cleanups()
    if not res.wasSuccessful():
        print("FAILED: %d failure(s), %d error(s)" % (len(res.failures), len(res.errors)))
        sys.exit(1)
    # Class-level skips (setUpClass) are reported without a test instance.
    skipped_tests = sum(1 for t, _ in res.skipped if isinstance(t, unittest.TestCase))
    if res.skipped and res.testsRun == skipped_tests:
        print("SKIP: every test skipped: %s" % res.skipped[0][1])
        sys.exit(SKIP)
    sys.exit(0)

