/* SPDX-License-Identifier: MIT */
/* wsecho: a tiny lws WebSocket server in its own thread, to test cpclient without the CSMS. */
#include "wsecho.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#define OUT_MAX (256 * 1024)

struct wsecho {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	pthread_t thread;
	atomic_bool stop;
	atomic_int accepted;
	int port;
};

/* One queued reply: LWS_PRE headroom, then len bytes, sent in fragments of frag bytes. */
struct reply {
	struct reply *next;
	size_t len, sent;
	size_t frag; /* bytes per fragment, 0 = one frame */
	unsigned char buf[];
};

/* One connection: queued replies and a pending close. */
struct pss {
	struct reply *head, *tail;
	int close_code;
	char auth[256];
	char path[128];
	char *rx;
	size_t rx_len;
};

static void add_reply(struct pss *p, const char *buf, size_t len, size_t frag)
{
	struct reply *r = malloc(sizeof(*r) + LWS_PRE + len);

	if (!r)
		return;
	r->next = NULL;
	r->len = len;
	r->sent = 0;
	r->frag = frag;
	memcpy(r->buf + LWS_PRE, buf, len);
	if (p->tail)
		p->tail->next = r;
	else
		p->head = r;
	p->tail = r;
}

static void free_replies(struct pss *p)
{
	struct reply *r;

	while ((r = p->head)) {
		p->head = r->next;
		free(r);
	}
	p->tail = NULL;
}

static void handle_message(struct lws *wsi, struct pss *p)
{
	char peer[64], reply[512];
	size_t n;
	char *fill;

	if (!strcmp(p->rx, "whoami")) {
		lws_get_peer_simple(wsi, peer, sizeof(peer));
		snprintf(reply, sizeof(reply), "%s|%s|%s", peer, p->auth[0] ? p->auth : "-",
			 p->path);
		add_reply(p, reply, strlen(reply), 0);
	} else if (!strncmp(p->rx, "close:", 6)) {
		p->close_code = atoi(p->rx + 6);
	} else if (!strncmp(p->rx, "frag:", 5) || !strncmp(p->rx, "big:", 4)) {
		bool frag = p->rx[0] == 'f';

		n = strtoul(p->rx + (frag ? 5 : 4), NULL, 10);
		if (n > OUT_MAX)
			n = OUT_MAX;
		fill = malloc(n + 1);
		if (!fill)
			return;
		memset(fill, frag ? 'x' : 'y', n);
		add_reply(p, fill, n, frag ? (n + 2) / 3 : 0);
		free(fill);
	} else {
		add_reply(p, p->rx, p->rx_len, 0);
	}
	lws_callback_on_writable(wsi);
}

/* One lws_write() per WRITEABLE: the next fragment of the first queued reply. */
static int write_some(struct lws *wsi, struct pss *p)
{
	struct reply *r = p->head;
	size_t chunk;
	int flags, n;

	if (r) {
		chunk = r->len - r->sent;
		if (r->frag && chunk > r->frag)
			chunk = r->frag;
		flags = lws_write_ws_flags(LWS_WRITE_TEXT, r->sent == 0, r->sent + chunk == r->len);
		/* the already-sent bytes before the chunk serve as its LWS_PRE headroom */
		n = lws_write(wsi, r->buf + LWS_PRE + r->sent, chunk,
			      (enum lws_write_protocol)flags);
		if (n < (int)chunk)
			return -1;
		r->sent += chunk;
		if (r->sent == r->len) {
			p->head = r->next;
			if (!p->head)
				p->tail = NULL;
			free(r);
		}
		if (p->head || p->close_code)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (p->close_code) {
		lws_close_reason(wsi, (enum lws_close_status)p->close_code, NULL, 0);
		return -1;
	}
	return 0;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	char path[128];

	if (reason == LWS_CALLBACK_HTTP_CONFIRM_UPGRADE) {
		path[0] = '\0';
		lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
		if (!strncmp(path, "/refuse", 7)) {
			lws_return_http_status(wsi, 401, NULL);
			return 1;
		}
		return 0;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		 size_t len)
{
	struct wsecho *w = lws_context_user(lws_get_context(wsi));
	struct pss *p = user;
	char *nrx;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (lws_hdr_copy(wsi, p->auth, sizeof(p->auth), WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
			p->auth[0] = '\0';
		if (lws_hdr_copy(wsi, p->path, sizeof(p->path), WSI_TOKEN_GET_URI) < 0)
			p->path[0] = '\0';
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		atomic_fetch_add(&w->accepted, 1);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		nrx = realloc(p->rx, p->rx_len + len + 1);
		if (!nrx)
			return -1;
		p->rx = nrx;
		memcpy(p->rx + p->rx_len, in, len);
		p->rx_len += len;
		p->rx[p->rx_len] = '\0';
		if (lws_is_final_fragment(wsi)) {
			handle_message(wsi, p);
			free(p->rx);
			p->rx = NULL;
			p->rx_len = 0;
		}
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return write_some(wsi, p);
	case LWS_CALLBACK_CLOSED:
		free_replies(p);
		free(p->rx);
		p->rx = NULL;
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
    {"http", cb_http, 0, 0, 0, NULL, 0},
    {"ocpp1.6", cb_ws, sizeof(struct pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *run(void *arg)
{
	struct wsecho *w = arg;

	while (!atomic_load(&w->stop))
		if (lws_service(w->ctx, 0) < 0)
			break;
	return NULL;
}

struct wsecho *wsecho_start(void)
{
	struct lws_context_creation_info info;
	struct wsecho *w;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	memset(&info, 0, sizeof(info));
	info.port = 0;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.user = w;
	info.gid = -1;
	info.uid = -1;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	w->ctx = lws_create_context(&info);
	if (!w->ctx)
		goto fail;
	w->vh = lws_get_vhost_by_name(w->ctx, "default");
	w->port = w->vh ? lws_get_vhost_listen_port(w->vh) : 0;
	if (w->port <= 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, run, w))
		goto fail;
	return w;
fail:
	if (w->ctx)
		lws_context_destroy(w->ctx);
	free(w);
	return NULL;
}

int wsecho_port(const struct wsecho *w)
{
	return w->port;
}

int wsecho_accepted(struct wsecho *w)
{
	return atomic_load(&w->accepted);
}

void wsecho_stop(struct wsecho *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	lws_cancel_service(w->ctx);
	pthread_join(w->thread, NULL);
	lws_context_destroy(w->ctx);
	free(w);
}
