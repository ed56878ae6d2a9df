/* SPDX-License-Identifier: MIT */
/* Log-linear histogram: exact below 128, 64 linear buckets per power of two above. */
#include "hist.h"

#include <math.h>
#include <string.h>

void cpsim_hist_reset(struct cpsim_hist *h)
{
	memset(h, 0, sizeof(*h));
}

unsigned cpsim_hist_index(uint64_t v)
{
	unsigned m, shift;

	if (v < CPSIM_HIST_SUB)
		return (unsigned)v;
	if (v >> CPSIM_HIST_MAX_BITS)
		v = (UINT64_C(1) << CPSIM_HIST_MAX_BITS) - 1;
	m = 63u - (unsigned)__builtin_clzll(v); /* v in [2^m, 2^(m+1)), m >= SUB_BITS */
	shift = m - CPSIM_HIST_SUB_BITS + 1;
	return CPSIM_HIST_SUB + (m - CPSIM_HIST_SUB_BITS) * CPSIM_HIST_HALF +
	       (unsigned)((v >> shift) - CPSIM_HIST_HALF);
}

void cpsim_hist_bounds(unsigned i, uint64_t *ret_lo, uint64_t *ret_hi)
{
	unsigned g, shift;
	uint64_t s;

	if (i < CPSIM_HIST_SUB) {
		*ret_lo = *ret_hi = i;
		return;
	}
	g = (i - CPSIM_HIST_SUB) / CPSIM_HIST_HALF;
	s = (i - CPSIM_HIST_SUB) % CPSIM_HIST_HALF + CPSIM_HIST_HALF;
	shift = g + 1;
	*ret_lo = s << shift;
	*ret_hi = ((s + 1) << shift) - 1;
}

void cpsim_hist_record(struct cpsim_hist *h, uint64_t v)
{
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->buckets[cpsim_hist_index(v)]++;
}

void cpsim_hist_merge(struct cpsim_hist *dst, const struct cpsim_hist *src)
{
	if (!src->count)
		return;
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (unsigned i = 0; i < CPSIM_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

uint64_t cpsim_hist_percentile(const struct cpsim_hist *h, double p)
{
	uint64_t rank, seen = 0, lo, hi;

	if (!h->count)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < CPSIM_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			cpsim_hist_bounds(i, &lo, &hi);
			if (hi > h->max)
				hi = h->max;
			if (hi < h->min)
				hi = h->min;
			return hi;
		}
	}
	return h->max;
}

double cpsim_hist_mean(const struct cpsim_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
