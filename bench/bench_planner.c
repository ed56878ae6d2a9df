/* SPDX-License-Identifier: MIT */
/* Planner benchmark: one site of 10 / 100 / 1,000 sessions over 48 h, and a city replan. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svc/planner.h"
#include "svc/tariff.h"
#include "tariff_json.h"

/*
 * Usage: bench_planner CALENDAR.json [BUDGET_S]
 * Prints one "name value unit" line per figure. Every case stops with a printed note once the
 * whole run has used BUDGET_S seconds (default 120).
 */

#define NT 192

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a shared machine it moves far less than the wall clock */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ULL;

static int rnd(int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (int)(rng % (uint64_t)n);
}

/* A residential site: evening arrivals on both days, morning departures, 7 kW piles, a
 * transformer limit below the sum of the piles so the limit binds. v2g_pct of the EVs may
 * discharge down to a 30 % floor. */
static void make_site(size_t n, int v2g_pct, struct sc_plan_session *s, struct sc_plan_slot *sl,
		      const struct sc_plan_slot *prices)
{
	int64_t limit = (int64_t)n * 7000 * 35 / 100 + 7000;

	for (int t = 0; t < NT; t++) {
		sl[t] = prices[t];
		sl[t].import_limit_w = limit;
		sl[t].export_limit_w = limit;
		sl[t].event_import_cap_w = -1;
	}
	/* a grid event on the first evening: import capped to half */
	for (int t = 12; t < 16; t++)
		sl[t].event_import_cap_w = limit / 2;
	for (size_t i = 0; i < n; i++) {
		int day = rnd(2);
		memset(&s[i], 0, sizeof(s[i]));
		s[i].max_charge_w = 7000;
		s[i].capacity_wh = 60000;
		s[i].energy_now_wh = 10000 + rnd(30000);
		s[i].floor_wh = 18000;
		s[i].target_wh = 48000 + rnd(12000);
		s[i].arrival_slot = day * 96 + rnd(24);			/* 16:00 - 22:00 */
		s[i].departure_slot = s[i].arrival_slot + 40 + rnd(24); /* 10 - 16 h later */
		if (rnd(100) < v2g_pct) {
			s[i].v2g = true;
			s[i].max_discharge_w = 7000;
		}
	}
}

static int run_site(const char *name, size_t n, int v2g_pct, enum sc_plan_method m,
		    const struct sc_plan_slot *prices, double deadline, double cap_s)
{
	struct sc_plan_session *s = calloc(n, sizeof(*s));
	struct sc_plan_slot sl[NT];
	struct sc_plan_result r, ri;
	double t0, t1, c0;
	int rc;

	if (!s)
		return -ENOMEM;
	/* the same site for the same size and V2G share, whatever the method */
	rng = 88172645463325252ULL ^ (n * 7919 + (size_t)v2g_pct);
	make_site(n, v2g_pct, s, sl, prices);
	struct sc_plan_input in = {.n_sessions = n,
				   .sessions = s,
				   .n_slots = NT,
				   .slots = sl,
				   .wear_fen_per_mwh = 20000,
				   .method = m};
	t0 = now_s();
	if (t0 >= deadline) {
		printf("# %s skipped: past the time budget\n", name);
		free(s);
		return 0;
	}
	if (deadline - t0 < cap_s)
		cap_s = deadline - t0;
	in.time_limit_ms = (int)(cap_s * 1000);
	c0 = cpu_s();
	rc = sc_plan_solve(&in, &r);
	t1 = now_s();
	c0 = cpu_s() - c0;
	if (rc < 0) {
		printf("# %s failed: %s\n", name, strerror(-rc));
		free(s);
		return rc;
	}
	printf("%s %.3f s\n%s_cpu %.3f s\n", name, t1 - t0, name, c0);
	if (r.method == SC_PLAN_METHOD_LP && m != SC_PLAN_METHOD_LP)
		printf("# %s: solved by the LP fallback\n", name);
	if (r.status != SC_PLAN_OPTIMAL)
		printf("# %s stopped: %s after %.0f s (the plan is the immediate one)\n", name,
		       sc_plan_status_to_string(r.status), cap_s);
	if (sc_plan_immediate(&in, &ri) == 0) {
		size_t short_n = 0;
		for (size_t i = 0; i < n; i++)
			short_n += r.short_flag[i];
		printf("%s_cost %lld fen\n%s_cost_immediate %lld fen\n%s_short %zu sessions\n",
		       name, (long long)r.cost_fen, name, (long long)ri.cost_fen, name, short_n);
		sc_plan_result_release(&ri);
	}
	sc_plan_result_release(&r);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	char err[TARIFF_JSON_ERR_MAX];
	struct tariff_calendar *cal = NULL;
	struct sc_plan_slot prices[NT];
	double budget = 120, start, deadline;
	int64_t t0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CALENDAR.json [BUDGET_S]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		budget = atof(argv[2]);
	if (tariff_json_load_file(argv[1], &cal, err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	memset(prices, 0, sizeof(prices));
	if (tariff_calendar_local_midnight(cal, 2026, 5, 1, &t0) < 0 ||
	    sc_plan_slots_from_tariff(cal, t0 + 16 * 3600 * 1000LL, NT, prices) < 0) {
		fprintf(stderr, "calendar has no prices for 2026-05-01\n");
		return 2;
	}
	start = now_s();
	deadline = start + budget;

	/* no V2G: the greedy flow method (what the planner picks), the min-cost flow and the
	 * GLPK LP on the same sites */
	run_site("plan_site_10_flow", 10, 0, SC_PLAN_METHOD_AUTO, prices, deadline, 20);
	run_site("plan_site_100_flow", 100, 0, SC_PLAN_METHOD_AUTO, prices, deadline, 20);
	run_site("plan_site_1000_flow", 1000, 0, SC_PLAN_METHOD_AUTO, prices, deadline, 20);
	run_site("plan_site_10_mcf", 10, 0, SC_PLAN_METHOD_MCF, prices, deadline, 20);
	run_site("plan_site_100_mcf", 100, 0, SC_PLAN_METHOD_MCF, prices, deadline, 20);
	run_site("plan_site_1000_mcf", 1000, 0, SC_PLAN_METHOD_MCF, prices, deadline, 20);
	run_site("plan_site_10_lp", 10, 0, SC_PLAN_METHOD_LP, prices, deadline, 20);
	run_site("plan_site_100_lp", 100, 0, SC_PLAN_METHOD_LP, prices, deadline, 20);
	/* 30 % of the EVs may discharge: the min-cost flow (what the planner picks), the LP */
	run_site("plan_site_10_v2g_mcf", 10, 30, SC_PLAN_METHOD_MCF, prices, deadline, 20);
	run_site("plan_site_100_v2g_mcf", 100, 30, SC_PLAN_METHOD_MCF, prices, deadline, 20);
	run_site("plan_site_1000_v2g_mcf", 1000, 30, SC_PLAN_METHOD_MCF, prices, deadline, 20);
	run_site("plan_site_10_v2g_lp", 10, 30, SC_PLAN_METHOD_LP, prices, deadline, 20);
	run_site("plan_site_100_v2g_lp", 100, 30, SC_PLAN_METHOD_LP, prices, deadline, 20);
	run_site("plan_site_1000_lp", 1000, 0, SC_PLAN_METHOD_LP, prices, deadline, 20);
	run_site("plan_site_1000_v2g_lp", 1000, 30, SC_PLAN_METHOD_LP, prices, deadline, 20);

	/* city replan: 5,000 residential sites x 20 sessions, one after another on one core */
	{
		struct sc_plan_session s[20];
		struct sc_plan_slot sl[NT];
		double c0 = now_s(), cc0 = cpu_s();
		int sites = 0, v2g_sites = 0, lp_sites = 0, not_opt = 0;
		for (; sites < 5000; sites++) {
			struct sc_plan_result r;
			/* one site in ten has a V2G EV (min-cost flow), the others the greedy flow */
			int v2g = sites % 10 == 0 ? 5 : 0;
			make_site(20, v2g, s, sl, prices);
			struct sc_plan_input in = {.n_sessions = 20,
						   .sessions = s,
						   .n_slots = NT,
						   .slots = sl,
						   .wear_fen_per_mwh = 20000,
						   .time_limit_ms = 10000};
			if (now_s() >= deadline) {
				printf(
				    "# city replan stopped after %d sites: past the time budget\n",
				    sites);
				break;
			}
			if (sc_plan_solve(&in, &r) < 0) {
				printf("# city replan: site %d failed\n", sites);
				break;
			}
			v2g_sites += r.method != SC_PLAN_METHOD_FLOW;
			lp_sites += r.method == SC_PLAN_METHOD_LP;
			not_opt += r.status != SC_PLAN_OPTIMAL;
			sc_plan_result_release(&r);
		}
		printf("plan_city_sites %d sites\nplan_city_v2g_sites %d sites\n", sites,
		       v2g_sites);
		printf("plan_city_lp_fallback_sites %d sites\nplan_city_not_optimal %d sites\n",
		       lp_sites, not_opt);
		printf("plan_city_5000x20 %.3f s\n", now_s() - c0);
		printf("plan_city_5000x20_cpu %.3f s\n", cpu_s() - cc0);
	}
	tariff_calendar_destroy(cal);
	return 0;
}
