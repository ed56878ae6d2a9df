-- SPDX-License-Identifier: MIT
-- Schema 28: the planned power of a site's past slots (GET /api/sites/{id}/plan, docs/api.md).
-- site_plans keeps only the current plan; a row here keeps what each 15-minute slot was
-- planned at (the last plan made before or during it), so the operator can set it against
-- the metered power. Written by the planner for the slot in progress and the next; rows older
-- than 8 days are pruned by the writes. No reference to sites (like site_plans): a write must
-- not fail with the plan it goes with.
CREATE TABLE site_plan_slots (
	site_id   TEXT NOT NULL,
	slot_ms   INTEGER NOT NULL, -- the slot's start, a multiple of 900,000
	planned_w INTEGER NOT NULL, -- the sessions' load
	import_w  INTEGER NOT NULL, -- from the grid (load + storage - PV)
	limit_w   INTEGER NOT NULL, -- the site's import limit, -1 for none
	PRIMARY KEY (site_id, slot_ms)
) WITHOUT ROWID;
