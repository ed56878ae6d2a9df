-- SPDX-License-Identifier: MIT
-- Schema 7 on PostgreSQL: the twin of db/migrations/0007_api_indexes.sql (indexes for the REST
-- API's filtered, paginated lists and the dashboard's summary).

CREATE INDEX sessions_station_id ON sessions(station_id, id);
CREATE INDEX sessions_start ON sessions(start_ms);
CREATE INDEX sessions_tag ON sessions(id_tag, id);
CREATE INDEX connectors_status ON connectors(status, station_id);
CREATE INDEX stations_last_seen ON stations(last_seen_ms);
