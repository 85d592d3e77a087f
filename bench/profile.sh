#!/usr/bin/env bash
# Profiles `portal serve` under wrk load with perf (software cpu-clock event: this VM has no hardware counters).
#
# Build first with debug info: `swift build -c release -Xswiftc -g`. Starts a trivial nginx upstream and the
# portal (audit on, limiter on, JWT route, same settings as bench/run.sh), loads it with wrk, and records
# the portal's threads only. Writes perf.data and two reports (self cost by symbol, and callers with
# --call-graph dwarf) to bench/out/ (git-ignored). Everything started here is stopped, by pid, on exit.
#
# Knobs: PROFILE_SECONDS (8), PROFILE_AUDIT (true), BENCH_CONNECTIONS (64), BENCH_PORT_BASE (21000).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
portal="${root}/.build/release/portal"
seconds="${PROFILE_SECONDS:-8}"
connections="${BENCH_CONNECTIONS:-64}"
base="${BENCH_PORT_BASE:-21000}"
upstream_port=$((base + 80))
portal_port=$((base + 9))
out="$root/bench/out"
mkdir -p "$out"

for tool in nginx wrk curl perf python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "profile: $tool is missing" >&2; exit 1; }
done
[ -x "$portal" ] || { echo "profile: build with 'swift build -c release -Xswiftc -g' first" >&2; exit 1; }

work=$(mktemp -d /tmp/portal-profile.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
        sleep 0.1
    done
    echo "profile: nothing answers at $1" >&2
    return 1
}

cat >"$work/upstream.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/upstream.pid;
error_log $work/upstream-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server { listen 127.0.0.1:$upstream_port; keepalive_requests 1000000; location / { return 200 'ok\n'; } }
}
CONF
nginx -p "$work" -c "$work/upstream.conf" &
pids+=($!)
wait_for "http://127.0.0.1:$upstream_port/"

cat >"$work/portal.json" <<JSON
{"routes": [{"prefix": "/bench", "upstream": "http://127.0.0.1:$upstream_port",
             "methods": ["GET"], "scopes": ["bench:read"]}]}
JSON
export PORTAL_ENV=development PORTAL_CONFIG="$work/portal.json" PORTAL_DATA_DIR="$work/data"
export JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
export GATEWAY_HOST=127.0.0.1 GATEWAY_PORT=$portal_port ADMIN_PORT=$((base + 909)) DATA_LAYER_PORT=$((base + 1))
export RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 RATE_LIMIT_BURST=1000000 LOG_LEVEL=warning
export AUDIT_LOG_ENABLED="${PROFILE_AUDIT:-true}"
mkdir -p "$PORTAL_DATA_DIR"
token=$("$portal" token issue --sub bench --scope "bench:read" --ttl 3600)
"$portal" serve >"$work/portal.log" 2>&1 &
portal_pid=$!
pids+=("$portal_pid")
wait_for "http://127.0.0.1:$portal_port/bench"

url="http://127.0.0.1:$portal_port/bench"
wrk -t2 -c"$connections" -d2s -H "Authorization: Bearer $token" "$url" >/dev/null
wrk -t2 -c"$connections" -d$((seconds * 2 + 4))s -H "Authorization: Bearer $token" "$url" >"$out/wrk.txt" &
wrk_pid=$!
pids+=("$wrk_pid")
sleep 1
perf record -e cpu-clock -F 1999 -o "$out/perf-flat.data" -p "$portal_pid" -- sleep "$seconds" 2>/dev/null
perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -o "$out/perf-graph.data" -p "$portal_pid" \
    -- sleep "$seconds" 2>/dev/null
wait "$wrk_pid" || true
perf report -i "$out/perf-flat.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
    | swift demangle --simplified >"$out/report-self.txt"
perf report -i "$out/perf-graph.data" --children --sort symbol --stdio -g none --percent-limit 0.5 2>/dev/null \
    | swift demangle --simplified >"$out/report-children.txt"
echo "profile: reports in $out (report-self.txt, report-children.txt); wrk: $(grep Requests/sec "$out/wrk.txt")"
