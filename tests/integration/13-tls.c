/* SPDX-License-Identifier: MIT */
/* 13: security profiles 2 and 3 on the charger listener (wss://, Basic auth inside TLS, mutual
 * TLS with CN = charger id), the weaker-profile refusals, and the KDF of a first login off the
 * event loop (docs/security.md). Certificates come from openssl(1) in the test's temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "harness.h"

/* ---- certificates: a CA, the server's (SAN localhost), clients of that CA and of another */

/* A P-256 key and a certificate for cn, signed by ca (ca.pem/ca.key in dir) or self-signed
 * when ca is NULL (then a CA). */
static void issue(const char *dir, const char *name, const char *cn, const char *ca,
		  const char *ext)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "openssl ecparam -name prime256v1 -genkey -noout -out %s.key && "
		 "openssl req -new -key %s.key -subj '/CN=%s' -out %s.csr",
		 name, name, cn, name);
	tc_sh(dir, cmd);
	if (!ca)
		snprintf(cmd, sizeof(cmd),
			 "openssl req -x509 -new -key %s.key -subj '/CN=%s' -days 2 -out %s.pem "
			 "-addext basicConstraints=critical,CA:TRUE "
			 "-addext keyUsage=critical,keyCertSign,cRLSign",
			 name, cn, name);
	else
		snprintf(cmd, sizeof(cmd),
			 "printf '%s\\n' >%s.ext && openssl x509 -req -in %s.csr -CA %s.pem "
			 "-CAkey %s.key -CAcreateserial -days 2 -out %s.pem -extfile %s.ext",
			 ext, name, name, ca, ca, name, name);
	tc_sh(dir, cmd);
}

static void make_certs(const char *dir)
{
	issue(dir, "ca", "IT Test CA", NULL, NULL);
	issue(dir, "rogue", "IT Rogue CA", NULL, NULL);
	issue(dir, "server", "localhost", "ca",
	      "subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth");
	issue(dir, "cp3", "CP-TLS-3", "ca", "extendedKeyUsage=clientAuth");
	issue(dir, "cp3p", "CP-TLS-3P", "ca", "extendedKeyUsage=clientAuth");
	issue(dir, "other", "CP-OTHER", "ca", "extendedKeyUsage=clientAuth");
	issue(dir, "forged", "CP-TLS-3", "rogue", "extendedKeyUsage=clientAuth");
}

/* ---- one charger on its own loop and cpclient context (a client certificate is per context
 * in lws 4.1) */

struct attempt {
	bool opened, answered, closed;
	struct cpclient_close_info end;
	int http_status, close_code;
};

static void on_open(struct cpclient_conn *c, const char *sub)
{
	static const char boot[] = "[2,\"b1\",\"BootNotification\",{\"chargePointVendor\":\"IT\","
				   "\"chargePointModel\":\"TLS\"}]";
	struct attempt *a = cpclient_user(c);

	(void)sub;
	a->opened = true;
	assert_int_equal(cpclient_send_text(c, boot, sizeof(boot) - 1), 0);
}

static void on_text(struct cpclient_conn *c, const char *buf, size_t len)
{
	struct attempt *a = cpclient_user(c);

	(void)len;
	if (strncmp(buf, "[3,\"b1\"", 7) == 0) {
		a->answered = true;
		cpclient_close(c, 1000);
	}
}

static void on_close(struct cpclient_conn *c, const struct cpclient_close_info *info)
{
	struct attempt *a = cpclient_user(c);

	a->closed = true;
	a->http_status = info->http_status;
	a->close_code = info->close_code;
	a->end = *info;
	a->end.detail = NULL;
}

static const struct cpclient_callbacks cbs = {on_open, on_text, on_close};

struct tls_opts {
	bool tls;
	const char *cert, *key; /* client certificate (profile 3), names in the test dir */
};

/* Connect as id (Basic auth with password unless NULL), send a BootNotification and wait for
 * its answer or the end; at most 10 s. */
static struct attempt try_login(const struct csms_proc *p, const char *id, const char *password,
				struct tls_opts t)
{
	char ca[400], cert[400], key[400], path[128];
	struct attempt a = {0};
	struct cpclient_ctx_opts co = {0};
	struct cpclient_opts o = {0};
	struct cpclient_conn *c = NULL;
	struct cpclient_ctx *ctx;
	uv_loop_t loop;
	long long until = mono_ms() + 10000;

	snprintf(ca, sizeof(ca), "%s/ca.pem", p->dir);
	snprintf(cert, sizeof(cert), "%s/%s", p->dir, t.cert ? t.cert : "");
	snprintf(key, sizeof(key), "%s/%s", p->dir, t.key ? t.key : "");
	snprintf(path, sizeof(path), "/ocpp/%s", id);
	assert_int_equal(uv_loop_init(&loop), 0);
	co.loop = &loop;
	co.cb = &cbs;
	co.tls = t.tls;
	co.ca_file = t.tls ? ca : NULL;
	co.cert_file = t.cert ? cert : NULL;
	co.key_file = t.key ? key : NULL;
	ctx = cpclient_ctx_create(&co);
	assert_non_null(ctx);
	o.host = "127.0.0.1";
	o.server_name = "localhost";
	o.port = p->port;
	o.path = path;
	o.subprotocols = "ocpp1.6";
	o.user = password ? id : NULL;
	o.password = password;
	o.ssl = t.tls;
	o.user_ptr = &a;
	if (cpclient_connect(ctx, &o, &c) < 0)
		a.closed = true;
	while (!a.closed && mono_ms() < until)
		uv_run(&loop, UV_RUN_ONCE);
	assert_true(a.closed);
	cpclient_ctx_destroy(ctx);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	return a;
}

static void assert_admitted(const struct csms_proc *p, const char *id, const char *password,
			    struct tls_opts t)
{
	struct attempt a = try_login(p, id, password, t);

	if (!a.answered)
		fail_msg("%s was not admitted (end %d, HTTP %d, close %d)", id, a.end.end,
			 a.http_status, a.close_code);
}

/* Refused at the upgrade (401), or, when the password needed a KDF, upgraded, held, and closed
 * with 1008 before any answer. */
static void assert_refused(const struct csms_proc *p, const char *id, const char *password,
			   struct tls_opts t)
{
	struct attempt a = try_login(p, id, password, t);

	if (a.answered)
		fail_msg("%s was let in", id);
	if (a.end.end == CPCLIENT_END_REFUSED && a.http_status == 401)
		return;
	if (a.end.end == CPCLIENT_END_PEER && a.close_code == 1008)
		return;
	fail_msg("%s: refused the wrong way (end %d, HTTP %d, close %d)", id, a.end.end,
		 a.http_status, a.close_code);
}

/* No TLS session at all (a certificate OpenSSL refused, or TLS where only plain is served). */
static void assert_no_session(const struct csms_proc *p, const char *id, const char *password,
			      struct tls_opts t)
{
	struct attempt a = try_login(p, id, password, t);

	assert_false(a.opened);
	assert_false(a.answered);
	assert_int_equal(a.end.end, CPCLIENT_END_ERROR);
}

static void write_config(struct csms_proc *p, bool allow_plain)
{
	FILE *f = fopen(p->config, "w");

	assert_non_null(f);
	fprintf(f,
		"{\"tls_cert\": \"%s/server.pem\", \"tls_key\": \"%s/server.key\", "
		"\"tls_client_ca\": \"%s/ca.pem\", \"tls_allow_plain\": %s, "
		"\"kdf_iterations\": 1000}\n",
		p->dir, p->dir, p->dir, allow_plain ? "true" : "false");
	fclose(f);
}

/* openssl s_client with the given protocol flags: its exit status (0: a TLS session). */
static int s_client(const struct csms_proc *p, const char *flags)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd),
		 "openssl s_client -connect 127.0.0.1:%d %s -CAfile '%s/ca.pem' </dev/null "
		 ">>'%s/openssl.log' 2>&1",
		 p->port, flags, p->dir, p->dir);
	return system(cmd);
}

static const struct tls_opts PLAIN = {false, NULL, NULL};
static const struct tls_opts WSS = {true, NULL, NULL};
static const struct tls_opts CERT3 = {true, "cp3.pem", "cp3.key"};
static const struct tls_opts CERT3P = {true, "cp3p.pem", "cp3p.key"};
static const struct tls_opts CERT_OTHER = {true, "other.pem", "other.key"};
static const struct tls_opts CERT_FORGED = {true, "forged.pem", "forged.key"};

/* The operator API on the TLS charger port (no api_listen) is HTTPS: its public URL is
 * https://, so a browser's https Origin passes the check, and the session cookie is Secure. */
static void assert_https_api(struct csms_proc *p)
{
	const char *add[] = {"users",		"add", "tls-admin", "--role", "admin",
			     "--password-file", NULL,  "--db",	    p->db,    NULL};
	char pw[320], cmd[1600], out[4096] = "";
	size_t n;
	FILE *f;

	snprintf(pw, sizeof(pw), "%s/tls-admin.pw", p->dir);
	f = fopen(pw, "w");
	assert_non_null(f);
	fputs("tls-admin-password-123\n", f);
	fclose(f);
	add[6] = pw;
	assert_int_equal(csms_cli(p, add), 0);
	snprintf(cmd, sizeof(cmd),
		 "curl -s -D - -o /dev/null --cacert '%s/ca.pem' --resolve localhost:%d:127.0.0.1 "
		 "-H 'Host: 127.0.0.1:%d' -H 'Origin: https://127.0.0.1:%d' "
		 "-H 'Content-Type: application/json' "
		 "-d '{\"username\": \"tls-admin\", \"password\": \"tls-admin-password-123\"}' "
		 "https://localhost:%d/api/login",
		 p->dir, p->port, p->port, p->port, p->port);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	assert_int_equal(pclose(f), 0);
	if (strncmp(out, "HTTP/", 5) != 0 || !strstr(out, " 200"))
		print_error("login over https answered:\n%s\n", out);
	assert_int_equal(strncmp(out, "HTTP/", 5), 0); /* HTTP/2 by ALPN, or 1.1 */
	assert_non_null(strstr(strchr(out, ' '), "200"));
	assert_non_null(strstr(out, "csms_session="));
	assert_non_null(strstr(out, "; Secure"));
}

static void test_profiles_2_and_3(void **state)
{
	struct csms_proc *p = csms_prepare("{}");

	assert_non_null(p);
	*state = p;
	p->no_admin = true;
	make_certs(p->dir);
	write_config(p, true);
	assert_int_equal(csms_import_text(p, "stations.csv",
					  "charger_id,site,site_kind,password,security_profile\n"
					  "CP-TLS-1,S-T,public,Secret-1-abcdefghij,1\n"
					  "CP-TLS-2,S-T,public,Secret-2-abcdefghij,2\n"
					  "CP-TLS-3,S-T,public,,3\n"
					  "CP-TLS-3P,S-T,public,Secret-3-abcdefghij,3\n"),
			 0);
	assert_int_equal(csms_launch(p, NULL), 0);

	/* profile 2: wss:// and the right password */
	assert_admitted(p, "CP-TLS-2", "Secret-2-abcdefghij", WSS);
	assert_refused(p, "CP-TLS-2", "Secret-2-wrong-abcdef", WSS);
	assert_refused(p, "CP-TLS-2", NULL, WSS);
	/* ... never on plain ws://, even with the right password (the same port serves both) */
	assert_refused(p, "CP-TLS-2", "Secret-2-abcdefghij", PLAIN);
	/* a profile-1 station may use plain ws:// or TLS */
	assert_admitted(p, "CP-TLS-1", "Secret-1-abcdefghij", PLAIN);
	assert_admitted(p, "CP-TLS-1", "Secret-1-abcdefghij", WSS);

	/* profile 3: a client certificate of the CA whose CN is the id, no password */
	assert_admitted(p, "CP-TLS-3", NULL, CERT3);
	assert_admitted(p, "CP-TLS-3", NULL, CERT3);	 /* again: nothing was pinned wrongly */
	assert_refused(p, "CP-TLS-3", NULL, CERT_OTHER); /* the CA's, but CN CP-OTHER */
	assert_refused(p, "CP-TLS-3", NULL, WSS);	 /* no certificate */
	assert_refused(p, "CP-TLS-3", "Secret-3-abcdefghij", WSS);
	assert_refused(p, "CP-TLS-3", NULL, PLAIN);
	/* a certificate with the right CN from another CA: no TLS session at all */
	assert_no_session(p, "CP-TLS-3", NULL, CERT_FORGED);
	/* a profile-3 station with a password: the password alone is not enough */
	assert_refused(p, "CP-TLS-3P", "Secret-3-abcdefghij", WSS);
	assert_refused(p, "CP-TLS-3P", "Secret-3-abcdefghij", PLAIN);
	assert_admitted(p, "CP-TLS-3P", NULL, CERT3P);

	/* TLS 1.2 at least */
	assert_int_equal(s_client(p, "-tls1_2"), 0);
	assert_int_not_equal(s_client(p, "-tls1_1 -cipher DEFAULT@SECLEVEL=0"), 0);

	/* without tls_allow_plain the port speaks TLS only */
	assert_int_equal(csms_stop(p), 0);
	write_config(p, false);
	assert_int_equal(csms_restart(p), 0);
	assert_no_session(p, "CP-TLS-1", "Secret-1-abcdefghij", PLAIN);
	assert_admitted(p, "CP-TLS-1", "Secret-1-abcdefghij", WSS);
	assert_https_api(p);
	csms_pass(p);
}

/* ---- the KDF of a first login runs off the event loop */

#define BAD_LOGINS 20

/* While 20 logins wait for their KDF (unknown ids: a dummy KDF of kdf_iterations, as costly
 * as a wrong password's), an established charger's Heartbeat is answered: the answer comes
 * before the last of them is decided. Each bad login was upgraded, held without an answer to
 * what it sent, then closed with 1008. */
static void test_kdf_off_the_loop(void **state)
{
	struct csms_proc *p = csms_prepare("{\"kdf_iterations\": 300000}");
	struct tcp *good, *bad[BAD_LOGINS];
	char msg_id[BAD_LOGINS][64], err[64];
	json_t *conf = NULL, *f = NULL;
	int open_at_answer = 0;

	assert_non_null(p);
	*state = p;
	p->no_admin = true;
	assert_int_equal(csms_import_text(p, "stations.csv",
					  "charger_id,site,site_kind,password\n"
					  "CP-KDF-GOOD,S-K,public,Good-pw-abcdefghij\n"),
			 0);
	assert_int_equal(csms_launch(p, NULL), 0);
	good = tc_connect(p->port, "CP-KDF-GOOD", "Good-pw-abcdefghij", "ocpp1.6", 30000, NULL);
	assert_non_null(good);
	assert_int_equal(tc_boot16(good, &conf, err), 0);
	json_decref(conf);

	for (int i = 0; i < BAD_LOGINS; i++) {
		char id[32], pw[32];

		snprintf(id, sizeof(id), "CP-KDF-BAD-%d", i);
		snprintf(pw, sizeof(pw), "Wrong-pw-%d-abcdefghij", i);
		bad[i] = tc_connect(p->port, id, pw, "ocpp1.6", 5000, NULL);
		assert_non_null(bad[i]); /* upgraded at once, held */
		assert_int_equal(tc_call_send(bad[i], "Heartbeat", json_object(), msg_id[i]), 0);
	}
	assert_int_equal(tc_call(good, "Heartbeat", json_object(), &conf, err, 30000), 0);
	json_decref(conf);
	for (int i = 0; i < BAD_LOGINS; i++)
		open_at_answer += !tc_closed(bad[i]);
	print_message("%d of %d held logins still waited for their KDF at the answer\n",
		      open_at_answer, BAD_LOGINS);
	assert_true(open_at_answer > 0);

	for (int i = 0; i < BAD_LOGINS; i++) {
		assert_int_equal(tc_wait_closed(bad[i], 150000), 0);
		assert_int_equal(tc_end(bad[i])->end, CPCLIENT_END_PEER);
		assert_int_equal(tc_end(bad[i])->close_code, 1008);
		assert_int_not_equal(tc_call_wait(bad[i], msg_id[i], &f, NULL, 0), 0);
		tc_close(bad[i]);
	}
	/* the good charger is still served, and its reconnect needs no KDF (remembered) */
	assert_int_equal(tc_call(good, "Heartbeat", json_object(), &conf, err, 5000), 0);
	json_decref(conf);
	tc_close(good);
	good = tc_connect(p->port, "CP-KDF-GOOD", "Good-pw-abcdefghij", "ocpp1.6", 5000, NULL);
	assert_non_null(good);
	assert_int_equal(tc_call(good, "Heartbeat", json_object(), &conf, err, 5000), 0);
	json_decref(conf);
	tc_close(good);
	csms_pass(p);
}

/* Under open registration, 60 new ids with passwords from one address (more than the 50 failed
 * logins an address may have) all get in: a deferred KDF counts as a failure only until it
 * succeeds. */
static void test_new_ids_not_backed_off(void **state)
{
	static const char *const args[] = {"--registration", "open", NULL};
	struct csms_proc *p = csms_start(args, "{\"kdf_iterations\": 1000}");
	json_t *conf = NULL;
	char err[64];

	assert_non_null(p);
	*state = p;
	for (int i = 0; i < 60; i++) {
		char id[32], pw[32];
		struct tcp *tc;

		snprintf(id, sizeof(id), "CP-NEW-%d", i);
		snprintf(pw, sizeof(pw), "New-pw-%d-abcdefghij", i);
		tc = tc_connect(p->port, id, pw, "ocpp1.6", 5000, NULL);
		assert_non_null(tc);
		if (tc_boot16(tc, &conf, err) != 0)
			fail_msg("%s (the %dth new id) was not admitted", id, i + 1);
		json_decref(conf);
		tc_close(tc);
	}
	csms_pass(p);
}

/* The start-up lines of a listener others reach: TLS only is announced as wss:// without the
 * clear-text warning; with tls_allow_plain the warning comes, once. */
static void test_start_notice_of_tls_listener(void **state)
{
	static const char *const public_listen[] = {"--listen", "0.0.0.0:0", "--api-listen",
						    "127.0.0.1:0", NULL};
	struct csms_proc *p = csms_prepare("{}");

	assert_non_null(p);
	*state = p;
	p->no_admin = true;
	issue(p->dir, "ca", "IT Test CA", NULL, NULL);
	issue(p->dir, "server", "localhost", "ca",
	      "subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth");
	write_config(p, false);
	assert_int_equal(csms_launch(p, public_listen), 0);
	assert_int_equal(csms_stop(p), 0);
	assert_int_equal(csms_log_count(p, "(chargers: wss://0.0.0.0:"), 1);
	assert_int_equal(csms_log_count(p, "clear text"), 0);
	write_config(p, true);
	assert_int_equal(csms_restart(p), 0);
	assert_int_equal(csms_stop(p), 0);
	assert_int_equal(csms_log_count(p, "/ocpp/<id> and ws://"), 1);
	assert_int_equal(csms_log_count(p, "clear text"), 1);
	csms_pass(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_profiles_2_and_3, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_kdf_off_the_loop, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_new_ids_not_backed_off, csms_teardown_chargers),
	    cmocka_unit_test_teardown(test_start_notice_of_tls_listener, csms_teardown_chargers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
