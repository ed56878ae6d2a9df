/* SPDX-License-Identifier: MIT */
/* OCPP-J framing: parse and build [2,id,action,payload], [3,id,payload], [4,id,code,desc,{}]. */
#include "ocpp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp-private.h"

/* ---------------------------------------------------------------- parsing */

static void set_error(struct ocpp_parse_error *reterr, enum ocpp_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct ocpp_parse_error *reterr, enum ocpp_err code, const char *fmt, ...)
{
	va_list ap;

	if (!reterr)
		return;
	reterr->code = code;
	va_start(ap, fmt);
	vsnprintf(reterr->desc, sizeof(reterr->desc), fmt, ap);
	va_end(ap);
	/* a truncated desc, or jansson's text quoting the bad input, may not be UTF-8 */
	ocpp__utf8_trim(reterr->desc);
}

/* A message id: OCPP-J, a string of 1..36 characters (we count bytes, the stricter reading). */
static const char *valid_id(const json_t *v)
{
	size_t n;

	if (!json_is_string(v))
		return NULL;
	n = json_string_length(v);
	if (n == 0 || n > OCPP_ID_MAX || memchr(json_string_value(v), '\0', n))
		return NULL;
	return json_string_value(v);
}

/*
** Fill the id and is_call of *reterr from a decoded frame, as far as they can be
** read: element 0 is the integer 2, element 1 a valid id.
*/
static void recover(const json_t *root, struct ocpp_parse_error *reterr)
{
	const json_t *t;
	const char *id;

	if (!reterr || !json_is_array(root))
		return;
	t = json_array_get(root, 0);
	reterr->is_call = json_is_integer(t) && json_integer_value(t) == OCPP_CALL;
	id = valid_id(json_array_get(root, 1));
	if (id)
		memcpy(reterr->id, id, strlen(id) + 1);
}

int ocpp_frame_parse(const char *buf, size_t len, struct ocpp_frame *ret,
		     struct ocpp_parse_error *reterr)
{
	json_error_t jerr;
	json_t *root;
	const json_t *t;
	size_t arity, n;
	json_int_t type;
	const char *id;
	struct ocpp_frame f = {0};

	if (reterr) {
		memset(reterr, 0, sizeof(*reterr));
		strcpy(reterr->id, "-1");
	}

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		json_t *lax;

		set_error(reterr, OCPP_ERR_FORMATION, "invalid JSON: %s at %d", jerr.text,
			  jerr.position);
		/* duplicate keys: still echo the id if the frame is otherwise readable */
		lax = json_loadb(buf, len, 0, NULL);
		recover(lax, reterr);
		json_decref(lax);
		return -EPROTO;
	}
	recover(root, reterr);

	if (!json_is_array(root)) {
		set_error(reterr, OCPP_ERR_FORMATION, "frame is not an array but %s",
			  ocpp_json_type_name(root));
		goto fail;
	}
	n = json_array_size(root);
	if (n == 0) {
		set_error(reterr, OCPP_ERR_FORMATION, "empty array");
		goto fail;
	}
	t = json_array_get(root, 0);
	if (!json_is_integer(t)) {
		set_error(reterr, OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED,
			  "message type is %s, not an integer", ocpp_json_type_name(t));
		goto fail;
	}
	type = json_integer_value(t);
	switch (type) {
	case OCPP_CALL:
		arity = 4;
		break;
	case OCPP_CALLRESULT:
		arity = 3;
		break;
	case OCPP_CALLERROR:
		arity = 5;
		break;
	default:
		set_error(reterr, OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED,
			  "message type %" JSON_INTEGER_FORMAT " unknown", type);
		goto fail;
	}
	if (n != arity) {
		set_error(reterr, OCPP_ERR_FORMATION, "message type %d needs %zu elements, got %zu",
			  (int)type, arity, n);
		goto fail;
	}
	id = valid_id(json_array_get(root, 1));
	if (!id) {
		t = json_array_get(root, 1);
		if (json_is_string(t))
			set_error(reterr, OCPP_ERR_RPC_FRAMEWORK,
				  "message id must be 1..%d characters, got %zu", OCPP_ID_MAX,
				  json_string_length(t));
		else
			set_error(reterr, OCPP_ERR_RPC_FRAMEWORK, "message id is %s, not a string",
				  ocpp_json_type_name(t));
		goto fail;
	}

	f.type = (enum ocpp_msg_type)type;
	memcpy(f.id, id, strlen(id) + 1);
	switch (f.type) {
	case OCPP_CALL:
		t = json_array_get(root, 2);
		if (!json_is_string(t)) {
			set_error(reterr, OCPP_ERR_FORMATION, "action is %s, not a string",
				  ocpp_json_type_name(t));
			goto fail;
		}
		f.action = json_string_value(t);
		f.payload = json_array_get(root, 3);
		break;
	case OCPP_CALLRESULT:
		f.payload = json_array_get(root, 2);
		break;
	case OCPP_CALLERROR:
		t = json_array_get(root, 2);
		if (!json_is_string(t)) {
			set_error(reterr, OCPP_ERR_FORMATION, "errorCode is %s, not a string",
				  ocpp_json_type_name(t));
			goto fail;
		}
		f.err_code = json_string_value(t);
		t = json_array_get(root, 3);
		if (!json_is_string(t)) {
			set_error(reterr, OCPP_ERR_FORMATION,
				  "errorDescription is %s, not a string", ocpp_json_type_name(t));
			goto fail;
		}
		f.err_desc = json_string_value(t);
		f.payload = json_array_get(root, 4);
		break;
	}
	if (!json_is_object(f.payload)) {
		set_error(reterr, OCPP_ERR_FORMATION, "%s is %s, not an object",
			  f.type == OCPP_CALLERROR ? "errorDetails" : "payload",
			  ocpp_json_type_name(f.payload));
		goto fail;
	}
	f.root = root;
	*ret = f;
	return 0;

fail:
	json_decref(root);
	return -EPROTO;
}

void ocpp_frame_release(struct ocpp_frame *f)
{
	if (!f)
		return;
	json_decref(f->root);
	memset(f, 0, sizeof(*f));
}

/* ---------------------------------------------------------------- serializing */

/* A growable output buffer; oom latches the first allocation failure. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	struct sbuf *b = data;

	sbuf_put(b, buffer, size);
	return b->oom ? -1 : 0;
}

/* Append value as compact JSON; json_string() style UTF-8 checking is up to the caller. */
static void sbuf_json(struct sbuf *b, const json_t *value)
{
	if (b->oom)
		return;
	if (json_dump_callback(value, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) < 0)
		b->oom = true;
}

/* Append s as a JSON string literal; false if s is not valid UTF-8 (or ENOMEM). */
static bool sbuf_str(struct sbuf *b, const char *s)
{
	json_t *js = json_string(s);

	if (!js)
		return false;
	sbuf_json(b, js);
	json_decref(js);
	return !b->oom;
}

static char *sbuf_finish(struct sbuf *b, bool ok, size_t *ret_len)
{
	if (!ok || b->oom) {
		free(b->p);
		return NULL;
	}
	if (ret_len)
		*ret_len = b->len;
	return b->p;
}

/* The id of an outgoing frame; "-1" passes (CALLERROR for an unreadable id). */
static bool id_ok(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strlen(id);
	return n > 0 && n <= OCPP_ID_MAX;
}

static bool payload_ok(const json_t *payload)
{
	return !payload || json_is_object(payload);
}

static void sbuf_payload(struct sbuf *b, const json_t *payload)
{
	if (payload)
		sbuf_json(b, payload);
	else
		sbuf_put(b, "{}", 2);
}

char *ocpp_frame_call(const char *id, const char *action, const json_t *payload, size_t *ret_len)
{
	struct sbuf b = {0};
	bool ok = id_ok(id) && action && payload_ok(payload);

	if (ok) {
		sbuf_put(&b, "[2,", 3);
		ok = sbuf_str(&b, id);
		sbuf_put(&b, ",", 1);
		ok = ok && sbuf_str(&b, action);
		sbuf_put(&b, ",", 1);
		sbuf_payload(&b, payload);
		sbuf_put(&b, "]", 1);
	}
	return sbuf_finish(&b, ok, ret_len);
}

char *ocpp_frame_result(const char *id, const json_t *payload, size_t *ret_len)
{
	struct sbuf b = {0};
	bool ok = id_ok(id) && payload_ok(payload);

	if (ok) {
		sbuf_put(&b, "[3,", 3);
		ok = sbuf_str(&b, id);
		sbuf_put(&b, ",", 1);
		sbuf_payload(&b, payload);
		sbuf_put(&b, "]", 1);
	}
	return sbuf_finish(&b, ok, ret_len);
}

char *ocpp_frame_error(enum ocpp_version v, const char *id, enum ocpp_err code, const char *desc,
		       size_t *ret_len)
{
	struct sbuf b = {0};
	const char *name = ocpp_err_name(v, code);
	bool ok = id_ok(id) && name;
	json_t *jdesc = NULL;

	if (ok) {
		size_t n = desc ? strlen(desc) : 0;

		if (ocpp__utf8_valid_prefix(desc, n) == n) {
			jdesc = json_stringn(desc ? desc : "", n);
		} else {
			char *copy = malloc(n + 1);

			if (copy) {
				/* replace each byte that starts no valid sequence by '?' */
				for (size_t i = 0; i < n;) {
					size_t k = ocpp__utf8_valid_prefix(desc + i, n - i);

					memcpy(copy + i, desc + i, k);
					i += k;
					if (i < n)
						copy[i++] = '?';
				}
				jdesc = json_stringn(copy, n);
				free(copy);
			}
		}
		ok = jdesc != NULL;
	}
	if (ok) {
		sbuf_put(&b, "[4,", 3);
		ok = sbuf_str(&b, id);
		sbuf_put(&b, ",", 1);
		ok = ok && sbuf_str(&b, name);
		sbuf_put(&b, ",", 1);
		sbuf_json(&b, jdesc);
		sbuf_put(&b, ",{}]", 4);
	}
	json_decref(jdesc);
	return sbuf_finish(&b, ok, ret_len);
}
