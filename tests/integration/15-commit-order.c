/* SPDX-License-Identifier: MIT */
/* 15: the group commit off the loop answers only after the flush to disk. The test-only gate
 * CSMS_TEST_FSYNC_GATE holds the store's writer thread before each fdatasync until the file
 * exists; while it is held a MeterValues is committed (its row is in the database, read by a
 * second SQLite connection) and still unanswered, and /metrics shows the batch waiting. Once
 * the gate opens, the answer comes. The same for an operator command's API answer, which waits
 * for its command log row. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define METRICS_TOKEN "metrics-0123456789abcdef"

static char gate[300];

static void gate_open(void)
{
	int fd = open(gate, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	close(fd);
}

static void gate_close(void)
{
	assert_int_equal(unlink(gate), 0);
}

static int setup(void **state)
{
	static const char *args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_prepare("{\"metrics_token\": \"" METRICS_TOKEN "\"}");

	if (!p)
		return -1;
	snprintf(gate, sizeof(gate), "%s/fsync-gate", p->dir);
	gate_open();
	setenv("CSMS_TEST_FSYNC_GATE", gate, 1);
	if (csms_launch(p, args) < 0) {
		csms_destroy(p);
		return -1;
	}
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

/* The value of the sample named exactly series, or -1 if absent. */
static long long metric(const struct csms_proc *p, const char *series)
{
	const char *hdr[] = {"Authorization: Bearer " METRICS_TOKEN, NULL};
	struct http_opts o = {.method = "GET", .path = "/metrics", .headers = hdr};
	struct http_result res = {0};
	size_t n = strlen(series);
	long long v = -1;

	assert_int_equal(http_exchange(p->port, &o, &res), 0);
	assert_int_equal(res.status, 200);
	for (const char *l = res.body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ') {
			v = atoll(l + n + 1);
			break;
		}
	http_result_clear(&res);
	return v;
}

/* Rows of a table matching a condition, read by a connection of our own (committed rows). */
static int count_rows(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Rows of meter_values with this value, read by a connection of our own (committed rows). */
static int rows_with_value(const char *db_path, const char *value)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM meter_values WHERE value = ?", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_meter_values_answered_only_after_the_flush(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_connect(p->port, "CP-ORDER-1", NULL, "ocpp1.6", 5000, NULL);
	json_t *conf = NULL, *frame = NULL;
	char err[64], id[64], ts[32];
	json_int_t tx;
	int n = 0;

	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	conf = NULL;
	rfc3339_offset(ts, -60);
	assert_int_equal(tc_call(tc, "StartTransaction",
				 json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 1, "idTag",
					   "TAG-ORD", "meterStart", 100, "timestamp", ts),
				 &conf, NULL, 5000),
			 0);
	tx = json_integer_value(json_object_get(conf, "transactionId"));
	json_decref(conf);
	assert_true(tx > 0);
	/* everything so far answered, so flushed: no batch waits */
	assert_int_equal(metric(p, "csms_commit_batches_waiting"), 0);

	gate_close();
	rfc3339_offset(ts, -30);
	assert_int_equal(
	    tc_call_send(tc, "MeterValues",
			 json_pack("{s:i,s:I,s:[{s:s,s:[{s:s,s:s,s:s}]}]}", "connectorId", 1,
				   "transactionId", tx, "meterValue", "timestamp", ts,
				   "sampledValue", "value", "4242", "measurand",
				   "Energy.Active.Import.Register", "unit", "Wh"),
			 id),
	    0);
	/* the loop commits it (another connection sees the row) ... */
	for (int i = 0; i < 500 && (n = rows_with_value(p->db, "4242")) != 1; i++)
		tc_run(20);
	assert_int_equal(n, 1);
	/* ... and holds the answer: the batch waits for the flush the gate holds */
	assert_int_equal(metric(p, "csms_commit_batches_waiting"), 1);
	assert_true(metric(p, "csms_commits_in_flight") >= 1);
	assert_int_equal(tc_wait_answer(tc, id, &frame, 300), -ETIMEDOUT);
	/* the loop is not blocked meanwhile: the API answered above, a second charger boots */
	{
		struct tcp *tc2 = tc_connect(p->port, "CP-ORDER-2", NULL, "ocpp1.6", 5000, NULL);

		assert_non_null(tc2);
		tc_close(tc2);
	}
	assert_int_equal(tc_wait_answer(tc, id, &frame, 100), -ETIMEDOUT);

	gate_open();
	assert_int_equal(tc_wait_answer(tc, id, &frame, 5000), 0);
	assert_int_equal(json_integer_value(json_array_get(frame, 0)), 3);
	json_decref(frame);
	/* the other charger's batches (connected, gone) flush after it */
	for (int i = 0; i < 250 && metric(p, "csms_commit_batches_waiting") != 0; i++)
		tc_run(20);
	assert_int_equal(metric(p, "csms_commit_batches_waiting"), 0);
	assert_true(metric(p, "csms_commit_flush_seconds_count") >= 2);
	tc_close(tc);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
}

/* A raw HTTP request on a socket of our own, so the test can look for its answer without
 * waiting for it. Returns the socket. */
static int http_send_raw(const struct csms_proc *p, const char *method, const char *path,
			 const char *body)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->port)};
	char req[1024];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(req, sizeof(req),
		     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n%s",
		     method, path, p->port, p->token, strlen(body), body);
	assert_int_equal(write(fd, req, (size_t)n), n);
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, ms) > 0;
}

static void test_command_answer_only_after_the_flush(void **state)
{
	struct csms_proc *p = *state;
	struct tcp *tc = tc_connect(p->port, "CP-ORDER-3", NULL, "ocpp1.6", 5000, NULL);
	json_t *conf = NULL, *call = NULL;
	char err[64], head[64] = "";
	int fd, n = 0;

	assert_non_null(tc);
	assert_true(p->token[0]);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);

	gate_close();
	fd = http_send_raw(p, "POST", "/api/stations/CP-ORDER-3/commands/ClearCache", "{}");
	assert_int_equal(tc_next_call(tc, 10000, &call), 0);
	assert_string_equal(json_string_value(json_array_get(call, 2)), "ClearCache");
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(call, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	json_decref(call);
	/* the answer's command log row is committed ... */
	for (int i = 0; i < 500 && n != 1; i++) {
		n = count_rows(p->db, "SELECT count(*) FROM command_log WHERE station_id = "
				      "'CP-ORDER-3'");
		if (n != 1)
			tc_run(20);
	}
	assert_int_equal(n, 1);
	/* ... and the API holds its answer until the flush */
	assert_true(metric(p, "csms_commit_batches_waiting") >= 1);
	assert_false(readable(fd, 300));

	gate_open();
	assert_true(readable(fd, 5000));
	assert_true(read(fd, head, sizeof(head) - 1) > 12);
	assert_memory_equal(head, "HTTP/1.1 200", 12);
	close(fd);
	tc_close(tc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_meter_values_answered_only_after_the_flush, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_command_answer_only_after_the_flush, setup,
					    teardown),
	};

	return cmocka_run_group_tests_name("15-commit-order", tests, NULL, NULL);
}
