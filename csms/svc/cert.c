/* SPDX-License-Identifier: MIT */
/* Station certificates and credentials: CSRs queued until the answer is out, then signed by
 * the CA (svc_ca_ops) and sent back with CertificateSigned; renewal before expiry; password
 * rotation stored only once the station accepted. */
#include "cert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../core/cfg.h"
#include "../core/list.h"
#include "../core/log.h"
#include "../core/pwhash.h"
#include "svc.h"

#define DAY_MS	      (24LL * 3600 * 1000)
#define CSR_QUEUE_MAX 256 /* CSRs waiting for one group commit, across stations */

struct csr_job {
	struct list link;
	char station[STATION_ID_MAX + 1];
	char *csr;
};

struct svc_certs {
	const struct svc_ca_ops *ops;
	void *impl;
	struct list jobs; /* struct csr_job, waiting for the group commit */
	size_t n_jobs;
};

static struct svc_certs *certs_of(struct svc *s)
{
	struct svc_certs **slot = svc__certs(s);

	if (!*slot) {
		*slot = calloc(1, sizeof(**slot));
		if (*slot)
			list_init(&(*slot)->jobs);
	}
	return *slot;
}

static void job_free(struct csr_job *j)
{
	list_del(&j->link);
	free(j->csr);
	free(j);
}

void svc__certs_free(struct svc_certs *c)
{
	if (!c)
		return;
	while (!list_empty(&c->jobs))
		job_free(list_entry(c->jobs.next, struct csr_job, link));
	free(c);
}

void svc_set_ca(struct svc *s, const struct svc_ca_ops *ops, void *impl)
{
	struct svc_certs *c = certs_of(s);

	if (!c)
		return;
	c->ops = ops;
	c->impl = impl;
}

bool svc_ca_configured(struct svc *s)
{
	struct svc_certs *const *slot = svc__certs(s);

	return *slot && (*slot)->ops && (*slot)->ops->sign;
}

size_t svc_certs_waiting(struct svc *s)
{
	struct svc_certs *const *slot = svc__certs(s);

	return *slot ? (*slot)->n_jobs : 0;
}

int svc_cert_request(struct svc *s, struct chg_station *st, const char *csr_pem)
{
	struct svc_certs *c;
	struct csr_job *j;

	if (!svc_ca_configured(s))
		return -ENODEV;
	c = certs_of(s);
	if (c && c->n_jobs >= CSR_QUEUE_MAX)
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!c || !j || !(j->csr = strdup(csr_pem))) {
		free(j);
		return -ENOMEM;
	}
	snprintf(j->station, sizeof(j->station), "%s", st->id);
	list_add_tail(&c->jobs, &j->link);
	c->n_jobs++;
	return 0;
}

/* A security event the CSMS itself records for a station (same shape as the station's own:
 * type, timestamp, techInfo). */
static void security_event(struct svc *s, const char *station, const char *type,
			   const char *tech_info)
{
	char detail[512];
	int64_t now = svc_now_ms(s);

	snprintf(detail, sizeof(detail),
		 "{\"source\":\"csms\",\"techInfo\":\"%s\",\"type\":\"%s\"}", tech_info, type);
	if (store_notice_add(svc_store(s), station, "security", now, detail) < 0)
		log_err("[cp %s] cannot record security event %s: %s", station, type,
			svc_errmsg(s));
}

static void on_signed_sent(void *ud, const struct svc_cmd_result *res)
{
	char *station = ud;

	if (res->status != SVC_RES_ACCEPTED)
		log_warn("[cp %s] CertificateSigned: %s %s%s", station,
			 svc_cmd_status_name(res->status), res->station_status, res->detail);
	free(station);
}

static const char *csr_refusal(int r)
{
	switch (r) {
	case -EBADMSG:
		return "the CSR is not a PEM certificate signing request";
	case -EKEYREJECTED:
		return "the CSR signature does not verify";
	case -EACCES:
		return "the CSR common name is not the station id";
	default:
		return "the CSR could not be signed";
	}
}

/* Sign one CSR and send the chain. */
static void sign_one(struct svc *s, struct svc_certs *c, const struct csr_job *j)
{
	struct svc_signed_cert sc;
	struct svc_cmd cmd = {.kind = SVC_CMD_RAW};
	struct store_cert row;
	char *payload, *ud;
	int r;

	if (!svc_station_find(s, j->station)) {
		log_notice("[cp %s] left before its CSR was signed: not signed", j->station);
		return;
	}
	r = c->ops->sign(c->impl, j->csr, j->station, svc_now_ms(s), &sc);
	if (r < 0) {
		log_warn("[cp %s] SignCertificate refused: %s", j->station, csr_refusal(r));
		security_event(s, j->station,
			       r == -ENOMEM || r == -EIO ? "CsrSigningFailed" : "InvalidCsr",
			       csr_refusal(r));
		return;
	}
	row = (struct store_cert){
	    .station_id = j->station,
	    .serial = sc.serial,
	    .type = "ChargingStationCertificate",
	    .pem = sc.chain_pem,
	    .issued_ms = svc_now_ms(s),
	    .not_after_ms = sc.not_after_ms,
	};
	if (store_cert_add(svc_store(s), &row) < 0) {
		log_err("[cp %s] cannot record certificate %s: %s", j->station, sc.serial,
			svc_errmsg(s));
		free(sc.chain_pem);
		return;
	}
	/* {"certificateChain": PEM}: the same payload in 1.6 and 2.0.1; PEM needs only \n escaped */
	payload = malloc(strlen(sc.chain_pem) * 2 + 32);
	ud = strdup(j->station);
	if (!payload || !ud) {
		free(payload);
		free(ud);
		free(sc.chain_pem);
		return;
	}
	{
		char *o = payload + sprintf(payload, "{\"certificateChain\":\"");

		for (const char *p = sc.chain_pem; *p; p++) {
			if (*p == '\n') {
				*o++ = '\\';
				*o++ = 'n';
			} else if (*p != '\r') {
				*o++ = *p;
			}
		}
		strcpy(o, "\"}");
	}
	cmd.raw.action = "CertificateSigned";
	cmd.raw.payload = payload;
	log_notice("[cp %s] certificate %s signed, valid until %lld", j->station, sc.serial,
		   (long long)(sc.not_after_ms / 1000));
	if (svc_cmd_send(s, j->station, &cmd, "ca", on_signed_sent, ud) < 0) {
		log_warn("[cp %s] cannot send CertificateSigned", j->station);
		free(ud);
	}
	free(payload);
	free(sc.chain_pem);
}

void svc_certs_release(struct svc *s)
{
	struct svc_certs *c = s ? *svc__certs(s) : NULL;

	if (!c || list_empty(&c->jobs))
		return;
	while (!list_empty(&c->jobs)) {
		struct csr_job *j = list_entry(c->jobs.next, struct csr_job, link);

		c->n_jobs--;
		if (c->ops && c->ops->sign)
			sign_one(s, c, j);
		job_free(j);
	}
}

/* ---------------------------------------------------------------- renewal */

struct renew_ud {
	struct svc *s;
	int64_t now;
	int asked;
};

static void on_renew_sent(void *ud, const struct svc_cmd_result *res)
{
	char *station = ud;

	log_info("[cp %s] certificate renewal asked: %s %s", station,
		 svc_cmd_status_name(res->status), res->station_status);
	free(station);
}

static int renew_one(const struct store_cert *row, void *ud)
{
	struct renew_ud *u = ud;
	struct svc_cmd cmd = {.kind = SVC_CMD_TRIGGER, .trigger = SVC_TRIGGER_SIGN_CERTIFICATE};
	char *station;

	if (row->renew_requested_ms && row->renew_requested_ms > u->now - DAY_MS)
		return 0;
	if (!svc_station_find(u->s, row->station_id))
		return 0; /* asked when it is connected */
	station = strdup(row->station_id);
	if (!station)
		return -ENOMEM;
	if (svc_cmd_send(u->s, row->station_id, &cmd, "ca", on_renew_sent, station) < 0) {
		free(station);
		return 0;
	}
	if (store_cert_renew_mark(svc_store(u->s), row->id, u->now) < 0)
		return -EIO;
	u->asked++;
	return 0;
}

int svc_certs_renew(struct svc *s, int days)
{
	struct renew_ud u = {.s = s, .now = svc_now_ms(s)};
	int r;

	if (!svc_ca_configured(s))
		return 0;
	r = store_certs_expiring(svc_store(s), u.now + (int64_t)days * DAY_MS, renew_one, &u);
	if (r < 0)
		return r == -ENOMEM ? r : -EIO;
	return u.asked;
}

/* ---------------------------------------------------------------- password rotation */

struct rotate {
	struct svc *s;
	char station[STATION_ID_MAX + 1];
	char password[41];
	svc_rotate_done_fn done;
	void *ud;
	/* the station accepted: its answer, kept while the new hash is made off the loop */
	struct svc_cmd_result res;
	unsigned iterations;
	char hash[PWHASH_MAX];
	int hash_r;
};

static void rotate_free(struct rotate *rt)
{
	OPENSSL_cleanse(rt->password, sizeof(rt->password));
	free(rt);
}

/* Off the loop: the KDF of the password the station took. */
static void rotate_hash(void *arg)
{
	struct rotate *rt = arg;

	rt->hash_r = pwhash_create(rt->password, rt->iterations, rt->hash, sizeof(rt->hash));
}

/* Back on the loop: store the hash (durable before anyone hears of it), then answer. */
static void rotate_store(void *arg, int status)
{
	struct rotate *rt = arg;
	int r = status < 0 ? status : rt->hash_r;

	if (r == 0)
		r = store_station_password_set(svc_store(rt->s), rt->station, rt->hash);
	if (r == 0)
		r = store_commit(svc_store(rt->s));
	if (r < 0)
		log_err("[cp %s] the station took a new password but it could not be stored: %s",
			rt->station, status < 0 || rt->hash_r < 0 ? "no hash" : svc_errmsg(rt->s));
	else
		log_notice("[cp %s] password rotated", rt->station);
	rt->done(rt->ud, &rt->res, r == 0);
	rotate_free(rt);
}

static void on_rotated(void *ud, const struct svc_cmd_result *res)
{
	struct rotate *rt = ud;

	if (res->status == SVC_RES_ACCEPTED) {
		/* the KDF runs off the event loop; the hash is stored only now that the station
		 * accepted, and only then is the caller told */
		rt->res = *res;
		rt->res.payload = NULL; /* lives only during this call */
		rt->iterations = (unsigned)svc__cfg(rt->s)->kdf_iterations;
		if (svc__offload(rt->s, rotate_hash, rotate_store, rt) < 0) {
			log_err("[cp %s] the station took a new password but it could not be "
				"hashed",
				rt->station);
			rt->done(rt->ud, &rt->res, false);
			rotate_free(rt);
		}
		return;
	}
	rt->done(rt->ud, res, false);
	rotate_free(rt);
}

int svc_password_rotate(struct svc *s, const char *station_id, const char *who,
			svc_rotate_done_fn done, void *ud)
{
	struct svc_cmd cmd = {.kind = SVC_CMD_SET_PASSWORD};
	struct rotate *rt = calloc(1, sizeof(*rt));
	unsigned char b[20];
	int r;

	if (!rt)
		return -ENOMEM;
	if (RAND_bytes(b, sizeof(b)) != 1) {
		free(rt);
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(rt->password + 2 * i, 3, "%02x", b[i]);
	OPENSSL_cleanse(b, sizeof(b));
	rt->s = s;
	snprintf(rt->station, sizeof(rt->station), "%s", station_id);
	rt->done = done;
	rt->ud = ud;
	cmd.password = rt->password;
	r = svc_cmd_send(s, station_id, &cmd, who, on_rotated, rt);
	if (r < 0) {
		OPENSSL_cleanse(rt->password, sizeof(rt->password));
		free(rt);
	}
	return r;
}

/* ---------------------------------------------------------------- passwords set by the API */

int svc_password_generate(char ret_password[SVC_PASSWORD_GEN_LEN + 1])
{
	unsigned char b[SVC_PASSWORD_GEN_LEN / 2];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(ret_password + 2 * i, 3, "%02x", b[i]);
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

int svc_password_push(struct svc *s, const char *station_id, const char *password, const char *who,
		      svc_rotate_done_fn done, void *ud)
{
	struct svc_cmd cmd = {.kind = SVC_CMD_SET_PASSWORD};
	struct rotate *rt;
	int r;

	if (strlen(password) >= sizeof(rt->password))
		return -EINVAL;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	snprintf(rt->password, sizeof(rt->password), "%s", password);
	rt->s = s;
	snprintf(rt->station, sizeof(rt->station), "%s", station_id);
	rt->done = done;
	rt->ud = ud;
	cmd.password = rt->password;
	/* the same path as svc_password_rotate: stored (hashed) only once the station took it */
	r = svc_cmd_send(s, station_id, &cmd, who, on_rotated, rt);
	if (r < 0) {
		OPENSSL_cleanse(rt->password, sizeof(rt->password));
		free(rt);
	}
	return r;
}
