/* SPDX-License-Identifier: MIT */
/* Charging profiles of one charger and the limit they impose over time (OCPP 1.6 3.13, 2.0.1 K). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define CPSIM_PROFILES_MAX                                                                         \
	48		       /* installed per charger (a TxProfile per connector of up to 32 and \
				* the defaults); more is answered Rejected. With 8 a swap rack of 16 \
				* slots refused half of its TxProfiles and charged those slots \
				* unmanaged (sim-swap-day) */
#define CPSIM_PERIODS_MAX 1024 /* periods per schedule (2.0.1 maxItems) */

/* Version-neutral purposes: 1.6 ChargePointMaxProfile = STATION_MAX. */
enum cpsim_purpose {
	CPSIM_PP_STATION_MAX,
	CPSIM_PP_TX_DEFAULT,
	CPSIM_PP_TX,
	CPSIM_PP_EXTERNAL, /* 2.0.1 ChargingStationExternalConstraints */
	_CPSIM_PP_MAX,
	_CPSIM_PP_INVALID = -22,
};

enum cpsim_pkind { CPSIM_PK_ABSOLUTE, CPSIM_PK_RECURRING, CPSIM_PK_RELATIVE, _CPSIM_PK_MAX };
enum cpsim_recur { CPSIM_RC_NONE, CPSIM_RC_DAILY, CPSIM_RC_WEEKLY };

struct cpsim_period {
	int32_t start_s; /* offset from the schedule start */
	float limit;	 /* in the profile's unit (A or W); negative = discharge */
	uint8_t phases;	 /* 0 = the charger's default */
};

struct cpsim_profile {
	int32_t id;
	int32_t stack;
	uint8_t purpose;    /* enum cpsim_purpose */
	uint8_t kind;	    /* enum cpsim_pkind */
	uint8_t recur;	    /* enum cpsim_recur */
	bool amps;	    /* chargingRateUnit "A" (else "W") */
	uint16_t connector; /* 0: the whole station (STATION_MAX) or every connector (TX_DEFAULT) */
	uint16_t nperiods;
	int32_t duration_s; /* 0: open-ended */
	int64_t start_ms; /* startSchedule; for Absolute/Recurring without one, the install time */
	int64_t valid_from_ms; /* INT64_MIN when absent */
	int64_t valid_to_ms;   /* INT64_MAX when absent */
	uint64_t tx_key;       /* TX: the transaction it belongs to; 0 = any on its connector */
	struct cpsim_period *periods; /* owned, sorted by start_s */
};

struct cpsim_profiles {
	unsigned count, cap;	 /* cap grows on demand up to CPSIM_PROFILES_MAX */
	struct cpsim_profile *p; /* owned */
};

/* How a connector is evaluated. */
struct cpsim_limit_ctx {
	unsigned connector;  /* >= 1 */
	bool tx_active;	     /* a transaction runs on it */
	uint64_t tx_key;     /* its key (1.6 transactionId, hash of the 2.0.1 id) */
	int64_t tx_start_ms; /* its start, for Relative schedules */
	double volts;	     /* A -> W: W = A * volts * phases */
	unsigned phases;     /* default number of phases */
};

/*
** Install p into *set (allocated on first use). On success the set owns p->periods and
** p is left zeroed. A profile with the same id, or the same connector, purpose and stack
** level, is replaced (OCPP 1.6 3.13.2 / 2.0.1 K01.FR.05). Periods are sorted by start.
** Errors: -EINVAL (no periods, more than CPSIM_PERIODS_MAX, bad enums), -ENOSPC (full),
** -ENOMEM. On error p is untouched (the caller still owns its periods).
*/
int cpsim_profiles_install(struct cpsim_profiles **set, struct cpsim_profile *p);

/* Which profiles cpsim_profiles_clear() removes; a field counts only when its has_ flag is set. */
struct cpsim_profile_filter {
	bool has_id, has_connector, has_purpose, has_stack;
	int32_t id;
	unsigned connector;
	enum cpsim_purpose purpose;
	int32_t stack;
};

/* Remove the matching profiles (all when f is NULL); frees the set when it empties. Returns how
 * many. */
unsigned cpsim_profiles_clear(struct cpsim_profiles **set, const struct cpsim_profile_filter *f);

/* Free the set and its periods; NULL-safe. */
void cpsim_profiles_free(struct cpsim_profiles *set);

/*
** The limit one profile sets at time t (ms): returns true and writes *ret_w (watts) when
** it is in force, false when not (outside validity, before its first period, after its
** duration). *ret_next (if not NULL) gets the next time > t at which its answer may
** change, or INT64_MAX.
*/
bool cpsim_profile_eval(const struct cpsim_profile *p, const struct cpsim_limit_ctx *ctx, int64_t t,
			double *ret_w, int64_t *ret_next);

/*
** Station-wide limit in W at time t from STATION_MAX profiles (highest stack level in
** force wins), or +INFINITY. *ret_next as above, over all profiles of the set.
*/
double cpsim_profiles_station_w(const struct cpsim_profiles *set, const struct cpsim_limit_ctx *ctx,
				int64_t t, int64_t *ret_next);

/*
** Connector limit in W at time t: a TX profile of the running transaction overrides
** TX_DEFAULT (a connector-specific TX_DEFAULT overrides one for connector 0); EXTERNAL
** constraints cap the result. Within a purpose the highest stack level in force wins.
** +INFINITY when nothing applies. *ret_next as above.
*/
double cpsim_profiles_connector_w(const struct cpsim_profiles *set,
				  const struct cpsim_limit_ctx *ctx, int64_t t, int64_t *ret_next);

/*
** The composite schedule of a connector over [start_ms, start_ms + duration_s): the
** minimum of cap_w (the hardware limit), the station limit divided by share (the
** connectors that share it, >= 1) and the connector limit, as periods written to
** out[0..max) in W, or A when amps (using ctx->volts and ctx->phases). Returns the number
** of periods (>= 1), or -ENOENT when no profile applies anywhere in the window, -EINVAL.
*/
int cpsim_profiles_composite(const struct cpsim_profiles *set, const struct cpsim_limit_ctx *ctx,
			     int64_t start_ms, int32_t duration_s, double cap_w, unsigned share,
			     bool amps, struct cpsim_period *out, unsigned max);
