/* SPDX-License-Identifier: MIT */
/* 11: sites and their policies through the real csms (demo clock, 600x), both versions:
 *  - rural stations get the long heartbeat and, after boot, GetLocalListVersion then a full
 *    SendLocalList of the tokens valid at their site; a reconnect with the same version sends
 *    nothing; a new token comes as a differential update; hours offline, then a transaction
 *    delivered late: the connectivity report counts the offline period and the late one;
 *  - a reservation is tracked, expires on the node's clock and frees the connector (no open
 *    reservation, the charger's Available shows, a new reservation is taken); a 2.0.1
 *    ReservationStatusUpdate is handled (no longer NotSupported);
 *  - the availability report of a station, as of its site;
 *  - site records: create, read, update, 409 on delete while stations reference it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "v201/common201.h"

#define PASSWORD "sites-test-password-0001"

static const char *const demo_args[] = {"--clock-start", "2026-06-01T00:00:00Z", "--clock-speed",
					"600", NULL};

static struct csms_proc *start(void)
{
	static const char *const import_args[] = {"stations", "import", NULL, "--db", NULL, NULL};
	const char *args[6];
	char csv[600];
	struct csms_proc *p;
	FILE *fp;

	p = csms_prepare("{\"id_tokens\": [{\"token\": \"TAG1\", \"status\": \"Accepted\"}, "
			 "{\"token\": \"TAG2\", \"status\": \"Accepted\"}, "
			 "{\"token\": \"BAD\", \"status\": \"Invalid\"}]}");
	assert_non_null(p);
	snprintf(csv, sizeof(csv), "%s/stations.csv", p->dir);
	fp = fopen(csv, "w");
	assert_non_null(fp);
	fprintf(fp, "charger_id,site,site_kind,password\n"
		    "R16,village-16,rural," PASSWORD "\n"
		    "R201,village-201,rural," PASSWORD "\n"
		    "P16,mall,public," PASSWORD "\n"
		    "P201,mall,public," PASSWORD "\n");
	fclose(fp);
	memcpy(args, import_args, sizeof(args));
	args[2] = csv;
	args[4] = p->db;
	assert_int_equal(csms_cli(p, args), 0);
	assert_int_equal(csms_launch(p, demo_args), 0);
	return p;
}

static int64_t parse_ms(const char *s)
{
	int y, mo, d, h, mi;
	double sec;
	struct tm tm = {0};

	assert_non_null(s);
	assert_int_equal(sscanf(s, "%d-%d-%dT%d:%d:%lfZ", &y, &mo, &d, &h, &mi, &sec), 6);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm) * 1000 + (int64_t)(sec * 1000);
}

static void fmt_ms(char buf[32], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The node's clock now (a heartbeat's currentTime). */
static int64_t node_now(struct tcp *tc)
{
	json_t *conf = NULL;
	char err[64];
	int64_t t;

	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), &conf, err, 5000), 0);
	t = parse_ms(json_string_value(json_object_get(conf, "currentTime")));
	json_decref(conf);
	return t;
}

static struct tcp *connect_boot(struct csms_proc *p, const char *id, bool v201, int *ret_interval)
{
	struct tcp *tc =
	    tc_connect(p->port, id, PASSWORD, v201 ? "ocpp2.0.1" : "ocpp1.6", 5000, NULL);
	json_t *conf = NULL;
	char err[64];

	assert_non_null(tc);
	assert_int_equal(v201 ? tc_boot201(tc, &conf, err) : tc_boot16(tc, &conf, err), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	if (ret_interval)
		*ret_interval = (int)json_integer_value(json_object_get(conf, "interval"));
	json_decref(conf);
	return tc;
}

static void status(struct tcp *tc, bool v201, const char *st)
{
	json_t *conf = NULL;
	char ts[32], err[64];

	rfc3339_now(ts);
	if (v201)
		assert_int_equal(
		    tc_call(tc, "StatusNotification",
			    json_pack("{s:s, s:s, s:i, s:i}", "timestamp", ts, "connectorStatus",
				      st, "evseId", 1, "connectorId", 1),
			    &conf, err, 5000),
		    0);
	else
		assert_int_equal(tc_call(tc, "StatusNotification",
					 json_pack("{s:i, s:s, s:s}", "connectorId", 1, "errorCode",
						   "NoError", "status", st),
					 &conf, err, 5000),
				 0);
	json_decref(conf);
}

/* Expect the CSMS's CALL action; returns the frame (new reference). */
static json_t *expect_call(struct tcp *tc, const char *action)
{
	json_t *f = NULL;

	assert_int_equal(tc_next_call(tc, 10000, &f), 0);
	assert_string_equal(json_string_value(json_array_get(f, 2)), action);
	return f;
}

static void reply(struct tcp *tc, json_t *frame, json_t *payload)
{
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(frame, 1)), payload), 0);
	json_decref(frame);
}

static bool list_has(const json_t *list, bool v201, const char *token)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
		const char *t = v201 ? json_string_value(json_object_get(
					   json_object_get(e, "idToken"), "idToken"))
				     : json_string_value(json_object_get(e, "idTag"));

		if (t && !strcmp(t, token))
			return true;
	}
	return false;
}

static void rural(bool v201)
{
	const char *id = v201 ? "R201" : "R16";
	const char *vkey = v201 ? "versionNumber" : "listVersion";
	const char *lkey = v201 ? "localAuthorizationList" : "localAuthorizationList";
	struct csms_proc *p = start();
	struct tcp *tc;
	json_t *f, *req, *j, *conf = NULL;
	char path[128], ts[32], err[64];
	int interval = 0, st;
	int64_t t_off, t_back;

	tc = connect_boot(p, id, v201, &interval);
	assert_int_equal(interval, 3600); /* rural: the long heartbeat */
	status(tc, v201, "Available");
	f = expect_call(tc, "GetLocalListVersion");
	reply(tc, f, json_pack("{s:i}", vkey, 0));
	/* more than one entry: how many one SendLocalList may carry (this station does not say:
	 * all in one) */
	f = expect_call(tc, v201 ? "GetVariables" : "GetConfiguration");
	reply(tc, f,
	      v201 ? json_pack("{s:[{s:s, s:{s:s}, s:{s:s}}]}", "getVariableResult",
			       "attributeStatus", "UnknownVariable", "component", "name",
			       "LocalAuthListCtrlr", "variable", "name", "ItemsPerMessage")
		   : json_pack("{s:[s, s]}", "unknownKey", "SendLocalListMaxLength",
			       "LocalAuthListMaxLength"));
	f = expect_call(tc, "SendLocalList");
	req = json_array_get(f, 3);
	assert_string_equal(json_string_value(json_object_get(req, "updateType")), "Full");
	assert_int_equal(json_integer_value(json_object_get(req, vkey)), 1);
	assert_int_equal(json_array_size(json_object_get(req, lkey)), 2);
	assert_true(list_has(json_object_get(req, lkey), v201, "TAG1"));
	assert_true(list_has(json_object_get(req, lkey), v201, "TAG2"));
	assert_false(list_has(json_object_get(req, lkey), v201, "BAD"));
	reply(tc, f, json_pack("{s:s}", "status", "Accepted"));
	usleep(300 * 1000); /* the record of the accepted list joins the next group commit */

	/* offline for hours of the demo clock (600x: 3 h = 18 s is too long for a test; the
	 * report counts what the clock says: half a real second is 5 simulated minutes) */
	t_off = node_now(tc);
	tc_close(tc);
	usleep(1500 * 1000); /* 15 simulated minutes */

	/* back: same version, nothing to send; the transaction started offline arrives late */
	tc = connect_boot(p, id, v201, NULL);
	t_back = node_now(tc);
	assert_true(t_back - t_off >= 10 * 60 * 1000);
	status(tc, v201, "Available");
	f = expect_call(tc, "GetLocalListVersion");
	reply(tc, f, json_pack("{s:i}", vkey, 1));
	fmt_ms(ts, t_off + 5 * 60 * 1000);
	if (v201) {
		json_t *ev = tx_event("Started", "OFF-1", 0, ts, "Authorized", 1, "TAG1", 1000,
				      "Transaction.Begin");

		json_object_set_new(ev, "offline", json_true());
		assert_int_equal(tc_call(tc, "TransactionEvent", ev, &conf, err, 5000), 0);
	} else {
		assert_int_equal(
		    tc_call(tc, "StartTransaction",
			    json_pack("{s:i, s:s, s:i, s:s}", "connectorId", 1, "idTag", "TAG1",
				      "meterStart", 1000, "timestamp", ts),
			    &conf, err, 5000),
		    0);
	}
	json_decref(conf);
	/* no SendLocalList follows: nothing changed */
	assert_int_equal(tc_next_call(tc, 500, &f), -ETIMEDOUT);

	snprintf(path, sizeof(path), "/api/sites/village-%s/connectivity", v201 ? "201" : "16");
	j = http_get_json(p->port, path);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "offline_periods")), 1);
	assert_true(json_integer_value(json_object_get(j, "longest_offline_s")) >= 600);
	assert_int_equal(json_integer_value(json_object_get(j, "late_transactions")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "stations")), 1);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/sites/village-%s/availability", v201 ? "201" : "16");
	j = http_get_json(p->port, path);
	assert_non_null(j);
	{
		double up = json_number_value(json_object_get(j, "uptime_pct"));

		assert_true(up > 0.0 && up < 100.0);
	}
	json_decref(j);
	/* the station's own report: the same figures as its line in the site's */
	snprintf(path, sizeof(path), "/api/stations/%s/availability", id);
	j = http_get_json(p->port, path);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "station")), id);
	assert_string_equal(json_string_value(json_object_get(j, "site")),
			    v201 ? "village-201" : "village-16");
	{
		double up = json_number_value(json_object_get(j, "uptime_pct"));
		double off = json_number_value(json_object_get(j, "offline_h"));

		assert_true(up > 0.0 && up < 100.0);
		assert_true(off >= 600.0 / 3600.0);
		assert_true(json_number_value(json_object_get(j, "faulted_h")) >= 0.0);
		assert_true(json_number_value(json_object_get(j, "observed_h")) > off);
	}
	json_decref(j);
	assert_int_equal(
	    http_status(p->port, "GET", "/api/stations/NO-SUCH/availability", NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/stations/%s/availability?from=x", id);
	assert_int_equal(http_status(p->port, "GET", path, NULL, NULL), 400);
	/* the site's record and policy */
	snprintf(path, sizeof(path), "/api/sites/village-%s", v201 ? "201" : "16");
	j = http_get_json(p->port, path);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "rural");
	assert_true(json_is_true(json_object_get(json_object_get(j, "policy"), "local_list")));
	assert_int_equal(json_integer_value(json_object_get(j, "stations")), 1);
	json_decref(j);
	assert_int_equal(http_request(p->port, "DELETE", path, NULL, &st, NULL, 5000), 0);
	assert_int_equal(st, 409);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0); /* a clean exit (leak-free under ASan) */
	csms_pass(p);
	csms_destroy(p);
}

static void test_rural_16(void **state)
{
	(void)state;
	rural(false);
}

static void test_rural_201(void **state)
{
	(void)state;
	rural(true);
}

/* The status of connector 1 of station id as the API shows it (a static buffer). */
static const char *connector_status(int port, const char *id)
{
	static char buf[32];
	char path[128];
	json_t *j, *c;

	snprintf(path, sizeof(path), "/api/stations/%s", id);
	j = http_get_json(port, path);
	assert_non_null(j);
	c = json_array_get(json_object_get(j, "connectors"), 0);
	assert_non_null(c);
	snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(c, "status")));
	json_decref(j);
	return buf;
}

static json_t *reservation(int port, int id)
{
	json_t *j = http_get_json(port, "/api/reservations"), *r;

	assert_non_null(j);
	r = json_find(json_object_get(j, "reservations"), "id", NULL);
	(void)r;
	for (size_t i = 0; i < json_array_size(json_object_get(j, "reservations")); i++) {
		r = json_array_get(json_object_get(j, "reservations"), i);
		if (json_integer_value(json_object_get(r, "id")) == id) {
			json_incref(r);
			json_decref(j);
			return r;
		}
	}
	json_decref(j);
	return NULL;
}

static void reserve(struct csms_proc *p, struct tcp *tc, const char *station, int rid,
		    int64_t expiry)
{
	struct http_async *a;
	char body[256], path[128], ts[32];
	json_t *f;
	int st;

	fmt_ms(ts, expiry);
	snprintf(
	    body, sizeof(body),
	    "{\"reservation_id\": %d, \"id_tag\": \"TAG1\", \"evse_id\": 1, \"expiry\": \"%s\"}",
	    rid, ts);
	snprintf(path, sizeof(path), "/api/stations/%s/reserve", station);
	a = http_request_start(p->port, "POST", path, body, 10000);
	assert_non_null(a);
	f = expect_call(tc, "ReserveNow");
	reply(tc, f, json_pack("{s:s}", "status", "Accepted"));
	assert_int_equal(http_request_join(a, &st, NULL), 0);
	assert_int_equal(st, 200);
}

static void test_reservations(void **state)
{
	struct csms_proc *p = start();
	struct tcp *tc16, *tc201;
	json_t *r, *conf = NULL;
	char err[64];
	int64_t now;
	int st;

	(void)state;
	tc16 = connect_boot(p, "P16", false, NULL);
	tc201 = connect_boot(p, "P201", true, NULL);
	now = node_now(tc16);
	/* 1.6: expires on the node's clock two simulated minutes later */
	reserve(p, tc16, "P16", 41, now + 2 * 60 * 1000);
	r = reservation(p->port, 41);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "Accepted");
	json_decref(r);
	status(tc16, false, "Reserved"); /* the charger holds the connector */
	assert_string_equal(connector_status(p->port, "P16"), "Reserved");
	usleep(2500 * 1000); /* 25 simulated minutes */
	r = reservation(p->port, 41);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "Expired");
	json_decref(r);
	/* the connector is free again: no open reservation holds it, the charger's Available
	 * shows, and it takes a new reservation and a session of another token */
	r = http_get_json(p->port, "/api/reservations?station=P16&open=1");
	assert_non_null(r);
	assert_int_equal(json_array_size(json_object_get(r, "reservations")), 0);
	json_decref(r);
	status(tc16, false, "Available");
	assert_string_equal(connector_status(p->port, "P16"), "Available");
	reserve(p, tc16, "P16", 43, node_now(tc16) + 60 * 60 * 1000);
	r = reservation(p->port, 43);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "Accepted");
	json_decref(r);

	/* 2.0.1: the station tells (ReservationStatusUpdate, handled now) */
	now = node_now(tc201);
	reserve(p, tc201, "P201", 42, now + 60 * 60 * 1000);
	assert_int_equal(tc_call(tc201, "ReservationStatusUpdate",
				 json_pack("{s:i, s:s}", "reservationId", 42,
					   "reservationUpdateStatus", "Removed"),
				 &conf, err, 5000),
			 0);
	json_decref(conf);
	r = reservation(p->port, 42);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "Removed");
	json_decref(r);

	/* site records: create (201), again (409), replace (200), list, delete (204) */
	assert_int_equal(http_request(p->port, "POST", "/api/sites",
				      "{\"id\": \"farm\", \"kind\": \"rural\", \"name\": \"Farm\", "
				      "\"policy\": {\"heartbeat_s\": 7200}}",
				      &st, &r, 5000),
			 0);
	assert_int_equal(st, 201);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r, "policy"), "heartbeat_s")), 7200);
	json_decref(r);
	assert_int_equal(http_request(p->port, "POST", "/api/sites",
				      "{\"id\": \"farm\", \"kind\": \"public\"}", &st, NULL, 5000),
			 0);
	assert_int_equal(st, 409);
	assert_int_equal(http_request(p->port, "PUT", "/api/sites/farm",
				      "{\"kind\": \"public\", \"location\": \"km 12\"}", &st, &r,
				      5000),
			 0);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(r, "location")), "km 12");
	/* the record is replaced: the heartbeat setting is back to the kind's default */
	assert_true(json_is_null(json_object_get(json_object_get(r, "settings"), "heartbeat_s")));
	assert_int_not_equal(
	    json_integer_value(json_object_get(json_object_get(r, "policy"), "heartbeat_s")), 7200);
	json_decref(r);
	r = http_get_json(p->port, "/api/sites");
	assert_non_null(r);
	assert_non_null(json_find(json_object_get(r, "sites"), "id", "mall"));
	assert_non_null(json_find(json_object_get(r, "sites"), "id", "farm"));
	json_decref(r);
	assert_int_equal(http_request(p->port, "DELETE", "/api/sites/farm", NULL, &st, NULL, 5000),
			 0);
	assert_int_equal(st, 204);
	tc_close(tc16);
	tc_close(tc201);
	assert_int_equal(csms_stop(p), 0); /* a clean exit (leak-free under ASan) */
	csms_pass(p);
	csms_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rural_16),
	    cmocka_unit_test(test_rural_201),
	    cmocka_unit_test(test_reservations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
