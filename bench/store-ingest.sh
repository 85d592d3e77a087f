#!/usr/bin/env bash
# Event ingest through the data layer (L01): SQLite against PostgreSQL, side by side, on 127.0.0.1.
#
# Runs `portal data-layer` twice, one after the other: on SQLite in a temp directory (WAL, synchronous=FULL),
# then on PostgreSQL (Debian's cluster 15/main, which scripts/postgres-setup.sh starts) in a fresh database
# `portal_bench` prepared by `portal db init`, logged in as l01_service over TCP (POSTGRES_POOL_SIZE workers).
# wrk (keep-alive) POSTs events (payload ~100 bytes, 1,000 aggregates) with the service key; each run is
# checked afterwards: the events in the store must be the 201s wrk counted (plus at most the requests in flight
# when it stopped), or the script fails.
# Prints req/s, p50/p90/p99 latency and non-2xx answers per store. Every process this script started is
# stopped, by pid, on exit; the bench database is dropped. Run by hand: `make bench-store` (needs a release
# build, wrk, PostgreSQL; as root or with passwordless sudo for the cluster).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_CONNECTIONS (16), BENCH_THREADS (2),
# BENCH_POOL (4: POSTGRES_POOL_SIZE), BENCH_PORT_BASE (23000: port base+1).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
portal="${root}/.build/release/portal"
duration="${BENCH_DURATION:-10s}"
warmup="${BENCH_WARMUP:-2s}"
connections="${BENCH_CONNECTIONS:-16}"
threads="${BENCH_THREADS:-2}"
pool="${BENCH_POOL:-4}"
port=$(( ${BENCH_PORT_BASE:-23000} + 1 ))
database=portal_bench

for tool in wrk curl python3 psql; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing; run 'make deps'" >&2; exit 1; }
done
[ -x "$portal" ] || { echo "bench: $portal is missing; run 'swift build -c release' first" >&2; exit 1; }
./scripts/postgres-setup.sh 2>/dev/null

work=$(mktemp -d /tmp/portal-store-bench.XXXXXX)
key="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
password="l01-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pids=()
psql_admin() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -tA -v ON_ERROR_STOP=1 -h /var/run/postgresql -d postgres "$@"
}
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    psql_admin -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Service-Key"] = "$key"
local n = 0
request = function()
    n = n + 1
    local body = string.format(
        '{"event_type":"story.created","aggregate_type":"story","aggregate_id":"agg-%d",' ..
        '"payload":{"n":%d,"title":"a story about benchmarks","tags":["bench","ingest"]},"metadata":{"by":"wrk"}}',
        n % 1000, n)
    return wrk.format(nil, "/api/v1/events", nil, body)
end
EOF

# Starts the data layer with extra settings and waits until it answers.
start_data_layer() {
    env -i PATH="$PATH" PORTAL_DATA_DIR="$work/data-$1" DATA_LAYER_PORT="$port" L01_API_KEYS="$key" \
        LOG_LEVEL=warning "${@:2}" "$portal" data-layer 2>>"$work/portal-$1.log" &
    pids+=($!)
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: the data layer on $1 did not start: $(cat "$work/portal-$1.log")" >&2
    exit 1
}

stop_data_layer() {
    local pid="${pids[-1]}"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset 'pids[-1]'
}

# Counts the events the store holds, through the API (pages of 1,000).
count_events() {
    python3 - "$port" "$key" <<'EOF'
import json, sys, urllib.request
port, key, total, after = sys.argv[1], sys.argv[2], 0, None
while True:
    url = f"http://127.0.0.1:{port}/api/v1/events?limit=1000" + (f"&after={after}" if after else "")
    page = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"X-Service-Key": key})))
    total += len(page["events"])
    after = page["next_after"]
    if after is None:
        break
print(total)
EOF
}

# One measured wrk run after a warm-up; prints "req_per_s p50_ms p90_ms p99_ms non_2xx created".
measure() {
    timeout 60 wrk -t"$threads" -c"$connections" -d"$warmup" -s "$work/post.lua" "http://127.0.0.1:$port" \
        >"$work/warmup.txt"
    timeout 300 wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/post.lua" \
        "http://127.0.0.1:$port" | tee -a "$work/wrk.txt" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + str(label) + r"%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
requests = int(re.search(r"(\d+) requests in", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
non2xx = int(non2xx.group(1)) if non2xx else 0
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.0f} {ms(50):.2f} {ms(90):.2f} {ms(99):.2f} {non2xx} {requests - non2xx}")
'
    # The warm-up's 201s count too.
    python3 -c 'import re,sys; t=open(sys.argv[1]).read(); r=int(re.search(r"(\d+) requests in",t).group(1));
n=re.search(r"Non-2xx or 3xx responses: (\d+)",t); print(r-(int(n.group(1)) if n else 0))' "$work/warmup.txt" \
        >"$work/warmup-created.txt"
}

report() {
    local name=$1 result=$2
    read -r rps p50 p90 p99 non2xx created <<<"$result"
    local stored expected
    stored=$(count_events)
    expected=$(( created + $(cat "$work/warmup-created.txt") ))
    printf '%-28s %10s %9s %9s %9s %8s %10s\n' "$name" "$rps" "$p50" "$p90" "$p99" "$non2xx" "$stored"
    # wrk does not count requests still in flight when it stops, though the server completes them: at most one
    # per connection per run (warm-up and measured) may be stored beyond what it counted, none may be missing.
    if [ "$stored" -lt "$expected" ] || [ "$stored" -gt $(( expected + 2 * connections )) ]; then
        echo "bench: $name: the store holds $stored events but wrk counted $expected created" >&2
        exit 1
    fi
}

echo "bench: wrk -t$threads -c$connections -d$duration (warm-up $warmup), POST /api/v1/events to portal data-layer"
printf '%-28s %10s %9s %9s %9s %8s %10s\n' store req/s "p50 ms" "p90 ms" "p99 ms" non-2xx "stored"

start_data_layer sqlite
report "sqlite (2 workers)" "$(measure)"
stop_data_layer

psql_admin -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database" >/dev/null
env -i PATH="$PATH" DATABASE_URL="postgresql:///$database?host=/var/run/postgresql" L01_DB_PASSWORD="$password" \
    "$portal" db init >"$work/db-init.txt"
start_data_layer postgres \
    DATABASE_URL="postgresql://l01_service:$password@127.0.0.1:5432/$database?sslmode=prefer" POSTGRES_POOL_SIZE="$pool"
report "postgresql (pool $pool)" "$(measure)"
stop_data_layer
