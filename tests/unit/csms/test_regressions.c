/* SPDX-License-Identifier: MIT */
/* Regression tests: each reproduces a bug the unit tests or the fuzzers found in csms/ (the
 * comment above each test says what it was); each failed against the code it was written for
 * and passes since the fix. */
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

#include "app.h"
#include "conn.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/pwhash.h"
#include "import.h"
#include "ocpp.h"
#include "ocpp201/v201.h"
#include "store/store.h"
#include "svc/svc.h"

#define T0 1795000000000LL

struct fx {
	char dir[64], db[96], file[96];
	struct cfg cfg;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_csms_known_bugs_XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/csms.db", f->dir);
	snprintf(f->file, sizeof(f->file), "%s/in.csv", f->dir);
	cfg_init(&f->cfg);
	free(f->cfg.db_path);
	f->cfg.db_path = strdup(f->db);
	f->cfg.kdf_iterations = 1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char path[128];

	unlink(f->file);
	unlink(f->db);
	snprintf(path, sizeof(path), "%s-wal", f->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->db);
	unlink(path);
	rmdir(f->dir);
	cfg_free(&f->cfg);
	free(f);
	return 0;
}

static int import_csv(struct fx *f, const char *text)
{
	FILE *o = fopen(f->file, "w");

	assert_non_null(o);
	fputs(text, o);
	assert_int_equal(fclose(o), 0);
	return import_stations(&f->cfg, f->file, false);
}

/* BUG 6 (csms/import.c, parse_csv, `fields[n] = trim(tok);` before `*comma = '\0'`): each CSV
 * field is meant to be trimmed, but trim() runs on the rest of the line before the field is cut
 * at its comma, so blanks *before* a comma survive. Input "CP-1 , S-1 , public , <password>":
 * expected: imported as CP-1 at S-1; actual: exit 1, "charger_id must be 1..48 printable
 * characters without '/': CP-1 " (and "S-1 " would be refused the same way). */
static void test_fixed_import_csv_blank_before_comma(void **state)
{
	struct fx *f = *state;
	struct store_station st;
	char err[256];
	struct store *s;

	/* fails here: status 1 */
	assert_int_equal(import_csv(f, "CP-1 , S-1 , public , password-one-00001\n"), 0);
	s = store_open(f->db, false, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_station_get(s, "CP-1", &st), 0);
	assert_string_equal(st.site_id, "S-1");
	assert_true(pwhash_verify("password-one-00001", st.password_hash));
	store_close(s);
}

/* BUG 7 (csms/import.c, parse_csv, `*trim(line) == '\0' || line[0] == '#'`): a comment is
 * recognised only in column 1; trim() skipped the indentation but the test looks at line[0].
 * Input "  # the north car park\nCP-1,S-1,public,<password>": expected: exit 0 (one
 * station); actual: exit 1, "expected 4 fields" for the comment line. */
static void test_fixed_import_csv_indented_comment(void **state)
{
	struct fx *f = *state;

	/* fails here: status 1 */
	assert_int_equal(import_csv(f, "  # the north car park\n"
				       "CP-1,S-1,public,password-one-00001\n"),
			 0);
}

/* A minimal node for calling 2.0.1 handlers directly: a store, the domain, one station. */
struct node {
	struct app app;
	struct conn conn;
	struct ocpp_catalog *catalog;
	struct call_ctx call;
};

static int node_setup(void **state)
{
	struct node *n = calloc(1, sizeof(*n));
	char err[256];
	void *replaced;

	if (!n)
		return -1;
	log_set_level(LOG_ERR);
	cfg_init(&n->app.cfg);
	n->app.clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	n->app.store = store_open(":memory:", false, err, sizeof(err));
	n->app.svc = n->app.store ? svc_create(n->app.store, &n->app.clock, &n->app.cfg) : NULL;
	n->catalog = ocpp_catalog_create(OCPP_V201);
	if (!n->app.svc || !n->catalog ||
	    store_station_create(n->app.store, "CS-1", REG_ACCEPTED, T0) < 0)
		return -1;
	n->conn.hub = &n->app.hub;
	n->conn.version = OCPP_V201;
	snprintf(n->conn.id, sizeof(n->conn.id), "CS-1");
	n->call =
	    (struct call_ctx){.svc = n->app.svc, .cfg = &n->app.cfg, .err = OCPP_ERR_INTERNAL};
	n->call.st =
	    svc_station_attach(n->app.svc, "CS-1", OCPP_V201, "ocpp2.0.1", &n->conn, &replaced);
	if (!n->call.st)
		return -1;
	*state = n;
	return 0;
}

static int node_teardown(void **state)
{
	struct node *n = *state;

	svc_station_detach(n->app.svc, n->call.st, &n->conn);
	svc_destroy(n->app.svc);
	store_close(n->app.store);
	ocpp_catalog_destroy(n->catalog);
	cfg_free(&n->app.cfg);
	free(n);
	return 0;
}

/* BUG 8 (csms/ocpp201/v201.c:441-443, v201_sign_certificate): the answer's
 * statusInfo.reasonCode "NoCertificateAuthority" has 22 characters; SignCertificateResponse
 * allows 20. conn.c validates every answer, logs "our SignCertificate answer breaks the schema"
 * and sends CALLERROR InternalError instead: every SignCertificate (A02/A03) fails. Found by
 * fuzz_dispatch (now tests/fuzz/corpus/dispatch/v201-*-sign-certificate). Expected: the answer
 * validates (e.g. reasonCode "NoCA" or "NotEnabled"); actual: PropertyConstraintViolation. */
static void test_fixed_v201_sign_certificate_answer_breaks_schema(void **state)
{
	struct node *n = *state;
	json_t *req = json_pack("{s:s}", "csr", "-----BEGIN CERTIFICATE REQUEST-----");
	json_t *conf = NULL;
	char desc[160] = "";
	enum ocpp_err e;

	n->call.action = "SignCertificate";
	assert_int_equal(
	    ocpp_catalog_validate(n->catalog, "SignCertificate", false, req, desc, sizeof(desc)),
	    OCPP_ERR_NONE);
	assert_int_equal(v201_sign_certificate(&n->call, req, &conf), 0);
	e = ocpp_catalog_validate(n->catalog, "SignCertificate", true, conf, desc, sizeof(desc));
	if (e != OCPP_ERR_NONE)
		print_error("answer: %s\n", desc);
	json_decref(conf);
	json_decref(req);
	/* fails here */
	assert_int_equal(e, OCPP_ERR_NONE);
}

/* BUG 9 (csms/ocpp201/v201.c:170-188, sample_wh): the energy register is converted with
 * `mult += 3` on an int taken from the charger's multiplier and `(int64_t)llround(v *
 * pow(10, mult))`. multiplier 2147483647 with unit kWh overflows `mult` (undefined behaviour,
 * UBSan at v201.c:183, found by fuzz_dispatch: now corpus/dispatch/v201-*-tx-multiplier-huge),
 * and any reading outside int64 Wh (value 1e300, or 1e19) makes llround's result unspecified
 * (glibc: INT64_MIN), which then becomes the session's meter start/stop. Expected: such a reading
 * is not a usable register (false) or the event is refused; actual: true and INT64_MIN. */
static void test_fixed_v201_energy_register_out_of_range(void **state)
{
	static const char *const mvs[] = {
	    "[{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":[{\"value\":1e300}]}]",
	    "[{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":[{\"value\":1e19}]}]",
	    ("[{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":[{\"value\":1,"
	     "\"unitOfMeasure\":{\"unit\":\"Wh\",\"multiplier\":400}}]}]"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(mvs) / sizeof(mvs[0]); i++) {
		json_t *mv = json_loads(mvs[i], 0, NULL);
		int64_t wh = 0;
		bool found;

		assert_non_null(mv);
		found = v201_energy_register(mv, NULL, &wh);
		json_decref(mv);
		if (found)
			print_error("%s -> %lld Wh\n", mvs[i], (long long)wh);
		/* fails here */
		assert_false(found);
	}
}

static int get_connector(const struct store_session_row *row, void *ud)
{
	*(int *)ud = row->connector_id;
	return 0;
}

/* BUG 10 (csms/ocpp201/v201.c:303, and :357-359 for NotifyReport): evse.connectorId is cast to
 * int before svc_tx_event's range check, so 4294967297 (2^32 + 1, a valid schema integer) wraps
 * to 1 and passes as connector 1. Input: TransactionEvent Started, evse {"id":1,
 * "connectorId":4294967297}. Expected: PropertyConstraintViolation like any connector id over
 * max_connectors; actual: accepted, session on connector 1. */
static void test_fixed_v201_connector_id_wraps(void **state)
{
	struct node *n = *state;
	json_t *req =
	    json_loads("{\"eventType\":\"Started\",\"timestamp\":\"2026-11-23T10:00:00Z\","
		       "\"triggerReason\":\"CablePluggedIn\",\"seqNo\":0,"
		       "\"transactionInfo\":{\"transactionId\":\"tx-1\"},"
		       "\"evse\":{\"id\":1,\"connectorId\":4294967297}}",
		       0, NULL);
	json_t *conf = NULL;
	char desc[160];
	struct store_session_state tx;
	int r, connector = -1;

	assert_non_null(req);
	assert_int_equal(
	    ocpp_catalog_validate(n->catalog, "TransactionEvent", false, req, desc, sizeof(desc)),
	    OCPP_ERR_NONE);
	n->call.action = "TransactionEvent";
	r = v201_transaction_event(&n->call, req, &conf);
	if (r == 0 && store_session_find_tx(n->app.store, "CS-1", "tx-1", &tx) == 0) {
		assert_int_equal(store_session_get(n->app.store, tx.id, get_connector, &connector),
				 1);
		print_error("accepted: session %lld on connector %d\n", (long long)tx.id,
			    connector);
	}
	json_decref(conf);
	json_decref(req);
	/* fails here */
	assert_true(r < 0);
	assert_int_equal(n->call.err, OCPP_ERR_PROPERTY_CONSTRAINT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fixed_import_csv_blank_before_comma, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_fixed_import_csv_indented_comment, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_fixed_v201_sign_certificate_answer_breaks_schema,
					    node_setup, node_teardown),
	    cmocka_unit_test(test_fixed_v201_energy_register_out_of_range),
	    cmocka_unit_test_setup_teardown(test_fixed_v201_connector_id_wraps, node_setup,
					    node_teardown),
	};

	return cmocka_run_group_tests_name("regressions", tests, NULL, NULL);
}
