/* SPDX-License-Identifier: MIT */
/* Tariff calendars of the node and the energy figures they price (see energy.h). */
#include "energy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../store/store.h"

#define DAY_MS	      86400000LL
#define MAX_OFFSET_MS (14 * 3600000LL) /* the widest UTC offset a calendar may have */

struct energy {
	struct store *store;
	size_t n, cap;
	struct tariff_calendar **cals; /* sorted by id */
};

struct energy *energy_create(struct store *store)
{
	struct energy *e = calloc(1, sizeof(*e));

	if (e)
		e->store = store;
	return e;
}

void energy_destroy(struct energy *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		tariff_calendar_destroy(e->cals[i]);
	free(e->cals);
	free(e);
}

/* Index of id, or of where it would go (and *found false). */
static size_t find(const struct energy *e, const char *id, bool *found)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(e->cals[mid]->id, id);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int energy_calendar_put(struct energy *e, struct tariff_calendar *cal)
{
	bool found;
	size_t i = find(e, cal->id, &found);

	if (found) {
		tariff_calendar_destroy(e->cals[i]);
		e->cals[i] = cal;
		return 0;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct tariff_calendar **v = realloc(e->cals, cap * sizeof(*v));

		if (!v) {
			tariff_calendar_destroy(cal);
			return -ENOMEM;
		}
		e->cals = v;
		e->cap = cap;
	}
	memmove(e->cals + i + 1, e->cals + i, (e->n - i) * sizeof(*e->cals));
	e->cals[i] = cal;
	e->n++;
	return 0;
}

const struct tariff_calendar *energy_calendar(const struct energy *e, const char *id)
{
	bool found;
	size_t i = find(e, id, &found);

	return found ? e->cals[i] : NULL;
}

size_t energy_calendar_count(const struct energy *e)
{
	return e->n;
}

const struct tariff_calendar *energy_calendar_nth(const struct energy *e, size_t i)
{
	return i < e->n ? e->cals[i] : NULL;
}

int energy_site_tariff_set(struct energy *e, const char *site_id, const char *tariff_id)
{
	int r;

	if (!energy_calendar(e, tariff_id))
		return -ESRCH;
	r = store_site_tariff_set(e->store, site_id, tariff_id);
	if (r < 0)
		return r; /* -ENOENT wrote nothing; the loop's open group stays as it is */
	return store_commit(e->store);
}

struct site_row {
	int kind;
	char tariff[TARIFF_ID_MAX + 1];
};

static int site_row(const struct store_site_tariff *row, void *ud)
{
	struct site_row *out = ud;

	out->kind = row->kind;
	snprintf(out->tariff, sizeof(out->tariff), "%s", row->tariff_id);
	return 0;
}

int energy_site_calendar(struct energy *e, const char *site_id,
			 const struct tariff_calendar **ret_cal, int *ret_kind)
{
	struct site_row row = {.kind = -1};
	const struct tariff_calendar *cal;
	int r = store_site_tariffs_list(e->store, site_id, site_row, &row);

	if (r < 0)
		return r;
	cal = row.tariff[0] ? energy_calendar(e, row.tariff) : NULL;
	if (!cal)
		return -ESRCH;
	*ret_cal = cal;
	if (ret_kind)
		*ret_kind = row.kind;
	return 0;
}

int energy_reading_wh(const char *value, const char *unit, int64_t *ret_wh)
{
	char *end;
	double v, wh;
	long mult = 0;
	size_t base;

	if (!value)
		return -EINVAL;
	v = strtod(value, &end);
	if (end == value || *end)
		return -EINVAL;
	if (!unit)
		unit = "Wh";
	if (strncmp(unit, "kWh", 3) == 0) {
		mult = 3;
		base = 3;
	} else if (strncmp(unit, "Wh", 2) == 0) {
		base = 2;
	} else {
		return -EINVAL;
	}
	if (unit[base]) {
		int n = 0, m;

		if (sscanf(unit + base, "*10^%d%n", &m, &n) != 1 || unit[base + (size_t)n] ||
		    m < -9 || m > 9)
			return -EINVAL;
		mult += m;
	}
	wh = v * pow(10, (double)mult);
	if (!isfinite(wh) || wh < -1e15 || wh > 1e15)
		return -EINVAL;
	*ret_wh = (int64_t)llround(wh);
	return 0;
}

/* A session's register readings, import and export apart. */
struct readings {
	struct tariff_sample *v[2];
	size_t n[2], cap[2];
	size_t dropped;
};

static void readings_free(struct readings *rd)
{
	free(rd->v[0]);
	free(rd->v[1]);
}

static int readings_add(struct readings *rd, int which, int64_t t_ms, int64_t wh)
{
	if (rd->n[which] == rd->cap[which]) {
		size_t cap = rd->cap[which] ? rd->cap[which] * 2 : 64;
		struct tariff_sample *v = realloc(rd->v[which], cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rd->v[which] = v;
		rd->cap[which] = cap;
	}
	rd->v[which][rd->n[which]++] = (struct tariff_sample){.t_ms = t_ms, .wh = wh};
	return 0;
}

static int reading_row(const struct store_sample *row, void *ud)
{
	int64_t wh;

	if (row->format && strcmp(row->format, "SignedData") == 0)
		return 0; /* the value is the signed blob: the plain reading comes beside it */
	if (energy_reading_wh(row->value, row->unit, &wh) < 0) {
		((struct readings *)ud)->dropped++;
		return 0;
	}
	return readings_add(ud, row->measurand_kind == MEAS_ENERGY_EXPORT_REGISTER, row->ts_ms, wh);
}

/* Stable sort by time: readings come from the store in time order with the meter start
 * first and the meter stop last, so this is about linear. */
static void sort_by_time(struct tariff_sample *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct tariff_sample x = v[i];
		size_t j = i;

		while (j > 0 && v[j - 1].t_ms > x.t_ms) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* In time order, one reading per instant (the first stored), and a register that never goes
 * back: a reading below the one before it (a meter replaced, a wrong value) is left out. */
static void readings_normalise(struct readings *rd)
{
	for (int w = 0; w < 2; w++) {
		size_t k = 0;

		sort_by_time(rd->v[w], rd->n[w]);
		for (size_t i = 0; i < rd->n[w]; i++) {
			if (k && (rd->v[w][i].t_ms == rd->v[w][k - 1].t_ms ||
				  rd->v[w][i].wh < rd->v[w][k - 1].wh)) {
				rd->dropped++;
				continue;
			}
			rd->v[w][k++] = rd->v[w][i];
		}
		rd->n[w] = k;
	}
}

/* A session as the energy figures need it. */
struct esession {
	int64_t id;
	char site_id[SITE_ID_MAX + 1];
	int site_kind;
	char tariff_id[TARIFF_ID_MAX + 1];
	int64_t start_ms;
	bool has_meter_start;
	int64_t meter_start_wh;
	bool stopped;
	int64_t stop_ms, meter_stop_wh;
};

/* The readings of one session: stored registers plus the meter start and stop. */
static int session_readings(struct energy *e, const struct esession *ss, struct readings *rd)
{
	int r;

	*rd = (struct readings){0};
	if (ss->has_meter_start) {
		r = readings_add(rd, 0, ss->start_ms, ss->meter_start_wh);
		if (r < 0)
			goto fail;
	}
	r = store_session_energy_samples(e->store, ss->id, reading_row, rd);
	if (r < 0)
		goto fail;
	if (ss->stopped) {
		r = readings_add(rd, 0, ss->stop_ms, ss->meter_stop_wh);
		if (r < 0)
			goto fail;
	}
	readings_normalise(rd);
	return 0;
fail:
	readings_free(rd);
	return r;
}

struct session_get {
	struct esession *ss;
	bool found;
};

static int session_row(const struct store_session_row *row, void *ud)
{
	struct session_get *g = ud;

	g->found = true;
	g->ss->id = row->id;
	g->ss->start_ms = row->start_ms;
	g->ss->has_meter_start = row->has_meter_start;
	g->ss->meter_start_wh = row->meter_start_wh;
	g->ss->stopped = row->stopped;
	g->ss->stop_ms = row->stop_ms;
	g->ss->meter_stop_wh = row->meter_stop_wh;
	snprintf(g->ss->site_id, sizeof(g->ss->site_id), "%s", row->station_id); /* for now */
	return 0;
}

/* Session id with its station's site in ss->site_id ("" if none). */
static int session_load(struct energy *e, int64_t id, struct esession *ss)
{
	struct session_get g = {.ss = ss};
	struct store_station st;
	int r;

	*ss = (struct esession){.site_kind = -1};
	r = store_session_get(e->store, id, session_row, &g);
	if (r < 0)
		return r;
	if (!g.found)
		return -ENOENT;
	r = store_station_get(e->store, ss->site_id, &st);
	if (r < 0 && r != -ENOENT)
		return r;
	snprintf(ss->site_id, sizeof(ss->site_id), "%s", r < 0 ? "" : st.site_id);
	return 0;
}

int energy_session_cdr(struct energy *e, int64_t session_id, struct energy_cdr *ret)
{
	const struct tariff_calendar *cal;
	struct tariff_point pt;
	struct esession ss;
	struct readings rd;
	struct energy_cdr out = {.session_id = session_id};
	int r;

	r = session_load(e, session_id, &ss);
	if (r < 0)
		return r;
	if (!ss.site_id[0])
		return -ESRCH;
	r = energy_site_calendar(e, ss.site_id, &cal, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	r = session_readings(e, &ss, &rd);
	if (r < 0)
		return r;
	r = tariff_cdr_compute(cal, rd.v[0], rd.n[0], rd.v[1], rd.n[1], &out.cdr);
	if (r < 0) {
		r = r == -ENOENT ? -ERANGE : r;
		goto out;
	}
	snprintf(out.site_id, sizeof(out.site_id), "%s", ss.site_id);
	snprintf(out.tariff_id, sizeof(out.tariff_id), "%s", cal->id);
	if (tariff_calendar_at(cal, rd.n[0] ? rd.v[0][0].t_ms : ss.start_ms, &pt) == 0)
		out.tariff_valid_from_ms = cal->versions[pt.version].valid_from_ms;
	out.import_samples = rd.n[0];
	out.export_samples = rd.n[1];
	out.dropped = rd.dropped;
	*ret = out;
out:
	readings_free(&rd);
	return r;
}

int energy_session_exported_wh(struct energy *e, int64_t session_id, int64_t *ret_wh)
{
	struct readings rd = {0};
	int r;

	/* only the export register matters: no meter start or stop */
	r = store_session_energy_samples(e->store, session_id, reading_row, &rd);
	if (r < 0) {
		readings_free(&rd);
		return r;
	}
	readings_normalise(&rd);
	*ret_wh = rd.n[1] >= 2 ? rd.v[1][rd.n[1] - 1].wh - rd.v[1][0].wh : 0;
	readings_free(&rd);
	return 0;
}

/* The register v[0..n) (time order, never going back) at t: linear between readings, rounded
 * to the nearest Wh; the first reading before it, the last after it. */
static int64_t register_at(const struct tariff_sample *v, size_t n, int64_t t)
{
	size_t i = 1;

	if (t <= v[0].t_ms)
		return v[0].wh;
	if (t >= v[n - 1].t_ms)
		return v[n - 1].wh;
	while (v[i].t_ms < t)
		i++;
	{
		__int128 num = (__int128)(v[i].wh - v[i - 1].wh) * (t - v[i - 1].t_ms);
		int64_t dt = v[i].t_ms - v[i - 1].t_ms;

		return v[i - 1].wh + (int64_t)((num + dt / 2) / dt);
	}
}

int energy_session_exported_between(struct energy *e, int64_t session_id, int64_t from_ms,
				    int64_t to_ms, int64_t *ret_wh)
{
	struct readings rd = {0};
	int r;

	if (to_ms < from_ms)
		return -EINVAL;
	r = store_session_energy_samples(e->store, session_id, reading_row, &rd);
	if (r < 0) {
		readings_free(&rd);
		return r;
	}
	readings_normalise(&rd);
	*ret_wh = rd.n[1] >= 2 ? register_at(rd.v[1], rd.n[1], to_ms) -
				     register_at(rd.v[1], rd.n[1], from_ms)
			       : 0;
	readings_free(&rd);
	return 0;
}

/* The sessions overlapping a window, collected first (no query runs inside another). */
struct esessions {
	struct esession *v;
	size_t n, cap;
};

static int esession_row(const struct store_energy_session *row, void *ud)
{
	struct esessions *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct esession *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = (struct esession){
	    .id = row->id,
	    .site_kind = row->site_kind,
	    .start_ms = row->start_ms,
	    .has_meter_start = row->has_meter_start,
	    .meter_start_wh = row->meter_start_wh,
	    .stopped = row->stopped,
	    .stop_ms = row->stop_ms,
	    .meter_stop_wh = row->meter_stop_wh,
	};
	snprintf(l->v[l->n].site_id, sizeof(l->v[l->n].site_id), "%s", row->site_id);
	snprintf(l->v[l->n].tariff_id, sizeof(l->v[l->n].tariff_id), "%s", row->tariff_id);
	l->n++;
	return 0;
}

static void figures_add_day(struct energy_figures *f, const struct tariff_day *d)
{
	for (int t = 0; t < _TARIFF_TIER_MAX; t++)
		f->import_wh[t] += d->import_wh[t];
	f->import_wh_total += d->import_wh_total;
	f->export_wh += d->export_wh;
}

static void figures_share(struct energy_figures *f)
{
	struct tariff_day d = {.import_wh_total = f->import_wh_total};

	memcpy(d.import_wh, f->import_wh, sizeof(d.import_wh));
	f->valley_share_bp = tariff_day_valley_share_bp(&d);
}

/* Add session ss's part of the local day starting at day_start_ms of cal to f. */
static int add_session_day(struct energy *e, const struct tariff_calendar *cal,
			   int64_t day_start_ms, const struct esession *ss,
			   struct energy_figures *f)
{
	struct tariff_day d;
	struct readings rd;
	int r;

	if (ss->start_ms >= day_start_ms + DAY_MS || (ss->stopped && ss->stop_ms < day_start_ms))
		return 0; /* a wider window's session: not of this local day */
	r = session_readings(e, ss, &rd);
	if (r < 0)
		return r;
	tariff_day_init(&d, cal, day_start_ms);
	r = tariff_day_add(&d, cal, rd.v[0], rd.n[0], rd.v[1], rd.n[1]);
	readings_free(&rd);
	if (r == -ENOMEM || r == -EIO)
		return r;
	if (r < 0) {
		f->unpriced++;
		return 0;
	}
	figures_add_day(f, &d);
	f->sessions++;
	return 0;
}

int energy_site_day(struct energy *e, const char *site_id, int year, int month, int day,
		    struct energy_figures *ret)
{
	const struct tariff_calendar *cal;
	struct esessions l = {0};
	struct energy_figures f = {0};
	int64_t from;
	int r;

	r = energy_site_calendar(e, site_id, &cal, NULL);
	if (r < 0)
		return r;
	r = tariff_calendar_local_midnight(cal, year, month, day, &from);
	if (r < 0)
		return r;
	r = store_energy_sessions_list(e->store, site_id, from, from + DAY_MS, esession_row, &l);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		r = add_session_day(e, cal, from, &l.v[i], &f);
		if (r < 0)
			goto out;
	}
	figures_share(&f);
	*ret = f;
	r = 0;
out:
	free(l.v);
	return r;
}

int energy_network_day(struct energy *e, int year, int month, int day,
		       struct energy_figures ret[_SITE_KIND_MAX])
{
	struct energy_figures f[_SITE_KIND_MAX] = {0};
	struct tariff_calendar *utc = tariff_calendar_create("utc", 0);
	struct esessions l = {0};
	int64_t from;
	int r;

	if (!utc)
		return -ENOMEM;
	r = tariff_calendar_local_midnight(utc, year, month, day, &from);
	tariff_calendar_destroy(utc);
	if (r < 0)
		return r;
	/* every local day year-month-day lies within 14 h of the UTC one */
	r = store_energy_sessions_list(e->store, NULL, from - MAX_OFFSET_MS,
				       from + DAY_MS + MAX_OFFSET_MS, esession_row, &l);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const struct esession *ss = &l.v[i];
		const struct tariff_calendar *cal = energy_calendar(e, ss->tariff_id);
		int64_t start;

		if (ss->site_kind < 0 || ss->site_kind >= _SITE_KIND_MAX)
			continue;
		if (!cal || tariff_calendar_local_midnight(cal, year, month, day, &start) < 0) {
			f[ss->site_kind].unpriced++;
			continue;
		}
		r = add_session_day(e, cal, start, ss, &f[ss->site_kind]);
		if (r < 0)
			goto out;
	}
	for (int k = 0; k < _SITE_KIND_MAX; k++)
		figures_share(&f[k]);
	memcpy(ret, f, sizeof(f));
	r = 0;
out:
	free(l.v);
	return r;
}
