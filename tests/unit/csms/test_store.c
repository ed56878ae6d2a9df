/* SPDX-License-Identifier: MIT */
/* Unit tests of the SQLite store: migrations, stations, tokens, sessions, samples, group commit. */
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
#include <sqlite3.h>

#include "store/store.h"

/* Generated from db/migrations by tools/embed.py and linked into libcsms. */
extern const size_t db_migrations_count;

#define T0 1795000000000LL /* 2026-11-19, ms */

static int store_setup(void **state)
{
	char err[256];
	struct store *s = store_open(":memory:", false, err, sizeof(err));

	if (!s) {
		print_error("store_open: %s\n", err);
		return -1;
	}
	*state = s;
	return 0;
}

static int store_teardown(void **state)
{
	store_close(*state);
	return 0;
}

/* ------------------------------------------------------------------ row collectors */

struct session_copy {
	int64_t id;
	char station_id[STATION_ID_MAX + 1], id_tag[TOKEN_MAX + 1], auth_status[16];
	char stop_reason[32];
	bool has_stop_reason;
	int evse_id, connector_id;
	int64_t start_ms, meter_start_wh;
	bool has_reservation;
	int64_t reservation_id;
	bool stopped;
	int64_t stop_ms, meter_stop_wh;
};

struct sessions {
	struct session_copy v[16];
	int n;
};

static int collect_session(const struct store_session_row *row, void *ud)
{
	struct sessions *ss = ud;
	struct session_copy *c;

	assert_true(ss->n < 16);
	c = &ss->v[ss->n++];
	memset(c, 0, sizeof(*c));
	c->id = row->id;
	snprintf(c->station_id, sizeof(c->station_id), "%s", row->station_id);
	snprintf(c->id_tag, sizeof(c->id_tag), "%s", row->id_tag ? row->id_tag : "");
	snprintf(c->auth_status, sizeof(c->auth_status), "%s",
		 row->auth_status ? row->auth_status : "");
	c->has_stop_reason = row->stop_reason != NULL;
	snprintf(c->stop_reason, sizeof(c->stop_reason), "%s",
		 row->stop_reason ? row->stop_reason : "");
	c->evse_id = row->evse_id;
	c->connector_id = row->connector_id;
	c->start_ms = row->start_ms;
	c->meter_start_wh = row->meter_start_wh;
	c->has_reservation = row->has_reservation;
	c->reservation_id = row->reservation_id;
	c->stopped = row->stopped;
	c->stop_ms = row->stop_ms;
	c->meter_stop_wh = row->meter_stop_wh;
	return 0;
}

static struct session_copy get_session(struct store *s, int64_t id)
{
	struct sessions ss = {.n = 0};
	int r = store_session_get(s, id, collect_session, &ss);

	assert_int_equal(r, 1);
	assert_int_equal(ss.n, 1);
	return ss.v[0];
}

static int count_stations(const struct store_station_row *row, void *ud)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

struct station_copy {
	char protocol[16], vendor[32], model[32], firmware[32], registration[16];
	char firmware_status[32], diagnostics_status[32];
	bool online;
	int64_t last_seen_ms, last_boot_ms;
	int n;
};

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "(null)");
}

static int collect_station(const struct store_station_row *row, void *ud)
{
	struct station_copy *c = ud;

	copy_str(c->protocol, sizeof(c->protocol), row->protocol);
	copy_str(c->vendor, sizeof(c->vendor), row->vendor);
	copy_str(c->model, sizeof(c->model), row->model);
	copy_str(c->firmware, sizeof(c->firmware), row->firmware);
	copy_str(c->registration, sizeof(c->registration), row->registration);
	copy_str(c->firmware_status, sizeof(c->firmware_status), row->firmware_status);
	copy_str(c->diagnostics_status, sizeof(c->diagnostics_status), row->diagnostics_status);
	c->online = row->online;
	c->last_seen_ms = row->last_seen_ms;
	c->last_boot_ms = row->last_boot_ms;
	c->n++;
	return 0;
}

static struct station_copy station_row(struct store *s, const char *id)
{
	struct station_copy c = {.n = 0};

	assert_int_equal(store_stations_list(s, id, 10, 0, collect_station, &c), 1);
	assert_int_equal(c.n, 1);
	return c;
}

static int64_t start(struct store *s, const char *station, int evse, const char *tag,
		     int64_t start_ms, int64_t meter, bool *ret_existing)
{
	struct store_session_open in = {
	    .station_id = station,
	    .evse_id = evse,
	    .connector_id = 1,
	    .id_tag = tag,
	    .auth_status = AUTH_ACCEPTED,
	    .start_ms = start_ms,
	    .has_meter_start = true,
	    .meter_start_wh = meter,
	    .now_ms = T0,
	};
	int64_t id = -1;
	bool existing = store_session_find_start(s, &in, &id) == 0;

	if (!existing)
		assert_int_equal(store_session_open(s, &in, &id), 0);
	assert_true(id > 0);
	if (ret_existing)
		*ret_existing = existing;
	return id;
}

/* ------------------------------------------------------------------ tests */

static void test_enum_names(void **state)
{
	(void)state;
	for (int k = 0; k < _SITE_KIND_MAX; k++)
		assert_int_equal(site_kind_from_string(site_kind_to_string(k)), k);
	for (int r = 0; r < _REG_MAX; r++)
		assert_int_equal(reg_status_from_string(reg_status_to_string(r)), r);
	for (int a = 0; a < _AUTH_MAX; a++)
		assert_int_equal(auth_status_from_string(auth_status_to_string(a)), a);
	assert_string_equal(site_kind_to_string(SITE_RESIDENTIAL), "residential");
	assert_string_equal(reg_status_to_string(REG_PENDING), "Pending");
	assert_string_equal(auth_status_to_string(AUTH_EXPIRED), "Expired");
	assert_null(site_kind_to_string(_SITE_KIND_MAX));
	assert_null(reg_status_to_string(-1));
	assert_null(auth_status_to_string(_AUTH_MAX));
	assert_int_equal(site_kind_from_string("Public"), -EINVAL);
	assert_int_equal(reg_status_from_string("accepted"), -EINVAL);
	assert_int_equal(auth_status_from_string(NULL), -EINVAL);
}

static void test_open_applies_migrations(void **state)
{
	struct store *s = *state;

	assert_true(db_migrations_count >= 1);
	assert_int_equal(store_schema_version(s), (int)db_migrations_count);
	assert_false(store_dirty(s)); /* opening leaves no transaction open */
	/* the schema is usable: every statement was prepared against it */
	assert_int_equal(store_station_create(s, "CP-1", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(s), 0);
}

static void test_open_file_reopen_and_newer_schema(void **state)
{
	char dir[] = "/tmp/test_csms_store_XXXXXX", path[96], err[256];
	struct store_station st;
	struct store *s;
	sqlite3 *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/csms.db", dir);

	s = store_open(path, true, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), (int)db_migrations_count);
	assert_int_equal(store_station_create(s, "CP-committed", REG_PENDING, T0), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_station_create(s, "CP-closed", REG_PENDING, T0), 0);
	store_close(s); /* commits the open group transaction */

	/* reopening applies nothing twice and keeps the data */
	s = store_open(path, false, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), (int)db_migrations_count);
	assert_int_equal(store_station_get(s, "CP-committed", &st), 0);
	assert_int_equal(st.registration, REG_PENDING);
	assert_int_equal(store_station_get(s, "CP-closed", &st), 0);
	store_close(s);

	/* a database written by a newer csms is refused with a message */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	{
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", db_migrations_count + 1);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	sqlite3_close(db);
	err[0] = '\0';
	assert_null(store_open(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));

	/* a path that cannot be opened */
	err[0] = '\0';
	assert_null(store_open("/nonexistent/dir/csms.db", false, err, sizeof(err)));
	assert_true(err[0] != '\0');

	unlink(path);
	snprintf(path, sizeof(path), "%s/csms.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/csms.db-shm", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_station_create_get(void **state)
{
	struct store *s = *state;
	struct store_station st;

	assert_int_equal(store_station_get(s, "CP-1", &st), -ENOENT);
	assert_int_equal(store_station_create(s, "CP-1", REG_PENDING, T0), 0);
	assert_int_equal(store_station_create(s, "CP-1", REG_ACCEPTED, T0), -EEXIST);
	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(store_station_get(s, "CP-1", &st), 0);
	assert_string_equal(st.id, "CP-1");
	assert_string_equal(st.site_id, "");
	assert_int_equal(st.site_kind, -1);
	assert_int_equal(st.registration, REG_PENDING); /* not overwritten by the failed create */
	assert_string_equal(st.password_hash, "");
	assert_int_equal(store_station_get(s, "cp-1", &st), -ENOENT); /* ids are case-sensitive */
}

static void test_station_put_site_and_password(void **state)
{
	struct store *s = *state;
	struct store_station st;

	assert_int_equal(store_site_put(s, "S-HOME", SITE_RESIDENTIAL, T0), 0);
	assert_int_equal(store_site_put(s, "S-PUB", SITE_PUBLIC, T0), 0);
	assert_true(store_site_put(s, "S-BAD", _SITE_KIND_MAX, T0) < 0);

	/* a new station from an import: Accepted by default */
	assert_int_equal(store_station_put(s, "CP-2", "S-HOME", "pbkdf2-sha256$1$aa$bb", T0), 0);
	assert_int_equal(store_station_get(s, "CP-2", &st), 0);
	assert_string_equal(st.site_id, "S-HOME");
	assert_int_equal(st.site_kind, SITE_RESIDENTIAL);
	assert_int_equal(st.registration, REG_ACCEPTED);
	assert_string_equal(st.password_hash, "pbkdf2-sha256$1$aa$bb");

	/* re-import: site and password change, the operator's registration decision stays */
	assert_int_equal(store_station_set_registration(s, "CP-2", REG_REJECTED), 0);
	assert_int_equal(store_station_put(s, "CP-2", "S-PUB", "pbkdf2-sha256$1$cc$dd", T0 + 1), 0);
	assert_int_equal(store_station_get(s, "CP-2", &st), 0);
	assert_string_equal(st.site_id, "S-PUB");
	assert_int_equal(st.site_kind, SITE_PUBLIC);
	assert_int_equal(st.registration, REG_REJECTED);
	assert_string_equal(st.password_hash, "pbkdf2-sha256$1$cc$dd");

	/* a site kind can change; the station sees it */
	assert_int_equal(store_site_put(s, "S-PUB", SITE_RURAL, T0), 0);
	assert_int_equal(store_station_get(s, "CP-2", &st), 0);
	assert_int_equal(st.site_kind, SITE_RURAL);

	/* a site that does not exist is refused (foreign key) */
	assert_true(store_station_put(s, "CP-3", "S-NOWHERE", NULL, T0) < 0);
	assert_int_equal(store_station_get(s, "CP-3", &st), -ENOENT);
}

static void test_station_registration(void **state)
{
	struct store *s = *state;
	struct store_station st;

	assert_int_equal(store_station_set_registration(s, "CP-X", REG_ACCEPTED), -ENOENT);
	assert_int_equal(store_station_create(s, "CP-X", REG_PENDING, T0), 0);
	assert_int_equal(store_station_set_registration(s, "CP-X", REG_ACCEPTED), 0);
	assert_int_equal(store_station_get(s, "CP-X", &st), 0);
	assert_int_equal(st.registration, REG_ACCEPTED);
	assert_int_equal(store_station_set_registration(s, "CP-X", REG_REJECTED), 0);
	assert_int_equal(store_station_get(s, "CP-X", &st), 0);
	assert_int_equal(st.registration, REG_REJECTED);
	/* setting the same value again is not "unknown" */
	assert_int_equal(store_station_set_registration(s, "CP-X", REG_REJECTED), 0);
	assert_true(store_station_set_registration(s, "CP-X", _REG_MAX) < 0);
	assert_int_equal(store_station_get(s, "CP-X", &st), 0);
	assert_int_equal(st.registration, REG_REJECTED);
}

static void test_station_boot_seen_events(void **state)
{
	struct store *s = *state;
	struct store_boot b = {
	    .protocol = "ocpp1.6",
	    .vendor = "ACME",
	    .model = "Wallbox 22",
	    .firmware = "1.2.3",
	    .now_ms = T0 + 5000,
	};
	struct station_copy c;
	int n = 0;

	assert_int_equal(store_station_create(s, "CP-B", REG_ACCEPTED, T0), 0);
	c = station_row(s, "CP-B");
	assert_false(c.online);
	assert_int_equal(c.last_seen_ms, 0);
	assert_int_equal(c.last_boot_ms, 0);

	assert_int_equal(store_station_boot(s, "CP-B", &b), 0);
	c = station_row(s, "CP-B");
	assert_string_equal(c.protocol, "ocpp1.6");
	assert_string_equal(c.vendor, "ACME");
	assert_string_equal(c.model, "Wallbox 22");
	assert_string_equal(c.firmware, "1.2.3");
	assert_string_equal(c.registration, "Accepted");
	assert_true(c.online);
	assert_int_equal(c.last_boot_ms, T0 + 5000);
	assert_int_equal(c.last_seen_ms, T0 + 5000);

	assert_int_equal(store_station_seen(s, "CP-B", false, NULL, T0 + 9000), 0);
	c = station_row(s, "CP-B");
	assert_false(c.online);
	assert_int_equal(c.last_seen_ms, T0 + 9000);
	assert_string_equal(c.protocol, "ocpp1.6"); /* NULL keeps it */
	assert_int_equal(store_station_seen(s, "CP-B", true, "ocpp2.0.1", T0 + 9500), 0);
	c = station_row(s, "CP-B");
	assert_true(c.online);
	assert_string_equal(c.protocol, "ocpp2.0.1");
	assert_int_equal(store_stations_offline_all(s), 0);
	assert_false(station_row(s, "CP-B").online);

	assert_int_equal(store_station_event(s, "CP-B", STATION_EVENT_FIRMWARE, "Downloading", T0),
			 0);
	assert_int_equal(
	    store_station_event(s, "CP-B", STATION_EVENT_FIRMWARE, "Installed", T0 + 1), 0);
	assert_int_equal(
	    store_station_event(s, "CP-B", STATION_EVENT_DIAGNOSTICS, "Uploaded", T0 + 2), 0);
	c = station_row(s, "CP-B");
	assert_string_equal(c.firmware_status, "Installed");
	assert_string_equal(c.diagnostics_status, "Uploaded");

	assert_int_equal(store_stations_list(s, "CP-NONE", 10, 0, collect_station, &c), -ENOENT);
	assert_int_equal(store_station_create(s, "CP-A", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_stations_list(s, NULL, 10, 0, count_stations, &n), 2);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_stations_list(s, NULL, 1, 1, count_stations, &n), 1);
}

struct connector_copy {
	int evse_id, connector_id;
	char status[24], error_code[24];
	int64_t updated_ms;
};

struct connectors {
	struct connector_copy v[8];
	int n;
};

static int collect_connector(const struct store_connector_row *row, void *ud)
{
	struct connectors *cs = ud;
	struct connector_copy *c;

	assert_true(cs->n < 8);
	c = &cs->v[cs->n++];
	c->evse_id = row->evse_id;
	c->connector_id = row->connector_id;
	copy_str(c->status, sizeof(c->status), row->status);
	copy_str(c->error_code, sizeof(c->error_code), row->error_code);
	c->updated_ms = row->updated_ms;
	return 0;
}

static void test_connectors_upsert(void **state)
{
	struct store *s = *state;
	struct connectors cs = {.n = 0};

	assert_int_equal(store_station_create(s, "CP-C", REG_ACCEPTED, T0), 0);
	assert_int_equal(
	    store_connector_status(s, "CP-C", 2, 1, "Available", "NoError", NULL, NULL, T0), 0);
	assert_int_equal(
	    store_connector_status(s, "CP-C", 0, 0, "Available", "NoError", NULL, NULL, T0), 0);
	assert_int_equal(
	    store_connector_status(s, "CP-C", 1, 1, "Available", "NoError", NULL, NULL, T0), 0);
	/* the same connector again: updated in place, not a second row */
	assert_int_equal(
	    store_connector_status(s, "CP-C", 1, 1, "Charging", "NoError", "info", "v", T0 + 60000),
	    0);
	assert_int_equal(store_connector_status(s, "CP-C", 2, 1, "Faulted", "GroundFailure", NULL,
						NULL, T0 + 61000),
			 0);
	assert_int_equal(store_connectors_list(s, "CP-C", collect_connector, &cs), 0);
	assert_int_equal(cs.n, 3);
	assert_int_equal(cs.v[0].evse_id, 0);
	assert_int_equal(cs.v[1].evse_id, 1);
	assert_string_equal(cs.v[1].status, "Charging");
	assert_int_equal(cs.v[1].updated_ms, T0 + 60000);
	assert_int_equal(cs.v[2].evse_id, 2);
	assert_string_equal(cs.v[2].status, "Faulted");
	assert_string_equal(cs.v[2].error_code, "GroundFailure");

	/* only this station's connectors are listed; an unknown station has none */
	cs.n = 0;
	assert_int_equal(store_connectors_list(s, "CP-OTHER", collect_connector, &cs), 0);
	assert_int_equal(cs.n, 0);
	/* a status for a station that does not exist is refused (foreign key) */
	assert_true(store_connector_status(s, "CP-OTHER", 1, 1, "Available", "NoError", NULL, NULL,
					   T0) < 0);
}

static void test_tokens(void **state)
{
	struct store *s = *state;
	struct store_token t = {.status = AUTH_ACCEPTED}, got;

	snprintf(t.token, sizeof(t.token), "TAG-1");
	assert_int_equal(store_token_get(s, "TAG-1", &got), -ENOENT);
	assert_int_equal(store_token_put(s, &t), 0);
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(store_token_get(s, "TAG-1", &got), 0);
	assert_string_equal(got.token, "TAG-1");
	assert_int_equal(got.status, AUTH_ACCEPTED);
	assert_int_equal(got.expiry_ms, 0);
	assert_string_equal(got.parent, "");
	assert_string_equal(got.site_id, "");

	/* update in place: status, expiry, parent and site */
	assert_int_equal(store_site_put(s, "S-1", SITE_RESIDENTIAL, T0), 0);
	t.status = AUTH_BLOCKED;
	t.expiry_ms = T0 + 3600000;
	snprintf(t.parent, sizeof(t.parent), "GROUP-1");
	snprintf(t.site_id, sizeof(t.site_id), "S-1");
	assert_int_equal(store_token_put(s, &t), 0);
	assert_int_equal(store_token_get(s, "TAG-1", &got), 0);
	assert_int_equal(got.status, AUTH_BLOCKED);
	assert_int_equal(got.expiry_ms, T0 + 3600000);
	assert_string_equal(got.parent, "GROUP-1");
	assert_string_equal(got.site_id, "S-1");

	/* and back: cleared fields read as none */
	t = (struct store_token){.status = AUTH_EXPIRED};
	snprintf(t.token, sizeof(t.token), "TAG-1");
	assert_int_equal(store_token_put(s, &t), 0);
	assert_int_equal(store_token_get(s, "TAG-1", &got), 0);
	assert_int_equal(got.status, AUTH_EXPIRED);
	assert_int_equal(got.expiry_ms, 0);
	assert_string_equal(got.parent, "");
	assert_string_equal(got.site_id, "");

	assert_int_equal(store_token_get(s, "tag-1", &got), -ENOENT);
	/* bound to a site that does not exist: refused */
	snprintf(t.site_id, sizeof(t.site_id), "S-NOWHERE");
	assert_true(store_token_put(s, &t) < 0);
}

static void test_session_start_replay_same_id(void **state)
{
	struct store *s = *state;
	struct session_copy c;
	bool existing;
	int64_t a, b, d;

	assert_int_equal(store_station_create(s, "CP-S", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_create(s, "CP-T", REG_ACCEPTED, T0), 0);
	a = start(s, "CP-S", 1, "TAG-1", T0, 1000, &existing);
	assert_false(existing);
	b = start(s, "CP-S", 1, "TAG-1", T0, 1000, &existing);
	assert_true(existing);
	assert_int_equal(a, b);

	/* any difference is another session */
	d = start(s, "CP-S", 1, "TAG-1", T0, 1001, &existing);
	assert_false(existing);
	assert_int_not_equal(d, a);
	assert_int_not_equal(start(s, "CP-S", 1, "TAG-1", T0 + 1, 1000, &existing), a);
	assert_int_not_equal(start(s, "CP-S", 2, "TAG-1", T0, 1000, &existing), a);
	assert_int_not_equal(start(s, "CP-S", 1, "TAG-2", T0, 1000, &existing), a);
	assert_int_not_equal(start(s, "CP-T", 1, "TAG-1", T0, 1000, &existing), a);
	assert_false(existing);

	c = get_session(s, a);
	assert_int_equal(c.id, a);
	assert_string_equal(c.station_id, "CP-S");
	assert_int_equal(c.evse_id, 1);
	assert_string_equal(c.id_tag, "TAG-1");
	assert_string_equal(c.auth_status, "Accepted");
	assert_int_equal(c.start_ms, T0);
	assert_int_equal(c.meter_start_wh, 1000);
	assert_false(c.has_reservation);
	assert_false(c.stopped);

	/* a replay after a commit finds it too */
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(start(s, "CP-S", 1, "TAG-1", T0, 1000, &existing), a);
	assert_true(existing);
	assert_false(store_dirty(s)); /* finding a replay writes nothing */

	/* an unknown station cannot start a session (foreign key) */
	{
		struct store_session_open in = {.station_id = "CP-NONE",
						.evse_id = 1,
						.connector_id = 1,
						.id_tag = "T",
						.auth_status = AUTH_ACCEPTED,
						.has_meter_start = true};
		int64_t id = 77;

		assert_true(store_session_open(s, &in, &id) < 0);
		assert_int_equal(id, 77); /* ret_* untouched on failure */
	}
}

static void test_session_reservation_and_owner(void **state)
{
	struct store *s = *state;
	struct store_session_open in = {
	    .station_id = "CP-R",
	    .evse_id = 3,
	    .connector_id = 1,
	    .id_tag = "TAG-R",
	    .auth_status = AUTH_INVALID,
	    .start_ms = T0,
	    .has_meter_start = true,
	    .meter_start_wh = 5,
	    .has_reservation = true,
	    .reservation_id = 42,
	    .now_ms = T0,
	};
	char owner[STATION_ID_MAX + 1], tag[TOKEN_MAX + 1];
	struct session_copy c;
	bool active;
	int64_t id;
	int evse;

	assert_int_equal(store_station_create(s, "CP-R", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_session_open(s, &in, &id), 0);
	/* the same key again: -EEXIST, nothing written, the caller finds it */
	assert_int_equal(store_session_open(s, &in, &(int64_t){0}), -EEXIST);
	c = get_session(s, id);
	assert_true(c.has_reservation);
	assert_int_equal(c.reservation_id, 42);
	assert_string_equal(c.auth_status, "Invalid");

	assert_int_equal(store_session_owner(s, id, owner, &evse, &active), 0);
	assert_string_equal(owner, "CP-R");
	assert_int_equal(evse, 3);
	assert_true(active);
	assert_int_equal(store_session_owner(s, id + 1000, owner, &evse, &active), -ENOENT);
	assert_int_equal(store_session_id_tag(s, id, tag), 0);
	assert_string_equal(tag, "TAG-R");
	assert_int_equal(store_session_id_tag(s, id + 1000, tag), -ENOENT);
	assert_int_equal(
	    store_session_get(s, id + 1000, collect_session, &(struct sessions){.n = 0}), -ENOENT);
}

static void test_session_stop_only_once(void **state)
{
	struct store *s = *state;
	struct store_session_close first = {
	    .stop_ms = T0 + 3600000, .meter_stop_wh = 9000, .reason = "Local", .id_tag = "TAG-1"};
	struct store_session_close second = {
	    .stop_ms = T0 + 7200000, .meter_stop_wh = 12000, .reason = "PowerLoss", .id_tag = NULL};
	char owner[STATION_ID_MAX + 1];
	struct session_copy c;
	bool active;
	int64_t id;
	int evse;

	assert_int_equal(store_station_create(s, "CP-S", REG_ACCEPTED, T0), 0);
	id = start(s, "CP-S", 1, "TAG-1", T0, 1000, NULL);
	assert_int_equal(store_session_close(s, id, &first), 0);
	c = get_session(s, id);
	assert_true(c.stopped);
	assert_int_equal(c.stop_ms, T0 + 3600000);
	assert_int_equal(c.meter_stop_wh, 9000);
	assert_string_equal(c.stop_reason, "Local");
	assert_int_equal(store_session_owner(s, id, owner, &evse, &active), 0);
	assert_false(active);

	/* a second stop (a retried StopTransaction, a late duplicate) changes nothing */
	assert_int_equal(store_session_close(s, id, &second), 0);
	c = get_session(s, id);
	assert_int_equal(c.stop_ms, T0 + 3600000);
	assert_int_equal(c.meter_stop_wh, 9000);
	assert_string_equal(c.stop_reason, "Local");

	/* a stop without a reason stores none */
	id = start(s, "CP-S", 1, "TAG-1", T0 + 1, 1000, NULL);
	assert_int_equal(
	    store_session_close(s, id, &(struct store_session_close){.stop_ms = T0 + 2}), 0);
	c = get_session(s, id);
	assert_true(c.stopped);
	assert_false(c.has_stop_reason);
}

struct samples {
	int n;
	char value[8][16], measurand[8][40], phase[8][8];
	int64_t ts[8];
	int evse[8];
};

static int collect_sample(const struct store_sample *row, void *ud)
{
	struct samples *ss = ud;

	assert_true(ss->n < 8);
	copy_str(ss->value[ss->n], sizeof(ss->value[0]), row->value);
	copy_str(ss->measurand[ss->n], sizeof(ss->measurand[0]), row->measurand);
	copy_str(ss->phase[ss->n], sizeof(ss->phase[0]), row->phase);
	ss->ts[ss->n] = row->ts_ms;
	ss->evse[ss->n] = row->evse_id;
	ss->n++;
	return 0;
}

static void test_samples_dedupe(void **state)
{
	struct store *s = *state;
	struct store_sample sm = {
	    .station_id = "CP-M",
	    .evse_id = 1,
	    .ts_ms = T0 + 60000,
	    .measurand = "Energy.Active.Import.Register",
	    .unit = "Wh",
	    .context = "Sample.Periodic",
	    .value = "1500",
	};
	struct samples ss = {.n = 0};
	char stored[16];
	int64_t id;

	assert_int_equal(store_station_create(s, "CP-M", REG_ACCEPTED, T0), 0);
	id = start(s, "CP-M", 1, "TAG-1", T0, 1000, NULL);
	sm.session_id = id;
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), 1);
	assert_int_equal(store_sample_add(s, &sm, stored, sizeof(stored)), 0); /* twice: one row */
	assert_string_equal(stored, "1500");
	assert_int_equal(store_samples_list(s, id, collect_sample, &ss), 0);
	assert_int_equal(ss.n, 1);
	assert_string_equal(ss.value[0], "1500");
	assert_int_equal(ss.ts[0], T0 + 60000);
	assert_int_equal(ss.evse[0], 1);
	assert_string_equal(ss.phase[0], "(null)"); /* absent stays absent */

	/* the first value wins; a resent reading with another value finds its key taken, and the
	 * value kept is handed back (svc decides it is a conflict) */
	sm.value = "1600";
	memset(stored, 0, sizeof(stored));
	assert_int_equal(store_sample_add(s, &sm, stored, sizeof(stored)), 0);
	assert_string_equal(stored, "1500");
	/* another phase, time or measurand is another reading */
	sm.phase = "L1";
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), 1);
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), 0);
	sm.phase = NULL;
	sm.ts_ms += 1000;
	sm.value = "1700";
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), 1);
	sm.measurand = "SoC";
	sm.value = "55";
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), 1);
	ss.n = 0;
	assert_int_equal(store_samples_list(s, id, collect_sample, &ss), 0);
	assert_int_equal(ss.n, 4);
	assert_string_equal(ss.value[0], "1500");
	assert_string_equal(ss.phase[1], "L1");
	assert_int_equal(ss.ts[2], T0 + 61000); /* ordered by time */

	/* an unlinked sample (session 0) is not listed under the session */
	sm.session_id = 0;
	sm.ts_ms += 1000;
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), 1);
	ss.n = 0;
	assert_int_equal(store_samples_list(s, id, collect_sample, &ss), 0);
	assert_int_equal(ss.n, 4);
}

/* A reading without a measurand or a value is refused, not dropped silently (INSERT OR IGNORE
 * would also have ignored the NOT NULL violation and returned success). */
static void test_sample_missing_fields_refused(void **state)
{
	struct store *s = *state;
	struct store_sample sm = {.station_id = "CP-M",
				  .evse_id = 1,
				  .ts_ms = T0,
				  .measurand = "Energy.Active.Import.Register",
				  .value = "1"};
	struct samples ss = {.n = 0};
	int64_t id;

	assert_int_equal(store_station_create(s, "CP-M", REG_ACCEPTED, T0), 0);
	id = start(s, "CP-M", 1, "TAG-1", T0, 0, NULL);
	assert_int_equal(store_commit(s), 0);
	sm.session_id = id;
	sm.measurand = NULL;
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), -EINVAL);
	sm.measurand = "SoC";
	sm.value = NULL;
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), -EINVAL);
	sm.value = "50";
	sm.station_id = NULL;
	assert_int_equal(store_sample_add(s, &sm, NULL, 0), -EINVAL);
	assert_false(store_dirty(s));
	assert_int_equal(store_samples_list(s, id, collect_sample, &ss), 0);
	assert_int_equal(ss.n, 0);
	/* linked to a session that does not exist: refused (foreign key), not dropped */
	sm.station_id = "CP-M";
	sm.session_id = id + 1000;
	assert_true(store_sample_add(s, &sm, NULL, 0) < 0);
}

struct orphans {
	int n;
	char station[4][STATION_ID_MAX + 1];
	int64_t txn[4], meter[4], ts[4], received[4];
	char reason[4][16];
};

static int collect_orphan(const struct store_orphan *row, void *ud)
{
	struct orphans *os = ud;

	assert_true(os->n < 4);
	copy_str(os->station[os->n], sizeof(os->station[0]), row->station_id);
	copy_str(os->reason[os->n], sizeof(os->reason[0]), row->reason);
	os->txn[os->n] = row->transaction_id;
	os->meter[os->n] = row->meter_stop_wh;
	os->ts[os->n] = row->ts_ms;
	os->received[os->n] = row->received_ms;
	os->n++;
	return 0;
}

static void test_orphans_list(void **state)
{
	struct store *s = *state;
	struct orphans os = {.n = 0};

	assert_int_equal(store_orphans_list(s, 10, collect_orphan, &os), 0);
	assert_int_equal(os.n, 0);
	assert_int_equal(store_orphan_add(s, &(struct store_orphan){.station_id = "CP-O",
								    .transaction_id = -1,
								    .meter_stop_wh = 100,
								    .ts_ms = T0,
								    .received_ms = T0 + 5}),
			 0);
	assert_int_equal(store_orphan_add(s, &(struct store_orphan){.station_id = "CP-P",
								    .transaction_id = 99,
								    .id_tag = "TAG",
								    .reason = "EVDisconnected",
								    .meter_stop_wh = 200,
								    .ts_ms = T0 + 1,
								    .received_ms = T0 + 6}),
			 0);
	assert_int_equal(store_orphans_list(s, 10, collect_orphan, &os), 0);
	assert_int_equal(os.n, 2);
	/* newest first */
	assert_string_equal(os.station[0], "CP-P");
	assert_int_equal(os.txn[0], 99);
	assert_string_equal(os.reason[0], "EVDisconnected");
	assert_int_equal(os.meter[0], 200);
	assert_int_equal(os.received[0], T0 + 6);
	assert_string_equal(os.station[1], "CP-O");
	assert_int_equal(os.txn[1], -1);
	assert_int_equal(os.ts[1], T0);
	os.n = 0;
	assert_int_equal(store_orphans_list(s, 1, collect_orphan, &os), 0);
	assert_int_equal(os.n, 1);
}

static int stop_after_one(const struct store_session_row *row, void *ud)
{
	(void)row;
	(*(int *)ud)++;
	return -ECANCELED;
}

static void test_sessions_list_filters(void **state)
{
	struct store *s = *state;
	struct sessions ss;
	int64_t a1, a2, b1;
	int calls = 0;

	assert_int_equal(store_station_create(s, "CP-A", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_create(s, "CP-B", REG_ACCEPTED, T0), 0);
	a1 = start(s, "CP-A", 1, "T", T0, 0, NULL);
	a2 = start(s, "CP-A", 2, "T", T0 + 1, 0, NULL);
	b1 = start(s, "CP-B", 1, "T", T0 + 2, 0, NULL);
	assert_int_equal(
	    store_session_close(s, a1, &(struct store_session_close){.stop_ms = T0 + 9}), 0);

#define LIST(station, act, lim, off)                                                               \
	(ss.n = 0, store_sessions_list(s,                                                          \
				       &(struct store_session_filter){.station_id = (station),     \
								      .active = (act),             \
								      .limit = (lim),              \
								      .offset = (off)},            \
				       collect_session, &ss))

	assert_int_equal(LIST(NULL, -1, 10, 0), 3);
	/* newest first */
	assert_int_equal(ss.v[0].id, b1);
	assert_int_equal(ss.v[1].id, a2);
	assert_int_equal(ss.v[2].id, a1);
	assert_int_equal(LIST("CP-A", -1, 10, 0), 2);
	assert_string_equal(ss.v[0].station_id, "CP-A");
	assert_string_equal(ss.v[1].station_id, "CP-A");
	assert_int_equal(LIST("CP-A", 1, 10, 0), 1);
	assert_int_equal(ss.v[0].id, a2);
	assert_int_equal(LIST("CP-A", 0, 10, 0), 1);
	assert_int_equal(ss.v[0].id, a1);
	assert_true(ss.v[0].stopped);
	assert_int_equal(LIST(NULL, 1, 10, 0), 2);
	assert_false(ss.v[0].stopped);
	assert_false(ss.v[1].stopped);
	assert_int_equal(LIST(NULL, 0, 10, 0), 1);
	assert_int_equal(LIST("CP-B", 0, 10, 0), 0);
	assert_int_equal(LIST("CP-NONE", -1, 10, 0), 0);
	/* paging */
	assert_int_equal(LIST(NULL, -1, 2, 0), 2);
	assert_int_equal(ss.v[0].id, b1);
	assert_int_equal(LIST(NULL, -1, 2, 2), 1);
	assert_int_equal(ss.v[0].id, a1);
	assert_int_equal(LIST(NULL, -1, 2, 3), 0);
#undef LIST
	/* a callback error stops the walk and is returned */
	assert_int_equal(
	    store_sessions_list(s, &(struct store_session_filter){.active = -1, .limit = 10},
				stop_after_one, &calls),
	    -ECANCELED);
	assert_int_equal(calls, 1);
}

static void test_group_commit(void **state)
{
	struct store *s = *state;
	struct store_station st;
	struct store_token t = {.status = AUTH_ACCEPTED};
	uint64_t seq = 0;

	assert_false(store_dirty(s));
	assert_int_equal(store_commit(s), 0); /* nothing open: nothing to do */
	store_rollback(s);		      /* nothing open: harmless */
	assert_false(store_dirty(s));

	/* reads do not open a transaction */
	assert_int_equal(store_station_get(s, "CP-G", &st), -ENOENT);
	assert_false(store_dirty(s));

	/* a write opens one; later writes join it; commit ends it */
	assert_int_equal(store_station_create(s, "CP-G", REG_ACCEPTED, T0), 0);
	assert_true(store_dirty(s));
	assert_int_equal(store_station_create(s, "CP-H", REG_ACCEPTED, T0), 0);
	assert_true(store_dirty(s));
	assert_int_equal(store_commit(s), 0);
	assert_false(store_dirty(s));

	/* rollback discards everything since the last commit, and only that */
	assert_int_equal(store_station_create(s, "CP-I", REG_ACCEPTED, T0), 0);
	snprintf(t.token, sizeof(t.token), "TAG-RB");
	assert_int_equal(store_token_put(s, &t), 0);
	assert_int_equal(store_station_set_registration(s, "CP-G", REG_REJECTED), 0);
	assert_true(store_dirty(s));
	store_rollback(s);
	assert_int_equal(store_station_get(s, "CP-I", &st), -ENOENT);
	assert_int_equal(store_token_get(s, "TAG-RB", &(struct store_token){0}), -ENOENT);
	assert_int_equal(store_station_get(s, "CP-G", &st), 0);
	assert_int_equal(st.registration, REG_ACCEPTED);
	assert_int_equal(store_station_get(s, "CP-H", &st), 0);
	/* the group lost writes: it stays open to be failed by the loop's commit_async */
	assert_true(store_dirty(s));
	assert_int_equal(store_commit_async(s, &seq), -EIO);
	assert_false(store_dirty(s));

	/* a failed write inside the group does not end the group nor lose earlier writes */
	assert_int_equal(store_station_create(s, "CP-J", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_create(s, "CP-J", REG_ACCEPTED, T0), -EEXIST);
	assert_true(store_dirty(s));
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_station_get(s, "CP-J", &st), 0);

	/* after a rollback, the store keeps working; the failed group's commit_async ends it */
	assert_int_equal(store_station_create(s, "CP-K", REG_ACCEPTED, T0), 0);
	store_rollback(s);
	assert_int_equal(store_station_create(s, "CP-K", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_station_get(s, "CP-K", &st), 0);
	assert_int_equal(store_commit_async(s, &seq), -EIO);
	assert_false(store_dirty(s));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, store_setup, store_teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_enum_names),
	    T(test_open_applies_migrations),
	    cmocka_unit_test(test_open_file_reopen_and_newer_schema),
	    T(test_station_create_get),
	    T(test_station_put_site_and_password),
	    T(test_station_registration),
	    T(test_station_boot_seen_events),
	    T(test_connectors_upsert),
	    T(test_tokens),
	    T(test_session_start_replay_same_id),
	    T(test_session_reservation_and_owner),
	    T(test_session_stop_only_once),
	    T(test_samples_dedupe),
	    T(test_sample_missing_fields_refused),
	    T(test_orphans_list),
	    T(test_sessions_list_filters),
	    T(test_group_commit),
	};
#undef T

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
