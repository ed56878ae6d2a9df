/* SPDX-License-Identifier: MIT */
/* The operator REST API: routes, JSON encoding, commands to chargers. No lws here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct svc;
struct store;
struct cfg;
struct energy;
struct uv_loop_s;
struct api_auth;
struct account_principal;

/* What the API works on; the node creates it (app.c) and the transport hands it to requests. */
struct api {
	struct svc *svc;
	struct store *store;
	const struct cfg *cfg;
	const bool *draining;  /* the node is stopping */
	struct api_live *live; /* /api/live subscribers (api_live.c) */
	struct energy *energy; /* tariff calendars, CDRs, energy figures (svc/energy.h) */
	/* ---- accounts and the locked API (api_auth.c) */
	struct uv_loop_s *loop; /* password hashing runs on its threadpool */
	struct api_auth *auth;	/* api_auth_create() */
	char public_url[256];	/* scheme://host:port the API is reached at (Origin and Host) */
	bool tls;		/* the API listener is TLS: cookies get Secure */
	bool separate_listener; /* the API has its own listener (api_listen) */
	/* Prometheus text of the node's figures (new string) for /metrics; app.c sets it. */
	int (*metrics)(void *ud, char **ret_text);
	void *metrics_ud;
};

enum api_method { API_GET, API_POST, API_PUT, API_DELETE, API_OTHER };

#define API_MAX_BODY (1024 * 1024)

struct api_req {
	struct api *api;
	void *http;		   /* transport handle; NULL once the client went away */
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
	/* ---- request headers the API needs (the transport copies them; "" if absent) */
	char cookie[4096]; /* browsers send every cookie of the host, other apps' too */
	char authorization[256];
	char origin[256];
	char host[256];
	char content_type[128];
	char csrf[128];	      /* X-CSRF-Token */
	char peer[64];	      /* the client's address */
	bool on_api_listener; /* arrived on the separate API listener */
	/* ---- response headers the API sets (the transport sends them when set) */
	char set_cookie[256];
	int retry_after_s;     /* > 0: Retry-After */
	const char *resp_type; /* static; NULL = application/json */
	/* ---- who the request acts for (set by the auth gate) */
	char who[80];
	int role;   /* enum account_role */
	bool audit; /* a state-changing request: its result goes to the audit log */
};

/* Handle a complete request: responds now, or later for charger commands. */
void api_handle(struct api_req *r);
/* Print every route the server answers, one "METHOD /pattern" line each ("*" = one path
 * segment), to f: the route tables, then /metrics and the /api/live WebSocket (csms routes). */
void api_routes_print(FILE *f);
/* Append body bytes; sets body_too_large over API_MAX_BODY. */
void api_body_append(struct api_req *r, const void *in, size_t len);
/* The transport lost the client: free now, or when the pending answer arrives. */
void api_req_detach(struct api_req *r);
void api_req_free(struct api_req *r);

/* ---- /api/live (api_live.c): the event bus as JSON text frames to WebSocket subscribers */
#define API_LIVE_PRE	   32  /* headroom before each frame for the transport's header */
#define API_LIVE_QUEUE_MAX 512 /* frames waiting per subscriber; beyond it is dropped */

struct api_live_client;

/* Subscribe the API to the event bus (once, after api->svc is set): 0 or negative errno. */
int api_live_start(struct api *api);
/* Unsubscribe and free every client left. */
void api_live_stop(struct api *api);
/* An event from another node (csms/cluster.c): to this node's /api/live subscribers, as if it
 * were its own. api_ud is the struct api; the shape of an svc_event_fn. */
struct svc_event;
void api_live_remote(void *api_ud, const struct svc_event *ev);
/* The network power other nodes reported in their `network` events within the last 15 s (they
 * publish while this node has /api/live subscribers), and how many nodes that is. */
double api_live_remote_power(const struct api *api, unsigned *ret_nodes);
/* The API has /api/live subscribers now (api_ud: the struct api). */
bool api_live_watched(void *api_ud);
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
/* Subscribers dropped for falling API_LIVE_QUEUE_MAX frames behind, since start. */
uint64_t api_live_dropped(const struct api *api);
/* ---- accounts and the locked API (api_auth.c) */

/* The API's login state (failed-login throttle) from the config. NULL on failure. */
struct api_auth *api_auth_create(const struct cfg *cfg);
void api_auth_destroy(struct api_auth *a);
/*
** Authenticate by the request headers as the API does (for the live WebSocket): an
** "Authorization: Bearer" API token, else the csms_session cookie. 0 and *ret, -ENOENT (no
** or unknown credentials), -ETIMEDOUT (session expired) or -EACCES (account disabled).
*/
int api_auth_principal(struct api *api, const char *cookie_hdr, const char *authorization_hdr,
		       struct account_principal *ret);
/*
** The Origin/Host decision (pure): 0 if a request with these Host and Origin (either may be
** "" when absent; a missing Host is refused) may reach the API published at public_url
** ("scheme://host[:port]"; host "*" accepts any host name on that port; the loopback names
** 127.0.0.1, localhost and [::1] stand for each other). -EPERM otherwise.
*/
int api_auth_origin_check(const char *public_url, const char *host, const char *origin);
/* The least role (enum account_role) a request needs (pure): API_ROLE_PUBLIC (login, health),
** API_ROLE_SIGNED_IN (any principal: logout), or a role. One table in api_auth.c: GET needs a
** viewer, other methods an operator, and admin areas (accounts, API tokens, audit; writes to
** sites, tariffs and settings) an admin. */
#define API_ROLE_PUBLIC	   (-1)
#define API_ROLE_SIGNED_IN (-2)
int api_auth_required_role(int method, const char *path);
/*
** The rest of the gate for a state-changing request (pure): 0 ok; -EPROTO (415) unless
** content_type is application/json; -EPERM (403) for a cookie session whose csrf_header
** differs from the session's token.
*/
int api_auth_write_check(const char *content_type, bool cookie_session, const char *csrf_header,
			 const char *session_csrf);
