/* SPDX-License-Identifier: MIT */
/* 11: issue 10 regressions: the retry cache keys on the payload, CALLERRORs for values JSON
 * cannot carry name the message id, a connection that never boots is closed, OCPP 2.0.1
 * never gets profile 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "v201/common201.h"

static json_t *answer(struct tcp *tc, const char *text, const char *id)
{
	json_t *f = NULL;

	assert_int_equal(tc_send_raw(tc, text), 0);
	assert_int_equal(tc_wait_answer(tc, id, &f, 5000), 0);
	return f;
}

static void test_retry_cache_and_error_ids(void **state)
{
	static const char *const args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_start(args, NULL);
	struct tcp *tc;
	json_t *conf = NULL, *a, *b;
	char err[64];
	json_int_t t1, t2;

	assert_non_null(p);
	*state = p;
	tc = tc_connect(p->port, "CP-SEC-1", NULL, "ocpp1.6", 5000, NULL);
	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);

	/* the same id, another payload: a new call, a new transaction */
	a = answer(tc,
		   "[2,\"dup\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"TAG-A\","
		   "\"meterStart\":0,\"timestamp\":\"2026-01-01T00:00:00Z\"}]",
		   "dup");
	b = answer(tc,
		   "[2,\"dup\",\"StartTransaction\",{\"connectorId\":2,\"idTag\":\"TAG-B\","
		   "\"meterStart\":0,\"timestamp\":\"2026-01-01T00:00:00Z\"}]",
		   "dup");
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 3);
	assert_int_equal(json_integer_value(json_array_get(b, 0)), 3);
	t1 = json_integer_value(json_object_get(json_array_get(a, 2), "transactionId"));
	t2 = json_integer_value(json_object_get(json_array_get(b, 2), "transactionId"));
	assert_true(t1 > 0 && t2 > 0);
	assert_true(t1 != t2);
	json_decref(a);
	json_decref(b);
	/* the same payload again: a retry, the first answer */
	b = answer(tc,
		   "[2,\"dup\",\"StartTransaction\",{\"connectorId\":2,\"idTag\":\"TAG-B\","
		   "\"meterStart\":0,\"timestamp\":\"2026-01-01T00:00:00Z\"}]",
		   "dup");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 2), "transactionId")),
			 t2);
	json_decref(b);

	/* values JSON cannot carry: the CALLERROR names the message id, not -1 */
	a = answer(tc, "[2,\"big\",\"Heartbeat\",{\"x\":9223372036854775808}]", "big");
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 4);
	json_decref(a);
	a = answer(tc, "[2,\"huge\",\"Heartbeat\",{\"x\":1e400}]", "huge");
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 4);
	json_decref(a);
	a = answer(tc, "[2,\"nul\",\"Heartbeat\",{\"x\":\"a\\u0000b\"}]", "nul");
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 4);
	json_decref(a);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_no_boot_is_closed(void **state)
{
	static const char *const args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_start(args, "{\"boot_timeout_s\": 1}");
	struct tcp *tc;
	json_t *st;
	int i;

	assert_non_null(p);
	*state = p;
	tc = tc_connect(p->port, "CP-SILENT", NULL, "ocpp1.6", 5000, NULL);
	assert_non_null(tc);
	for (i = 0; i < 40 && !tc_closed(tc); i++) {
		json_t *f = NULL;

		tc_wait_answer(tc, NULL, &f, 100);
		json_decref(f);
	}
	assert_true(tc_closed(tc));
	/* and no row was created for it */
	st = http_get_json(p->port, "/api/stations/CP-SILENT");
	assert_null(st);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* OCPP 2.0.1 never gets profile 0, even under open registration: no credential, 401. */
static void test_v201_needs_a_credential_under_open(void **state)
{
	static const char *const args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_start(args, NULL);
	struct tc_why why = {0};
	struct tcp *tc;
	json_t *conf = NULL;
	char err[64];

	assert_non_null(p);
	*state = p;
	assert_null(tc_connect(p->port, "CP-201-NOPW", NULL, "ocpp2.0.1", 5000, &why));
	assert_false(why.timeout);
	assert_int_equal(why.end, CPCLIENT_END_REFUSED);
	assert_int_equal(why.http_status, 401);
	/* with a password it is in, and the password is bound to it */
	tc = tc_connect(p->port, "CP-201-NOPW", "lab-password-201-0002", "ocpp2.0.1", 5000, NULL);
	assert_non_null(tc);
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	json_decref(conf);
	tc_close(tc);
	memset(&why, 0, sizeof(why));
	assert_null(tc_connect(p->port, "CP-201-NOPW", NULL, "ocpp2.0.1", 5000, &why));
	assert_int_equal(why.http_status, 401);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* registration open is a lab policy: refused at start (one line, exit 2) on a listener that is
 * not loopback unless allow_open_registration is set, and then announced with a warning. */
static void test_open_registration_is_a_lab_policy(void **state)
{
	struct csms_proc *p =
	    csms_prepare("{\"allow_open_registration\": true, \"kdf_iterations\": 1000}");
	/* the API on its own loopback listener: a non-loopback charger port needs one */
	const char *refused[] = {
	    "--listen", "0.0.0.0:0", "--api-listen", "127.0.0.1:0", "--registration",
	    "open",	"--db",	     NULL,	     NULL};
	static const char *const allowed[] = {
	    "--listen", "0.0.0.0:0", "--api-listen", "127.0.0.1:0", "--registration", "open", NULL};
	int lines;

	assert_non_null(p);
	*state = p;
	refused[7] = p->db;
	lines = csms_log_count(p, "csms: ");
	assert_int_equal(csms_cli(p, refused), 2); /* no --config: no allow_open_registration */
	assert_int_equal(csms_log_count(p, "csms: "), lines + 1);
	assert_int_equal(csms_log_count(p, "set allow_open_registration to run it there"), 1);
	/* loopback: a lab, no warning */
	assert_int_equal(csms_launch(p, (const char *const[]){"--registration", "open", NULL}), 0);
	assert_int_equal(csms_stop(p), 0);
	assert_int_equal(csms_log_count(p, "WARNING: registration open"), 0);
	/* the override: it starts, and says so loudly */
	assert_int_equal(csms_launch(p, allowed), 0);
	assert_int_equal(csms_stop(p), 0);
	assert_int_equal(
	    csms_log_count(p, "WARNING: registration open on the non-loopback listener"), 1);
	/* and kdf_iterations below 100,000 is announced at every start */
	assert_int_equal(csms_log_count(p, "WARNING: kdf_iterations 1000 is below 100000"), 2);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_retry_cache_and_error_ids, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_no_boot_is_closed, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_v201_needs_a_credential_under_open,
				      csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_open_registration_is_a_lab_policy,
				      csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("11-security", tests, NULL, NULL);
}
