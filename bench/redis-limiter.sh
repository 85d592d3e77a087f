#!/usr/bin/env bash
# The per-IP rate limiter through the gateway: in memory against Redis, side by side, on 127.0.0.1.
#
# Starts: a trivial upstream (nginx `return 200`), a redis-server (its own temp dir, requirepass, the guide's
# renamed commands), and `portal serve` routing the public /bench to the upstream, with a limit so high that
# the limiter decides every request but never refuses. wrk (keep-alive) then measures, one after the other:
#   no-limiter    RATE_LIMIT_BY_IP=false: the pipeline without the limit step
#   memory        the in-memory GCRA, one key (every request comes from 127.0.0.1)
#   redis         the GCRA script in Redis (EVALSHA per request, pipelined per loop), one key
#   memory-keys   in memory, 65,536 client addresses (X-Forwarded-For from a trusted 127.0.0.1)
#   redis-keys    in Redis, the same 65,536 addresses
# Prints req/s, p50/p99 latency and non-2xx answers per case. Everything this script started is stopped, by
# pid, on exit. Run by hand: `make bench-redis` (needs a release build, nginx, wrk, redis-server).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_WORKERS (nproc: LOOP_THREADS), BENCH_PORT_BASE (22000: ports base+1, +9, +79, +80, +909).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
portal="${root}/.build/release/portal"
duration="${BENCH_DURATION:-10s}"
warmup="${BENCH_WARMUP:-2s}"
connections="${BENCH_CONNECTIONS:-64}"
threads="${BENCH_THREADS:-2}"
workers="${BENCH_WORKERS:-$(nproc)}"
base="${BENCH_PORT_BASE:-22000}"
upstream_port=$((base + 80))
redis_port=$((base + 79))
portal_port=$((base + 9))
admin_port=$((base + 909))
data_layer_port=$((base + 1))

for tool in nginx wrk curl python3 redis-server redis-cli; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing; run 'make deps'" >&2; exit 1; }
done
[ -x "$portal" ] || { echo "bench: $portal is missing; run 'swift build -c release' first" >&2; exit 1; }
for port in $upstream_port $redis_port $portal_port $admin_port $data_layer_port; do
    python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))
' "$port" 2>/dev/null || { echo "bench: port $port is in use; set BENCH_PORT_BASE" >&2; exit 1; }
done

work=$(mktemp -d /tmp/portal-redis-bench.XXXXXX)
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

stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local kept=()
    for pid in "${pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
    pids=("${kept[@]}")
}

# The upstream: one nginx worker answering 200.
cat >"$work/upstream.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/upstream.pid;
error_log $work/upstream-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
    server { listen 127.0.0.1:$upstream_port; keepalive_requests 1000000; location / { return 200 'ok\n'; } }
}
CONF
nginx -p "$work" -c "$work/upstream.conf" &
pids+=($!)

# Redis as the guide configures it, without persistence.
password=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
cat >"$work/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
dir $work
save ""
appendonly no
requirepass $password
rename-command FLUSHDB ""
rename-command FLUSHALL ""
rename-command CONFIG ""
maxclients 1000
CONF
redis-server "$work/redis.conf" >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" -a "$password" --no-auth-warning PING >/dev/null 2>&1 && break
    sleep 0.1
done
wait_for "http://127.0.0.1:$upstream_port/"

cat >"$work/portal.json" <<JSON
{"routes": [{"prefix": "/bench", "upstream": "http://127.0.0.1:$upstream_port", "methods": ["GET"], "public": true}]}
JSON
# 65,536 client addresses, one per request in turn, believed because 127.0.0.1 is a trusted proxy.
cat >"$work/keys.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    local i = n % 65536
    return wrk.format("GET", "/bench", { ["X-Forwarded-For"] = "10.9." .. math.floor(i / 256) .. "." .. (i % 256) })
end
LUA
export PORTAL_ENV=development PORTAL_CONFIG="$work/portal.json" AUDIT_LOG_ENABLED=false TRUSTED_PROXIES=127.0.0.1/32
export GATEWAY_HOST=127.0.0.1 GATEWAY_PORT=$portal_port ADMIN_PORT=$admin_port DATA_LAYER_PORT=$data_layer_port
export RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 RATE_LIMIT_BURST=1000000 LOOP_THREADS=$workers LOG_LEVEL=warning
redis_url="redis://:$password@127.0.0.1:$redis_port"

run_case() { # name by-ip(true|false) redis(yes|no) [wrk-script]
    local dir="$work/data-$1"
    mkdir -p "$dir"
    if [ "$3" = yes ]; then
        PORTAL_DATA_DIR=$dir RATE_LIMIT_BY_IP=$2 REDIS_URL=$redis_url "$portal" serve >"$work/portal-$1.log" 2>&1 &
    else
        PORTAL_DATA_DIR=$dir RATE_LIMIT_BY_IP=$2 "$portal" serve >"$work/portal-$1.log" 2>&1 &
    fi
    local pid=$!
    pids+=("$pid")
    wait_for "http://127.0.0.1:$portal_port/bench"
    local args=(-t"$threads" -c"$connections" --latency --timeout 5s)
    [ -n "${4:-}" ] && args+=(-s "$4")
    timeout 60 wrk "${args[@]}" -d"$warmup" "http://127.0.0.1:$portal_port/bench" >/dev/null
    local result
    result=$(timeout 300 wrk "${args[@]}" -d"$duration" "http://127.0.0.1:$portal_port/bench" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(value):
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rate:.0f} {p50:.3f} {p99:.3f} {errors.group(1) if errors else 0}")
')
    local circuit
    circuit=$(curl -s "http://127.0.0.1:$admin_port/metrics" | awk '/^rate_limit_backend_circuit_state / { print $2 }')
    stop "$pid"
    printf '%-12s %9s %8s %8s %8s %8s\n' "$1" $result "${circuit:--}"
}

echo "bench: wrk -t$threads -c$connections -d$duration (warm-up $warmup), 127.0.0.1; LOOP_THREADS $workers;" \
    "public route, audit off; upstream: nginx return 200; Redis $(redis-server --version | awk '{print $3}')" >&2
printf '%-12s %9s %8s %8s %8s %8s\n' case req/s "p50 ms" "p99 ms" non-2xx circuit
run_case no-limiter false no
run_case memory true no
run_case redis true yes
run_case memory-keys true no "$work/keys.lua"
run_case redis-keys true yes "$work/keys.lua"
echo "redis keys after the runs: $(redis-cli -p "$redis_port" -a "$password" --no-auth-warning DBSIZE)" >&2
