/* SPDX-License-Identifier: MIT */
/* Bulk station import: parse, check every row, then write all rows in one transaction. */
#include "import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/pwhash.h"
#include "store/store.h"

/* OCPP 1.6 security whitepaper / 2.0.1 A00.FR.205: 16..40 characters. */
#define PASSWORD_MIN 16
#define PASSWORD_MAX 40

struct row {
	char id[STATION_ID_MAX + 1];
	char site[SITE_ID_MAX + 1];
	int kind;
	char password[PASSWORD_MAX + 1];
	int profile; /* security profile 1..3 (docs/security.md); 3 needs no password */
	long line;
};

struct rows {
	struct row *v;
	size_t n, cap;
	size_t bad;
	struct hmap ids;   /* id -> row, to find duplicates */
	struct hmap sites; /* site -> row (its first), to find conflicting kinds */
};

static bool id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == '/' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void bad(struct rows *rs, const char *path, long line, const char *why, const char *what)
{
	fprintf(stderr, "%s:%ld: %s%s%s\n", path, line, why, what ? ": " : "", what ? what : "");
	rs->bad++;
}

static int add_row(struct rows *rs, const char *path, long line, const char *id, const char *site,
		   const char *kind, const char *password, int profile)
{
	struct row *r, *first;
	int k;

	if (profile < 1 || profile > 3) {
		bad(rs, path, line, "security_profile must be 1, 2 or 3", NULL);
		return 0;
	}
	if (profile == 3 && password && !password[0])
		password = NULL; /* a client certificate (CN = charger_id) is the credential */

	if (!id || !id_ok(id, STATION_ID_MAX)) {
		bad(rs, path, line, "charger_id must be 1..48 printable characters without '/'",
		    id);
		return 0;
	}
	if (!site || !id_ok(site, SITE_ID_MAX)) {
		bad(rs, path, line, "site must be 1..64 printable characters", site);
		return 0;
	}
	k = site_kind_from_string(kind);
	if (k < 0) {
		bad(rs, path, line, "site_kind must be public, residential, rural or swap", kind);
		return 0;
	}
	if ((password || profile < 3) &&
	    (!password || strlen(password) < PASSWORD_MIN || strlen(password) > PASSWORD_MAX)) {
		bad(rs, path, line, "password must be 16..40 characters", NULL);
		return 0;
	}
	if (hmap_get(&rs->ids, id)) {
		bad(rs, path, line, "duplicate charger_id", id);
		return 0;
	}
	first = hmap_get(&rs->sites, site);
	if (first && first->kind != k) {
		char msg[128];

		snprintf(msg, sizeof(msg), "site %s is %s at line %ld", site,
			 site_kind_to_string(first->kind), first->line);
		bad(rs, path, line, "conflicting site_kind", msg);
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct row *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		/* the maps point into the array: rebuild them after it moves */
		rs->v = v;
		rs->cap = cap;
		hmap_free(&rs->ids);
		hmap_free(&rs->sites);
		for (size_t i = 0; i < rs->n; i++) {
			if (hmap_put(&rs->ids, rs->v[i].id, &rs->v[i]) < 0)
				return -ENOMEM;
			if (!hmap_get(&rs->sites, rs->v[i].site) &&
			    hmap_put(&rs->sites, rs->v[i].site, &rs->v[i]) < 0)
				return -ENOMEM;
		}
	}
	r = &rs->v[rs->n++];
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->site, sizeof(r->site), "%s", site);
	snprintf(r->password, sizeof(r->password), "%s", password ? password : "");
	r->profile = profile;
	r->kind = k;
	r->line = line;
	if (hmap_put(&rs->ids, r->id, r) < 0)
		return -ENOMEM;
	if (!first && hmap_put(&rs->sites, r->site, r) < 0)
		return -ENOMEM;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* The optional security_profile field: 1..3, else 0 (refused by add_row). */
static int profile_field(const char *s)
{
	return s[0] >= '1' && s[0] <= '3' && !s[1] ? s[0] - '0' : 0;
}

static int parse_csv(struct rows *rs, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long no = 0;
	int r = 0;

	if (!f) {
		fprintf(stderr, "csms: %s: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	while (getline(&line, &cap, f) > 0) {
		char *fields[5], *p, *tok;
		int n = 0;

		no++;
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (no == 1 && strncmp(p, "charger_id", 10) == 0)
			continue; /* header */
		if (strchr(p, '"')) {
			bad(rs, path, no, "quoted fields are not supported", NULL);
			continue;
		}
		/* strtok_r would merge empty fields; split by hand, then trim each field */
		for (tok = p; n < 5; n++) {
			char *comma = strchr(tok, ',');

			if (comma)
				*comma = '\0';
			fields[n] = trim(tok);
			if (!comma) {
				n++;
				break;
			}
			tok = comma + 1;
		}
		if (n != 4 && n != 5) {
			bad(rs, path, no,
			    "expected 4 or 5 fields: charger_id,site,site_kind,password"
			    "[,security_profile]",
			    NULL);
			continue;
		}
		r = add_row(rs, path, no, fields[0], fields[1], fields[2], fields[3],
			    n == 5 ? profile_field(fields[4]) : 1);
		if (r < 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

static int parse_json(struct rows *rs, const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *o;
	size_t i;
	int r = 0;

	if (!root) {
		fprintf(stderr, "csms: %s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_array(root)) {
		fprintf(stderr, "csms: %s: expected a JSON array of stations\n", path);
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(root, i, o) {
		if (!json_is_object(o)) {
			bad(rs, path, (long)i + 1, "expected an object", NULL);
			continue;
		}
		r = add_row(rs, path, (long)i + 1,
			    json_string_value(json_object_get(o, "charger_id")),
			    json_string_value(json_object_get(o, "site")),
			    json_string_value(json_object_get(o, "site_kind")),
			    json_string_value(json_object_get(o, "password")),
			    json_object_get(o, "security_profile")
				? (int)json_integer_value(json_object_get(o, "security_profile"))
				: 1);
		if (r < 0)
			break;
	}
	json_decref(root);
	return r;
}

int import_stations(const struct cfg *cfg, const char *path, bool skip_bad)
{
	struct rows rs = {0};
	size_t len = strlen(path);
	struct store *s = NULL;
	char err[512];
	int64_t now = clock_now_ms(&clock_system);
	int status = 1, r;

	if (len > 5 && strcmp(path + len - 5, ".json") == 0)
		r = parse_json(&rs, path);
	else
		r = parse_csv(&rs, path);
	if (r < 0) {
		status = r == -EINVAL ? 2 : 1;
		goto out;
	}
	if (rs.bad && !skip_bad) {
		fprintf(
		    stderr,
		    "csms: %zu bad row(s) in %s; nothing imported (--skip-bad imports the rest)\n",
		    rs.bad, path);
		goto out;
	}
	s = store_open(cfg->db_path, true, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "csms: database: %s\n", err);
		goto out;
	}
	/* Every write joins one transaction: all rows or none. */
	for (size_t i = 0; i < rs.n; i++) {
		struct row *row = &rs.v[i];
		char hash[PWHASH_MAX];

		if (hmap_get(&rs.sites, row->site) == row &&
		    store_site_put(s, row->site, row->kind, now) < 0)
			goto db_fail;
		if (row->password[0] && pwhash_create(row->password, (unsigned)cfg->kdf_iterations,
						      hash, sizeof(hash)) < 0)
			goto db_fail;
		if (store_station_put(s, row->id, row->site, row->password[0] ? hash : NULL, now) <
		    0)
			goto db_fail;
		/* profile 3: the client certificate's CN must be the charger's id */
		if (store_station_security_set(s, row->id, row->profile, NULL,
					       row->profile == 3 ? row->id : NULL, NULL) < 0)
			goto db_fail;
		explicit_bzero(row->password, sizeof(row->password));
	}
	if (store_commit(s) < 0)
		goto db_fail;
	printf("imported %zu station(s) from %s", rs.n, path);
	if (rs.bad)
		printf(", skipped %zu bad row(s)", rs.bad);
	printf("\n");
	status = 0;
	goto out;
db_fail:
	fprintf(stderr, "csms: database: %s; nothing imported\n", store_errmsg(s));
	store_rollback(s);
out:
	store_close(s);
	hmap_free(&rs.ids);
	hmap_free(&rs.sites);
	free(rs.v);
	return status;
}
