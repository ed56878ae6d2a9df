/* SPDX-License-Identifier: MIT */
/* 04: operator commands to chargers through POST /api/stations/{id}/commands/{Action}. */
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

static const char *const open_args[] = {"--registration", "open", NULL};

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, NULL);

	*state = p;
	return p ? 0 : -1;
}

/* A server that waits only 500 ms for a charger's answer. */
static int setup_short_timeout(void **state)
{
	struct csms_proc *p = csms_start(open_args, "{\"call_timeout_ms\": 500}");

	*state = p;
	return p ? 0 : -1;
}

static struct http_async *command(struct csms_proc *p, const char *station, const char *action,
				  const char *body)
{
	char path[200];
	struct http_async *a;

	snprintf(path, sizeof(path), "/api/stations/%s/commands/%s", station, action);
	a = http_request_start(p->port, "POST", path, body, 15000);
	assert_non_null(a);
	return a;
}

/* A synchronous command that must not reach any charger; returns the HTTP status. */
static int command_status(struct csms_proc *p, const char *station, const char *action,
			  const char *body)
{
	char path[200];
	json_t *j = NULL;
	int status = 0;

	snprintf(path, sizeof(path), "/api/stations/%s/commands/%s", station, action);
	assert_int_equal(http_request(p->port, "POST", path, body, &status, &j, 15000), 0);
	if (status >= 400 && !json_is_string(json_object_get(j, "error")))
		fail_msg("POST %s: status %d without an {\"error\": …} body", path, status);
	json_decref(j);
	return status;
}

/* Wait for the CSMS's CALL, check its action, return it (new reference). */
static json_t *expect_call(struct tcp *tc, const char *action)
{
	json_t *f = NULL;

	assert_int_equal(tc_next_call(tc, 10000, &f), 0);
	assert_string_equal(json_string_value(json_array_get(f, 2)), action);
	assert_true(json_is_object(json_array_get(f, 3)));
	return f;
}

static const char *call_id(const json_t *f)
{
	return json_string_value(json_array_get(f, 1));
}

static void test_remote_start_and_reset(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-1", NULL);
	struct http_async *a;
	json_t *f, *j = NULL;
	int status = 0;

	a = command(p, "CP-CMD-1", "RemoteStartTransaction",
		    "{\"connectorId\": 1, \"idTag\": \"TAG1\"}");
	f = expect_call(tc, "RemoteStartTransaction");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 3), "idTag")),
			    "TAG1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 3), "connectorId")),
			 1);
	assert_int_equal(tc_reply(tc, call_id(f), json_pack("{s:s}", "status", "Accepted")), 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "response"), "status")),
	    "Accepted");
	assert_string_equal(json_string_value(json_object_get(j, "status")), "Accepted");
	json_decref(j);

	a = command(p, "CP-CMD-1", "Reset", "{\"type\": \"Soft\"}");
	f = expect_call(tc, "Reset");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 3), "type")),
			    "Soft");
	assert_int_equal(tc_reply(tc, call_id(f), json_pack("{s:s}", "status", "Rejected")), 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "response"), "status")),
	    "Rejected");
	json_decref(j);

	/* the charger answers with a CALLERROR: 502 with its code and description */
	a = command(p, "CP-CMD-1", "Reset", "{\"type\": \"Hard\"}");
	f = expect_call(tc, "Reset");
	{
		json_t *err = json_pack("[i,s,s,s,{}]", 4, call_id(f), "NotSupported", "not today");
		char *s = json_dumps(err, JSON_COMPACT);

		assert_int_equal(tc_send_raw(tc, s), 0);
		free(s);
		json_decref(err);
	}
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 502);
	assert_string_equal(json_string_value(json_object_get(j, "code")), "NotSupported");
	assert_string_equal(json_string_value(json_object_get(j, "description")), "not today");
	json_decref(j);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_bad_requests_never_reach_the_charger(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-2", NULL);
	struct http_async *a;
	json_t *f, *j = NULL;
	int status;

	/* schema-invalid payloads: missing idTag, bad enum, wrong type, extra field */
	assert_int_equal(
	    command_status(p, "CP-CMD-2", "RemoteStartTransaction", "{\"connectorId\": 1}"), 400);
	assert_int_equal(command_status(p, "CP-CMD-2", "Reset", "{\"type\": \"Medium\"}"), 400);
	assert_int_equal(command_status(p, "CP-CMD-2", "RemoteStartTransaction", "{\"idTag\": 42}"),
			 400);
	assert_int_equal(
	    command_status(p, "CP-CMD-2", "Reset", "{\"type\": \"Soft\", \"when\": \"now\"}"), 400);
	/* not JSON, not an object */
	assert_int_equal(command_status(p, "CP-CMD-2", "Reset", "{not json"), 400);
	assert_int_equal(command_status(p, "CP-CMD-2", "Reset", "[1,2]"), 400);
	/* not a CSMS-initiated action of OCPP 1.6 */
	status = command_status(p, "CP-CMD-2", "FlyToTheMoon", "{}");
	assert_true(status == 400 || status == 404);
	status = command_status(p, "CP-CMD-2", "Heartbeat", "{}");
	assert_true(status == 400 || status == 404);
	/* unknown station */
	assert_int_equal(command_status(p, "CP-NOBODY", "Reset", "{\"type\": \"Soft\"}"), 404);

	/* the first CALL the charger sees is the first valid command */
	a = command(p, "CP-CMD-2", "UnlockConnector", "{\"connectorId\": 1}");
	f = expect_call(tc, "UnlockConnector");
	assert_int_equal(tc_reply(tc, call_id(f), json_pack("{s:s}", "status", "Unlocked")), 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	json_decref(j);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_offline_charger_409(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-3", NULL);
	long long end;
	json_t *st;
	bool online = true;

	tc_close(tc);
	end = mono_ms() + 5000;
	while (online && mono_ms() < end) {
		st = http_get_json(p->port, "/api/stations/CP-CMD-3");
		assert_non_null(st);
		online = json_is_true(json_object_get(st, "online"));
		json_decref(st);
		if (online)
			tc_run(20);
	}
	assert_false(online);
	assert_int_equal(command_status(p, "CP-CMD-3", "Reset", "{\"type\": \"Soft\"}"), 409);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_no_answer_504_then_recovers(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-4", NULL);
	struct http_async *a;
	json_t *f, *late, *j = NULL;
	int status = 0;

	a = command(p, "CP-CMD-4", "Reset", "{\"type\": \"Soft\"}");
	late = expect_call(tc, "Reset");
	/* no answer: call_timeout_ms is 500 */
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 504);
	assert_true(json_is_string(json_object_get(j, "error")));
	json_decref(j);

	/* a late answer is dropped, and the next command works */
	assert_int_equal(tc_reply(tc, call_id(late), json_pack("{s:s}", "status", "Accepted")), 0);
	json_decref(late);
	a = command(p, "CP-CMD-4", "ClearCache", "{}");
	f = expect_call(tc, "ClearCache");
	assert_int_equal(tc_reply(tc, call_id(f), json_pack("{s:s}", "status", "Accepted")), 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "response"), "status")),
	    "Accepted");
	json_decref(j);

	/* the command log has both, newest first: the raw ClearCache, then the unanswered Reset */
	j = http_get_json(p->port, "/api/commands?station=CP-CMD-4");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "commands")), 2);
	{
		json_t *c0 = json_array_get(json_object_get(j, "commands"), 0);
		json_t *c1 = json_array_get(json_object_get(j, "commands"), 1);

		assert_string_equal(json_string_value(json_object_get(c0, "action")), "ClearCache");
		assert_string_equal(json_string_value(json_object_get(c0, "kind")), "raw");
		assert_string_equal(json_string_value(json_object_get(c0, "status")), "accepted");
		assert_string_equal(json_string_value(json_object_get(c1, "action")), "Reset");
		assert_string_equal(json_string_value(json_object_get(c1, "status")), "timeout");
		assert_true(json_integer_value(json_object_get(c1, "latency_ms")) >= 400);
		assert_true(json_is_null(json_object_get(c1, "response")));
	}
	json_decref(j);

	/* the charger is still served */
	f = NULL;
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), &f, NULL, 5000), 0);
	json_decref(f);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_one_call_in_flight(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-5", NULL);
	struct http_async *soft, *hard;
	json_t *first, *second, *j = NULL, *none = NULL;
	const char *type;
	int status = 0;

	soft = command(p, "CP-CMD-5", "Reset", "{\"type\": \"Soft\"}");
	hard = command(p, "CP-CMD-5", "Reset", "{\"type\": \"Hard\"}");

	first = expect_call(tc, "Reset");
	/* OCPP-J: the second CALL must wait until the first is answered */
	assert_int_equal(tc_next_call(tc, 1000, &none), -ETIMEDOUT);

	/* answer Soft with Accepted and Hard with Rejected, so the replies cannot be mixed up */
	type = json_string_value(json_object_get(json_array_get(first, 3), "type"));
	assert_int_equal(
	    tc_reply(tc, call_id(first),
		     json_pack("{s:s}", "status", !strcmp(type, "Soft") ? "Accepted" : "Rejected")),
	    0);
	second = expect_call(tc, "Reset");
	assert_string_not_equal(call_id(second), call_id(first));
	type = json_string_value(json_object_get(json_array_get(second, 3), "type"));
	assert_int_equal(
	    tc_reply(tc, call_id(second),
		     json_pack("{s:s}", "status", !strcmp(type, "Soft") ? "Accepted" : "Rejected")),
	    0);
	assert_string_not_equal(
	    json_string_value(json_object_get(json_array_get(first, 3), "type")), type);
	json_decref(first);
	json_decref(second);

	assert_int_equal(http_request_join(soft, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "response"), "status")),
	    "Accepted");
	json_decref(j);
	assert_int_equal(http_request_join(hard, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "response"), "status")),
	    "Rejected");
	json_decref(j);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* POST path with body; the charger must get `action` whose payload has `check` (a JSON object
 * whose members must all be equal in the CALL), answers {"status": answer}; returns the HTTP
 * answer's JSON. */
static json_t *neutral(struct csms_proc *p, struct tcp *tc, const char *path, const char *body,
		       const char *action, const char *check, const char *answer)
{
	struct http_async *a;
	json_t *f, *want, *j = NULL, *v;
	const char *k;
	int status = 0;

	a = http_request_start(p->port, "POST", path, body, 15000);
	assert_non_null(a);
	f = expect_call(tc, action);
	want = json_loads(check, 0, NULL);
	assert_non_null(want);
	json_object_foreach(want, k, v) {
		if (!json_equal(json_object_get(json_array_get(f, 3), k), v)) {
			char *got = json_dumps(json_array_get(f, 3), JSON_COMPACT);

			fail_msg("%s: %s in %s, want %s", path, k, got, check);
		}
	}
	json_decref(want);
	assert_int_equal(tc_reply(tc, call_id(f), json_pack("{s:s}", "status", answer)), 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), answer);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "response"), "status")), answer);
	return j;
}

/* The version-neutral routes become the OCPP 1.6 messages. */
#define QUEUE_TOKEN "metrics-0123456789abcdef"

/* csms_calls_queued from /metrics, or -1. */
static long long calls_queued(const struct csms_proc *p)
{
	const char *hdr[] = {"Authorization: Bearer " QUEUE_TOKEN, NULL};
	struct http_opts o = {.method = "GET", .path = "/metrics", .headers = hdr};
	struct http_result res;
	const char *l;
	long long n = -1;

	assert_int_equal(http_exchange(p->port, &o, &res), 0);
	assert_int_equal(res.status, 200);
	l = strstr(res.body, "\ncsms_calls_queued ");
	if (l)
		n = atoll(l + strlen("\ncsms_calls_queued "));
	http_result_clear(&res);
	return n;
}

/* A server that queues one command per charger behind the one in flight. */
static int setup_queue_of_one(void **state)
{
	struct csms_proc *p = csms_start(
	    open_args, "{\"max_call_queue\": 1, \"metrics_token\": \"" QUEUE_TOKEN "\"}");

	*state = p;
	return p ? 0 : -1;
}

/* Errors are JSON with the right status: 503 when the charger's command queue is full, 405 for
 * a method a route does not take (PATCH, OPTIONS too), 413 for a body over the limit. */
static void test_busy_405_413(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-Q", NULL);
	struct http_async *first, *second;
	struct http_result res;
	struct http_opts o = {.path = "/api/stations"};
	static const char *const methods[] = {"PATCH", "OPTIONS", "DELETE"};
	json_t *call, *j = NULL;
	char *big;
	int status = 0;

	first = command(p, "CP-CMD-Q", "Reset", "{\"type\": \"Soft\"}");
	call = expect_call(tc, "Reset"); /* in flight */
	second = command(p, "CP-CMD-Q", "Reset", "{\"type\": \"Soft\"}");
	/* once the queue of one holds the second, a third is refused at once */
	for (int i = 0; i < 300 && calls_queued(p) < 1; i++)
		usleep(50 * 1000);
	assert_int_equal(calls_queued(p), 1);
	assert_int_equal(command_status(p, "CP-CMD-Q", "Reset", "{\"type\": \"Soft\"}"), 503);
	assert_int_equal(tc_reply(tc, call_id(call), json_pack("{s:s}", "status", "Accepted")), 0);
	json_decref(call);
	assert_int_equal(http_request_join(first, &status, &j), 0);
	assert_int_equal(status, 200);
	json_decref(j);
	call = expect_call(tc, "Reset");
	assert_int_equal(tc_reply(tc, call_id(call), json_pack("{s:s}", "status", "Accepted")), 0);
	json_decref(call);
	assert_int_equal(http_request_join(second, &status, &j), 0);
	assert_int_equal(status, 200);
	json_decref(j);
	tc_close(tc);

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		o.method = methods[i];
		assert_int_equal(http_exchange(p->port, &o, &res), 0);
		if (res.status != 405)
			print_error("%s /api/stations: %d\n", methods[i], res.status);
		assert_int_equal(res.status, 405);
		assert_true(json_is_string(json_object_get(res.json, "error")));
		http_result_clear(&res);
	}
	o.method = "PATCH";
	o.path = "/api/no-such-route";
	assert_int_equal(http_exchange(p->port, &o, &res), 0);
	assert_int_equal(res.status, 404);
	http_result_clear(&res);

	big = malloc(2u << 20);
	assert_non_null(big);
	memset(big, ' ', (2u << 20) - 1);
	big[0] = '{';
	big[(2u << 20) - 2] = '}';
	big[(2u << 20) - 1] = '\0';
	o.method = "POST";
	o.path = "/api/sites";
	o.body = big;
	assert_int_equal(http_exchange(p->port, &o, &res), 0);
	assert_int_equal(res.status, 413);
	assert_true(json_is_string(json_object_get(res.json, "error")));
	http_result_clear(&res);
	free(big);
}

static void test_version_neutral_commands(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-6", NULL);
	json_t *conf = NULL, *j;
	char now[32], body[64];
	json_int_t id;
	int status = 0;

	j = neutral(p, tc, "/api/stations/CP-CMD-6/remote-start",
		    "{\"id_tag\": \"T1\", \"evse_id\": 1}", "RemoteStartTransaction",
		    "{\"idTag\": \"T1\", \"connectorId\": 1}", "Accepted");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-6/reset", "{\"type\": \"soft\"}", "Reset",
		    "{\"type\": \"Soft\"}", "Rejected");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-6/reset", "{\"type\": \"hard\"}", "Reset",
		    "{\"type\": \"Hard\"}", "Accepted");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-6/unlock", "{\"evse_id\": 2, \"connector_id\": 1}",
		    "UnlockConnector", "{\"connectorId\": 2}", "Unlocked");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-6/availability",
		    "{\"operative\": false, \"evse_id\": 0}", "ChangeAvailability",
		    "{\"connectorId\": 0, \"type\": \"Inoperative\"}", "Accepted");
	json_decref(j);

	/* remote stop of a running session: the charger gets its transactionId */
	rfc3339_offset(now, -30);
	assert_int_equal(tc_call(tc, "StartTransaction",
				 json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 1, "idTag", "T1",
					   "meterStart", 0, "timestamp", now),
				 &conf, NULL, 5000),
			 0);
	id = json_integer_value(json_object_get(conf, "transactionId"));
	json_decref(conf);
	snprintf(body, sizeof(body), "{\"session_id\": %lld}", (long long)id);
	snprintf(now, sizeof(now), "{\"transactionId\": %lld}", (long long)id);
	j = neutral(p, tc, "/api/stations/CP-CMD-6/remote-stop", body, "RemoteStopTransaction", now,
		    "Accepted");
	json_decref(j);

	/* bad bodies never reach the charger */
	j = NULL;
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CP-CMD-6/reset",
				      "{\"type\": \"medium\"}", &status, &j, 5000),
			 0);
	assert_int_equal(status, 400);
	json_decref(j);
	j = NULL;
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CP-CMD-6/remote-start",
				      "{\"evse_id\": 1}", &status, &j, 5000),
			 0);
	assert_int_equal(status, 400);
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-6/reset", "{\"type\": \"soft\"}", "Reset",
		    "{\"type\": \"Soft\"}", "Accepted");
	json_decref(j);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* Every command's answer is in the command log (GET /api/commands) by the time the API answers;
 * the routes added with it (trigger, charging profiles, local list, reservations) reach the
 * charger as OCPP 1.6 messages. */
static void test_command_log(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_booted16(p->port, "CP-CMD-7", NULL);
	struct tcp *other = tc_booted16(p->port, "CP-CMD-8", NULL);
	json_t *j, *log, *c, *resp;
	int status = 0;

	j = neutral(p, tc, "/api/stations/CP-CMD-7/unlock", "{\"evse_id\": 1}", "UnlockConnector",
		    "{\"connectorId\": 1}", "Unlocked");
	json_decref(j);
	/* the log row is durable before the HTTP answer: it is there at once */
	log = http_get_json(p->port, "/api/commands?station=CP-CMD-7");
	assert_non_null(log);
	assert_int_equal(json_array_size(json_object_get(log, "commands")), 1);
	c = json_array_get(json_object_get(log, "commands"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "station")), "CP-CMD-7");
	/* who: the principal the locked API authenticated (the harness's admin API token) */
	assert_string_equal(json_string_value(json_object_get(c, "who")), "token:it-harness");
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "unlock");
	assert_string_equal(json_string_value(json_object_get(c, "action")), "UnlockConnector");
	assert_string_equal(json_string_value(json_object_get(c, "status")), "accepted");
	assert_string_equal(json_string_value(json_object_get(c, "station_status")), "Unlocked");
	assert_true(is_rfc3339(json_string_value(json_object_get(c, "requested"))));
	assert_true(is_rfc3339(json_string_value(json_object_get(c, "answered"))));
	assert_true(json_integer_value(json_object_get(c, "latency_ms")) >= 0);
	resp = json_object_get(c, "response");
	assert_string_equal(json_string_value(json_object_get(resp, "status")), "Unlocked");
	json_decref(log);

	j = neutral(p, tc, "/api/stations/CP-CMD-7/trigger",
		    "{\"message\": \"status\", \"evse_id\": 1}", "TriggerMessage",
		    "{\"requestedMessage\": \"StatusNotification\", \"connectorId\": 1}",
		    "Accepted");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-7/charging-profile",
		    "{\"evse_id\": 1, \"id\": 3, \"purpose\": \"tx-default\", \"stack_level\": 1, "
		    "\"rate_unit\": \"A\", \"periods\": [{\"start_s\": 0, \"limit\": 16}, "
		    "{\"start_s\": 600, \"limit\": -6.5}]}",
		    "SetChargingProfile", "{\"connectorId\": 1}", "Accepted");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-7/clear-charging-profile", "{\"id\": 3}",
		    "ClearChargingProfile", "{\"id\": 3}", "Accepted");
	json_decref(j);
	/* a recurring profile: a home pile's valley every day from 23:00 local (15:00 UTC) */
	j = neutral(
	    p, tc, "/api/stations/CP-CMD-7/charging-profile",
	    "{\"evse_id\": 0, \"id\": 4, \"purpose\": \"tx-default\", \"stack_level\": 2, "
	    "\"recurrency\": \"daily\", \"start\": \"2026-12-01T15:00:00Z\", "
	    "\"periods\": [{\"start_s\": 0, \"limit\": 7400}, {\"start_s\": 28800, "
	    "\"limit\": 0}]}",
	    "SetChargingProfile",
	    "{\"connectorId\": 0, \"csChargingProfiles\": {\"chargingProfileId\": 4, "
	    "\"stackLevel\": 2, \"chargingProfilePurpose\": \"TxDefaultProfile\", "
	    "\"chargingProfileKind\": \"Recurring\", \"recurrencyKind\": \"Daily\", "
	    "\"chargingSchedule\": {\"chargingRateUnit\": \"W\", \"chargingSchedulePeriod\": "
	    "[{\"startPeriod\": 0, \"limit\": 7400}, {\"startPeriod\": 28800, \"limit\": "
	    "0}], \"startSchedule\": \"2026-12-01T15:00:00.000Z\"}}}",
	    "Accepted");
	json_decref(j);
	/* ... needs its start, and its periods within the day */
	j = NULL;
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CP-CMD-7/charging-profile",
				      "{\"id\": 5, \"purpose\": \"tx-default\", \"recurrency\": "
				      "\"daily\", \"periods\": [{\"start_s\": 0, \"limit\": 1}]}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 400);
	json_decref(j);
	j = NULL;
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CP-CMD-7/charging-profile",
				      "{\"id\": 5, \"purpose\": \"tx-default\", \"recurrency\": "
				      "\"daily\", \"start\": \"2026-12-01T15:00:00Z\", "
				      "\"periods\": [{\"start_s\": 86400, \"limit\": 1}]}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 400);
	json_decref(j);
	j = NULL;
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CP-CMD-7/charging-profile",
				      "{\"id\": 5, \"purpose\": \"tx-default\", \"recurrency\": "
				      "\"hourly\", \"start\": \"2026-12-01T15:00:00Z\", "
				      "\"periods\": [{\"start_s\": 0, \"limit\": 1}]}",
				      &status, &j, 5000),
			 0);
	assert_int_equal(status, 400);
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-7/reserve",
		    "{\"reservation_id\": 9, \"id_tag\": \"T1\", \"evse_id\": 1, "
		    "\"expiry\": \"2030-01-01T00:00:00Z\"}",
		    "ReserveNow", "{\"reservationId\": 9, \"idTag\": \"T1\"}", "Accepted");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-7/cancel-reservation", "{\"reservation_id\": 9}",
		    "CancelReservation", "{\"reservationId\": 9}", "Rejected");
	json_decref(j);
	j = neutral(p, tc, "/api/stations/CP-CMD-7/local-list",
		    "{\"version\": 2, \"full\": true, \"entries\": [{\"id_tag\": \"T1\", "
		    "\"status\": \"Accepted\"}]}",
		    "SendLocalList", "{\"listVersion\": 2, \"updateType\": \"Full\"}", "Accepted");
	json_decref(j);

	/* a command to another station stays in that station's log */
	j = neutral(p, other, "/api/stations/CP-CMD-8/reset", "{\"type\": \"soft\"}", "Reset",
		    "{\"type\": \"Soft\"}", "Rejected");
	json_decref(j);

	log = http_get_json(p->port, "/api/commands?station=CP-CMD-7&limit=2");
	assert_non_null(log);
	assert_int_equal(json_array_size(json_object_get(log, "commands")), 2);
	c = json_array_get(json_object_get(log, "commands"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "send-local-list");
	c = json_array_get(json_object_get(log, "commands"), 1);
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "cancel-reservation");
	assert_string_equal(json_string_value(json_object_get(c, "status")), "rejected");
	json_decref(log);
	log = http_get_json(p->port, "/api/commands?station=CP-CMD-7&offset=7");
	assert_non_null(log);
	assert_int_equal(json_array_size(json_object_get(log, "commands")), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(log, "commands"), 0), "kind")),
			    "unlock");
	json_decref(log);
	log = http_get_json(p->port, "/api/commands");
	assert_non_null(log);
	assert_int_equal(json_array_size(json_object_get(log, "commands")), 9);
	c = json_array_get(json_object_get(log, "commands"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "station")), "CP-CMD-8");
	json_decref(log);

	/* an invalid body is refused before the domain and leaves no row */
	j = NULL;
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CP-CMD-7/trigger",
				      "{\"message\": \"coffee\"}", &status, &j, 5000),
			 0);
	assert_int_equal(status, 400);
	json_decref(j);
	log = http_get_json(p->port, "/api/commands");
	assert_non_null(log);
	assert_int_equal(json_array_size(json_object_get(log, "commands")), 9);
	json_decref(log);
	j = NULL;
	assert_int_equal(
	    http_request(p->port, "GET", "/api/commands?limit=0", NULL, &status, &j, 5000), 0);
	assert_int_equal(status, 400);
	json_decref(j);

	tc_close(tc);
	tc_close(other);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_remote_start_and_reset, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_bad_requests_never_reach_the_charger, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_offline_charger_409, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_no_answer_504_then_recovers, setup_short_timeout,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_one_call_in_flight, setup, csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_busy_405_413, setup_queue_of_one,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_version_neutral_commands, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_command_log, setup, csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("04-commands", tests, NULL, NULL);
}
