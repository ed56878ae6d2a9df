/* SPDX-License-Identifier: MIT */
/* Store micro-benchmark: N sessions x M samples through the store ops (sample_add and
 * session_meter_last per reading, as a MeterValues does), a group commit every K writes, on each
 * DSN given (a SQLite path or a postgresql:// URL). Prints ops/s and commit latency p50/p99.
 *
 *   store_bench [-n SESSIONS] [-m SAMPLES] [-k WRITES_PER_COMMIT] DSN...
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int bench(const char *dsn, int n, int m, int k)
{
	char err[256], id[32], value[32];
	int64_t *sess = calloc((size_t)n, sizeof(*sess)), *lat, t_start, t_all, t;
	size_t n_commits = 0, max_commits = (size_t)n * (size_t)m * 2 / (size_t)k + 2;
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
		struct store_session_open o = { .evse_id = 1, .connector_id = 1, .id_tag = "BENCH",
						.auth_status = 0, .has_meter_start = true };

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
			struct store_sample smp = { .session_id = sess[i], .evse_id = 1,
						    .ts_ms = T0 + (j + 1) * 60000LL,
						    .measurand = "Energy.Active.Import.Register",
						    .unit = "Wh", .value = value };

			if (store_session_state(s, sess[i], &st) < 0)
				goto fail;
			smp.station_id = st.station_id;
			snprintf(value, sizeof(value), "%d", 1000 + j * 100);
			if (store_sample_add(s, &smp, NULL, 0) < 0 ||
			    store_session_meter_last(s, sess[i], 1000 + j * 100, smp.ts_ms) < 0)
				goto fail;
			writes += 2;
			if (writes % k < 2) {
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
	printf("%-8s readings %7d  %8.0f readings/s  %8.0f store ops/s  commits %5zu (every %d "
	       "writes)  commit p50 %.2f ms  p99 %.2f ms\n",
	       s->ops->name, n * m, n * m / (t / 1e9), (double)n * m * 3 / (t / 1e9), n_commits, k,
	       lat[n_commits / 2] / 1e6, lat[n_commits * 99 / 100] / 1e6);
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
	int n = 1000, m = 20, k = 200, c, failed = 0;

	while ((c = getopt(argc, argv, "n:m:k:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'm')
			m = atoi(optarg);
		else if (c == 'k')
			k = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || n <= 0 || m <= 0 || k < 2) {
		fprintf(stderr, "usage: store_bench [-n SESSIONS] [-m SAMPLES] [-k WRITES_PER_COMMIT] "
				"DSN...\n");
		return 2;
	}
	printf("# %d sessions x %d readings; per reading: session_state (read), sample_add, "
	       "session_meter_last; commit every %d writes\n",
	       n, m, k);
	for (int i = optind; i < argc; i++)
		failed |= bench(argv[i], n, m, k) < 0;
	return failed;
}
