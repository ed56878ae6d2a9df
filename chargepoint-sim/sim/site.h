/* SPDX-License-Identifier: MIT */
/* Site kinds (public, residential, rural, swap): hardware defaults, EV arrivals and EVs drawn. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ev.h"

enum cpsim_kind {
	CPSIM_KIND_PUBLIC,
	CPSIM_KIND_RESIDENTIAL,
	CPSIM_KIND_RURAL,
	CPSIM_KIND_SWAP,
	_CPSIM_KIND_MAX,
	_CPSIM_KIND_INVALID = -22,
};

struct cpsim_kind_info {
	const char *name;    /* "public", as in the CSMS import files */
	char letter;	     /* in charger ids: SIM-P-000001 */
	unsigned connectors; /* default connectors (swap: rack slots) */
	double power_kw;     /* default per-connector hardware limit */
	bool dc;	     /* DC: amps convert at 400 V single "phase" */
	unsigned phases;     /* AC phases */
	double v2g_share;    /* default share of EVs that allow discharging */
	bool bidirectional;  /* the hardware can discharge */
	unsigned per_site;   /* chargers per site */
};

/* The table row of k (k must be valid). */
const struct cpsim_kind_info *cpsim_kind_info(enum cpsim_kind k);
const char *cpsim_kind_name(enum cpsim_kind k);
/* -EINVAL for an unknown name. */
int cpsim_kind_from_name(const char *name);

/* ---------------------------------------------------------------- random numbers */

/* splitmix64: a tiny deterministic generator, one 8-byte state per charger. */
uint64_t cpsim_rng_next(uint64_t *state);
/* Uniform in [0, 1). */
double cpsim_rng_unit(uint64_t *state);
/* Uniform in [a, b). */
double cpsim_rng_range(uint64_t *state, double a, double b);
/* Exponential with the given mean. */
double cpsim_rng_exp(uint64_t *state, double mean);
/* Seed for charger `index` of a run seeded with `seed`. */
uint64_t cpsim_rng_seed(uint64_t seed, uint32_t index);

/* ---------------------------------------------------------------- local time */

/*
** The sites' UTC offset in minutes east of UTC (+480 for a city on UTC+08:00). Arrivals and
** departures follow local time of day: residential EVs come home 17:00-21:00 local time. One
** value for the whole process (a fleet lives in one time zone; worker processes inherit it
** across fork); 0 until set. -EINVAL, and nothing changes, outside -14:00..+14:00.
*/
int cpsim_site_set_utc_offset(int minutes);
int cpsim_site_utc_offset(void);

/* Milliseconds since local midnight at simulated instant ms (UTC ms since the epoch). */
int64_t cpsim_site_time_of_day(int64_t ms);

/* ---------------------------------------------------------------- arrivals */

/*
** The simulated time (ms since the epoch, UTC) at which the next EV plugs in at a
** connector of kind k, strictly after after_ms; day patterns in local time (above). first: the start of the run (staggers
** connectors so they do not all arrive at once). For swap stations this is the next
** vehicle at the station, not per slot.
*/
int64_t cpsim_site_next_arrival(enum cpsim_kind k, uint64_t *rng, int64_t after_ms, bool first);

/*
** Draw the EV that arrives at arrival_ms at kind k: battery, SoC, limits, V2G (with
** probability v2g_share), and its departure time (simulated ms). For swap stations the
** "EV" is a depleted battery pack put into a rack slot; departure is 0 (it stays until
** full and swapped out).
*/
void cpsim_site_draw_ev(enum cpsim_kind k, uint64_t *rng, int64_t arrival_ms, double v2g_share,
			struct cpsim_ev *ret_ev, int64_t *ret_departure_ms);
