/* SPDX-License-Identifier: MIT */
/* Tariff calendars from JSON: shape checks here, tariff rules (coverage, prices) in svc/tariff.c. */
#include "tariff_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/tariff.h"
#include "ocpp.h"

static int fail(char *reterr_msg, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *reterr_msg, int r, const char *fmt, ...)
{
	va_list ap;

	if (reterr_msg) {
		va_start(ap, fmt);
		vsnprintf(reterr_msg, TARIFF_JSON_ERR_MAX, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* "HH:MM", HH 00..24, MM 00..59, 24:00 only as 24:00. */
static int parse_hhmm(const char *s, uint16_t *ret_min)
{
	int h, m, n = 0;

	if (strlen(s) != 5 || sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || h < 0 ||
	    h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
		return -EINVAL;
	*ret_min = (uint16_t)(h * 60 + m);
	return 0;
}

/* "+08:00" / "-05:30" / "Z" */
static int parse_offset(const char *s, int *ret_min)
{
	int h, m, n = 0;

	if (strcmp(s, "Z") == 0) {
		*ret_min = 0;
		return 0;
	}
	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') ||
	    sscanf(s + 1, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || h > 14 || m > 59)
		return -EINVAL;
	*ret_min = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
	return 0;
}

static int get_int(const json_t *o, const char *key, int64_t *ret)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return -EINVAL;
	*ret = json_integer_value(v);
	return 0;
}

static int decode_period(const json_t *jp, struct tariff_period *pe, const char *at,
			 char *reterr_msg)
{
	const json_t *months = json_object_get(jp, "months");
	const json_t *wds = json_object_get(jp, "weekdays");
	const json_t *wins = json_object_get(jp, "windows");
	const json_t *x;
	size_t i;

	if (!json_is_object(jp))
		return fail(reterr_msg, -EINVAL, "%s: not an object", at);
	if (!json_is_array(months) || json_array_size(months) == 0)
		return fail(reterr_msg, -EINVAL, "%s.months: not a non-empty array", at);
	json_array_foreach(months, i, x) {
		json_int_t m = json_is_integer(x) ? json_integer_value(x) : 0;
		if (m < 1 || m > 12)
			return fail(reterr_msg, -EINVAL, "%s.months[%zu]: not a month 1..12", at,
				    i);
		if (pe->months & (1u << m))
			return fail(reterr_msg, -EINVAL, "%s.months[%zu]: month %d twice", at, i,
				    (int)m);
		pe->months |= (uint16_t)(1u << m);
	}
	if (wds) {
		if (!json_is_array(wds) || json_array_size(wds) == 0)
			return fail(reterr_msg, -EINVAL, "%s.weekdays: not a non-empty array", at);
		json_array_foreach(wds, i, x) {
			json_int_t d = json_is_integer(x) ? json_integer_value(x) : 0;
			if (d < 1 || d > 7)
				return fail(reterr_msg, -EINVAL,
					    "%s.weekdays[%zu]: not an ISO weekday 1 (Mon)..7 (Sun)",
					    at, i);
			pe->weekdays |= (uint8_t)(1u << d);
		}
	}
	if (!json_is_array(wins) || json_array_size(wins) == 0)
		return fail(reterr_msg, -EINVAL, "%s.windows: not a non-empty array", at);
	if (json_array_size(wins) > TARIFF_MAX_WINDOWS)
		return fail(reterr_msg, -E2BIG, "%s.windows: more than %d", at, TARIFF_MAX_WINDOWS);
	json_array_foreach(wins, i, x) {
		struct tariff_window *w = &pe->windows[i];
		const char *from = json_string_value(json_object_get(x, "from"));
		const char *to = json_string_value(json_object_get(x, "to"));
		const char *tier = json_string_value(json_object_get(x, "tier"));
		if (!json_is_object(x))
			return fail(reterr_msg, -EINVAL, "%s.windows[%zu]: not an object", at, i);
		if (!from || parse_hhmm(from, &w->from_min) < 0 || w->from_min >= 1440)
			return fail(reterr_msg, -EINVAL,
				    "%s.windows[%zu].from: not a time \"HH:MM\" before 24:00", at,
				    i);
		if (!to || parse_hhmm(to, &w->to_min) < 0)
			return fail(reterr_msg, -EINVAL, "%s.windows[%zu].to: not a time \"HH:MM\"",
				    at, i);
		if (!tier)
			return fail(reterr_msg, -EINVAL, "%s.windows[%zu].tier: missing", at, i);
		w->tier = tariff_tier_from_string(tier);
		if (w->tier < 0)
			return fail(reterr_msg, -EINVAL,
				    "%s.windows[%zu].tier: unknown tier \"%s\"", at, i, tier);
	}
	pe->n_windows = json_array_size(wins);
	return 0;
}

static int decode_prices(const json_t *jp, struct tariff_prices *p, const char *at,
			 char *reterr_msg)
{
	const json_t *imp = json_object_get(jp, "import");

	if (!json_is_object(jp))
		return fail(reterr_msg, -EINVAL, "%s.prices_fen_per_mwh: missing or not an object",
			    at);
	if (!json_is_object(imp))
		return fail(reterr_msg, -EINVAL, "%s.prices_fen_per_mwh.import: not an object", at);
	for (int t = 0; t < _TARIFF_TIER_MAX; t++) {
		const char *name = tariff_tier_to_string((enum tariff_tier)t);
		if (get_int(imp, name, &p->import_fen_per_mwh[t]) < 0)
			return fail(reterr_msg, -EINVAL,
				    "%s.prices_fen_per_mwh.import.%s: missing or not an integer",
				    at, name);
		if (p->import_fen_per_mwh[t] < 0)
			return fail(reterr_msg, -EINVAL,
				    "%s.prices_fen_per_mwh.import.%s: negative price", at, name);
	}
	{
		const char *k;
		const json_t *v;
		ocpp_json_object_foreach(imp, k, v)
			if (tariff_tier_from_string(k) < 0)
				return fail(reterr_msg, -EINVAL,
					    "%s.prices_fen_per_mwh.import.%s: unknown tier", at, k);
	}
	if (get_int(jp, "export", &p->export_fen_per_mwh) < 0)
		return fail(reterr_msg, -EINVAL,
			    "%s.prices_fen_per_mwh.export: missing or not an integer", at);
	if (p->export_fen_per_mwh < 0)
		return fail(reterr_msg, -EINVAL, "%s.prices_fen_per_mwh.export: negative price",
			    at);
	if (get_int(jp, "service", &p->service_fen_per_mwh) < 0)
		return fail(reterr_msg, -EINVAL,
			    "%s.prices_fen_per_mwh.service: missing or not an integer", at);
	if (p->service_fen_per_mwh < 0)
		return fail(reterr_msg, -EINVAL, "%s.prices_fen_per_mwh.service: negative price",
			    at);
	return 0;
}

int tariff_json_decode(const json_t *root, struct tariff_calendar **ret_cal,
		       char reterr_msg[TARIFF_JSON_ERR_MAX])
{
	struct tariff_calendar *cal = NULL;
	struct tariff_version *v = NULL;
	const json_t *versions, *jv;
	const char *id, *off;
	char at[64], err[TARIFF_ERR_MAX];
	int offset_min, r;
	size_t i;

	if (!json_is_object(root))
		return fail(reterr_msg, -EINVAL, "$: not an object");
	id = json_string_value(json_object_get(root, "id"));
	if (!id || !*id || strlen(id) > TARIFF_ID_MAX)
		return fail(reterr_msg, -EINVAL, "id: missing, empty or longer than %d",
			    TARIFF_ID_MAX);
	off = json_string_value(json_object_get(root, "utc_offset"));
	if (!off || parse_offset(off, &offset_min) < 0 || offset_min % TARIFF_SLOT_MIN)
		return fail(reterr_msg, -EINVAL,
			    "utc_offset: not \"+HH:MM\" on a quarter hour within +-14:00");
	versions = json_object_get(root, "versions");
	if (!json_is_array(versions) || json_array_size(versions) == 0)
		return fail(reterr_msg, -EINVAL, "versions: not a non-empty array");
	cal = tariff_calendar_create(id, offset_min);
	v = malloc(sizeof(*v));
	if (!cal || !v) {
		r = -ENOMEM;
		goto fail;
	}
	json_array_foreach(versions, i, jv) {
		const json_t *periods = json_object_get(jv, "periods"), *jp;
		const char *from = json_string_value(json_object_get(jv, "valid_from"));
		int y, mo, d, n = 0;
		size_t k;

		memset(v, 0, sizeof(*v));
		snprintf(at, sizeof(at), "versions[%zu]", i);
		if (!json_is_object(jv)) {
			r = fail(reterr_msg, -EINVAL, "%s: not an object", at);
			goto fail;
		}
		if (!from || strlen(from) != 10 ||
		    sscanf(from, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 ||
		    tariff_calendar_local_midnight(cal, y, mo, d, &v->valid_from_ms) < 0) {
			r = fail(reterr_msg, -EINVAL, "%s.valid_from: not a date \"YYYY-MM-DD\"",
				 at);
			goto fail;
		}
		r = decode_prices(json_object_get(jv, "prices_fen_per_mwh"), &v->prices, at,
				  reterr_msg);
		if (r < 0)
			goto fail;
		if (!json_is_array(periods) || json_array_size(periods) == 0) {
			r = fail(reterr_msg, -EINVAL, "%s.periods: not a non-empty array", at);
			goto fail;
		}
		if (json_array_size(periods) > TARIFF_MAX_PERIODS) {
			r = fail(reterr_msg, -E2BIG, "%s.periods: more than %d", at,
				 TARIFF_MAX_PERIODS);
			goto fail;
		}
		json_array_foreach(periods, k, jp) {
			char pat[96];
			snprintf(pat, sizeof(pat), "%s.periods[%zu]", at, k);
			r = decode_period(jp, &v->periods[k], pat, reterr_msg);
			if (r < 0)
				goto fail;
		}
		v->n_periods = json_array_size(periods);
		for (size_t j = 0; j < i; j++) {
			const char *f2 = json_string_value(
			    json_object_get(json_array_get(versions, j), "valid_from"));
			if (f2 && strcmp(f2, from) == 0) {
				r = fail(reterr_msg, -EINVAL,
					 "%s.valid_from: same date as versions[%zu]", at, j);
				goto fail;
			}
		}
		r = tariff_calendar_add_version(cal, v, err);
		if (r < 0) {
			if (r == -ENOMEM)
				goto fail;
			r = fail(reterr_msg, r, "%s.%s", at, err);
			goto fail;
		}
	}
	free(v);
	*ret_cal = cal;
	return 0;
fail:
	free(v);
	tariff_calendar_destroy(cal);
	return r;
}

int tariff_json_load_file(const char *path, struct tariff_calendar **ret_cal,
			  char reterr_msg[TARIFF_JSON_ERR_MAX])
{
	json_error_t jerr;
	json_t *root;
	int r;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_cannot_open_file)
			return fail(reterr_msg, -ENOENT, "%s: %s", path, jerr.text);
		return fail(reterr_msg, -EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column,
			    jerr.text);
	}
	r = tariff_json_decode(root, ret_cal, reterr_msg);
	json_decref(root);
	return r;
}
