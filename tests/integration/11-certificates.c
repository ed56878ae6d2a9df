/* SPDX-License-Identifier: MIT */
/* 11: the operator's CA with the real server: SignCertificate -> Accepted -> CertificateSigned
 * with a chain to the CA (1.6 security extension and 2.0.1), refused CSRs as security events,
 * renewal before expiry, certificate commands, and password rotation with a reconnect. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ca.h"
#include "harness.h"
#include "v201/common201.h"

static const char *const open_args[] = {"--registration", "open", NULL};
/* OCPP 2.0.1 never gets profile 0: its first password is bound to the station */
#define PW201 "lab-password-201-0001"

struct fx {
	struct csms_proc *p;
	char ca_dir[320];
};

/* A server with a CA made by `csms ca init`, and extra config members (JSON, may be ""). */
static struct fx *start_with_ca(const char *extra)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *init[] = {"ca", "init", "--dir", f->ca_dir, NULL};
	char cfg[1024];
	FILE *out;

	assert_non_null(f);
	f->p = csms_prepare("{}");
	assert_non_null(f->p);
	snprintf(f->ca_dir, sizeof(f->ca_dir), "%s/ca", f->p->dir);
	assert_int_equal(csms_cli(f->p, init), 0);
	/* a second init never overwrites the key */
	assert_int_equal(csms_cli(f->p, init), 1);
	snprintf(cfg, sizeof(cfg), "{\"ca_dir\": \"%s\"%s%s}", f->ca_dir, *extra ? ", " : "",
		 extra);
	out = fopen(f->p->config, "w");
	assert_non_null(out);
	fputs(cfg, out);
	fclose(out);
	assert_int_equal(csms_launch(f->p, open_args), 0);
	return f;
}

static int setup(void **state)
{
	*state = start_with_ca("");
	return 0;
}

static int setup_renewal(void **state)
{
	/* certificates of 10 days, renewed 30 days ahead: due as soon as they are issued */
	*state =
	    start_with_ca("\"cert_days\": 10, \"cert_renew_days\": 30, \"cert_check_ms\": 200");
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int r = tc_shutdown();

	csms_destroy(f->p);
	free(f);
	assert_int_equal(r, 0);
	return 0;
}

static struct tcp *booted16(struct csms_proc *p, const char *id, const char *password)
{
	struct tcp *tc = tc_connect(p->port, id, password, "ocpp1.6", 5000, NULL);
	json_t *conf = NULL;
	char err[64];

	assert_non_null(tc);
	assert_int_equal(tc_boot16(tc, &conf, err), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	json_decref(conf);
	return tc;
}

static struct tcp *booted201(struct csms_proc *p, const char *id)
{
	struct tcp *tc = tc_connect(p->port, id, PW201, "ocpp2.0.1", 5000, NULL);
	json_t *conf = NULL;
	char err[64];

	assert_non_null(tc);
	assert_int_equal(tc_boot201(tc, &conf, err), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Accepted");
	json_decref(conf);
	return tc;
}

/* Send SignCertificate with a CSR for cn; expect the answer status. */
static void sign_request(struct tcp *tc, const char *cn, const char *expect)
{
	json_t *conf = NULL;
	char *csr, err[64];

	assert_int_equal(ca_make_csr(cn, "IT Operator", &csr, NULL), 0);
	assert_int_equal(
	    tc_call(tc, "SignCertificate", json_pack("{s:s}", "csr", csr), &conf, err, 5000), 0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), expect);
	json_decref(conf);
	free(csr);
}

/* The next CSMS call must be action; returns its frame (new reference). */
static json_t *expect_call(struct tcp *tc, const char *action)
{
	json_t *fr = NULL;

	assert_int_equal(tc_next_call(tc, 5000, &fr), 0);
	assert_string_equal(json_string_value(json_array_get(fr, 2)), action);
	return fr;
}

/* CertificateSigned arrives with a chain whose first certificate the CA issued to id. */
static void expect_signed(struct fx *f, struct tcp *tc, const char *id, char serial[48])
{
	json_t *fr = expect_call(tc, "CertificateSigned");
	const char *chain =
	    json_string_value(json_object_get(json_array_get(fr, 3), "certificateChain"));
	struct ca_cert_info info;
	char err[256];
	struct ca *ca = ca_open(f->ca_dir, err, sizeof(err));

	assert_non_null(ca);
	assert_non_null(chain);
	assert_int_equal(ca_verify_cert(ca, chain, (int64_t)time(NULL) * 1000), 0);
	assert_int_equal(ca_cert_parse(chain, &info), 0);
	assert_string_equal(info.cn, id);
	assert_non_null(strstr(chain, ca_cert_pem(ca))); /* the CA certificate follows */
	memcpy(serial, info.serial, 48);
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(fr, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	ca_free(ca);
	json_decref(fr);
}

static void test_sign_certificate_16(void **state)
{
	struct fx *f = *state;
	struct tcp *tc = booted16(f->p, "CP-CERT-1", NULL);
	json_t *j, *fr = NULL;
	char serial[48], path[128];

	sign_request(tc, "CP-CERT-1", "Accepted");
	expect_signed(f, tc, "CP-CERT-1", serial);
	tc_run(200); /* the command log row and the certificate row are committed */
	j = http_get_json(f->p->port, "/api/stations/CP-CERT-1/certificates");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "certificates")), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "certificates"), 0), "serial")),
			    serial);
	json_decref(j);

	/* a CSR for another id: answered Accepted, never signed, a security event */
	sign_request(tc, "CP-SOMEONE-ELSE", "Accepted");
	assert_int_equal(tc_next_call(tc, 1000, &fr), -ETIMEDOUT);
	snprintf(path, sizeof(path), "/api/stations/%s/security-events", "CP-CERT-1");
	j = http_get_json(f->p->port, path);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "events"), 0), "type")),
			    "InvalidCsr");
	json_decref(j);
	/* still one certificate */
	j = http_get_json(f->p->port, "/api/stations/CP-CERT-1/certificates");
	assert_int_equal(json_array_size(json_object_get(j, "certificates")), 1);
	json_decref(j);

	/* the station's own security event (1.6 security extension) is stored and listed */
	{
		char now[32], err[64];
		json_t *conf = NULL;

		rfc3339_now(now);
		assert_int_equal(tc_call(tc, "SecurityEventNotification",
					 json_pack("{s:s, s:s, s:s}", "type", "FirmwareUpdated",
						   "timestamp", now, "techInfo", "1.0.1"),
					 &conf, err, 5000),
				 0);
		json_decref(conf);
	}
	j = http_get_json(f->p->port, path);
	assert_int_equal(json_array_size(json_object_get(j, "events")), 2);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "events"), 0), "type")),
			    "FirmwareUpdated");
	json_decref(j);

	/* certificate commands of the 1.6 security extension go through the command route */
	{
		struct http_async *a = http_request_start(
		    f->p->port, "POST", "/api/stations/CP-CERT-1/commands/InstallCertificate",
		    "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":"
		    "\"-----BEGIN CERTIFICATE-----\"}",
		    10000);
		int status = 0;

		fr = expect_call(tc, "InstallCertificate");
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(fr, 3), "certificateType")),
		    "CentralSystemRootCertificate");
		assert_int_equal(tc_reply(tc, json_string_value(json_array_get(fr, 1)),
					  json_pack("{s:s}", "status", "Accepted")),
				 0);
		json_decref(fr);
		j = NULL;
		assert_int_equal(http_request_join(a, &status, &j), 0);
		assert_int_equal(status, 200);
		assert_string_equal(json_string_value(json_object_get(j, "status")), "Accepted");
		json_decref(j);
	}
	assert_int_equal(tc_junk(tc), 0);
	tc_close(tc);
	assert_int_equal(csms_stop(f->p), 0);
	csms_pass(f->p);
}

static void test_sign_certificate_201(void **state)
{
	struct fx *f = *state;
	struct tcp *tc = booted201(f->p, "CP-CERT-2");
	json_t *conf = NULL;
	char serial[48], *csr, err[64];

	sign_request(tc, "CP-CERT-2", "Accepted");
	expect_signed(f, tc, "CP-CERT-2", serial);
	/* V2G certificates are not this CA's */
	assert_int_equal(ca_make_csr("CP-CERT-2", NULL, &csr, NULL), 0);
	assert_int_equal(
	    tc_call(tc, "SignCertificate",
		    json_pack("{s:s, s:s}", "csr", csr, "certificateType", "V2GCertificate"), &conf,
		    err, 5000),
	    0);
	assert_string_equal(json_string_value(json_object_get(conf, "status")), "Rejected");
	json_decref(conf);
	free(csr);
	tc_close(tc);
	assert_int_equal(csms_stop(f->p), 0);
	csms_pass(f->p);
}

static void test_renewal_before_expiry(void **state)
{
	struct fx *f = *state;
	struct tcp *tc = booted16(f->p, "CP-CERT-3", NULL);
	json_t *fr = NULL, *j;
	char serial[48];

	sign_request(tc, "CP-CERT-3", "Accepted");
	expect_signed(f, tc, "CP-CERT-3", serial);
	/* 10 days left, renewal 30 days ahead: asked at the next check */
	fr = expect_call(tc, "ExtendedTriggerMessage");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(fr, 3), "requestedMessage")),
	    "SignChargePointCertificate");
	assert_int_equal(tc_reply(tc, json_string_value(json_array_get(fr, 1)),
				  json_pack("{s:s}", "status", "Accepted")),
			 0);
	json_decref(fr);
	/* once a day, not at every check */
	fr = NULL;
	assert_int_equal(tc_next_call(tc, 1000, &fr), -ETIMEDOUT);
	tc_run(200);
	j = http_get_json(f->p->port, "/api/stations/CP-CERT-3/certificates");
	assert_non_null(j);
	assert_true(json_is_string(json_object_get(
	    json_array_get(json_object_get(j, "certificates"), 0), "renewal_requested")));
	json_decref(j);
	/* the station renews: a new certificate, and it is asked again only when that one is due */
	sign_request(tc, "CP-CERT-3", "Accepted");
	expect_signed(f, tc, "CP-CERT-3", serial);
	fr = expect_call(tc, "ExtendedTriggerMessage");
	json_decref(fr);
	tc_close(tc);
	assert_int_equal(csms_stop(f->p), 0);
	csms_pass(f->p);
}

static void test_no_ca_rejects(void **state)
{
	struct csms_proc *p = csms_start(open_args, NULL);
	struct tcp *tc;
	json_t *fr = NULL;

	(void)state;
	assert_non_null(p);
	tc = booted16(p, "CP-CERT-4", NULL);
	sign_request(tc, "CP-CERT-4", "Rejected");
	assert_int_equal(tc_next_call(tc, 500, &fr), -ETIMEDOUT);
	tc_close(tc);
	assert_int_equal(tc_shutdown(), 0);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
	csms_destroy(p);
}

/* POST rotate-password while the charger answers the password call with status; returns the
 * password it was given (static buffer) and the HTTP status. */
static const char *rotate(struct csms_proc *p, struct tcp *tc, bool v201, const char *status,
			  int *ret_http)
{
	static char pw[64];
	char path[128];
	struct http_async *a;
	json_t *fr, *body, *j = NULL;

	snprintf(path, sizeof(path), "/api/stations/%s/rotate-password", tc_id(tc));
	a = http_request_start(p->port, "POST", path, NULL, 10000);
	assert_non_null(a);
	fr = expect_call(tc, v201 ? "SetVariables" : "ChangeConfiguration");
	body = json_array_get(fr, 3);
	if (v201) {
		json_t *d = json_array_get(json_object_get(body, "setVariableData"), 0);

		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(d, "variable"), "name")),
		    "BasicAuthPassword");
		snprintf(pw, sizeof(pw), "%s",
			 json_string_value(json_object_get(d, "attributeValue")));
		assert_int_equal(
		    tc_reply(tc, json_string_value(json_array_get(fr, 1)),
			     json_pack("{s:[{s:s, s:{s:s}, s:{s:s}}]}", "setVariableResult",
				       "attributeStatus", status, "component", "name",
				       "SecurityCtrlr", "variable", "name", "BasicAuthPassword")),
		    0);
	} else {
		assert_string_equal(json_string_value(json_object_get(body, "key")),
				    "AuthorizationKey");
		snprintf(pw, sizeof(pw), "%s", json_string_value(json_object_get(body, "value")));
		assert_int_equal(tc_reply(tc, json_string_value(json_array_get(fr, 1)),
					  json_pack("{s:s}", "status", status)),
				 0);
	}
	json_decref(fr);
	assert_int_equal(strlen(pw), 40);
	assert_int_equal(http_request_join(a, ret_http, &j), 0);
	if (*ret_http == 200)
		assert_true(json_is_true(json_object_get(j, "stored")));
	/* the password never comes back through the API */
	{
		char *text = json_dumps(j, 0);

		assert_null(strstr(text ? text : "", pw));
		free(text);
	}
	json_decref(j);
	return pw;
}

static void expect_refused(struct csms_proc *p, const char *id, const char *password,
			   const char *proto)
{
	struct tc_why why;
	struct tcp *tc = tc_connect(p->port, id, password, proto, 5000, &why);

	if (tc) {
		/* a password that needs the KDF: upgraded, held, closed with 1008 once the KDF
		 * off the loop said no (docs/security.md) */
		assert_non_null(password);
		assert_int_equal(tc_wait_closed(tc, 10000), 0);
		assert_int_equal(tc_end(tc)->end, CPCLIENT_END_PEER);
		assert_int_equal(tc_end(tc)->close_code, 1008);
		tc_close(tc);
		return;
	}
	assert_int_equal(why.end, CPCLIENT_END_REFUSED);
	assert_int_equal(why.http_status, 401);
}

static void test_password_rotation(void **state)
{
	struct csms_proc *p = csms_start(open_args, NULL);
	struct tcp *tc;
	char pw1[64], pw2[64];
	int status;

	(void)state;
	assert_non_null(p);
	/* registered by the open policy without a password */
	tc = booted16(p, "CP-ROT-1", NULL);
	snprintf(pw1, sizeof(pw1), "%s", rotate(p, tc, false, "Accepted", &status));
	assert_int_equal(status, 200);
	/* the station reconnects with its new password; without it, it is refused */
	tc_close(tc);
	expect_refused(p, "CP-ROT-1", NULL, "ocpp1.6");
	expect_refused(p, "CP-ROT-1", "not-the-password", "ocpp1.6");
	tc = booted16(p, "CP-ROT-1", pw1);
	/* a station that refuses keeps its password: so does the CSMS */
	snprintf(pw2, sizeof(pw2), "%s", rotate(p, tc, false, "Rejected", &status));
	assert_int_equal(status, 409);
	assert_string_not_equal(pw1, pw2);
	tc_close(tc);
	expect_refused(p, "CP-ROT-1", pw2, "ocpp1.6");
	tc = booted16(p, "CP-ROT-1", pw1);
	/* rotate again: the old password is refused from now on */
	snprintf(pw2, sizeof(pw2), "%s", rotate(p, tc, false, "Accepted", &status));
	assert_int_equal(status, 200);
	tc_close(tc);
	expect_refused(p, "CP-ROT-1", pw1, "ocpp1.6");
	tc_close(booted16(p, "CP-ROT-1", pw2));
	/* the new hash survives a restart */
	assert_int_equal(csms_restart(p), 0);
	expect_refused(p, "CP-ROT-1", pw1, "ocpp1.6");
	tc_close(booted16(p, "CP-ROT-1", pw2));

	/* 2.0.1: SetVariables SecurityCtrlr.BasicAuthPassword */
	tc = booted201(p, "CP-ROT-2");
	snprintf(pw1, sizeof(pw1), "%s", rotate(p, tc, true, "Accepted", &status));
	assert_int_equal(status, 200);
	tc_close(tc);
	expect_refused(p, "CP-ROT-2", NULL, "ocpp2.0.1");
	tc = tc_connect(p->port, "CP-ROT-2", pw1, "ocpp2.0.1", 5000, NULL);
	assert_non_null(tc);
	tc_close(tc);

	/* an unknown station */
	{
		int st = 0;

		assert_int_equal(http_request(p->port, "POST", "/api/stations/NOPE/rotate-password",
					      NULL, &st, NULL, 5000),
				 0);
		assert_int_equal(st, 404);
	}
	assert_int_equal(tc_shutdown(), 0);
	assert_int_equal(csms_stop(p), 0);
	csms_pass(p);
	csms_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sign_certificate_16, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_certificate_201, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_renewal_before_expiry, setup_renewal, teardown),
	    cmocka_unit_test(test_no_ca_rejects),
	    cmocka_unit_test(test_password_rotation),
	};

	return cmocka_run_group_tests_name("certificates", tests, NULL, NULL);
}
