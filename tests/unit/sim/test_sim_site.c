/* SPDX-License-Identifier: MIT */
/* Unit tests of the sites' local time (--utc-offset) and the fleet's ratings file. */
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
#include <jansson.h>

#include "scenario.h"
#include "site.h"

#define MIN_MS	(60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS	(24 * HOUR_MS)

static const int64_t midnight_utc = INT64_C(1795392000000); /* 2026-11-22T00:00:00Z */

static int reset_offset(void **state)
{
	(void)state;
	return cpsim_site_set_utc_offset(0);
}

static int64_t utc_tod(int64_t t)
{
	return ((t % DAY_MS) + DAY_MS) % DAY_MS;
}

static void test_parse_and_format_offsets(void **state)
{
	static const struct {
		const char *s;
		int min;
	} good[] = {
	    {"+08:00", 480}, {"-05:30", -330}, {"+0800", 480},	{"+08", 480},	  {"Z", 0},
	    {"+00:00", 0},   {"-00:00", 0},    {"+14:00", 840}, {"-14:00", -840}, {"+05:45", 345},
	};
	static const char *const bad[] = {"08:00",  "+8:00",   "+08:60", "+08:", "+14:01",
					  "-15:00", "+08:00Z", "",	 "+0",	 "UTC+8"};
	char buf[8];
	int m;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m = 12345;
		assert_int_equal(cpsim_parse_utc_offset(good[i].s, &m), 0);
		assert_int_equal(m, good[i].min);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = 12345;
		assert_int_equal(cpsim_parse_utc_offset(bad[i], &m), -EINVAL);
		assert_int_equal(m, 12345); /* untouched on error */
	}
	cpsim_format_utc_offset(480, buf, sizeof(buf));
	assert_string_equal(buf, "+08:00");
	cpsim_format_utc_offset(-330, buf, sizeof(buf));
	assert_string_equal(buf, "-05:30");
	cpsim_format_utc_offset(0, buf, sizeof(buf));
	assert_string_equal(buf, "+00:00");
}

static void test_scenario_utc_offset(void **state)
{
	struct cpsim_scenario sc;
	char err[256];
	char a0[] = "cpsim", a1[] = "--utc-offset", a2[] = "+08:00", a3[] = "-15:00";
	char *ok[] = {a0, a1, a2, NULL}, *no[] = {a0, a1, a3, NULL}, *none[] = {a0, NULL};

	(void)state;
	assert_int_equal(cpsim_scenario_from_args(&sc, 1, none, err, sizeof(err)), 0);
	assert_int_equal(sc.utc_offset_min, 0); /* the default keeps UTC */
	cpsim_scenario_free(&sc);
	assert_int_equal(cpsim_scenario_from_args(&sc, 3, ok, err, sizeof(err)), 0);
	assert_int_equal(sc.utc_offset_min, 480);
	cpsim_scenario_free(&sc);
	assert_int_equal(cpsim_scenario_from_args(&sc, 3, no, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--utc-offset"));
	cpsim_scenario_free(&sc);

	cpsim_scenario_defaults(&sc);
	assert_int_equal(
	    cpsim_scenario_load_json(&sc, NULL, "{\"utc_offset\": \"-03:00\"}", err, sizeof(err)),
	    0);
	assert_int_equal(sc.utc_offset_min, -180);
	assert_int_equal(
	    cpsim_scenario_load_json(&sc, NULL, "{\"utc_offset\": \"8\"}", err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "utc_offset"));
	cpsim_scenario_free(&sc);
}

static void test_time_of_day_is_local(void **state)
{
	(void)state;
	assert_int_equal(cpsim_site_utc_offset(), 0);
	assert_int_equal(cpsim_site_time_of_day(midnight_utc + 3 * HOUR_MS), 3 * HOUR_MS);
	assert_int_equal(cpsim_site_set_utc_offset(480), 0);
	assert_int_equal(cpsim_site_utc_offset(), 480);
	/* 03:00 UTC is 11:00 in UTC+08:00; 20:00 UTC is 04:00 the next local day */
	assert_int_equal(cpsim_site_time_of_day(midnight_utc + 3 * HOUR_MS), 11 * HOUR_MS);
	assert_int_equal(cpsim_site_time_of_day(midnight_utc + 20 * HOUR_MS), 4 * HOUR_MS);
	assert_int_equal(cpsim_site_set_utc_offset(-330), 0);
	assert_int_equal(cpsim_site_time_of_day(midnight_utc + 2 * HOUR_MS),
			 20 * HOUR_MS + 30 * MIN_MS);
	/* before the epoch too */
	assert_int_equal(cpsim_site_set_utc_offset(0), 0);
	assert_int_equal(cpsim_site_time_of_day(-HOUR_MS), 23 * HOUR_MS);
	/* out of range: refused, the offset stays */
	assert_int_equal(cpsim_site_set_utc_offset(480), 0);
	assert_int_equal(cpsim_site_set_utc_offset(841), -EINVAL);
	assert_int_equal(cpsim_site_set_utc_offset(-841), -EINVAL);
	assert_int_equal(cpsim_site_utc_offset(), 480);
}

/* Residential EVs come home 17:00-21:00 and leave 06:30-08:30 in local time. */
static void test_residential_day_in_local_time(void **state)
{
	uint64_t rng = cpsim_rng_seed(5, 3);

	(void)state;
	assert_int_equal(cpsim_site_set_utc_offset(480), 0);
	for (int i = 0; i < 300; i++) {
		/* from local noon (04:00 UTC) of that day */
		int64_t from = midnight_utc + 4 * HOUR_MS + (i % 7) * DAY_MS;
		int64_t a = cpsim_site_next_arrival(CPSIM_KIND_RESIDENTIAL, &rng, from, false);
		int64_t dep;
		struct cpsim_ev ev;

		/* 17:00-21:00 local = 09:00-13:00 UTC, the same local day */
		assert_true(a > from && a - from < 9 * HOUR_MS);
		assert_true(utc_tod(a) >= 9 * HOUR_MS && utc_tod(a) < 13 * HOUR_MS);
		assert_true(cpsim_site_time_of_day(a) >= 17 * HOUR_MS);
		assert_true(cpsim_site_time_of_day(a) < 21 * HOUR_MS);
		cpsim_site_draw_ev(CPSIM_KIND_RESIDENTIAL, &rng, a, 0.3, &ev, &dep);
		/* 06:30-08:30 local = 22:30-00:30 UTC, the next local morning */
		assert_true(dep > a && dep - a <= 16 * HOUR_MS);
		assert_true(cpsim_site_time_of_day(dep) >= 6 * HOUR_MS + 30 * MIN_MS);
		assert_true(cpsim_site_time_of_day(dep) <= 8 * HOUR_MS + 30 * MIN_MS);
		assert_true(utc_tod(dep) >= 22 * HOUR_MS + 30 * MIN_MS ||
			    utc_tod(dep) <= 30 * MIN_MS);
	}
	/* after local 21:00 the next arrival is the next local evening */
	{
		int64_t from = midnight_utc + 14 * HOUR_MS; /* 22:00 local */
		int64_t a = cpsim_site_next_arrival(CPSIM_KIND_RESIDENTIAL, &rng, from, false);

		assert_true(a - from >= 19 * HOUR_MS && a - from < 23 * HOUR_MS);
	}
}

/* At the start of a run, residential EVs already home: most at night, a quarter by day. */
static void test_residential_start_follows_local_time(void **state)
{
	const int64_t local_2am = midnight_utc - 6 * HOUR_MS; /* 02:00 in UTC+08:00 */
	const int64_t local_noon = midnight_utc + 4 * HOUR_MS;
	uint64_t rng = cpsim_rng_seed(21, 4);
	int night = 0, day = 0;

	(void)state;
	assert_int_equal(cpsim_site_set_utc_offset(480), 0);
	for (int i = 0; i < 2000; i++) {
		int64_t a = cpsim_site_next_arrival(CPSIM_KIND_RESIDENTIAL, &rng, local_2am, true);
		int64_t dep;
		struct cpsim_ev ev;

		if (a - local_2am <= 10 * MIN_MS) {
			night++;
			/* plugged in after midnight: leaves the same morning, 06:30-08:30 */
			cpsim_site_draw_ev(CPSIM_KIND_RESIDENTIAL, &rng, a, 0.3, &ev, &dep);
			assert_true(dep - a >= 4 * HOUR_MS + 20 * MIN_MS);
			assert_true(dep - a <= 6 * HOUR_MS + 30 * MIN_MS);
		}
		a = cpsim_site_next_arrival(CPSIM_KIND_RESIDENTIAL, &rng, local_noon, true);
		if (a - local_noon <= 10 * MIN_MS)
			day++;
	}
	assert_true(night > 1500 && night < 1700); /* 80 % */
	assert_true(day > 420 && day < 580);	   /* 25 % */
}

/* Public chargers: short gaps by local day, long ones by local night. */
static void test_public_gaps_follow_local_hours(void **state)
{
	const int64_t utc_2am = midnight_utc + 2 * HOUR_MS; /* 10:00 in UTC+08:00 */
	const int n = 4000;
	uint64_t rng = cpsim_rng_seed(9, 1);
	double at_offset_0 = 0, at_offset_8 = 0;

	(void)state;
	assert_int_equal(cpsim_site_set_utc_offset(0), 0);
	for (int i = 0; i < n; i++)
		at_offset_0 +=
		    (double)(cpsim_site_next_arrival(CPSIM_KIND_PUBLIC, &rng, utc_2am, false) -
			     utc_2am);
	assert_int_equal(cpsim_site_set_utc_offset(480), 0);
	for (int i = 0; i < n; i++)
		at_offset_8 +=
		    (double)(cpsim_site_next_arrival(CPSIM_KIND_PUBLIC, &rng, utc_2am, false) -
			     utc_2am);
	at_offset_0 /= n * (double)MIN_MS;
	at_offset_8 /= n * (double)MIN_MS;
	/* means 150 min (02:00 local: night) and 45 min (10:00 local: day), within 10 % */
	assert_true(at_offset_0 > 135 && at_offset_0 < 165);
	assert_true(at_offset_8 > 40 && at_offset_8 < 50);
}

static void test_emit_ratings(void **state)
{
	struct cpsim_scenario sc;
	char err[256], path[] = "/tmp/cpsim-ratings-XXXXXX";
	const char *text =
	    "{\"id_prefix\": \"T\", \"utc_offset\": \"+08:00\", \"groups\": ["
	    " {\"kind\": \"public\", \"count\": 5, \"protocol\": \"mixed\"},"
	    " {\"kind\": \"residential\", \"count\": 1},"
	    " {\"kind\": \"rural\", \"count\": 2, \"power_kw\": 11},"
	    " {\"kind\": \"swap\", \"count\": 1, \"connectors\": 4, \"protocol\": \"ocpp2.0.1\"}]}";
	json_error_t je;
	json_t *root, *ch, *c;
	int fd;

	(void)state;
	cpsim_scenario_defaults(&sc);
	assert_int_equal(cpsim_scenario_load_json(&sc, NULL, text, err, sizeof(err)), 0);
	assert_int_equal(cpsim_scenario_finish(&sc, err, sizeof(err)), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cpsim_scenario_emit_ratings(&sc, path), 0);
	root = json_load_file(path, 0, &je);
	unlink(path);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "utc_offset")), "+08:00");
	ch = json_object_get(root, "chargers");
	assert_int_equal(json_array_size(ch), 9);
	/* public: 2 x 150 kW, four chargers a site, protocols alternating */
	c = json_array_get(ch, 0);
	assert_string_equal(json_string_value(json_object_get(c, "id")), "T-P-000000");
	assert_string_equal(json_string_value(json_object_get(c, "site")), "T-SP-00000");
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "public");
	assert_string_equal(json_string_value(json_object_get(c, "protocol")), "ocpp1.6");
	assert_int_equal(json_integer_value(json_object_get(c, "connectors")), 2);
	assert_float_equal(json_real_value(json_object_get(c, "rated_kw")), 300.0, 1e-9);
	c = json_array_get(ch, 1);
	assert_string_equal(json_string_value(json_object_get(c, "protocol")), "ocpp2.0.1");
	c = json_array_get(ch, 4);
	assert_string_equal(json_string_value(json_object_get(c, "site")), "T-SP-00001");
	/* residential 7.4 kW, rural with the group's 11 kW on 2 connectors, swap 4 x 60 kW */
	c = json_array_get(ch, 5);
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "residential");
	assert_float_equal(json_real_value(json_object_get(c, "rated_kw")), 7.4, 1e-9);
	c = json_array_get(ch, 6);
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "rural");
	assert_float_equal(json_real_value(json_object_get(c, "connector_kw")), 11.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(c, "rated_kw")), 22.0, 1e-9);
	c = json_array_get(ch, 8);
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "swap");
	assert_int_equal(json_integer_value(json_object_get(c, "connectors")), 4);
	assert_float_equal(json_real_value(json_object_get(c, "rated_kw")), 240.0, 1e-9);
	json_decref(root);
	cpsim_scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_format_offsets),
	    cmocka_unit_test(test_scenario_utc_offset),
	    cmocka_unit_test_teardown(test_time_of_day_is_local, reset_offset),
	    cmocka_unit_test_teardown(test_residential_day_in_local_time, reset_offset),
	    cmocka_unit_test_teardown(test_residential_start_follows_local_time, reset_offset),
	    cmocka_unit_test_teardown(test_public_gaps_follow_local_hours, reset_offset),
	    cmocka_unit_test(test_emit_ratings),
	};

	return cmocka_run_group_tests_name("sim-site", tests, NULL, NULL);
}
