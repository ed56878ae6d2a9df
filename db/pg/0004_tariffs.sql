-- SPDX-License-Identifier: MIT
-- Schema 4 on PostgreSQL: the twin of db/migrations/0004_tariffs.sql (tariff calendars and the
-- calendar of each site; a calendar is kept as its JSON document, all its versions).

CREATE TABLE tariffs (
	id         TEXT PRIMARY KEY,
	doc        TEXT NOT NULL,
	updated_ms BIGINT NOT NULL
);

ALTER TABLE sites ADD COLUMN tariff_id TEXT REFERENCES tariffs(id);

-- Energy by site and day reads the sessions that overlap the day: by station and start time.
CREATE INDEX sessions_station_start ON sessions(station_id, start_ms);
