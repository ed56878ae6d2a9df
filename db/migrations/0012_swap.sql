-- SPDX-License-Identifier: MIT
-- Schema: battery-swap stations (docs/swap.md). Packs are first-class (SoH history, cycles,
-- where they are); a slot is an EVSE (connectors) holding at most one pack; a swap order joins
-- the BatteryIn and BatteryOut events of one requestId and bills the energy difference at the
-- tier of the time of swap; bookings queue vehicles.

CREATE TABLE swap_packs (
	serial        TEXT PRIMARY KEY,
	station_id    TEXT NOT NULL DEFAULT '', -- the station that last saw it
	type          TEXT NOT NULL DEFAULT '',
	capacity_wh   INTEGER NOT NULL DEFAULT 0, -- 0 = unknown
	soc           REAL NOT NULL DEFAULT -1,   -- percent, -1 = unknown
	soh           REAL NOT NULL DEFAULT -1,
	cycles        INTEGER NOT NULL DEFAULT 0,
	location      TEXT NOT NULL DEFAULT 'store', -- slot | vehicle | store
	evse_id       INTEGER NOT NULL DEFAULT 0,    -- location slot
	vehicle       TEXT NOT NULL DEFAULT '',      -- location vehicle: its id token
	production_ms INTEGER NOT NULL DEFAULT 0,
	in_ms         INTEGER NOT NULL DEFAULT 0,    -- when it last went into a slot
	flagged       INTEGER NOT NULL DEFAULT 0,    -- SoH below the threshold
	updated_ms    INTEGER NOT NULL,
	ready_ms      INTEGER NOT NULL DEFAULT 0,    -- racked: the "ready by" the planner has
	ready_set_ms  INTEGER NOT NULL DEFAULT 0     -- ... since when
);
CREATE INDEX swap_packs_station ON swap_packs(station_id, location, evse_id);

CREATE TABLE swap_pack_soh (
	serial TEXT NOT NULL REFERENCES swap_packs(serial),
	ts_ms  INTEGER NOT NULL,
	soh    REAL NOT NULL,
	PRIMARY KEY (serial, ts_ms)
);

CREATE TABLE swap_orders (
	id               INTEGER PRIMARY KEY,
	station_id       TEXT NOT NULL,
	request_id       INTEGER NOT NULL,
	vehicle          TEXT NOT NULL DEFAULT '',
	booking_id       INTEGER NOT NULL DEFAULT 0,
	packs_out        TEXT NOT NULL DEFAULT '', -- serials given to the vehicle, comma-separated
	packs_in         TEXT NOT NULL DEFAULT '', -- serials taken from the vehicle
	soc_out          REAL NOT NULL DEFAULT -1,
	soc_in           REAL NOT NULL DEFAULT -1,
	energy_out_wh    INTEGER NOT NULL DEFAULT -1,
	energy_in_wh     INTEGER NOT NULL DEFAULT -1,
	delta_wh         INTEGER NOT NULL DEFAULT 0,
	tier             TEXT NOT NULL DEFAULT '',
	price_fen_per_mwh INTEGER NOT NULL DEFAULT 0,
	cost_fen         INTEGER NOT NULL DEFAULT 0,
	state            TEXT NOT NULL DEFAULT 'open', -- open | complete | timeout
	promised_soc     REAL NOT NULL DEFAULT -1,      -- the SoC a forecast-ready pack has
	created_ms       INTEGER NOT NULL,
	in_ms            INTEGER NOT NULL DEFAULT 0,
	out_ms           INTEGER NOT NULL DEFAULT 0,
	done_ms          INTEGER NOT NULL DEFAULT 0,
	UNIQUE (station_id, request_id)
);
CREATE INDEX swap_orders_station_time ON swap_orders(station_id, created_ms);

CREATE TABLE swap_bookings (
	id         INTEGER PRIMARY KEY,
	station_id TEXT NOT NULL,
	vehicle    TEXT NOT NULL,
	due_ms     INTEGER NOT NULL,
	min_soc    REAL NOT NULL DEFAULT 0,
	state      TEXT NOT NULL DEFAULT 'queued', -- queued | requested | served | cancelled
	request_id INTEGER NOT NULL DEFAULT 0,     -- the RequestBatterySwap / order it became
	created_ms INTEGER NOT NULL
);
CREATE INDEX swap_bookings_station_due ON swap_bookings(station_id, due_ms);
