/* SPDX-License-Identifier: MIT */
/* The site planner: lexicographic (max delivered, then least cost) schedules, solved exactly. */
#include "planner.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glpk.h>

#include "tariff.h"

/*
 * Three exact methods.
 *
 * FLOW (no session may discharge). The problem is a transportation problem: source -> session
 * (capacity: its need), session -> slot (its power limit, in its slots), slot -> sink (the site
 * limit, cost: the slot's price). The sets of slot loads that can be routed form a polymatroid
 * (the rank of a slot set is the max flow through it), so Edmonds' greedy is exact: open the
 * slots one by one, cheapest first, and augment the max flow into each as far as it goes. Flow
 * already through an opened slot never decreases (augmenting paths end at the new slot), so the
 * final flow is a maximum flow (max delivered) of least cost. Integer units: one W held for one
 * slot (1/4 Wh), so the plan is exact in W. A slot with PV has up to four parallel sink arcs
 * (tiers, slot_tiers()): the free PV (or, where its surplus would be exported, the export price
 * it forgoes) and the grid import up to the site limit at the import price; the greedy opens
 * tiers, not slots, cheapest first, the same polymatroid argument on the set of sink arcs.
 *
 * MCF (some session may discharge; what AUTO picks then): the same problem as a min-cost flow on
 * the time-expanded network, solved by a primal network simplex, exact on integer data; see the
 * MCF section below. 1,000 sessions over 48 h: well under a second, where the LP
 * took over 20 s.
 *
 * LP (the reference, and the fallback should the network simplex fail): GLPK
 * simplex, two phases. Phase 1 minimises the total
 * shortfall; phase 2 adds the row "total shortfall <= phase-1 optimum + tolerance" and minimises
 * cost, warm-started from the phase-1 basis. The constraint matrix is a network matrix (storage
 * arcs in time, charge/discharge arcs to the site node, import/export arcs), so with integer data
 * the optimal vertices are integer in W; the plan is rounded on each session's cumulative energy
 * so the stored energy stays within its bounds exactly.
 *
 * Time limits: one deadline per sc_plan_solve() on the monotonic clock (time_limit_ms from the
 * start), checked by our own code on every path: the greedy flow before each slot it opens and
 * every 64 augmenting phases, the network simplex every 256 pivots, the LP while its matrix is
 * built, before and after scaling, and before and after each glp_simplex() call. GLPK's
 * glp_smcp.tm_lim is set to what is left, but it is only a hint: we run with presolve off (GLPK's
 * LP presolver runs before the simplex loop and does not look at tm_lim, where solvers have been
 * seen overrunning their limits), and a phase that returns after the deadline is a timeout
 * whatever GLPK says (its answer is dropped). A check cannot interrupt a glp_simplex() call
 * already running: that call can overrun by as long as GLPK ignores tm_lim. A timeout under
 * SC_PLAN_METHOD_AUTO falls back to the charging-only greedy flow (its own deadline:
 * FALLBACK_MIN_MS or a quarter of the limit), then to "immediately"; status says TIME_LIMIT.
 *
 * GLPK and threads: Debian's libglpk is built re-entrant (thread-local environment, GLPK >=
 * 4.61; glp_config("TLS") says so). Each thread has its own environment: a glp_prob must be used
 * only by the thread that created it, and a worker thread must call glp_free_env() before it
 * exits or it leaks its environment. We never call glp_free_env() here (that would destroy
 * objects of a caller on the same thread). glp_error() aborts the process by default; the inputs
 * are validated before they reach GLPK so that does not happen on bad data.
 */

#define UNIT_PER_WH	4   /* 1 unit = 1 W for one slot = 1/4 Wh */
#define FALLBACK_MIN_MS 200 /* the charging-only flow after a timed-out V2G solve, at least */

static double now_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Milliseconds left before deadline (a now_mono_s() value), 0 when past it. */
static int ms_left(double deadline)
{
	double left = (deadline - now_mono_s()) * 1000.0;
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}
#define BIG ((int64_t)1 << 50)

static const char *const status_names[_SC_PLAN_STATUS_MAX] = {
    [SC_PLAN_OPTIMAL] = "optimal",
    [SC_PLAN_TIME_LIMIT] = "time_limit",
    [SC_PLAN_FAILED] = "failed",
};

const char *sc_plan_status_to_string(enum sc_plan_status s)
{
	if ((int)s < 0 || s >= _SC_PLAN_STATUS_MAX)
		return NULL;
	return status_names[s];
}

/* A session in units, clamped to the horizon. */
struct nsess {
	int arr, dep;
	int64_t e0, lo, hi, tgt; /* units */
	int64_t pc, pd;		 /* W */
};

static int normalise(const struct sc_plan_input *in, struct nsess *ns)
{
	if (in->n_slots < 1 || in->n_slots > SC_PLAN_MAX_SLOTS ||
	    (in->n_sessions && !in->sessions) || !in->slots || in->wear_fen_per_mwh < 0)
		return -EINVAL;
	for (int t = 0; t < in->n_slots; t++) {
		const struct sc_plan_slot *sl = &in->slots[t];
		if (sl->import_limit_w < 0 || sl->export_limit_w < 0 || sl->event_export_w < 0 ||
		    sl->event_bonus_fen_per_mwh < 0 || sl->event_import_cap_w < -1 ||
		    sl->pv_w < 0 || sl->pv_w > BIG / 1024)
			return -EINVAL;
	}
	for (size_t i = 0; i < in->n_sessions; i++) {
		const struct sc_plan_session *s = &in->sessions[i];
		struct nsess *n = &ns[i];
		if (s->max_charge_w < 0 || s->max_discharge_w < 0 || s->capacity_wh < 0 ||
		    s->target_wh < 0 || s->max_charge_w > BIG / 1024 ||
		    s->max_discharge_w > BIG / 1024)
			return -EINVAL;
		if (s->capacity_wh > 0) {
			if (s->energy_now_wh < 0 || s->energy_now_wh > s->capacity_wh ||
			    s->floor_wh < 0 || s->floor_wh > s->capacity_wh)
				return -EINVAL;
			n->e0 = s->energy_now_wh * UNIT_PER_WH;
			n->hi = s->capacity_wh * UNIT_PER_WH;
			n->lo = (s->floor_wh < s->energy_now_wh ? s->floor_wh : s->energy_now_wh) *
				UNIT_PER_WH;
			n->tgt = (s->target_wh < s->capacity_wh ? s->target_wh : s->capacity_wh) *
				 UNIT_PER_WH;
		} else {
			n->e0 = 0;
			n->lo = 0;
			n->hi = s->target_wh * UNIT_PER_WH;
			n->tgt = n->hi;
		}
		if (n->hi > BIG)
			return -EINVAL;
		n->arr = s->arrival_slot < 0 ? 0 : s->arrival_slot;
		n->dep = s->departure_slot > in->n_slots ? in->n_slots : s->departure_slot;
		if (n->dep < n->arr)
			n->dep = n->arr;
		n->pc = s->max_charge_w;
		n->pd = s->v2g ? s->max_discharge_w : 0;
	}
	return 0;
}

static int64_t import_cap(const struct sc_plan_slot *sl)
{
	int64_t c = sl->import_limit_w;
	if (sl->event_import_cap_w >= 0 && sl->event_import_cap_w < c)
		c = sl->event_import_cap_w;
	return c > BIG ? BIG : c;
}

static int64_t export_cap(const struct sc_plan_slot *sl)
{
	return sl->export_limit_w > BIG ? BIG : sl->export_limit_w;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Effective export prices: first event_export_w at the event price, the rest at the export
 * price, both clamped to the import price (a site cannot import and export at once). */
static void export_prices(const struct sc_plan_slot *sl, int64_t *ret_event, int64_t *ret_plain)
{
	int64_t plain = min64(sl->export_fen_per_mwh, sl->import_fen_per_mwh);
	int64_t ev =
	    min64(sl->export_fen_per_mwh + sl->event_bonus_fen_per_mwh, sl->import_fen_per_mwh);
	*ret_plain = plain;
	*ret_event = ev > plain ? ev : plain;
}

/* The cost of a net grid flow n (import > 0, export < 0) in a slot, in W-slots * fen/MWh. */
static __int128 grid_cost(const struct sc_plan_slot *sl, int64_t n)
{
	int64_t ex, y, pe, pp;

	if (n >= 0)
		return (__int128)n * sl->import_fen_per_mwh;
	ex = -n;
	y = min64(ex, sl->event_export_w);
	export_prices(sl, &pe, &pp);
	return -((__int128)y * pe + (__int128)(ex - y) * pp);
}

/*
 * A slot whose sessions draw load (net, signed): PV covers it first, the grid flow n is in
 * [load - pv, load] (PV curtailed as far as it pays: at a negative import price, importing
 * instead), within the import cap and the export cap. grid_cost() is convex (export prices <=
 * import price), so its least value on that interval is at an end or at one of its
 * breakpoints (0, -event_export_w).
 */
static __int128 slot_cost(const struct sc_plan_slot *sl, int64_t load)
{
	int64_t pv = sl->pv_w > BIG ? BIG : sl->pv_w;
	int64_t lo = max64(load - pv, -export_cap(sl)), hi = min64(load, import_cap(sl)), cand[4];
	__int128 best;

	if (lo > hi) /* beyond a cap: not a feasible plan, priced as near to one as it gets */
		lo = hi = load - pv > import_cap(sl) ? load - pv : load;
	cand[0] = lo;
	cand[1] = hi;
	cand[2] = 0;
	cand[3] = -min64(sl->event_export_w, BIG);
	best = grid_cost(sl, hi);
	for (int i = 0; i < 4; i++)
		if (cand[i] >= lo && cand[i] <= hi) {
			__int128 c = grid_cost(sl, cand[i]);
			if (c < best)
				best = c;
		}
	return best;
}

int64_t sc_plan_cost_fen(const struct sc_plan_input *in, const int64_t *power_w)
{
	__int128 acc = 0; /* W-slots * fen/MWh = fen / (4 * 10^6) */
	int64_t q;

	for (int t = 0; t < in->n_slots; t++) {
		const struct sc_plan_slot *sl = &in->slots[t];
		int64_t net = 0, dis = 0;
		for (size_t s = 0; s < in->n_sessions; s++) {
			int64_t p = power_w[s * (size_t)in->n_slots + (size_t)t];
			net += p;
			if (p < 0)
				dis -= p;
		}
		acc += (__int128)dis * in->wear_fen_per_mwh;
		acc += slot_cost(sl, net);
	}
	q = 4000000;
	if (acc >= 0)
		return (int64_t)((acc + q / 2) / q);
	return -(int64_t)((-acc + q / 2) / q);
}

static int result_alloc(const struct sc_plan_input *in, struct sc_plan_result *r)
{
	size_t n = in->n_sessions ? in->n_sessions : 1;

	memset(r, 0, sizeof(*r));
	r->n_slots = in->n_slots;
	r->n_sessions = in->n_sessions;
	r->power_w = calloc(n * (size_t)in->n_slots, sizeof(*r->power_w));
	r->shortfall_wh = calloc(n, sizeof(*r->shortfall_wh));
	r->short_flag = calloc(n, sizeof(*r->short_flag));
	if (!r->power_w || !r->shortfall_wh || !r->short_flag) {
		sc_plan_result_release(r);
		return -ENOMEM;
	}
	return 0;
}

void sc_plan_result_release(struct sc_plan_result *r)
{
	if (!r)
		return;
	free(r->power_w);
	free(r->shortfall_wh);
	free(r->short_flag);
	r->power_w = NULL;
	r->shortfall_wh = NULL;
	r->short_flag = NULL;
}

/* Shortfall, delivered energy and cost from the schedule. */
static void finish(const struct sc_plan_input *in, const struct nsess *ns, struct sc_plan_result *r)
{
	r->delivered_wh = 0; /* in units until the end */
	for (size_t s = 0; s < in->n_sessions; s++) {
		int64_t e = ns[s].e0, got;
		for (int t = 0; t < in->n_slots; t++)
			e += r->power_w[s * (size_t)in->n_slots + (size_t)t];
		got = min64(e, ns[s].tgt) - min64(ns[s].e0, ns[s].tgt);
		r->delivered_wh += got;
		r->shortfall_wh[s] =
		    e < ns[s].tgt ? (ns[s].tgt - e + UNIT_PER_WH - 1) / UNIT_PER_WH : 0;
		r->short_flag[s] = r->shortfall_wh[s] > 0;
	}
	r->delivered_wh /= UNIT_PER_WH;
	r->cost_fen = sc_plan_cost_fen(in, r->power_w);
}

static void immediate_fill(const struct sc_plan_input *in, const struct nsess *ns, int64_t *pw)
{
	int64_t *rem = calloc(in->n_sessions ? in->n_sessions : 1, sizeof(*rem));

	/* without memory, leave pw all zero: a valid (if useless) plan */
	if (!rem)
		return;
	for (size_t s = 0; s < in->n_sessions; s++)
		rem[s] = ns[s].tgt > ns[s].e0 ? ns[s].tgt - ns[s].e0 : 0;
	for (int t = 0; t < in->n_slots; t++) {
		int64_t room = import_cap(&in->slots[t]) + min64(in->slots[t].pv_w, BIG);
		for (size_t s = 0; s < in->n_sessions; s++) {
			int64_t g;
			if (t < ns[s].arr || t >= ns[s].dep)
				continue;
			g = min64(min64(ns[s].pc, rem[s]), room);
			/* stored energy bound (target <= capacity, so only hi matters) */
			pw[s * (size_t)in->n_slots + (size_t)t] = g;
			rem[s] -= g;
			room -= g;
		}
	}
	free(rem);
}

int sc_plan_immediate(const struct sc_plan_input *in, struct sc_plan_result *ret)
{
	struct sc_plan_result r;
	struct nsess *ns;
	int rc;

	ns = calloc(in->n_sessions ? in->n_sessions : 1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	rc = normalise(in, ns);
	if (rc < 0)
		goto out;
	rc = result_alloc(in, &r);
	if (rc < 0)
		goto out;
	immediate_fill(in, ns, r.power_w);
	r.status = SC_PLAN_OPTIMAL;
	r.method = SC_PLAN_METHOD_IMMEDIATE;
	finish(in, ns, &r);
	*ret = r;
out:
	free(ns);
	return rc;
}

/* ---- FLOW: incremental max flow (Dinic) into slots opened cheapest first ---- */

struct arc {
	int to;
	int rev;
	int64_t cap;
};

struct flow {
	int n_nodes;
	int *first; /* CSR offsets, n_nodes + 1 */
	struct arc *arcs;
	int *level;
	int *it;
	int *queue;
	int target;
	int64_t target_room;
};

static int bfs(struct flow *f)
{
	int head = 0, tail = 0;

	for (int i = 0; i < f->n_nodes; i++)
		f->level[i] = -1;
	f->level[0] = 0;
	f->queue[tail++] = 0;
	while (head < tail) {
		int u = f->queue[head++];
		if (u == f->target)
			break;
		for (int a = f->first[u]; a < f->first[u + 1]; a++) {
			int v = f->arcs[a].to;
			if (f->arcs[a].cap > 0 && f->level[v] < 0) {
				f->level[v] = f->level[u] + 1;
				f->queue[tail++] = v;
			}
		}
	}
	return f->level[f->target] >= 0;
}

static int64_t dfs(struct flow *f, int u, int64_t pushed)
{
	if (u == f->target) {
		int64_t d = min64(pushed, f->target_room);
		f->target_room -= d;
		return d;
	}
	for (; f->it[u] < f->first[u + 1]; f->it[u]++) {
		struct arc *a = &f->arcs[f->it[u]];
		int64_t d;
		if (a->cap <= 0 || f->level[a->to] != f->level[u] + 1)
			continue;
		if (f->level[a->to] > f->level[f->target])
			continue;
		d = dfs(f, a->to, min64(pushed, a->cap));
		if (d > 0) {
			a->cap -= d;
			f->arcs[a->rev].cap += d;
			return d;
		}
	}
	return 0;
}

/* One price tier of a slot's load: `room` W-slots at `price` fen/MWh. */
struct slot_order {
	int64_t price;
	int64_t room;
	int slot;
	int tier;
};

static int cmp_slot(const void *a, const void *b)
{
	const struct slot_order *x = a, *y = b;
	if (x->price != y->price)
		return x->price < y->price ? -1 : 1;
	if (x->slot != y->slot)
		return x->slot - y->slot;
	return x->tier - y->tier;
}

/*
 * The marginal costs of a slot's load L >= 0 as tiers (at most 4, cheapest first), for the
 * greedy flow. The slot's cost as a function of L (slot_cost()) is the infimal convolution of
 * the grid cost (slopes: plain export price over cap - ev, event price over ev, import price
 * over the import cap; from L = -cap) with the free PV (slope 0 over pv): its slopes are those
 * segments merged in order of price. L = 0 lies cap into them: what is left past that are the
 * tiers of a load. Without PV that is the import price over the import cap alone.
 */
static int slot_tiers(const struct sc_plan_slot *sl, int t, struct slot_order *out)
{
	int64_t cap = export_cap(sl), ev = min64(min64(sl->event_export_w, BIG), cap), pe, pp;
	struct slot_order seg[4];
	int n = 0;

	export_prices(sl, &pe, &pp);
	seg[0] = (struct slot_order){.price = pp, .room = cap - ev};
	seg[1] = (struct slot_order){.price = pe, .room = ev};
	seg[2] = (struct slot_order){.price = 0, .room = min64(sl->pv_w, BIG)};
	seg[3] = (struct slot_order){.price = sl->import_fen_per_mwh, .room = import_cap(sl)};
	for (int i = 1; i < 4; i++) /* insertion sort, stable */
		for (int k = i; k > 0 && seg[k].price < seg[k - 1].price; k--) {
			struct slot_order x = seg[k];
			seg[k] = seg[k - 1];
			seg[k - 1] = x;
		}
	for (int i = 0; i < 4; i++) {
		int64_t skip = min64(cap, seg[i].room);
		cap -= skip;
		seg[i].room -= skip;
		if (seg[i].room > 0) {
			seg[i].slot = t;
			seg[i].tier = n;
			out[n++] = seg[i];
		}
	}
	return n;
}

/* Returns 0 optimal, 1 time limit (deadline: a now_mono_s() value), or negative errno. */
static int solve_flow(const struct sc_plan_input *in, const struct nsess *ns, int64_t *pw,
		      double deadline)
{
	struct flow f;
	struct slot_order order[4 * SC_PLAN_MAX_SLOTS];
	size_t S = in->n_sessions;
	int T = in->n_slots, n_order = 0;
	int *deg = NULL, *fill = NULL;
	size_t n_arcs = 0;
	int r = -ENOMEM;

	memset(&f, 0, sizeof(f));
	if (S > (size_t)(INT_MAX / 2) - SC_PLAN_MAX_SLOTS)
		return -EINVAL;
	f.n_nodes = 1 + (int)S + T;
	deg = calloc((size_t)f.n_nodes + 1, sizeof(int));
	fill = calloc((size_t)f.n_nodes + 1, sizeof(int));
	f.first = calloc((size_t)f.n_nodes + 1, sizeof(int));
	f.level = calloc((size_t)f.n_nodes, sizeof(int));
	f.it = calloc((size_t)f.n_nodes, sizeof(int));
	f.queue = calloc((size_t)f.n_nodes, sizeof(int));
	if (!deg || !fill || !f.first || !f.level || !f.it || !f.queue)
		goto out;
	for (size_t s = 0; s < S; s++) {
		int len = ns[s].tgt > ns[s].e0 && ns[s].pc > 0 ? ns[s].dep - ns[s].arr : 0;
		if (len <= 0)
			continue;
		deg[0]++;
		deg[1 + s] += 1 + len;
		for (int t = ns[s].arr; t < ns[s].dep; t++)
			deg[1 + S + (size_t)t]++;
		n_arcs += 2 + 2 * (size_t)len;
	}
	for (int i = 0; i < f.n_nodes; i++)
		f.first[i + 1] = f.first[i] + deg[i];
	f.arcs = calloc(n_arcs ? n_arcs : 1, sizeof(*f.arcs));
	if (!f.arcs)
		goto out;
	memcpy(fill, f.first, sizeof(int) * (size_t)f.n_nodes);
#define ADD_ARC(u, v, c)                                                                           \
	do {                                                                                       \
		int a_ = fill[u]++, b_ = fill[v]++;                                                \
		f.arcs[a_] = (struct arc){.to = (v), .rev = b_, .cap = (c)};                       \
		f.arcs[b_] = (struct arc){.to = (u), .rev = a_, .cap = 0};                         \
	} while (0)
	for (size_t s = 0; s < S; s++) {
		int len = ns[s].tgt > ns[s].e0 && ns[s].pc > 0 ? ns[s].dep - ns[s].arr : 0;
		int u = 1 + (int)s;
		if (len <= 0)
			continue;
		ADD_ARC(0, u, ns[s].tgt - ns[s].e0);
		for (int t = ns[s].arr; t < ns[s].dep; t++)
			ADD_ARC(u, 1 + (int)S + t, ns[s].pc);
	}
#undef ADD_ARC
	for (int t = 0; t < T; t++)
		n_order += slot_tiers(&in->slots[t], t, order + n_order);
	qsort(order, (size_t)n_order, sizeof(order[0]), cmp_slot);
	for (int k = 0; k < n_order; k++) {
		unsigned phases = 0;
		if (now_mono_s() >= deadline) {
			r = 1;
			goto out;
		}
		/* the tier's load goes to its slot's node: the flow into the slot already routed
		 * (its cheaper tiers) stays, as does that of the other slots opened */
		f.target = 1 + (int)S + order[k].slot;
		f.target_room = order[k].room;
		while (f.target_room > 0 && bfs(&f)) {
			int64_t d;
			if ((++phases & 63) == 0 && now_mono_s() >= deadline) {
				r = 1;
				goto out;
			}
			memcpy(f.it, f.first, sizeof(int) * (size_t)f.n_nodes);
			while (f.target_room > 0 && (d = dfs(&f, 0, BIG)) > 0)
				;
		}
	}
	/* the flow on session -> slot arcs is the reverse arcs' capacity */
	for (size_t s = 0; s < S; s++) {
		int u = 1 + (int)s;
		for (int a = f.first[u]; a < f.first[u + 1]; a++) {
			int v = f.arcs[a].to;
			if (v <= (int)S)
				continue;
			pw[s * (size_t)T + (size_t)(v - 1 - (int)S)] = f.arcs[f.arcs[a].rev].cap;
		}
	}
	r = 0;
out:
	free(deg);
	free(fill);
	free(f.first);
	free(f.level);
	free(f.it);
	free(f.queue);
	free(f.arcs);
	return r;
}

/* ---- LP: GLPK, two phases ---- */

#define KW 1000.0 /* LP variables in kW (power) and kW-slots (energy): better scaled than W */

struct lpbuild {
	int *ia, *ja;
	double *ar;
	int n, cap;
};

static int nz(struct lpbuild *b, int i, int j, double v)
{
	if (b->n + 1 >= b->cap) {
		int nc = b->cap ? b->cap * 2 : 4096;
		int *ia = realloc(b->ia, sizeof(int) * (size_t)nc);
		if (!ia)
			return -ENOMEM;
		b->ia = ia;
		int *ja = realloc(b->ja, sizeof(int) * (size_t)nc);
		if (!ja)
			return -ENOMEM;
		b->ja = ja;
		double *ar = realloc(b->ar, sizeof(double) * (size_t)nc);
		if (!ar)
			return -ENOMEM;
		b->ar = ar;
		b->cap = nc;
	}
	b->n++;
	b->ia[b->n] = i;
	b->ja[b->n] = j;
	b->ar[b->n] = v;
	return 0;
}

static void set_bounds(glp_prob *lp, int j, double lo, double hi)
{
	if (hi <= lo)
		glp_set_col_bnds(lp, j, GLP_FX, lo, lo);
	else
		glp_set_col_bnds(lp, j, GLP_DB, lo, hi);
}

/* Returns 0 optimal, 1 time limit, 2 failure, or negative errno. */
/* Returns 0 optimal, 1 time limit (deadline: a now_mono_s() value), 2 failure, or negative
 * errno. */
static int solve_lp(const struct sc_plan_input *in, const struct nsess *ns, int64_t *pw,
		    double deadline)
{
	size_t S = in->n_sessions;
	int T = in->n_slots;
	int *col_c = NULL, *col_d = NULL, *col_e = NULL, *col_short = NULL;
	struct lpbuild b = {0};
	glp_prob *lp = NULL;
	glp_smcp parm;
	int site_row0, ncols = 0, nrows, r = -ENOMEM, rc;
	double z1, tol, need_total = 0;
	int col_imp0, col_ex1_0, col_ex2_0, col_pv0, term = -1;

	col_c = calloc(S * (size_t)T + 1, sizeof(int));
	col_d = calloc(S * (size_t)T + 1, sizeof(int));
	col_e = calloc(S * (size_t)T + 1, sizeof(int));
	col_short = calloc(S + 1, sizeof(int));
	if (!col_c || !col_d || !col_e || !col_short)
		goto out;
	/* glp_scale_prob() and glp_adv_basis() print to the terminal unless told not to (the
	 * setting lives in this thread's GLPK environment; restored below) */
	term = glp_term_out(GLP_OFF);
	lp = glp_create_prob();
	glp_set_obj_dir(lp, GLP_MIN);

	/* rows: per site slot the balance; per session per active slot the continuity; per
	 * session with a need its target row; per slot with an export cap the export split */
	site_row0 = glp_add_rows(lp, T);
	for (int t = 0; t < T; t++)
		glp_set_row_bnds(lp, site_row0 + t, GLP_FX, 0, 0);
	col_imp0 = glp_add_cols(lp, T);
	col_ex1_0 = glp_add_cols(lp, T);
	col_ex2_0 = glp_add_cols(lp, T);
	col_pv0 = glp_add_cols(lp, T);
	ncols = 4 * T;
	for (int t = 0; t < T; t++) {
		const struct sc_plan_slot *sl = &in->slots[t];
		int64_t ex_cap = export_cap(sl);
		set_bounds(lp, col_imp0 + t, 0, (double)import_cap(sl) / KW);
		set_bounds(lp, col_ex1_0 + t, 0, (double)min64(sl->event_export_w, ex_cap) / KW);
		set_bounds(lp, col_ex2_0 + t, 0, (double)ex_cap / KW);
		/* PV used (0 <= u <= pv, free): import >= load - pv, the rest curtailed or
		 * exported */
		set_bounds(lp, col_pv0 + t, 0, (double)sl->pv_w / KW);
		if (nz(&b, site_row0 + t, col_imp0 + t, -1) < 0 ||
		    nz(&b, site_row0 + t, col_pv0 + t, -1) < 0 ||
		    nz(&b, site_row0 + t, col_ex1_0 + t, 1) < 0 ||
		    nz(&b, site_row0 + t, col_ex2_0 + t, 1) < 0)
			goto out;
		if (ex_cap < BIG && min64(sl->event_export_w, ex_cap) > 0) {
			int row = glp_add_rows(lp, 1);
			glp_set_row_bnds(lp, row, GLP_UP, 0, (double)ex_cap / KW);
			if (nz(&b, row, col_ex1_0 + t, 1) < 0 || nz(&b, row, col_ex2_0 + t, 1) < 0)
				goto out;
		}
	}
	for (size_t s = 0; s < S; s++) {
		int prev_e = 0;
		if ((s & 63) == 0 && now_mono_s() >= deadline) {
			r = 1;
			goto out;
		}
		if (ns[s].dep <= ns[s].arr)
			continue;
		for (int t = ns[s].arr; t < ns[s].dep; t++) {
			size_t k = s * (size_t)T + (size_t)t;
			int row = glp_add_rows(lp, 1);
			col_c[k] = glp_add_cols(lp, 1);
			set_bounds(lp, col_c[k], 0, (double)ns[s].pc / KW);
			col_e[k] = glp_add_cols(lp, 1);
			set_bounds(lp, col_e[k], (double)ns[s].lo / KW, (double)ns[s].hi / KW);
			ncols += 2;
			/* e_t - e_{t-1} - c_t + d_t = 0 (e_{arr-1} = e0) */
			glp_set_row_bnds(lp, row, GLP_FX, prev_e ? 0 : (double)ns[s].e0 / KW,
					 prev_e ? 0 : (double)ns[s].e0 / KW);
			if (nz(&b, row, col_e[k], 1) < 0 || nz(&b, row, col_c[k], -1) < 0 ||
			    (prev_e && nz(&b, row, prev_e, -1) < 0) ||
			    nz(&b, site_row0 + t, col_c[k], 1) < 0)
				goto out;
			if (ns[s].pd > 0) {
				col_d[k] = glp_add_cols(lp, 1);
				set_bounds(lp, col_d[k], 0, (double)ns[s].pd / KW);
				ncols++;
				if (nz(&b, row, col_d[k], 1) < 0 ||
				    nz(&b, site_row0 + t, col_d[k], -1) < 0)
					goto out;
			}
			prev_e = col_e[k];
		}
		if (ns[s].tgt > ns[s].lo) {
			/* e_last + short >= tgt, 0 <= short <= tgt - lo (a V2G session that starts
			 * above its target must not end below it either) */
			int row = glp_add_rows(lp, 1);
			col_short[s] = glp_add_cols(lp, 1);
			ncols++;
			set_bounds(lp, col_short[s], 0, (double)(ns[s].tgt - ns[s].lo) / KW);
			glp_set_row_bnds(lp, row, GLP_LO, (double)ns[s].tgt / KW, 0);
			if (nz(&b, row, prev_e, 1) < 0 || nz(&b, row, col_short[s], 1) < 0)
				goto out;
			need_total += (double)(ns[s].tgt - ns[s].lo) / KW;
		}
	}
	nrows = glp_get_num_rows(lp);
	glp_load_matrix(lp, b.n, b.ia, b.ja, b.ar);

	glp_init_smcp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	parm.presolve = GLP_OFF; /* see the top of this file */

	/* phase 1: least total shortfall */
	for (size_t s = 0; s < S; s++)
		if (col_short[s])
			glp_set_obj_coef(lp, col_short[s], 1.0);
	if (now_mono_s() >= deadline) {
		r = 1;
		goto out;
	}
	glp_scale_prob(lp, GLP_SF_AUTO);
	glp_adv_basis(lp, 0);
	/* GLPK's limit is what is left of ours; ours is checked again when it returns */
	parm.tm_lim = ms_left(deadline);
	if (parm.tm_lim <= 0) {
		r = 1;
		goto out;
	}
	rc = glp_simplex(lp, &parm);
	if (rc == GLP_ETMLIM || now_mono_s() >= deadline) {
		r = 1;
		goto out;
	}
	if (rc != 0 || glp_get_status(lp) != GLP_OPT) {
		r = 2;
		goto out;
	}
	z1 = glp_get_obj_val(lp);

	/* phase 2: keep the shortfall, least cost */
	tol = 1e-9 * need_total + 1e-7;
	{
		int row = glp_add_rows(lp, 1);
		int n = 0;
		int *ind = calloc(S + 1, sizeof(int));
		double *val = calloc(S + 1, sizeof(double));
		if (!ind || !val) {
			free(ind);
			free(val);
			goto out;
		}
		for (size_t s = 0; s < S; s++)
			if (col_short[s]) {
				ind[++n] = col_short[s];
				val[n] = 1.0;
				glp_set_obj_coef(lp, col_short[s], 0.0);
			}
		glp_set_mat_row(lp, row, n, ind, val);
		glp_set_row_bnds(lp, row, GLP_UP, 0, z1 + tol);
		free(ind);
		free(val);
		(void)nrows;
	}
	for (int t = 0; t < T; t++) {
		const struct sc_plan_slot *sl = &in->slots[t];
		int64_t pe, pp;
		export_prices(sl, &pe, &pp);
		/* fen per kW-slot = price(fen/MWh) * 1000 W * 1/4 h / 10^6 */
		glp_set_obj_coef(lp, col_imp0 + t, (double)sl->import_fen_per_mwh / 4000.0);
		glp_set_obj_coef(lp, col_ex1_0 + t, -(double)pe / 4000.0);
		glp_set_obj_coef(lp, col_ex2_0 + t, -(double)pp / 4000.0);
	}
	for (size_t k = 0; k < S * (size_t)T; k++)
		if (col_d[k])
			glp_set_obj_coef(lp, col_d[k], (double)in->wear_fen_per_mwh / 4000.0);
	parm.tm_lim = ms_left(deadline);
	if (parm.tm_lim <= 0) {
		r = 1;
		goto out;
	}
	rc = glp_simplex(lp, &parm);
	if (rc == GLP_ETMLIM || now_mono_s() >= deadline) {
		r = 1; /* an answer after the deadline is dropped: GLPK overran its limit */
		goto out;
	}
	if (rc != 0 || glp_get_status(lp) != GLP_OPT) {
		r = 2;
		goto out;
	}

	/* round each session's cumulative stored energy to whole units (W-slots): stays within
	 * the integer bounds lo..hi, and each slot's power moves by less than 1 W */
	for (size_t s = 0; s < S; s++) {
		int64_t prev = ns[s].e0;
		for (int t = ns[s].arr; t < ns[s].dep; t++) {
			size_t k = s * (size_t)T + (size_t)t;
			int64_t e = llround(glp_get_col_prim(lp, col_e[k]) * KW);
			if (e < ns[s].lo)
				e = ns[s].lo;
			if (e > ns[s].hi)
				e = ns[s].hi;
			pw[k] = e - prev;
			prev = e;
		}
	}
	r = 0;
out:
	if (lp)
		glp_delete_prob(lp);
	if (term >= 0)
		glp_term_out(term);
	free(b.ia);
	free(b.ja);
	free(b.ar);
	free(col_c);
	free(col_d);
	free(col_e);
	free(col_short);
	(void)ncols;
	return r;
}

/* ---- MCF: min-cost flow on the time-expanded network (primal network simplex) ---- */

/*
 * Nodes: the grid G; per slot the site node; per slot with a session that may discharge (or
 * PV) an export node X; per session that may discharge one energy node per slot in [arr, dep) (the
 * stored energy at the end of that slot); per session its departure node D. Arcs (cost per
 * unit, bounds):
 *   G -> site_t           import: the slot's import price, the import cap (event included)
 *   G -> site_t           PV (where the slot has some): 0, pv_w (a surplus can go on to X_t)
 *   site_t -> X_t         export: 0, the export cap
 *   X_t -> G              two parallel arcs: -(event price) up to event_export_w, -(export
 *                         price) up to the cap
 *   site_t -> E(s,t)      charge: 0, max_charge
 *   E(s,t) -> site_t      discharge: wear, max_discharge
 *   E(s,t) -> E(s,t+1)    carry: 0, [lo, hi] (the floor is a lower bound)
 *   E(s,dep-1) -> D(s)    the same
 *   G -> D(s)             shortfall: M, up to tgt - lo
 *   D(s) -> G             stored energy above the target: 0, up to hi - tgt
 * Supplies: E(s,arr) gets e0, D(s) asks tgt, G balances. A session that cannot discharge keeps
 * no chain: its stored energy only grows, so only the end bounds matter and its charge arcs go
 * straight to D(s) (which then also gets e0). M is larger than the cost of any simple path from
 * G to D(s) that avoids G (one grid arc, plus wear on at most one discharge arc per slot), so a
 * unit of shortfall is taken only where no path can deliver it: the optimum is the
 * lexicographic one (max delivered, then least cost), as the LP's two phases find it.
 *
 * Why our own solver: GLPK's RELAX-IV (glp_mincost_relax4) is disabled in Debian's libglpk
 * ("temporarily disabled due to licensing problems": it aborts the process), and its
 * out-of-kilter code (glp_mincost_okalg) took 1.2-2 s for 100 sessions, 20 s+ for 1,000. This
 * is the textbook primal network simplex (Ahuja, Magnanti, Orlin ch. 11; the leaving-arc rule
 * of LEMON's NetworkSimplex, which keeps the tree strongly feasible, so it does not cycle) with
 * block search pricing, in int64 on exact integer data (W-slots and fen/MWh), and it checks our
 * wall-clock limit every 256 pivots.
 */

#define NS_INF ((int64_t)1 << 60)

static int64_t abs64(int64_t a)
{
	return a < 0 ? -a : a;
}

struct ns {
	int n, m;	/* nodes (root = n), arcs (artificial ones from m - n) */
	int *src, *dst; /* [m] */
	int64_t *cap, *cost, *flow;
	signed char *state; /* [m]: 1 at lower bound, -1 at upper, 0 in the tree */
	int64_t *supply;    /* [n + 1] */
	int64_t *pi;
	int *parent, *pred, *depth, *child, *sib, *psib;
	signed char *dir; /* [n + 1]: 1 pred arc points to the parent, -1 from it */
	int *stack;
	int m_cap;
};

static void ns_free(struct ns *g)
{
	free(g->src);
	free(g->dst);
	free(g->cap);
	free(g->cost);
	free(g->flow);
	free(g->state);
	free(g->supply);
	free(g->pi);
	free(g->parent);
	free(g->pred);
	free(g->depth);
	free(g->child);
	free(g->sib);
	free(g->psib);
	free(g->dir);
	free(g->stack);
}

static int ns_init(struct ns *g, int n, int m_max)
{
	size_t na = (size_t)m_max + (size_t)n, nn = (size_t)n + 1;

	memset(g, 0, sizeof(*g));
	g->n = n;
	g->m_cap = (int)na;
	g->src = malloc(na * sizeof(int));
	g->dst = malloc(na * sizeof(int));
	g->cap = malloc(na * sizeof(int64_t));
	g->cost = malloc(na * sizeof(int64_t));
	g->flow = calloc(na, sizeof(int64_t));
	g->state = malloc(na);
	g->supply = calloc(nn, sizeof(int64_t));
	g->pi = calloc(nn, sizeof(int64_t));
	g->parent = malloc(nn * sizeof(int));
	g->pred = malloc(nn * sizeof(int));
	g->depth = malloc(nn * sizeof(int));
	g->child = malloc(nn * sizeof(int));
	g->sib = malloc(nn * sizeof(int));
	g->psib = malloc(nn * sizeof(int));
	g->dir = malloc(nn);
	g->stack = malloc(nn * sizeof(int));
	if (!g->src || !g->dst || !g->cap || !g->cost || !g->flow || !g->state || !g->supply ||
	    !g->pi || !g->parent || !g->pred || !g->depth || !g->child || !g->sib || !g->psib ||
	    !g->dir || !g->stack) {
		ns_free(g);
		return -ENOMEM;
	}
	return 0;
}

/* An arc with bounds [low, cap]; the lower bound moves into the supplies. Returns its index. */
static int ns_arc(struct ns *g, int u, int v, int64_t low, int64_t cap, int64_t cost)
{
	int e = g->m++;

	assert(g->m <= g->m_cap - g->n);
	g->src[e] = u;
	g->dst[e] = v;
	g->cap[e] = cap - low;
	g->cost[e] = cost;
	g->supply[u] -= low;
	g->supply[v] += low;
	return e;
}

static void child_del(struct ns *g, int x)
{
	int p = g->parent[x];
	if (g->psib[x] >= 0)
		g->sib[g->psib[x]] = g->sib[x];
	else
		g->child[p] = g->sib[x];
	if (g->sib[x] >= 0)
		g->psib[g->sib[x]] = g->psib[x];
}

static void child_add(struct ns *g, int p, int x)
{
	g->parent[x] = p;
	g->psib[x] = -1;
	g->sib[x] = g->child[p];
	if (g->child[p] >= 0)
		g->psib[g->child[p]] = x;
	g->child[p] = x;
}

/* depth and potential of the subtree under x from its parent's */
static void ns_relabel(struct ns *g, int x)
{
	int sp = 0;

	g->stack[sp++] = x;
	while (sp) {
		int u = g->stack[--sp], p = g->parent[u], e = g->pred[u];
		g->depth[u] = g->depth[p] + 1;
		g->pi[u] = g->dir[u] > 0 ? g->pi[p] - g->cost[e] : g->pi[p] + g->cost[e];
		for (int c = g->child[u]; c >= 0; c = g->sib[c])
			g->stack[sp++] = c;
	}
}

/* Returns 0 optimal, 1 time limit, 2 infeasible (an artificial arc keeps flow). */
static int ns_solve(struct ns *g, double deadline)
{
	int n = g->n, root = n, m0 = g->m, m, block, next = 0;
	int64_t maxc = 0, art;
	long pivots = 0;

	for (int e = 0; e < m0; e++) {
		int64_t c = g->cost[e] < 0 ? -g->cost[e] : g->cost[e];
		if (c > maxc)
			maxc = c;
		g->flow[e] = 0;
		g->state[e] = 1;
	}
	art = (maxc + 1) * (int64_t)(n + 1);
	/* the initial tree: every node hangs from the root by an artificial arc */
	g->depth[root] = 0;
	g->pi[root] = 0;
	g->child[root] = -1;
	g->parent[root] = -1;
	for (int u = n - 1; u >= 0; u--) {
		int e = g->m++;
		g->child[u] = -1;
		child_add(g, root, u);
		g->pred[u] = e;
		g->cap[e] = NS_INF;
		g->state[e] = 0;
		g->depth[u] = 1;
		if (g->supply[u] >= 0) {
			g->src[e] = u;
			g->dst[e] = root;
			g->flow[e] = g->supply[u];
			g->cost[e] = 0;
			g->dir[u] = 1;
			g->pi[u] = 0;
		} else {
			g->src[e] = root;
			g->dst[e] = u;
			g->flow[e] = -g->supply[u];
			g->cost[e] = art;
			g->dir[u] = -1;
			g->pi[u] = art;
		}
	}
	m = g->m;
	block = 64;
	while ((long)block * block < m)
		block++;
	if (block < 10)
		block = 10;

	for (;;) {
		int in = -1, first, second, join, u_out = -1, side = 0, a, b;
		int64_t best = 0, delta, val;

		/* block search: the most violating arc of the first block that has one */
		for (int cnt = 0, k = 0; k < m; k++) {
			int e = next;
			int64_t v;
			next = next + 1 == m ? 0 : next + 1;
			v = g->state[e] * (g->cost[e] + g->pi[g->src[e]] - g->pi[g->dst[e]]);
			if (v < best) {
				best = v;
				in = e;
			}
			if (++cnt == block) {
				if (in >= 0)
					break;
				cnt = 0;
			}
		}
		if (in < 0)
			break;
		if ((++pivots & 255) == 0 && now_mono_s() >= deadline)
			return 1;
		if (g->state[in] > 0) {
			first = g->src[in];
			second = g->dst[in];
		} else {
			first = g->dst[in];
			second = g->src[in];
		}
		a = first;
		b = second;
		while (a != b) {
			if (g->depth[a] > g->depth[b])
				a = g->parent[a];
			else if (g->depth[a] < g->depth[b])
				b = g->parent[b];
			else {
				a = g->parent[a];
				b = g->parent[b];
			}
		}
		join = a;
		delta = g->cap[in];
		for (int u = first; u != join; u = g->parent[u]) {
			int e = g->pred[u];
			int64_t d = g->dir[u] < 0 ? g->cap[e] - g->flow[e] : g->flow[e];
			if (d < delta) {
				delta = d;
				u_out = u;
				side = 1;
			}
		}
		for (int u = second; u != join; u = g->parent[u]) {
			int e = g->pred[u];
			int64_t d = g->dir[u] > 0 ? g->cap[e] - g->flow[e] : g->flow[e];
			if (d <= delta) {
				delta = d;
				u_out = u;
				side = 2;
			}
		}
		if (delta >= NS_INF)
			return 2; /* an uncapacitated negative cycle: cannot happen here */
		val = g->state[in] * delta;
		if (delta) {
			g->flow[in] += val;
			/* val is signed: walk from the arc's own ends */
			for (int u = g->src[in]; u != join; u = g->parent[u])
				g->flow[g->pred[u]] -= g->dir[u] * val;
			for (int u = g->dst[in]; u != join; u = g->parent[u])
				g->flow[g->pred[u]] += g->dir[u] * val;
		}
		if (!side) {
			g->state[in] = (signed char)-g->state[in];
			continue;
		}
		/* re-hang: the subtree cut off at u_out holds x0 (first or second); reverse the
		 * path x0 .. u_out and hang x0 from the other end of the entering arc */
		{
			int x0 = side == 1 ? first : second, y = side == 1 ? second : first;
			int out_arc = g->pred[u_out];
			int prev = y, prev_arc = in, x = x0;

			g->state[out_arc] = g->flow[out_arc] == 0 ? 1 : -1;
			g->state[in] = 0;
			for (;;) {
				int up = g->parent[x], up_arc = g->pred[x];
				bool last = x == u_out;
				child_del(g, x);
				child_add(g, prev, x);
				g->pred[x] = prev_arc;
				g->dir[x] = g->src[prev_arc] == x ? 1 : -1;
				if (last)
					break;
				prev = x;
				prev_arc = up_arc;
				x = up;
			}
			ns_relabel(g, x0);
		}
	}
	for (int e = m0; e < m; e++)
		if (g->flow[e] != 0)
			return 2;
	return 0;
}

/* Returns 0 optimal, 1 time limit, 2 failure, or negative errno. */
static int solve_mcf(const struct sc_plan_input *in, const struct nsess *ns, int64_t *pw,
		     double deadline)
{
	size_t S = in->n_sessions;
	int T = in->n_slots, *ac = NULL, *ad = NULL, *d_of = NULL, n_nodes, m_max, r;
	int64_t pmax = 0, bigm, *act_c = NULL, *act_d = NULL;
	struct ns g;

	memset(&g, 0, sizeof(g));
	if (S > (size_t)(INT_MAX / 8) / (size_t)(3 * T + 3))
		return -EINVAL; /* node and arc indices are ints */
	act_c = calloc((size_t)T, sizeof(*act_c));
	act_d = calloc((size_t)T, sizeof(*act_d));
	d_of = calloc(S ? S : 1, sizeof(*d_of));
	ac = malloc((S * (size_t)T + 1) * sizeof(*ac));
	ad = malloc((S * (size_t)T + 1) * sizeof(*ad));
	r = -ENOMEM;
	if (!act_c || !act_d || !d_of || !ac || !ad)
		goto out;
	for (size_t k = 0; k < S * (size_t)T; k++)
		ac[k] = ad[k] = -1;
	/* nodes: 0 = G, 1..T = site, T+1..2T = export, then per session its slots and D */
	n_nodes = 1 + 2 * T;
	m_max = 5 * T;
	for (size_t s = 0; s < S; s++) {
		int len = ns[s].dep - ns[s].arr;
		if (len <= 0)
			continue;
		if (ns[s].pd > 0)
			n_nodes += len;
		d_of[s] = n_nodes++;
		m_max += 3 * len + 2;
		for (int t = ns[s].arr; t < ns[s].dep; t++) {
			act_c[t] += ns[s].pc;
			act_d[t] += ns[s].pd;
		}
	}
	for (int t = 0; t < T; t++) {
		const struct sc_plan_slot *sl = &in->slots[t];
		int64_t pe, pp;
		export_prices(sl, &pe, &pp);
		pmax = abs64(sl->import_fen_per_mwh) > pmax ? abs64(sl->import_fen_per_mwh) : pmax;
		if (act_d[t] > 0 || sl->pv_w > 0)
			pmax = abs64(pe) > pmax ? (abs64(pp) > abs64(pe) ? abs64(pp) : abs64(pe))
						: (abs64(pp) > pmax ? abs64(pp) : pmax);
	}
	/* int64 headroom: costs times (nodes + 1) (the artificial arcs) times the flows */
	r = 2;
	if (pmax > ((int64_t)1 << 40) || in->wear_fen_per_mwh > ((int64_t)1 << 30))
		goto out;
	bigm = pmax + (int64_t)T * in->wear_fen_per_mwh + 1;
	r = ns_init(&g, n_nodes, m_max);
	if (r < 0)
		goto out;
	for (int t = 0; t < T; t++) {
		const struct sc_plan_slot *sl = &in->slots[t];
		int64_t imp = min64(import_cap(sl), act_c[t]), pv = sl->pv_w;
		if (imp > 0)
			ns_arc(&g, 0, 1 + t, 0, imp, sl->import_fen_per_mwh);
		/* PV: a free source beside the grid; its surplus may leave by the export arcs */
		if (pv > 0)
			ns_arc(&g, 0, 1 + t, 0, pv, 0);
		if (act_d[t] > 0 || pv > 0) {
			int64_t ex = min64(export_cap(sl), act_d[t] + pv), pe, pp;
			int64_t ev = min64(sl->event_export_w, ex);
			export_prices(sl, &pe, &pp);
			if (ex > 0) {
				ns_arc(&g, 1 + t, 1 + T + t, 0, ex, 0);
				if (ev > 0)
					ns_arc(&g, 1 + T + t, 0, 0, ev, -pe);
				ns_arc(&g, 1 + T + t, 0, 0, ex, -pp);
			}
		}
	}
	for (size_t s = 0; s < S; s++) {
		const struct nsess *n = &ns[s];
		int64_t tgt = n->tgt > n->lo ? n->tgt : n->lo;
		int d = d_of[s], len = n->dep - n->arr;
		if (len <= 0)
			continue;
		g.supply[d] -= tgt;
		g.supply[0] += tgt - n->e0;
		if (n->pd > 0) {
			int v0 = d - len;
			g.supply[v0] += n->e0;
			for (int t = n->arr; t < n->dep; t++) {
				int v = v0 + (t - n->arr);
				size_t k = s * (size_t)T + (size_t)t;
				if (n->pc > 0)
					ac[k] = ns_arc(&g, 1 + t, v, 0, n->pc, 0);
				ad[k] = ns_arc(&g, v, 1 + t, 0, n->pd, in->wear_fen_per_mwh);
				ns_arc(&g, v, v + 1, n->lo, n->hi,
				       0); /* v + 1 = D after the last */
			}
		} else {
			/* charge only: the stored energy grows, only its end bounds matter */
			g.supply[d] += n->e0;
			if (n->pc > 0)
				for (int t = n->arr; t < n->dep; t++)
					ac[s * (size_t)T + (size_t)t] =
					    ns_arc(&g, 1 + t, d, 0, n->pc, 0);
		}
		if (tgt > n->lo)
			ns_arc(&g, 0, d, 0, tgt - n->lo, bigm);
		if (n->hi > tgt)
			ns_arc(&g, d, 0, 0, n->hi - tgt, 0);
	}
	r = ns_solve(&g, deadline);
	if (r != 0)
		goto out;
	for (size_t k = 0; k < S * (size_t)T; k++)
		pw[k] = (ac[k] >= 0 ? g.flow[ac[k]] : 0) - (ad[k] >= 0 ? g.flow[ad[k]] : 0);
out:
	ns_free(&g);
	free(act_c);
	free(act_d);
	free(d_of);
	free(ac);
	free(ad);
	return r;
}

/* The plan keeps every bound (a check on RELAX-IV's answer and on our rounding). */
static bool plan_feasible(const struct sc_plan_input *in, const struct nsess *ns, const int64_t *pw)
{
	size_t S = in->n_sessions;
	int T = in->n_slots;

	for (int t = 0; t < T; t++) {
		int64_t net = 0;
		for (size_t s = 0; s < S; s++)
			net += pw[s * (size_t)T + (size_t)t];
		if (net - in->slots[t].pv_w > import_cap(&in->slots[t]) ||
		    -net > export_cap(&in->slots[t]))
			return false;
	}
	for (size_t s = 0; s < S; s++) {
		int64_t e = ns[s].e0;
		for (int t = 0; t < T; t++) {
			int64_t p = pw[s * (size_t)T + (size_t)t];
			if (p == 0)
				continue;
			if (t < ns[s].arr || t >= ns[s].dep || p > ns[s].pc || -p > ns[s].pd)
				return false;
			e += p;
			if (e < ns[s].lo || e > ns[s].hi)
				return false;
		}
	}
	return true;
}

int sc_plan_solve(const struct sc_plan_input *in, struct sc_plan_result *ret)
{
	struct sc_plan_result r;
	struct nsess *ns;
	enum sc_plan_method m = in->method;
	int limit_ms = in->time_limit_ms > 0 ? in->time_limit_ms : 10000;
	double deadline = now_mono_s() + limit_ms / 1000.0;
	int rc;

	ns = calloc(in->n_sessions ? in->n_sessions : 1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	rc = in->method == SC_PLAN_METHOD_IMMEDIATE ? -EINVAL : normalise(in, ns);
	if (rc < 0)
		goto out;
	if (m == SC_PLAN_METHOD_AUTO) {
		m = SC_PLAN_METHOD_FLOW;
		for (size_t s = 0; s < in->n_sessions; s++)
			if (ns[s].pd > 0)
				m = SC_PLAN_METHOD_MCF;
	}
	if (m == SC_PLAN_METHOD_FLOW)
		for (size_t s = 0; s < in->n_sessions; s++)
			if (ns[s].pd > 0) {
				rc = -EINVAL; /* the flow method cannot discharge */
				goto out;
			}
	rc = result_alloc(in, &r);
	if (rc < 0)
		goto out;
	r.method = m;
	r.status = SC_PLAN_OPTIMAL;
	if (m == SC_PLAN_METHOD_FLOW) {
		rc = solve_flow(in, ns, r.power_w, deadline);
	} else if (m == SC_PLAN_METHOD_MCF) {
		rc = solve_mcf(in, ns, r.power_w, deadline);
		if (rc == 0 && !plan_feasible(in, ns, r.power_w))
			rc = 2;
		if (rc == 2 && in->method == SC_PLAN_METHOD_AUTO) {
			/* a failure of the network simplex (or a wrong answer): the LP, in what is
			 * left of the time */
			memset(r.power_w, 0,
			       sizeof(int64_t) * in->n_sessions * (size_t)in->n_slots);
			r.method = SC_PLAN_METHOD_LP;
			rc = solve_lp(in, ns, r.power_w, deadline);
		}
	} else {
		rc = solve_lp(in, ns, r.power_w, deadline);
	}
	if (rc == 1 && in->method == SC_PLAN_METHOD_AUTO && m != SC_PLAN_METHOD_FLOW) {
		/* a V2G solve out of time: the charging-only flow (exact without discharge, fast),
		 * on a deadline of its own, flagged TIME_LIMIT */
		int fb_ms = limit_ms / 4 > FALLBACK_MIN_MS ? limit_ms / 4 : FALLBACK_MIN_MS;
		memset(r.power_w, 0, sizeof(int64_t) * in->n_sessions * (size_t)in->n_slots);
		r.method = SC_PLAN_METHOD_FLOW;
		rc = solve_flow(in, ns, r.power_w, now_mono_s() + fb_ms / 1000.0);
		if (rc == 0) {
			r.status = SC_PLAN_TIME_LIMIT;
			finish(in, ns, &r);
			*ret = r;
			goto out;
		}
	}
	if (rc < 0) {
		sc_plan_result_release(&r);
		goto out;
	}
	if (rc > 0) {
		r.status = rc == 1 ? SC_PLAN_TIME_LIMIT : SC_PLAN_FAILED;
		r.method = SC_PLAN_METHOD_IMMEDIATE;
		memset(r.power_w, 0, sizeof(int64_t) * in->n_sessions * (size_t)in->n_slots);
		immediate_fill(in, ns, r.power_w);
		rc = 0;
	}
	finish(in, ns, &r);
	*ret = r;
out:
	free(ns);
	return rc;
}

int sc_plan_slots_from_tariff(const struct tariff_calendar *cal, int64_t start_ms, int n_slots,
			      struct sc_plan_slot *slots)
{
	for (int t = 0; t < n_slots; t++) {
		struct tariff_point p;
		int r = tariff_calendar_at(cal, start_ms + t * SC_PLAN_SLOT_MS, &p);
		if (r < 0)
			return r;
		slots[t].import_fen_per_mwh = p.import_fen_per_mwh;
		slots[t].export_fen_per_mwh = p.export_fen_per_mwh;
	}
	return 0;
}
