/* SPDX-License-Identifier: MIT */
/* /api/live: the event bus (svc/events.h) as JSON frames. Each event is encoded once and the
 * frame shared (reference-counted) by every subscriber's queue; a subscriber whose queue holds
 * API_LIVE_QUEUE_MAX frames is dropped, so a slow dashboard costs at most that much memory. */
#include "api.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../svc/events.h"
#include "../svc/svc.h"
#include "api-private.h"

struct live_msg {
	int refs;
	size_t len;
	unsigned char data[]; /* API_LIVE_PRE headroom, then the text */
};

struct api_live_client {
	struct api_live_client *next, *prev;
	struct api_live *live;
	void *ws;
	void (*wake)(void *ws);
	struct live_msg *q[API_LIVE_QUEUE_MAX];
	size_t head, count;
	bool overflowed;
	bool power; /* per-station power events wanted */
};

/* The other nodes' network power, from their `network` events (csms/cluster.c): the
 * network's power is this node's plus theirs while fresh. */
#define LIVE_NODES_MAX	   64
#define LIVE_NODE_FRESH_MS 15000

struct live_node {
	char id[STATION_ID_MAX + 1]; /* the node's id (cluster.c puts it in station) */
	double power_w;
	int64_t at_ms; /* monotonic */
};

struct api_live {
	struct api *api;
	struct api_live_client *clients;
	unsigned n;
	uint64_t dropped_clients;
	struct live_node nodes[LIVE_NODES_MAX];
};

static void msg_unref(struct live_msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}

static struct live_msg *msg_of(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;
	struct live_msg *m = text ? malloc(sizeof(*m) + API_LIVE_PRE + n) : NULL;

	if (m) {
		m->refs = 0;
		m->len = n;
		memcpy(m->data + API_LIVE_PRE, text, n);
	}
	free(text);
	json_decref(o);
	return m;
}

static void client_push(struct api_live_client *c, struct live_msg *m)
{
	if (c->overflowed)
		return;
	if (c->count == API_LIVE_QUEUE_MAX) {
		/* too slow: give its frames back now, the transport closes it */
		while (c->count) {
			msg_unref(c->q[c->head]);
			c->head = (c->head + 1) % API_LIVE_QUEUE_MAX;
			c->count--;
		}
		c->overflowed = true;
		c->live->dropped_clients++;
		log_notice("/api/live: a subscriber fell %d events behind: dropped",
			   API_LIVE_QUEUE_MAX);
		c->wake(c->ws);
		return;
	}
	m->refs++;
	c->q[(c->head + c->count) % API_LIVE_QUEUE_MAX] = m;
	if (c->count++ == 0)
		c->wake(c->ws);
}

static json_t *event_json(const struct svc_event *ev)
{
	json_t *o = json_pack("{s:s, s:o}", "type", svc_event_kind_name(ev->kind), "time",
			      api_time_or_null(ev->ts_ms));

	if (!o)
		return NULL;
	if (ev->station[0])
		json_object_set_new(o, "station", json_string(ev->station));
	switch (ev->kind) {
	case SVC_EV_STATION_ONLINE:
	case SVC_EV_STATION_OFFLINE:
		json_object_set_new(o, "online", json_boolean(ev->kind == SVC_EV_STATION_ONLINE));
		break;
	case SVC_EV_CONNECTOR:
		json_object_set_new(o, "evse_id", json_integer(ev->evse_id));
		json_object_set_new(o, "connector_id", json_integer(ev->connector_id));
		json_object_set_new(o, "status", json_string(ev->status));
		json_object_set_new(o, "error_code",
				    api_str_or_null(ev->detail[0] ? ev->detail : NULL));
		break;
	case SVC_EV_SESSION_STARTED:
	case SVC_EV_SESSION_STOPPED:
		json_object_set_new(
		    o, "event",
		    json_string(ev->kind == SVC_EV_SESSION_STARTED ? "started" : "stopped"));
		json_object_set_new(o, "session_id", json_integer(ev->session_id));
		json_object_set_new(o, "evse_id", json_integer(ev->evse_id));
		if (ev->detail[0])
			json_object_set_new(o, "reason", json_string(ev->detail));
		break;
	case SVC_EV_POWER:
	case SVC_EV_NETWORK_POWER:
		json_object_set_new(o, "power_w", json_real(ev->power_w));
		break;
	case SVC_EV_COMMAND:
		json_object_set_new(o, "kind", json_string(ev->detail));
		json_object_set_new(o, "status", json_string(ev->status));
		json_object_set_new(o, "log_id", json_integer(ev->log_id));
		break;
	case SVC_EV_REGISTRATION:
		json_object_set_new(o, "registration", json_string(ev->status));
		break;
	default:
		break;
	}
	return o;
}

/* The other nodes' power while fresh, and how many of them. */
static double remote_power(const struct api_live *l, unsigned *ret_nodes)
{
	int64_t now = clock_mono_ms();
	double w = 0;

	*ret_nodes = 0;
	for (int i = 0; l && i < LIVE_NODES_MAX && l->nodes[i].id[0]; i++)
		if (now - l->nodes[i].at_ms < LIVE_NODE_FRESH_MS) {
			w += l->nodes[i].power_w;
			++*ret_nodes;
		}
	return w;
}

double api_live_remote_power(const struct api *api, unsigned *ret_nodes)
{
	return remote_power(api->live, ret_nodes);
}

static void node_power_set(struct api_live *l, const struct svc_event *ev)
{
	int i;

	for (i = 0; i < LIVE_NODES_MAX && l->nodes[i].id[0]; i++)
		if (!strcmp(l->nodes[i].id, ev->station))
			break;
	if (i == LIVE_NODES_MAX)
		return;
	snprintf(l->nodes[i].id, sizeof(l->nodes[i].id), "%s", ev->station);
	l->nodes[i].power_w = ev->power_w;
	l->nodes[i].at_ms = clock_mono_ms();
}

static void on_event(void *ud, const struct svc_event *ev)
{
	struct api_live *l = ud;
	struct svc_event net;
	struct live_msg *m;
	unsigned nodes;

	if (!l->clients)
		return;
	if (ev->kind == SVC_EV_NETWORK_POWER) { /* this node's figure plus the others' */
		net = *ev;
		net.power_w += remote_power(l, &nodes);
		ev = &net;
	}
	m = msg_of(event_json(ev));
	if (!m)
		return;
	m->refs++; /* ours while fanning out */
	for (struct api_live_client *c = l->clients; c; c = c->next)
		if (ev->kind != SVC_EV_POWER || c->power)
			client_push(c, m);
	msg_unref(m);
}

void api_live_remote(void *api_ud, const struct svc_event *ev)
{
	struct api *api = api_ud;

	if (!api->live)
		return;
	if (ev->kind == SVC_EV_NETWORK_POWER) /* summed into this node's own, not forwarded */
		node_power_set(api->live, ev);
	else
		on_event(api->live, ev);
}

bool api_live_watched(void *api_ud)
{
	struct api *api = api_ud;

	return api->live && api->live->clients;
}

int api_live_start(struct api *api)
{
	struct api_live *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->api = api;
	r = svc_events_subscribe(api->svc, on_event, l);
	if (r < 0) {
		free(l);
		return r;
	}
	api->live = l;
	return 0;
}

void api_live_stop(struct api *api)
{
	struct api_live *l = api->live;

	if (!l)
		return;
	svc_events_unsubscribe(api->svc, on_event, l);
	while (l->clients)
		api_live_close(l->clients);
	free(l);
	api->live = NULL;
}

struct api_live_client *api_live_open(struct api *api, void *ws, void (*wake)(void *ws))
{
	struct api_live_client *c;
	struct live_msg *hello;

	if (!api->live)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->live = api->live;
	c->ws = ws;
	c->wake = wake;
	c->power = true;
	c->next = api->live->clients;
	if (c->next)
		c->next->prev = c;
	api->live->clients = c;
	api->live->n++;
	hello = msg_of(json_pack("{s:s, s:o, s:s}", "type", "hello", "time",
				 api_time_or_null(svc_now_ms(api->svc)), "version", CSMS_VERSION));
	if (hello)
		client_push(c, hello);
	return c;
}

unsigned char *api_live_peek(struct api_live_client *c, size_t *ret_len)
{
	struct live_msg *m;

	if (!c->count)
		return NULL;
	m = c->q[c->head];
	*ret_len = m->len;
	return m->data + API_LIVE_PRE;
}

void api_live_pop(struct api_live_client *c)
{
	if (!c->count)
		return;
	msg_unref(c->q[c->head]);
	c->head = (c->head + 1) % API_LIVE_QUEUE_MAX;
	c->count--;
}

bool api_live_overflowed(const struct api_live_client *c)
{
	return c->overflowed;
}

void api_live_rx(struct api_live_client *c, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	json_t *p = json_object_get(o, "power");

	if (json_is_boolean(p))
		c->power = json_is_true(p);
	json_decref(o);
}

void api_live_close(struct api_live_client *c)
{
	struct api_live *l;

	if (!c)
		return;
	l = c->live;
	while (c->count)
		api_live_pop(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->n--;
	free(c);
}

unsigned api_live_count(const struct api *api)
{
	return api->live ? api->live->n : 0;
}

uint64_t api_live_dropped(const struct api *api)
{
	return api->live ? api->live->dropped_clients : 0;
}
