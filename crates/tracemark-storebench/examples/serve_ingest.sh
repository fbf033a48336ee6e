#!/bin/bash
# Peak RSS of `tracemark serve` while it ingests one upload through the API (POST
# /api/v1/recordings), in a fresh embedded vault (docs/benchmarks/scale.md).
#
#   serve_ingest.sh FILE [PORT]      # TRACEMARK=path/to/tracemark to pick the binary
set -euo pipefail
file=${1:?an audio file to upload}
port=${2:-18080}
bin=${TRACEMARK:-$(cd "$(dirname "$0")/../../.." && pwd)/target/release/tracemark}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
"$bin" init >/dev/null
"$bin" user add dist --role distributor >/dev/null
token=$("$bin" token create --user dist 2>/dev/null | tail -1)
"$bin" serve --listen "127.0.0.1:$port" --max-upload 1000000000 --max-duration 14400 \
  >serve.log 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
idle=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
start=$(date +%s.%N)
code=$(curl -s -o reply.json -w '%{http_code}' -H "Authorization: Bearer $token" \
  -F "file=@$file" -F title=Meeting "http://127.0.0.1:$port/api/v1/recordings")
end=$(date +%s.%N)
peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
printf '%s: HTTP %s in %.2f s; server peak RSS %d KB (%d KB before the upload)\n' \
  "$(basename "$file")" "$code" "$(echo "$end - $start" | bc)" "$peak" "$idle"
