#!/bin/sh
# SPDX-License-Identifier: MIT
# A throw-away PostgreSQL cluster for the tests: initdb in a temp dir as an unprivileged user
# (PostgreSQL refuses to run as root: as root the cluster runs as "postgres" through runuser),
# a unix socket in that dir, a random port on 127.0.0.1, fsync and synchronous_commit on.
#
#   tests/pg/pgtmp.sh CMD [ARG...]   start it, run CMD with CSMS_TEST_PG_DSN set to its DSN
#                                    (TCP; CSMS_TEST_PG_SOCKET_DSN: through the unix socket),
#                                    stop it and remove it; exit with CMD's status
#   tests/pg/pgtmp.sh                start it, print the DSN, keep it until Ctrl-C / SIGTERM
#
# Exit 77 (meson's SKIP) with one line on stderr if PostgreSQL's server binaries are missing.
# PG_BINDIR overrides where initdb and pg_ctl are looked up. PGTMP_OPTS adds server options
# (benchmarks: "-c shared_buffers=1GB -c shared_preload_libraries=pg_stat_statements").
set -u

say() { printf 'pgtmp: %s\n' "$*" >&2; }

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir=$d
	done
fi
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
	bindir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
	say "SKIP: PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql (./dev does)"
	exit 77
fi

# As root, run the server as an unprivileged user that owns the temp dir.
run_as=
if [ "$(id -u)" = 0 ]; then
	for u in postgres nobody; do
		if id -u "$u" >/dev/null 2>&1; then run_as=$u; break; fi
	done
	if [ -z "$run_as" ] || ! command -v runuser >/dev/null 2>&1; then
		say "SKIP: running as root without a \"postgres\" user or runuser to start PostgreSQL as"
		exit 77
	fi
fi
as_pg() {
	if [ -n "$run_as" ]; then runuser -u "$run_as" -- "$@"; else "$@"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/csms-pg-XXXXXX") || exit 1
chmod 700 "$tmp"
[ -n "$run_as" ] && chown "$run_as" "$tmp"
pid=

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null # fast shutdown
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! as_pg "$bindir/initdb" -D "$tmp/data" -U csms --auth=trust -E UTF8 --no-locale \
	>"$tmp/initdb.log" 2>&1; then
	say "initdb failed:"; cat "$tmp/initdb.log" >&2
	exit 1
fi

port=
for attempt in 1 2 3 4 5 6 7 8; do
	p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))
	if as_pg "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $p -k $tmp -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=50 ${PGTMP_OPTS:-}" \
		start >/dev/null 2>&1; then
		port=$p
		break
	fi
	say "port $p: start failed (attempt $attempt)"
done
if [ -z "$port" ]; then
	say "could not start PostgreSQL; its log:"; cat "$tmp/server.log" >&2
	exit 1
fi
pid=$(head -n 1 "$tmp/data/postmaster.pid")

CSMS_TEST_PG_DSN="postgresql://csms@127.0.0.1:$port/postgres"
# the same database through the unix socket (no TCP)
CSMS_TEST_PG_SOCKET_DSN="postgresql://csms@/postgres?host=$tmp&port=$port"
export CSMS_TEST_PG_DSN CSMS_TEST_PG_SOCKET_DSN

if [ $# -eq 0 ]; then
	echo "$CSMS_TEST_PG_DSN"
	say "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $NF}') pid $pid in $tmp; Ctrl-C stops and removes it"
	while kill -0 "$pid" 2>/dev/null; do sleep 1; done
	exit 1
fi

"$@"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -n "${PGTMP_LOG:-}" ]; then
	cat "$tmp/server.log" >&2
fi
exit $rc
