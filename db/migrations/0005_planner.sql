-- SPDX-License-Identifier: MIT
-- Schema 5: the planner at run time: charging needs per session, grid events, the current plan
-- per site and per session, per-model charging capabilities, exported energy per session.

-- What a session needs (2.0.1 NotifyEVChargingNeeds, the V2G DataTransfer of docs/v2g.md, the
-- operator API, or the site kind's default). Energies in Wh, SoC in whole percent.
CREATE TABLE session_needs (
	session_id      INTEGER PRIMARY KEY REFERENCES sessions(id),
	source          TEXT NOT NULL CHECK (source IN ('ev', 'station', 'operator', 'default')),
	departure_ms    INTEGER,          -- NULL: none given
	energy_wh       INTEGER,          -- energy still needed at meter_wh (NULL: from SoC)
	target_soc      INTEGER,
	capacity_wh     INTEGER,          -- NULL: unknown
	soc             INTEGER,          -- SoC when told
	v2g             INTEGER NOT NULL DEFAULT 0,
	soc_floor       INTEGER,
	max_charge_w    INTEGER,
	max_discharge_w INTEGER,
	bidirectional   INTEGER NOT NULL DEFAULT 0, -- the EVSE declared it can discharge
	meter_wh        INTEGER,          -- import register when told (energy_wh counts from it)
	export_wh       INTEGER,          -- export register when told
	updated_ms      INTEGER NOT NULL
);

-- Energy a session returned (V2G), from its Energy.Active.Export.Register readings.
CREATE TABLE session_export (
	session_id INTEGER PRIMARY KEY REFERENCES sessions(id),
	first_wh   INTEGER NOT NULL,
	last_wh    INTEGER NOT NULL,
	last_ms    INTEGER NOT NULL
);

-- Operator grid events: reduce the sites' load by reduce_w, or export up to export_w, in
-- [start_ms, end_ms). sites: the site ids, comma-separated.
CREATE TABLE grid_events (
	id          INTEGER PRIMARY KEY,
	sites       TEXT NOT NULL,
	start_ms    INTEGER NOT NULL,
	end_ms      INTEGER NOT NULL CHECK (end_ms > start_ms),
	reduce_w    INTEGER NOT NULL DEFAULT 0,
	export_w    INTEGER NOT NULL DEFAULT 0,
	bonus_fen_per_kwh INTEGER NOT NULL DEFAULT 0,
	created_ms  INTEGER NOT NULL
);
CREATE INDEX grid_events_end ON grid_events(end_ms);

-- The current plan of a site and the last plan of each session (JSON documents, see
-- docs/api.md "Plans").
CREATE TABLE site_plans (
	site_id    TEXT PRIMARY KEY,
	planned_ms INTEGER NOT NULL,
	plan       TEXT NOT NULL
);
CREATE TABLE session_plans (
	session_id INTEGER PRIMARY KEY REFERENCES sessions(id),
	site_id    TEXT NOT NULL,
	planned_ms INTEGER NOT NULL,
	plan       TEXT NOT NULL
);

-- What a station model accepts for charging profiles (learned from answers, or set by the
-- operator), keyed "vendor/model"; JSON (docs/v2g.md "Capabilities").
CREATE TABLE charging_capabilities (
	model      TEXT PRIMARY KEY,
	caps       TEXT NOT NULL,
	updated_ms INTEGER NOT NULL
);
