/* SPDX-License-Identifier: MIT */
/* The OCPP 1.6J adapter: charger-initiated actions translated to the domain. */
#pragma once

#include "../conn.h"

extern const struct adapter v16_adapter;

/* Handlers, one per line of actions.def. */
#define OCPP_ACTION(name, fn) int fn(struct call_ctx *call, const json_t *req, json_t **ret_conf);
#include "actions.def"
#undef OCPP_ACTION

/* Name → handler for the sorted table (exposed for the table-order unit test). */
struct v16_action {
	const char *name;
	adapter_handler_fn fn;
};
extern const struct v16_action v16_actions[];
extern const size_t v16_actions_count;
