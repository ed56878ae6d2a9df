-- SPDX-License-Identifier: MIT
-- Schema 22 on PostgreSQL: the twin of db/migrations/0022_node_lease.sql. A node renews one row
-- here instead of the lease of each station_owner row it holds: in a full-city run (165,200
-- chargers, 11 nodes) the per-row renewal had updated station_owner 1.6 million times within
-- ten minutes, most of PostgreSQL's work. A station_owner row is live while its own lease (set
-- when it was taken) or its node's lease is current (docs/postgresql.md).

CREATE TABLE cluster_nodes (
	node_id text PRIMARY KEY,
	lease_until bigint NOT NULL
);
