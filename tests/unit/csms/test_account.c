/* SPDX-License-Identifier: MIT */
/* Unit tests of operator accounts: the scrypt encoding, secret hashing, the Origin/Host, content
 * type, CSRF and role decisions, the failed-login throttle, sessions and API tokens. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "core/pwhash.h"
#include "store/store.h"
#include "svc/account.h"

#define T0 1795000000000LL /* 2026-11-19, ms */

/* ------------------------------------------------------------------ KDF and hashes */

static void test_scrypt_encode_verify(void **state)
{
	char h[PWHASH_MAX], h2[PWHASH_MAX], bad[PWHASH_MAX];

	(void)state;
	/* a small cost for the test; the encoding records it */
	assert_int_equal(pwhash_scrypt_create("correct horse battery", 10, 8, 1, h, sizeof(h)), 0);
	assert_int_equal(strncmp(h, "scrypt$10$8$1$", 14), 0);
	assert_int_equal(strlen(h), 14 + 32 + 1 + 64);
	assert_true(pwhash_verify("correct horse battery", h));
	assert_false(pwhash_verify("correct horse batterY", h));
	assert_false(pwhash_verify("", h));
	/* a fresh salt each time */
	assert_int_equal(pwhash_scrypt_create("correct horse battery", 10, 8, 1, h2, sizeof(h2)),
			 0);
	assert_string_not_equal(h, h2);
	/* tampered parameters, hash or framing do not verify */
	snprintf(bad, sizeof(bad), "scrypt$11%s", h + 9);
	assert_false(pwhash_verify("correct horse battery", bad));
	snprintf(bad, sizeof(bad), "%s", h);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	assert_false(pwhash_verify("correct horse battery", bad));
	assert_false(pwhash_verify("correct horse battery", "scrypt$10$8$1$zz"));
	assert_false(pwhash_verify("correct horse battery",
				   "scrypt$40$8$1$" /* N too big */
				   "00000000000000000000000000000000$"
				   "0000000000000000000000000000000000000000000000000000"
				   "000000000000"));
	/* parameters out of range and a too small buffer */
	assert_int_equal(pwhash_scrypt_create("x", 9, 8, 1, h, sizeof(h)), -EINVAL);
	assert_int_equal(pwhash_scrypt_create("x", 10, 8, 1, h, 20), -EINVAL);
}

static void test_scrypt_default_cost_and_pbkdf2_still_verify(void **state)
{
	char h[PWHASH_MAX];

	(void)state;
	assert_int_equal(pwhash_scrypt_create("operator pass phrase", PWHASH_SCRYPT_LOG2N,
					      PWHASH_SCRYPT_R, PWHASH_SCRYPT_P, h, sizeof(h)),
			 0);
	assert_int_equal(strncmp(h, "scrypt$15$8$3$", 14), 0);
	assert_true(pwhash_verify("operator pass phrase", h));
	/* charger passwords keep their PBKDF2 encoding */
	assert_int_equal(pwhash_create("charger-password-16", 1000, h, sizeof(h)), 0);
	assert_true(pwhash_verify("charger-password-16", h));
	assert_false(pwhash_verify("charger-password-17", h));
}

static void test_secret_hashing(void **state)
{
	char hex[PWHASH_SHA256_HEX], r1[65], r2[65];

	(void)state;
	/* FIPS 180-2 test vector */
	pwhash_sha256_hex("abc", hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(pwhash_random_hex(32, r1), 0);
	assert_int_equal(pwhash_random_hex(32, r2), 0);
	assert_int_equal(strlen(r1), 64);
	assert_string_not_equal(r1, r2);
	assert_true(pwhash_equal("abc", "abc"));
	assert_false(pwhash_equal("abc", "abd"));
	assert_false(pwhash_equal("abc", "abcd"));
}

/* ------------------------------------------------------------------ the gate's decisions */

static void test_origin_host_decision(void **state)
{
	const char *pub = "http://127.0.0.1:8180";

	(void)state;
	/* Host must name this server; the loopback names stand for each other */
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1:8180", ""), 0);
	assert_int_equal(api_auth_origin_check(pub, "localhost:8180", ""), 0);
	assert_int_equal(api_auth_origin_check(pub, "[::1]:8180", ""), 0);
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1:8181", ""), -EPERM);
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1", ""), -EPERM); /* port 80 */
	assert_int_equal(api_auth_origin_check(pub, "evil.example:8180", ""), -EPERM);
	assert_int_equal(api_auth_origin_check(pub, "", ""), -EPERM);
	/* Origin, when present, too: scheme, host and port */
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1:8180", "http://localhost:8180"), 0);
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1:8180", "https://evil.example"),
			 -EPERM);
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1:8180", "https://127.0.0.1:8180"),
			 -EPERM);
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1:8180", "http://127.0.0.1:9999"),
			 -EPERM);
	assert_int_equal(api_auth_origin_check(pub, "127.0.0.1:8180", "null"), -EPERM);
	/* a configured name with the scheme's default port */
	pub = "https://csms.example.cn";
	assert_int_equal(api_auth_origin_check(pub, "csms.example.cn", "https://csms.example.cn"),
			 0);
	assert_int_equal(api_auth_origin_check(pub, "CSMS.example.cn:443", ""), 0);
	assert_int_equal(
	    api_auth_origin_check(pub, "csms.example.cn", "https://csms.example.cn.evil.example"),
	    -EPERM);
	/* a wildcard listener: any host name on the port, but one origin for page and API */
	pub = "http://*:8180";
	assert_int_equal(api_auth_origin_check(pub, "10.1.2.3:8180", "http://10.1.2.3:8180"), 0);
	assert_int_equal(api_auth_origin_check(pub, "10.1.2.3:8180", "http://evil.example:8180"),
			 -EPERM);
	assert_int_equal(api_auth_origin_check(pub, "10.1.2.3:9000", ""), -EPERM);
	assert_int_equal(api_auth_origin_check("not a url", "x:1", ""), -EPERM);
}

static void test_write_check(void **state)
{
	(void)state;
	assert_int_equal(api_auth_write_check("application/json", false, NULL, NULL), 0);
	assert_int_equal(api_auth_write_check("application/json; charset=utf-8", false, NULL, NULL),
			 0);
	assert_int_equal(api_auth_write_check("Application/JSON", false, NULL, NULL), 0);
	assert_int_equal(api_auth_write_check("text/plain", false, NULL, NULL), -EPROTO);
	assert_int_equal(
	    api_auth_write_check("application/x-www-form-urlencoded", false, NULL, NULL), -EPROTO);
	assert_int_equal(api_auth_write_check("multipart/form-data", false, NULL, NULL), -EPROTO);
	assert_int_equal(api_auth_write_check("application/jsonx", false, NULL, NULL), -EPROTO);
	assert_int_equal(api_auth_write_check("", false, NULL, NULL), -EPROTO);
	/* cookie sessions need the session's CSRF token; bearer tokens do not */
	assert_int_equal(api_auth_write_check("application/json", true, "abc", "abc"), 0);
	assert_int_equal(api_auth_write_check("application/json", true, "abd", "abc"), -EPERM);
	assert_int_equal(api_auth_write_check("application/json", true, "", "abc"), -EPERM);
	assert_int_equal(api_auth_write_check("application/json", true, NULL, "abc"), -EPERM);
	assert_int_equal(api_auth_write_check("application/json", true, "", ""), -EPERM);
}

static void test_required_roles(void **state)
{
	(void)state;
	assert_int_equal(api_auth_required_role(API_GET, "/api/health"), API_ROLE_PUBLIC);
	assert_int_equal(api_auth_required_role(API_POST, "/api/login"), API_ROLE_PUBLIC);
	assert_int_equal(api_auth_required_role(API_POST, "/api/logout"), API_ROLE_SIGNED_IN);
	assert_int_equal(api_auth_required_role(API_GET, "/api/stations"), ACCOUNT_ROLE_VIEWER);
	assert_int_equal(api_auth_required_role(API_POST, "/api/stations/X/reset"),
			 ACCOUNT_ROLE_OPERATOR);
	assert_int_equal(api_auth_required_role(API_GET, "/api/accounts"), ACCOUNT_ROLE_ADMIN);
	assert_int_equal(api_auth_required_role(API_DELETE, "/api/tokens/3"), ACCOUNT_ROLE_ADMIN);
	assert_int_equal(api_auth_required_role(API_GET, "/api/audit"), ACCOUNT_ROLE_ADMIN);
	assert_int_equal(api_auth_required_role(API_GET, "/api/sites"), ACCOUNT_ROLE_VIEWER);
	assert_int_equal(api_auth_required_role(API_PUT, "/api/sites/S1"), ACCOUNT_ROLE_ADMIN);
	assert_int_equal(api_auth_required_role(API_POST, "/api/tariffs"), ACCOUNT_ROLE_ADMIN);
	/* prefixes match whole segments only */
	assert_int_equal(api_auth_required_role(API_GET, "/api/healthz"), ACCOUNT_ROLE_VIEWER);
	assert_int_equal(api_auth_required_role(API_POST, "/api/loginx"), ACCOUNT_ROLE_OPERATOR);
	assert_int_equal(api_auth_required_role(API_GET, "/api/auditlog"), ACCOUNT_ROLE_VIEWER);
}

static void test_names_roles_passwords(void **state)
{
	(void)state;
	assert_int_equal(account_role_from_string("admin"), ACCOUNT_ROLE_ADMIN);
	assert_int_equal(account_role_from_string("Admin"), -EINVAL);
	assert_int_equal(account_role_from_string(NULL), -EINVAL);
	assert_string_equal(account_role_to_string(ACCOUNT_ROLE_VIEWER), "viewer");
	assert_null(account_role_to_string(7));
	assert_true(ACCOUNT_ROLE_VIEWER < ACCOUNT_ROLE_OPERATOR &&
		    ACCOUNT_ROLE_OPERATOR < ACCOUNT_ROLE_ADMIN);
	assert_true(account_name_valid("li.wei@qd-ops_1"));
	assert_false(account_name_valid(""));
	assert_false(account_name_valid("a b"));
	assert_false(account_name_valid("a/b"));
	assert_true(account_password_acceptable("twelve chars"));
	assert_false(account_password_acceptable("eleven char"));
	assert_false(account_password_acceptable("twelve\nchars!"));
}

/* ------------------------------------------------------------------ throttle */

static void test_throttle_per_account_and_address(void **state)
{
	struct account_throttle t;
	int retry = 0;

	(void)state;
	/* 3 per account, refilling 1/10 s; 5 per address, 1/2 s */
	account_throttle_init(&t, 3, 10000, 5, 2000, 100);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(account_throttle_check(&t, "ann", "10.0.0.1", T0, &retry), 0);
		account_throttle_fail(&t, "ann", "10.0.0.1", T0);
	}
	assert_int_equal(account_throttle_check(&t, "ann", "10.0.0.1", T0, &retry), -EAGAIN);
	assert_int_equal(retry, 10);
	/* from another address too: the account's bucket is empty */
	assert_int_equal(account_throttle_check(&t, "ann", "10.0.0.2", T0, &retry), -EAGAIN);
	/* another account from the first address is still allowed (2 of 5 left) */
	assert_int_equal(account_throttle_check(&t, "bob", "10.0.0.1", T0, &retry), 0);
	account_throttle_fail(&t, "bob", "10.0.0.1", T0);
	account_throttle_fail(&t, "cy", "10.0.0.1", T0);
	/* now the address is empty for everyone */
	assert_int_equal(account_throttle_check(&t, "dee", "10.0.0.1", T0, &retry), -EAGAIN);
	assert_int_equal(retry, 2);
	assert_int_equal(account_throttle_check(&t, "dee", "10.0.0.1", T0 + 2000, &retry), 0);
	/* one more try for ann after one refill, none before */
	assert_int_equal(account_throttle_check(&t, "ann", "10.0.0.9", T0 + 9999, &retry), -EAGAIN);
	assert_int_equal(retry, 1);
	assert_int_equal(account_throttle_check(&t, "ann", "10.0.0.9", T0 + 10000, &retry), 0);
	account_throttle_fail(&t, "ann", "10.0.0.9", T0 + 10000);
	assert_int_equal(account_throttle_check(&t, "ann", "10.0.0.9", T0 + 10000, &retry),
			 -EAGAIN);
	/* after the full refill ann has her whole burst again */
	assert_int_equal(account_throttle_check(&t, "ann", "10.0.0.9", T0 + 40000, &retry), 0);
	account_throttle_free(&t);
}

static void test_throttle_table_is_bounded(void **state)
{
	struct account_throttle t;
	char name[16], addr[16];
	int retry;

	(void)state;
	account_throttle_init(&t, 5, 1000, 5, 1000, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		snprintf(addr, sizeof(addr), "10.0.0.%d", i);
		account_throttle_fail(&t, name, addr, T0);
	}
	/* full, nothing refilled: a newcomer waits rather than evicting a live bucket */
	assert_int_equal(account_throttle_check(&t, "new", "10.0.0.1", T0, &retry), -EAGAIN);
	assert_int_equal(account_throttle_check(&t, "u1", "10.0.0.1", T0, &retry), 0);
	/* once the old buckets refilled they are dropped for the newcomer */
	account_throttle_fail(&t, "new", "10.0.0.9", T0 + 5000);
	assert_true(t.names.count <= 4);
	assert_int_equal(account_throttle_check(&t, "new", "10.0.0.9", T0 + 5000, &retry), 0);
	account_throttle_free(&t);
}

/* ------------------------------------------------------------------ sessions and tokens */

static int store_setup(void **state)
{
	char err[256];
	struct store *s = store_open(":memory:", false, err, sizeof(err));
	struct store_account a = {
	    .role = "operator", .pw_hash = "x", .created_ms = T0, .updated_ms = T0};

	if (!s)
		return -1;
	snprintf(a.name, sizeof(a.name), "olga");
	if (store_account_create(s, &a) < 0 || store_commit(s) < 0)
		return -1;
	*state = s;
	return 0;
}

static int store_teardown(void **state)
{
	store_close(*state);
	return 0;
}

static void test_sessions(void **state)
{
	struct store *s = *state;
	struct account_principal p;
	struct store_account a;
	char cookie[ACCOUNT_SECRET_MAX], csrf[ACCOUNT_SECRET_MAX], cookie2[ACCOUNT_SECRET_MAX];
	const int64_t idle = 1800000, life = 43200000;

	assert_int_equal(account_session_start(s, "olga", T0, life, cookie, csrf), 0);
	assert_int_equal(strlen(cookie), 64);
	assert_int_equal(account_session_lookup(s, cookie, T0 + 1000, idle, &p), 0);
	assert_string_equal(p.who, "olga");
	assert_int_equal(p.role, ACCOUNT_ROLE_OPERATOR);
	assert_true(p.cookie);
	assert_string_equal(p.csrf, csrf);
	assert_int_equal(account_session_lookup(s, "0000", T0, idle, &p), -ENOENT);
	/* activity keeps it alive past one idle period, ... */
	assert_int_equal(account_session_lookup(s, cookie, T0 + idle - 1, idle, &p), 0);
	assert_int_equal(account_session_lookup(s, cookie, T0 + 2 * idle - 2, idle, &p), 0);
	/* ... idleness ends it (and deletes it) */
	assert_int_equal(account_session_lookup(s, cookie, T0 + 4 * idle, idle, &p), -ETIMEDOUT);
	assert_int_equal(account_session_lookup(s, cookie, T0 + 1000, idle, &p), -ENOENT);
	/* the absolute lifetime ends it whatever the activity */
	assert_int_equal(account_session_start(s, "olga", T0, 3 * 60000, cookie2, csrf), 0);
	assert_int_equal(account_session_lookup(s, cookie2, T0 + 60000, idle, &p), 0);
	assert_int_equal(account_session_lookup(s, cookie2, T0 + 120000, idle, &p), 0);
	assert_int_equal(account_session_lookup(s, cookie2, T0 + 180000, idle, &p), -ETIMEDOUT);
	/* a disabled account's session is refused; the role is read live */
	assert_int_equal(account_session_start(s, "olga", T0, life, cookie, csrf), 0);
	assert_int_equal(store_account_get(s, "olga", &a), 0);
	snprintf(a.role, sizeof(a.role), "viewer");
	assert_int_equal(store_account_update(s, &a), 0);
	assert_int_equal(account_session_lookup(s, cookie, T0, idle, &p), 0);
	assert_int_equal(p.role, ACCOUNT_ROLE_VIEWER);
	a.disabled = true;
	assert_int_equal(store_account_update(s, &a), 0);
	assert_int_equal(account_session_lookup(s, cookie, T0, idle, &p), -EACCES);
	a.disabled = false;
	assert_int_equal(store_account_update(s, &a), 0);
	/* logout */
	assert_int_equal(account_session_end(s, cookie), 0);
	assert_int_equal(account_session_lookup(s, cookie, T0, idle, &p), -ENOENT);
	/* deleting the account ends its sessions */
	assert_int_equal(account_session_start(s, "olga", T0, life, cookie, csrf), 0);
	assert_int_equal(store_account_delete(s, "olga"), 0);
	assert_int_equal(account_session_lookup(s, cookie, T0, idle, &p), -ENOENT);
	assert_int_equal(store_account_delete(s, "olga"), -ENOENT);
}

static int count_tokens(const struct store_api_token *t, void *ud)
{
	(void)t;
	++*(int *)ud;
	return 0;
}

static void test_api_tokens(void **state)
{
	struct store *s = *state;
	struct account_principal p;
	char tok[ACCOUNT_SECRET_MAX], hash[PWHASH_SHA256_HEX];
	struct store_api_token row;
	int64_t id;
	int n = 0;

	assert_int_equal(account_token_create(s, "ci", ACCOUNT_ROLE_OPERATOR, "olga", T0, tok, &id),
			 0);
	assert_int_equal(strncmp(tok, "csms_", 5), 0);
	assert_int_equal(strlen(tok), 5 + 64);
	assert_int_equal(account_token_lookup(s, tok, T0, &p), 0);
	assert_string_equal(p.who, "token:ci");
	assert_int_equal(p.role, ACCOUNT_ROLE_OPERATOR);
	assert_false(p.cookie);
	/* only the hash is stored */
	pwhash_sha256_hex(tok, hash);
	assert_int_equal(store_api_token_get(s, hash, &row), 0);
	assert_int_equal(row.id, id);
	assert_int_equal(store_api_token_get(s, tok, &row), -ENOENT);
	assert_int_equal(account_token_lookup(s, "csms_00", T0, &p), -ENOENT);
	assert_int_equal(store_api_tokens_list(s, count_tokens, &n), 0);
	assert_int_equal(n, 1);
	/* revoked: refused; revoking twice is -ENOENT */
	assert_int_equal(store_api_token_revoke(s, id, T0 + 1), 0);
	assert_int_equal(account_token_lookup(s, tok, T0 + 2, &p), -ENOENT);
	assert_int_equal(store_api_token_revoke(s, id, T0 + 3), -ENOENT);
	assert_int_equal(
	    account_token_create(s, "bad name", ACCOUNT_ROLE_VIEWER, "x", T0, tok, &id), -EINVAL);
}

static int count_audit(const struct store_audit *a, void *ud)
{
	int *n = ud;

	if (*n == 0) {
		assert_string_equal(a->who, "olga");
		assert_string_equal(a->path, "/api/b");
		assert_int_equal(a->status, 403);
	}
	++*n;
	return 0;
}

static void test_audit_and_last_admin(void **state)
{
	struct store *s = *state;
	struct store_audit a1 = {.ts_ms = T0,
				 .who = "olga",
				 .method = "POST",
				 .path = "/api/a",
				 .peer = "127.0.0.1",
				 .status = 200};
	struct store_audit a2 = a1;
	struct store_account adm = {.role = "admin", .pw_hash = "x"};
	int n = 0;

	a2.path = "/api/b";
	a2.status = 403;
	assert_int_equal(store_audit_add(s, &a1), 0);
	assert_int_equal(store_audit_add(s, &a2), 0);
	assert_int_equal(store_audit_list(s, 10, 0, count_audit, &n), 0);
	assert_int_equal(n, 2); /* newest first */
	assert_int_equal(account_admins_other_than(s, NULL), 0);
	snprintf(adm.name, sizeof(adm.name), "root");
	assert_int_equal(store_account_create(s, &adm), 0);
	assert_int_equal(store_account_create(s, &adm), -EEXIST);
	assert_int_equal(account_admins_other_than(s, NULL), 1);
	assert_int_equal(account_admins_other_than(s, "root"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scrypt_encode_verify),
	    cmocka_unit_test(test_scrypt_default_cost_and_pbkdf2_still_verify),
	    cmocka_unit_test(test_secret_hashing),
	    cmocka_unit_test(test_origin_host_decision),
	    cmocka_unit_test(test_write_check),
	    cmocka_unit_test(test_required_roles),
	    cmocka_unit_test(test_names_roles_passwords),
	    cmocka_unit_test(test_throttle_per_account_and_address),
	    cmocka_unit_test(test_throttle_table_is_bounded),
	    cmocka_unit_test_setup_teardown(test_sessions, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(test_api_tokens, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(test_audit_and_last_admin, store_setup, store_teardown),
	};

	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
