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

CREATE TABLE connectors (
	station_id   TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
	connector_id INTEGER NOT NULL,
	status       TEXT NOT NULL,
	error_code   TEXT,
	info         TEXT,
	vendor_error TEXT,
	updated_ms   INTEGER NOT NULL,
	PRIMARY KEY (station_id, connector_id)
) WITHOUT ROWID;

CREATE TABLE id_tokens (
	token      TEXT PRIMARY KEY,
	type       TEXT,
	status     TEXT NOT NULL CHECK (status IN ('Accepted', 'Blocked', 'Expired', 'Invalid')),
	expiry_ms  INTEGER,
	parent     TEXT,
	site_id    TEXT REFERENCES sites(id)  -- set: valid only at this site (residential owners)
);

CREATE TABLE sessions (
	id             INTEGER PRIMARY KEY,
	station_id     TEXT NOT NULL REFERENCES stations(id),
	connector_id   INTEGER NOT NULL,
	id_tag         TEXT NOT NULL,
	auth_status    TEXT NOT NULL,
	start_ms       INTEGER NOT NULL,
	meter_start_wh INTEGER NOT NULL,
	reservation_id INTEGER,
	stop_ms        INTEGER,
	meter_stop_wh  INTEGER,
	stop_reason    TEXT,
	stop_id_tag    TEXT,
	created_ms     INTEGER NOT NULL
);
-- A replayed start (same station, connector, tag, time and meter) is the same session.
CREATE UNIQUE INDEX sessions_replay ON sessions(station_id, connector_id, id_tag, start_ms, meter_start_wh);
CREATE INDEX sessions_active ON sessions(station_id) WHERE stop_ms IS NULL;

CREATE TABLE meter_values (
	session_id   INTEGER REFERENCES sessions(id),
	station_id   TEXT NOT NULL,
	connector_id INTEGER NOT NULL,
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
	ON meter_values(station_id, connector_id, ts_ms, measurand, phase, context, location);
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
