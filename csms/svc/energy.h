/* SPDX-License-Identifier: MIT */
/* The node's tariff calendars (in memory, by id) and what they price: a session's CDR, the
 * energy of a site-day and of the network by site kind, all computed from stored energy
 * register readings with bounded queries (a session, or the sessions overlapping one day). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdr.h"
#include "domain.h"
#include "tariff.h"

struct store;
struct energy;

/* A session's CDR and what it was computed with. */
struct energy_cdr {
	int64_t session_id;
	char site_id[SITE_ID_MAX + 1];
	char tariff_id[TARIFF_ID_MAX + 1];
	int64_t tariff_valid_from_ms; /* the version in force at the session's first reading */
	size_t import_samples, export_samples; /* register readings used */
	size_t dropped;			       /* readings left out: a register that went back */
	struct tariff_cdr cdr;
};

/* Energy figures of a site-day, or of all sites of one kind on a day. */
struct energy_figures {
	int64_t import_wh[_TARIFF_TIER_MAX];
	int64_t import_wh_total;
	int64_t export_wh;
	int valley_share_bp; /* (deep valley + valley) / import total, basis points */
	int sessions;	     /* sessions that contributed (overlapping the day) */
	int unpriced;	     /* sessions at sites without a loaded calendar, or unusable readings */
};

/* Create the registry (empty) on store. NULL when out of memory. */
struct energy *energy_create(struct store *store);
/* Free it and every calendar. NULL-safe. */
void energy_destroy(struct energy *e);

/* Install cal, taken over (freed on failure too), replacing the calendar with its id (a
 * calendar replaced from a date is the same id with one more version). 0 or -ENOMEM. */
int energy_calendar_put(struct energy *e, struct tariff_calendar *cal);
/* The calendar with this id, or NULL. Valid until the next energy_calendar_put of that id. */
const struct tariff_calendar *energy_calendar(const struct energy *e, const char *id);
/* Calendars in id order: count, and the i-th. */
size_t energy_calendar_count(const struct energy *e);
const struct tariff_calendar *energy_calendar_nth(const struct energy *e, size_t i);

/* Site site_id references calendar tariff_id from now on; durable on return. -ENOENT unknown
 * site, -ESRCH no calendar with that id is loaded, -EIO storage failure. */
int energy_site_tariff_set(struct energy *e, const char *site_id, const char *tariff_id);
/* The calendar of a site: 0 and *ret_cal (and *ret_kind, an enum site_kind, if not NULL);
 * -ENOENT unknown site; -ESRCH the site has no calendar or it is not loaded. */
int energy_site_calendar(struct energy *e, const char *site_id,
			 const struct tariff_calendar **ret_cal, int *ret_kind);

/* The CDR of session_id from its stored register readings and its meter start and stop, with
 * the calendar of its station's site. -ENOENT unknown session; -ESRCH its station has no site
 * or the site no calendar; -ERANGE energy before the calendar's first version; -EIO. */
int energy_session_cdr(struct energy *e, int64_t session_id, struct energy_cdr *ret);
/* The energy a session exported (its export register's last reading minus its first; 0
 * without export readings). -ENOENT unknown session, -EIO. */
int energy_session_exported_wh(struct energy *e, int64_t session_id, int64_t *ret_wh);
/* The energy a session exported between from_ms and to_ms: its export register, linear between
 * readings, at to_ms minus at from_ms (before its first reading the first, after its last the
 * last: nothing is counted where there is no reading on both sides). 0 without export
 * readings. -EINVAL to_ms < from_ms, -EIO. */
int energy_session_exported_between(struct energy *e, int64_t session_id, int64_t from_ms,
				    int64_t to_ms, int64_t *ret_wh);

/* Energy of site_id on local day year-month-day of the site's calendar. -ENOENT unknown site,
 * -ESRCH no calendar, -EINVAL no such date, -EIO. */
int energy_site_day(struct energy *e, const char *site_id, int year, int month, int day,
		    struct energy_figures *ret);
/* Energy of every site on local day year-month-day (each site in its calendar's local time),
 * by site kind (ret indexed by enum site_kind). Sessions at sites without a calendar are
 * counted in unpriced. -EINVAL no such date, -EIO. */
int energy_network_day(struct energy *e, int year, int month, int day,
		       struct energy_figures ret[_SITE_KIND_MAX]);

/* A register reading's text in Wh: value as sent times its unit ("Wh", "kWh", either with
 * "*10^N" as the 2.0.1 adapter stores a multiplier). -EINVAL for anything else. Pure. */
int energy_reading_wh(const char *value, const char *unit, int64_t *ret_wh);
