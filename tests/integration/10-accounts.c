/* SPDX-License-Identifier: MIT */
/* 10: operator accounts and the locked API: login, cookie + CSRF, bearer tokens, roles, Origin,
 * content type, throttling, audit, the users CLI, the separate API listener, /metrics, backup,
 * and a loop that keeps serving chargers while passwords are checked. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define METRICS_TOKEN "metrics-0123456789abcdef"

static const char *const open_args[] = {"--registration", "open", NULL};

static int setup(void **state)
{
	struct csms_proc *p =
	    csms_start(open_args, "{\"login_fail_burst\": 3, \"login_fail_refill_s\": 600, "
				  "\"metrics_token\": \"" METRICS_TOKEN "\"}");

	*state = p;
	return p ? 0 : -1;
}

/* An account made through the API by the harness's admin token. */
static void add_account(struct csms_proc *p, const char *name, const char *password,
			const char *role)
{
	char body[256];
	json_t *j = NULL;
	int status = 0;

	snprintf(body, sizeof(body),
		 "{\"username\": \"%s\", \"password\": \"%s\", \"role\": \"%s\"}", name, password,
		 role);
	assert_int_equal(http_request(p->port, "POST", "/api/accounts", body, &status, &j, 15000),
			 0);
	assert_int_equal(status, 201);
	assert_string_equal(json_string_value(json_object_get(j, "role")), role);
	json_decref(j);
}

/* A request with explicit headers and no harness token; returns the status. */
static int raw(int port, const char *method, const char *path, const char *body, const char *ctype,
	       const char *const *headers, struct http_result *ret)
{
	struct http_opts o = {.method = method,
			      .path = path,
			      .body = body,
			      .content_type = ctype,
			      .headers = headers,
			      .no_auth = true};

	assert_int_equal(http_exchange(port, &o, ret), 0);
	return ret->status;
}

static void test_login_cookie_me_logout(void **state)
{
	struct csms_proc *p = *state;
	struct http_result res;
	struct http_session s;
	char cookie[200];
	const char *hdr[] = {cookie, NULL};
	json_t *j = NULL;

	/* without credentials every route but login and health is closed */
	assert_int_equal(raw(p->port, "GET", "/api/stations", NULL, NULL, NULL, &res), 401);
	assert_non_null(json_object_get(res.json, "error"));
	http_result_clear(&res);
	assert_int_equal(raw(p->port, "GET", "/api/no-such-route", NULL, NULL, NULL, &res), 401);
	http_result_clear(&res);
	assert_int_equal(raw(p->port, "GET", "/api/health", NULL, NULL, NULL, &res), 200);
	http_result_clear(&res);

	/* the cookie's attributes */
	assert_int_equal(raw(p->port, "POST", "/api/login",
			     "{\"username\": \"" HARNESS_ADMIN "\", \"password\": \"x\"}", NULL,
			     NULL, &res),
			 401);
	assert_string_equal(json_string_value(json_object_get(res.json, "error")),
			    "bad username or password");
	assert_string_equal(res.set_cookie, "");
	http_result_clear(&res);

	assert_int_equal(http_login(p->port, HARNESS_ADMIN, p->admin_password, &s), 0);
	assert_string_equal(s.role, "admin");
	assert_int_equal(strlen(s.csrf), 64);
	{
		char body[160];

		snprintf(body, sizeof(body), "{\"username\": \"%s\", \"password\": \"%s\"}",
			 HARNESS_ADMIN, p->admin_password);
		assert_int_equal(raw(p->port, "POST", "/api/login", body, NULL, NULL, &res), 200);
		assert_non_null(strstr(res.set_cookie, "csms_session="));
		assert_non_null(strstr(res.set_cookie, "; HttpOnly"));
		assert_non_null(strstr(res.set_cookie, "; SameSite=Strict"));
		assert_non_null(strstr(res.set_cookie, "Path=/"));
		assert_null(strstr(res.set_cookie, "Secure")); /* plain http on loopback */
		http_result_clear(&res);
	}

	/* /api/me by the cookie */
	assert_int_equal(http_session_request(&s, "GET", "/api/me", NULL, false, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "user")), HARNESS_ADMIN);
	assert_string_equal(json_string_value(json_object_get(j, "role")), "admin");
	assert_string_equal(json_string_value(json_object_get(j, "csrf")), s.csrf);
	json_decref(j);

	/* logout needs the CSRF header like any write, then the cookie is dead */
	assert_int_equal(http_session_request(&s, "POST", "/api/logout", NULL, false, NULL), 403);
	assert_int_equal(http_session_request(&s, "POST", "/api/logout", NULL, true, NULL), 204);
	snprintf(cookie, sizeof(cookie), "Cookie: %s", s.cookie);
	assert_int_equal(raw(p->port, "GET", "/api/me", NULL, NULL, hdr, &res), 401);
	http_result_clear(&res);
}

static void test_cookie_writes_need_csrf_and_json(void **state)
{
	struct csms_proc *p = *state;
	struct http_result res;
	struct http_session s;
	char cookie[200], csrf[120];
	const char *hdr[] = {cookie, csrf, NULL};
	json_t *j = NULL;

	assert_int_equal(http_login(p->port, HARNESS_ADMIN, p->admin_password, &s), 0);
	snprintf(cookie, sizeof(cookie), "Cookie: %s", s.cookie);
	snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", s.csrf);

	/* no CSRF header: 403, and nothing was made */
	assert_int_equal(http_session_request(&s, "POST", "/api/tokens",
					      "{\"name\": \"nocsrf\", \"role\": \"viewer\"}", false,
					      NULL),
			 403);
	/* a wrong one: 403 */
	{
		const char *bad[] = {cookie, "X-CSRF-Token: 00", NULL};

		assert_int_equal(raw(p->port, "POST", "/api/tokens",
				     "{\"name\": \"badcsrf\", \"role\": \"viewer\"}", NULL, bad,
				     &res),
				 403);
		http_result_clear(&res);
	}
	/* text/plain and forms (what a hostile page can send without a preflight): 415 */
	assert_int_equal(raw(p->port, "POST", "/api/tokens",
			     "{\"name\": \"plain\", \"role\": \"viewer\"}", "text/plain", hdr,
			     &res),
			 415);
	http_result_clear(&res);
	assert_int_equal(raw(p->port, "POST", "/api/stations/CP-X/unlock", "evse_id=1",
			     "application/x-www-form-urlencoded", hdr, &res),
			 415);
	http_result_clear(&res);
	/* right: 201 */
	assert_int_equal(http_session_request(&s, "POST", "/api/tokens",
					      "{\"name\": \"withcsrf\", \"role\": \"viewer\"}",
					      true, &j),
			 201);
	json_decref(j);
	assert_int_equal(http_session_request(&s, "GET", "/api/tokens", NULL, false, &j), 200);
	assert_null(json_find(json_object_get(j, "tokens"), "name", "nocsrf"));
	assert_null(json_find(json_object_get(j, "tokens"), "name", "badcsrf"));
	assert_null(json_find(json_object_get(j, "tokens"), "name", "plain"));
	assert_non_null(json_find(json_object_get(j, "tokens"), "name", "withcsrf"));
	json_decref(j);
}

static void test_origin_and_host_checked(void **state)
{
	struct csms_proc *p = *state;
	struct http_result res;
	char auth[120], good_origin[80];
	const char *evil[] = {auth, "Origin: https://evil.example", NULL};
	const char *good[] = {auth, good_origin, NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->token);
	snprintf(good_origin, sizeof(good_origin), "Origin: http://localhost:%d", p->port);
	/* the attack: a cross-site unlock, refused before it reaches the charger */
	assert_int_equal(
	    raw(p->port, "POST", "/api/stations/CP-X/unlock", "{\"evse_id\": 1}", NULL, evil, &res),
	    403);
	http_result_clear(&res);
	assert_int_equal(raw(p->port, "GET", "/api/stations", NULL, NULL, evil, &res), 403);
	http_result_clear(&res);
	/* the same origin (loopback names stand for each other) passes */
	assert_int_equal(raw(p->port, "GET", "/api/stations", NULL, NULL, good, &res), 200);
	http_result_clear(&res);
	/* DNS rebinding: a foreign Host */
	{
		struct http_opts o = {.method = "GET",
				      .path = "/api/stations",
				      .headers = good,
				      .host = "attacker.example",
				      .no_auth = true};

		assert_int_equal(http_exchange(p->port, &o, &res), 0);
		assert_int_equal(res.status, 403);
		http_result_clear(&res);
	}
}

static void test_bearer_token_and_revocation(void **state)
{
	struct csms_proc *p = *state;
	struct http_result res;
	char auth[120], path[64], secret[80];
	const char *hdr[] = {auth, NULL};
	json_t *j = NULL;
	const char *tok;
	int status = 0;
	long long id;

	assert_int_equal(http_request(p->port, "POST", "/api/tokens",
				      "{\"name\": \"script\", \"role\": \"operator\"}", &status, &j,
				      5000),
			 0);
	assert_int_equal(status, 201);
	assert_non_null(json_string_value(json_object_get(j, "token")));
	snprintf(secret, sizeof(secret), "%s", json_string_value(json_object_get(j, "token")));
	tok = secret;
	assert_int_equal(strncmp(tok, "csms_", 5), 0);
	id = json_integer_value(json_object_get(j, "id"));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	json_decref(j);

	/* a bearer token needs no CSRF header; an operator may send commands but not read the
	 * accounts */
	assert_int_equal(raw(p->port, "GET", "/api/stations", NULL, NULL, hdr, &res), 200);
	http_result_clear(&res);
	raw(p->port, "POST", "/api/stations/CP-NOPE/registration", "{\"status\": \"Accepted\"}",
	    NULL, hdr, &res);
	assert_true(res.status != 401 && res.status != 403 && res.status != 415);
	http_result_clear(&res);
	assert_int_equal(raw(p->port, "GET", "/api/accounts", NULL, NULL, hdr, &res), 403);
	http_result_clear(&res);

	/* the secret is never listed; revoke it */
	assert_int_equal(http_request(p->port, "GET", "/api/tokens", NULL, &status, &j, 5000), 0);
	assert_int_equal(status, 200);
	{
		char *text = json_dumps(j, 0);

		assert_null(strstr(text, tok + 5));
		free(text);
	}
	json_decref(j);
	snprintf(path, sizeof(path), "/api/tokens/%lld", id);
	assert_int_equal(http_request(p->port, "DELETE", path, NULL, &status, NULL, 5000), 0);
	assert_int_equal(status, 204);
	assert_int_equal(raw(p->port, "GET", "/api/stations", NULL, NULL, hdr, &res), 401);
	http_result_clear(&res);
	assert_int_equal(http_request(p->port, "DELETE", path, NULL, &status, NULL, 5000), 0);
	assert_int_equal(status, 404);
}

static void test_viewer_cannot_command(void **state)
{
	struct csms_proc *p = *state;
	struct http_session s;
	struct tcp *tc;
	json_t *conf = NULL, *log = NULL;
	char err[64];

	tc = tc_connect(p->port, "CP-ACC-V", NULL, "ocpp1.6", 5000, NULL);
	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	add_account(p, "vera", "viewer-password-1", "viewer");
	assert_int_equal(http_login(p->port, "vera", "viewer-password-1", &s), 0);
	assert_string_equal(s.role, "viewer");
	assert_int_equal(
	    http_session_request(&s, "GET", "/api/stations/CP-ACC-V", NULL, false, NULL), 200);
	assert_int_equal(http_session_request(&s, "POST", "/api/stations/CP-ACC-V/reset",
					      "{\"type\": \"Soft\"}", true, NULL),
			 403);
	assert_int_equal(http_session_request(&s, "GET", "/api/audit", NULL, false, NULL), 403);
	/* the charger never heard of it */
	assert_int_equal(tc_next_call(tc, 300, &conf), -ETIMEDOUT);
	log = http_get_json(p->port, "/api/commands?station=CP-ACC-V");
	assert_non_null(log);
	assert_int_equal(json_array_size(json_object_get(log, "commands")), 0);
	json_decref(log);
	tc_close(tc);
}

static void test_failed_logins_throttled(void **state)
{
	struct csms_proc *p = *state;
	struct http_result res;
	char good[160];
	int retry;

	add_account(p, "tess", "tess-password-1", "operator");
	/* burst 3 (config): three wrong passwords are answered 401 ... */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(raw(p->port, "POST", "/api/login",
				     "{\"username\": \"tess\", \"password\": \"wrong-password\"}",
				     NULL, NULL, &res),
				 401);
		http_result_clear(&res);
	}
	/* ... then 429 with Retry-After, even with the right password */
	snprintf(good, sizeof(good), "{\"username\": \"tess\", \"password\": \"tess-password-1\"}");
	assert_int_equal(raw(p->port, "POST", "/api/login", good, NULL, NULL, &res), 429);
	retry = atoi(res.retry_after);
	assert_true(retry >= 1 && retry <= 600);
	http_result_clear(&res);
	/* an unknown name counts the same way (no hint which names exist) */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(raw(p->port, "POST", "/api/login",
				     "{\"username\": \"nobody\", \"password\": \"wrong-password\"}",
				     NULL, NULL, &res),
				 401);
		assert_string_equal(json_string_value(json_object_get(res.json, "error")),
				    "bad username or password");
		http_result_clear(&res);
	}
	assert_int_equal(raw(p->port, "POST", "/api/login",
			     "{\"username\": \"nobody\", \"password\": \"wrong-password\"}", NULL,
			     NULL, &res),
			 429);
	http_result_clear(&res);
	/* the per-address bucket (4 x burst = 12) is not empty yet: another account logs in */
	{
		struct http_session s;

		assert_int_equal(http_login(p->port, HARNESS_ADMIN, p->admin_password, &s), 0);
	}
}

static void test_audit_rows(void **state)
{
	struct csms_proc *p = *state;
	json_t *j, *rows, *row;
	int status = 0;
	size_t i;
	bool seen_token = false, seen_refused = false;

	assert_int_equal(http_request(p->port, "POST", "/api/tokens",
				      "{\"name\": \"audited\", \"role\": \"viewer\"}", &status,
				      NULL, 5000),
			 0);
	assert_int_equal(status, 201);
	j = http_get_json(p->port, "/api/audit?limit=1000");
	assert_non_null(j);
	rows = json_object_get(j, "audit");
	assert_true(json_array_size(rows) > 0);
	json_array_foreach(rows, i, row) {
		const char *who = json_string_value(json_object_get(row, "who"));
		const char *path = json_string_value(json_object_get(row, "path"));
		int st = (int)json_integer_value(json_object_get(row, "status"));

		assert_true(is_rfc3339(json_string_value(json_object_get(row, "time"))));
		assert_string_equal(json_string_value(json_object_get(row, "peer")), "127.0.0.1");
		if (!strcmp(path, "/api/tokens") && st == 201 && !strcmp(who, "token:it-harness"))
			seen_token = true;
		if (!strcmp(path, "/api/login") && st == 401)
			seen_refused = true;
		/* reads are not audited */
		assert_string_not_equal(json_string_value(json_object_get(row, "method")), "GET");
	}
	assert_true(seen_token);
	assert_true(seen_refused); /* the harness's first login is there, and the failed ones */
	json_decref(j);
	/* paging */
	j = http_get_json(p->port, "/api/audit?limit=1&offset=1");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "audit")), 1);
	json_decref(j);
}

static void test_metrics_need_their_token(void **state)
{
	struct csms_proc *p = *state;
	struct http_result res;
	char auth[120];
	const char *hdr[] = {"Authorization: Bearer " METRICS_TOKEN, NULL};
	const char *admin[] = {auth, NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->token);
	assert_int_equal(raw(p->port, "GET", "/metrics", NULL, NULL, NULL, &res), 401);
	http_result_clear(&res);
	/* an API token is not the metrics token */
	assert_int_equal(raw(p->port, "GET", "/metrics", NULL, NULL, admin, &res), 401);
	http_result_clear(&res);
	assert_int_equal(raw(p->port, "GET", "/metrics", NULL, NULL, hdr, &res), 200);
	assert_non_null(strstr(res.content_type, "text/plain"));
	assert_non_null(strstr(res.body, "# TYPE csms_calls_in_total counter"));
	assert_non_null(strstr(res.body, "csms_connections{protocol=\"ocpp1.6\"}"));
	assert_non_null(strstr(res.body, "csms_commit_seconds_bucket{le=\"+Inf\"}"));
	http_result_clear(&res);
}

/* Logins hash on the threadpool: a charger's heartbeat is answered while they run. */
static void test_loop_serves_during_logins(void **state)
{
	struct csms_proc *p = *state;
	struct http_async *a[6];
	struct tcp *tc;
	json_t *conf = NULL;
	char body[160], err[64];
	long long t0, hb_ms, hb_done, end;
	int status;

	tc = tc_connect(p->port, "CP-ACC-HB", NULL, "ocpp1.6", 5000, NULL);
	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	snprintf(body, sizeof(body), "{\"username\": \"%s\", \"password\": \"%s\"}", HARNESS_ADMIN,
		 p->admin_password);
	for (size_t i = 0; i < 6; i++) {
		a[i] = http_request_start(p->port, "POST", "/api/login", body, 30000);
		assert_non_null(a[i]);
	}
	usleep(50 * 1000); /* the logins reach the server first */
	t0 = mono_ms();
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), &conf, err, 10000), 0);
	hb_done = mono_ms();
	hb_ms = hb_done - t0;
	json_decref(conf);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(http_request_join(a[i], &status, NULL), 0);
		assert_int_equal(status, 200);
	}
	end = mono_ms();
	print_message("heartbeat answered in %lld ms; six logins took %lld ms\n", hb_ms,
		      end - t0 + 50);
	/* six scrypt checks on four threads take two rounds of ~350 ms: the heartbeat did not
	 * wait for them */
	assert_true(hb_ms < 300);
	assert_true(end - hb_done > 100);
	tc_close(tc);
}

static void test_users_cli_then_login(void **state)
{
	struct csms_proc *p = *state;
	char pwfile[320];
	const char *add[] = {"users",		"add",	"olga", "--role", "operator",
			     "--password-file", pwfile, "--db", p->db,	  NULL};
	const char *dup[] = {"users",		"add",	"olga", "--role", "viewer",
			     "--password-file", pwfile, "--db", p->db,	  NULL};
	const char *norole[] = {"users", "add",	 "olga2", "--password-file",
				pwfile,	 "--db", p->db,	  NULL};
	struct http_session s;
	FILE *f;

	snprintf(pwfile, sizeof(pwfile), "%s/olga.pw", p->dir);
	f = fopen(pwfile, "w");
	assert_non_null(f);
	fputs("olga-password-123\n", f);
	fclose(f);
	/* while the server runs */
	assert_int_equal(csms_cli(p, add), 0);
	assert_int_equal(csms_cli(p, dup), 1);
	assert_int_equal(csms_cli(p, norole), 2);
	assert_int_equal(http_login(p->port, "olga", "olga-password-123", &s), 0);
	assert_string_equal(s.role, "operator");
}

static void test_backup_while_running(void **state)
{
	struct csms_proc *p = *state;
	char file[320];
	const char *args[] = {"backup", file, "--db", p->db, NULL};
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct tcp *tc;
	json_t *conf = NULL;
	char err[64];

	tc = tc_connect(p->port, "CP-ACC-BK", NULL, "ocpp1.6", 5000, NULL);
	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	json_decref(conf);
	snprintf(file, sizeof(file), "%s/backup.db", p->dir);
	assert_int_equal(csms_cli(p, args), 0);
	/* the charger is still served */
	assert_int_equal(tc_call(tc, "Heartbeat", json_object(), &conf, err, 5000), 0);
	json_decref(conf);

	assert_int_equal(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM stations WHERE id = "
					    "'CP-ACC-BK'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT role FROM accounts WHERE name = '" HARNESS_ADMIN "'", -1,
			       &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "admin");
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* one self-contained file */
	snprintf(file, sizeof(file), "%s/backup.db-wal", p->dir);
	assert_int_not_equal(access(file, F_OK), 0);
	tc_close(tc);
}

/* Count the lines of the log that the csms command line wrote ("csms: ..."): the server of
 * the fixture writes into the same log meanwhile. */
static int log_lines(const struct csms_proc *p)
{
	FILE *f = fopen(p->log, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0)
		n += strncmp(line, "csms: ", 6) == 0;
	free(line);
	fclose(f);
	return n;
}

static void test_api_listener_rules(void **state)
{
	struct csms_proc *p = *state;
	const char *plain[] = {"--listen", "127.0.0.1:0", "--api-listen", "0.0.0.0:0", "--db",
			       p->db,	   NULL};
	const char *shared[] = {"--listen", "0.0.0.0:0", "--db", p->db, NULL};
	static const char *const sep_args[] = {
	    "--api-listen", "127.0.0.1:0", "--registration", "open", "--log-format", "json", NULL};
	struct csms_proc *q;
	struct http_result res;
	struct tc_why why;
	struct tcp *tc;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int before = log_lines(p);

	/* non-loopback API without TLS: refused at start, exit 2, one line; also when the API
	 * would share a non-loopback plain charger port */
	assert_int_equal(csms_cli(p, plain), 2);
	assert_int_equal(log_lines(p), before + 1);
	assert_int_equal(csms_cli(p, shared), 2);
	assert_int_equal(log_lines(p), before + 2);
	f = fopen(p->log, "r");
	assert_non_null(f);
	{
		bool refused = false, shared_refused = false;

		while (getline(&text, &len, f) > 0) {
			if (strncmp(text, "csms: ", 6) != 0)
				continue;
			refused = refused ||
				  strstr(text, "refusing to serve the operator API without TLS");
			shared_refused =
			    strstr(text, "the operator API would share it in clear text");
		}
		assert_true(refused);
		assert_true(shared_refused); /* the last line the command line wrote */
	}
	fclose(f);
	free(text);

	/* a separate API listener: the charger port serves chargers only, and the API port no
	 * chargers; /metrics without a token is served there */
	q = csms_start(sep_args, NULL);
	assert_non_null(q);
	assert_true(q->api_port > 0 && q->api_port != q->port);
	assert_int_equal(raw(q->port, "GET", "/api/health", NULL, NULL, NULL, &res), 404);
	http_result_clear(&res);
	assert_int_equal(raw(q->api_port, "GET", "/api/health", NULL, NULL, NULL, &res), 200);
	http_result_clear(&res);
	assert_int_equal(raw(q->port, "GET", "/metrics", NULL, NULL, NULL, &res), 404);
	http_result_clear(&res);
	assert_int_equal(raw(q->api_port, "GET", "/metrics", NULL, NULL, NULL, &res), 200);
	assert_non_null(strstr(res.body, "csms_commits_total"));
	http_result_clear(&res);
	{
		json_t *j = http_get_json(q->api_port, "/api/stations");

		assert_non_null(j); /* the harness logged in on the API port */
		json_decref(j);
	}
	tc = tc_connect(q->api_port, "CP-ON-API", NULL, "ocpp1.6", 3000, &why);
	assert_null(tc);
	tc = tc_connect(q->port, "CP-ON-CHG", NULL, "ocpp1.6", 3000, &why);
	assert_non_null(tc);
	tc_close(tc);
	assert_int_equal(csms_stop(q), 0);
	/* --log-format json: every line the server wrote is one JSON object */
	{
		int objects = 0, listening = 0;

		f = fopen(q->log, "r");
		assert_non_null(f);
		text = NULL;
		len = 0;
		while (getline(&text, &len, f) > 0) {
			json_t *line;

			if (text[0] != '{')
				continue; /* the users CLI's own output */
			line = json_loads(text, 0, NULL);
			assert_non_null(line);
			assert_true(json_is_string(json_object_get(line, "ts")));
			assert_true(json_is_string(json_object_get(line, "level")));
			if (strstr(json_string_value(json_object_get(line, "msg")), "listening on"))
				listening++;
			objects++;
			json_decref(line);
		}
		free(text);
		fclose(f);
		assert_true(objects >= 2);
		assert_int_equal(listening, 1);
	}
	csms_pass(q);
	csms_destroy(q);
}

/* Sessions are stored (hashed): a browser stays logged in across a restart of the node. */
static void test_session_survives_restart(void **state)
{
	struct csms_proc *p = *state;
	struct http_session s;
	json_t *j = NULL;

	assert_int_equal(http_login(p->port, HARNESS_ADMIN, p->admin_password, &s), 0);
	assert_int_equal(csms_restart(p), 0);
	s.port = p->port;
	assert_int_equal(http_session_request(&s, "GET", "/api/me", NULL, false, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "csrf")), s.csrf);
	json_decref(j);
	assert_int_equal(http_session_request(&s, "POST", "/api/logout", NULL, true, NULL), 204);
	assert_int_equal(http_session_request(&s, "GET", "/api/me", NULL, false, NULL), 401);
}

/* Type=notify: READY=1 once listening, STOPPING=1 on SIGTERM, on $NOTIFY_SOCKET. */
static int recv_notify(int fd, char *buf, size_t len)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, 10000) != 1)
		return -ETIMEDOUT;
	n = recv(fd, buf, len - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static void test_sd_notify(void **state)
{
	struct csms_proc *p = *state, *q;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[256];
	int fd;

	assert_true(strlen(p->dir) + 8 < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p->dir, strlen(p->dir));
	memcpy(sa.sun_path + strlen(p->dir), "/notify", 8);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	q = csms_start(NULL, NULL);
	unsetenv("NOTIFY_SOCKET");
	assert_non_null(q);
	assert_int_equal(recv_notify(fd, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "READY=1"));
	assert_int_equal(csms_stop(q), 0);
	assert_int_equal(recv_notify(fd, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "STOPPING=1"));
	close(fd);
	csms_pass(q);
	csms_destroy(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_cookie_me_logout),
	    cmocka_unit_test(test_cookie_writes_need_csrf_and_json),
	    cmocka_unit_test(test_origin_and_host_checked),
	    cmocka_unit_test(test_bearer_token_and_revocation),
	    cmocka_unit_test(test_viewer_cannot_command),
	    cmocka_unit_test(test_failed_logins_throttled),
	    cmocka_unit_test(test_audit_rows),
	    cmocka_unit_test(test_metrics_need_their_token),
	    cmocka_unit_test(test_loop_serves_during_logins),
	    cmocka_unit_test(test_users_cli_then_login),
	    cmocka_unit_test(test_backup_while_running),
	    cmocka_unit_test(test_api_listener_rules),
	    cmocka_unit_test(test_session_survives_restart),
	    cmocka_unit_test(test_sd_notify),
	};

	return cmocka_run_group_tests_name("10-accounts", tests, setup, csms_teardown_chargers);
}
