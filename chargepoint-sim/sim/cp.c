/* SPDX-License-Identifier: MIT */
/* The virtual charger: connection, boot, queue with one call in flight, sessions, EVs, faults. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "behaviour.h"
#include "cp-private.h"
#include "site.h"
#include "swap.h"

#define UNPLUG_SIM_MS	   (60 * 1000) /* a driver takes a minute to unplug after the stop */
#define UNPLUG_MIN_MS	   200
#define UNPLUG_MAX_MS	   5000
#define RESET_CLOSE_MS	   5000	       /* a reset closes at the latest this long after it began */
#define REBOOT_MS	   2000	       /* and comes back after this */
#define SWAP_REFILL_SIM_MS (30 * 1000) /* a depleted pack goes into the freed slot */

static const char *const status_names[_ST_MAX] = {
    [ST_AVAILABLE] = "Available",      [ST_PREPARING] = "Preparing",
    [ST_CHARGING] = "Charging",	       [ST_SUSPENDED_EVSE] = "SuspendedEVSE",
    [ST_SUSPENDED_EV] = "SuspendedEV", [ST_FINISHING] = "Finishing",
    [ST_RESERVED] = "Reserved",	       [ST_UNAVAILABLE] = "Unavailable",
    [ST_FAULTED] = "Faulted",
};

const char *cpsim_status_name(enum cp_status s)
{
	return (unsigned)s < _ST_MAX ? status_names[s] : "Faulted";
}

const char *cpsim_status_v201(enum cp_status s)
{
	switch (s) {
	case ST_AVAILABLE:
		return "Available";
	case ST_RESERVED:
		return "Reserved";
	case ST_UNAVAILABLE:
		return "Unavailable";
	case ST_FAULTED:
		return "Faulted";
	default:
		return "Occupied";
	}
}

static const struct cpsim_behaviour *B(const struct cpsim_cp *cp)
{
	return cp->version == OCPP_V201 ? &cpsim_behaviour_v201 : &cpsim_behaviour_v16;
}

static uint32_t now_ms(const struct cpsim_cp *cp)
{
	return cp->f->now_ms;
}

static uint32_t add_ms(uint32_t t, double ms)
{
	double v = (double)t + (ms > 0 ? ms : 0);

	return v >= (double)(T_NEVER - 1) ? T_NEVER - 1 : (uint32_t)v;
}

/* ---------------------------------------------------------------- clocks */

static int64_t sim_now(const struct cpsim_fleet *f)
{
	return f->sim_start_ms + (int64_t)((double)f->now_ms * f->sc->speed);
}

/* Real fleet ms at which simulated time t is reached. */
static uint32_t sim_to_real(const struct cpsim_fleet *f, int64_t t)
{
	double real;

	if (t == INT64_MAX)
		return T_NEVER;
	real = (double)(t - f->sim_start_ms) / f->sc->speed;
	if (real < f->now_ms)
		return f->now_ms;
	return real >= (double)(T_NEVER - 1) ? T_NEVER - 1 : (uint32_t)ceil(real);
}

/* Real ms for a simulated duration. */
static double sim_dur(const struct cpsim_fleet *f, double sim_ms)
{
	return sim_ms / f->sc->speed;
}

int64_t cpsim_proto_now(const struct cpsim_cp *cp)
{
	const struct cpsim_fleet *f = cp->f;

	return f->sc->timestamps_sim ? sim_now(f) : f->wall_start_ms + f->now_ms;
}

uint32_t cpsim_proto_to_real(const struct cpsim_cp *cp, int64_t t)
{
	const struct cpsim_fleet *f = cp->f;
	int64_t real;

	if (f->sc->timestamps_sim)
		return sim_to_real(f, t);
	if (t == INT64_MAX)
		return T_NEVER;
	real = t - f->wall_start_ms;
	if (real < f->now_ms)
		return f->now_ms;
	return real >= (int64_t)T_NEVER - 1 ? T_NEVER - 1 : (uint32_t)real;
}

/* ---------------------------------------------------------------- small helpers */

void cpsim_cp_id(const struct cpsim_cp *cp, char *buf, size_t len)
{
	cpsim_charger_id(cp->f->sc, cp->index, buf, len);
}

struct cpsim_connector *cpsim_cp_conn(struct cpsim_cp *cp, unsigned id)
{
	return id >= 1 && id <= cp->nconn ? &cp->c[id - 1] : NULL;
}

double cpsim_cp_hw_w(const struct cpsim_cp *cp)
{
	const struct cpsim_group *g = &cp->f->sc->groups[cp->group];
	double kw = g->power_kw > 0 ? g->power_kw : cpsim_kind_info(cp->kind)->power_kw;

	return kw * 1000.0;
}

void cpsim_cp_limit_ctx(const struct cpsim_cp *cp, const struct cpsim_connector *c,
			struct cpsim_limit_ctx *ret)
{
	const struct cpsim_kind_info *ki = cpsim_kind_info(cp->kind);

	*ret = (struct cpsim_limit_ctx){
	    .connector = c->id,
	    .tx_active = c->phase == PH_ACTIVE,
	    .tx_start_ms = c->start_proto_ms,
	    .volts = ki->dc ? 400.0 : 230.0,
	    .phases = ki->dc ? 1 : ki->phases,
	};
	if (c->phase == PH_ACTIVE) {
		if (cp->version == OCPP_V201) {
			char id[40];

			cpsim_cp_tx_id(cp, c, id, sizeof(id));
			ret->tx_key = cpsim_tx_key_str(id);
		} else {
			ret->tx_key = c->txid ? cpsim_tx_key_int(c->txid) : 0;
		}
	}
}

void cpsim_cp_tx_id(const struct cpsim_cp *cp, const struct cpsim_connector *c, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%s-%u-%u-%u", cp->f->sc->id_prefix, cp->index, c->id, c->session);
}

uint64_t cpsim_tx_key_int(int32_t txid)
{
	return (uint64_t)(uint32_t)txid | (UINT64_C(1) << 63);
}

uint64_t cpsim_tx_key_str(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h ? h : 1;
}

struct cpsim_qmsg *cpsim_qmsg_new(const struct cpsim_jw *w, enum cpsim_action a, unsigned connector,
				  uint16_t session, bool persist)
{
	const char *text = cpsim_jw_text(w);
	struct cpsim_qmsg *q;

	if (!text)
		return NULL;
	q = calloc(1, sizeof(*q) + w->len + 1);
	if (!q)
		return NULL;
	q->action = (uint8_t)a;
	q->connector = (uint8_t)connector;
	q->session = session;
	q->persist = persist;
	q->len = (uint32_t)w->len;
	memcpy(q->text, text, w->len + 1);
	return q;
}

/* ---------------------------------------------------------------- scheduling */

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Arm the charger's wheel node for its earliest deadline. */
static void reschedule(struct cpsim_cp *cp)
{
	uint32_t t = cp->t_conn;

	if (cp->state == CPS_BOOTED)
		t = min32(t, cp->t_hb);
	if (cp->inflight)
		t = min32(t, cp->t_call);
	if (cp->delayed)
		t = min32(t, cp->t_delayed);
	t = min32(t, cp->t_fault);
	t = min32(t, cp->t_swap);
	t = min32(t, cp->t_aligned);
	for (unsigned i = 0; i < cp->nconn; i++) {
		const struct cpsim_connector *c = &cp->c[i];

		t = min32(t, c->t_event);
		t = min32(t, c->t_limit);
		if (c->phase == PH_ACTIVE)
			t = min32(t, c->t_meter);
		if (c->flags & CF_RESERVED)
			t = min32(t, c->t_reserve);
	}
	if (t == T_NEVER)
		cpsim_wheel_del(&cp->f->wheel, &cp->wn);
	else
		cpsim_wheel_set(&cp->f->wheel, &cp->wn, t);
}

/* ---------------------------------------------------------------- queue */

static void qmsg_free(struct cpsim_qmsg *q)
{
	free(q);
}

static void push_head(struct cpsim_cp *cp, struct cpsim_qmsg *q)
{
	q->next = cp->q_head;
	cp->q_head = q;
	if (!cp->q_tail)
		cp->q_tail = q;
	cp->q_len++;
}

static void unlink_q(struct cpsim_cp *cp, struct cpsim_qmsg *prev, struct cpsim_qmsg *q)
{
	if (prev)
		prev->next = q->next;
	else
		cp->q_head = q->next;
	if (cp->q_tail == q)
		cp->q_tail = prev;
	cp->q_len--;
	q->next = NULL;
}

static void unplug_later(struct cpsim_cp *cp, struct cpsim_connector *c);
static void update_status(struct cpsim_cp *cp, struct cpsim_connector *c);

/* Free a message a full queue cannot keep. An Authorize that goes is a driver who gives up and
 * unplugs: without that its connector waited for the answer for good (a swap slot that never got
 * its pack: sim-swap-day). (A disconnect decides waiting plug-ins offline instead.) */
static void qmsg_drop(struct cpsim_cp *cp, struct cpsim_qmsg *q)
{
	struct cpsim_connector *c = NULL;

	if (q->action == CPSIM_A_AUTHORIZE && q->connector >= 1 && q->connector <= cp->nconn)
		c = &cp->c[q->connector - 1];
	qmsg_free(q);
	if (c && c->phase == PH_AUTH) {
		unplug_later(cp, c);
		update_status(cp, c);
	}
}

/* The message that makes room for q in a full queue: for a transaction message the oldest
 * periodic meter value, else the oldest other one that would not survive a disconnect, an
 * Authorize last; for an Authorize the oldest periodic meter value or other volatile message
 * but an Authorize; for anything else none. NULL: none (q itself goes). */
static struct cpsim_qmsg *queue_victim(struct cpsim_cp *cp, const struct cpsim_qmsg *q,
				       struct cpsim_qmsg **ret_prev)
{
	int passes = q->persist ? 3 : q->action == CPSIM_A_AUTHORIZE ? 2 : 0;

	for (int pass = 0; pass < passes; pass++) {
		struct cpsim_qmsg *p, *prev = NULL;

		for (p = cp->q_head; p; prev = p, p = p->next) {
			bool take = pass == 0	? p->droppable
				    : pass == 1 ? !p->persist && p->action != CPSIM_A_AUTHORIZE
						: !p->persist;

			if (take) {
				*ret_prev = prev;
				return p;
			}
		}
	}
	return NULL;
}

void cpsim_cp_enqueue(struct cpsim_cp *cp, struct cpsim_qmsg *q)
{
	struct cpsim_qmsg *p = NULL, *prev = NULL;

	if (!q)
		return;
	/* OCPP 1.6 4.2 / 2.0.1 B02: nothing but the boot until accepted; status and the like
	 * are not worth keeping across an outage (they are re-sent after the boot) */
	if (!q->persist && q->action != CPSIM_A_BOOT && cp->state != CPS_BOOTED) {
		qmsg_free(q);
		return;
	}
	if (cp->q_len >= CP_QUEUE_MAX) {
		/* full: make room (queue_victim); if there is nothing to give, q itself goes */
		cp->f->stats->queue_dropped++;
		p = queue_victim(cp, q, &prev);
		if (!p) {
			qmsg_drop(cp, q);
			return;
		}
		unlink_q(cp, prev, p);
	}
	q->next = NULL;
	if (cp->q_tail)
		cp->q_tail->next = q;
	else
		cp->q_head = q;
	cp->q_tail = q;
	cp->q_len++;
	if (p) /* after q is in: what its drop queues finds the queue as it is */
		qmsg_drop(cp, p);
}

/* Remove every message that does not survive a disconnect. */
static void drop_volatile(struct cpsim_cp *cp)
{
	struct cpsim_qmsg *q = cp->q_head, *prev = NULL, *next;

	while (q) {
		next = q->next;
		if (!q->persist) {
			unlink_q(cp, prev, q);
			qmsg_free(q);
		} else {
			prev = q;
		}
		q = next;
	}
}

static void queue_boot(struct cpsim_cp *cp, enum cp_boot_reason why)
{
	struct cpsim_qmsg *q, *prev = NULL;

	if (cp->inflight && cp->inflight->action == CPSIM_A_BOOT)
		return;
	for (q = cp->q_head; q; prev = q, q = q->next) {
		if (q->action == CPSIM_A_BOOT) {
			unlink_q(cp, prev, q);
			qmsg_free(q);
			break;
		}
	}
	q = B(cp)->boot(cp, why);
	if (q)
		push_head(cp, q);
}

static void count_send(struct cpsim_fleet *f, size_t len)
{
	f->stats->frames_sent++;
	f->stats->bytes_sent += len;
}

static int tp_send(struct cpsim_cp *cp, const char *buf, size_t len)
{
	struct cpsim_fleet *f = cp->f;
	int r = f->tp->send(f->tp_ctx, cp->conn, buf, len);

	if (r < 0)
		f->stats->send_failed++;
	else
		count_send(f, len);
	return r;
}

/* --validate: check one of our payloads against the official schema. */
static void validate_payload(struct cpsim_cp *cp, const char *action, bool response,
			     const char *text, size_t len)
{
	struct cpsim_fleet *f = cp->f;
	json_error_t je;
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	char desc[160] = "not JSON";
	enum ocpp_err e = OCPP_ERR_FORMATION;

	if (v)
		e = ocpp_catalog_validate(f->cat[cp->version], action, response, v, desc,
					  sizeof(desc));
	json_decref(v);
	if (e == OCPP_ERR_NONE)
		return;
	f->stats->invalid_sent++;
	if (f->invalid_logged++ < 10)
		fprintf(stderr, "cpsim: invalid %s %s sent: %s: %.*s\n",
			ocpp_version_name((enum ocpp_version)cp->version), action, desc,
			(int)(len > 300 ? 300 : len), text);
}

static void send_call(struct cpsim_cp *cp, struct cpsim_qmsg *q)
{
	struct cpsim_fleet *f = cp->f;
	const struct cpsim_faults *fl = cpsim_scenario_faults(f->sc, cp->group);
	struct cpsim_jw *w = &f->fw;
	char id[16], tail[48];
	const char *text;
	size_t plen;
	int r;

	if (!q->id)
		q->id = ++cp->msg_seq ? cp->msg_seq : ++cp->msg_seq;
	snprintf(id, sizeof(id), "%u", q->id);
	cpsim_jw_reset(w);
	cpsim_jw_append(w, "[2,\"", 4);
	cpsim_jw_append(w, id, strlen(id));
	cpsim_jw_append(w, "\",\"", 3);
	text = cpsim_action_name(q->action);
	cpsim_jw_append(w, text, strlen(text));
	cpsim_jw_append(w, "\",", 2);
	plen = w->len;
	cpsim_jw_append(w, q->text, q->len);
	if (q->needs_txid) {
		int n =
		    snprintf(tail, sizeof(tail), ",\"transactionId\":%d}", q->txid ? q->txid : -1);

		cpsim_jw_append(w, tail, (size_t)n);
	}
	plen = w->len - plen;
	cpsim_jw_append(w, "]", 1);
	if (!cpsim_jw_text(w)) {
		push_head(cp, q);
		return;
	}
	if (f->sc->validate)
		validate_payload(cp, cpsim_action_name(q->action), false,
				 w->buf + w->len - 1 - plen, plen);
	if (fl->malformed_share > 0 && cpsim_rng_unit(&cp->rng) < fl->malformed_share) {
		/* a truncated frame: the CSMS should answer with a CALLERROR (id "-1") */
		static const char bad[] = "[2,\"bad\",\"Heartbeat\",{";

		if (tp_send(cp, bad, sizeof(bad) - 1) == 0)
			f->stats->f_malformed++;
	}
	r = tp_send(cp, w->buf, w->len);
	if (r < 0) {
		push_head(cp, q);
		return;
	}
	if (q->persist && fl->duplicate_share > 0 &&
	    cpsim_rng_unit(&cp->rng) < fl->duplicate_share) {
		/* the same CALL again, same id: the CSMS must not count it twice */
		if (tp_send(cp, w->buf, w->len) == 0)
			f->stats->f_duplicates++;
	}
	q->attempts++;
	cp->inflight = q;
	cp->sent_us = f->now_us;
	cp->t_call = add_ms(now_ms(cp), f->sc->call_timeout_s * 1000.0);
	f->stats->calls[q->action].sent++;
}

/* Send the next queued message if the link allows (one CALL in flight, OCPP-J). */
static void pump(struct cpsim_cp *cp)
{
	struct cpsim_qmsg *q = cp->q_head;

	if (!cp->conn || cp->inflight || !q)
		return;
	if (cp->state != CPS_BOOTED) {
		if ((cp->state != CPS_BOOTING && cp->state != CPS_PENDING) ||
		    q->action != CPSIM_A_BOOT)
			return;
		if (cp->state == CPS_PENDING && now_ms(cp) < cp->hold_until)
			return;
	}
	unlink_q(cp, NULL, q);
	send_call(cp, q);
}

/* ---------------------------------------------------------------- energy and limits */

static unsigned active_count(const struct cpsim_cp *cp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cp->nconn; i++)
		n += cp->c[i].phase == PH_ACTIVE;
	return n;
}

static void advance_conn(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	uint32_t now = now_ms(cp);
	struct cpsim_ev_flow fl;

	if (c->phase == PH_ACTIVE && now > c->t_last) {
		double dt = (double)(now - c->t_last) / 1000.0 * cp->f->sc->speed;

		cpsim_ev_step(&c->ev, c->limit_w, dt, &fl);
		c->import_wh += fl.import_wh;
		c->export_wh += fl.export_wh;
		cp->f->stats->import_wh += fl.import_wh;
		cp->f->stats->export_wh += fl.export_wh;
		c->power_w = cpsim_ev_power(&c->ev, c->limit_w);
	}
	c->t_last = now;
}

void cpsim_cp_advance(struct cpsim_cp *cp)
{
	for (unsigned i = 0; i < cp->nconn; i++)
		advance_conn(cp, &cp->c[i]);
}

static enum cp_status compute_status(const struct cpsim_cp *cp, const struct cpsim_connector *c)
{
	(void)cp;
	switch (c->phase) {
	case PH_AUTH:
		return ST_PREPARING;
	case PH_ACTIVE:
		if (c->power_w != 0)
			return ST_CHARGING;
		if (c->limit_w == 0 || (c->limit_w < 0 && !c->ev.v2g))
			return ST_SUSPENDED_EVSE;
		return ST_SUSPENDED_EV;
	case PH_FINISHING:
		return ST_FINISHING;
	default:
		if (c->flags & CF_INOPERATIVE)
			return ST_UNAVAILABLE;
		if (c->flags & CF_RESERVED)
			return ST_RESERVED;
		return ST_AVAILABLE;
	}
}

/* The status the CSMS is told: 1.6 names, or 2.0.1's coarser connectorStatus. */
static uint8_t notified_form(const struct cpsim_cp *cp, enum cp_status s)
{
	if (cp->version != OCPP_V201)
		return (uint8_t)s;
	switch (s) {
	case ST_AVAILABLE:
	case ST_RESERVED:
	case ST_UNAVAILABLE:
	case ST_FAULTED:
		return (uint8_t)s;
	default:
		return ST_CHARGING; /* "Occupied" */
	}
}

/* Recompute c's status; notify the CSMS when what it would see changed. */
static void update_status(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	enum cp_status s = compute_status(cp, c);
	uint8_t form = notified_form(cp, s);

	c->status = (uint8_t)s;
	if (cp->version == OCPP_V201 && c->phase == PH_ACTIVE && B(cp)->tx_meter) {
		/* 2.0.1: a change of chargingState is a TransactionEvent Updated */
		if (c->charging_state != (uint8_t)s && c->charging_state != 0xff) {
			c->charging_state = (uint8_t)s;
			cpsim_cp_enqueue(cp, B(cp)->tx_meter(cp, c, TR_STATE_CHANGED));
		}
		c->charging_state = (uint8_t)s;
	}
	if (form == c->sent_status)
		return;
	if (cp->state != CPS_BOOTED)
		return; /* told after the next boot */
	c->sent_status = form;
	cpsim_cp_enqueue(cp, B(cp)->status(cp, c->id));
}

/* Limits of every connector from the profiles, hardware and the share of the station limit. */
static void refresh_limits_ex(struct cpsim_cp *cp, bool notify)
{
	int64_t now_p = cpsim_proto_now(cp), n1, n2;
	unsigned share = active_count(cp);
	double hw = cpsim_cp_hw_w(cp);
	bool bidir = cpsim_kind_info(cp->kind)->bidirectional;
	struct cpsim_limit_ctx ctx;

	cpsim_cp_advance(cp);
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];
		double lim = hw, st, cn;

		cpsim_cp_limit_ctx(cp, c, &ctx);
		c->t_limit = T_NEVER;
		if (cp->profiles) {
			st = cpsim_profiles_station_w(cp->profiles, &ctx, now_p, &n1);
			cn = cpsim_profiles_connector_w(cp->profiles, &ctx, now_p, &n2);
			if (isfinite(st) && st / (share ? share : 1) < lim)
				lim = st / (share ? share : 1);
			if (cn < lim)
				lim = cn;
			c->t_limit = cpsim_proto_to_real(cp, n1 < n2 ? n1 : n2);
			if (c->t_limit <= now_ms(cp))
				c->t_limit = now_ms(cp) + 1;
		}
		/* docs/v2g.md: SetV2GMode governs what a negative limit means */
		if (c->v2g_mode == CPSIM_V2G_IDLE)
			lim = 0;
		else if (lim < 0 && c->v2g_mode == CPSIM_V2G_CHARGING_ONLY)
			lim = 0;
		if (lim < 0)
			lim = bidir ? (lim < -hw ? -hw : lim) : 0;
		c->limit_w = lim;
		c->power_w = c->phase == PH_ACTIVE ? cpsim_ev_power(&c->ev, lim) : 0;
		if (notify)
			update_status(cp, c);
		else
			c->status = (uint8_t)compute_status(cp, c);
	}
}

static void refresh_limits(struct cpsim_cp *cp)
{
	refresh_limits_ex(cp, true);
}

void cpsim_cp_refresh(struct cpsim_cp *cp)
{
	refresh_limits(cp);
}

/* ---------------------------------------------------------------- sessions */

static void schedule_arrival(struct cpsim_cp *cp, struct cpsim_connector *c, bool first)
{
	struct cpsim_fleet *f = cp->f;

	if (f->draining || (c->flags & CF_INOPERATIVE)) {
		c->t_event = T_NEVER;
		return;
	}
	if (f->sc->steady) {
		/* sessions start spread over one sample interval, so that samples come evenly
		 * (all at once would make the offered load a burst per interval) */
		c->t_event = first
				 ? add_ms((uint32_t)(f->sc->steady_at_s * 1000),
					  cpsim_rng_range(&cp->rng, 0,
							  cp->meter_ms > 500 ? cp->meter_ms : 500))
				 : T_NEVER;
		return;
	}
	if (cp->kind == CPSIM_KIND_SWAP) {
		/* the rack is full from the start; a freed slot gets a depleted pack */
		c->t_event = first ? add_ms(now_ms(cp), cpsim_rng_range(&cp->rng, 0, 2000))
				   : add_ms(now_ms(cp), sim_dur(f, SWAP_REFILL_SIM_MS));
		return;
	}
	c->t_event = sim_to_real(f, cpsim_site_next_arrival(cp->kind, &cp->rng, sim_now(f), first));
}

static void unplug_later(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	double d = sim_dur(cp->f, UNPLUG_SIM_MS);

	if (d < UNPLUG_MIN_MS)
		d = UNPLUG_MIN_MS;
	if (d > UNPLUG_MAX_MS)
		d = UNPLUG_MAX_MS;
	c->phase = PH_FINISHING;
	c->t_event = add_ms(now_ms(cp), d);
	c->t_meter = T_NEVER;
}

static void stop_session(struct cpsim_cp *cp, struct cpsim_connector *c, enum cp_reason why);

static void start_session(struct cpsim_cp *cp, struct cpsim_connector *c, enum cp_trigger why)
{
	struct cpsim_fleet *f = cp->f;

	cpsim_cp_advance(cp);
	c->phase = PH_ACTIVE;
	c->start_wh = c->import_wh;
	c->start_proto_ms = cpsim_proto_now(cp);
	c->txid = 0;
	c->seq_no = 0;
	c->charging_state = 0xff;
	c->flags &= ~CF_RESERVED;
	f->n_sessions++;
	f->stats->sessions_started++;
	if (cp->state != CPS_BOOTED) {
		c->flags |= CF_OFFLINE;
		f->stats->offline_starts++;
	}
	/* the limit and power are known before the start message carries them; the status
	 * change (Charging) is told after the start */
	refresh_limits_ex(cp, false);
	cpsim_cp_enqueue(cp, B(cp)->tx_start(cp, c, why));
	c->charging_state = c->status;
	c->t_meter = add_ms(now_ms(cp), cp->meter_ms);
	if (B(cp)->ev_needs && cp->state == CPS_BOOTED && !(c->flags & CF_NO_DEPART))
		cpsim_cp_enqueue(cp, B(cp)->ev_needs(cp, c));
	refresh_limits(cp); /* the other connectors now share the station limit */
	/* docs/v2g.md: the needs, V2G willingness and floor, and the EVSE's capability */
	c->v2g_mode = CPSIM_V2G_NONE;
	if (cp->state == CPS_BOOTED && !(c->flags & CF_NO_DEPART) &&
	    cpsim_kind_info(cp->kind)->bidirectional)
		cpsim_cp_enqueue(cp, cpsim_bh_needs_dt(cp, c));
	if (cp->kind == CPSIM_KIND_SWAP && !f->sc->steady) { /* docs/swap.md */
		char tag[32];

		snprintf(tag, sizeof(tag), "%s-%d", cpsim_swap_port(cp) ? "TRUCK" : "VAN",
			 c->swap_request);
		cpsim_cp_enqueue(cp, cpsim_swap_event(cp, c, "BatteryIn", c->swap_request,
						      c->swap_request ? tag : NULL));
		c->swap_request = 0;
	}
	/* a start during the drain (a remote start, an answer in flight) ends at once: the
	 * drain stopped the sessions it found and no session may stay open at the end */
	if (f->draining)
		stop_session(cp, c, RS_LOCAL);
}

static void stop_session(struct cpsim_cp *cp, struct cpsim_connector *c, enum cp_reason why)
{
	struct cpsim_fleet *f = cp->f;
	struct cpsim_profile_filter flt = {
	    .has_connector = true,
	    .connector = c->id,
	    .has_purpose = true,
	    .purpose = CPSIM_PP_TX,
	};

	if (c->phase != PH_ACTIVE)
		return;
	cpsim_cp_advance(cp);
	c->power_w = cpsim_ev_power(&c->ev, c->limit_w);
	cpsim_cp_enqueue(cp, B(cp)->tx_stop(cp, c, why));
	f->n_sessions--;
	f->stats->sessions_stopped++;
	unplug_later(cp, c);
	c->power_w = 0;
	/* OCPP 1.6 3.13.4 / 2.0.1 K01.FR.05: a TxProfile ends with its transaction */
	if (cp->profiles)
		cpsim_profiles_clear(&cp->profiles, &flt);
	refresh_limits(cp);
}

/* Offline authorization (OCPP 1.6 3.5 / 2.0.1 C13): local list, or unknown ids allowed. */
static bool offline_auth(const struct cpsim_cp *cp, const struct cpsim_connector *c)
{
	if ((cp->cfg & CFG_LOCAL_OFFLINE) && cpsim_cp_local_list_has(cp, c->tag)) {
		if (cp->kind == CPSIM_KIND_RURAL)
			cp->f->stats->offline_list_auth++;
		return true;
	}
	if (cp->kind == CPSIM_KIND_RURAL && !(cp->cfg & CFG_OFFLINE_UNKNOWN))
		cp->f->stats->offline_list_refused++;
	return (cp->cfg & CFG_OFFLINE_UNKNOWN) != 0;
}

static void plug_in(struct cpsim_cp *cp, struct cpsim_connector *c, const char *remote_tag)
{
	struct cpsim_fleet *f = cp->f;
	const struct cpsim_group *g = &f->sc->groups[cp->group];
	double v2g = g->v2g_share >= 0 ? g->v2g_share : cpsim_kind_info(cp->kind)->v2g_share;
	int64_t dep = 0;

	cpsim_cp_advance(cp);
	c->session++;
	c->flags &= ~(CF_REMOTE | CF_OFFLINE | CF_NO_DEPART);
	if (f->sc->steady) {
		c->ev = (struct cpsim_ev){
		    .capacity_wh = 1e9,
		    .soc = 0.5,
		    .target_soc = 1.0,
		    .min_soc = 0.2,
		    .max_charge_w = 11000,
		    .max_discharge_w = 11000,
		};
		c->flags |= CF_NO_DEPART;
	} else {
		cpsim_site_draw_ev(cp->kind, &cp->rng, sim_now(f), v2g, &c->ev, &dep);
		if (g->soc_hi > 0) { /* the scenario's arrival SoC */
			c->ev.soc = cpsim_rng_range(&cp->rng, g->soc_lo, g->soc_hi);
			if (c->ev.soc > c->ev.target_soc)
				c->ev.soc = c->ev.target_soc;
			c->ev.min_soc = 0.3 < c->ev.soc ? 0.3 : c->ev.soc;
		}
		if (cp->kind == CPSIM_KIND_SWAP)
			cpsim_swap_draw_pack(cpsim_swap_port(cp), &cp->rng, &c->ev);
		if (!dep)
			c->flags |= CF_NO_DEPART;
	}
	c->t_event = dep ? sim_to_real(f, dep) : T_NEVER;
	if (remote_tag) {
		snprintf(c->tag, sizeof(c->tag), "%s", remote_tag);
		c->flags |= CF_REMOTE;
	} else if (c->flags & CF_RESERVED && c->tag[0]) {
		/* the driver who reserved */
	} else {
		cpsim_tag_for(f->sc, cp->index, cp->kind, &cp->rng, c->tag, sizeof(c->tag));
		c->tag_type = 0;
	}
	c->phase = PH_AUTH;
	update_status(cp, c);

	if ((remote_tag && !(cp->cfg & CFG_AUTH_REMOTE)) || f->sc->auth == CPSIM_AUTH_SKIP) {
		start_session(cp, c, remote_tag ? TR_REMOTE_START : TR_AUTHORIZED);
	} else if (cp->state == CPS_BOOTED) {
		if ((cp->cfg & CFG_LOCAL_PREAUTH) && cpsim_cp_local_list_has(cp, c->tag))
			start_session(cp, c, TR_AUTHORIZED);
		else
			cpsim_cp_enqueue(cp, B(cp)->authorize(cp, c));
	} else if (offline_auth(cp, c)) {
		start_session(cp, c, TR_AUTHORIZED);
	} else {
		cpsim_cp_auth_result(cp, c, false);
	}
}

static void unplug(struct cpsim_cp *cp, struct cpsim_connector *c)
{
	c->phase = PH_IDLE;
	c->power_w = 0;
	c->tag[0] = '\0';
	c->flags &= ~(CF_REMOTE | CF_OFFLINE | CF_NO_DEPART);
	if (c->flags & CF_PENDING_INOP)
		c->flags = (uint8_t)((c->flags & ~CF_PENDING_INOP) | CF_INOPERATIVE);
	schedule_arrival(cp, c, false);
	update_status(cp, c);
	if (cp->reset_on_idle && !active_count(cp)) {
		cp->reset_on_idle = false;
		cpsim_cp_reset(cp, false, false);
	}
}

void cpsim_cp_auth_result(struct cpsim_cp *cp, struct cpsim_connector *c, bool accepted)
{
	if (!c || c->phase != PH_AUTH)
		return;
	if (accepted && cp->f->draining) {
		/* the run is ending: the driver leaves instead of starting a session that
		 * the drain would have to stop (it stopped the active ones already) */
		unplug_later(cp, c);
		update_status(cp, c);
		return;
	}
	if (accepted) {
		start_session(cp, c, TR_AUTHORIZED);
		return;
	}
	cp->f->stats->auth_rejected++;
	unplug_later(cp, c);
	update_status(cp, c);
}

void cpsim_cp_tx_started(struct cpsim_cp *cp, struct cpsim_connector *c, uint16_t session,
			 int32_t txid, bool accepted)
{
	struct cpsim_qmsg *q;

	if (!c)
		return;
	/* later messages of the same session learn their transaction id (offline queue) */
	for (q = cp->q_head; q; q = q->next)
		if (q->needs_txid && q->connector == c->id && q->session == session && !q->txid)
			q->txid = txid;
	if (c->session != session || c->phase != PH_ACTIVE)
		return;
	c->txid = txid;
	if (!accepted && (cp->cfg & CFG_STOP_ON_INVALID) && cp->f->sc->auth == CPSIM_AUTH_CHECK &&
	    !(c->flags & CF_REMOTE)) {
		cp->f->stats->auth_rejected++;
		stop_session(cp, c, RS_DEAUTHORIZED);
	} else if (cp->profiles) {
		refresh_limits(cp); /* a TxProfile for this id may be waiting */
	}
}

/* ---------------------------------------------------------------- commands from the CSMS */

int cpsim_cp_remote_start(struct cpsim_cp *cp, unsigned connector, const char *tag,
			  uint8_t tag_type, int32_t remote_start_id)
{
	struct cpsim_connector *c = NULL;

	if (connector) {
		c = cpsim_cp_conn(cp, connector);
		if (!c)
			return -EINVAL;
		if (c->phase != PH_IDLE || (c->flags & CF_INOPERATIVE))
			return -EBUSY;
	} else {
		for (unsigned i = 0; i < cp->nconn && !c; i++)
			if (cp->c[i].phase == PH_IDLE && !(cp->c[i].flags & CF_INOPERATIVE))
				c = &cp->c[i];
		if (!c)
			return -EBUSY;
	}
	cp->f->stats->remote_starts++;
	c->remote_start_id = remote_start_id;
	c->tag_type = tag_type;
	plug_in(cp, c, tag);
	return c->id;
}

int cpsim_cp_remote_stop(struct cpsim_cp *cp, uint64_t key)
{
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];
		struct cpsim_limit_ctx ctx;

		if (c->phase != PH_ACTIVE)
			continue;
		cpsim_cp_limit_ctx(cp, c, &ctx);
		if (ctx.tx_key == key) {
			cp->f->stats->remote_stops++;
			stop_session(cp, c, RS_REMOTE);
			return 0;
		}
	}
	return -ENOENT;
}

int cpsim_cp_reset(struct cpsim_cp *cp, bool hard, bool on_idle)
{
	if (on_idle && active_count(cp)) {
		cp->reset_on_idle = true;
		return 1;
	}
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		if (c->phase == PH_ACTIVE)
			stop_session(cp, c, hard ? RS_HARD_RESET : RS_SOFT_RESET);
		else if (c->phase == PH_AUTH)
			unplug_later(cp, c);
	}
	cp->resetting = true;
	cp->t_reset = add_ms(now_ms(cp), RESET_CLOSE_MS);
	cp->t_conn = add_ms(now_ms(cp), 50); /* close once the stops are out */
	return 0;
}

int cpsim_cp_availability(struct cpsim_cp *cp, unsigned connector, bool operative)
{
	int scheduled = 0;

	if (connector > cp->nconn)
		return -EINVAL;
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		if (connector && c->id != connector)
			continue;
		if (operative) {
			bool was = c->flags & (CF_INOPERATIVE | CF_PENDING_INOP);

			c->flags &= ~(CF_INOPERATIVE | CF_PENDING_INOP);
			if (was && c->phase == PH_IDLE)
				schedule_arrival(cp, c, false);
		} else if (c->phase != PH_IDLE) {
			c->flags |= CF_PENDING_INOP;
			scheduled = 1;
		} else {
			c->flags |= CF_INOPERATIVE;
			c->t_event = T_NEVER;
		}
		update_status(cp, c);
	}
	return scheduled;
}

int cpsim_cp_unlock(struct cpsim_cp *cp, unsigned connector, bool stop_session_too)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, connector);

	if (!c)
		return -EINVAL;
	if (c->phase == PH_ACTIVE) {
		if (!stop_session_too)
			return 1;
		stop_session(cp, c, RS_UNLOCK);
	}
	if (c->phase == PH_FINISHING || c->phase == PH_AUTH) {
		/* the cable comes out now */
		c->phase = PH_FINISHING;
		unplug(cp, c);
	}
	return 0;
}

int cpsim_cp_set_profile(struct cpsim_cp *cp, struct cpsim_profile *p)
{
	struct cpsim_connector *c = NULL;
	int r;

	if (p->connector > cp->nconn)
		return -EINVAL;
	if (p->connector)
		c = cpsim_cp_conn(cp, p->connector);
	/* OCPP 1.6 3.13.2: a TxProfile needs a transaction on its connector (0 is refused) */
	if (p->purpose == CPSIM_PP_TX) {
		if (!c || (c->phase != PH_ACTIVE && c->phase != PH_AUTH))
			return -ENOENT;
	}
	if (p->purpose == CPSIM_PP_STATION_MAX && p->connector)
		return -EINVAL;
	if (p->kind != CPSIM_PK_RELATIVE && p->start_ms == INT64_MIN)
		p->start_ms = cpsim_proto_now(cp);
	r = cpsim_profiles_install(&cp->profiles, p);
	if (r < 0)
		return r;
	refresh_limits(cp);
	return 0;
}

unsigned cpsim_cp_clear_profiles(struct cpsim_cp *cp, const struct cpsim_profile_filter *f)
{
	unsigned n = cpsim_profiles_clear(&cp->profiles, f);

	if (n)
		refresh_limits(cp);
	return n;
}

int cpsim_cp_composite(struct cpsim_cp *cp, unsigned connector, int32_t duration_s, bool amps,
		       struct cpsim_period *out, unsigned max, int64_t *ret_start)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, connector ? connector : 1);
	struct cpsim_limit_ctx ctx;
	int64_t start = cpsim_proto_now(cp);
	unsigned share = active_count(cp);
	int n;

	if (!c || connector > cp->nconn)
		return -EINVAL;
	cpsim_cp_limit_ctx(cp, c, &ctx);
	/* connector 0: the station as a whole, i.e. the station limit alone */
	n = cpsim_profiles_composite(cp->profiles, &ctx, start, duration_s,
				     cpsim_cp_hw_w(cp) * (connector ? 1 : cp->nconn),
				     connector ? (share ? share : 1) : 1, amps, out, max);
	if (n >= 0)
		*ret_start = start;
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int cpsim_cp_local_list(struct cpsim_cp *cp, int32_t version, bool full, const char *const *tags,
			const bool *accepted, size_t n)
{
	struct cpsim_llist *ll = cp->ll, *nl;
	size_t count = full || !ll ? 0 : ll->count, i, j;

	nl = malloc(sizeof(*nl) + (count + n) * sizeof(uint64_t));
	if (!nl)
		return -ENOMEM;
	nl->version = version;
	nl->count = (uint32_t)count;
	if (count)
		memcpy(nl->h, ll->h, count * sizeof(uint64_t));
	for (i = 0; i < n; i++) {
		uint64_t h = cpsim_tx_key_str(tags[i]);

		for (j = 0; j < nl->count && nl->h[j] != h; j++)
			;
		if (accepted[i] && j == nl->count)
			nl->h[nl->count++] = h;
		else if (!accepted[i] && j < nl->count)
			nl->h[j] = nl->h[--nl->count];
	}
	if (nl->count > LL_MAX) {
		free(nl);
		return -ENOSPC;
	}
	qsort(nl->h, nl->count, sizeof(uint64_t), cmp_u64);
	free(cp->ll);
	cp->ll = nl;
	return 0;
}

bool cpsim_cp_local_list_has(const struct cpsim_cp *cp, const char *tag)
{
	uint64_t h;

	if (!cp->ll || !cp->ll->count || !(cp->cfg & CFG_LOCAL_LIST))
		return false;
	h = cpsim_tx_key_str(tag);
	return bsearch(&h, cp->ll->h, cp->ll->count, sizeof(uint64_t), cmp_u64) != NULL;
}

void cpsim_cp_set_intervals(struct cpsim_cp *cp, double heartbeat_s, double meter_s)
{
	if (heartbeat_s > 0) {
		cp->hb_ms = (uint32_t)(heartbeat_s * 1000);
		if (cp->state == CPS_BOOTED)
			cp->t_hb = add_ms(now_ms(cp), cp->hb_ms);
	}
	if (meter_s > 0) {
		cp->meter_ms = (uint32_t)(meter_s * 1000);
		for (unsigned i = 0; i < cp->nconn; i++)
			if (cp->c[i].phase == PH_ACTIVE)
				cp->c[i].t_meter = add_ms(now_ms(cp), cp->meter_ms);
	}
}

/* The first multiple of the aligned interval (counted from local midnight) after protocol
 * time p. */
static int64_t aligned_after(const struct cpsim_cp *cp, int64_t p)
{
	int64_t iv = (int64_t)cp->aligned_s * 1000,
		off = (int64_t)cp->f->sc->utc_offset_min * 60000;

	return ((p + off) / iv + 1) * iv - off;
}

void cpsim_cp_set_aligned(struct cpsim_cp *cp, uint32_t interval_s)
{
	cp->aligned_s = interval_s;
	cp->t_aligned = T_NEVER;
	if (interval_s) {
		cp->p_aligned = aligned_after(cp, cpsim_proto_now(cp));
		cp->t_aligned = cpsim_proto_to_real(cp, cp->p_aligned);
	}
}

/* The clock-aligned readings due at p_aligned, then the next one armed. */
static void aligned_readings(struct cpsim_cp *cp)
{
	cpsim_cp_advance(cp);
	for (unsigned i = 0; i < cp->nconn; i++)
		if (cp->c[i].phase == PH_ACTIVE)
			cpsim_cp_enqueue(cp, B(cp)->tx_meter(cp, &cp->c[i], TR_CLOCK));
	cp->p_aligned = aligned_after(
	    cp, cp->p_aligned > cpsim_proto_now(cp) ? cp->p_aligned : cpsim_proto_now(cp));
	cp->t_aligned = cpsim_proto_to_real(cp, cp->p_aligned);
}

/*
** A loaded machine wakes a charger late (at 600x, 100 ms real is a simulated minute). A real
** charger keeps its own clock: the profile changes and clock-aligned readings that fell due
** meanwhile happen at their own times, in order, not all at the late wake (that would move
** energy across the site's slot boundaries). The fleet clock is set back to each deadline
** while it is handled; nothing is sent here (enqueue does not pump), only queued and timed.
*/
static void catch_up(struct cpsim_cp *cp)
{
	struct cpsim_fleet *f = cp->f;
	uint32_t now = f->now_ms;

	for (unsigned guard = 0; guard < 64; guard++) {
		uint32_t t = cp->t_aligned;
		bool limit = false;

		for (unsigned i = 0; i < cp->nconn; i++)
			t = min32(t, cp->c[i].t_limit);
		if (t > now)
			break;
		for (unsigned i = 0; i < cp->nconn; i++)
			limit |= cp->c[i].t_limit <= t;
		f->now_ms = t;
		if (limit)
			refresh_limits(cp);
		if (cp->t_aligned <= t)
			aligned_readings(cp);
		f->now_ms = now;
	}
}

void cpsim_cp_trigger_status(struct cpsim_cp *cp, unsigned connector)
{
	if (connector == 0 && cp->version == OCPP_V16)
		cpsim_cp_enqueue(cp, B(cp)->status(cp, 0));
	for (unsigned i = 0; i < cp->nconn; i++)
		if (!connector || cp->c[i].id == connector) {
			cp->c[i].sent_status = notified_form(cp, cp->c[i].status);
			cpsim_cp_enqueue(cp, B(cp)->status(cp, cp->c[i].id));
		}
}

void cpsim_cp_trigger_meter(struct cpsim_cp *cp, unsigned connector, bool tx_event)
{
	cpsim_cp_advance(cp);
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		if (connector && c->id != connector)
			continue;
		if (tx_event) {
			if (c->phase == PH_ACTIVE)
				cpsim_cp_enqueue(cp, B(cp)->tx_meter(cp, c, TR_TRIGGER));
		} else {
			cpsim_cp_enqueue(cp, B(cp)->meter(cp, c));
		}
	}
}

int cpsim_cp_reserve(struct cpsim_cp *cp, unsigned connector, int32_t id, int64_t expiry,
		     const char *tag)
{
	struct cpsim_connector *c = NULL;

	if (connector) {
		c = cpsim_cp_conn(cp, connector);
		if (!c)
			return -ENOENT;
	} else {
		for (unsigned i = 0; i < cp->nconn && !c; i++)
			if (cp->c[i].phase == PH_IDLE &&
			    !(cp->c[i].flags & (CF_RESERVED | CF_INOPERATIVE)))
				c = &cp->c[i];
		if (!c)
			return -EBUSY;
	}
	if (c->phase != PH_IDLE || (c->flags & CF_INOPERATIVE))
		return -EBUSY;
	if ((c->flags & CF_RESERVED) && c->reservation_id != id)
		return -EBUSY;
	c->flags |= CF_RESERVED;
	c->reservation_id = id;
	c->t_reserve = cpsim_proto_to_real(cp, expiry);
	snprintf(c->tag, sizeof(c->tag), "%s", tag ? tag : "");
	update_status(cp, c);
	return 0;
}

int cpsim_cp_cancel_reservation(struct cpsim_cp *cp, int32_t id)
{
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		if ((c->flags & CF_RESERVED) && c->reservation_id == id) {
			c->flags &= ~CF_RESERVED;
			if (c->phase == PH_IDLE)
				c->tag[0] = '\0';
			update_status(cp, c);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------- boot */

void cpsim_cp_boot_result(struct cpsim_cp *cp, int status, int interval_s)
{
	struct cpsim_fleet *f = cp->f;
	const struct cpsim_scenario *sc = f->sc;

	if (cp->state != CPS_BOOTING && cp->state != CPS_PENDING && cp->state != CPS_BOOTED)
		return;
	if (status != 0) {
		if (status == 1)
			f->stats->boots_pending++;
		else if (status == 2)
			f->stats->boots_rejected++;
		if (cp->state == CPS_BOOTED)
			return; /* a triggered boot while accepted: keep going */
		/* OCPP 1.6 4.2: retry after the interval given (a sane default if none) */
		cp->state = CPS_PENDING;
		cp->t_conn = add_ms(now_ms(cp), (interval_s > 0 ? interval_s : 30) * 1000.0 *
						    cpsim_rng_range(&cp->rng, 1.0, 1.1));
		return;
	}
	f->stats->boots_accepted++;
	if (cp->state == CPS_BOOTED)
		return;
	cp->state = CPS_BOOTED;
	cp->backoff = 0;
	cp->t_conn = T_NEVER;
	f->n_booted++;
	if (!cp->booted_once) {
		cp->booted_once = true;
		if (++f->n_booted_once == f->count && !f->all_booted) {
			f->all_booted = true;
			f->stats->all_booted_s = (double)f->now_us / 1e6;
		}
	}
	cpsim_cp_set_intervals(cp, sc->heartbeat_s > 0 ? sc->heartbeat_s : interval_s, 0);
	if (!cp->hb_ms)
		cp->hb_ms = 300000;
	cp->t_hb = add_ms(now_ms(cp), cp->hb_ms);
	/* OCPP 1.6 4.9: after the boot, every connector's status (and the charger's) */
	if (cp->version == OCPP_V16)
		cpsim_cp_enqueue(cp, B(cp)->status(cp, 0));
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		c->sent_status = notified_form(cp, c->status);
		cpsim_cp_enqueue(cp, B(cp)->status(cp, c->id));
		/* a plug-in that waited for the network: decide now */
		if (c->phase == PH_AUTH && f->sc->auth == CPSIM_AUTH_CHECK)
			cpsim_cp_enqueue(cp, B(cp)->authorize(cp, c));
	}
	/* persistent messages queued offline are behind these: move them to the back so
	 * the statuses go first (ordering among the transaction messages is kept) */
	{
		struct cpsim_qmsg *q = cp->q_head, *prev = NULL, *next, *ph = NULL, *pt = NULL;
		unsigned moved = 0;

		while (q) {
			next = q->next;
			if (q->persist) {
				unlink_q(cp, prev, q);
				if (pt)
					pt->next = q;
				else
					ph = q;
				pt = q;
				moved++;
			} else {
				prev = q;
			}
			q = next;
		}
		if (ph) {
			if (cp->q_tail)
				cp->q_tail->next = ph;
			else
				cp->q_head = ph;
			cp->q_tail = pt;
			cp->q_len += moved;
		}
	}
}

/* ---------------------------------------------------------------- connection */

static const char *subprotocols_for(const struct cpsim_cp *cp)
{
	switch (cp->proto) {
	case CPSIM_PROTO_V201:
		return "ocpp2.0.1";
	case CPSIM_PROTO_AUTO:
		return "ocpp2.0.1,ocpp1.6";
	default:
		return "ocpp1.6";
	}
}

static void source_addr(const struct cpsim_cp *cp, char *buf, size_t len)
{
	const struct cpsim_scenario *sc = cp->f->sc;
	unsigned b[4] = {127, 0, 0, 2};
	uint32_t a;

	sscanf(sc->source_base, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
	a = (b[1] << 16 | b[2] << 8 | b[3]) + cp->index / sc->per_address;
	snprintf(buf, len, "127.%u.%u.%u", (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void connect_now(struct cpsim_cp *cp)
{
	struct cpsim_fleet *f = cp->f;
	const struct cpsim_scenario *sc = f->sc;
	char id[40], path[200], src[20];
	struct cpsim_connect req;
	void *conn = NULL;
	int r;

	if (f->connecting >= sc->max_connecting) {
		cp->t_conn = add_ms(now_ms(cp), 10 + cpsim_rng_range(&cp->rng, 0, 40));
		return;
	}
	cpsim_cp_id(cp, id, sizeof(id));
	snprintf(path, sizeof(path), "%s/%s", sc->path, id);
	source_addr(cp, src, sizeof(src));
	req = (struct cpsim_connect){
	    .host = sc->host,
	    .port = sc->port,
	    .path = path,
	    .subprotocols = subprotocols_for(cp),
	    .password = cpsim_scenario_password(sc, id),
	    .source_addr = sc->source_base[0] ? src : NULL,
	};
	if (req.password)
		req.user = id;
	f->stats->conn_attempts++;
	if (!cp->booted_once && cp->state == CPS_IDLE)
		f->n_started++;
	r = f->tp->connect(f->tp_ctx, cp, &req, &conn);
	if (r < 0) {
		f->stats->conn_failed++;
		cp->state = CPS_DISCONNECTED;
		cp->t_conn = add_ms(now_ms(cp), sc->reconnect_min_s * 1000.0 *
						    cpsim_rng_range(&cp->rng, 1.0, 2.0));
		return;
	}
	cp->conn = conn;
	cp->state = CPS_CONNECTING;
	cp->t_conn = T_NEVER;
	cp->connecting_counted = true;
	f->connecting++;
}

void cpsim_cp_opened(struct cpsim_cp *cp, const char *subprotocol)
{
	struct cpsim_fleet *f = cp->f;
	int v = ocpp_version_from_name(subprotocol);
	bool ok;

	if (cp->connecting_counted) {
		cp->connecting_counted = false;
		f->connecting--;
	}
	f->stats->conn_made++;
	f->n_open++;
	switch (cp->proto) {
	case CPSIM_PROTO_AUTO:
		ok = v >= 0;
		break;
	case CPSIM_PROTO_V201:
		ok = v == OCPP_V201;
		break;
	default:
		ok = v == OCPP_V16;
		break;
	}
	cp->state = CPS_BOOTING;
	if (!ok) {
		/* OCPP-J 3.1: without an agreed subprotocol there is nothing to say */
		f->stats->subprotocol_mismatch++;
		f->tp->close(f->tp_ctx, cp->conn, 1002);
		reschedule(cp);
		return;
	}
	if (cp->version != (uint8_t)v) {
		/* AUTO switched versions: statuses were in the other version's terms */
		cp->version = (uint8_t)v;
		for (unsigned i = 0; i < cp->nconn; i++)
			cp->c[i].sent_status = 0xff;
	}
	queue_boot(cp, cp->resetting ? BR_REMOTE_RESET : BR_POWER_UP);
	cp->resetting = false;
	pump(cp);
	reschedule(cp);
}

void cpsim_cp_closed(struct cpsim_cp *cp, enum cpsim_end end)
{
	struct cpsim_fleet *f = cp->f;
	const struct cpsim_scenario *sc = f->sc;
	bool was_open = cp->state >= CPS_BOOTING && cp->state <= CPS_BOOTED;
	bool rebooting = cp->resetting;
	double d;

	cpsim_cp_advance(cp);
	if (cp->connecting_counted) {
		cp->connecting_counted = false;
		f->connecting--;
	}
	switch (end) {
	case CPSIM_END_REFUSED:
		f->stats->conn_refused++;
		f->stats->conn_failed++;
		break;
	case CPSIM_END_PEER:
		f->stats->conn_peer_closed++;
		break;
	case CPSIM_END_ERROR:
		if (was_open)
			f->stats->conn_lost++;
		else
			f->stats->conn_failed++;
		break;
	default:
		break;
	}
	if (cp->state == CPS_BOOTED)
		f->n_booted--;
	if (was_open)
		f->n_open--;
	cp->conn = NULL;
	if (cp->inflight) {
		struct cpsim_qmsg *q = cp->inflight;

		cp->inflight = NULL;
		if (q->persist)
			push_head(cp, q); /* same id: the CSMS may have seen it and will answer the
					     same */
		else
			qmsg_free(q);
	}
	drop_volatile(cp);
	free(cp->delayed);
	cp->delayed = NULL;
	/* a plug-in whose Authorize was lost: decide offline */
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		c->sent_status = 0xff;
		if (c->phase == PH_AUTH && f->sc->auth == CPSIM_AUTH_CHECK && !f->closing) {
			cp->state = CPS_DISCONNECTED; /* so the start counts as offline */
			cpsim_cp_auth_result(cp, c, offline_auth(cp, c));
		}
	}
	if (f->closing) {
		cp->state = CPS_DONE;
		cp->t_conn = T_NEVER;
	} else if (rebooting) {
		cp->state = CPS_DISCONNECTED;
		cp->t_conn = add_ms(now_ms(cp), REBOOT_MS);
	} else if (cp->offline) {
		cp->state = CPS_DISCONNECTED; /* t_conn is the end of the offline period */
	} else if (f->draining && !cp->q_head) {
		cp->state = CPS_DONE;
		cp->t_conn = T_NEVER;
	} else {
		cp->state = CPS_DISCONNECTED;
		d = sc->reconnect_min_s * 1000.0 *
		    (double)(1u << (cp->backoff < 10 ? cp->backoff : 10));
		if (d > sc->reconnect_max_s * 1000.0)
			d = sc->reconnect_max_s * 1000.0;
		if (end == CPSIM_END_LOCAL && cp->t_conn != T_NEVER && cp->t_conn > now_ms(cp))
			d = 0; /* a storm or drop chose the time already */
		else
			cp->t_conn = add_ms(now_ms(cp), d * cpsim_rng_range(&cp->rng, 0.5, 1.5));
		if (cp->backoff < 16)
			cp->backoff++;
	}
	reschedule(cp);
}

/* Close the connection on purpose (drop, offline period, storm, reset). */
static void close_conn(struct cpsim_cp *cp, int code)
{
	if (cp->conn && cp->state >= CPS_CONNECTING && cp->state <= CPS_BOOTED)
		cp->f->tp->close(cp->f->tp_ctx, cp->conn, code);
}

/* ---------------------------------------------------------------- incoming frames */

static void send_reply(struct cpsim_cp *cp, const char *frame, size_t len)
{
	struct cpsim_fleet *f = cp->f;
	const struct cpsim_faults *fl = cpsim_scenario_faults(f->sc, cp->group);

	if (fl->delay_share > 0 && !cp->delayed && cpsim_rng_unit(&cp->rng) < fl->delay_share) {
		cp->delayed = strndup(frame, len);
		if (cp->delayed) {
			cp->t_delayed = add_ms(now_ms(cp), fl->delay_ms);
			f->stats->f_delayed++;
			return;
		}
	}
	tp_send(cp, frame, len);
}

static void handle_call(struct cpsim_cp *cp, const struct ocpp_frame *fr)
{
	struct cpsim_fleet *f = cp->f;
	const struct ocpp_msg_def *def = ocpp_catalog_find(f->cat[cp->version], fr->action);
	enum ocpp_err e = OCPP_ERR_NONE;
	char desc[160] = "";
	struct cpsim_jw *w = &f->rw;

	cpsim_jw_reset(w);
	if (!def) {
		e = OCPP_ERR_NOT_IMPLEMENTED;
		snprintf(desc, sizeof(desc), "unknown action");
	} else if (!(def->dir & OCPP_CS_TO_CP)) {
		e = OCPP_ERR_NOT_SUPPORTED;
		snprintf(desc, sizeof(desc), "not an action a charger answers");
	} else {
		e = ocpp_catalog_validate(f->cat[cp->version], fr->action, false, fr->payload, desc,
					  sizeof(desc));
		if (e == OCPP_ERR_NONE)
			e = B(cp)->on_call(cp, fr->action, fr->payload, w, desc, sizeof(desc));
	}
	cpsim_stats_csms_call(f->stats, fr->action, e);
	if (e == OCPP_ERR_NONE && cpsim_jw_text(w)) {
		struct cpsim_jw *out = &f->fw;

		if (f->sc->validate)
			validate_payload(cp, fr->action, true, w->buf, w->len);
		cpsim_jw_reset(out);
		cpsim_jw_arr(out);
		cpsim_jw_int(out, 3);
		cpsim_jw_str(out, fr->id);
		cpsim_jw_raw(out, w->buf);
		cpsim_jw_end(out);
		if (cpsim_jw_text(out)) {
			send_reply(cp, out->buf, out->len);
			return;
		}
		e = OCPP_ERR_INTERNAL;
		snprintf(desc, sizeof(desc), "out of memory");
	} else if (e == OCPP_ERR_NONE) {
		e = OCPP_ERR_INTERNAL;
		snprintf(desc, sizeof(desc), "out of memory");
	}
	{
		size_t len;
		char *frame =
		    ocpp_frame_error((enum ocpp_version)cp->version, fr->id, e, desc, &len);

		cpsim_stats_err_sent(f->stats, e);
		if (frame)
			send_reply(cp, frame, len);
		free(frame);
	}
}

static void handle_answer(struct cpsim_cp *cp, const struct ocpp_frame *fr)
{
	struct cpsim_fleet *f = cp->f;
	struct cpsim_qmsg *q = cp->inflight;
	char id[16];
	uint64_t lat;

	if (q)
		snprintf(id, sizeof(id), "%u", q->id);
	if (!q || strcmp(id, fr->id) != 0) {
		/* e.g. the answer to a duplicate, or the CALLERROR "-1" for a malformed frame */
		f->stats->unmatched_answers++;
		if (fr->type == OCPP_CALLERROR)
			cpsim_stats_err_received(f->stats, fr->err_code);
		return;
	}
	cp->inflight = NULL;
	cp->t_call = T_NEVER;
	lat = f->now_us > cp->sent_us ? f->now_us - cp->sent_us : 0;
	cpsim_hist_record(&f->stats->calls[q->action].latency, lat);
	if (f->all_booted)
		cpsim_hist_record(&f->stats->steady_latency, lat);
	cpsim_stats_answer_at(f->stats, (double)f->now_us / 1e6);
	if (fr->type == OCPP_CALLERROR) {
		f->stats->calls[q->action].errors++;
		cpsim_stats_err_received(f->stats, fr->err_code);
		B(cp)->on_error(cp, q, fr->err_code);
	} else {
		f->stats->calls[q->action].results++;
		if (f->sc->validate) {
			char desc[160];
			enum ocpp_err e =
			    ocpp_catalog_validate(f->cat[cp->version], cpsim_action_name(q->action),
						  true, fr->payload, desc, sizeof(desc));

			if (e != OCPP_ERR_NONE) {
				f->stats->invalid_received++;
				if (f->invalid_logged++ < 10)
					fprintf(stderr, "cpsim: invalid %s answer received: %s\n",
						cpsim_action_name(q->action), desc);
			}
		}
		B(cp)->on_result(cp, q, fr->payload);
	}
	qmsg_free(q);
}

/* --trace-calls: one line per CALL received, appended (worker processes share the file). */
static void trace_call(struct cpsim_cp *cp, const char *buf, size_t len)
{
	char id[40];
	FILE *t = fopen(cp->f->sc->trace_calls, "a");

	if (!t)
		return;
	cpsim_charger_id(cp->f->sc, cp->index, id, sizeof(id));
	fprintf(t, "%s %.*s\n", id, (int)len, buf);
	fclose(t);
}

void cpsim_cp_text(struct cpsim_cp *cp, const char *buf, size_t len)
{
	struct cpsim_fleet *f = cp->f;
	struct ocpp_parse_error pe;
	struct ocpp_frame fr;

	f->stats->frames_received++;
	f->stats->bytes_received += len;
	if (ocpp_frame_parse(buf, len, &fr, &pe) < 0) {
		f->stats->unparsable++;
		if (pe.is_call) {
			size_t n;
			char *frame = ocpp_frame_error((enum ocpp_version)cp->version, pe.id,
						       pe.code, pe.desc, &n);

			cpsim_stats_err_sent(f->stats, pe.code);
			if (frame && cp->conn)
				tp_send(cp, frame, n);
			free(frame);
		}
		return;
	}
	if (fr.type == OCPP_CALL && f->sc->trace_calls)
		trace_call(cp, buf, len);
	if (fr.type == OCPP_CALL)
		handle_call(cp, &fr);
	else
		handle_answer(cp, &fr);
	ocpp_frame_release(&fr);
	if (cp->conn)
		pump(cp);
	reschedule(cp);
}

/* ---------------------------------------------------------------- timers */

static void call_timed_out(struct cpsim_cp *cp)
{
	struct cpsim_fleet *f = cp->f;
	struct cpsim_qmsg *q = cp->inflight;

	cp->inflight = NULL;
	cp->t_call = T_NEVER;
	f->stats->calls[q->action].timeouts++;
	if (q->persist && q->attempts < CP_ATTEMPTS) {
		push_head(cp, q); /* OCPP 1.6 4.10 / 2.0.1 E13: transaction messages are retried */
		return;
	}
	if (q->persist)
		f->stats->tx_given_up++;
	if (q->action == CPSIM_A_BOOT) {
		cp->state = CPS_PENDING;
		cp->t_conn = add_ms(now_ms(cp), 10000);
	} else if (q->action == CPSIM_A_AUTHORIZE) {
		cpsim_cp_auth_result(cp, cpsim_cp_conn(cp, q->connector),
				     offline_auth(cp, cpsim_cp_conn(cp, q->connector)));
	}
	qmsg_free(q);
}

static void fault(struct cpsim_cp *cp)
{
	struct cpsim_fleet *f = cp->f;
	const struct cpsim_faults *fl = cpsim_scenario_faults(f->sc, cp->group);
	double rate = fl->drop_per_h + fl->offline_per_h;

	cp->t_fault = T_NEVER;
	if (!(rate > 0) || f->draining)
		return;
	cp->t_fault = add_ms(now_ms(cp), sim_dur(f, cpsim_rng_exp(&cp->rng, 3600e3 / rate)));
	if (!cp->conn || cp->state != CPS_BOOTED)
		return;
	if (cpsim_rng_unit(&cp->rng) * rate < fl->offline_per_h) {
		double d = cpsim_rng_range(&cp->rng, fl->offline_min_s, fl->offline_max_s) * 1000.0;

		f->stats->f_offline++;
		cpsim_cp_go_offline(cp, (uint32_t)sim_dur(f, d));
	} else {
		f->stats->f_drops++;
		cp->t_conn = add_ms(now_ms(cp), f->sc->reconnect_min_s * 1000.0 *
						    cpsim_rng_range(&cp->rng, 0.5, 1.5));
		close_conn(cp, 1001);
	}
}

void cpsim_cp_go_offline(struct cpsim_cp *cp, uint32_t ms)
{
	cp->offline = true;
	cp->t_conn = add_ms(now_ms(cp), ms);
	if (cp->conn)
		close_conn(cp, 1001);
	else if (cp->state == CPS_DISCONNECTED || cp->state == CPS_IDLE)
		cp->state = CPS_DISCONNECTED;
	reschedule(cp);
}

static void swap_vehicle(struct cpsim_cp *cp)
{
	struct cpsim_fleet *f = cp->f;
	struct cpsim_connector *best = NULL;
	bool port = cpsim_swap_port(cp);
	int32_t rid;
	char tag[32];

	cp->t_swap = T_NEVER;
	if (f->draining)
		return;
	cp->t_swap = sim_to_real(f, cpsim_swap_next_arrival(port, &cp->rng, sim_now(f), false));
	cpsim_cp_advance(cp);
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		if (c->phase == PH_ACTIVE && !c->swap_request &&
		    (!best || c->ev.soc > best->ev.soc))
			best = c;
	}
	/* the vehicle (its pack at 8-30 %) takes the fullest pack if that is worth a swap; one
	 * the CSMS asked for (RequestBatterySwap) waits for one, trying again every 15 minutes
	 * (with the rack charged in the valley none may be worth it right after a wave) */
	if (!best || best->ev.soc < 0.35) {
		if (cp->swap_request) {
			cp->t_swap = sim_to_real(f, sim_now(f) + 15 * 60 * 1000);
			return;
		}
		f->stats->swaps_missed++;
		return;
	}
	f->stats->swaps++;
	rid = cp->swap_request ? cp->swap_request : (int32_t)(++cp->swap_seq);
	cp->swap_request = 0;
	snprintf(tag, sizeof(tag), "%s-%d", port ? "TRUCK" : "VAN", rid);
	if (cp->state == CPS_BOOTED || cp->q_len < CP_QUEUE_MAX / 2)
		cpsim_cp_enqueue(cp, cpsim_swap_event(cp, best, "BatteryOut", rid, tag));
	stop_session(cp, best, RS_LOCAL);
	best->swap_request = rid; /* the vehicle's pack goes into the freed slot */
}

/* A periodic sample of c is still queued or in flight. */
static bool meter_waiting(const struct cpsim_cp *cp, const struct cpsim_connector *c)
{
	if (cp->inflight && cp->inflight->droppable && cp->inflight->connector == c->id)
		return true;
	for (const struct cpsim_qmsg *q = cp->q_head; q; q = q->next)
		if (q->droppable && q->connector == c->id)
			return true;
	return false;
}

void cpsim_cp_wake(struct cpsim_cp *cp);
void cpsim_cp_wake(struct cpsim_cp *cp)
{
	struct cpsim_fleet *f = cp->f;
	uint32_t now = now_ms(cp);

	catch_up(cp);
	cpsim_cp_advance(cp);
	if (cp->delayed && cp->t_delayed <= now) {
		char *d = cp->delayed;

		cp->delayed = NULL;
		if (cp->conn)
			tp_send(cp, d, strlen(d));
		free(d);
	}
	if (cp->inflight && cp->t_call <= now)
		call_timed_out(cp);
	if (cp->t_conn <= now) {
		switch (cp->state) {
		case CPS_IDLE:
		case CPS_DISCONNECTED:
			cp->offline = false;
			if (f->closing || (f->draining && !cp->q_head)) {
				cp->state = CPS_DONE;
				cp->t_conn = T_NEVER;
			} else {
				connect_now(cp);
			}
			break;
		case CPS_PENDING:
			cp->t_conn = T_NEVER;
			queue_boot(cp, BR_POWER_UP);
			break;
		case CPS_BOOTED:
		case CPS_BOOTING:
			if (cp->resetting) {
				if ((!cp->inflight && !cp->q_head) || now >= cp->t_reset) {
					cp->t_conn = T_NEVER;
					close_conn(cp, 1000);
				} else {
					cp->t_conn = add_ms(now, 100);
				}
			} else {
				cp->t_conn = T_NEVER;
			}
			break;
		default:
			cp->t_conn = T_NEVER;
			break;
		}
	}
	if (cp->state == CPS_BOOTED && cp->t_hb <= now) {
		cp->t_hb = add_ms(now, cp->hb_ms);
		cpsim_cp_enqueue(cp, B(cp)->heartbeat(cp));
	}
	if (cp->t_fault <= now)
		fault(cp);
	if (cp->t_swap <= now)
		swap_vehicle(cp);
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		if (c->t_limit <= now)
			refresh_limits(cp);
		if ((c->flags & CF_RESERVED) && c->t_reserve <= now) {
			c->flags &= ~CF_RESERVED;
			if (c->phase == PH_IDLE)
				c->tag[0] = '\0';
			update_status(cp, c);
		}
		switch (c->phase) {
		case PH_IDLE:
			if (c->t_event > now)
				break;
			if (!cp->booted_once || (f->sc->steady && cp->state != CPS_BOOTED)) {
				c->t_event = add_ms(now, 1000); /* not before the first boot */
				break;
			}
			if (f->draining || (c->flags & CF_INOPERATIVE)) {
				c->t_event = T_NEVER;
				break;
			}
			plug_in(cp, c, NULL);
			break;
		case PH_ACTIVE:
			if (c->t_meter <= now) {
				c->t_meter = add_ms(now, cp->meter_ms);
				if (cp->state == CPS_BOOTED && meter_waiting(cp, c)) {
					/* online and the last sample is not even sent: the CSMS is
					 * behind, do not build a backlog (offline ones queue up) */
					f->stats->meter_skipped++;
				} else {
					struct cpsim_qmsg *q = B(cp)->tx_meter(cp, c, TR_PERIODIC);

					if (q)
						q->droppable = true;
					cpsim_cp_enqueue(cp, q);
				}
			}
			if (c->t_event <= now)
				stop_session(cp, c,
					     cp->kind == CPSIM_KIND_SWAP ? RS_LOCAL
									 : RS_EV_DISCONNECTED);
			else
				update_status(cp,
					      c); /* e.g. the EV reached its target: SuspendedEV */
			break;
		case PH_FINISHING:
			if (c->t_event <= now)
				unplug(cp, c);
			break;
		default:
			break;
		}
	}
	if (cp->resetting && cp->conn && !cp->inflight && !cp->q_head && cp->state == CPS_BOOTED)
		close_conn(cp, 1000);
	pump(cp);
	reschedule(cp);
}

/* ---------------------------------------------------------------- views and hooks */

void cpsim_cp_view(const struct cpsim_cp *cp, struct cpsim_cp_view *ret)
{
	static __thread char id[40];

	cpsim_cp_id(cp, id, sizeof(id));
	*ret = (struct cpsim_cp_view){
	    .id = id,
	    .version = cp->state >= CPS_BOOTING && cp->state <= CPS_BOOTED ? cp->version : -1,
	    .open = cp->state >= CPS_BOOTING && cp->state <= CPS_BOOTED,
	    .booted = cp->state == CPS_BOOTED,
	    .connectors = cp->nconn,
	    .queued = cp->q_len,
	    .in_flight = cp->inflight != NULL,
	};
}

int cpsim_cp_conn_view(const struct cpsim_cp *cp, unsigned connector, struct cpsim_conn_view *ret)
{
	const struct cpsim_connector *c;

	if (connector < 1 || connector > cp->nconn)
		return -EINVAL;
	c = &cp->c[connector - 1];
	*ret = (struct cpsim_conn_view){
	    .phase = c->phase,
	    .status = cpsim_status_name((enum cp_status)c->status),
	    .import_wh = c->import_wh,
	    .export_wh = c->export_wh,
	    .power_w = c->power_w,
	    .limit_w = c->limit_w,
	    .soc = c->ev.soc,
	    .txid = c->txid,
	    .inoperative = (c->flags & CF_INOPERATIVE) != 0,
	};
	return 0;
}

int cpsim_cp_plug_in(struct cpsim_cp *cp, unsigned connector)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, connector);

	if (!c)
		return -EINVAL;
	if (c->phase != PH_IDLE)
		return -EBUSY;
	plug_in(cp, c, NULL);
	pump(cp);
	reschedule(cp);
	return 0;
}

int cpsim_cp_set_ev(struct cpsim_cp *cp, unsigned connector, const struct cpsim_ev *ev)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, connector);

	if (!c)
		return -EINVAL;
	if (c->phase == PH_IDLE)
		return -EBUSY;
	cpsim_cp_advance(cp);
	c->ev = *ev;
	refresh_limits(cp);
	pump(cp);
	reschedule(cp);
	return 0;
}

int cpsim_cp_depart(struct cpsim_cp *cp, unsigned connector)
{
	struct cpsim_connector *c = cpsim_cp_conn(cp, connector);

	if (!c)
		return -EINVAL;
	if (c->phase != PH_ACTIVE)
		return -EBUSY;
	stop_session(cp, c, RS_EV_DISCONNECTED);
	pump(cp);
	reschedule(cp);
	return 0;
}

/* ---------------------------------------------------------------- fleet-side entry points */

void cpsim_cp_init(struct cpsim_cp *cp, struct cpsim_fleet *f, uint32_t index, uint32_t connect_at);
void cpsim_cp_init(struct cpsim_cp *cp, struct cpsim_fleet *f, uint32_t index, uint32_t connect_at)
{
	const struct cpsim_scenario *sc = f->sc;
	unsigned g;
	const struct cpsim_group *gr = cpsim_scenario_group(sc, index, &g);
	const struct cpsim_faults *fl = cpsim_scenario_faults(sc, g);
	enum cpsim_proto proto = cpsim_scenario_proto(sc, index);
	double rate = fl->drop_per_h + fl->offline_per_h;

	cp->f = f;
	cp->index = index;
	cp->group = (uint8_t)g;
	cp->kind = (uint8_t)gr->kind;
	cp->proto = (uint8_t)proto;
	cp->version = proto == CPSIM_PROTO_V201 ? OCPP_V201 : OCPP_V16;
	cp->rng = cpsim_rng_seed(sc->seed, index);
	cp->state = CPS_IDLE;
	cp->cfg = CFG_DEFAULT;
	/* rural chargers (issue 11) authorise offline from the list the CSMS pushed only */
	if (cp->kind == CPSIM_KIND_RURAL)
		cp->cfg = (uint8_t)(cp->cfg & ~CFG_OFFLINE_UNKNOWN);
	cp->meter_ms = (uint32_t)(sc->meter_s * 1000);
	if (!cp->meter_ms)
		cp->meter_ms = 60000;
	cpsim_cp_set_aligned(cp, sc->aligned_s);
	cp->t_conn = connect_at;
	cp->t_hb = cp->t_call = cp->t_delayed = T_NEVER;
	cp->t_fault = rate > 0
			  ? add_ms(connect_at, sim_dur(f, cpsim_rng_exp(&cp->rng, 3600e3 / rate)))
			  : T_NEVER;
	cp->t_swap = T_NEVER;
	if (cp->kind == CPSIM_KIND_SWAP && !sc->steady)
		cp->t_swap = sim_to_real(
		    f, cpsim_swap_next_arrival(cpsim_swap_port(cp), &cp->rng, sim_now(f), true));
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		c->id = (uint8_t)(i + 1);
		c->status = ST_AVAILABLE;
		c->sent_status = 0xff;
		c->charging_state = 0xff;
		c->remote_start_id = -1;
		c->t_meter = c->t_limit = c->t_reserve = T_NEVER;
		c->limit_w = cpsim_cp_hw_w(cp);
		/* meters of an installed charger do not start at zero */
		c->import_wh = floor(cpsim_rng_range(&cp->rng, 0, 5e6));
		schedule_arrival(cp, c, true);
	}
	reschedule(cp);
}

void cpsim_cp_release(struct cpsim_cp *cp);
void cpsim_cp_release(struct cpsim_cp *cp)
{
	struct cpsim_qmsg *q;

	while ((q = cp->q_head)) {
		cp->q_head = q->next;
		qmsg_free(q);
	}
	qmsg_free(cp->inflight);
	free(cp->delayed);
	cpsim_profiles_free(cp->profiles);
	free(cp->ll);
	cp->q_head = cp->q_tail = cp->inflight = NULL;
	cp->delayed = NULL;
	cp->profiles = NULL;
	cp->ll = NULL;
}

/* Drain: no arrivals, no faults, stop sessions, deliver what is queued. */
void cpsim_cp_drain(struct cpsim_cp *cp);
void cpsim_cp_drain(struct cpsim_cp *cp)
{
	cp->t_fault = T_NEVER;
	cp->t_swap = T_NEVER;
	cpsim_cp_advance(cp);
	for (unsigned i = 0; i < cp->nconn; i++) {
		struct cpsim_connector *c = &cp->c[i];

		if (c->phase == PH_ACTIVE)
			stop_session(cp, c, RS_LOCAL);
		else if (c->phase == PH_IDLE)
			c->t_event = T_NEVER;
	}
	if ((cp->state == CPS_DISCONNECTED || cp->state == CPS_IDLE) && cp->q_head &&
	    cp->booted_once) {
		cp->offline = false;
		cp->t_conn = now_ms(cp); /* deliver the offline queue */
	} else if (cp->state == CPS_IDLE) {
		cp->state = CPS_DONE;
		cp->t_conn = T_NEVER;
	}
	pump(cp);
	reschedule(cp);
}

/* Nothing left: no queue, nothing in flight, no session (finishing connectors do not count). */
bool cpsim_cp_drained(const struct cpsim_cp *cp);
bool cpsim_cp_drained(const struct cpsim_cp *cp)
{
	if (cp->q_head || cp->inflight)
		return cp->state == CPS_DONE;
	for (unsigned i = 0; i < cp->nconn; i++)
		if (cp->c[i].phase == PH_ACTIVE || cp->c[i].phase == PH_AUTH)
			return false;
	return true;
}

void cpsim_cp_close(struct cpsim_cp *cp);
void cpsim_cp_close(struct cpsim_cp *cp)
{
	cp->t_conn = T_NEVER;
	if (cp->conn)
		close_conn(cp, 1000);
	else
		cp->state = CPS_DONE;
	for (unsigned i = 0; i < cp->nconn; i++)
		cp->c[i].t_event = cp->c[i].t_meter = cp->c[i].t_limit = T_NEVER;
	cp->t_hb = cp->t_fault = cp->t_swap = cp->t_aligned = T_NEVER;
	reschedule(cp);
}
