/* SPDX-License-Identifier: MIT */
/* Operator commands (svc/cmd.h) as OCPP 1.6 messages, and the domain reading of the answers. */
#include "v16.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../svc/cmd.h"

static const char *const purposes[_SVC_PURPOSE_MAX] = {
    [SVC_PURPOSE_STATION_MAX] = "ChargePointMaxProfile",
    [SVC_PURPOSE_TX_DEFAULT] = "TxDefaultProfile",
    [SVC_PURPOSE_TX] = "TxProfile",
};

static const char *const triggers[_SVC_TRIGGER_MAX] = {
    [SVC_TRIGGER_BOOT] = "BootNotification",
    [SVC_TRIGGER_HEARTBEAT] = "Heartbeat",
    [SVC_TRIGGER_STATUS] = "StatusNotification",
    [SVC_TRIGGER_METER_VALUES] = "MeterValues",
    [SVC_TRIGGER_FIRMWARE_STATUS] = "FirmwareStatusNotification",
    [SVC_TRIGGER_DIAGNOSTICS_STATUS] = "DiagnosticsStatusNotification",
    [SVC_TRIGGER_SIGN_CERTIFICATE] = "SignChargePointCertificate", /* extended trigger */
};

static json_t *limit_json(const struct svc_charging_profile *p, int64_t limit)
{
	/* the domain keeps amperes in tenths; the wire has a decimal */
	return p->rate_unit == SVC_RATE_A ? json_real((double)limit / 10.0) : json_integer(limit);
}

/* OCPP 1.6 csChargingProfiles (5.16, 7.7). */
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
	sched = json_pack("{s:s, s:o}", "chargingRateUnit", p->rate_unit == SVC_RATE_A ? "A" : "W",
			  "chargingSchedulePeriod", periods);
	if (sched && p->duration_s > 0)
		json_object_set_new(sched, "duration", json_integer(p->duration_s));
	if (sched && p->start_ms)
		json_object_set_new(sched, "startSchedule", adapter_time(p->start_ms));
	o = json_pack("{s:I, s:i, s:s, s:s, s:o}", "chargingProfileId", (json_int_t)p->id,
		      "stackLevel", p->stack_level, "chargingProfilePurpose", purposes[p->purpose],
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
		json_t *o = json_pack("{s:s}", "idTag", e->token ? e->token : "");

		if (o && e->status >= 0) { /* without idTagInfo a differential update removes it */
			json_t *info = json_pack("{s:s}", "status",
						 auth_status_to_string(e->status)
						     ? auth_status_to_string(e->status)
						     : "Invalid");

			if (info && e->expiry_ms)
				json_object_set_new(info, "expiryDate", adapter_time(e->expiry_ms));
			if (info && e->parent && *e->parent)
				json_object_set_new(info, "parentIdTag", json_string(e->parent));
			json_object_set_new(o, "idTagInfo", info);
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

int v16_encode_cmd(const struct svc_cmd *c, const char **ret_action, json_t **ret_payload)
{
	const char *action;
	json_t *p = NULL;
	char *end;

	switch (c->kind) {
	case SVC_CMD_REMOTE_START: /* 5.11 */
		action = "RemoteStartTransaction";
		p = json_pack("{s:s}", "idTag", c->id_tag ? c->id_tag : "");
		if (p && c->evse_id > 0)
			json_object_set_new(p, "connectorId", json_integer(c->evse_id));
		break;
	case SVC_CMD_REMOTE_STOP: { /* 5.12: the CSMS's integer transaction id */
		long long id = strtoll(c->station_tx_id, &end, 10);

		if (!c->station_tx_id[0] || *end)
			return -EINVAL;
		action = "RemoteStopTransaction";
		p = json_pack("{s:I}", "transactionId", (json_int_t)id);
		break;
	}
	case SVC_CMD_RESET: /* 5.14 */
		action = "Reset";
		p = json_pack("{s:s}", "type", c->hard ? "Hard" : "Soft");
		break;
	case SVC_CMD_UNLOCK: /* 5.18: 1.6 connector c is EVSE c */
		action = "UnlockConnector";
		p = json_pack("{s:i}", "connectorId", c->evse_id);
		break;
	case SVC_CMD_AVAILABILITY: /* 5.2 */
		action = "ChangeAvailability";
		p = json_pack("{s:i, s:s}", "connectorId", c->evse_id, "type",
			      c->operative ? "Operative" : "Inoperative");
		break;
	case SVC_CMD_TRIGGER: /* 5.17 */
		if (c->trigger < 0 || c->trigger >= _SVC_TRIGGER_MAX)
			return -EINVAL;
		/* the security extension's messages have their own trigger (whitepaper 1.6 6.2) */
		action = c->trigger == SVC_TRIGGER_SIGN_CERTIFICATE ? "ExtendedTriggerMessage"
								    : "TriggerMessage";
		p = json_pack("{s:s}", "requestedMessage", triggers[c->trigger]);
		if (p && c->evse_id > 0)
			json_object_set_new(p, "connectorId", json_integer(c->evse_id));
		break;
	case SVC_CMD_SET_PASSWORD: /* security whitepaper: the Basic auth password */
		if (!c->password)
			return -EINVAL;
		action = "ChangeConfiguration";
		p = json_pack("{s:s, s:s}", "key", "AuthorizationKey", "value", c->password);
		break;
	case SVC_CMD_SET_PROFILE: { /* 5.16 */
		json_t *prof = profile_json(&c->profile);

		if (!prof)
			return -EINVAL;
		/* 7.8: a TxProfile names its transaction (the CSMS's id in 1.6) */
		if (c->profile.purpose == SVC_PURPOSE_TX && c->session_id > 0)
			json_object_set_new(prof, "transactionId", json_integer(c->session_id));
		action = "SetChargingProfile";
		p = json_pack("{s:i, s:o}", "connectorId", c->evse_id, "csChargingProfiles", prof);
		break;
	}
	case SVC_CMD_CLEAR_PROFILE: /* 5.5: every criterion optional */
		action = "ClearChargingProfile";
		p = json_object();
		if (c->clear.has_id)
			json_object_set_new(p, "id", json_integer(c->clear.id));
		if (c->evse_id > 0)
			json_object_set_new(p, "connectorId", json_integer(c->evse_id));
		if (c->clear.purpose >= 0 && c->clear.purpose < _SVC_PURPOSE_MAX)
			json_object_set_new(p, "chargingProfilePurpose",
					    json_string(purposes[c->clear.purpose]));
		if (c->clear.stack_level >= 0)
			json_object_set_new(p, "stackLevel", json_integer(c->clear.stack_level));
		break;
	case SVC_CMD_COMPOSITE_SCHEDULE: /* 5.7 */
		action = "GetCompositeSchedule";
		p = json_pack("{s:i, s:I}", "connectorId", c->evse_id, "duration",
			      (json_int_t)c->duration_s);
		if (p && (c->rate_unit == SVC_RATE_W || c->rate_unit == SVC_RATE_A))
			json_object_set_new(p, "chargingRateUnit",
					    json_string(c->rate_unit == SVC_RATE_A ? "A" : "W"));
		break;
	case SVC_CMD_SEND_LOCAL_LIST: /* 5.15 */
		action = "SendLocalList";
		p = json_pack("{s:I, s:s, s:o}", "listVersion", (json_int_t)c->list.version,
			      "updateType", c->list.full ? "Full" : "Differential",
			      "localAuthorizationList", local_list_json(c));
		if (p && !c->list.n_entries)
			json_object_del(p, "localAuthorizationList");
		break;
	case SVC_CMD_LOCAL_LIST_VERSION: /* 5.9 */
		action = "GetLocalListVersion";
		p = json_object();
		break;
	case SVC_CMD_LOCAL_LIST_LIMITS: /* 5.8; 9.1.21/9.1.20 of the standard configuration keys */
		action = "GetConfiguration";
		p = json_pack("{s:[s, s]}", "key", "SendLocalListMaxLength",
			      "LocalAuthListMaxLength");
		break;
	case SVC_CMD_RESERVE: /* 5.13 */
		action = "ReserveNow";
		p = json_pack("{s:i, s:o, s:s, s:I}", "connectorId", c->evse_id, "expiryDate",
			      adapter_time(c->expiry_ms), "idTag", c->id_tag ? c->id_tag : "",
			      "reservationId", (json_int_t)c->reservation_id);
		break;
	case SVC_CMD_CANCEL_RESERVATION: /* 5.1 */
		action = "CancelReservation";
		p = json_pack("{s:I}", "reservationId", (json_int_t)c->reservation_id);
		break;
	case SVC_CMD_SET_V2G_MODE: /* docs/v2g.md §2: 1.6 names the CSMS's integer id */
		if (c->evse_id < 1 || !svc_op_mode_name(c->v2g.mode))
			return -EINVAL;
		action = "DataTransfer";
		p = adapter_v2g_mode(c, json_integer(c->session_id));
		break;
	case SVC_CMD_GET_PROFILES: /* no GetChargingProfiles in 1.6 (composite-schedule is) */
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
	if (!p)
		return -ENOMEM;
	*ret_action = action;
	*ret_payload = p;
	return 0;
}

/* Status words of 1.6 answers that mean the station did what was asked, or refused. */
static const char *const yes_words[] = {"Accepted", "Unlocked", "Scheduled"};
static const char *const no_words[] = {"Rejected",    "UnlockFailed", "Occupied",	"Faulted",
				       "Unavailable", "Failed",	      "VersionMismatch"};

static bool in(const char *const *words, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(words[i], w) == 0)
			return true;
	return false;
}

void v16_decode_result(const char *action, const json_t *payload, struct svc_cmd_result *res)
{
	const char *w = adapter_str(payload, "status");

	(void)action;
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
