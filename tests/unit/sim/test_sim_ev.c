/* SPDX-License-Identifier: MIT */
/* Unit tests of the EV model: energy and SoC stay consistent, limits and bounds are obeyed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ev.h"

#define assert_near(a, b, eps)                                                                     \
	do {                                                                                       \
		double a_ = (double)(a), b_ = (double)(b);                                         \
		if (!(fabs(a_ - b_) <= (double)(eps)))                                             \
			fail_msg("%s = %.9g, expected %.9g (+-%g)", #a, a_, b_, (double)(eps));    \
	} while (0)

static struct cpsim_ev ev60(void)
{
	return (struct cpsim_ev){
	    .capacity_wh = 60000,
	    .soc = 0.5,
	    .target_soc = 0.8,
	    .min_soc = 0.3,
	    .max_charge_w = 11000,
	    .max_discharge_w = 7000,
	    .v2g = true,
	};
}

/* One hour at 7 kW: 7 kWh in, SoC up by 7/60. */
static void test_charging_integrates_energy_and_soc(void **state)
{
	struct cpsim_ev ev = ev60();
	struct cpsim_ev_flow f;

	(void)state;
	cpsim_ev_step(&ev, 7000, 3600, &f);
	assert_near(f.import_wh, 7000, 1e-6);
	assert_near(f.export_wh, 0, 0);
	assert_near(f.mean_w, 7000, 1e-6);
	assert_near(ev.soc, 0.5 + 7.0 / 60.0, 1e-9);
}

/* The charger offers more than the EV takes: the EV's own limit wins. */
static void test_ev_max_power_limits(void **state)
{
	struct cpsim_ev ev = ev60();

	(void)state;
	assert_near(cpsim_ev_power(&ev, 150000), 11000, 0);
	assert_near(cpsim_ev_power(&ev, -150000), -7000, 0);
	assert_near(cpsim_ev_power(&ev, 0), 0, 0);
}

/* Energy is clipped exactly at the target, and nothing flows afterwards. */
static void test_stops_at_target_soc(void **state)
{
	struct cpsim_ev ev = ev60();
	struct cpsim_ev_flow f;

	(void)state;
	cpsim_ev_step(&ev, 11000, 10 * 3600, &f); /* far more than needed */
	assert_near(f.import_wh, 0.3 * 60000, 1e-6);
	assert_near(ev.soc, 0.8, 1e-12);
	assert_near(cpsim_ev_power(&ev, 11000), 0, 0);
	assert_near(cpsim_ev_energy_needed_wh(&ev), 0, 0);
	cpsim_ev_step(&ev, 11000, 3600, &f);
	assert_near(f.import_wh, 0, 0);
}

/* Discharging needs V2G and stops at the floor. */
static void test_discharge_v2g_only_down_to_floor(void **state)
{
	struct cpsim_ev ev = ev60();
	struct cpsim_ev_flow f;

	(void)state;
	cpsim_ev_step(&ev, -5000, 3600, &f);
	assert_near(f.export_wh, 5000, 1e-6);
	assert_near(f.mean_w, -5000, 1e-6);
	assert_near(ev.soc, 0.5 - 5.0 / 60.0, 1e-9);
	cpsim_ev_step(&ev, -7000, 10 * 3600, &f);
	assert_near(ev.soc, 0.3, 1e-12);
	assert_near(f.export_wh, (0.5 - 5.0 / 60.0 - 0.3) * 60000, 1e-6);
	ev = ev60();
	ev.v2g = false;
	cpsim_ev_step(&ev, -5000, 3600, &f);
	assert_near(f.export_wh, 0, 0);
	assert_near(ev.soc, 0.5, 0);
}

/* Many small steps and one big step give the same energy (piecewise-constant power). */
static void test_step_size_does_not_matter(void **state)
{
	struct cpsim_ev a = ev60(), b = ev60();
	struct cpsim_ev_flow f;
	double sum = 0;

	(void)state;
	for (int i = 0; i < 3600; i++) {
		cpsim_ev_step(&a, 7400, 1.0, &f);
		sum += f.import_wh;
	}
	cpsim_ev_step(&b, 7400, 3600, &f);
	assert_near(sum, f.import_wh, 1e-6);
	assert_near(a.soc, b.soc, 1e-9);
	/* and across the target: both end exactly there */
	for (int i = 0; i < 100000 && a.soc < a.target_soc; i++)
		cpsim_ev_step(&a, 7400, 7.0, &f);
	cpsim_ev_step(&b, 7400, 1e6, &f);
	assert_near(a.soc, 0.8, 1e-12);
	assert_near(b.soc, 0.8, 1e-12);
}

/* Energy in minus energy out is always capacity times the SoC change. */
static void test_energy_balance_random_walk(void **state)
{
	struct cpsim_ev ev = ev60();
	struct cpsim_ev_flow f;
	double in = 0, out = 0, soc0 = ev.soc;
	uint64_t x = 12345;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		double lim, dt;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		lim = (double)((x >> 33) % 30000) - 15000.0;
		dt = (double)((x >> 20) % 600) + 0.5;
		cpsim_ev_step(&ev, lim, dt, &f);
		assert_true(f.import_wh >= 0 && f.export_wh >= 0);
		assert_true(!(f.import_wh > 0 && f.export_wh > 0));
		assert_true(ev.soc >= ev.min_soc - 1e-12 && ev.soc <= ev.target_soc + 1e-12);
		in += f.import_wh;
		out += f.export_wh;
	}
	assert_near((ev.soc - soc0) * ev.capacity_wh, in - out, 1e-3);
}

static void test_no_time_no_energy(void **state)
{
	struct cpsim_ev ev = ev60();
	struct cpsim_ev_flow f;

	(void)state;
	cpsim_ev_step(&ev, 7000, 0, &f);
	assert_near(f.import_wh, 0, 0);
	cpsim_ev_step(&ev, 7000, -5, &f);
	assert_near(f.import_wh, 0, 0);
	assert_near(cpsim_ev_power(&ev, NAN), 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_charging_integrates_energy_and_soc),
	    cmocka_unit_test(test_ev_max_power_limits),
	    cmocka_unit_test(test_stops_at_target_soc),
	    cmocka_unit_test(test_discharge_v2g_only_down_to_floor),
	    cmocka_unit_test(test_step_size_does_not_matter),
	    cmocka_unit_test(test_energy_balance_random_walk),
	    cmocka_unit_test(test_no_time_no_energy),
	};

	return cmocka_run_group_tests_name("sim-ev", tests, NULL, NULL);
}
