/* SPDX-License-Identifier: MIT */
/* The planner's run-time pieces: debounce, shaping to capabilities, A <-> W, the V2G convention
 * (docs/v2g.md). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "adapter.h"
#include "api/api.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "plan_rt.h"
#include "store/store.h"
#include "svc/account.h"
#include "svc/cmd.h"
#include "svc/energy.h"
#include "svc/events.h"
#include "svc/link.h"
#include "svc/svc.h"
#include "tariff_json.h"
#include "tariff_store.h"

static void test_debounce(void **state)
{
	int64_t first = 0;

	(void)state;
	/* the first request is due after the debounce */
	assert_int_equal(svc_plan_debounce(&first, 1000, 2000, 10000), 3000);
	assert_int_equal(first, 1000);
	/* a burst keeps moving it ... */
	assert_int_equal(svc_plan_debounce(&first, 2500, 2000, 10000), 4500);
	assert_int_equal(svc_plan_debounce(&first, 8000, 2000, 10000), 10000);
	/* ... but never beyond first + max_delay */
	assert_int_equal(svc_plan_debounce(&first, 10500, 2000, 10000), 11000);
	assert_int_equal(first, 1000);
}

static void test_amps_watts(void **state)
{
	struct svc_charge_caps c;

	(void)state;
	svc_caps_default(&c);
	c.phases = 1;
	c.volts = 230;
	assert_int_equal(svc_w_to_da(7360, &c), 320);	/* 32.0 A */
	assert_int_equal(svc_w_to_da(7400, &c), 321);	/* 32.17 A rounds down */
	assert_int_equal(svc_da_to_w(321, &c), 7383);	/* within the plan */
	assert_int_equal(svc_w_to_da(-3000, &c), -130); /* toward zero: discharge no deeper */
	c.phases = 3;
	assert_int_equal(svc_w_to_da(11040, &c), 160);
}

static void test_shape(void **state)
{
	int64_t w[8] = {7400, 7400, 0, 0, -3000, -3000, 7400, 7400};
	struct svc_charging_profile p = {0};
	struct svc_charge_caps c;
	char why[512];

	(void)state;
	svc_caps_default(&c);
	/* watts, discharge allowed: equal neighbours merge */
	assert_int_equal(svc_plan_shape(w, 8, 1000000, &c, true, &p, why, sizeof(why)), 4);
	assert_int_equal(p.rate_unit, SVC_RATE_W);
	assert_int_equal(p.start_ms, 1000000);
	assert_int_equal(p.periods[0].start_s, 0);
	assert_int_equal(p.periods[1].start_s, 1800);
	assert_int_equal(p.periods[2].limit, -3000);
	assert_int_equal(p.periods[3].start_s, 5400);
	assert_non_null(strstr(why, "4 equal neighbouring slots merged"));
	/* no discharge here: negative slots become 0 and merge with the zeros before them */
	assert_int_equal(svc_plan_shape(w, 8, 0, &c, false, &p, why, sizeof(why)), 3);
	assert_int_equal(p.periods[1].limit, 0);
	assert_non_null(strstr(why, "discharge not allowed"));
	/* amps only, two periods at most */
	c.amps = true;
	c.max_periods = 2;
	assert_int_equal(svc_plan_shape(w, 8, 0, &c, true, &p, why, sizeof(why)), 2);
	assert_int_equal(p.rate_unit, SVC_RATE_A);
	assert_int_equal(p.periods[0].limit, 321);
	assert_int_equal(p.periods[0].phases, 1);
	assert_int_equal(p.periods[1].limit, 0);
	assert_non_null(strstr(why, "cut to 2 periods"));
	assert_non_null(strstr(why, "amps only"));
	assert_int_equal(svc_plan_shape(w, 0, 0, &c, true, &p, why, sizeof(why)), -EINVAL);
}

static void test_caps_json(void **state)
{
	struct svc_charge_caps c, d;
	char buf[512];

	(void)state;
	svc_caps_default(&c);
	c.amps = true;
	c.max_periods = 5;
	assert_int_equal(svc_caps_to_json(&c, buf, sizeof(buf)), 0);
	svc_caps_default(&d);
	assert_int_equal(svc_caps_from_json(buf, &d), 0);
	assert_true(d.amps);
	assert_int_equal(d.max_periods, 5);
	assert_int_equal(svc_caps_from_json("{\"max_periods\": 0}", &d), -EINVAL);
	assert_int_equal(d.max_periods, 5); /* untouched on error */
	assert_int_equal(svc_caps_from_json("[1]", &d), -EINVAL);
}

/* ---------------------------------------------------------------- the runtime on svc */

#define T0	  1795960800000LL /* 2026-11-30T13:20:00Z = 21:20 local (UTC+08:00) */
#define SENDS_MAX 32

/* A fake link: every command the planner sends, answered by the test. */
struct rt_link {
	int n;
	struct svc_cmd cmd[SENDS_MAX];
	char payload[SENDS_MAX][512];
	char station[SENDS_MAX][STATION_ID_MAX + 1];
	svc_link_done_fn done[SENDS_MAX];
	void *ud[SENDS_MAX];
};

static int rt_send(void *impl, const char *station_id, const struct svc_cmd *cmd,
		   svc_link_done_fn done, void *ud)
{
	struct rt_link *l = impl;

	if (l->n == SENDS_MAX)
		return -ENOMEM;
	l->cmd[l->n] = *cmd;
	if (cmd->kind == SVC_CMD_RAW)
		snprintf(l->payload[l->n], sizeof(l->payload[0]), "%s", cmd->raw.payload);
	snprintf(l->station[l->n], sizeof(l->station[0]), "%s", station_id);
	l->done[l->n] = done;
	l->ud[l->n] = ud;
	l->n++;
	return 0;
}

static const struct svc_link_ops rt_ops = {.version = 1, .send = rt_send};

struct rt {
	struct cfg cfg;
	struct clock clock;
	char path[64];
	struct store *store;
	struct svc *svc;
	struct rt_link link;
};

static int rt_setup(void **state)
{
	struct rt *f = calloc(1, sizeof(*f));
	char err[256];
	int fd;

	if (!f)
		return -1;
	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	snprintf(f->path, sizeof(f->path), "/tmp/test_plan_rt_XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	close(fd);
	f->store = store_open(f->path, false, err, sizeof(err));
	if (!f->store)
		return -1;
	f->svc = svc_create(f->store, &f->clock, &f->cfg);
	if (!f->svc)
		return -1;
	svc_set_link(f->svc, &rt_ops, &f->link);
	assert_int_equal(store_site_put(f->store, "HOME", SITE_RESIDENTIAL, T0), 0);
	assert_int_equal(store_station_put(f->store, "CP-A", "HOME", NULL, T0), 0);
	assert_int_equal(store_station_put(f->store, "CP-B", "HOME", NULL, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
	*state = f;
	return 0;
}

static int rt_teardown(void **state)
{
	struct rt *f = *state;
	char side[80];

	svc_destroy(f->svc);
	store_close(f->store);
	cfg_free(&f->cfg);
	unlink(f->path);
	snprintf(side, sizeof(side), "%s-wal", f->path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", f->path);
	unlink(side);
	free(f);
	return 0;
}

static int64_t rt_open(struct rt *f, const char *station)
{
	struct store_session_open in = {
	    .station_id = station,
	    .evse_id = 1,
	    .connector_id = 1,
	    .id_tag = "TAG1",
	    .auth_status = AUTH_ACCEPTED,
	    .start_ms = T0,
	    .now_ms = T0,
	    .has_meter_start = true,
	    .meter_start_wh = 1000,
	};
	int64_t id;

	assert_int_equal(store_session_open(f->store, &in, &id), 0);
	assert_int_equal(store_commit(f->store), 0);
	return id;
}

/* Answer every send from `from` on with status, as the node's group commit does it. */
static void rt_answer(struct rt *f, int from, int status)
{
	struct svc_cmd_result res = {.status = status};

	snprintf(res.station_status, sizeof(res.station_status), "%s",
		 status == SVC_RES_ACCEPTED ? "Accepted" : "Rejected");

	for (int i = from; i < f->link.n; i++)
		f->link.done[i](f->link.ud[i], &res);
	svc_cmd_release(f->svc, store_commit(f->store) == 0);
}

static int find_send(const struct rt *f, int from, int kind, int purpose)
{
	for (int i = from; i < f->link.n; i++)
		if (f->link.cmd[i].kind == kind &&
		    (kind != SVC_CMD_SET_PROFILE || f->link.cmd[i].profile.purpose == purpose))
			return i;
	return -1;
}

static int count_caps(const struct svc_model_caps *c, void *ud)
{
	(void)c;
	(*(int *)ud)++;
	return 0;
}

static int doc_dup(const char *key, int64_t ts_ms, const char *json, void *ud)
{
	(void)key;
	(void)ts_ms;
	*(char **)ud = strdup(json);
	return 0;
}

/*
** A planned session end to end on svc: its TxProfile and the site limit as a station max
** profile go out through the link; no export is planned without a grid event; the target comes
** from energyAmountWh (exact) over the whole-percent SoC; a Rejected answer to a profile whose
** session ended meanwhile teaches nothing about the station.
*/
static void test_runtime_on_svc(void **state)
{
	struct rt *f = *state;
	struct svc_needs_in in;
	struct svc_model_caps mc;
	bool managed = false;
	int64_t a, b;
	int tx, mx, base;

	a = rt_open(f, "CP-A");
	b = rt_open(f, "CP-B");
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 10000), 0);
	/* A: 60 kWh battery at 50 %, target 80 % told as whole percents, 18 001 Wh exactly;
	 * V2G allowed on a bidirectional EVSE; leaves at 07:00 local */
	svc_needs_init(&in);
	in.capacity_wh = 60000;
	in.soc = 50;
	in.target_soc = 80;
	in.energy_wh = 18001;
	in.v2g = 1;
	in.bidirectional = 1;
	in.soc_floor = 30;
	in.max_charge_w = 7400;
	in.max_discharge_w = 7400;
	in.departure_ms = T0 + 9 * 3600000LL + 40 * 60000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_true(managed);
	assert_int_equal(store_commit(f->store), 0);

	f->clock.fixed_ms = T0 + 10000; /* past the debounce */
	svc_plan_tick(f->svc);		/* no worker: solved on the caller */
	assert_int_equal(svc_plan_count(f->svc), 1);

	/* the TxProfile of A: W, stack level 1, its transaction; never below 0 (no event) */
	tx = find_send(f, 0, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX);
	assert_true(tx >= 0);
	for (int i = tx; i < f->link.n; i++) {
		const struct svc_cmd *c = &f->link.cmd[i];

		if (c->kind != SVC_CMD_SET_PROFILE || c->profile.purpose != SVC_PURPOSE_TX)
			continue;
		assert_int_equal(c->profile.stack_level, 1);
		assert_int_equal(c->profile.rate_unit, SVC_RATE_W);
		for (size_t q = 0; q < c->profile.n_periods; q++)
			assert_true(c->profile.periods[q].limit >= 0);
	}
	/* the site limit as each station's max profile, in W, evse 0 */
	mx = find_send(f, 0, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX);
	assert_true(mx >= 0);
	assert_int_equal(f->link.cmd[mx].evse_id, 0);
	assert_int_equal(f->link.cmd[mx].profile.periods[0].limit, 10000);
	assert_int_equal(f->link.cmd[mx].profile.n_periods, 1);
	assert_true(find_send(f, mx + 1, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX) > mx);
	/* and a TxDefaultProfile that holds a new session at 0 W until its plan comes */
	mx = find_send(f, 0, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX_DEFAULT);
	assert_true(mx >= 0);
	assert_int_equal(f->link.cmd[mx].profile.start_ms, 0); /* Relative */
	assert_int_equal(f->link.cmd[mx].profile.n_periods, 2);
	assert_int_equal(f->link.cmd[mx].profile.periods[0].limit, 0);
	assert_int_equal(f->link.cmd[mx].profile.periods[1].start_s, 900);
	assert_int_equal(f->link.cmd[mx].profile.periods[1].limit, 10000);
	rt_answer(f, 0, SVC_RES_ACCEPTED);

	/* A's plan: the target is SoC + energyAmountWh, not 80 % of 60 kWh */
	{
		json_t *doc;
		char *text = NULL;
		int64_t tgt;

		assert_int_equal(store_session_plan_get(f->store, a, doc_dup, &text), 0);
		assert_non_null(text);
		doc = json_loads(text, 0, NULL);
		assert_non_null(doc);
		tgt = json_integer_value(json_object_get(doc, "target_wh"));
		assert_int_equal(tgt, 30000 + 18001);
		free(text);
		json_decref(doc);
	}

	/* the next slot: B ends while its profile is on the way and the station refuses it */
	base = f->link.n;
	f->clock.fixed_ms = T0 + 15 * 60000LL;
	svc_plan_tick(f->svc);
	assert_int_equal(svc_plan_count(f->svc), 2);
	assert_true(f->link.n > base);
	/* the station max profiles are not sent again for the same limit */
	assert_int_equal(find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX), -1);
	{
		struct store_session_close cl = {.stop_ms = f->clock.fixed_ms,
						 .meter_stop_wh = 1500};

		assert_int_equal(store_session_close(f->store, b, &cl), 0);
		assert_int_equal(store_commit(f->store), 0);
	}
	rt_answer(f, base, SVC_RES_REJECTED);
	/* nothing learned (CP-B booted without vendor and model: a record of its own) */
	assert_int_equal(svc_station_caps(f->svc, "CP-B", &mc), 0);
	assert_string_equal(mc.model, "station:CP-B");
	assert_int_equal(mc.updated_ms, 0);
	assert_string_equal(mc.learned, "{}");
	assert_false(mc.effective.amps);
	/* nor from refusing A (running here): CP-A took a TxProfile of that shape before, so its
	 * transaction may have ended at the station already (the end not here yet) */
	assert_int_equal(svc_station_caps(f->svc, "CP-A", &mc), 0);
	assert_string_equal(mc.learned, "{}");
	/* ... while a refusal by a station that never took one is learned: W -> A next time */
	{
		struct store_session_open op = {
		    .station_id = "CP-C",
		    .evse_id = 1,
		    .connector_id = 1,
		    .id_tag = "TAG2",
		    .auth_status = AUTH_ACCEPTED,
		    .start_ms = T0 + 20 * 60000LL,
		    .now_ms = T0 + 20 * 60000LL,
		    .has_meter_start = true,
		    .meter_start_wh = 1000,
		};
		int64_t c;

		assert_int_equal(store_station_create(f->store, "CP-C", REG_ACCEPTED, T0), 0);
		assert_int_equal(store_station_put(f->store, "CP-C", "HOME", NULL, T0), 0);
		assert_int_equal(store_session_open(f->store, &op, &c), 0);
		assert_int_equal(store_commit(f->store), 0);
		svc_plan_touch(f->svc, "HOME");
	}
	base = f->link.n;
	f->clock.fixed_ms = T0 + 30 * 60000LL;
	svc_plan_tick(f->svc);
	assert_true(find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX) >= 0);
	/* the TxProfiles refused (A's and C's), CP-C's first station-level profiles taken */
	{
		struct svc_cmd_result no = {.status = SVC_RES_REJECTED,
					    .station_status = "Rejected"};
		struct svc_cmd_result yes = {.status = SVC_RES_ACCEPTED,
					     .station_status = "Accepted"};

		for (int i = base; i < f->link.n; i++)
			f->link.done[i](f->link.ud[i],
					f->link.cmd[i].profile.purpose == SVC_PURPOSE_TX ? &no
											 : &yes);
		svc_cmd_release(f->svc, store_commit(f->store) == 0);
	}
	assert_int_equal(svc_station_caps(f->svc, "CP-A", &mc), 0);
	assert_string_equal(mc.learned, "{}");
	assert_int_equal(svc_station_caps(f->svc, "CP-C", &mc), 0);
	assert_true(mc.effective.amps);
	assert_non_null(strstr(mc.learned, "\"amps\":true"));
	assert_non_null(strstr(mc.reason, "CP-C")); /* why, for the operator */

	/* a station that boots again gets its station-level profiles again, on the next tick
	 * (after the BootNotification answer), in A now */
	{
		struct store_boot boot = {.protocol = "ocpp1.6", .now_ms = f->clock.fixed_ms};
		struct svc_boot_result br;
		void *replaced = NULL;
		int conn;
		struct chg_station *st =
		    svc_station_attach(f->svc, "CP-C", 0, "ocpp1.6", &conn, &replaced);

		assert_non_null(st);
		base = f->link.n;
		assert_int_equal(svc_boot(f->svc, st, &boot, &br), 0);
		assert_int_equal(br.status, REG_ACCEPTED);
		assert_int_equal(f->link.n, base); /* nothing before the answer */
		f->clock.fixed_ms += 1000;
		svc_plan_tick(f->svc);
		mx = find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX);
		assert_true(mx >= 0);
		assert_string_equal(f->link.station[mx], "CP-C");
		assert_int_equal(f->link.cmd[mx].profile.rate_unit, SVC_RATE_A);
		assert_int_equal(f->link.cmd[mx].profile.periods[0].limit, 434); /* 10 kW / 230 V */
		assert_true(find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX_DEFAULT) >= 0);
		rt_answer(f, base, SVC_RES_ACCEPTED);
		svc_station_detach(f->svc, st, &conn);
	}
}

/* Boot station id as vendor/model (the store's record of a BootNotification). */
static void rt_boot(struct rt *f, const char *id, const char *vendor, const char *model)
{
	struct store_boot b = {
	    .protocol = "ocpp1.6", .vendor = vendor, .model = model, .now_ms = f->clock.fixed_ms};

	assert_int_equal(store_station_boot(f->store, id, &b), 0);
	assert_int_equal(store_commit(f->store), 0);
}

/*
** The capability record is the station model's: what one station of a vendor/model teaches
** applies to every station of that model (and to no other), with the reason; the operator's
** members win over what is learned, the plan's shaping text says why, and "{}" gives the model
** back to what was learned.
*/
static void test_caps_per_model(void **state)
{
	struct rt *f = *state;
	struct svc_model_caps mc;
	struct svc_needs_in in;
	bool managed;
	int64_t a;
	int base, tx;

	rt_boot(f, "CP-A", "Acme", "Home 7");
	rt_boot(f, "CP-B", "Acme", "Home 7");
	assert_int_equal(store_station_put(f->store, "CP-C", "HOME", NULL, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
	rt_boot(f, "CP-C", "Acme", "Home 22");
	assert_int_equal(svc_model_caps_get(f->svc, "Acme", "Home 7", &mc), -ENOENT);

	a = rt_open(f, "CP-A");
	svc_needs_init(&in);
	in.energy_wh = 20000;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + 8 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	f->clock.fixed_ms = T0 + 10000;
	svc_plan_tick(f->svc);
	tx = find_send(f, 0, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX);
	assert_true(tx >= 0);
	assert_int_equal(f->link.cmd[tx].profile.rate_unit, SVC_RATE_W);
	/* CP-A refuses its W TxProfile (and takes the station-level ones): the model learns amps */
	{
		struct svc_cmd_result no = {.status = SVC_RES_REJECTED};
		struct svc_cmd_result yes = {.status = SVC_RES_ACCEPTED};

		snprintf(yes.station_status, sizeof(yes.station_status), "Accepted");
		snprintf(no.station_status, sizeof(no.station_status), "Rejected");
		for (int i = 0; i < f->link.n; i++)
			f->link.done[i](f->link.ud[i], i == tx ? &no : &yes);
		svc_cmd_release(f->svc, store_commit(f->store) == 0);
	}
	assert_int_equal(svc_model_caps_get(f->svc, "Acme", "Home 7", &mc), 0);
	assert_true(mc.effective.amps);
	assert_non_null(strstr(mc.reason, "station CP-A rejected a TxProfile in W"));
	assert_int_equal(svc_station_caps(f->svc, "CP-B", &mc), 0); /* same model */
	assert_string_equal(mc.vendor, "Acme");
	assert_true(mc.effective.amps);
	assert_int_equal(svc_station_caps(f->svc, "CP-C", &mc), 0); /* another model */
	assert_false(mc.effective.amps);
	assert_int_equal(mc.updated_ms, 0);

	/* the operator: bad members are refused, good ones win over what was learned */
	assert_int_equal(svc_model_caps_override(f->svc, "Acme", "Home 7", "{\"amps\":1}"),
			 -EINVAL);
	assert_int_equal(svc_model_caps_override(f->svc, "Acme", "Home 7", "{\"colour\":1}"),
			 -EINVAL);
	assert_int_equal(svc_model_caps_override(f->svc, "Acme", "Home 7", "[]"), -EINVAL);
	assert_int_equal(
	    svc_model_caps_override(f->svc, "Acme", "Home 7", "{\"amps\":false,\"max_periods\":5}"),
	    0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(svc_station_caps(f->svc, "CP-B", &mc), 0);
	assert_false(mc.effective.amps);
	assert_int_equal(mc.effective.max_periods, 5);
	assert_non_null(strstr(mc.learned, "\"amps\":true")); /* still learned */

	/* the next plan follows the override, and its shaping text says why */
	base = f->link.n;
	f->clock.fixed_ms = T0 + 15 * 60000LL;
	svc_plan_tick(f->svc);
	tx = find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX);
	assert_true(tx >= 0);
	assert_int_equal(f->link.cmd[tx].profile.rate_unit, SVC_RATE_W);
	assert_true(f->link.cmd[tx].profile.n_periods <= 5);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	{
		json_t *doc;
		char *text = NULL;
		const char *why;

		assert_int_equal(store_session_plan_get(f->store, a, doc_dup, &text), 0);
		doc = json_loads(text, 0, NULL);
		assert_non_null(doc);
		why = json_string_value(json_object_get(doc, "shaping"));
		assert_non_null(why);
		assert_non_null(strstr(why, "capabilities of Acme Home 7"));
		assert_non_null(strstr(why, "set by the operator"));
		free(text);
		json_decref(doc);
	}
	/* "{}" clears the override: back to what was learned */
	assert_int_equal(svc_model_caps_override(f->svc, "Acme", "Home 7", "{}"), 0);
	assert_int_equal(svc_model_caps_get(f->svc, "Acme", "Home 7", &mc), 0);
	assert_true(mc.effective.amps);
	assert_string_equal(mc.override, "{}");
	{
		int n = 0;

		assert_int_equal(svc_model_caps_list(f->svc, count_caps, &n), 1);
		assert_int_equal(n, 1);
	}
}

/* TxProfile sends from `from` on; *ret_last: the index of the last one. */
static int tx_sends(const struct rt *f, int from, int *ret_last)
{
	int n = 0;

	for (int i = from; i < f->link.n; i++)
		if (f->link.cmd[i].kind == SVC_CMD_SET_PROFILE &&
		    f->link.cmd[i].profile.purpose == SVC_PURPOSE_TX) {
			n++;
			*ret_last = i;
		}
	return n;
}

/* A replan at now_ms: the sends it made start at the returned index. */
static int rt_replan(struct rt *f, int64_t now_ms, bool touch)
{
	int base = f->link.n;

	if (touch)
		svc_plan_touch(f->svc, "HOME");
	f->clock.fixed_ms = now_ms;
	svc_plan_tick(f->svc);
	return base;
}

/*
** A session's TxProfile goes out only when what the station would follow changes: a replan
** (the next slot, or a touch) with the same schedule from now on sends nothing, a changed one
** sends once; a reconnection, a boot, a refused profile and the refresh period send it again.
*/
static void test_tx_only_changed(void **state)
{
	struct rt *f = *state;
	struct svc_needs_in in;
	uint64_t sent, skipped;
	bool managed;
	int64_t a, now;
	int base, last = -1, first;
	void *replaced = NULL;
	int conn;
	struct chg_station *st;

	/* more than 5 h at 7.4 kW can give: full power until departure in every plan */
	a = rt_open(f, "CP-A");
	svc_needs_init(&in);
	in.energy_wh = 200000;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + 5 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	now = T0 + 10000;
	base = rt_replan(f, now, false);
	assert_int_equal(svc_plan_count(f->svc), 1);
	assert_int_equal(tx_sends(f, base, &last), 1);
	first = last;
	assert_int_equal(f->link.cmd[first].profile.periods[0].limit, 7400);
	svc_plan_tx_counts(f->svc, &sent, &skipped);
	assert_int_equal(sent, 1);
	assert_int_equal(skipped, 0);
	/* on its way: a replan with the same schedule does not send it twice */
	base = rt_replan(f, now += 5000, true);
	assert_int_equal(svc_plan_count(f->svc), 2);
	assert_int_equal(tx_sends(f, base, &last), 0);
	rt_answer(f, 0, SVC_RES_ACCEPTED);

	/* the next slot (the schedule starts 15 min later, the same from now on): nothing */
	base = rt_replan(f, now = T0 + 15 * 60000LL, false);
	assert_int_equal(svc_plan_count(f->svc), 3);
	assert_int_equal(tx_sends(f, base, &last), 0);
	svc_plan_tx_counts(f->svc, &sent, &skipped);
	assert_int_equal(sent, 1);
	assert_int_equal(skipped, 2);

	/* the EV now takes 3.7 kW: sent once, then not again */
	in.max_charge_w = 3700;
	in.energy_wh = -1;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	base = rt_replan(f, now += 10000, false);
	assert_int_equal(svc_plan_count(f->svc), 4);
	assert_int_equal(tx_sends(f, base, &last), 1);
	assert_true(f->link.cmd[last].profile.n_periods >= 2); /* the slot in progress: 7.4 kW */
	assert_int_equal(f->link.cmd[last].profile.periods[1].limit, 3700);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	base = rt_replan(f, now += 10000, true);
	assert_int_equal(svc_plan_count(f->svc), 5);
	assert_int_equal(tx_sends(f, base, &last), 0);

	/* the station connects again (online event after the commit): sent again, unasked */
	st = svc_station_attach(f->svc, "CP-A", 0, "ocpp1.6", &conn, &replaced);
	assert_non_null(st);
	svc_events_release(f->svc, true);
	base = rt_replan(f, now += 10000, false);
	assert_int_equal(svc_plan_count(f->svc), 6);
	assert_int_equal(tx_sends(f, base, &last), 1);
	assert_string_equal(f->link.station[last], "CP-A");
	/* ... and refused there: sent again at the next plan */
	rt_answer(f, base, SVC_RES_REJECTED);
	base = rt_replan(f, now += 10000, true);
	assert_int_equal(tx_sends(f, base, &last), 1);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	base = rt_replan(f, now += 10000, true);
	assert_int_equal(tx_sends(f, base, &last), 0);

	/* a BootNotification accepted (a reboot loses profiles): sent again */
	{
		struct store_boot boot = {.protocol = "ocpp1.6", .now_ms = now};
		struct svc_boot_result br;

		assert_int_equal(svc_boot(f->svc, st, &boot, &br), 0);
		assert_int_equal(br.status, REG_ACCEPTED);
		assert_int_equal(store_commit(f->store), 0);
	}
	base = rt_replan(f, now += 10000, false);
	assert_int_equal(tx_sends(f, base, &last), 1);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	svc_station_detach(f->svc, st, &conn);
	svc_events_release(f->svc, true);

	/* unchanged for an hour since the last send: sent again (the refresh) */
	base = rt_replan(f, now += 45 * 60000LL, true);
	assert_int_equal(tx_sends(f, base, &last), 0);
	base = rt_replan(f, now += 15 * 60000LL, true);
	assert_int_equal(tx_sends(f, base, &last), 1);
	assert_int_equal(f->link.cmd[last].profile.periods[0].limit, 3700);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	svc_plan_tx_counts(f->svc, &sent, &skipped);
	assert_int_equal(sent, 6);
	assert_int_equal(skipped, 5);
}

/*
** The planner remembers a site's row (kind, limit) for a while: an edit through this node is
** seen at once (svc_site_set_limit, svc_plan_site_changed), a write the node did not make
** (another node's) only once the row is read again.
*/
static void test_site_row_memory(void **state)
{
	struct rt *f = *state;

	assert_int_equal(store_site_put(f->store, "SHOP", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
	svc_plan_touch(f->svc, "SHOP"); /* the planner runs (a node's does from its start) */
	assert_false(svc_site_managed(f->svc, "SHOP")); /* public, no limit, no calendar */
	/* another node sets a limit: not seen yet */
	assert_int_equal(store_site_set_limit(f->store, "SHOP", 22000), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_false(svc_site_managed(f->svc, "SHOP"));
	/* the operator's edit through this node: seen at once */
	svc_plan_site_changed(f->svc, "SHOP");
	assert_true(svc_site_managed(f->svc, "SHOP"));
	assert_int_equal(svc_site_set_limit(f->svc, "SHOP", -1), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_false(svc_site_managed(f->svc, "SHOP"));
	assert_false(svc_site_managed(f->svc, "NO-SUCH-SITE"));
}

/* At most 2 plans are built per tick: a city's sites planning at one slot's start spread over
 * the next ticks instead of stalling the node's loop and the database (docs/scaling.md) */
static void test_plans_per_tick(void **state)
{
	struct rt *f = *state;
	uint64_t before;

	for (int i = 0; i < 60; i++) {
		char site[16], station[16];

		snprintf(site, sizeof(site), "RES-%02d", i);
		snprintf(station, sizeof(station), "CP-R%02d", i);
		assert_int_equal(store_site_put(f->store, site, SITE_RESIDENTIAL, T0), 0);
		assert_int_equal(store_station_put(f->store, station, site, NULL, T0), 0);
		assert_int_equal(store_commit(f->store), 0);
		rt_open(f, station);
		svc_plan_touch(f->svc, site);
	}
	before = svc_plan_count(f->svc);
	f->clock.fixed_ms = T0 + 10000; /* past the debounce */
	svc_plan_tick(f->svc);
	assert_int_equal(svc_plan_count(f->svc) - before, 2);
	for (int t = 1; t < 30; t++) {
		rt_answer(f, 0, SVC_RES_ACCEPTED); /* the profiles the plans sent */
		f->link.n = 0;
		f->clock.fixed_ms += 100;
		svc_plan_tick(f->svc);
		assert_int_equal(svc_plan_count(f->svc) - before, 2 * (t + 1));
	}
	rt_answer(f, 0, SVC_RES_ACCEPTED);
}

/* An import register reading of session id on st at ts_ms. */
static void rt_reading(struct rt *f, struct chg_station *st, int64_t id, int64_t ts_ms, int64_t wh)
{
	char v[32];
	struct store_sample in = {.session_id = id,
				  .station_id = "CP-A",
				  .evse_id = 1,
				  .ts_ms = ts_ms,
				  .measurand = "Energy.Active.Import.Register",
				  .measurand_kind = MEAS_ENERGY_IMPORT_REGISTER,
				  .unit = "Wh",
				  .value = v};

	snprintf(v, sizeof(v), "%lld", (long long)wh);
	assert_int_equal(svc_sample_add(f->svc, st, &in), 0);
	assert_int_equal(store_commit(f->store), 0);
}

/*
** The rolling horizon: at a slot's start a site's plan is made again only when it must. A
** session whose readings follow the plan keeps it (no statements, no profile); one whose
** register strays from it (the EV stopped drawing), one not read since it was planned, and a
** plan an hour old are planned again.
*/
static void test_roll_on_readings(void **state)
{
	struct rt *f = *state;
	struct svc_needs_in in;
	struct chg_station *st;
	void *replaced = NULL;
	bool managed;
	int64_t a, wh = 1000, slot = 15 * 60000LL, kw = 7400;
	int conn;

	/* more than 5 h at 7.4 kW can give: 7.4 kW in every slot of every plan */
	a = rt_open(f, "CP-A");
	st = svc_station_attach(f->svc, "CP-A", 0, "ocpp1.6", &conn, &replaced);
	assert_non_null(st);
	svc_events_release(f->svc, true);
	svc_needs_init(&in);
	in.energy_wh = 200000;
	in.max_charge_w = kw;
	in.departure_ms = T0 + 5 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	rt_replan(f, T0 + 10000, false);
	assert_int_equal(svc_plan_count(f->svc), 1);
	rt_answer(f, 0, SVC_RES_ACCEPTED);
	f->link.n = 0;

	/* read after the plan was made, not when: planned again, the reading its anchor */
	rt_reading(f, st, a, T0 + 60000, wh);
	rt_replan(f, T0 + slot, false);
	assert_int_equal(svc_plan_count(f->svc), 2);
	assert_int_equal(svc_plan_rolls_skipped(f->svc), 0);
	/* planned again within the slot (a touch): what the plan before gave the slot before
	 * stays known, so the anchor can still be judged */
	rt_replan(f, T0 + slot + 10000, true);
	assert_int_equal(svc_plan_count(f->svc), 3);

	/* 19 min at 7.4 kW later the register rose by what the plan gives: the plan stands */
	wh += kw * 19 / 60;
	rt_reading(f, st, a, T0 + 20 * 60000, wh);
	rt_replan(f, T0 + 2 * slot, false);
	assert_int_equal(svc_plan_count(f->svc), 3);
	assert_int_equal(svc_plan_rolls_skipped(f->svc), 1);
	/* within the tolerance (10 %, at least 500 Wh) still */
	rt_reading(f, st, a, T0 + 40 * 60000, wh + kw * 20 / 60 - 400);
	rt_replan(f, T0 + 3 * slot, false);
	assert_int_equal(svc_plan_count(f->svc), 3);
	assert_int_equal(svc_plan_rolls_skipped(f->svc), 2);

	/* then the EV stops drawing: 0 Wh in 15 min where the plan gives 1.85 kWh (the plan is
	 * 45 min old): planned again */
	wh += kw * 20 / 60 - 400;
	rt_reading(f, st, a, T0 + 55 * 60000, wh);
	rt_replan(f, T0 + 4 * slot, false);
	assert_int_equal(svc_plan_count(f->svc), 4);

	/* on plan from then on: it stands for an hour, then it is made again */
	for (int k = 5; k <= 8; k++) {
		wh += kw / 4;
		rt_reading(f, st, a, T0 + 55 * 60000 + (k - 4) * slot, wh);
		rt_replan(f, T0 + k * slot, false);
		assert_int_equal(svc_plan_count(f->svc), k < 8 ? 4 : 5);
	}
	assert_int_equal(svc_plan_rolls_skipped(f->svc), 5);

	/* nothing read since the plan: nothing to correct it by, it stands */
	rt_replan(f, T0 + 9 * slot, false);
	assert_int_equal(svc_plan_count(f->svc), 5);
	assert_int_equal(svc_plan_rolls_skipped(f->svc), 6);
	rt_answer(f, 0, SVC_RES_ACCEPTED);
	svc_station_detach(f->svc, st, &conn);
	svc_events_release(f->svc, true);
}

/* The mode of session id's stored plan ("ChargingOnly", "CentralSetpoint"); the caller frees. */
static char *plan_mode(struct rt *f, int64_t id)
{
	char *text = NULL, *mode;
	json_t *doc;

	assert_int_equal(store_session_plan_get(f->store, id, doc_dup, &text), 0);
	assert_non_null(text);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	mode = strdup(json_string_value(json_object_get(doc, "mode")));
	json_decref(doc);
	free(text);
	return mode;
}

/*
** A V2G session on CP-A at its target (80 % of 60 kWh), the EVSE declared bidirectional or not,
** and a grid event that pays for export: its slots are in flat (54,690 fen/MWh), the valley
** from 23:00 local (16,407) refills for less, so the event is worth 38,283 fen per MWh
** discharged. Returns the session.
*/
static int64_t v2g_event_site(struct rt *f, int bidirectional)
{
	struct store_grid_event ev = {
	    .sites = "HOME",
	    .start_ms = T0 + 10 * 60000LL,
	    .end_ms = T0 + 40 * 60000LL,
	    .export_w = 7000,
	    .bonus_fen_per_kwh = 100, /* 100,000 fen per MWh */
	};
	struct svc_needs_in in;
	struct tariff_calendar *cal;
	char err[TARIFF_JSON_ERR_MAX];
	bool managed;
	int64_t a;

	assert_int_equal(tariff_json_load_file(TOP_SRCDIR
					       "/docs/tariffs/example-shandong-residential.json",
					       &cal, err),
			 0);
	assert_int_equal(svc_site_set_tariff(f->svc, "HOME", cal), 0);
	a = rt_open(f, "CP-A");
	svc_needs_init(&in);
	in.capacity_wh = 60000;
	in.soc = 80;
	in.target_soc = 80;
	in.soc_floor = 20;
	in.v2g = 1;
	in.bidirectional = bidirectional;
	in.max_charge_w = 7400;
	in.max_discharge_w = 7400;
	in.departure_ms = T0 + 10 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(svc_grid_event_add(f->svc, &ev), 0);
	assert_int_equal(store_commit(f->store), 0);
	return a;
}

/* The V2G site above: the plan discharges at the default wear cost (the event is worth more)
 * and not when planner_wear_fen_per_mwh is higher than what the event is worth. */
static void test_wear_cost_config(void **state)
{
	struct rt *f = *state;
	char *mode;
	int64_t a;
	int base;

	assert_int_equal(f->cfg.planner_wear_fen_per_mwh, 20000);
	a = v2g_event_site(f, 1);
	base = rt_replan(f, T0 + 10000, false);
	mode = plan_mode(f, a);
	assert_string_equal(mode, "CentralSetpoint");
	free(mode);
	/* the mode goes out as the domain's command (the adapter makes it the vendor
	 * DataTransfer of docs/v2g.md), never as a raw action */
	{
		int seen = 0;

		for (int i = base; i < f->link.n; i++) {
			const struct svc_cmd *c = &f->link.cmd[i];

			assert_true(c->kind != SVC_CMD_RAW);
			if (c->kind != SVC_CMD_SET_V2G_MODE)
				continue;
			seen++;
			assert_int_equal(c->v2g.mode, SVC_MODE_CENTRAL_SETPOINT);
			assert_int_equal(c->session_id, a);
			assert_int_equal(c->evse_id, 1);
			assert_true(c->v2g.valid_until_ms > T0);
		}
		assert_int_equal(seen, 1);
	}
	rt_answer(f, base, SVC_RES_ACCEPTED);

	f->cfg.planner_wear_fen_per_mwh = 40000; /* more than the event is worth */
	base = rt_replan(f, T0 + 20000, true);
	mode = plan_mode(f, a);
	assert_string_equal(mode, "ChargingOnly");
	free(mode);
	rt_answer(f, base, SVC_RES_ACCEPTED);
}

/* A calendar replaced (PUT /api/tariffs/{id}) replans the sites that reference it, and only
 * those. */
static void test_tariff_replaced_replans(void **state)
{
	struct rt *f = *state;
	struct energy *e = energy_create(f->store);
	struct tariff_calendar *cal;
	json_t *doc;
	char err[TARIFF_JSON_ERR_MAX];
	struct svc_needs_in in;
	bool managed;
	int64_t a;

	assert_non_null(e);
	assert_int_equal(store_site_put(f->store, "OTHER", SITE_RESIDENTIAL, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
	doc = json_load_file(TOP_SRCDIR "/docs/tariffs/example-shandong-residential.json", 0, NULL);
	assert_non_null(doc);
	assert_int_equal(tariff_store_put(f->store, doc, T0, &cal, NULL, err), 0);
	json_decref(doc);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(energy_calendar_put(e, cal), 0);
	assert_int_equal(energy_site_tariff_set(e, "HOME", "example-sd-residential"), 0);
	assert_int_equal(svc_plan_set_calendars(f->svc, e), 0);

	a = rt_open(f, "CP-A");
	svc_needs_init(&in);
	in.energy_wh = 20000;
	in.departure_ms = T0 + 8 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	rt_replan(f, T0 + 10000, false);
	assert_int_equal(svc_plan_count(f->svc), 1);
	rt_replan(f, T0 + 20000, false); /* nothing asked, same slot: the plan stands */
	assert_int_equal(svc_plan_count(f->svc), 1);

	assert_int_equal(svc_plan_tariff_replaced(f->svc, "nope"), 0);
	assert_int_equal(svc_plan_tariff_replaced(f->svc, "example-sd-residential"), 1);
	rt_replan(f, T0 + 30000, false); /* past the debounce */
	assert_int_equal(svc_plan_count(f->svc), 2);
	rt_answer(f, 0, SVC_RES_ACCEPTED); /* the profiles both plans sent */

	assert_int_equal(svc_plan_set_calendars(f->svc, NULL), 0);
	energy_destroy(e);
}

/* A site's limit cleared: the stations that were sent its station-level profiles are told to
 * clear them (the station max profile 9000 and the TxDefaultProfile 9001, by id), as
 * ClearChargingProfile in both versions; a new limit later sends them again. */
static void test_limit_cleared_clears_profiles(void **state)
{
	struct rt *f = *state;
	int seen[2] = {0, 0}, base;
	int64_t b;

	rt_open(f, "CP-A");
	b = rt_open(f, "CP-B");
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 12000), 0);
	base = rt_replan(f, T0 + 10000, false);
	assert_true(find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX) >= 0);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	/* B ends; a new limit goes to A only, but B still holds the profiles of the old one */
	{
		struct store_session_close cl = {.stop_ms = T0 + 12000, .meter_stop_wh = 1500};

		assert_int_equal(store_session_close(f->store, b, &cl), 0);
		assert_int_equal(store_commit(f->store), 0);
	}
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 10000), 0);
	base = rt_replan(f, T0 + 15000, false);
	assert_true(find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX) >= 0);
	rt_answer(f, base, SVC_RES_ACCEPTED);

	/* cleared: both stations are told to drop both profiles */
	base = f->link.n;
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", -1), 0);
	assert_int_equal(f->link.n, base + 4);
	for (int i = base; i < f->link.n; i++) {
		const struct svc_cmd *c = &f->link.cmd[i];
		const char *action;
		json_t *p;

		assert_int_equal(c->kind, SVC_CMD_CLEAR_PROFILE);
		assert_true(!strcmp(f->link.station[i], "CP-A") ||
			    !strcmp(f->link.station[i], "CP-B"));
		assert_true(c->clear.has_id);
		assert_true(c->clear.id == 9000 || c->clear.id == 9001);
		seen[c->clear.id - 9000]++;
		assert_int_equal(adapter_for(OCPP_V16)->encode_cmd(c, &action, &p), 0);
		assert_string_equal(action, "ClearChargingProfile");
		assert_int_equal(json_integer_value(json_object_get(p, "id")), c->clear.id);
		json_decref(p);
		assert_int_equal(adapter_for(OCPP_V201)->encode_cmd(c, &action, &p), 0);
		assert_string_equal(action, "ClearChargingProfile");
		assert_int_equal(json_integer_value(json_object_get(p, "chargingProfileId")),
				 c->clear.id);
		json_decref(p);
	}
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 2);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	/* the replan after it sends no station-level profile */
	base = rt_replan(f, T0 + 20000, false);
	assert_int_equal(find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX), -1);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	/* a limit again: sent again */
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 8000), 0);
	base = rt_replan(f, T0 + 30000, false);
	assert_true(find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_STATION_MAX) >= 0);
	rt_answer(f, base, SVC_RES_ACCEPTED);
}

/* The operator's `bidirectional` in the station model's record wins over what the station
 * declared for the session: false stops the discharge (no negative limit goes out), true lets
 * an EVSE that declared nothing discharge. */
static void test_bidirectional_override_wins(void **state)
{
	struct rt *f = *state;
	char *mode;
	int64_t a;
	int base;

	a = v2g_event_site(f, 1);
	assert_int_equal(
	    svc_model_caps_override(f->svc, "", "station:CP-A", "{\"bidirectional\":false}"), 0);
	assert_int_equal(store_commit(f->store), 0);
	base = rt_replan(f, T0 + 10000, false);
	mode = plan_mode(f, a);
	assert_string_equal(mode, "ChargingOnly");
	free(mode);
	for (int i = base; i < f->link.n; i++) {
		assert_true(f->link.cmd[i].kind != SVC_CMD_SET_V2G_MODE); /* no SetV2GMode */
		assert_true(f->link.cmd[i].kind != SVC_CMD_RAW);
		for (size_t q = 0; f->link.cmd[i].kind == SVC_CMD_SET_PROFILE &&
				   q < f->link.cmd[i].profile.n_periods;
		     q++)
			assert_true(f->link.cmd[i].profile.periods[q].limit >= 0);
	}
	rt_answer(f, base, SVC_RES_ACCEPTED);

	/* the station declares it cannot; the operator says it can */
	{
		struct svc_needs_in in;
		bool managed;

		svc_needs_init(&in);
		in.bidirectional = 0;
		assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	}
	assert_int_equal(
	    svc_model_caps_override(f->svc, "", "station:CP-A", "{\"bidirectional\":true}"), 0);
	assert_int_equal(store_commit(f->store), 0);
	base = rt_replan(f, T0 + 20000, false);
	mode = plan_mode(f, a);
	assert_string_equal(mode, "CentralSetpoint");
	free(mode);
	rt_answer(f, base, SVC_RES_ACCEPTED);
}

/* The PV average of a forecast over a slot: overlaps weighted, 0 outside. */
static void test_pv_average(void **state)
{
	int64_t w[] = {1000, 3000, 5000};
	struct svc_pv_forecast fc = {.start_ms = 600000, .slot_s = 600, .n = 3, .pv_w = w};
	(void)state;

	/* [0, 900 s): 0 for 600 s, then 1000 W for 300 s */
	assert_int_equal(svc_pv_average(&fc, 0, 900000), 1000 * 300 / 900);
	/* [900 s, 1800 s): 1000 W 300 s, 3000 W 600 s */
	assert_int_equal(svc_pv_average(&fc, 900000, 1800000), (1000 * 300 + 3000 * 600) / 900);
	assert_int_equal(svc_pv_average(&fc, 1800000, 2400000), 5000);
	assert_int_equal(svc_pv_average(&fc, 2400000, 3300000), 0);
	assert_int_equal(svc_pv_average(NULL, 0, 900000), 0);
}

/* The site plan document of HOME (a new reference). */
static json_t *site_plan_doc(struct rt *f)
{
	char *text = NULL;
	json_t *doc;

	assert_int_equal(store_site_plan_get(f->store, "HOME", doc_dup, &text), 0);
	assert_non_null(text);
	doc = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(doc);
	return doc;
}

/* CP-A of HOME as the station of an external limit, and its session: 40 kWh by 2 h from now,
 * 7.4 kW at most (so any cap below 7.4 kW binds). */
static int64_t ext_session(struct rt *f, struct chg_station *st)
{
	struct svc_needs_in in;
	bool managed;
	int64_t a;

	snprintf(st->id, sizeof(st->id), "CP-A");
	snprintf(st->site_id, sizeof(st->site_id), "HOME");
	a = rt_open(f, "CP-A");
	svc_needs_init(&in);
	in.energy_wh = 40000;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + 2 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	return a;
}

/*
** A station's external limit (2.0.1 NotifyChargingLimit) holds its sessions in the plan: a
** session that needs 7.4 kW to make its departure is planned at 3 kW while the station is
** capped at 3 kW, and at its own power again once the limit is cleared.
*/
static void test_ext_limit_holds_sessions(void **state)
{
	struct rt *f = *state;
	struct chg_station st = {0};
	int64_t max_w = 0;
	json_t *doc, *sl;
	size_t k;
	int base, tx;

	ext_session(f, &st);
	assert_int_equal(svc_station_ext_limit(f->svc, &st, 0, 3000, 0), 0);
	base = rt_replan(f, T0 + 10000, false);
	doc = site_plan_doc(f);
	json_array_foreach(json_object_get(doc, "slots"), k, sl) {
		int64_t w = json_integer_value(json_object_get(sl, "planned_w"));

		if (w > max_w)
			max_w = w;
	}
	json_decref(doc);
	assert_int_equal(max_w, 3000);
	tx = find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX);
	assert_true(tx >= 0);
	assert_int_equal(f->link.cmd[tx].profile.periods[0].limit, 3000);
	rt_answer(f, base, SVC_RES_ACCEPTED);

	/* cleared: the next slot plans at the session's own power again */
	assert_int_equal(svc_station_ext_limit(f->svc, &st, 0, -1, 0), 0);
	base = rt_replan(f, T0 + 15 * 60000LL + 10000, false);
	max_w = 0;
	doc = site_plan_doc(f);
	json_array_foreach(json_object_get(doc, "slots"), k, sl) {
		int64_t w = json_integer_value(json_object_get(sl, "planned_w"));

		if (w > max_w)
			max_w = w;
	}
	json_decref(doc);
	assert_int_equal(max_w, 7400);
	rt_answer(f, base, SVC_RES_ACCEPTED);
}

static int count_ext_limit(const struct store_ext_limit *row, void *ud)
{
	(void)row;
	++*(int *)ud;
	return 0;
}

/* The highest planned_w of the site's stored plan. */
static int64_t plan_max_w(struct rt *f)
{
	json_t *doc = site_plan_doc(f), *sl;
	int64_t max_w = 0;
	size_t k;

	json_array_foreach(json_object_get(doc, "slots"), k, sl) {
		int64_t w = json_integer_value(json_object_get(sl, "planned_w"));

		if (w > max_w)
			max_w = w;
	}
	json_decref(doc);
	return max_w;
}

/*
** An external limit lives in the store, not in the planner: a new svc on the same store (a
** restart, or the node that takes the station over) plans the EVSE's session at 2.5 kW
** without the station sending it again; ClearedChargingLimit deletes the row, and the session
** is planned at its own power.
*/
static void test_ext_limit_survives_restart(void **state)
{
	struct rt *f = *state;
	struct chg_station st = {0};
	int base, tx, n = 0;

	ext_session(f, &st);
	assert_int_equal(svc_station_ext_limit(f->svc, &st, 1, 2500, T0 + 4 * 3600000LL), 0);
	assert_int_equal(svc_station_ext_limit(f->svc, &st, -1, 2500, 0), -ERANGE);
	assert_int_equal(store_commit(f->store), 0);

	/* the restart: nothing of the old svc's memory is left */
	svc_destroy(f->svc);
	f->svc = svc_create(f->store, &f->clock, &f->cfg);
	assert_non_null(f->svc);
	svc_set_link(f->svc, &rt_ops, &f->link);
	base = rt_replan(f, T0 + 10000, true);
	assert_int_equal(plan_max_w(f), 2500);
	tx = find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX);
	assert_true(tx >= 0);
	assert_int_equal(f->link.cmd[tx].profile.periods[0].limit, 2500);
	rt_answer(f, base, SVC_RES_ACCEPTED);

	/* cleared: the row is gone, and the next slot plans at the session's own power */
	assert_int_equal(store_site_ext_limits(f->store, "HOME", T0, count_ext_limit, &n), 1);
	assert_int_equal(svc_station_ext_limit(f->svc, &st, 1, -1, 0), 0);
	assert_int_equal(store_commit(f->store), 0);
	n = 0;
	assert_int_equal(store_site_ext_limits(f->store, "HOME", T0, count_ext_limit, &n), 0);
	assert_int_equal(n, 0);
	base = rt_replan(f, T0 + 15 * 60000LL + 10000, false);
	assert_int_equal(plan_max_w(f), 7400);
	rt_answer(f, base, SVC_RES_ACCEPTED);
}

/*
** A site's PV forecast reaches the solve: with a 3 kW limit and 4 kW of PV the session is
** planned at 7 kW (its TxProfile says so), the plan's slots carry the PV and an import within
** the limit; the forecast cleared, the plan stays within 3 kW again.
*/
static void test_pv_forecast_reaches_solve(void **state)
{
	struct rt *f = *state;
	struct svc_needs_in in;
	bool managed;
	int64_t a, pv[16], max_w = 0;
	struct svc_pv_forecast fc = {
	    .start_ms = T0 - 3600000LL, .slot_s = 900, .n = 16, .pv_w = pv};
	json_t *doc, *slots, *sl;
	size_t k;
	int base, tx;

	for (int i = 0; i < 16; i++)
		pv[i] = 4000;
	a = rt_open(f, "CP-A");
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 3000), 0);
	svc_needs_init(&in);
	in.energy_wh = 40000;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + 2 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(svc_site_set_forecast(f->svc, "HOME", &fc), 0);
	assert_non_null(svc_site_forecast(f->svc, "HOME"));
	assert_null(svc_site_forecast(f->svc, "NOWHERE"));
	pv[0] = -1; /* copied: the caller's array is its own */
	assert_int_equal(svc_site_forecast(f->svc, "HOME")->pv_w[0], 4000);
	pv[0] = 4000;

	base = rt_replan(f, T0 + 10000, false);
	doc = site_plan_doc(f);
	slots = json_object_get(doc, "slots");
	assert_true(json_array_size(slots) > 2);
	json_array_foreach(slots, k, sl) {
		int64_t planned = json_integer_value(json_object_get(sl, "planned_w"));
		int64_t imp = json_integer_value(json_object_get(sl, "import_w"));
		int64_t spv = json_integer_value(json_object_get(sl, "pv_w"));

		if (json_integer_value(json_object_get(sl, "start_ms")) <
		    T0 + 3 * 3600000LL - 900000)
			assert_int_equal(spv, 4000);
		assert_true(imp <= 3000);
		assert_int_equal(imp, planned - spv > 0 ? planned - spv : 0);
		if (planned > max_w)
			max_w = planned;
	}
	assert_int_equal(max_w, 7000); /* the limit plus the PV */
	json_decref(doc);
	tx = find_send(f, base, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX);
	assert_true(tx >= 0);
	assert_int_equal(f->link.cmd[tx].profile.periods[0].limit, 7000);
	rt_answer(f, base, SVC_RES_ACCEPTED);

	/* cleared: back within the limit (from the next slot: the slot in progress keeps what
	 * the last plan gave it) */
	fc.n = 0;
	assert_int_equal(svc_site_set_forecast(f->svc, "HOME", &fc), 0);
	assert_null(svc_site_forecast(f->svc, "HOME"));
	base = rt_replan(f, T0 + 15 * 60000LL + 10000, false);
	doc = site_plan_doc(f);
	json_array_foreach(json_object_get(doc, "slots"), k, sl) {
		assert_int_equal(json_integer_value(json_object_get(sl, "pv_w")), 0);
		if (k > 0)
			assert_true(json_integer_value(json_object_get(sl, "planned_w")) <= 3000);
	}
	json_decref(doc);
	rt_answer(f, base, SVC_RES_ACCEPTED);

	/* stored; a forecast written by another node is read at the site's next change (or
	 * within 30 s) */
	{
		char *text = NULL;

		assert_int_equal(store_commit(f->store), 0);
		assert_int_equal(store_site_forecast_get(f->store, "HOME", doc_dup, &text),
				 -ENOENT);
		assert_int_equal(store_site_forecast_put(f->store, "HOME",
							 "{\"start_ms\":0,\"slot_s\":3600,"
							 "\"pv_w\":[5,6]}",
							 T0),
				 0);
		assert_int_equal(store_commit(f->store), 0);
		svc_plan_site_changed(f->svc, "HOME");
		assert_non_null(svc_site_forecast(f->svc, "HOME"));
		assert_int_equal(svc_site_forecast(f->svc, "HOME")->pv_w[1], 6);
		assert_int_equal(svc_site_forecast(f->svc, "HOME")->slot_s, 3600);
		fc.n = 16;
		assert_int_equal(svc_site_set_forecast(f->svc, "HOME", &fc), 0);
		assert_int_equal(store_commit(f->store), 0);
		assert_int_equal(store_site_forecast_get(f->store, "HOME", doc_dup, &text), 0);
		assert_non_null(strstr(text, "\"slot_s\":900"));
		free(text);
	}

	/* bad forecasts are refused */
	fc.n = 16;
	fc.slot_s = 30;
	assert_int_equal(svc_site_set_forecast(f->svc, "HOME", &fc), -EINVAL);
	fc.slot_s = 900;
	pv[3] = -5;
	assert_int_equal(svc_site_set_forecast(f->svc, "HOME", &fc), -EINVAL);
}

/*
** A site battery reaches the solve and its setpoints the plan (only there: no device to send
** them to): on a 3 kW limit an EV that must leave within the hour gets what the limit alone
** cannot give, the battery discharging into it and charging again later in the horizon (a
** second EV leaves later), ending where it started.
*/
static void test_storage_in_plan(void **state)
{
	struct rt *f = *state;
	struct svc_needs_in in;
	bool managed;
	int64_t a, b, e_start, e_end, short_a = -1;
	struct svc_pv_forecast fc = {.storage = {.present = true,
						 .capacity_wh = 10000,
						 .energy_wh = 8000,
						 .min_energy_wh = 2000,
						 .max_charge_w = 5000,
						 .max_discharge_w = 5000}};
	json_t *doc, *st, *sl;
	size_t k;
	int base, neg = 0, pos = 0;

	a = rt_open(f, "CP-A");
	b = rt_open(f, "CP-B");
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 3000), 0);
	svc_needs_init(&in);
	in.energy_wh = 6000;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + 75 * 60000LL; /* 4 slots after the one in progress */
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	svc_needs_init(&in);
	in.energy_wh = 1000;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + 6 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, b, "ev", &in, &managed), 0);
	assert_int_equal(svc_site_set_forecast(f->svc, "HOME", &fc), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_non_null(svc_site_forecast(f->svc, "HOME"));
	assert_true(svc_site_forecast(f->svc, "HOME")->storage.present);

	base = rt_replan(f, T0 + 10000, false);
	doc = site_plan_doc(f);
	st = json_object_get(doc, "storage");
	assert_true(json_is_object(st));
	assert_true(json_is_false(json_object_get(st, "sent")));
	e_start = json_integer_value(json_object_get(st, "energy_start_wh"));
	e_end = json_integer_value(json_object_get(st, "energy_end_wh"));
	assert_int_equal(e_start, 8000);
	assert_int_equal(e_end, 8000);
	json_array_foreach(json_object_get(st, "power_w"), k, sl) {
		neg += json_integer_value(sl) < 0;
		pos += json_integer_value(sl) > 0;
	}
	assert_true(neg > 0 && pos > 0);
	/* per slot the import (load + battery - PV) within the limit */
	json_array_foreach(json_object_get(doc, "slots"), k, sl) {
		int64_t load = json_integer_value(json_object_get(sl, "planned_w"));
		int64_t bw = json_integer_value(json_object_get(sl, "storage_w"));

		assert_int_equal(json_integer_value(json_object_get(sl, "import_w")),
				 load + bw > 0 ? load + bw : 0);
		if (k > 0)
			assert_true(load + bw <= 3000);
	}
	json_array_foreach(json_object_get(doc, "sessions"), k, sl)
		if (json_integer_value(json_object_get(sl, "session_id")) == a)
			short_a = json_integer_value(json_object_get(sl, "shortfall_wh"));
	assert_int_equal(short_a, 0); /* 3 kW alone could not have done it */
	json_decref(doc);
	/* nothing sent for the battery: only the EVs' profiles */
	for (int i = base; i < f->link.n; i++)
		assert_true(!strcmp(f->link.station[i], "CP-A") ||
			    !strcmp(f->link.station[i], "CP-B"));
	rt_answer(f, base, SVC_RES_ACCEPTED);

	/* bad batteries are refused */
	fc.storage.min_energy_wh = 20000;
	assert_int_equal(svc_site_set_forecast(f->svc, "HOME", &fc), -EINVAL);
}

/* Needs of a 60 kWh EV at 7.4 kW leaving at T0 + hours: from soc to target %. */
static void rt_needs(struct rt *f, int64_t id, int soc, int target, int hours)
{
	struct svc_needs_in in;
	bool managed = false;

	svc_needs_init(&in);
	in.capacity_wh = 60000;
	in.soc = soc;
	in.target_soc = target;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + hours * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, id, "ev", &in, &managed), 0);
	assert_true(managed);
	assert_int_equal(store_commit(f->store), 0);
}

/* The index of station's first TxProfile sent from index from on, or -1. */
static int find_tx_of(const struct rt *f, int from, const char *station)
{
	for (int i = from; i < f->link.n; i++)
		if (f->link.cmd[i].kind == SVC_CMD_SET_PROFILE &&
		    f->link.cmd[i].profile.purpose == SVC_PURPOSE_TX &&
		    !strcmp(f->link.station[i], station))
			return i;
	return -1;
}

static int count_tx(const struct rt *f, int from)
{
	int n = 0;

	for (int i = from; i < f->link.n; i++)
		n += f->link.cmd[i].kind == SVC_CMD_SET_PROFILE &&
		     f->link.cmd[i].profile.purpose == SVC_PURPOSE_TX;
	return n;
}

/* Answer the sends from index from on: the one at index odd with odd_status, the rest Accepted. */
static void rt_answer_but(struct rt *f, int from, int odd, int odd_status)
{
	for (int i = from; i < f->link.n; i++) {
		struct svc_cmd_result res = {.status = i == odd ? odd_status : SVC_RES_ACCEPTED};

		f->link.done[i](f->link.ud[i], &res);
	}
	svc_cmd_release(f->svc, store_commit(f->store) == 0);
}

/* Tick (the worker solving meanwhile) until the node applied `plans` plans; bounded. */
static void rt_tick_until_applied(struct rt *f, uint64_t plans)
{
	for (int i = 0; i < 5000 && svc_plan_count(f->svc) < plans; i++) {
		svc_plan_tick(f->svc);
		usleep(1000);
	}
	assert_int_equal(svc_plan_count(f->svc), plans);
}

/*
** A solved plan is sent over several ticks (here one session per tick): an answer that comes
** back while the rest is still being sent counts. The TxProfile that timed out then goes out
** again at the next plan, the accepted one does not (the plan is the same: both EVs short of
** their need charge at full power until they leave).
*/
static void test_plan_sent_in_slices(void **state)
{
	struct rt *f = *state;
	uint64_t sent0, skipped0, sent1, skipped1;
	char first[STATION_ID_MAX + 1], second[STATION_ID_MAX + 1];
	int tx, base;
	int64_t a, b;

	a = rt_open(f, "CP-A");
	b = rt_open(f, "CP-B");
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 20000), 0);
	rt_needs(f, a, 10, 100, 2);
	rt_needs(f, b, 10, 100, 2);
	svc_plan_set_send_slice(f->svc, 0);
	assert_int_equal(svc_plan_start(f->svc), 0);
	f->clock.fixed_ms = T0 + 10000; /* past the debounce */
	for (int i = 0; i < 5000 && count_tx(f, 0) == 0; i++) {
		svc_plan_tick(f->svc);
		usleep(1000);
	}
	/* one session's TxProfile is out, the other's not yet: the plan is still being sent */
	assert_int_equal(count_tx(f, 0), 1);
	assert_int_equal(svc_plan_count(f->svc), 0);
	tx = find_send(f, 0, SVC_CMD_SET_PROFILE, SVC_PURPOSE_TX);
	snprintf(first, sizeof(first), "%s", f->link.station[tx]);
	snprintf(second, sizeof(second), "%s", strcmp(first, "CP-A") ? "CP-A" : "CP-B");
	rt_answer_but(f, 0, tx, SVC_RES_TIMEOUT);
	base = f->link.n;
	rt_tick_until_applied(f, 1);
	assert_true(find_tx_of(f, base, second) >= base);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	svc_plan_tx_counts(f->svc, &sent0, &skipped0);

	/* the same plan again: only the timed-out profile goes out */
	base = f->link.n;
	svc_plan_touch(f->svc, "HOME");
	f->clock.fixed_ms += 3000;
	rt_tick_until_applied(f, 2);
	svc_plan_tx_counts(f->svc, &sent1, &skipped1);
	assert_true(find_tx_of(f, base, first) >= base);
	assert_int_equal(find_tx_of(f, base, second), -1);
	assert_int_equal(sent1 - sent0, 1);
	assert_int_equal(skipped1 - skipped0, 1);
	rt_answer(f, base, SVC_RES_ACCEPTED);
}

/*
** The sessions a plan lowers are sent before the ones it raises, so the site stays within its
** limit while the plan goes out: A (opened first) full and B charging, then A charging and B
** full, under a limit one EV fills.
*/
static void test_lowered_sent_first(void **state)
{
	struct rt *f = *state;
	int64_t a, b;
	int base, ta, tb;

	a = rt_open(f, "CP-A");
	b = rt_open(f, "CP-B");
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 7400), 0);
	rt_needs(f, a, 80, 80, 8);
	rt_needs(f, b, 10, 100, 8);
	f->clock.fixed_ms = T0 + 10000;
	svc_plan_tick(f->svc); /* no worker: solved and sent at once */
	assert_int_equal(svc_plan_count(f->svc), 1);
	assert_true(find_tx_of(f, 0, "CP-B") >= 0);
	rt_answer(f, 0, SVC_RES_ACCEPTED);

	base = f->link.n;
	rt_needs(f, a, 10, 100, 8);
	rt_needs(f, b, 100, 100, 8);
	f->clock.fixed_ms += 3000;
	svc_plan_tick(f->svc);
	assert_int_equal(svc_plan_count(f->svc), 2);
	ta = find_tx_of(f, base, "CP-A");
	tb = find_tx_of(f, base, "CP-B");
	assert_true(ta >= base && tb >= base);
	assert_true(tb < ta); /* B lowered, then A raised */
	rt_answer(f, base, SVC_RES_ACCEPTED);
}

struct slot_rows {
	int n;
	struct store_plan_slot row[8];
};

static int keep_slot_row(const struct store_plan_slot *row, void *ud)
{
	struct slot_rows *r = ud;

	if (r->n < 8)
		r->row[r->n++] = *row;
	return 0;
}

/* The site plan document's slots[k] as the history row it must have left. */
static void assert_row_is_doc_slot(struct rt *f, const struct store_plan_slot *row, size_t k)
{
	char *text = NULL;
	json_t *doc, *sl;

	assert_int_equal(store_site_plan_get(f->store, "HOME", doc_dup, &text), 0);
	doc = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(doc);
	sl = json_array_get(json_object_get(doc, "slots"), k);
	assert_non_null(sl);
	assert_int_equal(row->slot_ms, json_integer_value(json_object_get(sl, "start_ms")));
	assert_int_equal(row->planned_w, json_integer_value(json_object_get(sl, "planned_w")));
	assert_int_equal(row->import_w, json_integer_value(json_object_get(sl, "import_w")));
	assert_int_equal(row->limit_w, json_integer_value(json_object_get(sl, "limit_w")));
	json_decref(doc);
}

/* GET path?query through the API's routes (a viewer's token), the answer's JSON. */
static json_t *rt_api_get(struct rt *f, const char *path, const char *query)
{
	static const bool draining = false;
	struct api api = {.svc = f->svc, .store = f->store, .cfg = &f->cfg, .draining = &draining};
	struct api_req *r = calloc(1, sizeof(*r));
	char tok[ACCOUNT_SECRET_MAX];
	int64_t id;
	json_t *doc;

	assert_non_null(r);
	snprintf(api.public_url, sizeof(api.public_url), "http://csms.test");
	assert_int_equal(
	    account_token_create(f->store, "t", ACCOUNT_ROLE_VIEWER, "test", T0, tok, &id), 0);
	assert_int_equal(store_commit(f->store), 0);
	r->api = &api;
	r->http = r; /* a client that waits */
	r->method = API_GET;
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->query, sizeof(r->query), "%s", query);
	snprintf(r->host, sizeof(r->host), "csms.test");
	snprintf(r->authorization, sizeof(r->authorization), "Bearer %s", tok);
	api_handle(r);
	assert_true(r->done);
	assert_int_equal(r->status, 200);
	doc = json_loads(r->resp, 0, NULL);
	assert_non_null(doc);
	api_req_free(r);
	return doc;
}

/*
** An applied plan leaves the planned power of the slot in progress and of the next one in the
** site's plan history, so a past slot can be set against what was metered: the next slot's
** plan replaces its row with what it then holds the sessions to, and the rows before stay.
*/
static void test_plan_history(void **state)
{
	struct rt *f = *state;
	const int64_t q = STORE_PLAN_SLOT_MS;
	struct slot_rows r = {0};
	struct store_plan_slot first0;
	struct svc_needs_in in;
	bool managed;
	int64_t a;
	int base;

	/* more than 5 h at 7.4 kW can give: full power in every slot */
	a = rt_open(f, "CP-A");
	assert_int_equal(svc_site_set_limit(f->svc, "HOME", 10000), 0);
	svc_needs_init(&in);
	in.energy_wh = 200000;
	in.max_charge_w = 7400;
	in.departure_ms = T0 + 5 * 3600000LL;
	assert_int_equal(svc_needs_set(f->svc, a, "ev", &in, &managed), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(
	    store_site_plan_slots_list(f->store, "HOME", 0, INT64_MAX, keep_slot_row, &r), 0);

	rt_replan(f, T0 + 10000, false);
	assert_int_equal(svc_plan_count(f->svc), 1);
	rt_answer(f, 0, SVC_RES_ACCEPTED);
	/* the slot in progress and the 4 up to the next forced replan (ROLL_MAX_MS) */
	assert_int_equal(
	    store_site_plan_slots_list(f->store, "HOME", 0, INT64_MAX, keep_slot_row, &r), 5);
	for (int k = 0; k < 5; k++) {
		assert_int_equal(r.row[k].slot_ms, T0 + k * q);
		assert_row_is_doc_slot(f, &r.row[k], (size_t)k);
	}
	assert_int_equal(r.row[1].planned_w, 7400);
	assert_int_equal(r.row[1].limit_w, 10000);
	first0 = r.row[0];

	/* the next slot: its row is now what the sessions are held to, the one before stays */
	base = rt_replan(f, T0 + q, false);
	assert_int_equal(svc_plan_count(f->svc), 2);
	rt_answer(f, base, SVC_RES_ACCEPTED);
	r.n = 0;
	assert_int_equal(
	    store_site_plan_slots_list(f->store, "HOME", T0, T0 + 3 * q, keep_slot_row, &r), 3);
	assert_memory_equal(&r.row[0], &first0, sizeof(first0));
	assert_row_is_doc_slot(f, &r.row[1], 0);
	assert_row_is_doc_slot(f, &r.row[2], 1);
	assert_int_equal(r.row[1].planned_w, 7400); /* the sent profile: full power */
	assert_int_equal(r.row[2].planned_w, 7400);
	/* another site has none */
	assert_int_equal(
	    store_site_plan_slots_list(f->store, "NOWHERE", 0, INT64_MAX, keep_slot_row, &r), 0);

	/* the API's actual slots of the last hour carry them, null before the first plan */
	{
		json_t *doc = rt_api_get(f, "/api/sites/HOME/plan", "hours=1");
		json_t *act = json_object_get(doc, "actual"), *el;

		assert_int_equal(json_array_size(act), 5); /* T0 - 3q .. T0 + q, in progress */
		for (size_t k = 0; k < 5; k++) {
			el = json_array_get(act, k);
			assert_int_equal(json_integer_value(json_object_get(el, "start_ms")),
					 T0 + ((int64_t)k - 3) * q);
			assert_true(
			    json_is_integer(json_object_get(el, "import_w"))); /* as before */
			if (k < 3) {
				assert_true(json_is_null(json_object_get(el, "planned_w")));
				assert_true(json_is_null(json_object_get(el, "planned_import_w")));
				assert_true(json_is_null(json_object_get(el, "limit_w")));
				continue;
			}
			assert_int_equal(json_integer_value(json_object_get(el, "planned_w")),
					 r.row[k - 3].planned_w);
			assert_int_equal(
			    json_integer_value(json_object_get(el, "planned_import_w")),
			    r.row[k - 3].import_w);
			assert_int_equal(json_integer_value(json_object_get(el, "limit_w")),
					 r.row[k - 3].limit_w);
		}
		json_decref(doc);
	}
}

/*
** A load reduction on a site without a limit: X below what its sessions would draw at full
** power in the event's slots. Two EVs short of their need (54 kWh each, 4 h at 7.4 kW) charge at
** 14.8 kW in every slot but the event's, where the site draws 9.8 kW.
*/
static void test_reduce_without_limit(void **state)
{
	struct rt *f = *state;
	struct store_grid_event ev = {
	    .sites = "HOME",
	    .start_ms = T0 + 3600000LL,
	    .end_ms = T0 + 7200000LL,
	    .reduce_w = 5000,
	};
	struct tariff_calendar *cal;
	char err[TARIFF_JSON_ERR_MAX];
	int64_t a, b, dep = T0 + 4 * 3600000LL;
	int in_event = 0, outside = 0;
	json_t *doc, *sl;
	size_t k;

	assert_int_equal(tariff_json_load_file(TOP_SRCDIR
					       "/docs/tariffs/example-shandong-residential.json",
					       &cal, err),
			 0);
	assert_int_equal(svc_site_set_tariff(f->svc, "HOME", cal), 0);
	a = rt_open(f, "CP-A");
	b = rt_open(f, "CP-B");
	rt_needs(f, a, 10, 100, 4);
	rt_needs(f, b, 10, 100, 4);
	assert_int_equal(svc_grid_event_add(f->svc, &ev), 0);
	assert_int_equal(store_commit(f->store), 0);
	f->clock.fixed_ms = T0 + 10000;
	svc_plan_tick(f->svc);
	assert_int_equal(svc_plan_count(f->svc), 1);
	doc = site_plan_doc(f);
	json_array_foreach(json_object_get(doc, "slots"), k, sl) {
		int64_t t = json_integer_value(json_object_get(sl, "start_ms"));
		int64_t w = json_integer_value(json_object_get(sl, "planned_w"));

		if (k == 0 || t + 900000 > dep)
			continue; /* the slot in progress; the one the EVs leave in */
		if (t + 900000 > ev.start_ms && t < ev.end_ms) {
			assert_int_equal(w, 2 * 7400 - 5000);
			in_event++;
		} else {
			assert_int_equal(w, 2 * 7400);
			outside++;
		}
	}
	assert_int_equal(in_event, 4); /* T0 + 1 h .. + 2 h: four slots */
	assert_true(outside >= 8);
	json_decref(doc);
	rt_answer(f, 0, SVC_RES_ACCEPTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_debounce),
	    cmocka_unit_test(test_amps_watts),
	    cmocka_unit_test(test_shape),
	    cmocka_unit_test(test_caps_json),
	    cmocka_unit_test(test_pv_average),
	    cmocka_unit_test_setup_teardown(test_runtime_on_svc, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_caps_per_model, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_tx_only_changed, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_site_row_memory, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_plans_per_tick, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_roll_on_readings, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_wear_cost_config, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_ext_limit_holds_sessions, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_ext_limit_survives_restart, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_tariff_replaced_replans, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_limit_cleared_clears_profiles, rt_setup,
					    rt_teardown),
	    cmocka_unit_test_setup_teardown(test_bidirectional_override_wins, rt_setup,
					    rt_teardown),
	    cmocka_unit_test_setup_teardown(test_pv_forecast_reaches_solve, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_storage_in_plan, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_plan_sent_in_slices, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_lowered_sent_first, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_reduce_without_limit, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_plan_history, rt_setup, rt_teardown),
	};

	return cmocka_run_group_tests_name("csms-plan-runtime", tests, NULL, NULL);
}
