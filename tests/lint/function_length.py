#!/usr/bin/env python3
"""Report C functions longer than about 60 lines (README, Architecture).

A function is a definition whose body opens with "{" at the start of a line
and closes with "}" at the start of a line (the project's style); its
length is the lines of its body between the braces. A function longer than
LIMIT fails.

Usage: function_length.py [--all] [SRCDIR]
  --all: list every function over the limit, longest first, and exit 0.
"""
import os
import re
import sys

LIMIT = 60
DIRS = ("common", "stad", "trackerd", "stactl")
NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def functions(path):
    """Yield (name, first line, body length) of each function in path."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for i, line in enumerate(lines):
        if line != "{" or i == 0:
            continue
        # The signature: the lines above back to one that starts a declaration.
        j = i - 1
        while j > 0 and lines[j][:1] in (" ", "\t") and lines[j].strip():
            j -= 1
        sig = " ".join(ln.strip() for ln in lines[j:i])
        m = NAME.search(sig)
        if not m or sig.startswith(("struct ", "enum ", "union ")) and "(" not in sig:
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("}"):
            end += 1
        yield m.group(1), j + 1, end - i - 1


def measure(src):
    out = {}
    for d in DIRS:
        for root, _dirs, files in os.walk(os.path.join(src, d)):
            for f in sorted(files):
                if f.endswith(".c"):
                    path = os.path.join(root, f)
                    rel = os.path.relpath(path, src)
                    for name, line, length in functions(path):
                        out[f"{rel}:{name}"] = (line, length)
    return out


def main():
    args = sys.argv[1:]
    show_all = "--all" in args
    args = [a for a in args if a != "--all"]
    src = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    funcs = measure(src)
    if not funcs:
        print(f"function_length: no C functions under {src}")
        return 2
    long = sorted(((n, v) for n, v in funcs.items() if v[1] > LIMIT), key=lambda x: -x[1][1])
    if show_all:
        for name, (line, length) in long:
            file, func = name.split(":")
            print(f"{length:4d} {file}:{line} {func}")
        print(f"{len(long)} functions over {LIMIT} lines of {len(funcs)}")
        return 0
    for name, (line, length) in long:
        file, func = name.split(":")
        print(f"{file}:{line}: {func} is {length} lines long (at most {LIMIT}): "
              "cut it into steps with names of their own")
    print(f"function_length: {len(funcs)} functions, {len(long)} over {LIMIT} lines")
    return 1 if long else 0


if __name__ == "__main__":
    sys.exit(main())
