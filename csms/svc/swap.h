/* SPDX-License-Identifier: MIT */
/* Battery-swap stations (DESIGN.md §6, docs/swap.md): packs, slots, swap orders billed at the
 * tier of the time of swap, bookings, the demand forecast and the rack's "ready by" needs. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct svc;
struct tariff_calendar;
struct tariff_point;

/* The OCPP 2.1 BatterySwapEventEnumType. */
enum swap_event_type {
	SWAP_BATTERY_IN,	  /* packs from the vehicle went into slots */
	SWAP_BATTERY_OUT,	  /* packs from slots went to the vehicle */
	SWAP_BATTERY_OUT_TIMEOUT, /* packs offered were not taken */
	_SWAP_EVENT_MAX,
	_SWAP_EVENT_INVALID = -EINVAL,
};
const char *swap_event_to_string(int t);   /* "BatteryIn" ... or NULL */
int swap_event_from_string(const char *s); /* or _SWAP_EVENT_INVALID */

#define SWAP_BATTERIES_MAX 8
#define SWAP_SERIAL_MAX	   50 /* BatteryDataType.serialNumber maxLength */

/* One BatteryDataType, plus what vendorInfo told (docs/swap.md). Borrowed strings. */
struct swap_battery {
	int evse_id; /* the slot */
	const char *serial;
	double soc, soh;       /* percent */
	int64_t production_ms; /* 0 = not given */
	const char *type;      /* NULL = not given */
	int64_t capacity_wh;   /* 0 = not given */
};

/* A BatterySwapRequest. Borrowed strings. */
struct swap_event {
	int type; /* enum swap_event_type */
	int64_t request_id;
	const char *id_token; /* the vehicle */
	bool stock;	      /* BatteryIn of packs from the store, no vehicle (idToken type
			       * NoAuthorization): packs recorded, no order */
	int64_t ts_ms;	      /* when the CSMS got it */
	int64_t stated_ms;    /* when the station says it happened (customData.timestamp,
			       * docs/swap.md), 0 = not stated */
	size_t n_batteries;   /* 1..SWAP_BATTERIES_MAX */
	struct swap_battery batteries[SWAP_BATTERIES_MAX];
};

/* Per-station policy. */
struct swap_policy {
	double soh_flag_below; /* a pack whose SoH falls below this is flagged (percent) */
	double promised_soc;   /* a pack forecast ready has at least this SoC (percent) */
	int forecast_days;     /* past days the demand forecast learns from */
	int64_t slot_power_w;  /* what a slot charges a pack with at most */
	int64_t margin_ms;     /* added to a pack's charging time before it is promised (plans
				* reach the station some minutes late, in 15-minute steps) */
};
void swap_policy_default(struct swap_policy *p); /* 80 %, 90 %, 14 days, 60 kW, 30 min */
/* The policy of a station of site_id (NULL or "": none): the defaults with the site's
 * thresholds (svc_site_policy: swap_soh_flag_below, swap_promised_soc; docs/sites.md). 0, or
 * -EIO (ret then has the defaults). */
int swap_policy_site(struct svc *s, const char *site_id, struct swap_policy *ret);

/* The slot power a station may state (customData.slotMaxPowerW, docs/swap.md) to replace the
 * policy's: 1 kW .. 1 MW, anything else is ignored. */
#define SWAP_SLOT_POWER_MIN_W 1000
#define SWAP_SLOT_POWER_MAX_W 1000000

/* How far a station's stated event time may lie ahead of the CSMS's clock (5 minutes). */
#define SWAP_CLOCK_SKEW_MS (5 * 60 * 1000LL)

/*
** The time an event of a station is recorded at: stated_ms (the time the station stated in the
** event's customData, 0 = none) when it is not after now_ms + SWAP_CLOCK_SKEW_MS (a time
** within the skew ahead counts as now_ms) and not before boot_ms (the station's last boot as
** the CSMS recorded it, 0 = unknown); now_ms (its arrival) otherwise. A pure function.
*/
int64_t swap_event_time(int64_t stated_ms, int64_t now_ms, int64_t boot_ms);

/* How long a pack of capacity_wh at soc needs in a slot to reach pol->promised_soc at
 * pol->slot_power_w, plus pol->margin_ms (24 h when capacity or power is unknown). */
int64_t swap_charge_ms(const struct swap_policy *pol, int64_t capacity_wh, double soc);

/* What an order came to (a copy, for the caller's answer and tests). */
struct swap_order_info {
	int64_t id;
	int64_t booking_id;		     /* the booking it serves, 0 = none */
	bool complete;			     /* both BatteryIn and BatteryOut are in */
	bool timeout;			     /* BatteryOutTimeout */
	int64_t energy_out_wh, energy_in_wh; /* -1 = unknown */
	int64_t delta_wh;
	int tier; /* enum tariff_tier, -1 = not billed */
	int64_t cost_fen;
};

/*
** The bill of a swap: delta_wh = out - in (the energy the vehicle took away, negative when it
** brought more than it took), priced at the import plus service price of pt (the tariff at the
** time of swap): cost_fen = delta_wh * price / 10^6 rounded half away from zero. A pure
** function. Returns 0, or -EINVAL when an energy is negative (unknown).
*/
int swap_bill(int64_t energy_out_wh, int64_t energy_in_wh, const struct tariff_point *pt,
	      int64_t *ret_delta_wh, int64_t *ret_cost_fen);

/* Energy of a pack at soc percent of capacity_wh (rounded), or -1 if either is unknown. */
int64_t swap_pack_energy_wh(int64_t capacity_wh, double soc);

/*
** Record a BatterySwap event of station_id at swap_event_time() of ev->stated_ms, ev->ts_ms and
** the station's last boot, and make it durable in the open group
** transaction: each pack's record (SoC, SoH history, flagged below pol->soh_flag_below, cycles
** counted on BatteryIn, where it is now), and the order of (station_id, request_id), created by
** the first event of that id (none for a stocking BatteryIn, ev->stock). The order is complete once it has both a BatteryIn and a
** BatteryOut; it is then billed (swap_bill) at the tariff of cal at the time of the later one
** (cal NULL: not billed, tier -1). On BatteryOut the order records pol->promised_soc as its
** promise when, just before, the rack had a pack forecast ready (swap_pack_full at the
** event's time). A new order serves an open booking (queued or requested) of the station: the
** one requested with the order's request id, else the vehicle's first in the queue; the order
** takes its id and the booking becomes served with the order's request id. ret may be NULL. Returns 0, -EINVAL (a bad event), or a store error.
*/
int swap_event_record(struct svc *s, const char *station_id, const struct swap_event *ev,
		      const struct tariff_calendar *cal, const struct swap_policy *pol,
		      struct swap_order_info *ret);

/*
** The demand forecast: expected swaps per local hour of day (ret_per_hour[h], h = 0..23, local
** time = UTC + utc_offset_min), learned from the swap times t_ms[0..n) in the days window
** [now - days, now): the count in each hour divided by the number of days observed (from the
** first swap in the window to now, at least 1, at most days). A pure function. Returns the
** number of swaps used, or -EINVAL.
*/
int swap_forecast(const int64_t *t_ms, size_t n, int64_t now_ms, int utc_offset_min, int days,
		  double ret_per_hour[24]);

/*
** "Ready by" times for n racked packs, most charged first: pack k must be ready at the start of
** the hour (local) in which the forecast's cumulative demand from now (of this hour the part
** still to come) first reaches k + 1/2 (now, if that is the current hour); packs not needed within 24 h get fallback_ms (the end of the next
** deep valley). A pure function. Returns the number of packs given a forecast time (the rest
** got fallback_ms).
*/
size_t swap_ready_by(const double per_hour[24], int64_t now_ms, int utc_offset_min, size_t n,
		     int64_t fallback_ms, int64_t *ret_ready_ms);

/*
** swap_ready_by() with the station's queue: booked_ms[0..n_booked) are the due times of its open
** bookings. Each booking due within the 24 h is a swap at its time (an overdue one: now) and one
** of the swaps its hour expects (taken off the forecast of that hour, down to none), so a booked
** vehicle is not counted twice. Bookings due later are left out. A pure function. Returns the
** number of packs given a booked or forecast time (the rest got fallback_ms).
*/
size_t swap_ready_by_booked(const double per_hour[24], const int64_t *booked_ms, size_t n_booked,
			    int64_t now_ms, int utc_offset_min, size_t n, int64_t fallback_ms,
			    int64_t *ret_ready_ms);

/* The end of the cheap window (consecutive valley and deep-valley hours) of cal in progress at
 * from_ms, else of the next one within two days; from_ms + 24 h when there is none (or cal is
 * NULL). */
int64_t swap_cheap_end(const struct tariff_calendar *cal, int64_t from_ms);

/* The forecast of station_id now: swap_forecast() over the done times of its complete orders
 * of the last pol->forecast_days, in the local time of cal (UTC without). 0 or -errno. */
int swap_forecast_station(struct svc *s, const char *station_id, const struct tariff_calendar *cal,
			  const struct swap_policy *pol, double ret_per_hour[24]);

/* A racked pack and the need the planner gets for it. */
struct swap_rack_need {
	int evse_id;
	const char *serial;
	int64_t capacity_wh; /* 0 = unknown */
	double soc;	     /* at insertion */
	int64_t in_ms;	     /* when it was racked */
	int64_t ready_ms;
	bool forecast;		  /* it serves a forecast swap: ready_ms comes from the forecast
				   * or it is full (else: ready_ms is its cheap window's end) */
	int64_t planned_ready_ms; /* the "ready by" the planner has (swap_rack_commit), 0 none */
	int64_t planned_at_ms;	  /* ... since when */
	int64_t cheap_ms; /* the end of the first cheap window it can be charged by (input of
			   * swap_rack_allocate: swap_cheap_end() of now + swap_charge_ms()) */
	bool full;	  /* swap_pack_full(): charged to the promise */
};
typedef int (*swap_rack_fn)(const struct swap_rack_need *need, void *ud);

/* Is the pack charged to pol->promised_soc at now_ms, as far as the CSMS knows: the "ready by"
 * the planner had for it has come, and the planner had had it for at least swap_charge_ms() of
 * the pack as racked. A pure function. */
bool swap_pack_full(const struct swap_policy *pol, const struct swap_rack_need *need,
		    int64_t now_ms);

/*
** The rack's "ready by" times, a pure function. The n packs are sorted best first: the full ones
** (swap_pack_full at now_ms; oldest racked first), then the rest, oldest racked first. The
** forecast swaps from now_ms over 24 h in time order (swap_ready_by of per_hour) take the packs
** in that order: the k-th swap needs the k-th pack. A full pack keeps the "ready by" it has. A
** pack that is not full gets the time of its swap when that comes before its cheap_ms, else
** cheap_ms: packs a swap needs are ready for it, the others charge in the cheap window. A pack
** whose "ready by" is still to come and was given in time to charge it (as swap_pack_full
** counts) has that instead of cheap_ms when it is sooner. Sets
** ready_ms, forecast and full of each pack. Returns the number of packs with forecast set.
*/
size_t swap_rack_allocate(const struct swap_policy *pol, const double per_hour[24], int64_t now_ms,
			  int utc_offset_min, struct swap_rack_need *packs, size_t n);
/* swap_rack_allocate() whose swaps are those of swap_ready_by_booked(): the station's queue
 * (booked_ms[0..n_booked), the due times of its open bookings) with the forecast. */
size_t swap_rack_allocate_booked(const struct swap_policy *pol, const double per_hour[24],
				 const int64_t *booked_ms, size_t n_booked, int64_t now_ms,
				 int utc_offset_min, struct swap_rack_need *packs, size_t n);

/*
** The rack of station_id as the planner should charge it: its packs in slots, best first, each
** with the "ready by" of swap_rack_allocate_booked() from the station's queue (its open
** bookings), the forecast learned from its completed orders (pol->forecast_days) and the cheap
** windows of cal (swap_cheap_end). fn is
** called per pack. Returns the number of packs, or a negative errno.
*/
int swap_rack_needs(struct svc *s, const char *station_id, const struct tariff_calendar *cal,
		    const struct swap_policy *pol, swap_rack_fn fn, void *ud);

/* The planner was told need->ready_ms for its pack now: recorded (for the promise of
 * swap_event_record) unless it had that already; a later deadline keeps the time since which
 * the planner has had the earlier one. 0 or a store error. */
int swap_rack_commit(struct svc *s, const struct swap_rack_need *need);

/* The per-station day report [from_ms, to_ms) (docs/api.md). */
struct swap_day_report {
	int64_t swaps; /* complete orders */
	int64_t timeouts;
	int64_t open;
	int64_t promised;      /* orders with a promised SoC (a pack was forecast ready) */
	int64_t ready_on_time; /* ... whose packs out had at least that SoC */
	int64_t delta_wh;      /* billed energy */
	int64_t cost_fen;
	int64_t wh_by_tier[5]; /* billed energy by enum tariff_tier */
	int64_t unbilled;      /* complete orders without a bill (no calendar or capacity) */
};
int swap_day_report(struct svc *s, const char *station_id, int64_t from_ms, int64_t to_ms,
		    struct swap_day_report *ret);
