"""Plain HTTP requests and the tracker announce helpers."""

import http.client
import ipaddress
import socket
import struct
import urllib.parse

from .bencode import BencodeError, bdecode


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
