#!/usr/bin/env bash
# Starts Debian's PostgreSQL 15 cluster on this machine for the tests, and gives them what they need:
# a superuser role named after the user running the tests (reached over the Unix socket with peer
# authentication, so no password is stored anywhere), and the two service roles that `portal db init`
# would otherwise create (so tests running in parallel never race to create them).
# Idempotent; runs as root (CI) or with passwordless sudo. The tests that stop and start PostgreSQL use
# throwaway clusters of their own (initdb in a temporary directory) and need only the packages.
set -euo pipefail

version=15
cluster=main
socket_dir=/var/run/postgresql
test_user="$(id -un)"

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "postgres-setup: needs root or passwordless sudo to start PostgreSQL" >&2
    exit 1
fi
as_postgres=("${as_root[@]}" runuser -u postgres --)

# The cluster's status column ("online", "down"), or nothing when it does not exist.
status() { pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $4}'; }

# A fresh install creates the cluster; recreate it only if someone removed it.
if [ -z "$(status)" ]; then
    "${as_root[@]}" pg_createcluster "$version" "$cluster" >/dev/null
fi
if [ "$(status)" != "online" ]; then
    "${as_root[@]}" pg_ctlcluster "$version" "$cluster" start
fi
for _ in $(seq 60); do
    if pg_isready -q -h "$socket_dir" -p 5432; then break; fi
    sleep 0.5
done
pg_isready -q -h "$socket_dir" -p 5432 || { echo "postgres-setup: the cluster did not come up" >&2; exit 1; }

psql_admin() { "${as_postgres[@]}" psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

exists() { [ "$(psql_admin -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '$1'")" = "1" ]; }

if ! exists "$test_user"; then
    psql_admin -c "CREATE ROLE \"$test_user\" LOGIN SUPERUSER"
fi
for role in l01_service l09_service; do
    if ! exists "$role"; then
        psql_admin -c "CREATE ROLE $role LOGIN"
    fi
done
echo "postgres-setup: cluster $version/$cluster online at $socket_dir; role $test_user ready" >&2
