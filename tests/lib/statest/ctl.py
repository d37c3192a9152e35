"""stad's control protocol spoken directly, and stactl runs."""

import json
import os
import socket
import struct
import subprocess

from .core import sta_binary
from .bencode import bdecode, bencode


# ---------------------------------------------------------------- stad

CTL_VERSION = 3
CTL_MSG = {"HELLO": 0x0001, "STATUS": 0x0101, "START": 0x0102, "UPDATE": 0x0103,
           "REQUEST": 0x0104, "SHARE": 0x0105, "REMOVE": 0x0106, "PAUSE": 0x0107,
           "RESUME": 0x0108, "CLOSE": 0x0109, "WATCH": 0x010a, "SEARCH": 0x010b, "OK": 0x0201,
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
