/* SPDX-License-Identifier: MIT */
/* OCPP-J sessions: reassembly, the dispatcher's replies held for the group commit, the retry
 * cache, outbound calls. */
#include "conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "dispatch.h"
#include "svc/svc.h"

struct conn_call {
	struct list link; /* hub->calls while in flight */
	struct conn_call *next;
	struct conn *conn;
	char id[OCPP_ID_MAX + 1];
	char action[48];
	char *frame;
	size_t len;
	int64_t deadline_ms;
	conn_result_fn cb;
	void *ud;
};

static struct conn_frame *frame_new(const char *text, size_t len)
{
	struct conn_frame *f = malloc(sizeof(*f) + CONN_PRE + len);

	if (!f)
		return NULL;
	f->next = NULL;
	f->len = len;
	f->is_result = false;
	f->is_error = false;
	f->action = -1;
	f->in_ns = 0;
	f->id[0] = '\0';
	memcpy(f->buf + CONN_PRE, text, len);
	return f;
}

static void tx_push(struct conn *c, struct conn_frame *f)
{
	/* A connection closed with a code (conn_close) still sends the answers it owes before its
	 * close frame (the transport waits for them); one cut without a code sends nothing. */
	if (c->closing && !c->close_code) {
		free(f);
		return;
	}
	if (!c->tx_head) {
		/* Nothing queued ahead: hand it to lws now (lws keeps any unsent rest). */
		int r = c->hub->io->write_text(c->wsi, f->buf + CONN_PRE, f->len);

		if (r != -EAGAIN) {
			free(f);
			if (r < 0) {
				c->closing = true;
				c->hub->io->close(c->wsi);
			}
			return;
		}
	}
	if (c->tx_tail)
		c->tx_tail->next = f;
	else
		c->tx_head = f;
	c->tx_tail = f;
	c->tx_count++;
	if (c->tx_count > (size_t)c->hub->cfg->max_tx_queue) {
		/* The receiver is the boss, but not forever: a peer that does not read is dropped. */
		log_warn("[cp %s] tx queue over %d frames, closing", c->id,
			 c->hub->cfg->max_tx_queue);
		c->closing = true;
		c->hub->io->close(c->wsi);
		return;
	}
	c->hub->io->want_write(c->wsi);
}

/* The index of action in c's catalogue (its ocpp_catalog_at place), or CONN_ACTION_UNKNOWN. */
static int action_index(const struct conn *c, const char *action)
{
	const struct ocpp_msg_def *d = ocpp_catalog_find(c->catalog, action);
	ptrdiff_t i = d ? d - ocpp_catalog_at(c->catalog, 0) : -1;

	return i >= 0 && i < CONN_ACTIONS_MAX ? (int)i : CONN_ACTION_UNKNOWN;
}

/* Count an answer released to the wire: its handling time, from the CALL in to now. */
static void count_released(struct conn_hub *hub, const struct conn_frame *f, uint64_t now)
{
	static const double bounds[] = {CONN_LATENCY_BUCKETS_S};
	uint64_t dt;
	size_t b = 0;

	if (!f->in_ns)
		return;
	dt = now > f->in_ns ? now - f->in_ns : 0;
	while (b < sizeof(bounds) / sizeof(bounds[0]) && (double)dt / 1e9 > bounds[b])
		b++;
	hub->stats.latency_hist[b]++;
	hub->stats.latency_ns_sum += dt;
}

static void hold(struct conn *c, struct conn_frame *f)
{
	f->in_ns = c->rx_ns;
	f->batch = c->hub->batch;
	if (c->held_tail)
		c->held_tail->next = f;
	else
		c->held_head = f;
	c->held_tail = f;
	if (!list_linked(&c->held_link))
		list_add_tail(&c->hub->held_conns, &c->held_link);
}

static void count_error(struct conn *c, int action, enum ocpp_err code)
{
	c->hub->stats.callerrors_out++;
	c->hub->stats.errors_by_action[c->version][action]++;
	if ((int)code >= 0 && code < _OCPP_ERR_MAX)
		c->hub->stats.errors_by_code[c->version][code]++;
}

/* Answer the CALL id (of action index action) with a CALLERROR, held like a result. */
static void send_error(struct conn *c, const char *id, int action, enum ocpp_err code,
		       const char *desc)
{
	size_t len;
	char *text = ocpp_frame_error(c->version, id, code, desc, &len);
	struct conn_frame *f;

	count_error(c, action, code);
	log_info("[cp %s] CALLERROR %s %s: %s", c->id, id, ocpp_err_name(c->version, code), desc);
	if (!text)
		return;
	f = frame_new(text, len);
	free(text);
	if (!f)
		return;
	f->is_error = true;
	f->action = (int16_t)action;
	hold(c, f); /* keeps the order of answers */
}

static uint64_t mix64(uint64_t x) /* splitmix64's finaliser */
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t bytes_hash(const char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) /* FNV-1a */
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* A hash of the payload's value, whatever its key order: a retried CALL carries the same
 * payload. Walks the tree (an object's members combine by a sum, so order does not count);
 * it used to hash the text of json_dumps(JSON_SORT_KEYS): 6.7 % of the CSMS's CPU in a closed
 * loop of MeterValues (perf, issue 12), an allocation and a sort per CALL. */
static uint64_t payload_hash(const json_t *v)
{
	uint64_t h = 14695981039346656037ULL ^ (uint64_t)json_typeof(v);

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		/* jansson's iteration takes a json_t *; it only reads */
		union {
			const json_t *c;
			json_t *m;
		} obj = {.c = v};
		const char *key;
		json_t *m;
		uint64_t sum = 0;

		json_object_foreach(obj.m, key, m)
			sum += mix64(bytes_hash(key, strlen(key), h) ^ payload_hash(m));
		return mix64(h ^ sum ^ json_object_size(v));
	}
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(v); i++)
			h = mix64(h ^ payload_hash(json_array_get(v, i)));
		return mix64(h ^ json_array_size(v));
	case JSON_STRING:
		return mix64(bytes_hash(json_string_value(v), json_string_length(v), h));
	case JSON_INTEGER:
		return mix64(h ^ (uint64_t)json_integer_value(v));
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t bits;

		memcpy(&bits, &d, sizeof(bits));
		return mix64(h ^ bits);
	}
	default: /* true, false, null: the type says it all */
		return mix64(h);
	}
}

static void cache_answer(struct conn *c, const char *id, const char *action, uint64_t hash,
			 const struct conn_frame *f)
{
	unsigned i = c->cache_next++ % (sizeof(c->cache) / sizeof(c->cache[0]));
	char *copy = malloc(f->len);

	if (!copy)
		return;
	memcpy(copy, f->buf + CONN_PRE, f->len);
	free(c->cache[i].frame);
	c->cache[i].frame = copy;
	c->cache[i].len = f->len;
	c->cache_hash[i] = hash;
	snprintf(c->cache[i].id, sizeof(c->cache[i].id), "%s", id);
	snprintf(c->cache[i].action, sizeof(c->cache[i].action), "%s", action);
}

/* A CALL whose id, action and payload match a cached answer is a retry: the cached answer goes
 * out again. A different payload under a reused id is a new call (the entry is dropped). */
static bool answer_from_cache(struct conn *c, const char *id, const char *action, int idx,
			      uint64_t hash)
{
	for (size_t i = 0; i < sizeof(c->cache) / sizeof(c->cache[0]); i++) {
		struct conn_frame *f;

		if (!c->cache[i].frame || strcmp(c->cache[i].id, id) ||
		    strcmp(c->cache[i].action, action))
			continue;
		if (c->cache_hash[i] != hash) {
			log_info(
			    "[cp %s] %s %s reuses a message id with another payload: a new call",
			    c->id, action, id);
			free(c->cache[i].frame);
			c->cache[i].frame = NULL;
			continue;
		}
		log_info("[cp %s] retried %s %s answered from cache", c->id, action, id);
		f = frame_new(c->cache[i].frame, c->cache[i].len);
		if (f) {
			f->action = (int16_t)idx;
			hold(c, f);
		}
		return true;
	}
	return false;
}

/* The per-connection and per-station token buckets: over them a CALL is answered with a
 * CALLERROR without running it; past call_burst refusals in a row the connection is closed. */
static bool call_rate_ok(struct conn *c)
{
	const struct cfg *cfg = c->hub->cfg;
	int64_t now = clock_mono_ms();
	bool ok;

	c->call_tokens += (double)(now - c->call_refill_ms) * cfg->call_rate_per_s / 1000.0;
	c->call_refill_ms = now;
	if (c->call_tokens > cfg->call_burst)
		c->call_tokens = cfg->call_burst;
	ok = c->call_tokens >= 1.0 && svc_station_call_allowed(c->hub->svc, c->st);
	if (ok) {
		c->call_tokens -= 1.0;
		c->refused_calls = 0;
		return true;
	}
	if (++c->refused_calls > (unsigned)cfg->call_burst) {
		log_warn("[cp %s] %u calls over the rate limit in a row, closing", c->id,
			 c->refused_calls);
		conn_close(c, 1008, "call rate limit");
	}
	return false;
}

static void handle_call(struct conn *c, const struct ocpp_frame *fr)
{
	struct dispatch_ctx ctx = {.catalog = c->catalog,
				   .adapter = c->adapter,
				   .cfg = c->hub->cfg,
				   .svc = c->hub->svc,
				   .st = c->st};
	struct dispatch_reply rep;
	struct conn_frame *f;
	char *text;
	size_t len;

	uint64_t hash;
	bool rate_ok;
	int idx = action_index(c, fr->action);

	c->hub->stats.calls_in++;
	c->hub->stats.calls_by_action[c->version][idx]++;
	if (!strcmp(fr->action, "BootNotification"))
		c->boot_seen = true;
	/* A retry of a call already answered gets that answer again even over the rate limit
	 * (it is counted all the same): a charger that missed its StartTransaction's answer must
	 * not be told "rate limit" about a transaction that is stored. */
	rate_ok = call_rate_ok(c);
	hash = payload_hash(fr->payload);
	if (answer_from_cache(c, fr->id, fr->action, idx, hash))
		return;
	if (!rate_ok) {
		send_error(c, fr->id, idx, OCPP_ERR_GENERIC, "rate limit exceeded, slow down");
		return;
	}
	if (dispatch_call(&ctx, fr, &rep) != OCPP_ERR_NONE) {
		send_error(c, fr->id, idx, rep.err, rep.desc);
		return;
	}
	text = ocpp_frame_result(fr->id, rep.payload, &len);
	json_decref(rep.payload);
	if (!text || !(f = frame_new(text, len))) {
		free(text);
		send_error(c, fr->id, idx, OCPP_ERR_INTERNAL, "out of memory");
		return;
	}
	free(text);
	f->is_result = rep.durable;
	f->action = (int16_t)idx;
	snprintf(f->id, sizeof(f->id), "%s", fr->id);
	hold(c, f);
	cache_answer(c, fr->id, fr->action, hash, f);
}

static void call_free(struct conn_call *k)
{
	free(k->frame);
	free(k);
}

static void on_call_timer(uv_timer_t *t)
{
	conn_calls_expire(t->data);
}

static void call_start(struct conn *c, struct conn_call *k)
{
	struct conn_frame *f = frame_new(k->frame, k->len);

	if (!f) {
		k->cb(k->ud, -ENOMEM, NULL, NULL, "out of memory");
		call_free(k);
		return;
	}
	c->inflight = k;
	k->deadline_ms = clock_mono_ms() + c->hub->cfg->call_timeout_ms;
	list_add_tail(&c->hub->calls, &k->link);
	if (list_entry(c->hub->calls.next, struct conn_call, link) == k)
		uv_timer_start(&c->hub->call_timer, on_call_timer,
			       (uint64_t)c->hub->cfg->call_timeout_ms, 0);
	c->hub->stats.calls_out++;
	tx_push(c, f);
}

/* The call in flight ended: report it and start the next queued one. */
static void call_finish(struct conn *c, int status, const json_t *payload, const char *code,
			const char *desc)
{
	struct conn_call *k = c->inflight;

	c->inflight = NULL;
	list_del(&k->link);
	k->cb(k->ud, status, payload, code, desc);
	call_free(k);
	if (c->queue_head && !c->closing) {
		k = c->queue_head;
		c->queue_head = k->next;
		if (!c->queue_head)
			c->queue_tail = NULL;
		c->queue_len--;
		call_start(c, k);
	}
}

static void handle_answer(struct conn *c, const struct ocpp_frame *fr)
{
	struct conn_call *k = c->inflight;
	char desc[160];
	enum ocpp_err e;

	if (!k || strcmp(k->id, fr->id) != 0) {
		log_info("[cp %s] answer to unknown call %s ignored", c->id, fr->id);
		return;
	}
	if (fr->type == OCPP_CALLERROR) {
		call_finish(c, 1, fr->payload, fr->err_code, fr->err_desc);
		return;
	}
	e = dispatch_check_answer(c->catalog, k->action, fr->payload, desc, sizeof(desc));
	if (e != OCPP_ERR_NONE) {
		call_finish(c, -EPROTO, fr->payload, ocpp_err_name(c->version, e), desc);
		return;
	}
	call_finish(c, 0, fr->payload, NULL, NULL);
}

/* JSON the parser refuses as a whole (an integer >= 2^63, 1e400, \u0000 in a string) may
 * still begin like a CALL: [2, "<id>", ... Read that id, so the CALLERROR names it and the
 * charger can match it (instead of "-1"). */
static void recover_call_id(const char *buf, size_t len, struct ocpp_parse_error *pe)
{
	const char *p = buf, *end = buf + len, *id;

#define SKIP_WS()                                                                                  \
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))                   \
	p++
	SKIP_WS();
	if (p >= end || *p++ != '[')
		return;
	SKIP_WS();
	if (p >= end || *p++ != '2')
		return;
	SKIP_WS();
	if (p >= end || *p++ != ',')
		return;
	SKIP_WS();
	if (p >= end || *p++ != '"')
		return;
	id = p;
	while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
	       (unsigned char)*p < 0x7f)
		p++;
#undef SKIP_WS
	if (p >= end || *p != '"' || p == id || (size_t)(p - id) > OCPP_ID_MAX)
		return;
	memcpy(pe->id, id, (size_t)(p - id));
	pe->id[p - id] = '\0';
	pe->is_call = true;
}

static void dispatch(struct conn *c, const char *buf, size_t len)
{
	struct ocpp_frame fr;
	struct ocpp_parse_error pe;

	c->hub->stats.frames_in++;
	c->rx_ns = uv_hrtime();
	c->last_rx_ms = clock_mono_ms();
	if (c->closing || !c->st)
		return; /* replaced by a newer connection: nothing more from this one counts */
	if (ocpp_frame_parse(buf, len, &fr, &pe) < 0) {
		/* a well-formed frame with a value JSON cannot carry (not a broken frame) */
		if (strcmp(pe.id, "-1") == 0 &&
		    (strstr(pe.desc, "too big") || strstr(pe.desc, "overflow") ||
		     strstr(pe.desc, "\\u0000")))
			recover_call_id(buf, len, &pe);
		/* Answer anything that may be a CALL, where the charger may be waiting; never a
		 * broken CALLRESULT/CALLERROR (docs/wire.md). */
		if (pe.is_call || pe.code == OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED ||
		    strcmp(pe.id, "-1") == 0)
			send_error(c, pe.id, CONN_ACTION_UNKNOWN, pe.code, pe.desc);
		else
			log_info("[cp %s] broken answer frame ignored: %s", c->id, pe.desc);
		return;
	}
	if (fr.type == OCPP_CALL)
		handle_call(c, &fr);
	else
		handle_answer(c, &fr);
	ocpp_frame_release(&fr);
	if (++c->hub->calls_since_commit >= CONN_COMMIT_EVERY && c->hub->commit)
		c->hub->commit(c->hub->commit_ud);
}

int conn_rx(struct conn *c, const void *in, size_t len, bool final)
{
	size_t max = (size_t)c->hub->cfg->max_frame_bytes;

	if (c->rx_len + len > max) {
		log_warn("[cp %s] message over %zu bytes, closing", c->id, max);
		return -EMSGSIZE;
	}
	if (final && c->rx_len == 0) {
		dispatch(c, in, len); /* the common case: one fragment, no copy */
		return 0;
	}
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 1024;
		char *n;

		while (cap < c->rx_len + len)
			cap *= 2;
		n = realloc(c->rx, cap);
		if (!n)
			return -ENOMEM;
		c->rx = n;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (final) {
		dispatch(c, c->rx, c->rx_len);
		c->rx_len = 0;
		if (c->rx_cap > 16384) { /* do not keep a big buffer per idle charger */
			free(c->rx);
			c->rx = NULL;
			c->rx_cap = 0;
		}
	}
	return 0;
}

struct conn_frame *conn_tx_peek(struct conn *c)
{
	return c->tx_head;
}

void conn_tx_pop(struct conn *c)
{
	struct conn_frame *f = c->tx_head;

	if (!f)
		return;
	c->tx_head = f->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	c->tx_count--;
	free(f);
}

int conn_call(struct conn *c, const char *action, const json_t *payload, conn_result_fn cb,
	      void *ud)
{
	struct conn_call *k;

	if (c->closing)
		return -ENOTCONN;
	if (c->inflight && c->queue_len >= (size_t)c->hub->cfg->max_call_queue)
		return -EBUSY;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	list_init(&k->link);
	k->conn = c;
	k->cb = cb;
	k->ud = ud;
	snprintf(k->id, sizeof(k->id), "cs-%llu", (unsigned long long)++*c->hub->next_call_id);
	snprintf(k->action, sizeof(k->action), "%s", action);
	k->frame = ocpp_frame_call(k->id, action, payload, &k->len);
	if (!k->frame) {
		free(k);
		return -ENOMEM;
	}
	if (c->inflight) {
		/* OCPP-J: one CALL in flight per direction; the rest wait their turn. */
		if (c->queue_tail)
			c->queue_tail->next = k;
		else
			c->queue_head = k;
		c->queue_tail = k;
		c->queue_len++;
		return 0;
	}
	call_start(c, k);
	return 0;
}

void conn_calls_expire(struct conn_hub *hub)
{
	int64_t now = clock_mono_ms();

	while (!list_empty(&hub->calls)) {
		struct conn_call *k = list_entry(hub->calls.next, struct conn_call, link);

		if (k->deadline_ms > now) {
			uv_timer_start(&hub->call_timer, on_call_timer,
				       (uint64_t)(k->deadline_ms - now), 0);
			return;
		}
		log_notice("[cp %s] %s %s: no answer in %d ms", k->conn->id, k->action, k->id,
			   hub->cfg->call_timeout_ms);
		call_finish(k->conn, -ETIMEDOUT, NULL, NULL, "timeout");
	}
}

void conn_release_held(struct conn_hub *hub, bool committed)
{
	conn_release_held_upto(hub, committed, UINT64_MAX);
}

void conn_release_held_upto(struct conn_hub *hub, bool committed, uint64_t batch)
{
	static const unsigned bounds[] = {CONN_BATCH_BUCKETS};
	uint64_t now = uv_hrtime(), replies = 0;
	struct list *l, *l_next;
	size_t b = 0;

	for (l = hub->held_conns.next; l != &hub->held_conns; l = l_next) {
		struct conn *c = list_entry(l, struct conn, held_link);
		struct conn_frame *f = c->held_head, *stop = f;

		l_next = l->next;
		/* the prefix of this batch and older ones; the rest stays held, in order */
		while (stop && stop->batch <= batch)
			stop = stop->next;
		if (stop == f)
			continue;
		c->held_head = stop;
		if (!stop) {
			c->held_tail = NULL;
			list_del(&c->held_link);
		}
		while (f != stop) {
			struct conn_frame *next = f->next;

			f->next = NULL;
			if (f->is_result && !committed) {
				/* Never acknowledge what is not durable. */
				char *text;
				size_t len;
				int16_t action = f->action;
				uint64_t in_ns = f->in_ns;

				text = ocpp_frame_error(c->version, f->id, OCPP_ERR_INTERNAL,
							"storage failure, retry later", &len);
				count_error(c, action >= 0 ? action : CONN_ACTION_UNKNOWN,
					    OCPP_ERR_INTERNAL);
				free(f);
				f = text ? frame_new(text, len) : NULL;
				free(text);
				if (f) {
					f->in_ns = in_ns;
					f->is_error = true;
					f->action = action;
				}
				for (size_t i = 0; i < sizeof(c->cache) / sizeof(c->cache[0]);
				     i++) {
					free(c->cache[i].frame);
					c->cache[i].frame = NULL;
				}
			}
			if (f) {
				count_released(hub, f, now);
				replies++;
				tx_push(c, f);
			}
			f = next;
		}
	}
	while (b < sizeof(bounds) / sizeof(bounds[0]) && replies > bounds[b])
		b++;
	hub->stats.batch_hist[b]++;
	hub->stats.batch_sum += replies;
}

void conn_hub_init(struct conn_hub *hub)
{
	list_init(&hub->conns);
	list_init(&hub->held_conns);
	list_init(&hub->calls);
	hub->calls_since_commit = 0;
	hub->stats = (struct conn_stats){0};
}

struct conn *conn_create(struct conn_hub *hub, void *wsi, const char *station_id,
			 enum ocpp_version v)
{
	struct conn *c = calloc(1, sizeof(*c));
	void *replaced;

	if (!c)
		return NULL;
	c->hub = hub;
	c->wsi = wsi;
	c->version = v;
	c->catalog = hub->catalog[v];
	c->adapter = adapter_for(v);
	list_init(&c->held_link);
	list_add_tail(&hub->conns, &c->link);
	snprintf(c->id, sizeof(c->id), "%s", station_id);
	c->created_ms = c->last_rx_ms = c->call_refill_ms = clock_mono_ms();
	c->call_tokens = hub->cfg->call_burst;
	c->st =
	    svc_station_attach(hub->svc, station_id, (int)v, ocpp_version_name(v), c, &replaced);
	if (!c->st) {
		list_del(&c->link);
		free(c);
		return NULL;
	}
	if (replaced) {
		struct conn *old = replaced;

		/* Field-proven defence: the newest connection wins, the old one is closed. */
		log_notice("[cp %s] new connection replaces the previous one", c->id);
		old->st = NULL;
		conn_close(old, 1000, "replaced by a newer connection");
	}
	log_info("[cp %s %s] connected", c->id, ocpp_version_name(v));
	return c;
}

void conn_destroy(struct conn *c)
{
	struct conn_frame *f;
	struct conn_call *k;

	if (!c)
		return;
	c->closing = true;
	/* Held replies are dropped: the data is committed anyway and the peer is gone. */
	list_del(&c->held_link);
	while ((f = c->held_head)) {
		c->held_head = f->next;
		free(f);
	}
	while (c->tx_head)
		conn_tx_pop(c);
	if (c->inflight)
		call_finish(c, -ECONNRESET, NULL, NULL, "connection closed");
	while ((k = c->queue_head)) {
		c->queue_head = k->next;
		k->cb(k->ud, -ECONNRESET, NULL, NULL, "connection closed");
		call_free(k);
	}
	if (c->st)
		svc_station_detach(c->hub->svc, c->st, c);
	for (size_t i = 0; i < sizeof(c->cache) / sizeof(c->cache[0]); i++)
		free(c->cache[i].frame);
	list_del(&c->link);
	log_info("[cp %s] disconnected", c->id);
	free(c->rx);
	free(c);
}

/* ---- security: liveness sweep and closing with a close frame */
void conn_close(struct conn *c, int code, const char *reason)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	if (c->hub->io->close_frame)
		c->hub->io->close_frame(c->wsi);
	else
		c->hub->io->close(c->wsi);
}

void conn_sweep(struct conn_hub *hub)
{
	const struct cfg *cfg = hub->cfg;
	int64_t now = clock_mono_ms();
	struct list *e;

	for (e = hub->conns.next; e != &hub->conns; e = e->next) {
		struct conn *c = list_entry(e, struct conn, link);
		int64_t interval_s;

		if (c->closing)
			continue;
		if (!c->boot_seen) {
			if (now - c->created_ms > (int64_t)cfg->boot_timeout_s * 1000) {
				log_notice("[cp %s] no BootNotification within %d s, closing",
					   c->id, cfg->boot_timeout_s);
				conn_close(c, 1008, "BootNotification expected");
			}
			continue;
		}
		interval_s =
		    c->st && c->st->interval_s > 0 ? c->st->interval_s : cfg->heartbeat_interval_s;
		if (now - c->last_rx_ms > interval_s * cfg->idle_factor * 1000) {
			log_notice("[cp %s] silent for %lld s (interval %lld s), closing", c->id,
				   (long long)((now - c->last_rx_ms) / 1000),
				   (long long)interval_s);
			conn_close(c, 1001, "idle");
		}
	}
}

static void on_sweep_timer(uv_timer_t *t)
{
	conn_sweep(t->data);
}

void conn_sweep_start(struct conn_hub *hub, uv_loop_t *loop)
{
	uv_timer_init(loop, &hub->sweep_timer);
	hub->sweep_timer.data = hub;
	uv_timer_start(&hub->sweep_timer, on_sweep_timer, 1000, 1000);
	uv_unref((uv_handle_t *)&hub->sweep_timer);
}
/* ---- end security */
