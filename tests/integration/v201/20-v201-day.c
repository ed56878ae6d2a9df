/* SPDX-License-Identifier: MIT */
/* 20: a whole OCPP 2.0.1 day on the real server: boot, status, authorize, a transaction with
 * meter values, a replayed event, a three-part NotifyReport, remote start/stop, Get/SetVariables
 * and Reset through the API, then kill -9 right after a Started reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common201.h"

static const char *const open_args[] = {"--registration", "open", NULL};
/* OCPP 2.0.1 never gets profile 0: its first password is bound to the station */
#define PW201 "lab-password-201-0001"
static const char *const config =
    "{\"id_tokens\": [{\"token\": \"TAG201\", \"status\": \"Accepted\", \"parent\": \"FLEET\"},"
    " {\"token\": \"BLK201\", \"status\": \"Blocked\"}]}";

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, config);

	*state = p;
	return p ? 0 : -1;
}

/* Answer the next CSMS call, which must be `action`, with payload; returns the request. */
static json_t *answer_next(struct tcp *tc, const char *action, json_t *payload)
{
	json_t *frame = NULL;

	assert_int_equal(tc_next_call(tc, 5000, &frame), 0);
	assert_string_equal(json_string_value(json_array_get(frame, 2)), action);
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(frame, 1)), payload), 0);
	return frame;
}

static void test_v201_day(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc;
	struct http_async *ha;
	json_t *conf = NULL, *s, *frame, *j;
	char err[64] = "", t0[32], t1[32], t2[32], body[128];
	int status;

	tc = tc_connect(p->port, "CS201-A", PW201, "ocpp2.0.1", 5000, NULL);
	assert_non_null(tc);
	assert_string_equal(tc_subprotocol(tc), "ocpp2.0.1");
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	json_decref(conf);

	rfc3339_now(t0);
	assert_int_equal(
	    tc_call(tc, "StatusNotification",
		    json_pack("{s:s, s:s, s:i, s:i}", "timestamp", t0, "connectorStatus",
			      "Occupied", "evseId", 1, "connectorId", 1),
		    &conf, err, 5000),
	    0);
	json_decref(conf);

	/* Authorize: Accepted with the group id token; Blocked; unknown → Invalid */
	assert_int_equal(
	    tc_call(tc, "Authorize",
		    json_pack("{s:{s:s, s:s}}", "idToken", "idToken", "TAG201", "type", "ISO14443"),
		    &conf, err, 5000),
	    0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(conf, "idTokenInfo"), "status")),
	    "Accepted");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(conf, "idTokenInfo"), "groupIdToken"), "idToken")),
	    "FLEET");
	json_decref(conf);
	assert_int_equal(
	    tc_call(tc, "Authorize",
		    json_pack("{s:{s:s, s:s}}", "idToken", "idToken", "BLK201", "type", "ISO14443"),
		    &conf, err, 5000),
	    0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(conf, "idTokenInfo"), "status")),
	    "Blocked");
	json_decref(conf);

	/* Started (1000 Wh) → Updated (replayed once) → Ended (7.5 kWh) */
	rfc3339_offset(t0, -3600);
	rfc3339_offset(t1, -1800);
	rfc3339_offset(t2, -60);
	assert_int_equal(tc_call(tc, "TransactionEvent",
				 tx_event("Started", "TX-DAY-1", 0, t0, "Authorized", 1, "TAG201",
					  1000, "Transaction.Begin"),
				 &conf, err, 5000),
			 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(conf, "idTokenInfo"), "status")),
	    "Accepted");
	json_decref(conf);
	assert_int_equal(tc_call_id(tc, "upd-1", "TransactionEvent",
				    tx_event("Updated", "TX-DAY-1", 1, t1, "MeterValuePeriodic", 0,
					     NULL, 4000, NULL),
				    &conf, err, 5000),
			 0);
	json_decref(conf);
	/* the same event again under a new message id: acknowledged, applied once */
	assert_int_equal(tc_call(tc, "TransactionEvent",
				 tx_event("Updated", "TX-DAY-1", 1, t1, "MeterValuePeriodic", 0,
					  NULL, 4000, NULL),
				 &conf, err, 5000),
			 0);
	json_decref(conf);
	{
		json_t *ended =
		    tx_event("Ended", "TX-DAY-1", 2, t2, "EVDeparted", 0, NULL, -1, NULL);
		json_t *sv = json_pack("{s:f, s:s, s:{s:s}}", "value", 7.5, "context",
				       "Transaction.End", "unitOfMeasure", "unit", "kWh");

		json_object_set_new(json_object_get(ended, "transactionInfo"), "stoppedReason",
				    json_string("EVDisconnected"));
		json_object_set_new(
		    ended, "meterValue",
		    json_pack("[{s:s, s:[o]}]", "timestamp", t2, "sampledValue", sv));
		assert_int_equal(tc_call(tc, "TransactionEvent", ended, &conf, err, 5000), 0);
		json_decref(conf);
	}
	s = find_session(p->port, "CS201-A", "TX-DAY-1");
	assert_non_null(s);
	assert_false(json_is_true(json_object_get(s, "active")));
	assert_int_equal(json_integer_value(json_object_get(s, "evse_id")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "connector_id")), 1);
	assert_string_equal(json_string_value(json_object_get(s, "id_tag")), "TAG201");
	assert_int_equal(json_integer_value(json_object_get(s, "meter_start_wh")), 1000);
	assert_int_equal(json_integer_value(json_object_get(s, "meter_stop_wh")), 7500);
	assert_int_equal(json_integer_value(json_object_get(s, "energy_wh")), 6500);
	assert_string_equal(json_string_value(json_object_get(s, "stop_reason")), "EVDisconnected");
	assert_int_equal(json_integer_value(json_object_get(s, "seq_gaps")), 0);
	snprintf(body, sizeof(body), "/api/sessions/%lld",
		 (long long)json_integer_value(json_object_get(s, "id")));
	json_decref(s);
	j = http_get_json(p->port, body);
	assert_non_null(j);
	/* three distinct readings stored once each (the replayed Updated added none) */
	assert_int_equal(json_array_size(json_object_get(j, "meter_values")), 3);
	json_decref(j);

	/* NotifyReport in three parts */
	for (int part = 0; part < 3; part++) {
		char name[32];

		rfc3339_now(t0);
		snprintf(name, sizeof(name), "Var%d", part);
		assert_int_equal(
		    tc_call(tc, "NotifyReport",
			    json_pack("{s:i, s:s, s:b, s:i, s:[{s:{s:s, s:{s:i}}, s:{s:s}, "
				      "s:[{s:s, s:s, s:s}], s:{s:s, s:s, s:b}}]}",
				      "requestId", 42, "generatedAt", t0, "tbc", part < 2, "seqNo",
				      part, "reportData", "component", "name", "EVSE", "evse", "id",
				      1, "variable", "name", name, "variableAttribute", "type",
				      "Actual", "value", part == 1 ? "22000" : "x", "mutability",
				      "ReadOnly", "variableCharacteristics", "dataType", "string",
				      "unit", "W", "supportsMonitoring", 0),
			    &conf, err, 5000),
		    0);
		json_decref(conf);
	}
	j = http_get_json(p->port, "/api/stations/CS201-A/variables");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "variables")), 3);
	s = json_find(json_object_get(j, "variables"), "variable", "Var1");
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "value")), "22000");
	assert_int_equal(json_integer_value(json_object_get(s, "evse_id")), 1);
	json_decref(j);

	/* remote start through the version-neutral API: the charger sees RequestStartTransaction */
	ha = http_request_start(p->port, "POST", "/api/stations/CS201-A/remote-start",
				"{\"id_tag\": \"TAG201\", \"evse_id\": 1}", 5000);
	assert_non_null(ha);
	frame =
	    answer_next(tc, "RequestStartTransaction", json_pack("{s:s}", "status", "Accepted"));
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(frame, 3), "idToken"), "idToken")),
			    "TAG201");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(frame, 3), "evseId")),
			 1);
	json_decref(frame);
	assert_int_equal(http_request_join(ha, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "Accepted");
	json_decref(j);

	/* the charger starts it; remote stop by session id → RequestStopTransaction with its id */
	rfc3339_now(t0);
	assert_int_equal(tc_call(tc, "TransactionEvent",
				 tx_event("Started", "TX-REMOTE", 0, t0, "RemoteStart", 1, "TAG201",
					  7500, "Transaction.Begin"),
				 &conf, err, 5000),
			 0);
	json_decref(conf);
	s = find_session(p->port, "CS201-A", "TX-REMOTE");
	assert_non_null(s);
	snprintf(body, sizeof(body), "{\"session_id\": %lld}",
		 (long long)json_integer_value(json_object_get(s, "id")));
	json_decref(s);
	ha = http_request_start(p->port, "POST", "/api/stations/CS201-A/remote-stop", body, 5000);
	frame = answer_next(tc, "RequestStopTransaction", json_pack("{s:s}", "status", "Accepted"));
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(frame, 3), "transactionId")),
	    "TX-REMOTE");
	json_decref(frame);
	assert_int_equal(http_request_join(ha, &status, NULL), 0);
	assert_int_equal(status, 200);

	/* raw GetVariables / SetVariables, validated against the 2.0.1 schema */
	ha = http_request_start(
	    p->port, "POST", "/api/stations/CS201-A/commands/GetVariables",
	    "{\"getVariableData\": [{\"component\": {\"name\": \"OCPPCommCtrlr\"},"
	    " \"variable\": {\"name\": \"HeartbeatInterval\"}}]}",
	    5000);
	frame = answer_next(tc, "GetVariables",
			    json_pack("{s:[{s:s, s:{s:s}, s:{s:s}, s:s}]}", "getVariableResult",
				      "attributeStatus", "Accepted", "component", "name",
				      "OCPPCommCtrlr", "variable", "name", "HeartbeatInterval",
				      "attributeValue", "300"));
	json_decref(frame);
	assert_int_equal(http_request_join(ha, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(j, "response"), "getVariableResult"),
			       0),
		"attributeValue")),
	    "300");
	json_decref(j);
	ha = http_request_start(
	    p->port, "POST", "/api/stations/CS201-A/commands/SetVariables",
	    "{\"setVariableData\": [{\"component\": {\"name\": \"OCPPCommCtrlr\"},"
	    " \"variable\": {\"name\": \"HeartbeatInterval\"},"
	    " \"attributeValue\": \"600\"}]}",
	    5000);
	frame = answer_next(tc, "SetVariables",
			    json_pack("{s:[{s:s, s:{s:s}, s:{s:s}}]}", "setVariableResult",
				      "attributeStatus", "Accepted", "component", "name",
				      "OCPPCommCtrlr", "variable", "name", "HeartbeatInterval"));
	json_decref(frame);
	assert_int_equal(http_request_join(ha, &status, NULL), 0);
	assert_int_equal(status, 200);
	/* an invalid 2.0.1 payload never reaches the charger */
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CS201-A/commands/Reset",
				      "{\"type\": \"Hard\"}", &status, NULL, 5000),
			 0);
	assert_int_equal(status, 400);
	/* neutral reset: 2.0.1 Immediate */
	ha = http_request_start(p->port, "POST", "/api/stations/CS201-A/reset",
				"{\"type\": \"hard\"}", 5000);
	frame = answer_next(tc, "Reset", json_pack("{s:s}", "status", "Accepted"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(frame, 3), "type")),
			    "Immediate");
	json_decref(frame);
	assert_int_equal(http_request_join(ha, &status, NULL), 0);
	assert_int_equal(status, 200);

	/* 2.0.1 error spellings */
	assert_int_equal(tc_call(tc, "Heartbeat", json_pack("{s:i}", "bogus", 1), &conf, err, 5000),
			 1);
	assert_string_equal(err, "FormatViolation");
	assert_int_equal(tc_call(tc, "TransactionEvent", json_pack("{s:s}", "eventType", "Started"),
				 &conf, err, 5000),
			 1);
	assert_string_equal(err, "OccurrenceConstraintViolation");

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* kill -9 right after the Started reply: the session is there after a restart. */
static void test_v201_started_survives_kill9(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_connect(p->port, "CS201-K", PW201, "ocpp2.0.1", 5000, NULL);
	json_t *conf = NULL, *s;
	char err[64], t0[32];

	assert_non_null(tc);
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	json_decref(conf);
	rfc3339_now(t0);
	assert_int_equal(tc_call(tc, "TransactionEvent",
				 tx_event("Started", "TX-KILL", 0, t0, "CablePluggedIn", 2,
					  "TAG201", 555, "Transaction.Begin"),
				 &conf, err, 5000),
			 0);
	json_decref(conf);
	csms_kill9(p);
	tc_close(tc);
	assert_int_equal(csms_restart(p), 0);
	s = find_session(p->port, "CS201-K", "TX-KILL");
	assert_non_null(s);
	assert_true(json_is_true(json_object_get(s, "active")));
	assert_int_equal(json_integer_value(json_object_get(s, "meter_start_wh")), 555);
	assert_int_equal(json_integer_value(json_object_get(s, "evse_id")), 2);
	json_decref(s);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v201_day, setup, csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_v201_started_survives_kill9, setup,
					    csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("20-v201-day", tests, NULL, NULL);
}
