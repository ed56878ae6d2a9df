-- Certificates the operator's CA issued to stations (csms/ca.c, svc/cert.c): the newest per
-- station is the one in use; its expiry drives renewal (renew_requested_ms: when the station
-- was last asked to renew, 0 = not yet).
CREATE TABLE station_certificates (
	id                 INTEGER PRIMARY KEY,
	station_id         TEXT NOT NULL,
	serial             TEXT NOT NULL,
	type               TEXT NOT NULL,
	issued_ms          INTEGER NOT NULL,
	not_after_ms       INTEGER NOT NULL,
	renew_requested_ms INTEGER NOT NULL DEFAULT 0,
	pem                TEXT NOT NULL
);
CREATE INDEX station_certificates_station ON station_certificates(station_id, id);
-- security events are notices of kind 'security' (station_notices): listed per station
CREATE INDEX station_notices_kind ON station_notices(station_id, kind, id);
