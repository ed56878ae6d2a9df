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
