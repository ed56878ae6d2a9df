/* SPDX-License-Identifier: MIT */
/* Site policies and the availability/connectivity figures of a station's history. */
#include "sites.h"

#include <errno.h>
#include <string.h>

#include "../core/cfg.h"
#include "../core/log.h"
#include "svc.h"
#include "swap.h"

void svc_site_policy_resolve(int kind, const struct store_site_rec *rec, int default_heartbeat_s,
			     struct svc_site_policy *ret)
{
	struct svc_site_policy p = {
	    .heartbeat_s = default_heartbeat_s,
	    .local_list_max = SVC_LOCAL_LIST_MAX,
	    .unbound_tokens = kind != SITE_RESIDENTIAL,
	    .reservations = kind == SITE_PUBLIC || kind < 0,
	};

	struct swap_policy sw;

	swap_policy_default(&sw);
	p.swap_soh_flag_below = sw.soh_flag_below;
	p.swap_promised_soc = sw.promised_soc;
	if (kind == SITE_RURAL) {
		p.heartbeat_s = SVC_RURAL_HEARTBEAT_S;
		p.local_list = true;
	}
	if (rec) {
		if (rec->heartbeat_s > 0)
			p.heartbeat_s = rec->heartbeat_s;
		if (rec->local_list >= 0)
			p.local_list = rec->local_list != 0;
		if (rec->local_list_max > 0)
			p.local_list_max = rec->local_list_max;
		if (rec->reservations >= 0)
			p.reservations = rec->reservations != 0;
		if (rec->reservation_max_s > 0)
			p.reservation_max_s = rec->reservation_max_s;
		if (rec->swap_soh_flag_below > 0)
			p.swap_soh_flag_below = rec->swap_soh_flag_below;
		if (rec->swap_promised_soc > 0)
			p.swap_promised_soc = rec->swap_promised_soc;
	}
	*ret = p;
}

struct policy_ud {
	struct svc_site_policy *p;
	int heartbeat_s;
};

static int policy_row(const struct store_site_row *row, void *ud)
{
	struct policy_ud *u = ud;

	svc_site_policy_resolve(row->rec.kind, &row->rec, u->heartbeat_s, u->p);
	return 0;
}

int svc_site_policy(struct svc *s, const char *site_id, int kind, struct svc_site_policy *ret)
{
	int hb = svc_cfg(s)->heartbeat_interval_s;
	struct svc_site_policy p;
	struct policy_ud u = {&p, hb};
	int r;

	svc_site_policy_resolve(site_id && *site_id ? kind : -1, NULL, hb, &p);
	if (site_id && *site_id) {
		r = store_sites_list(svc_store(s), site_id, policy_row, &u);
		if (r < 0 && r != -ENOENT)
			return -EIO;
	}
	*ret = p;
	return 0;
}

void svc__site_link(struct svc *s, const char *station_id, bool online)
{
	struct store_log_row row = {
	    .kind = "link", .state = online ? "online" : "offline", .ts_ms = svc_now_ms(s)};

	if (store_station_log_add(svc_store(s), station_id, &row) < 0)
		log_err("station %s: cannot record its link state", station_id);
}

void svc__site_status(struct svc *s, const char *station_id, int evse_id, int connector_id,
		      const char *status, int64_t ts_ms)
{
	struct store_log_row row = {.kind = "status",
				    .state = status ? status : "",
				    .evse_id = evse_id,
				    .connector_id = connector_id,
				    .ts_ms = ts_ms ? ts_ms : svc_now_ms(s)};

	if (store_station_log_add(svc_store(s), station_id, &row) < 0)
		log_err("station %s: cannot record a status change", station_id);
}

double svc_avail_uptime_pct(const struct svc_avail *a)
{
	return a->observed_ms > 0 ? 100.0 * (double)a->up_ms / (double)a->observed_ms : 0.0;
}

void svc_avail_begin(struct svc_avail_calc *c, int64_t from_ms, int64_t to_ms)
{
	svc_offline_fn fn = c->on_offline;
	void *ud = c->ud;

	memset(c, 0, sizeof(*c));
	c->on_offline = fn;
	c->ud = ud;
	c->out.from_ms = from_ms;
	c->out.to_ms = to_ms;
	c->t = from_ms;
}

static bool any_faulted(const struct svc_avail_calc *c)
{
	for (int i = 0; i < c->n_conn; i++)
		if (c->conn[i].faulted)
			return true;
	return false;
}

/* Account [c->t, ts) in the current state. */
static void advance(struct svc_avail_calc *c, int64_t ts)
{
	int64_t dt;

	if (ts < c->out.from_ms)
		ts = c->out.from_ms;
	if (ts > c->out.to_ms)
		ts = c->out.to_ms;
	dt = ts - c->t;
	if (dt <= 0)
		return;
	if (c->known) {
		if (!c->online) {
			c->out.offline_ms += dt;
		} else {
			c->out.online_ms += dt;
			if (any_faulted(c))
				c->out.faulted_ms += dt;
			else
				c->out.up_ms += dt;
		}
		c->out.observed_ms += dt;
	}
	c->t = ts;
}

static void offline_ends(struct svc_avail_calc *c, int64_t end, bool ongoing)
{
	int64_t len = end - c->offline_start;

	c->out.offline_periods++;
	if (len > c->out.longest_offline_ms)
		c->out.longest_offline_ms = len;
	if (c->on_offline)
		c->on_offline(c->ud, c->offline_start, end, ongoing);
}

static int64_t clamp(const struct svc_avail_calc *c, int64_t ts)
{
	return ts < c->out.from_ms ? c->out.from_ms : ts > c->out.to_ms ? c->out.to_ms : ts;
}

int svc_avail_row(const struct store_log_row *row, void *calc)
{
	struct svc_avail_calc *c = calc;

	advance(c, row->ts_ms);
	if (!strcmp(row->kind, "link")) {
		bool on = !strcmp(row->state, "online");

		if (c->known && c->online && !on)
			c->offline_start = clamp(c, row->ts_ms);
		else if (!c->known && !on)
			c->offline_start = clamp(c, row->ts_ms);
		else if (c->known && !c->online && on)
			offline_ends(c, clamp(c, row->ts_ms), false);
		c->known = true;
		c->online = on;
		return 0;
	}
	for (int i = 0; i < c->n_conn; i++) {
		if (c->conn[i].evse_id == row->evse_id &&
		    c->conn[i].connector_id == row->connector_id) {
			c->conn[i].faulted = !strcmp(row->state, "Faulted");
			return 0;
		}
	}
	if (c->n_conn < SVC_AVAIL_CONNECTORS) {
		c->conn[c->n_conn].evse_id = row->evse_id;
		c->conn[c->n_conn].connector_id = row->connector_id;
		c->conn[c->n_conn].faulted = !strcmp(row->state, "Faulted");
		c->n_conn++;
	}
	return 0;
}

void svc_avail_end(struct svc_avail_calc *c, bool online_now, int64_t last_seen_ms)
{
	if (c->known && c->online && !online_now) {
		/* the history ends online but the station is gone: the node stopped while it was
		 * connected; it was offline from its last message on */
		int64_t at = last_seen_ms > c->t ? last_seen_ms : c->t;

		advance(c, at);
		c->online = false;
		c->offline_start = clamp(c, at);
	}
	advance(c, c->out.to_ms);
	if (c->known && !c->online)
		offline_ends(c, c->out.to_ms, true);
}

int svc_station_availability(struct svc *s, const char *station_id, bool online_now,
			     int64_t last_seen_ms, int64_t from_ms, int64_t to_ms,
			     struct svc_avail *ret, svc_offline_fn fn, void *ud)
{
	struct svc_avail_calc c = {.on_offline = fn, .ud = ud};
	int64_t now = svc_now_ms(s);
	int r;

	if (to_ms > now)
		to_ms = now;
	if (to_ms <= from_ms)
		return -EINVAL;
	svc_avail_begin(&c, from_ms, to_ms);
	r = store_station_log_list(svc_store(s), station_id, from_ms, to_ms, svc_avail_row, &c);
	if (r < 0)
		return -EIO;
	svc_avail_end(&c, online_now, last_seen_ms);
	r = store_sessions_late(svc_store(s), station_id, from_ms, to_ms, SVC_LATE_MS,
				&c.out.late_sessions);
	if (r < 0)
		return -EIO;
	*ret = c.out;
	return 0;
}
