/* SPDX-License-Identifier: MIT */
/* Helpers both OCPP behaviours use: timestamps, sampled values, profiles, configuration keys. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cp-private.h"

/* 2.0.1 IdTokenEnumType, index 0 is what local drivers use. */
extern const char *const cpsim_tag_types[];
extern const unsigned cpsim_tag_types_count;
/* Index of name, 0 if unknown. */
uint8_t cpsim_tag_type_from_name(const char *name);

/* A timestamp string value. */
void cpsim_bh_time(struct cpsim_jw *w, int64_t ms);

/* A chargingSchedulePeriod array value ({startPeriod, limit} each; the same in 1.6 and 2.0.1). */
struct cpsim_period;
/* docs/v2g.md: DataTransfer EVChargingNeeds (the EV's needs, its V2G willingness and floor, the
 * EVSE's bidirectional capability) for the session on c, both versions. */
struct cpsim_qmsg *cpsim_bh_needs_dt(struct cpsim_cp *cp, struct cpsim_connector *c);
/* docs/v2g.md: answer a CSMS DataTransfer of our vendorId into w; false if not ours. */
bool cpsim_bh_vendor_dt(struct cpsim_cp *cp, const json_t *req, struct cpsim_jw *w);
void cpsim_bh_periods(struct cpsim_jw *w, const struct cpsim_period *per, int n);

/*
** The sampledValue array of a reading of connector c: energy import/export registers (Wh),
** power import/export (W) and, with an EV plugged, its SoC (%). context is the
** ReadingContext; v201 writes numbers with unitOfMeasure, 1.6 strings with unit.
*/
void cpsim_bh_samples(struct cpsim_jw *w, const struct cpsim_cp *cp,
		      const struct cpsim_connector *c, const char *context, bool v201);

/* One meterValue object {timestamp, sampledValue} (see cpsim_bh_samples). */
void cpsim_bh_meter_value(struct cpsim_jw *w, const struct cpsim_cp *cp,
			  const struct cpsim_connector *c, const char *context, bool v201);

/*
** Read a charging profile: 1.6 csChargingProfiles or 2.0.1 chargingProfile (schema-valid).
** connector is the connector (1.6 connectorId / 2.0.1 evseId). On success *ret owns
** malloc'd periods. -EINVAL with desc on what the simulator cannot follow.
*/
int cpsim_bh_profile(const json_t *jp, bool v201, unsigned connector, struct cpsim_profile *ret,
		     char *desc, size_t desc_len);

/* Write profile p as the 2.0.1 ChargingProfileType (ReportChargingProfiles). */
void cpsim_bh_profile_json(struct cpsim_jw *w, const struct cpsim_profile *p);

/* ---------------------------------------------------------------- configuration */

enum cpsim_cfg_type {
	CK_HEARTBEAT,  /* seconds, rw */
	CK_METER,      /* seconds, rw */
	CK_ALIGNED,    /* seconds, rw, 0 = off */
	CK_BOOL,       /* rw bit of cp->cfg */
	CK_CONST,      /* read-only text */
	CK_CONNECTORS, /* read-only number of connectors */
	CK_LL_ENTRIES, /* read-only local list size */
	CK_LL_PER_MSG, /* read-only SendLocalList entries per message (scenario) */
};

struct cpsim_cfg_key {
	const char *key16;     /* 1.6 key, or NULL when 2.0.1 only */
	const char *component; /* 2.0.1 component, or NULL when 1.6 only */
	const char *variable;
	uint8_t type;	   /* enum cpsim_cfg_type */
	uint8_t bit;	   /* CK_BOOL: CFG_* */
	const char *value; /* CK_CONST */
};

extern const struct cpsim_cfg_key cpsim_cfg_keys[];
extern const size_t cpsim_cfg_nkeys;

const struct cpsim_cfg_key *cpsim_cfg_find16(const char *key);
/* *ret_component_known tells UnknownComponent from UnknownVariable. */
const struct cpsim_cfg_key *cpsim_cfg_find201(const char *component, const char *variable,
					      bool *ret_component_known);
bool cpsim_cfg_readonly(const struct cpsim_cfg_key *k);
/* The value as text (1.6 booleans "true"/"false"). */
void cpsim_cfg_get(const struct cpsim_cp *cp, const struct cpsim_cfg_key *k, char *buf, size_t len);
/* 0, -EROFS (read-only), -EINVAL (bad value). */
int cpsim_cfg_set(struct cpsim_cp *cp, const struct cpsim_cfg_key *k, const char *value);
