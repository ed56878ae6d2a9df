/* SPDX-License-Identifier: MIT */
/*
** A demo day is physically true: the real csms (SQLite) and a cpsim fleet of every site kind
** and both protocol versions on one accelerated demo clock, then checks on what the database
** holds, computed from the stored energy registers alone:
**   - per site and 15-minute slot of simulated time, the power drawn never exceeds the sum of
**     the site's charger ratings (cpsim --emit-ratings), nor the site limit where one is set;
**   - no stored timestamp lies in the real future beyond a clock-skew allowance, while the
**     simulated clock is behind real time by construction (as in tools/demo.sh);
**   - energy per tariff tier adds up to the sessions' total: with the demo's calendars assigned
**     (tools/demo.sh: commercial for public/rural/swap, residential for residential sites),
**     every session's CDR (GET /api/sessions/{id}/cdr) has tiers that add up to its register
**     difference, and per kind the tiers add up to the energy from the registers above.
** DEMO_DAY_TIMESTAMPS=wall runs the fleet with wall-clock timestamps (the old demo: a simulated
** hour of charging stamped into a few real seconds) to see the power check fail.
*/
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "harness.h"
#include "simrun.h"

#define SPEED	    900 /* simulated seconds per real second: 15 simulated min a second */
#define RUN_S	    36	/* load phase: 9 simulated hours, local 16:00 to 01:00 */
#define DRAIN_S	    10
#define CPSIM_MAX_S 90	     /* the whole cpsim run, or it is killed */
#define SLOT_MS	    900000LL /* 15 minutes of simulated time */
#define SKEW_MS	    300000LL /* clock-skew allowance for "not in the real future" */
#define TOLERANCE   1.02     /* whole-Wh registers and ms stamps: 2 % above a rating fails */
#define UTC_OFFSET  "+08:00" /* the city is in China */
#define SITES_MAX   64
#define KINDS	    4

static const char *const kinds[KINDS] = {"public", "residential", "rural", "swap"};

struct site {
	char id[40];
	int kind;	 /* index into kinds[] */
	double rated_kw; /* sum of its chargers' rated_kw */
	double limit_kw; /* sites.limit_kw, or 0 when none is set */
	double *slot_wh; /* energy imported per slot */
	double peak_kw;
};

struct station {
	char id[40];
	int site;
};

static struct site sites[SITES_MAX];
static struct station stations[SITES_MAX * 8];
static int nsites, nstations;

static int kind_index(const char *k)
{
	for (int i = 0; i < KINDS; i++)
		if (k && !strcmp(k, kinds[i]))
			return i;
	return -1;
}

static int station_site(const char *id)
{
	for (int i = 0; i < nstations; i++)
		if (!strcmp(stations[i].id, id))
			return stations[i].site;
	return -1;
}

/* The fleet's ratings (cpsim --emit-ratings) into sites[] and stations[]. */
static void load_ratings(const char *path)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *c;
	size_t i;

	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "utc_offset")), UTC_OFFSET);
	json_array_foreach(json_object_get(root, "chargers"), i, c) {
		const char *site = json_string_value(json_object_get(c, "site"));
		double kw = json_number_value(json_object_get(c, "rated_kw"));
		int s;

		assert_non_null(site);
		assert_true(kw > 0);
		for (s = 0; s < nsites && strcmp(sites[s].id, site); s++)
			;
		if (s == nsites) {
			assert_true(nsites < SITES_MAX);
			snprintf(sites[s].id, sizeof(sites[s].id), "%s", site);
			sites[s].kind = kind_index(json_string_value(json_object_get(c, "kind")));
			assert_true(sites[s].kind >= 0);
			nsites++;
		}
		sites[s].rated_kw += kw;
		assert_true(nstations < (int)(sizeof(stations) / sizeof(stations[0])));
		snprintf(stations[nstations].id, sizeof(stations[nstations].id), "%s",
			 json_string_value(json_object_get(c, "id")));
		stations[nstations++].site = s;
	}
	json_decref(root);
}

/* Spread the energy de (Wh) imported between t0 and t1 over the 15-minute slots it covers. */
static void spread(struct site *s, int64_t base, int nslots, int64_t t0, int64_t t1, double de)
{
	if (t1 <= t0) { /* energy without time: all of it in one slot (infinite power) */
		int k = (int)((t0 - base) / SLOT_MS);

		assert_true(k >= 0 && k < nslots);
		s->slot_wh[k] += de;
		return;
	}
	for (int64_t a = t0; a < t1;) {
		int k = (int)((a - base) / SLOT_MS);
		int64_t end = base + (int64_t)(k + 1) * SLOT_MS;
		int64_t b = end < t1 ? end : t1;

		assert_true(k >= 0 && k < nslots);
		s->slot_wh[k] += de * (double)(b - a) / (double)(t1 - t0);
		a = b;
	}
}

/*
** Per session, its energy import register over time: the samples stored with it plus the
** start and stop readings. Consecutive readings give energy over an interval, spread over
** the slots of the session's site. Returns the energy per kind (Wh) and sessions per kind.
*/
static void site_power_from_registers(sqlite3 *db, double kind_wh[KINDS], int kind_sessions[KINDS])
{
	static const char *const sql =
	    "SELECT session_id, station_id, ts_ms, max(wh) FROM ("
	    " SELECT m.session_id, s.station_id, m.ts_ms,"
	    "  CAST(m.value AS REAL) * (CASE WHEN m.unit = 'kWh' THEN 1000 ELSE 1 END) AS wh"
	    " FROM meter_values m JOIN sessions s ON s.id = m.session_id"
	    " WHERE m.measurand = 'Energy.Active.Import.Register' AND m.phase = ''"
	    " UNION ALL SELECT id, station_id, start_ms, meter_start_wh FROM sessions"
	    "  WHERE meter_start_wh IS NOT NULL"
	    " UNION ALL SELECT id, station_id, stop_ms, meter_stop_wh FROM sessions"
	    "  WHERE meter_stop_wh IS NOT NULL AND stop_ms IS NOT NULL)"
	    " GROUP BY session_id, ts_ms ORDER BY session_id, ts_ms";
	int64_t lo =
	    simrun_q1(db, "SELECT min(ts_ms) FROM (SELECT ts_ms FROM meter_values UNION ALL"
			  " SELECT start_ms FROM sessions)");
	int64_t hi =
	    simrun_q1(db, "SELECT max(ts_ms) FROM (SELECT ts_ms FROM meter_values UNION ALL"
			  " SELECT coalesce(stop_ms, start_ms) FROM sessions)");
	int64_t base = lo - lo % SLOT_MS, prev_sess = -1, prev_t = 0;
	int nslots, site = -1;
	double prev_wh = 0;
	sqlite3_stmt *st;

	assert_true(lo > 0 && hi >= lo);
	nslots = (int)((hi - base) / SLOT_MS) + 1;
	assert_true(nslots < 24 * 4 * 7); /* a week of slots at most */
	for (int s = 0; s < nsites; s++) {
		sites[s].slot_wh = calloc((size_t)nslots, sizeof(double));
		assert_non_null(sites[s].slot_wh);
	}
	for (int k = 0; k < KINDS; k++) {
		kind_wh[k] = 0;
		kind_sessions[k] = 0;
	}
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t sess = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 2);
		double wh = sqlite3_column_double(st, 3);

		if (sess != prev_sess) {
			site = station_site((const char *)sqlite3_column_text(st, 1));
			assert_true(site >= 0);
			kind_sessions[sites[site].kind]++;
		} else {
			/* registers never go backwards */
			assert_true(wh >= prev_wh);
			spread(&sites[site], base, nslots, prev_t, t, wh - prev_wh);
			kind_wh[sites[site].kind] += wh - prev_wh;
		}
		prev_sess = sess;
		prev_t = t;
		prev_wh = wh;
	}
	sqlite3_finalize(st);
	for (int s = 0; s < nsites; s++) {
		sites[s].peak_kw = 0;
		for (int k = 0; k < nslots; k++) {
			double kw = sites[s].slot_wh[k] / 1000.0 / 0.25;

			if (kw > sites[s].peak_kw)
				sites[s].peak_kw = kw;
		}
	}
}

static void load_limits(sqlite3 *db)
{
	sqlite3_stmt *st;

	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT id, limit_kw FROM sites WHERE limit_kw IS NOT NULL", -1,
			       &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		for (int s = 0; s < nsites; s++)
			if (!strcmp(sites[s].id, id))
				sites[s].limit_kw = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
}

static void test_demo_day_is_physically_true(void **state)
{
	const char *cpsim = getenv("CPSIM_BIN");
	const char *stamps = getenv("DEMO_DAY_TIMESTAMPS");
	char scen[400], csv[400], ratings[400], tokens[400], report[400], log[400], url[128];
	char start[32], anchor[32];
	/* the demo's calendars, as tools/demo.sh assigns them */
	static const struct simrun_tariff tariffs[] = {
	    {TOP_SRCDIR "/docs/tariffs/example-shandong-commercial.json", "public,rural,swap"},
	    {TOP_SRCDIR "/docs/tariffs/example-shandong-residential.json", "residential"},
	    {NULL, NULL}};
	const char *emit_ratings[] = {"--emit-ratings", ratings, NULL};
	static const struct simrun_key keys[] = {{"heartbeat_interval_s", 30},
						 {"pending_interval_s", 1},
						 {"kdf_iterations", 10},
						 {NULL, 0}};
	struct simrun_fleet fleet = {.cpsim = cpsim,
				     .scenario = scen,
				     .emit_args = emit_ratings,
				     .stations = csv,
				     .tokens = tokens,
				     .log = log,
				     .keys = keys,
				     .tariffs = tariffs,
				     .clock_start = start,
				     .clock_anchor = anchor,
				     .clock_speed = SPEED};
	double kind_wh[KINDS], peak_kw[KINDS], rated_kw[KINDS];
	int kind_sessions[KINDS], failures = 0;
	int64_t t_anchor, t_start, t_end;
	struct csms_proc *p;
	json_t *health;
	sqlite3 *db;
	pid_t pid = 0;
	FILE *f;
	int r;

	(void)state;
	if (!cpsim || !*cpsim)
		skip();
	if (!stamps || !*stamps)
		stamps = "sim";
	p = csms_prepare("{}");
	assert_non_null(p);
	snprintf(scen, sizeof(scen), "%s/scenario.json", p->dir);
	snprintf(csv, sizeof(csv), "%s/stations.csv", p->dir);
	snprintf(ratings, sizeof(ratings), "%s/ratings.json", p->dir);
	snprintf(tokens, sizeof(tokens), "%s/tokens.json", p->dir);
	snprintf(report, sizeof(report), "%s/report.json", p->dir);
	snprintf(log, sizeof(log), "%s/cpsim.log", p->dir);

	/* one demo clock for both: the simulated day starts at 16:00 local time (08:00 UTC) two
	 * days ago, so the evening comes within the run and the simulated clock stays behind real
	 * time by construction; anchored now, before either process starts */
	t_anchor = simrun_now_ms() / 1000 * 1000;
	t_start = (t_anchor / 86400000 - 2) * 86400000 + 8 * 3600000LL;
	simrun_fmt_utc(t_anchor, anchor);
	simrun_fmt_utc(t_start, start);
	f = fopen(scen, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"id_prefix\": \"DD\", \"speed\": %d, \"start_time\": \"%s\","
		" \"clock_anchor\": \"%s\", \"timestamps\": \"%s\", \"utc_offset\": \"%s\","
		" \"duration_s\": %d, \"drain_s\": %d, \"meter_interval_s\": 1, \"ramp_per_s\": 40,"
		" \"seed\": 13, \"tag_pool\": 40, \"password\": \"demo-day-password-01\","
		" \"reconnect_s\": [0.2, 2], \"faults\": {\"drop_per_hour\": 0.05},"
		" \"groups\": ["
		"  {\"kind\": \"public\", \"count\": 12, \"protocol\": \"mixed\"},"
		"  {\"kind\": \"residential\", \"count\": 16, \"protocol\": \"mixed\"},"
		"  {\"kind\": \"rural\", \"count\": 6, \"protocol\": \"mixed\"},"
		"  {\"kind\": \"swap\", \"count\": 2, \"protocol\": \"mixed\"}]}\n",
		SPEED, start, anchor, stamps, UTC_OFFSET, RUN_S, DRAIN_S);
	fclose(f);

	/* the CSMS learns the fleet (stations, tokens); the test learns its ratings */
	assert_int_equal(simrun_fleet_emit(&fleet), 0);
	load_ratings(ratings);
	assert_int_equal(simrun_fleet_start(p, &fleet), 0);

	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ocpp", p->port);
	{
		const char *argv[] = {cpsim, "--scenario",  scen,   "--url",
				      url,   "--json-file", report, "--progress-interval",
				      "10",  NULL};

		assert_int_equal(simrun_spawn(argv, log, &pid), 0);
	}
	r = simrun_wait_child(pid, CPSIM_MAX_S);
	if (r != 0)
		simrun_dump_file(log);
	assert_int_equal(r, 0);

	/* the CSMS runs on the demo clock, behind real time by construction */
	health = http_get_json(p->port, "/api/health");
	assert_non_null(health);
	assert_int_equal(json_integer_value(json_object_get(health, "clock_speed")), SPEED);
	assert_true(rfc3339_age_s(json_string_value(json_object_get(health, "time"))) > 3600);
	json_decref(health);
	assert_int_equal(csms_stop(p), 0);
	t_end = simrun_now_ms();

	assert_int_equal(sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	/* every kind and both protocol versions had sessions, all of them stopped */
	assert_int_equal(simrun_q1(db, "SELECT count(*) FROM sessions WHERE stop_ms IS NULL"), 0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM sessions WHERE station_tx_id IS NOT NULL") >
		    0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM sessions WHERE station_tx_id IS NULL") > 0);

	/* no stored time in the real future beyond the skew allowance */
	assert_int_equal(
	    simrun_q1(db,
		      "SELECT count(*) FROM (SELECT ts_ms AS t FROM meter_values UNION ALL"
		      " SELECT start_ms FROM sessions UNION ALL SELECT stop_ms FROM sessions)"
		      " WHERE t > %lld",
		      (long long)(t_end + SKEW_MS)),
	    0);

	/* per site, power from the stored registers over 15-minute slots of simulated time */
	load_limits(db);
	site_power_from_registers(db, kind_wh, kind_sessions);
	for (int k = 0; k < KINDS; k++)
		peak_kw[k] = rated_kw[k] = 0;
	for (int s = 0; s < nsites; s++) {
		const struct site *si = &sites[s];

		if (si->peak_kw > peak_kw[si->kind]) {
			peak_kw[si->kind] = si->peak_kw;
			rated_kw[si->kind] = si->rated_kw;
		}
		if (si->peak_kw > si->rated_kw * TOLERANCE) {
			fprintf(stderr,
				"site %s (%s): %.1f kW over a 15-minute slot, rated %.1f kW\n",
				si->id, kinds[si->kind], si->peak_kw, si->rated_kw);
			failures++;
		}
		if (si->limit_kw > 0 && si->peak_kw > si->limit_kw * TOLERANCE) {
			fprintf(stderr,
				"site %s (%s): %.1f kW over a 15-minute slot, limit %.1f kW\n",
				si->id, kinds[si->kind], si->peak_kw, si->limit_kw);
			failures++;
		}
	}
	printf("demo day at %dx, %d real s, timestamps %s, %d sites (%d with a limit)\n", SPEED,
	       RUN_S, stamps, nsites,
	       (int)simrun_q1(db, "SELECT count(*) FROM sites WHERE limit_kw IS NOT NULL"));
	printf("%-12s %10s %12s %10s %9s\n", "kind", "peak kW", "its rating", "kWh", "sessions");
	for (int k = 0; k < KINDS; k++)
		printf("%-12s %10.1f %12.1f %10.1f %9d\n", kinds[k], peak_kw[k], rated_kw[k],
		       kind_wh[k] / 1000.0, kind_sessions[k]);
	for (int k = 0; k < KINDS; k++) {
		assert_true(kind_sessions[k] > 0);
		assert_true(kind_wh[k] > 0);
	}
	assert_int_equal(failures, 0);

	/* energy per tariff tier adds up to the sessions' total: per session, the CDR's tiers
	 * add up to its register difference; per kind, to kind_wh[] above (1 Wh of rounding of
	 * a kWh reading per session at most) */
	assert_int_equal(csms_restart(p), 0);
	{
		double tier_wh[KINDS] = {0};
		int ncdr = 0;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db,
						    "SELECT id, meter_start_wh, meter_stop_wh"
						    " FROM sessions ORDER BY id",
						    -1, &st, NULL),
				 SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char path[64];
			json_t *cdr, *tiers, *t;
			json_int_t sum = 0;
			size_t i;
			int site = -1;

			snprintf(path, sizeof(path), "/api/sessions/%lld/cdr",
				 (long long)sqlite3_column_int64(st, 0));
			cdr = http_get_json(p->port, path);
			if (!cdr)
				fail_msg("GET %s: no CDR", path);
			tiers = json_object_get(cdr, "tiers");
			assert_int_equal(json_array_size(tiers), 5);
			json_array_foreach(tiers, i, t)
				sum += json_integer_value(json_object_get(t, "wh"));
			assert_int_equal(sum,
					 json_integer_value(json_object_get(cdr, "import_wh")));
			if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
			    sqlite3_column_type(st, 2) != SQLITE_NULL &&
			    json_integer_value(
				json_object_get(json_object_get(cdr, "readings"), "dropped")) == 0)
				assert_int_equal(sum, sqlite3_column_int64(st, 2) -
							  sqlite3_column_int64(st, 1));
			for (int s = 0; s < nsites; s++)
				if (strcmp(sites[s].id,
					   json_string_value(json_object_get(cdr, "site"))) == 0)
					site = s;
			assert_true(site >= 0);
			tier_wh[sites[site].kind] += (double)sum;
			ncdr++;
			json_decref(cdr);
		}
		sqlite3_finalize(st);
		assert_true(ncdr > 0);
		for (int k = 0; k < KINDS; k++) {
			printf("%-12s tiers add up to %.1f kWh (registers %.1f kWh)\n", kinds[k],
			       tier_wh[k] / 1000.0, kind_wh[k] / 1000.0);
			assert_true(tier_wh[k] - kind_wh[k] <= kind_sessions[k] &&
				    kind_wh[k] - tier_wh[k] <= kind_sessions[k]);
		}
	}
	assert_int_equal(csms_stop(p), 0);

	sqlite3_close(db);
	for (int s = 0; s < nsites; s++)
		free(sites[s].slot_wh);
	csms_pass(p);
	csms_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_day_is_physically_true),
	};

	return cmocka_run_group_tests_name("demo-day", tests, NULL, NULL);
}
