-- SPDX-License-Identifier: MIT
-- Schema 19 on PostgreSQL: the twin of db/migrations/0019_node_keys.sql (each node's public
-- key for sealing a station's new password to it; docs/scaling.md).

CREATE TABLE node_keys (
	node_id    TEXT PRIMARY KEY,
	public_key TEXT NOT NULL,
	updated_ms BIGINT NOT NULL
);
