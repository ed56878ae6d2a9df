-- SPDX-License-Identifier: MIT
-- Schema 2: signed meter data kept with its reading, and readings that came again with another value.

-- OCPP 2.0.1 sampledValue.signedMeterValue (signedMeterData, signingMethod, encodingMethod,
-- publicKey); OCPP 1.6 values of format SignedData keep the signed blob in signed_data too.
ALTER TABLE meter_values ADD COLUMN signed_data     TEXT;
ALTER TABLE meter_values ADD COLUMN signing_method  TEXT;
ALTER TABLE meter_values ADD COLUMN encoding_method TEXT;
ALTER TABLE meter_values ADD COLUMN public_key      TEXT;

-- Readings delivered again under a stored key (station, EVSE, time, measurand, phase, context,
-- location) with a different value: the stored reading stays, the other one is kept here.
ALTER TABLE sessions ADD COLUMN sample_conflicts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sample_conflicts (
	id           INTEGER PRIMARY KEY,
	session_id   INTEGER,
	station_id   TEXT NOT NULL,
	evse_id      INTEGER NOT NULL,
	ts_ms        INTEGER NOT NULL,
	measurand    TEXT NOT NULL,
	phase        TEXT NOT NULL DEFAULT '',
	context      TEXT NOT NULL DEFAULT '',
	location     TEXT NOT NULL DEFAULT '',
	stored_value TEXT NOT NULL,
	value        TEXT NOT NULL,
	received_ms  INTEGER NOT NULL
);
CREATE INDEX sample_conflicts_session ON sample_conflicts(session_id) WHERE session_id IS NOT NULL;
