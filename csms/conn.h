/* SPDX-License-Identifier: MIT */
/* A charger's OCPP-J session: frame reassembly, replies held until the group commit, the retry
 * cache, and the CSMS's outbound calls (one in flight, queued behind it, each with a timeout).
 * A CALL is answered by the dispatcher (dispatch.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "core/list.h"
#include "ocpp.h"

struct cfg;
struct svc;
struct chg_station;
struct adapter;

/* Headroom in front of every queued frame for the transport's header (>= LWS_PRE). */
#define CONN_PRE 32

struct conn_frame {
	struct conn_frame *next;
	size_t len;
	bool is_result;		  /* a CALLRESULT that depends on the group commit */
	bool is_error;		  /* a CALLERROR (metrics) */
	int16_t action;		  /* answer to a CALL: its action index (CONN_ACTION_*), or -1 */
	uint64_t in_ns;		  /* answer to a CALL: uv_hrtime() when the CALL came in; 0 */
	uint64_t batch;		  /* held: the group commit it waits for (hub->batch) */
	char id[OCPP_ID_MAX + 1]; /* message id it answers */
	unsigned char buf[];	  /* CONN_PRE bytes, then the frame */
};

/* Outcome of a CSMS call: status 0 = CALLRESULT (payload), 1 = CALLERROR (code, desc),
 * -ETIMEDOUT, -ECONNRESET (connection gone), -EPROTO (answer failed validation; desc says why). */
typedef void (*conn_result_fn)(void *ud, int status, const json_t *payload, const char *code,
			       const char *desc);

struct conn_call;

/* Commit the open group transaction and release the held replies (conn_release_held). */
typedef void (*conn_commit_fn)(void *ud);

/* How a connection reaches its transport (set by whoever owns the hub: app.c, or a test). */
struct conn_io {
	/* as transport_write_text(): 0 taken, -EAGAIN queue it, other < 0 the connection failed */
	int (*write_text)(void *wsi, unsigned char *buf, size_t len);
	void (*want_write)(void *wsi);
	void (*close)(void *wsi);
	/* close with a WebSocket close frame (status and reason in struct conn's close_code,
	 * close_reason); NULL: close() */
	void (*close_frame)(void *wsi);
};

/* Per-action counters: an action's index is its place in the version's catalogue
 * (ocpp_catalog_at order); CONN_ACTION_UNKNOWN counts CALLs of no known action and frames that
 * did not parse. Fixed arrays: counting a call costs an increment, never an allocation. */
#define CONN_ACTIONS_MAX    96
#define CONN_ACTION_UNKNOWN CONN_ACTIONS_MAX
/* Upper bounds (seconds) of the call latency histogram (frame in to reply released); +Inf. */
#define CONN_LATENCY_BUCKETS_S                                                                     \
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0
#define CONN_LATENCY_NBUCKETS 14
/* Upper bounds of the replies-per-group-commit histogram; +Inf. */
#define CONN_BATCH_BUCKETS  1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024
#define CONN_BATCH_NBUCKETS 12

struct conn_stats {
	uint64_t frames_in, calls_in, callerrors_out, calls_out;
	/* ---- metrics by action (app_metrics.c): [version][action index] */
	uint64_t calls_by_action[_OCPP_VERSION_MAX][CONN_ACTIONS_MAX + 1];
	uint64_t errors_by_action[_OCPP_VERSION_MAX][CONN_ACTIONS_MAX + 1];
	uint64_t errors_by_code[_OCPP_VERSION_MAX][_OCPP_ERR_MAX];
	uint64_t latency_hist[CONN_LATENCY_NBUCKETS]; /* answers by handling time, +Inf last */
	uint64_t latency_ns_sum;
	uint64_t batch_hist[CONN_BATCH_NBUCKETS]; /* replies released per group commit */
	uint64_t batch_sum;
	/* ---- end metrics by action */
};

/* Commit after this many CALLs within one loop turn (see app_group_commit). */
#define CONN_COMMIT_EVERY 256

/* What all connections of a node share. Embedded in struct app; everything but the lists,
 * the timer and the counters is borrowed from the owner and set before the first conn_create. */
struct conn_hub {
	const struct cfg *cfg;
	struct svc *svc;
	const struct ocpp_catalog *catalog[_OCPP_VERSION_MAX];
	const struct conn_io *io;
	uint64_t *next_call_id; /* shared with the API's request ids */
	conn_commit_fn commit;	/* called every CONN_COMMIT_EVERY calls within a turn */
	void *commit_ud;

	struct list conns;	/* every charger connection */
	struct list held_conns; /* conns with replies waiting for the group commit */
	struct list calls;	/* CSMS calls in flight, oldest first (one timeout for all) */
	uv_timer_t call_timer;	/* fires for the oldest CSMS call in flight (init by the owner) */
	unsigned calls_since_commit; /* CALLs answered into the open group commit */
	uint64_t batch;		     /* number of the open group commit; held replies carry it */
	struct conn_stats stats;
	uv_timer_t sweep_timer; /* conn_sweep every second (conn_sweep_start) */
};

/* Initialise the hub's lists and counters (not the timer, not the borrowed pointers). */
void conn_hub_init(struct conn_hub *hub);

struct conn {
	struct conn_hub *hub;
	void *wsi;	  /* transport handle */
	struct list link; /* in hub->conns */
	char id[64];
	enum ocpp_version version;
	const struct ocpp_catalog *catalog;
	const struct adapter *adapter;
	struct chg_station *st;
	bool closing;

	char *rx;
	size_t rx_len, rx_cap;

	struct conn_frame *tx_head, *tx_tail;
	size_t tx_count;
	struct conn_frame *held_head, *held_tail;
	struct list held_link; /* in hub->held_conns while held frames exist */

	struct conn_call *inflight;
	struct conn_call *queue_head, *queue_tail;
	size_t queue_len;

	/* the last answers sent, so a retried CALL (same id) is answered without a second effect */
	struct {
		char id[OCPP_ID_MAX + 1];
		char action[48];
		char *frame;
		size_t len;
	} cache[8];
	unsigned cache_next;
	/* ---- security: limits and liveness (docs/security.md) */
	uint64_t cache_hash[8];		/* the payload's hash of each cache entry */
	int64_t created_ms, last_rx_ms; /* monotonic */
	bool boot_seen;			/* a BootNotification arrived on this connection */
	double call_tokens; /* per-connection token bucket (call_rate_per_s, call_burst) */
	int64_t call_refill_ms;
	unsigned refused_calls; /* in a row, over the rate: past call_burst, closed */
	int close_code;		/* != 0: close with this WebSocket status ... */
	char close_reason[64];	/* ... and reason (io->close_frame) */
	/* ---- end security */
	uint64_t rx_ns; /* uv_hrtime() when the frame being handled came in (metrics) */
};

/* Create a session for an established connection; binds the station (replacing an older
 * connection, which is closed). NULL on failure. */
struct conn *conn_create(struct conn_hub *hub, void *wsi, const char *station_id,
			 enum ocpp_version v);
/* The connection closed: fail its calls, detach its station, free it. */
void conn_destroy(struct conn *c);
/* Feed received bytes; final marks the end of a message. < 0 asks the transport to close. */
int conn_rx(struct conn *c, const void *in, size_t len, bool final);
/* The next frame to write (NULL if none); pop it once written. */
struct conn_frame *conn_tx_peek(struct conn *c);
void conn_tx_pop(struct conn *c);

/* Send a CSMS-initiated call; payload is borrowed. 0 queued; -EBUSY queue full; -ENOMEM. */
int conn_call(struct conn *c, const char *action, const json_t *payload, conn_result_fn cb,
	      void *ud);

/* After a group commit: release held replies (as CALLERROR if the commit failed). */
void conn_release_held(struct conn_hub *hub, bool committed);
/* The same for the replies held for group commits up to batch (their hub->batch at hold time):
 * those of later batches stay held, in order behind them. */
void conn_release_held_upto(struct conn_hub *hub, bool committed, uint64_t batch);
/* Timer: fail the calls whose deadline has passed, re-arm for the next. */
void conn_calls_expire(struct conn_hub *hub);
/* Close the connections that sent no BootNotification within boot_timeout_s, or nothing for
 * idle_factor x their interval (heartbeat or pending interval). */
void conn_sweep(struct conn_hub *hub);
/* Init and start hub->sweep_timer on loop (conn_sweep every second); the owner closes it. */
void conn_sweep_start(struct conn_hub *hub, uv_loop_t *loop);
/* Close c with a WebSocket close frame (code, reason); it says nothing more. */
void conn_close(struct conn *c, int code, const char *reason);
