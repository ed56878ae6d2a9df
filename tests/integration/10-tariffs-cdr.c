/* SPDX-License-Identifier: MIT */
/* 10: tariffs through the real server: a calendar loaded by API (and a bad one refused with its
 * place), assigned to two residential sites, a session on each (OCPP 1.6 and 2.0.1) whose meter
 * values cross three tiers, and the CDRs and site-day figures checked against hand-computed
 * values. Calendar: docs/tariffs/example-shandong-residential.json (UTC+08:00, valley
 * 23:00-07:00 at 16407 fen/MWh, flat 54690, peak 17:00-22:00 at 92973, export 39490). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define PASSWORD "tariff-test-password-01"
#define CAL	 "example-sd-residential"

/* Local 2026-11-20 (UTC+08:00) 06:00 = 2026-11-19T22:00Z. The session runs 06:00-18:00 local:
 * valley to 07:00, flat to 17:00, peak after. Import register: 1000 at start, 2000 at 06:30,
 * 4 kWh at 07:30, 24000 at 17:30, 25000 at stop. Interpolated: 3000 at 07:00, 23000 at 17:00.
 * Export register: 0 at 10:00, 1.5 kWh at 11:00. */
static const struct {
	const char *ts, *measurand, *unit, *value;
} readings[] = {
    {"2026-11-19T22:30:00Z", "Energy.Active.Import.Register", "Wh", "2000"},
    {"2026-11-19T23:30:00Z", "Energy.Active.Import.Register", "kWh", "4"},
    {"2026-11-20T02:00:00Z", "Energy.Active.Export.Register", "kWh", "0"},
    {"2026-11-20T03:00:00Z", "Energy.Active.Export.Register", "kWh", "1.5"},
    {"2026-11-20T09:30:00Z", "Energy.Active.Import.Register", "Wh", "24000"},
};
#define START_TS "2026-11-19T22:00:00Z"
#define STOP_TS	 "2026-11-20T10:00:00Z"

static json_t *must_call(struct tcp *tc, const char *action, json_t *payload)
{
	json_t *conf = NULL;
	char err[64] = "";
	int r = tc_call(tc, action, payload, &conf, err, 5000);

	if (r != 0)
		fail_msg("%s: got %s (%d) instead of a CALLRESULT", action,
			 r == 1 ? err : "no answer", r);
	return conf;
}

static struct tcp *booted(struct csms_proc *p, const char *id, const char *proto)
{
	struct tcp *tc = tc_connect(p->port, id, PASSWORD, proto, 5000, NULL);
	json_t *conf;

	assert_non_null(tc);
	if (strcmp(proto, "ocpp1.6") == 0)
		conf = must_call(
		    tc, "BootNotification",
		    json_pack("{s:s, s:s}", "chargePointVendor", "IT", "chargePointModel", "IT"));
	else
		conf = must_call(tc, "BootNotification",
				 json_pack("{s:s, s:{s:s, s:s}}", "reason", "PowerUp",
					   "chargingStation", "model", "IT", "vendorName", "IT"));
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	json_decref(conf);
	return tc;
}

static json_t *sampled(size_t i, bool v201)
{
	double v = atof(readings[i].value);

	if (v201)
		return json_pack("{s:f, s:s, s:{s:s}}", "value", v, "measurand",
				 readings[i].measurand, "unitOfMeasure", "unit", readings[i].unit);
	return json_pack("{s:s, s:s, s:s}", "value", readings[i].value, "measurand",
			 readings[i].measurand, "unit", readings[i].unit);
}

static int64_t session_16(struct tcp *tc)
{
	json_t *conf = must_call(tc, "StartTransaction",
				 json_pack("{s:i, s:s, s:i, s:s}", "connectorId", 1, "idTag",
					   "TAG1", "meterStart", 1000, "timestamp", START_TS));
	json_int_t tx = json_integer_value(json_object_get(conf, "transactionId"));

	json_decref(conf);
	assert_true(tx > 0);
	for (size_t i = 0; i < sizeof(readings) / sizeof(readings[0]); i++)
		json_decref(
		    must_call(tc, "MeterValues",
			      json_pack("{s:i, s:I, s:[{s:s, s:[o]}]}", "connectorId", 1,
					"transactionId", tx, "meterValue", "timestamp",
					readings[i].ts, "sampledValue", sampled(i, false))));
	json_decref(must_call(tc, "StopTransaction",
			      json_pack("{s:I, s:i, s:s, s:s}", "transactionId", tx, "meterStop",
					25000, "timestamp", STOP_TS, "idTag", "TAG1")));
	return tx;
}

static json_t *tx_event(const char *type, int seq, const char *ts, const char *trigger, json_t *sv)
{
	json_t *p =
	    json_pack("{s:s, s:s, s:s, s:i, s:{s:s}, s:{s:i, s:i}}", "eventType", type, "timestamp",
		      ts, "triggerReason", trigger, "seqNo", seq, "transactionInfo",
		      "transactionId", "TX-201", "evse", "id", 1, "connectorId", 1);

	if (seq == 0)
		json_object_set_new(p, "idToken",
				    json_pack("{s:s, s:s}", "idToken", "TAG1", "type", "ISO14443"));
	if (sv)
		json_object_set_new(
		    p, "meterValue",
		    json_pack("[{s:s, s:[o]}]", "timestamp", ts, "sampledValue", sv));
	return p;
}

static void session_201(struct tcp *tc)
{
	int seq = 0;

	json_decref(must_call(tc, "TransactionEvent",
			      tx_event("Started", seq++, START_TS, "Authorized",
				       json_pack("{s:f, s:s, s:s}", "value", 1.0, "measurand",
						 "Energy.Active.Import.Register", "context",
						 "Transaction.Begin")))); /* 1 Wh at start */
	for (size_t i = 0; i < sizeof(readings) / sizeof(readings[0]); i++)
		json_decref(must_call(tc, "TransactionEvent",
				      tx_event("Updated", seq++, readings[i].ts,
					       "MeterValuePeriodic", sampled(i, true))));
	json_decref(must_call(
	    tc, "TransactionEvent",
	    tx_event("Ended", seq++, STOP_TS, "StopAuthorized",
		     json_pack("{s:f, s:s, s:s}", "value", 25000.0, "measurand",
			       "Energy.Active.Import.Register", "context", "Transaction.End"))));
}

static json_t *get(struct csms_proc *p, const char *path)
{
	json_t *j = http_get_json(p->port, path);

	if (!j)
		fail_msg("GET %s: no 200 JSON answer", path);
	return j;
}

static json_int_t tier_member(const json_t *cdr, const char *tier, const char *key)
{
	json_t *t = json_find(json_object_get(cdr, "tiers"), "tier", tier);

	assert_non_null(t);
	return json_integer_value(json_object_get(t, key));
}

static json_int_t num(const json_t *o, const char *key)
{
	assert_true(json_is_integer(json_object_get(o, key)));
	return json_integer_value(json_object_get(o, key));
}

/* The CDR both sessions must have: import split 2000/20000/2000 Wh. */
static void check_cdr(const json_t *cdr, json_int_t import_start_wh)
{
	json_int_t valley = 3000 - import_start_wh;

	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cdr, "tariff"), "id")), CAL);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cdr, "tariff"), "valid_from")),
	    "2026-01-01");
	assert_int_equal(tier_member(cdr, "valley", "wh"), valley);
	assert_int_equal(tier_member(cdr, "flat", "wh"), 20000);
	assert_int_equal(tier_member(cdr, "peak", "wh"), 2000);
	assert_int_equal(tier_member(cdr, "deep_valley", "wh"), 0);
	assert_int_equal(tier_member(cdr, "critical_peak", "wh"), 0);
	/* valley * 16407 / 1e6 rounded half up; 20000 * 54690 / 1e6 = 1093.8; 2000 * 92973 / 1e6
	 * = 185.946 */
	assert_int_equal(tier_member(cdr, "valley", "fen"), (valley * 16407 + 500000) / 1000000);
	assert_int_equal(tier_member(cdr, "flat", "fen"), 1094);
	assert_int_equal(tier_member(cdr, "peak", "fen"), 186);
	assert_int_equal(num(cdr, "import_wh"), valley + 22000);
	assert_int_equal(num(cdr, "export_wh"), 1500);
	assert_int_equal(num(cdr, "export_fen"), 59); /* 1500 * 39490 / 1e6 = 59.235 */
	assert_int_equal(num(cdr, "service_fen"), 0);
	assert_int_equal(num(cdr, "total_fen"), num(cdr, "import_fen") - 59);
	assert_int_equal(num(cdr, "import_fen"), (valley * 16407 + 500000) / 1000000 + 1094 + 186);
}

static void test_tariffs_cdr_both_versions(void **state)
{
	struct csms_proc *p;
	static const char *const import_args[] = {"stations", "import", NULL, "--db", NULL, NULL};
	const char *args[6];
	char csv[600], path[400], *doc_text;
	FILE *fp;
	json_t *doc, *j, *sessions, *s16 = NULL, *s201 = NULL;
	struct tcp *tc;
	int status;

	(void)state;
	p = csms_prepare("{\"id_tokens\": [{\"token\": \"TAG1\", \"status\": \"Accepted\"}]}");
	assert_non_null(p);
	snprintf(csv, sizeof(csv), "%s/stations.csv", p->dir);
	fp = fopen(csv, "w");
	assert_non_null(fp);
	fprintf(fp, "charger_id,site,site_kind,password\n"
		    "T16,home-16,residential," PASSWORD "\n"
		    "T201,home-201,residential," PASSWORD "\n"
		    "TPUB,mall,public," PASSWORD "\n");
	fclose(fp);
	memcpy(args, import_args, sizeof(args));
	args[2] = csv;
	args[4] = p->db;
	assert_int_equal(csms_cli(p, args), 0);
	assert_int_equal(csms_launch(p, NULL), 0);

	/* load by API; the bad one first: 400 with the exact place, nothing stored */
	doc = json_load_file(TOP_SRCDIR "/docs/tariffs/example-shandong-residential.json", 0, NULL);
	assert_non_null(doc);
	j = json_deep_copy(doc);
	json_object_set_new(
	    json_array_get(json_object_get(
			       json_array_get(json_object_get(
						  json_array_get(json_object_get(j, "versions"), 0),
						  "periods"),
					      0),
			       "windows"),
			   1),
	    "tier", json_string("valey"));
	doc_text = json_dumps(j, 0);
	json_decref(j);
	j = NULL;
	assert_int_equal(
	    http_request(p->port, "PUT", "/api/tariffs/" CAL, doc_text, &status, &j, 5000), 0);
	free(doc_text);
	assert_int_equal(status, 400);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "versions[0].periods[0].windows[1].tier: unknown tier \"valey\"");
	json_decref(j);
	j = NULL;
	assert_int_equal(
	    http_request(p->port, "GET", "/api/tariffs/" CAL, NULL, &status, NULL, 5000), 0);
	assert_int_equal(status, 404);
	doc_text = json_dumps(doc, 0);
	assert_int_equal(
	    http_request(p->port, "PUT", "/api/tariffs/" CAL, doc_text, &status, &j, 5000), 0);
	free(doc_text);
	json_decref(doc);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 0)),
			    "2026-01-01");
	json_decref(j);
	j = NULL;

	/* assign: unknown site 404, unknown calendar 400 */
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/nowhere/tariff",
				      "{\"tariff\": \"" CAL "\"}", &status, NULL, 5000),
			 0);
	assert_int_equal(status, 404);
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/home-16/tariff",
				      "{\"tariff\": \"nope\"}", &status, NULL, 5000),
			 0);
	assert_int_equal(status, 400);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/api/sites/%s/tariff", i ? "home-201" : "home-16");
		assert_int_equal(http_request(p->port, "PUT", path, "{\"tariff\": \"" CAL "\"}",
					      &status, NULL, 5000),
				 0);
		assert_int_equal(status, 200);
	}

	/* the day's bands for drawing: 00-07 valley, 07-17 flat, 17-22 peak, 22-23 flat, 23-24 */
	j = get(p, "/api/tariffs/" CAL "/bands?date=2026-11-20");
	assert_int_equal(json_array_size(json_object_get(j, "bands")), 5);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "bands"), 2), "from")),
			    "17:00");
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "bands"), 2), "tier")),
			    "peak");
	json_decref(j);

	tc = booted(p, "T16", "ocpp1.6");
	session_16(tc);
	tc_close(tc);
	tc = booted(p, "T201", "ocpp2.0.1");
	session_201(tc);
	tc_close(tc);

	sessions = json_object_get(j = get(p, "/api/sessions"), "sessions");
	for (size_t i = 0; i < json_array_size(sessions); i++) {
		json_t *s = json_array_get(sessions, i);

		if (strcmp(json_string_value(json_object_get(s, "station")), "T16") == 0)
			s16 = s;
		else
			s201 = s;
	}
	assert_non_null(s16);
	assert_non_null(s201);
	assert_int_equal(num(s16, "energy_exported_wh"), 1500);
	assert_int_equal(num(s201, "energy_exported_wh"), 1500);

	snprintf(path, sizeof(path), "/api/sessions/%lld/cdr", (long long)num(s16, "id"));
	json_t *cdr = get(p, path);
	check_cdr(cdr, 1000);
	/* the session list carries the CDR's total as cost_fen */
	assert_true(json_is_integer(json_object_get(s16, "cost_fen")));
	assert_int_equal(num(s16, "cost_fen"), num(cdr, "total_fen"));
	json_decref(cdr);
	/* 2.0.1: the Started event's register reading is 1 Wh (no meter start otherwise) */
	snprintf(path, sizeof(path), "/api/sessions/%lld/cdr", (long long)num(s201, "id"));
	cdr = get(p, path);
	check_cdr(cdr, 1);
	json_decref(cdr);
	json_decref(j);

	/* site-day: 2000 valley of 24000 = 833 bp; the 2.0.1 site 2999 of 25000 = 1200 bp */
	j = get(p, "/api/sites/home-16/energy?date=2026-11-20");
	assert_int_equal(num(json_object_get(j, "energy"), "import_wh"), 24000);
	assert_int_equal(num(json_object_get(j, "energy"), "valley_share_bp"), 833);
	assert_int_equal(num(json_object_get(j, "energy"), "export_wh"), 1500);
	json_decref(j);
	j = get(p, "/api/sites/home-201/energy?date=2026-11-20");
	assert_int_equal(num(json_object_get(j, "energy"), "valley_share_bp"), 1200);
	json_decref(j);
	j = get(p, "/api/energy?date=2026-11-20");
	json_t *res = json_object_get(json_object_get(j, "by_site_kind"), "residential");
	assert_int_equal(num(res, "import_wh"), 24000 + 24999);
	assert_int_equal(num(res, "valley_share_bp"), (4999 * 10000 + 48999 / 2) / 48999);
	assert_int_equal(
	    num(json_object_get(json_object_get(j, "by_site_kind"), "public"), "import_wh"), 0);
	json_decref(j);
	/* a grid event over the second half of the export hour: per session the export in its
	 * window (register interpolated: 1500 - 750 Wh) and its bonus (750 Wh x 50 fen/kWh =
	 * 37.5, rounded half up) */
	assert_int_equal(http_request(p->port, "POST", "/api/grid-events",
				      "{\"sites\": [\"home-16\", \"home-201\", \"mall\"], "
				      "\"start\": \"2026-11-20T02:30:00Z\", "
				      "\"end\": \"2026-11-20T03:30:00Z\", "
				      "\"export_kw\": 7, \"bonus_fen_per_kwh\": 50}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 201);
	snprintf(path, sizeof(path), "/api/grid-events/%lld", (long long)num(j, "id"));
	json_decref(j);
	j = get(p, path);
	assert_int_equal(num(j, "exported_wh"), 1500);
	assert_int_equal(num(j, "bonus_fen"), 76);
	assert_int_equal(json_array_size(json_object_get(j, "sessions")), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *s = json_array_get(json_object_get(j, "sessions"), i);

		assert_int_equal(num(s, "exported_wh"), 750);
		assert_int_equal(num(s, "bonus_fen"), 38);
	}
	json_decref(j);
	assert_int_equal(
	    http_request(p->port, "GET", "/api/grid-events/999", NULL, &status, NULL, 5000), 0);
	assert_int_equal(status, 404);
	/* reduce_kw on a site without a limit: below its sessions' full power (the planner's unit
	 * test checks the plan); accepted */
	j = NULL;
	assert_int_equal(http_request(p->port, "POST", "/api/grid-events",
				      "{\"sites\": [\"home-16\"], "
				      "\"start\": \"2026-11-20T02:30:00Z\", "
				      "\"end\": \"2026-11-20T03:30:00Z\", \"reduce_kw\": 5}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 201);
	assert_true(json_number_value(json_object_get(j, "reduce_kw")) == 5.0);
	json_decref(j);

	/* a site's PV forecast: set, read back, refused when bad, cleared */
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/nowhere/forecast",
				      "{\"start\": \"2026-11-20T00:00:00Z\", \"pv_w\": [1]}",
				      &status, NULL, 5000),
			 0);
	assert_int_equal(status, 404);
	j = NULL;
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/home-16/forecast",
				      "{\"start\": \"2026-11-20T02:00:00Z\", \"slot_s\": 900, "
				      "\"pv_w\": [0, 1500, 3200.4]}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 200);
	json_decref(j);
	j = get(p, "/api/sites/home-16/forecast");
	assert_string_equal(json_string_value(json_object_get(j, "site")), "home-16");
	assert_non_null(
	    strstr(json_string_value(json_object_get(j, "start")), "2026-11-20T02:00:00"));
	assert_int_equal(num(j, "slot_s"), 900);
	assert_int_equal(json_array_size(json_object_get(j, "pv_w")), 3);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "pv_w"), 2)), 3200);
	json_decref(j);
	{
		static const char *const bad[] = {
		    "{\"start\": \"2026-11-20T02:00:00Z\", \"pv_w\": [-1]}",
		    "{\"start\": \"2026-11-20T02:00:00Z\", \"pv_w\": [\"x\"]}",
		    "{\"start\": \"2026-11-20T02:00:00Z\", \"slot_s\": 10, \"pv_w\": [1]}",
		    "{\"pv_w\": [1]}",
		    "{\"start\": \"2026-11-20T02:00:00Z\"}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(http_request(p->port, "PUT", "/api/sites/home-16/forecast",
						      bad[i], &status, NULL, 5000),
					 0);
			assert_int_equal(status, 400);
		}
	}
	/* a site battery beside it (percent of its capacity), refused when bad */
	j = NULL;
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/home-16/forecast",
				      "{\"start\": \"2026-11-20T02:00:00Z\", \"pv_w\": [0, 1500], "
				      "\"storage\": {\"capacity_wh\": 20000, \"soc_percent\": 50, "
				      "\"min_soc_percent\": 20, \"max_charge_w\": 5000, "
				      "\"max_discharge_w\": 4000}}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 200);
	assert_int_equal(num(json_object_get(j, "storage"), "energy_wh"), 10000);
	assert_int_equal(num(json_object_get(j, "storage"), "min_energy_wh"), 4000);
	json_decref(j);
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/home-16/forecast",
				      "{\"pv_w\": [], \"storage\": {\"capacity_wh\": 20000, "
				      "\"soc_percent\": 150, \"min_soc_percent\": 20, "
				      "\"max_charge_w\": 5000, \"max_discharge_w\": 4000}}",
				      &status, NULL, 5000),
			 0);
	assert_int_equal(status, 400);
	/* stored: it survives a restart */
	assert_int_equal(csms_restart(p), 0);
	j = get(p, "/api/sites/home-16/forecast");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "pv_w"), 1)), 1500);
	assert_int_equal(num(json_object_get(j, "storage"), "capacity_wh"), 20000);
	assert_int_equal(num(json_object_get(j, "storage"), "max_discharge_w"), 4000);
	json_decref(j);
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/home-16/forecast",
				      "{\"pv_w\": []}", &status, NULL, 5000),
			 0);
	assert_int_equal(status, 200);
	j = get(p, "/api/sites/home-16/forecast");
	assert_int_equal(json_array_size(json_object_get(j, "pv_w")), 0);
	assert_true(json_is_null(json_object_get(j, "start")));
	assert_true(json_is_null(json_object_get(j, "storage")));
	json_decref(j);

	/* a site without a calendar: 409 */
	assert_int_equal(http_request(p->port, "GET", "/api/sites/mall/energy?date=2026-11-20",
				      NULL, &status, NULL, 5000),
			 0);
	assert_int_equal(status, 409);

	/* the calendars survive a restart (stored, loaded at start) */
	assert_int_equal(csms_restart(p), 0);
	j = get(p, "/api/sites/home-16/energy?date=2026-11-20");
	assert_int_equal(num(json_object_get(j, "energy"), "valley_share_bp"), 833);
	json_decref(j);

	assert_int_equal(tc_shutdown(), 0);
	csms_pass(p);
	csms_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tariffs_cdr_both_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
