/* SPDX-License-Identifier: MIT */
/* Site-kind behaviour: when EVs come and go, and which EVs, by local time of day. */
#include "site.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define MIN_MS	(60LL * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS	(24 * HOUR_MS)

static const struct cpsim_kind_info kinds[_CPSIM_KIND_MAX] = {
    [CPSIM_KIND_PUBLIC] = {"public", 'P', 2, 150.0, true, 1, 0.0, false, 4},
    [CPSIM_KIND_RESIDENTIAL] = {"residential", 'R', 1, 7.4, false, 1, 0.3, true, 1},
    [CPSIM_KIND_RURAL] = {"rural", 'U', 2, 22.0, false, 3, 0.0, false, 2},
    [CPSIM_KIND_SWAP] = {"swap", 'W', 12, 60.0, true, 1, 0.0, false, 1},
};

const struct cpsim_kind_info *cpsim_kind_info(enum cpsim_kind k)
{
	return &kinds[k];
}

const char *cpsim_kind_name(enum cpsim_kind k)
{
	return (unsigned)k < _CPSIM_KIND_MAX ? kinds[k].name : NULL;
}

int cpsim_kind_from_name(const char *name)
{
	for (int k = 0; name && k < _CPSIM_KIND_MAX; k++)
		if (!strcmp(name, kinds[k].name))
			return k;
	return -EINVAL;
}

uint64_t cpsim_rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

double cpsim_rng_unit(uint64_t *s)
{
	return (double)(cpsim_rng_next(s) >> 11) * 0x1.0p-53;
}

double cpsim_rng_range(uint64_t *s, double a, double b)
{
	return a + (b - a) * cpsim_rng_unit(s);
}

double cpsim_rng_exp(uint64_t *s, double mean)
{
	return -mean * log(1.0 - cpsim_rng_unit(s));
}

uint64_t cpsim_rng_seed(uint64_t seed, uint32_t index)
{
	uint64_t s = seed ^ ((uint64_t)index * UINT64_C(0xd1342543de82ef95));

	(void)cpsim_rng_next(&s);
	return s;
}

#define UTC_OFFSET_MAX_MIN (14 * 60)

/* minutes east of UTC of every site in this process (a fleet lives in one time zone) */
static int utc_offset_min;

int cpsim_site_set_utc_offset(int minutes)
{
	if (minutes < -UTC_OFFSET_MAX_MIN || minutes > UTC_OFFSET_MAX_MIN)
		return -EINVAL;
	utc_offset_min = minutes;
	return 0;
}

int cpsim_site_utc_offset(void)
{
	return utc_offset_min;
}

int64_t cpsim_site_time_of_day(int64_t ms)
{
	int64_t t = (ms + utc_offset_min * MIN_MS) % DAY_MS;

	return t < 0 ? t + DAY_MS : t;
}

/* Public chargers are busy by day and quiet at night: mean gap by hour. */
static double public_gap_mean_ms(int64_t t)
{
	int64_t h = cpsim_site_time_of_day(t) / HOUR_MS;

	if (h >= 23 || h < 6)
		return 150.0 * MIN_MS;
	if ((h >= 7 && h < 9) || (h >= 16 && h < 19))
		return 25.0 * MIN_MS;
	return 45.0 * MIN_MS;
}

/*
** Share of residential EVs already plugged in when a run starts at t: a quarter by day (as
** ever), most of them overnight (they came home in the evening, 21:00-06:30 local time), and
** in between through the evening arrivals.
*/
static double home_at_start(int64_t t)
{
	int64_t tod = cpsim_site_time_of_day(t);

	if (tod >= 21 * HOUR_MS || tod < 6 * HOUR_MS + 30 * MIN_MS)
		return 0.8;
	if (tod >= 17 * HOUR_MS)
		return 0.25 + 0.55 * (double)(tod - 17 * HOUR_MS) / (double)(4 * HOUR_MS);
	return 0.25;
}

int64_t cpsim_site_next_arrival(enum cpsim_kind k, uint64_t *rng, int64_t after_ms, bool first)
{
	int64_t day, t;

	switch (k) {
	case CPSIM_KIND_RESIDENTIAL:
		/* evenings 17:00-21:00; at the start of a run a share are already home */
		if (first && cpsim_rng_unit(rng) < home_at_start(after_ms))
			return after_ms + (int64_t)cpsim_rng_range(rng, 1000, 10 * MIN_MS);
		day = after_ms - cpsim_site_time_of_day(after_ms);
		t = day + 17 * HOUR_MS + (int64_t)cpsim_rng_range(rng, 0, 4 * HOUR_MS);
		if (t <= after_ms)
			t += DAY_MS;
		return t;
	case CPSIM_KIND_RURAL:
		return after_ms + 1 +
		       (int64_t)cpsim_rng_exp(rng, first ? 60.0 * MIN_MS : 240.0 * MIN_MS);
	case CPSIM_KIND_SWAP:
		return after_ms + 1 + (int64_t)cpsim_rng_exp(rng, 15.0 * MIN_MS);
	case CPSIM_KIND_PUBLIC:
	default:
		return after_ms + 1 +
		       (int64_t)cpsim_rng_exp(rng,
					      first ? 10.0 * MIN_MS : public_gap_mean_ms(after_ms));
	}
}

void cpsim_site_draw_ev(enum cpsim_kind k, uint64_t *rng, int64_t arrival_ms, double v2g_share,
			struct cpsim_ev *ret_ev, int64_t *ret_departure_ms)
{
	struct cpsim_ev ev = {0};
	int64_t dep = 0, day;

	switch (k) {
	case CPSIM_KIND_RESIDENTIAL:
		ev.capacity_wh = cpsim_rng_range(rng, 40e3, 82e3);
		ev.soc = cpsim_rng_range(rng, 0.2, 0.6);
		ev.target_soc = cpsim_rng_range(rng, 0.8, 1.0);
		ev.max_charge_w = cpsim_rng_unit(rng) < 0.5 ? 7400 : 11000;
		ev.max_discharge_w = 7400;
		/* leaves 06:30-08:30 the next morning (the same morning when plugged in after
		 * midnight, as at the start of a run at night) */
		day = arrival_ms - cpsim_site_time_of_day(arrival_ms);
		if (cpsim_site_time_of_day(arrival_ms) >= 6 * HOUR_MS)
			day += DAY_MS;
		dep =
		    day + 6 * HOUR_MS + 30 * MIN_MS + (int64_t)cpsim_rng_range(rng, 0, 2 * HOUR_MS);
		if (dep - arrival_ms > 20 * HOUR_MS)
			dep = arrival_ms + (int64_t)cpsim_rng_range(rng, 8 * HOUR_MS, 14 * HOUR_MS);
		break;
	case CPSIM_KIND_RURAL:
		ev.capacity_wh = cpsim_rng_range(rng, 40e3, 80e3);
		ev.soc = cpsim_rng_range(rng, 0.1, 0.5);
		ev.target_soc = cpsim_rng_range(rng, 0.8, 0.95);
		ev.max_charge_w = cpsim_rng_unit(rng) < 0.5 ? 11000 : 22000;
		ev.max_discharge_w = 11000;
		dep = arrival_ms + (int64_t)cpsim_rng_range(rng, 1 * HOUR_MS, 3 * HOUR_MS);
		break;
	case CPSIM_KIND_SWAP:
		ev.capacity_wh = cpsim_rng_range(rng, 60e3, 75e3);
		ev.soc = cpsim_rng_range(rng, 0.08, 0.3);
		ev.target_soc = 0.95;
		ev.max_charge_w = 30000;
		dep = 0;
		break;
	case CPSIM_KIND_PUBLIC:
	default:
		ev.capacity_wh = cpsim_rng_range(rng, 40e3, 100e3);
		ev.soc = cpsim_rng_range(rng, 0.1, 0.4);
		ev.target_soc = 0.8;
		ev.max_charge_w = cpsim_rng_range(rng, 50e3, 150e3);
		ev.max_discharge_w = 0;
		dep = arrival_ms + (int64_t)cpsim_rng_range(rng, 20 * MIN_MS, 50 * MIN_MS);
		break;
	}
	ev.min_soc = 0.3 < ev.soc ? 0.3 : ev.soc;
	ev.v2g = kinds[k].bidirectional && cpsim_rng_unit(rng) < v2g_share;
	*ret_ev = ev;
	*ret_departure_ms = dep;
}
