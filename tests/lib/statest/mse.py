"""Message stream encryption (MSE/PE) in Python, for tests: an independent
second implementation of the spec beside common/mse.c, to derive known-answer
vectors for the unit tests and to play honest or hostile peers against stad.

Pure Python (pow() for Diffie-Hellman, hashlib for SHA-1, RC4 by hand), so it
is slow: fine for handshakes and a few KiB of payload, not for bulk data.
"""

import hashlib
import os
import struct

# The 768-bit safe prime of the spec, generator 2.
P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563", 16)
G = 2
KEY_LEN = 96
PAD_MAX = 512
VC = bytes(8)
CRYPTO_PLAIN = 0x01
CRYPTO_RC4 = 0x02


def sha1(*parts):
    return hashlib.sha1(b"".join(parts)).digest()


class RC4:
    """RC4 with the first `drop` bytes of key stream discarded."""

    def __init__(self, key, drop=1024):
        s = list(range(256))
        j = 0
        for i in range(256):
            j = (j + s[i] + key[i % len(key)]) & 0xFF
            s[i], s[j] = s[j], s[i]
        self.s, self.i, self.j = s, 0, 0
        self.crypt(bytes(drop))

    def crypt(self, data):
        s, i, j = self.s, self.i, self.j
        out = bytearray(data)
        for k in range(len(out)):
            i = (i + 1) & 0xFF
            j = (j + s[i]) & 0xFF
            s[i], s[j] = s[j], s[i]
            out[k] ^= s[(s[i] + s[j]) & 0xFF]
        self.i, self.j = i, j
        return bytes(out)


def pubkey(priv):
    return pow(G, int.from_bytes(priv, "big"), P).to_bytes(KEY_LEN, "big")


def secret(priv, peer_pub):
    y = int.from_bytes(peer_pub, "big")
    if not 1 < y < P - 1:
        raise ValueError("bad public key")
    return pow(y, int.from_bytes(priv, "big"), P).to_bytes(KEY_LEN, "big")


def keys(s, skey, initiator):
    """(encrypt, decrypt) RC4 streams for one side."""
    a = RC4(sha1(b"keyA", s, skey))
    b = RC4(sha1(b"keyB", s, skey))
    return (a, b) if initiator else (b, a)


def step3(s, skey, enc, provide, ia, pad_c=b""):
    """A's third message: the sync hash, the obfuscated SKEY and the
    encrypted VC, crypto_provide, PadC, IA."""
    x = bytes(p ^ q for p, q in zip(sha1(b"req2", skey), sha1(b"req3", s)))
    body = VC + struct.pack(">IH", provide, len(pad_c)) + pad_c + struct.pack(">H", len(ia))
    return sha1(b"req1", s) + x + enc.crypt(body) + enc.crypt(ia)


def step4(enc, select, pad_d=b""):
    return enc.crypt(VC + struct.pack(">IH", select, len(pad_d)) + pad_d)


def _recv_exact(sock, n):
    out = b""
    while len(out) < n:
        b = sock.recv(n - len(out))
        if not b:
            raise EOFError("connection closed after %d of %d bytes" % (len(out), n))
        out += b
    return out


def _recv_until(sock, pattern, limit):
    """Reads until pattern ends the data read; at most limit bytes."""
    got = b""
    while not got.endswith(pattern):
        if len(got) >= limit:
            raise ValueError("no sync pattern in %d bytes" % limit)
        b = sock.recv(1)
        if not b:
            raise EOFError("connection closed while syncing")
        got += b
    return got


class Stream:
    """A socket after the handshake, socket-like (sendall, recv,
    settimeout) through the chosen method; pending: plaintext already
    received (a responder's initial payload)."""

    def __init__(self, sock, enc, dec, select, pending=b""):
        self.sock = sock
        self.rc4 = select == CRYPTO_RC4
        self.enc, self.dec = enc, dec
        self.pending = pending

    def sendall(self, data):
        self.sock.sendall(self.enc.crypt(data) if self.rc4 else data)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def recv(self, n):
        if not self.pending:
            b = self.sock.recv(65536)
            self.pending = self.dec.crypt(b) if self.rc4 else b
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            b = self.recv(n - len(out))
            if not b:
                raise EOFError("connection closed")
            out += b
        return out


def initiate(sock, skey, ia, provide=CRYPTO_RC4, pad_a=None, priv=None):
    """Runs A's side over a connected socket; returns a Stream (the IA is
    already sent)."""
    priv = priv or os.urandom(20)
    pad_a = os.urandom(16) if pad_a is None else pad_a
    sock.sendall(pubkey(priv) + pad_a)
    s = secret(priv, _recv_exact(sock, KEY_LEN))
    enc, dec = keys(s, skey, True)
    sock.sendall(step3(s, skey, enc, provide, ia))
    _recv_until(sock, dec.crypt(VC), PAD_MAX + len(VC))
    select, pad_len = struct.unpack(">IH", dec.crypt(_recv_exact(sock, 6)))
    dec.crypt(_recv_exact(sock, pad_len))
    return Stream(sock, enc, dec, select)


def respond(sock, skey, accept=CRYPTO_RC4, pad_b=None, priv=None):
    """Runs B's side over an accepted socket (the initiator's first byte not
    yet read); returns a Stream that yields the decrypted IA first."""
    priv = priv or os.urandom(20)
    pad_b = os.urandom(16) if pad_b is None else pad_b
    s = secret(priv, _recv_exact(sock, KEY_LEN))
    sock.sendall(pubkey(priv) + pad_b)
    _recv_until(sock, sha1(b"req1", s), PAD_MAX + 20)
    x = _recv_exact(sock, 20)
    want = bytes(p ^ q for p, q in zip(sha1(b"req2", skey), sha1(b"req3", s)))
    if x != want:
        raise ValueError("initiator asked for another SKEY")
    enc, dec = keys(s, skey, False)
    vc, provide, pad_len = struct.unpack(">8sIH", dec.crypt(_recv_exact(sock, 14)))
    if vc != VC:
        raise ValueError("bad VC")
    dec.crypt(_recv_exact(sock, pad_len))
    (ia_len,) = struct.unpack(">H", dec.crypt(_recv_exact(sock, 2)))
    ia = dec.crypt(_recv_exact(sock, ia_len))
    select = CRYPTO_RC4 if provide & accept & CRYPTO_RC4 else CRYPTO_PLAIN
    if not provide & accept & select:
        raise ValueError("no common method: provided %#x" % provide)
    sock.sendall(step4(enc, select))
    return Stream(sock, enc, dec, select, pending=ia)
