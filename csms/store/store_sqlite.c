/* SPDX-License-Identifier: MIT */
/* The SQLite store: WAL, one connection, statements prepared once, group commit. It implements
 * struct store_ops; SQL lives in this file only. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	ST_COMMAND_ADD,	  /* command log */
	ST_COMMANDS_LIST, /* command log */
	_ST_MAX
};

#define SESSION_COLS                                                                          \
	"id, station_id, connector_id, id_tag, auth_status, start_ms, meter_start_wh, "       \
	"reservation_id, stop_ms, meter_stop_wh, stop_reason, evse_id, station_tx_id, "       \
	"seq_gaps, offline_events, seq_max, sample_conflicts"
#define STATE_COLS                                                                            \
	"id, stop_ms IS NULL, start_ms, meter_start_wh IS NOT NULL, id_tag != '', "           \
	"meter_last_wh IS NOT NULL, ifnull(meter_last_wh, 0), ifnull(meter_last_ms, 0), "     \
	"station_id, evse_id, connector_id"
#define STATION_COLS                                                                          \
	"s.id, s.site_id, t.kind, s.registration, s.protocol, s.vendor, s.model, s.serial, "   \
	"s.firmware, s.firmware_status, s.diagnostics_status, s.online, s.last_seen_ms, "     \
	"s.last_boot_ms"

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
	[ST_CONNECTOR_STATUS] = "INSERT INTO connectors(station_id, connector_id, status, error_code, "
				"info, vendor_error, updated_ms, evse_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
				"ON CONFLICT(station_id, evse_id, connector_id) DO UPDATE SET "
				"status = excluded.status, error_code = excluded.error_code, "
				"info = excluded.info, vendor_error = excluded.vendor_error, "
				"updated_ms = excluded.updated_ms",
	[ST_CONNECTORS_LIST] = "SELECT connector_id, status, error_code, info, vendor_error, updated_ms, "
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
	[ST_SAMPLE_STORED] = "SELECT value FROM meter_values WHERE station_id = ?1 AND evse_id = ?2 "
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
	[ST_TX_SEQ_UPDATE] = "UPDATE sessions SET seq_min = min(ifnull(seq_min, ?2), ?2), "
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
	[ST_VARIABLE_PUT] = "INSERT INTO device_model(station_id, component, component_instance, evse_id, "
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
	[ST_REPORT_STATUS] = "SELECT parts, complete FROM reports WHERE station_id = ?1 AND request_id = ?2",
	[ST_NOTICE_ADD] = "INSERT INTO station_notices(station_id, kind, ts_ms, detail) "
			  "VALUES (?1, ?2, ?3, ?4)",
	/* ---- command log (0003_command_log.sql) */
	[ST_COMMAND_ADD] = "INSERT INTO command_log(station_id, who, kind, action, request, status, "
			   "station_status, error_code, detail, response, requested_ms, answered_ms, "
			   "latency_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_COMMANDS_LIST] = "SELECT id, station_id, who, kind, action, request, status, "
			     "station_status, error_code, detail, response, requested_ms, answered_ms, "
			     "latency_ms FROM command_log WHERE ?1 IS NULL OR station_id = ?1 "
			     "ORDER BY id DESC LIMIT ?2 OFFSET ?3",
	/* ---- end command log */
};

struct sq_store {
	struct store base; /* first: a struct store * is a struct sq_store * */
	sqlite3 *db;
	sqlite3_stmt *st[_ST_MAX];
	bool in_txn;
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

static int sq_commit(struct store *s)
{
	int r;

	if (!sq(s)->in_txn)
		return 0;
	r = step_done(stmt(s, ST_COMMIT));
	if (r < 0) {
		sq_rollback(s);
		return r;
	}
	sq(s)->in_txn = false;
	return 0;
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
	s = &q->base;
	if (sqlite3_open_v2(path, &sq(s)->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						  SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, err_len, "%s: %s", path, sq(s)->db ? sqlite3_errmsg(sq(s)->db) : "cannot open");
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
		if (sqlite3_prepare_v3(sq(s)->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &sq(s)->st[i],
				       NULL) != SQLITE_OK) {
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
	for (int i = 0; i < _ST_MAX; i++)
		sqlite3_finalize(sq(s)->st[i]);
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

static int sq_station_put(struct store *s, const char *id, const char *site_id, const char *password_hash,
		      int64_t now_ms)
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

static int sq_connector_status(struct store *s, const char *station_id, int evse_id, int connector_id,
			   const char *status, const char *error_code, const char *info,
			   const char *vendor_error, int64_t ts_ms)
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

static int sq_connectors_list(struct store *s, const char *station_id, store_connector_fn fn, void *ud)
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
			.seq_max = sqlite3_column_type(st, 15) == SQLITE_NULL ? -1
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

static int sq_sample_add(struct store *s, const struct store_sample *in, char *ret_stored,
			 size_t n)
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
			.sig = {
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

static int sq_variables_list(struct store *s, const char *station_id, store_variable_fn fn, void *ud)
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

static int sq_report_part(struct store *s, const char *station_id, int64_t request_id, int64_t seq_no,
		      bool tbc, int64_t now_ms)
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

static int sq_report_status(struct store *s, const char *station_id, int64_t request_id, int *ret_parts,
			bool *ret_complete)
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

/* SQLite has no round trips to save: one sample_add per reading. */
static int sq_samples_add(struct store *s, const struct store_sample *in, size_t n, int *ret,
			  char *ret_stored, size_t stored_len)
{
	for (size_t i = 0; i < n; i++) {
		ret[i] = sq_sample_add(s, &in[i], stored_len ? ret_stored + i * stored_len : NULL,
				       stored_len);
		if (ret[i] < 0 && ret[i] != -EINVAL)
			return ret[i];
	}
	return 0;
}
/* ---------------------------------------------------------------- end batch readings */

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
};
