/* SPDX-License-Identifier: MIT */
/* The EV model: a battery with state of charge that charges or discharges under a power limit. */
#pragma once

#include <stdbool.h>

struct cpsim_ev {
	double capacity_wh;	/* usable battery energy, > 0 */
	double soc;		/* state of charge, 0..1 */
	double target_soc;	/* charging stops here (0..1) */
	double min_soc;		/* discharging (V2G) stops here (0..1) */
	double max_charge_w;	/* the EV's own charging limit, >= 0 */
	double max_discharge_w; /* the EV's own discharging limit, >= 0; used only when v2g */
	bool v2g;		/* the driver allows discharging */
};

/* What one step moved: energy in Wh (both >= 0, at most one non-zero) and mean power. */
struct cpsim_ev_flow {
	double import_wh; /* grid -> EV */
	double export_wh; /* EV -> grid */
	double mean_w;	  /* signed mean power over the step: + charging, - discharging */
};

/*
** The power the EV draws right now when the charger offers limit_w (W, signed: > 0 charge
** up to limit_w, < 0 discharge up to -limit_w). Charging stops at target_soc; discharging
** needs v2g and stops at min_soc; a negative limit without v2g gives 0 (the EV idles).
** Returns signed watts.
*/
double cpsim_ev_power(const struct cpsim_ev *ev, double limit_w);

/*
** Advance ev by dt_s seconds under a constant offer limit_w. The power is
** cpsim_ev_power() at the start of the step, and the energy is clipped so that the SoC
** stops exactly at target_soc (charging) or min_soc (discharging): energy and SoC stay
** consistent (delta SoC * capacity == import - export) whatever the step size.
** Writes the step's flow into *ret (may be NULL). dt_s <= 0 moves nothing.
*/
void cpsim_ev_step(struct cpsim_ev *ev, double limit_w, double dt_s, struct cpsim_ev_flow *ret);

/* Energy still needed to reach target_soc, in Wh (0 when at or above it). */
double cpsim_ev_energy_needed_wh(const struct cpsim_ev *ev);
