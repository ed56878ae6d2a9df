/* SPDX-License-Identifier: MIT */
/* Unit tests of the message catalogue: sorted tables, one row per schema, coverage. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ocpp-private.h"
#include "ocpp.h"

#define CP OCPP_CP_TO_CS
#define CS OCPP_CS_TO_CP

struct expect_row {
	const char *action;
	unsigned dir;
};

/* DESIGN.md §5, written out again on purpose: the catalogue must agree with the design. */
static const struct expect_row v16_supported[] = {
    {"Authorize", CP},
    {"BootNotification", CP},
    {"DataTransfer", CP | CS},
    {"DiagnosticsStatusNotification", CP},
    {"FirmwareStatusNotification", CP},
    {"Heartbeat", CP},
    {"MeterValues", CP},
    {"StartTransaction", CP},
    {"StatusNotification", CP},
    {"StopTransaction", CP},
    {"CancelReservation", CS},
    {"ChangeAvailability", CS},
    {"ChangeConfiguration", CS},
    {"ClearCache", CS},
    {"ClearChargingProfile", CS},
    {"GetCompositeSchedule", CS},
    {"GetConfiguration", CS},
    {"GetDiagnostics", CS},
    {"GetLocalListVersion", CS},
    {"RemoteStartTransaction", CS},
    {"RemoteStopTransaction", CS},
    {"ReserveNow", CS},
    {"Reset", CS},
    {"SendLocalList", CS},
    {"SetChargingProfile", CS},
    {"TriggerMessage", CS},
    {"UnlockConnector", CS},
    {"UpdateFirmware", CS},
    /* the security whitepaper extension (issue 10) */
    {"SignCertificate", CP},
    {"SecurityEventNotification", CP},
    {"LogStatusNotification", CP},
    {"SignedFirmwareStatusNotification", CP},
    {"CertificateSigned", CS},
    {"DeleteCertificate", CS},
    {"ExtendedTriggerMessage", CS},
    {"GetInstalledCertificateIds", CS},
    {"GetLog", CS},
    {"InstallCertificate", CS},
    {"SignedUpdateFirmware", CS},
};

static const struct expect_row v201_supported[] = {
    {"Authorize", CP},
    {"BootNotification", CP},
    {"ClearedChargingLimit", CP}, /* issue 9: an external limit lifted */
    {"DataTransfer", CP | CS},
    {"FirmwareStatusNotification", CP},
    {"Heartbeat", CP},
    {"LogStatusNotification", CP},
    {"MeterValues", CP},
    {"NotifyChargingLimit", CP},
    {"NotifyEVChargingNeeds", CP},
    {"NotifyEvent", CP},
    {"NotifyReport", CP},
    {"ReportChargingProfiles", CP},
    {"ReservationStatusUpdate", CP}, /* issue 11: reservations tracked */
    {"SecurityEventNotification", CP},
    {"SignCertificate", CP},
    {"StatusNotification", CP},
    {"TransactionEvent", CP},
    {"CancelReservation", CS},
    {"CertificateSigned", CS},
    {"ChangeAvailability", CS},
    {"ClearCache", CS},
    {"ClearChargingProfile", CS},
    {"GetBaseReport", CS},
    {"GetChargingProfiles", CS},
    {"GetCompositeSchedule", CS},
    {"GetLocalListVersion", CS},
    {"GetLog", CS},
    {"GetReport", CS},
    {"GetTransactionStatus", CS},
    {"GetVariables", CS},
    {"RequestStartTransaction", CS},
    {"RequestStopTransaction", CS},
    {"ReserveNow", CS},
    {"Reset", CS},
    {"SendLocalList", CS},
    {"SetChargingProfile", CS},
    {"SetVariables", CS},
    {"TriggerMessage", CS},
    {"UnlockConnector", CS},
    {"UpdateFirmware", CS},
};

/* Spot checks of the unsupported 2.0.1 directions; the rest are CSMS -> station. */
static const struct expect_row v201_unsupported_cp[] = {
    {"Get15118EVCertificate", CP},
    {"GetCertificateStatus", CP},
    {"NotifyCustomerInformation", CP},
    {"NotifyDisplayMessages", CP},
    {"NotifyEVChargingSchedule", CP},
    {"NotifyMonitoringReport", CP},
    {"PublishFirmwareStatusNotification", CP},
};

static void check_rows(const struct ocpp_catalog *c, const struct expect_row *rows, size_t n,
		       bool supported)
{
	for (size_t i = 0; i < n; i++) {
		const struct ocpp_msg_def *d = ocpp_catalog_find(c, rows[i].action);

		if (!d || d->supported != supported || d->dir != rows[i].dir)
			fail_msg("%s: %s", rows[i].action, d ? "wrong supported/dir" : "missing");
	}
}

static size_t count_supported(const struct ocpp_catalog *c, unsigned dir)
{
	size_t n = 0;

	for (size_t i = 0; i < ocpp_catalog_count(c); i++) {
		const struct ocpp_msg_def *d = ocpp_catalog_at(c, i);

		if (d->supported && (d->dir & dir))
			n++;
	}
	return n;
}

static void test_tables_sorted_unique(void **state)
{
	(void)state;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		size_t n = 0;
		const struct ocpp_action_row *rows = ocpp__action_table(v, &n);

		assert_non_null(rows);
		assert_true(n > 30);
		for (size_t i = 1; i < n; i++)
			if (strcmp(rows[i - 1].action, rows[i].action) >= 0)
				fail_msg("%s before %s", rows[i - 1].action, rows[i].action);
		for (size_t i = 0; i < n; i++) {
			assert_true(rows[i].dir >= 1 && rows[i].dir <= 3);
		}
	}
	assert_null(ocpp__action_table(_OCPP_VERSION_MAX, &(size_t){0}));
}

/* Every embedded schema belongs to a table row and every row has both schemas. */
static void test_schemas_match_table(void **state)
{
	(void)state;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		size_t nfiles = 0, nrows = 0;
		const struct embedded_file *files = ocpp__schema_files(v, &nfiles);
		struct ocpp_catalog *c = ocpp_catalog_create(v);
		const char *req_suffix = v == OCPP_V16 ? "" : "Request";

		assert_non_null(files);
		assert_non_null(c);
		ocpp__action_table(v, &nrows);
		assert_int_equal(ocpp_catalog_count(c), nrows);
		assert_int_equal(nfiles, 2 * nrows);
		for (size_t i = 0; i < nfiles; i++) {
			char action[128];
			size_t n = strlen(files[i].name);
			const char *suffix = "Response";

			if (n <= 8 || strcmp(files[i].name + n - 8, "Response") != 0)
				suffix = req_suffix;
			assert_true(n > strlen(suffix));
			assert_string_equal(files[i].name + n - strlen(suffix), suffix);
			memcpy(action, files[i].name, n - strlen(suffix));
			action[n - strlen(suffix)] = '\0';
			if (!ocpp_catalog_find(c, action))
				fail_msg("schema %s has no table row", files[i].name);
			assert_int_equal(strlen(files[i].data), files[i].len);
			if (i > 0)
				assert_true(strcmp(files[i - 1].name, files[i].name) < 0);
		}
		for (size_t i = 0; i < ocpp_catalog_count(c); i++) {
			const struct ocpp_msg_def *d = ocpp_catalog_at(c, i);

			assert_non_null(d->req_schema);
			assert_non_null(d->conf_schema);
			assert_true(json_is_object(d->req_schema));
			assert_true(json_is_object(d->conf_schema));
			assert_ptr_not_equal(d->req_schema, d->conf_schema);
			if (i > 0)
				assert_true(strcmp(ocpp_catalog_at(c, i - 1)->action, d->action) <
					    0);
			assert_ptr_equal(ocpp_catalog_find(c, d->action), d);
		}
		assert_null(ocpp_catalog_at(c, ocpp_catalog_count(c)));
		ocpp_catalog_destroy(c);
	}
}

static void test_v16_coverage(void **state)
{
	struct ocpp_catalog *c = ocpp_catalog_create(OCPP_V16);
	size_t n = sizeof(v16_supported) / sizeof(v16_supported[0]);

	(void)state;
	assert_non_null(c);
	assert_int_equal(ocpp_catalog_version(c), OCPP_V16);
	check_rows(c, v16_supported, n, true);
	assert_int_equal(count_supported(c, CP | CS), n);
	/* 10 core + 4 of the security extension; 19 core + 7 of the security extension */
	assert_int_equal(count_supported(c, CP), 14);
	assert_int_equal(count_supported(c, CS), 26);
	assert_int_equal(ocpp_catalog_count(c), n); /* every 1.6 action is supported now */
	assert_null(ocpp_catalog_find(c, "TransactionEvent"));
	assert_null(ocpp_catalog_find(c, "heartbeat"));
	assert_null(ocpp_catalog_find(c, ""));
	assert_null(ocpp_catalog_find(c, NULL));
	ocpp_catalog_destroy(c);
}

static void test_v201_coverage(void **state)
{
	struct ocpp_catalog *c = ocpp_catalog_create(OCPP_V201);
	size_t n = sizeof(v201_supported) / sizeof(v201_supported[0]);

	(void)state;
	assert_non_null(c);
	assert_int_equal(ocpp_catalog_version(c), OCPP_V201);
	check_rows(c, v201_supported, n, true);
	check_rows(c, v201_unsupported_cp,
		   sizeof(v201_unsupported_cp) / sizeof(v201_unsupported_cp[0]), false);
	assert_int_equal(count_supported(c, CP | CS), n);
	assert_int_equal(count_supported(c, CP), 18);
	assert_int_equal(count_supported(c, CS), 24);
	assert_int_equal(ocpp_catalog_count(c), 64);
	/* the unsupported ones not listed above go CSMS -> station */
	for (size_t i = 0; i < ocpp_catalog_count(c); i++) {
		const struct ocpp_msg_def *d = ocpp_catalog_at(c, i);
		bool listed = false;

		for (size_t k = 0; k < sizeof(v201_unsupported_cp) / sizeof(v201_unsupported_cp[0]);
		     k++)
			listed |= strcmp(v201_unsupported_cp[k].action, d->action) == 0;
		if (!d->supported && !listed && d->dir != CS)
			fail_msg("%s should be CS -> CP", d->action);
	}
	assert_null(ocpp_catalog_find(c, "StartTransaction"));
	ocpp_catalog_destroy(c);
}

static void test_create_destroy(void **state)
{
	(void)state;
	assert_null(ocpp_catalog_create(_OCPP_VERSION_MAX));
	assert_null(ocpp_catalog_create((enum ocpp_version) - 1));
	ocpp_catalog_destroy(NULL);
	assert_int_equal(ocpp_catalog_count(NULL), 0);
	assert_null(ocpp_catalog_at(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables_sorted_unique), cmocka_unit_test(test_schemas_match_table),
	    cmocka_unit_test(test_v16_coverage),	 cmocka_unit_test(test_v201_coverage),
	    cmocka_unit_test(test_create_destroy),
	};

	return cmocka_run_group_tests_name("ocpp-catalog", tests, NULL, NULL);
}
