/* SPDX-License-Identifier: MIT */
/* libwebsockets glue: the listen socket on the libuv loop, the OCPP subprotocols, the HTTP API
 * and the static dashboard. Callbacks only move bytes between lws and conn/api. */
#include "transport.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>

#include "../api/api.h"
#include "../ca.h"
#include "../svc/account.h"
#include "../conn.h"
#include "../core/cfg.h"
#include "../core/hmap.h"
#include "../core/log.h"
#include "../store/store.h"
#include "../svc/svc.h"

_Static_assert(LWS_PRE <= CONN_PRE, "CONN_PRE must leave room for the lws header");

struct kdf_wait;

struct ws_pss {
	struct conn *conn;
	char id[STATION_ID_MAX + 1]; /* from the URL, checked in the handshake */
	char peer[64];		     /* the remote address, counted in the caps */
	bool counted;
	struct kdf_wait *kdf; /* upgraded, held until this KDF decides (no conn yet) */
	bool kdf_refused;     /* the KDF said no: close 1008 on the next WRITEABLE */
	unsigned close_waits; /* timer ticks a closing connection waited for its replies */
};

/* A connection closed with a code first sends what it was answered (replies held for the
 * group commit's flush included), for at most this many ticks of CLOSE_DRAIN_TICK_US. */
#define CLOSE_DRAIN_TICKS   200
#define CLOSE_DRAIN_TICK_US 10000

struct http_pss {
	struct api_req *req;
};

/* lws_close_reason() takes a mutable buffer; the reason is copied (at most 123 bytes). */
static void close_reason(struct lws *wsi, enum lws_close_status status, const char *text)
{
	unsigned char buf[124];
	size_t n = strlen(text);

	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	memcpy(buf, text, n);
	lws_close_reason(wsi, status, buf, n);
}

static bool on_api_listener(struct lws *wsi);

static struct transport *tp_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* ---- the API listener and the request/response headers the API needs (accounts) */

/* Mounts and vhosts must outlive the context, so they live beside it. */
struct transport_priv {
	struct lws_http_mount api, web, metrics;
	struct lws_vhost *charger_vh, *api_vh; /* api_vh: NULL without api_listen */
};

static bool on_api_listener(struct lws *wsi)
{
	const struct transport_priv *tp = tp_of(wsi)->priv;

	return tp->api_vh && lws_get_vhost(wsi) == tp->api_vh;
}

/* With api_listen set the charger port serves chargers only, and the API port no chargers. */
static bool http_allowed_here(struct lws *wsi)
{
	const struct transport_priv *tp = tp_of(wsi)->priv;

	return !tp->api_vh || lws_get_vhost(wsi) == tp->api_vh;
}

static void copy_hdr(struct lws *wsi, enum lws_token_indexes t, char *out, size_t len)
{
	if (lws_hdr_copy(wsi, out, (int)len, t) < 0)
		out[0] = '\0';
}

static void http_collect_headers(struct lws *wsi, struct api_req *r)
{
	static const char csrf_name[] = "x-csrf-token:";

	copy_hdr(wsi, WSI_TOKEN_HTTP_COOKIE, r->cookie, sizeof(r->cookie));
	copy_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, r->authorization, sizeof(r->authorization));
	copy_hdr(wsi, WSI_TOKEN_ORIGIN, r->origin, sizeof(r->origin));
	copy_hdr(wsi, WSI_TOKEN_HOST, r->host, sizeof(r->host));
	if (!r->host[0]) /* h2 */
		copy_hdr(wsi, WSI_TOKEN_HTTP_COLON_AUTHORITY, r->host, sizeof(r->host));
	copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, r->content_type, sizeof(r->content_type));
	if (lws_hdr_custom_copy(wsi, r->csrf, (int)sizeof(r->csrf), csrf_name,
				(int)sizeof(csrf_name) - 1) < 0)
		r->csrf[0] = '\0';
	lws_get_peer_simple(wsi, r->peer, sizeof(r->peer));
	r->on_api_listener = on_api_listener(wsi);
}

/* Set-Cookie and Retry-After when the API set them. */
static int http_extra_headers(struct lws *wsi, const struct api_req *r, unsigned char **p,
			      unsigned char *end)
{
	char ra[16];
	int n;

	if (r->set_cookie[0] && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_SET_COOKIE,
							     (const unsigned char *)r->set_cookie,
							     (int)strlen(r->set_cookie), p, end))
		return -1;
	if (r->retry_after_s > 0) {
		n = snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
		if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
						 (const unsigned char *)ra, n, p, end))
			return -1;
	}
	return 0;
}

/* /api/live: the same authentication as the API (the session cookie the browser sends on the
 * upgrade, or a bearer token) and the same Origin/Host check. */
static int live_auth(struct lws *wsi, struct transport *t)
{
	struct account_principal who;
	char cookie[4200], auth[300], host[256], origin[256];

	copy_hdr(wsi, WSI_TOKEN_HTTP_COOKIE, cookie, sizeof(cookie));
	copy_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof(auth));
	copy_hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	copy_hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	if (api_auth_origin_check(t->api->public_url, host, origin) < 0)
		return -EPERM;
	return api_auth_principal(t->api, cookie, auth, &who);
}
/* ---- end of the API listener and headers */

/* "/ocpp/<id>": id is 1..48 printable characters without '/'. */
static int station_id_from_uri(const char *uri, char *out, size_t out_len)
{
	const char *id;
	size_t n;

	if (strncmp(uri, "/ocpp/", 6) != 0)
		return -EINVAL;
	id = uri + 6;
	n = strlen(id);
	if (n && id[n - 1] == '/')
		n--;
	if (n == 0 || n > STATION_ID_MAX || n >= out_len)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= 0x20 || id[i] == '/' || (unsigned char)id[i] >= 0x7f)
			return -EINVAL;
	memcpy(out, id, n);
	out[n] = '\0';
	return 0;
}

/* Security profile 1: "Authorization: Basic base64(id:password)". NULL password if absent. */
static int basic_auth(struct lws *wsi, const char *id, char *password, size_t len,
		      bool *ret_present)
{
	char hdr[512], dec[384];
	const char *b64;
	char *colon;
	int n;

	*ret_present = false;
	if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) <= 0)
		return 0;
	*ret_present = true;
	if (strncasecmp(hdr, "Basic ", 6) != 0)
		return -EINVAL;
	for (b64 = hdr + 6; *b64 == ' '; b64++)
		;
	n = lws_b64_decode_string(b64, dec, sizeof(dec) - 1);
	if (n <= 0)
		return -EINVAL;
	dec[n] = '\0';
	colon = strchr(dec, ':');
	if (!colon || (size_t)(colon - dec) != strlen(id) || strncmp(dec, id, strlen(id)) != 0)
		return -EACCES; /* the user name must be the charger's identity */
	if (strlen(colon + 1) >= len)
		return -EINVAL;
	snprintf(password, len, "%s", colon + 1);
	return 0;
}

static int refuse(struct lws *wsi, int status)
{
	lws_return_http_status(wsi, (unsigned)status, NULL);
	return -1;
}

/* ---- security: charger-side limits and admission (docs/security.md) */

/* Printable ASCII of what a client sent, for one log line: anything else as \xNN. */
static void log_escape(const char *in, char *out, size_t out_len)
{
	size_t o = 0;

	for (; *in && o + 5 < out_len; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, out_len - o, "\\x%02x", ch);
	}
	out[o] = '\0';
}

/* Charger connections per remote address, and in all (max_connections_per_address,
 * max_connections): counted from ESTABLISHED to CLOSED. */
struct transport_caps {
	struct hmap peers; /* address -> struct peer_count */
	unsigned total;
};

struct peer_count {
	char addr[64];
	unsigned n;
};

static struct peer_count *peer_count(struct transport *t, const char *addr, bool create)
{
	struct transport_caps *caps = t->caps;
	struct peer_count *pc = hmap_get(&caps->peers, addr);

	if (pc || !create)
		return pc;
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return NULL;
	snprintf(pc->addr, sizeof(pc->addr), "%s", addr);
	if (hmap_put(&caps->peers, pc->addr, pc) < 0) {
		free(pc);
		return NULL;
	}
	return pc;
}

static bool caps_full(struct transport *t, const char *peer)
{
	struct peer_count *pc = peer_count(t, peer, false);

	return t->caps->total >= (unsigned)t->cfg->max_connections ||
	       (pc && pc->n >= (unsigned)t->cfg->max_connections_per_address);
}

static void caps_add(struct transport *t, struct ws_pss *pss)
{
	struct peer_count *pc = peer_count(t, pss->peer, true);

	if (!pc)
		return;
	pc->n++;
	t->caps->total++;
	pss->counted = true;
}

static void caps_del(struct transport *t, struct ws_pss *pss)
{
	struct peer_count *pc = pss->counted ? peer_count(t, pss->peer, false) : NULL;

	if (!pc)
		return;
	pss->counted = false;
	t->caps->total--;
	if (--pc->n == 0)
		free(hmap_del(&t->caps->peers, pss->peer));
}

/* ---- TLS: security profiles 2 and 3 (docs/security.md) */

/* What the TLS layer of a charger connection proves. */
struct tls_peer {
	bool tls;			/* wss:// */
	bool cert;			/* a client certificate the CA verified */
	char cn[STORE_CERT_CN_MAX + 1]; /* its subject CN */
	char fp[STORE_CERT_FP_MAX + 1]; /* SHA-256 of its DER, hex */
};

/* The TLS side of a connection: plain, TLS without a client certificate, or TLS with one that
 * verified against tls_client_ca (OpenSSL already refused the handshake of one that did not:
 * tls_verify_cert below). -EACCES for a certificate that is there but did not verify (a
 * belt-and-braces check) or whose CN cannot be read. */
static int tls_peer_get(struct lws *wsi, struct tls_peer *ret)
{
	SSL *ssl = lws_is_ssl(wsi) ? lws_get_ssl(wsi) : NULL;
	struct ca_peer_cert pc;
	struct tls_peer p = {0};

	if (ssl) {
		p.tls = true;
		if (ca_peer_cert(ssl, &pc) < 0 || (pc.present && !pc.verified))
			return -EACCES;
		if (pc.present) {
			p.cert = true;
			snprintf(p.cn, sizeof(p.cn), "%s", pc.cn);
			snprintf(p.fp, sizeof(p.fp), "%s", pc.fp);
		}
	}
	*ret = p;
	return 0;
}

/* The profile a connection offers: plain ws:// is 0 or 1 (Basic auth), TLS without a client
 * certificate 0 or 2, a verified client certificate 3 (no password needed). */
static int tls_offered_profile(const struct tls_peer *p, bool password)
{
	if (p->cert)
		return 3;
	if (!password)
		return 0;
	return p->tls ? 2 : 1;
}

/* OpenSSL's verdict on a client certificate (protocols[0] gets this): a certificate that does
 * not chain to tls_client_ca ends the TLS handshake. lws' default would accept it. */
static int tls_verify_cert(size_t preverify_ok)
{
	return preverify_ok ? 0 : 1;
}

/* The charger listener's TLS settings, on the vhost that listens on `listen`. */
static void tls_vhost_info(const struct cfg *c, struct lws_context_creation_info *info)
{
	if (!c->tls_cert)
		return;
	info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info->ssl_cert_filepath = c->tls_cert;
	info->ssl_private_key_filepath = c->tls_key;
	/* TLS 1.2 at least (1.3 with tls_min_version "1.3"); lws already refuses SSLv2/3 */
	info->ssl_options_set =
	    SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
	    (c->tls_min_version && !strcmp(c->tls_min_version, "1.3") ? SSL_OP_NO_TLSv1_2 : 0);
	if (c->tls_client_ca) {
		/* ask for a client certificate, but profile 2 chargers have none */
		info->options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT |
				 LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
		info->ssl_ca_filepath = c->tls_client_ca;
	}
	if (c->tls_allow_plain) /* lws 4.1 needs both to serve plain HTTP (and ws://) here */
		info->options |= LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT |
				 LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER;
}

/* The TLS files, checked before lws gets them (ca_tls_files_check): one log line, -EKEYREJECTED. */
static int tls_files_ok(const struct cfg *c)
{
	char err[512];

	if (!c->tls_cert ||
	    ca_tls_files_check(c->tls_cert, c->tls_key, c->tls_client_ca, err, sizeof(err)) == 0)
		return 0;
	log_err("charger listener TLS: %s", err);
	return -EKEYREJECTED;
}

/* The same settings for the API listener's own vhost must not leak into it. */
static void tls_vhost_info_clear(struct lws_context_creation_info *info)
{
	info->ssl_cert_filepath = info->ssl_private_key_filepath = info->ssl_ca_filepath = NULL;
	info->ssl_options_set = 0;
}
/* ---- end TLS */

/* ---- the KDF of a first login off the event loop (docs/security.md)
 *
 * lws 4.1 answers the upgrade inside LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION and cannot defer
 * the answer (HTTP_CONFIRM_UPGRADE either upgrades at once or ends the upgrade). So a login
 * whose password needs the KDF (not verified before, a credential to bind, an unknown id's
 * dummy) is upgraded and held: reads stop (lws_rx_flow_control), no conn exists, until the KDF
 * has run on the loop's thread pool (uv_queue_work). Then the admission is decided again: the
 * connection is released, or closed with 1008 (counted as a failed login). */

#define KDF_MAX_IN_FLIGHT 1024 /* held logins in all; over it the handshake gets 503 */

struct kdf_wait {
	uv_work_t work;
	struct transport *t;
	struct lws *wsi; /* NULL once the connection closed: free when the KDF is back */
	bool queued;	 /* on the thread pool (from ESTABLISHED on) */
	struct svc_admit a;
	struct svc_kdf kdf;
	char id[STATION_ID_MAX + 1], peer[64], password[128];
	char cert_cn[STORE_CERT_CN_MAX + 1], cert_fp[STORE_CERT_FP_MAX + 1];
};

static unsigned kdf_in_flight; /* struct kdf_wait alive */

static void kdf_work(uv_work_t *w)
{
	struct kdf_wait *k = w->data;

	svc_kdf_run(&k->kdf, k->a.password);
}

static void kdf_free(struct kdf_wait *k)
{
	explicit_bzero(k->password, sizeof(k->password));
	free(k);
	kdf_in_flight--;
}

static void kdf_after(uv_work_t *w, int status);

static int kdf_queue(struct kdf_wait *k)
{
	if (uv_queue_work(k->t->loop, &k->work, kdf_work, kdf_after) != 0)
		return -EIO;
	k->queued = true;
	return 0;
}

/* The held connection's admission is decided: release it (its conn now) or refuse it. */
static void kdf_decided(struct kdf_wait *k, int r)
{
	struct ws_pss *pss = lws_wsi_user(k->wsi);
	struct lws *wsi = k->wsi;

	pss->kdf = NULL;
	if (r == 0) {
		pss->conn = conn_create(k->t->hub, wsi, pss->id,
					(enum ocpp_version)(intptr_t)lws_get_protocol(wsi)->user);
		if (pss->conn) {
			lws_rx_flow_control(wsi, 1);
			return;
		}
	}
	/* refused (svc logged it), or no memory: a close frame (1008), then the socket closes.
	 * lws 4.1 sends the frame when it closes the connection itself (a sync kill from outside
	 * its callbacks; -1 from WRITEABLE counts as a failed write and sends none). Reads go on,
	 * for the peer's close answer; what it sent before is dropped unread. */
	pss->kdf_refused = true;
	lws_rx_flow_control(wsi, 1);
	close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "authentication failed");
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static void kdf_after(uv_work_t *w, int status)
{
	struct kdf_wait *k = w->data;
	int r;

	k->queued = false;
	if (!k->wsi) { /* closed meanwhile */
		kdf_free(k);
		return;
	}
	r = status == 0 ? svc_station_admit_conn(k->t->svc, &k->a) : -EIO;
	if (r == -EINPROGRESS && kdf_queue(k) == 0)
		return; /* the station's credential changed meanwhile: another KDF */
	kdf_decided(k, r == -EINPROGRESS ? -EIO : r);
	kdf_free(k);
}

/* The handshake's admission asked for a KDF (in *kdf): hold the connection for it. 0, or the
 * HTTP status to refuse with. */
static int kdf_hold(struct transport *t, struct lws *wsi, struct ws_pss *pss,
		    const struct svc_admit *a, const struct svc_kdf *kdf)
{
	struct kdf_wait *k;

	if (kdf_in_flight >= KDF_MAX_IN_FLIGHT) {
		log_notice("[cp %s] handshake from %s refused: %u logins wait for a KDF", a->id,
			   pss->peer, kdf_in_flight);
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	kdf_in_flight++;
	k->work.data = k;
	k->t = t;
	k->wsi = wsi;
	k->kdf = *kdf;
	k->a = *a;
	snprintf(k->id, sizeof(k->id), "%s", a->id);
	snprintf(k->peer, sizeof(k->peer), "%s", a->peer ? a->peer : "");
	snprintf(k->password, sizeof(k->password), "%s", a->password ? a->password : "");
	snprintf(k->cert_cn, sizeof(k->cert_cn), "%s", a->cert_cn ? a->cert_cn : "");
	snprintf(k->cert_fp, sizeof(k->cert_fp), "%s", a->cert_fp ? a->cert_fp : "");
	k->a.id = k->id;
	k->a.peer = a->peer ? k->peer : NULL;
	k->a.password = a->password ? k->password : NULL;
	k->a.cert_cn = a->cert_cn ? k->cert_cn : NULL;
	k->a.cert_fp = a->cert_fp ? k->cert_fp : NULL;
	k->a.kdf = &k->kdf;
	pss->kdf = k; /* queued at ESTABLISHED: from then on lws reports CLOSED for sure */
	return 0;
}

/* ESTABLISHED of a held connection: read nothing, and run the KDF. */
static int kdf_established(struct lws *wsi, struct ws_pss *pss)
{
	lws_rx_flow_control(wsi, 0);
	if (kdf_queue(pss->kdf) < 0) {
		kdf_free(pss->kdf);
		pss->kdf = NULL;
		return -1;
	}
	return 0;
}

/* CLOSED of a held connection: a queued KDF finds it gone, one never queued goes now. */
static void kdf_closed(struct ws_pss *pss)
{
	if (!pss->kdf)
		return;
	if (pss->kdf->queued)
		pss->kdf->wsi = NULL;
	else
		kdf_free(pss->kdf);
	pss->kdf = NULL;
}
/* ---- end KDF */

static int ws_handshake(struct lws *wsi, struct ws_pss *pss)
{
	struct transport *t = tp_of(wsi);
	const struct lws_protocols *proto = lws_get_protocol(wsi);
	char uri[256], password[128], safe[128];
	struct svc_admit a = {0};
	struct svc_kdf kdf = {0};
	struct tls_peer tp;
	bool present;
	int r;

	lws_get_peer_simple(wsi, pss->peer, sizeof(pss->peer));
	if (*t->draining)
		return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
	if (t->late && *t->late && !on_api_listener(wsi)) {
		/* the node's answers are late: a login now costs its reads and a boot that
		 * times out (app.c, late_answer_ms); counted, logged by app.c once per spell */
		t->shed++;
		return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
	}
	if (on_api_listener(wsi)) {
		log_notice("handshake from %s refused: the API listener takes no chargers",
			   pss->peer);
		return refuse(wsi, HTTP_STATUS_NOT_FOUND);
	}
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
	    station_id_from_uri(uri, pss->id, sizeof(pss->id)) < 0) {
		log_escape(uri, safe, sizeof(safe));
		log_notice("handshake from %s refused: path \"%.60s\" is not /ocpp/<charger-id>",
			   pss->peer, safe);
		return refuse(wsi, HTTP_STATUS_NOT_FOUND);
	}
	if (caps_full(t, pss->peer)) {
		log_notice("[cp %s] handshake from %s refused: connection cap (%u in all)", pss->id,
			   pss->peer, t->caps->total);
		return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
	}
	if (tls_peer_get(wsi, &tp) < 0) {
		log_notice("[cp %s] handshake from %s refused: unverified client certificate",
			   pss->id, pss->peer);
		return refuse(wsi, HTTP_STATUS_UNAUTHORIZED);
	}
	r = basic_auth(wsi, pss->id, password, sizeof(password), &present);
	if (r < 0) {
		log_notice("[cp %s] handshake from %s refused: malformed Authorization", pss->id,
			   pss->peer);
		return refuse(wsi, HTTP_STATUS_UNAUTHORIZED);
	}
	a.id = pss->id;
	a.password = present ? password : NULL;
	a.peer = pss->peer;
	a.profile = tls_offered_profile(&tp, present);
	a.cert_cn = tp.cert ? tp.cn : NULL;
	a.cert_fp = tp.cert ? tp.fp : NULL;
	a.no_profile0 = proto && (intptr_t)proto->user == OCPP_V201;
	a.kdf = &kdf;
	r = svc_station_admit_conn(t->svc, &a);
	if (r == -EINPROGRESS) /* upgrade, and hold the connection until the KDF decides */
		r = kdf_hold(t, wsi, pss, &a, &kdf);
	explicit_bzero(password, sizeof(password));
	if (r > 0)
		return refuse(wsi, r);
	switch (r) {
	case 0:
		return 0;
	case -EACCES: /* unknown, wrong, missing, backing off: alike (svc logged it) */
		return refuse(wsi, HTTP_STATUS_UNAUTHORIZED);
	case -EAGAIN:
		log_notice("[cp %s] handshake from %s refused: too many unregistered chargers",
			   pss->id, pss->peer);
		return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
	default:
		log_err("[cp %s] handshake refused: storage error", pss->id);
		return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
	}
}
/* ---- end security */

static int ws_write_one(struct lws *wsi, struct conn *c)
{
	struct conn_frame *f;

	/* ---- issue 10: a close with a code goes out from LWS_CALLBACK_TIMER
	 * (transport_close_frame): lws 4.1 takes a -1 from SERVER_WRITEABLE for a failed write and
	 * cuts the socket without the frame lws_close_reason() prepared. Until then the replies
	 * already due still go out, in order. */
	if (c->closing && !c->close_code)
		return -1;
	/* ---- end issue 10 */
	f = conn_tx_peek(c);
	if (!f)
		return 0;
	if (lws_write(wsi, f->buf + CONN_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
		return -1;
	conn_tx_pop(c);
	if (conn_tx_peek(c))
		lws_callback_on_writable(wsi);
	return 0;
}

static int ocpp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct ws_pss *pss = user;
	int r;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return ws_handshake(wsi, pss);
	case LWS_CALLBACK_ESTABLISHED:
		caps_add(tp_of(wsi), pss);
		if (pss->kdf)
			return kdf_established(wsi, pss);
		pss->conn = conn_create(tp_of(wsi)->hub, wsi, pss->id,
					(enum ocpp_version)(intptr_t)lws_get_protocol(wsi)->user);
		return pss->conn ? 0 : -1;
	case LWS_CALLBACK_RECEIVE:
		if (pss->kdf_refused)
			return 0; /* closing: nothing it sent is read */
		if (!pss->conn)
			return -1;
		if (lws_frame_is_binary(wsi)) {
			close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
				     "OCPP-J uses text frames");
			return -1;
		}
		r = conn_rx(pss->conn, in, len, lws_is_final_fragment(wsi));
		if (r == -EMSGSIZE) {
			close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
			return -1;
		}
		return r < 0 ? -1 : 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (pss->kdf || pss->kdf_refused)
			return 0;
		return pss->conn ? ws_write_one(wsi, pss->conn) : -1;
	case LWS_CALLBACK_TIMER: /* issue 10: conn_close(), with its close frame */
		if (!pss->conn || !pss->conn->closing)
			return 0;
		if ((conn_tx_peek(pss->conn) || pss->conn->held_head) &&
		    pss->close_waits++ < CLOSE_DRAIN_TICKS) {
			/* replies still due (a CALLERROR behind results waiting for the flush) */
			lws_callback_on_writable(wsi);
			lws_set_timer_usecs(wsi, CLOSE_DRAIN_TICK_US);
			return 0;
		}
		if (pss->conn->close_code)
			lws_close_reason(wsi, (enum lws_close_status)pss->conn->close_code,
					 (unsigned char *)pss->conn->close_reason,
					 strlen(pss->conn->close_reason));
		return -1;
	case LWS_CALLBACK_CLOSED:
		kdf_closed(pss);
		caps_del(tp_of(wsi), pss);
		conn_destroy(pss->conn);
		pss->conn = NULL;
		return 0;
	default:
		return 0;
	}
}

/* ---- /api/live: the dashboards' event stream (subprotocol "csms-live", api_live.c) */
#define LIVE_PROTOCOL "csms-live"
_Static_assert(LWS_PRE <= API_LIVE_PRE, "API_LIVE_PRE must leave room for the lws header");

struct live_pss {
	struct api_live_client *client;
};

/* The Origin of a browser's upgrade must be this server (Host): another site's page may not
 * read the operator's event stream with the operator's cookie. No Origin: not a browser. */
static bool live_origin_ok(struct lws *wsi)
{
	char origin[256] = "", host[256] = "";
	const char *o = origin;

	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return true;
	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	if (strncmp(o, "http://", 7) == 0)
		o += 7;
	else if (strncmp(o, "https://", 8) == 0)
		o += 8;
	else
		return false;
	return strcasecmp(o, host) == 0;
}

static void live_wake(void *wsi)
{
	lws_callback_on_writable(wsi);
}

static int live_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct live_pss *pss = user;
	struct transport *t;
	char uri[64] = "";
	unsigned char *buf;
	size_t n;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		t = tp_of(wsi);
		if (*t->draining)
			return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
		lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
		if (strcmp(uri, "/api/live") != 0)
			return refuse(wsi, HTTP_STATUS_NOT_FOUND);
		if (!http_allowed_here(wsi)) /* the API has its own listener (api_listen) */
			return refuse(wsi, HTTP_STATUS_NOT_FOUND);
		if (!live_origin_ok(wsi))
			return refuse(wsi, HTTP_STATUS_FORBIDDEN);
		return live_auth(wsi, t) < 0 ? refuse(wsi, HTTP_STATUS_UNAUTHORIZED) : 0;
	case LWS_CALLBACK_ESTABLISHED:
		pss->client = api_live_open(tp_of(wsi)->api, wsi, live_wake);
		return pss->client ? 0 : -1;
	case LWS_CALLBACK_RECEIVE:
		if (pss->client && len < 1024)
			api_live_rx(pss->client, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!pss->client)
			return -1;
		if (api_live_overflowed(pss->client)) {
			close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
			return -1;
		}
		buf = api_live_peek(pss->client, &n);
		if (!buf)
			return 0;
		if (lws_write(wsi, buf, n, LWS_WRITE_TEXT) < (int)n)
			return -1;
		api_live_pop(pss->client);
		if (api_live_peek(pss->client, &n))
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
		api_live_close(pss->client);
		pss->client = NULL;
		return 0;
	default:
		return 0;
	}
}
/* ---- end /api/live */

static int http_method(struct lws *wsi)
{
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
		return API_GET;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
		return API_POST;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI))
		return API_PUT;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI))
		return API_DELETE;
	return API_OTHER;
}

static int http_start(struct lws *wsi, struct http_pss *pss)
{
	static const enum lws_token_indexes uri_tokens[] = {
	    [API_GET] = WSI_TOKEN_GET_URI,
	    [API_POST] = WSI_TOKEN_POST_URI,
	    [API_PUT] = WSI_TOKEN_PUT_URI,
	    [API_DELETE] = WSI_TOKEN_DELETE_URI,
	};
	static const enum lws_token_indexes other_tokens[] = {
	    WSI_TOKEN_PATCH_URI, WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_HEAD_URI};
	struct api_req *r = calloc(1, sizeof(*r));
	char clen[24];
	size_t q = 0;
	int i;

	if (!r)
		return -1;
	r->api = tp_of(wsi)->api;
	r->ready = transport_http_ready;
	r->http = wsi;
	r->method = http_method(wsi);
	pss->req = r;
	http_collect_headers(wsi, r);
	if (r->method != API_OTHER)
		lws_hdr_copy(wsi, r->path, sizeof(r->path), uri_tokens[r->method]);
	else /* PATCH, OPTIONS, HEAD: the path still tells 405 (a route) from 404 */
		for (i = 0; i < 3 && !r->path[0]; i++)
			if (lws_hdr_total_length(wsi, other_tokens[i]))
				lws_hdr_copy(wsi, r->path, sizeof(r->path), other_tokens[i]);
	for (i = 0; i < 16; i++) {
		char frag[256];
		int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);

		if (n <= 0)
			break;
		if (q + (size_t)n + 2 >= sizeof(r->query))
			break;
		q += (size_t)snprintf(r->query + q, sizeof(r->query) - q, "%s%s", q ? "&" : "",
				      frag);
	}
	/* A request without a body is handled now; one with a body when it is complete. */
	if ((r->method == API_POST || r->method == API_PUT) &&
	    lws_hdr_copy(wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
	    atol(clen) > 0) {
		if (atol(clen) > API_MAX_BODY)
			r->body_too_large = true;
		else
			return 0;
	}
	api_handle(r);
	return 0;
}

static int http_write(struct lws *wsi, struct http_pss *pss)
{
	struct api_req *r = pss->req;
	unsigned char buf[LWS_PRE + 16384];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	size_t chunk;

	if (!r || !r->done)
		return 0;
	if (!r->headers_sent) {
		if (lws_add_http_common_headers(wsi, (unsigned)r->status,
						r->resp_type ? r->resp_type : "application/json",
						r->resp_len, &p, end) ||
		    http_extra_headers(wsi, r, &p, end) ||
		    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
						 (const unsigned char *)"no-store", 8, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		r->headers_sent = true;
		if (r->resp_len) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	} else {
		chunk = r->resp_len - r->resp_sent;
		if (chunk > sizeof(buf) - LWS_PRE)
			chunk = sizeof(buf) - LWS_PRE;
		memcpy(start, r->resp + r->resp_sent, chunk);
		r->resp_sent += chunk;
		if (lws_write(wsi, start, chunk,
			      r->resp_sent == r->resp_len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
		    (int)chunk)
			return -1;
		if (r->resp_sent < r->resp_len) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	api_req_free(r);
	pss->req = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Before lws picks a subprotocol: refuse, with a clear log line, a charger that offers none we
 * speak (lws would otherwise drop it silently). */
static int confirm_upgrade(struct lws *wsi, const char *upgrade)
{
	char offered[256] = "", uri[128] = "", peer[64] = "", *save = NULL;
	char safe_offered[4 * sizeof(offered)], safe_uri[4 * sizeof(uri)];

	if (!upgrade)
		return 0;
	/* ---- issue 10: only WebSocket upgrades. lws 4.1 would switch an `Upgrade: h2c`
	 * request to cleartext HTTP/2 (RFC 7540 3.2), a second parser and a second set of
	 * limits in front of the API: refused with 400 instead. */
	if (strcasecmp(upgrade, "websocket") != 0) {
		char safe_up[64];

		lws_get_peer_simple(wsi, peer, sizeof(peer));
		log_escape(upgrade, safe_up, sizeof(safe_up));
		log_notice("upgrade from %s refused: \"%s\" is not websocket", peer, safe_up);
		lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, "upgrade not supported");
		return 1;
	}
	/* ---- end issue 10 */
	lws_hdr_copy(wsi, offered, sizeof(offered), WSI_TOKEN_PROTOCOL);
	{
		char copy[sizeof(offered)];

		snprintf(copy, sizeof(copy), "%s", offered);
		for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
			if (ocpp_version_from_name(t) >= 0 || strcmp(t, LIVE_PROTOCOL) == 0)
				return 0;
	}
	lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	/* issue 10: the client's bytes are escaped before they reach the log */
	log_escape(offered, safe_offered, sizeof(safe_offered));
	log_escape(uri, safe_uri, sizeof(safe_uri));
	log_notice("handshake from %s for %s refused: subprotocol \"%s\" is none of ocpp2.0.1, "
		   "ocpp1.6",
		   peer, safe_uri, safe_offered);
	lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, "no supported OCPP subprotocol");
	return 1;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct http_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return *tp_of(wsi)->draining ? -1 : 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(wsi, in);
	case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
		return tls_verify_cert(len);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		/* An upgrade that named no OCPP subprotocol we speak lands here: refuse it. */
		char offered[128] = "", uri[128] = "", peer[64] = "";
		char safe_offered[4 * sizeof(offered)], safe_uri[4 * sizeof(uri)];

		lws_hdr_copy(wsi, offered, sizeof(offered), WSI_TOKEN_PROTOCOL);
		lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
		lws_get_peer_simple(wsi, peer, sizeof(peer));
		log_escape(offered, safe_offered, sizeof(safe_offered)); /* issue 10 */
		log_escape(uri, safe_uri, sizeof(safe_uri));
		log_notice("handshake from %s for %s refused: subprotocol \"%s\" is none of "
			   "ocpp2.0.1, ocpp1.6",
			   peer, safe_uri, safe_offered);
		return -1;
	}
	case LWS_CALLBACK_HTTP:
		if (pss->req) /* a pipelined request before the last answer: not supported */
			return -1;
		if (!http_allowed_here(wsi)) { /* the API has its own listener (api_listen) */
			lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
			return -1;
		}
		return http_start(wsi, pss);
	case LWS_CALLBACK_HTTP_BODY:
		if (pss->req)
			api_body_append(pss->req, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (pss->req && !pss->req->done && !pss->req->pending)
			api_handle(pss->req);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return http_write(wsi, pss);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss && pss->req) {
			api_req_detach(pss->req);
			pss->req = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
    {"http-api", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0},
    /* lws takes the first of the client's offered subprotocols that it finds here (RFC 6455
	 * preference order) */
    {"ocpp2.0.1", ocpp_callback, sizeof(struct ws_pss), 4096, 0, (void *)(intptr_t)OCPP_V201, 0},
    {"ocpp1.6", ocpp_callback, sizeof(struct ws_pss), 4096, 0, (void *)(intptr_t)OCPP_V16, 0},
    {LIVE_PROTOCOL, live_callback, sizeof(struct live_pss), 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* No lws idle/validity timer per connection: lws 4.1 keeps its timers in one sorted list, so a
 * timer per connection makes every new connection an O(n) insert (measured: 30 % of CSMS CPU
 * in a 10,000-charger boot storm). Liveness comes from TCP keepalive (ka_* below) and the
 * chargers' heartbeats. */
static const lws_retry_bo_t no_idle_policy = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

/* ---- security headers of every HTTP response (the dashboard's files and the API): a strict
 * CSP (no inline script or style, nothing from elsewhere, WebSocket only to this server) */
static const struct lws_protocol_vhost_options sec_headers[] = {
    {&sec_headers[1], NULL, "content-security-policy:",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
     "form-action 'self'"},
    {&sec_headers[2], NULL, "x-content-type-options:", "nosniff"},
    {&sec_headers[3], NULL, "x-frame-options:", "deny"},
    {NULL, NULL, "referrer-policy:", "no-referrer"},
};
/* ---- end security headers */

static void lws_log(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == '\n')
		n--;
	/* ---- issue 10: one log line per refused handshake. lws 4.1 warns "User code denied
	 * connection" after each handshake our callbacks refused, which they logged already
	 * (with the reason); its "Ran out of header data space" is a client's oversized
	 * request head (docs/security.md, "Hostile clients"), not a server error. */
	if (strstr(line, "User code denied connection"))
		level = LLL_DEBUG;
	else if (strstr(line, "Ran out of header data space"))
		level = LLL_NOTICE;
	/* ---- end issue 10 */
	log_printf(level == LLL_ERR	 ? LOG_ERR
		   : level == LLL_WARN	 ? LOG_WARN
		   : level == LLL_NOTICE ? LOG_NOTICE
					 : LOG_DEBUG,
		   "lws: %.*s", (int)n, line);
}

/* ---- the API listener (accounts): a second vhost when api_listen is set */
static int start_two_vhosts(struct transport *t, struct transport_priv *tp,
			    struct lws_context_creation_info *info,
			    const struct lws_http_mount *mounts)
{
	const struct cfg *c = t->cfg;
	unsigned long base = info->options;

	info->options = base | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
			(c->api_tls_cert || c->tls_cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info->port = CONTEXT_PORT_NO_LISTEN;
	info->mounts = NULL;
	t->lws = lws_create_context(info);
	if (!t->lws)
		return -EIO;
	/* chargers: no mounts, and http_callback refuses HTTP here */
	info->options = base | (strchr(c->listen_host, ':') ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
	info->vhost_name = "default";
	info->port = c->listen_port;
	info->iface = c->listen_host;
	tls_vhost_info(c, info);
	tp->charger_vh = lws_create_vhost(t->lws, info);
	if (!tp->charger_vh)
		return c->tls_cert ? -EKEYREJECTED : -EADDRINUSE;
	tls_vhost_info_clear(info);
	/* lws 4.1 reads the TLS switch from the vhost's options too */
	info->options = base |
			(strchr(c->api_listen_host, ':') ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6) |
			(c->api_tls_cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info->vhost_name = "api";
	info->port = c->api_listen_port;
	info->iface = c->api_listen_host;
	info->mounts = mounts;
	/* HTTP/1.1 only: the API reads X-CSRF-Token as a custom header, which lws 4.1 keeps for
	 * h1 only */
	info->alpn = "http/1.1";
	info->ssl_cert_filepath = c->api_tls_cert;
	info->ssl_private_key_filepath = c->api_tls_key;
	tp->api_vh = lws_create_vhost(t->lws, info);
	if (!tp->api_vh)
		return c->api_tls_cert ? -EKEYREJECTED : -EADDRINUSE;
	t->port = lws_get_vhost_listen_port(tp->charger_vh);
	t->api_port = lws_get_vhost_listen_port(tp->api_vh);
	return t->port > 0 && t->api_port > 0 ? 0 : -EADDRINUSE;
}
/* ---- end of the API listener */

/* Plain ws:// (Basic auth in clear text) on an address other hosts reach: say so loudly. */
static void warn_plain_listener(const struct transport *t)
{
	const char *h = t->cfg->listen_host;

	if (cfg_host_loopback(h))
		return;
	if (t->cfg->tls_cert && !t->cfg->tls_allow_plain)
		return; /* wss:// only */
	log_warn("**************************************************************************");
	log_warn("* plain ws:// on %s: chargers' passwords and traffic cross the network in", h);
	log_warn("* clear text. Use TLS (security profiles 2/3, docs/security.md) or listen");
	log_warn("* on loopback behind a TLS terminator.");
	if (!t->cfg->api_listen_host[0])
		log_warn("* The operator API and the dashboard share this listener (api_listen).");
	log_warn("**************************************************************************");
}

int transport_start(struct transport *t)
{
	struct lws_context_creation_info info;
	struct transport_priv *tp = calloc(1, sizeof(*tp));
	void *loops[1] = {t->loop};
	struct lws_vhost *vh;

	if (!tp)
		return -ENOMEM;
	t->priv = tp;
	tp->metrics = (struct lws_http_mount){
	    .mountpoint = "/metrics",
	    .mountpoint_len = 8,
	    .origin = "http-api",
	    .origin_protocol = LWSMPRO_CALLBACK,
	};
	t->caps = calloc(1, sizeof(*t->caps));
	if (!t->caps)
		return -ENOMEM;
	if (tls_files_ok(t->cfg) < 0)
		return -EKEYREJECTED;
	warn_plain_listener(t);
	tp->api = (struct lws_http_mount){
	    .mount_next = &tp->metrics,
	    .mountpoint = "/api",
	    .mountpoint_len = 4,
	    .origin = "http-api",
	    .origin_protocol = LWSMPRO_CALLBACK,
	};

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
		       LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.headers = sec_headers; /* instead of lws' canned set: our CSP */
	info.foreign_loops = loops;
	info.protocols = protocols;
	info.user = t;
	info.ka_time = 120; /* TCP keepalive: a charger that vanished is noticed */
	info.ka_probes = 4;
	info.ka_interval = 15;
	info.timeout_secs = 10;
	info.retry_and_idle_policy = &no_idle_policy;
	info.mounts = &tp->api;
	if (t->cfg->web_root && access(t->cfg->web_root, R_OK | X_OK) == 0) {
		tp->web = (struct lws_http_mount){
		    .mount_next = &tp->api,
		    .mountpoint = "/",
		    .mountpoint_len = 1,
		    .origin = t->cfg->web_root,
		    .def = "index.html",
		    .origin_protocol = LWSMPRO_FILE,
		};
		info.mounts = &tp->web;
	}
	if (t->cfg->api_listen_host[0])
		return start_two_vhosts(t, tp, &info, info.mounts);
	if (!strchr(t->cfg->listen_host, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = t->cfg->listen_port; /* 0: the kernel picks a free port */
	info.iface = t->cfg->listen_host;
	tls_vhost_info(t->cfg, &info);
	t->lws = lws_create_context(&info);
	if (!t->lws)
		return t->cfg->tls_cert ? -EKEYREJECTED : -EIO;
	vh = lws_get_vhost_by_name(t->lws, "default");
	t->port = vh ? lws_get_vhost_listen_port(vh) : t->cfg->listen_port;
	if (t->port <= 0)
		return -EADDRINUSE;
	return 0;
}

void transport_stop(struct transport *t)
{
	/* lws 4.1 on a foreign loop: this first destroy closes every connection and lws' own
	 * handles as the loop runs; transport_free() finishes once they are off the loop. */
	if (t->lws && !t->lws_stopping)
		lws_context_destroy(t->lws);
	t->lws_stopping = true;
}

void transport_free(struct transport *t)
{
	if (t->lws) {
		/* the second destroy frees the context now that its handles are closed */
		lws_context_destroy(t->lws);
		t->lws = NULL;
		uv_run(t->loop, UV_RUN_DEFAULT);
	}
	free(t->priv);
	t->priv = NULL;
	if (t->caps) {
		for (size_t i = 0; i < t->caps->peers.cap; i++)
			if (t->caps->peers.slots[i].key)
				free(t->caps->peers.slots[i].value);
		hmap_free(&t->caps->peers);
		free(t->caps);
		t->caps = NULL;
	}
}

int transport_write_text(void *wsi, unsigned char *buf, size_t len)
{
	if (lws_partial_buffered(wsi))
		return -EAGAIN;
	return lws_write(wsi, buf, len, LWS_WRITE_TEXT) < (int)len ? -EIO : 0;
}

void transport_want_write(void *wsi)
{
	lws_callback_on_writable(wsi);
}

void transport_close(void *wsi)
{
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void transport_close_frame(void *wsi)
{
	/* issue 10: the close frame goes out from LWS_CALLBACK_TIMER, where a -1 makes lws 4.1
	 * send what lws_close_reason() set and wait for the peer's close; a peer that does not
	 * read is cut after 5 s */
	lws_set_timer_usecs(wsi, 0);
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 5);
	/* called from outside lws (the liveness sweep): a WRITEABLE turn makes lws look at its
	 * timers again */
	lws_callback_on_writable(wsi);
}

void transport_http_ready(void *http)
{
	lws_callback_on_writable(http);
}
