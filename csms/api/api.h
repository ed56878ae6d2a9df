/* SPDX-License-Identifier: MIT */
/* The operator REST API: routes, JSON encoding, commands to chargers. No lws here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct svc;
struct store;
struct cfg;
struct energy;

/* What the API works on; the node creates it (app.c) and the transport hands it to requests. */
struct api {
	struct svc *svc;
	struct store *store;
	const struct cfg *cfg;
	const bool *draining; /* the node is stopping */
	struct api_live *live; /* /api/live subscribers (api_live.c) */
	struct energy *energy; /* tariff calendars, CDRs, energy figures (svc/energy.h) */
};

enum api_method { API_GET, API_POST, API_PUT, API_DELETE, API_OTHER };

#define API_MAX_BODY (1024 * 1024)

struct api_req {
	struct api *api;
	void *http; /* transport handle; NULL once the client went away */
	void (*ready)(void *http); /* set by the transport: a response is ready (done) */
	int method;
	char path[256];
	char query[512];
	char *body;
	size_t body_len;
	bool body_too_large;
	bool pending; /* an answer will come later (a charger command) */
	bool done;    /* a response is ready */
	int status;
	char *resp;
	size_t resp_len, resp_sent;
	bool headers_sent;
};

/* Handle a complete request: responds now, or later for charger commands. */
void api_handle(struct api_req *r);
/* Append body bytes; sets body_too_large over API_MAX_BODY. */
void api_body_append(struct api_req *r, const void *in, size_t len);
/* The transport lost the client: free now, or when the pending answer arrives. */
void api_req_detach(struct api_req *r);
void api_req_free(struct api_req *r);

/* ---- /api/live (api_live.c): the event bus as JSON text frames to WebSocket subscribers */
#define API_LIVE_PRE 32		/* headroom before each frame for the transport's header */
#define API_LIVE_QUEUE_MAX 512	/* frames waiting per subscriber; beyond it is dropped */

struct api_live_client;

/* Subscribe the API to the event bus (once, after api->svc is set): 0 or negative errno. */
int api_live_start(struct api *api);
/* Unsubscribe and free every client left. */
void api_live_stop(struct api *api);
/* A new subscriber on transport handle ws; wake(ws) is called when frames are waiting (or
 * the client overflowed). NULL on allocation failure. */
struct api_live_client *api_live_open(struct api *api, void *ws, void (*wake)(void *ws));
/* The next frame (API_LIVE_PRE bytes of headroom before it, which the transport may write),
 * valid until api_live_pop; NULL if none. */
unsigned char *api_live_peek(struct api_live_client *c, size_t *ret_len);
void api_live_pop(struct api_live_client *c);
/* The client fell API_LIVE_QUEUE_MAX frames behind: the transport closes it. */
bool api_live_overflowed(const struct api_live_client *c);
/* A text message from the client: {"power": false} stops per-station power events. */
void api_live_rx(struct api_live_client *c, const char *text, size_t len);
void api_live_close(struct api_live_client *c);
/* Connected subscribers. */
unsigned api_live_count(const struct api *api);
