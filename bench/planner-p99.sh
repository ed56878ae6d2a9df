#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Chargers' call latency while one residential site's 1,000 sessions are planned, against the
# same load with nothing planned (issue 9: "charger p99 unchanged while 1,000 sessions are
# planned"). Two runs of the same fleets on a fresh SQLite database each:
#   planned    fleet A is one residential site, its kind has a tariff calendar
#              (CSMS_TARIFF_RESIDENTIAL): its sessions are planned on the planner's worker
#              thread and their TxProfiles sent
#   unplanned  fleet A is the same chargers at one public site without calendar or limit
# Fleet A: SESSIONS EVs at one site, all plugged in (cpsim --steady): residential with the
# calendar (planned), or public without calendar or limit (the baseline). Fleet B: GOOD
# public chargers sending MeterValues every second, whose latency is what is measured.
# Prints one line per run (B's MeterValues p50/p99/max, the planner's runs and profiles sent)
# and the ratio of the p99s. In the planned run the site's limit also changes every 3 s (PUT
# /api/sites/{id}/limit: 5 then 4 kW per session; CHANGE_S, default 3), so every session is planned again and its
# changed TxProfile sent while B is measured. Bounded: RUN_S seconds of load per run (default 90).
#
#   bench/planner-p99.sh        BUILD=build SESSIONS=1000 GOOD=200 RUN_S=90
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${BUILD:-build}
csms=$top/$build/csms/csms
cpsim=$top/$build/chargepoint-sim/sim/cpsim
sessions=${SESSIONS:-1000}
good=${GOOD:-200}
run_s=${RUN_S:-90}
token=bench-metrics-0123456789
ninja -C "$build" csms/csms chargepoint-sim/sim/cpsim >/dev/null
ulimit -n "$(ulimit -Hn)"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

metric() { # port name: the sample's value (0 if absent)
	curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$1/metrics" |
		awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }'
}

run() { # planned|unplanned
	local mode=$1 dir port a b
	dir=$(mktemp -d)
	cat >"$dir/config.json" <<EOF
{"kdf_iterations": 1000, "registration_rate_per_s": 100000, "boot_rate_per_s": 100000,
 "max_connections_per_address": 100000, "metrics_token": "$token", "sync": "normal"}
EOF
	if [ "$mode" = planned ]; then
		export CSMS_TARIFF_RESIDENTIAL=$top/docs/tariffs/example-shandong-residential.json
	else
		unset CSMS_TARIFF_RESIDENTIAL
	fi
	# fleet A: the residential site (planned) or, for the baseline, the same chargers at one
	# public site without a calendar or limit (nothing to plan); both imported with their sites
	if [ "$mode" = planned ]; then kind=residential; else kind=public; fi
	cat >"$dir/a.json" <<EOF
{"id_prefix": "PA", "groups": [{"kind": "$kind", "count": $sessions, "site_size": $sessions,
 "protocol": "ocpp1.6", "connectors": 1, "power_kw": 7.4}]}
EOF
	"$cpsim" --scenario "$dir/a.json" --password pa-password-0123456 --emit-stations "$dir/a.csv" >/dev/null
	"$cpsim" --chargers "$good" --kind public --id-prefix PB --password pb-password-0123456 --emit-stations "$dir/b.csv" >/dev/null
	# imported with the run's config (kdf_iterations 1000): with the default 100,000 the
	# fleets' 1,200 first logins kept the thread pool busy on both cores for most of the run
	"$csms" stations import "$dir/a.csv" --config "$dir/config.json" --db "$dir/csms.db" >/dev/null
	"$csms" stations import "$dir/b.csv" --config "$dir/config.json" --db "$dir/csms.db" >/dev/null
	head -c 18 /dev/urandom | base64 >"$dir/admin.pw"
	"$csms" users add bench --role admin --password-file "$dir/admin.pw" --db "$dir/csms.db" >/dev/null
	"$csms" --config "$dir/config.json" --listen 127.0.0.1:0 --port-file "$dir/port" \
		--db "$dir/csms.db" --registration closed --log-level warn 2>"$dir/csms.log" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
	port=$(head -n 1 "$dir/port")
	"$cpsim" --scenario "$dir/a.json" --url "ws://127.0.0.1:$port/ocpp" --password pa-password-0123456 \
		--steady --steady-at 2 --auth skip --meter-interval 30 --duration $((run_s + 20)) --ramp 500 \
		--source-base 127.0.0.2 --seed 3 >"$dir/a.log" 2>&1 &
	a=$!
	pids+=($a)
	sleep 20 # A connected and charging: the site's first plans are made meanwhile
	if [ "$mode" = planned ]; then
		# while B is measured the site's limit changes every 3 s: each change replans all of
		# A's sessions on the worker and sends the TxProfiles that changed
		(
			tok=$(python3 "$top/bench/live-client.py" --port "$port" --login bench \
				--password-file "$dir/admin.pw" --make-token --token-role admin)
			end=$(($(date +%s) + run_s))
			kw=$((sessions * 5))
			while [ "$(date +%s)" -lt "$end" ]; do
				kw=$((kw == sessions * 5 ? sessions * 4 : sessions * 5))
				curl -s -o /dev/null -X PUT -H "Authorization: Bearer $tok" \
					-H 'Content-Type: application/json' -d "{\"limit_kw\": $kw}" \
					"http://127.0.0.1:$port/api/sites/PA-SR0-00000/limit"
				sleep "${CHANGE_S:-3}"
			done
		) &
		pids+=($!)
	fi
	"$cpsim" --chargers "$good" --kind public --id-prefix PB --url "ws://127.0.0.1:$port/ocpp" \
		--password pb-password-0123456 --steady --steady-at 2 --auth skip --meter-interval 1 \
		--duration "$run_s" --ramp 200 --source-base 127.0.0.40 --seed 4 \
		--json-file "$dir/b.json" >"$dir/b.log" 2>&1
	python3 - "$dir/b.json" "$mode" "$(metric "$port" csms_planner_runs_total)" \
		"$(metric "$port" csms_planner_tx_profiles_sent_total)" <<'EOF' | tee -a "$dir/summary"
import json, sys
r = json.load(open(sys.argv[1]))
mv = r["calls"].get("MeterValues", {})
lat = mv.get("latency", {})
print("%-9s  B: %d MeterValues, p50 %.1f ms, p99 %.1f ms, max %.1f ms; planner runs %s, "
      "TxProfiles sent %s" % (sys.argv[2], mv.get("results", 0), lat.get("p50_ms", -1),
                              lat.get("p99_ms", -1), lat.get("max_ms", -1), sys.argv[3],
                              sys.argv[4]))
EOF
	kill "$a" 2>/dev/null || true
	wait "$a" 2>/dev/null || true
	kill "${pids[0]}" 2>/dev/null || true
	wait "${pids[0]}" 2>/dev/null || true
	pids=()
	cp "$dir/summary" "/tmp/planner-p99.$mode"
	[ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"
}

echo "one site of $sessions planned sessions (fleet A), $good chargers measured (fleet B), ${run_s} s each"
run unplanned
run planned
python3 - <<'EOF'
import re
def p99(mode):
    return float(re.search(r"p99 ([0-9.]+) ms", open("/tmp/planner-p99." + mode).read()).group(1))
u, p = p99("unplanned"), p99("planned")
print("p99 planned / unplanned: %.2f" % (p / u if u > 0 else float("nan")))
EOF
