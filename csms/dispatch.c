/* SPDX-License-Identifier: MIT */
/* The one dispatcher of a charger's CALL: catalogue, limits, schema both ways, registration
 * gate, adapter call. */
#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#include "adapter.h"
#include "core/cfg.h"
#include "core/log.h"
#include "svc/svc.h"

/* Field-proven defence: no array a charger sends may exceed max_list_items (an
 * OccurrenceConstraintViolation), and no payload nests deeper than DISPATCH_MAX_DEPTH (a
 * FormationViolation, docs/wire.md; the schema validator recurses). */
static enum ocpp_err within_caps(const json_t *v, size_t max_items, int depth)
{
	enum ocpp_err e;
	size_t i;
	const char *k;
	json_t *x;

	if (depth > DISPATCH_MAX_DEPTH)
		return OCPP_ERR_FORMATION;
	if (json_is_array(v)) {
		if (json_array_size(v) > max_items)
			return OCPP_ERR_OCCURRENCE_CONSTRAINT;
		json_array_foreach(v, i, x)
			if ((e = within_caps(x, max_items, depth + 1)) != OCPP_ERR_NONE)
				return e;
	} else if (json_is_object(v)) {
		ocpp_json_object_foreach(v, k, x)
			if ((e = within_caps(x, max_items, depth + 1)) != OCPP_ERR_NONE)
				return e;
	}
	return OCPP_ERR_NONE;
}

static enum ocpp_err fail(struct dispatch_reply *rep, enum ocpp_err err, const char *desc)
{
	json_decref(rep->payload);
	rep->payload = NULL;
	rep->durable = false;
	rep->err = err;
	if (desc != rep->desc)
		snprintf(rep->desc, sizeof(rep->desc), "%s", desc);
	return err;
}

enum ocpp_err dispatch_call(const struct dispatch_ctx *ctx, const struct ocpp_frame *fr,
			    struct dispatch_reply *ret_reply)
{
	const struct ocpp_msg_def *def = ocpp_catalog_find(ctx->catalog, fr->action);
	struct call_ctx call = {.svc = ctx->svc,
				.cfg = ctx->cfg,
				.st = ctx->st,
				.action = fr->action,
				.err = OCPP_ERR_INTERNAL};
	struct dispatch_reply *rep = ret_reply;
	adapter_handler_fn fn;
	enum ocpp_err e;

	*rep = (struct dispatch_reply){.err = OCPP_ERR_NONE};
	if (!def)
		return fail(rep, OCPP_ERR_NOT_IMPLEMENTED, "unknown action");
	fn = ctx->adapter && (def->dir & OCPP_CP_TO_CS) ? ctx->adapter->find(fr->action) : NULL;
	if (!fn)
		return fail(rep, OCPP_ERR_NOT_SUPPORTED, "action not supported by this CSMS");
	e = within_caps(fr->payload, (size_t)ctx->cfg->max_list_items, 0);
	if (e != OCPP_ERR_NONE)
		return fail(rep, e,
			    e == OCPP_ERR_FORMATION ? "payload nested too deep"
						    : "a list exceeds max_list_items");
	e = ocpp_catalog_validate(ctx->catalog, fr->action, false, fr->payload, rep->desc,
				  sizeof(rep->desc));
	if (e != OCPP_ERR_NONE)
		return fail(rep, e, rep->desc);
	/* Before the CSMS accepted it, a station may only boot (OCPP 1.6 4.2, 2.0.1 B02.FR.09). */
	if (ctx->st->registration != REG_ACCEPTED && strcmp(fr->action, "BootNotification") != 0)
		return fail(rep, OCPP_ERR_SECURITY, "station is not accepted");
	if (fn(&call, fr->payload, &rep->payload) < 0 || !rep->payload)
		return fail(rep, call.err != OCPP_ERR_NONE ? call.err : OCPP_ERR_INTERNAL,
			    call.err_desc[0] ? call.err_desc : "internal error");
	e = ocpp_catalog_validate(ctx->catalog, fr->action, true, rep->payload, rep->desc,
				  sizeof(rep->desc));
	if (e != OCPP_ERR_NONE) {
		log_err("[cp %s] our %s answer breaks the schema: %s", ctx->st->id, fr->action,
			rep->desc);
		return fail(rep, OCPP_ERR_INTERNAL, "internal error");
	}
	rep->desc[0] = '\0';
	/* Every answer of a handler may acknowledge what it stored: it waits for the commit. */
	rep->durable = true;
	return OCPP_ERR_NONE;
}

enum ocpp_err dispatch_check_answer(const struct ocpp_catalog *catalog, const char *action,
				    const json_t *payload, char *desc, size_t desc_len)
{
	return ocpp_catalog_validate(catalog, action, true, payload, desc, desc_len);
}
