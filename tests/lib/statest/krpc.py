"""A KRPC (BEP 5) client for tests: queries to a DHT node over UDP, and
the pieces of a hostile sender. Imported by name: statest.krpc."""

import os
import select
import socket

from .bencode import bencode, bdecode, BencodeError


class KrpcClient:
    """One UDP socket on host (port 0: the kernel picks), with a node id of
    its own; query() sends and waits for the answer with the same tid."""

    def __init__(self, host="127.0.0.1", port=0, node_id=None):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.id = node_id or os.urandom(20)
        self.n = 0

    @property
    def addr(self):
        return self.sock.getsockname()[:2]

    def close(self):
        self.sock.close()

    def send(self, to, method, args, tid=None):
        """Sends a query; returns its tid."""
        self.n += 1
        tid = tid or b"q%d" % self.n
        a = {"id": self.id}
        a.update(args)
        self.sock.sendto(bencode({"t": tid, "y": "q", "q": method, "a": a}), to)
        return tid

    def recv(self, timeout):
        """The next datagram decoded (dict), or None after timeout s."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data, _ = self.sock.recvfrom(65536)
        try:
            return bdecode(data, strict=False)
        except BencodeError:
            return {b"undecodable": data}

    def query(self, to, method, timeout=2, **args):
        """Sends and returns the answer (response or error) with our tid,
        or None; queries the node sends us meanwhile are skipped."""
        tid = self.send(to, method, args)
        while True:
            m = self.recv(timeout)
            if m is None or m.get(b"t") == tid:
                return m

    def drain(self, timeout=0.2):
        """Every datagram that arrives until timeout s pass without one."""
        out = []
        while True:
            m = self.recv(timeout)
            if m is None:
                return out
            out.append(m)


def compact_peers(values):
    """The (ip, port) pairs of a get_peers "values" list (IPv4 entries)."""
    out = []
    for v in values:
        if len(v) == 6:
            out.append((socket.inet_ntoa(v[:4]), int.from_bytes(v[4:], "big")))
    return out


def malformed_datagrams():
    """Datagrams a node must drop or answer with an error, never crash on:
    not bencode, wrong types and shapes, hostile sizes and depths."""
    q = b"d1:ad2:id20:" + b"x" * 20
    return [
        b"", b"\x00", b"d", b"de", b"le", b"i1e", b"d1:t2:aae",
        b"d1:t2:aa1:y1:qe",                                     # query without a method
        b"d1:q4:ping1:t2:aa1:y1:qe",                            # without arguments
        b"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",              # short id
        q + b"e1:q9:find_node1:t2:aa1:y1:qe",                   # no target
        q + b"9:info_hash3:abce1:q9:get_peers1:t2:aa1:y1:qe",   # short info_hash
        q + b"9:info_hash20:" + b"h" * 20 + b"4:porti99999e5:token1:xe"
            b"1:q13:announce_peer1:t2:aa1:y1:qe",               # port out of range
        q + b"9:info_hash20:" + b"h" * 20 + b"4:porti1e5:token4:nopee"
            b"1:q13:announce_peer1:t2:aa1:y1:qe",               # a token never given
        q + b"4:wanti1ee1:q9:find_node1:t2:aa1:y1:qe",          # want not a list
        b"d1:rd2:id20:" + b"r" * 20 + b"5:nodes25:" + b"n" * 25 + b"e1:t4:abcd1:y1:re",
        b"d1:eli201ee1:t2:aa1:y1:ee",                           # error without text
        b"d1:t" + b"9" * 30 + b":x1:y1:qe",                     # absurd string length
        b"d1:ad2:idi" + b"9" * 40 + b"ee1:q4:ping1:t2:aa1:y1:qe",  # absurd integer
        b"l" * 5000 + b"e" * 5000,                              # deep nesting
        b"d1:ad2:id20:" + b"x" * 20 + b"e1:q4:ping1:t2:aa1:y1:q" + b"x" * 9000 + b"e",  # long
        os.urandom(512),
    ]
