#!/usr/bin/env bash
# Soak test of one release server on a fresh database (SQLite by default,
# PostgreSQL with BENCH_DATABASE_URL), all on 127.0.0.1, bounded in time:
#  1. MINUTES of mixed traffic: two readers (wrk: /protected with the cookie,
#     /api/v1/me with a Bearer token), WRITERS connections creating items
#     (wrk POST /api/v1/items), a right and a wrong sign-in every second
#     (curl), and command-line writes beside the server every 2 s
#     (`gatehouse user create`, `user set-role`). The server's RSS is sampled
#     every 5 s. Reported: every failed request (a 5xx, an unexpected status,
#     a socket error), every failed command, the RSS curve, and how far RSS
#     moves over the second half (max/min - 1).
#  2. kill -9 under writes: the writers run, the server is killed mid-write;
#     then the database is checked (SQLite: PRAGMA integrity_check; both:
#     every item the server answered 201 for is there), and the server starts
#     again on it and answers /health/ready and a sign-in.
#  3. Only with BENCH_DATABASE_URL and BENCH_PG_RESTART, a command that
#     restarts that PostgreSQL server (e.g. "pg_ctlcluster 15 main restart"):
#     a probe asks for /protected every 50 ms while the database restarts;
#     reported: the failed probes, and how long after the database answered
#     again the last one failed.
#   bench/soak.sh [minutes] [writers]
# BENCH_PORT: the server's port (8766). Needs wrk, curl, jq, python3 (the
# SQLite check), and psql for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-5}; writers=${2:-8}
port=${BENCH_PORT:-8766}
base="http://127.0.0.1:$port"
email=soak@example.com; password="soak password 1"

die() { echo "soak: $*" >&2; exit 1; }
for tool in wrk curl jq python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done
[[ $minutes =~ ^[1-9][0-9]*$ && $minutes -le 60 && $writers =~ ^[1-9][0-9]*$ && $writers -le 64 ]] ||
  die "usage: bench/soak.sh [minutes 1-60] [writers 1-64]"
if curl -s -o /dev/null -m 2 "$base/health"; then
  die "something already answers on 127.0.0.1:$port (set BENCH_PORT)"
fi

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/gatehouse
build="release build of $(git describe --always --dirty 2>/dev/null || echo '?')"

work=$(mktemp -d)
pid=; pg_db=; pg_admin=; bg=()
cleanup() {
  local rc=$?
  set +e
  for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  if [[ -n $pg_db ]]; then
    psql "$pg_admin" -qAtc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 ||
      echo "soak: could not drop database $pg_db" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "soak: $*" >&2
  if [[ -s $work/server.log ]]; then echo "--- server log (last lines)" >&2; tail -n 20 "$work/server.log" >&2; fi
  exit 1
}

if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
  command -v psql >/dev/null || die "psql is not installed (needed for BENCH_DATABASE_URL)"
  pg_admin=$BENCH_DATABASE_URL
  version=$(psql "$pg_admin" -qAtc 'show server_version' 2>&1) || die "PostgreSQL at BENCH_DATABASE_URL does not answer: $version"
  pg_db="gatehouse_soak_$$"
  psql "$pg_admin" -qAtc "CREATE DATABASE $pg_db" >/dev/null || { pg_db=; die "could not create database gatehouse_soak_$$"; }
  url=${pg_admin%%\?*}; query=${pg_admin:${#url}}
  scheme=${url%%://*}; rest=${url#*://}; authority=${rest%%/*}
  export DATABASE_URL="$scheme://$authority/$pg_db$query"
  database="PostgreSQL ${version%% *} on ${authority#*@} (database $pg_db, dropped at exit)"
  sql() { psql "$DATABASE_URL" -qAtc "$1"; }
else
  export DATABASE_URL="sqlite://$work/soak.db"
  database="SQLite (fresh file)"
  sql() { python3 -c 'import sqlite3, sys; print(*sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(), sep="|")' "$work/soak.db" "$1"; }
fi

export ROCKET_PROFILE=release ROCKET_PORT=$port ROCKET_ADDRESS=127.0.0.1 ROCKET_LOG_LEVEL=critical
export JWT_SECRET_KEY=$(head -c 48 /dev/urandom | base64 -w0) ROCKET_SECRET_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export GATEHOUSE_JWT__COOKIE_SECURE=false        # plain http on loopback
export GATEHOUSE_JWT__ACCESS_TOKEN_EXPIRES=7200  # one token for the whole soak
export GATEHOUSE_LOGIN__RATE_LIMIT_PER_MINUTE=1000000
echo "$password" | "$bin" user create --email "$email" --name Soak --admin --password-stdin >/dev/null ||
  fail "gatehouse user create failed"

start_server() {
  "$bin" >>"$work/server.log" 2>&1 & pid=$!
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || fail "the server exited at start"
    curl -sf -m 1 -o /dev/null "$base/health" && return 0
    sleep 0.2
  done
  fail "the server did not answer /health within 20 s"
}
start_server

login_json=$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')
token=$(curl -sf -m 30 -H 'Content-Type: application/json' -d "$login_json" "$base/api/v1/login" |
  jq -er .access_token) || fail "POST /api/v1/login gave no access_token"
jar="$work/cookies"
csrf=$(curl -sf -m 30 -c "$jar" -b "$jar" "$base/login" |
  grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"$//') || fail "no CSRF token on /login"
curl -sf -m 30 -c "$jar" -b "$jar" -o /dev/null --data-urlencode "email=$email" \
  --data-urlencode "password=$password" --data-urlencode "csrf_token=$csrf" "$base/login" || fail "POST /login failed"
cookie=$(awk '$6 ~ /^(access_token_cookie|refresh_token_cookie)$/ {printf "%s=%s; ", $6, $7}' "$jar")
curl -sf -m 30 -H "Cookie: $cookie" "$base/protected" | grep -q "Hello, Soak" || fail "/protected does not greet Soak"

# wrk's output -> "requests non-2xx/3xx socket-errors"
parse_wrk() {
  awk '/ requests in / {n=$1} /^ +Non-2xx or 3xx responses:/ {bad=$NF}
    /^ +Socket errors:/ {gsub(",", ""); err=$4+$6+$8+$10}
    END {printf "%d %d %d\n", n, bad, err}'
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# 1. Mixed traffic.
secs=$((minutes * 60))
wrk -t1 -c2 -d"${secs}s" --timeout 10s -H "Cookie: $cookie" "$base/protected" >"$work/r1.out" 2>&1 & r1=$!
wrk -t1 -c2 -d"${secs}s" --timeout 10s -H "Authorization: Bearer $token" "$base/api/v1/me" >"$work/r2.out" 2>&1 & r2=$!
SOAK_TOKEN=$token wrk -t1 -c"$writers" -d"${secs}s" --timeout 10s -s bench/soak_writes.lua \
  "$base/api/v1/items" >"$work/w.out" 2>&1 & w=$!
bg=("$r1" "$r2" "$w")
(
  end=$((SECONDS + secs)); i=0
  while ((SECONDS < end)); do
    i=$((i + 1))
    c=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$login_json" "$base/api/v1/login")
    [[ $c == 200 ]] || echo "right sign-in $c"
    c=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      -d "{\"email\":\"nobody$i@example.com\",\"password\":\"wrong\"}" "$base/api/v1/login")
    [[ $c == 401 ]] || echo "wrong sign-in $c"
    echo ok >>"$work/signins"
    sleep 1
  done
) >"$work/signin.errors" 2>&1 & s=$!
(
  end=$((SECONDS + secs)); i=0
  while ((SECONDS < end)); do
    i=$((i + 1))
    echo "cli password $i" | "$bin" user create --email "cli$i@example.com" --name "CLI $i" --password-stdin \
      >/dev/null 2>>"$work/cli.err" || echo "user create $i failed"
    "$bin" user set-role "cli$i@example.com" admin >/dev/null 2>>"$work/cli.err" || echo "user set-role $i failed"
    echo ok >>"$work/cli"
    sleep 2
  done
) >"$work/cli.errors" 2>&1 & c=$!
bg+=("$s" "$c")
: >"$work/rss"
t0=$SECONDS
while ((SECONDS - t0 < secs)); do
  echo "$((SECONDS - t0)) $(rss "$pid")" >>"$work/rss"
  sleep 5
done
wait "$r1" "$r2" "$w" "$s" "$c" || true
bg=()
echo "$secs $(rss "$pid")" >>"$work/rss"
kill -0 "$pid" 2>/dev/null || fail "the server died during the soak"
read -r r1_n r1_bad r1_err < <(parse_wrk <"$work/r1.out")
read -r r2_n r2_bad r2_err < <(parse_wrk <"$work/r2.out")
read -r _ w_ok w_other w_others < <(grep '^WRITES ' "$work/w.out") || fail "no summary from the writers: $(cat "$work/w.out")"
w_err=$(parse_wrk <"$work/w.out" | cut -d' ' -f3)
signins=$(wc -l <"$work/signins" 2>/dev/null || echo 0); signin_bad=$(wc -l <"$work/signin.errors")
cli=$(wc -l <"$work/cli" 2>/dev/null || echo 0); cli_bad=$(wc -l <"$work/cli.errors")
acked=$w_ok

# 2. kill -9 under writes.
SOAK_TOKEN=$token wrk -t1 -c"$writers" -d20s --timeout 5s -s bench/soak_writes.lua \
  "$base/api/v1/items" >"$work/k.out" 2>&1 & k=$!
bg=("$k")
sleep 5
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
wait "$k" || true
bg=()
read -r _ k_ok _ < <(grep '^WRITES ' "$work/k.out") || fail "no summary from the kill -9 writers"
acked=$((acked + k_ok))
if [[ -z $pg_db ]]; then
  integrity=$(sql 'PRAGMA integrity_check')
else
  integrity="(PostgreSQL: not needed)"
fi
bench_id=$(sql "select id from users where email = '$email'")
stored=$(sql "select count(*) from items where created_by = $bench_id")
start_server
ready=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/health/ready")
after=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$login_json" "$base/api/v1/login")

# 3. A PostgreSQL restart.
restart=
if [[ -n $pg_db && -n ${BENCH_PG_RESTART:-} ]]; then
  (
    end=$((SECONDS + 60))
    while ((SECONDS < end)); do
      echo "$(date +%s.%N) $(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/protected")"
      sleep 0.05
    done
  ) >"$work/probe" & p=$!
  bg=("$p")
  sleep 2
  down=$(date +%s.%N)
  bash -c "$BENCH_PG_RESTART" >"$work/restart.log" 2>&1 || fail "BENCH_PG_RESTART failed: $(cat "$work/restart.log")"
  until psql "$pg_admin" -qAtc 'select 1' >/dev/null 2>&1; do sleep 0.05; done
  back=$(date +%s.%N)
  sleep 10
  kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; bg=()
  restart=$(awk -v down="$down" -v back="$back" '
    $1 >= down { n++; if ($2 != 200) { bad++; if ($1 >= back) { after++; last = $1 } } }
    END { printf "%d probes from the restart on, %d failed, %d of them after the database answered again", n, bad, after;
          if (after) printf "; the last %.2f s after", last - back; else printf "; none after" }' "$work/probe")
fi

# Report.
echo "$(date '+%F %T %z')  $(nproc) cores  $database  $build"
echo "soak: ${minutes} min; readers wrk -c2 /protected (cookie) and -c2 /api/v1/me (Bearer); $writers writers POST /api/v1/items;"
echo "      a right and a wrong sign-in every second; gatehouse user create + set-role every 2 s beside the server"
printf "  %-34s %9s %s\n" "traffic" "requests" "failed"
printf "  %-34s %9s %s\n" "/protected (cookie)" "$r1_n" "$((r1_bad + r1_err))"
printf "  %-34s %9s %s\n" "/api/v1/me (Bearer)" "$r2_n" "$((r2_bad + r2_err))"
printf "  %-34s %9s %s\n" "POST /api/v1/items (201s)" "$((w_ok + w_other))" "$((w_other + w_err)) (statuses: $w_others)"
printf "  %-34s %9s %s\n" "sign-ins (right + wrong)" "$((signins * 2))" "$signin_bad"
printf "  %-34s %9s %s\n" "command-line writes" "$((cli * 2))" "$cli_bad"
[[ -s $work/signin.errors ]] && sed 's/^/    /' "$work/signin.errors" | sort | uniq -c | head -5
[[ -s $work/cli.errors ]] && { sed 's/^/    /' "$work/cli.errors" | head -3; sed 's/^/    /' "$work/cli.err" | sort | uniq -c | head -3; }
echo "  RSS (MB) every 30 s: $(awk 'NR % 6 == 1 || $1 >= '"$secs"' {printf "%s:%.1f ", $1, $2/1024}' "$work/rss")"
awk -v half=$((secs / 2)) '$1 >= half && $2 > 0 { if (!min || $2 < min) min = $2; if ($2 > max) max = $2 }
  END { printf "  RSS over the second half: %.1f to %.1f MB (%.1f%% apart)\n", min/1024, max/1024, (max/min - 1) * 100 }' "$work/rss"
echo "kill -9 under writes: $acked items answered 201 in all, $stored stored ($([[ $stored -ge $acked ]] && echo "none lost" || echo "$((acked - stored)) LOST")); integrity: $integrity"
echo "  restarted on the same database: /health/ready $ready, a sign-in $after"
[[ -n $restart ]] && echo "PostgreSQL restart: $restart"
true
