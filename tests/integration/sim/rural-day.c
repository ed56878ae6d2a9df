/* SPDX-License-Identifier: MIT */
/*
** Rural chargers through most of a simulated day (docs/sites.md "Rural"): the real csms and a
** cpsim fleet of rural chargers in both protocol versions on one accelerated demo clock. The
** chargers lose their network for hours (2-3 h of demo time, several times), take cards from
** the local list the CSMS pushed while offline, and deliver those transactions late when they
** reconnect. They take 8 list entries per SendLocalList, so the 20 cards go in three messages
** (Full, then Differential at the same version). Checked from the simulator's report, the store
** and the API:
**   - every rural charger holds the list: recorded at one version with every card, sent as
**     Full + Differential messages of at most 8 entries at that version;
**   - offline authorisations came from the list (a refusal only while a list is not there
**     yet), in both versions;
**   - transactions delivered late are stored (1.6: recorded long after their start; 2.0.1: the
**     events flagged offline) and the connectivity report counts them and the offline periods
**     (hours long);
**   - a reservation on a quiet rural charger (its site's policy changed to take them) expires
**     on the node's clock and the charger frees the connector (Reserved, then Available).
*/
#include <errno.h>
#include <setjmp.h>
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

#define SPEED	    1800 /* simulated seconds per real second */
#define RUN_S	    40	 /* 20 simulated hours */
#define DRAIN_S	    5
#define CPSIM_MAX_S 90
#define TAGS	    20
#define PER_MSG	    8
#define HOUR_MS	    3600000LL
#define QUIET	    "RU-U-000004" /* the charger without network faults (index 4) */

/* The site of charger id in the emitted stations file (charger_id,site,site_kind,password). */
static void site_of(const char *csv, const char *id, char site[64])
{
	char line[256];
	FILE *f = fopen(csv, "r");

	assert_non_null(f);
	site[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ','), *c2;

		if (!c1 || (size_t)(c1 - line) != strlen(id) || strncmp(line, id, strlen(id)))
			continue;
		c2 = strchr(c1 + 1, ',');
		assert_non_null(c2);
		snprintf(site, 64, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	}
	fclose(f);
	assert_true(site[0] != '\0');
}

static const char *str_of(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static json_t *reservation(int port, int id)
{
	json_t *j = http_get_json(port, "/api/reservations"), *a, *r;

	assert_non_null(j);
	a = json_object_get(j, "reservations");
	for (size_t i = 0; i < json_array_size(a); i++) {
		r = json_array_get(a, i);
		if (json_integer_value(json_object_get(r, "id")) == id) {
			json_incref(r);
			json_decref(j);
			return r;
		}
	}
	json_decref(j);
	return NULL;
}

/* An EVSE of the quiet charger that is Available now, or 0. */
static int available_evse(struct csms_proc *p, char *seen, size_t len)
{
	json_t *st = http_get_json(p->port, "/api/stations/" QUIET), *c;
	size_t i;
	int evse = 0;

	assert_non_null(st);
	seen[0] = '\0';
	json_array_foreach(json_object_get(st, "connectors"), i, c) {
		int e = (int)json_integer_value(json_object_get(c, "evse_id"));
		size_t n = strlen(seen);

		snprintf(seen + n, len - n, " %d:%s", e, str_of(c, "status"));
		if (e > 0 && !evse && !strcmp(str_of(c, "status"), "Available"))
			evse = e;
	}
	json_decref(st);
	return evse;
}

/*
** Reserve an Available connector of the quiet charger for 30 demo minutes until one
** reservation expires unused (a driver may come and use one: then another try). Its id and
** EVSE.
*/
static int reserve_until_expired(struct csms_proc *p, int64_t t_start, int64_t t_anchor,
				 int *ret_evse)
{
	char path[128], body[256], ts[32], seen[256];
	int status, rid = 700;

	for (int tries = 0; tries < 40 && rid < 706; tries++) {
		int64_t node_now = t_start + (simrun_now_ms() - t_anchor) * SPEED;
		int evse = available_evse(p, seen, sizeof(seen));
		json_t *j = NULL, *r;

		if (!evse) {
			usleep(300 * 1000); /* both in use: 9 demo minutes later */
			continue;
		}
		rid++;
		simrun_fmt_utc(node_now + HOUR_MS / 2, ts);
		snprintf(body, sizeof(body),
			 "{\"reservation_id\": %d, \"id_tag\": \"RUTAG00003\", \"evse_id\": %d,"
			 " \"expiry\": \"%s\"}",
			 rid, evse, ts);
		snprintf(path, sizeof(path), "/api/stations/%s/reserve", QUIET);
		assert_int_equal(http_request(p->port, "POST", path, body, &status, &j, 30000), 0);
		if (status != 200 || strcmp(str_of(j, "status"), "Accepted")) {
			fprintf(stderr, "reserve %d on %d: %d %s (connectors%s)\n", rid, evse,
				status, str_of(j, "status"), seen);
			json_decref(j);
			continue;
		}
		json_decref(j);
		usleep(2000 * 1000); /* an hour of demo time: past the expiry */
		r = reservation(p->port, rid);
		assert_non_null(r);
		if (!strcmp(str_of(r, "status"), "Expired")) {
			json_decref(r);
			*ret_evse = evse;
			return rid;
		}
		fprintf(stderr, "reservation %d: %s\n", rid, str_of(r, "status"));
		json_decref(r);
	}
	fail_msg("no reservation expired unused (connectors%s)", seen);
	return -1;
}

/* Rural sites take no reservations by default: the operator allows them at the quiet one. */
static void allow_reservations(struct csms_proc *p, const char *csv)
{
	char site[64], path[128];
	int status;
	json_t *j = NULL;

	site_of(csv, QUIET, site);
	snprintf(path, sizeof(path), "/api/sites/%s", site);
	assert_int_equal(http_request(p->port, "PUT", path,
				      "{\"kind\": \"rural\", \"policy\": {\"reservations\": true}}",
				      &status, &j, 30000),
			 0);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(json_object_get(j, "policy"), "reservations")));
	json_decref(j);
}

static void test_rural_day(void **state)
{
	const char *cpsim = getenv("CPSIM_BIN");
	char scen[400], csv[400], tokens[400], report[400], log[400], url[128];
	char start[32], anchor[32];
	static const struct simrun_key keys[] = {
	    {"kdf_iterations", 10}, {"call_rate_per_s", 2000}, {"call_burst", 20000}, {NULL, 0}};
	struct simrun_fleet fleet = {.cpsim = cpsim,
				     .scenario = scen,
				     .stations = csv,
				     .tokens = tokens,
				     .log = log,
				     .keys = keys,
				     .clock_start = start,
				     .clock_anchor = anchor,
				     .clock_speed = SPEED};
	int64_t t_anchor, t_start;
	struct csms_proc *p;
	json_t *cfg, *rep;
	json_error_t je;
	sqlite3 *db;
	pid_t pid = 0;
	int rid, evse = 0, r;
	FILE *f;

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
	/* from local midnight (16:00 UTC) two days ago: always in the past */
	t_anchor = simrun_now_ms() / 1000 * 1000;
	t_start = (t_anchor / (24 * HOUR_MS) - 2) * 24 * HOUR_MS - 8 * HOUR_MS;
	simrun_fmt_utc(t_anchor, anchor);
	simrun_fmt_utc(t_start, start);
	f = fopen(scen, "w");
	assert_non_null(f);
	/* rural chargers 0-1 speak 1.6, 2-3 2.0.1, all losing their network for 2-3 demo hours
	 * about every 2.5 h; charger 4 (2.0.1) keeps its network for the reservation */
	fprintf(f,
		"{\"id_prefix\": \"RU\", \"speed\": %d, \"start_time\": \"%s\","
		" \"clock_anchor\": \"%s\", \"timestamps\": \"sim\", \"utc_offset\": \"+08:00\","
		" \"duration_s\": %d, \"drain_s\": %d, \"meter_interval_s\": 1, \"ramp_per_s\": 20,"
		" \"seed\": 11, \"tag_pool\": %d, \"local_list_per_message\": %d,"
		" \"password\": \"rural-day-password-0001\", \"reconnect_s\": [0.2, 1],"
		" \"groups\": ["
		"  {\"kind\": \"rural\", \"count\": 2, \"protocol\": \"ocpp1.6\","
		"   \"faults\": {\"offline_per_hour\": 0.4, \"offline_s\": [7200, 10800]}},"
		"  {\"kind\": \"rural\", \"count\": 2, \"protocol\": \"ocpp2.0.1\","
		"   \"faults\": {\"offline_per_hour\": 0.4, \"offline_s\": [7200, 10800]}},"
		"  {\"kind\": \"rural\", \"count\": 1, \"protocol\": \"ocpp2.0.1\","
		"   \"faults\": {\"offline_per_hour\": 0}}]}\n",
		SPEED, start, anchor, RUN_S, DRAIN_S, TAGS, PER_MSG);
	fclose(f);
	assert_int_equal(simrun_fleet_emit(&fleet), 0);
	cfg = json_load_file(tokens, 0, &je);
	assert_non_null(cfg);
	/* the cards: bound to no site, so every rural site's list holds all of them */
	assert_int_equal(json_array_size(json_object_get(cfg, "id_tokens")), TAGS);
	json_decref(cfg);
	assert_int_equal(simrun_fleet_start(p, &fleet), 0);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ocpp", p->port);
	{
		const char *argv[] = {cpsim, "--scenario",  scen,   "--url",
				      url,   "--json-file", report, NULL};

		assert_int_equal(simrun_spawn(argv, log, &pid), 0);
	}
	/* an hour or two of demo time in: the reservation on the quiet charger */
	usleep(3 * 1000 * 1000);
	allow_reservations(p, csv);
	rid = reserve_until_expired(p, t_start, t_anchor, &evse);
	r = simrun_wait_child(pid, CPSIM_MAX_S);
	if (getenv("RURAL_DAY_KEEP")) { /* a directory: the database and logs are copied there */
		char cmd[1600];

		snprintf(cmd, sizeof(cmd), "cp %s %s-wal %s %s '%s'/ 2>/dev/null", p->db, p->db,
			 log, p->log, getenv("RURAL_DAY_KEEP"));
		if (system(cmd) != 0)
			fprintf(stderr, "database not kept\n");
	}
	if (r != 0 || getenv("RURAL_DAY_DEBUG")) {
		simrun_dump_file(log);
		if (r != 0)
			simrun_dump_file(p->log);
	}
	assert_int_equal(r, 0);

	/* the simulator: hours offline, cards taken from the list offline, none refused */
	rep = json_load_file(report, 0, &je);
	assert_non_null(rep);
#define REP(a, b) json_integer_value(json_object_get(json_object_get(rep, a), b))
	printf("cpsim: sessions %lld (offline starts %lld), offline periods %lld,"
	       " offline list authorisations %lld (refused %lld)\n",
	       REP("sessions", "started"), REP("sessions", "offline_starts"),
	       REP("faults", "offline_periods"), REP("rural", "offline_list_auth"),
	       REP("rural", "offline_list_refused"));
	assert_true(REP("faults", "offline_periods") >= 4);
	assert_true(REP("rural", "offline_list_auth") > 0);
	/* a card is refused offline only while a charger's list is not (wholly) there yet: its
	 * first offline period before the push ended, or a push cut by a drop between its
	 * messages (the next connection sends it in full again) */
	assert_true(REP("rural", "offline_list_refused") <= REP("rural", "offline_list_auth"));
	/* rural chargers start offline only with a card of their list */
	assert_int_equal(REP("sessions", "offline_starts"), REP("rural", "offline_list_auth"));
	assert_int_equal(REP("sessions", "started"), REP("sessions", "stopped"));
	assert_int_equal(REP("anomalies", "tx_given_up"), 0);
	assert_int_equal(REP("anomalies", "queue_dropped"), 0);
	json_decref(rep);

	/* the API: each charger's offline periods and late transactions */
	{
		int64_t node_now = t_start + (simrun_now_ms() - t_anchor) * SPEED;
		long long periods = 0, late = 0, longest = 0;
		char from[32], to[32], sites[4][64];

		simrun_fmt_utc(t_start, from);
		simrun_fmt_utc(node_now, to);

		for (int i = 0; i < 4; i++) {
			char id[32], path[512];
			json_t *c, *st, *x;
			size_t k;
			bool seen = false;

			snprintf(id, sizeof(id), "RU-U-%06d", i);
			site_of(csv, id, sites[i]);
			for (int j = 0; j < i; j++)
				seen |= !strcmp(sites[j], sites[i]);
			if (seen)
				continue;
			snprintf(path, sizeof(path), "/api/sites/%s/connectivity?from=%s&to=%s",
				 sites[i], from, to);
			c = http_get_json(p->port, path);
			assert_non_null(c);
			st = json_object_get(c, "stations");
			assert_true(json_array_size(st) >= 1);
			json_array_foreach(st, k, x)
				printf("%s (site %s): offline periods %lld, longest %.1f h, late "
				       "transactions %lld\n",
				       str_of(x, "id"), sites[i],
				       json_integer_value(json_object_get(x, "offline_periods")),
				       json_integer_value(json_object_get(x, "longest_offline_s")) /
					   3600.0,
				       json_integer_value(json_object_get(x, "late_transactions")));
			periods += json_integer_value(json_object_get(c, "offline_periods"));
			late += json_integer_value(json_object_get(c, "late_transactions"));
			if (json_integer_value(json_object_get(c, "longest_offline_s")) > longest)
				longest =
				    json_integer_value(json_object_get(c, "longest_offline_s"));
			json_decref(c);
		}
		assert_true(periods >= 4);
		assert_true(longest >= 2 * 3600); /* hours of demo time */
		assert_true(late > 0);
	}
	assert_int_equal(csms_stop(p), 0);

	/* the store */
	assert_int_equal(sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	/* every rural charger holds the whole list, pushed in messages of at most PER_MSG */
	for (int i = 0; i < 5; i++) {
		char id[32];
		long long v;

		snprintf(id, sizeof(id), "RU-U-%06d", i);
		v = simrun_q1(db, "SELECT version FROM local_lists WHERE station_id = '%s'", id);
		assert_true(v >= 1);
		assert_int_equal(
		    simrun_q1(db, "SELECT count(*) FROM local_list_entries WHERE station_id = '%s'",
			      id),
		    TAGS);
		/* the messages of that version: Full first, then Differential, none over PER_MSG */
		assert_int_equal(
		    simrun_q1(db,
			      "SELECT count(*) FROM command_log WHERE station_id = '%s' AND"
			      " kind = 'send-local-list' AND status = 'accepted' AND"
			      " request LIKE 'version=%lld %%'",
			      id, v),
		    (TAGS + PER_MSG - 1) / PER_MSG);
		assert_int_equal(
		    simrun_q1(db,
			      "SELECT count(*) FROM command_log WHERE station_id = '%s' AND"
			      " kind = 'send-local-list' AND request LIKE 'version=%lld full%%'",
			      id, v),
		    1);
		assert_int_equal(
		    simrun_q1(db,
			      "SELECT count(*) FROM command_log WHERE station_id = '%s' AND"
			      " kind = 'send-local-list' AND CAST(substr(request,"
			      " instr(request, 'entries=') + 8) AS INTEGER) > %d",
			      id, PER_MSG),
		    0);
	}
	/* late transactions in both versions: 1.6 recorded long after their start (the rows of
	 * transactions started offline), 2.0.1 events flagged offline */
	assert_true(simrun_q1(db,
			      "SELECT count(*) FROM sessions WHERE station_id IN ('RU-U-000000',"
			      " 'RU-U-000001') AND created_ms - start_ms > 600000") > 0);
	assert_true(
	    simrun_q1(db,
		      "SELECT coalesce(sum(offline_events), 0) FROM sessions WHERE station_id IN"
		      " ('RU-U-000002', 'RU-U-000003')") > 0);
	/* every session stopped, its card one of the list's */
	assert_int_equal(simrun_q1(db,
				   "SELECT count(*) FROM sessions WHERE station_id LIKE 'RU-U-%%'"
				   " AND stop_ms IS NULL"),
			 0);
	assert_int_equal(
	    simrun_q1(db, "SELECT count(*) FROM sessions s WHERE s.station_id LIKE 'RU-U-%%'"
			  " AND NOT EXISTS (SELECT 1 FROM local_list_entries e WHERE"
			  " e.station_id = s.station_id AND e.token = s.id_tag)"),
	    0);
	/* the reservation expired on the node's clock and the charger freed its connector */
	assert_int_equal(simrun_q1(db,
				   "SELECT count(*) FROM reservations WHERE id = %d AND"
				   " status = 'Expired'",
				   rid),
			 1);
	{
		long long reserved_at =
		    simrun_q1(db,
			      "SELECT max(ts_ms) FROM station_log WHERE station_id = '" QUIET
			      "' AND kind = 'status' AND evse_id = %d AND"
			      " state = 'Reserved'",
			      evse);

		assert_true(reserved_at > 0);
		assert_true(
		    simrun_q1(db,
			      "SELECT count(*) FROM station_log WHERE station_id = '" QUIET "'"
			      " AND kind = 'status' AND evse_id = %d AND state = 'Available' AND"
			      " ts_ms > %lld",
			      evse, reserved_at) > 0);
	}
	sqlite3_close(db);
	csms_pass(p);
	csms_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rural_day),
	};

	return cmocka_run_group_tests_name("sim-rural-day", tests, NULL, NULL);
}
