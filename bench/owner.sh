#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ownership check per CSMS-initiated command on PostgreSQL (bench/owner_bench.c) on a
# temporary cluster (tests/pg/pgtmp.sh), over TCP and over the unix socket.
#
#   bench/owner.sh [-n 2000] [-w 20]         BUILD=build (default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
ninja -C "$build" bench/owner_bench >/dev/null
tests/pg/pgtmp.sh sh -c 'for d in "$CSMS_TEST_PG_DSN" "$CSMS_TEST_PG_SOCKET_DSN"; do
	echo "== $d"; "$0" "$@" "$d"; done' "$build/bench/owner_bench" "$@"
