/* SPDX-License-Identifier: MIT */
/* Fuzz target: one REST request through the real router (api_handle) against the real domain
 * (svc), an in-memory store and a fake link that answers operator commands at once. Input:
 *   byte 0   bits 0-2 the method (GET, POST, PUT, DELETE, other); bit 3 the fake station answers
 *            commands (else: not connected); bit 4 its answer is a CALLERROR; bit 5 the request
 *            carries no credentials (else an admin API token, the Host of the API's public URL
 *            and Content-Type application/json, so that it passes the gate)
 *   then     the path, up to '?' or '\n' (at most 255 bytes, as the transport copies it)
 *   then     after '?', the query, up to '\n' (at most 511 bytes)
 *   then     after '\n', the body (POST/PUT)
 * Invariants: every request is answered exactly once (after the group commit when it waited on
 * a command, after the loop ran the password work of a login), with a status of 200..504 and, when it has a body, a JSON object; no 500 (a
 * storage failure or an internal error on an in-memory store is a bug); the store is rolled
 * back after each input, so that most inputs replay alike (writes the API commits itself stay:
 * the world is shared, as in a real node). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "api/api.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "fuzz.h"
#include "plan_rt.h"
#include "store/store.h"
#include "svc/account.h"
#include "svc/cmd.h"
#include "svc/energy.h"
#include "svc/link.h"
#include "svc/svc.h"
#include "tariff_store.h"

#define T0 1795000000000LL

static struct {
	bool ready;
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	struct api api;
	bool draining;
	bool answer, call_error; /* how the fake station answers */
	char http;		 /* the transport's handle */
	int ready_calls;
	uv_loop_t loop;			    /* the login's password work */
	char token[ACCOUNT_SECRET_MAX + 8]; /* "Bearer csms_…" of an admin API token */
} w;

/* The fake link: a station that is connected and answers at once, or none. */
static int link_send(void *impl, const char *station_id, const struct svc_cmd *cmd,
		     svc_link_done_fn done, void *ud)
{
	struct svc_cmd_result res = {.status = SVC_RES_NOT_CONNECTED};

	(void)impl;
	FUZZ_CHECK(cmd->kind >= 0 && cmd->kind < _SVC_CMD_KIND_MAX);
	snprintf(res.action, sizeof(res.action), "%s",
		 cmd->kind == SVC_CMD_RAW ? cmd->raw.action : svc_cmd_kind_name(cmd->kind));
	if (w.answer && w.call_error) {
		res.status = SVC_RES_CALL_ERROR;
		snprintf(res.code, sizeof(res.code), "NotSupported");
		snprintf(res.detail, sizeof(res.detail), "fuzz");
	} else if (w.answer) {
		res.status = SVC_RES_ACCEPTED;
		snprintf(res.station_status, sizeof(res.station_status), "Accepted");
		res.payload = "{\"status\":\"Accepted\"}";
	} else {
		snprintf(res.detail, sizeof(res.detail), "station %s is not connected", station_id);
	}
	done(ud, &res);
	return 0;
}

static const struct svc_link_ops fuzz_link = {.version = 1, .send = link_send};

static void on_ready(void *http)
{
	FUZZ_CHECK(http == &w.http);
	w.ready_calls++;
}

static void world_free(void)
{
	api_auth_destroy(w.api.auth);
	uv_loop_close(&w.loop);
	energy_destroy(w.api.energy);
	svc_destroy(w.svc);
	store_close(w.store);
	cfg_free(&w.cfg);
}

static void world_init(void)
{
	struct store *s;
	char err[256];

	if (w.ready)
		return;
	w.ready = true;
	log_set_level(LOG_ERR);
	cfg_init(&w.cfg);
	w.cfg.kdf_iterations = 1;
	w.clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	s = w.store = store_open(":memory:", false, err, sizeof(err));
	FUZZ_CHECK(s != NULL);
	w.svc = svc_create(s, &w.clock, &w.cfg);
	FUZZ_CHECK(w.svc != NULL);
	svc_set_link(w.svc, &fuzz_link, NULL);
	FUZZ_CHECK(store_site_put(s, "S-PUB", SITE_PUBLIC, T0) == 0);
	FUZZ_CHECK(store_site_put(s, "S-HOME", SITE_RESIDENTIAL, T0) == 0);
	FUZZ_CHECK(store_station_put(s, "CP-PUB", "S-PUB", NULL, T0) == 0);
	FUZZ_CHECK(store_station_put(s, "CP-HOME", "S-HOME", NULL, T0) == 0);
	{
		char tok[ACCOUNT_SECRET_MAX];
		int64_t id;

		FUZZ_CHECK(
		    account_token_create(s, "fuzz", ACCOUNT_ROLE_ADMIN, "fuzz", T0, tok, &id) == 0);
		snprintf(w.token, sizeof(w.token), "Bearer %s", tok);
	}
	FUZZ_CHECK(store_commit(s) == 0);
	FUZZ_CHECK(uv_loop_init(&w.loop) == 0);
	/* the locked API as a node runs it: accounts, the Origin/Host check */
	w.api = (struct api){.svc = w.svc, .store = s, .cfg = &w.cfg, .draining = &w.draining};
	w.api.loop = &w.loop;
	w.api.auth = api_auth_create(&w.cfg);
	FUZZ_CHECK(w.api.auth != NULL);
	snprintf(w.api.public_url, sizeof(w.api.public_url), "http://127.0.0.1:8180");
	w.api.energy = energy_create(s);
	FUZZ_CHECK(w.api.energy != NULL);
	FUZZ_CHECK(tariff_store_load(s, w.api.energy) >= 0);
	FUZZ_CHECK(svc_plan_start(w.svc) >= 0);
	atexit(world_free);
}

static size_t take(const uint8_t **p, const uint8_t *end, const char *stops, char *buf, size_t cap)
{
	size_t n = 0;

	while (*p < end && !strchr(stops, (char)**p)) {
		if (n + 1 < cap && **p)
			buf[n++] = (char)**p;
		(*p)++;
	}
	buf[n] = '\0';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int methods[] = {API_GET, API_POST, API_PUT, API_DELETE, API_OTHER};
	const uint8_t *p = data + 1, *end = data + size;
	struct api_req *r;
	json_t *j;

	if (size < 1)
		return 0;
	world_init();
	r = calloc(1, sizeof(*r));
	FUZZ_CHECK(r != NULL);
	r->api = &w.api;
	r->http = &w.http;
	r->ready = on_ready;
	r->method = methods[(data[0] & 7) % 5];
	w.answer = data[0] & 8;
	w.call_error = data[0] & 16;
	w.ready_calls = 0;
	snprintf(r->peer, sizeof(r->peer), "127.0.0.1");
	if (!(data[0] & 32)) {
		snprintf(r->host, sizeof(r->host), "127.0.0.1:8180");
		snprintf(r->authorization, sizeof(r->authorization), "%s", w.token);
		snprintf(r->content_type, sizeof(r->content_type), "application/json");
	}
	take(&p, end, "?\n", r->path, sizeof(r->path));
	if (p < end && *p == '?') {
		p++;
		take(&p, end, "\n", r->query, sizeof(r->query));
	}
	if (p < end && *p == '\n') {
		p++;
		if (r->method == API_POST || r->method == API_PUT)
			api_body_append(r, p, (size_t)(end - p));
	}
	api_handle(r);
	/* a login's password work on the loop's threadpool, answered on the loop */
	if (r->pending)
		uv_run(&w.loop, UV_RUN_DEFAULT);
	/* the node's group commit: commands answered meanwhile get their HTTP answer now */
	if (r->pending) {
		FUZZ_CHECK(store_commit(w.store) == 0);
		svc_cmd_release(w.svc, true);
	}
	FUZZ_CHECK(!r->pending);
	FUZZ_CHECK(r->done && w.ready_calls == 1);
	if (getenv("FUZZ_VERBOSE")) /* what the seeds reach */
		fprintf(stderr, "%d %s?%s -> %.120s\n", r->method, r->path, r->query,
			r->resp ? r->resp : "");
	if (r->status == 500)
		fprintf(stderr, "500 %s?%s: %s\n", r->path, r->query, r->resp ? r->resp : "");
	FUZZ_CHECK(r->status >= 200 && r->status <= 504 && r->status != 500);
	if (r->resp) {
		j = json_loadb(r->resp, r->resp_len, 0, NULL);
		FUZZ_CHECK(json_is_object(j));
		json_decref(j);
	}
	api_req_free(r);
	store_rollback(w.store);
	return 0;
}
