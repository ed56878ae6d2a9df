/* SPDX-License-Identifier: MIT */
/* The domain model: what a site, a station, a token, a session and a meter reading are, whatever
 * the protocol. The adapters (ocpp16/, ocpp201/) translate OCPP words into these values; svc/ and
 * store/ work only with them. String forms exist only where a value is stored or shown by the
 * API, and keep the spellings the database and the REST API have always used. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define STATION_ID_MAX 48
#define SITE_ID_MAX    64
#define TOKEN_MAX      64
#define STORE_HASH_MAX 128

/* What a site is for; decides the authorization policy of its stations. */
enum site_kind {
	SITE_PUBLIC,
	SITE_RESIDENTIAL,
	SITE_RURAL,
	SITE_SWAP,
	_SITE_KIND_MAX,
	_SITE_KIND_INVALID = -EINVAL
};

/* The operator's decision on a station (stored and shown as these words). */
enum reg_status { REG_ACCEPTED, REG_PENDING, REG_REJECTED, _REG_MAX, _REG_INVALID = -EINVAL };

/* An authorization decision for an id token (stored and shown as these words). */
enum auth_status {
	AUTH_ACCEPTED,
	AUTH_BLOCKED,
	AUTH_EXPIRED,
	AUTH_INVALID,
	_AUTH_MAX,
	_AUTH_INVALID = -EINVAL
};

/* What a reading measures. Readings keep the text the station sent; the kind is what the
 * domain reasons with (the energy registers feed a session's meter). */
enum measurand_kind {
	MEAS_ENERGY_IMPORT_REGISTER, /* total imported active energy (the default reading) */
	MEAS_ENERGY_EXPORT_REGISTER, /* total exported active energy (V2G) */
	MEAS_POWER_IMPORT,
	MEAS_POWER_EXPORT,
	MEAS_CURRENT_IMPORT,
	MEAS_CURRENT_EXPORT,
	MEAS_VOLTAGE,
	MEAS_SOC,
	MEAS_OTHER, /* any other measurand: stored, not interpreted */
	_MEAS_MAX,
	_MEAS_INVALID = -EINVAL
};

/* Why a reading was taken. */
enum sample_context {
	SAMPLE_CTX_PERIODIC, /* the default */
	SAMPLE_CTX_CLOCK,
	SAMPLE_CTX_TX_BEGIN,
	SAMPLE_CTX_TX_END,
	SAMPLE_CTX_TRIGGER,
	SAMPLE_CTX_INTERRUPTION_BEGIN,
	SAMPLE_CTX_INTERRUPTION_END,
	SAMPLE_CTX_OTHER,
	_SAMPLE_CTX_MAX,
	_SAMPLE_CTX_INVALID = -EINVAL
};

/* The phase a reading is of (none: the total). */
enum sample_phase {
	PHASE_NONE,
	PHASE_L1,
	PHASE_L2,
	PHASE_L3,
	PHASE_N,
	PHASE_L1_N,
	PHASE_L2_N,
	PHASE_L3_N,
	PHASE_L1_L2,
	PHASE_L2_L3,
	PHASE_L3_L1,
	_PHASE_MAX,
	_PHASE_INVALID = -EINVAL
};

/* Why a session ended. */
enum stop_reason {
	STOP_NONE, /* not given */
	STOP_LOCAL,
	STOP_REMOTE,
	STOP_EV_DISCONNECTED,
	STOP_DEAUTHORIZED,
	STOP_EMERGENCY,
	STOP_POWER_LOSS,
	STOP_REBOOT,
	STOP_ENERGY_LIMIT,
	STOP_TIME_LIMIT,
	STOP_OTHER,
	_STOP_MAX,
	_STOP_INVALID = -EINVAL
};

/* What an event does to a session. */
enum session_event_kind {
	SESSION_OPEN,	/* the session began (charging authorized, cable in …) */
	SESSION_UPDATE, /* samples, energy registers or state in the middle */
	SESSION_CLOSE,	/* the session ended */
	_SESSION_EVENT_MAX,
	_SESSION_EVENT_INVALID = -EINVAL
};

/* The state of a connector, coarser than either protocol's. */
enum connector_state {
	CONN_AVAILABLE,
	CONN_OCCUPIED, /* a vehicle is plugged in (preparing, charging, suspended, finishing) */
	CONN_RESERVED,
	CONN_UNAVAILABLE,
	CONN_FAULTED,
	_CONN_STATE_MAX,
	_CONN_STATE_INVALID = -EINVAL
};

/* A station's status report about a long-running operation. */
enum station_event_kind {
	STATION_EVENT_FIRMWARE,	   /* firmware update progress: the station's firmware status */
	STATION_EVENT_DIAGNOSTICS, /* diagnostics upload: the station's diagnostics status */
	STATION_EVENT_LOG,	   /* log upload: reported as the diagnostics status too */
	_STATION_EVENT_MAX,
	_STATION_EVENT_INVALID = -EINVAL
};

/* Signed meter data as the meter produced it (OCPP 2.0.1 signedMeterValue, OCPP 1.6 values of
 * format SignedData). Kept verbatim for whoever verifies it (eichrecht, billing disputes). */
struct signed_meter_data {
	const char *data;	     /* NULL = the reading is not signed */
	const char *signing_method;  /* NULL = not given */
	const char *encoding_method; /* NULL = not given */
	const char *public_key;	     /* NULL = not given */
};

/* The index of s in a names table of n entries, or -EINVAL. */
static inline int domain_lookup(const char *const *names, int n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return i;
	return -EINVAL;
}

/* The stored names of the enums above ("public", "Accepted" …): a static string, or NULL for a
 * value out of range. *_from_string gives the value or -EINVAL. */
static inline const char *site_kind_to_string(int k)
{
	static const char *const names[_SITE_KIND_MAX] = {
	    [SITE_PUBLIC] = "public",
	    [SITE_RESIDENTIAL] = "residential",
	    [SITE_RURAL] = "rural",
	    [SITE_SWAP] = "swap",
	};
	return k >= 0 && k < _SITE_KIND_MAX ? names[k] : NULL;
}

static inline const char *reg_status_to_string(int r)
{
	static const char *const names[_REG_MAX] = {
	    [REG_ACCEPTED] = "Accepted",
	    [REG_PENDING] = "Pending",
	    [REG_REJECTED] = "Rejected",
	};
	return r >= 0 && r < _REG_MAX ? names[r] : NULL;
}

static inline const char *auth_status_to_string(int a)
{
	static const char *const names[_AUTH_MAX] = {
	    [AUTH_ACCEPTED] = "Accepted",
	    [AUTH_BLOCKED] = "Blocked",
	    [AUTH_EXPIRED] = "Expired",
	    [AUTH_INVALID] = "Invalid",
	};
	return a >= 0 && a < _AUTH_MAX ? names[a] : NULL;
}

static inline const char *station_event_kind_to_string(int k)
{
	static const char *const names[_STATION_EVENT_MAX] = {
	    [STATION_EVENT_FIRMWARE] = "firmware",
	    [STATION_EVENT_DIAGNOSTICS] = "diagnostics",
	    [STATION_EVENT_LOG] = "log",
	};
	return k >= 0 && k < _STATION_EVENT_MAX ? names[k] : NULL;
}

#define DOMAIN_FROM_STRING(name, max)                                                              \
	static inline int name##_from_string(const char *s)                                        \
	{                                                                                          \
		const char *names[max];                                                            \
                                                                                                   \
		for (int i = 0; i < (max); i++)                                                    \
			names[i] = name##_to_string(i);                                            \
		return domain_lookup(names, (max), s);                                             \
	}
DOMAIN_FROM_STRING(site_kind, _SITE_KIND_MAX)
DOMAIN_FROM_STRING(reg_status, _REG_MAX)
DOMAIN_FROM_STRING(auth_status, _AUTH_MAX)
DOMAIN_FROM_STRING(station_event_kind, _STATION_EVENT_MAX)
#undef DOMAIN_FROM_STRING

/* The stored authorization of a session: a decision, or "Unknown" while no token is known
 * (a station-numbered session whose first event carried none). */
static inline const char *session_auth_to_string(int a)
{
	return a < 0 ? "Unknown" : auth_status_to_string(a);
}

/* A firmware status event sets the station's firmware status; diagnostics and log upload
 * events set its diagnostics status. */
static inline bool station_event_sets_firmware(int kind)
{
	return kind == STATION_EVENT_FIRMWARE;
}

static inline const char *session_event_kind_to_string(int k)
{
	static const char *const names[_SESSION_EVENT_MAX] = {
	    [SESSION_OPEN] = "open",
	    [SESSION_UPDATE] = "update",
	    [SESSION_CLOSE] = "close",
	};
	return k >= 0 && k < _SESSION_EVENT_MAX ? names[k] : NULL;
}
