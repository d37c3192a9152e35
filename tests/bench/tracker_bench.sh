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
# HTTP with one connection per request. Each figure is given twice: requests
# a second, and requests per CPU-second of the tracker (its user + system
# time from /proc while the mode ran), which holds still when other work on
# the machine takes turns on core 0. Then trackerd runs UDP with two worker
# threads on both cores (the load generator unpinned beside them), for its
# requests per CPU-second with one thread and with two.
# Not a test: ctest never runs it.
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

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
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

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # user + system
HZ=$(getconf CLK_TCK)

# mode pid port [extra args]: prints "requests/s requests-per-CPU-second"
# (the CPU time is pid's). LOAD_CPUS pins the generator (default core 1).
load() {
	mode=$1; pid=$2; port=$3; shift 3
	c0=$(cpu_ticks "$pid")
	out=$(taskset -c "${LOAD_CPUS:-1}" "$LOAD" --mode "$mode" --target "127.0.0.1:$port" \
		--hashes $HASHES --peers $PEERS --src $SRCS "$@")
	c1=$(cpu_ticks "$pid")
	echo "  $out cpu_s=$(awk -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')" >&2
	echo "$out" | awk -v t=$((c1 - c0)) -v hz="$HZ" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "%d %d\n", f["rps"], (t > 0 ? f["ok"] / (t / hz) : 0) }'
}

echo "== memory: $PEERS distinct peers over $HASHES torrents" >&2
TD_RSS0=$(rss_kb $TD_PID); OT_RSS0=$(rss_kb $OT_PID)
load udp-fill $TD_PID "$TD_PORT" >/dev/null
load udp-fill $OT_PID "$OT_PORT" >/dev/null
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
	td=$(load $mode $TD_PID "$TD_PORT" --duration "$SECONDS_PER_MODE" $extra)
	# shellcheck disable=SC2086
	ot=$(load $mode $OT_PID "$OT_PORT" --duration "$SECONDS_PER_MODE" $extra)
	RESULTS="$RESULTS$mode $td $ot
"
done
kill -0 $TD_PID 2>/dev/null || { echo "tracker_bench: trackerd died" >&2; cat "$WORK/trackerd.log" >&2; exit 1; }

# trackerd with two threads on both cores, the generator beside them.
TD2_PORT=$(free_port)
sed -e "s/$TD_PORT/$TD2_PORT/g" -e 's/^threads = 1;/threads = 2;/' \
	-e "s|^state_dir = .*|state_dir = \"$WORK/trackerd2\";|" \
	"$WORK/trackerd/trackerd.conf" >"$WORK/trackerd2.conf"
taskset -c 0,1 "$TRACKERD" --config "$WORK/trackerd2.conf" 2>"$WORK/trackerd2.log" &
TD2_PID=$!
PIDS="$PIDS $TD2_PID"
wait_port "$TD2_PORT"
echo "== udp, trackerd with 2 threads on cores 0-1, load unpinned, ${SECONDS_PER_MODE}s" >&2
LOAD_CPUS=0,1 load udp-fill $TD2_PID "$TD2_PORT" >/dev/null
TD2=$(LOAD_CPUS=0,1 load udp $TD2_PID "$TD2_PORT" --duration "$SECONDS_PER_MODE" --inflight 4096)

echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo "trackerd vs opentracker, 1 thread each on core 0, load on core 1 ($(nproc) cores, $(uname -r))"
echo "load average before the run: $LOADAVG"
[ -z "${BENCH_CATALOG_STATE:-}" ] || echo "trackerd's catalog: $BENCH_CATALOG_STATE"
printf '%-34s %10s %11s %6s | %12s %12s %6s\n' "" "requests/s" "" "" "per CPU-second" "" ""
printf '%-34s %10s %11s %6s | %12s %12s %6s\n' "" trackerd opentracker ratio trackerd opentracker ratio
echo "$RESULTS" | while read -r mode td tdc ot otc; do
	[ -n "$mode" ] || continue
	case $mode in
	udp) label="UDP announce, cached conn id" ;;
	udp-connect) label="UDP connect + announce" ;;
	http) label="HTTP announce, keep-alive" ;;
	http-close) label="HTTP announce, conn per request" ;;
	esac
	printf '%-34s %10s %11s %6s | %12s %12s %6s\n' "$label" "$td" "$ot" "$(ratio "$td" "$ot")" \
		"$tdc" "$otc" "$(ratio "$tdc" "$otc")"
done
TD1C=$(echo "$RESULTS" | awk '$1 == "udp" { print $3 }')
set -- $TD2
printf '%-34s %10s %11s %6s | %12s\n' "UDP announce, trackerd 1 thread" \
	"$(echo "$RESULTS" | awk '$1 == "udp" { print $2 }')" "" "" "$TD1C"
printf '%-34s %10s %11s %6s | %12s  (%s of 1 thread)\n' "UDP announce, trackerd 2 threads" \
	"$1" "" "" "$2" "$(ratio "$2" "$TD1C")"
printf '%-34s %14s %14s\n' "RSS before, KiB" "$TD_RSS0" "$OT_RSS0"
printf '%-34s %14s %14s\n' "RSS after $PEERS peers, KiB" "$TD_RSS1" "$OT_RSS1"
printf '%-34s %14s %14s\n' "peers held (scrape sum)" "$TD_HELD" "$OT_HELD"
printf '%-34s %14s %14s\n' "RSS growth per peer, bytes" \
	"$(( (TD_RSS1 - TD_RSS0) * 1024 / PEERS ))" "$(( (OT_RSS1 - OT_RSS0) * 1024 / PEERS ))"
echo "(opentracker closes every HTTP connection after its reply, so its keep-alive row"
echo " is really connection-per-request; see tracker_load's reconnects= count above)"
