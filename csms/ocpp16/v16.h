/* SPDX-License-Identifier: MIT */
/* The OCPP 1.6J adapter: charger-initiated actions translated to the domain. */
#pragma once

#include "../adapter.h"

extern const struct adapter v16_adapter;

/* Operator commands (v16_cmd.c): adapter.encode_cmd and adapter.decode_result. */
int v16_encode_cmd(const struct svc_cmd *cmd, const char **ret_action, json_t **ret_payload);
void v16_decode_result(const char *action, const json_t *payload, struct svc_cmd_result *res);

/* Handlers, one per line of actions.def. */
#define OCPP_ACTION(name, fn) int fn(struct call_ctx *call, const json_t *req, json_t **ret_conf);
#include "actions.def"
#undef OCPP_ACTION

extern const struct adapter_action v16_actions[]; /* sorted by name */
extern const size_t v16_actions_count;
