/* SPDX-License-Identifier: MIT */
/* The planner's run-time pieces: debounce, shaping to capabilities, A <-> W, the V2G convention
 * (docs/v2g.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "plan_rt.h"

static void test_debounce(void **state)
{
	int64_t first = 0;

	(void)state;
	/* the first request is due after the debounce */
	assert_int_equal(svc_plan_debounce(&first, 1000, 2000, 10000), 3000);
	assert_int_equal(first, 1000);
	/* a burst keeps moving it ... */
	assert_int_equal(svc_plan_debounce(&first, 2500, 2000, 10000), 4500);
	assert_int_equal(svc_plan_debounce(&first, 8000, 2000, 10000), 10000);
	/* ... but never beyond first + max_delay */
	assert_int_equal(svc_plan_debounce(&first, 10500, 2000, 10000), 11000);
	assert_int_equal(first, 1000);
}

static void test_amps_watts(void **state)
{
	struct svc_charge_caps c;

	(void)state;
	svc_caps_default(&c);
	c.phases = 1;
	c.volts = 230;
	assert_int_equal(svc_w_to_da(7360, &c), 320);	 /* 32.0 A */
	assert_int_equal(svc_w_to_da(7400, &c), 321);	 /* 32.17 A rounds down */
	assert_int_equal(svc_da_to_w(321, &c), 7383);	 /* within the plan */
	assert_int_equal(svc_w_to_da(-3000, &c), -130); /* toward zero: discharge no deeper */
	c.phases = 3;
	assert_int_equal(svc_w_to_da(11040, &c), 160);
}

static void test_shape(void **state)
{
	int64_t w[8] = {7400, 7400, 0, 0, -3000, -3000, 7400, 7400};
	struct svc_charging_profile p = {0};
	struct svc_charge_caps c;
	char why[512];

	(void)state;
	svc_caps_default(&c);
	/* watts, discharge allowed: equal neighbours merge */
	assert_int_equal(svc_plan_shape(w, 8, 1000000, &c, true, &p, why, sizeof(why)), 4);
	assert_int_equal(p.rate_unit, SVC_RATE_W);
	assert_int_equal(p.start_ms, 1000000);
	assert_int_equal(p.periods[0].start_s, 0);
	assert_int_equal(p.periods[1].start_s, 1800);
	assert_int_equal(p.periods[2].limit, -3000);
	assert_int_equal(p.periods[3].start_s, 5400);
	assert_non_null(strstr(why, "4 equal neighbouring slots merged"));
	/* no discharge here: negative slots become 0 and merge with the zeros before them */
	assert_int_equal(svc_plan_shape(w, 8, 0, &c, false, &p, why, sizeof(why)), 3);
	assert_int_equal(p.periods[1].limit, 0);
	assert_non_null(strstr(why, "discharge not allowed"));
	/* amps only, two periods at most */
	c.amps = true;
	c.max_periods = 2;
	assert_int_equal(svc_plan_shape(w, 8, 0, &c, true, &p, why, sizeof(why)), 2);
	assert_int_equal(p.rate_unit, SVC_RATE_A);
	assert_int_equal(p.periods[0].limit, 321);
	assert_int_equal(p.periods[0].phases, 1);
	assert_int_equal(p.periods[1].limit, 0);
	assert_non_null(strstr(why, "cut to 2 periods"));
	assert_non_null(strstr(why, "amps only"));
	assert_int_equal(svc_plan_shape(w, 0, 0, &c, true, &p, why, sizeof(why)), -EINVAL);
}

static void test_caps_json(void **state)
{
	struct svc_charge_caps c, d;
	char buf[512];

	(void)state;
	svc_caps_default(&c);
	c.amps = true;
	c.max_periods = 5;
	assert_int_equal(svc_caps_to_json(&c, buf, sizeof(buf)), 0);
	svc_caps_default(&d);
	assert_int_equal(svc_caps_from_json(buf, &d), 0);
	assert_true(d.amps);
	assert_int_equal(d.max_periods, 5);
	assert_int_equal(svc_caps_from_json("{\"max_periods\": 0}", &d), -EINVAL);
	assert_int_equal(d.max_periods, 5); /* untouched on error */
	assert_int_equal(svc_caps_from_json("[1]", &d), -EINVAL);
}

static void test_v2g_payload(void **state)
{
	char buf[1024];
	json_t *o, *data;

	(void)state;
	assert_int_equal(svc_v2g_payload(1, 42, NULL, SVC_MODE_CENTRAL_SETPOINT, -7400,
					 1700000000000LL, buf, sizeof(buf)),
			 0);
	o = json_loads(buf, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "vendorId")),
			    "org.openchargenet.csms");
	assert_string_equal(json_string_value(json_object_get(o, "messageId")), "SetV2GMode");
	/* data is a JSON text (1.6 DataTransfer.data is a string) */
	data = json_loads(json_string_value(json_object_get(o, "data")), 0, NULL);
	assert_non_null(data);
	assert_string_equal(json_string_value(json_object_get(data, "operationMode")),
			    "CentralSetpoint");
	assert_int_equal(json_integer_value(json_object_get(data, "setpointW")), -7400);
	assert_int_equal(json_integer_value(json_object_get(data, "transactionId")), 42);
	assert_int_equal(json_integer_value(json_object_get(data, "evseId")), 1);
	json_decref(data);
	json_decref(o);
	/* 2.0.1: the station's transaction id */
	assert_int_equal(svc_v2g_payload(2, 42, "tx-abc", SVC_MODE_CHARGING_ONLY, 0, 0, buf,
					 sizeof(buf)),
			 0);
	assert_non_null(strstr(buf, "\\\"transactionId\\\":\\\"tx-abc\\\""));
	assert_non_null(strstr(buf, "ChargingOnly"));
	assert_int_equal(svc_v2g_payload(0, 1, NULL, SVC_MODE_IDLE, 0, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(svc_v2g_payload(1, 1, NULL, 7, 0, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(svc_v2g_payload(1, 1, NULL, SVC_MODE_IDLE, 0, 0, buf, 10), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debounce),   cmocka_unit_test(test_amps_watts),
		cmocka_unit_test(test_shape),	   cmocka_unit_test(test_caps_json),
		cmocka_unit_test(test_v2g_payload),
	};

	return cmocka_run_group_tests_name("csms-plan-runtime", tests, NULL, NULL);
}
