#!/usr/bin/env bash
# The audit file under load: write throughput (records/s) and growth (bytes/record), through the gateway.
#
# Runs `portal serve` twice, one after the other, with the audit file in a temp directory: first with the file
# as the only sink (AUDIT_STORE_SINK=false), then with the store sink too (the shipper sends every synced record
# to the embedded SQLite store). wrk (keep-alive) sends GET /api/v1/events without a credential: every request is
# answered 401 and leaves one `auth.failure` record (rate limit and brute-force ban set out of reach, so nothing
# else answers). Each run reports wrk's req/s and p99, the records the file gained during the measured window
# (from audit_records_total{sink="file"} on /metrics), records/s, the file's bytes per record, and what that
# makes per million records; with the store sink also the records the store acknowledged. Afterwards the file
# must hold one record per answered request (plus at most the requests in flight when wrk stopped) and
# `portal audit verify` must pass, or the script fails.
#
# Every process this script started is stopped, by pid, on exit. Run by hand: `make bench-audit` (needs a
# release build and wrk; BENCH_BINARY=debug uses the debug build).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_LOOP_THREADS (2), BENCH_PORT_BASE (24000: ports base+1..base+3), BENCH_BINARY (release).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
portal="${root}/.build/${BENCH_BINARY:-release}/portal"
duration="${BENCH_DURATION:-10s}"
warmup="${BENCH_WARMUP:-2s}"
connections="${BENCH_CONNECTIONS:-32}"
threads="${BENCH_THREADS:-2}"
loop_threads="${BENCH_LOOP_THREADS:-2}"
base=${BENCH_PORT_BASE:-24000}
gateway_port=$(( base + 1 )) admin_port=$(( base + 2 )) data_layer_port=$(( base + 3 ))

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing; run 'make deps'" >&2; exit 1; }
done
[ -x "$portal" ] || { echo "bench: $portal is missing; run 'swift build -c release' first" >&2; exit 1; }

work=$(mktemp -d /tmp/portal-audit-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # url
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
        sleep 0.1
    done
    echo "bench: nothing answers at $1" >&2
    return 1
}

# The value of one series on /metrics (0 when absent).
metric() { # series
    curl -s "http://127.0.0.1:$admin_port/metrics" | python3 -c '
import sys
series = sys.argv[1]
for line in sys.stdin:
    if line.startswith(series + " "):
        print(int(float(line.split()[-1]))); break
else:
    print(0)
' "$1"
}

# Requests wrk counted in a run's output.
requests_in() { python3 -c 'import re,sys; print(re.search(r"(\d+) requests in", open(sys.argv[1]).read()).group(1))' "$1"; }

run() { # name, extra environment...
    local name=$1
    shift
    local data="$work/$name"
    mkdir -p "$data"
    env -i PATH="$PATH" PORTAL_DATA_DIR="$data" AUDIT_LOG_DESTINATION="$data/audit.log" \
        GATEWAY_HOST=127.0.0.1 GATEWAY_PORT="$gateway_port" ADMIN_PORT="$admin_port" \
        DATA_LAYER_PORT="$data_layer_port" LOOP_THREADS="$loop_threads" LOG_LEVEL=error \
        RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 RATE_LIMIT_BURST=1000000 \
        BRUTE_FORCE_MAX_FAILURES=100000 BRUTE_FORCE_WINDOW_SECONDS=1 "$@" \
        "$portal" serve 2>"$data/serve.log" &
    local pid=$!
    pids+=("$pid")
    wait_for "http://127.0.0.1:$admin_port/health/live"
    local url="http://127.0.0.1:$gateway_port/api/v1/events"

    timeout 60 wrk -t"$threads" -c"$connections" -d"$warmup" "$url" >"$data/warmup.txt"
    sleep 0.5
    local records0 bytes0 stored0
    records0=$(metric 'audit_records_total{sink="file"}')
    stored0=$(metric 'audit_records_total{sink="store"}')
    bytes0=$(stat -c %s "$data/audit.log")
    timeout 300 wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url" >"$data/wrk.txt"
    local seconds
    seconds=$(python3 -c 'import re,sys; print(re.search(r"requests in ([\d.]+)s", open(sys.argv[1]).read()).group(1))' \
        "$data/wrk.txt")
    local records1 bytes1 stored1
    records1=$(metric 'audit_records_total{sink="file"}')
    stored1=$(metric 'audit_records_total{sink="store"}')
    bytes1=$(stat -c %s "$data/audit.log")
    sleep 1

    # Stop cleanly (the log flushes at close), then check the file against what wrk counted.
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    pids=("${pids[@]/$pid}")
    local answered lines
    answered=$(( $(requests_in "$data/warmup.txt") + $(requests_in "$data/wrk.txt") ))
    lines=$(wc -l <"$data/audit.log")
    if [ "$lines" -lt "$answered" ] || [ "$lines" -gt $(( answered + 2 * connections )) ]; then
        echo "bench: $name: the audit file holds $lines records but wrk counted $answered answers" >&2
        exit 1
    fi
    env -i PATH="$PATH" PORTAL_DATA_DIR="$data" AUDIT_LOG_DESTINATION="$data/audit.log" \
        "$portal" audit verify >"$data/verify.txt" || { echo "bench: $name: audit verify failed" >&2; exit 1; }

    python3 - "$name" "$data/wrk.txt" "$seconds" "$records0" "$records1" "$bytes0" "$bytes1" "$stored0" "$stored1" \
        "$lines" <<'EOF'
import re, sys
name, wrk, seconds = sys.argv[1], open(sys.argv[2]).read(), float(sys.argv[3])
r0, r1, b0, b1, s0, s1, lines = map(int, sys.argv[4:])
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", wrk, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
records = r1 - r0
per_record = (b1 - b0) / records if records else 0
print(f"{name:<22} {rps:>9.0f} {p99:>8.2f} {records:>9} {records / seconds:>10.0f} {per_record:>10.1f} "
      f"{per_record * 1e6 / 2**20:>10.0f} {s1 - s0:>9} {lines:>8}")
EOF
}

echo "bench: wrk -t$threads -c$connections -d$duration (warm-up $warmup), GET /api/v1/events without a credential" \
    "(401, one auth.failure record each), portal serve LOOP_THREADS=$loop_threads, $(basename "$(dirname "$portal")")"
printf '%-22s %9s %8s %9s %10s %10s %10s %9s %8s\n' sinks req/s "p99 ms" records records/s bytes/rec \
    "MiB/1M rec" stored "in file"
run file-only AUDIT_STORE_SINK=false
run file+store
