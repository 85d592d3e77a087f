#!/usr/bin/env bash
# Story Portal against plain nginx, side by side, on 127.0.0.1.
#
# Starts: a trivial upstream (nginx `return 200`), an nginx reverse proxy to it (keep-alive upstream), and
# Story Portal (`.build/release/portal serve`) routing /bench to the same upstream behind a JWT needing the
# scope bench:read, with a very high rate limit and audit on. Then wrk hits both and prints req/s, p50/p99
# latency and the portal/nginx ratio. Run by hand (`make bench`); everything is stopped on exit.
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_PORT_BASE (18000).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
portal="${root}/.build/release/portal"
duration="${BENCH_DURATION:-10s}"
connections="${BENCH_CONNECTIONS:-64}"
threads="${BENCH_THREADS:-2}"
base="${BENCH_PORT_BASE:-18000}"
upstream_port=$((base + 80))
nginx_port=$((base + 81))
portal_port=$((base + 9))
admin_port=$((base + 909))
data_layer_port=$((base + 1))

for tool in nginx wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing; run 'make deps'" >&2; exit 1; }
done

work=$(mktemp -d /tmp/portal-bench.XXXXXX)
pids=()
cleanup() {
    # Stop only what this script started, by pid.
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Waits up to 10 s for `curl` to get any HTTP answer from $1.
wait_for() {
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
        sleep 0.1
    done
    echo "bench: nothing answers at $1" >&2
    return 1
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

nginx_conf upstream 1 "server { listen 127.0.0.1:$upstream_port; location / { return 200 'ok\n'; } }"
nginx_conf proxy auto "upstream app { server 127.0.0.1:$upstream_port; keepalive 64; }
    server { listen 127.0.0.1:$nginx_port;
        location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
wait_for "http://127.0.0.1:$upstream_port/"
wait_for "http://127.0.0.1:$nginx_port/bench"

# Story Portal, when the binary exists (it lands with the Gateway and portal targets).
portal_url=""
token=""
if [ -x "$portal" ]; then
    cat >"$work/portal.json" <<JSON
{"routes": [{"prefix": "/bench", "upstream": "http://127.0.0.1:$upstream_port",
             "methods": ["GET"], "scopes": ["bench:read"]}]}
JSON
    export PORTAL_ENV=development PORTAL_CONFIG="$work/portal.json" PORTAL_DATA_DIR="$work/data"
    export JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    export GATEWAY_HOST=127.0.0.1 GATEWAY_PORT=$portal_port ADMIN_PORT=$admin_port DATA_LAYER_PORT=$data_layer_port
    export RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 RATE_LIMIT_BURST=1000000 AUDIT_LOG_ENABLED=true LOG_LEVEL=warning
    mkdir -p "$work/data"
    token=$("$portal" token issue --sub bench --scope "bench:read" --ttl 600)
    "$portal" serve >"$work/portal.log" 2>&1 &
    pids+=($!)
    wait_for "http://127.0.0.1:$portal_port/bench"
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$portal_port/bench")
    [ "$status" = 200 ] || { echo "bench: portal answered $status to an authorised request" >&2; exit 1; }
    portal_url="http://127.0.0.1:$portal_port/bench"
else
    echo "bench: $portal not built yet; measuring nginx only" >&2
fi

# One wrk run; prints "req_per_s p50_ms p99_ms".
measure() { # url [authorization]
    local args=(-t"$threads" -c"$connections" -d"$duration" --latency --timeout 5s)
    [ -n "${2:-}" ] && args+=(-H "Authorization: Bearer $2")
    timeout 120 wrk "${args[@]}" "$1" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(value):
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors: print(f"warning: {errors.group(1)} non-2xx responses", file=sys.stderr)
print(f"{rate:.0f} {p50:.3f} {p99:.3f}")
'
}

echo "wrk -t$threads -c$connections -d$duration, 127.0.0.1, upstream: nginx return 200" >&2
read -r nginx_rate nginx_p50 nginx_p99 < <(measure "http://127.0.0.1:$nginx_port/bench")
printf '%-14s %12s %10s %10s\n' target "req/s" "p50 ms" "p99 ms"
printf '%-14s %12s %10s %10s\n' "nginx proxy" "$nginx_rate" "$nginx_p50" "$nginx_p99"
if [ -n "$portal_url" ]; then
    read -r portal_rate portal_p50 portal_p99 < <(measure "$portal_url" "$token")
    printf '%-14s %12s %10s %10s\n' "story portal" "$portal_rate" "$portal_p50" "$portal_p99"
    python3 -c "print(f'ratio portal/nginx: req/s {$portal_rate / $nginx_rate:.2f}, p99 {$portal_p99 / $nginx_p99:.2f}')"
fi
