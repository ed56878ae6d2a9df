/* SPDX-License-Identifier: MIT */
/* What the API's route files share: the route type, responses, query and body readers. Only
 * csms/api/ includes this. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"

/* One route: method and path pattern (segments; "*" matches one), handler with the split
 * segments of the request's path. */
struct api_route {
	int method;
	const char *pattern;
	void (*fn)(struct api_req *r, char **segs);
};

/* The route tables of each area, each ended by a row with a NULL pattern. Adding an area is a
 * new file with its table and one line in api.c's list of tables. */
extern const struct api_route api_station_routes[]; /* api_stations.c: stations, sessions */
extern const struct api_route api_command_routes[]; /* api_commands.c: commands, command log */
extern const struct api_route
    api_plan_routes[]; /* api_plans.c: needs, limits, grid events, plans */
extern const struct api_route api_list_routes[];    /* api_list.c: filtered lists, history */
extern const struct api_route api_summary_routes[]; /* api_summary.c: overview figures */

/* JSON of the store's rows, appended to the array ud (api_stations.c): the one encoding of a
 * station, connector, session and reading wherever they appear. */
struct store_station_row;
struct store_connector_row;
struct store_session_row;
struct store_sample;
int api_station_json(const struct store_station_row *row, void *ud);
int api_connector_json(const struct store_connector_row *row, void *ud);
int api_session_json(const struct store_session_row *row, void *ud);
int api_sample_json(const struct store_sample *row, void *ud);
extern const struct api_route api_tariff_routes[]; /* api_tariffs.c: tariffs, CDRs, energy */
extern const struct api_route api_site_routes[];   /* api_sites.c: sites, reservations, reports */
extern const struct api_route
    api_swap_routes[]; /* api_swap.c: packs, slots, swap orders, bookings */
extern const struct api_route api_security_routes[]; /* api_security.c: events, certificates */
/* Add energy_exported_wh to each session object of the array arr (api_stations.c). */
void api_sessions_add_exported(struct api_req *r, json_t *arr);
extern const struct api_route api_auth_routes[]; /* api_auth.c: login, accounts, tokens, audit */
extern const struct api_route api_id_token_routes[]; /* api_id_tokens.c: id token CRUD */

/* Respond with status and body (stolen; NULL = no body). Frees r if the client went away. */
void api_respond(struct api_req *r, int status, json_t *body);
/* Respond with status and a body of another type (text taken; type static). */
void api_respond_raw(struct api_req *r, int status, const char *type, char *text);
/* Respond {"error": "..."} with status. */
void api_error(struct api_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Log a storage error and answer 500. */
void api_storage_error(struct api_req *r, int err);
/* RFC 3339 text of ms, or JSON null for 0 (new reference). */
json_t *api_time_or_null(int64_t ms);
/* A JSON string of s, or null (new reference). */
json_t *api_str_or_null(const char *s);
/* The value of query parameter name, copied into buf; NULL if absent. */
const char *api_query_get(const struct api_req *r, const char *name, char *buf, size_t len);
/* The value of query parameter name URL-decoded ("%XX", "+" for a space) into buf, truncated to
 * len - 1 bytes; NULL if absent or empty. */
const char *api_query_text(const struct api_req *r, const char *name, char *buf, size_t len);
/* An enum query parameter (api_query_text) through from_name: 0 with *ret the value, or -1 if
 * absent; -EINVAL after a 400 "<name>: expected <expected>" if from_name rejects it. */
int api_query_name(struct api_req *r, const char *name, int (*from_name)(const char *),
		   const char *expected, int *ret);
/* The "order" query parameter: 0 with *ret_desc set ("asc" false, "desc" true; untouched if
 * absent), or -EINVAL after a 400. */
int api_query_order(struct api_req *r, bool *ret_desc);
/* An integer query parameter within [min, max] (def if absent): 0, or -EINVAL after a 400. */
int api_query_int(struct api_req *r, const char *name, long def, long min, long max, long *ret);
/* The limit (def_limit if absent, within 1..max_limit) and offset (0 if absent, within
 * 0..2^30) query parameters: 0, or -EINVAL after a 400. */
int api_query_page(struct api_req *r, long def_limit, long max_limit, long *ret_limit,
		   long *ret_offset);
/* Respond 200 {"<key>": arr} (arr stolen), or, when the store call that filled it failed
 * (e < 0), free arr and respond 500 as api_storage_error(). */
void api_respond_list(struct api_req *r, int e, const char *key, json_t *arr);
/* 0 if the store knows station id; otherwise < 0 after answering 404 (-ENOENT) or 500. */
int api_station_known(struct api_req *r, const char *id);
/* The request body as a JSON object (new reference), or NULL after a 400. */
json_t *api_body_object(struct api_req *r);
/* Members of a JSON body: 0 ok (the default if absent and not required), -EINVAL after a 400. */
int api_member_int(struct api_req *r, const json_t *o, const char *key, bool required,
		   json_int_t def, json_int_t min, json_int_t max, json_int_t *ret);
int api_member_time(struct api_req *r, const json_t *o, const char *key, bool required,
		    int64_t *ret);
int api_member_name(struct api_req *r, const json_t *o, const char *key, bool required, int def,
		    int (*from_name)(const char *), const char *expected, int *ret);
/* The route of /metrics (api_auth.c): its own bearer token, or only on the API listener. */
void api_metrics(struct api_req *r);
/* The auth gate (api_auth.c): check Origin/Host and content type, authenticate, check CSRF
 * and the role api_auth_required_role() names. 0 to go on (r->who, r->role set), or < 0
 * after it answered. */
int api_auth_gate(struct api_req *r);
/* Write the audit row of a state-changing request that ends with status (api_auth.c). */
void api_audit(struct api_req *r, int status);
