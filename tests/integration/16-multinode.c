/* SPDX-License-Identifier: MIT */
/* 16: three csms nodes on one PostgreSQL behind one HAProxy (docs/scaling.md): a charger lands
 * on some node, a command sent through another node's API reaches it and its answer comes back
 * (the cross-node latency is printed), a reconnect elsewhere takes the station over and the old
 * node closes its connection; kill -9 of a node under load loses nothing acknowledged (checked
 * in the database). Run by meson as 16-multinode-pg inside tests/pg/pgtmp.sh (CSMS_TEST_PG_DSN);
 * HAProxy and the nodes are started here and stopped by their PIDs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "harness.h"

#define NODES	      3
#define METRICS_TOKEN "mn-metrics-0123456789"
#define NODE_CFG                                                                                   \
	"{\"owner_lease_ms\": 3000, \"call_timeout_ms\": 5000, \"metrics_token\": "                \
	"\"" METRICS_TOKEN "\"}"
/* the nodes' config of the next setup() (setup_late() changes it) */
static const char *node_cfg = NODE_CFG;

struct mn {
	struct csms_proc *node[NODES];
	char node_id[NODES][16];
	pid_t haproxy;
	int hport; /* HAProxy's port: where chargers connect */
	char hlog[300];
	PGconn *db;
};

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool accepts(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The template with its ports filled in, written to path. */
static int write_haproxy_cfg(struct mn *m, const char *path)
{
	char servers[1024] = "", line[128], *tmpl, *at;
	FILE *in = fopen(HAPROXY_TEMPLATE, "r"), *out;
	long n;
	size_t len = 0;

	if (!in)
		return -errno;
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	tmpl = calloc(1, (size_t)n + 1);
	if (!tmpl || fread(tmpl, 1, (size_t)n, in) != (size_t)n) {
		fclose(in);
		free(tmpl);
		return -EIO;
	}
	fclose(in);
	for (int i = 0; i < NODES; i++) {
		snprintf(line, sizeof(line), "\tserver %s 127.0.0.1:%d\n", m->node_id[i],
			 m->node[i]->port);
		len += (size_t)snprintf(servers + len, sizeof(servers) - len, "%s", line);
	}
	out = fopen(path, "w");
	if (!out) {
		free(tmpl);
		return -errno;
	}
	for (char *p = tmpl; *p;) {
		at = strchr(p, '@');
		if (!at) {
			fputs(p, out);
			break;
		}
		fwrite(p, 1, (size_t)(at - p), out);
		if (!strncmp(at, "@PORT@", 6)) {
			fprintf(out, "%d", m->hport);
			p = at + 6;
		} else if (!strncmp(at, "@SERVERS@", 9)) {
			fputs(servers, out);
			p = at + 9;
		} else {
			fputc('@', out);
			p = at + 1;
		}
	}
	fclose(out);
	free(tmpl);
	return 0;
}

static void dump_file(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

/* Stop HAProxy and every node by PID, free. NULL-safe. */
static void mn_free(struct mn *m)
{
	if (!m)
		return;
	if (m->haproxy > 0) {
		kill(m->haproxy, SIGTERM);
		waitpid(m->haproxy, NULL, 0);
	}
	for (int i = 0; i < NODES; i++)
		csms_destroy(m->node[i]);
	PQfinish(m->db);
	free(m);
}

static int setup(void **state)
{
	const char *dsn = getenv("CSMS_TEST_PG_DSN");
	struct mn *m;
	char cfg[320];
	long long end;

	if (!dsn || !*dsn) {
		fprintf(stderr, "16-multinode: CSMS_TEST_PG_DSN is not set (run it through "
				"tests/pg/pgtmp.sh)\n");
		return -1;
	}
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	for (int i = 0; i < NODES; i++) {
		const char *args[] = {"--registration", "open",	       "--db", dsn,
				      "--node-id",	m->node_id[i], NULL};

		snprintf(m->node_id[i], sizeof(m->node_id[i]), "node-%c", 'A' + i);
		m->node[i] = csms_prepare(node_cfg);
		if (!m->node[i] || csms_launch(m->node[i], args) < 0)
			goto fail;
	}
	m->db = PQconnectdb(dsn);
	if (PQstatus(m->db) != CONNECTION_OK) {
		fprintf(stderr, "16-multinode: %s", PQerrorMessage(m->db));
		goto fail;
	}
	m->hport = free_port();
	snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", m->node[0]->dir);
	snprintf(m->hlog, sizeof(m->hlog), "%s/haproxy.log", m->node[0]->dir);
	if (write_haproxy_cfg(m, cfg) < 0)
		goto fail;
	m->haproxy = fork();
	if (m->haproxy == 0) {
		int fd = open(m->hlog, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
		_exit(127);
	}
	end = mono_ms() + 10000;
	while (!accepts(m->hport) && mono_ms() < end)
		usleep(20000);
	if (!accepts(m->hport)) {
		fprintf(stderr, "16-multinode: haproxy did not start:\n");
		dump_file(m->hlog);
		goto fail;
	}
	*state = m;
	return 0;
fail:
	/* cmocka skips the teardown of a failed setup: stop what was started here */
	mn_free(m);
	return -1;
}

/* setup() with node A deaf to takeovers (the test hook of csms/cluster.c) */
static int setup_deaf(void **state)
{
	int r;

	setenv("CSMS_TEST_IGNORE_TAKEOVER", "node-A", 1);
	r = setup(state);
	unsetenv("CSMS_TEST_IGNORE_TAKEOVER");
	return r;
}

/* setup() with nodes that refuse new chargers once their answers are 1.5 s late */
static int setup_late(void **state)
{
	int r;

	node_cfg =
	    "{\"owner_lease_ms\": 3000, \"call_timeout_ms\": 5000, \"late_answer_ms\": 1500, "
	    "\"metrics_token\": \"" METRICS_TOKEN "\"}";
	r = setup(state);
	node_cfg = NODE_CFG;
	return r;
}

static int teardown(void **state)
{
	int r = tc_shutdown();

	mn_free(*state);
	assert_int_equal(r, 0);
	return 0;
}

/* The node that holds station id in the database (-1 if none) and its epoch. */
static int owner_of(struct mn *m, const char *id, long long *ret_epoch)
{
	const char *params[1] = {id};
	PGresult *res =
	    PQexecParams(m->db, "SELECT node_id, epoch FROM station_owner WHERE station_id = $1", 1,
			 NULL, params, NULL, NULL, 0);
	int who = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		for (int i = 0; i < NODES; i++)
			if (!strcmp(PQgetvalue(res, 0, 0), m->node_id[i]))
				who = i;
		if (ret_epoch)
			*ret_epoch = atoll(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return who;
}

static long long db_count(struct mn *m, const char *sql, const char *a, const char *b)
{
	const char *params[2] = {a, b};
	PGresult *res = PQexecParams(m->db, sql, b ? 2 : 1, NULL, params, NULL, NULL, 0);
	long long n = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		n = atoll(PQgetvalue(res, 0, 0));
	else
		print_error("query: %s", PQresultErrorMessage(res));
	PQclear(res);
	return n;
}

static struct tcp *booted(int port, const char *id)
{
	json_t *conf = NULL;
	struct tcp *tc = NULL;
	long long end = mono_ms() + 15000;

	/* through HAProxy a connection can fail while it notices a dead node: try again */
	while (mono_ms() < end) {
		tc = tc_connect(port, id, NULL, "ocpp1.6", 3000, NULL);
		if (tc && tc_boot16(tc, &conf, NULL) == 0 &&
		    !strcmp(json_string_value(json_object_get(conf, "status")) ?: "", "Accepted"))
			break;
		json_decref(conf);
		conf = NULL;
		tc_close(tc);
		tc = NULL;
		tc_run(100);
	}
	json_decref(conf);
	return tc;
}

/* A trigger sent through node `via`'s API reaches tc; the answer comes back. Prints latency. */
static void command_through(struct mn *m, int via, struct tcp *tc, const char *id)
{
	char path[96];
	struct http_async *a;
	json_t *f = NULL, *j = NULL;
	long long t0, t1, t2, t3;
	int status = 0;

	snprintf(path, sizeof(path), "/api/stations/%s/trigger", id);
	t0 = mono_ms();
	a = http_request_start(m->node[via]->port, "POST", path, "{\"message\": \"heartbeat\"}",
			       15000);
	assert_non_null(a);
	assert_int_equal(tc_next_call(tc, 10000, &f), 0);
	t1 = mono_ms();
	assert_string_equal(json_string_value(json_array_get(f, 2)), "TriggerMessage");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f, 3), "requestedMessage")),
	    "Heartbeat");
	t2 = mono_ms();
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(f, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	t3 = mono_ms();
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "Accepted");
	json_decref(j);
	print_message("command through %s to %s: API -> charger %lld ms, answer -> API %lld ms, "
		      "round trip without the charger %lld ms\n",
		      m->node_id[via], id, t1 - t0, t3 - t2, (t1 - t0) + (t3 - t2));
}

/* ---------------------------------------------------------------- an /api/live subscriber */

/* A raw WebSocket client of /api/live: frames from the server are unmasked. */
struct live {
	int fd;
	unsigned char buf[65536];
	size_t len;
};

static struct live *live_open(const struct csms_proc *p)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)p->api_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct live *l = calloc(1, sizeof(*l));
	char req[512];
	char *end = NULL;
	long long deadline = mono_ms() + 5000;

	if (!l)
		return NULL;
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l->fd < 0 || connect(l->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	snprintf(req, sizeof(req),
		 "GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: csms-live\r\n"
		 "Authorization: Bearer %s\r\n\r\n",
		 p->api_port, p->token);
	if (write(l->fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto fail;
	fcntl(l->fd, F_SETFL, O_NONBLOCK);
	while (!end && mono_ms() < deadline) {
		ssize_t n = read(l->fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);

		if (n > 0) {
			l->len += (size_t)n;
			l->buf[l->len] = '\0';
			end = strstr((char *)l->buf, "\r\n\r\n");
		} else if (n == 0) {
			goto fail;
		} else {
			usleep(5000);
		}
	}
	if (!end || strncmp((char *)l->buf, "HTTP/1.1 101", 12))
		goto fail;
	end += 4;
	l->len -= (size_t)(end - (char *)l->buf);
	memmove(l->buf, end, l->len);
	return l;
fail:
	print_error("/api/live: no upgrade\n");
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return NULL;
}

static void live_close(struct live *l)
{
	if (!l)
		return;
	close(l->fd);
	free(l);
}

/* The next text frame as JSON (new reference) within the deadline, else NULL. */
static json_t *live_next(struct live *l, long long deadline)
{
	for (;;) {
		size_t hl = 2, plen;
		ssize_t n;

		if (l->len >= 2) {
			plen = l->buf[1] & 0x7f;
			if (plen == 126) {
				hl = 4;
				plen = l->len >= 4 ? ((size_t)l->buf[2] << 8) | l->buf[3] : 0;
			} else if (plen == 127) {
				hl = 10;
				plen = 0;
				for (int i = 2; i < 10 && l->len >= 10; i++)
					plen = (plen << 8) | l->buf[i];
			}
			if (l->len >= hl && l->len >= hl + plen) {
				int op = l->buf[0] & 0x0f;
				json_t *j = NULL;

				if (op == 1)
					j = json_loadb((const char *)l->buf + hl, plen, 0, NULL);
				l->len -= hl + plen;
				memmove(l->buf, l->buf + hl + plen, l->len);
				if (op == 8)
					return NULL; /* closed */
				if (j)
					return j;
				continue;
			}
		}
		if (mono_ms() >= deadline)
			return NULL;
		n = read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (n > 0)
			l->len += (size_t)n;
		else if (n == 0)
			return NULL;
		else
			usleep(5000);
	}
}

/* Wait (10 s at most) for a frame of type about station whose key has value (a string, or
 * an integer when value is NULL and num >= 0); frames before it are skipped. */
static bool live_wait(struct live *l, const char *type, const char *station, const char *key,
		      const char *value, long long num)
{
	long long deadline = mono_ms() + 10000;
	json_t *j;

	while ((j = live_next(l, deadline))) {
		const json_t *v = json_object_get(j, key);
		bool hit =
		    !strcmp(json_string_value(json_object_get(j, "type")) ?: "", type) &&
		    !strcmp(json_string_value(json_object_get(j, "station")) ?: "", station) &&
		    (value ? !strcmp(json_string_value(v) ?: "", value)
			   : num < 0 || (json_is_integer(v) && json_integer_value(v) == num));

		json_decref(j);
		if (hit)
			return true;
	}
	print_error("/api/live: no %s event of %s with %s = %s\n", type, station, key,
		    value ? value : "(number)");
	return false;
}

static void test_command_across_nodes_and_takeover(void **state)
{
	struct mn *m = *state;
	const char *id = "CP-MN-1";
	struct tcp *tc = booted(m->hport, id), *tc2;
	long long epoch = 0, epoch2 = 0;
	int owner, other, third;
	json_t *st;

	assert_non_null(tc);
	owner = owner_of(m, id, &epoch);
	assert_true(owner >= 0);
	print_message("%s landed on %s (epoch %lld)\n", id, m->node_id[owner], epoch);
	other = (owner + 1) % NODES;
	third = (owner + 2) % NODES;

	/* any node serves the API: online there too */
	st = http_get_json(m->node[other]->port, "/api/stations/CP-MN-1");
	assert_non_null(st);
	assert_true(json_is_true(json_object_get(st, "online")));
	json_decref(st);

	/* a command through a node that does not hold the station, three times for the spread */
	for (int i = 0; i < 3; i++)
		command_through(m, i % 2 ? third : other, tc, id);

	/* the charger reconnects and lands on another node: that node takes it over, the old
	 * one closes its connection */
	tc2 = booted(m->node[other]->port, id);
	assert_non_null(tc2);
	assert_int_equal(owner_of(m, id, &epoch2), other);
	assert_true(epoch2 > epoch);
	assert_int_equal(tc_wait_closed(tc, 5000), 0);
	tc_close(tc);
	/* and commands follow it, through the node it left */
	command_through(m, owner, tc2, id);
	st = http_get_json(m->node[third]->port, "/api/stations/CP-MN-1");
	assert_non_null(st);
	assert_true(json_is_true(json_object_get(st, "online")));
	json_decref(st);
	tc_close(tc2);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/* The value of a sample of p's /metrics ("name value" lines), or -1. */
static long long metric(const struct csms_proc *p, const char *name)
{
	const char *hdr[] = {"Authorization: Bearer " METRICS_TOKEN, NULL};
	struct http_opts o = {.method = "GET", .path = "/metrics", .headers = hdr};
	struct http_result res = {0};
	long long v = -1;
	size_t n = strlen(name);

	if (http_exchange(p->port, &o, &res) == 0 && res.status == 200 && res.body)
		for (const char *l = res.body; l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, name, n) && l[n] == ' ')
				v = atoll(l + n + 1);
	http_result_clear(&res);
	return v;
}

/* Until p has heard that another node has /api/live subscribers (csms_live_want), bounded. */
static bool live_wanted(const struct csms_proc *p)
{
	for (int i = 0; i < 200; i++) {
		if (metric(p, "csms_cluster_live_wanted") == 1)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/* A subscriber of /api/live on one node sees the events of a charger held by another:
 * online, connector status, session start, power, session stop. */
static void test_live_events_across_nodes(void **state)
{
	struct mn *m = *state;
	const char *id = "CP-MN-LIVE";
	struct live *l;
	struct tcp *tc;
	json_t *conf = NULL;
	char now[32], txs[24];
	long long tx;

	/* no subscriber anywhere yet: nobody asked node C for its events */
	assert_int_equal(metric(m->node[2], "csms_cluster_live_wanted"), 0);
	l = live_open(m->node[0]);
	assert_non_null(l);
	assert_true(live_wait(l, "hello", "", "type", "hello", -1));
	/* node C publishes its events only once a node with subscribers asked for them */
	assert_true(live_wanted(m->node[2]));
	/* the charger on node C, the dashboard on node A */
	tc = booted(m->node[2]->port, id);
	assert_non_null(tc);
	assert_int_equal(owner_of(m, id, NULL), 2);
	assert_true(live_wait(l, "station", id, "online", NULL, -1));
	assert_int_equal(tc_call(tc, "StatusNotification",
				 json_pack("{s:i,s:s,s:s}", "connectorId", 1, "errorCode",
					   "NoError", "status", "Preparing"),
				 NULL, NULL, 5000),
			 0);
	assert_true(live_wait(l, "connector", id, "status", "Preparing", -1));
	rfc3339_now(now);
	assert_int_equal(tc_call(tc, "StartTransaction",
				 json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 1, "idTag",
					   "TAG-LIVE", "meterStart", 1000, "timestamp", now),
				 &conf, NULL, 5000),
			 0);
	tx = json_integer_value(json_object_get(conf, "transactionId"));
	json_decref(conf);
	assert_true(tx > 0);
	assert_true(live_wait(l, "session", id, "session_id", NULL, tx));
	assert_int_equal(tc_call(tc, "MeterValues",
				 json_pack("{s:i,s:I,s:[{s:s,s:[{s:s,s:s,s:s}]}]}", "connectorId",
					   1, "transactionId", (json_int_t)tx, "meterValue",
					   "timestamp", now, "sampledValue", "value", "7400",
					   "measurand", "Power.Active.Import", "unit", "W"),
				 NULL, NULL, 5000),
			 0);
	assert_true(live_wait(l, "power", id, "type", "power", -1));
	/* node A's network power counts node C's charger (C reports every 5 s while A has a
	 * subscriber), in the summary and in A's own network events */
	{
		double w = 0, net = 0;
		long long nodes = 0, deadline = mono_ms() + 20000;
		json_t *j;

		while (mono_ms() < deadline && (w < 7400 || net < 7400)) {
			j = http_get_json(m->node[0]->port, "/api/summary");
			assert_non_null(j);
			w = json_number_value(json_object_get(j, "power_w"));
			nodes = json_integer_value(json_object_get(j, "power_nodes"));
			json_decref(j);
			while ((j = live_next(l, mono_ms() + 200))) {
				if (!strcmp(json_string_value(json_object_get(j, "type")) ?: "",
					    "network"))
					net = json_number_value(json_object_get(j, "power_w"));
				json_decref(j);
			}
		}
		if (w < 7400 || net < 7400)
			print_error("node A: summary power_w %.0f, network event %.0f\n", w, net);
		assert_true(w >= 7400);
		assert_true(net >= 7400);
		assert_true(nodes >= 2);
	}
	assert_int_equal(tc_call(tc, "StopTransaction",
				 json_pack("{s:I,s:i,s:s,s:s}", "transactionId", (json_int_t)tx,
					   "meterStop", 2000, "timestamp", now, "reason", "Local"),
				 NULL, NULL, 5000),
			 0);
	assert_true(live_wait(l, "session", id, "event", "stopped", -1));
	snprintf(txs, sizeof(txs), "%lld", tx);
	assert_int_equal(
	    db_count(m, "SELECT count(*) FROM sessions WHERE id = $1::bigint", txs, NULL), 1);
	tc_close(tc);
	live_close(l);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/* POST …/reset-password through a node that does not hold the station: the owner sends the
 * new password (it crossed the database sealed to the owner's key, never in clear), the
 * station accepts, the requester shows it once and stores its hash: the station logs in with
 * it on any node and is refused without it. */
static void test_set_password_across_nodes(void **state)
{
	struct mn *m = *state;
	const char *id = "CP-MN-PW";
	struct tcp *tc = booted(m->node[2]->port, id), *tc2;
	struct http_async *a;
	json_t *f = NULL, *j = NULL, *conf = NULL;
	char pw[64];
	int status = 0;

	assert_non_null(tc);
	assert_int_equal(owner_of(m, id, NULL), 2);
	a = http_request_start(m->node[0]->port, "POST", "/api/stations/CP-MN-PW/reset-password",
			       "{}", 15000);
	assert_non_null(a);
	assert_int_equal(tc_next_call(tc, 10000, &f), 0);
	assert_string_equal(json_string_value(json_array_get(f, 2)), "ChangeConfiguration");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 3), "key")),
			    "AuthorizationKey");
	snprintf(pw, sizeof(pw), "%s",
		 json_string_value(json_object_get(json_array_get(f, 3), "value")) ?: "");
	assert_true(strlen(pw) >= 16);
	/* the routed command's row is there, the password in it is not */
	assert_int_equal(
	    db_count(m, "SELECT count(*) FROM node_commands WHERE station_id = $1", id, NULL), 1);
	assert_int_equal(db_count(m,
				  "SELECT count(*) FROM node_commands WHERE strpos(request, $1) > "
				  "0 OR strpos(coalesce(result, ''), $1) > 0",
				  pw, NULL),
			 0);
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(f, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	json_decref(f);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "password")), pw);
	assert_true(json_is_true(json_object_get(j, "pushed")));
	json_decref(j);
	/* the answer row was deleted as it was read */
	assert_int_equal(
	    db_count(m, "SELECT count(*) FROM node_commands WHERE station_id = $1", id, NULL), 0);
	/* the stored hash is the new password's: refused without it, accepted with it */
	tc_close(tc);
	assert_int_equal(tc_login_refused(m->node[1]->port, id, NULL), 0);
	tc2 = tc_connect(m->node[1]->port, id, pw, "ocpp1.6", 5000, NULL);
	assert_non_null(tc2);
	assert_int_equal(tc_boot16(tc2, &conf, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	json_decref(conf);
	tc_close(tc2);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/* Node A keeps a stale connection (it ignores the takeover's NOTIFY: CSMS_TEST_IGNORE_TAKEOVER)
 * after the charger connected to node B. A command through A's API must not go out on the
 * stale connection: A checks the row before the CALL, finds B, closes its connection and routes
 * the command to B. */
static void test_command_not_sent_on_stale_connection(void **state)
{
	struct mn *m = *state;
	const char *id = "CP-MN-STALE";
	struct tcp *tc1 = booted(m->node[0]->port, id), *tc2;
	json_t *f = NULL;

	assert_non_null(tc1);
	assert_int_equal(owner_of(m, id, NULL), 0);
	tc2 = booted(m->node[1]->port, id);
	assert_non_null(tc2);
	assert_int_equal(owner_of(m, id, NULL), 1);
	tc_run(500);
	assert_false(tc_closed(tc1)); /* A did not hear of the takeover: the stale connection */
	command_through(m, 0, tc2, id);
	assert_int_equal(tc_wait_closed(tc1, 5000), 0);
	assert_int_not_equal(tc_next_call(tc1, 100, &f), 0); /* nothing was sent on it */
	json_decref(f);
	tc_close(tc1);
	tc_close(tc2);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/* The ownership row of a station connected to node A, wait up to ms for it to name node `who`
 * (-1: no row). The node index it names at the end. */
static int owner_wait(struct mn *m, const char *id, int who, int ms)
{
	long long end = mono_ms() + ms;
	int o;

	while ((o = owner_of(m, id, NULL)) != who && mono_ms() < end)
		tc_run(50);
	return o;
}

/* A connection that reached node B late (the charger had given up on it and stayed on node A)
 * takes the station over and releases it again when it closes. The test plays node B on the
 * database: the row is taken over and deleted, and B's NOTIFY does not reach A (a LISTEN
 * connection that broke). A still holds the live connection: its lease check takes the row
 * back (before, the station stayed without a row: counted offline, and commands through
 * other nodes could not find it), and commands reach it again. */
static void test_owner_row_restored(void **state)
{
	struct mn *m = *state;
	const char *params[1] = {"CP-MN-GONE"};
	struct tcp *tc = booted(m->node[0]->port, "CP-MN-GONE");
	long long e0 = 0, e1 = 0;
	PGresult *res;

	assert_non_null(tc);
	assert_int_equal(owner_of(m, "CP-MN-GONE", &e0), 0);
	res = PQexecParams(m->db, "DELETE FROM station_owner WHERE station_id = $1", 1, NULL,
			   params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	/* the lease is 3 s, checked every second */
	assert_int_equal(owner_wait(m, "CP-MN-GONE", 0, 5000), 0);
	assert_int_equal(owner_of(m, "CP-MN-GONE", &e1), 0);
	assert_true(e1 > e0);
	assert_false(tc_closed(tc));
	command_through(m, 1, tc, "CP-MN-GONE");
	tc_close(tc);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/* A station released and taken again gets a higher epoch than any earlier take: node B's late
 * takeover NOTIFY of the earlier row (epoch e) never makes node A, which holds the station now,
 * close its connection. Before, a new row started again at epoch 1 and A closed the charger
 * it had just admitted. */
static void test_late_takeover_notify_after_release(void **state)
{
	struct mn *m = *state;
	const char *id = "CP-MN-EPOCH";
	struct tcp *tc = booted(m->node[0]->port, id), *tc2;
	long long e_b = 0, e_a = 0;
	char payload[96];
	const char *params[1] = {payload};
	PGresult *res;

	assert_non_null(tc);
	/* A, then B (A closes its connection: a takeover), then the charger leaves B: no row */
	tc2 = booted(m->node[1]->port, id);
	assert_non_null(tc2);
	assert_int_equal(owner_of(m, id, &e_b), 1);
	assert_int_equal(tc_wait_closed(tc, 5000), 0);
	tc_close(tc);
	tc_close(tc2);
	assert_int_equal(owner_wait(m, id, -1, 5000), -1);
	/* back on A: a new row */
	tc = booted(m->node[0]->port, id);
	assert_non_null(tc);
	assert_int_equal(owner_of(m, id, &e_a), 0);
	print_message("%s: B took it at epoch %lld, A again at %lld\n", id, e_b, e_a);
	/* B's takeover of the old row, heard late */
	snprintf(payload, sizeof(payload), "%s\t%lld\tnode-B", id, e_b);
	res = PQexecParams(m->db, "SELECT pg_notify('csms_owner', $1)", 1, NULL, params, NULL, NULL,
			   0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	tc_run(1000);
	assert_false(tc_closed(tc));
	assert_int_equal(owner_of(m, id, NULL), 0);
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), NULL, NULL, 5000), 0);
	tc_close(tc);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

#define CHURN_N	     30
#define CHURN_ROUNDS 5

/* Chargers that reconnect to random nodes, some leaving a connection open behind them (the
 * node it was on closes it: a takeover) and some closing theirs first, all at once: afterwards
 * every charger has exactly one ownership row, naming the node its open connection is on, and
 * no node keeps a row of a station it does not hold. */
static void test_owners_agree_under_churn(void **state)
{
	struct mn *m = *state;
	static struct tcp *tc[CHURN_N], *old[CHURN_N];
	int at[CHURN_N], bad = 0;
	char ids[CHURN_N][24];
	unsigned seed = 12;

	for (int i = 0; i < CHURN_N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "CP-CH-%02d", i);
		at[i] = i % NODES;
		tc[i] = booted(m->node[at[i]]->port, ids[i]);
		assert_non_null(tc[i]);
	}
	for (int r = 0; r < CHURN_ROUNDS; r++) {
		for (int i = 0; i < CHURN_N; i++) {
			int to = (int)(rand_r(&seed) % NODES);

			if (rand_r(&seed) % 2) {
				tc_close(tc[i]); /* the charger leaves first */
				tc[i] = NULL;
			}
			old[i] = tc[i];
			at[i] = to;
			tc[i] = tc_connect(m->node[to]->port, ids[i], NULL, "ocpp1.6", 3000, NULL);
			assert_non_null(tc[i]);
		}
		/* every new connection boots; the old ones are closed by their node or here */
		for (int i = 0; i < CHURN_N; i++) {
			json_t *conf = NULL;

			assert_int_equal(tc_boot16(tc[i], &conf, NULL), 0);
			json_decref(conf);
		}
		for (int i = 0; i < CHURN_N; i++) {
			if (old[i]) /* replaced here or taken over elsewhere */
				assert_int_equal(tc_wait_closed(old[i], 5000), 0);
			tc_close(old[i]);
			old[i] = NULL;
		}
	}
	/* one lease check later (1 s), nothing left to correct */
	tc_run(1500);
	for (int i = 0; i < CHURN_N; i++) {
		int o = owner_of(m, ids[i], NULL);

		if (tc_closed(tc[i]) || o != at[i]) {
			print_error("%s: connected to %s (%s), row names %s\n", ids[i],
				    m->node_id[at[i]], tc_closed(tc[i]) ? "closed" : "open",
				    o >= 0 ? m->node_id[o] : "nobody");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	assert_int_equal(db_count(m, "SELECT count(*) FROM station_owner WHERE station_id LIKE $1",
				  "CP-CH-%", NULL),
			 CHURN_N);
	for (int i = 0; i < CHURN_N; i++)
		tc_close(tc[i]);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/* A group commit that fails (here: a CHECK the test adds, which the station's next write
 * breaks) answers the charger whose reply waited for it with CALLERROR InternalError and then
 * closes its connection, so that svc's memory of the station, which took the write as done,
 * is read from the database again when it reconnects. Another charger of the node goes on. */
static void test_failed_group_closes_its_stations(void **state)
{
	struct mn *m = *state;
	struct tcp *tc = booted(m->node[0]->port, "CP-MN-FAIL");
	struct tcp *ok = booted(m->node[0]->port, "CP-MN-FINE");
	char code[64] = "";

	assert_non_null(tc);
	assert_non_null(ok);
	PQclear(PQexec(m->db, "ALTER TABLE stations ADD CONSTRAINT it_fail CHECK (id <> "
			      "'CP-MN-FAIL' OR last_seen_ms < 0) NOT VALID"));
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), NULL, code, 5000), 1);
	assert_string_equal(code, "InternalError");
	assert_int_equal(tc_wait_closed(tc, 5000), 0);
	assert_int_equal(tc_end(tc)->close_code, 1011);
	assert_int_equal(tc_call(ok, "Heartbeat", json_object(), NULL, NULL, 5000), 0);
	assert_false(tc_closed(ok));
	PQclear(PQexec(m->db, "ALTER TABLE stations DROP CONSTRAINT it_fail"));
	tc_close(tc);
	/* the charger comes back and is read again */
	tc = booted(m->node[0]->port, "CP-MN-FAIL");
	assert_non_null(tc);
	assert_int_equal(owner_wait(m, "CP-MN-FAIL", 0, 5000), 0);
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), NULL, NULL, 5000), 0);
	tc_close(tc);
	tc_close(ok);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/* Takeovers never deadlock (docs/scaling.md): the old node's last writes of a station another
 * node took over never wait for the new owner's group. Here the test plays node B: it takes
 * the station's row over (committed, without the NOTIFY, so node A keeps its connection) and
 * holds the station's row locked in an open transaction, as B's group does while it answers
 * the new connection. A closes the old connection: its loop must not wait for B's transaction
 * (another charger on A is answered meanwhile); before, A's group waited on that lock, and with
 * B waiting on one of A's rows PostgreSQL rolled one group back. */
static void test_offline_mark_never_waits(void **state)
{
	struct mn *m = *state;
	const char *params[1] = {"CP-MN-DLY"};
	struct tcp *tcy = booted(m->node[0]->port, "CP-MN-DLY");
	struct tcp *tcx = booted(m->node[0]->port, "CP-MN-DLX");
	PGresult *res;

	assert_non_null(tcy);
	assert_non_null(tcx);
	assert_int_equal(owner_of(m, "CP-MN-DLY", NULL), 0);
	/* node-Z: a node of the cluster that does not run here (node B would let go of a row
	 * it holds no connection for at its next lease check) */
	res = PQexecParams(m->db,
			   "UPDATE station_owner SET node_id = 'node-Z', epoch = epoch + 1 WHERE "
			   "station_id = $1",
			   1, NULL, params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQclear(PQexec(m->db, "BEGIN"));
	res = PQexecParams(m->db, "SELECT 1 FROM stations WHERE id = $1 FOR UPDATE", 1, NULL,
			   params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	PQclear(res);

	tc_close(tcy);
	tc_run(500); /* A handles the close and commits its group meanwhile */
	assert_int_equal(tc_call(tcx, "Heartbeat", json_object(), NULL, NULL, 5000), 0);
	assert_int_equal(tc_call(tcx, "Heartbeat", json_object(), NULL, NULL, 5000), 0);

	PQclear(PQexec(m->db, "ROLLBACK"));
	/* the other node's hold stands: A did not mark it offline */
	assert_int_equal(db_count(m,
				  "SELECT count(*) FROM station_owner WHERE station_id = $1 AND "
				  "node_id = 'node-Z'",
				  "CP-MN-DLY", NULL),
			 1);
	assert_int_equal(db_count(m, "SELECT count(*) FROM stations WHERE id = $1 AND online",
				  "CP-MN-DLY", NULL),
			 1);
	tc_close(tcx);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

/*
** A node whose answers wait on the database refuses new chargers with 503 (late_answer_ms)
** before any read of theirs, and admits them again once its answers are on time; the answer
** that was late is not lost.
*/
static void test_late_node_sheds_handshakes(void **state)
{
	struct mn *m = *state;
	const char *params[1] = {"CP-MN-LT1"};
	struct tcp *a = booted(m->node[0]->port, "CP-MN-LT1");
	struct tcp *b = booted(m->node[0]->port, "CP-MN-LT3");
	struct tc_why why = {0};
	struct tcp *c;
	char msg[64], msg_b[64];
	long long deferred;
	PGresult *res;

	assert_non_null(a);
	assert_non_null(b);
	deferred = metric(m->node[0], "csms_commits_deferred_total");
	assert_true(deferred >= 0);
	/* another transaction holds A's station row: the update of its firmware status (a write
	 * whose answer nothing on the loop waits for) waits for it, and so does the group's
	 * COMMIT */
	PQclear(PQexec(m->db, "BEGIN"));
	res = PQexecParams(m->db, "SELECT 1 FROM stations WHERE id = $1 FOR UPDATE", 1, NULL,
			   params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	assert_int_equal(tc_call_send(a, "FirmwareStatusNotification",
				      json_pack("{s:s}", "status", "Downloading"), msg),
			 0);
	tc_run(2500); /* past late_answer_ms */
	c = tc_connect(m->node[0]->port, "CP-MN-LT2", NULL, "ocpp1.6", 5000, &why);
	if (c || why.http_status != 503)
		fail_msg("handshake while late: %s, HTTP %d%s %s", c ? "admitted" : "refused",
			 why.http_status, why.timeout ? ", timed out" : "", why.detail);
	assert_int_equal(tc_call_wait(a, msg, NULL, NULL, 200), -ETIMEDOUT); /* still held */
	/* one COMMIT in flight on PostgreSQL (commits_in_flight): B's write joins a group that
	 * is not committed while A's COMMIT waits, and its answer waits for both */
	assert_int_equal(tc_call_send(b, "FirmwareStatusNotification",
				      json_pack("{s:s}", "status", "Downloaded"), msg_b),
			 0);
	assert_int_equal(tc_call_wait(b, msg_b, NULL, NULL, 500), -ETIMEDOUT);
	assert_true(metric(m->node[0], "csms_commits_deferred_total") > deferred);

	PQclear(PQexec(m->db, "ROLLBACK"));
	assert_int_equal(tc_call_wait(a, msg, NULL, NULL, 10000), 0); /* durable, answered */
	assert_int_equal(tc_call_wait(b, msg_b, NULL, NULL, 10000), 0);
	assert_int_equal(db_count(m,
				  "SELECT count(*) FROM stations WHERE id = $1 AND "
				  "firmware_status = 'Downloaded'",
				  "CP-MN-LT3", NULL),
			 1);
	assert_int_equal(db_count(m,
				  "SELECT count(*) FROM stations WHERE id = $1 AND "
				  "firmware_status = 'Downloading'",
				  "CP-MN-LT1", NULL),
			 1);
	c = booted(m->node[0]->port, "CP-MN-LT2"); /* on time again */
	assert_non_null(c);
	tc_close(c);
	tc_close(b);
	tc_close(a);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

#define LOAD_N	    60
#define LOAD_ROUNDS 8
#define KILL_ROUND  4

/* kill -9 of the node with most chargers in the middle of a round: its chargers reconnect
 * through HAProxy to the others; every start, reading and stop they saw acknowledged is in
 * the database. */
static void test_kill9_under_load(void **state)
{
	struct mn *m = *state;
	static struct tcp *tc[LOAD_N];
	static long long tx[LOAD_N];
	static bool acked[LOAD_N][LOAD_ROUNDS], stopped[LOAD_N];
	char ids[LOAD_N][24], msg[LOAD_N][64], start[32];
	int per_node[NODES] = {0}, victim = 0, moved = 0, n_acked = 0, lost = 0;
	long long t_kill = 0, t_back = 0;

	rfc3339_offset(start, -3600);
	for (int i = 0; i < LOAD_N; i++) {
		json_t *conf = NULL;
		int o;

		snprintf(ids[i], sizeof(ids[i]), "CP-K9-%02d", i);
		tc[i] = booted(m->hport, ids[i]);
		assert_non_null(tc[i]);
		assert_int_equal(
		    tc_call(tc[i], "StartTransaction",
			    json_pack("{s:i,s:s,s:i,s:s}", "connectorId", 1, "idTag", "TAG-MN",
				      "meterStart", 1000, "timestamp", start),
			    &conf, NULL, 5000),
		    0);
		tx[i] = json_integer_value(json_object_get(conf, "transactionId"));
		assert_true(tx[i] > 0);
		json_decref(conf);
		o = owner_of(m, ids[i], NULL);
		assert_true(o >= 0);
		per_node[o]++;
	}
	for (int i = 1; i < NODES; i++)
		if (per_node[i] > per_node[victim])
			victim = i;
	print_message("chargers per node: %d %d %d; killing %s\n", per_node[0], per_node[1],
		      per_node[2], m->node_id[victim]);

	for (int r = 0; r < LOAD_ROUNDS; r++) {
		char ts[32];

		rfc3339_offset(ts, -3000 + r);
		for (int i = 0; i < LOAD_N; i++) {
			char value[32];

			snprintf(value, sizeof(value), "%d", 100000 + i * 100 + r);
			msg[i][0] = '\0';
			if (tc_call_send(tc[i], "MeterValues",
					 json_pack("{s:i,s:I,s:[{s:s,s:[{s:s,s:s,s:s}]}]}",
						   "connectorId", 1, "transactionId", tx[i],
						   "meterValue", "timestamp", ts, "sampledValue",
						   "value", value, "measurand",
						   "Energy.Active.Import.Register", "unit", "Wh"),
					 msg[i]) < 0)
				msg[i][0] = '\0';
		}
		if (r == KILL_ROUND) {
			/* this round's readings in flight everywhere: pull the plug */
			csms_kill9(m->node[victim]);
			t_kill = mono_ms();
		}
		for (int i = 0; i < LOAD_N; i++) {
			json_t *conf = NULL;

			if (msg[i][0] && tc_call_wait(tc[i], msg[i], &conf, NULL, 5000) == 0) {
				acked[i][r] = true;
				n_acked++;
			}
			json_decref(conf);
		}
		/* the chargers that lost their node come back through HAProxy */
		for (int i = 0; i < LOAD_N; i++) {
			if (!tc_closed(tc[i]))
				continue;
			tc_close(tc[i]);
			tc[i] = booted(m->hport, ids[i]);
			assert_non_null(tc[i]);
			assert_true(owner_of(m, ids[i], NULL) != victim);
			moved++;
			t_back = mono_ms();
		}
	}
	assert_true(moved >= per_node[victim]);
	print_message("%d chargers reconnected to the other nodes, the last %lld ms after the "
		      "kill\n",
		      moved, t_back - t_kill);
	for (int i = 0; i < LOAD_N; i++) {
		json_t *conf = NULL;

		stopped[i] =
		    tc_call(tc[i], "StopTransaction",
			    json_pack("{s:I,s:i,s:s,s:s}", "transactionId", tx[i], "meterStop",
				      5000 + i, "timestamp", start, "reason", "Local"),
			    &conf, NULL, 5000) == 0;
		assert_true(stopped[i]);
		json_decref(conf);
	}

	/* the database has every acknowledged start, reading and stop */
	for (int i = 0; i < LOAD_N; i++) {
		char txs[24], stop[24];

		snprintf(txs, sizeof(txs), "%lld", tx[i]);
		snprintf(stop, sizeof(stop), "%d", 5000 + i);
		if (db_count(m,
			     "SELECT count(*) FROM sessions WHERE id = $1::bigint AND id_tag = "
			     "'TAG-MN' AND meter_start_wh = 1000 AND meter_stop_wh = $2::bigint",
			     txs, stop) != 1) {
			print_error("%s: session %s or its stop lost\n", ids[i], txs);
			lost++;
		}
		for (int r = 0; r < LOAD_ROUNDS; r++) {
			char value[32];

			if (!acked[i][r])
				continue;
			snprintf(value, sizeof(value), "%d", 100000 + i * 100 + r);
			if (db_count(m,
				     "SELECT count(*) FROM meter_values WHERE session_id = "
				     "$1::bigint AND value = $2",
				     txs, value) != 1) {
				print_error("%s round %d: acknowledged reading %s lost\n", ids[i],
					    r, value);
				lost++;
			}
		}
	}
	print_message("%d acknowledged readings, %d starts and stops; %d lost\n", n_acked, LOAD_N,
		      lost);
	assert_int_equal(lost, 0);
	assert_true(n_acked >= LOAD_N * (LOAD_ROUNDS - 1));
	for (int i = 0; i < LOAD_N; i++)
		tc_close(tc[i]);
	for (int i = 0; i < NODES; i++)
		csms_pass(m->node[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_command_across_nodes_and_takeover, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_kill9_under_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_events_across_nodes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_password_across_nodes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_not_sent_on_stale_connection, setup_deaf,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_offline_mark_never_waits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_row_restored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_takeover_notify_after_release, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_owners_agree_under_churn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_group_closes_its_stations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_node_sheds_handshakes, setup_late, teardown),
	};

	if (system("command -v haproxy >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: haproxy is not installed (./dev installs it)\n");
		return 77;
	}
	return cmocka_run_group_tests_name("16-multinode", tests, NULL, NULL);
}
