-- SPDX-License-Identifier: MIT
-- Schema 25: a station's swap queue (docs/swap.md): its open bookings (queued or requested) by
-- due time, then creation. Served and cancelled bookings stay as history and are left out of
-- the index, so a station's queue is read without its past.

CREATE INDEX swap_bookings_open ON swap_bookings(station_id, due_ms, created_ms, id)
	WHERE state IN ('queued', 'requested');
