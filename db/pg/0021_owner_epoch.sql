-- SPDX-License-Identifier: MIT
-- Schema 21 on PostgreSQL: the twin of db/migrations/0021_owner_epoch.sql. A station's
-- ownership epoch comes from one sequence, so it keeps rising across a release (the row is
-- deleted) and a new take (the row is inserted again): before, a new row started at epoch 1
-- and a node compared a late takeover NOTIFY of the old row's epoch with it, closing the
-- connection it had just taken (docs/postgresql.md).

CREATE SEQUENCE station_owner_epoch;
SELECT setval('station_owner_epoch', coalesce(max(epoch), 0) + 1, false) FROM station_owner;
