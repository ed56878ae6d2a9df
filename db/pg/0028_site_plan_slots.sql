-- SPDX-License-Identifier: MIT
-- Schema 28 on PostgreSQL: the twin of db/migrations/0028_site_plan_slots.sql. The planned
-- power of a site's 15-minute slots, kept for 8 days after the current plan moved on.
CREATE TABLE site_plan_slots (
	site_id   TEXT NOT NULL,
	slot_ms   BIGINT NOT NULL,
	planned_w BIGINT NOT NULL,
	import_w  BIGINT NOT NULL,
	limit_w   BIGINT NOT NULL,
	PRIMARY KEY (site_id, slot_ms)
);
