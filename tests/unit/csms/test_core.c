/* SPDX-License-Identifier: MIT */
/* Unit tests of csms/core: configuration, the string hash map, password hashes, log levels. */
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

#include "core/cfg.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/pwhash.h"

/* A temporary file holding text; removed by the teardown. */
struct tmpfile {
	char path[64];
};

static int tmp_setup(void **state)
{
	struct tmpfile *t = calloc(1, sizeof(*t));
	int fd;

	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/test_csms_cfg_XXXXXX");
	fd = mkstemp(t->path);
	if (fd < 0) {
		free(t);
		return -1;
	}
	close(fd);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmpfile *t = *state;

	unlink(t->path);
	free(t);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Load text as a config file into a fresh cfg; returns cfg_load_file's result, err filled. */
static int load_text(const struct tmpfile *t, struct cfg *c, const char *text, char *err,
		     size_t err_len)
{
	write_file(t->path, text);
	cfg_init(c);
	err[0] = '\0';
	return cfg_load_file(c, t->path, err, err_len);
}

/* ------------------------------------------------------------------ cfg */

static void test_cfg_defaults(void **state)
{
	struct cfg c;

	(void)state;
	cfg_init(&c);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8180);
	assert_non_null(c.db_path);
	assert_string_equal(c.db_path, "csms.db");
	assert_int_equal(c.registration, CFG_REG_CLOSED);
	assert_int_equal(c.log_level, LOG_NOTICE);
	assert_null(c.port_file);
	assert_int_equal(c.heartbeat_interval_s, 300);
	assert_int_equal(c.pending_interval_s, 60);
	assert_int_equal(c.call_timeout_ms, 30000);
	assert_int_equal(c.max_frame_bytes, 65536);
	assert_int_equal(c.max_tx_queue, 64);
	assert_int_equal(c.max_call_queue, 32);
	assert_int_equal(c.max_connectors, 64);
	assert_int_equal(c.max_list_items, 256);
	assert_int_equal(c.boot_rate_per_s, 2000);
	assert_int_equal(c.kdf_iterations, 100000); /* issue 10: >= 100,000 */
	assert_int_equal(c.drain_ms, 2000);
	assert_true(c.sync_full);
	assert_null(c.id_tokens);
	cfg_free(&c);
	assert_null(c.db_path);
	cfg_free(&c); /* idempotent */
}

static void test_cfg_registration_names(void **state)
{
	(void)state;
	assert_string_equal(cfg_registration_name(CFG_REG_CLOSED), "closed");
	assert_string_equal(cfg_registration_name(CFG_REG_PENDING), "pending");
	assert_string_equal(cfg_registration_name(CFG_REG_OPEN), "open");
	assert_string_equal(cfg_registration_name(-1), "?");
	assert_string_equal(cfg_registration_name(_CFG_REG_MAX), "?");
}

static void test_cfg_file_sets_every_key(void **state)
{
	const struct tmpfile *t = *state;
	char err[256];
	struct cfg c;
	int r;

	r = load_text(t, &c,
		      "{\n"
		      "  \"listen\": \"0.0.0.0:9100\",\n"
		      "  \"db\": \"/var/lib/csms/x.db\",\n"
		      "  \"registration\": \"pending\",\n"
		      "  \"log_level\": \"debug\",\n"
		      "  \"port_file\": \"/tmp/port\",\n"
		      "  \"web_root\": \"/srv/web\",\n"
		      "  \"heartbeat_interval_s\": 900,\n"
		      "  \"pending_interval_s\": 45,\n"
		      "  \"call_timeout_ms\": 1500,\n"
		      "  \"max_frame_bytes\": 2048,\n"
		      "  \"max_tx_queue\": 7,\n"
		      "  \"max_call_queue\": 9,\n"
		      "  \"max_connectors\": 4,\n"
		      "  \"max_list_items\": 11,\n"
		      "  \"boot_rate_per_s\": 3,\n"
		      "  \"kdf_iterations\": 1000,\n"
		      "  \"drain_ms\": 0,\n"
		      "  \"sync\": \"normal\",\n"
		      "  \"id_tokens\": [{\"token\": \"AA11\", \"status\": \"Accepted\"}]\n"
		      "}\n",
		      err, sizeof(err));
	if (r != 0)
		print_error("cfg_load_file: %s\n", err);
	assert_int_equal(r, 0);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 9100);
	assert_string_equal(c.db_path, "/var/lib/csms/x.db");
	assert_int_equal(c.registration, CFG_REG_PENDING);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_string_equal(c.port_file, "/tmp/port");
	assert_string_equal(c.web_root, "/srv/web");
	assert_int_equal(c.heartbeat_interval_s, 900);
	assert_int_equal(c.pending_interval_s, 45);
	assert_int_equal(c.call_timeout_ms, 1500);
	assert_int_equal(c.max_frame_bytes, 2048);
	assert_int_equal(c.max_tx_queue, 7);
	assert_int_equal(c.max_call_queue, 9);
	assert_int_equal(c.max_connectors, 4);
	assert_int_equal(c.max_list_items, 11);
	assert_int_equal(c.boot_rate_per_s, 3);
	assert_int_equal(c.kdf_iterations, 1000);
	assert_int_equal(c.drain_ms, 0);
	assert_false(c.sync_full);
	assert_non_null(c.id_tokens);
	assert_int_equal(json_array_size(c.id_tokens), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(c.id_tokens, 0), "token")), "AA11");
	cfg_free(&c);
}

static void test_cfg_empty_object_keeps_defaults(void **state)
{
	const struct tmpfile *t = *state;
	char err[256];
	struct cfg c;

	assert_int_equal(load_text(t, &c, "{}", err, sizeof(err)), 0);
	assert_int_equal(c.listen_port, 8180);
	assert_string_equal(c.db_path, "csms.db");
	cfg_free(&c);
}

static void test_cfg_file_then_flag_overrides(void **state)
{
	const struct tmpfile *t = *state;
	char err[256];
	struct cfg c;

	assert_int_equal(
	    load_text(t, &c, "{\"db\": \"a.db\", \"max_connectors\": 8}", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "db", "b.db", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "max_connectors", "12", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "registration", "open", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "log_level", "warn", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "sync", "full", err, sizeof(err)), 0);
	assert_string_equal(c.db_path, "b.db");
	assert_int_equal(c.max_connectors, 12);
	assert_int_equal(c.registration, CFG_REG_OPEN);
	assert_int_equal(c.log_level, LOG_WARN);
	assert_true(c.sync_full);
	/* the same string key set twice: the first copy is freed (ASan checks the leak) */
	assert_int_equal(cfg_set(&c, "port_file", "p1", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "port_file", "p2", err, sizeof(err)), 0);
	assert_string_equal(c.port_file, "p2");
	cfg_free(&c);
}

/* A rejected setting: -EINVAL, a non-empty message of one line that names want (if given). */
static void check_bad(int r, const char *err, const char *want, const char *what)
{
	if (r != -EINVAL || !err[0] || strchr(err, '\n') || (want && !strstr(err, want)))
		print_error("%s: r=%d err=\"%s\" (want \"%s\")\n", what, r, err, want ? want : "");
	assert_int_equal(r, -EINVAL);
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
	if (want)
		assert_non_null(strstr(err, want));
}

static void test_cfg_file_bad_values(void **state)
{
	const struct tmpfile *t = *state;
	static const struct {
		const char *text, *want;
	} cases[] = {
	    /* not JSON: path:line:column */
	    {"{\"db\": ", ":1:"},
	    {"", NULL},
	    {"{\"db\": \"x\",}", NULL},
	    /* JSON but not an object */
	    {"[]", "expected a JSON object"},
	    {"\"listen\"", NULL},
	    {"42", NULL},
	    /* duplicate keys are refused, not silently merged */
	    {"{\"db\": \"a\", \"db\": \"b\"}", NULL},
	    /* unknown keys */
	    {"{\"no_such_key\": 1}", "no_such_key"},
	    {"{\"Listen\": \"a:1\"}", "Listen"},
	    /* wrong JSON type */
	    {"{\"heartbeat_interval_s\": \"300\"}", "heartbeat_interval_s"},
	    {"{\"heartbeat_interval_s\": 300.5}", "heartbeat_interval_s"},
	    {"{\"heartbeat_interval_s\": 300.0}", "heartbeat_interval_s"},
	    {"{\"heartbeat_interval_s\": true}", "heartbeat_interval_s"},
	    {"{\"heartbeat_interval_s\": null}", "heartbeat_interval_s"},
	    {"{\"drain_ms\": 5.0}", "drain_ms"}, /* a real is not read as 0 either */
	    {"{\"drain_ms\": 0.5}", "drain_ms"},
	    {"{\"db\": 5}", "db"},
	    {"{\"db\": null}", "db"},
	    {"{\"listen\": 8080}", "listen"},
	    {"{\"registration\": 1}", "registration"},
	    {"{\"log_level\": [\"debug\"]}", "log_level"},
	    {"{\"sync\": false}", "sync"},
	    {"{\"id_tokens\": {\"token\": \"A\"}}", "id_tokens"},
	    {"{\"id_tokens\": [\"A\"]}", "id_tokens[0]"},
	    {"{\"id_tokens\": [{\"token\": \"A\"}, {\"status\": \"Accepted\"}]}", "id_tokens[1]"},
	    {"{\"id_tokens\": [{\"token\": 5}]}", "id_tokens[0]"},
	    /* integers out of range, at both ends */
	    {"{\"heartbeat_interval_s\": 0}", "heartbeat_interval_s"},
	    {"{\"heartbeat_interval_s\": 86401}", "heartbeat_interval_s"},
	    {"{\"boot_rate_per_s\": 0}", "boot_rate_per_s"},
	    {"{\"boot_rate_per_s\": -5}", "boot_rate_per_s"},
	    {"{\"max_frame_bytes\": 1023}", "max_frame_bytes"},
	    {"{\"max_frame_bytes\": 16777217}", "max_frame_bytes"},
	    {"{\"max_connectors\": 4097}", "max_connectors"},
	    {"{\"call_timeout_ms\": 9}", "call_timeout_ms"},
	    {"{\"drain_ms\": -1}", "drain_ms"},
	    {"{\"kdf_iterations\": 10000001}", "kdf_iterations"},
	    {"{\"max_tx_queue\": 4294967297}", "max_tx_queue"}, /* 2^32 + 1: no truncation */
	    {"{\"max_call_queue\": -9223372036854775808}", "max_call_queue"},
	    /* bad enumerations */
	    {"{\"registration\": \"maybe\"}", "registration"},
	    {"{\"registration\": \"Open\"}", "registration"},
	    {"{\"log_level\": \"verbose\"}", "log_level"},
	    {"{\"log_level\": \"DEBUG\"}", "log_level"},
	    {"{\"sync\": \"sometimes\"}", "sync"},
	    /* bad listen addresses */
	    {"{\"listen\": \"8080\"}", "listen"},
	    {"{\"listen\": \":8080\"}", "listen"},
	    {"{\"listen\": \"host:\"}", "listen"},
	    {"{\"listen\": \"host:80x\"}", "listen"},
	    {"{\"listen\": \"host:65536\"}", "listen"},
	    {"{\"listen\": \"host:-1\"}", "listen"},
	    {"{\"listen\": "
	     "\"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh:1\"}",
	     "listen"}, /* a 64-character host does not fit */
	};
	char err[512];
	struct cfg c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = load_text(t, &c, cases[i].text, err, sizeof(err));

		check_bad(r, err, cases[i].want, cases[i].text);
		/* the message names the file, so the operator knows where to look */
		assert_non_null(strstr(err, t->path));
		cfg_free(&c);
	}
}

static void test_cfg_bad_value_leaves_field_unchanged(void **state)
{
	const struct tmpfile *t = *state;
	char err[256];
	struct cfg c;

	check_bad(load_text(t, &c, "{\"max_connectors\": 5000}", err, sizeof(err)), err,
		  "max_connectors", "range");
	assert_int_equal(c.max_connectors, 64);
	cfg_free(&c);
	check_bad(load_text(t, &c, "{\"listen\": \"h:99999\"}", err, sizeof(err)), err, "listen",
		  "listen");
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8180);
	cfg_free(&c);
	check_bad(load_text(t, &c, "{\"registration\": \"x\"}", err, sizeof(err)), err,
		  "registration", "reg");
	assert_int_equal(c.registration, CFG_REG_CLOSED);
	cfg_free(&c);
}

static void test_cfg_missing_file(void **state)
{
	char err[256] = "";
	struct cfg c;
	int r;

	(void)state;
	cfg_init(&c);
	r = cfg_load_file(&c, "/nonexistent/dir/csms.json", err, sizeof(err));
	check_bad(r, err, "/nonexistent/dir/csms.json", "missing file");
	cfg_free(&c);
}

static void test_cfg_set_bad_values(void **state)
{
	static const struct {
		const char *key, *value, *want;
	} cases[] = {
	    {"no_such_key", "1", "no_such_key"},
	    {"id_tokens", "[]", "id_tokens"}, /* file-only */
	    {"heartbeat_interval_s", "", "heartbeat_interval_s"},
	    {"heartbeat_interval_s", "12abc", "heartbeat_interval_s"},
	    {"heartbeat_interval_s", "12 ", "heartbeat_interval_s"},
	    {"heartbeat_interval_s", "0x10", "heartbeat_interval_s"},
	    {"heartbeat_interval_s", "1.5", "heartbeat_interval_s"},
	    {"heartbeat_interval_s", "99999999999999999999999", "heartbeat_interval_s"},
	    {"heartbeat_interval_s", "0", "heartbeat_interval_s"},
	    {"max_connectors", "4097", "max_connectors"},
	    {"registration", "", "registration"},
	    {"log_level", "trace", "log_level"},
	    {"sync", "", "sync"},
	    {"listen", "", "listen"},
	    {"listen", "localhost", "listen"},
	    {"listen", "localhost:http", "listen"},
	    {"listen", "localhost:70000", "listen"},
	};
	struct cfg c;
	char err[256];

	(void)state;
	cfg_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		check_bad(cfg_set(&c, cases[i].key, cases[i].value, err, sizeof(err)), err,
			  cases[i].want, cases[i].key);
	}
	/* nothing above changed the defaults */
	assert_int_equal(c.heartbeat_interval_s, 300);
	assert_int_equal(c.max_connectors, 64);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8180);
	cfg_free(&c);
}

/* docs/config.md: an invalid key or value prints one line, even when the input quotes a
 * newline or another control character (it must not forge a second log line either). */
static void test_cfg_error_stays_one_line(void **state)
{
	const struct tmpfile *t = *state;
	static const char *const texts[] = {
	    "{\"bad\\nkey\": 1}",
	    "{\"registration\": \"x\\ncsms: forged line\"}",
	    "{\"log_level\": \"\\r\\u001b[31mred\"}",
	    "{\"listen\": \"a\\tb\"}",
	    "{\"db\": \"x\", \n\"id_tokens\": 5}",
	};
	char err[256];
	struct cfg c;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		check_bad(load_text(t, &c, texts[i], err, sizeof(err)), err, NULL, texts[i]);
		for (const char *p = err; *p; p++)
			assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
		cfg_free(&c);
	}
	cfg_init(&c);
	check_bad(cfg_set(&c, "bad\nkey", "1", err, sizeof(err)), err, NULL, "flag key");
	check_bad(cfg_set(&c, "sync", "full\nx", err, sizeof(err)), err, NULL, "flag value");
	check_bad(cfg_set(&c, "max_connectors", "1\n", err, sizeof(err)), err, NULL, "flag int");
	cfg_free(&c);
}

static void test_cfg_int_bounds_inclusive(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	cfg_init(&c);
	assert_int_equal(cfg_set(&c, "heartbeat_interval_s", "1", err, sizeof(err)), 0);
	assert_int_equal(c.heartbeat_interval_s, 1);
	assert_int_equal(cfg_set(&c, "heartbeat_interval_s", "86400", err, sizeof(err)), 0);
	assert_int_equal(c.heartbeat_interval_s, 86400);
	assert_int_equal(cfg_set(&c, "max_frame_bytes", "1024", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "max_frame_bytes", "16777216", err, sizeof(err)), 0);
	assert_int_equal(c.max_frame_bytes, 16777216);
	assert_int_equal(cfg_set(&c, "drain_ms", "0", err, sizeof(err)), 0);
	assert_int_equal(c.drain_ms, 0);
	cfg_free(&c);
}

static void test_cfg_listen_parsing(void **state)
{
	static const struct {
		const char *in, *host;
		int port;
	} ok[] = {
	    {"127.0.0.1:0", "127.0.0.1", 0}, /* port 0: the kernel picks one */
	    {"0.0.0.0:65535", "0.0.0.0", 65535},
	    {"localhost:8180", "localhost", 8180},
	    {"::1:9000", "::1", 9000}, /* the last colon separates the port */
	    {"fe80::1%eth0:443", "fe80::1%eth0", 443},
	};
	struct cfg c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cfg_init(&c);
		assert_int_equal(cfg_set(&c, "listen", ok[i].in, err, sizeof(err)), 0);
		assert_string_equal(c.listen_host, ok[i].host);
		assert_int_equal(c.listen_port, ok[i].port);
		cfg_free(&c);
	}
	/* the longest host that fits (63 characters) */
	cfg_init(&c);
	{
		char in[80], host[64];

		memset(host, 'h', 63);
		host[63] = '\0';
		snprintf(in, sizeof(in), "%s:1", host);
		assert_int_equal(cfg_set(&c, "listen", in, err, sizeof(err)), 0);
		assert_string_equal(c.listen_host, host);
		assert_int_equal(c.listen_port, 1);
	}
	cfg_free(&c);
}

/* ------------------------------------------------------------------ hmap */

#define NKEYS 10000

struct kv {
	char key[16];
	int n;
};

/* The demo clock: start + (wall - anchor) * speed, the same in every process given the same
 * three numbers. */
static void test_clock_scaled(void **state)
{
	int64_t wall0, wall1, sim;
	struct clock c;

	(void)state;
	wall0 = clock_system_now_ms(NULL);
	c = clock_scaled(1780272000000LL, wall0 - 1000, 120);
	sim = clock_now_ms(&c);
	wall1 = clock_system_now_ms(NULL);
	/* one real second after the anchor is two simulated minutes after the start */
	assert_true(sim >= 1780272000000LL + 1000 * 120);
	assert_true(sim <= 1780272000000LL + (wall1 - wall0 + 1000) * 120);
	assert_true(clock_is_simulated(&c));
	assert_int_equal(clock_speed(&c), 120);
	assert_false(clock_is_simulated(&clock_system));
	assert_int_equal(clock_speed(&clock_system), 1);
	/* anchor 0 is "now": the simulated time starts at start */
	c = clock_scaled(1780272000000LL, 0, 60);
	sim = clock_now_ms(&c);
	assert_true(sim >= 1780272000000LL && sim < 1780272000000LL + 60 * 1000);
}

static void test_cfg_demo_clock_checks(void **state)
{
	char err[256];
	struct cfg c;

	(void)state;
	cfg_init(&c);
	assert_false(cfg_clock_simulated(&c));
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "clock_start", "2026-06-01T08:00:00+08:00", err, sizeof(err)),
			 0);
	assert_int_equal(c.clock_start_ms, 1780272000000LL);
	assert_int_equal(cfg_set(&c, "clock_speed", "120", err, sizeof(err)), 0);
	assert_true(cfg_clock_simulated(&c));
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0); /* loopback: a demo */
	assert_int_equal(cfg_set(&c, "listen", "0.0.0.0:8180", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "allow_demo_clock"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(cfg_set(&c, "allow_demo_clock", "true", err, sizeof(err)), 0);
	/* the API would share the non-loopback charger port in clear text */
	assert_int_equal(cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "api_listen"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(cfg_set(&c, "api_listen", "127.0.0.1:8181", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
	cfg_free(&c);
	cfg_init(&c); /* the API on a non-loopback charger port over TLS only */
	assert_int_equal(cfg_set(&c, "listen", "0.0.0.0:8180", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "tls_cert", "/etc/csms/c.pem", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "tls_key", "/etc/csms/k.pem", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "tls_allow_plain", "true", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), -EINVAL); /* plain HTTP there too */
	assert_int_equal(cfg_set(&c, "allow_demo_clock", "yes", err, sizeof(err)), -EINVAL);
	assert_int_equal(cfg_set(&c, "clock_start", "tomorrow", err, sizeof(err)), -EINVAL);
	assert_int_equal(cfg_set(&c, "clock_speed", "0", err, sizeof(err)), -EINVAL);
	cfg_free(&c);
	cfg_init(&c);
	assert_int_equal(cfg_set(&c, "clock_anchor", "2026-06-01T00:00:00Z", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), -EINVAL); /* anchor without a start */
	cfg_free(&c);
}

/* registration open off loopback: refused with one line unless allow_open_registration. */
static void test_cfg_open_registration_checks(void **state)
{
	char err[256];
	struct cfg c;

	(void)state;
	cfg_init(&c);
	assert_int_equal(cfg_set(&c, "registration", "open", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0); /* loopback: a lab */
	assert_int_equal(cfg_set(&c, "listen", "0.0.0.0:8180", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "api_listen", "127.0.0.1:8181", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "allow_open_registration"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(cfg_set(&c, "allow_open_registration", "true", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "allow_open_registration", "false", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "registration", "pending", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0); /* pending and closed: anywhere */
	cfg_free(&c);
}

static void test_hmap_empty(void **state)
{
	struct hmap m = {0};

	(void)state;
	assert_null(hmap_get(&m, "a"));
	assert_null(hmap_del(&m, "a"));
	assert_int_equal(m.count, 0);
	hmap_free(&m);
	hmap_free(&m);
}

static bool is_pow2(size_t n)
{
	return n && (n & (n - 1)) == 0;
}

static void test_hmap_put_get_del_10k(void **state)
{
	struct kv *v = calloc(NKEYS, sizeof(*v));
	struct hmap m = {0};

	(void)state;
	assert_non_null(v);
	for (int i = 0; i < NKEYS; i++) {
		snprintf(v[i].key, sizeof(v[i].key), "CP-%05d", i);
		v[i].n = i;
		assert_int_equal(hmap_put(&m, v[i].key, &v[i]), 0);
		assert_int_equal(m.count, (size_t)i + 1);
		/* grown at 70 %: always a free slot so that a probe for an absent key ends */
		assert_true(is_pow2(m.cap));
		assert_true(m.used * 10 < m.cap * 7);
	}
	assert_true(m.cap >= NKEYS);
	for (int i = 0; i < NKEYS; i++) {
		char probe[16];
		struct kv *got;

		snprintf(probe, sizeof(probe), "CP-%05d", i); /* another pointer, same text */
		got = hmap_get(&m, probe);
		assert_ptr_equal(got, &v[i]);
	}
	assert_null(hmap_get(&m, "CP-10000"));
	assert_null(hmap_get(&m, "CP-0000"));
	assert_null(hmap_get(&m, ""));
	/* delete the even keys; the odd ones stay reachable across the tombstones */
	for (int i = 0; i < NKEYS; i += 2)
		assert_ptr_equal(hmap_del(&m, v[i].key), &v[i]);
	assert_int_equal(m.count, NKEYS / 2);
	for (int i = 0; i < NKEYS; i++) {
		if (i % 2)
			assert_ptr_equal(hmap_get(&m, v[i].key), &v[i]);
		else
			assert_null(hmap_get(&m, v[i].key));
	}
	assert_null(hmap_del(&m, v[0].key)); /* twice: absent */
	assert_int_equal(m.count, NKEYS / 2);
	/* put the even keys back; none is duplicated */
	for (int i = 0; i < NKEYS; i += 2)
		assert_int_equal(hmap_put(&m, v[i].key, &v[i]), 0);
	assert_int_equal(m.count, NKEYS);
	for (int i = 0; i < NKEYS; i++)
		assert_ptr_equal(hmap_get(&m, v[i].key), &v[i]);
	{
		size_t live = 0;

		for (size_t i = 0; i < m.cap; i++)
			if (m.slots[i].value)
				live++;
		assert_int_equal(live, NKEYS);
	}
	hmap_free(&m);
	assert_null(m.slots);
	assert_int_equal(m.cap, 0);
	free(v);
}

static void test_hmap_empty_string_key(void **state)
{
	struct hmap m = {0};
	int a = 1, b = 2;

	(void)state;
	/* "" is a key like any other, also after it was deleted (a tombstone is not a key) */
	assert_int_equal(hmap_put(&m, "", &a), 0);
	assert_ptr_equal(hmap_get(&m, ""), &a);
	assert_ptr_equal(hmap_del(&m, ""), &a);
	assert_int_equal(m.count, 0);
	assert_null(hmap_get(&m, ""));
	assert_null(hmap_del(&m, ""));
	assert_int_equal(hmap_put(&m, "", &b), 0);
	assert_int_equal(m.count, 1);
	assert_ptr_equal(hmap_get(&m, ""), &b);
	hmap_free(&m);
}

static void test_hmap_replace(void **state)
{
	struct hmap m = {0};
	char k1[8] = "station", k2[8] = "station";
	int a = 1, b = 2;

	(void)state;
	assert_int_equal(hmap_put(&m, k1, &a), 0);
	assert_int_equal(hmap_put(&m, k2, &b), 0); /* equal text, another pointer: replaces */
	assert_int_equal(m.count, 1);
	assert_ptr_equal(hmap_get(&m, "station"), &b);
	/* the map now borrows k2, not k1: k1 may die with its old value */
	memset(k1, 'x', sizeof(k1) - 1);
	assert_ptr_equal(hmap_get(&m, "station"), &b);
	assert_ptr_equal(hmap_del(&m, "station"), &b);
	assert_int_equal(m.count, 0);
	assert_null(hmap_get(&m, "station"));
	hmap_free(&m);
}

static void test_hmap_tombstone_reuse(void **state)
{
	struct kv *v = calloc(64, sizeof(*v));
	struct hmap m = {0};
	size_t cap, used;

	(void)state;
	assert_non_null(v);
	for (int i = 0; i < 8; i++) {
		snprintf(v[i].key, sizeof(v[i].key), "k%d", i);
		assert_int_equal(hmap_put(&m, v[i].key, &v[i]), 0);
	}
	cap = m.cap;
	used = m.used;
	/* a station that reconnects a million times reuses its slot: no growth, no new slots */
	for (int round = 0; round < 100000; round++) {
		int i = round % 8;

		assert_ptr_equal(hmap_del(&m, v[i].key), &v[i]);
		assert_null(hmap_get(&m, v[i].key));
		assert_int_equal(hmap_put(&m, v[i].key, &v[i]), 0);
	}
	assert_int_equal(m.cap, cap);
	assert_int_equal(m.used, used);
	assert_int_equal(m.count, 8);
	/* delete all and put them back: the tombstones are reused, used does not grow */
	for (int i = 0; i < 8; i++)
		assert_non_null(hmap_del(&m, v[i].key));
	assert_int_equal(m.count, 0);
	assert_int_equal(m.used, used); /* tombstones still count as used */
	for (int i = 7; i >= 0; i--)
		assert_int_equal(hmap_put(&m, v[i].key, &v[i]), 0);
	assert_int_equal(m.used, used);
	assert_int_equal(m.cap, cap);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(hmap_get(&m, v[i].key), &v[i]);
	hmap_free(&m);
	free(v);
}

static void test_hmap_grow_drops_tombstones(void **state)
{
	struct kv *v = calloc(2000, sizeof(*v));
	struct hmap m = {0};

	(void)state;
	assert_non_null(v);
	for (int i = 0; i < 2000; i++) {
		snprintf(v[i].key, sizeof(v[i].key), "t%d", i);
		assert_int_equal(hmap_put(&m, v[i].key, &v[i]), 0);
		if (i % 4)
			assert_non_null(hmap_del(&m, v[i].key));
		/* a probe for an absent key always ends: some slot stays empty */
		assert_true(m.used < m.cap);
		assert_null(hmap_get(&m, "absent"));
	}
	assert_int_equal(m.count, 500);
	for (int i = 0; i < 2000; i++) {
		if (i % 4)
			assert_null(hmap_get(&m, v[i].key));
		else
			assert_ptr_equal(hmap_get(&m, v[i].key), &v[i]);
	}
	hmap_free(&m);
	free(v);
}

/* Keys that keep changing while few are live (stations coming and going under an open
 * registration policy): the table stays sized for the live entries, not for every key ever
 * inserted. */
static void test_hmap_churn_stays_bounded(void **state)
{
	enum { N = 100000 };
	char(*keys)[16] = calloc(N, sizeof(*keys));
	struct hmap m = {0};

	(void)state;
	assert_non_null(keys);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(hmap_put(&m, keys[i], keys[i]), 0);
		if (i >= 8) /* eight live at any time */
			assert_ptr_equal(hmap_del(&m, keys[i - 8]), keys[i - 8]);
	}
	assert_int_equal(m.count, 8);
	assert_true(m.cap <= 1024);
	for (int i = N - 8; i < N; i++)
		assert_ptr_equal(hmap_get(&m, keys[i]), keys[i]);
	assert_null(hmap_get(&m, keys[N - 9]));
	hmap_free(&m);
	free(keys);
}

/* ------------------------------------------------------------------ pwhash */

#define ITER 1000

static void test_pwhash_create_verify(void **state)
{
	char h1[PWHASH_MAX], h2[PWHASH_MAX];

	(void)state;
	assert_int_equal(pwhash_create("correct horse battery", ITER, h1, sizeof(h1)), 0);
	assert_true(pwhash_verify("correct horse battery", h1));
	assert_false(pwhash_verify("correct horse batterY", h1));
	assert_false(pwhash_verify("correct horse battery ", h1));
	assert_false(pwhash_verify("correct horse batter", h1));
	assert_false(pwhash_verify("", h1));
	/* a fresh salt each time: the same password hashes differently, both verify */
	assert_int_equal(pwhash_create("correct horse battery", ITER, h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	assert_true(pwhash_verify("correct horse battery", h2));
	/* the empty password is a password like any other */
	assert_int_equal(pwhash_create("", ITER, h2, sizeof(h2)), 0);
	assert_true(pwhash_verify("", h2));
	assert_false(pwhash_verify("x", h2));
}

static void test_pwhash_records_iterations(void **state)
{
	char h[PWHASH_MAX];
	unsigned its[] = {1, 7, ITER, 1234};

	(void)state;
	for (size_t i = 0; i < sizeof(its) / sizeof(its[0]); i++) {
		char prefix[40];
		const char *salt, *key;

		assert_int_equal(pwhash_create("pw-0123456789abcdef", its[i], h, sizeof(h)), 0);
		snprintf(prefix, sizeof(prefix), "pbkdf2-sha256$%u$", its[i]);
		assert_int_equal(strncmp(h, prefix, strlen(prefix)), 0);
		salt = h + strlen(prefix);
		key = strchr(salt, '$');
		assert_non_null(key);
		assert_int_equal(key - salt, 32);      /* 16-byte salt in hex */
		assert_int_equal(strlen(key + 1), 64); /* 32-byte key in hex */
		assert_int_equal(strspn(salt, "0123456789abcdef"), 32);
		assert_int_equal(strspn(key + 1, "0123456789abcdef"), 64);
		/* verify honours the recorded count, whatever the current configuration */
		assert_true(pwhash_verify("pw-0123456789abcdef", h));
	}
}

static void test_pwhash_create_bad_args(void **state)
{
	char h[PWHASH_MAX];
	char small[40];

	(void)state;
	assert_int_equal(pwhash_create("pw", 0, h, sizeof(h)), -EINVAL);
	assert_int_equal(pwhash_create("pw", 10000001, h, sizeof(h)), -EINVAL);
	assert_int_equal(pwhash_create("pw", ITER, small, sizeof(small)), -EINVAL);
}

/* Replace the character at offset i of a copy of enc with c; verify must refuse it. */
static void expect_tamper_refused(const char *pw, const char *enc, size_t i, char c)
{
	char t[PWHASH_MAX];

	snprintf(t, sizeof(t), "%s", enc);
	assert_true(i < strlen(t));
	if (t[i] == c)
		c = c == '0' ? '1' : '0';
	t[i] = c;
	if (pwhash_verify(pw, t))
		print_error("tampered at %zu accepted: %s\n", i, t);
	assert_false(pwhash_verify(pw, t));
}

static void test_pwhash_tampered_encodings(void **state)
{
	const char *pw = "s3cret-password-16";
	char h[PWHASH_MAX], t[2 * PWHASH_MAX];
	size_t n, salt_at, key_at;

	(void)state;
	assert_int_equal(pwhash_create(pw, ITER, h, sizeof(h)), 0);
	assert_true(pwhash_verify(pw, h));
	n = strlen(h);
	salt_at = strlen("pbkdf2-sha256$1000$");
	key_at = salt_at + 33;

	/* every hex digit of salt and key matters */
	for (size_t i = salt_at; i < salt_at + 32; i++)
		expect_tamper_refused(pw, h, i, h[i] == 'a' ? 'b' : 'a');
	for (size_t i = key_at; i < n; i++)
		expect_tamper_refused(pw, h, i, h[i] == 'a' ? 'b' : 'a');
	/* uppercase hex, non-hex, separators moved */
	expect_tamper_refused(pw, h, key_at + 3, 'G');
	expect_tamper_refused(pw, h, salt_at + 5, 'z');
	expect_tamper_refused(pw, h, salt_at + 32, 'x'); /* the '$' between salt and key */
	expect_tamper_refused(pw, h, 0, 'P');		 /* the scheme name */
	expect_tamper_refused(pw, h, 13, '-');		 /* the '$' after the scheme */
	{
		char up[PWHASH_MAX];

		snprintf(up, sizeof(up), "%s", h);
		for (size_t i = salt_at; i < n; i++)
			if (up[i] >= 'a' && up[i] <= 'f')
				up[i] = (char)(up[i] - 'a' + 'A');
		if (strcmp(up, h) != 0)
			assert_false(pwhash_verify(pw, up));
	}

	/* another iteration count gives another key */
	snprintf(t, sizeof(t), "pbkdf2-sha256$1001$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$999$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$0$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$-1000$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$1000x$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$99999999999999999999999$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha1$1000$%s", h + salt_at);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$1000$%s", h + salt_at + 1); /* salt short */
	assert_false(pwhash_verify(pw, t));

	/* truncated or extended */
	for (size_t len = 0; len < n; len++) {
		snprintf(t, sizeof(t), "%.*s", (int)len, h);
		assert_false(pwhash_verify(pw, t));
	}
	snprintf(t, sizeof(t), "%s0", h);
	assert_false(pwhash_verify(pw, t));
	snprintf(t, sizeof(t), "%s$", h);
	assert_false(pwhash_verify(pw, t));

	/* not a hash at all, or the password itself stored in clear */
	assert_false(pwhash_verify(pw, NULL));
	assert_false(pwhash_verify(pw, ""));
	assert_false(pwhash_verify(pw, pw));
	assert_false(pwhash_verify("", ""));

	/* after all that, the original still verifies */
	assert_true(pwhash_verify(pw, h));
}

/* ------------------------------------------------------------------ log */

static void test_log_level_parsing(void **state)
{
	(void)state;
	assert_int_equal(log_level_from_string("err"), LOG_ERR);
	assert_int_equal(log_level_from_string("warn"), LOG_WARN);
	assert_int_equal(log_level_from_string("notice"), LOG_NOTICE);
	assert_int_equal(log_level_from_string("info"), LOG_INFO);
	assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
	assert_int_equal(log_level_from_string(""), -EINVAL);
	assert_int_equal(log_level_from_string("ERR"), -EINVAL);
	assert_int_equal(log_level_from_string("warning"), -EINVAL);
	assert_int_equal(log_level_from_string("error"), -EINVAL);
	assert_int_equal(log_level_from_string("debug "), -EINVAL);
	assert_int_equal(log_level_from_string("4"), -EINVAL);
	assert_int_equal(_LOG_LEVEL_INVALID, -EINVAL);
}

static void test_log_level_set_get(void **state)
{
	enum log_level saved = log_get_level();

	(void)state;
	for (int l = LOG_ERR; l < _LOG_LEVEL_MAX; l++) {
		log_set_level((enum log_level)l);
		assert_int_equal(log_get_level(), l);
	}
	/* below the level: nothing printed and nothing evaluated by log_debug */
	log_set_level(LOG_ERR);
	{
		int evaluated = 0;

		log_debug("%d", ++evaluated);
		assert_int_equal(evaluated, 0);
		log_set_level(LOG_DEBUG);
		log_debug("test_log_level_set_get: a debug line %d", ++evaluated);
		assert_int_equal(evaluated, 1);
	}
	log_set_level(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cfg_defaults),
	    cmocka_unit_test(test_cfg_registration_names),
	    cmocka_unit_test_setup_teardown(test_cfg_file_sets_every_key, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_cfg_empty_object_keeps_defaults, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_cfg_file_then_flag_overrides, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_cfg_file_bad_values, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_cfg_bad_value_leaves_field_unchanged, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test(test_cfg_missing_file),
	    cmocka_unit_test(test_cfg_set_bad_values),
	    cmocka_unit_test_setup_teardown(test_cfg_error_stays_one_line, tmp_setup, tmp_teardown),
	    cmocka_unit_test(test_cfg_int_bounds_inclusive),
	    cmocka_unit_test(test_cfg_listen_parsing),
	    cmocka_unit_test(test_clock_scaled),
	    cmocka_unit_test(test_cfg_demo_clock_checks),
	    cmocka_unit_test(test_cfg_open_registration_checks),
	    cmocka_unit_test(test_hmap_empty),
	    cmocka_unit_test(test_hmap_put_get_del_10k),
	    cmocka_unit_test(test_hmap_empty_string_key),
	    cmocka_unit_test(test_hmap_replace),
	    cmocka_unit_test(test_hmap_tombstone_reuse),
	    cmocka_unit_test(test_hmap_grow_drops_tombstones),
	    cmocka_unit_test(test_hmap_churn_stays_bounded),
	    cmocka_unit_test(test_pwhash_create_verify),
	    cmocka_unit_test(test_pwhash_records_iterations),
	    cmocka_unit_test(test_pwhash_create_bad_args),
	    cmocka_unit_test(test_pwhash_tampered_encodings),
	    cmocka_unit_test(test_log_level_parsing),
	    cmocka_unit_test(test_log_level_set_get),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
