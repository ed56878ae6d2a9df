/* SPDX-License-Identifier: MIT */
/* 12: /metrics counts chargers' CALLs and CALLERRORs by action and by code, the handling time
 * of every answer (histogram) and the replies per group commit, with the values of the calls
 * this test made. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define METRICS_TOKEN "metrics-fedcba9876543210"

static const char *const open_args[] = {"--registration", "open", NULL};

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, "{\"metrics_token\": \"" METRICS_TOKEN "\"}");

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

/* The /metrics text (owned by res). */
static const char *metrics(const struct csms_proc *p, struct http_result *res)
{
	const char *hdr[] = {"Authorization: Bearer " METRICS_TOKEN, NULL};
	struct http_opts o = {.method = "GET", .path = "/metrics", .headers = hdr};

	assert_int_equal(http_exchange(p->port, &o, res), 0);
	assert_int_equal(res->status, 200);
	assert_non_null(res->body);
	return res->body;
}

/* The value of the sample named exactly series ("name{labels}"), or -1 if absent. */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return atoll(l + n + 1);
	return -1;
}

static void call_ok(struct tcp *tc, const char *action, json_t *payload)
{
	json_t *conf = NULL;
	char err[64] = "";

	if (tc_call(tc, action, payload, &conf, err, 5000) != 0)
		fail_msg("%s: %s", action, err);
	json_decref(conf);
}

static void call_error(struct tcp *tc, const char *action, json_t *payload, const char *want)
{
	char err[64] = "";

	assert_int_equal(tc_call(tc, action, payload, NULL, err, 5000), 1);
	assert_string_equal(err, want);
}

static void test_calls_by_action(void **state)
{
	struct csms_proc *p = *state;
	struct http_result res;
	struct tcp *tc = tc_connect(p->port, "MET-1", NULL, "ocpp1.6", 5000, NULL);
	const char *m;
	long long calls, answers, replies;

	assert_non_null(tc);
	/* before any call: no per-action series yet, the families are declared */
	m = metrics(p, &res);
	assert_non_null(strstr(m, "# TYPE csms_calls_in_by_action_total counter"));
	assert_int_equal(
	    sample(m, "csms_calls_in_by_action_total{protocol=\"ocpp1.6\",action=\"Heartbeat\"}"),
	    -1);
	http_result_clear(&res);

	assert_int_equal(tc_boot16(tc, NULL, NULL), 0);
	for (int i = 0; i < 3; i++)
		call_ok(tc, "Heartbeat", json_object());
	for (int i = 0; i < 2; i++)
		call_error(tc, "StatusNotification",
			   json_pack("{s:s, s:s, s:s}", "connectorId", "one", "errorCode",
				     "NoError", "status", "Available"),
			   "TypeConstraintViolation");
	call_error(tc, "NoSuchAction", json_object(), "NotImplemented");

	m = metrics(p, &res);
	assert_int_equal(
	    sample(
		m,
		"csms_calls_in_by_action_total{protocol=\"ocpp1.6\",action=\"BootNotification\"}"),
	    1);
	assert_int_equal(
	    sample(m, "csms_calls_in_by_action_total{protocol=\"ocpp1.6\",action=\"Heartbeat\"}"),
	    3);
	assert_int_equal(sample(m, "csms_calls_in_by_action_total{protocol=\"ocpp1.6\",action="
				   "\"StatusNotification\"}"),
			 2);
	assert_int_equal(
	    sample(m, "csms_calls_in_by_action_total{protocol=\"ocpp1.6\",action=\"unknown\"}"), 1);
	assert_int_equal(sample(m, "csms_callerrors_out_by_action_total{protocol=\"ocpp1.6\","
				   "action=\"StatusNotification\"}"),
			 2);
	assert_int_equal(
	    sample(m,
		   "csms_callerrors_out_by_action_total{protocol=\"ocpp1.6\",action=\"unknown\"}"),
	    1);
	assert_int_equal(
	    sample(
		m,
		"csms_callerrors_out_by_action_total{protocol=\"ocpp1.6\",action=\"Heartbeat\"}"),
	    -1);
	assert_int_equal(sample(m, "csms_callerrors_out_by_code_total{protocol=\"ocpp1.6\",code="
				   "\"TypeConstraintViolation\"}"),
			 2);
	assert_int_equal(
	    sample(
		m,
		"csms_callerrors_out_by_code_total{protocol=\"ocpp1.6\",code=\"NotImplemented\"}"),
	    1);
	assert_int_equal(sample(m, "csms_callerrors_out_total"), 3);
	/* every CALL got exactly one answer, timed from its frame to its release */
	calls = sample(m, "csms_calls_in_total");
	answers = sample(m, "csms_call_seconds_count");
	assert_int_equal(calls, 7);
	assert_int_equal(answers, calls);
	assert_int_equal(sample(m, "csms_call_seconds_bucket{le=\"+Inf\"}"), answers);
	/* the histogram is cumulative and the answers came within 5 s */
	assert_true(sample(m, "csms_call_seconds_bucket{le=\"0.001\"}") <=
		    sample(m, "csms_call_seconds_bucket{le=\"5\"}"));
	assert_int_equal(sample(m, "csms_call_seconds_bucket{le=\"5\"}"), answers);
	/* every released reply is in one group-commit batch */
	replies = sample(m, "csms_commit_batch_replies_sum");
	assert_int_equal(replies, answers);
	assert_true(sample(m, "csms_commit_batch_replies_count") >= 1);
	assert_int_equal(sample(m, "csms_live_subscribers"), 0);
	assert_int_equal(sample(m, "csms_held_replies"), 0);
	assert_true(sample(m, "csms_planner_runs_total") >= 0);
	assert_true(sample(m, "csms_planner_tx_profiles_sent_total") >= 0);
	assert_true(sample(m, "csms_planner_tx_profiles_skipped_total") >= 0);
	assert_true(sample(m, "csms_tx_queued_frames") >= 0);
	assert_true(sample(m, "csms_calls_queued") >= 0);
	http_result_clear(&res);
	tc_close(tc);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_calls_by_action, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
