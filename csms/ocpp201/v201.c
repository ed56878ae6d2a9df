/* SPDX-License-Identifier: MIT */
/* OCPP 2.0.1 handlers: JSON in, version-neutral svc calls, JSON out. Payloads arrive validated
 * against the official schema. Functional blocks: B (provisioning), C (authorization),
 * E (transactions), G (availability), J (meter values), N (diagnostics), K (smart charging). */
#include "v201.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app.h"
#include "../core/log.h"
#include "../svc/svc.h"

const struct v201_action v201_actions[] = {
#define OCPP_ACTION(n, f) { n, f },
#include "actions.def"
#undef OCPP_ACTION
};
const size_t v201_actions_count = sizeof(v201_actions) / sizeof(v201_actions[0]);

static int cmp_action(const void *key, const void *elem)
{
	return strcmp(key, ((const struct v201_action *)elem)->name);
}

static adapter_handler_fn find(const char *action)
{
	const struct v201_action *a =
		bsearch(action, v201_actions, v201_actions_count, sizeof(v201_actions[0]), cmp_action);

	return a ? a->fn : NULL;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t integer(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)json_number_value(v);
}

static json_t *time_value(int64_t ms)
{
	char buf[40];

	ocpp_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

static int timestamp(struct call_ctx *call, const json_t *o, const char *key, int64_t *ret)
{
	const char *s = str(o, key);

	if (!s) {
		*ret = svc_now_ms(call->app->svc);
		return 0;
	}
	if (ocpp_time_parse(s, ret) < 0)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "%s: not a date-time", key);
	return 0;
}

static int storage_failed(struct call_ctx *call, int r)
{
	if (r == -ERANGE)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "evse or connector id out of range");
	log_err("[cp %s] %s: storage error %d: %s", call->conn->id, call->action, r,
		store_errmsg(svc_store(call->app->svc)));
	return call_fail(call, OCPP_ERR_INTERNAL, "storage failure");
}

static int empty(json_t **ret_conf)
{
	*ret_conf = json_object();
	return 0;
}

/* OCPP 2.0.1 IdTokenInfoType from a domain decision. */
static json_t *id_token_info(const struct svc_auth *a)
{
	json_t *o = json_pack("{s:s}", "status", auth_status_to_string(a->status));

	if (o && a->expiry_ms)
		json_object_set_new(o, "cacheExpiryDateTime", time_value(a->expiry_ms));
	if (o && a->parent[0])
		json_object_set_new(o, "groupIdToken",
				    json_pack("{s:s, s:s}", "idToken", a->parent, "type", "Central"));
	return o;
}

/* B01-B03: register or update the station, answer by registration policy. */
int v201_boot_notification(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *cs = json_object_get(req, "chargingStation");
	const json_t *modem = json_object_get(cs, "modem");
	struct store_boot b = {
		.protocol = "ocpp2.0.1",
		.vendor = str(cs, "vendorName"),
		.model = str(cs, "model"),
		.serial = str(cs, "serialNumber"),
		.firmware = str(cs, "firmwareVersion"),
		.iccid = str(modem, "iccid"),
		.imsi = str(modem, "imsi"),
		.now_ms = svc_now_ms(call->app->svc),
	};
	struct svc_boot_result res;
	int r;

	log_info("[cp %s] boot, reason %s", call->conn->id, str(req, "reason"));
	r = svc_boot(call->app->svc, call->st, &b, &res);
	if (r < 0)
		return storage_failed(call, r);
	*ret_conf = json_pack("{s:s, s:o, s:i}", "status", reg_status_to_string(res.status),
			      "currentTime", time_value(b.now_ms), "interval", res.interval_s);
	return 0;
}

/* G02 */
int v201_heartbeat(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int r = svc_heartbeat(call->app->svc, call->st);

	(void)req;
	if (r < 0)
		return storage_failed(call, r);
	*ret_conf = json_pack("{s:o}", "currentTime", time_value(svc_now_ms(call->app->svc)));
	return 0;
}

/* G01 */
int v201_status_notification(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t ts, evse = integer(req, "evseId"), connector = integer(req, "connectorId");
	int r;

	if (timestamp(call, req, "timestamp", &ts) < 0)
		return -EINVAL;
	if (evse < 0 || evse > call->app->cfg.max_connectors || connector < 0 ||
	    connector > call->app->cfg.max_connectors)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "evseId/connectorId outside 0..%d",
				 call->app->cfg.max_connectors);
	r = svc_connector_status(call->app->svc, call->st, (int)evse, (int)connector,
				 str(req, "connectorStatus"), NULL, NULL, NULL, ts);
	if (r < 0)
		return storage_failed(call, r);
	return empty(ret_conf);
}

/* C01 */
int v201_authorize(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	struct svc_auth a;
	int r = svc_authorize(call->app->svc, call->st,
			      str(json_object_get(req, "idToken"), "idToken"), &a);

	if (r < 0)
		return storage_failed(call, r);
	*ret_conf = json_pack("{s:o}", "idTokenInfo", id_token_info(&a));
	return 0;
}

/* One sampled value in Wh when it is the total imported energy register. */
static bool sample_wh(const json_t *sv, int64_t *ret)
{
	const char *measurand = str(sv, "measurand");
	const json_t *uom = json_object_get(sv, "unitOfMeasure");
	const char *unit = str(uom, "unit");
	double v = json_number_value(json_object_get(sv, "value")), wh;
	int64_t mult = integer(uom, "multiplier");

	if (measurand && strcmp(measurand, "Energy.Active.Import.Register") != 0)
		return false;
	if (json_object_get(sv, "phase"))
		return false;
	if (mult < -9 || mult > 9) /* no real meter; refuse rather than overflow */
		return false;
	if (unit && strcmp(unit, "kWh") == 0)
		mult += 3;
	else if (unit && strcmp(unit, "Wh") != 0)
		return false;
	wh = v * pow(10, (double)mult);
	/* a register beyond 1e15 Wh (a petawatt-hour) is not a reading */
	if (!isfinite(wh) || wh < -1e15 || wh > 1e15)
		return false;
	*ret = (int64_t)llround(wh);
	return true;
}

bool v201_energy_register(const json_t *meter_values, const char *prefer, int64_t *ret_wh)
{
	const json_t *mv, *sv;
	size_t i, j;
	bool found = false;
	int64_t best_ts = INT64_MIN;

	json_array_foreach (meter_values, i, mv) {
		int64_t ts = 0;

		ocpp_time_parse(str(mv, "timestamp"), &ts);
		json_array_foreach (json_object_get(mv, "sampledValue"), j, sv) {
			const char *context = str(sv, "context");
			bool preferred = prefer && context && strcmp(context, prefer) == 0;
			int64_t wh;

			if (!sample_wh(sv, &wh))
				continue;
			/* the preferred context wins; otherwise the latest reading */
			if (preferred || ts >= best_ts) {
				*ret_wh = wh;
				best_ts = preferred ? INT64_MAX : ts;
				found = true;
			}
		}
	}
	return found;
}

/* Store every sampled value of a MeterValueType list. */
static int store_meter_values(struct call_ctx *call, int evse, int64_t session, const json_t *mvs)
{
	const json_t *mv, *sv;
	size_t i, j;

	json_array_foreach (mvs, i, mv) {
		int64_t ts;

		if (timestamp(call, mv, "timestamp", &ts) < 0)
			return -EINVAL;
		json_array_foreach (json_object_get(mv, "sampledValue"), j, sv) {
			const json_t *uom = json_object_get(sv, "unitOfMeasure");
			const char *measurand = str(sv, "measurand");
			char value[64], unit[48];
			struct store_sample s = {
				.session_id = session,
				.evse_id = evse,
				.ts_ms = ts,
				.measurand = measurand ? measurand : "Energy.Active.Import.Register",
				.phase = str(sv, "phase"),
				.context = str(sv, "context") ? str(sv, "context") : "Sample.Periodic",
				.location = str(sv, "location"),
				.value = value,
			};
			int r;

			/* the value as the charger sent it; the multiplier stays with the unit */
			snprintf(value, sizeof(value), "%.17g",
				 json_number_value(json_object_get(sv, "value")));
			if (str(uom, "unit") || json_object_get(uom, "multiplier")) {
				if (integer(uom, "multiplier"))
					snprintf(unit, sizeof(unit), "%s*10^%lld",
						 str(uom, "unit") ? str(uom, "unit") : "Wh",
						 (long long)integer(uom, "multiplier"));
				else
					snprintf(unit, sizeof(unit), "%s", str(uom, "unit"));
				s.unit = unit;
			} else if (strncmp(s.measurand, "Energy.Active", 13) == 0) {
				s.unit = "Wh";
			}
			if (json_object_get(sv, "signedMeterValue"))
				s.format = "SignedData";
			r = svc_meter_sample(call->app->svc, call->st, &s);
			if (r < 0)
				return storage_failed(call, r);
		}
	}
	return 0;
}

/* J01 */
int v201_meter_values(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t evse = integer(req, "evseId");

	if (evse < 0 || evse > call->app->cfg.max_connectors)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "evseId %lld outside 0..%d",
				 (long long)evse, call->app->cfg.max_connectors);
	if (store_meter_values(call, (int)evse, 0, json_object_get(req, "meterValue")) < 0)
		return -EINVAL;
	return empty(ret_conf);
}

static const char *const event_types[_SVC_TX_EVENT_MAX] = {
	[SVC_TX_STARTED] = "Started", [SVC_TX_UPDATED] = "Updated", [SVC_TX_ENDED] = "Ended",
};

/* E01-E15: durable before the answer (the group commit holds the reply); a replayed event
 * (same transaction and seqNo) is answered again without a second effect. */
int v201_transaction_event(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *info = json_object_get(req, "transactionInfo");
	const json_t *evse = json_object_get(req, "evse");
	const json_t *token = json_object_get(req, "idToken");
	const json_t *mvs = json_object_get(req, "meterValue");
	const char *type = str(req, "eventType");
	struct svc_tx_event ev = {
		.tx_id = str(info, "transactionId"),
		.seq_no = integer(req, "seqNo"),
		.offline = json_is_true(json_object_get(req, "offline")),
		.trigger = str(req, "triggerReason"),
		.stopped_reason = str(info, "stoppedReason"),
		/* range-checked below, before any narrowing */
		.id_token = token ? str(token, "idToken") : NULL,
		.has_reservation = json_object_get(req, "reservationId") != NULL,
		.reservation_id = integer(req, "reservationId"),
	};
	struct svc_auth a;
	int64_t session;
	bool replay;
	int r;

	for (ev.type = 0; ev.type < _SVC_TX_EVENT_MAX; ev.type++)
		if (strcmp(type, event_types[ev.type]) == 0)
			break;
	if (ev.type == _SVC_TX_EVENT_MAX)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "eventType %s", type);
	if (evse) {
		int64_t id = integer(evse, "id"), connector = integer(evse, "connectorId");

		if (id < 0 || id > call->app->cfg.max_connectors || connector < 0 ||
		    connector > call->app->cfg.max_connectors)
			return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
					 "evse.id/connectorId outside 0..%d",
					 call->app->cfg.max_connectors);
		ev.evse_id = (int)id;
		ev.connector_id = (int)connector;
	}
	if (timestamp(call, req, "timestamp", &ev.ts_ms) < 0)
		return -EINVAL;
	ev.has_energy = v201_energy_register(mvs,
					     ev.type == SVC_TX_STARTED ? "Transaction.Begin"
					     : ev.type == SVC_TX_ENDED ? "Transaction.End"
								       : NULL,
					     &ev.energy_wh);
	r = svc_tx_event(call->app->svc, call->st, &ev, &session, &replay, &a);
	if (r < 0)
		return storage_failed(call, r);
	if (replay)
		log_info("[cp %s] TransactionEvent %s seqNo %lld replayed, not applied again",
			 call->conn->id, ev.tx_id, (long long)ev.seq_no);
	else if (mvs && store_meter_values(call, ev.evse_id, session, mvs) < 0)
		return -EINVAL;
	*ret_conf = token ? json_pack("{s:o}", "idTokenInfo", id_token_info(&a)) : json_object();
	return 0;
}

/* B07/B08: store the device model, part by part (seqNo, tbc). */
int v201_notify_report(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *data = json_object_get(req, "reportData"), *rd, *attr;
	size_t i, j;
	int r;

	json_array_foreach (data, i, rd) {
		const json_t *comp = json_object_get(rd, "component");
		const json_t *var = json_object_get(rd, "variable");
		const json_t *evse = json_object_get(comp, "evse");
		const json_t *chars = json_object_get(rd, "variableCharacteristics");

		if (evse && (integer(evse, "id") < 0 || integer(evse, "id") > call->app->cfg.max_connectors ||
			     integer(evse, "connectorId") < 0 ||
			     integer(evse, "connectorId") > call->app->cfg.max_connectors))
			return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
					 "reportData[%zu]: evse outside 0..%d", i,
					 call->app->cfg.max_connectors);
		json_array_foreach (json_object_get(rd, "variableAttribute"), j, attr) {
			struct store_variable v = {
				.component = str(comp, "name"),
				.component_instance = str(comp, "instance"),
				.evse_id = evse ? (int)integer(evse, "id") : -1,
				.connector_id = evse && json_object_get(evse, "connectorId")
							? (int)integer(evse, "connectorId")
							: -1,
				.variable = str(var, "name"),
				.variable_instance = str(var, "instance"),
				.attribute_type = str(attr, "type"),
				.value = str(attr, "value"),
				.mutability = str(attr, "mutability"),
				.data_type = str(chars, "dataType"),
				.unit = str(chars, "unit"),
			};

			r = svc_variable_put(call->app->svc, call->st, &v);
			if (r < 0)
				return storage_failed(call, r);
		}
	}
	r = svc_report_part(call->app->svc, call->st, integer(req, "requestId"), integer(req, "seqNo"),
			    json_is_true(json_object_get(req, "tbc")));
	if (r < 0)
		return storage_failed(call, r);
	return empty(ret_conf);
}

/* Store a notification verbatim (compact JSON) for the operator. */
static int notice(struct call_ctx *call, const json_t *req, json_t **ret_conf, const char *kind,
		  const char *time_key, json_t *conf)
{
	char *detail = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	int64_t ts = 0;
	int r;

	if (time_key && timestamp(call, req, time_key, &ts) < 0) {
		free(detail);
		json_decref(conf);
		return -EINVAL;
	}
	r = svc_notice(call->app->svc, call->st, kind, ts, detail ? detail : "{}");
	free(detail);
	if (r < 0) {
		json_decref(conf);
		return storage_failed(call, r);
	}
	*ret_conf = conf ? conf : json_object();
	return 0;
}

/* N07 */
int v201_notify_event(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return notice(call, req, ret_conf, "event", "generatedAt", NULL);
}

/* A04 */
int v201_security_event(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	log_notice("[cp %s] security event %s", call->conn->id, str(req, "type"));
	return notice(call, req, ret_conf, "security", "timestamp", NULL);
}

/* K15-K17: recorded for the planner; accepted. */
int v201_notify_ev_charging_needs(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return notice(call, req, ret_conf, "ev_charging_needs", NULL,
		      json_pack("{s:s}", "status", "Accepted"));
}

/* K12 */
int v201_notify_charging_limit(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return notice(call, req, ret_conf, "charging_limit", NULL, NULL);
}

/* K09 */
int v201_report_charging_profiles(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return notice(call, req, ret_conf, "charging_profiles", NULL, NULL);
}

/* A02/A03: this CSMS has no certificate authority configured, so it declines. */
int v201_sign_certificate(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	(void)req;
	log_notice("[cp %s] SignCertificate declined: no CA configured", call->conn->id);
	*ret_conf = json_pack("{s:s, s:{s:s}}", "status", "Rejected", "statusInfo", "reasonCode",
			      "NoCertAuthority");
	return 0;
}

static int status_event(struct call_ctx *call, const json_t *req, json_t **ret_conf, const char *kind)
{
	int r = svc_station_event(call->app->svc, call->st, kind, str(req, "status"));

	if (r < 0)
		return storage_failed(call, r);
	return empty(ret_conf);
}

/* L01 */
int v201_firmware_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return status_event(call, req, ret_conf, "firmware");
}

/* N01 */
int v201_log_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return status_event(call, req, ret_conf, "log");
}

/* P01/P02 */
int v201_data_transfer(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return vendor_data_transfer(call, req, ret_conf);
}

/* Operator commands as OCPP 2.0.1 messages. */
static int encode(enum adapter_cmd cmd, const struct adapter_cmd_args *a, const char **ret_action,
		  json_t **ret_payload)
{
	json_t *p;

	switch (cmd) {
	case CMD_REMOTE_START: /* F01 */
		*ret_action = "RequestStartTransaction";
		p = json_pack("{s:{s:s, s:s}, s:I}", "idToken", "idToken", a->id_tag, "type", "Central",
			      "remoteStartId", (json_int_t)a->request_id);
		if (p && a->evse_id > 0)
			json_object_set_new(p, "evseId", json_integer(a->evse_id));
		break;
	case CMD_REMOTE_STOP: /* F03 */
		*ret_action = "RequestStopTransaction";
		p = json_pack("{s:s}", "transactionId", a->station_tx_id ? a->station_tx_id : "");
		break;
	case CMD_RESET: /* B11/B12 */
		*ret_action = "Reset";
		p = json_pack("{s:s}", "type", a->hard ? "Immediate" : "OnIdle");
		break;
	case CMD_UNLOCK: /* F05 */
		*ret_action = "UnlockConnector";
		p = json_pack("{s:i, s:i}", "evseId", a->evse_id, "connectorId",
			      a->connector_id ? a->connector_id : 1);
		break;
	case CMD_AVAILABILITY: /* G03/G04 */
		*ret_action = "ChangeAvailability";
		p = json_pack("{s:s}", "operationalStatus", a->operative ? "Operative" : "Inoperative");
		if (p && a->evse_id > 0)
			json_object_set_new(p, "evse", json_pack("{s:i}", "id", a->evse_id));
		break;
	default:
		return -EINVAL;
	}
	if (!p)
		return -ENOMEM;
	*ret_payload = p;
	return 0;
}

const struct adapter v201_adapter = { .version = OCPP_V201, .find = find, .encode = encode };
