-- SPDX-License-Identifier: MIT
-- Schema: a charger's security profile and credentials (issue 10, docs/security.md).
-- security_profile: 0 no authentication (labs), 1 HTTP Basic over ws://, 2 Basic over wss://
-- (TLS), 3 mutual TLS (client certificate CN = charger id). A station is refused on a weaker
-- profile than its own. password_hash (0001) holds the Basic-auth credential; cert_cn and
-- cert_fingerprint (SHA-256 of the DER, lower-case hex) the client certificate bound to it.
ALTER TABLE stations ADD COLUMN security_profile INTEGER NOT NULL DEFAULT 0
	CHECK (security_profile BETWEEN 0 AND 3);
ALTER TABLE stations ADD COLUMN cert_cn TEXT;
ALTER TABLE stations ADD COLUMN cert_fingerprint TEXT;
UPDATE stations SET security_profile = 1 WHERE password_hash IS NOT NULL AND password_hash <> '';
CREATE INDEX stations_registration ON stations(registration);
