/* SPDX-License-Identifier: MIT */
/* Shared encoding and decoding for the 1.6 and 2.0.1 behaviours. */
#include "behaviour.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profile.h"
#include "site.h"
#include "swap.h"

const char *const cpsim_tag_types[] = {
    "ISO14443", "Central", "eMAID", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization",
};
const unsigned cpsim_tag_types_count = sizeof(cpsim_tag_types) / sizeof(cpsim_tag_types[0]);

uint8_t cpsim_tag_type_from_name(const char *name)
{
	for (unsigned i = 0; name && i < cpsim_tag_types_count; i++)
		if (!strcmp(name, cpsim_tag_types[i]))
			return (uint8_t)i;
	return 0;
}

void cpsim_bh_time(struct cpsim_jw *w, int64_t ms)
{
	char buf[OCPP_TIME_LEN + 1];

	if (!ocpp_time_format(ms, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "1970-01-01T00:00:00.000Z");
	cpsim_jw_str(w, buf);
}

struct cpsim_qmsg *cpsim_bh_needs_dt(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	const struct cpsim_kind_info *ki = cpsim_kind_info((enum cpsim_kind)cp->kind);
	struct cpsim_jw *w = &cp->f->jw;
	char data[512], dep[OCPP_TIME_LEN + 1] = "";
	int64_t dep_proto = cpsim_proto_now(cp);

	cpsim_jw_reset(w);
	if (c->t_event != T_NEVER && c->t_event > cp->f->now_ms) {
		double real_left = (double)(c->t_event - cp->f->now_ms);

		dep_proto +=
		    (int64_t)(real_left * (cp->f->sc->timestamps_sim ? cp->f->sc->speed : 1.0));
		ocpp_time_format(dep_proto, dep, sizeof(dep));
	}
	snprintf(data, sizeof(data),
		 "{\"evseId\":%u,%s%s%s\"energyAmountWh\":%.0f,\"capacityWh\":%.0f,"
		 "\"socPercent\":%.0f,\"targetSocPercent\":%.0f,\"socFloorPercent\":%.0f,"
		 "\"maxChargeW\":%.0f,\"maxDischargeW\":%.0f,\"v2gAllowed\":%s,"
		 "\"bidirectional\":%s}",
		 (unsigned)c->id, *dep ? "\"departureTime\":\"" : "", dep, *dep ? "\"," : "",
		 cpsim_ev_energy_needed_wh(&c->ev), c->ev.capacity_wh, floor(c->ev.soc * 100),
		 ceil(c->ev.target_soc * 100), ceil(c->ev.min_soc * 100), c->ev.max_charge_w,
		 c->ev.v2g ? c->ev.max_discharge_w : 0, c->ev.v2g ? "true" : "false",
		 ki->bidirectional ? "true" : "false");
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "vendorId");
	cpsim_jw_str(w, "org.openchargenet.csms");
	cpsim_jw_key(w, "messageId");
	cpsim_jw_str(w, "EVChargingNeeds");
	cpsim_jw_key(w, "data");
	cpsim_jw_str(w, data);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_DATA_TRANSFER, c->id, c->session, false);
}

bool cpsim_bh_vendor_dt(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	const char *vendor = ocpp_json_str(req, "vendorId"), *msg = ocpp_json_str(req, "messageId");
	const json_t *d = json_object_get(req, "data");
	json_t *o;
	const char *mode;
	int evse;
	bool ok = false;

	if (cpsim_swap_request(cp, req, w)) /* docs/swap.md */
		return true;
	if (!vendor || strcmp(vendor, "org.openchargenet.csms") || !msg ||
	    strcmp(msg, "SetV2GMode"))
		return false;
	o = json_is_string(d) ? json_loads(json_string_value(d), 0, NULL) : NULL;
	mode = json_string_value(json_object_get(o, "operationMode"));
	evse = (int)json_integer_value(json_object_get(o, "evseId"));
	if (mode && evse >= 1 && (unsigned)evse <= cp->nconn) {
		struct cpsim_connector *c = &cp->c[evse - 1];

		ok = true;
		if (!strcmp(mode, "CentralSetpoint"))
			c->v2g_mode = CPSIM_V2G_SETPOINT;
		else if (!strcmp(mode, "ChargingOnly"))
			c->v2g_mode = CPSIM_V2G_CHARGING_ONLY;
		else if (!strcmp(mode, "Idle"))
			c->v2g_mode = CPSIM_V2G_IDLE;
		else
			ok = false;
		/* a station that cannot discharge refuses the setpoint mode */
		if (ok && c->v2g_mode == CPSIM_V2G_SETPOINT &&
		    !cpsim_kind_info((enum cpsim_kind)cp->kind)->bidirectional)
			ok = false, c->v2g_mode = CPSIM_V2G_NONE;
		if (ok)
			cpsim_cp_refresh(cp);
	}
	json_decref(o);
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, ok ? "Accepted" : "Rejected");
	cpsim_jw_end(w);
	return true;
}

void cpsim_bh_periods(struct cpsim_jw *w, const struct cpsim_period *per, int n)
{
	cpsim_jw_arr(w);
	for (int i = 0; i < n; i++) {
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "startPeriod");
		cpsim_jw_int(w, per[i].start_s);
		cpsim_jw_key(w, "limit");
		cpsim_jw_num(w, per[i].limit, 1);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
}

static void sample(struct cpsim_jw *w, double v, int decimals, const char *context,
		   const char *measurand, const char *unit, const char *location, bool v201)
{
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "value");
	if (v201) {
		cpsim_jw_num(w, v, decimals);
	} else {
		char b[40];

		snprintf(b, sizeof(b), "%.*f", decimals, isfinite(v) ? v : 0.0);
		cpsim_jw_str(w, b);
	}
	cpsim_jw_key(w, "context");
	cpsim_jw_str(w, context);
	cpsim_jw_key(w, "measurand");
	cpsim_jw_str(w, measurand);
	if (location) {
		cpsim_jw_key(w, "location");
		cpsim_jw_str(w, location);
	}
	if (v201) {
		cpsim_jw_key(w, "unitOfMeasure");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "unit");
		cpsim_jw_str(w, unit);
		cpsim_jw_end(w);
	} else {
		cpsim_jw_key(w, "unit");
		cpsim_jw_str(w, unit);
	}
	cpsim_jw_end(w);
}

void cpsim_bh_samples(struct cpsim_jw *w, const struct cpsim_cp *cp,
		      const struct cpsim_connector *c, const char *context, bool v201)
{
	double p = c->power_w;

	(void)cp;
	cpsim_jw_arr(w);
	/* registers as whole Wh, rounded down so they never run ahead of the energy */
	sample(w, floor(c->import_wh), 0, context, "Energy.Active.Import.Register", "Wh", NULL,
	       v201);
	sample(w, floor(c->export_wh), 0, context, "Energy.Active.Export.Register", "Wh", NULL,
	       v201);
	sample(w, p > 0 ? p : 0, 0, context, "Power.Active.Import", "W", NULL, v201);
	sample(w, p < 0 ? -p : 0, 0, context, "Power.Active.Export", "W", NULL, v201);
	if (c->phase == PH_ACTIVE || c->phase == PH_FINISHING)
		sample(w, c->ev.soc * 100.0, 1, context, "SoC", "Percent", "EV", v201);
	cpsim_jw_end(w);
}

void cpsim_bh_meter_value(struct cpsim_jw *w, const struct cpsim_cp *cp,
			  const struct cpsim_connector *c, const char *context, bool v201)
{
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "timestamp");
	cpsim_bh_time(w, cpsim_proto_now(cp));
	cpsim_jw_key(w, "sampledValue");
	cpsim_bh_samples(w, cp, c, context, v201);
	cpsim_jw_end(w);
}

/* ---------------------------------------------------------------- profiles */

static int purpose_of(const char *s)
{
	if (!strcmp(s, "ChargePointMaxProfile") || !strcmp(s, "ChargingStationMaxProfile"))
		return CPSIM_PP_STATION_MAX;
	if (!strcmp(s, "TxDefaultProfile"))
		return CPSIM_PP_TX_DEFAULT;
	if (!strcmp(s, "TxProfile"))
		return CPSIM_PP_TX;
	if (!strcmp(s, "ChargingStationExternalConstraints"))
		return CPSIM_PP_EXTERNAL;
	return -EINVAL;
}

static int get_time(const json_t *o, const char *key, int64_t dflt, int64_t *ret)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s) {
		*ret = dflt;
		return 0;
	}
	return ocpp_time_parse(s, ret);
}

int cpsim_bh_profile(const json_t *jp, bool v201, unsigned connector, struct cpsim_profile *ret,
		     char *desc, size_t desc_len)
{
	struct cpsim_profile p = {0};
	const json_t *sched, *periods, *per, *tx;
	const char *kind, *recur, *unit;
	size_t i;
	int r;

	sched = json_object_get(jp, "chargingSchedule");
	if (v201)
		sched =
		    json_array_get(sched, 0); /* one schedule is what we follow (K01: up to 3) */
	periods = json_object_get(sched, "chargingSchedulePeriod");
	if (!json_is_object(sched) || !json_is_array(periods) || !json_array_size(periods)) {
		snprintf(desc, desc_len, "no schedule periods");
		return -EINVAL;
	}
	if (json_array_size(periods) > CPSIM_PERIODS_MAX) {
		snprintf(desc, desc_len, "more than %d periods", CPSIM_PERIODS_MAX);
		return -EINVAL;
	}
	p.id = (int32_t)json_integer_value(json_object_get(jp, v201 ? "id" : "chargingProfileId"));
	p.stack = (int32_t)json_integer_value(json_object_get(jp, "stackLevel"));
	r = purpose_of(json_string_value(json_object_get(jp, "chargingProfilePurpose")));
	if (r < 0) {
		snprintf(desc, desc_len, "unknown purpose");
		return -EINVAL;
	}
	p.purpose = (uint8_t)r;
	kind = json_string_value(json_object_get(jp, "chargingProfileKind"));
	p.kind = !strcmp(kind, "Recurring")  ? CPSIM_PK_RECURRING
		 : !strcmp(kind, "Relative") ? CPSIM_PK_RELATIVE
					     : CPSIM_PK_ABSOLUTE;
	recur = json_string_value(json_object_get(jp, "recurrencyKind"));
	p.recur = !recur		     ? CPSIM_RC_NONE
		  : !strcmp(recur, "Weekly") ? CPSIM_RC_WEEKLY
					     : CPSIM_RC_DAILY;
	if (p.kind == CPSIM_PK_RECURRING && p.recur == CPSIM_RC_NONE)
		p.recur = CPSIM_RC_DAILY;
	unit = json_string_value(json_object_get(sched, "chargingRateUnit"));
	p.amps = unit && !strcmp(unit, "A");
	p.connector = (uint16_t)connector;
	p.duration_s = (int32_t)json_integer_value(json_object_get(sched, "duration"));
	if (p.duration_s < 0)
		p.duration_s = 0;
	if (get_time(sched, "startSchedule", INT64_MIN, &p.start_ms) < 0 ||
	    get_time(jp, "validFrom", INT64_MIN, &p.valid_from_ms) < 0 ||
	    get_time(jp, "validTo", INT64_MAX, &p.valid_to_ms) < 0) {
		snprintf(desc, desc_len, "bad date-time");
		return -EINVAL;
	}
	tx = json_object_get(jp, "transactionId");
	if (tx)
		p.tx_key = v201 ? cpsim_tx_key_str(json_string_value(tx))
				: cpsim_tx_key_int((int32_t)json_integer_value(tx));
	p.nperiods = (uint16_t)json_array_size(periods);
	p.periods = calloc(p.nperiods, sizeof(*p.periods));
	if (!p.periods) {
		snprintf(desc, desc_len, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(periods, i, per) {
		json_int_t ph = json_integer_value(json_object_get(per, "numberPhases"));

		p.periods[i].start_s =
		    (int32_t)json_integer_value(json_object_get(per, "startPeriod"));
		p.periods[i].limit = (float)json_number_value(json_object_get(per, "limit"));
		p.periods[i].phases = (uint8_t)(ph > 0 && ph <= 3 ? ph : 0);
	}
	*ret = p;
	return 0;
}

static const char *purpose_name_v201(unsigned p)
{
	switch (p) {
	case CPSIM_PP_STATION_MAX:
		return "ChargingStationMaxProfile";
	case CPSIM_PP_TX_DEFAULT:
		return "TxDefaultProfile";
	case CPSIM_PP_TX:
		return "TxProfile";
	default:
		return "ChargingStationExternalConstraints";
	}
}

void cpsim_bh_profile_json(struct cpsim_jw *w, const struct cpsim_profile *p)
{
	static const char *const kinds[] = {"Absolute", "Recurring", "Relative"};

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "id");
	cpsim_jw_int(w, p->id);
	cpsim_jw_key(w, "stackLevel");
	cpsim_jw_int(w, p->stack);
	cpsim_jw_key(w, "chargingProfilePurpose");
	cpsim_jw_str(w, purpose_name_v201(p->purpose));
	cpsim_jw_key(w, "chargingProfileKind");
	cpsim_jw_str(w, kinds[p->kind < 3 ? p->kind : 0]);
	if (p->kind == CPSIM_PK_RECURRING) {
		cpsim_jw_key(w, "recurrencyKind");
		cpsim_jw_str(w, p->recur == CPSIM_RC_WEEKLY ? "Weekly" : "Daily");
	}
	if (p->valid_from_ms != INT64_MIN) {
		cpsim_jw_key(w, "validFrom");
		cpsim_bh_time(w, p->valid_from_ms);
	}
	if (p->valid_to_ms != INT64_MAX) {
		cpsim_jw_key(w, "validTo");
		cpsim_bh_time(w, p->valid_to_ms);
	}
	cpsim_jw_key(w, "chargingSchedule");
	cpsim_jw_arr(w);
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "id");
	cpsim_jw_int(w, p->id);
	if (p->kind != CPSIM_PK_RELATIVE && p->start_ms != INT64_MIN) {
		cpsim_jw_key(w, "startSchedule");
		cpsim_bh_time(w, p->start_ms);
	}
	if (p->duration_s > 0) {
		cpsim_jw_key(w, "duration");
		cpsim_jw_int(w, p->duration_s);
	}
	cpsim_jw_key(w, "chargingRateUnit");
	cpsim_jw_str(w, p->amps ? "A" : "W");
	cpsim_jw_key(w, "chargingSchedulePeriod");
	cpsim_jw_arr(w);
	for (unsigned i = 0; i < p->nperiods; i++) {
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "startPeriod");
		cpsim_jw_int(w, p->periods[i].start_s);
		cpsim_jw_key(w, "limit");
		cpsim_jw_num(w, p->periods[i].limit, 1);
		if (p->periods[i].phases) {
			cpsim_jw_key(w, "numberPhases");
			cpsim_jw_int(w, p->periods[i].phases);
		}
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	cpsim_jw_end(w);
}

/* ---------------------------------------------------------------- configuration */

#define SAMPLED                                                                                    \
	"Energy.Active.Import.Register,Energy.Active.Export.Register,Power.Active.Import,"         \
	"Power.Active.Export,SoC"

const struct cpsim_cfg_key cpsim_cfg_keys[] = {
    {"HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", CK_HEARTBEAT, 0, NULL},
    {"MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", CK_METER, 0, NULL},
    {"MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", CK_CONST, 0, SAMPLED},
    {"StopTxnSampledData", "SampledDataCtrlr", "TxEndedMeasurands", CK_CONST, 0, SAMPLED},
    {"ClockAlignedDataInterval", "AlignedDataCtrlr", "Interval", CK_ALIGNED, 0, NULL},
    {"NumberOfConnectors", "EVSE", "Count", CK_CONNECTORS, 0, NULL},
    {"AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", CK_BOOL, CFG_AUTH_REMOTE,
     NULL},
    {"LocalAuthorizeOffline", "AuthCtrlr", "LocalAuthorizeOffline", CK_BOOL, CFG_LOCAL_OFFLINE,
     NULL},
    {"LocalPreAuthorize", "AuthCtrlr", "LocalPreAuthorize", CK_BOOL, CFG_LOCAL_PREAUTH, NULL},
    {"AllowOfflineTxForUnknownId", "AuthCtrlr", "OfflineTxForUnknownIdEnabled", CK_BOOL,
     CFG_OFFLINE_UNKNOWN, NULL},
    {"StopTransactionOnInvalidId", "TxCtrlr", "StopTxOnInvalidId", CK_BOOL, CFG_STOP_ON_INVALID,
     NULL},
    {"LocalAuthListEnabled", "LocalAuthListCtrlr", "Enabled", CK_BOOL, CFG_LOCAL_LIST, NULL},
    {NULL, "LocalAuthListCtrlr", "Entries", CK_LL_ENTRIES, 0, NULL},
    {"LocalAuthListMaxLength", "LocalAuthListCtrlr", "Available", CK_CONST, 0, "256"},
    {"SendLocalListMaxLength", "LocalAuthListCtrlr", "ItemsPerMessage", CK_LL_PER_MSG, 0, NULL},
    {"ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel", CK_CONST, 0, "8"},
    {"ChargingScheduleAllowedChargingRateUnit", "SmartChargingCtrlr", "RateUnit", CK_CONST, 0,
     "Current,Power"},
    {"ChargingScheduleMaxPeriods", "SmartChargingCtrlr", "PeriodsPerSchedule", CK_CONST, 0, "1024"},
    {"MaxChargingProfilesInstalled", "SmartChargingCtrlr", "Entries", CK_CONST, 0, "48"},
    {NULL, "SmartChargingCtrlr", "Enabled", CK_CONST, 0, "true"},
    {"SupportedFeatureProfiles", NULL, NULL, CK_CONST, 0,
     "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"},
    {"TransactionMessageAttempts", "OCPPCommCtrlr", "MessageAttempts", CK_CONST, 0, "3"},
    {"TransactionMessageRetryInterval", "OCPPCommCtrlr", "MessageAttemptInterval", CK_CONST, 0,
     "30"},
    {"WebSocketPingInterval", "OCPPCommCtrlr", "WebSocketPingInterval", CK_CONST, 0, "0"},
    {"ConnectionTimeOut", "TxCtrlr", "EVConnectionTimeOut", CK_CONST, 0, "120"},
    {NULL, "ChargingStation", "Model", CK_CONST, 0, "cpsim"},
    {NULL, "ChargingStation", "VendorName", CK_CONST, 0, "OpenChargeNet"},
    {NULL, "DeviceDataCtrlr", "ItemsPerMessage", CK_CONST, 0, "50"},
};
const size_t cpsim_cfg_nkeys = sizeof(cpsim_cfg_keys) / sizeof(cpsim_cfg_keys[0]);

const struct cpsim_cfg_key *cpsim_cfg_find16(const char *key)
{
	for (size_t i = 0; key && i < cpsim_cfg_nkeys; i++)
		if (cpsim_cfg_keys[i].key16 && !strcmp(cpsim_cfg_keys[i].key16, key))
			return &cpsim_cfg_keys[i];
	return NULL;
}

const struct cpsim_cfg_key *cpsim_cfg_find201(const char *component, const char *variable,
					      bool *ret_component_known)
{
	bool known = false;

	for (size_t i = 0; component && variable && i < cpsim_cfg_nkeys; i++) {
		const struct cpsim_cfg_key *k = &cpsim_cfg_keys[i];

		if (!k->component || strcmp(k->component, component))
			continue;
		known = true;
		if (!strcmp(k->variable, variable)) {
			*ret_component_known = true;
			return k;
		}
	}
	*ret_component_known = known;
	return NULL;
}

bool cpsim_cfg_readonly(const struct cpsim_cfg_key *k)
{
	return k->type != CK_HEARTBEAT && k->type != CK_METER && k->type != CK_ALIGNED &&
	       k->type != CK_BOOL;
}

void cpsim_cfg_get(const struct cpsim_cp *cp, const struct cpsim_cfg_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case CK_HEARTBEAT:
		snprintf(buf, len, "%u", cp->hb_ms / 1000);
		break;
	case CK_METER:
		snprintf(buf, len, "%u", (cp->meter_ms + 999) / 1000);
		break;
	case CK_ALIGNED:
		snprintf(buf, len, "%u", cp->aligned_s);
		break;
	case CK_BOOL:
		snprintf(buf, len, "%s", (cp->cfg & k->bit) ? "true" : "false");
		break;
	case CK_CONNECTORS:
		snprintf(buf, len, "%u", cp->nconn);
		break;
	case CK_LL_ENTRIES:
		snprintf(buf, len, "%u", cp->ll ? cp->ll->count : 0);
		break;
	case CK_LL_PER_MSG:
		snprintf(buf, len, "%u", cp->f->sc->ll_per_message);
		break;
	default:
		snprintf(buf, len, "%s", k->value ? k->value : "");
		break;
	}
}

int cpsim_cfg_set(struct cpsim_cp *cp, const struct cpsim_cfg_key *k, const char *value)
{
	char *end;
	long n;

	if (cpsim_cfg_readonly(k))
		return -EROFS;
	if (k->type == CK_BOOL) {
		if (!strcasecmp(value, "true"))
			cp->cfg |= k->bit;
		else if (!strcasecmp(value, "false"))
			cp->cfg &= (uint8_t)~k->bit;
		else
			return -EINVAL;
		return 0;
	}
	n = strtol(value, &end, 10);
	if (end == value || *end || n < (k->type == CK_METER ? 1 : 0) || n > 86400)
		return -EINVAL;
	if (k->type == CK_HEARTBEAT)
		cpsim_cp_set_intervals(cp, n ? (double)n : 86400.0, 0);
	else if (k->type == CK_ALIGNED)
		cpsim_cp_set_aligned(cp, (uint32_t)n);
	else
		cpsim_cp_set_intervals(cp, 0, (double)n);
	return 0;
}
