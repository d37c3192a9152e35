#!/bin/sh
# trackerd vs opentracker in one run, same machine, same load.
#
#   tests/bench/tracker_bench.sh [BUILD_DIR]     (default build/bench, built if needed)
#
# Each tracker runs single-threaded pinned to core 0; the load generator
# (tracker_load) is pinned to core 1. First 100k distinct peers are announced
# to each fresh tracker (RSS before and after = memory per 100k peers), then
# each mode runs for BENCH_SECONDS (default 10) against each tracker:
# UDP with a cached connection id, UDP connect+announce, HTTP keep-alive and
# HTTP with one connection per request. Not a test: ctest never runs it.
# BENCH_CATALOG_STATE=DIR runs trackerd with that state directory, e.g. the
# million-entry catalog tests/bench/catalog_bench leaves with --keep, to
# show that a big catalog does not slow announces.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build/bench}
SECONDS_PER_MODE=${BENCH_SECONDS:-10}
HASHES=1000
PEERS=100000
SRCS=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9

for t in taskset opentracker python3; do
	command -v "$t" >/dev/null || { echo "tracker_bench: $t is not installed" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "tracker_bench: needs 2 cores" >&2; exit 1; }
if [ ! -x "$BUILD/trackerd/trackerd" ] || [ ! -x "$BUILD/tests/bench/tracker_load" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" --target trackerd tracker_load >/dev/null
fi
LOAD="$BUILD/tests/bench/tracker_load"
TRACKERD="$BUILD/trackerd/trackerd"

WORK=$(mktemp -d /tmp/tracker-bench.XXXXXX)
chmod 755 "$WORK"       # opentracker drops to "nobody" after chroot
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
peers_held() { # port: seeders + leechers summed over every hash, by HTTP scrape
	"$LOAD" --mode hashes --hashes $HASHES | PYTHONPATH=tests/lib python3 -c '
import sys, statest
hashes = [bytes.fromhex(l.strip()) for l in sys.stdin]
total = 0
for i in range(0, len(hashes), 50):
    got = statest.http_get("127.0.0.1", int(sys.argv[1]),
                           "/scrape?" + statest.qs([("info_hash", h) for h in hashes[i:i + 50]]))
    for f in statest.bdecode(got.body, strict=False)[b"files"].values():  # opentracker: unsorted
        total += f[b"complete"] + f[b"incomplete"]
print(total)' "$1"
}
wait_port() { # port: until something accepts TCP on it (5 s at most)
	python3 - "$1" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("tracker_bench: nothing listening on port %s" % sys.argv[1])
EOF
}

# trackerd: one thread, quiet.
TD_PORT=$(free_port)
mkdir -p "$WORK/trackerd"
cat >"$WORK/trackerd/trackerd.conf" <<EOF
http_listen = ["127.0.0.1:$TD_PORT"];
udp_listen = ["127.0.0.1:$TD_PORT"];
threads = 1;
state_dir = "${BENCH_CATALOG_STATE:-$WORK/trackerd/state}";
log_level = "warning";
EOF
taskset -c 0 "$TRACKERD" --config "$WORK/trackerd/trackerd.conf" 2>"$WORK/trackerd.log" &
TD_PID=$!
PIDS="$PIDS $TD_PID"

# opentracker: Debian's build only serves whitelisted hashes.
OT_PORT=$(free_port)
"$LOAD" --mode hashes --hashes $HASHES >"$WORK/whitelist"
echo "access.whitelist whitelist" >"$WORK/opentracker.conf"
taskset -c 0 opentracker -f "$WORK/opentracker.conf" -d "$WORK" -i 127.0.0.1 \
	-p "$OT_PORT" -P "$OT_PORT" >"$WORK/opentracker.log" 2>&1 &
OT_PID=$!
PIDS="$PIDS $OT_PID"

wait_port "$TD_PORT"
wait_port "$OT_PORT"
sleep 0.5

load() { # mode port [extra args]: prints requests/s
	mode=$1; port=$2; shift 2
	out=$(taskset -c 1 "$LOAD" --mode "$mode" --target "127.0.0.1:$port" --hashes $HASHES \
		--peers $PEERS --src $SRCS "$@")
	echo "  $out" >&2
	echo "$out" | sed -n 's/.* rps=\([0-9]*\).*/\1/p'
}

echo "== memory: $PEERS distinct peers over $HASHES torrents" >&2
TD_RSS0=$(rss_kb $TD_PID); OT_RSS0=$(rss_kb $OT_PID)
load udp-fill "$TD_PORT" >/dev/null
load udp-fill "$OT_PORT" >/dev/null
sleep 0.5
TD_RSS1=$(rss_kb $TD_PID); OT_RSS1=$(rss_kb $OT_PID)
TD_HELD=$(peers_held "$TD_PORT"); OT_HELD=$(peers_held "$OT_PORT")

RESULTS=""
for mode in udp udp-connect http http-close; do
	echo "== $mode, ${SECONDS_PER_MODE}s each" >&2
	case $mode in
	http*) extra="--conns 128" ;;
	*) extra="--inflight 2048" ;;
	esac
	# shellcheck disable=SC2086
	td=$(load $mode "$TD_PORT" --duration "$SECONDS_PER_MODE" $extra)
	# shellcheck disable=SC2086
	ot=$(load $mode "$OT_PORT" --duration "$SECONDS_PER_MODE" $extra)
	RESULTS="$RESULTS$mode $td $ot
"
done
kill -0 $TD_PID 2>/dev/null || { echo "tracker_bench: trackerd died" >&2; cat "$WORK/trackerd.log" >&2; exit 1; }

echo
echo "trackerd vs opentracker, 1 thread each on core 0, load on core 1 ($(nproc) cores, $(uname -r))"
[ -z "${BENCH_CATALOG_STATE:-}" ] || echo "trackerd's catalog: $BENCH_CATALOG_STATE"
printf '%-34s %14s %14s %8s\n' "requests/s" trackerd opentracker ratio
echo "$RESULTS" | while read -r mode td ot; do
	[ -n "$mode" ] || continue
	case $mode in
	udp) label="UDP announce, cached conn id" ;;
	udp-connect) label="UDP connect + announce" ;;
	http) label="HTTP announce, keep-alive" ;;
	http-close) label="HTTP announce, conn per request" ;;
	esac
	printf '%-34s %14s %14s %8s\n' "$label" "$td" "$ot" \
		"$(awk -v a="$td" -v b="$ot" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
done
printf '%-34s %14s %14s\n' "RSS before, KiB" "$TD_RSS0" "$OT_RSS0"
printf '%-34s %14s %14s\n' "RSS after $PEERS peers, KiB" "$TD_RSS1" "$OT_RSS1"
printf '%-34s %14s %14s\n' "peers held (scrape sum)" "$TD_HELD" "$OT_HELD"
printf '%-34s %14s %14s\n' "RSS growth per peer, bytes" \
	"$(( (TD_RSS1 - TD_RSS0) * 1024 / PEERS ))" "$(( (OT_RSS1 - OT_RSS0) * 1024 / PEERS ))"
echo "(opentracker closes every HTTP connection after its reply, so its keep-alive row"
echo " is really connection-per-request; see tracker_load's reconnects= count above)"
