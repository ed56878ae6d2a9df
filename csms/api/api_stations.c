/* SPDX-License-Identifier: MIT */
/* REST routes of stations, connectors, sessions, meter values, orphans and the 2.0.1 device
 * model. */
#include "api-private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <jansson.h>

#include "../core/cfg.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/pwhash.h"
#include "../import.h"
#include "../store/store.h"
#include "../svc/cert.h"
#include "../svc/cmd.h"
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
/* cost_fen of an ended session whose site has a tariff calendar: its CDR's total (import +
 * service fee - export revenue, docs/api.md); null while it runs or without a calendar. */
static void add_cost(struct api_req *r, json_t *o)
{
	struct energy_cdr c;
	bool ok = r->api->energy && !json_is_null(json_object_get(o, "stop")) &&
		  json_object_get(o, "stop") &&
		  energy_session_cdr(r->api->energy, json_integer_value(json_object_get(o, "id")),
				     &c) == 0;

	json_object_set_new(o, "cost_fen", ok ? json_integer(c.cdr.total_fen) : json_null());
}

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
		add_cost(r, o);
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

/* The operator's fields of station id added to its object st: security profile, notes and
 * labels (an array from the stored comma-separated text). */
static void admin_fields(struct api_req *r, const char *id, json_t *st)
{
	struct store_station_security sec;
	struct store_station_notes nt;
	json_t *labels = json_array();

	if (store_station_security_get(r->api->store, id, &sec) == 0)
		json_object_set_new(st, "security_profile", json_integer(sec.profile));
	if (store_station_notes_get(r->api->store, id, &nt) < 0)
		nt.notes[0] = nt.labels[0] = '\0';
	for (char *save = NULL, *l = strtok_r(nt.labels, ",", &save); l;
	     l = strtok_r(NULL, ",", &save))
		json_array_append_new(labels, json_string(l));
	json_object_set_new(st, "notes", api_str_or_null(nt.notes[0] ? nt.notes : NULL));
	json_object_set_new(st, "labels", labels);
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
	admin_fields(r, segs[2], st);
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
	api_respond_list(r, e, "variables", arr);
}

/* The readings GET /api/sessions/{id} carries; more through its meter-values route. */
#define SESSION_READINGS_MAX 1000

static void get_session(struct api_req *r, char **segs)
{
	char *end;
	long long id = strtoll(segs[2], &end, 10);
	struct store_sample_cursor cur = {.ts_ms = INT64_MIN, .seq = 0};
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
	/* the first page of readings only (a long session's are megabytes): the rest through
	 * GET /api/sessions/{id}/meter-values?after=<meter_values_next> */
	samples = json_array();
	e = store_samples_page(r->api->store, id, NULL, SESSION_READINGS_MAX, &cur, api_sample_json,
			       samples);
	if (e < 0) {
		json_decref(samples);
		json_decref(s);
		api_storage_error(r, e);
		return;
	}
	json_object_set_new(s, "meter_values", samples);
	json_object_set_new(
	    s, "meter_values_next",
	    e == SESSION_READINGS_MAX
		? json_sprintf("%lld.%lld", (long long)cur.ts_ms, (long long)cur.seq)
		: json_null());
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
	api_respond_list(r, e, "orphans", arr);
}

/* ---------------------------------------------------------------- stations by the API */

/* OCPP 1.6 security whitepaper / 2.0.1 A00.FR.205, as the import: 16..40 characters. */
#define PASSWORD_MIN 16
#define PASSWORD_MAX 40
#define LABEL_MAX    32

/* Whether station id is online (by the store: on any node) and known: 0, or -ENOENT. */
static int online_row(const struct store_station_row *row, void *ud)
{
	*(bool *)ud = row->online;
	return 0;
}

static int station_online(struct api_req *r, const char *id, bool *ret_online)
{
	bool online = false;
	int e = store_stations_list(r->api->store, id, 0, 0, online_row, &online);

	if (e < 0)
		return e;
	*ret_online = online || svc_station_find(r->api->svc, id);
	return 0;
}

static int site_exists(struct api_req *r, const char *site_id)
{
	struct store_site info;

	return store_site_get(r->api->store, site_id, &info);
}

/* What a POST or PUT body sets: site (""= none), notes, labels (joined), protocol, profile. */
struct station_edit {
	const char *site;  /* NULL: unchanged */
	const char *notes; /* NULL: unchanged, "" clears */
	char labels[STORE_LABELS_MAX + 1];
	bool has_labels;
	const char *protocol;
	int profile; /* -1: unchanged */
};

/* Members shared by create and update; 0, or -EINVAL after a 400. */
static int station_edit_body(struct api_req *r, const json_t *body, struct station_edit *ed)
{
	const json_t *v = json_object_get(body, "site");
	json_int_t profile;
	size_t i, len = 0;

	ed->profile = -1;
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) || !import_id_ok(json_string_value(v), SITE_ID_MAX))) {
		api_error(r, 400, "site: expected a site id or null");
		return -EINVAL;
	}
	if (v)
		ed->site = json_is_null(v) ? "" : json_string_value(v);
	if (ed->site && *ed->site) {
		int e = site_exists(r, ed->site);

		if (e == -ENOENT) {
			api_error(r, 400, "site: unknown site %s", ed->site);
			return -EINVAL;
		}
		if (e < 0) {
			api_storage_error(r, e);
			return -EINVAL;
		}
	}
	v = json_object_get(body, "notes");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) || json_string_length(v) > STORE_NOTES_MAX)) {
		api_error(r, 400, "notes: expected a text of at most %d bytes or null",
			  STORE_NOTES_MAX);
		return -EINVAL;
	}
	if (v)
		ed->notes = json_is_null(v) ? "" : json_string_value(v);
	v = json_object_get(body, "labels");
	if (v && !json_is_array(v)) {
		api_error(r, 400, "labels: expected an array of texts");
		return -EINVAL;
	}
	ed->has_labels = v != NULL;
	ed->labels[0] = '\0';
	for (i = 0; v && i < json_array_size(v); i++) {
		const char *l = json_string_value(json_array_get(v, i));
		size_t n = l ? strlen(l) : 0;

		if (!l || !n || n > LABEL_MAX || strchr(l, ',') || len + n + 1 > STORE_LABELS_MAX) {
			api_error(r, 400,
				  "labels: each 1..%d characters without ',', %d in all at most",
				  LABEL_MAX, STORE_LABELS_MAX);
			return -EINVAL;
		}
		len += (size_t)snprintf(ed->labels + len, sizeof(ed->labels) - len, "%s%s",
					i ? "," : "", l);
	}
	v = json_object_get(body, "protocol");
	if (v && !json_is_null(v)) {
		const char *p = json_string_value(v);

		if (!p || (strcmp(p, "ocpp1.6") && strcmp(p, "ocpp2.0.1"))) {
			api_error(r, 400, "protocol: expected ocpp1.6 or ocpp2.0.1");
			return -EINVAL;
		}
		ed->protocol = p;
	}
	if (api_member_int(r, body, "security_profile", false, -1, 0, 3, &profile) < 0)
		return -EINVAL;
	ed->profile = (int)profile;
	return 0;
}

/* Write the fields of ed to station id (created or existing). 0 or a storage error. */
static int station_edit_apply(struct api_req *r, const char *id, const struct station_edit *ed,
			      const char *hash_or_null)
{
	struct store_station_admin a = {
	    .site_id = ed->site,
	    .notes = ed->notes,
	    .labels = ed->has_labels ? ed->labels : NULL,
	    .protocol = ed->protocol,
	};
	struct chg_station *st;
	int e = store_station_admin_set(r->api->store, id, &a);

	if (e == 0 && (ed->profile >= 0 || hash_or_null))
		e = store_station_security_set(r->api->store, id, ed->profile, hash_or_null, NULL,
					       NULL);
	if (e < 0)
		return e;
	/* a connected station's site decides its policies from now on */
	st = svc_station_find(r->api->svc, id);
	if (st && ed->site) {
		struct store_site info;

		snprintf(st->site_id, sizeof(st->site_id), "%s", ed->site);
		st->site_kind = *ed->site && store_site_get(r->api->store, ed->site, &info) == 0
				    ? info.kind
				    : -1;
	}
	return 0;
}

/* A station's password hashed off the event loop (the KDF is slow on purpose), then the rest
 * of the request runs on the loop. */
struct pw_job {
	uv_work_t work;
	struct api_req *r;
	char id[STATION_ID_MAX + 1];
	char password[PASSWORD_MAX + 1];
	char hash[PWHASH_MAX];
	unsigned iterations;
	bool show;   /* the answer shows the password (generated, or a reset) */
	bool create; /* POST /api/stations, else a reset */
	int registration;
	struct station_edit ed;
	json_t *body; /* create: ed points into it */
	int status;   /* of the hashing: 0 or negative errno */
};

static void pw_job_free(struct pw_job *j)
{
	if (!j)
		return;
	json_decref(j->body);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void pw_work(uv_work_t *w)
{
	struct pw_job *j = w->data;

	j->status = pwhash_create(j->password, j->iterations, j->hash, sizeof(j->hash));
}

/* The station's JSON as GET /api/stations/{id} gives it, plus the password when shown. */
static void respond_station(struct api_req *r, const char *id, int status, const char *password)
{
	json_t *arr = json_array(), *st;
	int e = store_stations_list(r->api->store, id, 0, 0, api_station_json, arr);

	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	st = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	json_object_set_new(st, "connectors", json_array());
	store_connectors_list(r->api->store, id, api_connector_json,
			      json_object_get(st, "connectors"));
	admin_fields(r, id, st);
	if (password)
		json_object_set_new(st, "password", json_string(password));
	api_respond(r, status, st);
}

static void create_finish(struct pw_job *j)
{
	struct api_req *r = j->r;
	int e =
	    store_station_create(r->api->store, j->id, j->registration, svc_now_ms(r->api->svc));

	if (e == -EEXIST) {
		api_error(r, 409, "station %s exists", j->id);
		return;
	}
	if (e == 0)
		e = station_edit_apply(r, j->id, &j->ed, j->password[0] ? j->hash : NULL);
	if (e == 0)
		e = store_commit(r->api->store);
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	log_notice("api: %s created station %s", r->who, j->id);
	respond_station(r, j->id, 201, j->show ? j->password : NULL);
}

static void reset_finish(struct pw_job *j)
{
	struct api_req *r = j->r;
	int e = store_station_security_set(r->api->store, j->id, -1, j->hash, NULL, NULL);

	if (e == 0)
		e = store_commit(r->api->store);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown station %s", j->id);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	log_notice("api: %s reset the password of station %s (offline)", r->who, j->id);
	api_respond(
	    r, 200,
	    json_pack("{s:s, s:s, s:b}", "station", j->id, "password", j->password, "pushed", 0));
}

static void pw_after(uv_work_t *w, int status)
{
	struct pw_job *j = w->data;

	if (status < 0 || j->status < 0)
		api_error(j->r, 500, "cannot hash the password");
	else if (j->create)
		create_finish(j);
	else
		reset_finish(j);
	pw_job_free(j);
}

/* Hash j's password off the loop, then finish (j taken; the request answers later). */
static void pw_queue(struct api_req *r, struct pw_job *j)
{
	j->r = r;
	j->work.data = j;
	j->iterations = (unsigned)r->api->cfg->kdf_iterations;
	if (!j->password[0]) { /* nothing to hash (a certificate-only station) */
		create_finish(j);
		pw_job_free(j);
		return;
	}
	if (!r->api->loop) { /* no loop (unit tests): hash here */
		pw_work(&j->work);
		pw_after(&j->work, 0);
		return;
	}
	r->pending = true;
	if (uv_queue_work(r->api->loop, &j->work, pw_work, pw_after) != 0) {
		r->pending = false;
		api_error(r, 500, "cannot queue the password work");
		pw_job_free(j);
	}
}

/* POST /api/stations {"id", "site"?, "protocol"?, "security_profile"?, "password"?,
 * "registration"?, "notes"?, "labels"?}: 201 with the station; without a password (and not
 * profile 3) one is generated and shown once as "password". */
static void post_station(struct api_req *r, char **segs)
{
	struct pw_job *j = calloc(1, sizeof(*j));
	const json_t *id, *pw;
	int reg;

	(void)segs;
	if (!j) {
		api_error(r, 503, "out of memory");
		return;
	}
	j->create = true;
	j->body = api_body_object(r);
	if (!j->body)
		goto fail;
	id = json_object_get(j->body, "id");
	if (!json_is_string(id) || !import_charger_id_ok(json_string_value(id))) {
		api_error(r, 400, "id: expected 1..%d characters of a-z A-Z 0-9 * - _ = + | @ .",
			  STATION_ID_MAX);
		goto fail;
	}
	snprintf(j->id, sizeof(j->id), "%s", json_string_value(id));
	if (station_edit_body(r, j->body, &j->ed) < 0 ||
	    api_member_name(r, j->body, "registration", false, REG_ACCEPTED, reg_status_from_string,
			    "Accepted, Pending or Rejected", &reg) < 0)
		goto fail;
	j->registration = reg;
	pw = json_object_get(j->body, "password");
	if (pw && !json_is_null(pw)) {
		size_t n = json_is_string(pw) ? json_string_length(pw) : 0;

		if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
			api_error(r, 400, "password: expected %d..%d characters", PASSWORD_MIN,
				  PASSWORD_MAX);
			goto fail;
		}
		snprintf(j->password, sizeof(j->password), "%s", json_string_value(pw));
	} else if (j->ed.profile != 3) {
		if (svc_password_generate(j->password) < 0) {
			api_error(r, 500, "no randomness for a password");
			goto fail;
		}
		j->show = true;
	}
	if (j->ed.profile < 0)
		j->ed.profile = j->password[0] ? 1 : 0;
	pw_queue(r, j);
	return;
fail:
	pw_job_free(j);
}

/* PUT /api/stations/{id} {"site"?, "notes"?, "labels"?, "protocol"?, "security_profile"?}:
 * the members given are changed; 200 with the station. */
static void put_station(struct api_req *r, char **segs)
{
	struct station_edit ed = {.profile = -1};
	json_t *body = api_body_object(r);
	bool online;
	int e;

	if (!body)
		return;
	e = station_online(r, segs[2], &online);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown station %s", segs[2]);
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	if (station_edit_body(r, body, &ed) < 0)
		goto out;
	e = station_edit_apply(r, segs[2], &ed, NULL);
	if (e == 0)
		e = store_commit(r->api->store);
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	log_notice("api: %s updated station %s", r->who, segs[2]);
	respond_station(r, segs[2], 200, NULL);
out:
	json_decref(body);
}

/* DELETE /api/stations/{id}: 204; 409 while it is connected, has an open session, or has
 * recorded sessions (kept for billing: set its registration to Rejected instead). */
static void delete_station(struct api_req *r, char **segs)
{
	bool online;
	int e = station_online(r, segs[2], &online);

	if (e == 0 && online) {
		api_error(r, 409, "station %s is connected", segs[2]);
		return;
	}
	if (e == 0)
		e = store_station_delete(r->api->store, segs[2]);
	if (e == -ENOENT)
		api_error(r, 404, "unknown station %s", segs[2]);
	else if (e == -EBUSY)
		api_error(r, 409, "station %s has an open session", segs[2]);
	else if (e == -ENOTEMPTY)
		api_error(r, 409,
			  "station %s has recorded sessions (kept for billing): set its "
			  "registration to Rejected instead",
			  segs[2]);
	else if (e < 0 || (e = store_commit(r->api->store)) < 0)
		api_storage_error(r, e);
	else {
		log_notice("api: %s deleted station %s", r->who, segs[2]);
		api_respond(r, 204, NULL);
	}
}

/* A reset pushed to a connected station: the password goes back to the caller once stored. */
struct push_job {
	struct api_req *r;
	char id[STATION_ID_MAX + 1];
	char password[PASSWORD_MAX + 1];
};

static void pushed(void *ud, const struct svc_cmd_result *res, bool stored)
{
	struct push_job *p = ud;
	struct api_req *r = p->r;

	if (res->status == SVC_RES_ACCEPTED && stored) {
		log_notice("api: %s reset the password of station %s (pushed)", r->who, p->id);
		api_respond(r, 200,
			    json_pack("{s:s, s:s, s:b, s:s}", "station", p->id, "password",
				      p->password, "pushed", 1, "status", res->station_status));
	} else if (res->status == SVC_RES_ACCEPTED) {
		api_error(r, 500, "the station took the new password but it could not be stored");
	} else if (res->status == SVC_RES_NOT_CONNECTED) {
		api_error(r, 409, "%s", res->detail);
	} else if (res->status == SVC_RES_TIMEOUT) {
		api_error(r, 504, "charger did not answer in time");
	} else if (res->status == SVC_RES_BUSY) {
		api_error(r, 503, "%s", res->detail);
	} else {
		/* the station keeps its old password: so do we */
		api_respond(r, 409,
			    json_pack("{s:s, s:s}", "error",
				      "the station did not accept the new password", "status",
				      res->station_status));
	}
	explicit_bzero(p, sizeof(*p));
	free(p);
}

/* POST /api/stations/{id}/reset-password: a new random password, shown once. A connected
 * station gets it as rotate-password sends it (stored only once it accepted); an offline one
 * has its hash replaced and must connect with the new password. */
static void post_reset_password(struct api_req *r, char **segs)
{
	struct push_job *p;
	struct pw_job *j;
	bool online;
	int e = station_online(r, segs[2], &online);

	if (e == -ENOENT) {
		api_error(r, 404, "unknown station %s", segs[2]);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	if (!online) {
		j = calloc(1, sizeof(*j));
		if (!j || svc_password_generate(j->password) < 0) {
			free(j);
			api_error(r, 503, "cannot make a password");
			return;
		}
		snprintf(j->id, sizeof(j->id), "%s", segs[2]);
		j->show = true;
		pw_queue(r, j);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p || svc_password_generate(p->password) < 0) {
		free(p);
		api_error(r, 503, "cannot make a password");
		return;
	}
	p->r = r;
	snprintf(p->id, sizeof(p->id), "%s", segs[2]);
	r->pending = true;
	e = svc_password_push(r->api->svc, segs[2], p->password, r->who[0] ? r->who : "api", pushed,
			      p);
	if (e >= 0)
		return;
	r->pending = false;
	explicit_bzero(p, sizeof(*p));
	free(p);
	if (e == -ENOENT)
		api_error(r, 404, "unknown station %s", segs[2]);
	else
		api_storage_error(r, e);
}

const struct api_route api_station_routes[] = {
    {API_GET, "api/health", get_health},
    {API_POST, "api/stations", post_station},
    {API_GET, "api/stations/*", get_station},
    {API_PUT, "api/stations/*", put_station},
    {API_DELETE, "api/stations/*", delete_station},
    {API_POST, "api/stations/*/reset-password", post_reset_password},
    {API_POST, "api/stations/*/registration", post_registration},
    {API_GET, "api/stations/*/variables", get_variables},
    {API_GET, "api/sessions/*", get_session},
    {API_GET, "api/orphans", get_orphans},
    {0, NULL, NULL},
};
