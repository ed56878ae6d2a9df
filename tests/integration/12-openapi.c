/* SPDX-License-Identifier: MIT */
/* 12: GET /api/openapi.json against the routes the server really has: every documented
 * operation answers its method with a documented status and never the router's own 404 ("no
 * such route") or 405; every route `csms routes` lists is documented, and nothing else is. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define METRICS_TOKEN "metrics-0123456789openapi"

static int setup(void **state)
{
	struct csms_proc *p = csms_start(NULL, "{\"metrics_token\": \"" METRICS_TOKEN "\"}");

	*state = p;
	return p ? 0 : -1;
}

static int teardown(void **state)
{
	csms_destroy(*state);
	return 0;
}

/* "/api/stations/{station_id}" -> "/api/stations/<star>" (the route tables' patterns). */
static void pattern_of(const char *path, char *out, size_t len)
{
	size_t n = 0;

	for (const char *s = path; *s && n + 1 < len; s++) {
		if (*s == '{') {
			out[n++] = '*';
			s = strchr(s, '}');
			if (!s)
				break;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

/* The path with its parameters filled: integers 999999, {action} Reset, strings a dummy id. */
static void fill(const char *path, const json_t *params, char *out, size_t len)
{
	size_t n = 0;

	for (const char *s = path; *s && n + 1 < len; s++) {
		char name[64] = "";
		const char *end, *val = "openapi-nobody";
		size_t i;
		json_t *prm;

		if (*s != '{') {
			out[n++] = *s;
			continue;
		}
		end = strchr(s, '}');
		assert_non_null(end);
		snprintf(name, sizeof(name), "%.*s", (int)(end - s - 1), s + 1);
		json_array_foreach(params, i, prm) {
			const char *t = json_string_value(
			    json_object_get(json_object_get(prm, "schema"), "type"));

			if (!strcmp(json_string_value(json_object_get(prm, "name")), name) && t &&
			    !strcmp(t, "integer"))
				val = "999999";
		}
		if (!strcmp(name, "action"))
			val = "Reset";
		n += (size_t)snprintf(out + n, len - n, "%s", val);
		if (n >= len)
			n = len - 1;
		s = end;
	}
	out[n] = '\0';
}

/* GET /api/live with a WebSocket upgrade, the harness's token unless !auth, and an Origin
 * header when origin is not NULL: the status of the answer. */
static int live_upgrade_as(const struct csms_proc *p, bool auth, const char *origin)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->api_port)};
	struct timeval tv = {.tv_sec = 5};
	char req[1024], buf[256] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	ssize_t got;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(req, sizeof(req),
		 "GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: csms-live\r\n"
		 "%s%s%s%s%s\r\n",
		 p->api_port, auth ? "Authorization: Bearer " : "", auth ? p->token : "",
		 auth ? "\r\n" : "", origin ? origin : "", origin ? "\r\n" : "");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	got = read(fd, buf, sizeof(buf) - 1);
	if (got > 0 && sscanf(buf, "HTTP/1.%*d %d", &status) != 1) /* a refusal is 1.0 */
		status = -1;
	close(fd);
	return status;
}

static int live_upgrade_status(const struct csms_proc *p)
{
	return live_upgrade_as(p, true, NULL);
}

/* Send one documented operation; fail unless it answers a documented status other than the
 * router's "no such route" and 405. */
static void check_operation(const struct csms_proc *p, const char *method, const char *path,
			    const json_t *op)
{
	const char *metrics_hdr[] = {"Authorization: Bearer " METRICS_TOKEN, NULL};
	const json_t *responses = json_object_get(op, "responses");
	const char *err;
	char url[256], code[8];
	struct http_result res;
	struct http_opts o = {.method = method, .path = url};
	int st;

	fill(path, json_object_get(op, "parameters"), url, sizeof(url));
	if (!strcmp(path, "/api/live")) {
		st = live_upgrade_status(p);
		assert_int_equal(st, 101);
		return;
	}
	if (!strcmp(path, "/metrics"))
		o.headers = metrics_hdr;
	if (strcmp(method, "GET"))
		o.body = "{}";
	assert_int_equal(http_exchange(p->api_port, &o, &res), 0);
	st = res.status;
	err = json_string_value(json_object_get(res.json, "error"));
	if (st == 405 || (st == 404 && (!err || !strncmp(err, "no such route", 13))))
		fail_msg("%s %s (%s): %d %s: the route does not exist", method, url, path, st,
			 err ? err : "");
	snprintf(code, sizeof(code), "%d", st);
	if (!json_object_get(responses, code))
		fail_msg("%s %s (%s): status %d is not among its documented responses", method, url,
			 path, st);
	/* a JSON route answers JSON errors */
	if (st >= 400 && strcmp(path, "/metrics"))
		assert_non_null(err);
	http_result_clear(&res);
}

static void test_document_matches_routes(void **state)
{
	struct csms_proc *p = *state;
	json_t *doc = http_get_json(p->api_port, "/api/openapi.json");
	json_t *paths, *ops, *op;
	const char *path, *method, *bin = getenv("CSMS_BIN");
	char cmd[512], line[256], pat[256], key[300];
	json_t *documented = json_object(); /* "METHOD pattern" -> true */
	size_t documented_n = 0, listed = 0;
	FILE *f;

	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
	assert_non_null(json_object_get(
	    json_object_get(json_object_get(doc, "components"), "securitySchemes"), "session"));
	paths = json_object_get(doc, "paths");
	assert_true(json_object_size(paths) > 40);
	json_object_foreach(paths, path, ops) {
		json_object_foreach(ops, method, op) {
			char up[8];
			size_t i;

			for (i = 0; method[i] && i + 1 < sizeof(up); i++)
				up[i] = (char)(method[i] - 'a' + 'A');
			up[i] = '\0';
			check_operation(p, up, path, op);
			pattern_of(path, pat, sizeof(pat));
			snprintf(key, sizeof(key), "%s %s", up, pat);
			json_object_set_new(documented, key, json_true());
			documented_n++;
		}
	}
	/* every route the server has is documented, and the document has no other */
	assert_non_null(bin);
	snprintf(cmd, sizeof(cmd), "'%s' routes", bin);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!json_object_get(documented, line))
			fail_msg("route \"%s\" is not in /api/openapi.json", line);
		listed++;
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(listed, documented_n);
	assert_int_equal(json_object_size(documented), documented_n);
	json_decref(documented);
	json_decref(doc);
	csms_pass(p);
}

/* The document needs a viewer at least: strangers learn nothing of the routes. */
static void test_document_needs_credentials(void **state)
{
	struct csms_proc *p = *state;
	struct http_opts o = {.method = "GET", .path = "/api/openapi.json", .no_auth = true};
	struct http_result res;

	assert_int_equal(http_exchange(p->api_port, &o, &res), 0);
	assert_int_equal(res.status, 401);
	http_result_clear(&res);
	o.no_auth = false;
	assert_int_equal(http_exchange(p->api_port, &o, &res), 0);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.content_type, "application/json"));
	http_result_clear(&res);
	csms_pass(p);
}

/* /api/live is locked like the API: no credentials 401, a foreign Origin 403, this server's
 * Origin (or none, a script) 101. */
static void test_live_needs_credentials_and_origin(void **state)
{
	struct csms_proc *p = *state;
	char own[80];

	snprintf(own, sizeof(own), "Origin: http://127.0.0.1:%d", p->api_port);
	assert_int_equal(live_upgrade_as(p, false, NULL), 401);
	assert_int_equal(live_upgrade_as(p, true, "Origin: https://evil.example"), 403);
	assert_int_equal(live_upgrade_as(p, true, own), 101);
	assert_int_equal(live_upgrade_as(p, true, NULL), 101);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_document_matches_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_document_needs_credentials, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_needs_credentials_and_origin, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
