/* SPDX-License-Identifier: MIT */
/* EV battery integration: piecewise-constant power, energy clipped at the SoC bounds. */
#include "ev.h"

#include <math.h>

/* Below this much energy (Wh) a battery counts as at its bound: avoids endless tiny steps. */
#define EPS_WH 1e-6

double cpsim_ev_power(const struct cpsim_ev *ev, double limit_w)
{
	double p;

	if (!(ev->capacity_wh > 0) || !isfinite(limit_w) || limit_w == 0)
		return 0;
	if (limit_w > 0) {
		if ((ev->target_soc - ev->soc) * ev->capacity_wh <= EPS_WH)
			return 0;
		p = limit_w < ev->max_charge_w ? limit_w : ev->max_charge_w;
		return p > 0 ? p : 0;
	}
	if (!ev->v2g || (ev->soc - ev->min_soc) * ev->capacity_wh <= EPS_WH)
		return 0;
	p = -limit_w < ev->max_discharge_w ? -limit_w : ev->max_discharge_w;
	return p > 0 ? -p : 0;
}

void cpsim_ev_step(struct cpsim_ev *ev, double limit_w, double dt_s, struct cpsim_ev_flow *ret)
{
	struct cpsim_ev_flow f = {0, 0, 0};
	double p, e, room;

	if (dt_s > 0 && (p = cpsim_ev_power(ev, limit_w)) != 0) {
		e = p * dt_s / 3600.0;
		if (e > 0) {
			room = (ev->target_soc - ev->soc) * ev->capacity_wh;
			if (e >= room) {
				e = room;
				ev->soc = ev->target_soc;
			} else {
				ev->soc += e / ev->capacity_wh;
			}
			f.import_wh = e;
		} else {
			room = (ev->soc - ev->min_soc) * ev->capacity_wh;
			if (-e >= room) {
				e = -room;
				ev->soc = ev->min_soc;
			} else {
				ev->soc += e / ev->capacity_wh;
			}
			f.export_wh = -e;
		}
		f.mean_w = e * 3600.0 / dt_s;
	}
	if (ret)
		*ret = f;
}

double cpsim_ev_energy_needed_wh(const struct cpsim_ev *ev)
{
	double e = (ev->target_soc - ev->soc) * ev->capacity_wh;

	return e > 0 ? e : 0;
}
