/* SPDX-License-Identifier: MIT */
/* REST routes of id tokens (charging cards, RFID and app tokens; not the API's bearer tokens of
 * /api/tokens): a filtered, sorted, paginated list, one token, create, update, delete. A change
 * that touches a site's tokens tells svc, which keeps the stations' local lists. */
#include "api-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../import.h"
#include "../store/store.h"
#include "../svc/svc.h"

#define ID_TOKENS_PAGE_MAX 1000

static int token_json(const struct store_token *t, void *ud)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", t->token, "status",
		      auth_status_to_string(t->status), "expiry", api_time_or_null(t->expiry_ms),
		      "group", api_str_or_null(t->parent[0] ? t->parent : NULL), "site",
		      api_str_or_null(t->site_id[0] ? t->site_id : NULL));

	return o ? json_array_append_new(ud, o) : -ENOMEM;
}

static void respond_token(struct api_req *r, const struct store_token *t, int status)
{
	json_t *arr = json_array();

	token_json(t, arr);
	api_respond(r, status, json_incref(json_array_get(arr, 0)));
	json_decref(arr);
}

static int token_sort_from_name(const char *s)
{
	return !strcmp(s, "id")	      ? STORE_TOKEN_SORT_ID
	       : !strcmp(s, "status") ? STORE_TOKEN_SORT_STATUS
	       : !strcmp(s, "expiry") ? STORE_TOKEN_SORT_EXPIRY
				      : -EINVAL;
}

/* GET /api/id-tokens?status=&group=&site=&q=&sort=&order=&limit=&offset= :
 * {"id_tokens": [...], "total": n, "limit": n, "offset": n}. */
static void get_id_tokens(struct api_req *r, char **segs)
{
	char group[TOKEN_MAX + 1], site[SITE_ID_MAX + 1], prefix[TOKEN_MAX + 1];
	struct store_token_query q = {.status = -1, .sort = STORE_TOKEN_SORT_ID};
	json_t *arr;
	int64_t total;
	long limit, offset;
	int e;

	(void)segs;
	if (api_query_page(r, 100, ID_TOKENS_PAGE_MAX, &limit, &offset) < 0)
		return;
	if (api_query_name(r, "status", auth_status_from_string,
			   "Accepted, Blocked, Expired or Invalid", &q.status) < 0 ||
	    api_query_name(r, "sort", token_sort_from_name, "id, status or expiry", &q.sort) < 0 ||
	    api_query_order(r, &q.desc) < 0)
		return;
	if (q.sort < 0)
		q.sort = STORE_TOKEN_SORT_ID;
	q.parent = api_query_text(r, "group", group, sizeof(group));
	q.site_id = api_query_text(r, "site", site, sizeof(site));
	q.token_prefix = api_query_text(r, "q", prefix, sizeof(prefix));
	q.limit = (int)limit;
	q.offset = (int)offset;
	arr = json_array();
	e = store_tokens_query(r->api->store, &q, token_json, arr, &total);
	if (e < 0) {
		json_decref(arr);
		api_storage_error(r, e);
		return;
	}
	api_respond(r, 200,
		    json_pack("{s:o, s:I, s:i, s:i}", "id_tokens", arr, "total", (json_int_t)total,
			      "limit", (int)limit, "offset", (int)offset));
}

/* GET /api/id-tokens/{token} */
static void get_id_token(struct api_req *r, char **segs)
{
	struct store_token t;
	int e = store_token_get(r->api->store, segs[2], &t);

	if (e == -ENOENT)
		api_error(r, 404, "unknown id token %s", segs[2]);
	else if (e < 0)
		api_storage_error(r, e);
	else
		respond_token(r, &t, 200);
}

/* An optional text member (null or absent: *ret untouched and *ret_set false) that must pass
 * import_id_ok(max): 0, or -EINVAL after a 400. */
static int member_id(struct api_req *r, const json_t *o, const char *key, size_t max, char *out,
		     size_t len, bool *ret_set)
{
	const json_t *v = json_object_get(o, key);

	*ret_set = v != NULL;
	if (!v)
		return 0;
	if (json_is_null(v)) {
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v) || !import_id_ok(json_string_value(v), max)) {
		api_error(r, 400, "%s: expected 1..%zu printable characters without spaces or '/'",
			  key, max);
		return -EINVAL;
	}
	snprintf(out, len, "%s", json_string_value(v));
	return 0;
}

/* Apply the members of body to t (create: every member absent keeps t's default). 0, or
 * -EINVAL after a 400. */
static int token_body(struct api_req *r, const json_t *body, struct store_token *t)
{
	const json_t *v;
	bool set;
	int64_t ms;
	int st;

	if (api_member_name(r, body, "status", false, t->status, auth_status_from_string,
			    "Accepted, Blocked, Expired or Invalid", &st) < 0)
		return -EINVAL;
	t->status = st;
	v = json_object_get(body, "expiry");
	if (v && json_is_null(v))
		t->expiry_ms = 0;
	else if (v) {
		if (api_member_time(r, body, "expiry", true, &ms) < 0)
			return -EINVAL;
		t->expiry_ms = ms;
	}
	if (member_id(r, body, "group", TOKEN_MAX, t->parent, sizeof(t->parent), &set) < 0 ||
	    member_id(r, body, "site", SITE_ID_MAX, t->site_id, sizeof(t->site_id), &set) < 0)
		return -EINVAL;
	if (set && t->site_id[0]) {
		struct store_site site;
		int e = store_site_get(r->api->store, t->site_id, &site);

		if (e == -ENOENT) {
			api_error(r, 400, "site: unknown site %s", t->site_id);
			return -EINVAL;
		}
		if (e < 0) {
			api_storage_error(r, e);
			return -EINVAL;
		}
	}
	return 0;
}

/* The local lists of the site(s) a token was and is valid at are out of date. */
static void lists_changed(struct api_req *r, const char *old_site, const char *new_site)
{
	svc_locallist_tokens_changed(r->api->svc, old_site && *old_site ? old_site : NULL);
	if (new_site && strcmp(new_site, old_site ? old_site : ""))
		svc_locallist_tokens_changed(r->api->svc, *new_site ? new_site : NULL);
}

/* POST /api/id-tokens {"id", "status"?, "expiry"?, "group"?, "site"?}: 201 with the token. */
static void post_id_token(struct api_req *r, char **segs)
{
	struct store_token t = {.status = AUTH_ACCEPTED}, old;
	json_t *body = api_body_object(r);
	const json_t *id;
	int e;

	(void)segs;
	if (!body)
		return;
	id = json_object_get(body, "id");
	if (!json_is_string(id) || !import_id_ok(json_string_value(id), TOKEN_MAX)) {
		api_error(r, 400, "id: expected 1..%d printable characters without spaces or '/'",
			  TOKEN_MAX);
		goto out;
	}
	snprintf(t.token, sizeof(t.token), "%s", json_string_value(id));
	if (token_body(r, body, &t) < 0)
		goto out;
	e = store_token_get(r->api->store, t.token, &old);
	if (e == 0) {
		api_error(r, 409, "id token %s exists", t.token);
		goto out;
	}
	if (e == -ENOENT)
		e = store_token_put(r->api->store, &t);
	if (e == 0)
		e = store_commit(r->api->store);
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	lists_changed(r, t.site_id, NULL);
	respond_token(r, &t, 201);
out:
	json_decref(body);
}

/* PUT /api/id-tokens/{token} {"status"?, "expiry"?, "group"?, "site"?}: members given are
 * changed (null clears); 200 with the token. */
static void put_id_token(struct api_req *r, char **segs)
{
	struct store_token t, old;
	json_t *body = api_body_object(r);
	int e;

	if (!body)
		return;
	e = store_token_get(r->api->store, segs[2], &old);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown id token %s", segs[2]);
		goto out;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	t = old;
	if (token_body(r, body, &t) < 0)
		goto out;
	e = store_token_put(r->api->store, &t);
	if (e == 0)
		e = store_commit(r->api->store);
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	lists_changed(r, old.site_id, t.site_id);
	respond_token(r, &t, 200);
out:
	json_decref(body);
}

/* DELETE /api/id-tokens/{token}: 204. */
static void delete_id_token(struct api_req *r, char **segs)
{
	struct store_token old;
	int e = store_token_get(r->api->store, segs[2], &old);

	if (e == 0)
		e = store_token_delete(r->api->store, segs[2]);
	if (e == 0)
		e = store_commit(r->api->store);
	if (e == -ENOENT) {
		api_error(r, 404, "unknown id token %s", segs[2]);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	lists_changed(r, old.site_id, NULL);
	api_respond(r, 204, NULL);
}

const struct api_route api_id_token_routes[] = {
    {API_GET, "api/id-tokens", get_id_tokens},	      {API_POST, "api/id-tokens", post_id_token},
    {API_GET, "api/id-tokens/*", get_id_token},	      {API_PUT, "api/id-tokens/*", put_id_token},
    {API_DELETE, "api/id-tokens/*", delete_id_token}, {0, NULL, NULL},
};
