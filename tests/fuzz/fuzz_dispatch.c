/* SPDX-License-Identifier: MIT */
/* Fuzz target: a charger's frame through the server's own dispatcher (dispatch_call: catalogue
 * lookup, capability limits, schema validation both ways, registration gate, the 1.6 or 2.0.1
 * adapter), against the real domain and an in-memory store, either directly or through a
 * connection (conn_rx: reassembly, held replies, the retry cache). The first byte picks:
 *   bit 0  the version, 1.6 or 2.0.1 (FUZZ_DISPATCH_VERSION=1.6 or 2.0.1 in the environment fixes
 *          it, so that each version can be fuzzed on its own);
 *   bit 1  the station (public or residential site);
 *   bit 2  its registration (Accepted or Pending);
 *   bit 3  through a connection (conn_rx, the group commit, conn_release_held) instead of
 *          dispatch_call directly;
 *   bit 4  (with bit 3) the frame arrives in two fragments; the CALL is sent twice.
 * The rest is the frame. Invariants, directly: a CALLRESULT passes its own response schema (the
 * dispatcher turns a breaking answer into InternalError), is durable and serializes; a CALLERROR
 * is never InternalError (a storage failure or a schema-breaking answer of ours is a bug) and
 * serializes; a station that is not Accepted gets nothing but CALLERRORs except for
 * BootNotification. Through a connection: a CALL gets exactly one answer with its id, never
 * InternalError, and a retried CALL (same id and action) gets the same bytes again from the retry
 * cache; an answer frame gets none. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "conn.h"
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
	char conn; /* stands in for the connection in direct dispatch */
	struct conn_hub hub;
	uint64_t next_call_id;
	char wsi; /* the transport handle of the connection */
	/* what the connection wrote: frames, each after a NUL */
	char out[16384];
	size_t out_len;
	unsigned out_frames;
} w;

static const char *const station_ids[2] = {"CP-PUB", "CP-HOME"};

static int io_write_text(void *wsi, unsigned char *buf, size_t len)
{
	FUZZ_CHECK(wsi == &w.wsi);
	FUZZ_CHECK(len > 0);
	w.out_frames++;
	if (w.out_len + len + 1 <= sizeof(w.out)) {
		memcpy(w.out + w.out_len, buf, len);
		w.out_len += len;
		w.out[w.out_len++] = '\0';
	}
	return 0;
}

static void io_want_write(void *wsi)
{
	(void)wsi;
	FUZZ_CHECK(!"nothing is queued: every write is taken at once");
}

static void io_close(void *wsi)
{
	(void)wsi;
	FUZZ_CHECK(!"a connection of a single station is never closed by the CSMS here");
}

static const struct conn_io fuzz_io = {
    .write_text = io_write_text,
    .want_write = io_want_write,
    .close = io_close,
};

static void world_free(void)
{
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
	const char *const *ids = station_ids;
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
	FUZZ_CHECK(store_commit(s) == 0);
	conn_hub_init(&w.hub);
	w.hub.cfg = &w.cfg;
	w.hub.svc = w.svc;
	w.hub.io = &fuzz_io;
	w.hub.next_call_id = &w.next_call_id;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		w.hub.catalog[v] = w.catalog[v];
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
	void *replaced;
	struct chg_station *st = svc_station_attach(w.svc, station_ids[station], (int)v,
						    ocpp_version_name(v), &w.conn, &replaced);
	const struct adapter *ad = adapter_for(v);
	const struct dispatch_ctx ctx = {
	    .catalog = w.catalog[v], .adapter = ad, .cfg = &w.cfg, .svc = w.svc, .st = st};
	const struct ocpp_msg_def *def = ocpp_catalog_find(w.catalog[v], fr->action);
	struct dispatch_reply rep;
	enum ocpp_err e;
	char *text;
	size_t len;

	FUZZ_CHECK(st != NULL && replaced == NULL);
	st->registration = accepted ? REG_ACCEPTED : REG_PENDING;
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
	svc_station_detach(w.svc, st, &w.conn);
}

/* Feed text to c (in two fragments if split), commit, and return the answer written (NULL if
 * none; at most one). */
static const char *through(struct conn *c, const char *text, size_t len, bool split)
{
	size_t half = split ? len / 2 : 0;

	w.out_len = 0;
	w.out_frames = 0;
	if (half)
		FUZZ_CHECK(conn_rx(c, text, half, false) == 0);
	FUZZ_CHECK(conn_rx(c, text + half, len - half, true) == 0);
	conn_release_held(&w.hub, true);
	FUZZ_CHECK(w.out_frames <= 1);
	return w.out_frames ? w.out : NULL;
}

static void connection(enum ocpp_version v, int station, bool accepted, bool split,
		       const char *text, size_t len)
{
	struct conn *c = conn_create(&w.hub, &w.wsi, station_ids[station], v);
	struct ocpp_frame in, ans;
	bool parsed, is_call;
	const char *a;
	char *first = NULL;
	int code;

	FUZZ_CHECK(c != NULL && c->st != NULL);
	c->st->registration = accepted ? REG_ACCEPTED : REG_PENDING;
	parsed = ocpp_frame_parse(text, len, &in, NULL) == 0;
	is_call = parsed && in.type == OCPP_CALL;
	a = through(c, text, len, split);
	if (is_call) {
		FUZZ_CHECK(a != NULL);
		FUZZ_CHECK(ocpp_frame_parse(a, strlen(a), &ans, NULL) == 0);
		FUZZ_CHECK(ans.type == OCPP_CALLRESULT || ans.type == OCPP_CALLERROR);
		FUZZ_CHECK(strcmp(ans.id, in.id) == 0);
		if (ans.type == OCPP_CALLERROR) {
			code = ocpp_err_from_name(ans.err_code);
			if (code == OCPP_ERR_INTERNAL)
				fprintf(stderr, "%s: InternalError \"%s\"\n", in.action,
					ans.err_desc);
			FUZZ_CHECK(code > OCPP_ERR_NONE && code != OCPP_ERR_INTERNAL);
		} else {
			first = strdup(a);
			FUZZ_CHECK(first != NULL);
		}
		ocpp_frame_release(&ans);
		if (first && split) {
			/* the charger did not hear the answer and retries: same bytes, from the cache */
			a = through(c, text, len, false);
			FUZZ_CHECK(a != NULL && strcmp(a, first) == 0);
		}
		free(first);
	} else if (a) {
		/* a broken frame that may be a CALL is answered with a CALLERROR */
		FUZZ_CHECK(ocpp_frame_parse(a, strlen(a), &ans, NULL) == 0);
		FUZZ_CHECK(ans.type == OCPP_CALLERROR);
		ocpp_frame_release(&ans);
	}
	if (parsed)
		ocpp_frame_release(&in);
	conn_destroy(c);
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
	if (data[0] & 8) {
		if (size > 1)
			connection(v, station, accepted, data[0] & 16, (const char *)data + 1,
				   size - 1);
	} else if (ocpp_frame_parse((const char *)data + 1, size - 1, &fr, NULL) == 0) {
		if (fr.type == OCPP_CALL)
			dispatch(v, station, accepted, &fr);
		ocpp_frame_release(&fr);
	}
	/* every input starts from the same database: inputs replay deterministically */
	store_rollback(w.store);
	return 0;
}
