/* SPDX-License-Identifier: MIT */
/* What the version adapters (ocpp16/, ocpp201/) share: their action tables, reading validated
 * payloads, timestamps, and turning domain errors into CALLERRORs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ocpp.h"

struct svc_cmd;

struct svc;
struct cfg;
struct chg_station;

struct store_boot;
struct store_sample;
struct svc_cmd;
struct svc_cmd_result;

/* A handler's context. A handler sets err/err_desc (via call_fail) when it returns < 0. */
struct call_ctx {
	struct svc *svc;
	const struct cfg *cfg;
	struct chg_station *st; /* the calling station (its id tags log lines) */
	const char *action;
	enum ocpp_err err;
	char err_desc[160];
};

typedef int (*adapter_handler_fn)(struct call_ctx *call, const json_t *req, json_t **ret_conf);

/* A version adapter: its table of charger-initiated actions and its command encoder. */
struct adapter {
	enum ocpp_version version;
	adapter_handler_fn (*find)(const char *action);
	/* A domain command (svc/cmd.h, any kind but SVC_CMD_RAW) as this version's message: the
	 * action name (static) and a new payload, which the caller validates against the
	 * catalogue. 0, -EINVAL (not expressible in this version), -ENOMEM. */
	int (*encode_cmd)(const struct svc_cmd *cmd, const char **ret_action, json_t **ret_payload);
	/* The domain reading of a CALLRESULT payload to action: res->status (accepted, rejected,
	 * other, answered) and res->station_status (the status word, verbatim). */
	void (*decode_result)(const char *action, const json_t *payload,
			      struct svc_cmd_result *res);
};

/* The adapter of version v, or NULL. */
const struct adapter *adapter_for(enum ocpp_version v);

int call_fail(struct call_ctx *call, enum ocpp_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One row of an adapter's action table (sorted by name; a unit test checks it). */
struct adapter_action {
	const char *name;
	adapter_handler_fn fn;
};

/* The handler of action in a sorted table, or NULL. */
adapter_handler_fn adapter_find(const struct adapter_action *table, size_t n, const char *action);

/* Member key of o as a string (borrowed), or NULL. */
const char *adapter_str(const json_t *o, const char *key);
/* Member key of o as an integer; the schema admits integral reals (5.0) within int64. 0 if
 * absent. */
int64_t adapter_int(const json_t *o, const char *key);
/* An RFC 3339 string (new reference). */
json_t *adapter_time(int64_t ms);
/* Parse member key as RFC 3339 into *ret (now if absent); fails the call with
 * PropertyConstraintViolation if malformed. */
int adapter_timestamp(struct call_ctx *call, const json_t *o, const char *key, int64_t *ret);
/* Fail the call for a domain error r: -ERANGE (an id over the configured caps) and -EDOM (a
 * negative energy register) are the charger's PropertyConstraintViolation; anything else is logged as a storage failure and
 * answered InternalError (the charger retries). */
int adapter_failed(struct call_ctx *call, int r);
/* True if a sampled value of meter_values (a MeterValue array, either version) is a negative
 * energy register, which svc refuses (-EDOM): handlers that store something before their
 * readings check first, so a refused message stores nothing. */
bool adapter_negative_register(const json_t *meter_values);
/* The number of sampled values in meter_values (a MeterValue array, either version). */
size_t adapter_samples_count(const json_t *meter_values);
/* Readings a handler gathers on its stack before it needs the heap. */
#define ADAPTER_SAMPLES_LOCAL 16
/* Store the n readings in[] of one message with one svc_samples_add() (in[i].station_id is
 * set); on a refusal or a storage failure nothing is acknowledged: the call fails as with
 * adapter_failed(), and what it returns is returned. 0 when every reading was taken. */
int adapter_samples_store(struct call_ctx *call, struct store_sample *in, size_t n);
/*
** The DataTransfer request of SVC_CMD_SET_V2G_MODE (docs/v2g.md §2, the same shape in 1.6 and
** 2.0.1): vendorId, messageId "SetV2GMode", data the JSON text of evseId, operationMode,
** setpointW, transactionId (tx_id, stolen: 1.6 the integer, 2.0.1 the station's string) and
** validUntilMs, keys sorted. NULL for a bad mode or EVSE (tx_id is freed), or out of memory.
*/
json_t *adapter_v2g_mode(const struct svc_cmd *c, json_t *tx_id);
/* DataTransfer (both versions have the same shape): vendor handlers, else UnknownVendorId. */
int vendor_data_transfer(struct call_ctx *call, const json_t *req, json_t **ret_conf);
/* A firmware/diagnostics/log status notification: recorded as a station event of kind (an enum
 * station_event_kind). */
int adapter_status_event(struct call_ctx *call, const json_t *req, json_t **ret_conf, int kind);

/* OCPP words into domain values; the words below are spelled the same in 1.6 and 2.0.1. */
/* The measurand the OCPP default names when a sampled value has none. */
#define ADAPTER_DEFAULT_MEASURAND "Energy.Active.Import.Register"
/* The reading context the OCPP default names when a sampled value has none. */
#define ADAPTER_DEFAULT_CONTEXT "Sample.Periodic"
/* enum measurand_kind of an OCPP measurand (NULL: the default, the energy import register). */
int adapter_measurand_kind(const char *measurand);
/* enum sample_context of an OCPP ReadingContext (NULL: Sample.Periodic). */
int adapter_sample_context(const char *context);
/* enum sample_phase of an OCPP phase (NULL: none, the total). */
int adapter_sample_phase(const char *phase);
/* enum stop_reason of an OCPP stop reason (NULL: STOP_NONE; an unknown word: STOP_OTHER). */
int adapter_stop_reason(const char *reason);
/* enum connector_state of an OCPP 1.6 ChargePointStatus or 2.0.1 ConnectorStatusEnumType. */
int adapter_connector_state(const char *status);
/* Record a BootNotification and answer {status, currentTime, interval} (same in both versions). */
int adapter_boot(struct call_ctx *call, const struct store_boot *b, json_t **ret_conf);
/* Heartbeat: {currentTime} in both versions (used directly by both action tables). */
int adapter_heartbeat(struct call_ctx *call, const json_t *req, json_t **ret_conf);
