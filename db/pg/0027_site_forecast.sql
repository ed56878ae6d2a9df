-- SPDX-License-Identifier: MIT
-- Schema 27 on PostgreSQL: the twin of db/migrations/0027_site_forecast.sql. A site's PV
-- forecast, one JSON document per site: {"start_ms", "slot_s", "pv_w": [W, ...]}.
CREATE TABLE site_forecasts (
	site_id  TEXT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
	set_ms   BIGINT NOT NULL,
	forecast TEXT NOT NULL
);
