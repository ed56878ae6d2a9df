-- SPDX-License-Identifier: MIT
-- Schema 27: a site's PV forecast (PUT /api/sites/{id}/forecast, docs/api.md), one JSON
-- document per site: {"start_ms", "slot_s", "pv_w": [W, ...]}. The planner takes it as free
-- local supply per slot (docs/v2g.md "Planner inputs").
CREATE TABLE site_forecasts (
	site_id  TEXT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
	set_ms   INTEGER NOT NULL,
	forecast TEXT NOT NULL
);
