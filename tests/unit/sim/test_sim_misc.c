/* SPDX-License-Identifier: MIT */
/* Unit tests of the simulator's small parts: JSON writer, timer wheel, scenario parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jw.h"
#include "scenario.h"
#include "site.h"
#include "wheel.h"

static void test_jw_nesting_commas_and_escapes(void **state)
{
	struct cpsim_jw w = {0};
	json_error_t je;
	json_t *v;

	(void)state;
	cpsim_jw_reset(&w);
	cpsim_jw_obj(&w);
	cpsim_jw_key(&w, "a");
	cpsim_jw_arr(&w);
	cpsim_jw_int(&w, -3);
	cpsim_jw_num(&w, 2.25, 2);
	cpsim_jw_num(&w, -0.0001, 1);
	cpsim_jw_bool(&w, true);
	cpsim_jw_obj(&w);
	cpsim_jw_end(&w);
	cpsim_jw_end(&w);
	cpsim_jw_key(&w, "s");
	cpsim_jw_str(&w, "q\"b\\\n\x01é");
	cpsim_jw_key(&w, "r");
	cpsim_jw_raw(&w, "{\"x\":1}");
	cpsim_jw_end(&w);
	assert_string_equal(cpsim_jw_text(&w), "{\"a\":[-3,2.25,0.0,true,{}],\"s\":"
					       "\"q\\\"b\\\\\\u000a\\u0001é\",\"r\":{\"x\":1}}");
	v = json_loads(cpsim_jw_text(&w), JSON_REJECT_DUPLICATES, &je);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "s")), "q\"b\\\n\x01é");
	json_decref(v);
	cpsim_jw_reset(&w);
	cpsim_jw_arr(&w);
	cpsim_jw_end(&w);
	assert_string_equal(cpsim_jw_text(&w), "[]");
	cpsim_jw_free(&w);
}

struct fired {
	unsigned n;
	bool rearmed;
	uint32_t order[64];
	struct cpsim_wnode *nodes;
	struct cpsim_wheel *w;
};

static void on_fire(struct cpsim_wnode *n, void *arg)
{
	struct fired *f = arg;

	f->order[f->n++] = (uint32_t)(n - f->nodes);
	/* node 5 re-arms itself once, already due: it must fire in a later expiry, not loop */
	if (n - f->nodes == 5 && !f->rearmed) {
		f->rearmed = true;
		cpsim_wheel_set(f->w, n, 0);
	}
}

static void test_wheel_fires_due_nodes_once(void **state)
{
	struct cpsim_wheel w;
	struct cpsim_wnode nodes[8] = {0};
	struct fired f = {.nodes = nodes, .w = &w};

	(void)state;
	assert_int_equal(cpsim_wheel_init(&w, 4, 16, 0), 0);
	cpsim_wheel_set(&w, &nodes[0], 10);
	cpsim_wheel_set(&w, &nodes[1], 1000); /* several rounds ahead (16 slots x 4 ms) */
	cpsim_wheel_set(&w, &nodes[2], 11);
	cpsim_wheel_set(&w, &nodes[3], 50);
	cpsim_wheel_set(&w, &nodes[5], 12);
	cpsim_wheel_del(&w, &nodes[3]);
	assert_int_equal(w.count, 4);
	assert_int_equal(cpsim_wheel_expire(&w, 9, on_fire, &f), 0);
	assert_int_equal(cpsim_wheel_expire(&w, 12, on_fire, &f), 3);
	assert_int_equal(f.n, 3);
	assert_true(cpsim_wheel_armed(&nodes[5])); /* re-armed by its callback */
	assert_int_equal(cpsim_wheel_expire(&w, 20, on_fire, &f), 1);
	assert_int_equal(cpsim_wheel_expire(&w, 999, on_fire, &f), 0);
	assert_false(cpsim_wheel_armed(&nodes[3]));
	/* a long stall: every slot once, the far node fires */
	assert_int_equal(cpsim_wheel_expire(&w, 100000, on_fire, &f), 1);
	assert_int_equal(f.order[f.n - 1], 1);
	assert_int_equal(w.count, 0);
	cpsim_wheel_free(&w);
}

/* A writable argv copy (getopt permutes it). */
static char **argv_of(const char *const *src, int n)
{
	char **v = calloc((size_t)n + 1, sizeof(*v));

	for (int i = 0; i < n; i++)
		v[i] = strdup(src[i]);
	return v;
}

static void argv_free(char **v)
{
	for (int i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static void test_scenario_flags(void **state)
{
	struct cpsim_scenario sc;
	char err[256];
	static const char *const args[] = {"cpsim",
					   "--url",
					   "ws://127.0.0.1:9000/ocpp/",
					   "--chargers",
					   "100",
					   "--protocol",
					   "mixed",
					   "--mix",
					   "public=1,residential=2,rural=1",
					   "--speed",
					   "60",
					   "--duration",
					   "30",
					   "--offline-duration",
					   "10:20",
					   "--start-time",
					   "2026-06-01T00:00:00Z",
					   "--clock-anchor",
					   "2026-06-01T08:00:00Z",
					   NULL};
	char **argv = argv_of(args, 19);
	char id[40], site[40];

	(void)state;
	assert_int_equal(cpsim_scenario_from_args(&sc, 19, argv, err, sizeof(err)), 0);
	assert_int_equal(sc.sim_start_ms, 1780272000000LL);
	assert_int_equal(sc.sim_anchor_ms, 1780272000000LL + 8 * 3600 * 1000LL);
	assert_string_equal(sc.host, "127.0.0.1");
	assert_int_equal(sc.port, 9000);
	assert_string_equal(sc.path, "/ocpp");
	assert_int_equal(sc.total, 100);
	assert_int_equal(sc.ngroups, 3);
	assert_int_equal(sc.groups[0].count + sc.groups[1].count + sc.groups[2].count, 100);
	assert_int_equal(sc.groups[1].kind, CPSIM_KIND_RESIDENTIAL);
	assert_int_equal(sc.groups[1].count, 50);
	assert_float_equal(sc.faults.offline_min_s, 10, 0);
	/* rural chargers lose their network by default */
	assert_true(cpsim_scenario_faults(&sc, 2)->offline_per_h > 0);
	assert_int_equal(cpsim_scenario_proto(&sc, 0), CPSIM_PROTO_V16);
	assert_int_equal(cpsim_scenario_proto(&sc, 1), CPSIM_PROTO_V201);
	cpsim_charger_id(&sc, 30, id, sizeof(id));
	assert_string_equal(id, "SIM-R-000030");
	cpsim_site_id(&sc, 30, site, sizeof(site));
	assert_string_equal(site, "SIM-SR-00005"); /* 6th residential charger, own site */
	cpsim_scenario_free(&sc);
	argv_free(argv);
}

/* site_size puts a group's chargers on sites of its own, that many to a site */
static void test_scenario_site_size(void **state)
{
	struct cpsim_scenario sc;
	char err[256], site[40];

	(void)state;
	cpsim_scenario_defaults(&sc);
	assert_int_equal(cpsim_scenario_load_json(
			     &sc, NULL,
			     "{\"id_prefix\": \"VD\", \"groups\": ["
			     " {\"kind\": \"residential\", \"count\": 3},"
			     " {\"kind\": \"residential\", \"count\": 25, \"site_size\": 20,"
			     "  \"soc\": [0.4, 0.7]}]}",
			     err, sizeof(err)),
			 0);
	assert_int_equal(cpsim_scenario_finish(&sc, err, sizeof(err)), 0);
	assert_int_equal(sc.groups[1].site_size, 20);
	assert_float_equal(sc.groups[1].soc_lo, 0.4, 1e-9);
	assert_float_equal(sc.groups[1].soc_hi, 0.7, 1e-9);
	assert_float_equal(sc.groups[0].soc_hi, 0, 0);
	cpsim_site_id(&sc, 2, site, sizeof(site));
	assert_string_equal(site, "VD-SR-00002"); /* the kind's default: one per site */
	cpsim_site_id(&sc, 3, site, sizeof(site));
	assert_string_equal(site, "VD-SR1-00000");
	cpsim_site_id(&sc, 22, site, sizeof(site));
	assert_string_equal(site, "VD-SR1-00000"); /* the 20th of the group */
	cpsim_site_id(&sc, 23, site, sizeof(site));
	assert_string_equal(site, "VD-SR1-00001");
	cpsim_scenario_free(&sc);
	cpsim_scenario_defaults(&sc);
	assert_int_equal(cpsim_scenario_load_json(&sc, NULL,
						  "{\"groups\": [{\"kind\": \"residential\","
						  " \"count\": 3, \"site_size\": 0}]}",
						  err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "site_size"));
	cpsim_scenario_free(&sc);
}

static void test_scenario_json_and_errors(void **state)
{
	struct cpsim_scenario sc;
	char err[256];
	static const char *const bad_args[] = {"cpsim", "--speed", "0", NULL};
	static const char *const unknown_args[] = {"cpsim", "--frobnicate", NULL};
	char **bad = argv_of(bad_args, 3), **unknown = argv_of(unknown_args, 2);

	(void)state;
	cpsim_scenario_defaults(&sc);
	assert_int_equal(
	    cpsim_scenario_load_json(&sc, NULL,
				     "{\"url\": \"ws://127.0.0.1:8180/ocpp\", \"speed\": 120,"
				     " \"groups\": [{\"kind\": \"swap\", \"count\": 3, "
				     "\"connectors\": 6, \"protocol\": \"ocpp2.0.1\"},"
				     " {\"kind\": \"public\", \"count\": 7}],"
				     " \"faults\": {\"drop_per_hour\": 2, \"offline_s\": [5, 9]},"
				     " \"storms_at_s\": [10, 20]}",
				     err, sizeof(err)),
	    0);
	assert_int_equal(cpsim_scenario_finish(&sc, err, sizeof(err)), 0);
	assert_int_equal(sc.total, 10);
	assert_int_equal(sc.groups[0].connectors, 6);
	assert_int_equal(sc.groups[0].proto, CPSIM_PROTO_V201);
	assert_int_equal(sc.nstorms, 2);
	assert_float_equal(sc.faults.drop_per_h, 2, 0);
	cpsim_scenario_free(&sc);

	cpsim_scenario_defaults(&sc);
	assert_int_equal(cpsim_scenario_load_json(&sc, NULL, "{\"speeed\": 1}", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "speeed"));
	cpsim_scenario_free(&sc);
	assert_int_equal(cpsim_scenario_from_args(&sc, 3, bad, err, sizeof(err)), -EINVAL);
	cpsim_scenario_free(&sc);
	assert_int_equal(cpsim_scenario_from_args(&sc, 2, unknown, err, sizeof(err)), -EINVAL);
	cpsim_scenario_free(&sc);
	cpsim_scenario_defaults(&sc);
	assert_int_equal(cpsim_scenario_set_url(&sc, "http://127.0.0.1:1/x"), -EINVAL);
	assert_int_equal(cpsim_scenario_set_url(&sc, "ws://127.0.0.1/x"), -EINVAL);
	cpsim_scenario_free(&sc);
	argv_free(bad);
	argv_free(unknown);
}

/* Arrivals happen when the site kind says, and EVs are plausible. */
static void test_site_arrivals_and_evs(void **state)
{
	const int64_t t0 = INT64_C(1795392000000); /* midnight UTC */
	uint64_t rng = cpsim_rng_seed(7, 1);

	(void)state;
	for (int i = 0; i < 200; i++) {
		int64_t a = cpsim_site_next_arrival(CPSIM_KIND_RESIDENTIAL, &rng,
						    t0 + 12 * 3600000LL, false);
		int64_t tod = (a - t0) % 86400000LL, dep;
		struct cpsim_ev ev;

		assert_true(tod >= 17 * 3600000LL && tod < 21 * 3600000LL);
		cpsim_site_draw_ev(CPSIM_KIND_RESIDENTIAL, &rng, a, 1.0, &ev, &dep);
		assert_true(dep > a && dep - a <= 20 * 3600000LL);
		assert_true(ev.soc < ev.target_soc && ev.v2g);
		cpsim_site_draw_ev(CPSIM_KIND_PUBLIC, &rng, a, 1.0, &ev, &dep);
		assert_false(ev.v2g); /* public DC hardware is not bidirectional */
		assert_true(dep - a >= 20 * 60000LL && dep - a <= 50 * 60000LL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jw_nesting_commas_and_escapes),
	    cmocka_unit_test(test_wheel_fires_due_nodes_once),
	    cmocka_unit_test(test_scenario_flags),
	    cmocka_unit_test(test_scenario_json_and_errors),
	    cmocka_unit_test(test_scenario_site_size),
	    cmocka_unit_test(test_site_arrivals_and_evs),
	};

	return cmocka_run_group_tests_name("sim-misc", tests, NULL, NULL);
}
