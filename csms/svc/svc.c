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
#include "cmd.h"

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
	free(s);
}

struct svc_cmds **svc__cmds(struct svc *s)
{
	return &s->cmds;
}

struct store *svc_store(struct svc *s)
{
	return s->store;
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
	return st;
}

void svc_station_detach(struct svc *s, struct chg_station *st, void *conn)
{
	if (!st || st->conn != conn)
		return; /* replaced by a newer connection, which owns the entry now */
	store_station_seen(s->store, st->id, false, NULL, svc_now_ms(s));
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
	if (evse_id < 0 || evse_id > s->cfg->max_connectors || connector_id < 0 ||
	    connector_id > s->cfg->max_connectors)
		return -ERANGE;
	return store_connector_status(s->store, st->id, evse_id, connector_id, status, error_code,
				      info, vendor_error, ts_ms ? ts_ms : svc_now_ms(s));
}

int svc_station_event(struct svc *s, struct chg_station *st, const char *kind, const char *status)
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

int svc_txn_start(struct svc *s, struct chg_station *st, const struct svc_txn_start *in,
		  int64_t *ret_txn_id, struct svc_auth *ret_auth)
{
	struct store_session_start row;
	bool existing;
	int r;

	if (in->evse_id < 0 || in->evse_id > s->cfg->max_connectors)
		return -ERANGE;
	r = svc_authorize(s, st, in->id_tag, ret_auth);
	if (r < 0)
		return r;
	row = (struct store_session_start){
		.station_id = st->id,
		.evse_id = in->evse_id,
		.connector_id = in->connector_id,
		.id_tag = in->id_tag,
		.auth_status = ret_auth->status,
		.start_ms = in->start_ms,
		.has_meter_start = true,
		.meter_start_wh = in->meter_start_wh,
		.has_reservation = in->has_reservation,
		.reservation_id = in->reservation_id,
		.now_ms = svc_now_ms(s),
	};
	r = store_session_start(s->store, &row, ret_txn_id, &existing);
	if (r < 0)
		return r;
	if (existing)
		log_info("station %s: replayed start, same transaction %lld", st->id,
			 (long long)*ret_txn_id);
	return 0;
}

int svc_txn_stop(struct svc *s, struct chg_station *st, const struct svc_txn_stop *in,
		 bool *ret_orphan, struct svc_auth *ret_auth)
{
	char owner[STATION_ID_MAX + 1];
	bool active;
	int connector, r;

	*ret_orphan = false;
	if (in->id_tag) {
		r = svc_authorize(s, st, in->id_tag, ret_auth);
		if (r < 0)
			return r;
	}
	r = store_session_owner(s->store, in->txn_id, owner, &connector, &active);
	if (r == -ENOENT || (r == 0 && strcmp(owner, st->id) != 0)) {
		/* Unknown (e.g. -1 after an offline start) or another station's: acknowledge, keep
		 * it for the operator, change nothing. A charger told "error" would retry forever. */
		struct store_orphan o = {
			.station_id = st->id,
			.transaction_id = in->txn_id,
			.id_tag = in->id_tag,
			.reason = in->reason,
			.meter_stop_wh = in->meter_stop_wh,
			.ts_ms = in->stop_ms,
			.received_ms = svc_now_ms(s),
		};
		*ret_orphan = true;
		log_warn("station %s: stop for unknown transaction %lld recorded as orphan", st->id,
			 (long long)in->txn_id);
		return store_orphan_add(s->store, &o);
	}
	if (r < 0)
		return r;
	if (!active)
		return 0; /* already stopped: a retried StopTransaction changes nothing */
	return store_session_stop(s->store, in->txn_id,
				  &(struct store_session_stop){ .stop_ms = in->stop_ms,
								.meter_stop_wh = in->meter_stop_wh,
								.reason = in->reason,
								.id_tag = in->id_tag });
}

int64_t svc_txn_owned(struct svc *s, const struct chg_station *st, int64_t txn_id, int *ret_evse)
{
	char owner[STATION_ID_MAX + 1];
	bool active;
	int connector;

	if (txn_id <= 0 || store_session_owner(s->store, txn_id, owner, &connector, &active) < 0)
		return 0;
	if (strcmp(owner, st->id) != 0)
		return 0;
	*ret_evse = connector;
	return txn_id;
}

int svc_meter_sample(struct svc *s, const struct chg_station *st, const struct store_sample *in)
{
	struct store_sample row = *in;

	row.station_id = st->id;
	if (!row.measurand)
		row.measurand = "Energy.Active.Import.Register"; /* the OCPP default */
	if (!row.value)
		return -EINVAL;
	if (row.evse_id < 0 || row.evse_id > s->cfg->max_connectors)
		return -ERANGE;
	return store_sample_add(s->store, &row);
}

static const char *const tx_event_names[_SVC_TX_EVENT_MAX] = {
	[SVC_TX_STARTED] = "Started", [SVC_TX_UPDATED] = "Updated", [SVC_TX_ENDED] = "Ended",
};

int svc_tx_event(struct svc *s, struct chg_station *st, const struct svc_tx_event *ev,
		 int64_t *ret_session, bool *ret_replay, struct svc_auth *ret_auth)
{
	struct store_tx_state tx;
	int64_t now = svc_now_ms(s);
	int r;

	*ret_replay = false;
	if (ev->evse_id < 0 || ev->evse_id > s->cfg->max_connectors || ev->connector_id < 0 ||
	    ev->connector_id > s->cfg->max_connectors)
		return -ERANGE;
	if (ev->id_token) {
		r = svc_authorize(s, st, ev->id_token, ret_auth);
		if (r < 0)
			return r;
	}
	r = store_tx_lookup(s->store, st->id, ev->tx_id, &tx);
	if (r == -ENOENT) {
		/* First event seen for this transaction (usually Started; an Updated or Ended if
		 * earlier events were lost or are still queued offline). */
		struct store_session_start row = {
			.station_id = st->id,
			.evse_id = ev->evse_id,
			.connector_id = ev->connector_id ? ev->connector_id : (ev->evse_id ? 1 : 0),
			.station_tx_id = ev->tx_id,
			.id_tag = ev->id_token,
			.auth_status = ev->id_token ? ret_auth->status : -1,
			.start_ms = ev->ts_ms,
			.has_meter_start = ev->type == SVC_TX_STARTED && ev->has_energy,
			.meter_start_wh = ev->energy_wh,
			.has_reservation = ev->has_reservation,
			.reservation_id = ev->reservation_id,
			.now_ms = now,
		};
		bool existing;

		r = store_session_start(s->store, &row, &tx.id, &existing);
		if (r < 0)
			return r;
		tx = (struct store_tx_state){ .id = tx.id, .active = true, .start_ms = ev->ts_ms,
					      .has_meter_start = row.has_meter_start,
					      .has_token = ev->id_token != NULL };
	} else if (r < 0) {
		return r;
	}
	*ret_session = tx.id;
	r = store_tx_event_add(s->store, tx.id, ev->seq_no, tx_event_names[ev->type],
			       ev->trigger ? ev->trigger : "", ev->ts_ms, ev->offline, now);
	if (r == -EEXIST) {
		*ret_replay = true; /* OCPP 2.0.1 E01: a retried event is not applied twice */
		return 0;
	}
	if (r < 0)
		return r;
	/* A Started delivered late (offline) is placed at its own time. */
	if (ev->type == SVC_TX_STARTED && (ev->ts_ms < tx.start_ms || !tx.has_meter_start)) {
		r = store_tx_set_start(s->store, tx.id, ev->ts_ms < tx.start_ms ? ev->ts_ms : tx.start_ms,
				       ev->has_energy, ev->energy_wh);
		if (r < 0)
			return r;
	}
	if (ev->id_token && !tx.has_token) {
		r = store_tx_set_token(s->store, tx.id, ev->id_token, ret_auth->status);
		if (r < 0)
			return r;
	}
	if (ev->evse_id && ev->type == SVC_TX_STARTED) {
		r = store_tx_set_evse(s->store, tx.id, ev->evse_id,
				      ev->connector_id ? ev->connector_id : 1);
		if (r < 0)
			return r;
	}
	if (ev->has_energy) {
		r = store_tx_meter_last(s->store, tx.id, ev->energy_wh, ev->ts_ms);
		if (r < 0)
			return r;
		if (!tx.has_meter_last || ev->ts_ms >= tx.meter_last_ms) {
			tx.has_meter_last = true;
			tx.meter_last_wh = ev->energy_wh;
		}
	}
	if (ev->type == SVC_TX_ENDED && tx.active) {
		struct store_session_stop stop = {
			.stop_ms = ev->ts_ms,
			.meter_stop_wh = ev->has_energy ? ev->energy_wh
							: tx.has_meter_last ? tx.meter_last_wh : 0,
			.reason = ev->stopped_reason ? ev->stopped_reason : "Local",
			.id_tag = ev->id_token,
		};

		r = store_session_stop(s->store, tx.id, &stop);
		if (r < 0)
			return r;
	}
	r = store_tx_seq_update(s->store, tx.id, ev->seq_no, ev->offline);
	if (r < 0)
		return r;
	return 0;
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
