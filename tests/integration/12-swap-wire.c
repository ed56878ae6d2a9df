/* SPDX-License-Identifier: MIT */
/* 12: the battery-swap convention on the wire (docs/swap.md), 1.6 and 2.0.1 alike: a BatteryIn
 * and a BatteryOut of one requestId make a complete order, visible in the API, which serves the
 * vehicle's booking; the queue, and cancelling a booking; a pack moved to the store; payloads that break the OCPP 2.1
 * schema get the schema's CALLERROR; other vendor messages keep theirs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "v201/common201.h"

static const char *const open_args[] = {"--registration", "open", NULL};
/* OCPP 2.0.1 never gets profile 0: its first password is bound to the station */
#define PW201 "lab-password-201-0001"

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, "{}");

	*state = p;
	return p ? 0 : -1;
}

static int teardown(void **state)
{
	int r = tc_shutdown();

	csms_destroy(*state);
	assert_int_equal(r, 0);
	return 0;
}

/* DataTransfer BatterySwap with data (a JSON text); 0 + *ret_conf, or 1 + err (the code). */
static int swap_dt(struct tcp *tc, const char *data, json_t **ret_conf, char err[64])
{
	return tc_call(tc, "DataTransfer",
		       json_pack("{s:s, s:s, s:s}", "vendorId", "org.openchargenet.csms",
				 "messageId", "BatterySwap", "data", data),
		       ret_conf, err, 5000);
}

/* POST /api/swap/bookings for vehicle at station: the booking's id. */
static json_int_t book(struct csms_proc *p, const char *station, const char *vehicle,
		       const char *due)
{
	char body[256];
	json_t *j = NULL;
	json_int_t id;

	snprintf(body, sizeof(body), "{\"station_id\":\"%s\",\"vehicle\":\"%s\",\"due_at\":\"%s\"}",
		 station, vehicle, due);
	assert_int_equal(http_status(p->port, "POST", "/api/swap/bookings", body, &j), 201);
	id = json_integer_value(json_object_get(j, "id"));
	assert_true(id > 0);
	json_decref(j);
	return id;
}

/* The ids of station's queue into ids (at most 4): their number. */
static size_t queue_of(struct csms_proc *p, const char *station, json_int_t ids[4])
{
	char path[128];
	json_t *q, *b;
	size_t i, n;

	snprintf(path, sizeof(path), "/api/stations/%s/swap-queue", station);
	q = http_get_json(p->port, path);
	assert_non_null(q);
	n = json_array_size(json_object_get(q, "queue"));
	json_array_foreach(json_object_get(q, "queue"), i, b) {
		if (i < 4)
			ids[i] = json_integer_value(json_object_get(b, "id"));
	}
	json_decref(q);
	return n;
}

static void swap_on(struct csms_proc *p, struct tcp *tc, const char *station)
{
	char err[64], data[512], path[128];
	json_t *conf = NULL, *orders, *o;
	bool v16 = !strcmp(tc_subprotocol(tc), "ocpp1.6");
	json_int_t b7, b8, b9, q[4];

	/* the queue: TRUCK-9 due last, TRUCK-7 first, TRUCK-8 between */
	b9 = book(p, station, "TRUCK-9", "2099-01-01T12:00:00Z");
	b7 = book(p, station, "TRUCK-7", "2099-01-01T10:00:00Z");
	b8 = book(p, station, "TRUCK-8", "2099-01-01T11:00:00Z");
	assert_int_equal(queue_of(p, station, q), 3);
	assert_true(q[0] == b7 && q[1] == b8 && q[2] == b9);
	/* TRUCK-8 cancels: out of the queue; cancelled twice is a conflict */
	snprintf(path, sizeof(path), "/api/swap/bookings/%lld", (long long)b8);
	assert_int_equal(http_status(p->port, "DELETE", path, NULL, NULL), 204);
	assert_int_equal(http_status(p->port, "DELETE", path, NULL, NULL), 409);
	assert_int_equal(http_status(p->port, "DELETE", "/api/swap/bookings/999999", NULL, NULL),
			 404);
	assert_int_equal(queue_of(p, station, q), 2);
	assert_true(q[0] == b7 && q[1] == b9);

	/* the vehicle's pack goes in, a full one comes out: one order, complete */
	snprintf(
	    data, sizeof(data),
	    "{\"eventType\":\"BatteryIn\",\"requestId\":7,\"idToken\":{\"idToken\":\"TRUCK-7\","
	    "\"type\":\"Local\"},\"batteryData\":[{\"evseId\":2,\"serialNumber\":\"%s-IN\","
	    "\"soC\":20,\"soH\":79.5,\"vendorInfo\":\"{\\\"capacityWh\\\":282000}\"}]}",
	    station);
	assert_int_equal(swap_dt(tc, data, &conf, err), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	assert_string_equal(json_string_value(json_object_get(conf, "data")), "{}");
	json_decref(conf);
	snprintf(
	    data, sizeof(data),
	    "{\"eventType\":\"BatteryOut\",\"requestId\":7,\"idToken\":{\"idToken\":\"TRUCK-7\","
	    "\"type\":\"Local\"},\"batteryData\":[{\"evseId\":3,\"serialNumber\":\"%s-OUT\","
	    "\"soC\":95,\"soH\":97,\"productionDate\":\"2025-03-01T00:00:00Z\","
	    "\"vendorInfo\":\"{\\\"type\\\":\\\"truck-282\\\",\\\"capacityWh\\\":282000}\"}]}",
	    station);
	assert_int_equal(swap_dt(tc, data, &conf, err), 0);
	json_decref(conf);
	snprintf(path, sizeof(path), "/api/swap/orders?station=%s", station);
	orders = http_get_json(p->port, path);
	assert_non_null(orders);
	assert_int_equal(json_array_size(json_object_get(orders, "orders")), 1);
	o = json_array_get(json_object_get(orders, "orders"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "complete");
	assert_string_equal(json_string_value(json_object_get(o, "vehicle")), "TRUCK-7");
	/* it served TRUCK-7's booking, which cannot be cancelled now */
	assert_int_equal(json_integer_value(json_object_get(o, "booking_id")), b7);
	assert_int_equal(json_integer_value(json_object_get(o, "energy_out_wh")), 267900);
	assert_int_equal(json_integer_value(json_object_get(o, "energy_in_wh")), 56400);
	/* a station without a site has no calendar: complete but not billed */
	assert_true(json_is_null(json_object_get(o, "tier")));
	json_decref(orders);
	snprintf(path, sizeof(path), "/api/swap/bookings/%lld", (long long)b7);
	assert_int_equal(http_status(p->port, "DELETE", path, NULL, NULL), 409);
	assert_int_equal(queue_of(p, station, q), 1);
	assert_true(q[0] == b9);
	snprintf(path, sizeof(path), "/api/swap/packs/%s-IN", station);
	o = http_get_json(p->port, path);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "location")), "slot");
	assert_true(json_is_true(json_object_get(o, "flagged"))); /* SoH 79.5 < 80 */
	assert_int_equal(json_array_size(json_object_get(o, "soh_history")), 1);
	json_decref(o);
	/* the operator takes the flagged pack out of its slot into the store */
	assert_int_equal(http_status(p->port, "PUT", path, "{\"location\":\"store\"}", &o), 200);
	assert_string_equal(json_string_value(json_object_get(o, "location")), "store");
	assert_true(json_is_null(json_object_get(o, "evse_id")));
	assert_true(json_is_true(json_object_get(o, "flagged")));
	assert_int_equal(json_integer_value(json_object_get(o, "cycles")), 1);
	json_decref(o);
	assert_int_equal(http_status(p->port, "PUT", path, "{\"location\":\"slot\"}", NULL), 400);
	assert_int_equal(http_status(p->port, "PUT", "/api/swap/packs/NO-SUCH",
				     "{\"location\":\"store\"}", NULL),
			 404);
	snprintf(path, sizeof(path), "/api/stations/%s/rack", station);
	o = http_get_json(p->port, path);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "packs")), 0); /* out of the rack */
	json_decref(o);

	/* breaking the 2.1 schema */
	assert_int_equal(swap_dt(tc, "not json", &conf, err), 1);
	assert_string_equal(err, v16 ? "FormationViolation" : "FormatViolation");
	assert_int_equal(
	    swap_dt(tc,
		    "{\"eventType\":\"BatteryIn\",\"requestId\":8,\"idToken\":{\"idToken\":"
		    "\"T\",\"type\":\"Local\"},\"batteryData\":[]}",
		    &conf, err),
	    1);
	/* 1.6 spells it with one r (OCPP-J 1.6 4.2.3) */
	assert_string_equal(err,
			    v16 ? "OccurenceConstraintViolation" : "OccurrenceConstraintViolation");
	assert_int_equal(
	    swap_dt(tc,
		    "{\"eventType\":\"BatteryIn\",\"requestId\":8,\"idToken\":{\"idToken\":"
		    "\"T\",\"type\":\"Local\"},\"batteryData\":[{\"evseId\":1,"
		    "\"serialNumber\":\"X\",\"soC\":120,\"soH\":90}]}",
		    &conf, err),
	    1);
	assert_string_equal(err, "PropertyConstraintViolation");
	assert_int_equal(
	    swap_dt(tc,
		    "{\"eventType\":\"BatteryIn\",\"requestId\":\"8\",\"idToken\":{\"idToken\":"
		    "\"T\",\"type\":\"Local\"},\"batteryData\":[{\"evseId\":1,"
		    "\"serialNumber\":\"X\",\"soC\":20,\"soH\":90}]}",
		    &conf, err),
	    1);
	assert_string_equal(err, "TypeConstraintViolation");
	/* the vendor's other messages keep their answers */
	assert_int_equal(tc_call(tc, "DataTransfer",
				 json_pack("{s:s, s:s}", "vendorId", "org.openchargenet.csms",
					   "messageId", "NoSuchThing"),
				 &conf, err, 5000),
			 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "UnknownMessageId");
	json_decref(conf);
}

static void test_swap_v16(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_connect(p->port, "SW-WIRE-16", NULL, "ocpp1.6", 5000, NULL);
	json_t *conf = NULL;
	char err[64];

	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	swap_on(p, tc, "SW-WIRE-16");
}

static void test_swap_v201(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_connect(p->port, "SW-WIRE-201", PW201, "ocpp2.0.1", 5000, NULL);
	json_t *conf = NULL;
	char err[64];

	assert_non_null(tc);
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	json_decref(conf);
	swap_on(p, tc, "SW-WIRE-201");
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_swap_v16),
	    cmocka_unit_test(test_swap_v201),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
