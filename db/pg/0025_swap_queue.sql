-- SPDX-License-Identifier: MIT
-- Schema 25 on PostgreSQL: the twin of db/migrations/0025_swap_queue.sql. A station's swap
-- queue (docs/swap.md): its open bookings (queued or requested) by due time, then creation;
-- served and cancelled bookings are left out of the index.

CREATE INDEX swap_bookings_open ON swap_bookings(station_id, due_ms, created_ms, id)
	WHERE state IN ('queued', 'requested');
