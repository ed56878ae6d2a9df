-- SPDX-License-Identifier: MIT
-- Schema: indexes for the REST API's filtered, paginated lists and the dashboard's summary
-- (issue 8). Measured with bench/api-scale.sh (165,000 stations, 1,000,000 sessions).

-- sessions of one station (and of a site: its stations' sessions), newest first
CREATE INDEX sessions_station_id ON sessions(station_id, id);
-- sessions by start time (time filters, energy today)
CREATE INDEX sessions_start ON sessions(start_ms);
-- sessions of one id token, newest first
CREATE INDEX sessions_tag ON sessions(id_tag, id);
-- stations with a connector in a given status (faulted connectors, status filter)
CREATE INDEX connectors_status ON connectors(status, station_id);
-- the station list sorted by last contact
CREATE INDEX stations_last_seen ON stations(last_seen_ms);
