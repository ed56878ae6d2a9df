/* SPDX-License-Identifier: MIT */
/* Battery-swap stations (svc/swap.c): the bill of a swap, the demand forecast and "ready by"
 * times (hand-computed), order accounting through the store (BatteryIn + BatteryOut joined by a
 * requestId, billed at the tier of the time of swap, packs moved and flagged), the day report,
 * and the 2.1 schemas embedded from typed-ocpp. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "ocpp.h"
#include "store/store.h"
#include "svc/svc.h"
#include "svc/swap.h"
#include "svc/tariff.h"
#include "tariff_json.h"

#define H 3600000LL
#define M 60000LL

/* ---------------------------------------------------------------- pure functions */

static void test_bill(void **state)
{
	struct tariff_point pt = {
	    .tier = TARIFF_TIER_VALLEY, .import_fen_per_mwh = 19500, .service_fen_per_mwh = 40000};
	int64_t delta, cost;

	(void)state;
	/* 282 kWh pack out at 95 %, in at 20 %: 267,900 - 56,400 = 211,500 Wh at 59,500 fen/MWh
	 * = 12,584.25 fen -> 12,584 */
	assert_int_equal(swap_bill(267900, 56400, &pt, &delta, &cost), 0);
	assert_int_equal(delta, 211500);
	assert_int_equal(cost, 12584);
	/* a vehicle bringing more than it takes is credited, rounded half away from zero:
	 * -10 Wh * 50,000 = -0.5 fen -> -1 */
	pt.import_fen_per_mwh = 10000;
	assert_int_equal(swap_bill(100, 110, &pt, &delta, &cost), 0);
	assert_int_equal(delta, -10);
	assert_int_equal(cost, -1);
	assert_int_equal(swap_bill(-1, 100, &pt, &delta, &cost), -EINVAL);
	assert_int_equal(swap_pack_energy_wh(282000, 95.0), 267900);
	assert_int_equal(swap_pack_energy_wh(0, 95.0), -1);
	assert_int_equal(swap_pack_energy_wh(282000, -1), -1);
}

static void test_forecast(void **state)
{
	/* now = day 3, 00:00 UTC; swaps at 06:10 and 06:40 of days 1 and 2, one at 14:20 of day
	 * 2, one at 14:05 of day 3 (the future: ignored) and one 20 days ago (outside 14 days) */
	int64_t d0 = 1795000000000LL - 1795000000000LL % (24 * H), now = d0 + 3 * 24 * H;
	int64_t t[] = {d0 + 24 * H + 6 * H + 10 * M,
		       d0 + 24 * H + 6 * H + 40 * M,
		       d0 + 48 * H + 6 * H + 10 * M,
		       d0 + 48 * H + 6 * H + 40 * M,
		       d0 + 48 * H + 14 * H + 20 * M,
		       now + 14 * H + 5 * M,
		       now - 20 * 24 * H};
	double f[24];

	(void)state;
	assert_int_equal(swap_forecast(t, 7, now, 0, 14, f), 5);
	/* observed: from the first swap (day 1 06:10) to now = 1.74 days -> 2 days */
	assert_true(f[6] > 2.0 - 1e-9 && f[6] < 2.0 + 1e-9);
	assert_true(f[14] > 0.5 - 1e-9 && f[14] < 0.5 + 1e-9);
	assert_true(f[0] == 0 && f[13] == 0 && f[15] == 0);
	/* local time: at UTC+08:00 the 06 h swaps are 14 h local */
	assert_int_equal(swap_forecast(t, 7, now, 480, 14, f), 5);
	assert_true(f[14] > 2.0 - 1e-9 && f[22] > 0.5 - 1e-9);
	/* no history: nothing expected */
	assert_int_equal(swap_forecast(NULL, 0, now, 0, 14, f), 0);
	for (int h = 0; h < 24; h++)
		assert_true(f[h] == 0);
	assert_int_equal(swap_forecast(t, 7, now, 0, 0, f), -EINVAL);
}

static void test_ready_by(void **state)
{
	double f[24] = {0};
	int64_t d0 = 1795000000000LL - 1795000000000LL % (24 * H), now = d0 + 5 * H + 20 * M;
	int64_t r[6];

	(void)state;
	f[6] = 2.0;  /* two trucks in the 06 h */
	f[14] = 0.5; /* half a truck at 14 h: rounds to one pack by then */
	f[22] = 0.4; /* less than half: no pack needed by 22 h from it alone */
	assert_int_equal(swap_ready_by(f, now, 0, 6, d0 + 38 * H, r), 3);
	assert_int_equal(r[0], d0 + 6 * H);
	assert_int_equal(r[1], d0 + 6 * H);
	assert_int_equal(r[2], d0 + 14 * H);
	/* 2.5 + 0.4 = 2.9 < 3.5: the rest charge by the valley's end */
	assert_int_equal(r[3], d0 + 38 * H);
	assert_int_equal(r[5], d0 + 38 * H);
	/* demand in the current hour: ready now, not at the hour's start in the past */
	f[5] = 1.0;
	assert_int_equal(swap_ready_by(f, now, 0, 1, d0 + 38 * H, r), 1);
	assert_int_equal(r[0], now);
}

/* The queue as demand: a booking is a swap at its due time and one of its hour's expected. */
static void test_ready_by_booked(void **state)
{
	double f[24] = {0};
	int64_t d0 = 1795000000000LL - 1795000000000LL % (24 * H), now = d0 + 5 * H + 20 * M;
	int64_t r[6], booked[4];

	(void)state;
	f[6] = 2.0; /* two trucks in the 06 h */
	f[14] = 0.5;
	/* one of the 06 h trucks booked for 06:40: 06:00 (the other forecast one), then 06:40,
	 * then the 14 h one */
	booked[0] = d0 + 6 * H + 40 * M;
	assert_int_equal(swap_ready_by_booked(f, booked, 1, now, 0, 6, d0 + 38 * H, r), 3);
	assert_int_equal(r[0], d0 + 6 * H);
	assert_int_equal(r[1], d0 + 6 * H + 40 * M);
	assert_int_equal(r[2], d0 + 14 * H);
	assert_int_equal(r[3], d0 + 38 * H);
	/* bookings beyond the forecast: an overdue one now, one at 10:15 (an hour without
	 * forecast), one due in two days (left out); the 06 h hour booked twice: none more */
	booked[0] = d0 + 4 * H;
	booked[1] = d0 + 10 * H + 15 * M;
	booked[2] = d0 + 48 * H;
	booked[3] = d0 + 6 * H + 5 * M;
	f[6] = 1.0;
	assert_int_equal(swap_ready_by_booked(f, booked, 4, now, 0, 6, d0 + 38 * H, r), 4);
	assert_int_equal(r[0], now);
	assert_int_equal(r[1], d0 + 6 * H + 5 * M);
	assert_int_equal(r[2], d0 + 10 * H + 15 * M);
	assert_int_equal(r[3], d0 + 14 * H);
	assert_int_equal(r[4], d0 + 38 * H);
	/* fewer packs than demand: the first ones */
	assert_int_equal(swap_ready_by_booked(f, booked, 4, now, 0, 2, d0 + 38 * H, r), 2);
	assert_int_equal(r[1], d0 + 6 * H + 5 * M);
	/* no bookings: swap_ready_by */
	assert_int_equal(swap_ready_by_booked(f, NULL, 0, now, 0, 6, d0 + 38 * H, r), 2);
	assert_int_equal(r[0], d0 + 6 * H);
}

/* The rack's allocation (issue 11): the forecast swaps in time order take the packs best first;
 * full packs keep their time, the packs a swap needs get its time, the rest their cheap end. */
static void test_rack_allocate(void **state)
{
	double f[24] = {0};
	int64_t d0 = 1795000000000LL - 1795000000000LL % (24 * H), now = d0 + 23 * H;
	int64_t cheap = d0 + 24 * H + 15 * H; /* tomorrow's valley ends at 15 h */
	struct swap_rack_need p[12];
	struct swap_policy pol;

	(void)state;
	swap_policy_default(&pol);
	f[6] = 5.0; /* waves of five trucks at 06, 14 and 22 h */
	f[14] = 5.0;
	f[22] = 5.0;
	/* at 23 h: 7 packs charged in today's valley (ready by 15 h, planned since 06 h: 9 h
	 * for a pack at 20 % that needs 3.8 h), listed newest first; 5 depleted packs racked
	 * at 22 h, one of them planned for 01 h since 22 h (too short a time to count) */
	for (int i = 0; i < 12; i++) {
		bool charged = i >= 5;

		p[i] = (struct swap_rack_need){
		    .evse_id = i + 1,
		    .capacity_wh = 282000,
		    .soc = 20.0,
		    .in_ms = charged ? d0 + 6 * H + (12 - i) * M : d0 + 22 * H + i * M,
		    .planned_ready_ms = charged ? d0 + 15 * H : 0,
		    .planned_at_ms = charged ? d0 + 6 * H : 0,
		    .cheap_ms = cheap,
		};
	}
	p[0].planned_ready_ms = d0 + 25 * H;
	p[0].planned_at_ms = d0 + 22 * H; /* 3 h: short of the 3 h 47 min it needs at 60 kW */
	/* swaps: 06 h x5 (k 0-4), 14 h x5 (k 5-9), 22 h x2 (k 10, 11) */
	assert_int_equal(swap_rack_allocate(&pol, f, now, 0, p, 12), 10);
	for (int k = 0; k < 7; k++) { /* the full ones first, oldest racked first */
		assert_true(p[k].full && p[k].forecast);
		assert_int_equal(p[k].ready_ms, d0 + 15 * H); /* kept */
		assert_true(k == 0 || p[k].in_ms > p[k - 1].in_ms);
	}
	/* three of the 14 h wave's packs come from the depleted: ready for it, so charged in
	 * tomorrow's cheap hours before 14 h */
	for (int k = 7; k < 10; k++) {
		assert_false(p[k].full);
		assert_true(p[k].forecast);
		assert_int_equal(p[k].ready_ms, d0 + 24 * H + 14 * H);
	}
	/* the 22 h wave's two come after the valley: ready by its end */
	for (int k = 10; k < 12; k++) {
		assert_false(p[k].forecast);
		assert_int_equal(p[k].ready_ms, cheap);
	}
	/* racked first among the depleted: evse 1 (p[0] above, its 06 h not yet come) */
	assert_int_equal(p[7].evse_id, 1);

	/* a pack on its way to a "ready by" it can make keeps it when sooner than its cheap
	 * end: evse 1 planned for 01 h since 21 h (4 h for the 3 h 47 min it needs) */
	for (int k = 0; k < 12; k++)
		if (p[k].evse_id == 1)
			p[k].planned_at_ms = d0 + 21 * H;
	assert_int_equal(swap_rack_allocate(&pol, f, now, 0, p, 12), 9);
	assert_int_equal(p[7].evse_id, 1);
	assert_false(p[7].forecast); /* the 14 h swap it was to serve comes after 01 h */
	assert_int_equal(p[7].ready_ms, d0 + 25 * H);

	/* a small rack (5 packs, none full) serves the 06 h wave from the night's flat hours:
	 * the packs a swap needs are ready for it whatever the tier */
	for (int i = 0; i < 5; i++)
		p[i] = (struct swap_rack_need){.evse_id = i + 1,
					       .capacity_wh = 282000,
					       .soc = 20.0,
					       .in_ms = d0 + 22 * H,
					       .cheap_ms = cheap};
	assert_int_equal(swap_rack_allocate(&pol, f, now, 0, p, 5), 5);
	for (int k = 0; k < 5; k++)
		assert_int_equal(p[k].ready_ms, d0 + 24 * H + 6 * H);
	/* no forecast (a new station): everything by the cheap window's end */
	memset(f, 0, sizeof(f));
	assert_int_equal(swap_rack_allocate(&pol, f, now, 0, p, 5), 0);
	for (int k = 0; k < 5; k++)
		assert_int_equal(p[k].ready_ms, cheap);
	assert_int_equal(swap_rack_allocate(&pol, f, now, 0, NULL, 0), 0);
}

/* A pack is full once its "ready by" came with the time to charge it before. */
static void test_pack_full(void **state)
{
	struct swap_policy pol;
	struct swap_rack_need n = {.capacity_wh = 282000, .soc = 20.0};
	int64_t need;

	(void)state;
	swap_policy_default(&pol);
	need = swap_charge_ms(&pol, 282000, 20.0);
	assert_false(swap_pack_full(&pol, &n, 10 * H)); /* never planned */
	n.planned_at_ms = H;
	n.planned_ready_ms = H + need;
	assert_false(swap_pack_full(&pol, &n, H + need - 1)); /* not yet */
	assert_true(swap_pack_full(&pol, &n, H + need));
	n.planned_at_ms = H + 1; /* one ms short of the time it needs */
	assert_false(swap_pack_full(&pol, &n, 10 * H));
	/* the stated slot power counts: at 120 kW it needs less */
	pol.slot_power_w = 120000;
	assert_true(swap_pack_full(&pol, &n, 10 * H));
}

/* The time a station states for an event is taken within bounds (docs/swap.md). */
static void test_event_time(void **state)
{
	int64_t now = 1795000000000LL, boot = now - 2 * H;

	(void)state;
	assert_int_equal(swap_event_time(0, now, boot), now);			  /* not stated */
	assert_int_equal(swap_event_time(now - 10 * M, now, boot), now - 10 * M); /* queued */
	assert_int_equal(swap_event_time(now - 10 * M, now, 0), now - 10 * M);	  /* boot unknown */
	assert_int_equal(swap_event_time(boot - 1, now, boot), now); /* before the boot */
	assert_int_equal(swap_event_time(boot, now, boot), boot);
	/* ahead within the skew: now; beyond it: the station's clock is wrong */
	assert_int_equal(swap_event_time(now + SWAP_CLOCK_SKEW_MS, now, boot), now);
	assert_int_equal(swap_event_time(now + SWAP_CLOCK_SKEW_MS + 1, now, boot), now);
	assert_int_equal(swap_event_time(now + 2 * H, now, boot), now);
}

static void test_charge_ms(void **state)
{
	struct swap_policy pol;

	(void)state;
	swap_policy_default(&pol);
	assert_true(pol.soh_flag_below == 80 && pol.promised_soc == 90);
	/* 282 kWh from 20 % to 90 % = 197.4 kWh at 60 kW = 3.29 h, plus 30 min */
	assert_int_equal(swap_charge_ms(&pol, 282000, 20.0), 11844000 + 30 * M);
	assert_int_equal(swap_charge_ms(&pol, 282000, 95.0), 30 * M);
	assert_int_equal(swap_charge_ms(&pol, 0, 20.0), 24 * H);
}

/* ---------------------------------------------------------------- through the store */

struct fx {
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	struct tariff_calendar *cal;
	int64_t day; /* local midnight (UTC+08:00) of 2026-11-20: autumn tiers */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[TARIFF_JSON_ERR_MAX];

	assert_non_null(f);
	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->store = store_open(":memory:", false, err, sizeof(err));
	assert_non_null(f->store);
	assert_int_equal(tariff_json_load_file(TOP_SRCDIR
					       "/docs/tariffs/example-shandong-commercial.json",
					       &f->cal, err),
			 0);
	assert_int_equal(tariff_calendar_local_midnight(f->cal, 2026, 11, 20, &f->day), 0);
	f->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = f->day + 12 * H};
	f->svc = svc_create(f->store, &f->clock, &f->cfg);
	assert_non_null(f->svc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	svc_destroy(f->svc);
	store_close(f->store);
	tariff_calendar_destroy(f->cal);
	cfg_free(&f->cfg);
	free(f);
	return 0;
}

static void event(struct fx *f, int type, int64_t rid, const char *tok, int evse,
		  const char *serial, double soc, double soh, struct swap_order_info *ret)
{
	struct swap_policy pol;
	struct swap_event ev = {
	    .type = type,
	    .request_id = rid,
	    .id_token = tok,
	    .stock = tok == NULL,
	    .ts_ms = f->clock.fixed_ms,
	    .n_batteries = 1,
	    .batteries = {{.evse_id = evse,
			   .serial = serial,
			   .soc = soc,
			   .soh = soh,
			   .type = "truck-282",
			   .capacity_wh = 282000}},
	};

	swap_policy_default(&pol);
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, ret), 0);
}

struct pack_row {
	char location[16], vehicle[32];
	int evse, n;
	int64_t cycles;
	bool flagged;
};

static int pack_fn(const struct store_swap_pack *p, void *ud)
{
	struct pack_row *r = ud;

	snprintf(r->location, sizeof(r->location), "%s", p->location);
	snprintf(r->vehicle, sizeof(r->vehicle), "%s", p->vehicle);
	r->evse = p->evse_id;
	r->cycles = p->cycles;
	r->flagged = p->flagged;
	r->n++;
	return 0;
}

static int soh_fn(const struct store_swap_soh *h, void *ud)
{
	(void)h;
	(*(int *)ud)++;
	return 0;
}

static int64_t book(struct fx *f, const char *vehicle, int64_t due_ms, int64_t created_ms)
{
	int64_t id = 0;

	assert_int_equal(store_swap_booking_put(f->store,
						&(struct store_swap_booking){
						    .station_id = "SW1",
						    .vehicle = vehicle,
						    .due_ms = due_ms,
						    .state = "queued",
						    .created_ms = created_ms,
						},
						&id),
			 0);
	return id;
}

struct booking_rows {
	int n;
	int64_t id[8];
	char state[8][16];
	int64_t request_id[8];
};

static int booking_fn(const struct store_swap_booking *b, void *ud)
{
	struct booking_rows *c = ud;

	if (c->n < 8) {
		c->id[c->n] = b->id;
		snprintf(c->state[c->n], sizeof(c->state[0]), "%s", b->state);
		c->request_id[c->n] = b->request_id;
	}
	c->n++;
	return 0;
}

static int ready_fn(const struct swap_rack_need *n, void *ud)
{
	*(int64_t *)ud = n->ready_ms;
	return 0;
}

/* Bookings and the queue (issue 11): an order serves its vehicle's open booking, a requested
 * one by its request id first; a booking is demand for the rack. */
static void test_bookings(void **state)
{
	struct fx *f = *state;
	struct swap_order_info o;
	struct swap_policy pol;
	struct booking_rows c = {0};
	int64_t now = f->clock.fixed_ms, b1, b2, b3, b4, ready = 0;

	b1 = book(f, "TRUCK-1", now + 2 * H, now);
	b2 = book(f, "TRUCK-1", now + 1 * H, now + 1); /* due sooner: first in the queue */
	b3 = book(f, "TRUCK-2", now + 3 * H, now);
	b4 = book(f, "TRUCK-3", now + 3 * H, now + 2);
	assert_int_equal(store_swap_bookings_open(f->store, "SW1", NULL, booking_fn, &c), 4);
	assert_true(c.id[0] == b2 && c.id[1] == b1 && c.id[2] == b3 && c.id[3] == b4);

	/* a stocked pack, racked since long enough: the rack's one pack. With no forecast, the
	 * booking due in 1 h is the demand it is ready by */
	event(f, SWAP_BATTERY_IN, 0, NULL, 1, "PK-A", 95, 99, NULL);
	swap_policy_default(&pol);
	assert_int_equal(swap_rack_needs(f->svc, "SW1", f->cal, &pol, ready_fn, &ready), 1);
	assert_int_equal(ready, now + 1 * H);

	/* TRUCK-1's order serves its first booking in the queue (b2) */
	event(f, SWAP_BATTERY_IN, 41, "TRUCK-1", 2, "PK-B", 20, 98, &o);
	assert_int_equal(o.booking_id, b2);
	event(f, SWAP_BATTERY_OUT, 41, "TRUCK-1", 1, "PK-A", 95, 99, &o);
	assert_int_equal(o.booking_id, b2);
	assert_true(o.complete);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_bookings_list(f->store, NULL, b2, 0, booking_fn, &c), 1);
	assert_string_equal(c.state[0], "served");
	assert_int_equal(c.request_id[0], 41);

	/* TRUCK-3's booking requested with request id 77 for another id token: the order of 77
	 * serves it, not TRUCK-2's queued one */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_bookings_list(f->store, NULL, b4, 0, booking_fn, &c), 1);
	assert_int_equal(store_swap_booking_put(f->store,
						&(struct store_swap_booking){
						    .id = b4,
						    .station_id = "SW1",
						    .vehicle = "TRUCK-3",
						    .due_ms = now + 3 * H,
						    .state = "requested",
						    .request_id = 77,
						    .created_ms = now + 2,
						},
						NULL),
			 0);
	event(f, SWAP_BATTERY_IN, 77, "TRUCK-2", 1, "PK-C", 15, 98, &o);
	assert_int_equal(o.booking_id, b4);
	/* a vehicle without a booking: none */
	event(f, SWAP_BATTERY_IN, 78, "VAN-9", 3, "PK-D", 15, 98, &o);
	assert_int_equal(o.booking_id, 0);
	/* the queue: TRUCK-1's later booking and TRUCK-2's, by due time */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_bookings_open(f->store, "SW1", NULL, booking_fn, &c), 2);
	assert_true(c.id[0] == b1 && c.id[1] == b3);
	assert_int_equal(store_commit(f->store), 0);
}

/* A swap site's thresholds (docs/sites.md) make the policy its events are recorded with. */
static void test_site_thresholds(void **state)
{
	struct fx *f = *state;
	struct swap_policy pol;
	struct pack_row pr = {0};
	struct store_site_rec rec = {.id = "PORT",
				     .kind = SITE_SWAP,
				     .local_list = -1,
				     .reservations = -1,
				     .swap_soh_flag_below = 85,
				     .swap_promised_soc = 95};
	struct swap_event ev = {
	    .type = SWAP_BATTERY_IN,
	    .request_id = 5,
	    .id_token = "TRUCK-5",
	    .ts_ms = f->clock.fixed_ms,
	    .n_batteries = 1,
	    .batteries = {{.evse_id = 1, .serial = "PK-82", .soc = 20, .soh = 82}},
	};

	assert_int_equal(swap_policy_site(f->svc, NULL, &pol), 0);
	assert_true(pol.soh_flag_below == 80 && pol.promised_soc == 90);
	assert_int_equal(swap_policy_site(f->svc, "NO-SUCH-SITE", &pol), 0); /* defaults */
	assert_true(pol.soh_flag_below == 80 && pol.promised_soc == 90);
	assert_int_equal(store_site_save(f->store, &rec, true, f->clock.fixed_ms), 0);
	assert_int_equal(swap_policy_site(f->svc, "PORT", &pol), 0);
	assert_true(pol.soh_flag_below == 85 && pol.promised_soc == 95);
	assert_int_equal(pol.slot_power_w, 60000); /* the rest: defaults */
	/* SoH 82: flagged at this site, not under the default 80 % */
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, NULL), 0);
	assert_int_equal(store_swap_packs_list(f->store, NULL, "PK-82", pack_fn, &pr), 1);
	assert_true(pr.flagged);
	/* the promise counts the charge to 95 %: 282 kWh from 20 % at 60 kW, 75 % = 211.5 kWh,
	 * 3 h 31.5 min, plus 30 min */
	assert_int_equal(swap_charge_ms(&pol, 282000, 20.0), 211500LL * 60 + 30 * M);
	assert_int_equal(store_commit(f->store), 0);
}

static void test_order_accounting(void **state)
{
	struct fx *f = *state;
	struct swap_order_info o;
	struct swap_day_report d;
	struct pack_row p = {0};
	int n_soh = 0;

	/* the rack is stocked: a pack with no vehicle makes no order */
	event(f, SWAP_BATTERY_IN, 0, NULL, 3, "PK-A", 95.0, 97.0, &o);
	assert_int_equal(o.id, 0);
	/* 12:30 local, deep valley (6,500 + 40,000 service = 46,500 fen/MWh): truck T1 takes
	 * PK-A at 95 % out of slot 3 ... */
	f->clock.fixed_ms = f->day + 12 * H + 30 * M;
	event(f, SWAP_BATTERY_OUT, 41, "T1", 3, "PK-A", 95.0, 97.0, &o);
	assert_false(o.complete);
	assert_int_equal(o.tier, -1);
	/* ... and its own pack PK-B at 20 % (SoH 78: flagged) goes into slot 3 */
	event(f, SWAP_BATTERY_IN, 41, "T1", 3, "PK-B", 20.0, 78.0, &o);
	assert_true(o.complete);
	assert_int_equal(o.energy_out_wh, 267900);
	assert_int_equal(o.energy_in_wh, 56400);
	assert_int_equal(o.delta_wh, 211500);
	assert_int_equal(o.tier, TARIFF_TIER_DEEP_VALLEY);
	/* 211,500 Wh x 46,500 fen/MWh = 9,834.75 fen */
	assert_int_equal(o.cost_fen, 9835);
	/* where the packs are now */
	assert_int_equal(store_swap_packs_list(f->store, NULL, "PK-A", pack_fn, &p), 1);
	assert_string_equal(p.location, "vehicle");
	assert_string_equal(p.vehicle, "T1");
	assert_int_equal(p.cycles, 1); /* stocked once */
	assert_false(p.flagged);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_swap_packs_list(f->store, NULL, "PK-B", pack_fn, &p), 1);
	assert_string_equal(p.location, "slot");
	assert_int_equal(p.evse, 3);
	assert_true(p.flagged);
	assert_int_equal(store_swap_pack_soh_list(f->store, "PK-B", soh_fn, &n_soh), 1);
	/* the same SoH again adds no history row; a new one does */
	f->clock.fixed_ms += H;
	event(f, SWAP_BATTERY_OUT, 42, "T2", 3, "PK-B", 90.0, 78.0, &o);
	n_soh = 0;
	assert_int_equal(store_swap_pack_soh_list(f->store, "PK-B", soh_fn, &n_soh), 1);
	event(f, SWAP_BATTERY_IN, 42, "T2", 3, "PK-C", 30.0, 88.0, &o);
	assert_true(o.complete);
	/* 13:30: still deep valley */
	assert_int_equal(o.tier, TARIFF_TIER_DEEP_VALLEY);
	/* a swap offered but not taken */
	f->clock.fixed_ms = f->day + 18 * H + 30 * M;
	event(f, SWAP_BATTERY_OUT_TIMEOUT, 43, "T3", 3, "PK-C", 60.0, 88.0, &o);
	assert_true(o.timeout);
	/* an order whose BatteryIn never came stays open */
	event(f, SWAP_BATTERY_OUT, 44, "T4", 3, "PK-C", 60.0, 88.0, &o);
	/* 18:30 is critical peak: the next completion is billed there */
	event(f, SWAP_BATTERY_IN, 44, "T4", 3, "PK-D", 10.0, 99.0, &o);
	assert_int_equal(o.tier, TARIFF_TIER_CRITICAL_PEAK);
	/* 169,200 - 28,200 = 141,000 Wh x (130,000 + 40,000) = 23,970 fen */
	assert_int_equal(o.delta_wh, 141000);
	assert_int_equal(o.cost_fen, 23970);
	event(f, SWAP_BATTERY_OUT, 45, "T5", 3, "PK-D", 50.0, 99.0, &o);
	assert_false(o.complete);
	/* the day report */
	assert_int_equal(swap_day_report(f->svc, "SW1", f->day, f->day + 24 * H, &d), 0);
	assert_int_equal(d.swaps, 3);
	assert_int_equal(d.timeouts, 1);
	assert_int_equal(d.open, 1);
	/* T2: PK-B out at 90 % (253,800 Wh), PK-C in at 30 % (84,600 Wh) */
	assert_int_equal(d.wh_by_tier[TARIFF_TIER_DEEP_VALLEY], 211500 + 169200);
	assert_int_equal(d.wh_by_tier[TARIFF_TIER_CRITICAL_PEAK], 141000);
	assert_int_equal(d.delta_wh, 211500 + 169200 + 141000);
	assert_int_equal(d.cost_fen, 9835 + 7868 + 23970); /* 169,200 x 46,500 = 7,867.8 */
	assert_int_equal(d.unbilled, 0);
	/* the forecast learns from the complete ones: 12:30, 13:30 and 18:30 local */
	{
		struct swap_policy pol;
		double fc[24];

		swap_policy_default(&pol);
		f->clock.fixed_ms = f->day + 23 * H;
		assert_int_equal(swap_forecast_station(f->svc, "SW1", f->cal, &pol, fc), 0);
		assert_true(fc[12] == 1 && fc[13] == 1 && fc[18] == 1 && fc[19] == 0);
	}
}

/* The cheap window of the commercial calendar in autumn: valley 10-11 h, deep valley 11-14 h,
 * valley 14-15 h (local). */
static void test_cheap_end(void **state)
{
	struct fx *f = *state;

	assert_int_equal(swap_cheap_end(f->cal, f->day + 12 * H), f->day + 15 * H);
	assert_int_equal(swap_cheap_end(f->cal, f->day + 10 * H), f->day + 15 * H);
	assert_int_equal(swap_cheap_end(f->cal, f->day + 2 * H), f->day + 15 * H);
	assert_int_equal(swap_cheap_end(f->cal, f->day + 15 * H), f->day + 39 * H);
	assert_int_equal(swap_cheap_end(f->cal, f->day + 22 * H), f->day + 39 * H);
	assert_int_equal(swap_cheap_end(NULL, f->day), f->day + 24 * H);
}

static int order_fn(const struct store_swap_order *o, void *ud)
{
	*(struct store_swap_order *)ud = *o;
	((struct store_swap_order *)ud)->state = NULL; /* borrowed: not kept */
	((struct store_swap_order *)ud)->tier = NULL;
	return 0;
}

/* An event is recorded at the time the station stated (a queued BatteryOut at 14:50 that
 * arrives at 15:10 is billed in the valley, not the flat hours), unless that is implausible. */
static void test_stated_time(void **state)
{
	struct fx *f = *state;
	struct store_swap_order o = {0};
	struct swap_order_info info;
	struct swap_policy pol;
	struct swap_event ev = {
	    .type = SWAP_BATTERY_OUT,
	    .request_id = 51,
	    .id_token = "T51",
	    .n_batteries = 1,
	    .batteries =
		{{.evse_id = 2, .serial = "PK-S", .soc = 95, .soh = 97, .capacity_wh = 282000}},
	};

	swap_policy_default(&pol);
	f->clock.fixed_ms = f->day + 15 * H + 10 * M;
	ev.ts_ms = f->clock.fixed_ms;
	ev.stated_ms = f->day + 14 * H + 50 * M;
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, NULL), 0);
	ev.type = SWAP_BATTERY_IN;
	ev.batteries[0].serial = "PK-T";
	ev.batteries[0].soc = 20;
	ev.stated_ms = f->day + 14 * H + 52 * M;
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, &info), 0);
	assert_true(info.complete);
	assert_int_equal(info.tier, TARIFF_TIER_VALLEY);
	assert_true(store_swap_order_get(f->store, "SW1", 51, order_fn, &o) >= 0);
	assert_int_equal(o.out_ms, f->day + 14 * H + 50 * M);
	assert_int_equal(o.in_ms, f->day + 14 * H + 52 * M);
	assert_int_equal(o.done_ms, f->day + 14 * H + 52 * M);
	/* a time an hour ahead of the CSMS: its arrival */
	ev.request_id = 52;
	ev.type = SWAP_BATTERY_OUT;
	ev.stated_ms = f->clock.fixed_ms + H;
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, NULL), 0);
	assert_true(store_swap_order_get(f->store, "SW1", 52, order_fn, &o) >= 0);
	assert_int_equal(o.out_ms, f->clock.fixed_ms);
}

static void test_bad_events(void **state)
{
	struct fx *f = *state;
	struct swap_policy pol;
	struct swap_event ev = {
	    .type = SWAP_BATTERY_IN,
	    .request_id = 1,
	    .id_token = "T",
	    .n_batteries = 1,
	    .batteries = {{.evse_id = 1, .serial = "X", .soc = 101, .soh = 90}}};

	swap_policy_default(&pol);
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, NULL), -EINVAL);
	ev.batteries[0].soc = 50;
	ev.n_batteries = 0;
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, NULL), -EINVAL);
	ev.n_batteries = 1;
	ev.type = SWAP_BATTERY_OUT;
	ev.stock = true; /* only a BatteryIn stocks */
	assert_int_equal(swap_event_record(f->svc, "SW1", &ev, f->cal, &pol, NULL), -EINVAL);
	assert_int_equal(swap_event_from_string("BatteryOutTimeout"), SWAP_BATTERY_OUT_TIMEOUT);
	assert_int_equal(swap_event_from_string("BatteryLost"), _SWAP_EVENT_INVALID);
}

/* The 2.1 schemas embedded from typed-ocpp validate the convention's payloads. */
static void test_v21_schemas(void **state)
{
	json_t *ok =
	    json_loads("{\"eventType\":\"BatteryIn\",\"requestId\":7,\"idToken\":"
		       "{\"idToken\":\"T1\",\"type\":\"Local\"},\"batteryData\":[{\"evseId\""
		       ":2,\"serialNumber\":\"PK-1\",\"soC\":20.5,\"soH\":97}]}",
		       0, NULL);
	json_t *bad_enum =
	    json_loads("{\"eventType\":\"BatteryLost\",\"requestId\":7,\"idToken\":"
		       "{\"idToken\":\"T1\",\"type\":\"Local\"},\"batteryData\":"
		       "[{\"evseId\":2,\"serialNumber\":\"PK-1\",\"soC\":20,\"soH\":97}]}",
		       0, NULL);
	json_t *no_data = json_loads("{\"eventType\":\"BatteryIn\",\"requestId\":7,\"idToken\":"
				     "{\"idToken\":\"T1\",\"type\":\"Local\"},\"batteryData\":[]}",
				     0, NULL);
	json_t *req = json_loads("{\"requestId\":1,\"idToken\":{\"idToken\":\"T\",\"type\":"
				 "\"Central\"}}",
				 0, NULL);
	json_t *resp = json_loads("{\"status\":\"Maybe\"}", 0, NULL);
	/* docs/swap.md: customData of the project's vendor with the event's time and slot power */
	json_t *custom = json_loads(
	    "{\"eventType\":\"BatteryOut\",\"requestId\":7,\"idToken\":"
	    "{\"idToken\":\"T1\",\"type\":\"Local\"},\"batteryData\":[{\"evseId\""
	    ":2,\"serialNumber\":\"PK-1\",\"soC\":95,\"soH\":97}],\"customData\":"
	    "{\"vendorId\":\"org.openchargenet.csms\",\"timestamp\":\"2026-11-20T06:01:02.345Z\","
	    "\"slotMaxPowerW\":120000}}",
	    0, NULL);
	json_t *custom_bad =
	    json_loads("{\"eventType\":\"BatteryOut\",\"requestId\":7,\"idToken\":"
		       "{\"idToken\":\"T1\",\"type\":\"Local\"},\"batteryData\":[{\"evseId\""
		       ":2,\"serialNumber\":\"PK-1\",\"soC\":95,\"soH\":97}],\"customData\":"
		       "{\"timestamp\":\"2026-11-20T06:01:02.345Z\"}}",
		       0, NULL);
	char desc[128];

	(void)state;
	assert_int_equal(ocpp_v21_validate(OCPP_V16, "BatterySwapRequest", ok, desc, sizeof(desc)),
			 OCPP_ERR_NONE);
	assert_int_equal(
	    ocpp_v21_validate(OCPP_V201, "BatterySwapRequest", bad_enum, desc, sizeof(desc)),
	    OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_int_equal(
	    ocpp_v21_validate(OCPP_V201, "BatterySwapRequest", no_data, desc, sizeof(desc)),
	    OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_int_equal(
	    ocpp_v21_validate(OCPP_V201, "RequestBatterySwapRequest", req, desc, sizeof(desc)),
	    OCPP_ERR_NONE);
	assert_int_equal(
	    ocpp_v21_validate(OCPP_V201, "RequestBatterySwapResponse", resp, desc, sizeof(desc)),
	    OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_int_equal(
	    ocpp_v21_validate(OCPP_V201, "BatterySwapResponse", resp, desc, sizeof(desc)),
	    OCPP_ERR_FORMATION); /* additionalProperties: false */
	assert_int_equal(
	    ocpp_v21_validate(OCPP_V201, "NotifyEVChargingNeedsRequest", ok, desc, sizeof(desc)),
	    OCPP_ERR_NOT_IMPLEMENTED);
	assert_int_equal(
	    ocpp_v21_validate(OCPP_V16, "BatterySwapRequest", custom, desc, sizeof(desc)),
	    OCPP_ERR_NONE);
	/* CustomDataType requires its vendorId */
	assert_int_not_equal(
	    ocpp_v21_validate(OCPP_V201, "BatterySwapRequest", custom_bad, desc, sizeof(desc)),
	    OCPP_ERR_NONE);
	json_decref(custom);
	json_decref(custom_bad);
	json_decref(ok);
	json_decref(bad_enum);
	json_decref(no_data);
	json_decref(req);
	json_decref(resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bill),
	    cmocka_unit_test(test_forecast),
	    cmocka_unit_test(test_ready_by),
	    cmocka_unit_test(test_ready_by_booked),
	    cmocka_unit_test(test_charge_ms),
	    cmocka_unit_test(test_rack_allocate),
	    cmocka_unit_test(test_pack_full),
	    cmocka_unit_test(test_event_time),
	    cmocka_unit_test_setup_teardown(test_cheap_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stated_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_order_accounting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bookings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_site_thresholds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_events, setup, teardown),
	    cmocka_unit_test(test_v21_schemas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
