"""Test files and .torrent files."""

import hashlib
import os
import random

from .bencode import bdecode, bencode


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
