/* SPDX-License-Identifier: MIT */
/* Sites (svc/sites.h): the local-list differencing (versions, differential against full,
 * removed tokens, expiry), the version in a GetLocalListVersion answer, the policy defaults per
 * kind, the availability and connectivity figures of a scripted history, and the store's
 * site, reservation, history and local-list operations behind them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "svc/sites.h"
#include "svc/svc.h"

#define H  3600000LL
#define T0 1795000000000LL

static struct svc_ll_entry ent(const char *token, int status, int64_t expiry)
{
	struct svc_ll_entry e = {.status = status, .expiry_ms = expiry};

	snprintf(e.token, sizeof(e.token), "%s", token);
	return e;
}

static const struct svc_ll_entry *find(const struct svc_ll_update *u, const char *token)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->entries[i].token, token))
			return &u->entries[i];
	return NULL;
}

/* Nothing recorded: the first update is full at version 1, Invalid and expired tokens left out,
 * entries sorted. */
static void test_ll_first_full(void **state)
{
	struct svc_ll_entry want[] = {ent("C", AUTH_ACCEPTED, 0), ent("A", AUTH_ACCEPTED, 0),
				      ent("X", AUTH_INVALID, 0),  ent("OLD", AUTH_ACCEPTED, T0 - 1),
				      ent("B", AUTH_BLOCKED, 0),  ent("F", AUTH_ACCEPTED, T0 + H)};
	struct svc_ll_update u;

	(void)state;
	assert_int_equal(svc_ll_plan(want, 6, NULL, 0, -1, 0, T0, &u), 0);
	assert_true(u.send);
	assert_true(u.full);
	assert_int_equal(u.version, 1);
	assert_int_equal(u.n, 4);
	assert_string_equal(u.entries[0].token, "A");
	assert_string_equal(u.entries[1].token, "B");
	assert_string_equal(u.entries[2].token, "C");
	assert_string_equal(u.entries[3].token, "F");
	assert_null(find(&u, "OLD"));
	assert_null(find(&u, "X"));
	assert_int_equal(find(&u, "B")->status, AUTH_BLOCKED);
	free(u.entries);
}

/* Versions agree: a differential update with the new, the changed and the removed (-1) only. */
static void test_ll_differential(void **state)
{
	struct svc_ll_entry sent[] = {ent("A", AUTH_ACCEPTED, 0), ent("B", AUTH_ACCEPTED, 0),
				      ent("C", AUTH_ACCEPTED, 0), ent("D", AUTH_ACCEPTED, T0 + H)};
	struct svc_ll_entry want[] = {ent("D", AUTH_ACCEPTED, T0 + 2 * H),
				      ent("A", AUTH_ACCEPTED, 0), ent("E", AUTH_ACCEPTED, 0),
				      ent("B", AUTH_BLOCKED, 0)};
	struct svc_ll_update u;

	(void)state;
	assert_int_equal(svc_ll_plan(want, 4, sent, 4, 7, 7, T0, &u), 0);
	assert_true(u.send);
	assert_false(u.full);
	assert_int_equal(u.version, 8);
	assert_int_equal(u.n, 4); /* B blocked, C removed, D new expiry, E new; A unchanged */
	assert_null(find(&u, "A"));
	assert_int_equal(find(&u, "B")->status, AUTH_BLOCKED);
	assert_int_equal(find(&u, "C")->status, -1);
	assert_int_equal(find(&u, "D")->expiry_ms, T0 + 2 * H);
	assert_int_equal(find(&u, "E")->status, AUTH_ACCEPTED);
	free(u.entries);
}

/* A token that expired since the last push is removed; nothing changed: nothing to send. */
static void test_ll_expiry_and_nothing(void **state)
{
	struct svc_ll_entry sent[] = {ent("A", AUTH_ACCEPTED, 0), ent("B", AUTH_ACCEPTED, T0 + H)};
	struct svc_ll_entry want[] = {ent("A", AUTH_ACCEPTED, 0), ent("B", AUTH_ACCEPTED, T0 + H)};
	struct svc_ll_entry want2[] = {ent("B", AUTH_ACCEPTED, T0 + H), ent("A", AUTH_ACCEPTED, 0)};
	struct svc_ll_update u;

	(void)state;
	assert_int_equal(svc_ll_plan(want, 2, sent, 2, 3, 3, T0, &u), 0);
	assert_false(u.send);
	assert_int_equal(u.n, 0);
	free(u.entries);
	/* an hour later B's expiry has passed */
	assert_int_equal(svc_ll_plan(want2, 2, sent, 2, 3, 3, T0 + H, &u), 0);
	assert_true(u.send);
	assert_false(u.full);
	assert_int_equal(u.version, 4);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.entries[0].token, "B");
	assert_int_equal(u.entries[0].status, -1);
	free(u.entries);
}

/* The station reports another version (reset, or a list pushed by someone else): full, above
 * both versions. */
static void test_ll_version_mismatch_full(void **state)
{
	struct svc_ll_entry sent[] = {ent("A", AUTH_ACCEPTED, 0)};
	struct svc_ll_entry want[] = {ent("A", AUTH_ACCEPTED, 0)};
	struct svc_ll_update u;

	(void)state;
	assert_int_equal(svc_ll_plan(want, 1, sent, 1, 5, 0, T0, &u), 0);
	assert_true(u.send);
	assert_true(u.full);
	assert_int_equal(u.version, 6);
	assert_int_equal(u.n, 1);
	free(u.entries);
	assert_int_equal(svc_ll_plan(want, 1, sent, 1, 5, 9, T0, &u), 0);
	assert_true(u.full);
	assert_int_equal(u.version, 10);
	free(u.entries);
	/* an empty station and nothing to give it: nothing */
	assert_int_equal(svc_ll_plan(NULL, 0, NULL, 0, -1, 0, T0, &u), 0);
	assert_false(u.send);
	free(u.entries);
}

static void test_ll_parse_version(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(svc_ll_parse_version("{\"listVersion\": 12}", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(svc_ll_parse_version("{\"versionNumber\":-1}", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(svc_ll_parse_version("{\"status\":\"x\"}", &v), -EINVAL);
	assert_int_equal(svc_ll_parse_version(NULL, &v), -EINVAL);
}

static void test_policy_defaults(void **state)
{
	struct store_site_rec rec = {
	    .kind = SITE_RURAL, .local_list = 0, .reservations = 1, .heartbeat_s = 7200};
	struct svc_site_policy p;

	(void)state;
	svc_site_policy_resolve(SITE_PUBLIC, NULL, 300, &p);
	assert_int_equal(p.heartbeat_s, 300);
	assert_true(p.reservations);
	assert_false(p.local_list);
	svc_site_policy_resolve(SITE_RURAL, NULL, 300, &p);
	assert_int_equal(p.heartbeat_s, SVC_RURAL_HEARTBEAT_S);
	assert_true(p.local_list);
	assert_false(p.reservations);
	assert_true(p.unbound_tokens);
	svc_site_policy_resolve(SITE_RESIDENTIAL, NULL, 300, &p);
	assert_false(p.reservations);
	assert_false(p.unbound_tokens);
	svc_site_policy_resolve(SITE_RURAL, &rec, 300, &p);
	assert_int_equal(p.heartbeat_s, 7200);
	assert_false(p.local_list);
	assert_true(p.reservations);
	/* a swap site's thresholds: 80 % and 90 % unless set */
	rec = (struct store_site_rec){.kind = SITE_SWAP, .local_list = -1, .reservations = -1};
	svc_site_policy_resolve(SITE_SWAP, &rec, 300, &p);
	assert_true(p.swap_soh_flag_below == 80.0 && p.swap_promised_soc == 90.0);
	rec.swap_soh_flag_below = 85;
	rec.swap_promised_soc = 95.5;
	svc_site_policy_resolve(SITE_SWAP, &rec, 300, &p);
	assert_true(p.swap_soh_flag_below == 85.0 && p.swap_promised_soc == 95.5);
}

static struct store_log_row lr(const char *kind, const char *state, int evse, int64_t ts)
{
	return (struct store_log_row){.kind = kind,
				      .state = state,
				      .evse_id = evse,
				      .connector_id = evse ? 1 : 0,
				      .ts_ms = ts};
}

struct periods {
	int n;
	int64_t start[8], end[8];
	bool ongoing[8];
};

static void on_off(void *ud, int64_t start, int64_t end, bool ongoing)
{
	struct periods *p = ud;

	p->start[p->n] = start;
	p->end[p->n] = end;
	p->ongoing[p->n++] = ongoing;
}

/* A scripted day: online from before the window, faulted 2 h, offline 3 h, back, offline at
 * the end. Window [T0, T0 + 10 h). */
static void test_avail_scripted(void **state)
{
	struct periods pr = {0};
	struct svc_avail_calc c = {.on_offline = on_off, .ud = &pr};
	struct store_log_row rows[] = {
	    lr("link", "online", 0, T0 - 5 * H), /* the state at the window's start */
	    lr("status", "Available", 1, T0 - 5 * H), lr("status", "Faulted", 1, T0 + 1 * H),
	    lr("status", "Available", 1, T0 + 3 * H), lr("link", "offline", 0, T0 + 4 * H),
	    lr("link", "online", 0, T0 + 7 * H),      lr("link", "offline", 0, T0 + 9 * H),
	};

	(void)state;
	svc_avail_begin(&c, T0, T0 + 10 * H);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		svc_avail_row(&rows[i], &c);
	svc_avail_end(&c, false, T0 + 9 * H);
	assert_int_equal(c.out.observed_ms, 10 * H);
	assert_int_equal(c.out.online_ms, 6 * H);
	assert_int_equal(c.out.offline_ms, 4 * H);
	assert_int_equal(c.out.faulted_ms, 2 * H);
	assert_int_equal(c.out.up_ms, 4 * H);
	assert_int_equal(c.out.offline_periods, 2);
	assert_int_equal(c.out.longest_offline_ms, 3 * H);
	assert_true(svc_avail_uptime_pct(&c.out) > 39.99 && svc_avail_uptime_pct(&c.out) < 40.01);
	assert_int_equal(pr.n, 2);
	assert_int_equal(pr.start[0], T0 + 4 * H);
	assert_int_equal(pr.end[0], T0 + 7 * H);
	assert_false(pr.ongoing[0]);
	assert_int_equal(pr.start[1], T0 + 9 * H);
	assert_int_equal(pr.end[1], T0 + 10 * H);
	assert_true(pr.ongoing[1]);
}

/* History that ends online while the station is gone (the node stopped): offline from its last
 * message; nothing known before the first record is not counted. */
static void test_avail_node_stopped(void **state)
{
	struct svc_avail_calc c = {0};
	struct store_log_row on = lr("link", "online", 0, T0 + 2 * H);

	(void)state;
	svc_avail_begin(&c, T0, T0 + 10 * H);
	svc_avail_row(&on, &c);
	svc_avail_end(&c, false, T0 + 6 * H);
	assert_int_equal(c.out.observed_ms, 8 * H);
	assert_int_equal(c.out.up_ms, 4 * H);
	assert_int_equal(c.out.offline_ms, 4 * H);
	assert_int_equal(c.out.offline_periods, 1);
}

/* ---------------------------------------------------------------- with the store */

struct fx {
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	f->store = store_open(":memory:", false, err, sizeof(err));
	if (!f->store)
		return -1;
	f->svc = svc_create(f->store, &f->clock, &f->cfg);
	if (!f->svc)
		return -1;
	*state = f;
	return 0;
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

struct got {
	int n;
	char id[4][SITE_ID_MAX + 1];
	struct store_site_rec rec[4];
	int64_t stations;
	char name[64];
};

static int got_site(const struct store_site_row *row, void *ud)
{
	struct got *g = ud;

	snprintf(g->id[g->n], sizeof(g->id[0]), "%s", row->rec.id);
	g->rec[g->n] = row->rec;
	g->rec[g->n].id = g->rec[g->n].name = g->rec[g->n].location = NULL;
	if (row->rec.name)
		snprintf(g->name, sizeof(g->name), "%s", row->rec.name);
	g->stations = row->stations;
	g->n++;
	return 0;
}

static void test_store_sites(void **state)
{
	struct fx *f = *state;
	struct store_site_rec r = {.id = "R1",
				   .kind = SITE_RURAL,
				   .name = "Village",
				   .local_list = -1,
				   .reservations = 0,
				   .heartbeat_s = 5400};
	struct got g = {0};

	assert_int_equal(store_site_save(f->store, &r, true, T0), 0);
	assert_int_equal(store_site_save(f->store, &r, true, T0), -EEXIST);
	r.id = "NOPE";
	assert_int_equal(store_site_save(f->store, &r, false, T0), -ENOENT);
	assert_int_equal(store_sites_list(f->store, "R1", got_site, &g), 1);
	assert_string_equal(g.name, "Village");
	assert_int_equal(g.rec[0].kind, SITE_RURAL);
	assert_int_equal(g.rec[0].heartbeat_s, 5400);
	assert_int_equal(g.rec[0].local_list, -1);
	assert_int_equal(g.rec[0].reservations, 0);
	assert_int_equal(store_station_put(f->store, "CP1", "R1", NULL, T0), 0);
	g.n = 0;
	assert_int_equal(store_sites_list(f->store, "R1", got_site, &g), 1);
	assert_int_equal(g.stations, 1);
	assert_int_equal(store_site_delete(f->store, "R1"), -EBUSY);
	assert_int_equal(store_site_delete(f->store, "NOPE"), -ENOENT);
	r.id = "EMPTY";
	assert_int_equal(store_site_save(f->store, &r, true, T0), 0);
	assert_int_equal(store_site_delete(f->store, "EMPTY"), 0);
	assert_int_equal(store_sites_list(f->store, "EMPTY", got_site, &g), -ENOENT);
	assert_int_equal(store_commit(f->store), 0);
}

static int count_resv(const struct store_reservation *row, void *ud)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

/* Tracked: requested, expired by the node's clock, a station's ReservationStatusUpdate. */
static void test_reservations(void **state)
{
	struct fx *f = *state;
	struct store_reservation r = {
	    .id = 5, .evse_id = 1, .expiry_ms = T0 + 60000, .created_ms = T0, .updated_ms = T0};
	struct store_reservation got;
	int n = 0;

	snprintf(r.station_id, sizeof(r.station_id), "CP1");
	snprintf(r.id_tag, sizeof(r.id_tag), "TAG");
	snprintf(r.status, sizeof(r.status), "Accepted");
	assert_int_equal(store_reservation_put(f->store, &r), 0);
	r.id = 6;
	r.expiry_ms = T0 + 3 * H;
	assert_int_equal(store_reservation_put(f->store, &r), 0);
	assert_int_equal(svc_reservations_tick(f->svc), 0);
	f->clock.fixed_ms = T0 + 61000;
	assert_int_equal(svc_reservations_tick(f->svc), 1);
	assert_int_equal(store_reservation_get(f->store, 5, &got), 0);
	assert_string_equal(got.status, "Expired");
	assert_int_equal(store_reservations_list(f->store, NULL, true, 10, count_resv, &n), 1);
	/* another station's word changes nothing; its own does */
	assert_int_equal(svc_reservation_update(f->svc, "CP2", 6, "Removed"), 0);
	assert_int_equal(store_reservation_get(f->store, 6, &got), 0);
	assert_string_equal(got.status, "Accepted");
	assert_int_equal(svc_reservation_update(f->svc, "CP1", 6, "Removed"), 0);
	assert_int_equal(store_reservation_get(f->store, 6, &got), 0);
	assert_string_equal(got.status, "Removed");
	assert_int_equal(svc_reservation_update(f->svc, "CP1", 99, "Expired"), 0);
}

static int count_entry(const struct store_list_entry *row, void *ud)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

static void test_store_local_list(void **state)
{
	struct fx *f = *state;
	struct store_list_entry e[3] = {{.token = "A", .status = AUTH_ACCEPTED},
					{.token = "B", .status = AUTH_ACCEPTED},
					{.token = "C", .status = AUTH_BLOCKED}};
	int64_t v = 0;
	int n = 0;

	assert_int_equal(store_local_list_version(f->store, "CP1", &v), -ENOENT);
	assert_int_equal(store_local_list_save(f->store, "CP1", 1, true, e, 3, T0), 0);
	e[1].status = -1;
	assert_int_equal(store_local_list_save(f->store, "CP1", 2, false, &e[1], 1, T0), 0);
	assert_int_equal(store_local_list_version(f->store, "CP1", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(store_local_list_entries(f->store, "CP1", count_entry, &n), 2);
	assert_int_equal(store_local_list_save(f->store, "CP1", 3, true, e, 1, T0), 0);
	n = 0;
	assert_int_equal(store_local_list_entries(f->store, "CP1", count_entry, &n), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ll_first_full),
	    cmocka_unit_test(test_ll_differential),
	    cmocka_unit_test(test_ll_expiry_and_nothing),
	    cmocka_unit_test(test_ll_version_mismatch_full),
	    cmocka_unit_test(test_ll_parse_version),
	    cmocka_unit_test(test_policy_defaults),
	    cmocka_unit_test(test_avail_scripted),
	    cmocka_unit_test(test_avail_node_stopped),
	    cmocka_unit_test_setup_teardown(test_store_sites, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reservations, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_store_local_list, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
