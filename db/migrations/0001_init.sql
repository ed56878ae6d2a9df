-- SPDX-License-Identifier: MIT
-- Schema 1: sites, stations, connectors, id tokens, sessions, meter values, orphans, station events.
-- Times are integer milliseconds since the epoch (UTC); energy is integer Wh.

CREATE TABLE sites (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('public', 'residential', 'rural', 'swap')),
	name       TEXT,
	limit_kw   REAL,
	created_ms INTEGER NOT NULL
);

CREATE TABLE stations (
	id             TEXT PRIMARY KEY,
	site_id        TEXT REFERENCES sites(id),
	password_hash  TEXT,
	registration   TEXT NOT NULL DEFAULT 'Accepted'
	               CHECK (registration IN ('Accepted', 'Pending', 'Rejected')),
	protocol       TEXT,
	vendor         TEXT,
	model          TEXT,
	serial         TEXT,
	box_serial     TEXT,
	firmware       TEXT,
	iccid          TEXT,
	imsi           TEXT,
	meter_type     TEXT,
	meter_serial   TEXT,
	firmware_status    TEXT,
	diagnostics_status TEXT,
	online         INTEGER NOT NULL DEFAULT 0,
	last_boot_ms   INTEGER,
	last_seen_ms   INTEGER,
	created_ms     INTEGER NOT NULL
);
CREATE INDEX stations_site ON stations(site_id);

-- An EVSE's connectors. OCPP 1.6 connector c is EVSE c with connector 1 (c = 0: the station).
CREATE TABLE connectors (
	station_id   TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
	evse_id      INTEGER NOT NULL,
	connector_id INTEGER NOT NULL,
	status       TEXT NOT NULL,
	error_code   TEXT,
	info         TEXT,
	vendor_error TEXT,
	updated_ms   INTEGER NOT NULL,
	PRIMARY KEY (station_id, evse_id, connector_id)
) WITHOUT ROWID;

CREATE TABLE id_tokens (
	token      TEXT PRIMARY KEY,
	type       TEXT,
	status     TEXT NOT NULL CHECK (status IN ('Accepted', 'Blocked', 'Expired', 'Invalid')),
	expiry_ms  INTEGER,
	parent     TEXT,
	site_id    TEXT REFERENCES sites(id)  -- set: valid only at this site (residential owners)
);

-- One charging session, whatever the protocol: OCPP 1.6 transactions (id = the transactionId
-- the CSMS gave) and OCPP 2.0.1 transactions (station_tx_id = the station's transactionId).
CREATE TABLE sessions (
	id             INTEGER PRIMARY KEY,
	station_id     TEXT NOT NULL REFERENCES stations(id),
	evse_id        INTEGER NOT NULL,
	connector_id   INTEGER NOT NULL,
	station_tx_id  TEXT,
	id_tag         TEXT NOT NULL DEFAULT '',
	auth_status    TEXT NOT NULL,
	start_ms       INTEGER NOT NULL,
	meter_start_wh INTEGER,
	reservation_id INTEGER,
	stop_ms        INTEGER,
	meter_stop_wh  INTEGER,
	stop_reason    TEXT,
	stop_id_tag    TEXT,
	meter_last_wh  INTEGER,           -- latest energy register seen (2.0.1 Ended without one)
	meter_last_ms  INTEGER,
	seq_min        INTEGER,           -- 2.0.1: lowest TransactionEvent seqNo seen
	seq_max        INTEGER,           -- 2.0.1: highest TransactionEvent seqNo seen
	seq_count      INTEGER NOT NULL DEFAULT 0, -- 2.0.1: distinct seqNos received
	seq_gaps       INTEGER NOT NULL DEFAULT 0, -- 2.0.1: seqNos missing between first and last
	offline_events INTEGER NOT NULL DEFAULT 0, -- 2.0.1: events delivered with offline = true
	created_ms     INTEGER NOT NULL
);
-- A replayed 1.6 start (same station, connector, tag, time and meter) is the same session.
CREATE UNIQUE INDEX sessions_replay ON sessions(station_id, evse_id, id_tag, start_ms, meter_start_wh)
	WHERE station_tx_id IS NULL;
CREATE UNIQUE INDEX sessions_station_tx ON sessions(station_id, station_tx_id)
	WHERE station_tx_id IS NOT NULL;
CREATE INDEX sessions_active ON sessions(station_id) WHERE stop_ms IS NULL;

CREATE TABLE meter_values (
	session_id   INTEGER REFERENCES sessions(id),
	station_id   TEXT NOT NULL,
	evse_id      INTEGER NOT NULL,     -- 1.6: the connectorId
	ts_ms        INTEGER NOT NULL,
	measurand    TEXT NOT NULL,
	phase        TEXT NOT NULL DEFAULT '',
	unit         TEXT,
	context      TEXT NOT NULL DEFAULT '',
	location     TEXT NOT NULL DEFAULT '',
	format       TEXT,
	value        TEXT NOT NULL
);
-- The same reading delivered twice (retries, transactionData repeating MeterValues) is kept once.
CREATE UNIQUE INDEX meter_values_key
	ON meter_values(station_id, evse_id, ts_ms, measurand, phase, context, location);
CREATE INDEX meter_values_session ON meter_values(session_id, ts_ms) WHERE session_id IS NOT NULL;

-- StopTransactions for transactions this CSMS does not know (acknowledged, kept for the operator).
CREATE TABLE orphan_stops (
	id             INTEGER PRIMARY KEY,
	station_id     TEXT NOT NULL,
	transaction_id INTEGER NOT NULL,
	id_tag         TEXT,
	meter_stop_wh  INTEGER,
	ts_ms          INTEGER NOT NULL,
	reason         TEXT,
	received_ms    INTEGER NOT NULL
);

-- Firmware and diagnostics status notifications, in order.
CREATE TABLE station_events (
	id         INTEGER PRIMARY KEY,
	station_id TEXT NOT NULL,
	kind       TEXT NOT NULL,
	status     TEXT NOT NULL,
	ts_ms      INTEGER NOT NULL
);
CREATE INDEX station_events_station ON station_events(station_id, id);

-- OCPP 2.0.1 TransactionEvents, one row per (session, seqNo): a replayed event is a no-op.
CREATE TABLE tx_events (
	session_id     INTEGER NOT NULL REFERENCES sessions(id),
	seq_no         INTEGER NOT NULL,
	event_type     TEXT NOT NULL,
	trigger_reason TEXT NOT NULL,
	ts_ms          INTEGER NOT NULL,
	offline        INTEGER NOT NULL DEFAULT 0,
	received_ms    INTEGER NOT NULL,
	PRIMARY KEY (session_id, seq_no)
) WITHOUT ROWID;

-- OCPP 2.0.1 device model as reported by NotifyReport (one row per variable attribute).
CREATE TABLE device_model (
	station_id         TEXT NOT NULL,
	component          TEXT NOT NULL,
	component_instance TEXT NOT NULL DEFAULT '',
	evse_id            INTEGER NOT NULL DEFAULT -1,
	connector_id       INTEGER NOT NULL DEFAULT -1,
	variable           TEXT NOT NULL,
	variable_instance  TEXT NOT NULL DEFAULT '',
	attribute_type     TEXT NOT NULL DEFAULT 'Actual',
	value              TEXT,
	mutability         TEXT,
	data_type          TEXT,
	unit               TEXT,
	updated_ms         INTEGER NOT NULL,
	PRIMARY KEY (station_id, component, component_instance, evse_id, connector_id, variable,
	             variable_instance, attribute_type)
) WITHOUT ROWID;

-- Multi-part NotifyReport progress per request.
CREATE TABLE reports (
	station_id  TEXT NOT NULL,
	request_id  INTEGER NOT NULL,
	parts       INTEGER NOT NULL DEFAULT 0,
	last_seq_no INTEGER NOT NULL DEFAULT -1,
	complete    INTEGER NOT NULL DEFAULT 0,
	updated_ms  INTEGER NOT NULL,
	PRIMARY KEY (station_id, request_id)
) WITHOUT ROWID;

-- OCPP 2.0.1 NotifyEvent and SecurityEventNotification, and other station notifications.
CREATE TABLE station_notices (
	id         INTEGER PRIMARY KEY,
	station_id TEXT NOT NULL,
	kind       TEXT NOT NULL,
	ts_ms      INTEGER NOT NULL,
	detail     TEXT NOT NULL
);
CREATE INDEX station_notices_station ON station_notices(station_id, id);
