#!/bin/sh
# SPDX-License-Identifier: MIT
# The REST API at scale: a DB with 165,000 stations and 1,000,000 sessions (bench/api-gen.py),
# then the response time of a 100-row station page and of filtered session pages through the
# real server (curl, 5 runs each, best and median). Usage: bench/api-scale.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CSMS=$BUILD/csms/csms
DIR=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
STATIONS=${STATIONS:-165000}
SESSIONS=${SESSIONS:-1000000}
# migrate an empty DB with csms itself, then fill it
$CSMS --listen 127.0.0.1:0 --port-file "$DIR/port" --db "$DIR/db" --log-level err & PID=$!
while [ ! -s "$DIR/port" ]; do sleep 0.1; done
kill $PID; wait $PID || true
t0=$(date +%s)
python3 "$SRC/bench/api-gen.py" "$DIR/db" "$STATIONS" "$SESSIONS"
echo "generated $STATIONS stations, $SESSIONS sessions in $(( $(date +%s) - t0 )) s ($(du -h "$DIR/db" | cut -f1))"
rm -f "$DIR/port"
# the API is locked: an admin account, then an API token for curl
head -c 24 /dev/urandom | base64 >"$DIR/password"
$CSMS users add bench --role admin --password-file "$DIR/password" --db "$DIR/db" >/dev/null
$CSMS --listen 127.0.0.1:0 --port-file "$DIR/port" --db "$DIR/db" --log-level err & PID=$!
while [ ! -s "$DIR/port" ]; do sleep 0.1; done
BASE=http://127.0.0.1:$(cat "$DIR/port")
TOKEN=$(python3 "$SRC/bench/live-client.py" --port "$(cat "$DIR/port")" --login bench \
	--password-file "$DIR/password" --make-token)
time_it() { # name path
	ts=""
	for i in 1 2 3 4 5; do
		ts="$ts $(curl -s -o "$DIR/out" -H "Authorization: Bearer $TOKEN" -w '%{time_total}' "$BASE$2")"
	done
	printf '%-44s %s ms (best), %s ms (median), %s bytes\n' "$1" \
		"$(echo $ts | tr ' ' '\n' | sort -n | head -1 | awk '{printf "%.1f", $1*1000}')" \
		"$(echo $ts | tr ' ' '\n' | sort -n | sed -n 3p | awk '{printf "%.1f", $1*1000}')" \
		"$(wc -c < "$DIR/out")"
}
time_it "stations, first 100 (+ total)" "/api/stations?limit=100"
time_it "stations, page 800 (offset 80000)" "/api/stations?limit=100&offset=80000"
time_it "stations, keyset after QD-100000" "/api/stations?limit=100&after=QD-100000"
time_it "stations, kind=rural online=true" "/api/stations?limit=100&kind=rural&online=true"
time_it "stations, q=QD-1234 (id prefix)" "/api/stations?limit=100&q=QD-1234"
time_it "stations, status=Faulted sort=last_seen" "/api/stations?limit=100&status=Faulted&sort=last_seen&order=desc"
FROM=$(python3 -c 'import time;print(time.strftime("%Y-%m-%dT%H:%M:%SZ",time.gmtime(time.time()-86400)))')
time_it "sessions, first 100 (total capped)" "/api/sessions?limit=100"
time_it "sessions, last day (from=)" "/api/sessions?limit=100&from=$FROM"
time_it "sessions, station=QD-004242" "/api/sessions?limit=100&station=QD-004242"
time_it "sessions, site=SITE-00042" "/api/sessions?limit=100&site=SITE-00042"
time_it "sessions, token=TAG-00042" "/api/sessions?limit=100&token=TAG-00042"
time_it "summary" "/api/summary"
echo "csms RSS: $(ps -o rss= -p $PID) kB"
