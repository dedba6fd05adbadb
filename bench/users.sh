#!/usr/bin/env bash
# The admin users list at 100,000 users, on SQLite (a fresh file) and on
# PostgreSQL (a schema of its own, dropped afterwards): median times of the
# list's queries (count + one page) for search, filters, sorting and paging.
#   bench/users.sh [users] [rounds]
# PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test);
# skipped if it does not answer.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}; rounds=${2:-21}
pg=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}

cargo build --release --quiet --example users_bench
bin=${CARGO_TARGET_DIR:-target}/release/examples/users_bench
work=$(mktemp -d)
schema="bench_users_$$"
cleanup() {
  rm -rf "$work"
  psql "$pg" -qAtc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$bin" "sqlite://$work/users.db" "$users" "$rounds"
echo
if psql "$pg" -qAtc 'select 1' >/dev/null 2>&1; then
  psql "$pg" -qAtc "CREATE SCHEMA $schema" >/dev/null
  sep='?'; [[ "$pg" == *\?* ]] && sep='&'
  "$bin" "$pg${sep}options=-csearch_path%3D$schema" "$users" "$rounds"
else
  echo "PostgreSQL at $pg is not answering: skipped"
fi
