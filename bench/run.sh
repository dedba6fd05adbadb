#!/usr/bin/env bash
# Benchmark: a release build on a fresh SQLite database; wrk loads a bare
# route (/health) and a signed-in page (/protected, with a valid cookie) of
# the same server in the same run, several rounds interleaved, and reports
# medians, their ratio, and the server's peak memory.
#   bench/run.sh [seconds-per-round] [rounds] [connections]
# Needs wrk (apt-get install wrk). Only talks to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; rounds=${2:-3}; conns=${3:-32}
port=${BENCH_PORT:-8765}
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet
work=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/bench.db" ROCKET_PROFILE=release ROCKET_PORT=$port ROCKET_LOG_LEVEL=off
export JWT_SECRET_KEY=$(head -c 48 /dev/urandom | base64 -w0) ROCKET_SECRET_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export GATEHOUSE_JWT__COOKIE_SECURE=false   # plain http on loopback
echo "bench password 1" | target/release/gatehouse user create --email bench@example.com --name Bench --password-stdin >/dev/null
target/release/gatehouse >"$work/server.log" 2>&1 & pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done

jar="$work/cookies"
csrf=$(curl -sf -c "$jar" -b "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"$//')
curl -sf -c "$jar" -b "$jar" -o /dev/null --data-urlencode email=bench@example.com \
  --data-urlencode "password=bench password 1" --data-urlencode "csrf_token=$csrf" "http://127.0.0.1:$port/login"
cookie=$(awk '$6 ~ /^(access_token_cookie|refresh_token_cookie)$/ {printf "%s=%s; ", $6, $7}' "$jar")
curl -sf -H "Cookie: $cookie" "http://127.0.0.1:$port/protected" | grep -q "Hello, Bench" || { echo "bench: sign-in failed" >&2; exit 1; }

run() { # path -> "rps p50_ms p99_ms"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Cookie: $cookie" "http://127.0.0.1:$port$1" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /^Requests\/sec/ {rps=$2}
    END {printf "%.0f %.2f %.2f\n", rps, p50, p99}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$work/health"; : >"$work/protected"
for r in $(seq "$rounds"); do
  run /health >>"$work/health"
  run /protected >>"$work/protected"
done
peak=$(awk '/VmHWM/ {print $2/1024}' /proc/$pid/status)
echo "rounds=$rounds x ${secs}s, $conns connections, wrk -t2, $(nproc) cores, SQLite, release build"
printf "%-12s %10s %9s %9s\n" route "req/s" "p50 ms" "p99 ms"
for route in health protected; do
  f="$work/$route"
  printf "%-12s %10s %9s %9s\n" "/$route" "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f3 "$f" | median)"
done
h=$(cut -d' ' -f1 "$work/health" | median); p=$(cut -d' ' -f1 "$work/protected" | median)
awk -v h="$h" -v p="$p" 'BEGIN {printf "protected/health throughput ratio: %.2f\n", p/h}'
printf "server peak memory (VmHWM): %.1f MiB\n" "$peak"
