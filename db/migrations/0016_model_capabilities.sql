-- SPDX-License-Identifier: MIT
-- Charging capabilities per station model (vendor, model from BootNotification; issue 9 item
-- 5, docs/v2g.md "Capabilities"): what the planner learned from the stations' answers, what the
-- operator set over it, and why the learned members are what they are. A station whose boot
-- named no vendor and model has a record of its own: vendor '' and model 'station:<id>'.
CREATE TABLE model_capabilities (
	vendor     TEXT NOT NULL,
	model      TEXT NOT NULL,
	learned    TEXT NOT NULL DEFAULT '{}', -- JSON object: members learned from answers
	override   TEXT NOT NULL DEFAULT '{}', -- JSON object: members the operator set (they win)
	reason     TEXT NOT NULL DEFAULT '',   -- the answers that taught the learned members
	updated_ms INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (vendor, model)
);

-- The per-station records of 0005 become their model's (the first station of a model wins).
INSERT OR IGNORE INTO model_capabilities(vendor, model, learned, reason, updated_ms)
	SELECT coalesce(s.vendor, ''),
	       CASE WHEN coalesce(s.vendor, '') = '' AND coalesce(s.model, '') = ''
		    THEN 'station:' || s.id ELSE coalesce(s.model, '') END,
	       c.caps, 'learned by station ' || s.id, c.updated_ms
	FROM charging_capabilities c JOIN stations s ON c.model = 'station:' || s.id
	ORDER BY c.updated_ms;
