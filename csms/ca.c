/* SPDX-License-Identifier: MIT */
/* The operator's local CA: OpenSSL libcrypto, X.509 v3, P-256 keys and ECDSA-SHA256. */
#include "ca.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "svc/cert.h"

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	char *cert_pem;
	int days;
};

/* "arg: what: the OpenSSL error" */
static void errline(char *err, size_t len, const char *what, const char *arg)
{
	unsigned long e = ERR_get_error();
	char ossl[160] = "";

	if (e)
		ERR_error_string_n(e, ossl, sizeof(ossl));
	ERR_clear_error();
	if (err && len)
		snprintf(err, len, "%s: %s: %s", arg, what, ossl[0] ? ossl : "failed");
}

/* A random positive 128-bit serial number (RFC 5280 4.1.2.2: at most 20 octets). */
static int set_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	b[0] &= 0x7f;
	b[0] |= 0x40;
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

static int add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -EIO;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -ENOMEM;
}

static int set_validity(X509 *x, int64_t now_ms, int days)
{
	time_t now = (time_t)(now_ms / 1000);

	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, -300, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now))
		return -EIO;
	return 0;
}

static char *pem_of_cert(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b && PEM_write_bio_X509(b, x)) {
		n = BIO_get_mem_data(b, &data);
		out = malloc((size_t)n + 1);
		if (out) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
	return out;
}

static int write_file(const char *dir, const char *name, mode_t mode, bool excl,
		      int (*fn)(FILE *f, void *ud), void *ud)
{
	char path[4096];
	FILE *f;
	int fd, r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	r = fn(f, ud);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		r = r < 0 ? r : -EIO;
	if (fclose(f) != 0)
		r = r < 0 ? r : -EIO;
	return r;
}

static int write_key(FILE *f, void *ud)
{
	return PEM_write_PrivateKey(f, ud, NULL, NULL, 0, NULL, NULL) ? 0 : -EIO;
}

static int write_cert(FILE *f, void *ud)
{
	return PEM_write_X509(f, ud) ? 0 : -EIO;
}

int ca_init(const char *dir, const char *cn, int days, int64_t now_ms, char *err, size_t err_len)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	char path[4096];
	int r = -EIO;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CA_KEY_FILE);
	if (access(path, F_OK) == 0) {
		snprintf(err, err_len, "%s exists: not overwriting a CA key", path);
		return -EEXIST;
	}
	key = EVP_EC_gen("P-256");
	x = X509_new();
	if (!key || !x) {
		errline(err, err_len, "cannot make a key", dir);
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) || set_serial(x) < 0 || set_validity(x, now_ms, days) < 0 ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
	    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
	    !X509_sign(x, key, EVP_sha256())) {
		errline(err, err_len, "cannot make the CA certificate", dir);
		goto out;
	}
	r = write_file(dir, CA_KEY_FILE, 0600, true, write_key, key);
	if (r < 0) {
		snprintf(err, err_len, "%s/%s: %s", dir, CA_KEY_FILE, strerror(-r));
		goto out;
	}
	r = write_file(dir, CA_CERT_FILE, 0644, false, write_cert, x);
	if (r < 0)
		snprintf(err, err_len, "%s/%s: %s", dir, CA_CERT_FILE, strerror(-r));
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

struct ca *ca_open(const char *dir, char *err, size_t err_len)
{
	struct ca *ca = calloc(1, sizeof(*ca));
	char path[4096];
	FILE *f;

	if (!ca) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	ca->days = 365;
	snprintf(path, sizeof(path), "%s/%s", dir, CA_KEY_FILE);
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!ca->key) {
		errline(err, err_len, "not a PEM private key", path);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CERT_FILE);
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!ca->cert) {
		errline(err, err_len, "not a PEM certificate", path);
		goto fail;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		errline(err, err_len, "the key does not match the certificate", dir);
		goto fail;
	}
	ca->cert_pem = pem_of_cert(ca->cert);
	if (!ca->cert_pem) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	return ca;
fail:
	ca_free(ca);
	return NULL;
}

void ca_free(struct ca *ca)
{
	if (!ca)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->cert_pem);
	free(ca);
}

void ca_set_days(struct ca *ca, int days)
{
	if (days >= 1 && days <= 3650)
		ca->days = days;
}

const char *ca_cert_pem(const struct ca *ca)
{
	return ca->cert_pem;
}

static int64_t asn1_ms(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

static void info_of(X509 *x, struct ca_cert_info *ret)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->serial, sizeof(ret->serial), "%s", hex ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, ret->cn,
				  sizeof(ret->cn));
	ret->not_before_ms = asn1_ms(X509_get0_notBefore(x));
	ret->not_after_ms = asn1_ms(X509_get0_notAfter(x));
}

static X509 *cert_of_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	ERR_clear_error();
	return x;
}

int ca_cert_parse(const char *pem, struct ca_cert_info *ret)
{
	X509 *x = cert_of_pem(pem);

	if (!x)
		return -EBADMSG;
	info_of(x, ret);
	X509_free(x);
	return 0;
}

int ca_verify_cert(const struct ca *ca, const char *pem, int64_t now_ms)
{
	X509 *x = cert_of_pem(pem);
	struct ca_cert_info info;
	int r = 0;

	if (!x)
		return -EBADMSG;
	if (X509_verify(x, ca->key) != 1 ||
	    X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca->cert)) != 0)
		r = -EKEYREJECTED;
	info_of(x, &info);
	if (!r && (now_ms < info.not_before_ms || now_ms >= info.not_after_ms))
		r = -ETIME;
	X509_free(x);
	ERR_clear_error();
	return r;
}

int ca_sign_csr(struct ca *ca, const char *csr_pem, const char *station_id, int64_t now_ms,
		char **ret_chain, struct ca_cert_info *ret_info)
{
	BIO *b = BIO_new_mem_buf(csr_pem, -1);
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	char cn[256], *leaf = NULL, *chain;
	size_t a, c;
	int r;

	if (!req) {
		r = b ? -EBADMSG : -ENOMEM;
		goto out;
	}
	pub = X509_REQ_get_pubkey(req);
	if (!pub || X509_REQ_verify(req, pub) != 1) {
		r = -EKEYREJECTED;
		goto out;
	}
	cn[0] = '\0';
	if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn,
				      sizeof(cn)) < 0 ||
	    strcmp(cn, station_id) != 0) {
		r = -EACCES;
		goto out;
	}
	x = X509_new();
	r = -EIO;
	if (!x || !X509_set_version(x, 2) || set_serial(x) < 0 ||
	    set_validity(x, now_ms, ca->days) < 0 ||
	    !X509_set_subject_name(x, X509_REQ_get_subject_name(req)) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) || !X509_set_pubkey(x, pub) ||
	    add_ext(ca->cert, x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(ca->cert, x, NID_key_usage, "critical,digitalSignature,keyAgreement") < 0 ||
	    add_ext(ca->cert, x, NID_ext_key_usage, "clientAuth") < 0 ||
	    add_ext(ca->cert, x, NID_authority_key_identifier, "keyid") < 0 ||
	    !X509_sign(x, ca->key, EVP_sha256()))
		goto out;
	leaf = pem_of_cert(x);
	if (!leaf) {
		r = -ENOMEM;
		goto out;
	}
	a = strlen(leaf);
	c = strlen(ca->cert_pem);
	chain = malloc(a + c + 1);
	if (!chain) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(chain, leaf, a);
	memcpy(chain + a, ca->cert_pem, c + 1);
	if (ret_info)
		info_of(x, ret_info);
	*ret_chain = chain;
	r = 0;
out:
	free(leaf);
	X509_free(x);
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	BIO_free(b);
	ERR_clear_error();
	return r;
}

static char *pem_of(int (*fn)(BIO *b, void *ud), void *ud)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b && fn(b, ud)) {
		n = BIO_get_mem_data(b, &data);
		out = malloc((size_t)n + 1);
		if (out) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
	return out;
}

static int bio_req(BIO *b, void *ud)
{
	return PEM_write_bio_X509_REQ(b, ud);
}

static int bio_key(BIO *b, void *ud)
{
	return PEM_write_bio_PrivateKey(b, ud, NULL, NULL, 0, NULL, NULL);
}

int ca_make_csr(const char *cn, const char *org, char **ret_csr_pem, char **ret_key_pem)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_REQ_get_subject_name(req);
	char *csr = NULL, *kp = NULL;
	int r = -EIO;

	if (!key || !req)
		goto out;
	if ((org && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
						(const unsigned char *)org, -1, -1, 0)) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_REQ_set_pubkey(req, key) || !X509_REQ_sign(req, key, EVP_sha256()))
		goto out;
	csr = pem_of(bio_req, req);
	kp = pem_of(bio_key, key);
	if (!csr || !kp) {
		r = -ENOMEM;
		goto out;
	}
	*ret_csr_pem = csr;
	if (ret_key_pem)
		*ret_key_pem = kp;
	else
		free(kp);
	csr = kp = NULL;
	r = 0;
out:
	free(csr);
	free(kp);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return r;
}

/* svc's signer (svc/cert.h) */
static int svc_sign(void *impl, const char *csr_pem, const char *station_id, int64_t now_ms,
		    struct svc_signed_cert *ret)
{
	struct ca_cert_info info;
	char *chain;
	int r = ca_sign_csr(impl, csr_pem, station_id, now_ms, &chain, &info);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->chain_pem = chain;
	snprintf(ret->serial, sizeof(ret->serial), "%s", info.serial);
	ret->not_after_ms = info.not_after_ms;
	return 0;
}

const struct svc_ca_ops ca_svc_ops = {
    .version = 1,
    .sign = svc_sign,
};

/* ---- TLS: the client certificate of a charger connection (security profile 3) */
int ca_peer_cert(void *ssl, struct ca_peer_cert *ret)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	struct ca_peer_cert p = {0};
	unsigned n = 0;
	X509 *x = SSL_get1_peer_certificate(ssl);
	int r = 0;

	if (!x)
		goto out;
	p.present = true;
	p.verified = SSL_get_verify_result(ssl) == X509_V_OK;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, p.cn,
				      (int)sizeof(p.cn)) <= 0 ||
	    !X509_digest(x, EVP_sha256(), md, &n) || n * 2 >= sizeof(p.fp)) {
		r = -EBADMSG;
		goto fail;
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(p.fp + 2 * i, 3, "%02x", md[i]);
fail:
	X509_free(x);
	if (r < 0)
		return r;
out:
	*ret = p;
	return 0;
}

int ca_tls_files_check(const char *cert, const char *key, const char *client_ca, char *err,
		       size_t err_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *why = NULL, *file = NULL;

	if (!ctx) {
		snprintf(err, err_len, "no memory for a TLS context");
		return -ENOMEM;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		why = "cannot load the certificate (chain) of", file = cert;
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		why = "cannot load the private key", file = key;
	else if (SSL_CTX_check_private_key(ctx) != 1)
		why = "the key does not match the certificate", file = key;
	else if (client_ca && SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1)
		why = "cannot load the client CA", file = client_ca;
	SSL_CTX_free(ctx);
	ERR_clear_error();
	if (!why)
		return 0;
	snprintf(err, err_len, "%s %s", why, file);
	return -EKEYREJECTED;
}
/* ---- end TLS */
