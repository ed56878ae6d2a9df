/* SPDX-License-Identifier: MIT */
/* svc's link to stations connected to this node: find the connection, let the station's
 * adapter encode the domain command, check it against the catalogue, call, decode the answer. */
#include "link_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "conn.h"
#include "core/log.h"
#include "svc/link.h"
#include "svc/svc.h"

/* One command on the wire, until the connection reports its outcome. */
struct link_call {
	svc_link_done_fn done;
	void *ud;
	const struct adapter *adapter;
	char action[48];
};

static void fail(svc_link_done_fn done, void *ud, int status, const char *action, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));
static void fail(svc_link_done_fn done, void *ud, int status, const char *action, const char *fmt,
		 ...)
{
	struct svc_cmd_result res = {.status = status};
	va_list ap;

	snprintf(res.action, sizeof(res.action), "%s", action ? action : "");
	va_start(ap, fmt);
	vsnprintf(res.detail, sizeof(res.detail), fmt, ap);
	va_end(ap);
	done(ud, &res);
}

static void on_answer(void *ud, int status, const json_t *payload, const char *code,
		      const char *desc)
{
	struct link_call *k = ud;
	struct svc_cmd_result res = {.status = SVC_RES_DISCONNECTED};
	char *text = NULL;

	snprintf(res.action, sizeof(res.action), "%s", k->action);
	snprintf(res.code, sizeof(res.code), "%s", code ? code : "");
	snprintf(res.detail, sizeof(res.detail), "%s", desc ? desc : "");
	switch (status) {
	case 0:
		k->adapter->decode_result(k->action, payload, &res);
		text = json_dumps(payload, JSON_COMPACT);
		break;
	case 1:
		res.status = SVC_RES_CALL_ERROR;
		break;
	case -EPROTO:
		res.status = SVC_RES_BAD_ANSWER;
		text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
		break;
	case -ETIMEDOUT:
		res.status = SVC_RES_TIMEOUT;
		break;
	case -ENOMEM:
		res.status = SVC_RES_FAILED;
		break;
	default: /* -ECONNRESET */
		res.status = SVC_RES_DISCONNECTED;
		break;
	}
	res.payload = text;
	k->done(k->ud, &res);
	free(text);
	free(k);
}

/* The raw path: the action must be one the CSMS sends in this version; the body is its payload. */
static int raw_payload(const struct conn *c, const struct svc_cmd *cmd, svc_link_done_fn done,
		       void *ud, json_t **ret_payload)
{
	const char *action = cmd->raw.action;
	const struct ocpp_msg_def *def = ocpp_catalog_find(c->catalog, action);
	json_error_t jerr;
	json_t *payload;
	char desc[160];
	enum ocpp_err e;

	if (!def || !(def->dir & OCPP_CS_TO_CP) || !def->supported) {
		fail(done, ud, SVC_RES_INVALID, action, "%s is not a CSMS-initiated action of %s",
		     action, ocpp_version_name(c->version));
		return -EINVAL;
	}
	payload =
	    json_loads(cmd->raw.payload ? cmd->raw.payload : "", JSON_REJECT_DUPLICATES, &jerr);
	if (!payload || !json_is_object(payload)) {
		fail(done, ud, SVC_RES_INVALID, action, "body: %s",
		     payload ? "expected a JSON object" : jerr.text);
		json_decref(payload);
		return -EINVAL;
	}
	e = ocpp_catalog_validate(c->catalog, action, false, payload, desc, sizeof(desc));
	if (e != OCPP_ERR_NONE) {
		json_decref(payload);
		fail(done, ud, SVC_RES_INVALID, action, "%s payload: %s (%s)", action, desc,
		     ocpp_err_name(c->version, e));
		return -EINVAL;
	}
	*ret_payload = payload;
	return 0;
}

static int link_send(void *impl, const char *station_id, const struct svc_cmd *cmd,
		     svc_link_done_fn done, void *ud)
{
	struct chg_station *st = svc_station_find(impl, station_id);
	struct conn *c = st ? st->conn : NULL;
	const char *action;
	json_t *payload = NULL;
	struct link_call *k;
	char desc[160];
	enum ocpp_err e;
	int r;

	if (!c || c->closing || !c->adapter) {
		fail(done, ud, SVC_RES_NOT_CONNECTED, NULL, "station %s is not connected",
		     station_id);
		return 0;
	}
	if (cmd->kind == SVC_CMD_RAW) {
		if (raw_payload(c, cmd, done, ud, &payload) < 0)
			return 0;
		action = cmd->raw.action;
	} else {
		r = c->adapter->encode_cmd(cmd, &action, &payload);
		if (r == -ENOMEM)
			return r;
		if (r == -EOPNOTSUPP) {
			fail(done, ud, SVC_RES_UNSUPPORTED, NULL, "OCPP %s has no message for %s",
			     ocpp_version_name(c->version), svc_cmd_kind_name(cmd->kind));
			return 0;
		}
		if (r < 0) {
			fail(done, ud, SVC_RES_FAILED, NULL, "cannot encode the command");
			return 0;
		}
		e = ocpp_catalog_validate(c->catalog, action, false, payload, desc, sizeof(desc));
		if (e != OCPP_ERR_NONE) {
			json_decref(payload);
			fail(done, ud, SVC_RES_INVALID, action, "%s payload: %s", action, desc);
			return 0;
		}
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		json_decref(payload);
		return -ENOMEM;
	}
	k->done = done;
	k->ud = ud;
	k->adapter = c->adapter;
	snprintf(k->action, sizeof(k->action), "%s", action);
	r = conn_call(c, action, payload, on_answer, k);
	json_decref(payload);
	if (r == -ENOMEM) {
		free(k);
		return r;
	}
	if (r < 0) {
		fail(done, ud, r == -EBUSY ? SVC_RES_BUSY : SVC_RES_NOT_CONNECTED, k->action,
		     r == -EBUSY ? "too many commands queued for %s"
				 : "station %s is not connected",
		     station_id);
		free(k);
	}
	return 0;
}

const struct svc_link_ops link_conn_ops = {
    .version = 1,
    .send = link_send,
};
