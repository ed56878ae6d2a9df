/* SPDX-License-Identifier: MIT */
/* Tariff calendars (lookup, validation, JSON) and the per-tier CDR split. */
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

#include "svc/cdr.h"
#include "svc/tariff.h"
#include "tariff_json.h"

#ifndef TOP_SRCDIR
#error TOP_SRCDIR
#endif

#define MIN_MS 60000LL
#define H_MS   (60 * MIN_MS)

static struct tariff_calendar *load(const char *name)
{
	char path[512], err[TARIFF_JSON_ERR_MAX] = "";
	struct tariff_calendar *cal = NULL;

	snprintf(path, sizeof(path), "%s/docs/tariffs/%s", TOP_SRCDIR, name);
	if (tariff_json_load_file(path, &cal, err) < 0)
		fail_msg("%s: %s", path, err);
	return cal;
}

/* Local (+08:00) wall time to ms. */
static int64_t at(const struct tariff_calendar *cal, int y, int mo, int d, int h, int mi)
{
	int64_t ms;
	assert_int_equal(tariff_calendar_local_midnight(cal, y, mo, d, &ms), 0);
	return ms + h * H_MS + mi * MIN_MS;
}

static enum tariff_tier tier_at(const struct tariff_calendar *cal, int64_t t)
{
	struct tariff_point p;
	assert_int_equal(tariff_calendar_at(cal, t, &p), 0);
	return p.tier;
}

static void test_examples(void **state)
{
	struct tariff_calendar *c = load("example-shandong-commercial.json");
	struct tariff_calendar *r = load("example-shandong-residential.json");
	struct tariff_point p;
	(void)state;

	assert_non_null(c);
	assert_non_null(r);
	/* 2026-04-15 04:00 UTC is 12:00 local: the spring midday deep valley */
	assert_int_equal(at(c, 2026, 4, 15, 12, 0), 1776225600000LL);
	assert_int_equal(tier_at(c, at(c, 2026, 4, 15, 12, 0)), TARIFF_TIER_DEEP_VALLEY);
	assert_int_equal(tier_at(c, at(c, 2026, 4, 15, 10, 59)), TARIFF_TIER_VALLEY);
	assert_int_equal(tier_at(c, at(c, 2026, 4, 15, 19, 0)), TARIFF_TIER_CRITICAL_PEAK);
	assert_int_equal(tier_at(c, at(c, 2026, 7, 15, 12, 0)), TARIFF_TIER_FLAT); /* summer */
	assert_int_equal(tier_at(c, at(c, 2026, 1, 10, 11, 0)), TARIFF_TIER_VALLEY);
	assert_int_equal(tariff_calendar_at(c, at(c, 2026, 4, 15, 21, 0), &p), 0);
	assert_int_equal(p.tier, TARIFF_TIER_PEAK);
	assert_int_equal(p.import_fen_per_mwh, 110500);
	assert_int_equal(p.service_fen_per_mwh, 40000);
	/* ratios to flat of the example */
	assert_int_equal(c->versions[0].prices.import_fen_per_mwh[TARIFF_TIER_PEAK] * 10,
			 c->versions[0].prices.import_fen_per_mwh[TARIFF_TIER_FLAT] * 17);

	/* home pile: the night valley wraps over midnight */
	assert_int_equal(tier_at(r, at(r, 2026, 5, 1, 23, 30)), TARIFF_TIER_VALLEY);
	assert_int_equal(tier_at(r, at(r, 2026, 5, 2, 6, 45)), TARIFF_TIER_VALLEY);
	assert_int_equal(tier_at(r, at(r, 2026, 5, 2, 7, 0)), TARIFF_TIER_FLAT);
	assert_int_equal(tier_at(r, at(r, 2026, 5, 2, 18, 0)), TARIFF_TIER_PEAK);
	/* before the first version there is no price */
	assert_int_equal(tariff_calendar_at(r, at(r, 2025, 12, 31, 23, 45), &p), -ENOENT);
	tariff_calendar_destroy(c);
	tariff_calendar_destroy(r);
}

static void test_midnight_and_month_boundary(void **state)
{
	struct tariff_calendar *c = load("example-shandong-commercial.json");
	int64_t b;
	(void)state;

	assert_non_null(c);
	/* 31 May 23:59 is spring flat, 1 June 00:00 summer night valley */
	assert_int_equal(tier_at(c, at(c, 2026, 5, 31, 23, 59)), TARIFF_TIER_FLAT);
	assert_int_equal(tier_at(c, at(c, 2026, 6, 1, 0, 0)), TARIFF_TIER_VALLEY);
	assert_int_equal(tier_at(c, at(c, 2026, 6, 1, 0, 0) - 1), TARIFF_TIER_FLAT);
	/* next boundaries: peak 20:00-22:00 ends at 22:00; flat runs into the next month */
	assert_int_equal(tariff_calendar_next_boundary(c, at(c, 2026, 5, 31, 21, 7), &b), 0);
	assert_int_equal(b, at(c, 2026, 5, 31, 22, 0));
	assert_int_equal(tariff_calendar_next_boundary(c, b, &b), 0);
	assert_int_equal(b, at(c, 2026, 6, 1, 0, 0));
	assert_int_equal(tariff_calendar_next_boundary(c, b, &b), 0);
	assert_int_equal(b, at(c, 2026, 6, 1, 7, 0));
	/* 30 November (spring/autumn) to 1 December (winter): flat 22:00-24:00 then flat
	 * 00:00-10:00 of December: no boundary at midnight, the next is 10:00 */
	assert_int_equal(tariff_calendar_next_boundary(c, at(c, 2026, 11, 30, 22, 30), &b), 0);
	assert_int_equal(b, at(c, 2026, 12, 1, 10, 0));
	/* the year boundary: 31 Dec 23:45 -> 1 Jan is still winter flat */
	assert_int_equal(tier_at(c, at(c, 2027, 1, 1, 0, 0)), TARIFF_TIER_FLAT);
	/* day start in local time */
	assert_int_equal(tariff_calendar_day_start(c, at(c, 2026, 6, 1, 7, 10)),
			 at(c, 2026, 6, 1, 0, 0));
	tariff_calendar_destroy(c);
}

static void fill_all_day(struct tariff_period *p, uint16_t months, uint8_t weekdays,
			 enum tariff_tier t)
{
	memset(p, 0, sizeof(*p));
	p->months = months;
	p->weekdays = weekdays;
	p->n_windows = 1;
	p->windows[0] = (struct tariff_window){.from_min = 0, .to_min = 1440, .tier = t};
}

static void prices(struct tariff_prices *p, int64_t base)
{
	for (int i = 0; i < _TARIFF_TIER_MAX; i++)
		p->import_fen_per_mwh[i] = base * (i + 1);
	p->export_fen_per_mwh = base / 2;
	p->service_fen_per_mwh = 0;
}

static void test_weekdays_and_replacement(void **state)
{
	struct tariff_calendar *c = tariff_calendar_create("wd", 8 * 60);
	struct tariff_version *v = calloc(1, sizeof(*v));
	char err[TARIFF_ERR_MAX];
	struct tariff_point p;
	(void)state;

	assert_non_null(c);
	assert_non_null(v);
	assert_int_equal(tariff_calendar_local_midnight(c, 2026, 1, 1, &v->valid_from_ms), 0);
	prices(&v->prices, 1000);
	v->n_periods = 2;
	fill_all_day(&v->periods[0], TARIFF_ALL_MONTHS, 0x3e /* Mon..Fri */, TARIFF_TIER_FLAT);
	fill_all_day(&v->periods[1], TARIFF_ALL_MONTHS, 0xc0 /* Sat, Sun */, TARIFF_TIER_VALLEY);
	assert_int_equal(tariff_calendar_add_version(c, v, err), 0);
	/* 2026-12-05 is a Saturday, 2026-12-07 a Monday */
	assert_int_equal(tier_at(c, at(c, 2026, 12, 5, 12, 0)), TARIFF_TIER_VALLEY);
	assert_int_equal(tier_at(c, at(c, 2026, 12, 6, 23, 59)), TARIFF_TIER_VALLEY);
	assert_int_equal(tier_at(c, at(c, 2026, 12, 7, 0, 0)), TARIFF_TIER_FLAT);
	assert_int_equal(tier_at(c, at(c, 2026, 1, 1, 0, 0)), TARIFF_TIER_FLAT); /* Thursday */

	/* replaced from 1 July: every day peak, other prices */
	assert_int_equal(tariff_calendar_local_midnight(c, 2026, 7, 1, &v->valid_from_ms), 0);
	prices(&v->prices, 2000);
	v->n_periods = 1;
	fill_all_day(&v->periods[0], TARIFF_ALL_MONTHS, 0, TARIFF_TIER_PEAK);
	assert_int_equal(tariff_calendar_add_version(c, v, err), 0);
	assert_int_equal(c->n_versions, 2);
	/* 2026-06-27 is a Saturday */
	assert_int_equal(tariff_calendar_at(c, at(c, 2026, 6, 27, 23, 59), &p), 0);
	assert_int_equal(p.tier, TARIFF_TIER_VALLEY);
	assert_int_equal(p.import_fen_per_mwh, 2000);
	assert_int_equal(p.version, 0);
	assert_int_equal(tariff_calendar_at(c, at(c, 2026, 7, 1, 0, 0), &p), 0);
	assert_int_equal(p.tier, TARIFF_TIER_PEAK);
	assert_int_equal(p.import_fen_per_mwh, 8000);
	assert_int_equal(p.version, 1);
	/* a correction with the same date replaces that version */
	prices(&v->prices, 3000);
	assert_int_equal(tariff_calendar_add_version(c, v, err), 0);
	assert_int_equal(c->n_versions, 2);
	assert_int_equal(tariff_calendar_at(c, at(c, 2026, 8, 1, 0, 0), &p), 0);
	assert_int_equal(p.import_fen_per_mwh, 12000);
	/* a version inserted before the others lands in date order */
	assert_int_equal(tariff_calendar_local_midnight(c, 2025, 1, 1, &v->valid_from_ms), 0);
	assert_int_equal(tariff_calendar_add_version(c, v, err), 0);
	assert_int_equal(c->n_versions, 3);
	assert_int_equal(tariff_calendar_at(c, at(c, 2025, 6, 1, 0, 0), &p), 0);
	assert_int_equal(p.version, 0);
	assert_int_equal(tariff_calendar_at(c, at(c, 2026, 6, 1, 0, 0), &p), 0);
	assert_int_equal(p.version, 1);
	/* a missing weekday is a gap, named with its weekday */
	v->n_periods = 1;
	fill_all_day(&v->periods[0], TARIFF_ALL_MONTHS, 0x3e, TARIFF_TIER_FLAT);
	assert_int_equal(tariff_calendar_add_version(c, v, err), -EINVAL);
	assert_string_equal(err, "month 1 (Sat): no window covers 00:00");
	assert_int_equal(c->n_versions, 3);
	free(v);
	tariff_calendar_destroy(c);
}

/* A residential-like calendar as JSON text with one thing changed. */
static int decode_text(const char *text, char *err)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	struct tariff_calendar *cal = NULL;
	int r;

	if (!root)
		fail_msg("test JSON: %s", jerr.text);
	r = tariff_json_decode(root, &cal, err);
	json_decref(root);
	tariff_calendar_destroy(cal);
	return r;
}

#define CAL_HEAD                                                                                   \
	"{\"id\":\"t\",\"utc_offset\":\"+08:00\",\"versions\":[{\"valid_from\":\"2026-01-01\","    \
	"\"prices_fen_per_mwh\":{\"import\":{\"deep_valley\":1,\"valley\":2,\"flat\":3,\"peak\":"  \
	"4,"                                                                                       \
	"\"critical_peak\":%s},\"export\":1,\"service\":0},\"periods\":["
#define P_ALL	 "{\"months\":[1,2,3,4,5,6,7,8,9,10,11,12],\"windows\":["
#define CAL_TAIL "]}]}"

static void test_validation_errors(void **state)
{
	char text[2048], err[TARIFF_JSON_ERR_MAX];
	(void)state;

	/* good */
	snprintf(text, sizeof(text),
		 CAL_HEAD P_ALL
		 "{\"from\":\"23:00\",\"to\":\"07:00\",\"tier\":\"valley\"},"
		 "{\"from\":\"07:00\",\"to\":\"23:00\",\"tier\":\"flat\"}]}" CAL_TAIL,
		 "5");
	assert_int_equal(decode_text(text, err), 0);

	/* gap: 12:00-12:15 missing in every month; the first is reported */
	snprintf(text, sizeof(text),
		 CAL_HEAD P_ALL
		 "{\"from\":\"00:00\",\"to\":\"12:00\",\"tier\":\"valley\"},"
		 "{\"from\":\"12:15\",\"to\":\"24:00\",\"tier\":\"flat\"}]}" CAL_TAIL,
		 "5");
	assert_int_equal(decode_text(text, err), -EINVAL);
	assert_string_equal(err, "versions[0].month 1: no window covers 12:00");

	/* overlap: windows[2] starts inside windows[1] */
	snprintf(text, sizeof(text),
		 CAL_HEAD P_ALL
		 "{\"from\":\"00:00\",\"to\":\"09:00\",\"tier\":\"valley\"},"
		 "{\"from\":\"09:00\",\"to\":\"10:30\",\"tier\":\"flat\"},"
		 "{\"from\":\"10:00\",\"to\":\"24:00\",\"tier\":\"peak\"}]}" CAL_TAIL,
		 "5");
	assert_int_equal(decode_text(text, err), -EINVAL);
	assert_string_equal(err, "versions[0].periods[0].windows[2]: overlaps "
				 "periods[0].windows[1] in month 1 at 10:00");

	/* overlap between periods: month 7 in both */
	snprintf(text, sizeof(text),
		 CAL_HEAD "{\"months\":[1,2,3,4,5,6,7],\"windows\":[{\"from\":\"00:00\",\"to\":"
			  "\"24:00\",\"tier\":\"flat\"}]},{\"months\":[7,8,9,10,11,12],\"windows\":"
			  "[{\"from\":\"00:00\",\"to\":\"24:00\",\"tier\":\"flat\"}]}" CAL_TAIL,
		 "5");
	assert_int_equal(decode_text(text, err), -EINVAL);
	assert_string_equal(err, "versions[0].periods[1].windows[0]: overlaps "
				 "periods[0].windows[0] in month 7 at 00:00");

	/* unknown tier */
	snprintf(text, sizeof(text),
		 CAL_HEAD P_ALL
		 "{\"from\":\"00:00\",\"to\":\"12:00\",\"tier\":\"valley\"},"
		 "{\"from\":\"12:00\",\"to\":\"24:00\",\"tier\":\"valey\"}]}" CAL_TAIL,
		 "5");
	assert_int_equal(decode_text(text, err), -EINVAL);
	assert_string_equal(err, "versions[0].periods[0].windows[1].tier: unknown tier \"valey\"");

	/* negative price */
	snprintf(text, sizeof(text),
		 CAL_HEAD P_ALL
		 "{\"from\":\"00:00\",\"to\":\"24:00\",\"tier\":\"flat\"}]}" CAL_TAIL,
		 "-7");
	assert_int_equal(decode_text(text, err), -EINVAL);
	assert_string_equal(err,
			    "versions[0].prices_fen_per_mwh.import.critical_peak: negative price");

	/* not on a quarter hour */
	snprintf(text, sizeof(text),
		 CAL_HEAD P_ALL
		 "{\"from\":\"00:00\",\"to\":\"12:10\",\"tier\":\"valley\"},"
		 "{\"from\":\"12:10\",\"to\":\"24:00\",\"tier\":\"flat\"}]}" CAL_TAIL,
		 "5");
	assert_int_equal(decode_text(text, err), -EINVAL);
	assert_non_null(strstr(err, "versions[0].periods[0].windows[0]: bad times"));

	/* a file that is not JSON names its line */
	{
		struct tariff_calendar *cal = NULL;
		char path[] = "/tmp/test_tariff_XXXXXX";
		int fd = mkstemp(path);
		FILE *f;
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		fputs("{\n\"id\": \"x\",\n oops\n}\n", f);
		fclose(f);
		assert_int_equal(tariff_json_load_file(path, &cal, err), -EINVAL);
		assert_non_null(strstr(err, ":3:"));
		assert_null(cal);
		unlink(path);
	}
}

static void test_cdr_three_tiers(void **state)
{
	struct tariff_calendar *c = load("example-shandong-commercial.json");
	struct tariff_cdr cdr;
	(void)state;

	assert_non_null(c);
	/* 15 April (spring): deep valley 11-14, valley 14-15, flat 15-17 */
	const struct tariff_sample imp[] = {
	    {at(c, 2026, 4, 15, 13, 40), 1000},
	    {at(c, 2026, 4, 15, 14, 10), 2001},
	    {at(c, 2026, 4, 15, 15, 20), 3401},
	};
	const struct tariff_sample exp[] = {
	    {at(c, 2026, 4, 15, 14, 0), 0},
	    {at(c, 2026, 4, 15, 14, 30), 500},
	};
	assert_int_equal(tariff_cdr_compute(c, imp, 3, exp, 2, &cdr), 0);
	/* By hand. Segment 1, 13:40-14:10, 1001 Wh over 30 min: the register at 14:00 is
	 * 1000 + round(1001 * 20 / 30) = 1667 -> deep valley 667, valley 334. Segment 2,
	 * 14:10-15:20, 1400 Wh over 70 min: at 15:00 2001 + round(1400 * 50 / 70) = 3001 ->
	 * valley 1000, flat 400. */
	assert_int_equal(cdr.import_wh[TARIFF_TIER_DEEP_VALLEY], 667);
	assert_int_equal(cdr.import_wh[TARIFF_TIER_VALLEY], 1334);
	assert_int_equal(cdr.import_wh[TARIFF_TIER_FLAT], 400);
	assert_int_equal(cdr.import_wh[TARIFF_TIER_PEAK], 0);
	assert_int_equal(cdr.import_wh_total, 3401 - 1000);
	/* money: 667 * 6500 / 10^6 = 4.3355 -> 4; 1334 * 19500 -> 26.013 -> 26;
	 * 400 * 65000 -> 26; service 2401 * 40000 -> 96.04 -> 96; export 500 * 39490 ->
	 * 19.745 -> 20 */
	assert_int_equal(cdr.import_fen[TARIFF_TIER_DEEP_VALLEY], 4);
	assert_int_equal(cdr.import_fen[TARIFF_TIER_VALLEY], 26);
	assert_int_equal(cdr.import_fen[TARIFF_TIER_FLAT], 26);
	assert_int_equal(cdr.import_fen_total, 56);
	assert_int_equal(cdr.service_fen, 96);
	assert_int_equal(cdr.export_wh, 500);
	assert_int_equal(cdr.export_fen, 20);
	assert_int_equal(cdr.total_fen, 56 + 96 - 20);

	/* a falling register is refused */
	const struct tariff_sample bad[] = {{imp[0].t_ms, 10}, {imp[1].t_ms, 9}};
	assert_int_equal(tariff_cdr_compute(c, bad, 2, NULL, 0, &cdr), -EINVAL);
	tariff_calendar_destroy(c);
}

static void test_cdr_sum_exact(void **state)
{
	struct tariff_calendar *c = load("example-shandong-commercial.json");
	struct tariff_sample s[50];
	struct tariff_cdr cdr;
	int64_t t = 0, w = 123;
	(void)state;

	assert_non_null(c);
	/* irregular samples over a whole day: the tiers add up to the register delta exactly */
	t = at(c, 2026, 4, 15, 0, 7);
	srand(7);
	for (int i = 0; i < 50; i++) {
		s[i] = (struct tariff_sample){t, w};
		t += (rand() % 50 + 1) * MIN_MS + rand() % 60000;
		w += rand() % 7777;
	}
	assert_int_equal(tariff_cdr_compute(c, s, 50, NULL, 0, &cdr), 0);
	assert_int_equal(cdr.import_wh_total, s[49].wh - s[0].wh);
	int64_t sum = 0;
	for (int i = 0; i < _TARIFF_TIER_MAX; i++) {
		assert_true(cdr.import_wh[i] >= 0);
		sum += cdr.import_wh[i];
	}
	assert_int_equal(sum, s[49].wh - s[0].wh);
	tariff_calendar_destroy(c);
}

static void test_site_day_valley_share(void **state)
{
	struct tariff_calendar *r = load("example-shandong-residential.json");
	struct tariff_day d1, d2;
	(void)state;

	assert_non_null(r);
	/* 2 kW from 22:00 to 02:00 (8 kWh): day 1 has flat 22-23 and valley 23-24, day 2 valley */
	const struct tariff_sample imp[] = {
	    {at(r, 2026, 5, 1, 22, 0), 0},
	    {at(r, 2026, 5, 2, 2, 0), 8000},
	};
	tariff_day_init(&d1, r, at(r, 2026, 5, 1, 12, 0));
	tariff_day_init(&d2, r, at(r, 2026, 5, 2, 12, 0));
	assert_int_equal(tariff_day_add(&d1, r, imp, 2, NULL, 0), 0);
	assert_int_equal(tariff_day_add(&d2, r, imp, 2, NULL, 0), 0);
	assert_int_equal(d1.import_wh[TARIFF_TIER_FLAT], 2000);
	assert_int_equal(d1.import_wh[TARIFF_TIER_VALLEY], 2000);
	assert_int_equal(tariff_day_valley_share_bp(&d1), 5000);
	assert_int_equal(d2.import_wh[TARIFF_TIER_VALLEY], 4000);
	assert_int_equal(d2.import_wh_total, 4000);
	assert_int_equal(tariff_day_valley_share_bp(&d2), 10000);
	assert_int_equal(d1.import_wh_total + d2.import_wh_total, 8000);
	tariff_calendar_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_midnight_and_month_boundary),
	    cmocka_unit_test(test_weekdays_and_replacement),
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_cdr_three_tiers),
	    cmocka_unit_test(test_cdr_sum_exact),
	    cmocka_unit_test(test_site_day_valley_share),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
