/* SPDX-License-Identifier: MIT */
/* Tariff calendars between JSON documents, the store and the node's registry. */
#include "tariff_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "svc/energy.h"
#include "svc/tariff.h"

static int doc_row(const struct store_tariff *row, void *ud)
{
	json_t **out = ud;

	*out = json_loads(row->doc, JSON_REJECT_DUPLICATES, NULL);
	return *out ? 0 : -EIO;
}

static int by_valid_from(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "valid_from"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "valid_from"));

	return strcmp(x ? x : "", y ? y : "");
}

/* doc with the versions of old whose valid_from doc does not have (new reference). */
static json_t *merge(const json_t *doc, const json_t *old)
{
	json_t *out = json_deep_copy(doc), *versions = json_object_get(out, "versions");
	const json_t *ov;
	json_t **v;
	size_t i, n;

	if (!out || !json_is_array(versions))
		goto fail;
	json_array_foreach(json_object_get(old, "versions"), i, ov) {
		const char *from = json_string_value(json_object_get(ov, "valid_from"));
		const json_t *nv;
		size_t j;
		bool replaced = false;

		json_array_foreach(json_object_get(doc, "versions"), j, nv)
			if (from && json_equal(json_object_get(nv, "valid_from"),
					       json_object_get(ov, "valid_from")))
				replaced = true;
		if (!replaced && json_array_append_new(versions, json_deep_copy(ov)) < 0)
			goto fail;
	}
	n = json_array_size(versions);
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		goto fail;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(versions, i));
	qsort(v, n, sizeof(*v), by_valid_from);
	json_array_clear(versions);
	for (i = 0; i < n; i++)
		json_array_append_new(versions, v[i]);
	free(v);
	return out;
fail:
	json_decref(out);
	return NULL;
}

int tariff_store_put(struct store *st, const json_t *doc, int64_t now_ms,
		     struct tariff_calendar **ret_cal, json_t **ret_doc,
		     char reterr_msg[TARIFF_JSON_ERR_MAX])
{
	struct tariff_calendar *cal = NULL, *merged_cal = NULL;
	json_t *old = NULL, *merged = NULL;
	char *text = NULL;
	int r;

	/* the document alone first: its errors name places in what the caller sent */
	r = tariff_json_decode(doc, &cal, reterr_msg);
	if (r < 0)
		return r;
	r = store_tariffs_list(st, cal->id, doc_row, &old);
	if (r < 0 && r != -ENOENT)
		goto out;
	merged = old ? merge(doc, old) : json_deep_copy(doc);
	if (!merged) {
		r = -ENOMEM;
		goto out;
	}
	r = tariff_json_decode(merged, &merged_cal, reterr_msg);
	if (r < 0)
		goto out;
	text = json_dumps(merged, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	r = store_tariff_put(st, merged_cal->id, text, now_ms);
	if (r < 0)
		goto out;
	*ret_cal = merged_cal;
	merged_cal = NULL;
	if (ret_doc) {
		*ret_doc = merged;
		merged = NULL;
	}
	r = 0;
out:
	free(text);
	json_decref(old);
	json_decref(merged);
	tariff_calendar_destroy(cal);
	tariff_calendar_destroy(merged_cal);
	return r;
}

struct load {
	struct energy *e;
	int n;
};

static int load_row(const struct store_tariff *row, void *ud)
{
	struct load *l = ud;
	struct tariff_calendar *cal;
	char err[TARIFF_JSON_ERR_MAX];
	json_t *doc = json_loads(row->doc, JSON_REJECT_DUPLICATES, NULL);
	int r;

	r = doc ? tariff_json_decode(doc, &cal, err) : -EINVAL;
	json_decref(doc);
	if (r < 0) {
		log_err("tariff %s: the stored calendar does not load (%s): left out", row->id,
			doc ? err : "not JSON");
		return r == -ENOMEM ? r : 0;
	}
	r = energy_calendar_put(l->e, cal);
	if (r < 0)
		return r;
	l->n++;
	return 0;
}

int tariff_store_load(struct store *st, struct energy *e)
{
	struct load l = {.e = e};
	int r = store_tariffs_list(st, NULL, load_row, &l);

	return r < 0 ? r : l.n;
}

/* "public,rural" -> bit mask of enum site_kind; -EINVAL on an unknown kind. */
static int parse_kinds(const char *s, unsigned *ret)
{
	char buf[128], *save = NULL, *tok;
	unsigned mask = 0;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = site_kind_from_string(tok);

		if (k < 0)
			return -EINVAL;
		mask |= 1u << k;
	}
	if (!mask)
		return -EINVAL;
	*ret = mask;
	return 0;
}

struct sites {
	unsigned mask;
	size_t n;
	char (*ids)[SITE_ID_MAX + 1];
};

static int site_row(const struct store_site_tariff *row, void *ud)
{
	struct sites *l = ud;
	void *v;

	if (row->kind < 0 || !(l->mask & (1u << row->kind)))
		return 0;
	v = realloc(l->ids, (l->n + 1) * sizeof(*l->ids));
	if (!v)
		return -ENOMEM;
	l->ids = v;
	snprintf(l->ids[l->n++], SITE_ID_MAX + 1, "%s", row->id);
	return 0;
}

int tariff_import_file(const struct cfg *cfg, const char *path, const char *site_kinds)
{
	char err[TARIFF_JSON_ERR_MAX], serr[256];
	struct tariff_calendar *cal = NULL;
	struct sites sites = {0};
	struct store *st = NULL;
	json_error_t jerr;
	json_t *doc;
	int r, status = 1;

	if (site_kinds && parse_kinds(site_kinds, &sites.mask) < 0) {
		fprintf(stderr, "csms: --site-kinds: expected kinds among public, residential, "
				"rural, swap, comma-separated\n");
		return 2;
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		fprintf(stderr, "%s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
		return 2;
	}
	st = store_open(cfg->db_path, true, serr, sizeof(serr));
	if (!st) {
		fprintf(stderr, "csms: cannot open %s: %s\n", cfg->db_path, serr);
		goto out;
	}
	r = tariff_store_put(st, doc, clock_system_now_ms(NULL), &cal, NULL, err);
	if (r == -EINVAL || r == -E2BIG) {
		fprintf(stderr, "%s: %s\n", path, err);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "csms: cannot store %s: %s\n", path,
			r == -EIO ? store_errmsg(st) : strerror(-r));
		goto out;
	}
	if (site_kinds) {
		r = store_site_tariffs_list(st, NULL, site_row, &sites);
		for (size_t i = 0; r >= 0 && i < sites.n; i++)
			r = store_site_tariff_set(st, sites.ids[i], cal->id);
		if (r < 0) {
			fprintf(stderr, "csms: cannot assign %s: %s\n", cal->id, store_errmsg(st));
			goto out;
		}
	}
	if (store_commit(st) < 0) {
		fprintf(stderr, "csms: cannot store %s: %s\n", path, store_errmsg(st));
		goto out;
	}
	printf("tariff %s: %zu version(s) stored in %s%s", cal->id, cal->n_versions, cfg->db_path,
	       site_kinds ? ", " : "\n");
	if (site_kinds)
		printf("assigned to %zu site(s) of kind %s\n", sites.n, site_kinds);
	status = 0;
out:
	free(sites.ids);
	tariff_calendar_destroy(cal);
	store_close(st);
	json_decref(doc);
	return status;
}
