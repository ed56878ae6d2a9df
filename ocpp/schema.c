/* SPDX-License-Identifier: MIT */
/* A validator for the JSON-schema (draft 6) subset the official OCPP 1.6 and 2.0.1 schemas use. */
#include "ocpp.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp-private.h"

/* Nesting limit of the validated value; deeper is a FormationViolation. */
#define SCHEMA_MAX_DEPTH 32
/* $ref chains longer than this are a broken (looping) schema. */
#define SCHEMA_MAX_REF_HOPS 8

struct vctx {
	enum ocpp_version v;
	const json_t *root;
	char *desc;
	size_t desc_len;
	char path[192]; /* "a.b[3].c" of the value being checked; empty at the payload */
	size_t path_len;
};

static enum ocpp_err fail(struct vctx *c, enum ocpp_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ocpp_err fail(struct vctx *c, enum ocpp_err code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->desc || c->desc_len == 0)
		return code;
	n = snprintf(c->desc, c->desc_len, "%s: ", c->path_len ? c->path : "payload");
	if (n >= 0 && (size_t)n < c->desc_len) {
		va_start(ap, fmt);
		vsnprintf(c->desc + n, c->desc_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	ocpp__utf8_trim(c->desc);
	return code;
}

/*
** Append ".key" (or "key" at the top) or "[i]" to the path; returns the old
** length for path_pop(). A path that does not fit ends in "..." instead.
*/
static size_t path_push(struct vctx *c, const char *key, size_t index)
{
	size_t old = c->path_len, room = sizeof(c->path) - old, len;
	char digits[24], *d = digits + sizeof(digits);
	int n;

	/* Every member of every valid payload passes here: no snprintf() when it fits (issue 12,
	 * CPU per MeterValues). */
	if (!key) {
		*--d = '\0';
		*--d = ']';
		do
			*--d = (char)('0' + index % 10);
		while ((index /= 10) && d > digits + 1);
		*--d = '[';
	}
	len = key ? strlen(key) + (old ? 1 : 0) : (size_t)(digits + sizeof(digits) - 1 - d);
	if (len < room) {
		if (key && old)
			c->path[old] = '.';
		memcpy(c->path + old + (key && old), key ? key : d, len - (key && old) + 1);
		c->path_len = old + len;
		return old;
	}
	if (key)
		n = snprintf(c->path + old, room, "%s%s", old ? "." : "", key);
	else
		n = snprintf(c->path + old, room, "%s", d);
	if (n < 0 || (size_t)n >= room) {
		c->path[sizeof(c->path) - 4] = '\0';
		ocpp__utf8_trim(c->path); /* do not cut a character in half */
		strcat(c->path, "...");
		c->path_len = strlen(c->path);
	} else {
		c->path_len = old + (size_t)n;
	}
	return old;
}

static void path_pop(struct vctx *c, size_t old)
{
	c->path_len = old;
	c->path[old] = '\0';
}

/* Resolve a local JSON pointer "#/a/b~1c" against the schema document. */
static const json_t *resolve_ref(const json_t *root, const char *ref)
{
	const json_t *node = root;
	const char *p;

	if (ref[0] != '#')
		return NULL; /* remote references do not occur in the OCPP schemas */
	p = ref + 1;
	while (*p) {
		char tok[128];
		size_t n = 0;

		if (*p != '/')
			return NULL;
		p++;
		while (*p && *p != '/') {
			char ch = *p++;

			if (ch == '~') {
				if (*p == '0')
					ch = '~';
				else if (*p == '1')
					ch = '/';
				else
					return NULL;
				p++;
			}
			if (n + 1 >= sizeof(tok))
				return NULL;
			tok[n++] = ch;
		}
		tok[n] = '\0';
		if (json_is_object(node)) {
			node = json_object_get(node, tok);
		} else if (json_is_array(node)) {
			char *end;
			unsigned long i = strtoul(tok, &end, 10);

			if (!n || *end)
				return NULL;
			node = json_array_get(node, i);
		} else {
			return NULL;
		}
		if (!node)
			return NULL;
	}
	return node;
}

/* Draft 6: an integer is any number with a zero fractional part (1.0 is an integer). A real
 * outside the 64-bit range is not: no OCPP integer field can hold it, and converting it to
 * int64_t would be undefined. */
static bool is_integral(const json_t *v)
{
	double d;

	if (json_is_integer(v))
		return true;
	if (!json_is_real(v))
		return false;
	d = json_real_value(v);
	return isfinite(d) && floor(d) == d && d >= -9223372036854775808.0 &&
	       d < 9223372036854775808.0;
}

static bool type_matches(const char *t, const json_t *v)
{
	if (strcmp(t, "object") == 0)
		return json_is_object(v);
	if (strcmp(t, "array") == 0)
		return json_is_array(v);
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "integer") == 0)
		return is_integral(v);
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	return false;
}

/* Unicode code points in a valid UTF-8 string: the bytes that do not continue a sequence. */
static size_t utf8_length(const char *s, size_t n)
{
	size_t cps = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			cps++;
	return cps;
}

/*
** RFC 3986 URI (absolute, as JSON-schema "uri" demands): a scheme, ':', then
** only characters a URI may contain, with '%' followed by two hex digits.
*/
static bool is_uri(const char *s)
{
	static const char allowed[] = "-._~:/?#[]@!$&'()*+,;=";
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	for (p++; *p != ':'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'))
			return false;
	for (p++; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (ch == '%') {
			for (int i = 1; i <= 2; i++) {
				char h = p[i];

				if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
				      (h >= 'A' && h <= 'F')))
					return false;
			}
			p += 2;
			continue;
		}
		if (ch == '\0' || !strchr(allowed, ch))
			return false;
	}
	return true;
}

/* A JSON number as a double. */
static double num(const json_t *v)
{
	return json_number_value(v);
}

static bool is_multiple(const json_t *v, const json_t *m)
{
	double q;

	if (json_is_integer(v) && json_is_integer(m) && json_integer_value(m) > 0)
		return json_integer_value(v) % json_integer_value(m) == 0;
	if (num(m) <= 0)
		return true; /* invalid schema value; ignore */
	q = num(v) / num(m);
	/* 32.3 / 0.1 is 322.99999999999994: allow for binary rounding */
	return fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q));
}

static enum ocpp_err validate(struct vctx *c, const json_t *schema, const json_t *value, int depth);

static enum ocpp_err check_type(struct vctx *c, const json_t *type, const json_t *value)
{
	char want[64] = "";
	size_t i;
	const json_t *t;

	if (json_is_string(type)) {
		if (type_matches(json_string_value(type), value))
			return OCPP_ERR_NONE;
		return fail(c, OCPP_ERR_TYPE_CONSTRAINT, "expected %s, got %s",
			    json_string_value(type), ocpp_json_type_name(value));
	}
	if (!json_is_array(type))
		return OCPP_ERR_NONE;
	json_array_foreach(type, i, t) {
		if (json_is_string(t) && type_matches(json_string_value(t), value))
			return OCPP_ERR_NONE;
		if (json_is_string(t) &&
		    strlen(want) + strlen(json_string_value(t)) + 5 < sizeof(want))
			strcat(strcat(want, i ? " or " : ""), json_string_value(t));
	}
	return fail(c, OCPP_ERR_TYPE_CONSTRAINT, "expected %s, got %s", want,
		    ocpp_json_type_name(value));
}

static enum ocpp_err check_string(struct vctx *c, const json_t *schema, const json_t *value)
{
	const json_t *k;
	const char *s = json_string_value(value);
	size_t n = json_string_length(value), cps = utf8_length(s, n);

	k = json_object_get(schema, "maxLength");
	if (json_is_integer(k) && (json_int_t)cps > json_integer_value(k))
		return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "longer than %" JSON_INTEGER_FORMAT,
			    json_integer_value(k));
	k = json_object_get(schema, "minLength");
	if (json_is_integer(k) && (json_int_t)cps < json_integer_value(k))
		return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "shorter than %" JSON_INTEGER_FORMAT,
			    json_integer_value(k));
	k = json_object_get(schema, "format");
	if (json_is_string(k)) {
		const char *f = json_string_value(k);
		int64_t ms;

		/* strlen: jansson strings may hold "\u0000" only with JSON_ALLOW_NUL */
		if (strcmp(f, "date-time") == 0 && (strlen(s) != n || ocpp_time_parse(s, &ms) < 0))
			return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "not an RFC 3339 date-time");
		if (strcmp(f, "uri") == 0 && (strlen(s) != n || !is_uri(s)))
			return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "not a URI");
	}
	return OCPP_ERR_NONE;
}

static enum ocpp_err check_number(struct vctx *c, const json_t *schema, const json_t *value)
{
	const json_t *k;

	k = json_object_get(schema, "minimum");
	if (json_is_number(k) && num(value) < num(k))
		return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "less than %g", num(k));
	k = json_object_get(schema, "maximum");
	if (json_is_number(k) && num(value) > num(k))
		return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "greater than %g", num(k));
	/* draft 6: exclusiveMinimum/Maximum are numbers */
	k = json_object_get(schema, "exclusiveMinimum");
	if (json_is_number(k) && num(value) <= num(k))
		return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "not greater than %g", num(k));
	k = json_object_get(schema, "exclusiveMaximum");
	if (json_is_number(k) && num(value) >= num(k))
		return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "not less than %g", num(k));
	k = json_object_get(schema, "multipleOf");
	if (json_is_number(k) && !is_multiple(value, k))
		return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "not a multiple of %g", num(k));
	return OCPP_ERR_NONE;
}

static enum ocpp_err check_object(struct vctx *c, const json_t *schema, const json_t *value,
				  int depth)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const json_t *req = json_object_get(schema, "required");
	const json_t *k, *member;
	const char *key;
	size_t i;

	/* OCPP-J: a missing required field is an OccurrenceConstraintViolation */
	json_array_foreach(req, i, k) {
		if (json_is_string(k) && !json_object_get(value, json_string_value(k))) {
			size_t old = path_push(c, json_string_value(k), 0);
			enum ocpp_err e =
			    fail(c, OCPP_ERR_OCCURRENCE_CONSTRAINT, "required property missing");

			path_pop(c, old);
			return e;
		}
	}
	ocpp_json_object_foreach(value, key, member) {
		const json_t *sub = json_object_get(props, key);
		size_t old = path_push(c, key, 0);
		enum ocpp_err e = OCPP_ERR_NONE;

		if (sub)
			e = validate(c, sub, member, depth + 1);
		else if (json_is_false(addl))
			e = fail(c, OCPP_ERR_FORMATION, "unknown property");
		else if (json_is_object(addl))
			e = validate(c, addl, member, depth + 1);
		path_pop(c, old);
		if (e)
			return e;
	}
	return OCPP_ERR_NONE;
}

static enum ocpp_err check_array(struct vctx *c, const json_t *schema, const json_t *value,
				 int depth)
{
	const json_t *items = json_object_get(schema, "items");
	const json_t *k, *member;
	size_t n = json_array_size(value), i;

	k = json_object_get(schema, "minItems");
	if (json_is_integer(k) && (json_int_t)n < json_integer_value(k))
		return fail(c, OCPP_ERR_OCCURRENCE_CONSTRAINT,
			    "fewer than %" JSON_INTEGER_FORMAT " items", json_integer_value(k));
	k = json_object_get(schema, "maxItems");
	if (json_is_integer(k) && (json_int_t)n > json_integer_value(k))
		return fail(c, OCPP_ERR_OCCURRENCE_CONSTRAINT,
			    "more than %" JSON_INTEGER_FORMAT " items", json_integer_value(k));
	if (!json_is_object(items))
		return OCPP_ERR_NONE;
	json_array_foreach(value, i, member) {
		size_t old = path_push(c, NULL, i);
		enum ocpp_err e = validate(c, items, member, depth + 1);

		path_pop(c, old);
		if (e)
			return e;
	}
	return OCPP_ERR_NONE;
}

static enum ocpp_err validate(struct vctx *c, const json_t *schema, const json_t *value, int depth)
{
	const json_t *k;
	enum ocpp_err e;
	int hops = 0;

	if (depth > SCHEMA_MAX_DEPTH)
		return fail(c, OCPP_ERR_FORMATION, "nested deeper than %d", SCHEMA_MAX_DEPTH);
	/* draft 6: a "$ref" replaces the keywords beside it */
	while ((k = json_object_get(schema, "$ref"))) {
		const json_t *target = NULL;

		if (json_is_string(k))
			target = resolve_ref(c->root, json_string_value(k));
		if (!target || ++hops > SCHEMA_MAX_REF_HOPS)
			return fail(c, OCPP_ERR_INTERNAL, "schema has a bad $ref");
		schema = target;
	}
	if (json_is_true(schema))
		return OCPP_ERR_NONE;
	if (!json_is_object(schema))
		return fail(c, OCPP_ERR_INTERNAL, "schema node is not an object");

	k = json_object_get(schema, "type");
	if (k && (e = check_type(c, k, value)))
		return e;
	k = json_object_get(schema, "enum");
	if (json_is_array(k)) {
		const json_t *option;
		size_t i;
		bool found = false;

		json_array_foreach(k, i, option) {
			if (json_equal(option, value)) {
				found = true;
				break;
			}
		}
		if (!found)
			return fail(c, OCPP_ERR_PROPERTY_CONSTRAINT, "not an allowed value");
	}
	switch (json_typeof(value)) {
	case JSON_STRING:
		return check_string(c, schema, value);
	case JSON_INTEGER:
	case JSON_REAL:
		return check_number(c, schema, value);
	case JSON_OBJECT:
		return check_object(c, schema, value, depth);
	case JSON_ARRAY:
		return check_array(c, schema, value, depth);
	default:
		return OCPP_ERR_NONE;
	}
}

enum ocpp_err ocpp_schema_validate(enum ocpp_version v, const json_t *root, const json_t *schema,
				   const json_t *value, char *desc, size_t desc_len)
{
	struct vctx c = {
	    .v = v,
	    .root = root ? root : schema,
	    .desc = desc,
	    .desc_len = desc_len,
	};

	if (desc && desc_len)
		desc[0] = '\0';
	if (!schema)
		return fail(&c, OCPP_ERR_INTERNAL, "no schema");
	if (!value)
		return fail(&c, OCPP_ERR_FORMATION, "missing");
	return validate(&c, schema, value, 0);
}
