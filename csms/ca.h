/* SPDX-License-Identifier: MIT */
/* The operator's local certificate authority (OpenSSL libcrypto; the only module with X.509
 * code): a CA key and certificate in a directory, station CSRs checked and signed with them.
 * svc reaches it through struct svc_ca_ops (svc/cert.h): ca_svc_ops below. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CA_KEY_FILE  "ca.key" /* PEM private key, mode 0600 */
#define CA_CERT_FILE "ca.pem" /* PEM certificate */

struct ca;

/* What we know of a certificate. */
struct ca_cert_info {
	char serial[48]; /* hex */
	char cn[65];	 /* subject common name ("" if none) */
	int64_t not_before_ms, not_after_ms;
};

/*
** Create a CA in dir (created with mode 0700 if missing): a P-256 key in CA_KEY_FILE (0600) and
** a self-signed certificate with common name cn, valid for days from now_ms, in CA_CERT_FILE.
** Returns 0; -EEXIST if dir already holds a key (nothing is overwritten); -EIO (err says why),
** -ENOMEM. err gets one line on failure.
*/
int ca_init(const char *dir, const char *cn, int days, int64_t now_ms, char *err, size_t err_len);

/* Load the CA of dir. NULL on failure, with one line in err. */
struct ca *ca_open(const char *dir, char *err, size_t err_len);
void ca_free(struct ca *ca);

/* Days of validity of the certificates ca_sign_csr issues (default 365, 1..3650). */
void ca_set_days(struct ca *ca, int days);

/* The CA certificate as PEM text (borrowed from ca). */
const char *ca_cert_pem(const struct ca *ca);

/*
** Check and sign a PEM certificate signing request for station_id at now_ms. The CSR must carry
** a valid self-signature and a subject CN equal to station_id. On success *ret_chain gets the
** new certificate followed by the CA certificate (PEM, malloc'd; the caller frees it) and
** *ret_info (may be NULL) describes the new certificate. Returns 0, -EBADMSG (not a PEM CSR),
** -EKEYREJECTED (the CSR's signature does not verify), -EACCES (CN is not station_id),
** -ENOMEM, -EIO. Nothing is written on failure.
*/
int ca_sign_csr(struct ca *ca, const char *csr_pem, const char *station_id, int64_t now_ms,
		char **ret_chain, struct ca_cert_info *ret_info);

/* Describe the first certificate of PEM text. 0, -EBADMSG, -ENOMEM. */
int ca_cert_parse(const char *pem, struct ca_cert_info *ret);

/* Whether the first certificate of pem was issued by ca (its signature verifies with the CA
 * key) and is valid at now_ms. 0, -EKEYREJECTED (not ours / bad signature), -ETIME (not valid
 * at now_ms), -EBADMSG. */
int ca_verify_cert(const struct ca *ca, const char *pem, int64_t now_ms);

/* For tests and the simulator: a new P-256 key and a CSR with subject CN=cn (O=org if not NULL)
 * as PEM (malloc'd). 0, -ENOMEM, -EIO. */
int ca_make_csr(const char *cn, const char *org, char **ret_csr_pem, char **ret_key_pem);

/* ---- TLS: the client certificate of a charger connection (security profile 3) */
/* What a TLS peer's certificate proves. */
struct ca_peer_cert {
	bool present;  /* the peer sent a certificate */
	bool verified; /* ... and it verified (the TLS context's CA, tls_client_ca) */
	char cn[65];   /* its subject common name */
	char fp[65];   /* SHA-256 of its DER, lower-case hex */
};
/* The peer certificate of an OpenSSL connection (an SSL *, as the transport gets it from
** lws). 0 and *ret filled (present false when there is none); -EBADMSG when a certificate is
** there but its CN or digest cannot be read. */
int ca_peer_cert(void *ssl, struct ca_peer_cert *ret);
/* Whether a TLS listener can use these PEM files: cert (chain) and key load and match, and
** client_ca (may be NULL) loads. 0, or -EKEYREJECTED with one line in err. Checked before lws
** is asked to: lws 4.1 leaves a half-made context behind when its vhost cannot load them. */
int ca_tls_files_check(const char *cert, const char *key, const char *client_ca, char *err,
		       size_t err_len);
/* ---- end TLS */

/* The signer svc uses (svc/cert.h); impl is the struct ca. */
struct svc_ca_ops;
extern const struct svc_ca_ops ca_svc_ops;
