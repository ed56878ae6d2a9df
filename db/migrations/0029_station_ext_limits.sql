-- SPDX-License-Identifier: MIT
-- Schema 29: the external limits stations report (OCPP 2.0.1 NotifyChargingLimit, cleared by
-- ClearedChargingLimit): a cap from an EMS or grid operator on one EVSE (evse_id > 0) or on
-- the whole station (0). Kept here rather than in the planner's memory, so a limit survives a
-- restart and holds on whichever node plans the station's site. A row whose until_ms has
-- passed is ignored by the reads. No reference to stations (like site_plan_slots): on
-- PostgreSQL a write that fails fails its whole group commit, other stations' writes with it,
-- and a station deleted by another node between a message and its write would do that;
-- station deletion removes the rows itself (with the device model and local list).
CREATE TABLE station_ext_limits (
	station_id TEXT NOT NULL,
	evse_id    INTEGER NOT NULL, -- 0: the whole station
	limit_w    INTEGER NOT NULL,
	until_ms   INTEGER NOT NULL, -- 0: open-ended
	updated    INTEGER NOT NULL,
	PRIMARY KEY (station_id, evse_id)
) WITHOUT ROWID;
