/* SPDX-License-Identifier: MIT */
/* Unit tests of the domain (svc): admission, attach/replace, boot, authorization, transactions.
 * A real store on :memory:, a cfg from cfg_init and a fixed clock the tests move by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "adapter.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/pwhash.h"
#include "store/store.h"
#include "ocpp16/v16.h"
#include "svc/events.h"
#include "svc/svc.h"

#define T0	 1795000000000LL /* 2026-11-19, ms */
#define PW	 "charger-password-0001"
#define KDF_ITER 1000

struct fx {
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	int conn_a, conn_b; /* their addresses stand for transport connections */
};

/* Build the fixture with cfg adjusted by tweak (before svc_create reads it). */
static int fx_create(void **state, void (*tweak)(struct cfg *c))
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->cfg.kdf_iterations = KDF_ITER; /* the imports' count: no upgrade of their hashes */
	if (tweak)
		tweak(&f->cfg);
	f->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	f->store = store_open(":memory:", false, err, sizeof(err));
	if (!f->store) {
		print_error("store_open: %s\n", err);
		cfg_free(&f->cfg);
		free(f);
		return -1;
	}
	f->svc = svc_create(f->store, &f->clock, &f->cfg);
	if (!f->svc) {
		store_close(f->store);
		cfg_free(&f->cfg);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_create(state, NULL);
}

static void tweak_pending(struct cfg *c)
{
	c->registration = CFG_REG_PENDING;
}

static void tweak_open(struct cfg *c)
{
	c->registration = CFG_REG_OPEN;
}

static void tweak_boot_rate(struct cfg *c)
{
	c->boot_rate_per_s = 3;
	c->pending_interval_s = 10;
	c->heartbeat_interval_s = 123;
}

static int fx_setup_pending(void **state)
{
	return fx_create(state, tweak_pending);
}

static int fx_setup_open(void **state)
{
	return fx_create(state, tweak_open);
}

static int fx_setup_boot_rate(void **state)
{
	return fx_create(state, tweak_boot_rate);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	svc_destroy(f->svc);
	store_close(f->store);
	cfg_free(&f->cfg);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ helpers */

static void put_site(struct fx *f, const char *id, int kind)
{
	assert_int_equal(store_site_put(f->store, id, kind, T0), 0);
}

/* A station provisioned by import: site and password hash, registration Accepted. */
static void import_station(struct fx *f, const char *id, const char *site, const char *password)
{
	char hash[PWHASH_MAX];

	if (password)
		assert_int_equal(pwhash_create(password, KDF_ITER, hash, sizeof(hash)), 0);
	assert_int_equal(store_station_put(f->store, id, site, password ? hash : NULL, T0), 0);
}

static struct chg_station *attach(struct fx *f, const char *id, void *conn)
{
	void *replaced = (void *)1;
	struct chg_station *st = svc_station_attach(f->svc, id, 0, "ocpp1.6", conn, &replaced);

	assert_non_null(st);
	assert_null(replaced);
	return st;
}

static void put_token(struct fx *f, const char *token, int status, int64_t expiry_ms,
		      const char *parent, const char *site)
{
	struct store_token t = {.status = status, .expiry_ms = expiry_ms};

	snprintf(t.token, sizeof(t.token), "%s", token);
	snprintf(t.parent, sizeof(t.parent), "%s", parent ? parent : "");
	snprintf(t.site_id, sizeof(t.site_id), "%s", site ? site : "");
	assert_int_equal(store_token_put(f->store, &t), 0);
}

static int auth_status(struct fx *f, const struct chg_station *st, const char *token)
{
	struct svc_auth a;

	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(svc_authorize(f->svc, st, token, &a), 0);
	return a.status;
}

/* ------------------------------------------------------------------ admission */

static void test_admit_closed_unknown_refused(void **state)
{
	struct fx *f = *state;
	struct store_station row;

	/* issue 10: the same answer as a wrong password */
	assert_int_equal(svc_station_admit(f->svc, "CP-NEW", NULL), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-NEW", "whatever"), -EACCES);
	/* nothing was created on the way */
	assert_int_equal(store_station_get(f->store, "CP-NEW", &row), -ENOENT);
}

/* issue 10: under pending/open an unknown id is admitted, but its row is only created at its
 * first valid BootNotification (with the credential it presented) */
static void test_admit_pending_creates_pending(void **state)
{
	struct fx *f = *state;
	struct store_station row;
	struct chg_station *st;

	assert_int_equal(svc_station_admit(f->svc, "CP-NEW", NULL), 0);
	assert_int_equal(store_station_get(f->store, "CP-NEW", &row), -ENOENT);
	assert_int_equal(svc_station_admit(f->svc, "CP-NEW", NULL), 0);
	st = attach(f, "CP-NEW", &f->conn_a);
	assert_int_equal(st->registration, REG_PENDING);
	assert_true(st->unregistered);
	assert_int_equal(store_station_get(f->store, "CP-NEW", &row), -ENOENT);
}

static void test_admit_open_creates_accepted(void **state)
{
	struct fx *f = *state;
	struct store_station row;

	assert_int_equal(svc_station_admit(f->svc, "CP-NEW", "pw"), 0);
	assert_int_equal(store_station_get(f->store, "CP-NEW", &row), -ENOENT);
}

static void test_admit_imported_password(void **state)
{
	struct fx *f = *state;

	put_site(f, "S-1", SITE_PUBLIC);
	import_station(f, "CP-1", "S-1", PW);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", PW), 0);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "charger-password-0002"), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", ""), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", NULL), -EACCES);
	/* the password of another station does not open this one */
	import_station(f, "CP-2", "S-1", "another-password-000");
	assert_int_equal(svc_station_admit(f->svc, "CP-2", PW), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-2", "another-password-000"), 0);
}

static void test_admit_imported_password_under_open_policy(void **state)
{
	struct fx *f = *state;

	/* an open policy admits unknown chargers, not known ones with a wrong password */
	import_station(f, "CP-1", NULL, PW);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "wrong-password-00000"), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", NULL), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", PW), 0);
}

static void test_admit_cache_still_rejects_wrong_password(void **state)
{
	struct fx *f = *state;

	import_station(f, "CP-1", NULL, PW);
	/* wrong first, then right, then wrong again, many times: the cache never admits a
	 * password it did not verify */
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "x"), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", PW), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(svc_station_admit(f->svc, "CP-1", PW), 0);
		assert_int_equal(svc_station_admit(f->svc, "CP-1", "x"), -EACCES);
		assert_int_equal(svc_station_admit(f->svc, "CP-1", PW "x"), -EACCES);
		assert_int_equal(svc_station_admit(f->svc, "CP-1", NULL), -EACCES);
		assert_int_equal(svc_station_admit(f->svc, "CP-1", ""), -EACCES);
	}
	/* a password cached for one station does not open another with the same hash input */
	import_station(f, "CP-2", NULL, "second-password-0000");
	assert_int_equal(svc_station_admit(f->svc, "CP-2", PW), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", PW), 0);
}

/* `csms stations import` over an existing charger rotates its password: the old one stops
 * working at once, even though it was verified (and cached) before. */
static void test_admit_password_rotation_revokes_old(void **state)
{
	struct fx *f = *state;

	import_station(f, "CP-1", NULL, "old-password-0000000");
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "old-password-0000000"), 0);
	import_station(f, "CP-1", NULL, "new-password-0000000");
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "old-password-0000000"), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "new-password-0000000"), 0);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "old-password-0000000"), -EACCES);
	/* and rotating back restores the old one */
	import_station(f, "CP-1", NULL, "old-password-0000000");
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "new-password-0000000"), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", "old-password-0000000"), 0);
}

static void test_admit_station_without_password(void **state)
{
	struct fx *f = *state;
	struct store_station_security sec;

	/* auto-registered earlier without a credential and still Pending: admitted (it may only
	 * boot); the first credential presented is bound, and from then on required */
	assert_int_equal(store_station_create(f->store, "CP-AUTO", REG_PENDING, T0), 0);
	assert_int_equal(svc_station_admit(f->svc, "CP-AUTO", NULL), 0);
	assert_int_equal(svc_station_admit(f->svc, "CP-AUTO", "first-password-00000"), 0);
	assert_int_equal(store_station_security_get(f->store, "CP-AUTO", &sec), 0);
	assert_int_equal(sec.profile, 1);
	assert_true(sec.password_hash[0] != '\0');
	assert_int_equal(svc_station_admit(f->svc, "CP-AUTO", "anything"), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-AUTO", NULL), -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-AUTO", "first-password-00000"), 0);
	/* acceptance needs a credential: CP-BARE has none */
	assert_int_equal(store_station_create(f->store, "CP-BARE", REG_PENDING, T0), 0);
	assert_int_equal(svc_station_set_registration(f->svc, "CP-BARE", REG_ACCEPTED), -EPERM);
	assert_int_equal(svc_station_set_registration(f->svc, "CP-AUTO", REG_ACCEPTED), 0);
}

/* an Accepted station without a credential (made so by the store, not through svc) is not let
 * in without one (any registration policy but open), and its first credential is not bound either: the login
 * reads the station row only on this path (the usual login has a credential on record) */
static void test_admit_accepted_without_credential(void **state)
{
	struct fx *f = *state;
	struct store_station_security sec;

	assert_int_equal(store_station_create(f->store, "CP-ACC", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(svc_station_admit(f->svc, "CP-ACC", NULL), -EACCES);
	assert_int_equal(store_station_security_get(f->store, "CP-ACC", &sec), 0);
	assert_string_equal(sec.password_hash, "");
	/* a Pending one without a credential is let in (it may only boot) */
	assert_int_equal(store_station_create(f->store, "CP-PEN", REG_PENDING, T0), 0);
	assert_int_equal(svc_station_admit(f->svc, "CP-PEN", NULL), 0);
}

/* a connected station's heartbeats write its last_seen at most every 15 minutes: the answer
 * of one in between waits for no write */
static void test_heartbeat_seen_writes(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;

	import_station(f, "CP-HB", NULL, PW);
	st = attach(f, "CP-HB", &f->conn_a);
	assert_non_null(st);
	assert_true(store_dirty(f->store)); /* connected: online, last_seen */
	assert_int_equal(store_commit(f->store), 0);
	f->clock.fixed_ms = T0 + 300000;
	assert_int_equal(svc_heartbeat(f->svc, st), 0);
	assert_false(store_dirty(f->store));
	f->clock.fixed_ms = T0 + 15 * 60000 - 1;
	assert_int_equal(svc_heartbeat(f->svc, st), 0);
	assert_false(store_dirty(f->store));
	f->clock.fixed_ms = T0 + 15 * 60000;
	assert_int_equal(svc_heartbeat(f->svc, st), 0);
	assert_true(store_dirty(f->store));
	assert_int_equal(store_commit(f->store), 0);
	f->clock.fixed_ms = T0 + 20 * 60000;
	assert_int_equal(svc_heartbeat(f->svc, st), 0);
	assert_false(store_dirty(f->store));
}

/* a login verified against a hash of fewer iterations than kdf_iterations stores a new hash
 * of the configured count: at once without a->kdf, as one more deferred KDF (SVC_KDF_CREATE)
 * with it; a wrong password changes nothing */
static void test_admit_upgrades_weak_hash(void **state)
{
	struct fx *f = *state;
	struct store_station_security sec;
	struct svc_kdf kdf = {0};
	struct svc_admit a = {.id = "CP-WEAK-2", .password = PW, .profile = 1, .kdf = &kdf};
	char weak[PWHASH_MAX];

	f->cfg.kdf_iterations = 2 * KDF_ITER;
	import_station(f, "CP-WEAK-1", NULL, PW);
	import_station(f, "CP-WEAK-2", NULL, PW);
	assert_int_equal(store_station_security_get(f->store, "CP-WEAK-1", &sec), 0);
	snprintf(weak, sizeof(weak), "%s", sec.password_hash);
	assert_int_equal(svc_station_admit(f->svc, "CP-WEAK-1", "wrong-password-00000"), -EACCES);
	assert_int_equal(store_station_security_get(f->store, "CP-WEAK-1", &sec), 0);
	assert_string_equal(sec.password_hash, weak);
	assert_int_equal(svc_station_admit(f->svc, "CP-WEAK-1", PW), 0);
	assert_int_equal(store_station_security_get(f->store, "CP-WEAK-1", &sec), 0);
	assert_non_null(strstr(sec.password_hash, "pbkdf2-sha256$2000$"));
	assert_true(pwhash_verify(PW, sec.password_hash));
	assert_int_equal(svc_station_admit(f->svc, "CP-WEAK-1", PW), 0); /* upgraded once */
	assert_int_equal(store_station_security_get(f->store, "CP-WEAK-1", &sec), 0);
	assert_non_null(strstr(sec.password_hash, "pbkdf2-sha256$2000$"));

	/* the transport's way: verify, then create, each run off the loop */
	assert_int_equal(svc_station_admit_conn(f->svc, &a), -EINPROGRESS);
	assert_int_equal(kdf.kind, SVC_KDF_VERIFY);
	svc_kdf_run(&kdf, a.password);
	assert_int_equal(svc_station_admit_conn(f->svc, &a), -EINPROGRESS);
	assert_int_equal(kdf.kind, SVC_KDF_CREATE);
	assert_int_equal(kdf.iterations, 2 * KDF_ITER);
	assert_int_equal(store_station_security_get(f->store, "CP-WEAK-2", &sec), 0);
	assert_non_null(strstr(sec.password_hash, "pbkdf2-sha256$1000$")); /* not yet */
	svc_kdf_run(&kdf, a.password);
	assert_int_equal(svc_station_admit_conn(f->svc, &a), 0);
	assert_int_equal(store_station_security_get(f->store, "CP-WEAK-2", &sec), 0);
	assert_non_null(strstr(sec.password_hash, "pbkdf2-sha256$2000$"));
	assert_true(pwhash_verify(PW, sec.password_hash));
	/* the next login: no KDF (the digest is remembered against the new hash) */
	kdf = (struct svc_kdf){0};
	assert_int_equal(svc_station_admit_conn(f->svc, &a), 0);
}

/* failed logins back off per id: past auth_fail_free in a row even the right password is
 * refused for a while (no KDF runs) */
static void test_admit_backoff(void **state)
{
	struct fx *f = *state;

	import_station(f, "CP-1", NULL, PW);
	for (int i = 0; i < f->cfg.auth_fail_free; i++)
		assert_int_equal(svc_station_admit(f->svc, "CP-1", "wrong-password-00000"),
				 -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", PW), 0); /* still free: resets */
	for (int i = 0; i <= f->cfg.auth_fail_free; i++)
		assert_int_equal(svc_station_admit(f->svc, "CP-1", "wrong-password-00000"),
				 -EACCES);
	assert_int_equal(svc_station_admit(f->svc, "CP-1", PW), -EACCES); /* backing off */
}

/* ------------------------------------------------------------------ attach / detach */

struct online_probe {
	bool online;
	char protocol[16];
};

static int probe_station(const struct store_station_row *row, void *ud)
{
	struct online_probe *p = ud;

	p->online = row->online;
	snprintf(p->protocol, sizeof(p->protocol), "%s", row->protocol ? row->protocol : "");
	return 0;
}

static bool station_online(struct fx *f, const char *id)
{
	struct online_probe p = {.online = false};

	assert_int_equal(store_stations_list(f->store, id, 1, 0, probe_station, &p), 1);
	return p.online;
}

static void test_attach_replace_detach(void **state)
{
	struct fx *f = *state;
	struct chg_station *st, *st2;
	void *replaced = NULL;

	import_station(f, "CP-1", NULL, NULL);
	assert_null(svc_station_find(f->svc, "CP-1"));
	assert_int_equal(svc_connected(f->svc), 0);

	st = attach(f, "CP-1", &f->conn_a);
	assert_string_equal(st->id, "CP-1");
	assert_ptr_equal(st->conn, &f->conn_a);
	assert_int_equal(st->registration, REG_ACCEPTED);
	assert_false(st->boot_accepted);
	assert_ptr_equal(svc_station_find(f->svc, "CP-1"), st);
	assert_int_equal(svc_connected(f->svc), 1);
	assert_true(station_online(f, "CP-1"));

	/* a second connection for the same id: the old one is handed back to be closed */
	st2 = svc_station_attach(f->svc, "CP-1", 0, "ocpp1.6", &f->conn_b, &replaced);
	assert_non_null(st2);
	assert_ptr_equal(replaced, &f->conn_a);
	assert_ptr_equal(st2->conn, &f->conn_b);
	assert_ptr_equal(svc_station_find(f->svc, "CP-1"), st2);
	assert_int_equal(svc_connected(f->svc), 1);

	/* the replaced connection closes: a no-op, the station stays with the new one */
	svc_station_detach(f->svc, st2, &f->conn_a);
	assert_ptr_equal(svc_station_find(f->svc, "CP-1"), st2);
	assert_ptr_equal(st2->conn, &f->conn_b);
	assert_int_equal(svc_connected(f->svc), 1);
	assert_true(station_online(f, "CP-1"));

	/* the new one closes: the station leaves and is offline */
	svc_station_detach(f->svc, st2, &f->conn_b);
	assert_null(svc_station_find(f->svc, "CP-1"));
	assert_int_equal(svc_connected(f->svc), 0);
	assert_false(station_online(f, "CP-1"));

	/* and can come back */
	st = attach(f, "CP-1", &f->conn_a);
	assert_ptr_equal(svc_station_find(f->svc, "CP-1"), st);
	svc_station_detach(f->svc, st, &f->conn_a);
	svc_station_detach(f->svc, NULL, &f->conn_a); /* NULL-safe */
}

static void test_attach_same_conn_twice_is_no_replace(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	assert_ptr_equal(attach(f, "CP-1", &f->conn_a), st);
	assert_int_equal(svc_connected(f->svc), 1);
}

static void test_attach_unknown_station_fails(void **state)
{
	struct fx *f = *state;
	void *replaced = (void *)1;

	assert_null(svc_station_attach(f->svc, "CP-NONE", 0, "ocpp1.6", &f->conn_a, &replaced));
	assert_null(replaced);
	assert_int_equal(svc_connected(f->svc), 0);
}

static void test_attach_loads_site_and_protocol(void **state)
{
	struct fx *f = *state;
	struct online_probe p = {.online = false};
	struct chg_station *st;

	put_site(f, "S-HOME", SITE_RESIDENTIAL);
	import_station(f, "CP-1", "S-HOME", NULL);
	st = svc_station_attach(f->svc, "CP-1", 1, "ocpp2.0.1", &f->conn_a, &(void *){NULL});
	assert_non_null(st);
	assert_string_equal(st->site_id, "S-HOME");
	assert_int_equal(st->site_kind, SITE_RESIDENTIAL);
	assert_int_equal(st->protocol, 1);
	assert_int_equal(store_stations_list(f->store, "CP-1", 1, 0, probe_station, &p), 1);
	assert_string_equal(p.protocol, "ocpp2.0.1");
}

static void test_set_registration_updates_connected(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct store_station row;

	assert_int_equal(svc_station_set_registration(f->svc, "CP-NONE", REG_ACCEPTED), -ENOENT);
	assert_int_equal(store_station_create(f->store, "CP-1", REG_PENDING, T0), 0);
	/* issue 10: only a station with a credential can be accepted */
	assert_int_equal(
	    store_station_security_set(f->store, "CP-1", 1, "pbkdf2-sha256$1$x$y", NULL, NULL), 0);
	st = attach(f, "CP-1", &f->conn_a);
	assert_int_equal(st->registration, REG_PENDING);
	assert_int_equal(svc_station_set_registration(f->svc, "CP-1", REG_ACCEPTED), 0);
	assert_int_equal(st->registration, REG_ACCEPTED);
	assert_int_equal(store_station_get(f->store, "CP-1", &row), 0);
	assert_int_equal(row.registration, REG_ACCEPTED);
}

/* ------------------------------------------------------------------ boot */

static struct svc_boot_result boot(struct fx *f, struct chg_station *st)
{
	struct store_boot b = {
	    .protocol = "ocpp1.6", .vendor = "ACME", .model = "M1", .now_ms = svc_now_ms(f->svc)};
	struct svc_boot_result res = {.status = -1, .interval_s = -1};

	assert_int_equal(svc_boot(f->svc, st, &b, &res), 0);
	return res;
}

static void test_boot_accepted_pending_rejected(void **state)
{
	struct fx *f = *state;
	struct chg_station *a, *p, *r;
	struct svc_boot_result res;

	assert_int_equal(store_station_create(f->store, "CP-A", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_create(f->store, "CP-P", REG_PENDING, T0), 0);
	assert_int_equal(store_station_create(f->store, "CP-R", REG_REJECTED, T0), 0);
	a = attach(f, "CP-A", &f->conn_a);
	p = attach(f, "CP-P", &f->conn_a);
	r = attach(f, "CP-R", &f->conn_a);

	res = boot(f, a);
	assert_int_equal(res.status, REG_ACCEPTED);
	assert_int_equal(res.interval_s, f->cfg.heartbeat_interval_s);
	assert_true(a->boot_accepted);

	res = boot(f, p);
	assert_int_equal(res.status, REG_PENDING);
	assert_int_equal(res.interval_s, f->cfg.pending_interval_s);
	assert_false(p->boot_accepted);

	res = boot(f, r);
	assert_int_equal(res.status, REG_REJECTED);
	assert_true(res.interval_s > 0);
	assert_false(r->boot_accepted);

	/* the operator accepts the pending one (it has a credential): its next boot is Accepted */
	assert_int_equal(
	    store_station_security_set(f->store, "CP-P", 1, "pbkdf2-sha256$1$x$y", NULL, NULL), 0);
	assert_int_equal(svc_station_set_registration(f->svc, "CP-P", REG_ACCEPTED), 0);
	res = boot(f, p);
	assert_int_equal(res.status, REG_ACCEPTED);
	assert_true(p->boot_accepted);
	/* and rejecting an accepted one makes its next boot Rejected */
	assert_int_equal(svc_station_set_registration(f->svc, "CP-A", REG_REJECTED), 0);
	res = boot(f, a);
	assert_int_equal(res.status, REG_REJECTED);
	assert_false(a->boot_accepted);
}

static void test_boot_rate_pending_with_jitter(void **state)
{
	struct fx *f = *state;
	struct chg_station *st, *st2;
	struct svc_boot_result res;
	int pending = f->cfg.pending_interval_s, first = -1;
	bool varied = false;

	assert_int_equal(store_station_create(f->store, "CP-1", REG_ACCEPTED, T0), 0);
	st = attach(f, "CP-1", &f->conn_a);
	for (int i = 0; i < 3; i++) {
		res = boot(f, st);
		assert_int_equal(res.status, REG_ACCEPTED);
		assert_int_equal(res.interval_s, 123);
	}
	/* the 4th immediate boot is over 3/s: Pending, come back in [pending, 2 * pending] */
	res = boot(f, st);
	assert_int_equal(res.status, REG_PENDING);
	assert_false(st->boot_accepted);
	assert_true(res.interval_s >= pending && res.interval_s <= 2 * pending);
	/* a storm gets spread out: the intervals are not all the same */
	for (int i = 0; i < 60; i++) {
		res = boot(f, st);
		assert_int_equal(res.status, REG_PENDING);
		assert_true(res.interval_s >= pending && res.interval_s <= 2 * pending);
		if (first < 0)
			first = res.interval_s;
		varied = varied || res.interval_s != first;
	}
	assert_true(varied);
	/* a Pending station is not paced: it gets the plain pending interval */
	/* after a third of a second the bucket holds a token again */
	nanosleep(&(struct timespec){.tv_nsec = 400 * 1000 * 1000}, NULL);
	/* issue 10: boots are counted per station too: CP-1 spent its own budget
	 * (station_boot_burst), another station gets the node's token */
	assert_int_equal(store_station_create(f->store, "CP-2", REG_ACCEPTED, T0), 0);
	st2 = attach(f, "CP-2", &f->conn_b);
	res = boot(f, st2);
	assert_int_equal(res.status, REG_ACCEPTED);
	assert_true(st2->boot_accepted);
	res = boot(f, st);
	assert_int_equal(res.status, REG_PENDING);
}

/* ------------------------------------------------------------------ authorize */

static void test_authorize_statuses(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct svc_auth a;

	put_site(f, "S-PUB", SITE_PUBLIC);
	import_station(f, "CP-1", "S-PUB", NULL);
	st = attach(f, "CP-1", &f->conn_a);

	put_token(f, "OK", AUTH_ACCEPTED, 0, NULL, NULL);
	put_token(f, "BLOCKED", AUTH_BLOCKED, 0, NULL, NULL);
	put_token(f, "EXPIRED-STORED", AUTH_EXPIRED, 0, NULL, NULL);
	put_token(f, "INVALID-STORED", AUTH_INVALID, 0, NULL, NULL);
	put_token(f, "PAST", AUTH_ACCEPTED, T0 - 1, NULL, NULL);
	put_token(f, "NOW", AUTH_ACCEPTED, T0, NULL, NULL);
	put_token(f, "FUTURE", AUTH_ACCEPTED, T0 + 60000, NULL, NULL);
	put_token(f, "CHILD", AUTH_ACCEPTED, 0, "PARENT-1", NULL);

	assert_int_equal(auth_status(f, st, "UNKNOWN"), AUTH_INVALID);
	assert_int_equal(auth_status(f, st, "ok"), AUTH_INVALID); /* tokens are exact */
	assert_int_equal(auth_status(f, st, "OK"), AUTH_ACCEPTED);
	assert_int_equal(auth_status(f, st, "BLOCKED"), AUTH_BLOCKED);
	assert_int_equal(auth_status(f, st, "EXPIRED-STORED"), AUTH_EXPIRED);
	assert_int_equal(auth_status(f, st, "INVALID-STORED"), AUTH_INVALID);
	assert_int_equal(auth_status(f, st, "PAST"), AUTH_EXPIRED);
	assert_int_equal(auth_status(f, st, "NOW"), AUTH_EXPIRED);

	/* an unknown token has no expiry and no parent */
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(svc_authorize(f->svc, st, "UNKNOWN", &a), 0);
	assert_int_equal(a.expiry_ms, 0);
	assert_string_equal(a.parent, "");

	/* valid until its expiry, which is returned; expired once the clock passes it */
	assert_int_equal(svc_authorize(f->svc, st, "FUTURE", &a), 0);
	assert_int_equal(a.status, AUTH_ACCEPTED);
	assert_int_equal(a.expiry_ms, T0 + 60000);
	f->clock.fixed_ms = T0 + 59999;
	assert_int_equal(auth_status(f, st, "FUTURE"), AUTH_ACCEPTED);
	f->clock.fixed_ms = T0 + 60000;
	assert_int_equal(auth_status(f, st, "FUTURE"), AUTH_EXPIRED);
	f->clock.fixed_ms = T0 + 3600000;
	assert_int_equal(auth_status(f, st, "FUTURE"), AUTH_EXPIRED);

	/* the parent (group) id is returned */
	assert_int_equal(svc_authorize(f->svc, st, "CHILD", &a), 0);
	assert_int_equal(a.status, AUTH_ACCEPTED);
	assert_string_equal(a.parent, "PARENT-1");
	assert_int_equal(svc_authorize(f->svc, st, "OK", &a), 0);
	assert_string_equal(a.parent, "");
}

static void test_authorize_site_bound_token(void **state)
{
	struct fx *f = *state;
	struct chg_station *at_a, *at_b, *nosite;

	put_site(f, "S-A", SITE_PUBLIC);
	put_site(f, "S-B", SITE_PUBLIC);
	import_station(f, "CP-A", "S-A", NULL);
	import_station(f, "CP-B", "S-B", NULL);
	import_station(f, "CP-N", NULL, NULL);
	at_a = attach(f, "CP-A", &f->conn_a);
	at_b = attach(f, "CP-B", &f->conn_a);
	nosite = attach(f, "CP-N", &f->conn_a);
	put_token(f, "BOUND-A", AUTH_ACCEPTED, 0, NULL, "S-A");
	put_token(f, "BOUND-A-BLOCKED", AUTH_BLOCKED, 0, NULL, "S-A");
	put_token(f, "FREE", AUTH_ACCEPTED, 0, NULL, NULL);

	assert_int_equal(auth_status(f, at_a, "BOUND-A"), AUTH_ACCEPTED);
	assert_int_equal(auth_status(f, at_b, "BOUND-A"), AUTH_INVALID);
	assert_int_equal(auth_status(f, nosite, "BOUND-A"), AUTH_INVALID);
	assert_int_equal(auth_status(f, at_b, "BOUND-A-BLOCKED"), AUTH_BLOCKED);
	assert_int_equal(auth_status(f, at_a, "FREE"), AUTH_ACCEPTED);
	assert_int_equal(auth_status(f, at_b, "FREE"), AUTH_ACCEPTED);
	assert_int_equal(auth_status(f, nosite, "FREE"), AUTH_ACCEPTED);
}

static void test_authorize_residential_owner_only(void **state)
{
	struct fx *f = *state;
	struct chg_station *home, *other_home;

	put_site(f, "S-HOME", SITE_RESIDENTIAL);
	put_site(f, "S-HOME2", SITE_RESIDENTIAL);
	import_station(f, "CP-HOME", "S-HOME", NULL);
	import_station(f, "CP-HOME2", "S-HOME2", NULL);
	home = attach(f, "CP-HOME", &f->conn_a);
	other_home = attach(f, "CP-HOME2", &f->conn_a);
	put_token(f, "OWNER", AUTH_ACCEPTED, 0, NULL, "S-HOME");
	put_token(f, "OWNER-EXPIRED", AUTH_ACCEPTED, T0 - 1, NULL, "S-HOME");
	put_token(f, "PUBLIC-CARD", AUTH_ACCEPTED, 0, NULL, NULL);

	assert_int_equal(auth_status(f, home, "OWNER"), AUTH_ACCEPTED);
	assert_int_equal(auth_status(f, home, "PUBLIC-CARD"), AUTH_INVALID);
	assert_int_equal(auth_status(f, home, "UNKNOWN"), AUTH_INVALID);
	assert_int_equal(auth_status(f, other_home, "OWNER"), AUTH_INVALID);
	assert_int_equal(auth_status(f, home, "OWNER-EXPIRED"), AUTH_EXPIRED);
}

/* ------------------------------------------------------------------ transactions */

static int64_t txn_start(struct fx *f, struct chg_station *st, int evse, const char *tag,
			 int64_t meter, int64_t start_ms, struct svc_auth *ret_auth)
{
	struct svc_session_event in = {.evse_id = evse,
				       .connector_id = 1,
				       .id_token = tag,
				       .has_energy = true,
				       .energy_wh = meter,
				       .ts_ms = start_ms};
	struct svc_session_result res;

	assert_int_equal(svc_session_open(f->svc, st, &in, &res), 0);
	assert_true(res.session_id > 0);
	assert_true(res.has_auth);
	if (ret_auth)
		*ret_auth = res.auth;
	return res.session_id;
}

static int txn_stop(struct fx *f, struct chg_station *st, int64_t id, int64_t meter,
		    int64_t stop_ms, const char *reason, bool *ret_orphan)
{
	struct svc_session_event in = {.session_id = id,
				       .has_energy = true,
				       .energy_wh = meter,
				       .ts_ms = stop_ms,
				       .stop_reason_text = reason};
	struct svc_session_result res;
	int r = svc_session_close(f->svc, st, &in, &res);

	if (r == 0)
		*ret_orphan = res.orphan;
	return r;
}

/* The session id readings of session id sent by st belong to (an update keyed by the CSMS id):
 * id if it is st's, else 0; *ret_evse gets its EVSE only when it is st's. */
static int64_t owned(struct fx *f, struct chg_station *st, int64_t id, int *ret_evse)
{
	struct svc_session_result res;

	assert_int_equal(
	    svc_session_update(f->svc, st, &(struct svc_session_event){.session_id = id}, &res), 0);
	assert_false(res.orphan); /* an update is never an orphan stop */
	if (res.session_id)
		*ret_evse = res.evse_id;
	return res.session_id;
}

struct session_probe {
	bool stopped;
	int64_t stop_ms, meter_stop_wh;
	char reason[32];
};

static int probe_session(const struct store_session_row *row, void *ud)
{
	struct session_probe *p = ud;

	p->stopped = row->stopped;
	p->stop_ms = row->stop_ms;
	p->meter_stop_wh = row->meter_stop_wh;
	snprintf(p->reason, sizeof(p->reason), "%s", row->stop_reason ? row->stop_reason : "");
	return 0;
}

static struct session_probe session(struct fx *f, int64_t id)
{
	struct session_probe p = {.stopped = false};

	assert_int_equal(store_session_get(f->store, id, probe_session, &p), 1);
	return p;
}

struct orphan_probe {
	int n;
	char station[STATION_ID_MAX + 1];
	int64_t txn;
};

static int probe_orphan(const struct store_orphan *row, void *ud)
{
	struct orphan_probe *p = ud;

	if (p->n++ == 0) { /* newest first */
		snprintf(p->station, sizeof(p->station), "%s", row->station_id);
		p->txn = row->transaction_id;
	}
	return 0;
}

static struct orphan_probe orphans(struct fx *f)
{
	struct orphan_probe p = {.n = 0};

	assert_int_equal(store_orphans_list(f->store, 100, probe_orphan, &p), 0);
	return p;
}

static void test_txn_lifecycle(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct session_probe p;
	struct svc_auth a;
	bool orphan = true;
	int64_t id, again;
	int evse = -1;

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	put_token(f, "TAG-1", AUTH_ACCEPTED, 0, NULL, NULL);

	id = txn_start(f, st, 1, "TAG-1", 1000, T0, &a);
	assert_int_equal(a.status, AUTH_ACCEPTED);
	/* a replayed StartTransaction (lost answer, retry) gets the same id */
	again = txn_start(f, st, 1, "TAG-1", 1000, T0, &a);
	assert_int_equal(again, id);
	/* the session is this station's, on its EVSE */
	assert_int_equal(owned(f, st, id, &evse), id);
	assert_int_equal(evse, 1);
	assert_false(session(f, id).stopped);

	assert_int_equal(txn_stop(f, st, id, 5000, T0 + 3600000, "Local", &orphan), 0);
	assert_false(orphan);
	p = session(f, id);
	assert_true(p.stopped);
	assert_int_equal(p.stop_ms, T0 + 3600000);
	assert_int_equal(p.meter_stop_wh, 5000);
	assert_string_equal(p.reason, "Local");

	/* stop again (a retry): acknowledged, not an orphan, nothing changes */
	orphan = true;
	assert_int_equal(txn_stop(f, st, id, 9999, T0 + 7200000, "Other", &orphan), 0);
	assert_false(orphan);
	p = session(f, id);
	assert_int_equal(p.stop_ms, T0 + 3600000);
	assert_int_equal(p.meter_stop_wh, 5000);
	assert_string_equal(p.reason, "Local");
	assert_int_equal(orphans(f).n, 0);

	/* a start replayed after the stop still maps to the same session */
	assert_int_equal(txn_start(f, st, 1, "TAG-1", 1000, T0, &a), id);
	assert_true(session(f, id).stopped);
}

static void test_txn_start_unknown_tag_still_recorded(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct svc_auth a;
	int64_t id;
	char tag[TOKEN_MAX + 1];

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	/* the charger already started (OCPP 1.6: it may, offline): record it, say Invalid */
	id = txn_start(f, st, 2, "NOBODY", 0, T0, &a);
	assert_int_equal(a.status, AUTH_INVALID);
	assert_int_equal(store_session_id_tag(f->store, id, tag), 0);
	assert_string_equal(tag, "NOBODY");
}

static void test_txn_stop_with_id_tag_fills_auth(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct svc_session_result res;
	struct svc_auth a;
	int64_t id;

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	put_token(f, "TAG-B", AUTH_BLOCKED, 0, NULL, NULL);
	id = txn_start(f, st, 1, "TAG-B", 0, T0, &a);
	memset(&res, 0x5a, sizeof(res));
	assert_int_equal(svc_session_close(f->svc, st,
					   &(struct svc_session_event){.session_id = id,
								       .id_token = "TAG-B",
								       .has_energy = true,
								       .energy_wh = 10,
								       .ts_ms = T0 + 1},
					   &res),
			 0);
	assert_false(res.orphan);
	assert_true(res.has_auth);
	assert_int_equal(res.auth.status, AUTH_BLOCKED);
}

static void test_txn_stop_unknown_is_orphan(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct orphan_probe o;
	bool orphan = false;

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	assert_int_equal(txn_stop(f, st, 424242, 100, T0, "Local", &orphan), 0);
	assert_true(orphan);
	o = orphans(f);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.station, "CP-1");
	assert_int_equal(o.txn, 424242);
	/* -1: a start the charger made offline and never got an id for */
	orphan = false;
	assert_int_equal(txn_stop(f, st, -1, 100, T0, NULL, &orphan), 0);
	assert_true(orphan);
	assert_int_equal(orphans(f).n, 2);
	assert_int_equal(orphans(f).txn, -1);
}

static void test_txn_stop_foreign_is_orphan_owner_untouched(void **state)
{
	struct fx *f = *state;
	struct chg_station *a, *b;
	struct orphan_probe o;
	char owner[STATION_ID_MAX + 1];
	bool orphan = false, active = false;
	int64_t id;
	int evse = -7;

	import_station(f, "CP-A", NULL, NULL);
	import_station(f, "CP-B", NULL, NULL);
	a = attach(f, "CP-A", &f->conn_a);
	b = attach(f, "CP-B", &f->conn_b);
	id = txn_start(f, a, 1, "TAG-1", 1000, T0, NULL);

	/* B stops A's transaction: acknowledged as an orphan, A's session goes on */
	assert_int_equal(txn_stop(f, b, id, 99999, T0 + 10, "Local", &orphan), 0);
	assert_true(orphan);
	assert_int_equal(store_session_owner(f->store, id, owner, &evse, &active), 0);
	assert_string_equal(owner, "CP-A");
	assert_true(active);
	assert_false(session(f, id).stopped);
	o = orphans(f);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.station, "CP-B");
	assert_int_equal(o.txn, id);

	/* B does not own it for meter values either; A does */
	evse = -7;
	assert_int_equal(owned(f, b, id, &evse), 0);
	assert_int_equal(evse, -7); /* untouched */
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(owned(f, a, 0, &evse), 0);
	assert_int_equal(owned(f, a, -1, &evse), 0);
	assert_int_equal(owned(f, a, id + 1000, &evse), 0);

	/* A stops it for real */
	orphan = true;
	assert_int_equal(txn_stop(f, a, id, 2000, T0 + 20, "Local", &orphan), 0);
	assert_false(orphan);
	assert_int_equal(session(f, id).meter_stop_wh, 2000);
	/* B retrying its stop still changes nothing */
	assert_int_equal(txn_stop(f, b, id, 99999, T0 + 30, "Local", &orphan), 0);
	assert_true(orphan);
	assert_int_equal(session(f, id).meter_stop_wh, 2000);
	assert_int_equal(session(f, id).stop_ms, T0 + 20);
}

/* Session cache: an update naming a session of this station found before skips the lookup and
 * still answers what the lookup would: a stopped session keeps its readings, another station's
 * session is never remembered, a new connection starts cold. */
static void test_session_cache_hits_stop_reconnect(void **state)
{
	struct fx *f = *state;
	struct chg_station *a, *b;
	uint64_t hits;
	bool orphan = true;
	int64_t id, id2;
	int evse = -1;

	import_station(f, "CP-A", NULL, NULL);
	import_station(f, "CP-B", NULL, NULL);
	a = attach(f, "CP-A", &f->conn_a);
	b = attach(f, "CP-B", &f->conn_b);
	id = txn_start(f, a, 2, "TAG-1", 1000, T0, NULL);
	assert_int_equal(store_commit(f->store), 0);
	hits = svc_session_hint_hits(f->svc);

	assert_int_equal(owned(f, a, id, &evse), id); /* looked up */
	assert_int_equal(svc_session_hint_hits(f->svc), hits);
	evse = -1;
	assert_int_equal(owned(f, a, id, &evse), id); /* remembered */
	assert_int_equal(evse, 2);
	assert_int_equal(svc_session_hint_hits(f->svc), hits + 1);
	/* B naming A's session: looked up every time, never its own */
	assert_int_equal(owned(f, b, id, &evse), 0);
	assert_int_equal(owned(f, b, id, &evse), 0);
	assert_int_equal(svc_session_hint_hits(f->svc), hits + 1);

	/* the stop drops the hints; the stopped session still gets its late readings */
	assert_int_equal(txn_stop(f, a, id, 5000, T0 + 60000, "Local", &orphan), 0);
	assert_false(orphan);
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(svc_session_hint_hits(f->svc), hits + 1);
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(svc_session_hint_hits(f->svc), hits + 2);

	/* two sessions at once (a twin charger) are both remembered */
	id2 = txn_start(f, a, 1, "TAG-1", 0, T0 + 120000, NULL);
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(owned(f, a, id2, &evse), id2);
	hits = svc_session_hint_hits(f->svc);
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(evse, 2);
	assert_int_equal(owned(f, a, id2, &evse), id2);
	assert_int_equal(evse, 1);
	assert_int_equal(svc_session_hint_hits(f->svc), hits + 2);

	/* a committed group changes nothing; a reconnect starts cold */
	svc_events_release(f->svc, true);
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(svc_session_hint_hits(f->svc), hits + 3);
	a = attach(f, "CP-A", &f->conn_a);
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(svc_session_hint_hits(f->svc), hits + 3);
}

/* Session cache: a group that did not commit takes its sessions with it, and on SQLite the next
 * session gets a rolled-back one's id again, here another station's. The readings A sends under
 * that id must not go to B's session: the failed group's release forgets every hint. */
static void test_session_cache_forgets_failed_group(void **state)
{
	struct fx *f = *state;
	struct chg_station *a, *b;
	int64_t id, reused;
	int evse = -1;

	import_station(f, "CP-A", NULL, NULL);
	import_station(f, "CP-B", NULL, NULL);
	a = attach(f, "CP-A", &f->conn_a);
	b = attach(f, "CP-B", &f->conn_b);
	assert_int_equal(store_commit(f->store), 0);

	/* one group: A starts, A's readings name the new session (a charger that pipelines) */
	id = txn_start(f, a, 1, "TAG-1", 1000, T0, NULL);
	assert_int_equal(owned(f, a, id, &evse), id);
	assert_int_equal(owned(f, a, id, &evse), id);
	/* the group fails: rolled back, answered with errors (app_group_commit) */
	store_rollback(f->store);
	svc_events_release(f->svc, false);

	reused = txn_start(f, b, 1, "TAG-2", 0, T0 + 1000, NULL);
	assert_int_equal(reused, id); /* SQLite hands the id out again */
	assert_int_equal(store_commit(f->store), 0);
	evse = -7;
	assert_int_equal(owned(f, a, id, &evse), 0); /* not A's: kept unlinked */
	assert_int_equal(evse, -7);
	assert_int_equal(owned(f, b, reused, &evse), reused);
}

static void test_connector_out_of_range(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct svc_session_result res = {.session_id = 77};
	int max = f->cfg.max_connectors;
	struct store_sample sm = {
	    .ts_ms = T0, .measurand = "Energy.Active.Import.Register", .value = "1"};

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	assert_int_equal(
	    svc_session_open(
		f->svc, st,
		&(struct svc_session_event){.evse_id = max + 1, .connector_id = 1, .id_token = "T"},
		&res),
	    -ERANGE);
	assert_int_equal(svc_session_open(f->svc, st,
					  &(struct svc_session_event){
					      .evse_id = -1, .connector_id = 1, .id_token = "T"},
					  &res),
			 -ERANGE);
	assert_int_equal(res.session_id, 77); /* ret untouched on failure */
	/* max itself is in range */
	assert_true(txn_start(f, st, max, "T", 0, T0, NULL) > 0);

	assert_int_equal(
	    svc_connector_status(f->svc, st, max + 1, 1, "Available", "NoError", NULL, NULL, T0),
	    -ERANGE);
	assert_int_equal(
	    svc_connector_status(f->svc, st, -1, 0, "Available", "NoError", NULL, NULL, T0),
	    -ERANGE);
	assert_int_equal(
	    svc_connector_status(f->svc, st, 1, -1, "Available", "NoError", NULL, NULL, T0),
	    -ERANGE);
	assert_int_equal(
	    svc_connector_status(f->svc, st, 0, 0, "Available", "NoError", NULL, NULL, T0), 0);
	assert_int_equal(
	    svc_connector_status(f->svc, st, max, 1, "Available", "NoError", NULL, NULL, 0), 0);

	sm.evse_id = max + 1;
	assert_int_equal(svc_sample_add(f->svc, st, &sm), -ERANGE);
	sm.evse_id = -1;
	assert_int_equal(svc_sample_add(f->svc, st, &sm), -ERANGE);
	sm.evse_id = 1;
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_STORED);
}

struct sample_probe {
	int n;
	char station[STATION_ID_MAX + 1], value[16], measurand[40];
};

static int probe_sample(const struct store_sample *row, void *ud)
{
	struct sample_probe *p = ud;

	p->n++;
	snprintf(p->station, sizeof(p->station), "%s", row->station_id);
	snprintf(p->value, sizeof(p->value), "%s", row->value);
	snprintf(p->measurand, sizeof(p->measurand), "%s", row->measurand);
	return 0;
}

/* OCPP: a sampled value without a measurand is the energy import register (the adapter names
 * it, svc never spells OCPP words); without a value it is not a reading. */
static void test_meter_sample_defaults(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct sample_probe p = {.n = 0};
	struct store_sample sm = {.evse_id = 1, .ts_ms = T0 + 1000, .value = "42"};
	struct call_ctx call = {.svc = f->svc, .cfg = &f->cfg, .action = "MeterValues"};
	json_t *req, *conf = NULL;
	int64_t id;
	int evse;

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	call.st = st;
	id = txn_start(f, st, 1, "T", 0, T0, NULL);
	req = json_pack("{s:i, s:I, s:[{s:s, s:[{s:s}]}]}", "connectorId", 1, "transactionId",
			(json_int_t)id, "meterValue", "timestamp", "2026-11-19T10:00:00Z",
			"sampledValue", "value", "42");
	assert_non_null(req);
	assert_int_equal(v16_meter_values(&call, req, &conf), 0);
	json_decref(req);
	json_decref(conf);
	assert_int_equal(store_samples_list(f->store, id, probe_sample, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.measurand, "Energy.Active.Import.Register");
	assert_string_equal(p.value, "42");
	/* svc itself takes only named readings with a value */
	sm.session_id = owned(f, st, id, &evse);
	assert_int_equal(svc_sample_add(f->svc, st, &sm), -EINVAL);
	sm.measurand = "SoC";
	sm.value = NULL;
	sm.ts_ms += 1000;
	assert_int_equal(svc_sample_add(f->svc, st, &sm), -EINVAL);
	p.n = 0;
	assert_int_equal(store_samples_list(f->store, id, probe_sample, &p), 0);
	assert_int_equal(p.n, 1);
}

struct sig_probe {
	int n;
	char format[16], data[32];
};

static int probe_sig(const struct store_sample *row, void *ud)
{
	struct sig_probe *p = ud;

	p->n++;
	snprintf(p->format, sizeof(p->format), "%s", row->format ? row->format : "(null)");
	snprintf(p->data, sizeof(p->data), "%s", row->sig.data ? row->sig.data : "(null)");
	return 0;
}

/* OCPP 1.6 sampled values of format SignedData keep the signed blob as signed data. */
static void test_meter_sample_signed_data_v16(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct sig_probe p = {.n = 0};
	struct call_ctx call = {.svc = f->svc, .cfg = &f->cfg, .action = "MeterValues"};
	json_t *req, *conf = NULL;
	int64_t id;

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	call.st = st;
	id = txn_start(f, st, 1, "T", 0, T0, NULL);
	req = json_pack("{s:i, s:I, s:[{s:s, s:[{s:s, s:s}]}]}", "connectorId", 1, "transactionId",
			(json_int_t)id, "meterValue", "timestamp", "2026-11-19T10:00:00Z",
			"sampledValue", "value", "OCMF|{...}|{sig}", "format", "SignedData");
	assert_non_null(req);
	assert_int_equal(v16_meter_values(&call, req, &conf), 0);
	json_decref(req);
	json_decref(conf);
	assert_int_equal(store_samples_list(f->store, id, probe_sig, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.format, "SignedData");
	assert_string_equal(p.data, "OCMF|{...}|{sig}");
}

/* A reading under a stored key: the same value again is a silent duplicate, another value is a
 * conflict, counted on the session and in total; the first value stays. */
static void test_meter_sample_conflict_counted(void **state)
{
	struct fx *f = *state;
	struct chg_station *st;
	struct sample_probe p = {.n = 0};
	struct store_sample sm = {.evse_id = 1,
				  .ts_ms = T0 + 1000,
				  .measurand = "Energy.Active.Import.Register",
				  .context = "Sample.Periodic",
				  .value = "1000"};
	int64_t id, n = -1;
	int evse;

	import_station(f, "CP-1", NULL, NULL);
	st = attach(f, "CP-1", &f->conn_a);
	id = txn_start(f, st, 1, "T", 0, T0, NULL);
	sm.session_id = owned(f, st, id, &evse);
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_STORED);
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_DUPLICATE);
	sm.value = "1000.0"; /* the same number written otherwise */
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_DUPLICATE);
	assert_int_equal(svc_sample_conflicts(f->svc, id, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(svc_sample_conflicts(f->svc, 0, &n), 0);
	assert_int_equal(n, 0);

	sm.value = "1001";
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_CONFLICT);
	sm.value = "abc";
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_CONFLICT);
	assert_int_equal(svc_sample_conflicts(f->svc, id, &n), 0);
	assert_int_equal(n, 2);
	/* an unlinked reading's conflict counts in the total only */
	sm.session_id = 0;
	sm.evse_id = 2;
	sm.value = "5";
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_STORED);
	sm.value = "6";
	assert_int_equal(svc_sample_add(f->svc, st, &sm), SVC_SAMPLE_CONFLICT);
	assert_int_equal(svc_sample_conflicts(f->svc, id, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(svc_sample_conflicts(f->svc, 0, &n), 0);
	assert_int_equal(n, 3);
	/* the first value is what the session lists */
	assert_int_equal(store_samples_list(f->store, id, probe_sample, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.value, "1000");
	/* and the conflicts stay after a commit */
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(svc_sample_conflicts(f->svc, 0, &n), 0);
	assert_int_equal(n, 3);
}

static void test_meter_sample_station_is_the_sender(void **state)
{
	struct fx *f = *state;
	struct chg_station *a, *b;
	struct sample_probe p = {.n = 0};
	int64_t id;
	int evse = -1;
	struct store_sample sm = {.evse_id = 1,
				  .ts_ms = T0 + 1000,
				  .measurand = "Energy.Active.Import.Register",
				  .unit = "Wh",
				  .value = "1234",
				  .station_id = "CP-A"};

	import_station(f, "CP-A", NULL, NULL);
	import_station(f, "CP-B", NULL, NULL);
	a = attach(f, "CP-A", &f->conn_a);
	b = attach(f, "CP-B", &f->conn_b);
	id = txn_start(f, a, 1, "T", 0, T0, NULL);
	/* B claims A's transaction and names A: an update keyed by it finds no session of B, the sample is B's and
	 * unlinked */
	sm.session_id = owned(f, b, id, &evse);
	assert_int_equal(sm.session_id, 0);
	assert_int_equal(svc_sample_add(f->svc, b, &sm), SVC_SAMPLE_STORED);
	/* A's own reading of the same instant; the caller's station_id is not trusted */
	sm.session_id = owned(f, a, id, &evse);
	assert_int_equal(sm.session_id, id);
	sm.station_id = "CP-B";
	sm.value = "1000";
	assert_int_equal(svc_sample_add(f->svc, a, &sm), SVC_SAMPLE_STORED);
	assert_int_equal(store_samples_list(f->store, id, probe_sample, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.station, "CP-A");
	assert_string_equal(p.value, "1000");
	/* sent twice: still one */
	assert_int_equal(svc_sample_add(f->svc, a, &sm), SVC_SAMPLE_DUPLICATE);
	p.n = 0;
	assert_int_equal(store_samples_list(f->store, id, probe_sample, &p), 0);
	assert_int_equal(p.n, 1);
}

int main(void)
{
#define T(f)  cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
#define TP(f) cmocka_unit_test_setup_teardown(f, fx_setup_pending, fx_teardown)
#define TO(f) cmocka_unit_test_setup_teardown(f, fx_setup_open, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_admit_closed_unknown_refused),
	    TP(test_admit_pending_creates_pending),
	    TO(test_admit_open_creates_accepted),
	    T(test_admit_imported_password),
	    TO(test_admit_imported_password_under_open_policy),
	    T(test_admit_cache_still_rejects_wrong_password),
	    T(test_admit_password_rotation_revokes_old),
	    T(test_admit_station_without_password),
	    T(test_admit_accepted_without_credential),
	    T(test_heartbeat_seen_writes),
	    T(test_admit_upgrades_weak_hash),
	    T(test_admit_backoff),
	    T(test_attach_replace_detach),
	    T(test_attach_same_conn_twice_is_no_replace),
	    TO(test_attach_unknown_station_fails),
	    T(test_attach_loads_site_and_protocol),
	    T(test_set_registration_updates_connected),
	    T(test_boot_accepted_pending_rejected),
	    cmocka_unit_test_setup_teardown(test_boot_rate_pending_with_jitter, fx_setup_boot_rate,
					    fx_teardown),
	    T(test_authorize_statuses),
	    T(test_authorize_site_bound_token),
	    T(test_authorize_residential_owner_only),
	    T(test_txn_lifecycle),
	    T(test_txn_start_unknown_tag_still_recorded),
	    T(test_txn_stop_with_id_tag_fills_auth),
	    T(test_txn_stop_unknown_is_orphan),
	    T(test_txn_stop_foreign_is_orphan_owner_untouched),
	    T(test_session_cache_hits_stop_reconnect),
	    T(test_session_cache_forgets_failed_group),
	    T(test_connector_out_of_range),
	    T(test_meter_sample_station_is_the_sender),
	    T(test_meter_sample_defaults),
	    T(test_meter_sample_conflict_counted),
	    T(test_meter_sample_signed_data_v16),
	};
#undef T
#undef TP
#undef TO

	return cmocka_run_group_tests_name("svc", tests, NULL, NULL);
}
