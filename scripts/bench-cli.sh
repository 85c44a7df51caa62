#!/usr/bin/env bash
# Whole-program benchmark: N patients (default 1,000,000) of the default preset per format, on one
# thread and on all threads, written to a file; plus NDJSON to /dev/null (CPU only) and a `dd` of the
# same number of bytes (the disk's own speed) as baselines measured in the same invocation.
# Prints a Markdown table: wall time, patients/s, ratio against NDJSON/1 thread to a file, peak RSS.
#   usage: scripts/bench-cli.sh [patients] [scratch dir]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
OUT=${2:-$(mktemp -d)}
mkdir -p "$OUT"
cargo build --release --locked -q
BIN=target/release/patientgen
THREADS=$(nproc)
timed() { /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@"; read -r secs rss < "$OUT/time.txt"; }
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
