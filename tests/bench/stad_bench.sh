#!/bin/sh
# stad vs aria2, libtorrent and transmission in one run, same machine, same
# load, in a network namespace of the benchmark's own (transmission refuses
# peers on 127/8), through trackerd. Not a test: ctest never runs it.
#
#   tests/bench/stad_bench.sh [BUILD_DIR] [--runs N] [--size BYTES] [--perf]
#                             [--seeders a,b] [--seed-count N] [--leechers a,b]
#                             [--no-swarm]
#
# BUILD_DIR defaults to build/bench (configured Release and built if
# needed). Clients: stad (plaintext: encryption = off), libtorrent, aria2,
# transmission; as leechers also stad-nopex (pex = false), stad-magnet
# (given a magnet link: the metadata comes from the seeders first),
# stad-rc4 (encryption = require) and stad-dht (its DHT node on, in a
# private DHT of one libtorrent node), for the cost of PEX, BEP 9, RC4 and
# the DHT (--leechers stad,stad-nopex,stad-magnet,stad-rc4,stad-dht
# --no-swarm). The same three
# libtorrent seeders (--seeders/--seed-count change that) serve each
# leecher in turn (a 1 GiB random file, 1 MiB pieces); then one stad
# seeder + three stad leechers vs the same with libtorrent. Prints a table of medians of N runs (default 1): wall time,
# MB/s, the leecher's CPU seconds and peak memory; --perf adds a profile of
# stad leeching from and seeding to libtorrent. Needs root (namespaces).
set -eu
cd "$(dirname "$0")/../.."
BUILD=build/bench
case "${1:-}" in
-*|"") ;;
*) BUILD=$1; shift ;;
esac

for t in ip aria2c transmission-cli mktorrent /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "stad_bench: $t is not installed" >&2; exit 1; }
done
/usr/bin/python3 -c "import libtorrent" 2>/dev/null || {
	echo "stad_bench: python3-libtorrent is not installed" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "stad_bench: needs root for network namespaces" >&2; exit 1; }
if [ ! -x "$BUILD/stad/stad" ] || [ ! -x "$BUILD/stactl/stactl" ] || [ ! -x "$BUILD/trackerd/trackerd" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" --target stad stactl trackerd >/dev/null
fi
# The Python driver starts every process through statest (killed by PID at
# exit, namespace deleted, temp dirs removed, also on SIGINT/SIGTERM).
STA_BUILD_DIR=$(cd "$BUILD" && pwd) PYTHONPATH=tests/lib${PYTHONPATH:+:$PYTHONPATH} \
	exec /usr/bin/python3 tests/bench/stad_bench.py "$@"
