-- SPDX-License-Identifier: MIT
-- Schema: tariff calendars and the calendar of each site (docs/tariffs/README.md).
-- A calendar is kept as its JSON document (every version, merged by valid_from: a calendar
-- "replaced at a date" is the same document with one more version); svc compiles it in memory.

CREATE TABLE tariffs (
	id         TEXT PRIMARY KEY,
	doc        TEXT NOT NULL,   -- the calendar document, all its versions
	updated_ms INTEGER NOT NULL
);

ALTER TABLE sites ADD COLUMN tariff_id TEXT REFERENCES tariffs(id);

-- Energy by site and day reads the sessions that overlap the day: by station and start time.
CREATE INDEX sessions_station_start ON sessions(station_id, start_ms);
