/* SPDX-License-Identifier: MIT */
/* Virtual chargers (1.6 and 2.0.1) against a scripted CSMS on a fake transport and clock. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cpsim.h"
#include "ev.h"
#include "ocpp.h"
#include "scenario.h"
#include "stats.h"

#define assert_near(a, b, eps)                                                                     \
	do {                                                                                       \
		double a_ = (double)(a), b_ = (double)(b);                                         \
		if (!(fabs(a_ - b_) <= (double)(eps)))                                             \
			fail_msg("%s = %.9g, expected %.9g (+-%g)", #a, a_, b_, (double)(eps));    \
	} while (0)

#define T0 INT64_C(1795399200000) /* 2026-11-23T02:00:00Z: no residential arrival soon */

/* ---------------------------------------------------------------- the fake network */

struct fconn {
	struct cpsim_cp *cp;
	bool open_pending, close_pending, closed;
	char path[128], subprotocols[64];
	json_t *frames;	 /* every frame the charger sent, parsed */
	size_t consumed; /* CALLs before this index were taken by the test */
};

struct fake {
	struct cpsim_scenario sc;
	struct cpsim_stats *stats;
	struct cpsim_fleet *f;
	struct ocpp_catalog *cat[_OCPP_VERSION_MAX];
	struct fconn conns[32];
	unsigned nconns;
	uint64_t now_us;
	const char *accept;   /* subprotocol the server picks */
	json_t *csms_actions; /* our call id -> action, to validate the answers */
	unsigned csms_seq;
	int next_txid;
	unsigned invalid;
};

static enum ocpp_version version_of(const char *sub)
{
	return strcmp(sub, "ocpp2.0.1") ? OCPP_V16 : OCPP_V201;
}

static int f_connect(void *ctx, struct cpsim_cp *cp, const struct cpsim_connect *req, void **ret)
{
	struct fake *fk = ctx;
	struct fconn *c;

	if (fk->nconns == 32)
		return -ENOMEM;
	c = &fk->conns[fk->nconns++];
	memset(c, 0, sizeof(*c));
	c->cp = cp;
	c->open_pending = true;
	c->frames = json_array();
	snprintf(c->path, sizeof(c->path), "%s", req->path);
	snprintf(c->subprotocols, sizeof(c->subprotocols), "%s", req->subprotocols);
	*ret = c;
	return 0;
}

static int f_send(void *ctx, void *conn, const char *buf, size_t len)
{
	struct fake *fk = ctx;
	struct fconn *c = conn;
	struct ocpp_frame fr;
	struct ocpp_parse_error pe;
	enum ocpp_version v = version_of(fk->accept);
	char desc[160];
	enum ocpp_err e = OCPP_ERR_NONE;

	assert_false(c->closed);
	if (ocpp_frame_parse(buf, len, &fr, &pe) < 0) {
		/* only the injected malformed frame may fail */
		json_array_append_new(c->frames, json_string("malformed"));
		return 0;
	}
	if (fr.type == OCPP_CALL) {
		e = ocpp_catalog_validate(fk->cat[v], fr.action, false, fr.payload, desc,
					  sizeof(desc));
	} else if (fr.type == OCPP_CALLRESULT) {
		const char *action = json_string_value(json_object_get(fk->csms_actions, fr.id));

		if (action)
			e = ocpp_catalog_validate(fk->cat[v], action, true, fr.payload, desc,
						  sizeof(desc));
	}
	if (e != OCPP_ERR_NONE) {
		fk->invalid++;
		fprintf(stderr, "invalid frame: %s: %.*s\n", desc, (int)len, buf);
	}
	json_array_append(c->frames, fr.root);
	ocpp_frame_release(&fr);
	return 0;
}

static void f_close(void *ctx, void *conn, int code)
{
	struct fconn *c = conn;

	(void)ctx;
	(void)code;
	c->close_pending = true;
}

static const struct cpsim_transport fake_tp = {f_connect, f_send, f_close};

/* Deliver what the network would: opens, then closes. */
static void deliver(struct fake *fk)
{
	for (unsigned k = 0; k < 8; k++) {
		bool any = false;

		for (unsigned i = 0; i < fk->nconns; i++) {
			struct fconn *c = &fk->conns[i];

			if (c->open_pending) {
				c->open_pending = false;
				any = true;
				cpsim_fleet_set_time(fk->f, fk->now_us);
				cpsim_cp_opened(c->cp, fk->accept);
			}
			if (c->close_pending && !c->closed) {
				c->closed = true;
				any = true;
				cpsim_fleet_set_time(fk->f, fk->now_us);
				cpsim_cp_closed(c->cp, CPSIM_END_LOCAL);
			}
		}
		if (!any)
			break;
	}
}

static void step(struct fake *fk, uint32_t ms)
{
	fk->now_us += (uint64_t)ms * 1000;
	cpsim_fleet_run(fk->f, fk->now_us);
	deliver(fk);
}

static struct fconn *conn_of(struct fake *fk, unsigned charger)
{
	struct cpsim_cp *cp = cpsim_fleet_cp(fk->f, charger);

	for (unsigned i = fk->nconns; i-- > 0;)
		if (fk->conns[i].cp == cp)
			return &fk->conns[i];
	return NULL;
}

/* The oldest CALL of the charger not taken yet, or NULL. Borrowed from the log. */
static json_t *peek_call(struct fake *fk, unsigned charger)
{
	struct fconn *c = conn_of(fk, charger);

	for (; c && c->consumed < json_array_size(c->frames); c->consumed++) {
		json_t *fr = json_array_get(c->frames, c->consumed);

		if (json_is_array(fr) && json_integer_value(json_array_get(fr, 0)) == 2)
			return fr;
	}
	return NULL;
}

static const char *action_of(const json_t *fr)
{
	return json_string_value(json_array_get(fr, 2));
}

static json_t *payload_of(const json_t *fr)
{
	return json_array_get(fr, 3);
}

static void send_text(struct fake *fk, unsigned charger, const char *text)
{
	cpsim_fleet_set_time(fk->f, fk->now_us);
	cpsim_cp_text(cpsim_fleet_cp(fk->f, charger), text, strlen(text));
	deliver(fk);
}

/* Take the next CALL, which must be `action`; returns it (borrowed). */
static json_t *expect_call(struct fake *fk, unsigned charger, const char *action)
{
	json_t *fr = peek_call(fk, charger);

	if (!fr)
		fail_msg("expected %s, nothing was sent", action);
	if (strcmp(action_of(fr), action))
		fail_msg("expected %s, got %s", action, action_of(fr));
	conn_of(fk, charger)->consumed++;
	return fr;
}

static void reply(struct fake *fk, unsigned charger, const json_t *call, const char *payload)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "[3,\"%s\",%s]", json_string_value(json_array_get(call, 1)),
		 payload);
	send_text(fk, charger, buf);
}

static void now_text(struct fake *fk, char *buf)
{
	ocpp_time_format(T0 + (int64_t)(fk->now_us / 1000), buf, 32);
}

/* The default CSMS answer to a charger's CALL. */
static void answer_default(struct fake *fk, unsigned charger, json_t *call)
{
	const char *a = action_of(call);
	bool v201 = version_of(fk->accept) == OCPP_V201;
	char buf[256], t[32];

	now_text(fk, t);
	if (!strcmp(a, "BootNotification"))
		snprintf(buf, sizeof(buf),
			 "{\"status\":\"Accepted\",\"currentTime\":\"%s\",\"interval\":300}", t);
	else if (!strcmp(a, "Heartbeat"))
		snprintf(buf, sizeof(buf), "{\"currentTime\":\"%s\"}", t);
	else if (!strcmp(a, "Authorize"))
		snprintf(buf, sizeof(buf),
			 v201 ? "{\"idTokenInfo\":{\"status\":\"Accepted\"}}"
			      : "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
	else if (!strcmp(a, "StartTransaction"))
		snprintf(buf, sizeof(buf),
			 "{\"transactionId\":%d,\"idTagInfo\":{\"status\":\"Accepted\"}}",
			 fk->next_txid++);
	else if (!strcmp(a, "DataTransfer"))
		snprintf(buf, sizeof(buf), "{\"status\":\"Accepted\"}");
	else
		snprintf(buf, sizeof(buf), "{}");
	reply(fk, charger, call, buf);
}

/* Answer every CALL with the defaults until the charger is quiet; returns how many. */
static unsigned answer_all(struct fake *fk, unsigned charger)
{
	unsigned n = 0;
	json_t *fr;

	while (n < 1000 && (fr = peek_call(fk, charger))) {
		conn_of(fk, charger)->consumed++;
		answer_default(fk, charger, fr);
		n++;
	}
	return n;
}

/* Step in increments, answering everything; returns the calls answered of `action`. */
static unsigned run_for(struct fake *fk, unsigned charger, uint32_t ms, uint32_t stepms,
			const char *count_action, json_t *collect)
{
	unsigned n = 0;

	for (uint32_t t = 0; t < ms; t += stepms) {
		json_t *fr;

		step(fk, stepms);
		while ((fr = peek_call(fk, charger))) {
			if (count_action && !strcmp(action_of(fr), count_action)) {
				n++;
				if (collect)
					json_array_append(collect, fr);
			}
			conn_of(fk, charger)->consumed++;
			answer_default(fk, charger, fr);
		}
	}
	return n;
}

/* A CSMS CALL to the charger; returns the answer frame (new reference) or NULL. */
static json_t *csms_call(struct fake *fk, unsigned charger, const char *action, const char *payload)
{
	struct fconn *c = conn_of(fk, charger);
	char id[16], buf[8192];
	size_t before = json_array_size(c->frames);

	snprintf(id, sizeof(id), "cs-%u", ++fk->csms_seq);
	json_object_set_new(fk->csms_actions, id, json_string(action));
	snprintf(buf, sizeof(buf), "[2,\"%s\",\"%s\",%s]", id, action, payload);
	send_text(fk, charger, buf);
	for (size_t i = before; i < json_array_size(c->frames); i++) {
		json_t *fr = json_array_get(c->frames, i);

		if (json_is_array(fr) && json_integer_value(json_array_get(fr, 0)) != 2 &&
		    !strcmp(json_string_value(json_array_get(fr, 1)), id))
			return json_incref(fr);
	}
	return NULL;
}

/* The status field of a CSMS call's CALLRESULT. */
static const char *answer_status(json_t *ans)
{
	return json_string_value(json_object_get(json_array_get(ans, 2), "status"));
}

static struct fake *fake_new(enum cpsim_kind kind, enum cpsim_proto proto, const char *accept)
{
	struct fake *fk = calloc(1, sizeof(*fk));
	char err[256];
	struct cpsim_fleet_opts o;

	assert_non_null(fk);
	cpsim_scenario_defaults(&fk->sc);
	fk->sc.groups[0] =
	    (struct cpsim_group){.kind = kind, .proto = proto, .count = 1, .v2g_share = 1.0};
	fk->sc.ngroups = 1;
	fk->sc.meter_s = 60;
	fk->sc.ramp_per_s = 0;
	fk->sc.call_timeout_s = 30;
	fk->sc.faults.offline_per_h = 0;
	fk->sc.groups[0].has_faults = true; /* no default rural outages in these tests */
	assert_int_equal(cpsim_scenario_finish(&fk->sc, err, sizeof(err)), 0);
	fk->stats = calloc(1, sizeof(*fk->stats));
	cpsim_stats_init(fk->stats);
	fk->cat[OCPP_V16] = ocpp_catalog_create(OCPP_V16);
	fk->cat[OCPP_V201] = ocpp_catalog_create(OCPP_V201);
	fk->csms_actions = json_object();
	fk->accept = accept;
	fk->next_txid = 42;
	o = (struct cpsim_fleet_opts){.sc = &fk->sc,
				      .first = 0,
				      .count = 1,
				      .tp = &fake_tp,
				      .tp_ctx = fk,
				      .stats = fk->stats,
				      .wall_start_ms = T0};
	fk->f = cpsim_fleet_create(&o);
	assert_non_null(fk->f);
	return fk;
}

static void fake_free(struct fake *fk)
{
	assert_int_equal(fk->invalid, 0);
	cpsim_fleet_destroy(fk->f);
	for (unsigned i = 0; i < fk->nconns; i++)
		json_decref(fk->conns[i].frames);
	ocpp_catalog_destroy(fk->cat[OCPP_V16]);
	ocpp_catalog_destroy(fk->cat[OCPP_V201]);
	json_decref(fk->csms_actions);
	cpsim_scenario_free(&fk->sc);
	free(fk->stats);
	free(fk);
}

/* Connect and boot (Accepted), answer the statuses. */
static void boot(struct fake *fk)
{
	json_t *b;

	step(fk, 0);
	assert_int_equal(fk->nconns, 1);
	b = expect_call(fk, 0, "BootNotification");
	reply(fk, 0, b,
	      "{\"status\":\"Accepted\",\"currentTime\":\"2026-11-23T02:00:00.000Z\",\"interval\":"
	      "300}");
	answer_all(fk, 0);
}

static struct cpsim_ev test_ev(bool v2g)
{
	return (struct cpsim_ev){.capacity_wh = 60000,
				 .soc = 0.5,
				 .target_soc = 0.95,
				 .min_soc = 0.2,
				 .max_charge_w = 11000,
				 .max_discharge_w = 7000,
				 .v2g = v2g};
}

/* The value of a measurand in a 1.6 or 2.0.1 meterValue array (first entry). */
static double sample(const json_t *meter_values, const char *measurand)
{
	const json_t *sv = json_object_get(json_array_get(meter_values, 0), "sampledValue"), *s;
	size_t i;

	json_array_foreach(sv, i, s) {
		if (!strcmp(json_string_value(json_object_get(s, "measurand")), measurand)) {
			const json_t *v = json_object_get(s, "value");

			return json_is_string(v) ? atof(json_string_value(v))
						 : json_number_value(v);
		}
	}
	fail_msg("no %s", measurand);
	return NAN;
}

static double import_wh(struct fake *fk)
{
	struct cpsim_conn_view v;

	assert_int_equal(cpsim_cp_conn_view(cpsim_fleet_cp(fk->f, 0), 1, &v), 0);
	return v.import_wh;
}

/* ---------------------------------------------------------------- OCPP 1.6 */

static void test_v16_boot_pending_retries_at_interval(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_RESIDENTIAL, CPSIM_PROTO_V16, "ocpp1.6");
	json_t *b;

	(void)state;
	step(fk, 0);
	assert_string_equal(conn_of(fk, 0)->path, "/ocpp/SIM-R-000000");
	assert_string_equal(conn_of(fk, 0)->subprotocols, "ocpp1.6");
	b = expect_call(fk, 0, "BootNotification");
	reply(fk, 0, b,
	      "{\"status\":\"Pending\",\"currentTime\":\"2026-11-23T02:00:00.000Z\",\"interval\":"
	      "10}");
	step(fk, 9900);
	assert_null(peek_call(fk, 0)); /* nothing but the boot while pending */
	step(fk, 1200);
	b = expect_call(fk, 0, "BootNotification");
	reply(fk, 0, b,
	      "{\"status\":\"Accepted\",\"currentTime\":\"2026-11-23T02:00:11.000Z\",\"interval\":"
	      "300}");
	assert_int_equal(json_integer_value(json_object_get(
			     payload_of(expect_call(fk, 0, "StatusNotification")), "connectorId")),
			 0);
	answer_all(fk, 0);
	/* heartbeats at the interval given */
	assert_int_equal(run_for(fk, 0, 601000, 1000, "Heartbeat", NULL), 2);
	assert_int_equal(fk->stats->boots_pending, 1);
	assert_int_equal(fk->stats->boots_accepted, 1);
	fake_free(fk);
}

static void test_v16_session_follows_profile_and_remote_stop(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_RESIDENTIAL, CPSIM_PROTO_V16, "ocpp1.6");
	struct cpsim_ev ev = test_ev(false);
	json_t *fr, *meters = json_array(), *statuses = json_array(), *ans;
	double start, before, mid;
	char payload[1024], t[32];
	int meter_start;

	(void)state;
	boot(fk);
	assert_int_equal(cpsim_cp_plug_in(cpsim_fleet_cp(fk->f, 0), 1), 0);
	assert_int_equal(cpsim_cp_set_ev(cpsim_fleet_cp(fk->f, 0), 1, &ev), 0);
	fr = expect_call(fk, 0, "StatusNotification");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "status")),
			    "Preparing");
	answer_default(fk, 0, fr);
	fr = expect_call(fk, 0, "Authorize");
	answer_default(fk, 0, fr);
	fr = expect_call(fk, 0, "StartTransaction");
	meter_start = (int)json_integer_value(json_object_get(payload_of(fr), "meterStart"));
	start = import_wh(fk);
	assert_int_equal(meter_start, (int)start);
	answer_default(fk, 0, fr); /* transactionId 42 */
	fr = expect_call(fk, 0, "StatusNotification");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "status")),
			    "Charging");
	answer_default(fk, 0, fr);

	/* one sample period at the 7.4 kW of a residential charger */
	assert_int_equal(run_for(fk, 0, 60000, 1000, "MeterValues", meters), 1);
	fr = json_array_get(meters, 0);
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "transactionId")), 42);
	assert_near(
	    sample(json_object_get(payload_of(fr), "meterValue"), "Energy.Active.Import.Register"),
	    floor(start + 7400.0 / 60), 1.0);
	assert_near(sample(json_object_get(payload_of(fr), "meterValue"), "Power.Active.Import"),
		    7400, 0);
	assert_near(sample(json_object_get(payload_of(fr), "meterValue"), "SoC"),
		    100 * (0.5 + 7400.0 / 60 / 60000), 0.1);

	/* OCPP 1.6 3.13: a TxProfile for this transaction, 3.7 kW, pause, 7.4 kW */
	before = import_wh(fk);
	now_text(fk, t);
	snprintf(payload, sizeof(payload),
		 "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":7,"
		 "\"transactionId\":42,\"stackLevel\":1,\"chargingProfilePurpose\":\"TxProfile\","
		 "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":{\"duration\":1800,"
		 "\"startSchedule\":\"%s\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":["
		 "{\"startPeriod\":0,\"limit\":3700},{\"startPeriod\":600,\"limit\":0},"
		 "{\"startPeriod\":1200,\"limit\":7400}]}}}",
		 t);
	ans = csms_call(fk, 0, "SetChargingProfile", payload);
	assert_string_equal(answer_status(ans), "Accepted");
	json_decref(ans);
	/* a profile for another transaction is refused */
	ans = csms_call(
	    fk, 0, "SetChargingProfile",
	    "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":8,"
	    "\"transactionId\":99,\"stackLevel\":2,\"chargingProfilePurpose\":\"TxProfile\","
	    "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
	    "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
	    "\"limit\":6}]}}}");
	assert_string_equal(answer_status(ans), "Rejected");
	json_decref(ans);
	answer_all(fk, 0);
	run_for(fk, 0, 700000, 500, "StatusNotification", statuses);
	mid = import_wh(fk);
	assert_near(mid - before, 3700.0 / 6, 1.0); /* nothing during the pause */
	fr = json_array_get(statuses, json_array_size(statuses) - 1);
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "status")),
			    "SuspendedEVSE");
	/* the composite schedule from here: 0 W for 500 s, then 7.4 kW */
	ans = csms_call(fk, 0, "GetCompositeSchedule", "{\"connectorId\":1,\"duration\":1000}");
	assert_string_equal(answer_status(ans), "Accepted");
	{
		json_t *per =
		    json_object_get(json_object_get(json_array_get(ans, 2), "chargingSchedule"),
				    "chargingSchedulePeriod");

		assert_int_equal(json_array_size(per), 2);
		assert_near(json_number_value(json_object_get(json_array_get(per, 0), "limit")), 0,
			    0);
		assert_int_equal(
		    json_integer_value(json_object_get(json_array_get(per, 1), "startPeriod")),
		    500);
		assert_near(json_number_value(json_object_get(json_array_get(per, 1), "limit")),
			    7400, 0);
	}
	json_decref(ans);
	run_for(fk, 0, 1100000, 500, NULL, NULL);
	/* 3.7 kW x 10 min, nothing for 10 min, 7.4 kW x 10 min */
	assert_near(import_wh(fk) - before, 3700.0 / 6 + 7400.0 / 6, 2.0);
	/* after the profile's duration the hardware limit applies again */
	run_for(fk, 0, 600000, 1000, NULL, NULL);
	assert_near(import_wh(fk) - before, 3700.0 / 6 + 7400.0 / 3, 2.0);

	ans = csms_call(fk, 0, "RemoteStopTransaction", "{\"transactionId\":42}");
	assert_string_equal(answer_status(ans), "Accepted");
	json_decref(ans);
	fr = expect_call(fk, 0, "StopTransaction");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "transactionId")), 42);
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "reason")), "Remote");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "meterStop")),
			 (json_int_t)floor(import_wh(fk)));
	answer_default(fk, 0, fr);
	json_array_clear(statuses);
	run_for(fk, 0, 10000, 500, "StatusNotification", statuses);
	assert_string_equal(
	    json_string_value(json_object_get(payload_of(json_array_get(statuses, 0)), "status")),
	    "Finishing");
	assert_string_equal(
	    json_string_value(json_object_get(payload_of(json_array_get(statuses, 1)), "status")),
	    "Available");
	json_decref(meters);
	json_decref(statuses);
	fake_free(fk);
}

/* Offline: the session starts and ends while disconnected; after the reconnect the queued
 * messages go out in order and learn the transaction id from the StartTransaction answer. */
static void test_v16_offline_session_delivered_later(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_RESIDENTIAL, CPSIM_PROTO_V16, "ocpp1.6");
	struct cpsim_cp *cp;
	json_t *fr;
	int64_t t_prev = 0;

	(void)state;
	boot(fk);
	cp = cpsim_fleet_cp(fk->f, 0);
	cpsim_cp_go_offline(cp, 600000);
	deliver(fk);
	assert_true(conn_of(fk, 0)->closed);
	assert_int_equal(cpsim_cp_plug_in(cp, 1), 0); /* unknown id allowed offline */
	for (int i = 0; i < 200; i++)
		step(fk, 1000);
	assert_int_equal(cpsim_cp_depart(cp, 1), 0);
	step(fk, 100000);
	assert_int_equal(fk->nconns, 1); /* still offline */
	step(fk, 310000);
	assert_int_equal(fk->nconns, 2);

	fr = expect_call(fk, 0, "BootNotification");
	answer_default(fk, 0, fr);
	while ((fr = peek_call(fk, 0)) && !strcmp(action_of(fr), "StatusNotification")) {
		conn_of(fk, 0)->consumed++;
		answer_default(fk, 0, fr);
	}
	fr = expect_call(fk, 0, "StartTransaction");
	assert_null(json_object_get(payload_of(fr), "transactionId"));
	fk->next_txid = 77;
	answer_default(fk, 0, fr);
	for (int i = 0; i < 3; i++) {
		fr = expect_call(fk, 0, "MeterValues");
		assert_int_equal(
		    json_integer_value(json_object_get(payload_of(fr), "transactionId")), 77);
		{
			int64_t t;

			assert_int_equal(
			    ocpp_time_parse(
				json_string_value(json_object_get(
				    json_array_get(json_object_get(payload_of(fr), "meterValue"),
						   0),
				    "timestamp")),
				&t),
			    0);
			assert_true(t > t_prev && t < T0 + (int64_t)(fk->now_us / 1000));
			t_prev = t;
		}
		answer_default(fk, 0, fr);
	}
	fr = expect_call(fk, 0, "StopTransaction");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "transactionId")), 77);
	answer_default(fk, 0, fr);
	assert_int_equal(fk->stats->offline_starts, 1);
	assert_int_equal(fk->stats->sessions_stopped, 1);
	fake_free(fk);
}

static void test_v16_obeys_commands(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_PUBLIC, CPSIM_PROTO_V16, "ocpp1.6");
	json_t *ans, *fr, *keys;
	size_t i;
	bool found = false;

	(void)state;
	boot(fk);
	ans = csms_call(fk, 0, "GetConfiguration", "{}");
	keys = json_object_get(json_array_get(ans, 2), "configurationKey");
	json_array_foreach(keys, i, fr)
		found |=
		    !strcmp(json_string_value(json_object_get(fr, "key")), "HeartbeatInterval") &&
		    !strcmp(json_string_value(json_object_get(fr, "value")), "300");
	assert_true(found);
	json_decref(ans);
	ans = csms_call(fk, 0, "GetConfiguration", "{\"key\":[\"NumberOfConnectors\",\"Nope\"]}");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_array_get(ans, 2), "configurationKey"), 0),
		"value")),
	    "2");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(json_array_get(ans, 2), "unknownKey"), 0)),
			    "Nope");
	json_decref(ans);
#define STATUS_OF(action, payload, expect)                                                         \
	do {                                                                                       \
		ans = csms_call(fk, 0, action, payload);                                           \
		assert_non_null(ans);                                                              \
		assert_string_equal(answer_status(ans), expect);                                   \
		json_decref(ans);                                                                  \
	} while (0)
	STATUS_OF("ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"30\"}",
		  "Accepted");
	STATUS_OF("ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"x\"}",
		  "Rejected");
	STATUS_OF("ChangeConfiguration", "{\"key\":\"NumberOfConnectors\",\"value\":\"3\"}",
		  "Rejected");
	STATUS_OF("ChangeConfiguration", "{\"key\":\"Frobnicate\",\"value\":\"1\"}",
		  "NotSupported");
	assert_int_equal(run_for(fk, 0, 61000, 1000, "Heartbeat", NULL), 2);

	STATUS_OF("TriggerMessage",
		  "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":2}", "Accepted");
	fr = expect_call(fk, 0, "StatusNotification");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "connectorId")), 2);
	answer_default(fk, 0, fr);

	STATUS_OF("ChangeAvailability", "{\"connectorId\":1,\"type\":\"Inoperative\"}", "Accepted");
	fr = expect_call(fk, 0, "StatusNotification");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "status")),
			    "Unavailable");
	answer_default(fk, 0, fr);
	STATUS_OF("RemoteStartTransaction", "{\"connectorId\":1,\"idTag\":\"OPS\"}", "Rejected");
	STATUS_OF("ChangeAvailability", "{\"connectorId\":1,\"type\":\"Operative\"}", "Accepted");
	answer_all(fk, 0);

	STATUS_OF("SendLocalList",
		  "{\"listVersion\":3,\"updateType\":\"Full\",\"localAuthorizationList\":"
		  "[{\"idTag\":\"RURAL1\",\"idTagInfo\":{\"status\":\"Accepted\"}}]}",
		  "Accepted");
	ans = csms_call(fk, 0, "GetLocalListVersion", "{}");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ans, 2), "listVersion")),
			 3);
	json_decref(ans);

	/* remote start: no Authorize (AuthorizeRemoteTxRequests false), the CSMS's tag */
	STATUS_OF("RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"OPS\"}", "Accepted");
	answer_default(fk, 0, expect_call(fk, 0, "StatusNotification"));
	fr = expect_call(fk, 0, "StartTransaction");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "idTag")), "OPS");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "connectorId")), 2);
	answer_default(fk, 0, fr);
	answer_all(fk, 0);
	STATUS_OF("UnlockConnector", "{\"connectorId\":2}", "Unlocked");
	fr = expect_call(fk, 0, "StopTransaction");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "reason")),
			    "UnlockCommand");
	answer_default(fk, 0, fr);
	answer_all(fk, 0);

	STATUS_OF("DataTransfer", "{\"vendorId\":\"acme\"}", "UnknownVendorId");
	/* bad requests: CALLERRORs with 1.6 spellings */
	ans = csms_call(fk, 0, "Reset", "{\"type\":\"Medium\"}");
	assert_int_equal(json_integer_value(json_array_get(ans, 0)), 4);
	assert_string_equal(json_string_value(json_array_get(ans, 2)),
			    "PropertyConstraintViolation");
	json_decref(ans);
	ans = csms_call(fk, 0, "Frobnicate", "{}");
	assert_string_equal(json_string_value(json_array_get(ans, 2)), "NotImplemented");
	json_decref(ans);

	/* reset: the connection closes and the charger boots again */
	STATUS_OF("Reset", "{\"type\":\"Soft\"}", "Accepted");
	answer_all(fk, 0);
	step(fk, 100);
	assert_true(conn_of(fk, 0)->closed);
	step(fk, 3000);
	assert_int_equal(fk->nconns, 2);
	answer_default(fk, 0, expect_call(fk, 0, "BootNotification"));
	assert_int_equal(fk->stats->boots_accepted, 2);
	fake_free(fk);
}

/* ---------------------------------------------------------------- OCPP 2.0.1 */

static void test_v201_session_variables_and_remote_stop(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_RESIDENTIAL, CPSIM_PROTO_V201, "ocpp2.0.1");
	struct cpsim_ev ev = test_ev(false);
	json_t *fr, *ans, *events = json_array();
	char txid[64];

	(void)state;
	step(fk, 0);
	fr = expect_call(fk, 0, "BootNotification");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "reason")),
			    "PowerUp");
	answer_default(fk, 0, fr);
	fr = expect_call(fk, 0, "StatusNotification");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "evseId")), 1);
	answer_default(fk, 0, fr);
	assert_int_equal(cpsim_cp_plug_in(cpsim_fleet_cp(fk->f, 0), 1), 0);
	assert_int_equal(cpsim_cp_set_ev(cpsim_fleet_cp(fk->f, 0), 1, &ev), 0);
	fr = expect_call(fk, 0, "StatusNotification");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "connectorStatus")),
			    "Occupied");
	answer_default(fk, 0, fr);
	answer_default(fk, 0, expect_call(fk, 0, "Authorize"));
	fr = expect_call(fk, 0, "TransactionEvent");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "eventType")),
			    "Started");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "seqNo")), 0);
	snprintf(txid, sizeof(txid), "%s",
		 json_string_value(json_object_get(
		     json_object_get(payload_of(fr), "transactionInfo"), "transactionId")));
	answer_default(fk, 0, fr);
	fr = expect_call(fk, 0, "NotifyEVChargingNeeds");
	assert_non_null(
	    json_object_get(json_object_get(payload_of(fr), "chargingNeeds"), "departureTime"));
	answer_default(fk, 0, fr);

	ans = csms_call(fk, 0, "SetVariables",
			"{\"setVariableData\":[{\"attributeValue\":\"45\",\"component\":{\"name\":"
			"\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"HeartbeatInterval\"}},"
			"{\"attributeValue\":\"1\",\"component\":{\"name\":\"Frob\"},\"variable\":"
			"{\"name\":\"X\"}}]}");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_array_get(ans, 2), "setVariableResult"), 0),
		"attributeStatus")),
	    "Accepted");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_array_get(ans, 2), "setVariableResult"), 1),
		"attributeStatus")),
	    "UnknownComponent");
	json_decref(ans);
	ans = csms_call(
	    fk, 0, "GetVariables",
	    "{\"getVariableData\":[{\"component\":{\"name\":\"OCPPCommCtrlr\"},\"variable\":"
	    "{\"name\":\"HeartbeatInterval\"}},{\"component\":{\"name\":\"OCPPCommCtrlr\"},"
	    "\"variable\":{\"name\":\"Nope\"}}]}");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_array_get(ans, 2), "getVariableResult"), 0),
		"attributeValue")),
	    "45");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_array_get(ans, 2), "getVariableResult"), 1),
		"attributeStatus")),
	    "UnknownVariable");
	json_decref(ans);

	/* a TxDefaultProfile in W for the EVSE: the power follows it */
	ans = csms_call(fk, 0, "SetChargingProfile",
			"{\"evseId\":1,\"chargingProfile\":{\"id\":3,\"stackLevel\":0,"
			"\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
			"\"Relative\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"W\","
			"\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":2000}]}]}}");
	assert_string_equal(answer_status(ans), "Accepted");
	json_decref(ans);
	assert_int_equal(run_for(fk, 0, 60000, 1000, "TransactionEvent", events), 1);
	fr = json_array_get(events, 0);
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "triggerReason")),
			    "MeterValuePeriodic");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "seqNo")), 1);
	assert_near(sample(json_object_get(payload_of(fr), "meterValue"), "Power.Active.Import"),
		    2000, 0);
	ans = csms_call(fk, 0, "GetChargingProfiles", "{\"requestId\":9,\"chargingProfile\":{}}");
	assert_string_equal(answer_status(ans), "Accepted");
	json_decref(ans);
	fr = expect_call(fk, 0, "ReportChargingProfiles");
	answer_default(fk, 0, fr);
	{
		char payload[128];

		snprintf(payload, sizeof(payload), "{\"transactionId\":\"%s\"}", txid);
		ans = csms_call(fk, 0, "GetTransactionStatus", payload);
		assert_true(
		    json_is_true(json_object_get(json_array_get(ans, 2), "ongoingIndicator")));
		json_decref(ans);
		ans = csms_call(fk, 0, "RequestStopTransaction", payload);
		assert_string_equal(answer_status(ans), "Accepted");
		json_decref(ans);
	}
	fr = expect_call(fk, 0, "TransactionEvent");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "eventType")),
			    "Ended");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(payload_of(fr), "transactionInfo"),
					      "stoppedReason")),
	    "Remote");
	assert_int_equal(json_integer_value(json_object_get(payload_of(fr), "seqNo")), 2);
	answer_default(fk, 0, fr);
	answer_all(fk, 0);
	ans = csms_call(fk, 0, "RequestStopTransaction", "{\"transactionId\":\"nope\"}");
	assert_string_equal(answer_status(ans), "Rejected");
	json_decref(ans);
	ans = csms_call(fk, 0, "Reset", "{\"type\":\"Emergency\"}");
	assert_string_equal(json_string_value(json_array_get(ans, 2)),
			    "PropertyConstraintViolation");
	json_decref(ans);
	json_decref(events);
	fake_free(fk);
}

/* RequestStartTransaction with a discharge TxProfile: a V2G EV exports. */
static void test_v201_remote_start_v2g_discharge(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_RESIDENTIAL, CPSIM_PROTO_V201, "ocpp2.0.1");
	struct cpsim_ev ev = test_ev(true);
	struct cpsim_conn_view v;
	json_t *fr, *ans, *events = json_array();
	double exp0;

	(void)state;
	boot(fk);
	ans = csms_call(
	    fk, 0, "RequestStartTransaction",
	    "{\"evseId\":1,\"remoteStartId\":5,\"idToken\":{\"idToken\":\"OPS-1\","
	    "\"type\":\"Central\"},\"chargingProfile\":{\"id\":11,\"stackLevel\":0,"
	    "\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Relative\","
	    "\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"W\","
	    "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":-3000}]}]}}");
	assert_string_equal(answer_status(ans), "Accepted");
	assert_non_null(json_object_get(json_array_get(ans, 2), "transactionId"));
	json_decref(ans);
	assert_int_equal(cpsim_cp_set_ev(cpsim_fleet_cp(fk->f, 0), 1, &ev), 0);
	answer_default(fk, 0, expect_call(fk, 0, "StatusNotification"));
	fr = expect_call(fk, 0, "TransactionEvent");
	assert_string_equal(json_string_value(json_object_get(payload_of(fr), "triggerReason")),
			    "RemoteStart");
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(payload_of(fr), "transactionInfo"), "remoteStartId")),
			 5);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(payload_of(fr), "idToken"), "type")),
	    "Central");
	answer_default(fk, 0, fr);
	answer_all(fk, 0);
	assert_int_equal(cpsim_cp_conn_view(cpsim_fleet_cp(fk->f, 0), 1, &v), 0);
	exp0 = v.export_wh;
	assert_near(v.power_w, -3000, 0);
	run_for(fk, 0, 120000, 1000, "TransactionEvent", events);
	fr = json_array_get(events, json_array_size(events) - 1);
	assert_near(sample(json_object_get(payload_of(fr), "meterValue"), "Power.Active.Export"),
		    3000, 0);
	assert_int_equal(cpsim_cp_conn_view(cpsim_fleet_cp(fk->f, 0), 1, &v), 0);
	assert_near(v.export_wh - exp0, 3000.0 * 120 / 3600, 0.5);
	json_decref(events);
	fake_free(fk);
}

/* A swap station: one charger, a connector per rack slot, sessions on each. */
static void test_swap_station_racks(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_SWAP, CPSIM_PROTO_V16, "ocpp1.6");
	unsigned starts;

	(void)state;
	fk->sc.auth = CPSIM_AUTH_SKIP;
	boot(fk);
	starts = run_for(fk, 0, 5000, 500, "StartTransaction", NULL);
	assert_int_equal(starts, 12); /* every slot holds a pack that charges */
	fake_free(fk);
}

/* The context of a meterValue array's first sample. */
static const char *sample_context(const json_t *meter_values)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(json_array_get(meter_values, 0), "sampledValue"), 0),
	    "context"));
}

/* A charger woken late (a loaded machine) still switches at its profile's period boundary,
 * and its clock-aligned readings (ClockAlignedDataInterval) are taken at their instants. */
static void test_v16_clock_aligned_and_late_wakes(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_RESIDENTIAL, CPSIM_PROTO_V16, "ocpp1.6");
	struct cpsim_ev ev = test_ev(false);
	json_t *ans, *fr, *meters = json_array();
	char payload[1024], t[32];
	double before;
	unsigned aligned = 0;
	size_t i;

	(void)state;
	boot(fk);
	ans = csms_call(fk, 0, "ChangeConfiguration",
			"{\"key\":\"ClockAlignedDataInterval\",\"value\":\"900\"}");
	assert_string_equal(answer_status(ans), "Accepted");
	json_decref(ans);
	assert_int_equal(cpsim_cp_plug_in(cpsim_fleet_cp(fk->f, 0), 1), 0);
	assert_int_equal(cpsim_cp_set_ev(cpsim_fleet_cp(fk->f, 0), 1, &ev), 0);
	answer_all(fk, 0); /* Preparing, Authorize, StartTransaction (42), Charging */
	now_text(fk, t);
	snprintf(payload, sizeof(payload),
		 "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":7,"
		 "\"transactionId\":42,\"stackLevel\":1,\"chargingProfilePurpose\":\"TxProfile\","
		 "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":{\"duration\":3600,"
		 "\"startSchedule\":\"%s\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":["
		 "{\"startPeriod\":0,\"limit\":3700},{\"startPeriod\":600,\"limit\":0}]}}}",
		 t);
	ans = csms_call(fk, 0, "SetChargingProfile", payload);
	assert_string_equal(answer_status(ans), "Accepted");
	json_decref(ans);
	answer_all(fk, 0);
	before = import_wh(fk);
	/* woken every 250 s only: at 500 s and 750 s around the switch at 600 s */
	run_for(fk, 0, 1800000, 250000, "MeterValues", meters);
	assert_near(import_wh(fk) - before, 3700.0 * 600 / 3600, 1.0);
	json_array_foreach(meters, i, fr) {
		const json_t *mv = json_object_get(payload_of(fr), "meterValue");
		int64_t ts;

		if (strcmp(sample_context(mv), "Sample.Clock"))
			continue;
		/* T0 is aligned: readings at T0 + 900 s and T0 + 1800 s, after the switch */
		assert_int_equal(ocpp_time_parse(json_string_value(json_object_get(
						     json_array_get(mv, 0), "timestamp")),
						 &ts),
				 0);
		assert_int_equal(ts, T0 + 900000 * (int64_t)(aligned + 1));
		assert_near(sample(mv, "Energy.Active.Import.Register"),
			    floor(before + 3700.0 * 600 / 3600), 1.0);
		aligned++;
	}
	assert_int_equal(aligned, 2);
	json_decref(meters);
	fake_free(fk);
}

/* An Authorize answered after the drain began starts no session: the drain stopped the
 * active ones and the fleet must end with none open (sim-fleet saw one left open). */
static void test_drain_with_authorize_in_flight(void **state)
{
	struct fake *fk = fake_new(CPSIM_KIND_PUBLIC, CPSIM_PROTO_V16, "ocpp1.6");
	struct cpsim_ev ev = test_ev(false);
	json_t *fr, *auth;
	unsigned starts = 0;

	(void)state;
	boot(fk);
	assert_int_equal(cpsim_cp_plug_in(cpsim_fleet_cp(fk->f, 0), 1), 0);
	assert_int_equal(cpsim_cp_set_ev(cpsim_fleet_cp(fk->f, 0), 1, &ev), 0);
	answer_default(fk, 0, expect_call(fk, 0, "StatusNotification")); /* Preparing */
	auth = json_incref(expect_call(fk, 0, "Authorize"));
	assert_false(cpsim_fleet_drained(fk->f));
	cpsim_fleet_begin_drain(fk->f);
	answer_default(fk, 0, auth);
	json_decref(auth);
	while ((fr = peek_call(fk, 0))) {
		starts += !strcmp(action_of(fr), "StartTransaction");
		conn_of(fk, 0)->consumed++;
		answer_default(fk, 0, fr);
	}
	step(fk, 200);
	answer_all(fk, 0);
	assert_int_equal(starts, 0);
	assert_true(cpsim_fleet_drained(fk->f));
	cpsim_fleet_finish(fk->f);
	assert_int_equal(fk->stats->sessions_open_at_end, 0);
	fake_free(fk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v16_boot_pending_retries_at_interval),
	    cmocka_unit_test(test_v16_session_follows_profile_and_remote_stop),
	    cmocka_unit_test(test_v16_offline_session_delivered_later),
	    cmocka_unit_test(test_v16_obeys_commands),
	    cmocka_unit_test(test_v201_session_variables_and_remote_stop),
	    cmocka_unit_test(test_v201_remote_start_v2g_discharge),
	    cmocka_unit_test(test_swap_station_racks),
	    cmocka_unit_test(test_drain_with_authorize_in_flight),
	    cmocka_unit_test(test_v16_clock_aligned_and_late_wakes),
	};

	return cmocka_run_group_tests_name("sim-charger", tests, NULL, NULL);
}
