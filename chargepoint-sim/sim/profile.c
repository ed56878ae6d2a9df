/* SPDX-License-Identifier: MIT */
/* Charging-profile storage, per-profile evaluation, the stacking rules and composite schedules. */
#include "profile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS	(86400LL * 1000)
#define WEEK_MS (7 * DAY_MS)

static int cmp_period(const void *a, const void *b)
{
	const struct cpsim_period *x = a, *y = b;

	return (x->start_s > y->start_s) - (x->start_s < y->start_s);
}

static void profile_release(struct cpsim_profile *p)
{
	free(p->periods);
	memset(p, 0, sizeof(*p));
}

int cpsim_profiles_install(struct cpsim_profiles **set, struct cpsim_profile *p)
{
	struct cpsim_profiles *s = *set;
	unsigned i, slot;

	if (!p->nperiods || p->nperiods > CPSIM_PERIODS_MAX || !p->periods ||
	    p->purpose >= _CPSIM_PP_MAX || p->kind >= _CPSIM_PK_MAX || p->recur > CPSIM_RC_WEEKLY ||
	    (p->kind == CPSIM_PK_RECURRING && p->recur == CPSIM_RC_NONE))
		return -EINVAL;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		*set = s;
	}
	slot = s->count;
	for (i = 0; i < s->count; i++) {
		const struct cpsim_profile *q = &s->p[i];

		if (q->id == p->id || (q->connector == p->connector && q->purpose == p->purpose &&
				       q->stack == p->stack)) {
			slot = i;
			break;
		}
	}
	if (slot == s->cap) { /* a new one, no room: grow (few chargers hold many) */
		unsigned cap = s->cap ? 2 * s->cap : 4;
		struct cpsim_profile *a;

		if (cap > CPSIM_PROFILES_MAX)
			cap = CPSIM_PROFILES_MAX;
		a = cap > s->cap ? realloc(s->p, cap * sizeof(*a)) : NULL;
		if (!a) {
			if (!s->count) {
				free(s->p);
				free(s);
				*set = NULL;
			}
			return cap > s->cap ? -ENOMEM : -ENOSPC;
		}
		memset(a + s->cap, 0, (cap - s->cap) * sizeof(*a));
		s->p = a;
		s->cap = cap;
	}
	qsort(p->periods, p->nperiods, sizeof(*p->periods), cmp_period);
	if (slot < s->count)
		profile_release(&s->p[slot]);
	else
		s->count++;
	s->p[slot] = *p;
	/* a second profile with the same id elsewhere in the set (replaced by stack) goes too */
	for (i = 0; i < s->count; i++) {
		if (i != slot && s->p[i].id == p->id) {
			profile_release(&s->p[i]);
			s->p[i] = s->p[--s->count];
			break;
		}
	}
	memset(p, 0, sizeof(*p));
	return 0;
}

static bool filter_match(const struct cpsim_profile *p, const struct cpsim_profile_filter *f)
{
	if (!f)
		return true;
	if (f->has_id && p->id != f->id)
		return false;
	if (f->has_connector && p->connector != f->connector)
		return false;
	if (f->has_purpose && p->purpose != (unsigned)f->purpose)
		return false;
	if (f->has_stack && p->stack != f->stack)
		return false;
	return true;
}

unsigned cpsim_profiles_clear(struct cpsim_profiles **set, const struct cpsim_profile_filter *f)
{
	struct cpsim_profiles *s = *set;
	unsigned i = 0, n = 0;

	if (!s)
		return 0;
	while (i < s->count) {
		if (filter_match(&s->p[i], f)) {
			profile_release(&s->p[i]);
			s->p[i] = s->p[--s->count];
			memset(&s->p[s->count], 0, sizeof(s->p[0]));
			n++;
		} else {
			i++;
		}
	}
	if (!s->count) {
		free(s->p);
		free(s);
		*set = NULL;
	}
	return n;
}

void cpsim_profiles_free(struct cpsim_profiles *set)
{
	if (!set)
		return;
	for (unsigned i = 0; i < set->count; i++)
		free(set->p[i].periods);
	free(set->p);
	free(set);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static double to_watts(const struct cpsim_profile *p, const struct cpsim_period *per,
		       const struct cpsim_limit_ctx *ctx)
{
	unsigned phases = per->phases ? per->phases : ctx->phases;

	if (!p->amps)
		return per->limit;
	return (double)per->limit * ctx->volts * (phases ? phases : 1);
}

/* floor division for possibly negative numerators */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool cpsim_profile_eval(const struct cpsim_profile *p, const struct cpsim_limit_ctx *ctx, int64_t t,
			double *ret_w, int64_t *ret_next)
{
	int64_t next = INT64_MAX, start, off_ms, rep = 0, end;
	unsigned i;

	if (t < p->valid_from_ms) {
		if (ret_next)
			*ret_next = p->valid_from_ms;
		return false;
	}
	if (t >= p->valid_to_ms) {
		if (ret_next)
			*ret_next = INT64_MAX;
		return false;
	}
	next = p->valid_to_ms;

	switch (p->kind) {
	case CPSIM_PK_RELATIVE:
		start = ctx && ctx->tx_active ? ctx->tx_start_ms : t;
		break;
	case CPSIM_PK_RECURRING:
		rep = p->recur == CPSIM_RC_WEEKLY ? WEEK_MS : DAY_MS;
		start = p->start_ms + floor_div(t - p->start_ms, rep) * rep;
		next = min64(next, start + rep);
		break;
	default:
		start = p->start_ms;
		break;
	}
	off_ms = t - start;
	end = p->duration_s > 0 ? start + (int64_t)p->duration_s * 1000 : INT64_MAX;
	if (rep && end > start + rep)
		end = start + rep;
	if (t >= end || off_ms < (int64_t)p->periods[0].start_s * 1000) {
		if (t < end)
			next = min64(next, start + (int64_t)p->periods[0].start_s * 1000);
		if (ret_next)
			*ret_next = next;
		return false;
	}
	for (i = 0; i + 1 < p->nperiods && (int64_t)p->periods[i + 1].start_s * 1000 <= off_ms; i++)
		;
	if (i + 1 < p->nperiods)
		next = min64(next, start + (int64_t)p->periods[i + 1].start_s * 1000);
	next = min64(next, end);
	if (ret_w)
		*ret_w = to_watts(p, &p->periods[i], ctx);
	if (ret_next)
		*ret_next = next;
	return true;
}

/*
** Highest stack level in force among the profiles accepted by `want`; *ret_found says
** whether any was. Every examined profile lowers *next.
*/
static double best_of(const struct cpsim_profiles *set, const struct cpsim_limit_ctx *ctx,
		      int64_t t, unsigned purpose, int connector, bool *ret_found, int64_t *next)
{
	double best = INFINITY, w;
	int32_t best_stack = INT32_MIN;
	int64_t n;

	*ret_found = false;
	for (unsigned i = 0; set && i < set->count; i++) {
		const struct cpsim_profile *p = &set->p[i];

		if (p->purpose != purpose ||
		    (connector >= 0 && p->connector != (unsigned)connector))
			continue;
		if (purpose == CPSIM_PP_TX &&
		    (!ctx->tx_active || (p->tx_key && p->tx_key != ctx->tx_key)))
			continue;
		if (cpsim_profile_eval(p, ctx, t, &w, &n)) {
			if (p->stack > best_stack) {
				best_stack = p->stack;
				best = w;
				*ret_found = true;
			}
		}
		if (n < *next)
			*next = n;
	}
	return best;
}

double cpsim_profiles_station_w(const struct cpsim_profiles *set, const struct cpsim_limit_ctx *ctx,
				int64_t t, int64_t *ret_next)
{
	int64_t next = INT64_MAX;
	bool found;
	double w = best_of(set, ctx, t, CPSIM_PP_STATION_MAX, 0, &found, &next);

	if (ret_next)
		*ret_next = next;
	return found ? w : INFINITY;
}

double cpsim_profiles_connector_w(const struct cpsim_profiles *set,
				  const struct cpsim_limit_ctx *ctx, int64_t t, int64_t *ret_next)
{
	int64_t next = INT64_MAX;
	bool found;
	double w, ext;

	w = best_of(set, ctx, t, CPSIM_PP_TX, (int)ctx->connector, &found, &next);
	if (!found) {
		w = best_of(set, ctx, t, CPSIM_PP_TX_DEFAULT, (int)ctx->connector, &found, &next);
		if (!found)
			w = best_of(set, ctx, t, CPSIM_PP_TX_DEFAULT, 0, &found, &next);
		else
			(void)best_of(set, ctx, t, CPSIM_PP_TX_DEFAULT, 0, &found, &next);
	} else {
		/* still watch TX_DEFAULT boundaries: the TX profile may end first */
		(void)best_of(set, ctx, t, CPSIM_PP_TX_DEFAULT, -1, &found, &next);
	}
	ext = best_of(set, ctx, t, CPSIM_PP_EXTERNAL, (int)ctx->connector, &found, &next);
	if (found && ext < w)
		w = ext;
	ext = best_of(set, ctx, t, CPSIM_PP_EXTERNAL, 0, &found, &next);
	if (found && ext < w)
		w = ext;
	if (ret_next)
		*ret_next = next;
	return w;
}

int cpsim_profiles_composite(const struct cpsim_profiles *set, const struct cpsim_limit_ctx *ctx,
			     int64_t start_ms, int32_t duration_s, double cap_w, unsigned share,
			     bool amps, struct cpsim_period *out, unsigned max)
{
	int64_t t = start_ms, end, n1, n2;
	unsigned n = 0, steps = 0;
	bool any = false;
	double per_a;

	if (!ctx || !out || !max || duration_s <= 0)
		return -EINVAL;
	if (!share)
		share = 1;
	per_a = ctx->volts * (ctx->phases ? ctx->phases : 1);
	end = start_ms + (int64_t)duration_s * 1000;
	while (t < end && steps++ < 4u * CPSIM_PERIODS_MAX) {
		double st = cpsim_profiles_station_w(set, ctx, t, &n1);
		double cn = cpsim_profiles_connector_w(set, ctx, t, &n2);
		double w = cap_w;
		float v;
		int32_t off = (int32_t)((t - start_ms) / 1000);

		if (isfinite(st) || isfinite(cn))
			any = true;
		if (isfinite(st) && st / share < w)
			w = st / share;
		if (cn < w)
			w = cn;
		v = (float)(amps ? w / per_a : w);
		v = roundf(v * 10.0f) / 10.0f; /* schema: multipleOf 0.1 */
		if (n && out[n - 1].start_s == off) {
			out[n - 1].limit = v;
			if (n >= 2 && out[n - 2].limit == v)
				n--;
		} else if (!n || out[n - 1].limit != v) {
			if (n == max)
				break;
			out[n].start_s = off;
			out[n].limit = v;
			out[n].phases = 0;
			n++;
		}
		t = min64(n1, n2);
	}
	return any ? (int)n : -ENOENT;
}
