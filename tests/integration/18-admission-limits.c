/* SPDX-License-Identifier: MIT */
/* 18: issue 10's admission limits, each against the real node: the registration rate and the
 * Pending cap under `pending`, the idle close, the connection caps (in all and per address),
 * the back-off per address across ids, and one answer for unknown ids and wrong passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* HTTP status of GET /api/stations/<id>. */
static int station_status(const struct csms_proc *p, const char *id)
{
	char path[128];
	json_t *j = NULL;
	int status = 0;

	snprintf(path, sizeof(path), "/api/stations/%s", id);
	assert_int_equal(http_request(p->port, "GET", path, NULL, &status, &j, 5000), 0);
	json_decref(j);
	return status;
}

/* A 1.6 charger connected with its password, its BootNotification answered: the status. */
static struct tcp *boot(const struct csms_proc *p, const char *id, const char *password,
			char *ret_status, size_t len)
{
	struct tcp *tc = tc_connect(p->port, id, password, "ocpp1.6", 5000, NULL);
	json_t *conf = NULL;
	char err[64];

	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	snprintf(ret_status, len, "%s", json_string_value(json_object_get(conf, "status")));
	json_decref(conf);
	return tc;
}

static void reboot(struct tcp *tc, char *ret_status, size_t len)
{
	json_t *conf = NULL;
	char err[64];

	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	snprintf(ret_status, len, "%s", json_string_value(json_object_get(conf, "status")));
	json_decref(conf);
}

/* registration_rate_per_s: over it an unknown id is answered Pending and gets no row; it gets
 * one at a boot after the bucket refilled. */
static void test_registration_rate(void **state)
{
	static const char *const args[] = {"--registration", "pending", NULL};
	struct csms_proc *p = csms_start(args, "{\"registration_rate_per_s\": 1, "
					       "\"kdf_iterations\": 1000}");
	struct tcp *a, *b;
	char st[32];

	assert_non_null(p);
	*state = p;
	a = boot(p, "CP-RATE-A", "Rate-pw-A-abcdefghij", st, sizeof(st));
	assert_string_equal(st, "Pending");
	assert_int_equal(station_status(p, "CP-RATE-A"), 200);
	b = boot(p, "CP-RATE-B", "Rate-pw-B-abcdefghij", st, sizeof(st));
	assert_string_equal(st, "Pending");
	assert_int_equal(station_status(p, "CP-RATE-B"), 404); /* over the rate: no row */
	/* the log says what was answered */
	assert_int_equal(csms_log_count(p, "registration rate exceeded, answered Pending (no row)"),
			 1);
	tc_run(1200);
	reboot(b, st, sizeof(st));
	assert_string_equal(st, "Pending");
	assert_int_equal(station_status(p, "CP-RATE-B"), 200);
	tc_close(a);
	tc_close(b);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* max_pending_stations: once that many are Pending, an unknown id gets no row (answered
 * Pending); when the operator accepts one, the next boot registers it. */
static void test_pending_cap(void **state)
{
	static const char *const args[] = {"--registration", "pending", NULL};
	struct csms_proc *p = csms_start(args, "{\"max_pending_stations\": 2, "
					       "\"kdf_iterations\": 1000}");
	struct tcp *a, *b, *c;
	json_t *j = NULL;
	char st[32];
	int status = 0;

	assert_non_null(p);
	*state = p;
	a = boot(p, "CP-CAP-A", "Cap-pw-A-abcdefghij", st, sizeof(st));
	b = boot(p, "CP-CAP-B", "Cap-pw-B-abcdefghij", st, sizeof(st));
	c = boot(p, "CP-CAP-C", "Cap-pw-C-abcdefghij", st, sizeof(st));
	assert_string_equal(st, "Pending");
	assert_int_equal(station_status(p, "CP-CAP-A"), 200);
	assert_int_equal(station_status(p, "CP-CAP-B"), 200);
	assert_int_equal(station_status(p, "CP-CAP-C"), 404);
	assert_int_equal(csms_log_count(p, "(max_pending_stations), answered Pending (no row)"), 1);
	assert_int_equal(http_request(p->port, "POST", "/api/stations/CP-CAP-A/registration",
				      "{\"status\": \"Accepted\"}", &status, &j, 5000),
			 0);
	assert_int_equal(status, 200);
	json_decref(j);
	reboot(c, st, sizeof(st));
	assert_string_equal(st, "Pending");
	assert_int_equal(station_status(p, "CP-CAP-C"), 200);
	tc_close(a);
	tc_close(b);
	tc_close(c);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* A booted charger silent for more than idle_factor x its interval is closed with 1001; one
 * that keeps sending is not. */
static void test_idle_close(void **state)
{
	static const char *const args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_start(args, "{\"heartbeat_interval_s\": 1, \"idle_factor\": 2}");
	struct tcp *quiet, *busy;
	json_t *conf = NULL;
	char st[32], err[64];
	int i;

	assert_non_null(p);
	*state = p;
	quiet = boot(p, "CP-IDLE-Q", NULL, st, sizeof(st));
	assert_string_equal(st, "Accepted");
	busy = boot(p, "CP-IDLE-B", NULL, st, sizeof(st));
	assert_string_equal(st, "Accepted");
	for (i = 0; i < 10 && !tc_closed(quiet); i++) { /* 5 s at most */
		assert_int_equal(tc_call(busy, "Heartbeat", json_object(), &conf, err, 5000), 0);
		json_decref(conf);
		tc_run(500);
	}
	assert_true(tc_closed(quiet));
	assert_int_equal(tc_end(quiet)->close_code, 1001);
	assert_true(i >= 4); /* not before idle_factor x interval (2 s) */
	assert_false(tc_closed(busy));
	tc_close(quiet);
	tc_close(busy);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* Connect id from source address src: the charger, or NULL with the refusal in *why. */
static struct tcp *connect_from(const struct csms_proc *p, const char *id, const char *src,
				struct tc_why *why)
{
	memset(why, 0, sizeof(*why));
	return tc_connect_from(p->port, id, NULL, "ocpp1.6", src, 5000, why);
}

/* max_connections_per_address and max_connections: over either the handshake gets 503; a
 * closed connection frees its place. */
static void test_connection_caps(void **state)
{
	static const char *const args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_start(args, "{\"max_connections\": 4, "
					       "\"max_connections_per_address\": 2}");
	struct tcp *c[4], *more = NULL;
	struct tc_why why;
	int i;

	assert_non_null(p);
	*state = p;
	c[0] = connect_from(p, "CP-CAPS-1", "127.0.0.2", &why);
	c[1] = connect_from(p, "CP-CAPS-2", "127.0.0.2", &why);
	assert_non_null(c[0]);
	assert_non_null(c[1]);
	assert_null(connect_from(p, "CP-CAPS-3", "127.0.0.2", &why)); /* per address */
	assert_int_equal(why.end, CPCLIENT_END_REFUSED);
	assert_int_equal(why.http_status, 503);
	c[2] = connect_from(p, "CP-CAPS-3", "127.0.0.3", &why);
	c[3] = connect_from(p, "CP-CAPS-4", "127.0.0.3", &why);
	assert_non_null(c[2]);
	assert_non_null(c[3]);
	assert_null(connect_from(p, "CP-CAPS-5", "127.0.0.4", &why)); /* in all */
	assert_int_equal(why.end, CPCLIENT_END_REFUSED);
	assert_int_equal(why.http_status, 503);
	tc_close(c[0]);
	for (i = 0; i < 20 && !more; i++) { /* the server sees the close shortly */
		more = connect_from(p, "CP-CAPS-5", "127.0.0.4", &why);
		if (!more)
			tc_run(100);
	}
	assert_non_null(more);
	tc_close(more);
	for (i = 1; i < 4; i++)
		tc_close(c[i]);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* Failed logins back off per address too: many ids, each failing once (under auth_fail_free
 * per id), from one address; then even a known station with its right password is refused
 * from there (401, no KDF), while it gets in from another address; after the back-off it gets
 * in from the first one as well. */
static void test_backoff_per_address(void **state)
{
	struct csms_proc *p = csms_prepare("{\"auth_fail_free\": 1, \"kdf_iterations\": 1000}");
	struct tcp *tc;
	struct tc_why why;
	char id[32];

	assert_non_null(p);
	*state = p;
	assert_int_equal(csms_import_text(p, "stations.csv",
					  "charger_id,site,site_kind,password\n"
					  "CP-BO,S-BO,public,Backoff-pw-abcdefghij\n"),
			 0);
	assert_int_equal(csms_launch(p, NULL), 0);
	/* 10 failures an address may have (auth_fail_free x 10), then one more */
	for (int i = 0; i < 11; i++) {
		snprintf(id, sizeof(id), "CP-GUESS-%02d", i);
		assert_null(connect_from(p, id, "127.0.0.5", &why));
		assert_int_equal(why.http_status, 401);
	}
	memset(&why, 0, sizeof(why));
	assert_null(tc_connect_from(p->port, "CP-BO", "Backoff-pw-abcdefghij", "ocpp1.6",
				    "127.0.0.5", 5000, &why));
	assert_int_equal(why.end, CPCLIENT_END_REFUSED);
	assert_int_equal(why.http_status, 401);
	tc = tc_connect_from(p->port, "CP-BO", "Backoff-pw-abcdefghij", "ocpp1.6", "127.0.0.6",
			     5000, NULL);
	assert_non_null(tc);
	tc_close(tc);
	tc_run(1100); /* the first back-off is 1 s */
	tc = tc_connect_from(p->port, "CP-BO", "Backoff-pw-abcdefghij", "ocpp1.6", "127.0.0.5",
			     5000, NULL);
	assert_non_null(tc);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* How a login was refused: 401 at the handshake, or 1008 (upgraded, held while the KDF ran,
 * then closed with nothing answered). Anything else fails the test. */
static int refusal(const struct csms_proc *p, const char *id, const char *password)
{
	struct tc_why why = {0};
	struct tcp *tc = tc_connect(p->port, id, password, "ocpp1.6", 5000, &why);
	char msg_id[64];
	json_t *f = NULL;
	bool sent;
	int code;

	if (!tc) {
		assert_int_equal(why.end, CPCLIENT_END_REFUSED);
		return why.http_status;
	}
	/* a cheap KDF may have decided before the call goes out: then it cannot */
	sent = tc_call_send(tc, "Heartbeat", json_object(), msg_id) == 0;
	assert_int_equal(tc_wait_closed(tc, 10000), 0);
	if (sent)
		assert_int_not_equal(tc_call_wait(tc, msg_id, &f, NULL, 0), 0);
	code = tc_end(tc)->close_code;
	tc_close(tc);
	return code;
}

/* An unknown id and a known id with a wrong password get the same answer, with a password
 * (both run a KDF: 1008) and without (401): nothing tells which ids exist. */
static void test_unknown_and_wrong_alike(void **state)
{
	struct csms_proc *p = csms_prepare("{\"kdf_iterations\": 1000}");

	assert_non_null(p);
	*state = p;
	assert_int_equal(csms_import_text(p, "stations.csv",
					  "charger_id,site,site_kind,password\n"
					  "CP-KNOWN,S-K,public,Known-pw-abcdefghij\n"),
			 0);
	assert_int_equal(csms_launch(p, NULL), 0);
	assert_int_equal(refusal(p, "CP-KNOWN", "Wrong-pw-abcdefghij"), 1008);
	assert_int_equal(refusal(p, "CP-NOBODY", "Wrong-pw-abcdefghij"), 1008);
	assert_int_equal(refusal(p, "CP-KNOWN", NULL), 401);
	assert_int_equal(refusal(p, "CP-NOBODY", NULL), 401);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_registration_rate, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_pending_cap, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_idle_close, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_connection_caps, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_backoff_per_address, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_unknown_and_wrong_alike, csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("18-admission-limits", tests, NULL, NULL);
}
