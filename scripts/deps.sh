#!/usr/bin/env bash
# Installs the Debian packages Story Portal builds, tests and benchmarks with, only when missing.
# Runs unattended (root, no TTY, CI=true); `apt-get update` runs at most once, and only if something is missing.
set -euo pipefail

packages=(
    libssl-dev libsqlite3-dev zlib1g-dev libargon2-dev libpq-dev postgresql pkg-config prometheus curl python3 wrk nginx-light
    slowhttptest testssl.sh redis-server redis-tools
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg -s "$package" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

# Root installs directly; anyone else needs passwordless sudo.
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "deps: missing packages (${missing[*]}); run 'make deps' as root" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq </dev/null
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
