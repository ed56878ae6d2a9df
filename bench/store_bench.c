/* SPDX-License-Identifier: MIT */
/* Store micro-benchmark: N sessions x M MeterValues of S readings through the store ops, as a
 * MeterValues does (session_state, S x sample_add or one samples_add with -b, session_meter_last),
 * a group commit every K writes, on each DSN given (a SQLite path or a postgresql:// URL).
 * Prints readings/s, store ops/s, commit latency p50/p99 and the CPU time of the reading
 * inserts alone (this thread's, so the disk and the other engineers' load count less).
 *
 *   store_bench [-n SESSIONS] [-m METERVALUES] [-s READINGS_EACH] [-k WRITES_PER_COMMIT] [-b]
 * DSN...
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

#define T0 1795000000000LL

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t cpu_ns(void) /* this thread's CPU time: what the inserts cost, not the disk */
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static const char *const measurands[] = {
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "SoC",
    "Temperature",
    "Frequency",
    "Power.Offered",
};
#define S_MAX ((int)(sizeof(measurands) / sizeof(measurands[0])))

static int bench(const char *dsn, int n, int m, int k, int per, bool batch)
{
	char err[256], id[32], value[S_MAX][32];
	int64_t *sess = calloc((size_t)n, sizeof(*sess)), *lat, t_start, t_all, t, cpu_ins = 0;
	size_t n_commits = 0,
	       max_commits = (size_t)n * (size_t)m * (size_t)(per + 1) / (size_t)k + 2;
	struct store *s;
	long writes = 0;
	int r = -EIO;

	lat = calloc(max_commits, sizeof(*lat));
	s = store_open(dsn, true, err, sizeof(err));
	if (!s || !sess || !lat) {
		fprintf(stderr, "store_bench: %s: %s\n", dsn, s ? "out of memory" : err);
		goto out;
	}
	/* a run id keeps reruns on one database apart */
	for (int i = 0; i < n; i++) {
		struct store_session_open o = {.evse_id = 1,
					       .connector_id = 1,
					       .id_tag = "BENCH",
					       .auth_status = 0,
					       .has_meter_start = true};

		snprintf(id, sizeof(id), "BENCH-%d-%d", (int)(now_ns() % 1000000), i);
		o.station_id = id;
		o.start_ms = o.now_ms = T0;
		if (store_station_create(s, id, REG_ACCEPTED, T0) < 0 ||
		    store_session_open(s, &o, &sess[i]) < 0) {
			fprintf(stderr, "store_bench: %s: setup: %s\n", dsn, store_errmsg(s));
			goto out;
		}
	}
	if (store_commit(s) < 0)
		goto out;
	t_all = now_ns();
	for (int j = 0; j < m; j++) {
		for (int i = 0; i < n; i++) {
			struct store_session_state st;
			struct store_sample smp[S_MAX];
			int ret[S_MAX];
			long before = writes;

			if (store_session_state(s, sess[i], &st) < 0)
				goto fail;
			for (int q = 0; q < per; q++) {
				snprintf(value[q], sizeof(value[q]), "%d", 1000 + j * 100 + q);
				smp[q] = (struct store_sample){.session_id = sess[i],
							       .station_id = st.station_id,
							       .evse_id = 1,
							       .ts_ms = T0 + (j + 1) * 60000LL,
							       .measurand = measurands[q],
							       .unit = "Wh",
							       .value = value[q]};
			}
			t_start = cpu_ns();
			if (batch) {
				if (store_samples_add(s, smp, (size_t)per, ret, NULL, 0) < 0)
					goto fail;
			} else {
				for (int q = 0; q < per; q++)
					if (store_sample_add(s, &smp[q], NULL, 0) < 0)
						goto fail;
			}
			cpu_ins += cpu_ns() - t_start;
			if (store_session_meter_last(s, sess[i], 1000 + j * 100, smp[0].ts_ms) < 0)
				goto fail;
			writes += per + 1;
			if (writes / k != before / k) {
				t_start = now_ns();
				if (store_commit(s) < 0)
					goto fail;
				lat[n_commits++] = now_ns() - t_start;
			}
		}
	}
	t_start = now_ns();
	if (store_commit(s) < 0)
		goto fail;
	lat[n_commits++] = now_ns() - t_start;
	t = now_ns() - t_all;
	qsort(lat, n_commits, sizeof(*lat), cmp_i64);
	printf("%-8s %-11s readings %7d  %8.0f readings/s  %8.0f MeterValues/s  %8.0f store ops/s  "
	       "commits %5zu  commit p50 %.2f ms  p99 %.2f ms  readings' CPU %.1f us/MeterValues\n",
	       s->ops->name, batch ? "samples_add" : "sample_add", n * m * per,
	       (double)n * m * per / (t / 1e9), (double)n * m / (t / 1e9),
	       (double)n * m * (per + 2) / (t / 1e9), n_commits, lat[n_commits / 2] / 1e6,
	       lat[n_commits * 99 / 100] / 1e6, cpu_ins / 1e3 / ((double)n * m));
	r = 0;
	goto out;
fail:
	fprintf(stderr, "store_bench: %s: %s\n", dsn, store_errmsg(s));
out:
	store_close(s);
	free(sess);
	free(lat);
	return r;
}

int main(int argc, char **argv)
{
	int n = 1000, m = 20, k = 200, per = 1, c, failed = 0;
	bool batch = false;

	while ((c = getopt(argc, argv, "n:m:k:s:b")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'm')
			m = atoi(optarg);
		else if (c == 'k')
			k = atoi(optarg);
		else if (c == 's')
			per = atoi(optarg);
		else if (c == 'b')
			batch = true;
		else
			return 2;
	}
	if (optind >= argc || n <= 0 || m <= 0 || k < 2 || per < 1 || per > S_MAX) {
		fprintf(stderr,
			"usage: store_bench [-n SESSIONS] [-m METERVALUES] [-s READINGS_EACH "
			"(1..%d)] [-k WRITES_PER_COMMIT] [-b] DSN...\n",
			S_MAX);
		return 2;
	}
	printf("# %d sessions x %d MeterValues of %d readings; per MeterValues: session_state "
	       "(read), %s, session_meter_last; a commit every %d writes\n",
	       n, m, per, batch ? "one samples_add" : "sample_add per reading", k);
	for (int i = optind; i < argc; i++)
		failed |= bench(argv[i], n, m, k, per, batch) < 0;
	return failed;
}
