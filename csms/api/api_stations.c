/* SPDX-License-Identifier: MIT */
/* REST routes of stations, connectors, sessions, meter values, orphans and the 2.0.1 device
 * model. */
#include "api-private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../store/store.h"
#include "../svc/energy.h"
#include "../svc/svc.h"
#include "ocpp.h"

int api_station_json(const struct store_station_row *row, void *ud)
{
	json_t *arr = ud;
	json_t *o = json_pack(
	    "{s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", row->id,
	    "site", api_str_or_null(row->site_id), "site_kind", api_str_or_null(row->site_kind),
	    "registration", api_str_or_null(row->registration), "protocol",
	    api_str_or_null(row->protocol), "online", row->online, "last_seen",
	    api_time_or_null(row->last_seen_ms), "last_boot", api_time_or_null(row->last_boot_ms),
	    "vendor", api_str_or_null(row->vendor), "model", api_str_or_null(row->model), "serial",
	    api_str_or_null(row->serial), "firmware", api_str_or_null(row->firmware),
	    "firmware_status", api_str_or_null(row->firmware_status), "diagnostics_status",
	    api_str_or_null(row->diagnostics_status));

	return o ? json_array_append_new(arr, o) : -ENOMEM;
}

int api_connector_json(const struct store_connector_row *row, void *ud)
{
	return json_array_append_new(
	    ud, json_pack("{s:i, s:i, s:s, s:o, s:o, s:o, s:o}", "evse_id", row->evse_id,
			  "connector_id", row->connector_id, "status", row->status, "error_code",
			  api_str_or_null(row->error_code), "info", api_str_or_null(row->info),
			  "vendor_error", api_str_or_null(row->vendor_error), "updated",
			  api_time_or_null(row->updated_ms)));
}

/* ---- issue 10: energy_wh = stop - start in int64 without overflow. A stop below its start
 * (stored as the station sent it) has no energy: null, and "meter_anomaly": true. */
static json_t *session_energy(const struct store_session_row *row, bool *ret_anomaly)
{
	int64_t wh;

	*ret_anomaly = false;
	if (!row->stopped || !row->has_meter_start)
		return json_null();
	if (row->meter_stop_wh < row->meter_start_wh) {
		*ret_anomaly = true;
		return json_null();
	}
	/* stop >= start: the difference is >= 0 and overflows only past INT64_MAX (a negative
	 * start, stored before negative registers were refused): saturate */
	if (__builtin_sub_overflow(row->meter_stop_wh, row->meter_start_wh, &wh))
		wh = INT64_MAX;
	return json_integer(wh);
}
/* ---- end issue 10 */

int api_session_json(const struct store_session_row *row, void *ud)
{
	bool anomaly;
	json_t *energy = session_energy(row, &anomaly);
	json_t *o = json_pack(
	    "{s:I, s:s, s:i, s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)row->id, "station", row->station_id, "evse_id", row->evse_id,
	    "connector_id", row->connector_id, "id_tag", row->id_tag, "auth_status",
	    row->auth_status, "start", api_time_or_null(row->start_ms), "stop",
	    row->stopped ? api_time_or_null(row->stop_ms) : json_null(), "meter_start_wh",
	    row->has_meter_start ? json_integer(row->meter_start_wh) : json_null(), "meter_stop_wh",
	    row->stopped ? json_integer(row->meter_stop_wh) : json_null(), "energy_wh", energy,
	    "stop_reason", api_str_or_null(row->stop_reason));

	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "meter_anomaly", json_boolean(anomaly));
	json_object_set_new(o, "reservation_id",
			    row->has_reservation ? json_integer(row->reservation_id) : json_null());
	json_object_set_new(o, "active", json_boolean(!row->stopped));
	/* the id the charger knows the transaction by: 1.6 the integer id, 2.0.1 its own string */
	if (row->station_tx_id)
		json_object_set_new(o, "transaction_id", json_string(row->station_tx_id));
	else
		json_object_set_new(o, "transaction_id", json_sprintf("%lld", (long long)row->id));
	json_object_set_new(o, "seq_gaps", json_integer(row->seq_gaps));
	json_object_set_new(o, "offline_events", json_integer(row->offline_events));
	return json_array_append_new(ud, o);
}

/* energy_exported_wh of each session: its export register's delta (svc/energy.h), one indexed
 * query per session listed. */
void api_sessions_add_exported(struct api_req *r, json_t *arr)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) {
		int64_t wh;
		bool ok = r->api->energy &&
			  energy_session_exported_wh(r->api->energy,
						     json_integer_value(json_object_get(o, "id")),
						     &wh) == 0;

		json_object_set_new(o, "energy_exported_wh", ok ? json_integer(wh) : json_null());
	}
}

int api_sample_json(const struct store_sample *row, void *ud)
{
	return json_array_append_new(
	    ud, json_pack("{s:o, s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "timestamp",
			  api_time_or_null(row->ts_ms), "evse_id", row->evse_id, "measurand",
			  row->measurand, "phase", api_str_or_null(row->phase), "unit",
			  api_str_or_null(row->unit), "context", api_str_or_null(row->context),
			  "location", api_str_or_null(row->location), "format",
			  api_str_or_null(row->format), "value", row->value));
}

static int orphan_json(const struct store_orphan *row, void *ud)
{
	return json_array_append_new(
	    ud, json_pack("{s:s, s:I, s:o, s:I, s:o, s:o, s:o}", "station", row->station_id,
			  "transaction_id", (json_int_t)row->transaction_id, "id_tag",
			  api_str_or_null(row->id_tag), "meter_stop_wh",
			  (json_int_t)row->meter_stop_wh, "timestamp", api_time_or_null(row->ts_ms),
			  "reason", api_str_or_null(row->reason), "received",
			  api_time_or_null(row->received_ms)));
}

static void get_health(struct api_req *r, char **segs)
{
	char t[40];

	(void)segs;
	ocpp_time_format(svc_now_ms(r->api->svc), t, sizeof(t));
	/* time: the node's clock (simulated under a demo clock, see clock_speed) */
	api_respond(r, 200,
		    json_pack("{s:s, s:i, s:s, s:s, s:i}", "status",
			      *r->api->draining ? "draining" : "ok", "connected",
			      (int)svc_connected(r->api->svc), "version", CSMS_VERSION, "time", t,
			      "clock_speed", clock_speed(svc_clock(r->api->svc))));
}

static void get_station(struct api_req *r, char **segs)
{
	json_t *arr = json_array(), *conns, *st;
	int e = store_stations_list(r->api->store, segs[2], 0, 0, api_station_json, arr);

	if (e == -ENOENT) {
		json_decref(arr);
		api_error(r, 404, "unknown station %s", segs[2]);
		return;
	}
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	st = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	conns = json_array();
	store_connectors_list(r->api->store, segs[2], api_connector_json, conns);
	json_object_set_new(st, "connectors", conns);
	api_respond(r, 200, st);
}

static void post_registration(struct api_req *r, char **segs)
{
	json_error_t jerr;
	json_t *body =
	    json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	const char *status = json_string_value(json_object_get(body, "status"));
	int reg = reg_status_from_string(status), e;

	if (!body || reg < 0) {
		json_decref(body);
		api_error(r, 400, "expected {\"status\": \"Accepted\"|\"Pending\"|\"Rejected\"}");
		return;
	}
	json_decref(body); /* status points into body: use reg from here on */
	e = svc_station_set_registration(r->api->svc, segs[2], reg);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown station %s", segs[2]);
		return;
	}
	if (e == -EPERM) { /* docs/security.md: every accepted station has a credential */
		api_error(r, 409, "station %s has no credential: it must connect with one first",
			  segs[2]);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	log_notice("station %s: registration set to %s by operator", segs[2],
		   reg_status_to_string(reg));
	get_station(r, segs);
}

static int variable_json(const struct store_variable *v, void *ud)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "component", v->component, "variable",
		      v->variable, "attribute_type", v->attribute_type, "value",
		      api_str_or_null(v->value), "mutability", api_str_or_null(v->mutability),
		      "data_type", api_str_or_null(v->data_type), "unit", api_str_or_null(v->unit));

	if (!o)
		return -ENOMEM;
	if (v->component_instance && *v->component_instance)
		json_object_set_new(o, "component_instance", json_string(v->component_instance));
	if (v->variable_instance && *v->variable_instance)
		json_object_set_new(o, "variable_instance", json_string(v->variable_instance));
	if (v->evse_id >= 0)
		json_object_set_new(o, "evse_id", json_integer(v->evse_id));
	if (v->connector_id >= 0)
		json_object_set_new(o, "connector_id", json_integer(v->connector_id));
	return json_array_append_new(ud, o);
}

/* GET /api/stations/{id}/variables: the 2.0.1 device model from NotifyReport. */
static void get_variables(struct api_req *r, char **segs)
{
	struct store_station row;
	json_t *arr;
	int e = store_station_get(r->api->store, segs[2], &row);

	if (e < 0) {
		if (e == -ENOENT)
			api_error(r, 404, "unknown station %s", segs[2]);
		else
			api_storage_error(r, e);
		return;
	}
	arr = json_array();
	e = store_variables_list(r->api->store, segs[2], variable_json, arr);
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	api_respond(r, 200, json_pack("{s:o}", "variables", arr));
}

static void get_session(struct api_req *r, char **segs)
{
	char *end;
	long long id = strtoll(segs[2], &end, 10);
	json_t *arr, *s, *samples;
	int e;

	if (end == segs[2] || *end) {
		api_error(r, 400, "session id must be an integer");
		return;
	}
	arr = json_array();
	e = store_session_get(r->api->store, id, api_session_json, arr);
	if (e < 0) {
		json_decref(arr);
		if (e == -ENOENT)
			api_error(r, 404, "unknown session %lld", id);
		else
			api_storage_error(r, e);
		return;
	}
	api_sessions_add_exported(r, arr);
	s = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	samples = json_array();
	store_samples_list(r->api->store, id, api_sample_json, samples);
	json_object_set_new(s, "meter_values", samples);
	api_respond(r, 200, s);
}

static void get_orphans(struct api_req *r, char **segs)
{
	json_t *arr = json_array();
	long limit;
	int e;

	(void)segs;
	if (api_query_int(r, "limit", 100, 1, 10000, &limit) < 0) {
		json_decref(arr);
		return;
	}
	e = store_orphans_list(r->api->store, (int)limit, orphan_json, arr);
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	api_respond(r, 200, json_pack("{s:o}", "orphans", arr));
}

const struct api_route api_station_routes[] = {
    {API_GET, "api/health", get_health},
    {API_GET, "api/stations/*", get_station},
    {API_POST, "api/stations/*/registration", post_registration},
    {API_GET, "api/stations/*/variables", get_variables},
    {API_GET, "api/sessions/*", get_session},
    {API_GET, "api/orphans", get_orphans},
    {0, NULL, NULL},
};
