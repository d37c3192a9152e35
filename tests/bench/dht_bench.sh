#!/bin/sh
# stad's idle CPU and memory with a loaded DHT node (a crowd of 1000 DHT
# nodes around it, 5000 stored peers) beside stad with the DHT off, in one
# run, in a network namespace of the benchmark's own. Not a test: ctest
# never runs it.
#
#   tests/bench/dht_bench.sh [BUILD_DIR] [--runs N] [--idle SECONDS]
#                            [--crowd N] [--stored N]
#
# BUILD_DIR defaults to build/bench (configured Release and built if
# needed). Needs root (namespaces).
set -eu
cd "$(dirname "$0")/../.."
BUILD=build/bench
case "${1:-}" in
-*|"") ;;
*) BUILD=$1; shift ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "dht_bench: needs root for network namespaces" >&2; exit 1; }
if [ ! -x "$BUILD/stad/stad" ] || [ ! -x "$BUILD/stactl/stactl" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" --target stad stactl >/dev/null
fi
STA_BUILD_DIR=$(cd "$BUILD" && pwd) PYTHONPATH=tests/lib${PYTHONPATH:+:$PYTHONPATH} \
	exec python3 tests/bench/dht_bench.py "$@"
