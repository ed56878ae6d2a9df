-- SPDX-License-Identifier: MIT
-- Schema 23: nothing on SQLite (one node keeps one row per token of a station's local list).
-- Its PostgreSQL twin (db/pg/0023_local_list_arrays.sql) keeps each station's list in its
-- local_lists row as arrays.

SELECT 1;
