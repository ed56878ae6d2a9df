/* SPDX-License-Identifier: MIT */
/* The live event bus and the network's live power (events.h). */
#include "events.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/hmap.h"
#include "../core/log.h"
#include "svc.h"

#define SUBSCRIBERS_MAX 8
#define POWER_EVSES	9 /* EVSE 0 (the main meter) and 1..8 */

struct power_entry {
	char id[STATION_ID_MAX + 1];
	double w[POWER_EVSES];
	int64_t ts_ms[POWER_EVSES];
	int64_t last_post_mono; /* throttle of SVC_EV_POWER, real time */
	bool post_due;		/* a reading came in the throttle window: post when it ends */
};

struct svc_events {
	struct {
		svc_event_fn fn;
		void *ud;
	} sub[SUBSCRIBERS_MAX];
	int n_sub;
	struct svc_event *pending;
	size_t n_pending, cap_pending;
	uint64_t dropped;
	struct hmap power; /* station id -> struct power_entry */
	struct svc_power_point series[SVC_POWER_SERIES_MAX];
	size_t series_head, series_len;
	int64_t series_minute; /* the minute of the last point (node clock) */
	int64_t last_tick_mono;
	int64_t last_network_mono;
};

const char *svc_event_kind_name(int kind)
{
	static const char *const names[_SVC_EV_MAX] = {
	    [SVC_EV_STATION_ONLINE] = "station",  [SVC_EV_STATION_OFFLINE] = "station",
	    [SVC_EV_CONNECTOR] = "connector",	  [SVC_EV_SESSION_STARTED] = "session",
	    [SVC_EV_SESSION_STOPPED] = "session", [SVC_EV_POWER] = "power",
	    [SVC_EV_COMMAND] = "command",	  [SVC_EV_REGISTRATION] = "registration",
	    [SVC_EV_NETWORK_POWER] = "network",
	};
	return kind >= 0 && kind < _SVC_EV_MAX ? names[kind] : NULL;
}

static struct svc_events *events_of(struct svc *s)
{
	struct svc_events **slot = svc__events(s);

	if (!*slot)
		*slot = calloc(1, sizeof(**slot));
	return *slot;
}

void svc__events_free(struct svc_events *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->power.cap; i++)
		if (e->power.slots[i].key && e->power.slots[i].value)
			free(e->power.slots[i].value);
	hmap_free(&e->power);
	free(e->pending);
	free(e);
}

int svc_events_subscribe(struct svc *s, svc_event_fn fn, void *ud)
{
	struct svc_events *e = events_of(s);

	if (!e)
		return -ENOMEM;
	if (e->n_sub == SUBSCRIBERS_MAX)
		return -ENOSPC;
	e->sub[e->n_sub].fn = fn;
	e->sub[e->n_sub].ud = ud;
	e->n_sub++;
	return 0;
}

void svc_events_unsubscribe(struct svc *s, svc_event_fn fn, void *ud)
{
	struct svc_events *e = *svc__events(s);

	if (!e)
		return;
	for (int i = 0; i < e->n_sub; i++) {
		if (e->sub[i].fn == fn && e->sub[i].ud == ud) {
			memmove(&e->sub[i], &e->sub[i + 1],
				sizeof(e->sub[0]) * (size_t)(e->n_sub - i - 1));
			e->n_sub--;
			return;
		}
	}
}

void svc_event_post(struct svc *s, const struct svc_event *ev)
{
	struct svc_events *e = events_of(s);

	if (!e || !e->n_sub)
		return; /* nobody listens: nothing to keep */
	if (e->n_pending == e->cap_pending) {
		size_t cap = e->cap_pending ? e->cap_pending * 2 : 64;
		struct svc_event *n;

		if (cap > SVC_EVENTS_PENDING_MAX || !(n = realloc(e->pending, cap * sizeof(*n)))) {
			e->dropped++;
			return;
		}
		e->pending = n;
		e->cap_pending = cap;
	}
	e->pending[e->n_pending] = *ev;
	if (!ev->ts_ms)
		e->pending[e->n_pending].ts_ms = svc_now_ms(s);
	e->n_pending++;
}

static struct power_entry *power_entry(struct svc_events *e, const char *station, bool create)
{
	struct power_entry *p = hmap_get(&e->power, station);

	if (p || !create)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->id, sizeof(p->id), "%s", station);
	if (hmap_put(&e->power, p->id, p) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* A station's power: the sum of its EVSEs, or its main meter when no EVSE reports. */
static double station_power(const struct power_entry *p, int64_t since_ms)
{
	double sum = 0;
	bool any = false;

	for (int i = 1; i < POWER_EVSES; i++) {
		if (p->ts_ms[i] && p->ts_ms[i] >= since_ms) {
			sum += p->w[i];
			any = true;
		}
	}
	if (!any && p->ts_ms[0] && p->ts_ms[0] >= since_ms)
		sum = p->w[0];
	return sum;
}

static void post_power(struct svc *s, struct power_entry *p)
{
	struct svc_event ev = {.kind = SVC_EV_POWER};

	snprintf(ev.station, sizeof(ev.station), "%s", p->id);
	ev.power_w = station_power(p, svc_now_ms(s) - SVC_POWER_STALE_MS);
	svc_event_post(s, &ev);
	p->last_post_mono = clock_mono_ms();
	p->post_due = false;
}

void svc_power_reading(struct svc *s, const char *station, int evse_id, double watts, int64_t ts_ms)
{
	struct svc_events *e = events_of(s);
	struct power_entry *p = e ? power_entry(e, station, true) : NULL;

	if (!p || evse_id < 0 || evse_id >= POWER_EVSES)
		return;
	if (ts_ms < p->ts_ms[evse_id])
		return; /* an older reading (replayed): the newer one stands */
	p->w[evse_id] = watts;
	p->ts_ms[evse_id] = ts_ms;
	if (clock_mono_ms() - p->last_post_mono >= SVC_POWER_THROTTLE_MS)
		post_power(s, p);
	else
		p->post_due = true; /* flushed at a later release once the window has passed */
}

void svc_power_clear(struct svc *s, const char *station, int evse_id_or_all)
{
	struct svc_events *e = *svc__events(s);
	struct power_entry *p = e ? power_entry(e, station, false) : NULL;

	if (!p)
		return;
	for (int i = 0; i < POWER_EVSES; i++) {
		if (evse_id_or_all >= 0 && i != evse_id_or_all)
			continue;
		p->w[i] = 0;
	}
	if (evse_id_or_all < 0) {
		hmap_del(&e->power, station);
		free(p);
	}
}

double svc_power_total(struct svc *s, unsigned *ret_stations)
{
	struct svc_events *e = *svc__events(s);
	int64_t since = svc_now_ms(s) - SVC_POWER_STALE_MS;
	unsigned n = 0;
	double sum = 0;

	for (size_t i = 0; e && i < e->power.cap; i++) {
		const struct power_entry *p = e->power.slots[i].value;
		double w;

		if (!e->power.slots[i].key || !p)
			continue;
		w = station_power(p, since);
		sum += w;
		if (w > 0)
			n++;
	}
	if (ret_stations)
		*ret_stations = n;
	return sum;
}

size_t svc_power_series(struct svc *s, struct svc_power_point *out, size_t max)
{
	struct svc_events *e = *svc__events(s);
	size_t n = 0, start;

	if (!e)
		return 0;
	start = (e->series_head + SVC_POWER_SERIES_MAX - e->series_len) % SVC_POWER_SERIES_MAX;
	for (size_t i = 0; i < e->series_len && n < max; i++)
		out[n++] = e->series[(start + i) % SVC_POWER_SERIES_MAX];
	return n;
}

uint64_t svc_events_dropped(struct svc *s)
{
	struct svc_events *e = *svc__events(s);

	return e ? e->dropped : 0;
}

/* Once a minute of the node's clock: a point of the network power series; and the power
 * events whose throttle window has passed. */
static void power_tick(struct svc *s, struct svc_events *e)
{
	int64_t minute = svc_now_ms(s) / 60000, mono = clock_mono_ms();

	if (minute != e->series_minute) {
		e->series_minute = minute;
		e->series[e->series_head] = (struct svc_power_point){
		    .ts_ms = minute * 60000,
		    .watts = svc_power_total(s, NULL),
		};
		e->series_head = (e->series_head + 1) % SVC_POWER_SERIES_MAX;
		if (e->series_len < SVC_POWER_SERIES_MAX)
			e->series_len++;
	}
	if (!e->n_sub)
		return;
	if (mono - e->last_network_mono >= SVC_POWER_THROTTLE_MS) {
		struct svc_event ev = {.kind = SVC_EV_NETWORK_POWER};

		e->last_network_mono = mono;
		ev.power_w = svc_power_total(s, NULL);
		svc_event_post(s, &ev);
	}
	for (size_t i = 0; i < e->power.cap; i++) {
		struct power_entry *p = e->power.slots[i].value;

		if (e->power.slots[i].key && p && p->post_due &&
		    mono - p->last_post_mono >= SVC_POWER_THROTTLE_MS)
			post_power(s, p);
	}
}

void svc_events_release(struct svc *s, bool committed)
{
	svc_events_release_n(s, committed, SIZE_MAX);
}

size_t svc_events_pending(struct svc *s)
{
	struct svc_events *e = *svc__events(s);

	return e ? e->n_pending : 0;
}

void svc_events_release_n(struct svc *s, bool committed, size_t n)
{
	struct svc_events *e = *svc__events(s);
	int64_t mono;

	if (!committed) /* what svc found in that group may be gone (svc.h, session cache) */
		svc_session_hints_forget(s);
	if (!e)
		return;
	mono = clock_mono_ms();
	if (committed && mono - e->last_tick_mono >= 1000) {
		e->last_tick_mono = mono;
		power_tick(s, e);
	}
	if (!e->n_pending || !n)
		return;
	if (n > e->n_pending)
		n = e->n_pending;
	if (committed) {
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < e->n_sub; k++)
				e->sub[k].fn(e->sub[k].ud, &e->pending[i]);
	}
	if (n < e->n_pending) { /* later batches' events wait for theirs */
		memmove(e->pending, e->pending + n, (e->n_pending - n) * sizeof(*e->pending));
		e->n_pending -= n;
		return;
	}
	e->n_pending = 0;
	if (e->cap_pending > 4096) { /* a burst is over: give its memory back */
		free(e->pending);
		e->pending = NULL;
		e->cap_pending = 0;
	}
}
