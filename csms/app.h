/* SPDX-License-Identifier: MIT */
/* struct app: the single root object of a csms node. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "api/api.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/list.h"
#include "conn.h"
#include "transport/transport.h"

struct store;
struct svc;
struct ocpp_catalog;
struct ca;

struct app_stats {
	uint64_t commits, commit_failures; /* the connections' counters are in hub.stats */
};

/* A closed group commit whose answers wait for its durability (app_group_commit): the hub's
 * batch number its held replies carry, the store's batch number (0: durable already, released
 * with the one before), and how many commands and events were queued when it closed. */
struct app_batch {
	uint64_t batch, seq;
	size_t n_cmd, n_ev;
	uint64_t commit_ns; /* uv_hrtime() of its commit */
};

/* Closed batches waiting at most; past it the newest entry absorbs the next (coarser, sound). */
#define APP_BATCHES 64

struct app {
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	struct api api; /* what the REST API works on; the transport hands it to requests */
	struct ocpp_catalog *catalog[2]; /* by enum ocpp_version */
	uv_loop_t *loop;
	struct transport transport; /* its port is the bound port */

	uv_check_t commit_check; /* group commit after each I/O round, then release replies */
	uv_timer_t drain_timer;
	uv_signal_t sig_term, sig_int;
	uv_prepare_t commit_prepare;
	/* what the connections share: cfg, svc, catalogs, lists, counters, the commit hook */
	struct conn_hub hub;
	uint64_t next_call_id; /* hub.next_call_id points here */
	bool draining;
	int64_t drain_deadline_ms;
	struct app_stats stats;
	uv_timer_t plan_timer; /* the planner: launch due replans, apply finished ones */
	/* ---- accounts, API listener, operations */
	int64_t started_ms;	  /* wall clock at start, for /metrics */
	uint64_t commit_hist[12]; /* group commits by duration (APP_COMMIT_BUCKETS_S, +Inf) */
	uint64_t commit_ns_sum;	  /* total time spent committing */
	struct ca *ca;		  /* the operator's CA (cfg.ca_dir), or NULL */
	struct cluster *cluster;  /* several nodes on one PostgreSQL (csms/cluster.h) */
	uv_timer_t cert_timer;	  /* certificate renewal before expiry */
	/* ---- group commit off the loop: batches committed, waiting for their flush, oldest first */
	struct app_batch batches[APP_BATCHES];
	unsigned batch_head, batch_n;
	uv_poll_t flush_poll;	 /* the store's flush_fd: a background flush ended */
	uint64_t flush_seq;	 /* the store's number of the last batch committed, */
	uint64_t flush_durable;	 /* and of the last one known durable */
	uint64_t flush_hist[12]; /* commit to durable, per batch (APP_COMMIT_BUCKETS_S, +Inf) */
	uint64_t flush_ns_sum;
	uint64_t flush_failures;
	bool late; /* the oldest answer waiting is late_answer_ms old: new chargers get 503 */
	unsigned commit_limit;	   /* COMMITs in flight at most (cfg commits_in_flight), 0: any */
	uint64_t commits_deferred; /* group commits left to accumulate behind one in flight */
	uint64_t housekeeping_ns;  /* uv_hrtime() of the last reservations and local-list tick */
	uint64_t plan_tick_ns;	   /* uv_hrtime() of the last planner tick of PLAN_TICK_MS */
};

/* Upper bounds (seconds) of the commit duration histogram of /metrics; the last is +Inf. */
#define APP_COMMIT_BUCKETS_S 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0

/* Build the node: config is taken over (moved) from *cfg. On failure prints one line and
 * returns NULL. */
struct app *app_create(struct cfg *cfg, uv_loop_t *loop);
/* Run until SIGTERM/SIGINT has drained the node. Returns the exit status. */
int app_run(struct app *app);
void app_destroy(struct app *app);
/* Commit the open group transaction and release the replies that waited for it once it is
 * durable: at once when the store made it durable on return, else when the store's writer
 * thread reports the flush (the loop goes on meanwhile). Runs after every loop turn, and also
 * every APP_GROUP_COMMIT_MAX calls inside a long turn. */
#define APP_GROUP_COMMIT_MAX CONN_COMMIT_EVERY
void app_group_commit(struct app *app);
/* Begin a graceful stop (also called by the signal handlers). */
void app_stop(struct app *app);

/* The node's figures as Prometheus text (a new string into *ret_text) for /metrics. ud is the
 * struct app. 0 or -ENOMEM. (app_metrics.c) */
int app_metrics_text(void *ud, char **ret_text);
