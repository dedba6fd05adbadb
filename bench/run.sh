#!/usr/bin/env bash
# Benchmark of one release server on a fresh database (SQLite by default,
# PostgreSQL with BENCH_DATABASE_URL), all on 127.0.0.1:
#  - rounds of wrk, interleaved, over five requests: /health (a bare route),
#    /protected with a valid cookie, /api/v1/me with a Bearer token, /api/v1/me
#    with a refused (forged) token, and the anonymous / page; medians over
#    rounds of req/s, p50, p99, and of each route's req/s as a ratio of
#    /health's in the same round;
#  - one bcrypt verify's time (median of 5 single idle sign-ins with curl) and
#    the capacity it implies (cores / verify time);
#  - a sign-in storm: 16 connections POST /api/v1/login (right password) in a
#    loop while a second wrk measures /protected; sign-ins/s, 503s/s, and
#    /protected's figures during the storm;
#  - the server's peak memory (VmHWM) at the end.
#   bench/run.sh [seconds-per-measurement] [rounds] [connections] [storm-seconds]
# BENCH_DATABASE_URL=postgres://user@host:port/db: run on PostgreSQL instead,
# in a database gatehouse_bench_<pid> created on that server and dropped at exit.
# BENCH_METRICS=1: the same server with `metrics = true` (bench/metrics.sh
# compares off and on in one run). BENCH_PORT: the server's port (8765). Needs wrk (apt-get install wrk), curl,
# jq, and sqlite3 or psql. wrk runs with one thread: the server needs the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; rounds=${2:-3}; conns=${3:-32}; storm_secs=${4:-10}
storm_conns=16; storm_probe_conns=8; verify_samples=5
port=${BENCH_PORT:-8765}
base="http://127.0.0.1:$port"
email=bench@example.com; password="bench password 1"

die() { echo "bench: $*" >&2; exit 1; }
for tool in wrk curl jq; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done
[[ $secs =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ && $conns =~ ^[1-9][0-9]*$ && $storm_secs =~ ^[1-9][0-9]*$ ]] ||
  die "usage: bench/run.sh [seconds] [rounds] [connections] [storm-seconds] (positive integers)"
if curl -s -o /dev/null -m 2 "$base/health"; then
  die "something already answers on 127.0.0.1:$port (set BENCH_PORT)"
fi

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/gatehouse
build="release build of $(git describe --always --dirty 2>/dev/null || echo '?')"

work=$(mktemp -d)
pid=; storm_pid=; pg_db=; pg_admin=
cleanup() {
  local rc=$?
  set +e
  [[ -n $storm_pid ]] && kill "$storm_pid" 2>/dev/null
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  if [[ -n $pg_db ]]; then
    psql "$pg_admin" -qAtc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 ||
      psql "$pg_admin" -qAtc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 ||
      echo "bench: could not drop database $pg_db" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { # message: also the end of the server's log
  echo "bench: $*" >&2
  if [[ -s $work/server.log ]]; then echo "--- server log (last lines)" >&2; tail -n 20 "$work/server.log" >&2; fi
  exit 1
}

# The database: a fresh SQLite file, or a fresh PostgreSQL database.
if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
  command -v psql >/dev/null || die "psql is not installed (needed for BENCH_DATABASE_URL)"
  pg_admin=$BENCH_DATABASE_URL
  version=$(psql "$pg_admin" -qAtc 'show server_version' 2>&1) || die "PostgreSQL at BENCH_DATABASE_URL does not answer: $version"
  pg_db="gatehouse_bench_$$"
  psql "$pg_admin" -qAtc "CREATE DATABASE $pg_db" >/dev/null || { pg_db=; die "could not create database gatehouse_bench_$$"; }
  url=${pg_admin%%\?*}; query=${pg_admin:${#url}}
  scheme=${url%%://*}; rest=${url#*://}; authority=${rest%%/*}
  export DATABASE_URL="$scheme://$authority/$pg_db$query"
  database="PostgreSQL ${version%% *} on ${authority#*@} (database $pg_db, dropped at exit)"
  stored_hash() { psql "$DATABASE_URL" -qAtc "select password_hash from users where email = '$email'"; }
else
  export DATABASE_URL="sqlite://$work/bench.db"
  database="SQLite (fresh file)"
  stored_hash() { command -v sqlite3 >/dev/null && sqlite3 "$work/bench.db" "select password_hash from users where email = '$email'"; }
fi

export ROCKET_PROFILE=release ROCKET_PORT=$port ROCKET_ADDRESS=127.0.0.1 ROCKET_LOG_LEVEL=off
export JWT_SECRET_KEY=$(head -c 48 /dev/urandom | base64 -w0) ROCKET_SECRET_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export GATEHOUSE_JWT__COOKIE_SECURE=false   # plain http on loopback
# The storm signs in far more often than the per-IP limit allows; set from
# the start so every figure comes from the same server.
export GATEHOUSE_LOGIN__RATE_LIMIT_PER_MINUTE=1000000
[[ ${BENCH_METRICS:-} == 1 ]] && export GATEHOUSE_METRICS=true && build="$build, metrics on"
echo "$password" | "$bin" user create --email "$email" --name Bench --password-stdin >/dev/null ||
  fail "gatehouse user create failed"
cost=$(stored_hash 2>/dev/null | cut -d'$' -f3 || true); cost=${cost:-?}

"$bin" >"$work/server.log" 2>&1 & pid=$!
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || fail "the server exited at start"
  curl -sf -m 1 -o /dev/null "$base/health" && break
  sleep 0.2
done
curl -sf -m 2 -o /dev/null "$base/health" || fail "the server did not answer /health within 20 s"

# Credentials, fetched again before each round (the access token lives 15
# minutes by default): cookie (form sign-in), access token (API sign-in), and
# the access token with its signature's last characters changed.
sign_in() {
  local jar="$work/cookies" csrf code tail
  rm -f "$jar"
  csrf=$(curl -sf -m 30 -c "$jar" -b "$jar" "$base/login" |
    grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"$//') || fail "sign-in failed: no CSRF token on /login"
  curl -sf -m 30 -c "$jar" -b "$jar" -o /dev/null --data-urlencode "email=$email" \
    --data-urlencode "password=$password" --data-urlencode "csrf_token=$csrf" "$base/login" ||
    fail "sign-in failed: POST /login"
  cookie=$(awk '$6 ~ /^(access_token_cookie|refresh_token_cookie)$/ {printf "%s=%s; ", $6, $7}' "$jar")
  curl -sf -m 30 -H "Cookie: $cookie" "$base/protected" | grep -q "Hello, Bench" ||
    fail "sign-in failed: /protected with the cookie does not greet Bench"

  token=$(curl -sf -m 30 -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')" "$base/api/v1/login" |
    jq -er .access_token) || fail "sign-in failed: POST /api/v1/login gave no access_token"
  curl -sf -m 30 -H "Authorization: Bearer $token" "$base/api/v1/me" | jq -e --arg e "$email" '.identity.email == $e' >/dev/null ||
    fail "sign-in failed: /api/v1/me with the Bearer token does not name $email"

  tail=${token: -4}; [[ ${tail:0:3} == AAA ]] && forged=${token%????}BBBB || forged=${token%????}AAAA
  code=$(curl -s -m 30 -o "$work/refused.json" -w '%{http_code}' -H "Authorization: Bearer $forged" "$base/api/v1/me")
  [[ $code == 401 ]] && jq -e . "$work/refused.json" >/dev/null 2>&1 ||
    fail "the forged token was answered $code, not a 401 JSON: $(head -c 200 "$work/refused.json")"
  code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$base/")
  [[ $code == 200 ]] || fail "the anonymous / page was answered $code"
}

# wrk's output -> "rps p50_ms p99_ms requests status>=400 socket-errors"
parse_wrk() {
  awk 'function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /m$/) return v*60000; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /^Requests\/sec/ {rps=$2}
    / requests in / {n=$1} /^ +Non-2xx or 3xx responses:/ {bad=$NF}
    /^ +Socket errors:/ {gsub(",", ""); err=$4+$6+$8+$10}
    END {printf "%.0f %.3f %.3f %d %d %d\n", rps, p50, p99, n, bad, err}'
}
run() { # connections seconds path [header] -> parse_wrk's line
  local c=$1 d=$2 path=$3; shift 3
  local args=(); [[ $# -gt 0 ]] && args=(-H "$1")
  wrk -t1 -c"$c" -d"${d}s" --timeout 10s --latency "${args[@]}" "$base$path" | parse_wrk
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }

routes=(health protected me refused anon)
declare -A label=([health]="/health" [protected]="/protected (cookie)" [me]="/api/v1/me (Bearer)"
  [refused]="/api/v1/me (forged, 401)" [anon]="/ (anonymous)")
for r in "${routes[@]}"; do : >"$work/$r"; done
for round in $(seq "$rounds"); do
  sign_in
  run "$conns" "$secs" /health >>"$work/health"
  run "$conns" "$secs" /protected "Cookie: $cookie" >>"$work/protected"
  run "$conns" "$secs" /api/v1/me "Authorization: Bearer $token" >>"$work/me"
  run "$conns" "$secs" /api/v1/me "Authorization: Bearer $forged" >>"$work/refused"
  run "$conns" "$secs" / >>"$work/anon"
done

# One bcrypt verify at the configured cost: single sign-ins on an idle server.
body=$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')
: >"$work/verify"
for _ in $(seq "$verify_samples"); do
  read -r code t < <(curl -s -m 30 -o /dev/null -w '%{http_code} %{time_total}\n' \
    -H 'Content-Type: application/json' -d "$body" "$base/api/v1/login")
  [[ $code == 200 ]] || fail "a timed sign-in was answered $code"
  echo "$t" >>"$work/verify"
done
verify=$(median <"$work/verify")

# The storm, with /protected measured at the same time.
sign_in
BENCH_EMAIL=$email BENCH_PASSWORD=$password wrk -t1 -c"$storm_conns" -d"${storm_secs}s" --timeout 30s \
  -s bench/login_storm.lua "$base/api/v1/login" >"$work/storm.out" 2>&1 & storm_pid=$!
run "$storm_probe_conns" "$storm_secs" /protected "Cookie: $cookie" >"$work/storm_protected"
wait "$storm_pid" || fail "the storm's wrk failed: $(cat "$work/storm.out")"
storm_pid=
read -r _ s_ok s_busy s_other s_secs s_p50 s_p99 s_others < <(grep '^STORM ' "$work/storm.out") ||
  fail "no summary from the storm's wrk: $(cat "$work/storm.out")"
storm_err=$(parse_wrk <"$work/storm.out" | cut -d' ' -f6)

peak=$(awk '/VmHWM/ {print $2/1024}' "/proc/$pid/status")
kill -0 "$pid" 2>/dev/null || fail "the server is gone"

# Report.
cores=$(nproc)
echo "$(date '+%F %T %z')  $cores cores  $database  $build"
echo "rounds=$rounds x ${secs}s per route, interleaved, $conns connections, wrk -t1 (one wrk thread: the $cores cores are shared with the server); medians over rounds"
printf "%-26s %9s %9s %9s %9s %6s\n" route "req/s" "p50 ms" "p99 ms" "/health" "bad"
for r in "${routes[@]}"; do
  f="$work/$r"
  rps=$(cut -d' ' -f1 "$f" | median); p50=$(cut -d' ' -f2 "$f" | median); p99=$(cut -d' ' -f3 "$f" | median)
  ratio=$(paste -d' ' "$work/health" "$f" | awk '$1 > 0 {print $7/$1}' | median)
  if [[ $r == refused ]]; then # every response should be refused (status >= 400)
    bad=$(awk '{b += $4 - $5 + $6} END {print b+0}' "$f")
  else
    bad=$(awk '{b += $5 + $6} END {print b+0}' "$f")
  fi
  printf "%-26s %9s %9.2f %9.2f %9.2f %6s\n" "${label[$r]}" "$rps" "$p50" "$p99" "$ratio" "$bad"
done
echo "(ratio: the route's req/s over /health's in the same round; bad: responses of an unexpected status class, 2xx/3xx expected, >= 400 for the forged token, plus socket errors, summed over rounds)"
read -r sp_rps sp_p50 sp_p99 _ sp_bad sp_err <"$work/storm_protected"
awk -v cost="$cost" -v v="$verify" -v cores="$cores" -v ok="$s_ok" -v busy="$s_busy" -v other="$s_other" -v t="$s_secs" \
    -v others="$s_others" -v lp50="$s_p50" -v lp99="$s_p99" -v n="$verify_samples" -v sc="$storm_conns" -v pc="$storm_probe_conns" -v d="$storm_secs" \
    -v rps="$sp_rps" -v p50="$sp_p50" -v p99="$sp_p99" -v bad="$((sp_bad + sp_err))" -v serr="$storm_err" 'BEGIN {
  cap = cores / v
  printf "bcrypt verify (cost %s): %.0f ms (median of %d idle POST /api/v1/login); expected capacity %d cores / %.3f s = %.1f sign-ins/s\n", cost, v*1000, n, cores, v, cap
  printf "sign-in storm (%ds, %d connections POST /api/v1/login): %.1f sign-ins/s (%d x 200), %.1f 503s/s (%d), other statuses %d (%s), socket errors %d\n", d, sc, ok/t, ok, busy/t, busy, other, others, serr
  printf "  sign-ins/s = %.0f%% of the expected capacity; sign-in latency p50 %.0f ms, p99 %.0f ms\n", 100*(ok/t)/cap, lp50, lp99
  printf "/protected during the storm (%d connections): %s req/s, p50 %.2f ms, p99 %.2f ms, bad %d\n", pc, rps, p50, p99, bad
}'
printf "server peak memory (VmHWM, after the storm): %.1f MiB\n" "$peak"
