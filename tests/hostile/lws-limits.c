/* SPDX-License-Identifier: MIT */
/* What libwebsockets 4.1.6 does, exactly, with the two things of issue 10 it decides in its
 * parser before any callback of ours: an unmasked client frame, and a request head over its
 * header area (docs/security.md, "Two things lws 4.1.6 cannot do"). Each case asserts today's
 * behaviour, so a libwebsockets that changes it fails here and the documentation gets updated
 * with the test. */
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
#include "rawws.h"

static const char config[] = "{\"registration\": \"open\", \"registration_rate_per_s\": 1000, "
			     "\"boot_rate_per_s\": 1000}";

static int setup(void **state)
{
	struct csms_proc *p = csms_start(NULL, config);

	assert_non_null(p);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	int r = tc_shutdown();

	csms_destroy(*state);
	assert_int_equal(r, 0);
	return 0;
}

/* Send one text frame (masked or not) and read the server's next frame into *ret_payload. */
static int exchange(struct rawc *c, const char *text, bool mask, int *ret_op, char **ret_payload)
{
	int r = rawc_send_frame(c, 1, text, strlen(text), mask, 5000);

	if (r < 0)
		return r;
	return rawc_read_frame(c, ret_op, ret_payload, NULL, 10000);
}

/*
 * RFC 6455 5.1 says the server must close on an unmasked client frame (1002). lws 4.1.6 reads
 * its payload as sent and hands it to us like any other: the frame is answered, and the
 * connection goes on. libwebsockets main closes it ("client unmasked", 1002); when the lws
 * this builds with does that, this test fails on purpose.
 */
static void test_unmasked_frames_taken_as_sent(void **state)
{
	struct csms_proc *p = *state;
	struct rawc *c = rawc_open(p->port, NULL);
	char *payload = NULL;
	int op = 0;

	assert_non_null(c);
	assert_int_equal(rawc_upgrade(c, "/ocpp/LWS-UNMASKED", "ocpp1.6", NULL, 5000), 101);

	/* an unmasked BootNotification: answered, Accepted */
	assert_int_equal(exchange(c,
				  "[2,\"u1\",\"BootNotification\",{\"chargePointVendor\":\"H\","
				  "\"chargePointModel\":\"U\"}]",
				  false, &op, &payload),
			 0);
	if (op == 8)
		fail_msg("the server closed on an unmasked frame (close frame %02x%02x): lws now "
			 "enforces RFC 6455 5.1; update docs/security.md and this test",
			 payload ? (unsigned char)payload[0] : 0,
			 payload ? (unsigned char)payload[1] : 0);
	assert_int_equal(op, 1);
	assert_non_null(strstr(payload, "[3,\"u1\""));
	assert_non_null(strstr(payload, "\"Accepted\""));
	free(payload);
	payload = NULL;

	/* another unmasked frame and then a masked one on the same connection: both answered */
	assert_int_equal(exchange(c, "[2,\"u2\",\"Heartbeat\",{}]", false, &op, &payload), 0);
	assert_int_equal(op, 1);
	assert_non_null(strstr(payload, "[3,\"u2\""));
	free(payload);
	payload = NULL;
	assert_int_equal(exchange(c, "[2,\"m3\",\"Heartbeat\",{}]", true, &op, &payload), 0);
	assert_int_equal(op, 1);
	assert_non_null(strstr(payload, "[3,\"m3\""));
	free(payload);

	/* the payload meets the checks a masked one meets: invalid UTF-8 still closes 1007 */
	{
		static const char bad[] = "[2,\"u4\",\"Heartbeat\",{\"x\":\"\xc3\x28\"}]";
		int code = 0;

		assert_int_equal(rawc_send_frame(c, 1, bad, sizeof(bad) - 1, false, 5000), 0);

		assert_int_equal(rawc_wait_closed(c, 10000, &code), 0);
		assert_int_equal(code, 1007);
	}
	rawc_close(c);
	csms_pass(p);
}

/* An upgrade request for a known-good path with one extra header of `extra_bytes` bytes. */
static int upgrade_with_header(const struct csms_proc *p, size_t extra_bytes, long long *ret_ms,
			       size_t *ret_unread)
{
	char *extra = malloc(extra_bytes + 16);
	struct rawc *c;
	long long t0;
	int st;

	assert_non_null(extra);
	memcpy(extra, "X-Pad: ", 7);
	memset(extra + 7, 'a', extra_bytes);
	memcpy(extra + 7 + extra_bytes, "\r\n", 3);
	c = rawc_open(p->port, NULL);
	assert_non_null(c);
	t0 = rawc_now_ms();
	st = rawc_upgrade(c, "/ocpp/LWS-HEAD", "ocpp1.6", extra, 8000);
	*ret_ms = rawc_now_ms() - t0;
	*ret_unread = c->n;
	rawc_close(c);
	free(extra);
	return st;
}

/*
 * A request head is parsed into lws' header area (max_http_header_data, 4096 bytes, the CSMS
 * leaves lws' default). lws 4.1.6 answers a head that fits; a head that does not fit fails its
 * parser ("Ran out of header data space") and the socket is closed at once: no status line, no
 * byte at all, no callback of ours. libwebsockets main answers 431 (414 for the request line);
 * when the lws this builds with does, this test fails on purpose.
 */
static void test_oversized_head_dropped(void **state)
{
	struct csms_proc *p = *state;
	size_t unread = 0;
	long long ms = 0;
	int st;

	/* 3,000 bytes of header: fits, upgraded */
	st = upgrade_with_header(p, 3000, &ms, &unread);
	assert_int_equal(st, 101);

	/* 5,000 bytes: closed without an answer, at once (not lws' 10 s handshake timeout) */
	st = upgrade_with_header(p, 5000, &ms, &unread);
	if (st == 431)
		fail_msg("lws answered 431 to an oversized head: update docs/security.md and this "
			 "test");
	assert_int_equal(st, 0);
	assert_int_equal(unread, 0);
	print_message("5,000-byte header: closed after %lld ms without a byte\n", ms);
	assert_true(ms < 5000);

	/* the same for a request line over the area: an id of 5,000 characters */
	{
		char path[5100];
		struct rawc *c = rawc_open(p->port, NULL);

		memcpy(path, "/ocpp/", 6);
		memset(path + 6, 'I', 5000);
		path[5006] = '\0';
		assert_non_null(c);
		st = rawc_upgrade(c, path, "ocpp1.6", NULL, 8000);
		if (st == 414 || st == 431)
			fail_msg("lws answered %d to an oversized request line: update "
				 "docs/security.md and this test",
				 st);
		assert_int_equal(st, 0);
		assert_int_equal(c->n, 0);
		rawc_close(c);
	}

	/* and the server goes on serving */
	{
		struct rawc *c = rawc_open(p->port, NULL);
		char *payload = NULL;
		int op = 0;

		assert_non_null(c);
		assert_int_equal(rawc_upgrade(c, "/ocpp/LWS-AFTER", "ocpp1.6", NULL, 5000), 101);
		assert_int_equal(exchange(c,
					  "[2,\"a1\",\"BootNotification\",{\"chargePointVendor\":"
					  "\"H\",\"chargePointModel\":\"A\"}]",
					  true, &op, &payload),
				 0);
		assert_non_null(strstr(payload, "\"Accepted\""));
		free(payload);
		rawc_close(c);
	}
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unmasked_frames_taken_as_sent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_head_dropped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
