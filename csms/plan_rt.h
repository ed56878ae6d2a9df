/* SPDX-License-Identifier: MIT */
/* The planner at run time: charging needs, site limits, grid events, debounced replans solved on
 * a worker thread, schedules applied on the loop as TxProfiles (and the V2G convention of
 * docs/v2g.md), the current plan per site stored for the API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "svc/cmd.h"

struct svc;
struct svc_plans;
struct chg_station;
struct tariff_calendar;

/*
** What a charger model accepts for charging profiles (a record per vendor/model, learned from
** the station's answers and settable by the operator). Defaults: svc_caps_default().
*/
struct svc_charge_caps {
	bool smart_charging; /* SetChargingProfile works at all */
	bool station_max;    /* ChargePointMaxProfile / ChargingStationMaxProfile works */
	bool amps;	     /* only A schedules are accepted */
	int tx_stack_level;  /* stack level used for TxProfiles */
	int max_stack_level;
	int max_periods; /* periods per schedule, 1..SVC_PROFILE_PERIODS_MAX */
	int phases;	 /* for A <-> W */
	int volts;
	bool bidirectional; /* declared (docs/v2g.md) */
};
void svc_caps_default(struct svc_charge_caps *c);
/* JSON text of c into buf; 0 or -ENOSPC. */
int svc_caps_to_json(const struct svc_charge_caps *c, char *buf, size_t len);
/* Members present in json override *c. 0 or -EINVAL (not a JSON object, a bad member). */
int svc_caps_from_json(const char *json, struct svc_charge_caps *c);

/*
** Shape a planned schedule into one charging profile that fits caps: slot_w[0..n) are signed W
** per 15-minute slot from start_ms; equal neighbours merge; negative limits become 0 unless
** allow_discharge; watts become tenths of amperes (rounded toward zero, so the power stays
** within the plan) when caps->amps; with more periods than caps->max_periods the tail is cut
** (the last kept period holds until the next replan). ret's purpose, id and stack level are
** the caller's. why gets a "; "-separated account of every change ("" when none). Returns the
** number of periods, or -EINVAL (n < 1, bad caps).
*/
int svc_plan_shape(const int64_t *slot_w, int n, int64_t start_ms,
		   const struct svc_charge_caps *caps, bool allow_discharge,
		   struct svc_charging_profile *ret, char *why, size_t why_len);

/*
** The capability record of a station model (vendor and model from BootNotification; a station
** that named neither has its own: vendor "" and model "station:<id>"). effective is the
** defaults, then what was learned from the model's answers, then what the operator set; learned
** and override are the JSON objects of those members ("{}" for none); reason says which answers
** taught the learned members, newest first ("" for none).
*/
#define SVC_CAPS_NAME_MAX   (STATION_ID_MAX + 16)
#define SVC_CAPS_JSON_MAX   512
#define SVC_CAPS_REASON_MAX 512
struct svc_model_caps {
	char vendor[SVC_CAPS_NAME_MAX];
	char model[SVC_CAPS_NAME_MAX];
	struct svc_charge_caps effective;
	char learned[SVC_CAPS_JSON_MAX];
	char override[SVC_CAPS_JSON_MAX];
	char reason[SVC_CAPS_REASON_MAX];
	int64_t updated_ms; /* 0: no record yet (the defaults) */
};
typedef int (*svc_model_caps_fn)(const struct svc_model_caps *c, void *ud);

/* The record of (vendor, model) into *ret. -ENOENT when the model has none, -EIO. */
int svc_model_caps_get(struct svc *s, const char *vendor, const char *model,
		       struct svc_model_caps *ret);
/* Every record to fn, by vendor and model. The number of records, or fn's negative value, or
 * -EIO. */
int svc_model_caps_list(struct svc *s, svc_model_caps_fn fn, void *ud);
/* The record a station's schedules are shaped by (its model's; the defaults when the model has
 * none yet, updated_ms 0). -ENOENT for an unknown station, -EIO. */
int svc_station_caps(struct svc *s, const char *station_id, struct svc_model_caps *ret);
/*
** The operator's members for (vendor, model): json is a JSON object of record members (see
** svc_caps_from_json; "{}" clears the override), which win over what is learned. Creates the
** record if needed. The write joins the store's open group: commit before answering.
** 0, -EINVAL (not an object, an unknown or bad member, a name too long), -EIO.
*/
int svc_model_caps_override(struct svc *s, const char *vendor, const char *model, const char *json);

/* W <-> tenths of A for caps (phases x volts); both round toward zero. */
int64_t svc_w_to_da(int64_t w, const struct svc_charge_caps *caps);
int64_t svc_da_to_w(int64_t da, const struct svc_charge_caps *caps);

/*
** Debounce: a replan asked at now_ms is due at min(now + debounce, first + max_delay), where
** first is when the first of the pending requests came (*first_ms, 0 = none pending: set to
** now). Returns the due time.
*/
int64_t svc_plan_debounce(int64_t *first_ms, int64_t now_ms, int debounce_ms, int max_delay_ms);

/* Charging needs as a station or the API gives them; -1 (or NULL) = not given. */
struct svc_needs_in {
	int64_t departure_ms;
	int64_t energy_wh; /* still needed now */
	int target_soc;
	int64_t capacity_wh;
	int soc;
	int v2g; /* -1 / 0 / 1 */
	int soc_floor;
	int64_t max_charge_w;
	int64_t max_discharge_w;
	int bidirectional; /* -1 / 0 / 1 */
};
void svc_needs_init(struct svc_needs_in *n);

/*
** Record needs for a session (source: "ev", "station", "operator"), merged over what is
** stored (members not given keep their value), and ask for a replan of its site. *ret_managed
** (may be NULL) tells whether the planner acts on them: the site is planned (residential, or
** a limit, or a tariff) and the station's capability record does not say smart_charging false
** (its plan would never be sent). -ENOENT unknown or ended session, -EINVAL bad values, -EIO.
*/
int svc_needs_set(struct svc *s, int64_t session_id, const char *source,
		  const struct svc_needs_in *in, bool *ret_managed);
/* The same for the active session on a station's EVSE (evse_id 0: its only active one). */
int svc_needs_from_station(struct svc *s, const struct chg_station *st, int evse_id,
			   const char *source, const struct svc_needs_in *in, bool *ret_managed);

/*
** An external limit on a station (2.0.1 NotifyChargingLimit: an energy management system or the
** grid operator capped it): limit_w >= 0 from now until until_ms (0: until replaced), on
** evse_id (0: the whole station, shared equally by its sessions); limit_w < 0 clears it. Stored
** (it survives a restart and every node plans with it); the station's site is planned again
** with its sessions held under it. 0, -EINVAL (no station), -ERANGE (evse_id < 0), or the
** store's error (the write failed: the caller does not acknowledge it).
*/
int svc_station_ext_limit(struct svc *s, const struct chg_station *st, int evse_id, int64_t limit_w,
			  int64_t until_ms);

/* Whether the planner manages site_id. */
bool svc_site_managed(struct svc *s, const char *site_id);

/* Set (>= 0) or clear (-1) a site's grid limit in W and replan. -ENOENT unknown site, -EIO. */
int svc_site_set_limit(struct svc *s, const char *site_id, int64_t limit_w);

/*
** A site's PV forecast: pv_w[i] watts on average over [start_ms + i * slot_s s, + slot_s s).
** The planner takes it as free local supply in each 15-minute slot it overlaps (the average
** over the slot; 0 outside the forecast): the site limit bounds the import, load - PV. Stored
** (store_site_forecast_put); a node reads it again at most every 30 s (another node's PUT).
*/
#define SVC_PV_SLOT_S_MIN 60
#define SVC_PV_SLOT_S_MAX 3600
#define SVC_PV_MAX	  2016 /* values: 7 days of 5-minute slots */
#define SVC_PV_W_MAX	  1000000000LL
/*
** A site's stationary battery, planned as a bidirectional pseudo-session present over the
** whole horizon that must end it with the energy it has now (energy_wh, as last told) and is
** never taken below min_energy_wh. No OCPP device drives it: its setpoints are only in the
** site plan (`storage`), for the site's own energy management to follow.
*/
struct svc_site_storage {
	bool present;
	int64_t capacity_wh;	 /* > 0 */
	int64_t energy_wh;	 /* now, 0..capacity */
	int64_t min_energy_wh;	 /* 0..capacity */
	int64_t max_charge_w;	 /* 0..SVC_PV_W_MAX */
	int64_t max_discharge_w; /* 0..SVC_PV_W_MAX */
};
struct svc_pv_forecast {
	int64_t start_ms;
	int slot_s;			 /* SVC_PV_SLOT_S_MIN..SVC_PV_SLOT_S_MAX */
	size_t n;			 /* 0..SVC_PV_MAX */
	int64_t *pv_w;			 /* [n], 0..SVC_PV_W_MAX */
	int64_t set_ms;			 /* when it was set (node clock) */
	struct svc_site_storage storage; /* the site's battery, if present */
};
/* Replace (copied; n == 0 and no storage clears), store (in the open group: the caller commits) and replan.
 * -EINVAL bad values, -ENOMEM, -EIO. The caller checks that the site exists. */
int svc_site_set_forecast(struct svc *s, const char *site_id, const struct svc_pv_forecast *f);
/* The site's forecast (borrowed until the next set or read), or NULL. */
const struct svc_pv_forecast *svc_site_forecast(struct svc *s, const char *site_id);
/* The average PV power of f over [a_ms, b_ms), in W (0 outside it). */
int64_t svc_pv_average(const struct svc_pv_forecast *f, int64_t a_ms, int64_t b_ms);

/*
** The calendar the planner prices a site with: set one (ownership moves to svc; NULL clears)
** and replan; read it (NULL when none). Operators assign calendars with PUT
** /api/sites/{id}/tariff (the store, svc/energy.h), which the planner reads through
** svc_plan_set_calendars; this setter is for embedding and tests.
*/
int svc_site_set_tariff(struct svc *s, const char *site_id, struct tariff_calendar *cal);
/* Where sites' own calendars come from: the node's calendars (svc/energy.h; e borrowed, NULL
 * for none). A site's calendar is, in order: one set by svc_site_set_tariff, the one the
 * operator assigned (energy), the default of its site kind (svc_kind_set_tariff). */
struct energy;
int svc_plan_set_calendars(struct svc *s, struct energy *e);
/* Calendar tariff_id was replaced (PUT /api/tariffs/{id}): replan every site that references
 * it. Returns the number of sites asked to replan, or -EIO. */
int svc_plan_tariff_replaced(struct svc *s, const char *tariff_id);
const struct tariff_calendar *svc_site_tariff(struct svc *s, const char *site_id);
/* The calendar for sites of a kind without one of their own (ownership moves). */
int svc_kind_set_tariff(struct svc *s, int site_kind, struct tariff_calendar *cal);

/* Record a grid event (e->id is set) and replan its sites. -EINVAL, -EIO. */
int svc_grid_event_add(struct svc *s, struct store_grid_event *e);

/* A replan of site_id is wanted (session started or stopped, needs, limit, tariff, event). */
void svc_plan_touch(struct svc *s, const char *site_id);
/* The operator changed site_id (its record, limit or calendar; or deleted it): what the
 * planner remembers of its row is read again, and it is replanned. */
void svc_plan_site_changed(struct svc *s, const char *site_id);

/* Start / stop the planner's worker thread. Without it plans are solved on the caller. */
int svc_plan_start(struct svc *s);
void svc_plan_stop(struct svc *s);
/* Called by the node's timer on the loop: launches due replans, applies finished ones (sends
 * the schedules, stores the plan), a few milliseconds of sends per call. True while a plan is
 * still being sent: call again soon (the node does after 10 ms instead of 100). */
bool svc_plan_tick(struct svc *s);
/* How long a tick may send a plan's sessions (default 3 ms); 0: one session per tick (tests). */
void svc_plan_set_send_slice(struct svc *s, int ms);
/* Plans applied since start (for tests and metrics). */
uint64_t svc_plan_count(struct svc *s);
/*
** Sessions' TxProfiles since start: *ret_sent sent by replans, *ret_skipped not sent because
** the station follows the same schedule from now on already (accepted, same connection and
** boot, younger than the refresh period; docs/v2g.md "Sending only what changed").
*/
void svc_plan_tx_counts(struct svc *s, uint64_t *ret_sent, uint64_t *ret_skipped);
/* Slot starts since start where a site's plan stood instead of being made again: its sessions'
 * readings follow it (docs/v2g.md "Rolling horizon"). */
uint64_t svc_plan_rolls_skipped(struct svc *s);

/* The planner's state hanging off struct svc (svc.h: svc__plans, svc_plan_hooks; created by
 * the first call here, which sets the hooks). */
void svc__plans_free(struct svc_plans *p);
/* Internal: a reading of a session arrived (export registers are recorded, import registers
 * held against the session's plan). */
void svc__plan_sample(struct svc *s, const struct store_sample *row);
