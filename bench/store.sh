#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Store micro-benchmark (-s readings per MeterValues, -b one samples_add per MeterValues): the same workload on SQLite (a temp file, synchronous=FULL) and on
# PostgreSQL (a temporary cluster from tests/pg/pgtmp.sh, fsync and synchronous_commit on; over
# TCP and over the unix socket), on
# this machine's disk. Arguments go to store_bench (-n sessions, -m readings, -k writes/commit).
#
#   bench/store.sh [-n 1000] [-m 20] [-k 200]         BUILD=build (default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
ninja -C "$build" bench/store_bench >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/csms-store-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$build/bench/store_bench" "$@" "$tmp/bench.db"
# PostgreSQL over TCP on 127.0.0.1, then over its unix socket
tests/pg/pgtmp.sh sh -c '"$0" "$@" "$CSMS_TEST_PG_DSN" "$CSMS_TEST_PG_SOCKET_DSN"' \
	"$build/bench/store_bench" "$@"
