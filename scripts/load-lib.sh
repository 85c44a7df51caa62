# Shared by scripts/load, scripts/soak and scripts/perf-guard (sourced, not run).
# Starts embedded `patientgen serve` instances on free loopback ports, creates the
# load test's API keys with the CLI, and renders load summaries as table rows.
# Every target is on loopback; every run is bounded by its --run-time.

# The limited key's requests per minute (the load tool checks no more got through).
LOAD_LIMITED_PER_MINUTE=${LOAD_LIMITED_PER_MINUTE:-30}

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$0: needs $tool (apt-get install -y $tool)" >&2; exit 2; }
  done
}

# start_embedded BIN DATA_DIR [extra serve args…]: starts an instance on a free
# loopback port (the kernel picks it: --bind 127.0.0.1:0), waits until /health
# answers; sets SERVER_PID and SERVER_URL.
start_embedded() {
  local bin=$1 dir=$2 addr="" i
  shift 2
  mkdir -p "$dir"
  env -u DATABASE_URL -u REDIS_URL -u API_KEY "$bin" serve --bind 127.0.0.1:0 --data-dir "$dir" \
    --log-format json "$@" 2>"$dir/server.log" >/dev/null &
  SERVER_PID=$!
  for i in $(seq 600); do
    addr=$(grep -o '"address":"127\.0\.0\.1:[0-9]*"' "$dir/server.log" 2>/dev/null | head -n 1 | cut -d'"' -f4 || true)
    [ -n "$addr" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server did not start:" >&2; cat "$dir/server.log" >&2; exit 2; }
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "server did not report its address; see $dir/server.log" >&2; exit 2; }
  SERVER_URL="http://$addr"
  for i in $(seq 300); do
    curl -sf "$SERVER_URL/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "server at $SERVER_URL does not answer /health; see $dir/server.log" >&2
  exit 2
}

# stop_server PID: SIGTERM, then wait (at most 30 s) for it to exit.
stop_server() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

# create_keys BIN DB_ARGS…: creates the load test's keys with `patientgen keys
# create` against the server's database (the plaintext is printed once, as
# JSON) and exports PATIENTGEN_LOAD_KEYS (ROLE=KEY,…) and
# PATIENTGEN_LOAD_LIMITED_PER_MINUTE for patientgen-load.
#   jobs    ×2: unlimited in practice (2e9/min), 100,000 and 1,000 patients per request
#   browse   : 1e9 requests per minute and hour
#   limited  : LOAD_LIMITED_PER_MINUTE per minute: driven into 429 on purpose
create_keys() {
  local bin=$1 stamp k pairs=""
  shift
  stamp=$(date +%s)-$RANDOM
  mk() { # role name limits…
    local role=$1 name=$2
    shift 2
    k=$("$bin" keys create --name "load-$name-$stamp" --format json "$@" "${DB_ARGS[@]}" | jq -r .key)
    [ -n "$k" ] && [ "$k" != null ] || { echo "could not create key $name" >&2; exit 2; }
    pairs="${pairs:+$pairs,}$role=$k"
  }
  DB_ARGS=("$@")
  mk jobs jobs-a --minute 2000000000 --hourly 2000000000 --patients 100000
  mk jobs jobs-b --minute 1000000000 --hourly 1000000000 --patients 1000
  mk browse browse --minute 1000000000 --hourly 1000000000
  mk limited limited --minute "$LOAD_LIMITED_PER_MINUTE" --hourly 1000000
  export PATIENTGEN_LOAD_KEYS=$pairs
  export PATIENTGEN_LOAD_LIMITED_PER_MINUTE=$LOAD_LIMITED_PER_MINUTE
  # The first jobs key, for single probes.
  export PATIENTGEN_LOAD_KEY=${pairs#jobs=}
  PATIENTGEN_LOAD_KEY=${PATIENTGEN_LOAD_KEY%%,*}
}

# summary_row SUMMARY_JSON TOPOLOGY: one Markdown table row of a load run.
summary_row() {
  jq -r --arg topo "$2" '
    def f1: (. * 10 | round) / 10;
    def f2: (. * 100 | round) / 100;
    [ (.users | tostring), $topo, (.requests | tostring), (.req_per_s | round | tostring),
      (.p50_ms | f2 | tostring), (.p95_ms | f2 | tostring), (.p99_ms | f2 | tostring),
      ((.errors | to_entries | map(.value) | add // 0) | tostring),
      (.expected_429 | tostring),
      (if .servers == null or (.servers.sampled | not) then "not sampled"
       else (.servers.processes | map(.rss_peak_mb | round | tostring) | join(" / ")) + " MB" end),
      (if .servers == null or (.servers.sampled | not) then "not sampled"
       else (.servers.processes | map("\(.cpu_mean_pct | round) / \(.cpu_peak_pct | round)") | join(", ")) + " %" end),
      (if .metrics == null then "not compared" elif (.metrics.mismatches | length) == 0 then "agree" else "DIFFER" end),
      (if .passed then "pass" else "FAIL" end)
    ] | "| " + join(" | ") + " |"' "$1"
}

summary_header() {
  echo "| users | topology | requests | req/s | p50 ms | p95 ms | p99 ms | errors | 429s (expected) | server peak RSS | server CPU mean / peak (% of a core) | /metrics | result |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}

# replace_block FILE NAME CONTENT_FILE: replaces the text between
# `<!-- NAME:begin -->` and `<!-- NAME:end -->` in FILE (appends the block when
# the markers are missing).
replace_block() {
  local file=$1 name=$2 content=$3
  if grep -q "<!-- $name:begin -->" "$file"; then
    awk -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" -v c="$content" '
      $0 == b { print; while ((getline line < c) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
  else
    { echo; echo "<!-- $name:begin -->"; cat "$content"; echo "<!-- $name:end -->"; } >>"$file"
  fi
}
