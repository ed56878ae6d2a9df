/* SPDX-License-Identifier: MIT */
/* cpclient: OCPP-J WebSocket client connections on lws' libuv event loop (see cpclient.h). */
#include "cpclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * A minted key is made with OpenSSL's EC_KEY API, deprecated in 3.0: a key of the 3.0 providers
 * costs 1.8 ms in X509_set_pubkey() (an encoder is looked up for every call) against 51 us for an
 * EC_KEY (measured with OpenSSL 3.0.19 on the shared build machine, load 14), the difference
 * between 14 s and 2 s to start 5,000 chargers.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <libwebsockets.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <uv.h>

#define DEFAULT_RX_CHUNK     1024
#define DEFAULT_MAX_MESSAGE  (1024 * 1024)
#define DEFAULT_MAX_TX_QUEUE 64
#define PROTOCOL_NAME	     "cpclient"
#define MAX_LWS_HANDLES	     16
#define DESTROY_TIMEOUT_MS   5000

enum conn_state {
	CONN_CONNECTING,
	CONN_OPEN,
	CONN_CLOSING, /* close asked for; queued frames still go out first */
	CONN_DONE,
};

/* One queued outgoing frame: LWS_PRE bytes of headroom, then the payload. */
/* No lws idle/validity timer per connection: lws 4.1 keeps timers in one sorted list, so one
 * per connection makes each new connection an O(n) insert (the csms measured 30 % of its CPU
 * there in a 10,000-charger storm). The OCPP heartbeat is the liveness check. */
static const lws_retry_bo_t no_idle_policy = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

struct tx_frame {
	struct tx_frame *next;
	size_t len;
	unsigned char buf[];
};

struct cpclient_cert {
	X509 *x509;
	EVP_PKEY *key;
};

struct cpclient_conn {
	struct cpclient_ctx *ctx;
	struct cpclient_conn *prev, *next; /* ctx->conns */
	struct lws *wsi;		   /* NULL once lws has let go of us */
	void *user;
	/* on ctx->hs, with its certificate (borrowed), from the connect until ESTABLISHED */
	struct cpclient_conn *hs_prev, *hs_next;
	const struct cpclient_cert *cert;
	char *auth; /* "Basic …" until the handshake is sent */
	struct tx_frame *tx_head, *tx_tail;
	char *rx; /* the message being reassembled */
	size_t rx_len, rx_cap;
	unsigned int tx_count;
	int http_status;
	int peer_code;	      /* close code from the peer's close frame */
	int local_code;	      /* close code we send */
	uint8_t state;	      /* enum conn_state */
	bool peer_closed : 1; /* the server sent a close frame */
	bool local_close : 1; /* cpclient_close() or ctx destroy */
	bool too_big : 1;     /* we closed because a message was over max_message */
	bool rx_skip : 1;     /* dropping the rest of a binary message */
	bool in_connect : 1;  /* inside lws_client_connect_via_info() */
	bool sync_failed : 1; /* lws ended us inside that call */
	bool orphan : 1;      /* connect failed; free silently when lws is done */
	char subproto[16];
};

struct cpclient_ctx {
	struct lws_context *lws; /* lws writes NULL here when it is really gone (pcontext) */
	uv_loop_t *loop;
	struct cpclient_callbacks cb;
	size_t max_message;
	unsigned int max_tx_queue;
	struct cpclient_conn *conns;
	struct cpclient_conn *hs; /* connections with their own certificate, before ESTABLISHED */
	bool destroying;
	bool tls;
	unsigned int n_lws_handles;
	uv_handle_t *lws_handles[MAX_LWS_HANDLES]; /* lws' own handles on the loop */
	struct lws_protocols protocols[2];
};

static int conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len);

void cpclient_set_log_level(int level)
{
	int mask = LLL_ERR;

	if (level >= 1)
		mask |= LLL_WARN | LLL_NOTICE;
	if (level >= 2)
		mask |= LLL_INFO;
	lws_set_log_level(mask, NULL);
}

/* ---------------------------------------------------------------- client certificates */

int cpclient_cert_load(const char *cert_file, const char *key_file, struct cpclient_cert **ret_cert)
{
	struct cpclient_cert *cert = NULL;
	FILE *fc = NULL, *fk = NULL;
	int r = -ENOENT;

	if (!cert_file || !key_file)
		return -EINVAL;
	fc = fopen(cert_file, "re");
	fk = fopen(key_file, "re");
	if (!fc || !fk)
		goto out;
	r = -ENOMEM;
	cert = calloc(1, sizeof(*cert));
	if (!cert)
		goto out;
	r = -EINVAL;
	cert->x509 = PEM_read_X509(fc, NULL, NULL, NULL);
	cert->key = PEM_read_PrivateKey(fk, NULL, NULL, NULL);
	if (!cert->x509 || !cert->key || X509_check_private_key(cert->x509, cert->key) != 1)
		goto out;
	*ret_cert = cert;
	cert = NULL;
	r = 0;
out:
	ERR_clear_error();
	cpclient_cert_free(cert);
	if (fc)
		fclose(fc);
	if (fk)
		fclose(fk);
	return r;
}

/* Add extension `nid` with OpenSSL's config text `value` to x, issued by ca. */
static int add_ext(X509 *ca, X509 *x, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&v, ca, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
	if (!e)
		return -EINVAL;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -ENOMEM;
}

int cpclient_cert_mint(const struct cpclient_cert *ca, const char *cn, unsigned int valid_s,
		       struct cpclient_cert **ret_cert)
{
	struct cpclient_cert *cert = NULL;
	EC_KEY *ec = NULL;
	unsigned char serial[8];
	uint64_t sn = 0;
	int r = -EINVAL;

	if (!ca || !ca->x509 || !ca->key || !cn || !*cn || !valid_s)
		return -EINVAL;
	cert = calloc(1, sizeof(*cert));
	if (!cert)
		return -ENOMEM;
	r = -ENOMEM;
	/* P-256: a key in microseconds, not RSA's tens of milliseconds */
	ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	cert->key = EVP_PKEY_new();
	cert->x509 = X509_new();
	if (!ec || !cert->key || !cert->x509 || RAND_bytes(serial, sizeof(serial)) != 1 ||
	    EC_KEY_generate_key(ec) != 1 || EVP_PKEY_assign_EC_KEY(cert->key, ec) != 1)
		goto out;
	ec = NULL; /* owned by cert->key now */
	for (size_t i = 0; i < sizeof(serial); i++)
		sn = sn << 8 | serial[i];
	sn = (sn >> 1) | 1; /* positive, non-zero (RFC 5280 4.1.2.2) */
	r = -EINVAL;
	if (X509_set_version(cert->x509, 2) != 1 ||
	    ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert->x509), sn) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert->x509), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert->x509), (long)valid_s) ||
	    X509_set_pubkey(cert->x509, cert->key) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert->x509), "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(cert->x509, X509_get_subject_name(ca->x509)) != 1)
		goto out;
	if (add_ext(ca->x509, cert->x509, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(ca->x509, cert->x509, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(ca->x509, cert->x509, NID_ext_key_usage, "clientAuth") < 0)
		goto out;
	r = -EIO;
	if (X509_sign(cert->x509, ca->key, EVP_sha256()) <= 0)
		goto out;
	*ret_cert = cert;
	cert = NULL;
	r = 0;
out:
	ERR_clear_error();
	EC_KEY_free(ec);
	cpclient_cert_free(cert);
	return r;
}

void cpclient_cert_free(struct cpclient_cert *cert)
{
	if (!cert)
		return;
	X509_free(cert->x509);
	EVP_PKEY_free(cert->key);
	free(cert);
}

static void hs_unlink(struct cpclient_conn *c)
{
	if (!c->cert)
		return;
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else if (c->ctx->hs == c)
		c->ctx->hs = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
	c->cert = NULL;
}

/*
 * OpenSSL asks for the client certificate of one SSL object (the server sent a
 * CertificateRequest).  lws 4.1 has one client SSL_CTX per vhost and no per-connection
 * certificate but its single lws_system blob, so the connection's own certificate goes onto
 * its SSL here; the SSL takes its own references.  Only connections still handshaking with a
 * certificate of their own are searched.
 */
static int cert_cb(SSL *ssl, void *arg)
{
	struct cpclient_ctx *ctx = arg;
	struct cpclient_conn *c;

	for (c = ctx->hs; c; c = c->hs_next)
		if (c->wsi && lws_get_ssl(c->wsi) == ssl)
			break;
	if (!c)
		return 1; /* the context's certificate, if any */
	if (SSL_use_certificate(ssl, c->cert->x509) != 1 ||
	    SSL_use_PrivateKey(ssl, c->cert->key) != 1)
		return 0; /* fails the handshake */
	return 1;
}

/* ---------------------------------------------------------------- connections */

static void conn_free(struct cpclient_conn *c)
{
	struct tx_frame *f;

	if (!c)
		return;
	hs_unlink(c);
	if (c->prev)
		c->prev->next = c->next;
	else if (c->ctx->conns == c)
		c->ctx->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	while ((f = c->tx_head)) {
		c->tx_head = f->next;
		free(f);
	}
	free(c->rx);
	free(c->auth);
	free(c);
}

static bool is_loopback(const char *host)
{
	struct in_addr a;

	if (!host)
		return false;
	if (!strcmp(host, "localhost"))
		return true;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* *ret_value = "Basic " + base64(user ":" password); -ENOMEM or -EINVAL leave it untouched. */
static int make_basic_auth(const char *user, const char *password, char **ret_value)
{
	size_t ulen = strlen(user), plen = password ? strlen(password) : 0;
	size_t rawlen = ulen + 1 + plen, outlen = 6 + (rawlen + 2) / 3 * 4 + 8;
	char *raw, *out;
	int r = -ENOMEM;

	raw = malloc(rawlen + 1);
	out = malloc(outlen);
	if (!raw || !out)
		goto out;
	snprintf(raw, rawlen + 1, "%s:%s", user, password ? password : "");
	memcpy(out, "Basic ", 6);
	if (lws_b64_encode_string(raw, (int)rawlen, out + 6, (int)(outlen - 6)) < 0) {
		r = -EINVAL;
		goto out;
	}
	*ret_value = out;
	out = NULL;
	r = 0;
out:
	if (raw)
		explicit_bzero(raw, rawlen);
	free(raw);
	free(out);
	return r;
}

/* Hand the end of `c` to the user and free it; called once, for the last lws event. */
static void conn_end(struct cpclient_conn *c, struct lws *wsi, const char *detail)
{
	struct cpclient_close_info info = {0};

	lws_set_opaque_user_data(wsi, NULL);
	c->wsi = NULL;
	if (c->in_connect) {
		/* cpclient_connect() reports this one itself */
		c->sync_failed = true;
		return;
	}
	if (c->orphan) {
		conn_free(c);
		return;
	}
	if (c->local_close) {
		info.end = CPCLIENT_END_LOCAL;
		info.close_code = c->local_code;
	} else if (c->too_big) {
		info.end = CPCLIENT_END_ERROR;
		info.close_code = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
		detail = "message too large";
	} else if (c->peer_closed) {
		info.end = CPCLIENT_END_PEER;
		info.close_code = c->peer_code;
	} else if (c->state == CONN_CONNECTING && ((c->http_status && c->http_status != 101) ||
						   (detail && !strncmp(detail, "HS:", 3)))) {
		info.end = CPCLIENT_END_REFUSED;
	} else {
		info.end = CPCLIENT_END_ERROR;
	}
	info.http_status = c->http_status;
	info.detail = detail;
	c->state = CONN_DONE;
	if (c->ctx->cb.on_close)
		c->ctx->cb.on_close(c, &info);
	conn_free(c);
}

/* The HTTP status of a refused upgrade, while lws still holds the response headers. */
static int refused_status(struct lws *wsi)
{
	char buf[8];
	int n;

	n = (int)lws_http_client_http_response(wsi);
	if (n > 0)
		return n;
	if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP) > 0)
		return atoi(buf);
	return 0;
}

static int conn_rx(struct cpclient_conn *c, struct lws *wsi, const void *in, size_t len)
{
	size_t need;
	char *p;

	if (lws_is_first_fragment(wsi))
		c->rx_skip = lws_frame_is_binary(wsi); /* OCPP-J is text only: drop binary */
	if (c->rx_skip || c->too_big)
		return 0;
	need = c->rx_len + len + 1;
	if (need > c->ctx->max_message + 1) {
		/* close from WRITEABLE, as lws wants; drop what is still coming */
		c->too_big = true;
		free(c->rx);
		c->rx = NULL;
		c->rx_len = c->rx_cap = 0;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (need > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 256;

		while (cap < need)
			cap *= 2;
		p = realloc(c->rx, cap);
		if (!p) {
			c->too_big = true; /* same way out: close 1009 from WRITEABLE */
			lws_callback_on_writable(wsi);
			return 0;
		}
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return 0;

	/* The message buffer goes with the message: an idle connection holds no rx memory. */
	p = c->rx;
	len = c->rx_len;
	p[len] = '\0';
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	if (c->ctx->cb.on_text && c->state == CONN_OPEN)
		c->ctx->cb.on_text(c, p, len);
	free(p);
	return 0;
}

/* lws-coding rule: exactly one lws_write() per WRITEABLE, re-arm while frames remain. */
static int conn_tx(struct cpclient_conn *c, struct lws *wsi)
{
	struct tx_frame *f = c->tx_head;
	int n;

	if (c->too_big) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
		return -1;
	}
	if (!f) {
		if (c->state == CONN_CLOSING) {
			lws_close_reason(wsi, (enum lws_close_status)c->local_code, NULL, 0);
			return -1;
		}
		return 0;
	}
	c->tx_head = f->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	c->tx_count--;
	n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
	free(f);
	if (n < 0)
		return -1;
	if (c->tx_head || c->state == CONN_CLOSING)
		lws_callback_on_writable(wsi);
	return 0;
}

static int conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct cpclient_conn *c;
	char detail[128];

	if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS) {
		/* `user` is the vhost's client SSL_CTX, shared by every connection */
		struct cpclient_ctx *ctx = lws_context_user(lws_get_context(wsi));

		if (user && ctx)
			SSL_CTX_set_cert_cb(user, cert_cb, ctx);
		return 0;
	}
	c = lws_get_opaque_user_data(wsi);
	if (!c)
		return 0;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;

		if (!c->auth)
			return 0;
		if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
						 (const unsigned char *)c->auth,
						 (int)strlen(c->auth), p, end))
			return -1;
		return 0;
	}
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		/* the headers are gone by ESTABLISHED */
		if (lws_hdr_copy(wsi, c->subproto, sizeof(c->subproto), WSI_TOKEN_PROTOCOL) < 0)
			c->subproto[0] = '\0';
		return 0;

	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->http_status = 101;
		hs_unlink(c);
		if (c->auth) {
			explicit_bzero(c->auth, strlen(c->auth));
			free(c->auth);
			c->auth = NULL;
		}
		if (c->state == CONN_CONNECTING)
			c->state = CONN_OPEN;
		if (c->ctx->cb.on_open && c->state == CONN_OPEN)
			c->ctx->cb.on_open(c, c->subproto);
		if (c->tx_head || c->state == CONN_CLOSING)
			lws_callback_on_writable(wsi);
		return 0;

	case LWS_CALLBACK_CLIENT_RECEIVE:
		return conn_rx(c, wsi, in, len);

	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return conn_tx(c, wsi);

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
		const unsigned char *b = in;

		c->peer_closed = true;
		c->peer_code = len >= 2 ? (b[0] << 8) | b[1] : LWS_CLOSE_STATUS_NO_STATUS;
		return 0;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c->state == CONN_CONNECTING)
			c->http_status = refused_status(wsi);
		snprintf(detail, sizeof(detail), "%.*s", in ? (int)len : 0,
			 in ? (const char *)in : "");
		conn_end(c, wsi, detail[0] ? detail : NULL);
		return 0;

	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_end(c, wsi, NULL);
		return 0;

	case LWS_CALLBACK_WSI_DESTROY:
		/* last resort: a wsi that went away without either event above */
		conn_end(c, wsi, "connection destroyed");
		return 0;

	default:
		return 0;
	}
}

int cpclient_connect(struct cpclient_ctx *ctx, const struct cpclient_opts *o,
		     struct cpclient_conn **ret_conn)
{
	struct lws_client_connect_info i;
	struct cpclient_conn *c;
	struct lws *wsi;
	int r;

	if (!ctx || !o || !o->host || !o->path || !o->subprotocols || o->port <= 0 ||
	    o->port > 65535 || ctx->destroying)
		return -EINVAL;
	if ((o->ssl && !ctx->tls) || (o->ssl_insecure && !is_loopback(o->host)) ||
	    (o->cert && !o->ssl))
		return -EINVAL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctx = ctx;
	c->user = o->user_ptr;
	c->local_code = LWS_CLOSE_STATUS_NORMAL;
	if (o->user) {
		r = make_basic_auth(o->user, o->password, &c->auth);
		if (r < 0) {
			free(c);
			return r;
		}
	}
	c->next = ctx->conns;
	if (ctx->conns)
		ctx->conns->prev = c;
	ctx->conns = c;
	if (o->cert) {
		c->cert = o->cert;
		c->hs_next = ctx->hs;
		if (ctx->hs)
			ctx->hs->hs_prev = c;
		ctx->hs = c;
	}

	memset(&i, 0, sizeof(i));
	i.context = ctx->lws;
	i.address = o->host;
	i.port = o->port;
	i.path = o->path;
	i.host = o->server_name ? o->server_name : o->host;
	i.origin = i.host;
	i.protocol = o->subprotocols;
	i.local_protocol_name = PROTOCOL_NAME;
	i.iface = o->source_addr;
	i.opaque_user_data = c;
	i.retry_and_idle_policy = &no_idle_policy;
	if (o->ssl) {
		i.ssl_connection = LCCSCF_USE_SSL;
		if (o->ssl_insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_EXPIRED |
					    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	}

	c->in_connect = true;
	wsi = lws_client_connect_via_info(&i);
	c->in_connect = false;
	if (!wsi || c->sync_failed) {
		if (wsi || c->sync_failed) {
			/* lws already ended the wsi and told us: nothing refers to c any more */
			conn_free(c);
		} else {
			/* no word from lws: a wsi may still point at c; free it when lws is done,
			 * or at the latest in cpclient_ctx_destroy() */
			c->orphan = true;
		}
		return -ECONNREFUSED;
	}
	c->wsi = wsi;
	*ret_conn = c;
	return 0;
}

int cpclient_send_text(struct cpclient_conn *c, const char *buf, size_t len)
{
	struct tx_frame *f;

	if (!c || c->state >= CONN_CLOSING || !c->wsi)
		return -EPIPE;
	if (c->tx_count >= c->ctx->max_tx_queue)
		return -ENOBUFS;
	f = malloc(sizeof(*f) + LWS_PRE + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, buf, len);
	if (c->tx_tail)
		c->tx_tail->next = f;
	else
		c->tx_head = f;
	c->tx_tail = f;
	c->tx_count++;
	if (c->state == CONN_OPEN)
		lws_callback_on_writable(c->wsi);
	return 0;
}

void cpclient_close(struct cpclient_conn *c, int code)
{
	if (!c || c->state >= CONN_CLOSING || !c->wsi)
		return;
	c->local_close = true;
	c->local_code = code > 0 ? code : LWS_CLOSE_STATUS_NORMAL;
	if (c->state == CONN_OPEN) {
		c->state = CONN_CLOSING;
		lws_callback_on_writable(c->wsi);
	} else {
		/* no WebSocket yet: just drop the socket from the loop */
		c->state = CONN_CLOSING;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
}

void *cpclient_user(const struct cpclient_conn *c)
{
	return c ? c->user : NULL;
}

void cpclient_set_user(struct cpclient_conn *c, void *user_ptr)
{
	if (c)
		c->user = user_ptr;
}

unsigned int cpclient_tx_queued(const struct cpclient_conn *c)
{
	return c ? c->tx_count : 0;
}

bool cpclient_is_open(const struct cpclient_conn *c)
{
	return c && c->state == CONN_OPEN;
}

int cpclient_local_addr(const struct cpclient_conn *c, char *buf, size_t len)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char ip[INET_ADDRSTRLEN];
	int fd, n;

	if (!c || !c->wsi || c->state != CONN_OPEN)
		return -ENOTCONN;
	fd = lws_get_socket_fd(c->wsi);
	if (fd < 0)
		return -ENOTCONN;
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) < 0)
		return -errno;
	if (sin.sin_family != AF_INET || !inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip)))
		return -EAFNOSUPPORT;
	n = snprintf(buf, len, "%s:%u", ip, ntohs(sin.sin_port));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

/* ---------------------------------------------------------------- context */

struct handle_set {
	unsigned int n;
	uv_handle_t *h[MAX_LWS_HANDLES];
	bool overflow;
};

static void collect_handle(uv_handle_t *h, void *arg)
{
	struct handle_set *set = arg;

	if (set->n < MAX_LWS_HANDLES)
		set->h[set->n++] = h;
	else
		set->overflow = true;
}

static bool in_set(const struct handle_set *set, const uv_handle_t *h)
{
	unsigned int i;

	for (i = 0; i < set->n; i++)
		if (set->h[i] == h)
			return true;
	return false;
}

struct cpclient_ctx *cpclient_ctx_create(const struct cpclient_ctx_opts *o)
{
	struct lws_context_creation_info info;
	struct handle_set before = {0}, after = {0};
	struct cpclient_ctx *ctx;
	unsigned int i;
	void *loops[1];

	if (!o || !o->loop || !o->cb)
		return NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->loop = o->loop;
	ctx->cb = *o->cb;
	ctx->tls = o->tls;
	ctx->max_message = o->max_message ? o->max_message : DEFAULT_MAX_MESSAGE;
	ctx->max_tx_queue = o->max_tx_queue ? o->max_tx_queue : DEFAULT_MAX_TX_QUEUE;
	ctx->protocols[0].name = PROTOCOL_NAME;
	ctx->protocols[0].callback = conn_callback;
	ctx->protocols[0].rx_buffer_size = o->rx_chunk ? o->rx_chunk : DEFAULT_RX_CHUNK;

	memset(&info, 0, sizeof(info));
	info.retry_and_idle_policy = &no_idle_policy;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = ctx->protocols;
	info.options = LWS_SERVER_OPTION_LIBUV;
	if (o->tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = o->ca_file;
		info.client_ssl_cert_filepath = o->cert_file;
		info.client_ssl_private_key_filepath = o->key_file;
	}
	loops[0] = o->loop;
	info.foreign_loops = loops;
	info.pcontext = &ctx->lws;
	info.user = ctx;
	info.gid = -1;
	info.uid = -1;

	/* The handles lws adds to the loop now (its timer, idle and cancel-pipe poll) are
	 * the ones cpclient_ctx_destroy() must see closed before it may free the context. */
	uv_walk(o->loop, collect_handle, &before);
	ctx->lws = lws_create_context(&info);
	if (!ctx->lws) {
		free(ctx);
		return NULL;
	}
	uv_walk(o->loop, collect_handle, &after);
	for (i = 0; i < after.n; i++)
		if (!in_set(&before, after.h[i]))
			ctx->lws_handles[ctx->n_lws_handles++] = after.h[i];
	if (before.overflow || after.overflow)
		ctx->n_lws_handles = 0; /* cannot tell: fall back to "loop idle" below */
	return ctx;
}

static void find_handle(uv_handle_t *h, void *arg)
{
	struct handle_set *set = arg;

	if (in_set(set, h))
		set->overflow = true; /* reused as "found" */
}

/* True while any of lws' start-up handles is still on the loop (open or closing). */
static bool lws_handles_left(struct cpclient_ctx *ctx)
{
	struct handle_set set = {.n = ctx->n_lws_handles};

	if (!ctx->n_lws_handles)
		return uv_loop_alive(ctx->loop);
	memcpy(set.h, ctx->lws_handles, sizeof(set.h[0]) * set.n);
	uv_walk(ctx->loop, find_handle, &set);
	return set.overflow;
}

void cpclient_ctx_destroy(struct cpclient_ctx *ctx)
{
	struct cpclient_conn *c;
	long long end;

	if (!ctx)
		return;
	ctx->destroying = true;
	for (c = ctx->conns; c; c = c->next)
		if (c->state < CONN_CLOSING && !c->orphan) {
			c->local_close = true;
			c->local_code = LWS_CLOSE_STATUS_GOINGAWAY;
		}
	if (ctx->lws) {
		/*
		 * lws 4.1 with a foreign loop, as measured: the first destroy closes every wsi;
		 * while the loop runs, the last wsi close makes lws close its own timer and idle
		 * handles.  Only when those are off the loop may the second destroy free the
		 * context: freeing it earlier leaves libuv linking handles in freed memory.
		 */
		lws_context_destroy(ctx->lws);
		end = lws_now_usecs() / 1000 + DESTROY_TIMEOUT_MS;
		while (ctx->lws && lws_handles_left(ctx) && lws_now_usecs() / 1000 < end)
			uv_run(ctx->loop, UV_RUN_NOWAIT);
		if (ctx->lws && !lws_handles_left(ctx))
			lws_context_destroy(ctx->lws);
		if (ctx->lws)
			lwsl_err("cpclient: lws context still has handles; leaking it\n");
	}
	/* orphans of failed connects that lws never reported */
	while (ctx->conns)
		conn_free(ctx->conns);
	free(ctx);
}
