/* SPDX-License-Identifier: MIT */
/* Unit tests of `csms stations import`: CSV and JSON rows, all-or-nothing, --skip-bad, updates. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/pwhash.h"
#include "import.h"
#include "store/store.h"

#define PW1 "password-one-00001"
#define PW2 "password-two-00002"
#define PW3 "password-three-003"

struct fx {
	char dir[64], db[96], file[96];
	struct cfg cfg;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_csms_import_XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/csms.db", f->dir);
	cfg_init(&f->cfg);
	free(f->cfg.db_path);
	f->cfg.db_path = strdup(f->db);
	f->cfg.kdf_iterations = 1; /* the test is about rows, not key stretching */
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = {"csms.db", "csms.db-wal", "csms.db-shm",
					    "in.csv",  "in.json",     "in.txt"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
	rmdir(f->dir);
	cfg_free(&f->cfg);
	free(f);
	return 0;
}

/* Write text to <dir>/<name> and import it. */
static int import_text(struct fx *f, const char *name, const char *text, bool skip_bad)
{
	FILE *o;

	snprintf(f->file, sizeof(f->file), "%s/%s", f->dir, name);
	o = fopen(f->file, "w");
	assert_non_null(o);
	assert_int_equal(fputs(text, o) >= 0, 1);
	assert_int_equal(fclose(o), 0);
	return import_stations(&f->cfg, f->file, skip_bad);
}

/* Open the database the import wrote (NULL-safe lookups after). */
static struct store *open_db(struct fx *f)
{
	char err[256];
	struct store *s = store_open(f->db, false, err, sizeof(err));

	if (!s)
		print_error("store_open: %s\n", err);
	assert_non_null(s);
	return s;
}

static void expect_station(struct store *s, const char *id, const char *site, int kind,
			   const char *password)
{
	struct store_station st;

	assert_int_equal(store_station_get(s, id, &st), 0);
	assert_string_equal(st.site_id, site);
	assert_int_equal(st.site_kind, kind);
	assert_true(pwhash_verify(password, st.password_hash));
}

static void expect_absent(struct store *s, const char *id)
{
	struct store_station st;

	assert_int_equal(store_station_get(s, id, &st), -ENOENT);
}

static void test_import_csv(void **state)
{
	struct fx *f = *state;
	struct store_station st;
	struct store *s;

	assert_int_equal(import_text(f, "in.csv",
				     "charger_id,site,site_kind,password\n"
				     "CP-1,S-PUB,public," PW1 "\n"
				     "\n"
				     "# a comment\n"
				     "CP-2,S-HOME,residential, " PW2 " \r\n" /* CRLF */
				     "CP-3,S-PUB,public," PW3,		     /* no final newline */
				     false),
			 0);
	s = open_db(f);
	expect_station(s, "CP-1", "S-PUB", SITE_PUBLIC, PW1);
	expect_station(s, "CP-2", "S-HOME", SITE_RESIDENTIAL, PW2);
	expect_station(s, "CP-3", "S-PUB", SITE_PUBLIC, PW3);
	assert_int_equal(store_station_get(s, "CP-1", &st), 0);
	assert_int_equal(st.registration, REG_ACCEPTED);
	/* the hash records the configured iteration count */
	assert_int_equal(strncmp(st.password_hash, "pbkdf2-sha256$1$", 16), 0);
	assert_false(pwhash_verify(PW2, st.password_hash));
	store_close(s);
}

static void test_import_json(void **state)
{
	struct fx *f = *state;
	struct store *s;

	assert_int_equal(import_text(f, "in.json",
				     "[{\"charger_id\": \"CP-J1\", \"site\": \"S-R\", "
				     "\"site_kind\": \"rural\", \"password\": \"" PW1 "\"},"
				     " {\"charger_id\": \"CP-J2\", \"site\": \"S-W\", "
				     "\"site_kind\": \"swap\", \"password\": \"" PW2 "\"}]",
				     false),
			 0);
	s = open_db(f);
	expect_station(s, "CP-J1", "S-R", SITE_RURAL, PW1);
	expect_station(s, "CP-J2", "S-W", SITE_SWAP, PW2);
	store_close(s);
}

static void test_import_unusable_files(void **state)
{
	struct fx *f = *state;

	assert_int_equal(import_stations(&f->cfg, "/nonexistent/in.csv", false), 2);
	assert_int_equal(import_text(f, "in.json", "{\"charger_id\": \"CP-1\"}", false), 2);
	assert_int_equal(import_text(f, "in.json", "[{\"charger_id\": ", false), 2);
	/* nothing was written, not even an empty database */
	assert_int_equal(access(f->db, F_OK), -1);
}

/* One bad row: nothing is imported (exit 1); with --skip-bad the good rows are (exit 0). */
static void expect_bad_row(struct fx *f, const char *name, const char *bad_row)
{
	char text[1024];
	struct store *s;
	int r;

	if (strstr(name, ".json"))
		snprintf(text, sizeof(text),
			 "[{\"charger_id\": \"CP-GOOD\", \"site\": \"S-1\", \"site_kind\": "
			 "\"public\", \"password\": \"" PW1 "\"}, %s]",
			 bad_row);
	else
		snprintf(text, sizeof(text),
			 "charger_id,site,site_kind,password\n"
			 "CP-GOOD,S-1,public," PW1 "\n%s\n",
			 bad_row);
	r = import_text(f, name, text, false);
	if (r != 1)
		print_error("bad row \"%s\": status %d\n", bad_row, r);
	assert_int_equal(r, 1);
	if (access(f->db, F_OK) == 0) {
		s = open_db(f);
		expect_absent(s, "CP-GOOD");
		store_close(s);
	}
	assert_int_equal(import_text(f, name, text, true), 0);
	s = open_db(f);
	expect_station(s, "CP-GOOD", "S-1", SITE_PUBLIC, PW1);
	store_close(s);
	unlink(f->db);
}

static void test_import_bad_rows(void **state)
{
	struct fx *f = *state;
	static const char *const csv[] = {
	    "CP/1,S-1,public," PW2, /* '/' would break the URL path */
	    "CP 1,S-1,public," PW2, /* inner space */
	    ",S-1,public," PW2,	    /* empty id */
	    "CP-1234567890123456789012345678901234567890123456,S-1,public," PW2, /* 49 */
	    "CP-2,,public," PW2,						 /* empty site */
	    "CP-2,S-1,Public," PW2, /* kinds are lower case */
	    "CP-2,S-1,garage," PW2,
	    "CP-2,S-1,public,short-password",				 /* 14 < 16 */
	    "CP-2,S-1,public,0123456789012345678901234567890123456789x", /* 41 > 40 */
	    "CP-2,S-1,public",						 /* 3 fields */
	    "CP-2,S-1,public," PW2 ",extra",				 /* 5 fields */
	    "\"CP-2\",S-1,public," PW2,					 /* quotes */
	    "CP-GOOD,S-1,public," PW2,					 /* duplicate id */
	    "CP-2,S-1,residential," PW2,				 /* S-1 is public above */
	    "CP-2\x01,S-1,public," PW2,					 /* control character */
	};
	static const char *const json[] = {
	    "\"CP-2\"",
	    "{\"charger_id\": \"CP-2\", \"site\": \"S-1\", \"site_kind\": \"public\"}",
	    "{\"charger_id\": 2, \"site\": \"S-1\", \"site_kind\": \"public\", "
	    "\"password\": \"" PW2 "\"}",
	    "{\"charger_id\": \"CP-GOOD\", \"site\": \"S-1\", \"site_kind\": \"public\", "
	    "\"password\": \"" PW2 "\"}",
	};

	for (size_t i = 0; i < sizeof(csv) / sizeof(csv[0]); i++)
		expect_bad_row(f, "in.csv", csv[i]);
	for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
		expect_bad_row(f, "in.json", json[i]);
}

static void test_import_boundaries_accepted(void **state)
{
	struct fx *f = *state;
	struct store *s;

	/* a 48-character id, a 16- and a 40-character password */
	assert_int_equal(import_text(f, "in.csv",
				     "CP-123456789012345678901234567890123456789012345,S-1,public,"
				     "0123456789abcdef\n"
				     "CP-B,S-1,public,0123456789012345678901234567890123456789\n",
				     false),
			 0);
	s = open_db(f);
	expect_station(s, "CP-123456789012345678901234567890123456789012345", "S-1", SITE_PUBLIC,
		       "0123456789abcdef");
	expect_station(s, "CP-B", "S-1", SITE_PUBLIC, "0123456789012345678901234567890123456789");
	store_close(s);
}

static void test_import_update_rotates_password(void **state)
{
	struct fx *f = *state;
	struct store *s;

	assert_int_equal(import_text(f, "in.csv", "CP-1,S-1,public," PW1 "\n", false), 0);
	s = open_db(f);
	assert_int_equal(store_station_set_registration(s, "CP-1", REG_REJECTED), 0);
	store_close(s);
	assert_int_equal(import_text(f, "in.csv", "CP-1,S-2,rural," PW2 "\n", false), 0);
	s = open_db(f);
	expect_station(s, "CP-1", "S-2", SITE_RURAL, PW2);
	{
		struct store_station st;

		assert_int_equal(store_station_get(s, "CP-1", &st), 0);
		assert_false(pwhash_verify(PW1, st.password_hash));
		assert_int_equal(st.registration, REG_REJECTED); /* the operator's decision stays */
	}
	store_close(s);
}

/* More rows than the first allocation (256, then 512): duplicates and site conflicts are still
 * found against rows read before the array moved. */
static void test_import_many_rows(void **state)
{
	struct fx *f = *state;
	size_t cap = 700 * 64, n = 0;
	char *text = malloc(cap);
	struct store *s;

	assert_non_null(text);
	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(text + n, cap - n, "CP-%04d,S-%d,%s,password-%08d\n", i,
				      i % 7, i % 7 == 3 ? "residential" : "public", i);
	assert_int_equal(import_text(f, "in.csv", text, false), 0);
	s = open_db(f);
	expect_station(s, "CP-0000", "S-0", SITE_PUBLIC, "password-00000000");
	expect_station(s, "CP-0599", "S-4", SITE_PUBLIC, "password-00000599");
	expect_station(s, "CP-0003", "S-3", SITE_RESIDENTIAL, "password-00000003");
	store_close(s);
	unlink(f->db);

	/* a duplicate of the first row, after two reallocations */
	snprintf(text + n, cap - n, "CP-0000,S-0,public,password-00000000\n");
	assert_int_equal(import_text(f, "in.csv", text, false), 1);
	/* a kind conflicting with the first row of its site, after two reallocations */
	snprintf(text + n, cap - n, "CP-0600,S-0,rural,password-00000600\n");
	assert_int_equal(import_text(f, "in.csv", text, false), 1);
	assert_int_equal(access(f->db, F_OK), -1);
	free(text);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_import_csv),
	    T(test_import_json),
	    T(test_import_unusable_files),
	    T(test_import_bad_rows),
	    T(test_import_boundaries_accepted),
	    T(test_import_update_rotates_password),
	    T(test_import_many_rows),
	};
#undef T

	return cmocka_run_group_tests_name("import", tests, NULL, NULL);
}
