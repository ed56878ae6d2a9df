/* SPDX-License-Identifier: MIT */
/* GET /api/summary: the overview's figures (stations by site kind and status, online count,
 * live network power, energy today) and GET /api/summary/power: the network power over the
 * day. Live power comes from the event bus (svc/events.h), the rest from the store. */
#include "api-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/clock.h"
#include "../store/store.h"
#include "../svc/events.h"
#include "../svc/svc.h"

/* The start of the node clock's day at UTC offset tz_min (minutes). */
static int64_t day_start(int64_t now_ms, long tz_min)
{
	int64_t off = (int64_t)tz_min * 60000, local = now_ms + off;

	return local - (local % 86400000) - off;
}

/* On PostgreSQL the counts are GROUP BYs over stations and connectors (counter rows kept by
 * triggers would be row locks every node's group commit waits for): one node computes them
 * at most once per SUMMARY_SHARE_MS and every dashboard it serves shares the answer. On SQLite
 * triggers keep them (0015_api_admin.sql) and each request reads them. */
#define SUMMARY_SHARE_MS 2000

static struct {
	const struct store *store;
	int64_t day_start_ms, at_ms;
	struct store_summary sum;
} memo;

static int summary_read(struct api_req *r, int64_t start, struct store_summary *ret)
{
	bool shared = strcmp(r->api->store->ops->name, "sqlite") != 0;
	int64_t now = clock_mono_ms();
	int e;

	if (shared && memo.store == r->api->store && memo.day_start_ms == start &&
	    now - memo.at_ms < SUMMARY_SHARE_MS) {
		*ret = memo.sum;
		return 0;
	}
	e = store_summary(r->api->store, start, ret);
	if (e == 0 && shared) {
		memo.store = r->api->store;
		memo.day_start_ms = start;
		memo.at_ms = now;
		memo.sum = *ret;
	}
	return e;
}

static void get_summary(struct api_req *r, char **segs)
{
	static const char *const kinds[] = {"public", "residential", "rural", "swap", "none"};
	struct store_summary sum;
	json_t *by_kind, *by_reg, *conns, *o;
	unsigned drawing, nodes;
	double power;
	long tz;
	int64_t now = svc_now_ms(r->api->svc), start;
	int e;

	(void)segs;
	if (api_query_int(r, "tz_offset_min", 0, -14 * 60, 14 * 60, &tz) < 0)
		return;
	start = day_start(now, tz);
	e = summary_read(r, start, &sum);
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	by_kind = json_object();
	for (int k = 0; k <= _SITE_KIND_MAX; k++)
		json_object_set_new(by_kind, kinds[k],
				    json_pack("{s:I, s:I}", "stations", (json_int_t)sum.by_kind[k],
					      "online", (json_int_t)sum.online_by_kind[k]));
	by_reg = json_object();
	for (int g = 0; g < _REG_MAX; g++)
		json_object_set_new(by_reg, reg_status_to_string(g), json_integer(sum.by_reg[g]));
	conns = json_object();
	for (int i = 0; i < sum.n_status; i++)
		json_object_set_new(conns, sum.connectors[i].status,
				    json_integer(sum.connectors[i].count));
	power = svc_power_total(r->api->svc, &drawing) + api_live_remote_power(r->api, &nodes);
	o = json_pack(
	    "{s:I, s:I, s:f, s:I, s:o, s:o, s:o, s:f, s:i, s:I, s:I, s:I, s:o, "
	    "s:o}",
	    "stations", (json_int_t)sum.stations, "online", (json_int_t)sum.online, "online_pct",
	    sum.stations ? 100.0 * (double)sum.online / (double)sum.stations : 0.0, "pending",
	    (json_int_t)sum.pending, "by_kind", by_kind, "by_registration", by_reg, "connectors",
	    conns, "power_w", power, "stations_drawing", (int)drawing, "sessions_active",
	    (json_int_t)sum.sessions_active, "sessions_today", (json_int_t)sum.sessions_today,
	    "energy_today_wh", (json_int_t)sum.energy_today_wh, "day_start",
	    api_time_or_null(start), "time", api_time_or_null(now));
	/* nodes whose power is in power_w: this one and the others that reported within 15 s */
	json_object_set_new(o, "power_nodes", json_integer(1 + (json_int_t)nodes));
	api_respond(r, 200, o);
}

/* GET /api/summary/power: {"points": [[time_ms, watts], ...]} one a minute, oldest first. */
static void get_power_series(struct api_req *r, char **segs)
{
	struct svc_power_point *pts = calloc(SVC_POWER_SERIES_MAX, sizeof(*pts));
	json_t *arr;
	size_t n;

	(void)segs;
	if (!pts) {
		api_error(r, 503, "out of memory");
		return;
	}
	n = svc_power_series(r->api->svc, pts, SVC_POWER_SERIES_MAX);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr,
				      json_pack("[I, f]", (json_int_t)pts[i].ts_ms, pts[i].watts));
	free(pts);
	api_respond(
	    r, 200,
	    json_pack("{s:o, s:f}", "points", arr, "power_w", svc_power_total(r->api->svc, NULL)));
}

const struct api_route api_summary_routes[] = {
    {API_GET, "api/summary", get_summary},
    {API_GET, "api/summary/power", get_power_series},
    {0, NULL, NULL},
};
