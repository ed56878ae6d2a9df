/* SPDX-License-Identifier: MIT */
/* The SQLite store: WAL, one connection, statements prepared once, group commit. It implements
 * struct store_ops; SQL lives in this file only. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sqlite3.h>

struct embedded_file {
	const char *name;
	const char *data;
	size_t len;
};
extern const struct embedded_file db_migrations[];
extern const size_t db_migrations_count;

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SITE_PUT,
	ST_STATION_GET,
	ST_STATION_CREATE,
	ST_STATION_PUT,
	ST_STATION_BOOT,
	ST_STATION_REG,
	ST_STATION_SEEN,
	ST_STATION_EVENT,
	ST_STATION_FW,
	ST_STATION_DIAG,
	ST_STATIONS_OFFLINE,
	ST_STATIONS_LIST,
	ST_STATION_ONE,
	ST_CONNECTOR_STATUS,
	ST_CONNECTORS_LIST,
	ST_TOKEN_GET,
	ST_TOKEN_PUT,
	ST_SESSION_REPLAY,
	ST_SESSION_INSERT,
	ST_SESSION_STATE,
	ST_SESSION_STOP,
	ST_SESSION_TAG,
	ST_SESSIONS_LIST,
	ST_SESSION_GET,
	ST_SAMPLE_ADD,
	ST_SAMPLE_STORED,
	ST_SAMPLE_CONFLICT_ADD,
	ST_SAMPLE_CONFLICT_COUNT,
	ST_SAMPLE_CONFLICTS_SESSION,
	ST_SAMPLE_CONFLICTS_TOTAL,
	ST_SAMPLES_LIST,
	ST_ORPHAN_ADD,
	ST_ORPHANS_LIST,
	ST_TX_LOOKUP,
	ST_TX_EVENT_ADD,
	ST_TX_SEQ_UPDATE,
	ST_TX_SET_START,
	ST_TX_SET_TOKEN,
	ST_TX_SET_EVSE,
	ST_TX_METER_LAST,
	ST_VARIABLE_PUT,
	ST_VARIABLES_LIST,
	ST_REPORT_PART,
	ST_REPORT_STATUS,
	ST_NOTICE_ADD,
	ST_COMMAND_ADD,	   /* command log */
	ST_COMMANDS_LIST,  /* command log */
	ST_ACCOUNT_CREATE, /* operator accounts */
	ST_ACCOUNT_GET,
	ST_ACCOUNT_UPDATE,
	ST_ACCOUNT_DELETE,
	ST_ACCOUNTS_LIST,
	ST_AUTH_SESSION_ADD,
	ST_AUTH_SESSION_GET,
	ST_AUTH_SESSION_TOUCH,
	ST_AUTH_SESSIONS_DELETE,
	ST_API_TOKEN_ADD,
	ST_API_TOKEN_GET,
	ST_API_TOKEN_TOUCH,
	ST_API_TOKENS_LIST,
	ST_API_TOKEN_REVOKE,
	ST_AUDIT_ADD,
	ST_AUDIT_LIST, /* operator accounts */
	ST_TARIFF_PUT, /* tariffs */
	ST_TARIFFS_LIST,
	ST_SITE_TARIFF_SET,
	ST_SITE_TARIFFS_LIST,
	ST_ENERGY_SESSIONS,
	ST_ENERGY_SAMPLES, /* end tariffs */
	ST_SITE_GET,	   /* planner */
	ST_SITE_LIMIT,
	ST_NEEDS_PUT,
	ST_NEEDS_GET,
	ST_SITE_SESSIONS,
	ST_SESSION_EXPORT,
	ST_GRID_EVENT_ADD,
	ST_GRID_EVENTS_LIST,
	ST_SITE_PLAN_PUT,
	ST_SITE_PLAN_GET,
	ST_SESSION_PLAN_PUT,
	ST_SESSION_PLAN_GET,
	ST_SITE_ENERGY,
	ST_CAP_PUT,
	ST_CAP_GET,	  /* end planner */
	ST_SWAP_PACK_PUT, /* swap */
	ST_SWAP_SOH_ADD,
	ST_SWAP_PACKS_LIST,
	ST_SWAP_SOH_LIST,
	ST_SWAP_ORDER_ADD,
	ST_SWAP_ORDER_SET,
	ST_SWAP_ORDER_GET,
	ST_SWAP_ORDERS_LIST,
	ST_SWAP_BOOKING_ADD,
	ST_SWAP_BOOKING_SET,
	ST_SWAP_BOOKINGS_LIST,
	ST_SWAP_READY_SET, /* end swap */
	ST_SWAP_BOOKINGS_OPEN,
	ST_MCAPS_PUT, /* model capabilities */
	ST_MCAPS_GET,
	ST_MCAPS_LIST,
	ST_MCAPS_STATION, /* end model capabilities */
	ST_FORECAST_PUT,  /* site forecasts (0027) */
	ST_FORECAST_DEL,
	ST_FORECAST_GET,
	ST_PLAN_SLOT_PUT, /* site plan slots (0028) */
	ST_PLAN_SLOT_PRUNE,
	ST_PLAN_SLOTS_LIST,
	ST_EXT_LIMIT_PUT, /* station external limits (0029) */
	ST_EXT_LIMIT_DEL,
	ST_EXT_LIMITS_SITE,
	_ST_MAX
};

#define SESSION_COLS                                                                               \
	"id, station_id, connector_id, id_tag, auth_status, start_ms, meter_start_wh, "            \
	"reservation_id, stop_ms, meter_stop_wh, stop_reason, evse_id, station_tx_id, "            \
	"seq_gaps, offline_events, seq_max, sample_conflicts"
#define STATE_COLS                                                                                 \
	"id, stop_ms IS NULL, start_ms, meter_start_wh IS NOT NULL, id_tag != '', "                \
	"meter_last_wh IS NOT NULL, ifnull(meter_last_wh, 0), ifnull(meter_last_ms, 0), "          \
	"station_id, evse_id, connector_id"
#define STATION_COLS                                                                               \
	"s.id, s.site_id, t.kind, s.registration, s.protocol, s.vendor, s.model, s.serial, "       \
	"s.firmware, s.firmware_status, s.diagnostics_status, s.online, s.last_seen_ms, "          \
	"s.last_boot_ms"

#define SWAP_PACK_COLS                                                                             \
	"serial, station_id, type, capacity_wh, soc, soh, cycles, location, evse_id, vehicle, "    \
	"production_ms, in_ms, flagged, updated_ms, ready_ms, ready_set_ms"
#define SWAP_ORDER_SET_COLS                                                                        \
	"station_id, request_id, vehicle, booking_id, packs_out, packs_in, soc_out, soc_in, "      \
	"energy_out_wh, energy_in_wh, delta_wh, tier, price_fen_per_mwh, cost_fen, state, "        \
	"promised_soc, created_ms, in_ms, out_ms, done_ms"

static const char *const stmt_sql[_ST_MAX] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SITE_PUT] = "INSERT INTO sites(id, kind, created_ms) VALUES (?1, ?2, ?3) "
		    "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind",
    [ST_STATION_GET] = "SELECT s.id, ifnull(s.site_id, ''), t.kind, s.registration, "
		       "ifnull(s.password_hash, '') FROM stations s "
		       "LEFT JOIN sites t ON t.id = s.site_id WHERE s.id = ?1",
    [ST_STATION_CREATE] = "INSERT INTO stations(id, registration, created_ms) VALUES (?1, ?2, ?3)",
    [ST_STATION_PUT] = "INSERT INTO stations(id, site_id, password_hash, created_ms) "
		       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET "
		       "site_id = excluded.site_id, password_hash = excluded.password_hash",
    [ST_STATION_BOOT] = "UPDATE stations SET protocol = ?2, vendor = ?3, model = ?4, serial = ?5, "
			"box_serial = ?6, firmware = ?7, iccid = ?8, imsi = ?9, meter_type = ?10, "
			"meter_serial = ?11, last_boot_ms = ?12, last_seen_ms = ?12, online = 1 "
			"WHERE id = ?1",
    [ST_STATION_REG] = "UPDATE stations SET registration = ?2 WHERE id = ?1",
    [ST_STATION_SEEN] = "UPDATE stations SET online = ?2, last_seen_ms = ?3, "
			"protocol = ifnull(?4, protocol) WHERE id = ?1",
    [ST_STATION_EVENT] = "INSERT INTO station_events(station_id, kind, status, ts_ms) "
			 "VALUES (?1, ?2, ?3, ?4)",
    [ST_STATION_FW] = "UPDATE stations SET firmware_status = ?2 WHERE id = ?1",
    [ST_STATION_DIAG] = "UPDATE stations SET diagnostics_status = ?2 WHERE id = ?1",
    [ST_STATIONS_OFFLINE] = "UPDATE stations SET online = 0 WHERE online = 1",
    [ST_STATIONS_LIST] = "SELECT " STATION_COLS " FROM stations s LEFT JOIN sites t ON "
			 "t.id = s.site_id ORDER BY s.id LIMIT ?1 OFFSET ?2",
    [ST_STATION_ONE] = "SELECT " STATION_COLS " FROM stations s LEFT JOIN sites t ON "
		       "t.id = s.site_id WHERE s.id = ?1",
    [ST_CONNECTOR_STATUS] =
	"INSERT INTO connectors(station_id, connector_id, status, error_code, "
	"info, vendor_error, updated_ms, evse_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	"ON CONFLICT(station_id, evse_id, connector_id) DO UPDATE SET "
	"status = excluded.status, error_code = excluded.error_code, "
	"info = excluded.info, vendor_error = excluded.vendor_error, "
	"updated_ms = excluded.updated_ms",
    [ST_CONNECTORS_LIST] =
	"SELECT connector_id, status, error_code, info, vendor_error, updated_ms, "
	"evse_id FROM connectors WHERE station_id = ?1 ORDER BY evse_id, connector_id",
    [ST_TOKEN_GET] = "SELECT token, status, ifnull(expiry_ms, 0), ifnull(parent, ''), "
		     "ifnull(site_id, '') FROM id_tokens WHERE token = ?1",
    [ST_TOKEN_PUT] = "INSERT INTO id_tokens(token, status, expiry_ms, parent, site_id) "
		     "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(token) DO UPDATE SET "
		     "status = excluded.status, expiry_ms = excluded.expiry_ms, "
		     "parent = excluded.parent, site_id = excluded.site_id",
    [ST_SESSION_REPLAY] = "SELECT id FROM sessions WHERE station_id = ?1 AND evse_id = ?2 "
			  "AND id_tag = ?3 AND start_ms = ?4 AND meter_start_wh = ?5 "
			  "AND station_tx_id IS NULL",
    /* the unique indexes sessions_replay and sessions_station_tx are the session keys */
    [ST_SESSION_INSERT] = "INSERT INTO sessions(station_id, connector_id, id_tag, auth_status, "
			  "start_ms, meter_start_wh, reservation_id, created_ms, evse_id, "
			  "station_tx_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
			  "ON CONFLICT DO NOTHING",
    [ST_SESSION_STATE] = "SELECT " STATE_COLS " FROM sessions WHERE id = ?1",
    [ST_SESSION_STOP] = "UPDATE sessions SET stop_ms = ?2, meter_stop_wh = ?3, stop_reason = ?4, "
			"stop_id_tag = ?5 WHERE id = ?1 AND stop_ms IS NULL",
    [ST_SESSION_TAG] = "SELECT id_tag FROM sessions WHERE id = ?1",
    [ST_SESSIONS_LIST] = "SELECT " SESSION_COLS " FROM sessions WHERE "
			 "(?1 IS NULL OR station_id = ?1) AND "
			 "(?2 < 0 OR (stop_ms IS NULL) = ?2) ORDER BY id DESC LIMIT ?3 OFFSET ?4",
    [ST_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1",
    [ST_SAMPLE_ADD] = "INSERT INTO meter_values(session_id, station_id, evse_id, "
		      "ts_ms, measurand, phase, unit, context, location, format, value, "
		      "signed_data, signing_method, encoding_method, public_key) VALUES "
		      "(?1, ?2, ?3, ?4, ?5, ifnull(?6, ''), ?7, ifnull(?8, ''), ifnull(?9, ''), "
		      "?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT DO NOTHING",
    /* only when the insert found the key taken: the value kept under it */
    [ST_SAMPLE_STORED] = "SELECT value, rowid FROM meter_values WHERE station_id = ?1 "
			 "AND evse_id = ?2 "
			 "AND ts_ms = ?3 AND measurand = ?4 AND phase = ifnull(?5, '') "
			 "AND context = ifnull(?6, '') AND location = ifnull(?7, '')",
    [ST_SAMPLE_CONFLICT_ADD] = "INSERT INTO sample_conflicts(session_id, station_id, evse_id, "
			       "ts_ms, measurand, phase, context, location, stored_value, value, "
			       "received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ifnull(?6, ''), "
			       "ifnull(?7, ''), ifnull(?8, ''), ?9, ?10, ?11)",
    [ST_SAMPLE_CONFLICT_COUNT] = "UPDATE sessions SET sample_conflicts = sample_conflicts + 1 "
				 "WHERE id = ?1",
    [ST_SAMPLE_CONFLICTS_SESSION] = "SELECT sample_conflicts FROM sessions WHERE id = ?1",
    [ST_SAMPLE_CONFLICTS_TOTAL] = "SELECT count(*) FROM sample_conflicts",
    [ST_SAMPLES_LIST] = "SELECT station_id, evse_id, ts_ms, measurand, nullif(phase, ''), unit, "
			"nullif(context, ''), nullif(location, ''), format, value, signed_data, "
			"signing_method, encoding_method, public_key FROM meter_values "
			"WHERE session_id = ?1 ORDER BY ts_ms, rowid",
    [ST_ORPHAN_ADD] = "INSERT INTO orphan_stops(station_id, transaction_id, id_tag, meter_stop_wh, "
		      "ts_ms, reason, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_ORPHANS_LIST] = "SELECT station_id, transaction_id, id_tag, meter_stop_wh, ts_ms, reason, "
			"received_ms FROM orphan_stops ORDER BY id DESC LIMIT ?1",
    [ST_TX_LOOKUP] = "SELECT " STATE_COLS " FROM sessions WHERE station_id = ?1 "
		     "AND station_tx_id = ?2",
    [ST_TX_EVENT_ADD] = "INSERT INTO tx_events(session_id, seq_no, event_type, trigger_reason, "
			"ts_ms, offline, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			"ON CONFLICT DO NOTHING",
    /* incremental, so a long session costs the same per event as a short one */
    [ST_TX_SEQ_UPDATE] =
	"UPDATE sessions SET seq_min = min(ifnull(seq_min, ?2), ?2), "
	"seq_max = max(ifnull(seq_max, ?2), ?2), seq_count = seq_count + 1, "
	"offline_events = offline_events + ?3, "
	"seq_gaps = max(ifnull(seq_max, ?2), ?2) - min(ifnull(seq_min, ?2), ?2) + 1 "
	"- (seq_count + 1) WHERE id = ?1",
    [ST_TX_SET_START] = "UPDATE sessions SET start_ms = ?2, meter_start_wh = "
			"CASE WHEN ?3 THEN ?4 ELSE meter_start_wh END WHERE id = ?1",
    [ST_TX_SET_TOKEN] = "UPDATE sessions SET id_tag = ?2, auth_status = ?3 WHERE id = ?1",
    [ST_TX_SET_EVSE] = "UPDATE sessions SET evse_id = ?2, connector_id = ?3 WHERE id = ?1",
    [ST_TX_METER_LAST] = "UPDATE sessions SET meter_last_wh = ?2, meter_last_ms = ?3 WHERE id = ?1 "
			 "AND (meter_last_ms IS NULL OR meter_last_ms <= ?3)",
    [ST_VARIABLE_PUT] =
	"INSERT INTO device_model(station_id, component, component_instance, evse_id, "
	"connector_id, variable, variable_instance, attribute_type, value, "
	"mutability, data_type, unit, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	"?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT DO UPDATE SET "
	"value = excluded.value, mutability = excluded.mutability, "
	"data_type = ifnull(excluded.data_type, data_type), "
	"unit = ifnull(excluded.unit, unit), updated_ms = excluded.updated_ms",
    [ST_VARIABLES_LIST] = "SELECT component, component_instance, evse_id, connector_id, variable, "
			  "variable_instance, attribute_type, value, mutability, data_type, unit "
			  "FROM device_model WHERE station_id = ?1 ORDER BY component, "
			  "component_instance, evse_id, connector_id, variable, variable_instance, "
			  "attribute_type",
    [ST_REPORT_PART] = "INSERT INTO reports(station_id, request_id, parts, last_seq_no, complete, "
		       "updated_ms) VALUES (?1, ?2, 1, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
		       "parts = parts + 1, last_seq_no = max(last_seq_no, ?3), "
		       "complete = complete OR ?4, updated_ms = ?5",
    [ST_REPORT_STATUS] =
	"SELECT parts, complete FROM reports WHERE station_id = ?1 AND request_id = ?2",
    [ST_NOTICE_ADD] = "INSERT INTO station_notices(station_id, kind, ts_ms, detail) "
		      "VALUES (?1, ?2, ?3, ?4)",
    /* ---- command log (0003_command_log.sql) */
    [ST_COMMAND_ADD] =
	"INSERT INTO command_log(station_id, who, kind, action, request, status, "
	"station_status, error_code, detail, response, requested_ms, answered_ms, "
	"latency_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [ST_COMMANDS_LIST] = "SELECT id, station_id, who, kind, action, request, status, "
			 "station_status, error_code, detail, response, requested_ms, answered_ms, "
			 "latency_ms FROM command_log WHERE ?1 IS NULL OR station_id = ?1 "
			 "ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    /* ---- end command log */
    /* ---- operator accounts (0006_accounts.sql) */
    [ST_ACCOUNT_CREATE] = "INSERT INTO accounts(name, role, pw_hash, disabled, created_ms, "
			  "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_ACCOUNT_GET] = "SELECT name, role, pw_hash, disabled, created_ms, updated_ms FROM accounts "
		       "WHERE name = ?1",
    [ST_ACCOUNT_UPDATE] = "UPDATE accounts SET role = ?2, pw_hash = ?3, disabled = ?4, "
			  "updated_ms = ?5 WHERE name = ?1",
    [ST_ACCOUNT_DELETE] = "DELETE FROM accounts WHERE name = ?1",
    [ST_ACCOUNTS_LIST] = "SELECT name, role, pw_hash, disabled, created_ms, updated_ms FROM "
			 "accounts ORDER BY name",
    [ST_AUTH_SESSION_ADD] = "INSERT INTO auth_sessions(hash, account, csrf, created_ms, last_ms, "
			    "expires_ms) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    [ST_AUTH_SESSION_GET] = "SELECT s.account, a.role, a.disabled, s.csrf, s.created_ms, "
			    "s.last_ms, s.expires_ms FROM auth_sessions s JOIN accounts a "
			    "ON a.name = s.account WHERE s.hash = ?1",
    [ST_AUTH_SESSION_TOUCH] = "UPDATE auth_sessions SET last_ms = ?2 WHERE hash = ?1",
    [ST_AUTH_SESSIONS_DELETE] = "DELETE FROM auth_sessions WHERE hash = ?1 OR account = ?2 OR "
				"(?1 IS NULL AND ?2 IS NULL AND expires_ms < ?3)",
    [ST_API_TOKEN_ADD] = "INSERT INTO api_tokens(name, role, hash, created_by, created_ms) "
			 "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_API_TOKEN_GET] = "SELECT id, name, role, created_by, created_ms, last_used_ms, revoked_ms "
			 "FROM api_tokens WHERE hash = ?1",
    [ST_API_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used_ms = ?2 WHERE id = ?1",
    [ST_API_TOKENS_LIST] = "SELECT id, name, role, created_by, created_ms, last_used_ms, "
			   "revoked_ms FROM api_tokens ORDER BY id",
    [ST_API_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked_ms = ?2 WHERE id = ?1 AND "
			    "revoked_ms = 0",
    [ST_AUDIT_ADD] = "INSERT INTO audit_log(ts_ms, who, method, path, status, peer) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_AUDIT_LIST] = "SELECT id, ts_ms, who, method, path, status, peer FROM audit_log "
		      "ORDER BY id DESC LIMIT ?1 OFFSET ?2",
    /* ---- end operator accounts */
    /* ---- tariffs (0004_tariffs.sql) */
    [ST_TARIFF_PUT] =
	"INSERT INTO tariffs(id, doc, updated_ms) VALUES (?1, ?2, ?3) "
	"ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, updated_ms = excluded.updated_ms",
    [ST_TARIFFS_LIST] = "SELECT id, doc, updated_ms FROM tariffs WHERE ?1 IS NULL OR id = ?1 "
			"ORDER BY id",
    [ST_SITE_TARIFF_SET] = "UPDATE sites SET tariff_id = ?2 WHERE id = ?1",
    [ST_SITE_TARIFFS_LIST] = "SELECT id, kind, ifnull(tariff_id, '') FROM sites "
			     "WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
#define ENERGY_SESSION_COLS                                                                        \
	"x.id, t.id, t.kind, ifnull(t.tariff_id, ''), x.start_ms, x.meter_start_wh IS NOT NULL, "  \
	"ifnull(x.meter_start_wh, 0), x.stop_ms IS NOT NULL, ifnull(x.stop_ms, 0), "               \
	"ifnull(x.meter_stop_wh, 0) FROM sites t JOIN stations s ON s.site_id = t.id "             \
	"JOIN sessions x ON x.station_id = s.id WHERE (?1 IS NULL OR t.id = ?1) "
    /* two index ranges: recent starts by (station, start), old active ones by sessions_active */
    [ST_ENERGY_SESSIONS] = "SELECT " ENERGY_SESSION_COLS "AND x.start_ms >= ?2 - ?4 "
			   "AND x.start_ms < ?3 AND (x.stop_ms IS NULL OR x.stop_ms >= ?2) "
			   "UNION ALL SELECT " ENERGY_SESSION_COLS "AND x.stop_ms IS NULL "
			   "AND x.start_ms < ?2 - ?4 ORDER BY 1",
    [ST_ENERGY_SAMPLES] =
	"SELECT ts_ms, measurand, unit, format, value FROM meter_values "
	"WHERE session_id = ?1 AND measurand IN ('Energy.Active.Import.Register', "
	"'Energy.Active.Export.Register') AND phase = '' ORDER BY ts_ms, rowid",
    /* ---- end tariffs */
    /* ---- planner (0005_planner.sql) */
    [ST_SITE_GET] = "SELECT id, kind, limit_kw FROM sites WHERE id = ?1",
    [ST_SITE_LIMIT] = "UPDATE sites SET limit_kw = ?2 WHERE id = ?1",
    [ST_NEEDS_PUT] = "INSERT OR REPLACE INTO session_needs(session_id, source, departure_ms, "
		     "energy_wh, target_soc, capacity_wh, soc, v2g, soc_floor, max_charge_w, "
		     "max_discharge_w, bidirectional, meter_wh, export_wh, updated_ms) VALUES "
		     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [ST_NEEDS_GET] = "SELECT source, ifnull(departure_ms, -1), ifnull(energy_wh, -1), "
		     "ifnull(target_soc, -1), ifnull(capacity_wh, -1), ifnull(soc, -1), v2g, "
		     "ifnull(soc_floor, -1), ifnull(max_charge_w, -1), "
		     "ifnull(max_discharge_w, -1), bidirectional, ifnull(meter_wh, -1), "
		     "ifnull(export_wh, -1), updated_ms FROM session_needs WHERE session_id = ?1",
    [ST_SITE_SESSIONS] =
	"SELECT x.id, x.station_id, x.station_tx_id, x.evse_id, x.start_ms, "
	"ifnull((SELECT max(CAST(m.value AS REAL) * (CASE WHEN m.unit = 'kWh' THEN 1000 "
	"ELSE 1 END)) FROM meter_values m WHERE m.session_id = x.id AND m.measurand = "
	"'Energy.Active.Import.Register' AND m.phase = ''), ifnull(x.meter_last_wh, "
	"ifnull(x.meter_start_wh, -1))), ifnull(x.meter_start_wh, -1), "
	"ifnull(e.last_wh, -1), ifnull(e.first_wh, -1) FROM sessions x "
	"JOIN stations s ON s.id = x.station_id LEFT JOIN session_export e ON "
	"e.session_id = x.id WHERE s.site_id = ?1 AND x.stop_ms IS NULL ORDER BY x.id",
    [ST_SESSION_EXPORT] = "INSERT INTO session_export(session_id, first_wh, last_wh, last_ms) "
			  "VALUES (?1, ?2, ?2, ?3) ON CONFLICT(session_id) DO UPDATE SET "
			  "first_wh = min(first_wh, ?2), last_wh = max(last_wh, ?2), "
			  "last_ms = max(last_ms, ?3)",
    [ST_GRID_EVENT_ADD] = "INSERT INTO grid_events(sites, start_ms, end_ms, reduce_w, export_w, "
			  "bonus_fen_per_kwh, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_GRID_EVENTS_LIST] = "SELECT id, sites, start_ms, end_ms, reduce_w, export_w, "
			    "bonus_fen_per_kwh, created_ms FROM grid_events WHERE end_ms > ?2 "
			    "AND (?1 IS NULL OR instr(',' || sites || ',', ',' || ?1 || ',') > 0) "
			    "ORDER BY start_ms, id",
    [ST_SITE_PLAN_PUT] = "INSERT OR REPLACE INTO site_plans(site_id, planned_ms, plan) "
			 "VALUES (?1, ?2, ?3)",
    [ST_SITE_PLAN_GET] = "SELECT site_id, planned_ms, plan FROM site_plans WHERE site_id = ?1",
    [ST_SESSION_PLAN_PUT] = "INSERT OR REPLACE INTO session_plans(session_id, site_id, "
			    "planned_ms, plan) VALUES (?1, ?2, ?3, ?4)",
    [ST_SESSION_PLAN_GET] = "SELECT site_id, planned_ms, plan FROM session_plans "
			    "WHERE session_id = ?1",
    [ST_SITE_ENERGY] = "SELECT m.session_id, m.station_id, m.evse_id, m.ts_ms, m.measurand, "
		       "m.unit, m.value FROM meter_values m JOIN stations s ON "
		       "s.id = m.station_id WHERE s.site_id = ?1 AND m.session_id IS NOT NULL "
		       "AND m.ts_ms >= ?2 AND m.ts_ms < ?3 AND m.phase = '' AND m.measurand IN "
		       "('Energy.Active.Import.Register', 'Energy.Active.Export.Register') "
		       "ORDER BY m.session_id, m.ts_ms",
    [ST_CAP_PUT] = "INSERT OR REPLACE INTO charging_capabilities(model, caps, updated_ms) "
		   "VALUES (?1, ?2, ?3)",
    [ST_CAP_GET] = "SELECT model, updated_ms, caps FROM charging_capabilities WHERE model = ?1",
    /* ---- end planner */
    /* ---- swap */
    [ST_SWAP_PACK_PUT] = "INSERT OR REPLACE INTO swap_packs(serial, station_id, type, "
			 "capacity_wh, soc, soh, cycles, location, evse_id, vehicle, "
			 "production_ms, in_ms, flagged, updated_ms) VALUES (?1, ?2, ?3, ?4, "
			 "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [ST_SWAP_SOH_ADD] = "INSERT OR REPLACE INTO swap_pack_soh(serial, ts_ms, soh) SELECT ?1, "
			"?2, ?3 WHERE ?3 IS NOT (SELECT soh FROM swap_pack_soh WHERE serial "
			"= ?1 ORDER BY ts_ms DESC LIMIT 1)",
    [ST_SWAP_PACKS_LIST] = "SELECT " SWAP_PACK_COLS " FROM swap_packs WHERE (?1 IS NULL OR "
			   "station_id = ?1) AND (?2 IS NULL OR serial = ?2) ORDER BY serial",
    [ST_SWAP_SOH_LIST] = "SELECT serial, ts_ms, soh FROM swap_pack_soh WHERE serial = ?1 "
			 "ORDER BY ts_ms",
    [ST_SWAP_ORDER_ADD] = "INSERT INTO swap_orders(" SWAP_ORDER_SET_COLS ") VALUES (?1, ?2, "
			  "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
			  "?17, ?18, ?19, ?20)",
    [ST_SWAP_ORDER_SET] = "UPDATE swap_orders SET (" SWAP_ORDER_SET_COLS ") = (?1, ?2, ?3, "
			  "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
			  "?19, ?20) WHERE id = ?21",
    [ST_SWAP_ORDER_GET] = "SELECT id, " SWAP_ORDER_SET_COLS " FROM swap_orders WHERE "
			  "station_id = ?1 AND request_id = ?2",
    [ST_SWAP_ORDERS_LIST] = "SELECT id, " SWAP_ORDER_SET_COLS " FROM swap_orders WHERE (?1 "
			    "IS NULL OR station_id = ?1) AND created_ms >= ?2 AND created_ms < "
			    "?3 ORDER BY created_ms, id",
    [ST_SWAP_BOOKING_ADD] = "INSERT INTO swap_bookings(station_id, vehicle, due_ms, min_soc, "
			    "state, request_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_SWAP_BOOKING_SET] = "UPDATE swap_bookings SET (station_id, vehicle, due_ms, min_soc, "
			    "state, request_id, created_ms) = (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			    "WHERE id = ?8",
    [ST_SWAP_BOOKINGS_LIST] = "SELECT id, station_id, vehicle, due_ms, min_soc, state, "
			      "request_id, created_ms FROM swap_bookings WHERE (?1 IS NULL OR "
			      "station_id = ?1) AND (?2 = 0 OR id = ?2) AND due_ms >= ?3 "
			      "ORDER BY due_ms, id",
    /* a later deadline keeps the time the planner has had the earlier one */
    /* the partial index swap_bookings_open (0025) */
    [ST_SWAP_BOOKINGS_OPEN] = "SELECT id, station_id, vehicle, due_ms, min_soc, state, "
			      "request_id, created_ms FROM swap_bookings WHERE station_id = ?1 "
			      "AND state IN ('queued', 'requested') AND (?2 IS NULL OR vehicle = "
			      "?2) ORDER BY due_ms, created_ms, id",
    [ST_SWAP_READY_SET] = "UPDATE swap_packs SET ready_set_ms = CASE WHEN ready_ms > 0 AND "
			  "?2 > ready_ms THEN ready_set_ms ELSE ?3 END, ready_ms = ?2 WHERE "
			  "serial = ?1 AND ready_ms != ?2",
    /* ---- end swap */
    /* ---- model capabilities (0016) */
    [ST_MCAPS_PUT] = "INSERT OR REPLACE INTO model_capabilities(vendor, model, learned, override, "
		     "reason, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_MCAPS_GET] = "SELECT vendor, model, learned, override, reason, updated_ms FROM "
		     "model_capabilities WHERE vendor = ?1 AND model = ?2",
    [ST_MCAPS_LIST] = "SELECT vendor, model, learned, override, reason, updated_ms FROM "
		      "model_capabilities ORDER BY vendor, model",
    [ST_MCAPS_STATION] = "SELECT coalesce(s.vendor, ''), coalesce(s.model, ''), c.learned, "
			 "c.override, c.reason, c.updated_ms FROM stations s LEFT JOIN "
			 "model_capabilities c ON c.vendor = coalesce(s.vendor, '') AND "
			 "c.model = coalesce(s.model, '') WHERE s.id = ?1",
    /* ---- end model capabilities */
    /* ---- site forecasts (0027) */
    [ST_FORECAST_PUT] = "INSERT OR REPLACE INTO site_forecasts(site_id, set_ms, forecast) "
			"VALUES (?1, ?2, ?3)",
    [ST_FORECAST_DEL] = "DELETE FROM site_forecasts WHERE site_id = ?1",
    [ST_FORECAST_GET] = "SELECT site_id, set_ms, forecast FROM site_forecasts "
			"WHERE site_id = ?1",
    /* ---- site plan slots (0028) */
    [ST_PLAN_SLOT_PUT] = "INSERT OR REPLACE INTO site_plan_slots(site_id, slot_ms, planned_w, "
			 "import_w, limit_w) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_PLAN_SLOT_PRUNE] = "DELETE FROM site_plan_slots WHERE site_id = ?1 AND slot_ms < ?2",
    [ST_PLAN_SLOTS_LIST] = "SELECT slot_ms, planned_w, import_w, limit_w FROM site_plan_slots "
			   "WHERE site_id = ?1 AND slot_ms >= ?2 AND slot_ms < ?3 ORDER BY slot_ms",
    /* ---- station external limits (0029) */
    [ST_EXT_LIMIT_PUT] = "INSERT OR REPLACE INTO station_ext_limits(station_id, evse_id, "
			 "limit_w, until_ms, updated) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_EXT_LIMIT_DEL] = "DELETE FROM station_ext_limits WHERE station_id = ?1 AND evse_id = ?2",
    [ST_EXT_LIMITS_SITE] = "SELECT e.station_id, e.evse_id, e.limit_w, e.until_ms FROM "
			   "station_ext_limits e JOIN stations st ON st.id = e.station_id "
			   "WHERE st.site_id = ?1 AND (e.until_ms = 0 OR e.until_ms > ?2) "
			   "ORDER BY e.station_id, e.evse_id",
};

/* Group commit off the loop (commit_async). The loop keeps running the statements and the
 * COMMIT, but with synchronous=NORMAL a WAL commit only write()s its frames; this thread makes
 * them durable with fdatasync() of the -wal file (one inode, whatever descriptor: SQLite's
 * own writes are covered). A flush covers every commit that returned before it started, so
 * one fdatasync serves all the batches committed while the previous one ran. The thread also
 * runs the WAL checkpoints (the loop's connection has its autocheckpoint replaced by a hook
 * that only counts pages), on a connection of its own; with synchronous=NORMAL SQLite syncs
 * the WAL before a checkpoint and the database after it, so a checkpoint stays durable, and
 * the WAL restarts in place (same file, same inode). */
struct sq_flush {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* broadcast: a new request, a flush ended, stop */
	int wal_fd;	   /* the -wal file, for fdatasync only */
	int event_fd;	   /* written by the thread when a flush ended (flush_fd) */
	sqlite3 *ckpt_db;  /* the thread's connection: checkpoints */
	char *gate;	   /* CSMS_TEST_FSYNC_GATE: test only, see sq_flush_start */
	uint64_t seq;	   /* loop only: the last batch committed */
	/* under mu */
	uint64_t requested; /* the newest batch to make durable */
	uint64_t durable;   /* the newest batch made durable */
	int wal_pages;	    /* frames in the WAL after the last commit */
	bool failed, stop;
};

/* Readings per multi-row INSERT in samples_add: a MeterValues carries a handful (5 in the load
 * test, a dozen with three phases); a larger batch goes in chunks of this many. */
#define SQ_SAMPLE_ROWS 16

struct sq_store {
	struct store base; /* first: a struct store * is a struct sq_store * */
	sqlite3 *db;
	sqlite3_stmt *st[_ST_MAX];
	bool in_txn;
	bool sync_full;	     /* sq_open's: answers wait for the disk */
	int wal_pages;	     /* the WAL hook's count (loop thread) */
	struct sq_flush *fl; /* the writer thread, from the first commit_async on */
	sqlite3_stmt *samples_ins[SQ_SAMPLE_ROWS]; /* [k - 1]: INSERT of k readings, on first use */
};

static struct sq_store *sq(struct store *s)
{
	return (struct sq_store *)s;
}

static const struct sq_store *sq_const(const struct store *s)
{
	return (const struct sq_store *)s;
}

/* Reset a cached statement and return it ready for binding. */
static sqlite3_stmt *stmt(struct store *s, enum stmt i)
{
	sqlite3_stmt *st = sq(s)->st[i];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void copy_col(sqlite3_stmt *st, int i, char *dst, size_t n)
{
	const char *v = col_text(st, i);

	snprintf(dst, n, "%s", v ? v : "");
}

/* Run a statement that returns no rows. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
}

/* Writes join the open group transaction, or open one. */
static int begin_write(struct store *s)
{
	int r;

	if (sq(s)->in_txn)
		return 0;
	r = step_done(stmt(s, ST_BEGIN));
	if (r < 0)
		return r;
	sq(s)->in_txn = true;
	return 0;
}

static void sq_rollback(struct store *s);

static int commit_write(struct store *s)
{
	int r = step_done(stmt(s, ST_COMMIT));

	if (r < 0) {
		sq_rollback(s);
		return r;
	}
	sq(s)->in_txn = false;
	return 0;
}

static int sq_commit(struct store *s)
{
	struct sq_flush *f = sq(s)->fl;
	int r;

	if (!sq(s)->in_txn)
		return 0;
	r = commit_write(s);
	if (r < 0)
		return r;
	/* commit() is durable on return: with the writer thread the pragma no longer syncs */
	if (f) {
		pthread_mutex_lock(&f->mu);
		if (f->failed || fdatasync(f->wal_fd) < 0)
			r = f->failed = true;
		pthread_mutex_unlock(&f->mu);
	}
	return r ? -EIO : 0;
}

static void sq_rollback(struct store *s)
{
	if (!sq(s)->in_txn)
		return;
	step_done(stmt(s, ST_ROLLBACK));
	sq(s)->in_txn = false;
}

static bool sq_dirty(const struct store *s)
{
	return sq_const(s)->in_txn;
}

static const char *sq_errmsg(struct store *s)
{
	return sqlite3_errmsg(sq(s)->db);
}

/* ---------------------------------------------------------------- the writer thread */

/* Checkpoint when the WAL holds this many frames (SQLite's wal_autocheckpoint, as before). */
#define SQ_CHECKPOINT_PAGES 4000
/* The thread's checkpoints run beside the loop's commits, and the WAL only restarts (from its
 * start, instead of growing) at a write transaction that begins with every frame backfilled:
 * under steady load that moment never comes (seen: 115 MB of WAL after 30 s of a closed loop).
 * Past this many frames the loop checkpoints itself between two transactions (nothing writes
 * meanwhile, so it completes and the next transaction restarts the WAL); the thread has
 * backfilled most of it already, so the loop pays the recent frames and two syncs. */
#define SQ_WAL_RESTART_PAGES (3 * SQ_CHECKPOINT_PAGES)

static int on_wal_commit(void *ud, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	((struct sq_store *)ud)->wal_pages = pages;
	return SQLITE_OK;
}

/* Test only (docs/operations.md): each flush waits until the file named by
 * CSMS_TEST_FSYNC_GATE exists, so a test can hold batches written but not durable. */
static void gate_wait(struct sq_flush *f)
{
	while (f->gate && access(f->gate, F_OK) < 0) {
		bool stop;

		pthread_mutex_lock(&f->mu);
		stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			return;
		usleep(2000);
	}
}

static void *flush_main(void *ud)
{
	struct sq_flush *f = ud;
	const uint64_t one = 1;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		uint64_t target;
		int pages, r = 0;

		while (!f->stop && f->requested == f->durable)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->requested == f->durable)
			break; /* stopping, nothing left to flush */
		if (f->gate) {
			pthread_mutex_unlock(&f->mu);
			gate_wait(f);
			pthread_mutex_lock(&f->mu);
		}
		/* read last: the flush covers every commit that returned before it starts */
		target = f->requested;
		pages = f->wal_pages;
		pthread_mutex_unlock(&f->mu);

		if (fdatasync(f->wal_fd) < 0)
			r = -errno;
		/* a failed checkpoint is retried at the next flush; the WAL grows meanwhile */
		if (r == 0 && pages >= SQ_CHECKPOINT_PAGES)
			sqlite3_wal_checkpoint_v2(f->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE,
						  NULL, NULL);

		pthread_mutex_lock(&f->mu);
		if (r < 0)
			f->failed = true;
		f->durable = target;
		pthread_cond_broadcast(&f->cv);
		if (write(f->event_fd, &one, sizeof(one)) < 0) {
			/* the counter is already non-zero: the loop will look anyway */
		}
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void flush_free(struct sq_flush *f)
{
	if (!f)
		return;
	if (f->wal_fd >= 0)
		close(f->wal_fd);
	if (f->event_fd >= 0)
		close(f->event_fd);
	sqlite3_close(f->ckpt_db);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f->gate);
	free(f);
}

static void flush_stop(struct store *s)
{
	struct sq_flush *f = sq(s)->fl;

	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	sq(s)->fl = NULL;
	flush_free(f);
	/* back to SQLite's own syncs and checkpoints for what the connection still does */
	sqlite3_wal_autocheckpoint(sq(s)->db, SQ_CHECKPOINT_PAGES);
	sqlite3_exec(sq(s)->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
}

/* Start the writer thread: only for a file database whose answers wait for the disk
 * (sync_full). Called between transactions. 0, or negative errno (then nothing changed). */
static int flush_start(struct store *s)
{
	const char *db_file = sqlite3_db_filename(sq(s)->db, "main");
	const char *gate = getenv("CSMS_TEST_FSYNC_GATE");
	struct sq_flush *f;
	char wal[4096];
	int r = -EIO;

	if (!sq(s)->sync_full || !db_file || !*db_file)
		return -ENOTSUP;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", db_file) >= sizeof(wal))
		return -ENAMETOOLONG;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->wal_fd = f->event_fd = -1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (gate && *gate && !(f->gate = strdup(gate))) {
		r = -ENOMEM;
		goto fail;
	}
	f->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
	f->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->wal_fd < 0 || f->event_fd < 0) {
		r = -errno;
		goto fail;
	}
	if (sqlite3_open_v2(db_file, &f->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(f->ckpt_db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(sq(s)->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	/* replaces wal_autocheckpoint: the checkpoints move to the thread */
	sqlite3_wal_hook(sq(s)->db, on_wal_commit, s);
	r = -pthread_create(&f->thread, NULL, flush_main, f);
	if (r < 0) {
		sqlite3_wal_autocheckpoint(sq(s)->db, SQ_CHECKPOINT_PAGES);
		sqlite3_exec(sq(s)->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
		goto fail;
	}
	sq(s)->fl = f;
	return 0;
fail:
	flush_free(f);
	return r;
}

static int sq_commit_async(struct store *s, uint64_t *ret_seq)
{
	struct sq_flush *f;
	bool failed;
	int r;

	if (!sq(s)->in_txn)
		return 0;
	f = sq(s)->fl;
	r = commit_write(s);
	if (r < 0)
		return r;
	if (f && sq(s)->wal_pages >= SQ_WAL_RESTART_PAGES)
		sqlite3_wal_checkpoint_v2(sq(s)->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (!f) {
		/* durable already (synchronous=FULL, or "normal" as configured); the thread starts
		 * between transactions (the pragma cannot change inside one) */
		if (sq(s)->sync_full && flush_start(s) < 0)
			sq(s)->sync_full = false; /* stays synchronous: FULL syncs every commit */
		return 0;
	}
	pthread_mutex_lock(&f->mu);
	failed = f->failed;
	if (!failed) {
		f->requested = ++f->seq;
		f->wal_pages = sq(s)->wal_pages;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	if (failed)
		return -EIO;
	*ret_seq = f->seq;
	return 1;
}

static int sq_flush_fd(struct store *s)
{
	return sq(s)->fl ? sq(s)->fl->event_fd : -ENOTSUP;
}

static int sq_flush_done(struct store *s, bool wait, uint64_t *ret_durable)
{
	struct sq_flush *f = sq(s)->fl;
	uint64_t n, durable;
	bool failed;

	if (!f) {
		*ret_durable = 0;
		return 0;
	}
	if (read(f->event_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing ended since the last look */
	}
	pthread_mutex_lock(&f->mu);
	while (wait && !f->failed && f->durable < f->seq)
		pthread_cond_wait(&f->cv, &f->mu);
	durable = f->durable;
	failed = f->failed;
	pthread_mutex_unlock(&f->mu);
	if (failed)
		return -EIO;
	*ret_durable = durable;
	return 0;
}

static int migrate(struct store *s, char *err, size_t err_len)
{
	sqlite3_stmt *st;
	int version = 0;

	if (sqlite3_prepare_v2(sq(s)->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > (int)db_migrations_count) {
		snprintf(err, err_len, "database schema %d is newer than this csms (%zu)", version,
			 db_migrations_count);
		return -EINVAL;
	}
	for (size_t i = (size_t)version; i < db_migrations_count; i++) {
		char pragma[64];

		/* Each migration and its version bump commit together or not at all. */
		if (sqlite3_exec(sq(s)->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", i + 1);
		if (sqlite3_exec(sq(s)->db, db_migrations[i].data, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(sq(s)->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, err_len, "migration %s: %s", db_migrations[i].name,
				 sqlite3_errmsg(sq(s)->db));
			sqlite3_exec(sq(s)->db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
		if (sqlite3_exec(sq(s)->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, err_len, "migrations: %s", sqlite3_errmsg(sq(s)->db));
	return -EIO;
}

static void sq_close(struct store *s);

static struct store *sq_open(const char *path, bool sync_full, char *err, size_t err_len)
{
	struct sq_store *q = calloc(1, sizeof(*q));
	struct store *s;
	char pragmas[512];

	if (!q) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	q->base.ops = &store_sqlite_ops;
	q->sync_full = sync_full;
	s = &q->base;
	if (sqlite3_open_v2(path, &sq(s)->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, err_len, "%s: %s", path,
			 sq(s)->db ? sqlite3_errmsg(sq(s)->db) : "cannot open");
		goto fail;
	}
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON; "
		 "PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 4000; "
		 /* reads from memory, not a pread() per page: 64 MiB cache, 1 GiB mapped */
		 "PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824; "
		 "PRAGMA temp_store = MEMORY;",
		 sync_full ? "FULL" : "NORMAL");
	if (sqlite3_exec(sq(s)->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(sq(s)->db));
		goto fail;
	}
	if (migrate(s, err, err_len) < 0)
		goto fail;
	for (int i = 0; i < _ST_MAX; i++) {
		if (sqlite3_prepare_v3(sq(s)->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &sq(s)->st[i], NULL) != SQLITE_OK) {
			snprintf(err, err_len, "prepare %d: %s", i, sqlite3_errmsg(sq(s)->db));
			goto fail;
		}
	}
	return s;
fail:
	sq_close(s);
	return NULL;
}

static void sq_close(struct store *s)
{
	if (!s)
		return;
	if (sq(s)->in_txn)
		sq_commit(s);
	flush_stop(s);
	for (int i = 0; i < _ST_MAX; i++)
		sqlite3_finalize(sq(s)->st[i]);
	for (int i = 0; i < SQ_SAMPLE_ROWS; i++)
		sqlite3_finalize(sq(s)->samples_ins[i]);
	sqlite3_close(sq(s)->db);
	free(s);
}

static int sq_schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -EIO;

	if (sqlite3_prepare_v2(sq(s)->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int sq_site_put(struct store *s, const char *id, int kind, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SITE_PUT);
	bind_text(st, 1, id);
	bind_text(st, 2, site_kind_to_string(kind));
	sqlite3_bind_int64(st, 3, now_ms);
	return step_done(st);
}

static int sq_station_get(struct store *s, const char *id, struct store_station *ret)
{
	sqlite3_stmt *st = stmt(s, ST_STATION_GET);
	int rc;

	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, ret->id, sizeof(ret->id));
		copy_col(st, 1, ret->site_id, sizeof(ret->site_id));
		ret->site_kind = sqlite3_column_type(st, 2) == SQLITE_NULL
				     ? -1
				     : site_kind_from_string(col_text(st, 2));
		ret->registration = reg_status_from_string(col_text(st, 3));
		copy_col(st, 4, ret->password_hash, sizeof(ret->password_hash));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_station_create(struct store *s, const char *id, int registration, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_STATION_CREATE);
	bind_text(st, 1, id);
	bind_text(st, 2, reg_status_to_string(registration));
	sqlite3_bind_int64(st, 3, now_ms);
	return step_done(st);
}

static int sq_station_put(struct store *s, const char *id, const char *site_id,
			  const char *password_hash, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_STATION_PUT);
	bind_text(st, 1, id);
	bind_text(st, 2, site_id);
	bind_text(st, 3, password_hash);
	sqlite3_bind_int64(st, 4, now_ms);
	return step_done(st);
}

static int sq_station_boot(struct store *s, const char *id, const struct store_boot *b)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_STATION_BOOT);
	bind_text(st, 1, id);
	bind_text(st, 2, b->protocol);
	bind_text(st, 3, b->vendor);
	bind_text(st, 4, b->model);
	bind_text(st, 5, b->serial);
	bind_text(st, 6, b->box_serial);
	bind_text(st, 7, b->firmware);
	bind_text(st, 8, b->iccid);
	bind_text(st, 9, b->imsi);
	bind_text(st, 10, b->meter_type);
	bind_text(st, 11, b->meter_serial);
	sqlite3_bind_int64(st, 12, b->now_ms);
	return step_done(st);
}

static int sq_station_set_registration(struct store *s, const char *id, int registration)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_STATION_REG);
	bind_text(st, 1, id);
	bind_text(st, 2, reg_status_to_string(registration));
	r = step_done(st);
	if (r == 0 && sqlite3_changes(sq(s)->db) == 0)
		return -ENOENT;
	return r;
}

static int sq_station_seen(struct store *s, const char *id, bool online, const char *protocol,
			   int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_STATION_SEEN);
	bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, online);
	sqlite3_bind_int64(st, 3, now_ms);
	bind_text(st, 4, protocol);
	return step_done(st);
}

static int sq_station_event(struct store *s, const char *id, int kind, const char *status,
			    int64_t ts_ms)
{
	const char *name = station_event_kind_to_string(kind);
	sqlite3_stmt *st;
	int r;

	if (!name)
		return -EINVAL;
	r = begin_write(s);
	if (r < 0)
		return r;
	st = stmt(s, ST_STATION_EVENT);
	bind_text(st, 1, id);
	bind_text(st, 2, name);
	bind_text(st, 3, status);
	sqlite3_bind_int64(st, 4, ts_ms);
	r = step_done(st);
	if (r < 0)
		return r;
	st = stmt(s, station_event_sets_firmware(kind) ? ST_STATION_FW : ST_STATION_DIAG);
	bind_text(st, 1, id);
	bind_text(st, 2, status);
	return step_done(st);
}

static int sq_stations_offline_all(struct store *s)
{
	int r = begin_write(s);

	return r < 0 ? r : step_done(stmt(s, ST_STATIONS_OFFLINE));
}

static int sq_stations_list(struct store *s, const char *id_or_null, int limit, int offset,
			    store_station_fn fn, void *ud)
{
	sqlite3_stmt *st;
	int rc, n = 0, r = 0;

	if (id_or_null) {
		st = stmt(s, ST_STATION_ONE);
		bind_text(st, 1, id_or_null);
	} else {
		st = stmt(s, ST_STATIONS_LIST);
		sqlite3_bind_int(st, 1, limit);
		sqlite3_bind_int(st, 2, offset);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_station_row row = {
		    .id = col_text(st, 0),
		    .site_id = col_text(st, 1),
		    .site_kind = col_text(st, 2),
		    .registration = col_text(st, 3),
		    .protocol = col_text(st, 4),
		    .vendor = col_text(st, 5),
		    .model = col_text(st, 6),
		    .serial = col_text(st, 7),
		    .firmware = col_text(st, 8),
		    .firmware_status = col_text(st, 9),
		    .diagnostics_status = col_text(st, 10),
		    .online = sqlite3_column_int(st, 11) != 0,
		    .last_seen_ms = sqlite3_column_int64(st, 12),
		    .last_boot_ms = sqlite3_column_int64(st, 13),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	return id_or_null && n == 0 ? -ENOENT : n;
}

static int sq_connector_status(struct store *s, const char *station_id, int evse_id,
			       int connector_id, const char *status, const char *error_code,
			       const char *info, const char *vendor_error, int64_t ts_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_CONNECTOR_STATUS);
	bind_text(st, 1, station_id);
	sqlite3_bind_int(st, 2, connector_id);
	bind_text(st, 3, status);
	bind_text(st, 4, error_code);
	bind_text(st, 5, info);
	bind_text(st, 6, vendor_error);
	sqlite3_bind_int64(st, 7, ts_ms);
	sqlite3_bind_int(st, 8, evse_id);
	return step_done(st);
}

static int sq_connectors_list(struct store *s, const char *station_id, store_connector_fn fn,
			      void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_CONNECTORS_LIST);
	int rc, r = 0;

	bind_text(st, 1, station_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_connector_row row = {
		    .connector_id = sqlite3_column_int(st, 0),
		    .status = col_text(st, 1),
		    .error_code = col_text(st, 2),
		    .info = col_text(st, 3),
		    .vendor_error = col_text(st, 4),
		    .updated_ms = sqlite3_column_int64(st, 5),
		    .evse_id = sqlite3_column_int(st, 6),
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_token_get(struct store *s, const char *token, struct store_token *ret)
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_GET);
	int rc;

	bind_text(st, 1, token);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, ret->token, sizeof(ret->token));
		ret->status = auth_status_from_string(col_text(st, 1));
		ret->expiry_ms = sqlite3_column_int64(st, 2);
		copy_col(st, 3, ret->parent, sizeof(ret->parent));
		copy_col(st, 4, ret->site_id, sizeof(ret->site_id));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_token_put(struct store *s, const struct store_token *t)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_TOKEN_PUT);
	bind_text(st, 1, t->token);
	bind_text(st, 2, auth_status_to_string(t->status));
	if (t->expiry_ms)
		sqlite3_bind_int64(st, 3, t->expiry_ms);
	bind_text(st, 4, t->parent[0] ? t->parent : NULL);
	bind_text(st, 5, t->site_id[0] ? t->site_id : NULL);
	return step_done(st);
}

static void bind_open_key(sqlite3_stmt *st, const struct store_session_open *in)
{
	bind_text(st, 1, in->station_id);
	sqlite3_bind_int(st, 2, in->evse_id);
	bind_text(st, 3, in->id_tag ? in->id_tag : "");
	sqlite3_bind_int64(st, 4, in->start_ms);
	if (in->has_meter_start)
		sqlite3_bind_int64(st, 5, in->meter_start_wh);
}

static int sq_session_open(struct store *s, const struct store_session_open *in, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SESSION_INSERT);
	bind_text(st, 1, in->station_id);
	sqlite3_bind_int(st, 2, in->connector_id);
	bind_text(st, 3, in->id_tag ? in->id_tag : "");
	bind_text(st, 4, session_auth_to_string(in->auth_status));
	sqlite3_bind_int64(st, 5, in->start_ms);
	if (in->has_meter_start)
		sqlite3_bind_int64(st, 6, in->meter_start_wh);
	if (in->has_reservation)
		sqlite3_bind_int64(st, 7, in->reservation_id);
	sqlite3_bind_int64(st, 8, in->now_ms);
	sqlite3_bind_int(st, 9, in->evse_id);
	bind_text(st, 10, in->station_tx_id);
	r = step_done(st);
	if (r < 0)
		return r;
	if (sqlite3_changes(sq(s)->db) == 0)
		return -EEXIST;
	*ret_id = sqlite3_last_insert_rowid(sq(s)->db);
	return 0;
}

static int sq_session_find_start(struct store *s, const struct store_session_open *key,
				 int64_t *ret_id)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_REPLAY);
	int rc;

	bind_open_key(st, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

/* One row of STATE_COLS. */
static int state_row(sqlite3_stmt *st, struct store_session_state *ret)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*ret = (struct store_session_state){
		    .id = sqlite3_column_int64(st, 0),
		    .active = sqlite3_column_int(st, 1) != 0,
		    .start_ms = sqlite3_column_int64(st, 2),
		    .has_meter_start = sqlite3_column_int(st, 3) != 0,
		    .has_token = sqlite3_column_int(st, 4) != 0,
		    .has_meter_last = sqlite3_column_int(st, 5) != 0,
		    .meter_last_wh = sqlite3_column_int64(st, 6),
		    .meter_last_ms = sqlite3_column_int64(st, 7),
		    .evse_id = sqlite3_column_int(st, 9),
		    .connector_id = sqlite3_column_int(st, 10),
		};
		copy_col(st, 8, ret->station_id, sizeof(ret->station_id));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_session_find_tx(struct store *s, const char *station_id, const char *station_tx_id,
			      struct store_session_state *ret)
{
	sqlite3_stmt *st = stmt(s, ST_TX_LOOKUP);

	bind_text(st, 1, station_id);
	bind_text(st, 2, station_tx_id);
	return state_row(st, ret);
}

static int sq_session_state(struct store *s, int64_t id, struct store_session_state *ret)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_STATE);

	sqlite3_bind_int64(st, 1, id);
	return state_row(st, ret);
}

static int sq_session_id_tag(struct store *s, int64_t id, char ret_tag[TOKEN_MAX + 1])
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_TAG);
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_col(st, 0, ret_tag, TOKEN_MAX + 1);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_session_close(struct store *s, int64_t id, const struct store_session_close *in)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SESSION_STOP);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, in->stop_ms);
	sqlite3_bind_int64(st, 3, in->meter_stop_wh);
	bind_text(st, 4, in->reason);
	bind_text(st, 5, in->id_tag);
	return step_done(st);
}

static int session_rows(sqlite3_stmt *st, store_session_fn fn, void *ud)
{
	int rc, r = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_session_row row = {
		    .id = sqlite3_column_int64(st, 0),
		    .station_id = col_text(st, 1),
		    .connector_id = sqlite3_column_int(st, 2),
		    .id_tag = col_text(st, 3),
		    .auth_status = col_text(st, 4),
		    .start_ms = sqlite3_column_int64(st, 5),
		    .has_meter_start = sqlite3_column_type(st, 6) != SQLITE_NULL,
		    .meter_start_wh = sqlite3_column_int64(st, 6),
		    .has_reservation = sqlite3_column_type(st, 7) != SQLITE_NULL,
		    .reservation_id = sqlite3_column_int64(st, 7),
		    .stopped = sqlite3_column_type(st, 8) != SQLITE_NULL,
		    .stop_ms = sqlite3_column_int64(st, 8),
		    .meter_stop_wh = sqlite3_column_int64(st, 9),
		    .stop_reason = col_text(st, 10),
		    .evse_id = sqlite3_column_int(st, 11),
		    .station_tx_id = col_text(st, 12),
		    .seq_gaps = sqlite3_column_int(st, 13),
		    .offline_events = sqlite3_column_int(st, 14),
		    .seq_max = sqlite3_column_type(st, 15) == SQLITE_NULL
				   ? -1
				   : sqlite3_column_int64(st, 15),
		    .sample_conflicts = sqlite3_column_int(st, 16),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

static int sq_sessions_list(struct store *s, const struct store_session_filter *f,
			    store_session_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SESSIONS_LIST);

	bind_text(st, 1, f->station_id);
	sqlite3_bind_int(st, 2, f->active);
	sqlite3_bind_int(st, 3, f->limit);
	sqlite3_bind_int(st, 4, f->offset);
	return session_rows(st, fn, ud);
}

static int sq_session_get(struct store *s, int64_t id, store_session_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_GET);
	int r;

	sqlite3_bind_int64(st, 1, id);
	r = session_rows(st, fn, ud);
	return r == 0 ? -ENOENT : r;
}

static int sq_sample_add(struct store *s, const struct store_sample *in, char *ret_stored, size_t n)
{
	sqlite3_stmt *st;
	int r, rc;

	if (!in->measurand || !in->value || !in->station_id)
		return -EINVAL;
	r = begin_write(s);
	if (r < 0)
		return r;
	st = stmt(s, ST_SAMPLE_ADD);
	if (in->session_id)
		sqlite3_bind_int64(st, 1, in->session_id);
	bind_text(st, 2, in->station_id);
	sqlite3_bind_int(st, 3, in->evse_id);
	sqlite3_bind_int64(st, 4, in->ts_ms);
	bind_text(st, 5, in->measurand);
	bind_text(st, 6, in->phase);
	bind_text(st, 7, in->unit);
	bind_text(st, 8, in->context);
	bind_text(st, 9, in->location);
	bind_text(st, 10, in->format);
	bind_text(st, 11, in->value);
	bind_text(st, 12, in->sig.data);
	bind_text(st, 13, in->sig.signing_method);
	bind_text(st, 14, in->sig.encoding_method);
	bind_text(st, 15, in->sig.public_key);
	r = step_done(st);
	if (r < 0)
		return r;
	if (sqlite3_changes(sq(s)->db) > 0)
		return 1;
	/* the key is taken: the one extra query of a repeated reading */
	st = stmt(s, ST_SAMPLE_STORED);
	bind_text(st, 1, in->station_id);
	sqlite3_bind_int(st, 2, in->evse_id);
	sqlite3_bind_int64(st, 3, in->ts_ms);
	bind_text(st, 4, in->measurand);
	bind_text(st, 5, in->phase);
	bind_text(st, 6, in->context);
	bind_text(st, 7, in->location);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && n)
		copy_col(st, 0, ret_stored, n);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

static int sq_sample_conflict_add(struct store *s, const struct store_sample_conflict *c)
{
	const struct store_sample *in = c->sample;
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SAMPLE_CONFLICT_ADD);
	if (in->session_id)
		sqlite3_bind_int64(st, 1, in->session_id);
	bind_text(st, 2, in->station_id);
	sqlite3_bind_int(st, 3, in->evse_id);
	sqlite3_bind_int64(st, 4, in->ts_ms);
	bind_text(st, 5, in->measurand);
	bind_text(st, 6, in->phase);
	bind_text(st, 7, in->context);
	bind_text(st, 8, in->location);
	bind_text(st, 9, c->stored_value);
	bind_text(st, 10, in->value);
	sqlite3_bind_int64(st, 11, c->received_ms);
	r = step_done(st);
	if (r < 0 || !in->session_id)
		return r;
	st = stmt(s, ST_SAMPLE_CONFLICT_COUNT);
	sqlite3_bind_int64(st, 1, in->session_id);
	return step_done(st);
}

static int sq_sample_conflicts(struct store *s, int64_t session_id, int64_t *ret_count)
{
	sqlite3_stmt *st;
	int rc;

	if (session_id) {
		st = stmt(s, ST_SAMPLE_CONFLICTS_SESSION);
		sqlite3_bind_int64(st, 1, session_id);
	} else {
		st = stmt(s, ST_SAMPLE_CONFLICTS_TOTAL);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_samples_list(struct store *s, int64_t session_id, store_sample_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SAMPLES_LIST);
	int rc, r = 0;

	sqlite3_bind_int64(st, 1, session_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_sample row = {
		    .session_id = session_id,
		    .station_id = col_text(st, 0),
		    .evse_id = sqlite3_column_int(st, 1),
		    .ts_ms = sqlite3_column_int64(st, 2),
		    .measurand = col_text(st, 3),
		    .phase = col_text(st, 4),
		    .unit = col_text(st, 5),
		    .context = col_text(st, 6),
		    .location = col_text(st, 7),
		    .format = col_text(st, 8),
		    .value = col_text(st, 9),
		    .measurand_kind = -1,
		    .sig =
			{
			    .data = col_text(st, 10),
			    .signing_method = col_text(st, 11),
			    .encoding_method = col_text(st, 12),
			    .public_key = col_text(st, 13),
			},
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_orphan_add(struct store *s, const struct store_orphan *o)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_ORPHAN_ADD);
	bind_text(st, 1, o->station_id);
	sqlite3_bind_int64(st, 2, o->transaction_id);
	bind_text(st, 3, o->id_tag);
	sqlite3_bind_int64(st, 4, o->meter_stop_wh);
	sqlite3_bind_int64(st, 5, o->ts_ms);
	bind_text(st, 6, o->reason);
	sqlite3_bind_int64(st, 7, o->received_ms);
	return step_done(st);
}

static int sq_orphans_list(struct store *s, int limit, store_orphan_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_ORPHANS_LIST);
	int rc, r = 0;

	sqlite3_bind_int(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_orphan row = {
		    .station_id = col_text(st, 0),
		    .transaction_id = sqlite3_column_int64(st, 1),
		    .id_tag = col_text(st, 2),
		    .meter_stop_wh = sqlite3_column_int64(st, 3),
		    .ts_ms = sqlite3_column_int64(st, 4),
		    .reason = col_text(st, 5),
		    .received_ms = sqlite3_column_int64(st, 6),
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_session_event_add(struct store *s, int64_t id, const struct store_session_event *ev)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_TX_EVENT_ADD);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, ev->seq_no);
	bind_text(st, 3, ev->label);
	bind_text(st, 4, ev->trigger ? ev->trigger : "");
	sqlite3_bind_int64(st, 5, ev->ts_ms);
	sqlite3_bind_int(st, 6, ev->offline);
	sqlite3_bind_int64(st, 7, ev->now_ms);
	r = step_done(st);
	if (r < 0)
		return r;
	return sqlite3_changes(sq(s)->db) == 0 ? -EEXIST : 0;
}

/* Run a write statement bound with (id, ...) through bind. */
static int write_id(struct store *s, enum stmt which, int64_t id, sqlite3_stmt **ret)
{
	int r = begin_write(s);

	if (r < 0)
		return r;
	*ret = stmt(s, which);
	sqlite3_bind_int64(*ret, 1, id);
	return 0;
}

static int sq_session_seq_update(struct store *s, int64_t session_id, int64_t seq_no, bool offline)
{
	sqlite3_stmt *st;
	int r = write_id(s, ST_TX_SEQ_UPDATE, session_id, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 2, seq_no);
	sqlite3_bind_int(st, 3, offline);
	return step_done(st);
}

static int sq_session_set_start(struct store *s, int64_t session_id, int64_t start_ms,
				bool has_meter, int64_t meter_start_wh)
{
	sqlite3_stmt *st;
	int r = write_id(s, ST_TX_SET_START, session_id, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 2, start_ms);
	sqlite3_bind_int(st, 3, has_meter);
	sqlite3_bind_int64(st, 4, meter_start_wh);
	return step_done(st);
}

static int sq_session_set_token(struct store *s, int64_t session_id, const char *id_tag,
				int auth_status)
{
	sqlite3_stmt *st;
	int r = write_id(s, ST_TX_SET_TOKEN, session_id, &st);

	if (r < 0)
		return r;
	bind_text(st, 2, id_tag);
	bind_text(st, 3, session_auth_to_string(auth_status));
	return step_done(st);
}

static int sq_session_set_evse(struct store *s, int64_t session_id, int evse_id, int connector_id)
{
	sqlite3_stmt *st;
	int r = write_id(s, ST_TX_SET_EVSE, session_id, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int(st, 2, evse_id);
	sqlite3_bind_int(st, 3, connector_id);
	return step_done(st);
}

static int sq_session_meter_last(struct store *s, int64_t session_id, int64_t wh, int64_t ts_ms)
{
	sqlite3_stmt *st;
	int r = write_id(s, ST_TX_METER_LAST, session_id, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 2, wh);
	sqlite3_bind_int64(st, 3, ts_ms);
	return step_done(st);
}

static int sq_variable_put(struct store *s, const char *station_id, const struct store_variable *v,
			   int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_VARIABLE_PUT);
	bind_text(st, 1, station_id);
	bind_text(st, 2, v->component);
	bind_text(st, 3, v->component_instance ? v->component_instance : "");
	sqlite3_bind_int(st, 4, v->evse_id);
	sqlite3_bind_int(st, 5, v->connector_id);
	bind_text(st, 6, v->variable);
	bind_text(st, 7, v->variable_instance ? v->variable_instance : "");
	bind_text(st, 8, v->attribute_type);
	bind_text(st, 9, v->value);
	bind_text(st, 10, v->mutability);
	bind_text(st, 11, v->data_type);
	bind_text(st, 12, v->unit);
	sqlite3_bind_int64(st, 13, now_ms);
	return step_done(st);
}

static int sq_variables_list(struct store *s, const char *station_id, store_variable_fn fn,
			     void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_VARIABLES_LIST);
	int rc, r = 0;

	bind_text(st, 1, station_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_variable row = {
		    .component = col_text(st, 0),
		    .component_instance = col_text(st, 1),
		    .evse_id = sqlite3_column_int(st, 2),
		    .connector_id = sqlite3_column_int(st, 3),
		    .variable = col_text(st, 4),
		    .variable_instance = col_text(st, 5),
		    .attribute_type = col_text(st, 6),
		    .value = col_text(st, 7),
		    .mutability = col_text(st, 8),
		    .data_type = col_text(st, 9),
		    .unit = col_text(st, 10),
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_report_part(struct store *s, const char *station_id, int64_t request_id,
			  int64_t seq_no, bool tbc, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_REPORT_PART);
	bind_text(st, 1, station_id);
	sqlite3_bind_int64(st, 2, request_id);
	sqlite3_bind_int64(st, 3, seq_no);
	sqlite3_bind_int(st, 4, !tbc);
	sqlite3_bind_int64(st, 5, now_ms);
	return step_done(st);
}

static int sq_report_status(struct store *s, const char *station_id, int64_t request_id,
			    int *ret_parts, bool *ret_complete)
{
	sqlite3_stmt *st = stmt(s, ST_REPORT_STATUS);
	int rc;

	bind_text(st, 1, station_id);
	sqlite3_bind_int64(st, 2, request_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_parts = sqlite3_column_int(st, 0);
		*ret_complete = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_notice_add(struct store *s, const char *station_id, const char *kind, int64_t ts_ms,
			 const char *detail)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_NOTICE_ADD);
	bind_text(st, 1, station_id);
	bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, ts_ms);
	bind_text(st, 4, detail);
	return step_done(st);
}

/* ---------------------------------------------------------------- command log */

static int sq_command_add(struct store *s, const struct store_command *c, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_COMMAND_ADD);
	bind_text(st, 1, c->station_id);
	bind_text(st, 2, c->who);
	bind_text(st, 3, c->kind);
	bind_text(st, 4, c->action);
	bind_text(st, 5, c->request);
	bind_text(st, 6, c->status);
	bind_text(st, 7, c->station_status);
	bind_text(st, 8, c->error_code);
	bind_text(st, 9, c->detail);
	bind_text(st, 10, c->response);
	sqlite3_bind_int64(st, 11, c->requested_ms);
	sqlite3_bind_int64(st, 12, c->answered_ms);
	sqlite3_bind_int64(st, 13, c->latency_ms);
	r = step_done(st);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(sq(s)->db);
	return 0;
}

static int sq_commands_list(struct store *s, const char *station_or_null, int limit, int offset,
			    store_command_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_COMMANDS_LIST);
	int rc, r = 0;

	bind_text(st, 1, station_or_null);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_command row = {
		    .id = sqlite3_column_int64(st, 0),
		    .station_id = col_text(st, 1),
		    .who = col_text(st, 2),
		    .kind = col_text(st, 3),
		    .action = col_text(st, 4),
		    .request = col_text(st, 5),
		    .status = col_text(st, 6),
		    .station_status = col_text(st, 7),
		    .error_code = col_text(st, 8),
		    .detail = col_text(st, 9),
		    .response = col_text(st, 10),
		    .requested_ms = sqlite3_column_int64(st, 11),
		    .answered_ms = sqlite3_column_int64(st, 12),
		    .latency_ms = sqlite3_column_int64(st, 13),
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}
/* ---------------------------------------------------------------- end command log */

/* ---------------------------------------------------------------- batch readings */

/* The columns of one reading in ST_SAMPLE_ADD's order, and as one row of samples_stmt(). */
#define SQ_SAMPLE_COLS 15
#define SQ_SAMPLE_ROW                                                                              \
	"(?, ?, ?, ?, ?, ifnull(?, ''), ?, ifnull(?, ''), ifnull(?, ''), ?, ?, ?, ?, ?, ?)"

/* The cached INSERT of k readings (1..SQ_SAMPLE_ROWS), prepared on first use; NULL if it
 * cannot be prepared. The SQL is a fixed text: only the number of rows varies. */
static sqlite3_stmt *samples_stmt(struct store *s, size_t k)
{
	sqlite3_stmt **st = &sq(s)->samples_ins[k - 1];
	char sql[320 + SQ_SAMPLE_ROWS * sizeof(SQ_SAMPLE_ROW ", ")];
	size_t len;

	if (*st)
		return *st;
	len = (size_t)snprintf(sql, sizeof(sql),
			       "INSERT INTO meter_values(session_id, station_id, evse_id, ts_ms, "
			       "measurand, phase, unit, context, location, format, value, "
			       "signed_data, signing_method, encoding_method, public_key) VALUES ");
	for (size_t i = 0; i < k; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s" SQ_SAMPLE_ROW,
					i ? ", " : "");
	snprintf(sql + len, sizeof(sql) - len, " ON CONFLICT DO NOTHING");
	if (sqlite3_prepare_v3(sq(s)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
	}
	return *st;
}

/* Bind reading in as the row whose first parameter is p + 1. */
static void bind_sample(sqlite3_stmt *st, int p, const struct store_sample *in)
{
	if (in->session_id)
		sqlite3_bind_int64(st, p + 1, in->session_id);
	else
		sqlite3_bind_null(st, p + 1);
	bind_text(st, p + 2, in->station_id);
	sqlite3_bind_int(st, p + 3, in->evse_id);
	sqlite3_bind_int64(st, p + 4, in->ts_ms);
	bind_text(st, p + 5, in->measurand);
	bind_text(st, p + 6, in->phase);
	bind_text(st, p + 7, in->unit);
	bind_text(st, p + 8, in->context);
	bind_text(st, p + 9, in->location);
	bind_text(st, p + 10, in->format);
	bind_text(st, p + 11, in->value);
	bind_text(st, p + 12, in->sig.data);
	bind_text(st, p + 13, in->sig.signing_method);
	bind_text(st, p + 14, in->sig.encoding_method);
	bind_text(st, p + 15, in->sig.public_key);
}

/* Insert the k (1..SQ_SAMPLE_ROWS) readings in[idx[0..k-1]] with one statement and set their
 * ret[] (and kept values) as sample_add() would have, one after the other. */
static int samples_insert(struct store *s, const struct store_sample *in, const size_t *idx,
			  size_t k, int *ret, char *ret_stored, size_t stored_len)
{
	int64_t claimed[SQ_SAMPLE_ROWS], first;
	size_t n_claimed = 0, changes;
	sqlite3_stmt *st;
	int r;

	r = begin_write(s);
	if (r < 0)
		return r;
	st = samples_stmt(s, k);
	if (!st)
		return -EIO;
	for (size_t j = 0; j < k; j++)
		bind_sample(st, (int)j * SQ_SAMPLE_COLS, &in[idx[j]]);
	r = step_done(st);
	if (r < 0)
		return r;
	changes = (size_t)sqlite3_changes(sq(s)->db);
	if (changes == k) { /* the usual case: every reading is new */
		for (size_t j = 0; j < k; j++)
			ret[idx[j]] = 1;
		return 0;
	}
	/* Some keys were taken already (a retry, or one key twice in the batch). The rows of one
	 * INSERT get consecutive rowids (each the largest so far plus one), so this statement's
	 * are first..last_insert_rowid; the rows go in in order, so a key that holds one of them
	 * was stored by the first reading of the batch with that key. Readings are few here:
	 * the lookups cost what sample_add's did for a repeated reading. */
	first = sqlite3_last_insert_rowid(sq(s)->db) - (int64_t)changes + 1;
	for (size_t j = 0; j < k; j++) {
		const struct store_sample *x = &in[idx[j]];
		size_t c = 0;
		int64_t rowid;
		int rc;

		st = stmt(s, ST_SAMPLE_STORED);
		bind_text(st, 1, x->station_id);
		sqlite3_bind_int(st, 2, x->evse_id);
		sqlite3_bind_int64(st, 3, x->ts_ms);
		bind_text(st, 4, x->measurand);
		bind_text(st, 5, x->phase);
		bind_text(st, 6, x->context);
		bind_text(st, 7, x->location);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(st);
			return -EIO;
		}
		rowid = sqlite3_column_int64(st, 1);
		while (c < n_claimed && claimed[c] != rowid)
			c++;
		if (changes && rowid >= first && c == n_claimed) {
			claimed[n_claimed++] = rowid;
			ret[idx[j]] = 1;
		} else {
			ret[idx[j]] = 0;
			if (stored_len)
				copy_col(st, 0, ret_stored + idx[j] * stored_len, stored_len);
		}
		sqlite3_reset(st);
	}
	/* not one reading per new row: the rowids were not consecutive (never seen; SQLite picks
	 * random ones only once the largest possible rowid is used) */
	return n_claimed == changes ? 0 : -EIO;
}

/* A multi-row INSERT per SQ_SAMPLE_ROWS readings instead of one statement each: one VDBE run,
 * one statement journal and one foreign-key pass for all the readings of a MeterValues. */
static int sq_samples_add(struct store *s, const struct store_sample *in, size_t n, int *ret,
			  char *ret_stored, size_t stored_len)
{
	size_t idx[SQ_SAMPLE_ROWS], k = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (!in[i].measurand || !in[i].value || !in[i].station_id) {
			ret[i] = -EINVAL;
			continue;
		}
		idx[k++] = i;
		if (k < SQ_SAMPLE_ROWS && i + 1 < n)
			continue;
		r = samples_insert(s, in, idx, k, ret, ret_stored, stored_len);
		if (r < 0)
			return r;
		k = 0;
	}
	if (k) /* the last readings were refused ones */
		return samples_insert(s, in, idx, k, ret, ret_stored, stored_len);
	return 0;
}
/* ---------------------------------------------------------------- end batch readings */

/* ---------------------------------------------------------------- operator accounts */

/* Run a write that must change one row: -ENOENT if it changed none. */
static int step_one(struct store *s, sqlite3_stmt *st)
{
	int r = step_done(st);

	if (r < 0)
		return r;
	return sqlite3_changes(sq(s)->db) > 0 ? 0 : -ENOENT;
}

static int sq_account_create(struct store *s, const struct store_account *a)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_ACCOUNT_CREATE);
	bind_text(st, 1, a->name);
	bind_text(st, 2, a->role);
	bind_text(st, 3, a->pw_hash);
	sqlite3_bind_int(st, 4, a->disabled);
	sqlite3_bind_int64(st, 5, a->created_ms);
	sqlite3_bind_int64(st, 6, a->updated_ms);
	return step_done(st);
}

static void account_row(sqlite3_stmt *st, struct store_account *a)
{
	copy_col(st, 0, a->name, sizeof(a->name));
	copy_col(st, 1, a->role, sizeof(a->role));
	copy_col(st, 2, a->pw_hash, sizeof(a->pw_hash));
	a->disabled = sqlite3_column_int(st, 3) != 0;
	a->created_ms = sqlite3_column_int64(st, 4);
	a->updated_ms = sqlite3_column_int64(st, 5);
}

static int sq_account_get(struct store *s, const char *name, struct store_account *ret)
{
	sqlite3_stmt *st = stmt(s, ST_ACCOUNT_GET);
	int rc;

	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		account_row(st, ret);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_account_update(struct store *s, const struct store_account *a)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_ACCOUNT_UPDATE);
	bind_text(st, 1, a->name);
	bind_text(st, 2, a->role);
	bind_text(st, 3, a->pw_hash);
	sqlite3_bind_int(st, 4, a->disabled);
	sqlite3_bind_int64(st, 5, a->updated_ms);
	return step_one(s, st);
}

static int sq_account_delete(struct store *s, const char *name)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_ACCOUNT_DELETE);
	bind_text(st, 1, name);
	return step_one(s, st);
}

static int sq_accounts_list(struct store *s, store_account_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_ACCOUNTS_LIST);
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_account a;

		account_row(st, &a);
		r = fn(&a, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_auth_session_add(struct store *s, const char *hash, const char *account,
			       const char *csrf, int64_t now_ms, int64_t expires_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_AUTH_SESSION_ADD);
	bind_text(st, 1, hash);
	bind_text(st, 2, account);
	bind_text(st, 3, csrf);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, expires_ms);
	return step_done(st);
}

static int sq_auth_session_get(struct store *s, const char *hash, struct store_auth_session *ret)
{
	sqlite3_stmt *st = stmt(s, ST_AUTH_SESSION_GET);
	int rc;

	bind_text(st, 1, hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, ret->account, sizeof(ret->account));
		copy_col(st, 1, ret->role, sizeof(ret->role));
		ret->disabled = sqlite3_column_int(st, 2) != 0;
		copy_col(st, 3, ret->csrf, sizeof(ret->csrf));
		ret->created_ms = sqlite3_column_int64(st, 4);
		ret->last_ms = sqlite3_column_int64(st, 5);
		ret->expires_ms = sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_auth_session_touch(struct store *s, const char *hash, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_AUTH_SESSION_TOUCH);
	bind_text(st, 1, hash);
	sqlite3_bind_int64(st, 2, now_ms);
	return step_done(st);
}

static int sq_auth_sessions_delete(struct store *s, const char *hash, const char *account,
				   int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_AUTH_SESSIONS_DELETE);
	bind_text(st, 1, hash);
	bind_text(st, 2, hash ? NULL : account);
	sqlite3_bind_int64(st, 3, now_ms);
	return step_done(st);
}

static int sq_api_token_add(struct store *s, const char *name, const char *role, const char *hash,
			    const char *created_by, int64_t now_ms, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_API_TOKEN_ADD);
	bind_text(st, 1, name);
	bind_text(st, 2, role);
	bind_text(st, 3, hash);
	bind_text(st, 4, created_by);
	sqlite3_bind_int64(st, 5, now_ms);
	r = step_done(st);
	if (r < 0)
		return r;
	*ret_id = sqlite3_last_insert_rowid(sq(s)->db);
	return 0;
}

static void token_row(sqlite3_stmt *st, struct store_api_token *t)
{
	t->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, t->name, sizeof(t->name));
	copy_col(st, 2, t->role, sizeof(t->role));
	copy_col(st, 3, t->created_by, sizeof(t->created_by));
	t->created_ms = sqlite3_column_int64(st, 4);
	t->last_used_ms = sqlite3_column_int64(st, 5);
	t->revoked_ms = sqlite3_column_int64(st, 6);
}

static int sq_api_token_get(struct store *s, const char *hash, struct store_api_token *ret)
{
	sqlite3_stmt *st = stmt(s, ST_API_TOKEN_GET);
	int rc;

	bind_text(st, 1, hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		token_row(st, ret);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_api_token_touch(struct store *s, int64_t id, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_API_TOKEN_TOUCH);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	return step_done(st);
}

static int sq_api_tokens_list(struct store *s, store_api_token_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_API_TOKENS_LIST);
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_api_token t;

		token_row(st, &t);
		r = fn(&t, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_api_token_revoke(struct store *s, int64_t id, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_API_TOKEN_REVOKE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	return step_one(s, st);
}

static int sq_audit_add(struct store *s, const struct store_audit *a)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_AUDIT_ADD);
	sqlite3_bind_int64(st, 1, a->ts_ms);
	bind_text(st, 2, a->who ? a->who : "");
	bind_text(st, 3, a->method ? a->method : "");
	bind_text(st, 4, a->path ? a->path : "");
	sqlite3_bind_int(st, 5, a->status);
	bind_text(st, 6, a->peer ? a->peer : "");
	return step_done(st);
}

static int sq_audit_list(struct store *s, int limit, int offset, store_audit_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_AUDIT_LIST);
	int rc, r = 0;

	sqlite3_bind_int(st, 1, limit);
	sqlite3_bind_int(st, 2, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit a = {
		    .id = sqlite3_column_int64(st, 0),
		    .ts_ms = sqlite3_column_int64(st, 1),
		    .who = col_text(st, 2),
		    .method = col_text(st, 3),
		    .path = col_text(st, 4),
		    .status = sqlite3_column_int(st, 5),
		    .peer = col_text(st, 6),
		};

		r = fn(&a, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}
/* ---------------------------------------------------------------- end operator accounts */

/* ---------------------------------------------------------------- online backup */

int store_sqlite_backup(const char *path, const char *dest, char *err, size_t err_len)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	char tmp[4096];
	int rc, r = -EIO, fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", dest) >= sizeof(tmp)) {
		snprintf(err, err_len, "%s: path too long", dest);
		return -ENAMETOOLONG;
	}
	unlink(tmp);
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, err_len, "%s: %s", path, src ? sqlite3_errmsg(src) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, err_len, "%s: %s", tmp, dst ? sqlite3_errmsg(dst) : "cannot open");
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, err_len, "%s", sqlite3_errmsg(dst));
		goto out;
	}
	/* all pages in one step: one read transaction, so one consistent snapshot (WAL lets the
	 * server go on writing meanwhile) */
	for (int tries = 0; tries < 500; tries++) {
		rc = sqlite3_backup_step(b, -1);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		sqlite3_sleep(10);
	}
	rc = sqlite3_backup_finish(b);
	if (rc != SQLITE_OK) {
		snprintf(err, err_len, "%s", sqlite3_errmsg(dst));
		goto out;
	}
	/* one self-contained file: no -wal beside it */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, err_len, "%s", sqlite3_errmsg(dst));
		goto out;
	}
	sqlite3_close(dst);
	dst = NULL;
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, dest) < 0) {
		snprintf(err, err_len, "%s: %s", dest, strerror(errno));
		goto out;
	}
	r = 0;
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	if (r < 0)
		unlink(tmp);
	return r;
}
/* ---------------------------------------------------------------- end online backup */

/* ---------------------------------------------------------------- tariffs */
static int sq_tariff_put(struct store *s, const char *id, const char *doc, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_TARIFF_PUT);
	bind_text(st, 1, id);
	bind_text(st, 2, doc);
	sqlite3_bind_int64(st, 3, now_ms);
	return step_done(st);
}

static int sq_tariffs_list(struct store *s, const char *id_or_null, store_tariff_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_TARIFFS_LIST);
	int rc, r = 0, n = 0;

	bind_text(st, 1, id_or_null);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_tariff row = {
		    .id = col_text(st, 0),
		    .doc = col_text(st, 1),
		    .updated_ms = sqlite3_column_int64(st, 2),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	return id_or_null && n == 0 ? -ENOENT : n;
}

static int sq_site_tariff_set(struct store *s, const char *site_id, const char *tariff_id)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SITE_TARIFF_SET);
	bind_text(st, 1, site_id);
	bind_text(st, 2, tariff_id);
	r = step_done(st);
	if (r < 0)
		return r;
	return sqlite3_changes(sq(s)->db) ? 0 : -ENOENT;
}

static int sq_site_tariffs_list(struct store *s, const char *site_or_null, store_site_tariff_fn fn,
				void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SITE_TARIFFS_LIST);
	int rc, r = 0, n = 0;

	bind_text(st, 1, site_or_null);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_site_tariff row = {
		    .id = col_text(st, 0),
		    .kind = site_kind_from_string(col_text(st, 1)),
		    .tariff_id = col_text(st, 2),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	return site_or_null && n == 0 ? -ENOENT : n;
}

static int sq_energy_sessions_list(struct store *s, const char *site_or_null, int64_t from_ms,
				   int64_t to_ms, store_energy_session_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_ENERGY_SESSIONS);
	int rc, r = 0, n = 0;

	bind_text(st, 1, site_or_null);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	sqlite3_bind_int64(st, 4, STORE_ENERGY_LOOKBACK_MS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_energy_session row = {
		    .id = sqlite3_column_int64(st, 0),
		    .site_id = col_text(st, 1),
		    .site_kind = site_kind_from_string(col_text(st, 2)),
		    .tariff_id = col_text(st, 3),
		    .start_ms = sqlite3_column_int64(st, 4),
		    .has_meter_start = sqlite3_column_int(st, 5),
		    .meter_start_wh = sqlite3_column_int64(st, 6),
		    .stopped = sqlite3_column_int(st, 7),
		    .stop_ms = sqlite3_column_int64(st, 8),
		    .meter_stop_wh = sqlite3_column_int64(st, 9),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

static int sq_session_energy_samples(struct store *s, int64_t session_id, store_sample_fn fn,
				     void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_ENERGY_SAMPLES);
	int rc, r = 0;

	sqlite3_bind_int64(st, 1, session_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *m = col_text(st, 1);
		struct store_sample row = {
		    .session_id = session_id,
		    .ts_ms = sqlite3_column_int64(st, 0),
		    .measurand = m,
		    .unit = col_text(st, 2),
		    .format = col_text(st, 3),
		    .value = col_text(st, 4),
		    .measurand_kind = strcmp(m, "Energy.Active.Export.Register") == 0
					  ? MEAS_ENERGY_EXPORT_REGISTER
					  : MEAS_ENERGY_IMPORT_REGISTER,
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}
/* ---------------------------------------------------------------- end tariffs */

/* ---------------------------------------------------------------- planner */

static int sq_site_get(struct store *s, const char *id, struct store_site *ret)
{
	sqlite3_stmt *st = stmt(s, ST_SITE_GET);
	int rc;

	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, ret->id, sizeof(ret->id));
		ret->kind = site_kind_from_string(col_text(st, 1));
		ret->limit_w = sqlite3_column_type(st, 2) == SQLITE_NULL
				   ? -1
				   : (int64_t)(sqlite3_column_double(st, 2) * 1000.0 + 0.5);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_site_set_limit(struct store *s, const char *id, int64_t limit_w)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SITE_LIMIT);
	bind_text(st, 1, id);
	if (limit_w >= 0)
		sqlite3_bind_double(st, 2, (double)limit_w / 1000.0);
	r = step_done(st);
	if (r < 0)
		return r;
	return sqlite3_changes(sq(s)->db) ? 0 : -ENOENT;
}

static void bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
}

static int sq_needs_put(struct store *s, const struct store_needs *n)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_NEEDS_PUT);
	sqlite3_bind_int64(st, 1, n->session_id);
	bind_text(st, 2, n->source);
	bind_opt(st, 3, n->departure_ms);
	bind_opt(st, 4, n->energy_wh);
	bind_opt(st, 5, n->target_soc);
	bind_opt(st, 6, n->capacity_wh);
	bind_opt(st, 7, n->soc);
	sqlite3_bind_int(st, 8, n->v2g);
	bind_opt(st, 9, n->soc_floor);
	bind_opt(st, 10, n->max_charge_w);
	bind_opt(st, 11, n->max_discharge_w);
	sqlite3_bind_int(st, 12, n->bidirectional);
	bind_opt(st, 13, n->meter_wh);
	bind_opt(st, 14, n->export_wh);
	sqlite3_bind_int64(st, 15, n->updated_ms);
	return step_done(st);
}

static int sq_needs_get(struct store *s, int64_t session_id, struct store_needs *ret)
{
	sqlite3_stmt *st = stmt(s, ST_NEEDS_GET);
	int rc;

	sqlite3_bind_int64(st, 1, session_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		ret->session_id = session_id;
		copy_col(st, 0, ret->source, sizeof(ret->source));
		ret->departure_ms = sqlite3_column_int64(st, 1);
		ret->energy_wh = sqlite3_column_int64(st, 2);
		ret->target_soc = sqlite3_column_int(st, 3);
		ret->capacity_wh = sqlite3_column_int64(st, 4);
		ret->soc = sqlite3_column_int(st, 5);
		ret->v2g = sqlite3_column_int(st, 6) != 0;
		ret->soc_floor = sqlite3_column_int(st, 7);
		ret->max_charge_w = sqlite3_column_int64(st, 8);
		ret->max_discharge_w = sqlite3_column_int64(st, 9);
		ret->bidirectional = sqlite3_column_int(st, 10) != 0;
		ret->meter_wh = sqlite3_column_int64(st, 11);
		ret->export_wh = sqlite3_column_int64(st, 12);
		ret->updated_ms = sqlite3_column_int64(st, 13);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_site_sessions(struct store *s, const char *site_id, store_site_session_fn fn,
			    void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SITE_SESSIONS);
	int rc, r = 0;

	bind_text(st, 1, site_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_site_session row = {
		    .id = sqlite3_column_int64(st, 0),
		    .station_id = col_text(st, 1),
		    .station_tx_id = col_text(st, 2),
		    .evse_id = sqlite3_column_int(st, 3),
		    .start_ms = sqlite3_column_int64(st, 4),
		    .meter_wh = (int64_t)sqlite3_column_double(st, 5),
		    .meter_start_wh = sqlite3_column_int64(st, 6),
		    .export_wh = sqlite3_column_int64(st, 7),
		    .export_first_wh = sqlite3_column_int64(st, 8),
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static int sq_session_export(struct store *s, int64_t session_id, int64_t wh, int64_t ts_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SESSION_EXPORT);
	sqlite3_bind_int64(st, 1, session_id);
	sqlite3_bind_int64(st, 2, wh);
	sqlite3_bind_int64(st, 3, ts_ms);
	return step_done(st);
}

static int sq_grid_event_add(struct store *s, const struct store_grid_event *e, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_GRID_EVENT_ADD);
	bind_text(st, 1, e->sites);
	sqlite3_bind_int64(st, 2, e->start_ms);
	sqlite3_bind_int64(st, 3, e->end_ms);
	sqlite3_bind_int64(st, 4, e->reduce_w);
	sqlite3_bind_int64(st, 5, e->export_w);
	sqlite3_bind_int64(st, 6, e->bonus_fen_per_kwh);
	sqlite3_bind_int64(st, 7, e->created_ms);
	r = step_done(st);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(sq(s)->db);
	return 0;
}

static int sq_grid_events_list(struct store *s, const char *site_or_null, int64_t from_ms,
			       store_grid_event_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_GRID_EVENTS_LIST);
	int rc, r = 0;

	bind_text(st, 1, site_or_null);
	sqlite3_bind_int64(st, 2, from_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_grid_event row = {
		    .id = sqlite3_column_int64(st, 0),
		    .sites = col_text(st, 1),
		    .start_ms = sqlite3_column_int64(st, 2),
		    .end_ms = sqlite3_column_int64(st, 3),
		    .reduce_w = sqlite3_column_int64(st, 4),
		    .export_w = sqlite3_column_int64(st, 5),
		    .bonus_fen_per_kwh = sqlite3_column_int64(st, 6),
		    .created_ms = sqlite3_column_int64(st, 7),
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static int sq_site_plan_put(struct store *s, const char *site_id, int64_t planned_ms,
			    const char *json)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SITE_PLAN_PUT);
	bind_text(st, 1, site_id);
	sqlite3_bind_int64(st, 2, planned_ms);
	bind_text(st, 3, json);
	return step_done(st);
}

/* One row (key, ts, json) of st, already bound, to fn. */
static int doc_row(sqlite3_stmt *st, store_doc_fn fn, void *ud)
{
	int rc = sqlite3_step(st), r;

	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	r = fn(col_text(st, 0), sqlite3_column_int64(st, 1), col_text(st, 2), ud);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

static int sq_site_plan_get(struct store *s, const char *site_id, store_doc_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SITE_PLAN_GET);

	bind_text(st, 1, site_id);
	return doc_row(st, fn, ud);
}

static int sq_session_plan_put(struct store *s, int64_t session_id, const char *site_id,
			       int64_t planned_ms, const char *json)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SESSION_PLAN_PUT);
	sqlite3_bind_int64(st, 1, session_id);
	bind_text(st, 2, site_id);
	sqlite3_bind_int64(st, 3, planned_ms);
	bind_text(st, 4, json);
	return step_done(st);
}

static int sq_session_plan_get(struct store *s, int64_t session_id, store_doc_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SESSION_PLAN_GET);

	sqlite3_bind_int64(st, 1, session_id);
	return doc_row(st, fn, ud);
}

static int sq_site_forecast(struct store *s, const char *site_id, const char *json, int64_t set_ms,
			    store_doc_fn fn, void *ud)
{
	sqlite3_stmt *st;
	int r;

	if (!json) {
		st = stmt(s, ST_FORECAST_GET);
		bind_text(st, 1, site_id);
		return doc_row(st, fn, ud);
	}
	r = begin_write(s);
	if (r < 0)
		return r;
	st = stmt(s, *json ? ST_FORECAST_PUT : ST_FORECAST_DEL);
	bind_text(st, 1, site_id);
	if (*json) {
		sqlite3_bind_int64(st, 2, set_ms);
		bind_text(st, 3, json);
	}
	return step_done(st);
}

static int sq_site_plan_slots_put(struct store *s, const char *site_id,
				  const struct store_plan_slot *row)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_PLAN_SLOT_PUT);
	bind_text(st, 1, site_id);
	sqlite3_bind_int64(st, 2, row->slot_ms);
	sqlite3_bind_int64(st, 3, row->planned_w);
	sqlite3_bind_int64(st, 4, row->import_w);
	sqlite3_bind_int64(st, 5, row->limit_w);
	r = step_done(st);
	if (r < 0)
		return r;
	st = stmt(s, ST_PLAN_SLOT_PRUNE);
	bind_text(st, 1, site_id);
	sqlite3_bind_int64(st, 2, row->slot_ms - STORE_PLAN_SLOTS_KEEP_MS);
	return step_done(st);
}

static int sq_site_plan_slots_list(struct store *s, const char *site_id, int64_t from_ms,
				   int64_t to_ms, store_plan_slot_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_PLAN_SLOTS_LIST);
	int rc, r = 0, n = 0;

	bind_text(st, 1, site_id);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_plan_slot row = {
		    .slot_ms = sqlite3_column_int64(st, 0),
		    .planned_w = sqlite3_column_int64(st, 1),
		    .import_w = sqlite3_column_int64(st, 2),
		    .limit_w = sqlite3_column_int64(st, 3),
		};

		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

static int sq_station_ext_limit_put(struct store *s, const char *station_id, int evse_id,
				    int64_t limit_w, int64_t until_ms, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, limit_w < 0 ? ST_EXT_LIMIT_DEL : ST_EXT_LIMIT_PUT);
	bind_text(st, 1, station_id);
	sqlite3_bind_int(st, 2, evse_id);
	if (limit_w >= 0) {
		sqlite3_bind_int64(st, 3, limit_w);
		sqlite3_bind_int64(st, 4, until_ms);
		sqlite3_bind_int64(st, 5, now_ms);
	}
	return step_done(st);
}

static int sq_site_ext_limits(struct store *s, const char *site_id, int64_t now_ms,
			      store_ext_limit_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_EXT_LIMITS_SITE);
	int rc, r = 0, n = 0;

	bind_text(st, 1, site_id);
	sqlite3_bind_int64(st, 2, now_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_ext_limit row = {
		    .station_id = (const char *)sqlite3_column_text(st, 0),
		    .evse_id = sqlite3_column_int(st, 1),
		    .limit_w = sqlite3_column_int64(st, 2),
		    .until_ms = sqlite3_column_int64(st, 3),
		};

		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

static int sq_site_energy_samples(struct store *s, const char *site_id, int64_t from_ms,
				  int64_t to_ms, store_sample_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SITE_ENERGY);
	int rc, r = 0;

	bind_text(st, 1, site_id);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_sample row = {
		    .session_id = sqlite3_column_int64(st, 0),
		    .station_id = col_text(st, 1),
		    .evse_id = sqlite3_column_int(st, 2),
		    .ts_ms = sqlite3_column_int64(st, 3),
		    .measurand = col_text(st, 4),
		    .unit = col_text(st, 5),
		    .value = col_text(st, 6),
		};
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static int sq_capability_put(struct store *s, const char *model, const char *json, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_CAP_PUT);
	bind_text(st, 1, model);
	bind_text(st, 2, json);
	sqlite3_bind_int64(st, 3, now_ms);
	return step_done(st);
}

static int sq_capability_get(struct store *s, const char *model, store_doc_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_CAP_GET);

	bind_text(st, 1, model);
	return doc_row(st, fn, ud);
}
/* ---------------------------------------------------------------- end planner */

/* ---------------------------------------------------------------- dash: API lists, summary */
/* These queries are built per call (their WHERE depends on the filters), prepared and finalized
 * each time: a prepare costs tens of microseconds, the queries themselves far more. */

struct sqlq {
	char sql[2048];
	size_t len;
	bool overflow;
};

static void sqlq_add(struct sqlq *q, const char *text)
{
	size_t n = strlen(text);

	if (q->len + n >= sizeof(q->sql)) {
		q->overflow = true;
		return;
	}
	memcpy(q->sql + q->len, text, n + 1);
	q->len += n;
}

static sqlite3_stmt *sqlq_prepare(struct store *s, const struct sqlq *q)
{
	sqlite3_stmt *st = NULL;

	if (q->overflow || sqlite3_prepare_v2(sq(s)->db, q->sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

static void bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		bind_text(st, i, v);
}

static void bind_named_int64(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		sqlite3_bind_int64(st, i, v);
}

static void station_where(struct sqlq *q, const struct store_station_query *f)
{
	sqlq_add(q, " WHERE 1");
	if (f->site_id)
		sqlq_add(q, " AND s.site_id = :site");
	if (f->site_kind >= 0)
		sqlq_add(q, " AND s.site_id IN (SELECT id FROM sites WHERE kind = :kind)");
	if (f->registration >= 0)
		sqlq_add(q, " AND s.registration = :reg");
	if (f->protocol)
		sqlq_add(q, " AND s.protocol = :proto");
	if (f->online >= 0)
		sqlq_add(q, " AND s.online = :online");
	if (f->id_prefix && *f->id_prefix)
		sqlq_add(q, " AND s.id >= :prefix AND s.id < :prefix_end");
	if (f->connector_status)
		sqlq_add(q, " AND s.id IN (SELECT station_id FROM connectors WHERE status = :cst)");
}

static void station_bind(sqlite3_stmt *st, const struct store_station_query *f, char *prefix_end,
			 size_t n)
{
	bind_named_text(st, ":site", f->site_id);
	bind_named_text(st, ":kind", site_kind_to_string(f->site_kind));
	bind_named_text(st, ":reg", reg_status_to_string(f->registration));
	bind_named_text(st, ":proto", f->protocol);
	bind_named_int64(st, ":online", f->online);
	if (f->id_prefix && *f->id_prefix) {
		/* ids are printable ASCII: the prefix range ends at the prefix with its last byte
		 * incremented, an index range on the primary key */
		size_t len = strlen(f->id_prefix);

		snprintf(prefix_end, n, "%s", f->id_prefix);
		if (len < n)
			prefix_end[len - 1]++;
		bind_named_text(st, ":prefix", f->id_prefix);
		bind_named_text(st, ":prefix_end", prefix_end);
	}
	bind_named_text(st, ":cst", f->connector_status);
	bind_named_text(st, ":after", f->after_id);
}

static int sq_stations_query(struct store *s, const struct store_station_query *f,
			     store_station_fn fn, void *ud, int64_t *ret_total)
{
	static const char *const order[] = {
	    [STORE_SORT_ID] = "s.id",
	    [STORE_SORT_LAST_SEEN] = "s.last_seen_ms",
	    [STORE_SORT_SITE] = "s.site_id",
	};
	char prefix_end[STATION_ID_MAX + 2], buf[128];
	struct sqlq q = {.len = 0};
	const char *dir = f->desc ? " DESC" : "";
	sqlite3_stmt *st;
	int rc, n = 0, r = 0;
	int64_t total = 0;

	if (f->sort < 0 || f->sort > STORE_SORT_SITE)
		return -EINVAL;
	if (ret_total) {
		sqlq_add(&q, "SELECT count(*) FROM stations s");
		station_where(&q, f);
		st = sqlq_prepare(s, &q);
		if (!st)
			return -EIO;
		station_bind(st, f, prefix_end, sizeof(prefix_end));
		rc = sqlite3_step(st);
		total = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			return -EIO;
	}
	q.len = 0;
	q.sql[0] = '\0';
	sqlq_add(&q,
		 "SELECT " STATION_COLS " FROM stations s LEFT JOIN sites t ON t.id = s.site_id");
	station_where(&q, f);
	if (f->after_id && f->sort == STORE_SORT_ID)
		sqlq_add(&q, f->desc ? " AND s.id < :after" : " AND s.id > :after");
	if (f->sort == STORE_SORT_ID)
		snprintf(buf, sizeof(buf), " ORDER BY s.id%s", dir);
	else
		snprintf(buf, sizeof(buf), " ORDER BY %s%s, s.id%s", order[f->sort], dir, dir);
	sqlq_add(&q, buf);
	sqlq_add(&q, " LIMIT :limit OFFSET :offset");
	st = sqlq_prepare(s, &q);
	if (!st)
		return -EIO;
	station_bind(st, f, prefix_end, sizeof(prefix_end));
	bind_named_int64(st, ":limit", f->limit);
	bind_named_int64(st, ":offset", f->offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_station_row row = {
		    .id = col_text(st, 0),
		    .site_id = col_text(st, 1),
		    .site_kind = col_text(st, 2),
		    .registration = col_text(st, 3),
		    .protocol = col_text(st, 4),
		    .vendor = col_text(st, 5),
		    .model = col_text(st, 6),
		    .serial = col_text(st, 7),
		    .firmware = col_text(st, 8),
		    .firmware_status = col_text(st, 9),
		    .diagnostics_status = col_text(st, 10),
		    .online = sqlite3_column_int(st, 11) != 0,
		    .last_seen_ms = sqlite3_column_int64(st, 12),
		    .last_boot_ms = sqlite3_column_int64(st, 13),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	if (ret_total)
		*ret_total = total;
	return n;
}

static void session_where(struct sqlq *q, const struct store_session_query *f, bool page)
{
	sqlq_add(q, " WHERE 1");
	if (f->station_id)
		sqlq_add(q, " AND station_id = :station");
	if (f->site_id)
		sqlq_add(q, " AND station_id IN (SELECT id FROM stations WHERE site_id = :site)");
	if (f->id_tag)
		sqlq_add(q, " AND id_tag = :tag");
	if (f->active >= 0)
		sqlq_add(q, " AND (stop_ms IS NULL) = :active");
	if (f->from_ms)
		sqlq_add(q, " AND start_ms >= :from");
	if (f->to_ms)
		sqlq_add(q, " AND start_ms < :to");
	if (page && f->before_id)
		sqlq_add(q, " AND id < :before");
}

static void session_bind(sqlite3_stmt *st, const struct store_session_query *f)
{
	bind_named_text(st, ":station", f->station_id);
	bind_named_text(st, ":site", f->site_id);
	bind_named_text(st, ":tag", f->id_tag);
	bind_named_int64(st, ":active", f->active);
	bind_named_int64(st, ":from", f->from_ms);
	bind_named_int64(st, ":to", f->to_ms);
	bind_named_int64(st, ":before", f->before_id);
}

static int sq_sessions_query(struct store *s, const struct store_session_query *f,
			     store_session_fn fn, void *ud, int64_t total_max, int64_t *ret_total)
{
	struct sqlq q = {.len = 0};
	sqlite3_stmt *st;
	int64_t total = 0;
	int r;

	if (ret_total) {
		sqlq_add(&q, "SELECT count(*) FROM (SELECT 1 FROM sessions");
		session_where(&q, f, false);
		sqlq_add(&q, " LIMIT :cap)");
		st = sqlq_prepare(s, &q);
		if (!st)
			return -EIO;
		session_bind(st, f);
		bind_named_int64(st, ":cap", total_max + 1);
		r = sqlite3_step(st);
		total = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (r != SQLITE_ROW)
			return -EIO;
	}
	q.len = 0;
	q.sql[0] = '\0';
	sqlq_add(&q, "SELECT " SESSION_COLS " FROM sessions");
	session_where(&q, f, true);
	sqlq_add(&q, " ORDER BY id DESC LIMIT :limit OFFSET :offset");
	st = sqlq_prepare(s, &q);
	if (!st)
		return -EIO;
	session_bind(st, f);
	bind_named_int64(st, ":limit", f->limit);
	bind_named_int64(st, ":offset", f->offset);
	r = session_rows(st, fn, ud);
	sqlite3_finalize(st);
	if (r >= 0 && ret_total)
		*ret_total = total;
	return r;
}

static int sq_samples_page(struct store *s, int64_t session_id, const char *measurand, int limit,
			   struct store_sample_cursor *cursor, store_sample_fn fn, void *ud)
{
	static const char sql[] =
	    "SELECT station_id, evse_id, ts_ms, measurand, nullif(phase, ''), unit, "
	    "nullif(context, ''), nullif(location, ''), format, value, signed_data, "
	    "signing_method, encoding_method, public_key, rowid FROM meter_values "
	    "WHERE session_id = ?1 AND (ts_ms, rowid) > (?2, ?3) "
	    "AND (?4 IS NULL OR measurand = ?4) ORDER BY ts_ms, rowid LIMIT ?5";
	struct store_sample_cursor at = *cursor;
	sqlite3_stmt *st;
	int rc, r = 0, n = 0;

	if (sqlite3_prepare_v2(sq(s)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, session_id);
	sqlite3_bind_int64(st, 2, cursor->ts_ms);
	sqlite3_bind_int64(st, 3, cursor->seq);
	bind_text(st, 4, measurand);
	sqlite3_bind_int(st, 5, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_sample row = {
		    .session_id = session_id,
		    .station_id = col_text(st, 0),
		    .evse_id = sqlite3_column_int(st, 1),
		    .ts_ms = sqlite3_column_int64(st, 2),
		    .measurand = col_text(st, 3),
		    .phase = col_text(st, 4),
		    .unit = col_text(st, 5),
		    .context = col_text(st, 6),
		    .location = col_text(st, 7),
		    .format = col_text(st, 8),
		    .value = col_text(st, 9),
		    .measurand_kind = -1,
		    .sig =
			{
			    .data = col_text(st, 10),
			    .signing_method = col_text(st, 11),
			    .encoding_method = col_text(st, 12),
			    .public_key = col_text(st, 13),
			},
		};
		at.ts_ms = row.ts_ms;
		at.seq = sqlite3_column_int64(st, 14);
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	*cursor = at;
	return n;
}

static int sq_station_history(struct store *s, const char *station_id, int limit, int offset,
			      store_history_fn fn, void *ud)
{
	static const char sql[] =
	    "SELECT 'status', kind, status, ts_ms, id FROM station_events WHERE station_id = ?1 "
	    "UNION ALL SELECT 'notice', kind, detail, ts_ms, id FROM station_notices "
	    "WHERE station_id = ?1 ORDER BY 4 DESC, 5 DESC LIMIT ?2 OFFSET ?3";
	sqlite3_stmt *st;
	int rc, r = 0, n = 0;

	if (sqlite3_prepare_v2(sq(s)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, station_id);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_history_row row = {
		    .source = col_text(st, 0),
		    .kind = col_text(st, 1),
		    .text = col_text(st, 2),
		    .ts_ms = sqlite3_column_int64(st, 3),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

static int sq_connectors_query(struct store *s, const char *status, int limit, int offset,
			       store_connector_fn fn, void *ud)
{
	static const char sql[] =
	    "SELECT connector_id, status, error_code, info, vendor_error, updated_ms, evse_id, "
	    "station_id FROM connectors WHERE (?1 IS NULL OR status = ?1) "
	    "ORDER BY station_id, evse_id, connector_id LIMIT ?2 OFFSET ?3";
	sqlite3_stmt *st;
	int rc, r = 0, n = 0;

	if (sqlite3_prepare_v2(sq(s)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, status);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_connector_row row = {
		    .connector_id = sqlite3_column_int(st, 0),
		    .status = col_text(st, 1),
		    .error_code = col_text(st, 2),
		    .info = col_text(st, 3),
		    .vendor_error = col_text(st, 4),
		    .updated_ms = sqlite3_column_int64(st, 5),
		    .evse_id = sqlite3_column_int(st, 6),
		    .station_id = col_text(st, 7),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

/* Run sql (parameter ?1 = arg) and hand each row to row_fn; 0 or -EIO. */
static int summary_rows(struct store *s, const char *sql, int64_t arg,
			void (*row_fn)(sqlite3_stmt *st, struct store_summary *ret),
			struct store_summary *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(sq(s)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_bind_parameter_count(st))
		sqlite3_bind_int64(st, 1, arg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row_fn(st, ret);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static void summary_station_row(sqlite3_stmt *st, struct store_summary *ret)
{
	int kind = site_kind_from_string(col_text(st, 0));
	int reg = reg_status_from_string(col_text(st, 1));
	bool online = sqlite3_column_int(st, 2) != 0;
	int64_t n = sqlite3_column_int64(st, 3);

	if (kind < 0)
		kind = _SITE_KIND_MAX;
	ret->stations += n;
	ret->by_kind[kind] += n;
	if (online) {
		ret->online += n;
		ret->online_by_kind[kind] += n;
	}
	if (reg >= 0)
		ret->by_reg[reg] += n;
	if (reg == REG_PENDING)
		ret->pending += n;
}

static void summary_session_row(sqlite3_stmt *st, struct store_summary *ret)
{
	ret->sessions_today = sqlite3_column_int64(st, 0);
	ret->energy_today_wh = sqlite3_column_int64(st, 1);
	ret->sessions_active = sqlite3_column_int64(st, 2);
}

static void summary_connector_row(sqlite3_stmt *st, struct store_summary *ret)
{
	if (ret->n_status >= STORE_SUMMARY_STATUSES)
		return;
	copy_col(st, 0, ret->connectors[ret->n_status].status,
		 sizeof(ret->connectors[ret->n_status].status));
	ret->connectors[ret->n_status].count = sqlite3_column_int64(st, 1);
	ret->n_status++;
}

static int sq_summary(struct store *s, int64_t day_start_ms, struct store_summary *ret)
{
	struct store_summary sum = {.stations = 0};
	int r;

	/* the counts the triggers of 0015_api_admin.sql keep: a few rows, not every station */
	r = summary_rows(s, "SELECT kind, registration, online, n FROM station_counts WHERE n > 0",
			 0, summary_station_row, &sum);
	/* energy today: sessions started since day_start, to their stop or latest reading */
	if (r == 0)
		r = summary_rows(s,
				 "SELECT count(*), ifnull(sum(max(0, ifnull(meter_stop_wh, "
				 "ifnull(meter_last_wh, meter_start_wh)) - meter_start_wh)), 0), "
				 "(SELECT count(*) FROM sessions WHERE stop_ms IS NULL) "
				 "FROM sessions WHERE start_ms >= ?1",
				 day_start_ms, summary_session_row, &sum);
	if (r == 0)
		r = summary_rows(s,
				 "SELECT status, n FROM connector_counts WHERE n > 0 "
				 "ORDER BY n DESC, status",
				 0, summary_connector_row, &sum);
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}
/* ---------------------------------------------------------------- end dash */

/* ---------------------------------------------------------------- certificates (0010) */

/* A write through a statement prepared for the call (rare operations). */
static int cert_prepare(struct store *s, const char *sql, bool write, sqlite3_stmt **ret)
{
	int r = write ? begin_write(s) : 0;

	if (r < 0)
		return r;
	return sqlite3_prepare_v2(sq(s)->db, sql, -1, ret, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int cert_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_cert_add(struct store *s, const struct store_cert *c)
{
	sqlite3_stmt *st;
	int r =
	    cert_prepare(s,
			 "INSERT INTO station_certificates(station_id, serial, type, issued_ms, "
			 "not_after_ms, pem) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			 true, &st);

	if (r < 0)
		return r;
	bind_text(st, 1, c->station_id);
	bind_text(st, 2, c->serial);
	bind_text(st, 3, c->type);
	sqlite3_bind_int64(st, 4, c->issued_ms);
	sqlite3_bind_int64(st, 5, c->not_after_ms);
	bind_text(st, 6, c->pem);
	return cert_done(st);
}

static int cert_rows(sqlite3_stmt *st, store_cert_fn fn, void *ud)
{
	int rc, r = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_cert row = {
		    .id = sqlite3_column_int64(st, 0),
		    .station_id = col_text(st, 1),
		    .serial = col_text(st, 2),
		    .type = col_text(st, 3),
		    .issued_ms = sqlite3_column_int64(st, 4),
		    .not_after_ms = sqlite3_column_int64(st, 5),
		    .renew_requested_ms = sqlite3_column_int64(st, 6),
		    .pem = col_text(st, 7),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

#define CERT_COLS "id, station_id, serial, type, issued_ms, not_after_ms, renew_requested_ms, pem"

static int sq_certs_list(struct store *s, const char *station_or_null, int limit, store_cert_fn fn,
			 void *ud)
{
	sqlite3_stmt *st;
	int r = cert_prepare(s,
			     "SELECT " CERT_COLS " FROM station_certificates WHERE ?1 IS NULL OR "
			     "station_id = ?1 ORDER BY id DESC LIMIT ?2",
			     false, &st);

	if (r < 0)
		return r;
	bind_text(st, 1, station_or_null);
	sqlite3_bind_int(st, 2, limit);
	return cert_rows(st, fn, ud);
}

static int sq_certs_expiring(struct store *s, int64_t before_ms, store_cert_fn fn, void *ud)
{
	sqlite3_stmt *st;
	int r = cert_prepare(s,
			     "SELECT " CERT_COLS " FROM station_certificates c WHERE id = (SELECT "
			     "max(id) FROM station_certificates WHERE station_id = c.station_id) "
			     "AND not_after_ms < ?1 ORDER BY not_after_ms, id",
			     false, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, before_ms);
	return cert_rows(st, fn, ud);
}

static int sq_cert_renew_mark(struct store *s, int64_t id, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = cert_prepare(
	    s, "UPDATE station_certificates SET renew_requested_ms = ?2 WHERE id = ?1", true, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	return cert_done(st);
}

static int sq_station_password_set(struct store *s, const char *id, const char *password_hash)
{
	sqlite3_stmt *st;
	int r = cert_prepare(s, "UPDATE stations SET password_hash = ?2 WHERE id = ?1", true, &st);

	if (r < 0)
		return r;
	bind_text(st, 1, id);
	bind_text(st, 2, password_hash);
	r = cert_done(st);
	if (r == 0 && sqlite3_changes(sq(s)->db) == 0)
		return -ENOENT;
	return r;
}

static int sq_security_events(struct store *s, const char *station_id, int limit, int offset,
			      store_history_fn fn, void *ud)
{
	sqlite3_stmt *st;
	int rc, r = cert_prepare(s,
				 "SELECT kind, detail, ts_ms FROM station_notices WHERE station_id "
				 "= ?1 AND kind = 'security' ORDER BY id DESC LIMIT ?2 OFFSET ?3",
				 false, &st);
	int n = 0;

	if (r < 0)
		return r;
	bind_text(st, 1, station_id);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_history_row row = {
		    .source = "notice",
		    .kind = col_text(st, 0),
		    .text = col_text(st, 1),
		    .ts_ms = sqlite3_column_int64(st, 2),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : rc == SQLITE_DONE ? n : -EIO;
}

/* ---- swap (0012_swap.sql) */
static int sq_swap_pack_put(struct store *s, const struct store_swap_pack *p)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SWAP_PACK_PUT);
	bind_text(st, 1, p->serial);
	bind_text(st, 2, p->station_id ? p->station_id : "");
	bind_text(st, 3, p->type ? p->type : "");
	sqlite3_bind_int64(st, 4, p->capacity_wh);
	sqlite3_bind_double(st, 5, p->soc);
	sqlite3_bind_double(st, 6, p->soh);
	sqlite3_bind_int64(st, 7, p->cycles);
	bind_text(st, 8, p->location ? p->location : "store");
	sqlite3_bind_int(st, 9, p->evse_id);
	bind_text(st, 10, p->vehicle ? p->vehicle : "");
	sqlite3_bind_int64(st, 11, p->production_ms);
	sqlite3_bind_int64(st, 12, p->in_ms);
	sqlite3_bind_int(st, 13, p->flagged);
	sqlite3_bind_int64(st, 14, p->updated_ms);
	r = step_done(st);
	if (r < 0 || p->soh < 0)
		return r;
	st = stmt(s, ST_SWAP_SOH_ADD);
	bind_text(st, 1, p->serial);
	sqlite3_bind_int64(st, 2, p->updated_ms);
	sqlite3_bind_double(st, 3, p->soh);
	return step_done(st);
}

static int sq_swap_packs_list(struct store *s, const char *station_or_null,
			      const char *serial_or_null, store_swap_pack_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SWAP_PACKS_LIST);
	int rc, r = 0, n = 0;

	bind_text(st, 1, station_or_null);
	bind_text(st, 2, serial_or_null);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_swap_pack row = {
		    .serial = col_text(st, 0),
		    .station_id = col_text(st, 1),
		    .type = col_text(st, 2),
		    .capacity_wh = sqlite3_column_int64(st, 3),
		    .soc = sqlite3_column_double(st, 4),
		    .soh = sqlite3_column_double(st, 5),
		    .cycles = sqlite3_column_int64(st, 6),
		    .location = col_text(st, 7),
		    .evse_id = sqlite3_column_int(st, 8),
		    .vehicle = col_text(st, 9),
		    .production_ms = sqlite3_column_int64(st, 10),
		    .in_ms = sqlite3_column_int64(st, 11),
		    .flagged = sqlite3_column_int(st, 12) != 0,
		    .updated_ms = sqlite3_column_int64(st, 13),
		    .ready_ms = sqlite3_column_int64(st, 14),
		    .ready_set_ms = sqlite3_column_int64(st, 15),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	return serial_or_null && n == 0 ? -ENOENT : n;
}

static int sq_swap_pack_soh_list(struct store *s, const char *serial, store_swap_soh_fn fn,
				 void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SWAP_SOH_LIST);
	int rc, r = 0, n = 0;

	bind_text(st, 1, serial);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_swap_soh row = {
		    .serial = col_text(st, 0),
		    .ts_ms = sqlite3_column_int64(st, 1),
		    .soh = sqlite3_column_double(st, 2),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? n : -EIO;
}

static int sq_swap_order_put(struct store *s, const struct store_swap_order *o, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, o->id ? ST_SWAP_ORDER_SET : ST_SWAP_ORDER_ADD);
	bind_text(st, 1, o->station_id);
	sqlite3_bind_int64(st, 2, o->request_id);
	bind_text(st, 3, o->vehicle ? o->vehicle : "");
	sqlite3_bind_int64(st, 4, o->booking_id);
	bind_text(st, 5, o->packs_out ? o->packs_out : "");
	bind_text(st, 6, o->packs_in ? o->packs_in : "");
	sqlite3_bind_double(st, 7, o->soc_out);
	sqlite3_bind_double(st, 8, o->soc_in);
	sqlite3_bind_int64(st, 9, o->energy_out_wh);
	sqlite3_bind_int64(st, 10, o->energy_in_wh);
	sqlite3_bind_int64(st, 11, o->delta_wh);
	bind_text(st, 12, o->tier ? o->tier : "");
	sqlite3_bind_int64(st, 13, o->price_fen_per_mwh);
	sqlite3_bind_int64(st, 14, o->cost_fen);
	bind_text(st, 15, o->state ? o->state : "open");
	sqlite3_bind_double(st, 16, o->promised_soc);
	sqlite3_bind_int64(st, 17, o->created_ms);
	sqlite3_bind_int64(st, 18, o->in_ms);
	sqlite3_bind_int64(st, 19, o->out_ms);
	sqlite3_bind_int64(st, 20, o->done_ms);
	if (o->id)
		sqlite3_bind_int64(st, 21, o->id);
	r = step_done(st);
	if (r < 0)
		return r;
	if (o->id)
		return sqlite3_changes(sq(s)->db) ? 0 : -ENOENT;
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(sq(s)->db);
	return 0;
}

static int swap_orders_rows(sqlite3_stmt *st, store_swap_order_fn fn, void *ud)
{
	int rc, r = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_swap_order row = {
		    .id = sqlite3_column_int64(st, 0),
		    .station_id = col_text(st, 1),
		    .request_id = sqlite3_column_int64(st, 2),
		    .vehicle = col_text(st, 3),
		    .booking_id = sqlite3_column_int64(st, 4),
		    .packs_out = col_text(st, 5),
		    .packs_in = col_text(st, 6),
		    .soc_out = sqlite3_column_double(st, 7),
		    .soc_in = sqlite3_column_double(st, 8),
		    .energy_out_wh = sqlite3_column_int64(st, 9),
		    .energy_in_wh = sqlite3_column_int64(st, 10),
		    .delta_wh = sqlite3_column_int64(st, 11),
		    .tier = col_text(st, 12),
		    .price_fen_per_mwh = sqlite3_column_int64(st, 13),
		    .cost_fen = sqlite3_column_int64(st, 14),
		    .state = col_text(st, 15),
		    .promised_soc = sqlite3_column_double(st, 16),
		    .created_ms = sqlite3_column_int64(st, 17),
		    .in_ms = sqlite3_column_int64(st, 18),
		    .out_ms = sqlite3_column_int64(st, 19),
		    .done_ms = sqlite3_column_int64(st, 20),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? n : -EIO;
}

static int sq_swap_order_get(struct store *s, const char *station_id, int64_t request_id,
			     store_swap_order_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SWAP_ORDER_GET);
	int r;

	bind_text(st, 1, station_id);
	sqlite3_bind_int64(st, 2, request_id);
	r = swap_orders_rows(st, fn, ud);
	return r == 0 ? -ENOENT : r;
}

static int sq_swap_orders_list(struct store *s, const char *station_or_null, int64_t from_ms,
			       int64_t to_ms, store_swap_order_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SWAP_ORDERS_LIST);

	bind_text(st, 1, station_or_null);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	return swap_orders_rows(st, fn, ud);
}

static int sq_swap_booking_put(struct store *s, const struct store_swap_booking *b, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, b->id ? ST_SWAP_BOOKING_SET : ST_SWAP_BOOKING_ADD);
	bind_text(st, 1, b->station_id);
	bind_text(st, 2, b->vehicle);
	sqlite3_bind_int64(st, 3, b->due_ms);
	sqlite3_bind_double(st, 4, b->min_soc);
	bind_text(st, 5, b->state ? b->state : "queued");
	sqlite3_bind_int64(st, 6, b->request_id);
	sqlite3_bind_int64(st, 7, b->created_ms);
	if (b->id)
		sqlite3_bind_int64(st, 8, b->id);
	r = step_done(st);
	if (r < 0)
		return r;
	if (b->id)
		return sqlite3_changes(sq(s)->db) ? 0 : -ENOENT;
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(sq(s)->db);
	return 0;
}

/* The booking rows of st (bound), reset after: the number of rows or a negative errno. */
static int swap_booking_rows(sqlite3_stmt *st, store_swap_booking_fn fn, void *ud)
{
	int rc, r = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_swap_booking row = {
		    .id = sqlite3_column_int64(st, 0),
		    .station_id = col_text(st, 1),
		    .vehicle = col_text(st, 2),
		    .due_ms = sqlite3_column_int64(st, 3),
		    .min_soc = sqlite3_column_double(st, 4),
		    .state = col_text(st, 5),
		    .request_id = sqlite3_column_int64(st, 6),
		    .created_ms = sqlite3_column_int64(st, 7),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	return n;
}

static int sq_swap_bookings_list(struct store *s, const char *station_or_null, int64_t id_or_zero,
				 int64_t from_ms, store_swap_booking_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SWAP_BOOKINGS_LIST);
	int n;

	bind_text(st, 1, station_or_null);
	sqlite3_bind_int64(st, 2, id_or_zero);
	sqlite3_bind_int64(st, 3, from_ms);
	n = swap_booking_rows(st, fn, ud);
	return id_or_zero && n == 0 ? -ENOENT : n;
}

static int sq_swap_bookings_open(struct store *s, const char *station_id,
				 const char *vehicle_or_null, store_swap_booking_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_SWAP_BOOKINGS_OPEN);

	bind_text(st, 1, station_id);
	bind_text(st, 2, vehicle_or_null);
	return swap_booking_rows(st, fn, ud);
}
static int sq_swap_pack_ready_set(struct store *s, const char *serial, int64_t ready_ms,
				  int64_t set_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_SWAP_READY_SET);
	bind_text(st, 1, serial);
	sqlite3_bind_int64(st, 2, ready_ms);
	sqlite3_bind_int64(st, 3, set_ms);
	return step_done(st);
}
/* ---- end swap */

/* ---------------------------------------------------------------- security (0008) */
/* Prepared per call: these run at registration and on credential changes, not per message. */

static int sq_station_security_get(struct store *s, const char *id,
				   struct store_station_security *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(sq(s)->db,
			       "SELECT security_profile, password_hash, cert_cn, cert_fingerprint "
			       "FROM stations WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->profile = sqlite3_column_int(st, 0);
		copy_col(st, 1, ret->password_hash, sizeof(ret->password_hash));
		copy_col(st, 2, ret->cert_cn, sizeof(ret->cert_cn));
		copy_col(st, 3, ret->cert_fp, sizeof(ret->cert_fp));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_station_security_set(struct store *s, const char *id, int profile,
				   const char *password_hash, const char *cert_cn,
				   const char *cert_fp)
{
	sqlite3_stmt *st;
	int r = begin_write(s), rc;

	if (r < 0)
		return r;
	if (profile > 3)
		return -EINVAL;
	if (sqlite3_prepare_v2(
		sq(s)->db,
		"UPDATE stations SET "
		"security_profile = CASE WHEN ?2 < 0 THEN security_profile ELSE ?2 END, "
		"password_hash = CASE WHEN ?3 IS NULL THEN password_hash "
		"WHEN ?3 = '' THEN NULL ELSE ?3 END, "
		"cert_cn = CASE WHEN ?4 IS NULL THEN cert_cn "
		"WHEN ?4 = '' THEN NULL ELSE ?4 END, "
		"cert_fingerprint = CASE WHEN ?5 IS NULL THEN cert_fingerprint "
		"WHEN ?5 = '' THEN NULL ELSE ?5 END "
		"WHERE id = ?1",
		-1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, profile);
	bind_text(st, 3, password_hash);
	bind_text(st, 4, cert_cn);
	bind_text(st, 5, cert_fp);
	rc = sqlite3_step(st);
	r = rc != SQLITE_DONE ? -EIO : sqlite3_changes(sq(s)->db) == 0 ? -ENOENT : 0;
	sqlite3_finalize(st);
	return r;
}

static int sq_stations_count_registration(struct store *s, int registration, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(sq(s)->db, "SELECT count(*) FROM stations WHERE registration = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, reg_status_to_string(registration));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}
/* ---------------------------------------------------------------- end security */

/* ---------------------------------------------------------------- sites (0011_sites.sql) */
/* Prepared per call like the dash queries: these run at operator or boot rate, not per
 * message, except station_log_add (one per status change, a cached-size prepare). */

static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(sq(s)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

/* Step a one-shot write statement and finalize it. */
static int run_done(sqlite3_stmt *st)
{
	int r = step_done(st);

	sqlite3_finalize(st);
	return r;
}

static int opt_int(sqlite3_stmt *st, int i, int def)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? def : sqlite3_column_int(st, i);
}

static int sq_sites_list(struct store *s, const char *id_or_null, store_site_row_fn fn, void *ud)
{
	static const char sql[] =
	    "SELECT t.id, t.kind, t.name, t.location, t.heartbeat_s, t.local_list, "
	    "t.local_list_max, t.reservations, t.reservation_max_s, t.limit_kw, "
	    "ifnull(t.tariff_id, ''), t.created_ms, "
	    "(SELECT count(*) FROM stations s WHERE s.site_id = t.id), "
	    "(SELECT count(*) FROM stations s WHERE s.site_id = t.id AND s.online), "
	    "ifnull(t.swap_soh_flag_below, 0), ifnull(t.swap_promised_soc, 0) "
	    "FROM sites t WHERE ?1 IS NULL OR t.id = ?1 ORDER BY t.id";
	sqlite3_stmt *st = prep(s, sql);
	int rc, r = 0, n = 0;

	if (!st)
		return -EIO;
	bind_text(st, 1, id_or_null);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_site_row row = {
		    .rec =
			{
			    .id = col_text(st, 0),
			    .kind = site_kind_from_string(col_text(st, 1)),
			    .name = col_text(st, 2),
			    .location = col_text(st, 3),
			    .heartbeat_s = opt_int(st, 4, 0),
			    .local_list = opt_int(st, 5, -1),
			    .local_list_max = opt_int(st, 6, 0),
			    .reservations = opt_int(st, 7, -1),
			    .reservation_max_s = opt_int(st, 8, 0),
			    .swap_soh_flag_below = sqlite3_column_double(st, 14),
			    .swap_promised_soc = sqlite3_column_double(st, 15),
			},
		    .limit_w = sqlite3_column_type(st, 9) == SQLITE_NULL
				   ? -1
				   : (int64_t)(sqlite3_column_double(st, 9) * 1000.0 + 0.5),
		    .tariff_id = col_text(st, 10),
		    .created_ms = sqlite3_column_int64(st, 11),
		    .stations = sqlite3_column_int64(st, 12),
		    .online = sqlite3_column_int64(st, 13),
		};

		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -EIO;
	return id_or_null && n == 0 ? -ENOENT : n;
}

static void bind_opt_int(sqlite3_stmt *st, int i, int v, int none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int(st, i, v);
}

static int sq_site_save(struct store *s, const struct store_site_rec *rec, bool create,
			int64_t now_ms)
{
	static const char ins[] =
	    "INSERT INTO sites(id, kind, name, location, heartbeat_s, local_list, "
	    "local_list_max, reservations, reservation_max_s, created_ms, swap_soh_flag_below, "
	    "swap_promised_soc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	static const char upd[] =
	    "UPDATE sites SET kind = ?2, name = ?3, location = ?4, heartbeat_s = ?5, "
	    "local_list = ?6, local_list_max = ?7, reservations = ?8, reservation_max_s = ?9, "
	    "swap_soh_flag_below = ?11, swap_promised_soc = ?12 WHERE id = ?1 AND ?10 IS NOT NULL";
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = prep(s, create ? ins : upd);
	if (!st)
		return -EIO;
	bind_text(st, 1, rec->id);
	bind_text(st, 2, site_kind_to_string(rec->kind));
	bind_text(st, 3, rec->name);
	bind_text(st, 4, rec->location);
	bind_opt_int(st, 5, rec->heartbeat_s, 0);
	bind_opt_int(st, 6, rec->local_list, -1);
	bind_opt_int(st, 7, rec->local_list_max, 0);
	bind_opt_int(st, 8, rec->reservations, -1);
	bind_opt_int(st, 9, rec->reservation_max_s, 0);
	sqlite3_bind_int64(st, 10, now_ms);
	if (rec->swap_soh_flag_below > 0)
		sqlite3_bind_double(st, 11, rec->swap_soh_flag_below);
	if (rec->swap_promised_soc > 0)
		sqlite3_bind_double(st, 12, rec->swap_promised_soc);
	r = run_done(st);
	if (r < 0)
		return r;
	return !create && !sqlite3_changes(sq(s)->db) ? -ENOENT : 0;
}

static int sq_site_delete(struct store *s, const char *id)
{
	sqlite3_stmt *st = prep(s, "SELECT (SELECT count(*) FROM sites WHERE id = ?1), "
				   "(SELECT count(*) FROM stations WHERE site_id = ?1) + "
				   "(SELECT count(*) FROM id_tokens WHERE site_id = ?1)");
	int64_t found = 0, refs = 0;
	int r;

	if (!st)
		return -EIO;
	bind_text(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = sqlite3_column_int64(st, 0);
		refs = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (!found)
		return -ENOENT;
	if (refs)
		return -EBUSY;
	r = begin_write(s);
	if (r < 0)
		return r;
	st = prep(s, "DELETE FROM sites WHERE id = ?1");
	if (!st)
		return -EIO;
	bind_text(st, 1, id);
	return run_done(st);
}

#define RESV_COLS                                                                                  \
	"id, station_id, evse_id, id_tag, expiry_ms, status, ifnull(session_id, 0), "              \
	"created_ms, updated_ms"

static void resv_row(sqlite3_stmt *st, struct store_reservation *r)
{
	r->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, r->station_id, sizeof(r->station_id));
	r->evse_id = sqlite3_column_int(st, 2);
	copy_col(st, 3, r->id_tag, sizeof(r->id_tag));
	r->expiry_ms = sqlite3_column_int64(st, 4);
	copy_col(st, 5, r->status, sizeof(r->status));
	r->session_id = sqlite3_column_int64(st, 6);
	r->created_ms = sqlite3_column_int64(st, 7);
	r->updated_ms = sqlite3_column_int64(st, 8);
}

static int sq_reservation_put(struct store *s, const struct store_reservation *in)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = prep(s, "INSERT OR REPLACE INTO reservations(id, station_id, evse_id, id_tag, "
		     "expiry_ms, status, session_id, created_ms, updated_ms) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, 0), ?8, ?9)");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, in->id);
	bind_text(st, 2, in->station_id);
	sqlite3_bind_int(st, 3, in->evse_id);
	bind_text(st, 4, in->id_tag);
	sqlite3_bind_int64(st, 5, in->expiry_ms);
	bind_text(st, 6, in->status);
	sqlite3_bind_int64(st, 7, in->session_id);
	sqlite3_bind_int64(st, 8, in->created_ms);
	sqlite3_bind_int64(st, 9, in->updated_ms);
	r = run_done(st);
	return r == -EEXIST ? -EINVAL : r; /* a CHECK on status */
}

static int sq_reservation_get(struct store *s, int64_t id, struct store_reservation *ret)
{
	sqlite3_stmt *st = prep(s, "SELECT " RESV_COLS " FROM reservations WHERE id = ?1");
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		resv_row(st, ret);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int resv_each(sqlite3_stmt *st, store_reservation_fn fn, void *ud)
{
	int rc, r = 0, n = 0;

	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_reservation row;

		resv_row(st, &row);
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -EIO;
}

static int sq_reservations_list(struct store *s, const char *station_or_null, bool open_only,
				int limit, store_reservation_fn fn, void *ud)
{
	sqlite3_stmt *st = prep(s, "SELECT " RESV_COLS " FROM reservations WHERE "
				   "(?1 IS NULL OR station_id = ?1) AND "
				   "(?2 = 0 OR status IN ('Requested', 'Accepted')) "
				   "ORDER BY id DESC LIMIT ?3");

	if (st) {
		bind_text(st, 1, station_or_null);
		sqlite3_bind_int(st, 2, open_only);
		sqlite3_bind_int(st, 3, limit);
	}
	return resv_each(st, fn, ud);
}

static int sq_reservations_due(struct store *s, int64_t now_ms, store_reservation_fn fn, void *ud)
{
	sqlite3_stmt *st = prep(s, "SELECT " RESV_COLS " FROM reservations WHERE "
				   "status IN ('Requested', 'Accepted') AND expiry_ms <= ?1 "
				   "ORDER BY expiry_ms");

	if (st)
		sqlite3_bind_int64(st, 1, now_ms);
	return resv_each(st, fn, ud);
}

static int sq_station_log_add(struct store *s, const char *station_id,
			      const struct store_log_row *row)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = prep(s, "INSERT INTO station_log(station_id, kind, evse_id, connector_id, state, "
		     "ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (!st)
		return -EIO;
	bind_text(st, 1, station_id);
	bind_text(st, 2, row->kind);
	sqlite3_bind_int(st, 3, row->evse_id);
	sqlite3_bind_int(st, 4, row->connector_id);
	bind_text(st, 5, row->state);
	sqlite3_bind_int64(st, 6, row->ts_ms);
	return run_done(st);
}

static int sq_station_log_list(struct store *s, const char *station_id, int64_t from_ms,
			       int64_t to_ms, store_log_fn fn, void *ud)
{
	static const char sql[] =
	    "SELECT kind, state, evse_id, connector_id, ts_ms, seq FROM station_log "
	    "WHERE seq IN (SELECT max(seq) FROM station_log WHERE station_id = ?1 AND "
	    "ts_ms < ?2 GROUP BY kind, evse_id, connector_id) "
	    "UNION ALL SELECT kind, state, evse_id, connector_id, ts_ms, seq FROM station_log "
	    "WHERE station_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY 5, 6";
	sqlite3_stmt *st = prep(s, sql);
	int rc, r = 0, n = 0;

	if (!st)
		return -EIO;
	bind_text(st, 1, station_id);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_log_row row = {
		    .kind = col_text(st, 0),
		    .state = col_text(st, 1),
		    .evse_id = sqlite3_column_int(st, 2),
		    .connector_id = sqlite3_column_int(st, 3),
		    .ts_ms = sqlite3_column_int64(st, 4),
		};

		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? n : -EIO;
}

static int sq_sessions_late(struct store *s, const char *station_id, int64_t from_ms, int64_t to_ms,
			    int64_t late_ms, int64_t *ret_count)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*) FROM sessions WHERE station_id = ?1 AND "
				   "start_ms >= ?2 AND start_ms < ?3 AND "
				   "(created_ms - start_ms > ?4 OR offline_events > 0)");
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, station_id);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	sqlite3_bind_int64(st, 4, late_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

static int list_entries(sqlite3_stmt *st, store_list_entry_fn fn, void *ud)
{
	int rc, r = 0, n = 0;

	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_list_entry e = {.status = auth_status_from_string(col_text(st, 1)),
					     .expiry_ms = sqlite3_column_int64(st, 2)};

		copy_col(st, 0, e.token, sizeof(e.token));
		copy_col(st, 3, e.parent, sizeof(e.parent));
		n++;
		r = fn(&e, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? n : -EIO;
}

static int sq_site_tokens(struct store *s, const char *site_id, bool with_unbound, int limit,
			  store_list_entry_fn fn, void *ud)
{
	/* the site's own tokens first, then unbound ones, each by token */
	sqlite3_stmt *st = prep(s, "SELECT token, status, ifnull(expiry_ms, 0), ifnull(parent, '') "
				   "FROM id_tokens WHERE site_id = ?1 OR (?2 AND site_id IS NULL) "
				   "ORDER BY site_id IS NULL, token LIMIT ?3");

	if (st) {
		bind_text(st, 1, site_id);
		sqlite3_bind_int(st, 2, with_unbound);
		sqlite3_bind_int(st, 3, limit);
	}
	return list_entries(st, fn, ud);
}

static int sq_local_list_version(struct store *s, const char *station_id, int64_t *ret_version)
{
	sqlite3_stmt *st = prep(s, "SELECT version FROM local_lists WHERE station_id = ?1");
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, station_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_local_list_entries(struct store *s, const char *station_id, store_list_entry_fn fn,
				 void *ud)
{
	sqlite3_stmt *st = prep(s, "SELECT token, status, ifnull(expiry_ms, 0), ifnull(parent, '') "
				   "FROM local_list_entries WHERE station_id = ?1 ORDER BY token");

	if (st)
		bind_text(st, 1, station_id);
	return list_entries(st, fn, ud);
}

static int sq_local_list_save(struct store *s, const char *station_id, int64_t version, bool full,
			      const struct store_list_entry *e, size_t n, int64_t now_ms)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	if (full) {
		st = prep(s, "DELETE FROM local_list_entries WHERE station_id = ?1");
		if (!st)
			return -EIO;
		bind_text(st, 1, station_id);
		r = run_done(st);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		if (e[i].status < 0) {
			st = prep(s, "DELETE FROM local_list_entries WHERE station_id = ?1 AND "
				     "token = ?2");
		} else {
			st =
			    prep(s, "INSERT OR REPLACE INTO local_list_entries(station_id, token, "
				    "status, expiry_ms, parent) VALUES (?1, ?2, ?3, nullif(?4, 0), "
				    "nullif(?5, ''))");
		}
		if (!st)
			return -EIO;
		bind_text(st, 1, station_id);
		bind_text(st, 2, e[i].token);
		if (e[i].status >= 0) {
			bind_text(st, 3, auth_status_to_string(e[i].status));
			sqlite3_bind_int64(st, 4, e[i].expiry_ms);
			bind_text(st, 5, e[i].parent);
		}
		r = run_done(st);
		if (r < 0)
			return r;
	}
	st = prep(s, "INSERT OR REPLACE INTO local_lists(station_id, version, sent_ms) "
		     "VALUES (?1, ?2, ?3)");
	if (!st)
		return -EIO;
	bind_text(st, 1, station_id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, now_ms);
	return run_done(st);
}
/* ---------------------------------------------------------------- end sites */

/* ---------------------------------------------------------------- model capabilities (0016) */
static int sq_model_caps_put(struct store *s, const struct store_model_caps *c)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = stmt(s, ST_MCAPS_PUT);
	bind_text(st, 1, c->vendor);
	bind_text(st, 2, c->model);
	bind_text(st, 3, c->learned ? c->learned : "{}");
	bind_text(st, 4, c->override ? c->override : "{}");
	bind_text(st, 5, c->reason ? c->reason : "");
	sqlite3_bind_int64(st, 6, c->updated_ms);
	return step_done(st);
}

/* Rows (vendor, model, learned, override, reason, updated_ms) to fn; the count, or -ENOENT
 * when none and one was asked for. */
static int mcaps_rows(sqlite3_stmt *st, bool one, store_model_caps_fn fn, void *ud)
{
	int rc, r = 0, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_model_caps row = {
		    .vendor = col_text(st, 0),
		    .model = col_text(st, 1),
		    .learned = col_text(st, 2),
		    .override = col_text(st, 3),
		    .reason = col_text(st, 4),
		    .updated_ms = sqlite3_column_int64(st, 5),
		};
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -EIO;
	return one && n == 0 ? -ENOENT : one ? 0 : n;
}

static int sq_model_caps_get(struct store *s, const char *vendor, const char *model,
			     store_model_caps_fn fn, void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_MCAPS_GET);

	bind_text(st, 1, vendor);
	bind_text(st, 2, model);
	return mcaps_rows(st, true, fn, ud);
}

static int sq_model_caps_list(struct store *s, store_model_caps_fn fn, void *ud)
{
	return mcaps_rows(stmt(s, ST_MCAPS_LIST), false, fn, ud);
}

static int sq_station_model_caps(struct store *s, const char *station_id, store_model_caps_fn fn,
				 void *ud)
{
	sqlite3_stmt *st = stmt(s, ST_MCAPS_STATION);

	bind_text(st, 1, station_id);
	return mcaps_rows(st, true, fn, ud);
}
/* ---- end model capabilities */

/* ---------------------------------------------------------------- api admin (0015) */
static void token_where(struct sqlq *q, const struct store_token_query *f)
{
	sqlq_add(q, " WHERE 1");
	if (f->status >= 0)
		sqlq_add(q, " AND status = :status");
	if (f->parent)
		sqlq_add(q, " AND parent = :parent");
	if (f->site_id && *f->site_id)
		sqlq_add(q, " AND site_id = :site");
	else if (f->site_id)
		sqlq_add(q, " AND site_id IS NULL");
	if (f->token_prefix && *f->token_prefix)
		sqlq_add(q, " AND token >= :prefix AND token < :prefix_end");
}

static void token_bind(sqlite3_stmt *st, const struct store_token_query *f, char *prefix_end,
		       size_t n)
{
	bind_named_text(st, ":status", auth_status_to_string(f->status));
	bind_named_text(st, ":parent", f->parent);
	bind_named_text(st, ":site", f->site_id);
	if (f->token_prefix && *f->token_prefix) {
		/* as station_bind: the range [prefix, prefix with its last byte incremented) */
		size_t len = strlen(f->token_prefix);

		snprintf(prefix_end, n, "%s", f->token_prefix);
		if (len < n)
			prefix_end[len - 1]++;
		bind_named_text(st, ":prefix", f->token_prefix);
		bind_named_text(st, ":prefix_end", prefix_end);
	}
}

static int sq_tokens_query(struct store *s, const struct store_token_query *f, store_token_fn fn,
			   void *ud, int64_t *ret_total)
{
	static const char *const order[] = {
	    [STORE_TOKEN_SORT_ID] = "token",
	    [STORE_TOKEN_SORT_STATUS] = "status",
	    [STORE_TOKEN_SORT_EXPIRY] = "ifnull(expiry_ms, 0)",
	};
	char prefix_end[TOKEN_MAX + 2], buf[128];
	struct sqlq q = {.len = 0};
	const char *dir = f->desc ? " DESC" : "";
	sqlite3_stmt *st;
	int rc, n = 0, r = 0;
	int64_t total = 0;

	if (f->sort < 0 || f->sort > STORE_TOKEN_SORT_EXPIRY)
		return -EINVAL;
	if (ret_total) {
		sqlq_add(&q, "SELECT count(*) FROM id_tokens");
		token_where(&q, f);
		st = sqlq_prepare(s, &q);
		if (!st)
			return -EIO;
		token_bind(st, f, prefix_end, sizeof(prefix_end));
		rc = sqlite3_step(st);
		total = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			return -EIO;
	}
	q.len = 0;
	q.sql[0] = '\0';
	sqlq_add(&q, "SELECT token, status, expiry_ms, parent, site_id FROM id_tokens");
	token_where(&q, f);
	if (f->sort == STORE_TOKEN_SORT_ID)
		snprintf(buf, sizeof(buf), " ORDER BY token%s", dir);
	else
		snprintf(buf, sizeof(buf), " ORDER BY %s%s, token%s", order[f->sort], dir, dir);
	sqlq_add(&q, buf);
	sqlq_add(&q, " LIMIT :limit OFFSET :offset");
	st = sqlq_prepare(s, &q);
	if (!st)
		return -EIO;
	token_bind(st, f, prefix_end, sizeof(prefix_end));
	bind_named_int64(st, ":limit", f->limit);
	bind_named_int64(st, ":offset", f->offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_token row;

		copy_col(st, 0, row.token, sizeof(row.token));
		row.status = auth_status_from_string(col_text(st, 1));
		row.expiry_ms = sqlite3_column_int64(st, 2);
		copy_col(st, 3, row.parent, sizeof(row.parent));
		copy_col(st, 4, row.site_id, sizeof(row.site_id));
		n++;
		r = fn(&row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return -EIO;
	if (ret_total)
		*ret_total = total;
	return n;
}

static int sq_token_delete(struct store *s, const char *token)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = prep(s, "DELETE FROM id_tokens WHERE token = ?1");
	if (!st)
		return -EIO;
	bind_text(st, 1, token);
	r = run_done(st);
	if (r == 0 && sqlite3_changes(sq(s)->db) == 0)
		return -ENOENT;
	return r;
}

/* A setter's text: NULL keeps the column (?n IS NULL), "" clears it to NULL. */
static void bind_set_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v && !*v)
		sqlite3_bind_text(st, i, "", 0, SQLITE_STATIC);
	else
		bind_text(st, i, v);
}

static int sq_station_admin_set(struct store *s, const char *id,
				const struct store_station_admin *a)
{
	sqlite3_stmt *st;
	int r = begin_write(s);

	if (r < 0)
		return r;
	st = prep(s, "UPDATE stations SET "
		     "site_id = CASE WHEN ?2 IS NULL THEN site_id ELSE nullif(?2, '') END, "
		     "notes = CASE WHEN ?3 IS NULL THEN notes ELSE nullif(?3, '') END, "
		     "labels = CASE WHEN ?4 IS NULL THEN labels ELSE nullif(?4, '') END, "
		     "protocol = CASE WHEN ?5 IS NULL THEN protocol ELSE nullif(?5, '') END "
		     "WHERE id = ?1");
	if (!st)
		return -EIO;
	bind_text(st, 1, id);
	bind_set_text(st, 2, a->site_id);
	bind_set_text(st, 3, a->notes);
	bind_set_text(st, 4, a->labels);
	bind_set_text(st, 5, a->protocol);
	r = run_done(st);
	if (r == 0 && sqlite3_changes(sq(s)->db) == 0)
		return -ENOENT;
	return r;
}

static int sq_station_notes_get(struct store *s, const char *id, struct store_station_notes *ret)
{
	sqlite3_stmt *st = prep(s, "SELECT notes, labels FROM stations WHERE id = ?1");
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, ret->notes, sizeof(ret->notes));
		copy_col(st, 1, ret->labels, sizeof(ret->labels));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_station_delete(struct store *s, const char *id)
{
	static const char *const del[] = {
	    "DELETE FROM device_model WHERE station_id = ?1",
	    "DELETE FROM local_list_entries WHERE station_id = ?1",
	    "DELETE FROM local_lists WHERE station_id = ?1",
	    "DELETE FROM station_ext_limits WHERE station_id = ?1", /* no reference: 0029 */
	    "DELETE FROM stations WHERE id = ?1", /* its connectors by ON DELETE CASCADE */
	};
	sqlite3_stmt *st = prep(s, "SELECT (SELECT count(*) FROM stations WHERE id = ?1), "
				   "EXISTS (SELECT 1 FROM sessions WHERE station_id = ?1 AND "
				   "stop_ms IS NULL), "
				   "EXISTS (SELECT 1 FROM sessions WHERE station_id = ?1)");
	int64_t found = 0, open = 0, any = 0;
	int r, rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = sqlite3_column_int64(st, 0);
		open = sqlite3_column_int64(st, 1);
		any = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return -EIO;
	if (!found)
		return -ENOENT;
	if (open)
		return -EBUSY;
	if (any)
		return -ENOTEMPTY;
	r = begin_write(s);
	for (size_t i = 0; r == 0 && i < sizeof(del) / sizeof(del[0]); i++) {
		st = prep(s, del[i]);
		if (!st)
			return -EIO;
		bind_text(st, 1, id);
		r = run_done(st);
	}
	return r;
}
/* ---------------------------------------------------------------- end api admin */
/* ---- nodes: SQLite holds one node, so the connection itself is the ownership; nothing is
 * routed elsewhere (docs/scaling.md). */
static int sq_node_set(struct store *s, const char *node_id, int64_t lease_ms)
{
	(void)s;
	(void)lease_ms;
	return node_id && strlen(node_id) <= STORE_NODE_ID_MAX ? 0 : -EINVAL;
}

static int sq_owners_renew(struct store *s)
{
	(void)s;
	return 0;
}

static int sq_owner_get(struct store *s, const char *station_id, char *ret_node, int64_t *ret_epoch)
{
	(void)s;
	(void)station_id;
	(void)ret_node;
	(void)ret_epoch;
	return -ENOENT;
}

static int sq_owner_lost(struct store *s, const char *station_id, int64_t epoch)
{
	(void)s;
	(void)station_id;
	(void)epoch;
	return 0;
}

static int sq_notify_fd(struct store *s)
{
	(void)s;
	return -ENOTSUP;
}

static int sq_notify_drain(struct store *s, store_notify_fn fn, void *ud)
{
	(void)s;
	(void)fn;
	(void)ud;
	return 0;
}

static int sq_notify(struct store *s, const char *channel, const char *payload)
{
	(void)s;
	(void)channel;
	(void)payload;
	return 0;
}

static int sq_rcmd_add(struct store *s, const char *target_node, const char *station_id,
		       const char *request, int64_t now_ms, int64_t *ret_id)
{
	(void)s;
	(void)target_node;
	(void)station_id;
	(void)request;
	(void)now_ms;
	(void)ret_id;
	return -ENOTSUP;
}

static int sq_rcmd_claim(struct store *s, int64_t id, char *ret_station, char **ret_request)
{
	(void)s;
	(void)id;
	(void)ret_station;
	(void)ret_request;
	return -ENOENT;
}

static int sq_rcmd_done(struct store *s, int64_t id, const char *result, int64_t now_ms)
{
	(void)s;
	(void)id;
	(void)result;
	(void)now_ms;
	return -ENOTSUP;
}

static int sq_rcmd_take(struct store *s, int64_t id, char **ret_result)
{
	(void)s;
	(void)id;
	(void)ret_result;
	return -ENOENT;
}
/* ---- end nodes */

/* ---- nodes, version 10: one node, the connection is the ownership */
static int sq_owner_held(struct store *s, const char *station_id)
{
	(void)s;
	(void)station_id;
	return 1;
}

static int sq_node_key_set(struct store *s, const char *key)
{
	(void)s;
	(void)key;
	return -ENOTSUP;
}

static int sq_node_key_get(struct store *s, const char *node_id, char *ret_key)
{
	(void)s;
	(void)node_id;
	(void)ret_key;
	return -ENOTSUP;
}
/* ---- end nodes, version 10 */

/* ---- nodes, version 11: one node, nothing to reconcile */
static int sq_owners_check(struct store *s, store_owner_gone_fn fn, void *ud)
{
	(void)s;
	(void)fn;
	(void)ud;
	return 0;
}

const struct store_ops store_sqlite_ops = {
    .version = STORE_OPS_VERSION,
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .dirty = sq_dirty,
    .errmsg = sq_errmsg,
    .site_put = sq_site_put,
    .station_get = sq_station_get,
    .station_create = sq_station_create,
    .station_put = sq_station_put,
    .station_boot = sq_station_boot,
    .station_set_registration = sq_station_set_registration,
    .station_seen = sq_station_seen,
    .station_event = sq_station_event,
    .stations_offline_all = sq_stations_offline_all,
    .stations_list = sq_stations_list,
    .connector_status = sq_connector_status,
    .connectors_list = sq_connectors_list,
    .token_get = sq_token_get,
    .token_put = sq_token_put,
    .session_open = sq_session_open,
    .session_find_start = sq_session_find_start,
    .session_find_tx = sq_session_find_tx,
    .session_state = sq_session_state,
    .session_close = sq_session_close,
    .session_id_tag = sq_session_id_tag,
    .sessions_list = sq_sessions_list,
    .session_get = sq_session_get,
    .session_set_start = sq_session_set_start,
    .session_set_token = sq_session_set_token,
    .session_set_evse = sq_session_set_evse,
    .session_meter_last = sq_session_meter_last,
    .session_event_add = sq_session_event_add,
    .session_seq_update = sq_session_seq_update,
    .sample_add = sq_sample_add,
    .sample_conflict_add = sq_sample_conflict_add,
    .sample_conflicts = sq_sample_conflicts,
    .samples_list = sq_samples_list,
    .orphan_add = sq_orphan_add,
    .orphans_list = sq_orphans_list,
    .variable_put = sq_variable_put,
    .variables_list = sq_variables_list,
    .report_part = sq_report_part,
    .report_status = sq_report_status,
    .notice_add = sq_notice_add,
    .command_add = sq_command_add,
    .commands_list = sq_commands_list,
    .samples_add = sq_samples_add, /* batch readings */
    .account_create = sq_account_create,
    .account_get = sq_account_get,
    .account_update = sq_account_update,
    .account_delete = sq_account_delete,
    .accounts_list = sq_accounts_list,
    .auth_session_add = sq_auth_session_add,
    .auth_session_get = sq_auth_session_get,
    .auth_session_touch = sq_auth_session_touch,
    .auth_sessions_delete = sq_auth_sessions_delete,
    .api_token_add = sq_api_token_add,
    .api_token_get = sq_api_token_get,
    .api_token_touch = sq_api_token_touch,
    .api_tokens_list = sq_api_tokens_list,
    .api_token_revoke = sq_api_token_revoke,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .tariff_put = sq_tariff_put,
    .tariffs_list = sq_tariffs_list,
    .site_tariff_set = sq_site_tariff_set,
    .site_tariffs_list = sq_site_tariffs_list,
    .energy_sessions_list = sq_energy_sessions_list,
    .session_energy_samples = sq_session_energy_samples,
    /* dash */
    .stations_query = sq_stations_query,
    .sessions_query = sq_sessions_query,
    .samples_page = sq_samples_page,
    .station_history = sq_station_history,
    .connectors_query = sq_connectors_query,
    .summary = sq_summary,
    .site_get = sq_site_get, /* planner */
    .site_set_limit = sq_site_set_limit,
    .needs_put = sq_needs_put,
    .needs_get = sq_needs_get,
    .site_sessions = sq_site_sessions,
    .session_export = sq_session_export,
    .grid_event_add = sq_grid_event_add,
    .grid_events_list = sq_grid_events_list,
    .site_plan_put = sq_site_plan_put,
    .site_plan_get = sq_site_plan_get,
    .session_plan_put = sq_session_plan_put,
    .session_plan_get = sq_session_plan_get,
    .site_energy_samples = sq_site_energy_samples,
    .capability_put = sq_capability_put,
    .capability_get = sq_capability_get,
    .cert_add = sq_cert_add, /* certificates */
    .certs_list = sq_certs_list,
    .certs_expiring = sq_certs_expiring,
    .cert_renew_mark = sq_cert_renew_mark,
    .station_password_set = sq_station_password_set,
    .security_events = sq_security_events,
    .swap_pack_put = sq_swap_pack_put, /* swap */
    .swap_packs_list = sq_swap_packs_list,
    .swap_pack_soh_list = sq_swap_pack_soh_list,
    .swap_order_put = sq_swap_order_put,
    .swap_order_get = sq_swap_order_get,
    .swap_orders_list = sq_swap_orders_list,
    .swap_booking_put = sq_swap_booking_put,
    .swap_bookings_list = sq_swap_bookings_list,
    .swap_pack_ready_set = sq_swap_pack_ready_set,
    .station_security_get = sq_station_security_get, /* security */
    .station_security_set = sq_station_security_set,
    .stations_count_registration = sq_stations_count_registration,
    .sites_list = sq_sites_list, /* sites */
    .site_save = sq_site_save,
    .site_delete = sq_site_delete,
    .reservation_put = sq_reservation_put,
    .reservation_get = sq_reservation_get,
    .reservations_list = sq_reservations_list,
    .reservations_due = sq_reservations_due,
    .station_log_add = sq_station_log_add,
    .station_log_list = sq_station_log_list,
    .sessions_late = sq_sessions_late,
    .site_tokens = sq_site_tokens,
    .local_list_version = sq_local_list_version,
    .local_list_entries = sq_local_list_entries,
    .local_list_save = sq_local_list_save,
    .model_caps_put = sq_model_caps_put,
    .model_caps_get = sq_model_caps_get,
    .model_caps_list = sq_model_caps_list,
    .station_model_caps = sq_station_model_caps,
    .tokens_query = sq_tokens_query, /* api admin */
    .token_delete = sq_token_delete,
    .station_admin_set = sq_station_admin_set,
    .station_notes_get = sq_station_notes_get,
    .station_delete = sq_station_delete,
    .commit_async = sq_commit_async,
    .flush_fd = sq_flush_fd,
    .flush_done = sq_flush_done,
    .node_set = sq_node_set,
    .owners_renew = sq_owners_renew,
    .owner_get = sq_owner_get,
    .owner_lost = sq_owner_lost,
    .notify_fd = sq_notify_fd,
    .notify_drain = sq_notify_drain,
    .notify = sq_notify,
    .rcmd_add = sq_rcmd_add,
    .rcmd_claim = sq_rcmd_claim,
    .rcmd_done = sq_rcmd_done,
    .rcmd_take = sq_rcmd_take,
    .owner_held = sq_owner_held,
    .node_key_set = sq_node_key_set,
    .node_key_get = sq_node_key_get,
    .owners_check = sq_owners_check,
    .swap_bookings_open = sq_swap_bookings_open,
    .site_forecast = sq_site_forecast,
    .site_plan_slots_put = sq_site_plan_slots_put,
    .site_plan_slots_list = sq_site_plan_slots_list,
    .station_ext_limit_put = sq_station_ext_limit_put,
    .site_ext_limits = sq_site_ext_limits,
};
