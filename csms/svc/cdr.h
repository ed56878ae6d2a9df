/* SPDX-License-Identifier: MIT */
/* Charge detail records: a session's import and export energy split by tariff tier, and money. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tariff.h"

struct tariff_calendar;

/* One reading of an energy register (import or export, never mixed). */
struct tariff_sample {
	int64_t t_ms;
	int64_t wh;
};

/*
 * Rounding, stated once:
 *  - Energy: between two samples the register is interpolated linearly; the interpolated
 *    register at an instant t is w0 + round_half_up((w1 - w0) * (t - t0) / (t1 - t0)) Wh, and
 *    the energy of a piece [a, b) is R(b) - R(a). Pieces telescope, so the per-tier energies add
 *    up exactly to the register delta (last - first sample).
 *  - Money: every piece adds wh * price (fen/MWh) exactly to a per-tier sum in micro-fen; each
 *    per-tier sum, the export sum and the service sum are rounded half up to fen once, and
 *    total_fen is the sum of those rounded figures (so the printed lines add up).
 */
struct tariff_cdr {
	int64_t import_wh[_TARIFF_TIER_MAX];
	int64_t import_fen[_TARIFF_TIER_MAX];
	int64_t import_wh_total;
	int64_t import_fen_total; /* sum of import_fen */
	int64_t export_wh;
	int64_t export_fen; /* revenue, >= 0 */
	int64_t service_fen;
	int64_t total_fen; /* import_fen_total + service_fen - export_fen */
};

/* Compute a session's CDR. imp and exp are that session's register samples, ascending in time
 * with non-decreasing registers (n = 0 or 1 means no energy). Samples outside the calendar's
 * versions make it fail. Returns 0, -EINVAL on unordered samples or a falling register, -ENOENT
 * when a piece of energy falls before the first version. */
int tariff_cdr_compute(const struct tariff_calendar *cal, const struct tariff_sample *imp,
		       size_t n_imp, const struct tariff_sample *exp, size_t n_exp,
		       struct tariff_cdr *ret);

/* Energy of one site and one local day. */
struct tariff_day {
	int64_t day_start_ms; /* local midnight */
	int64_t import_wh[_TARIFF_TIER_MAX];
	int64_t import_wh_total;
	int64_t export_wh;
};

/* Start an empty day at the local day that contains t_ms. */
void tariff_day_init(struct tariff_day *day, const struct tariff_calendar *cal, int64_t t_ms);

/* Add the part of one session's energy that falls within the day (the same interpolation as a
 * CDR, so a session spread over two days adds up exactly). Returns 0 or the errors of
 * tariff_cdr_compute(); day is unchanged on failure. */
int tariff_day_add(struct tariff_day *day, const struct tariff_calendar *cal,
		   const struct tariff_sample *imp, size_t n_imp, const struct tariff_sample *exp,
		   size_t n_exp);

/* The valley share (deep valley + valley) / total import, in basis points (0..10000, rounded
 * half up); 0 when nothing was imported. */
int tariff_day_valley_share_bp(const struct tariff_day *day);
