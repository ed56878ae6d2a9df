/* SPDX-License-Identifier: MIT */
/* Helpers shared by the version adapters. */
#include "adapter.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ocpp16/v16.h"
#include "ocpp201/v201.h"
#include "svc/domain.h"
#include "plan_rt.h"
#include "svc/svc.h"
#include "svc/swap.h"

const struct adapter *adapter_for(enum ocpp_version v)
{
	switch (v) {
	case OCPP_V16:
		return &v16_adapter;
	case OCPP_V201:
		return &v201_adapter;
	default:
		return NULL;
	}
}

int call_fail(struct call_ctx *call, enum ocpp_err err, const char *fmt, ...)
{
	va_list ap;

	call->err = err;
	va_start(ap, fmt);
	vsnprintf(call->err_desc, sizeof(call->err_desc), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int cmp_action(const void *key, const void *elem)
{
	return strcmp(key, ((const struct adapter_action *)elem)->name);
}

adapter_handler_fn adapter_find(const struct adapter_action *table, size_t n, const char *action)
{
	const struct adapter_action *a = bsearch(action, table, n, sizeof(table[0]), cmp_action);

	return a ? a->fn : NULL;
}

const char *adapter_str(const json_t *o, const char *key)
{
	return ocpp_json_str(o, key);
}

int64_t adapter_int(const json_t *o, const char *key)
{
	return ocpp_json_int(o, key);
}

json_t *adapter_time(int64_t ms)
{
	char buf[40];

	ocpp_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

json_t *adapter_v2g_mode(const struct svc_cmd *c, json_t *tx_id)
{
	json_t *data, *req;
	char *text;

	if (!tx_id || !svc_op_mode_name(c->v2g.mode) || c->evse_id < 1) {
		json_decref(tx_id);
		return NULL;
	}
	data = json_pack("{s:i, s:s, s:I, s:o, s:I}", "evseId", c->evse_id, "operationMode",
			 svc_op_mode_name(c->v2g.mode), "setpointW", (json_int_t)c->v2g.setpoint_w,
			 "transactionId", tx_id, "validUntilMs", (json_int_t)c->v2g.valid_until_ms);
	text = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(data);
	if (!text)
		return NULL;
	req = json_pack("{s:s, s:s, s:s}", "vendorId", SVC_VENDOR_ID, "messageId", "SetV2GMode",
			"data", text);
	free(text);
	return req;
}

int adapter_timestamp(struct call_ctx *call, const json_t *o, const char *key, int64_t *ret)
{
	const char *s = adapter_str(o, key);

	if (!s) {
		*ret = svc_now_ms(call->svc);
		return 0;
	}
	if (ocpp_time_parse(s, ret) < 0)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "%s: not a date-time", key);
	return 0;
}

int adapter_failed(struct call_ctx *call, int r)
{
	if (r == -ERANGE)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
				 "evse or connector id out of range");
	if (r == -EDOM) /* issue 10: svc refuses a negative energy register */
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "negative energy register");
	log_err("[cp %s] %s: storage error %d: %s", call->st->id, call->action, r,
		svc_errmsg(call->svc));
	return call_fail(call, OCPP_ERR_INTERNAL, "storage failure");
}

size_t adapter_samples_count(const json_t *meter_values)
{
	const json_t *mv;
	size_t i, n = 0;

	json_array_foreach(meter_values, i, mv)
		n += json_array_size(json_object_get(mv, "sampledValue"));
	return n;
}

int adapter_samples_store(struct call_ctx *call, struct store_sample *in, size_t n)
{
	int local[ADAPTER_SAMPLES_LOCAL], *ret = local, r;

	if (n > ADAPTER_SAMPLES_LOCAL) {
		ret = calloc(n, sizeof(*ret));
		if (!ret)
			return adapter_failed(call, -ENOMEM);
	}
	r = svc_samples_add(call->svc, call->st, in, n, ret);
	if (ret != local)
		free(ret);
	return r < 0 ? adapter_failed(call, r) : 0;
}

/* issue 10: a negative energy register among meter_values (a MeterValue array of either
 * version: 1.6 values are strings, 2.0.1 numbers). */
bool adapter_negative_register(const json_t *meter_values)
{
	const json_t *mv, *sv, *v;
	size_t i, j;

	json_array_foreach(meter_values, i, mv) {
		json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
			int kind = adapter_measurand_kind(adapter_str(sv, "measurand"));
			double x = 0;

			if (kind != MEAS_ENERGY_IMPORT_REGISTER &&
			    kind != MEAS_ENERGY_EXPORT_REGISTER)
				continue;
			v = json_object_get(sv, "value");
			if (json_is_number(v))
				x = json_number_value(v);
			else if (json_is_string(v))
				x = strtod(json_string_value(v), NULL);
			if (x < 0)
				return true;
		}
	}
	return false;
}

/* Vendor-specific DataTransfer handlers (OCPP 1.6 4.3, 2.0.1 P01/P02). */
struct vendor_handler {
	const char *vendor_id, *message_id;
	const char *status;
};
static const struct vendor_handler vendor_handlers[] = {
    /* a liveness probe chargers and tests can use */
    {"org.openchargenet.csms", "Ping", "Accepted"},
};

static int64_t jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) && json_number_value(v) >= 0 ? (int64_t)json_number_value(v) : -1;
}

/* docs/v2g.md: a station tells the needs of the EV on an EVSE and whether the EVSE (and the
 * driver) allow discharging: DataTransfer org.openchargenet.csms / EVChargingNeeds, data a JSON
 * text. Accepted when the planner acts on it, Rejected otherwise. */
static int ev_needs_dt(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *d = json_object_get(req, "data");
	json_t *o =
	    json_is_string(d) ? json_loads(json_string_value(d), 0, NULL) : json_deep_copy(d);
	struct svc_needs_in in;
	bool managed = false;
	const json_t *v;
	int r;

	if (!json_is_object(o)) {
		json_decref(o);
		*ret_conf = json_pack("{s:s}", "status", "Rejected");
		return 0;
	}
	svc_needs_init(&in);
	if (json_object_get(o, "departureTime") &&
	    adapter_timestamp(call, o, "departureTime", &in.departure_ms) < 0) {
		json_decref(o);
		return -EINVAL;
	}
	in.energy_wh = jnum(o, "energyAmountWh");
	in.capacity_wh = jnum(o, "capacityWh");
	in.soc = (int)jnum(o, "socPercent");
	in.target_soc = (int)jnum(o, "targetSocPercent");
	in.soc_floor = (int)jnum(o, "socFloorPercent");
	in.max_charge_w = jnum(o, "maxChargeW");
	in.max_discharge_w = jnum(o, "maxDischargeW");
	if ((v = json_object_get(o, "v2gAllowed")) && json_is_boolean(v))
		in.v2g = json_is_true(v);
	if ((v = json_object_get(o, "bidirectional")) && json_is_boolean(v))
		in.bidirectional = json_is_true(v);
	r = svc_needs_from_station(call->svc, call->st, (int)jnum(o, "evseId"), "station", &in,
				   &managed);
	json_decref(o);
	if (r < 0 && r != -ENOENT)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:s}", "status", r == 0 && managed ? "Accepted" : "Rejected");
	return 0;
}

/* ---- battery swap (docs/swap.md): DataTransfer org.openchargenet.csms / BatterySwap, data the
 * JSON text of an OCPP 2.1 BatterySwapRequest, validated against the 2.1 schema. */

/* The planner gets each racked pack's "ready by" as the needs of the session on its slot. */
struct rack_ctx {
	struct call_ctx *call;
	const struct swap_policy *pol;
};

static int rack_need_fn(const struct swap_rack_need *n, void *ud)
{
	struct rack_ctx *x = ud;
	struct call_ctx *call = x->call;
	struct svc_needs_in in;
	int r;

	svc_needs_init(&in);
	/* the planner aims margin_ms early: its schedules reach the slot late and in 15-minute
	 * steps, and the cheapest plan finishes just in time */
	in.departure_ms = n->ready_ms - x->pol->margin_ms;
	in.target_soc = 100;
	in.max_charge_w = x->pol->slot_power_w; /* the power the promise counts on */
	/* the SoC as racked only once, with the first "ready by": told again it would count the
	 * session's energy from the register of now, as if the pack had not charged since
	 * (the planner then saw full packs short and charged them at once, in flat hours) */
	if (n->capacity_wh > 0 && n->soc >= 0 && !n->planned_ready_ms) {
		in.capacity_wh = n->capacity_wh;
		in.soc = (int)n->soc;
	}
	/* source "station": the rack is the station's (0005_planner.sql admits no other) */
	r = svc_needs_from_station(call->svc, call->st, n->evse_id, "station", &in, NULL);
	if (r == -ENOENT)
		return 0; /* a slot without a charging session has nothing to plan */
	return r < 0 ? r : swap_rack_commit(call->svc, n);
}

/* One BatteryDataType; vendorInfo may be the JSON text {"type": ..., "capacityWh": ...}
 * (docs/swap.md), parsed into *ret_vi (the caller frees it; ret's type is borrowed from it). */
static int swap_battery_parse(struct call_ctx *call, const json_t *b, struct swap_battery *ret,
			      json_t **ret_vi)
{
	const json_t *vi_j = json_object_get(b, "vendorInfo");
	json_t *vi = json_is_string(vi_j) ? json_loads(json_string_value(vi_j), 0, NULL) : NULL;
	const char *pd = adapter_str(b, "productionDate");

	*ret = (struct swap_battery){
	    .evse_id = (int)adapter_int(b, "evseId"),
	    .serial = adapter_str(b, "serialNumber"),
	    .soc = json_number_value(json_object_get(b, "soC")),
	    .soh = json_number_value(json_object_get(b, "soH")),
	};
	if (pd && ocpp_time_parse(pd, &ret->production_ms) < 0) {
		json_decref(vi);
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
				 "data: productionDate: not a date-time");
	}
	if (json_is_object(vi)) {
		json_int_t cap = json_integer_value(json_object_get(vi, "capacityWh"));
		const char *type = adapter_str(vi, "type");

		ret->capacity_wh = cap > 0 ? (int64_t)cap : 0;
		if (type && strlen(type) < 64)
			ret->type = type;
	}
	*ret_vi = vi;
	return 0;
}

/* customData of the project's vendor (docs/swap.md): the time the event happened at the
 * station (RFC 3339) and the power of its slots, which the planner and the promise count on. */
static int swap_custom_data(struct call_ctx *call, const json_t *cd, struct swap_event *ev,
			    struct swap_policy *pol)
{
	const char *vendor = adapter_str(cd, "vendorId"), *ts = adapter_str(cd, "timestamp");
	const json_t *w;

	if (!vendor || strcmp(vendor, SVC_VENDOR_ID) != 0)
		return 0;
	if (ts && ocpp_time_parse(ts, &ev->stated_ms) < 0)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
				 "data: customData.timestamp: not a date-time");
	w = json_object_get(cd, "slotMaxPowerW");
	if (json_is_number(w) && json_number_value(w) >= SWAP_SLOT_POWER_MIN_W &&
	    json_number_value(w) <= SWAP_SLOT_POWER_MAX_W)
		pol->slot_power_w = (int64_t)json_number_value(w);
	return 0;
}

static int swap_dt(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const json_t *d = json_object_get(req, "data");
	json_t *o =
	    json_is_string(d) ? json_loads(json_string_value(d), 0, NULL) : json_deep_copy(d);
	const struct tariff_calendar *cal = svc_site_tariff(call->svc, call->st->site_id);
	json_t *vi[SWAP_BATTERIES_MAX] = {0};
	struct swap_event ev = {0};
	struct swap_policy pol;
	const json_t *bd, *b;
	char desc[128];
	enum ocpp_err e;
	size_t i;
	int r;

	if (!json_is_object(o)) {
		r = call_fail(call, OCPP_ERR_FORMATION, "data: not the JSON text of an object");
		goto out;
	}
	e = ocpp_v21_validate((enum ocpp_version)call->st->protocol, "BatterySwapRequest", o, desc,
			      sizeof(desc));
	if (e != OCPP_ERR_NONE) {
		r = call_fail(call, e, "data: %s", desc);
		goto out;
	}
	bd = json_object_get(o, "batteryData");
	if (json_array_size(bd) > SWAP_BATTERIES_MAX) {
		r = call_fail(call, OCPP_ERR_OCCURRENCE_CONSTRAINT,
			      "data: batteryData: more than %d", SWAP_BATTERIES_MAX);
		goto out;
	}
	ev.type = swap_event_from_string(adapter_str(o, "eventType"));
	ev.request_id = adapter_int(o, "requestId");
	ev.id_token = adapter_str(json_object_get(o, "idToken"), "idToken");
	ev.stock = !strcmp(adapter_str(json_object_get(o, "idToken"), "type"), "NoAuthorization");
	ev.ts_ms = svc_now_ms(call->svc);
	/* the site's thresholds (docs/sites.md) */
	r = swap_policy_site(call->svc, call->st->site_id, &pol);
	if (r < 0) {
		r = adapter_failed(call, r);
		goto out;
	}
	r = swap_custom_data(call, json_object_get(o, "customData"), &ev, &pol);
	if (r < 0)
		goto out;
	json_array_foreach(bd, i, b) {
		r = swap_battery_parse(call, b, &ev.batteries[i], &vi[i]);
		if (r < 0)
			goto out;
		ev.n_batteries = i + 1;
	}
	r = swap_event_record(call->svc, call->st->id, &ev, cal, &pol, NULL);
	if (r == -EINVAL) {
		r = call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT, "data: not a valid battery swap");
		goto out;
	}
	if (r < 0) {
		r = adapter_failed(call, r);
		goto out;
	}
	/* the rack changed: tell the planner when each racked pack must be ready */
	r = swap_rack_needs(call->svc, call->st->id, cal, &pol, rack_need_fn,
			    &(struct rack_ctx){.call = call, .pol = &pol});
	if (r < 0)
		log_warn("[cp %s] swap: rack needs not updated: %d", call->st->id, r);
	*ret_conf = json_pack("{s:s, s:s}", "status", "Accepted", "data", "{}");
	r = 0;
out:
	for (i = 0; i < SWAP_BATTERIES_MAX; i++)
		json_decref(vi[i]);
	json_decref(o);
	return r;
}

int vendor_data_transfer(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const char *vendor = json_string_value(json_object_get(req, "vendorId"));
	const char *msg = json_string_value(json_object_get(req, "messageId"));
	const char *status = "UnknownVendorId";

	if (vendor && msg && !strcmp(vendor, SVC_VENDOR_ID) && !strcmp(msg, "EVChargingNeeds"))
		return ev_needs_dt(call, req, ret_conf);
	if (vendor && msg && !strcmp(vendor, SVC_VENDOR_ID) && !strcmp(msg, "BatterySwap"))
		return swap_dt(call, req, ret_conf);
	for (size_t i = 0; i < sizeof(vendor_handlers) / sizeof(vendor_handlers[0]); i++) {
		if (strcmp(vendor, vendor_handlers[i].vendor_id) != 0)
			continue;
		status = "UnknownMessageId";
		if (msg && strcmp(msg, vendor_handlers[i].message_id) == 0) {
			status = vendor_handlers[i].status;
			break;
		}
	}
	*ret_conf = json_pack("{s:s}", "status", status);
	return 0;
}

int adapter_status_event(struct call_ctx *call, const json_t *req, json_t **ret_conf, int kind)
{
	int r = svc_station_event(call->svc, call->st, kind, adapter_str(req, "status"));

	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_object();
	return 0;
}

int adapter_boot(struct call_ctx *call, const struct store_boot *b, json_t **ret_conf)
{
	struct svc_boot_result res;
	int r = svc_boot(call->svc, call->st, b, &res);

	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:s, s:o, s:i}", "status", reg_status_to_string(res.status),
			      "currentTime", adapter_time(b->now_ms), "interval", res.interval_s);
	return 0;
}

/* OCPP 1.6 4.6, 2.0.1 G02: the same message in both versions. */
int adapter_heartbeat(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int r = svc_heartbeat(call->svc, call->st);

	(void)req;
	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:o}", "currentTime", adapter_time(svc_now_ms(call->svc)));
	return 0;
}

/* OCPP 1.6 7.31 Measurand, 2.0.1 MeasurandEnumType: the kinds the domain reasons with. */
static const struct {
	const char *word;
	int kind;
} measurands[] = {
    {"Energy.Active.Import.Register", MEAS_ENERGY_IMPORT_REGISTER},
    {"Energy.Active.Export.Register", MEAS_ENERGY_EXPORT_REGISTER},
    {"Power.Active.Import", MEAS_POWER_IMPORT},
    {"Power.Active.Export", MEAS_POWER_EXPORT},
    {"Current.Import", MEAS_CURRENT_IMPORT},
    {"Current.Export", MEAS_CURRENT_EXPORT},
    {"Voltage", MEAS_VOLTAGE},
    {"SoC", MEAS_SOC},
};

int adapter_measurand_kind(const char *measurand)
{
	if (!measurand)
		return MEAS_ENERGY_IMPORT_REGISTER; /* OCPP 1.6 7.45, 2.0.1 2.51: the default */
	for (size_t i = 0; i < sizeof(measurands) / sizeof(measurands[0]); i++)
		if (strcmp(measurand, measurands[i].word) == 0)
			return measurands[i].kind;
	return MEAS_OTHER;
}

/* OCPP 1.6 7.30 ReadingContext, 2.0.1 ReadingContextEnumType */
static const char *const contexts[_SAMPLE_CTX_MAX] = {
    [SAMPLE_CTX_PERIODIC] = "Sample.Periodic",
    [SAMPLE_CTX_CLOCK] = "Sample.Clock",
    [SAMPLE_CTX_TX_BEGIN] = "Transaction.Begin",
    [SAMPLE_CTX_TX_END] = "Transaction.End",
    [SAMPLE_CTX_TRIGGER] = "Trigger",
    [SAMPLE_CTX_INTERRUPTION_BEGIN] = "Interruption.Begin",
    [SAMPLE_CTX_INTERRUPTION_END] = "Interruption.End",
    [SAMPLE_CTX_OTHER] = "Other",
};

int adapter_sample_context(const char *context)
{
	int k;

	if (!context)
		return SAMPLE_CTX_PERIODIC;
	k = domain_lookup(contexts, _SAMPLE_CTX_MAX, context);
	return k < 0 ? SAMPLE_CTX_OTHER : k;
}

/* OCPP 1.6 7.33 Phase, 2.0.1 PhaseEnumType */
static const char *const phases[_PHASE_MAX] = {
    [PHASE_L1] = "L1",	     [PHASE_L2] = "L2",	      [PHASE_L3] = "L3",
    [PHASE_N] = "N",	     [PHASE_L1_N] = "L1-N",   [PHASE_L2_N] = "L2-N",
    [PHASE_L3_N] = "L3-N",   [PHASE_L1_L2] = "L1-L2", [PHASE_L2_L3] = "L2-L3",
    [PHASE_L3_L1] = "L3-L1",
};

int adapter_sample_phase(const char *phase)
{
	return phase ? domain_lookup(phases, _PHASE_MAX, phase) : PHASE_NONE;
}

/* OCPP 1.6 7.34 Reason, 2.0.1 ReasonEnumType */
static const struct {
	const char *word;
	int reason;
} stop_reasons[] = {
    {"Local", STOP_LOCAL},
    {"Remote", STOP_REMOTE},
    {"EVDisconnected", STOP_EV_DISCONNECTED},
    {"DeAuthorized", STOP_DEAUTHORIZED},
    {"EmergencyStop", STOP_EMERGENCY},
    {"PowerLoss", STOP_POWER_LOSS},
    {"Reboot", STOP_REBOOT},
    {"HardReset", STOP_REBOOT},
    {"SoftReset", STOP_REBOOT},
    {"ImmediateReset", STOP_REBOOT},
    {"EnergyLimitReached", STOP_ENERGY_LIMIT},
    {"SOCLimitReached", STOP_ENERGY_LIMIT},
    {"TimeLimitReached", STOP_TIME_LIMIT},
};

int adapter_stop_reason(const char *reason)
{
	if (!reason)
		return STOP_NONE;
	for (size_t i = 0; i < sizeof(stop_reasons) / sizeof(stop_reasons[0]); i++)
		if (strcmp(reason, stop_reasons[i].word) == 0)
			return stop_reasons[i].reason;
	return STOP_OTHER;
}

/* OCPP 1.6 7.7 ChargePointStatus and 2.0.1 ConnectorStatusEnumType */
static const struct {
	const char *word;
	int state;
} connector_states[] = {
    {"Available", CONN_AVAILABLE},     {"Preparing", CONN_OCCUPIED},
    {"Charging", CONN_OCCUPIED},       {"SuspendedEVSE", CONN_OCCUPIED},
    {"SuspendedEV", CONN_OCCUPIED},    {"Finishing", CONN_OCCUPIED},
    {"Occupied", CONN_OCCUPIED},       {"Reserved", CONN_RESERVED},
    {"Unavailable", CONN_UNAVAILABLE}, {"Faulted", CONN_FAULTED},
};

int adapter_connector_state(const char *status)
{
	for (size_t i = 0; status && i < sizeof(connector_states) / sizeof(connector_states[0]);
	     i++)
		if (strcmp(status, connector_states[i].word) == 0)
			return connector_states[i].state;
	return _CONN_STATE_INVALID;
}
