/* SPDX-License-Identifier: MIT */
/* The domain: admission and registration policy, boot pacing, authorization, sessions. */
#include "svc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../core/cfg.h"
#include "../core/clock.h"
#include "../core/hmap.h"
#include "../core/log.h"
#include "../core/pwhash.h"
#include "cert.h"
#include "cmd.h"
#include "../plan_rt.h"
#include "events.h"

/* A password verified once is remembered as a keyed digest, so a reconnect storm does not pay
 * the key-derivation cost again for every charger. */
struct verified {
	char id[STATION_ID_MAX + 1];
	unsigned char digest[32];
};

struct svc {
	struct store *store;
	const struct clock *clock;
	const struct cfg *cfg;
	struct hmap stations; /* id -> struct chg_station, connected stations */
	struct hmap verified; /* id -> struct verified */
	unsigned char key[32];
	/* boot pacing: a token bucket refilled at boot_rate_per_s */
	double boot_tokens;
	int64_t boot_refill_ms;
	struct svc_cmds *cmds; /* operator commands (cmd.c) */
	struct svc_plans *plans; /* the planner at run time (plan.c) */
	struct svc_events *events; /* live event bus (events.c) */
	struct svc_certs *certs; /* CA, CSRs, password rotation (cert.c) */
};

struct svc *svc_create(struct store *store, const struct clock *clock, const struct cfg *cfg)
{
	struct svc *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->store = store;
	s->clock = clock;
	s->cfg = cfg;
	s->boot_tokens = cfg->boot_rate_per_s;
	s->boot_refill_ms = clock_mono_ms();
	if (RAND_bytes(s->key, sizeof(s->key)) != 1) {
		free(s);
		return NULL;
	}
	return s;
}

static void free_all(struct hmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		const char *k = m->slots[i].key;

		if (k && m->slots[i].value)
			free(m->slots[i].value);
	}
	hmap_free(m);
}

void svc_destroy(struct svc *s)
{
	if (!s)
		return;
	free_all(&s->stations);
	free_all(&s->verified);
	svc__cmds_free(s->cmds);
	svc_plan_stop(s);
	svc__plans_free(s->plans);
	svc__events_free(s->events);
	svc__certs_free(s->certs);
	free(s);
}

struct svc_events **svc__events(struct svc *s)
{
	return &s->events;
}

/* Post a live event about station id (events.h). */
static void post(struct svc *s, int kind, const char *id, const char *status)
{
	struct svc_event ev = { .kind = kind };

	snprintf(ev.station, sizeof(ev.station), "%s", id);
	if (status)
		snprintf(ev.status, sizeof(ev.status), "%s", status);
	svc_event_post(s, &ev);
}

struct svc_cmds **svc__cmds(struct svc *s)
{
	return &s->cmds;
}

struct svc_certs **svc__certs(struct svc *s)
{
	return &s->certs;
}

const struct cfg *svc__cfg(const struct svc *s)
{
	return s->cfg;
}

struct svc_plans **svc__plans(struct svc *s)
{
	return &s->plans;
}

struct store *svc_store(struct svc *s)
{
	return s->store;
}

const char *svc_errmsg(struct svc *s)
{
	return store_errmsg(s->store);
}

const struct clock *svc_clock(const struct svc *s)
{
	return s->clock;
}

int64_t svc_now_ms(const struct svc *s)
{
	return clock_now_ms(s->clock);
}

unsigned svc_connected(const struct svc *s)
{
	return (unsigned)s->stations.count;
}

/* A keyed digest of (id, stored hash, password): a rotated password changes the stored hash, so
 * a digest remembered for the old one no longer matches. */
static void password_digest(const struct svc *s, const char *id, const char *hash,
			    const char *password, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 32;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, s->key, sizeof(s->key));
	EVP_DigestUpdate(ctx, id, strlen(id) + 1);
	EVP_DigestUpdate(ctx, hash, strlen(hash) + 1);
	EVP_DigestUpdate(ctx, password, strlen(password));
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

static bool password_ok(struct svc *s, const char *id, const char *hash, const char *password)
{
	struct verified *v = hmap_get(&s->verified, id);
	unsigned char d[32];

	password_digest(s, id, hash, password, d);
	if (v && CRYPTO_memcmp(v->digest, d, sizeof(d)) == 0)
		return true;
	if (!pwhash_verify(password, hash))
		return false;
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return true;
		snprintf(v->id, sizeof(v->id), "%s", id);
		if (hmap_put(&s->verified, v->id, v) < 0) {
			free(v);
			return true;
		}
	}
	memcpy(v->digest, d, sizeof(d));
	return true;
}

int svc_station_admit(struct svc *s, const char *id, const char *password_or_null)
{
	struct store_station row;
	int r = store_station_get(s->store, id, &row);

	if (r == -ENOENT) {
		if (s->cfg->registration == CFG_REG_CLOSED)
			return -ENOENT;
		r = store_station_create(s->store, id,
					 s->cfg->registration == CFG_REG_OPEN ? REG_ACCEPTED
									      : REG_PENDING,
					 svc_now_ms(s));
		if (r < 0)
			return -EIO;
		log_notice("station %s registered (%s policy)", id,
			   cfg_registration_name(s->cfg->registration));
		return 0;
	}
	if (r < 0)
		return -EIO;
	if (!row.password_hash[0])
		return 0; /* auto-registered without a password: the policy admitted it */
	if (!password_or_null || !password_ok(s, id, row.password_hash, password_or_null))
		return -EACCES;
	return 0;
}

struct chg_station *svc_station_attach(struct svc *s, const char *id, int protocol,
				       const char *protocol_name, void *conn, void **ret_replaced)
{
	struct chg_station *st = hmap_get(&s->stations, id);
	struct store_station row;

	*ret_replaced = NULL;
	if (store_station_get(s->store, id, &row) < 0)
		return NULL;
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return NULL;
		snprintf(st->id, sizeof(st->id), "%s", id);
		if (hmap_put(&s->stations, st->id, st) < 0) {
			free(st);
			return NULL;
		}
	} else if (st->conn && st->conn != conn) {
		*ret_replaced = st->conn;
	}
	snprintf(st->site_id, sizeof(st->site_id), "%s", row.site_id);
	st->site_kind = row.site_kind;
	st->registration = row.registration;
	st->protocol = protocol;
	st->conn = conn;
	st->boot_accepted = false;
	store_station_seen(s->store, id, true, protocol_name, svc_now_ms(s));
	post(s, SVC_EV_STATION_ONLINE, id, NULL);
	if (st->registration == REG_PENDING) /* waits for the operator: show it */
		post(s, SVC_EV_REGISTRATION, id, reg_status_to_string(REG_PENDING));
	return st;
}

void svc_station_detach(struct svc *s, struct chg_station *st, void *conn)
{
	if (!st || st->conn != conn)
		return; /* replaced by a newer connection, which owns the entry now */
	store_station_seen(s->store, st->id, false, NULL, svc_now_ms(s));
	post(s, SVC_EV_STATION_OFFLINE, st->id, NULL);
	svc_power_clear(s, st->id, -1);
	hmap_del(&s->stations, st->id);
	free(st);
}

struct chg_station *svc_station_find(struct svc *s, const char *id)
{
	return hmap_get(&s->stations, id);
}

int svc_station_set_registration(struct svc *s, const char *id, int registration)
{
	struct chg_station *st;
	int r = store_station_set_registration(s->store, id, registration);

	if (r < 0)
		return r;
	/* the decision goes into the station's history */
	r = store_notice_add(s->store, id, "registration", svc_now_ms(s),
			     reg_status_to_string(registration));
	if (r < 0)
		return r;
	post(s, SVC_EV_REGISTRATION, id, reg_status_to_string(registration));
	st = hmap_get(&s->stations, id);
	if (st)
		st->registration = registration;
	return 0;
}

/* Token bucket: true if one more boot fits in the configured rate. */
static bool boot_allowed(struct svc *s)
{
	int64_t now = clock_mono_ms();
	double rate = s->cfg->boot_rate_per_s;

	s->boot_tokens += (double)(now - s->boot_refill_ms) * rate / 1000.0;
	s->boot_refill_ms = now;
	if (s->boot_tokens > rate)
		s->boot_tokens = rate;
	if (s->boot_tokens < 1.0)
		return false;
	s->boot_tokens -= 1.0;
	return true;
}

static int jittered(int base_s)
{
	unsigned r = 0;

	RAND_bytes((unsigned char *)&r, sizeof(r));
	return base_s + (int)(r % (unsigned)(base_s + 1));
}

int svc_boot(struct svc *s, struct chg_station *st, const struct store_boot *b,
	     struct svc_boot_result *ret)
{
	int r = store_station_boot(s->store, st->id, b);

	if (r < 0)
		return r;
	st->boot_accepted = false;
	switch (st->registration) {
	case REG_ACCEPTED:
		if (!boot_allowed(s)) {
			/* A reconnect storm: ask the charger to come back later, spread out. */
			ret->status = REG_PENDING;
			ret->interval_s = jittered(s->cfg->pending_interval_s);
			log_info("station %s: boot rate exceeded, answered Pending (%d s)", st->id,
				 ret->interval_s);
			return 0;
		}
		ret->status = REG_ACCEPTED;
		ret->interval_s = s->cfg->heartbeat_interval_s;
		st->boot_accepted = true;
		return 0;
	case REG_PENDING:
		ret->status = REG_PENDING;
		ret->interval_s = s->cfg->pending_interval_s;
		return 0;
	default:
		ret->status = REG_REJECTED;
		ret->interval_s = s->cfg->pending_interval_s;
		return 0;
	}
}

int svc_heartbeat(struct svc *s, struct chg_station *st)
{
	return store_station_seen(s->store, st->id, true, NULL, svc_now_ms(s));
}

int svc_connector_status(struct svc *s, struct chg_station *st, int evse_id, int connector_id,
			 const char *status, const char *error_code, const char *info,
			 const char *vendor_error, int64_t ts_ms)
{
	int r;

	if (evse_id < 0 || evse_id > s->cfg->max_connectors || connector_id < 0 ||
	    connector_id > s->cfg->max_connectors)
		return -ERANGE;
	r = store_connector_status(s->store, st->id, evse_id, connector_id, status, error_code,
				   info, vendor_error, ts_ms ? ts_ms : svc_now_ms(s));
	if (r == 0) {
		struct svc_event ev = { .kind = SVC_EV_CONNECTOR, .evse_id = evse_id,
					.connector_id = connector_id };

		snprintf(ev.station, sizeof(ev.station), "%s", st->id);
		snprintf(ev.status, sizeof(ev.status), "%s", status ? status : "");
		if (error_code)
			snprintf(ev.detail, sizeof(ev.detail), "%s", error_code);
		svc_event_post(s, &ev);
	}
	return r;
}

int svc_station_event(struct svc *s, struct chg_station *st, int kind, const char *status)
{
	return store_station_event(s->store, st->id, kind, status, svc_now_ms(s));
}

int svc_authorize(struct svc *s, const struct chg_station *st, const char *token, struct svc_auth *ret)
{
	struct store_token t;
	int r = store_token_get(s->store, token, &t);

	*ret = (struct svc_auth){ .status = AUTH_INVALID };
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	ret->status = t.status;
	ret->expiry_ms = t.expiry_ms;
	snprintf(ret->parent, sizeof(ret->parent), "%s", t.parent);
	if (t.status == AUTH_ACCEPTED && t.expiry_ms && t.expiry_ms <= svc_now_ms(s))
		ret->status = AUTH_EXPIRED;
	/* A token bound to a site (a residential owner's card) is valid only there. */
	if (ret->status == AUTH_ACCEPTED && t.site_id[0] && strcmp(t.site_id, st->site_id) != 0)
		ret->status = AUTH_INVALID;
	/* Residential chargers are owner-only: a token must be bound to their site. */
	if (ret->status == AUTH_ACCEPTED && st->site_kind == SITE_RESIDENTIAL && !t.site_id[0])
		ret->status = AUTH_INVALID;
	return 0;
}

static bool ids_in_range(const struct svc *s, int evse_id, int connector_id)
{
	return evse_id >= 0 && evse_id <= s->cfg->max_connectors && connector_id >= 0 &&
	       connector_id <= s->cfg->max_connectors;
}

/* Open keyed by the CSMS: the start key (station, EVSE, token, time, meter) makes a replayed
 * open the same session. */
static int open_by_csms(struct svc *s, struct chg_station *st, const struct svc_session_event *ev,
			struct svc_session_result *ret)
{
	struct store_session_open row = {
		.station_id = st->id,
		.evse_id = ev->evse_id,
		.connector_id = ev->connector_id,
		.id_tag = ev->id_token,
		.auth_status = ret->has_auth ? ret->auth.status : -1,
		.start_ms = ev->ts_ms,
		.has_meter_start = ev->has_energy,
		.meter_start_wh = ev->energy_wh,
		.has_reservation = ev->has_reservation,
		.reservation_id = ev->reservation_id,
		.now_ms = svc_now_ms(s),
	};
	int64_t id;
	/* look first: finding a replay writes nothing */
	int r = store_session_find_start(s->store, &row, &id);

	if (r == 0) {
		ret->replay = true;
		log_info("station %s: replayed start, same session %lld", st->id, (long long)id);
	} else if (r == -ENOENT) {
		r = store_session_open(s->store, &row, &id);
		if (r < 0)
			return r;
	} else {
		return r;
	}
	ret->session_id = id;
	ret->evse_id = ev->evse_id;
	return 0;
}

/* Update or close keyed by the CSMS id: only the owning station's session changes. */
static int event_by_csms(struct svc *s, struct chg_station *st, int kind,
			 const struct svc_session_event *ev, struct svc_session_result *ret)
{
	struct store_session_state ss;
	int r = ev->session_id > 0 ? store_session_state(s->store, ev->session_id, &ss) : -ENOENT;

	if (r == -ENOENT || (r == 0 && strcmp(ss.station_id, st->id) != 0)) {
		struct store_orphan o = {
			.station_id = st->id,
			.transaction_id = ev->session_id,
			.id_tag = ev->id_token,
			.reason = ev->stop_reason_text,
			.meter_stop_wh = ev->energy_wh,
			.ts_ms = ev->ts_ms,
			.received_ms = svc_now_ms(s),
		};

		if (kind != SESSION_CLOSE) {
			log_warn("station %s: update of session %lld it does not own; readings kept "
				 "unlinked", st->id, (long long)ev->session_id);
			return 0;
		}
		/* Unknown (e.g. -1 after an offline start) or another station's: keep it for
		 * the operator, change nothing. */
		ret->orphan = true;
		log_warn("station %s: stop for unknown session %lld recorded as orphan", st->id,
			 (long long)ev->session_id);
		return store_orphan_add(s->store, &o);
	}
	if (r < 0)
		return r;
	ret->session_id = ss.id;
	ret->evse_id = ss.evse_id;
	if (ev->has_energy && kind == SESSION_UPDATE) {
		r = store_session_meter_last(s->store, ss.id, ev->energy_wh, ev->ts_ms);
		if (r < 0)
			return r;
	}
	if (kind != SESSION_CLOSE)
		return 0;
	if (!ss.active) {
		ret->replay = true; /* a retried stop changes nothing */
		return 0;
	}
	return store_session_close(s->store, ss.id,
				   &(struct store_session_close){
					   .stop_ms = ev->ts_ms,
					   .meter_stop_wh = ev->has_energy ? ev->energy_wh
						   : ss.has_meter_last ? ss.meter_last_wh : 0,
					   .reason = ev->stop_reason_text,
					   .id_tag = ev->id_token,
				   });
}

/* Any event keyed by the station's own id. */
static int event_by_station(struct svc *s, struct chg_station *st, int kind,
			    const struct svc_session_event *ev, struct svc_session_result *ret)
{
	struct store_session_state tx;
	int64_t now = svc_now_ms(s);
	int r = store_session_find_tx(s->store, st->id, ev->station_tx_id, &tx);

	if (r == -ENOENT) {
		/* First event seen of this session (usually the open; an update or close if
		 * earlier events were lost or are still queued offline). */
		struct store_session_open row = {
			.station_id = st->id,
			.evse_id = ev->evse_id,
			.connector_id = ev->connector_id ? ev->connector_id : (ev->evse_id ? 1 : 0),
			.station_tx_id = ev->station_tx_id,
			.id_tag = ev->id_token,
			.auth_status = ret->has_auth ? ret->auth.status : -1,
			.start_ms = ev->ts_ms,
			.has_meter_start = kind == SESSION_OPEN && ev->has_energy,
			.meter_start_wh = ev->energy_wh,
			.has_reservation = ev->has_reservation,
			.reservation_id = ev->reservation_id,
			.now_ms = now,
		};

		r = store_session_open(s->store, &row, &tx.id);
		if (r < 0)
			return r; /* -EEXIST here: the store lost a row it just did not find */
		tx = (struct store_session_state){ .id = tx.id, .active = true,
						   .start_ms = ev->ts_ms,
						   .evse_id = row.evse_id,
						   .has_meter_start = row.has_meter_start,
						   .has_token = ev->id_token != NULL };
	} else if (r < 0) {
		return r;
	}
	ret->session_id = tx.id;
	ret->evse_id = ev->evse_id ? ev->evse_id : tx.evse_id;
	if (ev->has_seq) {
		struct store_session_event e = {
			.seq_no = ev->seq_no,
			.kind = kind,
			.label = ev->label ? ev->label : session_event_kind_to_string(kind),
			.trigger = ev->trigger,
			.ts_ms = ev->ts_ms,
			.offline = ev->offline,
			.now_ms = now,
		};

		r = store_session_event_add(s->store, tx.id, &e);
		if (r == -EEXIST) {
			ret->replay = true; /* OCPP 2.0.1 E01: a retried event is not applied twice */
			return 0;
		}
		if (r < 0)
			return r;
	}
	/* An open delivered late (offline) is placed at its own time. */
	if (kind == SESSION_OPEN && (ev->ts_ms < tx.start_ms || !tx.has_meter_start)) {
		r = store_session_set_start(s->store, tx.id,
					    ev->ts_ms < tx.start_ms ? ev->ts_ms : tx.start_ms,
					    ev->has_energy, ev->energy_wh);
		if (r < 0)
			return r;
	}
	if (ev->id_token && !tx.has_token) {
		r = store_session_set_token(s->store, tx.id, ev->id_token, ret->auth.status);
		if (r < 0)
			return r;
	}
	if (ev->evse_id && kind == SESSION_OPEN) {
		r = store_session_set_evse(s->store, tx.id, ev->evse_id,
					   ev->connector_id ? ev->connector_id : 1);
		if (r < 0)
			return r;
	}
	if (ev->has_energy) {
		r = store_session_meter_last(s->store, tx.id, ev->energy_wh, ev->ts_ms);
		if (r < 0)
			return r;
		if (!tx.has_meter_last || ev->ts_ms >= tx.meter_last_ms) {
			tx.has_meter_last = true;
			tx.meter_last_wh = ev->energy_wh;
		}
	}
	if (kind == SESSION_CLOSE && tx.active) {
		struct store_session_close stop = {
			.stop_ms = ev->ts_ms,
			.meter_stop_wh = ev->has_energy ? ev->energy_wh
				       : tx.has_meter_last ? tx.meter_last_wh : 0,
			.reason = ev->stop_reason_text,
			.id_tag = ev->id_token,
		};

		r = store_session_close(s->store, tx.id, &stop);
		if (r < 0)
			return r;
	}
	if (ev->has_seq)
		return store_session_seq_update(s->store, tx.id, ev->seq_no, ev->offline);
	return 0;
}

static int session_event(struct svc *s, struct chg_station *st, int kind,
			 const struct svc_session_event *ev, struct svc_session_result *ret)
{
	struct svc_session_result res = { .session_id = 0 };
	int r;

	if (!ids_in_range(s, ev->evse_id, ev->connector_id))
		return -ERANGE;
	if (ev->id_token) {
		r = svc_authorize(s, st, ev->id_token, &res.auth);
		if (r < 0)
			return r;
		res.has_auth = true;
	}
	if (ev->station_tx_id)
		r = event_by_station(s, st, kind, ev, &res);
	else if (kind == SESSION_OPEN)
		r = open_by_csms(s, st, ev, &res);
	else
		r = event_by_csms(s, st, kind, ev, &res);
	if (r < 0)
		return r;
	if (res.session_id && !res.replay && kind != SESSION_UPDATE)
		svc_plan_touch(s, st->site_id); /* a session came or went: replan its site */
	*ret = res;
	if (res.session_id && !res.replay && (kind == SESSION_OPEN || kind == SESSION_CLOSE)) {
		struct svc_event e = { .kind = kind == SESSION_OPEN ? SVC_EV_SESSION_STARTED
								   : SVC_EV_SESSION_STOPPED,
				       .session_id = res.session_id, .evse_id = res.evse_id,
				       .energy_wh = -1 };

		snprintf(e.station, sizeof(e.station), "%s", st->id);
		if (kind == SESSION_CLOSE) {
			if (ev->stop_reason_text)
				snprintf(e.detail, sizeof(e.detail), "%s", ev->stop_reason_text);
			svc_power_clear(s, st->id, res.evse_id);
		}
		svc_event_post(s, &e);
	}
	return 0;
}

int svc_session_open(struct svc *s, struct chg_station *st, const struct svc_session_event *ev,
		     struct svc_session_result *ret)
{
	return session_event(s, st, SESSION_OPEN, ev, ret);
}

int svc_session_update(struct svc *s, struct chg_station *st, const struct svc_session_event *ev,
		       struct svc_session_result *ret)
{
	return session_event(s, st, SESSION_UPDATE, ev, ret);
}

int svc_session_close(struct svc *s, struct chg_station *st, const struct svc_session_event *ev,
		      struct svc_session_result *ret)
{
	return session_event(s, st, SESSION_CLOSE, ev, ret);
}

/* Two readings are the same if their texts are, or both are numbers of equal value ("1000" and
 * "1000.0" from a station that formats differently on a retry). */
static bool same_value(const char *a, const char *b)
{
	char *end_a, *end_b;
	double x, y;

	if (strcmp(a, b) == 0)
		return true;
	x = strtod(a, &end_a);
	y = strtod(b, &end_b);
	return end_a != a && !*end_a && end_b != b && !*end_b && x == y;
}

int svc_sample_add(struct svc *s, const struct chg_station *st, const struct store_sample *in)
{
	struct store_sample row = *in;
	char stored[256];
	int r;

	row.station_id = st->id;
	if (!row.measurand || !row.value)
		return -EINVAL;
	if (row.evse_id < 0 || row.evse_id > s->cfg->max_connectors)
		return -ERANGE;
	r = store_sample_add(s->store, &row, stored, sizeof(stored));
	if (r < 0)
		return r;
	if (r > 0) {
		svc__plan_sample(s, &row);
		/* the station's total import power (no phase) feeds the live network power */
		if (row.measurand_kind == MEAS_POWER_IMPORT && (!row.phase || !*row.phase)) {
			char *end;
			double w = strtod(row.value, &end);

			if (end != row.value && !*end)
				svc_power_reading(s, st->id, row.evse_id,
						  row.unit && strcmp(row.unit, "kW") == 0 ? w * 1000 : w,
						  row.ts_ms);
		}
		return SVC_SAMPLE_STORED;
	}
	if (same_value(stored, row.value))
		return SVC_SAMPLE_DUPLICATE;
	/* The same key with another value: not a retry. The first reading stays (what was
	 * acknowledged first is what was billed); the other one is kept beside it. */
	r = store_sample_conflict_add(s->store,
				      &(struct store_sample_conflict){
					      .sample = &row,
					      .stored_value = stored,
					      .received_ms = svc_now_ms(s),
				      });
	if (r < 0)
		return r;
	log_warn("station %s: reading %s of EVSE %d at %lld came again as %s (kept %s): conflict",
		 st->id, row.measurand, row.evse_id, (long long)row.ts_ms, row.value, stored);
	return SVC_SAMPLE_CONFLICT;
}

int svc_sample_conflicts(struct svc *s, int64_t session_id, int64_t *ret_count)
{
	return store_sample_conflicts(s->store, session_id, ret_count);
}

int svc_report_part(struct svc *s, struct chg_station *st, int64_t request_id, int64_t seq_no,
		    bool tbc)
{
	return store_report_part(s->store, st->id, request_id, seq_no, tbc, svc_now_ms(s));
}

int svc_variable_put(struct svc *s, struct chg_station *st, const struct store_variable *v)
{
	return store_variable_put(s->store, st->id, v, svc_now_ms(s));
}

int svc_notice(struct svc *s, struct chg_station *st, const char *kind, int64_t ts_ms,
	       const char *detail)
{
	return store_notice_add(s->store, st->id, kind, ts_ms ? ts_ms : svc_now_ms(s), detail);
}
