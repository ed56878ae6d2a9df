/* SPDX-License-Identifier: MIT */
/* Unit tests of charging profiles: evaluation over time, stacking rules, composite schedules. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ev.h"
#include "profile.h"

#define assert_near(a, b, eps)                                                                     \
	do {                                                                                       \
		double a_ = (double)(a), b_ = (double)(b);                                         \
		if (!(fabs(a_ - b_) <= (double)(eps)))                                             \
			fail_msg("%s = %.9g, expected %.9g (+-%g)", #a, a_, b_, (double)(eps));    \
	} while (0)

#define T0  INT64_C(1795392000000) /* 2026-11-23T00:00:00Z */
#define MIN (60 * 1000)
#define H   (60 * MIN)

static struct cpsim_limit_ctx ctx1(void)
{
	return (struct cpsim_limit_ctx){.connector = 1, .volts = 230, .phases = 3};
}

/* A profile with periods given as (start_s, limit) pairs. */
static struct cpsim_profile mk(int32_t id, int32_t stack, enum cpsim_purpose purpose,
			       enum cpsim_pkind kind, unsigned connector, int64_t start_ms,
			       unsigned n, const double *pairs)
{
	struct cpsim_profile p = {
	    .id = id,
	    .stack = stack,
	    .purpose = (uint8_t)purpose,
	    .kind = (uint8_t)kind,
	    .connector = (uint16_t)connector,
	    .start_ms = start_ms,
	    .nperiods = (uint16_t)n,
	    .valid_from_ms = INT64_MIN,
	    .valid_to_ms = INT64_MAX,
	};

	p.periods = calloc(n, sizeof(*p.periods));
	assert_non_null(p.periods);
	for (unsigned i = 0; i < n; i++) {
		p.periods[i].start_s = (int32_t)pairs[2 * i];
		p.periods[i].limit = (float)pairs[2 * i + 1];
	}
	return p;
}

static void install(struct cpsim_profiles **set, struct cpsim_profile p)
{
	assert_int_equal(cpsim_profiles_install(set, &p), 0);
}

static double conn_w(const struct cpsim_profiles *set, const struct cpsim_limit_ctx *c, int64_t t,
		     int64_t *next)
{
	return cpsim_profiles_connector_w(set, c, t, next);
}

static void test_absolute_periods_and_next_change(void **state)
{
	static const double per[] = {0, 11000, 3600, 3700, 7200, 0};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	int64_t next;

	(void)state;
	install(&set, mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 3, per));
	assert_true(isinf(conn_w(set, &c, T0 - 1, &next)));
	assert_int_equal(next, T0);
	assert_near(conn_w(set, &c, T0, &next), 11000, 0);
	assert_int_equal(next, T0 + H);
	assert_near(conn_w(set, &c, T0 + H + 5, &next), 3700, 0);
	assert_int_equal(next, T0 + 2 * H);
	assert_near(conn_w(set, &c, T0 + 5 * H, &next), 0, 0);
	assert_int_equal(next, INT64_MAX);
	cpsim_profiles_free(set);
}

static void test_duration_ends_profile_and_lower_stack_applies(void **state)
{
	static const double low[] = {0, 7000}, high[] = {0, 2000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	struct cpsim_profile p;
	int64_t next;

	(void)state;
	install(&set, mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, low));
	p = mk(2, 5, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, high);
	p.duration_s = 1800;
	install(&set, p);
	assert_near(conn_w(set, &c, T0 + MIN, &next), 2000, 0);
	assert_int_equal(next, T0 + 30 * MIN);
	assert_near(conn_w(set, &c, T0 + 30 * MIN, &next), 7000, 0);
	cpsim_profiles_free(set);
}

static void test_tx_profile_overrides_default_only_during_its_tx(void **state)
{
	static const double dflt[] = {0, 7000}, tx[] = {0, 1500};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	struct cpsim_profile p;

	(void)state;
	install(&set, mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, dflt));
	p = mk(2, 0, CPSIM_PP_TX, CPSIM_PK_RELATIVE, 1, INT64_MIN, 1, tx);
	p.tx_key = 42;
	install(&set, p);
	assert_near(conn_w(set, &c, T0 + H, NULL), 7000, 0); /* no transaction */
	c.tx_active = true;
	c.tx_key = 41;
	assert_near(conn_w(set, &c, T0 + H, NULL), 7000, 0); /* another transaction */
	c.tx_key = 42;
	assert_near(conn_w(set, &c, T0 + H, NULL), 1500, 0);
	c.connector = 2;
	assert_near(conn_w(set, &c, T0 + H, NULL), 7000, 0); /* another connector */
	cpsim_profiles_free(set);
}

static void test_connector_default_overrides_station_default(void **state)
{
	static const double all[] = {0, 7000}, one[] = {0, 3000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();

	(void)state;
	install(&set, mk(1, 9, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, all));
	install(&set, mk(2, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 2, T0, 1, one));
	assert_near(conn_w(set, &c, T0, NULL), 7000, 0);
	c.connector = 2;
	assert_near(conn_w(set, &c, T0, NULL), 3000, 0);
	cpsim_profiles_free(set);
}

static void test_relative_follows_transaction_start(void **state)
{
	static const double per[] = {0, 3000, 600, 6000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	int64_t next;

	(void)state;
	install(&set, mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_RELATIVE, 0, INT64_MIN, 2, per));
	c.tx_active = true;
	c.tx_start_ms = T0 + 7 * H;
	assert_near(conn_w(set, &c, T0 + 7 * H + 599999, &next), 3000, 0);
	assert_int_equal(next, T0 + 7 * H + 600000);
	assert_near(conn_w(set, &c, T0 + 7 * H + 600000, NULL), 6000, 0);
	cpsim_profiles_free(set);
}

static void test_recurring_daily_wraps(void **state)
{
	/* valley tariff: 2 kW by day, 11 kW from 22:00 to 06:00 */
	static const double per[] = {0, 11000, 6 * 3600, 2000, 22 * 3600, 11000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	struct cpsim_profile p;
	int64_t next;

	(void)state;
	p = mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_RECURRING, 0, T0, 3, per);
	p.recur = CPSIM_RC_DAILY;
	install(&set, p);
	assert_near(conn_w(set, &c, T0 + 3 * 86400000LL + 12 * H, &next), 2000, 0);
	assert_int_equal(next, T0 + 3 * 86400000LL + 22 * H);
	assert_near(conn_w(set, &c, T0 + 3 * 86400000LL + 23 * H, &next), 11000, 0);
	assert_int_equal(next, T0 + 4 * 86400000LL);
	assert_near(conn_w(set, &c, T0 + 4 * 86400000LL + 1 * H, NULL), 11000, 0);
	cpsim_profiles_free(set);
}

static void test_validity_window(void **state)
{
	static const double per[] = {0, 4000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	struct cpsim_profile p;
	int64_t next;

	(void)state;
	p = mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, per);
	p.valid_from_ms = T0 + H;
	p.valid_to_ms = T0 + 2 * H;
	install(&set, p);
	assert_true(isinf(conn_w(set, &c, T0, &next)));
	assert_int_equal(next, T0 + H);
	assert_near(conn_w(set, &c, T0 + H, &next), 4000, 0);
	assert_int_equal(next, T0 + 2 * H);
	assert_true(isinf(conn_w(set, &c, T0 + 2 * H, NULL)));
	cpsim_profiles_free(set);
}

static void test_amps_convert_with_phases(void **state)
{
	static const double per[] = {0, 16};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	struct cpsim_profile p;

	(void)state;
	p = mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, per);
	p.amps = true;
	install(&set, p);
	assert_near(conn_w(set, &c, T0, NULL), 16 * 230 * 3, 1e-6);
	set->p[0].periods[0].phases = 1;
	assert_near(conn_w(set, &c, T0, NULL), 16 * 230, 1e-6);
	cpsim_profiles_free(set);
}

static void test_replace_by_id_and_by_stack(void **state)
{
	static const double a[] = {0, 1000}, b[] = {0, 2000}, d[] = {0, 3000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();

	(void)state;
	install(&set, mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, a));
	install(&set, mk(1, 3, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, b)); /* same id */
	assert_int_equal(set->count, 1);
	assert_near(conn_w(set, &c, T0, NULL), 2000, 0);
	install(&set,
		mk(7, 3, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 1, d)); /* same stack */
	assert_int_equal(set->count, 1);
	assert_near(conn_w(set, &c, T0, NULL), 3000, 0);
	cpsim_profiles_free(set);
}

static void test_clear_by_filter_and_capacity(void **state)
{
	static const double a[] = {0, 1000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_profile_filter f = {.has_purpose = true, .purpose = CPSIM_PP_TX};
	struct cpsim_profile p;

	(void)state;
	for (int i = 0; i < CPSIM_PROFILES_MAX; i++)
		install(&set, mk(i + 1, i, i % 2 ? CPSIM_PP_TX : CPSIM_PP_TX_DEFAULT,
				 CPSIM_PK_ABSOLUTE, 1, T0, 1, a));
	p = mk(100, 100, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 1, T0, 1, a);
	assert_int_equal(cpsim_profiles_install(&set, &p), -ENOSPC);
	free(p.periods);
	assert_int_equal(cpsim_profiles_clear(&set, &f), CPSIM_PROFILES_MAX / 2);
	assert_int_equal(set->count, CPSIM_PROFILES_MAX / 2);
	assert_int_equal(cpsim_profiles_clear(&set, NULL), CPSIM_PROFILES_MAX / 2);
	assert_null(set);
}

static void test_station_max_and_composite(void **state)
{
	static const double max[] = {0, 20000, 3600, 10000}, tx[] = {0, 7000, 1800, 6000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	struct cpsim_period out[16];
	int n;

	(void)state;
	install(&set, mk(1, 0, CPSIM_PP_STATION_MAX, CPSIM_PK_ABSOLUTE, 0, T0, 2, max));
	install(&set, mk(2, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 2, tx));
	assert_near(cpsim_profiles_station_w(set, &c, T0, NULL), 20000, 0);
	/* shared by 2 connectors, capped by 11 kW hardware: 7, 6 (from 30 min), then 10/2 (1 h) */
	n = cpsim_profiles_composite(set, &c, T0, 7200, 11000, 2, false, out, 16);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].start_s, 0);
	assert_near(out[0].limit, 7000, 0);
	assert_int_equal(out[1].start_s, 1800);
	assert_near(out[1].limit, 6000, 0);
	assert_int_equal(out[2].start_s, 3600);
	assert_near(out[2].limit, 5000, 0);
	/* in amps: W / (230 V * 3) rounded to 0.1 */
	n = cpsim_profiles_composite(set, &c, T0, 1800, 11000, 1, true, out, 16);
	assert_int_equal(n, 1);
	assert_near(out[0].limit, 10.1, 0.05);
	cpsim_profiles_free(set);
	assert_int_equal(cpsim_profiles_composite(NULL, &c, T0, 60, 11000, 1, false, out, 16),
			 -ENOENT);
}

/* The charger's view: integrate an EV under a schedule by stepping at each change. */
static void test_ev_follows_schedule_energy(void **state)
{
	static const double per[] = {0, 3700, 600, 0, 1200, 7400, 1500, -3000};
	struct cpsim_profiles *set = NULL;
	struct cpsim_limit_ctx c = ctx1();
	struct cpsim_ev ev = {.capacity_wh = 60000,
			      .soc = 0.5,
			      .target_soc = 0.9,
			      .min_soc = 0.2,
			      .max_charge_w = 11000,
			      .max_discharge_w = 7000,
			      .v2g = true};
	double in = 0, out = 0;
	int64_t t = T0, end = T0 + 1800 * 1000;

	(void)state;
	install(&set, mk(1, 0, CPSIM_PP_TX_DEFAULT, CPSIM_PK_ABSOLUTE, 0, T0, 4, per));
	while (t < end) {
		int64_t next;
		double lim = conn_w(set, &c, t, &next);
		struct cpsim_ev_flow f;

		if (next > end)
			next = end;
		cpsim_ev_step(&ev, lim, (double)(next - t) / 1000.0, &f);
		in += f.import_wh;
		out += f.export_wh;
		t = next;
	}
	/* 3.7 kW x 10 min + 0 + 7.4 kW x 5 min in; 3 kW x 5 min out */
	assert_near(in, 3700.0 / 6 + 7400.0 / 12, 1e-6);
	assert_near(out, 3000.0 / 12, 1e-6);
	cpsim_profiles_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_absolute_periods_and_next_change),
	    cmocka_unit_test(test_duration_ends_profile_and_lower_stack_applies),
	    cmocka_unit_test(test_tx_profile_overrides_default_only_during_its_tx),
	    cmocka_unit_test(test_connector_default_overrides_station_default),
	    cmocka_unit_test(test_relative_follows_transaction_start),
	    cmocka_unit_test(test_recurring_daily_wraps),
	    cmocka_unit_test(test_validity_window),
	    cmocka_unit_test(test_amps_convert_with_phases),
	    cmocka_unit_test(test_replace_by_id_and_by_stack),
	    cmocka_unit_test(test_clear_by_filter_and_capacity),
	    cmocka_unit_test(test_station_max_and_composite),
	    cmocka_unit_test(test_ev_follows_schedule_energy),
	};

	return cmocka_run_group_tests_name("sim-profile", tests, NULL, NULL);
}
