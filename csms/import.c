/* SPDX-License-Identifier: MIT */
/* Bulk station import: parse, check every row, then write all rows in one transaction. */
#include "import.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

bool import_id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == '/' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* A charger id must log in: it is the URL path segment and the user name of HTTP Basic auth,
 * which cannot carry ':' (RFC 7617 2). The OCPP 2.0.1 identifierString set (a-z A-Z 0-9
 * * - _ = : + | @ .) without ':' fits both (issue 10: an id with ':' imported but never logged
 * in). */
bool import_charger_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STATION_ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("*-_=+|@.", *s)))
			return false;
	return true;
}

static void bad(struct rows *rs, const char *path, long line, const char *why, const char *what)
{
	char safe[4 * 64 + 1];
	size_t o = 0;

	/* what a file says goes to the terminal escaped, and cut short */
	for (const char *w = what; w && *w && o + 5 < sizeof(safe); w++) {
		unsigned char ch = (unsigned char)*w;

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			safe[o++] = (char)ch;
		else
			o += (size_t)snprintf(safe + o, sizeof(safe) - o, "\\x%02x", ch);
	}
	safe[o] = '\0';
	fprintf(stderr, "%s:%ld: %s%s%s\n", path, line, why, what ? ": " : "", what ? safe : "");
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

	if (!id || !import_charger_id_ok(id)) {
		bad(rs, path, line,
		    "charger_id must be 1..48 characters of a-z A-Z 0-9 * - _ = + | @ . (no ':': "
		    "Basic auth could not carry it)",
		    id);
		return 0;
	}
	if (!site || !import_id_ok(site, SITE_ID_MAX)) {
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

/* ---- password hashing on every core: a KDF of 100,000 iterations costs tens of ms per row,
 * so a city's import would take hours on one core. Rows are independent. */

#define HASH_THREADS_MAX 16

struct hash_job {
	struct rows *rs;
	char (*out)[PWHASH_MAX];
	unsigned iterations;
	atomic_size_t next;
	atomic_int failed;
};

static void *hash_worker(void *arg)
{
	struct hash_job *j = arg;
	size_t i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->rs->n && !atomic_load(&j->failed)) {
		if (!j->rs->v[i].password[0])
			j->out[i][0] = '\0'; /* profile 3 without a password: no hash */
		else if (pwhash_create(j->rs->v[i].password, j->iterations, j->out[i], PWHASH_MAX) <
			 0)
			atomic_store(&j->failed, 1);
		explicit_bzero(j->rs->v[i].password, sizeof(j->rs->v[i].password));
	}
	return NULL;
}

/* Hash every row's password into out[i] (and wipe the clear text). 0, or -EIO. */
static int hash_all(struct rows *rs, unsigned iterations, char (*out)[PWHASH_MAX])
{
	struct hash_job j = {.rs = rs, .out = out, .iterations = iterations};
	pthread_t t[HASH_THREADS_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = ncpu < 1 ? 1 : ncpu > HASH_THREADS_MAX ? HASH_THREADS_MAX : (size_t)ncpu;
	size_t started = 0;

	atomic_init(&j.next, 0);
	atomic_init(&j.failed, 0);
	if (n > rs->n)
		n = rs->n ? rs->n : 1;
	for (; started + 1 < n; started++)
		if (pthread_create(&t[started], NULL, hash_worker, &j) != 0)
			break;
	hash_worker(&j); /* this thread works too, and alone when no thread could start */
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return atomic_load(&j.failed) ? -EIO : 0;
}

int import_stations(const struct cfg *cfg, const char *path, bool skip_bad)
{
	struct rows rs = {0};
	size_t len = strlen(path);
	struct store *s = NULL;
	char err[512];
	int64_t now = clock_now_ms(&clock_system);
	int status = 1, r;
	char(*hashes)[PWHASH_MAX] = NULL;

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
	hashes = calloc(rs.n ? rs.n : 1, sizeof(*hashes));
	if (!hashes || hash_all(&rs, (unsigned)cfg->kdf_iterations, hashes) < 0) {
		fprintf(stderr,
			"csms: could not hash the passwords (out of memory?); nothing imported\n");
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
		if (hmap_get(&rs.sites, row->site) == row &&
		    store_site_put(s, row->site, row->kind, now) < 0)
			goto db_fail;
		if (store_station_put(s, row->id, row->site, hashes[i][0] ? hashes[i] : NULL, now) <
		    0)
			goto db_fail;
		/* profile 3: the client certificate's CN must be the charger's id */
		if (store_station_security_set(s, row->id, row->profile, NULL,
					       row->profile == 3 ? row->id : NULL, NULL) < 0)
			goto db_fail;
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
	free(hashes);
	hmap_free(&rs.ids);
	hmap_free(&rs.sites);
	free(rs.v);
	return status;
}
