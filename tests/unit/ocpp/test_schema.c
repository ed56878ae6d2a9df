/* SPDX-License-Identifier: MIT */
/* Unit tests of schema validation: generated instances and mutations of every message. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ocpp.h"

#define DESC_LEN 512

/* ---------------------------------------------------------------- instance generator */

/* Follow "$ref"s (the OCPP schemas use only "#/definitions/X"). */
static const json_t *deref(const json_t *root, const json_t *s)
{
	const json_t *ref;

	while ((ref = json_object_get(s, "$ref"))) {
		const char *r = json_string_value(ref);

		assert_non_null(r);
		assert_int_equal(strncmp(r, "#/definitions/", 14), 0);
		s = json_object_get(json_object_get(root, "definitions"), r + 14);
		assert_non_null(s);
	}
	return s;
}

static const char *stype(const json_t *s)
{
	return json_string_value(json_object_get(s, "type"));
}

static json_int_t int_kw(const json_t *s, const char *kw, json_int_t dflt)
{
	const json_t *k = json_object_get(s, kw);

	return json_is_number(k) ? (json_int_t)json_number_value(k) : dflt;
}

/* A string of n code points: 'a's, or 2-byte 'é's to prove maxLength counts code points. */
static json_t *str_of(json_int_t n, bool multibyte)
{
	char *buf = malloc((size_t)n * 2 + 1);
	size_t len = 0;
	json_t *s;

	assert_non_null(buf);
	for (json_int_t i = 0; i < n; i++) {
		if (multibyte) {
			buf[len++] = (char)0xc3;
			buf[len++] = (char)0xa9;
		} else {
			buf[len++] = 'a';
		}
	}
	s = json_stringn(buf, len);
	free(buf);
	assert_non_null(s);
	return s;
}

/*
** A valid instance of schema s: "minimal" has required properties only, the
** first enum value, short strings, numbers at or near zero and minItems items;
** "full" has every property, the last enum value, strings of exactly maxLength
** code points, numbers at the bounds, extra members where the schema allows them.
*/
static json_t *gen(const json_t *root, const json_t *s, bool full, int depth)
{
	const json_t *e;
	const char *t;

	assert_true(depth < 24);
	s = deref(root, s);
	e = json_object_get(s, "enum");
	if (e)
		return json_deep_copy(json_array_get(e, full ? json_array_size(e) - 1 : 0));
	t = stype(s);
	if (!t) /* untyped, e.g. 2.0.1 DataTransfer.data: anything goes */
		return full ? json_pack("{s:[i,s,n]}", "any", 1, "thing") : json_string("x");
	if (strcmp(t, "string") == 0) {
		const char *f = json_string_value(json_object_get(s, "format"));
		json_int_t max = int_kw(s, "maxLength", -1);

		if (f && strcmp(f, "date-time") == 0)
			return json_string(full ? "2026-11-23T11:00:00.123456+01:00"
						: "2026-11-23T10:00:00.000Z");
		if (f && strcmp(f, "uri") == 0)
			return json_string("https://example.com/fw/v1.2.bin?x=%20y");
		if (full)
			return max >= 0 ? str_of(max, true) : json_string("a longer string");
		return str_of(max >= 0 && max < 1 ? max : 1, false);
	}
	if (strcmp(t, "integer") == 0) {
		json_int_t lo = int_kw(s, "minimum", INT64_MIN),
			   hi = int_kw(s, "maximum", INT64_MAX);

		if (full)
			return json_integer(hi != INT64_MAX ? hi : lo != INT64_MIN ? lo : 7);
		return json_integer(0 < lo ? lo : 0 > hi ? hi : 0);
	}
	if (strcmp(t, "number") == 0) /* 12.3 is a multiple of 0.1 only up to rounding */
		return full ? json_real(12.3) : json_integer(0);
	if (strcmp(t, "boolean") == 0)
		return json_boolean(full);
	if (strcmp(t, "array") == 0) {
		json_int_t n = int_kw(s, "minItems", 0);
		json_t *a = json_array();

		if (full && n < 1)
			n = 1;
		for (json_int_t i = 0; i < n; i++)
			json_array_append_new(
			    a, gen(root, json_object_get(s, "items"), full, depth + 1));
		return a;
	}
	if (strcmp(t, "object") == 0) {
		json_t *o = json_object();
		const json_t *props = json_object_get(s, "properties"), *sub;
		const char *key;

		if (full) {
			ocpp_json_object_foreach(props, key, sub)
				json_object_set_new(o, key, gen(root, sub, full, depth + 1));
			if (!json_is_false(json_object_get(s, "additionalProperties")))
				json_object_set_new(o, "x-extra", json_pack("{s:i}", "k", 1));
		} else {
			const json_t *r;
			size_t i;

			json_array_foreach(json_object_get(s, "required"), i, r)
				json_object_set_new(
				    o, json_string_value(r),
				    gen(root, json_object_get(props, json_string_value(r)), full,
					depth + 1));
		}
		return o;
	}
	fail_msg("unexpected type %s", t);
	return NULL;
}

/* ---------------------------------------------------------------- mutations */

struct mctx {
	const struct ocpp_catalog *cat;
	const char *action;
	bool response;
	const json_t *root; /* the schema document */
	json_t *instance;   /* the whole payload being mutated */
	unsigned count[_OCPP_ERR_MAX];
};

/* Validate the instance and expect code, with the description starting at path. */
static void expect(struct mctx *m, const json_t *payload, enum ocpp_err code, const char *path,
		   const char *what)
{
	char desc[DESC_LEN];
	enum ocpp_err r =
	    ocpp_catalog_validate(m->cat, m->action, m->response, payload, desc, sizeof(desc));
	size_t n = strlen(path);

	if (r != code || (code == OCPP_ERR_NONE && desc[0] != '\0') ||
	    (code != OCPP_ERR_NONE && (strncmp(desc, path, n) != 0 || desc[n] != ':'))) {
		char *dump = json_dumps(payload, JSON_COMPACT);

		fail_msg("%s %s, %s at %s: got %d (%s), want %d\n%s", m->action,
			 m->response ? "response" : "request", what, path, r, desc, code, dump);
	}
	m->count[code]++;
}

/* Replace the child of parent at key (object) or index (array) by repl (stolen), check, restore. */
static void try_replace(struct mctx *m, json_t *parent, const char *key, size_t index, json_t *repl,
			enum ocpp_err code, const char *path, const char *what)
{
	json_t *orig;

	assert_non_null(repl);
	if (!parent) {
		expect(m, repl, code, path, what);
		json_decref(repl);
		return;
	}
	orig = json_incref(key ? json_object_get(parent, key) : json_array_get(parent, index));
	if (key)
		json_object_set_new(parent, key, repl);
	else
		json_array_set_new(parent, index, repl);
	expect(m, m->instance, code, path, what);
	if (key)
		json_object_set_new(parent, key, orig);
	else
		json_array_set_new(parent, index, orig);
}

static json_t *wrong_type(const char *t)
{
	if (strcmp(t, "string") == 0)
		return json_integer(42);
	if (strcmp(t, "object") == 0)
		return json_array();
	if (strcmp(t, "array") == 0)
		return json_object();
	if (strcmp(t, "boolean") == 0)
		return json_string("true");
	return json_string("1"); /* integer, number */
}

static void mutate(struct mctx *m, const json_t *s, json_t *v, json_t *parent, const char *key,
		   size_t index, const char *path)
{
	const char *t, *p = *path ? path : "payload";
	const json_t *k;
	char sub[256];

	s = deref(m->root, s);
	t = stype(s);
	if (t) {
		try_replace(m, parent, key, index, wrong_type(t), OCPP_ERR_TYPE_CONSTRAINT, p,
			    "wrong type");
		try_replace(m, parent, key, index, json_null(), OCPP_ERR_TYPE_CONSTRAINT, p,
			    "null");
	}
	if (json_object_get(s, "enum"))
		try_replace(m, parent, key, index, json_string("NotAnEnumValue"),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "enum");
	if ((k = json_object_get(s, "maxLength")))
		try_replace(m, parent, key, index, str_of(json_integer_value(k) + 1, false),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "maxLength");
	k = json_object_get(s, "format");
	if (k && strcmp(json_string_value(k), "date-time") == 0) {
		try_replace(m, parent, key, index, json_string("2026-13-01T00:00:00Z"),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "month 13");
		try_replace(m, parent, key, index, json_string("yesterday"),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "yesterday");
	}
	if (k && strcmp(json_string_value(k), "uri") == 0)
		try_replace(m, parent, key, index, json_string("not a uri"),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "uri");
	if (t && strcmp(t, "integer") == 0) {
		try_replace(m, parent, key, index, json_real(1.5), OCPP_ERR_TYPE_CONSTRAINT, p,
			    "1.5 for integer");
		/* draft 6: a real with a zero fraction is an integer */
		try_replace(m, parent, key, index, json_real((double)json_integer_value(v)),
			    OCPP_ERR_NONE, p, "integral real");
	}
	if ((k = json_object_get(s, "minimum")))
		try_replace(m, parent, key, index,
			    json_integer((json_int_t)json_number_value(k) - 1),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "minimum");
	if ((k = json_object_get(s, "maximum")))
		try_replace(m, parent, key, index,
			    json_integer((json_int_t)json_number_value(k) + 1),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "maximum");
	if ((k = json_object_get(s, "multipleOf")))
		try_replace(m, parent, key, index, json_real(json_number_value(k) * 1.5),
			    OCPP_ERR_PROPERTY_CONSTRAINT, p, "multipleOf");

	if (json_is_array(v)) {
		json_t *item;
		size_t i;

		if (int_kw(s, "minItems", 0) > 0)
			try_replace(m, parent, key, index, json_array(),
				    OCPP_ERR_OCCURRENCE_CONSTRAINT, p, "minItems");
		if ((k = json_object_get(s, "maxItems"))) {
			json_t *big = json_array();

			for (json_int_t j = 0; j <= json_integer_value(k); j++)
				json_array_append_new(big, json_deep_copy(json_array_get(v, 0)));
			try_replace(m, parent, key, index, big, OCPP_ERR_OCCURRENCE_CONSTRAINT, p,
				    "maxItems");
		}
		json_array_foreach(v, i, item) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			mutate(m, json_object_get(s, "items"), item, v, NULL, i, sub);
		}
	}
	if (json_is_object(v) && t) {
		const json_t *props = json_object_get(s, "properties"), *r;
		const char *name;
		json_t *child;
		size_t i;

		json_array_foreach(json_object_get(s, "required"), i, r) {
			json_t *orig = json_incref(json_object_get(v, json_string_value(r)));

			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "",
				 json_string_value(r));
			json_object_del(v, json_string_value(r));
			expect(m, m->instance, OCPP_ERR_OCCURRENCE_CONSTRAINT, sub, "required");
			json_object_set_new(v, json_string_value(r), orig);
		}
		snprintf(sub, sizeof(sub), "%s%sunknownField", path, *path ? "." : "");
		json_object_set_new(v, "unknownField", json_integer(1));
		expect(m, m->instance,
		       json_is_false(json_object_get(s, "additionalProperties"))
			   ? OCPP_ERR_FORMATION
			   : OCPP_ERR_NONE,
		       json_is_false(json_object_get(s, "additionalProperties")) ? sub : "",
		       "unknown field");
		json_object_del(v, "unknownField");

		ocpp_json_object_foreach(props, name, r) {
			child = json_object_get(v, name);
			if (!child)
				continue;
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", name);
			mutate(m, r, child, v, name, 0, sub);
		}
	}
}

/* ---------------------------------------------------------------- every message */

static void check_all(enum ocpp_version ver, unsigned *ret_counts)
{
	struct ocpp_catalog *cat = ocpp_catalog_create(ver);
	char desc[DESC_LEN];
	size_t messages = 0;

	assert_non_null(cat);
	for (size_t i = 0; i < ocpp_catalog_count(cat); i++) {
		const struct ocpp_msg_def *d = ocpp_catalog_at(cat, i);

		for (int response = 0; response <= 1; response++) {
			const json_t *schema = response ? d->conf_schema : d->req_schema;

			for (int full = 0; full <= 1; full++) {
				struct mctx m = {
				    .cat = cat,
				    .action = d->action,
				    .response = response,
				    .root = schema,
				};
				enum ocpp_err r;

				m.instance = gen(schema, schema, full, 0);
				r = ocpp_catalog_validate(cat, d->action, response, m.instance,
							  desc, sizeof(desc));
				if (r != OCPP_ERR_NONE) {
					char *dump = json_dumps(m.instance, JSON_COMPACT);

					fail_msg("%s %s %s instance: %d %s\n%s", d->action,
						 response ? "response" : "request",
						 full ? "full" : "minimal", r, desc, dump);
				}
				assert_string_equal(desc, "");
				mutate(&m, schema, m.instance, NULL, NULL, 0, "");
				/* the mutations restored the instance */
				assert_int_equal(ocpp_catalog_validate(cat, d->action, response,
								       m.instance, NULL, 0),
						 OCPP_ERR_NONE);
				for (int e = 0; e < _OCPP_ERR_MAX; e++)
					ret_counts[e] += m.count[e];
				json_decref(m.instance);
				messages++;
			}
		}
	}
	assert_int_equal(messages, 4 * ocpp_catalog_count(cat));
	ocpp_catalog_destroy(cat);
}

static void test_every_v16_message(void **state)
{
	unsigned counts[_OCPP_ERR_MAX] = {0};

	(void)state;
	check_all(OCPP_V16, counts);
	print_message("v16: %u none, %u type, %u occurrence, %u property, %u formation\n",
		      counts[OCPP_ERR_NONE], counts[OCPP_ERR_TYPE_CONSTRAINT],
		      counts[OCPP_ERR_OCCURRENCE_CONSTRAINT], counts[OCPP_ERR_PROPERTY_CONSTRAINT],
		      counts[OCPP_ERR_FORMATION]);
	/* each kind of mutation happened, many times */
	assert_true(counts[OCPP_ERR_TYPE_CONSTRAINT] > 500);
	assert_true(counts[OCPP_ERR_OCCURRENCE_CONSTRAINT] > 100);
	assert_true(counts[OCPP_ERR_PROPERTY_CONSTRAINT] > 200);
	assert_true(counts[OCPP_ERR_FORMATION] > 100);
	assert_true(counts[OCPP_ERR_NONE] > 50);
}

static void test_every_v201_message(void **state)
{
	unsigned counts[_OCPP_ERR_MAX] = {0};

	(void)state;
	check_all(OCPP_V201, counts);
	print_message("v201: %u none, %u type, %u occurrence, %u property, %u formation\n",
		      counts[OCPP_ERR_NONE], counts[OCPP_ERR_TYPE_CONSTRAINT],
		      counts[OCPP_ERR_OCCURRENCE_CONSTRAINT], counts[OCPP_ERR_PROPERTY_CONSTRAINT],
		      counts[OCPP_ERR_FORMATION]);
	assert_true(counts[OCPP_ERR_TYPE_CONSTRAINT] > 2000);
	assert_true(counts[OCPP_ERR_OCCURRENCE_CONSTRAINT] > 1000);
	assert_true(counts[OCPP_ERR_PROPERTY_CONSTRAINT] > 800);
	assert_true(counts[OCPP_ERR_FORMATION] > 400);
	assert_true(counts[OCPP_ERR_NONE] > 500);
}

/* ---------------------------------------------------------------- hand-written cases */

struct fixture {
	struct ocpp_catalog *v16, *v201;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->v16 = ocpp_catalog_create(OCPP_V16);
	fx->v201 = ocpp_catalog_create(OCPP_V201);
	*state = fx;
	return fx->v16 && fx->v201 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	ocpp_catalog_destroy(fx->v16);
	ocpp_catalog_destroy(fx->v201);
	free(fx);
	return 0;
}

/* Validate the JSON text against action's request or response; check code and description. */
static void check(const struct ocpp_catalog *cat, const char *action, bool response,
		  const char *text, enum ocpp_err code, const char *want_desc)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	char desc[DESC_LEN];
	enum ocpp_err r;

	if (!v)
		fail_msg("test JSON: %s: %s", jerr.text, text);
	r = ocpp_catalog_validate(cat, action, response, v, desc, sizeof(desc));
	if (r != code || (want_desc && strcmp(desc, want_desc) != 0))
		fail_msg("%s: got %d \"%s\", want %d \"%s\"\n%s", action, r, desc, code,
			 want_desc ? want_desc : "*", text);
	json_decref(v);
}

static void test_v16_start_transaction(void **state)
{
	struct fixture *fx = *state;
	const struct ocpp_catalog *c = fx->v16;

	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"04E8960A9B5C80\",\"meterStart\":1234,"
	      "\"timestamp\":\"2026-11-23T10:00:00.000Z\"}",
	      OCPP_ERR_NONE, "");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":2,\"idTag\":\"04E8960A9B5C80\",\"meterStart\":0,"
	      "\"reservationId\":17,\"timestamp\":\"2026-11-23T11:00:00+01:00\"}",
	      OCPP_ERR_NONE, "");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"123456789012345678901\",\"meterStart\":1234,"
	      "\"timestamp\":\"2026-11-23T10:00:00.000Z\"}",
	      OCPP_ERR_PROPERTY_CONSTRAINT, "idTag: longer than 20");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":\"1\",\"idTag\":\"A\",\"meterStart\":1234,"
	      "\"timestamp\":\"2026-11-23T10:00:00.000Z\"}",
	      OCPP_ERR_TYPE_CONSTRAINT, "connectorId: expected integer, got string");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"A\",\"timestamp\":\"2026-11-23T10:00:00.000Z\"}",
	      OCPP_ERR_OCCURRENCE_CONSTRAINT, "meterStart: required property missing");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"A\",\"meterStart\":1234,\"timestamp\":\"yesterday\"}",
	      OCPP_ERR_PROPERTY_CONSTRAINT, "timestamp: not an RFC 3339 date-time");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"A\",\"meterStart\":1234,"
	      "\"timestamp\":\"2026-13-01T00:00:00Z\"}",
	      OCPP_ERR_PROPERTY_CONSTRAINT, "timestamp: not an RFC 3339 date-time");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"A\",\"meterStart\":1234,"
	      "\"timestamp\":\"2026-11-23T10:00:00Z\",\"vendor\":1}",
	      OCPP_ERR_FORMATION, "vendor: unknown property");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"A\",\"meterStart\":1234.0,"
	      "\"timestamp\":\"2026-11-23T10:00:00Z\"}",
	      OCPP_ERR_NONE, "");
	check(c, "StartTransaction", false,
	      "{\"connectorId\":1,\"idTag\":\"A\",\"meterStart\":1234.5,"
	      "\"timestamp\":\"2026-11-23T10:00:00Z\"}",
	      OCPP_ERR_TYPE_CONSTRAINT, "meterStart: expected integer, got number");
	check(c, "StartTransaction", false, "[]", OCPP_ERR_TYPE_CONSTRAINT,
	      "payload: expected object, got array");
	check(c, "StartTransaction", true,
	      "{\"idTagInfo\":{\"status\":\"Accepted\",\"expiryDate\":\"2026-12-01T00:00:00Z\"},"
	      "\"transactionId\":4711}",
	      OCPP_ERR_NONE, "");
	check(c, "StartTransaction", true,
	      "{\"idTagInfo\":{\"status\":\"Fine\"},\"transactionId\":1}",
	      OCPP_ERR_PROPERTY_CONSTRAINT, "idTagInfo.status: not an allowed value");
	check(c, "StartTransaction", true, "{\"idTagInfo\":{},\"transactionId\":1}",
	      OCPP_ERR_OCCURRENCE_CONSTRAINT, "idTagInfo.status: required property missing");
	/* the first error in the order: required first, then the members in document order */
	check(c, "StartTransaction", false, "{\"connectorId\":\"1\",\"idTag\":\"A\"}",
	      OCPP_ERR_OCCURRENCE_CONSTRAINT, "meterStart: required property missing");
	check(c, "StartTransaction", false,
	      "{\"x\":1,\"connectorId\":\"1\",\"idTag\":\"A\",\"meterStart\":1,"
	      "\"timestamp\":\"2026-11-23T10:00:00Z\"}",
	      OCPP_ERR_FORMATION, "x: unknown property");
}

static void test_v16_meter_values(void **state)
{
	struct fixture *fx = *state;
	const struct ocpp_catalog *c = fx->v16;

	check(
	    c, "MeterValues", false,
	    "{\"connectorId\":1,\"transactionId\":5,\"meterValue\":[{"
	    "\"timestamp\":\"2026-11-23T10:15:00Z\",\"sampledValue\":["
	    "{\"value\":\"1234.5\",\"context\":\"Sample.Periodic\",\"format\":\"Raw\","
	    "\"measurand\":\"Energy.Active.Import.Register\",\"location\":\"Outlet\","
	    "\"unit\":\"Wh\"},"
	    "{\"value\":\"16.1\",\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"},"
	    "{\"value\":\"80\",\"measurand\":\"SoC\",\"location\":\"EV\",\"unit\":\"Percent\"}"
	    "]}]}",
	    OCPP_ERR_NONE, "");
	check(c, "MeterValues", false,
	      "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-11-23T10:15:00Z\","
	      "\"sampledValue\":[{\"value\":\"1\"},{\"value\":\"2\",\"unit\":\"kWhh\"}]}]}",
	      OCPP_ERR_PROPERTY_CONSTRAINT,
	      "meterValue[0].sampledValue[1].unit: not an allowed value");
	check(c, "MeterValues", false,
	      "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-11-23T10:15:00Z\","
	      "\"sampledValue\":[{\"unit\":\"Wh\"}]}]}",
	      OCPP_ERR_OCCURRENCE_CONSTRAINT,
	      "meterValue[0].sampledValue[0].value: required property missing");
	check(c, "MeterValues", false,
	      "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-11-23T10:15:00Z\","
	      "\"sampledValue\":[{\"value\":1234.5}]}]}",
	      OCPP_ERR_TYPE_CONSTRAINT,
	      "meterValue[0].sampledValue[0].value: expected string, got number");
	check(c, "MeterValues", false, "{\"connectorId\":1,\"meterValue\":{}}",
	      OCPP_ERR_TYPE_CONSTRAINT, "meterValue: expected array, got object");
	check(c, "MeterValues", true, "{}", OCPP_ERR_NONE, "");
	check(c, "MeterValues", true, "{\"x\":null}", OCPP_ERR_FORMATION, "x: unknown property");
}

static void test_v16_charging_profile_multiple_of(void **state)
{
	struct fixture *fx = *state;
#define tmpl                                                                                       \
	"{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1,"                      \
	"\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","                        \
	"\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":{"                              \
	"\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"               \
	"\"limit\":%s}]}}}"
	char buf[512];

	snprintf(buf, sizeof(buf), tmpl, "32.3");
	check(fx->v16, "SetChargingProfile", false, buf, OCPP_ERR_NONE, "");
	snprintf(buf, sizeof(buf), tmpl, "16");
	check(fx->v16, "SetChargingProfile", false, buf, OCPP_ERR_NONE, "");
	snprintf(buf, sizeof(buf), tmpl, "32.35");
	check(fx->v16, "SetChargingProfile", false, buf, OCPP_ERR_PROPERTY_CONSTRAINT,
	      "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit: "
	      "not a multiple of 0.1");
	snprintf(buf, sizeof(buf), tmpl, "\"32\"");
	check(fx->v16, "SetChargingProfile", false, buf, OCPP_ERR_TYPE_CONSTRAINT, NULL);
#undef tmpl
}

static void test_v16_uri(void **state)
{
	struct fixture *fx = *state;

	check(fx->v16, "UpdateFirmware", false,
	      "{\"location\":\"ftp://user@example.com/fw%2F1.bin\","
	      "\"retrieveDate\":\"2026-11-23T10:00:00Z\"}",
	      OCPP_ERR_NONE, "");
	check(fx->v16, "UpdateFirmware", false,
	      "{\"location\":\"/fw.bin\",\"retrieveDate\":\"2026-11-23T10:00:00Z\"}",
	      OCPP_ERR_PROPERTY_CONSTRAINT, "location: not a URI");
	check(fx->v16, "UpdateFirmware", false,
	      "{\"location\":\"http://x/a b\",\"retrieveDate\":\"2026-11-23T10:00:00Z\"}",
	      OCPP_ERR_PROPERTY_CONSTRAINT, "location: not a URI");
	check(fx->v16, "UpdateFirmware", false,
	      "{\"location\":\"http://x/%zz\",\"retrieveDate\":\"2026-11-23T10:00:00Z\"}",
	      OCPP_ERR_PROPERTY_CONSTRAINT, "location: not a URI");
}

static void test_v201_transaction_event(void **state)
{
	struct fixture *fx = *state;
	const struct ocpp_catalog *c = fx->v201;
	static const char *const head =
	    "{\"eventType\":\"Started\",\"timestamp\":\"2026-11-23T10:00:00.000Z\","
	    "\"triggerReason\":\"Authorized\",\"seqNo\":0,\"offline\":false,"
	    "\"customData\":{\"vendorId\":\"com.example\",\"site\":\"S1\"},";
	char buf[2048];

	snprintf(
	    buf, sizeof(buf), "%s%s", head,
	    "\"transactionInfo\":{\"transactionId\":\"tx-0001\",\"chargingState\":\"Charging\","
	    "\"customData\":{\"vendorId\":\"com.example\",\"soc\":[1,2]}},"
	    "\"idToken\":{\"idToken\":\"04E8960A9B5C80\",\"type\":\"ISO14443\","
	    "\"additionalInfo\":[{\"additionalIdToken\":\"x\",\"type\":\"y\"}]},"
	    "\"evse\":{\"id\":1,\"connectorId\":1},"
	    "\"meterValue\":[{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":["
	    "{\"value\":0.0,\"measurand\":\"Energy.Active.Import.Register\","
	    "\"unitOfMeasure\":{\"unit\":\"kWh\",\"multiplier\":3}},"
	    "{\"value\":11000,\"measurand\":\"Power.Active.Import\",\"phase\":\"L1-N\","
	    "\"context\":\"Transaction.Begin\"}]}]}");
	check(c, "TransactionEvent", false, buf, OCPP_ERR_NONE, "");

	snprintf(buf, sizeof(buf), "%s%s", head,
		 "\"transactionInfo\":{\"transactionId\":\"tx-1\",\"customData\":{}}}");
	check(c, "TransactionEvent", false, buf, OCPP_ERR_OCCURRENCE_CONSTRAINT,
	      "transactionInfo.customData.vendorId: required property missing");
	snprintf(buf, sizeof(buf), "%s%s", head,
		 "\"transactionInfo\":{\"transactionId\":\"tx-1\"},\"meterValue\":[]}");
	check(c, "TransactionEvent", false, buf, OCPP_ERR_OCCURRENCE_CONSTRAINT,
	      "meterValue: fewer than 1 items");
	snprintf(buf, sizeof(buf), "%s%s", head,
		 "\"transactionInfo\":{\"transactionId\":\"tx-1\"},"
		 "\"idToken\":{\"idToken\":\"A\",\"type\":\"Badge\"}}");
	check(c, "TransactionEvent", false, buf, OCPP_ERR_PROPERTY_CONSTRAINT,
	      "idToken.type: not an allowed value");
	snprintf(buf, sizeof(buf), "%s%s", head,
		 "\"transactionInfo\":{\"transactionId\":\"tx-1\"},"
		 "\"evse\":{\"id\":1,\"connector\":1}}");
	check(c, "TransactionEvent", false, buf, OCPP_ERR_FORMATION,
	      "evse.connector: unknown property");
	snprintf(buf, sizeof(buf), "%s%s", head,
		 "\"transactionInfo\":{\"transactionId\":\"tx-1\"},"
		 "\"meterValue\":[{\"timestamp\":\"2026-11-23T10:00:00Z\",\"sampledValue\":["
		 "{\"value\":\"12\"}]}]}");
	check(c, "TransactionEvent", false, buf, OCPP_ERR_TYPE_CONSTRAINT,
	      "meterValue[0].sampledValue[0].value: expected number, got string");
	/* transactionId is maxLength 36: 36 two-byte characters are fine, 37 are not */
	{
		char id[2 * 37 + 1] = "";

		for (int i = 0; i < 36; i++)
			strcat(id, "\xc3\xa9");
		snprintf(buf, sizeof(buf), "%s\"transactionInfo\":{\"transactionId\":\"%s\"}}",
			 head, id);
		check(c, "TransactionEvent", false, buf, OCPP_ERR_NONE, "");
		strcat(id, "\xc3\xa9");
		snprintf(buf, sizeof(buf), "%s\"transactionInfo\":{\"transactionId\":\"%s\"}}",
			 head, id);
		check(c, "TransactionEvent", false, buf, OCPP_ERR_PROPERTY_CONSTRAINT,
		      "transactionInfo.transactionId: longer than 36");
	}
	check(c, "TransactionEvent", true,
	      "{\"totalCost\":1.5,\"idTokenInfo\":{\"status\":\"Accepted\"},"
	      "\"customData\":{\"vendorId\":\"v\"}}",
	      OCPP_ERR_NONE, "");
}

static void test_v201_bounds(void **state)
{
	struct fixture *fx = *state;
#define tmpl                                                                                       \
	"{\"evseId\":1,\"chargingNeeds\":{\"requestedEnergyTransfer\":\"DC\","                     \
	"\"dcChargingParameters\":{\"evMaxCurrent\":200,\"evMaxVoltage\":400,"                     \
	"\"stateOfCharge\":%s}}}"
	char buf[512];

	snprintf(buf, sizeof(buf), tmpl, "100");
	check(fx->v201, "NotifyEVChargingNeeds", false, buf, OCPP_ERR_NONE, "");
	snprintf(buf, sizeof(buf), tmpl, "101");
	check(fx->v201, "NotifyEVChargingNeeds", false, buf, OCPP_ERR_PROPERTY_CONSTRAINT,
	      "chargingNeeds.dcChargingParameters.stateOfCharge: greater than 100");
	snprintf(buf, sizeof(buf), tmpl, "-1");
	check(fx->v201, "NotifyEVChargingNeeds", false, buf, OCPP_ERR_PROPERTY_CONSTRAINT,
	      "chargingNeeds.dcChargingParameters.stateOfCharge: less than 0");
	snprintf(buf, sizeof(buf), tmpl, "50.0");
	check(fx->v201, "NotifyEVChargingNeeds", false, buf, OCPP_ERR_NONE, "");
#undef tmpl
}

static void test_unknown_action(void **state)
{
	struct fixture *fx = *state;
	char desc[64];
	json_t *empty = json_object();

	assert_int_equal(
	    ocpp_catalog_validate(fx->v16, "TransactionEvent", false, empty, desc, sizeof(desc)),
	    OCPP_ERR_NOT_IMPLEMENTED);
	assert_string_equal(desc, "unknown action TransactionEvent");
	assert_int_equal(ocpp_catalog_validate(fx->v201, "heartbeat", false, empty, NULL, 0),
			 OCPP_ERR_NOT_IMPLEMENTED);
	assert_int_equal(ocpp_catalog_validate(fx->v201, "Heartbeat", false, empty, desc, 1),
			 OCPP_ERR_NONE);
	assert_int_equal(
	    ocpp_catalog_validate(fx->v201, "Heartbeat", false, NULL, desc, sizeof(desc)),
	    OCPP_ERR_FORMATION);
	/* a tiny buffer still gets a terminated (truncated) description */
	assert_int_equal(ocpp_catalog_validate(fx->v201, "StartTransaction", false, empty, desc, 5),
			 OCPP_ERR_NOT_IMPLEMENTED);
	assert_string_equal(desc, "unkn");
	json_decref(empty);
}

/* ---------------------------------------------------------------- the generic validator */

static enum ocpp_err generic(const char *schema_text, const char *value_text, char *desc)
{
	json_t *schema = json_loads(schema_text, 0, NULL);
	json_t *value = json_loads(value_text, JSON_DECODE_ANY, NULL);
	enum ocpp_err r;

	assert_non_null(schema);
	assert_non_null(value);
	r = ocpp_schema_validate(OCPP_V201, schema, schema, value, desc, DESC_LEN);
	json_decref(schema);
	json_decref(value);
	return r;
}

static void test_depth_bound(void **state)
{
	static const char schema[] =
	    "{\"definitions\":{\"n\":{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{\"c\":{\"$ref\":\"#/definitions/n\"}}}},\"$ref\":\"#/definitions/n\"}";
	char value[512], desc[DESC_LEN];

	(void)state;
	/* 32 levels below the payload are allowed, 33 are not */
	for (int levels = 32; levels <= 33; levels++) {
		value[0] = '\0';
		for (int i = 0; i < levels; i++)
			strcat(value, "{\"c\":");
		strcat(value, "{}");
		for (int i = 0; i < levels; i++)
			strcat(value, "}");
		assert_int_equal(generic(schema, value, desc),
				 levels == 32 ? OCPP_ERR_NONE : OCPP_ERR_FORMATION);
	}
	assert_non_null(strstr(desc, "nested deeper than 32"));
	assert_int_equal(generic("{\"$ref\":\"#\"}", "1", desc), OCPP_ERR_INTERNAL);
	assert_int_equal(generic("{\"$ref\":\"#/definitions/none\"}", "1", desc),
			 OCPP_ERR_INTERNAL);
	assert_int_equal(generic("{\"$ref\":\"http://example.com/s\"}", "1", desc),
			 OCPP_ERR_INTERNAL);
	assert_int_equal(generic("{\"a\":[{\"type\":\"string\"}],\"$ref\":\"#/a/0\"}", "1", desc),
			 OCPP_ERR_TYPE_CONSTRAINT);
	assert_int_equal(
	    generic("{\"a~/b\":{\"type\":\"string\"},\"$ref\":\"#/a~0~1b\"}", "\"s\"", desc),
	    OCPP_ERR_NONE);
}

static void test_generic_keywords(void **state)
{
	char desc[DESC_LEN];

	(void)state;
	/* code points, not bytes */
	assert_int_equal(
	    generic("{\"type\":\"string\",\"maxLength\":3}", "\"h\xc3\xa9\xc3\xa9\"", desc),
	    OCPP_ERR_NONE);
	assert_int_equal(generic("{\"type\":\"string\",\"maxLength\":3}",
				 "\"\xf0\x9f\x94\x8c\xf0\x9f\x94\x8c\xf0\x9f\x94\x8c\"", desc),
			 OCPP_ERR_NONE);
	assert_int_equal(
	    generic("{\"type\":\"string\",\"maxLength\":3}", "\"h\xc3\xa9\xc3\xa9!\"", desc),
	    OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_string_equal(desc, "payload: longer than 3");
	assert_int_equal(generic("{\"type\":\"string\",\"minLength\":2}", "\"a\"", desc),
			 OCPP_ERR_PROPERTY_CONSTRAINT);
	/* integer and number */
	assert_int_equal(generic("{\"type\":\"integer\"}", "1e3", desc), OCPP_ERR_NONE);
	assert_int_equal(generic("{\"type\":\"integer\"}", "-0.0", desc), OCPP_ERR_NONE);
	assert_int_equal(generic("{\"type\":\"integer\"}", "1.000001", desc),
			 OCPP_ERR_TYPE_CONSTRAINT);
	assert_int_equal(generic("{\"type\":\"integer\"}", "true", desc), OCPP_ERR_TYPE_CONSTRAINT);
	assert_string_equal(desc, "payload: expected integer, got boolean");
	assert_int_equal(generic("{\"type\":\"number\"}", "7", desc), OCPP_ERR_NONE);
	assert_int_equal(generic("{\"type\":\"number\"}", "\"7\"", desc), OCPP_ERR_TYPE_CONSTRAINT);
	assert_int_equal(generic("{\"type\":\"boolean\"}", "0", desc), OCPP_ERR_TYPE_CONSTRAINT);
	assert_int_equal(generic("{\"type\":[\"string\",\"null\"]}", "null", desc), OCPP_ERR_NONE);
	assert_int_equal(generic("{\"type\":[\"string\",\"null\"]}", "1", desc),
			 OCPP_ERR_TYPE_CONSTRAINT);
	assert_string_equal(desc, "payload: expected string or null, got integer");
	assert_int_equal(
	    generic("{\"type\":\"integer\",\"minimum\":0,\"maximum\":100}", "100.0", desc),
	    OCPP_ERR_NONE);
	assert_int_equal(generic("{\"type\":\"integer\",\"exclusiveMaximum\":100}", "100", desc),
			 OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_int_equal(generic("{\"type\":\"integer\",\"multipleOf\":5}", "15", desc),
			 OCPP_ERR_NONE);
	assert_int_equal(generic("{\"type\":\"integer\",\"multipleOf\":5}", "16", desc),
			 OCPP_ERR_PROPERTY_CONSTRAINT);
	/* arrays */
	assert_int_equal(generic("{\"type\":\"array\",\"minItems\":1,\"maxItems\":2,"
				 "\"items\":{\"type\":\"integer\"}}",
				 "[1,2,3]", desc),
			 OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_string_equal(desc, "payload: more than 2 items");
	assert_int_equal(
	    generic("{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}", "[1,\"2\"]", desc),
	    OCPP_ERR_TYPE_CONSTRAINT);
	assert_string_equal(desc, "[1]: expected integer, got string");
	/* objects: schema-valued additionalProperties, and no constraint by default */
	assert_int_equal(
	    generic("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
		    "{\"a\":1,\"b\":\"x\"}", desc),
	    OCPP_ERR_TYPE_CONSTRAINT);
	assert_string_equal(desc, "b: expected integer, got string");
	assert_int_equal(generic("{\"type\":\"object\"}", "{\"a\":[{}]}", desc), OCPP_ERR_NONE);
	assert_int_equal(generic("{\"enum\":[\"A\",\"B\"]}", "\"C\"", desc),
			 OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_int_equal(generic("{\"enum\":[\"A\",\"B\"]}", "\"B\"", desc), OCPP_ERR_NONE);
	assert_int_equal(generic("{}", "{\"anything\":[1,2]}", desc), OCPP_ERR_NONE);
	assert_int_equal(generic("{\"format\":\"date-time\"}", "\"2026-11-23T10:00:00Z\"", desc),
			 OCPP_ERR_NONE);
	assert_int_equal(generic("{\"format\":\"date-time\"}", "\"2026-11-23\"", desc),
			 OCPP_ERR_PROPERTY_CONSTRAINT);
	assert_int_equal(generic("{\"format\":\"email\"}", "\"whatever\"", desc), OCPP_ERR_NONE);
}

static void test_long_paths_stay_utf8(void **state)
{
	/* an unknown key longer than the path buffer, made of 3-byte characters */
	char value[2048] = "{\"", desc[DESC_LEN];
	json_t *js;

	(void)state;
	for (int i = 0; i < 300; i++)
		strcat(value, "\xe2\x82\xac");
	strcat(value, "\":1}");
	assert_int_equal(
	    generic("{\"type\":\"object\",\"additionalProperties\":false}", value, desc),
	    OCPP_ERR_FORMATION);
	js = json_string(desc); /* NULL if desc is not valid UTF-8 */
	assert_non_null(js);
	assert_non_null(strstr(desc, "...: unknown property"));
	json_decref(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_v16_message),
	    cmocka_unit_test(test_every_v201_message),
	    cmocka_unit_test(test_v16_start_transaction),
	    cmocka_unit_test(test_v16_meter_values),
	    cmocka_unit_test(test_v16_charging_profile_multiple_of),
	    cmocka_unit_test(test_v16_uri),
	    cmocka_unit_test(test_v201_transaction_event),
	    cmocka_unit_test(test_v201_bounds),
	    cmocka_unit_test(test_unknown_action),
	    cmocka_unit_test(test_depth_bound),
	    cmocka_unit_test(test_generic_keywords),
	    cmocka_unit_test(test_long_paths_stay_utf8),
	};

	return cmocka_run_group_tests_name("ocpp-schema", tests, setup, teardown);
}
