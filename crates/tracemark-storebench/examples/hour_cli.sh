#!/bin/bash
# Whole-process time and peak RSS of `tracemark ingest` and `tracemark issue` (5 FLAC
# copies) on long recordings, each in a fresh embedded vault (docs/benchmarks/scale.md).
#
#   cargo build --release -p tracemark-cli -p tracemark-storebench --examples
#   target/release/examples/hour_scale --write /tmp/hour 60     # and 1, 180
#   MINUTES="1 60 180" FORMATS="flac wav" crates/tracemark-storebench/examples/hour_cli.sh /tmp/hour
set -euo pipefail
dir=${1:?the directory hour_scale --write wrote}
bin=${TRACEMARK:-$(cd "$(dirname "$0")/../../.." && pwd)/target/release/tracemark}
names='Delegate 0,Delegate 1,Delegate 2,Delegate 3,Delegate 4'
for m in ${MINUTES:-60}; do
  for f in ${FORMATS:-flac wav}; do
    file=$dir/meeting-${m}min.$f
    [ -f "$file" ] || { echo "no $file: run hour_scale --write $dir $m" >&2; exit 1; }
    vault=$dir/vault-$m-$f
    rm -rf "$vault" && mkdir -p "$vault" && cd "$vault"
    "$bin" init >/dev/null
    for i in 0 1 2 3 4; do "$bin" recipient add "Delegate $i" >/dev/null; done
    /usr/bin/time -f "$m min $f: ingest %e s, %M KB" "$bin" ingest "$file" --title Meeting >rec.txt
    rec=$(grep -o 'rec-[0-9a-f]*' rec.txt | head -1)
    /usr/bin/time -f "$m min $f: issue 5 flac copies %e s, %M KB" \
      "$bin" issue "$rec" --to "$names" --out copies >/dev/null
  done
done
