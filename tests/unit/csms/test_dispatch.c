/* SPDX-License-Identifier: MIT */
/* Unit tests of the dispatcher (csms/dispatch.c), the one function the server, these tests and
 * the fuzzer run for a charger's CALL: catalogue, limits, schema both ways, registration gate,
 * adapter call. Against the real domain, an in-memory store and the real adapters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "adapter.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "dispatch.h"
#include "ocpp.h"
#include "store/store.h"
#include "svc/svc.h"

#define T0 1795000000000LL

struct fx {
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	struct ocpp_catalog *catalog[_OCPP_VERSION_MAX];
	char conn; /* stands in for the connection the station is attached to */
	struct chg_station *st;
	struct dispatch_reply rep;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_token tok = {.status = AUTH_ACCEPTED};
	char err[256];
	void *replaced;

	if (!f)
		return -1;
	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	f->store = store_open(":memory:", false, err, sizeof(err));
	f->svc = f->store ? svc_create(f->store, &f->clock, &f->cfg) : NULL;
	if (!f->svc || store_station_create(f->store, "CS-1", REG_ACCEPTED, T0) < 0)
		return -1;
	snprintf(tok.token, sizeof(tok.token), "TAG-1");
	if (store_token_put(f->store, &tok) < 0 || store_commit(f->store) < 0)
		return -1;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		if (!(f->catalog[v] = ocpp_catalog_create((enum ocpp_version)v)))
			return -1;
	f->st = svc_station_attach(f->svc, "CS-1", OCPP_V16, "ocpp1.6", &f->conn, &replaced);
	if (!f->st)
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	json_decref(f->rep.payload);
	svc_station_detach(f->svc, f->st, &f->conn);
	svc_destroy(f->svc);
	store_close(f->store);
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		ocpp_catalog_destroy(f->catalog[v]);
	cfg_free(&f->cfg);
	free(f);
	return 0;
}

/* Dispatch the frame text as a CALL of a version-v station; the reply is in f->rep. */
static enum ocpp_err call(struct fx *f, enum ocpp_version v, const char *text)
{
	struct dispatch_ctx ctx = {.catalog = f->catalog[v],
				   .adapter = adapter_for(v),
				   .cfg = &f->cfg,
				   .svc = f->svc,
				   .st = f->st};
	struct ocpp_frame fr;
	enum ocpp_err e;

	json_decref(f->rep.payload);
	f->rep.payload = NULL;
	f->st->protocol = (int)v;
	if (ocpp_frame_parse(text, strlen(text), &fr, NULL) < 0)
		fail_msg("not a frame: %s", text);
	assert_int_equal(fr.type, OCPP_CALL);
	e = dispatch_call(&ctx, &fr, &f->rep);
	ocpp_frame_release(&fr);
	assert_int_equal(e, f->rep.err);
	/* a reply is either a durable result or an error without payload */
	if (e == OCPP_ERR_NONE) {
		assert_non_null(f->rep.payload);
		assert_true(f->rep.durable);
	} else {
		assert_null(f->rep.payload);
		assert_false(f->rep.durable);
		assert_true(f->rep.desc[0] != '\0');
	}
	return e;
}

static void test_unknown_action_is_not_implemented(void **state)
{
	struct fx *f = *state;

	assert_int_equal(call(f, OCPP_V16, "[2,\"1\",\"FooBar\",{}]"), OCPP_ERR_NOT_IMPLEMENTED);
	assert_string_equal(f->rep.desc, "unknown action");
	/* a 2.0.1 action is unknown to a 1.6 station, and the other way round */
	assert_int_equal(call(f, OCPP_V16, "[2,\"2\",\"TransactionEvent\",{}]"),
			 OCPP_ERR_NOT_IMPLEMENTED);
	assert_int_equal(call(f, OCPP_V201, "[2,\"3\",\"StartTransaction\",{}]"),
			 OCPP_ERR_NOT_IMPLEMENTED);
	assert_string_equal(ocpp_err_name(OCPP_V16, f->rep.err), "NotImplemented");
}

static void test_unsupported_action_is_not_supported(void **state)
{
	struct fx *f = *state;

	/* in the 1.6 catalogue (security extension) but CSMS-initiated: not in the adapter's
	 * table (every charger-initiated 1.6 action has a handler since issue 10) */
	assert_int_equal(call(f, OCPP_V16,
			      "[2,\"1\",\"CertificateSigned\","
			      "{\"certificateChain\":\"x\"}]"),
			 OCPP_ERR_NOT_SUPPORTED);
	assert_string_equal(f->rep.desc, "action not supported by this CSMS");
	/* CSMS-initiated: a charger may not send it */
	assert_int_equal(call(f, OCPP_V16, "[2,\"2\",\"Reset\",{\"type\":\"Hard\"}]"),
			 OCPP_ERR_NOT_SUPPORTED);
	assert_int_equal(call(f, OCPP_V201, "[2,\"3\",\"RequestStartTransaction\",{}]"),
			 OCPP_ERR_NOT_SUPPORTED);
	assert_int_equal(call(f, OCPP_V201,
			      "[2,\"4\",\"NotifyDisplayMessages\","
			      "{\"requestId\":1}]"),
			 OCPP_ERR_NOT_SUPPORTED);
}

/* The adapter's table is the one list of supported charger-initiated actions: the dispatcher
 * answers NotSupported exactly for the catalogue's charger-initiated actions it has no handler
 * for, whatever the catalogue's supported flag says. */
static void test_support_comes_from_the_adapter_table(void **state)
{
	struct fx *f = *state;

	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		const struct adapter *ad = adapter_for((enum ocpp_version)v);
		size_t handled = 0;

		assert_non_null(ad);
		for (size_t i = 0; i < ocpp_catalog_count(f->catalog[v]); i++) {
			const struct ocpp_msg_def *d = ocpp_catalog_at(f->catalog[v], i);
			bool has = (d->dir & OCPP_CP_TO_CS) && ad->find(d->action);
			char text[160];
			enum ocpp_err e;

			snprintf(text, sizeof(text), "[2,\"x\",\"%s\",{}]", d->action);
			e = call(f, (enum ocpp_version)v, text);
			if ((e == OCPP_ERR_NOT_SUPPORTED) == has)
				fail_msg("%s %s: %s", ocpp_version_name((enum ocpp_version)v),
					 d->action, ocpp_err_name((enum ocpp_version)v, e));
			handled += has;
		}
		assert_true(handled >= 10);
	}
}

static void test_list_over_max_list_items(void **state)
{
	struct fx *f = *state;
	static const char *const mv =
	    "[2,\"1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":["
	    "{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":[{\"value\":\"1\"}]},"
	    "{\"timestamp\":\"2026-11-23T10:00:01Z\",\"sampledValue\":[{\"value\":\"2\"}]},"
	    "{\"timestamp\":\"2026-11-23T10:00:02Z\",\"sampledValue\":[{\"value\":\"3\"}]}]}]";

	f->cfg.max_list_items = 3;
	assert_int_equal(call(f, OCPP_V16, mv), OCPP_ERR_NONE);
	f->cfg.max_list_items = 2;
	assert_int_equal(call(f, OCPP_V16, mv), OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_string_equal(f->rep.desc, "a list exceeds max_list_items");
	/* the limit applies to lists the schema does not know too, and before the schema */
	f->cfg.max_list_items = 1;
	assert_int_equal(call(f, OCPP_V201, "[2,\"2\",\"Heartbeat\",{\"x\":[1,2]}]"),
			 OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_string_equal(ocpp_err_name(OCPP_V201, f->rep.err), "OccurrenceConstraintViolation");
}

/* A Heartbeat whose payload nests depth objects: its innermost value is at depth depth (the
 * payload itself is depth 0). */
static char *nested(int depth)
{
	size_t n = 64 + 8 * (size_t)depth;
	char *s = malloc(n), *p = s;

	assert_non_null(s);
	p += sprintf(p, "[2,\"1\",\"Heartbeat\",");
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "{\"a\":");
	p += sprintf(p, "1");
	for (int i = 0; i < depth; i++)
		*p++ = '}';
	sprintf(p, "]");
	return s;
}

static void test_too_deep_nesting(void **state)
{
	struct fx *f = *state;
	char *ok = nested(DISPATCH_MAX_DEPTH), *deep = nested(DISPATCH_MAX_DEPTH + 1);

	/* within the limit, the schema refuses the extra member (FormationViolation) */
	assert_int_equal(call(f, OCPP_V16, ok), OCPP_ERR_FORMATION);
	/* one level more: refused before the schema */
	assert_int_equal(call(f, OCPP_V16, deep), OCPP_ERR_FORMATION); /* docs/wire.md */
	free(ok);
	free(deep);
}

static void test_schema_error_codes_per_version(void **state)
{
	struct fx *f = *state;

	/* missing required member */
	assert_int_equal(call(f, OCPP_V16,
			      "[2,\"1\",\"BootNotification\","
			      "{\"chargePointVendor\":\"V\"}]"),
			 OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_string_equal(ocpp_err_name(OCPP_V16, f->rep.err), "OccurenceConstraintViolation");
	assert_non_null(strstr(f->rep.desc, "chargePointModel"));
	assert_int_equal(
	    call(f, OCPP_V201, "[2,\"2\",\"BootNotification\",{\"reason\":\"PowerUp\"}]"),
	    OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_string_equal(ocpp_err_name(OCPP_V201, f->rep.err), "OccurrenceConstraintViolation");
	/* a member the schema does not allow */
	assert_int_equal(call(f, OCPP_V16, "[2,\"3\",\"Heartbeat\",{\"x\":1}]"),
			 OCPP_ERR_FORMATION);
	assert_string_equal(ocpp_err_name(OCPP_V16, f->rep.err), "FormationViolation");
	assert_int_equal(call(f, OCPP_V201, "[2,\"4\",\"Heartbeat\",{\"x\":1}]"),
			 OCPP_ERR_FORMATION);
	assert_string_equal(ocpp_err_name(OCPP_V201, f->rep.err), "FormatViolation");
	/* wrong type, bad enum */
	assert_int_equal(call(f, OCPP_V16, "[2,\"5\",\"Authorize\",{\"idTag\":5}]"),
			 OCPP_ERR_TYPE_CONSTRAINT);
	assert_string_equal(ocpp_err_name(OCPP_V16, f->rep.err), "TypeConstraintViolation");
	assert_int_equal(call(f, OCPP_V16,
			      "[2,\"6\",\"StatusNotification\",{\"connectorId\":1,"
			      "\"errorCode\":\"NoError\",\"status\":\"Sleeping\"}]"),
			 OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_string_equal(ocpp_err_name(OCPP_V16, f->rep.err), "PropertyConstraintViolation");
}

static void test_not_accepted_station_may_only_boot(void **state)
{
	struct fx *f = *state;
	const char *status;

	f->st->registration = REG_PENDING;
	assert_int_equal(call(f, OCPP_V16, "[2,\"1\",\"Heartbeat\",{}]"), OCPP_ERR_SECURITY);
	assert_string_equal(f->rep.desc, "station is not accepted");
	assert_string_equal(ocpp_err_name(OCPP_V16, f->rep.err), "SecurityError");
	assert_int_equal(call(f, OCPP_V201,
			      "[2,\"2\",\"Authorize\","
			      "{\"idToken\":{\"idToken\":\"TAG-1\",\"type\":\"ISO14443\"}}]"),
			 OCPP_ERR_SECURITY);
	/* the gate comes after validation: a broken request still gets its schema error */
	assert_int_equal(call(f, OCPP_V16, "[2,\"3\",\"Heartbeat\",{\"x\":1}]"),
			 OCPP_ERR_FORMATION);
	/* a boot is answered (Pending, as the station's registration says) */
	assert_int_equal(call(f, OCPP_V16,
			      "[2,\"4\",\"BootNotification\",{\"chargePointVendor\":"
			      "\"V\",\"chargePointModel\":\"M\"}]"),
			 OCPP_ERR_NONE);
	status = json_string_value(json_object_get(f->rep.payload, "status"));
	assert_non_null(status);
	assert_string_equal(status, "Pending");
	f->st->registration = REG_REJECTED;
	assert_int_equal(call(f, OCPP_V16,
			      "[2,\"5\",\"StatusNotification\",{\"connectorId\":1,"
			      "\"errorCode\":\"NoError\",\"status\":\"Available\"}]"),
			 OCPP_ERR_SECURITY);
}

static void test_good_call_and_its_result(void **state)
{
	struct fx *f = *state;
	char desc[160];
	json_t *info;

	assert_int_equal(call(f, OCPP_V16, "[2,\"1\",\"Heartbeat\",{}]"), OCPP_ERR_NONE);
	/* the answer carries the domain's clock */
	assert_string_equal(json_string_value(json_object_get(f->rep.payload, "currentTime")),
			    "2026-11-18T11:06:40.000Z");
	assert_string_equal(f->rep.desc, "");
	assert_int_equal(call(f, OCPP_V16, "[2,\"2\",\"Authorize\",{\"idTag\":\"TAG-1\"}]"),
			 OCPP_ERR_NONE);
	info = json_object_get(f->rep.payload, "idTagInfo");
	assert_string_equal(json_string_value(json_object_get(info, "status")), "Accepted");
	assert_int_equal(call(f, OCPP_V16, "[2,\"3\",\"Authorize\",{\"idTag\":\"NOBODY\"}]"),
			 OCPP_ERR_NONE);
	info = json_object_get(f->rep.payload, "idTagInfo");
	assert_string_equal(json_string_value(json_object_get(info, "status")), "Invalid");
	/* the result passes the response schema (the dispatcher checked it; check again) */
	assert_int_equal(ocpp_catalog_validate(f->catalog[OCPP_V16], "Authorize", true,
					       f->rep.payload, desc, sizeof(desc)),
			 OCPP_ERR_NONE);
	assert_int_equal(call(f, OCPP_V201, "[2,\"4\",\"Heartbeat\",{}]"), OCPP_ERR_NONE);
	assert_non_null(json_object_get(f->rep.payload, "currentTime"));
}

/* The charger's answers to our calls are checked against the response schema. */
static void test_check_answer(void **state)
{
	struct fx *f = *state;
	json_t *ok = json_pack("{s:s}", "status", "Accepted");
	json_t *bad = json_pack("{s:s}", "status", "Maybe");
	json_t *none = json_object();
	char desc[160];

	assert_int_equal(
	    dispatch_check_answer(f->catalog[OCPP_V16], "Reset", ok, desc, sizeof(desc)),
	    OCPP_ERR_NONE);
	assert_int_equal(
	    dispatch_check_answer(f->catalog[OCPP_V16], "Reset", bad, desc, sizeof(desc)),
	    OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_int_equal(
	    dispatch_check_answer(f->catalog[OCPP_V201], "Reset", none, desc, sizeof(desc)),
	    OCPP_ERR_OCCURRENCE_CONSTRAINT);
	json_decref(ok);
	json_decref(bad);
	json_decref(none);
}

static void test_no_adapter_is_not_supported(void **state)
{
	struct fx *f = *state;
	struct dispatch_ctx ctx = {
	    .catalog = f->catalog[OCPP_V16], .cfg = &f->cfg, .svc = f->svc, .st = f->st};
	struct ocpp_frame fr;
	const char *text = "[2,\"1\",\"Heartbeat\",{}]";

	assert_int_equal(ocpp_frame_parse(text, strlen(text), &fr, NULL), 0);
	assert_int_equal(dispatch_call(&ctx, &fr, &f->rep), OCPP_ERR_NOT_SUPPORTED);
	assert_null(f->rep.payload);
	ocpp_frame_release(&fr);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_unknown_action_is_not_implemented),
	    T(test_unsupported_action_is_not_supported),
	    T(test_support_comes_from_the_adapter_table),
	    T(test_list_over_max_list_items),
	    T(test_too_deep_nesting),
	    T(test_schema_error_codes_per_version),
	    T(test_not_accepted_station_may_only_boot),
	    T(test_good_call_and_its_result),
	    T(test_check_answer),
	    T(test_no_adapter_is_not_supported),
	};
#undef T

	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
