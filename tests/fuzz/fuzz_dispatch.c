/* SPDX-License-Identifier: MIT */
/* Fuzz target: a charger's frame through the server's own dispatcher (dispatch_call: catalogue
 * lookup, capability limits, schema validation both ways, registration gate, the 1.6 or 2.0.1
 * adapter), against the real domain and an in-memory store. The first byte picks the version
 * (bit 0; FUZZ_DISPATCH_VERSION=1.6 or 2.0.1 in the environment fixes it, so that each version
 * can be fuzzed on its own), the station (bit 1: public or residential site) and its registration
 * (bit 2: Accepted or Pending); the rest is the frame. Invariants: a CALLRESULT passes its own
 * response schema (the dispatcher turns a breaking answer into InternalError) and serializes; a
 * CALLERROR is never InternalError (a storage failure or a schema-breaking answer of ours is a
 * bug) and serializes; a station that is not Accepted gets nothing but CALLERRORs except for
 * BootNotification; only a result is durable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "dispatch.h"
#include "fuzz.h"
#include "ocpp.h"
#include "store/store.h"
#include "svc/svc.h"

#define T0 1795000000000LL

static struct {
	bool ready;
	int forced_version; /* -1: the first byte picks it */
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	struct ocpp_catalog *catalog[_OCPP_VERSION_MAX];
	char conn[2]; /* stand-ins for the connections the stations are attached to */
	struct chg_station *st[2];
} w;

static void world_free(void)
{
	for (int i = 0; i < 2; i++)
		if (w.st[i])
			svc_station_detach(w.svc, w.st[i], &w.conn[i]);
	svc_destroy(w.svc);
	store_close(w.store);
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		ocpp_catalog_destroy(w.catalog[v]);
	cfg_free(&w.cfg);
}

static void put_token(const char *token, int status, const char *site)
{
	struct store_token t = {.status = status};

	snprintf(t.token, sizeof(t.token), "%s", token);
	snprintf(t.site_id, sizeof(t.site_id), "%s", site ? site : "");
	FUZZ_CHECK(store_token_put(w.store, &t) == 0);
}

static void world_init(void)
{
	static const char *const ids[2] = {"CP-PUB", "CP-HOME"};
	const char *fv = getenv("FUZZ_DISPATCH_VERSION");
	char err[256];
	struct store *s;

	if (w.ready)
		return;
	w.ready = true;
	log_set_level(LOG_ERR);
	w.forced_version = -1;
	if (fv && (!strcmp(fv, "1.6") || !strcmp(fv, "16")))
		w.forced_version = OCPP_V16;
	else if (fv && (!strcmp(fv, "2.0.1") || !strcmp(fv, "201")))
		w.forced_version = OCPP_V201;
	else
		FUZZ_CHECK(!fv || !*fv); /* a typo would fuzz both versions unnoticed */
	cfg_init(&w.cfg);
	w.clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	s = w.store = store_open(":memory:", false, err, sizeof(err));
	FUZZ_CHECK(s != NULL);
	w.svc = svc_create(s, &w.clock, &w.cfg);
	FUZZ_CHECK(w.svc != NULL);
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		w.catalog[v] = ocpp_catalog_create((enum ocpp_version)v);
		FUZZ_CHECK(w.catalog[v] != NULL);
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

		w.st[i] = svc_station_attach(w.svc, ids[i], 0, "ocpp1.6", &w.conn[i], &replaced);
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

static void dispatch(enum ocpp_version v, int station, bool accepted, const struct ocpp_frame *fr)
{
	struct chg_station *st = w.st[station];
	const struct adapter *ad = adapter_for(v);
	const struct dispatch_ctx ctx = {.catalog = w.catalog[v],
					 .adapter = ad,
					 .cfg = &w.cfg,
					 .svc = w.svc,
					 .st = st};
	const struct ocpp_msg_def *def = ocpp_catalog_find(w.catalog[v], fr->action);
	struct dispatch_reply rep;
	enum ocpp_err e;
	char *text;
	size_t len;

	st->protocol = (int)v;
	st->registration = accepted ? REG_ACCEPTED : REG_PENDING;
	st->boot_accepted = false;
	e = dispatch_call(&ctx, fr, &rep);
	FUZZ_CHECK(e == rep.err);
	FUZZ_CHECK(rep.durable == (e == OCPP_ERR_NONE));
	if (e == OCPP_ERR_NONE) {
		FUZZ_CHECK(rep.payload != NULL);
		FUZZ_CHECK(def && (def->dir & OCPP_CP_TO_CS) && ad->find(fr->action));
		FUZZ_CHECK(accepted || strcmp(fr->action, "BootNotification") == 0);
		text = ocpp_frame_result(fr->id, rep.payload, &len);
		FUZZ_CHECK(text != NULL);
		free(text);
	} else {
		FUZZ_CHECK(rep.payload == NULL);
		check_text(rep.desc, sizeof(rep.desc));
		if (e == OCPP_ERR_INTERNAL)
			fprintf(stderr, "%s: InternalError \"%s\"\n", fr->action, rep.desc);
		FUZZ_CHECK(e != OCPP_ERR_INTERNAL);
		FUZZ_CHECK(e > OCPP_ERR_NONE && e < _OCPP_ERR_MAX);
		text = ocpp_frame_error(v, fr->id, e, rep.desc, &len);
		FUZZ_CHECK(text != NULL);
		free(text);
	}
	json_decref(rep.payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocpp_frame fr;
	enum ocpp_version v;
	int station;
	bool accepted;

	if (size < 1)
		return 0;
	world_init();
	v = (data[0] & 1) ? OCPP_V201 : OCPP_V16;
	if (w.forced_version >= 0)
		v = (enum ocpp_version)w.forced_version;
	station = (data[0] >> 1) & 1;
	accepted = !(data[0] & 4);
	if (ocpp_frame_parse((const char *)data + 1, size - 1, &fr, NULL) < 0)
		return 0;
	if (fr.type == OCPP_CALL)
		dispatch(v, station, accepted, &fr);
	ocpp_frame_release(&fr);
	/* every input starts from the same database: inputs replay deterministically */
	store_rollback(w.store);
	return 0;
}
