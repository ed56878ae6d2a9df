-- SPDX-License-Identifier: MIT
-- Schema: stations and id tokens managed through the REST API (issue 8): the operator's notes
-- and labels of a station, and indexes for the id-token admin list's filters.

ALTER TABLE stations ADD COLUMN notes TEXT;
ALTER TABLE stations ADD COLUMN labels TEXT;
-- id tokens by status, group (parent) and owner site, each in token order (the list's pages)
CREATE INDEX id_tokens_status ON id_tokens(status, token);
CREATE INDEX id_tokens_parent ON id_tokens(parent, token);
CREATE INDEX id_tokens_site ON id_tokens(site_id, token);

-- The overview's counts (GET /api/summary), kept by triggers in the same transaction as the
-- rows they count: stations by site kind ('' without a site), registration and online state,
-- and connectors by status. Counting 165,000 stations and 330,000 connectors per request took
-- most of the summary's 785 ms (bench/api-scale.sh); reading these takes well under 1 ms.
CREATE TABLE station_counts (
	kind         TEXT NOT NULL,
	registration TEXT NOT NULL,
	online       INTEGER NOT NULL,
	n            INTEGER NOT NULL,
	PRIMARY KEY (kind, registration, online)
) WITHOUT ROWID;
INSERT INTO station_counts(kind, registration, online, n)
	SELECT ifnull(t.kind, ''), s.registration, s.online != 0, count(*)
	FROM stations s LEFT JOIN sites t ON t.id = s.site_id WHERE true GROUP BY 1, 2, 3;

CREATE TRIGGER station_counts_insert AFTER INSERT ON stations BEGIN
	INSERT INTO station_counts(kind, registration, online, n)
		VALUES (ifnull((SELECT kind FROM sites WHERE id = new.site_id), ''),
			new.registration, new.online != 0, 1)
		ON CONFLICT(kind, registration, online) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER station_counts_delete AFTER DELETE ON stations BEGIN
	UPDATE station_counts SET n = n - 1
		WHERE kind = ifnull((SELECT kind FROM sites WHERE id = old.site_id), '')
		AND registration = old.registration AND online = (old.online != 0);
END;
-- a heartbeat sets online again to what it was: only a change moves a count
CREATE TRIGGER station_counts_update AFTER UPDATE OF site_id, registration, online ON stations
	WHEN old.site_id IS NOT new.site_id OR old.registration IS NOT new.registration
	     OR (old.online != 0) IS NOT (new.online != 0)
BEGIN
	UPDATE station_counts SET n = n - 1
		WHERE kind = ifnull((SELECT kind FROM sites WHERE id = old.site_id), '')
		AND registration = old.registration AND online = (old.online != 0);
	INSERT INTO station_counts(kind, registration, online, n)
		VALUES (ifnull((SELECT kind FROM sites WHERE id = new.site_id), ''),
			new.registration, new.online != 0, 1)
		ON CONFLICT(kind, registration, online) DO UPDATE SET n = n + 1;
END;
-- a site that changes kind takes its stations' counts along
CREATE TRIGGER station_counts_site_kind AFTER UPDATE OF kind ON sites
	WHEN old.kind IS NOT new.kind
BEGIN
	UPDATE station_counts SET n = n - (SELECT count(*) FROM stations s
		WHERE s.site_id = new.id AND s.registration = station_counts.registration
		AND (s.online != 0) = station_counts.online)
		WHERE kind = old.kind;
	INSERT INTO station_counts(kind, registration, online, n)
		SELECT new.kind, registration, online != 0, count(*) FROM stations
		WHERE site_id = new.id GROUP BY 2, 3
		ON CONFLICT(kind, registration, online) DO UPDATE SET n = n + excluded.n;
END;

CREATE TABLE connector_counts (
	status TEXT PRIMARY KEY,
	n      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO connector_counts(status, n) SELECT status, count(*) FROM connectors WHERE true GROUP BY 1;
CREATE TRIGGER connector_counts_insert AFTER INSERT ON connectors BEGIN
	INSERT INTO connector_counts(status, n) VALUES (new.status, 1)
		ON CONFLICT(status) DO UPDATE SET n = n + 1;
END;
-- also when a station's deletion cascades to its connectors
CREATE TRIGGER connector_counts_delete AFTER DELETE ON connectors BEGIN
	UPDATE connector_counts SET n = n - 1 WHERE status = old.status;
END;
CREATE TRIGGER connector_counts_update AFTER UPDATE OF status ON connectors
	WHEN old.status IS NOT new.status
BEGIN
	UPDATE connector_counts SET n = n - 1 WHERE status = old.status;
	INSERT INTO connector_counts(status, n) VALUES (new.status, 1)
		ON CONFLICT(status) DO UPDATE SET n = n + 1;
END;
