/* SPDX-License-Identifier: MIT */
/* Unit tests of /api/live's fan-out (api_live.c) over the real event bus: {"power": false}
 * keeps per-station power events from a subscriber (the overview's subscription) but not the
 * network's; a subscriber that falls API_LIVE_QUEUE_MAX frames behind is dropped and counted
 * (csms_live_dropped_total). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "svc/events.h"
#include "svc/svc.h"

struct fx {
	struct cfg cfg;
	struct clock clock;
	struct store *store;
	struct svc *svc;
	struct api api;
	int wakes;
};

static void wake(void *ws)
{
	(*(int *)ws)++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static const bool draining = false;
	char err[256];

	if (!f)
		return -1;
	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = 1795000000000LL};
	f->store = store_open(":memory:", false, err, sizeof(err));
	f->svc = f->store ? svc_create(f->store, &f->clock, &f->cfg) : NULL;
	if (!f->svc)
		return -1;
	f->api.svc = f->svc;
	f->api.store = f->store;
	f->api.cfg = &f->cfg;
	f->api.draining = &draining;
	if (api_live_start(&f->api) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	api_live_stop(&f->api);
	svc_destroy(f->svc);
	store_close(f->store);
	cfg_free(&f->cfg);
	free(f);
	return 0;
}

static void post(struct fx *f, int kind, const char *station, double w)
{
	struct svc_event ev = {.kind = kind, .power_w = w};

	snprintf(ev.station, sizeof(ev.station), "%s", station);
	svc_event_post(f->svc, &ev);
}

/* Pop every frame of c: the number of frames whose "type" is type. */
static int drain(struct api_live_client *c, const char *type)
{
	unsigned char *p;
	size_t len;
	int n = 0;

	while ((p = api_live_peek(c, &len))) {
		json_t *o = json_loadb((const char *)p, len, 0, NULL);

		assert_non_null(o);
		if (!strcmp(json_string_value(json_object_get(o, "type")), type))
			n++;
		json_decref(o);
		api_live_pop(c);
	}
	return n;
}

static void test_power_wish(void **state)
{
	struct fx *f = *state;
	struct api_live_client *all = api_live_open(&f->api, &f->wakes, wake);
	struct api_live_client *ov = api_live_open(&f->api, &f->wakes, wake);
	static const char wish[] = "{\"power\": false}";

	assert_non_null(all);
	assert_non_null(ov);
	assert_int_equal(api_live_count(&f->api), 2);
	api_live_rx(ov, wish, strlen(wish));
	post(f, SVC_EV_POWER, "CP-1", 7000);
	post(f, SVC_EV_POWER, "CP-2", 11000);
	post(f, SVC_EV_NETWORK_POWER, "", 18000);
	svc_events_release(f->svc, true);
	/* both had a hello first; the overview has no per-station power, the network's yes */
	assert_int_equal(drain(all, "power"), 2);
	assert_int_equal(drain(ov, "power"), 0);
	post(f, SVC_EV_NETWORK_POWER, "", 18000);
	svc_events_release(f->svc, true);
	assert_int_equal(drain(ov, "network"), 1);
	/* the station page asks for them again */
	api_live_rx(ov, "{\"power\": true}", 15);
	post(f, SVC_EV_POWER, "CP-1", 7000);
	svc_events_release(f->svc, true);
	assert_int_equal(drain(ov, "power"), 1);
	assert_int_equal(drain(all, "power"), 1);
	/* events of an uncommitted group never reach anyone */
	post(f, SVC_EV_POWER, "CP-1", 1);
	svc_events_release(f->svc, false);
	assert_int_equal(drain(all, "power"), 0);
	assert_int_equal(api_live_dropped(&f->api), 0);
	api_live_close(all);
	api_live_close(ov);
	assert_int_equal(api_live_count(&f->api), 0);
}

static void test_slow_subscriber_dropped_and_counted(void **state)
{
	struct fx *f = *state;
	struct api_live_client *slow = api_live_open(&f->api, &f->wakes, wake);
	struct api_live_client *fast = api_live_open(&f->api, &f->wakes, wake);
	int seen = 0;

	assert_non_null(slow);
	assert_non_null(fast);
	for (int i = 0; i < API_LIVE_QUEUE_MAX + 10; i++) {
		post(f, SVC_EV_POWER, "CP-1", i);
		svc_events_release(f->svc, true);
		seen += drain(fast, "power"); /* this one keeps up */
	}
	assert_true(api_live_overflowed(slow));
	assert_false(api_live_overflowed(fast));
	assert_int_equal(seen, API_LIVE_QUEUE_MAX + 10);
	assert_int_equal(api_live_dropped(&f->api), 1);
	/* its frames were given back: nothing left to send it */
	assert_null(api_live_peek(slow, &(size_t){0}));
	api_live_close(slow);
	api_live_close(fast);
	assert_int_equal(api_live_dropped(&f->api), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_power_wish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_subscriber_dropped_and_counted, setup,
					    teardown),
	};

	return cmocka_run_group_tests_name("api-live", tests, NULL, NULL);
}
