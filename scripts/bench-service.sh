#!/usr/bin/env bash
# Service benchmark on loopback, release build, for the embedded default (SQLite, in-process limits)
# and for PostgreSQL + Redis:
#   1. streaming 1,000,000 patients (NDJSON) with curl: seconds, patients/s, server peak RSS (VmHWM);
#   2. time from POST /api/v1/generation/ to a downloadable ZIP for a 10,000-patient job
#      (default format json, then json+csv+fhir), polling every 20 ms;
#   3. wrk on GET /api/v1/health/live with and without X-API-Key (authenticated + rate-limited vs
#      no auth), alternating, ROUNDS rounds of SECS seconds each; requests/s, p50, p99, and the CPU
#      time the server (and Redis) spent per request, from /proc/<pid>/stat.
# Needs wrk, curl, jq; PostgreSQL and Redis on the default local ports for the second backend.
#   usage: scripts/bench-service.sh [rounds=3] [secs=10] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-10}
CONNS=${3:-32}
PG=${PATIENTGEN_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
REDIS=${PATIENTGEN_BENCH_REDIS:-redis://127.0.0.1:6379}
cargo build --release --locked -q -p patientgen
BIN=$PWD/target/release/patientgen
SCRATCH=$(mktemp -d)
ADMIN=bench-admin-key-$RANDOM$RANDOM
PORT=18400
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$SCRATCH"' EXIT

start() { # backend
  local env=(PATIENTGEN_ADMIN_KEY="$ADMIN")
  DBARGS=(--data-dir "$SCRATCH/$1")
  if [ "$1" = postgres ]; then
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS patientgen_bench" -qc "CREATE DATABASE patientgen_bench" >/dev/null
    DBARGS=(--database-url "$PG/patientgen_bench")
    env+=(REDIS_URL="$REDIS" PATIENTGEN_REDIS_PREFIX="bench-$RANDOM")
  fi
  PORT=$((PORT + 1))
  URL=http://127.0.0.1:$PORT
  env "${env[@]}" "$BIN" serve --bind "127.0.0.1:$PORT" --workers 1 "${DBARGS[@]}" 2>"$SCRATCH/$1.log" &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; cat "$SCRATCH/$1.log" >&2; exit 1
}

stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

peak_rss_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status"; }

now() { date +%s.%N; }

job_to_download() { # body
  local t0 id status
  t0=$(now)
  id=$(curl -sf -X POST "$URL/api/v1/generation/" -H "X-API-Key: $ADMIN" -H 'content-type: application/json' -d "$1" | jq -r .job_id)
  while :; do
    status=$(curl -sf "$URL/api/v1/jobs/$id" -H "X-API-Key: $ADMIN" | jq -r .status)
    [ "$status" = completed ] && break
    [ "$status" = failed ] || [ "$status" = cancelled ] && { echo "job $status" >&2; exit 1; }
    sleep 0.02
  done
  curl -sf -o "$SCRATCH/job.zip" "$URL/api/v1/downloads/$id" -H "X-API-Key: $ADMIN"
  awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}

cpu_ticks() { [ -n "${1:-}" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" || echo 0; }

REDIS_PID=$(redis-cli -u "$REDIS" info server 2>/dev/null | awk -F: '/^process_id/ { print $2 }' | tr -d '\r' || true)

wrk_row() { # label backend [header]
  local out rps p50 p99 n s0 s1 r0 r1 tick
  tick=$(getconf CLK_TCK)
  s0=$(cpu_ticks "$SERVER"); r0=$(cpu_ticks "$REDIS_PID")
  if [ -n "${3:-}" ]; then
    out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -H "$3" "$URL/api/v1/health/live")
  else
    out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$URL/api/v1/health/live")
  fi
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers in the $1 run" >&2; echo "$out" >&2; exit 1; fi
  s1=$(cpu_ticks "$SERVER"); r1=$(cpu_ticks "$REDIS_PID")
  rps=$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  n=$(echo "$out" | awk '/requests in/ { print $1 }')
  echo "$rps $p50 $p99 $(awk -v a="$s0" -v b="$s1" -v n="$n" -v t="$tick" 'BEGIN { printf "%.1f", (b - a) / t / n * 1e6 }') \
$(awk -v a="$r0" -v b="$r1" -v n="$n" -v t="$tick" 'BEGIN { printf "%.1f", (b - a) / t / n * 1e6 }')"
}

for backend in sqlite postgres; do
  label=$backend; [ "$backend" = sqlite ] && label="embedded (SQLite, in-process limits)"
  [ "$backend" = postgres ] && label="PostgreSQL + Redis"
  start "$backend"
  echo "### $label"
  echo
  t0=$(now)
  bytes=$(curl -sf -o /dev/null -w '%{size_download}' -X POST "$URL/api/v1/streaming/generate" \
    -H "X-API-Key: $ADMIN" -H 'content-type: application/json' -d '{"total_patients": 1000000, "seed": 1}')
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  echo "- streaming 1,000,000 patients (NDJSON, $((bytes / 1048576)) MB): $secs s," \
    "$(awk -v s="$secs" 'BEGIN { printf "%.0f", 1000000 / s }') patients/s; server peak RSS $(peak_rss_mb) MB"
  for body in '{"configuration": {"total_patients": 10000, "seed": 1}}' \
    '{"configuration": {"total_patients": 10000, "seed": 1}, "output_formats": ["json", "csv", "fhir"]}'; do
    formats=$(echo "$body" | jq -r '.output_formats // ["json"] | join("+")')
    echo "- 10,000-patient job ($formats), create → downloadable: $(job_to_download "$body") s"
  done
  key=$("$BIN" keys create --name bench --minute 2000000000 --hourly 2000000000 --format json "${DBARGS[@]}" | jq -r .key)
  echo
  echo "| round | no auth req/s | p50 | p99 | server µs CPU/req | key + limits req/s | p50 | p99 | server µs CPU/req | Redis µs CPU/req | ratio req/s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for r in $(seq "$ROUNDS"); do
    read -r arps a50 a99 acpu _ <<<"$(wrk_row none "$backend")"
    read -r krps k50 k99 kcpu kredis <<<"$(wrk_row key "$backend" "X-API-Key: $key")"
    [ "$backend" = sqlite ] && kredis="–"
    echo "| $r | $arps | $a50 | $a99 | $acpu | $krps | $k50 | $k99 | $kcpu | $kredis | $(awk -v a="$krps" -v b="$arps" 'BEGIN { printf "%.2f", a / b }') |"
  done
  echo
  echo "- server peak RSS after all runs: $(peak_rss_mb) MB"
  echo
  stop
done
