-- SPDX-License-Identifier: MIT
-- Schema 25 on PostgreSQL: the twin of db/migrations/0025_swap_queue.sql. A station's swap
-- queue (docs/swap.md): its open bookings (queued or requested) by due time, then creation;
-- served and cancelled bookings are left out of the index. And a swap site's thresholds.

CREATE INDEX swap_bookings_open ON swap_bookings(station_id, due_ms, created_ms, id)
	WHERE state IN ('queued', 'requested');

-- A swap site's thresholds (docs/sites.md), NULL = the default: a pack whose SoH falls below
-- swap_soh_flag_below is flagged (80 %), a pack forecast ready has swap_promised_soc (90 %).
ALTER TABLE sites ADD COLUMN swap_soh_flag_below DOUBLE PRECISION;
ALTER TABLE sites ADD COLUMN swap_promised_soc DOUBLE PRECISION;
