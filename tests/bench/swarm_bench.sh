#!/bin/sh
# Whole swarms on shaped links: one origin and N-1 leechers of stad, of
# libtorrent and of aria2 (with a libtorrent origin), in one run, round by
# round, against the topology's lower bound T_min. Not a test: ctest never
# runs it.
#
#   tests/bench/swarm_bench.sh [BUILD_DIR] [--scenario all100,origin20,peers20]
#                              [--quick] [--hosts N] [--rounds N]
#                              [--clients stad,libtorrent,aria2]
#                              [--stad-option KEY=VALUE]
#
# Scenarios (12 hosts each): all100 = 128 MiB, every link 100 Mbit/s;
# origin20 = 64 MiB, origin 20 Mbit/s, peers 100; peers20 = 64 MiB, peers
# 20 up / 100 down, origin 100. --quick: 6 hosts, a quarter of the data.
# The links are checked with iperf3 first. BUILD_DIR defaults to
# build/bench (configured Release and built if needed). Needs root
# (network namespaces) and iperf3, aria2c, python3-libtorrent.
set -eu
cd "$(dirname "$0")/../.."
BUILD=build/bench
case "${1:-}" in
-*|"") ;;
*) BUILD=$1; shift ;;
esac

for t in ip tc iperf3 aria2c /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "swarm_bench: $t is not installed (scripts/deps)" >&2; exit 1; }
done
/usr/bin/python3 -c "import libtorrent" 2>/dev/null || {
	echo "swarm_bench: python3-libtorrent is not installed (scripts/deps)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "swarm_bench: needs root for network namespaces" >&2; exit 1; }
if [ ! -x "$BUILD/stad/stad" ] || [ ! -x "$BUILD/stactl/stactl" ] || [ ! -x "$BUILD/trackerd/trackerd" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" --target stad stactl trackerd >/dev/null
fi
# Every process is started through statest (killed by PID at exit,
# namespaces deleted, temp dirs removed, also on SIGINT/SIGTERM).
STA_BUILD_DIR=$(cd "$BUILD" && pwd) PYTHONPATH=tests/lib${PYTHONPATH:+:$PYTHONPATH} \
	exec /usr/bin/python3 tests/bench/swarm_bench.py "$@"
