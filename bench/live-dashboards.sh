#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 50 dashboards on /api/live while 5,000 chargers send: the csms on a temp SQLite DB, one cpsim
# process (5,000 residential chargers charging from the start, a MeterValues every IV s, source
# addresses 127.0.0.2.. spread 500 per address under max_connections_per_address), and
# bench/live-client.py with N WebSocket subscribers authenticated by an API token (viewer),
# shared by LIVE_PROCS client processes (default 5).
# Prints the CSMS RSS before (no charger, no dashboard), with the chargers only, and with the
# dashboards (peak while they are connected); events received per subscriber per second; the
# subscribers the server dropped (1008 "too slow"); and the load average of the machine.
#
#   bench/live-dashboards.sh [CHARGERS [SUBSCRIBERS [IV]]]     defaults 5000 50 10
#
# Environment: BUILD (build dir, default build), KEEP=1 keeps the temp dir, LIVE_AT (seconds
# after the chargers start when the dashboards connect; default after the burst of session
# starts, LIVE_AT=12 puts them through it), LIVE_S (how long they stay, 45), NO_POWER=1 (the
# dashboards send {"power": false}: no per-station power events). Bounded: about
# 100 s; every process it started is killed by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${BUILD:-build}
csms=$top/$build/csms/csms
cpsim=$top/$build/chargepoint-sim/sim/cpsim
n=${1:-5000}
subs=${2:-50}
iv=${3:-10}
procs=${LIVE_PROCS:-5}   # client processes sharing the subscribers (one Python process reads
			 # about 18,000 frames/s here; 50 dashboards can be offered 25,000)
[ $((subs % procs)) -eq 0 ] || procs=1
steady_at=15   # chargers booted; sessions start, spread over one interval IV
live_at=${LIVE_AT:-$((steady_at + iv + 5))} # dashboards connect (default: after that burst)
live_s=${LIVE_S:-45}                         # and stay this long
dur=$((live_at + live_s + 5))

for b in "$csms" "$cpsim"; do
	[ -x "$b" ] || { echo "live-dashboards: $b is missing; build first (ninja -C $build)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "live-dashboards: needs python3" >&2; exit 1; }

pids=()
d=$(mktemp -d "${TMPDIR:-/tmp}/live-dashboards.XXXXXX")
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	[ "${KEEP:-0}" = 1 ] && echo "kept $d" || rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

cat >"$d/config.json" <<JSON
{"boot_rate_per_s": 50000, "registration_rate_per_s": 50000, "pending_interval_s": 5,
 "heartbeat_interval_s": 300, "log_level": "notice"}
JSON
head -c 24 /dev/urandom | base64 >"$d/password"
"$csms" users add bench --role admin --password-file "$d/password" --db "$d/csms.db" \
	>"$d/users.log" 2>&1 || { cat "$d/users.log" >&2; exit 1; }
"$csms" --config "$d/config.json" --listen 127.0.0.1:0 --port-file "$d/port" --db "$d/csms.db" \
	--registration open >"$d/csms.log" 2>&1 &
csms_pid=$!
pids+=("$csms_pid")
for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.1; done
[ -s "$d/port" ] || { echo "live-dashboards: csms did not start" >&2; cat "$d/csms.log" >&2; exit 1; }
port=$(cat "$d/port")
token=$(python3 bench/live-client.py --port "$port" --login bench --password-file "$d/password" --make-token)
sleep 1
rss_before=$(rss_kb "$csms_pid")

timeout $((dur + 60)) "$cpsim" --url "ws://127.0.0.1:$port/ocpp" --chargers "$n" --kind residential \
	--protocol ocpp1.6 --steady --steady-at "$steady_at" --auth skip --meter-interval "$iv" \
	--duration "$dur" --drain 20 --ramp 0 --heartbeat 300 --per-process "$n" --per-address 500 \
	--json-file "$d/report.json" --progress-interval 10 >"$d/cpsim.out" 2>"$d/cpsim.err" &
sim_pid=$!
pids+=("$sim_pid")

sleep "$live_at"
rss_chargers=$(rss_kb "$csms_pid")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
live_pids=()
for i in $(seq "$procs"); do
	python3 bench/live-client.py --port "$port" --token "$token" --n $((subs / procs)) \
		--seconds "$live_s" ${NO_POWER:+--no-power} >"$d/live.$i.json" 2>"$d/live.$i.err" &
	live_pids+=($!)
	pids+=($!)
done
rss_peak=0
lcpu() { local t=0 p; for p in "${live_pids[@]}"; do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
# cpu over the first 2 s (a subscriber the server drops takes its figures with it)
c1=$(cpu_ticks "$csms_pid"); l1=$(lcpu); t1=$(date +%s.%N)
sleep 2
c2=$(cpu_ticks "$csms_pid"); l2=$(lcpu); t2=$(date +%s.%N)
for _ in $(seq $((live_s / 5 - 1))); do
	r=$(rss_kb "$csms_pid")
	[ "$r" -gt "$rss_peak" ] && rss_peak=$r
	sleep 5
done
for i in $(seq "$procs"); do
	wait "${live_pids[$((i - 1))]}" ||
		{ echo "live-dashboards: live client $i failed" >&2; cat "$d/live.$i.err" >&2; }
done
load_during=$(cut -d' ' -f1-3 /proc/loadavg)
wait "$sim_pid" || echo "live-dashboards: cpsim exited with $?" >&2

python3 - "$d/live.*.json" "$d/report.json" "$n" "$subs" "$iv" "$rss_before" "$rss_chargers" \
	"$rss_peak" "$load_before" "$load_during" "$(nproc)" \
	"$(grep -c 'events behind: dropped' "$d/csms.log" || true)" "$live_at" \
	"$c1" "$c2" "$l1" "$l2" "$t1" "$t2" "$(getconf CLK_TCK)" <<'PY'
import glob, json, statistics, sys
(live, rep, n, subs, iv, before, chargers, peak, load0, load1, cores, srv_drops,
 live_at, c1, c2, l1, l2, t1, t2, hz) = sys.argv[1:]
wall = float(t2) - float(t1)
cpu = lambda a, b: (int(b) - int(a)) / int(hz) / wall * 100
parts = [json.load(open(f)) for f in sorted(glob.glob(live))]
L = {'subscribers': sum(p['subscribers'] for p in parts), 'connected': sum(p['connected'] for p in parts),
     'dropped': sum(p['dropped'] for p in parts), 'seconds': max(p['seconds'] for p in parts),
     'close_codes': {}, 'types': {}}
for p in parts:
    for k in ('close_codes', 'types'):
        for t, c in p[k].items():
            L[k][t] = L[k].get(t, 0) + c
rates = [e / p['seconds'] for p in parts for e in p['events']]
L['events_per_s'] = {'min': round(min(rates), 1), 'median': round(statistics.median(rates), 1),
                     'max': round(max(rates), 1)}
try:
    R = json.load(open(rep))
except (OSError, ValueError):
    R = {}
mb = lambda kb: int(kb) / 1024
print(f"{n} chargers (OCPP 1.6, residential, charging, a MeterValues every {iv} s, one cpsim process)"
      f" + {subs} /api/live subscribers (API token) on {cores} cores")
print(f"csms RSS: before {mb(before):.1f} MiB, chargers only {mb(chargers):.1f} MiB, "
      f"with the dashboards (peak) {mb(peak):.1f} MiB "
      f"({(int(peak) - int(chargers)) / int(subs):.0f} KiB per dashboard)")
e = L['events_per_s']
print(f"subscribers: {L['connected']}/{L['subscribers']} connected for {L['seconds']} s, "
      f"from {live_at} s after the chargers started; dropped {L['dropped']} "
      f"{L['close_codes'] or ''} (server log: {srv_drops} dropped as too slow)")
print(f"events per subscriber per second: min {e['min']} median {e['median']} max {e['max']}; "
      f"by type (all subscribers): {L['types']}")
if R:
    mv = R.get('calls', {}).get('MeterValues', {})
    b, ss = R.get('boots', {}), R.get('sessions', {})
    print(f"chargers: {R.get('connections', {}).get('failed', '?')} failed connections, "
          f"{b.get('accepted', '?')} boots accepted ({b.get('pending', '?')} pending), "
          f"{ss.get('started', '?')} sessions, MeterValues answered {mv.get('results', '?')} "
          f"(p99 {mv.get('latency', {}).get('p99_ms', '?')} ms)")
print(f"cpu in the dashboards' first 2 s (% of one core): csms {cpu(c1, c2):.0f}%, "
      f"live clients ({len(parts)} processes) {cpu(l1, l2):.0f}%")
print(f"load average: {load0} before the dashboards, {load1} after")
PY
