/* SPDX-License-Identifier: MIT */
/* The site planner: least-cost charging (and V2G) schedules in 15-minute slots, solved exactly. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tariff_calendar;

#define SC_PLAN_SLOT_MS	  (15 * 60 * 1000LL)
#define SC_PLAN_MAX_SLOTS 192 /* 48 h */
#define SC_PLAN_NO_LIMIT  INT64_MAX

/*
 * Units. Power in W; a slot is 15 minutes, so P W held for one slot is P/4 Wh. Energies in Wh.
 * Prices in fen per MWh (as in tariff.h). Slots are indexed 0..n_slots-1 from the plan's start;
 * the caller turns instants into slots (the planner reads no clock).
 *
 * A session's battery: with capacity_wh > 0 the stored energy starts at energy_now_wh, must stay
 * within [min(floor_wh, energy_now_wh), capacity_wh] at every slot end and should reach
 * target_wh by its departure. With capacity_wh == 0 (the EV told us only what it still needs)
 * the planner counts from 0: target_wh is the energy still needed, the floor is 0 and the stored
 * energy never exceeds target_wh. Charging and discharging are lossless in this model.
 */
struct sc_plan_session {
	int64_t max_charge_w;	 /* >= 0 */
	int64_t max_discharge_w; /* >= 0; used only when v2g */
	int64_t capacity_wh;	 /* 0 = unknown */
	int64_t energy_now_wh;
	int64_t target_wh;
	int64_t floor_wh;
	int arrival_slot;   /* first slot it may draw power in */
	int departure_slot; /* first slot it is gone; it draws power in [arrival, departure) */
	bool v2g;
};

struct sc_plan_slot {
	int64_t
	    import_limit_w; /* site grid limit on import = load - PV (SC_PLAN_NO_LIMIT = none) */
	int64_t export_limit_w;	    /* SC_PLAN_NO_LIMIT = none */
	int64_t import_fen_per_mwh; /* may be negative */
	int64_t export_fen_per_mwh; /* clamped to import price: no arbitrage across one meter */
	int64_t event_import_cap_w; /* grid event: import at most this (-1 = no event) */
	int64_t event_export_w;	    /* grid event: export of up to this is asked (0 = none) */
	int64_t event_bonus_fen_per_mwh; /* paid on exported energy up to event_export_w */
	int64_t pv_w; /* local PV forecast: free supply in this slot, >= 0 (0 = none) */
};

enum sc_plan_method {
	SC_PLAN_METHOD_AUTO, /* FLOW when no session may discharge, else MCF (LP if MCF cannot) */
	SC_PLAN_METHOD_LP,   /* GLPK simplex, two phases: the reference */
	SC_PLAN_METHOD_FLOW, /* greedy max flow by price; no discharge */
	SC_PLAN_METHOD_MCF,  /* min-cost flow on the time-expanded network (network simplex) */
	SC_PLAN_METHOD_IMMEDIATE, /* a result's only: the "immediately" plan (time-out, failure) */
};

struct sc_plan_input {
	size_t n_sessions;
	const struct sc_plan_session *sessions;
	int n_slots; /* 1..SC_PLAN_MAX_SLOTS */
	const struct sc_plan_slot *slots;
	int64_t wear_fen_per_mwh; /* battery-wear cost per discharged MWh */
	int time_limit_ms; /* our wall-clock deadline per sc_plan_solve(), every method; 0 = 10 s */
	enum sc_plan_method method;
};

enum sc_plan_status {
	SC_PLAN_OPTIMAL,    /* the lexicographic optimum (max delivered, then least cost) */
	SC_PLAN_TIME_LIMIT, /* the deadline passed: the plan is the charging-only flow's (AUTO with
			     * discharge) or the "immediately" one (method says which) */
	SC_PLAN_FAILED,	    /* the solver failed: the plan is the "immediately" one */
	_SC_PLAN_STATUS_MAX,
	_SC_PLAN_STATUS_INVALID = -EINVAL,
};

struct sc_plan_result {
	enum sc_plan_status status;
	enum sc_plan_method method; /* the one whose plan this is */
	int n_slots;
	size_t n_sessions;
	int64_t *power_w;      /* [session * n_slots + slot], negative = discharge */
	int64_t *shortfall_wh; /* [session]: target not reached by departure, >= 0 */
	bool *short_flag;      /* [session]: shortfall_wh > 0 */
	int64_t cost_fen;      /* of power_w, as sc_plan_cost_fen() computes it */
	int64_t delivered_wh;  /* sum of min(stored at departure, target) - min(start, target) */
};

const char *sc_plan_status_to_string(enum sc_plan_status s);

/* Plan one site. On success *ret is filled and owns its arrays (free with
 * sc_plan_result_release()). A need that cannot be met is not an error (see shortfall_wh); a
 * solver that fails or runs out of time_limit_ms is not an error either (status says so; the
 * plan is the charging-only flow's when an AUTO solve with discharge ran out of time and the
 * flow finished on its own deadline, else the "immediately" baseline: method says which).
 * Returns 0, -EINVAL on inconsistent input (a slot out of range, negative power, a floor above
 * capacity, method IMMEDIATE ...), or -ENOMEM. No globals of ours (GLPK's environment: see
 * planner.c); the only clock read is the monotonic one of the deadline. */
int sc_plan_solve(const struct sc_plan_input *in, struct sc_plan_result *ret);

/* The "charge immediately" baseline: each session, in input order, takes in every slot from its
 * arrival as much as its power limit, its remaining need and the remaining site limit allow; no
 * discharge. Same ownership and errors as sc_plan_solve(). */
int sc_plan_immediate(const struct sc_plan_input *in, struct sc_plan_result *ret);

/* Free the arrays of a result. NULL-safe, idempotent. */
void sc_plan_result_release(struct sc_plan_result *r);

/* Cost of a schedule power_w[session * n_slots + slot] in fen: per slot the site's net import
 * at the import price, minus the net export at the export price and the event bonus, plus wear
 * on each session's discharge; summed exactly (in units of 1/4 W * fen/MWh) and rounded half
 * away from zero once. With PV in a slot the sessions' load L is met by PV first (free): the
 * import is max(0, L - pv_w) and the rest of the PV is exported (at the export price, the
 * event's first, within export_limit_w) or curtailed, whichever costs less. */
int64_t sc_plan_cost_fen(const struct sc_plan_input *in, const int64_t *power_w);

/* Fill slots[0..n_slots) prices from a calendar, slot 0 starting at start_ms. Limits and events
 * are left alone. Returns 0 or -ENOENT where the calendar has no version. */
int sc_plan_slots_from_tariff(const struct tariff_calendar *cal, int64_t start_ms, int n_slots,
			      struct sc_plan_slot *slots);
