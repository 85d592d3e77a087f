#!/usr/bin/env bash
# Story Portal's memory while large bodies stream through the gateway, measured by hand (the tests do the same
# with 256 MiB: Tests/PortalCommandTests/StreamingMemoryTests.swift).
#
# Starts a Python upstream on 127.0.0.1 (GET /down/N answers N zero bytes; POST reads the body and answers its
# size) and `.build/release/portal serve` with public routes to it and MAX_BODY_SIZE=1073741824, then with curl:
# downloads STREAM_BYTES, uploads STREAM_BYTES (chunked, from stdin), and holds a download unread for 5 s with a
# small receive buffer. It samples the portal's VmRSS every 20 ms and prints, for each, the baseline, the peak and
# the growth. Everything this script started is stopped, by pid, on exit.
#
# Knobs: STREAM_BYTES (1073741824), STREAM_PORT_BASE (22000: ports base+9, +909, +1, +80).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
portal="$(pwd)/.build/release/portal"
bytes="${STREAM_BYTES:-1073741824}"
base="${STREAM_PORT_BASE:-22000}"
[ -x "$portal" ] || { echo "stream-memory: $portal is missing; run 'swift build -c release' first" >&2; exit 1; }
work=$(mktemp -d /tmp/portal-stream.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${STREAM_KEEP:-}" ]; then echo "stream-memory: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

cat >"$work/upstream.py" <<'PY'
import socket, sys, threading
def serve(conn):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk: return
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        method, target = lines[0].split(" ")[:2]
        if method == "GET":
            n = int(target.rsplit("/", 1)[1])
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % n)
            block = bytes(65536)
            while n > 0:
                conn.sendall(block[:min(n, 65536)]); n -= min(n, 65536)
            return
        fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
        total, buf = 0, bytearray(1 << 20)
        if "content-length" in fields:
            left = int(fields["content-length"]) - len(rest); total = len(rest)
            while left > 0:
                got = conn.recv_into(buf, min(left, len(buf)))
                if not got: return
                total += got; left -= got
        else:  # chunked: count de-chunked bytes the simple way
            stream = rest
            def need(k):
                nonlocal stream
                while len(stream) < k:
                    got = conn.recv(1 << 20)
                    if not got: raise EOFError
                    stream += got
            while True:
                need(1)
                while b"\r\n" not in stream: need(len(stream) + 1)
                line, stream = stream.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                need(size + 2); stream = stream[size + 2:]; total += size
                if size == 0: break
        body = b"n=%d" % total
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1]))); listener.listen(64)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
python3 "$work/upstream.py" "$((base + 80))" >"$work/upstream.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$((base + 80))/down/1" && break; sleep 0.1; done

cat >"$work/routes.json" <<JSON
{"routes": [{"prefix": "/down", "upstream": "http://127.0.0.1:$((base + 80))", "methods": ["GET"], "public": true},
            {"prefix": "/up", "upstream": "http://127.0.0.1:$((base + 80))", "methods": ["POST"], "public": true}]}
JSON
PORTAL_CONFIG="$work/routes.json" PORTAL_DATA_DIR="$work/data" GATEWAY_HOST=127.0.0.1 GATEWAY_PORT=$((base + 9)) \
    ADMIN_PORT=$((base + 909)) DATA_LAYER_PORT=$((base + 1)) MAX_BODY_SIZE=1073741824 LOG_LEVEL=warning \
    "$portal" serve >"$work/portal.log" 2>&1 &
portal_pid=$!
pids+=("$portal_pid")
url="http://127.0.0.1:$((base + 9))"
for _ in $(seq 100); do curl -s -o /dev/null "$url/down/1" && break; sleep 0.1; done

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$portal_pid/status"; }
# Runs "$@" while sampling the portal's RSS; prints "name baseline_kib peak_kib growth_kib seconds".
measure() { # name command...
    local name=$1; shift
    local before peak=0 now start end
    before=$(rss)
    start=$(date +%s%N)
    "$@" &
    local job=$!
    while kill -0 "$job" 2>/dev/null; do
        now=$(rss); [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.02
    done
    wait "$job"
    end=$(date +%s%N)
    printf '%-14s %10s %10s %10s %8s\n' "$name" "$before" "$peak" "$((peak - before))" \
        "$(((end - start) / 1000000)) ms"
}
download() { curl -s -o /dev/null -w '' "$url/down/$bytes"; }
upload() { head -c "$bytes" /dev/zero | curl -s -o "$work/up.txt" -X POST -T - "$url/up/x"; }
stall() { curl -s -o /dev/null --limit-rate 64k --max-time 5 "$url/down/$bytes" || true; }

# Warm both paths first, so buffers that stay are in the baseline.
curl -s -o /dev/null "$url/down/16777216"
head -c 16777216 /dev/zero | curl -s -o /dev/null -X POST -T - "$url/up/x"
printf '%-14s %10s %10s %10s %8s\n' "transfer" "base KiB" "peak KiB" "growth" "time"
measure "download" download
measure "upload" upload
echo "upload answer: $(cat "$work/up.txt")" >&2
measure "slow reader" stall
