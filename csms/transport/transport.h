/* SPDX-License-Identifier: MIT */
/* What the rest of csms asks of the transport (the only code that includes libwebsockets). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

struct api;
struct cfg;
struct conn_hub;
struct lws_context;
struct svc;
struct transport_caps;

/* What the transport needs from the node, set by its owner (app.c) before transport_start().
 * The transport never sees struct app. */
struct transport {
	uv_loop_t *loop;
	const struct cfg *cfg; /* listen_host, listen_port, web_root */
	struct svc *svc;       /* admission of a charger's handshake */
	struct conn_hub *hub;  /* where charger connections are created */
	struct api *api;       /* handed to each API request (api_req.api) and /api/live */
	const bool *draining;  /* while true, new connections are refused */
	const bool *late;      /* while true, new charger connections are refused (503) */
	uint64_t shed;	       /* charger handshakes refused for *late */
	int port;	       /* the bound port, once started */
	int api_port;	       /* the API listener's bound port (api_listen), else 0 */

	/* private to the transport */
	struct lws_context *lws;
	bool lws_stopping;
	void *priv;
	struct transport_caps *caps; /* connection caps (security) */
};

/* Create the lws context on t->loop and listen; fills t->port. 0 or negative errno. */
int transport_start(struct transport *t);
/* Destroy the lws context (the loop must then run to let it close its handles). */
void transport_stop(struct transport *t);
/* Free what transport_start allocated, once the loop has closed the context's handles. */
void transport_free(struct transport *t);
/* Write one text frame now (buf has CONN_PRE bytes of headroom before it). 0 if lws took it
 * (sent, or the unsent rest buffered by lws); -EAGAIN if earlier output is still buffered (queue
 * it and wait for WRITEABLE); -EIO if the connection failed. Saves the POLLOUT round trip (two
 * epoll_ctl calls) per reply. */
int transport_write_text(void *wsi, unsigned char *buf, size_t len);
/* Ask for a WRITEABLE callback on a charger connection. */
void transport_want_write(void *wsi);
/* Close a charger connection from outside its callback (asynchronous). */
void transport_close(void *wsi);
/* Close a charger connection with a close frame (its conn's close_code and close_reason), or
 * without one after 5 s if it does not become writable. */
void transport_close_frame(void *wsi);
/* An HTTP response is ready for this request handle. */
void transport_http_ready(void *http);
