/* SPDX-License-Identifier: MIT */
/* Routes of the planner: charging needs, site limits, grid events, plans vs actual power. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plan_rt.h"
#include "../svc/energy.h"
#include "../svc/svc.h"
#include "api-private.h"

#define SLOT_MS	   (15 * 60 * 1000LL)
#define ACTUAL_MAX (4 * 24 * 3) /* slots of actual power in one answer: 3 days */

/* Writes reach the disk before the API answers (the group commit of this turn, now). */
static bool durable(struct api_req *r)
{
	if (store_commit(svc_store(r->api->svc)) < 0) {
		api_storage_error(r, -EIO);
		return false;
	}
	return true;
}

static int parse_id(const char *s, int64_t *ret)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v <= 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int opt_bool(struct api_req *r, const json_t *o, const char *key, int *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		api_error(r, 400, "%s: expected true or false", key);
		return -EINVAL;
	}
	*ret = json_is_true(v);
	return 0;
}

/* PUT /api/sessions/{id}/needs */
static void put_needs(struct api_req *r, char **segs)
{
	json_t *o = NULL;
	struct svc_needs_in in;
	json_int_t v;
	int64_t id, dep = -1;
	bool managed = false;
	int e;

	if (parse_id(segs[2], &id) < 0) {
		api_error(r, 400, "bad session id");
		return;
	}
	o = api_body_object(r);
	if (!o)
		return;
	svc_needs_init(&in);
	if (json_object_get(o, "departure") && api_member_time(r, o, "departure", false, &dep) < 0)
		goto out;
	in.departure_ms = dep;
#define MEMBER(key, field, lo, hi)                                                                 \
	if (json_object_get(o, key)) {                                                             \
		if (api_member_int(r, o, key, false, -1, lo, hi, &v) < 0)                          \
			goto out;                                                                  \
		in.field = v;                                                                      \
	}
	MEMBER("energy_wh", energy_wh, 0, 1000000000)
	MEMBER("target_soc", target_soc, 0, 100)
	MEMBER("capacity_wh", capacity_wh, 1, 1000000000)
	MEMBER("soc", soc, 0, 100)
	MEMBER("soc_floor", soc_floor, 0, 100)
	MEMBER("max_charge_w", max_charge_w, 0, 10000000)
	MEMBER("max_discharge_w", max_discharge_w, 0, 10000000)
#undef MEMBER
	if (opt_bool(r, o, "v2g", &in.v2g) < 0 ||
	    opt_bool(r, o, "bidirectional", &in.bidirectional) < 0)
		goto out;
	if (in.soc_floor >= 0 && in.target_soc >= 0 && in.soc_floor > in.target_soc) {
		api_error(r, 400, "soc_floor above target_soc");
		goto out;
	}
	e = svc_needs_set(r->api->svc, id, "operator", &in, &managed);
	if (e == -ENOENT) {
		api_error(r, 404, "no active session %lld", (long long)id);
		goto out;
	}
	if (e == -EINVAL) {
		api_error(r, 400, "bad needs");
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	if (durable(r))
		api_respond(
		    r, 200,
		    json_pack("{s:I, s:b}", "session_id", (json_int_t)id, "planned", managed));
out:
	json_decref(o);
}

/* PUT /api/sites/{id}/limit {"limit_kw": x | null} */
static void put_limit(struct api_req *r, char **segs)
{
	json_t *o = api_body_object(r), *v;
	int64_t w;
	int e;

	if (!o)
		return;
	v = json_object_get(o, "limit_kw");
	if (!v || (!json_is_null(v) && (!json_is_number(v) || json_number_value(v) < 0 ||
					json_number_value(v) > 1e6))) {
		api_error(r, 400, "limit_kw: expected a number >= 0 or null");
		goto out;
	}
	w = json_is_null(v) ? -1 : (int64_t)(json_number_value(v) * 1000.0 + 0.5);
	e = svc_site_set_limit(r->api->svc, segs[2], w);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown site %s", segs[2]);
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	if (durable(r))
		api_respond(r, 200,
			    json_pack("{s:s, s:o}", "site", segs[2], "limit_kw",
				      w < 0 ? json_null() : json_real((double)w / 1000.0)));
out:
	json_decref(o);
}

static json_t *forecast_json(const char *site, const struct svc_pv_forecast *f)
{
	json_t *w = json_array();

	for (size_t i = 0; f && i < f->n; i++)
		json_array_append_new(w, json_integer(f->pv_w[i]));
	const struct svc_site_storage *b = f && f->storage.present ? &f->storage : NULL;

	return json_pack(
	    "{s:s, s:o, s:I, s:o, s:o, s:o}", "site", site, "start",
	    f && f->n ? api_time_or_null(f->start_ms) : json_null(), "slot_s",
	    (json_int_t)(f && f->n ? f->slot_s : 900), "pv_w", w, "storage",
	    b ? json_pack("{s:I, s:f, s:f, s:I, s:I, s:I, s:I}", "capacity_wh",
			  (json_int_t)b->capacity_wh, "soc_percent",
			  100.0 * (double)b->energy_wh / (double)b->capacity_wh, "min_soc_percent",
			  100.0 * (double)b->min_energy_wh / (double)b->capacity_wh, "energy_wh",
			  (json_int_t)b->energy_wh, "min_energy_wh", (json_int_t)b->min_energy_wh,
			  "max_charge_w", (json_int_t)b->max_charge_w, "max_discharge_w",
			  (json_int_t)b->max_discharge_w)
	      : json_null(),
	    "set", f ? api_time_or_null(f->set_ms) : json_null());
}

/* A percentage member 0..100 of o into *ret (Wh of capacity_wh). 0, or -EINVAL after a 400. */
static int pct_member(struct api_req *r, const json_t *o, const char *key, int64_t capacity_wh,
		      int64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 100) {
		api_error(r, 400, "storage.%s: expected a number 0-100", key);
		return -EINVAL;
	}
	*ret = (int64_t)(json_number_value(v) * (double)capacity_wh / 100.0 + 0.5);
	return 0;
}

/* "storage": {"capacity_wh", "soc_percent", "min_soc_percent", "max_charge_w",
 * "max_discharge_w"} into *b (absent or null: none). 0, or -EINVAL after a 400. */
static int storage_member(struct api_req *r, const json_t *o, struct svc_site_storage *b)
{
	const json_t *v = json_object_get(o, "storage");
	json_int_t cap, pc, pd;

	memset(b, 0, sizeof(*b));
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		api_error(r, 400, "storage: expected an object or null");
		return -EINVAL;
	}
	if (api_member_int(r, v, "capacity_wh", true, 0, 1, SVC_PV_W_MAX, &cap) < 0 ||
	    api_member_int(r, v, "max_charge_w", true, 0, 0, SVC_PV_W_MAX, &pc) < 0 ||
	    api_member_int(r, v, "max_discharge_w", true, 0, 0, SVC_PV_W_MAX, &pd) < 0 ||
	    pct_member(r, v, "soc_percent", cap, &b->energy_wh) < 0 ||
	    pct_member(r, v, "min_soc_percent", cap, &b->min_energy_wh) < 0)
		return -EINVAL;
	b->present = true;
	b->capacity_wh = cap;
	b->max_charge_w = pc;
	b->max_discharge_w = pd;
	return 0;
}

/* 0 if site is known; else < 0 after a 404 or 500. */
static int site_known(struct api_req *r, const char *site)
{
	struct store_site row;
	int e = store_site_get(svc_store(r->api->svc), site, &row);

	if (e == -ENOENT)
		api_error(r, 404, "unknown site %s", site);
	else if (e < 0)
		api_storage_error(r, e);
	return e < 0 ? e : 0;
}

/* PUT /api/sites/{id}/forecast {"start": RFC 3339, "slot_s": 900, "pv_w": [W, ...],
 * "storage": {...} | null}: the PV forecast the planner takes as free local supply, and the
 * site's battery ("pv_w": [] without storage clears it). Durable before the answer. */
static void put_forecast(struct api_req *r, char **segs)
{
	json_t *o = api_body_object(r), *v;
	struct svc_pv_forecast f = {0};
	json_int_t slot_s;
	size_t i;
	json_t *x;
	int e;

	if (!o)
		return;
	if (site_known(r, segs[2]) < 0)
		goto out;
	v = json_object_get(o, "pv_w");
	if (!json_is_array(v) || json_array_size(v) > SVC_PV_MAX) {
		api_error(r, 400, "pv_w: expected an array of at most %d numbers of W", SVC_PV_MAX);
		goto out;
	}
	f.n = json_array_size(v);
	if (storage_member(r, o, &f.storage) < 0 ||
	    api_member_time(r, o, "start", f.n > 0, &f.start_ms) < 0 ||
	    api_member_int(r, o, "slot_s", false, 900, SVC_PV_SLOT_S_MIN, SVC_PV_SLOT_S_MAX,
			   &slot_s) < 0)
		goto out;
	f.slot_s = (int)slot_s;
	f.pv_w = calloc(f.n ? f.n : 1, sizeof(*f.pv_w));
	if (!f.pv_w) {
		api_error(r, 500, "out of memory");
		goto out;
	}
	json_array_foreach(v, i, x) {
		if (!json_is_number(x) || json_number_value(x) < 0 ||
		    json_number_value(x) > (double)SVC_PV_W_MAX) {
			api_error(r, 400, "pv_w[%zu]: expected a number of W in 0..%lld", i,
				  (long long)SVC_PV_W_MAX);
			goto out;
		}
		f.pv_w[i] = (int64_t)(json_number_value(x) + 0.5);
	}
	e = svc_site_set_forecast(r->api->svc, segs[2], &f);
	if (e == -EINVAL) {
		api_error(r, 400, "forecast not set: %s", strerror(-e));
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	if (durable(r))
		api_respond(r, 200,
			    forecast_json(segs[2], svc_site_forecast(r->api->svc, segs[2])));
out:
	free(f.pv_w);
	json_decref(o);
}

/* GET /api/sites/{id}/forecast */
static void get_forecast(struct api_req *r, char **segs)
{
	if (site_known(r, segs[2]) < 0)
		return;
	api_respond(r, 200, forecast_json(segs[2], svc_site_forecast(r->api->svc, segs[2])));
}

static json_t *event_json(const struct store_grid_event *e)
{
	json_t *sites = json_array();
	char buf[512], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", e->sites);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(sites, json_string(tok));
	return json_pack("{s:I, s:o, s:o, s:o, s:f, s:f, s:I, s:o}", "id", (json_int_t)e->id,
			 "sites", sites, "start", api_time_or_null(e->start_ms), "end",
			 api_time_or_null(e->end_ms), "reduce_kw", (double)e->reduce_w / 1000.0,
			 "export_kw", (double)e->export_w / 1000.0, "bonus_fen_per_kwh",
			 (json_int_t)e->bonus_fen_per_kwh, "created",
			 api_time_or_null(e->created_ms));
}

static int kw_member(struct api_req *r, const json_t *o, const char *key, int64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	*ret = 0;
	if (!v)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1e6) {
		api_error(r, 400, "%s: expected a number >= 0", key);
		return -EINVAL;
	}
	*ret = (int64_t)(json_number_value(v) * 1000.0 + 0.5);
	return 0;
}

/* POST /api/grid-events {"sites": [...], "start", "end", "reduce_kw" | "export_kw",
 * "bonus_fen_per_kwh"} */
static void post_grid_event(struct api_req *r, char **segs)
{
	json_t *o = api_body_object(r), *sites, *s;
	struct store_grid_event e = {0};
	char list[512] = "";
	json_int_t bonus;
	size_t i, used = 0;
	int rc;

	(void)segs;
	if (!o)
		return;
	sites = json_object_get(o, "sites");
	if (!json_is_array(sites) || !json_array_size(sites)) {
		api_error(r, 400, "sites: expected a non-empty array of site ids");
		goto out;
	}
	json_array_foreach(sites, i, s) {
		const char *id = json_string_value(s);
		struct store_site site;

		if (!id || strchr(id, ',') || used + strlen(id) + 2 >= sizeof(list)) {
			api_error(r, 400, "sites[%zu]: expected a site id", i);
			goto out;
		}
		rc = store_site_get(svc_store(r->api->svc), id, &site);
		if (rc == -ENOENT) {
			api_error(r, 404, "unknown site %s", id);
			goto out;
		}
		if (rc < 0) {
			api_storage_error(r, rc);
			goto out;
		}
		used +=
		    (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? "," : "", id);
	}
	if (api_member_time(r, o, "start", true, &e.start_ms) < 0 ||
	    api_member_time(r, o, "end", true, &e.end_ms) < 0 ||
	    kw_member(r, o, "reduce_kw", &e.reduce_w) < 0 ||
	    kw_member(r, o, "export_kw", &e.export_w) < 0 ||
	    api_member_int(r, o, "bonus_fen_per_kwh", false, 0, 0, 1000000, &bonus) < 0)
		goto out;
	if (e.end_ms <= e.start_ms) {
		api_error(r, 400, "end must be after start");
		goto out;
	}
	if (!e.reduce_w && !e.export_w) {
		api_error(r, 400, "give reduce_kw or export_kw");
		goto out;
	}
	e.sites = list;
	e.bonus_fen_per_kwh = bonus;
	rc = svc_grid_event_add(r->api->svc, &e);
	if (rc < 0) {
		api_storage_error(r, rc);
		goto out;
	}
	if (durable(r))
		api_respond(r, 201, event_json(&e));
out:
	json_decref(o);
}

static int event_row(const struct store_grid_event *e, void *ud)
{
	return json_array_append_new(ud, event_json(e));
}

/* GET /api/grid-events[?site=S][&all=1] */
static void get_grid_events(struct api_req *r, char **segs)
{
	char site[80];
	const char *s = api_query_get(r, "site", site, sizeof(site));
	long all;
	json_t *arr;
	int e;

	(void)segs;
	if (api_query_int(r, "all", 0, 0, 1, &all) < 0)
		return;
	arr = json_array();
	e = store_grid_events_list(svc_store(r->api->svc), s, all ? 0 : svc_now_ms(r->api->svc),
				   event_row, arr);
	api_respond_list(r, e, "grid_events", arr);
}

struct ev_find {
	int64_t id;
	struct store_grid_event e;
	char sites[512];
	bool found;
};

static int ev_find_row(const struct store_grid_event *e, void *ud)
{
	struct ev_find *f = ud;

	if (e->id != f->id)
		return 0;
	f->e = *e;
	snprintf(f->sites, sizeof(f->sites), "%s", e->sites);
	f->e.sites = f->sites;
	f->found = true;
	return 0;
}

struct ev_sessions {
	int64_t *id;
	size_t n, cap;
};

static int ev_session_row(const struct store_energy_session *row, void *ud)
{
	struct ev_sessions *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		int64_t *v = realloc(l->id, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->id = v;
		l->cap = cap;
	}
	l->id[l->n++] = row->id;
	return 0;
}

/*
** GET /api/grid-events/{id}: the event and what it got, from the stored export registers: per
** session of its sites that exported in its window, the energy (register at the end minus at
** the start, linear between readings) and the bonus on it; and the totals.
*/
static void get_grid_event(struct api_req *r, char **segs)
{
	struct ev_find f = {0};
	json_t *doc, *arr;
	char buf[512], *save = NULL, *tok;
	int64_t total_wh = 0, total_fen = 0;
	int e;

	if (parse_id(segs[2], &f.id) < 0) {
		api_error(r, 404, "unknown grid event %s", segs[2]);
		return;
	}
	e = store_grid_events_list(svc_store(r->api->svc), NULL, 0, ev_find_row, &f);
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	if (!f.found) {
		api_error(r, 404, "unknown grid event %s", segs[2]);
		return;
	}
	arr = json_array();
	snprintf(buf, sizeof(buf), "%s", f.sites);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct ev_sessions l = {0};

		e = store_energy_sessions_list(svc_store(r->api->svc), tok, f.e.start_ms,
					       f.e.end_ms, ev_session_row, &l);
		for (size_t i = 0; e >= 0 && i < l.n; i++) {
			int64_t wh, fen;

			e = energy_session_exported_between(r->api->energy, l.id[i], f.e.start_ms,
							    f.e.end_ms, &wh);
			if (e < 0 || wh <= 0)
				continue;
			fen = (wh * f.e.bonus_fen_per_kwh + 500) / 1000;
			total_wh += wh;
			total_fen += fen;
			json_array_append_new(arr, json_pack("{s:I, s:s, s:I, s:I}", "session_id",
							     (json_int_t)l.id[i], "site", tok,
							     "exported_wh", (json_int_t)wh,
							     "bonus_fen", (json_int_t)fen));
		}
		free(l.id);
		if (e < 0) {
			json_decref(arr);
			api_storage_error(r, e);
			return;
		}
	}
	doc = event_json(&f.e);
	json_object_set_new(doc, "exported_wh", json_integer(total_wh));
	json_object_set_new(doc, "bonus_fen", json_integer(total_fen));
	json_object_set_new(doc, "sessions", arr);
	api_respond(r, 200, doc);
}

/* Actual power per 15-minute slot from stored energy registers. */
struct actual {
	int64_t base;
	int n;
	double imp[ACTUAL_MAX], exp[ACTUAL_MAX];
	int64_t sess;
	double last_imp, last_exp;
	int64_t t_imp, t_exp;
	bool has_imp, has_exp;
};

static void spread(struct actual *a, double *slot_wh, int64_t t0, int64_t t1, double de)
{
	if (t1 <= t0 || de <= 0)
		return;
	for (int64_t x = t0; x < t1;) {
		int64_t k = (x - a->base) / SLOT_MS, end = a->base + (k + 1) * SLOT_MS;
		int64_t y = end < t1 ? end : t1;

		if (k >= 0 && k < a->n)
			slot_wh[k] += de * (double)(y - x) / (double)(t1 - t0);
		x = y;
	}
}

static int actual_row(const struct store_sample *row, void *ud)
{
	struct actual *a = ud;
	double v = row->value ? strtod(row->value, NULL) : 0;
	bool imp = row->measurand && !strcmp(row->measurand, "Energy.Active.Import.Register");

	if (row->unit && !strcmp(row->unit, "kWh"))
		v *= 1000.0;
	if (row->session_id != a->sess) {
		a->sess = row->session_id;
		a->has_imp = a->has_exp = false;
	}
	if (imp) {
		if (a->has_imp)
			spread(a, a->imp, a->t_imp, row->ts_ms, v - a->last_imp);
		a->has_imp = true;
		a->last_imp = v;
		a->t_imp = row->ts_ms;
	} else {
		if (a->has_exp)
			spread(a, a->exp, a->t_exp, row->ts_ms, v - a->last_exp);
		a->has_exp = true;
		a->last_exp = v;
		a->t_exp = row->ts_ms;
	}
	return 0;
}

static json_t *actual_json(struct actual *a)
{
	json_t *arr = json_array();

	for (int k = 0; k < a->n; k++)
		json_array_append_new(arr,
				      json_pack("{s:I, s:I, s:I}", "start_ms",
						(json_int_t)(a->base + k * SLOT_MS), "import_w",
						(json_int_t)(a->imp[k] * 4.0 + 0.5), "export_w",
						(json_int_t)(a->exp[k] * 4.0 + 0.5)));
	return arr;
}

/* A session's own readings: the energy registers (no phase) only. */
static int session_row(const struct store_sample *row, void *ud)
{
	if (!row->measurand || (row->phase && *row->phase) ||
	    (strcmp(row->measurand, "Energy.Active.Import.Register") &&
	     strcmp(row->measurand, "Energy.Active.Export.Register")))
		return 0;
	return actual_row(row, ud);
}

struct doc_ud {
	json_t *doc;
	int64_t planned_ms;
};

static int doc_fn(const char *key, int64_t ts_ms, const char *json, void *ud)
{
	struct doc_ud *d = ud;

	(void)key;
	d->doc = json_loads(json, 0, NULL);
	d->planned_ms = ts_ms;
	return d->doc ? 0 : -EIO;
}

/* The window of actual power: ?hours=H back from now (default 24), and the plan's slots. */
static int actual_window(struct api_req *r, struct actual *a)
{
	int64_t now = svc_now_ms(r->api->svc);
	long hours;

	if (api_query_int(r, "hours", 24, 1, 72, &hours) < 0)
		return -EINVAL;
	a->base = (now - hours * 3600000LL) / SLOT_MS * SLOT_MS;
	a->n = (int)((now - a->base) / SLOT_MS) + 1;
	if (a->n > ACTUAL_MAX)
		a->n = ACTUAL_MAX;
	return 0;
}

/* The site's plan history on the actual slots: what each slot was planned at, null where no
 * plan covered it. */
struct planned_ud {
	json_t *arr;
	int64_t base;
};

static int planned_row(const struct store_plan_slot *row, void *ud)
{
	struct planned_ud *p = ud;
	json_t *el = json_array_get(p->arr, (size_t)((row->slot_ms - p->base) / SLOT_MS));

	if (el) {
		json_object_set_new(el, "planned_w", json_integer(row->planned_w));
		json_object_set_new(el, "planned_import_w", json_integer(row->import_w));
		json_object_set_new(el, "limit_w", json_integer(row->limit_w));
	}
	return 0;
}

static int planned_json(struct api_req *r, const char *site_id, const struct actual *a, json_t *arr)
{
	struct planned_ud p = {arr, a->base};

	for (size_t k = 0; k < json_array_size(arr); k++) {
		json_t *el = json_array_get(arr, k);

		json_object_set_new(el, "planned_w", json_null());
		json_object_set_new(el, "planned_import_w", json_null());
		json_object_set_new(el, "limit_w", json_null());
	}
	return store_site_plan_slots_list(svc_store(r->api->svc), site_id, a->base,
					  a->base + (int64_t)a->n * SLOT_MS, planned_row, &p);
}

/* GET /api/sites/{id}/plan: the current plan, the actual power per slot (with what each was
 * planned at), planned vs immediately. */
static void get_site_plan(struct api_req *r, char **segs)
{
	struct actual *a = calloc(1, sizeof(*a));
	struct doc_ud d = {0};
	struct store_site site;
	json_t *actual = NULL;
	int e;

	if (!a) {
		api_error(r, 500, "out of memory");
		return;
	}
	if (actual_window(r, a) < 0)
		goto out;
	e = store_site_get(svc_store(r->api->svc), segs[2], &site);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown site %s", segs[2]);
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	e = store_site_plan_get(svc_store(r->api->svc), segs[2], doc_fn, &d);
	if (e < 0 && e != -ENOENT) {
		api_storage_error(r, e);
		goto out;
	}
	a->sess = -1;
	e = store_site_energy_samples(svc_store(r->api->svc), segs[2], a->base,
				      a->base + (int64_t)a->n * SLOT_MS, actual_row, a);
	if (e >= 0) {
		actual = actual_json(a);
		e = planned_json(r, segs[2], a, actual);
	}
	if (e < 0) {
		json_decref(actual);
		json_decref(d.doc);
		api_storage_error(r, e);
		goto out;
	}
	api_respond(
	    r, 200,
	    json_pack("{s:s, s:s, s:o, s:b, s:o, s:o}", "site", segs[2], "kind",
		      site_kind_to_string(site.kind) ? site_kind_to_string(site.kind) : "",
		      "limit_kw",
		      site.limit_w < 0 ? json_null() : json_real((double)site.limit_w / 1000.0),
		      "managed", svc_site_managed(r->api->svc, segs[2]), "plan",
		      d.doc ? d.doc : json_null(), "actual", actual));
out:
	free(a);
}

/* GET /api/sessions/{id}/plan: the session's last plan and its actual power curve. */
static void get_session_plan(struct api_req *r, char **segs)
{
	struct actual *a = calloc(1, sizeof(*a));
	struct doc_ud d = {0};
	struct store_needs n;
	int64_t id;
	json_t *needs = json_null();
	int e;

	if (!a) {
		api_error(r, 500, "out of memory");
		return;
	}
	if (parse_id(segs[2], &id) < 0) {
		api_error(r, 400, "bad session id");
		goto out;
	}
	if (actual_window(r, a) < 0)
		goto out;
	e = store_session_plan_get(svc_store(r->api->svc), id, doc_fn, &d);
	if (e == -ENOENT) {
		api_error(r, 404, "session %lld has no plan", (long long)id);
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	if (store_needs_get(svc_store(r->api->svc), id, &n) == 0)
		needs =
		    json_pack("{s:s, s:o, s:I, s:i, s:I, s:i, s:b, s:i, s:b}", "source", n.source,
			      "departure",
			      n.departure_ms > 0 ? api_time_or_null(n.departure_ms) : json_null(),
			      "energy_wh", (json_int_t)n.energy_wh, "target_soc", n.target_soc,
			      "capacity_wh", (json_int_t)n.capacity_wh, "soc", n.soc, "v2g", n.v2g,
			      "soc_floor", n.soc_floor, "bidirectional", n.bidirectional);
	a->sess = -1;
	e = store_samples_list(svc_store(r->api->svc), id, session_row, a);
	if (e < 0) {
		json_decref(needs);
		json_decref(d.doc);
		api_storage_error(r, e);
		goto out;
	}
	json_object_set_new(d.doc, "needs", needs);
	api_respond(r, 200, json_pack("{s:o, s:o}", "plan", d.doc, "actual", actual_json(a)));
out:
	free(a);
}

/* ---- capability records per station model (docs/v2g.md "Capabilities") */

/* A path segment with its %XX escapes decoded (a vendor or model may hold spaces or '/').
 * 0, or -EINVAL (a bad escape, a NUL, too long). */
static int seg_decode(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			unsigned int v;

			if (!p[1] || !p[2] || sscanf(p + 1, "%2x", &v) != 1 || v == 0)
				return -EINVAL;
			c = (int)v;
			p += 2;
		}
		if (n + 1 >= len)
			return -EINVAL;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static json_t *caps_json(const struct svc_model_caps *c)
{
	char eff[SVC_CAPS_JSON_MAX];
	json_t *e, *l, *o;

	if (svc_caps_to_json(&c->effective, eff, sizeof(eff)) < 0)
		return NULL;
	e = json_loads(eff, 0, NULL);
	l = json_loads(c->learned, 0, NULL);
	o = json_loads(c->override, 0, NULL);
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:o}", "vendor", c->vendor, "model",
			 c->model, "effective", e ? e : json_object(), "learned",
			 l ? l : json_object(), "override", o ? o : json_object(), "reason",
			 c->reason, "updated", api_time_or_null(c->updated_ms));
}

static int caps_row(const struct svc_model_caps *c, void *ud)
{
	json_t *j = caps_json(c);

	return j ? json_array_append_new(ud, j) : -ENOMEM;
}

/* GET /api/capabilities */
static void get_capabilities(struct api_req *r, char **segs)
{
	json_t *arr = json_array();
	int e;

	(void)segs;
	e = svc_model_caps_list(r->api->svc, caps_row, arr);
	api_respond_list(r, e, "capabilities", arr);
}

static int caps_key(struct api_req *r, char **segs, char *vendor, char *model, size_t len)
{
	if (seg_decode(segs[2], vendor, len) < 0 || seg_decode(segs[3], model, len) < 0 ||
	    !*model) {
		api_error(r, 400, "vendor and model: expected URL-encoded names, at most %zu bytes",
			  len - 1);
		return -EINVAL;
	}
	return 0;
}

/* GET /api/capabilities/{vendor}/{model} */
static void get_model_caps(struct api_req *r, char **segs)
{
	char vendor[SVC_CAPS_NAME_MAX], model[SVC_CAPS_NAME_MAX];
	struct svc_model_caps c;
	int e;

	if (caps_key(r, segs, vendor, model, sizeof(vendor)) < 0)
		return;
	e = svc_model_caps_get(r->api->svc, vendor, model, &c);
	if (e == -ENOENT) {
		api_error(r, 404, "no capability record for %s %s", vendor, model);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	api_respond(r, 200, caps_json(&c));
}

/* PUT /api/capabilities/{vendor}/{model} {members...}: the operator's members ({} clears) */
static void put_model_caps(struct api_req *r, char **segs)
{
	char vendor[SVC_CAPS_NAME_MAX], model[SVC_CAPS_NAME_MAX], *text = NULL;
	struct svc_model_caps c;
	json_t *o;
	int e;

	if (caps_key(r, segs, vendor, model, sizeof(vendor)) < 0)
		return;
	o = api_body_object(r);
	if (!o)
		return;
	text = json_dumps(o, JSON_COMPACT);
	e = text ? svc_model_caps_override(r->api->svc, vendor, model, text) : -ENOMEM;
	if (e == -EINVAL) {
		api_error(r, 400,
			  "expected an object of smart_charging, station_max, amps, bidirectional "
			  "(true/false), tx_stack_level, max_stack_level (0-100), max_periods "
			  "(1-%d), phases (1-3), volts (100-1000)",
			  SVC_PROFILE_PERIODS_MAX);
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	if (!durable(r))
		goto out;
	e = svc_model_caps_get(r->api->svc, vendor, model, &c);
	if (e < 0)
		api_storage_error(r, e);
	else
		api_respond(r, 200, caps_json(&c));
out:
	free(text);
	json_decref(o);
}

const struct api_route api_plan_routes[] = {
    {API_PUT, "api/sessions/*/needs", put_needs},
    {API_GET, "api/sessions/*/plan", get_session_plan},
    {API_PUT, "api/sites/*/limit", put_limit},
    {API_PUT, "api/sites/*/forecast", put_forecast},
    {API_GET, "api/sites/*/forecast", get_forecast},
    {API_GET, "api/sites/*/plan", get_site_plan},
    {API_POST, "api/grid-events", post_grid_event},
    {API_GET, "api/grid-events", get_grid_events},
    {API_GET, "api/grid-events/*", get_grid_event},
    {API_GET, "api/capabilities", get_capabilities},
    {API_GET, "api/capabilities/*/*", get_model_caps},
    {API_PUT, "api/capabilities/*/*", put_model_caps},
    {0, NULL, NULL},
};
