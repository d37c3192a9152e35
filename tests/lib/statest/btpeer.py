"""A minimal BitTorrent peer in Python for stad's integration tests.

It announces to a tracker from its own loopback address, accepts peer-wire
connections (BEP 3: handshake, bitfield, unchoke, request -> piece) and
serves blocks of one torrent: honestly from the data file, slowly (rate
limited), or as garbage. It never downloads. Everything it does is counted
so a test can check what the daemon on the other side did to it.

With mse="accept" it also takes MSE/PE connections (statest.mse, RC4 or
plaintext as the initiator offers); with mse="require" only those.
"""

import os
import socket
import struct
import threading
import time

import statest as st
from statest import mse as _mse

PSTR = b"\x13BitTorrent protocol"
MSG_CHOKE, MSG_UNCHOKE, MSG_INTERESTED, MSG_NOT_INTERESTED = 0, 1, 2, 3
MSG_HAVE, MSG_BITFIELD, MSG_REQUEST, MSG_PIECE, MSG_CANCEL = 4, 5, 6, 7, 8
MAX_BLOCK = 1 << 17


def _recv_exact(s, n):
    out = b""
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b:
            raise EOFError
        out += b
    return out


def handshake(info_hash, pid):
    return PSTR + bytes(8) + info_hash + pid


class Listener:
    """A TCP listener on (host, a free port; IPv4 or IPv6) that serves each accepted
    connection with self._serve(conn) on a thread of its own; stop() (also
    at exit) closes the listener and every connection. Subclasses count
    under self.lock."""

    def __init__(self, host):
        self.host = host
        self.port = st.free_port(host=host)
        self.lock = threading.Lock()
        self.accepted = 0            # connections accepted
        self.stopping = False
        self._conns = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.ls = socket.socket(family, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, self.port))
        self.ls.listen(16)
        self.ls.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()
        st.at_cleanup(self.stop)

    def stop(self):
        self.stopping = True
        try:
            self.ls.close()
        except OSError:
            pass
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(2)

    def _accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self._conns.append(c)
            threading.Thread(target=self._serve_and_close, args=(c,), daemon=True).start()

    def _serve_and_close(self, c):
        try:
            self._serve(c)
        finally:
            with self.lock:
                if c in self._conns:
                    self._conns.remove(c)
            c.close()

    def _serve(self, c):
        raise NotImplementedError

    def _answer_handshake(self, c, reserved=bytes(8)):
        """Reads the handshake and answers it when it names self.torrent
        (as self.pid, with these reserved bits); False otherwise."""
        c.settimeout(30)
        hs = _recv_exact(c, 68)
        if hs[:20] != PSTR or hs[28:48] != self.torrent.info_hash:
            return False
        with self.lock:
            self.handshakes += 1
        c.sendall(PSTR + reserved + self.torrent.info_hash + self.pid)
        return True

    def _messages(self, c):
        """Yields each message (id and payload; keep-alives skipped) until
        the connection ends (EOFError) or a length over 1 MiB."""
        while not self.stopping:
            n = struct.unpack(">I", _recv_exact(c, 4))[0]
            if n > 1 << 20:
                return
            if n:
                yield _recv_exact(c, n)


class BtPeer(Listener):
    """Serves torrent (a statest.Torrent) on (host, free port).

    data_path: the file of a single-file torrent (None when garbage is
    True). garbage: answer every request with random bytes; lies: answer
    only the first `lies` requests with random bytes, the rest honestly.
    rate: bytes per second summed over connections (None: unlimited)."""

    def __init__(self, torrent, host, data_path=None, garbage=False, lies=0, rate=None,
                 name="btpeer", mse=None):
        if data_path is None and not garbage:
            raise ValueError("an honest peer needs the data")
        self.torrent = torrent
        self.data_path = data_path
        self.garbage = garbage
        self.lies = lies
        self.rate = rate
        self.name = name
        self.mse = mse
        self.pid = b"-PY0001-" + os.urandom(6).hex().encode()
        info = torrent.meta[b"info"]
        self.piece_length = info[b"piece length"]
        self.n_pieces = len(info[b"pieces"]) // 20
        self.handshakes = 0          # connections with our info-hash
        self.requests = 0
        self.garbage_sent = 0        # blocks answered with random bytes
        self.bytes_served = 0
        self.closed_by_remote = 0
        self.encrypted = 0           # connections that came through MSE with RC4
        self.plain_refused = 0       # plaintext handshakes refused (mse="require")
        self._next_send = time.monotonic()
        super().__init__(host)

    # ---- tracker

    def announce(self, tracker, event="started"):
        """HTTP announce as a seeder from our own address; returns the reply."""
        return tracker.announce(self.torrent.info_hash, self.pid, self.port, left=0,
                                event=event, source=self.host)

    # ---- serving

    def _block(self, index, begin, length):
        with self.lock:
            lie = self.garbage or self.garbage_sent < self.lies
            self.garbage_sent += lie
        if lie:
            return os.urandom(length)
        with open(self.data_path, "rb") as f:
            f.seek(index * self.piece_length + begin)
            return f.read(length)

    def _pace(self, n):
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self._next_send)
            self._next_send = at + n / self.rate
        time.sleep(max(0.0, at - now))

    def _open(self, c):
        """The connection as a socket-like stream: c itself for a plaintext
        handshake, an MSE stream (the handshake, decrypted, first in it)
        for an encrypted one; None when refused."""
        c.settimeout(30)
        first = c.recv(1, socket.MSG_PEEK)
        if first == PSTR[:1] or self.mse is None:
            if first == PSTR[:1] and self.mse == "require":
                with self.lock:
                    self.plain_refused += 1
                return None
            return c
        accept = _mse.CRYPTO_RC4 | (_mse.CRYPTO_PLAIN if self.mse == "accept" else 0)
        stream = _mse.respond(c, self.torrent.info_hash, accept=accept)
        if stream.rc4:
            with self.lock:
                self.encrypted += 1
        return stream

    def _serve(self, c):
        try:
            c = self._open(c)
            if c is None or not self._answer_handshake(c):
                return
            nbytes = (self.n_pieces + 7) // 8
            bits = bytearray(b"\xff" * nbytes)
            spare = nbytes * 8 - self.n_pieces
            if spare:
                bits[-1] = (0xff << spare) & 0xff
            c.sendall(struct.pack(">IB", 1 + nbytes, MSG_BITFIELD) + bits)
            c.sendall(struct.pack(">IB", 1, MSG_UNCHOKE))
            for msg in self._messages(c):
                if msg[0] == MSG_INTERESTED:
                    c.sendall(struct.pack(">IB", 1, MSG_UNCHOKE))
                elif msg[0] == MSG_REQUEST and len(msg) == 13:
                    index, begin, length = struct.unpack(">III", msg[1:])
                    if index >= self.n_pieces or length > MAX_BLOCK:
                        return
                    block = self._block(index, begin, length)
                    self._pace(len(block))
                    c.sendall(struct.pack(">IBII", 9 + len(block), MSG_PIECE, index, begin)
                              + block)
                    with self.lock:
                        self.requests += 1
                        self.bytes_served += len(block)
        except EOFError:
            with self.lock:
                self.closed_by_remote += 1
        except OSError:
            if not self.stopping:
                with self.lock:
                    self.closed_by_remote += 1


def dial(host, port, info_hash, source, timeout=5):
    """Connects from source to a peer and sends a handshake. Returns the
    peer's 68-byte handshake, or None when it closed or reset the connection
    instead of answering."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect((host, port))
        s.sendall(handshake(info_hash, b"-PY0001-" + os.urandom(6).hex().encode()))
        return _recv_exact(s, 68)
    except (EOFError, ConnectionError):
        return None
    finally:
        s.close()
