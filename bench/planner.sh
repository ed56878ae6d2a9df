#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Planner benchmark: planning time for 10, 100 and 1,000 sessions at one site over 48 h (the
# exact flow method the planner uses without V2G, the GLPK LP for comparison and with V2G), and
# a city replan of 5,000 residential sites x 20 sessions on one core. One "name value unit" line
# per figure; the whole run stops with a printed note past BUDGET_S seconds (default 120).
#
#   bench/planner.sh            BUILD=build (default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
ninja -C "$build" bench/bench_planner >/dev/null
exec "$build/bench/bench_planner" docs/tariffs/example-shandong-residential.json "${BUDGET_S:-120}"
