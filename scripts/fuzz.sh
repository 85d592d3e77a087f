#!/usr/bin/env bash
# Builds every libFuzzer harness in Fuzz/ with the fuzzer and AddressSanitizer, seeds its corpus from the shared
# vectors, and runs each for SECONDS (default 60). Prints executions, coverage and findings per harness.
#
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]
# Environment: PORTAL_VECTORS (default Tests/Vectors), FUZZ_WORK (default .build-fuzz).
# Exit status: 0 when no harness found anything, 1 when any crash, hang or memory finding was written.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
seconds=${1:-60}
shift || true
harnesses=("$@")
if [ "${#harnesses[@]}" -eq 0 ]; then
    harnesses=(FuzzRequestParser FuzzChunked FuzzRoutePath FuzzRequestTarget FuzzJWT FuzzConfig FuzzRESP)
fi
vectors=${PORTAL_VECTORS:-$(pwd)/Tests/Vectors}
work=${FUZZ_WORK:-$(pwd)/.build-fuzz}

# Per harness: the longest input worth trying, in bytes (requests carry bodies; paths and tokens are short).
max_len() {
    case "$1" in
        FuzzRequestParser | FuzzChunked) echo 4096 ;;
        FuzzJWT) echo 2048 ;;
        *) echo 1024 ;;
    esac
}

# A separate scratch path keeps the instrumented objects away from the normal .build. SwiftPM links an
# executable's `main` to the target's entry point, so the harness calls LLVMFuzzerRunDriver itself (FuzzEntry);
# lld is needed because gold fails on libFuzzer's duplicate `main` with an internal error.
for harness in "${harnesses[@]}"; do
    echo "== building $harness"
    swift build -c debug --scratch-path "$work" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld \
        --product "$harness" 2>&1 | grep -v -e '^\[' -e 'Cannot export local symbol' || true
    if [ ! -x "$work/debug/$harness" ]; then
        echo "build of $harness failed" >&2
        exit 2
    fi
done

python3 Fuzz/make_seeds.py "$vectors" "$work/corpus"

summary=()
failed=0
for harness in "${harnesses[@]}"; do
    corpus="$work/corpus/$harness"
    artifacts="$work/artifacts/$harness"
    log="$work/logs/$harness.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    before=$(find "$artifacts" -type f | wc -l)
    echo "== fuzzing $harness for ${seconds}s (log: $log)"
    # -timeout: an input running past 5 s is a hang; -rss_limit_mb bounds memory per input.
    set +e
    "$work/debug/$harness" "$corpus" \
        -max_total_time="$seconds" -max_len="$(max_len "$harness")" -timeout=5 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
    status=$?
    set -e
    executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    coverage=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*' || echo "cov: ?")
    corpus_size=$(find "$corpus" -type f | wc -l)
    found=$(($(find "$artifacts" -type f | wc -l) - before))
    if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
        failed=1
        grep -E 'ERROR|SUMMARY|fuzz property|Fatal error|artifact' "$log" | head -5 || true
    fi
    summary+=("$(printf '%-18s executions: %-10s %-22s corpus: %-6s findings: %s (exit %s)' \
        "$harness" "$executions" "$coverage" "$corpus_size" "$found" "$status")")
done

echo "== results (${seconds}s each; findings in $work/artifacts/<harness>/)"
printf '%s\n' "${summary[@]}"
exit "$failed"
