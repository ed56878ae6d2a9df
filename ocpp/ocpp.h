/* SPDX-License-Identifier: MIT */
/* OCPP-J framing, CALLERROR codes, the per-version message catalogue and schema validation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---------------------------------------------------------------- versions */

enum ocpp_version { OCPP_V16, OCPP_V201, _OCPP_VERSION_MAX };

/*
** The WebSocket subprotocol name of v: "ocpp1.6" or "ocpp2.0.1".
** Returns a static string, or NULL when v is out of range.
*/
const char *ocpp_version_name(enum ocpp_version v);

/*
** The version whose subprotocol name is exactly subprotocol (case-sensitive, as
** RFC 6455 compares tokens). Returns the enum value, or -EINVAL (also for NULL).
*/
int ocpp_version_from_name(const char *subprotocol);

/* ---------------------------------------------------------------- errors */

enum ocpp_msg_type { OCPP_CALL = 2, OCPP_CALLRESULT = 3, OCPP_CALLERROR = 4 };

/* OCPP-J: a message id is a string of at most 36 characters. */
#define OCPP_ID_MAX 36

enum ocpp_err {
	OCPP_ERR_NONE = 0,
	OCPP_ERR_NOT_IMPLEMENTED,
	OCPP_ERR_NOT_SUPPORTED,
	OCPP_ERR_INTERNAL,
	OCPP_ERR_PROTOCOL,
	OCPP_ERR_SECURITY,
	OCPP_ERR_FORMATION,
	OCPP_ERR_PROPERTY_CONSTRAINT,
	OCPP_ERR_OCCURRENCE_CONSTRAINT,
	OCPP_ERR_TYPE_CONSTRAINT,
	OCPP_ERR_GENERIC,
	OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED,
	OCPP_ERR_RPC_FRAMEWORK,
	_OCPP_ERR_MAX
};

/*
** The CALLERROR errorCode spelling of e for version v (docs/wire.md has the table).
** 1.6 spells "FormationViolation" and "OccurenceConstraintViolation" (sic); 2.0.1
** "FormatViolation" and "OccurrenceConstraintViolation". MESSAGE_TYPE_NOT_SUPPORTED
** and RPC_FRAMEWORK exist only in 2.0.1 and are sent as "ProtocolError" in 1.6.
** Returns a static string, or NULL for OCPP_ERR_NONE or an out-of-range argument.
*/
const char *ocpp_err_name(enum ocpp_version v, enum ocpp_err e);

/*
** The code whose wire spelling is name, accepting both versions' spellings (so a
** 1.6 peer's "FormationViolation" and a 2.0.1 peer's "FormatViolation" both give
** OCPP_ERR_FORMATION). "ProtocolError" gives OCPP_ERR_PROTOCOL.
** Returns the enum value, or -EINVAL for NULL or an unknown name.
*/
int ocpp_err_from_name(const char *name);

/* ---------------------------------------------------------------- framing */

struct ocpp_frame {
	enum ocpp_msg_type type;
	char id[OCPP_ID_MAX + 1];
	const char *action;    /* CALL: borrowed from root */
	const json_t *payload; /* CALL/CALLRESULT payload (object); CALLERROR details (object) */
	const char *err_code;  /* CALLERROR: borrowed from root */
	const char *err_desc;  /* CALLERROR: borrowed from root */
	json_t *root;	       /* owned; released by ocpp_frame_release */
};

struct ocpp_parse_error {
	enum ocpp_err code;	  /* FORMATION, MESSAGE_TYPE_NOT_SUPPORTED or RPC_FRAMEWORK */
	char id[OCPP_ID_MAX + 1]; /* the message id if it could be read, else "-1" */
	bool is_call;		  /* the frame looked like a CALL (the peer expects a CALLERROR) */
	char desc[160];		  /* human-readable reason, valid UTF-8 */
};

/*
** Parse one complete WebSocket text frame of len bytes (buf need not be
** NUL-terminated) into *ret. Objects with duplicate keys are rejected.
** On success returns 0 and *ret owns the decoded JSON: release it with
** ocpp_frame_release(). On failure returns -EPROTO, leaves *ret untouched and
** fills *reterr (when not NULL): not JSON, not an array, wrong arity (CALL 4,
** CALLRESULT 3, CALLERROR 5 elements), action/errorCode/errorDescription not a
** string or payload/details not an object -> FORMATION; message type not the
** integer 2, 3 or 4 -> MESSAGE_TYPE_NOT_SUPPORTED; id not a string of 1..36
** characters -> RPC_FRAMEWORK with id "-1". The id is recovered whenever
** element 1 is a valid id, so the CALLERROR can echo it.
*/
int ocpp_frame_parse(const char *buf, size_t len, struct ocpp_frame *ret,
		     struct ocpp_parse_error *reterr);

/* Drop the JSON a parsed frame owns and clear *f. NULL-safe, idempotent. */
void ocpp_frame_release(struct ocpp_frame *f);

/*
** Serialize [2, id, action, payload]. payload is borrowed; NULL means {}.
** Returns a malloc'd NUL-terminated compact JSON string the caller frees, with
** its length (without the NUL) in *ret_len when ret_len is not NULL. Returns
** NULL on ENOMEM or bad arguments (id not a string of 1..36 characters, action
** NULL, strings not UTF-8, payload not an object).
*/
char *ocpp_frame_call(const char *id, const char *action, const json_t *payload, size_t *ret_len);

/* Serialize [3, id, payload]; otherwise as ocpp_frame_call(). */
char *ocpp_frame_result(const char *id, const json_t *payload, size_t *ret_len);

/*
** Serialize [4, id, code, desc, {}] with code spelled for version v. id may be
** "-1" (the id of the offending message could not be read). desc NULL means "";
** bytes of desc that are not valid UTF-8 are replaced by '?'. Returns as
** ocpp_frame_call(); NULL also when code is OCPP_ERR_NONE or out of range.
*/
char *ocpp_frame_error(enum ocpp_version v, const char *id, enum ocpp_err code, const char *desc,
		       size_t *ret_len);

/* ---------------------------------------------------------------- catalogue */

enum ocpp_dir { OCPP_CP_TO_CS = 1, OCPP_CS_TO_CP = 2 };

struct ocpp_catalog; /* one per version; owns the parsed schemas */

struct ocpp_msg_def {
	const char *action;
	unsigned dir;		  /* mask of enum ocpp_dir: who sends the request */
	bool supported;		  /* listed in DESIGN.md §5; false = known but NotSupported */
	const json_t *req_schema; /* borrowed from the catalog */
	const json_t *conf_schema;
};

/*
** Parse the schemas of version v embedded at build time and pair them with the
** static action table. Returns a new catalogue (free with ocpp_catalog_destroy),
** or NULL on ENOMEM, a bad version, or a schema that is missing or not JSON.
** A catalogue is read-only after creation and may be shared by all connections.
*/
struct ocpp_catalog *ocpp_catalog_create(enum ocpp_version v);

/* Free c and its schemas; NULL-safe. Borrowed definitions die with it. */
void ocpp_catalog_destroy(struct ocpp_catalog *c);

/* The version c was created for. */
enum ocpp_version ocpp_catalog_version(const struct ocpp_catalog *c);

/* The definition of action (exact, case-sensitive), or NULL for an unknown action. */
const struct ocpp_msg_def *ocpp_catalog_find(const struct ocpp_catalog *c, const char *action);

/* The number of actions c knows (supported or not). */
size_t ocpp_catalog_count(const struct ocpp_catalog *c);

/* The i-th definition in strcmp order of action, or NULL when i >= count. */
const struct ocpp_msg_def *ocpp_catalog_at(const struct ocpp_catalog *c, size_t i);

/*
** Validate payload against the request (response=false) or response schema of
** action. Returns OCPP_ERR_NONE or the error (see ocpp_schema_validate); an
** unknown action gives OCPP_ERR_NOT_IMPLEMENTED. Whether the action is
** supported is not checked here (see ocpp_msg_def.supported). A human-readable
** description, "JSON path: rule" (e.g. "idTag: longer than 20"), is written to
** desc (always NUL-terminated, valid UTF-8) when desc_len > 0.
*/
enum ocpp_err ocpp_catalog_validate(const struct ocpp_catalog *c, const char *action, bool response,
				    const json_t *payload, char *desc, size_t desc_len);

/*
** Validate value against schema, any node of the schema document root (which
** local "$ref"s resolve against). Supports the JSON-schema subset the official
** OCPP schemas use. The first error in a deterministic order (required
** properties, then the value's keys in document order, then array items) maps
** to: wrong JSON type -> TYPE_CONSTRAINT; missing required property,
** minItems/maxItems -> OCCURRENCE_CONSTRAINT; enum, maxLength (in code points),
** minimum/maximum, multipleOf, format date-time/uri -> PROPERTY_CONSTRAINT;
** property not allowed by additionalProperties:false, nesting deeper than 32 or
** a NULL value -> FORMATION; a broken schema -> INTERNAL. desc as above.
*/
enum ocpp_err ocpp_schema_validate(enum ocpp_version v, const json_t *root, const json_t *schema,
				   const json_t *value, char *desc, size_t desc_len);

/*
** OCPP 2.1 messages this project carries on 1.6 and 2.0.1 inside a vendor DataTransfer
** (docs/swap.md). name is the 2.1 schema's name: "BatterySwapRequest", "BatterySwapResponse",
** "RequestBatterySwapRequest" or "RequestBatterySwapResponse" (embedded at build time from
** typed-ocpp's official 2.1 schemas). Validate payload as ocpp_schema_validate() does, the error
** codes named for version v. An unknown name gives OCPP_ERR_NOT_IMPLEMENTED; a schema that does
** not parse (or ENOMEM) OCPP_ERR_INTERNAL. desc as ocpp_catalog_validate().
*/
enum ocpp_err ocpp_v21_validate(enum ocpp_version v, const char *name, const json_t *payload,
				char *desc, size_t desc_len);

/* ---------------------------------------------------------------- JSON readers */

/*
** Member key of object o as a string, borrowed from o (valid while o lives), or
** NULL when o is NULL or not an object, key is absent, or the member is not a
** string.
*/
const char *ocpp_json_str(const json_t *o, const char *key);

/*
** Member key of object o as an integer. An integral real (5.0, which the schemas
** admit as an integer) is converted; a real with a fraction is truncated toward
** zero. Returns 0 when o is NULL or not an object, key is absent, the member is
** not a number, or it is a real outside the int64_t range (no error: callers
** that must tell 0 from absent check json_object_get() or validate first).
*/
int64_t ocpp_json_int(const json_t *o, const char *key);

/*
** The JSON-schema name of v's type: "object", "array", "string", "integer",
** "number" (a real), "boolean" or "null"; "?" for NULL. Returns a static string,
** for error texts such as "expected string, got integer".
*/
const char *ocpp_json_type_name(const json_t *v);

/*
** json_object_foreach() over a borrowed const object: value may be a const json_t *.
** jansson's iterator functions take json_t * although iterating does not modify the
** object; ocpp__json_iterable() drops the const for them in this one place. Never use
** it to modify the object.
*/
static inline json_t *ocpp__json_iterable(const json_t *o)
{
	union {
		const json_t *c;
		json_t *m;
	} u = {.c = o};

	return u.m;
}

#define ocpp_json_object_foreach(object, key, value)                                               \
	json_object_foreach(ocpp__json_iterable(object), key, value)

/* ---------------------------------------------------------------- time */

/* Length of the text ocpp_time_format() writes, without the NUL. */
#define OCPP_TIME_LEN 24

/*
** Parse an RFC 3339 date-time ("2026-11-23T10:00:00.000Z", "…T12:00:00+02:00";
** 'T' and 'Z' case-insensitive, any number of fraction digits, truncated to
** milliseconds; leap second 60 accepted) into milliseconds since the epoch, UTC.
** Returns 0 and sets *ret_ms, or -EINVAL (out of range, no offset, trailing text).
*/
int ocpp_time_parse(const char *s, int64_t *ret_ms);

/*
** Format ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (len >= 25).
** Returns the length written (24), or 0 when len is too small or the year is
** outside 0000..9999 (then buf holds "" if len > 0).
*/
size_t ocpp_time_format(int64_t ms, char *buf, size_t len);
