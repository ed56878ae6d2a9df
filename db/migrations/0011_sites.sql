-- SPDX-License-Identifier: MIT
-- Schema 11: sites as first-class records with their policy (docs/sites.md), reservations
-- tracked by the CSMS, a station's link and connector-status history (availability and
-- connectivity reports), and the local authorization list last pushed to each station.

ALTER TABLE sites ADD COLUMN location TEXT;
-- Policy settings; NULL = the default of the site's kind.
ALTER TABLE sites ADD COLUMN heartbeat_s INTEGER;       -- BootNotification interval
ALTER TABLE sites ADD COLUMN local_list INTEGER;        -- 1: push a local list (rural default)
ALTER TABLE sites ADD COLUMN local_list_max INTEGER;    -- entries at most
ALTER TABLE sites ADD COLUMN reservations INTEGER;      -- 1: reservations allowed (public default)
ALTER TABLE sites ADD COLUMN reservation_max_s INTEGER; -- longest reservation

-- ReserveNow sent by the operator and what became of it.
CREATE TABLE reservations (
	id         INTEGER PRIMARY KEY,  -- the reservationId sent to the station
	station_id TEXT NOT NULL,
	evse_id    INTEGER NOT NULL,     -- 0: any
	id_tag     TEXT NOT NULL,
	expiry_ms  INTEGER NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('Requested', 'Accepted', 'Rejected', 'Failed',
	                                           'Cancelled', 'Expired', 'Removed', 'Used')),
	session_id INTEGER,
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL
);
CREATE INDEX reservations_station ON reservations(station_id, id);
CREATE INDEX reservations_open ON reservations(expiry_ms) WHERE status IN ('Requested', 'Accepted');

-- A station's history: link ('online' / 'offline') and connector status changes.
CREATE TABLE station_log (
	seq          INTEGER PRIMARY KEY,
	station_id   TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('link', 'status')),
	evse_id      INTEGER NOT NULL DEFAULT 0,
	connector_id INTEGER NOT NULL DEFAULT 0,
	state        TEXT NOT NULL,
	ts_ms        INTEGER NOT NULL
);
CREATE INDEX station_log_station ON station_log(station_id, ts_ms);

-- The local authorization list as last accepted by each station.
CREATE TABLE local_lists (
	station_id TEXT PRIMARY KEY,
	version    INTEGER NOT NULL,
	sent_ms    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE local_list_entries (
	station_id TEXT NOT NULL,
	token      TEXT NOT NULL,
	status     TEXT NOT NULL,
	expiry_ms  INTEGER,
	parent     TEXT,
	PRIMARY KEY (station_id, token)
) WITHOUT ROWID;
