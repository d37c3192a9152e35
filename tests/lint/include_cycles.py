#!/usr/bin/env python3
"""Fail when stad's own includes form a cycle (README, Architecture).

A module is a .c with its .h (stad/peer/peer.c and peer.h are "peer"), or
a room of a few of them listed in ROOMS. An edge A -> B means A.c or A.h
includes "B.h" found in stad. Every strongly
connected component must be one module, except the one pair allowed to
know each other: torrent and peer.

Usage: include_cycles.py [SRCDIR]   (default: the tree this script is in)
"""
import os
import re
import sys

ALLOWED = [{"torrent", "peer"}]
# Rooms whose parts each have a header of their own but are one unit here:
# the peer connection's dispatch, its encrypted handshake and its two
# pipelines call each other, and so do the torrent and its super-seeding.
ROOMS = {"peer_mse": "peer", "peer_request": "peer", "upload": "peer",
         "torrent_superseed": "torrent"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules(stad):
    """Map module name -> list of its files (.c and .h) under stad/."""
    mods = {}
    for root, _dirs, files in os.walk(stad):
        for f in files:
            if f.endswith((".c", ".h")):
                name = ROOMS.get(f[:-2], f[:-2])
                mods.setdefault(name, []).append(os.path.join(root, f))
    return mods


def graph(mods):
    edges = {m: set() for m in mods}
    for m, files in mods.items():
        for path in files:
            with open(path, encoding="utf-8") as fh:
                for inc in INCLUDE.findall(fh.read()):
                    dep = os.path.basename(inc)[:-2]
                    dep = ROOMS.get(dep, dep)
                    if inc.endswith(".h") and dep in mods and dep != m:
                        edges[m].add(dep)
    return edges


def components(edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    n = stack.pop()
                    on.discard(n)
                    comp.add(n)
                    if n == node:
                        break
                out.append(comp)
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    stad = os.path.join(src, "stad")
    mods = modules(stad)
    if not mods:
        print(f"include_cycles: no stad sources under {stad}", file=sys.stderr)
        return 2
    edges = graph(mods)
    bad = [c for c in components(edges) if len(c) > 1 and c not in ALLOWED]
    for comp in sorted(bad, key=len, reverse=True):
        names = sorted(comp)
        print(f"include cycle of {len(comp)} modules: {' '.join(names)}")
        for m in names:
            inside = sorted(edges[m] & comp)
            print(f"  {m} -> {' '.join(inside)}")
    if bad:
        print("break them: move what the lower part needs into a header of its own "
              "(README, Architecture)")
        return 1
    print(f"include_cycles: {len(mods)} modules, no cycle beyond torrent <-> peer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
