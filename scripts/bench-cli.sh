#!/usr/bin/env bash
# Whole-program benchmark: N patients (default 1,000,000) of the default preset per format, on one
# thread and on all threads, written to a file; plus NDJSON to /dev/null (CPU only) and a `dd` of the
# same number of bytes (the disk's own speed) as baselines measured in the same invocation.
# Prints a Markdown table: wall time, patients/s, ratio against NDJSON/1 thread to a file, peak RSS.
#   usage: scripts/bench-cli.sh [patients] [scratch dir]
# With BASE_BIN=<another patientgen binary> it compares instead: every run above (each format to a
# file, 1 and all threads, and NDJSON to /dev/null) is timed REPS times (default 3) for BASE_BIN and
# for this tree, alternating (base first on odd repetitions, this tree first on even ones), and the
# table gives the median seconds of each and their ratio (this tree / base; below 1 is faster).
# scripts/compare-output leaves a base build at target/compare-output/base-bin/patientgen.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
OUT=${2:-$(mktemp -d)}
mkdir -p "$OUT"
cargo build --release --locked -q
BIN=target/release/patientgen
THREADS=$(nproc)
timed() { /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@"; read -r secs rss < "$OUT/time.txt"; }
if [ -n "${BASE_BIN:-}" ]; then
  REPS=${REPS:-3}
  median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  one() { # binary format threads target
    if [ "$4" = /dev/null ]; then
      timed sh -c "$1 generate -n $N --seed 1 -q -f $2 --threads $3 -o - > /dev/null"
    else
      rm -f "$4"
      timed "$1" generate -n "$N" --seed 1 -q -f "$2" --threads "$3" -o "$4"
      rm -f "$4"
    fi
  }
  echo "| run | threads | base seconds (median of $REPS) | this tree seconds (median of $REPS) | ratio this/base |"
  echo "|---|---|---|---|---|"
  for run in ndjson json csv xml fhir ndjson-null; do
    fmt=${run%-null}
    target="$OUT/bench.$fmt"
    [ "$run" = ndjson-null ] && target=/dev/null
    for t in 1 "$THREADS"; do
      base_times=()
      new_times=()
      for r in $(seq "$REPS"); do
        if [ $((r % 2)) = 1 ]; then order="base new"; else order="new base"; fi
        for side in $order; do
          if [ "$side" = base ]; then one "$BASE_BIN" "$fmt" "$t" "$target"; base_times+=("$secs")
          else one "$BIN" "$fmt" "$t" "$target"; new_times+=("$secs"); fi
        done
      done
      b=$(median "${base_times[@]}")
      n=$(median "${new_times[@]}")
      label="$fmt → file"
      [ "$target" = /dev/null ] && label="$fmt → /dev/null"
      echo "| $label | $t | $b | $n | $(awk -v n="$n" -v b="$b" 'BEGIN { printf "%.3f", n / b }') |"
    done
  done
  exit 0
fi
echo "| run | threads | seconds | patients/s | ratio | peak RSS MB | output MB |"
echo "|---|---|---|---|---|---|---|"
base=""
row() { # name threads secs rss bytes
  local rate ratio
  rate=$(awk -v n="$N" -v s="$3" 'BEGIN { printf "%.0f", n / s }')
  [ -z "$base" ] && base=$rate
  ratio=$(awk -v r="$rate" -v b="$base" 'BEGIN { printf "%.2f", r / b }')
  echo "| $1 | $2 | $3 | $rate | $ratio | $(($4 / 1024)) | $(($5 / 1048576)) |"
}
for fmt in ndjson json csv xml fhir; do
  for t in 1 "$THREADS"; do
    f="$OUT/bench.$fmt"
    rm -f "$f"
    timed "$BIN" generate -n "$N" --seed 1 -q -f "$fmt" --threads "$t" -o "$f"
    size=$(stat -c %s "$f")
    rm -f "$f"
    row "$fmt → file" "$t" "$secs" "$rss" "$size"
    [ "$fmt" = ndjson ] && [ "$t" = 1 ] && ndjson_size=$size
  done
done
for t in 1 "$THREADS"; do
  timed sh -c "$BIN generate -n $N --seed 1 -q -f ndjson --threads $t -o - > /dev/null"
  row "ndjson → /dev/null" "$t" "$secs" "$rss" "$ndjson_size"
done
timed dd if=/dev/zero of="$OUT/dd.bin" bs=1M count=$((ndjson_size / 1048576)) status=none
rm -f "$OUT/dd.bin"
echo "| baseline: dd of the NDJSON size to a file | – | $secs | – | – | – | $((ndjson_size / 1048576)) |"
