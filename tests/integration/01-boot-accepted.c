/* SPDX-License-Identifier: MIT */
/* 01: with --registration open a 1.6 charger boots, heartbeats, reports status, is in the API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static const char *const open_args[] = {"--registration", "open", NULL};

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, "{\"heartbeat_interval_s\": 123}");

	*state = p;
	return p ? 0 : -1;
}

static void test_boot_heartbeat_status_visible_in_api(void **state)
{
	struct csms_proc *p = *state;
	struct tc_why why;
	struct tcp *tc;
	json_t *conf = NULL, *list, *st, *conn;
	char err[64], now[32];

	tc = tc_connect(p->port, "CP-BOOT-1", NULL, "ocpp1.6", 5000, &why);
	assert_non_null(tc);
	assert_string_equal(tc_subprotocol(tc), "ocpp1.6");

	/* BootNotification: Accepted with the configured heartbeat interval and the time */
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	assert_true(json_is_integer(json_object_get(conf, "interval")));
	assert_int_equal(json_integer_value(json_object_get(conf, "interval")), 123);
	assert_true(is_rfc3339(json_string_value(json_object_get(conf, "currentTime"))));
	json_decref(conf);

	/* Heartbeat: the server's current time, close to ours */
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), &conf, err, 5000), 0);
	assert_true(is_rfc3339(json_string_value(json_object_get(conf, "currentTime"))));
	assert_true(rfc3339_age_s(json_string_value(json_object_get(conf, "currentTime"))) < 300);
	assert_true(rfc3339_age_s(json_string_value(json_object_get(conf, "currentTime"))) > -300);
	json_decref(conf);

	/* StatusNotification: an empty CALLRESULT */
	rfc3339_now(now);
	assert_int_equal(tc_call(tc, "StatusNotification",
				 json_pack("{s:i,s:s,s:s,s:s}", "connectorId", 1, "errorCode",
					   "NoError", "status", "Available", "timestamp", now),
				 &conf, err, 5000),
			 0);
	assert_int_equal(json_object_size(conf), 0);
	json_decref(conf);
	assert_int_equal(tc_call(tc, "StatusNotification",
				 json_pack("{s:i,s:s,s:s}", "connectorId", 2, "errorCode",
					   "GroundFailure", "status", "Faulted"),
				 &conf, err, 5000),
			 0);
	json_decref(conf);

	/* the station in the list: vendor, model, online, protocol */
	list = http_get_json(p->port, "/api/stations");
	assert_non_null(list);
	st = json_find(json_object_get(list, "stations"), "id", "CP-BOOT-1");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "vendor")), "ITVendor");
	assert_string_equal(json_string_value(json_object_get(st, "model")), "ITModel");
	assert_string_equal(json_string_value(json_object_get(st, "serial")), "SN-CP-BOOT-1");
	assert_string_equal(json_string_value(json_object_get(st, "firmware")), "1.0.0");
	assert_string_equal(json_string_value(json_object_get(st, "protocol")), "ocpp1.6");
	assert_string_equal(json_string_value(json_object_get(st, "registration")), "Accepted");
	assert_true(json_is_true(json_object_get(st, "online")));
	assert_true(is_rfc3339(json_string_value(json_object_get(st, "last_seen"))));
	json_decref(list);

	/* one station, with its connectors' last status: 1.6 connector c is EVSE c, connector 1 */
	st = http_get_json(p->port, "/api/stations/CP-BOOT-1");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "id")), "CP-BOOT-1");
	conn = NULL;
	for (size_t i = 0; i < json_array_size(json_object_get(st, "connectors")); i++) {
		json_t *c = json_array_get(json_object_get(st, "connectors"), i);
		json_int_t evse = json_integer_value(json_object_get(c, "evse_id"));

		assert_int_equal(json_integer_value(json_object_get(c, "connector_id")), 1);
		if (evse == 1)
			conn = c;
		if (evse == 2) {
			assert_string_equal(json_string_value(json_object_get(c, "status")),
					    "Faulted");
			assert_string_equal(json_string_value(json_object_get(c, "error_code")),
					    "GroundFailure");
		}
	}
	assert_non_null(conn);
	assert_string_equal(json_string_value(json_object_get(conn, "status")), "Available");
	assert_string_equal(json_string_value(json_object_get(conn, "error_code")), "NoError");
	assert_true(is_rfc3339(json_string_value(json_object_get(conn, "updated"))));
	json_decref(st);

	/* health counts the connected charger */
	st = http_get_json(p->port, "/api/health");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "status")), "ok");
	assert_int_equal(json_integer_value(json_object_get(st, "connected")), 1);
	json_decref(st);

	/* after the charger leaves, the station goes offline (bounded wait) */
	tc_close(tc);
	{
		long long end = mono_ms() + 5000;
		bool online = true;

		while (online && mono_ms() < end) {
			st = http_get_json(p->port, "/api/stations/CP-BOOT-1");
			assert_non_null(st);
			online = json_is_true(json_object_get(st, "online"));
			json_decref(st);
			if (online)
				tc_run(20);
		}
		assert_false(online);
	}

	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* An unknown station in the API is a 404 with an error body. */
static void test_unknown_station_404(void **state)
{
	struct csms_proc *p = *state;
	json_t *j = NULL;
	int status = 0;

	assert_int_equal(
	    http_request(p->port, "GET", "/api/stations/NOPE", NULL, &status, &j, 5000), 0);
	assert_int_equal(status, 404);
	assert_true(json_is_string(json_object_get(j, "error")));
	json_decref(j);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_boot_heartbeat_status_visible_in_api, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_unknown_station_404, setup,
					    csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("01-boot", tests, NULL, NULL);
}
