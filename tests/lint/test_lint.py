#!/usr/bin/env python3
"""The lint checks can fail: each runs on small trees made here, one that
breaks its rule and one that keeps it."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def tree(files):
    root = tempfile.mkdtemp(prefix="sta-lint-")
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as fh:
            fh.write(text)
    return root


def run(script, root):
    return subprocess.run([sys.executable, os.path.join(HERE, script), root],
                          capture_output=True, text=True).returncode


def main():
    failures = []
    cycle3 = tree({"stad/a/x.h": '#include "y.h"\n', "stad/y.h": '#include "z.h"\n',
                   "stad/z.c": '#include "x.h"\n', "stad/z.h": ""})
    if run("include_cycles.py", cycle3) != 1:
        failures.append("include_cycles passed a cycle of three modules")
    other_pair = tree({"stad/a.c": '#include "b.h"\n', "stad/a.h": "",
                       "stad/b.c": '#include "a.h"\n', "stad/b.h": ""})
    if run("include_cycles.py", other_pair) != 1:
        failures.append("include_cycles passed a pair other than torrent <-> peer")
    pair = tree({"stad/torrent.h": '#include "peer.h"\n', "stad/torrent.c": "",
                 "stad/peer/peer.c": '#include "torrent.h"\n', "stad/peer/peer.h": "",
                 "stad/session.c": '#include "torrent.h"\n#include "session.h"\n',
                 "stad/session.h": ""})
    if run("include_cycles.py", pair) != 0:
        failures.append("include_cycles failed torrent <-> peer, the pair allowed")
    body = "".join(f"\tx += {i};\n" for i in range(60))
    ok = tree({"common/a.c": f"int f(int x);\n\nint f(int x)\n{{\n{body}}}\n"})
    if run("function_length.py", ok) != 0:
        failures.append("function_length failed a function of 60 lines")
    too_long = tree({"stad/b.c": f"static void\ng(int x,\n  int y)\n{{\n{body}\tx++;\n}}\n"})
    if run("function_length.py", too_long) != 1:
        failures.append("function_length passed a function of 61 lines")
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
