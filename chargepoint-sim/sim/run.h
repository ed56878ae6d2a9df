/* SPDX-License-Identifier: MIT */
/* Running a share of the fleet over real WebSockets (cpclient on lws' libuv loop). */
#pragma once

#include <stdint.h>

struct cpsim_scenario;
struct cpsim_stats;
struct cpsim_progress;

/* Called every progress interval (and once at the end) with t in seconds since start. */
typedef void (*cpsim_progress_fn)(const struct cpsim_progress *p, double t, void *arg);

/*
** Run chargers [first, first + count) of sc until the duration is over, then drain and
** close: everything is bounded by duration + drain + a few seconds. SIGINT/SIGTERM start
** the drain early (a second one closes at once). Counters go into stats. t0_ns is the
** common start (uv_hrtime()) of all processes, wall_start_ms the wall clock at t0.
** Returns 0, -ENOMEM when the client context or the fleet cannot be built, or the error of
** a charger's client certificate (--cert-dir, --client-ca; said on stderr).
*/
int cpsim_run_fleet(const struct cpsim_scenario *sc, uint32_t first, uint32_t count,
		    struct cpsim_stats *stats, int64_t wall_start_ms, uint64_t t0_ns,
		    cpsim_progress_fn fn, void *arg);
