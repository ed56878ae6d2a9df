/* SPDX-License-Identifier: MIT */
/* 03: Authorize, Start/StopTransaction and MeterValues as the API shows them, replays included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static const char *const open_args[] = {"--registration", "open", NULL};
static const char *const tokens_config =
    "{\"id_tokens\": ["
    "{\"token\": \"TAG1\", \"status\": \"Accepted\"},"
    "{\"token\": \"BLK\", \"status\": \"Blocked\"},"
    "{\"token\": \"EXP\", \"status\": \"Accepted\", \"expiry\": \"2000-01-01T00:00:00Z\"},"
    "{\"token\": \"CHILD\", \"status\": \"Accepted\", \"parent\": \"PARENT1\"}"
    "]}";

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, tokens_config);

	*state = p;
	return p ? 0 : -1;
}

/* CALL that must be answered with a CALLRESULT; returns its payload (new reference). */
static json_t *must_call(struct tcp *tc, const char *action, json_t *payload)
{
	json_t *conf = NULL;
	char err[64] = "";
	int r;

	r = tc_call(tc, action, payload, &conf, err, 5000);
	if (r != 0)
		fail_msg("%s: got %s (%d) instead of a CALLRESULT", action,
			 r == 1 ? err : "no answer", r);
	return conf;
}

static const char *idtag_status(const json_t *conf)
{
	return json_string_value(json_object_get(json_object_get(conf, "idTagInfo"), "status"));
}

static json_int_t start_txn(struct tcp *tc, int connector, const char *tag, int meter_start,
			    const char *ts)
{
	json_t *conf;
	json_int_t id;

	conf = must_call(tc, "StartTransaction",
			 json_pack("{s:i,s:s,s:i,s:s}", "connectorId", connector, "idTag", tag,
				   "meterStart", meter_start, "timestamp", ts));
	assert_true(json_is_integer(json_object_get(conf, "transactionId")));
	id = json_integer_value(json_object_get(conf, "transactionId"));
	assert_true(id > 0);
	assert_string_equal(idtag_status(conf), "Accepted");
	json_decref(conf);
	return id;
}

static json_t *get_session(struct csms_proc *p, json_int_t id)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/sessions/%lld", (long long)id);
	return http_get_json(p->port, path);
}

static size_t count_sessions(struct csms_proc *p, const char *query)
{
	char path[160];
	json_t *j;
	size_t n;

	snprintf(path, sizeof(path), "/api/sessions?%s", query);
	j = http_get_json(p->port, path);
	assert_non_null(j);
	assert_true(json_is_array(json_object_get(j, "sessions")));
	n = json_array_size(json_object_get(j, "sessions"));
	json_decref(j);
	return n;
}

/* The meter value in `mv` with these fields (NULL: must be null/absent), or NULL. */
static const json_t *find_mv(const json_t *mv, const char *measurand, const char *phase,
			     const char *unit, const char *context, const char *value)
{
	const char *want[] = {measurand, phase, unit, context, value};
	const char *keys[] = {"measurand", "phase", "unit", "context", "value"};
	size_t i, k;
	json_t *m;

	json_array_foreach(mv, i, m) {
		for (k = 0; k < 5; k++) {
			const char *v = json_string_value(json_object_get(m, keys[k]));

			if (want[k] ? !v || strcmp(v, want[k]) : v != NULL)
				break;
		}
		if (k == 5)
			return m;
	}
	return NULL;
}

static void test_authorize_statuses(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-AUTHZ-1", NULL);
	json_t *conf;

	conf = must_call(tc, "Authorize", json_pack("{s:s}", "idTag", "NOBODY-KNOWS"));
	assert_string_equal(idtag_status(conf), "Invalid");
	json_decref(conf);

	conf = must_call(tc, "Authorize", json_pack("{s:s}", "idTag", "TAG1"));
	assert_string_equal(idtag_status(conf), "Accepted");
	json_decref(conf);

	conf = must_call(tc, "Authorize", json_pack("{s:s}", "idTag", "BLK"));
	assert_string_equal(idtag_status(conf), "Blocked");
	json_decref(conf);

	/* accepted but past its expiry */
	conf = must_call(tc, "Authorize", json_pack("{s:s}", "idTag", "EXP"));
	assert_string_equal(idtag_status(conf), "Expired");
	json_decref(conf);

	conf = must_call(tc, "Authorize", json_pack("{s:s}", "idTag", "CHILD"));
	assert_string_equal(idtag_status(conf), "Accepted");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(conf, "idTagInfo"), "parentIdTag")),
	    "PARENT1");
	json_decref(conf);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_session_start_meter_stop(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-TX-1", NULL);
	char t0[32], t1[32], t2[32];
	json_t *conf, *s, *mv;
	json_int_t id;

	rfc3339_offset(t0, -600);
	rfc3339_offset(t1, -300);
	rfc3339_offset(t2, -5);
	id = start_txn(tc, 1, "TAG1", 1000, t0);

	/* while it runs, the session is active */
	s = get_session(p, id);
	assert_non_null(s);
	assert_true(json_is_null(json_object_get(s, "stop")));
	assert_true(json_is_true(json_object_get(s, "active")));
	json_decref(s);

	conf = must_call(
	    tc, "MeterValues",
	    json_pack("{s:i,s:I,s:[{s:s,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s,s:s},"
		      "{s:s,s:s,s:s,s:s,s:s,s:s}]}]}",
		      "connectorId", 1, "transactionId", id, "meterValue", "timestamp", t1,
		      "sampledValue", "value", "1500", "measurand", "Energy.Active.Import.Register",
		      "unit", "Wh", "context", "Sample.Periodic", "value", "16.2", "measurand",
		      "Current.Import", "phase", "L1", "unit", "A", "context", "Sample.Periodic",
		      "value", "230.1", "measurand", "Voltage", "phase", "L1-N", "unit", "V",
		      "context", "Sample.Periodic", "location", "Outlet"));
	assert_int_equal(json_object_size(conf), 0);
	json_decref(conf);

	conf = must_call(
	    tc, "StopTransaction",
	    json_pack("{s:I,s:s,s:i,s:s,s:s,s:[{s:s,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s}]}]}",
		      "transactionId", id, "idTag", "TAG1", "meterStop", 4000, "timestamp", t2,
		      "reason", "EVDisconnected", "transactionData", "timestamp", t2,
		      "sampledValue", "value", "4000", "measurand", "Energy.Active.Import.Register",
		      "unit", "Wh", "context", "Transaction.End", "value", "11", "measurand", "SoC",
		      "unit", "Percent", "context", "Transaction.End"));
	assert_string_equal(idtag_status(conf), "Accepted");
	json_decref(conf);

	s = get_session(p, id);
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "id")), id);
	assert_string_equal(json_string_value(json_object_get(s, "station")), "CP-TX-1");
	/* 1.6: the transactionId given to the charger, as a string; connector 1 = EVSE 1 */
	snprintf(t0, sizeof(t0), "%lld", (long long)id);
	assert_string_equal(json_string_value(json_object_get(s, "transaction_id")), t0);
	assert_int_equal(json_integer_value(json_object_get(s, "evse_id")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "connector_id")), 1);
	assert_false(json_is_true(json_object_get(s, "active")));
	assert_string_equal(json_string_value(json_object_get(s, "id_tag")), "TAG1");
	assert_string_equal(json_string_value(json_object_get(s, "auth_status")), "Accepted");
	assert_int_equal(json_integer_value(json_object_get(s, "meter_start_wh")), 1000);
	assert_int_equal(json_integer_value(json_object_get(s, "meter_stop_wh")), 4000);
	assert_int_equal(json_integer_value(json_object_get(s, "energy_wh")), 3000);
	assert_string_equal(json_string_value(json_object_get(s, "stop_reason")), "EVDisconnected");
	assert_true(is_rfc3339(json_string_value(json_object_get(s, "start"))));
	assert_true(is_rfc3339(json_string_value(json_object_get(s, "stop"))));

	/* every sampled value, with its attributes, the transactionData ones included */
	mv = json_object_get(s, "meter_values");
	assert_int_equal(json_array_size(mv), 5);
	assert_true(json_is_null(json_object_get(s, "meter_values_next"))); /* all on page one */
	assert_non_null(
	    find_mv(mv, "Energy.Active.Import.Register", NULL, "Wh", "Sample.Periodic", "1500"));
	assert_non_null(find_mv(mv, "Current.Import", "L1", "A", "Sample.Periodic", "16.2"));
	assert_non_null(find_mv(mv, "Voltage", "L1-N", "V", "Sample.Periodic", "230.1"));
	assert_string_equal(
	    json_string_value(json_object_get(
		find_mv(mv, "Voltage", "L1-N", "V", "Sample.Periodic", "230.1"), "location")),
	    "Outlet");
	assert_non_null(
	    find_mv(mv, "Energy.Active.Import.Register", NULL, "Wh", "Transaction.End", "4000"));
	assert_non_null(find_mv(mv, "SoC", NULL, "Percent", "Transaction.End", "11"));
	for (size_t i = 0; i < json_array_size(mv); i++)
		assert_true(is_rfc3339(
		    json_string_value(json_object_get(json_array_get(mv, i), "timestamp"))));
	json_decref(s);

	/* listed, and no longer active */
	assert_int_equal(count_sessions(p, "station=CP-TX-1"), 1);
	assert_int_equal(count_sessions(p, "station=CP-TX-1&active=true"), 0);
	assert_int_equal(count_sessions(p, "station=CP-TX-1&active=false"), 1);
	/* from/to bound the start (the charger's timestamp, now) */
	assert_int_equal(count_sessions(p, "station=CP-TX-1&from=2000-01-01T00:00:00Z"), 1);
	assert_int_equal(count_sessions(p, "station=CP-TX-1&from=2999-01-01T00:00:00Z"), 0);
	assert_int_equal(count_sessions(p, "station=CP-TX-1&to=2000-01-01T00:00:00Z"), 0);
	assert_int_equal(count_sessions(p, "station=CP-TX-1&from=2000-01-01T00:00:00Z&to=2999-01-"
					   "01T00:00:00Z"),
			 1);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_replays_have_one_effect(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-TX-2", NULL);
	json_t *conf, *s, *mv_payload;
	char t0[32], t1[32];
	json_int_t id, id2, id3;
	char err[64];
	int r;

	/* a replayed StartTransaction (same connector, idTag, timestamp, meterStart) gets the
	 * same transaction id, even under a new message id */
	rfc3339_offset(t0, -120);
	id = start_txn(tc, 1, "TAG1", 500, t0);
	id2 = start_txn(tc, 1, "TAG1", 500, t0);
	assert_int_equal(id2, id);
	assert_int_equal(count_sessions(p, "station=CP-TX-2"), 1);
	assert_int_equal(count_sessions(p, "station=CP-TX-2&active=true"), 1);

	/* the same message id twice: the same answer, one effect */
	conf = NULL;
	r = tc_call_id(tc, "dup-start-1", "StartTransaction",
		       json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 2, "idTag", "TAG1",
				 "meterStart", 70, "timestamp", t0),
		       &conf, err, 5000);
	assert_int_equal(r, 0);
	id3 = json_integer_value(json_object_get(conf, "transactionId"));
	assert_true(id3 > 0 && id3 != id);
	json_decref(conf);
	r = tc_call_id(tc, "dup-start-1", "StartTransaction",
		       json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 2, "idTag", "TAG1",
				 "meterStart", 70, "timestamp", t0),
		       &conf, err, 5000);
	assert_int_equal(r, 0);
	assert_int_equal(json_integer_value(json_object_get(conf, "transactionId")), id3);
	json_decref(conf);
	assert_int_equal(count_sessions(p, "station=CP-TX-2"), 2);

	rfc3339_offset(t1, -60);
	mv_payload =
	    json_pack("{s:i,s:I,s:[{s:s,s:[{s:s,s:s,s:s}]}]}", "connectorId", 1, "transactionId",
		      id, "meterValue", "timestamp", t1, "sampledValue", "value", "777",
		      "measurand", "Energy.Active.Import.Register", "unit", "Wh");
	for (int i = 0; i < 2; i++) {
		conf = NULL;
		r = tc_call_id(tc, "dup-mv-1", "MeterValues", json_deep_copy(mv_payload), &conf,
			       err, 5000);
		assert_int_equal(r, 0);
		assert_int_equal(json_object_size(conf), 0);
		json_decref(conf);
	}
	json_decref(mv_payload);
	/* Heartbeat retried under one id: answered both times */
	for (int i = 0; i < 2; i++) {
		conf = NULL;
		assert_int_equal(
		    tc_call_id(tc, "dup-hb-1", "Heartbeat", json_object(), &conf, err, 5000), 0);
		assert_true(is_rfc3339(json_string_value(json_object_get(conf, "currentTime"))));
		json_decref(conf);
	}

	s = get_session(p, id);
	assert_non_null(s);
	assert_int_equal(json_array_size(json_object_get(s, "meter_values")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "meter_start_wh")), 500);
	json_decref(s);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_unknown_stop_is_an_orphan(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-TX-3", NULL);
	json_t *conf, *o, *orphans;
	char t[32];

	rfc3339_offset(t, -30);
	conf = must_call(tc, "StopTransaction",
			 json_pack("{s:i,s:s,s:i,s:s,s:s}", "transactionId", 999999, "idTag",
				   "TAG1", "meterStop", 50, "timestamp", t, "reason", "Local"));
	assert_non_null(idtag_status(conf));
	json_decref(conf);
	conf = must_call(tc, "StopTransaction",
			 json_pack("{s:i,s:i,s:s,s:s}", "transactionId", -1, "meterStop", 60,
				   "timestamp", t, "reason", "PowerLoss"));
	json_decref(conf);

	orphans = http_get_json(p->port, "/api/orphans");
	assert_non_null(orphans);
	o = NULL;
	for (size_t i = 0; i < json_array_size(json_object_get(orphans, "orphans")); i++) {
		json_t *x = json_array_get(json_object_get(orphans, "orphans"), i);

		if (json_integer_value(json_object_get(x, "transaction_id")) == 999999)
			o = x;
	}
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "station")), "CP-TX-3");
	assert_string_equal(json_string_value(json_object_get(o, "id_tag")), "TAG1");
	assert_int_equal(json_integer_value(json_object_get(o, "meter_stop_wh")), 50);
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "Local");
	assert_true(is_rfc3339(json_string_value(json_object_get(o, "timestamp"))));
	assert_true(is_rfc3339(json_string_value(json_object_get(o, "received"))));
	o = NULL;
	for (size_t i = 0; i < json_array_size(json_object_get(orphans, "orphans")); i++) {
		json_t *x = json_array_get(json_object_get(orphans, "orphans"), i);

		if (json_integer_value(json_object_get(x, "transaction_id")) == -1)
			o = x;
	}
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "meter_stop_wh")), 60);
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "PowerLoss");
	json_decref(orphans);
	/* and no session was made up for them */
	assert_int_equal(count_sessions(p, "station=CP-TX-3"), 0);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_station_cannot_touch_anothers_transaction(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *a = tc_booted16(p->port, "CP-TX-A", NULL);
	struct tcp *b = tc_booted16(p->port, "CP-TX-B", NULL);
	json_t *conf, *s, *orphans, *o;
	char t0[32], t1[32];
	json_int_t id;
	char err[64];
	int r;

	rfc3339_offset(t0, -100);
	rfc3339_offset(t1, -10);
	id = start_txn(a, 1, "TAG1", 100, t0);

	/* B sends meter values and a stop for A's transaction; whatever it is answered, A's
	 * session must not change */
	conf = NULL;
	r = tc_call(b, "MeterValues",
		    json_pack("{s:i,s:I,s:[{s:s,s:[{s:s}]}]}", "connectorId", 1, "transactionId",
			      id, "meterValue", "timestamp", t1, "sampledValue", "value", "99999"),
		    &conf, err, 5000);
	assert_true(r == 0 || r == 1);
	json_decref(conf);
	conf = NULL;
	r = tc_call(b, "StopTransaction",
		    json_pack("{s:I,s:s,s:i,s:s,s:s}", "transactionId", id, "idTag", "TAG1",
			      "meterStop", 99999, "timestamp", t1, "reason", "Other"),
		    &conf, err, 5000);
	/* a StopTransaction is always acknowledged (the charger would retry forever) */
	assert_int_equal(r, 0);
	json_decref(conf);

	s = get_session(p, id);
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "station")), "CP-TX-A");
	assert_true(json_is_null(json_object_get(s, "stop")));
	assert_true(json_is_null(json_object_get(s, "meter_stop_wh")));
	assert_true(json_is_null(json_object_get(s, "stop_reason")));
	assert_int_equal(json_array_size(json_object_get(s, "meter_values")), 0);
	json_decref(s);
	assert_int_equal(count_sessions(p, "station=CP-TX-A&active=true"), 1);

	/* B's stop is kept as an orphan of B */
	orphans = http_get_json(p->port, "/api/orphans");
	assert_non_null(orphans);
	o = json_find(json_object_get(orphans, "orphans"), "station", "CP-TX-B");
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "transaction_id")), id);
	json_decref(orphans);

	/* A itself can still stop it */
	conf = must_call(
	    a, "StopTransaction",
	    json_pack("{s:I,s:i,s:s}", "transactionId", id, "meterStop", 300, "timestamp", t1));
	json_decref(conf);
	s = get_session(p, id);
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "energy_wh")), 200);
	json_decref(s);

	tc_close(a);
	tc_close(b);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_authorize_statuses, setup, csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_session_start_meter_stop, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_replays_have_one_effect, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_unknown_stop_is_an_orphan, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_station_cannot_touch_anothers_transaction, setup,
					    csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("03-txn", tests, NULL, NULL);
}
