/* SPDX-License-Identifier: MIT */
/* Small jansson readers shared by csms' adapters, the OCPP-J framing and the simulator. */
#include "ocpp.h"

const char *ocpp_json_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int64_t ocpp_json_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	double d;

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	/* converting a real outside int64_t (or NaN) would be undefined: read it as absent */
	d = json_real_value(v);
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return 0;
	return (int64_t)d;
}

const char *ocpp_json_type_name(const json_t *v)
{
	if (!v)
		return "?";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}
