/* SPDX-License-Identifier: MIT */
/* A log-linear latency histogram (HDR style): fixed memory, mergeable, percentiles within 1/64. */
#pragma once

#include <stdint.h>

/*
** Values below CPSIM_HIST_SUB are counted exactly; above, each power-of-two range
** [2^m, 2^(m+1)) is split into CPSIM_HIST_HALF equal buckets, so a bucket is never
** wider than 1/64 of its lower bound. Values at or above 2^CPSIM_HIST_MAX_BITS are
** clamped into the last bucket (max keeps the true value). Units are the caller's
** (the simulator records microseconds).
*/
#define CPSIM_HIST_SUB_BITS 7
#define CPSIM_HIST_SUB	    (1u << CPSIM_HIST_SUB_BITS)
#define CPSIM_HIST_HALF	    (CPSIM_HIST_SUB / 2)
#define CPSIM_HIST_MAX_BITS 40
#define CPSIM_HIST_BUCKETS                                                                         \
	(CPSIM_HIST_SUB + (CPSIM_HIST_MAX_BITS - CPSIM_HIST_SUB_BITS) * CPSIM_HIST_HALF)

struct cpsim_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min; /* valid when count > 0 */
	uint64_t max;
	uint64_t buckets[CPSIM_HIST_BUCKETS];
};

/* Empty h. */
void cpsim_hist_reset(struct cpsim_hist *h);

/* Count one value. */
void cpsim_hist_record(struct cpsim_hist *h, uint64_t v);

/* Add every count of src to dst (merging worker histograms). */
void cpsim_hist_merge(struct cpsim_hist *dst, const struct cpsim_hist *src);

/*
** The value at percentile p (0 < p <= 100): the upper bound of the bucket holding the
** ceil(p/100 * count)-th smallest value, never above the recorded max. The result r for
** a true percentile value e satisfies e <= r <= e + e/64 (exact below CPSIM_HIST_SUB).
** Returns 0 for an empty histogram.
*/
uint64_t cpsim_hist_percentile(const struct cpsim_hist *h, double p);

/* Mean of the recorded values, 0 when empty. */
double cpsim_hist_mean(const struct cpsim_hist *h);

/* Bucket index of v, and the inclusive bounds of bucket i (exposed for the unit tests). */
unsigned cpsim_hist_index(uint64_t v);
void cpsim_hist_bounds(unsigned i, uint64_t *ret_lo, uint64_t *ret_hi);
