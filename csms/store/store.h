/* SPDX-License-Identifier: MIT */
/* The storage interface: a table of domain-level operations (struct store_ops) that a backend
 * implements, and the only way svc/ and api/ reach the database. Callers use the store_xxx()
 * wrappers below; SQL (or any other query language) never leaves the backend's file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../svc/domain.h"

struct store_ops;

/* A backend's handle starts with this; the backend's own state follows it. */
struct store {
	const struct store_ops *ops;
};

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
	const char *protocol; /* the subprotocol name, stored as given */
	const char *vendor, *model, *serial, *box_serial, *firmware, *iccid, *imsi, *meter_type,
		*meter_serial; /* NULL = absent */
	int64_t now_ms;
};

struct store_connector_row {
	int evse_id;
	int connector_id;
	const char *status, *error_code, *info, *vendor_error;
	int64_t updated_ms;
	const char *station_id; /* set by connectors_query (dash), NULL from connectors_list */
};

struct store_token {
	char token[TOKEN_MAX + 1];
	int status;		 /* enum auth_status as stored */
	int64_t expiry_ms;	 /* 0 = none */
	char parent[TOKEN_MAX + 1]; /* "" = none */
	char site_id[SITE_ID_MAX + 1]; /* "" = any site */
};

/* A new session. Its key: (station_id, station_tx_id) when the station numbers its sessions,
 * else (station_id, evse_id, id_tag, start_ms, meter_start_wh). */
struct store_session_open {
	const char *station_id;
	int evse_id;
	int connector_id;
	const char *station_tx_id; /* the station's own session id; NULL if the CSMS numbers it */
	const char *id_tag;	   /* NULL = none yet */
	int auth_status;	   /* enum auth_status, or -1 (no token yet) */
	int64_t start_ms;
	bool has_meter_start;
	int64_t meter_start_wh;
	bool has_reservation;
	int64_t reservation_id;
	int64_t now_ms;
};

/* What svc needs to know of a stored session to apply an event to it. */
struct store_session_state {
	int64_t id;
	char station_id[STATION_ID_MAX + 1];
	int evse_id, connector_id;
	bool active;
	int64_t start_ms;
	bool has_meter_start;
	bool has_token;
	bool has_meter_last;
	int64_t meter_last_wh, meter_last_ms;
};

struct store_session_close {
	int64_t stop_ms;
	int64_t meter_stop_wh;
	const char *reason; /* the station's word, stored as given; NULL = none given */
	const char *id_tag; /* NULL = none given */
};

/* One event of a session numbered by the station (seq_no unique per session). */
struct store_session_event {
	int64_t seq_no;
	int kind;	     /* enum session_event_kind */
	const char *label;   /* the protocol's word for the event, stored as given */
	const char *trigger; /* "" = none */
	int64_t ts_ms;
	bool offline;
	int64_t now_ms;
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
	int64_t seq_max;      /* -1 if none */
	int sample_conflicts; /* readings that came again with another value */
};

/* A meter reading. The key of a reading is (station_id, evse_id, ts_ms, measurand, phase,
 * context, location). Texts are stored as the station sent them (after the adapter's
 * defaults); the kinds are the domain's reading of them. */
struct store_sample {
	int64_t session_id; /* 0 = not linked to a session */
	const char *station_id;
	int evse_id; /* 1.6: the connectorId */
	int64_t ts_ms;
	const char *measurand, *phase, *unit, *context, *location, *format, *value; /* NULL = absent */
	int measurand_kind; /* enum measurand_kind (not stored) */
	struct signed_meter_data sig;
};

/* A reading that arrived again under a stored key with a different value. */
struct store_sample_conflict {
	const struct store_sample *sample; /* the new reading */
	const char *stored_value;	   /* the value kept */
	int64_t received_ms;
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

/* OCPP 2.0.1 device model (NotifyReport): one variable attribute. */
struct store_variable {
	const char *component, *component_instance; /* instance "" = none */
	int evse_id, connector_id;			/* -1 = none */
	const char *variable, *variable_instance;
	const char *attribute_type; /* NULL = the actual value */
	const char *value, *mutability, *data_type, *unit; /* NULL = absent */
};

typedef int (*store_station_fn)(const struct store_station_row *row, void *ud);
typedef int (*store_connector_fn)(const struct store_connector_row *row, void *ud);
typedef int (*store_session_fn)(const struct store_session_row *row, void *ud);
typedef int (*store_sample_fn)(const struct store_sample *row, void *ud);
typedef int (*store_orphan_fn)(const struct store_orphan *row, void *ud);
typedef int (*store_variable_fn)(const struct store_variable *row, void *ud);

/* One operator command and how it ended (command log, 0003_command_log.sql). Strings are
 * borrowed (for the callback when listed); NULL = none. */
struct store_command {
	int64_t id; /* set by the store */
	const char *station_id, *who, *kind, *action, *request, *status, *station_status;
	const char *error_code, *detail, *response; /* response: the answer's JSON text */
	int64_t requested_ms, answered_ms, latency_ms;
};
typedef int (*store_command_fn)(const struct store_command *row, void *ud);


/* ---- planner (0005_planner.sql) */

/* A site as the planner sees it. */
struct store_site {
	char id[SITE_ID_MAX + 1];
	int kind;	  /* enum site_kind */
	int64_t limit_w;  /* grid connection limit, -1 = none */
};

/* What a session needs. Optional numbers are -1 when unknown. */
struct store_needs {
	int64_t session_id;
	char source[16];	 /* "ev", "station", "operator", "default" */
	int64_t departure_ms;	 /* -1 = none */
	int64_t energy_wh;	 /* still needed at meter_wh; -1 = from SoC */
	int target_soc;		 /* percent, -1 */
	int64_t capacity_wh;	 /* -1 */
	int soc;		 /* percent when told, -1 */
	bool v2g;		 /* the driver allows discharge */
	int soc_floor;		 /* percent, -1 */
	int64_t max_charge_w;	 /* -1 */
	int64_t max_discharge_w; /* -1 */
	bool bidirectional;	 /* the EVSE declared it can discharge (docs/v2g.md) */
	int64_t meter_wh;	 /* import register when told, -1 */
	int64_t export_wh;	 /* export register when told, -1 */
	int64_t updated_ms;
};

/* An active session of a site, with what the planner needs of it. */
struct store_site_session {
	int64_t id;
	const char *station_id, *station_tx_id; /* station_tx_id NULL for 1.6 */
	int evse_id;
	int64_t start_ms;
	int64_t meter_wh;	/* latest import register (or the start), -1 unknown */
	int64_t meter_start_wh; /* -1 unknown */
	int64_t export_wh;	/* latest export register, -1 unknown */
	int64_t export_first_wh; /* first export register, -1 unknown */
};
typedef int (*store_site_session_fn)(const struct store_site_session *row, void *ud);

struct store_grid_event {
	int64_t id;	   /* set by the store */
	const char *sites; /* comma-separated site ids */
	int64_t start_ms, end_ms;
	int64_t reduce_w, export_w;
	int64_t bonus_fen_per_kwh;
	int64_t created_ms;
};
typedef int (*store_grid_event_fn)(const struct store_grid_event *row, void *ud);

/* A stored JSON document (plans, capabilities). */
typedef int (*store_doc_fn)(const char *key, int64_t ts_ms, const char *json, void *ud);
/* ---- end planner */
/* ---- dash: the API's filtered lists, history and summary (0007_api_indexes.sql) */
enum store_station_sort { STORE_SORT_ID, STORE_SORT_LAST_SEEN, STORE_SORT_SITE };

/* A page of stations. Filters NULL / -1 = any. */
struct store_station_query {
	const char *site_id;
	int site_kind;		      /* enum site_kind */
	int registration;	      /* enum reg_status */
	const char *protocol;
	int online;		      /* 0 / 1 */
	const char *id_prefix;	      /* ids starting with it */
	const char *connector_status; /* stations with a connector in this status */
	int sort;		      /* enum store_station_sort */
	bool desc;
	const char *after_id;	      /* keyset (sort by id only): ids after (before if desc) it */
	int limit, offset;
};

/* A page of sessions, newest (highest id) first. Filters NULL / 0 / -1 = any. */
struct store_session_query {
	const char *station_id, *site_id, *id_tag;
	int active;		/* -1 any, 0 stopped, 1 active */
	int64_t from_ms, to_ms; /* start_ms in [from_ms, to_ms) */
	int64_t before_id;	/* keyset: ids below it */
	int limit, offset;
};

/* Where a page of readings ended: the next page starts after it ({INT64_MIN, 0}: the start). */
struct store_sample_cursor {
	int64_t ts_ms;
	int64_t seq; /* the backend's order of readings with the same time */
};

/* One line of a station's history: a status event, a notice or a registration decision. */
struct store_history_row {
	const char *source; /* "status" (firmware/diagnostics status) or "notice" */
	const char *kind, *text;
	int64_t ts_ms;
};
typedef int (*store_history_fn)(const struct store_history_row *row, void *ud);

#define STORE_SUMMARY_STATUSES 16

/* The dashboard's overview figures. Index _SITE_KIND_MAX: stations without a site. */
struct store_summary {
	int64_t stations, online, pending;
	int64_t by_kind[_SITE_KIND_MAX + 1], online_by_kind[_SITE_KIND_MAX + 1];
	int64_t by_reg[_REG_MAX];
	int64_t sessions_active, sessions_today, energy_today_wh;
	int n_status; /* connectors by status */
	struct {
		char status[32];
		int64_t count;
	} connectors[STORE_SUMMARY_STATUSES];
};
/* ---- end dash */

/* A tariff calendar as stored: its JSON document (0004_tariffs.sql). Borrowed strings. */
struct store_tariff {
	const char *id, *doc;
	int64_t updated_ms;
};
typedef int (*store_tariff_fn)(const struct store_tariff *row, void *ud);

/* ---- certificates (0010_certificates.sql) */
/* A certificate the operator's CA issued to a station. Borrowed strings. */
struct store_cert {
	int64_t id;
	const char *station_id, *serial, *type, *pem;
	int64_t issued_ms, not_after_ms;
	int64_t renew_requested_ms; /* 0 = renewal not asked yet */
};
typedef int (*store_cert_fn)(const struct store_cert *row, void *ud);
/* ---- end certificates */

/* A site and the calendar it references. Borrowed strings. */
struct store_site_tariff {
	const char *id;
	int kind;		/* enum site_kind */
	const char *tariff_id;	/* "" = none */
};
typedef int (*store_site_tariff_fn)(const struct store_site_tariff *row, void *ud);

/* A session as energy figures need it, with its site. Borrowed strings. */
struct store_energy_session {
	int64_t id;
	const char *site_id;
	int site_kind;		/* enum site_kind */
	const char *tariff_id;	/* the site's calendar; "" = none */
	int64_t start_ms;
	bool has_meter_start;
	int64_t meter_start_wh;
	bool stopped;
	int64_t stop_ms, meter_stop_wh;
};
typedef int (*store_energy_session_fn)(const struct store_energy_session *row, void *ud);

/* Stopped sessions that started more than this before a window are not looked for in it (the
 * bound that keeps a site-day one index range); active sessions are found whatever their age. */
#define STORE_ENERGY_LOOKBACK_MS (7 * 86400000LL)

#define STORE_OPS_VERSION 2

/*
** A storage backend. Every operation is synchronous and returns >= 0 on success or a negative
** errno (-EIO for a storage failure, -ENOENT for a missing row where noted). Writes join an open
** group transaction or open one (commit() ends it); reads see the group's own writes. Strings
** in rows handed to a callback are borrowed for the duration of the callback; a callback that
** returns < 0 stops the listing and that value is returned. New operations are appended at the
** end and version is bumped; nothing is ever reordered, so a backend built for version n works
** with callers of version n and lower (sqlite3_io_methods' iVersion).
*/
struct store_ops {
	int version;	  /* STORE_OPS_VERSION the backend implements */
	const char *name; /* "sqlite", "postgres" */

	/* Open (creating if needed) the store at dsn and bring its schema up to date. sync_full:
	 * every commit reaches the disk before it returns. NULL on failure, with a message in err. */
	struct store *(*open)(const char *dsn, bool sync_full, char *err, size_t err_len);
	/* Commit an open group transaction, then release everything. NULL-safe. */
	void (*close)(struct store *s);
	/* The schema version (the number of migrations applied). */
	int (*schema_version)(struct store *s);
	/* End the group transaction: every write since the last commit is durable together, or
	 * (-EIO) none is and the group is rolled back. 0 without an open group. */
	int (*commit)(struct store *s);
	/* Drop every write since the last commit. */
	void (*rollback)(struct store *s);
	/* True while a group transaction holds uncommitted writes. */
	bool (*dirty)(const struct store *s);
	/* The backend's text of its last error, for logs (static or owned by s). */
	const char *(*errmsg)(struct store *s);

	/* Create or update site id of kind (enum site_kind). */
	int (*site_put)(struct store *s, const char *id, int kind, int64_t now_ms);
	/* Station id into *ret; -ENOENT if unknown. */
	int (*station_get)(struct store *s, const char *id, struct store_station *ret);
	/* A new station without site or password; -EEXIST if it exists. */
	int (*station_create)(struct store *s, const char *id, int registration, int64_t now_ms);
	/* Create or update site and password hash of a station (bulk import); registration of an
	 * existing station is kept. */
	int (*station_put)(struct store *s, const char *id, const char *site_id,
			   const char *password_hash, int64_t now_ms);
	/* Record the identity a station reports at boot; marks it online and seen. */
	int (*station_boot)(struct store *s, const char *id, const struct store_boot *b);
	/* -ENOENT if the station is unknown. */
	int (*station_set_registration)(struct store *s, const char *id, int registration);
	/* Online state and last contact; protocol NULL keeps the recorded one. */
	int (*station_seen)(struct store *s, const char *id, bool online, const char *protocol,
			    int64_t now_ms);
	/* Append a status event of kind (enum station_event_kind); the station's firmware status
	 * (STATION_EVENT_FIRMWARE) or diagnostics status (the others) becomes status. */
	int (*station_event)(struct store *s, const char *id, int kind, const char *status,
			     int64_t ts_ms);
	/* Every station offline (at start-up: no connection survives a restart). */
	int (*stations_offline_all)(struct store *s);
	/* Stations by id (one, id_or_null set: -ENOENT if unknown) or all by page. Returns the
	 * number of rows. */
	int (*stations_list)(struct store *s, const char *id_or_null, int limit, int offset,
			     store_station_fn fn, void *ud);
	/* Create or replace the status of one connector of an EVSE. */
	int (*connector_status)(struct store *s, const char *station_id, int evse_id,
				int connector_id, const char *status, const char *error_code,
				const char *info, const char *vendor_error, int64_t ts_ms);
	int (*connectors_list)(struct store *s, const char *station_id, store_connector_fn fn,
			       void *ud);

	/* Token into *ret; -ENOENT if unknown. */
	int (*token_get)(struct store *s, const char *token, struct store_token *ret);
	/* Create or replace a token. */
	int (*token_put)(struct store *s, const struct store_token *t);

	/* Create a session; its id in *ret_id. -EEXIST (nothing written) if a session with the
	 * same key exists: the caller looks it up (session_find_start or session_find_tx). */
	int (*session_open)(struct store *s, const struct store_session_open *in, int64_t *ret_id);
	/* The CSMS-numbered session with this start key; -ENOENT if none. */
	int (*session_find_start)(struct store *s, const struct store_session_open *key,
				  int64_t *ret_id);
	/* The session the station numbers station_tx_id; -ENOENT if none. */
	int (*session_find_tx)(struct store *s, const char *station_id, const char *station_tx_id,
			       struct store_session_state *ret);
	/* Session id; -ENOENT if none. */
	int (*session_state)(struct store *s, int64_t id, struct store_session_state *ret);
	/* End an active session; a stopped one is left as it is. */
	int (*session_close)(struct store *s, int64_t id, const struct store_session_close *in);
	/* The id tag a session was started with; -ENOENT if none. */
	int (*session_id_tag)(struct store *s, int64_t id, char ret_tag[TOKEN_MAX + 1]);
	/* Sessions newest first; returns the number of rows. */
	int (*sessions_list)(struct store *s, const struct store_session_filter *f,
			     store_session_fn fn, void *ud);
	/* One session; -ENOENT if none, else 1. */
	int (*session_get)(struct store *s, int64_t id, store_session_fn fn, void *ud);
	/* Move the start; has_meter also sets the meter at start. */
	int (*session_set_start)(struct store *s, int64_t id, int64_t start_ms, bool has_meter,
				 int64_t meter_start_wh);
	int (*session_set_token)(struct store *s, int64_t id, const char *id_tag, int auth_status);
	int (*session_set_evse)(struct store *s, int64_t id, int evse_id, int connector_id);
	/* The energy register reading wh at ts_ms, kept if it is the latest seen. */
	int (*session_meter_last)(struct store *s, int64_t id, int64_t wh, int64_t ts_ms);
	/* Record event seq_no of a station-numbered session: -EEXIST (nothing written) if that
	 * seq_no is recorded already. */
	int (*session_event_add)(struct store *s, int64_t id, const struct store_session_event *ev);
	/* Account a newly recorded seq_no: highest seen, gaps, offline events. */
	int (*session_seq_update)(struct store *s, int64_t id, int64_t seq_no, bool offline);

	/* Store a reading: 1 if stored; 0 if a reading with its key is stored already, and then
	 * its value is copied into ret_stored (truncated to n; n may be 0). -EINVAL without a
	 * station, measurand or value. A reading costs one write when new. */
	int (*sample_add)(struct store *s, const struct store_sample *in, char *ret_stored,
			  size_t n);
	/* Keep a conflicting reading for the operator and count it on its session. */
	int (*sample_conflict_add)(struct store *s, const struct store_sample_conflict *c);
	/* Conflicts recorded for session_id (0: in total). */
	int (*sample_conflicts)(struct store *s, int64_t session_id, int64_t *ret_count);
	/* The readings of a session in time order. */
	int (*samples_list)(struct store *s, int64_t session_id, store_sample_fn fn, void *ud);

	/* A stop for a session this store does not know for that station. */
	int (*orphan_add)(struct store *s, const struct store_orphan *o);
	/* Newest first. */
	int (*orphans_list)(struct store *s, int limit, store_orphan_fn fn, void *ud);

	/* Create or update one device-model attribute. */
	int (*variable_put)(struct store *s, const char *station_id, const struct store_variable *v,
			    int64_t now_ms);
	int (*variables_list)(struct store *s, const char *station_id, store_variable_fn fn,
			      void *ud);
	/* Record part seq_no of report request_id; tbc false completes it. */
	int (*report_part)(struct store *s, const char *station_id, int64_t request_id,
			   int64_t seq_no, bool tbc, int64_t now_ms);
	/* Parts received and completion of a report: -ENOENT if none. */
	int (*report_status)(struct store *s, const char *station_id, int64_t request_id,
			     int *ret_parts, bool *ret_complete);
	/* Append a station notification (a kind and a detail text, kept verbatim). */
	int (*notice_add)(struct store *s, const char *station_id, const char *kind, int64_t ts_ms,
			  const char *detail);
	/* Operator commands. Append a row to the open group transaction; *ret_id (may be NULL)
	 * gets its id. */
	int (*command_add)(struct store *s, const struct store_command *c, int64_t *ret_id);
	/* Command rows newest first, of one station or (NULL) all. */
	int (*commands_list)(struct store *s, const char *station_or_null, int limit, int offset,
			     store_command_fn fn, void *ud);
	/* ---- planner (0005_planner.sql) */
	/* The site id: its kind and limit. -ENOENT if unknown. */
	int (*site_get)(struct store *s, const char *id, struct store_site *ret);
	/* Set (limit_w >= 0) or clear (-1) the site's grid limit. -ENOENT if unknown. */
	int (*site_set_limit)(struct store *s, const char *id, int64_t limit_w);
	/* Replace the needs of n->session_id. */
	int (*needs_put)(struct store *s, const struct store_needs *n);
	/* -ENOENT when none are stored. */
	int (*needs_get)(struct store *s, int64_t session_id, struct store_needs *ret);
	/* Active sessions at stations of the site, by id. */
	int (*site_sessions)(struct store *s, const char *site_id, store_site_session_fn fn,
			     void *ud);
	/* Record an export register reading of a session (first and latest are kept). */
	int (*session_export)(struct store *s, int64_t session_id, int64_t wh, int64_t ts_ms);
	int (*grid_event_add)(struct store *s, const struct store_grid_event *e, int64_t *ret_id);
	/* Events ending after from_ms, by start; site_or_null filters on one site. */
	int (*grid_events_list)(struct store *s, const char *site_or_null, int64_t from_ms,
				store_grid_event_fn fn, void *ud);
	/* The site's current plan (replaces the previous one). */
	int (*site_plan_put)(struct store *s, const char *site_id, int64_t planned_ms,
			     const char *json);
	/* -ENOENT when the site has none. fn's key is the site id. */
	int (*site_plan_get)(struct store *s, const char *site_id, store_doc_fn fn, void *ud);
	int (*session_plan_put)(struct store *s, int64_t session_id, const char *site_id,
				int64_t planned_ms, const char *json);
	/* -ENOENT when the session has none. fn's key is the site id. */
	int (*session_plan_get)(struct store *s, int64_t session_id, store_doc_fn fn, void *ud);
	/* Import and export register readings of the site's sessions with ts in [from, to), by
	 * session then time (row->session_id, ts_ms, measurand, unit, value). */
	int (*site_energy_samples)(struct store *s, const char *site_id, int64_t from_ms,
				   int64_t to_ms, store_sample_fn fn, void *ud);
	int (*capability_put)(struct store *s, const char *model, const char *json, int64_t now_ms);
	/* -ENOENT when none is stored. */
	int (*capability_get)(struct store *s, const char *model, store_doc_fn fn, void *ud);
	/* ---- end planner */
	/* ---- dash (API lists, history, summary) */
	/* A page of stations by q; *ret_total (may be NULL) gets the count of all matches. */
	int (*stations_query)(struct store *s, const struct store_station_query *q,
			      store_station_fn fn, void *ud, int64_t *ret_total);
	/* A page of sessions by q; *ret_total (may be NULL) gets the count of matches, counted up
	 * to total_max (then total_max + 1 means "more"). */
	int (*sessions_query)(struct store *s, const struct store_session_query *q,
			      store_session_fn fn, void *ud, int64_t total_max, int64_t *ret_total);
	/* Up to limit readings of a session after *cursor, in time order, of one measurand (NULL:
	 * all); *cursor moves to the last row returned. Returns the number of rows. */
	int (*samples_page)(struct store *s, int64_t session_id, const char *measurand_or_null,
			    int limit, struct store_sample_cursor *cursor, store_sample_fn fn,
			    void *ud);
	/* A page of a station's history (status events and notices), newest first. */
	int (*station_history)(struct store *s, const char *station_id, int limit, int offset,
			       store_history_fn fn, void *ud);
	/* Connectors in a status (NULL: any) across stations, by station; rows carry station_id. */
	int (*connectors_query)(struct store *s, const char *status_or_null, int limit, int offset,
				store_connector_fn fn, void *ud);
	/* Overview figures; sessions "today" started at or after day_start_ms. */
	int (*summary)(struct store *s, int64_t day_start_ms, struct store_summary *ret);
	/* ---- end dash */

	/* Tariffs (0004_tariffs.sql). Create or replace calendar id with its document. */
	int (*tariff_put)(struct store *s, const char *id, const char *doc, int64_t now_ms);
	/* Calendars by id (one, id_or_null set: -ENOENT if unknown) or all. Returns the number of
	 * rows. */
	int (*tariffs_list)(struct store *s, const char *id_or_null, store_tariff_fn fn, void *ud);
	/* Site site_id references calendar tariff_id (NULL: none). -ENOENT if the site is unknown;
	 * the calendar is not checked here (svc checks it is loaded). */
	int (*site_tariff_set)(struct store *s, const char *site_id, const char *tariff_id);
	/* Sites with their calendars, by id: one (site_or_null set: -ENOENT if unknown) or all.
	 * Returns the number of rows. */
	int (*site_tariffs_list)(struct store *s, const char *site_or_null,
				 store_site_tariff_fn fn, void *ud);
	/* Sessions of the stations of a site (site_or_null; NULL: every site) that overlap
	 * [from_ms, to_ms): started before to_ms and still active or stopped at or after from_ms
	 * (stopped ones only if they started at or after from_ms - STORE_ENERGY_LOOKBACK_MS), by
	 * id. Sessions of stations without a site are not listed. Returns the number of rows. */
	int (*energy_sessions_list)(struct store *s, const char *site_or_null, int64_t from_ms,
				    int64_t to_ms, store_energy_session_fn fn, void *ud);
	/* The energy register readings of a session (Energy.Active.Import.Register and
	 * Energy.Active.Export.Register, without a phase) in time order; measurand_kind is set
	 * (MEAS_ENERGY_IMPORT_REGISTER or MEAS_ENERGY_EXPORT_REGISTER), sig is not. */
	int (*session_energy_samples)(struct store *s, int64_t session_id, store_sample_fn fn,
				      void *ud);
	/* ---- certificates (0010_certificates.sql) */
	/* Record a certificate issued to c->station_id (c->id and renew_requested_ms ignored). */
	int (*cert_add)(struct store *s, const struct store_cert *c);
	/* Certificates of one station (or, NULL, all) newest first. Returns the number of rows. */
	int (*certs_list)(struct store *s, const char *station_or_null, int limit,
			  store_cert_fn fn, void *ud);
	/* The newest certificate of each station when it expires before before_ms, by expiry.
	 * Returns the number of rows. */
	int (*certs_expiring)(struct store *s, int64_t before_ms, store_cert_fn fn, void *ud);
	/* Note that renewal of certificate id was asked at now_ms. */
	int (*cert_renew_mark)(struct store *s, int64_t id, int64_t now_ms);
	/* Replace a station's password hash. -ENOENT if the station is unknown. */
	int (*station_password_set)(struct store *s, const char *id, const char *password_hash);
	/* A page of a station's security events (its notices of kind "security"), newest first.
	 * Returns the number of rows. */
	int (*security_events)(struct store *s, const char *station_id, int limit, int offset,
			       store_history_fn fn, void *ud);
	/* ---- end certificates */
};

/* The SQLite backend (WAL, statements prepared once, group commit). */
extern const struct store_ops store_sqlite_ops;

/* Open the SQLite store at path (":memory:" works). See store_ops.open. */
static inline struct store *store_open(const char *path, bool sync_full, char *err,
				       size_t err_len)
{
	return store_sqlite_ops.open(path, sync_full, err, err_len);
}

/* NULL-safe, whatever the backend. */
static inline void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

/* The wrappers: store_xxx(s, …) is s->ops->xxx(s, …); see struct store_ops for contracts. */
#define STORE_CALL(op, ...) s->ops->op(s, __VA_ARGS__)

static inline int store_schema_version(struct store *s)
{
	return s->ops->schema_version(s);
}
static inline int store_commit(struct store *s)
{
	return s->ops->commit(s);
}
static inline void store_rollback(struct store *s)
{
	s->ops->rollback(s);
}
static inline bool store_dirty(const struct store *s)
{
	return s->ops->dirty(s);
}
static inline const char *store_errmsg(struct store *s)
{
	return s->ops->errmsg(s);
}
static inline int store_site_put(struct store *s, const char *id, int kind, int64_t now_ms)
{
	return STORE_CALL(site_put, id, kind, now_ms);
}
static inline int store_station_get(struct store *s, const char *id, struct store_station *ret)
{
	return STORE_CALL(station_get, id, ret);
}
static inline int store_station_create(struct store *s, const char *id, int registration,
				       int64_t now_ms)
{
	return STORE_CALL(station_create, id, registration, now_ms);
}
static inline int store_station_put(struct store *s, const char *id, const char *site_id,
				    const char *password_hash, int64_t now_ms)
{
	return STORE_CALL(station_put, id, site_id, password_hash, now_ms);
}
static inline int store_station_boot(struct store *s, const char *id, const struct store_boot *b)
{
	return STORE_CALL(station_boot, id, b);
}
static inline int store_station_set_registration(struct store *s, const char *id,
						 int registration)
{
	return STORE_CALL(station_set_registration, id, registration);
}
static inline int store_station_seen(struct store *s, const char *id, bool online,
				     const char *protocol, int64_t now_ms)
{
	return STORE_CALL(station_seen, id, online, protocol, now_ms);
}
static inline int store_station_event(struct store *s, const char *id, int kind,
				      const char *status, int64_t ts_ms)
{
	return STORE_CALL(station_event, id, kind, status, ts_ms);
}
static inline int store_stations_offline_all(struct store *s)
{
	return s->ops->stations_offline_all(s);
}
static inline int store_stations_list(struct store *s, const char *id_or_null, int limit,
				      int offset, store_station_fn fn, void *ud)
{
	return STORE_CALL(stations_list, id_or_null, limit, offset, fn, ud);
}
static inline int store_connector_status(struct store *s, const char *station_id, int evse_id,
					 int connector_id, const char *status,
					 const char *error_code, const char *info,
					 const char *vendor_error, int64_t ts_ms)
{
	return STORE_CALL(connector_status, station_id, evse_id, connector_id, status, error_code,
			  info, vendor_error, ts_ms);
}
static inline int store_connectors_list(struct store *s, const char *station_id,
					store_connector_fn fn, void *ud)
{
	return STORE_CALL(connectors_list, station_id, fn, ud);
}
static inline int store_token_get(struct store *s, const char *token, struct store_token *ret)
{
	return STORE_CALL(token_get, token, ret);
}
static inline int store_token_put(struct store *s, const struct store_token *t)
{
	return STORE_CALL(token_put, t);
}
static inline int store_session_open(struct store *s, const struct store_session_open *in,
				     int64_t *ret_id)
{
	return STORE_CALL(session_open, in, ret_id);
}
static inline int store_session_find_start(struct store *s, const struct store_session_open *key,
					   int64_t *ret_id)
{
	return STORE_CALL(session_find_start, key, ret_id);
}
static inline int store_session_find_tx(struct store *s, const char *station_id,
					const char *station_tx_id, struct store_session_state *ret)
{
	return STORE_CALL(session_find_tx, station_id, station_tx_id, ret);
}
static inline int store_session_state(struct store *s, int64_t id,
				      struct store_session_state *ret)
{
	return STORE_CALL(session_state, id, ret);
}
/* Owner station, EVSE and whether session id is active: -ENOENT if unknown. */
static inline int store_session_owner(struct store *s, int64_t id,
				      char ret_station[STATION_ID_MAX + 1], int *ret_evse,
				      bool *ret_active)
{
	struct store_session_state st;
	int r = STORE_CALL(session_state, id, &st);

	if (r < 0)
		return r;
	memcpy(ret_station, st.station_id, STATION_ID_MAX + 1);
	*ret_evse = st.evse_id;
	*ret_active = st.active;
	return 0;
}
static inline int store_session_close(struct store *s, int64_t id,
				      const struct store_session_close *in)
{
	return STORE_CALL(session_close, id, in);
}
static inline int store_session_id_tag(struct store *s, int64_t id, char ret_tag[TOKEN_MAX + 1])
{
	return STORE_CALL(session_id_tag, id, ret_tag);
}
static inline int store_sessions_list(struct store *s, const struct store_session_filter *f,
				      store_session_fn fn, void *ud)
{
	return STORE_CALL(sessions_list, f, fn, ud);
}
static inline int store_session_get(struct store *s, int64_t id, store_session_fn fn, void *ud)
{
	return STORE_CALL(session_get, id, fn, ud);
}
static inline int store_session_set_start(struct store *s, int64_t id, int64_t start_ms,
					  bool has_meter, int64_t meter_start_wh)
{
	return STORE_CALL(session_set_start, id, start_ms, has_meter, meter_start_wh);
}
static inline int store_session_set_token(struct store *s, int64_t id, const char *id_tag,
					  int auth_status)
{
	return STORE_CALL(session_set_token, id, id_tag, auth_status);
}
static inline int store_session_set_evse(struct store *s, int64_t id, int evse_id,
					 int connector_id)
{
	return STORE_CALL(session_set_evse, id, evse_id, connector_id);
}
static inline int store_session_meter_last(struct store *s, int64_t id, int64_t wh, int64_t ts_ms)
{
	return STORE_CALL(session_meter_last, id, wh, ts_ms);
}
static inline int store_session_event_add(struct store *s, int64_t id,
					  const struct store_session_event *ev)
{
	return STORE_CALL(session_event_add, id, ev);
}
static inline int store_session_seq_update(struct store *s, int64_t id, int64_t seq_no,
					   bool offline)
{
	return STORE_CALL(session_seq_update, id, seq_no, offline);
}
static inline int store_sample_add(struct store *s, const struct store_sample *in,
				   char *ret_stored, size_t n)
{
	return STORE_CALL(sample_add, in, ret_stored, n);
}
static inline int store_sample_conflict_add(struct store *s,
					    const struct store_sample_conflict *c)
{
	return STORE_CALL(sample_conflict_add, c);
}
static inline int store_sample_conflicts(struct store *s, int64_t session_id, int64_t *ret_count)
{
	return STORE_CALL(sample_conflicts, session_id, ret_count);
}
static inline int store_samples_list(struct store *s, int64_t session_id, store_sample_fn fn,
				     void *ud)
{
	return STORE_CALL(samples_list, session_id, fn, ud);
}
static inline int store_orphan_add(struct store *s, const struct store_orphan *o)
{
	return STORE_CALL(orphan_add, o);
}
static inline int store_orphans_list(struct store *s, int limit, store_orphan_fn fn, void *ud)
{
	return STORE_CALL(orphans_list, limit, fn, ud);
}
static inline int store_variable_put(struct store *s, const char *station_id,
				     const struct store_variable *v, int64_t now_ms)
{
	return STORE_CALL(variable_put, station_id, v, now_ms);
}
static inline int store_variables_list(struct store *s, const char *station_id,
				       store_variable_fn fn, void *ud)
{
	return STORE_CALL(variables_list, station_id, fn, ud);
}
static inline int store_report_part(struct store *s, const char *station_id, int64_t request_id,
				    int64_t seq_no, bool tbc, int64_t now_ms)
{
	return STORE_CALL(report_part, station_id, request_id, seq_no, tbc, now_ms);
}
static inline int store_report_status(struct store *s, const char *station_id,
				      int64_t request_id, int *ret_parts, bool *ret_complete)
{
	return STORE_CALL(report_status, station_id, request_id, ret_parts, ret_complete);
}
static inline int store_notice_add(struct store *s, const char *station_id, const char *kind,
				   int64_t ts_ms, const char *detail)
{
	return STORE_CALL(notice_add, station_id, kind, ts_ms, detail);
}
static inline int store_command_add(struct store *s, const struct store_command *c, int64_t *ret_id)
{
	return STORE_CALL(command_add, c, ret_id);
}
static inline int store_commands_list(struct store *s, const char *station_or_null, int limit,
				      int offset, store_command_fn fn, void *ud)
{
	return STORE_CALL(commands_list, station_or_null, limit, offset, fn, ud);
}
static inline int store_tariff_put(struct store *s, const char *id, const char *doc,
				   int64_t now_ms)
{
	return STORE_CALL(tariff_put, id, doc, now_ms);
}
static inline int store_tariffs_list(struct store *s, const char *id_or_null, store_tariff_fn fn,
				     void *ud)
{
	return STORE_CALL(tariffs_list, id_or_null, fn, ud);
}
static inline int store_site_tariff_set(struct store *s, const char *site_id,
					const char *tariff_id)
{
	return STORE_CALL(site_tariff_set, site_id, tariff_id);
}
static inline int store_site_tariffs_list(struct store *s, const char *site_or_null,
					  store_site_tariff_fn fn, void *ud)
{
	return STORE_CALL(site_tariffs_list, site_or_null, fn, ud);
}
static inline int store_energy_sessions_list(struct store *s, const char *site_or_null,
					     int64_t from_ms, int64_t to_ms,
					     store_energy_session_fn fn, void *ud)
{
	return STORE_CALL(energy_sessions_list, site_or_null, from_ms, to_ms, fn, ud);
}
static inline int store_session_energy_samples(struct store *s, int64_t session_id,
					       store_sample_fn fn, void *ud)
{
	return STORE_CALL(session_energy_samples, session_id, fn, ud);
}

/* ---- planner */
static inline int store_site_get(struct store *s, const char *id, struct store_site *ret)
{
	return STORE_CALL(site_get, id, ret);
}
static inline int store_site_set_limit(struct store *s, const char *id, int64_t limit_w)
{
	return STORE_CALL(site_set_limit, id, limit_w);
}
static inline int store_needs_put(struct store *s, const struct store_needs *n)
{
	return STORE_CALL(needs_put, n);
}
static inline int store_needs_get(struct store *s, int64_t session_id, struct store_needs *ret)
{
	return STORE_CALL(needs_get, session_id, ret);
}
static inline int store_site_sessions(struct store *s, const char *site_id,
				      store_site_session_fn fn, void *ud)
{
	return STORE_CALL(site_sessions, site_id, fn, ud);
}
static inline int store_session_export(struct store *s, int64_t session_id, int64_t wh,
				       int64_t ts_ms)
{
	return STORE_CALL(session_export, session_id, wh, ts_ms);
}
static inline int store_grid_event_add(struct store *s, const struct store_grid_event *e,
				       int64_t *ret_id)
{
	return STORE_CALL(grid_event_add, e, ret_id);
}
static inline int store_grid_events_list(struct store *s, const char *site_or_null,
					 int64_t from_ms, store_grid_event_fn fn, void *ud)
{
	return STORE_CALL(grid_events_list, site_or_null, from_ms, fn, ud);
}
static inline int store_site_plan_put(struct store *s, const char *site_id, int64_t planned_ms,
				      const char *json)
{
	return STORE_CALL(site_plan_put, site_id, planned_ms, json);
}
static inline int store_site_plan_get(struct store *s, const char *site_id, store_doc_fn fn,
				      void *ud)
{
	return STORE_CALL(site_plan_get, site_id, fn, ud);
}
static inline int store_session_plan_put(struct store *s, int64_t session_id, const char *site_id,
					 int64_t planned_ms, const char *json)
{
	return STORE_CALL(session_plan_put, session_id, site_id, planned_ms, json);
}
static inline int store_session_plan_get(struct store *s, int64_t session_id, store_doc_fn fn,
					 void *ud)
{
	return STORE_CALL(session_plan_get, session_id, fn, ud);
}
static inline int store_site_energy_samples(struct store *s, const char *site_id, int64_t from_ms,
					    int64_t to_ms, store_sample_fn fn, void *ud)
{
	return STORE_CALL(site_energy_samples, site_id, from_ms, to_ms, fn, ud);
}
static inline int store_capability_put(struct store *s, const char *model, const char *json,
				       int64_t now_ms)
{
	return STORE_CALL(capability_put, model, json, now_ms);
}
static inline int store_capability_get(struct store *s, const char *model, store_doc_fn fn,
				       void *ud)
{
	return STORE_CALL(capability_get, model, fn, ud);
}
/* ---- end planner */
/* ---- dash */
static inline int store_stations_query(struct store *s, const struct store_station_query *q,
				       store_station_fn fn, void *ud, int64_t *ret_total)
{
	return STORE_CALL(stations_query, q, fn, ud, ret_total);
}
static inline int store_sessions_query(struct store *s, const struct store_session_query *q,
				       store_session_fn fn, void *ud, int64_t total_max,
				       int64_t *ret_total)
{
	return STORE_CALL(sessions_query, q, fn, ud, total_max, ret_total);
}
static inline int store_samples_page(struct store *s, int64_t session_id,
				     const char *measurand_or_null, int limit,
				     struct store_sample_cursor *cursor, store_sample_fn fn, void *ud)
{
	return STORE_CALL(samples_page, session_id, measurand_or_null, limit, cursor, fn, ud);
}
static inline int store_station_history(struct store *s, const char *station_id, int limit,
					int offset, store_history_fn fn, void *ud)
{
	return STORE_CALL(station_history, station_id, limit, offset, fn, ud);
}
static inline int store_connectors_query(struct store *s, const char *status_or_null, int limit,
					 int offset, store_connector_fn fn, void *ud)
{
	return STORE_CALL(connectors_query, status_or_null, limit, offset, fn, ud);
}
static inline int store_summary(struct store *s, int64_t day_start_ms, struct store_summary *ret)
{
	return STORE_CALL(summary, day_start_ms, ret);
}
/* ---- end dash */
/* ---- certificates */
static inline int store_cert_add(struct store *s, const struct store_cert *c)
{
	return STORE_CALL(cert_add, c);
}
static inline int store_certs_list(struct store *s, const char *station_or_null, int limit,
				   store_cert_fn fn, void *ud)
{
	return STORE_CALL(certs_list, station_or_null, limit, fn, ud);
}
static inline int store_certs_expiring(struct store *s, int64_t before_ms, store_cert_fn fn,
				       void *ud)
{
	return STORE_CALL(certs_expiring, before_ms, fn, ud);
}
static inline int store_cert_renew_mark(struct store *s, int64_t id, int64_t now_ms)
{
	return STORE_CALL(cert_renew_mark, id, now_ms);
}
static inline int store_station_password_set(struct store *s, const char *id,
					     const char *password_hash)
{
	return STORE_CALL(station_password_set, id, password_hash);
}
static inline int store_security_events(struct store *s, const char *station_id, int limit,
					int offset, store_history_fn fn, void *ud)
{
	return STORE_CALL(security_events, station_id, limit, offset, fn, ud);
}
/* ---- end certificates */

#undef STORE_CALL
