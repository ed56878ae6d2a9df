/* SPDX-License-Identifier: MIT */
/* OCPP 1.6J behaviour of a virtual charger: the messages it sends and how it obeys the CSMS. */
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

/* ---------------------------------------------------------------- messages we send */

static struct cpsim_qmsg *boot(struct cpsim_cp *cp, enum cp_boot_reason why)
{
	struct cpsim_jw *w = W(cp);
	char id[40], model[24];

	(void)why; /* 1.6 has no boot reason */
	cpsim_cp_id(cp, id, sizeof(id));
	snprintf(model, sizeof(model), "cpsim-%s", cpsim_kind_name((enum cpsim_kind)cp->kind));
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "chargePointVendor");
	cpsim_jw_str(w, "OpenChargeNet");
	cpsim_jw_key(w, "chargePointModel");
	cpsim_jw_str(w, model);
	cpsim_jw_key(w, "chargePointSerialNumber");
	cpsim_jw_str(w, id);
	cpsim_jw_key(w, "firmwareVersion");
	cpsim_jw_str(w, "cpsim-0.1");
	cpsim_jw_key(w, "meterType");
	cpsim_jw_str(w, "cpsim virtual meter");
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
	struct cpsim_jw *w = W(cp);
	const char *s = "Available";

	if (connector) {
		s = cpsim_status_name((enum cp_status)cp->c[connector - 1].status);
	} else {
		/* the charger itself: Unavailable only when every connector is */
		bool all = true;

		for (unsigned i = 0; i < cp->nconn; i++)
			all &= (cp->c[i].flags & CF_INOPERATIVE) != 0;
		if (all)
			s = "Unavailable";
	}
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "connectorId");
	cpsim_jw_int(w, connector);
	cpsim_jw_key(w, "errorCode");
	cpsim_jw_str(w, "NoError");
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, s);
	cpsim_jw_key(w, "timestamp");
	cpsim_bh_time(w, cpsim_proto_now(cp));
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_STATUS, connector, 0, false);
}

static struct cpsim_qmsg *authorize(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	struct cpsim_jw *w = W(cp);

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "idTag");
	cpsim_jw_str(w, c->tag);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_AUTHORIZE, c->id, c->session, false);
}

static struct cpsim_qmsg *tx_start(struct cpsim_cp *cp, struct cpsim_connector *c,
				   enum cp_trigger why)
{
	struct cpsim_jw *w = W(cp);
	struct cpsim_qmsg *q;

	(void)why;
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "connectorId");
	cpsim_jw_int(w, c->id);
	cpsim_jw_key(w, "idTag");
	cpsim_jw_str(w, c->tag);
	cpsim_jw_key(w, "meterStart");
	cpsim_jw_int(w, (int64_t)c->start_wh);
	if (c->flags & CF_RESERVED) {
		cpsim_jw_key(w, "reservationId");
		cpsim_jw_int(w, c->reservation_id);
	}
	cpsim_jw_key(w, "timestamp");
	cpsim_bh_time(w, c->start_proto_ms);
	cpsim_jw_end(w);
	q = cpsim_qmsg_new(w, CPSIM_A_START_TX, c->id, c->session, true);
	if (q)
		q->tx_begin = true;
	return q;
}

/*
** A message about the connector's transaction: when the CSMS has not given the id yet the
** text is left open and the id is appended at send time (struct cpsim_qmsg).
*/
static struct cpsim_qmsg *tx_message(struct cpsim_connector *c, struct cpsim_jw *w,
				     enum cpsim_action a)
{
	struct cpsim_qmsg *q;

	if (c->txid) {
		cpsim_jw_key(w, "transactionId");
		cpsim_jw_int(w, c->txid);
		cpsim_jw_end(w);
		return cpsim_qmsg_new(w, a, c->id, c->session, true);
	}
	/* "{...," without the closing brace: cpsim_jw tracks depth, so write raw text */
	q = cpsim_qmsg_new(w, a, c->id, c->session, true);
	if (q)
		q->needs_txid = true;
	return q;
}

static struct cpsim_qmsg *tx_meter(struct cpsim_cp *cp, struct cpsim_connector *c,
				   enum cp_trigger why)
{
	struct cpsim_jw *w;

	if (why == TR_STATE_CHANGED)
		return NULL; /* 1.6 reports that with StatusNotification */
	w = W(cp);
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "connectorId");
	cpsim_jw_int(w, c->id);
	cpsim_jw_key(w, "meterValue");
	cpsim_jw_arr(w);
	cpsim_bh_meter_value(w, cp, c,
			     why == TR_TRIGGER ? "Trigger"
			     : why == TR_CLOCK ? "Sample.Clock"
					       : "Sample.Periodic",
			     false);
	cpsim_jw_end(w);
	return tx_message(c, w, CPSIM_A_METER_VALUES);
}

static const char *reason_name(enum cp_reason r)
{
	switch (r) {
	case RS_EV_DISCONNECTED:
		return "EVDisconnected";
	case RS_REMOTE:
		return "Remote";
	case RS_DEAUTHORIZED:
		return "DeAuthorized";
	case RS_HARD_RESET:
		return "HardReset";
	case RS_SOFT_RESET:
		return "SoftReset";
	case RS_UNLOCK:
		return "UnlockCommand";
	case RS_OTHER:
		return "Other";
	default:
		return "Local";
	}
}

static struct cpsim_qmsg *tx_stop(struct cpsim_cp *cp, struct cpsim_connector *c,
				  enum cp_reason why)
{
	struct cpsim_jw *w = W(cp);

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "meterStop");
	cpsim_jw_int(w, (int64_t)c->import_wh);
	cpsim_jw_key(w, "timestamp");
	cpsim_bh_time(w, cpsim_proto_now(cp));
	if (why == RS_LOCAL || why == RS_EV_DISCONNECTED || why == RS_DEAUTHORIZED) {
		cpsim_jw_key(w, "idTag");
		cpsim_jw_str(w, c->tag);
	}
	cpsim_jw_key(w, "reason");
	cpsim_jw_str(w, reason_name(why));
	cpsim_jw_key(w, "transactionData");
	cpsim_jw_arr(w);
	cpsim_bh_meter_value(w, cp, c, "Transaction.End", false);
	cpsim_jw_end(w);
	return tx_message(c, w, CPSIM_A_STOP_TX);
}

static struct cpsim_qmsg *meter(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	struct cpsim_jw *w = W(cp);

	if (c->phase == PH_ACTIVE)
		return tx_meter(cp, c, TR_TRIGGER);
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "connectorId");
	cpsim_jw_int(w, c->id);
	cpsim_jw_key(w, "meterValue");
	cpsim_jw_arr(w);
	cpsim_bh_meter_value(w, cp, c, "Trigger", false);
	cpsim_jw_end(w);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, CPSIM_A_METER_VALUES, c->id, c->session, false);
}

static struct cpsim_qmsg *simple_status(struct cpsim_cp *cp, enum cpsim_action a, const char *s)
{
	struct cpsim_jw *w = W(cp);

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, s);
	cpsim_jw_end(w);
	return cpsim_qmsg_new(w, a, 0, 0, false);
}

static struct cpsim_qmsg *fw_status(struct cpsim_cp *cp, const char *s, int request_id)
{
	(void)request_id;
	return simple_status(cp, CPSIM_A_FIRMWARE_STATUS, s);
}

static struct cpsim_qmsg *log_status(struct cpsim_cp *cp, const char *s, int request_id)
{
	(void)request_id;
	return simple_status(cp, CPSIM_A_DIAG_STATUS, s);
}

/* ---------------------------------------------------------------- answers to our calls */

static bool tag_accepted(const json_t *payload)
{
	const char *s = ocpp_json_str(json_object_get(payload, "idTagInfo"), "status");

	return s && !strcmp(s, "Accepted");
}

static void on_result(struct cpsim_cp *cp, const struct cpsim_qmsg *q, const json_t *payload)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, q->connector);
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
		if (c && c->session == q->session)
			cpsim_cp_auth_result(cp, c, tag_accepted(payload));
		break;
	case CPSIM_A_START_TX:
		cpsim_cp_tx_started(cp, c, q->session,
				    (int32_t)ocpp_json_int(payload, "transactionId"),
				    tag_accepted(payload));
		break;
	default:
		break;
	}
}

static void on_error(struct cpsim_cp *cp, const struct cpsim_qmsg *q, const char *code)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, q->connector);

	(void)code;
	switch (q->action) {
	case CPSIM_A_BOOT:
		cpsim_cp_boot_result(cp, 3, 30);
		break;
	case CPSIM_A_AUTHORIZE:
		if (c && c->session == q->session)
			cpsim_cp_auth_result(cp, c, false);
		break;
	case CPSIM_A_START_TX:
		/* no id from the CSMS: the stop goes out with -1 (it will keep it as an orphan) */
		cpsim_cp_tx_started(cp, c, q->session, -1, true);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- calls from the CSMS */

static void status_only(struct cpsim_jw *w, const char *s)
{
	cpsim_jw_obj(w);
	cpsim_jw_key(w, "status");
	cpsim_jw_str(w, s);
	cpsim_jw_end(w);
}

static enum ocpp_err remote_start(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w,
				  char *desc, size_t n)
{
	const json_t *prof = json_object_get(req, "chargingProfile");
	struct cpsim_profile p;
	int r, conn;

	/* OCPP 1.6 5.11: only a TxProfile may come with it */
	if (prof && strcmp(ocpp_json_str(prof, "chargingProfilePurpose"), "TxProfile")) {
		status_only(w, "Rejected");
		return OCPP_ERR_NONE;
	}
	conn = cpsim_cp_remote_start(cp, (unsigned)ocpp_json_int(req, "connectorId"),
				     ocpp_json_str(req, "idTag"), 1, -1);
	if (conn < 0) {
		status_only(w, "Rejected");
		return OCPP_ERR_NONE;
	}
	if (prof) {
		r = cpsim_bh_profile(prof, false, (unsigned)conn, &p, desc, n);
		if (r == 0 && cpsim_cp_set_profile(cp, &p) < 0)
			free(p.periods);
	}
	status_only(w, "Accepted");
	return OCPP_ERR_NONE;
}

static enum ocpp_err get_configuration(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	const json_t *keys = json_object_get(req, "key"), *k;
	char value[512];
	size_t i;
	bool any_unknown = false;

	cpsim_jw_obj(w);
	cpsim_jw_key(w, "configurationKey");
	cpsim_jw_arr(w);
	for (i = 0; i < cpsim_cfg_nkeys; i++) {
		const struct cpsim_cfg_key *ck = &cpsim_cfg_keys[i];
		bool wanted = !keys || !json_array_size(keys);
		size_t j;

		if (!ck->key16)
			continue;
		json_array_foreach(keys, j, k)
			wanted |= !strcmp(json_string_value(k), ck->key16);
		if (!wanted)
			continue;
		cpsim_cfg_get(cp, ck, value, sizeof(value));
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "key");
		cpsim_jw_str(w, ck->key16);
		cpsim_jw_key(w, "readonly");
		cpsim_jw_bool(w, cpsim_cfg_readonly(ck));
		cpsim_jw_key(w, "value");
		cpsim_jw_str(w, value);
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	json_array_foreach(keys, i, k)
		any_unknown |= !cpsim_cfg_find16(json_string_value(k));
	if (any_unknown) {
		cpsim_jw_key(w, "unknownKey");
		cpsim_jw_arr(w);
		json_array_foreach(keys, i, k)
			if (!cpsim_cfg_find16(json_string_value(k)))
				cpsim_jw_str(w, json_string_value(k));
		cpsim_jw_end(w);
	}
	cpsim_jw_end(w);
	return OCPP_ERR_NONE;
}

static enum ocpp_err change_configuration(struct cpsim_cp *cp, const json_t *req,
					  struct cpsim_jw *w)
{
	const struct cpsim_cfg_key *k = cpsim_cfg_find16(ocpp_json_str(req, "key"));
	int r;

	if (!k) {
		status_only(w, "NotSupported");
		return OCPP_ERR_NONE;
	}
	r = cpsim_cfg_set(cp, k, ocpp_json_str(req, "value"));
	status_only(w, r == 0 ? "Accepted" : "Rejected");
	return OCPP_ERR_NONE;
}

static enum ocpp_err set_charging_profile(struct cpsim_cp *cp, const json_t *req,
					  struct cpsim_jw *w, char *desc, size_t n)
{
	struct cpsim_profile p;
	unsigned conn = (unsigned)ocpp_json_int(req, "connectorId");
	const json_t *jp = json_object_get(req, "csChargingProfiles");
	int r;

	r = cpsim_bh_profile(jp, false, conn, &p, desc, n);
	if (r == 0 && p.purpose == CPSIM_PP_TX && p.tx_key) {
		/* OCPP 1.6 5.16.3: the transactionId must be the running one */
		struct cpsim_connector *c = cpsim_cp_conn(cp, conn);

		if (!c || c->phase != PH_ACTIVE || cpsim_tx_key_int(c->txid) != p.tx_key)
			r = -ENOENT;
	}
	if (r == 0)
		r = cpsim_cp_set_profile(cp, &p);
	if (r < 0)
		free(p.periods);
	status_only(w, r == 0 ? "Accepted" : "Rejected");
	(void)desc;
	return OCPP_ERR_NONE;
}

static enum ocpp_err clear_charging_profile(struct cpsim_cp *cp, const json_t *req,
					    struct cpsim_jw *w)
{
	struct cpsim_profile_filter f = {0};
	const char *purpose = ocpp_json_str(req, "chargingProfilePurpose");

	if (json_object_get(req, "id")) {
		f.has_id = true;
		f.id = (int32_t)ocpp_json_int(req, "id");
	}
	if (json_object_get(req, "connectorId")) {
		f.has_connector = true;
		f.connector = (unsigned)ocpp_json_int(req, "connectorId");
	}
	if (purpose) {
		f.has_purpose = true;
		f.purpose = !strcmp(purpose, "ChargePointMaxProfile") ? CPSIM_PP_STATION_MAX
			    : !strcmp(purpose, "TxDefaultProfile")    ? CPSIM_PP_TX_DEFAULT
								      : CPSIM_PP_TX;
	}
	if (json_object_get(req, "stackLevel")) {
		f.has_stack = true;
		f.stack = (int32_t)ocpp_json_int(req, "stackLevel");
	}
	status_only(w, cpsim_cp_clear_profiles(cp, &f) ? "Accepted" : "Unknown");
	return OCPP_ERR_NONE;
}

static enum ocpp_err composite(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	struct cpsim_period per[256];
	unsigned conn = (unsigned)ocpp_json_int(req, "connectorId");
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
		cpsim_jw_key(w, "connectorId");
		cpsim_jw_int(w, conn);
		cpsim_jw_key(w, "scheduleStart");
		cpsim_bh_time(w, start);
		cpsim_jw_key(w, "chargingSchedule");
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "duration");
		cpsim_jw_int(w, duration);
		cpsim_jw_key(w, "startSchedule");
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
	unsigned conn = (unsigned)ocpp_json_int(req, "connectorId");
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
	else if (!strcmp(m, "FirmwareStatusNotification"))
		cpsim_cp_enqueue(cp, fw_status(cp, "Idle", 0));
	else if (!strcmp(m, "DiagnosticsStatusNotification"))
		cpsim_cp_enqueue(cp, log_status(cp, "Idle", 0));
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

	if (!tags || !acc) {
		answer = "Failed";
		goto out;
	}
	if (n > LL_MAX || n > cp->f->sc->ll_per_message) { /* over SendLocalListMaxLength */
		answer = "Failed";
		goto out;
	}
	json_array_foreach(list, i, e) {
		const char *st = ocpp_json_str(json_object_get(e, "idTagInfo"), "status");

		tags[i] = ocpp_json_str(e, "idTag");
		/* a Differential entry without idTagInfo removes the tag */
		acc[i] = st && !strcmp(st, "Accepted");
	}
	if (cpsim_cp_local_list(cp, (int32_t)ocpp_json_int(req, "listVersion"),
				!strcmp(ocpp_json_str(req, "updateType"), "Full"), tags, acc,
				n) < 0)
		answer = "Failed";
out:
	free(tags);
	free(acc);
	status_only(w, answer);
	return OCPP_ERR_NONE;
}

static enum ocpp_err reserve_now(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w)
{
	int64_t expiry;
	int r;

	if (ocpp_time_parse(ocpp_json_str(req, "expiryDate"), &expiry) < 0) {
		status_only(w, "Rejected");
		return OCPP_ERR_NONE;
	}
	r = cpsim_cp_reserve(cp, (unsigned)ocpp_json_int(req, "connectorId"),
			     (int32_t)ocpp_json_int(req, "reservationId"), expiry,
			     ocpp_json_str(req, "idTag"));
	status_only(w, r == 0 ? "Accepted" : r == -EBUSY ? "Occupied" : "Rejected");
	return OCPP_ERR_NONE;
}

static enum ocpp_err on_call(struct cpsim_cp *cp, const char *action, const json_t *req,
			     struct cpsim_jw *w, char *desc, size_t n)
{
	int r;

	if (!strcmp(action, "RemoteStartTransaction"))
		return remote_start(cp, req, w, desc, n);
	if (!strcmp(action, "RemoteStopTransaction")) {
		r = cpsim_cp_remote_stop(
		    cp, cpsim_tx_key_int((int32_t)ocpp_json_int(req, "transactionId")));
		status_only(w, r == 0 ? "Accepted" : "Rejected");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "Reset")) {
		cpsim_cp_reset(cp, !strcmp(ocpp_json_str(req, "type"), "Hard"), false);
		status_only(w, "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "ChangeAvailability")) {
		r = cpsim_cp_availability(cp, (unsigned)ocpp_json_int(req, "connectorId"),
					  !strcmp(ocpp_json_str(req, "type"), "Operative"));
		status_only(w, r < 0 ? "Rejected" : r ? "Scheduled" : "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "UnlockConnector")) {
		r = cpsim_cp_unlock(cp, (unsigned)ocpp_json_int(req, "connectorId"), true);
		status_only(w, r < 0 ? "NotSupported" : "Unlocked");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "GetConfiguration"))
		return get_configuration(cp, req, w);
	if (!strcmp(action, "ChangeConfiguration"))
		return change_configuration(cp, req, w);
	if (!strcmp(action, "ClearCache")) {
		status_only(w, "Accepted");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "DataTransfer")) {
		if (cpsim_bh_vendor_dt(cp, req, w)) /* docs/v2g.md */
			return OCPP_ERR_NONE;
		const char *vendor = ocpp_json_str(req, "vendorId"),
			   *msg = ocpp_json_str(req, "messageId");

		status_only(w, strcmp(vendor, VENDOR_ID)     ? "UnknownVendorId"
			       : msg && !strcmp(msg, "Ping") ? "Accepted"
							     : "UnknownMessageId");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "SetChargingProfile"))
		return set_charging_profile(cp, req, w, desc, n);
	if (!strcmp(action, "ClearChargingProfile"))
		return clear_charging_profile(cp, req, w);
	if (!strcmp(action, "GetCompositeSchedule"))
		return composite(cp, req, w);
	if (!strcmp(action, "TriggerMessage"))
		return trigger(cp, req, w);
	if (!strcmp(action, "SendLocalList"))
		return send_local_list(cp, req, w);
	if (!strcmp(action, "GetLocalListVersion")) {
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "listVersion");
		cpsim_jw_int(w, cp->ll ? cp->ll->version : 0);
		cpsim_jw_end(w);
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "ReserveNow"))
		return reserve_now(cp, req, w);
	if (!strcmp(action, "CancelReservation")) {
		r = cpsim_cp_cancel_reservation(cp, (int32_t)ocpp_json_int(req, "reservationId"));
		status_only(w, r == 0 ? "Accepted" : "Rejected");
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "UpdateFirmware")) {
		/* OCPP 1.6 6.20: the status sequence of a successful update */
		static const char *const seq[] = {"Downloading", "Downloaded", "Installing",
						  "Installed"};

		for (unsigned i = 0; i < 4; i++)
			cpsim_cp_enqueue(cp, fw_status(cp, seq[i], 0));
		cpsim_jw_obj(w);
		cpsim_jw_end(w);
		return OCPP_ERR_NONE;
	}
	if (!strcmp(action, "GetDiagnostics")) {
		char id[40], name[64];

		cpsim_cp_enqueue(cp, log_status(cp, "Uploading", 0));
		cpsim_cp_enqueue(cp, log_status(cp, "Uploaded", 0));
		cpsim_cp_id(cp, id, sizeof(id));
		snprintf(name, sizeof(name), "diagnostics-%s.log", id);
		cpsim_jw_obj(w);
		cpsim_jw_key(w, "fileName");
		cpsim_jw_str(w, name);
		cpsim_jw_end(w);
		return OCPP_ERR_NONE;
	}
	snprintf(desc, n, "%s is not supported by the simulator", action);
	return OCPP_ERR_NOT_SUPPORTED;
}

const struct cpsim_behaviour cpsim_behaviour_v16 = {
    .version = OCPP_V16,
    .boot = boot,
    .heartbeat = heartbeat,
    .status = status,
    .authorize = authorize,
    .tx_start = tx_start,
    .tx_meter = tx_meter,
    .tx_stop = tx_stop,
    .meter = meter,
    .ev_needs = NULL,
    .fw_status = fw_status,
    .log_status = log_status,
    .on_result = on_result,
    .on_error = on_error,
    .on_call = on_call,
};
