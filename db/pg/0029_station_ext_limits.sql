-- SPDX-License-Identifier: MIT
-- Schema 29 on PostgreSQL: the twin of db/migrations/0029_station_ext_limits.sql. The external
-- limits stations report, per EVSE (0: the station); no reference to stations so that a write
-- never fails its group commit (station deletion removes the rows itself).
CREATE TABLE station_ext_limits (
	station_id TEXT NOT NULL,
	evse_id    INTEGER NOT NULL,
	limit_w    BIGINT NOT NULL,
	until_ms   BIGINT NOT NULL,
	updated    BIGINT NOT NULL,
	PRIMARY KEY (station_id, evse_id)
);
