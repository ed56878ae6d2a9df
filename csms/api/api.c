/* SPDX-License-Identifier: MIT */
/* The REST API's router and what its route files share (responses, query and body readers).
 * JSON is made in csms/api/ and only here; the routes are in api_<area>.c. */
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/log.h"
#include "../store/store.h"
#include "api-private.h"
#include "ocpp.h"

#define MAX_SEGS 8

/* csms/api/openapi.json, embedded at build time (tools/embed.py). */
struct embedded_file {
	const char *name;
	const char *data;
	size_t len;
};
extern const struct embedded_file api_openapi[];
extern const size_t api_openapi_count;

/* GET /api/openapi.json: the OpenAPI 3.0 document of every route (viewer). */
static void get_openapi(struct api_req *r, char **segs)
{
	char *text;

	(void)segs;
	text = api_openapi_count ? strndup(api_openapi[0].data, api_openapi[0].len) : NULL;
	if (!text) {
		api_error(r, 500, "out of memory");
		return;
	}
	api_respond_raw(r, 200, "application/json", text);
}

static const struct api_route api_doc_routes[] = {
    {API_GET, "api/openapi.json", get_openapi},
    {0, NULL, NULL},
};

/* Every area's routes, matched in this order. */
static const struct api_route *const tables[] = {
    api_doc_routes,  api_station_routes, api_command_routes,  api_plan_routes,
    api_list_routes, api_summary_routes, api_tariff_routes,   api_auth_routes,
    api_site_routes, api_swap_routes,	 api_security_routes, api_id_token_routes,
};

void api_routes_print(FILE *f)
{
	static const char *const names[] = {
	    [API_GET] = "GET", [API_POST] = "POST", [API_PUT] = "PUT", [API_DELETE] = "DELETE"};

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct api_route *rt = tables[t]; rt->pattern; rt++)
			fprintf(f, "%s /%s\n", names[rt->method], rt->pattern);
	/* served outside the tables: api_handle() and the transport's WebSocket upgrade */
	fprintf(f, "GET /metrics\nGET /api/live\n");
}

void api_req_free(struct api_req *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->resp);
	free(r);
}

void api_req_detach(struct api_req *r)
{
	r->http = NULL;
	if (!r->pending)
		api_req_free(r);
}

void api_body_append(struct api_req *r, const void *in, size_t len)
{
	char *n;

	if (!len) /* an empty POST: lws hands NULL, and memcpy(…, NULL, 0) is undefined (UBSan) */
		return;
	if (r->body_too_large || r->body_len + len > API_MAX_BODY) {
		r->body_too_large = true;
		return;
	}
	n = realloc(r->body, r->body_len + len + 1);
	if (!n) {
		r->body_too_large = true;
		return;
	}
	r->body = n;
	memcpy(r->body + r->body_len, in, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
}

void api_respond(struct api_req *r, int status, json_t *body)
{
	if (r->audit) {
		r->audit = false;
		api_audit(r, status);
	}
	r->pending = false;
	if (!r->http) {
		json_decref(body);
		api_req_free(r);
		return;
	}
	r->status = status;
	r->resp = body ? json_dumps(body, JSON_COMPACT) : NULL;
	r->resp_len = r->resp ? strlen(r->resp) : 0;
	r->done = true;
	json_decref(body);
	if (r->ready)
		r->ready(r->http);
}

void api_respond_raw(struct api_req *r, int status, const char *type, char *text)
{
	r->pending = false;
	if (!r->http) {
		free(text);
		api_req_free(r);
		return;
	}
	r->status = status;
	r->resp = text;
	r->resp_len = text ? strlen(text) : 0;
	r->resp_type = type;
	r->done = true;
	if (r->ready)
		r->ready(r->http);
}

void api_error(struct api_req *r, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_respond(r, status, json_pack("{s:s}", "error", msg));
}

json_t *api_time_or_null(int64_t ms)
{
	char buf[40];

	if (!ms)
		return json_null();
	ocpp_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

json_t *api_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The value of query parameter name, copied into buf; NULL if absent. */
const char *api_query_get(const struct api_req *r, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	for (const char *p = r->query; *p;) {
		const char *amp = strchr(p, '&');
		size_t seg = amp ? (size_t)(amp - p) : strlen(p);

		if (seg > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			size_t vlen = seg - n - 1;

			if (vlen >= len)
				vlen = len - 1;
			memcpy(buf, p + n + 1, vlen);
			buf[vlen] = '\0';
			return buf;
		}
		p += seg + (amp ? 1 : 0);
	}
	return NULL;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* A query parameter, URL-decoded ("%3A", "+"), copied into buf (truncated to len - 1 bytes);
 * NULL if absent or empty. */
const char *api_query_text(const struct api_req *r, const char *name, char *buf, size_t len)
{
	char raw[512];
	size_t o = 0;

	if (!api_query_get(r, name, raw, sizeof(raw)) || !raw[0])
		return NULL;
	for (const char *p = raw; *p && o + 1 < len; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			buf[o++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			buf[o++] = *p == '+' ? ' ' : *p;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* An enum query parameter by the domain's names: 0 (*ret -1 if absent), or -EINVAL after a
 * 400 "name: expected <expected>". */
int api_query_name(struct api_req *r, const char *name, int (*from_name)(const char *),
		   const char *expected, int *ret)
{
	char buf[32];
	const char *v = api_query_text(r, name, buf, sizeof(buf));
	int n;

	if (!v) {
		*ret = -1;
		return 0;
	}
	n = from_name(v);
	if (n < 0) {
		api_error(r, 400, "%s: expected %s", name, expected);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

/* The order query parameter: 0 (*ret_desc true for "desc", untouched if absent), or -EINVAL
 * after a 400. */
int api_query_order(struct api_req *r, bool *ret_desc)
{
	char order[8];

	if (!api_query_text(r, "order", order, sizeof(order)))
		return 0;
	if (strcmp(order, "asc") && strcmp(order, "desc")) {
		api_error(r, 400, "order: expected asc or desc");
		return -EINVAL;
	}
	*ret_desc = strcmp(order, "desc") == 0;
	return 0;
}

/* Parse an integer query parameter within [min, max]; -EINVAL (and a 400) if malformed. */
int api_query_int(struct api_req *r, const char *name, long def, long min, long max, long *ret)
{
	char buf[32], *end;
	const char *v = api_query_get(r, name, buf, sizeof(buf));
	long n;

	if (!v) {
		*ret = def;
		return 0;
	}
	n = strtol(v, &end, 10);
	if (end == v || *end || n < min || n > max) {
		api_error(r, 400, "%s: expected an integer in %ld..%ld", name, min, max);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

/* Answer 200 {key: arr} (arr stolen), or after a storage error e < 0, 500. */
void api_respond_list(struct api_req *r, int e, const char *key, json_t *arr)
{
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	api_respond(r, 200, json_pack("{s:o}", key, arr));
}

/* The limit (def_limit if absent, 1..max_limit) and offset (0 if absent) query parameters: 0,
 * or -EINVAL after a 400. */
int api_query_page(struct api_req *r, long def_limit, long max_limit, long *ret_limit,
		   long *ret_offset)
{
	long limit, offset;

	if (api_query_int(r, "limit", def_limit, 1, max_limit, &limit) < 0 ||
	    api_query_int(r, "offset", 0, 0, 1L << 30, &offset) < 0)
		return -EINVAL;
	*ret_limit = limit;
	*ret_offset = offset;
	return 0;
}

/* 0 if station id is known, or < 0 after a 404 (-ENOENT) or a 500. */
int api_station_known(struct api_req *r, const char *id)
{
	struct store_station row;
	int e = store_station_get(r->api->store, id, &row);

	if (e == -ENOENT)
		api_error(r, 404, "unknown station %s", id);
	else if (e < 0)
		api_storage_error(r, e);
	return e;
}

void api_storage_error(struct api_req *r, int err)
{
	log_err("api %s: storage error %d: %s", r->path, err, store_errmsg(r->api->store));
	api_error(r, 500, "storage error");
}

/* A JSON object body, or a 400 (and NULL). */
json_t *api_body_object(struct api_req *r)
{
	json_error_t jerr;
	json_t *body =
	    json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);

	if (!body || !json_is_object(body)) {
		api_error(r, 400, "body: %s", body ? "expected a JSON object" : jerr.text);
		json_decref(body);
		return NULL;
	}
	return body;
}

/* An optional integer member within [min, max]: 0 ok (def if absent), -EINVAL after a 400. */
int api_member_int(struct api_req *r, const json_t *o, const char *key, bool required,
		   json_int_t def, json_int_t min, json_int_t max, json_int_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v && !required) {
		*ret = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		api_error(r, 400, "%s: expected an integer in %lld..%lld", key, (long long)min,
			  (long long)max);
		return -EINVAL;
	}
	*ret = json_integer_value(v);
	return 0;
}

/* An optional RFC 3339 member: 0 ok (0 if absent), -EINVAL after a 400. */
int api_member_time(struct api_req *r, const json_t *o, const char *key, bool required,
		    int64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v && !required) {
		*ret = 0;
		return 0;
	}
	if (!json_is_string(v) || ocpp_time_parse(json_string_value(v), ret) < 0) {
		api_error(r, 400, "%s: expected an RFC 3339 date-time", key);
		return -EINVAL;
	}
	return 0;
}

/* An optional enum member named by the domain's names: 0 ok (def if absent), -EINVAL after a
 * 400. */
int api_member_name(struct api_req *r, const json_t *o, const char *key, bool required, int def,
		    int (*from_name)(const char *), const char *expected, int *ret)
{
	const json_t *v = json_object_get(o, key);
	int n;

	if (!v && !required) {
		*ret = def;
		return 0;
	}
	n = from_name(json_string_value(v));
	if (n < 0) {
		api_error(r, 400, "%s: expected %s", key, expected);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

/* Split "/a/b/c" into segments in place; returns the count or -1 if too many/empty. */
static int split(char *path, char **segs)
{
	char *save = NULL;
	int n = 0;

	for (char *p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == MAX_SEGS)
			return -1;
		segs[n++] = p;
	}
	return n;
}

static bool match(const char *pattern, char **segs, int n)
{
	char pat[128], *psegs[MAX_SEGS];
	int pn;

	snprintf(pat, sizeof(pat), "%s", pattern);
	pn = split(pat, psegs);
	if (pn != n)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(psegs[i], "*") && strcmp(psegs[i], segs[i]))
			return false;
	return true;
}

void api_handle(struct api_req *r)
{
	char path[sizeof(r->path)], *segs[MAX_SEGS];
	const struct api_route *found = NULL;
	bool path_known = false;
	int n;

	if (strcmp(r->path, "/metrics") == 0) {
		api_metrics(r);
		return;
	}
	if (r->body_too_large) {
		api_error(r, 413, "body larger than %d bytes", API_MAX_BODY);
		return;
	}
	snprintf(path, sizeof(path), "%s", r->path);
	n = split(path, segs);
	for (size_t t = 0; n > 0 && !found && t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const struct api_route *rt = tables[t]; rt->pattern; rt++) {
			if (!match(rt->pattern, segs, n))
				continue;
			path_known = true;
			if (rt->method == r->method) {
				found = rt;
				break;
			}
		}
	}
	/* every route, known or not, is behind the gate: strangers learn nothing of them */
	if (api_auth_gate(r) < 0)
		return;
	if (found)
		found->fn(r, segs);
	else if (path_known)
		api_error(r, 405, "method not allowed on %s", r->path);
	else
		api_error(r, 404, "no such route: %s", r->path);
}
