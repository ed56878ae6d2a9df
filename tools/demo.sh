#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo behind `./dev run`: the CSMS on a SQLite DB under .run/ with the dashboard, and a
# simulated fleet (cpsim) of mixed sites and protocols at 120x time, until Ctrl-C.
#
#   tools/demo.sh [CHARGERS] [SPEED]        defaults: 200 chargers, 120x (a day in 12 minutes)
#
# Environment: DEMO_CHARGERS, DEMO_SPEED (as the arguments), DEMO_PORT (8180), DEMO_DURATION
# (real seconds the fleet runs before it stops by itself, default 43200), BUILD (build dir).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${BUILD:-build}
port=${DEMO_PORT:-8180}
chargers=${1:-${DEMO_CHARGERS:-200}}
speed=${2:-${DEMO_SPEED:-120}}
duration=${DEMO_DURATION:-43200}
csms=$build/csms/csms
cpsim=$build/chargepoint-sim/sim/cpsim
run=$top/.run
password=demo-password-0123 # 16..40 characters, as the CSMS requires

say() { printf '==> %s\n' "$*"; }

for bin in "$csms" "$cpsim"; do
	if [ ! -x "$bin" ]; then
		echo "demo: $bin is missing; build first (./dev build, or ninja -C $build)" >&2
		exit 1
	fi
done
if ! [[ $chargers =~ ^[0-9]+$ ]] || [ "$chargers" -lt 1 ] || [ "$chargers" -gt 19000 ]; then
	echo "demo: CHARGERS must be 1..19000" >&2
	exit 2
fi
if ! [[ $speed =~ ^[0-9]+$ ]] || [ "$speed" -lt 1 ]; then
	echo "demo: SPEED must be a whole number >= 1" >&2
	exit 2
fi
mkdir -p "$run"

# The simulated day starts at 16:00 UTC so the residential evening arrivals come soon.
start=$(date -u +%Y-%m-%dT16:00:00Z)
fleet=(--chargers "$chargers" --protocol mixed --mix public=30,residential=55,rural=10,swap=5
	--id-prefix DEMO --speed "$speed" --start-time "$start" --meter-interval 10
	--tag-pool 200 --password "$password" --drop-rate 0.05)

# The CSMS learns the fleet first: stations with their sites and kinds, and the id tokens
# (residential owners' cards are bound to their site).
say "describing $chargers chargers to the CSMS"
"$cpsim" "${fleet[@]}" --emit-stations "$run/demo-stations.csv" --emit-config "$run/demo-tokens.json"
python3 - "$run/demo-tokens.json" "$run/demo-config.json" <<'EOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg.update({"heartbeat_interval_s": 120, "pending_interval_s": 5})
json.dump(cfg, open(sys.argv[2], "w"), indent=1)
EOF
"$csms" stations import "$run/demo-stations.csv" --db "$run/demo.db" --config "$run/demo-config.json" \
	>"$run/demo-import.log" 2>&1 || { cat "$run/demo-import.log" >&2; exit 1; }

csms_pid=
sim_pid=
stop() {
	trap - INT TERM EXIT
	# stop only what we started, by PID: the fleet first (it stops its sessions), then the CSMS
	if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
		say "stopping the fleet (pid $sim_pid)"
		kill -TERM "$sim_pid" 2>/dev/null || true
		for _ in $(seq 150); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$sim_pid" 2>/dev/null || true
	fi
	if [ -n "$csms_pid" ] && kill -0 "$csms_pid" 2>/dev/null; then
		say "stopping the CSMS (pid $csms_pid)"
		kill -TERM "$csms_pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$csms_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$csms_pid" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

say "starting the CSMS on 127.0.0.1:$port (database $run/demo.db, log $run/csms.log)"
rm -f "$run/csms.port"
# each in its own session: a terminal's Ctrl-C reaches only this script, which then stops the
# fleet first (its sessions end cleanly) and the CSMS after it
setsid "$csms" --config "$run/demo-config.json" --listen "127.0.0.1:$port" --db "$run/demo.db" \
	--registration open --web-root "$top/web" --port-file "$run/csms.port" >"$run/csms.log" 2>&1 &
csms_pid=$!
for _ in $(seq 100); do
	[ -s "$run/csms.port" ] && break
	if ! kill -0 "$csms_pid" 2>/dev/null; then
		echo "demo: the CSMS did not start (port $port in use?):" >&2
		tail -n 20 "$run/csms.log" >&2
		exit 1
	fi
	sleep 0.1
done
[ -s "$run/csms.port" ] || { echo "demo: the CSMS did not come up" >&2; exit 1; }

say "starting $chargers simulated chargers at ${speed}x (log $run/cpsim.log, report $run/cpsim-report.json)"
# the fleet runs at most $duration seconds, then drains and exits by itself
setsid "$cpsim" "${fleet[@]}" --url "ws://127.0.0.1:$port/ocpp" --duration "$duration" \
	--ramp 100 --progress-interval 30 --json-file "$run/cpsim-report.json" \
	>"$run/cpsim.log" 2>&1 &
sim_pid=$!

cat <<EOF

    Dashboard:  http://127.0.0.1:$port/
    REST API:   http://127.0.0.1:$port/api/stations   http://127.0.0.1:$port/api/sessions
    Fleet log:  tail -f $run/cpsim.log

    A simulated day lasts $((24 * 60 / speed)) minutes. Press Ctrl-C to stop.

EOF
while kill -0 "$sim_pid" 2>/dev/null && kill -0 "$csms_pid" 2>/dev/null; do
	sleep 1
done
if ! kill -0 "$csms_pid" 2>/dev/null; then
	echo "demo: the CSMS exited; last lines of $run/csms.log:" >&2
	tail -n 20 "$run/csms.log" >&2
	exit 1
fi
say "the fleet finished its run; report in $run/cpsim.log"
