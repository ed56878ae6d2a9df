/* SPDX-License-Identifier: MIT */
/* The storage interface: a table of domain-level operations (struct store_ops) that a backend
 * implements, and the only way svc/ and api/ reach the database. Callers use the store_xxx()
 * wrappers below; SQL (or any other query language) never leaves the backend's file. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../svc/domain.h"

struct store_ops;

/* A backend's handle starts with this; the backend's own state follows it. */
struct store {
	const struct store_ops *ops;
	/* store_rollback() dropped writes of the open group: other callers' writes may have been
	 * among them (the loop's group is shared), so the group must not commit as a success;
	 * store_commit_async() reports it as a failed group (set and read by the wrappers below) */
	bool group_lost;
};

struct store_station {
	char id[STATION_ID_MAX + 1];
	char site_id[SITE_ID_MAX + 1];	    /* "" if none */
	int site_kind;			    /* enum site_kind, or -1 without a site */
	int registration;		    /* enum reg_status */
	char password_hash[STORE_HASH_MAX]; /* "" if none */
};

/* ---- security: a station's profile and credentials (0008_station_security.sql) */
#define STORE_CERT_CN_MAX 64
#define STORE_CERT_FP_MAX 64 /* SHA-256, hex */
struct store_station_security {
	int profile;			     /* 0..3, docs/security.md */
	char password_hash[STORE_HASH_MAX];  /* "" if none */
	char cert_cn[STORE_CERT_CN_MAX + 1]; /* "" if none */
	char cert_fp[STORE_CERT_FP_MAX + 1]; /* "" if none */
};
/* ---- end security */

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
	int status;		       /* enum auth_status as stored */
	int64_t expiry_ms;	       /* 0 = none */
	char parent[TOKEN_MAX + 1];    /* "" = none */
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
	const char *measurand, *phase, *unit, *context, *location, *format,
	    *value;	    /* NULL = absent */
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
	int evse_id, connector_id;		    /* -1 = none */
	const char *variable, *variable_instance;
	const char *attribute_type;			   /* NULL = the actual value */
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
	int kind;	 /* enum site_kind */
	int64_t limit_w; /* grid connection limit, -1 = none */
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
	int64_t meter_wh;	 /* latest import register (or the start), -1 unknown */
	int64_t meter_start_wh;	 /* -1 unknown */
	int64_t export_wh;	 /* latest export register, -1 unknown */
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
	int site_kind;	  /* enum site_kind */
	int registration; /* enum reg_status */
	const char *protocol;
	int online;		      /* 0 / 1 */
	const char *id_prefix;	      /* ids starting with it */
	const char *connector_status; /* stations with a connector in this status */
	int sort;		      /* enum store_station_sort */
	bool desc;
	const char *after_id; /* keyset (sort by id only): ids after (before if desc) it */
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

/* ---- swap: battery-swap stations (0012_swap.sql, docs/swap.md). Borrowed strings. */
struct store_swap_pack {
	const char *serial;
	const char *station_id; /* the station that last saw it ("" = none) */
	const char *type;	/* "" = unknown */
	int64_t capacity_wh;	/* 0 = unknown */
	double soc, soh;	/* percent; -1 = unknown */
	int64_t cycles;
	const char *location;  /* "slot", "vehicle" or "store" */
	int evse_id;	       /* location slot */
	const char *vehicle;   /* location vehicle: its id token */
	int64_t production_ms; /* 0 = unknown */
	int64_t in_ms;	       /* when it last went into a slot */
	bool flagged;	       /* SoH below the threshold */
	int64_t updated_ms;
	int64_t ready_ms;     /* racked: the "ready by" the planner has (0 = none); a put */
	int64_t ready_set_ms; /* ... since when; a put resets both (swap_pack_ready_set) */
};
typedef int (*store_swap_pack_fn)(const struct store_swap_pack *row, void *ud);

struct store_swap_soh {
	const char *serial;
	int64_t ts_ms;
	double soh;
};
typedef int (*store_swap_soh_fn)(const struct store_swap_soh *row, void *ud);

struct store_swap_order {
	int64_t id;
	const char *station_id;
	int64_t request_id;
	const char *vehicle;
	int64_t booking_id;		     /* 0 = none */
	const char *packs_out, *packs_in;    /* serials, comma-separated; "" = none yet */
	double soc_out, soc_in;		     /* mean over the packs; -1 = unknown */
	int64_t energy_out_wh, energy_in_wh; /* -1 = unknown */
	int64_t delta_wh;		     /* billed: out - in */
	const char *tier;		     /* tariff tier at the time of swap; "" = not billed */
	int64_t price_fen_per_mwh;
	int64_t cost_fen;
	const char *state;   /* "open", "complete", "timeout" */
	double promised_soc; /* -1 = none promised */
	int64_t created_ms, in_ms, out_ms, done_ms;
};
typedef int (*store_swap_order_fn)(const struct store_swap_order *row, void *ud);

struct store_swap_booking {
	int64_t id;
	const char *station_id;
	const char *vehicle;
	int64_t due_ms;
	double min_soc;
	const char *state; /* "queued", "requested", "served", "cancelled" */
	int64_t request_id;
	int64_t created_ms;
};
typedef int (*store_swap_booking_fn)(const struct store_swap_booking *row, void *ud);
/* ---- end swap */

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
	int kind;	       /* enum site_kind */
	const char *tariff_id; /* "" = none */
};
typedef int (*store_site_tariff_fn)(const struct store_site_tariff *row, void *ud);

/* A session as energy figures need it, with its site. Borrowed strings. */
struct store_energy_session {
	int64_t id;
	const char *site_id;
	int site_kind;	       /* enum site_kind */
	const char *tariff_id; /* the site's calendar; "" = none */
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

/* Operator accounts, browser sessions, API tokens and the audit log (0006_accounts.sql). Roles
 * are stored as their names ("viewer", "operator", "admin"). */
#define STORE_ACCOUNT_NAME_MAX 64
#define STORE_ROLE_MAX	       16
#define STORE_SECRET_HASH_MAX  65 /* SHA-256 hex + NUL */
struct store_account {
	char name[STORE_ACCOUNT_NAME_MAX + 1];
	char role[STORE_ROLE_MAX];
	char pw_hash[STORE_HASH_MAX];
	bool disabled;
	int64_t created_ms, updated_ms;
};
typedef int (*store_account_fn)(const struct store_account *row, void *ud);

/* A browser session with its account's current role and state. */
struct store_auth_session {
	char account[STORE_ACCOUNT_NAME_MAX + 1];
	char role[STORE_ROLE_MAX];
	bool disabled;
	char csrf[STORE_SECRET_HASH_MAX];
	int64_t created_ms, last_ms, expires_ms;
};

struct store_api_token {
	int64_t id;
	char name[STORE_ACCOUNT_NAME_MAX + 1];
	char role[STORE_ROLE_MAX];
	char created_by[STORE_ACCOUNT_NAME_MAX + 1];
	int64_t created_ms, last_used_ms, revoked_ms; /* 0 = never / not revoked */
};
typedef int (*store_api_token_fn)(const struct store_api_token *row, void *ud);

/* One state-changing API request. Strings borrowed. */
struct store_audit {
	int64_t id; /* set by the store */
	int64_t ts_ms;
	const char *who, *method, *path, *peer;
	int status;
};
typedef int (*store_audit_fn)(const struct store_audit *row, void *ud);

/* ---- sites (0011_sites.sql): sites with their policy, reservations, station history, local
 * lists */

/* A site's record as written by the operator. Policy numbers: 0 (or -1 for the flags) = the
 * default of the site's kind (docs/sites.md). */
struct store_site_rec {
	const char *id, *name, *location; /* name, location NULL = none */
	int kind;			  /* enum site_kind */
	int heartbeat_s;		  /* 0 = default */
	int local_list;			  /* -1 default, 0 off, 1 on */
	int local_list_max;		  /* 0 = default */
	int reservations;		  /* -1 default, 0 off, 1 on */
	int reservation_max_s;		  /* 0 = default */
	double swap_soh_flag_below;	  /* percent, 0 = default (0025) */
	double swap_promised_soc;	  /* percent, 0 = default (0025) */
};

/* A site as listed: its record, limit, calendar and station counts. Borrowed strings. */
struct store_site_row {
	struct store_site_rec rec;
	int64_t limit_w;       /* -1 = none */
	const char *tariff_id; /* "" = none */
	int64_t stations, online;
	int64_t created_ms;
};
typedef int (*store_site_row_fn)(const struct store_site_row *row, void *ud);

/* A reservation the CSMS sent (status: the words of the reservations table). */
struct store_reservation {
	int64_t id;
	char station_id[STATION_ID_MAX + 1];
	int evse_id;
	char id_tag[TOKEN_MAX + 1];
	int64_t expiry_ms;
	char status[16];
	int64_t session_id; /* 0 = none */
	int64_t created_ms, updated_ms;
};
typedef int (*store_reservation_fn)(const struct store_reservation *row, void *ud);

/* One line of a station's history: kind "link" (state "online"/"offline") or "status" (a
 * connector's status word). Borrowed strings. */
struct store_log_row {
	const char *kind, *state;
	int evse_id, connector_id;
	int64_t ts_ms;
};
typedef int (*store_log_fn)(const struct store_log_row *row, void *ud);

/* An entry of a local authorization list (status: enum auth_status). */
struct store_list_entry {
	char token[TOKEN_MAX + 1];
	int status;
	int64_t expiry_ms;	    /* 0 = none */
	char parent[TOKEN_MAX + 1]; /* "" = none */
};
typedef int (*store_list_entry_fn)(const struct store_list_entry *row, void *ud);
/* ---- end sites */

/* ---- api admin: id tokens and stations by the API (0015_api_admin.sql) */
enum store_token_sort { STORE_TOKEN_SORT_ID, STORE_TOKEN_SORT_STATUS, STORE_TOKEN_SORT_EXPIRY };

/* A page of id tokens. Filters NULL / -1 = any. */
struct store_token_query {
	int status;		  /* enum auth_status */
	const char *parent;	  /* group id */
	const char *site_id;	  /* owner site ("" = tokens valid at any site) */
	const char *token_prefix; /* tokens starting with it */
	int sort;		  /* enum store_token_sort */
	bool desc;
	int limit, offset;
};
typedef int (*store_token_fn)(const struct store_token *row, void *ud);

#define STORE_NOTES_MAX	 500
#define STORE_LABELS_MAX 200

/* What an operator keeps about a station. Setters: NULL keeps a field, "" clears it. */
struct store_station_admin {
	const char *site_id;
	const char *notes;
	const char *labels;   /* comma-separated */
	const char *protocol; /* the expected protocol (a hint until the station connects) */
};
struct store_station_notes {
	char notes[STORE_NOTES_MAX + 1];   /* "" if none */
	char labels[STORE_LABELS_MAX + 1]; /* "" if none */
};
/* ---- end api admin */
/* ---- model capabilities (0016_model_capabilities.sql): a record per station model */
struct store_model_caps {
	const char *vendor, *model; /* from BootNotification ("" when not told) */
	const char *learned;	    /* JSON object of learned members ("{}" for none) */
	const char *override;	    /* JSON object the operator set ("{}" for none) */
	const char *reason;	    /* "" for none */
	int64_t updated_ms;
};
typedef int (*store_model_caps_fn)(const struct store_model_caps *row, void *ud);
/* ---- end model capabilities */

/* ---- planner, version 14 (0028_site_plan_slots.sql): the planned power of a site's slots */
#define STORE_PLAN_SLOT_MS	 900000LL	  /* a slot: 15 minutes */
#define STORE_PLAN_SLOTS_KEEP_MS (8 * 86400000LL) /* rows older than this are pruned */
struct store_plan_slot {
	int64_t slot_ms;   /* the slot's start */
	int64_t planned_w; /* the sessions' load */
	int64_t import_w;  /* from the grid */
	int64_t limit_w;   /* the import limit, -1 for none */
};
typedef int (*store_plan_slot_fn)(const struct store_plan_slot *row, void *ud);
/* ---- end planner, version 14 */
/* ---- planner, version 15 (0029_station_ext_limits.sql): stations' external limits */
struct store_ext_limit {
	const char *station_id;
	int evse_id;	  /* 0: the whole station */
	int64_t limit_w;  /* >= 0 */
	int64_t until_ms; /* 0: open-ended */
};
typedef int (*store_ext_limit_fn)(const struct store_ext_limit *row, void *ud);
/* ---- end planner, version 15 */

#define STORE_OPS_VERSION 15

/*
** A storage backend. Every operation is synchronous and returns >= 0 on success or a negative
** errno (-EIO for a storage failure, -ENOENT for a missing row where noted). Writes join an open
** group transaction or open one (commit() ends it); reads see the group's own writes. A write
** whose only answer is success may report a storage failure at commit() instead (store_pg sends
** it without waiting); commit() then fails and the whole group is rolled back. Strings
** in rows handed to a callback are borrowed for the duration of the callback; a callback that
** returns < 0 stops the listing and that value is returned. New operations are appended at the
** end and version is bumped; nothing is ever reordered, so a backend built for version n works
** with callers of version n and lower (sqlite3_io_methods' iVersion).
*/
#define STORE_NODE_ID_MAX 63
/* A node's published public key (hex of an X25519 key: 64 characters; docs/scaling.md). */
#define STORE_NODE_KEY_MAX 64
/* A notification of channel with its payload (docs/scaling.md). */
typedef void (*store_notify_fn)(void *ud, const char *channel, const char *payload);
/* owners_check: this node held station_id and another node holds it now (borrowed string). */
typedef void (*store_owner_gone_fn)(void *ud, const char *station_id);

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

	/* ---- version 2: batch readings (store_pg) */
	/* sample_add() for in[0..n-1], in order, in one round trip where the backend can (all the
	 * readings of a MeterValues). ret[i] gets what sample_add() would return for in[i]: 1
	 * stored, 0 its key was stored already (the kept value then in ret_stored + i * stored_len,
	 * truncated; stored_len may be 0), or -EINVAL. Returns 0, or a negative errno if the store
	 * failed (ret[] is then not meaningful). */
	int (*samples_add)(struct store *s, const struct store_sample *in, size_t n, int *ret,
			   char *ret_stored, size_t stored_len);
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
	int (*site_tariffs_list)(struct store *s, const char *site_or_null, store_site_tariff_fn fn,
				 void *ud);
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

	/* ---- operator accounts (0006_accounts.sql) */
	/* A new account: -EEXIST if the name is taken. */
	int (*account_create)(struct store *s, const struct store_account *a);
	/* Account name into *ret; -ENOENT if unknown. */
	int (*account_get)(struct store *s, const char *name, struct store_account *ret);
	/* Replace role, pw_hash, disabled and updated_ms of account a->name; -ENOENT if unknown. */
	int (*account_update)(struct store *s, const struct store_account *a);
	/* Delete an account and its sessions; -ENOENT if unknown. */
	int (*account_delete)(struct store *s, const char *name);
	/* Accounts by name. */
	int (*accounts_list)(struct store *s, store_account_fn fn, void *ud);
	/* A browser session keyed by the hash of its cookie. */
	int (*auth_session_add)(struct store *s, const char *hash, const char *account,
				const char *csrf, int64_t now_ms, int64_t expires_ms);
	/* The session with this hash and its account's role; -ENOENT if none. */
	int (*auth_session_get)(struct store *s, const char *hash, struct store_auth_session *ret);
	/* Record activity on a session (idle timeout). */
	int (*auth_session_touch)(struct store *s, const char *hash, int64_t now_ms);
	/* End one session (hash) or, with hash NULL, every session of account (or, with both
	 * NULL, every session that expired before now_ms). */
	int (*auth_sessions_delete)(struct store *s, const char *hash, const char *account,
				    int64_t now_ms);
	/* A new API token (only its hash is kept); its id into *ret_id. */
	int (*api_token_add)(struct store *s, const char *name, const char *role, const char *hash,
			     const char *created_by, int64_t now_ms, int64_t *ret_id);
	/* The token with this hash (revoked ones too); -ENOENT if none. */
	int (*api_token_get)(struct store *s, const char *hash, struct store_api_token *ret);
	/* Record a use of token id. */
	int (*api_token_touch)(struct store *s, int64_t id, int64_t now_ms);
	/* Tokens by id. */
	int (*api_tokens_list)(struct store *s, store_api_token_fn fn, void *ud);
	/* Revoke token id; -ENOENT if unknown or revoked already. */
	int (*api_token_revoke)(struct store *s, int64_t id, int64_t now_ms);
	/* Append an audit row to the open group transaction. */
	int (*audit_add)(struct store *s, const struct store_audit *a);
	/* Audit rows newest first. */
	int (*audit_list)(struct store *s, int limit, int offset, store_audit_fn fn, void *ud);
	/* ---- sites (0011_sites.sql) */
	/* Sites by id: one (id_or_null set: -ENOENT if unknown) or all. Returns the number of
	 * rows. */
	int (*sites_list)(struct store *s, const char *id_or_null, store_site_row_fn fn, void *ud);
	/* Create (create: -EEXIST if it exists) or update (-ENOENT if unknown) a site's record. */
	int (*site_save)(struct store *s, const struct store_site_rec *r, bool create,
			 int64_t now_ms);
	/* -ENOENT if unknown, -EBUSY while stations or tokens reference it. */
	int (*site_delete)(struct store *s, const char *id);
	/* Create or replace reservation r->id. */
	int (*reservation_put)(struct store *s, const struct store_reservation *r);
	/* -ENOENT if unknown. */
	int (*reservation_get)(struct store *s, int64_t id, struct store_reservation *ret);
	/* Reservations newest first: of one station (NULL: all), open ones only (Requested or
	 * Accepted) or all, up to limit. Returns the number of rows. */
	int (*reservations_list)(struct store *s, const char *station_or_null, bool open_only,
				 int limit, store_reservation_fn fn, void *ud);
	/* Open reservations whose expiry is at or before now_ms, by expiry. */
	int (*reservations_due)(struct store *s, int64_t now_ms, store_reservation_fn fn, void *ud);
	/* Append a line to a station's history. */
	int (*station_log_add)(struct store *s, const char *station_id,
			       const struct store_log_row *row);
	/* A station's history for [from_ms, to_ms) in time order, preceded by the last line before
	 * from_ms of each (kind, EVSE, connector): the state at from_ms. */
	int (*station_log_list)(struct store *s, const char *station_id, int64_t from_ms,
				int64_t to_ms, store_log_fn fn, void *ud);
	/* Sessions of a station started in [from_ms, to_ms) that arrived late: recorded more than
	 * late_ms after their start, or with events sent offline. */
	int (*sessions_late)(struct store *s, const char *station_id, int64_t from_ms,
			     int64_t to_ms, int64_t late_ms, int64_t *ret_count);
	/* Tokens valid at a site: bound to it, and (with_unbound) bound to none, by token; at most
	 * limit. */
	int (*site_tokens)(struct store *s, const char *site_id, bool with_unbound, int limit,
			   store_list_entry_fn fn, void *ud);
	/* The version of the local list a station last accepted; -ENOENT if none. */
	int (*local_list_version)(struct store *s, const char *station_id, int64_t *ret_version);
	/* Its entries, by token. */
	int (*local_list_entries)(struct store *s, const char *station_id, store_list_entry_fn fn,
				  void *ud);
	/* Record an accepted update: full replaces the entries, else each entry is set (status
	 * -1: removed). */
	int (*local_list_save)(struct store *s, const char *station_id, int64_t version, bool full,
			       const struct store_list_entry *e, size_t n, int64_t now_ms);
	/* ---- end sites */
	/* ---- security (0008_station_security.sql) */
	/* The security profile and credentials of station id into *ret; -ENOENT if unknown. */
	int (*station_security_get)(struct store *s, const char *id,
				    struct store_station_security *ret);
	/* Set the profile (-1 keeps it), the password hash, the client certificate's CN and
	 * fingerprint of station id (each NULL keeps it, "" clears it). -ENOENT if unknown. */
	int (*station_security_set)(struct store *s, const char *id, int profile,
				    const char *password_hash, const char *cert_cn,
				    const char *cert_fp);
	/* The number of stations with registration (enum reg_status) into *ret. */
	int (*stations_count_registration)(struct store *s, int registration, int64_t *ret);
	/* ---- end security */
	/* ---- swap (0012_swap.sql) */
	/* Create or replace pack p->serial; a SoH (>= 0) other than the last one recorded is
	 * appended to its history at p->updated_ms. */
	int (*swap_pack_put)(struct store *s, const struct store_swap_pack *p);
	/* Packs by serial: one (serial_or_null: -ENOENT if unknown), or those last seen by a
	 * station (station_or_null), or all. Returns the number of rows. */
	int (*swap_packs_list)(struct store *s, const char *station_or_null,
			       const char *serial_or_null, store_swap_pack_fn fn, void *ud);
	/* The SoH history of a pack, oldest first. Returns the number of rows. */
	int (*swap_pack_soh_list)(struct store *s, const char *serial, store_swap_soh_fn fn,
				  void *ud);
	/* Insert (o->id == 0; *ret_id set) or update order o->id. -EEXIST when an order with
	 * the same station and request id exists already (insert). */
	int (*swap_order_put)(struct store *s, const struct store_swap_order *o, int64_t *ret_id);
	/* The order of (station_id, request_id): -ENOENT if none. */
	int (*swap_order_get)(struct store *s, const char *station_id, int64_t request_id,
			      store_swap_order_fn fn, void *ud);
	/* Orders created in [from_ms, to_ms) (of a station, or all), by creation time. Returns
	 * the number of rows. */
	int (*swap_orders_list)(struct store *s, const char *station_or_null, int64_t from_ms,
				int64_t to_ms, store_swap_order_fn fn, void *ud);
	/* Insert (b->id == 0; *ret_id set) or update booking b->id (-ENOENT if unknown). */
	int (*swap_booking_put)(struct store *s, const struct store_swap_booking *b,
				int64_t *ret_id);
	/* Bookings due at or after from_ms (of a station, or all; id_or_zero: only that one,
	 * -ENOENT if unknown), by due time. Returns the number of rows. */
	int (*swap_bookings_list)(struct store *s, const char *station_or_null, int64_t id_or_zero,
				  int64_t from_ms, store_swap_booking_fn fn, void *ud);
	/* Pack serial must be ready by ready_ms, as the planner was told at set_ms: recorded
	 * unless ready_ms is what it has already; a later ready_ms than the one recorded keeps
	 * its set time (the planner has had at least that long). */
	int (*swap_pack_ready_set)(struct store *s, const char *serial, int64_t ready_ms,
				   int64_t set_ms);
	/* ---- end swap */
	/* ---- certificates (0010_certificates.sql) */
	/* Record a certificate issued to c->station_id (c->id and renew_requested_ms ignored). */
	int (*cert_add)(struct store *s, const struct store_cert *c);
	/* Certificates of one station (or, NULL, all) newest first. Returns the number of rows. */
	int (*certs_list)(struct store *s, const char *station_or_null, int limit, store_cert_fn fn,
			  void *ud);
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
	/* ---- api admin (0015_api_admin.sql) */
	/* A page of id tokens by q (sorted, ties by token), and (ret_total not NULL) the number
	 * of tokens that match. Returns the number of rows. */
	int (*tokens_query)(struct store *s, const struct store_token_query *q, store_token_fn fn,
			    void *ud, int64_t *ret_total);
	/* -ENOENT if unknown. */
	int (*token_delete)(struct store *s, const char *token);
	/* Set what a is not NULL of station id; -ENOENT if unknown. */
	int (*station_admin_set)(struct store *s, const char *id,
				 const struct store_station_admin *a);
	/* Notes and labels of station id into *ret; -ENOENT if unknown. */
	int (*station_notes_get)(struct store *s, const char *id, struct store_station_notes *ret);
	/* Delete station id with its connectors and its operational rows (device model, local
	 * list, external limits); its history (logs, commands, readings) is kept. -ENOENT if unknown, -EBUSY with
	 * an open session, -ENOTEMPTY when sessions were recorded (kept for billing). */
	int (*station_delete)(struct store *s, const char *id);
	/* ---- end api admin */
	/* ---- model capabilities (0016_model_capabilities.sql) */
	/* Create or replace the record of (c->vendor, c->model). */
	int (*model_caps_put)(struct store *s, const struct store_model_caps *c);
	/* The record of (vendor, model) to fn; -ENOENT without one. */
	int (*model_caps_get)(struct store *s, const char *vendor, const char *model,
			      store_model_caps_fn fn, void *ud);
	/* Every record, by vendor and model. Returns the number of rows. */
	int (*model_caps_list)(struct store *s, store_model_caps_fn fn, void *ud);
	/* A station's vendor and model (its last BootNotification's, "" when not told) and its
	 * model's record, to fn once (learned, override and reason NULL when the model has no
	 * record); -ENOENT for an unknown station. */
	int (*station_model_caps)(struct store *s, const char *station_id, store_model_caps_fn fn,
				  void *ud);
	/* ---- end model capabilities */
	/* ---- group commit off the loop (docs/architecture.md "group commit") */
	/* Commit like commit(), but the batch may be written and not yet durable when it returns:
	 * a background flush makes it durable later. Returns 1 and the batch's number (> 0, rising)
	 * in *ret_seq when its durability is reported by flush_done(); 0 when it was durable on
	 * return (a store without background flushes; *ret_seq untouched); -EIO as commit(). Every
	 * later commit() stays durable on return. */
	int (*commit_async)(struct store *s, uint64_t *ret_seq);
	/* A descriptor that turns readable when a background flush ends (poll it, then call
	 * flush_done), or -ENOTSUP while there is none. Owned by s. */
	int (*flush_fd)(struct store *s);
	/* Collect ended flushes: the number of the last batch known durable into *ret_durable (0
	 * if none yet); with wait, first wait until every batch committed so far is durable.
	 * -EIO when a flush failed: no batch after the last durable one may ever be counted as
	 * durable (the store stays failed: a failed fsync may have dropped the written pages).
	 * store_pg: -EIO once for a batch whose COMMIT failed or whose connection broke, after the
	 * batches before it were reported; every batch waiting then is answered as failed, and
	 * the store goes on (docs/architecture.md). */
	int (*flush_done)(struct store *s, bool wait, uint64_t *ret_durable);
	/* ---- end group commit */
	/* ---- nodes (0014_station_owner.sql, docs/scaling.md): several nodes on one database.
	 * On a store shared by nodes (PostgreSQL), station_seen(online, protocol given) also
	 * takes the station's ownership row for this node (epoch + 1, lease renewed, NOTIFY
	 * csms_owner "<station> TAB <epoch> TAB <node>" at commit), station_seen(offline) deletes it if
	 * this node still holds it, stations_offline_all() deletes only this node's rows, and a
	 * station is online when it has an owner with a current lease. On SQLite (one node)
	 * ownership is the connection itself: the operations below are no-ops or -ENOTSUP. */
	/* This node's id (STORE_NODE_ID_MAX bytes at most) and the lease it gives its rows. */
	int (*node_set)(struct store *s, const char *node_id, int64_t lease_ms);
	/* Renew the lease of every station this node holds: one statement. */
	int (*owners_renew)(struct store *s);
	/* The node that holds station_id with a current lease into ret_node
	 * (STORE_NODE_ID_MAX + 1 bytes) and its epoch; -ENOENT if none. */
	int (*owner_get)(struct store *s, const char *station_id, char *ret_node,
			 int64_t *ret_epoch);
	/* Another node took station_id at epoch: 1 if this node held it at an older epoch (it
	 * forgets it; the caller closes the connection), else 0. */
	int (*owner_lost)(struct store *s, const char *station_id, int64_t epoch);
	/* A descriptor that turns readable when a notification arrives (a second connection
	 * that LISTENs to csms_owner, csms_cmd, csms_cmd_done and csms_live); -ENOTSUP. */
	int (*notify_fd)(struct store *s);
	/* Call fn(ud, channel, payload) for every notification that arrived, in order (strings
	 * borrowed for the call). The number read, or -EIO when the connection broke. */
	int (*notify_drain)(struct store *s, store_notify_fn fn, void *ud);
	/* Publish payload (< 8000 bytes) on channel when the open group commits. */
	int (*notify)(struct store *s, const char *channel, const char *payload);
	/* Queue request (JSON text) for station_id at target_node, replying to this node; NOTIFY
	 * csms_cmd "<target> TAB <id>" at commit. The row's id into *ret_id. -ENOTSUP. */
	int (*rcmd_add)(struct store *s, const char *target_node, const char *station_id,
			const char *request, int64_t now_ms, int64_t *ret_id);
	/* Claim queued command id addressed to this node: its station (STATION_ID_MAX + 1) and
	 * request (malloc'd, the caller frees it). -ENOENT if claimed already or not ours. */
	int (*rcmd_claim)(struct store *s, int64_t id, char *ret_station, char **ret_request);
	/* Record command id's result (JSON text); NOTIFY csms_cmd_done "<requester> TAB <id>" at
	 * commit. */
	int (*rcmd_done)(struct store *s, int64_t id, const char *result, int64_t now_ms);
	/* Take the result of command id and delete its row: *ret_result malloc'd. -ENOENT if it
	 * is not done (or gone). */
	int (*rcmd_take)(struct store *s, int64_t id, char **ret_result);
	/* ---- end nodes */
	/* ---- nodes, version 10 (0019_node_keys.sql, docs/scaling.md) */
	/* 1 if this node still holds station_id: the ownership row names this node at the epoch
	 * this node took it with and its lease is current (read now, not from a cache); 0 if
	 * not (taken over, lease lost, never taken). The check before a CSMS-initiated CALL. On
	 * SQLite (one node, the connection is the ownership) always 1. */
	int (*owner_held)(struct store *s, const char *station_id);
	/* Publish this node's public key (text, at most STORE_NODE_KEY_MAX bytes) for others to
	 * seal secrets to; replaces the node's earlier one, at once (not in the group). -ENOTSUP
	 * on SQLite. */
	int (*node_key_set)(struct store *s, const char *key);
	/* The public key node_id published into ret_key (STORE_NODE_KEY_MAX + 1 bytes); -ENOENT
	 * if none, -ENOTSUP on SQLite. */
	int (*node_key_get)(struct store *s, const char *node_id, char *ret_key);
	/* ---- end nodes, version 10 */
	/* ---- nodes, version 11 (0021_owner_epoch.sql, docs/postgresql.md) */
	/* Renew this node's leases (as owners_renew) and make the ownership rows agree with the
	 * stations this node holds (took and has not released or lost): a held station whose
	 * row is gone (a takeover elsewhere that was released again) is taken back; one whose
	 * row names another node is forgotten and fn(ud, station_id) called (the caller closes
	 * its connection: a takeover whose NOTIFY never came); a row naming this node for a
	 * station it does not hold is deleted. Rows taken over right now (locked) wait for the
	 * next call. The number of rows corrected, or -EIO. SQLite (one node): 0. */
	int (*owners_check)(struct store *s, store_owner_gone_fn fn, void *ud);
	/* ---- end nodes, version 11 */
	/* ---- swap, version 12 (0025_swap_queue.sql, docs/swap.md) */
	/* The open bookings (state queued or requested) of station_id, of one vehicle or all
	 * (vehicle_or_null): the station's queue, by due time, then creation, then id. Returns
	 * the number of rows. */
	int (*swap_bookings_open)(struct store *s, const char *station_id,
				  const char *vehicle_or_null, store_swap_booking_fn fn, void *ud);
	/* ---- end swap, version 12 */
	/* ---- planner, version 13 (0027_site_forecast.sql) */
	/* A site's PV forecast, a JSON document (svc_site_set_forecast, docs/api.md). With json
	 * non-NULL: replace it, set at set_ms ("" deletes it; fn is not called). With json NULL:
	 * fn(site_id, set_ms, json) with the stored one, -ENOENT when there is none. */
	int (*site_forecast)(struct store *s, const char *site_id, const char *json, int64_t set_ms,
			     store_doc_fn fn, void *ud);
	/* ---- end planner, version 13 */
	/* ---- planner, version 14 (0028_site_plan_slots.sql) */
	/* Record (replace) what the slot of site_id starting at slot_ms was planned at, and
	 * delete the site's rows older than STORE_PLAN_SLOTS_KEEP_MS before it: the history
	 * stays bounded without a sweep of its own. */
	int (*site_plan_slots_put)(struct store *s, const char *site_id,
				   const struct store_plan_slot *row);
	/* The rows of site_id with from_ms <= slot_ms < to_ms, by slot_ms. The number of rows. */
	int (*site_plan_slots_list)(struct store *s, const char *site_id, int64_t from_ms,
				    int64_t to_ms, store_plan_slot_fn fn, void *ud);
	/* ---- end planner, version 14 */
	/* ---- planner, version 15 (0029_station_ext_limits.sql) */
	/* Record (replace) the external limit a station reported on evse_id (0: the station),
	 * set at now_ms; limit_w < 0 deletes it (ClearedChargingLimit). */
	int (*station_ext_limit_put)(struct store *s, const char *station_id, int evse_id,
				     int64_t limit_w, int64_t until_ms, int64_t now_ms);
	/* The external limits of the stations of site_id in force at now_ms (until_ms 0 or
	 * after now_ms), by station and EVSE. The number of rows. */
	int (*site_ext_limits)(struct store *s, const char *site_id, int64_t now_ms,
			       store_ext_limit_fn fn, void *ud);
	/* ---- end planner, version 15 */
};

/* The SQLite backend (WAL, statements prepared once, group commit). */
extern const struct store_ops store_sqlite_ops;
/* A consistent copy of the SQLite database at path into dest, taken with SQLite's online
 * backup API while a server may be writing (WAL: it is not blocked). Written to dest.tmp in
 * rollback-journal mode, fsynced and renamed. 0, or negative errno with one line in err. */
int store_sqlite_backup(const char *path, const char *dest, char *err, size_t err_len);

/* The PostgreSQL backend (libpq, pipelined, group commit with synchronous_commit on). Without
 * libpq at build time its open() fails with a message and store_pg_built is false. */
extern const struct store_ops store_pg_ops;
extern const bool store_pg_built;

/* True if dsn names a PostgreSQL database (a postgresql:// or postgres:// URL). */
static inline bool store_dsn_is_pg(const char *dsn)
{
	return dsn && (!strncmp(dsn, "postgresql://", 13) || !strncmp(dsn, "postgres://", 11));
}

/* Open the store at dsn: a postgresql:// or postgres:// URL opens PostgreSQL, anything else is
 * a SQLite path (":memory:" works). See store_ops.open. */
static inline struct store *store_open(const char *dsn, bool sync_full, char *err, size_t err_len)
{
	if (store_dsn_is_pg(dsn))
		return store_pg_ops.open(dsn, sync_full, err, err_len);
	return store_sqlite_ops.open(dsn, sync_full, err, err_len);
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
/* Drop every write since the last commit, the open group's included: the group then fails
 * at its store_commit_async() (its held answers are errors, never successes). */
static inline void store_rollback(struct store *s)
{
	if (s->ops->dirty(s))
		s->group_lost = true;
	s->ops->rollback(s);
}
static inline bool store_dirty(const struct store *s)
{
	return s->group_lost || s->ops->dirty(s);
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
static inline int store_station_set_registration(struct store *s, const char *id, int registration)
{
	return STORE_CALL(station_set_registration, id, registration);
}
static inline int store_station_seen(struct store *s, const char *id, bool online,
				     const char *protocol, int64_t now_ms)
{
	return STORE_CALL(station_seen, id, online, protocol, now_ms);
}
static inline int store_station_event(struct store *s, const char *id, int kind, const char *status,
				      int64_t ts_ms)
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
static inline int store_session_state(struct store *s, int64_t id, struct store_session_state *ret)
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
static inline int store_session_set_evse(struct store *s, int64_t id, int evse_id, int connector_id)
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
static inline int store_sample_add(struct store *s, const struct store_sample *in, char *ret_stored,
				   size_t n)
{
	return STORE_CALL(sample_add, in, ret_stored, n);
}
static inline int store_sample_conflict_add(struct store *s, const struct store_sample_conflict *c)
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
static inline int store_report_status(struct store *s, const char *station_id, int64_t request_id,
				      int *ret_parts, bool *ret_complete)
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
/* A backend without samples_add (version < 2) gets one sample_add() per reading. */
static inline int store_samples_add(struct store *s, const struct store_sample *in, size_t n,
				    int *ret, char *ret_stored, size_t stored_len)
{
	if (s->ops->version >= 2 && s->ops->samples_add)
		return STORE_CALL(samples_add, in, n, ret, ret_stored, stored_len);
	for (size_t i = 0; i < n; i++) {
		ret[i] = s->ops->sample_add(
		    s, &in[i], stored_len ? ret_stored + i * stored_len : NULL, stored_len);
		if (ret[i] < 0 && ret[i] != -EINVAL)
			return ret[i];
	}
	return 0;
}
static inline int store_tariff_put(struct store *s, const char *id, const char *doc, int64_t now_ms)
{
	return STORE_CALL(tariff_put, id, doc, now_ms);
}
static inline int store_tariffs_list(struct store *s, const char *id_or_null, store_tariff_fn fn,
				     void *ud)
{
	return STORE_CALL(tariffs_list, id_or_null, fn, ud);
}
static inline int store_site_tariff_set(struct store *s, const char *site_id, const char *tariff_id)
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
static inline int store_grid_events_list(struct store *s, const char *site_or_null, int64_t from_ms,
					 store_grid_event_fn fn, void *ud)
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
				     struct store_sample_cursor *cursor, store_sample_fn fn,
				     void *ud)
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

/* ---- operator accounts */
static inline int store_account_create(struct store *s, const struct store_account *a)
{
	return STORE_CALL(account_create, a);
}
static inline int store_account_get(struct store *s, const char *name, struct store_account *ret)
{
	return STORE_CALL(account_get, name, ret);
}
static inline int store_account_update(struct store *s, const struct store_account *a)
{
	return STORE_CALL(account_update, a);
}
static inline int store_account_delete(struct store *s, const char *name)
{
	return STORE_CALL(account_delete, name);
}
static inline int store_accounts_list(struct store *s, store_account_fn fn, void *ud)
{
	return STORE_CALL(accounts_list, fn, ud);
}
static inline int store_auth_session_add(struct store *s, const char *hash, const char *account,
					 const char *csrf, int64_t now_ms, int64_t expires_ms)
{
	return STORE_CALL(auth_session_add, hash, account, csrf, now_ms, expires_ms);
}
static inline int store_auth_session_get(struct store *s, const char *hash,
					 struct store_auth_session *ret)
{
	return STORE_CALL(auth_session_get, hash, ret);
}
static inline int store_auth_session_touch(struct store *s, const char *hash, int64_t now_ms)
{
	return STORE_CALL(auth_session_touch, hash, now_ms);
}
static inline int store_auth_sessions_delete(struct store *s, const char *hash, const char *account,
					     int64_t now_ms)
{
	return STORE_CALL(auth_sessions_delete, hash, account, now_ms);
}
static inline int store_api_token_add(struct store *s, const char *name, const char *role,
				      const char *hash, const char *created_by, int64_t now_ms,
				      int64_t *ret_id)
{
	return STORE_CALL(api_token_add, name, role, hash, created_by, now_ms, ret_id);
}
static inline int store_api_token_get(struct store *s, const char *hash,
				      struct store_api_token *ret)
{
	return STORE_CALL(api_token_get, hash, ret);
}
static inline int store_api_token_touch(struct store *s, int64_t id, int64_t now_ms)
{
	return STORE_CALL(api_token_touch, id, now_ms);
}
static inline int store_api_tokens_list(struct store *s, store_api_token_fn fn, void *ud)
{
	return STORE_CALL(api_tokens_list, fn, ud);
}
static inline int store_api_token_revoke(struct store *s, int64_t id, int64_t now_ms)
{
	return STORE_CALL(api_token_revoke, id, now_ms);
}
static inline int store_audit_add(struct store *s, const struct store_audit *a)
{
	return STORE_CALL(audit_add, a);
}
static inline int store_audit_list(struct store *s, int limit, int offset, store_audit_fn fn,
				   void *ud)
{
	return STORE_CALL(audit_list, limit, offset, fn, ud);
}
/* ---- sites */
static inline int store_sites_list(struct store *s, const char *id_or_null, store_site_row_fn fn,
				   void *ud)
{
	return STORE_CALL(sites_list, id_or_null, fn, ud);
}
static inline int store_site_save(struct store *s, const struct store_site_rec *r, bool create,
				  int64_t now_ms)
{
	return STORE_CALL(site_save, r, create, now_ms);
}
static inline int store_site_delete(struct store *s, const char *id)
{
	return STORE_CALL(site_delete, id);
}
static inline int store_reservation_put(struct store *s, const struct store_reservation *r)
{
	return STORE_CALL(reservation_put, r);
}
static inline int store_reservation_get(struct store *s, int64_t id, struct store_reservation *ret)
{
	return STORE_CALL(reservation_get, id, ret);
}
static inline int store_reservations_list(struct store *s, const char *station_or_null,
					  bool open_only, int limit, store_reservation_fn fn,
					  void *ud)
{
	return STORE_CALL(reservations_list, station_or_null, open_only, limit, fn, ud);
}
static inline int store_reservations_due(struct store *s, int64_t now_ms, store_reservation_fn fn,
					 void *ud)
{
	return STORE_CALL(reservations_due, now_ms, fn, ud);
}
static inline int store_station_log_add(struct store *s, const char *station_id,
					const struct store_log_row *row)
{
	return STORE_CALL(station_log_add, station_id, row);
}
static inline int store_station_log_list(struct store *s, const char *station_id, int64_t from_ms,
					 int64_t to_ms, store_log_fn fn, void *ud)
{
	return STORE_CALL(station_log_list, station_id, from_ms, to_ms, fn, ud);
}
static inline int store_sessions_late(struct store *s, const char *station_id, int64_t from_ms,
				      int64_t to_ms, int64_t late_ms, int64_t *ret_count)
{
	return STORE_CALL(sessions_late, station_id, from_ms, to_ms, late_ms, ret_count);
}
static inline int store_site_tokens(struct store *s, const char *site_id, bool with_unbound,
				    int limit, store_list_entry_fn fn, void *ud)
{
	return STORE_CALL(site_tokens, site_id, with_unbound, limit, fn, ud);
}
static inline int store_local_list_version(struct store *s, const char *station_id,
					   int64_t *ret_version)
{
	return STORE_CALL(local_list_version, station_id, ret_version);
}
static inline int store_local_list_entries(struct store *s, const char *station_id,
					   store_list_entry_fn fn, void *ud)
{
	return STORE_CALL(local_list_entries, station_id, fn, ud);
}
static inline int store_local_list_save(struct store *s, const char *station_id, int64_t version,
					bool full, const struct store_list_entry *e, size_t n,
					int64_t now_ms)
{
	return STORE_CALL(local_list_save, station_id, version, full, e, n, now_ms);
}
/* ---- end sites */
/* ---- security */
static inline int store_station_security_get(struct store *s, const char *id,
					     struct store_station_security *ret)
{
	return STORE_CALL(station_security_get, id, ret);
}
static inline int store_station_security_set(struct store *s, const char *id, int profile,
					     const char *password_hash, const char *cert_cn,
					     const char *cert_fp)
{
	return STORE_CALL(station_security_set, id, profile, password_hash, cert_cn, cert_fp);
}
static inline int store_stations_count_registration(struct store *s, int registration, int64_t *ret)
{
	return STORE_CALL(stations_count_registration, registration, ret);
}
/* ---- end security */
/* ---- swap */
static inline int store_swap_pack_put(struct store *s, const struct store_swap_pack *p)
{
	return STORE_CALL(swap_pack_put, p);
}
static inline int store_swap_packs_list(struct store *s, const char *station_or_null,
					const char *serial_or_null, store_swap_pack_fn fn, void *ud)
{
	return STORE_CALL(swap_packs_list, station_or_null, serial_or_null, fn, ud);
}
static inline int store_swap_pack_soh_list(struct store *s, const char *serial,
					   store_swap_soh_fn fn, void *ud)
{
	return STORE_CALL(swap_pack_soh_list, serial, fn, ud);
}
static inline int store_swap_order_put(struct store *s, const struct store_swap_order *o,
				       int64_t *ret_id)
{
	return STORE_CALL(swap_order_put, o, ret_id);
}
static inline int store_swap_order_get(struct store *s, const char *station_id, int64_t request_id,
				       store_swap_order_fn fn, void *ud)
{
	return STORE_CALL(swap_order_get, station_id, request_id, fn, ud);
}
static inline int store_swap_orders_list(struct store *s, const char *station_or_null,
					 int64_t from_ms, int64_t to_ms, store_swap_order_fn fn,
					 void *ud)
{
	return STORE_CALL(swap_orders_list, station_or_null, from_ms, to_ms, fn, ud);
}
static inline int store_swap_booking_put(struct store *s, const struct store_swap_booking *b,
					 int64_t *ret_id)
{
	return STORE_CALL(swap_booking_put, b, ret_id);
}
static inline int store_swap_bookings_list(struct store *s, const char *station_or_null,
					   int64_t id_or_zero, int64_t from_ms,
					   store_swap_booking_fn fn, void *ud)
{
	return STORE_CALL(swap_bookings_list, station_or_null, id_or_zero, from_ms, fn, ud);
}
static inline int store_swap_pack_ready_set(struct store *s, const char *serial, int64_t ready_ms,
					    int64_t set_ms)
{
	return STORE_CALL(swap_pack_ready_set, serial, ready_ms, set_ms);
}
/* ---- end swap */
/* ---- api admin */
static inline int store_tokens_query(struct store *s, const struct store_token_query *q,
				     store_token_fn fn, void *ud, int64_t *ret_total)
{
	return STORE_CALL(tokens_query, q, fn, ud, ret_total);
}
static inline int store_token_delete(struct store *s, const char *token)
{
	return STORE_CALL(token_delete, token);
}
static inline int store_station_admin_set(struct store *s, const char *id,
					  const struct store_station_admin *a)
{
	return STORE_CALL(station_admin_set, id, a);
}
static inline int store_station_notes_get(struct store *s, const char *id,
					  struct store_station_notes *ret)
{
	return STORE_CALL(station_notes_get, id, ret);
}
static inline int store_station_delete(struct store *s, const char *id)
{
	return STORE_CALL(station_delete, id);
}
/* ---- end api admin */
/* ---- model capabilities */
static inline int store_model_caps_put(struct store *s, const struct store_model_caps *c)
{
	return STORE_CALL(model_caps_put, c);
}
static inline int store_model_caps_get(struct store *s, const char *vendor, const char *model,
				       store_model_caps_fn fn, void *ud)
{
	return STORE_CALL(model_caps_get, vendor, model, fn, ud);
}
static inline int store_model_caps_list(struct store *s, store_model_caps_fn fn, void *ud)
{
	return STORE_CALL(model_caps_list, fn, ud);
}
static inline int store_station_model_caps(struct store *s, const char *station_id,
					   store_model_caps_fn fn, void *ud)
{
	return STORE_CALL(station_model_caps, station_id, fn, ud);
}
/* ---- end model capabilities */
/* ---- group commit off the loop */
static inline int store_commit_async(struct store *s, uint64_t *ret_seq)
{
	if (s->group_lost) {
		/* part of this group is gone: what was written since fails with it */
		s->group_lost = false;
		s->ops->rollback(s);
		return -EIO;
	}
	return STORE_CALL(commit_async, ret_seq);
}
static inline int store_flush_fd(struct store *s)
{
	return s->ops->flush_fd(s);
}
static inline int store_flush_done(struct store *s, bool wait, uint64_t *ret_durable)
{
	return STORE_CALL(flush_done, wait, ret_durable);
}
/* ---- end group commit */
/* ---- nodes */
static inline int store_node_set(struct store *s, const char *node_id, int64_t lease_ms)
{
	return STORE_CALL(node_set, node_id, lease_ms);
}
static inline int store_owners_renew(struct store *s)
{
	return s->ops->owners_renew(s);
}
static inline int store_owner_get(struct store *s, const char *station_id, char *ret_node,
				  int64_t *ret_epoch)
{
	return STORE_CALL(owner_get, station_id, ret_node, ret_epoch);
}
static inline int store_owner_lost(struct store *s, const char *station_id, int64_t epoch)
{
	return STORE_CALL(owner_lost, station_id, epoch);
}
static inline int store_notify_fd(struct store *s)
{
	return s->ops->notify_fd(s);
}
static inline int store_notify_drain(struct store *s, store_notify_fn fn, void *ud)
{
	return STORE_CALL(notify_drain, fn, ud);
}
static inline int store_notify(struct store *s, const char *channel, const char *payload)
{
	return STORE_CALL(notify, channel, payload);
}
static inline int store_rcmd_add(struct store *s, const char *target_node, const char *station_id,
				 const char *request, int64_t now_ms, int64_t *ret_id)
{
	return STORE_CALL(rcmd_add, target_node, station_id, request, now_ms, ret_id);
}
static inline int store_rcmd_claim(struct store *s, int64_t id, char *ret_station,
				   char **ret_request)
{
	return STORE_CALL(rcmd_claim, id, ret_station, ret_request);
}
static inline int store_rcmd_done(struct store *s, int64_t id, const char *result, int64_t now_ms)
{
	return STORE_CALL(rcmd_done, id, result, now_ms);
}
static inline int store_rcmd_take(struct store *s, int64_t id, char **ret_result)
{
	return STORE_CALL(rcmd_take, id, ret_result);
}
/* ---- end nodes */
static inline int store_owner_held(struct store *s, const char *station_id)
{
	return STORE_CALL(owner_held, station_id);
}
static inline int store_node_key_set(struct store *s, const char *key)
{
	return STORE_CALL(node_key_set, key);
}
static inline int store_node_key_get(struct store *s, const char *node_id, char *ret_key)
{
	return STORE_CALL(node_key_get, node_id, ret_key);
}
/* ---- end nodes, version 10 */
static inline int store_site_forecast_put(struct store *s, const char *site_id, const char *json,
					  int64_t set_ms)
{
	return STORE_CALL(site_forecast, site_id, json ? json : "", set_ms, NULL, NULL);
}
static inline int store_site_forecast_get(struct store *s, const char *site_id, store_doc_fn fn,
					  void *ud)
{
	return STORE_CALL(site_forecast, site_id, NULL, 0, fn, ud);
}
static inline int store_owners_check(struct store *s, store_owner_gone_fn fn, void *ud)
{
	return STORE_CALL(owners_check, fn, ud);
}
static inline int store_swap_bookings_open(struct store *s, const char *station_id,
					   const char *vehicle_or_null, store_swap_booking_fn fn,
					   void *ud)
{
	return STORE_CALL(swap_bookings_open, station_id, vehicle_or_null, fn, ud);
}
/* -EINVAL for a slot_ms that does not start a slot. */
static inline int store_site_plan_slots_put(struct store *s, const char *site_id, int64_t slot_ms,
					    int64_t planned_w, int64_t import_w, int64_t limit_w)
{
	struct store_plan_slot row = {slot_ms, planned_w, import_w, limit_w};

	if (slot_ms % STORE_PLAN_SLOT_MS)
		return -EINVAL;
	return STORE_CALL(site_plan_slots_put, site_id, &row);
}
static inline int store_site_plan_slots_list(struct store *s, const char *site_id, int64_t from_ms,
					     int64_t to_ms, store_plan_slot_fn fn, void *ud)
{
	return STORE_CALL(site_plan_slots_list, site_id, from_ms, to_ms, fn, ud);
}
/* -EINVAL for a negative evse_id. */
static inline int store_station_ext_limit_put(struct store *s, const char *station_id, int evse_id,
					      int64_t limit_w, int64_t until_ms, int64_t now_ms)
{
	if (evse_id < 0)
		return -EINVAL;
	return STORE_CALL(station_ext_limit_put, station_id, evse_id, limit_w, until_ms, now_ms);
}
static inline int store_site_ext_limits(struct store *s, const char *site_id, int64_t now_ms,
					store_ext_limit_fn fn, void *ud)
{
	return STORE_CALL(site_ext_limits, site_id, now_ms, fn, ud);
}

#undef STORE_CALL
