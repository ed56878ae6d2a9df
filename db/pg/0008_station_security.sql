-- SPDX-License-Identifier: MIT
-- Schema 8 on PostgreSQL: the twin of db/migrations/0008_station_security.sql (a charger's
-- security profile 0..3 and the client certificate bound to it; docs/security.md).
ALTER TABLE stations ADD COLUMN security_profile INTEGER NOT NULL DEFAULT 0
	CHECK (security_profile BETWEEN 0 AND 3);
ALTER TABLE stations ADD COLUMN cert_cn TEXT;
ALTER TABLE stations ADD COLUMN cert_fingerprint TEXT;
UPDATE stations SET security_profile = 1 WHERE password_hash IS NOT NULL AND password_hash <> '';
CREATE INDEX stations_registration ON stations(registration);
