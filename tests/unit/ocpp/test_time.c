/* SPDX-License-Identifier: MIT */
/* Unit tests of RFC 3339 parsing and formatting (ocpp_time_parse, ocpp_time_format). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp.h"

static int64_t parse_ok(const char *s)
{
	int64_t ms = 12345;

	if (ocpp_time_parse(s, &ms) != 0)
		fail_msg("%s did not parse", s);
	return ms;
}

static void test_parse_utc(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-23T10:00:00.000Z"), 1795428000000LL);
	assert_int_equal(parse_ok("2026-11-23T10:00:00Z"), 1795428000000LL);
	assert_int_equal(parse_ok("2026-11-23t10:00:00z"), 1795428000000LL);
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
	assert_int_equal(parse_ok("0000-01-01T00:00:00Z"), -62167219200000LL);
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z") + 86400000,
			 parse_ok("2024-03-01T00:00:00Z"));
	assert_int_equal(parse_ok("2000-02-29T12:00:00Z") + 12 * 3600000,
			 parse_ok("2000-03-01T00:00:00Z"));
	/* a leap second is accepted and lands on the next second */
	assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), 1483228800000LL);
}

static void test_parse_offsets(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T02:00:00+02:00"), 0);
	assert_int_equal(parse_ok("1969-12-31T19:00:00-05:00"), 0);
	assert_int_equal(parse_ok("1970-01-01T05:30:00+05:30"), 0);
	assert_int_equal(parse_ok("1970-01-01T00:00:00-00:00"), 0);
	assert_int_equal(parse_ok("2026-11-23T11:00:00.250+01:00"), 1795428000250LL);
	assert_int_equal(parse_ok("2026-11-24T09:59:00+23:59"), 1795428000000LL);
}

static void test_parse_fractions(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00.5Z"), 500);
	assert_int_equal(parse_ok("1970-01-01T00:00:00.05Z"), 50);
	assert_int_equal(parse_ok("1970-01-01T00:00:00.123Z"), 123);
	assert_int_equal(parse_ok("1970-01-01T00:00:00.123999999Z"), 123); /* truncated */
	assert_int_equal(parse_ok("1970-01-01T00:00:01.000000000000000000001Z"), 1000);
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "yesterday",
	    "2026-13-01T00:00:00Z",
	    "2026-00-01T00:00:00Z",
	    "2026-01-00T00:00:00Z",
	    "2026-01-32T00:00:00Z",
	    "2026-04-31T00:00:00Z",
	    "2023-02-29T00:00:00Z",
	    "1900-02-29T00:00:00Z",
	    "2026-11-23T24:00:00Z",
	    "2026-11-23T10:60:00Z",
	    "2026-11-23T10:00:61Z",
	    "2026-11-23T10:00:00",	/* no offset */
	    "2026-11-23 10:00:00Z",	/* RFC 3339 allows it only "for readability" */
	    "2026-11-23T10:00Z",	/* no seconds */
	    "2026-11-23T10:00:00.Z",	/* empty fraction */
	    "2026-11-23T10:00:00,5Z",	/* ISO 8601 comma */
	    "2026-11-23T10:00:00+0200", /* offset without colon */
	    "2026-11-23T10:00:00+02",
	    "2026-11-23T10:00:00+24:00",
	    "2026-11-23T10:00:00+02:60",
	    "2026-11-23T10:00:00Zjunk",
	    "2026-11-23T10:00:00Z ",
	    " 2026-11-23T10:00:00Z",
	    "26-11-23T10:00:00Z",
	    "2026-1-23T10:00:00Z",
	    "+2026-11-23T10:00:00Z",
	    "2026-11-23",
	    "2026-11-23T",
	    "２026-11-23T10:00:00Z",
	};
	int64_t ms = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ocpp_time_parse(bad[i], &ms) != -EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_int_equal(ms, 77); /* untouched */
	}
	assert_int_equal(ocpp_time_parse(NULL, &ms), -EINVAL);
}

static void test_format(void **state)
{
	char buf[OCPP_TIME_LEN + 1];

	(void)state;
	assert_int_equal(ocpp_time_format(1795428000000LL, buf, sizeof(buf)), OCPP_TIME_LEN);
	assert_string_equal(buf, "2026-11-23T10:00:00.000Z");
	assert_int_equal(ocpp_time_format(0, buf, sizeof(buf)), OCPP_TIME_LEN);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	assert_int_equal(ocpp_time_format(-1, buf, sizeof(buf)), OCPP_TIME_LEN);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	assert_int_equal(ocpp_time_format(-62167219200000LL, buf, sizeof(buf)), OCPP_TIME_LEN);
	assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
	assert_int_equal(ocpp_time_format(253402300799999LL, buf, sizeof(buf)), OCPP_TIME_LEN);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	/* out of range and short buffers */
	assert_int_equal(ocpp_time_format(253402300800000LL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ocpp_time_format(-62167219200001LL, buf, sizeof(buf)), 0);
	assert_int_equal(ocpp_time_format(INT64_MIN, buf, sizeof(buf)), 0);
	assert_int_equal(ocpp_time_format(INT64_MAX, buf, sizeof(buf)), 0);
	assert_int_equal(ocpp_time_format(0, buf, OCPP_TIME_LEN), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ocpp_time_format(0, NULL, 0), 0);
}

static void test_round_trip(void **state)
{
	/* a deterministic spread over years 0..9999, plus both sides of every day edge */
	const int64_t lo = -62167219200000LL, span = 253402300799999LL - lo;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[OCPP_TIME_LEN + 1];
	int64_t back;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		int64_t ms;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = lo + (int64_t)(x % (uint64_t)span);
		if (i % 2)
			ms -= ms % 86400000; /* midnight */
		if (i % 4 == 1)
			ms -= 1; /* one ms before midnight */
		if (ms < lo)
			continue;
		assert_int_equal(ocpp_time_format(ms, buf, sizeof(buf)), OCPP_TIME_LEN);
		assert_int_equal(ocpp_time_parse(buf, &back), 0);
		if (back != ms)
			fail_msg("%lld -> %s -> %lld", (long long)ms, buf, (long long)back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_utc),	    cmocka_unit_test(test_parse_offsets),
	    cmocka_unit_test(test_parse_fractions), cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_format),	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("ocpp-time", tests, NULL, NULL);
}
