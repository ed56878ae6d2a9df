-- SPDX-License-Identifier: MIT
-- Schema 15 on PostgreSQL: the twin of db/migrations/0015_api_admin.sql (a station's notes and
-- labels; indexes for the id-token admin list).

ALTER TABLE stations ADD COLUMN notes TEXT;
ALTER TABLE stations ADD COLUMN labels TEXT;
CREATE INDEX id_tokens_status ON id_tokens(status, token);
CREATE INDEX id_tokens_parent ON id_tokens(parent, token);
CREATE INDEX id_tokens_site ON id_tokens(site_id, token);
