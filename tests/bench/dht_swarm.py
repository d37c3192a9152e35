"""A crowd of minimal DHT nodes for tests/bench/dht_bench.py: one UDP
socket each, on PORTS ports of every address given, each with a node id
of its own. They answer ping, find_node and get_peers (the 8 nodes of the
crowd closest to the target, a token) and announce_peer, and each pings
TARGET once at start (spread over a few seconds), so that the node under
test meets them and can fill its routing table. Prints "READY n" once
every socket is bound; runs until killed.

    dht_swarm.py TARGET_ADDR:PORT PORTS ADDR...
"""

import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from statest.bencode import bencode, bdecode, BencodeError  # noqa: E402


def compact(node):
    nid, (host, port) = node
    return nid + socket.inet_aton(host) + port.to_bytes(2, "big")


def closest(nodes, target, k=8):
    t = int.from_bytes(target, "big")
    return sorted(nodes, key=lambda n: int.from_bytes(n[0], "big") ^ t)[:k]


def answer(msg, nid, nodes):
    """The response to a query, or None for anything else."""
    if msg.get(b"y") != b"q" or not isinstance(msg.get(b"a"), dict):
        return None
    q, a = msg.get(b"q"), msg[b"a"]
    r = {"id": nid}
    if q in (b"find_node", b"get_peers"):
        target = a.get(b"target") or a.get(b"info_hash") or b"\0" * 20
        r["nodes"] = b"".join(compact(n) for n in closest(nodes, target))
        if q == b"get_peers":
            r["token"] = b"tok!"
    return {"t": msg.get(b"t", b""), "y": "r", "r": r}


def main():
    target_s, ports, addrs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    host, _, port = target_s.rpartition(":")
    target = (host, int(port))
    sel = selectors.DefaultSelector()
    nodes = []
    for addr in addrs:
        for i in range(ports):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, 0))
            s.setblocking(False)
            nid = os.urandom(20)
            sel.register(s, selectors.EVENT_READ, nid)
            nodes.append((nid, s.getsockname()))
    print("READY %d" % len(nodes), flush=True)
    keys = [k for k in sel.get_map().values()]
    pinged = 0
    start = time.monotonic()
    while True:
        # Ping the node under test from each socket, 200 a second.
        due = min(len(keys), int((time.monotonic() - start) * 200))
        for k in keys[pinged:due]:
            k.fileobj.sendto(bencode({"t": b"pg", "y": "q", "q": "ping",
                                      "a": {"id": k.data}}), target)
        pinged = max(pinged, due)
        for key, _ in sel.select(0.05):
            try:
                data, peer = key.fileobj.recvfrom(4096)
                msg = bdecode(data, strict=False)
            except (OSError, BencodeError):
                continue
            reply = answer(msg, key.data, nodes) if isinstance(msg, dict) else None
            if reply is not None:
                key.fileobj.sendto(bencode(reply), peer)


if __name__ == "__main__":
    main()
