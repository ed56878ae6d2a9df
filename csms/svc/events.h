/* SPDX-License-Identifier: MIT */
/* The live event bus: what happened in the domain (stations online, connector status, sessions,
 * power, command results, registrations), as C structs for subscribers (the API's /api/live
 * turns them into JSON). Events wait for the group commit that makes their cause durable and
 * are delivered after it (dropped if it failed). Also the network's live power: the latest
 * power reading of each station and a series of the total over the day. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"

struct svc;

enum svc_event_kind {
	SVC_EV_STATION_ONLINE,
	SVC_EV_STATION_OFFLINE,
	SVC_EV_CONNECTOR,	/* status: the connector's status */
	SVC_EV_SESSION_STARTED, /* session_id */
	SVC_EV_SESSION_STOPPED, /* session_id, energy_wh (-1 unknown), detail: stop reason */
	SVC_EV_POWER,		/* power_w: the station's import power; at most one per station
				  * per SVC_POWER_THROTTLE_MS */
	SVC_EV_COMMAND,		/* detail: command kind, status: result, log_id */
	SVC_EV_REGISTRATION,	/* status: the station's registration (a new Pending one, or an
				  * operator decision) */
	SVC_EV_NETWORK_POWER,	/* power_w: the network's import power, every
				  * SVC_POWER_THROTTLE_MS; station "" */
	_SVC_EV_MAX,
};

#define SVC_POWER_THROTTLE_MS  5000
#define SVC_EVENTS_PENDING_MAX 65536 /* events waiting for a commit; beyond: dropped, counted */
#define SVC_POWER_SERIES_MAX   1440  /* one point a minute for a day */
#define SVC_POWER_STALE_MS     (15 * 60 * 1000) /* a station's reading counts this long */

struct svc_event {
	int kind; /* enum svc_event_kind */
	char station[STATION_ID_MAX + 1];
	int evse_id, connector_id;
	char status[32];
	char detail[48];
	int64_t session_id;
	int64_t log_id;
	int64_t energy_wh;
	double power_w;
	int64_t ts_ms; /* the node's clock */
};

typedef void (*svc_event_fn)(void *ud, const struct svc_event *ev);

/* Name of an event kind ("station", "connector", …), NULL if out of range. */
const char *svc_event_kind_name(int kind);

/*
** Deliver every committed event to fn(ud, ev), on the loop thread, in order. 0, -ENOMEM, or
** -ENOSPC past 8 subscribers. Unsubscribe before ud goes away.
*/
int svc_events_subscribe(struct svc *s, svc_event_fn fn, void *ud);
void svc_events_unsubscribe(struct svc *s, svc_event_fn fn, void *ud);

/* Queue an event for delivery after the next group commit (ev->ts_ms 0: now). */
void svc_event_post(struct svc *s, const struct svc_event *ev);

/* The group commit ended (committed or not): deliver the queued events, or drop them. Also
 * samples the network power once a minute of the node's clock. Not committed: also
 * svc_session_hints_forget() (svc.h). */
void svc_events_release(struct svc *s, bool committed);
/* The number of events queued for a group commit, and the same release for only the n oldest
 * of them (the group commit off the loop: later batches' events wait for their own). */
size_t svc_events_pending(struct svc *s);
void svc_events_release_n(struct svc *s, bool committed, size_t n);

/* A power reading of station's EVSE (0 = the station's main meter) at ts_ms, in watts; posts a
 * throttled SVC_EV_POWER. */
void svc_power_reading(struct svc *s, const char *station, int evse_id, double watts,
		       int64_t ts_ms);
/* A session on station's EVSE ended or the station went away: its power is 0 from now. */
void svc_power_clear(struct svc *s, const char *station, int evse_id_or_all);

struct svc_power_point {
	int64_t ts_ms;
	double watts;
};

/* The network's import power now (readings younger than SVC_POWER_STALE_MS) and the number of
 * stations drawing power. */
double svc_power_total(struct svc *s, unsigned *ret_stations);
/* Up to max points of the total over the last day, oldest first; returns the count. */
size_t svc_power_series(struct svc *s, struct svc_power_point *out, size_t max);
/* Events dropped because SVC_EVENTS_PENDING_MAX were waiting for a commit. */
uint64_t svc_events_dropped(struct svc *s);

/* svc.c's slot for the bus (events.c creates it on first use) and its release. */
struct svc_events **svc__events(struct svc *s);
void svc__events_free(struct svc_events *e);
