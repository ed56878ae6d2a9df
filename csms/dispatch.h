/* SPDX-License-Identifier: MIT */
/* The dispatcher: a charger's CALL and its context in, a CALLRESULT payload or a CALLERROR out.
 * Pure: no I/O, no connection, no transport. The server (conn.c), the unit tests
 * (tests/unit/csms/test_dispatch.c) and the fuzzer (tests/fuzz/fuzz_dispatch.c) run this one
 * function. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ocpp.h"

struct adapter;
struct cfg;
struct svc;
struct chg_station;

/* Nesting deeper than this in a charger's payload is refused before schema validation. */
#define DISPATCH_MAX_DEPTH 16

/* What a CALL is answered with. All pointers are borrowed for the call. */
struct dispatch_ctx {
	const struct ocpp_catalog *catalog; /* the station's version */
	const struct adapter *adapter;	    /* its action table is what this CSMS supports */
	const struct cfg *cfg;		    /* max_list_items; handlers read the rest */
	struct svc *svc;
	struct chg_station *st; /* the calling station */
};

struct dispatch_reply {
	json_t *payload;   /* the CALLRESULT payload (new reference), NULL with a CALLERROR */
	enum ocpp_err err; /* OCPP_ERR_NONE with a payload, else the CALLERROR code */
	char desc[160];	   /* the CALLERROR description ("" with a payload) */
	bool durable;	   /* the result acknowledges stored data: send it after the group commit */
};

/*
** Answer the charger's CALL fr (fr->type must be OCPP_CALL). Fills *ret_reply whatever the
** outcome and returns ret_reply->err. The checks, in order:
**   unknown action -> NotImplemented; known but not charger-initiated, or no handler in the
**   adapter's table -> NotSupported (the adapter's table is the one list of supported
**   charger-initiated actions; ocpp_msg_def.supported is not read for them);
**   an array over cfg->max_list_items -> OccurrenceConstraintViolation (1.6:
**   OccurenceConstraintViolation); nesting deeper than DISPATCH_MAX_DEPTH ->
**   FormationViolation (2.0.1: FormatViolation);
**   the request schema -> its error code (ocpp_schema_validate);
**   a station not Accepted may only send BootNotification -> SecurityError;
**   the handler's error -> its code; our own answer breaking the response schema ->
**   InternalError (logged: a bug here, not the charger's).
** The caller owns ret_reply->payload (json_decref).
*/
enum ocpp_err dispatch_call(const struct dispatch_ctx *ctx, const struct ocpp_frame *fr,
			    struct dispatch_reply *ret_reply);

/*
** Check the charger's CALLRESULT payload to our call of action against the response schema of
** catalog. Returns OCPP_ERR_NONE or the error, with "path: rule" in desc (as
** ocpp_catalog_validate).
*/
enum ocpp_err dispatch_check_answer(const struct ocpp_catalog *catalog, const char *action,
				    const json_t *payload, char *desc, size_t desc_len);
