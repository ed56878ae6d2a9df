/* SPDX-License-Identifier: MIT */
/* svc's energy registry: calendars stored and loaded, a session's CDR across three tiers from
 * stored readings (hand-computed), the site-day and the network day, register units. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "svc/energy.h"
#include "svc/tariff.h"
#include "tariff_store.h"

#define H 3600000LL
#define M 60000LL

/* 2026-11-20 00:00 at UTC+08:00 */
static int64_t local_midnight(void)
{
	struct tariff_calendar *c = tariff_calendar_create("x", 480);
	int64_t t;

	assert_non_null(c);
	assert_int_equal(tariff_calendar_local_midnight(c, 2026, 11, 20, &t), 0);
	tariff_calendar_destroy(c);
	return t;
}

static void sample(struct store *s, int64_t session, int64_t ts, const char *measurand,
		   const char *unit, const char *value)
{
	struct store_sample in = {
	    .session_id = session,
	    .station_id = "CP1",
	    .evse_id = 1,
	    .ts_ms = ts,
	    .measurand = measurand,
	    .unit = unit,
	    .value = value,
	};

	assert_int_equal(store_sample_add(s, &in, NULL, 0), 1);
}

struct fx {
	struct store *s;
	struct energy *e;
	int64_t day, session;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[TARIFF_JSON_ERR_MAX];
	struct tariff_calendar *cal;
	json_t *doc;
	struct store_session_open in = {
	    .station_id = "CP1",
	    .evse_id = 1,
	    .connector_id = 1,
	    .id_tag = "T",
	    .auth_status = AUTH_ACCEPTED,
	    .has_meter_start = true,
	    .meter_start_wh = 1000,
	};
	struct store_session_close out = {.meter_stop_wh = 25000};

	f->s = store_open(":memory:", false, err, sizeof(err));
	assert_non_null(f->s);
	f->e = energy_create(f->s);
	doc = json_load_file(TOP_SRCDIR "/docs/tariffs/example-shandong-residential.json", 0, NULL);
	assert_non_null(doc);
	assert_int_equal(tariff_store_put(f->s, doc, 0, &cal, NULL, err), 0);
	json_decref(doc);
	assert_int_equal(energy_calendar_put(f->e, cal), 0);
	f->day = local_midnight();
	assert_int_equal(store_site_put(f->s, "home", SITE_RESIDENTIAL, 0), 0);
	assert_int_equal(store_site_put(f->s, "bare", SITE_PUBLIC, 0), 0);
	assert_int_equal(store_station_put(f->s, "CP1", "home", NULL, 0), 0);
	/* 06:00-18:00 local: valley to 07:00, flat to 17:00, peak after */
	in.start_ms = f->day + 6 * H;
	assert_int_equal(store_session_open(f->s, &in, &f->session), 0);
	sample(f->s, f->session, f->day + 6 * H + 30 * M, "Energy.Active.Import.Register", "Wh",
	       "2000");
	sample(f->s, f->session, f->day + 7 * H + 30 * M, "Energy.Active.Import.Register", "kWh",
	       "4");
	sample(f->s, f->session, f->day + 17 * H + 30 * M, "Energy.Active.Import.Register",
	       "Wh*10^3", "24");
	sample(f->s, f->session, f->day + 10 * H, "Energy.Active.Export.Register", "kWh", "0");
	sample(f->s, f->session, f->day + 11 * H, "Energy.Active.Export.Register", "kWh", "1.5");
	out.stop_ms = f->day + 18 * H;
	assert_int_equal(store_session_close(f->s, f->session, &out), 0);
	assert_int_equal(store_commit(f->s), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	energy_destroy(f->e);
	store_close(f->s);
	free(f);
	return 0;
}

static void test_cdr_three_tiers(void **state)
{
	struct fx *f = *state;
	struct energy_cdr c;

	/* no calendar on the site yet */
	assert_int_equal(energy_session_cdr(f->e, f->session, &c), -ESRCH);
	assert_int_equal(energy_site_tariff_set(f->e, "home", "nope"), -ESRCH);
	assert_int_equal(energy_site_tariff_set(f->e, "nowhere", "example-sd-residential"),
			 -ENOENT);
	assert_int_equal(energy_site_tariff_set(f->e, "home", "example-sd-residential"), 0);
	assert_int_equal(energy_session_cdr(f->e, 999, &c), -ENOENT);
	assert_int_equal(energy_session_cdr(f->e, f->session, &c), 0);
	/* R(07:00) = 3000 between 2000@06:30 and 4000@07:30; R(17:00) = 23000 */
	assert_int_equal(c.cdr.import_wh[TARIFF_TIER_VALLEY], 2000);
	assert_int_equal(c.cdr.import_wh[TARIFF_TIER_FLAT], 20000);
	assert_int_equal(c.cdr.import_wh[TARIFF_TIER_PEAK], 2000);
	assert_int_equal(c.cdr.import_wh_total, 24000);
	/* 2000 * 16407 / 1e6 = 32.814; 20000 * 54690 / 1e6 = 1093.8; 2000 * 92973 / 1e6 = 185.946 */
	assert_int_equal(c.cdr.import_fen[TARIFF_TIER_VALLEY], 33);
	assert_int_equal(c.cdr.import_fen[TARIFF_TIER_FLAT], 1094);
	assert_int_equal(c.cdr.import_fen[TARIFF_TIER_PEAK], 186);
	assert_int_equal(c.cdr.import_fen_total, 1313);
	/* export 1.5 kWh at 39490 fen/MWh = 59.235 */
	assert_int_equal(c.cdr.export_wh, 1500);
	assert_int_equal(c.cdr.export_fen, 59);
	assert_int_equal(c.cdr.service_fen, 0);
	assert_int_equal(c.cdr.total_fen, 1313 - 59);
	assert_string_equal(c.tariff_id, "example-sd-residential");
	assert_string_equal(c.site_id, "home");
	assert_int_equal(c.import_samples, 5); /* start, three readings, stop */
	assert_int_equal(c.export_samples, 2);
}

static void test_site_and_network_day(void **state)
{
	struct fx *f = *state;
	struct energy_figures d, k[_SITE_KIND_MAX];
	int64_t wh;

	assert_int_equal(energy_site_day(f->e, "home", 2026, 11, 20, &d), -ESRCH);
	assert_int_equal(energy_site_tariff_set(f->e, "home", "example-sd-residential"), 0);
	assert_int_equal(energy_site_day(f->e, "nowhere", 2026, 11, 20, &d), -ENOENT);
	assert_int_equal(energy_site_day(f->e, "home", 2026, 11, 20, &d), 0);
	assert_int_equal(d.import_wh_total, 24000);
	assert_int_equal(d.import_wh[TARIFF_TIER_VALLEY], 2000);
	assert_int_equal(d.export_wh, 1500);
	assert_int_equal(d.valley_share_bp, 833); /* 2000 / 24000 */
	assert_int_equal(d.sessions, 1);
	assert_int_equal(energy_site_day(f->e, "home", 2026, 11, 21, &d), 0);
	assert_int_equal(d.import_wh_total, 0);
	assert_int_equal(d.sessions, 0);
	assert_int_equal(energy_network_day(f->e, 2026, 11, 20, k), 0);
	assert_int_equal(k[SITE_RESIDENTIAL].import_wh_total, 24000);
	assert_int_equal(k[SITE_RESIDENTIAL].valley_share_bp, 833);
	assert_int_equal(k[SITE_PUBLIC].import_wh_total, 0);
	assert_int_equal(energy_session_exported_wh(f->e, f->session, &wh), 0);
	assert_int_equal(wh, 1500);
}

static void test_replace_at_date_merges_versions(void **state)
{
	struct fx *f = *state;
	char err[TARIFF_JSON_ERR_MAX];
	struct tariff_calendar *cal = NULL;
	json_t *doc =
	    json_load_file(TOP_SRCDIR "/docs/tariffs/example-shandong-residential.json", 0, NULL);
	json_t *v = json_array_get(json_object_get(doc, "versions"), 0);

	/* the same calendar from 2027-01-01 with a dearer flat: one more version, not a copy */
	json_object_set_new(v, "valid_from", json_string("2027-01-01"));
	json_object_set_new(json_object_get(json_object_get(v, "prices_fen_per_mwh"), "import"),
			    "flat", json_integer(60000));
	assert_int_equal(tariff_store_put(f->s, doc, 0, &cal, NULL, err), 0);
	assert_int_equal(cal->n_versions, 2);
	assert_int_equal(cal->versions[1].prices.import_fen_per_mwh[TARIFF_TIER_FLAT], 60000);
	assert_int_equal(cal->versions[0].prices.import_fen_per_mwh[TARIFF_TIER_FLAT], 54690);
	tariff_calendar_destroy(cal);
	/* a bad one is refused with its place, and nothing is stored */
	json_object_set_new(json_object_get(json_object_get(v, "prices_fen_per_mwh"), "import"),
			    "peak", json_integer(-1));
	assert_int_equal(tariff_store_put(f->s, doc, 0, &cal, NULL, err), -EINVAL);
	assert_string_equal(err, "versions[0].prices_fen_per_mwh.import.peak: negative price");
	json_decref(doc);
}

static void test_reading_units(void **state)
{
	int64_t wh;

	(void)state;
	assert_int_equal(energy_reading_wh("12.5", "kWh", &wh), 0);
	assert_int_equal(wh, 12500);
	assert_int_equal(energy_reading_wh("7", NULL, &wh), 0);
	assert_int_equal(wh, 7);
	assert_int_equal(energy_reading_wh("3", "Wh*10^3", &wh), 0);
	assert_int_equal(wh, 3000);
	assert_int_equal(energy_reading_wh("3", "kWh*10^-3", &wh), 0);
	assert_int_equal(wh, 3);
	assert_int_equal(energy_reading_wh("3", "varh", &wh), -EINVAL);
	assert_int_equal(energy_reading_wh("abc", "Wh", &wh), -EINVAL);
	assert_int_equal(energy_reading_wh("3", "Wh*10^x", &wh), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cdr_three_tiers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_site_and_network_day, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_at_date_merges_versions, setup, teardown),
	    cmocka_unit_test(test_reading_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
