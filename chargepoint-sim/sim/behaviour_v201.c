/* SPDX-License-Identifier: MIT */
/* OCPP 2.0.1 behaviour of a virtual charging station: one connector per EVSE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "behaviour.h"
#include "site.h"

#define VENDOR_ID "org.openchargenet.csms"

static struct cpsim_jw *W(struct cpsim_cp *cp)
{
	cpsim_jw_reset(&cp->f->jw);
	return &cp->f->jw;
}

static void status_only(struct cpsim_jw *w, const char *s)
{
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, s);
	cpsim_jw_end(w);
}

static void id_token(struct cpsim_jw *w, const struct cpsim_connector *c)
{
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "idToken");
	cpsim_jw_str(w, c->tag);
	cpsim_jw_key(w, "type");
	cpsim_jw_str(w, cpsim_tag_types[c->tag_type < cpsim_tag_types_count ? c->tag_type : 0]);
	cpsim_jw_end(w);
}

static void evse(struct cpsim_jw *w, unsigned id)
{
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "id");
	cpsim_jw_int(w, id);
	cpsim_jw_key(w, "connectorId");
	cpsim_jw_int(w, 1);
	cpsim_jw_end(w);
}

/* ---------------------------------------------------------------- messages we send */

static struct cpsim_qmsg *boot(struct cpsim_cp *cp, enum cp_boot_reason why)
{
	struct cpsim_jw *w = W(cp);
	char id[40], model[24];

	cpsim_cp_id(cp, id, sizeof(id));
	snprintf(model, sizeof(model), "cpsim-%s", cpsim_kind_name((enum cpsim_kind)cp->kind));
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "reason");
	cpsim_jw_str(w, why == BR_REMOTE_RESET ? "RemoteReset"
			: why == BR_TRIGGERED  ? "Triggered"
					       : "PowerUp");
	cpsim_jw_key(w, "chargingStation");
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "model");
	cpsim_jw_str(w, model);
	cpsim_jw_key(w, "vendorName");
	cpsim_jw_str(w, "OpenChargeNet");
	cpsim_jw_key(w, "serialNumber");
	cpsim_jw_str(w, id);
	cpsim_jw_key(w, "firmwareVersion");
	cpsim_jw_str(w, "cpsim-0.1");
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_BOOT, 0, 0, false);
}

static struct cpsim_qmsg *heartbeat(struct cpsim_cp *cp)
{
	struct cpsim_jw *w = W(cp);

	cpsim_jw_obj(w);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_HEARTBEAT, 0, 0, false);
}

static struct cpsim_qmsg *status(struct cpsim_cp *cp, unsigned connector)
{
	struct cpsim_jw *w;

	if (!connector)
		return NULL; /* 2.0.1 reports EVSE connectors only */
	w = W(cp);
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "timestamp");
	cpsim_bh_time(w, cpsim_proto_now(cp));
	cpsim_jw_key(w, "connectorStatus");
	cpsim_jw_str(w, cpsim_status_v201((enum cp_status)cp->c[connector - 1].status));
	cpsim_jw_key(w, "evseId");
	cpsim_jw_int(w, connector);
	cpsim_jw_key(w, "connectorId");
	cpsim_jw_int(w, 1);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_STATUS, connector, 0, false);
}

static struct cpsim_qmsg *authorize(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	struct cpsim_jw *w = W(cp);

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "idToken");
	id_token(w, c);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_AUTHORIZE, c->id, c->session, false);
}

static const char *charging_state(const struct cpsim_connector *c)
{
	switch (c->status) {
	case ST_CHARGING:
		return "Charging";
	case ST_SUSPENDED_EV:
		return "SuspendedEV";
	case ST_SUSPENDED_EVSE:
		return "SuspendedEVSE";
	case ST_PREPARING:
		return "EVConnected";
	default:
		return c->phase == PH_IDLE ? "Idle" : "EVConnected";
	}
}

/* The common head of a TransactionEvent; the caller adds fields and closes the object. */
static struct cpsim_jw *tx_event(struct cpsim_cp *cp, struct cpsim_connector *c, const char *type,
				 const char *trigger, const char *stopped, bool id_tok)
{
	struct cpsim_jw *w = W(cp);
	char txid[40];

	cpsim_cp_tx_id(cp, c, txid, sizeof(txid));
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "eventType");
	cpsim_jw_str(w, type);
	cpsim_jw_key(w, "timestamp");
	cpsim_bh_time(w, cpsim_proto_now(cp));
	cpsim_jw_key(w, "triggerReason");
	cpsim_jw_str(w, trigger);
	cpsim_jw_key(w, "seqNo");
	cpsim_jw_int(w, c->seq_no++);
	if (cp->state != CPS_BOOTED) {
		/* OCPP 2.0.1 E04: events that happened while offline say so */
		cpsim_jw_key(w, "offline");
		cpsim_jw_bool(w, true);
	}
	cpsim_jw_key(w, "transactionInfo");
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "transactionId");
	cpsim_jw_str(w, txid);
	cpsim_jw_key(w, "chargingState");
	cpsim_jw_str(w, stopped ? "EVConnected" : charging_state(c));
	if (stopped) {
		cpsim_jw_key(w, "stoppedReason");
		cpsim_jw_str(w, stopped);
	}
	if (c->remote_start_id >= 0 && !strcmp(type, "Started")) {
		cpsim_jw_key(w, "remoteStartId");
		cpsim_jw_int(w, c->remote_start_id);
	}
	cpsim_jw_end(w);
	/* E01: required in the first event only; every event carries it, as many stations do */
	cpsim_jw_key(w, "evse");
	evse(w, c->id);
	if (id_tok) {
		cpsim_jw_key(w, "idToken");
		id_token(w, c);
	}
	return w;
}

static struct cpsim_qmsg *tx_start(struct cpsim_cp *cp, struct cpsim_connector *c,
				   enum cp_trigger why)
{
	struct cpsim_jw *w = tx_event(
	    cp, c, "Started", why == TR_REMOTE_START ? "RemoteStart" : "Authorized", NULL, true);
	struct cpsim_qmsg *q;

	if (c->flags & CF_RESERVED) {
		cpsim_jw_key(w, "reservationId");
		cpsim_jw_int(w, c->reservation_id);
	}
	cpsim_jw_key(w, "meterValue");
	cpsim_jw_arr(w);
	cpsim_bh_meter_value(w, cp, c, "Transaction.Begin", true);
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	q = cpsim_qmsg_new(w, CPSIM_A_TX_EVENT, c->id, c->session, true);
	if (q)
		q->tx_begin = true;
	return q;
}

static struct cpsim_qmsg *tx_meter(struct cpsim_cp *cp, struct cpsim_connector *c,
				   enum cp_trigger why)
{
	const char *trig = why == TR_TRIGGER	     ? "Trigger"
			   : why == TR_STATE_CHANGED ? "ChargingStateChanged"
			   : why == TR_CLOCK	     ? "MeterValueClock"
						     : "MeterValuePeriodic";
	struct cpsim_jw *w = tx_event(cp, c, "Updated", trig, NULL, false);

	if (why != TR_STATE_CHANGED) {
		cpsim_jw_key(w, "meterValue");
		cpsim_jw_arr(w);
		cpsim_bh_meter_value(w, cp, c,
				     why == TR_TRIGGER ? "Trigger"
				     : why == TR_CLOCK ? "Sample.Clock"
						       : "Sample.Periodic",
				     true);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_TX_EVENT, c->id, c->session, true);
}

static struct cpsim_qmsg *tx_stop(struct cpsim_cp *cp, struct cpsim_connector *c,
				  enum cp_reason why)
{
	const char *stopped, *trig;
	struct cpsim_jw *w;

	switch (why) {
	case RS_EV_DISCONNECTED:
		stopped = "EVDisconnected", trig = "EVDeparted";
		break;
	case RS_REMOTE:
		stopped = "Remote", trig = "RemoteStop";
		break;
	case RS_DEAUTHORIZED:
		stopped = "DeAuthorized", trig = "Deauthorized";
		break;
	case RS_HARD_RESET:
	case RS_SOFT_RESET:
		stopped = "ImmediateReset", trig = "ResetCommand";
		break;
	case RS_UNLOCK:
		stopped = "Other", trig = "UnlockCommand";
		break;
	case RS_SOC_LIMIT:
		stopped = "SOCLimitReached", trig = "EnergyLimitReached";
		break;
	case RS_OTHER:
		stopped = "Other", trig = "AbnormalCondition";
		break;
	default:
		stopped = "Local", trig = "StopAuthorized";
		break;
	}
	w = tx_event(cp, c, "Ended", trig, stopped, false);
	cpsim_jw_key(w, "meterValue");
	cpsim_jw_arr(w);
	cpsim_bh_meter_value(w, cp, c, "Transaction.End", true);
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_TX_EVENT, c->id, c->session, true);
}

static struct cpsim_qmsg *meter(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	struct cpsim_jw *w = W(cp);

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "evseId");
	cpsim_jw_int(w, c->id);
	cpsim_jw_key(w, "meterValue");
	cpsim_jw_arr(w);
	cpsim_bh_meter_value(w, cp, c, "Trigger", true);
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_METER_VALUES, c->id, c->session, false);
}

/* OCPP 2.0.1 K15 (ISO 15118): what the EV needs by when; the planner's input. */
static struct cpsim_qmsg *ev_needs(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	const struct cpsim_kind_info *ki = cpsim_kind_info((enum cpsim_kind)cp->kind);
	struct cpsim_jw *w = W(cp);
	double need = cpsim_ev_energy_needed_wh(&c->ev);
	int64_t dep_proto = cpsim_proto_now(cp);

	if (c->t_event != T_NEVER && c->t_event > cp->f->now_ms) {
		/* departure in protocol time: the remaining real time scaled if we speak sim time
		 */
		double real_left = (double)(c->t_event - cp->f->now_ms);

		dep_proto +=
		    (int64_t)(real_left * (cp->f->sc->timestamps_sim ? cp->f->sc->speed : 1.0));
	}
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "evseId");
	cpsim_jw_int(w, c->id);
	cpsim_jw_key(w, "chargingNeeds");
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "requestedEnergyTransfer");
	cpsim_jw_str(w, ki->dc ? "DC" : ki->phases == 3 ? "AC_three_phase" : "AC_single_phase");
	if (c->t_event != T_NEVER) {
		cpsim_jw_key(w, "departureTime");
		cpsim_bh_time(w, dep_proto);
	}
	if (ki->dc) {
		cpsim_jw_key(w, "dcChargingParameters");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "evMaxCurrent");
		cpsim_jw_int(w, (int64_t)(c->ev.max_charge_w / 400.0));
		cpsim_jw_key(w, "evMaxVoltage");
		cpsim_jw_int(w, 450);
		cpsim_jw_key(w, "energyAmount");
		cpsim_jw_int(w, (int64_t)need);
		cpsim_jw_key(w, "evMaxPower");
		cpsim_jw_int(w, (int64_t)c->ev.max_charge_w);
		cpsim_jw_key(w, "stateOfCharge");
		cpsim_jw_int(w, (int64_t)(c->ev.soc * 100));
		cpsim_jw_key(w, "evEnergyCapacity");
		cpsim_jw_int(w, (int64_t)c->ev.capacity_wh);
		cpsim_jw_key(w, "fullSoC");
		cpsim_jw_int(w, (int64_t)(c->ev.target_soc * 100));
		cpsim_jw_end(w);
	} else {
		cpsim_jw_key(w, "acChargingParameters");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "energyAmount");
		cpsim_jw_int(w, (int64_t)need);
		cpsim_jw_key(w, "evMinCurrent");
		cpsim_jw_int(w, 6);
		cpsim_jw_key(w, "evMaxCurrent");
		cpsim_jw_int(w,
			     (int64_t)(c->ev.max_charge_w / 230.0 / (ki->phases ? ki->phases : 1)));
		cpsim_jw_key(w, "evMaxVoltage");
		cpsim_jw_int(w, 230);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_EV_NEEDS, c->id, c->session, false);
}

static struct cpsim_qmsg *req_status(struct cpsim_cp *cp, enum cpsim_action a, const char *s,
				     int id)
{
	struct cpsim_jw *w = W(cp);

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, s);
	if (id >= 0) {
		cpsim_jw_key(w, "requestId");
		cpsim_jw_int(w, id);
	}
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, a, 0, 0, false);
}

static struct cpsim_qmsg *fw_status(struct cpsim_cp *cp, const char *s, int request_id)
{
	return req_status(cp, CPSIM_A_FIRMWARE_STATUS, s, request_id);
}

static struct cpsim_qmsg *log_status(struct cpsim_cp *cp, const char *s, int request_id)
{
	return req_status(cp, CPSIM_A_LOG_STATUS, s, request_id);
}

/* ---------------------------------------------------------------- answers to our calls */

static void on_result(struct cpsim_cp *cp, const struct cpsim_qmsg *q, const json_t *payload)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, q->connector);
	const json_t *info = json_object_get(payload, "idTokenInfo");
	const char *s;

	switch (q->action) {
	case CPSIM_A_BOOT:
		s = ocpp_json_str(payload, "status");
		cpsim_cp_boot_result(cp,
				     !s			      ? 3
				     : !strcmp(s, "Accepted") ? 0
				     : !strcmp(s, "Pending")  ? 1
							      : 2,
				     (int)ocpp_json_int(payload, "interval"));
		break;
	case CPSIM_A_AUTHORIZE:
		s = ocpp_json_str(info, "status");
		if (c && c->session == q->session)
			cpsim_cp_auth_result(cp, c, s && !strcmp(s, "Accepted"));
		break;
	case CPSIM_A_TX_EVENT:
		/* E01.FR.? : a Started event may come back with the token refused */
		if (q->tx_begin) {
			s = ocpp_json_str(info, "status");
			cpsim_cp_tx_started(cp, c, q->session, 0, !s || !strcmp(s, "Accepted"));
		}
		break;
	default:
		break;
	}
}

static void on_error(struct cpsim_cp *cp, const struct cpsim_qmsg *q, const char *code)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, q->connector);

	(void)code;
	if (q->action == CPSIM_A_BOOT)
		cpsim_cp_boot_result(cp, 3, 30);
	else if (q->action == CPSIM_A_AUTHORIZE && c && c->session == q->session)
		cpsim_cp_auth_result(cp, c, false);
}

/* ---------------------------------------------------------------- calls from the CSMS */

static enum ocpp_err request_start(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w,
				   char *desc, size_t n)
{
	const json_t *tok = json_object_get(req, "idToken");
	const json_t *prof = json_object_get(req, "chargingProfile");
	struct cpsim_profile p;
	int conn;

	/* F01.FR.08: only a TxProfile may come with it */
	if (prof && strcmp(ocpp_json_str(prof, "chargingProfilePurpose"), "TxProfile")) {
		status_only(w, "Rejected");
		return OCPP_ERR_NONE;
	}
	conn = cpsim_cp_remote_start(cp, (unsigned)ocpp_json_int(req, "evseId"),
				     ocpp_json_str(tok, "idToken"),
				     cpsim_tag_type_from_name(ocpp_json_str(tok, "type")),
				     (int32_t)ocpp_json_int(req, "remoteStartId"));
	if (conn < 0) {
		status_only(w, "Rejected");
		return OCPP_ERR_NONE;
	}
	if (prof && cpsim_bh_profile(prof, true, (unsigned)conn, &p, desc, n) == 0 &&
	    cpsim_cp_set_profile(cp, &p) < 0)
		free(p.periods);
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, "Accepted");
	{
		struct cpsim_connector *c = cpsim_cp_conn(cp, (unsigned)conn);
		char txid[40];

		if (c && c->phase == PH_ACTIVE) {
			cpsim_cp_tx_id(cp, c, txid, sizeof(txid));
			cpsim_jw_key(w, "transactionId");
			cpsim_jw_str(w, txid);
		}
	}
	cpsim_jw_end(w);
	return OCPP_ERR_NONE;
}

static void component_echo(struct cpsim_jw *w, const json_t *item)
{
	const json_t *comp = json_object_get(item, "component");
	const json_t *var = json_object_get(item, "variable");

	/* echo component and variable as received, trimmed to the fields we understand */
	cpsim_jw_key(w, "component");
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "name");
	cpsim_jw_str(w, ocpp_json_str(comp, "name"));
	if (ocpp_json_str(comp, "instance")) {
		cpsim_jw_key(w, "instance");
		cpsim_jw_str(w, ocpp_json_str(comp, "instance"));
	}
	if (json_object_get(comp, "evse")) {
		const json_t *e = json_object_get(comp, "evse");

		cpsim_jw_key(w, "evse");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "id");
		cpsim_jw_int(w, ocpp_json_int(e, "id"));
		if (json_object_get(e, "connectorId")) {
			cpsim_jw_key(w, "connectorId");
			cpsim_jw_int(w, ocpp_json_int(e, "connectorId"));
		}
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	cpsim_jw_key(w, "variable");
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "name");
	cpsim_jw_str(w, ocpp_json_str(var, "name"));
	if (ocpp_json_str(var, "instance")) {
		cpsim_jw_key(w, "instance");
		cpsim_jw_str(w, ocpp_json_str(var, "instance"));
	}
	cpsim_jw_end(w);
}

static enum ocpp_err get_variables(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	const json_t *items = json_object_get(req, "getVariableData"), *it;
	char value[512];
	size_t i;

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "getVariableResult");
	cpsim_jw_arr(w);
	json_array_foreach(items, i, it) {
		const char *type = ocpp_json_str(it, "attributeType");
		bool comp_known;
		const struct cpsim_cfg_key *k = cpsim_cfg_find201(
		    ocpp_json_str(json_object_get(it, "component"), "name"),
		    ocpp_json_str(json_object_get(it, "variable"), "name"), &comp_known);
		const char *status = !k ? (comp_known ? "UnknownVariable" : "UnknownComponent")
				     : type && strcmp(type, "Actual") ? "NotSupportedAttributeType"
								      : "Accepted";

		cpsim_jw_obj(w);
		cpsim_jw_key(w, "attributeStatus");
		cpsim_jw_str(w, status);
		if (type) {
			cpsim_jw_key(w, "attributeType");
			cpsim_jw_str(w, type);
		}
		if (!strcmp(status, "Accepted")) {
			cpsim_cfg_get(cp, k, value, sizeof(value));
			cpsim_jw_key(w, "attributeValue");
			cpsim_jw_str(w, value);
		}
		component_echo(w, it);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	return OCPP_ERR_NONE;
}

static enum ocpp_err set_variables(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	const json_t *items = json_object_get(req, "setVariableData"), *it;
	size_t i;

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "setVariableResult");
	cpsim_jw_arr(w);
	json_array_foreach(items, i, it) {
		const char *type = ocpp_json_str(it, "attributeType");
		bool comp_known;
		const struct cpsim_cfg_key *k = cpsim_cfg_find201(
		    ocpp_json_str(json_object_get(it, "component"), "name"),
		    ocpp_json_str(json_object_get(it, "variable"), "name"), &comp_known);
		const char *status;

		if (!k)
			status = comp_known ? "UnknownVariable" : "UnknownComponent";
		else if (type && strcmp(type, "Actual"))
			status = "NotSupportedAttributeType";
		else
			status = cpsim_cfg_set(cp, k, ocpp_json_str(it, "attributeValue")) == 0
				     ? "Accepted"
				     : "Rejected";
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "attributeStatus");
		cpsim_jw_str(w, status);
		if (type) {
			cpsim_jw_key(w, "attributeType");
			cpsim_jw_str(w, type);
		}
		component_echo(w, it);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	return OCPP_ERR_NONE;
}

/* B07: the report follows the answer as one NotifyReport. */
static void notify_report(struct cpsim_cp *cp, int request_id)
{
	struct cpsim_jw *w = W(cp);
	char value[512];

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "requestId");
	cpsim_jw_int(w, request_id);
	cpsim_jw_key(w, "generatedAt");
	cpsim_bh_time(w, cpsim_proto_now(cp));
	cpsim_jw_key(w, "seqNo");
	cpsim_jw_int(w, 0);
	cpsim_jw_key(w, "tbc");
	cpsim_jw_bool(w, false);
	cpsim_jw_key(w, "reportData");
	cpsim_jw_arr(w);
	for (size_t i = 0; i < cpsim_cfg_nkeys; i++) {
		const struct cpsim_cfg_key *k = &cpsim_cfg_keys[i];

		if (!k->component)
			continue;
		cpsim_cfg_get(cp, k, value, sizeof(value));
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "component");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "name");
		cpsim_jw_str(w, k->component);
		cpsim_jw_end(w);
		cpsim_jw_key(w, "variable");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "name");
		cpsim_jw_str(w, k->variable);
		cpsim_jw_end(w);
		cpsim_jw_key(w, "variableAttribute");
		cpsim_jw_arr(w);
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "type");
		cpsim_jw_str(w, "Actual");
		cpsim_jw_key(w, "value");
		cpsim_jw_str(w, value);
		cpsim_jw_key(w, "mutability");
		cpsim_jw_str(w, cpsim_cfg_readonly(k) ? "ReadOnly" : "ReadWrite");
		cpsim_jw_end(w);
		cpsim_jw_end(w);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	cpsim_cp_enqueue(cp, cpsim_qmsg_new(w, CPSIM_A_NOTIFY_REPORT, 0, 0, false));
}

static enum ocpp_err set_charging_profile(struct cpsim_cp *cp, const json_t *req,
					  struct cpsim_jw *w, char *desc, size_t n)
{
	struct cpsim_profile p;
	unsigned conn = (unsigned)ocpp_json_int(req, "evseId");
	int r = cpsim_bh_profile(json_object_get(req, "chargingProfile"), true, conn, &p, desc, n);

	if (r == 0 && p.purpose == CPSIM_PP_TX && p.tx_key) {
		struct cpsim_connector *c = cpsim_cp_conn(cp, conn);
		char txid[40];

		if (c && c->phase == PH_ACTIVE)
			cpsim_cp_tx_id(cp, c, txid, sizeof(txid));
		/* K01.FR.09: a TxProfile names the running transaction */
		if (!c || c->phase != PH_ACTIVE || cpsim_tx_key_str(txid) != p.tx_key)
			r = -ENOENT;
	}
	if (r == 0)
		r = cpsim_cp_set_profile(cp, &p);
	if (r < 0)
		free(p.periods);
	status_only(w, r == 0 ? "Accepted" : "Rejected");
	return OCPP_ERR_NONE;
}

static int purpose_v201(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "ChargingStationMaxProfile"))
		return CPSIM_PP_STATION_MAX;
	if (!strcmp(s, "TxDefaultProfile"))
		return CPSIM_PP_TX_DEFAULT;
	if (!strcmp(s, "TxProfile"))
		return CPSIM_PP_TX;
	return CPSIM_PP_EXTERNAL;
}

static enum ocpp_err clear_charging_profile(struct cpsim_cp *cp, const json_t *req,
					    struct cpsim_jw *w)
{
	const json_t *crit = json_object_get(req, "chargingProfileCriteria");
	struct cpsim_profile_filter f = {0};
	int p;

	if (json_object_get(req, "chargingProfileId")) {
		f.has_id = true;
		f.id = (int32_t)ocpp_json_int(req, "chargingProfileId");
	}
	if (json_object_get(crit, "evseId")) {
		f.has_connector = true;
		f.connector = (unsigned)ocpp_json_int(crit, "evseId");
	}
	if ((p = purpose_v201(ocpp_json_str(crit, "chargingProfilePurpose"))) >= 0) {
		f.has_purpose = true;
		f.purpose = p;
	}
	if (json_object_get(crit, "stackLevel")) {
		f.has_stack = true;
		f.stack = (int32_t)ocpp_json_int(crit, "stackLevel");
	}
	status_only(w, cpsim_cp_clear_profiles(cp, &f) ? "Accepted" : "Unknown");
	return OCPP_ERR_NONE;
}

static enum ocpp_err get_charging_profiles(struct cpsim_cp *cp, const json_t *req,
					   struct cpsim_jw *w)
{
	const json_t *crit = json_object_get(req, "chargingProfile");
	int purpose = purpose_v201(ocpp_json_str(crit, "chargingProfilePurpose"));
	bool has_evse = json_object_get(req, "evseId") != NULL;
	unsigned evse_id = (unsigned)ocpp_json_int(req, "evseId"), found = 0;
	struct cpsim_jw *m;

	for (unsigned e = 0; e <= cp->nconn; e++) {
		if (has_evse && e != evse_id)
			continue;
		m = W(cp);
		cpsim_jw_obj(m);
		cpsim_jw_key(m, "requestId");
		cpsim_jw_int(m, ocpp_json_int(req, "requestId"));
		cpsim_jw_key(m, "chargingLimitSource");
		cpsim_jw_str(m, "CSO");
		cpsim_jw_key(m, "evseId");
		cpsim_jw_int(m, e);
		cpsim_jw_key(m, "chargingProfile");
		cpsim_jw_arr(m);
		unsigned n = 0;

		for (unsigned i = 0; cp->profiles && i < cp->profiles->count; i++) {
			const struct cpsim_profile *p = &cp->profiles->p[i];

			if (p->connector != e ||
			    (purpose >= 0 && p->purpose != (unsigned)purpose) ||
			    (json_object_get(crit, "stackLevel") &&
			     p->stack != (int32_t)ocpp_json_int(crit, "stackLevel")))
				continue;
			cpsim_bh_profile_json(m, p);
			n++;
		}
		cpsim_jw_end(m);
		cpsim_jw_end(m);
		if (n) {
			found += n;
			cpsim_cp_enqueue(cp,
					 cpsim_qmsg_new(m, CPSIM_A_REPORT_PROFILES, 0, 0, false));
		}
	}
	status_only(w, found ? "Accepted" : "NoProfiles");
	return OCPP_ERR_NONE;
}

static enum ocpp_err composite(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	struct cpsim_period per[256];
	unsigned conn = (unsigned)ocpp_json_int(req, "evseId");
	int32_t duration = (int32_t)ocpp_json_int(req, "duration");
	const char *unit = ocpp_json_str(req, "chargingRateUnit");
	bool amps = unit && !strcmp(unit, "A");
	int64_t start;
	int n =
	    duration > 0 ? cpsim_cp_composite(cp, conn, duration, amps, per, 256, &start) : -EINVAL;

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, n > 0 ? "Accepted" : "Rejected");
	if (n > 0) {
		cpsim_jw_key(w, "schedule");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "evseId");
		cpsim_jw_int(w, conn);
		cpsim_jw_key(w, "duration");
		cpsim_jw_int(w, duration);
		cpsim_jw_key(w, "scheduleStart");
		cpsim_bh_time(w, start);
		cpsim_jw_key(w, "chargingRateUnit");
		cpsim_jw_str(w, amps ? "A" : "W");
		cpsim_jw_key(w, "chargingSchedulePeriod");
		cpsim_bh_periods(w, per, n);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	return OCPP_ERR_NONE;
}

static enum ocpp_err trigger(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	const char *m = ocpp_json_str(req, "requestedMessage");
	const json_t *ev = json_object_get(req, "evse");
	unsigned conn = ev ? (unsigned)ocpp_json_int(ev, "id") : 0;
	const char *answer = "Accepted";

	if (conn > cp->nconn) {
		status_only(w, "Rejected");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(m, "BootNotification"))
		cpsim_cp_enqueue(cp, boot(cp, BR_TRIGGERED));
	else if (!strcmp(m, "Heartbeat"))
		cpsim_cp_enqueue(cp, heartbeat(cp));
	else if (!strcmp(m, "StatusNotification"))
		cpsim_cp_trigger_status(cp, conn);
	else if (!strcmp(m, "MeterValues"))
		cpsim_cp_trigger_meter(cp, conn, false);
	else if (!strcmp(m, "TransactionEvent"))
		cpsim_cp_trigger_meter(cp, conn, true);
	else if (!strcmp(m, "FirmwareStatusNotification"))
		cpsim_cp_enqueue(cp, fw_status(cp, "Idle", -1));
	else if (!strcmp(m, "LogStatusNotification"))
		cpsim_cp_enqueue(cp, log_status(cp, "Idle", -1));
	else
		answer = "NotImplemented";
	status_only(w, answer);
	return OCPP_ERR_NONE;
}

static enum ocpp_err send_local_list(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	const json_t *list = json_object_get(req, "localAuthorizationList"), *e;
	size_t n = json_array_size(list), i;
	const char **tags = calloc(n + 1, sizeof(*tags));
	bool *acc = calloc(n + 1, sizeof(*acc));
	const char *answer = "Accepted";

	if (!tags || !acc || n > LL_MAX || n > cp->f->sc->ll_per_message) { /* ItemsPerMessage */
		answer = "Failed";
		goto out;
	}
	json_array_foreach(list, i, e) {
		const char *st = ocpp_json_str(json_object_get(e, "idTokenInfo"), "status");

		tags[i] = ocpp_json_str(json_object_get(e, "idToken"), "idToken");
		acc[i] = st && !strcmp(st, "Accepted");
	}
	if (cpsim_cp_local_list(cp, (int32_t)ocpp_json_int(req, "versionNumber"),
				!strcmp(ocpp_json_str(req, "updateType"), "Full"), tags, acc,
				n) < 0)
		answer = "Failed";
out:
	free(tags);
	free(acc);
	status_only(w, answer);
	return OCPP_ERR_NONE;
}

static enum ocpp_err on_call(struct cpsim_cp *cp, const char *action, const json_t *req,
			     struct cpsim_jw *w, char *desc, size_t n)
{
	int r;

	if (!strcmp(action, "RequestStartTransaction"))
		return request_start(cp, req, w, desc, n);
	if (!strcmp(action, "RequestStopTransaction")) {
		r = cpsim_cp_remote_stop(cp, cpsim_tx_key_str(ocpp_json_str(req, "transactionId")));
		status_only(w, r == 0 ? "Accepted" : "Rejected");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "Reset")) {
		/* B11/B12; resetting a single EVSE is not modelled */
		if (json_object_get(req, "evseId")) {
			status_only(w, "Rejected");
			return OCPP_ERR_NONE;
		}
		r = cpsim_cp_reset(cp, false, !strcmp(ocpp_json_str(req, "type"), "OnIdle"));
		status_only(w, r == 1 ? "Scheduled" : "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "ChangeAvailability")) {
		const json_t *ev = json_object_get(req, "evse");

		r = cpsim_cp_availability(
		    cp, ev ? (unsigned)ocpp_json_int(ev, "id") : 0,
		    !strcmp(ocpp_json_str(req, "operationalStatus"), "Operative"));
		status_only(w, r < 0 ? "Rejected" : r ? "Scheduled" : "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "UnlockConnector")) {
		if (ocpp_json_int(req, "connectorId") != 1) {
			status_only(w, "UnknownConnector");
			return OCPP_ERR_NONE;
		}
		r = cpsim_cp_unlock(cp, (unsigned)ocpp_json_int(req, "evseId"), false);
		status_only(w, r < 0 ? "UnknownConnector"
			       : r   ? "OngoingAuthorizedTransaction"
				     : "Unlocked");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "GetVariables"))
		return get_variables(cp, req, w);
	if (!strcmp(action, "SetVariables"))
		return set_variables(cp, req, w);
	if (!strcmp(action, "GetBaseReport")) {
		notify_report(cp, (int)ocpp_json_int(req, "requestId"));
		status_only(w, "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "GetReport")) {
		status_only(w, "NotSupported");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "SetChargingProfile"))
		return set_charging_profile(cp, req, w, desc, n);
	if (!strcmp(action, "ClearChargingProfile"))
		return clear_charging_profile(cp, req, w);
	if (!strcmp(action, "GetChargingProfiles"))
		return get_charging_profiles(cp, req, w);
	if (!strcmp(action, "GetCompositeSchedule"))
		return composite(cp, req, w);
	if (!strcmp(action, "TriggerMessage"))
		return trigger(cp, req, w);
	if (!strcmp(action, "SendLocalList"))
		return send_local_list(cp, req, w);
	if (!strcmp(action, "GetLocalListVersion")) {
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "versionNumber");
		cpsim_jw_int(w, cp->ll ? cp->ll->version : 0);
		cpsim_jw_end(w);
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "ClearCache")) {
		status_only(w, "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "DataTransfer")) {
		if (cpsim_bh_vendor_dt(cp, req, w)) /* docs/v2g.md */
			return OCPP_ERR_NONE;
		const char *msg = ocpp_json_str(req, "messageId");

		status_only(w, strcmp(ocpp_json_str(req, "vendorId"), VENDOR_ID) ? "UnknownVendorId"
			       : msg && !strcmp(msg, "Ping")			 ? "Accepted"
							     : "UnknownMessageId");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "GetTransactionStatus")) {
		const char *txid = ocpp_json_str(req, "transactionId");
		bool queued = false, ongoing = false;

		for (struct cpsim_qmsg *q = cp->q_head; q; q = q->next)
			queued |= q->persist;
		if (txid) {
			uint64_t key = cpsim_tx_key_str(txid);

			for (unsigned i = 0; i < cp->nconn; i++) {
				struct cpsim_limit_ctx ctx;

				cpsim_cp_limit_ctx(cp, &cp->c[i], &ctx);
				ongoing |= cp->c[i].phase == PH_ACTIVE && ctx.tx_key == key;
			}
		}
		cpsim_jw_obj(w);
		if (txid) {
			cpsim_jw_key(w, "ongoingIndicator");
			cpsim_jw_bool(w, ongoing);
		}
		cpsim_jw_key(w, "messagesInQueue");
		cpsim_jw_bool(w, queued);
		cpsim_jw_end(w);
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "UpdateFirmware")) {
		static const char *const seq[] = {"Downloading", "Downloaded", "Installing",
						  "Installed"};
		int id = (int)ocpp_json_int(req, "requestId");

		for (unsigned i = 0; i < 4; i++)
			cpsim_cp_enqueue(cp, fw_status(cp, seq[i], id));
		status_only(w, "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "GetLog")) {
		int id = (int)ocpp_json_int(req, "requestId");
		char cid[40], name[64];

		cpsim_cp_enqueue(cp, log_status(cp, "Uploading", id));
		cpsim_cp_enqueue(cp, log_status(cp, "Uploaded", id));
		cpsim_cp_id(cp, cid, sizeof(cid));
		snprintf(name, sizeof(name), "log-%s.txt", cid);
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "status");
		cpsim_jw_str(w, "Accepted");
		cpsim_jw_key(w, "filename");
		cpsim_jw_str(w, name);
		cpsim_jw_end(w);
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "ReserveNow")) {
		int64_t expiry;

		if (ocpp_time_parse(ocpp_json_str(req, "expiryDateTime"), &expiry) < 0) {
			status_only(w, "Rejected");
			return OCPP_ERR_NONE;
		}
		r = cpsim_cp_reserve(cp, (unsigned)ocpp_json_int(req, "evseId"),
				     (int32_t)ocpp_json_int(req, "id"), expiry,
				     ocpp_json_str(json_object_get(req, "idToken"), "idToken"));
		status_only(w, r == 0 ? "Accepted" : r == -EBUSY ? "Occupied" : "Rejected");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "CancelReservation")) {
		r = cpsim_cp_cancel_reservation(cp, (int32_t)ocpp_json_int(req, "reservationId"));
		status_only(w, r == 0 ? "Accepted" : "Rejected");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "CertificateSigned")) {
		status_only(w, "Rejected");
		return OCPP_ERR_NONE;
	}
	snprintf(desc, n, "%s is not supported by the simulator", action);
	return OCPP_ERR_NOT_SUPPORTED;
}

const struct cpsim_behaviour cpsim_behaviour_v201 = {
    .version = OCPP_V201,
    .boot = boot,
    .heartbeat = heartbeat,
    .status = status,
    .authorize = authorize,
    .tx_start = tx_start,
    .tx_meter = tx_meter,
    .tx_stop = tx_stop,
    .meter = meter,
    .ev_needs = ev_needs,
    .fw_status = fw_status,
    .log_status = log_status,
    .on_result = on_result,
    .on_error = on_error,
    .on_call = on_call,
};
