/* SPDX-License-Identifier: MIT */
/* A small cpsim fleet (both protocols, every site kind, faults) against the real csms. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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

#define RUN_S	    14 /* load phase of the fleet */
#define CPSIM_MAX_S 60 /* the whole cpsim run, or it is killed */
#define LIMIT_W	    2000

/* Per-charger passwords: rewrite the password column of the emitted import CSV. */
static void write_passwords(const char *in, const char *out)
{
	FILE *fi = fopen(in, "r"), *fo = fopen(out, "w");
	char line[512];
	int n = 0;

	assert_non_null(fi);
	assert_non_null(fo);
	while (fgets(line, sizeof(line), fi)) {
		char *last = strrchr(line, ',');

		if (n++ == 0 || !last) {
			fputs(line, fo);
			continue;
		}
		*last = '\0';
		/* charger id is the first field */
		/* passwords must be 16..40 characters */
		fprintf(fo, "%s,secret-%.*s-%04d\n", line, (int)strcspn(line, ","), line,
			n * 7919 % 10000);
	}
	fclose(fi);
	fclose(fo);
}

static json_t *http_post(int port, const char *path, const char *body, int *ret_status)
{
	json_t *j = NULL;
	int r = http_request(port, "POST", path, body, ret_status, &j, 10000);

	assert_int_equal(r, 0);
	return j;
}

/* POST a command, retrying while the station is (re)connecting. Returns the HTTP status. */
static int command(int port, const char *station, const char *action, const char *body)
{
	char path[256];
	int status = 0;

	snprintf(path, sizeof(path), "/api/stations/%s/commands/%s", station, action);
	for (int i = 0; i < 30; i++) {
		json_t *j = http_post(port, path, body, &status);
		const char *err = json_string_value(json_object_get(j, "error"));
		/* rural chargers drop their network by design (fault injection): a call cut by
		 * a drop is sent again, like one to a charger that is not connected */
		bool dropped = status == 502 && err && strstr(err, "closed before it answered");

		if (status != 200 && !dropped && status != 409 && status != 503 && status != 504) {
			char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

			fprintf(stderr, "%s %s: %d %s\n", station, action, status,
				text ? text : "");
			free(text);
		}
		json_decref(j);
		if (!dropped && status != 409 && status != 503 && status != 504)
			break;
		usleep(200000);
	}
	return status;
}

static void test_fleet_against_csms(void **state)
{
	const char *cpsim = getenv("CPSIM_BIN");
	char scen[400], csv[400], pwcsv[400], tokens[400], report[400], log[400], url[128];
	char start[32], date[16];
	const char *emit_password[] = {"--password", "x", NULL};
	static const struct simrun_key keys[] = {{"heartbeat_interval_s", 30},
						 {"pending_interval_s", 1},
						 {"boot_rate_per_s", 8},
						 {"kdf_iterations", 10},
						 {NULL, 0}};
	struct simrun_fleet fleet = {.cpsim = cpsim,
				     .scenario = scen,
				     .emit_args = emit_password,
				     .stations = csv,
				     .tokens = tokens,
				     .log = log,
				     .import = pwcsv,
				     .keys = keys};
	struct csms_proc *p;
	json_t *rep, *j;
	json_error_t je;
	sqlite3 *db;
	pid_t pid;
	int64_t t_cmd;
	int status, r;
	time_t tt = time(NULL);
	struct tm tm;
	FILE *f;

	(void)state;
	if (!cpsim || !*cpsim)
		skip();
	p = csms_prepare("{}");
	assert_non_null(p);
	snprintf(scen, sizeof(scen), "%s/scenario.json", p->dir);
	snprintf(csv, sizeof(csv), "%s/stations.csv", p->dir);
	snprintf(pwcsv, sizeof(pwcsv), "%s/passwords.csv", p->dir);
	snprintf(tokens, sizeof(tokens), "%s/tokens.json", p->dir);
	snprintf(report, sizeof(report), "%s/report.json", p->dir);
	snprintf(log, sizeof(log), "%s/cpsim.log", p->dir);

	/* the simulated day starts at 16:30 UTC: residential EVs arrive in the evening, so within
	 * the run at 600x; public chargers are busy; rural and swap stations lose their network */
	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(start, sizeof(start), "%sT16:30:00Z", date);
	f = fopen(scen, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"id_prefix\": \"IT\", \"speed\": 600, \"start_time\": \"%s\", \"duration_s\": "
		"%d,"
		" \"drain_s\": 12, \"meter_interval_s\": 1, \"ramp_per_s\": 40, \"seed\": 11,"
		" \"tag_pool\": 40, \"validate\": true, \"reconnect_s\": [0.2, 2],"
		" \"faults\": {\"drop_per_hour\": 0.3, \"offline_per_hour\": 1.0,"
		"  \"offline_s\": [300, 1200], \"duplicate_share\": 0.05, \"malformed_share\": "
		"0.01,"
		"  \"delay_share\": 0.5, \"delay_ms\": 300},"
		" \"storms_at_s\": [8], \"storm_share\": 0.5,"
		" \"groups\": ["
		"  {\"kind\": \"public\", \"count\": 6, \"protocol\": \"mixed\", \"faults\": {}},"
		"  {\"kind\": \"residential\", \"count\": 8, \"protocol\": \"mixed\"},"
		"  {\"kind\": \"rural\", \"count\": 4, \"protocol\": \"mixed\"},"
		"  {\"kind\": \"swap\", \"count\": 2, \"protocol\": \"mixed\", \"connectors\": "
		"4}]}\n",
		start, RUN_S);
	fclose(f);

	/* the CSMS learns the fleet: stations (with per-charger passwords) and id tokens */
	assert_int_equal(simrun_fleet_emit(&fleet), 0);
	write_passwords(csv, pwcsv);
	assert_int_equal(simrun_fleet_start(p, &fleet), 0);

	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ocpp", p->port);
	{
		const char *argv[] = {cpsim,  "--scenario",	     scen,  "--url",
				      url,    "--password-file",     pwcsv, "--json-file",
				      report, "--progress-interval", "5",   NULL};

		assert_int_equal(simrun_spawn(argv, log, &pid), 0);
	}

	/* a limit from the operator on one 1.6 and one 2.0.1 public station: power follows */
	sleep(2);
	assert_int_equal(
	    command(p->port, "IT-P-000000", "SetChargingProfile",
		    "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,"
		    "\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
		    "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
		    "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
		    "\"limit\":2000}]}}}"),
	    200);
	assert_int_equal(
	    command(p->port, "IT-P-000001", "SetChargingProfile",
		    "{\"evseId\":0,\"chargingProfile\":{\"id\":1,\"stackLevel\":0,"
		    "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
		    "\"Relative\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"W\","
		    "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":2000}]}]}}"),
	    200);
	t_cmd = simrun_now_ms();
	/* a few more commands while the fleet runs (answered late sometimes: delay fault) */
	assert_int_equal(command(p->port, "IT-R-000006", "GetConfiguration", "{}"), 200);
	assert_int_equal(
	    command(p->port, "IT-R-000007", "GetVariables",
		    "{\"getVariableData\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},"
		    "\"variable\":{\"name\":\"HeartbeatInterval\"}}]}"),
	    200);

	r = simrun_wait_child(pid, CPSIM_MAX_S);
	if (r != 0)
		simrun_dump_file(log);
	assert_int_equal(r, 0);

	/* the report */
	rep = json_load_file(report, 0, &je);
	assert_non_null(rep);
#define REP(a, b) json_integer_value(json_object_get(json_object_get(rep, a), b))
	assert_true(REP("connections", "made") >= 20);
	assert_int_equal(REP("connections", "failed"), 0);
	assert_int_equal(REP("connections", "subprotocol_mismatch"), 0);
	assert_true(REP("boots", "accepted") >= 20);
	assert_int_equal(REP("anomalies", "invalid_sent"), 0);
	assert_int_equal(REP("anomalies", "invalid_received"), 0);
	assert_int_equal(REP("anomalies", "tx_given_up"), 0);
	assert_int_equal(REP("anomalies", "queued_at_end"), 0);
	assert_int_equal(REP("anomalies", "queue_dropped"), 0);
	assert_int_equal(REP("sessions", "open_at_end"), 0);
	assert_true(REP("sessions", "started") >= 10);
	assert_int_equal(REP("sessions", "started"), REP("sessions", "stopped"));
	assert_true(REP("faults", "offline_periods") > 0);
	assert_true(REP("faults", "storm_drops") > 0);
	/* the only CALLERRORs are the answers to the malformed frames we sent */
	j = json_object_get(json_object_get(rep, "callerrors"), "received");
	{
		const char *k;
		json_t *v;

		json_object_foreach(j, k, v) {
			if (strcmp(k, "FormatViolation"))
				fail_msg("unexpected CALLERROR %s x%lld", k,
					 (long long)json_integer_value(v));
		}
	}
	assert_true(json_integer_value(json_object_get(j, "FormatViolation")) <=
		    REP("faults", "malformed"));

	/* nothing open at the CSMS either */
	j = http_get_json(p->port, "/api/sessions?active=true");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "sessions")), 0);
	json_decref(j);
	assert_int_equal(csms_stop(p), 0);

	/* the database: every session the fleet started, each stopped, none lost or doubled */
	assert_int_equal(sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(simrun_q1(db, "SELECT count(*) FROM sessions"),
			 REP("sessions", "started"));
	assert_int_equal(simrun_q1(db, "SELECT count(*) FROM sessions WHERE stop_ms IS NULL"), 0);
	assert_int_equal(simrun_q1(db, "SELECT count(*) FROM orphan_stops"), 0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM sessions WHERE station_tx_id IS NOT NULL") >
		    0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM sessions WHERE station_tx_id IS NULL") > 0);
	assert_int_equal(
	    simrun_q1(db, "SELECT count(*) FROM sessions WHERE meter_stop_wh < meter_start_wh"), 0);
	/* 2.0.1: every TransactionEvent arrived, some of them late (offline) */
	assert_int_equal(simrun_q1(db, "SELECT coalesce(sum(seq_gaps), 0) FROM sessions"), 0);
	assert_true(simrun_q1(db, "SELECT coalesce(sum(offline_events), 0) FROM sessions") > 0);
	/* every site kind had sessions */
	assert_true(simrun_q1(db,
			      "SELECT count(DISTINCT st.kind) FROM sessions s JOIN stations t ON "
			      "t.id = s.station_id JOIN sites st ON st.id = t.site_id") == 4);
	/* energy registers never go backwards, per station and connector */
	assert_int_equal(
	    simrun_q1(db, "SELECT count(*) FROM (SELECT CAST(m.value AS REAL) AS v,"
			  " lag(CAST(m.value AS REAL)) OVER (PARTITION BY m.station_id,"
			  " coalesce(s.evse_id, m.evse_id), m.measurand ORDER BY m.ts_ms) AS prev"
			  " FROM meter_values m LEFT JOIN sessions s ON s.id = m.session_id"
			  " WHERE m.measurand LIKE 'Energy.Active.%%.Register') WHERE v < prev"),
	    0);
	assert_true(simrun_q1(db, "SELECT count(*) FROM meter_values WHERE measurand = "
				  "'Energy.Active.Import.Register'") > 50);
	/* the operator's 2 kW limit was obeyed by both stations after it was set */
	assert_true(
	    simrun_q1(db,
		      "SELECT count(*) FROM meter_values WHERE station_id IN ('IT-P-000000',"
		      " 'IT-P-000001') AND measurand = 'Power.Active.Import' AND ts_ms > %lld",
		      (long long)t_cmd) > 0);
	assert_int_equal(
	    simrun_q1(db,
		      "SELECT count(*) FROM meter_values WHERE station_id IN ('IT-P-000000',"
		      " 'IT-P-000001') AND measurand = 'Power.Active.Import' AND ts_ms > %lld"
		      " AND CAST(value AS REAL) > %d",
		      (long long)t_cmd, LIMIT_W),
	    0);
	/* while the other public stations drew far more */
	assert_true(simrun_q1(db,
			      "SELECT max(CAST(value AS REAL)) FROM meter_values WHERE"
			      " station_id = 'IT-P-000002' AND measurand = 'Power.Active.Import'") >
		    LIMIT_W);
	sqlite3_close(db);
	json_decref(rep);
	csms_pass(p);
	csms_destroy(p);
	(void)status;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fleet_against_csms),
	};

	return cmocka_run_group_tests_name("sim-fleet", tests, NULL, NULL);
}
