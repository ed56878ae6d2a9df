/* SPDX-License-Identifier: MIT */
/* Subprotocol names and the per-version spelling of CALLERROR codes (docs/wire.md). */
#include "ocpp.h"

#include <errno.h>
#include <string.h>

#include "ocpp-private.h"

static const char *const version_names[_OCPP_VERSION_MAX] = {
    [OCPP_V16] = "ocpp1.6",
    [OCPP_V201] = "ocpp2.0.1",
};

/* OCPP-J 1.6 §4.2.3 and OCPP 2.0.1 part 4 §4.3: the valid errorCode values. */
static const char *const err_names[_OCPP_VERSION_MAX][_OCPP_ERR_MAX] = {
    [OCPP_V16] =
	{
	    [OCPP_ERR_NOT_IMPLEMENTED] = "NotImplemented",
	    [OCPP_ERR_NOT_SUPPORTED] = "NotSupported",
	    [OCPP_ERR_INTERNAL] = "InternalError",
	    [OCPP_ERR_PROTOCOL] = "ProtocolError",
	    [OCPP_ERR_SECURITY] = "SecurityError",
	    [OCPP_ERR_FORMATION] = "FormationViolation",
	    [OCPP_ERR_PROPERTY_CONSTRAINT] = "PropertyConstraintViolation",
	    [OCPP_ERR_OCCURRENCE_CONSTRAINT] = "OccurenceConstraintViolation", /* sic */
	    [OCPP_ERR_TYPE_CONSTRAINT] = "TypeConstraintViolation",
	    [OCPP_ERR_GENERIC] = "GenericError",
	    /* 1.6 has no codes for these two; ProtocolError is its "not a valid RPC" code */
	    [OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED] = "ProtocolError",
	    [OCPP_ERR_RPC_FRAMEWORK] = "ProtocolError",
	},
    [OCPP_V201] =
	{
	    [OCPP_ERR_NOT_IMPLEMENTED] = "NotImplemented",
	    [OCPP_ERR_NOT_SUPPORTED] = "NotSupported",
	    [OCPP_ERR_INTERNAL] = "InternalError",
	    [OCPP_ERR_PROTOCOL] = "ProtocolError",
	    [OCPP_ERR_SECURITY] = "SecurityError",
	    [OCPP_ERR_FORMATION] = "FormatViolation",
	    [OCPP_ERR_PROPERTY_CONSTRAINT] = "PropertyConstraintViolation",
	    [OCPP_ERR_OCCURRENCE_CONSTRAINT] = "OccurrenceConstraintViolation",
	    [OCPP_ERR_TYPE_CONSTRAINT] = "TypeConstraintViolation",
	    [OCPP_ERR_GENERIC] = "GenericError",
	    [OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED] = "MessageTypeNotSupported",
	    [OCPP_ERR_RPC_FRAMEWORK] = "RpcFrameworkError",
	},
};

const char *ocpp_version_name(enum ocpp_version v)
{
	if ((unsigned)v >= _OCPP_VERSION_MAX)
		return NULL;
	return version_names[v];
}

int ocpp_version_from_name(const char *subprotocol)
{
	if (!subprotocol)
		return -EINVAL;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		if (strcmp(version_names[v], subprotocol) == 0)
			return v;
	return -EINVAL;
}

const char *ocpp_err_name(enum ocpp_version v, enum ocpp_err e)
{
	if ((unsigned)v >= _OCPP_VERSION_MAX || (unsigned)e >= _OCPP_ERR_MAX)
		return NULL;
	return err_names[v][e]; /* NULL for OCPP_ERR_NONE */
}

int ocpp_err_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	/*
	 * 2.0.1 first: "ProtocolError" must map to OCPP_ERR_PROTOCOL, which is the
	 * only code 2.0.1 spells that way, while 1.6 also uses it for two others.
	 */
	for (int v = _OCPP_VERSION_MAX - 1; v >= 0; v--)
		for (int e = OCPP_ERR_NONE + 1; e < _OCPP_ERR_MAX; e++)
			if (strcmp(err_names[v][e], name) == 0)
				return e;
	return -EINVAL;
}

size_t ocpp__utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			break;
		}
		if (len - i - 1 < n)
			break;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			break;
		i += n + 1;
	}
	return i;
}

void ocpp__utf8_trim(char *s)
{
	s[ocpp__utf8_valid_prefix(s, strlen(s))] = '\0';
}
