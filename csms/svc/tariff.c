/* SPDX-License-Identifier: MIT */
/* Time-of-use tariff calendars: validation, compilation to a 15-minute grid, and lookup. */
#include "tariff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (86400 * 1000LL)

static const char *const tier_names[_TARIFF_TIER_MAX] = {
    [TARIFF_TIER_DEEP_VALLEY] = "deep_valley",
    [TARIFF_TIER_VALLEY] = "valley",
    [TARIFF_TIER_FLAT] = "flat",
    [TARIFF_TIER_PEAK] = "peak",
    [TARIFF_TIER_CRITICAL_PEAK] = "critical_peak",
};

static const char *const wd_names[8] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

const char *tariff_tier_to_string(enum tariff_tier t)
{
	if ((int)t < 0 || t >= _TARIFF_TIER_MAX)
		return NULL;
	return tier_names[t];
}

enum tariff_tier tariff_tier_from_string(const char *s)
{
	if (!s)
		return _TARIFF_TIER_INVALID;
	for (int i = 0; i < _TARIFF_TIER_MAX; i++)
		if (strcmp(s, tier_names[i]) == 0)
			return (enum tariff_tier)i;
	return _TARIFF_TIER_INVALID;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 to civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *ret_y, int *ret_m, int *ret_d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = (int)(y + (m <= 2));
	*ret_m = (int)m;
	*ret_d = (int)d;
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tariff_calendar_local_midnight(const struct tariff_calendar *cal, int year, int month, int day,
				   int64_t *ret_ms)
{
	static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month < 1 || month > 12 || day < 1 || year < 1970 || year > 9999)
		return -EINVAL;
	if (day > mdays[month] + (month == 2 && leap(year)))
		return -EINVAL;
	*ret_ms = days_from_civil(year, month, day) * DAY_MS - cal->utc_offset_min * 60000LL;
	return 0;
}

int64_t tariff_calendar_day_start(const struct tariff_calendar *cal, int64_t t_ms)
{
	int64_t off = cal->utc_offset_min * 60000LL;
	return floor_div(t_ms + off, DAY_MS) * DAY_MS - off;
}

struct tariff_calendar *tariff_calendar_create(const char *id, int utc_offset_min)
{
	struct tariff_calendar *cal;

	if (utc_offset_min % TARIFF_SLOT_MIN != 0 || utc_offset_min < -14 * 60 ||
	    utc_offset_min > 14 * 60)
		return NULL;
	cal = calloc(1, sizeof(*cal));
	if (!cal)
		return NULL;
	snprintf(cal->id, sizeof(cal->id), "%s", id ? id : "");
	cal->utc_offset_min = utc_offset_min;
	return cal;
}

void tariff_calendar_destroy(struct tariff_calendar *cal)
{
	if (!cal)
		return;
	free(cal->versions);
	free(cal);
}

static void hhmm(char buf[6], int slot)
{
	int min = slot * TARIFF_SLOT_MIN;
	snprintf(buf, 6, "%02d:%02d", (min / 60) % 100, min % 60);
}

static void fail_msg(char *reterr_msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_msg(char *reterr_msg, const char *fmt, ...)
{
	va_list ap;

	if (!reterr_msg)
		return;
	va_start(ap, fmt);
	vsnprintf(reterr_msg, TARIFF_ERR_MAX, fmt, ap);
	va_end(ap);
}

static int check_prices(const struct tariff_prices *p, char *reterr_msg)
{
	for (int i = 0; i < _TARIFF_TIER_MAX; i++) {
		int64_t v = p->import_fen_per_mwh[i];
		if (v < 0 || v > TARIFF_PRICE_MAX) {
			fail_msg(reterr_msg, "prices.import.%s: %s price %lld", tier_names[i],
				 v < 0 ? "negative" : "implausible", (long long)v);
			return -EINVAL;
		}
	}
	if (p->export_fen_per_mwh < 0 || p->export_fen_per_mwh > TARIFF_PRICE_MAX) {
		fail_msg(reterr_msg, "prices.export: %s price %lld",
			 p->export_fen_per_mwh < 0 ? "negative" : "implausible",
			 (long long)p->export_fen_per_mwh);
		return -EINVAL;
	}
	if (p->service_fen_per_mwh < 0 || p->service_fen_per_mwh > TARIFF_PRICE_MAX) {
		fail_msg(reterr_msg, "prices.service: %s price %lld",
			 p->service_fen_per_mwh < 0 ? "negative" : "implausible",
			 (long long)p->service_fen_per_mwh);
		return -EINVAL;
	}
	return 0;
}

/* Owner of each slot during validation: period * TARIFF_MAX_WINDOWS + window, or -1. */
struct owner_grid {
	int16_t o[12][7][TARIFF_SLOTS_PER_DAY];
};

int tariff_version_validate(const struct tariff_version *v, char reterr_msg[TARIFF_ERR_MAX],
			    uint8_t (*ret_grid)[7][TARIFF_SLOTS_PER_DAY])
{
	struct owner_grid *g = NULL;
	bool any_weekday = false;
	char at[6];
	int r;

	r = check_prices(&v->prices, reterr_msg);
	if (r < 0)
		return r;
	if (v->n_periods == 0 || v->n_periods > TARIFF_MAX_PERIODS) {
		fail_msg(reterr_msg, "periods: %zu periods (1..%d)", v->n_periods,
			 TARIFF_MAX_PERIODS);
		return -EINVAL;
	}
	for (size_t p = 0; p < v->n_periods; p++) {
		const struct tariff_period *pe = &v->periods[p];
		if (pe->months == 0 || (pe->months & ~TARIFF_ALL_MONTHS)) {
			fail_msg(reterr_msg, "periods[%zu].months: empty or not within 1..12", p);
			return -EINVAL;
		}
		if (pe->weekdays & ~TARIFF_ALL_WEEKDAYS) {
			fail_msg(reterr_msg, "periods[%zu].weekdays: not within 1..7", p);
			return -EINVAL;
		}
		if (pe->weekdays)
			any_weekday = true;
		if (pe->n_windows == 0 || pe->n_windows > TARIFF_MAX_WINDOWS) {
			fail_msg(reterr_msg, "periods[%zu].windows: %zu windows (1..%d)", p,
				 pe->n_windows, TARIFF_MAX_WINDOWS);
			return -EINVAL;
		}
		for (size_t w = 0; w < pe->n_windows; w++) {
			const struct tariff_window *wi = &pe->windows[w];
			if (wi->tier < 0 || wi->tier >= _TARIFF_TIER_MAX) {
				fail_msg(reterr_msg, "periods[%zu].windows[%zu]: unknown tier", p,
					 w);
				return -EINVAL;
			}
			if (wi->from_min % TARIFF_SLOT_MIN || wi->to_min % TARIFF_SLOT_MIN ||
			    wi->from_min >= 1440 || wi->to_min > 1440 || wi->to_min == 0 ||
			    wi->from_min == wi->to_min) {
				fail_msg(reterr_msg,
					 "periods[%zu].windows[%zu]: bad times (quarter hours, "
					 "00:00 <= from < 24:00, 00:15 <= to <= 24:00, from != to)",
					 p, w);
				return -EINVAL;
			}
		}
	}

	g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	memset(g, 0xff, sizeof(*g));
	r = -EINVAL;
	for (size_t p = 0; p < v->n_periods; p++) {
		const struct tariff_period *pe = &v->periods[p];
		uint8_t wds = pe->weekdays ? pe->weekdays : TARIFF_ALL_WEEKDAYS;
		for (size_t w = 0; w < pe->n_windows; w++) {
			const struct tariff_window *wi = &pe->windows[w];
			int from = wi->from_min / TARIFF_SLOT_MIN,
			    to = wi->to_min / TARIFF_SLOT_MIN;
			int len = to > from ? to - from : TARIFF_SLOTS_PER_DAY - from + to;
			for (int m = 1; m <= 12; m++) {
				if (!(pe->months & (1u << m)))
					continue;
				for (int d = 1; d <= 7; d++) {
					if (!(wds & (1u << d)))
						continue;
					for (int k = 0; k < len; k++) {
						int s = (from + k) % TARIFF_SLOTS_PER_DAY;
						int16_t *o = &g->o[m - 1][d - 1][s];
						if (*o >= 0) {
							hhmm(at, s);
							fail_msg(
							    reterr_msg,
							    "periods[%zu].windows[%zu]: overlaps "
							    "periods[%d].windows[%d] in month "
							    "%d%s%s%s"
							    " at %s",
							    p, w, *o / TARIFF_MAX_WINDOWS,
							    *o % TARIFF_MAX_WINDOWS, m,
							    any_weekday ? " (" : "",
							    any_weekday ? wd_names[d] : "",
							    any_weekday ? ")" : "", at);
							goto out;
						}
						*o = (int16_t)(p * TARIFF_MAX_WINDOWS + w);
					}
				}
			}
		}
	}
	for (int m = 0; m < 12; m++)
		for (int d = 0; d < 7; d++)
			for (int s = 0; s < TARIFF_SLOTS_PER_DAY; s++) {
				if (g->o[m][d][s] >= 0)
					continue;
				hhmm(at, s);
				fail_msg(reterr_msg, "month %d%s%s%s: no window covers %s", m + 1,
					 any_weekday ? " (" : "",
					 any_weekday ? wd_names[d + 1] : "", any_weekday ? ")" : "",
					 at);
				goto out;
			}
	if (ret_grid)
		for (int m = 0; m < 12; m++)
			for (int d = 0; d < 7; d++)
				for (int s = 0; s < TARIFF_SLOTS_PER_DAY; s++) {
					int o = g->o[m][d][s];
					ret_grid[m][d][s] =
					    (uint8_t)v->periods[o / TARIFF_MAX_WINDOWS]
						.windows[o % TARIFF_MAX_WINDOWS]
						.tier;
				}
	r = 0;
out:
	free(g);
	return r;
}

int tariff_calendar_add_version(struct tariff_calendar *cal, const struct tariff_version *v,
				char reterr_msg[TARIFF_ERR_MAX])
{
	struct tariff_version *nv;
	size_t i;
	int r;

	if ((v->valid_from_ms + cal->utc_offset_min * 60000LL) % TARIFF_SLOT_MS != 0) {
		fail_msg(reterr_msg, "valid_from: not on a quarter hour");
		return -EINVAL;
	}
	nv = malloc(sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*nv = *v;
	r = tariff_version_validate(v, reterr_msg, nv->grid);
	if (r < 0)
		goto out;
	for (i = 0; i < cal->n_versions; i++)
		if (cal->versions[i].valid_from_ms >= v->valid_from_ms)
			break;
	if (i < cal->n_versions && cal->versions[i].valid_from_ms == v->valid_from_ms) {
		cal->versions[i] = *nv;
		goto out;
	}
	if (cal->n_versions >= TARIFF_MAX_VERSIONS) {
		fail_msg(reterr_msg, "versions: more than %d", TARIFF_MAX_VERSIONS);
		r = -E2BIG;
		goto out;
	}
	{
		struct tariff_version *a =
		    realloc(cal->versions, (cal->n_versions + 1) * sizeof(*a));
		if (!a) {
			r = -ENOMEM;
			goto out;
		}
		cal->versions = a;
	}
	memmove(&cal->versions[i + 1], &cal->versions[i],
		(cal->n_versions - i) * sizeof(*cal->versions));
	cal->versions[i] = *nv;
	cal->n_versions++;
out:
	free(nv);
	return r;
}

static int find_version(const struct tariff_calendar *cal, int64_t t_ms, size_t *ret)
{
	size_t lo = 0, hi = cal->n_versions;

	/* last version with valid_from <= t */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cal->versions[mid].valid_from_ms <= t_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	*ret = lo - 1;
	return 0;
}

int tariff_calendar_at(const struct tariff_calendar *cal, int64_t t_ms, struct tariff_point *ret)
{
	const struct tariff_version *v;
	int64_t local = t_ms + cal->utc_offset_min * 60000LL;
	int64_t day = floor_div(local, DAY_MS);
	int y, m, d, wd, slot;
	size_t vi;
	int r;

	r = find_version(cal, t_ms, &vi);
	if (r < 0)
		return r;
	v = &cal->versions[vi];
	civil_from_days(day, &y, &m, &d);
	wd = (int)floor_div(day + 3, 7);
	wd = (int)(day + 3 - (int64_t)wd * 7); /* 0 = Monday: 1970-01-01 was a Thursday */
	slot = (int)((local - day * DAY_MS) / TARIFF_SLOT_MS);
	ret->tier = (enum tariff_tier)v->grid[m - 1][wd][slot];
	ret->import_fen_per_mwh = v->prices.import_fen_per_mwh[ret->tier];
	ret->export_fen_per_mwh = v->prices.export_fen_per_mwh;
	ret->service_fen_per_mwh = v->prices.service_fen_per_mwh;
	ret->version = vi;
	return 0;
}

int tariff_calendar_next_boundary(const struct tariff_calendar *cal, int64_t t_ms, int64_t *ret_ms)
{
	struct tariff_point p0, p;
	int64_t off = cal->utc_offset_min * 60000LL;
	int64_t t;
	int r;

	r = tariff_calendar_at(cal, t_ms, &p0);
	if (r < 0)
		return r;
	/* windows and versions start on local quarter hours (add_version refuses others) */
	t = floor_div(t_ms + off, TARIFF_SLOT_MS) * TARIFF_SLOT_MS - off + TARIFF_SLOT_MS;
	for (int64_t n = 0; n < 400LL * TARIFF_SLOTS_PER_DAY; n++, t += TARIFF_SLOT_MS) {
		r = tariff_calendar_at(cal, t, &p);
		if (r < 0)
			return r;
		if (p.tier != p0.tier || p.import_fen_per_mwh != p0.import_fen_per_mwh ||
		    p.export_fen_per_mwh != p0.export_fen_per_mwh ||
		    p.service_fen_per_mwh != p0.service_fen_per_mwh) {
			*ret_ms = t;
			return 0;
		}
	}
	return -ENOENT;
}
