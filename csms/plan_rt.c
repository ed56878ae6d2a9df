/* SPDX-License-Identifier: MIT */
/* The planner at run time (see plan.h). */
#include "plan_rt.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>
#include <jansson.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "svc/energy.h"
#include "svc/events.h"
#include "svc/planner.h"
#include "svc/svc.h"
#include "svc/tariff.h"

/*
 * How a replan goes. svc_plan_touch() marks the site dirty and debounces (2 s of the node
 * clock, at most 10 s after the first request). svc_plan_tick() (the node's timer, on the loop)
 * builds the planner input of a due site from the store and hands it to the worker thread; the
 * worker solves it (sc_plan_solve and the "immediately" baseline) and queues the result; the
 * next ticks apply it on the loop, a few milliseconds of sessions at a time (apply_some()), the
 * sessions it lowers first: one TxProfile per session through svc_cmd_send where it changed
 * (tx_needed: what the station would follow from now on differs from what it last took, or it
 * may have lost it), the V2G DataTransfer where a session discharges, the plan stored for the
 * API.
 *
 * Slots are 15 minutes of the node's clock, aligned to the epoch. The slot in progress is
 * frozen: a session keeps the power the previous plan gave it there (a new session gets a share
 * of what is left under the limit), so a replan never moves power inside a slot that is
 * already half delivered, and the new plan starts at the next boundary. At each slot boundary a
 * site with sessions is planned again only where roll_needed() says so (the rolling horizon: the
 * plan is an hour old, runs out or ends before a departure, steers a V2G session, or readings
 * stray from it; a schedule cut to fit a station's period limit is continued there); otherwise
 * its plan stands (rolls_skipped).
 */

#define SLOT_MS		       SC_PLAN_SLOT_MS
#define DEBOUNCE_MS	       2000
#define ROLL_MAX_MS	       (4 * SLOT_MS) /* a plan is made again at least this often */
#define ROLL_TOL_WH	       500	     /* or 10 %: readings this close follow the plan */
#define MAX_DELAY_MS	       10000
#define SOLVE_LIMIT_MS	       2000
#define TX_PROFILE_ID	       9100 /* + EVSE id: one TxProfile per EVSE, replaced on each plan */
#define STATION_MAX_PROFILE_ID 9000 /* the site limit as the station's max profile */
#define TX_DEFAULT_PROFILE_ID  9001 /* new sessions wait for their plan (send_tx_default) */
#define NEW_SESSION_HOLD_S     900  /* ... up to one slot */
#define DEFAULT_RES_W	       7400 /* residential EVSE when nothing better is known */
#define DEFAULT_OTHER_W	       22000
#define DEFAULT_NEED_WH	       30000	     /* residential session without any need told */
#define RES_LEAVE_MIN	       (7 * 60 + 30) /* residential default departure, local time */
#define DEFAULT_OFFSET_MIN     480	     /* local time without a calendar: UTC+08:00 */
#define TX_REFRESH_MS	       (4 * SLOT_MS) /* an unchanged accepted TxProfile is sent again */
#define APPLY_SLICE_MS	       3	     /* of a loop turn for sending plans (apply_some()) */

/* ---------------------------------------------------------------- pure pieces */

void svc_caps_default(struct svc_charge_caps *c)
{
	*c = (struct svc_charge_caps){
	    .smart_charging = true,
	    .station_max = true,
	    .amps = false,
	    .tx_stack_level = 1,
	    .max_stack_level = 8,
	    .max_periods = SVC_PROFILE_PERIODS_MAX,
	    .phases = 1,
	    .volts = 230,
	    .bidirectional = false,
	};
}

int svc_caps_to_json(const struct svc_charge_caps *c, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "{\"smart_charging\":%s,\"station_max\":%s,\"amps\":%s,"
			 "\"tx_stack_level\":%d,\"max_stack_level\":%d,\"max_periods\":%d,"
			 "\"phases\":%d,\"volts\":%d,\"bidirectional\":%s}",
			 c->smart_charging ? "true" : "false", c->station_max ? "true" : "false",
			 c->amps ? "true" : "false", c->tx_stack_level, c->max_stack_level,
			 c->max_periods, c->phases, c->volts, c->bidirectional ? "true" : "false");

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int svc_caps_from_json(const char *json, struct svc_charge_caps *c)
{
	json_t *o = json_loads(json, 0, NULL), *v;
	struct svc_charge_caps t = *c;
	int r = 0;

	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
#define CAP_BOOL(name)                                                                             \
	if ((v = json_object_get(o, #name))) {                                                     \
		if (!json_is_boolean(v))                                                           \
			r = -EINVAL;                                                               \
		else                                                                               \
			t.name = json_is_true(v);                                                  \
	}
#define CAP_INT(name, lo, hi)                                                                      \
	if ((v = json_object_get(o, #name))) {                                                     \
		if (!json_is_integer(v) || json_integer_value(v) < (lo) ||                         \
		    json_integer_value(v) > (hi))                                                  \
			r = -EINVAL;                                                               \
		else                                                                               \
			t.name = (int)json_integer_value(v);                                       \
	}
	CAP_BOOL(smart_charging)
	CAP_BOOL(station_max)
	CAP_BOOL(amps)
	CAP_BOOL(bidirectional)
	CAP_INT(tx_stack_level, 0, 100)
	CAP_INT(max_stack_level, 0, 100)
	CAP_INT(max_periods, 1, SVC_PROFILE_PERIODS_MAX)
	CAP_INT(phases, 1, 3)
	CAP_INT(volts, 100, 1000)
#undef CAP_BOOL
#undef CAP_INT
	json_decref(o);
	if (r == 0)
		*c = t;
	return r;
}

int64_t svc_w_to_da(int64_t w, const struct svc_charge_caps *caps)
{
	int64_t div = (int64_t)caps->phases * caps->volts;

	return div > 0 ? w * 10 / div : 0; /* C division truncates toward zero */
}

int64_t svc_da_to_w(int64_t da, const struct svc_charge_caps *caps)
{
	return da * caps->phases * caps->volts / 10;
}

static void why_add(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void why_add(char *why, size_t len, const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	if (used + 3 >= len)
		return;
	if (used) {
		memcpy(why + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
}

int svc_plan_shape(const int64_t *slot_w, int n, int64_t start_ms,
		   const struct svc_charge_caps *caps, bool allow_discharge,
		   struct svc_charging_profile *ret, char *why, size_t why_len)
{
	size_t np = 0, max;
	bool clamped = false;
	int merged = 0;

	if (n < 1 || !caps || caps->max_periods < 1 ||
	    (caps->amps && caps->phases * caps->volts <= 0))
		return -EINVAL;
	max = (size_t)caps->max_periods;
	if (max > SVC_PROFILE_PERIODS_MAX)
		max = SVC_PROFILE_PERIODS_MAX;
	if (why_len)
		why[0] = '\0';
	ret->start_ms = start_ms;
	ret->duration_s = 0;
	ret->rate_unit = caps->amps ? SVC_RATE_A : SVC_RATE_W;
	for (int k = 0; k < n; k++) {
		int64_t w = slot_w[k], lim;

		if (w < 0 && !allow_discharge) {
			w = 0;
			clamped = true;
		}
		lim = caps->amps ? svc_w_to_da(w, caps) : w;
		if (np && ret->periods[np - 1].limit == lim) {
			merged++;
			continue;
		}
		if (np == max) {
			why_add(why, why_len,
				"cut to %zu periods (the station takes at most %d): the rest "
				"follows at "
				"the next replan",
				max, caps->max_periods);
			break;
		}
		ret->periods[np++] = (struct svc_power_period){
		    .start_s = (int64_t)k * (SLOT_MS / 1000),
		    .limit = lim,
		    .phases = caps->amps ? caps->phases : 0,
		};
	}
	ret->n_periods = np;
	if (merged)
		why_add(why, why_len, "%d equal neighbouring slots merged", merged);
	if (clamped)
		why_add(why, why_len, "discharge not allowed here: negative slots sent as 0");
	if (caps->amps)
		why_add(why, why_len, "amps only: W -> A at %d V x %d phase(s), rounded down",
			caps->volts, caps->phases);
	return (int)np;
}

int64_t svc_plan_debounce(int64_t *first_ms, int64_t now_ms, int debounce_ms, int max_delay_ms)
{
	int64_t due;

	if (!*first_ms)
		*first_ms = now_ms;
	due = now_ms + debounce_ms;
	if (due > *first_ms + max_delay_ms)
		due = *first_ms + max_delay_ms;
	return due;
}

void svc_needs_init(struct svc_needs_in *n)
{
	*n = (struct svc_needs_in){
	    .departure_ms = -1,
	    .energy_wh = -1,
	    .target_soc = -1,
	    .capacity_wh = -1,
	    .soc = -1,
	    .v2g = -1,
	    .soc_floor = -1,
	    .max_charge_w = -1,
	    .max_discharge_w = -1,
	    .bidirectional = -1,
	};
}

/* ---------------------------------------------------------------- state */

/* Where a session's TxProfile stands with its station (tx_needed). */
enum tx_state {
	TX_NONE,     /* never sent */
	TX_PENDING,  /* sent, no answer yet */
	TX_ACCEPTED, /* the station took it */
	TX_FAILED,   /* refused, timed out, not delivered: send again */
};

/* The TxProfile last sent for a session: what its station follows once it accepted it. */
struct tx_rec {
	uint64_t seq;	 /* of that send (svc_plans.tx_seq), 0: none */
	uint64_t epoch;	 /* its station's epoch then (struct tx_station) */
	int state;	 /* enum tx_state */
	int64_t sent_ms; /* node clock */
	int64_t prof_id; /* the profile as sent: id, stack level, unit, start, periods */
	int stack_level;
	int rate_unit;
	int64_t start_ms;
	size_t n_periods;
	struct svc_power_period *periods; /* owned */
};

/* A session's import register as its readings told it (svc__plan_sample): the reading last
 * seen when its plan was made (a, the anchor) and the latest one since (b); ts 0: none. */
struct plan_reg {
	int64_t pre_w; /* what the plan before gave the slot before slot 0, -1 unknown */
	int64_t a_wh, a_ts, b_wh, b_ts;
};

/* What a site's last applied plan gave each session, for freezing the slot in progress. */
struct last_plan {
	int64_t start_ms; /* slot 0 */
	int64_t plan_ms;  /* when it was made (node clock) */
	int n_slots;
	bool open_end; /* a departure lies beyond its horizon: every slot extends it */
	size_t n;
	int64_t *ids;
	int64_t *power_w;     /* [i * n_slots + k] */
	int *mode;	      /* [i]: the V2G mode last sent */
	struct tx_rec *tx;    /* [i]: its TxProfile (carried from plan to plan) */
	struct plan_reg *reg; /* [i] */
};

/* A station the planner sent TxProfiles to: its epoch moves on at each (re)connection and
 * accepted BootNotification, when what it held may be gone. */
struct tx_station {
	char id[STATION_ID_MAX + 1];
	char site[SITE_ID_MAX + 1];
	uint64_t epoch;
};

struct plan_site {
	char id[SITE_ID_MAX + 1];
	struct tariff_calendar *cal; /* owned */
	bool dirty, busy;
	struct plan_job *applying; /* its plan being sent (apply_some()), or NULL */
	int64_t first_ms, due_ms;
	int64_t last_slot; /* slot index of the last plan's start */
	bool has_sessions;
	struct last_plan last;
	int64_t max_sent_w;		      /* the limit sent as station max profiles */
	char (*max_sent)[STATION_ID_MAX + 1]; /* to these stations */
	size_t n_max_sent;
	char (*held)[STATION_ID_MAX + 1]; /* sent station-level profiles (any limit) since the */
	size_t n_held;			  /* limit was last cleared: to clear them then */
	/* its row and whether the operator assigned it a calendar, as read lately (site_row(),
	 * svc_site_tariff()): the planner asks for them several times per plan and per session
	 * event */
	struct store_site row;
	int64_t row_ms;		   /* when read (monotonic), 0: not read */
	int64_t no_tariff_ms;	   /* when found to have no calendar of its own, 0: not found */
	struct svc_pv_forecast pv; /* its PV forecast (site_pv()), n 0: none */
	int64_t pv_ms;		   /* when read from the store (monotonic), 0: not read */
};

/* A plan being sent (apply_begin(), apply_session(), apply_end()). */
struct plan_apply {
	struct last_plan nl;  /* what becomes the site's last plan */
	json_t *sess, *slots; /* its document's parts */
	int64_t *row;	      /* a session's slots, scratch */
	int n;		      /* slots of row: the frozen one and the plan's */
	size_t *order;	      /* the sessions in the order they are sent: lowered first */
	size_t next;	      /* of order: the next to send */
};

/* One session of a job. */
struct job_session {
	int64_t id;
	char station[STATION_ID_MAX + 1];
	char tx[65];
	int evse_id;
	bool discharge_ok; /* v2g allowed and the EVSE bidirectional */
	int64_t frozen_w;  /* the slot in progress */
	int64_t target_wh, departure_ms;
};

struct plan_job {
	struct plan_job *next;
	char site[SITE_ID_MAX + 1];
	int64_t now_ms, cur_ms; /* cur_ms: start of the slot in progress */
	int64_t limit_w;
	int64_t pv_cur_w; /* the PV forecast of the slot in progress */
	bool storage;	  /* ps[n] is the site's battery (in.n_sessions = n + 1) */
	struct svc_site_storage battery;
	size_t n;
	struct job_session *js;
	struct sc_plan_session *ps;
	struct sc_plan_slot *slots;
	struct sc_plan_input in;
	struct sc_plan_result res, imm;
	int rc, rc_imm;
	int64_t solve_ms;
	char events[128];
	struct plan_apply ap; /* applying it (apply_begin()) */
};

struct svc_plans {
	struct hmap sites; /* id -> struct plan_site */
	size_t cursor;	   /* the slot of sites where svc_plan_tick() goes on (PLANS_PER_TICK) */
	struct tariff_calendar *kind_cal[_SITE_KIND_MAX];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, stopping;
	struct plan_job *todo, *done;
	struct plan_job *applying, *applying_tail; /* solved, being sent (apply_some()) */
	int64_t built_ms;			   /* when plans were last built (monotonic) */
	uint64_t applied;
	int slice_ms; /* APPLY_SLICE_MS, or 0: one session per tick (svc_plan_set_send_slice) */
	char (*booted)[STATION_ID_MAX + 1]; /* stations booted since the last tick */
	size_t n_booted;
	struct energy *energy; /* the node's calendars (svc/energy.h): a site's own calendar */
	/* the TxProfile shapes (station, unit, stack level) stations took since this node
	 * started (the key, inside the value): a later refusal of the same shape is a
	 * transaction that ended or did not start there, not a capability (on_profile_done) */
	struct hmap tx_ok;
	struct svc *svc;
	struct hmap tx_stations; /* id -> struct tx_station */
	uint64_t tx_seq, epoch_seq;
	uint64_t tx_sent, tx_skipped; /* TxProfiles of replans sent / skipped as unchanged */
	uint64_t rolls_skipped;	      /* slot starts where a site's plan stood (roll_needed()) */
	bool subscribed;	      /* to the event bus (station online) */
};

static void hook_booted(struct svc *s, const struct chg_station *st);
static void clear_station_profiles(struct svc *s, const char *site_id);
static void station_caps(struct svc *s, const char *station, struct svc_charge_caps *caps);
static void on_event(void *ud, const struct svc_event *ev);

static void hook_destroy(struct svc *s)
{
	struct svc_plans *p = *svc__plans(s);

	if (p && p->subscribed)
		svc_events_unsubscribe(s, on_event, p);
	svc_plan_stop(s);
	svc__plans_free(*svc__plans(s));
	*svc__plans(s) = NULL;
}

static const struct svc_plan_hooks plan_hooks = {
    .touch = svc_plan_touch,
    .sample = svc__plan_sample,
    .destroy = hook_destroy,
    .booted = hook_booted,
};

/* The planner's state of s, created on first use; it hooks itself into svc then. */
static struct svc_plans *plans_of(struct svc *s)
{
	struct svc_plans **pp = svc__plans(s);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (*pp) {
			pthread_mutex_init(&(*pp)->mu, NULL);
			pthread_cond_init(&(*pp)->cv, NULL);
			(*pp)->svc = s;
			(*pp)->slice_ms = APPLY_SLICE_MS;
			svc_set_plan_hooks(s, &plan_hooks);
			/* a station that connects again gets its TxProfiles again (tx_needed) */
			if (svc_events_subscribe(s, on_event, *pp) == 0)
				(*pp)->subscribed = true;
			else
				log_warn("planner: no event subscription; reconnected stations get "
					 "their TxProfiles at boot or refresh only");
		}
	}
	return *pp;
}

static void last_free(struct last_plan *l)
{
	for (size_t i = 0; l->tx && i < l->n; i++)
		free(l->tx[i].periods);
	free(l->ids);
	free(l->power_w);
	free(l->mode);
	free(l->tx);
	free(l->reg);
	memset(l, 0, sizeof(*l));
}

static void job_free(struct plan_job *j)
{
	if (!j)
		return;
	last_free(&j->ap.nl);
	json_decref(j->ap.sess);
	json_decref(j->ap.slots);
	free(j->ap.row);
	free(j->ap.order);
	free(j->js);
	free(j->ps);
	free(j->slots);
	sc_plan_result_release(&j->res);
	sc_plan_result_release(&j->imm);
	free(j);
}

static struct plan_site *site_of(struct svc_plans *p, const char *id)
{
	struct plan_site *ps = hmap_get(&p->sites, id);

	if (ps)
		return ps;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	snprintf(ps->id, sizeof(ps->id), "%s", id);
	ps->last_slot = -1;
	ps->max_sent_w = -1;
	if (hmap_put(&p->sites, ps->id, ps) < 0) {
		free(ps);
		return NULL;
	}
	return ps;
}

#define TX_OK_MAX 65536 /* remembered shapes; the memory is cleared beyond */

static void tx_ok_clear(struct hmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key ? m->slots[i].value : NULL);
	hmap_free(m);
}

void svc__plans_free(struct svc_plans *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->sites.cap; i++) {
		struct plan_site *ps = p->sites.slots[i].key ? p->sites.slots[i].value : NULL;

		if (!ps)
			continue;
		tariff_calendar_destroy(ps->cal);
		last_free(&ps->last);
		free(ps->pv.pv_w);
		free(ps->max_sent);
		free(ps->held);
		free(ps);
	}
	hmap_free(&p->sites);
	tx_ok_clear(&p->tx_ok);
	tx_ok_clear(&p->tx_stations); /* frees each value, then the map */
	free(p->booted);
	for (int k = 0; k < _SITE_KIND_MAX; k++)
		tariff_calendar_destroy(p->kind_cal[k]);
	while (p->todo) {
		struct plan_job *n = p->todo->next;

		job_free(p->todo);
		p->todo = n;
	}
	while (p->done) {
		struct plan_job *n = p->done->next;

		job_free(p->done);
		p->done = n;
	}
	while (p->applying) {
		struct plan_job *n = p->applying->next;

		job_free(p->applying);
		p->applying = n;
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

void svc_plan_set_send_slice(struct svc *s, int ms)
{
	struct svc_plans *p = plans_of(s);

	if (p)
		p->slice_ms = ms;
}

uint64_t svc_plan_count(struct svc *s)
{
	struct svc_plans *p = *svc__plans(s);

	return p ? p->applied : 0;
}

void svc_plan_tx_counts(struct svc *s, uint64_t *ret_sent, uint64_t *ret_skipped)
{
	struct svc_plans *p = *svc__plans(s);

	*ret_sent = p ? p->tx_sent : 0;
	*ret_skipped = p ? p->tx_skipped : 0;
}

uint64_t svc_plan_rolls_skipped(struct svc *s)
{
	struct svc_plans *p = *svc__plans(s);

	return p ? p->rolls_skipped : 0;
}

/* ---------------------------------------------------------------- sites, tariffs, limits */

int svc_plan_set_calendars(struct svc *s, struct energy *e)
{
	struct svc_plans *p = plans_of(s);

	if (!p)
		return -ENOMEM;
	p->energy = e;
	return 0;
}

/*
** A site's row, as the planner reads it: once per SITE_ROW_TTL_MS at most. Another node's
** edit of the site (limit, kind) is seen within that time; this node's own edits at once
** (svc_plan_site_changed()).
*/
#define SITE_ROW_TTL_MS 30000

static bool row_fresh(int64_t read_ms)
{
	return read_ms > 0 && clock_mono_ms() - read_ms < SITE_ROW_TTL_MS;
}

static int site_row(struct svc *s, const char *site_id, struct store_site *ret)
{
	struct svc_plans *p = *svc__plans(s);
	struct plan_site *ps = p && site_id ? hmap_get(&p->sites, site_id) : NULL;
	int r;

	if (ps && row_fresh(ps->row_ms)) {
		*ret = ps->row;
		return 0;
	}
	r = store_site_get(svc_store(s), site_id, ret);
	if (r == 0 && p && (ps || (ps = site_of(p, site_id)))) {
		ps->row = *ret;
		ps->row_ms = clock_mono_ms();
	}
	return r;
}

const struct tariff_calendar *svc_site_tariff(struct svc *s, const char *site_id)
{
	struct svc_plans *p = *svc__plans(s);
	struct plan_site *ps = p ? hmap_get(&p->sites, site_id) : NULL;
	const struct tariff_calendar *cal;
	struct store_site site;

	if (ps && ps->cal)
		return ps->cal;
	/* the calendar the operator assigned to the site (PUT /api/sites/{id}/tariff) */
	if (p && p->energy && site_id && *site_id && !row_fresh(ps ? ps->no_tariff_ms : 0)) {
		if (energy_site_calendar(p->energy, site_id, &cal, NULL) == 0)
			return cal;
		if (ps)
			ps->no_tariff_ms = clock_mono_ms();
	}
	if (!p || site_row(s, site_id, &site) < 0 || site.kind < 0 || site.kind >= _SITE_KIND_MAX)
		return NULL;
	return p->kind_cal[site.kind];
}

void svc_plan_site_changed(struct svc *s, const char *site_id)
{
	struct svc_plans *p = *svc__plans(s);
	struct plan_site *ps = p && site_id ? hmap_get(&p->sites, site_id) : NULL;

	if (ps)
		ps->row_ms = ps->no_tariff_ms = ps->pv_ms = 0;
	svc_plan_touch(s, site_id);
}

struct replaced_ud {
	struct svc *s;
	const char *tariff_id;
	int n;
};

static int replaced_site(const struct store_site_tariff *row, void *ud)
{
	struct replaced_ud *u = ud;

	if (row->tariff_id && !strcmp(row->tariff_id, u->tariff_id)) {
		svc_plan_site_changed(u->s, row->id);
		u->n++;
	}
	return 0;
}

int svc_plan_tariff_replaced(struct svc *s, const char *tariff_id)
{
	struct replaced_ud u = {s, tariff_id, 0};

	if (!tariff_id || !*tariff_id)
		return 0;
	if (store_site_tariffs_list(svc_store(s), NULL, replaced_site, &u) < 0)
		return -EIO;
	return u.n;
}

int svc_site_set_tariff(struct svc *s, const char *site_id, struct tariff_calendar *cal)
{
	struct svc_plans *p = plans_of(s);
	struct plan_site *ps = p ? site_of(p, site_id) : NULL;

	if (!ps)
		return -ENOMEM;
	tariff_calendar_destroy(ps->cal);
	ps->cal = cal;
	svc_plan_touch(s, site_id);
	return 0;
}

int svc_kind_set_tariff(struct svc *s, int site_kind, struct tariff_calendar *cal)
{
	struct svc_plans *p = plans_of(s);

	if (!p)
		return -ENOMEM;
	if (site_kind < 0 || site_kind >= _SITE_KIND_MAX)
		return -EINVAL;
	tariff_calendar_destroy(p->kind_cal[site_kind]);
	p->kind_cal[site_kind] = cal;
	return 0;
}

bool svc_site_managed(struct svc *s, const char *site_id)
{
	struct store_site site;

	if (!site_id || !*site_id || site_row(s, site_id, &site) < 0)
		return false;
	return site.kind == SITE_RESIDENTIAL || site.limit_w >= 0 || svc_site_tariff(s, site_id);
}

int svc_site_set_limit(struct svc *s, const char *site_id, int64_t limit_w)
{
	int r = store_site_set_limit(svc_store(s), site_id, limit_w < 0 ? -1 : limit_w);

	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EIO;
	if (limit_w < 0)
		clear_station_profiles(s, site_id);
	svc_plan_site_changed(s, site_id);
	return 0;
}

/* The forecast document as stored: {"start_ms", "slot_s", "pv_w"}. NULL without memory. */
static char *forecast_text(const struct svc_pv_forecast *f)
{
	json_t *w = json_array(), *o;
	char *text;

	for (size_t i = 0; w && i < f->n; i++)
		json_array_append_new(w, json_integer(f->pv_w[i]));
	o = json_pack("{s:I, s:i, s:o}", "start_ms", (json_int_t)f->start_ms, "slot_s", f->slot_s,
		      "pv_w", w);
	if (o && f->storage.present)
		json_object_set_new(o, "storage",
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "capacity_wh",
					      (json_int_t)f->storage.capacity_wh, "energy_wh",
					      (json_int_t)f->storage.energy_wh, "min_energy_wh",
					      (json_int_t)f->storage.min_energy_wh, "max_charge_w",
					      (json_int_t)f->storage.max_charge_w,
					      "max_discharge_w",
					      (json_int_t)f->storage.max_discharge_w));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

struct forecast_ud {
	struct svc_pv_forecast f;
	int err;
};

static bool storage_ok(const struct svc_site_storage *b)
{
	return b->capacity_wh > 0 && b->capacity_wh <= SVC_PV_W_MAX * 48 && b->energy_wh >= 0 &&
	       b->energy_wh <= b->capacity_wh && b->min_energy_wh >= 0 &&
	       b->min_energy_wh <= b->capacity_wh && b->max_charge_w >= 0 &&
	       b->max_charge_w <= SVC_PV_W_MAX && b->max_discharge_w >= 0 &&
	       b->max_discharge_w <= SVC_PV_W_MAX;
}

static int forecast_row(const char *key, int64_t ts_ms, const char *json, void *ud)
{
	struct forecast_ud *u = ud;
	json_t *o = json_loads(json, 0, NULL), *w = json_object_get(o, "pv_w"), *x;
	size_t i;

	(void)key;
	u->err = -EINVAL;
	if (!json_is_array(w) || json_array_size(w) > SVC_PV_MAX)
		goto out;
	u->f.start_ms = json_integer_value(json_object_get(o, "start_ms"));
	u->f.slot_s = (int)json_integer_value(json_object_get(o, "slot_s"));
	if (json_array_size(w) &&
	    (u->f.slot_s < SVC_PV_SLOT_S_MIN || u->f.slot_s > SVC_PV_SLOT_S_MAX))
		goto out;
	x = json_object_get(o, "storage");
	if (json_is_object(x)) {
		struct svc_site_storage *b = &u->f.storage;

		b->capacity_wh = json_integer_value(json_object_get(x, "capacity_wh"));
		b->energy_wh = json_integer_value(json_object_get(x, "energy_wh"));
		b->min_energy_wh = json_integer_value(json_object_get(x, "min_energy_wh"));
		b->max_charge_w = json_integer_value(json_object_get(x, "max_charge_w"));
		b->max_discharge_w = json_integer_value(json_object_get(x, "max_discharge_w"));
		b->present = storage_ok(b);
		if (!b->present)
			goto out;
	}
	u->f.set_ms = ts_ms;
	u->f.n = json_array_size(w);
	u->f.pv_w = calloc(u->f.n ? u->f.n : 1, sizeof(*u->f.pv_w));
	if (!u->f.pv_w) {
		u->err = -ENOMEM;
		goto out;
	}
	json_array_foreach(w, i, x)
		u->f.pv_w[i] = json_integer_value(x);
	u->err = 0;
out:
	json_decref(o);
	return 0;
}

/*
** A site's forecast as this node knows it: read from the store at most every SITE_ROW_TTL_MS
** (another node's PUT is seen within that, a restart reads it again), at once after a PUT
** through this node.
*/
static const struct svc_pv_forecast *site_pv(struct svc *s, struct plan_site *ps)
{
	struct forecast_ud u = {.err = -ENOENT};
	int r;

	if (row_fresh(ps->pv_ms))
		return &ps->pv;
	r = store_site_forecast_get(svc_store(s), ps->id, forecast_row, &u);
	if (r < 0 && r != -ENOENT)
		return &ps->pv; /* a storage failure: what was read last */
	if (u.err == -EINVAL)
		log_warn("site %s: stored PV forecast unreadable, ignored", ps->id);
	free(ps->pv.pv_w);
	ps->pv = u.err == 0 ? u.f : (struct svc_pv_forecast){0};
	if (u.err != 0)
		free(u.f.pv_w);
	ps->pv_ms = clock_mono_ms();
	return &ps->pv;
}

int svc_site_set_forecast(struct svc *s, const char *site_id, const struct svc_pv_forecast *f)
{
	struct svc_plans *p = plans_of(s);
	struct plan_site *ps;
	int64_t *w = NULL, now = svc_now_ms(s);
	char *text = NULL;
	int r;

	if (!site_id || !f || f->n > SVC_PV_MAX ||
	    (f->n && (!f->pv_w || f->slot_s < SVC_PV_SLOT_S_MIN || f->slot_s > SVC_PV_SLOT_S_MAX)))
		return -EINVAL;
	for (size_t i = 0; i < f->n; i++)
		if (f->pv_w[i] < 0 || f->pv_w[i] > SVC_PV_W_MAX)
			return -EINVAL;
	if (f->storage.present && !storage_ok(&f->storage))
		return -EINVAL;
	ps = p ? site_of(p, site_id) : NULL;
	if (!ps)
		return -ENOMEM;
	if (f->n || f->storage.present) {
		w = malloc((f->n ? f->n : 1) * sizeof(*w));
		text = forecast_text(f);
		if (!w || !text) {
			free(w);
			free(text);
			return -ENOMEM;
		}
		if (f->n)
			memcpy(w, f->pv_w, f->n * sizeof(*w));
	}
	r = store_site_forecast_put(svc_store(s), site_id, text ? text : "", now);
	free(text);
	if (r < 0) {
		free(w);
		return r;
	}
	free(ps->pv.pv_w);
	ps->pv = (struct svc_pv_forecast){.start_ms = f->start_ms,
					  .slot_s = f->n ? f->slot_s : 0,
					  .n = f->n,
					  .pv_w = w,
					  .set_ms = now,
					  .storage = f->storage};
	ps->pv_ms = clock_mono_ms();
	svc_plan_touch(s, site_id);
	return 0;
}

const struct svc_pv_forecast *svc_site_forecast(struct svc *s, const char *site_id)
{
	struct svc_plans *p = plans_of(s);
	struct plan_site *ps = p && site_id ? site_of(p, site_id) : NULL;
	const struct svc_pv_forecast *f = ps ? site_pv(s, ps) : NULL;

	return f && (f->n || f->storage.present) ? f : NULL;
}

int64_t svc_pv_average(const struct svc_pv_forecast *f, int64_t a_ms, int64_t b_ms)
{
	int64_t step, i0, sum = 0;

	if (!f || !f->n || b_ms <= a_ms)
		return 0;
	step = (int64_t)f->slot_s * 1000;
	i0 = a_ms > f->start_ms ? (a_ms - f->start_ms) / step : 0;
	for (int64_t i = i0; i < (int64_t)f->n; i++) {
		int64_t x = f->start_ms + i * step, y = x + step;
		if (x >= b_ms)
			break;
		if (x < a_ms)
			x = a_ms;
		if (y > b_ms)
			y = b_ms;
		if (y > x)
			sum += f->pv_w[i] * (y - x);
	}
	return sum / (b_ms - a_ms);
}

int svc_grid_event_add(struct svc *s, struct store_grid_event *e)
{
	char buf[512], *save = NULL, *tok;
	int r;

	if (!e->sites || !*e->sites || e->end_ms <= e->start_ms || e->reduce_w < 0 ||
	    e->export_w < 0 || e->bonus_fen_per_kwh < 0 || strlen(e->sites) >= sizeof(buf))
		return -EINVAL;
	e->created_ms = svc_now_ms(s);
	r = store_grid_event_add(svc_store(s), e, &e->id);
	if (r < 0)
		return -EIO;
	snprintf(buf, sizeof(buf), "%s", e->sites);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		svc_plan_touch(s, tok);
	return 0;
}

/* ---------------------------------------------------------------- needs */

struct find_ud {
	int64_t id;
	int evse_id;
	struct store_site_session row;
	char station[STATION_ID_MAX + 1];
	bool found;
};

static int find_session(const struct store_site_session *row, void *ud)
{
	struct find_ud *f = ud;

	if ((f->id && row->id == f->id) || (!f->id && !strcmp(row->station_id, f->station) &&
					    (f->evse_id == 0 || row->evse_id == f->evse_id))) {
		f->row = *row;
		f->row.station_id = NULL;
		f->row.station_tx_id = NULL;
		f->id = row->id;
		f->found = true;
		return -ECANCELED; /* stop */
	}
	return 0;
}

/* Whether the planner acts on the needs of a session on station st of site_id: a managed site,
 * and a station whose capability record does not say it refuses charging profiles (the plan of
 * such a station is never sent). */
static bool needs_acted_on(struct svc *s, const char *site_id, const char *st)
{
	struct svc_charge_caps caps;

	if (!svc_site_managed(s, site_id))
		return false;
	svc_caps_default(&caps);
	station_caps(s, st, &caps);
	return caps.smart_charging;
}

static int needs_store(struct svc *s, const char *site_id, const char *station, int64_t session_id,
		       const struct store_site_session *row, const char *source,
		       const struct svc_needs_in *in, bool *ret_managed)
{
	struct store_needs n;
	int r = store_needs_get(svc_store(s), session_id, &n);

	if (r == -ENOENT) {
		memset(&n, 0, sizeof(n));
		n.session_id = session_id;
		n.departure_ms = n.energy_wh = n.capacity_wh = n.max_charge_w = -1;
		n.max_discharge_w = n.meter_wh = n.export_wh = -1;
		n.target_soc = n.soc = n.soc_floor = -1;
	} else if (r < 0) {
		return -EIO;
	}
	if ((in->soc > 100) || (in->target_soc > 100) || (in->soc_floor > 100))
		return -EINVAL;
	snprintf(n.source, sizeof(n.source), "%s", source);
#define TAKE(f)                                                                                    \
	if (in->f >= 0)                                                                            \
	n.f = in->f
	TAKE(departure_ms);
	TAKE(capacity_wh);
	TAKE(target_soc);
	TAKE(soc_floor);
	TAKE(max_charge_w);
	TAKE(max_discharge_w);
#undef TAKE
	if (in->v2g >= 0)
		n.v2g = in->v2g;
	if (in->bidirectional >= 0)
		n.bidirectional = in->bidirectional;
	if (in->energy_wh >= 0 || in->soc >= 0) {
		/* a fresh reading of what is needed: count from the registers of now */
		if (in->energy_wh >= 0)
			n.energy_wh = in->energy_wh;
		if (in->soc >= 0)
			n.soc = in->soc;
		n.meter_wh = row->meter_wh;
		n.export_wh = row->export_wh;
	}
	n.updated_ms = svc_now_ms(s);
	r = store_needs_put(svc_store(s), &n);
	if (r < 0)
		return -EIO;
	if (ret_managed)
		*ret_managed = needs_acted_on(s, site_id, station);
	svc_plan_touch(s, site_id);
	return 0;
}

int svc_needs_from_station(struct svc *s, const struct chg_station *st, int evse_id,
			   const char *source, const struct svc_needs_in *in, bool *ret_managed)
{
	struct find_ud f = {.evse_id = evse_id};
	int r;

	if (!st->site_id[0])
		return -ENOENT;
	snprintf(f.station, sizeof(f.station), "%s", st->id);
	r = store_site_sessions(svc_store(s), st->site_id, find_session, &f);
	if (r < 0 && r != -ECANCELED)
		return -EIO;
	if (!f.found)
		return -ENOENT;
	return needs_store(s, st->site_id, st->id, f.id, &f.row, source, in, ret_managed);
}

int svc_needs_set(struct svc *s, int64_t session_id, const char *source,
		  const struct svc_needs_in *in, bool *ret_managed)
{
	char owner[STATION_ID_MAX + 1];
	struct store_station st;
	struct find_ud f = {.id = session_id};
	bool active;
	int evse, r;

	r = store_session_owner(svc_store(s), session_id, owner, &evse, &active);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EIO;
	if (!active)
		return -ENOENT;
	r = store_station_get(svc_store(s), owner, &st);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EIO;
	if (!st.site_id[0])
		return -ENOENT;
	r = store_site_sessions(svc_store(s), st.site_id, find_session, &f);
	if (r < 0 && r != -ECANCELED)
		return -EIO;
	if (!f.found)
		return -ENOENT;
	return needs_store(s, st.site_id, owner, session_id, &f.row, source, in, ret_managed);
}

/* An import register reading of a planned session: the latest one its plan will be held
 * against (roll_needed()). */
static void reading_in(struct last_plan *l, const struct store_sample *row, int64_t wh)
{
	for (size_t i = 0; l->reg && i < l->n; i++)
		if (l->ids[i] == row->session_id) {
			if (row->ts_ms > l->reg[i].b_ts) {
				l->reg[i].b_ts = row->ts_ms;
				l->reg[i].b_wh = wh;
			}
			return;
		}
}

/* (in the site's last plan, and in the one being sent, which carries it on) */
static void plan_reading(struct svc *s, const struct store_sample *row, int64_t wh)
{
	struct svc_plans *p = *svc__plans(s);
	const struct chg_station *st = p ? svc_station_find(s, row->station_id) : NULL;
	struct plan_site *site = st && st->site_id[0] ? hmap_get(&p->sites, st->site_id) : NULL;

	if (!site)
		return;
	reading_in(&site->last, row, wh);
	if (site->applying)
		reading_in(&site->applying->ap.nl, row, wh);
}

void svc__plan_sample(struct svc *s, const struct store_sample *row)
{
	double v;

	if (!row->session_id ||
	    (row->measurand_kind != MEAS_ENERGY_EXPORT_REGISTER &&
	     row->measurand_kind != MEAS_ENERGY_IMPORT_REGISTER) ||
	    (row->phase && *row->phase) || !row->value)
		return;
	v = strtod(row->value, NULL);
	if (row->unit && !strcmp(row->unit, "kWh"))
		v *= 1000.0;
	if (row->measurand_kind == MEAS_ENERGY_IMPORT_REGISTER) {
		if (v >= 0 && v < 9e15)
			plan_reading(s, row, (int64_t)(v + 0.5));
		return;
	}
	if (v >= 0 &&
	    store_session_export(svc_store(s), row->session_id, (int64_t)(v + 0.5), row->ts_ms) < 0)
		log_warn("session %lld: export register not recorded", (long long)row->session_id);
}

/* ---------------------------------------------------------------- replans */

void svc_plan_touch(struct svc *s, const char *site_id)
{
	struct svc_plans *p;
	struct plan_site *ps;

	if (!site_id || !*site_id)
		return;
	p = plans_of(s);
	ps = p ? site_of(p, site_id) : NULL;
	if (!ps)
		return;
	ps->due_ms = svc_plan_debounce(&ps->first_ms, svc_now_ms(s), DEBOUNCE_MS, MAX_DELAY_MS);
	ps->dirty = true;
}

static int64_t slot_floor(int64_t t)
{
	int64_t r = t % SLOT_MS;

	return t - (r < 0 ? r + SLOT_MS : r);
}

/* The next local hh:mm after t for a site in offset_min. */
static int64_t next_local(int64_t t, int offset_min, int minute_of_day)
{
	int64_t off = offset_min * 60000LL, day = 86400000LL;
	int64_t local = t + off, base = local - ((local % day) + day) % day;
	int64_t at = base + minute_of_day * 60000LL;

	if (at <= local)
		at += day;
	return at - off;
}

static int64_t last_power(const struct last_plan *l, int64_t id, int64_t t, int *ret_mode)
{
	int k = l->n_slots ? (int)((t - l->start_ms) / SLOT_MS) : -1;

	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == id) {
			if (ret_mode)
				*ret_mode = l->mode[i];
			if (t < l->start_ms || k < 0 || k >= l->n_slots)
				return -1;
			return l->power_w[i * (size_t)l->n_slots + (size_t)k];
		}
	return -1;
}

struct gather {
	struct svc *s;
	struct store_site site;
	struct plan_site *ps;
	struct plan_job *j;
	size_t cap;
	int offset_min;
	int err;
};

/*
** Whether station st's EVSEs can discharge: what the operator set in its model's capability
** record (override `bidirectional`) wins over what the station declared for the session
** (declared, from its EVChargingNeeds). Read only for sessions whose driver allows V2G.
*/
static bool station_bidirectional(struct svc *s, const char *st, bool declared)
{
	struct svc_model_caps c;
	json_t *o, *v;
	bool r = declared;

	if (svc_station_caps(s, st, &c) < 0)
		return declared;
	o = json_loads(c.override, 0, NULL);
	v = json_object_get(o, "bidirectional");
	if (json_is_boolean(v))
		r = json_is_true(v);
	json_decref(o);
	return r;
}

static int gather_session(const struct store_site_session *row, void *ud)
{
	struct gather *g = ud;
	struct plan_job *j = g->j;
	struct store_needs n;
	struct job_session *js;
	struct sc_plan_session *ps;
	int64_t max_w = g->site.kind == SITE_RESIDENTIAL ? DEFAULT_RES_W : DEFAULT_OTHER_W;
	int64_t d = 0, x = 0;
	int r = store_needs_get(svc_store(g->s), row->id, &n);

	if (r == -ENOENT) {
		if (g->site.kind != SITE_RESIDENTIAL)
			return 0; /* public: as fast as allowed, not planned */
		memset(&n, 0, sizeof(n));
		snprintf(n.source, sizeof(n.source), "default");
		n.departure_ms = -1;
		n.energy_wh = DEFAULT_NEED_WH;
		n.capacity_wh = n.max_charge_w = n.max_discharge_w = -1;
		n.target_soc = n.soc = n.soc_floor = -1;
		n.meter_wh = row->meter_start_wh;
		n.export_wh = -1;
	} else if (r < 0) {
		g->err = -EIO;
		return -EIO;
	}
	if (j->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		void *a = realloc(j->js, cap * sizeof(*j->js)), *b;

		if (!a)
			return -ENOMEM;
		j->js = a;
		b = realloc(j->ps, cap * sizeof(*j->ps));
		if (!b)
			return -ENOMEM;
		j->ps = b;
		g->cap = cap;
	}
	js = &j->js[j->n];
	ps = &j->ps[j->n];
	memset(js, 0, sizeof(*js));
	memset(ps, 0, sizeof(*ps));
	js->id = row->id;
	snprintf(js->station, sizeof(js->station), "%s", row->station_id);
	snprintf(js->tx, sizeof(js->tx), "%s", row->station_tx_id ? row->station_tx_id : "");
	js->evse_id = row->evse_id > 0 ? row->evse_id : 1;
	/* the default is the EVSE's power when nothing better is known: an EV's own limit only
	 * lowers it, but a swap station knows its slots (docs/swap.md: the rack's needs carry the
	 * slot power the promise counts on): a rack planned at 22 kW where its slots give 60
	 * missed its promises (sim-swap-day) */
	if (n.max_charge_w > 0 &&
	    (n.max_charge_w < max_w || (g->site.kind == SITE_SWAP && !strcmp(n.source, "station"))))
		max_w = n.max_charge_w;
	ps->max_charge_w = max_w;
	js->discharge_ok = n.v2g && station_bidirectional(g->s, row->station_id, n.bidirectional);
	ps->v2g = js->discharge_ok;
	ps->max_discharge_w =
	    js->discharge_ok ? (n.max_discharge_w > 0 ? n.max_discharge_w : max_w) : 0;
	if (n.meter_wh >= 0 && row->meter_wh >= n.meter_wh)
		d = row->meter_wh - n.meter_wh;
	if (n.export_wh >= 0 && row->export_wh >= n.export_wh)
		x = row->export_wh - n.export_wh;
	else if (n.export_wh < 0 && row->export_first_wh >= 0)
		x = row->export_wh - row->export_first_wh;
	if (n.capacity_wh > 0 && n.soc >= 0) {
		int64_t cap = n.capacity_wh;
		int64_t now = cap * n.soc / 100 + d - x;
		/* energyAmountWh is exact where the percentages are whole (docs/v2g.md): the
		 * target is what is still needed on top of the SoC told with it */
		int64_t target = n.energy_wh >= 0    ? cap * n.soc / 100 + n.energy_wh
				 : n.target_soc >= 0 ? cap * n.target_soc / 100
						     : cap;

		ps->capacity_wh = cap;
		ps->energy_now_wh = now < 0 ? 0 : now > cap ? cap : now;
		ps->target_wh = target > cap ? cap : target;
		ps->floor_wh = n.soc_floor >= 0 ? cap * n.soc_floor / 100 : 0;
		if (ps->floor_wh > cap)
			ps->floor_wh = cap;
	} else {
		int64_t need = (n.energy_wh >= 0 ? n.energy_wh : DEFAULT_NEED_WH) - d + x;

		ps->capacity_wh = 0;
		ps->energy_now_wh = 0;
		ps->target_wh = need > 0 ? need : 0;
		ps->floor_wh = 0;
		ps->v2g = false; /* without a battery model there is nothing to discharge from */
		ps->max_discharge_w = 0;
		js->discharge_ok = false;
	}
	js->departure_ms = n.departure_ms > 0 ? n.departure_ms
			   : g->site.kind == SITE_RESIDENTIAL
			       ? next_local(j->now_ms, g->offset_min, RES_LEAVE_MIN)
			       : j->now_ms + 4 * 3600000LL;
	js->target_wh = ps->target_wh;
	j->n++;
	return 0;
}

struct ev_ud {
	struct plan_job *j;
	int n_slots;
	int64_t next;
};

/* A grid event into the slots it overlaps: reduce -> an import cap below the site limit,
 * export -> the export asked and its bonus. */
static int event_slots(const struct store_grid_event *e, void *ud)
{
	struct ev_ud *eu = ud;
	struct plan_job *j = eu->j;
	size_t used = strlen(j->events);

	for (int k = 0; k < eu->n_slots; k++) {
		int64_t a = eu->next + k * SLOT_MS, b = a + SLOT_MS;
		struct sc_plan_slot *sl = &j->slots[k];

		if (b <= e->start_ms || a >= e->end_ms)
			continue;
		if (e->reduce_w > 0) {
			/* X below the limit, or on a site without one below what its sessions
			 * there would draw at full power (their load unmanaged) */
			int64_t base = j->limit_w, cap;

			if (base < 0) {
				base = 0;
				for (size_t i = 0; i < j->n; i++)
					if (k < j->ps[i].departure_slot)
						base += j->ps[i].max_charge_w;
			}
			cap = base - e->reduce_w;

			if (cap < 0)
				cap = 0;
			if (sl->event_import_cap_w < 0 || cap < sl->event_import_cap_w)
				sl->event_import_cap_w = cap;
		}
		if (e->export_w > 0) {
			sl->event_export_w += e->export_w;
			sl->export_limit_w = sl->event_export_w;
			if (j->limit_w >= 0 && sl->export_limit_w > j->limit_w)
				sl->export_limit_w = j->limit_w;
			sl->event_bonus_fen_per_mwh = e->bonus_fen_per_kwh * 1000;
		}
	}
	if (used + 24 < sizeof(j->events))
		snprintf(j->events + used, sizeof(j->events) - used, "%s%lld", used ? "," : "",
			 (long long)e->id);
	return 0;
}

/* The battery-wear cost per MWh discharged (config planner_wear_fen_per_mwh). */
static int64_t wear_fen_per_mwh(struct svc *s)
{
	const struct cfg *c = svc_cfg(s);

	return c ? c->planner_wear_fen_per_mwh : 20000;
}

/* Stored, not kept here: a restart or the node that takes the station over plans with it. */
int svc_station_ext_limit(struct svc *s, const struct chg_station *st, int evse_id, int64_t limit_w,
			  int64_t until_ms)
{
	int r;

	if (!st)
		return -EINVAL;
	if (evse_id < 0)
		return -ERANGE;
	r = store_station_ext_limit_put(svc_store(s), st->id, evse_id, limit_w, until_ms,
					svc_now_ms(s));
	if (r < 0)
		return r;
	log_info("[cp %s] external limit on EVSE %d: %lld W", st->id, evse_id, (long long)limit_w);
	if (st->site_id[0])
		svc_plan_site_changed(s, st->site_id);
	return 0;
}

/* One stored external limit on a job's sessions: an EVSE's cap holds each of its sessions, a
 * station's is shared equally by the station's sessions. */
static int apply_ext_limit(const struct store_ext_limit *e, void *ud)
{
	struct plan_job *j = ud;
	size_t n = 0;

	for (size_t i = 0; i < j->n; i++)
		n += !strcmp(j->js[i].station, e->station_id) &&
		     (!e->evse_id || j->js[i].evse_id == e->evse_id);
	for (size_t i = 0; n && i < j->n; i++) {
		int64_t cap = e->limit_w / (int64_t)n;

		if (strcmp(j->js[i].station, e->station_id) ||
		    (e->evse_id && j->js[i].evse_id != e->evse_id))
			continue;
		if (j->ps[i].max_charge_w > cap)
			j->ps[i].max_charge_w = cap;
	}
	return 0;
}

/* The external limits of the job's site in force now (the store drops the expired ones). */
static int apply_ext_limits(struct svc *s, struct plan_job *j)
{
	int r = store_site_ext_limits(svc_store(s), j->site, j->now_ms, apply_ext_limit, j);

	return r < 0 ? r : 0;
}

/* Build the job of a due site on the loop (store reads only). NULL when nothing to plan. */
static struct plan_job *build_job(struct svc *s, struct svc_plans *p, struct plan_site *site)
{
	const struct tariff_calendar *cal = svc_site_tariff(s, site->id);
	struct plan_job *j = calloc(1, sizeof(*j));
	struct gather g = {.s = s, .ps = site, .j = j};
	int64_t next, headroom, frozen_sum = 0;
	int n_slots = 1;
	size_t fresh = 0;
	int r;

	(void)p;
	if (!j)
		return NULL;
	snprintf(j->site, sizeof(j->site), "%s", site->id);
	j->now_ms = svc_now_ms(s);
	j->cur_ms = slot_floor(j->now_ms);
	next = j->cur_ms + SLOT_MS;
	if (site_row(s, site->id, &g.site) < 0)
		goto fail;
	j->limit_w = g.site.limit_w;
	g.offset_min = cal ? cal->utc_offset_min : DEFAULT_OFFSET_MIN;
	r = store_site_sessions(svc_store(s), site->id, gather_session, &g);
	if (r < 0 || g.err)
		goto fail;
	site->has_sessions = j->n > 0;
	if (!j->n)
		goto fail;
	if (apply_ext_limits(s, j) < 0)
		goto fail;

	/* the slot in progress: what the last plan gave, a share of the rest to new sessions */
	for (size_t i = 0; i < j->n; i++) {
		int64_t w = last_power(&site->last, j->js[i].id, j->cur_ms, NULL);

		j->js[i].frozen_w = w;
		if (w >= 0)
			frozen_sum += w;
		else if (w < -1)
			frozen_sum += w;
		if (w == -1)
			fresh++;
	}
	/* the PV of the slot in progress adds to what is left of the limit in it */
	j->pv_cur_w = svc_pv_average(site_pv(s, site), j->cur_ms, next);
	headroom = j->limit_w >= 0 ? j->limit_w + j->pv_cur_w - frozen_sum : INT64_MAX;
	for (size_t i = 0; i < j->n; i++) {
		struct sc_plan_session *ps = &j->ps[i];
		int64_t rem = next - j->now_ms, w = j->js[i].frozen_w, e;

		if (w == -1) {
			w = headroom <= 0	    ? 0
			    : headroom == INT64_MAX ? ps->max_charge_w
						    : headroom / (int64_t)fresh;
			if (w > ps->max_charge_w)
				w = ps->max_charge_w;
			if (ps->target_wh <= ps->energy_now_wh)
				w = 0;
			j->js[i].frozen_w = w;
		}
		/* what the rest of the slot in progress will move: an EV stops charging at its
		 * target, so never more than that (counting it all had a V2G EV at its target
		 * by 07:23 planned to discharge at 07:30 what it was thought to hold above it,
		 * and leave short at 07:52: sim-valley-day on a loaded machine) */
		e = w * rem / 3600000;
		if (e > 0 && ps->target_wh > 0)
			e = ps->energy_now_wh >= ps->target_wh ? 0
			    : e < ps->target_wh - ps->energy_now_wh
				? e
				: ps->target_wh - ps->energy_now_wh;
		ps->energy_now_wh += e;
		if (ps->capacity_wh > 0 && ps->energy_now_wh > ps->capacity_wh)
			ps->energy_now_wh = ps->capacity_wh;
		if (ps->capacity_wh == 0) {
			ps->target_wh -= ps->energy_now_wh;
			if (ps->target_wh < 0)
				ps->target_wh = 0;
			ps->energy_now_wh = 0;
		}
		if (ps->energy_now_wh < 0)
			ps->energy_now_wh = 0;
		if (ps->capacity_wh > 0 && ps->floor_wh > ps->capacity_wh)
			ps->floor_wh = ps->capacity_wh;
		ps->arrival_slot = 0;
		{
			int64_t dep = j->js[i].departure_ms;
			int64_t k = dep > next ? (dep - next) / SLOT_MS : 0;

			/* leaving within the first slot planned (or the one in progress): that
			 * slot (4 slots let the need go past the departure, into the cheapest of
			 * the hour after it); overdue: within the hour */
			if (k < 1)
				k = dep > j->now_ms ? 1 : 4;
			if (k > SC_PLAN_MAX_SLOTS)
				k = SC_PLAN_MAX_SLOTS;
			ps->departure_slot = (int)k;
			if (k > n_slots)
				n_slots = (int)k;
		}
	}
	/* the site's battery: a bidirectional pseudo-session over the whole horizon, to end it
	 * with the energy it has now, never below its minimum */
	if (site_pv(s, site)->storage.present) {
		const struct svc_site_storage *b = &site->pv.storage;
		struct sc_plan_session *bs;

		if (j->n == g.cap) {
			void *a = realloc(j->ps, (j->n + 1) * sizeof(*j->ps));

			if (!a)
				goto fail;
			j->ps = a;
		}
		bs = &j->ps[j->n];
		*bs = (struct sc_plan_session){
		    .max_charge_w = b->max_charge_w,
		    .max_discharge_w = b->max_discharge_w,
		    .capacity_wh = b->capacity_wh,
		    .energy_now_wh = b->energy_wh,
		    .target_wh = b->energy_wh,
		    .floor_wh = b->min_energy_wh,
		    .arrival_slot = 0,
		    .departure_slot = n_slots,
		    .v2g = b->max_discharge_w > 0,
		};
		j->storage = true;
		j->battery = *b;
	}
	j->slots = calloc((size_t)n_slots, sizeof(*j->slots));
	if (!j->slots)
		goto fail;
	for (int k = 0; k < n_slots; k++)
		j->slots[k] = (struct sc_plan_slot){
		    .import_limit_w = j->limit_w >= 0 ? j->limit_w : SC_PLAN_NO_LIMIT,
		    .export_limit_w = 0, /* export only where a grid event asks (below) */
		    .event_import_cap_w = -1,
		};
	if (cal && sc_plan_slots_from_tariff(cal, next, n_slots, j->slots) < 0)
		log_warn("site %s: no tariff for the horizon; planning at price 0", site->id);
	/* PV: free local supply in each slot, the limit bounds the import (load - PV) */
	for (int k = 0; k < n_slots; k++)
		j->slots[k].pv_w =
		    svc_pv_average(site_pv(s, site), next + k * SLOT_MS, next + (k + 1) * SLOT_MS);
	{
		struct ev_ud eu = {j, n_slots, next};

		if (store_grid_events_list(svc_store(s), site->id, next, event_slots, &eu) < 0)
			goto fail;
	}
	j->in = (struct sc_plan_input){
	    .n_sessions = j->n + (j->storage ? 1 : 0),
	    .sessions = j->ps,
	    .n_slots = n_slots,
	    .slots = j->slots,
	    .wear_fen_per_mwh = wear_fen_per_mwh(s),
	    .time_limit_ms = SOLVE_LIMIT_MS,
	    .method = SC_PLAN_METHOD_AUTO,
	};
	return j;
fail:
	job_free(j);
	return NULL;
}

static void solve(struct plan_job *j)
{
	int64_t t0 = clock_mono_ms();

	j->rc = sc_plan_solve(&j->in, &j->res);
	j->rc_imm = sc_plan_immediate(&j->in, &j->imm);
	j->solve_ms = clock_mono_ms() - t0;
}

static void *worker(void *arg)
{
	struct svc_plans *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct plan_job *j;

		while (!p->todo && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stopping)
			break;
		j = p->todo;
		p->todo = j->next;
		pthread_mutex_unlock(&p->mu);
		solve(j);
		pthread_mutex_lock(&p->mu);
		j->next = p->done;
		p->done = j;
	}
	pthread_mutex_unlock(&p->mu);
	glp_free_env(); /* this thread's GLPK environment (planner.c) */
	return NULL;
}

int svc_plan_start(struct svc *s)
{
	struct svc_plans *p = plans_of(s);

	if (!p)
		return -ENOMEM;
	if (p->running)
		return 0;
	p->stopping = false;
	if (pthread_create(&p->thread, NULL, worker, p) != 0)
		return -EAGAIN;
	p->running = true;
	return 0;
}

void svc_plan_stop(struct svc *s)
{
	struct svc_plans *p = *svc__plans(s);

	if (!p || !p->running)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->running = false;
}

/* ---------------------------------------------------------------- applying a plan */

struct sent {
	struct svc *s;
	char model[STATION_ID_MAX * 2 + 2];
	char station[STATION_ID_MAX + 1];
	char site[SITE_ID_MAX + 1]; /* a session's TxProfile: its site and ... */
	uint64_t seq;		    /* ... the send (struct tx_rec), 0 for other profiles */
	bool amps;
	int stack;
	int64_t session_id; /* 0: a station-level profile */
};

/* ---------------------------------------------------------------- TxProfiles sent only when
 * they change (docs/v2g.md "Sending only what changed") */

/* The station's entry, created (with a new epoch) when create is set; NULL otherwise or when
 * out of memory. */
static struct tx_station *tx_station(struct svc_plans *p, const char *id, const char *site,
				     bool create)
{
	struct tx_station *st = hmap_get(&p->tx_stations, id);

	if (st || !create)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	snprintf(st->id, sizeof(st->id), "%s", id);
	snprintf(st->site, sizeof(st->site), "%s", site);
	st->epoch = ++p->epoch_seq;
	if (hmap_put(&p->tx_stations, st->id, st) < 0) {
		free(st);
		return NULL;
	}
	return st;
}

/* Station id connected again or booted: what it held may be gone, so each TxProfile it was
 * sent goes out again at the next plan of its site, which is asked for now. Nothing happens
 * for a station that was never sent one. */
static void tx_station_renew(struct svc *s, struct svc_plans *p, const char *id, const char *site)
{
	struct tx_station *st = tx_station(p, id, site, false);

	if (!st)
		return;
	st->epoch = ++p->epoch_seq;
	if (site && *site && strcmp(st->site, site))
		snprintf(st->site, sizeof(st->site), "%s", site);
	svc_plan_touch(s, st->site);
}

/* The event bus (after the group commit): a station online on this node. */
static void on_event(void *ud, const struct svc_event *ev)
{
	struct svc_plans *p = ud;

	if (ev->kind == SVC_EV_STATION_ONLINE)
		tx_station_renew(p->svc, p, ev->station, NULL);
}

/* The period of a schedule from start_ms in force at t, or -1 (none yet). */
static int period_at(int64_t start_ms, const struct svc_power_period *pp, size_t n, int64_t t)
{
	int at = -1;

	for (size_t q = 0; q < n && start_ms + pp[q].start_s * 1000 <= t; q++)
		at = (int)q;
	return at;
}

/*
** Whether a station that follows the profile of rec from now_ms on would follow prof alike:
** the same id, stack level and unit, and at every instant from now_ms on the same limit (and
** phases). Periods already past do not count, so a schedule that starts a slot later only
** because time passed is the same one.
*/
static bool tx_same_future(const struct tx_rec *rec, const struct svc_charging_profile *prof,
			   int64_t now_ms)
{
	const struct svc_power_period *a = rec->periods, *b = prof->periods;
	size_t na = rec->n_periods, nb = prof->n_periods;

	if (rec->prof_id != prof->id || rec->stack_level != prof->stack_level ||
	    rec->rate_unit != prof->rate_unit || !a)
		return false;
	/* both are step functions of time: equal at now and at each step of either */
	for (size_t q = 0; q <= na + nb; q++) {
		int64_t t = q == 0    ? now_ms
			    : q <= na ? rec->start_ms + a[q - 1].start_s * 1000
				      : prof->start_ms + b[q - 1 - na].start_s * 1000;
		int ia, ib;

		if (t < now_ms)
			continue;
		ia = period_at(rec->start_ms, a, na, t);
		ib = period_at(prof->start_ms, b, nb, t);
		if ((ia < 0) != (ib < 0))
			return false;
		if (ia >= 0 && (a[ia].limit != b[ib].limit || a[ia].phases != b[ib].phases))
			return false;
	}
	return true;
}

/*
** Whether a session's TxProfile prof must go to station (rec: what was sent before): when it
** was never sent, the last send failed (refused, timed out, not delivered), the station
** connected or booted since, an accepted one is TX_REFRESH_MS old, or what the station would
** follow from now_ms on differs. One on its way with the same future is not sent again: if it
** fails, the next plan sends it.
*/
static bool tx_needed(struct svc_plans *p, const struct tx_rec *rec, const char *station,
		      const struct svc_charging_profile *prof, int64_t now_ms)
{
	const struct tx_station *st = tx_station(p, station, NULL, false);

	if (rec->state == TX_NONE || rec->state == TX_FAILED || !st || st->epoch != rec->epoch)
		return true;
	if (rec->state == TX_ACCEPTED && now_ms - rec->sent_ms >= TX_REFRESH_MS)
		return true;
	return !tx_same_future(rec, prof, now_ms);
}

/* rec becomes the send seq of prof to station at now_ms (pending), or failed. */
static void tx_record(struct svc_plans *p, struct tx_rec *rec, const char *station,
		      const char *site, const struct svc_charging_profile *prof, uint64_t seq,
		      bool sent, int64_t now_ms)
{
	const struct tx_station *st = tx_station(p, station, site, true);

	free(rec->periods);
	memset(rec, 0, sizeof(*rec));
	rec->state = TX_FAILED;
	if (!sent || !st)
		return;
	rec->periods = malloc(prof->n_periods * sizeof(*rec->periods));
	if (!rec->periods)
		return;
	memcpy(rec->periods, prof->periods, prof->n_periods * sizeof(*rec->periods));
	rec->n_periods = prof->n_periods;
	rec->seq = seq;
	rec->epoch = st->epoch;
	rec->state = TX_PENDING;
	rec->sent_ms = now_ms;
	rec->prof_id = prof->id;
	rec->stack_level = prof->stack_level;
	rec->rate_unit = prof->rate_unit;
	rec->start_ms = prof->start_ms;
}

/* A copy of what the last plan recorded for session id into *ret (zero: nothing). */
static int tx_carry(const struct last_plan *l, int64_t id, struct tx_rec *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; l->tx && i < l->n; i++) {
		if (l->ids[i] != id || !l->tx[i].periods)
			continue;
		*ret = l->tx[i];
		ret->periods = malloc(ret->n_periods * sizeof(*ret->periods));
		if (!ret->periods) {
			memset(ret, 0, sizeof(*ret));
			return -ENOMEM;
		}
		memcpy(ret->periods, l->tx[i].periods, ret->n_periods * sizeof(*ret->periods));
		return 0;
	}
	return 0;
}

static void tx_answer_in(struct last_plan *l, const struct sent *t, bool accepted)
{
	for (size_t i = 0; l->tx && i < l->n; i++)
		if (l->ids[i] == t->session_id && l->tx[i].seq == t->seq) {
			l->tx[i].state = accepted ? TX_ACCEPTED : TX_FAILED;
			return;
		}
}

/* The answer to TxProfile send t: the record of its session, if that send is still its last,
 * in the site's last plan and in the one being sent (which carries the record on). */
static void tx_answered(const struct sent *t, bool accepted)
{
	struct svc_plans *p = *svc__plans(t->s);
	struct plan_site *site = p && t->seq ? hmap_get(&p->sites, t->site) : NULL;

	if (!site)
		return;
	tx_answer_in(&site->last, t, accepted);
	if (site->applying)
		tx_answer_in(&site->applying->ap.nl, t, accepted);
}

/* Whether session id is still running (a profile for an ended transaction is refused by any
 * station: that teaches nothing about what it accepts). */
static bool session_active(struct svc *s, int64_t id)
{
	char owner[STATION_ID_MAX + 1];
	bool active = false;
	int evse;

	return store_session_owner(svc_store(s), id, owner, &evse, &active) == 0 && active;
}

/* ---------------------------------------------------------------- capability records */

/* Members a record may hold (svc_caps_from_json's): an override names only these. */
static const char *const caps_members[] = {
    "smart_charging", "station_max", "amps",  "tx_stack_level", "max_stack_level",
    "max_periods",    "phases",	     "volts", "bidirectional",
};

static bool caps_member_known(const char *k)
{
	for (size_t i = 0; i < sizeof(caps_members) / sizeof(caps_members[0]); i++)
		if (!strcmp(k, caps_members[i]))
			return true;
	return false;
}

/* Copy src (NULL: "") into dst of len bytes, cut to fit. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= len)
		n = len - 1;
	if (n)
		memmove(dst, src, n);
	dst[n] = '\0';
}

struct mcaps_ud {
	struct svc_model_caps *out;
	bool found;
};

static int mcaps_row(const struct store_model_caps *row, void *ud)
{
	struct mcaps_ud *u = ud;
	struct svc_model_caps *c = u->out;

	u->found = true;
	copy_str(c->vendor, sizeof(c->vendor), row->vendor);
	copy_str(c->model, sizeof(c->model), row->model);
	copy_str(c->learned, sizeof(c->learned), row->learned ? row->learned : "{}");
	copy_str(c->override, sizeof(c->override), row->override ? row->override : "{}");
	copy_str(c->reason, sizeof(c->reason), row->reason);
	c->updated_ms = row->learned ? row->updated_ms : 0;
	return 0;
}

/* effective = defaults <- learned <- override */
static void mcaps_effective(struct svc_model_caps *c)
{
	svc_caps_default(&c->effective);
	if (svc_caps_from_json(c->learned, &c->effective) < 0)
		log_warn("charging capabilities of %s/%s: learned record not valid, ignored",
			 c->vendor, c->model);
	if (svc_caps_from_json(c->override, &c->effective) < 0)
		log_warn("charging capabilities of %s/%s: override not valid, ignored", c->vendor,
			 c->model);
}

int svc_model_caps_get(struct svc *s, const char *vendor, const char *model,
		       struct svc_model_caps *ret)
{
	struct svc_model_caps c;
	struct mcaps_ud u = {&c, false};
	int r;

	memset(&c, 0, sizeof(c));
	r = store_model_caps_get(svc_store(s), vendor, model, mcaps_row, &u);
	if (r < 0)
		return r;
	mcaps_effective(&c);
	*ret = c;
	return 0;
}

struct mcaps_list_ud {
	svc_model_caps_fn fn;
	void *ud;
};

static int mcaps_list_row(const struct store_model_caps *row, void *ud)
{
	struct mcaps_list_ud *l = ud;
	struct svc_model_caps c;
	struct mcaps_ud u = {&c, false};

	memset(&c, 0, sizeof(c));
	mcaps_row(row, &u);
	mcaps_effective(&c);
	return l->fn(&c, l->ud);
}

int svc_model_caps_list(struct svc *s, svc_model_caps_fn fn, void *ud)
{
	struct mcaps_list_ud l = {fn, ud};

	return store_model_caps_list(svc_store(s), mcaps_list_row, &l);
}

int svc_station_caps(struct svc *s, const char *station_id, struct svc_model_caps *ret)
{
	struct svc_model_caps c;
	struct mcaps_ud u = {&c, false};
	int r;

	memset(&c, 0, sizeof(c));
	r = store_station_model_caps(svc_store(s), station_id, mcaps_row, &u);
	if (r < 0)
		return r;
	if (!*c.vendor && !*c.model) {
		/* a boot without vendor and model: a record of the station's own */
		snprintf(c.model, sizeof(c.model), "station:%s", station_id);
		r = store_model_caps_get(svc_store(s), "", c.model, mcaps_row, &u);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	if (!c.updated_ms) {
		copy_str(c.learned, sizeof(c.learned), *c.learned ? c.learned : "{}");
		copy_str(c.override, sizeof(c.override), *c.override ? c.override : "{}");
	}
	mcaps_effective(&c);
	*ret = c;
	return 0;
}

/* Write c's learned, override and reason (the vendor and model are its key). */
static int mcaps_put(struct svc *s, const struct svc_model_caps *c)
{
	struct store_model_caps row = {
	    .vendor = c->vendor,
	    .model = c->model,
	    .learned = c->learned,
	    .override = c->override,
	    .reason = c->reason,
	    .updated_ms = svc_now_ms(s),
	};

	return store_model_caps_put(svc_store(s), &row) < 0 ? -EIO : 0;
}

int svc_model_caps_override(struct svc *s, const char *vendor, const char *model, const char *json)
{
	struct svc_model_caps c;
	struct svc_charge_caps probe;
	json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	const char *k;
	json_t *v;
	char *text = NULL;
	int r = -EINVAL;

	if (!json_is_object(o) || strlen(vendor) >= sizeof(c.vendor) ||
	    strlen(model) >= sizeof(c.model) || !*model)
		goto out;
	json_object_foreach(o, k, v)
		if (!caps_member_known(k))
			goto out;
	svc_caps_default(&probe);
	if (svc_caps_from_json(json, &probe) < 0)
		goto out;
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || strlen(text) >= sizeof(c.override))
		goto out;
	r = svc_model_caps_get(s, vendor, model, &c);
	if (r == -ENOENT) {
		memset(&c, 0, sizeof(c));
		copy_str(c.vendor, sizeof(c.vendor), vendor);
		copy_str(c.model, sizeof(c.model), model);
		copy_str(c.learned, sizeof(c.learned), "{}");
	} else if (r < 0) {
		goto out;
	}
	copy_str(c.override, sizeof(c.override), text);
	r = mcaps_put(s, &c);
	if (r == 0)
		log_notice("charging capabilities of %s/%s: the operator set %s", vendor, model,
			   text);
out:
	free(text);
	json_decref(o);
	return r;
}

/* Teach the model of station st one member (name = value, a JSON value) because of what; the
 * record's reason gets "<what>" in front. Nothing is written when the member already has that
 * value. */
static void caps_learn(struct svc *s, const char *st, const char *name, json_t *value,
		       const char *what)
{
	struct svc_model_caps c;
	json_t *l = NULL, *old;
	char *text = NULL, reason[SVC_CAPS_REASON_MAX + 300]; /* cut to the record's size */

	if (!value)
		return;
	if (svc_station_caps(s, st, &c) < 0)
		goto out;
	l = json_loads(c.learned, 0, NULL);
	if (!json_is_object(l)) {
		json_decref(l);
		l = json_object();
	}
	old = json_object_get(l, name);
	if (old && json_equal(old, value))
		goto out;
	json_object_set(l, name, value);
	text = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || strlen(text) >= sizeof(c.learned))
		goto out;
	copy_str(c.learned, sizeof(c.learned), text);
	snprintf(reason, sizeof(reason), "%s%s%s", what, *c.reason ? "; " : "", c.reason);
	copy_str(c.reason, sizeof(c.reason), reason);
	if (mcaps_put(s, &c) == 0)
		log_notice("charging capabilities of %s/%s learned: %s", c.vendor, c.model, what);
out:
	free(text);
	json_decref(l);
	json_decref(value);
}

/* Append src to the text in buf (len bytes), cut to fit. */
static void str_add(char *buf, size_t len, const char *src)
{
	size_t at = strlen(buf);

	copy_str(buf + at, len - at, src);
}

/* "; capabilities of <vendor> <model>: <reason>[; set by the operator: <override>]" for a
 * shaping text, or "" when the record is the defaults. */
static void caps_why(const struct svc_model_caps *c, char *buf, size_t len)
{
	bool over = *c->override && strcmp(c->override, "{}");

	*buf = '\0';
	if (!*c->reason && !over)
		return;
	str_add(buf, len, "; capabilities of ");
	str_add(buf, len, c->vendor);
	str_add(buf, len, " ");
	str_add(buf, len, c->model);
	str_add(buf, len, ": ");
	str_add(buf, len, c->reason);
	if (over) {
		str_add(buf, len, *c->reason ? "; set by the operator: " : "set by the operator: ");
		str_add(buf, len, c->override);
	}
}

/* The record a station's profiles are shaped by (the defaults when it has none). */
static void station_caps(struct svc *s, const char *station, struct svc_charge_caps *caps)
{
	struct svc_model_caps c;

	if (svc_station_caps(s, station, &c) == 0)
		*caps = c.effective;
}

/* The station of t took a TxProfile of t's shape (accepted: it just did), or did it ever? */
static bool tx_ok(const struct sent *t, bool accepted)
{
	struct svc_plans *p = *svc__plans(t->s);
	char key[STATION_ID_MAX + 32], *v;

	if (!p || t->session_id <= 0)
		return false;
	snprintf(key, sizeof(key), "%s|%s|%d", t->station, t->amps ? "A" : "W", t->stack);
	if (!accepted)
		return hmap_get(&p->tx_ok, key) != NULL;
	if (hmap_get(&p->tx_ok, key))
		return true;
	if (p->tx_ok.count >= TX_OK_MAX)
		tx_ok_clear(&p->tx_ok);
	v = strdup(key);
	if (v && hmap_put(&p->tx_ok, v, v) < 0)
		free(v);
	return true;
}

/* Learn from the answer to a planner's SetChargingProfile (docs/v2g.md "Capabilities"): a
 * NotSupported/NotImplemented CALLERROR means no smart charging; a Rejected W schedule is tried
 * in A next time, a Rejected A schedule at stack level 0, then given up. What is learned is the
 * station model's (every station of that vendor and model), with the reason. A refusal of a
 * shape (unit, stack level) the station took before teaches nothing: what a station can do does
 * not change, but a transaction that ended at the station (or started and ended there before the
 * CSMS heard of it) is refused there before its end reaches the CSMS (swap racks at a demo
 * speed lost smart charging to three such races within hours, sim-swap-day). */
static void on_profile_done(void *ud, const struct svc_cmd_result *res)
{
	struct sent *t = ud;
	char what[256];
	const char *kind = t->session_id < 0 ? "TxDefaultProfile"
			   : t->session_id   ? "TxProfile"
					     : "station max profile";

	if (res->status == SVC_RES_ACCEPTED)
		tx_ok(t, true);
	if (t->session_id > 0)
		tx_answered(t, res->status == SVC_RES_ACCEPTED);
	if (res->status == SVC_RES_CALL_ERROR &&
	    (!strcmp(res->code, "NotSupported") || !strcmp(res->code, "NotImplemented"))) {
		snprintf(what, sizeof(what),
			 "station %s answered SetChargingProfile with %s: no smart charging",
			 t->station, res->code);
		caps_learn(t->s, t->station, "smart_charging", json_false(), what);
	} else if (res->status == SVC_RES_REJECTED && t->session_id < 0) {
		/* a TxDefaultProfile refused: the plans still go out */
	} else if (res->status == SVC_RES_REJECTED && t->session_id &&
		   (!session_active(t->s, t->session_id) || tx_ok(t, false))) {
		/* the transaction ended meanwhile (or is not there: it took one): nothing learned */
	} else if (res->status == SVC_RES_REJECTED && !t->session_id) {
		snprintf(what, sizeof(what),
			 "station %s rejected the %s (%s): no station-level profiles", t->station,
			 kind, t->amps ? "A" : "W");
		caps_learn(t->s, t->station, "station_max", json_false(), what);
	} else if (res->status == SVC_RES_REJECTED) {
		if (!t->amps) {
			snprintf(what, sizeof(what),
				 "station %s rejected a %s in W: schedules in A", t->station, kind);
			caps_learn(t->s, t->station, "amps", json_true(), what);
		} else if (t->stack > 0) {
			snprintf(what, sizeof(what),
				 "station %s rejected a %s in A at stack level %d: stack level 0",
				 t->station, kind, t->stack);
			caps_learn(t->s, t->station, "tx_stack_level", json_integer(0), what);
		} else {
			snprintf(
			    what, sizeof(what),
			    "station %s rejected a %s in A at stack level 0: profiles given up",
			    t->station, kind);
			caps_learn(t->s, t->station, "smart_charging", json_false(), what);
		}
	}
	free(t);
}

static void on_v2g_done(void *ud, const struct svc_cmd_result *res)
{
	(void)ud;
	(void)res;
}

/*
** A new session on a site with a limit waits for its plan: a TxDefaultProfile (stack level 0,
** Relative: from each transaction's start) of 0 W for NEW_SESSION_HOLD_S, then limit_w. Its
** TxProfile (stack level 1) replaces it within seconds; without one (the CSMS gone) the EV
** charges after the hold, within the station max profile. Arrivals at full power before their
** first plan would otherwise break the site limit for that time.
*/
static void send_tx_default(struct svc *s, const char *st, const struct svc_charge_caps *caps,
			    int64_t limit_w)
{
	struct svc_cmd cmd = {.kind = SVC_CMD_SET_PROFILE};
	struct sent *t = calloc(1, sizeof(*t));

	if (!t)
		return;
	cmd.evse_id = 0;
	cmd.profile = (struct svc_charging_profile){
	    .id = TX_DEFAULT_PROFILE_ID,
	    .purpose = SVC_PURPOSE_TX_DEFAULT,
	    .stack_level = 0,
	    .rate_unit = caps->amps ? SVC_RATE_A : SVC_RATE_W,
	    .n_periods = 2,
	    .periods = {{.start_s = 0, .limit = 0},
			{.start_s = NEW_SESSION_HOLD_S,
			 .limit = caps->amps ? svc_w_to_da(limit_w, caps) : limit_w}},
	};
	t->s = s;
	t->amps = caps->amps;
	t->stack = 0;
	t->session_id = -1; /* not a session's, not the station max */
	snprintf(t->station, sizeof(t->station), "%s", st);
	if (svc_cmd_send(s, st, &cmd, "planner", on_profile_done, t) < 0)
		free(t);
}

/*
** The site limit as a station-level profile (ChargePointMaxProfile / ChargingStationMaxProfile)
** on each station of the site with a session, where its capability record says it takes one:
** a cap that holds in the station itself, whatever happens to the CSMS or the link. Sent once
** per station and limit (again when the limit changes).
*/
/* Station st holds station-level profiles of site (whatever the limit they carry). */
static void held_add(struct plan_site *site, const char *st)
{
	void *a;

	for (size_t k = 0; k < site->n_held; k++)
		if (!strcmp(site->held[k], st))
			return;
	a = realloc(site->held, (site->n_held + 1) * sizeof(*site->held));
	if (!a)
		return;
	site->held = a;
	snprintf(site->held[site->n_held++], sizeof(*site->held), "%s", st);
}

/* The station-level profiles of one station of site (limit_w >= 0), unless already sent. */
static void station_profiles(struct svc *s, struct plan_site *site, const char *st, int64_t limit_w)
{
	struct svc_charge_caps caps;
	struct svc_cmd cmd = {.kind = SVC_CMD_SET_PROFILE};
	struct sent *t;
	size_t k;
	void *a;

	if (site->max_sent_w != limit_w) {
		site->n_max_sent = 0;
		site->max_sent_w = limit_w;
	}
	for (k = 0; k < site->n_max_sent && strcmp(site->max_sent[k], st); k++)
		;
	if (k < site->n_max_sent)
		return;
	svc_caps_default(&caps);
	station_caps(s, st, &caps);
	if (!caps.smart_charging)
		return;
	a = realloc(site->max_sent, (site->n_max_sent + 1) * sizeof(*site->max_sent));
	if (!a)
		return;
	site->max_sent = a;
	snprintf(site->max_sent[site->n_max_sent++], sizeof(*site->max_sent), "%s", st);
	held_add(site, st);
	send_tx_default(s, st, &caps, limit_w);
	if (!caps.station_max)
		return;
	cmd.evse_id = 0;
	cmd.profile = (struct svc_charging_profile){
	    .id = STATION_MAX_PROFILE_ID,
	    .purpose = SVC_PURPOSE_STATION_MAX,
	    .stack_level = 0,
	    .rate_unit = caps.amps ? SVC_RATE_A : SVC_RATE_W,
	    .n_periods = 1,
	    .periods = {{.start_s = 0, .limit = caps.amps ? svc_w_to_da(limit_w, &caps) : limit_w}},
	};
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->s = s;
	t->amps = caps.amps;
	snprintf(t->station, sizeof(t->station), "%s", st);
	if (svc_cmd_send(s, st, &cmd, "planner", on_profile_done, t) < 0)
		free(t);
}

static void on_clear_done(void *ud, const struct svc_cmd_result *res)
{
	(void)ud;
	(void)res; /* Unknown: the station did not hold it (or lost it): nothing to do */
}

/*
** The limit of site_id was cleared: the stations this node sent its station-level profiles
** since the limit was last cleared (the station max profile, the TxDefaultProfile that holds new
** sessions; whatever limit they carried) are told to drop them with ClearChargingProfile by id,
** or they would go on capping at an old limit.
*/
static void clear_station_profiles(struct svc *s, const char *site_id)
{
	struct svc_plans *p = *svc__plans(s);
	struct plan_site *site = p ? hmap_get(&p->sites, site_id) : NULL;

	if (!site)
		return;
	for (size_t k = 0; k < site->n_held; k++) {
		static const int64_t ids[] = {STATION_MAX_PROFILE_ID, TX_DEFAULT_PROFILE_ID};

		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			struct svc_cmd cmd = {.kind = SVC_CMD_CLEAR_PROFILE};

			cmd.evse_id = 0;
			cmd.clear.has_id = true;
			cmd.clear.id = ids[i];
			cmd.clear.purpose = -1;
			cmd.clear.stack_level = -1;
			svc_cmd_send(s, site->held[k], &cmd, "planner", on_clear_done, NULL);
		}
	}
	site->n_held = 0;
	site->n_max_sent = 0;
	site->max_sent_w = -1;
}

/* A station booted (svc_plan_hooks.booted): its station-level profiles go out again on the next
 * tick (after the BootNotification answer), where its site has a limit. */
static void hook_booted(struct svc *s, const struct chg_station *st)
{
	struct svc_plans *p = *svc__plans(s);
	struct plan_site *site;
	void *a;

	if (!p || !st->site_id[0])
		return;
	tx_station_renew(s, p, st->id, st->site_id); /* its TxProfiles may be gone */
	site = hmap_get(&p->sites, st->site_id);
	for (size_t k = 0; site && k < site->n_max_sent; k++)
		if (!strcmp(site->max_sent[k], st->id)) {
			memmove(&site->max_sent[k], &site->max_sent[k + 1],
				(site->n_max_sent - k - 1) * sizeof(*site->max_sent));
			site->n_max_sent--;
			break;
		}
	a = realloc(p->booted, (p->n_booted + 1) * sizeof(*p->booted));
	if (!a)
		return;
	p->booted = a;
	snprintf(p->booted[p->n_booted++], sizeof(*p->booted), "%s", st->id);
}

/* The booted stations of sites with a limit get their station-level profiles. */
static void booted_profiles(struct svc *s, struct svc_plans *p)
{
	for (size_t i = 0; i < p->n_booted; i++) {
		const struct chg_station *st = svc_station_find(s, p->booted[i]);
		struct store_station row;
		struct store_site site;
		struct plan_site *ps;

		/* its site as its connection knows it (svc reads the row at attach); the store
		 * only for one that went away meanwhile */
		if (st)
			snprintf(row.site_id, sizeof(row.site_id), "%s", st->site_id);
		else if (store_station_get(svc_store(s), p->booted[i], &row) < 0)
			continue;
		if (!row.site_id[0] || site_row(s, row.site_id, &site) < 0 || site.limit_w < 0)
			continue;
		ps = site_of(p, row.site_id);
		if (ps)
			station_profiles(s, ps, p->booted[i], site.limit_w);
	}
	p->n_booted = 0;
}

/* Session id's readings as the last plan l knew them, for the plan made now (slot 0 at cur_ms):
 * the latest reading becomes the anchor. */
static void reg_carry(const struct last_plan *l, int64_t id, int64_t cur_ms, struct plan_reg *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->pre_w = last_power(l, id, cur_ms - SLOT_MS, NULL);
	for (size_t i = 0; l->reg && i < l->n; i++)
		if (l->ids[i] == id) {
			ret->a_wh = ret->b_wh = l->reg[i].b_wh;
			ret->a_ts = ret->b_ts = l->reg[i].b_ts;
			if (l->start_ms == cur_ms) /* planned again within the slot */
				ret->pre_w = l->reg[i].pre_w;
			return;
		}
}

/*
** Whether session i strays from plan l by its readings: the register's rise from the anchor to
** the latest reading against the energy the plan's power gives over that time. 1 strays (or
** cannot tell: no anchor, a time the plan does not cover, a discharge), 0 on plan or nothing
** new since the plan.
*/
static int reg_strays(const struct last_plan *l, size_t i)
{
	const struct plan_reg *r = &l->reg[i];
	int64_t t = r->a_ts, e = 0, got, want;

	if (!r->b_ts || !r->a_ts)
		return 1; /* never read, or not when planned */
	if (r->b_ts <= r->a_ts)
		return 0;
	while (t < r->b_ts) {
		int64_t end, w;

		if (t < l->start_ms - SLOT_MS) {
			return 1;
		} else if (t < l->start_ms) {
			end = l->start_ms;
			w = r->pre_w;
		} else {
			int64_t k = (t - l->start_ms) / SLOT_MS;

			if (k >= l->n_slots)
				return 1;
			end = l->start_ms + (k + 1) * SLOT_MS;
			w = l->power_w[i * (size_t)l->n_slots + (size_t)k];
		}
		if (w < 0)
			return 1;
		if (end > r->b_ts)
			end = r->b_ts;
		e += w * (end - t); /* W ms */
		t = end;
	}
	want = e / 3600000;
	got = r->b_wh - r->a_wh;
	return llabs(got - want) > (want / 10 > ROLL_TOL_WH ? want / 10 : ROLL_TOL_WH);
}

/*
** Whether a site's plan must be made again at a slot's start (the rolling horizon). It is when
** it is an hour old, runs out, ends before a departure, steers a V2G session (a setpoint per
** slot), or the readings of one of its sessions stray from it (reg_strays()). Otherwise a new
** plan would be the same one a slot later, at a city's cost: ~5 statements and a profile per
** one-pile site per slot (docs/scaling.md).
*/
static bool roll_needed(const struct plan_site *ps, int64_t now)
{
	const struct last_plan *l = &ps->last;

	if (!l->n || !l->reg || l->open_end || now - l->plan_ms >= ROLL_MAX_MS ||
	    now >= l->start_ms + (int64_t)(l->n_slots - 1) * SLOT_MS)
		return true;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->ids[i])
			continue;
		if (l->mode[i] != SVC_MODE_CHARGING_ONLY || reg_strays(l, i))
			return true;
	}
	return false;
}

/* Net energy a result moves into the EVs over the horizon (import - export), Wh. */
/* The energy the first n sessions (the EVs: the site battery comes after them) move. */
static int64_t plan_energy_wh(const struct sc_plan_input *in, size_t n,
			      const struct sc_plan_result *r)
{
	int64_t w = 0;

	for (size_t i = 0; i < n * (size_t)in->n_slots; i++)
		w += r->power_w[i];
	return w * (SLOT_MS / 1000) / 3600;
}

/* The method a result was made with, as the plan document names it. */
static const char *method_name(const struct sc_plan_result *r)
{
	if (!r)
		return "none";
	if (r->method == SC_PLAN_METHOD_IMMEDIATE)
		return "immediate";
	return r->method == SC_PLAN_METHOD_LP	 ? "lp"
	       : r->method == SC_PLAN_METHOD_MCF ? "mcf"
						 : "flow";
}

/* A last plan's session ids, sorted, with their rows: last_index(), find_index(). */
struct id_idx {
	int64_t id;
	size_t i;
};

static int id_idx_cmp(const void *a, const void *b)
{
	const struct id_idx *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* NULL for an empty plan (or out of memory: every session then counts as new) */
static struct id_idx *last_index(const struct last_plan *l)
{
	struct id_idx *v = l->n && l->ids && l->power_w ? malloc(l->n * sizeof(*v)) : NULL;

	if (!v)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		v[i] = (struct id_idx){l->ids[i], i};
	qsort(v, l->n, sizeof(*v), id_idx_cmp);
	return v;
}

static size_t find_index(const struct id_idx *v, size_t n, int64_t id)
{
	struct id_idx key = {id, 0};
	const struct id_idx *f = bsearch(&key, v, n, sizeof(*v), id_idx_cmp);

	return f && id ? f->i : SIZE_MAX;
}

/*
** Applying a plan: its TxProfiles (and V2G modes, station max profiles) go out and each
** session's plan is stored, a few sessions per loop turn (apply_some()): a 1,000-session site
** sent and stored in one turn doubled the chargers' p99 (bench/planner-p99.sh, README). The
** sessions whose power the plan lowers go first, the ones it raises after them, so the site
** stays within its limit while the sends go out. The site stays busy (no new plan of it) until
** its last session is sent and the plan stored (apply_end()).
*/
static int apply_begin(struct svc *s, struct svc_plans *p, struct plan_job *j)
{
	struct plan_site *site = hmap_get(&p->sites, j->site);
	const struct sc_plan_result *res = j->rc == 0 ? &j->res : NULL;
	struct plan_apply *a = &j->ap;
	int n = j->in.n_slots + 1; /* the frozen slot and the plan */
	size_t cnt = j->n ? j->n : 1, lo = 0, hi = j->n;
	struct last_plan *nl = &a->nl;

	(void)s;
	if (!site)
		return -ENOENT;
	a->n = n;
	a->row = calloc((size_t)n, sizeof(*a->row));
	a->order = calloc(cnt, sizeof(*a->order));
	a->sess = json_array();
	a->slots = json_array();
	nl->ids = calloc(cnt, sizeof(*nl->ids));
	nl->power_w = calloc(cnt * (size_t)n, sizeof(*nl->power_w));
	nl->mode = calloc(cnt, sizeof(*nl->mode));
	nl->tx = calloc(cnt, sizeof(*nl->tx));
	nl->reg = calloc(cnt, sizeof(*nl->reg));
	if (!a->row || !a->order || !a->sess || !a->slots || !nl->ids || !nl->power_w ||
	    !nl->mode || !nl->tx || !nl->reg)
		return -ENOMEM;
	if (res && res->status != SC_PLAN_OPTIMAL) /* flagged in the plan's status too */
		log_warn("site %s: solve %s after %lld ms (limit %d ms), fallback plan (%s)",
			 j->site, sc_plan_status_to_string(res->status), (long long)j->solve_ms,
			 SOLVE_LIMIT_MS, method_name(res));
	nl->start_ms = j->cur_ms;
	nl->n_slots = n;
	nl->n = j->n;
	nl->plan_ms = j->now_ms;
	for (int k = 0; k < n; k++) {
		int64_t sum = 0, pv = k == 0 ? j->pv_cur_w : j->slots[k - 1].pv_w, bw = 0;

		for (size_t i = 0; i < j->n; i++)
			sum += k == 0 ? j->js[i].frozen_w
			       : res  ? res->power_w[i * (size_t)j->in.n_slots + (size_t)(k - 1)]
				      : 0;
		if (j->storage && res && k > 0)
			bw = res->power_w[j->n * (size_t)j->in.n_slots + (size_t)(k - 1)];
		/* planned_w: the sessions' load; storage_w: the site battery's (charge > 0);
		 * import_w: what the grid gives (load + storage - PV) */
		json_array_append_new(
		    a->slots,
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "start_ms",
			      (json_int_t)(j->cur_ms + k * SLOT_MS), "planned_w", (json_int_t)sum,
			      "storage_w", (json_int_t)bw, "pv_w", (json_int_t)pv, "import_w",
			      (json_int_t)(sum + bw - pv > 0 ? sum + bw - pv : 0), "limit_w",
			      (json_int_t)(k == 0 ? j->limit_w
					   : j->slots[k - 1].import_limit_w == SC_PLAN_NO_LIMIT
					       ? -1
					       : j->slots[k - 1].import_limit_w)));
	}
	/* the order of the sends: lowered first (their slots of the last plan, where it has
	 * them, against the new ones; a session new to the plan counts as raised) */
	{
		struct id_idx *old = last_index(&site->last);

		for (size_t i = 0; i < j->n; i++) {
			size_t oi = old ? find_index(old, site->last.n, j->js[i].id) : SIZE_MAX;
			bool raised = oi == SIZE_MAX;

			for (int k = 1; k < n && !raised; k++) {
				int64_t t = j->cur_ms + k * SLOT_MS, ok = t - site->last.start_ms;
				int64_t now =
				    res ? res->power_w[i * (size_t)j->in.n_slots + (size_t)(k - 1)]
					: j->ps[i].max_charge_w;

				ok = ok >= 0 ? ok / SLOT_MS : -1;
				/* a slot the last plan did not cover: raised if it draws */
				raised =
				    ok >= 0 && ok < site->last.n_slots
					? now > site->last.power_w[oi * (size_t)site->last.n_slots +
								   (size_t)ok]
					: now > 0;
			}
			if (raised)
				a->order[--hi] = i; /* from the end: reversed, put right below */
			else
				a->order[lo++] = i;
		}
		for (size_t x = hi, y = j->n ? j->n - 1 : 0; x < y; x++, y--) {
			size_t tmp = a->order[x];

			a->order[x] = a->order[y];
			a->order[y] = tmp;
		}
		free(old);
	}
	site->applying = j;
	return 0;
}

/* Session i of j (apply_begin()): its TxProfile and mode sent, its plan stored. */
static void apply_session(struct svc *s, struct svc_plans *p, struct plan_job *j, size_t i)
{
	struct plan_site *site = hmap_get(&p->sites, j->site);
	const struct sc_plan_result *res = j->rc == 0 ? &j->res : NULL;
	struct plan_apply *a = &j->ap;
	struct last_plan *nl = &a->nl;
	struct job_session *js = &j->js[i];
	int n = a->n;
	int64_t *row = a->row;
	struct svc_charge_caps caps;
	struct svc_model_caps mc;
	struct svc_cmd cmd = {.kind = SVC_CMD_SET_PROFILE};
	char why[1024], model_why[1024], *ptext;
	json_t *periods, *pw, *sdoc;
	bool neg = false;
	int mode_prev = SVC_MODE_CHARGING_ONLY, mode;
	struct sent *t;

	if (!site || !session_active(s, js->id))
		return;	     /* it ended while the plan was being solved or sent */
	if (j->limit_w >= 0) /* the site limit in the station itself (station_profiles()) */
		station_profiles(s, site, js->station, j->limit_w);
	if (svc_station_caps(s, js->station, &mc) < 0) {
		memset(&mc, 0, sizeof(mc));
		svc_caps_default(&mc.effective);
	}
	caps = mc.effective;
	caps_why(&mc, model_why, sizeof(model_why));
	if (!caps.smart_charging) {
		copy_str(why, sizeof(why), "not sent: the station refused charging profiles");
		str_add(why, sizeof(why), model_why);
		json_array_append_new(a->sess, json_pack("{s:I, s:s}", "session_id",
							 (json_int_t)js->id, "shaping", why));
		return;
	}
	periods = json_array();
	pw = json_array();
	caps.bidirectional = js->discharge_ok; /* V2G allowed, the override (or else the
						* station's declaration) bidirectional */
	for (int k = 0; k < n; k++) {
		row[k] = k == 0 ? js->frozen_w
			 : res	? res->power_w[i * (size_t)j->in.n_slots + (size_t)(k - 1)]
				: j->ps[i].max_charge_w;
		neg |= row[k] < 0;
		json_array_append_new(pw, json_integer(row[k]));
	}
	nl->ids[i] = js->id;
	memcpy(&nl->power_w[i * (size_t)n], row, (size_t)n * sizeof(*row));
	reg_carry(&site->last, js->id, j->cur_ms, &nl->reg[i]);
	if (js->departure_ms > j->cur_ms + (int64_t)n * SLOT_MS)
		nl->open_end = true;
	last_power(&site->last, js->id, j->cur_ms, &mode_prev);
	mode = neg && js->discharge_ok ? SVC_MODE_CENTRAL_SETPOINT : SVC_MODE_CHARGING_ONLY;
	nl->mode[i] = mode;
	cmd.evse_id = js->evse_id;
	cmd.session_id = js->id;
	cmd.profile.id = TX_PROFILE_ID + js->evse_id;
	cmd.profile.purpose = SVC_PURPOSE_TX;
	cmd.profile.stack_level = caps.tx_stack_level;
	if (svc_plan_shape(row, n, j->cur_ms, &caps, js->discharge_ok, &cmd.profile, why,
			   sizeof(why)) < 0) {
		json_decref(periods);
		json_decref(pw);
		return;
	}
	if (*model_why)
		str_add(why, sizeof(why), *why ? model_why : model_why + 2);
	for (size_t q = 0; q < cmd.profile.n_periods; q++)
		json_array_append_new(periods,
				      json_pack("{s:I, s:I}", "start_s",
						(json_int_t)cmd.profile.periods[q].start_s, "limit",
						(json_int_t)cmd.profile.periods[q].limit));
	if (mode != mode_prev || (mode == SVC_MODE_CENTRAL_SETPOINT && row[0] < 0)) {
		/* the domain's mode and setpoint; the adapter carries it (docs/v2g.md §2) */
		struct svc_cmd dt = {.kind = SVC_CMD_SET_V2G_MODE,
				     .evse_id = js->evse_id,
				     .session_id = js->id,
				     .v2g = {.mode = mode,
					     .setpoint_w = row[0],
					     .valid_until_ms = j->cur_ms + (int64_t)n * SLOT_MS}};

		svc_cmd_send(s, js->station, &dt, "planner", on_v2g_done, NULL);
	}
	tx_carry(&site->last, js->id, &nl->tx[i]);
	if (!tx_needed(p, &nl->tx[i], js->station, &cmd.profile, j->now_ms)) {
		p->tx_skipped++; /* the station follows this already */
	} else if ((t = calloc(1, sizeof(*t)))) {
		bool sent;

		t->s = s;
		t->amps = caps.amps;
		t->stack = caps.tx_stack_level;
		t->session_id = js->id;
		t->seq = ++p->tx_seq;
		snprintf(t->station, sizeof(t->station), "%s", js->station);
		snprintf(t->site, sizeof(t->site), "%s", j->site);
		sent = svc_cmd_send(s, js->station, &cmd, "planner", on_profile_done, t) == 0;
		tx_record(p, &nl->tx[i], js->station, j->site, &cmd.profile, t->seq, sent,
			  j->now_ms);
		if (sent)
			p->tx_sent++;
		else
			free(t);
	}
	sdoc = json_pack(
	    "{s:I, s:s, s:s, s:i, s:I, s:I, s:I, s:o, s:I, s:b, s:I, s:I, "
	    "s:s, s:{s:s, s:i, s:s, s:o}, s:s}",
	    "session_id", (json_int_t)js->id, "site_id", j->site, "station_id", js->station,
	    "evse_id", js->evse_id, "planned_ms", (json_int_t)j->now_ms, "start_ms",
	    (json_int_t)j->cur_ms, "slot_s", (json_int_t)(SLOT_MS / 1000), "power_w", pw,
	    "shortfall_wh", (json_int_t)(res ? res->shortfall_wh[i] : 0), "short",
	    res ? res->short_flag[i] : false, "target_wh", (json_int_t)js->target_wh,
	    "departure_ms", (json_int_t)js->departure_ms, "mode", svc_op_mode_name(mode), "profile",
	    "purpose", "tx", "stack_level", cmd.profile.stack_level, "rate_unit",
	    cmd.profile.rate_unit == SVC_RATE_A ? "A" : "W", "periods", periods, "shaping", why);
	if (!sdoc)
		return;
	ptext = json_dumps(sdoc, JSON_COMPACT);
	if (ptext && store_session_plan_put(svc_store(s), js->id, j->site, j->now_ms, ptext) < 0)
		log_warn("site %s: session %lld plan not stored", j->site, (long long)js->id);
	free(ptext);
	json_decref(sdoc);
	/* the site's document names its sessions and what they get; their slots and profiles
	 * are in their own plans (a 1,000-session site's was a megabyte written at every plan) */
	json_array_append_new(
	    a->sess, json_pack("{s:I, s:s, s:i, s:s, s:I, s:I, s:I, s:b}", "session_id",
			       (json_int_t)js->id, "station_id", js->station, "evse_id",
			       js->evse_id, "mode", svc_op_mode_name(mode), "departure_ms",
			       (json_int_t)js->departure_ms, "target_wh", (json_int_t)js->target_wh,
			       "shortfall_wh", (json_int_t)(res ? res->shortfall_wh[i] : 0),
			       "short", res ? res->short_flag[i] : false));
}

/* The plan of j sent: its document stored, it becomes the site's last plan. */
static void apply_end(struct svc *s, struct svc_plans *p, struct plan_job *j)
{
	struct plan_site *site = hmap_get(&p->sites, j->site);
	const struct sc_plan_result *res = j->rc == 0 ? &j->res : NULL;
	struct plan_apply *a = &j->ap;
	json_t *doc;
	char *text;

	if (!site)
		return;
	doc = json_pack(
	    "{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:O, s:O}",
	    "energy_planned_wh", (json_int_t)(res ? plan_energy_wh(&j->in, j->n, res) : 0),
	    "energy_immediate_wh",
	    (json_int_t)(j->rc_imm == 0 ? plan_energy_wh(&j->in, j->n, &j->imm) : 0), "site_id",
	    j->site, "planned_ms", (json_int_t)j->now_ms, "start_ms", (json_int_t)j->cur_ms,
	    "slot_s", (json_int_t)(SLOT_MS / 1000), "limit_w", (json_int_t)j->limit_w, "status",
	    res ? sc_plan_status_to_string(res->status) : "failed", "method", method_name(res),
	    "solve_ms", (json_int_t)j->solve_ms, "cost_planned_fen",
	    (json_int_t)(res ? res->cost_fen : 0), "cost_immediate_fen",
	    (json_int_t)(j->rc_imm == 0 ? j->imm.cost_fen : 0), "slots", a->slots, "sessions",
	    a->sess);
	if (doc && j->storage) {
		/* the site battery's setpoints: no OCPP device to send them to, so only here, for
		 * the site's own energy management (slot 0, in progress: not planned, 0) */
		json_t *bw = json_array();
		int64_t e = j->battery.energy_wh * 4; /* W-slots */

		json_array_append_new(bw, json_integer(0));
		for (int k = 0; k < j->in.n_slots; k++) {
			int64_t w =
			    res ? res->power_w[j->n * (size_t)j->in.n_slots + (size_t)k] : 0;

			json_array_append_new(bw, json_integer(w));
			e += w;
		}
		json_object_set_new(doc, "storage",
				    json_pack("{s:o, s:I, s:I, s:I, s:I, s:b}", "power_w", bw,
					      "capacity_wh", (json_int_t)j->battery.capacity_wh,
					      "min_energy_wh", (json_int_t)j->battery.min_energy_wh,
					      "energy_start_wh", (json_int_t)j->battery.energy_wh,
					      "energy_end_wh", (json_int_t)(e / 4), "sent", 0));
	}
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (text && store_site_plan_put(svc_store(s), j->site, j->now_ms, text) < 0)
		log_warn("site %s: plan not stored", j->site);
	/* the site's plan history (GET /api/sites/{id}/plan): the slot in progress and the ones
	 * up to the next forced replan (ROLL_MAX_MS), so a slot with no replan of its own (the
	 * plan stood: roll_needed()) keeps what it was planned at when it began */
	for (size_t k = 0; k <= ROLL_MAX_MS / SLOT_MS && k < json_array_size(a->slots); k++) {
		json_t *sl = json_array_get(a->slots, k);

		if (store_site_plan_slots_put(
			svc_store(s), j->site, json_integer_value(json_object_get(sl, "start_ms")),
			json_integer_value(json_object_get(sl, "planned_w")),
			json_integer_value(json_object_get(sl, "import_w")),
			json_integer_value(json_object_get(sl, "limit_w"))) < 0)
			log_warn("site %s: planned slot %zu not stored", j->site, k);
	}
	free(text);
	last_free(&site->last);
	site->last = a->nl;
	memset(&a->nl, 0, sizeof(a->nl));
	site->last_slot = j->cur_ms / SLOT_MS;
	p->applied++;
	log_info("site %s planned: %zu sessions, %d slots, %s in %lld ms, cost %lld fen "
		 "(immediately %lld)",
		 j->site, j->n, j->in.n_slots,
		 res ? sc_plan_status_to_string(res->status) : "failed", (long long)j->solve_ms,
		 (long long)(res ? res->cost_fen : 0),
		 (long long)(j->rc_imm == 0 ? j->imm.cost_fen : 0));
}

/* j is done with (applied or not): its site may plan again. */
static void apply_release(struct svc_plans *p, struct plan_job *j)
{
	struct plan_site *site = hmap_get(&p->sites, j->site);

	if (site) {
		site->busy = false;
		if (site->applying == j)
			site->applying = NULL;
	}
	job_free(j);
}

/* A whole plan at once (no worker thread: tests). */
static void apply(struct svc *s, struct svc_plans *p, struct plan_job *j)
{
	if (apply_begin(s, p, j) == 0) {
		for (size_t x = 0; x < j->n; x++)
			apply_session(s, p, j, j->ap.order[x]);
		apply_end(s, p, j);
	}
	apply_release(p, j);
}

/* The plans being applied, in turn, for about APPLY_SLICE_MS of this loop turn; a plan's end
 * (its document, the free of its job: ~7 ms for 1,000 sessions) in a turn of its own. */
static void apply_some(struct svc *s, struct svc_plans *p)
{
	int64_t t0 = clock_mono_ms();
	bool sent = false;

	while (p->applying) {
		struct plan_job *j = p->applying;

		while (j->ap.next < j->n) {
			apply_session(s, p, j, j->ap.order[j->ap.next++]);
			sent = true;
			if (p->slice_ms <= 0 || clock_mono_ms() - t0 >= p->slice_ms)
				return;
		}
		if (sent)
			return;
		apply_end(s, p, j);
		p->applying = j->next;
		if (!p->applying)
			p->applying_tail = NULL;
		apply_release(p, j);
		return;
	}
}

/*
** Plans built per tick (100 ms) at most: at a slot's start the sites whose plan must be made
** again (roll_needed()) plan for the rolling horizon, and a city's 100,000 one-pile sites planning in one tick were
** a storm of reads and profiles that stalled the nodes and the database (docs/scaling.md). The
** rest wait for the next ticks, in table order from where the last tick stopped: 20 plans a
** second per node, ~8 statements each, so that 11 nodes of the city ask ~1,800 statements a
** second of one PostgreSQL, and a node's 9,000 sites take 450 s of the 900 s slot. A few sites
** (a test, a depot) plan at once as before.
*/
#define PLANS_PER_TICK 2
/* With the worker, plans are built at the node's ticks of 100 ms, not at the faster ones
 * while a plan is being sent (svc_plan_tick()'s answer) */
#define PLAN_BUILD_MS 90

bool svc_plan_tick(struct svc *s)
{
	struct svc_plans *p = *svc__plans(s);
	struct plan_job *done, *queue = NULL;
	int built = 0;
	int64_t now, mono = clock_mono_ms();

	if (!p)
		return false;
	now = svc_now_ms(s);
	if (p->n_booted)
		booted_profiles(s, p);
	pthread_mutex_lock(&p->mu);
	done = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->mu);
	while (done) {
		struct plan_job *n = done->next;

		done->next = NULL;
		if (apply_begin(s, p, done) < 0) {
			log_warn("site %s: plan not applied (out of memory)", done->site);
			apply_release(p, done);
		} else if (p->applying_tail) {
			p->applying_tail->next = done;
			p->applying_tail = done;
		} else {
			p->applying = p->applying_tail = done;
		}
		done = n;
	}
	apply_some(s, p);
	if (p->running && mono - p->built_ms < PLAN_BUILD_MS && mono >= p->built_ms)
		return p->applying != NULL;
	p->built_ms = mono;
	for (size_t k = 0, cap = p->sites.cap; k < cap && built < PLANS_PER_TICK; k++) {
		size_t i = (p->cursor + k) % cap;
		struct plan_site *ps = p->sites.slots[i].key ? p->sites.slots[i].value : NULL;
		struct plan_job *j;

		p->cursor = i + 1;
		if (!ps || ps->busy)
			continue;
		if (!ps->dirty && ps->has_sessions && now / SLOT_MS != ps->last_slot) {
			if (!roll_needed(ps, now)) {
				ps->last_slot = now / SLOT_MS; /* the plan stands */
				p->rolls_skipped++;
				continue;
			}
			ps->dirty = true, ps->due_ms = now; /* rolling horizon */
		}
		if (!ps->dirty || now < ps->due_ms)
			continue;
		built++;
		ps->dirty = false;
		ps->first_ms = 0;
		if (!svc_site_managed(s, ps->id))
			continue;
		j = build_job(s, p, ps);
		if (!j) {
			ps->last_slot = now / SLOT_MS;
			continue;
		}
		ps->busy = true;
		j->next = queue;
		queue = j;
	}
	if (!queue)
		return p->applying != NULL;
	if (!p->running) { /* no worker: solve and send here, at once (tests) */
		while (queue) {
			struct plan_job *n = queue->next;

			queue->next = NULL;
			solve(queue);
			apply(s, p, queue);
			queue = n;
		}
		return p->applying != NULL;
	}
	pthread_mutex_lock(&p->mu);
	while (queue) {
		struct plan_job *n = queue->next;

		queue->next = p->todo;
		p->todo = queue;
		queue = n;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return p->applying != NULL;
}
