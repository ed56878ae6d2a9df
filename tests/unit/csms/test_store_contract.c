/* SPDX-License-Identifier: MIT */
/* The store contract: what every storage backend must do, whatever it is built on. Each test
 * runs against every backend in the table below, on a fresh empty store. A new backend adds a
 * row here and passes this file unchanged; nothing below knows which backend it runs on. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

#define T0 1795000000000LL /* 2026-11-19, ms */

struct backend {
	const char *name;
	const struct store_ops *ops;
	bool persistent; /* committed writes survive close and reopen of the same dsn */
	/* A fresh, empty store's dsn into buf; 0 or -errno. cleanup removes it (NULL: nothing). */
	int (*dsn)(char *buf, size_t n);
	void (*cleanup)(const char *dsn);
};

static int memory_dsn(char *buf, size_t n)
{
	snprintf(buf, n, ":memory:");
	return 0;
}

static int file_dsn(char *buf, size_t n)
{
	char dir[] = "/tmp/csms-store-contract-XXXXXX";

	if (!mkdtemp(dir))
		return -errno;
	snprintf(buf, n, "%s/csms.db", dir);
	return 0;
}

static void file_cleanup(const char *dsn)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char path[512], *slash;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dsn, suffixes[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s", dsn);
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		rmdir(path);
	}
}

#ifdef CSMS_TEST_HAVE_PG
#include <libpq-fe.h>

/* PostgreSQL: a new database per test in the cluster $CSMS_TEST_PG_DSN names (tests/pg/pgtmp.sh
 * starts one: meson test csms-store-contract-pg). */
static int pg_admin(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("CSMS_TEST_PG_DSN"));
	PGresult *res;
	int r = -EIO;

	if (PQstatus(c) == CONNECTION_OK) {
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			r = 0;
		else
			print_error("postgres: %s: %s", sql, PQresultErrorMessage(res));
		PQclear(res);
	} else {
		print_error("postgres: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return r;
}

/* The database's name: the DSN's path, up to '?'. */
static const char *pg_dbname(const char *dsn, size_t *ret_len)
{
	const char *host = strstr(dsn, "://"), *path, *q;

	path = host ? strchr(host + 3, '/') : NULL;
	if (!path)
		return NULL;
	q = strchr(path, '?');
	*ret_len = q ? (size_t)(q - path - 1) : strlen(path + 1);
	return path + 1;
}

static int pg_dsn(char *buf, size_t n)
{
	static int seq;
	const char *base = getenv("CSMS_TEST_PG_DSN"), *db;
	char name[64], sql[128];
	size_t len;

	db = pg_dbname(base, &len);
	if (!db)
		return -EINVAL;
	snprintf(name, sizeof(name), "csms_contract_%d_%d", (int)getpid(), ++seq);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (pg_admin(sql) < 0)
		return -EIO;
	snprintf(buf, n, "%.*s%s%s", (int)(db - base), base, name, db + len);
	return 0;
}

static void pg_cleanup(const char *dsn)
{
	char sql[128];
	size_t len;
	const char *db = pg_dbname(dsn, &len);

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.*s WITH (FORCE)", (int)len, db);
	pg_admin(sql);
}
#endif

/* Every backend compiled in. The PostgreSQL row runs when CSMS_TEST_PG_DSN is set. */
static const struct backend backends[] = {
    {"sqlite-memory", &store_sqlite_ops, false, memory_dsn, NULL},
    {"sqlite-file", &store_sqlite_ops, true, file_dsn, file_cleanup},
#ifdef CSMS_TEST_HAVE_PG
    {"postgres", &store_pg_ops, true, pg_dsn, pg_cleanup},
#endif
};

struct fx {
	const struct backend *b;
	char dsn[512];
	struct store *s;
};

static const struct backend *current; /* the backend of the group being run */

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	f->b = current;
	if (f->b->dsn(f->dsn, sizeof(f->dsn)) < 0)
		goto fail;
	f->s = f->b->ops->open(f->dsn, false, err, sizeof(err));
	if (!f->s) {
		print_error("%s: open %s: %s\n", f->b->name, f->dsn, err);
		goto fail;
	}
	*state = f;
	return 0;
fail:
	free(f);
	return -1;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	if (f->b->cleanup)
		f->b->cleanup(f->dsn);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ helpers */

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "(null)");
}

static void station(struct store *s, const char *id)
{
	assert_int_equal(store_station_create(s, id, REG_ACCEPTED, T0), 0);
}

static int64_t open_session(struct store *s, const char *station_id, int evse, const char *tag,
			    int64_t start_ms, int64_t meter)
{
	struct store_session_open in = {
	    .station_id = station_id,
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

	assert_int_equal(store_session_open(s, &in, &id), 0);
	assert_true(id > 0);
	return id;
}

struct session_copy {
	int n;
	int64_t id, start_ms, meter_start_wh, stop_ms, meter_stop_wh, seq_max;
	bool stopped, has_meter_start;
	int evse_id, connector_id, seq_gaps, offline_events, sample_conflicts;
	char station_id[STATION_ID_MAX + 1], tx_id[64], id_tag[TOKEN_MAX + 1], auth[16], reason[32];
};

static int collect_session(const struct store_session_row *row, void *ud)
{
	struct session_copy *c = ud;

	c->n++;
	c->id = row->id;
	c->start_ms = row->start_ms;
	c->has_meter_start = row->has_meter_start;
	c->meter_start_wh = row->meter_start_wh;
	c->stopped = row->stopped;
	c->stop_ms = row->stop_ms;
	c->meter_stop_wh = row->meter_stop_wh;
	c->seq_max = row->seq_max;
	c->evse_id = row->evse_id;
	c->connector_id = row->connector_id;
	c->seq_gaps = row->seq_gaps;
	c->offline_events = row->offline_events;
	c->sample_conflicts = row->sample_conflicts;
	copy(c->station_id, sizeof(c->station_id), row->station_id);
	copy(c->tx_id, sizeof(c->tx_id), row->station_tx_id);
	copy(c->id_tag, sizeof(c->id_tag), row->id_tag);
	copy(c->auth, sizeof(c->auth), row->auth_status);
	copy(c->reason, sizeof(c->reason), row->stop_reason);
	return 0;
}

static struct session_copy get_session(struct store *s, int64_t id)
{
	struct session_copy c = {.n = 0};

	assert_int_equal(store_session_get(s, id, collect_session, &c), 1);
	assert_int_equal(c.n, 1);
	return c;
}

struct sample_copy {
	int n;
	char value[8][32], format[8][16], sig[8][64], sig_method[8][32], sig_enc[8][32],
	    sig_key[8][64];
	int64_t ts[8];
	int kind[8]; /* measurand_kind as the store reports it */
};

static int collect_sample(const struct store_sample *row, void *ud)
{
	struct sample_copy *c = ud;

	assert_true(c->n < 8);
	copy(c->value[c->n], sizeof(c->value[0]), row->value);
	copy(c->format[c->n], sizeof(c->format[0]), row->format);
	copy(c->sig[c->n], sizeof(c->sig[0]), row->sig.data);
	copy(c->sig_method[c->n], sizeof(c->sig_method[0]), row->sig.signing_method);
	copy(c->sig_enc[c->n], sizeof(c->sig_enc[0]), row->sig.encoding_method);
	copy(c->sig_key[c->n], sizeof(c->sig_key[0]), row->sig.public_key);
	c->ts[c->n] = row->ts_ms;
	c->kind[c->n] = row->measurand_kind;
	c->n++;
	return 0;
}

static struct sample_copy samples(struct store *s, int64_t session_id)
{
	struct sample_copy c = {.n = 0};

	assert_int_equal(store_samples_list(s, session_id, collect_sample, &c), 0);
	return c;
}

struct station_copy {
	int n;
	bool online;
	int64_t last_seen_ms;
	char protocol[16], firmware_status[24], diagnostics_status[24], vendor[16];
};

static int collect_station(const struct store_station_row *row, void *ud)
{
	struct station_copy *c = ud;

	c->n++;
	c->online = row->online;
	c->last_seen_ms = row->last_seen_ms;
	copy(c->protocol, sizeof(c->protocol), row->protocol);
	copy(c->firmware_status, sizeof(c->firmware_status), row->firmware_status);
	copy(c->diagnostics_status, sizeof(c->diagnostics_status), row->diagnostics_status);
	copy(c->vendor, sizeof(c->vendor), row->vendor);
	return 0;
}

static struct station_copy station_row(struct store *s, const char *id)
{
	struct station_copy c = {.n = 0};

	assert_int_equal(store_stations_list(s, id, 1, 0, collect_station, &c), 1);
	assert_int_equal(c.n, 1);
	return c;
}

/* ------------------------------------------------------------------ stations */

static void test_identity(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->s->ops, f->b->ops);
	assert_true(f->b->ops->version >= 1);
	assert_non_null(f->b->ops->name);
	assert_true(store_schema_version(f->s) > 0);
	assert_false(store_dirty(f->s));
	assert_non_null(store_errmsg(f->s));
}

static void test_station_create_get_registration(void **state)
{
	struct fx *f = *state;
	struct store_station st;

	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(store_station_get(f->s, "CP-1", &st), -ENOENT);
	assert_int_equal(store_station_create(f->s, "CP-1", REG_PENDING, T0), 0);
	assert_int_equal(store_station_create(f->s, "CP-1", REG_ACCEPTED, T0), -EEXIST);
	assert_int_equal(store_station_get(f->s, "CP-1", &st), 0);
	assert_string_equal(st.id, "CP-1");
	assert_int_equal(st.registration, REG_PENDING);
	assert_string_equal(st.site_id, "");
	assert_int_equal(st.site_kind, -1);
	assert_string_equal(st.password_hash, "");

	assert_int_equal(store_station_set_registration(f->s, "CP-1", REG_REJECTED), 0);
	assert_int_equal(store_station_get(f->s, "CP-1", &st), 0);
	assert_int_equal(st.registration, REG_REJECTED);
	assert_int_equal(store_station_set_registration(f->s, "CP-NONE", REG_ACCEPTED), -ENOENT);

	/* import: site and password; the registration stays */
	assert_int_equal(store_site_put(f->s, "S-1", SITE_RESIDENTIAL, T0), 0);
	assert_int_equal(store_station_put(f->s, "CP-1", "S-1", "hash-1", T0), 0);
	assert_int_equal(store_station_get(f->s, "CP-1", &st), 0);
	assert_string_equal(st.site_id, "S-1");
	assert_int_equal(st.site_kind, SITE_RESIDENTIAL);
	assert_string_equal(st.password_hash, "hash-1");
	assert_int_equal(st.registration, REG_REJECTED);
}

static void test_station_boot_seen_offline_events(void **state)
{
	struct fx *f = *state;
	struct store_boot b = {
	    .protocol = "proto-a", .vendor = "ACME", .model = "M1", .now_ms = T0 + 5};
	struct station_copy c;

	station(f->s, "CP-1");
	station(f->s, "CP-2");
	assert_int_equal(store_station_boot(f->s, "CP-1", &b), 0);
	c = station_row(f->s, "CP-1");
	assert_true(c.online);
	assert_int_equal(c.last_seen_ms, T0 + 5);
	assert_string_equal(c.vendor, "ACME");
	assert_string_equal(c.protocol, "proto-a");
	/* seen with no protocol keeps the recorded one */
	assert_int_equal(store_station_seen(f->s, "CP-1", true, NULL, T0 + 9), 0);
	c = station_row(f->s, "CP-1");
	assert_string_equal(c.protocol, "proto-a");
	assert_int_equal(c.last_seen_ms, T0 + 9);
	assert_int_equal(store_station_seen(f->s, "CP-2", true, "proto-b", T0 + 9), 0);
	assert_true(station_row(f->s, "CP-2").online);
	assert_int_equal(store_stations_offline_all(f->s), 0);
	assert_false(station_row(f->s, "CP-1").online);
	assert_false(station_row(f->s, "CP-2").online);
	assert_int_equal(store_stations_list(f->s, "CP-NONE", 1, 0, collect_station,
					     &(struct station_copy){.n = 0}),
			 -ENOENT);
	assert_int_equal(
	    store_stations_list(f->s, NULL, 10, 0, collect_station, &(struct station_copy){.n = 0}),
	    2);

	/* status events: firmware sets the firmware status, diagnostics and log the other */
	assert_int_equal(store_station_event(f->s, "CP-1", STATION_EVENT_FIRMWARE, "fw-a", T0), 0);
	assert_int_equal(store_station_event(f->s, "CP-1", STATION_EVENT_DIAGNOSTICS, "dg-a", T0),
			 0);
	c = station_row(f->s, "CP-1");
	assert_string_equal(c.firmware_status, "fw-a");
	assert_string_equal(c.diagnostics_status, "dg-a");
	assert_int_equal(store_station_event(f->s, "CP-1", STATION_EVENT_LOG, "lg-b", T0), 0);
	c = station_row(f->s, "CP-1");
	assert_string_equal(c.firmware_status, "fw-a");
	assert_string_equal(c.diagnostics_status, "lg-b");
	assert_int_equal(store_station_event(f->s, "CP-1", _STATION_EVENT_MAX, "x", T0), -EINVAL);
}

struct connector_copy {
	int n;
	char status[4][16];
	int evse[4], connector[4];
};

static int collect_connector(const struct store_connector_row *row, void *ud)
{
	struct connector_copy *c = ud;

	assert_true(c->n < 4);
	copy(c->status[c->n], sizeof(c->status[0]), row->status);
	c->evse[c->n] = row->evse_id;
	c->connector[c->n] = row->connector_id;
	c->n++;
	return 0;
}

struct connector_count {
	int rows, last;
};

static int count_connector(const struct store_connector_row *row, void *ud)
{
	struct connector_count *n = ud;

	n->rows++;
	n->last += !strcmp(row->status, "last");
	return 0;
}

static void test_connectors(void **state)
{
	struct fx *f = *state;
	struct connector_copy c = {.n = 0};

	station(f->s, "CP-1");
	assert_int_equal(store_connector_status(f->s, "CP-1", 2, 1, "st-a", NULL, NULL, NULL, T0),
			 0);
	assert_int_equal(store_connector_status(f->s, "CP-1", 1, 1, "st-b", NULL, NULL, NULL, T0),
			 0);
	assert_int_equal(store_connector_status(f->s, "CP-1", 2, 1, "st-c", "e", "i", "v", T0 + 1),
			 0);
	assert_int_equal(store_connectors_list(f->s, "CP-1", collect_connector, &c), 0);
	assert_int_equal(c.n, 2); /* replaced, not added */
	assert_int_equal(c.evse[0], 1);
	assert_string_equal(c.status[0], "st-b");
	assert_int_equal(c.evse[1], 2);
	assert_string_equal(c.status[1], "st-c");

	/* a boot storm's worth in one group (PostgreSQL sends them as statements over arrays of
	 * at most 512 rows): each connector's last status wins, across those statements too */
	for (int round = 0; round < 2; round++)
		for (int e = 10; e < 560; e++)
			assert_int_equal(store_connector_status(f->s, "CP-1", e, 1,
								round ? "last" : "first", NULL,
								NULL, NULL, T0 + 2 + round),
					 0);
	assert_int_equal(store_commit(f->s), 0);
	struct connector_count n = {0, 0};
	assert_int_equal(store_connectors_list(f->s, "CP-1", count_connector, &n), 0);
	assert_int_equal(n.rows, 552);
	assert_int_equal(n.last, 550);
}

/* ------------------------------------------------------------------ tokens */

static void test_tokens(void **state)
{
	struct fx *f = *state;
	struct store_token t = {.status = AUTH_BLOCKED, .expiry_ms = T0}, got;

	snprintf(t.token, sizeof(t.token), "TAG-1");
	snprintf(t.parent, sizeof(t.parent), "GROUP");
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(store_token_get(f->s, "TAG-1", &got), -ENOENT);
	assert_int_equal(store_token_put(f->s, &t), 0);
	assert_int_equal(store_token_get(f->s, "TAG-1", &got), 0);
	assert_string_equal(got.token, "TAG-1");
	assert_int_equal(got.status, AUTH_BLOCKED);
	assert_int_equal(got.expiry_ms, T0);
	assert_string_equal(got.parent, "GROUP");
	assert_string_equal(got.site_id, "");
	/* replaced as a whole */
	t = (struct store_token){.status = AUTH_ACCEPTED};
	snprintf(t.token, sizeof(t.token), "TAG-1");
	assert_int_equal(store_token_put(f->s, &t), 0);
	assert_int_equal(store_token_get(f->s, "TAG-1", &got), 0);
	assert_int_equal(got.status, AUTH_ACCEPTED);
	assert_int_equal(got.expiry_ms, 0);
	assert_string_equal(got.parent, "");
}

/* ------------------------------------------------------------------ sessions */

static void test_session_open_samples_close(void **state)
{
	struct fx *f = *state;
	struct store_sample sm = {.station_id = "CP-1",
				  .evse_id = 1,
				  .ts_ms = T0 + 1000,
				  .measurand = "m-energy",
				  .unit = "Wh",
				  .context = "c-periodic",
				  .value = "1500"};
	struct store_session_state ss;
	struct session_copy c;
	struct sample_copy sc;
	char tag[TOKEN_MAX + 1];
	int64_t id;

	station(f->s, "CP-1");
	id = open_session(f->s, "CP-1", 1, "TAG-1", T0, 1000);
	assert_int_equal(store_session_state(f->s, id, &ss), 0);
	assert_int_equal(ss.id, id);
	assert_string_equal(ss.station_id, "CP-1");
	assert_int_equal(ss.evse_id, 1);
	assert_true(ss.active);
	assert_true(ss.has_meter_start);
	assert_true(ss.has_token);
	assert_false(ss.has_meter_last);
	assert_int_equal(store_session_state(f->s, id + 1000, &ss), -ENOENT);
	assert_int_equal(store_session_id_tag(f->s, id, tag), 0);
	assert_string_equal(tag, "TAG-1");

	sm.session_id = id;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sm.ts_ms += 1000;
	sm.value = "1600";
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sc = samples(f->s, id);
	assert_int_equal(sc.n, 2);
	assert_string_equal(sc.value[0], "1500");
	assert_int_equal(sc.ts[1], T0 + 2000);

	assert_int_equal(store_session_close(f->s, id,
					     &(struct store_session_close){.stop_ms = T0 + 9000,
									   .meter_stop_wh = 1600,
									   .reason = "r-local"}),
			 0);
	c = get_session(f->s, id);
	assert_true(c.stopped);
	assert_int_equal(c.stop_ms, T0 + 9000);
	assert_int_equal(c.meter_stop_wh, 1600);
	assert_string_equal(c.reason, "r-local");
	assert_string_equal(c.auth, "Accepted");
	/* closing again changes nothing */
	assert_int_equal(
	    store_session_close(
		f->s, id, &(struct store_session_close){.stop_ms = T0 + 99, .meter_stop_wh = 1}),
	    0);
	c = get_session(f->s, id);
	assert_int_equal(c.stop_ms, T0 + 9000);
	assert_int_equal(c.meter_stop_wh, 1600);
	assert_int_equal(store_session_state(f->s, id, &ss), 0);
	assert_false(ss.active);
}

static void test_session_keys_replay_same_id(void **state)
{
	struct fx *f = *state;
	struct store_session_open key = {.station_id = "CP-1",
					 .evse_id = 1,
					 .connector_id = 1,
					 .id_tag = "TAG-1",
					 .auth_status = AUTH_ACCEPTED,
					 .start_ms = T0,
					 .has_meter_start = true,
					 .meter_start_wh = 1000,
					 .now_ms = T0};
	struct store_session_open tx = {.station_id = "CP-1",
					.evse_id = 2,
					.connector_id = 1,
					.station_tx_id = "TX-1",
					.auth_status = -1,
					.start_ms = T0,
					.now_ms = T0};
	struct store_session_state ss;
	int64_t a, b = -1, t1, t2 = -1;

	station(f->s, "CP-1");
	station(f->s, "CP-2");
	assert_int_equal(store_session_find_start(f->s, &key, &b), -ENOENT);
	assert_int_equal(b, -1);
	a = open_session(f->s, "CP-1", 1, "TAG-1", T0, 1000);
	assert_int_equal(store_session_find_start(f->s, &key, &b), 0);
	assert_int_equal(a, b);
	assert_int_equal(store_session_open(f->s, &key, &b), -EEXIST);
	/* another station, meter or time is another key */
	assert_int_not_equal(open_session(f->s, "CP-2", 1, "TAG-1", T0, 1000), a);
	assert_int_not_equal(open_session(f->s, "CP-1", 1, "TAG-1", T0, 1001), a);

	/* the station's own id is a key of its own */
	assert_int_equal(store_session_find_tx(f->s, "CP-1", "TX-1", &ss), -ENOENT);
	assert_int_equal(store_session_open(f->s, &tx, &t1), 0);
	assert_int_equal(store_session_open(f->s, &tx, &t2), -EEXIST);
	assert_int_equal(t2, -1);
	assert_int_equal(store_session_find_tx(f->s, "CP-1", "TX-1", &ss), 0);
	assert_int_equal(ss.id, t1);
	assert_int_equal(ss.evse_id, 2);
	assert_false(ss.has_token);
	assert_false(ss.has_meter_start);
	assert_string_equal(get_session(f->s, t1).auth, "Unknown");
	assert_string_equal(get_session(f->s, t1).tx_id, "TX-1");
	/* the same station id at another station is another session */
	tx.station_id = "CP-2";
	assert_int_equal(store_session_open(f->s, &tx, &t2), 0);
	assert_int_not_equal(t1, t2);
	assert_int_equal(store_session_find_tx(f->s, "CP-1", "TX-9", &ss), -ENOENT);

	/* an unknown station cannot own a session */
	key.station_id = "CP-NONE";
	assert_true(store_session_open(f->s, &key, &b) < 0);
}

static void test_session_setters_and_event_seq(void **state)
{
	struct fx *f = *state;
	struct store_session_open tx = {.station_id = "CP-1",
					.evse_id = 0,
					.station_tx_id = "TX",
					.auth_status = -1,
					.start_ms = T0 + 60000,
					.now_ms = T0};
	struct store_session_event ev = {.seq_no = 1,
					 .kind = SESSION_UPDATE,
					 .label = "lbl",
					 .trigger = "trg",
					 .ts_ms = T0 + 60000,
					 .now_ms = T0};
	struct store_session_state ss;
	struct session_copy c;
	int64_t id;

	station(f->s, "CP-1");
	assert_int_equal(store_session_open(f->s, &tx, &id), 0);
	assert_int_equal(store_session_event_add(f->s, id, &ev), 0);
	assert_int_equal(store_session_event_add(f->s, id, &ev), -EEXIST); /* a replay */
	assert_int_equal(store_session_seq_update(f->s, id, 1, false), 0);
	ev.seq_no = 4;
	ev.offline = true;
	assert_int_equal(store_session_event_add(f->s, id, &ev), 0);
	assert_int_equal(store_session_seq_update(f->s, id, 4, true), 0);
	c = get_session(f->s, id);
	assert_int_equal(c.seq_max, 4);
	assert_int_equal(c.seq_gaps, 2); /* 2 and 3 */
	assert_int_equal(c.offline_events, 1);
	ev.seq_no = 2;
	ev.offline = false;
	assert_int_equal(store_session_event_add(f->s, id, &ev), 0);
	assert_int_equal(store_session_seq_update(f->s, id, 2, false), 0);
	assert_int_equal(get_session(f->s, id).seq_gaps, 1);
	assert_int_equal(get_session(f->s, id).seq_max, 4);

	assert_int_equal(store_session_set_start(f->s, id, T0, true, 200), 0);
	assert_int_equal(store_session_set_token(f->s, id, "TAG-9", AUTH_EXPIRED), 0);
	assert_int_equal(store_session_set_evse(f->s, id, 3, 2), 0);
	assert_int_equal(store_session_meter_last(f->s, id, 900, T0 + 9000), 0);
	assert_int_equal(store_session_meter_last(f->s, id, 500, T0 + 5000), 0); /* older: kept */
	c = get_session(f->s, id);
	assert_int_equal(c.start_ms, T0);
	assert_true(c.has_meter_start);
	assert_int_equal(c.meter_start_wh, 200);
	assert_string_equal(c.id_tag, "TAG-9");
	assert_string_equal(c.auth, "Expired");
	assert_int_equal(c.evse_id, 3);
	assert_int_equal(c.connector_id, 2);
	assert_int_equal(store_session_find_tx(f->s, "CP-1", "TX", &ss), 0);
	assert_true(ss.has_token);
	assert_true(ss.has_meter_last);
	assert_int_equal(ss.meter_last_wh, 900);
	assert_int_equal(ss.meter_last_ms, T0 + 9000);
	/* set_start without a meter leaves the meter */
	assert_int_equal(store_session_set_start(f->s, id, T0 - 1, false, 0), 0);
	c = get_session(f->s, id);
	assert_int_equal(c.start_ms, T0 - 1);
	assert_int_equal(c.meter_start_wh, 200);
}

struct list_count {
	int n;
	int64_t first_id;
};

static int count_session(const struct store_session_row *row, void *ud)
{
	struct list_count *c = ud;

	if (c->n++ == 0)
		c->first_id = row->id;
	return 0;
}

static void test_sessions_list(void **state)
{
	struct fx *f = *state;
	struct list_count c = {.n = 0};
	int64_t a, b;

	station(f->s, "CP-1");
	station(f->s, "CP-2");
	a = open_session(f->s, "CP-1", 1, "T", T0, 0);
	b = open_session(f->s, "CP-2", 1, "T", T0, 0);
	assert_int_equal(store_session_close(f->s, a, &(struct store_session_close){.stop_ms = T0}),
			 0);
	assert_int_equal(
	    store_sessions_list(f->s, &(struct store_session_filter){.active = -1, .limit = 10},
				count_session, &c),
	    2);
	assert_int_equal(c.first_id, b); /* newest first */
	c.n = 0;
	assert_int_equal(
	    store_sessions_list(f->s, &(struct store_session_filter){.active = 1, .limit = 10},
				count_session, &c),
	    1);
	assert_int_equal(c.first_id, b);
	c.n = 0;
	assert_int_equal(store_sessions_list(f->s,
					     &(struct store_session_filter){
						 .station_id = "CP-1", .active = -1, .limit = 10},
					     count_session, &c),
			 1);
	assert_int_equal(c.first_id, a);
	/* a negative limit is no limit, a negative offset none (SQLite's reading of them) */
	c.n = 0;
	assert_int_equal(
	    store_sessions_list(
		f->s, &(struct store_session_filter){.active = -1, .limit = -1, .offset = -3},
		count_session, &c),
	    2);
	c.n = 0;
	assert_int_equal(store_sessions_list(
			     f->s,
			     &(struct store_session_filter){.active = -1, .limit = 1, .offset = 1},
			     count_session, &c),
			 1);
	assert_int_equal(c.first_id, a);
}

/* ------------------------------------------------------------------ readings */

static void test_samples_duplicate_and_conflict(void **state)
{
	struct fx *f = *state;
	struct store_sample sm = {.station_id = "CP-1",
				  .evse_id = 1,
				  .ts_ms = T0,
				  .measurand = "m",
				  .context = "c",
				  .value = "10"};
	char stored[16];
	int64_t id, n = -1;

	station(f->s, "CP-1");
	id = open_session(f->s, "CP-1", 1, "T", T0, 0);
	sm.session_id = id;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	memset(stored, 0, sizeof(stored));
	assert_int_equal(store_sample_add(f->s, &sm, stored, sizeof(stored)), 0);
	assert_string_equal(stored, "10");
	sm.value = "11";
	assert_int_equal(store_sample_add(f->s, &sm, stored, sizeof(stored)), 0);
	assert_string_equal(stored, "10"); /* the first value stays */
	/* every part of the key makes another reading */
	sm.phase = "p";
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sm.location = "l";
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sm.context = NULL;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sm.evse_id = 2;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sm.ts_ms++;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sm.measurand = "m2";
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	assert_int_equal(samples(f->s, id).n, 7);
	/* refused, not dropped */
	sm.value = NULL;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), -EINVAL);
	sm.value = "1";
	sm.measurand = NULL;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), -EINVAL);

	/* conflicts: counted on the session and in total */
	assert_int_equal(store_sample_conflicts(f->s, id, &n), 0);
	assert_int_equal(n, 0);
	sm = (struct store_sample){.session_id = id,
				   .station_id = "CP-1",
				   .evse_id = 1,
				   .ts_ms = T0,
				   .measurand = "m",
				   .context = "c",
				   .value = "11"};
	assert_int_equal(
	    store_sample_conflict_add(f->s, &(struct store_sample_conflict){.sample = &sm,
									    .stored_value = "10",
									    .received_ms = T0 + 1}),
	    0);
	sm.session_id = 0;
	assert_int_equal(
	    store_sample_conflict_add(f->s, &(struct store_sample_conflict){.sample = &sm,
									    .stored_value = "10",
									    .received_ms = T0 + 2}),
	    0);
	assert_int_equal(store_sample_conflicts(f->s, id, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(get_session(f->s, id).sample_conflicts, 1);
	assert_int_equal(store_sample_conflicts(f->s, 0, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_sample_conflicts(f->s, id + 1000, &n), -ENOENT);
}

/* samples_add: sample_add's answers, reading by reading, for a batch (all readings of a
 * MeterValues in one round trip where the backend can). */
static void test_samples_add_batch(void **state)
{
	struct fx *f = *state;
	struct store_sample in[6];
	char stored[6][16];
	int ret[6];
	int64_t id;

	station(f->s, "CP-1");
	id = open_session(f->s, "CP-1", 1, "T", T0, 0);
	assert_int_equal(store_sample_add(f->s,
					  &(struct store_sample){.session_id = id,
								 .station_id = "CP-1",
								 .evse_id = 1,
								 .ts_ms = T0,
								 .measurand = "old",
								 .value = "5"},
					  NULL, 0),
			 1);
	for (int i = 0; i < 6; i++)
		in[i] = (struct store_sample){.session_id = id,
					      .station_id = "CP-1",
					      .evse_id = 1,
					      .ts_ms = T0 + 1000,
					      .measurand = "m",
					      .value = "1"};
	in[1].measurand = "m2";	 /* new */
	in[2].value = NULL;	 /* refused */
	in[3].value = "2";	 /* in[0]'s key again, in the same batch */
	in[4].measurand = "old"; /* stored before the batch */
	in[4].ts_ms = T0;
	in[4].value = "6";
	in[5].phase = "L1"; /* new: another key */
	memset(stored, 0, sizeof(stored));
	memset(ret, 0x5a, sizeof(ret));
	assert_int_equal(store_samples_add(f->s, in, 6, ret, &stored[0][0], sizeof(stored[0])), 0);
	assert_int_equal(ret[0], 1);
	assert_int_equal(ret[1], 1);
	assert_int_equal(ret[2], -EINVAL);
	assert_int_equal(ret[3], 0);
	assert_string_equal(stored[3], "1");
	assert_int_equal(ret[4], 0);
	assert_string_equal(stored[4], "5");
	assert_int_equal(ret[5], 1);
	assert_int_equal(samples(f->s, id).n, 4);
	/* without room for the kept values */
	assert_int_equal(store_samples_add(f->s, in, 2, ret, NULL, 0), 0);
	assert_int_equal(ret[0], 0);
	assert_int_equal(ret[1], 0);
	assert_int_equal(store_samples_add(f->s, in, 0, ret, NULL, 0), 0);
	assert_true(store_dirty(f->s));
}

/* Every reading of a session as the store lists it (up to 64). */
struct batch_copy {
	int n;
	int64_t ts[64];
	char measurand[64][32], phase[64][8], value[64][40], unit[64][40];
};

static int collect_batch(const struct store_sample *row, void *ud)
{
	struct batch_copy *c = ud;

	assert_true(c->n < 64);
	c->ts[c->n] = row->ts_ms;
	copy(c->measurand[c->n], sizeof(c->measurand[0]), row->measurand);
	copy(c->phase[c->n], sizeof(c->phase[0]), row->phase);
	copy(c->value[c->n], sizeof(c->value[0]), row->value);
	copy(c->unit[c->n], sizeof(c->unit[0]), row->unit);
	c->n++;
	return 0;
}

/* samples_add over more readings than one statement takes on SQLite (16) and with keys that
 * come again across chunks, texts that need quoting, readings of another
 * session and unlinked ones in the same batch: the answers are sample_add's, one after the
 * other, and each reading lands on its own session in order. */
static void test_samples_add_large_batch(void **state)
{
	struct fx *f = *state;
	static const char *const texts[] = {"NULL", "a\"b", "c\\d", "{e,f}", "", "\xc2\xb0\x43"};
	enum { N = 40 };
	struct store_sample in[N];
	char stored[N][40], values[N][16];
	struct batch_copy c = {0};
	int ret[N];
	int64_t a, b;

	station(f->s, "CP-1");
	station(f->s, "CP-2");
	a = open_session(f->s, "CP-1", 1, "T", T0, 0);
	b = open_session(f->s, "CP-2", 1, "T", T0, 0);
	for (int i = 0; i < N; i++) {
		snprintf(values[i], sizeof(values[i]), "%d", 100 + i);
		in[i] =
		    (struct store_sample){.session_id = a,
					  .station_id = "CP-1",
					  .evse_id = 1,
					  .ts_ms = T0 + 1000 * (i / 4),
					  .measurand = i % 4 == 0 ? "Energy.Active.Import.Register"
						       : i % 4 == 1 ? "Power.Active.Import"
						       : i % 4 == 2 ? "Current.Import"
								    : "SoC",
					  .unit = texts[i % 6],
					  .value = values[i]};
	}
	in[5].value = "NULL"; /* a text, not SQL NULL */
	in[6].value = "x\"y\\z,{}";
	in[9].phase = "L1";
	in[17] = in[16]; /* in[16]'s key in the same chunk, another value */
	in[17].value = "999";
	in[33] = in[2]; /* in[2]'s key in a later chunk, the same value */
	in[34] = in[3]; /* in[3]'s key in a later chunk, another value */
	in[34].value = "998";
	in[20].session_id = b; /* another session's, another station's */
	in[20].station_id = "CP-2";
	in[21].session_id = 0; /* unlinked */
	in[22].value = NULL;   /* refused */
	in[12].phase = "";     /* "" is no phase: the key of ... */
	in[13] = in[12];       /* ... a reading without one */
	in[13].phase = NULL;
	memset(stored, 0, sizeof(stored));
	assert_int_equal(store_samples_add(f->s, in, N, ret, &stored[0][0], sizeof(stored[0])), 0);
	for (int i = 0; i < N; i++) {
		int want = i == 17 || i == 33 || i == 34 || i == 13 ? 0 : i == 22 ? -EINVAL : 1;

		assert_int_equal(ret[i], want);
	}
	assert_string_equal(stored[17], "116");
	assert_string_equal(stored[33], "102");
	assert_string_equal(stored[34], "103");
	assert_string_equal(stored[13], "112");
	assert_int_equal(store_samples_list(f->s, a, collect_batch, &c), 0);
	/* 40 readings: 1 refused, 4 repeated keys, 2 on other sessions */
	assert_int_equal(c.n, N - 1 - 4 - 2);
	for (int i = 0, j = 0; i < N; i++) {
		if (ret[i] != 1 || in[i].session_id != a)
			continue;
		/* in order of time, then of arrival */
		assert_int_equal(c.ts[j], in[i].ts_ms);
		assert_string_equal(c.measurand[j], in[i].measurand);
		assert_string_equal(c.value[j], in[i].value);
		assert_string_equal(c.unit[j], in[i].unit);
		j++;
	}
	assert_string_equal(c.value[5], "NULL");
	assert_string_equal(c.value[6], "x\"y\\z,{}");
	assert_string_equal(c.phase[9], "L1");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_samples_list(f->s, b, collect_batch, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.value[0], "120");
	/* the whole message again (a retry on a new connection): nothing new, the kept values */
	in[17].value = "116";
	memset(stored, 0, sizeof(stored));
	assert_int_equal(store_samples_add(f->s, in, N, ret, &stored[0][0], sizeof(stored[0])), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(ret[i], i == 22 ? -EINVAL : 0);
		if (i == 22)
			continue;
		assert_string_equal(stored[i], i == 34	 ? "103"
					       : i == 33 ? "102"
					       : i == 13 ? "112"
							 : in[i].value);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_samples_list(f->s, a, collect_batch, &c), 0);
	assert_int_equal(c.n, N - 1 - 4 - 2);
}

static void test_signed_data_kept(void **state)
{
	struct fx *f = *state;
	struct store_sample sm = {.station_id = "CP-1",
				  .evse_id = 1,
				  .ts_ms = T0,
				  .measurand = "m",
				  .format = "fmt-signed",
				  .value = "1234",
				  .sig = {.data = "BASE64-BLOB",
					  .signing_method = "ECDSA",
					  .encoding_method = "OCMF",
					  .public_key = "PUB"}};
	struct sample_copy c;
	int64_t id;

	station(f->s, "CP-1");
	id = open_session(f->s, "CP-1", 1, "T", T0, 0);
	sm.session_id = id;
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	sm.ts_ms++;
	sm.format = NULL;
	sm.sig = (struct signed_meter_data){.data = NULL};
	assert_int_equal(store_sample_add(f->s, &sm, NULL, 0), 1);
	c = samples(f->s, id);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.format[0], "fmt-signed");
	assert_string_equal(c.sig[0], "BASE64-BLOB");
	assert_string_equal(c.sig_method[0], "ECDSA");
	assert_string_equal(c.sig_enc[0], "OCMF");
	assert_string_equal(c.sig_key[0], "PUB");
	assert_string_equal(c.sig[1], "(null)"); /* unsigned stays unsigned */
	assert_string_equal(c.sig_key[1], "(null)");
}

/* ------------------------------------------------------------------ orphans, device model */

struct orphan_copy {
	int n;
	int64_t txn[4];
	char station[4][STATION_ID_MAX + 1];
};

static int collect_orphan(const struct store_orphan *row, void *ud)
{
	struct orphan_copy *c = ud;

	assert_true(c->n < 4);
	c->txn[c->n] = row->transaction_id;
	copy(c->station[c->n], sizeof(c->station[0]), row->station_id);
	c->n++;
	return 0;
}

static void test_orphans(void **state)
{
	struct fx *f = *state;
	struct orphan_copy c = {.n = 0};

	assert_int_equal(store_orphan_add(f->s, &(struct store_orphan){.station_id = "CP-1",
								       .transaction_id = 7,
								       .ts_ms = T0,
								       .received_ms = T0}),
			 0);
	assert_int_equal(store_orphan_add(f->s, &(struct store_orphan){.station_id = "CP-2",
								       .transaction_id = -1,
								       .reason = "r",
								       .ts_ms = T0,
								       .received_ms = T0}),
			 0);
	assert_int_equal(store_orphans_list(f->s, 10, collect_orphan, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.txn[0], -1); /* newest first */
	assert_string_equal(c.station[0], "CP-2");
	assert_int_equal(c.txn[1], 7);
	c.n = 0;
	assert_int_equal(store_orphans_list(f->s, 1, collect_orphan, &c), 0);
	assert_int_equal(c.n, 1);
}

static int count_variable(const struct store_variable *v, void *ud)
{
	char *value = ud;

	snprintf(value, 16, "%s", v->value ? v->value : "(null)");
	return 0;
}

static void test_variables_reports_notices(void **state)
{
	struct fx *f = *state;
	struct store_variable v = {.component = "C",
				   .evse_id = 1,
				   .connector_id = -1,
				   .variable = "V",
				   .attribute_type = "A",
				   .value = "1"};
	char value[16] = "";
	int parts = -1;
	bool complete = true;

	assert_int_equal(store_variable_put(f->s, "CP-1", &v, T0), 0);
	v.value = "2";
	assert_int_equal(store_variable_put(f->s, "CP-1", &v, T0 + 1), 0); /* replaced */
	assert_int_equal(store_variables_list(f->s, "CP-1", count_variable, value), 0);
	assert_string_equal(value, "2");

	assert_int_equal(store_report_status(f->s, "CP-1", 5, &parts, &complete), -ENOENT);
	assert_int_equal(parts, -1);
	assert_int_equal(store_report_part(f->s, "CP-1", 5, 0, true, T0), 0);
	assert_int_equal(store_report_status(f->s, "CP-1", 5, &parts, &complete), 0);
	assert_int_equal(parts, 1);
	assert_false(complete);
	assert_int_equal(store_report_part(f->s, "CP-1", 5, 1, false, T0), 0);
	assert_int_equal(store_report_status(f->s, "CP-1", 5, &parts, &complete), 0);
	assert_int_equal(parts, 2);
	assert_true(complete);

	assert_int_equal(store_notice_add(f->s, "CP-1", "k", T0, "{\"detail\":1}"), 0);
	assert_true(store_dirty(f->s));
}

/* ------------------------------------------------------------------ group commit */

static void test_group_commit_and_rollback(void **state)
{
	struct fx *f = *state;
	struct store_station st;
	uint64_t seq = 0;
	char err[256];
	int r;

	assert_int_equal(store_commit(f->s), 0); /* nothing open: fine */
	station(f->s, "CP-1");
	assert_true(store_dirty(f->s));
	assert_int_equal(store_commit(f->s), 0);
	assert_false(store_dirty(f->s));

	station(f->s, "CP-2");
	open_session(f->s, "CP-1", 1, "T", T0, 0);
	assert_true(store_dirty(f->s));
	store_rollback(f->s);
	assert_int_equal(store_station_get(f->s, "CP-2", &st), -ENOENT);
	assert_int_equal(store_station_get(f->s, "CP-1", &st), 0);
	assert_int_equal(
	    store_sessions_list(f->s, &(struct store_session_filter){.active = -1, .limit = 10},
				count_session, &(struct list_count){.n = 0}),
	    0);
	/* the loop's group lost writes (other callers' among them, maybe): it stays to be failed
	 * by its commit_async, and what was written after the rollback fails with it */
	assert_true(store_dirty(f->s));
	station(f->s, "CP-4");
	assert_int_equal(store_commit_async(f->s, &seq), -EIO);
	assert_false(store_dirty(f->s));
	assert_int_equal(store_station_get(f->s, "CP-4", &st), -ENOENT);
	/* a rollback with nothing open loses nothing: the next group commits */
	store_rollback(f->s);
	assert_false(store_dirty(f->s));
	station(f->s, "CP-4");
	r = store_commit_async(f->s, &seq);
	assert_true(r == 0 || r == 1);
	assert_int_equal(store_station_get(f->s, "CP-4", &st), 0);

	/* reads see the group's own writes before the commit */
	station(f->s, "CP-3");
	assert_int_equal(store_station_get(f->s, "CP-3", &st), 0);
	if (!f->b->persistent)
		return;
	/* close commits the open group; a reopen sees every committed write */
	store_close(f->s);
	f->s = f->b->ops->open(f->dsn, false, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(store_station_get(f->s, "CP-1", &st), 0);
	assert_int_equal(store_station_get(f->s, "CP-3", &st), 0);
	assert_int_equal(store_station_get(f->s, "CP-2", &st), -ENOENT);
}

/* The group commit off the loop: commit_async either is durable on return (0) or hands out
 * rising batch numbers that flush_done reports durable (1); a sqlite-file store opened with
 * sync_full flushes in the background from its second commit on. Either way the batch is
 * committed (reads, a reopen see it) and commit() stays durable on return. */
static void test_commit_async_and_flush(void **state)
{
	struct fx *f = *state;
	struct store_station st;
	uint64_t seq[3] = {0, 0, 0}, durable = 0;
	int r[3];
	char err[256];

	assert_int_equal(store_commit_async(f->s, &seq[0]), 0); /* nothing open */
	store_close(f->s);
	f->s = f->b->ops->open(f->dsn, true, err, sizeof(err));
	assert_non_null(f->s);
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "CP-A%d", i);
		station(f->s, id);
		r[i] = store_commit_async(f->s, &seq[i]);
		assert_true(r[i] == 0 || r[i] == 1);
		assert_false(store_dirty(f->s));
		assert_int_equal(store_station_get(f->s, id, &st), 0);
		if (i && r[i - 1] == 1)
			assert_int_equal(r[i], 1); /* once in the background, it stays there */
		if (i && r[i] == 1 && r[i - 1] == 1)
			assert_true(seq[i] > seq[i - 1]);
	}
	if (!strcmp(f->b->name, "sqlite-file"))
		assert_int_equal(r[2], 1);
	if (r[2] == 1) {
		assert_true(store_flush_fd(f->s) >= 0);
		assert_int_equal(store_flush_done(f->s, true, &durable), 0);
		assert_true(durable >= seq[2]);
	}
	/* a plain commit() after them: durable on return, as always */
	station(f->s, "CP-B");
	assert_int_equal(store_commit(f->s), 0);
	if (!f->b->persistent)
		return;
	store_close(f->s);
	f->s = f->b->ops->open(f->dsn, false, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(store_station_get(f->s, "CP-A0", &st), 0);
	assert_int_equal(store_station_get(f->s, "CP-A2", &st), 0);
	assert_int_equal(store_station_get(f->s, "CP-B", &st), 0);
}

/* Wait up to 10 s for flush_fd to turn readable, then flush_done() without waiting. A wake-up
 * that brings nothing new is fine: the caller loops. */
static int flush_poll(struct store *s, uint64_t *ret_durable)
{
	struct pollfd p = {.fd = store_flush_fd(s), .events = POLLIN};

	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, 10000), 1);
	return store_flush_done(s, false, ret_durable);
}

/* Reopen f's store with sync_full (where commit_async may run in the background). */
static void reopen_full(struct fx *f)
{
	char err[256];

	store_close(f->s);
	f->s = f->b->ops->open(f->dsn, true, err, sizeof(err));
	assert_non_null(f->s);
}

/* Several batches in flight at once: each group is written behind the previous one's COMMIT
 * without waiting for it; a read in group N+1 sees group N's rows; flush_done reports the
 * batches durable in order (never backwards, never beyond the last one handed out), and a
 * batch reported durable is visible to another connection; commit() behind batches in flight
 * is durable on return, and so is everything before it. */
static void test_commit_async_pipelined(void **state)
{
	struct fx *f = *state;
	struct store_station st;
	struct store *s2 = NULL;
	uint64_t seq[4] = {0, 0, 0, 0}, durable = 0, last = 0;
	int r[4], wakes = 0;
	char err[256];

	reopen_full(f);
	station(f->s, "CP-P0");
	r[0] = store_commit_async(f->s, &seq[0]);
	/* group 2: a write with an answer and a read, behind group 1's COMMIT */
	station(f->s, "CP-P1");
	assert_int_equal(store_station_get(f->s, "CP-P0", &st), 0);
	r[1] = store_commit_async(f->s, &seq[1]);
	/* group 3: writes without an answer only */
	assert_int_equal(
	    store_connector_status(f->s, "CP-P1", 1, 1, "Available", "NoError", NULL, NULL, T0), 0);
	assert_int_equal(store_station_seen(f->s, "CP-P0", true, NULL, T0), 0);
	r[2] = store_commit_async(f->s, &seq[2]);
	for (int i = 0; i < 3; i++) {
		assert_true(r[i] == 0 || r[i] == 1);
		if (i && r[i] == 1 && r[i - 1] == 1)
			assert_true(seq[i] > seq[i - 1]);
	}
	assert_false(store_dirty(f->s));
	if (f->b->persistent) {
		s2 = f->b->ops->open(f->dsn, false, err, sizeof(err));
		assert_non_null(s2);
	}
	while (r[2] == 1 && durable < seq[2]) {
		assert_int_equal(flush_poll(f->s, &durable), 0);
		assert_true(durable >= last);
		assert_true(durable <= seq[2]);
		last = durable;
		for (int i = 0; s2 && i < 2; i++) /* durable: another connection sees it */
			if (r[i] == 1 && durable >= seq[i])
				assert_int_equal(store_station_get(s2, i ? "CP-P1" : "CP-P0", &st),
						 0);
		assert_true(++wakes < 100);
	}
	assert_int_equal(store_flush_done(f->s, true, &durable), 0);
	if (r[2] == 1)
		assert_true(durable >= seq[2]);

	/* one more in flight, then a plain commit(): durable on return, and so is the batch
	 * before it (visible to another connection at once) */
	station(f->s, "CP-P3");
	r[3] = store_commit_async(f->s, &seq[3]);
	assert_true(r[3] == 0 || r[3] == 1);
	station(f->s, "CP-P4");
	assert_int_equal(store_commit(f->s), 0);
	if (s2) {
		assert_int_equal(store_station_get(s2, "CP-P3", &st), 0);
		assert_int_equal(store_station_get(s2, "CP-P4", &st), 0);
	}
	assert_int_equal(store_flush_done(f->s, true, &durable), 0);
	if (r[3] == 1)
		assert_true(durable >= seq[3]);
	store_close(s2);
}

/* A group whose write fails where the backend defers that write's result (PostgreSQL: a
 * foreign key, noticed behind the COMMIT) is never reported durable: the batch before it is,
 * then flush_done reports the failure once (-EIO), then the batch after it goes on as usual;
 * the failed group's rows are gone. With wait the failure is reported at once. A backend that
 * reports the write's failure at once (SQLite) has told its caller already. */
static void test_commit_async_failed_group(void **state)
{
	struct fx *f = *state;
	struct store_station st;
	uint64_t seq[3] = {0, 0, 0}, durable = 0;
	bool failed = false;
	int r[3], w, wakes = 0;

	reopen_full(f);
	station(f->s, "CP-F0");
	r[0] = store_commit_async(f->s, &seq[0]);
	station(f->s, "CP-F1");
	w = store_connector_status(f->s, "CP-NONE", 1, 1, "Available", "NoError", NULL, NULL, T0);
	if (w < 0) /* reported to the caller at once: nothing deferred to test */
		return;
	r[1] = store_commit_async(f->s, &seq[1]);
	/* the next group is written behind the failed one and does not depend on it */
	station(f->s, "CP-F2");
	r[2] = store_commit_async(f->s, &seq[2]);
	assert_true(r[0] == 1 || r[0] == 0);
	assert_true(r[2] == 1 || r[2] == 0);
	if (r[1] == 1) {
		assert_int_equal(r[0], 1);
		assert_true(seq[1] > seq[0]);
		/* until the failure is reported, nothing from its batch on is durable */
		while (!failed) {
			int fr = flush_poll(f->s, &durable);

			if (fr == -EIO) {
				failed = true;
			} else {
				assert_int_equal(fr, 0);
				assert_true(durable < seq[1]);
			}
			assert_true(++wakes < 100);
		}
		/* then the later batch, as its COMMIT answers */
		if (r[2] == 1) {
			assert_int_equal(store_flush_done(f->s, true, &durable), 0);
			assert_true(durable >= seq[2]);
		}
	} else {
		assert_int_equal(r[1], -EIO); /* known failed at commit: rolled back at once */
	}
	assert_int_equal(store_station_get(f->s, "CP-F0", &st), 0);
	assert_int_equal(store_station_get(f->s, "CP-F1", &st), -ENOENT);
	assert_int_equal(store_station_get(f->s, "CP-F2", &st), 0);

	/* with wait: the failure at once, reported once */
	station(f->s, "CP-F3");
	assert_int_equal(
	    store_connector_status(f->s, "CP-NONE", 1, 1, "Available", "NoError", NULL, NULL, T0),
	    0);
	r[0] = store_commit_async(f->s, &seq[0]);
	if (r[0] == 1)
		assert_int_equal(store_flush_done(f->s, true, &durable), -EIO);
	else
		assert_int_equal(r[0], -EIO);
	assert_int_equal(store_flush_done(f->s, true, &durable), 0);
	assert_int_equal(store_station_get(f->s, "CP-F3", &st), -ENOENT);
	/* and the store goes on */
	station(f->s, "CP-F4");
	r[0] = store_commit_async(f->s, &seq[0]);
	assert_true(r[0] == 0 || r[0] == 1);
	assert_int_equal(store_flush_done(f->s, true, &durable), 0);
	if (r[0] == 1)
		assert_true(durable >= seq[0]);
	assert_int_equal(store_station_get(f->s, "CP-F4", &st), 0);
}

#ifdef CSMS_TEST_HAVE_PG
/* PostgreSQL: the connection breaks while a COMMIT is in flight (its group waits for a row lock
 * another session holds, and the server ends the store's session meanwhile): the batch is
 * reported failed, never durable, its write is not there, and the next group reconnects. */
static void test_commit_async_connection_lost(void **state)
{
	struct fx *f = *state;
	struct station_copy sc;
	uint64_t seq = 0, durable = 0;
	struct pollfd p;
	PGresult *res;
	PGconn *c;
	int fr, wakes = 0;

	if (f->b->ops != &store_pg_ops)
		return;
	reopen_full(f);
	station(f->s, "CP-L0");
	assert_int_equal(store_commit(f->s), 0);
	c = PQconnectdb(f->dsn);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, "BEGIN; SELECT 1 FROM stations WHERE id = 'CP-L0' FOR UPDATE");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	/* the group's UPDATE of that row waits for the lock: its COMMIT cannot answer */
	assert_int_equal(store_station_seen(f->s, "CP-L0", true, NULL, T0 + 1), 0);
	assert_int_equal(store_commit_async(f->s, &seq), 1);
	p = (struct pollfd){.fd = store_flush_fd(f->s), .events = POLLIN};
	assert_true(p.fd >= 0);
	assert_true(poll(&p, 1, 300) >= 0);
	assert_int_equal(store_flush_done(f->s, false, &durable), 0);
	assert_true(durable < seq);
	res = PQexec(c,
		     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
		     "current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	PQclear(res);
	do {
		fr = flush_poll(f->s, &durable);
		if (fr == 0)
			assert_true(durable < seq);
		assert_true(++wakes < 100);
	} while (fr == 0);
	assert_int_equal(fr, -EIO);
	PQclear(PQexec(c, "ROLLBACK"));
	PQfinish(c);
	/* the lost group's write is not there; the next group reconnects */
	sc = station_row(f->s, "CP-L0");
	assert_false(sc.online);
	station(f->s, "CP-L1");
	fr = store_commit_async(f->s, &seq);
	assert_int_equal(fr, 1);
	assert_int_equal(store_flush_done(f->s, true, &durable), 0);
	assert_true(durable >= seq);
	sc = station_row(f->s, "CP-L1");
	assert_int_equal(sc.n, 1);
}
#endif

/* ------------------------------------------------------------------ operator accounts */

static int count_account(const struct store_account *a, void *ud)
{
	int *n = ud;

	/* by name */
	assert_string_equal(a->name, *n == 0 ? "ann" : "bob");
	++*n;
	return 0;
}

static int collect_token(const struct store_api_token *t, void *ud)
{
	*(struct store_api_token *)ud = *t;
	return 0;
}

static int collect_audit(const struct store_audit *a, void *ud)
{
	int *n = ud;

	assert_string_equal(a->path, *n == 0 ? "/api/two" : "/api/one"); /* newest first */
	++*n;
	return 0;
}

static void test_accounts_sessions_tokens_audit(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	struct store_account a = {.role = "admin",
				  .pw_hash = "scrypt$h",
				  .created_ms = T0,
				  .updated_ms = T0},
			     got;
	struct store_auth_session ss;
	struct store_api_token t, listed = {0};
	struct store_audit au = {.ts_ms = T0,
				 .who = "ann",
				 .method = "POST",
				 .path = "/api/one",
				 .peer = "127.0.0.1",
				 .status = 201};
	int64_t id;
	int n = 0;

	copy(a.name, sizeof(a.name), "bob");
	assert_int_equal(store_account_create(s, &a), 0);
	assert_int_equal(store_account_create(s, &a), -EEXIST);
	copy(a.name, sizeof(a.name), "ann");
	copy(a.role, sizeof(a.role), "viewer");
	assert_int_equal(store_account_create(s, &a), 0);
	assert_int_equal(store_accounts_list(s, count_account, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_account_get(s, "ann", &got), 0);
	assert_string_equal(got.role, "viewer");
	assert_string_equal(got.pw_hash, "scrypt$h");
	assert_false(got.disabled);
	assert_int_equal(store_account_get(s, "cy", &got), -ENOENT);
	got.disabled = true;
	copy(got.role, sizeof(got.role), "operator");
	got.updated_ms = T0 + 5;
	assert_int_equal(store_account_update(s, &got), 0);
	assert_int_equal(store_account_get(s, "ann", &got), 0);
	assert_true(got.disabled);
	assert_string_equal(got.role, "operator");
	assert_int_equal(got.updated_ms, T0 + 5);
	copy(got.name, sizeof(got.name), "cy");
	assert_int_equal(store_account_update(s, &got), -ENOENT);

	/* sessions join the account's current role and state; expired ones are purged */
	assert_int_equal(store_auth_session_add(s, "h1", "ann", "c1", T0, T0 + 1000), 0);
	assert_int_equal(store_auth_session_add(s, "h2", "bob", "c2", T0, T0 + 100), 0);
	assert_int_equal(store_auth_session_get(s, "h1", &ss), 0);
	assert_string_equal(ss.account, "ann");
	assert_string_equal(ss.role, "operator");
	assert_true(ss.disabled);
	assert_string_equal(ss.csrf, "c1");
	assert_int_equal(ss.last_ms, T0);
	assert_int_equal(ss.expires_ms, T0 + 1000);
	assert_int_equal(store_auth_session_touch(s, "h1", T0 + 50), 0);
	assert_int_equal(store_auth_session_get(s, "h1", &ss), 0);
	assert_int_equal(ss.last_ms, T0 + 50);
	assert_int_equal(store_auth_sessions_delete(s, NULL, NULL, T0 + 500), 0);
	assert_int_equal(store_auth_session_get(s, "h2", &ss), -ENOENT);
	assert_int_equal(store_auth_session_get(s, "h1", &ss), 0);
	assert_int_equal(store_auth_session_add(s, "h3", "ann", "c3", T0, T0 + 1000), 0);
	assert_int_equal(store_auth_sessions_delete(s, NULL, "ann", 0), 0);
	assert_int_equal(store_auth_session_get(s, "h1", &ss), -ENOENT);
	assert_int_equal(store_auth_session_get(s, "h3", &ss), -ENOENT);
	assert_int_equal(store_auth_session_add(s, "h4", "bob", "c4", T0, T0 + 1000), 0);
	assert_int_equal(store_auth_sessions_delete(s, "h4", NULL, 0), 0);
	assert_int_equal(store_auth_session_get(s, "h4", &ss), -ENOENT);
	/* deleting an account takes its sessions along */
	assert_int_equal(store_auth_session_add(s, "h5", "bob", "c5", T0, T0 + 1000), 0);
	assert_int_equal(store_account_delete(s, "bob"), 0);
	assert_int_equal(store_account_delete(s, "bob"), -ENOENT);
	assert_int_equal(store_auth_session_get(s, "h5", &ss), -ENOENT);

	/* API tokens by hash; revoked once */
	assert_int_equal(store_api_token_add(s, "ci", "operator", "th1", "ann", T0, &id), 0);
	assert_true(id > 0);
	assert_int_equal(store_api_token_get(s, "th1", &t), 0);
	assert_int_equal(t.id, id);
	assert_string_equal(t.name, "ci");
	assert_string_equal(t.role, "operator");
	assert_string_equal(t.created_by, "ann");
	assert_int_equal(t.last_used_ms, 0);
	assert_int_equal(t.revoked_ms, 0);
	assert_int_equal(store_api_token_get(s, "nope", &t), -ENOENT);
	assert_int_equal(store_api_token_touch(s, id, T0 + 7), 0);
	assert_int_equal(store_api_token_revoke(s, id, T0 + 9), 0);
	assert_int_equal(store_api_token_revoke(s, id, T0 + 10), -ENOENT);
	assert_int_equal(store_api_token_revoke(s, id + 100, T0 + 10), -ENOENT);
	assert_int_equal(store_api_tokens_list(s, collect_token, &listed), 0);
	assert_int_equal(listed.id, id);
	assert_int_equal(listed.last_used_ms, T0 + 7);
	assert_int_equal(listed.revoked_ms, T0 + 9);

	/* audit, newest first, paged */
	assert_int_equal(store_audit_add(s, &au), 0);
	au.path = "/api/two";
	assert_int_equal(store_audit_add(s, &au), 0);
	n = 0;
	assert_int_equal(store_audit_list(s, 10, 0, collect_audit, &n), 0);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(store_audit_list(s, 1, 1, collect_audit, &n), 0);
	assert_int_equal(n, 2);
	/* all of it is durable at the commit */
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_account_get(s, "ann", &got), 0);
}

/* ------------------------------------------------------------------ tariffs (0004) */

struct tariff_copy {
	int n;
	char id[8][64], doc[8][256];
};

static int collect_tariff(const struct store_tariff *row, void *ud)
{
	struct tariff_copy *c = ud;

	if (c->n < 8) {
		copy(c->id[c->n], sizeof(c->id[0]), row->id);
		copy(c->doc[c->n], sizeof(c->doc[0]), row->doc);
	}
	c->n++;
	return 0;
}

static void test_tariffs_put_list(void **state)
{
	struct fx *f = *state;
	struct tariff_copy c = {0};

	assert_int_equal(store_tariff_put(f->s, "b", "{\"id\":\"b\"}", T0), 0);
	assert_int_equal(store_tariff_put(f->s, "a", "{\"id\":\"a\"}", T0), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_tariffs_list(f->s, NULL, collect_tariff, &c), 2);
	assert_string_equal(c.id[0], "a");
	assert_string_equal(c.id[1], "b");
	/* replace: the same id gets the new document */
	assert_int_equal(store_tariff_put(f->s, "a", "{\"id\":\"a\",\"v\":2}", T0 + 1), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_tariffs_list(f->s, "a", collect_tariff, &c), 1);
	assert_string_equal(c.doc[0], "{\"id\":\"a\",\"v\":2}");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_tariffs_list(f->s, "zz", collect_tariff, &c), -ENOENT);
	assert_int_equal(c.n, 0);
}

struct site_tariff_copy {
	int n;
	char id[8][64], tariff[8][64];
	int kind[8];
};

static int collect_site_tariff(const struct store_site_tariff *row, void *ud)
{
	struct site_tariff_copy *c = ud;

	if (c->n < 8) {
		copy(c->id[c->n], sizeof(c->id[0]), row->id);
		copy(c->tariff[c->n], sizeof(c->tariff[0]), row->tariff_id);
		c->kind[c->n] = row->kind;
	}
	c->n++;
	return 0;
}

static void test_site_tariff(void **state)
{
	struct fx *f = *state;
	struct site_tariff_copy c = {0};

	assert_int_equal(store_tariff_put(f->s, "cal", "{}", T0), 0);
	assert_int_equal(store_site_put(f->s, "home-1", SITE_RESIDENTIAL, T0), 0);
	assert_int_equal(store_site_put(f->s, "mall", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_site_tariffs_list(f->s, NULL, collect_site_tariff, &c), 2);
	assert_string_equal(c.id[0], "home-1");
	assert_int_equal(c.kind[0], SITE_RESIDENTIAL);
	assert_string_equal(c.tariff[0], ""); /* none yet */
	assert_int_equal(store_site_tariff_set(f->s, "mall", "cal"), 0);
	assert_int_equal(store_site_tariff_set(f->s, "nowhere", "cal"), -ENOENT);
	assert_int_equal(store_commit(f->s), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_site_tariffs_list(f->s, "mall", collect_site_tariff, &c), 1);
	assert_string_equal(c.tariff[0], "cal");
	assert_int_equal(c.kind[0], SITE_PUBLIC);
	assert_int_equal(store_site_tariffs_list(f->s, "nowhere", collect_site_tariff, &c),
			 -ENOENT);
	/* NULL takes the calendar away */
	assert_int_equal(store_site_tariff_set(f->s, "mall", NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_site_tariffs_list(f->s, "mall", collect_site_tariff, &c), 1);
	assert_string_equal(c.tariff[0], "");
}

struct energy_copy {
	int n;
	int64_t id[16];
	char site[16][64];
	bool stopped[16];
	int64_t meter_start[16];
};

static int collect_energy_session(const struct store_energy_session *row, void *ud)
{
	struct energy_copy *c = ud;

	if (c->n < 16) {
		c->id[c->n] = row->id;
		copy(c->site[c->n], sizeof(c->site[0]), row->site_id);
		c->stopped[c->n] = row->stopped;
		c->meter_start[c->n] = row->meter_start_wh;
	}
	c->n++;
	return 0;
}

static void close_session(struct store *s, int64_t id, int64_t stop_ms, int64_t wh)
{
	struct store_session_close in = {.stop_ms = stop_ms, .meter_stop_wh = wh};

	assert_int_equal(store_session_close(s, id, &in), 0);
}

static void test_energy_sessions_and_samples(void **state)
{
	struct fx *f = *state;
	const int64_t H = 3600000, from = T0 + 24 * H, to = from + 24 * H;
	struct energy_copy c = {0};
	struct sample_copy sc;
	int64_t in_day, before, after, active_old, other_site, too_old;
	int kinds = 0;

	assert_int_equal(store_site_put(f->s, "A", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_site_put(f->s, "B", SITE_SWAP, T0), 0);
	assert_int_equal(store_station_put(f->s, "CP-A", "A", NULL, T0), 0);
	assert_int_equal(store_station_put(f->s, "CP-B", "B", NULL, T0), 0);
	station(f->s, "CP-none"); /* no site: never listed */
	in_day = open_session(f->s, "CP-A", 1, "t1", from + H, 100);
	close_session(f->s, in_day, from + 2 * H, 200);
	before = open_session(f->s, "CP-A", 1, "t2", from - 3 * H, 300); /* crosses midnight */
	close_session(f->s, before, from + H / 2, 400);
	after = open_session(f->s, "CP-A", 1, "t3", to, 500); /* starts at the end: out */
	close_session(f->s, after, to + H, 600);
	close_session(f->s, open_session(f->s, "CP-A", 1, "t4", from - 5 * H, 0), from - H, 1);
	active_old = open_session(f->s, "CP-A", 2, "t5", from - 10 * STORE_ENERGY_LOOKBACK_MS, 7);
	too_old = open_session(f->s, "CP-A", 1, "t6", from - 2 * STORE_ENERGY_LOOKBACK_MS, 8);
	close_session(f->s, too_old, to, 9); /* a stopped session beyond the lookback bound */
	other_site = open_session(f->s, "CP-B", 1, "t7", from + 3 * H, 10);
	open_session(f->s, "CP-none", 1, "t8", from + 3 * H, 11);
	assert_int_equal(store_commit(f->s), 0);

	assert_int_equal(
	    store_energy_sessions_list(f->s, "A", from, to, collect_energy_session, &c), 3);
	/* by id: in_day, before, active_old (opened in that order: before < in_day) */
	assert_int_equal(c.id[0], in_day);
	assert_int_equal(c.id[1], before);
	assert_int_equal(c.id[2], active_old);
	assert_true(c.stopped[0] && c.stopped[1] && !c.stopped[2]);
	assert_int_equal(c.meter_start[1], 300);
	assert_string_equal(c.site[0], "A");
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    store_energy_sessions_list(f->s, NULL, from, to, collect_energy_session, &c), 4);
	for (int i = 0; i < 4; i++)
		kinds += c.id[i] == other_site;
	assert_int_equal(kinds, 1);

	/* energy readings: both registers, no phase, no other measurand, in time order */
	static const struct {
		const char *measurand, *phase, *value;
		int64_t dt;
	} rows[] = {
	    {"Energy.Active.Import.Register", NULL, "150", 30 * 60000},
	    {"Energy.Active.Import.Register", "L1", "50", 30 * 60000},
	    {"Power.Active.Import", NULL, "7000", 30 * 60000},
	    {"Energy.Active.Export.Register", NULL, "0.002", 10 * 60000},
	    {"Energy.Active.Import.Register", NULL, "110", 10 * 60000},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store_sample smp = {
		    .session_id = in_day,
		    .station_id = "CP-A",
		    .evse_id = 1,
		    .ts_ms = from + H + rows[i].dt,
		    .measurand = rows[i].measurand,
		    .phase = rows[i].phase,
		    .unit = strstr(rows[i].value, ".") ? "kWh" : "Wh",
		    .value = rows[i].value,
		};
		assert_int_equal(store_sample_add(f->s, &smp, NULL, 0), 1);
	}
	assert_int_equal(store_commit(f->s), 0);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_session_energy_samples(f->s, in_day, collect_sample, &sc), 0);
	assert_int_equal(sc.n, 3);
	assert_int_equal(sc.ts[0], from + H + 10 * 60000);
	assert_int_equal(sc.ts[2], from + H + 30 * 60000);
	assert_string_equal(sc.value[2], "150");
	assert_int_equal(sc.kind[0] + sc.kind[1],
			 MEAS_ENERGY_EXPORT_REGISTER + MEAS_ENERGY_IMPORT_REGISTER);
	assert_int_equal(sc.kind[2], MEAS_ENERGY_IMPORT_REGISTER);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_session_energy_samples(f->s, before, collect_sample, &sc), 0);
	assert_int_equal(sc.n, 0);
}

/* ------------------------------------------------------------------ planner (0005) */

static int keep_doc(const char *key, int64_t ts_ms, const char *json, void *ud)
{
	char *out = ud;

	snprintf(out, 128, "%s|%lld|%s", key, (long long)ts_ms, json);
	return 0;
}

struct site_session_copy {
	int n;
	int64_t id[4], meter[4], export_wh[4], export_first[4];
};

static int collect_site_session(const struct store_site_session *row, void *ud)
{
	struct site_session_copy *c = ud;

	if (c->n < 4) {
		c->id[c->n] = row->id;
		c->meter[c->n] = row->meter_wh;
		c->export_wh[c->n] = row->export_wh;
		c->export_first[c->n] = row->export_first_wh;
	}
	c->n++;
	return 0;
}

static int count_grid_event(const struct store_grid_event *row, void *ud)
{
	int64_t *ids = ud;

	ids[++ids[0]] = row->id;
	return 0;
}

static void test_planner_ops(void **state)
{
	struct fx *f = *state;
	struct store_site site;
	struct store_needs n = {.source = "ev",
				.departure_ms = T0 + 3600000,
				.energy_wh = 5000,
				.target_soc = -1,
				.capacity_wh = -1,
				.soc = 40,
				.v2g = true,
				.soc_floor = -1,
				.max_charge_w = 11000,
				.max_discharge_w = -1,
				.bidirectional = true,
				.meter_wh = -1,
				.export_wh = -1,
				.updated_ms = T0},
			   got;
	struct store_grid_event ev = {.sites = "S1,S2",
				      .start_ms = T0,
				      .end_ms = T0 + 100,
				      .reduce_w = 5000,
				      .created_ms = T0};
	struct site_session_copy sc = {0};
	int64_t a, b, gid, ids[8] = {0};
	char doc[128];

	assert_int_equal(store_site_put(f->s, "S1", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_site_get(f->s, "S1", &site), 0);
	assert_int_equal(site.kind, SITE_PUBLIC);
	assert_int_equal(site.limit_w, -1);
	assert_int_equal(store_site_set_limit(f->s, "S1", 22500), 0);
	assert_int_equal(store_site_get(f->s, "S1", &site), 0);
	assert_int_equal(site.limit_w, 22500);
	assert_int_equal(store_site_set_limit(f->s, "nowhere", 1), -ENOENT);
	assert_int_equal(store_site_get(f->s, "nowhere", &site), -ENOENT);
	assert_int_equal(store_station_put(f->s, "CP-P", "S1", NULL, T0), 0);
	a = open_session(f->s, "CP-P", 1, "t1", T0, 1000);
	b = open_session(f->s, "CP-P", 2, "t2", T0 + 1, 2000);

	/* needs: replaced, -1 for the unknown numbers */
	n.session_id = a;
	assert_int_equal(store_needs_get(f->s, a, &got), -ENOENT);
	assert_int_equal(store_needs_put(f->s, &n), 0);
	n.energy_wh = 4000;
	assert_int_equal(store_needs_put(f->s, &n), 0);
	assert_int_equal(store_needs_get(f->s, a, &got), 0);
	assert_string_equal(got.source, "ev");
	assert_int_equal(got.energy_wh, 4000);
	assert_int_equal(got.target_soc, -1);
	assert_int_equal(got.soc, 40);
	assert_true(got.v2g && got.bidirectional);
	assert_int_equal(got.max_discharge_w, -1);

	/* active sessions of the site with their registers, first and latest export */
	assert_int_equal(store_session_export(f->s, a, 300, T0 + 10), 0);
	assert_int_equal(store_session_export(f->s, a, 200, T0 + 5), 0);
	assert_int_equal(store_session_export(f->s, a, 500, T0 + 20), 0);
	assert_int_equal(store_session_meter_last(f->s, b, 2500, T0 + 30), 0);
	assert_int_equal(store_site_sessions(f->s, "S1", collect_site_session, &sc), 0);
	assert_int_equal(sc.n, 2);
	assert_int_equal(sc.id[0], a);
	assert_int_equal(sc.meter[0], 1000); /* no reading: the start */
	assert_int_equal(sc.export_first[0], 200);
	assert_int_equal(sc.export_wh[0], 500);
	assert_int_equal(sc.meter[1], 2500); /* the latest register kept on the session */
	assert_int_equal(sc.export_wh[1], -1);

	/* grid events ending after from, by start; filtered on one site of the list */
	assert_int_equal(store_grid_event_add(f->s, &ev, &gid), 0);
	assert_true(gid > 0);
	ev.sites = "S22";
	ev.start_ms = T0 - 10;
	assert_int_equal(store_grid_event_add(f->s, &ev, NULL), 0);
	assert_int_equal(store_grid_events_list(f->s, NULL, T0, count_grid_event, ids), 0);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[2], gid);
	ids[0] = 0;
	assert_int_equal(store_grid_events_list(f->s, "S2", T0, count_grid_event, ids), 0);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], gid);
	ids[0] = 0;
	assert_int_equal(store_grid_events_list(f->s, NULL, T0 + 100, count_grid_event, ids), 0);
	assert_int_equal(ids[0], 0);

	/* documents: replaced, -ENOENT when none */
	assert_int_equal(store_site_plan_get(f->s, "S1", keep_doc, doc), -ENOENT);
	assert_int_equal(store_site_plan_put(f->s, "S1", T0, "{\"a\":1}"), 0);
	assert_int_equal(store_site_plan_put(f->s, "S1", T0 + 1, "{\"a\":2}"), 0);
	assert_int_equal(store_site_plan_get(f->s, "S1", keep_doc, doc), 0);
	assert_string_equal(doc, "S1|1795000000001|{\"a\":2}");
	assert_int_equal(store_session_plan_put(f->s, a, "S1", T0 + 2, "[]"), 0);
	assert_int_equal(store_session_plan_get(f->s, a, keep_doc, doc), 0);
	assert_string_equal(doc, "S1|1795000000002|[]");
	assert_int_equal(store_session_plan_get(f->s, b, keep_doc, doc), -ENOENT);
	assert_int_equal(store_capability_put(f->s, "V/M", "{\"v2g\":true}", T0 + 3), 0);
	assert_int_equal(store_capability_get(f->s, "V/M", keep_doc, doc), 0);
	assert_string_equal(doc, "V/M|1795000000003|{\"v2g\":true}");
	assert_int_equal(store_capability_get(f->s, "X/Y", keep_doc, doc), -ENOENT);
	assert_int_equal(store_commit(f->s), 0);
}

/* ------------------------------------------------------------------ site forecasts (0027) */

/* A site's PV forecast document: -ENOENT when none, put replaces, "" deletes, gone with its
 * site. */
static void test_site_forecast(void **state)
{
	struct fx *f = *state;
	char doc[512] = "";

	assert_int_equal(store_site_put(f->s, "PV1", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_site_forecast_get(f->s, "PV1", keep_doc, doc), -ENOENT);
	assert_int_equal(store_site_forecast_put(f->s, "PV1", "{\"pv_w\":[1]}", T0), 0);
	assert_int_equal(store_site_forecast_put(f->s, "PV1", "{\"pv_w\":[2,3]}", T0 + 5), 0);
	assert_int_equal(store_site_forecast_get(f->s, "PV1", keep_doc, doc), 0);
	assert_string_equal(doc, "PV1|1795000000005|{\"pv_w\":[2,3]}");
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_site_forecast_get(f->s, "PV1", keep_doc, doc), 0);
	assert_string_equal(doc, "PV1|1795000000005|{\"pv_w\":[2,3]}");
	assert_int_equal(store_site_forecast_put(f->s, "PV1", "", T0 + 6), 0);
	assert_int_equal(store_site_forecast_get(f->s, "PV1", keep_doc, doc), -ENOENT);
	assert_int_equal(store_site_forecast_put(f->s, "PV1", NULL, T0 + 6), 0); /* none: fine */
	assert_int_equal(store_site_forecast_put(f->s, "PV1", "{\"pv_w\":[4]}", T0 + 7), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_site_delete(f->s, "PV1"), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_site_forecast_get(f->s, "PV1", keep_doc, doc), -ENOENT);
}

/* ------------------------------------------------------------------ site plan slots (0028) */

static int keep_plan_slot(const struct store_plan_slot *row, void *ud)
{
	char *out = ud;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%lld:%lld/%lld/%lld;", (long long)row->slot_ms,
		 (long long)row->planned_w, (long long)row->import_w, (long long)row->limit_w);
	return 0;
}

static int stop_plan_slot(const struct store_plan_slot *row, void *ud)
{
	(void)row;
	(void)ud;
	return -EINTR;
}

/* The planned power of a site's slots: put replaces a slot's row, list gives a range of one
 * site by slot, a put prunes that site's rows more than 8 days before its slot. */
static void test_site_plan_slots(void **state)
{
	struct fx *f = *state;
	const int64_t q = STORE_PLAN_SLOT_MS, s0 = T0 - T0 % STORE_PLAN_SLOT_MS;
	const int64_t keep = STORE_PLAN_SLOTS_KEEP_MS;
	char out[512] = "", want[512];

	assert_int_equal(keep % q, 0);
	assert_int_equal(store_site_plan_slots_list(f->s, "P1", 0, INT64_MAX, keep_plan_slot, out),
			 0);
	assert_int_equal(store_site_plan_slots_put(f->s, "P1", s0 + 1, 1, 1, 1), -EINVAL);
	assert_int_equal(store_site_plan_slots_put(f->s, "P1", s0 + 2 * q, 3000, 2500, -1), 0);
	assert_int_equal(store_site_plan_slots_put(f->s, "P1", s0, 1000, 900, 11000), 0);
	assert_int_equal(store_site_plan_slots_put(f->s, "P1", s0 + q, 2000, 1800, 11000), 0);
	assert_int_equal(store_site_plan_slots_put(f->s, "P1", s0 + q, 2200, 0, 7000), 0);
	assert_int_equal(store_site_plan_slots_put(f->s, "P2", s0 + q, 5, 5, 5), 0);
	assert_int_equal(store_commit(f->s), 0);

	/* [s0 + q, s0 + 3q): the overwritten row, then the one put first; not P2's */
	assert_int_equal(
	    store_site_plan_slots_list(f->s, "P1", s0 + q, s0 + 3 * q, keep_plan_slot, out), 2);
	snprintf(want, sizeof(want), "%lld:2200/0/7000;%lld:3000/2500/-1;", (long long)(s0 + q),
		 (long long)(s0 + 2 * q));
	assert_string_equal(out, want);
	out[0] = '\0';
	assert_int_equal(store_site_plan_slots_list(f->s, "P1", s0, s0 + q, keep_plan_slot, out),
			 1);
	snprintf(want, sizeof(want), "%lld:1000/900/11000;", (long long)s0);
	assert_string_equal(out, want);
	assert_int_equal(
	    store_site_plan_slots_list(f->s, "P1", s0, s0 + 3 * q, stop_plan_slot, NULL), -EINTR);

	/* a put 8 days after s0 keeps s0 (not older than 8 days); one a slot later prunes it,
	 * and only at its own site */
	assert_int_equal(store_site_plan_slots_put(f->s, "P1", s0 + keep, 1, 1, 1), 0);
	out[0] = '\0';
	assert_int_equal(store_site_plan_slots_list(f->s, "P1", 0, INT64_MAX, keep_plan_slot, out),
			 4);
	assert_int_equal(store_site_plan_slots_put(f->s, "P1", s0 + keep + q, 1, 1, 1), 0);
	assert_int_equal(store_commit(f->s), 0);
	out[0] = '\0';
	assert_int_equal(store_site_plan_slots_list(f->s, "P1", 0, INT64_MAX, keep_plan_slot, out),
			 4);
	snprintf(want, sizeof(want), "%lld:2200/0/7000;%lld:3000/2500/-1;%lld:1/1/1;%lld:1/1/1;",
		 (long long)(s0 + q), (long long)(s0 + 2 * q), (long long)(s0 + keep),
		 (long long)(s0 + keep + q));
	assert_string_equal(out, want);
	assert_int_equal(store_site_plan_slots_list(f->s, "P2", 0, INT64_MAX, stop_plan_slot, NULL),
			 -EINTR);
}

/* ------------------------------------------------------------ station external limits (0029) */

static int keep_ext_limit(const struct store_ext_limit *row, void *ud)
{
	char *out = ud;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s/%d:%lld@%lld;", row->station_id, row->evse_id,
		 (long long)row->limit_w, (long long)row->until_ms);
	return 0;
}

static int stop_ext_limit(const struct store_ext_limit *row, void *ud)
{
	(void)row;
	(void)ud;
	return -EINTR;
}

/* A station's external limits: a put replaces the (station, EVSE) row, limit_w < 0 deletes it;
 * a site's list gives the rows of its stations (by their site now) still in force; deleting a
 * station deletes its rows (there is no reference to cascade). */
static void test_station_ext_limits(void **state)
{
	struct fx *f = *state;
	char out[512] = "", want[512];

	assert_int_equal(store_site_put(f->s, "SA", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_site_put(f->s, "SB", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_station_put(f->s, "X1", "SA", NULL, T0), 0);
	assert_int_equal(store_station_put(f->s, "X2", "SA", NULL, T0), 0);
	assert_int_equal(store_station_put(f->s, "Y1", "SB", NULL, T0), 0);
	assert_int_equal(store_site_ext_limits(f->s, "SA", T0, keep_ext_limit, out), 0);
	assert_int_equal(store_station_ext_limit_put(f->s, "X1", -1, 1000, 0, T0), -EINVAL);
	assert_int_equal(store_station_ext_limit_put(f->s, "X1", 0, 5000, 0, T0), 0);
	assert_int_equal(store_station_ext_limit_put(f->s, "X1", 2, 2000, T0 + 1000, T0), 0);
	assert_int_equal(store_station_ext_limit_put(f->s, "X2", 1, 3000, T0, T0), 0); /* ended */
	assert_int_equal(store_station_ext_limit_put(f->s, "Y1", 0, 1000, 0, T0), 0);
	assert_int_equal(store_station_ext_limit_put(f->s, "X1", 0, 4000, 0, T0 + 1), 0);
	assert_int_equal(store_commit(f->s), 0);

	/* SA: X1's two rows, the replaced one at its new limit; not X2's ended one, not Y1's */
	assert_int_equal(store_site_ext_limits(f->s, "SA", T0, keep_ext_limit, out), 2);
	snprintf(want, sizeof(want), "X1/0:4000@0;X1/2:2000@%lld;", (long long)(T0 + 1000));
	assert_string_equal(out, want);
	out[0] = '\0';
	assert_int_equal(store_site_ext_limits(f->s, "SA", T0 + 1000, keep_ext_limit, out), 1);
	assert_string_equal(out, "X1/0:4000@0;");
	out[0] = '\0';
	assert_int_equal(store_site_ext_limits(f->s, "SB", T0, keep_ext_limit, out), 1);
	assert_string_equal(out, "Y1/0:1000@0;");
	assert_int_equal(store_site_ext_limits(f->s, "SA", T0, stop_ext_limit, NULL), -EINTR);
	assert_int_equal(store_site_ext_limits(f->s, "NOPE", T0, stop_ext_limit, NULL), 0);

	/* cleared (twice: the second finds nothing and is no error) */
	assert_int_equal(store_station_ext_limit_put(f->s, "X1", 2, -1, 0, T0 + 2), 0);
	assert_int_equal(store_station_ext_limit_put(f->s, "X1", 2, -1, 0, T0 + 2), 0);
	assert_int_equal(store_commit(f->s), 0);
	out[0] = '\0';
	assert_int_equal(store_site_ext_limits(f->s, "SA", T0, keep_ext_limit, out), 1);
	assert_string_equal(out, "X1/0:4000@0;");

	/* a station's limits follow it to its new site, and go when it is deleted */
	assert_int_equal(store_station_put(f->s, "X1", "SB", NULL, T0 + 3), 0);
	out[0] = '\0';
	assert_int_equal(store_site_ext_limits(f->s, "SB", T0, keep_ext_limit, out), 2);
	assert_string_equal(out, "X1/0:4000@0;Y1/0:1000@0;");
	assert_int_equal(store_station_delete(f->s, "X1"), 0);
	assert_int_equal(store_station_put(f->s, "X1", "SB", NULL, T0 + 4), 0);
	assert_int_equal(store_commit(f->s), 0);
	out[0] = '\0';
	assert_int_equal(store_site_ext_limits(f->s, "SB", T0, keep_ext_limit, out), 1);
	assert_string_equal(out, "Y1/0:1000@0;");
}

/* ------------------------------------------------------------------ model capabilities (0016) */

static int keep_mcaps(const struct store_model_caps *row, void *ud)
{
	char *out = ud;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s|%s|%s|%s|%s|%lld;", row->vendor, row->model,
		 row->learned ? row->learned : "(null)", row->override ? row->override : "(null)",
		 row->reason ? row->reason : "(null)", (long long)row->updated_ms);
	return 0;
}

/* A record per (vendor, model): put replaces, get finds one or -ENOENT, list orders by key, and
 * a station's record is found through its last boot's vendor and model (NULLs when its model
 * has none, "" when its boot named neither). */
static void test_model_caps(void **state)
{
	struct fx *f = *state;
	struct store_boot b = {
	    .protocol = "ocpp1.6", .vendor = "ACME", .model = "M1", .now_ms = T0};
	struct store_model_caps c = {.vendor = "ACME",
				     .model = "M1",
				     .learned = "{\"amps\":true}",
				     .override = "{}",
				     .reason = "CP-1 said no",
				     .updated_ms = T0 + 1};
	char out[512] = "";

	station(f->s, "CP-1");
	station(f->s, "CP-2");
	station(f->s, "CP-3");
	assert_int_equal(store_station_boot(f->s, "CP-1", &b), 0);
	assert_int_equal(store_station_boot(f->s, "CP-2", &b), 0);
	b.vendor = b.model = NULL;
	assert_int_equal(store_station_boot(f->s, "CP-3", &b), 0);
	assert_int_equal(store_model_caps_get(f->s, "ACME", "M1", keep_mcaps, out), -ENOENT);
	assert_int_equal(store_station_model_caps(f->s, "CP-2", keep_mcaps, out), 0);
	assert_string_equal(out, "ACME|M1|(null)|(null)|(null)|0;");
	assert_int_equal(store_model_caps_put(f->s, &c), 0);
	c.model = "M0";
	c.learned = "{}";
	c.override = "{\"max_periods\":5}";
	c.reason = "";
	assert_int_equal(store_model_caps_put(f->s, &c), 0);
	out[0] = '\0';
	assert_int_equal(store_model_caps_get(f->s, "ACME", "M1", keep_mcaps, out), 0);
	assert_string_equal(out, "ACME|M1|{\"amps\":true}|{}|CP-1 said no|1795000000001;");
	out[0] = '\0';
	assert_int_equal(store_station_model_caps(f->s, "CP-2", keep_mcaps, out), 0);
	assert_string_equal(out, "ACME|M1|{\"amps\":true}|{}|CP-1 said no|1795000000001;");
	out[0] = '\0';
	assert_int_equal(store_station_model_caps(f->s, "CP-3", keep_mcaps, out), 0);
	assert_string_equal(out, "||(null)|(null)|(null)|0;");
	assert_int_equal(store_station_model_caps(f->s, "CP-9", keep_mcaps, out), -ENOENT);
	/* replace */
	c.model = "M1";
	c.override = "{\"amps\":false}";
	c.updated_ms = T0 + 2;
	assert_int_equal(store_model_caps_put(f->s, &c), 0);
	out[0] = '\0';
	assert_int_equal(store_model_caps_list(f->s, keep_mcaps, out), 2);
	assert_string_equal(out, "ACME|M0|{}|{\"max_periods\":5}||1795000000001;"
				 "ACME|M1|{}|{\"amps\":false}||1795000000002;");
	assert_int_equal(store_commit(f->s), 0);
}

/* ------------------------------------------------------------------ dash (0007) */

struct id_list {
	int n;
	char id[8][160];
};

static int collect_station_id(const struct store_station_row *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		copy(c->id[c->n], sizeof(c->id[0]), row->id);
	c->n++;
	return 0;
}

static int collect_session_id(const struct store_session_row *row, void *ud)
{
	int64_t *ids = ud;

	ids[++ids[0]] = row->id;
	return 0;
}

static int collect_history(const struct store_history_row *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s:%s", row->source, row->text);
	c->n++;
	return 0;
}

static int collect_connector_station(const struct store_connector_row *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s/%d", row->station_id, row->evse_id);
	c->n++;
	return 0;
}

static void test_dash_queries(void **state)
{
	struct fx *f = *state;
	struct store_station_query q = {
	    .site_kind = -1, .registration = -1, .online = -1, .limit = 10};
	struct store_session_query sq = {.active = -1, .limit = 10};
	struct store_sample_cursor cur = {INT64_MIN, 0};
	struct store_summary sum;
	struct id_list c = {0};
	int64_t total = -1, ids[8] = {0}, s1, s2, s3;
	struct sample_copy smp = {0};

	assert_int_equal(store_site_put(f->s, "H", SITE_RESIDENTIAL, T0), 0);
	assert_int_equal(store_station_put(f->s, "AB-1", "H", NULL, T0), 0);
	station(f->s, "AB-2");
	station(f->s, "AC-1");
	assert_int_equal(store_station_create(f->s, "ZZ", REG_PENDING, T0), 0);
	assert_int_equal(store_station_seen(f->s, "AB-2", true, NULL, T0 + 5), 0);
	assert_int_equal(store_station_seen(f->s, "AC-1", false, NULL, T0 + 9), 0);
	assert_int_equal(
	    store_connector_status(f->s, "AC-1", 1, 1, "Faulted", NULL, NULL, NULL, T0), 0);
	assert_int_equal(
	    store_connector_status(f->s, "AB-2", 1, 1, "Available", NULL, NULL, NULL, T0), 0);
	assert_int_equal(
	    store_connector_status(f->s, "AB-2", 2, 1, "Faulted", NULL, NULL, NULL, T0), 0);

	/* a prefix, with the total */
	q.id_prefix = "AB";
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, &total), 2);
	assert_int_equal(total, 2);
	assert_string_equal(c.id[0], "AB-1");
	/* keyset after an id, descending */
	memset(&c, 0, sizeof(c));
	q.id_prefix = NULL;
	q.desc = true;
	q.after_id = "AC-1";
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, NULL), 2);
	assert_string_equal(c.id[0], "AB-2");
	assert_string_equal(c.id[1], "AB-1");
	/* by last contact: never seen first ascending, last descending */
	memset(&c, 0, sizeof(c));
	q.after_id = NULL;
	q.desc = false;
	q.sort = STORE_SORT_LAST_SEEN;
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, &total), 4);
	assert_string_equal(c.id[0], "AB-1");
	assert_string_equal(c.id[1], "ZZ");
	assert_string_equal(c.id[2], "AB-2");
	assert_string_equal(c.id[3], "AC-1");
	memset(&c, 0, sizeof(c));
	q.desc = true;
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, NULL), 4);
	assert_string_equal(c.id[0], "AC-1");
	assert_string_equal(c.id[3], "AB-1");
	/* filters: a connector status, online, registration, a site's kind; paging */
	memset(&c, 0, sizeof(c));
	q = (struct store_station_query){.site_kind = -1,
					 .registration = -1,
					 .online = 1,
					 .connector_status = "Faulted",
					 .limit = 10};
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, &total), 1);
	assert_string_equal(c.id[0], "AB-2");
	q = (struct store_station_query){
	    .site_kind = -1, .registration = REG_PENDING, .online = -1, .limit = 10};
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, NULL), 1);
	q = (struct store_station_query){.site_kind = SITE_RESIDENTIAL,
					 .registration = -1,
					 .online = -1,
					 .limit = 1,
					 .offset = 0};
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, &total), 1);
	assert_int_equal(total, 1);
	q = (struct store_station_query){
	    .site_kind = -1, .registration = -1, .online = -1, .limit = 1, .offset = 3};
	assert_int_equal(store_stations_query(f->s, &q, collect_station_id, &c, &total), 1);
	assert_int_equal(total, 4);

	/* sessions: newest first, filters, keyset, a capped total */
	s1 = open_session(f->s, "AB-1", 1, "tagA", T0, 100);
	s2 = open_session(f->s, "AB-2", 1, "tagB", T0 + 1000, 200);
	s3 = open_session(f->s, "AB-2", 2, "tagA", T0 + 2000, 300);
	close_session(f->s, s2, T0 + 1500, 260);
	assert_int_equal(store_sessions_query(f->s, &sq, collect_session_id, ids, 100, &total), 3);
	assert_int_equal(total, 3);
	assert_int_equal(ids[1], s3);
	assert_int_equal(ids[3], s1);
	ids[0] = 0;
	assert_int_equal(store_sessions_query(f->s, &sq, collect_session_id, ids, 1, &total), 3);
	assert_int_equal(total, 2); /* total_max + 1: more */
	ids[0] = 0;
	sq.id_tag = "tagA";
	sq.before_id = s3;
	assert_int_equal(store_sessions_query(f->s, &sq, collect_session_id, ids, 100, &total), 1);
	assert_int_equal(ids[1], s1);
	assert_int_equal(total, 2);
	ids[0] = 0;
	sq = (struct store_session_query){.site_id = "H", .active = 1, .limit = 10};
	assert_int_equal(store_sessions_query(f->s, &sq, collect_session_id, ids, 100, NULL), 1);
	assert_int_equal(ids[1], s1);
	ids[0] = 0;
	sq = (struct store_session_query){
	    .active = 0, .from_ms = T0 + 1, .to_ms = T0 + 2000, .limit = 10};
	assert_int_equal(store_sessions_query(f->s, &sq, collect_session_id, ids, 100, NULL), 1);
	assert_int_equal(ids[1], s2);

	/* readings by page: the cursor moves on, same times are ordered by arrival */
	for (int i = 0; i < 3; i++) {
		struct store_sample in = {.session_id = s1,
					  .station_id = "AB-1",
					  .evse_id = 1,
					  .ts_ms = T0 + (i < 2 ? 10 : 5),
					  .measurand = i == 1 ? "Power.Active.Import"
							      : "Energy.Active.Import.Register",
					  .value = i == 0   ? "110"
						   : i == 1 ? "7000"
							    : "105"};

		assert_int_equal(store_sample_add(f->s, &in, NULL, 0), 1);
	}
	assert_int_equal(store_samples_page(f->s, s1, NULL, 2, &cur, collect_sample, &smp), 2);
	assert_string_equal(smp.value[0], "105");
	assert_string_equal(smp.value[1], "110");
	assert_int_equal(store_samples_page(f->s, s1, NULL, 2, &cur, collect_sample, &smp), 1);
	assert_string_equal(smp.value[2], "7000");
	assert_int_equal(store_samples_page(f->s, s1, NULL, 2, &cur, collect_sample, &smp), 0);
	memset(&smp, 0, sizeof(smp));
	cur = (struct store_sample_cursor){INT64_MIN, 0};
	assert_int_equal(
	    store_samples_page(f->s, s1, "Power.Active.Import", 5, &cur, collect_sample, &smp), 1);

	/* history: status events and notices, newest first */
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    store_station_event(f->s, "AB-2", STATION_EVENT_FIRMWARE, "Downloaded", T0 + 1), 0);
	assert_int_equal(store_notice_add(f->s, "AB-2", "SecurityEvent", T0 + 2, "{}"), 0);
	assert_int_equal(store_station_history(f->s, "AB-2", 10, 0, collect_history, &c), 2);
	assert_string_equal(c.id[0], "notice:{}");
	assert_string_equal(c.id[1], "status:Downloaded");
	assert_int_equal(store_station_history(f->s, "AB-2", 10, 1, collect_history, &c), 1);

	/* connectors in a status across stations */
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    store_connectors_query(f->s, "Faulted", 10, 0, collect_connector_station, &c), 2);
	assert_string_equal(c.id[0], "AB-2/2");
	assert_string_equal(c.id[1], "AC-1/1");
	assert_int_equal(store_connectors_query(f->s, NULL, 1, 2, collect_connector_station, &c),
			 1);

	/* summary */
	assert_int_equal(store_session_meter_last(f->s, s3, 350, T0 + 3000), 0);
	assert_int_equal(store_summary(f->s, T0 + 1, &sum), 0);
	assert_int_equal(sum.stations, 4);
	assert_int_equal(sum.online, 1);
	assert_int_equal(sum.pending, 1);
	assert_int_equal(sum.by_kind[SITE_RESIDENTIAL], 1);
	assert_int_equal(sum.by_kind[_SITE_KIND_MAX], 3);
	assert_int_equal(sum.online_by_kind[_SITE_KIND_MAX], 1);
	assert_int_equal(sum.by_reg[REG_ACCEPTED], 3);
	assert_int_equal(sum.sessions_active, 2);
	assert_int_equal(sum.sessions_today, 2);
	assert_int_equal(sum.energy_today_wh, 60 + 50);
	assert_int_equal(sum.n_status, 2);
	assert_string_equal(sum.connectors[0].status, "Faulted");
	assert_int_equal(sum.connectors[0].count, 2);
	assert_int_equal(store_commit(f->s), 0);
}

/* ------------------------------------------------------------------ security (0008) */

static void test_station_security(void **state)
{
	struct fx *f = *state;
	struct store_station_security sec;
	int64_t n = -1;

	station(f->s, "CP-S");
	assert_int_equal(store_station_create(f->s, "CP-P", REG_PENDING, T0), 0);
	assert_int_equal(store_station_security_get(f->s, "CP-S", &sec), 0);
	assert_int_equal(sec.profile, 0);
	assert_string_equal(sec.password_hash, "");
	assert_int_equal(store_station_security_set(f->s, "CP-S", 3, "h1", "CP-S", "ab12"), 0);
	assert_int_equal(store_station_security_get(f->s, "CP-S", &sec), 0);
	assert_int_equal(sec.profile, 3);
	assert_string_equal(sec.password_hash, "h1");
	assert_string_equal(sec.cert_cn, "CP-S");
	assert_string_equal(sec.cert_fp, "ab12");
	/* -1 and NULL keep, "" clears */
	assert_int_equal(store_station_security_set(f->s, "CP-S", -1, NULL, "", NULL), 0);
	assert_int_equal(store_station_security_get(f->s, "CP-S", &sec), 0);
	assert_int_equal(sec.profile, 3);
	assert_string_equal(sec.password_hash, "h1");
	assert_string_equal(sec.cert_cn, "");
	assert_string_equal(sec.cert_fp, "ab12");
	assert_int_equal(store_station_security_set(f->s, "CP-S", 4, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(store_station_security_set(f->s, "nope", 1, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_station_security_get(f->s, "nope", &sec), -ENOENT);
	assert_int_equal(store_stations_count_registration(f->s, REG_PENDING, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_stations_count_registration(f->s, REG_REJECTED, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_commit(f->s), 0);
}

/* ------------------------------------------------------------------ sites (0011) */

struct site_row_copy {
	int n;
	char id[4][32], name[4][32];
	int local_list[4], heartbeat_s[4];
	int64_t stations[4], limit_w[4];
	double soh_flag[4], promised[4];
};

static int collect_site_row(const struct store_site_row *row, void *ud)
{
	struct site_row_copy *c = ud;

	if (c->n < 4) {
		copy(c->id[c->n], sizeof(c->id[0]), row->rec.id);
		copy(c->name[c->n], sizeof(c->name[0]), row->rec.name);
		c->local_list[c->n] = row->rec.local_list;
		c->heartbeat_s[c->n] = row->rec.heartbeat_s;
		c->stations[c->n] = row->stations;
		c->limit_w[c->n] = row->limit_w;
		c->soh_flag[c->n] = row->rec.swap_soh_flag_below;
		c->promised[c->n] = row->rec.swap_promised_soc;
	}
	c->n++;
	return 0;
}

static int collect_resv(const struct store_reservation *row, void *ud)
{
	int64_t *ids = ud;

	ids[++ids[0]] = row->id;
	return 0;
}

static int collect_log(const struct store_log_row *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s:%s@%lld", row->kind, row->state,
			 (long long)(row->ts_ms - T0));
	c->n++;
	return 0;
}

static int collect_entry(const struct store_list_entry *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s:%d:%s", row->token, row->status,
			 row->parent);
	c->n++;
	return 0;
}

static void test_sites_reservations_history_lists(void **state)
{
	struct fx *f = *state;
	struct store_site_rec rec = {.id = "R1",
				     .name = "Farm",
				     .kind = SITE_RURAL,
				     .heartbeat_s = 0,
				     .local_list = 1,
				     .local_list_max = 0,
				     .reservations = -1,
				     .reservation_max_s = 0};
	struct store_reservation rv = {.id = 7,
				       .evse_id = 1,
				       .expiry_ms = T0 + 100,
				       .status = "Requested",
				       .created_ms = T0,
				       .updated_ms = T0},
				 got;
	struct store_token tok = {.status = AUTH_ACCEPTED};
	struct store_list_entry e[3] = {{.token = "A", .status = AUTH_ACCEPTED},
					{.token = "B", .status = AUTH_BLOCKED},
					{.token = "C", .status = AUTH_ACCEPTED, .parent = "P"}};
	struct site_row_copy sc = {0};
	struct id_list c = {0};
	int64_t ids[8] = {0}, v = 0, late = -1;

	assert_int_equal(store_site_save(f->s, &rec, true, T0), 0);
	assert_int_equal(store_site_save(f->s, &rec, true, T0), -EEXIST);
	rec.id = "none";
	assert_int_equal(store_site_save(f->s, &rec, false, T0), -ENOENT);
	rec.id = "R1";
	rec.heartbeat_s = 3600;
	rec.local_list = -1;
	rec.swap_soh_flag_below = 82.5; /* a swap site's thresholds (0025) */
	assert_int_equal(store_site_save(f->s, &rec, false, T0), 0);
	assert_int_equal(store_site_put(f->s, "A0", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_site_set_limit(f->s, "A0", 50000), 0);
	assert_int_equal(store_station_put(f->s, "CP-R", "R1", NULL, T0), 0);
	assert_int_equal(store_sites_list(f->s, NULL, collect_site_row, &sc), 2);
	assert_string_equal(sc.id[0], "A0");
	assert_int_equal(sc.limit_w[0], 50000);
	assert_int_equal(sc.local_list[0], -1);
	assert_string_equal(sc.name[1], "Farm");
	assert_int_equal(sc.heartbeat_s[1], 3600);
	assert_int_equal(sc.local_list[1], -1);
	assert_int_equal(sc.stations[1], 1);
	assert_true(sc.soh_flag[0] == 0 && sc.promised[0] == 0); /* the defaults */
	assert_true(sc.soh_flag[1] == 82.5 && sc.promised[1] == 0);
	rec.swap_soh_flag_below = 0;
	rec.swap_promised_soc = 95;
	assert_int_equal(store_site_save(f->s, &rec, false, T0), 0);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_sites_list(f->s, "R1", collect_site_row, &sc), 1);
	assert_true(sc.soh_flag[0] == 0 && sc.promised[0] == 95);
	rec.swap_promised_soc = 0;
	assert_int_equal(store_sites_list(f->s, "zz", collect_site_row, &sc), -ENOENT);
	assert_int_equal(store_site_delete(f->s, "R1"), -EBUSY);
	assert_int_equal(store_site_delete(f->s, "zz"), -ENOENT);
	assert_int_equal(store_site_delete(f->s, "A0"), 0);
	assert_int_equal(store_site_delete(f->s, "A0"), -ENOENT);

	/* reservations: replaced by id, open ones, due ones by expiry */
	copy(rv.station_id, sizeof(rv.station_id), "CP-R");
	copy(rv.id_tag, sizeof(rv.id_tag), "T1");
	assert_int_equal(store_reservation_put(f->s, &rv), 0);
	rv.id = 8;
	rv.expiry_ms = T0 + 50;
	assert_int_equal(store_reservation_put(f->s, &rv), 0);
	copy(rv.status, sizeof(rv.status), "Bogus");
	assert_int_equal(store_reservation_put(f->s, &rv), -EINVAL);
	copy(rv.status, sizeof(rv.status), "Used");
	rv.session_id = 0;
	rv.id = 7;
	assert_int_equal(store_reservation_put(f->s, &rv), 0);
	assert_int_equal(store_reservation_get(f->s, 7, &got), 0);
	assert_string_equal(got.status, "Used");
	assert_int_equal(got.session_id, 0);
	assert_int_equal(store_reservation_get(f->s, 9, &got), -ENOENT);
	assert_int_equal(store_reservations_list(f->s, NULL, false, 10, collect_resv, ids), 2);
	assert_int_equal(ids[1], 8);
	ids[0] = 0;
	assert_int_equal(store_reservations_list(f->s, "CP-R", true, 10, collect_resv, ids), 1);
	assert_int_equal(ids[1], 8);
	ids[0] = 0;
	assert_int_equal(store_reservations_due(f->s, T0 + 50, collect_resv, ids), 1);
	assert_int_equal(store_reservations_due(f->s, T0 + 49, collect_resv, ids), 0);

	/* history: the state at from, then the window in time order */
	struct store_log_row lr[] = {{"link", "online", 0, 0, T0},
				     {"status", "Available", 1, 1, T0 + 1},
				     {"link", "offline", 0, 0, T0 + 5},
				     {"link", "online", 0, 0, T0 + 20},
				     {"status", "Charging", 1, 1, T0 + 30}};
	for (size_t i = 0; i < sizeof(lr) / sizeof(lr[0]); i++)
		assert_int_equal(store_station_log_add(f->s, "CP-R", &lr[i]), 0);
	assert_int_equal(store_station_log_list(f->s, "CP-R", T0 + 10, T0 + 30, collect_log, &c),
			 3);
	assert_string_equal(c.id[0], "status:Available@1");
	assert_string_equal(c.id[1], "link:offline@5");
	assert_string_equal(c.id[2], "link:online@20");
	/* rows of one moment keep the order they were written in */
	struct store_log_row same[] = {{"status", "Faulted", 1, 1, T0 + 40},
				       {"status", "Available", 1, 1, T0 + 40},
				       {"link", "offline", 0, 0, T0 + 40}};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		assert_int_equal(store_station_log_add(f->s, "CP-R", &same[i]), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    store_station_log_list(f->s, "CP-R", T0 + 40, T0 + 41, collect_log, &c),
	    5); /* the state at T0 + 40 (link online, status Charging), then the three */
	assert_string_equal(c.id[2], "status:Faulted@40");
	assert_string_equal(c.id[3], "status:Available@40");
	assert_string_equal(c.id[4], "link:offline@40");

	/* late sessions: recorded long after their start, or with offline events */
	open_session(f->s, "CP-R", 1, "t", T0 - 10 * 60000, 0); /* now_ms T0: 10 min late */
	open_session(f->s, "CP-R", 1, "u", T0 - 1000, 0);
	assert_int_equal(store_sessions_late(f->s, "CP-R", T0 - 3600000, T0, 60000, &late), 0);
	assert_int_equal(late, 1);

	/* tokens of a site (its own first), the local list saved full then by difference */
	copy(tok.token, sizeof(tok.token), "OWN");
	copy(tok.site_id, sizeof(tok.site_id), "R1");
	assert_int_equal(store_token_put(f->s, &tok), 0);
	copy(tok.token, sizeof(tok.token), "ANY");
	tok.site_id[0] = '\0';
	assert_int_equal(store_token_put(f->s, &tok), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_site_tokens(f->s, "R1", true, 10, collect_entry, &c), 2);
	assert_string_equal(c.id[0], "OWN:0:");
	assert_int_equal(store_site_tokens(f->s, "R1", false, 10, collect_entry, &c), 1);
	assert_int_equal(store_local_list_version(f->s, "CP-R", &v), -ENOENT);
	assert_int_equal(store_local_list_save(f->s, "CP-R", 1, true, e, 3, T0), 0);
	e[0].status = -1; /* removed */
	e[1].status = AUTH_ACCEPTED;
	assert_int_equal(store_local_list_save(f->s, "CP-R", 2, false, e, 2, T0 + 1), 0);
	assert_int_equal(store_local_list_version(f->s, "CP-R", &v), 0);
	assert_int_equal(v, 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_local_list_entries(f->s, "CP-R", collect_entry, &c), 2);
	assert_string_equal(c.id[0], "B:0:");
	assert_string_equal(c.id[1], "C:0:P");
	assert_int_equal(store_local_list_save(f->s, "CP-R", 3, true, e + 2, 1, T0 + 2), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_local_list_entries(f->s, "CP-R", collect_entry, &c), 1);
	/* a token named twice in one update ends as its last entry says (set then removed,
	 * removed then set); texts that need quoting */
	{
		struct store_list_entry t[5] = {
		    {.token = "D", .status = AUTH_BLOCKED},
		    {.token = "C", .status = -1},
		    {.token = "Q\"{,}\\", .status = AUTH_ACCEPTED, .parent = "P\"Q"},
		    {.token = "D", .status = -1},
		    {.token = "C", .status = AUTH_BLOCKED}};

		assert_int_equal(store_local_list_save(f->s, "CP-R", 4, false, t, 5, T0 + 3), 0);
		memset(&c, 0, sizeof(c));
		assert_int_equal(store_local_list_entries(f->s, "CP-R", collect_entry, &c), 2);
		assert_string_equal(c.id[0], "C:1:");
		assert_string_equal(c.id[1], "Q\"{,}\\:0:P\"Q");
	}
	assert_int_equal(store_commit(f->s), 0);
}

/* ------------------------------------------------------------------ certificates (0010) */

static int collect_cert(const struct store_cert *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s/%s/%s/%lld/%lld/%lld/%s",
			 row->station_id, row->serial, row->type, (long long)(row->issued_ms - T0),
			 (long long)(row->not_after_ms - T0),
			 (long long)(row->renew_requested_ms ? row->renew_requested_ms - T0 : -1),
			 row->pem);
	c->n++;
	return 0;
}

static int64_t cert_id;

static int take_cert_id(const struct store_cert *row, void *ud)
{
	(void)ud;
	cert_id = row->id;
	return 0;
}

static void test_certificates(void **state)
{
	struct fx *f = *state;
	struct store_station_security sec;
	struct id_list c = {0};
	struct store_cert cert = {
	    .station_id = "CP-C",
	    .serial = "s1",
	    .type = "ChargingStationCertificate",
	    .issued_ms = T0,
	    .not_after_ms = T0 + 100,
	    .pem = "PEM1",
	    .id = 99,
	    .renew_requested_ms = T0, /* both ignored */
	};

	station(f->s, "CP-C");
	station(f->s, "CP-D");
	assert_int_equal(store_cert_add(f->s, &cert), 0);
	cert.serial = "s2";
	cert.not_after_ms = T0 + 1000;
	cert.pem = "PEM2";
	assert_int_equal(store_cert_add(f->s, &cert), 0);
	cert.station_id = "CP-D";
	cert.serial = "s3";
	cert.type = "V2GCertificate";
	cert.issued_ms = T0 + 1;
	cert.not_after_ms = T0 + 50;
	cert.pem = "PEM3";
	assert_int_equal(store_cert_add(f->s, &cert), 0);

	/* newest first; renewal not asked yet */
	assert_int_equal(store_certs_list(f->s, NULL, 10, collect_cert, &c), 3);
	assert_string_equal(c.id[0], "CP-D/s3/V2GCertificate/1/50/-1/PEM3");
	assert_string_equal(c.id[1], "CP-C/s2/ChargingStationCertificate/0/1000/-1/PEM2");
	assert_string_equal(c.id[2], "CP-C/s1/ChargingStationCertificate/0/100/-1/PEM1");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_certs_list(f->s, "CP-C", 1, collect_cert, &c), 1);
	assert_string_equal(c.id[0], "CP-C/s2/ChargingStationCertificate/0/1000/-1/PEM2");
	assert_int_equal(store_certs_list(f->s, "nope", 10, collect_cert, &c), 0);

	/* only the newest of each station counts, by expiry */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_certs_expiring(f->s, T0 + 200, collect_cert, &c), 1);
	assert_string_equal(c.id[0], "CP-D/s3/V2GCertificate/1/50/-1/PEM3");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_certs_expiring(f->s, T0 + 2000, collect_cert, &c), 2);
	assert_string_equal(c.id[0], "CP-D/s3/V2GCertificate/1/50/-1/PEM3");
	assert_string_equal(c.id[1], "CP-C/s2/ChargingStationCertificate/0/1000/-1/PEM2");
	assert_int_equal(store_certs_expiring(f->s, T0 + 50, collect_cert, &c), 0);

	assert_int_equal(store_certs_list(f->s, "CP-D", 1, take_cert_id, NULL), 1);
	assert_int_equal(store_cert_renew_mark(f->s, cert_id, T0 + 5), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_certs_list(f->s, "CP-D", 10, collect_cert, &c), 1);
	assert_string_equal(c.id[0], "CP-D/s3/V2GCertificate/1/50/5/PEM3");

	/* password rotation */
	assert_int_equal(store_station_password_set(f->s, "CP-C", "h2"), 0);
	assert_int_equal(store_station_security_get(f->s, "CP-C", &sec), 0);
	assert_string_equal(sec.password_hash, "h2");
	assert_int_equal(store_station_password_set(f->s, "nope", "h3"), -ENOENT);

	/* security events: notices of kind "security", newest first */
	assert_int_equal(store_notice_add(f->s, "CP-C", "security", T0 + 1, "e1"), 0);
	assert_int_equal(store_notice_add(f->s, "CP-C", "SecurityEvent", T0 + 2, "x"), 0);
	assert_int_equal(store_notice_add(f->s, "CP-C", "security", T0 + 3, "e2"), 0);
	assert_int_equal(store_notice_add(f->s, "CP-D", "security", T0 + 4, "d1"), 0);
	assert_int_equal(store_notice_add(f->s, "CP-C", "security", T0 + 5, "e3"), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_security_events(f->s, "CP-C", 10, 0, collect_history, &c), 3);
	assert_string_equal(c.id[0], "notice:e3");
	assert_string_equal(c.id[1], "notice:e2");
	assert_string_equal(c.id[2], "notice:e1");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_security_events(f->s, "CP-C", 1, 1, collect_history, &c), 1);
	assert_string_equal(c.id[0], "notice:e2");
	assert_int_equal(store_security_events(f->s, "nope", 10, 0, collect_history, &c), 0);
	assert_int_equal(store_commit(f->s), 0);
}

/* ------------------------------------------------------------------ swap (0012) */

static int collect_pack(const struct store_swap_pack *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]),
			 "%s/%s/%s/%lld/%.2f/%.2f/%lld/%s/%d/%s/%lld/%lld/%d/%lld/%lld/%lld",
			 row->serial, row->station_id, row->type, (long long)row->capacity_wh,
			 row->soc, row->soh, (long long)row->cycles, row->location, row->evse_id,
			 row->vehicle, (long long)row->production_ms, (long long)row->in_ms,
			 row->flagged, (long long)row->updated_ms,
			 (long long)(row->ready_ms ? row->ready_ms - T0 : 0),
			 (long long)(row->ready_set_ms ? row->ready_set_ms - T0 : 0));
	c->n++;
	return 0;
}

static int collect_soh(const struct store_swap_soh *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s@%lld=%.2f", row->serial,
			 (long long)(row->ts_ms - T0), row->soh);
	c->n++;
	return 0;
}

static int collect_order(const struct store_swap_order *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]),
			 "%s/%lld/%s/%lld/%s/%s/%.2f/%.2f/%lld/%lld/%lld/%s/%lld/%lld/%s/%.2f/"
			 "%lld/%lld/%lld/%lld",
			 row->station_id, (long long)row->request_id, row->vehicle,
			 (long long)row->booking_id, row->packs_out, row->packs_in, row->soc_out,
			 row->soc_in, (long long)row->energy_out_wh, (long long)row->energy_in_wh,
			 (long long)row->delta_wh, row->tier, (long long)row->price_fen_per_mwh,
			 (long long)row->cost_fen, row->state, row->promised_soc,
			 (long long)(row->created_ms - T0), (long long)row->in_ms,
			 (long long)row->out_ms, (long long)row->done_ms);
	c->n++;
	return 0;
}

static int collect_booking(const struct store_swap_booking *row, void *ud)
{
	struct id_list *c = ud;

	if (c->n < 8)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s/%s/%lld/%.2f/%s/%lld/%lld",
			 row->station_id, row->vehicle, (long long)(row->due_ms - T0), row->min_soc,
			 row->state, (long long)row->request_id, (long long)(row->created_ms - T0));
	c->n++;
	return 0;
}

static void test_swap(void **state)
{
	struct fx *f = *state;
	struct id_list c = {0};
	int64_t oid = 0, oid2 = 0, b1 = 0, b2 = 0, keep;
	struct store_swap_pack p = {
	    .serial = "P1",
	    .station_id = "SW-1",
	    .type = "LFP",
	    .capacity_wh = 50000,
	    .soc = 80.5,
	    .soh = 97.25,
	    .cycles = 10,
	    .location = "slot",
	    .evse_id = 3,
	    .vehicle = NULL,
	    .production_ms = 1000,
	    .in_ms = 2000,
	    .flagged = false,
	    .updated_ms = T0,
	};
	struct store_swap_pack q = {
	    .serial = "P2",
	    .station_id = "SW-2",
	    .type = NULL,
	    .soc = -1,
	    .soh = -1,
	    .location = "vehicle",
	    .vehicle = "TAG",
	    .flagged = true,
	    .updated_ms = T0,
	};
	struct store_swap_order o = {
	    .station_id = "SW-1",
	    .request_id = 7,
	    .vehicle = "V1",
	    .packs_out = "P1",
	    .soc_out = 90.25,
	    .soc_in = -1,
	    .energy_out_wh = 45000,
	    .energy_in_wh = -1,
	    .promised_soc = 95.5,
	    .created_ms = T0,
	};
	struct store_swap_booking b = {
	    .station_id = "SW-1",
	    .vehicle = "V1",
	    .due_ms = T0 + 100,
	    .min_soc = 80.5,
	    .created_ms = T0,
	};

	/* packs: a SoH other than the last recorded one joins the history */
	assert_int_equal(store_swap_pack_put(f->s, &p), 0);
	p.updated_ms = T0 + 10; /* same SoH: no new point */
	assert_int_equal(store_swap_pack_put(f->s, &p), 0);
	p.soh = 96.5;
	p.updated_ms = T0 + 20;
	assert_int_equal(store_swap_pack_put(f->s, &p), 0);
	p.soh = -1; /* unknown: no point */
	p.updated_ms = T0 + 25;
	assert_int_equal(store_swap_pack_put(f->s, &p), 0);
	p.soh = 97.25;
	p.updated_ms = T0 + 30;
	assert_int_equal(store_swap_pack_put(f->s, &p), 0);
	assert_int_equal(store_swap_pack_soh_list(f->s, "P1", collect_soh, &c), 3);
	assert_string_equal(c.id[0], "P1@0=97.25");
	assert_string_equal(c.id[1], "P1@20=96.50");
	assert_string_equal(c.id[2], "P1@30=97.25");
	assert_int_equal(store_swap_pack_soh_list(f->s, "P2", collect_soh, &c), 0);
	assert_int_equal(store_swap_pack_put(f->s, &q), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_packs_list(f->s, NULL, NULL, collect_pack, &c), 2);
	assert_string_equal(c.id[0], "P1/SW-1/LFP/50000/80.50/97.25/10/slot/3//1000/2000/0/"
				     "1795000000030/0/0");
	assert_string_equal(c.id[1], "P2/SW-2//0/-1.00/-1.00/0/vehicle/0/TAG/0/0/1/"
				     "1795000000000/0/0");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_packs_list(f->s, "SW-2", NULL, collect_pack, &c), 1);
	assert_int_equal(store_swap_packs_list(f->s, NULL, "P1", collect_pack, &c), 1);
	assert_int_equal(store_swap_packs_list(f->s, "SW-1", "P2", collect_pack, &c), -ENOENT);
	assert_int_equal(store_swap_packs_list(f->s, NULL, "nope", collect_pack, &c), -ENOENT);

	/* ready-by: a later deadline keeps its set time, an earlier one restarts it, the same
	 * one changes nothing, a put clears it */
	assert_int_equal(store_swap_pack_ready_set(f->s, "P1", T0 + 1000, T0 + 100), 0);
	assert_int_equal(store_swap_pack_ready_set(f->s, "P1", T0 + 2000, T0 + 200), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_packs_list(f->s, NULL, "P1", collect_pack, &c), 1);
	assert_non_null(strstr(c.id[0], "/2000/100"));
	assert_int_equal(store_swap_pack_ready_set(f->s, "P1", T0 + 500, T0 + 300), 0);
	assert_int_equal(store_swap_pack_ready_set(f->s, "P1", T0 + 500, T0 + 400), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_packs_list(f->s, NULL, "P1", collect_pack, &c), 1);
	assert_non_null(strstr(c.id[0], "/500/300"));
	assert_int_equal(store_swap_pack_ready_set(f->s, "nope", T0, T0), 0);
	assert_int_equal(store_swap_pack_put(f->s, &p), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_packs_list(f->s, NULL, "P1", collect_pack, &c), 1);
	assert_non_null(strstr(c.id[0], "/1795000000030/0/0"));

	/* orders: one per (station, request id) */
	assert_int_equal(store_swap_order_put(f->s, &o, &oid), 0);
	assert_true(oid > 0);
	keep = oid;
	assert_int_equal(store_swap_order_put(f->s, &o, &oid), -EEXIST);
	assert_int_equal(oid, keep);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_order_get(f->s, "SW-1", 7, collect_order, &c), 1);
	assert_string_equal(c.id[0], "SW-1/7/V1/0/P1//90.25/-1.00/45000/-1/0//0/0/open/95.50/"
				     "0/0/0/0");
	assert_int_equal(store_swap_order_get(f->s, "SW-1", 8, collect_order, &c), -ENOENT);
	assert_int_equal(store_swap_order_get(f->s, "SW-2", 7, collect_order, &c), -ENOENT);
	o.id = oid;
	o.packs_in = "P9";
	o.soc_in = 20.75;
	o.energy_in_wh = 10000;
	o.delta_wh = 35000;
	o.tier = "valley";
	o.price_fen_per_mwh = 300;
	o.cost_fen = 10500;
	o.state = "complete";
	o.in_ms = 5;
	o.out_ms = 6;
	o.done_ms = 7;
	assert_int_equal(store_swap_order_put(f->s, &o, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_order_get(f->s, "SW-1", 7, collect_order, &c), 1);
	assert_string_equal(c.id[0], "SW-1/7/V1/0/P1/P9/90.25/20.75/45000/10000/35000/valley/"
				     "300/10500/complete/95.50/0/5/6/7");
	o.id = oid + 1000;
	assert_int_equal(store_swap_order_put(f->s, &o, NULL), -ENOENT);
	struct store_swap_order o2 = {.station_id = "SW-2",
				      .request_id = 7,
				      .soc_out = -1,
				      .soc_in = -1,
				      .promised_soc = -1,
				      .created_ms = T0 + 10};
	assert_int_equal(store_swap_order_put(f->s, &o2, &oid2), 0);
	assert_true(oid2 != oid);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_orders_list(f->s, NULL, T0, T0 + 11, collect_order, &c), 2);
	assert_non_null(strstr(c.id[0], "SW-1/7/"));
	assert_string_equal(c.id[1], "SW-2/7//0///-1.00/-1.00/0/0/0//0/0/open/-1.00/10/0/0/0");
	assert_int_equal(store_swap_orders_list(f->s, "SW-1", T0, T0 + 11, collect_order, &c), 1);
	assert_int_equal(store_swap_orders_list(f->s, NULL, T0 + 1, T0 + 10, collect_order, &c), 0);

	/* bookings, by due time */
	assert_int_equal(store_swap_booking_put(f->s, &b, &b1), 0);
	b.vehicle = "V2";
	b.due_ms = T0 + 50;
	b.min_soc = 0;
	assert_int_equal(store_swap_booking_put(f->s, &b, &b2), 0);
	assert_true(b1 > 0 && b2 > 0 && b1 != b2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_bookings_list(f->s, "SW-1", 0, T0, collect_booking, &c), 2);
	assert_string_equal(c.id[0], "SW-1/V2/50/0.00/queued/0/0");
	assert_string_equal(c.id[1], "SW-1/V1/100/80.50/queued/0/0");
	assert_int_equal(store_swap_bookings_list(f->s, NULL, 0, T0 + 60, collect_booking, &c), 1);
	assert_int_equal(store_swap_bookings_list(f->s, "SW-2", 0, 0, collect_booking, &c), 0);
	b.id = b1;
	b.vehicle = "V1";
	b.due_ms = T0 + 100;
	b.min_soc = 80.5;
	b.state = "served";
	b.request_id = 7;
	assert_int_equal(store_swap_booking_put(f->s, &b, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_bookings_list(f->s, NULL, b1, 0, collect_booking, &c), 1);
	assert_string_equal(c.id[0], "SW-1/V1/100/80.50/served/7/0");
	b.id = b1 + b2 + 1000;
	assert_int_equal(store_swap_booking_put(f->s, &b, NULL), -ENOENT);
	assert_int_equal(store_swap_bookings_list(f->s, NULL, b.id, 0, collect_booking, &c),
			 -ENOENT);
	assert_int_equal(store_commit(f->s), 0);

	/* the queue (version 12): open bookings of a station by due time, then creation */
	b = (struct store_swap_booking){
	    .station_id = "SW-1", .vehicle = "V3", .due_ms = T0 + 50, .created_ms = T0 + 5};
	assert_int_equal(store_swap_booking_put(f->s, &b, &b1), 0);
	b.vehicle = "V2";
	b.due_ms = T0 + 20;
	b.state = "cancelled";
	assert_int_equal(store_swap_booking_put(f->s, &b, NULL), 0);
	b.station_id = "SW-2";
	b.state = "requested";
	assert_int_equal(store_swap_booking_put(f->s, &b, NULL), 0);
	memset(&c, 0, sizeof(c));
	/* V1 is served, the cancelled one and SW-2's are not in SW-1's queue; V2 (created at 0)
	 * before V3 (at 5), both due at 50 */
	assert_int_equal(store_swap_bookings_open(f->s, "SW-1", NULL, collect_booking, &c), 2);
	assert_string_equal(c.id[0], "SW-1/V2/50/0.00/queued/0/0");
	assert_string_equal(c.id[1], "SW-1/V3/50/0.00/queued/0/5");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_bookings_open(f->s, "SW-1", "V3", collect_booking, &c), 1);
	assert_string_equal(c.id[0], "SW-1/V3/50/0.00/queued/0/5");
	assert_int_equal(store_swap_bookings_open(f->s, "SW-1", "V1", collect_booking, &c), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_swap_bookings_open(f->s, "SW-2", NULL, collect_booking, &c), 1);
	assert_string_equal(c.id[0], "SW-2/V2/20/0.00/requested/0/5");
	assert_int_equal(store_swap_bookings_open(f->s, "SW-3", NULL, collect_booking, &c), 0);
	assert_int_equal(store_commit(f->s), 0);
}

/* ------------------------------------------------------------------ api admin (0015) */

struct token_ids {
	int n;
	char id[8][TOKEN_MAX + 1];
};

static int collect_id_token(const struct store_token *t, void *ud)
{
	struct token_ids *c = ud;

	if (c->n < 8)
		copy(c->id[c->n], sizeof(c->id[0]), t->token);
	c->n++;
	return 0;
}

/* The ids of a token page joined by ',' into out (and the total). */
static const char *token_page(struct store *s, const struct store_token_query *q,
			      int64_t *ret_total, char out[200])
{
	struct token_ids c = {0};
	size_t n = 0;
	int r = store_tokens_query(s, q, collect_id_token, &c, ret_total);

	assert_int_equal(r, c.n);
	out[0] = '\0';
	for (int i = 0; i < c.n && i < 8; i++)
		n += (size_t)snprintf(out + n, 200 - n, "%s%s", i ? "," : "", c.id[i]);
	return out;
}

static void put_token(struct store *s, const char *id, int status, const char *parent,
		      const char *site, int64_t expiry)
{
	struct store_token t = {.status = status, .expiry_ms = expiry};

	snprintf(t.token, sizeof(t.token), "%s", id);
	snprintf(t.parent, sizeof(t.parent), "%s", parent);
	snprintf(t.site_id, sizeof(t.site_id), "%s", site);
	assert_int_equal(store_token_put(s, &t), 0);
}

static void test_api_admin(void **state)
{
	struct fx *f = *state;
	struct store_token_query q = {.status = -1, .limit = 10};
	struct store_station_admin a = {0};
	struct store_station_notes nt;
	struct store_session_close cl = {.stop_ms = T0 + 5, .meter_stop_wh = 20};
	struct store_summary sum;
	struct id_list c = {0};
	char out[200];
	int64_t total = -1, sid;

	assert_int_equal(store_site_put(f->s, "S1", SITE_PUBLIC, T0), 0);
	assert_int_equal(store_site_put(f->s, "S2", SITE_RURAL, T0), 0);
	put_token(f->s, "T-A1", AUTH_ACCEPTED, "G1", "S1", T0 + 10);
	put_token(f->s, "T-A2", AUTH_BLOCKED, "G1", "", 0);
	put_token(f->s, "T-B1", AUTH_BLOCKED, "G2", "S1", 0);
	put_token(f->s, "U-C1", AUTH_ACCEPTED, "", "", T0 + 5);

	/* the token list: filters, sorting, pages, total */
	assert_string_equal(token_page(f->s, &q, &total, out), "T-A1,T-A2,T-B1,U-C1");
	assert_int_equal(total, 4);
	q.status = AUTH_BLOCKED;
	assert_string_equal(token_page(f->s, &q, &total, out), "T-A2,T-B1");
	assert_int_equal(total, 2);
	q.status = -1;
	q.parent = "G1";
	assert_string_equal(token_page(f->s, &q, NULL, out), "T-A1,T-A2");
	q.parent = NULL;
	q.site_id = "S1";
	assert_string_equal(token_page(f->s, &q, NULL, out), "T-A1,T-B1");
	q.site_id = ""; /* valid at any site */
	assert_string_equal(token_page(f->s, &q, NULL, out), "T-A2,U-C1");
	q.site_id = NULL;
	q.token_prefix = "T-A";
	assert_string_equal(token_page(f->s, &q, &total, out), "T-A1,T-A2");
	assert_int_equal(total, 2);
	q.token_prefix = NULL;
	q.sort = STORE_TOKEN_SORT_EXPIRY;
	q.desc = true;
	assert_string_equal(token_page(f->s, &q, NULL, out), "T-A1,U-C1,T-B1,T-A2");
	q.sort = STORE_TOKEN_SORT_STATUS;
	q.desc = false;
	assert_string_equal(token_page(f->s, &q, NULL, out), "T-A1,U-C1,T-A2,T-B1");
	q.sort = STORE_TOKEN_SORT_ID;
	q.limit = 2;
	q.offset = 1;
	assert_string_equal(token_page(f->s, &q, &total, out), "T-A2,T-B1");
	assert_int_equal(total, 4);
	q.sort = 99;
	assert_int_equal(store_tokens_query(f->s, &q, collect_id_token, &c, NULL), -EINVAL);
	q = (struct store_token_query){.status = -1, .limit = 10};

	/* delete */
	assert_int_equal(store_token_delete(f->s, "U-C1"), 0);
	assert_int_equal(store_token_delete(f->s, "U-C1"), -ENOENT);
	assert_int_equal(store_token_get(f->s, "U-C1", &(struct store_token){0}), -ENOENT);
	assert_string_equal(token_page(f->s, &q, &total, out), "T-A1,T-A2,T-B1");

	/* a station's operator fields: set, kept (NULL), cleared ("") */
	assert_int_equal(store_station_admin_set(f->s, "NOPE", &a), -ENOENT);
	assert_int_equal(store_station_notes_get(f->s, "NOPE", &nt), -ENOENT);
	station(f->s, "ST-1");
	station(f->s, "ST-2");
	a = (struct store_station_admin){
	    .site_id = "S1", .notes = "bay 7", .labels = "dc,fast", .protocol = "ocpp2.0.1"};
	assert_int_equal(store_station_admin_set(f->s, "ST-1", &a), 0);
	assert_int_equal(store_station_notes_get(f->s, "ST-1", &nt), 0);
	assert_string_equal(nt.notes, "bay 7");
	assert_string_equal(nt.labels, "dc,fast");
	assert_int_equal(store_stations_list(f->s, "ST-1", 0, 0, collect_station_id, &c), 1);
	{
		struct store_station st;

		assert_int_equal(store_station_get(f->s, "ST-1", &st), 0);
		assert_string_equal(st.site_id, "S1");
		assert_int_equal(st.site_kind, SITE_PUBLIC);
	}
	a = (struct store_station_admin){.notes = ""};
	assert_int_equal(store_station_admin_set(f->s, "ST-1", &a), 0);
	assert_int_equal(store_station_notes_get(f->s, "ST-1", &nt), 0);
	assert_string_equal(nt.notes, "");
	assert_string_equal(nt.labels, "dc,fast");

	/* the summary's counts follow online state, site, a site's kind and connectors */
	assert_int_equal(store_station_seen(f->s, "ST-1", true, "ocpp2.0.1", T0), 0);
	assert_int_equal(store_station_seen(f->s, "ST-1", true, NULL, T0 + 1), 0); /* again */
	assert_int_equal(
	    store_connector_status(f->s, "ST-2", 1, 1, "Faulted", "GroundFailure", NULL, NULL, T0),
	    0);
	assert_int_equal(
	    store_connector_status(f->s, "ST-2", 2, 1, "Available", NULL, NULL, NULL, T0), 0);
	assert_int_equal(store_summary(f->s, T0, &sum), 0);
	assert_int_equal(sum.stations, 2);
	assert_int_equal(sum.online, 1);
	assert_int_equal(sum.by_kind[SITE_PUBLIC], 1);
	assert_int_equal(sum.online_by_kind[SITE_PUBLIC], 1);
	assert_int_equal(sum.by_kind[_SITE_KIND_MAX], 1);
	assert_int_equal(sum.n_status, 2);
	a = (struct store_station_admin){.site_id = "S2"};
	assert_int_equal(store_station_admin_set(f->s, "ST-1", &a), 0);
	assert_int_equal(store_summary(f->s, T0, &sum), 0);
	assert_int_equal(sum.by_kind[SITE_PUBLIC], 0);
	assert_int_equal(sum.online_by_kind[SITE_RURAL], 1);
	assert_int_equal(store_site_put(f->s, "S2", SITE_SWAP, T0), 0);
	assert_int_equal(store_summary(f->s, T0, &sum), 0);
	assert_int_equal(sum.by_kind[SITE_RURAL], 0);
	assert_int_equal(sum.by_kind[SITE_SWAP], 1);
	assert_int_equal(sum.online_by_kind[SITE_SWAP], 1);
	assert_int_equal(
	    store_connector_status(f->s, "ST-2", 1, 1, "Available", NULL, NULL, NULL, T0 + 1), 0);
	assert_int_equal(store_summary(f->s, T0, &sum), 0);
	assert_int_equal(sum.n_status, 1);
	assert_string_equal(sum.connectors[0].status, "Available");
	assert_int_equal(sum.connectors[0].count, 2);

	/* delete: refused with an open session, then with a recorded one; one without goes */
	assert_int_equal(store_station_delete(f->s, "NOPE"), -ENOENT);
	sid = open_session(f->s, "ST-1", 1, "T-A1", T0, 10);
	assert_int_equal(store_station_delete(f->s, "ST-1"), -EBUSY);
	assert_int_equal(store_session_close(f->s, sid, &cl), 0);
	assert_int_equal(store_station_delete(f->s, "ST-1"), -ENOTEMPTY);
	assert_int_equal(store_station_delete(f->s, "ST-2"), 0);
	assert_int_equal(store_station_get(f->s, "ST-2", &(struct store_station){0}), -ENOENT);
	assert_int_equal(store_summary(f->s, T0, &sum), 0);
	assert_int_equal(sum.stations, 1);
	assert_int_equal(sum.by_kind[_SITE_KIND_MAX], 0);
	assert_int_equal(sum.n_status, 0); /* its connectors went with it */
	assert_int_equal(store_commit(f->s), 0);
	/* durable */
	assert_int_equal(store_station_get(f->s, "ST-1", &(struct store_station){0}), 0);
	assert_int_equal(store_token_get(f->s, "T-B1", &(struct store_token){0}), 0);
}

/* ---- nodes (0014_station_owner.sql): ownership, routed commands, notifications */
struct notes {
	int n;
	char last_cmd_done[128];
};

static void note(void *ud, const char *channel, const char *payload)
{
	struct notes *n = ud;

	n->n++;
	if (!strcmp(channel, "csms_cmd_done"))
		snprintf(n->last_cmd_done, sizeof(n->last_cmd_done), "%s", payload);
}

static void test_nodes(void **state)
{
	struct fx *f = *state;
	char node[STORE_NODE_ID_MAX + 1], st[STATION_ID_MAX + 1], want[64], err[256];
	char key[STORE_NODE_KEY_MAX + 2];
	char *text = NULL;
	struct station_copy c;
	struct notes notes = {0};
	struct store *s2;
	int64_t epoch = 0, id = 0;

	assert_int_equal(store_node_set(f->s, "node-A", 30000), 0);
	assert_int_equal(store_node_set(f->s,
					"n-123456789-123456789-123456789-123456789-123456789-"
					"123456789-1234",
					30000),
			 -EINVAL);
	station(f->s, "CP-N1");
	assert_int_equal(store_station_seen(f->s, "CP-N1", true, "ocpp1.6", T0), 0);
	assert_int_equal(store_commit(f->s), 0);
	if (f->b->ops != &store_pg_ops) {
		/* one node: the connection is the ownership, nothing is routed */
		assert_int_equal(store_owner_get(f->s, "CP-N1", node, &epoch), -ENOENT);
		assert_int_equal(store_owner_lost(f->s, "CP-N1", 5), 0);
		assert_int_equal(store_notify_fd(f->s), -ENOTSUP);
		assert_int_equal(store_rcmd_add(f->s, "node-B", "CP-N1", "{}", T0, &id), -ENOTSUP);
		assert_int_equal(store_owners_renew(f->s), 0);
		assert_int_equal(store_owner_held(f->s, "CP-N1"), 1);
		assert_int_equal(store_node_key_set(f->s, "ab"), -ENOTSUP);
		assert_int_equal(store_node_key_get(f->s, "node-A", key), -ENOTSUP);
		return;
	}
	assert_true(store_notify_fd(f->s) >= 0);
	assert_int_equal(store_owner_get(f->s, "CP-N1", node, &epoch), 0);
	assert_string_equal(node, "node-A");
	assert_int_equal(epoch, 1);
	assert_int_equal(store_owner_held(f->s, "CP-N1"), 1);
	assert_int_equal(store_owner_held(f->s, "CP-N0"), 0); /* never taken */
	assert_int_equal(store_owners_renew(f->s), 0);
	assert_int_equal(store_commit(f->s), 0);

	/* a second node takes it over: epoch + 1; the first one learns it lost it once */
	s2 = f->b->ops->open(f->dsn, false, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(store_node_set(s2, "node-B", 30000), 0);
	assert_int_equal(store_station_seen(s2, "CP-N1", true, "ocpp1.6", T0 + 1), 0);
	assert_int_equal(store_commit(s2), 0);
	assert_int_equal(store_owner_get(f->s, "CP-N1", node, &epoch), 0);
	assert_string_equal(node, "node-B");
	assert_int_equal(epoch, 2);
	/* before A hears of it (the NOTIFY), the check before a CALL already knows */
	assert_int_equal(store_owner_held(f->s, "CP-N1"), 0);
	assert_int_equal(store_owner_held(s2, "CP-N1"), 1);
	assert_int_equal(store_owner_lost(f->s, "CP-N1", 2), 1);
	assert_int_equal(store_owner_lost(f->s, "CP-N1", 2), 0);
	assert_int_equal(store_owner_lost(s2, "CP-N1", 2), 0);
	/* the old node's connection closes: the station stays online (node B holds it) */
	assert_int_equal(store_station_seen(f->s, "CP-N1", false, NULL, T0 + 2), 0);
	assert_int_equal(store_commit(f->s), 0);
	c = station_row(f->s, "CP-N1");
	assert_true(c.online);
	assert_int_equal(store_owner_get(f->s, "CP-N1", node, &epoch), 0);
	assert_string_equal(node, "node-B");

	/* a command routed from A to B and its answer back */
	assert_int_equal(store_rcmd_add(f->s, "node-B", "CP-N1", "{\"kind\":2}", T0, &id), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_rcmd_claim(f->s, id, st, &text), -ENOENT); /* not A's */
	assert_int_equal(store_rcmd_claim(s2, id, st, &text), 0);
	assert_string_equal(st, "CP-N1");
	assert_string_equal(text, "{\"kind\":2}");
	free(text);
	text = NULL;
	assert_int_equal(store_rcmd_take(f->s, id, &text), -ENOENT);	/* not done yet */
	assert_int_equal(store_rcmd_claim(s2, id, st, &text), -ENOENT); /* claimed once */
	assert_int_equal(store_rcmd_done(s2, id, "{\"status\":0}", T0 + 3), 0);
	assert_int_equal(store_commit(s2), 0);
	assert_int_equal(store_rcmd_take(f->s, id, &text), 0);
	assert_string_equal(text, "{\"status\":0}");
	free(text);
	assert_int_equal(store_rcmd_take(f->s, id, &text), -ENOENT); /* taken: gone */
	assert_int_equal(store_notify(f->s, "csms_live", "node-A\t[]"), 0);
	assert_int_equal(store_commit(f->s), 0);

	/* the notifications came on A's LISTEN connection */
	snprintf(want, sizeof(want), "node-A\t%lld", (long long)id);
	for (int i = 0; i < 200 && strcmp(notes.last_cmd_done, want); i++) {
		assert_true(store_notify_drain(f->s, note, &notes) >= 0);
		usleep(10000);
	}
	assert_string_equal(notes.last_cmd_done, want);
	/* B's takeover, the command, its answer (A's own take came before A listened) */
	assert_true(notes.n >= 3);

	/* node keys: published at once, the latest one counts */
	assert_int_equal(store_node_key_get(s2, "node-A", key), -ENOENT);
	assert_int_equal(store_node_key_set(f->s, "00112233"), 0);
	assert_int_equal(store_node_key_set(f->s, "44556677"), 0);
	assert_int_equal(store_node_key_get(s2, "node-A", key), 0);
	assert_string_equal(key, "44556677");
	assert_int_equal(store_node_key_get(s2, "node-Z", key), -ENOENT);
	memset(key, 'f', STORE_NODE_KEY_MAX + 1);
	key[STORE_NODE_KEY_MAX + 1] = '\0';
	assert_int_equal(store_node_key_set(f->s, key), -EINVAL);

	/* a node starting again lets go of its own rows only */
	assert_int_equal(store_stations_offline_all(f->s), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_owner_get(f->s, "CP-N1", node, &epoch), 0);
	assert_int_equal(store_stations_offline_all(s2), 0);
	assert_int_equal(store_commit(s2), 0);
	assert_int_equal(store_owner_get(f->s, "CP-N1", node, &epoch), -ENOENT);
	c = station_row(f->s, "CP-N1");
	assert_false(c.online);
	store_close(s2);
}

struct gone {
	int n;
	char last[STATION_ID_MAX + 1];
};

static void on_gone(void *ud, const char *station_id)
{
	struct gone *g = ud;

	g->n++;
	snprintf(g->last, sizeof(g->last), "%s", station_id);
}

/* owners_check: the rows agree with the stations this node holds (version 11) */
static void test_owners_check(void **state)
{
	struct fx *f = *state;
	char node[STORE_NODE_ID_MAX + 1], err[256];
	struct gone g = {0};
	struct store *s2;
	int64_t e1 = 0, e2 = 0;

	assert_int_equal(store_node_set(f->s, "node-A", 30000), 0);
	station(f->s, "CP-OC1");
	station(f->s, "CP-OC2");
	station(f->s, "CP-OC3");
	for (int i = 1; i <= 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "CP-OC%d", i);
		assert_int_equal(store_station_seen(f->s, id, true, "ocpp1.6", T0), 0);
	}
	assert_int_equal(store_commit(f->s), 0);
	if (f->b->ops != &store_pg_ops) { /* one node: nothing to reconcile */
		assert_int_equal(store_owners_check(f->s, on_gone, &g), 0);
		assert_int_equal(g.n, 0);
		return;
	}
	assert_int_equal(store_owners_check(f->s, on_gone, &g), 0); /* all agree */
	assert_int_equal(g.n, 0);
	assert_int_equal(store_owner_get(f->s, "CP-OC1", node, &e1), 0);

	s2 = f->b->ops->open(f->dsn, false, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(store_node_set(s2, "node-B", 30000), 0);
	/* CP-OC1: B takes it and lets go again, A never hears: no row */
	assert_int_equal(store_station_seen(s2, "CP-OC1", true, "ocpp1.6", T0 + 1), 0);
	assert_int_equal(store_station_seen(s2, "CP-OC1", false, NULL, T0 + 2), 0);
	/* CP-OC2: B holds it, A never hears */
	assert_int_equal(store_station_seen(s2, "CP-OC2", true, "ocpp1.6", T0 + 1), 0);
	assert_int_equal(store_commit(s2), 0);
	assert_int_equal(store_owner_get(f->s, "CP-OC1", node, &e2), -ENOENT);
	/* CP-OC3: A forgets it (a takeover heard) but its row stays A's: a leaked row */
	assert_int_equal(store_owner_lost(f->s, "CP-OC3", INT64_MAX), 1);

	assert_int_equal(store_owners_check(f->s, on_gone, &g), 3);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.last, "CP-OC2");
	/* taken back at a higher epoch; still B's; let go of */
	assert_int_equal(store_owner_get(f->s, "CP-OC1", node, &e2), 0);
	assert_string_equal(node, "node-A");
	assert_true(e2 > e1);
	assert_int_equal(store_owner_held(f->s, "CP-OC1"), 1);
	assert_int_equal(store_owner_held(f->s, "CP-OC2"), 0);
	assert_int_equal(store_owner_held(s2, "CP-OC2"), 1);
	assert_int_equal(store_owner_get(f->s, "CP-OC3", node, &e2), -ENOENT);
	/* nothing left to correct, on either node */
	assert_int_equal(store_owners_check(f->s, on_gone, &g), 0);
	assert_int_equal(store_owners_check(s2, on_gone, &g), 0);
	assert_int_equal(g.n, 1);
	store_close(s2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_identity),
	    T(test_station_create_get_registration),
	    T(test_station_boot_seen_offline_events),
	    T(test_connectors),
	    T(test_tokens),
	    T(test_session_open_samples_close),
	    T(test_session_keys_replay_same_id),
	    T(test_session_setters_and_event_seq),
	    T(test_sessions_list),
	    T(test_samples_duplicate_and_conflict),
	    T(test_samples_add_batch),
	    T(test_samples_add_large_batch),
	    T(test_signed_data_kept),
	    T(test_orphans),
	    T(test_variables_reports_notices),
	    T(test_group_commit_and_rollback),
	    T(test_accounts_sessions_tokens_audit),
	    T(test_tariffs_put_list),
	    T(test_site_tariff),
	    T(test_energy_sessions_and_samples),
	    T(test_planner_ops),
	    T(test_dash_queries),
	    T(test_station_security),
	    T(test_sites_reservations_history_lists),
	    T(test_certificates),
	    T(test_swap),
	    T(test_api_admin),
	    T(test_model_caps),
	    T(test_site_forecast),
	    T(test_site_plan_slots),
	    T(test_station_ext_limits),
	    T(test_commit_async_and_flush),
	    T(test_commit_async_pipelined),
	    T(test_commit_async_failed_group),
#ifdef CSMS_TEST_HAVE_PG
	    T(test_commit_async_connection_lost),
#endif
	    T(test_nodes),
	    T(test_owners_check),
	};
#undef T
	int failed = 0;

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		char name[64];
		const char *pg = getenv("CSMS_TEST_PG_DSN");

		if (backends[i].ops == &store_pg_ops && (!pg || !*pg)) {
			printf(
			    "store-contract/%s: CSMS_TEST_PG_DSN not set, not run here (meson test "
			    "csms-store-contract-pg runs it on a temporary cluster)\n",
			    backends[i].name);
			continue;
		}
		current = &backends[i];
		snprintf(name, sizeof(name), "store-contract/%s", backends[i].name);
		failed += _cmocka_run_group_tests(name, tests, sizeof(tests) / sizeof(tests[0]),
						  NULL, NULL);
	}
	return failed;
}
