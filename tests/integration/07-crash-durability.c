/* SPDX-License-Identifier: MIT */
/* 07: what was acknowledged survives kill -9; SIGTERM ends the server cleanly with status 0.
 * With CSMS_TEST_PG_DSN set (meson test 07-crash-durability-pg, a temporary cluster from
 * tests/pg/pgtmp.sh) the same tests run with the server on PostgreSQL (--db <DSN>). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static const char *open_args[] = {"--registration", "open", NULL, NULL, NULL};

static int setup(void **state)
{
	const char *pg = getenv("CSMS_TEST_PG_DSN");
	struct csms_proc *p;

	/* the later --db wins over the harness's <dir>/csms.db */
	if (pg && *pg) {
		open_args[2] = "--db";
		open_args[3] = pg;
	}
	p = csms_start(open_args, NULL);

	*state = p;
	return p ? 0 : -1;
}

static json_t *get_session(struct csms_proc *p, json_int_t id)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/sessions/%lld", (long long)id);
	return http_get_json(p->port, path);
}

static void test_acknowledged_data_survives_kill9(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CRASH-1", NULL);
	char t0[32], t1[32], t2[32];
	json_t *conf = NULL, *s;
	json_int_t id;

	rfc3339_offset(t0, -300);
	rfc3339_offset(t1, -200);
	rfc3339_offset(t2, -100);
	assert_int_equal(tc_call(tc, "StartTransaction",
				 json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 1, "idTag", "TAG-K9",
					   "meterStart", 2000, "timestamp", t0),
				 &conf, NULL, 5000),
			 0);
	id = json_integer_value(json_object_get(conf, "transactionId"));
	assert_true(id > 0);
	json_decref(conf);
	conf = NULL;
	assert_int_equal(
	    tc_call(tc, "MeterValues",
		    json_pack("{s:i,s:I,s:[{s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]}]}", "connectorId",
			      1, "transactionId", id, "meterValue", "timestamp", t1, "sampledValue",
			      "value", "2500", "measurand", "Energy.Active.Import.Register", "unit",
			      "Wh", "value", "7200", "measurand", "Power.Active.Import", "unit",
			      "W"),
		    &conf, NULL, 5000),
	    0);
	json_decref(conf);

	/* acknowledged: now pull the plug, no chance to flush anything */
	csms_kill9(p);
	tc_wait_closed(tc, 5000);
	tc_close(tc);
	assert_int_equal(csms_restart(p), 0);

	s = get_session(p, id);
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "station")), "CP-CRASH-1");
	assert_string_equal(json_string_value(json_object_get(s, "id_tag")), "TAG-K9");
	assert_int_equal(json_integer_value(json_object_get(s, "meter_start_wh")), 2000);
	assert_true(json_is_null(json_object_get(s, "stop")));
	assert_int_equal(json_array_size(json_object_get(s, "meter_values")), 2);
	json_decref(s);

	/* the charger comes back and stops it; kill -9 again right after the answer */
	tc = tc_booted16(p->port, "CP-CRASH-1", NULL);
	conf = NULL;
	assert_int_equal(tc_call(tc, "StopTransaction",
				 json_pack("{s:I,s:i,s:s,s:s}", "transactionId", id, "meterStop",
					   2900, "timestamp", t2, "reason", "Remote"),
				 &conf, NULL, 5000),
			 0);
	json_decref(conf);
	csms_kill9(p);
	tc_wait_closed(tc, 5000);
	tc_close(tc);
	assert_int_equal(csms_restart(p), 0);

	s = get_session(p, id);
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "meter_stop_wh")), 2900);
	assert_int_equal(json_integer_value(json_object_get(s, "energy_wh")), 900);
	assert_string_equal(json_string_value(json_object_get(s, "stop_reason")), "Remote");
	json_decref(s);

	/* a new transaction after the crash gets a new id */
	tc = tc_booted16(p->port, "CP-CRASH-1", NULL);
	conf = NULL;
	assert_int_equal(tc_call(tc, "StartTransaction",
				 json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 1, "idTag", "TAG-K9",
					   "meterStart", 2900, "timestamp", t2),
				 &conf, NULL, 5000),
			 0);
	assert_true(json_integer_value(json_object_get(conf, "transactionId")) > 0);
	assert_true(json_integer_value(json_object_get(conf, "transactionId")) != id);
	json_decref(conf);
	tc_close(tc);

	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

#define LOAD_CHARGERS 12
#define LOAD_ROUNDS   25

static bool has_value(const json_t *session, const char *value)
{
	const json_t *mv = json_object_get(session, "meter_values"), *v;
	size_t i;

	json_array_foreach(mv, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "value")) ?: "", value))
			return true;
	return false;
}

/* Many chargers with MeterValues in flight at once, kill -9 in the middle of a round: every
 * reading that was answered is stored after the restart; the start of each session too. */
static void test_kill9_under_load_keeps_every_acknowledged_sample(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc[LOAD_CHARGERS];
	json_int_t tx[LOAD_CHARGERS];
	char msg_id[LOAD_CHARGERS][64], start[32];
	/* acked[i][r]: the reading of charger i in round r was answered */
	static bool acked[LOAD_CHARGERS][LOAD_ROUNDS];
	int n_acked = 0, n_lost = 0;

	memset(acked, 0, sizeof(acked));
	rfc3339_offset(start, -3600);
	for (int i = 0; i < LOAD_CHARGERS; i++) {
		char id[32];
		json_t *conf = NULL;

		snprintf(id, sizeof(id), "CP-LOAD-%02d", i);
		tc[i] = tc_booted16(p->port, id, NULL);
		assert_int_equal(
		    tc_call(tc[i], "StartTransaction",
			    json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 1, "idTag", "TAG-LOAD",
				      "meterStart", 1000, "timestamp", start),
			    &conf, NULL, 5000),
		    0);
		tx[i] = json_integer_value(json_object_get(conf, "transactionId"));
		assert_true(tx[i] > 0);
		json_decref(conf);
	}
	for (int r = 0; r < LOAD_ROUNDS; r++) {
		bool last = r == LOAD_ROUNDS - 1;
		char ts[32];

		rfc3339_offset(ts, -3000 + r);
		/* every charger's reading of this round in flight at once */
		for (int i = 0; i < LOAD_CHARGERS; i++) {
			char value[32];

			snprintf(value, sizeof(value), "%d", 100000 + i * 1000 + r);
			assert_int_equal(
			    tc_call_send(tc[i], "MeterValues",
					 json_pack("{s:i,s:I,s:[{s:s,s:[{s:s,s:s,s:s}]}]}",
						   "connectorId", 1, "transactionId", tx[i],
						   "meterValue", "timestamp", ts, "sampledValue",
						   "value", value, "measurand",
						   "Energy.Active.Import.Register", "unit", "Wh"),
					 msg_id[i]),
			    0);
		}
		/* the last round: half of the answers are read, then the plug is pulled with the
		 * rest still in flight (they may or may not be stored: nobody heard of them) */
		for (int i = 0; i < (last ? LOAD_CHARGERS / 2 : LOAD_CHARGERS); i++) {
			json_t *conf = NULL;

			acked[i][r] = tc_call_wait(tc[i], msg_id[i], &conf, NULL, 5000) == 0;
			assert_true(acked[i][r]);
			json_decref(conf);
			n_acked++;
		}
	}
	csms_kill9(p);
	for (int i = 0; i < LOAD_CHARGERS; i++) {
		tc_wait_closed(tc[i], 5000);
		tc_close(tc[i]);
	}
	assert_int_equal(csms_restart(p), 0);

	for (int i = 0; i < LOAD_CHARGERS; i++) {
		json_t *s = get_session(p, tx[i]);

		assert_non_null(s);
		assert_string_equal(json_string_value(json_object_get(s, "id_tag")), "TAG-LOAD");
		assert_int_equal(json_integer_value(json_object_get(s, "meter_start_wh")), 1000);
		for (int r = 0; r < LOAD_ROUNDS; r++) {
			char value[32];

			if (!acked[i][r])
				continue;
			snprintf(value, sizeof(value), "%d", 100000 + i * 1000 + r);
			if (!has_value(s, value)) {
				print_error("charger %d round %d: acknowledged reading %s lost\n",
					    i, r, value);
				n_lost++;
			}
		}
		json_decref(s);
	}
	print_message("%d acknowledged readings, %d lost after kill -9\n", n_acked, n_lost);
	assert_int_equal(n_lost, 0);
	assert_int_equal(n_acked, LOAD_CHARGERS * (LOAD_ROUNDS - 1) + LOAD_CHARGERS / 2);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* SIGTERM with a charger connected: the charger is closed and the exit status is 0. */
static void test_sigterm_exits_cleanly(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-TERM-1", NULL);
	json_t *conf = NULL;

	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), &conf, NULL, 5000), 0);
	json_decref(conf);
	assert_int_equal(csms_stop(p), 0);
	assert_int_equal(tc_wait_closed(tc, 5000), 0);
	tc_close(tc);

	/* and it starts again on the same database */
	assert_int_equal(csms_restart(p), 0);
	conf = http_get_json(p->port, "/api/stations/CP-TERM-1");
	assert_non_null(conf);
	assert_string_equal(json_string_value(json_object_get(conf, "vendor")), "ITVendor");
	assert_false(json_is_true(json_object_get(conf, "online")));
	json_decref(conf);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* The number on the first line a shell command prints. */
static int first_int(const char *cmd)
{
	char line[256] = "";
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	pclose(f);
	return atoi(line);
}

/* csms backup while the node serves: SQLite's online backup, or pg_dump on PostgreSQL; the
 * copy holds the station booted before it. */
static void test_backup_while_serving(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-BACKUP-1", NULL);
	const char *pg = getenv("CSMS_TEST_PG_DSN");
	bool on_pg = pg && *pg;
	char file[320], cmd[800];
	const char *args[] = {"backup", file, "--db", on_pg ? pg : p->db, NULL};

	snprintf(file, sizeof(file), "%s/backup.%s", p->dir, on_pg ? "dump" : "db");
	assert_int_equal(csms_cli(p, args), 0);
	if (on_pg)
		snprintf(cmd, sizeof(cmd),
			 "pg_restore --list '%s' | grep -c 'TABLE DATA public stations '", file);
	else
		snprintf(cmd, sizeof(cmd),
			 "sqlite3 '%s' \"SELECT count(*) FROM stations WHERE id = 'CP-BACKUP-1'\"",
			 file);
	assert_int_equal(first_int(cmd), 1);
	if (on_pg) { /* the copy restores into an empty database and holds the station */
		snprintf(cmd, sizeof(cmd),
			 "pg_restore --data-only --table=stations -f - '%s' | grep -c CP-BACKUP-1",
			 file);
		assert_int_equal(first_int(cmd), 1);
	}
	tc_close(tc);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_acknowledged_data_survives_kill9, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_kill9_under_load_keeps_every_acknowledged_sample,
					    setup, csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_backup_while_serving, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_sigterm_exits_cleanly, setup,
					    csms_teardown_chargers),
	};
	const char *pg = getenv("CSMS_TEST_PG_DSN");

	return cmocka_run_group_tests_name(pg && *pg ? "07-crash-postgres" : "07-crash", tests,
					   NULL, NULL);
}
