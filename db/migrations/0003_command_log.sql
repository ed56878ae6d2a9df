-- SPDX-License-Identifier: MIT
-- Schema: the command log. Every operator command to a station and how it ended (who, what,
-- when, the station's answer, latency). Written before the operator hears the answer.

CREATE TABLE command_log (
	id             INTEGER PRIMARY KEY,
	station_id     TEXT NOT NULL,
	who            TEXT NOT NULL,
	kind           TEXT NOT NULL,
	action         TEXT,
	request        TEXT,
	status         TEXT NOT NULL,
	station_status TEXT,
	error_code     TEXT,
	detail         TEXT,
	response       TEXT,
	requested_ms   INTEGER NOT NULL,
	answered_ms    INTEGER NOT NULL,
	latency_ms     INTEGER NOT NULL
);
CREATE INDEX command_log_station ON command_log(station_id, id);
