#!/bin/sh
# SPDX-License-Identifier: MIT
# The valley day (tests/integration/sim/valley-day.c): 20 residential EVs on one site behind a
# 60 kW limit, 1.6 and 2.0.1 mixed, planned by the real csms against cpsim on one accelerated
# demo clock (17:00 -> 08:45 local time), a V2G grid event at the evening peak. Prints ONE JSON
# line: limit_kw, site_peak_kw (net import, from stored meter values), targets_met, sessions,
# cost_planned_fen (what was drawn, at the residential example tariff), cost_immediate_fen (the
# same energy charged from each session's start), valley_share, v2g_export_kwh,
# floor_violations, plan_cost_fen / plan_cost_immediate_fen (the planner's own figures at
# 22:00 local) and db (the database it used, kept; calls.log beside it: every CALL the stations
# received, as on the wire).
#   bench/valley-day.sh [BUILD_DIR]      (default: build)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
ninja -C "$build" csms/csms chargepoint-sim/sim/cpsim tests/integration/sim/it-sim-valley-day >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/valley-day.XXXXXX")
CSMS_BIN=$build/csms/csms CPSIM_BIN=$build/chargepoint-sim/sim/cpsim \
TARIFF_RESIDENTIAL=$src/docs/tariffs/example-shandong-residential.json \
VALLEY_DAY_JSON=$out/line.json VALLEY_DAY_DB=$out/csms.db VALLEY_DAY_TRACE=$out/calls.log \
	"$build/tests/integration/sim/it-sim-valley-day" >"$out/test.log" 2>&1 || {
	echo "valley-day: the scenario failed, see $out/test.log" >&2
	cat "$out/line.json" 2>/dev/null || true
	exit 1
}
cat "$out/line.json"
