/* SPDX-License-Identifier: MIT */
/* Small OCPP 2.0.1 helpers shared by the 2.0.1 integration tests. */
#pragma once

#include <jansson.h>

#include "harness.h"

/* BootNotification (reason PowerUp) as tc_call(). */
static inline int tc_boot201(struct tcp *tc, json_t **ret_conf, char *err)
{
	return tc_call(tc, "BootNotification",
		       json_pack("{s:{s:s, s:s, s:s, s:s}, s:s}", "chargingStation", "vendorName",
				 "ITVendor201", "model", "ITModel201", "serialNumber", "SN201",
				 "firmwareVersion", "2.0.1-fw", "reason", "PowerUp"),
		       ret_conf, err, 5000);
}

/* A TransactionEvent payload; energy_wh < 0 means no meter value. */
static inline json_t *tx_event(const char *type, const char *tx_id, int seq, const char *ts,
			       const char *trigger, int evse, const char *token, double energy_wh,
			       const char *context)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:i, s:{s:s}}", "eventType", type, "timestamp", ts,
			      "triggerReason", trigger, "seqNo", seq, "transactionInfo",
			      "transactionId", tx_id);

	if (evse)
		json_object_set_new(p, "evse",
				    json_pack("{s:i, s:i}", "id", evse, "connectorId", 1));
	if (token)
		json_object_set_new(p, "idToken",
				    json_pack("{s:s, s:s}", "idToken", token, "type", "ISO14443"));
	if (energy_wh >= 0) {
		json_t *sv = json_pack("{s:f, s:s, s:s}", "value", energy_wh, "measurand",
				       "Energy.Active.Import.Register", "context",
				       context ? context : "Sample.Periodic");

		json_object_set_new(
		    p, "meterValue",
		    json_pack("[{s:s, s:[o]}]", "timestamp", ts, "sampledValue", sv));
	}
	return p;
}

/* The session of station `station` whose transaction_id is tx (new reference) or NULL. */
static inline json_t *find_session(int port, const char *station, const char *tx)
{
	char path[160];
	json_t *list, *s;

	snprintf(path, sizeof(path), "/api/sessions?station=%s", station);
	list = http_get_json(port, path);
	if (!list)
		return NULL;
	s = json_find(json_object_get(list, "sessions"), "transaction_id", tx);
	if (s)
		json_incref(s);
	json_decref(list);
	return s;
}
