-- SPDX-License-Identifier: MIT
-- Schema 21: nothing on SQLite. Its PostgreSQL twin (db/pg/0021_owner_epoch.sql) gives station
-- ownership epochs one sequence so they keep rising across a release and a new take; on
-- SQLite (one node) the connection is the ownership and station_owner stays empty.

SELECT 1;
