#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo behind `./dev run`: the CSMS on a SQLite DB under .run/ with the dashboard, and a
# simulated fleet (cpsim) of mixed sites and protocols replaying the last 24 hours at 120x.
#
#   tools/demo.sh [CHARGERS] [SPEED]        defaults: 200 chargers, 120x (a day in 12 minutes)
#
# One demo clock for both processes (docs/config.md "The demo clock"): simulated time =
# START + (wall - ANCHOR) x SPEED, with ANCHOR = now and START = ANCHOR + 24h/SPEED - 24h, so
# the simulated day is the last 24 hours and reaches "now" exactly when it ends. The fleet
# stamps its messages with that clock (--timestamps sim) and its sites live in UTC+08:00 (the
# city is in China): residential EVs come home 17:00-21:00 local time and leave in the morning.
# When the day ends the fleet drains and exits, and the CSMS is restarted on the real clock
# (which the day has just reached) for browsing, for DEMO_BROWSE seconds; Ctrl-C stops all.
#
# Environment: DEMO_CHARGERS, DEMO_SPEED (as the arguments), DEMO_PORT (8180), DEMO_DURATION
# (real seconds at most the fleet runs: cuts the day short), DEMO_BROWSE (real seconds the CSMS
# stays up after the day, default 1800; 0: stop at once), BUILD (build dir).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${BUILD:-build}
port=${DEMO_PORT:-8180}
chargers=${1:-${DEMO_CHARGERS:-200}}
speed=${2:-${DEMO_SPEED:-120}}
max_duration=${DEMO_DURATION:-}
browse=${DEMO_BROWSE:-1800}
utc_offset=+08:00
offset_s=$((8 * 3600)) # the same, for printing local times
drain=3 # real seconds for the fleet to stop its sessions at the end of the day
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
if ! [[ $speed =~ ^[0-9]+$ ]] || [ "$speed" -lt 1 ] || [ "$speed" -gt 1440 ]; then
	echo "demo: SPEED must be a whole number 1..1440 (a day in at least a minute)" >&2
	exit 2
fi
for v in max_duration browse; do
	if [ -n "${!v}" ] && ! [[ ${!v} =~ ^[0-9]+$ ]]; then
		echo "demo: DEMO_${v^^} must be whole seconds" >&2
		exit 2
	fi
done
[ "$max_duration" != 0 ] || { echo "demo: DEMO_DURATION must be >= 1" >&2; exit 2; }
mkdir -p "$run"

rfc3339() { # ms since the epoch -> 2026-12-01T04:05:06.789Z
	printf '%s.%03dZ' "$(date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000))
}
local_time() { # ms since the epoch -> "2026-12-01 12:05" in the sites' time zone
	date -u -d "@$(($1 / 1000 + offset_s))" '+%Y-%m-%d %H:%M'
}
now_ms() { date +%s%3N; }
span() { # seconds -> "12 min 0 s"
	printf '%d min %d s' $(($1 / 60)) $(($1 % 60))
}

# The demo clock: anchored now; the simulated day is [now - 24h, now] and ends at $end_ms.
day_ms=86400000
real_day_ms=$((day_ms / speed))
anchor_ms=$(($(now_ms) / 1000 * 1000))
end_ms=$((anchor_ms + real_day_ms))
start_ms=$((end_ms - day_ms))
anchor=$(rfc3339 "$anchor_ms")
start=$(rfc3339 "$start_ms")
fleet=(--chargers "$chargers" --protocol mixed --mix public=30,residential=55,rural=10,swap=5
	--id-prefix DEMO --speed "$speed" --start-time "$start" --clock-anchor "$anchor"
	--timestamps sim --utc-offset "$utc_offset" --meter-interval 10
	--tag-pool 200 --password "$password" --drop-rate 0.05)

# Each demo replays the last 24 hours: an earlier run's sessions would overlap them, so the
# database starts afresh (the previous one is kept as demo-prev.db).
for f in demo.db demo.db-wal demo.db-shm; do
	[ ! -e "$run/$f" ] || mv -f "$run/$f" "$run/${f/demo.db/demo-prev.db}"
done

# The CSMS learns the fleet first: stations with their sites and kinds, and the id tokens
# (residential owners' cards are bound to their site). The ratings are for checks by hand.
say "describing $chargers chargers to the CSMS"
"$cpsim" "${fleet[@]}" --emit-stations "$run/demo-stations.csv" --emit-config "$run/demo-tokens.json" \
	--emit-ratings "$run/demo-ratings.json"
python3 - "$run/demo-tokens.json" "$run/demo-config.json" "$speed" <<'EOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg.update({"heartbeat_interval_s": 120, "pending_interval_s": 5})
# A simulated hour in seconds: a swap station's rack sends as many calls a real second as a real
# one would in a simulated one. The per-station call rate limit (docs/security.md) grows with
# the speed so the demo is not throttled; production keeps the default.
cfg.update({"call_rate_per_s": max(20, 2 * int(sys.argv[3])), "call_burst": max(200, 20 * int(sys.argv[3]))})
json.dump(cfg, open(sys.argv[2], "w"), indent=1)
EOF
"$csms" stations import "$run/demo-stations.csv" --db "$run/demo.db" --config "$run/demo-config.json" \
	>"$run/demo-import.log" 2>&1 || { cat "$run/demo-import.log" >&2; exit 1; }
# Tariff calendars (EXAMPLES, docs/tariffs/): the commercial one for public, rural and swap
# sites, the residential home-pile one for residential sites; CDRs and site energy use them.
"$csms" tariffs import docs/tariffs/example-shandong-commercial.json --db "$run/demo.db" \
	--site-kinds public,rural,swap >>"$run/demo-import.log" 2>&1 &&
"$csms" tariffs import docs/tariffs/example-shandong-residential.json --db "$run/demo.db" \
	--site-kinds residential >>"$run/demo-import.log" 2>&1 || { cat "$run/demo-import.log" >&2; exit 1; }

# The API is locked: a demo admin with a fresh random password (no default password exists).
admin_pw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
(umask 077 && printf '%s\n' "$admin_pw" >"$run/demo-admin.pw")
"$csms" users add demo --role admin --password-file "$run/demo-admin.pw" --db "$run/demo.db" \
	--config "$run/demo-config.json" >>"$run/demo-import.log" 2>&1 ||
	{ cat "$run/demo-import.log" >&2; exit 1; }

csms_pid=
sim_pid=
stop_pid() { # stop_pid PID WHAT TENTHS: SIGTERM, wait up to TENTHS/10 s, then SIGKILL
	if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
		say "stopping $2 (pid $1)"
		kill -TERM "$1" 2>/dev/null || true
		for _ in $(seq "$3"); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}
stop() {
	trap - INT TERM EXIT
	# stop only what we started, by PID: the fleet first (it stops its sessions), then the CSMS
	stop_pid "$sim_pid" "the fleet" 150
	stop_pid "$csms_pid" "the CSMS" 100
}
trap stop EXIT
trap 'exit 130' INT TERM

start_csms() { # start_csms [demo clock flags...]: the CSMS up and listening on $port
	rm -f "$run/csms.port"
	# in its own session: a terminal's Ctrl-C reaches only this script, which then stops the
	# fleet first (its sessions end cleanly) and the CSMS after it
	# the planner prices swap racks (and bills swaps, docs/swap.md) by the commercial calendar
	CSMS_TARIFF_SWAP="$top/docs/tariffs/example-shandong-commercial.json" \
	setsid "$csms" --config "$run/demo-config.json" --listen "127.0.0.1:$port" --db "$run/demo.db" \
		--registration open --web-root "$top/web" --port-file "$run/csms.port" "$@" \
		>>"$run/csms.log" 2>&1 &
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
}

say "starting the CSMS on 127.0.0.1:$port on the demo clock (database $run/demo.db, log $run/csms.log)"
: >"$run/csms.log"
start_csms --clock-start "$start" --clock-speed "$speed" --clock-anchor "$anchor"

# The fleet takes EVs until $drain real seconds before the day ends, then stops its sessions
# within the drain, so nothing is stamped after "now".
duration=$(((end_ms - drain * 1000 - $(now_ms)) / 1000))
[ "$duration" -ge 1 ] || duration=1
cut=
if [ -n "$max_duration" ] && [ "$max_duration" -lt "$duration" ]; then
	duration=$max_duration
	cut_ms=$((start_ms + ($(now_ms) + duration * 1000 - anchor_ms) * speed))
	cut=" early, at simulated $(local_time "$cut_ms") (DEMO_DURATION=$duration s)"
fi
say "starting $chargers simulated chargers at ${speed}x (log $run/cpsim.log, report $run/cpsim-report.json)"
setsid "$cpsim" "${fleet[@]}" --url "ws://127.0.0.1:$port/ocpp" --duration "$duration" \
	--drain "$drain" --ramp 100 --progress-interval 30 --json-file "$run/cpsim-report.json" \
	>"$run/cpsim.log" 2>&1 &
sim_pid=$!

cat <<EOF

    Dashboard:  http://127.0.0.1:$port/
    Log in:     user demo, password $admin_pw   (demo admin; also in $run/demo-admin.pw)
    REST API:   http://127.0.0.1:$port/api/stations   http://127.0.0.1:$port/api/sessions
                (log in first, or an API token: docs/api.md "Authentication")
    Fleet log:  tail -f $run/cpsim.log

    Demo day: the last 24 hours replayed at ${speed}x, in $(span $((real_day_ms / 1000))).
      Simulated: $(local_time "$start_ms") to $(local_time "$end_ms") UTC$utc_offset, the city's time
      ($(rfc3339 "$start_ms") to $(rfc3339 "$end_ms")). The CSMS and the fleet
      share this clock: every timestamp and figure is in that day's time. The day reaches
      now at $(date -d "@$((end_ms / 1000))" +%H:%M:%S) (real time).
      Residential EVs come home 17:00-21:00 and charge overnight, public DC chargers are busy
      by day, rural sites lose their network now and then, swap stations swap packs
      (racks of 12 slots of 60 kW: the power each swap event states and the CSMS plans with).
    When the day ends the fleet stops its sessions and exits$cut;
      the CSMS is then restarted on the real clock, where the day left off, and stays up
      $(span "$browse") for browsing (DEMO_BROWSE). Press Ctrl-C to stop at any time.

EOF
# Halfway through the day: what the planner and the swap stations are doing, through the API
proof_at=$(($(date +%s) + duration / 2))
while kill -0 "$sim_pid" 2>/dev/null && kill -0 "$csms_pid" 2>/dev/null; do
	if [ -n "$proof_at" ] && [ "$(date +%s)" -ge "$proof_at" ]; then
		proof_at=
		say "halfway, simulated $(local_time $((start_ms + ($(now_ms) - anchor_ms) * speed))):"
		python3 "$top/tools/demo-proof.py" "$port" demo "$run/demo-admin.pw" ||
			echo "demo: could not read the API" >&2
	fi
	sleep 1
done
if ! kill -0 "$csms_pid" 2>/dev/null; then
	echo "demo: the CSMS exited; last lines of $run/csms.log:" >&2
	tail -n 20 "$run/csms.log" >&2
	exit 1
fi
wait "$sim_pid" 2>/dev/null || true
sim_pid=
say "the fleet finished its day; report in $run/cpsim.log"
[ "$browse" -gt 0 ] || exit 0
stop_pid "$csms_pid" "the CSMS on the demo clock" 100
csms_pid=
say "restarting the CSMS on the real clock for browsing, $(span "$browse") (Ctrl-C stops it)"
start_csms
say "dashboard: http://127.0.0.1:$port/  log in as demo, password $admin_pw (the simulated day is in $run/demo.db)"
for _ in $(seq "$browse"); do
	kill -0 "$csms_pid" 2>/dev/null || break
	sleep 1
done
