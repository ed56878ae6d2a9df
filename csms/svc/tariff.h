/* SPDX-License-Identifier: MIT */
/* Time-of-use tariff calendars: five tiers by month, weekday and time of day, versioned by date. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Money is integer. Prices are in fen per MWh (= thousandths of a fen per kWh), so
 * 0.6543 CNY/kWh is 65430. An amount of energy E Wh at price P fen/MWh costs E * P / 10^6 fen;
 * callers accumulate E * P ("micro-fen") exactly and round once (see cdr.h).
 */

enum tariff_tier {
	TARIFF_TIER_DEEP_VALLEY,
	TARIFF_TIER_VALLEY,
	TARIFF_TIER_FLAT,
	TARIFF_TIER_PEAK,
	TARIFF_TIER_CRITICAL_PEAK,
	_TARIFF_TIER_MAX,
	_TARIFF_TIER_INVALID = -EINVAL,
};

#define TARIFF_SLOT_MIN	     15 /* granularity of windows, minutes */
#define TARIFF_SLOT_MS	     (TARIFF_SLOT_MIN * 60 * 1000LL)
#define TARIFF_SLOTS_PER_DAY 96
#define TARIFF_MAX_PERIODS   12
#define TARIFF_MAX_WINDOWS   24
#define TARIFF_MAX_VERSIONS  32
#define TARIFF_ID_MAX	     63
#define TARIFF_ERR_MAX	     160
#define TARIFF_PRICE_MAX     100000000LL /* 1,000 CNY/kWh: anything above is a typo */
#define TARIFF_ALL_MONTHS    0x1ffe	 /* bits 1..12 */
#define TARIFF_ALL_WEEKDAYS  0xfe	 /* bits 1 (Monday) .. 7 (Sunday) */

/* One time window of a local day. Minutes from local midnight, multiples of 15. to_min == 1440
 * means the end of the day; to_min <= from_min wraps over midnight (23:00-07:00 covers
 * 00:00-07:00 and 23:00-24:00 of the same calendar day). */
struct tariff_window {
	uint16_t from_min;
	uint16_t to_min;
	int tier; /* enum tariff_tier; anything else is refused by validation */
};

/* Windows that apply to a set of months and weekdays. */
struct tariff_period {
	uint16_t months;  /* bit m set = month m (1..12) */
	uint8_t weekdays; /* bit d set = ISO weekday d (1 = Monday .. 7 = Sunday); 0 = every day */
	size_t n_windows;
	struct tariff_window windows[TARIFF_MAX_WINDOWS];
};

struct tariff_prices {
	int64_t import_fen_per_mwh[_TARIFF_TIER_MAX];
	int64_t export_fen_per_mwh;  /* paid for V2G energy returned to the grid */
	int64_t service_fen_per_mwh; /* charged on every imported kWh, whatever the tier */
};

/* One version of a calendar, in force from valid_from_ms until the next version's. */
struct tariff_version {
	int64_t valid_from_ms;
	struct tariff_prices prices;
	size_t n_periods;
	struct tariff_period periods[TARIFF_MAX_PERIODS];
	/* compiled by tariff_calendar_add_version(): tier per month (0..11), ISO weekday - 1, slot */
	uint8_t grid[12][7][TARIFF_SLOTS_PER_DAY];
};

struct tariff_calendar {
	char id[TARIFF_ID_MAX + 1];
	int utc_offset_min; /* fixed offset of local time (no DST), multiple of 15 */
	size_t n_versions;
	struct tariff_version *versions; /* sorted by valid_from_ms, ascending */
};

/* What applies at one instant. */
struct tariff_point {
	enum tariff_tier tier;
	int64_t import_fen_per_mwh;
	int64_t export_fen_per_mwh;
	int64_t service_fen_per_mwh;
	size_t version; /* index into cal->versions */
};

const char *tariff_tier_to_string(enum tariff_tier t);
enum tariff_tier tariff_tier_from_string(const char *s);

/* Create an empty calendar. id is copied (truncated to TARIFF_ID_MAX); utc_offset_min must be a
 * multiple of 15 within +-14 h. Returns NULL on a bad offset or out of memory. */
struct tariff_calendar *tariff_calendar_create(const char *id, int utc_offset_min);

/* Free a calendar and its versions. NULL-safe. */
void tariff_calendar_destroy(struct tariff_calendar *cal);

/* Validate v and add a copy of it to cal, compiled, in date order. A version whose valid_from_ms
 * equals an existing one's replaces it (a corrected notice); a later one replaces the calendar
 * from that date on. Returns 0, -EINVAL with a message in reterr_msg (if not NULL) naming the
 * exact place, e.g. "periods[1].windows[2]: overlaps periods[1].windows[1] in month 4 (Mon) at
 * 10:00", -E2BIG past TARIFF_MAX_VERSIONS, or -ENOMEM. cal is unchanged on failure. */
int tariff_calendar_add_version(struct tariff_calendar *cal, const struct tariff_version *v,
				char reterr_msg[TARIFF_ERR_MAX]);

/* Validate one version without adding it (same checks and messages as above); on success the
 * compiled grid is written to ret_grid if it is not NULL. */
int tariff_version_validate(const struct tariff_version *v, char reterr_msg[TARIFF_ERR_MAX],
			    uint8_t (*ret_grid)[7][TARIFF_SLOTS_PER_DAY]);

/* The tier and prices in force at t_ms. Returns 0, or -ENOENT before the first version. */
int tariff_calendar_at(const struct tariff_calendar *cal, int64_t t_ms, struct tariff_point *ret);

/* The first instant after t_ms at which the tier or any price changes (a window edge or a version
 * change), searching at most 400 days ahead. Returns 0 and writes ret_ms, -ENOENT when nothing
 * changes within that horizon or t_ms is before the first version. */
int tariff_calendar_next_boundary(const struct tariff_calendar *cal, int64_t t_ms, int64_t *ret_ms);

/* Local civil time helpers (pure, proleptic Gregorian). Milliseconds of local midnight starting
 * the local day that contains t_ms. */
int64_t tariff_calendar_day_start(const struct tariff_calendar *cal, int64_t t_ms);

/* Instant of local midnight of year-month-day in cal's offset. Returns 0, or -EINVAL on a date
 * that does not exist. */
int tariff_calendar_local_midnight(const struct tariff_calendar *cal, int year, int month, int day,
				   int64_t *ret_ms);
