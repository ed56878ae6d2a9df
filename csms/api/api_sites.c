/* SPDX-License-Identifier: MIT */
/* REST routes of sites (records and policies), reservations, the availability and connectivity
 * reports, and the local-list push. See docs/api.md and docs/sites.md. */
#include "api-private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/cfg.h"
#include "../plan_rt.h"
#include "../svc/sites.h"
#include "../svc/svc.h"
#include "ocpp.h"

#define STATIONS_PAGE 500
#define DAY_MS	      86400000LL

static json_t *opt_int_json(int v, int none)
{
	return v == none ? json_null() : json_integer(v);
}

static json_t *site_json(struct api_req *r, const struct store_site_row *row)
{
	struct svc_site_policy p;
	json_t *o;

	svc_site_policy_resolve(row->rec.kind, &row->rec,
				svc_cfg(r->api->svc)->heartbeat_interval_s, &p);
	o = json_pack("{s:s, s:s?, s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "id", row->rec.id, "kind",
		      site_kind_to_string(row->rec.kind), "name", api_str_or_null(row->rec.name),
		      "location", api_str_or_null(row->rec.location), "stations",
		      (json_int_t)row->stations, "online", (json_int_t)row->online, "limit_kw",
		      row->limit_w >= 0 ? json_real((double)row->limit_w / 1000.0) : json_null(),
		      "tariff",
		      row->tariff_id && *row->tariff_id ? json_string(row->tariff_id) : json_null(),
		      "created", api_time_or_null(row->created_ms));
	if (!o)
		return NULL;
	json_object_set_new(o, "policy",
			    json_pack("{s:i, s:b, s:i, s:b, s:i, s:f, s:f}", "heartbeat_s",
				      p.heartbeat_s, "local_list", p.local_list, "local_list_max",
				      p.local_list_max, "reservations", p.reservations,
				      "reservation_max_s", p.reservation_max_s,
				      "swap_soh_flag_below", p.swap_soh_flag_below,
				      "swap_promised_soc", p.swap_promised_soc));
	/* what the operator set (null: the kind's default) */
	json_object_set_new(
	    o, "settings",
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "heartbeat_s",
		      opt_int_json(row->rec.heartbeat_s, 0), "local_list",
		      row->rec.local_list < 0 ? json_null() : json_boolean(row->rec.local_list),
		      "local_list_max", opt_int_json(row->rec.local_list_max, 0), "reservations",
		      row->rec.reservations < 0 ? json_null() : json_boolean(row->rec.reservations),
		      "reservation_max_s", opt_int_json(row->rec.reservation_max_s, 0),
		      "swap_soh_flag_below",
		      row->rec.swap_soh_flag_below > 0 ? json_real(row->rec.swap_soh_flag_below)
						       : json_null(),
		      "swap_promised_soc",
		      row->rec.swap_promised_soc > 0 ? json_real(row->rec.swap_promised_soc)
						     : json_null()));
	return o;
}

struct list_ud {
	struct api_req *r;
	json_t *arr;
};

static int site_row(const struct store_site_row *row, void *ud)
{
	struct list_ud *u = ud;
	json_t *o = site_json(u->r, row);

	if (!o)
		return -ENOMEM;
	json_array_append_new(u->arr, o);
	return 0;
}

/* GET /api/sites: {"sites": [...]} */
static void get_sites(struct api_req *r, char **segs)
{
	struct list_ud u = {r, json_array()};
	int e;

	(void)segs;
	e = store_sites_list(r->api->store, NULL, site_row, &u);
	if (e < 0) {
		json_decref(u.arr);
		api_storage_error(r, e);
		return;
	}
	api_respond(r, 200, json_pack("{s:o}", "sites", u.arr));
}

static void respond_site(struct api_req *r, const char *id, int status)
{
	struct list_ud u = {r, json_array()};
	int e = store_sites_list(r->api->store, id, site_row, &u);

	if (e == -ENOENT)
		api_error(r, 404, "unknown site %s", id);
	else if (e < 0)
		api_storage_error(r, e);
	else
		api_respond(r, status, json_incref(json_array_get(u.arr, 0)));
	json_decref(u.arr);
}

/* GET /api/sites/{id} */
static void get_site(struct api_req *r, char **segs)
{
	respond_site(r, segs[2], 200);
}

static int kind_from_name(const char *s)
{
	return site_kind_from_string(s);
}

/* A flag of the body: -1 absent or null (the default), 0, 1; -EINVAL after a 400. */
static int member_flag(struct api_req *r, const json_t *o, const char *key, int *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*ret = -1;
		return 0;
	}
	if (!json_is_boolean(v)) {
		api_error(r, 400, "%s: expected true, false or null", key);
		return -EINVAL;
	}
	*ret = json_is_true(v);
	return 0;
}

static int member_text(struct api_req *r, const json_t *o, const char *key, const char **ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) > 200) {
		api_error(r, 400, "%s: expected a text of at most 200 characters", key);
		return -EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

/* A percentage member of o (absent, null or 0: 0, the default), else 0 < value <= 100: 0, or
 * -EINVAL after a 400. */
static int member_pct(struct api_req *r, const json_t *o, const char *key, double *ret)
{
	const json_t *v = json_object_get(o, key);

	*ret = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 100) {
		api_error(r, 400, "%s: expected a percentage (0: the default)", key);
		return -EINVAL;
	}
	*ret = json_number_value(v);
	return 0;
}

/* The record of a POST or PUT body; policy settings under "policy" (each optional, null: the
 * kind's default). */
static int site_body(struct api_req *r, const json_t *body, bool create, struct store_site_rec *rec)
{
	const json_t *pol = json_object_get(body, "policy");
	json_int_t hb, llm, rmax;
	int kind;

	if (api_member_name(r, body, "kind", create, SITE_PUBLIC, kind_from_name,
			    "public, residential, rural or swap", &kind) < 0 ||
	    member_text(r, body, "name", &rec->name) < 0 ||
	    member_text(r, body, "location", &rec->location) < 0)
		return -EINVAL;
	rec->kind = kind;
	if (pol && !json_is_object(pol)) {
		api_error(r, 400, "policy: expected an object");
		return -EINVAL;
	}
	if (api_member_int(r, pol, "heartbeat_s", false, 0, 0, 86400, &hb) < 0 ||
	    api_member_int(r, pol, "local_list_max", false, 0, 0, 100000, &llm) < 0 ||
	    api_member_int(r, pol, "reservation_max_s", false, 0, 0, 7 * 86400, &rmax) < 0 ||
	    member_flag(r, pol, "local_list", &rec->local_list) < 0 ||
	    member_flag(r, pol, "reservations", &rec->reservations) < 0 ||
	    member_pct(r, pol, "swap_soh_flag_below", &rec->swap_soh_flag_below) < 0 ||
	    member_pct(r, pol, "swap_promised_soc", &rec->swap_promised_soc) < 0)
		return -EINVAL;
	rec->heartbeat_s = (int)hb;
	rec->local_list_max = (int)llm;
	rec->reservation_max_s = (int)rmax;
	return 0;
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (!n || n > SITE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= ' ' || id[i] == '/' || id[i] == '%')
			return false;
	return true;
}

/* POST /api/sites {"id", "kind", "name"?, "location"?, "policy"?}: 201 with the site. */
static void post_site(struct api_req *r, char **segs)
{
	json_t *body = api_body_object(r);
	struct store_site_rec rec = {.local_list = -1, .reservations = -1};
	const json_t *id = json_object_get(body, "id");
	int e;

	(void)segs;
	if (!body)
		return;
	if (!json_is_string(id) || !id_ok(json_string_value(id))) {
		api_error(r, 400, "id: expected a site id (1..%d characters, no spaces)",
			  SITE_ID_MAX);
		goto out;
	}
	rec.id = json_string_value(id);
	if (site_body(r, body, true, &rec) < 0)
		goto out;
	e = store_site_save(r->api->store, &rec, true, svc_now_ms(r->api->svc));
	if (e == -EEXIST)
		api_error(r, 409, "site %s exists", rec.id);
	else if (e < 0)
		api_storage_error(r, e);
	else if ((e = store_commit(r->api->store)) < 0)
		api_storage_error(r, e);
	else
		respond_site(r, rec.id, 201);
out:
	json_decref(body);
}

/* PUT /api/sites/{id}: the record replaced (absent settings: the kind's defaults; absent kind:
 * public). */
static void put_site(struct api_req *r, char **segs)
{
	json_t *body = api_body_object(r);
	struct store_site_rec rec = {.id = segs[2], .local_list = -1, .reservations = -1};
	int e;

	if (!body)
		return;
	if (site_body(r, body, true, &rec) < 0)
		goto out;
	e = store_site_save(r->api->store, &rec, false, svc_now_ms(r->api->svc));
	if (e == -ENOENT)
		api_error(r, 404, "unknown site %s", rec.id);
	else if (e < 0)
		api_storage_error(r, e);
	else if ((e = store_commit(r->api->store)) < 0)
		api_storage_error(r, e);
	else {
		/* its policy may change its list (local_list, local_list_max …) */
		svc_locallist_tokens_changed(r->api->svc, rec.id);
		svc_plan_site_changed(r->api->svc, rec.id); /* its kind may change its plan */
		respond_site(r, rec.id, 200);
	}
out:
	json_decref(body);
}

/* DELETE /api/sites/{id}: 204; 409 while stations or tokens reference it. */
static void delete_site(struct api_req *r, char **segs)
{
	int e = store_site_delete(r->api->store, segs[2]);

	if (e == -ENOENT)
		api_error(r, 404, "unknown site %s", segs[2]);
	else if (e == -EBUSY)
		api_error(r, 409, "site %s has stations or tokens", segs[2]);
	else if (e < 0)
		api_storage_error(r, e);
	else if ((e = store_commit(r->api->store)) < 0)
		api_storage_error(r, e);
	else {
		svc_plan_site_changed(r->api->svc, segs[2]);
		api_respond(r, 204, NULL);
	}
}

/* ---------------------------------------------------------------- reports */

static int window(struct api_req *r, int64_t *from, int64_t *to)
{
	char buf[64];
	const char *v;
	int64_t now = svc_now_ms(r->api->svc);

	*to = now;
	*from = now - DAY_MS;
	if ((v = api_query_get(r, "to", buf, sizeof(buf))) && ocpp_time_parse(v, to) < 0) {
		api_error(r, 400, "to: expected an RFC 3339 date-time");
		return -EINVAL;
	}
	if ((v = api_query_get(r, "from", buf, sizeof(buf))) && ocpp_time_parse(v, from) < 0) {
		api_error(r, 400, "from: expected an RFC 3339 date-time");
		return -EINVAL;
	}
	if (*to > now)
		*to = now;
	if (*from >= *to) {
		api_error(r, 400, "from must be before to (and before now)");
		return -EINVAL;
	}
	return 0;
}

static void on_offline(void *ud, int64_t start, int64_t end, bool ongoing)
{
	json_t *arr = ud;

	json_array_append_new(arr,
			      json_pack("{s:o, s:o, s:I, s:b}", "start", api_time_or_null(start),
					"end", api_time_or_null(end), "duration_s",
					(json_int_t)((end - start) / 1000), "ongoing", ongoing));
}

static double hours(int64_t ms)
{
	return (double)ms / 3600000.0;
}

static json_t *avail_json(const struct svc_avail *a, bool connectivity)
{
	json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f}", "uptime_pct", svc_avail_uptime_pct(a),
			      "observed_h", hours(a->observed_ms), "online_h", hours(a->online_ms),
			      "offline_h", hours(a->offline_ms), "faulted_h", hours(a->faulted_ms));

	if (o && connectivity) {
		json_object_set_new(o, "offline_periods", json_integer(a->offline_periods));
		json_object_set_new(o, "longest_offline_s",
				    json_integer(a->longest_offline_ms / 1000));
		json_object_set_new(o, "late_transactions", json_integer(a->late_sessions));
	}
	return o;
}

static void add(struct svc_avail *sum, const struct svc_avail *a)
{
	sum->observed_ms += a->observed_ms;
	sum->online_ms += a->online_ms;
	sum->offline_ms += a->offline_ms;
	sum->faulted_ms += a->faulted_ms;
	sum->up_ms += a->up_ms;
	sum->offline_periods += a->offline_periods;
	if (a->longest_offline_ms > sum->longest_offline_ms)
		sum->longest_offline_ms = a->longest_offline_ms;
	sum->late_sessions += a->late_sessions;
}

struct report_ud {
	struct api_req *r;
	bool connectivity;
	int64_t from, to;
	struct svc_avail sum;
	json_t *stations;
	int err;
};

static int report_station(const struct store_station_row *row, void *ud)
{
	struct report_ud *u = ud;
	json_t *periods = json_array(), *o;
	struct svc_avail a;
	int e = svc_station_availability(u->r->api->svc, row->id, row->online, row->last_seen_ms,
					 u->from, u->to, &a, u->connectivity ? on_offline : NULL,
					 periods);

	if (e < 0) {
		json_decref(periods);
		u->err = e;
		return e;
	}
	add(&u->sum, &a);
	o = avail_json(&a, u->connectivity);
	json_object_set_new(o, "id", json_string(row->id));
	json_object_set_new(o, "online", json_boolean(row->online));
	if (u->connectivity)
		json_object_set_new(o, "offline", periods);
	else
		json_decref(periods);
	json_array_append_new(u->stations, o);
	return 0;
}

/* GET /api/sites/{id}/availability|connectivity?from=&to= (default: the last day). */
static void site_report(struct api_req *r, const char *id, bool connectivity)
{
	struct report_ud u = {.r = r, .connectivity = connectivity, .stations = json_array()};
	struct store_station_query q = {.site_id = id,
					.site_kind = -1,
					.registration = -1,
					.online = -1,
					.limit = STATIONS_PAGE};
	struct list_ud lu = {r, json_array()};
	json_t *o;
	int e;

	e = store_sites_list(r->api->store, id, site_row, &lu);
	json_decref(lu.arr);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown site %s", id);
		goto out;
	}
	if (e < 0 || window(r, &u.from, &u.to) < 0) {
		if (e < 0)
			api_storage_error(r, e);
		goto out;
	}
	u.sum.from_ms = u.from;
	u.sum.to_ms = u.to;
	for (;;) {
		size_t before = json_array_size(u.stations);

		e = store_stations_query(r->api->store, &q, report_station, &u, NULL);
		if (e < 0) {
			api_storage_error(r, u.err ? u.err : e);
			goto out;
		}
		if (json_array_size(u.stations) - before < STATIONS_PAGE)
			break;
		q.offset += STATIONS_PAGE;
	}
	o = avail_json(&u.sum, connectivity);
	json_object_set_new(o, "site", json_string(id));
	json_object_set_new(o, "from", api_time_or_null(u.from));
	json_object_set_new(o, "to", api_time_or_null(u.to));
	json_object_set_new(o, "stations", u.stations);
	u.stations = NULL;
	api_respond(r, 200, o);
out:
	json_decref(u.stations);
}

static void get_availability(struct api_req *r, char **segs)
{
	site_report(r, segs[2], false);
}

static void get_connectivity(struct api_req *r, char **segs)
{
	site_report(r, segs[2], true);
}

struct station_copy {
	bool found, online;
	int64_t last_seen_ms;
	char site[SITE_ID_MAX + 1];
};

static int station_copy(const struct store_station_row *row, void *ud)
{
	struct station_copy *c = ud;

	c->found = true;
	c->online = row->online;
	c->last_seen_ms = row->last_seen_ms;
	snprintf(c->site, sizeof(c->site), "%s", row->site_id ? row->site_id : "");
	return 0;
}

/* GET /api/stations/{id}/availability?from=&to= (default: the last day): the figures of one
 * station, as each station of a site's report. */
static void get_station_availability(struct api_req *r, char **segs)
{
	struct station_copy c = {0};
	struct svc_avail a;
	int64_t from, to;
	json_t *o;
	int e = store_stations_list(r->api->store, segs[2], 1, 0, station_copy, &c);

	if (e == -ENOENT || (e >= 0 && !c.found)) {
		api_error(r, 404, "unknown station %s", segs[2]);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	if (window(r, &from, &to) < 0)
		return;
	e = svc_station_availability(r->api->svc, segs[2], c.online, c.last_seen_ms, from, to, &a,
				     NULL, NULL);
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	o = avail_json(&a, false);
	json_object_set_new(o, "station", json_string(segs[2]));
	json_object_set_new(o, "site", c.site[0] ? json_string(c.site) : json_null());
	json_object_set_new(o, "online", json_boolean(c.online));
	json_object_set_new(o, "from", api_time_or_null(from));
	json_object_set_new(o, "to", api_time_or_null(to));
	api_respond(r, 200, o);
}

/* ---------------------------------------------------------------- reservations */

static int resv_row(const struct store_reservation *row, void *ud)
{
	json_t *arr = ud;

	json_array_append_new(
	    arr,
	    json_pack("{s:I, s:s, s:i, s:s, s:o, s:s, s:o, s:o, s:o}", "id", (json_int_t)row->id,
		      "station", row->station_id, "evse", row->evse_id, "id_tag", row->id_tag,
		      "expiry", api_time_or_null(row->expiry_ms), "status", row->status, "session",
		      row->session_id ? json_integer(row->session_id) : json_null(), "created",
		      api_time_or_null(row->created_ms), "updated",
		      api_time_or_null(row->updated_ms)));
	return 0;
}

/* GET /api/reservations?station=&open=1&limit= : {"reservations": [...]} newest first. */
static void get_reservations(struct api_req *r, char **segs)
{
	char station[STATION_ID_MAX + 1], open[8];
	const char *st = api_query_get(r, "station", station, sizeof(station));
	const char *op = api_query_get(r, "open", open, sizeof(open));
	json_t *arr;
	long limit;
	int e;

	(void)segs;
	if (api_query_int(r, "limit", 100, 1, 1000, &limit) < 0)
		return;
	arr = json_array();
	e = store_reservations_list(r->api->store, st,
				    op && (!strcmp(op, "1") || !strcmp(op, "true")), (int)limit,
				    resv_row, arr);
	api_respond_list(r, e, "reservations", arr);
}

/* ---------------------------------------------------------------- local list */

static void sync_done(void *ud, int result)
{
	struct api_req *r = ud;

	r->pending = false;
	if (result == 0)
		api_respond(r, 200, json_pack("{s:s}", "status", "ok"));
	else if (result == -ENOTCONN)
		api_error(r, 409, "the station is not connected");
	else
		api_error(r, 502, "the station did not take the list (%d)", result);
}

/* POST /api/stations/{id}/local-list/sync: check the version and push what is missing. */
static void post_ll_sync(struct api_req *r, char **segs)
{
	int e;

	r->pending = true;
	e = svc_local_list_sync(r->api->svc, segs[2], sync_done, r);
	if (e >= 0)
		return;
	r->pending = false;
	if (e == -ENOENT)
		api_error(r, 404, "unknown station %s", segs[2]);
	else
		api_storage_error(r, e);
}

const struct api_route api_site_routes[] = {
    {API_GET, "api/sites", get_sites},
    {API_POST, "api/sites", post_site},
    {API_GET, "api/sites/*", get_site},
    {API_PUT, "api/sites/*", put_site},
    {API_DELETE, "api/sites/*", delete_site},
    {API_GET, "api/sites/*/availability", get_availability},
    {API_GET, "api/sites/*/connectivity", get_connectivity},
    {API_GET, "api/stations/*/availability", get_station_availability},
    {API_GET, "api/reservations", get_reservations},
    {API_POST, "api/stations/*/local-list/sync", post_ll_sync},
    {0, NULL, NULL},
};
