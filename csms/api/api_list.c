/* SPDX-License-Identifier: MIT */
/* REST routes of the filtered, paginated lists: stations (filters, sort, total), sessions
 * (filters by time, site, station, token), a session's readings by page, a station's
 * connectors and history, connectors by status across the network. See docs/api.md. */
#include "api-private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../store/store.h"
#include "ocpp.h"

#define SESSIONS_TOTAL_MAX 100000 /* sessions are counted up to this; beyond: "total_more" */

/* A boolean query parameter: -1 absent, 0/1, or -EINVAL after a 400. */
static int query_bool(struct api_req *r, const char *name, int *ret)
{
	char buf[8];
	const char *v = api_query_text(r, name, buf, sizeof(buf));

	*ret = -1;
	if (!v)
		return 0;
	if (strcmp(v, "true") && strcmp(v, "false")) {
		api_error(r, 400, "%s: expected true or false", name);
		return -EINVAL;
	}
	*ret = strcmp(v, "true") == 0;
	return 0;
}

/* An RFC 3339 query parameter: 0 if absent, or -EINVAL after a 400. */
static int query_time(struct api_req *r, const char *name, int64_t *ret)
{
	char buf[64];
	const char *v = api_query_text(r, name, buf, sizeof(buf));

	*ret = 0;
	if (!v)
		return 0;
	if (ocpp_time_parse(v, ret) < 0) {
		api_error(r, 400, "%s: expected an RFC 3339 date-time", name);
		return -EINVAL;
	}
	return 0;
}

static int sort_from_name(const char *s)
{
	return !strcmp(s, "id")		 ? STORE_SORT_ID
	       : !strcmp(s, "last_seen") ? STORE_SORT_LAST_SEEN
	       : !strcmp(s, "site")	 ? STORE_SORT_SITE
					 : -EINVAL;
}

/* GET /api/stations?site=&kind=&registration=&status=&protocol=&online=&q=&sort=&order=
 * &limit=&offset=&after= : {"stations": [...], "total": n} (the shape of before, plus total). */
static void get_stations(struct api_req *r, char **segs)
{
	char site[SITE_ID_MAX + 1], proto[32], prefix[STATION_ID_MAX + 1], cst[32],
	    after[STATION_ID_MAX + 1];
	struct store_station_query q = {.site_kind = -1};
	json_t *arr;
	int64_t total;
	long limit, offset;
	int e;

	(void)segs;
	if (api_query_page(r, 1000, 10000, &limit, &offset) < 0 ||
	    api_query_name(r, "kind", site_kind_from_string, "public, residential, rural or swap",
			   &q.site_kind) < 0 ||
	    api_query_name(r, "registration", reg_status_from_string,
			   "Accepted, Pending or Rejected", &q.registration) < 0 ||
	    query_bool(r, "online", &q.online) < 0 ||
	    api_query_name(r, "sort", sort_from_name, "id, last_seen or site", &q.sort) < 0)
		return;
	if (q.sort < 0)
		q.sort = STORE_SORT_ID;
	if (api_query_order(r, &q.desc) < 0)
		return;
	q.site_id = api_query_text(r, "site", site, sizeof(site));
	q.protocol = api_query_text(r, "protocol", proto, sizeof(proto));
	q.id_prefix = api_query_text(r, "q", prefix, sizeof(prefix));
	q.connector_status = api_query_text(r, "status", cst, sizeof(cst));
	q.after_id = api_query_text(r, "after", after, sizeof(after));
	if (q.after_id && q.sort != STORE_SORT_ID) {
		api_error(r, 400, "after: only with sort=id (use offset)");
		return;
	}
	q.limit = (int)limit;
	q.offset = (int)offset;
	arr = json_array();
	e = store_stations_query(r->api->store, &q, api_station_json, arr, &total);
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	api_respond(r, 200,
		    json_pack("{s:o, s:I, s:i, s:i}", "stations", arr, "total", (json_int_t)total,
			      "limit", (int)limit, "offset", (int)offset));
}

/* GET /api/sessions?station=&site=&token=&active=&from=&to=&before=&limit=&offset= :
 * {"sessions": [...], "total": n, "total_more": bool}, newest first. */
static void get_sessions(struct api_req *r, char **segs)
{
	char station[STATION_ID_MAX + 1], site[SITE_ID_MAX + 1], tag[TOKEN_MAX + 1];
	struct store_session_query q = {.active = -1};
	json_t *arr, *o;
	int64_t total;
	long limit, offset, before;
	int e;

	(void)segs;
	if (api_query_page(r, 100, 10000, &limit, &offset) < 0 ||
	    api_query_int(r, "before", 0, 0, INT64_MAX, &before) < 0 ||
	    query_bool(r, "active", &q.active) < 0 || query_time(r, "from", &q.from_ms) < 0 ||
	    query_time(r, "to", &q.to_ms) < 0)
		return;
	q.station_id = api_query_text(r, "station", station, sizeof(station));
	q.site_id = api_query_text(r, "site", site, sizeof(site));
	q.id_tag = api_query_text(r, "token", tag, sizeof(tag));
	q.limit = (int)limit;
	q.offset = (int)offset;
	q.before_id = before;
	arr = json_array();
	e = store_sessions_query(r->api->store, &q, api_session_json, arr, SESSIONS_TOTAL_MAX,
				 &total);
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	api_sessions_add_exported(r, arr);
	/* duration: the dashboards' column, from start to stop (or now, for active ones) */
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *s = json_array_get(arr, i);
		int64_t start, stop;

		if (ocpp_time_parse(json_string_value(json_object_get(s, "start")), &start) == 0 &&
		    ocpp_time_parse(json_string_value(json_object_get(s, "stop")), &stop) == 0)
			json_object_set_new(s, "duration_s", json_integer((stop - start) / 1000));
		else
			json_object_set_new(s, "duration_s", json_null());
	}
	o = json_pack("{s:o, s:I, s:b, s:i, s:i}", "sessions", arr, "total",
		      (json_int_t)(total > SESSIONS_TOTAL_MAX ? SESSIONS_TOTAL_MAX : total),
		      "total_more", total > SESSIONS_TOTAL_MAX, "limit", (int)limit, "offset",
		      (int)offset);
	api_respond(r, 200, o);
}

static int parse_id(struct api_req *r, const char *seg, int64_t *ret)
{
	char *end;
	long long id = strtoll(seg, &end, 10);

	if (end == seg || *end || id <= 0) {
		api_error(r, 400, "session id must be a positive integer");
		return -EINVAL;
	}
	*ret = id;
	return 0;
}

static int count_session(const struct store_session_row *row, void *ud)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

/* GET /api/sessions/{id}/meter-values?limit=&after=&measurand= : one page of the readings in
 * time order, {"meter_values": [...], "next": cursor or null}; after=cursor gets the next. */
static void get_meter_values(struct api_req *r, char **segs)
{
	struct store_sample_cursor cur = {.ts_ms = INT64_MIN, .seq = 0};
	char after[64], meas[64], next[64];
	const char *a, *m;
	json_t *arr;
	int64_t id;
	long limit;
	int e, found = 0;

	if (parse_id(r, segs[2], &id) < 0 || api_query_int(r, "limit", 1000, 1, 10000, &limit) < 0)
		return;
	a = api_query_text(r, "after", after, sizeof(after));
	if (a) {
		long long ts, seq;
		char tail;

		if (sscanf(a, "%lld.%lld%c", &ts, &seq, &tail) != 2) {
			api_error(r, 400, "after: expected the \"next\" of the previous page");
			return;
		}
		cur = (struct store_sample_cursor){.ts_ms = ts, .seq = seq};
	}
	m = api_query_text(r, "measurand", meas, sizeof(meas));
	e = store_session_get(r->api->store, id, count_session, &found);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown session %lld", (long long)id);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	arr = json_array();
	e = store_samples_page(r->api->store, id, m, (int)limit, &cur, api_sample_json, arr);
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	snprintf(next, sizeof(next), "%lld.%lld", (long long)cur.ts_ms, (long long)cur.seq);
	api_respond(r, 200,
		    json_pack("{s:o, s:o}", "meter_values", arr, "next",
			      e == limit ? json_string(next) : json_null()));
}

/* GET /api/stations/{id}/connectors */
static void get_connectors(struct api_req *r, char **segs)
{
	json_t *arr;
	int e;

	if (api_station_known(r, segs[2]) < 0)
		return;
	arr = json_array();
	e = store_connectors_list(r->api->store, segs[2], api_connector_json, arr);
	api_respond_list(r, e, "connectors", arr);
}

static int history_json(const struct store_history_row *row, void *ud)
{
	return json_array_append_new(
	    ud, json_pack("{s:s, s:s, s:o, s:o}", "source", row->source, "kind", row->kind, "text",
			  api_str_or_null(row->text), "time", api_time_or_null(row->ts_ms)));
}

/* GET /api/stations/{id}/history?limit=&offset= : firmware and diagnostics status, notices
 * (security events, NotifyEvent) and registration decisions, newest first. */
static void get_history(struct api_req *r, char **segs)
{
	json_t *arr;
	long limit, offset;
	int e;

	if (api_query_page(r, 100, 1000, &limit, &offset) < 0 || api_station_known(r, segs[2]) < 0)
		return;
	arr = json_array();
	e = store_station_history(r->api->store, segs[2], (int)limit, (int)offset, history_json,
				  arr);
	api_respond_list(r, e, "history", arr);
}

static int network_connector_json(const struct store_connector_row *row, void *ud)
{
	json_t *arr = ud;
	int e = api_connector_json(row, arr);

	if (e < 0)
		return e;
	json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "station",
			    json_string(row->station_id));
	return 0;
}

/* GET /api/connectors?status=Faulted&limit=&offset= : connectors across the network. */
static void get_network_connectors(struct api_req *r, char **segs)
{
	char status[32];
	json_t *arr;
	long limit, offset;
	int e;

	(void)segs;
	if (api_query_page(r, 100, 10000, &limit, &offset) < 0)
		return;
	arr = json_array();
	e = store_connectors_query(r->api->store,
				   api_query_text(r, "status", status, sizeof(status)), (int)limit,
				   (int)offset, network_connector_json, arr);
	api_respond_list(r, e, "connectors", arr);
}

const struct api_route api_list_routes[] = {
    {API_GET, "api/stations", get_stations},
    {API_GET, "api/stations/*/connectors", get_connectors},
    {API_GET, "api/stations/*/history", get_history},
    {API_GET, "api/connectors", get_network_connectors},
    {API_GET, "api/sessions", get_sessions},
    {API_GET, "api/sessions/*/meter-values", get_meter_values},
    {0, NULL, NULL},
};
