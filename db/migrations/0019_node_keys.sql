-- SPDX-License-Identifier: MIT
-- Schema: each node's public key (X25519, hex), published when the node starts (docs/scaling.md
-- "set-password across nodes"): another node seals a station's new password to it, so the
-- password crosses the database only as ciphertext that this node alone can open. On SQLite
-- (one node) the table stays empty.

CREATE TABLE node_keys (
	node_id    TEXT PRIMARY KEY,
	public_key TEXT NOT NULL,
	updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
