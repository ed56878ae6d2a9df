/* SPDX-License-Identifier: MIT */
/* The operator's CA (csms/ca.c) and the certificate rows of the store (0010_certificates.sql). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "adapter.h"
#include "ca.h"
#include "ocpp.h"
#include "svc/cmd.h"
#include "store/store.h"

#define DAY_MS (24LL * 3600 * 1000)
#define T0     1795000000000LL /* 2026-11-19 */

struct fx {
	char dir[64];
	struct ca *ca;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256] = "";

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ca.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strcat(f->dir, "/ca"); /* ca_init creates it */
	assert_int_equal(ca_init(f->dir, "Test CA", 3650, T0, err, sizeof(err)), 0);
	f->ca = ca_open(f->dir, err, sizeof(err));
	if (!f->ca)
		fail_msg("ca_open: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[128];

	ca_free(f->ca);
	snprintf(path, sizeof(path), "%s/%s", f->dir, CA_KEY_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", f->dir, CA_CERT_FILE);
	unlink(path);
	rmdir(f->dir);
	*strrchr(f->dir, '/') = '\0';
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_init_key_mode_and_no_overwrite(void **state)
{
	struct fx *f = *state;
	char path[128], err[256] = "";
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->dir, CA_KEY_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ca_init(f->dir, "Other", 10, T0, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not overwriting"));
	assert_null(ca_open("/nonexistent/ca", err, sizeof(err)));
	assert_non_null(strstr(ca_cert_pem(f->ca), "BEGIN CERTIFICATE"));
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_sign_csr(void **state)
{
	struct fx *f = *state;
	struct ca_cert_info info, ca_info;
	char *csr, *key, *chain;

	assert_int_equal(ca_make_csr("CP-1", "Operator", &csr, &key), 0);
	assert_non_null(strstr(key, "PRIVATE KEY"));
	assert_int_equal(ca_sign_csr(f->ca, csr, "CP-1", T0, &chain, &info), 0);
	/* the new certificate, then the CA's */
	assert_int_equal(count(chain, "-----BEGIN CERTIFICATE-----"), 2);
	assert_non_null(strstr(chain, ca_cert_pem(f->ca)));
	assert_string_equal(info.cn, "CP-1");
	assert_int_equal(info.not_after_ms, T0 / 1000 * 1000 + 365 * DAY_MS);
	assert_true(info.not_before_ms <= T0);
	assert_int_equal(ca_verify_cert(f->ca, chain, T0 + DAY_MS), 0);
	assert_int_equal(ca_cert_parse(chain, &ca_info), 0);
	assert_string_equal(ca_info.serial, info.serial);
	/* a second certificate gets another serial */
	{
		char *chain2;
		struct ca_cert_info info2;

		assert_int_equal(ca_sign_csr(f->ca, csr, "CP-1", T0, &chain2, &info2), 0);
		assert_string_not_equal(info2.serial, info.serial);
		free(chain2);
	}
	/* the CA certificate is not one it issued to a station, and is self-signed: it verifies */
	assert_int_equal(ca_verify_cert(f->ca, ca_cert_pem(f->ca), T0 + DAY_MS), 0);
	free(chain);
	free(csr);
	free(key);
}

static void test_wrong_cn_refused(void **state)
{
	struct fx *f = *state;
	char *csr, *chain = NULL;

	assert_int_equal(ca_make_csr("CP-2", NULL, &csr, NULL), 0);
	assert_int_equal(ca_sign_csr(f->ca, csr, "CP-1", T0, &chain, NULL), -EACCES);
	assert_null(chain);
	/* a prefix is not the id either */
	assert_int_equal(ca_sign_csr(f->ca, csr, "CP-", T0, &chain, NULL), -EACCES);
	assert_int_equal(ca_sign_csr(f->ca, csr, "CP-2", T0, &chain, NULL), 0);
	free(chain);
	free(csr);
}

/* Re-encode csr with the last byte of its DER (inside the signature) flipped. */
static char *corrupt_signature(const char *csr)
{
	BIO *b = BIO_new_mem_buf(csr, -1);
	X509_REQ *req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL), *bad;
	unsigned char *der = NULL;
	const unsigned char *p;
	int n;
	char *data, *out;
	long len;

	assert_non_null(req);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 10);
	der[n - 1] ^= 0x01;
	p = der;
	bad = d2i_X509_REQ(NULL, &p, n);
	assert_non_null(bad);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509_REQ(b, bad), 1);
	len = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)len);
	BIO_free(b);
	X509_REQ_free(req);
	X509_REQ_free(bad);
	OPENSSL_free(der);
	return out;
}

static void test_bad_signature_refused(void **state)
{
	struct fx *f = *state;
	char *csr, *bad, *chain = NULL;

	assert_int_equal(ca_make_csr("CP-3", NULL, &csr, NULL), 0);
	bad = corrupt_signature(csr);
	assert_string_not_equal(bad, csr);
	assert_int_equal(ca_sign_csr(f->ca, bad, "CP-3", T0, &chain, NULL), -EKEYREJECTED);
	assert_null(chain);
	assert_int_equal(ca_sign_csr(f->ca, "not a csr", "CP-3", T0, &chain, NULL), -EBADMSG);
	assert_int_equal(ca_sign_csr(f->ca, "", "CP-3", T0, &chain, NULL), -EBADMSG);
	free(bad);
	free(csr);
}

static void test_expiry(void **state)
{
	struct fx *f = *state;
	struct ca_cert_info info;
	char *csr, *chain, err[256];
	struct ca *other;
	char other_dir[96];

	ca_set_days(f->ca, 10);
	assert_int_equal(ca_make_csr("CP-4", NULL, &csr, NULL), 0);
	assert_int_equal(ca_sign_csr(f->ca, csr, "CP-4", T0, &chain, &info), 0);
	assert_int_equal(info.not_after_ms, T0 / 1000 * 1000 + 10 * DAY_MS);
	assert_int_equal(ca_verify_cert(f->ca, chain, T0 + 9 * DAY_MS), 0);
	assert_int_equal(ca_verify_cert(f->ca, chain, T0 + 11 * DAY_MS), -ETIME);
	assert_int_equal(ca_verify_cert(f->ca, chain, T0 - DAY_MS), -ETIME);
	/* another CA did not issue it */
	snprintf(other_dir, sizeof(other_dir), "%s2", f->dir);
	assert_int_equal(ca_init(other_dir, "Other CA", 10, T0, err, sizeof(err)), 0);
	other = ca_open(other_dir, err, sizeof(err));
	assert_non_null(other);
	assert_int_equal(ca_verify_cert(other, chain, T0 + DAY_MS), -EKEYREJECTED);
	ca_free(other);
	snprintf(err, sizeof(err), "%s/%s", other_dir, CA_KEY_FILE);
	unlink(err);
	snprintf(err, sizeof(err), "%s/%s", other_dir, CA_CERT_FILE);
	unlink(err);
	rmdir(other_dir);
	free(chain);
	free(csr);
}

struct rows {
	int n;
	char station[4][32];
	int64_t id[4], renew[4];
};

static int collect(const struct store_cert *row, void *ud)
{
	struct rows *r = ud;

	if (r->n < 4) {
		snprintf(r->station[r->n], sizeof(r->station[0]), "%s", row->station_id);
		r->id[r->n] = row->id;
		r->renew[r->n] = row->renew_requested_ms;
	}
	r->n++;
	return 0;
}

static int count_events(const struct store_history_row *row, void *ud)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

static void test_store_certificates(void **state)
{
	char err[256];
	struct store *s = store_open(":memory:", false, err, sizeof(err));
	struct store_station st;
	struct rows r = {0};
	int n = 0;

	(void)state;
	assert_non_null(s);
	assert_int_equal(store_station_create(s, "CP-A", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_create(s, "CP-B", REG_ACCEPTED, T0), 0);
	/* CP-A: an old certificate then a new one; CP-B: one that expires soon */
	assert_int_equal(
	    store_cert_add(s, &(struct store_cert){.station_id = "CP-A",
						   .serial = "01",
						   .type = "ChargingStationCertificate",
						   .pem = "x",
						   .issued_ms = T0,
						   .not_after_ms = T0 + 5 * DAY_MS}),
	    0);
	assert_int_equal(
	    store_cert_add(s, &(struct store_cert){.station_id = "CP-A",
						   .serial = "02",
						   .type = "ChargingStationCertificate",
						   .pem = "y",
						   .issued_ms = T0,
						   .not_after_ms = T0 + 300 * DAY_MS}),
	    0);
	assert_int_equal(
	    store_cert_add(s, &(struct store_cert){.station_id = "CP-B",
						   .serial = "03",
						   .type = "ChargingStationCertificate",
						   .pem = "z",
						   .issued_ms = T0,
						   .not_after_ms = T0 + 20 * DAY_MS}),
	    0);
	assert_int_equal(store_commit(s), 0);
	/* only the newest certificate of a station counts: CP-A's renewed one is far away */
	assert_int_equal(store_certs_expiring(s, T0 + 30 * DAY_MS, collect, &r), 1);
	assert_string_equal(r.station[0], "CP-B");
	assert_int_equal(r.renew[0], 0);
	assert_int_equal(store_cert_renew_mark(s, r.id[0], T0 + DAY_MS), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_certs_expiring(s, T0 + 30 * DAY_MS, collect, &r), 1);
	assert_int_equal(r.renew[0], T0 + DAY_MS);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_certs_list(s, "CP-A", 10, collect, &r), 2);
	assert_true(r.id[0] > r.id[1]); /* newest first */
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_certs_list(s, NULL, 10, collect, &r), 3);
	/* passwords */
	assert_int_equal(store_station_password_set(s, "CP-A", "hash-1"), 0);
	assert_int_equal(store_station_password_set(s, "CP-NONE", "hash-1"), -ENOENT);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_station_get(s, "CP-A", &st), 0);
	assert_string_equal(st.password_hash, "hash-1");
	/* security events are the notices of kind security */
	assert_int_equal(store_notice_add(s, "CP-A", "security", T0, "{\"type\":\"A\"}"), 0);
	assert_int_equal(store_notice_add(s, "CP-A", "event", T0, "{}"), 0);
	assert_int_equal(store_notice_add(s, "CP-B", "security", T0, "{\"type\":\"B\"}"), 0);
	assert_int_equal(store_security_events(s, "CP-A", 10, 0, count_events, &n), 1);
	assert_int_equal(n, 1);
	store_close(s);
}

/* The commands of certificates and passwords, encoded per version and valid by the schemas. */
static json_t *encode(enum ocpp_version v, const struct svc_cmd *c, const char *action)
{
	struct ocpp_catalog *cat = ocpp_catalog_create(v);
	const char *a = NULL;
	json_t *p = NULL;
	char desc[160] = "";

	assert_non_null(cat);
	assert_int_equal(adapter_for(v)->encode_cmd(c, &a, &p), 0);
	assert_string_equal(a, action);
	if (ocpp_catalog_validate(cat, a, false, p, desc, sizeof(desc)) != OCPP_ERR_NONE)
		fail_msg("%s: %s", a, desc);
	assert_true(ocpp_catalog_find(cat, a)->supported);
	ocpp_catalog_destroy(cat);
	return p;
}

static void test_commands_per_version(void **state)
{
	struct svc_cmd trig = {.kind = SVC_CMD_TRIGGER, .trigger = SVC_TRIGGER_SIGN_CERTIFICATE};
	struct svc_cmd pw = {.kind = SVC_CMD_SET_PASSWORD,
			     .password = "00112233445566778899aabbccddeeff00112233"};
	struct svc_cmd_result res;
	char summary[128];
	json_t *p, *ans;

	(void)state;
	p = encode(OCPP_V16, &trig, "ExtendedTriggerMessage");
	assert_string_equal(json_string_value(json_object_get(p, "requestedMessage")),
			    "SignChargePointCertificate");
	json_decref(p);
	p = encode(OCPP_V201, &trig, "TriggerMessage");
	assert_string_equal(json_string_value(json_object_get(p, "requestedMessage")),
			    "SignChargingStationCertificate");
	json_decref(p);
	p = encode(OCPP_V16, &pw, "ChangeConfiguration");
	assert_string_equal(json_string_value(json_object_get(p, "key")), "AuthorizationKey");
	assert_string_equal(json_string_value(json_object_get(p, "value")), pw.password);
	json_decref(p);
	p = encode(OCPP_V201, &pw, "SetVariables");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(p, "setVariableData"), 0), "attributeValue")),
	    pw.password);
	json_decref(p);
	/* no password: nothing to encode */
	pw.password = NULL;
	{
		const char *a;

		assert_int_equal(adapter_for(OCPP_V16)->encode_cmd(&pw, &a, &p), -EINVAL);
		assert_int_equal(adapter_for(OCPP_V201)->encode_cmd(&pw, &a, &p), -EINVAL);
	}
	/* the command log never holds the password */
	pw.password = "secret-secret-secret";
	svc_cmd_summary(&pw, summary, sizeof(summary));
	assert_null(strstr(summary, "secret"));
	/* SetVariables of one variable: its attributeStatus decides */
	ans = json_pack("{s:[{s:s, s:{s:s}, s:{s:s}}]}", "setVariableResult", "attributeStatus",
			"Rejected", "component", "name", "SecurityCtrlr", "variable", "name",
			"BasicAuthPassword");
	memset(&res, 0, sizeof(res));
	adapter_for(OCPP_V201)->decode_result("SetVariables", ans, &res);
	assert_int_equal(res.status, SVC_RES_REJECTED);
	json_decref(ans);
	ans = json_pack("{s:[{s:s, s:{s:s}, s:{s:s}}]}", "setVariableResult", "attributeStatus",
			"Accepted", "component", "name", "SecurityCtrlr", "variable", "name",
			"BasicAuthPassword");
	adapter_for(OCPP_V201)->decode_result("SetVariables", ans, &res);
	assert_int_equal(res.status, SVC_RES_ACCEPTED);
	json_decref(ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_key_mode_and_no_overwrite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_csr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_cn_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_signature_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
	    cmocka_unit_test(test_store_certificates),
	    cmocka_unit_test(test_commands_per_version),
	};

	return cmocka_run_group_tests_name("ca", tests, NULL, NULL);
}
