/* SPDX-License-Identifier: MIT */
/* REST routes over the domain and the charger sessions; JSON is made here and only here. */
#include "api.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/cfg.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../store/store.h"
#include "../svc/cmd.h"
#include "../svc/svc.h"
#include "ocpp.h"

#define MAX_SEGS 8

struct route {
	int method;
	const char *pattern; /* segments; "*" matches one */
	void (*fn)(struct api_req *r, char **segs);
};

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

static void respond(struct api_req *r, int status, json_t *body)
{
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

static void respond_error(struct api_req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void respond_error(struct api_req *r, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	respond(r, status, json_pack("{s:s}", "error", msg));
}

static json_t *time_or_null(int64_t ms)
{
	char buf[40];

	if (!ms)
		return json_null();
	ocpp_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The value of query parameter name, copied into buf; NULL if absent. */
static const char *query_get(const struct api_req *r, const char *name, char *buf, size_t len)
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

/* Parse an integer query parameter within [min, max]; -EINVAL (and a 400) if malformed. */
static int query_int(struct api_req *r, const char *name, long def, long min, long max, long *ret)
{
	char buf[32], *end;
	const char *v = query_get(r, name, buf, sizeof(buf));
	long n;

	if (!v) {
		*ret = def;
		return 0;
	}
	n = strtol(v, &end, 10);
	if (end == v || *end || n < min || n > max) {
		respond_error(r, 400, "%s: expected an integer in %ld..%ld", name, min, max);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

static int station_json(const struct store_station_row *row, void *ud)
{
	json_t *arr = ud;
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			      "id", row->id, "site", str_or_null(row->site_id), "site_kind",
			      str_or_null(row->site_kind), "registration", str_or_null(row->registration),
			      "protocol", str_or_null(row->protocol), "online", row->online,
			      "last_seen", time_or_null(row->last_seen_ms), "last_boot",
			      time_or_null(row->last_boot_ms), "vendor", str_or_null(row->vendor),
			      "model", str_or_null(row->model), "serial", str_or_null(row->serial),
			      "firmware", str_or_null(row->firmware), "firmware_status",
			      str_or_null(row->firmware_status), "diagnostics_status",
			      str_or_null(row->diagnostics_status));

	return o ? json_array_append_new(arr, o) : -ENOMEM;
}

static int connector_json(const struct store_connector_row *row, void *ud)
{
	return json_array_append_new(
		ud, json_pack("{s:i, s:i, s:s, s:o, s:o, s:o, s:o}", "evse_id", row->evse_id,
			      "connector_id", row->connector_id,
			      "status", row->status, "error_code", str_or_null(row->error_code),
			      "info", str_or_null(row->info), "vendor_error",
			      str_or_null(row->vendor_error), "updated", time_or_null(row->updated_ms)));
}

static int session_json(const struct store_session_row *row, void *ud)
{
	bool energy = row->stopped && row->has_meter_start;
	json_t *o = json_pack(
		"{s:I, s:s, s:i, s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		(json_int_t)row->id, "station", row->station_id, "evse_id", row->evse_id,
		"connector_id", row->connector_id, "id_tag", row->id_tag, "auth_status",
		row->auth_status, "start", time_or_null(row->start_ms), "stop",
		row->stopped ? time_or_null(row->stop_ms) : json_null(), "meter_start_wh",
		row->has_meter_start ? json_integer(row->meter_start_wh) : json_null(),
		"meter_stop_wh", row->stopped ? json_integer(row->meter_stop_wh) : json_null(),
		"energy_wh",
		energy ? json_integer(row->meter_stop_wh - row->meter_start_wh) : json_null(),
		"stop_reason", str_or_null(row->stop_reason));

	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "reservation_id",
			    row->has_reservation ? json_integer(row->reservation_id) : json_null());
	json_object_set_new(o, "active", json_boolean(!row->stopped));
	/* the id the charger knows the transaction by: 1.6 the integer id, 2.0.1 its own string */
	if (row->station_tx_id)
		json_object_set_new(o, "transaction_id", json_string(row->station_tx_id));
	else
		json_object_set_new(o, "transaction_id", json_sprintf("%lld", (long long)row->id));
	json_object_set_new(o, "seq_gaps", json_integer(row->seq_gaps));
	json_object_set_new(o, "offline_events", json_integer(row->offline_events));
	return json_array_append_new(ud, o);
}

static int sample_json(const struct store_sample *row, void *ud)
{
	return json_array_append_new(
		ud, json_pack("{s:o, s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "timestamp",
			      time_or_null(row->ts_ms), "evse_id", row->evse_id, "measurand",
			      row->measurand, "phase", str_or_null(row->phase), "unit",
			      str_or_null(row->unit), "context", str_or_null(row->context), "location",
			      str_or_null(row->location), "format", str_or_null(row->format), "value",
			      row->value));
}

static int orphan_json(const struct store_orphan *row, void *ud)
{
	return json_array_append_new(
		ud, json_pack("{s:s, s:I, s:o, s:I, s:o, s:o, s:o}", "station", row->station_id,
			      "transaction_id", (json_int_t)row->transaction_id, "id_tag",
			      str_or_null(row->id_tag), "meter_stop_wh", (json_int_t)row->meter_stop_wh,
			      "timestamp", time_or_null(row->ts_ms), "reason", str_or_null(row->reason),
			      "received", time_or_null(row->received_ms)));
}

static void storage_error(struct api_req *r, int err)
{
	log_err("api %s: storage error %d: %s", r->path, err, store_errmsg(r->api->store));
	respond_error(r, 500, "storage error");
}

static void get_health(struct api_req *r, char **segs)
{
	char t[40];

	(void)segs;
	ocpp_time_format(svc_now_ms(r->api->svc), t, sizeof(t));
	/* time: the node's clock (simulated under a demo clock, see clock_speed) */
	respond(r, 200, json_pack("{s:s, s:i, s:s, s:s, s:i}", "status",
				  *r->api->draining ? "draining" : "ok", "connected",
				  (int)svc_connected(r->api->svc), "version", CSMS_VERSION, "time", t,
				  "clock_speed", clock_speed(svc_clock(r->api->svc))));
}

static void get_stations(struct api_req *r, char **segs)
{
	json_t *arr = json_array();
	long limit, offset;
	int e;

	(void)segs;
	if (query_int(r, "limit", 1000, 1, 10000, &limit) < 0 ||
	    query_int(r, "offset", 0, 0, 1L << 30, &offset) < 0) {
		json_decref(arr);
		return;
	}
	e = store_stations_list(r->api->store, NULL, (int)limit, (int)offset, station_json, arr);
	if (e < 0) {
		json_decref(arr);
		storage_error(r, e);
		return;
	}
	respond(r, 200, json_pack("{s:o}", "stations", arr));
}

static void get_station(struct api_req *r, char **segs)
{
	json_t *arr = json_array(), *conns, *st;
	int e = store_stations_list(r->api->store, segs[2], 0, 0, station_json, arr);

	if (e == -ENOENT) {
		json_decref(arr);
		respond_error(r, 404, "unknown station %s", segs[2]);
		return;
	}
	if (e < 0) {
		json_decref(arr);
		storage_error(r, e);
		return;
	}
	st = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	conns = json_array();
	store_connectors_list(r->api->store, segs[2], connector_json, conns);
	json_object_set_new(st, "connectors", conns);
	respond(r, 200, st);
}

static void post_registration(struct api_req *r, char **segs)
{
	json_error_t jerr;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	const char *status = json_string_value(json_object_get(body, "status"));
	int reg = reg_status_from_string(status), e;

	if (!body || reg < 0) {
		json_decref(body);
		respond_error(r, 400, "expected {\"status\": \"Accepted\"|\"Pending\"|\"Rejected\"}");
		return;
	}
	json_decref(body); /* status points into body: use reg from here on */
	e = svc_station_set_registration(r->api->svc, segs[2], reg);
	if (e == -ENOENT) {
		respond_error(r, 404, "unknown station %s", segs[2]);
		return;
	}
	if (e < 0) {
		storage_error(r, e);
		return;
	}
	log_notice("station %s: registration set to %s by operator", segs[2],
		   reg_status_to_string(reg));
	get_station(r, segs);
}

/* A JSON object body, or a 400 (and NULL). */
static json_t *body_object(struct api_req *r)
{
	json_error_t jerr;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);

	if (!body || !json_is_object(body)) {
		respond_error(r, 400, "body: %s", body ? "expected a JSON object" : jerr.text);
		json_decref(body);
		return NULL;
	}
	return body;
}

/* An optional integer member within [min, max]: 0 ok (def if absent), -EINVAL after a 400. */
static int member_int(struct api_req *r, const json_t *o, const char *key, bool required,
		      json_int_t def, json_int_t min, json_int_t max, json_int_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v && !required) {
		*ret = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		respond_error(r, 400, "%s: expected an integer in %lld..%lld", key, (long long)min,
			      (long long)max);
		return -EINVAL;
	}
	*ret = json_integer_value(v);
	return 0;
}

/* An optional RFC 3339 member: 0 ok (0 if absent), -EINVAL after a 400. */
static int member_time(struct api_req *r, const json_t *o, const char *key, bool required,
		       int64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v && !required) {
		*ret = 0;
		return 0;
	}
	if (!json_is_string(v) || ocpp_time_parse(json_string_value(v), ret) < 0) {
		respond_error(r, 400, "%s: expected an RFC 3339 date-time", key);
		return -EINVAL;
	}
	return 0;
}

/* An optional enum member named by the domain's names: 0 ok (def if absent), -EINVAL after a
 * 400. */
static int member_name(struct api_req *r, const json_t *o, const char *key, bool required, int def,
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
		respond_error(r, 400, "%s: expected %s", key, expected);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

static int rate_unit_from_name(const char *s)
{
	return !s ? -EINVAL : !strcmp(s, "W") ? SVC_RATE_W : !strcmp(s, "A") ? SVC_RATE_A : -EINVAL;
}

static int id_tag_member(struct api_req *r, const json_t *o, const char **ret)
{
	const char *t = json_string_value(json_object_get(o, "id_tag"));

	if (!t || !*t || strlen(t) > 20) {
		respond_error(r, 400, "id_tag: expected a string of 1..20 characters");
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

/* The domain's answer to a command, now durable in the command log: the HTTP answer. */
static void cmd_done(void *ud, const struct svc_cmd_result *res)
{
	struct api_req *r = ud;
	json_t *payload = NULL;

	switch (res->status) {
	case SVC_RES_ACCEPTED:
	case SVC_RES_REJECTED:
	case SVC_RES_OTHER:
	case SVC_RES_ANSWERED: {
		json_t *status;

		payload = res->payload ? json_loads(res->payload, 0, NULL) : NULL;
		if (!payload) {
			respond_error(r, 500, "out of memory");
			break;
		}
		status = json_object_get(payload, "status");
		respond(r, 200, json_pack("{s:O, s:O}", "status", status ? status : json_null(),
					  "response", payload));
		break;
	}
	case SVC_RES_CALL_ERROR:
		respond(r, 502, json_pack("{s:s, s:s, s:s}", "error", "charger answered with a CALLERROR",
					  "code", res->code, "description", res->detail));
		break;
	case SVC_RES_BAD_ANSWER:
		respond(r, 502, json_pack("{s:s, s:s, s:s}", "error", "charger's answer is invalid",
					  "code", res->code, "description", res->detail));
		break;
	case SVC_RES_TIMEOUT:
		respond_error(r, 504, "charger did not answer in time");
		break;
	case SVC_RES_NOT_CONNECTED:
		respond_error(r, 409, "%s", res->detail);
		break;
	case SVC_RES_BUSY:
		respond_error(r, 503, "%s", res->detail);
		break;
	case SVC_RES_INVALID:
		respond_error(r, 400, "%s", res->detail);
		break;
	case SVC_RES_FAILED:
		respond_error(r, 500, "%s", res->detail[0] ? res->detail : "internal error");
		break;
	case SVC_RES_STORE_FAILED:
		respond_error(r, 500, "storage error");
		break;
	default: /* SVC_RES_DISCONNECTED */
		respond_error(r, 502, "connection to the charger closed before it answered");
		break;
	}
	json_decref(payload);
}

/* Send cmd through the domain; the answer comes by cmd_done once it is logged. */
static void send_cmd(struct api_req *r, const char *id, const struct svc_cmd *cmd)
{
	int rc;

	r->pending = true;
	rc = svc_cmd_send(r->api->svc, id, cmd, "api", cmd_done, r);
	if (rc >= 0)
		return;
	r->pending = false;
	if (rc == -ENOENT)
		respond_error(r, 404, "unknown station %s", id);
	else if (rc == -ESRCH)
		respond_error(r, 404, "station %s has no session %lld", id,
			      (long long)cmd->session_id);
	else
		storage_error(r, rc);
}

/* POST /api/stations/{id}/commands/{Action}: any CSMS-initiated action, payload as given. */
static void post_command(struct api_req *r, char **segs)
{
	struct svc_cmd cmd = { .kind = SVC_CMD_RAW };

	cmd.raw.action = segs[4];
	cmd.raw.payload = r->body ? r->body : "";
	send_cmd(r, segs[2], &cmd);
}

/* The charging profile of POST …/charging-profile. */
static int profile_member(struct api_req *r, const json_t *body, struct svc_charging_profile *p)
{
	const json_t *periods = json_object_get(body, "periods"), *e;
	json_int_t n;
	size_t i;

	if (member_int(r, body, "id", true, 0, 1, INT32_MAX, &n) < 0)
		return -EINVAL;
	p->id = n;
	if (member_name(r, body, "purpose", true, 0, svc_profile_purpose_from_name,
			"\"station-max\", \"tx-default\" or \"tx\"", &p->purpose) < 0 ||
	    member_int(r, body, "stack_level", false, 0, 0, 1000, &n) < 0)
		return -EINVAL;
	p->stack_level = (int)n;
	if (member_time(r, body, "start", false, &p->start_ms) < 0 ||
	    member_int(r, body, "duration_s", false, 0, 0, INT32_MAX, &n) < 0)
		return -EINVAL;
	p->duration_s = n;
	if (member_name(r, body, "rate_unit", false, SVC_RATE_W, rate_unit_from_name, "\"W\" or \"A\"",
			&p->rate_unit) < 0)
		return -EINVAL;
	if (!json_is_array(periods) || !json_array_size(periods) ||
	    json_array_size(periods) > SVC_PROFILE_PERIODS_MAX) {
		respond_error(r, 400, "periods: expected 1..%d periods", SVC_PROFILE_PERIODS_MAX);
		return -EINVAL;
	}
	json_array_foreach (periods, i, e) {
		const json_t *lim = json_object_get(e, "limit");
		double limit;

		if (member_int(r, e, "start_s", true, 0, 0, INT32_MAX, &n) < 0)
			return -EINVAL;
		p->periods[i].start_s = n;
		if (!json_is_number(lim) || fabs(json_number_value(lim)) > 1e9) {
			respond_error(r, 400, "limit: expected a number (W or A; negative discharges)");
			return -EINVAL;
		}
		limit = json_number_value(lim);
		/* watts whole, amperes in tenths */
		p->periods[i].limit = (int64_t)llround(p->rate_unit == SVC_RATE_A ? limit * 10 : limit);
		if (member_int(r, e, "phases", false, 0, 1, 3, &n) < 0)
			return -EINVAL;
		p->periods[i].phases = (int)n;
	}
	p->n_periods = json_array_size(periods);
	return 0;
}

/* The entries of POST …/local-list (at most max_list_items). */
static int local_list_member(struct api_req *r, const json_t *body, struct svc_local_entry **ret,
			     size_t *ret_n)
{
	const json_t *arr = json_object_get(body, "entries"), *e;
	struct svc_local_entry *v;
	size_t i;

	if (!arr) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (!json_is_array(arr) || json_array_size(arr) > (size_t)r->api->cfg->max_list_items) {
		respond_error(r, 400, "entries: expected an array of at most %d",
			      r->api->cfg->max_list_items);
		return -EINVAL;
	}
	v = calloc(json_array_size(arr) + 1, sizeof(*v));
	if (!v) {
		respond_error(r, 500, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach (arr, i, e) {
		const json_t *st = json_object_get(e, "status");

		v[i].token = json_string_value(json_object_get(e, "id_tag"));
		v[i].parent = json_string_value(json_object_get(e, "parent"));
		v[i].status = st ? auth_status_from_string(json_string_value(st)) : -1;
		if (!v[i].token || !*v[i].token || strlen(v[i].token) > 20 || (st && v[i].status < 0) ||
		    member_time(r, e, "expiry", false, &v[i].expiry_ms) < 0) {
			if (!r->done)
				respond_error(r, 400, "entries[%zu]: expected {\"id_tag\": 1..20 "
						      "characters, \"status\": \"Accepted\"|\"Blocked\"|"
						      "\"Expired\"|\"Invalid\" (absent: remove)}", i);
			free(v);
			return -EINVAL;
		}
	}
	*ret = v;
	*ret_n = json_array_size(arr);
	return 0;
}

/* POST /api/stations/{id}/{remote-start|remote-stop|reset|unlock|availability|trigger|…}: the
 * same request for every protocol version; the station's adapter picks the message. */
static void post_neutral(struct api_req *r, char **segs)
{
	static const char *const names[] = {
		[SVC_CMD_REMOTE_START] = "remote-start",
		[SVC_CMD_REMOTE_STOP] = "remote-stop",
		[SVC_CMD_RESET] = "reset",
		[SVC_CMD_UNLOCK] = "unlock",
		[SVC_CMD_AVAILABILITY] = "availability",
		[SVC_CMD_TRIGGER] = "trigger",
		[SVC_CMD_SET_PROFILE] = "charging-profile",
		[SVC_CMD_CLEAR_PROFILE] = "clear-charging-profile",
		[SVC_CMD_COMPOSITE_SCHEDULE] = "composite-schedule",
		[SVC_CMD_SEND_LOCAL_LIST] = "local-list",
		[SVC_CMD_LOCAL_LIST_VERSION] = "local-list-version",
		[SVC_CMD_RESERVE] = "reserve",
		[SVC_CMD_CANCEL_RESERVATION] = "cancel-reservation",
	};
	const int max_c = r->api->cfg->max_connectors;
	struct svc_cmd *cmd = calloc(1, sizeof(*cmd)); /* a profile makes it large */
	struct svc_local_entry *entries = NULL;
	json_t *body = NULL;
	json_int_t n;
	int kind;

	if (!cmd) {
		respond_error(r, 500, "out of memory");
		return;
	}
	for (kind = 0; kind < (int)(sizeof(names) / sizeof(names[0])); kind++)
		if (names[kind] && strcmp(segs[3], names[kind]) == 0)
			break;
	if (kind == (int)(sizeof(names) / sizeof(names[0]))) {
		respond_error(r, 404, "no such route: %s", r->path);
		goto out;
	}
	body = body_object(r);
	if (!body)
		goto out;
	cmd->kind = kind;
	switch (kind) {
	case SVC_CMD_REMOTE_START:
		if (id_tag_member(r, body, &cmd->id_tag) < 0 ||
		    member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		break;
	case SVC_CMD_REMOTE_STOP:
		if (member_int(r, body, "session_id", true, 0, 1, INT64_MAX, &n) < 0)
			goto out;
		cmd->session_id = n;
		break;
	case SVC_CMD_RESET: {
		const char *type = json_string_value(json_object_get(body, "type"));

		if (!type || (strcmp(type, "hard") && strcmp(type, "soft"))) {
			respond_error(r, 400, "type: expected \"hard\" or \"soft\"");
			goto out;
		}
		cmd->hard = strcmp(type, "hard") == 0;
		break;
	}
	case SVC_CMD_UNLOCK:
		if (member_int(r, body, "evse_id", true, 0, 1, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (member_int(r, body, "connector_id", false, 1, 1, max_c, &n) < 0)
			goto out;
		cmd->connector_id = (int)n;
		break;
	case SVC_CMD_AVAILABILITY:
		if (!json_is_boolean(json_object_get(body, "operative"))) {
			respond_error(r, 400, "operative: expected true or false");
			goto out;
		}
		cmd->operative = json_is_true(json_object_get(body, "operative"));
		if (member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		break;
	case SVC_CMD_TRIGGER:
		if (member_name(r, body, "message", true, 0, svc_trigger_from_name,
				"\"boot\", \"heartbeat\", \"status\", \"meter-values\", "
				"\"firmware-status\" or \"diagnostics-status\"",
				&cmd->trigger) < 0 ||
		    member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		break;
	case SVC_CMD_SET_PROFILE:
		if (member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (profile_member(r, body, &cmd->profile) < 0)
			goto out;
		break;
	case SVC_CMD_CLEAR_PROFILE:
		cmd->clear.has_id = json_object_get(body, "id") != NULL;
		if (member_int(r, body, "id", false, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->clear.id = n;
		if (member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (member_name(r, body, "purpose", false, -1, svc_profile_purpose_from_name,
				"\"station-max\", \"tx-default\" or \"tx\"", &cmd->clear.purpose) < 0 ||
		    member_int(r, body, "stack_level", false, -1, 0, 1000, &n) < 0)
			goto out;
		cmd->clear.stack_level = (int)n;
		break;
	case SVC_CMD_COMPOSITE_SCHEDULE:
		if (member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (member_int(r, body, "duration_s", true, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->duration_s = n;
		if (member_name(r, body, "rate_unit", false, -1, rate_unit_from_name, "\"W\" or \"A\"",
				&cmd->rate_unit) < 0)
			goto out;
		break;
	case SVC_CMD_SEND_LOCAL_LIST:
		if (member_int(r, body, "version", true, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->list.version = n;
		if (json_object_get(body, "full") && !json_is_boolean(json_object_get(body, "full"))) {
			respond_error(r, 400, "full: expected true or false");
			goto out;
		}
		cmd->list.full = json_is_true(json_object_get(body, "full"));
		if (local_list_member(r, body, &entries, &cmd->list.n_entries) < 0)
			goto out;
		cmd->list.entries = entries;
		break;
	case SVC_CMD_LOCAL_LIST_VERSION:
		break;
	case SVC_CMD_RESERVE:
		if (member_int(r, body, "reservation_id", true, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->reservation_id = n;
		if (id_tag_member(r, body, &cmd->id_tag) < 0 ||
		    member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (member_time(r, body, "expiry", true, &cmd->expiry_ms) < 0)
			goto out;
		break;
	case SVC_CMD_CANCEL_RESERVATION:
		if (member_int(r, body, "reservation_id", true, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->reservation_id = n;
		break;
	default:
		break;
	}
	send_cmd(r, segs[2], cmd);
out:
	free(entries);
	json_decref(body);
	free(cmd);
}

static json_t *text_json(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	return j ? j : json_null();
}

static int command_json(const struct store_command *row, void *ud)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, "
			      "s:I}",
			      "id", (json_int_t)row->id, "station", row->station_id, "who", row->who,
			      "kind", row->kind, "action", str_or_null(row->action), "request",
			      str_or_null(row->request), "requested", time_or_null(row->requested_ms),
			      "answered", time_or_null(row->answered_ms), "status", row->status,
			      "station_status", str_or_null(row->station_status), "code",
			      str_or_null(row->error_code), "detail", str_or_null(row->detail),
			      "response", text_json(row->response), "latency_ms",
			      (json_int_t)row->latency_ms);

	return o ? json_array_append_new(ud, o) : -ENOMEM;
}

/* GET /api/commands?station=&limit=&offset=: the command log, newest first. */
static void get_commands(struct api_req *r, char **segs)
{
	char station[STATION_ID_MAX + 1];
	const char *sid;
	json_t *arr;
	long limit, offset;
	int e;

	(void)segs;
	if (query_int(r, "limit", 100, 1, 10000, &limit) < 0 ||
	    query_int(r, "offset", 0, 0, 1L << 30, &offset) < 0)
		return;
	sid = query_get(r, "station", station, sizeof(station));
	arr = json_array();
	e = store_commands_list(r->api->store, sid, (int)limit, (int)offset, command_json, arr);
	if (e < 0) {
		json_decref(arr);
		storage_error(r, e);
		return;
	}
	respond(r, 200, json_pack("{s:o}", "commands", arr));
}

static int variable_json(const struct store_variable *v, void *ud)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "component", v->component,
			      "variable", v->variable, "attribute_type", v->attribute_type, "value",
			      str_or_null(v->value), "mutability", str_or_null(v->mutability),
			      "data_type", str_or_null(v->data_type), "unit", str_or_null(v->unit));

	if (!o)
		return -ENOMEM;
	if (v->component_instance && *v->component_instance)
		json_object_set_new(o, "component_instance", json_string(v->component_instance));
	if (v->variable_instance && *v->variable_instance)
		json_object_set_new(o, "variable_instance", json_string(v->variable_instance));
	if (v->evse_id >= 0)
		json_object_set_new(o, "evse_id", json_integer(v->evse_id));
	if (v->connector_id >= 0)
		json_object_set_new(o, "connector_id", json_integer(v->connector_id));
	return json_array_append_new(ud, o);
}

/* GET /api/stations/{id}/variables: the 2.0.1 device model from NotifyReport. */
static void get_variables(struct api_req *r, char **segs)
{
	struct store_station row;
	json_t *arr;
	int e = store_station_get(r->api->store, segs[2], &row);

	if (e < 0) {
		if (e == -ENOENT)
			respond_error(r, 404, "unknown station %s", segs[2]);
		else
			storage_error(r, e);
		return;
	}
	arr = json_array();
	e = store_variables_list(r->api->store, segs[2], variable_json, arr);
	if (e < 0) {
		json_decref(arr);
		storage_error(r, e);
		return;
	}
	respond(r, 200, json_pack("{s:o}", "variables", arr));
}

static void get_sessions(struct api_req *r, char **segs)
{
	char station[STATION_ID_MAX + 1], active[8];
	struct store_session_filter f = { .active = -1 };
	json_t *arr;
	long limit, offset;
	int e;

	(void)segs;
	if (query_int(r, "limit", 100, 1, 10000, &limit) < 0 ||
	    query_int(r, "offset", 0, 0, 1L << 30, &offset) < 0)
		return;
	f.limit = (int)limit;
	f.offset = (int)offset;
	f.station_id = query_get(r, "station", station, sizeof(station));
	if (query_get(r, "active", active, sizeof(active))) {
		if (strcmp(active, "true") && strcmp(active, "false")) {
			respond_error(r, 400, "active: expected true or false");
			return;
		}
		f.active = strcmp(active, "true") == 0;
	}
	arr = json_array();
	e = store_sessions_list(r->api->store, &f, session_json, arr);
	if (e < 0) {
		json_decref(arr);
		storage_error(r, e);
		return;
	}
	respond(r, 200, json_pack("{s:o}", "sessions", arr));
}

static void get_session(struct api_req *r, char **segs)
{
	char *end;
	long long id = strtoll(segs[2], &end, 10);
	json_t *arr, *s, *samples;
	int e;

	if (end == segs[2] || *end) {
		respond_error(r, 400, "session id must be an integer");
		return;
	}
	arr = json_array();
	e = store_session_get(r->api->store, id, session_json, arr);
	if (e < 0) {
		json_decref(arr);
		if (e == -ENOENT)
			respond_error(r, 404, "unknown session %lld", id);
		else
			storage_error(r, e);
		return;
	}
	s = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	samples = json_array();
	store_samples_list(r->api->store, id, sample_json, samples);
	json_object_set_new(s, "meter_values", samples);
	respond(r, 200, s);
}

static void get_orphans(struct api_req *r, char **segs)
{
	json_t *arr = json_array();
	long limit;
	int e;

	(void)segs;
	if (query_int(r, "limit", 100, 1, 10000, &limit) < 0) {
		json_decref(arr);
		return;
	}
	e = store_orphans_list(r->api->store, (int)limit, orphan_json, arr);
	if (e < 0) {
		json_decref(arr);
		storage_error(r, e);
		return;
	}
	respond(r, 200, json_pack("{s:o}", "orphans", arr));
}

static const struct route routes[] = {
	{ API_GET, "api/health", get_health },
	{ API_GET, "api/stations", get_stations },
	{ API_GET, "api/stations/*", get_station },
	{ API_POST, "api/stations/*/registration", post_registration },
	{ API_POST, "api/stations/*/commands/*", post_command },
	{ API_GET, "api/stations/*/variables", get_variables },
	{ API_POST, "api/stations/*/remote-start", post_neutral },
	{ API_POST, "api/stations/*/remote-stop", post_neutral },
	{ API_POST, "api/stations/*/reset", post_neutral },
	{ API_POST, "api/stations/*/unlock", post_neutral },
	{ API_POST, "api/stations/*/availability", post_neutral },
	{ API_POST, "api/stations/*/trigger", post_neutral },
	{ API_POST, "api/stations/*/charging-profile", post_neutral },
	{ API_POST, "api/stations/*/clear-charging-profile", post_neutral },
	{ API_POST, "api/stations/*/composite-schedule", post_neutral },
	{ API_POST, "api/stations/*/local-list", post_neutral },
	{ API_POST, "api/stations/*/local-list-version", post_neutral },
	{ API_POST, "api/stations/*/reserve", post_neutral },
	{ API_POST, "api/stations/*/cancel-reservation", post_neutral },
	{ API_GET, "api/commands", get_commands },
	{ API_GET, "api/sessions", get_sessions },
	{ API_GET, "api/sessions/*", get_session },
	{ API_GET, "api/orphans", get_orphans },
};

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
	bool path_known = false;
	int n;

	if (r->body_too_large) {
		respond_error(r, 413, "body larger than %d bytes", API_MAX_BODY);
		return;
	}
	snprintf(path, sizeof(path), "%s", r->path);
	n = split(path, segs);
	if (n > 0) {
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
			if (!match(routes[i].pattern, segs, n))
				continue;
			path_known = true;
			if (routes[i].method == r->method) {
				routes[i].fn(r, segs);
				return;
			}
		}
	}
	if (path_known)
		respond_error(r, 405, "method not allowed on %s", r->path);
	else
		respond_error(r, 404, "no such route: %s", r->path);
}
