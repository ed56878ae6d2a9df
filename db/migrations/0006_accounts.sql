-- SPDX-License-Identifier: MIT
-- Schema: operator accounts (roles viewer, operator, admin; scrypt password hashes), their
-- browser sessions (only the SHA-256 of the random cookie is kept), API tokens for scripts
-- (SHA-256 of 32 random bytes) and the audit log of every state-changing API request.

CREATE TABLE accounts (
	name       TEXT PRIMARY KEY,
	role       TEXT NOT NULL,
	pw_hash    TEXT NOT NULL,
	disabled   INTEGER NOT NULL DEFAULT 0,
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL
);

CREATE TABLE auth_sessions (
	hash       TEXT PRIMARY KEY,
	account    TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	last_ms    INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL
);
CREATE INDEX auth_sessions_account ON auth_sessions(account);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE,
	created_by   TEXT NOT NULL,
	created_ms   INTEGER NOT NULL,
	last_used_ms INTEGER NOT NULL DEFAULT 0,
	revoked_ms   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
	id     INTEGER PRIMARY KEY,
	ts_ms  INTEGER NOT NULL,
	who    TEXT NOT NULL,
	method TEXT NOT NULL,
	path   TEXT NOT NULL,
	status INTEGER NOT NULL,
	peer   TEXT NOT NULL
);
