/* SPDX-License-Identifier: MIT */
/* OCPP 1.6J handlers: JSON in, version-neutral svc calls, JSON out. Payloads arrive validated
 * against the official schema, so handlers only read what the schema guarantees. */
#include "v16.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapter.h"
#include "../core/cfg.h"
#include "../core/log.h"
#include "../svc/cert.h"
#include "../svc/domain.h"
#include "../svc/svc.h"

const struct adapter_action v16_actions[] = {
#define OCPP_ACTION(n, f) {n, f},
#include "actions.def"
#undef OCPP_ACTION
};
const size_t v16_actions_count = sizeof(v16_actions) / sizeof(v16_actions[0]);

static adapter_handler_fn find_action(const char *action)
{
	return adapter_find(v16_actions, v16_actions_count, action);
}

const struct adapter v16_adapter = {.version = OCPP_V16,
				    .find = find_action,
				    .encode_cmd = v16_encode_cmd,
				    .decode_result = v16_decode_result};

/* OCPP 1.6 IdTagInfo from a domain decision. */
static json_t *id_tag_info(const struct svc_auth *a)
{
	json_t *o = json_pack("{s:s}", "status", auth_status_to_string(a->status));

	if (o && a->expiry_ms)
		json_object_set_new(o, "expiryDate", adapter_time(a->expiry_ms));
	if (o && a->parent[0])
		json_object_set_new(o, "parentIdTag", json_string(a->parent));
	return o;
}

/* OCPP 1.6 4.2: register or update the station, answer by registration policy. */
int v16_boot_notification(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	struct store_boot b = {
	    .protocol = "ocpp1.6",
	    .vendor = adapter_str(req, "chargePointVendor"),
	    .model = adapter_str(req, "chargePointModel"),
	    .serial = adapter_str(req, "chargePointSerialNumber"),
	    .box_serial = adapter_str(req, "chargeBoxSerialNumber"),
	    .firmware = adapter_str(req, "firmwareVersion"),
	    .iccid = adapter_str(req, "iccid"),
	    .imsi = adapter_str(req, "imsi"),
	    .meter_type = adapter_str(req, "meterType"),
	    .meter_serial = adapter_str(req, "meterSerialNumber"),
	    .now_ms = svc_now_ms(call->svc),
	};
	return adapter_boot(call, &b, ret_conf);
}

/* OCPP 1.6 4.9 */
int v16_status_notification(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t ts;
	int64_t connector = adapter_int(req, "connectorId");
	int r;

	if (adapter_timestamp(call, req, "timestamp", &ts) < 0)
		return -EINVAL;
	if (connector < 0 || connector > call->cfg->max_connectors)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
				 "connectorId %lld outside 0..%d", (long long)connector,
				 call->cfg->max_connectors);
	/* OCPP 1.6 connector c is EVSE c with one connector (c = 0: the whole station) */
	r = svc_connector_status(call->svc, call->st, (int)connector, connector ? 1 : 0,
				 adapter_str(req, "status"), adapter_str(req, "errorCode"),
				 adapter_str(req, "info"), adapter_str(req, "vendorErrorCode"), ts);
	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_object();
	return 0;
}

/* OCPP 1.6 4.1 */
int v16_authorize(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	struct svc_auth a;
	int r = svc_authorize(call->svc, call->st, adapter_str(req, "idTag"), &a);

	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:o}", "idTagInfo", id_tag_info(&a));
	return 0;
}

/* Gather the sampled values of one OCPP 1.6 MeterValue into out (room for all of them). Missing
 * measurand, unit and context take the defaults of OCPP 1.6 7.45 so that stored rows mean the
 * same thing however they arrived. The strings are borrowed from mv. */
static int gather_meter_value(struct call_ctx *call, int connector, int64_t session,
			      const json_t *mv, struct store_sample *out, size_t *n)
{
	const json_t *samples = json_object_get(mv, "sampledValue"), *sv;
	int64_t ts;
	size_t i;

	if (adapter_timestamp(call, mv, "timestamp", &ts) < 0)
		return -EINVAL;
	json_array_foreach(samples, i, sv) {
		const char *measurand = adapter_str(sv, "measurand");
		const char *context = adapter_str(sv, "context");
		struct store_sample *s = &out[(*n)++];

		*s = (struct store_sample){
		    .session_id = session,
		    .evse_id = connector,
		    .ts_ms = ts,
		    .measurand = measurand ? measurand : ADAPTER_DEFAULT_MEASURAND,
		    .measurand_kind = adapter_measurand_kind(measurand),
		    .phase = adapter_str(sv, "phase"),
		    .unit = adapter_str(sv, "unit"),
		    .context = context ? context : ADAPTER_DEFAULT_CONTEXT,
		    .location = adapter_str(sv, "location"),
		    .format = adapter_str(sv, "format"),
		    .value = adapter_str(sv, "value"),
		};
		if (!s->unit && (s->measurand_kind == MEAS_ENERGY_IMPORT_REGISTER ||
				 s->measurand_kind == MEAS_ENERGY_EXPORT_REGISTER ||
				 strncmp(s->measurand, "Energy.Active", 13) == 0))
			s->unit = "Wh";
		/* OCPP 1.6 7.46 ValueFormat SignedData: the value is the signed blob itself */
		if (s->format && strcmp(s->format, "SignedData") == 0)
			s->sig.data = s->value;
	}
	return 0;
}

/* Store every sampled value of a MeterValue list, all with one store call (or none). */
static int store_meter_values(struct call_ctx *call, int connector, int64_t session,
			      const json_t *mvs)
{
	struct store_sample local[ADAPTER_SAMPLES_LOCAL], *smp = local;
	size_t i, n = 0, cap = adapter_samples_count(mvs);
	const json_t *mv;
	int r = 0;

	if (cap > ADAPTER_SAMPLES_LOCAL) {
		smp = calloc(cap, sizeof(*smp));
		if (!smp)
			return adapter_failed(call, -ENOMEM);
	}
	json_array_foreach(mvs, i, mv) {
		r = gather_meter_value(call, connector, session, mv, smp, &n);
		if (r < 0)
			goto out;
	}
	r = adapter_samples_store(call, smp, n);
out:
	if (smp != local)
		free(smp);
	return r;
}

/* OCPP 1.6 4.7: every sampled value is stored; values for a transaction of another station
 * are kept unlinked and change nothing. */
int v16_meter_values(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t connector = adapter_int(req, "connectorId"), session = 0;

	if (connector < 0 || connector > call->cfg->max_connectors)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
				 "connectorId %lld outside 0..%d", (long long)connector,
				 call->cfg->max_connectors);
	if (json_object_get(req, "transactionId")) {
		struct svc_session_event ev = {
		    .session_id = adapter_int(req, "transactionId"),
		    .ts_ms = svc_now_ms(call->svc),
		};
		struct svc_session_result res;
		int r = svc_session_update(call->svc, call->st, &ev, &res);

		if (r < 0)
			return adapter_failed(call, r);
		session = res.session_id;
	}
	if (store_meter_values(call, (int)connector, session, json_object_get(req, "meterValue")) <
	    0)
		return -EINVAL;
	*ret_conf = json_object();
	return 0;
}

/* OCPP 1.6 4.8: durable before the answer (the group commit holds the reply). */
int v16_start_transaction(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int64_t connector = adapter_int(req, "connectorId");
	struct svc_session_event ev = {
	    .connector_id = 1, /* OCPP 1.6 connector c is EVSE c with one connector */
	    .id_token = adapter_str(req, "idTag"),
	    .has_energy = true,
	    .energy_wh = adapter_int(req, "meterStart"),
	    .has_reservation = json_object_get(req, "reservationId") != NULL,
	    .reservation_id = adapter_int(req, "reservationId"),
	};
	struct svc_session_result res;
	int r;

	if (connector <= 0 || connector > call->cfg->max_connectors)
		return call_fail(call, OCPP_ERR_PROPERTY_CONSTRAINT,
				 "connectorId %lld outside 1..%d", (long long)connector,
				 call->cfg->max_connectors);
	ev.evse_id = (int)connector;
	if (adapter_timestamp(call, req, "timestamp", &ev.ts_ms) < 0)
		return -EINVAL;
	r = svc_session_open(call->svc, call->st, &ev, &res);
	if (r < 0)
		return adapter_failed(call, r);
	if (res.session_id > INT32_MAX) /* 1.6 transactionId is a 32-bit integer on most chargers */
		log_warn("[cp %s] transaction id %lld exceeds 32 bits", call->st->id,
			 (long long)res.session_id);
	*ret_conf = json_pack("{s:I, s:o}", "transactionId", (json_int_t)res.session_id,
			      "idTagInfo", id_tag_info(&res.auth));
	return 0;
}

/* OCPP 1.6 4.10: always acknowledged; unknown or foreign ids become orphans for the operator. */
int v16_stop_transaction(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	const char *reason = adapter_str(req, "reason");
	struct svc_session_event ev = {
	    .session_id = adapter_int(req, "transactionId"),
	    .id_token = adapter_str(req, "idTag"),
	    .has_energy = true,
	    .energy_wh = adapter_int(req, "meterStop"),
	    .stop_reason = adapter_stop_reason(reason),
	    .stop_reason_text = reason,
	};
	const json_t *data = json_object_get(req, "transactionData");
	struct svc_session_result res;
	int r;

	if (adapter_timestamp(call, req, "timestamp", &ev.ts_ms) < 0)
		return -EINVAL;
	if (adapter_negative_register(data)) /* refused before the stop is stored */
		return adapter_failed(call, -EDOM);
	r = svc_session_close(call->svc, call->st, &ev, &res);
	if (r < 0)
		return adapter_failed(call, r);
	if (data) {
		/* an orphan's readings are kept unlinked, on no EVSE */
		int connector = res.session_id ? res.evse_id : 0;

		if (store_meter_values(call, connector, res.session_id, data) < 0)
			return -EINVAL;
	}
	*ret_conf =
	    ev.id_token ? json_pack("{s:o}", "idTagInfo", id_tag_info(&res.auth)) : json_object();
	return 0;
}

int v16_data_transfer(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return vendor_data_transfer(call, req, ret_conf);
}

/* OCPP 1.6 6.17 */
int v16_diagnostics_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return adapter_status_event(call, req, ret_conf, STATION_EVENT_DIAGNOSTICS);
}

/* OCPP 1.6 6.20 */
int v16_firmware_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return adapter_status_event(call, req, ret_conf, STATION_EVENT_FIRMWARE);
}

/* Security whitepaper (1.6 extension): the station's security events, kept verbatim for the
 * operator (GET /api/stations/{id}/security-events). */
int v16_security_event(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	char *detail = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	int64_t ts;
	int r;

	if (adapter_timestamp(call, req, "timestamp", &ts) < 0) {
		free(detail);
		return -EINVAL;
	}
	log_notice("[cp %s] security event %s", call->st->id, adapter_str(req, "type"));
	r = svc_notice(call->svc, call->st, "security", ts, detail ? detail : "{}");
	free(detail);
	if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_object();
	return 0;
}

/* Security whitepaper: Accepted when the operator has a CA; the CSR is checked and signed
 * after this answer and comes back with CertificateSigned (svc/cert.h). */
int v16_sign_certificate(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	int r = svc_cert_request(call->svc, call->st, adapter_str(req, "csr"));

	if (r == -ENODEV)
		log_notice("[cp %s] SignCertificate declined: no CA configured", call->st->id);
	else if (r == -EBUSY)
		log_warn("[cp %s] SignCertificate declined: too many CSRs waiting", call->st->id);
	else if (r < 0)
		return adapter_failed(call, r);
	*ret_conf = json_pack("{s:s}", "status", r == 0 ? "Accepted" : "Rejected");
	return 0;
}

/* Security whitepaper: GetLog progress, reported as the diagnostics status. */
int v16_log_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return adapter_status_event(call, req, ret_conf, STATION_EVENT_LOG);
}

/* Security whitepaper: SignedUpdateFirmware progress, reported as the firmware status. */
int v16_signed_firmware_status(struct call_ctx *call, const json_t *req, json_t **ret_conf)
{
	return adapter_status_event(call, req, ret_conf, STATION_EVENT_FIRMWARE);
}
