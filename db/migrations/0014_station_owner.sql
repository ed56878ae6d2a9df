-- SPDX-License-Identifier: MIT
-- Schema: several nodes on one database (docs/scaling.md). Which node holds a station's
-- connection (taken when the connection is admitted, renewed by the owner, released on close),
-- and operator commands addressed to another node. On SQLite (one node) the tables stay empty:
-- the node that runs is the only one.

CREATE TABLE station_owner (
	station_id  TEXT PRIMARY KEY,
	node_id     TEXT NOT NULL,    -- --node-id of the holder
	epoch       INTEGER NOT NULL, -- +1 on every takeover
	lease_until INTEGER NOT NULL, -- ms since the epoch; renewed by the holder
	conn_since  INTEGER NOT NULL  -- ms: when the holder admitted the connection
) WITHOUT ROWID;
CREATE INDEX station_owner_node ON station_owner(node_id);

-- A command routed to the node that holds the station: queued by the node that serves the API
-- request, claimed (sent) and answered (done) by the owner, read and deleted by the requester.
CREATE TABLE node_commands (
	id          INTEGER PRIMARY KEY,
	target_node TEXT NOT NULL,
	reply_node  TEXT NOT NULL,
	station_id  TEXT NOT NULL,
	request     TEXT NOT NULL,    -- the command as JSON (csms/cluster.c)
	state       TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'done')),
	result      TEXT,             -- the outcome as JSON, once done
	created_ms  INTEGER NOT NULL,
	done_ms     INTEGER
);
