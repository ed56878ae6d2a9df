/* SPDX-License-Identifier: MIT */
/* 17: stations through the REST API: create (a given password, or one generated and shown
 * once), update (site, notes, labels, protocol, security profile), delete (409 while
 * connected, with an open session or with recorded sessions), password reset (offline: the
 * new hash is stored; online: pushed as rotate-password pushes it, stored once accepted), the
 * overview's counts following each change; 400, 401, 403, 404 and 409 answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PASSWORD "station-crud-password-001"

/* The summary's station count and online count. */
static void counts(struct csms_proc *p, long long *ret_stations, long long *ret_online)
{
	json_t *j = NULL;

	assert_int_equal(http_status(p->port, "GET", "/api/summary", NULL, &j), 200);
	*ret_stations = json_integer_value(json_object_get(j, "stations"));
	*ret_online = json_integer_value(json_object_get(j, "online"));
	json_decref(j);
}

/* Wait until the API says station id is offline (its connection's close was handled). */
static void wait_offline(struct csms_proc *p, const char *id)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/stations/%s", id);
	for (int i = 0; i < 100; i++) {
		json_t *j = NULL;
		bool online;

		tc_run(50);
		assert_int_equal(http_status(p->port, "GET", path, NULL, &j), 200);
		online = json_is_true(json_object_get(j, "online"));
		json_decref(j);
		if (!online)
			return;
	}
	fail_msg("%s stays online", id);
}

static void test_create_update(void **state)
{
	struct csms_proc *p = *state;
	json_t *j = NULL, *labels;
	char pw[64];
	struct tcp *tc;
	long long n0, on0, n, on;

	counts(p, &n0, &on0);
	assert_int_equal(http_status(p->port, "POST", "/api/sites",
				     "{\"id\": \"MALL\", \"kind\": \"public\"}", NULL),
			 201);
	assert_int_equal(http_status(p->port, "POST", "/api/sites",
				     "{\"id\": \"FARM\", \"kind\": \"rural\"}", NULL),
			 201);
	/* no password given: one is generated, shown this once */
	assert_int_equal(
	    http_status(p->port, "POST", "/api/stations",
			"{\"id\": \"CP-GEN-1\", \"site\": \"MALL\", \"protocol\": "
			"\"ocpp1.6\", \"notes\": \"level 2, bay 7\", \"labels\": [\"dc\", "
			"\"fast\"]}",
			&j),
	    201);
	assert_string_equal(json_str(j, "id"), "CP-GEN-1");
	assert_string_equal(json_str(j, "site"), "MALL");
	assert_string_equal(json_str(j, "site_kind"), "public");
	assert_string_equal(json_str(j, "protocol"), "ocpp1.6");
	assert_string_equal(json_str(j, "registration"), "Accepted");
	assert_string_equal(json_str(j, "notes"), "level 2, bay 7");
	assert_int_equal(json_integer_value(json_object_get(j, "security_profile")), 1);
	labels = json_object_get(j, "labels");
	assert_int_equal(json_array_size(labels), 2);
	assert_string_equal(json_string_value(json_array_get(labels, 1)), "fast");
	assert_non_null(json_str(j, "password"));
	assert_int_equal(strlen(json_str(j, "password")), 40);
	snprintf(pw, sizeof(pw), "%s", json_str(j, "password"));
	json_decref(j);
	/* never shown again */
	assert_int_equal(http_status(p->port, "GET", "/api/stations/CP-GEN-1", NULL, &j), 200);
	assert_null(json_object_get(j, "password"));
	assert_string_equal(json_str(j, "notes"), "level 2, bay 7");
	json_decref(j);
	counts(p, &n, &on);
	assert_int_equal(n, n0 + 1);

	/* the charger connects with it (and only with it) */
	assert_int_equal(tc_login_refused(p->port, "CP-GEN-1", "wrong-password-0000000"), 0);
	tc = tc_booted16(p->port, "CP-GEN-1", pw);
	assert_non_null(tc);
	counts(p, &n, &on);
	assert_int_equal(on, on0 + 1);

	/* a given password is stored, not shown */
	assert_int_equal(http_status(p->port, "POST", "/api/stations",
				     "{\"id\": \"CP-OWN-1\", \"password\": \"" PASSWORD "\"}", &j),
			 201);
	assert_null(json_object_get(j, "password"));
	assert_true(json_is_null(json_object_get(j, "site")));
	json_decref(j);
	tc_close(tc_booted16(p->port, "CP-OWN-1", PASSWORD));

	/* update: another site, notes cleared, new labels; the rest kept */
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/stations/CP-GEN-1",
			"{\"site\": \"FARM\", \"notes\": null, \"labels\": [\"moved\"]}", &j),
	    200);
	assert_string_equal(json_str(j, "site"), "FARM");
	assert_string_equal(json_str(j, "site_kind"), "rural");
	assert_true(json_is_null(json_object_get(j, "notes")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "labels"), 0)),
			    "moved");
	assert_string_equal(json_str(j, "protocol"), "ocpp1.6");
	json_decref(j);
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/stations/CP-GEN-1", "{\"security_profile\": 2}", &j),
	    200);
	assert_int_equal(json_integer_value(json_object_get(j, "security_profile")), 2);
	assert_string_equal(json_str(j, "site"), "FARM");
	json_decref(j);
	/* the overview counts it under its new site's kind */
	assert_int_equal(http_status(p->port, "GET", "/api/summary", NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_object_get(j, "by_kind"), "rural"), "stations")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_object_get(j, "by_kind"), "rural"), "online")),
			 1);
	json_decref(j);
	tc_close(tc);
	wait_offline(p, "CP-GEN-1");
	counts(p, &n, &on);
	assert_int_equal(on, on0);
	assert_int_equal(tc_shutdown(), 0);
}

static void test_bad_requests(void **state)
{
	static const char *const bad[] = {
	    "nope",
	    "{}",
	    "{\"id\": \"\"}",
	    "{\"id\": \"with space\"}",
	    "{\"id\": \"a/b\"}",
	    "{\"id\": \"0123456789012345678901234567890123456789012345678\"}", /* 49 */
	    "{\"id\": \"CP-B\", \"password\": \"short\"}",
	    "{\"id\": \"CP-B\", \"password\": \"01234567890123456789012345678901234567890\"}",
	    "{\"id\": \"CP-B\", \"site\": \"NO-SITE\"}",
	    "{\"id\": \"CP-B\", \"protocol\": \"ocpp9\"}",
	    "{\"id\": \"CP-B\", \"security_profile\": 4}",
	    "{\"id\": \"CP-B\", \"labels\": \"x\"}",
	    "{\"id\": \"CP-B\", \"labels\": [\"a,b\"]}",
	    "{\"id\": \"CP-B\", \"labels\": [\"\"]}",
	    "{\"id\": \"CP-B\", \"registration\": \"Maybe\"}",
	};
	struct csms_proc *p = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("body %s\n", bad[i]);
		assert_int_equal(http_status(p->port, "POST", "/api/stations", bad[i], NULL), 400);
	}
	assert_int_equal(http_status(p->port, "GET", "/api/stations/CP-B", NULL, NULL), 404);
	assert_int_equal(http_status(p->port, "POST", "/api/stations", "{\"id\": \"CP-B\"}", NULL),
			 201);
	assert_int_equal(http_status(p->port, "POST", "/api/stations", "{\"id\": \"CP-B\"}", NULL),
			 409);
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/stations/CP-B", "{\"site\": \"NO-SITE\"}", NULL),
	    400);
	assert_int_equal(http_status(p->port, "PUT", "/api/stations/CP-B", "{\"notes\": 5}", NULL),
			 400);
	assert_int_equal(
	    http_status(p->port, "PUT", "/api/stations/CP-NONE", "{\"notes\": \"x\"}", NULL), 404);
	assert_int_equal(http_status(p->port, "DELETE", "/api/stations/CP-NONE", NULL, NULL), 404);
	assert_int_equal(
	    http_status(p->port, "POST", "/api/stations/CP-NONE/reset-password", "{}", NULL), 404);
}

static void test_delete(void **state)
{
	struct csms_proc *p = *state;
	json_t *conf = NULL;
	struct tcp *tc;
	long long n0, on0, n, on;
	long long tx;

	assert_int_equal(
	    http_status(p->port, "POST", "/api/id-tokens", "{\"id\": \"DEL-TAG\"}", NULL), 201);
	assert_int_equal(http_status(p->port, "POST", "/api/stations",
				     "{\"id\": \"CP-DEL-1\", \"password\": \"" PASSWORD "\"}",
				     NULL),
			 201);
	assert_int_equal(http_status(p->port, "POST", "/api/stations",
				     "{\"id\": \"CP-DEL-2\", \"password\": \"" PASSWORD "\"}",
				     NULL),
			 201);
	counts(p, &n0, &on0);

	/* connected: refused */
	tc = tc_booted16(p->port, "CP-DEL-1", PASSWORD);
	assert_non_null(tc);
	assert_int_equal(tc_call(tc, "StatusNotification",
				 json_pack("{s:i, s:s, s:s}", "connectorId", 1, "errorCode",
					   "NoError", "status", "Charging"),
				 NULL, NULL, 5000),
			 0);
	assert_int_equal(http_status(p->port, "DELETE", "/api/stations/CP-DEL-1", NULL, NULL), 409);
	/* an open session, after the charger left: still refused */
	{
		char ts[32];

		rfc3339_now(ts);
		assert_int_equal(
		    tc_call(tc, "StartTransaction",
			    json_pack("{s:i, s:s, s:i, s:s}", "connectorId", 1, "idTag", "DEL-TAG",
				      "meterStart", 100, "timestamp", ts),
			    &conf, NULL, 5000),
		    0);
		tx = json_integer_value(json_object_get(conf, "transactionId"));
		json_decref(conf);
	}
	tc_close(tc);
	wait_offline(p, "CP-DEL-1");
	assert_int_equal(http_status(p->port, "DELETE", "/api/stations/CP-DEL-1", NULL, NULL), 409);
	/* a stopped session is kept for billing: still refused, with the reason */
	tc = tc_booted16(p->port, "CP-DEL-1", PASSWORD);
	{
		char ts[32];

		rfc3339_now(ts);
		assert_int_equal(
		    tc_call(tc, "StopTransaction",
			    json_pack("{s:I, s:i, s:s}", "transactionId", (json_int_t)tx,
				      "meterStop", 900, "timestamp", ts),
			    NULL, NULL, 5000),
		    0);
	}
	tc_close(tc);
	wait_offline(p, "CP-DEL-1");
	{
		json_t *j = NULL;

		assert_int_equal(http_status(p->port, "DELETE", "/api/stations/CP-DEL-1", NULL, &j),
				 409);
		assert_non_null(strstr(json_str(j, "error"), "sessions"));
		json_decref(j);
	}
	assert_int_equal(http_status(p->port, "GET", "/api/stations/CP-DEL-1", NULL, NULL), 200);

	/* a station that never charged goes, with its connectors out of the counts */
	tc = tc_booted16(p->port, "CP-DEL-2", PASSWORD);
	assert_int_equal(tc_call(tc, "StatusNotification",
				 json_pack("{s:i, s:s, s:s}", "connectorId", 1, "errorCode",
					   "NoError", "status", "Faulted"),
				 NULL, NULL, 5000),
			 0);
	tc_close(tc);
	wait_offline(p, "CP-DEL-2");
	{
		json_t *j = NULL;

		assert_int_equal(http_status(p->port, "GET", "/api/summary", NULL, &j), 200);
		assert_int_equal(json_integer_value(
				     json_object_get(json_object_get(j, "connectors"), "Faulted")),
				 1);
		json_decref(j);
		assert_int_equal(
		    http_status(p->port, "DELETE", "/api/stations/CP-DEL-2", NULL, NULL), 204);
		assert_int_equal(http_status(p->port, "GET", "/api/summary", NULL, &j), 200);
		assert_null(json_object_get(json_object_get(j, "connectors"), "Faulted"));
		json_decref(j);
	}
	assert_int_equal(http_status(p->port, "GET", "/api/stations/CP-DEL-2", NULL, NULL), 404);
	assert_int_equal(http_status(p->port, "DELETE", "/api/stations/CP-DEL-2", NULL, NULL), 404);
	counts(p, &n, &on);
	assert_int_equal(n, n0 - 1);
	/* it can no longer connect (the registration policy is closed) */
	assert_int_equal(tc_login_refused(p->port, "CP-DEL-2", PASSWORD), 0);
	assert_int_equal(tc_shutdown(), 0);
}

static void test_reset_password(void **state)
{
	struct csms_proc *p = *state;
	char pw1[64], pw2[64];
	struct http_async *a;
	json_t *j = NULL, *fr = NULL;
	struct tcp *tc;
	int status = 0;

	assert_int_equal(http_status(p->port, "POST", "/api/stations",
				     "{\"id\": \"CP-PW-1\", \"password\": \"" PASSWORD "\"}", NULL),
			 201);
	/* offline: a new hash, the old password refused from now on */
	assert_int_equal(
	    http_status(p->port, "POST", "/api/stations/CP-PW-1/reset-password", "{}", &j), 200);
	assert_false(json_is_true(json_object_get(j, "pushed")));
	assert_int_equal(strlen(json_str(j, "password")), 40);
	snprintf(pw1, sizeof(pw1), "%s", json_str(j, "password"));
	json_decref(j);
	assert_int_equal(tc_login_refused(p->port, "CP-PW-1", PASSWORD), 0);
	tc = tc_booted16(p->port, "CP-PW-1", pw1);
	assert_non_null(tc);

	/* online: pushed as ChangeConfiguration AuthorizationKey, answered after it accepted */
	a = http_request_start(p->port, "POST", "/api/stations/CP-PW-1/reset-password", "{}",
			       10000);
	assert_non_null(a);
	assert_int_equal(tc_next_call(tc, 5000, &fr), 0);
	assert_string_equal(json_string_value(json_array_get(fr, 2)), "ChangeConfiguration");
	assert_string_equal(json_str(json_array_get(fr, 3), "key"), "AuthorizationKey");
	snprintf(pw2, sizeof(pw2), "%s", json_str(json_array_get(fr, 3), "value"));
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(fr, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	json_decref(fr);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(j, "pushed")));
	/* the caller sees the password the station took */
	assert_string_equal(json_str(j, "password"), pw2);
	assert_string_not_equal(pw1, pw2);
	json_decref(j);
	tc_close(tc);
	wait_offline(p, "CP-PW-1");
	assert_int_equal(tc_login_refused(p->port, "CP-PW-1", pw1), 0);
	tc = tc_booted16(p->port, "CP-PW-1", pw2);
	assert_non_null(tc);

	/* a station that refuses keeps its password: so does the CSMS (409) */
	a = http_request_start(p->port, "POST", "/api/stations/CP-PW-1/reset-password", "{}",
			       10000);
	assert_int_equal(tc_next_call(tc, 5000, &fr), 0);
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(fr, 1)),
				  json_pack("{s:s}", "status", "Rejected")),
			 0);
	json_decref(fr);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 409);
	assert_null(json_object_get(j, "password"));
	json_decref(j);
	tc_close(tc);
	wait_offline(p, "CP-PW-1");
	tc_close(tc_booted16(p->port, "CP-PW-1", pw2));
	assert_int_equal(tc_shutdown(), 0);
}

static void test_roles(void **state)
{
	struct csms_proc *p = *state;
	char viewer[160], op[160];

	assert_int_equal(http_bearer_header(p->port, "st-viewer", "viewer", viewer, sizeof(viewer)),
			 0);
	assert_int_equal(http_bearer_header(p->port, "st-operator", "operator", op, sizeof(op)), 0);
	assert_int_equal(
	    http_status_as(p->port, NULL, "POST", "/api/stations", "{\"id\": \"CP-R-1\"}"), 401);
	assert_int_equal(
	    http_status_as(p->port, viewer, "POST", "/api/stations", "{\"id\": \"CP-R-1\"}"), 403);
	assert_int_equal(
	    http_status_as(p->port, op, "POST", "/api/stations", "{\"id\": \"CP-R-1\"}"), 201);
	assert_int_equal(http_status_as(p->port, viewer, "GET", "/api/stations/CP-R-1", NULL), 200);
	assert_int_equal(
	    http_status_as(p->port, viewer, "PUT", "/api/stations/CP-R-1", "{\"notes\": \"x\"}"),
	    403);
	assert_int_equal(
	    http_status_as(p->port, viewer, "POST", "/api/stations/CP-R-1/reset-password", "{}"),
	    403);
	assert_int_equal(http_status_as(p->port, viewer, "DELETE", "/api/stations/CP-R-1", NULL),
			 403);
	assert_int_equal(http_status_as(p->port, NULL, "DELETE", "/api/stations/CP-R-1", NULL),
			 401);
	assert_int_equal(
	    http_status_as(p->port, op, "PUT", "/api/stations/CP-R-1", "{\"notes\": \"x\"}"), 200);
	assert_int_equal(
	    http_status_as(p->port, op, "POST", "/api/stations/CP-R-1/reset-password", "{}"), 200);
	assert_int_equal(http_status_as(p->port, op, "DELETE", "/api/stations/CP-R-1", NULL), 204);
}

/* The ids of GET path's stations, comma-separated, in order. */
static void list_ids(struct csms_proc *p, const char *path, char *out, size_t len)
{
	json_t *j = NULL, *st;
	size_t i, o = 0;

	assert_int_equal(http_status(p->port, "GET", path, NULL, &j), 200);
	out[0] = '\0';
	json_array_foreach(json_object_get(j, "stations"), i, st)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "", json_str(st, "id"));
	json_decref(j);
}

/* The station list's filters through HTTP: site, kind, protocol, online, connector status,
 * id prefix, sort and order, paging with its total. */
static void test_list_filters(void **state)
{
	struct csms_proc *p = *state;
	json_t *j = NULL, *conf = NULL;
	struct tcp *tc;
	char ids[256];

	assert_int_equal(http_status(p->port, "POST", "/api/sites",
				     "{\"id\": \"F-MALL\", \"kind\": \"public\"}", NULL),
			 201);
	assert_int_equal(http_status(p->port, "POST", "/api/sites",
				     "{\"id\": \"F-FARM\", \"kind\": \"rural\"}", NULL),
			 201);
	assert_int_equal(http_status(p->port, "POST", "/api/stations",
				     "{\"id\": \"FL-1\", \"site\": \"F-MALL\", \"protocol\": "
				     "\"ocpp1.6\", \"password\": \"" PASSWORD "\"}",
				     NULL),
			 201);
	assert_int_equal(http_status(p->port, "POST", "/api/stations",
				     "{\"id\": \"FL-2\", \"site\": \"F-MALL\", \"protocol\": "
				     "\"ocpp2.0.1\", \"password\": \"" PASSWORD "\"}",
				     NULL),
			 201);
	assert_int_equal(http_status(p->port, "POST", "/api/stations",
				     "{\"id\": \"FL-3\", \"site\": \"F-FARM\", \"protocol\": "
				     "\"ocpp1.6\", \"password\": \"" PASSWORD "\"}",
				     NULL),
			 201);
	tc = tc_booted16(p->port, "FL-1", PASSWORD);
	assert_non_null(tc);
	assert_int_equal(tc_call(tc, "StatusNotification",
				 json_pack("{s:i, s:s, s:s}", "connectorId", 1, "errorCode",
					   "GroundFailure", "status", "Faulted"),
				 &conf, NULL, 5000),
			 0);
	json_decref(conf);

	list_ids(p, "/api/stations?q=FL-", ids, sizeof(ids));
	assert_string_equal(ids, "FL-1,FL-2,FL-3");
	list_ids(p, "/api/stations?q=FL-&sort=id&order=desc", ids, sizeof(ids));
	assert_string_equal(ids, "FL-3,FL-2,FL-1");
	list_ids(p, "/api/stations?site=F-MALL", ids, sizeof(ids));
	assert_string_equal(ids, "FL-1,FL-2");
	list_ids(p, "/api/stations?kind=rural&q=FL-", ids, sizeof(ids));
	assert_string_equal(ids, "FL-3");
	list_ids(p, "/api/stations?protocol=ocpp2.0.1&q=FL-", ids, sizeof(ids));
	assert_string_equal(ids, "FL-2");
	list_ids(p, "/api/stations?site=F-MALL&online=true", ids, sizeof(ids));
	assert_string_equal(ids, "FL-1");
	list_ids(p, "/api/stations?site=F-MALL&online=false", ids, sizeof(ids));
	assert_string_equal(ids, "FL-2");
	list_ids(p, "/api/stations?status=Faulted&q=FL-", ids, sizeof(ids));
	assert_string_equal(ids, "FL-1");
	list_ids(p, "/api/stations?q=FL-&limit=1&offset=1", ids, sizeof(ids));
	assert_string_equal(ids, "FL-2");
	list_ids(p, "/api/stations?q=FL-&limit=2&after=FL-1", ids, sizeof(ids));
	assert_string_equal(ids, "FL-2,FL-3");
	assert_int_equal(http_status(p->port, "GET", "/api/stations?q=FL-&limit=1", NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 3);
	json_decref(j);
	assert_int_equal(http_status(p->port, "GET", "/api/stations?kind=moon", NULL, &j), 400);
	assert_true(json_is_string(json_object_get(j, "error")));
	json_decref(j);
	assert_int_equal(http_status(p->port, "GET", "/api/stations?limit=0", NULL, NULL), 400);
	tc_close(tc);
	assert_int_equal(tc_shutdown(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_update, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_delete, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_password, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_roles, csms_setup, csms_teardown),
	    cmocka_unit_test_setup_teardown(test_list_filters, csms_setup, csms_teardown),
	};

	return cmocka_run_group_tests_name("station-crud", tests, NULL, NULL);
}
