/* SPDX-License-Identifier: MIT */
/* Operator commands through the domain: resolve, send by the link, log the answer, and answer
 * the caller only once the log row is durable (after the node's group commit). */
#include "cmd.h"
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "link.h"
#include "sites.h"
#include "svc.h"

/* One command from svc_cmd_send until its done callback. */
struct cmd_op {
	struct cmd_op *next; /* in svc_cmds.wait while waiting for the group commit */
	struct svc *svc;
	svc_cmd_done_fn done;
	void *ud;
	int kind;
	char station[STATION_ID_MAX + 1];
	char who[64];
	char action[48];
	char summary[256];
	int64_t sent_ms;
	struct svc_cmd_result res;
	char *payload;	 /* owned copy of res.payload */
	int64_t resv_id; /* reserve, cancel reservation: the reservation (sites.h) */
};

struct svc_cmds {
	const struct svc_link_ops *ops;
	void *impl;
	int64_t next_request_id;
	struct cmd_op *wait_head, *wait_tail;
	size_t n_wait;
};

/* Replace the bytes of s that are not valid UTF-8 by '?' in place (the command log is listed
 * as JSON: an operator's raw body, an action name from a URL or a summary cut in the middle of
 * a character made GET /api/commands fail with 500 for as long as the row was on the page;
 * found by tests/fuzz/fuzz_api.c). */
static void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = *p < 0x80		 ? 1
			   : (*p & 0xe0) == 0xc0 ? 2
			   : (*p & 0xf0) == 0xe0 ? 3
			   : (*p & 0xf8) == 0xf0 ? 4
						 : 0;
		unsigned cp = n == 2 ? *p & 0x1fu : n == 3 ? *p & 0x0fu : *p & 0x07u;
		size_t i;

		for (i = 1; n > 1 && i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | (p[i] & 0x3fu);
		}
		/* short, overlong, surrogate or beyond U+10FFFF: one bad byte */
		if (n == 0 || i < n || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff && n == 3)) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

static const char *const kind_names[_SVC_CMD_KIND_MAX] = {
    [SVC_CMD_REMOTE_START] = "remote-start",
    [SVC_CMD_REMOTE_STOP] = "remote-stop",
    [SVC_CMD_RESET] = "reset",
    [SVC_CMD_UNLOCK] = "unlock",
    [SVC_CMD_AVAILABILITY] = "availability",
    [SVC_CMD_TRIGGER] = "trigger",
    [SVC_CMD_SET_PROFILE] = "set-charging-profile",
    [SVC_CMD_CLEAR_PROFILE] = "clear-charging-profile",
    [SVC_CMD_COMPOSITE_SCHEDULE] = "composite-schedule",
    [SVC_CMD_SEND_LOCAL_LIST] = "send-local-list",
    [SVC_CMD_LOCAL_LIST_VERSION] = "local-list-version",
    [SVC_CMD_RESERVE] = "reserve",
    [SVC_CMD_CANCEL_RESERVATION] = "cancel-reservation",
    [SVC_CMD_RAW] = "raw",
    [SVC_CMD_SET_PASSWORD] = "set-password",
    [SVC_CMD_LOCAL_LIST_LIMITS] = "local-list-limits",
    [SVC_CMD_SET_V2G_MODE] = "set-v2g-mode",
    [SVC_CMD_GET_PROFILES] = "get-charging-profiles",
};

static const char *const mode_names[_SVC_MODE_MAX] = {
    [SVC_MODE_IDLE] = "Idle",
    [SVC_MODE_CHARGING_ONLY] = "ChargingOnly",
    [SVC_MODE_CENTRAL_SETPOINT] = "CentralSetpoint",
};

static const char *const status_names[_SVC_RES_MAX] = {
    [SVC_RES_ACCEPTED] = "accepted",
    [SVC_RES_REJECTED] = "rejected",
    [SVC_RES_OTHER] = "other",
    [SVC_RES_ANSWERED] = "answered",
    [SVC_RES_CALL_ERROR] = "call-error",
    [SVC_RES_BAD_ANSWER] = "bad-answer",
    [SVC_RES_TIMEOUT] = "timeout",
    [SVC_RES_NOT_CONNECTED] = "not-connected",
    [SVC_RES_DISCONNECTED] = "disconnected",
    [SVC_RES_BUSY] = "busy",
    [SVC_RES_INVALID] = "invalid",
    [SVC_RES_FAILED] = "failed",
    [SVC_RES_STORE_FAILED] = "store-failed",
    [SVC_RES_UNSUPPORTED] = "unsupported",
};

static const char *const trigger_names[_SVC_TRIGGER_MAX] = {
    [SVC_TRIGGER_BOOT] = "boot",
    [SVC_TRIGGER_HEARTBEAT] = "heartbeat",
    [SVC_TRIGGER_STATUS] = "status",
    [SVC_TRIGGER_METER_VALUES] = "meter-values",
    [SVC_TRIGGER_FIRMWARE_STATUS] = "firmware-status",
    [SVC_TRIGGER_DIAGNOSTICS_STATUS] = "diagnostics-status",
    [SVC_TRIGGER_SIGN_CERTIFICATE] = "sign-certificate",
};

static const char *const purpose_names[_SVC_PURPOSE_MAX] = {
    [SVC_PURPOSE_STATION_MAX] = "station-max",
    [SVC_PURPOSE_TX_DEFAULT] = "tx-default",
    [SVC_PURPOSE_TX] = "tx",
};

static int name_lookup(const char *const *names, int n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *svc_cmd_kind_name(int kind)
{
	return kind >= 0 && kind < _SVC_CMD_KIND_MAX ? kind_names[kind] : NULL;
}

int svc_cmd_kind_from_name(const char *name)
{
	return name_lookup(kind_names, _SVC_CMD_KIND_MAX, name);
}

const char *svc_op_mode_name(int m)
{
	return m >= 0 && m < _SVC_MODE_MAX ? mode_names[m] : NULL;
}

const char *svc_cmd_status_name(int status)
{
	return status >= 0 && status < _SVC_RES_MAX ? status_names[status] : NULL;
}

const char *svc_trigger_name(int t)
{
	return t >= 0 && t < _SVC_TRIGGER_MAX ? trigger_names[t] : NULL;
}

int svc_trigger_from_name(const char *name)
{
	return name_lookup(trigger_names, _SVC_TRIGGER_MAX, name);
}

const char *svc_profile_purpose_name(int p)
{
	return p >= 0 && p < _SVC_PURPOSE_MAX ? purpose_names[p] : NULL;
}

int svc_profile_purpose_from_name(const char *name)
{
	return name_lookup(purpose_names, _SVC_PURPOSE_MAX, name);
}

void svc_cmd_summary(const struct svc_cmd *c, char *buf, size_t len)
{
	switch (c->kind) {
	case SVC_CMD_REMOTE_START:
		snprintf(buf, len, "id_tag=%s evse=%d", c->id_tag ? c->id_tag : "", c->evse_id);
		break;
	case SVC_CMD_REMOTE_STOP:
		snprintf(buf, len, "session=%" PRId64 " tx=%s", c->session_id, c->station_tx_id);
		break;
	case SVC_CMD_RESET:
		snprintf(buf, len, "type=%s", c->hard ? "hard" : "soft");
		break;
	case SVC_CMD_UNLOCK:
		snprintf(buf, len, "evse=%d connector=%d", c->evse_id,
			 c->connector_id ? c->connector_id : 1);
		break;
	case SVC_CMD_AVAILABILITY:
		snprintf(buf, len, "evse=%d operative=%s", c->evse_id,
			 c->operative ? "true" : "false");
		break;
	case SVC_CMD_TRIGGER:
		snprintf(buf, len, "message=%s evse=%d",
			 svc_trigger_name(c->trigger) ? svc_trigger_name(c->trigger) : "?",
			 c->evse_id);
		break;
	case SVC_CMD_SET_PROFILE:
		snprintf(buf, len, "evse=%d profile=%" PRId64 " purpose=%s stack=%d periods=%zu",
			 c->evse_id, c->profile.id,
			 svc_profile_purpose_name(c->profile.purpose)
			     ? svc_profile_purpose_name(c->profile.purpose)
			     : "?",
			 c->profile.stack_level, c->profile.n_periods);
		break;
	case SVC_CMD_CLEAR_PROFILE:
		snprintf(buf, len, "evse=%d id=%s%" PRId64 " purpose=%s stack=%d", c->evse_id,
			 c->clear.has_id ? "" : "any/", c->clear.has_id ? c->clear.id : 0,
			 svc_profile_purpose_name(c->clear.purpose)
			     ? svc_profile_purpose_name(c->clear.purpose)
			     : "any",
			 c->clear.stack_level);
		break;
	case SVC_CMD_COMPOSITE_SCHEDULE:
		snprintf(buf, len, "evse=%d duration=%" PRId64 "s unit=%s", c->evse_id,
			 c->duration_s,
			 c->rate_unit == SVC_RATE_W   ? "W"
			 : c->rate_unit == SVC_RATE_A ? "A"
						      : "any");
		break;
	case SVC_CMD_SEND_LOCAL_LIST:
		snprintf(buf, len, "version=%" PRId64 " %s entries=%zu", c->list.version,
			 c->list.full ? "full" : "differential", c->list.n_entries);
		break;
	case SVC_CMD_LOCAL_LIST_VERSION:
	case SVC_CMD_LOCAL_LIST_LIMITS:
		snprintf(buf, len, "%s", "");
		break;
	case SVC_CMD_RESERVE:
		snprintf(buf, len, "reservation=%" PRId64 " id_tag=%s evse=%d", c->reservation_id,
			 c->id_tag ? c->id_tag : "", c->evse_id);
		break;
	case SVC_CMD_CANCEL_RESERVATION:
		snprintf(buf, len, "reservation=%" PRId64, c->reservation_id);
		break;
	case SVC_CMD_RAW:
		snprintf(buf, len, "%s", c->raw.payload ? c->raw.payload : "");
		break;
	case SVC_CMD_SET_V2G_MODE:
		snprintf(buf, len,
			 "evse=%d session=%" PRId64 " mode=%s setpoint=%" PRId64 "W until=%" PRId64,
			 c->evse_id, c->session_id,
			 svc_op_mode_name(c->v2g.mode) ? svc_op_mode_name(c->v2g.mode) : "?",
			 c->v2g.setpoint_w, c->v2g.valid_until_ms);
		break;
	case SVC_CMD_GET_PROFILES: {
		char evse[24] = "any";

		if (c->report.has_evse)
			snprintf(evse, sizeof(evse), "%d", c->evse_id);
		snprintf(buf, len, "request=%" PRId64 " evse=%s purpose=%s stack=%d", c->request_id,
			 evse,
			 svc_profile_purpose_name(c->report.purpose)
			     ? svc_profile_purpose_name(c->report.purpose)
			     : "any",
			 c->report.stack_level);
		break;
	}
	case SVC_CMD_SET_PASSWORD: /* never the password itself */
		snprintf(buf, len, "%s", "password=(new, not logged)");
		break;
	default:
		snprintf(buf, len, "%s", "");
		break;
	}
}

/* ---------------------------------------------------------------- state */

static struct svc_cmds *cmds_of(struct svc *s)
{
	struct svc_cmds **slot = svc__cmds(s);

	if (!*slot)
		*slot = calloc(1, sizeof(**slot));
	return *slot;
}

static void op_free(struct cmd_op *op)
{
	if (!op)
		return;
	free(op->payload);
	free(op);
}

void svc__cmds_free(struct svc_cmds *c)
{
	struct cmd_op *op;

	if (!c)
		return;
	/* Never answered as durable: the node stops before a group commit released them. */
	while ((op = c->wait_head)) {
		c->wait_head = op->next;
		op->res.status = SVC_RES_STORE_FAILED;
		op->done(op->ud, &op->res);
		op_free(op);
	}
	free(c);
}

void svc_set_link(struct svc *s, const struct svc_link_ops *ops, void *impl)
{
	struct svc_cmds *c = cmds_of(s);

	if (!c)
		return;
	c->ops = ops;
	c->impl = impl;
}

int64_t svc_cmd_next_request_id(struct svc *s)
{
	struct svc_cmds *c = cmds_of(s);

	return c ? ++c->next_request_id : 1;
}

size_t svc_cmd_waiting(struct svc *s)
{
	struct svc_cmds *c = *svc__cmds(s);

	return c ? c->n_wait : 0;
}

/* ---------------------------------------------------------------- send and log */

struct tx_id_ud {
	char *buf;
	size_t len;
};

static int copy_tx_id(const struct store_session_row *row, void *ud)
{
	struct tx_id_ud *t = ud;

	/* 2.0.1 stations know a transaction by their own id; 1.6 ones by the CSMS's integer */
	if (row->station_tx_id && *row->station_tx_id)
		snprintf(t->buf, t->len, "%s", row->station_tx_id);
	else
		snprintf(t->buf, t->len, "%" PRId64, row->id);
	return 0;
}

/* The answer (or failure) of op came back from the link: log it, wait for the commit. */
static void on_link_done(void *ud, const struct svc_cmd_result *res)
{
	struct cmd_op *op = ud;
	struct svc *s = op->svc;
	struct svc_cmds *c = *svc__cmds(s);
	int64_t now = svc_now_ms(s);
	struct store_command row;
	int r;

	op->res = *res;
	op->res.payload = NULL;
	if (res->payload) {
		op->payload = strdup(res->payload);
		op->res.payload = op->payload;
	}
	op->res.latency_ms = now >= op->sent_ms ? now - op->sent_ms : 0;
	if (!op->res.action[0])
		snprintf(op->res.action, sizeof(op->res.action), "%s", op->action);
	utf8_scrub(op->res.action);
	utf8_scrub(op->res.station_status);
	utf8_scrub(op->res.code);
	utf8_scrub(op->res.detail);
	row = (struct store_command){
	    .station_id = op->station,
	    .who = op->who,
	    .kind = svc_cmd_kind_name(op->kind),
	    .action = op->res.action[0] ? op->res.action : NULL,
	    .request = op->summary,
	    .status = svc_cmd_status_name(op->res.status),
	    .station_status = op->res.station_status[0] ? op->res.station_status : NULL,
	    .error_code = op->res.code[0] ? op->res.code : NULL,
	    .detail = op->res.detail[0] ? op->res.detail : NULL,
	    .response = op->res.payload,
	    .requested_ms = op->sent_ms,
	    .answered_ms = now,
	    .latency_ms = op->res.latency_ms,
	};
	svc__resv_answered(s, op->kind, op->resv_id, &op->res); /* sites: same group commit */
	r = store_command_add(svc_store(s), &row, &op->res.log_id);
	if (r < 0) {
		log_err("command %s to %s: cannot log it: %d", svc_cmd_kind_name(op->kind),
			op->station, r);
		op->res.status = SVC_RES_STORE_FAILED;
		op->res.log_id = 0;
	}
	/* the dashboards hear of it after the same commit (events.h) */
	{
		struct svc_event ev = {.kind = SVC_EV_COMMAND, .log_id = op->res.log_id};

		snprintf(ev.station, sizeof(ev.station), "%s", op->station);
		snprintf(ev.detail, sizeof(ev.detail), "%s", svc_cmd_kind_name(op->kind));
		snprintf(ev.status, sizeof(ev.status), "%s", svc_cmd_status_name(op->res.status));
		svc_event_post(s, &ev);
	}
	/* Answered at the next group commit, which makes the row durable (svc_cmd_release). */
	op->next = NULL;
	if (c->wait_tail)
		c->wait_tail->next = op;
	else
		c->wait_head = op;
	c->wait_tail = op;
	c->n_wait++;
}

int svc_cmd_send(struct svc *s, const char *station_id, const struct svc_cmd *cmd, const char *who,
		 svc_cmd_done_fn done, void *ud)
{
	struct svc_cmds *c = cmds_of(s);
	struct store_station st;
	struct svc_cmd local;
	struct cmd_op *op;
	int r;

	if (!c)
		return -ENOMEM;
	if (!c->ops || !c->ops->send)
		return -ENOLINK;
	if (cmd->kind < 0 || cmd->kind >= _SVC_CMD_KIND_MAX ||
	    (cmd->kind == SVC_CMD_RAW && (!cmd->raw.action || !*cmd->raw.action)) ||
	    (cmd->kind == SVC_CMD_SET_V2G_MODE &&
	     (!svc_op_mode_name(cmd->v2g.mode) || cmd->evse_id < 1 || cmd->session_id < 1)))
		return -EINVAL;
	r = store_station_get(svc_store(s), station_id, &st);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EIO;
	local = *cmd;
	if (local.kind == SVC_CMD_REMOTE_STOP || local.kind == SVC_CMD_SET_V2G_MODE ||
	    (local.kind == SVC_CMD_SET_PROFILE && local.profile.purpose == SVC_PURPOSE_TX &&
	     local.session_id)) {
		char owner[STATION_ID_MAX + 1];
		struct tx_id_ud t = {local.station_tx_id, sizeof(local.station_tx_id)};
		bool active;
		int evse;

		r = store_session_owner(svc_store(s), local.session_id, owner, &evse, &active);
		if (r == -ENOENT || (r == 0 && strcmp(owner, station_id) != 0))
			return -ESRCH;
		if (r < 0)
			return -EIO;
		r = store_session_get(svc_store(s), local.session_id, copy_tx_id, &t);
		if (r < 0)
			return r == -ENOENT ? -ESRCH : -EIO;
	}
	if ((local.kind == SVC_CMD_REMOTE_START || local.kind == SVC_CMD_GET_PROFILES) &&
	    !local.request_id)
		local.request_id = ++c->next_request_id;
	r = svc__resv_sending(s, station_id, &local); /* sites: reservations tracked */
	if (r < 0)
		return r;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->svc = s;
	op->done = done;
	op->ud = ud;
	op->kind = local.kind;
	op->resv_id = local.reservation_id;
	snprintf(op->station, sizeof(op->station), "%s", station_id);
	snprintf(op->who, sizeof(op->who), "%s", who ? who : "system");
	if (local.kind == SVC_CMD_RAW)
		snprintf(op->action, sizeof(op->action), "%s", local.raw.action);
	svc_cmd_summary(&local, op->summary, sizeof(op->summary));
	utf8_scrub(op->summary);
	op->sent_ms = svc_now_ms(s);
	r = c->ops->send(c->impl, station_id, &local, on_link_done, op);
	if (r < 0) {
		struct svc_cmd_result fr = {.status = SVC_RES_FAILED};

		svc__resv_answered(s, op->kind, op->resv_id, &fr);
		op_free(op);
		return r;
	}
	return 0;
}

void svc_cmd_release(struct svc *s, bool committed)
{
	svc_cmd_release_n(s, committed, SIZE_MAX);
}

void svc_cmd_release_n(struct svc *s, bool committed, size_t n)
{
	struct svc_cmds *c = s ? *svc__cmds(s) : NULL;
	struct cmd_op *op, *last;

	if (!c || !c->wait_head || !n)
		return;
	op = last = c->wait_head;
	/* detach the n oldest first: done() may queue new ones */
	for (size_t i = 1; i < n && last->next; i++)
		last = last->next;
	c->wait_head = last->next;
	if (!c->wait_head)
		c->wait_tail = NULL;
	last->next = NULL;
	for (struct cmd_op *o = op; o; o = o->next)
		c->n_wait--;
	while (op) {
		struct cmd_op *next = op->next;

		if (!committed) {
			op->res.status = SVC_RES_STORE_FAILED;
			op->res.log_id = 0;
		}
		op->done(op->ud, &op->res);
		op_free(op);
		op = next;
	}
}
