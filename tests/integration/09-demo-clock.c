/* SPDX-License-Identifier: MIT */
/* 09: the demo clock: the CSMS answers, stamps and reports in simulated time at the configured
 * speed, and refuses a simulated clock on a production-looking listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* simulated time starts 2026-06-01T00:00:00Z now and runs 600 times faster than real time */
static const char *const demo_args[] = {"--registration",
					"open",
					"--clock-start",
					"2026-06-01T00:00:00Z",
					"--clock-speed",
					"600",
					NULL};

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

static void test_answers_and_api_follow_the_demo_clock(void **state)
{
	const int64_t start = 1780272000000LL; /* 2026-06-01T00:00:00Z */
	struct csms_proc *p = csms_start(demo_args, NULL);
	struct tcp *tc;
	json_t *conf = NULL, *health;
	char err[64];
	int64_t t1, t2;

	(void)state;
	assert_non_null(p);
	tc = tc_connect(p->port, "CP-CLOCK-1", NULL, "ocpp1.6", 5000, NULL);
	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	t1 = parse_ms(json_string_value(json_object_get(conf, "currentTime")));
	json_decref(conf);
	/* the node started within the last minute of real time: at most 10 simulated hours */
	assert_true(t1 >= start);
	assert_true(t1 < start + 10 * 3600 * 1000LL);

	usleep(500 * 1000); /* half a real second is five simulated minutes at 600x */
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), &conf, err, 5000), 0);
	t2 = parse_ms(json_string_value(json_object_get(conf, "currentTime")));
	json_decref(conf);
	assert_true(t2 - t1 >= 250 * 600);

	health = http_get_json(p->port, "/api/health");
	assert_non_null(health);
	assert_int_equal(json_integer_value(json_object_get(health, "clock_speed")), 600);
	assert_true(parse_ms(json_string_value(json_object_get(health, "time"))) >= t2);
	json_decref(health);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
	csms_destroy(p);
	assert_int_equal(tc_shutdown(), 0);
}

static void test_real_clock_by_default(void **state)
{
	static const char *const args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_start(args, NULL);
	json_t *health;

	(void)state;
	assert_non_null(p);
	health = http_get_json(p->port, "/api/health");
	assert_non_null(health);
	assert_int_equal(json_integer_value(json_object_get(health, "clock_speed")), 1);
	assert_true(rfc3339_age_s(json_string_value(json_object_get(health, "time"))) < 60);
	assert_true(rfc3339_age_s(json_string_value(json_object_get(health, "time"))) > -60);
	json_decref(health);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
	csms_destroy(p);
}

/* A demo clock on a listener others can reach is refused with one line and status 2, unless
 * asked for explicitly; a bad time is refused the same way. */
static void test_demo_clock_refused_on_public_listener(void **state)
{
	struct csms_proc *p = csms_prepare(NULL);
	static const char *const public_demo[] = {"--listen", "0.0.0.0:0", "--clock-speed", "60",
						  NULL};
	static const char *const bad_time[] = {"--clock-start", "yesterday", NULL};
	static const char *const anchor_only[] = {"--clock-anchor", "2026-06-01T00:00:00Z", NULL};

	(void)state;
	assert_non_null(p);
	assert_int_equal(csms_cli(p, public_demo), 2);
	assert_int_equal(csms_cli(p, bad_time), 2);
	assert_int_equal(csms_cli(p, anchor_only), 2);
	csms_pass(p);
	csms_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers_and_api_follow_the_demo_clock),
	    cmocka_unit_test(test_real_clock_by_default),
	    cmocka_unit_test(test_demo_clock_refused_on_public_listener),
	};

	return cmocka_run_group_tests_name("09-demo-clock", tests, NULL, NULL);
}
