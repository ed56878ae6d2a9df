/* SPDX-License-Identifier: MIT */
/* 05: bad OCPP-J frames and payloads get the right 1.6 CALLERROR; the connection keeps working. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static const char *const open_args[] = {"--registration", "open", NULL};

static int setup(void **state)
{
	struct csms_proc *p = csms_start(open_args, "{\"max_frame_bytes\": 8192}");

	*state = p;
	return p ? 0 : -1;
}

static struct tcp *booted(struct csms_proc *p, const char *id)
{
	struct tcp *tc = tc_connect(p->port, id, NULL, "ocpp1.6", 5000, NULL);
	json_t *conf = NULL;
	char err[64];

	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	return tc;
}

static void still_works(struct tcp *tc)
{
	json_t *conf = NULL;
	char err[64] = "";
	int r;

	r = tc_call(tc, "Heartbeat", json_object(), &conf, err, 5000);
	if (r != 0)
		fail_msg("Heartbeat after a bad frame: %d %s", r, err);
	assert_true(is_rfc3339(json_string_value(json_object_get(conf, "currentTime"))));
	json_decref(conf);
	assert_false(tc_closed(tc));
}

/*
** Send `text`; expect a CALLERROR [4, want_id, want_code, "<description>", {}] (want_id
** NULL: wait for any answer and require "-1"), then check the connection still works.
*/
static void expect_error(struct tcp *tc, const char *text, const char *want_id,
			 const char *want_code)
{
	json_t *f = NULL;
	char *s;
	int r;

	assert_int_equal(tc_send_raw(tc, text), 0);
	r = tc_wait_answer(tc, want_id, &f, 5000);
	if (r != 0)
		fail_msg("no answer (%d) to %.80s", r, text);
	s = json_dumps(f, JSON_COMPACT);
	if (json_integer_value(json_array_get(f, 0)) != 4 || json_array_size(f) != 5 ||
	    strcmp(json_string_value(json_array_get(f, 1)), want_id ? want_id : "-1") ||
	    strcmp(json_string_value(json_array_get(f, 2)) ?: "", want_code) ||
	    !json_is_string(json_array_get(f, 3)) || !json_is_object(json_array_get(f, 4)))
		fail_msg("%.80s: got %s, want [4,\"%s\",\"%s\",\"…\",{}]", text, s,
			 want_id ? want_id : "-1", want_code);
	free(s);
	json_decref(f);
	still_works(tc);
}

static void test_frame_errors(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = booted(p, "CP-FRM-1");
	char big_id[64], text[512];

	/* not JSON: the id cannot be read */
	expect_error(tc, "this is not json", NULL, "FormationViolation");
	expect_error(tc, "[2,\"unterminated\",\"Heartbeat\",{}", NULL, "FormationViolation");
	/* a duplicate key: the id is still echoed */
	expect_error(tc, "[2,\"f-dup\",\"Heartbeat\",{\"a\":1,\"a\":2}]", "f-dup",
		     "FormationViolation");
	/* an id of 37 characters: ProtocolError answered with id "-1" */
	memset(big_id, 'i', 37);
	big_id[37] = '\0';
	snprintf(text, sizeof(text), "[2,\"%s\",\"Heartbeat\",{}]", big_id);
	expect_error(tc, text, NULL, "ProtocolError");
	/* a 36-character id is fine */
	big_id[36] = '\0';
	snprintf(text, sizeof(text), "[2,\"%s\",\"Heartbeat\",{}]", big_id);
	assert_int_equal(tc_send_raw(tc, text), 0);
	{
		json_t *f = NULL;

		assert_int_equal(tc_wait_answer(tc, big_id, &f, 5000), 0);
		assert_int_equal(json_integer_value(json_array_get(f, 0)), 3);
		json_decref(f);
	}

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/*
** An unknown message type gets a CALLERROR (the peer may be waiting); a broken CALLRESULT is
** only logged (docs/wire.md).  The frames are handled in order, so "no CALLERROR before the
** Heartbeat's answer" means none was sent for it.
*/
static void test_unknown_message_type_is_answered(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = booted(p, "CP-FRM-2");
	json_t *f = NULL;

	/* an unknown message type: a CALLERROR ProtocolError (1.6) echoing the id */
	expect_error(tc, "[7,\"f-type\",\"Heartbeat\",{}]", "f-type", "ProtocolError");
	expect_error(tc, "[\"2\",\"f-type2\",\"Heartbeat\",{}]", "f-type2", "ProtocolError");
	/* a broken CALLRESULT is not answered */
	assert_int_equal(tc_send_raw(tc, "[3,\"f-res\"]"), 0);
	still_works(tc);
	assert_int_equal(tc_wait_answer(tc, NULL, &f, 0), -ETIMEDOUT);
	assert_int_equal(tc_junk(tc), 0);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_payload_errors(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = booted(p, "CP-FRM-3");

	/* unknown action, and one OCPP 1.6 knows but a charger may not send (CSMS-initiated) */
	expect_error(tc, "[2,\"f-unk\",\"FlyToTheMoon\",{}]", "f-unk", "NotImplemented");
	expect_error(tc,
		     "[2,\"f-sign\",\"CertificateSigned\",{\"certificateChain\":\"-----BEGIN "
		     "CERTIFICATE-----\"}]",
		     "f-sign", "NotSupported");

	/* payload against the schema */
	expect_error(tc,
		     "[2,\"f-miss\",\"StatusNotification\",{\"connectorId\":1,\"status\":"
		     "\"Available\"}]",
		     "f-miss", "OccurenceConstraintViolation");
	expect_error(tc,
		     "[2,\"f-type2\",\"StatusNotification\",{\"connectorId\":\"one\","
		     "\"errorCode\":\"NoError\",\"status\":\"Available\"}]",
		     "f-type2", "TypeConstraintViolation");
	expect_error(tc, "[2,\"f-long\",\"Authorize\",{\"idTag\":\"ABCDEFGHIJKLMNOPQRSTU\"}]",
		     "f-long", "PropertyConstraintViolation");
	expect_error(tc,
		     "[2,\"f-enum\",\"StatusNotification\",{\"connectorId\":1,"
		     "\"errorCode\":\"NoError\",\"status\":\"Sleeping\"}]",
		     "f-enum", "PropertyConstraintViolation");
	/* a connector id far over max_connectors */
	expect_error(tc,
		     "[2,\"f-conn\",\"StatusNotification\",{\"connectorId\":1850027108,"
		     "\"errorCode\":\"NoError\",\"status\":\"Available\"}]",
		     "f-conn", "PropertyConstraintViolation");
	/* a 20-character idTag is fine */
	{
		json_t *conf = NULL;

		assert_int_equal(tc_call(tc, "Authorize",
					 json_pack("{s:s}", "idTag", "ABCDEFGHIJKLMNOPQRST"), &conf,
					 NULL, 5000),
				 0);
		assert_string_equal(json_string_value(json_object_get(
					json_object_get(conf, "idTagInfo"), "status")),
				    "Invalid");
		json_decref(conf);
	}

	/* an answer to a call nobody made is ignored, not answered */
	assert_int_equal(tc_send_raw(tc, "[3,\"nobody-asked\",{}]"), 0);
	still_works(tc);
	assert_int_equal(tc_junk(tc), 0);

	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

static void test_oversize_frame_closes_only_that_connection(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *big = booted(p, "CP-FRM-BIG");
	struct tcp *other = booted(p, "CP-FRM-OK");
	json_t *frame;
	char *data, *text;

	/* a valid DataTransfer, just larger than max_frame_bytes (8192) */
	data = malloc(9000);
	assert_non_null(data);
	memset(data, 'd', 8999);
	data[8999] = '\0';
	frame = json_pack("[i,s,s,{s:s,s:s}]", 2, "f-big", "DataTransfer", "vendorId", "it", "data",
			  data);
	text = json_dumps(frame, JSON_COMPACT);
	json_decref(frame);
	free(data);
	assert_int_equal(tc_send_raw(big, text), 0);
	free(text);
	assert_int_equal(tc_wait_closed(big, 5000), 0);
	/* closed with 1009 (message too big) */
	assert_int_equal(tc_end(big)->end, CPCLIENT_END_PEER);
	assert_int_equal(tc_end(big)->close_code, 1009);

	/* everybody else is still served, and the charger can come back */
	still_works(other);
	tc_close(big);
	big = booted(p, "CP-FRM-BIG");
	still_works(big);

	tc_close(big);
	tc_close(other);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_frame_errors, setup, csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_unknown_message_type_is_answered, setup,
					    csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_payload_errors, setup, csms_teardown_chargers),
	    cmocka_unit_test_setup_teardown(test_oversize_frame_closes_only_that_connection, setup,
					    csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("05-frames", tests, NULL, NULL);
}
