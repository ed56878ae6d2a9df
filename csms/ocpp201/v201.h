/* SPDX-License-Identifier: MIT */
/* The OCPP 2.0.1 adapter: charger-initiated actions translated to the domain, and the
 * version-neutral operator commands encoded as 2.0.1 messages. */
#pragma once

#include "../adapter.h"

extern const struct adapter v201_adapter;

/* Operator commands (v201_cmd.c): adapter.encode_cmd and adapter.decode_result. */
int v201_encode_cmd(const struct svc_cmd *cmd, const char **ret_action, json_t **ret_payload);
void v201_decode_result(const char *action, const json_t *payload, struct svc_cmd_result *res);

#define OCPP_ACTION(name, fn) int fn(struct call_ctx *call, const json_t *req, json_t **ret_conf);
#include "actions.def"
#undef OCPP_ACTION

extern const struct adapter_action v201_actions[]; /* sorted by name */
extern const size_t v201_actions_count;

/* Energy.Active.Import.Register (total, not per phase) of a 2.0.1 MeterValue list, in Wh,
 * preferring the sample with context `prefer`. Returns false if there is none. Exposed for
 * unit tests. */
bool v201_energy_register(const json_t *meter_values, const char *prefer, int64_t *ret_wh);
