#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo behind `./dev run`: the CSMS on a SQLite file under .run/, a simulated fleet of
# every site kind and both protocol versions connected to it, and the dashboard URL.
# Stops both (by PID) on Ctrl-C, or after DEMO_DURATION seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${DEMO_PORT:-8180}
chargers=${DEMO_CHARGERS:-200}
duration=${DEMO_DURATION:-3600}  # real seconds; the simulator stops by itself
speed=${DEMO_SPEED:-60}          # simulated seconds per real second: a day in 24 minutes
csms=build/csms/csms
cpsim=build/chargepoint-sim/sim/cpsim
run=.run
mkdir -p "$run"

for b in "$csms" "$cpsim"; do
	[ -x "$b" ] || { echo "demo: $b is missing; run ./dev run (it builds first)" >&2; exit 1; }
done

# The simulator's id tags, seeded into the CSMS so that sessions are authorised.
"$cpsim" --chargers "$chargers" --emit-config "$run/demo-config.json" >/dev/null
rm -f "$run/port"

csms_pid= sim_pid=
stop() {
	trap - INT TERM EXIT
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
	[ -n "$csms_pid" ] && kill "$csms_pid" 2>/dev/null && wait "$csms_pid" 2>/dev/null || true
	echo "demo: stopped (database kept in $run/demo.db)"
}
trap stop INT TERM EXIT

"$csms" --config "$run/demo-config.json" --listen "127.0.0.1:$port" --port-file "$run/port" \
	--db "$run/demo.db" --registration open --log-level notice 2>"$run/csms.log" &
csms_pid=$!
for _ in $(seq 100); do
	[ -s "$run/port" ] && break
	kill -0 "$csms_pid" 2>/dev/null || { cat "$run/csms.log" >&2; exit 1; }
	sleep 0.1
done
[ -s "$run/port" ] || { echo "demo: the CSMS did not start; see $run/csms.log" >&2; exit 1; }

"$cpsim" --url "ws://127.0.0.1:$port/ocpp" --chargers "$chargers" --protocol mixed \
	--mix public=4,residential=4,rural=1,swap=1 --speed "$speed" --meter-interval 10 \
	--duration "$duration" --progress-interval 30 >"$run/cpsim.log" 2>&1 &
sim_pid=$!

cat <<MSG

  CSMS on SQLite ($run/demo.db), $chargers simulated chargers (OCPP 1.6 and 2.0.1; public,
  residential, rural and swap sites; 1 real second = $speed simulated seconds).

  Dashboard:   http://127.0.0.1:$port/
  REST API:    http://127.0.0.1:$port/api/stations   (docs/api.md)
  Chargers:    ws://127.0.0.1:$port/ocpp/<charger-id>  (subprotocol ocpp1.6 or ocpp2.0.1)
  Logs:        $run/csms.log, $run/cpsim.log

  Ctrl-C stops both.

MSG
wait "$sim_pid" || true
sim_pid=
echo "demo: the simulated fleet finished; its report is in $run/cpsim.log"
