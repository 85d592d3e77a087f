#!/usr/bin/env bash
# Story Portal against plain nginx, side by side, on 127.0.0.1.
#
# Starts: a trivial upstream (nginx `return 200`), an nginx reverse proxy to it (keep-alive upstream), and
# Story Portal (`.build/release/portal serve`) routing /bench to the same upstream behind a JWT needing the
# scope bench:read, with a rate limit so high that the limiter runs on every request but never refuses.
# wrk (keep-alive) then hits, one after the other: the nginx proxy, the portal with audit on, and the portal
# with audit off (AUDIT_LOG_ENABLED=false) to show what the audit trail costs. Prints one table: req/s,
# p50/p99 latency, non-2xx answers, each target's req/s and p99 relative to nginx, and how many new upstream
# connections the proxy opened during the measured run (from the upstream's stub_status).
# Run by hand (`make bench`); everything this script started is stopped, by pid, on exit.
#
# Both sides do comparable work: the same number of worker threads (nginx worker_processes = portal
# LOOP_THREADS), keep-alive from wrk, keep-alive to the upstream. The portal keeps at most 256 idle upstream
# connections per loop (UpstreamClient.Configuration.maxIdlePerUpstream; it was 16 before the perf branch, which
# made it reconnect constantly at -c64); the "upstream conns" column shows any reconnects.
# BENCH_UPSTREAM_KEEPALIVE sets nginx's cap, for like-for-like runs.
#
# Knobs (environment):
#   BENCH_DURATION (10s)        wrk duration of each measured run
#   BENCH_WARMUP (2s)           wrk warm-up before each measured run, not reported
#   BENCH_CONNECTIONS (64)      wrk connections
#   BENCH_THREADS (2)           wrk threads
#   BENCH_WORKERS (nproc)       nginx proxy worker_processes and portal LOOP_THREADS
#   BENCH_UPSTREAM_KEEPALIVE (64)  nginx idle upstream connections per worker (the portal's default is 256)
#   BENCH_PORT_BASE (21000)     ports used: base+1, +9, +80, +81, +909
#   BENCH_KEEP (unset)          when set, keeps the temp dir (logs, audit trail) and prints its path
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
portal="${root}/.build/release/portal"
duration="${BENCH_DURATION:-10s}"
warmup="${BENCH_WARMUP:-2s}"
connections="${BENCH_CONNECTIONS:-64}"
threads="${BENCH_THREADS:-2}"
workers="${BENCH_WORKERS:-$(nproc)}"
upstream_keepalive="${BENCH_UPSTREAM_KEEPALIVE:-64}"
base="${BENCH_PORT_BASE:-21000}"
upstream_port=$((base + 80))
nginx_port=$((base + 81))
portal_port=$((base + 9))
admin_port=$((base + 909))
data_layer_port=$((base + 1))

for tool in nginx wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing; run 'make deps'" >&2; exit 1; }
done
[ -x "$portal" ] || { echo "bench: $portal is missing; run 'swift build -c release' first" >&2; exit 1; }

# The portal listens with SO_REUSEPORT, so a port another process holds would be shared silently and split
# the load: refuse to start unless every port binds without it (SO_REUSEADDR only skips TIME_WAIT leftovers).
for port in $upstream_port $nginx_port $portal_port $admin_port $data_layer_port; do
    python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))
' "$port" 2>/dev/null ||
        { echo "bench: port $port is in use; set BENCH_PORT_BASE" >&2; exit 1; }
done

work=$(mktemp -d /tmp/portal-bench.XXXXXX)
pids=()
cleanup() {
    # Stop only what this script started, by pid; SIGTERM lets the portal flush its audit trail.
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to 10 s for `curl` to get any HTTP answer from $1.
wait_for() {
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
        sleep 0.1
    done
    echo "bench: nothing answers at $1" >&2
    return 1
}

# Stops one process this script started, by pid, and forgets it.
stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local kept=()
    for pid in "${pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
    pids=("${kept[@]}")
}

# nginx config shared by both instances: unprivileged, everything under the temp dir, no access log.
nginx_conf() { # name workers server-block
    cat >"$work/$1.conf" <<CONF
daemon off;
worker_processes $2;
pid $work/$1.pid;
error_log $work/$1-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/$1-body;
    proxy_temp_path $work/$1-proxy;
    fastcgi_temp_path $work/$1-fastcgi;
    uwsgi_temp_path $work/$1-uwsgi;
    scgi_temp_path $work/$1-scgi;
    $3
}
CONF
    nginx -p "$work" -c "$work/$1.conf" &
    pids+=($!)
}

# The upstream gets one worker of its own; it is the same for every target, so it cancels out of the ratio.
nginx_conf upstream 1 "server { listen 127.0.0.1:$upstream_port; keepalive_requests 1000000;
        location = /upstream-status { stub_status; } location / { return 200 'ok\n'; } }"
nginx_conf proxy "$workers" "upstream app { server 127.0.0.1:$upstream_port; keepalive $upstream_keepalive;
        keepalive_requests 1000000; }
    server { listen 127.0.0.1:$nginx_port; keepalive_requests 1000000;
        location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
wait_for "http://127.0.0.1:$upstream_port/"
wait_for "http://127.0.0.1:$nginx_port/bench"

# Story Portal settings shared by both portal cases (names: Sources/Config/PortalSettings+Load.swift).
cat >"$work/portal.json" <<JSON
{"routes": [{"prefix": "/bench", "upstream": "http://127.0.0.1:$upstream_port",
             "methods": ["GET"], "scopes": ["bench:read"]}]}
JSON
export PORTAL_ENV=development PORTAL_CONFIG="$work/portal.json"
export JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
export GATEWAY_HOST=127.0.0.1 GATEWAY_PORT=$portal_port ADMIN_PORT=$admin_port DATA_LAYER_PORT=$data_layer_port
export RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 RATE_LIMIT_BURST=1000000 RATE_LIMIT_BY_IP=true
export LOOP_THREADS=$workers LOG_LEVEL=warning AUDIT_LOG_LEVEL=INFO
portal_pid=""
token=""

# Starts `portal serve` with audit on or off, in a fresh data dir, and checks an authorised request passes.
start_portal() { # audit(true|false) name
    export AUDIT_LOG_ENABLED=$1 PORTAL_DATA_DIR="$work/data-$2"
    mkdir -p "$PORTAL_DATA_DIR"
    token=$("$portal" token issue --sub bench --scope "bench:read" --ttl 3600)
    "$portal" serve >"$work/portal-$2.log" 2>&1 &
    portal_pid=$!
    pids+=("$portal_pid")
    wait_for "http://127.0.0.1:$portal_port/bench"
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$portal_port/bench")
    [ "$status" = 200 ] || { echo "bench: portal answered $status to an authorised request" >&2; exit 1; }
}

# TCP connections the upstream has accepted so far (its one worker's stub_status counter).
upstream_accepts() {
    curl -s "http://127.0.0.1:$upstream_port/upstream-status" | awk 'NR == 3 { print $1 }'
}

# One wrk run after a warm-up; prints "req_per_s p50_ms p99_ms non_2xx upstream_connects"; the last is how
# many new connections the proxy opened to the upstream during the measured run (0 = perfect keep-alive).
measure() { # url [token]
    local args=(-t"$threads" -c"$connections" --latency --timeout 5s)
    [ -n "${2:-}" ] && args+=(-H "Authorization: Bearer $2")
    timeout 60 wrk "${args[@]}" -d"$warmup" "$1" >/dev/null
    local before result
    before=$(upstream_accepts)
    result=$(timeout 300 wrk "${args[@]}" -d"$duration" "$1" | tee -a "$work/wrk.txt" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(value):
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
socket = re.search(r"Socket errors: (.*)", text)
if socket: print(f"bench: wrk socket errors: {socket.group(1)}", file=sys.stderr)
print(f"{rate:.0f} {p50:.3f} {p99:.3f} {errors.group(1) if errors else 0}")
')
    echo "$result $(($(upstream_accepts) - before - 1))"
}

echo "bench: wrk -t$threads -c$connections -d$duration (warm-up $warmup), 127.0.0.1; nginx workers and" \
    "LOOP_THREADS $workers; upstream keepalive $upstream_keepalive per worker; upstream: nginx return 200" >&2
rows=()
rows+=("nginx-proxy $(measure "http://127.0.0.1:$nginx_port/bench")")
start_portal true audit
rows+=("portal $(measure "http://127.0.0.1:$portal_port/bench" "$token")")
audit_lines=$(wc -l <"$work/data-audit/audit.log" 2>/dev/null || echo 0)
stop "$portal_pid"
start_portal false no-audit
rows+=("portal-no-audit $(measure "http://127.0.0.1:$portal_port/bench" "$token")")
stop "$portal_pid"

printf '%s\n' "${rows[@]}" | python3 -c '
import sys
rows = [line.split() for line in sys.stdin if line.strip()]
base_rate, base_p99 = float(rows[0][1]), float(rows[0][3])
print("%-16s %9s %8s %8s %8s %15s %13s %15s" % ("target", "req/s", "p50 ms", "p99 ms", "non-2xx",
                                                "req/s vs nginx", "p99 vs nginx", "upstream conns"))
for name, rate, p50, p99, errors, connects in rows:
    print(f"{name:<16} {float(rate):>9.0f} {float(p50):>8.3f} {float(p99):>8.3f} {int(errors):>8}"
          f" {float(rate) / base_rate:>15.2f} {float(p99) / base_p99:>13.2f} {int(connects):>15}")
'
echo "bench: audit trail lines written in the audited run: $audit_lines" >&2
