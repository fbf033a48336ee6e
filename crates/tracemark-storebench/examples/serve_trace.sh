#!/bin/bash
# Peak RSS of `tracemark serve` (one in-process worker) while it traces one uploaded leak
# (POST /api/v1/traces, then the job), in a fresh embedded vault holding RECORDING issued
# to one recipient (docs/benchmarks/scale.md).
#
#   serve_trace.sh RECORDING SECONDS [PORT]   # the leak: SECONDS of the copy, 48 kHz stereo WAV
#   TRACEMARK=path/to/tracemark picks the binary; WORKERS=0 measures the upload alone (the
#   job is left queued, as for `tracemark worker` processes).
set -euo pipefail
recording=${1:?a recording to ingest}
seconds=${2:?seconds of the copy to leak}
port=${3:-18081}
bin=${TRACEMARK:-$(cd "$(dirname "$0")/../../.." && pwd)/target/release/tracemark}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
"$bin" init >/dev/null
"$bin" recipient add "Delegate 0" >/dev/null
rec=$("$bin" ingest "$recording" --title Meeting | grep -o 'rec-[0-9a-f]*' | head -1)
"$bin" issue "$rec" --to "Delegate 0" --out copies >/dev/null
sox copies/Delegate_0.flac -r 48000 -c 2 -b 16 leak.wav trim 20 "$seconds"
"$bin" user add inv --role investigator >/dev/null
token=$("$bin" token create --user inv 2>/dev/null | tail -1)
"$bin" serve --listen "127.0.0.1:$port" --max-upload 1000000000 --max-duration 14400 --workers "${WORKERS:-1}" \
  >serve.log 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
idle=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
start=$(date +%s.%N)
url=$(curl -s -H "Authorization: Bearer $token" -F "file=@leak.wav" \
  "http://127.0.0.1:$port/api/v1/traces" | sed -E 's/.*"url":"([^"]*)".*/\1/')
status=queued
[ "${WORKERS:-1}" = 0 ] || for _ in $(seq 1200); do
  status=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port$url" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
  case $status in succeeded|failed) break ;; esac
  sleep 0.1
done
end=$(date +%s.%N)
peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
printf '%s s leak (%d MB): job %s in %.2f s; server peak RSS %d KB (%d KB before)\n' \
  "$seconds" "$(( $(stat -c %s leak.wav) / 1000000 ))" "$status" "$(echo "$end - $start" | bc)" \
  "$peak" "$idle"
