/* SPDX-License-Identifier: MIT */
/* The PostgreSQL store (libpq): one connection in pipeline mode, statements prepared once,
 * group commit with synchronous_commit on. It implements struct store_ops with the contract of
 * store.h, passes the same contract suite as store_sqlite.c, and is the only file that includes
 * libpq-fe.h.
 *
 * How a statement travels. The connection stays in libpq pipeline mode. A write whose only
 * answer is "done" (most of them) is sent and not waited for: its result is read, and its error
 * noticed, at the next statement that needs an answer or at commit(), so a loop turn of N such
 * writes costs one round trip (the COMMIT's) instead of N + 2. A write that has an answer
 * (-EEXIST, -ENOENT, a new id, "new or duplicate") and every read send their statement, a Sync,
 * and read every result up to theirs. Ordering is the pipeline's, so reads still see the
 * group's own writes.
 *
 * The COMMIT off the loop (commit_async). The group's COMMIT is sent behind its writes with a
 * Sync before it (so it runs even when one of them failed and closes the transaction either
 * way) and one after it, and nothing waits: the loop goes on and the next group's statements
 * queue behind it in the same pipeline; the server runs them in order and flushes its WAL. Each
 * COMMIT in flight is a struct pg_commit (its batch number and how many results come before its
 * own); commits_read() is the one reader of those results, oldest first: flush_done() calls it
 * without blocking when the socket (flush_fd: an epoll set of the socket and an eventfd) turns
 * readable, and every synchronous read calls it first, since their results come first. A batch
 * is durable when its COMMIT answered COMMIT and none of its writes failed; one that did not, or
 * whose connection broke before its answer was read, is reported failed (flush_done: -EIO) and
 * never durable.
 *
 * Where it differs from SQLite. A failed statement aborts a PostgreSQL transaction: the whole
 * open group is then lost, and commit() returns -EIO after rolling it back (SQLite would keep the
 * group's other writes). The statements below are written so that the expected outcomes
 * (duplicates, replays, missing rows) are not errors (ON CONFLICT DO NOTHING, row counts), so
 * only storage failures and broken invariants (a foreign key) take this path, and then the
 * caller acknowledges nothing of the group (app_group_commit releases the held replies with
 * ok = false).
 *
 * Adding an operation: (1) its statement(s): one X(ST_NAME, "SQL") line each in PG_STATEMENTS,
 * parameters $1..$n (cast where PostgreSQL cannot infer a type, e.g. "$1::text IS NULL"); (2) the
 * function pg_xxx(): begin_write() + defer() for a write that only succeeds, begin_write() + run()
 * for a write with an answer, run() for a read, rows through the g_*() getters; (3) its line at
 * the end of store_pg_ops; (4) the table change as db/pg/NNNN_<same name>.sql. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../core/hmap.h"
#include "store.h"

struct embedded_file {
	const char *name;
	const char *data;
	size_t len;
};
extern const struct embedded_file db_pg_migrations[];
extern const size_t db_pg_migrations_count;

const bool store_pg_built = true;

/* Deferred results allowed in flight before a Sync is forced: bounds what either side buffers
 * (the server stops reading when its results are not read). */
#define DEFER_MAX     256
#define PG_MAX_PARAMS 24
/* Serializes schema migrations of nodes that start together (pg_advisory_xact_lock key). */
#define MIGRATE_LOCK_KEY "7349617201"

#define SESSION_COLS                                                                               \
	"id, station_id, connector_id, id_tag, auth_status, start_ms, meter_start_wh, "            \
	"reservation_id, stop_ms, meter_stop_wh, stop_reason, evse_id, station_tx_id, "            \
	"seq_gaps, offline_events, seq_max, sample_conflicts"
#define STATE_COLS                                                                                 \
	"id, stop_ms IS NULL, start_ms, meter_start_wh IS NOT NULL, id_tag != '', "                \
	"meter_last_wh IS NOT NULL, coalesce(meter_last_wh, 0), coalesce(meter_last_ms, 0), "      \
	"station_id, evse_id, connector_id"
/* nodes: the database's clock in ms, for leases (every node compares with the same clock) */
#define PG_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"
/* nodes: an ownership row o is live while its own lease (set when it was taken) or its node's
 * lease (cluster_nodes, 0022: one row per node, renewed) is current */
#define PG_OWNER_LIVE(o)                                                                           \
	"(" o ".lease_until > " PG_NOW_MS " OR EXISTS (SELECT 1 FROM cluster_nodes n WHERE "       \
	"n.node_id = " o ".node_id AND n.lease_until > " PG_NOW_MS "))"
/* nodes: a station is online while connected to a node whose lease is current (a node that
 * died stops renewing: its stations go offline when its lease ends; docs/scaling.md) */
#define PG_ONLINE                                                                                  \
	"(s.online AND NOT EXISTS (SELECT 1 FROM station_owner o WHERE o.station_id = s.id AND "   \
	"NOT " PG_OWNER_LIVE("o") "))"
#define STATION_COLS                                                                               \
	"s.id, s.site_id, t.kind, s.registration, s.protocol, s.vendor, s.model, s.serial, "       \
	"s.firmware, s.firmware_status, s.diagnostics_status, " PG_ONLINE ", s.last_seen_ms, "     \
	"s.last_boot_ms"
#define SAMPLE_KEY_WHERE                                                                           \
	"station_id = $2 AND evse_id = $3 AND ts_ms = $4 AND measurand = $5 AND "                  \
	"phase = coalesce($6, '') AND context = coalesce($8, '') AND location = coalesce($9, '')"

#define ENERGY_SESSION_COLS                                                                        \
	"x.id, t.id, t.kind, coalesce(t.tariff_id, ''), x.start_ms, x.meter_start_wh IS NOT "      \
	"NULL, "                                                                                   \
	"coalesce(x.meter_start_wh, 0), x.stop_ms IS NOT NULL, coalesce(x.stop_ms, 0), "           \
	"coalesce(x.meter_stop_wh, 0) FROM sites t JOIN stations s ON s.site_id = t.id "           \
	"JOIN sessions x ON x.station_id = s.id WHERE ($1::text IS NULL OR t.id = $1::text) "
#define RESV_COLS                                                                                  \
	"id, station_id, evse_id, id_tag, expiry_ms, status, coalesce(session_id, 0), "            \
	"created_ms, updated_ms"
#define CERT_COLS "id, station_id, serial, type, issued_ms, not_after_ms, renew_requested_ms, pem"
#define SWAP_PACK_COLS                                                                             \
	"serial, station_id, type, capacity_wh, soc, soh, cycles, location, evse_id, vehicle, "    \
	"production_ms, in_ms, flagged, updated_ms, ready_ms, ready_set_ms"
#define SWAP_ORDER_SET_COLS                                                                        \
	"station_id, request_id, vehicle, booking_id, packs_out, packs_in, soc_out, soc_in, "      \
	"energy_out_wh, energy_in_wh, delta_wh, tier, price_fen_per_mwh, cost_fen, state, "        \
	"promised_soc, created_ms, in_ms, out_ms, done_ms"

/* SQLite's LIMIT < 0 is "no limit" and its OFFSET < 0 is 0; PostgreSQL refuses both. */
#define LIMIT_OFFSET(l, o)                                                                         \
	"LIMIT CASE WHEN " l "::bigint < 0 THEN NULL ELSE " l "::bigint END "                      \
	"OFFSET GREATEST(" o "::bigint, 0)"

/* Every statement, prepared once per connection as "p<index>". */
/* clang-format off */
#define PG_STATEMENTS(X)                                                                      \
	X(ST_BEGIN, "BEGIN")                                                                  \
	X(ST_COMMIT, "COMMIT")                                                                \
	X(ST_ROLLBACK, "ROLLBACK")                                                            \
	X(ST_SCHEMA_VERSION, "SELECT coalesce(max(version), 0) FROM schema_version")          \
	X(ST_SITE_PUT, "INSERT INTO sites(id, kind, created_ms) VALUES ($1, $2, $3) "         \
		       "ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind")                 \
	X(ST_STATION_GET, "SELECT s.id, coalesce(s.site_id, ''), t.kind, s.registration, "     \
			  "coalesce(s.password_hash, '') FROM stations s "                    \
			  "LEFT JOIN sites t ON t.id = s.site_id WHERE s.id = $1")            \
	X(ST_STATION_CREATE, "INSERT INTO stations(id, registration, created_ms) "             \
			     "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")                    \
	X(ST_STATION_PUT, "INSERT INTO stations(id, site_id, password_hash, created_ms) "      \
			  "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET "           \
			  "site_id = EXCLUDED.site_id, password_hash = EXCLUDED.password_hash") \
	X(ST_STATION_BOOT, "UPDATE stations SET protocol = $2, vendor = $3, model = $4, "      \
			   "serial = $5, box_serial = $6, firmware = $7, iccid = $8, "        \
			   "imsi = $9, meter_type = $10, meter_serial = $11, "                \
			   "last_boot_ms = $12, last_seen_ms = $12, online = true WHERE id = $1") \
	X(ST_STATION_REG, "UPDATE stations SET registration = $2 WHERE id = $1")               \
	/* nodes: offline here while another node holds it (a takeover) stays online */       \
	X(ST_STATION_SEEN, "UPDATE stations SET online = $2 OR EXISTS (SELECT 1 FROM "         \
			   "station_owner o WHERE o.station_id = $1), last_seen_ms = $3, "    \
			   "protocol = coalesce($4, protocol) WHERE id = $1")                 \
	/* nodes: the same, outside the group, only if no other transaction holds the row */ \
	X(ST_STATION_SEEN_FREE, "UPDATE stations SET online = $2 OR EXISTS (SELECT 1 FROM "    \
				"station_owner o WHERE o.station_id = $1), last_seen_ms = $3, " \
				"protocol = coalesce($4, protocol) WHERE id IN (SELECT id "    \
				"FROM stations WHERE id = $1 FOR UPDATE SKIP LOCKED)")         \
	X(ST_STATION_EVENT, "INSERT INTO station_events(station_id, kind, status, ts_ms) "     \
			    "VALUES ($1, $2, $3, $4)")                                        \
	X(ST_STATION_FW, "UPDATE stations SET firmware_status = $2 WHERE id = $1")             \
	X(ST_STATION_DIAG, "UPDATE stations SET diagnostics_status = $2 WHERE id = $1")        \
	/* nodes: at start a node lets go of its own stations only */                            \
	X(ST_OWNERS_DROP, "DELETE FROM station_owner WHERE node_id = $1")                      \
	X(ST_STATIONS_OFFLINE, "UPDATE stations SET online = false WHERE online AND NOT "      \
			       "EXISTS (SELECT 1 FROM station_owner o WHERE o.station_id = "  \
			       "stations.id AND " PG_OWNER_LIVE("o") ")")                      \
	X(ST_STATIONS_LIST, "SELECT " STATION_COLS " FROM stations s LEFT JOIN sites t ON "    \
			    "t.id = s.site_id ORDER BY s.id " LIMIT_OFFSET("$1", "$2"))              \
	X(ST_STATION_ONE, "SELECT " STATION_COLS " FROM stations s LEFT JOIN sites t ON "      \
			  "t.id = s.site_id WHERE s.id = $1")                                 \
	X(ST_CONNECTORS_LIST, "SELECT connector_id, status, error_code, info, vendor_error, "  \
			      "updated_ms, evse_id FROM connectors WHERE station_id = $1 "     \
			      "ORDER BY evse_id, connector_id")                                \
	X(ST_TOKEN_GET, "SELECT token, status, coalesce(expiry_ms, 0), coalesce(parent, ''), " \
			"coalesce(site_id, '') FROM id_tokens WHERE token = $1")              \
	X(ST_TOKEN_PUT, "INSERT INTO id_tokens(token, status, expiry_ms, parent, site_id) "    \
			"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token) DO UPDATE SET "      \
			"status = EXCLUDED.status, expiry_ms = EXCLUDED.expiry_ms, "          \
			"parent = EXCLUDED.parent, site_id = EXCLUDED.site_id")               \
	X(ST_SESSION_REPLAY, "SELECT id FROM sessions WHERE station_id = $1 AND evse_id = $2 " \
			     "AND id_tag = $3 AND start_ms = $4 AND meter_start_wh = $5 "     \
			     "AND station_tx_id IS NULL")                                     \
	/* the unique indexes sessions_replay and sessions_station_tx are the session keys */ \
	X(ST_SESSION_INSERT, "INSERT INTO sessions(station_id, connector_id, id_tag, "         \
			     "auth_status, start_ms, meter_start_wh, reservation_id, "         \
			     "created_ms, evse_id, station_tx_id) VALUES ($1, $2, $3, $4, $5, " \
			     "$6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id")       \
	X(ST_SESSION_STATE, "SELECT " STATE_COLS " FROM sessions WHERE id = $1")               \
	X(ST_SESSION_STOP, "UPDATE sessions SET stop_ms = $2, meter_stop_wh = $3, "            \
			   "stop_reason = $4, stop_id_tag = $5 WHERE id = $1 AND stop_ms IS NULL") \
	X(ST_SESSION_TAG, "SELECT id_tag FROM sessions WHERE id = $1")                         \
	X(ST_SESSIONS_LIST, "SELECT " SESSION_COLS " FROM sessions WHERE "                     \
			    "($1::text IS NULL OR station_id = $1::text) AND ($2::int < 0 OR " \
			    "(stop_ms IS NULL) = ($2::int = 1)) ORDER BY id DESC " LIMIT_OFFSET("$3", "$4")) \
	X(ST_SESSION_GET, "SELECT " SESSION_COLS " FROM sessions WHERE id = $1")               \
	/* one round trip: 1 if stored, else 0 and the value kept under the key (NULL when    \
	 * the row is not in this statement's snapshot: ST_SAMPLE_STORED then) */              \
	X(ST_SAMPLE_ADD, "WITH ins AS (INSERT INTO meter_values(session_id, station_id, "      \
			 "evse_id, ts_ms, measurand, phase, unit, context, location, format, " \
			 "value, signed_data, signing_method, encoding_method, public_key) "   \
			 "VALUES ($1, $2, $3, $4, $5, coalesce($6, ''), $7, coalesce($8, ''), " \
			 "coalesce($9, ''), $10, $11, $12, $13, $14, $15) "                    \
			 "ON CONFLICT DO NOTHING RETURNING 1) "                                \
			 "SELECT (SELECT count(*) FROM ins), (SELECT value FROM meter_values " \
			 "WHERE " SAMPLE_KEY_WHERE ")")                                       \
	X(ST_SAMPLE_STORED, "SELECT value FROM meter_values WHERE station_id = $1 AND "        \
			    "evse_id = $2 AND ts_ms = $3 AND measurand = $4 AND "              \
			    "phase = coalesce($5, '') AND context = coalesce($6, '') AND "     \
			    "location = coalesce($7, '')")                                     \
	/* one round trip for a MeterValues' readings ($1..$15: arrays in ST_SAMPLE_ADD's order,  \
	 * keys unique): per reading in order, whether it was stored, and the value already kept  \
	 * under its key (NULL when stored, or when the row is not in this statement's snapshot); \
	 * the key is looked up again only for a reading not stored (a gated lateral scan) */      \
	X(ST_SAMPLES_ADD, "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[], "          \
			  "$3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], "       \
			  "$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], "     \
			  "$13::text[], $14::text[], $15::text[]) WITH ORDINALITY AS v(sid, "   \
			  "st, ev, ts, ms, ph, un, cx, lo, fo, va, sd, sm, em, pk, i)), "       \
			  "ins AS (INSERT INTO meter_values(session_id, station_id, evse_id, "  \
			  "ts_ms, measurand, phase, unit, context, location, format, value, "   \
			  "signed_data, signing_method, encoding_method, public_key) SELECT "   \
			  "sid, st, ev, ts, ms, coalesce(ph, ''), un, coalesce(cx, ''), "       \
			  "coalesce(lo, ''), fo, va, sd, sm, em, pk FROM v ORDER BY i "         \
			  "ON CONFLICT DO NOTHING RETURNING station_id, evse_id, ts_ms, "       \
			  "measurand, phase, context, location) "                               \
			  "SELECT v.i, ins.ts_ms IS NOT NULL, m.value FROM v LEFT JOIN ins ON " \
			  "ins.station_id = v.st AND ins.evse_id = v.ev AND ins.ts_ms = v.ts "  \
			  "AND ins.measurand = v.ms AND ins.phase = coalesce(v.ph, '') AND "    \
			  "ins.context = coalesce(v.cx, '') AND ins.location = "               \
			  "coalesce(v.lo, '') LEFT JOIN LATERAL (SELECT m.value FROM "          \
			  "meter_values m WHERE ins.ts_ms IS NULL AND m.station_id = v.st "     \
			  "AND m.evse_id = v.ev AND m.ts_ms = v.ts AND m.measurand = v.ms AND " \
			  "m.phase = coalesce(v.ph, '') AND m.context = coalesce(v.cx, '') "    \
			  "AND m.location = coalesce(v.lo, '')) m ON true ORDER BY v.i")       \
	X(ST_SAMPLE_CONFLICT_ADD, "INSERT INTO sample_conflicts(session_id, station_id, "      \
				  "evse_id, ts_ms, measurand, phase, context, location, "      \
				  "stored_value, value, received_ms) VALUES ($1, $2, $3, $4, " \
				  "$5, coalesce($6, ''), coalesce($7, ''), coalesce($8, ''), " \
				  "$9, $10, $11)")                                             \
	X(ST_SAMPLE_CONFLICT_COUNT, "UPDATE sessions SET sample_conflicts = "                  \
				    "sample_conflicts + 1 WHERE id = $1")                      \
	X(ST_SAMPLE_CONFLICTS_SESSION, "SELECT sample_conflicts FROM sessions WHERE id = $1")  \
	X(ST_SAMPLE_CONFLICTS_TOTAL, "SELECT count(*) FROM sample_conflicts")                  \
	X(ST_SAMPLES_LIST, "SELECT station_id, evse_id, ts_ms, measurand, nullif(phase, ''), " \
			   "unit, nullif(context, ''), nullif(location, ''), format, value, "  \
			   "signed_data, signing_method, encoding_method, public_key "         \
			   "FROM meter_values WHERE session_id = $1 ORDER BY ts_ms, id")       \
	X(ST_ORPHAN_ADD, "INSERT INTO orphan_stops(station_id, transaction_id, id_tag, "       \
			 "meter_stop_wh, ts_ms, reason, received_ms) "                         \
			 "VALUES ($1, $2, $3, $4, $5, $6, $7)")                                \
	X(ST_ORPHANS_LIST, "SELECT station_id, transaction_id, id_tag, meter_stop_wh, ts_ms, " \
			   "reason, received_ms FROM orphan_stops ORDER BY id DESC " LIMIT_OFFSET("$1", "0"))  \
	X(ST_TX_LOOKUP, "SELECT " STATE_COLS " FROM sessions WHERE station_id = $1 "           \
			"AND station_tx_id = $2")                                             \
	X(ST_TX_EVENT_ADD, "INSERT INTO tx_events(session_id, seq_no, event_type, "            \
			   "trigger_reason, ts_ms, offline, received_ms) VALUES ($1, $2, $3, " \
			   "$4, $5, $6, $7) ON CONFLICT DO NOTHING")                          \
	/* incremental, so a long session costs the same per event as a short one */          \
	X(ST_TX_SEQ_UPDATE, "UPDATE sessions SET seq_min = LEAST(coalesce(seq_min, $2), $2), " \
			    "seq_max = GREATEST(coalesce(seq_max, $2), $2), "                 \
			    "seq_count = seq_count + 1, offline_events = offline_events + $3, " \
			    "seq_gaps = GREATEST(coalesce(seq_max, $2), $2) - "               \
			    "LEAST(coalesce(seq_min, $2), $2) + 1 - (seq_count + 1) WHERE id = $1") \
	X(ST_TX_SET_START, "UPDATE sessions SET start_ms = $2, meter_start_wh = CASE WHEN "    \
			   "$3::boolean THEN $4::bigint ELSE meter_start_wh END WHERE id = $1") \
	X(ST_TX_SET_TOKEN, "UPDATE sessions SET id_tag = $2, auth_status = $3 WHERE id = $1")  \
	X(ST_TX_SET_EVSE, "UPDATE sessions SET evse_id = $2, connector_id = $3 WHERE id = $1")  \
	X(ST_TX_METER_LAST, "UPDATE sessions SET meter_last_wh = $2, meter_last_ms = $3 "      \
			    "WHERE id = $1 AND (meter_last_ms IS NULL OR meter_last_ms <= $3)") \
	X(ST_VARIABLE_PUT, "INSERT INTO device_model(station_id, component, "                  \
			   "component_instance, evse_id, connector_id, variable, "             \
			   "variable_instance, attribute_type, value, mutability, data_type, " \
			   "unit, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, "            \
			   "coalesce($8, 'Actual'), $9, $10, $11, $12, $13) ON CONFLICT "      \
			   "(station_id, component, component_instance, evse_id, "            \
			   "connector_id, variable, variable_instance, attribute_type) "       \
			   "DO UPDATE SET value = EXCLUDED.value, "                           \
			   "mutability = EXCLUDED.mutability, "                               \
			   "data_type = coalesce(EXCLUDED.data_type, device_model.data_type), " \
			   "unit = coalesce(EXCLUDED.unit, device_model.unit), "              \
			   "updated_ms = EXCLUDED.updated_ms")                                \
	X(ST_VARIABLES_LIST, "SELECT component, component_instance, evse_id, connector_id, "   \
			     "variable, variable_instance, attribute_type, value, mutability, " \
			     "data_type, unit FROM device_model WHERE station_id = $1 "        \
			     "ORDER BY component, component_instance, evse_id, connector_id, " \
			     "variable, variable_instance, attribute_type")                    \
	X(ST_REPORT_PART, "INSERT INTO reports(station_id, request_id, parts, last_seq_no, "   \
			  "complete, updated_ms) VALUES ($1, $2, 1, $3, $4::boolean, $5) "     \
			  "ON CONFLICT (station_id, request_id) DO UPDATE SET "               \
			  "parts = reports.parts + 1, "                                       \
			  "last_seq_no = GREATEST(reports.last_seq_no, $3), "                 \
			  "complete = reports.complete OR $4::boolean, updated_ms = $5")      \
	X(ST_REPORT_STATUS, "SELECT parts, complete FROM reports WHERE station_id = $1 "       \
			    "AND request_id = $2")                                            \
	X(ST_NOTICE_ADD, "INSERT INTO station_notices(station_id, kind, ts_ms, detail) "        \
			 "VALUES ($1, $2, $3, $4)")                                            \
	/* ---- command log (0003_command_log.sql) */                                          \
	X(ST_COMMAND_ADD, "INSERT INTO command_log(station_id, who, kind, action, request, "   \
			  "status, station_status, error_code, detail, response, "            \
			  "requested_ms, answered_ms, latency_ms) VALUES ($1, $2, $3, $4, "   \
			  "$5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")             \
	X(ST_COMMANDS_LIST, "SELECT id, station_id, who, kind, action, request, status, "      \
			    "station_status, error_code, detail, response, requested_ms, "     \
			    "answered_ms, latency_ms FROM command_log WHERE $1::text IS NULL " \
			    "OR station_id = $1::text ORDER BY id DESC " LIMIT_OFFSET("$2", "$3"))   \
	/* ---- operator accounts (0006_accounts.sql) */                                       \
	X(ST_ACCOUNT_CREATE, "INSERT INTO accounts(name, role, pw_hash, disabled, created_ms, " \
			     "updated_ms) VALUES ($1, $2, $3, $4, $5, $6) "                   \
			     "ON CONFLICT DO NOTHING")                                        \
	X(ST_ACCOUNT_GET, "SELECT name, role, pw_hash, disabled, created_ms, updated_ms "      \
			  "FROM accounts WHERE name = $1")                                    \
	X(ST_ACCOUNT_UPDATE, "UPDATE accounts SET role = $2, pw_hash = $3, disabled = $4, "    \
			     "updated_ms = $5 WHERE name = $1")                               \
	X(ST_ACCOUNT_DELETE, "DELETE FROM accounts WHERE name = $1")                           \
	X(ST_ACCOUNTS_LIST, "SELECT name, role, pw_hash, disabled, created_ms, updated_ms "    \
			    "FROM accounts ORDER BY name")                                    \
	/* an unknown account is a no-op row count (SQLite: its foreign key, -EEXIST) */       \
	X(ST_AUTH_SESSION_ADD, "INSERT INTO auth_sessions(hash, account, csrf, created_ms, "   \
			       "last_ms, expires_ms) SELECT $1::text, $2::text, $3::text, "  \
			       "$4::bigint, $4::bigint, $5::bigint WHERE "\
			       "EXISTS (SELECT 1 FROM accounts WHERE name = $2) "             \
			       "ON CONFLICT DO NOTHING")                                      \
	X(ST_AUTH_SESSION_GET, "SELECT s.account, a.role, a.disabled, s.csrf, s.created_ms, "  \
			       "s.last_ms, s.expires_ms FROM auth_sessions s JOIN accounts a " \
			       "ON a.name = s.account WHERE s.hash = $1")                     \
	X(ST_AUTH_SESSION_TOUCH, "UPDATE auth_sessions SET last_ms = $2 WHERE hash = $1")      \
	X(ST_AUTH_SESSIONS_DELETE, "DELETE FROM auth_sessions WHERE hash = $1::text OR "       \
				   "account = $2::text OR ($1::text IS NULL AND "             \
				   "$2::text IS NULL AND expires_ms < $3)")                   \
	X(ST_API_TOKEN_ADD, "INSERT INTO api_tokens(name, role, hash, created_by, created_ms) " \
			    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id") \
	X(ST_API_TOKEN_GET, "SELECT id, name, role, created_by, created_ms, last_used_ms, "    \
			    "revoked_ms FROM api_tokens WHERE hash = $1")                     \
	X(ST_API_TOKEN_TOUCH, "UPDATE api_tokens SET last_used_ms = $2 WHERE id = $1")         \
	X(ST_API_TOKENS_LIST, "SELECT id, name, role, created_by, created_ms, last_used_ms, "  \
			      "revoked_ms FROM api_tokens ORDER BY id")                       \
	X(ST_API_TOKEN_REVOKE, "UPDATE api_tokens SET revoked_ms = $2 WHERE id = $1 AND "      \
			       "revoked_ms = 0")                                              \
	X(ST_AUDIT_ADD, "INSERT INTO audit_log(ts_ms, who, method, path, status, peer) "       \
			"VALUES ($1, $2, $3, $4, $5, $6)")                                    \
	X(ST_AUDIT_LIST, "SELECT id, ts_ms, who, method, path, status, peer FROM audit_log "   \
			 "ORDER BY id DESC " LIMIT_OFFSET("$1", "$2"))                        \
	/* ---- tariffs (0004_tariffs.sql) */                                                  \
	X(ST_TARIFF_PUT, "INSERT INTO tariffs(id, doc, updated_ms) VALUES ($1, $2, $3) "       \
			 "ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, "                \
			 "updated_ms = EXCLUDED.updated_ms")                                  \
	X(ST_TARIFFS_LIST, "SELECT id, doc, updated_ms FROM tariffs WHERE $1::text IS NULL "   \
			   "OR id = $1::text ORDER BY id")                                    \
	X(ST_SITE_TARIFF_SET, "UPDATE sites SET tariff_id = $2 WHERE id = $1")                 \
	X(ST_SITE_TARIFFS_LIST, "SELECT id, kind, coalesce(tariff_id, '') FROM sites WHERE "   \
				"$1::text IS NULL OR id = $1::text ORDER BY id")              \
	X(ST_ENERGY_SESSIONS, "SELECT " ENERGY_SESSION_COLS "AND x.start_ms >= $2::bigint - $4::bigint "       \
			      "AND x.start_ms < $3 AND (x.stop_ms IS NULL OR x.stop_ms >= $2) " \
			      "UNION ALL SELECT " ENERGY_SESSION_COLS "AND x.stop_ms IS NULL " \
			      "AND x.start_ms < $2::bigint - $4::bigint ORDER BY 1")                          \
	X(ST_ENERGY_SAMPLES, "SELECT ts_ms, measurand, unit, format, value FROM meter_values " \
			     "WHERE session_id = $1 AND measurand IN "                        \
			     "('Energy.Active.Import.Register', "                             \
			     "'Energy.Active.Export.Register') AND phase = '' ORDER BY ts_ms, id") \
	/* ---- planner (0005_planner.sql): limit_kw is kW as a double, as on SQLite */         \
	X(ST_SITE_GET, "SELECT id, kind, floor(limit_kw * 1000 + 0.5)::bigint FROM sites "     \
		       "WHERE id = $1")                                                       \
	X(ST_SITE_LIMIT, "UPDATE sites SET limit_kw = CASE WHEN $2::bigint < 0 THEN NULL "     \
			 "ELSE $2::bigint / 1000.0 END WHERE id = $1")                        \
	X(ST_NEEDS_PUT, "INSERT INTO session_needs(session_id, source, departure_ms, "         \
			"energy_wh, target_soc, capacity_wh, soc, v2g, soc_floor, "           \
			"max_charge_w, max_discharge_w, bidirectional, meter_wh, export_wh, " \
			"updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "  \
			"$12, $13, $14, $15) ON CONFLICT (session_id) DO UPDATE SET "         \
			"source = EXCLUDED.source, departure_ms = EXCLUDED.departure_ms, "    \
			"energy_wh = EXCLUDED.energy_wh, target_soc = EXCLUDED.target_soc, "  \
			"capacity_wh = EXCLUDED.capacity_wh, soc = EXCLUDED.soc, "            \
			"v2g = EXCLUDED.v2g, soc_floor = EXCLUDED.soc_floor, "                \
			"max_charge_w = EXCLUDED.max_charge_w, "                              \
			"max_discharge_w = EXCLUDED.max_discharge_w, "                        \
			"bidirectional = EXCLUDED.bidirectional, "                            \
			"meter_wh = EXCLUDED.meter_wh, export_wh = EXCLUDED.export_wh, "      \
			"updated_ms = EXCLUDED.updated_ms")                                   \
	X(ST_NEEDS_GET, "SELECT source, coalesce(departure_ms, -1), coalesce(energy_wh, -1), " \
			"coalesce(target_soc, -1), coalesce(capacity_wh, -1), "               \
			"coalesce(soc, -1), v2g, coalesce(soc_floor, -1), "                   \
			"coalesce(max_charge_w, -1), coalesce(max_discharge_w, -1), "         \
			"bidirectional, coalesce(meter_wh, -1), coalesce(export_wh, -1), "    \
			"updated_ms FROM session_needs WHERE session_id = $1")                \
	/* a value that is not a number counts 0, as SQLite's CAST does */                     \
	X(ST_SITE_SESSIONS, "SELECT x.id, x.station_id, x.station_tx_id, x.evse_id, "          \
			    "x.start_ms, trunc(coalesce((SELECT max(CASE WHEN m.value ~ "      \
			    "'^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' " \
			    "THEN m.value::double precision ELSE 0 END * (CASE WHEN m.unit = " \
			    "'kWh' THEN 1000 ELSE 1 END)) FROM meter_values m WHERE "          \
			    "m.session_id = x.id AND m.measurand = "                          \
			    "'Energy.Active.Import.Register' AND m.phase = ''), "             \
			    "x.meter_last_wh, x.meter_start_wh, -1))::bigint, "               \
			    "coalesce(x.meter_start_wh, -1), coalesce(e.last_wh, -1), "       \
			    "coalesce(e.first_wh, -1) FROM sessions x JOIN stations s ON "    \
			    "s.id = x.station_id LEFT JOIN session_export e ON "              \
			    "e.session_id = x.id WHERE s.site_id = $1 AND x.stop_ms IS NULL " \
			    "ORDER BY x.id")                                                  \
	X(ST_SESSION_EXPORT, "INSERT INTO session_export(session_id, first_wh, last_wh, "      \
			     "last_ms) VALUES ($1, $2, $2, $3) ON CONFLICT (session_id) DO "  \
			     "UPDATE SET first_wh = LEAST(session_export.first_wh, $2), "     \
			     "last_wh = GREATEST(session_export.last_wh, $2), "               \
			     "last_ms = GREATEST(session_export.last_ms, $3)")                \
	X(ST_GRID_EVENT_ADD, "INSERT INTO grid_events(sites, start_ms, end_ms, reduce_w, "     \
			     "export_w, bonus_fen_per_kwh, created_ms) VALUES ($1, $2, $3, "  \
			     "$4, $5, $6, $7) RETURNING id")                                  \
	X(ST_GRID_EVENTS_LIST, "SELECT id, sites, start_ms, end_ms, reduce_w, export_w, "      \
			       "bonus_fen_per_kwh, created_ms FROM grid_events WHERE "        \
			       "end_ms > $2 AND ($1::text IS NULL OR strpos(',' || sites || " \
			       "',', ',' || $1::text || ',') > 0) ORDER BY start_ms, id")     \
	X(ST_SITE_PLAN_PUT, "INSERT INTO site_plans(site_id, planned_ms, plan) VALUES ($1, "   \
			    "$2, $3) ON CONFLICT (site_id) DO UPDATE SET "                    \
			    "planned_ms = EXCLUDED.planned_ms, plan = EXCLUDED.plan")         \
	X(ST_SITE_PLAN_GET, "SELECT site_id, planned_ms, plan FROM site_plans "                \
			    "WHERE site_id = $1")                                             \
	X(ST_SESSION_PLAN_PUT, "INSERT INTO session_plans(session_id, site_id, planned_ms, "   \
			       "plan) VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO "   \
			       "UPDATE SET site_id = EXCLUDED.site_id, "                      \
			       "planned_ms = EXCLUDED.planned_ms, plan = EXCLUDED.plan")      \
	X(ST_SESSION_PLAN_GET, "SELECT site_id, planned_ms, plan FROM session_plans "          \
			       "WHERE session_id = $1")                                       \
	X(ST_SITE_ENERGY, "SELECT m.session_id, m.station_id, m.evse_id, m.ts_ms, "            \
			  "m.measurand, m.unit, m.value FROM meter_values m JOIN stations s " \
			  "ON s.id = m.station_id WHERE s.site_id = $1 AND m.session_id IS "  \
			  "NOT NULL AND m.ts_ms >= $2 AND m.ts_ms < $3 AND m.phase = '' AND " \
			  "m.measurand IN ('Energy.Active.Import.Register', "                 \
			  "'Energy.Active.Export.Register') ORDER BY m.session_id, m.ts_ms, m.id") \
	X(ST_CAP_PUT, "INSERT INTO charging_capabilities(model, caps, updated_ms) VALUES "     \
		      "($1, $2, $3) ON CONFLICT (model) DO UPDATE SET caps = EXCLUDED.caps, "  \
		      "updated_ms = EXCLUDED.updated_ms")                                     \
	X(ST_CAP_GET, "SELECT model, updated_ms, caps FROM charging_capabilities "             \
		      "WHERE model = $1")                                                     \
	/* ---- dash (0007_api_indexes.sql); stations_query and sessions_query are built per  \
	 * call (their WHERE depends on the filters) */                                        \
	X(ST_SAMPLES_PAGE, "SELECT station_id, evse_id, ts_ms, measurand, nullif(phase, ''), " \
			   "unit, nullif(context, ''), nullif(location, ''), format, value, "  \
			   "signed_data, signing_method, encoding_method, public_key, id "     \
			   "FROM meter_values WHERE session_id = $1 AND (ts_ms, id) > ($2::bigint, "\
			   "$3::bigint) AND ($4::text IS NULL OR measurand = $4::text) "\
			   "ORDER BY ts_ms, id " LIMIT_OFFSET("$5", "0"))                     \
	X(ST_STATION_HISTORY, "SELECT 'status', kind, status, ts_ms, id FROM station_events "  \
			      "WHERE station_id = $1 UNION ALL SELECT 'notice', kind, detail, " \
			      "ts_ms, id FROM station_notices WHERE station_id = $1 "         \
			      "ORDER BY 4 DESC, 5 DESC " LIMIT_OFFSET("$2", "$3"))            \
	X(ST_CONNECTORS_QUERY, "SELECT connector_id, status, error_code, info, vendor_error, " \
			       "updated_ms, evse_id, station_id FROM connectors WHERE "       \
			       "$1::text IS NULL OR status = $1::text ORDER BY station_id, "  \
			       "evse_id, connector_id " LIMIT_OFFSET("$2", "$3"))             \
	X(ST_SUMMARY_STATIONS, "SELECT t.kind, s.registration, " PG_ONLINE ", count(*) FROM " \
			       "stations s LEFT JOIN sites t ON t.id = s.site_id "            \
			       "GROUP BY 1, 2, 3")                                            \
	X(ST_SUMMARY_SESSIONS, "SELECT count(*), coalesce(sum(GREATEST(0, coalesce("          \
			       "meter_stop_wh, meter_last_wh, meter_start_wh) - "             \
			       "meter_start_wh)), 0), (SELECT count(*) FROM sessions WHERE "  \
			       "stop_ms IS NULL) FROM sessions WHERE start_ms >= $1")         \
	X(ST_SUMMARY_CONNECTORS, "SELECT status, count(*) FROM connectors GROUP BY status "    \
				 "ORDER BY 2 DESC")                                           \
	/* ---- security (0008_station_security.sql) */                                        \
	X(ST_SECURITY_GET, "SELECT security_profile, password_hash, cert_cn, "                 \
			   "cert_fingerprint FROM stations WHERE id = $1")                    \
	X(ST_SECURITY_SET, "UPDATE stations SET security_profile = CASE WHEN $2::int < 0 "     \
			   "THEN security_profile ELSE $2::int END, password_hash = CASE "    \
			   "WHEN $3::text IS NULL THEN password_hash WHEN $3::text = '' THEN " \
			   "NULL ELSE $3::text END, cert_cn = CASE WHEN $4::text IS NULL "    \
			   "THEN cert_cn WHEN $4::text = '' THEN NULL ELSE $4::text END, "    \
			   "cert_fingerprint = CASE WHEN $5::text IS NULL THEN "              \
			   "cert_fingerprint WHEN $5::text = '' THEN NULL ELSE $5::text END " \
			   "WHERE id = $1")                                                   \
	X(ST_COUNT_REGISTRATION, "SELECT count(*) FROM stations WHERE registration = $1")      \
	/* ---- sites (0011_sites.sql) */                                                      \
	X(ST_SITES_LIST, "SELECT t.id, t.kind, t.name, t.location, t.heartbeat_s, "            \
			 "t.local_list, t.local_list_max, t.reservations, "                   \
			 "t.reservation_max_s, floor(t.limit_kw * 1000 + 0.5)::bigint, "      \
			 "coalesce(t.tariff_id, ''), t.created_ms, (SELECT count(*) FROM "    \
			 "stations s WHERE s.site_id = t.id), (SELECT count(*) FROM "         \
			 "stations s WHERE s.site_id = t.id AND " PG_ONLINE "), "             \
			 "coalesce(t.swap_soh_flag_below, 0), coalesce(t.swap_promised_soc, " \
			 "0) FROM sites t WHERE $1::text IS NULL OR t.id = $1::text ORDER BY " \
			 "t.id")                                                              \
	X(ST_SITE_CREATE, "INSERT INTO sites(id, kind, name, location, heartbeat_s, "          \
			  "local_list, local_list_max, reservations, reservation_max_s, "     \
			  "swap_soh_flag_below, swap_promised_soc, created_ms) VALUES ($1, "  \
			  "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO "    \
			  "NOTHING")                                                          \
	X(ST_SITE_UPDATE, "UPDATE sites SET kind = $2, name = $3, location = $4, "             \
			  "heartbeat_s = $5, local_list = $6, local_list_max = $7, "          \
			  "reservations = $8, reservation_max_s = $9, swap_soh_flag_below = " \
			  "$10, swap_promised_soc = $11 WHERE id = $1")                       \
	X(ST_SITE_REFS, "SELECT (SELECT count(*) FROM sites WHERE id = $1), (SELECT count(*) " \
			"FROM stations WHERE site_id = $1) + (SELECT count(*) FROM id_tokens " \
			"WHERE site_id = $1)")                                                \
	X(ST_SITE_DELETE, "DELETE FROM sites WHERE id = $1")                                   \
	X(ST_RESV_PUT, "INSERT INTO reservations(id, station_id, evse_id, id_tag, expiry_ms, " \
		       "status, session_id, created_ms, updated_ms) VALUES ($1, $2, $3, $4, "  \
		       "$5, $6, nullif($7::bigint, 0), $8, $9) ON CONFLICT (id) DO UPDATE SET " \
		       "station_id = EXCLUDED.station_id, evse_id = EXCLUDED.evse_id, "       \
		       "id_tag = EXCLUDED.id_tag, expiry_ms = EXCLUDED.expiry_ms, "           \
		       "status = EXCLUDED.status, session_id = EXCLUDED.session_id, "         \
		       "created_ms = EXCLUDED.created_ms, updated_ms = EXCLUDED.updated_ms")  \
	X(ST_RESV_GET, "SELECT " RESV_COLS " FROM reservations WHERE id = $1")                 \
	X(ST_RESV_LIST, "SELECT " RESV_COLS " FROM reservations WHERE ($1::text IS NULL OR "   \
			"station_id = $1::text) AND (NOT $2::boolean OR status IN "           \
			"('Requested', 'Accepted')) ORDER BY id DESC " LIMIT_OFFSET("$3", "0")) \
	X(ST_RESV_DUE, "SELECT " RESV_COLS " FROM reservations WHERE status IN ('Requested', " \
		       "'Accepted') AND expiry_ms <= $1 ORDER BY expiry_ms")                  \
	X(ST_STATION_LOG_LIST, "SELECT kind, state, evse_id, connector_id, ts_ms, seq FROM "   \
			       "station_log WHERE seq IN (SELECT max(seq) FROM station_log "  \
			       "WHERE station_id = $1 AND ts_ms < $2 GROUP BY kind, evse_id, " \
			       "connector_id) UNION ALL SELECT kind, state, evse_id, "        \
			       "connector_id, ts_ms, seq FROM station_log WHERE station_id = " \
			       "$1 AND ts_ms >= $2 AND ts_ms < $3 ORDER BY 5, 6")             \
	X(ST_SESSIONS_LATE, "SELECT count(*) FROM sessions WHERE station_id = $1 AND "         \
			    "start_ms >= $2 AND start_ms < $3 AND (created_ms - start_ms > "  \
			    "$4 OR offline_events > 0)")                                      \
	/* the site's own tokens first, then unbound ones, each by token */                    \
	X(ST_SITE_TOKENS, "SELECT token, status, coalesce(expiry_ms, 0), coalesce(parent, '') " \
			  "FROM id_tokens WHERE site_id = $1 OR ($2::boolean AND site_id IS " \
			  "NULL) ORDER BY site_id IS NULL, token " LIMIT_OFFSET("$3", "0"))   \
	X(ST_LOCAL_LIST_VERSION, "SELECT version FROM local_lists WHERE station_id = $1")      \
	/* a station's list: arrays in its local_lists row, in token order (0023) */             \
	X(ST_LOCAL_LIST_ENTRIES, "SELECT u.t, u.s, u.e, u.p FROM local_lists l, "              \
				 "unnest(l.tokens, l.statuses, l.expiry, l.parents) AS "      \
				 "u(t, s, e, p) WHERE l.station_id = $1 ORDER BY u.t")        \
	/* an update in one statement: the list kept ($4 full: none), less the tokens removed  \
	 * ($9) and those set again, plus those set ($5..$8: arrays, tokens unique) */          \
	X(ST_LOCAL_LIST_SAVE, "WITH cur AS (SELECT u.t, u.s, u.e, u.p FROM local_lists l, "     \
			      "unnest(l.tokens, l.statuses, l.expiry, l.parents) AS "         \
			      "u(t, s, e, p) WHERE l.station_id = $1 AND NOT $4::boolean), "  \
			      "n AS (SELECT * FROM unnest($5::text[], $6::text[], "           \
			      "$7::bigint[], $8::text[]) AS u(t, s, e, p)), "                 \
			      "k AS (SELECT * FROM cur WHERE NOT (cur.t = ANY($9::text[])) "  \
			      "AND NOT EXISTS (SELECT 1 FROM n WHERE n.t = cur.t) UNION ALL " \
			      "SELECT * FROM n), a AS (SELECT "                               \
			      "coalesce(array_agg(t ORDER BY t), '{}') t, "                   \
			      "coalesce(array_agg(s ORDER BY t), '{}') s, "                   \
			      "coalesce(array_agg(e ORDER BY t), '{}') e, "                   \
			      "coalesce(array_agg(p ORDER BY t), '{}') p FROM k) "            \
			      "INSERT INTO local_lists(station_id, version, sent_ms, tokens, " \
			      "statuses, expiry, parents) SELECT $1, $2, $3, t, s, e, p "     \
			      "FROM a ON CONFLICT (station_id) DO UPDATE SET "                \
			      "version = EXCLUDED.version, sent_ms = EXCLUDED.sent_ms, "      \
			      "tokens = EXCLUDED.tokens, statuses = EXCLUDED.statuses, "      \
			      "expiry = EXCLUDED.expiry, parents = EXCLUDED.parents")         \
	/* ---- certificates (0010_certificates.sql) */                                        \
	X(ST_CERT_ADD, "INSERT INTO station_certificates(station_id, serial, type, issued_ms, " \
		       "not_after_ms, pem) VALUES ($1, $2, $3, $4, $5, $6)")                  \
	X(ST_CERTS_LIST, "SELECT " CERT_COLS " FROM station_certificates WHERE $1::text IS "   \
			 "NULL OR station_id = $1::text ORDER BY id DESC " LIMIT_OFFSET("$2", "0")) \
	X(ST_CERTS_EXPIRING, "SELECT " CERT_COLS " FROM station_certificates c WHERE id = "    \
			     "(SELECT max(id) FROM station_certificates WHERE station_id = "  \
			     "c.station_id) AND not_after_ms < $1 ORDER BY not_after_ms, id") \
	X(ST_CERT_RENEW_MARK, "UPDATE station_certificates SET renew_requested_ms = $2 "       \
			      "WHERE id = $1")                                                \
	X(ST_PASSWORD_SET, "UPDATE stations SET password_hash = $2 WHERE id = $1")             \
	X(ST_SECURITY_EVENTS, "SELECT kind, detail, ts_ms FROM station_notices WHERE "         \
			      "station_id = $1 AND kind = 'security' ORDER BY id DESC "       \
			      LIMIT_OFFSET("$2", "$3"))                                       \
	/* ---- swap (0012_swap.sql); a put replaces the pack (ready_ms with it), as SQLite's \
	 * INSERT OR REPLACE does */                                                           \
	X(ST_SWAP_PACK_PUT, "INSERT INTO swap_packs(serial, station_id, type, capacity_wh, "   \
			    "soc, soh, cycles, location, evse_id, vehicle, production_ms, "    \
			    "in_ms, flagged, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, " \
			    "$8, $9, $10, $11, $12, $13, $14) ON CONFLICT (serial) DO UPDATE " \
			    "SET station_id = EXCLUDED.station_id, type = EXCLUDED.type, "    \
			    "capacity_wh = EXCLUDED.capacity_wh, soc = EXCLUDED.soc, "        \
			    "soh = EXCLUDED.soh, cycles = EXCLUDED.cycles, "                  \
			    "location = EXCLUDED.location, evse_id = EXCLUDED.evse_id, "      \
			    "vehicle = EXCLUDED.vehicle, "                                    \
			    "production_ms = EXCLUDED.production_ms, in_ms = EXCLUDED.in_ms, " \
			    "flagged = EXCLUDED.flagged, updated_ms = EXCLUDED.updated_ms, "  \
			    "ready_ms = 0, ready_set_ms = 0")                                 \
	X(ST_SWAP_SOH_ADD, "INSERT INTO swap_pack_soh(serial, ts_ms, soh) SELECT $1::text, "   \
			   "$2::bigint, $3::double precision WHERE $3::double precision IS "  \
			   "DISTINCT FROM (SELECT soh FROM swap_pack_soh WHERE serial = "     \
			   "$1::text ORDER BY ts_ms DESC LIMIT 1) ON CONFLICT (serial, ts_ms) " \
			   "DO UPDATE SET soh = EXCLUDED.soh")                                \
	X(ST_SWAP_PACKS_LIST, "SELECT " SWAP_PACK_COLS " FROM swap_packs WHERE ($1::text IS "  \
			      "NULL OR station_id = $1::text) AND ($2::text IS NULL OR "      \
			      "serial = $2::text) ORDER BY serial")                           \
	X(ST_SWAP_SOH_LIST, "SELECT serial, ts_ms, soh FROM swap_pack_soh WHERE serial = $1 "  \
			    "ORDER BY ts_ms")                                                 \
	/* a replayed (station, request id) is a row count, not an error (-EEXIST) */          \
	X(ST_SWAP_ORDER_ADD, "INSERT INTO swap_orders(" SWAP_ORDER_SET_COLS ") VALUES ($1, "   \
			     "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, " \
			     "$16, $17, $18, $19, $20) ON CONFLICT (station_id, request_id) " \
			     "DO NOTHING RETURNING id")                                       \
	X(ST_SWAP_ORDER_SET, "UPDATE swap_orders SET (" SWAP_ORDER_SET_COLS ") = ($1, $2, "    \
			     "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, " \
			     "$17, $18, $19, $20) WHERE id = $21")                            \
	X(ST_SWAP_ORDER_GET, "SELECT id, " SWAP_ORDER_SET_COLS " FROM swap_orders WHERE "      \
			     "station_id = $1 AND request_id = $2")                           \
	X(ST_SWAP_ORDERS_LIST, "SELECT id, " SWAP_ORDER_SET_COLS " FROM swap_orders WHERE "    \
			       "($1::text IS NULL OR station_id = $1::text) AND created_ms >= " \
			       "$2 AND created_ms < $3 ORDER BY created_ms, id")              \
	X(ST_SWAP_BOOKING_ADD, "INSERT INTO swap_bookings(station_id, vehicle, due_ms, "       \
			       "min_soc, state, request_id, created_ms) VALUES ($1, $2, $3, " \
			       "$4, $5, $6, $7) RETURNING id")                                \
	X(ST_SWAP_BOOKING_SET, "UPDATE swap_bookings SET (station_id, vehicle, due_ms, "       \
			       "min_soc, state, request_id, created_ms) = ($1, $2, $3, $4, "  \
			       "$5, $6, $7) WHERE id = $8")                                   \
	X(ST_SWAP_BOOKINGS_LIST, "SELECT id, station_id, vehicle, due_ms, min_soc, state, "    \
				 "request_id, created_ms FROM swap_bookings WHERE ($1::text " \
				 "IS NULL OR station_id = $1::text) AND ($2::bigint = 0 OR "  \
				 "id = $2::bigint) AND due_ms >= $3 ORDER BY due_ms, id")     \
	/* a later deadline keeps the time the planner has had the earlier one */              \
	/* the partial index swap_bookings_open (0025) */                                       \
	X(ST_SWAP_BOOKINGS_OPEN, "SELECT id, station_id, vehicle, due_ms, min_soc, state, "    \
				 "request_id, created_ms FROM swap_bookings WHERE station_id " \
				 "= $1 AND state IN ('queued', 'requested') AND ($2::text IS " \
				 "NULL OR vehicle = $2::text) ORDER BY due_ms, created_ms, id") \
	X(ST_SWAP_READY_SET, "UPDATE swap_packs SET ready_set_ms = CASE WHEN ready_ms > 0 "    \
			     "AND $2::bigint > ready_ms THEN ready_set_ms ELSE $3::bigint END, " \
			     "ready_ms = $2::bigint WHERE serial = $1 AND ready_ms != $2::bigint") \
	/* ---- model capabilities (0016) */                                                    \
	X(ST_MCAPS_PUT, "INSERT INTO model_capabilities(vendor, model, learned, override, "    \
			"reason, updated_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT "    \
			"(vendor, model) DO UPDATE SET learned = EXCLUDED.learned, "          \
			"override = EXCLUDED.override, reason = EXCLUDED.reason, "            \
			"updated_ms = EXCLUDED.updated_ms")                                   \
	X(ST_MCAPS_GET, "SELECT vendor, model, learned, override, reason, updated_ms FROM "    \
			"model_capabilities WHERE vendor = $1 AND model = $2")                \
	X(ST_MCAPS_LIST, "SELECT vendor, model, learned, override, reason, updated_ms FROM "   \
			 "model_capabilities ORDER BY vendor, model")                         \
	X(ST_MCAPS_STATION, "SELECT coalesce(s.vendor, ''), coalesce(s.model, ''), "          \
			    "c.learned, c.override, c.reason, c.updated_ms FROM stations s "  \
			    "LEFT JOIN model_capabilities c ON c.vendor = "                   \
			    "coalesce(s.vendor, '') AND c.model = coalesce(s.model, '') "     \
			    "WHERE s.id = $1")                                                \
	/* ---- api admin (0015_api_admin.sql); NULL keeps a column, '' clears it */            \
	X(ST_TOKEN_DELETE, "DELETE FROM id_tokens WHERE token = $1")                           \
	X(ST_STATION_ADMIN_SET, "UPDATE stations SET site_id = CASE WHEN $2::text IS NULL "   \
				"THEN site_id ELSE nullif($2::text, '') END, notes = CASE "   \
				"WHEN $3::text IS NULL THEN notes ELSE nullif($3::text, '') " \
				"END, labels = CASE WHEN $4::text IS NULL THEN labels ELSE "  \
				"nullif($4::text, '') END, protocol = CASE WHEN $5::text IS " \
				"NULL THEN protocol ELSE nullif($5::text, '') END WHERE id = $1") \
	X(ST_STATION_NOTES_GET, "SELECT notes, labels FROM stations WHERE id = $1")            \
	X(ST_STATION_DELETE_CHECK, "SELECT EXISTS (SELECT 1 FROM stations WHERE id = $1), "   \
				   "EXISTS (SELECT 1 FROM sessions WHERE station_id = $1 AND " \
				   "stop_ms IS NULL), EXISTS (SELECT 1 FROM sessions WHERE "  \
				   "station_id = $1)")                                        \
	X(ST_STATION_DELETE_DM, "DELETE FROM device_model WHERE station_id = $1")              \
	X(ST_STATION_DELETE_LL, "DELETE FROM local_lists WHERE station_id = $1")               \
	X(ST_STATION_DELETE, "DELETE FROM stations WHERE id = $1")                             \
	/* ---- nodes (0014_station_owner.sql): ownership, routed commands, notifications */     \
	/* epochs come from one sequence (0021): they rise across a release and a new take */   \
	X(ST_OWNER_TAKE, "WITH t AS (INSERT INTO station_owner(station_id, node_id, epoch, "   \
			 "lease_until, conn_since) VALUES ($1, $2, "                          \
			 "nextval('station_owner_epoch'), " PG_NOW_MS " + $3::bigint, $4) "   \
			 "ON CONFLICT (station_id) DO UPDATE SET node_id = "                  \
			 "EXCLUDED.node_id, epoch = EXCLUDED.epoch, lease_until = "           \
			 "EXCLUDED.lease_until, conn_since = EXCLUDED.conn_since RETURNING "  \
			 "epoch) SELECT epoch, pg_notify('csms_owner', $1::text || E'\\t' || "   \
			 "epoch || E'\\t' || $2::text) FROM t")                                  \
	X(ST_OWNER_RELEASE, "DELETE FROM station_owner WHERE station_id = $1 AND node_id = $2 " \
			    "AND ($3::bigint IS NULL OR epoch = $3::bigint)")                 \
	/* the node's one lease row (0022), not a row per station: no station row is locked */  \
	X(ST_OWNERS_RENEW, "INSERT INTO cluster_nodes(node_id, lease_until) VALUES ($1, "      \
			   PG_NOW_MS " + $2::bigint) ON CONFLICT (node_id) DO UPDATE SET "    \
			   "lease_until = EXCLUDED.lease_until")                              \
	X(ST_OWNER_GET, "SELECT node_id, epoch FROM station_owner o WHERE station_id = $1 "    \
			"AND " PG_OWNER_LIVE("o"))                                            \
	X(ST_NOTIFY, "SELECT pg_notify($1, $2)")                                               \
	X(ST_RCMD_ADD, "WITH c AS (INSERT INTO node_commands(target_node, reply_node, "        \
		       "station_id, request, created_ms) VALUES ($1, $2, $3, $4, $5) "        \
		       "RETURNING id) SELECT id, pg_notify('csms_cmd', $1::text || E'\\t' || id) " \
		       "FROM c")                                                              \
	X(ST_RCMD_CLAIM, "UPDATE node_commands SET state = 'sent' WHERE id = $1 AND "          \
			 "target_node = $2 AND state = 'queued' RETURNING station_id, request") \
	X(ST_RCMD_DONE, "WITH d AS (UPDATE node_commands SET state = 'done', result = $2, "    \
			"done_ms = $3 WHERE id = $1 RETURNING id, reply_node) SELECT "        \
			"pg_notify('csms_cmd_done', reply_node || E'\\t' || id) FROM d")         \
	X(ST_RCMD_TAKE, "DELETE FROM node_commands WHERE id = $1 AND reply_node = $2 AND "     \
			"state = 'done' RETURNING result")                                    \
	/* nodes, version 10: the check before a CSMS-initiated CALL, node keys */            \
	X(ST_OWNER_HELD, "SELECT 1 FROM station_owner o WHERE station_id = $1 AND node_id = " \
			 "$2 AND epoch = $3::bigint AND " PG_OWNER_LIVE("o"))                  \
	X(ST_NODE_KEY_SET, "INSERT INTO node_keys(node_id, public_key, updated_ms) VALUES "    \
			   "($1, $2, " PG_NOW_MS ") ON CONFLICT (node_id) DO UPDATE SET "     \
			   "public_key = EXCLUDED.public_key, updated_ms = "                  \
			   "EXCLUDED.updated_ms")                                             \
	X(ST_NODE_KEY_GET, "SELECT public_key FROM node_keys WHERE node_id = $1")              \
	/* nodes, version 11: owners_check (renew, then reconcile with the stations held) */ \
	X(ST_OWNERS_RENEW_LIST, "WITH r AS (INSERT INTO cluster_nodes(node_id, lease_until) "   \
				"VALUES ($1, " PG_NOW_MS " + $2::bigint) ON CONFLICT "          \
				"(node_id) DO UPDATE SET lease_until = EXCLUDED.lease_until) " \
				"SELECT station_id, epoch FROM station_owner WHERE node_id = " \
				"$1")                                                          \
	X(ST_OWNER_ROW, "SELECT node_id, epoch FROM station_owner WHERE station_id = $1")      \
	/* a held station's row is gone: take it back unless another node took it meanwhile */  \
	X(ST_OWNER_RETAKE, "WITH t AS (INSERT INTO station_owner(station_id, node_id, epoch, " \
			   "lease_until, conn_since) VALUES ($1, $2, "                        \
			   "nextval('station_owner_epoch'), " PG_NOW_MS " + $3::bigint, $4) " \
			   "ON CONFLICT (station_id) DO NOTHING RETURNING epoch) SELECT "     \
			   "epoch, pg_notify('csms_owner', $1::text || E'\\t' || epoch || "    \
			   "E'\\t' || $2::text) FROM t")                                        \
	/* the group's station log and connector rows, one statement each (rows_flush); a     \
	 * connector's last status of the group wins, as one by one; keys in order, so two    \
	 * groups lock the rows they share in the same order */                                \
	X(ST_STATION_LOG_ROWS, "INSERT INTO station_log(station_id, kind, evse_id, "           \
			       "connector_id, state, ts_ms) SELECT s, k, e, c, st, t FROM "   \
			       "unnest($1::text[], $2::text[], $3::int[], $4::int[], "        \
			       "$5::text[], $6::bigint[]) WITH ORDINALITY AS "                \
			       "v(s, k, e, c, st, t, o) ORDER BY o")                          \
	X(ST_CONNECTOR_ROWS, "INSERT INTO connectors(station_id, connector_id, status, "       \
			     "error_code, info, vendor_error, updated_ms, evse_id) SELECT "   \
			     "DISTINCT ON (s, e, c) s, c, st, ec, i, ve, u, e FROM "          \
			     "unnest($1::text[], $2::int[], $3::text[], $4::text[], "         \
			     "$5::text[], $6::text[], $7::bigint[], $8::int[]) WITH "         \
			     "ORDINALITY AS v(s, c, st, ec, i, ve, u, e, o) "                 \
			     "ORDER BY s, e, c, o DESC "                                      \
			     "ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET " \
			     "status = EXCLUDED.status, error_code = EXCLUDED.error_code, "   \
			     "info = EXCLUDED.info, vendor_error = EXCLUDED.vendor_error, "   \
			     "updated_ms = EXCLUDED.updated_ms")                              \
	/* ---- site forecasts (0027) */                                                        \
	X(ST_FORECAST_PUT, "INSERT INTO site_forecasts(site_id, set_ms, forecast) VALUES ($1, " \
			   "$2, $3) ON CONFLICT (site_id) DO UPDATE SET "                     \
			   "set_ms = EXCLUDED.set_ms, forecast = EXCLUDED.forecast")          \
	X(ST_FORECAST_DEL, "DELETE FROM site_forecasts WHERE site_id = $1")                    \
	X(ST_FORECAST_GET, "SELECT site_id, set_ms, forecast FROM site_forecasts "             \
			   "WHERE site_id = $1")                                              \
	/* ---- site plan slots (0028); the put also prunes the site's old rows */             \
	X(ST_PLAN_SLOT_PUT, "WITH pruned AS (DELETE FROM site_plan_slots WHERE site_id = $1 "  \
			    "AND slot_ms < $6) INSERT INTO site_plan_slots(site_id, slot_ms, " \
			    "planned_w, import_w, limit_w) VALUES ($1, $2, $3, $4, $5) "       \
			    "ON CONFLICT (site_id, slot_ms) DO UPDATE SET "                    \
			    "planned_w = EXCLUDED.planned_w, import_w = EXCLUDED.import_w, "   \
			    "limit_w = EXCLUDED.limit_w")                                      \
	X(ST_PLAN_SLOTS_LIST, "SELECT slot_ms, planned_w, import_w, limit_w FROM "             \
			      "site_plan_slots WHERE site_id = $1 AND slot_ms >= $2 AND "      \
			      "slot_ms < $3 ORDER BY slot_ms")                                 \
	/* ---- station external limits (0029) */                                               \
	X(ST_EXT_LIMIT_PUT, "INSERT INTO station_ext_limits(station_id, evse_id, limit_w, "    \
			    "until_ms, updated) VALUES ($1, $2, $3, $4, $5) "                  \
			    "ON CONFLICT (station_id, evse_id) DO UPDATE SET "                 \
			    "limit_w = EXCLUDED.limit_w, until_ms = EXCLUDED.until_ms, "       \
			    "updated = EXCLUDED.updated")                                      \
	X(ST_EXT_LIMIT_DEL, "DELETE FROM station_ext_limits WHERE station_id = $1 AND "        \
			    "evse_id = $2")                                                    \
	X(ST_EXT_LIMITS_SITE, "SELECT e.station_id, e.evse_id, e.limit_w, e.until_ms FROM "    \
			      "station_ext_limits e JOIN stations st ON st.id = e.station_id " \
			      "WHERE st.site_id = $1 AND (e.until_ms = 0 OR e.until_ms > $2) " \
			      "ORDER BY e.station_id, e.evse_id")                              \
	X(ST_STATION_DELETE_EXT, "DELETE FROM station_ext_limits WHERE station_id = $1")       \
	/* ---- new operations' statements go here */

/* clang-format on */
#define X_ENUM(n, sql) n,
#define X_SQL(n, sql)  [n] = sql,
enum pst { PG_STATEMENTS(X_ENUM) _ST_MAX };
static const char *const stmt_sql[_ST_MAX] = {PG_STATEMENTS(X_SQL)};
#undef X_ENUM
#undef X_SQL

/* COMMITs in flight (commit_async); one more first waits for them. */
#define PG_COMMITS_MAX 64

/* A COMMIT sent by commit_async whose result is not read yet. */
struct pg_commit {
	uint64_t seq;	  /* the batch's number */
	int writes;	  /* its group's deferred results before it */
	bool writes_sync; /* a Sync ends those first */
};

/* One column of a statement over arrays (ST_SAMPLES_ADD, struct pg_rows): a PostgreSQL array
 * literal, built in place. */
struct arr {
	char *p;
	size_t len, cap;
	bool oom;
};

static void arr_put(struct arr *a, const char *v, size_t n)
{
	if (a->oom)
		return;
	if (a->len + n + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		char *p;

		while (a->len + n + 1 > cap)
			cap *= 2;
		p = realloc(a->p, cap);
		if (!p) {
			a->oom = true;
			return;
		}
		a->p = p;
		a->cap = cap;
	}
	memcpy(a->p + a->len, v, n);
	a->len += n;
	a->p[a->len] = '\0';
}

/* Append one element: NULL, or v quoted ('"' and '\' escaped). */
static void arr_text(struct arr *a, const char *v)
{
	arr_put(a, a->len ? "," : "{", 1);
	if (!v) {
		arr_put(a, "NULL", 4);
		return;
	}
	arr_put(a, "\"", 1);
	for (const char *q = v; *q;) {
		size_t n = strcspn(q, "\"\\");

		arr_put(a, q, n);
		q += n;
		if (*q) {
			char esc[2] = {'\\', *q++};

			arr_put(a, esc, 2);
		}
	}
	arr_put(a, "\"", 1);
}

static void arr_i64(struct arr *a, int64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRId64, v);
	arr_put(a, a->len ? "," : "{", 1);
	arr_put(a, b, strlen(b));
}

/* Rows of the open group sent as one statement over arrays (rows_flush): the station log and
 * the connector statuses, a handful per boot in a boot storm. */
#define ROWS_COLS 8
#define ROWS_MAX  512
struct pg_rows {
	struct arr col[ROWS_COLS];
	size_t n;
};

struct pg_store {
	struct store base; /* first: a struct store * is a struct pg_store * */
	char *dsn;
	PGconn *c;
	bool in_txn; /* BEGIN sent: a group is open */
	bool failed; /* a statement of the open group failed: commit() rolls it back */
	int unread;  /* deferred statements whose results are not read yet */
	char err[512];
	/* the COMMITs in flight (commit_async), oldest first from commit_head */
	struct pg_commit commits[PG_COMMITS_MAX];
	unsigned commit_head, commit_n;
	int commit_step;       /* results of the oldest one read so far */
	bool commit_bad;       /* one of them failed: its batch is not durable */
	uint64_t seq;	       /* the last batch number handed out */
	uint64_t durable;      /* the last batch whose COMMIT answered COMMIT */
	uint64_t reported;     /* durable as flush_done last reported it */
	bool lost;	       /* a batch failed: flush_done reports -EIO once */
	uint64_t lost_durable; /* durable when it failed: nothing later is reported durable first */
	int ep, ev;	       /* flush_fd: epoll set of the socket and ev; -1 until needed */
	/* nodes */
	char node[STORE_NODE_ID_MAX + 1]; /* this node's id in station_owner */
	int64_t lease_ms;
	struct hmap owned;	   /* station id -> struct owned: the epochs this node holds */
	uint64_t check_round;	   /* owners_check's rounds */
	PGconn *lc;		   /* the LISTEN connection, NULL until notify_fd() */
	PGconn *oc;		   /* ownership writes, one short transaction each (owner_exec) */
	bool oc_prepared[_ST_MAX]; /* statements prepared on oc so far */
	struct pg_rows log_rows;   /* ST_STATION_LOG_ROWS of the open group */
	struct pg_rows conn_rows;  /* ST_CONNECTOR_ROWS of the open group */
};

/* A station this node holds, at the epoch it took it with. */
struct owned {
	int64_t epoch;
	int64_t since_ms; /* its connection's start (station_owner.conn_since) */
	uint64_t checked; /* owners_check: the round that found its row */
	char id[];
};

/* Parameters of one statement, as text (NULL = SQL NULL). */
struct args {
	int n;
	const char *v[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][32];
};

static struct pg_store *pq(struct store *s)
{
	return (struct pg_store *)s;
}

/* nodes: forget every station this node held */
static void owned_free(struct store *s)
{
	struct hmap *m = &pq(s)->owned;

	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].value)
			free(m->slots[i].value);
	hmap_free(m);
}

static void a_text(struct args *a, const char *v)
{
	a->v[a->n++] = v;
}

static void a_i64(struct args *a, int64_t v)
{
	snprintf(a->num[a->n], sizeof(a->num[0]), "%" PRId64, v);
	a->v[a->n] = a->num[a->n];
	a->n++;
}

static void a_bool(struct args *a, bool v)
{
	a_text(a, v ? "t" : "f");
}

static const char *g_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool g_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col);
}

static int64_t g_i64(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int g_int(const PGresult *res, int row, int col)
{
	return (int)g_i64(res, row, col);
}

static bool g_bool(const PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);

	return !PQgetisnull(res, row, col) && (v[0] == 't' || v[0] == '1');
}

static void g_copy(const PGresult *res, int row, int col, char *dst, size_t n)
{
	const char *v = g_text(res, row, col);

	snprintf(dst, n, "%s", v ? v : "");
}

/* Rows changed by a write. */
static long affected(PGresult *res)
{
	return strtol(PQcmdTuples(res), NULL, 10);
}

static void set_err(struct store *s, const char *what, const char *msg)
{
	size_t n;

	snprintf(pq(s)->err, sizeof(pq(s)->err), "%s: %s", what, msg && *msg ? msg : "failed");
	n = strlen(pq(s)->err);
	while (n && pq(s)->err[n - 1] == '\n')
		pq(s)->err[--n] = '\0';
}

static int connect_db(struct store *s, bool migrate_first, char *err, size_t err_len);

/* A connection that broke between groups is made again (statements prepared again); one that
 * broke inside a group fails the group, and the next group reconnects. */
static int check_conn(struct store *s)
{
	char err[sizeof(pq(s)->err)];

	if (PQstatus(pq(s)->c) == CONNECTION_OK)
		return 0;
	if (pq(s)->in_txn) {
		pq(s)->failed = true;
		set_err(s, "connection", "lost inside a group");
		return -EIO;
	}
	if (connect_db(s, false, err, sizeof(err)) < 0) {
		set_err(s, "reconnect", err);
		return -EIO;
	}
	return 0;
}

static int send_stmt(struct store *s, enum pst st, const struct args *a)
{
	char name[16];

	if (check_conn(s) < 0)
		return -EIO;
	snprintf(name, sizeof(name), "p%d", (int)st);
	if (!PQsendQueryPrepared(pq(s)->c, name, a ? a->n : 0, a ? a->v : NULL, NULL, NULL, 0)) {
		set_err(s, "send", PQerrorMessage(pq(s)->c));
		if (pq(s)->in_txn)
			pq(s)->failed = true;
		return -EIO;
	}
	return 0;
}

/* A result's outcome: 0, -EEXIST (unique violation) or -EIO (the text kept for errmsg). */
static int result_status(struct store *s, const PGresult *res)
{
	const char *state;

	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		return 0;
	case PGRES_PIPELINE_ABORTED:
		/* the error that aborted the pipeline is already in err */
		return -EIO;
	default:
		set_err(s, "postgres", PQresultErrorMessage(res));
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		return state && !strcmp(state, "23505") ? -EEXIST : -EIO;
	}
}

/* ---------------------------------------------------------------- COMMITs in flight */

/* Wake flush_fd's poller (the loop): a synchronous read settled batches it has not been told
 * of, or a failure waits to be reported. */
static void flush_signal(struct store *s)
{
	uint64_t one = 1;
	ssize_t n;

	if (pq(s)->ev < 0)
		return;
	n = write(pq(s)->ev, &one, sizeof(one));
	(void)n; /* only fails when the counter is full: readable all the same */
}

/* A batch failed: flush_done reports -EIO once, and nothing after pq(s)->durable as it is now
 * as durable before that. */
static void commit_fail(struct store *s)
{
	struct pg_store *p = pq(s);

	if (!p->lost) {
		p->lost = true;
		p->lost_durable = p->durable;
	}
}

/* Every COMMIT in flight failed: its answer is not known and never will be (a broken
 * connection; or results out of step, and the connection is dropped so that the next group
 * reconnects). They may or may not have committed: none is acknowledged. */
static void commits_lost(struct store *s)
{
	struct pg_store *p = pq(s);

	if (p->c && PQstatus(p->c) != CONNECTION_BAD) {
		PQfinish(p->c);
		p->c = NULL;
		p->unread = 0;
		if (p->in_txn)
			p->failed = true;
	}
	if (!p->commit_n)
		return;
	commit_fail(s);
	p->commit_n = 0;
	p->commit_step = 0;
	p->commit_bad = false;
	flush_signal(s);
}

/*
** Read the results of the COMMITs in flight, oldest first, and no further (what follows belongs
** to the open group): all of them (block), or (!block) those libpq has the input for. A batch is
** durable when its group's deferred results all succeeded and its COMMIT answered COMMIT (not
** ROLLBACK: an aborted transaction's COMMIT); otherwise it failed. notify: wake flush_fd's poller
** when a batch was settled here (a synchronous read, not flush_done). 0, or -EIO when the
** connection broke (then every batch in flight failed).
*/
static int commits_read(struct store *s, bool block, bool notify)
{
	struct pg_store *p = pq(s);
	bool settled = false;
	int nulls = 0;

	while (p->commit_n) {
		const struct pg_commit *pc = &p->commits[p->commit_head];
		int commit_at = pc->writes + (pc->writes_sync ? 1 : 0);
		bool want_sync = (pc->writes_sync && p->commit_step == pc->writes) ||
				 p->commit_step == commit_at + 1;
		PGresult *res;

		if (!block && PQisBusy(p->c))
			break;
		res = PQgetResult(p->c);
		if (!res) {
			if (PQstatus(p->c) == CONNECTION_BAD) {
				set_err(s, "connection", PQerrorMessage(p->c));
				goto lost;
			}
			if (++nulls > 1) /* nothing more queued: the count is wrong */
				goto out_of_step;
			continue; /* the end of one statement's results */
		}
		nulls = 0;
		if (want_sync != (PQresultStatus(res) == PGRES_PIPELINE_SYNC)) {
			PQclear(res);
			goto out_of_step;
		}
		if (!want_sync && result_status(s, res) < 0) {
			p->commit_bad = true;
		} else if (p->commit_step == commit_at && strcmp(PQcmdStatus(res), "COMMIT")) {
			set_err(s, "commit", "the group was rolled back");
			p->commit_bad = true;
		}
		PQclear(res);
		if (p->commit_step++ <= commit_at)
			continue;
		/* its closing Sync: the batch is settled */
		if (p->commit_bad)
			commit_fail(s);
		else
			p->durable = pc->seq;
		p->commit_head = (p->commit_head + 1) % PG_COMMITS_MAX;
		p->commit_n--;
		p->commit_step = 0;
		p->commit_bad = false;
		settled = true;
	}
	if (settled && notify)
		flush_signal(s);
	return 0;
out_of_step:
	set_err(s, "commit", "results out of step with the pipeline");
lost:
	commits_lost(s);
	return -EIO;
}

/*
** Send a Sync and read every result up to it. The last k statements' results go to ret[0..k-1]
** (the caller clears them; k <= the statements sent); the earlier ones (deferred writes) only
** count. A failed statement marks the open group failed. Returns 0, or the first failure among
** the last k (-EEXIST, -EIO; ret[] is then all NULL), or -EIO when the connection broke.
*/
static int sync_read_n(struct store *s, PGresult **ret, int k)
{
	PGconn *c = pq(s)->c;
	int first = pq(s)->unread - k, i = 0, r = 0;
	PGresult *res;

	for (int j = 0; j < k; j++)
		ret[j] = NULL;
	pq(s)->unread = 0;
	if (!PQpipelineSync(c)) {
		set_err(s, "sync", PQerrorMessage(c));
		pq(s)->failed = pq(s)->in_txn;
		return -EIO;
	}
	/* the earlier groups' COMMITs answer first */
	if (pq(s)->commit_n && commits_read(s, true, true) < 0) {
		pq(s)->failed = pq(s)->in_txn;
		return -EIO;
	}
	for (;;) {
		int st;

		res = PQgetResult(c);
		if (!res) {
			if (PQstatus(c) == CONNECTION_BAD) {
				set_err(s, "connection", PQerrorMessage(c));
				pq(s)->failed = pq(s)->in_txn;
				r = -EIO;
				break;
			}
			continue; /* the end of one statement's results */
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		st = result_status(s, res);
		if (st < 0 && pq(s)->in_txn)
			pq(s)->failed = true;
		if (i >= first && i - first < k) {
			ret[i - first] = res;
			if (st < 0 && r == 0)
				r = st;
		} else {
			PQclear(res);
		}
		i++;
	}
	if (r < 0) {
		for (int j = 0; j < k; j++) {
			PQclear(ret[j]);
			ret[j] = NULL;
		}
	}
	return r;
}

/* sync_read_n() for the last statement: its result to *ret (may be NULL) on success. */
static int sync_read(struct store *s, PGresult **ret)
{
	PGresult *last = NULL;
	int r = sync_read_n(s, &last, pq(s)->unread ? 1 : 0);

	if (ret)
		*ret = last;
	else
		PQclear(last);
	return r;
}

static int rows_flush(struct store *s);

/* Run one statement now: every deferred result is read first (and the group's rows sent before
 * it, so that it sees them). *ret (may be NULL) gets the result on success (PQclear it). */
static int run(struct store *s, enum pst st, const struct args *a, PGresult **ret)
{
	int r = rows_flush(s);

	if (r < 0)
		return r;
	r = send_stmt(s, st, a);

	if (r < 0)
		return r;
	pq(s)->unread++;
	return sync_read(s, ret);
}

/* Send a statement built per call (not prepared), like run(). */
static int run_sql(struct store *s, const char *sql, const struct args *a, PGresult **ret)
{
	if (rows_flush(s) < 0 || check_conn(s) < 0)
		return -EIO;
	if (!PQsendQueryParams(pq(s)->c, sql, a->n, NULL, a->v, NULL, NULL, 0)) {
		set_err(s, "send", PQerrorMessage(pq(s)->c));
		if (pq(s)->in_txn)
			pq(s)->failed = true;
		return -EIO;
	}
	pq(s)->unread++;
	return sync_read(s, ret);
}
/* Send a write whose only answer is success: its outcome is read later (the next run() or
 * commit()); a failure then fails the group. */
static int defer(struct store *s, enum pst st, const struct args *a)
{
	int r = send_stmt(s, st, a);

	if (r < 0)
		return r;
	if (++pq(s)->unread >= DEFER_MAX)
		sync_read(s, NULL);
	return 0;
}

/* Writes join the open group transaction, or open one (its BEGIN travels with the write). */
static int begin_write(struct store *s)
{
	int r;

	if (pq(s)->in_txn)
		return pq(s)->failed ? -EIO : 0;
	r = defer(s, ST_BEGIN, NULL);
	if (r < 0)
		return r;
	pq(s)->in_txn = true;
	pq(s)->failed = false;
	return 0;
}

static void rows_reset(struct pg_rows *b)
{
	for (int c = 0; c < ROWS_COLS; c++) {
		b->col[c].len = 0;
		b->col[c].oom = false;
	}
	b->n = 0;
}

static void rows_free(struct pg_rows *b)
{
	for (int c = 0; c < ROWS_COLS; c++)
		free(b->col[c].p);
	memset(b, 0, sizeof(*b));
}

/* Send the rows kept as one statement over arrays (deferred like any write). They were reported
 * written: a failure fails the group. */
static int rows_send(struct store *s, enum pst st, struct pg_rows *b, int ncol)
{
	struct args a = {0};
	int r = 0;

	if (!b->n)
		return 0;
	for (int c = 0; c < ncol; c++) {
		arr_put(&b->col[c], "}", 1);
		if (b->col[c].oom)
			r = -ENOMEM;
		a_text(&a, b->col[c].p);
	}
	if (r == 0)
		r = defer(s, st, &a);
	rows_reset(b);
	if (r < 0)
		pq(s)->failed = true;
	return r;
}

/* The group's station log and connector rows, before anything reads and before its COMMIT. */
static int rows_flush(struct store *s)
{
	int r = rows_send(s, ST_STATION_LOG_ROWS, &pq(s)->log_rows, 6);
	int r2 = rows_send(s, ST_CONNECTOR_ROWS, &pq(s)->conn_rows, 8);

	return r < 0 ? r : r2;
}

/* One more row of b, joining the open group; sent at ROWS_MAX rows or by rows_flush(). */
static int rows_added(struct store *s, struct pg_rows *b, enum pst st, int ncol)
{
	if (++b->n < ROWS_MAX)
		return 0;
	return rows_send(s, st, b, ncol);
}

static void pg_rollback(struct store *s)
{
	rows_reset(&pq(s)->log_rows); /* never sent */
	rows_reset(&pq(s)->conn_rows);
	if (!pq(s)->in_txn)
		return;
	/* read what is in flight first, so the ROLLBACK is not skipped as part of an aborted
	 * pipeline segment */
	if (pq(s)->unread)
		sync_read(s, NULL);
	pq(s)->in_txn = false; /* so ROLLBACK's own result does not mark a group failed */
	run(s, ST_ROLLBACK, NULL, NULL);
	pq(s)->failed = false;
}

static int pg_commit(struct store *s)
{
	PGresult *res = NULL;
	int r;

	if (!pq(s)->in_txn)
		return 0;
	r = pq(s)->failed ? -EIO : run(s, ST_COMMIT, NULL, &res);
	/* COMMIT of an aborted transaction answers ROLLBACK, without an error */
	if (r == 0 && (pq(s)->failed || strcmp(PQcmdStatus(res), "COMMIT"))) {
		set_err(s, "commit", "the group was rolled back");
		r = -EIO;
	}
	PQclear(res);
	if (r < 0) {
		pq(s)->failed = true;
		pg_rollback(s);
		return -EIO;
	}
	pq(s)->in_txn = false;
	return 0;
}

static bool pg_dirty(const struct store *s)
{
	return ((const struct pg_store *)s)->in_txn;
}

static const char *pg_errmsg(struct store *s)
{
	return pq(s)->err[0] ? pq(s)->err : PQerrorMessage(pq(s)->c);
}

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Outside pipeline mode: one PQexec; 0 or -EIO with the message in err. */
static int exec_plain(PGconn *c, const char *sql, char *err, size_t err_len, const char *what)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -EIO;

	if (r < 0)
		snprintf(err, err_len, "%s: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	return r;
}

/* Every pending migration and its schema_version row in one transaction; concurrent nodes
 * wait for each other on an advisory lock. */
static int migrate(PGconn *c, char *err, size_t err_len)
{
	PGresult *res;
	int version;

	if (exec_plain(c,
		       "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY "); "
		       "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
		       "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
		       err, err_len, "migrations") < 0)
		goto fail;
	res = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, err_len, "migrations: %s", PQresultErrorMessage(res));
		PQclear(res);
		goto fail;
	}
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (version > (int)db_pg_migrations_count) {
		snprintf(err, err_len, "database schema %d is newer than this csms (%zu)", version,
			 db_pg_migrations_count);
		goto fail;
	}
	for (size_t i = (size_t)version; i < db_pg_migrations_count; i++) {
		char num[24];
		const char *params[2] = {num, db_pg_migrations[i].name};

		if (exec_plain(c, db_pg_migrations[i].data, err, err_len,
			       db_pg_migrations[i].name) < 0)
			goto fail;
		snprintf(num, sizeof(num), "%zu", i + 1);
		res = PQexecParams(c, "INSERT INTO schema_version(version, name) VALUES ($1, $2)",
				   2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, err_len, "migrations: %s", PQresultErrorMessage(res));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	return exec_plain(c, "COMMIT", err, err_len, "migrations");
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -EIO;
}

static void pg_close(struct store *s);

/*
** Connect to p->dsn (replacing a broken connection), set the session up and prepare every
** statement in one round trip, leaving the connection in pipeline mode. migrate: bring the
** schema up to date first (at open). 0, or -EIO with the message in err.
*/
static int connect_db(struct store *s, bool migrate_first, char *err, size_t err_len)
{
	struct pg_store *p = pq(s);
	size_t n;

	commits_lost(s); /* their answers went with the old connection */
	if (p->ep >= 0 && PQsocket(p->c) >= 0)
		epoll_ctl(p->ep, EPOLL_CTL_DEL, PQsocket(p->c), NULL);
	PQfinish(p->c);
	p->unread = 0;
	p->c = PQconnectdb(p->dsn);
	if (!p->c || PQstatus(p->c) != CONNECTION_OK) {
		snprintf(err, err_len, "postgresql: %s",
			 p->c ? PQerrorMessage(p->c) : "out of memory");
		goto fail;
	}
	if (p->ep >= 0) { /* flush_fd follows the connection */
		struct epoll_event e = {.events = EPOLLIN, .data.fd = PQsocket(p->c)};

		if (epoll_ctl(p->ep, EPOLL_CTL_ADD, e.data.fd, &e) < 0) {
			snprintf(err, err_len, "postgresql: epoll: %s", strerror(errno));
			goto fail;
		}
	}
	PQsetNoticeProcessor(p->c, quiet_notices, NULL);
	if (exec_plain(p->c, "SET synchronous_commit = on; SET application_name = 'csms'", err,
		       err_len, "postgresql") < 0)
		goto fail;
	if (migrate_first && migrate(p->c, err, err_len) < 0)
		goto fail;
	if (!PQenterPipelineMode(p->c)) {
		snprintf(err, err_len, "postgresql: pipeline mode: %s", PQerrorMessage(p->c));
		goto fail;
	}
	for (int i = 0; i < _ST_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		if (!PQsendPrepare(p->c, name, stmt_sql[i], 0, NULL)) {
			snprintf(err, err_len, "prepare %d: %s", i, PQerrorMessage(p->c));
			goto fail;
		}
		p->unread++;
	}
	/* sync_read keeps only the last result: check them all through the error text */
	p->err[0] = '\0';
	if (sync_read(s, NULL) < 0 || p->err[0]) {
		snprintf(err, err_len, "prepare: %s", p->err);
		goto fail;
	}
	return 0;
fail:
	n = strlen(err);
	while (n && err[n - 1] == '\n')
		err[--n] = '\0';
	return -EIO;
}

static struct store *pg_open(const char *dsn, bool sync_full, char *err, size_t err_len)
{
	struct pg_store *p = calloc(1, sizeof(*p));

	(void)sync_full; /* every commit waits for the WAL flush (synchronous_commit = on) */
	if (!p || !(p->dsn = strdup(dsn))) {
		free(p);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	p->base.ops = &store_pg_ops;
	p->ep = p->ev = -1;
	p->lease_ms = 30000; /* until node_set(): node "" (one node, as in the contract suite) */
	if (connect_db(&p->base, true, err, err_len) < 0) {
		pg_close(&p->base);
		return NULL;
	}
	return &p->base;
}

static void pg_close(struct store *s)
{
	if (!s)
		return;
	if (pq(s)->c && PQstatus(pq(s)->c) == CONNECTION_OK && pq(s)->commit_n)
		commits_read(s, true, false); /* the COMMITs in flight answer first */
	if (pq(s)->c && PQstatus(pq(s)->c) == CONNECTION_OK && pq(s)->in_txn)
		pg_commit(s);
	PQfinish(pq(s)->c);
	if (pq(s)->ep >= 0)
		close(pq(s)->ep);
	if (pq(s)->ev >= 0)
		close(pq(s)->ev);
	PQfinish(pq(s)->lc);
	PQfinish(pq(s)->oc);
	owned_free(s);
	rows_free(&pq(s)->log_rows);
	rows_free(&pq(s)->conn_rows);
	free(pq(s)->dsn);
	free(s);
}

static int pg_schema_version(struct store *s)
{
	PGresult *res = NULL;
	int r = run(s, ST_SCHEMA_VERSION, NULL, &res);

	if (r == 0)
		r = g_int(res, 0, 0);
	PQclear(res);
	return r;
}

/* ---------------------------------------------------------------- writes without an answer */

/* begin_write() + defer(). */
static int write_now_or_later(struct store *s, enum pst st, const struct args *a)
{
	int r = begin_write(s);

	return r < 0 ? r : defer(s, st, a);
}

static int pg_site_put(struct store *s, const char *id, int kind, int64_t now_ms)
{
	struct args a = {0};

	a_text(&a, id);
	a_text(&a, site_kind_to_string(kind));
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_SITE_PUT, &a);
}

static int pg_station_put(struct store *s, const char *id, const char *site_id,
			  const char *password_hash, int64_t now_ms)
{
	struct args a = {0};

	a_text(&a, id);
	a_text(&a, site_id);
	a_text(&a, password_hash);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_STATION_PUT, &a);
}

static int owner_take(struct store *s, const char *id, int64_t now_ms);

static int pg_station_boot(struct store *s, const char *id, const struct store_boot *b)
{
	struct args a = {0};
	int r;

	a_text(&a, id);
	a_text(&a, b->protocol);
	a_text(&a, b->vendor);
	a_text(&a, b->model);
	a_text(&a, b->serial);
	a_text(&a, b->box_serial);
	a_text(&a, b->firmware);
	a_text(&a, b->iccid);
	a_text(&a, b->imsi);
	a_text(&a, b->meter_type);
	a_text(&a, b->meter_serial);
	a_i64(&a, b->now_ms);
	r = write_now_or_later(s, ST_STATION_BOOT, &a);
	/* nodes: a station registered by this boot (open or pending policy) had no row to take
	 * when its connection was admitted: it is taken now, before the boot is answered */
	if (r == 0 && !hmap_get(&pq(s)->owned, id))
		r = owner_take(s, id, b->now_ms);
	return r;
}

static int owner_release(struct store *s, const char *id);
static int owner_exec(struct store *s, enum pst st, const struct args *a, PGresult **ret);
static int pg_owner_get(struct store *s, const char *station_id, char *ret_node,
			int64_t *ret_epoch);

/* nodes: the offline mark of a closed connection never waits while the group holds locks
 * (docs/scaling.md "Takeovers never deadlock"): made in a short transaction of its own when no
 * other transaction holds the row; left out when another node holds the station now (its group
 * has the row: its write, online, stands); else in the group (the group itself holds the row
 * already, or an API edit does). */
static int seen_offline(struct store *s, const char *id, const struct args *a)
{
	char node[STORE_NODE_ID_MAX + 1];
	PGresult *res = NULL;
	int64_t epoch;
	long n;
	int r = owner_exec(s, ST_STATION_SEEN_FREE, a, &res);

	if (r < 0)
		return r;
	n = affected(res);
	PQclear(res);
	if (n > 0)
		return 0;
	r = pg_owner_get(s, id, node, &epoch);
	if (r == 0 && strcmp(node, pq(s)->node))
		return 0;
	if (r < 0 && r != -ENOENT)
		return r;
	return write_now_or_later(s, ST_STATION_SEEN, a);
}

/* nodes: a new connection (online with its protocol) takes the ownership row, before the
 * group writes the station's row; going offline lets go of it if this node still holds it
 * (docs/scaling.md). */
static int pg_station_seen(struct store *s, const char *id, bool online, const char *protocol,
			   int64_t now_ms)
{
	struct args a = {0};
	int r = 0;

	a_text(&a, id);
	a_bool(&a, online);
	a_i64(&a, now_ms);
	a_text(&a, protocol);
	if (!online) { /* first, so the row below sees whether another node holds it */
		r = owner_release(s, id);
		return r < 0 ? r : seen_offline(s, id, &a);
	}
	if (protocol)
		r = owner_take(s, id, now_ms);
	if (r == 0)
		r = write_now_or_later(s, ST_STATION_SEEN, &a);
	return r;
}

static int pg_station_event(struct store *s, const char *id, int kind, const char *status,
			    int64_t ts_ms)
{
	const char *name = station_event_kind_to_string(kind);
	struct args a = {0}, b = {0};
	int r;

	if (!name)
		return -EINVAL;
	a_text(&a, id);
	a_text(&a, name);
	a_text(&a, status);
	a_i64(&a, ts_ms);
	r = write_now_or_later(s, ST_STATION_EVENT, &a);
	if (r < 0)
		return r;
	a_text(&b, id);
	a_text(&b, status);
	return defer(s, station_event_sets_firmware(kind) ? ST_STATION_FW : ST_STATION_DIAG, &b);
}

/* nodes: this node's rows only; other nodes keep theirs */
static int pg_stations_offline_all(struct store *s)
{
	struct args a = {0};
	int r;

	owned_free(s);
	a_text(&a, pq(s)->node);
	r = write_now_or_later(s, ST_OWNERS_DROP, &a);
	return r < 0 ? r : defer(s, ST_STATIONS_OFFLINE, NULL);
}

static int pg_connector_status(struct store *s, const char *station_id, int evse_id,
			       int connector_id, const char *status, const char *error_code,
			       const char *info, const char *vendor_error, int64_t ts_ms)
{
	struct pg_rows *b = &pq(s)->conn_rows;
	int r = begin_write(s);

	if (r < 0)
		return r;
	arr_text(&b->col[0], station_id);
	arr_i64(&b->col[1], connector_id);
	arr_text(&b->col[2], status);
	arr_text(&b->col[3], error_code);
	arr_text(&b->col[4], info);
	arr_text(&b->col[5], vendor_error);
	arr_i64(&b->col[6], ts_ms);
	arr_i64(&b->col[7], evse_id);
	return rows_added(s, b, ST_CONNECTOR_ROWS, 8);
}

static int pg_token_put(struct store *s, const struct store_token *t)
{
	struct args a = {0};

	a_text(&a, t->token);
	a_text(&a, auth_status_to_string(t->status));
	if (t->expiry_ms)
		a_i64(&a, t->expiry_ms);
	else
		a_text(&a, NULL);
	a_text(&a, t->parent[0] ? t->parent : NULL);
	a_text(&a, t->site_id[0] ? t->site_id : NULL);
	return write_now_or_later(s, ST_TOKEN_PUT, &a);
}

static int pg_session_close(struct store *s, int64_t id, const struct store_session_close *in)
{
	struct args a = {0};

	a_i64(&a, id);
	a_i64(&a, in->stop_ms);
	a_i64(&a, in->meter_stop_wh);
	a_text(&a, in->reason);
	a_text(&a, in->id_tag);
	return write_now_or_later(s, ST_SESSION_STOP, &a);
}

static int pg_session_set_start(struct store *s, int64_t id, int64_t start_ms, bool has_meter,
				int64_t meter_start_wh)
{
	struct args a = {0};

	a_i64(&a, id);
	a_i64(&a, start_ms);
	a_bool(&a, has_meter);
	a_i64(&a, meter_start_wh);
	return write_now_or_later(s, ST_TX_SET_START, &a);
}

static int pg_session_set_token(struct store *s, int64_t id, const char *id_tag, int auth_status)
{
	struct args a = {0};

	a_i64(&a, id);
	a_text(&a, id_tag);
	a_text(&a, session_auth_to_string(auth_status));
	return write_now_or_later(s, ST_TX_SET_TOKEN, &a);
}

static int pg_session_set_evse(struct store *s, int64_t id, int evse_id, int connector_id)
{
	struct args a = {0};

	a_i64(&a, id);
	a_i64(&a, evse_id);
	a_i64(&a, connector_id);
	return write_now_or_later(s, ST_TX_SET_EVSE, &a);
}

static int pg_session_meter_last(struct store *s, int64_t id, int64_t wh, int64_t ts_ms)
{
	struct args a = {0};

	a_i64(&a, id);
	a_i64(&a, wh);
	a_i64(&a, ts_ms);
	return write_now_or_later(s, ST_TX_METER_LAST, &a);
}

static int pg_session_seq_update(struct store *s, int64_t id, int64_t seq_no, bool offline)
{
	struct args a = {0};

	a_i64(&a, id);
	a_i64(&a, seq_no);
	a_i64(&a, offline);
	return write_now_or_later(s, ST_TX_SEQ_UPDATE, &a);
}

static int pg_sample_conflict_add(struct store *s, const struct store_sample_conflict *c)
{
	const struct store_sample *in = c->sample;
	struct args a = {0}, b = {0};
	int r;

	if (in->session_id)
		a_i64(&a, in->session_id);
	else
		a_text(&a, NULL);
	a_text(&a, in->station_id);
	a_i64(&a, in->evse_id);
	a_i64(&a, in->ts_ms);
	a_text(&a, in->measurand);
	a_text(&a, in->phase);
	a_text(&a, in->context);
	a_text(&a, in->location);
	a_text(&a, c->stored_value);
	a_text(&a, in->value);
	a_i64(&a, c->received_ms);
	r = write_now_or_later(s, ST_SAMPLE_CONFLICT_ADD, &a);
	if (r < 0 || !in->session_id)
		return r;
	a_i64(&b, in->session_id);
	return defer(s, ST_SAMPLE_CONFLICT_COUNT, &b);
}

static int pg_orphan_add(struct store *s, const struct store_orphan *o)
{
	struct args a = {0};

	a_text(&a, o->station_id);
	a_i64(&a, o->transaction_id);
	a_text(&a, o->id_tag);
	a_i64(&a, o->meter_stop_wh);
	a_i64(&a, o->ts_ms);
	a_text(&a, o->reason);
	a_i64(&a, o->received_ms);
	return write_now_or_later(s, ST_ORPHAN_ADD, &a);
}

static int pg_variable_put(struct store *s, const char *station_id, const struct store_variable *v,
			   int64_t now_ms)
{
	struct args a = {0};

	a_text(&a, station_id);
	a_text(&a, v->component);
	a_text(&a, v->component_instance ? v->component_instance : "");
	a_i64(&a, v->evse_id);
	a_i64(&a, v->connector_id);
	a_text(&a, v->variable);
	a_text(&a, v->variable_instance ? v->variable_instance : "");
	a_text(&a, v->attribute_type);
	a_text(&a, v->value);
	a_text(&a, v->mutability);
	a_text(&a, v->data_type);
	a_text(&a, v->unit);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_VARIABLE_PUT, &a);
}

static int pg_report_part(struct store *s, const char *station_id, int64_t request_id,
			  int64_t seq_no, bool tbc, int64_t now_ms)
{
	struct args a = {0};

	a_text(&a, station_id);
	a_i64(&a, request_id);
	a_i64(&a, seq_no);
	a_bool(&a, !tbc);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_REPORT_PART, &a);
}

static int pg_notice_add(struct store *s, const char *station_id, const char *kind, int64_t ts_ms,
			 const char *detail)
{
	struct args a = {0};

	a_text(&a, station_id);
	a_text(&a, kind);
	a_i64(&a, ts_ms);
	a_text(&a, detail);
	return write_now_or_later(s, ST_NOTICE_ADD, &a);
}

/* ---------------------------------------------------------------- writes with an answer */

/* begin_write() + run(). */
static int write_now(struct store *s, enum pst st, const struct args *a, PGresult **ret)
{
	int r = begin_write(s);

	return r < 0 ? r : run(s, st, a, ret);
}

static int pg_station_create(struct store *s, const char *id, int registration, int64_t now_ms)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, id);
	a_text(&a, reg_status_to_string(registration));
	a_i64(&a, now_ms);
	r = write_now(s, ST_STATION_CREATE, &a, &res);
	if (r == 0 && affected(res) == 0)
		r = -EEXIST;
	PQclear(res);
	return r;
}

static int pg_station_set_registration(struct store *s, const char *id, int registration)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, id);
	a_text(&a, reg_status_to_string(registration));
	r = write_now(s, ST_STATION_REG, &a, &res);
	if (r == 0 && affected(res) == 0)
		r = -ENOENT;
	PQclear(res);
	return r;
}

static int pg_session_open(struct store *s, const struct store_session_open *in, int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, in->station_id);
	a_i64(&a, in->connector_id);
	a_text(&a, in->id_tag ? in->id_tag : "");
	a_text(&a, session_auth_to_string(in->auth_status));
	a_i64(&a, in->start_ms);
	if (in->has_meter_start)
		a_i64(&a, in->meter_start_wh);
	else
		a_text(&a, NULL);
	if (in->has_reservation)
		a_i64(&a, in->reservation_id);
	else
		a_text(&a, NULL);
	a_i64(&a, in->now_ms);
	a_i64(&a, in->evse_id);
	a_text(&a, in->station_tx_id);
	r = write_now(s, ST_SESSION_INSERT, &a, &res);
	if (r == 0) {
		if (PQntuples(res) == 0)
			r = -EEXIST;
		else
			*ret_id = g_i64(res, 0, 0);
	}
	PQclear(res);
	return r;
}

static int pg_session_event_add(struct store *s, int64_t id, const struct store_session_event *ev)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_i64(&a, id);
	a_i64(&a, ev->seq_no);
	a_text(&a, ev->label);
	a_text(&a, ev->trigger ? ev->trigger : "");
	a_i64(&a, ev->ts_ms);
	a_bool(&a, ev->offline);
	a_i64(&a, ev->now_ms);
	r = write_now(s, ST_TX_EVENT_ADD, &a, &res);
	if (r == 0 && affected(res) == 0)
		r = -EEXIST;
	PQclear(res);
	return r;
}

/* The key of a reading, in ST_SAMPLE_STORED's order. */
static void sample_key(struct args *a, const struct store_sample *in)
{
	a_text(a, in->station_id);
	a_i64(a, in->evse_id);
	a_i64(a, in->ts_ms);
	a_text(a, in->measurand);
	a_text(a, in->phase);
	a_text(a, in->context);
	a_text(a, in->location);
}

static void sample_args(struct args *a, const struct store_sample *in)
{
	if (in->session_id)
		a_i64(a, in->session_id);
	else
		a_text(a, NULL);
	a_text(a, in->station_id);
	a_i64(a, in->evse_id);
	a_i64(a, in->ts_ms);
	a_text(a, in->measurand);
	a_text(a, in->phase);
	a_text(a, in->unit);
	a_text(a, in->context);
	a_text(a, in->location);
	a_text(a, in->format);
	a_text(a, in->value);
	a_text(a, in->sig.data);
	a_text(a, in->sig.signing_method);
	a_text(a, in->sig.encoding_method);
	a_text(a, in->sig.public_key);
}

/* What ST_SAMPLE_ADD's result res (cleared here) says: 1 stored, or 0 and the kept value. */
static int sample_result(struct store *s, const struct store_sample *in, PGresult *res,
			 char *ret_stored, size_t n)
{
	struct args a = {0};
	int r = 0;

	if (g_i64(res, 0, 0) > 0) {
		r = 1;
	} else if (!g_null(res, 0, 1)) {
		if (n)
			g_copy(res, 0, 1, ret_stored, n);
	} else {
		/* taken by a row this statement's snapshot did not show (another node's) */
		PQclear(res);
		res = NULL;
		sample_key(&a, in);
		r = run(s, ST_SAMPLE_STORED, &a, &res);
		if (r == 0 && PQntuples(res) == 0)
			r = -EIO;
		if (r == 0 && n)
			g_copy(res, 0, 0, ret_stored, n);
	}
	PQclear(res);
	return r;
}

static int pg_sample_add(struct store *s, const struct store_sample *in, char *ret_stored, size_t n)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	if (!in->measurand || !in->value || !in->station_id)
		return -EINVAL;
	sample_args(&a, in);
	r = write_now(s, ST_SAMPLE_ADD, &a, &res);
	return r < 0 ? r : sample_result(s, in, res, ret_stored, n);
}

/* Readings per round trip in samples_add (bounds what either side buffers). */
#define SAMPLES_BATCH 128

static bool text_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Whether two readings share the key the unique index meter_values_key holds. */
static bool sample_same_key(const struct store_sample *a, const struct store_sample *b)
{
	return a->evse_id == b->evse_id && a->ts_ms == b->ts_ms &&
	       !strcmp(a->station_id, b->station_id) && !strcmp(a->measurand, b->measurand) &&
	       text_eq(a->phase, b->phase) && text_eq(a->context, b->context) &&
	       text_eq(a->location, b->location);
}

/* Send the chunk's readings marked in send[] as one ST_SAMPLES_ADD. */
static int samples_send(struct store *s, const struct store_sample *in, const bool *send, size_t k)
{
	struct arr col[15] = {{0}};
	struct args a = {0};
	int r = 0;

	for (size_t i = 0; i < k; i++) {
		const struct store_sample *x = &in[i];

		if (!send[i])
			continue;
		if (x->session_id)
			arr_i64(&col[0], x->session_id);
		else
			arr_text(&col[0], NULL);
		arr_text(&col[1], x->station_id);
		arr_i64(&col[2], x->evse_id);
		arr_i64(&col[3], x->ts_ms);
		arr_text(&col[4], x->measurand);
		arr_text(&col[5], x->phase);
		arr_text(&col[6], x->unit);
		arr_text(&col[7], x->context);
		arr_text(&col[8], x->location);
		arr_text(&col[9], x->format);
		arr_text(&col[10], x->value);
		arr_text(&col[11], x->sig.data);
		arr_text(&col[12], x->sig.signing_method);
		arr_text(&col[13], x->sig.encoding_method);
		arr_text(&col[14], x->sig.public_key);
	}
	for (int c = 0; c < 15; c++) {
		arr_put(&col[c], "}", 1);
		if (col[c].oom)
			r = -ENOMEM;
		a_text(&a, col[c].p);
	}
	if (r == 0)
		r = send_stmt(s, ST_SAMPLES_ADD, &a);
	for (int c = 0; c < 15; c++)
		free(col[c].p);
	return r;
}

/*
** A MeterValues' readings in one statement per SAMPLES_BATCH: ret[i] 1 stored, 0 and the kept
** value when its key was taken (by an earlier row, or by an earlier reading of the same batch,
** as the readings one by one would say), or -errno.
*/
static int pg_samples_add(struct store *s, const struct store_sample *in, size_t n, int *ret,
			  char *ret_stored, size_t stored_len)
{
	int r = n ? begin_write(s) : 0;

	for (size_t off = 0; r == 0 && off < n; off += SAMPLES_BATCH) {
		size_t k = n - off < SAMPLES_BATCH ? n - off : SAMPLES_BATCH;
		const struct store_sample *x = in + off;
		bool send[SAMPLES_BATCH];
		int first[SAMPLES_BATCH], sent = 0;
		PGresult *res = NULL;

		for (size_t i = 0; i < k; i++) {
			first[i] = -1;
			send[i] = false;
			ret[off + i] = 0;
			if (!x[i].measurand || !x[i].value || !x[i].station_id) {
				ret[off + i] = -EINVAL;
				continue;
			}
			for (size_t j = 0; j < i && first[i] < 0; j++)
				if (send[j] && sample_same_key(&x[i], &x[j]))
					first[i] = (int)j;
			send[i] = first[i] < 0;
			sent += send[i];
		}
		if (!sent)
			continue;
		r = samples_send(s, x, send, k);
		if (r < 0)
			break;
		pq(s)->unread++;
		r = sync_read(s, &res);
		if (r == 0 && PQntuples(res) != sent) {
			set_err(s, "samples", "one answer per reading expected");
			r = -EIO;
		}
		for (size_t i = 0, row = 0; r == 0 && i < k; i++) {
			char *kept = stored_len ? ret_stored + (off + i) * stored_len : NULL;

			if (!send[i])
				continue;
			if (g_text(res, (int)row, 1)[0] == 't') {
				ret[off + i] = 1;
			} else if (!g_null(res, (int)row, 2)) {
				if (kept)
					g_copy(res, (int)row, 2, kept, stored_len);
			} else {
				/* taken by a row this statement's snapshot did not show (another
				 * node's) */
				struct args a = {0};
				PGresult *one = NULL;

				sample_key(&a, &x[i]);
				r = run(s, ST_SAMPLE_STORED, &a, &one);
				if (r == 0 && PQntuples(one) == 0)
					r = -EIO;
				if (r == 0 && kept)
					g_copy(one, 0, 0, kept, stored_len);
				PQclear(one);
			}
			row++;
		}
		PQclear(res);
		/* a reading whose key an earlier one of the batch holds: what the first left */
		for (size_t i = 0; r == 0 && i < k; i++) {
			size_t j = (size_t)first[i];

			if (first[i] < 0 || !stored_len)
				continue;
			if (ret[off + j] == 1)
				snprintf(ret_stored + (off + i) * stored_len, stored_len, "%s",
					 x[j].value);
			else
				memcpy(ret_stored + (off + i) * stored_len,
				       ret_stored + (off + j) * stored_len, stored_len);
		}
		if (r < 0)
			break;
	}
	return r;
}

/* ---------------------------------------------------------------- command log */

static int pg_command_add(struct store *s, const struct store_command *c, int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, c->station_id);
	a_text(&a, c->who);
	a_text(&a, c->kind);
	a_text(&a, c->action);
	a_text(&a, c->request);
	a_text(&a, c->status);
	a_text(&a, c->station_status);
	a_text(&a, c->error_code);
	a_text(&a, c->detail);
	a_text(&a, c->response);
	a_i64(&a, c->requested_ms);
	a_i64(&a, c->answered_ms);
	a_i64(&a, c->latency_ms);
	if (!ret_id)
		return write_now_or_later(s, ST_COMMAND_ADD, &a);
	r = write_now(s, ST_COMMAND_ADD, &a, &res);
	if (r == 0)
		*ret_id = g_i64(res, 0, 0);
	PQclear(res);
	return r;
}

static int pg_commands_list(struct store *s, const char *station_or_null, int limit, int offset,
			    store_command_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, station_or_null);
	a_i64(&a, limit);
	a_i64(&a, offset);
	r = run(s, ST_COMMANDS_LIST, &a, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct store_command row = {
		    .id = g_i64(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .who = g_text(res, i, 2),
		    .kind = g_text(res, i, 3),
		    .action = g_text(res, i, 4),
		    .request = g_text(res, i, 5),
		    .status = g_text(res, i, 6),
		    .station_status = g_text(res, i, 7),
		    .error_code = g_text(res, i, 8),
		    .detail = g_text(res, i, 9),
		    .response = g_text(res, i, 10),
		    .requested_ms = g_i64(res, i, 11),
		    .answered_ms = g_i64(res, i, 12),
		    .latency_ms = g_i64(res, i, 13),
		};
		r = fn(&row, ud);
		if (r > 0)
			r = 0;
	}
	PQclear(res);
	return r;
}

/* ---------------------------------------------------------------- reads */

/* A single-row read: 0 and *ret (PQclear it), -ENOENT without a row, or -EIO. */
static int read_one(struct store *s, enum pst st, const struct args *a, PGresult **ret)
{
	PGresult *res = NULL;
	int r = run(s, st, a, &res);

	if (r < 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return -ENOENT;
	}
	*ret = res;
	return 0;
}

static int pg_station_get(struct store *s, const char *id, struct store_station *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;

	a_text(&a, id);
	r = read_one(s, ST_STATION_GET, &a, &res);
	if (r < 0)
		return r;
	g_copy(res, 0, 0, ret->id, sizeof(ret->id));
	g_copy(res, 0, 1, ret->site_id, sizeof(ret->site_id));
	ret->site_kind = g_null(res, 0, 2) ? -1 : site_kind_from_string(g_text(res, 0, 2));
	ret->registration = reg_status_from_string(g_text(res, 0, 3));
	g_copy(res, 0, 4, ret->password_hash, sizeof(ret->password_hash));
	PQclear(res);
	return 0;
}

static int pg_stations_list(struct store *s, const char *id_or_null, int limit, int offset,
			    store_station_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;

	if (id_or_null) {
		a_text(&a, id_or_null);
		r = run(s, ST_STATION_ONE, &a, &res);
	} else {
		a_i64(&a, limit);
		a_i64(&a, offset);
		r = run(s, ST_STATIONS_LIST, &a, &res);
	}
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct store_station_row row = {
		    .id = g_text(res, i, 0),
		    .site_id = g_text(res, i, 1),
		    .site_kind = g_text(res, i, 2),
		    .registration = g_text(res, i, 3),
		    .protocol = g_text(res, i, 4),
		    .vendor = g_text(res, i, 5),
		    .model = g_text(res, i, 6),
		    .serial = g_text(res, i, 7),
		    .firmware = g_text(res, i, 8),
		    .firmware_status = g_text(res, i, 9),
		    .diagnostics_status = g_text(res, i, 10),
		    .online = g_bool(res, i, 11),
		    .last_seen_ms = g_i64(res, i, 12),
		    .last_boot_ms = g_i64(res, i, 13),
		};
		n++;
		r = fn(&row, ud);
		if (r > 0)
			r = 0;
	}
	PQclear(res);
	if (r < 0)
		return r;
	return id_or_null && n == 0 ? -ENOENT : n;
}

static int pg_connectors_list(struct store *s, const char *station_id, store_connector_fn fn,
			      void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, station_id);
	r = run(s, ST_CONNECTORS_LIST, &a, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct store_connector_row row = {
		    .connector_id = g_int(res, i, 0),
		    .status = g_text(res, i, 1),
		    .error_code = g_text(res, i, 2),
		    .info = g_text(res, i, 3),
		    .vendor_error = g_text(res, i, 4),
		    .updated_ms = g_i64(res, i, 5),
		    .evse_id = g_int(res, i, 6),
		};
		r = fn(&row, ud);
		if (r > 0)
			r = 0;
	}
	PQclear(res);
	return r;
}

static int pg_token_get(struct store *s, const char *token, struct store_token *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;

	a_text(&a, token);
	r = read_one(s, ST_TOKEN_GET, &a, &res);
	if (r < 0)
		return r;
	g_copy(res, 0, 0, ret->token, sizeof(ret->token));
	ret->status = auth_status_from_string(g_text(res, 0, 1));
	ret->expiry_ms = g_i64(res, 0, 2);
	g_copy(res, 0, 3, ret->parent, sizeof(ret->parent));
	g_copy(res, 0, 4, ret->site_id, sizeof(ret->site_id));
	PQclear(res);
	return 0;
}

static int pg_session_find_start(struct store *s, const struct store_session_open *key,
				 int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res;
	int r;

	a_text(&a, key->station_id);
	a_i64(&a, key->evse_id);
	a_text(&a, key->id_tag ? key->id_tag : "");
	a_i64(&a, key->start_ms);
	if (key->has_meter_start)
		a_i64(&a, key->meter_start_wh);
	else
		a_text(&a, NULL);
	r = read_one(s, ST_SESSION_REPLAY, &a, &res);
	if (r < 0)
		return r;
	*ret_id = g_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

/* One row of STATE_COLS. */
static int state_row(struct store *s, enum pst st, const struct args *a,
		     struct store_session_state *ret)
{
	PGresult *res;
	int r = read_one(s, st, a, &res);

	if (r < 0)
		return r;
	*ret = (struct store_session_state){
	    .id = g_i64(res, 0, 0),
	    .active = g_bool(res, 0, 1),
	    .start_ms = g_i64(res, 0, 2),
	    .has_meter_start = g_bool(res, 0, 3),
	    .has_token = g_bool(res, 0, 4),
	    .has_meter_last = g_bool(res, 0, 5),
	    .meter_last_wh = g_i64(res, 0, 6),
	    .meter_last_ms = g_i64(res, 0, 7),
	    .evse_id = g_int(res, 0, 9),
	    .connector_id = g_int(res, 0, 10),
	};
	g_copy(res, 0, 8, ret->station_id, sizeof(ret->station_id));
	PQclear(res);
	return 0;
}

static int pg_session_find_tx(struct store *s, const char *station_id, const char *station_tx_id,
			      struct store_session_state *ret)
{
	struct args a = {0};

	a_text(&a, station_id);
	a_text(&a, station_tx_id);
	return state_row(s, ST_TX_LOOKUP, &a, ret);
}

static int pg_session_state(struct store *s, int64_t id, struct store_session_state *ret)
{
	struct args a = {0};

	a_i64(&a, id);
	return state_row(s, ST_SESSION_STATE, &a, ret);
}

static int pg_session_id_tag(struct store *s, int64_t id, char ret_tag[TOKEN_MAX + 1])
{
	struct args a = {0};
	PGresult *res;
	int r;

	a_i64(&a, id);
	r = read_one(s, ST_SESSION_TAG, &a, &res);
	if (r < 0)
		return r;
	g_copy(res, 0, 0, ret_tag, TOKEN_MAX + 1);
	PQclear(res);
	return 0;
}

/* Rows of SESSION_COLS (the result of a statement that returned r) to fn; the number of rows. */
static int session_each(PGresult *res, int r, store_session_fn fn, void *ud)
{
	int n = 0;

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct store_session_row row = {
		    .id = g_i64(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .connector_id = g_int(res, i, 2),
		    .id_tag = g_text(res, i, 3),
		    .auth_status = g_text(res, i, 4),
		    .start_ms = g_i64(res, i, 5),
		    .has_meter_start = !g_null(res, i, 6),
		    .meter_start_wh = g_i64(res, i, 6),
		    .has_reservation = !g_null(res, i, 7),
		    .reservation_id = g_i64(res, i, 7),
		    .stopped = !g_null(res, i, 8),
		    .stop_ms = g_i64(res, i, 8),
		    .meter_stop_wh = g_i64(res, i, 9),
		    .stop_reason = g_text(res, i, 10),
		    .evse_id = g_int(res, i, 11),
		    .station_tx_id = g_text(res, i, 12),
		    .seq_gaps = g_int(res, i, 13),
		    .offline_events = g_int(res, i, 14),
		    .seq_max = g_null(res, i, 15) ? -1 : g_i64(res, i, 15),
		    .sample_conflicts = g_int(res, i, 16),
		};
		n++;
		r = fn(&row, ud);
		if (r > 0)
			r = 0;
	}
	PQclear(res);
	return r < 0 ? r : n;
}
static int session_rows(struct store *s, enum pst st, const struct args *a, store_session_fn fn,
			void *ud)
{
	PGresult *res = NULL;
	int r = run(s, st, a, &res);
	return session_each(res, r, fn, ud);
}
static int session_rows_sql(struct store *s, const char *sql, const struct args *a,
			    store_session_fn fn, void *ud)
{
	PGresult *res = NULL;
	int r = run_sql(s, sql, a, &res);
	return session_each(res, r, fn, ud);
}

static int pg_sessions_list(struct store *s, const struct store_session_filter *f,
			    store_session_fn fn, void *ud)
{
	struct args a = {0};

	a_text(&a, f->station_id);
	a_i64(&a, f->active);
	a_i64(&a, f->limit);
	a_i64(&a, f->offset);
	return session_rows(s, ST_SESSIONS_LIST, &a, fn, ud);
}

static int pg_session_get(struct store *s, int64_t id, store_session_fn fn, void *ud)
{
	struct args a = {0};
	int r;

	a_i64(&a, id);
	r = session_rows(s, ST_SESSION_GET, &a, fn, ud);
	return r == 0 ? -ENOENT : r;
}

static int pg_sample_conflicts(struct store *s, int64_t session_id, int64_t *ret_count)
{
	struct args a = {0};
	PGresult *res;
	int r;

	if (session_id) {
		a_i64(&a, session_id);
		r = read_one(s, ST_SAMPLE_CONFLICTS_SESSION, &a, &res);
	} else {
		r = read_one(s, ST_SAMPLE_CONFLICTS_TOTAL, NULL, &res);
	}
	if (r < 0)
		return r;
	*ret_count = g_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

static int pg_samples_list(struct store *s, int64_t session_id, store_sample_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_i64(&a, session_id);
	r = run(s, ST_SAMPLES_LIST, &a, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct store_sample row = {
		    .session_id = session_id,
		    .station_id = g_text(res, i, 0),
		    .evse_id = g_int(res, i, 1),
		    .ts_ms = g_i64(res, i, 2),
		    .measurand = g_text(res, i, 3),
		    .phase = g_text(res, i, 4),
		    .unit = g_text(res, i, 5),
		    .context = g_text(res, i, 6),
		    .location = g_text(res, i, 7),
		    .format = g_text(res, i, 8),
		    .value = g_text(res, i, 9),
		    .measurand_kind = -1,
		    .sig =
			{
			    .data = g_text(res, i, 10),
			    .signing_method = g_text(res, i, 11),
			    .encoding_method = g_text(res, i, 12),
			    .public_key = g_text(res, i, 13),
			},
		};
		r = fn(&row, ud);
		if (r > 0)
			r = 0;
	}
	PQclear(res);
	return r;
}

static int pg_orphans_list(struct store *s, int limit, store_orphan_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_i64(&a, limit);
	r = run(s, ST_ORPHANS_LIST, &a, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct store_orphan row = {
		    .station_id = g_text(res, i, 0),
		    .transaction_id = g_i64(res, i, 1),
		    .id_tag = g_text(res, i, 2),
		    .meter_stop_wh = g_i64(res, i, 3),
		    .ts_ms = g_i64(res, i, 4),
		    .reason = g_text(res, i, 5),
		    .received_ms = g_i64(res, i, 6),
		};
		r = fn(&row, ud);
		if (r > 0)
			r = 0;
	}
	PQclear(res);
	return r;
}

static int pg_variables_list(struct store *s, const char *station_id, store_variable_fn fn,
			     void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, station_id);
	r = run(s, ST_VARIABLES_LIST, &a, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct store_variable row = {
		    .component = g_text(res, i, 0),
		    .component_instance = g_text(res, i, 1),
		    .evse_id = g_int(res, i, 2),
		    .connector_id = g_int(res, i, 3),
		    .variable = g_text(res, i, 4),
		    .variable_instance = g_text(res, i, 5),
		    .attribute_type = g_text(res, i, 6),
		    .value = g_text(res, i, 7),
		    .mutability = g_text(res, i, 8),
		    .data_type = g_text(res, i, 9),
		    .unit = g_text(res, i, 10),
		};
		r = fn(&row, ud);
		if (r > 0)
			r = 0;
	}
	PQclear(res);
	return r;
}

static int pg_report_status(struct store *s, const char *station_id, int64_t request_id,
			    int *ret_parts, bool *ret_complete)
{
	struct args a = {0};
	PGresult *res;
	int r;

	a_text(&a, station_id);
	a_i64(&a, request_id);
	r = read_one(s, ST_REPORT_STATUS, &a, &res);
	if (r < 0)
		return r;
	*ret_parts = g_int(res, 0, 0);
	*ret_complete = g_bool(res, 0, 1);
	PQclear(res);
	return 0;
}

/* ---------------------------------------------------------------- helpers of the later ops */
/* A write that must change one row: 0, -ENOENT if it changed none, or the write's error. */
static int write_one(struct store *s, enum pst st, const struct args *a)
{
	PGresult *res = NULL;
	int r = write_now(s, st, a, &res);
	if (r == 0 && affected(res) == 0)
		r = -ENOENT;
	PQclear(res);
	return r;
}
/* The optional number v (>= 0), else SQL NULL. */
static void a_opt(struct args *a, int64_t v)
{
	if (v >= 0)
		a_i64(a, v);
	else
		a_text(a, NULL);
}
/* For each row i of res while r is 0 (r: the statement's outcome, then the callback's; a
 * callback's value > 0 counts as 0), counting rows in n. */
#define EACH_ROW(r, res, n, ...)                                                                   \
	for (int i_ = 0; (r) == 0 && i_ < PQntuples(res); i_++) {                                  \
		const int i = i_;                                                                  \
		(n)++;                                                                             \
		__VA_ARGS__;                                                                       \
		if ((r) > 0)                                                                       \
			(r) = 0;                                                                   \
	}
/* A query text with its parameters, built per call. */
struct pgq {
	char sql[2048];
	size_t len;
	bool overflow;
	struct args a;
};
static void q_add(struct pgq *q, const char *text)
{
	size_t n = strlen(text);
	if (q->len + n >= sizeof(q->sql)) {
		q->overflow = true;
		return;
	}
	memcpy(q->sql + q->len, text, n + 1);
	q->len += n;
}
/* text, then "$k" for a new parameter v (NULL text = SQL NULL) and its cast. */
static void q_text(struct pgq *q, const char *text, const char *v)
{
	char num[24];
	if (q->a.n >= PG_MAX_PARAMS) {
		q->overflow = true;
		return;
	}
	a_text(&q->a, v);
	snprintf(num, sizeof(num), "$%d::text", q->a.n);
	q_add(q, text);
	q_add(q, num);
}
static void q_i64(struct pgq *q, const char *text, int64_t v)
{
	char num[24];
	if (q->a.n >= PG_MAX_PARAMS) {
		q->overflow = true;
		return;
	}
	a_i64(&q->a, v);
	snprintf(num, sizeof(num), "$%d::bigint", q->a.n);
	q_add(q, text);
	q_add(q, num);
}
static int q_run(struct store *s, const struct pgq *q, PGresult **ret)
{
	return q->overflow ? -EIO : run_sql(s, q->sql, &q->a, ret);
}
/* ---------------------------------------------------------------- operator accounts */
static int pg_account_create(struct store *s, const struct store_account *ac)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	a_text(&a, ac->name);
	a_text(&a, ac->role);
	a_text(&a, ac->pw_hash);
	a_bool(&a, ac->disabled);
	a_i64(&a, ac->created_ms);
	a_i64(&a, ac->updated_ms);
	r = write_now(s, ST_ACCOUNT_CREATE, &a, &res);
	if (r == 0 && affected(res) == 0)
		r = -EEXIST;
	PQclear(res);
	return r;
}
static void account_row(const PGresult *res, int i, struct store_account *ac)
{
	g_copy(res, i, 0, ac->name, sizeof(ac->name));
	g_copy(res, i, 1, ac->role, sizeof(ac->role));
	g_copy(res, i, 2, ac->pw_hash, sizeof(ac->pw_hash));
	ac->disabled = g_bool(res, i, 3);
	ac->created_ms = g_i64(res, i, 4);
	ac->updated_ms = g_i64(res, i, 5);
}
static int pg_account_get(struct store *s, const char *name, struct store_account *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, name);
	r = read_one(s, ST_ACCOUNT_GET, &a, &res);
	if (r < 0)
		return r;
	account_row(res, 0, ret);
	PQclear(res);
	return 0;
}
static int pg_account_update(struct store *s, const struct store_account *ac)
{
	struct args a = {0};
	a_text(&a, ac->name);
	a_text(&a, ac->role);
	a_text(&a, ac->pw_hash);
	a_bool(&a, ac->disabled);
	a_i64(&a, ac->updated_ms);
	return write_one(s, ST_ACCOUNT_UPDATE, &a);
}
static int pg_account_delete(struct store *s, const char *name)
{
	struct args a = {0};
	a_text(&a, name);
	return write_one(s, ST_ACCOUNT_DELETE, &a);
}
static int pg_accounts_list(struct store *s, store_account_fn fn, void *ud)
{
	PGresult *res = NULL;
	int r = run(s, ST_ACCOUNTS_LIST, NULL, &res), n = 0;
	EACH_ROW(r, res, n, {
		struct store_account ac;
		account_row(res, i, &ac);
		r = fn(&ac, ud);
	});
	PQclear(res);
	return r < 0 ? r : 0;
}
static int pg_auth_session_add(struct store *s, const char *hash, const char *account,
			       const char *csrf, int64_t now_ms, int64_t expires_ms)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	a_text(&a, hash);
	a_text(&a, account);
	a_text(&a, csrf);
	a_i64(&a, now_ms);
	a_i64(&a, expires_ms);
	r = write_now(s, ST_AUTH_SESSION_ADD, &a, &res);
	if (r == 0 && affected(res) == 0)
		r = -EEXIST; /* the hash is taken or the account unknown (SQLite: a constraint) */
	PQclear(res);
	return r;
}
static int pg_auth_session_get(struct store *s, const char *hash, struct store_auth_session *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, hash);
	r = read_one(s, ST_AUTH_SESSION_GET, &a, &res);
	if (r < 0)
		return r;
	g_copy(res, 0, 0, ret->account, sizeof(ret->account));
	g_copy(res, 0, 1, ret->role, sizeof(ret->role));
	ret->disabled = g_bool(res, 0, 2);
	g_copy(res, 0, 3, ret->csrf, sizeof(ret->csrf));
	ret->created_ms = g_i64(res, 0, 4);
	ret->last_ms = g_i64(res, 0, 5);
	ret->expires_ms = g_i64(res, 0, 6);
	PQclear(res);
	return 0;
}
static int pg_auth_session_touch(struct store *s, const char *hash, int64_t now_ms)
{
	struct args a = {0};
	a_text(&a, hash);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_AUTH_SESSION_TOUCH, &a);
}
static int pg_auth_sessions_delete(struct store *s, const char *hash, const char *account,
				   int64_t now_ms)
{
	struct args a = {0};
	a_text(&a, hash);
	a_text(&a, hash ? NULL : account);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_AUTH_SESSIONS_DELETE, &a);
}
static int pg_api_token_add(struct store *s, const char *name, const char *role, const char *hash,
			    const char *created_by, int64_t now_ms, int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	a_text(&a, name);
	a_text(&a, role);
	a_text(&a, hash);
	a_text(&a, created_by);
	a_i64(&a, now_ms);
	r = write_now(s, ST_API_TOKEN_ADD, &a, &res);
	if (r == 0 && PQntuples(res) == 0)
		r = -EEXIST;
	else if (r == 0)
		*ret_id = g_i64(res, 0, 0);
	PQclear(res);
	return r;
}
static void api_token_row(const PGresult *res, int i, struct store_api_token *t)
{
	t->id = g_i64(res, i, 0);
	g_copy(res, i, 1, t->name, sizeof(t->name));
	g_copy(res, i, 2, t->role, sizeof(t->role));
	g_copy(res, i, 3, t->created_by, sizeof(t->created_by));
	t->created_ms = g_i64(res, i, 4);
	t->last_used_ms = g_i64(res, i, 5);
	t->revoked_ms = g_i64(res, i, 6);
}
static int pg_api_token_get(struct store *s, const char *hash, struct store_api_token *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, hash);
	r = read_one(s, ST_API_TOKEN_GET, &a, &res);
	if (r < 0)
		return r;
	api_token_row(res, 0, ret);
	PQclear(res);
	return 0;
}
static int pg_api_token_touch(struct store *s, int64_t id, int64_t now_ms)
{
	struct args a = {0};
	a_i64(&a, id);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_API_TOKEN_TOUCH, &a);
}
static int pg_api_tokens_list(struct store *s, store_api_token_fn fn, void *ud)
{
	PGresult *res = NULL;
	int r = run(s, ST_API_TOKENS_LIST, NULL, &res), n = 0;
	EACH_ROW(r, res, n, {
		struct store_api_token t;
		api_token_row(res, i, &t);
		r = fn(&t, ud);
	});
	PQclear(res);
	return r < 0 ? r : 0;
}
static int pg_api_token_revoke(struct store *s, int64_t id, int64_t now_ms)
{
	struct args a = {0};
	a_i64(&a, id);
	a_i64(&a, now_ms);
	return write_one(s, ST_API_TOKEN_REVOKE, &a);
}
static int pg_audit_add(struct store *s, const struct store_audit *au)
{
	struct args a = {0};
	a_i64(&a, au->ts_ms);
	a_text(&a, au->who ? au->who : "");
	a_text(&a, au->method ? au->method : "");
	a_text(&a, au->path ? au->path : "");
	a_i64(&a, au->status);
	a_text(&a, au->peer ? au->peer : "");
	return write_now_or_later(s, ST_AUDIT_ADD, &a);
}
static int pg_audit_list(struct store *s, int limit, int offset, store_audit_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_i64(&a, limit);
	a_i64(&a, offset);
	r = run(s, ST_AUDIT_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_audit row = {
		    .id = g_i64(res, i, 0),
		    .ts_ms = g_i64(res, i, 1),
		    .who = g_text(res, i, 2),
		    .method = g_text(res, i, 3),
		    .path = g_text(res, i, 4),
		    .status = g_int(res, i, 5),
		    .peer = g_text(res, i, 6),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : 0;
}
/* ---------------------------------------------------------------- tariffs */
static int pg_tariff_put(struct store *s, const char *id, const char *doc, int64_t now_ms)
{
	struct args a = {0};
	a_text(&a, id);
	a_text(&a, doc);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_TARIFF_PUT, &a);
}
static int pg_tariffs_list(struct store *s, const char *id_or_null, store_tariff_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, id_or_null);
	r = run(s, ST_TARIFFS_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_tariff row = {
		    .id = g_text(res, i, 0),
		    .doc = g_text(res, i, 1),
		    .updated_ms = g_i64(res, i, 2),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	return id_or_null && n == 0 ? -ENOENT : n;
}
static int pg_site_tariff_set(struct store *s, const char *site_id, const char *tariff_id)
{
	struct args a = {0};
	a_text(&a, site_id);
	a_text(&a, tariff_id);
	return write_one(s, ST_SITE_TARIFF_SET, &a);
}
static int pg_site_tariffs_list(struct store *s, const char *site_or_null, store_site_tariff_fn fn,
				void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, site_or_null);
	r = run(s, ST_SITE_TARIFFS_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_site_tariff row = {
		    .id = g_text(res, i, 0),
		    .kind = site_kind_from_string(g_text(res, i, 1)),
		    .tariff_id = g_text(res, i, 2),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	return site_or_null && n == 0 ? -ENOENT : n;
}
static int pg_energy_sessions_list(struct store *s, const char *site_or_null, int64_t from_ms,
				   int64_t to_ms, store_energy_session_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, site_or_null);
	a_i64(&a, from_ms);
	a_i64(&a, to_ms);
	a_i64(&a, STORE_ENERGY_LOOKBACK_MS);
	r = run(s, ST_ENERGY_SESSIONS, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_energy_session row = {
		    .id = g_i64(res, i, 0),
		    .site_id = g_text(res, i, 1),
		    .site_kind = site_kind_from_string(g_text(res, i, 2)),
		    .tariff_id = g_text(res, i, 3),
		    .start_ms = g_i64(res, i, 4),
		    .has_meter_start = g_bool(res, i, 5),
		    .meter_start_wh = g_i64(res, i, 6),
		    .stopped = g_bool(res, i, 7),
		    .stop_ms = g_i64(res, i, 8),
		    .meter_stop_wh = g_i64(res, i, 9),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_session_energy_samples(struct store *s, int64_t session_id, store_sample_fn fn,
				     void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_i64(&a, session_id);
	r = run(s, ST_ENERGY_SAMPLES, &a, &res);
	EACH_ROW(r, res, n, {
		const char *m = g_text(res, i, 1);
		struct store_sample row = {
		    .session_id = session_id,
		    .ts_ms = g_i64(res, i, 0),
		    .measurand = m,
		    .unit = g_text(res, i, 2),
		    .format = g_text(res, i, 3),
		    .value = g_text(res, i, 4),
		    .measurand_kind = strcmp(m, "Energy.Active.Export.Register") == 0
					  ? MEAS_ENERGY_EXPORT_REGISTER
					  : MEAS_ENERGY_IMPORT_REGISTER,
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : 0;
}
/* ---------------------------------------------------------------- planner */
static int pg_site_get(struct store *s, const char *id, struct store_site *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, id);
	r = read_one(s, ST_SITE_GET, &a, &res);
	if (r < 0)
		return r;
	g_copy(res, 0, 0, ret->id, sizeof(ret->id));
	ret->kind = site_kind_from_string(g_text(res, 0, 1));
	ret->limit_w = g_null(res, 0, 2) ? -1 : g_i64(res, 0, 2);
	PQclear(res);
	return 0;
}
static int pg_site_set_limit(struct store *s, const char *id, int64_t limit_w)
{
	struct args a = {0};
	a_text(&a, id);
	a_i64(&a, limit_w);
	return write_one(s, ST_SITE_LIMIT, &a);
}
static int pg_needs_put(struct store *s, const struct store_needs *nd)
{
	struct args a = {0};
	a_i64(&a, nd->session_id);
	a_text(&a, nd->source);
	a_opt(&a, nd->departure_ms);
	a_opt(&a, nd->energy_wh);
	a_opt(&a, nd->target_soc);
	a_opt(&a, nd->capacity_wh);
	a_opt(&a, nd->soc);
	a_bool(&a, nd->v2g);
	a_opt(&a, nd->soc_floor);
	a_opt(&a, nd->max_charge_w);
	a_opt(&a, nd->max_discharge_w);
	a_bool(&a, nd->bidirectional);
	a_opt(&a, nd->meter_wh);
	a_opt(&a, nd->export_wh);
	a_i64(&a, nd->updated_ms);
	return write_now_or_later(s, ST_NEEDS_PUT, &a);
}
static int pg_needs_get(struct store *s, int64_t session_id, struct store_needs *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_i64(&a, session_id);
	r = read_one(s, ST_NEEDS_GET, &a, &res);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->session_id = session_id;
	g_copy(res, 0, 0, ret->source, sizeof(ret->source));
	ret->departure_ms = g_i64(res, 0, 1);
	ret->energy_wh = g_i64(res, 0, 2);
	ret->target_soc = g_int(res, 0, 3);
	ret->capacity_wh = g_i64(res, 0, 4);
	ret->soc = g_int(res, 0, 5);
	ret->v2g = g_bool(res, 0, 6);
	ret->soc_floor = g_int(res, 0, 7);
	ret->max_charge_w = g_i64(res, 0, 8);
	ret->max_discharge_w = g_i64(res, 0, 9);
	ret->bidirectional = g_bool(res, 0, 10);
	ret->meter_wh = g_i64(res, 0, 11);
	ret->export_wh = g_i64(res, 0, 12);
	ret->updated_ms = g_i64(res, 0, 13);
	PQclear(res);
	return 0;
}
static int pg_site_sessions(struct store *s, const char *site_id, store_site_session_fn fn,
			    void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, site_id);
	r = run(s, ST_SITE_SESSIONS, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_site_session row = {
		    .id = g_i64(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .station_tx_id = g_text(res, i, 2),
		    .evse_id = g_int(res, i, 3),
		    .start_ms = g_i64(res, i, 4),
		    .meter_wh = g_i64(res, i, 5),
		    .meter_start_wh = g_i64(res, i, 6),
		    .export_wh = g_i64(res, i, 7),
		    .export_first_wh = g_i64(res, i, 8),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : 0;
}
static int pg_session_export(struct store *s, int64_t session_id, int64_t wh, int64_t ts_ms)
{
	struct args a = {0};
	a_i64(&a, session_id);
	a_i64(&a, wh);
	a_i64(&a, ts_ms);
	return write_now_or_later(s, ST_SESSION_EXPORT, &a);
}
static int pg_grid_event_add(struct store *s, const struct store_grid_event *e, int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	a_text(&a, e->sites);
	a_i64(&a, e->start_ms);
	a_i64(&a, e->end_ms);
	a_i64(&a, e->reduce_w);
	a_i64(&a, e->export_w);
	a_i64(&a, e->bonus_fen_per_kwh);
	a_i64(&a, e->created_ms);
	if (!ret_id)
		return write_now_or_later(s, ST_GRID_EVENT_ADD, &a);
	r = write_now(s, ST_GRID_EVENT_ADD, &a, &res);
	if (r == 0)
		*ret_id = g_i64(res, 0, 0);
	PQclear(res);
	return r;
}
static int pg_grid_events_list(struct store *s, const char *site_or_null, int64_t from_ms,
			       store_grid_event_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, site_or_null);
	a_i64(&a, from_ms);
	r = run(s, ST_GRID_EVENTS_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_grid_event row = {
		    .id = g_i64(res, i, 0),
		    .sites = g_text(res, i, 1),
		    .start_ms = g_i64(res, i, 2),
		    .end_ms = g_i64(res, i, 3),
		    .reduce_w = g_i64(res, i, 4),
		    .export_w = g_i64(res, i, 5),
		    .bonus_fen_per_kwh = g_i64(res, i, 6),
		    .created_ms = g_i64(res, i, 7),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : 0;
}
static int pg_site_plan_put(struct store *s, const char *site_id, int64_t planned_ms,
			    const char *json)
{
	struct args a = {0};
	a_text(&a, site_id);
	a_i64(&a, planned_ms);
	a_text(&a, json);
	return write_now_or_later(s, ST_SITE_PLAN_PUT, &a);
}
/* One row (key, ts, json) to fn; -ENOENT without one. */
static int doc_row(struct store *s, enum pst st, const struct args *a, store_doc_fn fn, void *ud)
{
	PGresult *res;
	int r = read_one(s, st, a, &res);
	if (r < 0)
		return r;
	r = fn(g_text(res, 0, 0), g_i64(res, 0, 1), g_text(res, 0, 2), ud);
	PQclear(res);
	return r < 0 ? r : 0;
}
static int pg_site_plan_get(struct store *s, const char *site_id, store_doc_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, site_id);
	return doc_row(s, ST_SITE_PLAN_GET, &a, fn, ud);
}
static int pg_site_forecast(struct store *s, const char *site_id, const char *json, int64_t set_ms,
			    store_doc_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, site_id);
	if (!json)
		return doc_row(s, ST_FORECAST_GET, &a, fn, ud);
	if (!*json)
		return write_now_or_later(s, ST_FORECAST_DEL, &a);
	a_i64(&a, set_ms);
	a_text(&a, json);
	return write_now_or_later(s, ST_FORECAST_PUT, &a);
}
static int pg_site_plan_slots_put(struct store *s, const char *site_id,
				  const struct store_plan_slot *row)
{
	struct args a = {0};
	a_text(&a, site_id);
	a_i64(&a, row->slot_ms);
	a_i64(&a, row->planned_w);
	a_i64(&a, row->import_w);
	a_i64(&a, row->limit_w);
	a_i64(&a, row->slot_ms - STORE_PLAN_SLOTS_KEEP_MS);
	return write_now_or_later(s, ST_PLAN_SLOT_PUT, &a);
}
static int pg_site_plan_slots_list(struct store *s, const char *site_id, int64_t from_ms,
				   int64_t to_ms, store_plan_slot_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, site_id);
	a_i64(&a, from_ms);
	a_i64(&a, to_ms);
	r = run(s, ST_PLAN_SLOTS_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_plan_slot row = {
		    .slot_ms = g_i64(res, i, 0),
		    .planned_w = g_i64(res, i, 1),
		    .import_w = g_i64(res, i, 2),
		    .limit_w = g_i64(res, i, 3),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_station_ext_limit_put(struct store *s, const char *station_id, int evse_id,
				    int64_t limit_w, int64_t until_ms, int64_t now_ms)
{
	struct args a = {0};
	a_text(&a, station_id);
	a_i64(&a, evse_id);
	if (limit_w < 0)
		return write_now_or_later(s, ST_EXT_LIMIT_DEL, &a);
	a_i64(&a, limit_w);
	a_i64(&a, until_ms);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_EXT_LIMIT_PUT, &a);
}
static int pg_site_ext_limits(struct store *s, const char *site_id, int64_t now_ms,
			      store_ext_limit_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, site_id);
	a_i64(&a, now_ms);
	r = run(s, ST_EXT_LIMITS_SITE, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_ext_limit row = {
		    .station_id = g_text(res, i, 0),
		    .evse_id = g_int(res, i, 1),
		    .limit_w = g_i64(res, i, 2),
		    .until_ms = g_i64(res, i, 3),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_session_plan_put(struct store *s, int64_t session_id, const char *site_id,
			       int64_t planned_ms, const char *json)
{
	struct args a = {0};
	a_i64(&a, session_id);
	a_text(&a, site_id);
	a_i64(&a, planned_ms);
	a_text(&a, json);
	return write_now_or_later(s, ST_SESSION_PLAN_PUT, &a);
}
static int pg_session_plan_get(struct store *s, int64_t session_id, store_doc_fn fn, void *ud)
{
	struct args a = {0};
	a_i64(&a, session_id);
	return doc_row(s, ST_SESSION_PLAN_GET, &a, fn, ud);
}
static int pg_site_energy_samples(struct store *s, const char *site_id, int64_t from_ms,
				  int64_t to_ms, store_sample_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, site_id);
	a_i64(&a, from_ms);
	a_i64(&a, to_ms);
	r = run(s, ST_SITE_ENERGY, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_sample row = {
		    .session_id = g_i64(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .evse_id = g_int(res, i, 2),
		    .ts_ms = g_i64(res, i, 3),
		    .measurand = g_text(res, i, 4),
		    .unit = g_text(res, i, 5),
		    .value = g_text(res, i, 6),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : 0;
}
static int pg_capability_put(struct store *s, const char *model, const char *json, int64_t now_ms)
{
	struct args a = {0};
	a_text(&a, model);
	a_text(&a, json);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_CAP_PUT, &a);
}
static int pg_capability_get(struct store *s, const char *model, store_doc_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, model);
	return doc_row(s, ST_CAP_GET, &a, fn, ud);
}
/* ---------------------------------------------------------------- dash: API lists, summary */
static void station_where(struct pgq *q, const struct store_station_query *f, char *prefix_end,
			  size_t n)
{
	q_add(q, " WHERE true");
	if (f->site_id)
		q_text(q, " AND s.site_id = ", f->site_id);
	if (f->site_kind >= 0) {
		q_text(q, " AND s.site_id IN (SELECT id FROM sites WHERE kind = ",
		       site_kind_to_string(f->site_kind));
		q_add(q, ")");
	}
	if (f->registration >= 0)
		q_text(q, " AND s.registration = ", reg_status_to_string(f->registration));
	if (f->protocol)
		q_text(q, " AND s.protocol = ", f->protocol);
	if (f->online >= 0)
		q_add(q, f->online ? " AND " PG_ONLINE : " AND NOT " PG_ONLINE);
	if (f->id_prefix && *f->id_prefix) {
		/* ids are printable ASCII: the prefix range ends at the prefix with its last byte
		 * incremented, an index range on the primary key (byte order with the C collation,
		 * docs/postgresql.md) */
		size_t len = strlen(f->id_prefix);
		snprintf(prefix_end, n, "%s", f->id_prefix);
		if (len < n)
			prefix_end[len - 1]++;
		q_text(q, " AND s.id >= ", f->id_prefix);
		q_text(q, " AND s.id < ", prefix_end);
	}
	if (f->connector_status) {
		q_text(q, " AND s.id IN (SELECT station_id FROM connectors WHERE status = ",
		       f->connector_status);
		q_add(q, ")");
	}
}
static int pg_stations_query(struct store *s, const struct store_station_query *f,
			     store_station_fn fn, void *ud, int64_t *ret_total)
{
	/* SQLite orders NULLs first ascending and last descending, PostgreSQL the other way:
	 * said explicitly */
	static const char *const order[] = {
	    [STORE_SORT_ID] = "s.id",
	    [STORE_SORT_LAST_SEEN] = "s.last_seen_ms",
	    [STORE_SORT_SITE] = "s.site_id",
	};
	char prefix_end[STATION_ID_MAX + 2], buf[160];
	const char *dir = f->desc ? " DESC" : "", *nulls = f->desc ? " NULLS LAST" : " NULLS FIRST";
	struct pgq q = {.len = 0};
	PGresult *res = NULL;
	int64_t total = 0;
	int r, n = 0;
	if (f->sort < 0 || f->sort > STORE_SORT_SITE)
		return -EINVAL;
	if (ret_total) {
		q_add(&q, "SELECT count(*) FROM stations s");
		station_where(&q, f, prefix_end, sizeof(prefix_end));
		r = q_run(s, &q, &res);
		if (r < 0)
			return r;
		total = g_i64(res, 0, 0);
		PQclear(res);
		res = NULL;
		memset(&q, 0, sizeof(q));
	}
	q_add(&q, "SELECT " STATION_COLS " FROM stations s LEFT JOIN sites t ON t.id = s.site_id");
	station_where(&q, f, prefix_end, sizeof(prefix_end));
	if (f->after_id && f->sort == STORE_SORT_ID)
		q_text(&q, f->desc ? " AND s.id < " : " AND s.id > ", f->after_id);
	if (f->sort == STORE_SORT_ID)
		snprintf(buf, sizeof(buf), " ORDER BY %s%s", order[STORE_SORT_ID], dir);
	else
		snprintf(buf, sizeof(buf), " ORDER BY %s%s%s, %s%s", order[f->sort], dir, nulls,
			 order[STORE_SORT_ID], dir);
	q_add(&q, buf);
	q_i64(&q, " LIMIT CASE WHEN ", f->limit);
	q_i64(&q, " < 0 THEN NULL ELSE ", f->limit);
	q_i64(&q, " END OFFSET GREATEST(0, ", f->offset);
	q_add(&q, ")");
	r = q_run(s, &q, &res);
	EACH_ROW(r, res, n, {
		struct store_station_row row = {
		    .id = g_text(res, i, 0),
		    .site_id = g_text(res, i, 1),
		    .site_kind = g_text(res, i, 2),
		    .registration = g_text(res, i, 3),
		    .protocol = g_text(res, i, 4),
		    .vendor = g_text(res, i, 5),
		    .model = g_text(res, i, 6),
		    .serial = g_text(res, i, 7),
		    .firmware = g_text(res, i, 8),
		    .firmware_status = g_text(res, i, 9),
		    .diagnostics_status = g_text(res, i, 10),
		    .online = g_bool(res, i, 11),
		    .last_seen_ms = g_i64(res, i, 12),
		    .last_boot_ms = g_i64(res, i, 13),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	if (ret_total)
		*ret_total = total;
	return n;
}
static void session_where(struct pgq *q, const struct store_session_query *f, bool page)
{
	q_add(q, " WHERE true");
	if (f->station_id)
		q_text(q, " AND station_id = ", f->station_id);
	if (f->site_id) {
		q_text(q,
		       " AND station_id IN (SELECT id FROM stations WHERE site_id = ", f->site_id);
		q_add(q, ")");
	}
	if (f->id_tag)
		q_text(q, " AND id_tag = ", f->id_tag);
	if (f->active >= 0)
		q_add(q, f->active ? " AND stop_ms IS NULL" : " AND stop_ms IS NOT NULL");
	if (f->from_ms)
		q_i64(q, " AND start_ms >= ", f->from_ms);
	if (f->to_ms)
		q_i64(q, " AND start_ms < ", f->to_ms);
	if (page && f->before_id)
		q_i64(q, " AND id < ", f->before_id);
}
static int pg_sessions_query(struct store *s, const struct store_session_query *f,
			     store_session_fn fn, void *ud, int64_t total_max, int64_t *ret_total)
{
	struct pgq q = {.len = 0};
	PGresult *res = NULL;
	int64_t total = 0;
	int r;
	if (ret_total) {
		q_add(&q, "SELECT count(*) FROM (SELECT 1 FROM sessions");
		session_where(&q, f, false);
		q_i64(&q, " LIMIT ", total_max + 1);
		q_add(&q, ") c");
		r = q_run(s, &q, &res);
		if (r < 0)
			return r;
		total = g_i64(res, 0, 0);
		PQclear(res);
		memset(&q, 0, sizeof(q));
	}
	q_add(&q, "SELECT " SESSION_COLS " FROM sessions");
	session_where(&q, f, true);
	q_i64(&q, " ORDER BY id DESC LIMIT CASE WHEN ", f->limit);
	q_i64(&q, " < 0 THEN NULL ELSE ", f->limit);
	q_i64(&q, " END OFFSET GREATEST(0, ", f->offset);
	q_add(&q, ")");
	if (q.overflow)
		return -EIO;
	r = session_rows_sql(s, q.sql, &q.a, fn, ud);
	if (r >= 0 && ret_total)
		*ret_total = total;
	return r;
}
static int pg_samples_page(struct store *s, int64_t session_id, const char *measurand, int limit,
			   struct store_sample_cursor *cursor, store_sample_fn fn, void *ud)
{
	struct store_sample_cursor at = *cursor;
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_i64(&a, session_id);
	a_i64(&a, cursor->ts_ms);
	a_i64(&a, cursor->seq);
	a_text(&a, measurand);
	a_i64(&a, limit);
	r = run(s, ST_SAMPLES_PAGE, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_sample row = {
		    .session_id = session_id,
		    .station_id = g_text(res, i, 0),
		    .evse_id = g_int(res, i, 1),
		    .ts_ms = g_i64(res, i, 2),
		    .measurand = g_text(res, i, 3),
		    .phase = g_text(res, i, 4),
		    .unit = g_text(res, i, 5),
		    .context = g_text(res, i, 6),
		    .location = g_text(res, i, 7),
		    .format = g_text(res, i, 8),
		    .value = g_text(res, i, 9),
		    .measurand_kind = -1,
		    .sig =
			{
			    .data = g_text(res, i, 10),
			    .signing_method = g_text(res, i, 11),
			    .encoding_method = g_text(res, i, 12),
			    .public_key = g_text(res, i, 13),
			},
		};
		at.ts_ms = row.ts_ms;
		at.seq = g_i64(res, i, 14);
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	*cursor = at;
	return n;
}
static int pg_station_history(struct store *s, const char *station_id, int limit, int offset,
			      store_history_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, station_id);
	a_i64(&a, limit);
	a_i64(&a, offset);
	r = run(s, ST_STATION_HISTORY, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_history_row row = {
		    .source = g_text(res, i, 0),
		    .kind = g_text(res, i, 1),
		    .text = g_text(res, i, 2),
		    .ts_ms = g_i64(res, i, 3),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_connectors_query(struct store *s, const char *status, int limit, int offset,
			       store_connector_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, status);
	a_i64(&a, limit);
	a_i64(&a, offset);
	r = run(s, ST_CONNECTORS_QUERY, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_connector_row row = {
		    .connector_id = g_int(res, i, 0),
		    .status = g_text(res, i, 1),
		    .error_code = g_text(res, i, 2),
		    .info = g_text(res, i, 3),
		    .vendor_error = g_text(res, i, 4),
		    .updated_ms = g_i64(res, i, 5),
		    .evse_id = g_int(res, i, 6),
		    .station_id = g_text(res, i, 7),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_summary(struct store *s, int64_t day_start_ms, struct store_summary *ret)
{
	struct store_summary sum = {.stations = 0};
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	r = run(s, ST_SUMMARY_STATIONS, NULL, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		int kind = g_null(res, i, 0) ? -1 : site_kind_from_string(g_text(res, i, 0));
		int reg = reg_status_from_string(g_text(res, i, 1));
		int64_t n = g_i64(res, i, 3);
		if (kind < 0)
			kind = _SITE_KIND_MAX;
		sum.stations += n;
		sum.by_kind[kind] += n;
		if (g_bool(res, i, 2)) {
			sum.online += n;
			sum.online_by_kind[kind] += n;
		}
		if (reg >= 0)
			sum.by_reg[reg] += n;
		if (reg == REG_PENDING)
			sum.pending += n;
	}
	PQclear(res);
	res = NULL;
	/* energy today: sessions started since day_start, to their stop or latest reading */
	a_i64(&a, day_start_ms);
	if (r == 0)
		r = read_one(s, ST_SUMMARY_SESSIONS, &a, &res);
	if (r == 0) {
		sum.sessions_today = g_i64(res, 0, 0);
		sum.energy_today_wh = g_i64(res, 0, 1);
		sum.sessions_active = g_i64(res, 0, 2);
		PQclear(res);
		res = NULL;
		r = run(s, ST_SUMMARY_CONNECTORS, NULL, &res);
	}
	for (int i = 0; r == 0 && i < PQntuples(res) && sum.n_status < STORE_SUMMARY_STATUSES;
	     i++) {
		g_copy(res, i, 0, sum.connectors[sum.n_status].status,
		       sizeof(sum.connectors[0].status));
		sum.connectors[sum.n_status].count = g_i64(res, i, 1);
		sum.n_status++;
	}
	PQclear(res);
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}
/* ---------------------------------------------------------------- security (0008) */
static int pg_station_security_get(struct store *s, const char *id,
				   struct store_station_security *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, id);
	r = read_one(s, ST_SECURITY_GET, &a, &res);
	if (r < 0)
		return r;
	ret->profile = g_int(res, 0, 0);
	g_copy(res, 0, 1, ret->password_hash, sizeof(ret->password_hash));
	g_copy(res, 0, 2, ret->cert_cn, sizeof(ret->cert_cn));
	g_copy(res, 0, 3, ret->cert_fp, sizeof(ret->cert_fp));
	PQclear(res);
	return 0;
}
static int pg_station_security_set(struct store *s, const char *id, int profile,
				   const char *password_hash, const char *cert_cn,
				   const char *cert_fp)
{
	struct args a = {0};
	if (profile > 3)
		return -EINVAL;
	a_text(&a, id);
	a_i64(&a, profile);
	a_text(&a, password_hash);
	a_text(&a, cert_cn);
	a_text(&a, cert_fp);
	return write_one(s, ST_SECURITY_SET, &a);
}
static int pg_stations_count_registration(struct store *s, int registration, int64_t *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, reg_status_to_string(registration));
	r = read_one(s, ST_COUNT_REGISTRATION, &a, &res);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	*ret = g_i64(res, 0, 0);
	PQclear(res);
	return 0;
}
/* ---------------------------------------------------------------- sites (0011) */
/* A nullable policy number, v == none: SQL NULL. */
static void a_opt_int(struct args *a, int v, int none)
{
	if (v == none)
		a_text(a, NULL);
	else
		a_i64(a, v);
}
/* A percentage, NULL when not above 0 (the default). */
static void a_opt_pct(struct args *a, double v)
{
	if (v <= 0) {
		a_text(a, NULL);
		return;
	}
	snprintf(a->num[a->n], sizeof(a->num[0]), "%.17g", v);
	a->v[a->n] = a->num[a->n];
	a->n++;
}
/* A tri-state flag: -1 (the kind's default) is SQL NULL. */
static void a_opt_bool(struct args *a, int v)
{
	if (v < 0)
		a_text(a, NULL);
	else
		a_bool(a, v != 0);
}
static int opt_int(const PGresult *res, int row, int col, int def)
{
	return g_null(res, row, col) ? def : g_int(res, row, col);
}
static int opt_bool(const PGresult *res, int row, int col)
{
	return g_null(res, row, col) ? -1 : g_bool(res, row, col);
}
static int pg_sites_list(struct store *s, const char *id_or_null, store_site_row_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, id_or_null);
	r = run(s, ST_SITES_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_site_row row = {
		    .rec =
			{
			    .id = g_text(res, i, 0),
			    .kind = site_kind_from_string(g_text(res, i, 1)),
			    .name = g_text(res, i, 2),
			    .location = g_text(res, i, 3),
			    .heartbeat_s = opt_int(res, i, 4, 0),
			    .local_list = opt_bool(res, i, 5),
			    .local_list_max = opt_int(res, i, 6, 0),
			    .reservations = opt_bool(res, i, 7),
			    .reservation_max_s = opt_int(res, i, 8, 0),
			    .swap_soh_flag_below = strtod(PQgetvalue(res, i, 14), NULL),
			    .swap_promised_soc = strtod(PQgetvalue(res, i, 15), NULL),
			},
		    .limit_w = g_null(res, i, 9) ? -1 : g_i64(res, i, 9),
		    .tariff_id = g_text(res, i, 10),
		    .created_ms = g_i64(res, i, 11),
		    .stations = g_i64(res, i, 12),
		    .online = g_i64(res, i, 13),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	return id_or_null && n == 0 ? -ENOENT : n;
}
static int pg_site_save(struct store *s, const struct store_site_rec *rec, bool create,
			int64_t now_ms)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	/* SQLite answers a kind it cannot store with a constraint error; here that would abort
	 * the group */
	if (!site_kind_to_string(rec->kind))
		return -EINVAL;
	a_text(&a, rec->id);
	a_text(&a, site_kind_to_string(rec->kind));
	a_text(&a, rec->name);
	a_text(&a, rec->location);
	a_opt_int(&a, rec->heartbeat_s, 0);
	a_opt_bool(&a, rec->local_list);
	a_opt_int(&a, rec->local_list_max, 0);
	a_opt_bool(&a, rec->reservations);
	a_opt_int(&a, rec->reservation_max_s, 0);
	a_opt_pct(&a, rec->swap_soh_flag_below);
	a_opt_pct(&a, rec->swap_promised_soc);
	if (!create)
		return write_one(s, ST_SITE_UPDATE, &a);
	a_i64(&a, now_ms);
	r = write_now(s, ST_SITE_CREATE, &a, &res);
	if (r == 0 && affected(res) == 0)
		r = -EEXIST;
	PQclear(res);
	return r;
}
static int pg_site_delete(struct store *s, const char *id)
{
	struct args a = {0};
	PGresult *res;
	int64_t found, refs;
	int r;
	a_text(&a, id);
	r = read_one(s, ST_SITE_REFS, &a, &res);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	found = g_i64(res, 0, 0);
	refs = g_i64(res, 0, 1);
	PQclear(res);
	if (!found)
		return -ENOENT;
	if (refs)
		return -EBUSY;
	return write_now_or_later(s, ST_SITE_DELETE, &a);
}
static void resv_row(const PGresult *res, int i, struct store_reservation *rv)
{
	rv->id = g_i64(res, i, 0);
	g_copy(res, i, 1, rv->station_id, sizeof(rv->station_id));
	rv->evse_id = g_int(res, i, 2);
	g_copy(res, i, 3, rv->id_tag, sizeof(rv->id_tag));
	rv->expiry_ms = g_i64(res, i, 4);
	g_copy(res, i, 5, rv->status, sizeof(rv->status));
	rv->session_id = g_i64(res, i, 6);
	rv->created_ms = g_i64(res, i, 7);
	rv->updated_ms = g_i64(res, i, 8);
}
static int pg_reservation_put(struct store *s, const struct store_reservation *in)
{
	/* the CHECK of the reservations table, tested here: a violation would abort the group
	 * (SQLite answers -EINVAL for it) */
	static const char *const words[] = {"Requested", "Accepted", "Rejected", "Failed",
					    "Cancelled", "Expired",  "Removed",	 "Used"};
	struct args a = {0};
	bool ok = false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		ok = ok || !strcmp(in->status, words[i]);
	if (!ok)
		return -EINVAL;
	a_i64(&a, in->id);
	a_text(&a, in->station_id);
	a_i64(&a, in->evse_id);
	a_text(&a, in->id_tag);
	a_i64(&a, in->expiry_ms);
	a_text(&a, in->status);
	a_i64(&a, in->session_id);
	a_i64(&a, in->created_ms);
	a_i64(&a, in->updated_ms);
	return write_now_or_later(s, ST_RESV_PUT, &a);
}
static int pg_reservation_get(struct store *s, int64_t id, struct store_reservation *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_i64(&a, id);
	r = read_one(s, ST_RESV_GET, &a, &res);
	if (r < 0)
		return r;
	resv_row(res, 0, ret);
	PQclear(res);
	return 0;
}
static int resv_each(struct store *s, enum pst st, const struct args *a, store_reservation_fn fn,
		     void *ud)
{
	PGresult *res = NULL;
	int r = run(s, st, a, &res), n = 0;
	EACH_ROW(r, res, n, {
		struct store_reservation row;
		resv_row(res, i, &row);
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_reservations_list(struct store *s, const char *station_or_null, bool open_only,
				int limit, store_reservation_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, station_or_null);
	a_bool(&a, open_only);
	a_i64(&a, limit);
	return resv_each(s, ST_RESV_LIST, &a, fn, ud);
}
static int pg_reservations_due(struct store *s, int64_t now_ms, store_reservation_fn fn, void *ud)
{
	struct args a = {0};
	a_i64(&a, now_ms);
	return resv_each(s, ST_RESV_DUE, &a, fn, ud);
}
static int pg_station_log_add(struct store *s, const char *station_id,
			      const struct store_log_row *row)
{
	struct pg_rows *b = &pq(s)->log_rows;
	int r;

	/* the CHECK on kind, tested here so that a violation does not abort the group */
	if (!row->kind || (strcmp(row->kind, "link") && strcmp(row->kind, "status")) ||
	    !row->state || !station_id)
		return -EINVAL;
	r = begin_write(s);
	if (r < 0)
		return r;
	arr_text(&b->col[0], station_id);
	arr_text(&b->col[1], row->kind);
	arr_i64(&b->col[2], row->evse_id);
	arr_i64(&b->col[3], row->connector_id);
	arr_text(&b->col[4], row->state);
	arr_i64(&b->col[5], row->ts_ms);
	return rows_added(s, b, ST_STATION_LOG_ROWS, 6);
}
static int pg_station_log_list(struct store *s, const char *station_id, int64_t from_ms,
			       int64_t to_ms, store_log_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, station_id);
	a_i64(&a, from_ms);
	a_i64(&a, to_ms);
	r = run(s, ST_STATION_LOG_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_log_row row = {
		    .kind = g_text(res, i, 0),
		    .state = g_text(res, i, 1),
		    .evse_id = g_int(res, i, 2),
		    .connector_id = g_int(res, i, 3),
		    .ts_ms = g_i64(res, i, 4),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_sessions_late(struct store *s, const char *station_id, int64_t from_ms, int64_t to_ms,
			    int64_t late_ms, int64_t *ret_count)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, station_id);
	a_i64(&a, from_ms);
	a_i64(&a, to_ms);
	a_i64(&a, late_ms);
	r = read_one(s, ST_SESSIONS_LATE, &a, &res);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	*ret_count = g_i64(res, 0, 0);
	PQclear(res);
	return 0;
}
static int list_entries(struct store *s, enum pst st, const struct args *a, store_list_entry_fn fn,
			void *ud)
{
	PGresult *res = NULL;
	int r = run(s, st, a, &res), n = 0;
	EACH_ROW(r, res, n, {
		struct store_list_entry e = {
		    .status = auth_status_from_string(g_text(res, i, 1)),
		    .expiry_ms = g_i64(res, i, 2),
		};
		g_copy(res, i, 0, e.token, sizeof(e.token));
		g_copy(res, i, 3, e.parent, sizeof(e.parent));
		r = fn(&e, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_site_tokens(struct store *s, const char *site_id, bool with_unbound, int limit,
			  store_list_entry_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, site_id);
	a_bool(&a, with_unbound);
	a_i64(&a, limit);
	return list_entries(s, ST_SITE_TOKENS, &a, fn, ud);
}
static int pg_local_list_version(struct store *s, const char *station_id, int64_t *ret_version)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, station_id);
	r = read_one(s, ST_LOCAL_LIST_VERSION, &a, &res);
	if (r < 0)
		return r;
	*ret_version = g_i64(res, 0, 0);
	PQclear(res);
	return 0;
}
static int pg_local_list_entries(struct store *s, const char *station_id, store_list_entry_fn fn,
				 void *ud)
{
	struct args a = {0};
	a_text(&a, station_id);
	return list_entries(s, ST_LOCAL_LIST_ENTRIES, &a, fn, ud);
}
/* Entries (*ud) by token, then by position: the last of a token is what an update leaves. */
static int by_token_then_pos(const void *a, const void *b, void *ud)
{
	const struct store_list_entry *e = *(const struct store_list_entry *const *)ud;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(e[x].token, e[y].token);

	return c ? c : x < y ? -1 : x > y;
}

/*
** An update in one statement, not waited for (a rural site's list is hundreds of tokens: one
** row per token was most of what PostgreSQL did in the city run, docs/scaling.md; now the list
** is one row, 0023). A token named twice ends as its last entry says, as one statement per
** entry in order would leave it.
*/
static int pg_local_list_save(struct store *s, const char *station_id, int64_t version, bool full,
			      const struct store_list_entry *e, size_t n, int64_t now_ms)
{
	struct arr col[5] = {{0}}; /* tokens, statuses, expiry, parents; removed tokens */
	size_t *ord = n ? malloc(n * sizeof(*ord)) : NULL;
	struct args a = {0};
	int r = 0;

	if (n && !ord)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	if (n)
		qsort_r(ord, n, sizeof(*ord), by_token_then_pos, &e);
	for (size_t k = 0; k < n; k++) {
		const struct store_list_entry *x = &e[ord[k]];

		if (k + 1 < n && !strcmp(x->token, e[ord[k + 1]].token))
			continue; /* a later entry of the same token wins */
		if (x->status < 0) {
			arr_text(&col[4], x->token);
			continue;
		}
		arr_text(&col[0], x->token);
		arr_text(&col[1], auth_status_to_string(x->status));
		arr_i64(&col[2], x->expiry_ms);
		arr_text(&col[3], x->parent);
	}
	free(ord);
	a_text(&a, station_id);
	a_i64(&a, version);
	a_i64(&a, now_ms);
	a_bool(&a, full);
	for (int c = 0; c < 5; c++) {
		if (col[c].len)
			arr_put(&col[c], "}", 1);
		if (col[c].oom)
			r = -ENOMEM;
		a_text(&a, col[c].len ? col[c].p : "{}");
	}
	if (r == 0)
		r = write_now_or_later(s, ST_LOCAL_LIST_SAVE, &a);
	for (int c = 0; c < 5; c++)
		free(col[c].p);
	return r;
}
/* ---------------------------------------------------------------- certificates (0010) */
static int pg_cert_add(struct store *s, const struct store_cert *c)
{
	struct args a = {0};
	a_text(&a, c->station_id);
	a_text(&a, c->serial);
	a_text(&a, c->type);
	a_i64(&a, c->issued_ms);
	a_i64(&a, c->not_after_ms);
	a_text(&a, c->pem);
	return write_now_or_later(s, ST_CERT_ADD, &a);
}
static int cert_rows(struct store *s, enum pst st, const struct args *a, store_cert_fn fn, void *ud)
{
	PGresult *res = NULL;
	int r = run(s, st, a, &res), n = 0;
	EACH_ROW(r, res, n, {
		struct store_cert row = {
		    .id = g_i64(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .serial = g_text(res, i, 2),
		    .type = g_text(res, i, 3),
		    .issued_ms = g_i64(res, i, 4),
		    .not_after_ms = g_i64(res, i, 5),
		    .renew_requested_ms = g_i64(res, i, 6),
		    .pem = g_text(res, i, 7),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_certs_list(struct store *s, const char *station_or_null, int limit, store_cert_fn fn,
			 void *ud)
{
	struct args a = {0};
	a_text(&a, station_or_null);
	a_i64(&a, limit);
	return cert_rows(s, ST_CERTS_LIST, &a, fn, ud);
}
static int pg_certs_expiring(struct store *s, int64_t before_ms, store_cert_fn fn, void *ud)
{
	struct args a = {0};
	a_i64(&a, before_ms);
	return cert_rows(s, ST_CERTS_EXPIRING, &a, fn, ud);
}
static int pg_cert_renew_mark(struct store *s, int64_t id, int64_t now_ms)
{
	struct args a = {0};
	a_i64(&a, id);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_CERT_RENEW_MARK, &a);
}
static int pg_station_password_set(struct store *s, const char *id, const char *password_hash)
{
	struct args a = {0};
	a_text(&a, id);
	a_text(&a, password_hash);
	return write_one(s, ST_PASSWORD_SET, &a);
}
static int pg_security_events(struct store *s, const char *station_id, int limit, int offset,
			      store_history_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, station_id);
	a_i64(&a, limit);
	a_i64(&a, offset);
	r = run(s, ST_SECURITY_EVENTS, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_history_row row = {
		    .source = "notice",
		    .kind = g_text(res, i, 0),
		    .text = g_text(res, i, 1),
		    .ts_ms = g_i64(res, i, 2),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
/* ---------------------------------------------------------------- swap (0012) */
/* A double as text that reads back to the same value (DOUBLE PRECISION columns). */
static void a_dbl(struct args *a, double v)
{
	snprintf(a->num[a->n], sizeof(a->num[0]), "%.17g", v);
	a->v[a->n] = a->num[a->n];
	a->n++;
}
static double g_dbl(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtod(PQgetvalue(res, row, col), NULL);
}
/* Both statements in the pipeline, neither waited for. */
static int pg_swap_pack_put(struct store *s, const struct store_swap_pack *p)
{
	struct args a = {0}, h = {0};
	int r;
	a_text(&a, p->serial);
	a_text(&a, p->station_id ? p->station_id : "");
	a_text(&a, p->type ? p->type : "");
	a_i64(&a, p->capacity_wh);
	a_dbl(&a, p->soc);
	a_dbl(&a, p->soh);
	a_i64(&a, p->cycles);
	a_text(&a, p->location ? p->location : "store");
	a_i64(&a, p->evse_id);
	a_text(&a, p->vehicle ? p->vehicle : "");
	a_i64(&a, p->production_ms);
	a_i64(&a, p->in_ms);
	a_bool(&a, p->flagged);
	a_i64(&a, p->updated_ms);
	r = write_now_or_later(s, ST_SWAP_PACK_PUT, &a);
	if (r < 0 || p->soh < 0)
		return r;
	a_text(&h, p->serial);
	a_i64(&h, p->updated_ms);
	a_dbl(&h, p->soh);
	return defer(s, ST_SWAP_SOH_ADD, &h);
}
static int pg_swap_packs_list(struct store *s, const char *station_or_null,
			      const char *serial_or_null, store_swap_pack_fn fn, void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, station_or_null);
	a_text(&a, serial_or_null);
	r = run(s, ST_SWAP_PACKS_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_swap_pack row = {
		    .serial = g_text(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .type = g_text(res, i, 2),
		    .capacity_wh = g_i64(res, i, 3),
		    .soc = g_dbl(res, i, 4),
		    .soh = g_dbl(res, i, 5),
		    .cycles = g_i64(res, i, 6),
		    .location = g_text(res, i, 7),
		    .evse_id = g_int(res, i, 8),
		    .vehicle = g_text(res, i, 9),
		    .production_ms = g_i64(res, i, 10),
		    .in_ms = g_i64(res, i, 11),
		    .flagged = g_bool(res, i, 12),
		    .updated_ms = g_i64(res, i, 13),
		    .ready_ms = g_i64(res, i, 14),
		    .ready_set_ms = g_i64(res, i, 15),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	return serial_or_null && n == 0 ? -ENOENT : n;
}
static int pg_swap_pack_soh_list(struct store *s, const char *serial, store_swap_soh_fn fn,
				 void *ud)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r, n = 0;
	a_text(&a, serial);
	r = run(s, ST_SWAP_SOH_LIST, &a, &res);
	EACH_ROW(r, res, n, {
		struct store_swap_soh row = {
		    .serial = g_text(res, i, 0),
		    .ts_ms = g_i64(res, i, 1),
		    .soh = g_dbl(res, i, 2),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_swap_order_put(struct store *s, const struct store_swap_order *o, int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	a_text(&a, o->station_id);
	a_i64(&a, o->request_id);
	a_text(&a, o->vehicle ? o->vehicle : "");
	a_i64(&a, o->booking_id);
	a_text(&a, o->packs_out ? o->packs_out : "");
	a_text(&a, o->packs_in ? o->packs_in : "");
	a_dbl(&a, o->soc_out);
	a_dbl(&a, o->soc_in);
	a_i64(&a, o->energy_out_wh);
	a_i64(&a, o->energy_in_wh);
	a_i64(&a, o->delta_wh);
	a_text(&a, o->tier ? o->tier : "");
	a_i64(&a, o->price_fen_per_mwh);
	a_i64(&a, o->cost_fen);
	a_text(&a, o->state ? o->state : "open");
	a_dbl(&a, o->promised_soc);
	a_i64(&a, o->created_ms);
	a_i64(&a, o->in_ms);
	a_i64(&a, o->out_ms);
	a_i64(&a, o->done_ms);
	if (o->id) {
		a_i64(&a, o->id);
		return write_one(s, ST_SWAP_ORDER_SET, &a);
	}
	r = write_now(s, ST_SWAP_ORDER_ADD, &a, &res);
	if (r == 0 && PQntuples(res) == 0)
		r = -EEXIST;
	else if (r == 0 && ret_id)
		*ret_id = g_i64(res, 0, 0);
	PQclear(res);
	return r;
}
static int swap_order_rows(struct store *s, enum pst st, const struct args *a,
			   store_swap_order_fn fn, void *ud)
{
	PGresult *res = NULL;
	int r = run(s, st, a, &res), n = 0;
	EACH_ROW(r, res, n, {
		struct store_swap_order row = {
		    .id = g_i64(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .request_id = g_i64(res, i, 2),
		    .vehicle = g_text(res, i, 3),
		    .booking_id = g_i64(res, i, 4),
		    .packs_out = g_text(res, i, 5),
		    .packs_in = g_text(res, i, 6),
		    .soc_out = g_dbl(res, i, 7),
		    .soc_in = g_dbl(res, i, 8),
		    .energy_out_wh = g_i64(res, i, 9),
		    .energy_in_wh = g_i64(res, i, 10),
		    .delta_wh = g_i64(res, i, 11),
		    .tier = g_text(res, i, 12),
		    .price_fen_per_mwh = g_i64(res, i, 13),
		    .cost_fen = g_i64(res, i, 14),
		    .state = g_text(res, i, 15),
		    .promised_soc = g_dbl(res, i, 16),
		    .created_ms = g_i64(res, i, 17),
		    .in_ms = g_i64(res, i, 18),
		    .out_ms = g_i64(res, i, 19),
		    .done_ms = g_i64(res, i, 20),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_swap_order_get(struct store *s, const char *station_id, int64_t request_id,
			     store_swap_order_fn fn, void *ud)
{
	struct args a = {0};
	int r;
	a_text(&a, station_id);
	a_i64(&a, request_id);
	r = swap_order_rows(s, ST_SWAP_ORDER_GET, &a, fn, ud);
	return r == 0 ? -ENOENT : r;
}
static int pg_swap_orders_list(struct store *s, const char *station_or_null, int64_t from_ms,
			       int64_t to_ms, store_swap_order_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, station_or_null);
	a_i64(&a, from_ms);
	a_i64(&a, to_ms);
	return swap_order_rows(s, ST_SWAP_ORDERS_LIST, &a, fn, ud);
}
static int pg_swap_booking_put(struct store *s, const struct store_swap_booking *b, int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;
	a_text(&a, b->station_id);
	a_text(&a, b->vehicle);
	a_i64(&a, b->due_ms);
	a_dbl(&a, b->min_soc);
	a_text(&a, b->state ? b->state : "queued");
	a_i64(&a, b->request_id);
	a_i64(&a, b->created_ms);
	if (b->id) {
		a_i64(&a, b->id);
		return write_one(s, ST_SWAP_BOOKING_SET, &a);
	}
	r = write_now(s, ST_SWAP_BOOKING_ADD, &a, &res);
	if (r == 0 && PQntuples(res) != 1)
		r = -EIO;
	else if (r == 0 && ret_id)
		*ret_id = g_i64(res, 0, 0);
	PQclear(res);
	return r;
}
/* The booking rows of statement id run with a: the number of rows or a negative errno. */
static int swap_booking_rows(struct store *s, enum pst id, struct args *a, store_swap_booking_fn fn,
			     void *ud)
{
	PGresult *res = NULL;
	int r, n = 0;
	r = run(s, id, a, &res);
	EACH_ROW(r, res, n, {
		struct store_swap_booking row = {
		    .id = g_i64(res, i, 0),
		    .station_id = g_text(res, i, 1),
		    .vehicle = g_text(res, i, 2),
		    .due_ms = g_i64(res, i, 3),
		    .min_soc = g_dbl(res, i, 4),
		    .state = g_text(res, i, 5),
		    .request_id = g_i64(res, i, 6),
		    .created_ms = g_i64(res, i, 7),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	return r < 0 ? r : n;
}
static int pg_swap_bookings_list(struct store *s, const char *station_or_null, int64_t id_or_zero,
				 int64_t from_ms, store_swap_booking_fn fn, void *ud)
{
	struct args a = {0};
	int n;
	a_text(&a, station_or_null);
	a_i64(&a, id_or_zero);
	a_i64(&a, from_ms);
	n = swap_booking_rows(s, ST_SWAP_BOOKINGS_LIST, &a, fn, ud);
	return id_or_zero && n == 0 ? -ENOENT : n;
}
static int pg_swap_bookings_open(struct store *s, const char *station_id,
				 const char *vehicle_or_null, store_swap_booking_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, station_id);
	a_text(&a, vehicle_or_null);
	return swap_booking_rows(s, ST_SWAP_BOOKINGS_OPEN, &a, fn, ud);
}
static int pg_swap_pack_ready_set(struct store *s, const char *serial, int64_t ready_ms,
				  int64_t set_ms)
{
	struct args a = {0};
	a_text(&a, serial);
	a_i64(&a, ready_ms);
	a_i64(&a, set_ms);
	return write_now_or_later(s, ST_SWAP_READY_SET, &a);
}
/* ---- model capabilities (0016) */
static int pg_model_caps_put(struct store *s, const struct store_model_caps *c)
{
	struct args a = {0};
	a_text(&a, c->vendor);
	a_text(&a, c->model);
	a_text(&a, c->learned ? c->learned : "{}");
	a_text(&a, c->override ? c->override : "{}");
	a_text(&a, c->reason ? c->reason : "");
	a_i64(&a, c->updated_ms);
	return write_now_or_later(s, ST_MCAPS_PUT, &a);
}
static int mcaps_rows(struct store *s, enum pst st, const struct args *a, bool one,
		      store_model_caps_fn fn, void *ud)
{
	PGresult *res = NULL;
	int r = run(s, st, a, &res), n = 0;
	EACH_ROW(r, res, n, {
		struct store_model_caps row = {
		    .vendor = g_text(res, i, 0),
		    .model = g_text(res, i, 1),
		    .learned = g_text(res, i, 2),
		    .override = g_text(res, i, 3),
		    .reason = g_text(res, i, 4),
		    .updated_ms = g_i64(res, i, 5),
		};
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	return one && n == 0 ? -ENOENT : one ? 0 : n;
}
static int pg_model_caps_get(struct store *s, const char *vendor, const char *model,
			     store_model_caps_fn fn, void *ud)
{
	struct args a = {0};
	a_text(&a, vendor);
	a_text(&a, model);
	return mcaps_rows(s, ST_MCAPS_GET, &a, true, fn, ud);
}
static int pg_model_caps_list(struct store *s, store_model_caps_fn fn, void *ud)
{
	struct args a = {0};
	return mcaps_rows(s, ST_MCAPS_LIST, &a, false, fn, ud);
}
static int pg_station_model_caps(struct store *s, const char *station_id, store_model_caps_fn fn,
				 void *ud)
{
	struct args a = {0};
	a_text(&a, station_id);
	return mcaps_rows(s, ST_MCAPS_STATION, &a, true, fn, ud);
}
/* ---- end model capabilities */
/* ---------------------------------------------------------------- api admin (0015) */
static void token_where(struct pgq *q, const struct store_token_query *f, char *prefix_end,
			size_t n)
{
	q_add(q, " WHERE true");
	if (f->status >= 0)
		q_text(q, " AND status = ", auth_status_to_string(f->status));
	if (f->parent)
		q_text(q, " AND parent = ", f->parent);
	if (f->site_id && *f->site_id)
		q_text(q, " AND site_id = ", f->site_id);
	else if (f->site_id)
		q_add(q, " AND site_id IS NULL");
	if (f->token_prefix && *f->token_prefix) {
		/* as station_where: [prefix, prefix with its last byte incremented) */
		size_t len = strlen(f->token_prefix);
		snprintf(prefix_end, n, "%s", f->token_prefix);
		if (len < n)
			prefix_end[len - 1]++;
		q_text(q, " AND token >= ", f->token_prefix);
		q_text(q, " AND token < ", prefix_end);
	}
}
static int pg_tokens_query(struct store *s, const struct store_token_query *f, store_token_fn fn,
			   void *ud, int64_t *ret_total)
{
	static const char *const order[] = {
	    [STORE_TOKEN_SORT_ID] = "token",
	    [STORE_TOKEN_SORT_STATUS] = "status",
	    [STORE_TOKEN_SORT_EXPIRY] = "coalesce(expiry_ms, 0)",
	};
	char prefix_end[TOKEN_MAX + 2], buf[128];
	const char *dir = f->desc ? " DESC" : "";
	struct pgq q = {.len = 0};
	PGresult *res = NULL;
	int64_t total = 0;
	int r, n = 0;
	if (f->sort < 0 || f->sort > STORE_TOKEN_SORT_EXPIRY)
		return -EINVAL;
	if (ret_total) {
		q_add(&q, "SELECT count(*) FROM id_tokens");
		token_where(&q, f, prefix_end, sizeof(prefix_end));
		r = q_run(s, &q, &res);
		if (r < 0)
			return r;
		total = g_i64(res, 0, 0);
		PQclear(res);
		res = NULL;
		memset(&q, 0, sizeof(q));
	}
	q_add(&q, "SELECT token, status, expiry_ms, parent, site_id FROM id_tokens");
	token_where(&q, f, prefix_end, sizeof(prefix_end));
	if (f->sort == STORE_TOKEN_SORT_ID)
		snprintf(buf, sizeof(buf), " ORDER BY token%s", dir);
	else
		snprintf(buf, sizeof(buf), " ORDER BY %s%s, token%s", order[f->sort], dir, dir);
	q_add(&q, buf);
	q_i64(&q, " LIMIT ", f->limit);
	q_i64(&q, " OFFSET ", f->offset);
	r = q_run(s, &q, &res);
	EACH_ROW(r, res, n, {
		struct store_token row;
		g_copy(res, i, 0, row.token, sizeof(row.token));
		row.status = auth_status_from_string(g_text(res, i, 1));
		row.expiry_ms = g_i64(res, i, 2);
		g_copy(res, i, 3, row.parent, sizeof(row.parent));
		g_copy(res, i, 4, row.site_id, sizeof(row.site_id));
		r = fn(&row, ud);
	});
	PQclear(res);
	if (r < 0)
		return r;
	if (ret_total)
		*ret_total = total;
	return n;
}
static int pg_token_delete(struct store *s, const char *token)
{
	struct args a = {0};
	a_text(&a, token);
	return write_one(s, ST_TOKEN_DELETE, &a);
}
static int pg_station_admin_set(struct store *s, const char *id,
				const struct store_station_admin *ad)
{
	struct args a = {0};
	a_text(&a, id);
	a_text(&a, ad->site_id);
	a_text(&a, ad->notes);
	a_text(&a, ad->labels);
	a_text(&a, ad->protocol);
	return write_one(s, ST_STATION_ADMIN_SET, &a);
}
static int pg_station_notes_get(struct store *s, const char *id, struct store_station_notes *ret)
{
	struct args a = {0};
	PGresult *res;
	int r;
	a_text(&a, id);
	r = read_one(s, ST_STATION_NOTES_GET, &a, &res);
	if (r < 0)
		return r;
	g_copy(res, 0, 0, ret->notes, sizeof(ret->notes));
	g_copy(res, 0, 1, ret->labels, sizeof(ret->labels));
	PQclear(res);
	return 0;
}
static int pg_station_delete(struct store *s, const char *id)
{
	static const enum pst del[] = {ST_STATION_DELETE_DM, ST_STATION_DELETE_LL,
				       ST_STATION_DELETE_EXT, ST_STATION_DELETE};
	struct args a = {0};
	PGresult *res;
	bool found, open, any;
	int r;
	a_text(&a, id);
	r = read_one(s, ST_STATION_DELETE_CHECK, &a, &res);
	if (r < 0)
		return r;
	found = g_bool(res, 0, 0);
	open = g_bool(res, 0, 1);
	any = g_bool(res, 0, 2);
	PQclear(res);
	if (!found)
		return -ENOENT;
	if (open)
		return -EBUSY;
	if (any)
		return -ENOTEMPTY;
	for (size_t i = 0; r == 0 && i < sizeof(del) / sizeof(del[0]); i++) {
		res = NULL;
		r = write_now(s, del[i], &a, &res);
		PQclear(res);
	}
	return r;
}
/* ---------------------------------------------------------------- end api admin */
/* flush_fd: an epoll set of the connection's socket (the COMMITs' answers) and an eventfd
 * (batches settled by a synchronous read, a failure to report), made on first use. One
 * descriptor for the store's life: connect_db() moves the set to a new connection's socket, and
 * a socket libpq closes leaves the set by itself, so the loop never polls a stale number. */
static int flush_setup(struct store *s)
{
	struct pg_store *p = pq(s);
	struct epoll_event e = {.events = EPOLLIN};

	if (p->ep >= 0)
		return 0;
	p->ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ev < 0 || p->ep < 0)
		goto fail;
	e.data.fd = p->ev;
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, p->ev, &e) < 0)
		goto fail;
	e.data.fd = PQsocket(p->c);
	if (e.data.fd < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, e.data.fd, &e) < 0)
		goto fail;
	return 0;
fail:
	if (p->ev >= 0)
		close(p->ev);
	if (p->ep >= 0)
		close(p->ep);
	p->ev = p->ep = -1;
	return -EIO;
}

/* Group commit off the loop (see the top of the file): COMMIT and a Sync go out behind the
 * group and nothing waits; flush_done() tells when the server answered. A group already known
 * failed, or a store that cannot poll, commits (rolls back) as commit() does. */
static int pg_commit_async(struct store *s, uint64_t *ret_seq)
{
	struct pg_store *p = pq(s);
	struct pg_commit *pc;
	int r;

	if (!p->in_txn)
		return 0;
	rows_flush(s); /* a failure marks the group failed: rolled back below */
	if (p->commit_n == PG_COMMITS_MAX)
		commits_read(s, true, true); /* a broken connection fails the open group too */
	if (p->failed || flush_setup(s) < 0) {
		r = pg_commit(s);
		return r < 0 ? r : 0;
	}
	pc = &p->commits[(p->commit_head + p->commit_n) % PG_COMMITS_MAX];
	*pc = (struct pg_commit){
	    .seq = p->seq + 1, .writes = p->unread, .writes_sync = p->unread > 0};
	/* a Sync ends the writes' segment first: were one of them to fail, the COMMIT would still
	 * run (answering ROLLBACK) instead of being skipped with the transaction left open */
	if ((pc->writes_sync && !PQpipelineSync(p->c)) || send_stmt(s, ST_COMMIT, NULL) < 0 ||
	    !PQpipelineSync(p->c)) {
		set_err(s, "commit", PQerrorMessage(p->c));
		p->failed = true;
		commits_lost(s); /* the pipeline's count is unsure now: start afresh */
		pg_rollback(s);
		return -EIO;
	}
	p->unread = 0;
	p->in_txn = false;
	p->seq = pc->seq;
	p->commit_n++;
	*ret_seq = pc->seq;
	return 1;
}

static int pg_flush_fd(struct store *s)
{
	return pq(s)->ep >= 0 ? pq(s)->ep : -ENOTSUP;
}

/* The batches before a failed one are reported durable first (then the poll is woken again),
 * then the failure once (-EIO); the batches after it go on as their COMMITs answer. With wait a
 * failure is reported at once: every batch waiting is then answered with errors. */
static int pg_flush_done(struct store *s, bool wait, uint64_t *ret_durable)
{
	struct pg_store *p = pq(s);
	uint64_t n;

	if (p->ev >= 0 && read(p->ev, &n, sizeof(n)) < 0)
		n = 0; /* nothing was signalled */
	if (wait && p->commit_n) {
		commits_read(s, true, false);
	} else if (!wait && PQstatus(p->c) == CONNECTION_OK) {
		/* always consume: a readable socket left unread would wake the loop again at once
		 * (a notice, the server closing an idle connection) */
		if (!PQconsumeInput(p->c)) {
			set_err(s, "connection", PQerrorMessage(p->c));
			if (p->ep >= 0 && PQsocket(p->c) >= 0) /* no more wake-ups from it */
				epoll_ctl(p->ep, EPOLL_CTL_DEL, PQsocket(p->c), NULL);
			commits_lost(s);
		} else if (p->commit_n) {
			commits_read(s, false, false);
		}
	}
	if (p->lost) {
		if (!wait && p->reported < p->lost_durable) {
			p->reported = p->lost_durable;
			*ret_durable = p->reported;
			flush_signal(s); /* the failure next */
			return 0;
		}
		p->lost = false;
		return -EIO;
	}
	p->reported = p->durable;
	*ret_durable = p->durable;
	return 0;
}

/* ---------------------------------------------------------------- nodes */

/*
** Ownership rows are written only here, each in its own short transaction on a connection of
** their own (autocommit; synchronous_commit off: the group that answers the connection commits
** after it and its WAL flush covers this one). No group transaction holds a lock on a
** station_owner row (groups only read them; the start-up release of the node's own rows comes
** before any charger), and each statement here locks at most the one row it waits for (renew
** and the offline mark skip locked rows), so it never waits while holding a lock another
** transaction waits for. A takeover is taken before the new owner's group writes the station
** row, and the old owner's offline mark never waits for that row (seen_offline): two nodes
** taking over each other's stations at once can make a statement wait for another one's
** moment, never a deadlock (docs/scaling.md). lock_timeout bounds a wait all the same.
*/
static int owner_exec(struct store *s, enum pst st, const struct args *a, PGresult **ret)
{
	struct pg_store *p = pq(s);
	char err[256], name[16];
	PGresult *res;

	if (!p->oc || PQstatus(p->oc) != CONNECTION_OK) {
		PQfinish(p->oc);
		p->oc = PQconnectdb(p->dsn);
		if (!p->oc || PQstatus(p->oc) != CONNECTION_OK) {
			set_err(s, "owner", p->oc ? PQerrorMessage(p->oc) : "out of memory");
			goto fail;
		}
		PQsetNoticeProcessor(p->oc, quiet_notices, NULL);
		memset(p->oc_prepared, 0, sizeof(p->oc_prepared));
		if (exec_plain(p->oc,
			       "SET synchronous_commit = off; SET lock_timeout = '5s'; "
			       "SET application_name = 'csms-owner'",
			       err, sizeof(err), "owner") < 0) {
			set_err(s, "owner", err);
			goto fail;
		}
	}
	snprintf(name, sizeof(name), "o%d", (int)st);
	if (!p->oc_prepared[st]) { /* prepared once per connection, like the main one's */
		res = PQprepare(p->oc, name, stmt_sql[st], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			set_err(s, "owner", PQresultErrorMessage(res));
			PQclear(res);
			return -EIO;
		}
		PQclear(res);
		p->oc_prepared[st] = true;
	}
	res = PQexecPrepared(p->oc, name, a->n, a->v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(s, "owner", PQresultErrorMessage(res));
		PQclear(res);
		return -EIO;
	}
	if (ret)
		*ret = res;
	else
		PQclear(res);
	return 0;
fail:
	PQfinish(p->oc);
	p->oc = NULL;
	return -EIO;
}

/* Take station id for this node (a new connection always wins: the newest is the real one);
 * the epoch is kept to tell a later takeover from an older one. */
static int owner_take(struct store *s, const char *id, int64_t now_ms)
{
	struct pg_store *p = pq(s);
	struct owned *o = hmap_get(&p->owned, id);
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, id);
	a_text(&a, p->node);
	a_i64(&a, p->lease_ms);
	a_i64(&a, now_ms);
	r = owner_exec(s, ST_OWNER_TAKE, &a, &res);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -EIO;
	}
	if (!o) {
		o = malloc(sizeof(*o) + strlen(id) + 1);
		if (!o) {
			PQclear(res);
			return -ENOMEM;
		}
		strcpy(o->id, id);
		if (hmap_put(&p->owned, o->id, o) < 0) {
			free(o);
			PQclear(res);
			return -ENOMEM;
		}
	}
	o->epoch = g_i64(res, 0, 0);
	o->since_ms = now_ms;
	PQclear(res);
	return 0;
}

static int owner_release(struct store *s, const char *id)
{
	struct pg_store *p = pq(s);
	struct owned *o = hmap_del(&p->owned, id);
	struct args a = {0};
	char num[24];

	a_text(&a, id);
	a_text(&a, p->node);
	if (o)
		snprintf(num, sizeof(num), "%" PRId64, o->epoch);
	a_text(&a, o ? num : NULL);
	free(o);
	return owner_exec(s, ST_OWNER_RELEASE, &a, NULL);
}

static int pg_node_set(struct store *s, const char *node_id, int64_t lease_ms)
{
	if (!node_id || strlen(node_id) > STORE_NODE_ID_MAX || lease_ms <= 0)
		return -EINVAL;
	snprintf(pq(s)->node, sizeof(pq(s)->node), "%s", node_id);
	pq(s)->lease_ms = lease_ms;
	return 0;
}

static int pg_owners_renew(struct store *s)
{
	struct args a = {0};

	if (!pq(s)->owned.count)
		return 0;
	a_text(&a, pq(s)->node);
	a_i64(&a, pq(s)->lease_ms);
	return owner_exec(s, ST_OWNERS_RENEW, &a, NULL);
}

static int pg_owner_get(struct store *s, const char *station_id, char *ret_node, int64_t *ret_epoch)
{
	struct args a = {0};
	PGresult *res;
	int r;

	a_text(&a, station_id);
	/* on the ownership connection, as owner_held */
	r = owner_exec(s, ST_OWNER_GET, &a, &res);
	if (r < 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return -ENOENT;
	}
	g_copy(res, 0, 0, ret_node, STORE_NODE_ID_MAX + 1);
	*ret_epoch = g_i64(res, 0, 1);
	PQclear(res);
	return 0;
}

static int pg_owner_lost(struct store *s, const char *station_id, int64_t epoch)
{
	struct owned *o = hmap_get(&pq(s)->owned, station_id);

	if (!o || o->epoch >= epoch)
		return 0;
	free(hmap_del(&pq(s)->owned, station_id));
	return 1;
}

/* The LISTEN connection: plain (not pipelined), non-blocking, made on first use and again
 * after it broke. */
static int pg_notify_fd(struct store *s)
{
	struct pg_store *p = pq(s);
	char err[256];

	if (p->lc && PQstatus(p->lc) == CONNECTION_OK)
		return PQsocket(p->lc);
	PQfinish(p->lc);
	p->lc = PQconnectdb(p->dsn);
	if (!p->lc || PQstatus(p->lc) != CONNECTION_OK) {
		set_err(s, "listen", p->lc ? PQerrorMessage(p->lc) : "out of memory");
		goto fail;
	}
	PQsetNoticeProcessor(p->lc, quiet_notices, NULL);
	if (exec_plain(p->lc,
		       "SET application_name = 'csms-listen'; LISTEN csms_owner; LISTEN csms_cmd; "
		       "LISTEN csms_cmd_done; LISTEN csms_live; LISTEN csms_live_want",
		       err, sizeof(err), "listen") < 0) {
		set_err(s, "listen", err);
		goto fail;
	}
	if (PQsetnonblocking(p->lc, 1) < 0) {
		set_err(s, "listen", PQerrorMessage(p->lc));
		goto fail;
	}
	return PQsocket(p->lc);
fail:
	PQfinish(p->lc);
	p->lc = NULL;
	return -EIO;
}

static int pg_notify_drain(struct store *s, store_notify_fn fn, void *ud)
{
	PGconn *lc = pq(s)->lc;
	PGnotify *n;
	int count = 0;

	if (!lc)
		return 0;
	if (!PQconsumeInput(lc) || PQstatus(lc) != CONNECTION_OK) {
		set_err(s, "listen", PQerrorMessage(lc));
		return -EIO;
	}
	while ((n = PQnotifies(lc))) {
		fn(ud, n->relname, n->extra);
		PQfreemem(n);
		count++;
	}
	return count;
}

static int pg_notify(struct store *s, const char *channel, const char *payload)
{
	struct args a = {0};

	if (strlen(payload) >= 8000) /* PostgreSQL's limit on a payload */
		return -EMSGSIZE;
	a_text(&a, channel);
	a_text(&a, payload);
	return write_now_or_later(s, ST_NOTIFY, &a);
}

static int pg_rcmd_add(struct store *s, const char *target_node, const char *station_id,
		       const char *request, int64_t now_ms, int64_t *ret_id)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, target_node);
	a_text(&a, pq(s)->node);
	a_text(&a, station_id);
	a_text(&a, request);
	a_i64(&a, now_ms);
	r = write_now(s, ST_RCMD_ADD, &a, &res);
	if (r == 0 && PQntuples(res) != 1)
		r = -EIO;
	if (r == 0)
		*ret_id = g_i64(res, 0, 0);
	PQclear(res);
	return r;
}

static int pg_rcmd_claim(struct store *s, int64_t id, char *ret_station, char **ret_request)
{
	struct args a = {0};
	PGresult *res = NULL;
	char *req;
	int r;

	a_i64(&a, id);
	a_text(&a, pq(s)->node);
	r = begin_write(s);
	if (r == 0)
		r = read_one(s, ST_RCMD_CLAIM, &a, &res);
	if (r < 0)
		return r;
	req = strdup(PQgetvalue(res, 0, 1));
	if (!req) {
		PQclear(res);
		return -ENOMEM;
	}
	g_copy(res, 0, 0, ret_station, STATION_ID_MAX + 1);
	*ret_request = req;
	PQclear(res);
	return 0;
}

static int pg_rcmd_done(struct store *s, int64_t id, const char *result, int64_t now_ms)
{
	struct args a = {0};

	a_i64(&a, id);
	a_text(&a, result);
	a_i64(&a, now_ms);
	return write_now_or_later(s, ST_RCMD_DONE, &a);
}

static int pg_rcmd_take(struct store *s, int64_t id, char **ret_result)
{
	struct args a = {0};
	PGresult *res = NULL;
	char *text;
	int r;

	a_i64(&a, id);
	a_text(&a, pq(s)->node);
	r = begin_write(s);
	if (r == 0)
		r = read_one(s, ST_RCMD_TAKE, &a, &res);
	if (r < 0)
		return r;
	text = strdup(g_null(res, 0, 0) ? "{}" : PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!text)
		return -ENOMEM;
	*ret_result = text;
	return 0;
}

/* ---- nodes, version 10 */
static int pg_owner_held(struct store *s, const char *station_id)
{
	struct owned *o = hmap_get(&pq(s)->owned, station_id);
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	if (!o)
		return 0;
	a_text(&a, station_id);
	a_text(&a, pq(s)->node);
	a_i64(&a, o->epoch);
	/* the committed row, read now (a takeover commits before its NOTIFY arrives here), on the
	 * ownership connection: every ownership write goes there, and the read does not wait
	 * behind the open group's deferred writes in the main pipeline (bench/owner.sh: p50 1.7-2.1
	 * ms with 20 writes in the group, 32-56 us without) */
	r = owner_exec(s, ST_OWNER_HELD, &a, &res);
	if (r < 0)
		return r;
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

static int pg_node_key_set(struct store *s, const char *key)
{
	struct args a = {0};

	if (strlen(key) > STORE_NODE_KEY_MAX)
		return -EINVAL;
	a_text(&a, pq(s)->node);
	a_text(&a, key);
	return owner_exec(s, ST_NODE_KEY_SET, &a, NULL);
}

static int pg_node_key_get(struct store *s, const char *node_id, char *ret_key)
{
	struct args a = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, node_id);
	r = read_one(s, ST_NODE_KEY_GET, &a, &res);
	if (r < 0)
		return r;
	g_copy(res, 0, 0, ret_key, STORE_NODE_KEY_MAX + 1);
	PQclear(res);
	return 0;
}
/* ---- end nodes, version 10 */

/* ---- nodes, version 11 */

/* owners_check: a held station that no row found this round. Its row, read now: gone (a node
 * took it over and released it again before this node heard of the takeover, or never will:
 * its NOTIFY was lost) -> taken back, as the connection is still here; naming another node
 * (a takeover whose NOTIFY never came) -> forgotten, 1 (the caller closes the connection);
 * naming this node -> it was locked while renewing (a take right now), 0. */
static int check_missing(struct store *s, struct owned *o, int *n_fixed)
{
	struct pg_store *p = pq(s);
	struct args a = {0}, b = {0};
	PGresult *res = NULL;
	int r;

	a_text(&a, o->id);
	r = owner_exec(s, ST_OWNER_ROW, &a, &res);
	if (r < 0)
		return r;
	if (PQntuples(res) == 1) {
		r = strcmp(g_text(res, 0, 0), p->node) ? 1 : 0;
		PQclear(res);
		if (r)
			(*n_fixed)++;
		return r;
	}
	PQclear(res);
	a_text(&b, o->id);
	a_text(&b, p->node);
	a_i64(&b, p->lease_ms);
	a_i64(&b, o->since_ms);
	r = owner_exec(s, ST_OWNER_RETAKE, &b, &res);
	if (r < 0)
		return r;
	if (PQntuples(res) == 1) { /* else another node inserted it meanwhile: next round */
		o->epoch = g_i64(res, 0, 0);
		(*n_fixed)++;
	}
	PQclear(res);
	return 0;
}

/*
** Why (docs/postgresql.md "Ownership rows agree with connections"): the newest connection takes
** a station, and its node releases the row when that connection closes. A connection that
** reaches a node after the charger gave up on it (a late handshake through HAProxy) takes the
** row from the node that holds the live connection and then releases it: the row is gone while
** the live connection stays, until the takeover's NOTIFY reaches the holder and it closes its
** connection (and never, if the LISTEN connection broke meanwhile). The lease renewal, which
** touches every row of this node anyway, also finds those: a row missing for a station held
** here is taken back (only if still absent), one naming another node ends the connection here,
** one naming this node for a station not held here (a release that failed) is deleted.
*/
static int pg_owners_check(struct store *s, store_owner_gone_fn fn, void *ud)
{
	struct pg_store *p = pq(s);
	uint64_t round = ++p->check_round;
	struct args a = {0};
	PGresult *res = NULL;
	struct owned **gone = NULL;
	size_t n_gone = 0;
	int n_fixed = 0, r;

	a_text(&a, p->node);
	a_i64(&a, p->lease_ms);
	r = owner_exec(s, ST_OWNERS_RENEW_LIST, &a, &res);
	if (r < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *id = g_text(res, i, 0);
		struct owned *o = hmap_get(&p->owned, id);
		struct args d = {0};

		if (o) {
			o->epoch = g_i64(res, i, 1); /* ours at whatever epoch it says */
			o->checked = round;
			continue;
		}
		/* a row of this node for no connection here: let go of it at its epoch */
		a_text(&d, id);
		a_text(&d, p->node);
		a_text(&d, g_text(res, i, 1));
		if (owner_exec(s, ST_OWNER_RELEASE, &d, NULL) == 0)
			n_fixed++;
	}
	PQclear(res);
	if (p->owned.count) {
		gone = calloc(p->owned.count, sizeof(*gone));
		if (!gone)
			return -ENOMEM;
	}
	for (size_t i = 0; gone && i < p->owned.cap; i++) {
		struct owned *o = p->owned.slots[i].value;

		if (!o || o->checked == round)
			continue;
		r = check_missing(s, o, &n_fixed);
		if (r < 0)
			break;
		if (r > 0 && n_gone < p->owned.count)
			gone[n_gone++] = o;
	}
	/* forgotten before fn closes their connections (a release then finds nothing here) */
	for (size_t i = 0; i < n_gone; i++)
		hmap_del(&p->owned, gone[i]->id);
	for (size_t i = 0; i < n_gone; i++) {
		fn(ud, gone[i]->id);
		free(gone[i]);
	}
	free(gone);
	return r < 0 ? r : n_fixed;
}
/* ---- end nodes, version 11 */

const struct store_ops store_pg_ops = {
    .version = STORE_OPS_VERSION,
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .dirty = pg_dirty,
    .errmsg = pg_errmsg,
    .site_put = pg_site_put,
    .station_get = pg_station_get,
    .station_create = pg_station_create,
    .station_put = pg_station_put,
    .station_boot = pg_station_boot,
    .station_set_registration = pg_station_set_registration,
    .station_seen = pg_station_seen,
    .station_event = pg_station_event,
    .stations_offline_all = pg_stations_offline_all,
    .stations_list = pg_stations_list,
    .connector_status = pg_connector_status,
    .connectors_list = pg_connectors_list,
    .token_get = pg_token_get,
    .token_put = pg_token_put,
    .session_open = pg_session_open,
    .session_find_start = pg_session_find_start,
    .session_find_tx = pg_session_find_tx,
    .session_state = pg_session_state,
    .session_close = pg_session_close,
    .session_id_tag = pg_session_id_tag,
    .sessions_list = pg_sessions_list,
    .session_get = pg_session_get,
    .session_set_start = pg_session_set_start,
    .session_set_token = pg_session_set_token,
    .session_set_evse = pg_session_set_evse,
    .session_meter_last = pg_session_meter_last,
    .session_event_add = pg_session_event_add,
    .session_seq_update = pg_session_seq_update,
    .sample_add = pg_sample_add,
    .sample_conflict_add = pg_sample_conflict_add,
    .sample_conflicts = pg_sample_conflicts,
    .samples_list = pg_samples_list,
    .orphan_add = pg_orphan_add,
    .orphans_list = pg_orphans_list,
    .variable_put = pg_variable_put,
    .variables_list = pg_variables_list,
    .report_part = pg_report_part,
    .report_status = pg_report_status,
    .notice_add = pg_notice_add,
    .command_add = pg_command_add,
    .commands_list = pg_commands_list,
    .samples_add = pg_samples_add, /* batch readings */
    /* planner */
    .site_get = pg_site_get,
    .site_set_limit = pg_site_set_limit,
    .needs_put = pg_needs_put,
    .needs_get = pg_needs_get,
    .site_sessions = pg_site_sessions,
    .session_export = pg_session_export,
    .grid_event_add = pg_grid_event_add,
    .grid_events_list = pg_grid_events_list,
    .site_plan_put = pg_site_plan_put,
    .site_plan_get = pg_site_plan_get,
    .session_plan_put = pg_session_plan_put,
    .session_plan_get = pg_session_plan_get,
    .site_energy_samples = pg_site_energy_samples,
    .capability_put = pg_capability_put,
    .capability_get = pg_capability_get,
    /* dash */
    .stations_query = pg_stations_query,
    .sessions_query = pg_sessions_query,
    .samples_page = pg_samples_page,
    .station_history = pg_station_history,
    .connectors_query = pg_connectors_query,
    .summary = pg_summary,
    /* tariffs */
    .tariff_put = pg_tariff_put,
    .tariffs_list = pg_tariffs_list,
    .site_tariff_set = pg_site_tariff_set,
    .site_tariffs_list = pg_site_tariffs_list,
    .energy_sessions_list = pg_energy_sessions_list,
    .session_energy_samples = pg_session_energy_samples,
    /* operator accounts */
    .account_create = pg_account_create,
    .account_get = pg_account_get,
    .account_update = pg_account_update,
    .account_delete = pg_account_delete,
    .accounts_list = pg_accounts_list,
    .auth_session_add = pg_auth_session_add,
    .auth_session_get = pg_auth_session_get,
    .auth_session_touch = pg_auth_session_touch,
    .auth_sessions_delete = pg_auth_sessions_delete,
    .api_token_add = pg_api_token_add,
    .api_token_get = pg_api_token_get,
    .api_token_touch = pg_api_token_touch,
    .api_tokens_list = pg_api_tokens_list,
    .api_token_revoke = pg_api_token_revoke,
    .audit_add = pg_audit_add,
    .audit_list = pg_audit_list,
    /* sites */
    .sites_list = pg_sites_list,
    .site_save = pg_site_save,
    .site_delete = pg_site_delete,
    .reservation_put = pg_reservation_put,
    .reservation_get = pg_reservation_get,
    .reservations_list = pg_reservations_list,
    .reservations_due = pg_reservations_due,
    .station_log_add = pg_station_log_add,
    .station_log_list = pg_station_log_list,
    .sessions_late = pg_sessions_late,
    .site_tokens = pg_site_tokens,
    .local_list_version = pg_local_list_version,
    .local_list_entries = pg_local_list_entries,
    .local_list_save = pg_local_list_save,
    /* security */
    .station_security_get = pg_station_security_get,
    .station_security_set = pg_station_security_set,
    .stations_count_registration = pg_stations_count_registration,
    /* certificates */
    .cert_add = pg_cert_add,
    .certs_list = pg_certs_list,
    .certs_expiring = pg_certs_expiring,
    .cert_renew_mark = pg_cert_renew_mark,
    .station_password_set = pg_station_password_set,
    .security_events = pg_security_events,
    /* swap */
    .swap_pack_put = pg_swap_pack_put,
    .swap_packs_list = pg_swap_packs_list,
    .swap_pack_soh_list = pg_swap_pack_soh_list,
    .swap_order_put = pg_swap_order_put,
    .swap_order_get = pg_swap_order_get,
    .swap_orders_list = pg_swap_orders_list,
    .swap_booking_put = pg_swap_booking_put,
    .swap_bookings_list = pg_swap_bookings_list,
    .swap_pack_ready_set = pg_swap_pack_ready_set,
    .model_caps_put = pg_model_caps_put,
    .model_caps_get = pg_model_caps_get,
    .model_caps_list = pg_model_caps_list,
    .station_model_caps = pg_station_model_caps,
    /* api admin */
    .tokens_query = pg_tokens_query,
    .token_delete = pg_token_delete,
    .station_admin_set = pg_station_admin_set,
    .station_notes_get = pg_station_notes_get,
    .station_delete = pg_station_delete,
    .commit_async = pg_commit_async,
    .flush_fd = pg_flush_fd,
    .flush_done = pg_flush_done,
    /* nodes */
    .node_set = pg_node_set,
    .owners_renew = pg_owners_renew,
    .owner_get = pg_owner_get,
    .owner_lost = pg_owner_lost,
    .notify_fd = pg_notify_fd,
    .notify_drain = pg_notify_drain,
    .notify = pg_notify,
    .rcmd_add = pg_rcmd_add,
    .rcmd_claim = pg_rcmd_claim,
    .rcmd_done = pg_rcmd_done,
    .rcmd_take = pg_rcmd_take,
    .owner_held = pg_owner_held,
    .node_key_set = pg_node_key_set,
    .node_key_get = pg_node_key_get,
    .owners_check = pg_owners_check,
    .swap_bookings_open = pg_swap_bookings_open,
    .site_forecast = pg_site_forecast,
    .site_plan_slots_put = pg_site_plan_slots_put,
    .site_plan_slots_list = pg_site_plan_slots_list,
    .station_ext_limit_put = pg_station_ext_limit_put,
    .site_ext_limits = pg_site_ext_limits,
};
