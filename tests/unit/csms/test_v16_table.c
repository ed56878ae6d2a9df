/* SPDX-License-Identifier: MIT */
/* Unit tests of the OCPP 1.6 action table (and the 2.0.1 one, by the same rules): sorted for
 * bsearch, and in step with the catalogue. The adapter's table alone decides which
 * charger-initiated actions the CSMS answers (the dispatcher does not read the catalogue's
 * supported flag for them; test_dispatch checks that); here it is held against the catalogue's
 * directions and schemas, which the dispatcher needs to reach a handler, and against the design's
 * list (DESIGN.md §5), which the catalogue's supported column records for the simulator. */
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

#include "ocpp.h"
#include "ocpp16/v16.h"
#include "ocpp201/v201.h"

/* The 2.0.1 table follows the same rules; it is checked here too, with the same code. */
struct table {
	const char *label;
	enum ocpp_version version;
	const struct adapter *adapter;
	size_t n;
	const char *names[64];
	adapter_handler_fn fns[64];
	struct ocpp_catalog *catalog;
};

static int tables_setup(void **state)
{
	struct table *t = calloc(2, sizeof(*t));

	if (!t || v16_actions_count > 64 || v201_actions_count > 64)
		return -1;
	t[0] = (struct table){
	    .label = "v16", .version = OCPP_V16, .adapter = &v16_adapter, .n = v16_actions_count};
	for (size_t i = 0; i < v16_actions_count; i++) {
		t[0].names[i] = v16_actions[i].name;
		t[0].fns[i] = v16_actions[i].fn;
	}
	t[1] = (struct table){.label = "v201",
			      .version = OCPP_V201,
			      .adapter = &v201_adapter,
			      .n = v201_actions_count};
	for (size_t i = 0; i < v201_actions_count; i++) {
		t[1].names[i] = v201_actions[i].name;
		t[1].fns[i] = v201_actions[i].fn;
	}
	for (int i = 0; i < 2; i++) {
		t[i].catalog = ocpp_catalog_create(t[i].version);
		if (!t[i].catalog)
			return -1;
	}
	*state = t;
	return 0;
}

static int tables_teardown(void **state)
{
	struct table *t = *state;

	for (int i = 0; i < 2; i++)
		ocpp_catalog_destroy(t[i].catalog);
	free(t);
	return 0;
}

static void test_table_sorted_strictly(void **state)
{
	const struct table *tables = *state;

	for (int k = 0; k < 2; k++) {
		const struct table *t = &tables[k];

		assert_true(t->n > 0);
		for (size_t i = 0; i < t->n; i++) {
			assert_non_null(t->names[i]);
			assert_non_null(t->fns[i]);
			if (i > 0 && strcmp(t->names[i - 1], t->names[i]) >= 0)
				print_error("%s_actions[%zu] \"%s\" is not after \"%s\"\n",
					    t->label, i, t->names[i], t->names[i - 1]);
			if (i > 0)
				assert_true(strcmp(t->names[i - 1], t->names[i]) < 0);
		}
	}
}

/* Every handler is reachable: the catalogue knows its action as charger-initiated (else the
 * dispatcher answers NotImplemented or NotSupported and the row is dead) with both schemas, and
 * the design lists it. */
static void test_table_names_are_supported_cp_to_cs(void **state)
{
	const struct table *tables = *state;

	for (int k = 0; k < 2; k++) {
		const struct table *t = &tables[k];

		assert_int_equal(ocpp_catalog_version(t->catalog), t->version);
		for (size_t i = 0; i < t->n; i++) {
			const struct ocpp_msg_def *d = ocpp_catalog_find(t->catalog, t->names[i]);

			if (!d || !(d->dir & OCPP_CP_TO_CS) || !d->supported)
				print_error("%s \"%s\": catalogue entry %p dir %u supported %d\n",
					    t->label, t->names[i], (const void *)d, d ? d->dir : 0,
					    d ? d->supported : 0);
			assert_non_null(d);
			assert_string_equal(d->action, t->names[i]);
			assert_true(d->dir & OCPP_CP_TO_CS);
			assert_true(d->supported);
			assert_non_null(d->req_schema);
			assert_non_null(d->conf_schema);
		}
	}
}

/* The other way round: every charger-initiated action the design lists (the catalogue's
 * supported column) has a handler; otherwise a charger gets NotSupported for it. */
static void test_every_supported_cp_action_has_a_handler(void **state)
{
	const struct table *tables = *state;

	for (int k = 0; k < 2; k++) {
		const struct table *t = &tables[k];
		size_t n = 0;

		for (size_t i = 0; i < ocpp_catalog_count(t->catalog); i++) {
			const struct ocpp_msg_def *d = ocpp_catalog_at(t->catalog, i);
			bool found = false;

			assert_non_null(d);
			if (!d->supported || !(d->dir & OCPP_CP_TO_CS))
				continue;
			n++;
			for (size_t j = 0; j < t->n; j++)
				found = found || strcmp(t->names[j], d->action) == 0;
			if (!found)
				print_error("%s: supported CP->CS action %s has no handler\n",
					    t->label, d->action);
			assert_true(found);
		}
		assert_int_equal(n, t->n);
	}
}

/* The adapter's bsearch finds every row, and nothing else. */
static void test_adapter_find(void **state)
{
	const struct table *tables = *state;

	for (int k = 0; k < 2; k++) {
		const struct table *t = &tables[k];
		const struct adapter *ad = t->adapter;

		assert_int_equal(ad->version, t->version);
		assert_non_null(ad->find);
		for (size_t i = 0; i < t->n; i++)
			assert_ptr_equal(ad->find(t->names[i]), t->fns[i]);
		assert_null(ad->find(""));
		assert_null(ad->find("heartbeat"));
		assert_null(ad->find("Heartbeat "));
		assert_null(ad->find("A"));
		assert_null(ad->find("Zzz"));
		assert_null(ad->find("RemoteStartTransaction")); /* CS->CP: no inbound handler */
		assert_null(ad->find("RequestStartTransaction"));
	}
	assert_null(v16_adapter.find("TransactionEvent"));  /* 2.0.1 only */
	assert_null(v201_adapter.find("StartTransaction")); /* 1.6 only */
}

/* tmpl with its "%s" replaced by num. */
static void subst(const char *tmpl, const char *num, char *out, size_t n)
{
	const char *at = strstr(tmpl, "%s");

	assert_non_null(at);
	snprintf(out, n, "%.*s%s%s", (int)(at - tmpl), tmpl, num, at + 2);
}

/* The 1.6 handlers read integers with (int64_t)json_number_value() when a charger sends them as
 * reals (5.0): the catalogue must refuse integral reals outside int64, or that conversion is
 * undefined behaviour. One case per integer field a handler reads. */
static void test_handler_integers_fit_int64(void **state)
{
	static const struct {
		const char *action, *payload; /* payload with %s where the number goes */
	} fields[] = {
	    {"StartTransaction", "{\"connectorId\":%s,\"idTag\":\"T\",\"meterStart\":0,"
				 "\"timestamp\":\"2026-11-23T10:00:00Z\"}"},
	    {"StartTransaction", "{\"connectorId\":1,\"idTag\":\"T\",\"meterStart\":%s,"
				 "\"timestamp\":\"2026-11-23T10:00:00Z\"}"},
	    {"StartTransaction", "{\"connectorId\":1,\"idTag\":\"T\",\"meterStart\":0,"
				 "\"reservationId\":%s,\"timestamp\":\"2026-11-23T10:00:00Z\"}"},
	    {"StopTransaction", "{\"transactionId\":%s,\"meterStop\":0,"
				"\"timestamp\":\"2026-11-23T10:00:00Z\"}"},
	    {"StopTransaction", "{\"transactionId\":1,\"meterStop\":%s,"
				"\"timestamp\":\"2026-11-23T10:00:00Z\"}"},
	    {"MeterValues", "{\"connectorId\":%s,\"meterValue\":[]}"},
	    {"MeterValues", "{\"connectorId\":1,\"transactionId\":%s,\"meterValue\":[]}"},
	    {"StatusNotification", "{\"connectorId\":%s,\"errorCode\":\"NoError\","
				   "\"status\":\"Available\"}"},
	};
	static const struct {
		const char *num;
		bool ok;
	} nums[] = {
	    {"1", true},       {"1.0", true},	 {"9.2e18", true},
	    {"-9.2e18", true}, {"1e19", false},	 {"-1e19", false},
	    {"9.3e18", false}, {"1e300", false}, {"1.5", false},
	};
	const struct ocpp_catalog *c = ((const struct table *)*state)[0].catalog;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (size_t j = 0; j < sizeof(nums) / sizeof(nums[0]); j++) {
			char text[512], desc[160];
			json_error_t jerr;
			json_t *p;
			enum ocpp_err e;

			subst(fields[i].payload, nums[j].num, text, sizeof(text));
			p = json_loads(text, 0, &jerr);
			assert_non_null(p);
			e = ocpp_catalog_validate(c, fields[i].action, false, p, desc,
						  sizeof(desc));
			if ((e == OCPP_ERR_NONE) != nums[j].ok)
				print_error("%s %s: %d (%s)\n", fields[i].action, text, e, desc);
			assert_int_equal(e == OCPP_ERR_NONE, nums[j].ok);
			json_decref(p);
		}
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tables_setup, tables_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_table_sorted_strictly),
	    T(test_table_names_are_supported_cp_to_cs),
	    T(test_every_supported_cp_action_has_a_handler),
	    T(test_adapter_find),
	    T(test_handler_integers_fit_int64),
	};
#undef T

	return cmocka_run_group_tests_name("v16_table", tests, NULL, NULL);
}
