/* SPDX-License-Identifier: MIT */
/* 06: a second connection with the same charger id replaces the first one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static const char *const open_args[] = {"--registration", "open", NULL};

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, NULL);

	*state = p;
	return p ? 0 : -1;
}

static bool station_online(struct csms_proc *p, const char *id)
{
	char path[100];
	json_t *st;
	bool online;

	snprintf(path, sizeof(path), "/api/stations/%s", id);
	st = http_get_json(p->port, path);
	assert_non_null(st);
	online = json_is_true(json_object_get(st, "online"));
	json_decref(st);
	return online;
}

static void test_second_connection_replaces_first(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *old, *cur;
	struct http_async *a;
	json_t *conf = NULL, *f = NULL, *j = NULL;
	int status = 0;

	old = tc_booted16(p->port, "CP-REP-1", NULL);
	cur = tc_booted16(p->port, "CP-REP-1", NULL);

	/* the first socket is closed by the server */
	assert_int_equal(tc_wait_closed(old, 5000), 0);
	tc_close(old);

	/* the second works, and the old socket's end did not take the station offline */
	assert_int_equal(tc_call(cur, "Heartbeat", json_object(), &conf, NULL, 5000), 0);
	json_decref(conf);
	tc_run(100);
	assert_true(station_online(p, "CP-REP-1"));
	j = http_get_json(p->port, "/api/health");
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "connected")), 1);
	json_decref(j);

	/* commands go to the new connection */
	a = http_request_start(p->port, "POST", "/api/stations/CP-REP-1/commands/ClearCache", "{}",
			       15000);
	assert_non_null(a);
	assert_int_equal(tc_next_call(cur, 10000, &f), 0);
	assert_string_equal(json_string_value(json_array_get(f, 2)), "ClearCache");
	assert_int_equal(tc_reply(cur, json_string_value(json_array_get(f, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	json_decref(j);

	tc_close(cur);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* Several quick reconnects (a charger that does not wait for the old socket to die). */
static void test_reconnect_storm_of_one_charger(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc[5];
	json_t *conf = NULL;
	int i;

	for (i = 0; i < 5; i++)
		tc[i] = tc_booted16(p->port, "CP-REP-2", NULL);
	for (i = 0; i < 4; i++) {
		assert_int_equal(tc_wait_closed(tc[i], 5000), 0);
		tc_close(tc[i]);
	}
	assert_false(tc_closed(tc[4]));
	assert_int_equal(tc_call(tc[4], "Heartbeat", json_object(), &conf, NULL, 5000), 0);
	json_decref(conf);
	tc_run(100);
	assert_true(station_online(p, "CP-REP-2"));

	/* and when the last one leaves, the station is offline (bounded wait) */
	tc_close(tc[4]);
	{
		long long end = mono_ms() + 5000;

		while (station_online(p, "CP-REP-2") && mono_ms() < end)
			tc_run(20);
	}
	assert_false(station_online(p, "CP-REP-2"));
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_second_connection_replaces_first, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_reconnect_storm_of_one_charger, setup,
					    csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("06-replace", tests, NULL, NULL);
}
