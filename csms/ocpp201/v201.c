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

#include "../adapter.h"
#include "../core/cfg.h"
#include "../core/log.h"
#include "../svc/cert.h"
#include "../svc/domain.h"
#include "../plan_rt.h"
#include "../svc/sites.h"
#include "../svc/svc.h"

const struct adapter_action v201_actions[] = {
#define OCPP_ACTION(n, f) {n, f},
#include "actions.def"
#undef OCPP_ACTION
};
const size_t v201_actions_count = sizeof(v201_actions) / sizeof(v201_actions[0]);

static adapter_handler_fn find_action(const char *action)
{
	return adapter_find(v201_actions, v201_actions_count, action);
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
		json_object_set_new(o, "cacheExpiryDateTime", adapter_time(a->expiry_ms));
	if (o && a->parent[0])
		json_object_set_new(
		    o, "groupIdToken",
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
	    .vendor = adapter_str(cs, "vendorName"),
	    .model = adapter_str(cs, "model"),
	    .serial = adapter_str(cs, "serialNumber"),
	    .firmware = adapter_str(cs, "firmwareVersion"),
	    .iccid = adapter_str(modem, "iccid"),
	    .imsi = adapter_str(modem, "imsi"),
	    .now_ms = svc_now_ms(call->svc),
	};

	log_info("[cp %s] boot, reason %s", call->st->id, adapter_str(req, "reason"));
	return adapter_boot(call, &b, ret_conf);
}

/* G01 */
int v201_status_notification(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t ts, evse = adapter_int(req, "evseId"), connector = adapter_int(req, "connectorId");
	int r;

	if (adapter_timestamp(call, req, "timestamp", &ts) < 0)
		return -EINVAL;
	if (evse < 0 || evse > call->cfg->max_connectors || connector < 0 ||
	    connector > call->cfg->max_connectors)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
				 "evseId/connectorId outside 0..%d", call->cfg->max_connectors);
	r = svc_connector_status(call->svc, call->st, (int)evse, (int)connector,
				 adapter_str(req, "connectorStatus"), NULL, NULL, NULL, ts);
	if (r < 0)
		return adapter_failed(call, r);
	return empty(ret_conf);
}

/* C01 */
int v201_authorize(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	struct svc_auth a;
	int r = svc_authorize(call->svc, call->st,
			      adapter_str(json_object_get(req, "idToken"), "idToken"), &a);

	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:o}", "idTokenInfo", id_token_info(&a));
	return 0;
}

/* One sampled value in Wh when it is the total imported energy register. */
static bool sample_wh(const json_t *sv, int64_t *ret)
{
	const char *measurand = adapter_str(sv, "measurand");
	const json_t *uom = json_object_get(sv, "unitOfMeasure");
	const char *unit = adapter_str(uom, "unit");
	double v = json_number_value(json_object_get(sv, "value")), wh;
	int64_t mult = adapter_int(uom, "multiplier");

	if (adapter_measurand_kind(measurand) != MEAS_ENERGY_IMPORT_REGISTER)
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

	json_array_foreach(meter_values, i, mv) {
		int64_t ts = 0;

		ocpp_time_parse(adapter_str(mv, "timestamp"), &ts);
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			const char *context = adapter_str(sv, "context");
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

/* Room for the texts of one reading that the JSON does not hold as text. */
struct sample_text {
	char value[64], unit[48];
};

/* Gather one SampledValueType taken at ts into s, its texts into x. */
static void gather_sample(const json_t *sv, int evse, int64_t session, int64_t ts,
			  struct store_sample *s, struct sample_text *x)
{
	const json_t *uom = json_object_get(sv, "unitOfMeasure");
	const json_t *sig = json_object_get(sv, "signedMeterValue");
	const char *measurand = adapter_str(sv, "measurand");
	const char *context = adapter_str(sv, "context");

	*s = (struct store_sample){
	    .session_id = session,
	    .evse_id = evse,
	    .ts_ms = ts,
	    .measurand = measurand ? measurand : ADAPTER_DEFAULT_MEASURAND,
	    .measurand_kind = adapter_measurand_kind(measurand),
	    .phase = adapter_str(sv, "phase"),
	    .context = context ? context : ADAPTER_DEFAULT_CONTEXT,
	    .location = adapter_str(sv, "location"),
	    .value = x->value,
	};
	/* the value as the charger sent it; the multiplier stays with the unit */
	snprintf(x->value, sizeof(x->value), "%.17g",
		 json_number_value(json_object_get(sv, "value")));
	if (adapter_str(uom, "unit") || json_object_get(uom, "multiplier")) {
		if (adapter_int(uom, "multiplier"))
			snprintf(x->unit, sizeof(x->unit), "%s*10^%lld",
				 adapter_str(uom, "unit") ? adapter_str(uom, "unit") : "Wh",
				 (long long)adapter_int(uom, "multiplier"));
		else
			snprintf(x->unit, sizeof(x->unit), "%s", adapter_str(uom, "unit"));
		s->unit = x->unit;
	} else if (strncmp(s->measurand, "Energy.Active", 13) == 0) {
		s->unit = "Wh";
	}
	if (sig) { /* 2.0.1 2.44 SignedMeterValueType: kept verbatim */
		s->format = "SignedData";
		s->sig = (struct signed_meter_data){
		    .data = adapter_str(sig, "signedMeterData"),
		    .signing_method = adapter_str(sig, "signingMethod"),
		    .encoding_method = adapter_str(sig, "encodingMethod"),
		    .public_key = adapter_str(sig, "publicKey"),
		};
	}
}

/* Store every sampled value of a MeterValueType list, all with one store call (or none). */
static int store_meter_values(struct call_ctx *call, int evse, int64_t session, const json_t *mvs)
{
	struct store_sample local[ADAPTER_SAMPLES_LOCAL], *smp = local;
	struct sample_text local_text[ADAPTER_SAMPLES_LOCAL], *text = local_text;
	size_t i, j, n = 0, cap = adapter_samples_count(mvs);
	const json_t *mv, *sv;
	int r = 0;

	if (cap > ADAPTER_SAMPLES_LOCAL) {
		smp = calloc(cap, sizeof(*smp));
		text = calloc(cap, sizeof(*text));
		if (!smp || !text) {
			r = adapter_failed(call, -ENOMEM);
			goto out;
		}
	}
	json_array_foreach(mvs, i, mv) {
		int64_t ts;

		r = adapter_timestamp(call, mv, "timestamp", &ts);
		if (r < 0)
			goto out;
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			gather_sample(sv, evse, session, ts, &smp[n], &text[n]);
			n++;
		}
	}
	r = adapter_samples_store(call, smp, n);
out:
	if (smp != local)
		free(smp);
	if (text != local_text)
		free(text);
	return r;
}

/* J01 */
int v201_meter_values(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t evse = adapter_int(req, "evseId");

	if (evse < 0 || evse > call->cfg->max_connectors)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "evseId %lld outside 0..%d",
				 (long long)evse, call->cfg->max_connectors);
	if (store_meter_values(call, (int)evse, 0, json_object_get(req, "meterValue")) < 0)
		return -EINVAL;
	return empty(ret_conf);
}

/* E01-E15 TransactionEventEnumType: what each event does to the session */
static const char *const event_types[_SESSION_EVENT_MAX] = {
    [SESSION_OPEN] = "Started",
    [SESSION_UPDATE] = "Updated",
    [SESSION_CLOSE] = "Ended",
};

/* E01-E15: durable before the answer (the group commit holds the reply); a replayed event
 * (same transaction and seqNo) is answered again without a second effect. */
int v201_transaction_event(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *info = json_object_get(req, "transactionInfo");
	const json_t *evse = json_object_get(req, "evse");
	const json_t *token = json_object_get(req, "idToken");
	const json_t *mvs = json_object_get(req, "meterValue");
	const char *type = adapter_str(req, "eventType");
	const char *reason = adapter_str(info, "stoppedReason");
	struct svc_session_event ev = {
	    .station_tx_id = adapter_str(info, "transactionId"),
	    .has_seq = true,
	    .seq_no = adapter_int(req, "seqNo"),
	    .label = type,
	    .offline = json_is_true(json_object_get(req, "offline")),
	    .trigger = adapter_str(req, "triggerReason"),
	    /* range-checked below, before any narrowing */
	    .id_token = token ? adapter_str(token, "idToken") : NULL,
	    .has_reservation = json_object_get(req, "reservationId") != NULL,
	    .reservation_id = adapter_int(req, "reservationId"),
	};
	struct svc_session_result res;
	int kind = domain_lookup(event_types, _SESSION_EVENT_MAX, type), r;

	if (kind < 0)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "eventType %s", type);
	if (kind == SESSION_CLOSE) {
		/* 2.0.1 TransactionType.stoppedReason "MAY only be omitted when reason is Local" */
		ev.stop_reason_text = reason ? reason : "Local";
		ev.stop_reason = adapter_stop_reason(ev.stop_reason_text);
	}
	if (evse) {
		int64_t id = adapter_int(evse, "id"), connector = adapter_int(evse, "connectorId");

		if (id < 0 || id > call->cfg->max_connectors || connector < 0 ||
		    connector > call->cfg->max_connectors)
			return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
					 "evse.id/connectorId outside 0..%d",
					 call->cfg->max_connectors);
		ev.evse_id = (int)id;
		ev.connector_id = (int)connector;
	}
	if (adapter_timestamp(call, req, "timestamp", &ev.ts_ms) < 0)
		return -EINVAL;
	if (adapter_negative_register(mvs)) /* refused before the event is stored */
		return adapter_failed(call, -EDOM);
	ev.has_energy = v201_energy_register(mvs,
					     kind == SESSION_OPEN    ? "Transaction.Begin"
					     : kind == SESSION_CLOSE ? "Transaction.End"
								     : NULL,
					     &ev.energy_wh);
	r = kind == SESSION_OPEN    ? svc_session_open(call->svc, call->st, &ev, &res)
	    : kind == SESSION_CLOSE ? svc_session_close(call->svc, call->st, &ev, &res)
				    : svc_session_update(call->svc, call->st, &ev, &res);
	if (r < 0)
		return adapter_failed(call, r);
	if (res.replay)
		log_info("[cp %s] TransactionEvent %s seqNo %lld replayed, not applied again",
			 call->st->id, ev.station_tx_id, (long long)ev.seq_no);
	else if (mvs && store_meter_values(call, res.evse_id, res.session_id, mvs) < 0)
		/* E01: an event after Started may omit evse; its samples go to the session's */
		return -EINVAL;
	*ret_conf =
	    token ? json_pack("{s:o}", "idTokenInfo", id_token_info(&res.auth)) : json_object();
	return 0;
}

/* B07/B08: store the device model, part by part (seqNo, tbc). */
int v201_notify_report(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *data = json_object_get(req, "reportData"), *rd, *attr;
	size_t i, j;
	int r;

	json_array_foreach(data, i, rd) {
		const json_t *comp = json_object_get(rd, "component");
		const json_t *var = json_object_get(rd, "variable");
		const json_t *evse = json_object_get(comp, "evse");
		const json_t *chars = json_object_get(rd, "variableCharacteristics");

		if (evse && (adapter_int(evse, "id") < 0 ||
			     adapter_int(evse, "id") > call->cfg->max_connectors ||
			     adapter_int(evse, "connectorId") < 0 ||
			     adapter_int(evse, "connectorId") > call->cfg->max_connectors))
			return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
					 "reportData[%zu]: evse outside 0..%d", i,
					 call->cfg->max_connectors);
		json_array_foreach(json_object_get(rd, "variableAttribute"), j, attr) {
			struct store_variable v = {
			    .component = adapter_str(comp, "name"),
			    .component_instance = adapter_str(comp, "instance"),
			    .evse_id = evse ? (int)adapter_int(evse, "id") : -1,
			    .connector_id = evse && json_object_get(evse, "connectorId")
						? (int)adapter_int(evse, "connectorId")
						: -1,
			    .variable = adapter_str(var, "name"),
			    .variable_instance = adapter_str(var, "instance"),
			    /* B07: an attribute without a type is the Actual value */
			    .attribute_type =
				adapter_str(attr, "type") ? adapter_str(attr, "type") : "Actual",
			    .value = adapter_str(attr, "value"),
			    .mutability = adapter_str(attr, "mutability"),
			    .data_type = adapter_str(chars, "dataType"),
			    .unit = adapter_str(chars, "unit"),
			};

			r = svc_variable_put(call->svc, call->st, &v);
			if (r < 0)
				return adapter_failed(call, r);
		}
	}
	r = svc_report_part(call->svc, call->st, adapter_int(req, "requestId"),
			    adapter_int(req, "seqNo"), json_is_true(json_object_get(req, "tbc")));
	if (r < 0)
		return adapter_failed(call, r);
	return empty(ret_conf);
}

/* Store a notification verbatim (compact JSON) for the operator. */
static int notice(struct call_ctx *call, const json_t *req, json_t **ret_conf, const char *kind,
		  const char *time_key, json_t *conf)
{
	char *detail = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	int64_t ts = 0;
	int r;

	if (time_key && adapter_timestamp(call, req, time_key, &ts) < 0) {
		free(detail);
		json_decref(conf);
		return -EINVAL;
	}
	r = svc_notice(call->svc, call->st, kind, ts, detail ? detail : "{}");
	free(detail);
	if (r < 0) {
		json_decref(conf);
		return adapter_failed(call, r);
	}
	*ret_conf = conf ? conf : json_object();
	return 0;
}

/* N07 */
int v201_notify_event(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return notice(call, req, ret_conf, "event", "generatedAt", NULL);
}

/* H02 (sites): the station's word on a reservation it held: expired or removed. */
int v201_reservation_status_update(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int r = svc_reservation_update(call->svc, call->st->id, adapter_int(req, "reservationId"),
				       adapter_str(req, "reservationUpdateStatus"));

	if (r < 0)
		return adapter_failed(call, r);
	return empty(ret_conf);
}

/* A04 */
int v201_security_event(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	log_notice("[cp %s] security event %s", call->st->id, adapter_str(req, "type"));
	return notice(call, req, ret_conf, "security", "timestamp", NULL);
}

static int64_t num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) && json_number_value(v) >= 0 ? (int64_t)json_number_value(v) : -1;
}

/* K15-K17: stored, and answered Accepted only when the planner acts on them (the site is
 * managed: residential, or with a limit or a tariff, and the station's capability record does
 * not say smart_charging false); Rejected otherwise (no session on the EVSE, a site nobody
 * plans, or a station that is sent no profiles). */
int v201_notify_ev_charging_needs(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *cn = json_object_get(req, "chargingNeeds");
	const json_t *ac = json_object_get(cn, "acChargingParameters");
	const json_t *dc = json_object_get(cn, "dcChargingParameters");
	struct svc_needs_in in;
	bool managed = false;
	int r;

	svc_needs_init(&in);
	if (json_object_get(cn, "departureTime") &&
	    adapter_timestamp(call, cn, "departureTime", &in.departure_ms) < 0)
		return -EINVAL;
	if (ac) {
		int64_t a = num(ac, "evMaxCurrent"), v = num(ac, "evMaxVoltage");

		in.energy_wh = num(ac, "energyAmount");
		if (a > 0 && v > 0)
			in.max_charge_w = a * v;
	} else if (dc) {
		in.energy_wh = num(dc, "energyAmount");
		in.max_charge_w = num(dc, "evMaxPower");
		in.capacity_wh = num(dc, "evEnergyCapacity");
		in.soc = (int)num(dc, "stateOfCharge");
		in.target_soc = (int)num(dc, "fullSoC");
		if (in.capacity_wh <= 0 || in.soc < 0)
			in.capacity_wh = -1, in.soc = -1;
	}
	r = notice(call, req, ret_conf, "ev_charging_needs", NULL, NULL);
	if (r < 0)
		return r;
	json_decref(*ret_conf);
	*ret_conf = NULL;
	r = svc_needs_from_station(call->svc, call->st,
				   (int)json_integer_value(json_object_get(req, "evseId")), "ev",
				   &in, &managed);
	if (r < 0 && r != -ENOENT)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:s}", "status", r == 0 && managed ? "Accepted" : "Rejected");
	return 0;
}

/* The limit in W a NotifyChargingLimit's schedule puts on the station now, and until when
 * (0: open); -1 when it has no schedule or none in force. Amperes count at 230 V per phase
 * (numberPhases, 3 when absent). */
static int64_t charging_limit_now(struct call_ctx *call, const json_t *req, int64_t *ret_until)
{
	const json_t *sched = json_array_get(json_object_get(req, "chargingSchedule"), 0), *per;
	int64_t start = 0, now = svc_now_ms(call->svc), limit = -1;
	bool amps;
	size_t i;

	*ret_until = 0;
	if (!sched)
		return -1;
	if (json_object_get(sched, "startSchedule") &&
	    adapter_timestamp(call, sched, "startSchedule", &start) < 0)
		return -1;
	if (start > now)
		return -1;
	if (json_integer_value(json_object_get(sched, "duration")) > 0)
		*ret_until = (start ? start : now) +
			     json_integer_value(json_object_get(sched, "duration")) * 1000;
	amps = !strcmp(adapter_str(sched, "chargingRateUnit") ?: "W", "A");
	json_array_foreach(json_object_get(sched, "chargingSchedulePeriod"), i, per) {
		int64_t at = (start ? start : now) +
			     json_integer_value(json_object_get(per, "startPeriod")) * 1000;
		double v = json_number_value(json_object_get(per, "limit"));
		json_int_t ph = json_integer_value(json_object_get(per, "numberPhases"));

		if (at > now)
			break;
		limit = (int64_t)(amps ? v * 230.0 * (double)(ph > 0 ? ph : 3) : v);
	}
	return limit < 0 ? -1 : limit;
}

/* K12: stored, and a schedule in force holds the station's sessions in the plan. The limit
 * is stored in the same group as the notice: the answer (sent after the group's commit) says
 * both are durable, and a failed write fails the call so the station sends it again. */
int v201_notify_charging_limit(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t until, w;
	int r = notice(call, req, ret_conf, "charging_limit", NULL, NULL);

	if (r < 0)
		return r;
	w = charging_limit_now(call, req, &until);
	if (w >= 0) {
		r = svc_station_ext_limit(call->svc, call->st,
					  (int)json_integer_value(json_object_get(req, "evseId")),
					  w, until);
		if (r < 0)
			return adapter_failed(call, r); /* dispatch drops *ret_conf */
	}
	return 0;
}

/* K13: the external limit is gone (stored; the station's sessions planned without it) */
int v201_cleared_charging_limit(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int r = notice(call, req, ret_conf, "charging_limit_cleared", NULL, NULL);

	if (r < 0)
		return r;
	r = svc_station_ext_limit(call->svc, call->st,
				  (int)json_integer_value(json_object_get(req, "evseId")), -1, 0);
	return r < 0 ? adapter_failed(call, r) : 0;
}

/* K09 */
int v201_report_charging_profiles(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return notice(call, req, ret_conf, "charging_profiles", NULL, NULL);
}

/* A02/A03: this CSMS has no certificate authority configured, so it declines. */
int v201_sign_certificate(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const char *type = adapter_str(req, "certificateType");
	int r;

	/* V2G certificates name the EVSE (ISO 15118), not the station: not this CA's */
	if (type && strcmp(type, "ChargingStationCertificate") != 0) {
		*ret_conf = json_pack("{s:s, s:{s:s}}", "status", "Rejected", "statusInfo",
				      "reasonCode", "UnsupportedCertType");
		return 0;
	}
	r = svc_cert_request(call->svc, call->st, adapter_str(req, "csr"));
	if (r == -ENODEV) {
		log_notice("[cp %s] SignCertificate declined: no CA configured", call->st->id);
		*ret_conf = json_pack("{s:s, s:{s:s}}", "status", "Rejected", "statusInfo",
				      "reasonCode", "NoCertAuthority");
		return 0;
	}
	if (r == -EBUSY) {
		*ret_conf = json_pack("{s:s, s:{s:s}}", "status", "Rejected", "statusInfo",
				      "reasonCode", "Busy");
		return 0;
	}
	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:s}", "status", "Accepted");
	return 0;
}

/* L01 */
int v201_firmware_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return adapter_status_event(call, req, ret_conf, STATION_EVENT_FIRMWARE);
}

/* N01 */
int v201_log_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return adapter_status_event(call, req, ret_conf, STATION_EVENT_LOG);
}

/* P01/P02 */
int v201_data_transfer(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return vendor_data_transfer(call, req, ret_conf);
}

const struct adapter v201_adapter = {.version = OCPP_V201,
				     .find = find_action,
				     .encode_cmd = v201_encode_cmd,
				     .decode_result = v201_decode_result};
