#!/bin/bash
# Whole-process time and peak RSS of `tracemark ingest` and `tracemark issue` (FLAC
# copies) on long recordings, each in a fresh embedded vault (docs/benchmarks/scale.md).
#
#   cargo build --release -p tracemark-cli -p tracemark-storebench --examples
#   target/release/examples/hour_scale --write /tmp/hour 60     # and 1, 180
#   MINUTES="1 60 180" FORMATS="flac wav" crates/tracemark-storebench/examples/hour_cli.sh /tmp/hour
#
# FILES="a.flac b.wav" measures those files instead of hour_scale's; COPIES (1-5, default
# 5) says how many recipients are issued a copy.
set -euo pipefail
dir=${1:?the directory hour_scale --write wrote (and where the vaults go)}
bin=${TRACEMARK:-$(cd "$(dirname "$0")/../../.." && pwd)/target/release/tracemark}
copies=${COPIES:-5}
[[ $copies =~ ^[1-5]$ ]] || { echo "COPIES must be 1 to 5" >&2; exit 1; }
names=$(seq -f 'Delegate %g' 0 $((copies - 1)) | paste -sd, -)
files=${FILES:-}
if [ -z "$files" ]; then
  for m in ${MINUTES:-60}; do
    for f in ${FORMATS:-flac wav}; do files="$files $dir/meeting-${m}min.$f"; done
  done
fi
for file in $files; do
  [ -f "$file" ] || { echo "no $file: run hour_scale --write $dir MINUTES" >&2; exit 1; }
  label=$(basename "$file")
  vault=$dir/vault-${label//./-}
  rm -rf "$vault" && mkdir -p "$vault" && cd "$vault"
  "$bin" init >/dev/null
  for i in $(seq 0 $((copies - 1))); do "$bin" recipient add "Delegate $i" >/dev/null; done
  /usr/bin/time -f "$label: ingest %e s, %M KB" "$bin" ingest "$file" --title Meeting >rec.txt
  rec=$(grep -o 'rec-[0-9a-f]*' rec.txt | head -1)
  /usr/bin/time -f "$label: issue $copies flac copies %e s, %M KB" \
    "$bin" issue "$rec" --to "$names" --out copies >/dev/null
done
