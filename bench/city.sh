#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The city on one box (issue 12 item 5, docs/scaling.md): 165,000 simulated chargers (40,000
# public, 110,000 residential, 15,000 rural, plus swap stations) through HAProxy to NODES csms
# nodes on one PostgreSQL. Prints the time for all to connect and boot, the steady state at
# realistic rates (heartbeats, status, one MeterValues per minute per charging session, the
# evening residential peak), the CPU of each part, RSS per connection, PostgreSQL's CPU and WAL
# volume, and the latency of commands sent through a node that does not hold the station.
#
#   bench/city.sh                      the full city (needs the whole machine: ~20 minutes)
#   CITY_SCALE=0.05 bench/city.sh      5 % of it (8,250 chargers), the same shape
#
# Environment: BUILD (default build), CITY_SCALE (default 1), NODES (csms nodes, default 9, or
# one per 16,000 chargers if that is more: 11 for the city, so that no node needs more than
# its 19,900 connections after HAProxy's bounded-load hashing), RAMP (new connections a second,
# default 2000 below 20,000 chargers, else 150: about what 2 cores boot a second, so chargers
# do not queue behind the boot storm until their calls time out), METER_S (seconds between
# a session's MeterValues, default 60, the realistic rate; the full city on 2 cores needs more:
# PostgreSQL alone saturates, see docs/scaling.md),
# START_UTC (the simulated time of day the fleet starts at, UTC, default 13:30: 21:30 local, the
# evening peak; 06:00 is 14:00 local, residential EVs mostly away),
# MEASURE_S (steady window, default 60), WARMUP_S (from all booted to the window, default 75),
# BOOT_S (longest wait for every charger to boot, default 900 x scale, at least 300), SWAP
# (swap stations at full scale, default 200), COMMANDS (cross-node commands timed, default
# 20), KEEP=1 keeps the temp dir.
# Only 127.0.0.x is used. Every wait is bounded in count and time; every process started
# here is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${BUILD:-build}
csms=$top/$build/csms/csms
cpsim=$top/$build/chargepoint-sim/sim/cpsim
scale=${CITY_SCALE:-1}
nodes=${NODES:-0}
measure_s=${MEASURE_S:-60}
n_cmds=${COMMANDS:-20}
hz=$(getconf CLK_TCK)

for b in "$csms" "$cpsim"; do
	[ -x "$b" ] || { echo "city: $b is missing; build first (ninja -C $build)" >&2; exit 1; }
done
for c in haproxy psql python3 curl; do
	command -v "$c" >/dev/null || { echo "city: needs $c (./dev installs it)" >&2; exit 1; }
done

read -r n_pub n_res n_rur n_swp boot_s < <(python3 - "$scale" "${SWAP:-200}" "${BOOT_S:-0}" <<'EOF'
import math, sys
s, swap, boot = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = [max(1, round(x * s)) for x in (40000, 110000, 15000, swap)]
print(*c, boot if boot > 0 else max(300, math.ceil(900 * s)))
EOF
)
total=$((n_pub + n_res + n_rur + n_swp))
if [ "$nodes" -le 0 ]; then
	nodes=$(( (total + 15999) / 16000 ))
	[ "$nodes" -ge 9 ] || nodes=9
fi
ramp=${RAMP:-$([ "$total" -lt 20000 ] && echo 2000 || echo 150)}
meter_s=${METER_S:-60} # one MeterValues per session this often (60: the realistic rate)
# HAProxy: two descriptors per charger, 20,000 per process: at most 9,900 chargers each
n_hap=$(( (total + 9899) / 9900 ))
# the simulator: at most 19,000 connections per process, 10,000 per source address (cpsim's
# default): a connection bound to a source address takes its port at bind(), and Linux gives
# bind() one half of the ephemeral range (~14,000 ports); past it each bind() searched the
# whole range (1.7 ms of kernel CPU, measured), and a full-city run at 25,000 per address
# stalled at 13,500 connections
per_proc=19000
per_addr=10000

d=$(mktemp -d "${TMPDIR:-/tmp}/city.XXXXXX")
pids=()
pg_pid=
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "$pg_pid" ]; then
		kill -TERM "$pg_pid" 2>/dev/null || true # pgtmp.sh stops its cluster and removes it
		for _ in $(seq 150); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	[ "${KEEP:-0}" = 1 ] && echo "city: kept $d" >&2 || rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ticks() { # utime + stime of pids
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now() { date +%s.%N; }

echo "city: scale $scale: $total chargers ($n_pub public, $n_res residential, $n_rur rural," \
	"$n_swp swap), $nodes csms nodes, $n_hap haproxy process(es), ramp $ramp/s," \
	"MeterValues every $meter_s s per session, fleet from ${START_UTC:-13:30} UTC (+08:00 local), $(nproc) cores"

# ---- PostgreSQL: a temporary cluster (tests/pg/pgtmp.sh prints its DSN and keeps it)
# sized for the run as a deployment would size it (docs/scaling.md): 2 GB of shared buffers,
# checkpoints every 15 minutes or 16 GB of WAL (the default 1 GB / 5 min checkpointed every
# minute in the boot storm, and each checkpoint makes the next writes of every page full-page
# images), and pg_stat_statements to say which statements cost what
PGTMP_OPTS="-c shared_buffers=2GB -c max_wal_size=16GB -c checkpoint_timeout=15min \
-c wal_buffers=64MB -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=1000 \
${PGTMP_OPTS:-}" tests/pg/pgtmp.sh >"$d/pg.out" 2>"$d/pg.err" &
pg_pid=$!
dsn=
for _ in $(seq 600); do
	dsn=$(grep -m1 -o 'postgresql://[^ ]*' "$d/pg.out" 2>/dev/null || true)
	[ -n "$dsn" ] && break
	kill -0 "$pg_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$dsn" ] || { echo "city: PostgreSQL did not start" >&2; cat "$d/pg.err" >&2; exit 1; }
pg_port=$(echo "$dsn" | sed -E 's|.*:([0-9]+)/.*|\1|')
postmaster=$(pgrep -f -- "-p $pg_port " | head -1 || true)
pg_pids() { echo "$postmaster" $(pgrep -P "$postmaster" 2>/dev/null || true); }
q() { psql "$dsn" -Atqc "$1"; }

q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

# ---- an operator account for the cross-node commands (this also migrates the database)
head -c 24 /dev/urandom | base64 >"$d/password"
"$csms" users add city --role admin --password-file "$d/password" --db "$dsn" >"$d/users.log" 2>&1 ||
	{ cat "$d/users.log" >&2; exit 1; }

# ---- the nodes
cat >"$d/node.json" <<EOF
{"boot_rate_per_s": 50000, "registration_rate_per_s": 100000, "max_pending_stations": 1000000,
 "max_connections": 19900, "max_connections_per_address": 100000, "call_rate_per_s": 100000,
 "call_burst": 100000, "heartbeat_interval_s": 300, "log_level": "warn",
 "kdf_iterations": 1000}
EOF
# the fleet's stations and sites are imported (security profile 1: HTTP Basic; the password
# hashes use 1,000 PBKDF2 rounds instead of 100,000, or importing and admitting 165,000
# stations would take hours of CPU: the city measures the serving path), and every tag its
# drivers use is known (Authorize and starts are Accepted)
sim_args=(--chargers "$total" --mix "public=$n_pub,residential=$n_res,rural=$n_rur,swap=$n_swp"
	--protocol mixed --id-prefix CITY --password city-password-0123)
"$cpsim" "${sim_args[@]}" --emit-stations "$d/stations.csv" >/dev/null
"$cpsim" "${sim_args[@]}" --emit-config "$d/tokens.json" >/dev/null
"$csms" stations import "$d/stations.csv" --db "$dsn" --config "$d/node.json" >"$d/import.log" 2>&1 ||
	{ cat "$d/import.log" >&2; exit 1; }
# the tokens go to the first node's configuration only: a node writes its configuration's
# id_tokens at start, and the others would write the same rows again (115,000 upserts each)
python3 - "$d/node.json" "$d/tokens.json" "$d/node1.json" <<'EOF2'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg.update(json.load(open(sys.argv[2])))
json.dump(cfg, open(sys.argv[3], "w"))
EOF2
node_pid=()
node_port=()
for i in $(seq 1 "$nodes"); do
	cfg=$d/node.json
	[ "$i" = 1 ] && cfg=$d/node1.json
	"$csms" --config "$cfg" --listen 127.0.0.1:0 --port-file "$d/port.$i" --db "$dsn" \
		--registration open --node-id "city-$i" >"$d/csms.$i.log" 2>&1 &
	node_pid+=("$!")
	pids+=("$!")
	if [ "$i" = 1 ]; then # its tokens are in the database before the others start
		for _ in $(seq 3000); do [ -s "$d/port.1" ] && break; sleep 0.1; done
	fi
done
for i in $(seq 1 "$nodes"); do
	for _ in $(seq 3000); do [ -s "$d/port.$i" ] && break; sleep 0.1; done # the id tokens of the config are written at start: minutes at full size
	[ -s "$d/port.$i" ] || { echo "city: node $i did not start" >&2; cat "$d/csms.$i.log" >&2; exit 1; }
	node_port+=("$(head -1 "$d/port.$i")")
done

# ---- the API token of the cross-node commands, made while the machine is quiet: an account
# login verifies scrypt off the loop, and in the saturated boot storm node 1 closed the login
# before it answered (2026-12-02); a script uses a bearer token, checked by its SHA-256
token=$(python3 - "${node_port[0]}" "$d/password" <<'EOF'
import http.client, json, sys
port, pw = int(sys.argv[1]), open(sys.argv[2]).read().strip()
c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
c.request('POST', '/api/login', json.dumps({'username': 'city', 'password': pw}),
          {'Content-Type': 'application/json'})
r = c.getresponse(); body = json.loads(r.read() or b'{}')
cookie = r.getheader('Set-Cookie').split(';')[0]
c.request('POST', '/api/tokens', json.dumps({'name': 'city', 'role': 'operator'}),
          {'Content-Type': 'application/json', 'Cookie': cookie, 'X-CSRF-Token': body['csrf']})
print(json.loads(c.getresponse().read())['token'])
EOF
) || { echo "city: no API token from node 1 (its API did not answer in 30 s)" >&2; token=; }

# ---- HAProxy: the settings of docs/haproxy.cfg, n_hap processes on one port (SO_REUSEPORT)
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Each process connects to the nodes from source addresses of its own, 127.1.<process>.<node>,
# with the ports of its choice: the simulator binds its connections to 127.0.0.x (port 0), and
# Linux's connect() never picks a port number that some bind() holds on any address, so at
# ~142,000 chargers HAProxy's connections to the nodes found no free port ("Out of local source
# ports on the system", 2026-12-02); an explicit source address and port range is a bind() of
# its own, which only another socket on the same address can refuse.
hap_cfg() { # the configuration of HAProxy process $1
	printf 'global\n\tmaxconn 9900\n\tulimit-n 20000\n'
	printf 'defaults\n\tmode http\n\ttimeout connect 5s\n\ttimeout client 30s\n\ttimeout server 30s\n'
	printf '\ttimeout tunnel 1h\n\ttimeout client-fin 5s\n\ttimeout server-fin 5s\n'
	printf 'frontend ocpp\n\tbind 127.0.0.1:%s\n\tdefault_backend csms\n' "$hport"
	# bounded-load consistent hashing (no node above 125 % of the average: the nofile limit);
	# health checks that tolerate a node whose loop is busy for seconds in the boot storm
	# (1 s / fall 2 marked starved nodes DOWN and moved their chargers, a storm of its own)
	printf 'backend csms\n\tbalance uri\n\thash-type consistent\n\thash-balance-factor 125\n'
	printf '\ttimeout check 10s\n'
	printf '\tdefault-server check inter 5s fall 6 rise 2 maxconn 19000\n\tretries 3\n\toption redispatch 1\n'
	for i in $(seq 1 "$nodes"); do
		printf '\tserver city-%s 127.0.0.1:%s source 127.1.%s.%s:1024-65000\n' "$i" \
			"${node_port[$((i - 1))]}" "$1" "$i"
	done
}
hap_pid=()
for h in $(seq 1 "$n_hap"); do
	hap_cfg "$h" >"$d/haproxy.$h.cfg"
	haproxy -db -f "$d/haproxy.$h.cfg" >"$d/haproxy.$h.log" 2>&1 &
	hap_pid+=("$!")
	pids+=("$!")
done
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$hport),1)" 2>/dev/null && break
	sleep 0.1
done

# ---- the fleet: the evening peak (21:30 local: 80 % of residential EVs home, most of them
# charging), one MeterValues a minute per session
warmup_s=${WARMUP_S:-75} # after the boot: sessions start, their first readings come a minute later
# the fleet is stopped (SIGTERM) once the figures are taken: the duration only has to outlast
# the slowest phases on a saturated machine (the statements' report, each command up to 40 s)
dur=$((boot_s + warmup_s + measure_s + n_cmds * 40 + 600))
wal0=$(q "SELECT pg_current_wal_lsn()")
t_start=$(now)
timeout $((dur + 120)) "$cpsim" --url "ws://127.0.0.1:$hport/ocpp" "${sim_args[@]}" \
	--utc-offset +08:00 --start-time "$(date -u +%Y-%m-%d)T${START_UTC:-13:30}:00Z" \
	--meter-interval "$meter_s" --heartbeat 0 --duration "$dur" --drain 30 --ramp "$ramp" \
	--per-process "$per_proc" --per-address "$per_addr" --source-base 127.0.0.2 \
	--progress-interval 10 --json-file "$d/report.json" >"$d/cpsim.out" 2>"$d/cpsim.err" &
sim_pid=$!
pids+=("$sim_pid")
# where PostgreSQL's time went (pg_stat_statements since the last reset), and which tables
# were read by scans rather than by an index
pg_top() {
	q "SELECT format('  %8s ms %9s calls %7s ms/call %9s rows  %s', round(total_exec_time)::bigint,
		calls, round((total_exec_time / calls)::numeric, 3), rows,
		left(regexp_replace(query, '\\s+', ' ', 'g'), 110))
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT ${PG_TOP:-15}" || true
	q "SELECT format('  table %-22s seq_scan %7s seq_tup_read %10s idx_scan %9s inserted %9s updated %9s',
		relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd)
		FROM pg_stat_user_tables WHERE seq_tup_read > 0 OR n_tup_upd > 0
		ORDER BY seq_tup_read DESC LIMIT 10" || true
}

descendants() { local c; for c in $(pgrep -P "$1" 2>/dev/null || true); do echo "$c"; descendants "$c"; done; }
sim_pids() { echo "$sim_pid" $(descendants "$sim_pid"); } # timeout, cpsim and its workers

# ---- connect and boot: every charger has booted once (its station row's last_boot_ms; the
# imported rows have none). Not the ownership rows: the simulator's rural chargers drop their
# link now and then (weak networks), so at any moment a hundred or so are offline by design
# and the count of connected chargers never reaches the total (the 07:25 run, 2026-12-02)
booted=0
t_booted=
deadline=$(( $(date +%s) + boot_s ))
while [ "$(date +%s)" -lt "$deadline" ]; do
	booted=$(q "SELECT count(*) FROM stations WHERE last_boot_ms IS NOT NULL" || echo 0)
	if [ "$booted" -ge "$total" ]; then t_booted=$(now); break; fi
	kill -0 "$sim_pid" 2>/dev/null || break
	sleep 10 # count(*) over 165,000 rows: 35 ms of PostgreSQL's CPU each time
done
if [ -n "$t_booted" ]; then
	printf 'connect + boot: all %d chargers in %.1f s\n' "$total" \
		"$(python3 -c "print($t_booted - $t_start)")"
else
	printf 'connect + boot: %d of %d chargers within %d s\n' "$booted" "$total" "$boot_s"
fi
q "SELECT count(*) FROM station_owner" | sed 's/^/connected now: /'
q "SELECT node_id, count(*) FROM station_owner GROUP BY 1 ORDER BY 1" | tr '\n' ' ' |
	sed 's/^/chargers per node: /'
echo

echo "postgresql, connect and boot: the statements that took most time"
pg_top
q "SELECT pg_stat_statements_reset()" >/dev/null || true
q "SELECT pg_stat_reset()" >/dev/null || true

# ---- the steady window, once sessions run and send their readings
sleep "$warmup_s"
q "SELECT count(*) FROM sessions WHERE stop_ms IS NULL" | sed 's/^/sessions running: /'
rss_nodes0=0
for p in "${node_pid[@]}"; do rss_nodes0=$((rss_nodes0 + $(rss_kb "$p"))); done
c_nodes=(); for p in "${node_pid[@]}"; do c_nodes+=("$(cpu_ticks "$p")"); done
c_hap1=$(cpu_ticks "${hap_pid[@]}")
c_pg1=$(cpu_ticks $(pg_pids))
c_sim1=$(cpu_ticks $(sim_pids))
mv1=$(q "SELECT count(*) FROM meter_values")
wal1=$(q "SELECT pg_current_wal_lsn()")
t1=$(now)
sleep "$measure_s"
t2=$(now)
wal2=$(q "SELECT pg_current_wal_lsn()")
mv2=$(q "SELECT count(*) FROM meter_values")
c_hap2=$(cpu_ticks "${hap_pid[@]}")
c_pg2=$(cpu_ticks $(pg_pids))
c_sim2=$(cpu_ticks $(sim_pids))
cpu_line=
rss_nodes=0
for i in "${!node_pid[@]}"; do
	c2=$(cpu_ticks "${node_pid[$i]}")
	cpu_line="$cpu_line $(python3 -c "print(f'{($c2 - ${c_nodes[$i]}) / $hz / ($t2 - $t1) * 100:.0f}%')")"
	rss_nodes=$((rss_nodes + $(rss_kb "${node_pid[$i]}")))
done
python3 - "$t1" "$t2" "$hz" "$c_hap1" "$c_hap2" "$c_pg1" "$c_pg2" "$c_sim1" "$c_sim2" \
	"$mv1" "$mv2" "$rss_nodes" "$total" "$booted" <<EOF
import sys
t1, t2, hz = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
w = t2 - t1
pct = lambda a, b: (int(b) - int(a)) / hz / w * 100
print(f"steady window {w:.0f} s: csms nodes CPU (% of a core each):$cpu_line")
print(f"  haproxy {pct(sys.argv[4], sys.argv[5]):.0f}%, postgresql {pct(sys.argv[6], sys.argv[7]):.0f}%, "
      f"simulator {pct(sys.argv[8], sys.argv[9]):.0f}%")
print(f"  meter readings stored: {(int(sys.argv[11]) - int(sys.argv[10])) / w:.0f}/s")
conns = max(1, int(sys.argv[14]))
print(f"  csms RSS: {int(sys.argv[12]) / 1024:.0f} MB in all, {int(sys.argv[12]) / conns:.1f} KB per connection")
EOF
wal_bytes=$(q "SELECT pg_wal_lsn_diff('$wal2', '$wal1')")
wal_all=$(q "SELECT pg_wal_lsn_diff('$wal2', '$wal0')")
python3 -c "print(f'  PostgreSQL WAL: {$wal_bytes / ($t2 - $t1) / 1024:.0f} KB/s in the window, {$wal_all / 1048576:.0f} MB since the start')"

# ---- commands through a node that does not hold the station (the API token made before the fleet)
: >"$d/cmd.txt"
[ -n "$token" ] && q "SELECT station_id, substr(node_id, 6) FROM station_owner ORDER BY random() LIMIT $n_cmds" |
while IFS='|' read -r sid owner; do
	via=$(( owner % nodes ))  # the next node: never the owner
	curl -s -o "$d/cmd.out" -w '%{http_code} %{time_total}\n' --max-time 40 \
		-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		-d '{"message": "heartbeat"}' \
		"http://127.0.0.1:${node_port[$via]}/api/stations/$sid/trigger" >>"$d/cmd.txt" || true
done
python3 - "$d/cmd.txt" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ok = sorted(float(t) * 1000 for c, t in rows if c == '200')
if ok:
    print(f"commands across nodes: {len(ok)}/{len(rows)} answered, p50 {ok[len(ok)//2]:.0f} ms, "
          f"max {ok[-1]:.0f} ms (API -> other node -> charger -> back, charger included)")
else:
    print(f"commands across nodes: none of {len(rows)} answered: {[c for c, _ in rows]}")
EOF

echo "postgresql, steady window and commands: the statements that took most time"
pg_top

# the figures are taken: the fleet drains now (SIGTERM: stop sessions, report) rather than
# running out a duration sized for the longest boot
kill -TERM "$sim_pid" 2>/dev/null || true
wait "$sim_pid" || echo "city: cpsim exited with $?" >&2
python3 - "$d/report.json" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    sys.exit(f"city: no simulator report ({e})")
b = r.get("boots", {})
c = r["connections"]
print(f"simulator: {c.get('made')} connections made ({c.get('failed')} attempts failed and retried, "
      f"{c.get('lost')} lost); all booted at {b.get('all_booted_s')} s")
calls = r.get("calls", {})
for name in sorted(calls, key=lambda k: -calls[k].get("results", 0))[:8]:
    c = calls[name]; lat = c.get("latency", {})
    print(f"  {name:<26} {c.get('results', 0):>9} answered, p50 {lat.get('p50_ms', 0):.1f} ms, "
          f"p99 {lat.get('p99_ms', 0):.1f} ms")
EOF

