/* SPDX-License-Identifier: MIT */
/* 22: what a 2.0.1 station reports of its charging profiles and limits. POST
 * …/charging-profiles/report sends GetChargingProfiles (409 on 1.6); the station's
 * ReportChargingProfiles (in parts) and NotifyChargingLimit are stored and shown by GET
 * …/charging-profiles: per EVSE its last request's profiles, and the last external limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common201.h"

static const char *const open_args[] = {"--registration", "open", NULL};
#define PW201 "lab-password-201-0001"

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, NULL);

	*state = p;
	return p ? 0 : -1;
}

/* A TxProfile as a 2.0.1 station reports it: id, limit in W from the start. */
static json_t *profile(int id, int limit)
{
	return json_pack("{s:i, s:i, s:s, s:s, s:[{s:i, s:s, s:[{s:i, s:i}]}]}", "id", id,
			 "stackLevel", 1, "chargingProfilePurpose", "TxProfile",
			 "chargingProfileKind", "Relative", "chargingSchedule", "id", id,
			 "chargingRateUnit", "W", "chargingSchedulePeriod", "startPeriod", 0,
			 "limit", limit);
}

static void report(struct tcp *tc, int request_id, int evse, bool tbc, json_t *profiles)
{
	json_t *conf = NULL;
	char err[64] = "";

	assert_int_equal(tc_call(tc, "ReportChargingProfiles",
				 json_pack("{s:i, s:s, s:i, s:b, s:o}", "requestId", request_id,
					   "chargingLimitSource", "CSO", "evseId", evse, "tbc", tbc,
					   "chargingProfile", profiles),
				 &conf, err, 5000),
			 0);
	json_decref(conf);
}

static json_t *evse_of(const json_t *view, int evse)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(view, "evses"), i, e)
		if (json_integer_value(json_object_get(e, "evse_id")) == evse)
			return e;
	return NULL;
}

static void test_report_and_limit(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_connect(p->port, "PRF-201", PW201, "ocpp2.0.1", 5000, NULL);
	struct tcp *old = NULL;
	struct http_async *a;
	json_t *conf = NULL, *f = NULL, *j = NULL, *e, *lim;
	long long rid;
	int status = 0;
	char err[64] = "";

	assert_non_null(tc);
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	json_decref(conf);

	/* nothing reported yet */
	j = http_get_json(p->port, "/api/stations/PRF-201/charging-profiles");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "evses")), 0);
	assert_true(json_is_null(json_object_get(j, "charging_limit")));
	json_decref(j);

	/* the command: GetChargingProfiles with a request id the answer names */
	a = http_request_start(p->port, "POST", "/api/stations/PRF-201/charging-profiles/report",
			       "{\"evse_id\": 1, \"purpose\": \"tx\"}", 15000);
	assert_non_null(a);
	assert_int_equal(tc_next_call(tc, 10000, &f), 0);
	assert_string_equal(json_string_value(json_array_get(f, 2)), "GetChargingProfiles");
	rid = json_integer_value(json_object_get(json_array_get(f, 3), "requestId"));
	assert_true(rid > 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 3), "evseId")), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(f, 3), "chargingProfile"),
				"chargingProfilePurpose")),
			    "TxProfile");
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(f, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "Accepted");
	assert_int_equal(json_integer_value(json_object_get(j, "request_id")), rid);
	json_decref(j);

	/* an older request's report of EVSE 1, then the new one in two parts, and EVSE 2 */
	report(tc, (int)rid + 1000, 1, false, json_pack("[o]", profile(7001, 1000)));
	report(tc, (int)rid, 1, true, json_pack("[o]", profile(9101, 7400)));
	report(tc, (int)rid, 1, false, json_pack("[o]", profile(9102, 3700)));
	report(tc, (int)rid, 2, false, json_pack("[o]", profile(9103, 11000)));
	assert_int_equal(
	    tc_call(tc, "NotifyChargingLimit",
		    json_pack("{s:{s:s, s:b}, s:i, s:[{s:i, s:s, s:[{s:i, s:i}]}]}",
			      "chargingLimit", "chargingLimitSource", "EMS", "isGridCritical", 1,
			      "evseId", 1, "chargingSchedule", "id", 1, "chargingRateUnit", "W",
			      "chargingSchedulePeriod", "startPeriod", 0, "limit", 3000),
		    &conf, err, 5000),
	    0);
	json_decref(conf);

	j = http_get_json(p->port, "/api/stations/PRF-201/charging-profiles");
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "station")), "PRF-201");
	assert_int_equal(json_array_size(json_object_get(j, "evses")), 2);
	e = evse_of(j, 1);
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "request_id")), rid);
	assert_string_equal(json_string_value(json_object_get(e, "source")), "CSO");
	assert_true(is_rfc3339(json_string_value(json_object_get(e, "reported"))));
	/* both parts, in the order sent; the older request's profile is not there */
	assert_int_equal(json_array_size(json_object_get(e, "profiles")), 2);
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(e, "profiles"), 0), "id")),
			 9101);
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(e, "profiles"), 1), "id")),
			 9102);
	e = evse_of(j, 2);
	assert_non_null(e);
	assert_int_equal(json_array_size(json_object_get(e, "profiles")), 1);
	/* the EVSEs by id */
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(j, "evses"), 0), "evse_id")),
			 1);
	lim = json_object_get(j, "charging_limit");
	assert_true(json_is_object(lim));
	assert_string_equal(json_string_value(json_object_get(lim, "source")), "EMS");
	assert_true(json_is_true(json_object_get(lim, "grid_critical")));
	assert_int_equal(json_integer_value(json_object_get(lim, "evse_id")), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_array_get(json_object_get(json_array_get(json_object_get(lim, "schedules"), 0),
					       "chargingSchedulePeriod"),
			       0),
		"limit")),
	    3000);
	json_decref(j);

	/* a newer limit replaces it */
	assert_int_equal(
	    tc_call(tc, "NotifyChargingLimit",
		    json_pack("{s:{s:s}}", "chargingLimit", "chargingLimitSource", "SO"), &conf,
		    err, 5000),
	    0);
	json_decref(conf);
	j = http_get_json(p->port, "/api/stations/PRF-201/charging-profiles");
	lim = json_object_get(j, "charging_limit");
	assert_string_equal(json_string_value(json_object_get(lim, "source")), "SO");
	assert_true(json_is_null(json_object_get(lim, "evse_id")));
	assert_true(json_is_null(json_object_get(lim, "schedules")));
	json_decref(j);
	/* ClearedChargingLimit (K13) is taken and answered */
	assert_int_equal(tc_call(tc, "ClearedChargingLimit",
				 json_pack("{s:s}", "chargingLimitSource", "SO"), &conf, err, 5000),
			 0);
	assert_true(json_is_object(conf));
	json_decref(conf);

	/* a bad criterion is refused before anything is sent */
	assert_int_equal(http_request(p->port, "POST",
				      "/api/stations/PRF-201/charging-profiles/report",
				      "{\"purpose\": \"nope\"}", &status, NULL, 5000),
			 0);
	assert_int_equal(status, 400);
	assert_int_equal(http_request(p->port, "GET", "/api/stations/NOPE/charging-profiles", NULL,
				      &status, NULL, 5000),
			 0);
	assert_int_equal(status, 404);

	/* OCPP 1.6 has no GetChargingProfiles: 409, nothing sent, the refusal logged */
	old = tc_booted16(p->port, "PRF-16", NULL);
	assert_non_null(old);
	assert_int_equal(http_request(p->port, "POST",
				      "/api/stations/PRF-16/charging-profiles/report", "{}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 409);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "1.6"));
	json_decref(j);
	assert_int_equal(tc_next_call(old, 300, &f), -ETIMEDOUT);
	j = http_get_json(p->port, "/api/commands?station=PRF-16");
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "commands"), 0), "status")),
			    "unsupported");
	json_decref(j);
	tc_close(old);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_report_and_limit, setup, csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("22-v201-profiles", tests, NULL, NULL);
}
