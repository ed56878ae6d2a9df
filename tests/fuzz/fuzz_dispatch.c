/* SPDX-License-Identifier: MIT */
/* Fuzz target: a charger's frame through the 1.6 or 2.0.1 adapter, as conn.c dispatches a CALL
 * (catalogue lookup, schema validation, handler), against the real domain and an in-memory
 * store. The first byte picks the version and the station (public or residential site); the
 * rest is the frame. Invariants: a handler either answers with a payload that passes its own
 * response schema, or fails with a CALLERROR code that is not InternalError (a storage failure
 * on a validated request is a bug); either way the answer serializes. */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "conn.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "fuzz.h"
#include "ocpp.h"
#include "ocpp16/v16.h"
#include "ocpp201/v201.h"
#include "store/store.h"
#include "svc/svc.h"

#define T0 1795000000000LL

static struct {
	struct app *app;
	struct conn conn[2];
	struct chg_station *st[2];
} w;

static void world_free(void)
{
	for (int i = 0; i < 2; i++)
		if (w.st[i])
			svc_station_detach(w.app->svc, w.st[i], &w.conn[i]);
	svc_destroy(w.app->svc);
	store_close(w.app->store);
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		ocpp_catalog_destroy(w.app->catalog[v]);
	cfg_free(&w.app->cfg);
	free(w.app);
}

static void put_token(const char *token, int status, const char *site)
{
	struct store_token t = {.status = status};

	snprintf(t.token, sizeof(t.token), "%s", token);
	snprintf(t.site_id, sizeof(t.site_id), "%s", site ? site : "");
	FUZZ_CHECK(store_token_put(w.app->store, &t) == 0);
}

static void world_init(void)
{
	static const char *const ids[2] = {"CP-PUB", "CP-HOME"};
	char err[256];
	struct store *s;

	if (w.app)
		return;
	log_set_level(LOG_ERR);
	w.app = calloc(1, sizeof(*w.app));
	FUZZ_CHECK(w.app != NULL);
	cfg_init(&w.app->cfg);
	w.app->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	s = w.app->store = store_open(":memory:", false, err, sizeof(err));
	FUZZ_CHECK(s != NULL);
	w.app->svc = svc_create(s, &w.app->clock, &w.app->cfg);
	FUZZ_CHECK(w.app->svc != NULL);
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		w.app->catalog[v] = ocpp_catalog_create((enum ocpp_version)v);
		FUZZ_CHECK(w.app->catalog[v] != NULL);
	}
	FUZZ_CHECK(store_site_put(s, "S-PUB", SITE_PUBLIC, T0) == 0);
	FUZZ_CHECK(store_site_put(s, "S-HOME", SITE_RESIDENTIAL, T0) == 0);
	FUZZ_CHECK(store_station_put(s, ids[0], "S-PUB", NULL, T0) == 0);
	FUZZ_CHECK(store_station_put(s, ids[1], "S-HOME", NULL, T0) == 0);
	put_token("TAG-1", AUTH_ACCEPTED, NULL);
	put_token("ABC", AUTH_ACCEPTED, NULL);
	put_token("OWNER", AUTH_ACCEPTED, "S-HOME");
	put_token("BLOCKED", AUTH_BLOCKED, NULL);
	for (int i = 0; i < 2; i++) {
		void *replaced;

		w.conn[i].app = w.app;
		snprintf(w.conn[i].id, sizeof(w.conn[i].id), "%s", ids[i]);
		w.st[i] =
		    svc_station_attach(w.app->svc, ids[i], 0, "ocpp1.6", &w.conn[i], &replaced);
		FUZZ_CHECK(w.st[i] != NULL);
	}
	FUZZ_CHECK(store_commit(s) == 0);
	atexit(world_free);
}

static void check_text(const char *s, size_t cap)
{
	json_t *j;

	FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
	j = json_string(s);
	FUZZ_CHECK(j != NULL);
	json_decref(j);
}

static void dispatch(enum ocpp_version v, int station, const struct ocpp_frame *fr)
{
	const struct ocpp_catalog *cat = w.app->catalog[v];
	const struct ocpp_msg_def *def = ocpp_catalog_find(cat, fr->action);
	const struct adapter *ad = v == OCPP_V16 ? &v16_adapter : &v201_adapter;
	adapter_handler_fn fn = ad->find(fr->action);
	struct call_ctx call = {.svc = w.app->svc,
				.cfg = &w.app->cfg,
				.st = w.st[station],
				.action = fr->action,
				.err = OCPP_ERR_INTERNAL};
	json_t *conf = NULL;
	char desc[160], *text;
	enum ocpp_err e;
	size_t len;
	int r;

	if (!def || !def->supported || !(def->dir & OCPP_CP_TO_CS) || !fn)
		return;
	if (ocpp_catalog_validate(cat, fr->action, false, fr->payload, desc, sizeof(desc)))
		return;
	w.conn[station].version = v;
	w.st[station]->protocol = (int)v;
	r = fn(&call, fr->payload, &conf);
	if (r == 0 && conf) {
		e = ocpp_catalog_validate(cat, fr->action, true, conf, desc, sizeof(desc));
		if (e != OCPP_ERR_NONE)
			fprintf(stderr, "%s answer breaks its schema: %s\n", fr->action, desc);
		FUZZ_CHECK(e == OCPP_ERR_NONE);
		text = ocpp_frame_result(fr->id, conf, &len);
		FUZZ_CHECK(text != NULL);
		free(text);
	} else {
		FUZZ_CHECK(r < 0 || !conf);
		check_text(call.err_desc, sizeof(call.err_desc));
		if (call.err == OCPP_ERR_INTERNAL)
			fprintf(stderr, "%s: InternalError \"%s\"\n", fr->action, call.err_desc);
		FUZZ_CHECK(call.err != OCPP_ERR_INTERNAL);
		FUZZ_CHECK(call.err > OCPP_ERR_NONE && call.err < _OCPP_ERR_MAX);
		text = ocpp_frame_error(v, fr->id, call.err, call.err_desc, &len);
		FUZZ_CHECK(text != NULL);
		free(text);
	}
	json_decref(conf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocpp_frame fr;
	enum ocpp_version v;
	int station;

	if (size < 1)
		return 0;
	world_init();
	v = (data[0] & 1) ? OCPP_V201 : OCPP_V16;
	station = (data[0] >> 1) & 1;
	if (ocpp_frame_parse((const char *)data + 1, size - 1, &fr, NULL) < 0)
		return 0;
	if (fr.type == OCPP_CALL)
		dispatch(v, station, &fr);
	ocpp_frame_release(&fr);
	/* every input starts from the same database: inputs replay deterministically */
	store_rollback(w.app->store);
	return 0;
}
