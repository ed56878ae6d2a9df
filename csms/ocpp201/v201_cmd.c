/* SPDX-License-Identifier: MIT */
/* Operator commands (svc/cmd.h) as OCPP 2.0.1 messages, and the domain reading of the answers. */
#include "v201.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../svc/cmd.h"

static const char *const purposes[_SVC_PURPOSE_MAX] = {
    [SVC_PURPOSE_STATION_MAX] = "ChargingStationMaxProfile",
    [SVC_PURPOSE_TX_DEFAULT] = "TxDefaultProfile",
    [SVC_PURPOSE_TX] = "TxProfile",
};

static const char *const triggers[_SVC_TRIGGER_MAX] = {
    [SVC_TRIGGER_BOOT] = "BootNotification",
    [SVC_TRIGGER_HEARTBEAT] = "Heartbeat",
    [SVC_TRIGGER_STATUS] = "StatusNotification",
    [SVC_TRIGGER_METER_VALUES] = "MeterValues",
    [SVC_TRIGGER_FIRMWARE_STATUS] = "FirmwareStatusNotification",
    [SVC_TRIGGER_DIAGNOSTICS_STATUS] = "LogStatusNotification",
    [SVC_TRIGGER_SIGN_CERTIFICATE] = "SignChargingStationCertificate",
};

/* Tokens the operator names are central ones (2.0.1 IdTokenEnumType). */
static json_t *id_token(const char *t)
{
	return json_pack("{s:s, s:s}", "idToken", t ? t : "", "type", "Central");
}

static json_t *limit_json(const struct svc_charging_profile *p, int64_t limit)
{
	return p->rate_unit == SVC_RATE_A ? json_real((double)limit / 10.0) : json_integer(limit);
}

/* K01 ChargingProfileType with its one ChargingScheduleType. */
/* chargingProfileKind: Recurring (recurrencyKind beside it), Absolute with a start, else
 * Relative. */
static const char *profile_kind(const struct svc_charging_profile *p)
{
	if (p->recurrency != SVC_RECUR_NONE)
		return "Recurring";
	return p->start_ms ? "Absolute" : "Relative";
}

static json_t *profile_json(const struct svc_charging_profile *p)
{
	json_t *periods = json_array(), *sched, *o;

	if (p->purpose < 0 || p->purpose >= _SVC_PURPOSE_MAX || !p->n_periods ||
	    p->n_periods > SVC_PROFILE_PERIODS_MAX) {
		json_decref(periods);
		return NULL;
	}
	for (size_t i = 0; i < p->n_periods; i++) {
		json_t *e =
		    json_pack("{s:I, s:o}", "startPeriod", (json_int_t)p->periods[i].start_s,
			      "limit", limit_json(p, p->periods[i].limit));

		if (e && p->periods[i].phases > 0)
			json_object_set_new(e, "numberPhases", json_integer(p->periods[i].phases));
		json_array_append_new(periods, e);
	}
	sched =
	    json_pack("{s:I, s:s, s:o}", "id", (json_int_t)p->id, "chargingRateUnit",
		      p->rate_unit == SVC_RATE_A ? "A" : "W", "chargingSchedulePeriod", periods);
	if (sched && p->duration_s > 0)
		json_object_set_new(sched, "duration", json_integer(p->duration_s));
	if (sched && p->start_ms)
		json_object_set_new(sched, "startSchedule", adapter_time(p->start_ms));
	o = json_pack("{s:I, s:i, s:s, s:s, s:[o]}", "id", (json_int_t)p->id, "stackLevel",
		      p->stack_level, "chargingProfilePurpose", purposes[p->purpose],
		      "chargingProfileKind", profile_kind(p), "chargingSchedule", sched);
	if (o && p->recurrency != SVC_RECUR_NONE)
		json_object_set_new(
		    o, "recurrencyKind",
		    json_string(p->recurrency == SVC_RECUR_WEEKLY ? "Weekly" : "Daily"));
	return o;
}

static json_t *local_list_json(const struct svc_cmd *c)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < c->list.n_entries; i++) {
		const struct svc_local_entry *e = &c->list.entries[i];
		json_t *o = json_pack("{s:o}", "idToken", id_token(e->token));

		if (o &&
		    e->status >= 0) { /* without idTokenInfo a differential update removes it */
			json_t *info = json_pack("{s:s}", "status",
						 auth_status_to_string(e->status)
						     ? auth_status_to_string(e->status)
						     : "Invalid");

			if (info && e->expiry_ms)
				json_object_set_new(info, "cacheExpiryDateTime",
						    adapter_time(e->expiry_ms));
			if (info && e->parent && *e->parent)
				json_object_set_new(info, "groupIdToken", id_token(e->parent));
			json_object_set_new(o, "idTokenInfo", info);
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

int v201_encode_cmd(const struct svc_cmd *c, const char **ret_action, json_t **ret_payload)
{
	const char *action;
	json_t *p = NULL;

	switch (c->kind) {
	case SVC_CMD_REMOTE_START: /* F01 */
		action = "RequestStartTransaction";
		p = json_pack("{s:o, s:I}", "idToken", id_token(c->id_tag), "remoteStartId",
			      (json_int_t)c->request_id);
		if (p && c->evse_id > 0)
			json_object_set_new(p, "evseId", json_integer(c->evse_id));
		break;
	case SVC_CMD_REMOTE_STOP: /* F03: the station's own transaction id */
		if (!c->station_tx_id[0])
			return -EINVAL;
		action = "RequestStopTransaction";
		p = json_pack("{s:s}", "transactionId", c->station_tx_id);
		break;
	case SVC_CMD_RESET: /* B11/B12 */
		action = "Reset";
		p = json_pack("{s:s}", "type", c->hard ? "Immediate" : "OnIdle");
		break;
	case SVC_CMD_UNLOCK: /* F05 */
		action = "UnlockConnector";
		p = json_pack("{s:i, s:i}", "evseId", c->evse_id, "connectorId",
			      c->connector_id ? c->connector_id : 1);
		break;
	case SVC_CMD_AVAILABILITY: /* G03/G04 */
		action = "ChangeAvailability";
		p = json_pack("{s:s}", "operationalStatus",
			      c->operative ? "Operative" : "Inoperative");
		if (p && c->evse_id > 0)
			json_object_set_new(p, "evse", json_pack("{s:i}", "id", c->evse_id));
		break;
	case SVC_CMD_TRIGGER: /* F06 */
		if (c->trigger < 0 || c->trigger >= _SVC_TRIGGER_MAX)
			return -EINVAL;
		action = "TriggerMessage";
		p = json_pack("{s:s}", "requestedMessage", triggers[c->trigger]);
		if (p && c->evse_id > 0)
			json_object_set_new(p, "evse", json_pack("{s:i}", "id", c->evse_id));
		break;
	case SVC_CMD_SET_PROFILE: { /* K01 */
		json_t *prof = profile_json(&c->profile);

		if (!prof)
			return -EINVAL;
		/* K01.FR.03: a TxProfile names the station's transaction */
		if (c->profile.purpose == SVC_PURPOSE_TX && c->station_tx_id[0])
			json_object_set_new(prof, "transactionId", json_string(c->station_tx_id));
		action = "SetChargingProfile";
		p = json_pack("{s:i, s:o}", "evseId", c->evse_id, "chargingProfile", prof);
		break;
	}
	case SVC_CMD_CLEAR_PROFILE: { /* K10: every criterion optional */
		json_t *crit = json_object();

		action = "ClearChargingProfile";
		p = json_object();
		if (c->clear.has_id)
			json_object_set_new(p, "chargingProfileId", json_integer(c->clear.id));
		if (c->evse_id > 0)
			json_object_set_new(crit, "evseId", json_integer(c->evse_id));
		if (c->clear.purpose >= 0 && c->clear.purpose < _SVC_PURPOSE_MAX)
			json_object_set_new(crit, "chargingProfilePurpose",
					    json_string(purposes[c->clear.purpose]));
		if (c->clear.stack_level >= 0)
			json_object_set_new(crit, "stackLevel", json_integer(c->clear.stack_level));
		if (json_object_size(crit))
			json_object_set_new(p, "chargingProfileCriteria", crit);
		else
			json_decref(crit);
		break;
	}
	case SVC_CMD_COMPOSITE_SCHEDULE: /* K08 */
		action = "GetCompositeSchedule";
		p = json_pack("{s:i, s:I}", "evseId", c->evse_id, "duration",
			      (json_int_t)c->duration_s);
		if (p && (c->rate_unit == SVC_RATE_W || c->rate_unit == SVC_RATE_A))
			json_object_set_new(p, "chargingRateUnit",
					    json_string(c->rate_unit == SVC_RATE_A ? "A" : "W"));
		break;
	case SVC_CMD_SEND_LOCAL_LIST: /* D01/D02 */
		action = "SendLocalList";
		p = json_pack("{s:I, s:s}", "versionNumber", (json_int_t)c->list.version,
			      "updateType", c->list.full ? "Full" : "Differential");
		if (p && c->list.n_entries)
			json_object_set_new(p, "localAuthorizationList", local_list_json(c));
		break;
	case SVC_CMD_LOCAL_LIST_VERSION: /* D03 */
		action = "GetLocalListVersion";
		p = json_object();
		break;
	case SVC_CMD_LOCAL_LIST_LIMITS: /* B06 of LocalAuthListCtrlr (D01.FR.11, D01.FR.12) */
		action = "GetVariables";
		p = json_pack("{s:[{s:{s:s}, s:{s:s}}, {s:{s:s}, s:{s:s}}]}", "getVariableData",
			      "component", "name", "LocalAuthListCtrlr", "variable", "name",
			      "ItemsPerMessage", "component", "name", "LocalAuthListCtrlr",
			      "variable", "name", "BytesPerMessage");
		break;
	case SVC_CMD_RESERVE: /* H01 */
		action = "ReserveNow";
		p = json_pack("{s:I, s:o, s:o}", "id", (json_int_t)c->reservation_id,
			      "expiryDateTime", adapter_time(c->expiry_ms), "idToken",
			      id_token(c->id_tag));
		if (p && c->evse_id > 0)
			json_object_set_new(p, "evseId", json_integer(c->evse_id));
		break;
	case SVC_CMD_SET_PASSWORD: /* A01: SecurityCtrlr.BasicAuthPassword */
		if (!c->password)
			return -EINVAL;
		action = "SetVariables";
		p = json_pack("{s:[{s:s, s:{s:s}, s:{s:s}}]}", "setVariableData", "attributeValue",
			      c->password, "component", "name", "SecurityCtrlr", "variable", "name",
			      "BasicAuthPassword");
		break;
	case SVC_CMD_CANCEL_RESERVATION: /* H02 */
		action = "CancelReservation";
		p = json_pack("{s:I}", "reservationId", (json_int_t)c->reservation_id);
		break;
	case SVC_CMD_SET_V2G_MODE: /* docs/v2g.md §2: 2.0.1 names the station's own id */
		if (c->evse_id < 1 || !svc_op_mode_name(c->v2g.mode))
			return -EINVAL;
		action = "DataTransfer";
		p = adapter_v2g_mode(c, c->station_tx_id[0] ? json_string(c->station_tx_id)
							    : json_integer(c->session_id));
		break;
	case SVC_CMD_GET_PROFILES: { /* K09: every criterion optional, the criterion required */
		json_t *crit = json_object();

		action = "GetChargingProfiles";
		if (c->report.purpose >= 0 && c->report.purpose < _SVC_PURPOSE_MAX)
			json_object_set_new(crit, "chargingProfilePurpose",
					    json_string(purposes[c->report.purpose]));
		if (c->report.stack_level >= 0)
			json_object_set_new(crit, "stackLevel",
					    json_integer(c->report.stack_level));
		p = json_pack("{s:I, s:o}", "requestId", (json_int_t)c->request_id,
			      "chargingProfile", crit);
		if (p && c->report.has_evse)
			json_object_set_new(p, "evseId", json_integer(c->evse_id));
		break;
	}
	default:
		return -EINVAL;
	}
	if (!p)
		return -ENOMEM;
	*ret_action = action;
	*ret_payload = p;
	return 0;
}

/* Status words of 2.0.1 answers that mean the station did (or will do) what was asked, or
 * refused. */
static const char *const yes_words[] = {"Accepted", "Unlocked", "Scheduled"};
static const char *const no_words[] = {
    "Rejected",		"UnlockFailed", "OngoingAuthorizedTransaction",
    "UnknownConnector", "Occupied",	"Faulted",
    "Unavailable",	"Failed",	"VersionMismatch"};

static bool in(const char *const *words, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(words[i], w) == 0)
			return true;
	return false;
}

void v201_decode_result(const char *action, const json_t *payload, struct svc_cmd_result *res)
{
	const char *w = adapter_str(payload, "status");

	/* SetVariables of one variable: its attributeStatus is the answer's status */
	if (!w && !strcmp(action, "SetVariables")) {
		const json_t *results = json_object_get(payload, "setVariableResult");

		if (json_array_size(results) == 1)
			w = adapter_str(json_array_get(results, 0), "attributeStatus");
	}
	if (!w) {
		res->station_status[0] = '\0';
		res->status = SVC_RES_ANSWERED;
		return;
	}
	snprintf(res->station_status, sizeof(res->station_status), "%s", w);
	if (in(yes_words, sizeof(yes_words) / sizeof(yes_words[0]), w))
		res->status = SVC_RES_ACCEPTED;
	else if (in(no_words, sizeof(no_words) / sizeof(no_words[0]), w))
		res->status = SVC_RES_REJECTED;
	else
		res->status = SVC_RES_OTHER;
}
