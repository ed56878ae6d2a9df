/* SPDX-License-Identifier: MIT */
/*
** Battery-swap stations through simulated days (docs/swap.md): the real csms and a cpsim fleet
** of swap stations in both protocol versions (port heavy trucks: 282 kWh packs, 12 slots of
** 120 kW stated in each swap event (PORT_SLOTS, under the sanitizers too), trucks in waves of
** 4-6 at the 06/14/22 h shift changes; and vans, 4 slots of 60 kW) on one accelerated demo
** clock, from local midnight for two days (the first teaches the demand forecast, the second
** is reported). The rack is planned by the planner (a "ready by" need per racked pack, valley
** otherwise), priced by the demo's commercial calendar. Checked from the store and the API:
**   - every swap order is complete (both events of its requestId) unless it began in the last
**     simulated hour, and each complete order is billed: delta = energy out - energy in, the
**     tier and price of the calendar at the time of swap, cost = delta x price;
**   - every truck whose swap was promised (a pack was forecast ready) got at least that SoC;
**   - both protocol versions swapped; packs are records with SoH history, low-SoH ones flagged;
**   - the day report of each port station (swaps, packs ready on time, energy by tier) agrees
**     with its orders, and the rack's charging by tier from the stored registers is printed
**     with its valley share: the rack charges mostly in the valley (valley and deep valley
**     hold a majority of it), and peak and critical peak at most 12 %;
**   - a booking at each port station, requested through the API (RequestBatterySwap), is
**     swapped under its request id: the order carries the booking, which is served.
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

#define SPEED	      2700 /* simulated seconds per real second: 45 simulated min a second */
#define RUN_S	      64   /* 48 simulated hours */
#define DRAIN_S	      4
#define CPSIM_MAX_S   60
#define DAY_MS	      86400000LL
#define HOUR_MS	      3600000LL
#define UTC_OFFSET_MS (8 * HOUR_MS)
#define CALENDAR      TOP_SRCDIR "/docs/tariffs/example-shandong-commercial.json"
/*
** A port rack: 12 slots, more packs than a wave of 4-6 trucks takes, so packs charged in the
** valley serve the next waves; valley and deep valley then hold at least 50 % of its charging
** (runs seen on gcc: 59-84 %, docs/swap.md). Under the sanitizers the racks have 12 slots too
** since the planner sends a TxProfile only when it changed (about half the SetChargingProfile
** of before, docs/v2g.md); with every profile re-sent at each replan the stations' calls
** reached the CSMS hours (simulated) late there (racks of 8 then). The share is printed, not
** asserted, under the sanitizers.
*/
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#define PORT_SLOTS 12
#ifndef SANITIZED
#define VALLEY_SHARE_MIN 0.50
#endif

static void fmt_local_date(int64_t ms, char buf[16])
{
	time_t t = (time_t)((ms + UTC_OFFSET_MS) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
}

/* The tier and import + service price of the calendar at t (autumn, the only season run). */
static const char *autumn_tier(int64_t t, long long *price)
{
	static const struct {
		int from_h, to_h;
		const char *tier;
		long long import;
	} w[] = {
	    {0, 10, "flat", 65000},
	    {10, 11, "valley", 19500},
	    {11, 14, "deep_valley", 6500},
	    {14, 15, "valley", 19500},
	    {15, 17, "flat", 65000},
	    {17, 18, "peak", 110500},
	    {18, 20, "critical_peak", 130000},
	    {20, 22, "peak", 110500},
	    {22, 24, "flat", 65000},
	};
	int h = (int)(((t + UTC_OFFSET_MS) % DAY_MS) / HOUR_MS);

	for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (h >= w[i].from_h && h < w[i].to_h) {
			*price = w[i].import + 40000;
			return w[i].tier;
		}
	return NULL;
}

/* Energy the rack drew by tier from the stored import registers of station_id's sessions in
 * [from, to): consecutive readings of each session, attributed to the tier at their midpoint. */
static void rack_energy(sqlite3 *db, const char *station_id, int64_t from, int64_t to,
			double by_tier[5], double *total)
{
	static const char *const names[5] = {"deep_valley", "valley", "flat", "peak",
					     "critical_peak"};
	const char *sql =
	    "SELECT session_id, ts_ms, max(wh) FROM ("
	    " SELECT m.session_id, m.ts_ms,"
	    "  CAST(m.value AS REAL) * (CASE WHEN m.unit = 'kWh' THEN 1000 ELSE 1 END) AS wh"
	    " FROM meter_values m JOIN sessions s ON s.id = m.session_id"
	    " WHERE s.station_id = ?1 AND m.measurand = 'Energy.Active.Import.Register'"
	    "  AND m.phase = ''"
	    " UNION ALL SELECT id, start_ms, meter_start_wh FROM sessions"
	    "  WHERE station_id = ?1 AND meter_start_wh IS NOT NULL"
	    " UNION ALL SELECT id, stop_ms, meter_stop_wh FROM sessions"
	    "  WHERE station_id = ?1 AND meter_stop_wh IS NOT NULL AND stop_ms IS NOT NULL)"
	    " GROUP BY session_id, ts_ms ORDER BY session_id, ts_ms";
	sqlite3_stmt *st;
	int64_t prev_s = -1, prev_t = 0;
	double prev_wh = 0;

	for (int k = 0; k < 5; k++)
		by_tier[k] = 0;
	*total = 0;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, station_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t s = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
		double wh = sqlite3_column_double(st, 2);

		if (s == prev_s && t > prev_t) {
			int64_t mid = prev_t + (t - prev_t) / 2;
			long long price;
			const char *tier = autumn_tier(mid, &price);

			if (mid >= from && mid < to && tier && wh > prev_wh) {
				for (int k = 0; k < 5; k++)
					if (!strcmp(tier, names[k]))
						by_tier[k] += wh - prev_wh;
				*total += wh - prev_wh;
			}
		}
		prev_s = s;
		prev_t = t;
		prev_wh = wh;
	}
	sqlite3_finalize(st);
}

static void check_orders(sqlite3 *db, int64_t end_ms, int *ret_promised, int *ret_kept)
{
	sqlite3_stmt *st;
	int promised = 0, kept = 0, n = 0;

	/* every order is complete unless it began in the last simulated hour */
	assert_int_equal(simrun_q1(db,
				   "SELECT count(*) FROM swap_orders WHERE state != 'complete'"
				   " AND created_ms < %lld",
				   (long long)(end_ms - HOUR_MS)),
			 0);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT done_ms, energy_out_wh, energy_in_wh, delta_wh,"
			       " tier, price_fen_per_mwh, cost_fen, promised_soc,"
			       " soc_out, packs_out, packs_in, vehicle FROM swap_orders"
			       " WHERE state = 'complete'",
			       -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t done = sqlite3_column_int64(st, 0);
		long long out = sqlite3_column_int64(st, 1), in = sqlite3_column_int64(st, 2);
		long long delta = sqlite3_column_int64(st, 3), price, want_price;
		const char *tier = (const char *)sqlite3_column_text(st, 4);
		const char *want = autumn_tier(done, &want_price);
		double promise = sqlite3_column_double(st, 7),
		       soc_out = sqlite3_column_double(st, 8);
		long long cost = sqlite3_column_int64(st, 6), num;

		n++;
		assert_true(out > 0 && in > 0);
		assert_true(sqlite3_column_bytes(st, 9) > 0 && sqlite3_column_bytes(st, 10) > 0);
		assert_true(sqlite3_column_bytes(st, 11) > 0);
		/* billed: the energy difference at the tier of the time of swap */
		assert_int_equal(delta, out - in);
		assert_non_null(want);
		assert_string_equal(tier, want);
		price = sqlite3_column_int64(st, 5);
		assert_int_equal(price, want_price);
		num = delta * price;
		assert_int_equal(cost, num >= 0 ? (num + 500000) / 1000000
						: -((-num + 500000) / 1000000));
		if (promise >= 0) {
			promised++;
			/* SoC is reported in tenths: a pack charged to the promise may read 0.1 under */
			if (soc_out + 0.1 + 1e-9 >= promise)
				kept++;
			else
				fprintf(stderr, "promised %.0f %%, got %.1f %% at %lld\n", promise,
					soc_out, (long long)done);
		}
	}
	sqlite3_finalize(st);
	assert_true(n > 0);
	*ret_promised = promised;
	*ret_kept = kept;
}

static void test_swap_day(void **state)
{
	const char *cpsim = getenv("CPSIM_BIN");
	char scen[400], csv[400], tokens[400], report[400], log[400], url[128], path[256];
	char start[32], anchor[32], day2[16];
	static const char *const ports[2] = {"SW-W-000000", "SW-W-000002"};
	int64_t t_anchor, t_start, t_day2;
	int promised, kept;
	json_int_t booking[2];
	struct csms_proc *p;
	sqlite3 *db;
	pid_t pid = 0;
	FILE *f;
	int r;

	(void)state;
	if (!cpsim || !*cpsim)
		skip();
	p = csms_prepare("{}");
	assert_non_null(p);
	snprintf(scen, sizeof(scen), "%s/scenario.json", p->dir);
	snprintf(csv, sizeof(csv), "%s/stations.csv", p->dir);
	snprintf(tokens, sizeof(tokens), "%s/tokens.json", p->dir);
	snprintf(report, sizeof(report), "%s/report.json", p->dir);
	snprintf(log, sizeof(log), "%s/cpsim.log", p->dir);
	/* from local midnight (16:00 UTC) four days ago, two simulated days: always in the past,
	 * in the autumn shape of the calendar (the test knows its tiers) when run in autumn; the
	 * date is pinned below if today is not in autumn */
	t_anchor = simrun_now_ms() / 1000 * 1000;
	t_start = (t_anchor / DAY_MS - 4) * DAY_MS - UTC_OFFSET_MS;
	{
		time_t tt = (time_t)((t_start + UTC_OFFSET_MS) / 1000);
		struct tm tm;

		gmtime_r(&tt, &tm);
		if (!(tm.tm_mon + 1 >= 9 && tm.tm_mon + 1 <= 11) &&
		    !(tm.tm_mon + 1 >= 3 && tm.tm_mon + 1 <= 5)) {
			/* 2026-11-10 local midnight */
			struct tm pin = {.tm_year = 126, .tm_mon = 10, .tm_mday = 10};

			t_start = (int64_t)timegm(&pin) * 1000 - UTC_OFFSET_MS;
		}
	}
	t_day2 = t_start + DAY_MS;
	simrun_fmt_utc(t_anchor, anchor);
	simrun_fmt_utc(t_start, start);
	fmt_local_date(t_day2, day2);
	f = fopen(scen, "w");
	assert_non_null(f);
	/* charger index parity picks the fleet: 0 and 2 are port stations (1.6, 2.0.1; 120 kW
	 * slots, PORT_SLOTS), 1 vans (60 kW, 4 slots) */
	fprintf(
	    f,
	    "{\"id_prefix\": \"SW\", \"speed\": %d, \"start_time\": \"%s\","
	    " \"clock_anchor\": \"%s\", \"timestamps\": \"sim\", \"utc_offset\": \"+08:00\","
	    " \"duration_s\": %d, \"drain_s\": %d, \"meter_interval_s\": 1, \"ramp_per_s\": 40,"
	    " \"seed\": 7, \"tag_pool\": 40, \"password\": \"swap-day-password-01\","
	    " \"reconnect_s\": [0.2, 2],"
	    " \"groups\": ["
	    "  {\"kind\": \"swap\", \"count\": 1, \"protocol\": \"ocpp1.6\", \"power_kw\": 120,"
	    "   \"connectors\": %d},"
	    "  {\"kind\": \"swap\", \"count\": 1, \"protocol\": \"ocpp2.0.1\", \"power_kw\": 60,"
	    "   \"connectors\": 4},"
	    "  {\"kind\": \"swap\", \"count\": 1, \"protocol\": \"ocpp2.0.1\", \"power_kw\": 120,"
	    "   \"connectors\": %d}]}\n",
	    SPEED, start, anchor, RUN_S, DRAIN_S, PORT_SLOTS, PORT_SLOTS);
	fclose(f);
	/* at 2700x a rack of slots sends far more calls a second than a real station: lift the
	 * per-connection and per-station call rate limit (docs/security.md) for this run */
	static const struct simrun_key keys[] = {{"heartbeat_interval_s", 30},
						 {"kdf_iterations", 10},
						 {"call_rate_per_s", 5000},
						 {"call_burst", 50000},
						 {NULL, 0}};
	static const struct simrun_tariff tariffs[] = {{CALENDAR, "swap"}, {NULL, NULL}};
	struct simrun_fleet fleet = {.cpsim = cpsim,
				     .scenario = scen,
				     .stations = csv,
				     .tokens = tokens,
				     .log = log,
				     .keys = keys,
				     .tariffs = tariffs,
				     .clock_start = start,
				     .clock_anchor = anchor,
				     .clock_speed = SPEED};

	assert_int_equal(simrun_fleet_emit(&fleet), 0);
	/* the planner prices swap sites by the same calendar (app.c: CSMS_TARIFF_SWAP) */
	setenv("CSMS_TARIFF_SWAP", CALENDAR, 1);
	r = simrun_fleet_start(p, &fleet);
	unsetenv("CSMS_TARIFF_SWAP");
	assert_int_equal(r, 0);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ocpp", p->port);
	{
		const char *argv[] = {cpsim, "--scenario",  scen,   "--url",
				      url,   "--json-file", report, NULL};

		assert_int_equal(simrun_spawn(argv, log, &pid), 0);
	}
	/* mid-run, on day 2: a booking at each port station, and RequestBatterySwap for it (a
	 * DataTransfer in 1.6 and in 2.0.1); the station swaps for that requestId next */
	usleep((useconds_t)(RUN_S * 1000000 * 0.6));
	for (int i = 0; i < 2; i++) {
		char body[256];
		json_t *j = NULL;
		int status = 0;

		snprintf(body, sizeof(body),
			 "{\"station_id\": \"%s\", \"vehicle\": \"BOOKED-%d\", \"due_at\": "
			 "\"%s\", \"min_soc\": 80}",
			 ports[i], i, anchor);
		assert_int_equal(
		    http_request(p->port, "POST", "/api/swap/bookings", body, &status, &j, 5000),
		    0);
		assert_int_equal(status, 201);
		booking[i] = json_integer_value(json_object_get(j, "id"));
		json_decref(j);
		snprintf(path, sizeof(path), "/api/stations/%s/request-swap", ports[i]);
		snprintf(body, sizeof(body), "{\"booking_id\": %lld, \"request_id\": %d}",
			 (long long)booking[i], 900000 + i);
		assert_int_equal(http_request(p->port, "POST", path, body, &status, &j, 10000), 0);
		assert_int_equal(status, 200);
		assert_string_equal(json_string_value(json_object_get(j, "status")), "Accepted");
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(j, "response"), "status")),
		    "Accepted");
		json_decref(j);
	}
	r = simrun_wait_child(pid, CPSIM_MAX_S);
	if (r != 0)
		simrun_dump_file(log);
	assert_int_equal(r, 0);

	/* the API: orders, the day report, packs, the rack */
	printf("swap stations, day 2 (%s) after a day of learning, %dx:\n", day2, SPEED);
	printf("%-14s %6s %9s %7s %9s %9s %9s %9s %9s %9s %8s\n", "station", "swaps", "promised",
	       "ontime", "dvalley", "valley", "flat", "peak", "critical", "kWh", "rackVal%");
	assert_int_equal(sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (getenv("SWAP_DAY_DEBUG")) { /* the logs, and the dir left behind on failure */
		fprintf(stderr, "orders %lld packs %lld; dir %s\n",
			simrun_q1(db, "SELECT count(*) FROM swap_orders"),
			simrun_q1(db, "SELECT count(*) FROM swap_packs"), p->dir);
		simrun_dump_file(log);
		simrun_dump_file(p->log);
		if (getenv("SWAP_DAY_KEEP")) { /* a directory: the database is copied there */
			char cmd[1200];

			snprintf(cmd, sizeof(cmd), "cp %s %s-wal '%s'/ 2>/dev/null", p->db, p->db,
				 getenv("SWAP_DAY_KEEP"));
			if (system(cmd) != 0)
				fprintf(stderr, "database not kept\n");
		}
	}
	for (int i = 0; i < 2; i++) {
		json_t *rep, *orders, *tiers;
		double rack[5], rack_total;

		snprintf(path, sizeof(path), "/api/stations/%s/swap-report?date=%s", ports[i],
			 day2);
		rep = http_get_json(p->port, path);
		assert_non_null(rep);
		snprintf(path, sizeof(path), "/api/swap/orders?station=%s&date=%s", ports[i], day2);
		orders = http_get_json(p->port, path);
		assert_non_null(orders);
		tiers = json_object_get(rep, "energy_wh_by_tier");
		rack_energy(db, ports[i], t_day2, t_day2 + DAY_MS, rack, &rack_total);
		printf("%-14s %6lld %9lld %7lld %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %7.0f%%\n",
		       ports[i], json_integer_value(json_object_get(rep, "swaps")),
		       json_integer_value(json_object_get(rep, "promised")),
		       json_integer_value(json_object_get(rep, "ready_on_time")),
		       json_integer_value(json_object_get(tiers, "deep_valley")) / 1000.0,
		       json_integer_value(json_object_get(tiers, "valley")) / 1000.0,
		       json_integer_value(json_object_get(tiers, "flat")) / 1000.0,
		       json_integer_value(json_object_get(tiers, "peak")) / 1000.0,
		       json_integer_value(json_object_get(tiers, "critical_peak")) / 1000.0,
		       json_integer_value(json_object_get(rep, "energy_wh")) / 1000.0,
		       rack_total > 0 ? 100.0 * (rack[0] + rack[1]) / rack_total : 0.0);
		printf("%-14s rack charging from the registers: deep valley %.0f, valley %.0f, flat"
		       " %.0f, peak %.0f, critical %.0f kWh\n",
		       "", rack[0] / 1000, rack[1] / 1000, rack[2] / 1000, rack[3] / 1000,
		       rack[4] / 1000);
		/* the report is its orders */
		assert_true(json_integer_value(json_object_get(rep, "swaps")) > 0);
		assert_int_equal(json_integer_value(json_object_get(rep, "swaps")) +
				     json_integer_value(json_object_get(rep, "open")) +
				     json_integer_value(json_object_get(rep, "timeouts")),
				 json_array_size(json_object_get(orders, "orders")));
		assert_int_equal(json_integer_value(json_object_get(rep, "promised")),
				 json_integer_value(json_object_get(rep, "ready_on_time")));
		assert_int_equal(json_integer_value(json_object_get(rep, "unbilled")), 0);
		assert_true(rack_total > 0);
		/* the planner keeps the rack out of the dearest hours: what falls in peak and
		 * critical peak is what the 14 h wave's packs cannot get before their 22 h
		 * deadline, 2-9 % in the runs seen (ASan included); a rack planned at 22 kW
		 * instead of its slots' 60 kW drew 16 % there */
		assert_true(rack[3] + rack[4] <= 0.12 * rack_total);
		/* issue 11: the rack charges mostly in the valley. Packs a forecast swap needs
		 * charge whatever the tier (the 14 h wave's packs, racked as the valley ends, serve
		 * the 22 h and 06 h waves), the rest wait for the valley */
#ifndef SANITIZED
		assert_true(rack[0] + rack[1] >= VALLEY_SHARE_MIN * rack_total);
#endif
		json_decref(rep);
		json_decref(orders);
	}
	/* the store: every order complete and billed; promises kept; both versions */
	check_orders(db, t_start + 2 * DAY_MS, &promised, &kept);
	printf("all days: %d swaps promised a ready pack, %d got at least the promised SoC\n",
	       promised, kept);
	assert_int_equal(promised, kept);
	assert_true(promised > 0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM swap_orders WHERE station_id = '%s'",
			      ports[0]) > 0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM swap_orders WHERE station_id = '%s'",
			      ports[1]) > 0);
	assert_true(
	    simrun_q1(db, "SELECT count(*) FROM swap_orders WHERE station_id = 'SW-W-000001'") > 0);
	/* the requested swaps happened under their request ids, each order carries its booking
	 * and the booking is served by it */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		    simrun_q1(db,
			      "SELECT count(*) FROM swap_orders WHERE station_id = '%s' AND"
			      " request_id = %d AND state = 'complete' AND booking_id = %lld",
			      ports[i], 900000 + i, (long long)booking[i]),
		    1);
		assert_int_equal(simrun_q1(db,
					   "SELECT count(*) FROM swap_bookings WHERE id = %lld AND"
					   " state = 'served' AND request_id = %d",
					   (long long)booking[i], 900000 + i),
				 1);
	}
	/* packs: records with SoH history; those below 80 % flagged */
	assert_true(simrun_q1(db, "SELECT count(*) FROM swap_packs") > 0);
	assert_int_equal(
	    simrun_q1(db, "SELECT count(*) FROM swap_packs WHERE (soh < 80) != flagged"), 0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM swap_pack_soh") > 0);
	sqlite3_close(db);
	{
		json_t *packs = http_get_json(p->port, "/api/swap/packs?station=SW-W-000000");
		json_t *rack = http_get_json(p->port, "/api/stations/SW-W-000000/rack");
		json_t *slots = http_get_json(p->port, "/api/stations/SW-W-000000/slots");

		assert_non_null(packs);
		assert_non_null(rack);
		assert_non_null(slots);
		assert_true(json_array_size(json_object_get(packs, "packs")) > 0);
		assert_int_equal(json_array_size(json_object_get(rack, "forecast_per_hour")), 24);
		assert_true(json_array_size(json_object_get(slots, "slots")) > 0);
		json_decref(packs);
		json_decref(rack);
		json_decref(slots);
	}
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
	csms_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_swap_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
