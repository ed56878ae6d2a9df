/* SPDX-License-Identifier: MIT */
/* The planner against an independent exact method (dynamic programming over kW steps), plus
 * infeasible needs, site limits, SoC floors and the valley saving. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/planner.h"
#include "svc/tariff.h"
#include "tariff_json.h"

/*
 * Why the brute force is an honest check. With all powers in whole kW and all energies in whole
 * kW-slots (250 Wh), the planner's LP is a network-flow LP (storage arcs in time, charge and
 * discharge arcs to a site node per slot, import/export arcs to the grid), whose constraint
 * matrix is totally unimodular: it has an optimal vertex with every power a whole kW. The DP
 * below enumerates every schedule in whole kW exactly (state: each session's stored energy), so
 * it contains that vertex: its optimum equals the LP's. We require the planner to be feasible,
 * to deliver exactly as much as the DP's maximum, and to cost exactly the DP's best among
 * maximum-delivery schedules (no worse, and no better, which would mean an infeasible plan or
 * a cost function that disagrees with the DP's).
 */

#define KW    1000
#define STEP  250 /* Wh in one kW-slot */
#define NSLOT 8

static const int64_t price_set[] = {6500, 19500, 65000, 110500, 130000};

struct bf_case {
	int n_sess;
	struct sc_plan_session s[3];
	struct sc_plan_slot sl[NSLOT];
	int64_t wear;
};

/* 0..n-1 */
static int rnd(int n)
{
	return rand() % n;
}

/* With storage the last session is a site battery: bidirectional, present over the whole
 * horizon, to end it with the energy it starts with, never below its minimum. */
static bool gen_storage;

static void gen_case(struct bf_case *c, bool v2g, bool pv)
{
	memset(c, 0, sizeof(*c));
	c->n_sess = 2 + rnd(2);
	c->wear = v2g ? rnd(3) * 5000 : 0;
	for (int t = 0; t < NSLOT; t++) {
		struct sc_plan_slot *sl = &c->sl[t];
		sl->import_fen_per_mwh = price_set[rnd(5)];
		sl->export_fen_per_mwh = sl->import_fen_per_mwh * rnd(4) / 4; /* <= import */
		sl->import_limit_w = (2 + rnd(8)) * KW;
		sl->export_limit_w = rnd(3) == 0 ? SC_PLAN_NO_LIMIT : rnd(6) * KW;
		sl->event_import_cap_w = -1;
		if (pv) /* whole kW, so whole-kW schedules still contain an optimum */
			sl->pv_w = rnd(6) * KW;
	}
	for (int i = 0; i < c->n_sess; i++) {
		struct sc_plan_session *s = &c->s[i];
		s->max_charge_w = (1 + rnd(4)) * KW;
		s->arrival_slot = rnd(4);
		s->departure_slot = s->arrival_slot + 1 + rnd(NSLOT - s->arrival_slot);
		if (v2g && rnd(4) != 0) {
			s->v2g = true;
			s->max_discharge_w = (1 + rnd(3)) * KW;
			s->capacity_wh = (6 + rnd(7)) * STEP;
			s->energy_now_wh = rnd((int)(s->capacity_wh / STEP) + 1) * STEP;
			s->floor_wh = rnd((int)(s->capacity_wh / STEP) + 1) * STEP;
			s->target_wh = rnd((int)(s->capacity_wh / STEP) + 1) * STEP;
		} else if (rnd(2)) {
			s->capacity_wh = 0;
			s->target_wh = (1 + rnd(12)) * STEP;
		} else {
			s->capacity_wh = 12 * STEP;
			s->energy_now_wh = rnd(6) * STEP;
			s->floor_wh = 0;
			s->target_wh = (6 + rnd(7)) * STEP;
		}
	}
	if (gen_storage) {
		struct sc_plan_session *b = &c->s[c->n_sess - 1];
		*b = (struct sc_plan_session){
		    .max_charge_w = (1 + rnd(3)) * KW,
		    .max_discharge_w = (1 + rnd(3)) * KW,
		    .capacity_wh = (6 + rnd(7)) * STEP,
		    .departure_slot = NSLOT,
		    .v2g = true,
		};
		b->energy_now_wh = rnd((int)(b->capacity_wh / STEP) + 1) * STEP;
		b->floor_wh = rnd((int)(b->capacity_wh / STEP) + 1) * STEP;
		b->target_wh = b->energy_now_wh;
	}
}

static struct sc_plan_input input_of(const struct bf_case *c, enum sc_plan_method m)
{
	return (struct sc_plan_input){
	    .n_sessions = (size_t)c->n_sess,
	    .sessions = c->s,
	    .n_slots = NSLOT,
	    .slots = c->sl,
	    .wear_fen_per_mwh = c->wear,
	    .time_limit_ms = 5000,
	    .method = m,
	};
}

/* A session in kW steps, as the planner's contract defines it. */
struct bsess {
	int e0, lo, hi, tgt, pc, pd, arr, dep;
};

static struct bsess bsess_of(const struct sc_plan_session *s)
{
	struct bsess b;
	if (s->capacity_wh > 0) {
		b.e0 = (int)(s->energy_now_wh / STEP);
		b.hi = (int)(s->capacity_wh / STEP);
		b.lo =
		    (int)((s->floor_wh < s->energy_now_wh ? s->floor_wh : s->energy_now_wh) / STEP);
		b.tgt =
		    (int)((s->target_wh < s->capacity_wh ? s->target_wh : s->capacity_wh) / STEP);
	} else {
		b.e0 = 0;
		b.lo = 0;
		b.hi = b.tgt = (int)(s->target_wh / STEP);
	}
	b.pc = (int)(s->max_charge_w / KW);
	b.pd = s->v2g ? (int)(s->max_discharge_w / KW) : 0;
	b.arr = s->arrival_slot;
	b.dep = s->departure_slot;
	return b;
}

/* Exact cost in W-slot * fen/MWh of one slot (export price <= import price, no events): the
 * sessions' load net_kw, PV used u kW of pv_w (tried one by one: the rest is curtailed), the
 * grid flow net_kw - u within the import limit and the export limit. *ok false: no u fits. */
static int64_t slot_cost(const struct sc_plan_slot *sl, int64_t net_kw, int64_t dis_kw,
			 int64_t wear, bool *ok)
{
	int64_t cap = sl->import_limit_w / KW, best = INT64_MAX;
	int64_t xcap = sl->export_limit_w == SC_PLAN_NO_LIMIT ? 1000 : sl->export_limit_w / KW;

	for (int64_t u = 0; u <= sl->pv_w / KW; u++) {
		int64_t n = net_kw - u, c = dis_kw * KW * wear;
		if (n > cap || -n > xcap)
			continue;
		c += n >= 0 ? n * KW * sl->import_fen_per_mwh : n * KW * sl->export_fen_per_mwh;
		if (c < best)
			best = c;
	}
	*ok = best != INT64_MAX;
	return best;
}

static int64_t to_fen(int64_t acc)
{
	return acc >= 0 ? (acc + 2000000) / 4000000 : -((-acc + 2000000) / 4000000);
}

#define EMAX 13

/* DP over slots; returns the max delivered (steps) and the least cost among those. */
static void brute(const struct bf_case *c, int *ret_delivered, int64_t *ret_cost)
{
	static int64_t cost[2][EMAX * EMAX * EMAX];
	const int64_t INF = INT64_MAX / 4;
	struct bsess b[3];
	int n = c->n_sess, nst = 1;
	int cur = 0;

	for (int i = 0; i < n; i++) {
		b[i] = bsess_of(&c->s[i]);
		assert_true(b[i].hi < EMAX);
	}
	for (int i = 0; i < n; i++)
		nst *= EMAX;
	for (int k = 0; k < nst; k++)
		cost[cur][k] = INF;
	cost[cur][b[0].e0 + EMAX * (b[1].e0 + EMAX * (n > 2 ? b[2].e0 : 0))] = 0;
	for (int t = 0; t < NSLOT; t++) {
		const struct sc_plan_slot *sl = &c->sl[t];
		int nx = 1 - cur;
		int lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
		for (int k = 0; k < nst; k++)
			cost[nx][k] = INF;
		for (int i = 0; i < n; i++)
			if (t >= b[i].arr && t < b[i].dep) {
				lo[i] = -b[i].pd;
				hi[i] = b[i].pc;
			}
		for (int k = 0; k < nst; k++) {
			int e[3] = {k % EMAX, (k / EMAX) % EMAX, k / (EMAX * EMAX)};
			if (cost[cur][k] >= INF)
				continue;
			for (int p0 = lo[0]; p0 <= hi[0]; p0++)
				for (int p1 = lo[1]; p1 <= hi[1]; p1++)
					for (int p2 = lo[2]; p2 <= hi[2]; p2++) {
						int p[3] = {p0, p1, p2}, ne[3] = {0, 0, 0};
						int64_t net = 0, dis = 0;
						bool ok = true;
						for (int i = 0; i < n; i++) {
							ne[i] = e[i] + p[i];
							if (ne[i] < b[i].lo || ne[i] > b[i].hi)
								ok = false;
							net += p[i];
							dis += p[i] < 0 ? -p[i] : 0;
						}
						if (!ok)
							continue;
						int64_t sc = slot_cost(sl, net, dis, c->wear, &ok);
						if (!ok)
							continue;
						int nk = ne[0] + EMAX * (ne[1] + EMAX * ne[2]);
						int64_t v = cost[cur][k] + sc;
						if (v < cost[nx][nk])
							cost[nx][nk] = v;
					}
		}
		cur = nx;
	}
	int best_d = -1;
	int64_t best_c = INF;
	for (int k = 0; k < nst; k++) {
		int e[3] = {k % EMAX, (k / EMAX) % EMAX, k / (EMAX * EMAX)}, d = 0;
		if (cost[cur][k] >= INF)
			continue;
		for (int i = 0; i < n; i++)
			d += (e[i] < b[i].tgt ? e[i] : b[i].tgt) -
			     (b[i].e0 < b[i].tgt ? b[i].e0 : b[i].tgt);
		if (d > best_d || (d == best_d && cost[cur][k] < best_c)) {
			best_d = d;
			best_c = cost[cur][k];
		}
	}
	assert_true(best_d > -1000);
	*ret_delivered = best_d;
	*ret_cost = best_c;
}

/* Independent feasibility check of a plan; returns the delivered energy in Wh. */
static int64_t check_feasible(const struct sc_plan_input *in, const struct sc_plan_result *r)
{
	int64_t delivered = 0;

	assert_int_equal(r->n_slots, in->n_slots);
	for (int t = 0; t < in->n_slots; t++) {
		const struct sc_plan_slot *sl = &in->slots[t];
		int64_t net = 0, cap = sl->import_limit_w;
		if (sl->event_import_cap_w >= 0 && sl->event_import_cap_w < cap)
			cap = sl->event_import_cap_w;
		for (size_t s = 0; s < in->n_sessions; s++)
			net += r->power_w[s * (size_t)in->n_slots + (size_t)t];
		assert_true(net - sl->pv_w <= cap); /* the site limit on import, never exceeded */
		if (sl->export_limit_w != SC_PLAN_NO_LIMIT)
			assert_true(-net <= sl->export_limit_w);
	}
	for (size_t s = 0; s < in->n_sessions; s++) {
		const struct sc_plan_session *se = &in->sessions[s];
		/* stored energy in W-slots (1/4 Wh) */
		int64_t e = se->capacity_wh ? se->energy_now_wh * 4 : 0;
		int64_t e0 = e, lo, hi, tgt;
		if (se->capacity_wh) {
			hi = se->capacity_wh * 4;
			lo = (se->floor_wh < se->energy_now_wh ? se->floor_wh : se->energy_now_wh) *
			     4;
			tgt =
			    (se->target_wh < se->capacity_wh ? se->target_wh : se->capacity_wh) * 4;
		} else {
			lo = 0;
			hi = tgt = se->target_wh * 4;
		}
		for (int t = 0; t < in->n_slots; t++) {
			int64_t p = r->power_w[s * (size_t)in->n_slots + (size_t)t];
			if (t < se->arrival_slot || t >= se->departure_slot) {
				assert_int_equal(p, 0);
				continue;
			}
			assert_true(p <= se->max_charge_w);
			assert_true(-p <= (se->v2g ? se->max_discharge_w : 0));
			e += p;
			assert_true(e >= lo); /* the SoC floor, never violated */
			assert_true(e <= hi);
		}
		int64_t got = (e < tgt ? e : tgt) - (e0 < tgt ? e0 : tgt);
		int64_t short_q = e < tgt ? tgt - e : 0;
		assert_int_equal(r->shortfall_wh[s], (short_q + 3) / 4);
		assert_int_equal(r->short_flag[s], short_q > 0);
		delivered += got;
	}
	return delivered / 4;
}

static void run_bf_pv(bool v2g, bool pv, enum sc_plan_method m, int n_cases, unsigned seed)
{
	srand(seed);
	for (int k = 0; k < n_cases; k++) {
		struct bf_case c;
		struct sc_plan_result r;
		int bd;
		int64_t bc;
		gen_case(&c, v2g, pv);
		struct sc_plan_input in = input_of(&c, m);
		assert_int_equal(sc_plan_solve(&in, &r), 0);
		assert_int_equal(r.status, SC_PLAN_OPTIMAL);
		if (m == SC_PLAN_METHOD_AUTO && !v2g && !gen_storage)
			assert_int_equal(r.method, SC_PLAN_METHOD_FLOW);
		int64_t got = check_feasible(&in, &r);
		brute(&c, &bd, &bc);
		if (got != (int64_t)bd * STEP || r.cost_fen != to_fen(bc))
			fail_msg("case %d (seed %u): planner delivered %lld Wh cost %lld fen, "
				 "brute force %d Wh %lld fen",
				 k, seed, (long long)got, (long long)r.cost_fen, bd * STEP,
				 (long long)to_fen(bc));
		assert_int_equal(r.delivered_wh, got);
		sc_plan_result_release(&r);
	}
}

static void run_bf(bool v2g, enum sc_plan_method m, int n_cases, unsigned seed)
{
	run_bf_pv(v2g, false, m, n_cases, seed);
}

/* PV: free local supply per slot; the grid limit bounds the import (load - PV), surplus PV is
 * exported at the export price within the export limit, or curtailed. Every method meets the
 * brute force. */
static void test_bf_pv_flow(void **state)
{
	(void)state;
	run_bf_pv(false, true, SC_PLAN_METHOD_AUTO, 300, 31);
}

static void test_bf_pv_lp(void **state)
{
	(void)state;
	run_bf_pv(false, true, SC_PLAN_METHOD_LP, 150, 32);
}

static void test_bf_pv_mcf(void **state)
{
	(void)state;
	run_bf_pv(false, true, SC_PLAN_METHOD_MCF, 200, 33);
}

static void test_bf_pv_v2g(void **state)
{
	(void)state;
	run_bf_pv(true, true, SC_PLAN_METHOD_AUTO, 150, 34);
}

static void test_bf_pv_v2g_lp(void **state)
{
	(void)state;
	run_bf_pv(true, true, SC_PLAN_METHOD_LP, 100, 35);
}

/* A site battery (a pseudo-session: whole horizon, ends where it started, floor = its minimum
 * SoC) beside EVs that cannot discharge, with PV: the min-cost flow and the LP meet the brute
 * force, and the battery shifts energy (it discharges in some case). */
static void test_bf_storage(void **state)
{
	int discharged = 0;
	(void)state;

	gen_storage = true;
	run_bf_pv(false, true, SC_PLAN_METHOD_AUTO, 200, 36);
	run_bf_pv(false, true, SC_PLAN_METHOD_LP, 80, 37);
	run_bf_pv(false, false, SC_PLAN_METHOD_AUTO, 100, 38);
	srand(36);
	for (int k = 0; k < 200; k++) {
		struct bf_case c;
		struct sc_plan_result r;
		gen_case(&c, false, true);
		struct sc_plan_input in = input_of(&c, SC_PLAN_METHOD_AUTO);
		assert_int_equal(sc_plan_solve(&in, &r), 0);
		assert_int_equal(r.method, SC_PLAN_METHOD_MCF);
		for (int t = 0; t < NSLOT; t++)
			discharged += r.power_w[(size_t)(c.n_sess - 1) * NSLOT + (size_t)t] < 0;
		sc_plan_result_release(&r);
	}
	gen_storage = false;
	assert_true(discharged > 0);
}

static void test_bf_no_v2g_flow(void **state)
{
	(void)state;
	run_bf(false, SC_PLAN_METHOD_AUTO, 300, 1);
}

static void test_bf_no_v2g_lp(void **state)
{
	(void)state;
	run_bf(false, SC_PLAN_METHOD_LP, 150, 2);
}

static void test_bf_v2g(void **state)
{
	(void)state;
	run_bf(true, SC_PLAN_METHOD_AUTO, 150, 3);
}

/* the LP stays the reference: it meets the brute force on V2G cases too */
static void test_bf_v2g_lp(void **state)
{
	(void)state;
	run_bf(true, SC_PLAN_METHOD_LP, 100, 4);
}

/* the min-cost flow without discharge meets the brute force too */
static void test_bf_no_v2g_mcf(void **state)
{
	(void)state;
	run_bf(false, SC_PLAN_METHOD_MCF, 200, 5);
}

/* The greedy "cheapest slots per session" is not optimal under a shared limit; the planner is. */
static void test_shared_limit_not_greedy(void **state)
{
	struct sc_plan_session s[2] = {
	    /* A can charge in slots 0-1 only, B in 0-3 */
	    {.max_charge_w = 4 * KW, .target_wh = 4 * STEP, .arrival_slot = 0, .departure_slot = 2},
	    {.max_charge_w = 4 * KW, .target_wh = 4 * STEP, .arrival_slot = 0, .departure_slot = 4},
	};
	struct sc_plan_slot sl[4];
	struct sc_plan_result r;
	(void)state;

	memset(sl, 0, sizeof(sl));
	for (int t = 0; t < 4; t++) {
		sl[t].import_limit_w = 4 * KW;
		sl[t].export_limit_w = 0;
		sl[t].event_import_cap_w = -1;
	}
	sl[0].import_fen_per_mwh = 10000; /* cheapest: both want it */
	sl[1].import_fen_per_mwh = 50000;
	sl[2].import_fen_per_mwh = 20000;
	sl[3].import_fen_per_mwh = 20000;
	struct sc_plan_input in = {.n_sessions = 2, .sessions = s, .n_slots = 4, .slots = sl};
	assert_int_equal(sc_plan_solve(&in, &r), 0);
	check_feasible(&in, &r);
	/* optimum: A takes slot 0 (4 kW), B slots 2 and 3 (2+2 or 4+0) */
	assert_int_equal(r.power_w[0], 4 * KW);
	assert_int_equal(r.power_w[4 + 0], 0);
	assert_int_equal(r.power_w[4 + 1], 0);
	/* 4 kW-slots at 10000 + 4 at 20000 fen/MWh: (4000*10000 + 4000*20000) / 4e6 = 30 fen */
	assert_int_equal(r.cost_fen, 30);
	assert_false(r.short_flag[0] || r.short_flag[1]);
	sc_plan_result_release(&r);
}

static void test_infeasible_needs(void **state)
{
	struct sc_plan_session s[2] = {
	    {.max_charge_w = 7 * KW, .target_wh = 10000, .arrival_slot = 0, .departure_slot = 4},
	    {.max_charge_w = 7 * KW, .target_wh = 10000, .arrival_slot = 2, .departure_slot = 8},
	};
	struct sc_plan_slot sl[8];
	struct sc_plan_result r;
	(void)state;

	memset(sl, 0, sizeof(sl));
	for (int t = 0; t < 8; t++) {
		sl[t].import_limit_w = 2 * KW;
		sl[t].export_limit_w = 0;
		sl[t].event_import_cap_w = -1;
		sl[t].import_fen_per_mwh = 65000 - t * 1000;
	}
	for (int m = SC_PLAN_METHOD_FLOW; m >= SC_PLAN_METHOD_LP; m--) {
		struct sc_plan_input in = {.n_sessions = 2,
					   .sessions = s,
					   .n_slots = 8,
					   .slots = sl,
					   .method = (enum sc_plan_method)m};
		assert_int_equal(sc_plan_solve(&in, &r), 0);
		assert_int_equal(r.status, SC_PLAN_OPTIMAL);
		/* 2 kW for 8 slots: 4 kWh can be delivered, no more */
		assert_int_equal(check_feasible(&in, &r), 4000);
		assert_int_equal(r.delivered_wh, 4000);
		assert_int_equal(r.shortfall_wh[0] + r.shortfall_wh[1], 16000);
		assert_true(r.short_flag[0] && r.short_flag[1]);
		sc_plan_result_release(&r);
	}
}

static void test_bad_input(void **state)
{
	struct sc_plan_session s = {.max_charge_w = -1, .departure_slot = 1};
	struct sc_plan_slot sl = {.import_limit_w = 1000, .event_import_cap_w = -1};
	struct sc_plan_result r;
	(void)state;

	struct sc_plan_input in = {.n_sessions = 1, .sessions = &s, .n_slots = 1, .slots = &sl};
	assert_int_equal(sc_plan_solve(&in, &r), -EINVAL);
	s.max_charge_w = 1000;
	in.n_slots = SC_PLAN_MAX_SLOTS + 1;
	assert_int_equal(sc_plan_solve(&in, &r), -EINVAL);
	in.n_slots = 1;
	s.capacity_wh = 1000;
	s.floor_wh = 2000;
	assert_int_equal(sc_plan_solve(&in, &r), -EINVAL);
	/* the flow method refuses discharging sessions */
	s.floor_wh = 0;
	s.v2g = true;
	s.max_discharge_w = 1000;
	in.method = SC_PLAN_METHOD_FLOW;
	assert_int_equal(sc_plan_solve(&in, &r), -EINVAL);
}

/* Flow and LP agree on larger random no-V2G sites; V2G sites are feasible and no dearer than
 * without V2G (discharge is an option, never a duty). */
static void test_medium_agree(void **state)
{
	enum { NS = 12, NT = 96 };
	struct sc_plan_session s[NS];
	struct sc_plan_slot sl[NT];
	(void)state;

	srand(11);
	for (int round = 0; round < 4; round++) {
		struct sc_plan_result rf, rl, rv;
		memset(s, 0, sizeof(s));
		memset(sl, 0, sizeof(sl));
		for (int t = 0; t < NT; t++) {
			sl[t].import_limit_w = (20 + rnd(30)) * KW;
			sl[t].export_limit_w = 15 * KW;
			sl[t].event_import_cap_w = t >= 40 && t < 44 ? 5 * KW : -1;
			sl[t].import_fen_per_mwh = price_set[(t / 8) % 5];
			sl[t].export_fen_per_mwh =
			    39490 < sl[t].import_fen_per_mwh ? 39490 : sl[t].import_fen_per_mwh;
		}
		for (int i = 0; i < NS; i++) {
			s[i].max_charge_w = (3 + rnd(8)) * KW + rnd(1000);
			s[i].capacity_wh = 60000;
			s[i].energy_now_wh = 10000 + rnd(20000);
			s[i].floor_wh = 15000;
			s[i].target_wh = 40000 + rnd(20000);
			s[i].arrival_slot = rnd(30);
			s[i].departure_slot = s[i].arrival_slot + 20 + rnd(60);
		}
		struct sc_plan_input in = {.n_sessions = NS,
					   .sessions = s,
					   .n_slots = NT,
					   .slots = sl,
					   .wear_fen_per_mwh = 5000,
					   .method = SC_PLAN_METHOD_FLOW};
		assert_int_equal(sc_plan_solve(&in, &rf), 0);
		in.method = SC_PLAN_METHOD_LP;
		assert_int_equal(sc_plan_solve(&in, &rl), 0);
		assert_int_equal(rl.status, SC_PLAN_OPTIMAL);
		int64_t df = check_feasible(&in, &rf), dl = check_feasible(&in, &rl);
		assert_int_equal(df, dl);
		/* the LP's rounding to W may move a cost by a fen or so */
		assert_true(llabs(rf.cost_fen - rl.cost_fen) <= 1 + NS);
		for (int i = 0; i < NS; i++) {
			s[i].v2g = rnd(2);
			s[i].max_discharge_w = 5 * KW;
		}
		in.method = SC_PLAN_METHOD_AUTO;
		assert_int_equal(sc_plan_solve(&in, &rv), 0);
		assert_int_equal(rv.method, SC_PLAN_METHOD_MCF);
		/* discharging one EV into another lets more through a binding limit */
		int64_t dv = check_feasible(&in, &rv);
		assert_true(dv >= dl);
		if (dv == dl)
			assert_true(rv.cost_fen <= rl.cost_fen + 1 + NS);
		sc_plan_result_release(&rf);
		sc_plan_result_release(&rl);
		sc_plan_result_release(&rv);
	}
}

/* A random V2G site of n sessions over nt slots with a grid event (import cap and export ask). */
static void gen_v2g_site(struct sc_plan_session *s, int n, struct sc_plan_slot *sl, int nt,
			 int64_t price_mul)
{
	for (int t = 0; t < nt; t++) {
		memset(&sl[t], 0, sizeof(sl[t]));
		sl[t].import_limit_w = (10 + rnd(30)) * KW + rnd(1000);
		sl[t].export_limit_w = rnd(4) == 0 ? SC_PLAN_NO_LIMIT : (rnd(20)) * KW;
		sl[t].import_fen_per_mwh = price_set[(t / 6 + rnd(2)) % 5] * price_mul - 20000;
		sl[t].export_fen_per_mwh = sl[t].import_fen_per_mwh * rnd(5) / 4;
		sl[t].event_import_cap_w = -1;
		if (t >= nt / 2 && t < nt / 2 + 6) {
			sl[t].event_import_cap_w = rnd(6) * KW;
			sl[t].event_export_w = (5 + rnd(10)) * KW;
			sl[t].event_bonus_fen_per_mwh = 50000 * price_mul;
		}
	}
	for (int i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].max_charge_w = (3 + rnd(8)) * KW + rnd(1000);
		s[i].arrival_slot = rnd(nt / 2);
		s[i].departure_slot = s[i].arrival_slot + 4 + rnd(nt);
		if (rnd(5) == 0) {
			s[i].target_wh = 1000 + rnd(30000); /* the EV told only its need */
			continue;
		}
		s[i].capacity_wh = 40000 + rnd(40000);
		s[i].energy_now_wh = rnd((int)s[i].capacity_wh);
		s[i].floor_wh = rnd((int)s[i].capacity_wh / 2);
		s[i].target_wh = rnd((int)s[i].capacity_wh + 5000);
		if (rnd(2)) {
			s[i].v2g = true;
			s[i].max_discharge_w = (2 + rnd(6)) * KW + rnd(1000);
		}
	}
}

/* The min-cost flow against the LP on random V2G sites (events, export limits, negative import
 * prices, needs that cannot all be met): the same delivered energy and the same cost within the
 * LP's rounding to whole W. */
static void test_mcf_vs_lp_v2g(void **state)
{
	enum { NS = 14, NT = 48 };
	struct sc_plan_session s[NS];
	struct sc_plan_slot sl[NT];
	int shorts = 0;
	(void)state;

	srand(21);
	for (int round = 0; round < 25; round++) {
		struct sc_plan_result rm, rl;
		gen_v2g_site(s, NS, sl, NT, 1);
		struct sc_plan_input in = {.n_sessions = NS,
					   .sessions = s,
					   .n_slots = NT,
					   .slots = sl,
					   .wear_fen_per_mwh = rnd(3) * 10000,
					   .time_limit_ms = 10000,
					   .method = SC_PLAN_METHOD_MCF};
		assert_int_equal(sc_plan_solve(&in, &rm), 0);
		assert_int_equal(rm.status, SC_PLAN_OPTIMAL);
		assert_int_equal(rm.method, SC_PLAN_METHOD_MCF);
		in.method = SC_PLAN_METHOD_LP;
		assert_int_equal(sc_plan_solve(&in, &rl), 0);
		assert_int_equal(rl.status, SC_PLAN_OPTIMAL);
		int64_t dm = check_feasible(&in, &rm), dl = check_feasible(&in, &rl);
		/* the LP rounds each session's stored energy to whole W-slots */
		assert_true(llabs(dm - dl) <= 1);
		if (llabs(rm.cost_fen - rl.cost_fen) > 1 + NS)
			fail_msg("round %d: flow %lld fen, LP %lld fen", round,
				 (long long)rm.cost_fen, (long long)rl.cost_fen);
		for (int i = 0; i < NS; i++)
			shorts += rm.short_flag[i];
		sc_plan_result_release(&rm);
		sc_plan_result_release(&rl);
	}
	assert_true(shorts > 0); /* the cases include needs that cannot be met */
}

/* PV on random sites with grid events (PV surplus earns the event bonus first), export limits,
 * negative prices: the greedy flow's price tiers, the min-cost flow and the LP agree, with and
 * without discharge, and the import stays within the limit while the load may exceed it. */
static void test_pv_methods_agree(void **state)
{
	enum { NS = 10, NT = 48 };
	struct sc_plan_session s[NS];
	struct sc_plan_slot sl[NT];
	int above = 0;
	(void)state;

	srand(41);
	for (int round = 0; round < 20; round++) {
		struct sc_plan_result rm, rl, rf;
		bool v2g = round % 2;
		gen_v2g_site(s, NS, sl, NT, 1);
		for (int t = 0; t < NT; t++) /* a day's bell, some slots with much more */
			sl[t].pv_w =
			    (t > 8 && t < 40 ? (16 - abs(t - 24)) * 2 * KW + rnd(3000) : 0) +
			    (rnd(8) == 0 ? 30 * KW : 0);
		for (int i = 0; i < NS && !v2g; i++)
			s[i].v2g = false;
		/* the greedy flow charges each session up to its target only, which is the optimum
		 * unless importing pays (a negative price: the min-cost flow then fills batteries
		 * beyond their targets); export prices may stay negative (PV is curtailed then) */
		for (int t = 0; t < NT && !v2g; t++)
			sl[t].import_fen_per_mwh += 20000;
		struct sc_plan_input in = {.n_sessions = NS,
					   .sessions = s,
					   .n_slots = NT,
					   .slots = sl,
					   .wear_fen_per_mwh = rnd(3) * 10000,
					   .time_limit_ms = 10000,
					   .method = SC_PLAN_METHOD_MCF};
		assert_int_equal(sc_plan_solve(&in, &rm), 0);
		assert_int_equal(rm.status, SC_PLAN_OPTIMAL);
		in.method = SC_PLAN_METHOD_LP;
		assert_int_equal(sc_plan_solve(&in, &rl), 0);
		assert_int_equal(rl.status, SC_PLAN_OPTIMAL);
		int64_t dm = check_feasible(&in, &rm), dl = check_feasible(&in, &rl);
		assert_true(llabs(dm - dl) <= 1);
		if (llabs(rm.cost_fen - rl.cost_fen) > 1 + NS)
			fail_msg("round %d: flow %lld fen, LP %lld fen", round,
				 (long long)rm.cost_fen, (long long)rl.cost_fen);
		if (!v2g) {
			in.method = SC_PLAN_METHOD_AUTO;
			assert_int_equal(sc_plan_solve(&in, &rf), 0);
			assert_int_equal(rf.method, SC_PLAN_METHOD_FLOW);
			assert_int_equal(check_feasible(&in, &rf), dm);
			if (rf.cost_fen != rm.cost_fen)
				fail_msg("round %d: greedy %lld fen, min-cost flow %lld fen", round,
					 (long long)rf.cost_fen, (long long)rm.cost_fen);
			sc_plan_result_release(&rf);
		}
		for (int t = 0; t < NT; t++) {
			int64_t net = 0, cap = sl[t].import_limit_w;
			if (sl[t].event_import_cap_w >= 0 && sl[t].event_import_cap_w < cap)
				cap = sl[t].event_import_cap_w;
			for (int i = 0; i < NS; i++)
				net += rm.power_w[i * NT + t];
			above += net > cap;
		}
		sc_plan_result_release(&rm);
		sc_plan_result_release(&rl);
	}
	assert_true(above > 0); /* loads above the grid limit, on PV */
}

/* One session, a 3 kW limit, 4 kW of PV at midday: the EV charges at 7 kW there (limit + PV),
 * imports only 3 kW, and the plan costs only the import. */
static void test_pv_above_limit(void **state)
{
	struct sc_plan_slot sl[4];
	struct sc_plan_session s = {
	    .max_charge_w = 7 * KW, .target_wh = 4 * 7 * KW / 4, .departure_slot = 4};
	struct sc_plan_input in = {.n_sessions = 1, .sessions = &s, .n_slots = 4, .slots = sl};
	enum sc_plan_method ms[] = {SC_PLAN_METHOD_AUTO, SC_PLAN_METHOD_MCF, SC_PLAN_METHOD_LP};
	(void)state;

	memset(sl, 0, sizeof(sl));
	for (int t = 0; t < 4; t++) {
		sl[t].import_limit_w = 3 * KW;
		sl[t].event_import_cap_w = -1;
		sl[t].import_fen_per_mwh = 100000; /* 1 yuan per kWh */
		sl[t].pv_w = 4 * KW;
	}
	for (size_t k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
		struct sc_plan_result r, ri;
		in.method = ms[k];
		assert_int_equal(sc_plan_solve(&in, &r), 0);
		for (int t = 0; t < 4; t++)
			assert_int_equal(r.power_w[t], 7 * KW);
		assert_false(r.short_flag[0]);
		/* 4 slots of 3 kW imported: 3 kWh at 1 yuan */
		assert_int_equal(r.cost_fen, 300);
		assert_int_equal(sc_plan_immediate(&in, &ri), 0);
		assert_int_equal(ri.power_w[0], 7 * KW);
		sc_plan_result_release(&r);
		sc_plan_result_release(&ri);
	}
	/* without the PV the same need is short */
	for (int t = 0; t < 4; t++)
		sl[t].pv_w = 0;
	{
		struct sc_plan_result r;
		in.method = SC_PLAN_METHOD_AUTO;
		assert_int_equal(sc_plan_solve(&in, &r), 0);
		assert_true(r.short_flag[0]);
		assert_int_equal(r.shortfall_wh[0], 4 * 4 * KW / 4);
		sc_plan_result_release(&r);
	}
	sl[0].pv_w = -1;
	{
		struct sc_plan_result r;
		assert_int_equal(sc_plan_solve(&in, &r), -EINVAL);
	}
}

/* Extremes of the integer data: prices of 10^9 fen/MWh (and negative), a 100 MW site limit,
 * 1 MWh batteries; the flow is exact in int64 and keeps every bound. */
static void test_mcf_extremes(void **state)
{
	enum { NS = 6, NT = 24 };
	struct sc_plan_session s[NS];
	struct sc_plan_slot sl[NT];
	struct sc_plan_result rm, rl;
	(void)state;

	srand(31);
	gen_v2g_site(s, NS, sl, NT, 10000);
	for (int t = 0; t < NT; t++) {
		sl[t].import_limit_w = t % 3 ? 100000 * KW : SC_PLAN_NO_LIMIT;
		if (t % 5 == 0)
			sl[t].import_fen_per_mwh = -sl[t].import_fen_per_mwh;
		if (sl[t].export_fen_per_mwh > sl[t].import_fen_per_mwh)
			sl[t].export_fen_per_mwh = sl[t].import_fen_per_mwh;
	}
	for (int i = 0; i < NS; i++) {
		s[i].max_charge_w = 2000 * KW;
		if (s[i].capacity_wh) {
			s[i].capacity_wh *= 25;
			s[i].energy_now_wh *= 25;
			s[i].floor_wh *= 25;
			s[i].target_wh *= 25;
		}
		s[i].max_discharge_w = s[i].v2g ? 1500 * KW : 0;
	}
	struct sc_plan_input in = {.n_sessions = NS,
				   .sessions = s,
				   .n_slots = NT,
				   .slots = sl,
				   .wear_fen_per_mwh = 1000000,
				   .time_limit_ms = 10000,
				   .method = SC_PLAN_METHOD_MCF};
	assert_int_equal(sc_plan_solve(&in, &rm), 0);
	assert_int_equal(rm.status, SC_PLAN_OPTIMAL);
	in.method = SC_PLAN_METHOD_LP;
	assert_int_equal(sc_plan_solve(&in, &rl), 0);
	assert_int_equal(rl.status, SC_PLAN_OPTIMAL);
	assert_true(llabs(check_feasible(&in, &rm) - check_feasible(&in, &rl)) <= 1);
	/* one W of LP rounding per session-slot is worth up to 10^9 / 4e6 fen */
	assert_true(llabs(rm.cost_fen - rl.cost_fen) <= NS * NT * 300);
	sc_plan_result_release(&rm);
	sc_plan_result_release(&rl);
}

/* Our wall-clock limit holds for the flow: a 1 ms limit on a large site ends in time with the
 * "immediately" plan and says so. */
static void test_mcf_time_limit(void **state)
{
	enum { NS = 1500, NT = 192 };
	struct sc_plan_session *s = calloc(NS, sizeof(*s));
	struct sc_plan_slot sl[NT];
	struct sc_plan_result rm, ri;
	(void)state;

	assert_non_null(s);
	srand(41);
	gen_v2g_site(s, NS, sl, NT, 1);
	struct sc_plan_input in = {.n_sessions = NS,
				   .sessions = s,
				   .n_slots = NT,
				   .slots = sl,
				   .wear_fen_per_mwh = 20000,
				   .time_limit_ms = 1,
				   .method = SC_PLAN_METHOD_MCF};
	assert_int_equal(sc_plan_solve(&in, &rm), 0);
	assert_int_equal(rm.status, SC_PLAN_TIME_LIMIT);
	assert_int_equal(sc_plan_immediate(&in, &ri), 0);
	assert_memory_equal(rm.power_w, ri.power_w, sizeof(int64_t) * NS * NT);
	sc_plan_result_release(&rm);
	sc_plan_result_release(&ri);
	free(s);
}

/* Our deadline holds for the greedy flow too: a 1 ms limit on a large charging-only site ends
 * with the "immediately" plan, flagged. */
static void test_flow_time_limit(void **state)
{
	enum { NS = 1500, NT = 192 };
	struct sc_plan_session *s = calloc(NS, sizeof(*s));
	struct sc_plan_slot sl[NT];
	struct sc_plan_result rf, ri;
	(void)state;

	assert_non_null(s);
	srand(43);
	gen_v2g_site(s, NS, sl, NT, 1);
	for (int i = 0; i < NS; i++)
		s[i].v2g = false, s[i].max_discharge_w = 0;
	struct sc_plan_input in = {.n_sessions = NS,
				   .sessions = s,
				   .n_slots = NT,
				   .slots = sl,
				   .time_limit_ms = 1,
				   .method = SC_PLAN_METHOD_FLOW};
	assert_int_equal(sc_plan_solve(&in, &rf), 0);
	assert_int_equal(rf.status, SC_PLAN_TIME_LIMIT);
	assert_int_equal(rf.method, SC_PLAN_METHOD_IMMEDIATE);
	assert_int_equal(sc_plan_immediate(&in, &ri), 0);
	assert_memory_equal(rf.power_w, ri.power_w, sizeof(int64_t) * NS * NT);
	sc_plan_result_release(&rf);
	sc_plan_result_release(&ri);
	free(s);
}

/* A V2G site whose min-cost flow runs out of time under AUTO (what the node uses) gets the
 * charging-only flow plan, flagged TIME_LIMIT: no discharge, every limit kept, and no less
 * delivered than charging immediately. */
static void test_auto_time_limit_falls_back(void **state)
{
	enum { NS = 1500, NT = 96 };
	struct sc_plan_session *s = calloc(NS, sizeof(*s));
	struct sc_plan_slot sl[NT];
	struct sc_plan_result r, ri;
	(void)state;

	assert_non_null(s);
	srand(47);
	gen_v2g_site(s, NS, sl, NT, 1);
	struct sc_plan_input in = {.n_sessions = NS,
				   .sessions = s,
				   .n_slots = NT,
				   .slots = sl,
				   .wear_fen_per_mwh = 20000,
				   .time_limit_ms = 1,
				   .method = SC_PLAN_METHOD_AUTO};
	assert_int_equal(sc_plan_solve(&in, &r), 0);
	assert_int_equal(r.status, SC_PLAN_TIME_LIMIT);
	/* the charging-only flow, or (when that too runs past the limit, as on a sanitizer
	 * build) the immediate plan: never a discharge */
	assert_true(r.method == SC_PLAN_METHOD_FLOW || r.method == SC_PLAN_METHOD_IMMEDIATE);
	for (size_t k = 0; k < (size_t)NS * NT; k++)
		assert_true(r.power_w[k] >= 0);
	check_feasible(&in, &r);
	assert_int_equal(sc_plan_immediate(&in, &ri), 0);
	assert_true(r.delivered_wh >= ri.delivered_wh);
	sc_plan_result_release(&r);
	sc_plan_result_release(&ri);
	free(s);
}

/* 20 home piles behind a 60 kW transformer, evening arrivals, 07:30 departure: the plan meets
 * every target within the limit and costs less than charging immediately. */
static void test_valley_saves(void **state)
{
	char path[512], err[TARIFF_JSON_ERR_MAX];
	struct tariff_calendar *cal = NULL;
	struct sc_plan_session s[20];
	struct sc_plan_slot sl[64];
	struct sc_plan_result rp, ri;
	int64_t start;
	(void)state;

	snprintf(path, sizeof(path), "%s/docs/tariffs/example-shandong-residential.json",
		 TOP_SRCDIR);
	assert_int_equal(tariff_json_load_file(path, &cal, err), 0);
	/* 2026-05-01 16:00 local; 64 slots to 08:00 */
	assert_int_equal(tariff_calendar_local_midnight(cal, 2026, 5, 1, &start), 0);
	start += 16 * 3600 * 1000LL;
	memset(sl, 0, sizeof(sl));
	for (int t = 0; t < 64; t++) {
		sl[t].import_limit_w = 60 * KW;
		sl[t].export_limit_w = 0;
		sl[t].event_import_cap_w = -1;
	}
	assert_int_equal(sc_plan_slots_from_tariff(cal, start, 64, sl), 0);
	assert_int_equal(sl[0].import_fen_per_mwh, 54690);  /* 16:00 flat */
	assert_int_equal(sl[4].import_fen_per_mwh, 92973);  /* 17:00 peak */
	assert_int_equal(sl[28].import_fen_per_mwh, 16407); /* 23:00 valley */
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 20; i++) {
		s[i].max_charge_w = 7 * KW;
		s[i].capacity_wh = 60000;
		s[i].energy_now_wh = 20000 + 500 * i;
		s[i].target_wh = 54000;
		s[i].arrival_slot = 8 + (i % 8); /* 18:00 - 19:45 */
		s[i].departure_slot = 62;	 /* 07:30 */
	}
	struct sc_plan_input in = {.n_sessions = 20, .sessions = s, .n_slots = 64, .slots = sl};
	assert_int_equal(sc_plan_solve(&in, &rp), 0);
	assert_int_equal(sc_plan_immediate(&in, &ri), 0);
	check_feasible(&in, &rp);
	check_feasible(&in, &ri);
	for (int i = 0; i < 20; i++)
		assert_false(rp.short_flag[i]);
	assert_int_equal(rp.delivered_wh, ri.delivered_wh);
	assert_true(rp.cost_fen < ri.cost_fen);
	/* and the immediate baseline's cost is what the cost function says */
	assert_int_equal(ri.cost_fen, sc_plan_cost_fen(&in, ri.power_w));
	sc_plan_result_release(&rp);
	sc_plan_result_release(&ri);
	tariff_calendar_destroy(cal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shared_limit_not_greedy),
	    cmocka_unit_test(test_bf_no_v2g_flow),
	    cmocka_unit_test(test_bf_no_v2g_lp),
	    cmocka_unit_test(test_bf_v2g),
	    cmocka_unit_test(test_bf_v2g_lp),
	    cmocka_unit_test(test_bf_no_v2g_mcf),
	    cmocka_unit_test(test_bf_pv_flow),
	    cmocka_unit_test(test_bf_pv_lp),
	    cmocka_unit_test(test_bf_pv_mcf),
	    cmocka_unit_test(test_bf_pv_v2g),
	    cmocka_unit_test(test_bf_pv_v2g_lp),
	    cmocka_unit_test(test_bf_storage),
	    cmocka_unit_test(test_pv_methods_agree),
	    cmocka_unit_test(test_pv_above_limit),
	    cmocka_unit_test(test_mcf_vs_lp_v2g),
	    cmocka_unit_test(test_mcf_extremes),
	    cmocka_unit_test(test_mcf_time_limit),
	    cmocka_unit_test(test_flow_time_limit),
	    cmocka_unit_test(test_auto_time_limit_falls_back),
	    cmocka_unit_test(test_infeasible_needs),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_medium_agree),
	    cmocka_unit_test(test_valley_saves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
