/* SPDX-License-Identifier: MIT */
/* OCPP 2.0.1 domain logic on a real in-memory store: TransactionEvent ordering (replays, gaps,
 * late offline events), multi-part device-model reports, and the energy register reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "adapter.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "ocpp201/v201.h"
#include "plan_rt.h"
#include "store/store.h"
#include "svc/svc.h"

#define T0 1795000000000LL

struct fixture {
	struct cfg cfg;
	struct clock clk;
	struct store *store;
	struct svc *svc;
	struct chg_station *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	void *replaced;

	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->clk = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	f->store = store_open(":memory:", false, err, sizeof(err));
	assert_non_null(f->store);
	f->svc = svc_create(f->store, &f->clk, &f->cfg);
	assert_non_null(f->svc);
	assert_int_equal(store_station_create(f->store, "CS-1", REG_ACCEPTED, T0), 0);
	f->st = svc_station_attach(f->svc, "CS-1", 1, "ocpp2.0.1", (void *)f, &replaced);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	svc_destroy(f->svc);
	store_close(f->store);
	cfg_free(&f->cfg);
	free(f);
	return 0;
}

static int get_row(const struct store_session_row *row, void *ud)
{
	struct store_session_row *out = ud;

	*out = *row;
	out->station_id = out->id_tag = out->auth_status = out->stop_reason = NULL;
	out->station_tx_id = NULL;
	return 0;
}

static struct store_session_row session(struct fixture *f, int64_t id)
{
	struct store_session_row row = {0};

	assert_true(store_session_get(f->store, id, get_row, &row) > 0);
	return row;
}

static int64_t event(struct fixture *f, int type, int64_t seq, int64_t ts, int64_t energy_wh,
		     bool *ret_replay)
{
	struct svc_session_event ev = {
	    .station_tx_id = "TX-1",
	    .ts_ms = ts,
	    .has_seq = true,
	    .seq_no = seq,
	    .trigger = "MeterValuePeriodic",
	    .evse_id = type == SESSION_OPEN ? 2 : 0,
	    .has_energy = energy_wh >= 0,
	    .energy_wh = energy_wh,
	    .stop_reason_text = type == SESSION_CLOSE ? "Local" : NULL,
	};
	struct svc_session_result res = {.session_id = 0};
	int (*apply)(struct svc *, struct chg_station *, const struct svc_session_event *,
		     struct svc_session_result *) = type == SESSION_OPEN    ? svc_session_open
						    : type == SESSION_CLOSE ? svc_session_close
									    : svc_session_update;

	assert_int_equal(apply(f->svc, f->st, &ev, &res), 0);
	assert_false(res.orphan);
	if (ret_replay)
		*ret_replay = res.replay;
	return res.session_id;
}

static void test_in_order_lifecycle(void **state)
{
	struct fixture *f = *state;
	int64_t id = event(f, SESSION_OPEN, 0, T0, 100, NULL);
	struct store_session_row row;

	assert_true(id > 0);
	assert_int_equal(event(f, SESSION_UPDATE, 1, T0 + 60000, 400, NULL), id);
	row = session(f, id);
	assert_false(row.stopped);
	assert_int_equal(row.evse_id, 2);
	assert_int_equal(row.meter_start_wh, 100);
	assert_int_equal(event(f, SESSION_CLOSE, 2, T0 + 120000, -1, NULL), id);
	row = session(f, id);
	assert_true(row.stopped);
	assert_int_equal(row.stop_ms, T0 + 120000);
	/* Ended without a reading: the latest register seen */
	assert_int_equal(row.meter_stop_wh, 400);
	assert_int_equal(row.seq_gaps, 0);
	assert_int_equal(row.seq_max, 2);
}

static void test_replay_has_no_effect(void **state)
{
	struct fixture *f = *state;
	bool replay;
	int64_t id = event(f, SESSION_OPEN, 0, T0, 100, &replay);

	assert_false(replay);
	event(f, SESSION_CLOSE, 1, T0 + 1000, 900, &replay);
	assert_false(replay);
	/* the same Ended again (seqNo 1) with another reading: acknowledged, ignored */
	assert_int_equal(event(f, SESSION_CLOSE, 1, T0 + 5000, 5000, &replay), id);
	assert_true(replay);
	assert_int_equal(session(f, id).meter_stop_wh, 900);
	assert_int_equal(session(f, id).stop_ms, T0 + 1000);
}

static void test_gaps_counted(void **state)
{
	struct fixture *f = *state;
	int64_t id = event(f, SESSION_OPEN, 0, T0, 0, NULL);

	event(f, SESSION_UPDATE, 3, T0 + 3000, 30, NULL);
	assert_int_equal(session(f, id).seq_gaps, 2);	  /* 1 and 2 missing */
	event(f, SESSION_UPDATE, 1, T0 + 1000, 10, NULL); /* one arrives late */
	assert_int_equal(session(f, id).seq_gaps, 1);
	event(f, SESSION_CLOSE, 4, T0 + 4000, 40, NULL);
	assert_int_equal(session(f, id).seq_gaps, 1);
	assert_int_equal(session(f, id).seq_max, 4);
}

static void test_late_started_moves_start_back(void **state)
{
	struct fixture *f = *state;
	int64_t id = event(f, SESSION_UPDATE, 1, T0 + 60000, 500, NULL);
	struct store_session_row row = session(f, id);

	assert_int_equal(row.start_ms, T0 + 60000);
	assert_false(row.has_meter_start);
	event(f, SESSION_OPEN, 0, T0, 200, NULL);
	row = session(f, id);
	assert_int_equal(row.start_ms, T0);
	assert_true(row.has_meter_start);
	assert_int_equal(row.meter_start_wh, 200);
	assert_int_equal(row.evse_id, 2);
}

static void test_late_updated_after_ended_keeps_it_closed(void **state)
{
	struct fixture *f = *state;
	int64_t id = event(f, SESSION_OPEN, 0, T0, 0, NULL);

	event(f, SESSION_CLOSE, 2, T0 + 2000, 2000, NULL);
	event(f, SESSION_UPDATE, 1, T0 + 1000, 1000, NULL);
	assert_true(session(f, id).stopped);
	assert_int_equal(session(f, id).meter_stop_wh, 2000);
	assert_int_equal(session(f, id).seq_gaps, 0);
}

static void test_evse_out_of_range(void **state)
{
	struct fixture *f = *state;
	struct svc_session_event ev = {.station_tx_id = "X", .has_seq = true, .evse_id = 100000};
	struct svc_session_result res;

	assert_int_equal(svc_session_open(f->svc, f->st, &ev, &res), -ERANGE);
	ev.evse_id = 1;
	ev.connector_id = -1;
	assert_int_equal(svc_session_open(f->svc, f->st, &ev, &res), -ERANGE);
}

static void test_multipart_report(void **state)
{
	struct fixture *f = *state;
	struct store_variable v = {.component = "EVSE",
				   .evse_id = 1,
				   .connector_id = -1,
				   .variable = "Power",
				   .attribute_type = "Actual",
				   .value = "7000"};
	int parts;
	bool complete;

	assert_int_equal(svc_report_part(f->svc, f->st, 7, 0, true), 0);
	assert_int_equal(svc_variable_put(f->svc, f->st, &v), 0);
	assert_int_equal(store_report_status(f->store, "CS-1", 7, &parts, &complete), 0);
	assert_int_equal(parts, 1);
	assert_false(complete);
	assert_int_equal(svc_report_part(f->svc, f->st, 7, 1, true), 0);
	v.value = "11000"; /* a later part updates the same variable */
	assert_int_equal(svc_variable_put(f->svc, f->st, &v), 0);
	assert_int_equal(svc_report_part(f->svc, f->st, 7, 2, false), 0);
	assert_int_equal(store_report_status(f->store, "CS-1", 7, &parts, &complete), 0);
	assert_int_equal(parts, 3);
	assert_true(complete);
	assert_int_equal(store_report_status(f->store, "CS-1", 8, &parts, &complete), -ENOENT);
}

struct sig_probe {
	int n;
	char format[16], data[32], method[32], encoding[16], key[16], value[16];
};

static void keep(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "(null)");
}

static int probe_sig(const struct store_sample *row, void *ud)
{
	struct sig_probe *p = ud;

	if (p->n++)
		return 0;
	keep(p->format, sizeof(p->format), row->format);
	keep(p->data, sizeof(p->data), row->sig.data);
	keep(p->method, sizeof(p->method), row->sig.signing_method);
	keep(p->encoding, sizeof(p->encoding), row->sig.encoding_method);
	keep(p->key, sizeof(p->key), row->sig.public_key);
	keep(p->value, sizeof(p->value), row->value);
	return 0;
}

static int get_reason(const struct store_session_row *row, void *ud)
{
	keep(ud, 16, row->stop_reason);
	return 0;
}

/* 2.0.1 sampledValue.signedMeterValue is kept with the reading, not dropped; an Ended without
 * stoppedReason is stored as Local (the adapter's default, not svc's). */
static void test_signed_meter_value_kept(void **state)
{
	struct fixture *f = *state;
	struct call_ctx call = {
	    .svc = f->svc, .cfg = &f->cfg, .st = f->st, .action = "TransactionEvent"};
	json_t *req =
	    json_loads("{\"eventType\":\"Started\",\"timestamp\":\"2026-11-19T10:00:00Z\","
		       "\"triggerReason\":\"CablePluggedIn\",\"seqNo\":0,"
		       "\"transactionInfo\":{\"transactionId\":\"TX-S\"},\"evse\":{\"id\":1},"
		       "\"meterValue\":[{\"timestamp\":\"2026-11-19T10:00:00Z\",\"sampledValue\":["
		       "{\"value\":1234,\"context\":\"Transaction.Begin\",\"signedMeterValue\":{"
		       "\"signedMeterData\":\"AAEC\",\"signingMethod\":\"ECDSA-secp256r1\","
		       "\"encodingMethod\":\"OCMF\",\"publicKey\":\"PUBK\"}}]}]}",
		       0, NULL);
	json_t *conf = NULL;
	struct store_session_state ss;
	struct sig_probe p = {.n = 0};
	struct store_session_row row;
	char reason[16] = "";

	assert_non_null(req);
	assert_int_equal(v201_transaction_event(&call, req, &conf), 0);
	json_decref(conf);
	json_decref(req);
	assert_int_equal(store_session_find_tx(f->store, "CS-1", "TX-S", &ss), 0);
	assert_int_equal(store_samples_list(f->store, ss.id, probe_sig, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.value, "1234");
	assert_string_equal(p.format, "SignedData");
	assert_string_equal(p.data, "AAEC");
	assert_string_equal(p.method, "ECDSA-secp256r1");
	assert_string_equal(p.encoding, "OCMF");
	assert_string_equal(p.key, "PUBK");

	req = json_loads("{\"eventType\":\"Ended\",\"timestamp\":\"2026-11-19T11:00:00Z\","
			 "\"triggerReason\":\"EVDeparted\",\"seqNo\":1,"
			 "\"transactionInfo\":{\"transactionId\":\"TX-S\"}}",
			 0, NULL);
	assert_non_null(req);
	conf = NULL;
	assert_int_equal(v201_transaction_event(&call, req, &conf), 0);
	json_decref(conf);
	json_decref(req);
	row = session(f, ss.id);
	assert_true(row.stopped);
	assert_int_equal(row.meter_stop_wh, 1234);
	assert_int_equal(store_session_get(f->store, ss.id, get_reason, reason), 1);
	assert_string_equal(reason, "Local");
}

/* The adapters' translation of OCPP words into domain values. */
static void test_ocpp_words_translated(void **state)
{
	(void)state;
	assert_int_equal(adapter_measurand_kind(NULL), MEAS_ENERGY_IMPORT_REGISTER);
	assert_int_equal(adapter_measurand_kind("Energy.Active.Import.Register"),
			 MEAS_ENERGY_IMPORT_REGISTER);
	assert_int_equal(adapter_measurand_kind("Energy.Active.Export.Register"),
			 MEAS_ENERGY_EXPORT_REGISTER);
	assert_int_equal(adapter_measurand_kind("SoC"), MEAS_SOC);
	assert_int_equal(adapter_measurand_kind("Frequency"), MEAS_OTHER);
	assert_int_equal(adapter_sample_context(NULL), SAMPLE_CTX_PERIODIC);
	assert_int_equal(adapter_sample_context("Transaction.End"), SAMPLE_CTX_TX_END);
	assert_int_equal(adapter_sample_context("Vendor.Thing"), SAMPLE_CTX_OTHER);
	assert_int_equal(adapter_sample_phase(NULL), PHASE_NONE);
	assert_int_equal(adapter_sample_phase("L2-N"), PHASE_L2_N);
	assert_true(adapter_sample_phase("L4") < 0);
	assert_int_equal(adapter_stop_reason(NULL), STOP_NONE);
	assert_int_equal(adapter_stop_reason("Local"), STOP_LOCAL);
	assert_int_equal(adapter_stop_reason("EVDisconnected"), STOP_EV_DISCONNECTED);
	assert_int_equal(adapter_stop_reason("SoftReset"), STOP_REBOOT);
	assert_int_equal(adapter_stop_reason("Whatever"), STOP_OTHER);
	assert_int_equal(adapter_connector_state("Charging"), CONN_OCCUPIED);
	assert_int_equal(adapter_connector_state("Occupied"), CONN_OCCUPIED);
	assert_int_equal(adapter_connector_state("Faulted"), CONN_FAULTED);
	assert_true(adapter_connector_state("Nope") < 0);
	for (int k = 0; k < _SESSION_EVENT_MAX; k++)
		assert_non_null(session_event_kind_to_string(k));
	for (int k = 0; k < _STATION_EVENT_MAX; k++)
		assert_int_equal(station_event_kind_from_string(station_event_kind_to_string(k)),
				 k);
}

static void test_energy_register_units(void **state)
{
	json_t *mv =
	    json_loads("[{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":["
		       "{\"value\":230,\"measurand\":\"Voltage\"},"
		       "{\"value\":3.5,\"phase\":\"L1\"},"
		       "{\"value\":12.5,\"unitOfMeasure\":{\"unit\":\"kWh\"},\"context\":"
		       "\"Transaction.End\"}]},"
		       "{\"timestamp\":\"2026-11-23T10:01:00Z\",\"sampledValue\":["
		       "{\"value\":13,\"unitOfMeasure\":{\"unit\":\"Wh\",\"multiplier\":3}}]}]",
		       0, NULL);
	int64_t wh = 0;

	(void)state;
	assert_non_null(mv);
	/* the preferred context wins over a later reading */
	assert_true(v201_energy_register(mv, "Transaction.End", &wh));
	assert_int_equal(wh, 12500);
	/* otherwise the latest; multiplier 3 on Wh is kWh */
	assert_true(v201_energy_register(mv, NULL, &wh));
	assert_int_equal(wh, 13000);
	json_decref(mv);
	mv = json_loads("[{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":["
			"{\"value\":1,\"measurand\":\"SoC\"}]}]",
			0, NULL);
	assert_false(v201_energy_register(mv, NULL, &wh));
	json_decref(mv);
}

/* NotifyEVChargingNeeds is Accepted only when the planner will act on it: on a managed site, and
 * Rejected once the station's capability record says it takes no charging profiles (its plan
 * would never be sent) -- the needs are stored either way. */
static void test_ev_charging_needs_answer(void **state)
{
	struct fixture *f = *state;
	struct call_ctx call = {
	    .svc = f->svc, .cfg = &f->cfg, .st = f->st, .action = "NotifyEVChargingNeeds"};
	json_t *req = json_loads("{\"evseId\":2,\"chargingNeeds\":{\"requestedEnergyTransfer\":"
				 "\"AC_single_phase\",\"acChargingParameters\":{"
				 "\"energyAmount\":20000,\"evMinCurrent\":6,"
				 "\"evMaxCurrent\":32,\"evMaxVoltage\":230}}}",
				 0, NULL);
	json_t *conf = NULL;
	struct store_needs n;
	int64_t id;

	assert_non_null(req);
	assert_int_equal(store_site_put(f->store, "HOME", SITE_RESIDENTIAL, T0), 0);
	assert_int_equal(store_station_put(f->store, "CS-1", "HOME", NULL, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
	snprintf(f->st->site_id, sizeof(f->st->site_id), "HOME");
	id = event(f, SESSION_OPEN, 0, T0, 100, NULL);

	assert_int_equal(v201_notify_ev_charging_needs(&call, req, &conf), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	json_decref(conf);

	/* the operator says this station takes no profiles: the planner will not act */
	assert_int_equal(
	    svc_model_caps_override(f->svc, "", "station:CS-1", "{\"smart_charging\":false}"), 0);
	assert_int_equal(store_commit(f->store), 0);
	conf = NULL;
	assert_int_equal(v201_notify_ev_charging_needs(&call, req, &conf), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Rejected");
	json_decref(conf);
	assert_int_equal(store_needs_get(f->store, id, &n), 0); /* stored all the same */
	assert_int_equal(n.energy_wh, 20000);
	json_decref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_in_order_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_has_no_effect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gaps_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_started_moves_start_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_updated_after_ended_keeps_it_closed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_evse_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multipart_report, setup, teardown),
	    cmocka_unit_test(test_energy_register_units),
	    cmocka_unit_test_setup_teardown(test_signed_meter_value_kept, setup, teardown),
	    cmocka_unit_test(test_ocpp_words_translated),
	    cmocka_unit_test_setup_teardown(test_ev_charging_needs_answer, setup, teardown),
	};

	return cmocka_run_group_tests_name("v201", tests, NULL, NULL);
}
