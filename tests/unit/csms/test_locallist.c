/* SPDX-License-Identifier: MIT */
/* Local authorization lists (svc/locallist.c): splitting an update over several SendLocalList
 * messages (entries and bytes per message), the limits in a 1.6 GetConfiguration or 2.0.1
 * GetVariables answer, the exchange with a station through a fake link (version check, limits,
 * the first message Full and the rest Differential at one version, the list recorded once all
 * were accepted), and token changes pushing differential updates (debounced). */
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
#include "svc/link.h"
#include "svc/sites.h"
#include "svc/svc.h"

#define T0 1795000000000LL

static struct svc_ll_entry ent(const char *token, const char *parent)
{
	struct svc_ll_entry e = {.status = AUTH_ACCEPTED};

	snprintf(e.token, sizeof(e.token), "%s", token);
	snprintf(e.parent, sizeof(e.parent), "%s", parent ? parent : "");
	return e;
}

/* Entries per message: no limit, an items limit, a bytes limit, both; every entry once, in
 * order, and at least one per message even when one alone is over the byte limit. */
static void test_chunk(void **state)
{
	struct svc_ll_entry e[10];
	struct svc_ll_limits items3 = {.items = 3}, none = {0};
	size_t sizes[16], n = 0, off = 0, k;

	(void)state;
	for (int i = 0; i < 10; i++) {
		char t[16];

		snprintf(t, sizeof(t), "TOKEN-%02d", i);
		e[i] = ent(t, NULL);
	}
	assert_int_equal(svc_ll_chunk(e, 10, NULL), 10);
	assert_int_equal(svc_ll_chunk(e, 10, &none), 10);
	assert_int_equal(svc_ll_chunk(e, 0, &items3), 0);
	/* 10 by 3: 3 3 3 1 */
	while (off < 10) {
		k = svc_ll_chunk(e + off, 10 - off, &items3);
		assert_true(k >= 1 && k <= 3);
		sizes[n++] = k;
		off += k;
	}
	assert_int_equal(n, 4);
	assert_int_equal(sizes[0], 3);
	assert_int_equal(sizes[3], 1);
	assert_int_equal(off, 10);
	{
		/* bytes: a message of 1000 bytes holds fewer entries than one of 2000; none is
		 * estimated under what the entries really take in 2.0.1 JSON */
		struct svc_ll_limits b1 = {.bytes = 1000}, b2 = {.bytes = 2000};
		size_t k1 = svc_ll_chunk(e, 10, &b1), k2 = svc_ll_chunk(e, 10, &b2);
		const char *one = "{\"idToken\":{\"idToken\":\"TOKEN-00\",\"type\":\"Central\"},"
				  "\"idTokenInfo\":{\"status\":\"Accepted\","
				  "\"cacheExpiryDateTime\":\"2026-12-01T00:00:00.000Z\"}},";

		assert_true(k1 >= 1 && k1 < k2 && k2 < 10);
		assert_true(k1 * strlen(one) < 1000);
		assert_true(k2 * strlen(one) < 2000);
	}
	{
		/* long tokens and parents take more room */
		struct svc_ll_entry big[4];
		struct svc_ll_limits b = {.bytes = 1000};
		char t[40];

		for (int i = 0; i < 4; i++) {
			snprintf(t, sizeof(t), "%036d", i);
			big[i] = ent(t, t);
		}
		assert_true(svc_ll_chunk(big, 4, &b) < svc_ll_chunk(e, 4, &b));
		/* a limit below one entry still sends one at a time */
		b.bytes = 10;
		assert_int_equal(svc_ll_chunk(big, 4, &b), 1);
		/* both limits: the smaller wins */
		b = (struct svc_ll_limits){.items = 2, .bytes = 100000};
		assert_int_equal(svc_ll_chunk(e, 10, &b), 2);
	}
}

/* The limits in each version's answer; what is not given stays 0. */
static void test_parse_limits(void **state)
{
	struct svc_ll_limits l;

	(void)state;
	assert_int_equal(svc_ll_parse_limits(NULL, &l), -EINVAL);
	/* 1.6 GetConfiguration.conf: value before or after key, the other key ignored */
	assert_int_equal(
	    svc_ll_parse_limits("{\"configurationKey\":[{\"key\":\"LocalAuthListMaxLength\","
				"\"readonly\":true,\"value\":\"500\"},{\"key\":"
				"\"SendLocalListMaxLength\",\"readonly\":true,\"value\":\"20\"}]}",
				&l),
	    0);
	assert_int_equal(l.items, 20);
	assert_int_equal(l.bytes, 0);
	assert_int_equal(
	    svc_ll_parse_limits("{\"configurationKey\":[{\"value\":\"7\",\"readonly\":true,"
				"\"key\":\"SendLocalListMaxLength\"}]}",
				&l),
	    0);
	assert_int_equal(l.items, 7);
	/* unknown to the station: no limit */
	assert_int_equal(
	    svc_ll_parse_limits("{\"configurationKey\":[{\"key\":\"LocalAuthListMaxLength\","
				"\"readonly\":true,\"value\":\"500\"}],"
				"\"unknownKey\":[\"SendLocalListMaxLength\"]}",
				&l),
	    0);
	assert_int_equal(l.items, 0);
	/* 2.0.1 GetVariables: both variables, each from its own result */
	assert_int_equal(
	    svc_ll_parse_limits(
		"{\"getVariableResult\":[{\"attributeStatus\":\"Accepted\",\"attributeValue\":"
		"\"50\",\"component\":{\"name\":\"LocalAuthListCtrlr\"},\"variable\":{\"name\":"
		"\"ItemsPerMessage\"}},{\"attributeStatus\":\"Accepted\",\"attributeValue\":"
		"\"4096\","
		"\"component\":{\"name\":\"LocalAuthListCtrlr\"},\"variable\":{\"name\":"
		"\"BytesPerMessage\"}}]}",
		&l),
	    0);
	assert_int_equal(l.items, 50);
	assert_int_equal(l.bytes, 4096);
	/* a rejected variable has no value: its limit is not borrowed from the other result */
	assert_int_equal(
	    svc_ll_parse_limits(
		"{\"getVariableResult\":[{\"attributeStatus\":\"Accepted\",\"attributeValue\":"
		"\"50\",\"component\":{\"name\":\"LocalAuthListCtrlr\"},\"variable\":{\"name\":"
		"\"ItemsPerMessage\"}},{\"attributeStatus\":\"UnknownVariable\",\"component\":"
		"{\"name\":\"LocalAuthListCtrlr\"},\"variable\":{\"name\":\"BytesPerMessage\"}}]}",
		&l),
	    0);
	assert_int_equal(l.items, 50);
	assert_int_equal(l.bytes, 0);
	/* the answer's own order: variable first */
	assert_int_equal(svc_ll_parse_limits("{\"getVariableResult\":[{\"variable\":{\"name\":"
					     "\"ItemsPerMessage\"},\"component\":{\"name\":"
					     "\"LocalAuthListCtrlr\"},\"attributeValue\":\"3\","
					     "\"attributeStatus\":\"Accepted\"}]}",
					     &l),
			 0);
	assert_int_equal(l.items, 3);
}

/* ---------------------------------------------------------------- svc with a fake link */

#define SENT_MAX 64

struct sent {
	int kind;
	bool full;
	int64_t version;
	size_t n;
	char first[TOKEN_MAX + 1];
	int removed; /* entries with status -1 */
};

struct fake_link {
	int sends;
	struct sent sent[SENT_MAX];
	svc_link_done_fn done;
	void *ud;
	char station[STATION_ID_MAX + 1];
};

static int fake_send(void *impl, const char *station_id, const struct svc_cmd *cmd,
		     svc_link_done_fn done, void *ud)
{
	struct fake_link *l = impl;
	struct sent *s;

	assert_true(l->sends < SENT_MAX);
	assert_null(l->done); /* one command at a time */
	s = &l->sent[l->sends++];
	*s = (struct sent){.kind = cmd->kind,
			   .full = cmd->list.full,
			   .version = cmd->list.version,
			   .n = cmd->list.n_entries};
	if (cmd->kind == SVC_CMD_SEND_LOCAL_LIST) {
		if (cmd->list.n_entries)
			snprintf(s->first, sizeof(s->first), "%s", cmd->list.entries[0].token);
		for (size_t i = 0; i < cmd->list.n_entries; i++)
			s->removed += cmd->list.entries[i].status < 0;
	}
	snprintf(l->station, sizeof(l->station), "%s", station_id);
	l->done = done;
	l->ud = ud;
	return 0;
}

static const struct svc_link_ops fake_ops = {.version = 1, .send = fake_send};

struct fx {
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	struct fake_link link;
	int dones, result;
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
	svc_set_link(f->svc, &fake_ops, &f->link);
	/* a rural site (a local list by default) with a station, a public one without */
	assert_int_equal(store_site_put(f->store, "RURAL", SITE_RURAL, T0), 0);
	assert_int_equal(store_site_put(f->store, "TOWN", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_station_create(f->store, "R1", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_put(f->store, "R1", "RURAL", NULL, T0), 0);
	assert_int_equal(store_station_create(f->store, "P1", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_put(f->store, "P1", "TOWN", NULL, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
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

static void add_tokens(struct fx *f, int from, int to, const char *site)
{
	for (int i = from; i < to; i++) {
		struct store_token t = {.status = AUTH_ACCEPTED};

		snprintf(t.token, sizeof(t.token), "CARD-%03d", i);
		snprintf(t.site_id, sizeof(t.site_id), "%s", site);
		assert_int_equal(store_token_put(f->store, &t), 0);
	}
	assert_int_equal(store_commit(f->store), 0);
}

static void on_synced(void *ud, int result)
{
	struct fx *f = ud;

	f->dones++;
	f->result = result;
}

/* Answer the command in flight (the node's group commit releases it). */
static void answer(struct fx *f, int status, const char *word, const char *payload)
{
	struct svc_cmd_result res = {.status = status, .payload = payload};
	svc_link_done_fn done = f->link.done;

	assert_non_null(done);
	snprintf(res.station_status, sizeof(res.station_status), "%s", word);
	f->link.done = NULL;
	done(f->link.ud, &res);
	assert_int_equal(store_commit(f->store), 0);
	svc_cmd_release(f->svc, true);
}

static int count_entry(const struct store_list_entry *row, void *ud)
{
	(void)row;
	++*(int *)ud;
	return 0;
}

/* 25 tokens to a station that takes 10 per message: GetLocalListVersion, the limits, then
 * Full(10) + Differential(10) + Differential(5) at one version; recorded once all are in. */
static void test_sync_split_full(void **state)
{
	struct fx *f = *state;
	int64_t v = -1;
	int n = 0;

	add_tokens(f, 0, 25, "RURAL");
	add_tokens(f, 100, 103, "TOWN"); /* not this site's */
	assert_int_equal(svc_local_list_sync(f->svc, "R1", on_synced, f), 0);
	assert_int_equal(f->link.sends, 1);
	assert_int_equal(f->link.sent[0].kind, SVC_CMD_LOCAL_LIST_VERSION);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":0}");
	assert_int_equal(f->link.sends, 2);
	assert_int_equal(f->link.sent[1].kind, SVC_CMD_LOCAL_LIST_LIMITS);
	answer(f, SVC_RES_ANSWERED, "",
	       "{\"configurationKey\":[{\"key\":\"SendLocalListMaxLength\",\"readonly\":true,"
	       "\"value\":\"10\"}]}");
	for (int m = 0; m < 3; m++) {
		const struct sent *s = &f->link.sent[2 + m];

		assert_int_equal(f->link.sends, 3 + m);
		assert_int_equal(s->kind, SVC_CMD_SEND_LOCAL_LIST);
		assert_int_equal(s->full, m == 0);
		assert_int_equal(s->version, 1);
		assert_int_equal(s->n, m < 2 ? 10 : 5);
		assert_int_equal(f->dones, 0);
		/* nothing recorded before the last message is accepted */
		assert_int_equal(store_local_list_version(f->store, "R1", &v), -ENOENT);
		answer(f, SVC_RES_ACCEPTED, "Accepted", "{\"status\":\"Accepted\"}");
	}
	assert_string_equal(f->link.sent[2].first, "CARD-000");
	assert_string_equal(f->link.sent[3].first, "CARD-010");
	assert_string_equal(f->link.sent[4].first, "CARD-020");
	assert_int_equal(f->link.sends, 5);
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->result, 0);
	assert_int_equal(store_local_list_version(f->store, "R1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_local_list_entries(f->store, "R1", count_entry, &n), 25);
	assert_int_equal(n, 25);
}

/* A full list cut short (the second message Failed): nothing recorded, the sync fails; the
 * next check finds the station at a version the store does not have and sends it in full. */
static void test_sync_split_failed(void **state)
{
	struct fx *f = *state;
	int64_t v = -1;

	add_tokens(f, 0, 5, "RURAL");
	assert_int_equal(svc_local_list_sync(f->svc, "R1", on_synced, f), 0);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":0}");
	answer(f, SVC_RES_ANSWERED, "",
	       "{\"getVariableResult\":[{\"attributeStatus\":\"Accepted\",\"attributeValue\":\"3\","
	       "\"component\":{\"name\":\"LocalAuthListCtrlr\"},\"variable\":{\"name\":"
	       "\"ItemsPerMessage\"}}]}");
	assert_int_equal(f->link.sent[2].n, 3);
	answer(f, SVC_RES_ACCEPTED, "Accepted", NULL);
	assert_int_equal(f->link.sent[3].n, 2);
	assert_false(f->link.sent[3].full);
	answer(f, SVC_RES_REJECTED, "Failed", NULL);
	assert_int_equal(f->dones, 1);
	assert_true(f->result < 0);
	assert_int_equal(store_local_list_version(f->store, "R1", &v), -ENOENT);
	/* the station says 1 (it took the first part): full at 2 */
	assert_int_equal(svc_local_list_sync(f->svc, "R1", on_synced, f), 0);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":1}");
	answer(f, SVC_RES_ANSWERED, "", "{\"configurationKey\":[]}"); /* no limit said */
	assert_int_equal(f->link.sent[6].kind, SVC_CMD_SEND_LOCAL_LIST);
	assert_true(f->link.sent[6].full);
	assert_int_equal(f->link.sent[6].version, 2);
	assert_int_equal(f->link.sent[6].n, 5);
	answer(f, SVC_RES_ACCEPTED, "Accepted", NULL);
	assert_int_equal(f->dones, 2);
	assert_int_equal(f->result, 0);
	assert_int_equal(store_local_list_version(f->store, "R1", &v), 0);
	assert_int_equal(v, 2);
}

/* One entry needs no limits; a differential split keeps Differential for every message. */
static void test_sync_differential_split(void **state)
{
	struct fx *f = *state;
	int64_t v = -1;

	add_tokens(f, 0, 1, "RURAL");
	assert_int_equal(svc_local_list_sync(f->svc, "R1", on_synced, f), 0);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":0}");
	assert_int_equal(f->link.sent[1].kind, SVC_CMD_SEND_LOCAL_LIST); /* no limits asked */
	assert_int_equal(f->link.sent[1].n, 1);
	answer(f, SVC_RES_ACCEPTED, "Accepted", NULL);
	assert_int_equal(store_local_list_version(f->store, "R1", &v), 0);
	assert_int_equal(v, 1);
	/* 7 more: a differential of 7 at version 2 in messages of 4 */
	add_tokens(f, 1, 8, "RURAL");
	assert_int_equal(svc_local_list_sync(f->svc, "R1", on_synced, f), 0);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":1}");
	answer(f, SVC_RES_ANSWERED, "",
	       "{\"configurationKey\":[{\"key\":\"SendLocalListMaxLength\",\"value\":\"4\"}]}");
	assert_false(f->link.sent[4].full);
	assert_int_equal(f->link.sent[4].version, 2);
	assert_int_equal(f->link.sent[4].n, 4);
	answer(f, SVC_RES_ACCEPTED, "Accepted", NULL);
	assert_false(f->link.sent[5].full);
	assert_int_equal(f->link.sent[5].version, 2);
	assert_int_equal(f->link.sent[5].n, 3);
	answer(f, SVC_RES_ACCEPTED, "Accepted", NULL);
	assert_int_equal(store_local_list_version(f->store, "R1", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(f->result, 0);
}

/* A station connected and up (its first message after boot was taken). */
static struct chg_station *connect_station(struct fx *f, const char *id)
{
	static int conn_token;
	void *replaced = NULL;
	struct chg_station *st =
	    svc_station_attach(f->svc, id, 0, "ocpp1.6", &conn_token, &replaced);

	assert_non_null(st);
	st->ll_checked = true;
	assert_int_equal(store_commit(f->store), 0);
	return st;
}

static void tick_at(struct fx *f, int64_t t)
{
	f->clock.fixed_ms = t;
	svc_locallist_tick(f->svc);
}

/* Token changes at a site push to its connected stations that keep a list: debounced (2 s
 * after the last change, at most 10 s after the first), as a differential after the version
 * check; other sites' stations and stations not connected are left alone. */
static void test_tokens_changed_push(void **state)
{
	struct fx *f = *state;
	int64_t v = -1;

	connect_station(f, "R1");
	connect_station(f, "P1"); /* public: keeps no list */
	add_tokens(f, 0, 3, "RURAL");
	assert_int_equal(svc_local_list_sync(f->svc, "R1", on_synced, f), 0);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":0}");
	answer(f, SVC_RES_ANSWERED, "", "{\"configurationKey\":[]}");
	answer(f, SVC_RES_ACCEPTED, "Accepted", NULL);
	assert_int_equal(f->link.sends, 3);
	assert_int_equal(store_local_list_version(f->store, "R1", &v), 0);
	assert_int_equal(v, 1);

	/* nothing due: the tick does nothing */
	tick_at(f, T0 + 60000);
	assert_int_equal(f->link.sends, 3);
	/* a new card at the site, and another one a second later: one push, 2 s after the last */
	add_tokens(f, 3, 4, "RURAL");
	f->clock.fixed_ms = T0 + 100000;
	svc_locallist_tokens_changed(f->svc, "RURAL");
	add_tokens(f, 4, 5, "RURAL");
	f->clock.fixed_ms = T0 + 101000;
	svc_locallist_tokens_changed(f->svc, "RURAL");
	tick_at(f, T0 + 102500);
	assert_int_equal(f->link.sends, 3);
	tick_at(f, T0 + 103000);
	assert_int_equal(f->link.sends, 4);
	assert_string_equal(f->link.station, "R1");
	assert_int_equal(f->link.sent[3].kind, SVC_CMD_LOCAL_LIST_VERSION);
	/* a change while that sync is in flight: after it, once more (not two at a time) */
	add_tokens(f, 5, 6, "RURAL");
	svc_locallist_tokens_changed(f->svc, "RURAL");
	tick_at(f, T0 + 106000);
	assert_int_equal(f->link.sends, 4);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":1}");
	answer(f, SVC_RES_ANSWERED, "", "{\"configurationKey\":[]}"); /* 3 new entries */
	assert_int_equal(f->link.sent[5].kind, SVC_CMD_SEND_LOCAL_LIST);
	assert_false(f->link.sent[5].full);
	assert_int_equal(f->link.sent[5].version, 2);
	assert_int_equal(f->link.sent[5].n, 3); /* CARD-003..005: all read when it was computed */
	answer(f, SVC_RES_ACCEPTED, "Accepted", NULL);
	/* the second sync: version check, then nothing to send */
	assert_int_equal(f->link.sends, 7);
	assert_int_equal(f->link.sent[6].kind, SVC_CMD_LOCAL_LIST_VERSION);
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":2}");
	assert_int_equal(f->link.sends, 7);
	assert_null(f->link.done);
	assert_int_equal(store_local_list_version(f->store, "R1", &v), 0);
	assert_int_equal(v, 2);
	/* another site's tokens: nothing for R1 */
	f->clock.fixed_ms = T0 + 200000;
	svc_locallist_tokens_changed(f->svc, "TOWN");
	tick_at(f, T0 + 210000);
	assert_int_equal(f->link.sends, 7);
	/* a token of no site (valid everywhere a site takes unbound ones): every site checked */
	f->clock.fixed_ms = T0 + 300000;
	svc_locallist_tokens_changed(f->svc, NULL);
	tick_at(f, T0 + 302000);
	assert_int_equal(f->link.sends, 8);
	assert_string_equal(f->link.station, "R1");
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":2}");
}

/* Changes that keep coming are pushed at most 10 s after the first; a station not up yet (its
 * first message after boot not taken) is left to its own check. */
static void test_tokens_changed_max_delay(void **state)
{
	struct fx *f = *state;
	struct chg_station *st = connect_station(f, "R1");

	st->ll_checked = false;
	for (int i = 0; i < 12; i++) {
		f->clock.fixed_ms = T0 + i * 1000;
		svc_locallist_tokens_changed(f->svc, "RURAL");
		svc_locallist_tick(f->svc);
	}
	tick_at(f, T0 + 50000);		    /* the last change's push: still nobody up */
	assert_int_equal(f->link.sends, 0); /* R1 is not up */
	st->ll_checked = true;
	for (int i = 0; i < 12; i++) {
		f->clock.fixed_ms = T0 + 100000 + i * 1000;
		svc_locallist_tokens_changed(f->svc, "RURAL");
		svc_locallist_tick(f->svc);
		assert_int_equal(f->link.sends, i < 10 ? 0 : 1);
	}
	answer(f, SVC_RES_ANSWERED, "", "{\"listVersion\":0}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chunk),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test_setup_teardown(test_sync_split_full, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sync_split_failed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sync_differential_split, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tokens_changed_push, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tokens_changed_max_delay, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("locallist", tests, NULL, NULL);
}
