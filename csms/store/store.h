/* SPDX-License-Identifier: MIT */
/* The storage interface: domain-level operations, the only way svc/ and api/ reach the database. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATION_ID_MAX 48
#define SITE_ID_MAX    64
#define TOKEN_MAX      64
#define STORE_HASH_MAX 128

struct store;

enum site_kind { SITE_PUBLIC, SITE_RESIDENTIAL, SITE_RURAL, SITE_SWAP, _SITE_KIND_MAX, _SITE_KIND_INVALID = -22 };
enum reg_status { REG_ACCEPTED, REG_PENDING, REG_REJECTED, _REG_MAX, _REG_INVALID = -22 };
enum auth_status { AUTH_ACCEPTED, AUTH_BLOCKED, AUTH_EXPIRED, AUTH_INVALID, _AUTH_MAX, _AUTH_INVALID = -22 };

const char *site_kind_to_string(int k);
int site_kind_from_string(const char *s);
const char *reg_status_to_string(int r);
int reg_status_from_string(const char *s);
const char *auth_status_to_string(int a);
int auth_status_from_string(const char *s);

struct store_station {
	char id[STATION_ID_MAX + 1];
	char site_id[SITE_ID_MAX + 1]; /* "" if none */
	int site_kind;		       /* enum site_kind, or -1 without a site */
	int registration;	       /* enum reg_status */
	char password_hash[STORE_HASH_MAX]; /* "" if none */
};

/* A station row as the API shows it. Strings are borrowed for the duration of the callback. */
struct store_station_row {
	const char *id, *site_id, *site_kind, *registration, *protocol;
	const char *vendor, *model, *serial, *firmware, *firmware_status, *diagnostics_status;
	bool online;
	int64_t last_seen_ms; /* 0 if never */
	int64_t last_boot_ms;
};

struct store_boot {
	const char *protocol;
	const char *vendor, *model, *serial, *box_serial, *firmware, *iccid, *imsi, *meter_type,
		*meter_serial; /* NULL = absent */
	int64_t now_ms;
};

struct store_connector_row {
	int evse_id;
	int connector_id;
	const char *status, *error_code, *info, *vendor_error;
	int64_t updated_ms;
};

struct store_token {
	char token[TOKEN_MAX + 1];
	int status;		 /* enum auth_status as stored */
	int64_t expiry_ms;	 /* 0 = none */
	char parent[TOKEN_MAX + 1]; /* "" = none */
	char site_id[SITE_ID_MAX + 1]; /* "" = any site */
};

struct store_session_start {
	const char *station_id;
	int evse_id;
	int connector_id;
	const char *station_tx_id; /* 2.0.1: the station's transactionId; NULL for 1.6 */
	const char *id_tag;
	int auth_status; /* enum auth_status, or -1 (no token yet: "Unknown") */
	int64_t start_ms;
	bool has_meter_start;
	int64_t meter_start_wh;
	bool has_reservation;
	int64_t reservation_id;
	int64_t now_ms;
};

struct store_session_stop {
	int64_t stop_ms;
	int64_t meter_stop_wh;
	const char *reason;  /* NULL = none given */
	const char *id_tag;  /* NULL = none given */
};

struct store_session_row {
	int64_t id;
	const char *station_id, *station_tx_id, *id_tag, *auth_status, *stop_reason;
	int evse_id, connector_id;
	int64_t start_ms;
	bool has_meter_start;
	int64_t meter_start_wh;
	bool has_reservation;
	int64_t reservation_id;
	bool stopped;
	int64_t stop_ms, meter_stop_wh;
	int seq_gaps, offline_events;
	int64_t seq_max; /* -1 if none */
};

struct store_sample {
	int64_t session_id; /* 0 = not linked to a session */
	const char *station_id;
	int evse_id; /* 1.6: the connectorId */
	int64_t ts_ms;
	const char *measurand, *phase, *unit, *context, *location, *format, *value; /* NULL = absent */
};

struct store_orphan {
	const char *station_id;
	int64_t transaction_id;
	const char *id_tag, *reason;
	int64_t meter_stop_wh, ts_ms, received_ms;
};

struct store_session_filter {
	const char *station_id; /* NULL = all */
	int active;		/* -1 any, 0 stopped, 1 active */
	int limit, offset;
};

/* Open (creating if needed) the database at path (":memory:" works) and apply migrations.
 * sync_full selects synchronous=FULL (an fsync per commit). NULL on failure with a message
 * written into err. */
struct store *store_open(const char *path, bool sync_full, char *err, size_t err_len);
void store_close(struct store *s); /* commits an open group transaction first; NULL-safe */
int store_schema_version(struct store *s);

/* Group commit: writes open a transaction lazily; store_commit() ends it. 0 or -EIO. */
int store_commit(struct store *s);
void store_rollback(struct store *s);
bool store_dirty(const struct store *s);
/* The last error text from the database, for logs. */
const char *store_errmsg(struct store *s);

/* Sites and stations. */
int store_site_put(struct store *s, const char *id, int kind, int64_t now_ms);
int store_station_get(struct store *s, const char *id, struct store_station *ret);   /* -ENOENT */
int store_station_create(struct store *s, const char *id, int registration, int64_t now_ms);
/* Create or update site and password of a station (bulk import). */
int store_station_put(struct store *s, const char *id, const char *site_id, const char *password_hash,
		      int64_t now_ms);
int store_station_boot(struct store *s, const char *id, const struct store_boot *b);
int store_station_set_registration(struct store *s, const char *id, int registration); /* -ENOENT */
/* protocol: the subprotocol of a new connection, or NULL to keep the recorded one. */
int store_station_seen(struct store *s, const char *id, bool online, const char *protocol,
		       int64_t now_ms);
int store_station_event(struct store *s, const char *id, const char *kind, const char *status,
			int64_t ts_ms);
int store_stations_offline_all(struct store *s);
typedef int (*store_station_fn)(const struct store_station_row *row, void *ud);
int store_stations_list(struct store *s, const char *id_or_null, int limit, int offset,
			store_station_fn fn, void *ud);
int store_connector_status(struct store *s, const char *station_id, int evse_id, int connector_id,
			   const char *status, const char *error_code, const char *info,
			   const char *vendor_error, int64_t ts_ms);
typedef int (*store_connector_fn)(const struct store_connector_row *row, void *ud);
int store_connectors_list(struct store *s, const char *station_id, store_connector_fn fn, void *ud);

/* Id tokens. */
int store_token_get(struct store *s, const char *token, struct store_token *ret); /* -ENOENT */
int store_token_put(struct store *s, const struct store_token *t);

/* Sessions. store_session_start finds a replayed start (same station, connector, tag, time,
 * meter) and returns its id with *ret_existing = true. */
int store_session_start(struct store *s, const struct store_session_start *in, int64_t *ret_id,
			bool *ret_existing);
/* Owner and state of a session: -ENOENT if unknown. */
int store_session_owner(struct store *s, int64_t id, char ret_station[STATION_ID_MAX + 1],
			int *ret_evse, bool *ret_active);
int store_session_stop(struct store *s, int64_t id, const struct store_session_stop *in);
int store_session_id_tag(struct store *s, int64_t id, char ret_tag[TOKEN_MAX + 1]);
typedef int (*store_session_fn)(const struct store_session_row *row, void *ud);
int store_sessions_list(struct store *s, const struct store_session_filter *f, store_session_fn fn,
			void *ud);
int store_session_get(struct store *s, int64_t id, store_session_fn fn, void *ud); /* -ENOENT */
/* Stores a sample; a duplicate of a stored reading is ignored. -EINVAL without a measurand or
 * value. */
int store_sample_add(struct store *s, const struct store_sample *in);
typedef int (*store_sample_fn)(const struct store_sample *row, void *ud);
int store_samples_list(struct store *s, int64_t session_id, store_sample_fn fn, void *ud);

int store_orphan_add(struct store *s, const struct store_orphan *o);
typedef int (*store_orphan_fn)(const struct store_orphan *row, void *ud);
int store_orphans_list(struct store *s, int limit, store_orphan_fn fn, void *ud);

/* OCPP 2.0.1 transactions, keyed by the station's transactionId. */
struct store_tx_state {
	int64_t id;
	bool active;
	int64_t start_ms;
	bool has_meter_start;
	bool has_token;
	bool has_meter_last;
	int64_t meter_last_wh, meter_last_ms;
};
int store_tx_lookup(struct store *s, const char *station_id, const char *station_tx_id,
		    struct store_tx_state *ret); /* -ENOENT */
/* Record event seq_no of a session: -EEXIST if that seqNo is already recorded (a replay). */
int store_tx_event_add(struct store *s, int64_t session_id, int64_t seq_no, const char *event_type,
		       const char *trigger, int64_t ts_ms, bool offline, int64_t now_ms);
/* Account a newly recorded event (after store_tx_event_add succeeded): seq_max, seq_gaps and
 * offline_events of the session. */
int store_tx_seq_update(struct store *s, int64_t session_id, int64_t seq_no, bool offline);
int store_tx_set_start(struct store *s, int64_t session_id, int64_t start_ms, bool has_meter,
		       int64_t meter_start_wh);
int store_tx_set_token(struct store *s, int64_t session_id, const char *id_tag, int auth_status);
int store_tx_set_evse(struct store *s, int64_t session_id, int evse_id, int connector_id);
int store_tx_meter_last(struct store *s, int64_t session_id, int64_t wh, int64_t ts_ms);

/* OCPP 2.0.1 device model (NotifyReport). */
struct store_variable {
	const char *component, *component_instance; /* instance "" = none */
	int evse_id, connector_id;			/* -1 = none */
	const char *variable, *variable_instance;
	const char *attribute_type; /* Actual, Target, MinSet, MaxSet */
	const char *value, *mutability, *data_type, *unit; /* NULL = absent */
};
int store_variable_put(struct store *s, const char *station_id, const struct store_variable *v,
		       int64_t now_ms);
typedef int (*store_variable_fn)(const struct store_variable *row, void *ud);
int store_variables_list(struct store *s, const char *station_id, store_variable_fn fn, void *ud);
/* Record part seq_no of report request_id; tbc false completes it. */
int store_report_part(struct store *s, const char *station_id, int64_t request_id, int64_t seq_no,
		      bool tbc, int64_t now_ms);
/* Parts received and completion of a report: -ENOENT if none. */
int store_report_status(struct store *s, const char *station_id, int64_t request_id, int *ret_parts,
			bool *ret_complete);
/* Station notifications (NotifyEvent, SecurityEventNotification, LogStatusNotification …). */
int store_notice_add(struct store *s, const char *station_id, const char *kind, int64_t ts_ms,
		     const char *detail);

/* ---- command log (0003_command_log.sql); two entries for struct store_ops */
/* One operator command and how it ended. Strings are borrowed (for the callback when listed);
 * NULL = none. */
struct store_command {
	int64_t id; /* set by the store */
	const char *station_id, *who, *kind, *action, *request, *status, *station_status;
	const char *error_code, *detail, *response; /* response: the answer's JSON text */
	int64_t requested_ms, answered_ms, latency_ms;
};
/* Append a row to the open group transaction; *ret_id (may be NULL) gets its id. */
int store_command_add(struct store *s, const struct store_command *c, int64_t *ret_id);
typedef int (*store_command_fn)(const struct store_command *row, void *ud);
/* Rows newest first, of one station or (NULL) all. */
int store_commands_list(struct store *s, const char *station_or_null, int limit, int offset,
			store_command_fn fn, void *ud);
/* ---- end command log */
