/* SPDX-License-Identifier: MIT */
/* 21: subprotocol negotiation; a mixed node with 1.6 and 2.0.1 chargers whose sessions the API
 * lists side by side with the same field meanings; 2.0.1 offline events delivered late. */
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
    "{\"id_tokens\": [{\"token\": \"MIX\", \"status\": \"Accepted\"}]}";

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, config);

	*state = p;
	return p ? 0 : -1;
}

static void test_negotiation(void **state)
{
	struct csms_proc *p = *state;
	struct tc_why why;
	struct tcp *tc;
	json_t *st;

	json_t *conf = NULL;
	char err[64];

	/* a station's row exists once it booted (issue 10: not at the bare upgrade) */
	tc = tc_connect(p->port, "NEG-1", PW201, "ocpp2.0.1,ocpp1.6", 5000, &why);
	assert_non_null(tc);
	assert_string_equal(tc_subprotocol(tc), "ocpp2.0.1");
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	json_decref(conf);
	tc_close(tc);
	tc = tc_connect(p->port, "NEG-2", NULL, "ocpp1.6", 5000, &why);
	assert_non_null(tc);
	assert_string_equal(tc_subprotocol(tc), "ocpp1.6");
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	tc_close(tc);
	tc = tc_connect(p->port, "NEG-3", PW201, "ocpp2.0.1", 5000, &why);
	assert_non_null(tc);
	assert_string_equal(tc_subprotocol(tc), "ocpp2.0.1");
	tc_close(tc);
	/* an unknown subprotocol, or none: refused at the handshake */
	assert_null(tc_connect(p->port, "NEG-4", NULL, "ocpp1.5", 5000, &why));
	assert_int_equal(why.end, CPCLIENT_END_REFUSED);
	assert_null(tc_connect(p->port, "NEG-5", NULL, "", 5000, &why));
	assert_int_equal(why.end, CPCLIENT_END_REFUSED);
	/* the version is recorded on the station */
	st = http_get_json(p->port, "/api/stations/NEG-1");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "protocol")), "ocpp2.0.1");
	json_decref(st);
	st = http_get_json(p->port, "/api/stations/NEG-2");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "protocol")), "ocpp1.6");
	json_decref(st);
	assert_int_equal(
	    http_request(p->port, "GET", "/api/stations/NEG-4", NULL, &(int){0}, NULL, 5000), 0);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* The same session through both versions: 2 kWh from 10:00 to 11:00 on EVSE 1 with tag MIX. */
static void test_mixed_node_same_fields(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *a = tc_connect(p->port, "MIX-16", NULL, "ocpp1.6", 5000, NULL);
	struct tcp *b = tc_connect(p->port, "MIX-201", PW201, "ocpp2.0.1", 5000, NULL);
	const char *start = "2026-11-20T10:00:00.000Z", *stop = "2026-11-20T11:00:00.000Z";
	static const char *const same[] = {
	    "evse_id",	      "connector_id",  "id_tag",    "auth_status", "start", "stop",
	    "meter_start_wh", "meter_stop_wh", "energy_wh", "stop_reason", "active"};
	json_t *conf = NULL, *s16, *s201, *list;
	char err[64];
	long long txid;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(tc_boot16(a, &conf, err), 0);
	json_decref(conf);
	assert_int_equal(tc_boot201(b, &conf, err), 0);
	json_decref(conf);

	/* 1.6 */
	assert_int_equal(tc_call(a, "StartTransaction",
				 json_pack("{s:i, s:s, s:i, s:s}", "connectorId", 1, "idTag", "MIX",
					   "meterStart", 10000, "timestamp", start),
				 &conf, err, 5000),
			 0);
	txid = json_integer_value(json_object_get(conf, "transactionId"));
	json_decref(conf);
	assert_int_equal(tc_call(a, "StopTransaction",
				 json_pack("{s:I, s:s, s:i, s:s, s:s}", "transactionId",
					   (json_int_t)txid, "idTag", "MIX", "meterStop", 12000,
					   "timestamp", stop, "reason", "EVDisconnected"),
				 &conf, err, 5000),
			 0);
	json_decref(conf);
	/* 2.0.1 */
	assert_int_equal(tc_call(b, "TransactionEvent",
				 tx_event("Started", "MIX-TX", 0, start, "Authorized", 1, "MIX",
					  10000, "Transaction.Begin"),
				 &conf, err, 5000),
			 0);
	json_decref(conf);
	{
		json_t *ended = tx_event("Ended", "MIX-TX", 1, stop, "EVDeparted", 0, NULL, 12000,
					 "Transaction.End");

		json_object_set_new(json_object_get(ended, "transactionInfo"), "stoppedReason",
				    json_string("EVDisconnected"));
		assert_int_equal(tc_call(b, "TransactionEvent", ended, &conf, err, 5000), 0);
		json_decref(conf);
	}

	/* listed side by side */
	list = http_get_json(p->port, "/api/sessions");
	assert_non_null(list);
	s16 = json_find(json_object_get(list, "sessions"), "station", "MIX-16");
	s201 = json_find(json_object_get(list, "sessions"), "station", "MIX-201");
	assert_non_null(s16);
	assert_non_null(s201);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		json_t *x = json_object_get(s16, same[i]), *y = json_object_get(s201, same[i]);

		if (!json_equal(x, y))
			fail_msg("field %s differs between 1.6 and 2.0.1 sessions", same[i]);
	}
	assert_int_equal(json_integer_value(json_object_get(s16, "energy_wh")), 2000);
	/* only the id the charger knows differs */
	assert_string_equal(json_string_value(json_object_get(s201, "transaction_id")), "MIX-TX");
	{
		char want[32];

		snprintf(want, sizeof(want), "%lld", txid);
		assert_string_equal(json_string_value(json_object_get(s16, "transaction_id")),
				    want);
	}
	json_decref(list);
	tc_close(a);
	tc_close(b);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* Events queued while offline arrive after a reconnect, out of order: the Updated first, then
 * the Started (at its earlier time), then the Ended. */
static void test_offline_events_after_reconnect(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_connect(p->port, "OFF-1", PW201, "ocpp2.0.1", 5000, NULL);
	json_t *conf = NULL, *s, *ev;
	char err[64], t0[32], t1[32], t2[32];

	assert_non_null(tc);
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	json_decref(conf);
	tc_close(tc); /* network gone; the charger keeps charging offline */

	rfc3339_offset(t0, -7200);
	rfc3339_offset(t1, -5400);
	rfc3339_offset(t2, -3600);
	tc = tc_connect(p->port, "OFF-1", PW201, "ocpp2.0.1", 5000, NULL);
	assert_non_null(tc);
	ev = tx_event("Updated", "OFF-TX", 1, t1, "MeterValuePeriodic", 0, NULL, 3000, NULL);
	json_object_set_new(ev, "offline", json_true());
	assert_int_equal(tc_call(tc, "TransactionEvent", ev, &conf, err, 5000), 0);
	json_decref(conf);
	ev = tx_event("Started", "OFF-TX", 0, t0, "CablePluggedIn", 1, "MIX", 1000,
		      "Transaction.Begin");
	json_object_set_new(ev, "offline", json_true());
	assert_int_equal(tc_call(tc, "TransactionEvent", ev, &conf, err, 5000), 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(conf, "idTokenInfo"), "status")),
	    "Accepted");
	json_decref(conf);
	ev = tx_event("Ended", "OFF-TX", 3, t2, "EVDeparted", 0, NULL, 5000, "Transaction.End");
	json_object_set_new(ev, "offline", json_true());
	assert_int_equal(tc_call(tc, "TransactionEvent", ev, &conf, err, 5000), 0);
	json_decref(conf);
	/* a late Updated after the Ended does not reopen the session */
	ev = tx_event("Updated", "OFF-TX", 2, t1, "MeterValuePeriodic", 0, NULL, 4000, NULL);
	json_object_set_new(ev, "offline", json_true());
	assert_int_equal(tc_call(tc, "TransactionEvent", ev, &conf, err, 5000), 0);
	json_decref(conf);

	s = find_session(p->port, "OFF-1", "OFF-TX");
	assert_non_null(s);
	assert_false(json_is_true(json_object_get(s, "active")));
	{
		json_t *st = json_object_get(s, "start");
		double age = rfc3339_age_s(json_string_value(st));

		/* placed at the Started's own time, not at the first event's */
		assert_true(age > 7100 && age < 7300);
	}
	assert_int_equal(json_integer_value(json_object_get(s, "meter_start_wh")), 1000);
	assert_int_equal(json_integer_value(json_object_get(s, "meter_stop_wh")), 5000);
	assert_int_equal(json_integer_value(json_object_get(s, "energy_wh")), 4000);
	assert_int_equal(json_integer_value(json_object_get(s, "offline_events")), 4);
	assert_int_equal(json_integer_value(json_object_get(s, "seq_gaps")), 0);
	assert_string_equal(json_string_value(json_object_get(s, "id_tag")), "MIX");
	json_decref(s);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_negotiation, setup, csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_mixed_node_same_fields, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_offline_events_after_reconnect, setup,
					    csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("21-v201-mixed", tests, NULL, NULL);
}
