/* SPDX-License-Identifier: MIT */
/* A charger's OCPP-J session: frame reassembly, dispatch, replies held until the group commit,
 * and the CSMS's outbound calls (one in flight, queued behind it, each with a timeout). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/list.h"
#include "ocpp.h"

struct app;
struct chg_station;
struct adapter;

/* Headroom in front of every queued frame for the transport's header (>= LWS_PRE). */
#define CONN_PRE 32

struct conn_frame {
	struct conn_frame *next;
	size_t len;
	bool is_result;		    /* a CALLRESULT that depends on the group commit */
	char id[OCPP_ID_MAX + 1];   /* message id it answers */
	unsigned char buf[];	    /* CONN_PRE bytes, then the frame */
};

/* Outcome of a CSMS call: status 0 = CALLRESULT (payload), 1 = CALLERROR (code, desc),
 * -ETIMEDOUT, -ECONNRESET (connection gone), -EPROTO (answer failed validation; desc says why). */
typedef void (*conn_result_fn)(void *ud, int status, const json_t *payload, const char *code,
			       const char *desc);

struct conn_call;

struct conn {
	struct app *app;
	void *wsi; /* transport handle */
	struct list link; /* in app->conns */
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
	struct list held_link; /* in app->held_conns while held frames exist */

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
};

/* Create a session for an established connection; binds the station (replacing an older
 * connection, which is closed). NULL on failure. */
struct conn *conn_create(struct app *app, void *wsi, const char *station_id, enum ocpp_version v);
/* The connection closed: fail its calls, detach its station, free it. */
void conn_destroy(struct conn *c);
/* Feed received bytes; final marks the end of a message. < 0 asks the transport to close. */
int conn_rx(struct conn *c, const void *in, size_t len, bool final);
/* The next frame to write (NULL if none); pop it once written. */
struct conn_frame *conn_tx_peek(struct conn *c);
void conn_tx_pop(struct conn *c);

/* Send a CSMS-initiated call; payload is borrowed. 0 queued; -EBUSY queue full; -ENOMEM. */
int conn_call(struct conn *c, const char *action, const json_t *payload, conn_result_fn cb, void *ud);

/* After a group commit: release held replies (as CALLERROR if the commit failed). */
void conn_release_held(struct app *app, bool committed);
/* Timer: fail the calls whose deadline has passed, re-arm for the next. */
void conn_calls_expire(struct app *app);
