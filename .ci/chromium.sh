#!/bin/sh
# Installs Debian's Chromium and chromedriver for the web UI's browser tests
# (crates/tracemark-server/tests/browser.rs). Idempotent: nothing is installed when both
# packages are present; safe to call from .ci/run on every build. Never downloads a browser
# build of its own: only the distribution's packages.
set -eu

packages="chromium chromium-driver"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    echo "chromium: installing$missing"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
else
    echo "chromium: chromium and chromium-driver present"
fi

# Both must run, not just be installed: the browser tests fail under
# TRACEMARK_REQUIRE_BROWSER=1 otherwise.
for tool in /usr/bin/chromium /usr/bin/chromedriver; do
    if ! version=$("$tool" --version 2>/dev/null); then
        echo "chromium: $tool does not run" >&2
        exit 1
    fi
    echo "chromium: $version"
done
