-- SPDX-License-Identifier: MIT
-- Schema 25: a station's swap queue, and a swap site's thresholds. The queue (docs/swap.md):
-- a station's open bookings (queued or requested) by due time, then creation. Served and
-- cancelled bookings stay as history and are left out of the index, so a station's queue is
-- read without its past.

CREATE INDEX swap_bookings_open ON swap_bookings(station_id, due_ms, created_ms, id)
	WHERE state IN ('queued', 'requested');

-- A swap site's thresholds (docs/sites.md), NULL = the default: a pack whose SoH falls below
-- swap_soh_flag_below is flagged (80 %), a pack forecast ready has swap_promised_soc (90 %).
ALTER TABLE sites ADD COLUMN swap_soh_flag_below REAL;
ALTER TABLE sites ADD COLUMN swap_promised_soc REAL;
