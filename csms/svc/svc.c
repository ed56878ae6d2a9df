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
#include "events.h"
#include "sites.h"

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
	struct svc_cmds *cmds;	 /* operator commands (cmd.c) */
	struct svc_plans *plans; /* the planner at run time (csms/plan_rt.c), opaque here */
	struct svc_plan_hooks plan_hooks;
	struct svc_events *events; /* live event bus (events.c) */
	/* ---- security (admission, back-off, registration and call rates) */
	struct hmap fails; /* id or "@address" -> struct auth_fail */
	struct hmap cands; /* id -> struct candidate: admitted, no row yet */
	struct hmap rates; /* id -> struct station_rate */
	double reg_tokens; /* registrations of unknown ids: registration_rate_per_s */
	int64_t reg_refill_ms;
	double log_tokens; /* refused-login log lines: 10 a second */
	int64_t log_refill_ms;
	unsigned log_suppressed;
	/* ---- end security */
	struct svc_certs *certs;	       /* CA, CSRs, password rotation (cert.c) */
	const struct svc_offload_ops *offload; /* work off the loop (KDFs), or NULL: now */
	void *offload_impl;
	/* local lists: pushes due and syncs in flight (locallist.c) */
	struct svc_ll_push *ll_push;
	/* session cache: the generation of chg_station.sess_hint entries that still hold (+1 when
	 * a group failed), and how often one saved a lookup */
	uint64_t sess_gen;
	uint64_t sess_hint_hits;
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
	s->reg_tokens = cfg->registration_rate_per_s;
	s->reg_refill_ms = s->log_refill_ms = s->boot_refill_ms;
	s->log_tokens = 10;
	s->sess_gen = 1; /* a zeroed hint never holds */
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
	free_all(&s->fails);
	free_all(&s->cands);
	free_all(&s->rates);
	svc__cmds_free(s->cmds);
	if (s->plan_hooks.destroy)
		s->plan_hooks.destroy(s); /* the planner's state (csms/plan_rt.c) */
	svc__events_free(s->events);
	svc__certs_free(s->certs);
	svc__ll_push_free(s->ll_push);
	free(s);
}

struct svc_events **svc__events(struct svc *s)
{
	return &s->events;
}

/* Post a live event about station id (events.h). */
static void post(struct svc *s, int kind, const char *id, const char *status)
{
	struct svc_event ev = {.kind = kind};

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

void svc_set_offload(struct svc *s, const struct svc_offload_ops *ops, void *impl)
{
	s->offload = ops;
	s->offload_impl = impl;
}

int svc__offload(struct svc *s, void (*work)(void *arg), void (*done)(void *arg, int status),
		 void *arg)
{
	if (s->offload)
		return s->offload->queue(s->offload_impl, work, done, arg);
	work(arg);
	done(arg, 0);
	return 0;
}

const struct cfg *svc__cfg(const struct svc *s)
{
	return s->cfg;
}

struct svc_plans **svc__plans(struct svc *s)
{
	return &s->plans;
}

void svc_set_plan_hooks(struct svc *s, const struct svc_plan_hooks *h)
{
	if (h)
		s->plan_hooks = *h;
	else
		memset(&s->plan_hooks, 0, sizeof(s->plan_hooks));
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

const struct cfg *svc_cfg(const struct svc *s)
{
	return s->cfg;
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

/* The password was verified against hash before (its keyed digest is remembered). */
static bool password_cached(struct svc *s, const char *id, const char *hash, const char *password)
{
	struct verified *v = hmap_get(&s->verified, id);
	unsigned char d[32];

	password_digest(s, id, hash, password, d);
	return v && CRYPTO_memcmp(v->digest, d, sizeof(d)) == 0;
}

/* Remember a verified password's digest (best effort). */
static void password_remember(struct svc *s, const char *id, const char *hash, const char *password)
{
	struct verified *v = hmap_get(&s->verified, id);
	unsigned char d[32];

	password_digest(s, id, hash, password, d);
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return;
		snprintf(v->id, sizeof(v->id), "%s", id);
		if (hmap_put(&s->verified, v->id, v) < 0) {
			free(v);
			return;
		}
	}
	memcpy(v->digest, d, sizeof(d));
}

static bool password_ok(struct svc *s, const char *id, const char *hash, const char *password)
{
	if (password_cached(s, id, hash, password))
		return true;
	if (!pwhash_verify(password, hash))
		return false;
	password_remember(s, id, hash, password);
	return true;
}

/* ---- security: admission (docs/security.md) */

/* A token bucket: refill at rate per second up to burst; true (and one token taken) if one is
 * there. */
static bool bucket_take(double *tokens, int64_t *refill_ms, double rate, double burst)
{
	int64_t now = clock_mono_ms();

	*tokens += (double)(now - *refill_ms) * rate / 1000.0;
	*refill_ms = now;
	if (*tokens > burst)
		*tokens = burst;
	if (*tokens < 1.0)
		return false;
	*tokens -= 1.0;
	return true;
}

struct auth_fail {
	char key[STATION_ID_MAX + 2 + 64];
	unsigned count;	  /* consecutive failures */
	int64_t until_ms; /* refused without a KDF until then */
};

struct candidate {
	char id[STATION_ID_MAX + 1];
	int profile;
	char hash[STORE_HASH_MAX];
	char cert_cn[STORE_CERT_CN_MAX + 1], cert_fp[STORE_CERT_FP_MAX + 1];
	int64_t created_ms;
};

struct station_rate {
	char id[STATION_ID_MAX + 1];
	double call_tokens, boot_tokens;
	int64_t call_ms, boot_ms;
};

#define SVC_MAP_MAX 65536 /* entries in fails / cands before stale ones are dropped */

/* Drop the entries of m for which stale() says so (the map is bounded). */
static void prune(struct hmap *m, bool (*stale)(const void *v, int64_t now), int64_t now)
{
	char keys[256][STATION_ID_MAX + 2 + 64];
	size_t n;

	do {
		n = 0;
		for (size_t i = 0; i < m->cap && n < 256; i++)
			if (m->slots[i].key && m->slots[i].value && stale(m->slots[i].value, now))
				snprintf(keys[n++], sizeof(keys[0]), "%s", m->slots[i].key);
		for (size_t i = 0; i < n; i++)
			free(hmap_del(m, keys[i]));
	} while (n == 256);
}

static bool fail_stale(const void *v, int64_t now)
{
	return ((const struct auth_fail *)v)->until_ms < now - 600000;
}

static bool cand_stale(const void *v, int64_t now)
{
	return ((const struct candidate *)v)->created_ms < now - 120000;
}

static struct auth_fail *fail_get(struct svc *s, const char *key, bool create)
{
	struct auth_fail *f = hmap_get(&s->fails, key);

	if (f || !create)
		return f;
	if (s->fails.count >= SVC_MAP_MAX)
		prune(&s->fails, fail_stale, clock_mono_ms());
	if (s->fails.count >= SVC_MAP_MAX || !(f = calloc(1, sizeof(*f))))
		return NULL;
	snprintf(f->key, sizeof(f->key), "%s", key);
	if (hmap_put(&s->fails, f->key, f) < 0) {
		free(f);
		return NULL;
	}
	return f;
}

static bool backing_off(struct svc *s, const char *key)
{
	struct auth_fail *f = hmap_get(&s->fails, key);

	return f && f->until_ms > clock_mono_ms();
}

/* One more failure for key: past auth_fail_free consecutive ones, refuse for 1, 2, 4 ... s (up
 * to auth_backoff_max_s) without running the KDF. */
static void fail_add(struct svc *s, const char *key)
{
	struct auth_fail *f = fail_get(s, key, true);
	unsigned over, free_n;
	int64_t wait_ms;

	if (!f)
		return;
	f->count++;
	free_n = (unsigned)s->cfg->auth_fail_free * (key[0] == '@' ? 10 : 1); /* an address
									      * serves many ids */
	if (f->count <= free_n)
		return;
	over = f->count - free_n - 1;
	wait_ms = over >= 20 ? INT64_MAX / 4 : 1000LL << over;
	if (wait_ms > (int64_t)s->cfg->auth_backoff_max_s * 1000)
		wait_ms = (int64_t)s->cfg->auth_backoff_max_s * 1000;
	f->until_ms = clock_mono_ms() + wait_ms;
}

static void fail_clear(struct svc *s, const char *key)
{
	free(hmap_del(&s->fails, key));
}

static void peer_key(const struct svc_admit *a, char *out, size_t len)
{
	snprintf(out, len, "@%s", a->peer ? a->peer : "");
}

/* A refused login: counted per id and per address; logged once per burst, at most 10 lines a
 * second in all (the rest are counted and reported with the next line). */
static int refuse_login(struct svc *s, const struct svc_admit *a, const char *why, bool count)
{
	char pk[80];

	peer_key(a, pk, sizeof(pk));
	if (count && !(a->kdf && a->kdf->done)) { /* a deferred KDF counted it already */
		fail_add(s, a->id);
		if (a->peer)
			fail_add(s, pk);
	}
	if (bucket_take(&s->log_tokens, &s->log_refill_ms, 10, 10)) {
		log_notice("[cp %s] login from %s refused: %s%s", a->id, a->peer ? a->peer : "?",
			   why, s->log_suppressed ? " (and earlier refusals not logged)" : "");
		s->log_suppressed = 0;
	} else {
		s->log_suppressed++;
	}
	return -EACCES;
}

/* Constant work for an id that does not exist: the answer and its time match a wrong
 * password's. */
static void dummy_kdf(struct svc *s, const char *password)
{
	static char fake[PWHASH_MAX];

	if (!fake[0] && pwhash_create("not a password", (unsigned)s->cfg->kdf_iterations, fake,
				      sizeof(fake)) < 0)
		return;
	(void)pwhash_verify(password ? password : "", fake);
}

/* ---- the KDF of an admission, now (a->kdf NULL) or off the loop (docs/security.md) */
void svc_kdf_run(struct svc_kdf *k, const char *password)
{
	char scratch[PWHASH_MAX];

	switch (k->kind) {
	case SVC_KDF_VERIFY:
		k->ok = pwhash_verify(password ? password : "", k->hash);
		break;
	case SVC_KDF_CREATE:
		if (pwhash_create(password ? password : "", k->iterations, k->hash,
				  sizeof(k->hash)) < 0)
			k->hash[0] = '\0';
		break;
	case SVC_KDF_DUMMY: /* one PBKDF2 of the configured cost, like a wrong password's */
		(void)pwhash_create(password ? password : "", k->iterations, scratch,
				    sizeof(scratch));
		k->ok = false;
		break;
	default:
		break;
	}
	k->done = true;
}

/* Ask for a KDF in a->kdf; the attempt counts as a failed login until it succeeds, so the
 * back-off holds while KDFs are in flight. */
static int kdf_defer(struct svc *s, const struct svc_admit *a, int kind, const char *hash)
{
	struct svc_kdf *k = a->kdf;
	char pk[80];

	if (!k->done) { /* the first deferral of this attempt */
		peer_key(a, pk, sizeof(pk));
		fail_add(s, a->id);
		if (a->peer)
			fail_add(s, pk);
	}
	k->kind = kind;
	k->done = k->ok = false;
	k->iterations = (unsigned)s->cfg->kdf_iterations;
	snprintf(k->hash, sizeof(k->hash), "%s", hash ? hash : "");
	return -EINPROGRESS;
}

/* 1 if a's password matches hash, 0 if not, -EINPROGRESS (a KDF deferred). */
static int kdf_verify(struct svc *s, const struct svc_admit *a, const char *hash)
{
	struct svc_kdf *k = a->kdf;

	if (!k)
		return password_ok(s, a->id, hash, a->password);
	if (password_cached(s, a->id, hash, a->password))
		return 1;
	if (k->done && k->kind == SVC_KDF_VERIFY && strcmp(k->hash, hash) == 0) {
		if (k->ok)
			password_remember(s, a->id, hash, a->password);
		return k->ok;
	}
	return kdf_defer(s, a, SVC_KDF_VERIFY, hash);
}

/* A new hash of a's password into out: 0, -EIO, -EINPROGRESS. */
static int kdf_create(struct svc *s, const struct svc_admit *a, char *out, size_t len)
{
	struct svc_kdf *k = a->kdf;

	if (!k)
		return pwhash_create(a->password, (unsigned)s->cfg->kdf_iterations, out, len) < 0
			   ? -EIO
			   : 0;
	if (k->done && k->kind == SVC_KDF_CREATE) {
		if (!k->hash[0] || strlen(k->hash) >= len)
			return -EIO;
		snprintf(out, len, "%s", k->hash);
		return 0;
	}
	return kdf_defer(s, a, SVC_KDF_CREATE, NULL);
}

/* The work of a wrong password for an id that does not exist: 0 or -EINPROGRESS. */
static int kdf_dummy(struct svc *s, const struct svc_admit *a)
{
	if (!a->kdf) {
		dummy_kdf(s, a->password);
		return 0;
	}
	if (a->kdf->done && a->kdf->kind == SVC_KDF_DUMMY)
		return 0;
	return kdf_defer(s, a, SVC_KDF_DUMMY, NULL);
}
/* A password just verified against a hash of fewer iterations than kdf_iterations (made
 * under an older setting): hash it again with the configured count, off the loop like any
 * admission KDF, and store that. 0 (upgraded, nothing to do, or skipped after a failure, which
 * does not refuse the login) or -EINPROGRESS. */
static int kdf_upgrade(struct svc *s, const struct svc_admit *a, const char *old)
{
	static const char prefix[] = "pbkdf2-sha256$";
	char hash[PWHASH_MAX];
	unsigned long it;
	int r;

	if (strncmp(old, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	it = strtoul(old + sizeof(prefix) - 1, NULL, 10);
	if (it >= (unsigned long)s->cfg->kdf_iterations)
		return 0;
	r = kdf_create(s, a, hash, sizeof(hash));
	if (r == -EINPROGRESS)
		return r;
	if (r < 0 || store_station_password_set(s->store, a->id, hash) < 0) {
		log_warn("station %s: its password hash (%lu iterations) could not be upgraded",
			 a->id, it);
		return 0;
	}
	password_remember(s, a->id, hash, a->password);
	log_notice("station %s: password hash upgraded from %lu to %d iterations", a->id, it,
		   s->cfg->kdf_iterations);
	return 0;
}
/* ---- end KDF */

static int admit_unknown(struct svc *s, const struct svc_admit *a)
{
	char hash[PWHASH_MAX] = "";
	struct candidate *c;
	int r;

	if (s->cfg->registration == CFG_REG_CLOSED) {
		/* no password: refused at once, as a known station's would be */
		if ((a->password || !a->kdf) && kdf_dummy(s, a) == -EINPROGRESS)
			return -EINPROGRESS;
		return refuse_login(s, a, "unknown charger (or wrong credential)", true);
	}
	if (a->profile == 0 && a->no_profile0)
		return refuse_login(s, a, "no credential (profile 0 is not allowed for 2.0.1)",
				    true);
	if (a->password) {
		r = kdf_create(s, a, hash, sizeof(hash));
		if (r < 0)
			return r;
	}
	c = hmap_get(&s->cands, a->id);
	if (!c) {
		if (s->cands.count >= SVC_MAP_MAX)
			prune(&s->cands, cand_stale, clock_mono_ms());
		if (s->cands.count >= SVC_MAP_MAX)
			return -EAGAIN;
		c = calloc(1, sizeof(*c));
		if (!c)
			return -EIO;
		snprintf(c->id, sizeof(c->id), "%s", a->id);
		if (hmap_put(&s->cands, c->id, c) < 0) {
			free(c);
			return -EIO;
		}
	}
	/* the credential this connection presents is the one bound at registration */
	c->created_ms = clock_mono_ms();
	c->profile = a->profile;
	c->hash[0] = c->cert_cn[0] = c->cert_fp[0] = '\0';
	if (a->password)
		snprintf(c->hash, sizeof(c->hash), "%s", hash);
	if (a->cert_cn)
		snprintf(c->cert_cn, sizeof(c->cert_cn), "%s", a->cert_cn);
	if (a->cert_fp)
		snprintf(c->cert_fp, sizeof(c->cert_fp), "%s", a->cert_fp);
	if (a->kdf && a->kdf->done) { /* admitted: the deferral's provisional failure goes */
		char pk[80];

		peer_key(a, pk, sizeof(pk));
		fail_clear(s, a->id);
		if (a->peer)
			fail_clear(s, pk);
	}
	return 0;
}

int svc_station_admit_conn(struct svc *s, const struct svc_admit *a)
{
	struct store_station_security sec;
	struct store_station row;
	char pk[80];
	bool have_cred;
	int r;

	peer_key(a, pk, sizeof(pk));
	if (!(a->kdf && a->kdf->done) && /* a deferred KDF's attempt passed the check */
	    (backing_off(s, a->id) || (a->peer && backing_off(s, pk))))
		return refuse_login(s, a, "backing off after failed logins", false);
	r = store_station_security_get(s->store, a->id, &sec);
	if (r == -ENOENT)
		return admit_unknown(s, a);
	if (r < 0)
		return -EIO;
	if (a->profile < sec.profile)
		return refuse_login(s, a, "weaker security profile than the station's", true);
	if (a->profile == 0 && a->no_profile0)
		return refuse_login(s, a, "no credential (profile 0 is not allowed for 2.0.1)",
				    true);
	have_cred = sec.password_hash[0] || sec.cert_fp[0] || sec.cert_cn[0];
	if (a->profile == 3) {
		/* the transport verified the certificate against tls_client_ca: its CN is the
		 * credential; a renewed certificate (another fingerprint) replaces the recorded
		 * one */
		if (!a->cert_cn || strcmp(a->cert_cn, a->id) != 0)
			return refuse_login(s, a, "client certificate of another charger (CN)",
					    true);
		if (have_cred && a->cert_fp && strcmp(sec.cert_fp, a->cert_fp) != 0 &&
		    store_station_security_set(s->store, a->id, -1, NULL, a->cert_cn, a->cert_fp) <
			0)
			return -EIO;
	} else if (sec.password_hash[0]) {
		r = a->password ? kdf_verify(s, a, sec.password_hash) : 0;
		if (r < 0)
			return r;
		if (!r)
			return refuse_login(s, a, a->password ? "wrong password" : "no password",
					    true);
		r = kdf_upgrade(s, a, sec.password_hash);
		if (r < 0)
			return r;
	} else if (sec.cert_fp[0]) {
		return refuse_login(s, a, "the station uses a client certificate", true);
	}
	if (!have_cred) {
		/* No credential yet: the first one presented is bound to the station. */
		char hash[PWHASH_MAX] = "";

		if (a->password) {
			r = kdf_create(s, a, hash, sizeof(hash));
			if (r < 0)
				return r;
		}
		if (a->password || a->cert_fp) {
			r = store_station_security_set(s->store, a->id, a->profile,
						       a->password ? hash : NULL,
						       a->cert_fp ? a->cert_cn : NULL, a->cert_fp);
			if (r < 0)
				return -EIO;
			log_notice("station %s: credential bound (first presented, profile %d)",
				   a->id, a->profile);
		} else if (s->cfg->registration != CFG_REG_OPEN) {
			/* the station row only here: a login with a credential on record (the
			 * usual one) costs one read */
			if (store_station_get(s->store, a->id, &row) < 0)
				return -EIO;
			if (row.registration == REG_ACCEPTED)
				return refuse_login(s, a, "accepted station has no credential yet",
						    true);
		}
	}
	fail_clear(s, a->id);
	if (a->peer)
		fail_clear(s, pk);
	return 0;
}

static struct station_rate *rate_get(struct svc *s, const char *id)
{
	struct station_rate *r = hmap_get(&s->rates, id);

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->call_tokens = s->cfg->call_burst;
	r->boot_tokens = s->cfg->station_boot_burst;
	r->call_ms = r->boot_ms = clock_mono_ms();
	if (hmap_put(&s->rates, r->id, r) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

bool svc_station_call_allowed(struct svc *s, const struct chg_station *st)
{
	struct station_rate *r = rate_get(s, st->id);

	return !r || bucket_take(&r->call_tokens, &r->call_ms, s->cfg->call_rate_per_s,
				 s->cfg->call_burst);
}

/* Boots per station: station_boot_burst, then one per station_boot_interval_s. */
static bool station_boot_allowed(struct svc *s, const struct chg_station *st)
{
	struct station_rate *r = rate_get(s, st->id);

	return !r || bucket_take(&r->boot_tokens, &r->boot_ms,
				 1.0 / s->cfg->station_boot_interval_s, s->cfg->station_boot_burst);
}

/* The first valid BootNotification of an unknown id: create its row with the credential it
 * presented, within registration_rate_per_s and max_pending_stations. */
static int register_candidate(struct svc *s, struct chg_station *st)
{
	struct candidate *c = hmap_get(&s->cands, st->id);
	int reg = s->cfg->registration == CFG_REG_OPEN ? REG_ACCEPTED : REG_PENDING;
	int64_t pending = 0;
	int r, profile;

	if (!c)
		return -EACCES;
	if (!bucket_take(&s->reg_tokens, &s->reg_refill_ms, s->cfg->registration_rate_per_s,
			 s->cfg->registration_rate_per_s)) {
		log_info("station %s: registration rate exceeded, answered Pending (no row)",
			 st->id);
		return -EAGAIN;
	}
	if (reg == REG_PENDING) {
		r = store_stations_count_registration(s->store, REG_PENDING, &pending);
		if (r < 0)
			return r;
		if (pending >= s->cfg->max_pending_stations) {
			log_warn(
			    "station %s: %lld stations are Pending already (max_pending_stations), "
			    "answered Pending (no row)",
			    st->id, (long long)pending);
			return -EAGAIN;
		}
	}
	r = store_station_create(s->store, st->id, reg, svc_now_ms(s));
	if (r < 0 && r != -EEXIST)
		return r;
	r = store_station_security_set(s->store, st->id, c->profile, c->hash[0] ? c->hash : NULL,
				       c->cert_fp[0] ? c->cert_cn : NULL,
				       c->cert_fp[0] ? c->cert_fp : NULL);
	if (r < 0)
		return r;
	profile = c->profile;
	free(hmap_del(&s->cands, st->id));
	st->unregistered = false;
	st->registration = reg;
	log_notice("station %s registered at its first BootNotification (%s policy, profile %d)",
		   st->id, cfg_registration_name(s->cfg->registration), profile);
	post(s, SVC_EV_STATION_ONLINE, st->id, NULL);
	if (reg == REG_PENDING)
		post(s, SVC_EV_REGISTRATION, st->id, reg_status_to_string(REG_PENDING));
	return 0;
}

/* The handshake admission of security profile 1 (kept for callers without a connection). */
int svc_station_admit(struct svc *s, const char *id, const char *password_or_null)
{
	struct svc_admit a = {
	    .id = id, .password = password_or_null, .profile = password_or_null ? 1 : 0};

	return svc_station_admit_conn(s, &a);
}
/* ---- end security */

struct chg_station *svc_station_attach(struct svc *s, const char *id, int protocol,
				       const char *protocol_name, void *conn, void **ret_replaced)
{
	struct chg_station *st = hmap_get(&s->stations, id);
	struct store_station row;

	bool unregistered = false;

	*ret_replaced = NULL;
	if (store_station_get(s->store, id, &row) < 0) {
		/* admitted under pending/open: no row until its first valid BootNotification */
		if (!hmap_get(&s->cands, id))
			return NULL;
		memset(&row, 0, sizeof(row));
		row.site_kind = -1;
		row.registration = REG_PENDING;
		unregistered = true;
	}
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
	if (!*ret_replaced)
		svc__site_link(s, id, true); /* sites: the station's history (availability) */
	snprintf(st->site_id, sizeof(st->site_id), "%s", row.site_id);
	st->site_kind = row.site_kind;
	st->registration = row.registration;
	st->protocol = protocol;
	st->conn = conn;
	st->boot_accepted = false;
	st->unregistered = unregistered;
	st->interval_s = 0;
	st->ll_policy = -1;
	memset(st->sess_hint, 0, sizeof(st->sess_hint)); /* a new connection starts cold */
	if (unregistered)
		return st;
	st->seen_ms = svc_now_ms(s);
	store_station_seen(s->store, id, true, protocol_name, st->seen_ms);
	post(s, SVC_EV_STATION_ONLINE, id, NULL);
	if (st->registration == REG_PENDING) /* waits for the operator: show it */
		post(s, SVC_EV_REGISTRATION, id, reg_status_to_string(REG_PENDING));
	return st;
}

void svc_station_detach(struct svc *s, struct chg_station *st, void *conn)
{
	if (!st || st->conn != conn)
		return; /* replaced by a newer connection, which owns the entry now */
	if (st->unregistered) {
		free(hmap_del(&s->cands, st->id));
		hmap_del(&s->stations, st->id);
		free(st);
		return;
	}
	store_station_seen(s->store, st->id, false, NULL, svc_now_ms(s));
	post(s, SVC_EV_STATION_OFFLINE, st->id, NULL);
	svc__site_link(s, st->id, false); /* sites */
	svc_power_clear(s, st->id, -1);
	hmap_del(&s->stations, st->id);
	free(st);
}

struct chg_station *svc_station_find(struct svc *s, const char *id)
{
	return hmap_get(&s->stations, id);
}

void svc_stations_each(struct svc *s, void (*fn)(struct chg_station *st, void *ud), void *ud)
{
	for (size_t i = 0; i < s->stations.cap; i++)
		if (s->stations.slots[i].key && s->stations.slots[i].value)
			fn(s->stations.slots[i].value, ud);
}

struct svc_ll_push **svc__ll_push(struct svc *s)
{
	return &s->ll_push;
}

int svc_station_set_registration(struct svc *s, const char *id, int registration)
{
	struct store_station_security sec;
	struct chg_station *st;
	int r = store_station_security_get(s->store, id, &sec);

	if (r < 0)
		return r;
	/* every accepted station has a credential (bound when it was first presented) */
	if (registration == REG_ACCEPTED && !sec.password_hash[0] && !sec.cert_fp[0] &&
	    s->cfg->registration != CFG_REG_OPEN)
		return -EPERM;
	r = store_station_set_registration(s->store, id, registration);
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
	int r;

	if (st->unregistered) {
		r = register_candidate(s, st);
		if (r == -EAGAIN || r == -EACCES) {
			/* over the registration rate or the Pending cap: no row; come back later */
			ret->status = REG_PENDING;
			ret->interval_s = st->interval_s = jittered(s->cfg->pending_interval_s);
			return 0;
		}
		if (r < 0)
			return r;
	}
	r = store_station_boot(s->store, st->id, b);
	if (r < 0)
		return r;
	st->boot_accepted = false;
	switch (st->registration) {
	case REG_ACCEPTED:
		if (!station_boot_allowed(s, st)) {
			/* boots are counted per station too: one charger does not drain the
			 * node's boot budget (boot_rate_per_s) for the others */
			ret->status = REG_PENDING;
			ret->interval_s = jittered(s->cfg->pending_interval_s);
			log_info("station %s: too many boots, answered Pending (%d s)", st->id,
				 ret->interval_s);
			break;
		}
		if (!boot_allowed(s)) {
			/* A reconnect storm: ask the charger to come back later, spread out. */
			ret->status = REG_PENDING;
			ret->interval_s = jittered(s->cfg->pending_interval_s);
			log_info("station %s: boot rate exceeded, answered Pending (%d s)", st->id,
				 ret->interval_s);
			break;
		}
		ret->status = REG_ACCEPTED;
		ret->interval_s = s->cfg->heartbeat_interval_s;
		{ /* sites: the heartbeat interval of the site's policy (rural: long) */
			struct svc_site_policy p;

			if (st->site_id[0] &&
			    svc_site_policy(s, st->site_id, st->site_kind, &p) == 0) {
				ret->interval_s = p.heartbeat_s;
				st->ll_policy = p.local_list; /* for svc__ll_station_ready */
			}
		}
		st->boot_accepted = true;
		if (s->plan_hooks.booted)
			s->plan_hooks.booted(s, st);
		break;
	case REG_PENDING:
		ret->status = REG_PENDING;
		ret->interval_s = s->cfg->pending_interval_s;
		break;
	default:
		ret->status = REG_REJECTED;
		ret->interval_s = s->cfg->pending_interval_s;
		break;
	}
	st->interval_s = ret->interval_s;
	return 0;
}

/* A connected station's last_seen is written at most this often by its heartbeats (and at
 * connect and disconnect): at a city's 165,000 chargers and 300 s heartbeats, a write per
 * heartbeat was 550 row updates a second (docs/scaling.md). */
#define SEEN_WRITE_MS (15 * 60 * 1000)

int svc_heartbeat(struct svc *s, struct chg_station *st)
{
	int64_t now = svc_now_ms(s);

	svc__ll_station_ready(s, st); /* sites: check the local list once per connection */
	if (st->seen_ms && now >= st->seen_ms && now - st->seen_ms < SEEN_WRITE_MS)
		return 0;
	st->seen_ms = now;
	return store_station_seen(s->store, st->id, true, NULL, now);
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
		struct svc_event ev = {
		    .kind = SVC_EV_CONNECTOR, .evse_id = evse_id, .connector_id = connector_id};

		snprintf(ev.station, sizeof(ev.station), "%s", st->id);
		snprintf(ev.status, sizeof(ev.status), "%s", status ? status : "");
		if (error_code)
			snprintf(ev.detail, sizeof(ev.detail), "%s", error_code);
		svc_event_post(s, &ev);
		/* sites: the status history (availability) and the local list check */
		svc__site_status(s, st->id, evse_id, connector_id, status, ts_ms);
		svc__ll_station_ready(s, st);
	}
	return r;
}

int svc_station_event(struct svc *s, struct chg_station *st, int kind, const char *status)
{
	return store_station_event(s->store, st->id, kind, status, svc_now_ms(s));
}

int svc_authorize(struct svc *s, const struct chg_station *st, const char *token,
		  struct svc_auth *ret)
{
	struct store_token t;
	int r = store_token_get(s->store, token, &t);

	*ret = (struct svc_auth){.status = AUTH_INVALID};
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

/* ---- issue 10: meter readings that cannot be right (docs/wire.md, "Meter readings") */

/* An energy register counts up from zero: a negative one is refused before anything is
 * stored (-EDOM; the adapters answer PropertyConstraintViolation). */
static bool energy_register(int kind)
{
	return kind == MEAS_ENERGY_IMPORT_REGISTER || kind == MEAS_ENERGY_EXPORT_REGISTER;
}

static bool negative_value(const char *value)
{
	char *end;
	double v = strtod(value, &end);

	return end != value && v < 0;
}

/* A reading the station sent that is kept (it was acknowledged) but cannot be billed as is:
 * logged and recorded in the station's history as a notice of kind "meter_anomaly". */
static int meter_anomaly(struct svc *s, const struct chg_station *st, int64_t session_id,
			 const char *what, int64_t before_wh, int64_t after_wh, int64_t ts_ms)
{
	char detail[192];

	log_warn("station %s: session %lld: %s (%lld Wh, then %lld Wh): kept, flagged "
		 "meter_anomaly",
		 st->id, (long long)session_id, what, (long long)before_wh, (long long)after_wh);
	snprintf(detail, sizeof(detail),
		 "{\"session_id\":%lld,\"anomaly\":\"%s\",\"before_wh\":%lld,\"after_wh\":%lld}",
		 (long long)session_id, what, (long long)before_wh, (long long)after_wh);
	return store_notice_add(s->store, st->id, "meter_anomaly", ts_ms, detail);
}

static int stop_row(const struct store_session_row *row, void *ud)
{
	struct store_session_row *out = ud;

	out->has_meter_start = row->has_meter_start;
	out->meter_start_wh = row->meter_start_wh;
	out->stopped = row->stopped;
	out->meter_stop_wh = row->meter_stop_wh;
	return 0;
}

/* After a close: a stop register below the start register (OCPP 1.6 meterStop < meterStart,
 * or a 2.0.1 Transaction.End reading below Transaction.Begin) is stored as sent and flagged. */
static int check_stop(struct svc *s, const struct chg_station *st, int64_t session_id,
		      int64_t ts_ms)
{
	struct store_session_row row = {.id = 0};
	int r = store_session_get(s->store, session_id, stop_row, &row);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (row.stopped && row.has_meter_start && row.meter_stop_wh < row.meter_start_wh)
		return meter_anomaly(s, st, session_id, "stop before start", row.meter_start_wh,
				     row.meter_stop_wh, ts_ms);
	return 0;
}
/* ---- end issue 10 */

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

/* ---- session cache (issue 12: CPU per MeterValues)
 * A 1.6 MeterValues names its session by the CSMS's id, and the id was looked up in the store
 * each time only to learn that the session is this station's and its EVSE, which never change
 * for a session (rows are never deleted, their station and a 1.6 session's EVSE never
 * rewritten). So the station's connection remembers the last CHG_SESSION_HINTS sessions found
 * its own and an update naming one of them skips the lookup. What could make a hint wrong is a
 * session row that goes away: a group that did not commit (on SQLite a rolled-back session's
 * id is handed out again, to any station). svc hears of every such group through
 * svc_session_hints_forget() (the group commit's release with committed false), which makes
 * every hint of every station stale at once. Hints are also dropped when the station opens or
 * closes a session, and start empty on each connection. */
static struct chg_session_hint *session_hint(struct svc *s, struct chg_station *st, int64_t id)
{
	for (size_t i = 0; id > 0 && i < CHG_SESSION_HINTS; i++)
		if (st->sess_hint[i].id == id && st->sess_hint[i].gen == s->sess_gen)
			return &st->sess_hint[i];
	return NULL;
}

static void session_hint_put(struct svc *s, struct chg_station *st, int64_t id, int evse_id)
{
	size_t i = 0;

	while (i + 1 < CHG_SESSION_HINTS && st->sess_hint[i].id &&
	       st->sess_hint[i].gen == s->sess_gen)
		i++;
	if (st->sess_hint[i].id && st->sess_hint[i].gen == s->sess_gen) /* full: the oldest goes */
		memmove(&st->sess_hint[0], &st->sess_hint[1],
			(CHG_SESSION_HINTS - 1) * sizeof(st->sess_hint[0]));
	st->sess_hint[i] =
	    (struct chg_session_hint){.id = id, .evse_id = evse_id, .gen = s->sess_gen};
}

void svc_session_hints_forget(struct svc *s)
{
	s->sess_gen++;
}

uint64_t svc_session_hint_hits(const struct svc *s)
{
	return s->sess_hint_hits;
}
/* ---- end session cache */

/* Update or close keyed by the CSMS id: only the owning station's session changes. */
static int event_by_csms(struct svc *s, struct chg_station *st, int kind,
			 const struct svc_session_event *ev, struct svc_session_result *ret)
{
	struct chg_session_hint *h =
	    kind == SESSION_UPDATE ? session_hint(s, st, ev->session_id) : NULL;
	struct store_session_state ss;
	int r;

	if (h) { /* this station's session, found before on this connection */
		s->sess_hint_hits++;
		ret->session_id = h->id;
		ret->evse_id = h->evse_id;
		return ev->has_energy
			   ? store_session_meter_last(s->store, h->id, ev->energy_wh, ev->ts_ms)
			   : 0;
	}
	r = ev->session_id > 0 ? store_session_state(s->store, ev->session_id, &ss) : -ENOENT;

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
			log_warn(
			    "station %s: update of session %lld it does not own; readings kept "
			    "unlinked",
			    st->id, (long long)ev->session_id);
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
	if (kind == SESSION_UPDATE)
		session_hint_put(s, st, ss.id, ss.evse_id);
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
	r = store_session_close(s->store, ss.id,
				&(struct store_session_close){
				    .stop_ms = ev->ts_ms,
				    .meter_stop_wh = ev->has_energy	 ? ev->energy_wh
						     : ss.has_meter_last ? ss.meter_last_wh
									 : 0,
				    .reason = ev->stop_reason_text,
				    .id_tag = ev->id_token,
				});
	return r < 0 ? r : check_stop(s, st, ss.id, ev->ts_ms);
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
		tx = (struct store_session_state){.id = tx.id,
						  .active = true,
						  .start_ms = ev->ts_ms,
						  .evse_id = row.evse_id,
						  .has_meter_start = row.has_meter_start,
						  .has_token = ev->id_token != NULL};
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
			ret->replay =
			    true; /* OCPP 2.0.1 E01: a retried event is not applied twice */
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
		/* issue 10: a later reading of the register below an earlier one */
		if (tx.has_meter_last && ev->ts_ms >= tx.meter_last_ms &&
		    ev->energy_wh < tx.meter_last_wh) {
			r = meter_anomaly(s, st, tx.id, "register went backwards", tx.meter_last_wh,
					  ev->energy_wh, ev->ts_ms);
			if (r < 0)
				return r;
		}
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
		    .meter_stop_wh = ev->has_energy	 ? ev->energy_wh
				     : tx.has_meter_last ? tx.meter_last_wh
							 : 0,
		    .reason = ev->stop_reason_text,
		    .id_tag = ev->id_token,
		};

		r = store_session_close(s->store, tx.id, &stop);
		if (r < 0)
			return r;
		r = check_stop(s, st, tx.id, ev->ts_ms);
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
	struct svc_session_result res = {.session_id = 0};
	int r;

	if (!ids_in_range(s, ev->evse_id, ev->connector_id))
		return -ERANGE;
	if (ev->has_energy && ev->energy_wh < 0) /* issue 10: before anything is stored */
		return -EDOM;
	if (kind != SESSION_UPDATE) /* session cache: a start or a stop drops the hints */
		memset(st->sess_hint, 0, sizeof(st->sess_hint));
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
		if (s->plan_hooks.touch) /* a session came or went: replan its site */
			s->plan_hooks.touch(s, st->site_id);
	if (res.session_id && !res.replay && ev->has_reservation) /* sites: the reservation used */
		svc__resv_used(s, st->id, ev->reservation_id, res.session_id);
	*ret = res;
	if (res.session_id && !res.replay && (kind == SESSION_OPEN || kind == SESSION_CLOSE)) {
		struct svc_event e = {.kind = kind == SESSION_OPEN ? SVC_EV_SESSION_STARTED
								   : SVC_EV_SESSION_STOPPED,
				      .session_id = res.session_id,
				      .evse_id = res.evse_id,
				      .energy_wh = -1};

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

/* What svc refuses before anything is stored (the contract of svc_sample_add). */
static int sample_check(const struct svc *s, const struct store_sample *row)
{
	if (!row->measurand || !row->value)
		return -EINVAL;
	if (row->evse_id < 0 || row->evse_id > s->cfg->max_connectors)
		return -ERANGE;
	if (energy_register(row->measurand_kind) && negative_value(row->value))
		return -EDOM; /* issue 10 */
	return 0;
}

/* What follows the store's answer r (1 new, 0 key taken with value stored) for row. */
static int sample_stored(struct svc *s, const struct chg_station *st,
			 const struct store_sample *row, int r, const char *stored)
{
	if (r > 0) {
		if (s->plan_hooks.sample)
			s->plan_hooks.sample(s, row);
		/* the station's total import power (no phase) feeds the live network power */
		if (row->measurand_kind == MEAS_POWER_IMPORT && (!row->phase || !*row->phase)) {
			char *end;
			double w = strtod(row->value, &end);

			if (end != row->value && !*end)
				svc_power_reading(
				    s, st->id, row->evse_id,
				    row->unit && strcmp(row->unit, "kW") == 0 ? w * 1000 : w,
				    row->ts_ms);
		}
		return SVC_SAMPLE_STORED;
	}
	if (same_value(stored, row->value))
		return SVC_SAMPLE_DUPLICATE;
	/* The same key with another value: not a retry. The first reading stays (what was
	 * acknowledged first is what was billed); the other one is kept beside it. */
	r = store_sample_conflict_add(s->store, &(struct store_sample_conflict){
						    .sample = row,
						    .stored_value = stored,
						    .received_ms = svc_now_ms(s),
						});
	if (r < 0)
		return r;
	log_warn("station %s: reading %s of EVSE %d at %lld came again as %s (kept %s): conflict",
		 st->id, row->measurand, row->evse_id, (long long)row->ts_ms, row->value, stored);
	return SVC_SAMPLE_CONFLICT;
}

int svc_sample_add(struct svc *s, const struct chg_station *st, const struct store_sample *in)
{
	struct store_sample row = *in;
	char stored[SVC_SAMPLE_VALUE_MAX];
	int r;

	row.station_id = st->id;
	r = sample_check(s, &row);
	if (r < 0)
		return r;
	r = store_sample_add(s->store, &row, stored, sizeof(stored));
	if (r < 0)
		return r;
	return sample_stored(s, st, &row, r, stored);
}

/* Batches up to this size use the stack for the kept values. */
#define SAMPLES_LOCAL 16

int svc_samples_add(struct svc *s, const struct chg_station *st, struct store_sample *in, size_t n,
		    int *ret)
{
	char local[SAMPLES_LOCAL][SVC_SAMPLE_VALUE_MAX], *stored = &local[0][0];
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		in[i].station_id = st->id;
		r = sample_check(s, &in[i]);
		if (r < 0)
			return r; /* nothing stored */
	}
	if (!n)
		return 0;
	if (n > SAMPLES_LOCAL) {
		stored = malloc(n * SVC_SAMPLE_VALUE_MAX);
		if (!stored)
			return -ENOMEM;
	}
	r = store_samples_add(s->store, in, n, ret, stored, SVC_SAMPLE_VALUE_MAX);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (ret[i] < 0) { /* checked above: the store refused what svc let through */
			r = ret[i];
			break;
		}
		ret[i] = sample_stored(s, st, &in[i], ret[i], stored + i * SVC_SAMPLE_VALUE_MAX);
		if (ret[i] < 0)
			r = ret[i];
	}
	if (stored != &local[0][0])
		free(stored);
	return r < 0 ? r : 0;
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
