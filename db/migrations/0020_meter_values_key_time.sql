-- SPDX-License-Identifier: MIT
-- Schema: the readings' unique key leads with the reading's time (issue 12, CPU per MeterValues).
-- Same columns, so the same readings are duplicates as before (ON CONFLICT and the lookup of a
-- kept value use every column); only the order in the B-tree changes. Led by the station, each
-- charger's new readings went to the end of its own range: a group commit of readings from k
-- chargers dirtied about k leaf pages of this index, each written whole to the WAL, synced and
-- checkpointed. Led by the time, the readings of one moment share the last leaf pages.
-- docs/scaling.md "Where a MeterValues' CPU goes" has the measurement.

DROP INDEX meter_values_key;
CREATE UNIQUE INDEX meter_values_key
	ON meter_values(ts_ms, station_id, evse_id, measurand, phase, context, location);
