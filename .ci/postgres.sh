#!/bin/sh
# Ensures the PostgreSQL server binaries (initdb, pg_ctl) exist for the tests; it starts
# nothing and exports nothing. The tests start their own throwaway cluster
# (tracemark-store-postgres, feature `testing`), finding the binaries the same way as here:
# $TRACEMARK_TEST_POSTGRES_BINDIR, else `pg_config --bindir`, else the newest
# /usr/lib/postgresql/*/bin (Debian's layout).
set -eu

bindir() {
    if [ -n "${TRACEMARK_TEST_POSTGRES_BINDIR:-}" ]; then
        echo "$TRACEMARK_TEST_POSTGRES_BINDIR"
        return
    fi
    d=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
        echo "$d"
        return
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then found=$d; fi
    done
    echo "${found:-}"
}

d=$(bindir)
if [ -z "$d" ] || [ ! -x "$d/initdb" ] || [ ! -x "$d/pg_ctl" ]; then
    echo "postgres.sh: no PostgreSQL server binaries; installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends postgresql
    d=$(bindir)
fi
if [ -z "$d" ] || [ ! -x "$d/initdb" ] || [ ! -x "$d/pg_ctl" ]; then
    echo "postgres.sh: still no initdb and pg_ctl (bindir: '${d}')" >&2
    exit 1
fi
echo "postgres.sh: server binaries in $d"
"$d/postgres" --version
"$d/initdb" --version
