/* SPDX-License-Identifier: MIT */
/* 08: a boot storm over boot_rate_per_s is absorbed with Pending and a jittered retry interval. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define N_CHARGERS 40

static const char *const open_args[] = {"--registration", "open", NULL};

static int setup(void **state)
{
	struct csms_proc *p =
	    csms_start(open_args, "{\"boot_rate_per_s\": 5, \"pending_interval_s\": 1}");

	*state = p;
	return p ? 0 : -1;
}

struct cp {
	struct tcp *tc;
	char msg_id[64];
	bool accepted;
	int answers;
	long long retry_at; /* mono ms; 0 = a boot is in flight */
};

static json_t *boot_payload(int i)
{
	char serial[32];

	snprintf(serial, sizeof(serial), "SN-STORM-%02d", i);
	return json_pack("{s:s,s:s,s:s}", "chargePointVendor", "ITVendor", "chargePointModel",
			 "Storm", "chargePointSerialNumber", serial);
}

static void test_boot_storm(void **state)
{
	struct csms_proc *p = *state;
	struct cp cps[N_CHARGERS] = {0};
	int i, accepted = 0, pending_answers = 0, first_round_pending = 0;
	char id[32], err[64];
	long long end;
	json_t *conf, *list;
	size_t k;

	for (i = 0; i < N_CHARGERS; i++) {
		snprintf(id, sizeof(id), "CP-STORM-%02d", i);
		/* spread the sockets over source addresses, as the fleet simulator does */
		snprintf(err, sizeof(err), "127.0.0.%d", 2 + i % 4);
		cps[i].tc = tc_connect_from(p->port, id, NULL, "ocpp1.6", err, 5000, NULL);
		assert_non_null(cps[i].tc);
	}

	/* everybody boots at once */
	for (i = 0; i < N_CHARGERS; i++)
		assert_int_equal(
		    tc_call_send(cps[i].tc, "BootNotification", boot_payload(i), cps[i].msg_id), 0);

	/* collect answers; a Pending charger retries after the interval it was given */
	end = mono_ms() + 30000;
	while (accepted < N_CHARGERS && mono_ms() < end) {
		bool progress = false;

		for (i = 0; i < N_CHARGERS; i++) {
			struct cp *c = &cps[i];
			const char *status;
			json_int_t interval;
			int r;

			if (c->accepted)
				continue;
			if (c->retry_at) {
				if (mono_ms() < c->retry_at)
					continue;
				assert_int_equal(tc_call_send(c->tc, "BootNotification",
							      boot_payload(i), c->msg_id),
						 0);
				c->retry_at = 0;
			}
			conf = NULL;
			r = tc_call_wait(c->tc, c->msg_id, &conf, err, 10);
			if (r == -ETIMEDOUT)
				continue;
			if (r != 0)
				fail_msg("charger %d: boot answered %d %s", i, r,
					 r == 1 ? err : "");
			progress = true;
			c->answers++;
			status = json_string_value(json_object_get(conf, "status"));
			interval = json_integer_value(json_object_get(conf, "interval"));
			assert_non_null(status);
			if (!strcmp(status, "Accepted")) {
				c->accepted = true;
				accepted++;
			} else {
				assert_string_equal(status, "Pending");
				/* pending_interval_s … 2 × pending_interval_s */
				if (interval < 1 || interval > 2)
					fail_msg("Pending interval %lld, want 1..2",
						 (long long)interval);
				pending_answers++;
				if (c->answers == 1)
					first_round_pending++;
				c->retry_at = mono_ms() + interval * 1000;
			}
			json_decref(conf);
		}
		if (!progress)
			tc_run(20);
	}
	if (accepted < N_CHARGERS)
		fail_msg("only %d of %d chargers accepted after 30 s (%d Pending answers)",
			 accepted, N_CHARGERS, pending_answers);
	/* 40 boots at once over a rate of 5/s: some had to wait */
	assert_true(first_round_pending > 0);
	assert_true(first_round_pending < N_CHARGERS);

	/* all of them registered and online */
	list = http_get_json(p->port, "/api/stations");
	assert_non_null(list);
	accepted = 0;
	for (k = 0; k < json_array_size(json_object_get(list, "stations")); k++) {
		json_t *st = json_array_get(json_object_get(list, "stations"), k);

		if (!strncmp(json_string_value(json_object_get(st, "id")), "CP-STORM-", 9) &&
		    json_is_true(json_object_get(st, "online")) &&
		    !strcmp(json_string_value(json_object_get(st, "registration")), "Accepted"))
			accepted++;
	}
	json_decref(list);
	assert_int_equal(accepted, N_CHARGERS);

	for (i = 0; i < N_CHARGERS; i++)
		tc_close(cps[i].tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_boot_storm, setup, csms_teardown_chargers),
	};

	return cmocka_run_group_tests_name("08-bootstorm", tests, NULL, NULL);
}
