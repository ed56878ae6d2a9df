/* SPDX-License-Identifier: MIT */
/* What the simulator integration tests share: setting up a fleet and its CSMS, running cpsim
 * and reading its output. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct csms_proc;
struct sqlite3;

int64_t simrun_now_ms(void);
void simrun_fmt_utc(int64_t ms, char buf[32]);
/* Start argv (argv[0] a path) with output appended to log. 0 or -errno. */
int simrun_spawn(const char *const *argv, const char *log, pid_t *ret_pid);
/* Wait up to max_s for pid; its exit status, 128+signal, or -ETIMEDOUT (then SIGKILLed). */
int simrun_wait_child(pid_t pid, int max_s);
int simrun_child_done(pid_t pid, int *ret_status);
void simrun_dump_file(const char *path);
/* The first column of the first row of the query printf(fmt, …) as an integer, -1 if there is
 * no row; a query that does not prepare fails the test (with the SQL and SQLite's message). */
long long simrun_q1(struct sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A key of the CSMS config that a fleet's set-up writes over what cpsim emitted. */
struct simrun_key {
	const char *name;
	json_int_t value;
};

/* `csms tariffs import <file> --db <db> --site-kinds <site_kinds>` */
struct simrun_tariff {
	const char *file, *site_kinds;
};

/* How a simulated fleet and the CSMS under test are set up (simrun_fleet_emit(), then
 * simrun_fleet_start()). Paths are the caller's, usually in the csms_proc's directory. */
struct simrun_fleet {
	const char *cpsim;	      /* the simulator ($CPSIM_BIN) */
	const char *scenario;	      /* its scenario file */
	const char *const *emit_args; /* more arguments of the emitting run, NULL-ended, or NULL */
	const char *stations;	      /* where cpsim writes the stations CSV (--emit-stations) */
	const char *tokens;	      /* where cpsim writes its config, id tokens (--emit-config) */
	const char *log;	      /* cpsim's output is appended here */
	const char *import; /* the CSV that `csms stations import` reads; NULL: stations */
	const struct simrun_key *keys; /* set over the emitted config, ended by a NULL name */
	/* calendars imported after the stations, ended by a NULL file; may be NULL */
	const struct simrun_tariff *tariffs;
	/* the demo clock (--clock-start, --clock-speed, --clock-anchor); NULL start: real time */
	const char *clock_start, *clock_anchor;
	int clock_speed;
};

/*
** Run `cpsim --scenario <scenario> <emit_args…> --emit-stations <stations> --emit-config
** <tokens>` to completion (10 s at most), its output appended to log.  0, its exit status
** (> 0), or < 0 (-ETIMEDOUT, -errno).
*/
int simrun_fleet_emit(const struct simrun_fleet *f);

/*
** After simrun_fleet_emit(): write p->config as the emitted config with f->keys set, run
** `csms stations import <import or stations> --config <p->config> --db <p->db>` and then
** the tariff imports, and launch the server (on the demo clock if f->clock_start).  0, or < 0 with
** the step that failed on stderr.
*/
int simrun_fleet_start(struct csms_proc *p, const struct simrun_fleet *f);
