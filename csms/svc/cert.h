/* SPDX-License-Identifier: MIT */
/* Station certificates and credentials, version-neutral: CSRs signed by the operator's CA
 * (through struct svc_ca_ops; csms/ca.c implements it, svc has no X.509 code), certificates
 * tracked per station and renewed before they expire, and password rotation. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"

struct svc;
struct chg_station;

/* A certificate the CA issued. */
struct svc_signed_cert {
	char *chain_pem; /* the certificate then the CA's (malloc'd: the receiver frees it) */
	char serial[48]; /* hex */
	int64_t not_after_ms;
};

struct svc_ca_ops {
	int version; /* 1; new members go at the end, gated on it */
	/*
	** Check csr_pem (its signature verifies, its subject CN is station_id) and sign it at
	** now_ms. 0 and *ret filled; -EBADMSG not a CSR, -EKEYREJECTED bad signature, -EACCES
	** the CN is not station_id, -ENOMEM, -EIO.
	*/
	int (*sign)(void *impl, const char *csr_pem, const char *station_id, int64_t now_ms,
		    struct svc_signed_cert *ret);
};

/* Install the CA (NULL ops: none). Called once by the node, before stations connect. */
void svc_set_ca(struct svc *s, const struct svc_ca_ops *ops, void *impl);
/* Whether a CA is installed. */
bool svc_ca_configured(struct svc *s);

/*
** A station's SignCertificate: csr_pem is queued and, after the group commit that carries the
** answer (svc_certs_release), checked and signed; the chain goes back with CertificateSigned.
** A CSR that fails the check is recorded as a security event of the station and nothing is
** signed. Returns 0 (answer Accepted), -ENODEV no CA installed, -EBUSY too many CSRs waiting
** (answer Rejected), -ENOMEM.
*/
int svc_cert_request(struct svc *s, struct chg_station *st, const char *csr_pem);

/*
** The group commit has finished: sign and send the queued CSRs. Runs from app_group_commit()
** after the held answers went out, so CertificateSigned follows SignCertificate's answer;
** cheap when nothing waits; s may be NULL.
*/
void svc_certs_release(struct svc *s);

/* CSRs waiting for the next group commit (tests). */
size_t svc_certs_waiting(struct svc *s);

/*
** Ask every connected station whose newest certificate we issued expires within days to renew
** it (TriggerMessage / ExtendedTriggerMessage SignCertificate), at most once a day each.
** Returns the number of stations asked, or -EIO.
*/
int svc_certs_renew(struct svc *s, int days);

/* How a password rotation ended: res is the command's result; stored is true when the station
 * accepted and the new password's hash is durable. */
typedef void (*svc_rotate_done_fn)(void *ud, const struct svc_cmd_result *res, bool stored);

/*
** Give station_id a new random password (40 hex characters): ChangeConfiguration
** AuthorizationKey (1.6) / SetVariables SecurityCtrlr.BasicAuthPassword (2.0.1). Only when the
** station accepts is the new hash stored and committed; then done(ud, res, true). Returns 0
** when done will be called once, later; -ENOENT unknown station, -ENOMEM, -EIO (then done is
** never called).
*/
int svc_password_rotate(struct svc *s, const char *station_id, const char *who,
			svc_rotate_done_fn done, void *ud);

/* The length of a generated station password: 40 hex characters (the OCPP maximum). */
#define SVC_PASSWORD_GEN_LEN 40
/* A new random station password into ret_password. 0 or -EIO (no randomness). */
int svc_password_generate(char ret_password[SVC_PASSWORD_GEN_LEN + 1]);
/*
** As svc_password_rotate, with the password given (the API's password reset, which shows it
** once): sent to the station, and its hash stored and committed only when the station accepts.
** 0 when done will be called once, later; -EINVAL (over 40 characters), -ENOENT, -ENOMEM, -EIO
** (then done is never called).
*/
int svc_password_push(struct svc *s, const char *station_id, const char *password, const char *who,
		      svc_rotate_done_fn done, void *ud);

/* Internal to svc: the state hanging off struct svc (svc.c owns the slot). */
struct svc_certs;
struct svc_certs **svc__certs(struct svc *s);
struct cfg;
const struct cfg *svc__cfg(const struct svc *s);
void svc__certs_free(struct svc_certs *c);
