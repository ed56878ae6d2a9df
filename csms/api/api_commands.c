/* SPDX-License-Identifier: MIT */
/* REST routes of operator commands (version-neutral, and any CSMS-initiated action) and the
 * command log. Commands go through svc (svc/cmd.h); the answer is sent once the log row is
 * durable. */
#include "api-private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/cfg.h"
#include "../core/log.h"
#include "../store/store.h"
#include "../svc/cmd.h"
#include "../svc/svc.h"
#include "ocpp.h"

static int rate_unit_from_name(const char *s)
{
	return !s ? -EINVAL : !strcmp(s, "W") ? SVC_RATE_W : !strcmp(s, "A") ? SVC_RATE_A : -EINVAL;
}

static int id_tag_member(struct api_req *r, const json_t *o, const char **ret)
{
	const char *t = json_string_value(json_object_get(o, "id_tag"));

	if (!t || !*t || strlen(t) > 20) {
		api_error(r, 400, "id_tag: expected a string of 1..20 characters");
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

/* The domain's answer to a command, now durable in the command log: the HTTP answer, with the
 * members of extra (may be NULL, stolen) beside status and response when the station answered. */
static void cmd_answer(struct api_req *r, const struct svc_cmd_result *res, json_t *extra)
{
	json_t *payload = NULL;

	switch (res->status) {
	case SVC_RES_ACCEPTED:
	case SVC_RES_REJECTED:
	case SVC_RES_OTHER:
	case SVC_RES_ANSWERED: {
		json_t *status;

		payload = res->payload ? json_loads(res->payload, 0, NULL) : NULL;
		if (!payload) {
			api_error(r, 500, "out of memory");
			break;
		}
		status = json_object_get(payload, "status");
		{
			json_t *o = json_pack("{s:O, s:O}", "status", status ? status : json_null(),
					      "response", payload);

			if (o && extra)
				json_object_update(o, extra);
			api_respond(r, 200, o);
		}
		break;
	}
	case SVC_RES_CALL_ERROR:
		api_respond(r, 502,
			    json_pack("{s:s, s:s, s:s}", "error",
				      "charger answered with a CALLERROR", "code", res->code,
				      "description", res->detail));
		break;
	case SVC_RES_BAD_ANSWER:
		api_respond(r, 502,
			    json_pack("{s:s, s:s, s:s}", "error", "charger's answer is invalid",
				      "code", res->code, "description", res->detail));
		break;
	case SVC_RES_TIMEOUT:
		api_error(r, 504, "charger did not answer in time");
		break;
	case SVC_RES_NOT_CONNECTED:
	case SVC_RES_UNSUPPORTED:
		api_error(r, 409, "%s", res->detail);
		break;
	case SVC_RES_BUSY:
		api_error(r, 503, "%s", res->detail);
		break;
	case SVC_RES_INVALID:
		api_error(r, 400, "%s", res->detail);
		break;
	case SVC_RES_FAILED:
		api_error(r, 500, "%s", res->detail[0] ? res->detail : "internal error");
		break;
	case SVC_RES_STORE_FAILED:
		api_error(r, 500, "storage error");
		break;
	default: /* SVC_RES_DISCONNECTED */
		api_error(r, 502, "connection to the charger closed before it answered");
		break;
	}
	json_decref(payload);
	json_decref(extra);
}

static void cmd_done(void *ud, const struct svc_cmd_result *res)
{
	cmd_answer(ud, res, NULL);
}

/* Send cmd through the domain; the answer comes by done (cmd_done when NULL) once it is
 * logged, with ud (r when NULL). */
static void send_cmd_by(struct api_req *r, const char *id, const struct svc_cmd *cmd,
			svc_cmd_done_fn done, void *ud)
{
	int rc;

	r->pending = true;
	rc = svc_cmd_send(r->api->svc, id, cmd, r->who[0] ? r->who : "api", done ? done : cmd_done,
			  done ? ud : r);
	if (rc >= 0)
		return;
	r->pending = false;
	if (rc == -ENOENT)
		api_error(r, 404, "unknown station %s", id);
	else if (rc == -ESRCH)
		api_error(r, 404, "station %s has no session %lld", id, (long long)cmd->session_id);
	else if (rc == -EPERM) /* sites: the site's policy (docs/sites.md) */
		api_error(r, 409, "the site of station %s takes no reservations", id);
	else if (rc == -EINVAL)
		api_error(r, 400,
			  "invalid request (a reservation expires ahead, within the site's "
			  "longest)");
	else
		api_storage_error(r, rc);
	if (done)
		free(ud);
}

static void send_cmd(struct api_req *r, const char *id, const struct svc_cmd *cmd)
{
	send_cmd_by(r, id, cmd, NULL, NULL);
}

/* POST /api/stations/{id}/commands/{Action}: any CSMS-initiated action, payload as given. */
static void post_command(struct api_req *r, char **segs)
{
	struct svc_cmd cmd = {.kind = SVC_CMD_RAW};

	cmd.raw.action = segs[4];
	cmd.raw.payload = r->body ? r->body : "";
	send_cmd(r, segs[2], &cmd);
}

static int recurrency_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	if (!strcmp(name, "daily"))
		return SVC_RECUR_DAILY;
	if (!strcmp(name, "weekly"))
		return SVC_RECUR_WEEKLY;
	return -EINVAL;
}

/* The charging profile of POST …/charging-profile. */
static int profile_member(struct api_req *r, const json_t *body, struct svc_charging_profile *p)
{
	const json_t *periods = json_object_get(body, "periods"), *e;
	int64_t recur_span = 0;
	json_int_t n;
	size_t i;

	if (api_member_int(r, body, "id", true, 0, 1, INT32_MAX, &n) < 0)
		return -EINVAL;
	p->id = n;
	if (api_member_name(r, body, "purpose", true, 0, svc_profile_purpose_from_name,
			    "\"station-max\", \"tx-default\" or \"tx\"", &p->purpose) < 0 ||
	    api_member_int(r, body, "stack_level", false, 0, 0, 1000, &n) < 0)
		return -EINVAL;
	p->stack_level = (int)n;
	if (api_member_time(r, body, "start", false, &p->start_ms) < 0 ||
	    api_member_int(r, body, "duration_s", false, 0, 0, INT32_MAX, &n) < 0)
		return -EINVAL;
	p->duration_s = n;
	if (api_member_name(r, body, "rate_unit", false, SVC_RATE_W, rate_unit_from_name,
			    "\"W\" or \"A\"", &p->rate_unit) < 0 ||
	    api_member_name(r, body, "recurrency", false, SVC_RECUR_NONE, recurrency_from_name,
			    "\"daily\" or \"weekly\"", &p->recurrency) < 0)
		return -EINVAL;
	if (p->recurrency != SVC_RECUR_NONE) {
		/* the schedule repeats from its start: the first day's (or week's) */
		int64_t span = p->recurrency == SVC_RECUR_DAILY ? 86400 : 7 * 86400;

		if (!p->start_ms) {
			api_error(r, 400, "recurrency: needs start (when the first %s begins)",
				  p->recurrency == SVC_RECUR_DAILY ? "day" : "week");
			return -EINVAL;
		}
		if (p->duration_s > span) {
			api_error(r, 400, "duration_s: at most %lld for a %s schedule",
				  (long long)span,
				  p->recurrency == SVC_RECUR_DAILY ? "daily" : "weekly");
			return -EINVAL;
		}
		recur_span = span;
	}
	if (!json_is_array(periods) || !json_array_size(periods) ||
	    json_array_size(periods) > SVC_PROFILE_PERIODS_MAX) {
		api_error(r, 400, "periods: expected 1..%d periods", SVC_PROFILE_PERIODS_MAX);
		return -EINVAL;
	}
	json_array_foreach(periods, i, e) {
		const json_t *lim = json_object_get(e, "limit");
		double limit;

		if (api_member_int(r, e, "start_s", true, 0, 0,
				   recur_span ? recur_span - 1 : INT32_MAX, &n) < 0)
			return -EINVAL;
		p->periods[i].start_s = n;
		if (!json_is_number(lim) || fabs(json_number_value(lim)) > 1e9) {
			api_error(r, 400, "limit: expected a number (W or A; negative discharges)");
			return -EINVAL;
		}
		limit = json_number_value(lim);
		/* watts whole, amperes in tenths */
		p->periods[i].limit =
		    (int64_t)llround(p->rate_unit == SVC_RATE_A ? limit * 10 : limit);
		if (api_member_int(r, e, "phases", false, 0, 1, 3, &n) < 0)
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
		api_error(r, 400, "entries: expected an array of at most %d",
			  r->api->cfg->max_list_items);
		return -EINVAL;
	}
	v = calloc(json_array_size(arr) + 1, sizeof(*v));
	if (!v) {
		api_error(r, 500, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(arr, i, e) {
		const json_t *st = json_object_get(e, "status");

		v[i].token = json_string_value(json_object_get(e, "id_tag"));
		v[i].parent = json_string_value(json_object_get(e, "parent"));
		v[i].status = st ? auth_status_from_string(json_string_value(st)) : -1;
		if (!v[i].token || !*v[i].token || strlen(v[i].token) > 20 ||
		    (st && v[i].status < 0) ||
		    api_member_time(r, e, "expiry", false, &v[i].expiry_ms) < 0) {
			if (!r->done)
				api_error(r, 400,
					  "entries[%zu]: expected {\"id_tag\": 1..20 "
					  "characters, \"status\": \"Accepted\"|\"Blocked\"|"
					  "\"Expired\"|\"Invalid\" (absent: remove)}",
					  i);
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
		api_error(r, 500, "out of memory");
		return;
	}
	for (kind = 0; kind < (int)(sizeof(names) / sizeof(names[0])); kind++)
		if (names[kind] && strcmp(segs[3], names[kind]) == 0)
			break;
	if (kind == (int)(sizeof(names) / sizeof(names[0]))) {
		api_error(r, 404, "no such route: %s", r->path);
		goto out;
	}
	body = api_body_object(r);
	if (!body)
		goto out;
	cmd->kind = kind;
	switch (kind) {
	case SVC_CMD_REMOTE_START:
		if (id_tag_member(r, body, &cmd->id_tag) < 0 ||
		    api_member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		break;
	case SVC_CMD_REMOTE_STOP:
		if (api_member_int(r, body, "session_id", true, 0, 1, INT64_MAX, &n) < 0)
			goto out;
		cmd->session_id = n;
		break;
	case SVC_CMD_RESET: {
		const char *type = json_string_value(json_object_get(body, "type"));

		if (!type || (strcmp(type, "hard") && strcmp(type, "soft"))) {
			api_error(r, 400, "type: expected \"hard\" or \"soft\"");
			goto out;
		}
		cmd->hard = strcmp(type, "hard") == 0;
		break;
	}
	case SVC_CMD_UNLOCK:
		if (api_member_int(r, body, "evse_id", true, 0, 1, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (api_member_int(r, body, "connector_id", false, 1, 1, max_c, &n) < 0)
			goto out;
		cmd->connector_id = (int)n;
		break;
	case SVC_CMD_AVAILABILITY:
		if (!json_is_boolean(json_object_get(body, "operative"))) {
			api_error(r, 400, "operative: expected true or false");
			goto out;
		}
		cmd->operative = json_is_true(json_object_get(body, "operative"));
		if (api_member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		break;
	case SVC_CMD_TRIGGER:
		if (api_member_name(r, body, "message", true, 0, svc_trigger_from_name,
				    "\"boot\", \"heartbeat\", \"status\", \"meter-values\", "
				    "\"firmware-status\" or \"diagnostics-status\"",
				    &cmd->trigger) < 0 ||
		    api_member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		break;
	case SVC_CMD_SET_PROFILE:
		if (api_member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (profile_member(r, body, &cmd->profile) < 0)
			goto out;
		break;
	case SVC_CMD_CLEAR_PROFILE:
		cmd->clear.has_id = json_object_get(body, "id") != NULL;
		if (api_member_int(r, body, "id", false, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->clear.id = n;
		if (api_member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (api_member_name(r, body, "purpose", false, -1, svc_profile_purpose_from_name,
				    "\"station-max\", \"tx-default\" or \"tx\"",
				    &cmd->clear.purpose) < 0 ||
		    api_member_int(r, body, "stack_level", false, -1, 0, 1000, &n) < 0)
			goto out;
		cmd->clear.stack_level = (int)n;
		break;
	case SVC_CMD_COMPOSITE_SCHEDULE:
		if (api_member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (api_member_int(r, body, "duration_s", true, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->duration_s = n;
		if (api_member_name(r, body, "rate_unit", false, -1, rate_unit_from_name,
				    "\"W\" or \"A\"", &cmd->rate_unit) < 0)
			goto out;
		break;
	case SVC_CMD_SEND_LOCAL_LIST:
		if (api_member_int(r, body, "version", true, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->list.version = n;
		if (json_object_get(body, "full") &&
		    !json_is_boolean(json_object_get(body, "full"))) {
			api_error(r, 400, "full: expected true or false");
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
		if (api_member_int(r, body, "reservation_id", true, 0, 1, INT32_MAX, &n) < 0)
			goto out;
		cmd->reservation_id = n;
		if (id_tag_member(r, body, &cmd->id_tag) < 0 ||
		    api_member_int(r, body, "evse_id", false, 0, 0, max_c, &n) < 0)
			goto out;
		cmd->evse_id = (int)n;
		if (api_member_time(r, body, "expiry", true, &cmd->expiry_ms) < 0)
			goto out;
		break;
	case SVC_CMD_CANCEL_RESERVATION:
		if (api_member_int(r, body, "reservation_id", true, 0, 1, INT32_MAX, &n) < 0)
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

/* ------------------------------------------------ charging profiles the station reports */

struct report_ud {
	struct api_req *r;
	int64_t request_id;
};

static void report_done(void *ud, const struct svc_cmd_result *res)
{
	struct report_ud *u = ud;

	cmd_answer(u->r, res, json_pack("{s:I}", "request_id", (json_int_t)u->request_id));
	free(u);
}

/* POST /api/stations/{id}/charging-profiles/report {"evse_id"?, "purpose"?, "stack_level"?,
 * "request_id"?}: ask the station for the profiles it holds (2.0.1 GetChargingProfiles); they
 * come back by ReportChargingProfiles, shown by GET …/charging-profiles. A 1.6 station has no
 * such message: 409 (its composite-schedule is the 1.6 way to see what it follows). */
static void post_report_profiles(struct api_req *r, char **segs)
{
	struct svc_cmd *cmd = calloc(1, sizeof(*cmd));
	struct report_ud *u = calloc(1, sizeof(*u));
	json_t *body = NULL;
	json_int_t n;

	if (!cmd || !u) {
		api_error(r, 500, "out of memory");
		goto out;
	}
	body = api_body_object(r);
	if (!body)
		goto out;
	cmd->kind = SVC_CMD_GET_PROFILES;
	cmd->rate_unit = -1;
	cmd->clear.purpose = cmd->clear.stack_level = -1;
	cmd->report.has_evse = json_object_get(body, "evse_id") != NULL;
	if (api_member_int(r, body, "evse_id", false, 0, 0, r->api->cfg->max_connectors, &n) < 0)
		goto out;
	cmd->evse_id = (int)n;
	if (api_member_name(r, body, "purpose", false, -1, svc_profile_purpose_from_name,
			    "\"station-max\", \"tx-default\" or \"tx\"",
			    &cmd->report.purpose) < 0 ||
	    api_member_int(r, body, "stack_level", false, -1, 0, 1000, &n) < 0)
		goto out;
	cmd->report.stack_level = (int)n;
	if (api_member_int(r, body, "request_id", false, 0, 1, INT32_MAX, &n) < 0)
		goto out;
	cmd->request_id = n ? n : svc_cmd_next_request_id(r->api->svc);
	u->r = r;
	u->request_id = cmd->request_id;
	send_cmd_by(r, segs[2], cmd, report_done, u);
	u = NULL; /* report_done or send_cmd_by frees it */
out:
	free(u);
	free(cmd);
	json_decref(body);
}

/* What the station's ReportChargingProfiles and NotifyChargingLimit said (stored as notices
 * "charging_profiles" and "charging_limit" with the request as sent), folded newest first. */
struct profiles_fold {
	json_t *evses; /* "<evse id>" -> {evse_id, request_id, source, reported, profiles} */
	json_t *limit; /* the newest NotifyChargingLimit, or NULL */
	int64_t rows;
};

static int profiles_row(const struct store_history_row *row, void *ud)
{
	struct profiles_fold *f = ud;
	json_t *req, *e;
	char key[24];

	f->rows++;
	if (strcmp(row->source, "notice") != 0 || !row->text)
		return 0;
	if (strcmp(row->kind, "charging_limit") == 0) {
		if (f->limit || !(req = json_loads(row->text, 0, NULL)))
			return 0;
		{
			const json_t *cl = json_object_get(req, "chargingLimit");
			const json_t *gc = json_object_get(cl, "isGridCritical");
			const json_t *ev = json_object_get(req, "evseId");
			const json_t *sch = json_object_get(req, "chargingSchedule");

			f->limit =
			    json_pack("{s:O, s:O, s:O, s:O, s:o}", "source",
				      json_object_get(cl, "chargingLimitSource")
					  ? json_object_get(cl, "chargingLimitSource")
					  : json_null(),
				      "grid_critical", gc ? gc : json_null(), "evse_id",
				      ev ? ev : json_null(), "schedules", sch ? sch : json_null(),
				      "reported", api_time_or_null(row->ts_ms));
		}
		json_decref(req);
		return f->limit ? 0 : -ENOMEM;
	}
	if (strcmp(row->kind, "charging_profiles") != 0 || !(req = json_loads(row->text, 0, NULL)))
		return 0;
	snprintf(key, sizeof(key), "%lld",
		 (long long)json_integer_value(json_object_get(req, "evseId")));
	e = json_object_get(f->evses, key);
	if (!e) { /* the newest report of this EVSE: its request is the one shown */
		const json_t *src = json_object_get(req, "chargingLimitSource");

		e = json_pack("{s:O, s:O, s:O, s:o, s:[]}", "evse_id",
			      json_object_get(req, "evseId"), "request_id",
			      json_object_get(req, "requestId"), "source", src ? src : json_null(),
			      "reported", api_time_or_null(row->ts_ms), "profiles");
		if (!e || json_object_set_new(f->evses, key, e) < 0) {
			json_decref(req);
			return -ENOMEM;
		}
	} else if (!json_equal(json_object_get(e, "request_id"),
			       json_object_get(req, "requestId"))) {
		json_decref(req); /* an older request's report */
		return 0;
	}
	/* parts of one request (tbc) arrive in order: read newest first, each goes before */
	{
		json_t *all = json_copy(json_object_get(req, "chargingProfile"));

		if (json_is_array(all)) {
			json_array_extend(all, json_object_get(e, "profiles"));
			json_object_set_new(e, "profiles", all);
		} else {
			json_decref(all);
		}
	}
	json_decref(req);
	return 0;
}

#define PROFILES_SCAN_PAGE 500
#define PROFILES_SCAN_MAX  4000

static int evse_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "evse_id"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "evse_id"));

	return x < y ? -1 : x > y;
}

/* GET /api/stations/{id}/charging-profiles: per EVSE the profiles of the station's last
 * ReportChargingProfiles (all the parts of its request), and the last NotifyChargingLimit,
 * from the station's newest history lines (PROFILES_SCAN_MAX). */
static void get_station_profiles(struct api_req *r, char **segs)
{
	struct profiles_fold f = {.evses = json_object()};
	json_t *arr = json_array(), *v, **items = NULL;
	const char *k;
	size_t n = 0, i;
	int e = 0;

	if (api_station_known(r, segs[2]) < 0)
		goto out;
	if (!f.evses || !arr) {
		api_error(r, 500, "out of memory");
		goto out;
	}
	for (int off = 0; off < PROFILES_SCAN_MAX; off += PROFILES_SCAN_PAGE) {
		int64_t before = f.rows;

		e = store_station_history(r->api->store, segs[2], PROFILES_SCAN_PAGE, off,
					  profiles_row, &f);
		if (e < 0 || f.rows - before < PROFILES_SCAN_PAGE)
			break;
	}
	if (e < 0) {
		api_storage_error(r, e);
		goto out;
	}
	items = calloc(json_object_size(f.evses) + 1, sizeof(*items));
	if (!items) {
		api_error(r, 500, "out of memory");
		goto out;
	}
	json_object_foreach(f.evses, k, v)
		items[n++] = v;
	qsort(items, n, sizeof(*items), evse_cmp);
	for (i = 0; i < n; i++)
		json_array_append(arr, items[i]);
	api_respond(r, 200,
		    json_pack("{s:s, s:O, s:o}", "station", segs[2], "evses", arr, "charging_limit",
			      f.limit ? json_incref(f.limit) : json_null()));
out:
	free(items);
	json_decref(arr);
	json_decref(f.evses);
	json_decref(f.limit);
}

static json_t *text_json(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	return j ? j : json_null();
}

static int command_json(const struct store_command *row, void *ud)
{
	json_t *o = json_pack(
	    "{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, "
	    "s:I}",
	    "id", (json_int_t)row->id, "station", row->station_id, "who", row->who, "kind",
	    row->kind, "action", api_str_or_null(row->action), "request",
	    api_str_or_null(row->request), "requested", api_time_or_null(row->requested_ms),
	    "answered", api_time_or_null(row->answered_ms), "status", row->status, "station_status",
	    api_str_or_null(row->station_status), "code", api_str_or_null(row->error_code),
	    "detail", api_str_or_null(row->detail), "response", text_json(row->response),
	    "latency_ms", (json_int_t)row->latency_ms);

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
	if (api_query_page(r, 100, 10000, &limit, &offset) < 0)
		return;
	sid = api_query_get(r, "station", station, sizeof(station));
	arr = json_array();
	e = store_commands_list(r->api->store, sid, (int)limit, (int)offset, command_json, arr);
	api_respond_list(r, e, "commands", arr);
}

const struct api_route api_command_routes[] = {
    {API_POST, "api/stations/*/commands/*", post_command},
    {API_POST, "api/stations/*/remote-start", post_neutral},
    {API_POST, "api/stations/*/remote-stop", post_neutral},
    {API_POST, "api/stations/*/reset", post_neutral},
    {API_POST, "api/stations/*/unlock", post_neutral},
    {API_POST, "api/stations/*/availability", post_neutral},
    {API_POST, "api/stations/*/trigger", post_neutral},
    {API_POST, "api/stations/*/charging-profile", post_neutral},
    {API_POST, "api/stations/*/clear-charging-profile", post_neutral},
    {API_POST, "api/stations/*/composite-schedule", post_neutral},
    {API_POST, "api/stations/*/local-list", post_neutral},
    {API_POST, "api/stations/*/local-list-version", post_neutral},
    {API_POST, "api/stations/*/reserve", post_neutral},
    {API_POST, "api/stations/*/cancel-reservation", post_neutral},
    {API_POST, "api/stations/*/charging-profiles/report", post_report_profiles},
    {API_GET, "api/stations/*/charging-profiles", get_station_profiles},
    {API_GET, "api/commands", get_commands},
    {0, NULL, NULL},
};
