#!/usr/bin/env bash
# Runs testssl.sh against a TLS listener and fails on any finding of severity MEDIUM or higher.
#
# Usage: scripts/tls-check.sh HOST:PORT [--ca CA.pem] [extra testssl options...]
#   HOST:PORT   the listener, e.g. 127.0.0.1:8443 (the gateway's TLS_PORT).
#   --ca FILE   trust this CA (or a self-signed cert from `portal cert self-signed`) for the chain check,
#               so that a development certificate is not itself reported as a finding.
# Exit status: 0 when no MEDIUM/HIGH/CRITICAL finding, 1 when there are (they are printed), 2 on usage or
# tool errors or when the scan could not run (no TLS at HOST:PORT, scan interrupted).
# Installs the Debian package testssl.sh when the `testssl` command is missing.
# The full JSON report is kept in $TLS_CHECK_OUT (default: a temporary file, path printed at the end).
set -euo pipefail

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
target="$1"
shift
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --ca) extra+=(--add-ca "$2"); shift 2 ;;
        *) extra+=("$1"); shift ;;
    esac
done

if ! command -v testssl >/dev/null 2>&1; then
    echo "tls-check: installing testssl.sh (Debian package)" >&2
    apt-get install -y testssl.sh >/dev/null || { echo "tls-check: cannot install testssl.sh" >&2; exit 2; }
fi

report="${TLS_CHECK_OUT:-$(mktemp /tmp/tls-check.XXXXXX.json)}"
rm -f "$report"
# testssl's own exit status counts many things; the JSON findings decide.
testssl --quiet --color 0 --warnings batch --jsonfile "$report" "${extra[@]}" "$target" >/dev/null || true
if [[ ! -s "$report" ]]; then
    echo "tls-check: testssl produced no report for $target" >&2
    exit 2
fi

status=0
python3 - "$report" <<'PY' || status=$?
import json, sys
findings = json.load(open(sys.argv[1]))
bad = [f for f in findings if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")]
# engine_problem only says the local openssl has no GOST engine (Debian's has none): not a scan failure.
# A scan that stopped (no TLS there, or cut short) found nothing because it checked nothing: that fails too.
scan_problems = [f for f in findings if f.get("id") == "scanProblem"
                 or (f.get("id") == "scanTime" and "interrupted" in str(f.get("finding", "")).lower())
                 or (f.get("id") == "optimal_proto" and f.get("severity") == "WARN")]
for f in bad + scan_problems:
    print(f"{f.get('severity')}: {f.get('id')}: {f.get('finding')}")
if scan_problems:
    sys.exit(2)
sys.exit(1 if bad else 0)
PY
echo "tls-check: report in $report" >&2
exit $status
