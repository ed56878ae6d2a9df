/* SPDX-License-Identifier: MIT */
/* The ownership check before a CSMS-initiated CALL on PostgreSQL (store_owner_held, one read on
 * the loop; docs/postgresql.md): its wall time and this thread's CPU per call, with no group open
 * and with a group holding W deferred writes (a heartbeat's station_seen each), as a command
 * arrives mid-batch. Prints p50/p99 per case.
 *
 *   owner_bench [-n CALLS] [-w WRITES_IN_GROUP] DSN      (bench/owner.sh runs it)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static int64_t ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* n checks of id, each after w deferred writes of a group (committed after the check). */
static int run(struct store *s, const char *id, int n, int w, const char *label)
{
	int64_t *lat = calloc((size_t)n, sizeof(*lat)), cpu = 0, t0, c0, now = 1795000000000LL;
	int r = -EIO;

	if (!lat)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < w; j++)
			if (store_station_seen(s, id, true, NULL, now + i) < 0)
				goto out;
		t0 = ns(CLOCK_MONOTONIC);
		c0 = ns(CLOCK_THREAD_CPUTIME_ID);
		if (store_owner_held(s, id) != 1) {
			fprintf(stderr, "owner_bench: not held: %s\n", store_errmsg(s));
			goto out;
		}
		cpu += ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		lat[i] = ns(CLOCK_MONOTONIC) - t0;
		if (w && store_commit(s) < 0)
			goto out;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	printf("owner_held %-22s p50 %7.1f us  p99 %7.1f us  cpu %6.1f us/call  (%d calls)\n",
	       label, lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3, (double)cpu / n / 1e3, n);
	r = 0;
out:
	free(lat);
	return r;
}

int main(int argc, char **argv)
{
	char err[256], id[40], label[40];
	int n = 2000, w = 20, o;
	struct store *s;

	while ((o = getopt(argc, argv, "n:w:")) != -1) {
		if (o == 'n')
			n = atoi(optarg);
		else if (o == 'w')
			w = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || n < 100) {
		fprintf(stderr, "usage: owner_bench [-n CALLS >= 100] [-w WRITES] DSN\n");
		return 2;
	}
	s = store_open(argv[optind], true, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "owner_bench: %s\n", err);
		return 1;
	}
	snprintf(id, sizeof(id), "OWN-BENCH-%d", (int)getpid());
	if (store_node_set(s, "bench-node", 60000) < 0 ||
	    store_station_create(s, id, REG_ACCEPTED, 1795000000000LL) < 0 || store_commit(s) < 0 ||
	    store_station_seen(s, id, true, "ocpp1.6", 1795000000000LL) < 0 ||
	    store_commit(s) < 0) {
		fprintf(stderr, "owner_bench: setup: %s\n", store_errmsg(s));
		store_close(s);
		return 1;
	}
	snprintf(label, sizeof(label), "(%d writes in group)", w);
	o = run(s, id, n, 0, "(no group open)") < 0 || run(s, id, n, w, label) < 0;
	store_station_seen(s, id, false, NULL, 1795000000001LL);
	store_commit(s);
	store_close(s);
	return o;
}
