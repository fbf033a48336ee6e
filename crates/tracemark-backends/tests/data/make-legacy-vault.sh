#!/bin/sh
# Rebuilds legacy-vault/ with the release before the storage traits (d429cb6).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
work=$(mktemp -d)
git -C "$repo" worktree add -q "$work/src" d429cb6
(cd "$work/src" && cargo build -q -p tracemark-cli)
t="$work/src/target/debug/tracemark"
v="$work/vault"
$t --vault "$v" init
$t --vault "$v" recipient add "Envoy office" --email envoy@example.org
$t --vault "$v" recipient add "Aide office"
$t --vault "$v" recipient add "Interpreter" --email i@example.org
rec=$($t --vault "$v" ingest "$repo/assets/call-en-8k-excerpt.flac" --title "Legacy call")
$t --vault "$v" issue "$rec" --to "Envoy office","Aide office" --out "$work/copies" --format flac
$t --vault "$v" trace "$work/copies/Aide_office.flac"
$t --vault "$v" log verify
rm -rf "$here/legacy-vault"
cp -r "$v" "$here/legacy-vault"
cp "$work/copies/Aide_office.flac" "$here/legacy-vault-leak-aide.flac"
git -C "$repo" worktree remove --force "$work/src"
