/* SPDX-License-Identifier: MIT */
/* REST routes of battery-swap stations (docs/swap.md, docs/api.md): packs, slots, the rack and
 * its "ready by" plan, swap orders, bookings, RequestBatterySwap and the day report. */
#include "api-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../plan_rt.h"
#include "../store/store.h"
#include "../svc/cmd.h"
#include "../svc/svc.h"
#include "../svc/swap.h"
#include "../svc/tariff.h"
#include "ocpp.h"

#define DAY_MS 86400000LL

/* ---------------------------------------------------------------- JSON of rows */

static json_t *soc_json(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static json_t *pack_json(const struct store_swap_pack *p)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:s, s:o, s:o, s:o, s:o, s:b, s:o}",
			 "serial", p->serial, "station_id", p->station_id, "type",
			 api_str_or_null(*p->type ? p->type : NULL), "capacity_wh",
			 p->capacity_wh > 0 ? json_integer(p->capacity_wh) : json_null(), "soc",
			 soc_json(p->soc), "soh", soc_json(p->soh), "cycles", (json_int_t)p->cycles,
			 "location", p->location, "evse_id",
			 !strcmp(p->location, "slot") ? json_integer(p->evse_id) : json_null(),
			 "vehicle", api_str_or_null(*p->vehicle ? p->vehicle : NULL),
			 "production_date", api_time_or_null(p->production_ms), "racked_at",
			 api_time_or_null(p->in_ms), "flagged", p->flagged, "updated_at",
			 api_time_or_null(p->updated_ms));
}

static int pack_row(const struct store_swap_pack *p, void *ud)
{
	json_t *o = pack_json(p);

	return o && json_array_append_new(ud, o) == 0 ? 0 : -ENOMEM;
}

static json_t *serials_json(const char *s)
{
	json_t *a = json_array();
	char buf[SWAP_BATTERIES_MAX * (SWAP_SERIAL_MAX + 1) + 1], *save = NULL, *t;

	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	for (t = strtok_r(buf, ",", &save); a && t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(t));
	return a;
}

static json_t *energy_json(int64_t wh)
{
	return wh < 0 ? json_null() : json_integer(wh);
}

static int order_row(const struct store_swap_order *o, void *ud)
{
	bool billed = *o->tier != '\0';
	json_t *j = json_pack(
	    "{s:I, s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
	    "s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)o->id, "station_id", o->station_id, "request_id",
	    (json_int_t)o->request_id, "vehicle", o->vehicle, "booking_id",
	    o->booking_id ? json_integer(o->booking_id) : json_null(), "packs_out",
	    serials_json(o->packs_out), "packs_in", serials_json(o->packs_in), "soc_out",
	    soc_json(o->soc_out), "soc_in", soc_json(o->soc_in), "energy_out_wh",
	    energy_json(o->energy_out_wh), "energy_in_wh", energy_json(o->energy_in_wh), "delta_wh",
	    billed ? json_integer(o->delta_wh) : json_null(), "tier",
	    api_str_or_null(billed ? o->tier : NULL), "price_fen_per_mwh",
	    billed ? json_integer(o->price_fen_per_mwh) : json_null(), "cost_fen",
	    billed ? json_integer(o->cost_fen) : json_null(), "state", o->state, "promised_soc",
	    soc_json(o->promised_soc), "created_at", api_time_or_null(o->created_ms), "in_at",
	    api_time_or_null(o->in_ms), "out_at", api_time_or_null(o->out_ms), "done_at",
	    api_time_or_null(o->done_ms));

	return j && json_array_append_new(ud, j) == 0 ? 0 : -ENOMEM;
}

static int booking_row(const struct store_swap_booking *b, void *ud)
{
	json_t *j =
	    json_pack("{s:I, s:s, s:s, s:o, s:f, s:s, s:o, s:o}", "id", (json_int_t)b->id,
		      "station_id", b->station_id, "vehicle", b->vehicle, "due_at",
		      api_time_or_null(b->due_ms), "min_soc", b->min_soc, "state", b->state,
		      "request_id", b->request_id ? json_integer(b->request_id) : json_null(),
		      "created_at", api_time_or_null(b->created_ms));

	return j && json_array_append_new(ud, j) == 0 ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- helpers */

/* The station's site calendar (the one the planner prices it with), or NULL, and (pol not
 * NULL) its swap policy with the site's thresholds; 0 or -ENOENT after a 404 for an unknown
 * station (-EIO after a 503). */
static int station_cal_pol(struct api_req *r, const char *id, const struct tariff_calendar **ret,
			   struct swap_policy *pol)
{
	struct store_station st;
	int rc = store_station_get(r->api->store, id, &st);

	if (rc == -ENOENT) {
		api_error(r, 404, "unknown station %s", id);
		return rc;
	}
	if (rc < 0) {
		api_storage_error(r, rc);
		return rc;
	}
	*ret = st.site_id[0] ? svc_site_tariff(r->api->svc, st.site_id) : NULL;
	if (pol && (rc = swap_policy_site(r->api->svc, st.site_id, pol)) < 0) {
		api_storage_error(r, rc);
		return rc;
	}
	return 0;
}

static int station_cal(struct api_req *r, const char *id, const struct tariff_calendar **ret)
{
	return station_cal_pol(r, id, ret, NULL);
}

/* [from, to) of the date query parameter (local day of cal, UTC without), or the from/to
 * RFC 3339 parameters: 0, or -EINVAL after a 400. */
static int query_window(struct api_req *r, const struct tariff_calendar *cal, int64_t *from,
			int64_t *to, char date[16])
{
	int64_t now = svc_now_ms(r->api->svc), off = cal ? cal->utc_offset_min * 60000LL : 0;
	char buf[40];
	const char *v = api_query_get(r, "date", buf, sizeof(buf));
	int y, m, d, n = 0;

	if (!v) {
		time_t t = (time_t)((now + off) / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		y = tm.tm_year + 1900;
		m = tm.tm_mon + 1;
		d = tm.tm_mday;
	} else if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
		   m < 1 || m > 12 || d < 1 || d > 31) {
		api_error(r, 400, "date: expected YYYY-MM-DD");
		return -EINVAL;
	}
	{
		struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};

		*from = (int64_t)timegm(&tm) * 1000 - off;
	}
	*to = *from + DAY_MS;
	snprintf(date, 16, "%04d-%02d-%02d", y, m, d);
	return 0;
}

/* ---------------------------------------------------------------- packs and slots */

/* GET /api/swap/packs?station=ID */
static void get_packs(struct api_req *r, char **segs)
{
	char station[128];
	const char *st = api_query_get(r, "station", station, sizeof(station));
	json_t *arr = json_array();
	int rc;

	(void)segs;
	rc = store_swap_packs_list(r->api->store, st, NULL, pack_row, arr);
	if (rc < 0) {
		json_decref(arr);
		api_storage_error(r, rc);
		return;
	}
	api_respond(r, 200, json_pack("{s:o}", "packs", arr));
}

static int soh_row(const struct store_swap_soh *h, void *ud)
{
	return json_array_append_new(
	    ud, json_pack("{s:o, s:f}", "at", api_time_or_null(h->ts_ms), "soh", h->soh));
}

static int pack_one(const struct store_swap_pack *p, void *ud)
{
	json_t **ret = ud;

	*ret = pack_json(p);
	return *ret ? 0 : -ENOMEM;
}

/* GET /api/swap/packs/{serial}: the pack and its SoH history. */
static void get_pack(struct api_req *r, char **segs)
{
	json_t *o = NULL, *hist = json_array();
	int rc = store_swap_packs_list(r->api->store, NULL, segs[3], pack_one, &o);

	if (rc >= 0)
		rc = store_swap_pack_soh_list(r->api->store, segs[3], soh_row, hist);
	if (rc < 0) {
		json_decref(o);
		json_decref(hist);
		if (rc == -ENOENT)
			api_error(r, 404, "unknown pack %s", segs[3]);
		else
			api_storage_error(r, rc);
		return;
	}
	json_object_set_new(o, "soh_history", hist);
	api_respond(r, 200, o);
}

struct pack_copy {
	struct store_swap_pack p;
	char serial[SWAP_SERIAL_MAX + 1], station[128], type[64], location[16];
	bool found;
};

static int pack_copy_fn(const struct store_swap_pack *p, void *ud)
{
	struct pack_copy *c = ud;

	c->p = *p;
	snprintf(c->serial, sizeof(c->serial), "%s", p->serial);
	snprintf(c->station, sizeof(c->station), "%s", p->station_id ? p->station_id : "");
	snprintf(c->type, sizeof(c->type), "%s", p->type ? p->type : "");
	snprintf(c->location, sizeof(c->location), "%s", p->location);
	c->p.serial = c->serial;
	c->p.station_id = c->station;
	c->p.type = c->type;
	c->p.location = c->location;
	c->found = true;
	return 0;
}

/* PUT /api/swap/packs/{serial} {"location": "store"}: the operator took the pack out of its
 * slot or vehicle into the store (slots and vehicles are where the stations' BatterySwap
 * events put packs; a stocking BatteryIn takes it out again). 200 with the pack. */
static void put_pack(struct api_req *r, char **segs)
{
	json_t *body = api_body_object(r), *o = NULL;
	struct pack_copy c = {0};
	const char *loc;
	int rc;

	if (!body)
		return;
	loc = json_string_value(json_object_get(body, "location"));
	if (!loc || strcmp(loc, "store") != 0) {
		api_error(r, 400,
			  "location: expected \"store\" (slots and vehicles are set by the "
			  "stations' BatterySwap events)");
		goto out;
	}
	rc = store_swap_packs_list(r->api->store, NULL, segs[3], pack_copy_fn, &c);
	if (rc == -ENOENT) {
		api_error(r, 404, "unknown pack %s", segs[3]);
		goto out;
	}
	if (rc >= 0) {
		c.p.location = "store";
		c.p.evse_id = 0;
		c.p.vehicle = "";
		c.p.updated_ms = svc_now_ms(r->api->svc);
		rc = store_swap_pack_put(r->api->store, &c.p);
	}
	if (rc >= 0)
		rc = store_commit(r->api->store);
	if (rc >= 0)
		rc = store_swap_packs_list(r->api->store, NULL, segs[3], pack_one, &o);
	if (rc < 0) {
		api_storage_error(r, rc);
		goto out;
	}
	api_respond(r, 200, o);
out:
	json_decref(body);
}

struct slots_ctx {
	json_t *slots; /* evse id (text) -> slot object */
	json_t *order; /* the slot objects in connector order */
};

static int slot_conn_row(const struct store_connector_row *c, void *ud)
{
	struct slots_ctx *x = ud;
	char key[16];
	json_t *s;

	if (c->evse_id <= 0)
		return 0;
	snprintf(key, sizeof(key), "%d", c->evse_id);
	if (json_object_get(x->slots, key))
		return 0;
	s = json_pack("{s:i, s:s, s:n}", "evse_id", c->evse_id, "status",
		      c->status ? c->status : "Unknown", "pack");
	if (!s)
		return -ENOMEM;
	json_object_set(x->slots, key, s);
	return json_array_append_new(x->order, s);
}

static int slot_pack_row(const struct store_swap_pack *p, void *ud)
{
	struct slots_ctx *x = ud;
	char key[16];
	json_t *s;

	if (strcmp(p->location, "slot") != 0)
		return 0;
	snprintf(key, sizeof(key), "%d", p->evse_id);
	s = json_object_get(x->slots, key);
	if (!s) { /* a slot the station has not reported a status for */
		s = json_pack("{s:i, s:s}", "evse_id", p->evse_id, "status", "Unknown");
		if (!s)
			return -ENOMEM;
		json_object_set(x->slots, key, s);
		json_array_append_new(x->order, s);
	}
	return json_object_set_new(s, "pack", pack_json(p));
}

/* GET /api/stations/{id}/slots: each EVSE, its status and the pack in it. */
static void get_slots(struct api_req *r, char **segs)
{
	struct slots_ctx x = {json_object(), json_array()};
	const struct tariff_calendar *cal;
	int rc;

	if (station_cal(r, segs[2], &cal) < 0)
		goto out;
	rc = store_connectors_list(r->api->store, segs[2], slot_conn_row, &x);
	if (rc >= 0)
		rc = store_swap_packs_list(r->api->store, segs[2], NULL, slot_pack_row, &x);
	if (rc < 0) {
		api_storage_error(r, rc);
		goto out;
	}
	api_respond(r, 200, json_pack("{s:s, s:O}", "station_id", segs[2], "slots", x.order));
out:
	json_decref(x.slots);
	json_decref(x.order);
}

static int rack_row(const struct swap_rack_need *n, void *ud)
{
	return json_array_append_new(
	    ud, json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:s}", "evse_id", n->evse_id, "serial",
			  n->serial, "capacity_wh",
			  n->capacity_wh > 0 ? json_integer(n->capacity_wh) : json_null(),
			  "soc_at_rack", soc_json(n->soc), "racked_at", api_time_or_null(n->in_ms),
			  "ready_by", api_time_or_null(n->ready_ms), "basis",
			  n->forecast ? "forecast" : "valley"));
}

/* GET /api/stations/{id}/rack: the racked packs and when each must be ready (the needs the
 * planner charges them by), with the demand forecast by local hour. */
static void get_rack(struct api_req *r, char **segs)
{
	const struct tariff_calendar *cal;
	struct swap_policy pol;
	double per_hour[24];
	json_t *arr, *fc;
	int rc;

	if (station_cal_pol(r, segs[2], &cal, &pol) < 0)
		return;
	arr = json_array();
	rc = swap_rack_needs(r->api->svc, segs[2], cal, &pol, rack_row, arr);
	if (rc < 0) {
		json_decref(arr);
		api_storage_error(r, rc);
		return;
	}
	/* the forecast the ready-by times come from */
	rc = swap_forecast_station(r->api->svc, segs[2], cal, &pol, per_hour);
	if (rc < 0) {
		json_decref(arr);
		api_storage_error(r, rc);
		return;
	}
	fc = json_array();
	for (int h = 0; h < 24; h++)
		json_array_append_new(fc, json_real(per_hour[h]));
	api_respond(r, 200,
		    json_pack("{s:s, s:o, s:f, s:o}", "station_id", segs[2], "packs", arr,
			      "promised_soc", pol.promised_soc, "forecast_per_hour", fc));
}

/* ---------------------------------------------------------------- orders, report */

/* GET /api/swap/orders?station=ID&date=YYYY-MM-DD (default today, UTC) */
static void get_orders(struct api_req *r, char **segs)
{
	char station[128], date[16];
	const char *st = api_query_get(r, "station", station, sizeof(station));
	const struct tariff_calendar *cal = NULL;
	int64_t from, to;
	json_t *arr;
	int rc;

	(void)segs;
	if (st && station_cal(r, st, &cal) < 0)
		return;
	if (query_window(r, cal, &from, &to, date) < 0)
		return;
	arr = json_array();
	rc = store_swap_orders_list(r->api->store, st, from, to, order_row, arr);
	if (rc < 0) {
		json_decref(arr);
		api_storage_error(r, rc);
		return;
	}
	api_respond(r, 200, json_pack("{s:s, s:o}", "date", date, "orders", arr));
}

/* GET /api/stations/{id}/swap-report?date=YYYY-MM-DD: swaps, packs ready on time, energy by
 * tier over the station's local day. */
static void get_report(struct api_req *r, char **segs)
{
	const struct tariff_calendar *cal;
	struct swap_day_report d;
	char date[16];
	int64_t from, to;
	json_t *tiers;
	int rc;

	if (station_cal(r, segs[2], &cal) < 0 || query_window(r, cal, &from, &to, date) < 0)
		return;
	rc = swap_day_report(r->api->svc, segs[2], from, to, &d);
	if (rc < 0) {
		api_storage_error(r, rc);
		return;
	}
	tiers = json_object();
	for (int t = 0; t < _TARIFF_TIER_MAX; t++)
		json_object_set_new(tiers, tariff_tier_to_string(t), json_integer(d.wh_by_tier[t]));
	api_respond(r, 200,
		    json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I}",
			      "station_id", segs[2], "date", date, "tariff",
			      api_str_or_null(cal ? cal->id : NULL), "swaps", (json_int_t)d.swaps,
			      "timeouts", (json_int_t)d.timeouts, "open", (json_int_t)d.open,
			      "promised", (json_int_t)d.promised, "ready_on_time",
			      (json_int_t)d.ready_on_time, "energy_wh", (json_int_t)d.delta_wh,
			      "cost_fen", (json_int_t)d.cost_fen, "energy_wh_by_tier", tiers,
			      "unbilled", (json_int_t)d.unbilled));
}

/* ---------------------------------------------------------------- bookings */

/* GET /api/swap/bookings?station=ID: bookings due from today's start on. */
static void get_bookings(struct api_req *r, char **segs)
{
	char station[128];
	const char *st = api_query_get(r, "station", station, sizeof(station));
	int64_t now = svc_now_ms(r->api->svc);
	json_t *arr = json_array();
	int rc;

	(void)segs;
	rc = store_swap_bookings_list(r->api->store, st, 0, now - now % DAY_MS, booking_row, arr);
	if (rc < 0) {
		json_decref(arr);
		api_storage_error(r, rc);
		return;
	}
	api_respond(r, 200, json_pack("{s:o}", "bookings", arr));
}

/* POST /api/swap/bookings {"station_id", "vehicle", "due_at", "min_soc"}: queue a vehicle. */
static void post_booking(struct api_req *r, char **segs)
{
	json_t *body = api_body_object(r);
	const char *st, *veh;
	const struct tariff_calendar *cal;
	json_int_t min_soc = 0;
	int64_t due, id = 0;
	int rc;

	(void)segs;
	if (!body)
		return;
	st = json_string_value(json_object_get(body, "station_id"));
	veh = json_string_value(json_object_get(body, "vehicle"));
	if (!st || !veh || !*veh || strlen(veh) > 255) {
		api_error(r, 400, "station_id and vehicle (1..255 characters) are required");
		goto out;
	}
	if (station_cal(r, st, &cal) < 0 || api_member_time(r, body, "due_at", true, &due) < 0 ||
	    api_member_int(r, body, "min_soc", false, 0, 0, 100, &min_soc) < 0)
		goto out;
	rc = store_swap_booking_put(r->api->store,
				    &(struct store_swap_booking){
					.station_id = st,
					.vehicle = veh,
					.due_ms = due,
					.min_soc = (double)min_soc,
					.state = "queued",
					.created_ms = svc_now_ms(r->api->svc),
				    },
				    &id);
	if (rc < 0) {
		api_storage_error(r, rc);
		goto out;
	}
	api_respond(r, 201, json_pack("{s:I}", "id", (json_int_t)id));
out:
	json_decref(body);
}

/* GET /api/stations/{id}/swap-queue: the station's open bookings (queued or requested) in the
 * order they are served: by due time, then creation. */
static void get_queue(struct api_req *r, char **segs)
{
	const struct tariff_calendar *cal;
	json_t *arr;
	int rc;

	if (station_cal(r, segs[2], &cal) < 0)
		return;
	arr = json_array();
	rc = store_swap_bookings_open(r->api->store, segs[2], NULL, booking_row, arr);
	if (rc < 0) {
		json_decref(arr);
		api_storage_error(r, rc);
		return;
	}
	api_respond(r, 200, json_pack("{s:s, s:o}", "station_id", segs[2], "queue", arr));
}

struct booking_copy {
	struct store_swap_booking b;
	char station[128], vehicle[256], state[16];
};

static int booking_one(const struct store_swap_booking *b, void *ud)
{
	struct booking_copy *c = ud;

	snprintf(c->station, sizeof(c->station), "%s", b->station_id);
	snprintf(c->vehicle, sizeof(c->vehicle), "%s", b->vehicle);
	snprintf(c->state, sizeof(c->state), "%s", b->state);
	c->b = *b;
	c->b.station_id = c->station;
	c->b.vehicle = c->vehicle;
	c->b.state = c->state;
	return 0;
}

/* DELETE /api/swap/bookings/{id}: cancel an open booking (it leaves the queue; the record
 * stays, state cancelled). 409 when it is served or cancelled already. */
static void delete_booking(struct api_req *r, char **segs)
{
	struct booking_copy bc;
	char *end;
	long long id = strtoll(segs[3], &end, 10);
	int rc;

	if (end == segs[3] || *end || id <= 0) {
		api_error(r, 400, "booking id: expected a positive integer");
		return;
	}
	rc = store_swap_bookings_list(r->api->store, NULL, id, 0, booking_one, &bc);
	if (rc == -ENOENT) {
		api_error(r, 404, "no booking %lld", id);
		return;
	}
	if (rc < 0) {
		api_storage_error(r, rc);
		return;
	}
	if (strcmp(bc.state, "queued") != 0 && strcmp(bc.state, "requested") != 0) {
		api_error(r, 409, "booking %lld is %s", id, bc.state);
		return;
	}
	bc.b.state = "cancelled";
	rc = store_swap_booking_put(r->api->store, &bc.b, NULL);
	if (rc >= 0)
		rc = store_commit(r->api->store);
	if (rc < 0) {
		api_storage_error(r, rc);
		return;
	}
	api_respond(r, 204, NULL);
}

/* ---------------------------------------------------------------- RequestBatterySwap */

/* The station's DataTransfer answer: its status, and the RequestBatterySwapResponse in data. */
static void request_swap_done(void *ud, const struct svc_cmd_result *res)
{
	struct api_req *r = ud;
	json_t *conf, *inner = NULL;
	const json_t *d;
	char desc[128];

	if (res->status != SVC_RES_ACCEPTED && res->status != SVC_RES_REJECTED &&
	    res->status != SVC_RES_OTHER && res->status != SVC_RES_ANSWERED) {
		api_respond(r, res->status == SVC_RES_TIMEOUT ? 504 : 502,
			    json_pack("{s:s, s:s, s:s}", "error", "RequestBatterySwap failed",
				      "code", res->code, "description", res->detail));
		return;
	}
	conf = res->payload ? json_loads(res->payload, 0, NULL) : NULL;
	d = json_object_get(conf, "data");
	if (json_is_string(d))
		inner = json_loads(json_string_value(d), 0, NULL);
	else if (d)
		inner = json_deep_copy(d);
	if (inner && ocpp_v21_validate(OCPP_V201, "RequestBatterySwapResponse", inner, desc,
				       sizeof(desc)) != OCPP_ERR_NONE) {
		api_respond(r, 502,
			    json_pack("{s:s, s:s}", "error",
				      "station's RequestBatterySwapResponse is invalid",
				      "description", desc));
		goto out;
	}
	api_respond(r, 200,
		    json_pack("{s:s, s:O}", "status",
			      json_string_value(json_object_get(conf, "status"))
				  ? json_string_value(json_object_get(conf, "status"))
				  : "",
			      "response", inner ? inner : json_null()));
out:
	json_decref(inner);
	json_decref(conf);
}

/* POST /api/stations/{id}/request-swap {"id_token", "request_id"?, "booking_id"?}: send the
 * OCPP 2.1 RequestBatterySwap (DataTransfer on 1.6/2.0.1, docs/swap.md). */
static void post_request_swap(struct api_req *r, char **segs)
{
	json_t *body = api_body_object(r), *req = NULL;
	struct svc_cmd cmd = {.kind = SVC_CMD_RAW};
	const char *tok;
	char vehicle[256];
	json_int_t rid = 0, booking = 0;
	char desc[128], *data = NULL, *payload = NULL;
	int rc;

	if (!body)
		return;
	tok = json_string_value(json_object_get(body, "id_token"));
	if (api_member_int(r, body, "request_id", false, 0, 0, INT32_MAX, &rid) < 0 ||
	    api_member_int(r, body, "booking_id", false, 0, 0, INT64_MAX, &booking) < 0)
		goto out;
	if (booking) {
		struct booking_copy bc;
		struct store_swap_booking *b = &bc.b;

		rc = store_swap_bookings_list(r->api->store, segs[2], booking, 0, booking_one, &bc);
		if (rc == -ENOENT) {
			api_error(r, 404, "no booking %lld at %s", (long long)booking, segs[2]);
			goto out;
		}
		if (rc < 0) {
			api_storage_error(r, rc);
			goto out;
		}
		if (strcmp(bc.state, "queued") != 0 && strcmp(bc.state, "requested") != 0) {
			api_error(r, 409, "booking %lld is %s", (long long)booking, bc.state);
			goto out;
		}
		if (!tok) {
			snprintf(vehicle, sizeof(vehicle), "%s", bc.vehicle);
			tok = vehicle;
		}
		if (!rid)
			rid = svc_now_ms(r->api->svc) % 1000000000;
		b->state = "requested";
		b->request_id = rid;
		rc = store_swap_booking_put(r->api->store, b, NULL);
		if (rc < 0) {
			api_storage_error(r, rc);
			goto out;
		}
	}
	if (!tok || !*tok) {
		api_error(r, 400, "id_token: expected a string (or a booking_id)");
		goto out;
	}
	if (!rid)
		rid = svc_now_ms(r->api->svc) % 1000000000;
	req = json_pack("{s:I, s:{s:s, s:s}}", "requestId", rid, "idToken", "idToken", tok, "type",
			"Central");
	if (!req || ocpp_v21_validate(OCPP_V201, "RequestBatterySwapRequest", req, desc,
				      sizeof(desc)) != OCPP_ERR_NONE) {
		api_error(r, 400, "RequestBatterySwapRequest: %s", req ? desc : "out of memory");
		goto out;
	}
	data = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	req = data ? json_pack("{s:s, s:s, s:s}", "vendorId", SVC_VENDOR_ID, "messageId",
			       "RequestBatterySwap", "data", data)
		   : NULL;
	payload = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!payload) {
		api_error(r, 500, "out of memory");
		goto out;
	}
	cmd.raw.action = "DataTransfer";
	cmd.raw.payload = payload;
	r->pending = true;
	rc = svc_cmd_send(r->api->svc, segs[2], &cmd, "api", request_swap_done, r);
	if (rc < 0) {
		r->pending = false;
		if (rc == -ENOENT)
			api_error(r, 404, "unknown station %s", segs[2]);
		else
			api_storage_error(r, rc);
	}
out:
	free(data);
	free(payload);
	json_decref(req);
	json_decref(body);
}

const struct api_route api_swap_routes[] = {
    {API_GET, "api/swap/packs", get_packs},
    {API_GET, "api/swap/packs/*", get_pack},
    {API_PUT, "api/swap/packs/*", put_pack},
    {API_GET, "api/swap/orders", get_orders},
    {API_GET, "api/swap/bookings", get_bookings},
    {API_POST, "api/swap/bookings", post_booking},
    {API_DELETE, "api/swap/bookings/*", delete_booking},
    {API_GET, "api/stations/*/swap-queue", get_queue},
    {API_GET, "api/stations/*/slots", get_slots},
    {API_GET, "api/stations/*/rack", get_rack},
    {API_GET, "api/stations/*/swap-report", get_report},
    {API_POST, "api/stations/*/request-swap", post_request_swap},
    {0, NULL, NULL},
};
