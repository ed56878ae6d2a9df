/* SPDX-License-Identifier: MIT */
/* Unit tests of the log-linear histogram: bucket layout, percentiles against exact ones, merge. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The exact percentile with the same rank rule: the ceil(p/100*n)-th smallest. */
static uint64_t exact(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void check_against_exact(uint64_t *v, size_t n)
{
	static const double ps[] = {1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100};
	struct cpsim_hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	for (size_t i = 0; i < n; i++)
		cpsim_hist_record(h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t e = exact(v, n, ps[i]), r = cpsim_hist_percentile(h, ps[i]);

		/* never below the truth, at most one bucket (1/64) above */
		assert_true(r >= e);
		assert_true(r <= e + e / 64);
	}
	free(h);
}

static void test_buckets_cover_values_in_order(void **state)
{
	uint64_t lo, hi, prev_hi = 0;

	(void)state;
	for (unsigned i = 0; i < CPSIM_HIST_BUCKETS; i++) {
		cpsim_hist_bounds(i, &lo, &hi);
		if (i)
			assert_int_equal(lo, prev_hi + 1); /* contiguous */
		assert_true(hi >= lo);
		assert_int_equal(cpsim_hist_index(lo), i);
		assert_int_equal(cpsim_hist_index(hi), i);
		if (lo >= CPSIM_HIST_SUB)
			assert_true((hi - lo + 1) * 64 <= lo); /* width <= lo / 64 */
		prev_hi = hi;
	}
	assert_int_equal(cpsim_hist_index(UINT64_MAX), CPSIM_HIST_BUCKETS - 1);
}

static void test_small_values_exact(void **state)
{
	uint64_t v[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = (uint64_t)(i + 1);
	check_against_exact(v, 100);
}

static void test_uniform_percentiles(void **state)
{
	size_t n = 100000;
	uint64_t *v = malloc(n * sizeof(*v));

	(void)state;
	for (size_t i = 0; i < n; i++)
		v[i] = i * 37 % 1000003 + 1; /* a permutation-ish spread up to 1e6 */
	check_against_exact(v, n);
	free(v);
}

/* Latency-like data: mostly ~1-5 ms with a long tail to seconds. */
static void test_long_tail_percentiles(void **state)
{
	size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v)), x = 99;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		double u;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		u = (double)(x >> 11) * 0x1.0p-53;
		v[i] = (uint64_t)(800.0 * exp(4.0 * u * u * u)) + (i % 1000 == 0 ? 2000000 : 0);
	}
	check_against_exact(v, n);
	free(v);
}

static void test_merge_equals_recording_all(void **state)
{
	struct cpsim_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)),
			  *all = calloc(1, sizeof(*all));

	(void)state;
	for (uint64_t i = 0; i < 50000; i++) {
		uint64_t v = (i * 7919) % 250000;

		cpsim_hist_record(i % 3 ? a : b, v);
		cpsim_hist_record(all, v);
	}
	cpsim_hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->buckets, all->buckets, sizeof(a->buckets));
	assert_int_equal(cpsim_hist_percentile(a, 99), cpsim_hist_percentile(all, 99));
	free(a);
	free(b);
	free(all);
}

static void test_empty_and_single(void **state)
{
	struct cpsim_hist h;

	(void)state;
	cpsim_hist_reset(&h);
	assert_int_equal(cpsim_hist_percentile(&h, 50), 0);
	assert_float_equal(cpsim_hist_mean(&h), 0, 0);
	cpsim_hist_record(&h, 123456);
	assert_int_equal(cpsim_hist_percentile(&h, 1), 123456);
	assert_int_equal(cpsim_hist_percentile(&h, 50), 123456);
	assert_int_equal(cpsim_hist_percentile(&h, 100), 123456);
	cpsim_hist_record(&h, UINT64_C(1) << 50); /* beyond the range: clamped bucket, true max */
	assert_int_equal(h.max, UINT64_C(1) << 50);
	assert_int_equal(cpsim_hist_percentile(&h, 100), UINT64_C(1) << 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buckets_cover_values_in_order),
	    cmocka_unit_test(test_small_values_exact),
	    cmocka_unit_test(test_uniform_percentiles),
	    cmocka_unit_test(test_long_tail_percentiles),
	    cmocka_unit_test(test_merge_equals_recording_all),
	    cmocka_unit_test(test_empty_and_single),
	};

	return cmocka_run_group_tests_name("sim-hist", tests, NULL, NULL);
}
