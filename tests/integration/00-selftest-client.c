/* SPDX-License-Identifier: MIT */
/* Self-test of the harness clients: cpclient vs an lws echo server, http_request vs canned HTTP. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "cpclient.h"
#include "harness.h"
#include "wsecho.h"

/* ---------------------------------------------------------------- cpclient */

struct rec {
	struct cpclient_conn *conn;
	int opened;
	char sub[16];
	int texts;
	char *last;
	size_t last_len;
	int closed;
	struct cpclient_close_info info;
};

static void rec_open(struct cpclient_conn *conn, const char *sub)
{
	struct rec *r = cpclient_user(conn);

	r->opened++;
	snprintf(r->sub, sizeof(r->sub), "%s", sub);
}

static void rec_text(struct cpclient_conn *conn, const char *buf, size_t len)
{
	struct rec *r = cpclient_user(conn);

	r->texts++;
	free(r->last);
	r->last = strndup(buf, len);
	r->last_len = len;
}

static void rec_close(struct cpclient_conn *conn, const struct cpclient_close_info *info)
{
	struct rec *r = cpclient_user(conn);

	r->closed++;
	r->info = *info;
	r->info.detail = NULL;
	r->conn = NULL;
}

static const struct cpclient_callbacks rec_cb = {rec_open, rec_text, rec_close};

struct fixture {
	struct rec rec[4]; /* outlive a failed test: the teardown still closes their conns */
	struct wsecho *srv;
	uv_loop_t loop;
	uv_timer_t timer;
	struct cpclient_ctx *ctx;
};

static void tick(uv_timer_t *t)
{
	(void)t;
}

/* Run the loop until *flag >= want or ms pass; returns true if reached. */
static bool spin(struct fixture *f, const int *flag, int want, int ms)
{
	long long end = mono_ms() + ms;

	while (*flag < want && mono_ms() < end) {
		uv_update_time(&f->loop);
		uv_timer_start(&f->timer, tick, 20, 0);
		uv_run(&f->loop, UV_RUN_ONCE);
	}
	uv_timer_stop(&f->timer);
	return *flag >= want;
}

static int make_ctx(struct fixture *f, size_t max_message)
{
	struct cpclient_ctx_opts o = {.loop = &f->loop, .cb = &rec_cb, .max_message = max_message};

	f->ctx = cpclient_ctx_create(&o);
	return f->ctx ? 0 : -1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->srv = wsecho_start();
	assert_non_null(f->srv);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_timer_init(&f->loop, &f->timer);
	assert_int_equal(make_ctx(f, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	cpclient_ctx_destroy(f->ctx);
	for (i = 0; i < sizeof(f->rec) / sizeof(f->rec[0]); i++)
		free(f->rec[i].last);
	uv_close((uv_handle_t *)&f->timer, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	/* every lws handle is gone from the caller's loop */
	assert_int_equal(uv_loop_close(&f->loop), 0);
	wsecho_stop(f->srv);
	free(f);
	return 0;
}

static int connect_rec(struct fixture *f, struct rec *r, const char *path, const char *user,
		       const char *password, const char *src)
{
	struct cpclient_opts o = {
	    .host = "127.0.0.1",
	    .port = wsecho_port(f->srv),
	    .path = path,
	    .subprotocols = "ocpp2.0.1,ocpp1.6",
	    .user = user,
	    .password = password,
	    .source_addr = src,
	    .user_ptr = r,
	};

	return cpclient_connect(f->ctx, &o, &r->conn);
}

static void send_str(struct rec *r, const char *s)
{
	assert_int_equal(cpclient_send_text(r->conn, s, strlen(s)), 0);
}

static void test_open_auth_source_and_echo(void **state)
{
	struct fixture *f = *state;
	struct rec *r = &f->rec[0];
	char local[64];

	assert_int_equal(connect_rec(f, r, "/ocpp/CP-1", "CP-1", "s3cret:x", "127.0.0.5"), 0);
	assert_true(spin(f, &r->opened, 1, 5000));
	/* the server speaks only ocpp1.6: negotiated from the list */
	assert_string_equal(r->sub, "ocpp1.6");
	assert_true(cpclient_is_open(r->conn));

	send_str(r, "whoami");
	assert_true(spin(f, &r->texts, 1, 5000));
	/* base64("CP-1:s3cret:x") */
	assert_string_equal(r->last, "127.0.0.5|Basic Q1AtMTpzM2NyZXQ6eA==|/ocpp/CP-1");
	assert_int_equal(cpclient_local_addr(r->conn, local, sizeof(local)), 0);
	assert_memory_equal(local, "127.0.0.5:", 10);

	/* several frames queued at once arrive in order, one per lws_write */
	send_str(r, "one");
	send_str(r, "two");
	send_str(r, "three");
	assert_true(spin(f, &r->texts, 4, 5000));
	assert_string_equal(r->last, "three");

	/* a fragmented message comes out whole */
	send_str(r, "frag:100000");
	assert_true(spin(f, &r->texts, 5, 5000));
	assert_int_equal(r->last_len, 100000);
	assert_int_equal(strspn(r->last, "x"), 100000);

	/* the peer's close code is reported */
	send_str(r, "close:4001");
	assert_true(spin(f, &r->closed, 1, 5000));
	assert_int_equal(r->info.end, CPCLIENT_END_PEER);
	assert_int_equal(r->info.close_code, 4001);
	assert_null(r->conn);
}

static void test_no_auth_header_without_user(void **state)
{
	struct fixture *f = *state;
	struct rec *r = &f->rec[0];

	assert_int_equal(connect_rec(f, r, "/ocpp/CP-2", NULL, NULL, NULL), 0);
	assert_true(spin(f, &r->opened, 1, 5000));
	send_str(r, "whoami");
	assert_true(spin(f, &r->texts, 1, 5000));
	assert_string_equal(r->last, "127.0.0.1|-|/ocpp/CP-2");
	cpclient_close(r->conn, 1000);
	assert_true(spin(f, &r->closed, 1, 5000));
	assert_int_equal(r->info.end, CPCLIENT_END_LOCAL);
}

static void test_refused_handshake_gives_status(void **state)
{
	struct fixture *f = *state;
	struct rec *r = &f->rec[0];

	assert_int_equal(connect_rec(f, r, "/refuse/CP-3", "CP-3", "pw", NULL), 0);
	assert_true(spin(f, &r->closed, 1, 5000));
	assert_int_equal(r->opened, 0);
	assert_int_equal(r->info.end, CPCLIENT_END_REFUSED);
	assert_int_equal(r->info.http_status, 401);
}

static void test_connect_error(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct cpclient_opts o = {.host = "127.0.0.1", .path = "/x", .subprotocols = "ocpp1.6"};
	struct rec *r = &f->rec[0];
	int fd, ret;

	/* a port nobody listens on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	o.port = ntohs(sa.sin_port);
	o.user_ptr = r;
	ret = cpclient_connect(f->ctx, &o, &r->conn);
	if (ret == 0) {
		assert_true(spin(f, &r->closed, 1, 5000));
		assert_int_equal(r->info.end, CPCLIENT_END_ERROR);
	} else {
		assert_int_equal(ret, -ECONNREFUSED);
	}
	assert_int_equal(r->opened, 0);

	/* bad options are refused up front */
	o.path = NULL;
	assert_int_equal(cpclient_connect(f->ctx, &o, &r->conn), -EINVAL);
	o.path = "/x";
	o.host = "10.1.2.3";
	o.ssl = true;
	o.ssl_insecure = true;
	assert_int_equal(cpclient_connect(f->ctx, &o, &r->conn), -EINVAL);
}

static void test_oversize_message_closes_1009(void **state)
{
	struct fixture *f = *state;
	struct rec *r = &f->rec[0];

	cpclient_ctx_destroy(f->ctx);
	assert_int_equal(make_ctx(f, 1000), 0);
	assert_int_equal(connect_rec(f, r, "/ocpp/CP-4", NULL, NULL, NULL), 0);
	assert_true(spin(f, &r->opened, 1, 5000));
	send_str(r, "big:1000");
	assert_true(spin(f, &r->texts, 1, 5000));
	send_str(r, "big:5000");
	assert_true(spin(f, &r->closed, 1, 5000));
	assert_int_equal(r->texts, 1);
	assert_int_equal(r->info.end, CPCLIENT_END_ERROR);
	assert_int_equal(r->info.close_code, 1009);
}

static void test_send_queue_limit_and_closed_conn(void **state)
{
	struct fixture *f = *state;
	struct rec *r = &f->rec[0];
	int i, ret = 0;

	assert_int_equal(connect_rec(f, r, "/ocpp/CP-5", NULL, NULL, NULL), 0);
	/* frames queued before the upgrade completes go out after it */
	for (i = 0; i < 64 && ret == 0; i++)
		ret = cpclient_send_text(r->conn, "q", 1);
	assert_int_equal(ret, 0);
	assert_int_equal(cpclient_send_text(r->conn, "q", 1), -ENOBUFS);
	assert_true(spin(f, &r->texts, 64, 5000));
	cpclient_close(r->conn, 1000);
	assert_true(spin(f, &r->closed, 1, 5000));
}

/* Many connections from several source addresses; destroying the ctx ends them all. */
static void test_many_sources_and_destroy(void **state)
{
	enum { N = 300 };
	struct fixture *f = *state;
	struct rec *r = calloc(N, sizeof(*r));
	char src[32], local[64];
	int i, opened = 0, closed = 0;

	assert_non_null(r);
	for (i = 0; i < N; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % 10);
		assert_int_equal(connect_rec(f, &r[i], "/ocpp/many", NULL, NULL, src), 0);
	}
	for (i = 0; i < N; i++) {
		assert_true(spin(f, &r[i].opened, 1, 10000));
		opened++;
	}
	assert_int_equal(opened, N);
	for (i = 0; i < N; i += 37) {
		snprintf(src, sizeof(src), "127.0.0.%d:", 2 + i % 10);
		assert_int_equal(cpclient_local_addr(r[i].conn, local, sizeof(local)), 0);
		assert_memory_equal(local, src, strlen(src));
	}
	cpclient_ctx_destroy(f->ctx);
	f->ctx = NULL;
	for (i = 0; i < N; i++) {
		closed += r[i].closed;
		assert_int_equal(r[i].info.end, CPCLIENT_END_LOCAL);
	}
	assert_int_equal(closed, N);
	assert_int_equal(make_ctx(f, 0), 0);
	free(r);
}

/* ---------------------------------------------------------------- http_request */

struct canned {
	int fd;
	int port;
	pthread_t thread;
	int served;
};

static void *canned_run(void *arg)
{
	struct canned *c = arg;
	char req[8192], rsp[1024], body[512];
	int cfd;
	ssize_t n;
	size_t len;

	while ((cfd = accept(c->fd, NULL, NULL)) >= 0) {
		len = 0;
		/* read the head, then Content-Length bytes of body */
		while (len < sizeof(req) - 1) {
			const char *h, *cl;

			n = recv(cfd, req + len, sizeof(req) - 1 - len, 0);
			if (n <= 0)
				break;
			len += (size_t)n;
			req[len] = '\0';
			h = strstr(req, "\r\n\r\n");
			if (!h)
				continue;
			cl = strcasestr(req, "\r\ncontent-length:");
			if (!cl || len - (size_t)(h + 4 - req) >= strtoul(cl + 17, NULL, 10))
				break;
		}
		req[len] = '\0';
		c->served++;
		if (strstr(req, "GET /quit ")) {
			close(cfd);
			break;
		}
		if (strstr(req, "GET /chunked ")) {
			snprintf(rsp, sizeof(rsp),
				 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "5\r\n{\"a\":\r\n3\r\n42}\r\n0\r\n\r\n");
		} else if (strstr(req, "GET /eof ")) {
			snprintf(rsp, sizeof(rsp),
				 "HTTP/1.1 404 Not Found\r\n\r\n{\"error\":\"no\"}");
		} else if (strstr(req, "GET /html ")) {
			snprintf(rsp, sizeof(rsp),
				 "HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\n<b>x</b>");
		} else if (strstr(req, "GET /hang ")) {
			sleep(1);
			close(cfd);
			continue;
		} else {
			/* echo method, path and body back as JSON */
			const char *b = strstr(req, "\r\n\r\n") + 4;
			char method[16] = "", path[128] = "";

			sscanf(req, "%15s %127s", method, path);
			snprintf(body, sizeof(body),
				 "{\"method\":\"%s\",\"path\":\"%s\",\"body\":%s}", method, path,
				 *b ? b : "null");
			snprintf(rsp, sizeof(rsp),
				 "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
				 "content-length: %zu\r\n\r\n%s",
				 strlen(body), body);
		}
		send(cfd, rsp, strlen(rsp), MSG_NOSIGNAL);
		close(cfd);
	}
	return NULL;
}

static void test_http_request(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct canned c = {0};
	struct http_async *a;
	json_t *j = NULL;
	int status = 0;

	(void)state;
	c.fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(c.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(c.fd, 8), 0);
	assert_int_equal(getsockname(c.fd, (struct sockaddr *)&sa, &sl), 0);
	c.port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&c.thread, NULL, canned_run, &c), 0);

	assert_int_equal(http_request(c.port, "POST", "/api/x", "{\"k\":1}", &status, &j, 3000), 0);
	assert_int_equal(status, 201);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/api/x");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "body"), "k")), 1);
	json_decref(j);

	assert_int_equal(http_request(c.port, "GET", "/chunked", NULL, &status, &j, 3000), 0);
	assert_int_equal(status, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 42);
	json_decref(j);

	assert_int_equal(http_request(c.port, "GET", "/eof", NULL, &status, &j, 3000), 0);
	assert_int_equal(status, 404);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "no");
	json_decref(j);

	assert_int_equal(http_request(c.port, "GET", "/html", NULL, &status, &j, 3000), 0);
	assert_int_equal(status, 500);
	assert_null(j);

	assert_int_equal(http_request(c.port, "GET", "/hang", NULL, &status, &j, 200), -ETIMEDOUT);

	a = http_request_start(c.port, "POST", "/async", "[1,2]", 3000);
	assert_non_null(a);
	assert_int_equal(http_request_join(a, &status, &j), 0);
	assert_int_equal(status, 201);
	assert_int_equal(json_array_size(json_object_get(j, "body")), 2);
	json_decref(j);

	http_request(c.port, "GET", "/quit", NULL, &status, NULL, 500);
	pthread_join(c.thread, NULL);
	close(c.fd);

	/* nobody listening now */
	assert_int_equal(http_request(c.port, "GET", "/", NULL, &status, &j, 500), -ECONNREFUSED);
}

static void test_rfc3339_helpers(void **state)
{
	char now[32];

	(void)state;
	rfc3339_now(now);
	assert_true(is_rfc3339(now));
	assert_true(is_rfc3339("2026-11-23T10:00:00Z"));
	assert_true(is_rfc3339("2026-11-23T10:00:00.123+01:00"));
	assert_false(is_rfc3339("2026-11-23 10:00:00Z"));
	assert_false(is_rfc3339("yesterday"));
	assert_false(is_rfc3339(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_auth_source_and_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_auth_header_without_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_handshake_gives_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize_message_closes_1009, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_queue_limit_and_closed_conn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_sources_and_destroy, setup, teardown),
	    cmocka_unit_test(test_http_request),
	    cmocka_unit_test(test_rfc3339_helpers),
	};

	cpclient_set_log_level(getenv("CPCLIENT_LOG") ? atoi(getenv("CPCLIENT_LOG")) : 0);
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests_name("harness-selftest", tests, NULL, NULL);
}
