/* SPDX-License-Identifier: MIT */
/* What only the PostgreSQL store has to get right (the contract suite covers the rest): a lost
 * connection between groups is made again, one lost inside a group fails that group and nothing
 * of it is kept, two nodes on one database share the session and reading keys, and the schema is
 * migrated once. Needs CSMS_TEST_PG_DSN (meson test csms-store-pg runs it on a temporary cluster
 * from tests/pg/pgtmp.sh); exits 77 (SKIP) without it. */
#include <errno.h>
#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

#define T0 1795000000000LL

static char db_dsn[512], db_name[64];

/* One statement on the cluster's admin database; 0 or -EIO. */
static int admin(const char *dsn, const char *sql)
{
	PGconn *c = PQconnectdb(dsn);
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -EIO;

	if (r < 0)
		print_error("postgres: %s: %s%s", sql, PQerrorMessage(c),
			    PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
	return r;
}

/* Every csms connection to the test database dropped by the server, as a restart would. */
static void kill_backends(void)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
		 "AND application_name = 'csms'",
		 db_name);
	assert_int_equal(admin(getenv("CSMS_TEST_PG_DSN"), sql), 0);
	usleep(100 * 1000);
}

static int fresh_db(void **state)
{
	static int seq;
	const char *base = getenv("CSMS_TEST_PG_DSN");
	const char *slash = strrchr(base, '/');
	char sql[128];

	(void)state;
	snprintf(db_name, sizeof(db_name), "csms_pg_%d_%d", (int)getpid(), ++seq);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db_name);
	if (!slash || strchr(slash, '?') || admin(base, sql) < 0)
		return -1;
	snprintf(db_dsn, sizeof(db_dsn), "%.*s/%s", (int)(slash - base), base, db_name);
	return 0;
}

static int drop_db(void **state)
{
	char sql[128];

	(void)state;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db_name);
	admin(getenv("CSMS_TEST_PG_DSN"), sql);
	return 0;
}

static struct store *open_db(void)
{
	char err[256] = "";
	struct store *s = store_open(db_dsn, true, err, sizeof(err));

	if (!s)
		print_error("open %s: %s\n", db_dsn, err);
	assert_non_null(s);
	assert_string_equal(s->ops->name, "postgres");
	return s;
}

static void test_reconnects_between_groups(void **state)
{
	struct store *s = open_db();
	struct store_station st;
	int r, fails = 0;

	(void)state;
	assert_int_equal(store_station_create(s, "CP-1", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(s), 0);
	kill_backends();
	/* the statement that finds the connection gone may fail; the next one reconnects */
	for (int i = 0; i < 2; i++) {
		r = store_station_get(s, "CP-1", &st);
		if (r == 0)
			break;
		assert_int_equal(r, -EIO);
		fails++;
	}
	assert_int_equal(r, 0);
	assert_true(fails <= 1);
	assert_string_equal(st.id, "CP-1");
	/* prepared statements are there again: a write and its commit work */
	assert_int_equal(store_station_create(s, "CP-2", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
}

static void test_connection_lost_inside_a_group_fails_it(void **state)
{
	struct store *s = open_db(), *check;
	struct store_station st;

	(void)state;
	assert_int_equal(store_station_create(s, "CP-1", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(s), 0);
	/* a group with a deferred write in it */
	assert_int_equal(store_station_seen(s, "CP-1", true, "ocpp1.6", T0 + 1), 0);
	assert_int_equal(store_station_create(s, "CP-LOST", REG_ACCEPTED, T0), 0);
	assert_true(store_dirty(s));
	kill_backends();
	assert_int_equal(store_commit(s), -EIO);
	assert_false(store_dirty(s));
	/* nothing of the group is kept; the store works again */
	check = open_db();
	assert_int_equal(store_station_get(check, "CP-LOST", &st), -ENOENT);
	store_close(check);
	assert_int_equal(store_station_create(s, "CP-NEXT", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_station_get(s, "CP-NEXT", &st), 0);
	store_close(s);
}

static void test_two_nodes_share_keys(void **state)
{
	struct store *a = open_db(), *b = open_db();
	struct store_session_open o = {.station_id = "CP-1",
				       .evse_id = 1,
				       .connector_id = 1,
				       .station_tx_id = "TX-1",
				       .id_tag = "T",
				       .auth_status = 0,
				       .start_ms = T0,
				       .now_ms = T0};
	struct store_sample smp = {.station_id = "CP-1",
				   .evse_id = 1,
				   .ts_ms = T0 + 60000,
				   .measurand = "Energy.Active.Import.Register",
				   .value = "100"};
	int64_t id_a, id_b;
	char stored[16] = "";

	(void)state;
	assert_int_equal(store_schema_version(a), store_schema_version(b));
	assert_true(store_schema_version(a) > 0);
	assert_int_equal(store_station_create(a, "CP-1", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(a), 0);
	assert_int_equal(store_station_create(b, "CP-1", REG_ACCEPTED, T0), -EEXIST);
	assert_int_equal(store_session_open(a, &o, &id_a), 0);
	smp.session_id = id_a;
	assert_int_equal(store_sample_add(a, &smp, NULL, 0), 1);
	assert_int_equal(store_commit(a), 0);
	/* the station reconnected to the other node and replays its start and reading */
	assert_int_equal(store_session_open(b, &o, &id_b), -EEXIST);
	smp.value = "999";
	assert_int_equal(store_sample_add(b, &smp, stored, sizeof(stored)), 0);
	assert_string_equal(stored, "100");
	assert_int_equal(store_commit(b), 0);
	store_close(a);
	store_close(b);
}

static int count_connector(const struct store_connector_row *row, void *ud)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

/* Writes that are sent without waiting: more of them in one group than are ever left unread
 * (the store reads their results every 256), then a read that must see them all. */
static void test_many_deferred_writes_in_one_group(void **state)
{
	struct store *s = open_db(), *check;
	int n = 0;

	(void)state;
	assert_int_equal(store_station_create(s, "CP-1", REG_ACCEPTED, T0), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(store_connector_status(s, "CP-1", i, 1, "Available", "NoError",
							NULL, NULL, T0 + i),
				 0);
	assert_int_equal(store_connectors_list(s, "CP-1", count_connector, &n), 0);
	assert_int_equal(n, 1000);
	for (int i = 0; i < 600; i++)
		assert_int_equal(store_station_seen(s, "CP-1", i % 2, NULL, T0 + i), 0);
	assert_int_equal(store_commit(s), 0);
	check = open_db();
	n = 0;
	assert_int_equal(store_connectors_list(check, "CP-1", count_connector, &n), 0);
	assert_int_equal(n, 1000);
	store_close(check);
	store_close(s);
}

int main(void)
{
	const char *dsn = getenv("CSMS_TEST_PG_DSN");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reconnects_between_groups, fresh_db, drop_db),
	    cmocka_unit_test_setup_teardown(test_connection_lost_inside_a_group_fails_it, fresh_db,
					    drop_db),
	    cmocka_unit_test_setup_teardown(test_two_nodes_share_keys, fresh_db, drop_db),
	    cmocka_unit_test_setup_teardown(test_many_deferred_writes_in_one_group, fresh_db,
					    drop_db),
	};

	if (!dsn || !*dsn) {
		printf(
		    "SKIP: CSMS_TEST_PG_DSN not set (meson test csms-store-pg starts a cluster)\n");
		return 77;
	}
	return cmocka_run_group_tests_name("store-pg", tests, NULL, NULL);
}
