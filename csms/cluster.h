/* SPDX-License-Identifier: MIT */
/* Several nodes on one PostgreSQL (docs/scaling.md): the owner lease timer, the LISTEN
 * connection on the loop (uv_poll), takeovers (the old node closes its connection), operator
 * commands routed to the node that holds the station, and live events across nodes. On a store
 * without notifications (SQLite, one node) it only passes commands to link_conn. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "svc/events.h"
#include "svc/link.h"

struct cfg;
struct store;
struct svc;
struct cluster;

/* The node id a node takes without node_id: "hostname:port" (the configured charger port; with
 * port 0, "hostname:pid<PID>"), into buf. */
void cluster_default_node_id(const struct cfg *cfg, char *buf, size_t len);

/*
** Start the node's part in a cluster on loop: the store's node id must be set already
** (store_node_set). Subscribes to svc's events. Returns the cluster (also on a single-node
** store, where it is inert) or NULL (-ENOMEM, or the LISTEN connection failed: logged).
*/
struct cluster *cluster_create(uv_loop_t *loop, struct store *store, struct svc *svc,
			       const struct cfg *cfg, const char *node_id);

/* Events from other nodes go to fn(ud, ev) (the API's /api/live), never back to svc's bus.
 * While watched(ud) is true (this node has subscribers) the other nodes are asked to publish
 * their events; a node publishes its own only while another one asks (csms_live_want). */
void cluster_set_live(struct cluster *c, svc_event_fn fn, bool (*watched)(void *ud), void *ud);

/* Another node asked for this node's live events within the last 30 s. */
bool cluster_live_wanted(const struct cluster *c);

/* This node's events not published because no other node asked for them. */
uint64_t cluster_live_dropped(const struct cluster *c);

/* True when the store is shared by nodes (notifications work). */
bool cluster_active(const struct cluster *c);

/* Close the cluster's loop handles (the loop must run once more to finish). NULL-safe. */
void cluster_close(struct cluster *c);

/* Free; commands still waiting for another node end as SVC_RES_FAILED. NULL-safe; call after
 * cluster_close() and the loop has run. */
void cluster_destroy(struct cluster *c);

/* svc's link (svc/link.h; impl: the struct cluster): a station connected here goes through
 * link_conn once the ownership row says this node still holds it (else the stale connection is
 * closed and the command follows the station, or 503 while no node has a current lease); one
 * held by another node is routed there through the database, a set-password's password sealed
 * to that node's published key (docs/scaling.md). */
extern const struct svc_link_ops cluster_link_ops;
