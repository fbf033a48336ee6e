#!/bin/sh
# Installs the command-line codec tools that tracemark-codec-attacks runs (and its tests use).
# Idempotent: packages already present are skipped; safe to call from .ci/run on every build.
set -eu

packages="ffmpeg sox libsox-fmt-all lame opus-tools vorbis-tools codec2 libgsm-tools speex"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-tools: all codec tools present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-tools: installing$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing

for tool in ffmpeg sox lame opusenc opusdec oggenc oggdec c2enc c2dec speexenc speexdec; do
    command -v "$tool" >/dev/null || { echo "install-tools: $tool still missing" >&2; exit 1; }
done
echo "install-tools: done"
