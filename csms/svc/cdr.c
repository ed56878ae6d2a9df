/* SPDX-License-Identifier: MIT */
/* Charge detail records: interpolate register samples across tariff boundaries, then price. */
#include "cdr.h"

#include <string.h>

#define DAY_MS (86400 * 1000LL)

typedef void piece_fn(void *ctx, const struct tariff_point *p, int64_t wh);

static int64_t round_half_up_div(__int128 num, int64_t den)
{
	/* num >= 0, den > 0 */
	return (int64_t)((num * 2 + den) / ((__int128)den * 2));
}

/* Interpolated register at t within [t0, t1]. */
static int64_t reg_at(const struct tariff_sample *s0, const struct tariff_sample *s1, int64_t t)
{
	int64_t dt = s1->t_ms - s0->t_ms;
	if (t >= s1->t_ms)
		return s1->wh;
	return s0->wh + round_half_up_div((__int128)(s1->wh - s0->wh) * (t - s0->t_ms), dt);
}

static int check_samples(const struct tariff_sample *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (s[i].t_ms < s[i - 1].t_ms || s[i].wh < s[i - 1].wh)
			return -EINVAL;
	return 0;
}

/* Call fn for every piece of energy within [from_ms, to_ms) that lies in one quarter hour. */
static int split(const struct tariff_calendar *cal, const struct tariff_sample *s, size_t n,
		 int64_t from_ms, int64_t to_ms, piece_fn *fn, void *ctx)
{
	struct tariff_point p;
	int r;

	for (size_t i = 1; i < n; i++) {
		const struct tariff_sample *s0 = &s[i - 1], *s1 = &s[i];
		int64_t a, end;

		if (s1->wh == s0->wh)
			continue;
		if (s1->t_ms == s0->t_ms) {
			/* a step at one instant: all of it in the tier of that instant */
			if (s0->t_ms < from_ms || s0->t_ms >= to_ms)
				continue;
			r = tariff_calendar_at(cal, s0->t_ms, &p);
			if (r < 0)
				return r;
			fn(ctx, &p, s1->wh - s0->wh);
			continue;
		}
		a = s0->t_ms > from_ms ? s0->t_ms : from_ms;
		end = s1->t_ms < to_ms ? s1->t_ms : to_ms;
		while (a < end) {
			int64_t off = cal->utc_offset_min * 60000LL;
			int64_t q = a + off;
			int64_t b = q - (((q % TARIFF_SLOT_MS) + TARIFF_SLOT_MS) % TARIFF_SLOT_MS) +
				    TARIFF_SLOT_MS - off;
			int64_t wh;
			if (b > end)
				b = end;
			wh = reg_at(s0, s1, b) - reg_at(s0, s1, a);
			if (wh) {
				r = tariff_calendar_at(cal, a, &p);
				if (r < 0)
					return r;
				fn(ctx, &p, wh);
			}
			a = b;
		}
	}
	return 0;
}

struct cdr_acc {
	__int128 import_ufen[_TARIFF_TIER_MAX];
	__int128 export_ufen;
	__int128 service_ufen;
	int64_t import_wh[_TARIFF_TIER_MAX];
	int64_t export_wh;
};

static void acc_import(void *ctx, const struct tariff_point *p, int64_t wh)
{
	struct cdr_acc *a = ctx;
	a->import_wh[p->tier] += wh;
	a->import_ufen[p->tier] += (__int128)wh * p->import_fen_per_mwh;
	a->service_ufen += (__int128)wh * p->service_fen_per_mwh;
}

static void acc_export(void *ctx, const struct tariff_point *p, int64_t wh)
{
	struct cdr_acc *a = ctx;
	a->export_wh += wh;
	a->export_ufen += (__int128)wh * p->export_fen_per_mwh;
}

int tariff_cdr_compute(const struct tariff_calendar *cal, const struct tariff_sample *imp,
		       size_t n_imp, const struct tariff_sample *exp, size_t n_exp,
		       struct tariff_cdr *ret)
{
	struct cdr_acc a;
	struct tariff_cdr c;
	int r;

	if (check_samples(imp, n_imp) < 0 || check_samples(exp, n_exp) < 0)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	r = split(cal, imp, n_imp, INT64_MIN, INT64_MAX, acc_import, &a);
	if (r < 0)
		return r;
	r = split(cal, exp, n_exp, INT64_MIN, INT64_MAX, acc_export, &a);
	if (r < 0)
		return r;
	memset(&c, 0, sizeof(c));
	for (int i = 0; i < _TARIFF_TIER_MAX; i++) {
		c.import_wh[i] = a.import_wh[i];
		c.import_wh_total += a.import_wh[i];
		c.import_fen[i] = round_half_up_div(a.import_ufen[i], 1000000);
		c.import_fen_total += c.import_fen[i];
	}
	c.export_wh = a.export_wh;
	c.export_fen = round_half_up_div(a.export_ufen, 1000000);
	c.service_fen = round_half_up_div(a.service_ufen, 1000000);
	c.total_fen = c.import_fen_total + c.service_fen - c.export_fen;
	*ret = c;
	return 0;
}

void tariff_day_init(struct tariff_day *day, const struct tariff_calendar *cal, int64_t t_ms)
{
	memset(day, 0, sizeof(*day));
	day->day_start_ms = tariff_calendar_day_start(cal, t_ms);
}

int tariff_day_add(struct tariff_day *day, const struct tariff_calendar *cal,
		   const struct tariff_sample *imp, size_t n_imp, const struct tariff_sample *exp,
		   size_t n_exp)
{
	struct cdr_acc a;
	int64_t end = day->day_start_ms + DAY_MS;
	int r;

	if (check_samples(imp, n_imp) < 0 || check_samples(exp, n_exp) < 0)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	r = split(cal, imp, n_imp, day->day_start_ms, end, acc_import, &a);
	if (r < 0)
		return r;
	r = split(cal, exp, n_exp, day->day_start_ms, end, acc_export, &a);
	if (r < 0)
		return r;
	for (int i = 0; i < _TARIFF_TIER_MAX; i++) {
		day->import_wh[i] += a.import_wh[i];
		day->import_wh_total += a.import_wh[i];
	}
	day->export_wh += a.export_wh;
	return 0;
}

int tariff_day_valley_share_bp(const struct tariff_day *day)
{
	int64_t v = day->import_wh[TARIFF_TIER_DEEP_VALLEY] + day->import_wh[TARIFF_TIER_VALLEY];

	if (day->import_wh_total <= 0)
		return 0;
	return (int)round_half_up_div((__int128)v * 10000, day->import_wh_total);
}
