#!/usr/bin/env bash
# The cost of `metrics = true` (and of the request log line) on the hot path:
# two release servers on one fresh SQLite database, the same settings but
# metrics off on one and on on the other, measured in turn, all on 127.0.0.1.
#  - rounds of wrk (one thread, bounded by -d), the order of the two servers
#    swapped every round: /health (a bare route) and /api/v1/me with a Bearer
#    token; medians over rounds of req/s, of on/off per route, and of each
#    server's /api/v1/me over its /health in the same round;
#  - with valgrind: instructions per request (callgrind, counters zeroed after
#    start-up, then BENCH_CALLS sequential curl requests) for /api/v1/me, off
#    and on: a figure the other loads on a shared machine don't move.
#   bench/metrics.sh [seconds] [rounds] [connections]
# BENCH_PORT: the first server's port (8765; the second gets the next one).
# The build is the SQLite-only release (`--no-default-features`): the metrics
# don't touch the database's path. Needs wrk, curl, jq; valgrind is optional.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}; rounds=${2:-6}; conns=${3:-16}; calls=${BENCH_CALLS:-200}
port_off=${BENCH_PORT:-8765}; port_on=$((port_off + 1))
email=bench@example.com; password="bench password 1"

die() { echo "bench: $*" >&2; exit 1; }
for tool in wrk curl jq; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done
[[ $secs =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ && $conns =~ ^[1-9][0-9]*$ && $calls =~ ^[1-9][0-9]*$ ]] ||
  die "usage: bench/metrics.sh [seconds] [rounds] [connections] (positive integers)"
for port in "$port_off" "$port_on"; do
  if curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/health"; then
    die "something already answers on 127.0.0.1:$port (set BENCH_PORT)"
  fi
done

cargo build --release --quiet --no-default-features
bin=${CARGO_TARGET_DIR:-target}/release/gatehouse
build="release build (SQLite only) of $(git describe --always --dirty 2>/dev/null || echo '?')"

work=$(mktemp -d)
pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL="sqlite://$work/bench.db"
export ROCKET_PROFILE=release ROCKET_ADDRESS=127.0.0.1 ROCKET_LOG_LEVEL=off
export JWT_SECRET_KEY=$(head -c 48 /dev/urandom | base64 -w0) ROCKET_SECRET_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export GATEHOUSE_JWT__COOKIE_SECURE=false GATEHOUSE_LOGIN__RATE_LIMIT_PER_MINUTE=1000000
echo "$password" | "$bin" user create --email "$email" --name Bench --password-stdin >/dev/null ||
  die "gatehouse user create failed"

# start NAME PORT METRICS [wrapper...]: a server, waited for.
start() {
  local name=$1 port=$2 metrics=$3; shift 3
  ROCKET_PORT=$port GATEHOUSE_METRICS=$metrics "$@" "$bin" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do
    curl -sf -m 1 -o /dev/null "http://127.0.0.1:$port/health" && return 0
    sleep 0.2
  done
  die "the $name server did not answer within 60 s: $(tail -n 5 "$work/$name.log")"
}
start off "$port_off" false
start on "$port_on" true
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_off/metrics") == 404 ]] || die "metrics off: /metrics is not a 404"
curl -sf "http://127.0.0.1:$port_on/metrics" | grep -q '^gatehouse_http_requests_total' || die "metrics on: no request counter"

token=$(curl -sf -m 30 -H 'Content-Type: application/json' \
  -d "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')" "http://127.0.0.1:$port_off/api/v1/login" |
  jq -er .access_token) || die "sign-in failed"
for port in "$port_off" "$port_on"; do
  curl -sf -m 5 -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me" >/dev/null || die "/api/v1/me refused on $port"
done

run() { # port path [header] -> req/s
  local port=$1 path=$2; shift 2
  local args=(); [[ $# -gt 0 ]] && args=(-H "$1")
  wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s "${args[@]}" "http://127.0.0.1:$port$path" |
    awk '/^Requests\/sec/ {print $2}'
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }

: >"$work/rounds"
for round in $(seq "$rounds"); do
  if ((round % 2)); then order="off on"; else order="on off"; fi
  declare -A h=() m=()
  for side in $order; do
    port=$port_off; [[ $side == on ]] && port=$port_on
    h[$side]=$(run "$port" /health)
    m[$side]=$(run "$port" /api/v1/me "Authorization: Bearer $token")
  done
  echo "${h[off]} ${h[on]} ${m[off]} ${m[on]}" >>"$work/rounds"
done

col() { awk -v c="$1" '{print $c}' "$work/rounds" | median; }
ratio() { awk -v a="$1" -v b="$2" '$a > 0 {print $b / $a}' "$work/rounds" | median; }
echo "$(date '+%F %T %z')  $(nproc) cores  SQLite  $build"
echo "rounds=$rounds x ${secs}s per route and server, order swapped each round, $conns connections, wrk -t1; medians over rounds"
printf "%-22s %10s %10s %8s\n" route "off req/s" "on req/s" "on/off"
printf "%-22s %10s %10s %8.3f\n" /health "$(col 1)" "$(col 2)" "$(ratio 1 2)"
printf "%-22s %10s %10s %8.3f\n" "/api/v1/me (Bearer)" "$(col 3)" "$(col 4)" "$(ratio 3 4)"
printf "/api/v1/me over /health in the same round: off %.3f, on %.3f\n" "$(ratio 1 3)" "$(ratio 2 4)"

# Instructions per request, off and on, under callgrind.
if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
  echo "(valgrind not installed: no instruction counts)"
  exit 0
fi
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()
count() { # name metrics -> $work/ir_NAME: instructions per /api/v1/me
  local name=$1 metrics=$2 port=$((port_on + 1)) pid ir
  start "cg_$name" "$port" "$metrics" valgrind --tool=callgrind --callgrind-out-file="$work/cg_$name.%p" -q
  pid=${pids[-1]}
  for _ in $(seq 20); do curl -sf -m 30 -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me"; done
  callgrind_control -z "$pid" >/dev/null 2>&1
  for _ in $(seq "$calls"); do
    curl -sf -m 30 -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me" || die "a request under callgrind failed"
  done
  callgrind_control -d "$pid" >/dev/null 2>&1
  # The dump of the requests alone (start-up was zeroed, shutdown comes after).
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$work/cg_$name.$pid.1")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pids=()
  echo $((ir / calls)) >"$work/ir_$name"
}
count off false
count on true
ir_off=$(cat "$work/ir_off"); ir_on=$(cat "$work/ir_on")
awk -v off="$ir_off" -v on="$ir_on" -v n="$calls" 'BEGIN {
  printf "instructions per /api/v1/me (callgrind, %d sequential requests after 20 of warm-up): off %d, on %d, %+.2f%%\n", n, off, on, 100 * (on - off) / off
}'
