/* SPDX-License-Identifier: MIT */
/* How svc reaches stations: a small interface the connection layer implements (link_conn.c for
 * stations connected to this node; on several nodes another implementation routes a command to
 * the node that holds the station). svc never sees a connection, lws or JSON. */
#pragma once

#include "cmd.h"

/*
** The outcome of one sent command, as the link reports it. res->log_id and res->latency_ms are
** left to svc; res and its strings are borrowed for the call.
*/
typedef void (*svc_link_done_fn)(void *ud, const struct svc_cmd_result *res);

struct svc_link_ops {
	int version; /* 1; new members go at the end, gated on it */
	/*
	** Send cmd (borrowed for the call) to station_id. Returns 0 and calls done(ud, res)
	** exactly once, possibly before returning (station not connected, request refused by
	** the schema, queue full); or < 0 (-ENOMEM) and never calls done.
	*/
	int (*send)(void *impl, const char *station_id, const struct svc_cmd *cmd,
		    svc_link_done_fn done, void *ud);
};
