-- SPDX-License-Identifier: MIT
-- Schema 22: nothing on SQLite. Its PostgreSQL twin (db/pg/0022_node_lease.sql) gives each node
-- one lease row that it renews, instead of renewing the lease of every station row it owns;
-- on SQLite (one node) the connection is the ownership and station_owner stays empty.

SELECT 1;
