/* SPDX-License-Identifier: MIT */
/* Battery-swap stations: packs, orders, the forecast and the rack's needs (docs/swap.md). */
#include "swap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sites.h"
#include "store/store.h"
#include "svc.h"
#include "tariff.h"

#define HOUR_MS	    (3600 * 1000LL)
#define DAY_MS	    (24 * HOUR_MS)
#define SERIALS_MAX (SWAP_BATTERIES_MAX * (SWAP_SERIAL_MAX + 1) + 1)

static const char *const event_names[_SWAP_EVENT_MAX] = {
    [SWAP_BATTERY_IN] = "BatteryIn",
    [SWAP_BATTERY_OUT] = "BatteryOut",
    [SWAP_BATTERY_OUT_TIMEOUT] = "BatteryOutTimeout",
};

const char *swap_event_to_string(int t)
{
	return t >= 0 && t < _SWAP_EVENT_MAX ? event_names[t] : NULL;
}

int swap_event_from_string(const char *s)
{
	for (int i = 0; s && i < _SWAP_EVENT_MAX; i++)
		if (!strcmp(s, event_names[i]))
			return i;
	return _SWAP_EVENT_INVALID;
}

void swap_policy_default(struct swap_policy *p)
{
	*p = (struct swap_policy){.soh_flag_below = 80.0,
				  .promised_soc = 90.0,
				  .forecast_days = 14,
				  .slot_power_w = 60000,
				  .margin_ms = 30 * 60 * 1000};
}

int swap_policy_site(struct svc *s, const char *site_id, struct swap_policy *ret)
{
	struct svc_site_policy sp;
	int r;

	swap_policy_default(ret);
	if (!site_id || !*site_id)
		return 0;
	r = svc_site_policy(s, site_id, SITE_SWAP, &sp);
	if (r < 0)
		return r;
	ret->soh_flag_below = sp.swap_soh_flag_below;
	ret->promised_soc = sp.swap_promised_soc;
	return 0;
}

int64_t swap_charge_ms(const struct swap_policy *pol, int64_t capacity_wh, double soc)
{
	double wh;

	if (capacity_wh <= 0 || pol->slot_power_w <= 0 || soc < 0)
		return DAY_MS;
	wh = (double)capacity_wh * (pol->promised_soc - soc) / 100.0;
	return pol->margin_ms +
	       (wh <= 0 ? 0 : (int64_t)ceil(wh * 3600e3 / (double)pol->slot_power_w));
}

int64_t swap_event_time(int64_t stated_ms, int64_t now_ms, int64_t boot_ms)
{
	if (stated_ms <= 0 || stated_ms > now_ms + SWAP_CLOCK_SKEW_MS ||
	    (boot_ms > 0 && stated_ms < boot_ms))
		return now_ms;
	return stated_ms < now_ms ? stated_ms : now_ms;
}

int64_t swap_pack_energy_wh(int64_t capacity_wh, double soc)
{
	if (capacity_wh <= 0 || soc < 0)
		return -1;
	return llround((double)capacity_wh * soc / 100.0);
}

int swap_bill(int64_t energy_out_wh, int64_t energy_in_wh, const struct tariff_point *pt,
	      int64_t *ret_delta_wh, int64_t *ret_cost_fen)
{
	int64_t delta, price, num, cost;

	if (energy_out_wh < 0 || energy_in_wh < 0 || !pt)
		return -EINVAL;
	delta = energy_out_wh - energy_in_wh;
	price = pt->import_fen_per_mwh + pt->service_fen_per_mwh;
	/* Wh * fen/MWh = 10^-6 fen; round half away from zero once */
	num = delta * price;
	cost = num >= 0 ? (num + 500000) / 1000000 : -((-num + 500000) / 1000000);
	*ret_delta_wh = delta;
	*ret_cost_fen = cost;
	return 0;
}

/* ---------------------------------------------------------------- the forecast */

static int64_t local_hour(int64_t t_ms, int utc_offset_min)
{
	int64_t l = t_ms + utc_offset_min * 60000LL;
	int64_t in_day = ((l % DAY_MS) + DAY_MS) % DAY_MS;

	return in_day / HOUR_MS;
}

int swap_forecast(const int64_t *t_ms, size_t n, int64_t now_ms, int utc_offset_min, int days,
		  double ret_per_hour[24])
{
	int64_t from, first = INT64_MAX, count[24] = {0};
	double observed;
	int used = 0;

	if (days < 1 || (n && !t_ms))
		return -EINVAL;
	from = now_ms - days * DAY_MS;
	for (size_t i = 0; i < n; i++) {
		if (t_ms[i] < from || t_ms[i] >= now_ms)
			continue;
		count[local_hour(t_ms[i], utc_offset_min)]++;
		if (t_ms[i] < first)
			first = t_ms[i];
		used++;
	}
	observed = used ? (double)(now_ms - first) / (double)DAY_MS : 1.0;
	observed = ceil(observed - 1e-9);
	if (observed < 1)
		observed = 1;
	if (observed > days)
		observed = days;
	for (int h = 0; h < 24; h++)
		ret_per_hour[h] = (double)count[h] / observed;
	return used;
}

/* swap_ready_by() with minus[i] taken off the expected swaps of the i-th hour from now's
 * (minus NULL: none; an hour expects at least 0). */
static size_t ready_by(const double per_hour[24], const double *minus, int64_t now_ms,
		       int utc_offset_min, size_t n, int64_t fallback_ms, int64_t *ret_ready_ms)
{
	int64_t hour_start = now_ms - (now_ms + utc_offset_min * 60000LL) % HOUR_MS;
	double cum = 0;
	size_t k = 0;

	for (int i = 0; i < 24 && k < n; i++) {
		int64_t t = hour_start + i * HOUR_MS;
		/* of the current hour only what is left: the swaps of its past are done */
		double left = i ? 1.0 : (double)(t + HOUR_MS - now_ms) / (double)HOUR_MS;
		double e = per_hour[local_hour(t, utc_offset_min)] * left - (minus ? minus[i] : 0);

		cum += e > 0 ? e : 0;
		/* the demand expected up to this hour, rounded: packs k with k + 1/2 <= cum are
		 * needed by its start */
		while (k < n && (double)k + 0.5 <= cum + 1e-9)
			ret_ready_ms[k++] = t < now_ms ? now_ms : t;
	}
	for (size_t j = k; j < n; j++)
		ret_ready_ms[j] = fallback_ms;
	return k;
}

size_t swap_ready_by(const double per_hour[24], int64_t now_ms, int utc_offset_min, size_t n,
		     int64_t fallback_ms, int64_t *ret_ready_ms)
{
	return ready_by(per_hour, NULL, now_ms, utc_offset_min, n, fallback_ms, ret_ready_ms);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

size_t swap_ready_by_booked(const double per_hour[24], const int64_t *booked_ms, size_t n_booked,
			    int64_t now_ms, int utc_offset_min, size_t n, int64_t fallback_ms,
			    int64_t *ret_ready_ms)
{
	int64_t hour_start = now_ms - (now_ms + utc_offset_min * 60000LL) % HOUR_MS;
	double minus[24] = {0};
	int64_t *bk, *fc;
	size_t nb = 0, m, i = 0, j = 0, k = 0;

	if (!n_booked)
		return swap_ready_by(per_hour, now_ms, utc_offset_min, n, fallback_ms,
				     ret_ready_ms);
	bk = calloc(n_booked, sizeof(*bk));
	fc = calloc(n ? n : 1, sizeof(*fc));
	if (!bk || !fc) { /* without memory: the forecast alone */
		free(bk);
		free(fc);
		return swap_ready_by(per_hour, now_ms, utc_offset_min, n, fallback_ms,
				     ret_ready_ms);
	}
	/* the bookings due within 24 h (an overdue one now): each is one of its hour's
	 * expected swaps */
	for (size_t b = 0; b < n_booked; b++) {
		int64_t t = booked_ms[b] < now_ms ? now_ms : booked_ms[b];

		if (t >= hour_start + DAY_MS)
			continue;
		minus[(t - hour_start) / HOUR_MS] += 1.0;
		bk[nb++] = t;
	}
	qsort(bk, nb, sizeof(*bk), cmp_i64);
	m = ready_by(per_hour, minus, now_ms, utc_offset_min, n, INT64_MAX, fc);
	/* merged in time order, a booking before a forecast swap of the same time */
	while (k < n && (i < nb || j < m)) {
		if (j >= m || (i < nb && bk[i] <= fc[j]))
			ret_ready_ms[k++] = bk[i++];
		else
			ret_ready_ms[k++] = fc[j++];
	}
	m = k;
	for (; k < n; k++)
		ret_ready_ms[k] = fallback_ms;
	free(bk);
	free(fc);
	return m;
}

static bool cheap_tier(int tier)
{
	return tier == TARIFF_TIER_DEEP_VALLEY || tier == TARIFF_TIER_VALLEY;
}

int64_t swap_cheap_end(const struct tariff_calendar *cal, int64_t from_ms)
{
	int64_t t = from_ms, limit = from_ms + 2 * DAY_MS;
	bool in_window = false;

	while (cal && t < limit) {
		struct tariff_point pt;
		int64_t next;

		if (tariff_calendar_at(cal, t, &pt) < 0)
			break;
		if (cheap_tier(pt.tier))
			in_window = true;
		else if (in_window)
			return t;
		if (tariff_calendar_next_boundary(cal, t, &next) < 0 || next <= t)
			break;
		t = next;
	}
	return from_ms + DAY_MS;
}

bool swap_pack_full(const struct swap_policy *pol, const struct swap_rack_need *need,
		    int64_t now_ms)
{
	return need->planned_ready_ms > 0 && need->planned_ready_ms <= now_ms &&
	       need->planned_ready_ms - need->planned_at_ms >=
		   swap_charge_ms(pol, need->capacity_wh, need->soc);
}

static int cmp_best(const void *a, const void *b)
{
	const struct swap_rack_need *x = a, *y = b;

	if (x->full != y->full)
		return x->full ? -1 : 1;
	if (x->in_ms != y->in_ms)
		return x->in_ms < y->in_ms ? -1 : 1;
	return x->evse_id - y->evse_id;
}

size_t swap_rack_allocate(const struct swap_policy *pol, const double per_hour[24], int64_t now_ms,
			  int utc_offset_min, struct swap_rack_need *packs, size_t n)
{
	return swap_rack_allocate_booked(pol, per_hour, NULL, 0, now_ms, utc_offset_min, packs, n);
}

size_t swap_rack_allocate_booked(const struct swap_policy *pol, const double per_hour[24],
				 const int64_t *booked_ms, size_t n_booked, int64_t now_ms,
				 int utc_offset_min, struct swap_rack_need *packs, size_t n)
{
	int64_t *swaps;
	size_t m, served = 0;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		packs[i].full = swap_pack_full(pol, &packs[i], now_ms);
	if (n > 1)
		qsort(packs, n, sizeof(packs[0]), cmp_best);
	/* the forecast swaps in time order; without memory for them, none (all cheap) */
	swaps = calloc(n, sizeof(*swaps));
	m = swaps ? swap_ready_by_booked(per_hour, booked_ms, n_booked, now_ms, utc_offset_min, n,
					 INT64_MAX, swaps)
		  : 0;
	for (size_t k = 0; k < n; k++) {
		struct swap_rack_need *p = &packs[k];
		int64_t cheap = p->cheap_ms;

		/* a pack on its way to a "ready by" it can make keeps it when that is sooner: its
		 * cheap_ms counts its charging from the SoC as racked, and a later deadline put
		 * off the rest of a pack charged in the valley to the next day's */
		if (!p->full && p->planned_ready_ms > now_ms && p->planned_ready_ms < cheap &&
		    p->planned_ready_ms - p->planned_at_ms >=
			swap_charge_ms(pol, p->capacity_wh, p->soc))
			cheap = p->planned_ready_ms;
		p->forecast = k < m && (p->full || swaps[k] <= cheap);
		if (p->full)
			p->ready_ms = p->planned_ready_ms;
		else if (p->forecast)
			p->ready_ms = swaps[k];
		else
			p->ready_ms = cheap;
		served += p->forecast;
	}
	free(swaps);
	return served;
}

/* ---------------------------------------------------------------- records */

struct pack_copy {
	bool found;
	char type[64];
	int64_t capacity_wh, cycles, production_ms, in_ms;
	double soh;
};

static int pack_copy_fn(const struct store_swap_pack *row, void *ud)
{
	struct pack_copy *c = ud;

	c->found = true;
	snprintf(c->type, sizeof(c->type), "%s", row->type ? row->type : "");
	c->capacity_wh = row->capacity_wh;
	c->cycles = row->cycles;
	c->production_ms = row->production_ms;
	c->in_ms = row->in_ms;
	c->soh = row->soh;
	return 0;
}

struct order_copy {
	bool found;
	struct store_swap_order o;
	char vehicle[256], packs_out[SERIALS_MAX], packs_in[SERIALS_MAX], tier[24], state[16];
};

static int order_copy_fn(const struct store_swap_order *row, void *ud)
{
	struct order_copy *c = ud;

	c->found = true;
	c->o = *row;
	snprintf(c->vehicle, sizeof(c->vehicle), "%s", row->vehicle ? row->vehicle : "");
	snprintf(c->packs_out, sizeof(c->packs_out), "%s", row->packs_out ? row->packs_out : "");
	snprintf(c->packs_in, sizeof(c->packs_in), "%s", row->packs_in ? row->packs_in : "");
	snprintf(c->tier, sizeof(c->tier), "%s", row->tier ? row->tier : "");
	snprintf(c->state, sizeof(c->state), "%s", row->state ? row->state : "open");
	c->o.vehicle = c->vehicle;
	c->o.packs_out = c->packs_out;
	c->o.packs_in = c->packs_in;
	c->o.tier = c->tier;
	c->o.state = c->state;
	return 0;
}

/* Was a pack forecast ready at the station just now? */
struct promise_ctx {
	const struct swap_policy *pol;
	int64_t now_ms;
	bool ready;
};

static int promise_fn(const struct swap_rack_need *need, void *ud)
{
	struct promise_ctx *c = ud;

	if (swap_pack_full(c->pol, need, c->now_ms))
		c->ready = true;
	return 0;
}

/* The booking a new order serves: the open one requested with its request id (whatever id
 * token the request named), else the vehicle's first in the station's queue. */
struct booking_pick {
	int64_t request_id;
	const char *vehicle;
	struct store_swap_booking b;
	char station[128], vehicle_buf[256];
	bool found, exact;
};

static int booking_pick_fn(const struct store_swap_booking *row, void *ud)
{
	struct booking_pick *c = ud;
	bool exact = !strcmp(row->state, "requested") && row->request_id == c->request_id;

	if ((!exact && strcmp(row->vehicle, c->vehicle) != 0) || c->exact || (c->found && !exact))
		return 0;
	c->found = true;
	c->exact = exact;
	c->b = *row;
	snprintf(c->station, sizeof(c->station), "%s", row->station_id);
	snprintf(c->vehicle_buf, sizeof(c->vehicle_buf), "%s", row->vehicle);
	c->b.station_id = c->station;
	c->b.vehicle = c->vehicle_buf;
	return 0;
}

/* The open booking at station_id a new order of vehicle and request_id serves (booking_pick)
 * becomes served with that request id; its id into *ret_id (0 if none). 0 or a store
 * error. */
static int booking_take(struct store *store, const char *station_id, const char *vehicle,
			int64_t request_id, int64_t *ret_id)
{
	struct booking_pick c = {.request_id = request_id, .vehicle = vehicle};
	int r = store_swap_bookings_open(store, station_id, NULL, booking_pick_fn, &c);

	if (r < 0)
		return r;
	*ret_id = 0;
	if (!c.found)
		return 0;
	c.b.state = "served";
	c.b.request_id = request_id;
	r = store_swap_booking_put(store, &c.b, NULL);
	if (r < 0)
		return r;
	*ret_id = c.b.id;
	return 0;
}

static int boot_fn(const struct store_station_row *row, void *ud)
{
	*(int64_t *)ud = row->last_boot_ms;
	return 0;
}

int swap_event_record(struct svc *s, const char *station_id, const struct swap_event *ev_in,
		      const struct tariff_calendar *cal, const struct swap_policy *pol,
		      struct swap_order_info *ret)
{
	struct store *store = svc_store(s);
	struct swap_event at, *ev = &at;
	struct order_copy oc = {0};
	char serials[SERIALS_MAX] = "";
	int64_t energy = 0;
	double soc_sum = 0;
	size_t len = 0;
	int r;

	if (!station_id || !ev_in || !pol || ev_in->type < 0 || ev_in->type >= _SWAP_EVENT_MAX ||
	    ev_in->n_batteries < 1 || ev_in->n_batteries > SWAP_BATTERIES_MAX)
		return -EINVAL;
	if (ev_in->stock && ev_in->type != SWAP_BATTERY_IN)
		return -EINVAL;
	/* the station's stated time within bounds (docs/swap.md), else the arrival */
	at = *ev_in;
	if (at.stated_ms > 0) {
		int64_t boot = 0;

		r = store_stations_list(store, station_id, 1, 0, boot_fn, &boot);
		if (r < 0 && r != -ENOENT)
			return r;
		at.ts_ms = swap_event_time(at.stated_ms, at.ts_ms, boot);
	}
	r = ev->stock ? -ENOENT
		      : store_swap_order_get(store, station_id, ev->request_id, order_copy_fn, &oc);
	if (r < 0 && r != -ENOENT)
		return r;
	if (!oc.found) {
		oc.o = (struct store_swap_order){
		    .station_id = station_id,
		    .request_id = ev->request_id,
		    .vehicle = ev->id_token ? ev->id_token : "",
		    .packs_out = "",
		    .packs_in = "",
		    .soc_out = -1,
		    .soc_in = -1,
		    .energy_out_wh = -1,
		    .energy_in_wh = -1,
		    .tier = "",
		    .state = "open",
		    .promised_soc = -1,
		    .created_ms = ev->ts_ms,
		};
	}
	oc.o.station_id = station_id;
	if (!oc.found && ev->id_token && *ev->id_token) {
		r = booking_take(store, station_id, ev->id_token, ev->request_id, &oc.o.booking_id);
		if (r < 0)
			return r;
	}
	if (ev->type == SWAP_BATTERY_OUT) {
		struct promise_ctx pc = {.pol = pol, .now_ms = ev->ts_ms};

		r = swap_rack_needs(s, station_id, cal, pol, promise_fn, &pc);
		if (r < 0)
			return r;
		oc.o.promised_soc = pc.ready ? pol->promised_soc : -1;
	}
	for (size_t i = 0; i < ev->n_batteries; i++) {
		const struct swap_battery *b = &ev->batteries[i];
		struct pack_copy pk = {0};
		struct store_swap_pack p;
		int64_t e;

		if (!b->serial || !*b->serial || strlen(b->serial) > SWAP_SERIAL_MAX ||
		    b->soc < 0 || b->soc > 100 || b->soh < 0 || b->soh > 100)
			return -EINVAL;
		r = store_swap_packs_list(store, NULL, b->serial, pack_copy_fn, &pk);
		if (r < 0 && r != -ENOENT)
			return r;
		p = (struct store_swap_pack){
		    .serial = b->serial,
		    .station_id = station_id,
		    .type = b->type ? b->type : pk.type,
		    .capacity_wh = b->capacity_wh > 0 ? b->capacity_wh : pk.capacity_wh,
		    .soc = b->soc,
		    .soh = b->soh,
		    .cycles = pk.cycles,
		    .location = "slot",
		    .evse_id = b->evse_id,
		    .vehicle = "",
		    .production_ms = b->production_ms ? b->production_ms : pk.production_ms,
		    .in_ms = pk.in_ms,
		    .flagged = b->soh < pol->soh_flag_below,
		    .updated_ms = ev->ts_ms,
		};
		if (ev->type == SWAP_BATTERY_IN) {
			p.cycles++; /* back from a discharge */
			p.in_ms = ev->ts_ms;
		} else if (ev->type == SWAP_BATTERY_OUT) {
			p.location = "vehicle";
			p.evse_id = 0;
			p.vehicle = oc.o.vehicle;
		}
		r = store_swap_pack_put(store, &p);
		if (r < 0)
			return r;
		e = swap_pack_energy_wh(p.capacity_wh, b->soc);
		energy = e < 0 || energy < 0 ? -1 : energy + e;
		soc_sum += b->soc;
		len += (size_t)snprintf(serials + len, sizeof(serials) - len, "%s%s", i ? "," : "",
					b->serial);
	}
	if (ev->stock) {
		if (ret)
			*ret = (struct swap_order_info){
			    .tier = -1, .energy_out_wh = -1, .energy_in_wh = energy};
		return 0;
	}
	switch (ev->type) {
	case SWAP_BATTERY_IN:
		snprintf(oc.packs_in, sizeof(oc.packs_in), "%s", serials);
		oc.o.packs_in = oc.packs_in;
		oc.o.soc_in = soc_sum / (double)ev->n_batteries;
		oc.o.energy_in_wh = energy;
		oc.o.in_ms = ev->ts_ms;
		break;
	case SWAP_BATTERY_OUT:
		snprintf(oc.packs_out, sizeof(oc.packs_out), "%s", serials);
		oc.o.packs_out = oc.packs_out;
		oc.o.soc_out = soc_sum / (double)ev->n_batteries;
		oc.o.energy_out_wh = energy;
		oc.o.out_ms = ev->ts_ms;
		break;
	default:
		if (strcmp(oc.o.state, "complete") != 0) {
			oc.o.state = "timeout";
			oc.o.done_ms = ev->ts_ms;
		}
		break;
	}
	if (oc.o.in_ms && oc.o.out_ms && strcmp(oc.o.state, "timeout") != 0) {
		struct tariff_point pt;

		oc.o.state = "complete";
		oc.o.done_ms = ev->ts_ms;
		oc.o.tier = "";
		oc.o.delta_wh = oc.o.cost_fen = oc.o.price_fen_per_mwh = 0;
		if (cal && tariff_calendar_at(cal, ev->ts_ms, &pt) == 0 &&
		    swap_bill(oc.o.energy_out_wh, oc.o.energy_in_wh, &pt, &oc.o.delta_wh,
			      &oc.o.cost_fen) == 0) {
			oc.o.tier = tariff_tier_to_string(pt.tier);
			oc.o.price_fen_per_mwh = pt.import_fen_per_mwh + pt.service_fen_per_mwh;
		}
	}
	r = store_swap_order_put(store, &oc.o, oc.found ? NULL : &oc.o.id);
	if (r < 0)
		return r;
	if (ret) {
		*ret = (struct swap_order_info){
		    .id = oc.o.id,
		    .booking_id = oc.o.booking_id,
		    .complete = !strcmp(oc.o.state, "complete"),
		    .timeout = !strcmp(oc.o.state, "timeout"),
		    .energy_out_wh = oc.o.energy_out_wh,
		    .energy_in_wh = oc.o.energy_in_wh,
		    .delta_wh = oc.o.delta_wh,
		    .tier = *oc.o.tier ? tariff_tier_from_string(oc.o.tier) : -1,
		    .cost_fen = oc.o.cost_fen,
		};
	}
	return 0;
}

/* ---------------------------------------------------------------- the rack */

struct rack {
	size_t n, cap;
	struct swap_rack_need *packs;
	char (*serials)[SWAP_SERIAL_MAX + 1];
};

static int rack_fn(const struct store_swap_pack *row, void *ud)
{
	struct rack *k = ud;

	if (strcmp(row->location, "slot") != 0)
		return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 16;
		struct swap_rack_need *p = realloc(k->packs, cap * sizeof(*p));
		char(*sr)[SWAP_SERIAL_MAX + 1];

		if (!p)
			return -ENOMEM;
		k->packs = p;
		sr = realloc(k->serials, cap * sizeof(*sr));
		if (!sr)
			return -ENOMEM;
		k->serials = sr;
		k->cap = cap;
	}
	snprintf(k->serials[k->n], sizeof(k->serials[0]), "%s", row->serial);
	k->packs[k->n++] = (struct swap_rack_need){
	    .evse_id = row->evse_id,
	    .capacity_wh = row->capacity_wh,
	    .soc = row->soc,
	    .in_ms = row->in_ms,
	    .planned_ready_ms = row->ready_ms,
	    .planned_at_ms = row->ready_set_ms,
	};
	return 0;
}

struct times {
	size_t n, cap;
	int64_t *t;
};

static int times_fn(const struct store_swap_order *row, void *ud)
{
	struct times *t = ud;

	if (strcmp(row->state, "complete") != 0)
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		int64_t *p = realloc(t->t, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->t = p;
		t->cap = cap;
	}
	t->t[t->n++] = row->done_ms;
	return 0;
}

int swap_forecast_station(struct svc *s, const char *station_id, const struct tariff_calendar *cal,
			  const struct swap_policy *pol, double ret_per_hour[24])
{
	int64_t now = svc_now_ms(s);
	struct times tm = {0};
	int r;

	r = store_swap_orders_list(svc_store(s), station_id, now - pol->forecast_days * DAY_MS, now,
				   times_fn, &tm);
	if (r >= 0)
		r = swap_forecast(tm.t, tm.n, now, cal ? cal->utc_offset_min : 0,
				  pol->forecast_days, ret_per_hour);
	free(tm.t);
	return r < 0 ? r : 0;
}

static int due_fn(const struct store_swap_booking *row, void *ud)
{
	struct times *t = ud;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		int64_t *p = realloc(t->t, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->t = p;
		t->cap = cap;
	}
	t->t[t->n++] = row->due_ms;
	return 0;
}

int swap_rack_needs(struct svc *s, const char *station_id, const struct tariff_calendar *cal,
		    const struct swap_policy *pol, swap_rack_fn fn, void *ud)
{
	struct store *store = svc_store(s);
	int64_t now = svc_now_ms(s);
	int offset = cal ? cal->utc_offset_min : 0;
	struct rack k = {0};
	struct times booked = {0};
	double per_hour[24];
	int r;

	r = store_swap_packs_list(store, station_id, NULL, rack_fn, &k);
	if (r < 0)
		goto out;
	/* the queue: each open booking is a swap due at its time */
	r = store_swap_bookings_open(store, station_id, NULL, due_fn, &booked);
	if (r < 0)
		goto out;
	r = swap_forecast_station(s, station_id, cal, pol, per_hour);
	if (r < 0)
		goto out;
	/* serials are pointed at once the array no longer moves; they travel with the sort. A
	 * pack's cheap window is the first it can be charged by, at the slot power from now. */
	for (size_t i = 0; i < k.n; i++) {
		struct swap_rack_need *p = &k.packs[i];

		p->serial = k.serials[i];
		p->cheap_ms =
		    swap_cheap_end(cal, now + swap_charge_ms(pol, p->capacity_wh, p->soc));
	}
	swap_rack_allocate_booked(pol, per_hour, booked.t, booked.n, now, offset, k.packs, k.n);
	for (size_t i = 0; i < k.n; i++) {
		r = fn(&k.packs[i], ud);
		if (r < 0)
			goto out;
	}
	r = (int)k.n;
out:
	free(booked.t);
	free(k.packs);
	free(k.serials);
	return r;
}

int swap_rack_commit(struct svc *s, const struct swap_rack_need *need)
{
	if (need->ready_ms == need->planned_ready_ms)
		return 0;
	return store_swap_pack_ready_set(svc_store(s), need->serial, need->ready_ms, svc_now_ms(s));
}

/* ---------------------------------------------------------------- the day report */

static int report_fn(const struct store_swap_order *row, void *ud)
{
	struct swap_day_report *d = ud;
	int tier;

	if (!strcmp(row->state, "timeout")) {
		d->timeouts++;
		return 0;
	}
	if (strcmp(row->state, "complete") != 0) {
		d->open++;
		return 0;
	}
	d->swaps++;
	if (row->promised_soc >= 0) {
		d->promised++;
		if (row->soc_out + 1e-9 >= row->promised_soc)
			d->ready_on_time++;
	}
	tier = *row->tier ? tariff_tier_from_string(row->tier) : -1;
	if (tier < 0) {
		d->unbilled++;
		return 0;
	}
	d->delta_wh += row->delta_wh;
	d->cost_fen += row->cost_fen;
	d->wh_by_tier[tier] += row->delta_wh;
	return 0;
}

int swap_day_report(struct svc *s, const char *station_id, int64_t from_ms, int64_t to_ms,
		    struct swap_day_report *ret)
{
	struct swap_day_report d = {0};
	int r = store_swap_orders_list(svc_store(s), station_id, from_ms, to_ms, report_fn, &d);

	if (r < 0)
		return r;
	*ret = d;
	return 0;
}
