"""A BEP 10 peer in Python for stad's magnet and PEX tests.

It listens on its own loopback address, answers a handshake for its one
info-hash with the extension and Fast bits, sends its extension handshake
(ut_metadata, ut_pex, metadata_size) and "have none", then plays a part:

  honest        serves the info dict it was given (BEP 9)
  wrong         serves another info dict of the same size: the hash fails
  huge          claims a metadata_size of 1 GiB
  out_of_range  answers a request with data for a piece past the end
  pex_flood     sends ut_pex messages of 100 added peers every 20 ms
  pex_list      sends one ut_pex message of the peers given (IPv4 and IPv6)
  big_bitfield  sends a bitfield of 1 MiB, larger than any torrent stad takes
                has, while stad cannot know the piece count yet

Every mode but wrong, huge and out_of_range serves the info dict honestly,
and every mode keeps the ut_pex messages stad sends it (pex_received). It
never has pieces. Everything stad does to it is counted, so a test can
check that stad closed it, and how soon.
"""

import os
import socket
import struct
import threading
import time

from .bencode import bdecode, bencode
from .btpeer import Listener

RESERVED = b"\x00\x00\x00\x00\x00\x10\x00\x04"   # extension protocol, Fast
MSG_BITFIELD, MSG_HAVE_NONE, MSG_EXTENDED = 5, 0x0f, 20
OUR_METADATA_ID, OUR_PEX_ID = 3, 4
PIECE = 16384
MODES = ("honest", "wrong", "huge", "out_of_range", "pex_flood", "pex_list", "big_bitfield")


def ext_msg(ext_id, payload):
    return struct.pack(">IBB", 2 + len(payload), MSG_EXTENDED, ext_id) + payload


class ExtPeer(Listener):
    """Plays mode (see MODES) for torrent (a statest.Torrent) on host.
    pex_peers: the (host, port) pairs a pex_flood or pex_list peer tells of
    (pex_flood: IPv4 only). pex_id: the ext id a pex_list peer sends to when
    stad offered no ut_pex (to check that stad ignores it)."""

    def __init__(self, torrent, host, mode, pex_peers=(), pex_id=None, name=None):
        if mode not in MODES:
            raise ValueError(mode)
        self.torrent = torrent
        self.mode = mode
        self.name = name or "extpeer-" + mode
        self.info = bencode(torrent.meta[b"info"])
        self.pex_peers = list(pex_peers)
        self.pex_id = pex_id
        self.pex_received = []     # stad's ut_pex messages, decoded
        self.pid = b"-PY0001-" + os.urandom(6).hex().encode()
        self.handshakes = 0
        self.requests = 0          # ut_metadata requests from stad
        self.pex_sent = 0
        self.closed_by_remote = 0
        self.their_ids = {}
        super().__init__(host)

    @property
    def xpe(self):
        return "%s:%d" % (self.host, self.port)

    # ---- what it says

    def _metadata_size(self):
        return 1 << 30 if self.mode == "huge" else len(self.info)

    def _ext_handshake(self):
        return ext_msg(0, bencode({b"m": {b"ut_metadata": OUR_METADATA_ID,
                                          b"ut_pex": OUR_PEX_ID},
                                   b"metadata_size": self._metadata_size(),
                                   b"v": b"statest extpeer " + self.mode.encode()}))

    def _info_bytes(self):
        if self.mode != "wrong":
            return self.info
        # Same length, other bytes inside the pieces string: a valid dict
        # whose hash is not the info-hash.
        b = bytearray(self.info)
        at = b.find(b"6:pieces") + 8
        at = b.index(b":", at) + 1
        b[at] ^= 0xff
        return bytes(b)

    def _data(self, their_id, piece):
        info = self._info_bytes()
        if self.mode == "out_of_range":
            piece = len(info) // PIECE + 5
            chunk = b"x" * PIECE
        else:
            chunk = info[piece * PIECE:(piece + 1) * PIECE]
        head = bencode({b"msg_type": 1, b"piece": piece, b"total_size": len(info)})
        return ext_msg(their_id, head + chunk)

    def _pex(self, their_id):
        v4 = [(h, p) for h, p in self.pex_peers if ":" not in h][:100]
        v6 = [(h, p) for h, p in self.pex_peers if ":" in h][:100]
        added = b"".join(socket.inet_aton(h) + struct.pack(">H", p) for h, p in v4)
        added6 = b"".join(socket.inet_pton(socket.AF_INET6, h) + struct.pack(">H", p)
                          for h, p in v6)
        return ext_msg(their_id, bencode({b"added": added, b"added.f": bytes(len(v4)),
                                          b"added6": added6, b"added6.f": bytes(len(v6)),
                                          b"dropped": b""}))

    # ---- a connection

    def _on_ext(self, c, ext_id, payload):
        if ext_id == 0:
            m = bdecode(payload, strict=False).get(b"m", {})
            with self.lock:
                self.their_ids = {k: v for k, v in m.items() if isinstance(v, int)}
            to = self.their_ids.get(b"ut_pex") or self.pex_id
            if self.mode == "pex_list" and to:
                c.sendall(self._pex(to))
                with self.lock:
                    self.pex_sent += 1
            return
        if ext_id == OUR_PEX_ID:
            with self.lock:
                self.pex_received.append(bdecode(payload, strict=False))
            return
        if ext_id != OUR_METADATA_ID:
            return
        end = payload.index(b"ee") + 2       # a request is a two-key dict
        req = bdecode(payload[:end], strict=False)
        if req.get(b"msg_type") != 0:
            return
        with self.lock:
            self.requests += 1
            their = self.their_ids.get(b"ut_metadata", 0)
        if their:
            c.sendall(self._data(their, req[b"piece"]))

    def _flood(self, c):
        while not self.stopping:
            with self.lock:
                their = self.their_ids.get(b"ut_pex", 0)
            if their:
                try:
                    c.sendall(self._pex(their))
                except OSError:
                    return          # closed: counted by _serve
                with self.lock:
                    self.pex_sent += 1
            time.sleep(0.02)

    def _serve(self, c):
        try:
            if not self._answer_handshake(c, RESERVED):
                return
            c.sendall(self._ext_handshake() + struct.pack(">IB", 1, MSG_HAVE_NONE))
            if self.mode == "big_bitfield":
                c.sendall(struct.pack(">IB", 1 + (1 << 20), MSG_BITFIELD) + b"\xff" * (1 << 20))
            if self.mode == "pex_flood":
                threading.Thread(target=self._flood, args=(c,), daemon=True).start()
            for msg in self._messages(c):
                if msg[0] == MSG_EXTENDED and len(msg) >= 2:
                    self._on_ext(c, msg[1], msg[2:])
        except (EOFError, OSError):
            if not self.stopping:
                with self.lock:
                    self.closed_by_remote += 1
