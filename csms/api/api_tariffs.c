/* SPDX-License-Identifier: MIT */
/* REST routes of tariff calendars, a site's calendar, and the energy they price: a session's
 * CDR, a site-day's energy per tier and valley share, the network's by site kind. */
#include "api-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../core/log.h"
#include "../plan_rt.h"
#include "../store/store.h"
#include "../svc/energy.h"
#include "../svc/svc.h"
#include "../tariff_store.h"

#define DAY_MS 86400000LL

/* "YYYY-MM-DD" of the local day of cal containing t_ms. */
static void local_date(const struct tariff_calendar *cal, int64_t t_ms, char buf[32])
{
	time_t t = (time_t)((t_ms + cal->utc_offset_min * 60000LL) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, 32, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* The date query parameter (default: today in cal's local time, or UTC without cal): 0, or
 * -EINVAL after a 400. */
static int query_date(struct api_req *r, const struct tariff_calendar *cal, int *y, int *m, int *d)
{
	char buf[16], today[32];
	const char *v = api_query_get(r, "date", buf, sizeof(buf));
	int n = 0;

	if (!v) {
		if (cal) {
			local_date(cal, svc_now_ms(r->api->svc), today);
		} else {
			time_t t = (time_t)(svc_now_ms(r->api->svc) / 1000);
			struct tm tm;

			gmtime_r(&t, &tm);
			snprintf(today, sizeof(today), "%04d-%02d-%02d", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday);
		}
		v = today;
	}
	if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%n", y, m, d, &n) != 3 || n != 10 || *m < 1 ||
	    *m > 12 || *d < 1 || *d > 31) {
		api_error(r, 400, "date: expected YYYY-MM-DD");
		return -EINVAL;
	}
	return 0;
}

static json_t *calendar_summary(const struct tariff_calendar *cal)
{
	json_t *versions = json_array();
	char date[32];

	for (size_t i = 0; i < cal->n_versions; i++) {
		local_date(cal, cal->versions[i].valid_from_ms, date);
		json_array_append_new(versions, json_string(date));
	}
	return json_pack("{s:s, s:i, s:o}", "id", cal->id, "utc_offset_min", cal->utc_offset_min,
			 "versions", versions);
}

static void get_tariffs(struct api_req *r, char **segs)
{
	struct energy *e = r->api->energy;
	json_t *arr = json_array();

	(void)segs;
	for (size_t i = 0; i < energy_calendar_count(e); i++)
		json_array_append_new(arr, calendar_summary(energy_calendar_nth(e, i)));
	api_respond(r, 200, json_pack("{s:o}", "tariffs", arr));
}

static int doc_row(const struct store_tariff *row, void *ud)
{
	*(json_t **)ud = json_loads(row->doc, 0, NULL);
	return 0;
}

static void get_tariff(struct api_req *r, char **segs)
{
	json_t *doc = NULL;
	int e = store_tariffs_list(r->api->store, segs[2], doc_row, &doc);

	if (e == -ENOENT) {
		api_error(r, 404, "unknown tariff %s", segs[2]);
		return;
	}
	if (e < 0 || !doc) {
		json_decref(doc);
		api_storage_error(r, e < 0 ? e : -EIO);
		return;
	}
	api_respond(r, 200, doc);
}

static void put_tariff(struct api_req *r, char **segs)
{
	char err[TARIFF_JSON_ERR_MAX];
	struct tariff_calendar *cal;
	json_t *body = api_body_object(r), *id;
	int e;

	if (!body)
		return;
	id = json_object_get(body, "id");
	if (!id) {
		json_object_set_new(body, "id", json_string(segs[2]));
	} else if (!json_is_string(id) || strcmp(json_string_value(id), segs[2]) != 0) {
		json_decref(body);
		api_error(r, 400, "id: the calendar's id must be the one in the path (%s)",
			  segs[2]);
		return;
	}
	e = tariff_store_put(r->api->store, body, svc_now_ms(r->api->svc), &cal, NULL, err);
	json_decref(body);
	if (e == -EINVAL || e == -E2BIG) {
		api_error(r, 400, "%s", err);
		return;
	}
	if (e == 0 && store_commit(r->api->store) < 0) {
		tariff_calendar_destroy(cal);
		e = -EIO;
	}
	if (e < 0) {
		store_rollback(r->api->store);
		api_storage_error(r, e);
		return;
	}
	log_notice("tariff %s: stored by operator (%zu version(s))", cal->id, cal->n_versions);
	body = calendar_summary(cal);
	e = energy_calendar_put(r->api->energy, cal);
	if (e < 0) {
		json_decref(body);
		api_storage_error(r, e);
		return;
	}
	/* new prices (or windows) for the sites that use it: replan them */
	e = svc_plan_tariff_replaced(r->api->svc, segs[2]);
	if (e > 0)
		log_notice("tariff %s: %d site(s) to replan", segs[2], e);
	else if (e < 0)
		log_warn("tariff %s: its sites could not be listed for a replan", segs[2]);
	api_respond(r, 200, body);
}

static void get_bands(struct api_req *r, char **segs)
{
	const struct tariff_calendar *cal = energy_calendar(r->api->energy, segs[2]);
	struct tariff_point prev = {0}, pt = {0};
	int64_t midnight, from = 0;
	json_t *bands;
	char date[16];
	int y, m, d;

	if (!cal) {
		api_error(r, 404, "unknown tariff %s", segs[2]);
		return;
	}
	if (query_date(r, cal, &y, &m, &d) < 0)
		return;
	if (tariff_calendar_local_midnight(cal, y, m, d, &midnight) < 0) {
		api_error(r, 400, "date: no such day");
		return;
	}
	bands = json_array();
	/* one band per run of quarter hours with the same tier and prices */
	for (int i = 0; i <= TARIFF_SLOTS_PER_DAY; i++) {
		int64_t t = midnight + i * TARIFF_SLOT_MS;
		bool have = i < TARIFF_SLOTS_PER_DAY && tariff_calendar_at(cal, t, &pt) == 0;
		bool same = have && i > 0 && from >= 0 && pt.tier == prev.tier &&
			    pt.import_fen_per_mwh == prev.import_fen_per_mwh &&
			    pt.export_fen_per_mwh == prev.export_fen_per_mwh &&
			    pt.service_fen_per_mwh == prev.service_fen_per_mwh;

		if (i > 0 && from >= 0 && !same) {
			int64_t a = (from - midnight) / 60000, b = (t - midnight) / 60000;
			char fa[8], fb[8];

			snprintf(fa, sizeof(fa), "%02d:%02d", (int)(a / 60), (int)(a % 60));
			snprintf(fb, sizeof(fb), "%02d:%02d", (int)(b / 60), (int)(b % 60));
			json_array_append_new(
			    bands,
			    json_pack("{s:s, s:s, s:o, s:o, s:s, s:I, s:I, s:I}", "from", fa, "to",
				      fb, "start", api_time_or_null(from), "end",
				      api_time_or_null(t), "tier", tariff_tier_to_string(prev.tier),
				      "import_fen_per_mwh", (json_int_t)prev.import_fen_per_mwh,
				      "export_fen_per_mwh", (json_int_t)prev.export_fen_per_mwh,
				      "service_fen_per_mwh", (json_int_t)prev.service_fen_per_mwh));
		}
		if (!same)
			from = have ? t : -1; /* -1: no price (before the first version) */
		prev = pt;
	}
	snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, d);
	api_respond(r, 200,
		    json_pack("{s:s, s:s, s:i, s:o}", "tariff", cal->id, "date", date,
			      "utc_offset_min", cal->utc_offset_min, "bands", bands));
}

static void put_site_tariff(struct api_req *r, char **segs)
{
	json_t *body = api_body_object(r);
	const char *id;
	char tariff[TARIFF_ID_MAX + 1];
	int e;

	if (!body)
		return;
	id = json_string_value(json_object_get(body, "tariff"));
	if (!id || strlen(id) > TARIFF_ID_MAX) {
		json_decref(body);
		api_error(r, 400, "tariff: expected the id of a calendar");
		return;
	}
	snprintf(tariff, sizeof(tariff), "%s", id);
	json_decref(body);
	e = energy_site_tariff_set(r->api->energy, segs[2], tariff);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown site %s", segs[2]);
		return;
	}
	if (e == -ESRCH) {
		api_error(r, 400, "tariff: no calendar %s (load it with PUT /api/tariffs/%s)",
			  tariff, tariff);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	log_notice("site %s: tariff set to %s by operator", segs[2], tariff);
	svc_plan_site_changed(r->api->svc, segs[2]); /* a new price: replan the site */
	api_respond(r, 200, json_pack("{s:s, s:s}", "site", segs[2], "tariff", tariff));
}

static json_t *figures_json(const struct energy_figures *f)
{
	json_t *tiers = json_object();

	for (int t = 0; t < _TARIFF_TIER_MAX; t++)
		json_object_set_new(tiers, tariff_tier_to_string(t),
				    json_pack("{s:I, s:f}", "wh", (json_int_t)f->import_wh[t],
					      "kwh", (double)f->import_wh[t] / 1000.0));
	return json_pack("{s:o, s:I, s:f, s:I, s:f, s:i, s:f, s:i, s:i}", "tiers", tiers,
			 "import_wh", (json_int_t)f->import_wh_total, "import_kwh",
			 (double)f->import_wh_total / 1000.0, "export_wh", (json_int_t)f->export_wh,
			 "export_kwh", (double)f->export_wh / 1000.0, "valley_share_bp",
			 f->valley_share_bp, "valley_share", f->valley_share_bp / 10000.0,
			 "sessions", f->sessions, "unpriced_sessions", f->unpriced);
}

static void get_site_energy(struct api_req *r, char **segs)
{
	const struct tariff_calendar *cal = NULL;
	struct energy_figures f;
	char date[16];
	int y, m, d, kind = -1, e;

	e = energy_site_calendar(r->api->energy, segs[2], &cal, &kind);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown site %s", segs[2]);
		return;
	}
	if (e == -ESRCH) {
		api_error(r, 409, "site %s has no tariff calendar (PUT /api/sites/%s/tariff)",
			  segs[2], segs[2]);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	if (query_date(r, cal, &y, &m, &d) < 0)
		return;
	e = energy_site_day(r->api->energy, segs[2], y, m, d, &f);
	if (e == -EINVAL) {
		api_error(r, 400, "date: no such day");
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, d);
	api_respond(r, 200,
		    json_pack("{s:s, s:s, s:s, s:s, s:o}", "site", segs[2], "site_kind",
			      site_kind_to_string(kind), "date", date, "tariff", cal->id, "energy",
			      figures_json(&f)));
}

static void get_energy(struct api_req *r, char **segs)
{
	struct energy_figures f[_SITE_KIND_MAX], total = {0};
	json_t *kinds;
	char date[16];
	int y, m, d, e;

	(void)segs;
	if (query_date(r, NULL, &y, &m, &d) < 0)
		return;
	e = energy_network_day(r->api->energy, y, m, d, f);
	if (e == -EINVAL) {
		api_error(r, 400, "date: no such day");
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	kinds = json_object();
	for (int k = 0; k < _SITE_KIND_MAX; k++) {
		for (int t = 0; t < _TARIFF_TIER_MAX; t++)
			total.import_wh[t] += f[k].import_wh[t];
		total.import_wh_total += f[k].import_wh_total;
		total.export_wh += f[k].export_wh;
		total.sessions += f[k].sessions;
		total.unpriced += f[k].unpriced;
		json_object_set_new(kinds, site_kind_to_string(k), figures_json(&f[k]));
	}
	total.valley_share_bp = total.import_wh_total
				    ? (int)(((total.import_wh[TARIFF_TIER_DEEP_VALLEY] +
					      total.import_wh[TARIFF_TIER_VALLEY]) *
						 10000 +
					     total.import_wh_total / 2) /
					    total.import_wh_total)
				    : 0;
	snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, d);
	api_respond(r, 200,
		    json_pack("{s:s, s:o, s:o}", "date", date, "by_site_kind", kinds, "total",
			      figures_json(&total)));
}

static void get_cdr(struct api_req *r, char **segs)
{
	const struct tariff_calendar *cal;
	struct energy_cdr c;
	char *end, date[32];
	long long id = strtoll(segs[2], &end, 10);
	json_t *tiers;
	int e;

	if (end == segs[2] || *end) {
		api_error(r, 400, "session id must be an integer");
		return;
	}
	e = energy_session_cdr(r->api->energy, id, &c);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown session %lld", id);
		return;
	}
	if (e == -ESRCH) {
		api_error(r, 409, "session %lld: its station's site has no tariff calendar", id);
		return;
	}
	if (e == -ERANGE) {
		api_error(r, 409, "session %lld: energy before the first version of its calendar",
			  id);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	tiers = json_array();
	for (int t = 0; t < _TARIFF_TIER_MAX; t++)
		json_array_append_new(tiers, json_pack("{s:s, s:I, s:f, s:I}", "tier",
						       tariff_tier_to_string(t), "wh",
						       (json_int_t)c.cdr.import_wh[t], "kwh",
						       (double)c.cdr.import_wh[t] / 1000.0, "fen",
						       (json_int_t)c.cdr.import_fen[t]));
	cal = energy_calendar(r->api->energy, c.tariff_id);
	if (cal)
		local_date(cal, c.tariff_valid_from_ms, date);
	api_respond(
	    r, 200,
	    json_pack("{s:I, s:s, s:{s:s, s:o}, s:o, s:I, s:f, s:I, s:I, s:f, s:I, s:I, s:I, "
		      "s:s, s:{s:I, s:I, s:I}}",
		      "session", (json_int_t)id, "site", c.site_id, "tariff", "id", c.tariff_id,
		      "valid_from", cal ? json_string(date) : json_null(), "tiers", tiers,
		      "import_wh", (json_int_t)c.cdr.import_wh_total, "import_kwh",
		      (double)c.cdr.import_wh_total / 1000.0, "import_fen",
		      (json_int_t)c.cdr.import_fen_total, "export_wh", (json_int_t)c.cdr.export_wh,
		      "export_kwh", (double)c.cdr.export_wh / 1000.0, "export_fen",
		      (json_int_t)c.cdr.export_fen, "service_fen", (json_int_t)c.cdr.service_fen,
		      "total_fen", (json_int_t)c.cdr.total_fen, "currency_minor_unit", "fen",
		      "readings", "import", (json_int_t)c.import_samples, "export",
		      (json_int_t)c.export_samples, "dropped", (json_int_t)c.dropped));
}

const struct api_route api_tariff_routes[] = {
    {API_GET, "api/tariffs", get_tariffs},
    {API_GET, "api/tariffs/*", get_tariff},
    {API_PUT, "api/tariffs/*", put_tariff},
    {API_GET, "api/tariffs/*/bands", get_bands},
    {API_PUT, "api/sites/*/tariff", put_site_tariff},
    {API_GET, "api/sites/*/energy", get_site_energy},
    {API_GET, "api/energy", get_energy},
    {API_GET, "api/sessions/*/cdr", get_cdr},
    {0, NULL, NULL},
};
