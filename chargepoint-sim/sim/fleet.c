/* SPDX-License-Identifier: MIT */
/* A fleet of chargers in one process: creation, the timer wheel, storms, drain and progress. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp-private.h"
#include "site.h"

#define WHEEL_RES_MS 4
#define WHEEL_SLOTS  8192

/* cp.c entry points the fleet drives */
void cpsim_cp_init(struct cpsim_cp *cp, struct cpsim_fleet *f, uint32_t index, uint32_t connect_at);
void cpsim_cp_release(struct cpsim_cp *cp);
void cpsim_cp_wake(struct cpsim_cp *cp);
void cpsim_cp_drain(struct cpsim_cp *cp);
bool cpsim_cp_drained(const struct cpsim_cp *cp);
void cpsim_cp_close(struct cpsim_cp *cp);

static unsigned connectors_of(const struct cpsim_scenario *sc, uint32_t index)
{
	const struct cpsim_group *g = cpsim_scenario_group(sc, index, NULL);
	unsigned n = g->connectors ? g->connectors : cpsim_kind_info(g->kind)->connectors;

	return n < 1 ? 1 : n > 32 ? 32 : n;
}

struct cpsim_fleet *cpsim_fleet_create(const struct cpsim_fleet_opts *o)
{
	const struct cpsim_scenario *sc = o ? o->sc : NULL;
	struct cpsim_fleet *f;
	double ramp;

	if (!sc || !o->tp || !o->stats || !o->count || o->first + o->count > sc->total)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->sc = sc;
	f->tp = o->tp;
	f->tp_ctx = o->tp_ctx;
	f->stats = o->stats;
	f->first = o->first;
	f->wall_start_ms = o->wall_start_ms;
	f->sim_start_ms = sc->sim_start_ms ? sc->sim_start_ms : o->wall_start_ms;
	if (sc->sim_start_ms && sc->sim_anchor_ms) /* the simulated time at our own start */
		f->sim_start_ms +=
		    (int64_t)((double)(o->wall_start_ms - sc->sim_anchor_ms) * sc->speed);
	f->t_storm = sc->nstorms ? (uint32_t)(sc->storm_at_s[0] * 1000) : T_NEVER;
	cpsim_jw_reset(&f->jw);
	cpsim_jw_reset(&f->rw);
	cpsim_jw_reset(&f->fw);
	f->stats->chargers += o->count;
	f->cat[OCPP_V16] = ocpp_catalog_create(OCPP_V16);
	f->cat[OCPP_V201] = ocpp_catalog_create(OCPP_V201);
	f->cps = calloc(o->count, sizeof(*f->cps));
	if (!f->cat[OCPP_V16] || !f->cat[OCPP_V201] || !f->cps ||
	    cpsim_wheel_init(&f->wheel, WHEEL_RES_MS, WHEEL_SLOTS, 0) < 0)
		goto fail;
	ramp = sc->ramp_per_s > 0 ? sc->ramp_per_s : 0;
	for (uint32_t i = 0; i < o->count; i++) {
		unsigned n = connectors_of(sc, o->first + i);
		struct cpsim_cp *cp = calloc(1, sizeof(*cp) + n * sizeof(cp->c[0]));
		/* the ramp is fleet-wide: with several processes each takes its share */
		uint32_t at = ramp > 0 ? (uint32_t)((double)(o->first + i) * 1000.0 / ramp) : 0;

		if (!cp)
			goto fail;
		cp->nconn = (uint8_t)n;
		f->cps[i] = cp;
		f->count = i + 1;
		cpsim_cp_init(cp, f, o->first + i, at);
	}
	return f;
fail:
	cpsim_fleet_destroy(f);
	return NULL;
}

void cpsim_fleet_destroy(struct cpsim_fleet *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; f->cps && i < f->count; i++) {
		if (!f->cps[i])
			continue;
		cpsim_cp_release(f->cps[i]);
		free(f->cps[i]);
	}
	free(f->cps);
	cpsim_wheel_free(&f->wheel);
	ocpp_catalog_destroy(f->cat[OCPP_V16]);
	ocpp_catalog_destroy(f->cat[OCPP_V201]);
	cpsim_jw_free(&f->jw);
	cpsim_jw_free(&f->rw);
	cpsim_jw_free(&f->fw);
	free(f);
}

void cpsim_fleet_set_time(struct cpsim_fleet *f, uint64_t now_us)
{
	if (now_us < f->now_us)
		return; /* monotonic */
	f->now_us = now_us;
	f->now_ms = (uint32_t)(now_us / 1000);
}

static void on_due(struct cpsim_wnode *n, void *arg)
{
	(void)arg;
	cpsim_cp_wake((struct cpsim_cp *)n); /* wn is the first member */
}

/* A reconnect storm: a share of the chargers drop at once and come back within a second. */
static void storm(struct cpsim_fleet *f)
{
	const struct cpsim_scenario *sc = f->sc;

	for (uint32_t i = 0; i < f->count; i++) {
		struct cpsim_cp *cp = f->cps[i];

		if (!cp->conn || cp->state < CPS_BOOTING || cp->state > CPS_BOOTED)
			continue;
		if (cpsim_rng_unit(&cp->rng) >= sc->storm_share)
			continue;
		f->stats->f_storm_drops++;
		cp->t_conn = f->now_ms + 1 + (uint32_t)cpsim_rng_range(&cp->rng, 0, 1000);
		f->tp->close(f->tp_ctx, cp->conn, 1001);
	}
	f->next_storm++;
	f->t_storm = f->next_storm < sc->nstorms ? (uint32_t)(sc->storm_at_s[f->next_storm] * 1000)
						 : T_NEVER;
}

uint32_t cpsim_fleet_run(struct cpsim_fleet *f, uint64_t now_us)
{
	cpsim_fleet_set_time(f, now_us);
	if (f->t_storm <= f->now_ms && !f->draining && !f->closing)
		storm(f);
	cpsim_wheel_expire(&f->wheel, f->now_ms, on_due, f);
	return f->wheel.count ? f->now_ms + WHEEL_RES_MS : T_NEVER;
}

void cpsim_fleet_begin_drain(struct cpsim_fleet *f)
{
	f->draining = true;
	f->t_storm = T_NEVER;
	for (uint32_t i = 0; i < f->count; i++)
		cpsim_cp_drain(f->cps[i]);
}

bool cpsim_fleet_drained(const struct cpsim_fleet *f)
{
	for (uint32_t i = 0; i < f->count; i++)
		if (!cpsim_cp_drained(f->cps[i]))
			return false;
	return true;
}

void cpsim_fleet_close_all(struct cpsim_fleet *f)
{
	f->closing = true;
	f->draining = true;
	f->t_storm = T_NEVER;
	for (uint32_t i = 0; i < f->count; i++)
		cpsim_cp_close(f->cps[i]);
}

uint32_t cpsim_fleet_live_connections(const struct cpsim_fleet *f)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < f->count; i++)
		n += f->cps[i]->conn != NULL;
	return n;
}

void cpsim_fleet_progress(const struct cpsim_fleet *f, struct cpsim_progress *ret)
{
	const struct cpsim_stats *s = f->stats;
	uint64_t answered = 0, errors = s->conn_failed;

	for (unsigned a = 0; a < _CPSIM_A_MAX; a++) {
		answered += s->calls[a].results + s->calls[a].errors;
		errors += s->calls[a].errors + s->calls[a].timeouts;
	}
	*ret = (struct cpsim_progress){
	    .chargers = f->count,
	    .started = f->n_started,
	    .open = f->n_open,
	    .booted = f->n_booted,
	    .in_session = f->n_sessions,
	    .errors = errors,
	    .answered = answered,
	    .all_booted_s = s->all_booted_s,
	};
}

void cpsim_fleet_finish(struct cpsim_fleet *f)
{
	for (uint32_t i = 0; i < f->count; i++) {
		const struct cpsim_cp *cp = f->cps[i];

		for (unsigned c = 0; c < cp->nconn; c++)
			f->stats->sessions_open_at_end += cp->c[c].phase == PH_ACTIVE;
		for (const struct cpsim_qmsg *q = cp->q_head; q; q = q->next)
			f->stats->queued_at_end += q->persist;
		f->stats->queued_at_end += cp->inflight && cp->inflight->persist;
	}
}

struct cpsim_cp *cpsim_fleet_cp(struct cpsim_fleet *f, uint32_t i)
{
	return i < f->count ? f->cps[i] : NULL;
}
