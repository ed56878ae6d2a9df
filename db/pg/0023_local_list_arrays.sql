-- SPDX-License-Identifier: MIT
-- Schema 23 on PostgreSQL: the twin of db/migrations/0023_local_list_arrays.sql. A station's
-- local list (what the CSMS last sent it) is kept in its local_lists row as four arrays in token
-- order instead of one local_list_entries row per token. A rural station's list is hundreds of
-- tokens, sent in full at its first boot: in a full-city run (2026-12-02, 165,200 chargers,
-- 15,000 rural) the rows' inserts were 2.1 million index insertions and 136 s of PostgreSQL's
-- execution, second only to the meter readings; now a save is one row written in one statement.

ALTER TABLE local_lists
	ADD COLUMN tokens   text[]   NOT NULL DEFAULT '{}',
	ADD COLUMN statuses text[]   NOT NULL DEFAULT '{}',
	ADD COLUMN expiry   bigint[] NOT NULL DEFAULT '{}', -- ms, 0: none
	ADD COLUMN parents  text[]   NOT NULL DEFAULT '{}'; -- '': none

UPDATE local_lists l SET (tokens, statuses, expiry, parents) = (
	SELECT array_agg(e.token ORDER BY e.token), array_agg(e.status ORDER BY e.token),
	       array_agg(coalesce(e.expiry_ms, 0) ORDER BY e.token),
	       array_agg(coalesce(e.parent, '') ORDER BY e.token)
	FROM local_list_entries e WHERE e.station_id = l.station_id)
WHERE EXISTS (SELECT 1 FROM local_list_entries e WHERE e.station_id = l.station_id);

DROP TABLE local_list_entries;
