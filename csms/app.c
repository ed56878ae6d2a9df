/* SPDX-License-Identifier: MIT */
/* The node's root object: builds every part, runs the loop, group-commits, drains on a signal. */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cluster.h"
#include "conn.h"
#include "core/log.h"
#include "link_conn.h"
#include "ocpp.h"
#include "store/store.h"
#include "svc/cmd.h"
#include "plan_rt.h"
#include "ca.h"
#include "svc/cert.h"
#include "tariff_json.h"
#include "svc/events.h"
#include "svc/energy.h"
#include "svc/sites.h"
#include "svc/svc.h"
#include "tariff_store.h"
#include "transport/transport.h"

static void hist_add(uint64_t *hist, uint64_t *sum, uint64_t dt)
{
	static const double bounds[] = {APP_COMMIT_BUCKETS_S};
	size_t b = 0;

	while (b < sizeof(bounds) / sizeof(bounds[0]) && (double)dt / 1e9 > bounds[b])
		b++;
	hist[b]++;
	*sum += dt;
}

/*
** A group that failed leaves svc's memory of its stations as if it had committed (a boot
** accepted, a session open, a status), and the database without it. The stations whose replies
** waited for it (answered with CALLERROR now) are closed after those answers: a charger
** reconnects, and svc reads the station from the database again. Ownership rows on PostgreSQL
** are written outside the group (store_pg.c owner_exec), so a failed group leaves them and the
** node's owned-set as they were; the lease check (owners_check) settles the rest.
*/
static void release_failed(struct app *app, uint64_t batch)
{
	struct conn **failed = NULL;
	size_t n = 0, cap = 0;
	struct list *l;

	for (l = app->hub.held_conns.next; l != &app->hub.held_conns; l = l->next)
		cap++;
	failed = cap ? calloc(cap, sizeof(*failed)) : NULL;
	if (cap && !failed)
		log_err("group commit failed: out of memory, its stations stay connected");
	for (l = app->hub.held_conns.next; failed && l != &app->hub.held_conns; l = l->next) {
		struct conn *c = list_entry(l, struct conn, held_link);

		/* held frames are in batch order: the first tells */
		if (c->held_head && c->held_head->batch <= batch && !c->closing)
			failed[n++] = c;
	}
	conn_release_held_upto(&app->hub, false, batch); /* their CALLERRORs go out first */
	for (size_t i = 0; i < n; i++) {
		log_notice("[cp %s] a write it waited for failed: closing the connection",
			   failed[i]->id);
		conn_close(failed[i], 1011, "a write failed: reconnect");
	}
	free(failed);
}

/* Release what waited for batch b: replies, command answers, events. */
static void release_batch(struct app *app, const struct app_batch *b, bool ok)
{
	if (ok)
		conn_release_held_upto(&app->hub, ok, b->batch);
	else
		release_failed(app, b->batch);
	/* operator commands whose log rows this batch made durable get their answers now */
	svc_cmd_release_n(app->svc, ok, b->n_cmd);
	/* live events whose cause this batch made durable go to the dashboards (/api/live) */
	svc_events_release_n(app->svc, ok, b->n_ev);
	/* the later batches' counts were taken with these in the queues */
	for (unsigned i = 1; i < app->batch_n; i++) {
		struct app_batch *l = &app->batches[(app->batch_head + i) % APP_BATCHES];

		l->n_cmd -= l->n_cmd < b->n_cmd ? l->n_cmd : b->n_cmd;
		l->n_ev -= l->n_ev < b->n_ev ? l->n_ev : b->n_ev;
	}
}

/* Release the waiting batches the store reports durable (all of them, as failures, when
 * ok is false). */
static void release_durable(struct app *app, bool ok, uint64_t durable)
{
	uint64_t now = uv_hrtime();

	if (ok && durable > app->flush_durable)
		app->flush_durable = durable;
	while (app->batch_n) {
		struct app_batch *b = &app->batches[app->batch_head];

		if (ok && b->seq > app->flush_durable)
			break;
		if (b->seq)
			hist_add(app->flush_hist, &app->flush_ns_sum, now - b->commit_ns);
		release_batch(app, b, ok);
		app->batch_head = (app->batch_head + 1) % APP_BATCHES;
		app->batch_n--;
	}
	/* CSRs whose SignCertificate answer went out: sign, send CertificateSigned (after every
	 * answer held before it, so only with nothing left waiting) */
	if (!app->batch_n)
		svc_certs_release(app->svc);
}

static void on_flush(uv_poll_t *h, int status, int events)
{
	struct app *app = h->data;
	uint64_t durable = 0;
	int r;

	(void)status;
	(void)events;
	r = store_flush_done(app->store, false, &durable);
	if (r < 0) {
		app->flush_failures++;
		log_err("group commit: a batch did not become durable (%s); answering with errors",
			store_errmsg(app->store));
	}
	release_durable(app, r >= 0, durable);
}

/* Wait until every batch committed is durable and release it (a stop, a failed commit). */
static void flush_wait(struct app *app)
{
	uint64_t durable = 0;
	int r;

	if (!app->batch_n)
		return;
	r = store_flush_done(app->store, true, &durable);
	if (r < 0) {
		app->flush_failures++;
		log_err("group commit: a batch did not become durable (%s); answering with errors",
			store_errmsg(app->store));
	}
	release_durable(app, r >= 0, durable);
}

/* Group commit: everything written while handling this loop turn's messages commits once,
 * then the replies that waited for it go out once it is durable (DESIGN.md §7). Runs before
 * the loop sleeps and right after each I/O round, and every APP_GROUP_COMMIT_MAX calls within
 * one: under load libuv keeps reading while epoll returns full batches, and a turn of
 * thousands of calls would hold every reply until its end (seen: multi-second turns at
 * 10,000 calls/s).
 *
 * Off the loop (docs/architecture.md "group commit"): the COMMIT runs here but only writes
 * (SQLite's WAL with synchronous=NORMAL); the store's writer thread fsyncs the WAL and the
 * poll on its flush_fd (on_flush) releases the batches it covered. Meanwhile the next batch
 * accumulates and commits; its answers carry the next hub batch number and wait for their
 * own flush (one fsync covers every batch committed before it starts). On PostgreSQL the
 * COMMIT is sent into the connection's pipeline and not waited for; the poll on the socket
 * (flush_fd) tells when the server answered it. A store that is durable on return (sync
 * "normal", :memory:) releases at once, as before. */
static void group_commit(struct app *app, bool force)
{
	struct app_batch b = {.batch = app->hub.batch};
	bool ok = true;

	app->hub.calls_since_commit = 0;
	/* With commit_limit COMMITs in flight the open group goes on accumulating: on PostgreSQL
	 * every loop turn of a node committing its own transaction made tiny ones (2,664
	 * statements in 1,540 transactions a second in the city's boot storm, each with its WAL
	 * flush). Its answers wait for the COMMIT in flight, then for their own; the check after
	 * the flush's poll commits it. A stop commits at once. */
	if (!force && app->commit_limit && app->batch_n >= app->commit_limit &&
	    store_dirty(app->store)) {
		app->commits_deferred++;
		return;
	}
	if (store_dirty(app->store)) {
		uint64_t t0 = uv_hrtime();
		int cr = store_commit_async(app->store, &b.seq);

		b.commit_ns = uv_hrtime();
		hist_add(app->commit_hist, &app->commit_ns_sum, b.commit_ns - t0);
		if (cr < 0) {
			ok = false;
			b.seq = 0;
			app->stats.commit_failures++;
			log_err("group commit failed: %s", store_errmsg(app->store));
		} else {
			app->stats.commits++;
		}
		if (cr == 1) {
			app->flush_seq = b.seq;
			if (!app->flush_poll.loop && store_flush_fd(app->store) >= 0) {
				uv_poll_init(app->loop, &app->flush_poll,
					     store_flush_fd(app->store));
				app->flush_poll.data = app;
				uv_poll_start(&app->flush_poll, UV_READABLE, on_flush);
			}
		}
	}
	if (!ok) /* the batches before it answer once durable, then this one with errors */
		flush_wait(app);
	if (!b.seq && !app->batch_n) { /* durable already, nothing before it waits: as before */
		if (!list_empty(&app->hub.held_conns) && ok)
			conn_release_held(&app->hub, ok);
		else if (!list_empty(&app->hub.held_conns))
			release_failed(app, UINT64_MAX);
		svc_cmd_release(app->svc, ok);
		svc_events_release(app->svc, ok);
		svc_certs_release(app->svc);
		return;
	}
	app->hub.batch++; /* what is held from now on waits for the next batch */
	b.n_cmd = svc_cmd_waiting(app->svc);
	b.n_ev = svc_events_pending(app->svc);
	if (app->batch_n && (!b.seq || app->batch_n == APP_BATCHES)) {
		/* released with the newest waiting one: the same flush covers both */
		struct app_batch *t =
		    &app->batches[(app->batch_head + app->batch_n - 1) % APP_BATCHES];

		t->batch = b.batch;
		t->seq = b.seq > t->seq ? b.seq : t->seq;
		t->n_cmd = b.n_cmd;
		t->n_ev = b.n_ev;
	} else {
		app->batches[(app->batch_head + app->batch_n) % APP_BATCHES] = b;
		app->batch_n++;
	}
}

void app_group_commit(struct app *app)
{
	group_commit(app, false);
}

static void commit_hook(void *ud)
{
	app_group_commit(ud);
}

static const struct conn_io transport_io = {
    .write_text = transport_write_text,
    .want_write = transport_want_write,
    .close = transport_close,
    .close_frame = transport_close_frame,
};

static void on_cert_tick(uv_timer_t *t)
{
	struct app *app = t->data;
	int r = svc_certs_renew(app->svc, app->cfg.cert_renew_days);

	if (r > 0)
		log_notice("%d station(s) asked to renew their certificate", r);
	else if (r < 0)
		log_err("certificate renewal check failed: %s", strerror(-r));
}

/* Whether the node's answers are late (app->late, which the transport reads at each charger
 * handshake): the oldest batch waiting for durability is late_answer_ms old; on time again
 * below half of it. */
static void late_update(struct app *app)
{
	const struct app_batch *b = &app->batches[app->batch_head];
	uint64_t lim = (uint64_t)app->cfg.late_answer_ms * 1000000ULL, age = 0;
	bool late;

	if (app->batch_n && b->commit_ns)
		age = uv_hrtime() - b->commit_ns;
	late = lim && (age >= lim || (app->late && age >= lim / 2));
	if (late == app->late)
		return;
	app->late = late;
	if (late)
		log_notice("answers are %.1f s late: new chargers are refused (503) until they "
			   "are on time (late_answer_ms %d)",
			   (double)age / 1e9, app->cfg.late_answer_ms);
	else
		log_notice("answers on time again: new chargers are admitted (%llu refused)",
			   (unsigned long long)app->transport.shed);
}

static void on_check(uv_check_t *h)
{
	app_group_commit(h->data);
	late_update(h->data);
}

static void on_prepare(uv_prepare_t *h)
{
	app_group_commit(h->data);
	late_update(h->data);
}

static bool tx_idle(struct app *app)
{
	for (struct list *l = app->hub.conns.next; l != &app->hub.conns; l = l->next)
		if (list_entry(l, struct conn, link)->tx_count)
			return false;
	return true;
}

static void sd_notify_text(const char *text);

static void on_drain_tick(uv_timer_t *t)
{
	struct app *app = t->data;

	if ((tx_idle(app) && !app->batch_n) || clock_mono_ms() >= app->drain_deadline_ms)
		uv_stop(app->loop);
}

void app_stop(struct app *app)
{
	if (app->draining) {
		uv_stop(app->loop); /* a second signal: stop now */
		return;
	}
	log_notice("stopping: no new connections, finishing replies (up to %d ms)",
		   app->cfg.drain_ms);
	sd_notify_text("STOPPING=1");
	app->draining = true;
	group_commit(app, true);
	app->drain_deadline_ms = clock_mono_ms() + app->cfg.drain_ms;
	uv_timer_start(&app->drain_timer, on_drain_tick, 0, 20);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	app_stop(h->data);
}

static int seed_tokens(struct app *app)
{
	size_t i;
	json_t *t;

	if (!app->cfg.id_tokens)
		return 0;
	json_array_foreach(app->cfg.id_tokens, i, t) {
		struct store_token tok = {.status = AUTH_ACCEPTED};
		const char *status = json_string_value(json_object_get(t, "status"));
		const char *expiry = json_string_value(json_object_get(t, "expiry"));
		const char *parent = json_string_value(json_object_get(t, "parent"));
		const char *site = json_string_value(json_object_get(t, "site"));

		snprintf(tok.token, sizeof(tok.token), "%s",
			 json_string_value(json_object_get(t, "token")));
		if (status && (tok.status = auth_status_from_string(status)) < 0) {
			log_err("id_tokens[%zu]: unknown status \"%s\"", i, status);
			return -EINVAL;
		}
		if (expiry && ocpp_time_parse(expiry, &tok.expiry_ms) < 0) {
			log_err("id_tokens[%zu]: expiry is not an RFC 3339 date-time", i);
			return -EINVAL;
		}
		snprintf(tok.parent, sizeof(tok.parent), "%s", parent ? parent : "");
		snprintf(tok.site_id, sizeof(tok.site_id), "%s", site ? site : "");
		if (store_token_put(app->store, &tok) < 0) {
			log_err("id_tokens[%zu]: %s", i, store_errmsg(app->store));
			return -EIO;
		}
	}
	return store_commit(app->store);
}

/* systemd's readiness protocol (Type=notify) without libsystemd: one datagram to
 * $NOTIFY_SOCKET ("@name" is an abstract socket). Nothing happens without the variable. */
static void sd_notify_text(const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path) ||
	    (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		log_debug("sd_notify: %s", strerror(errno));
	close(fd);
}

/* Where operators reach the API, for the Origin and Host checks: public_url, or the API's
 * listener (a wildcard address accepts any host name on its port). */
static void set_public_url(struct app *app)
{
	const char *host =
	    app->transport.api_port ? app->cfg.api_listen_host : app->cfg.listen_host;
	int port = app->transport.api_port ? app->transport.api_port : app->transport.port;
	bool any = !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "*");

	/* the API is TLS on its own listener with api_tls_cert, or on the charger port with
	 * tls_cert (docs/config.md) */
	app->api.tls =
	    app->transport.api_port ? app->cfg.api_tls_cert != NULL : app->cfg.tls_cert != NULL;
	app->api.separate_listener = app->transport.api_port != 0;
	if (app->cfg.public_url)
		snprintf(app->api.public_url, sizeof(app->api.public_url), "%s",
			 app->cfg.public_url);
	else
		snprintf(app->api.public_url, sizeof(app->api.public_url), "%s://%s%s%s:%d",
			 app->api.tls ? "https" : "http", strchr(host, ':') && !any ? "[" : "",
			 any ? "*" : host, strchr(host, ':') && !any ? "]" : "", port);
}

static int write_port_file(const char *path, int port, int api_port)
{
	char tmp[4096], buf[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	/* the charger port, then the API's own port when it has one */
	n = api_port ? snprintf(buf, sizeof(buf), "%d\n%d\n", port, api_port)
		     : snprintf(buf, sizeof(buf), "%d\n", port);
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) < 0 ? -errno : 0; /* readers never see a half-written file */
}

/* Housekeeping that reads on the loop waits at most this long for a moment without COMMITs in
 * flight (on_plan_tick). */
#define HOUSEKEEPING_WAIT_MS 10000

/* The planner's tick, and every PLAN_SEND_MS while a plan is being sent (a few ms of sends
 * each time: svc_plan_tick()). */
#define PLAN_TICK_MS 100
#define PLAN_SEND_MS 10

static void on_plan_tick(uv_timer_t *t)
{
	struct app *app = t->data;
	uint64_t now = uv_hrtime();
	bool sending = svc_plan_tick(app->svc);

	uv_timer_start(t, on_plan_tick, sending ? PLAN_SEND_MS : PLAN_TICK_MS, 0);
	if (now - app->plan_tick_ns < (PLAN_TICK_MS - 10) * 1000000ULL)
		return; /* housekeeping at the 100 ms ticks only */
	app->plan_tick_ns = now;
	/* Reservations due and local-list pushes read the database on the loop. On PostgreSQL a
	 * read waits behind the COMMITs in flight on the connection, and a COMMIT held up (a
	 * lock, a saturated server) would stall the loop with it, and the check of late answers:
	 * they run when no batch waits, or at least every HOUSEKEEPING_WAIT_MS. */
	if (app->batch_n && now - app->housekeeping_ns < HOUSEKEEPING_WAIT_MS * 1000000ULL)
		return;
	app->housekeeping_ns = now;
	svc_reservations_tick(app->svc); /* sites: reservations expire on the node's clock */
	svc_locallist_tick(app->svc);	 /* local lists: debounced pushes after token changes */
}

/* Until calendars live in the store (PUT /api/sites/{id}/tariff), a calendar per site kind can
 * be named by CSMS_TARIFF_<KIND> (a docs/tariffs/ file) for the planner. */
static int load_kind_tariffs(struct app *app)
{
	static const char *const env[_SITE_KIND_MAX] = {
	    [SITE_PUBLIC] = "CSMS_TARIFF_PUBLIC",
	    [SITE_RESIDENTIAL] = "CSMS_TARIFF_RESIDENTIAL",
	    [SITE_RURAL] = "CSMS_TARIFF_RURAL",
	    [SITE_SWAP] = "CSMS_TARIFF_SWAP",
	};

	for (int k = 0; k < _SITE_KIND_MAX; k++) {
		const char *path = getenv(env[k]);
		char err[TARIFF_JSON_ERR_MAX];
		struct tariff_calendar *cal;

		if (!path || !*path)
			continue;
		if (tariff_json_load_file(path, &cal, err) < 0) {
			log_err("%s=%s: %s", env[k], path, err);
			return -EINVAL;
		}
		svc_kind_set_tariff(app->svc, k, cal);
		log_notice("planner: %s sites priced by %s", site_kind_to_string(k), path);
	}
	return 0;
}

/* svc's work off the event loop (the KDF of a password rotation): libuv's thread pool. The
 * loop runs until every queued job is back (close_all), so svc outlives them. */
struct offload_job {
	uv_work_t req;
	void (*work)(void *arg);
	void (*done)(void *arg, int status);
	void *arg;
};

static void offload_work(uv_work_t *req)
{
	struct offload_job *j = req->data;

	j->work(j->arg);
}

static void offload_after(uv_work_t *req, int status)
{
	struct offload_job *j = req->data;

	j->done(j->arg, status < 0 ? status : 0);
	free(j);
}

static int offload_queue(void *impl, void (*work)(void *arg), void (*done)(void *arg, int status),
			 void *arg)
{
	struct offload_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	*j = (struct offload_job){.work = work, .done = done, .arg = arg};
	j->req.data = j;
	r = uv_queue_work(impl, &j->req, offload_work, offload_after);
	if (r < 0)
		free(j);
	return r;
}

static const struct svc_offload_ops offload_ops = {offload_queue};

struct app *app_create(struct cfg *cfg, uv_loop_t *loop)
{
	struct app *app = calloc(1, sizeof(*app));
	char err[512], node_id[STORE_NODE_ID_MAX + 1];
	int r;

	if (!app)
		return NULL;
	app->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	app->clock = clock_system;
	app->loop = loop;
	conn_hub_init(&app->hub);
	app->hub.cfg = &app->cfg;
	app->hub.io = &transport_io;
	app->hub.next_call_id = &app->next_call_id;
	app->hub.commit = commit_hook;
	app->hub.commit_ud = app;
	log_set_level(app->cfg.log_level);
	log_set_json(app->cfg.log_json);
	app->started_ms = clock_system_now_ms(NULL);
	if (cfg_clock_simulated(&app->cfg)) {
		char t[40];

		app->clock = clock_scaled(app->cfg.clock_start_ms ? app->cfg.clock_start_ms
								  : clock_system_now_ms(NULL),
					  app->cfg.clock_anchor_ms, app->cfg.clock_speed);
		ocpp_time_format(clock_now_ms(&app->clock), t, sizeof(t));
		log_warn(
		    "DEMO CLOCK: simulated time is %s, running %dx; timestamps, tariffs and plans "
		    "follow it (network timeouts stay real). Not for production.",
		    t, app->clock.speed);
	}

	app->store = store_open(app->cfg.db_path, app->cfg.sync_full, err, sizeof(err));
	app->commit_limit = app->cfg.commits_in_flight ? (unsigned)app->cfg.commits_in_flight
			    : store_dsn_is_pg(app->cfg.db_path) ? 1
								: 0;
	if (!app->store) {
		log_err("database: %s", err);
		goto fail;
	}
	if (seed_tokens(app) < 0)
		goto fail;
	/* nodes: this node's id in the ownership rows (docs/scaling.md) */
	if (app->cfg.node_id)
		snprintf(node_id, sizeof(node_id), "%s", app->cfg.node_id);
	else
		cluster_default_node_id(&app->cfg, node_id, sizeof(node_id));
	if (store_node_set(app->store, node_id, app->cfg.owner_lease_ms) < 0) {
		log_err("node_id \"%s\": at most %d bytes", node_id, STORE_NODE_ID_MAX);
		goto fail;
	}
	/* After a crash nobody is connected to this node, whatever the table says (with several
	 * nodes: only this node's stations). */
	if (store_stations_offline_all(app->store) < 0 || store_commit(app->store) < 0)
		goto fail;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		app->catalog[v] = ocpp_catalog_create(v);
		if (!app->catalog[v]) {
			log_err("cannot load the OCPP schemas of %s", ocpp_version_name(v));
			goto fail;
		}
		app->hub.catalog[v] = app->catalog[v];
	}
	app->svc = svc_create(app->store, &app->clock, &app->cfg);
	if (!app->svc)
		goto fail;
	svc_set_offload(app->svc, &offload_ops, loop);
	/* commands reach the stations connected here, or through the database the node that
	 * holds them (cluster); the API works on the domain only */
	app->cluster = cluster_create(loop, app->store, app->svc, &app->cfg, node_id);
	if (!app->cluster)
		goto fail;
	svc_set_link(app->svc, &cluster_link_ops, app->cluster);
	app->api = (struct api){
	    .svc = app->svc, .store = app->store, .cfg = &app->cfg, .draining = &app->draining};
	if (api_live_start(&app->api) < 0) /* /api/live: the event bus to the dashboards */
		goto fail;
	cluster_set_live(app->cluster, api_live_remote, api_live_watched,
			 &app->api); /* other nodes' events */
	app->hub.svc = app->svc;
	/* tariff calendars: loaded once here, then by the API (docs/tariffs/README.md) */
	app->api.energy = energy_create(app->store);
	if (!app->api.energy || (r = tariff_store_load(app->store, app->api.energy)) < 0)
		goto fail;
	log_info("%d tariff calendar(s) loaded", r);
	/* the planner and swap billing price a site with the calendar the operator assigned */
	if (svc_plan_set_calendars(app->svc, app->api.energy) < 0)
		goto fail;
	/* the locked API: logins hash on the loop's threadpool */
	app->api.loop = loop;
	app->api.auth = api_auth_create(&app->cfg);
	if (!app->api.auth)
		goto fail;
	app->api.metrics = app_metrics_text;
	app->api.metrics_ud = app;

	uv_check_init(loop, &app->commit_check);
	app->commit_check.data = app;
	uv_check_start(&app->commit_check, on_check);
	uv_prepare_init(loop, &app->commit_prepare);
	app->commit_prepare.data = app;
	uv_prepare_start(&app->commit_prepare, on_prepare);
	uv_timer_init(loop, &app->hub.call_timer);
	app->hub.call_timer.data = &app->hub;
	conn_sweep_start(&app->hub, loop);
	uv_timer_init(loop, &app->drain_timer);
	app->drain_timer.data = app;
	if (load_kind_tariffs(app) < 0 || svc_plan_start(app->svc) < 0)
		goto fail;
	uv_timer_init(loop, &app->plan_timer);
	app->plan_timer.data = app;
	uv_timer_start(&app->plan_timer, on_plan_tick, PLAN_TICK_MS, 0);
	if (app->cfg.ca_dir) { /* the operator's CA: SignCertificate, renewal (docs/security.md) */
		app->ca = ca_open(app->cfg.ca_dir, err, sizeof(err));
		if (!app->ca) {
			log_err("ca_dir: %s", err);
			goto fail;
		}
		ca_set_days(app->ca, app->cfg.cert_days);
		svc_set_ca(app->svc, &ca_svc_ops, app->ca);
	}
	uv_timer_init(loop, &app->cert_timer);
	app->cert_timer.data = app;
	if (app->ca)
		uv_timer_start(&app->cert_timer, on_cert_tick, (uint64_t)app->cfg.cert_check_ms,
			       (uint64_t)app->cfg.cert_check_ms);
	uv_signal_init(loop, &app->sig_term);
	app->sig_term.data = app;
	uv_signal_start(&app->sig_term, on_signal, SIGTERM);
	uv_signal_init(loop, &app->sig_int);
	app->sig_int.data = app;
	uv_signal_start(&app->sig_int, on_signal, SIGINT);

	app->transport = (struct transport){.loop = loop,
					    .cfg = &app->cfg,
					    .svc = app->svc,
					    .hub = &app->hub,
					    .api = &app->api,
					    .draining = &app->draining,
					    .late = &app->late};
	r = transport_start(&app->transport);
	if (r < 0) {
		if (app->cfg.api_listen_host[0])
			log_err("cannot listen on %s:%d and (API) %s:%d: %s%s",
				app->cfg.listen_host, app->cfg.listen_port,
				app->cfg.api_listen_host, app->cfg.api_listen_port, strerror(-r),
				r == -EKEYREJECTED ? " (check api_tls_cert and api_tls_key)" : "");
		else
			log_err("cannot listen on %s:%d: %s", app->cfg.listen_host,
				app->cfg.listen_port, strerror(-r));
		goto fail;
	}
	set_public_url(app);
	if (app->cfg.port_file &&
	    write_port_file(app->cfg.port_file, app->transport.port, app->transport.api_port) < 0) {
		log_err("cannot write port file %s", app->cfg.port_file);
		goto fail;
	}
	/* plain ws:// off loopback was announced by the transport (warn_plain_listener) */
	log_notice("csms %s listening on %s:%d (chargers: %s://%s:%d/ocpp/<id>%s, api: %s/api, "
		   "registration %s, db %s)",
		   CSMS_VERSION, app->cfg.listen_host, app->transport.port,
		   app->cfg.tls_cert ? "wss" : "ws", app->cfg.listen_host, app->transport.port,
		   app->cfg.tls_cert && app->cfg.tls_allow_plain ? " and ws://" : "",
		   app->api.public_url, cfg_registration_name(app->cfg.registration),
		   app->cfg.db_path);
	if (app->cfg.registration == CFG_REG_OPEN && !cfg_host_loopback(app->cfg.listen_host))
		log_warn(
		    "WARNING: registration open on the non-loopback listener %s:%d "
		    "(allow_open_registration): any charger that asks is Accepted and one "
		    "without a credential can be impersonated; a lab policy, not for production",
		    app->cfg.listen_host, app->transport.port);
	if (app->cfg.kdf_iterations < CFG_KDF_ITERATIONS_MIN)
		log_warn("WARNING: kdf_iterations %d is below %d: new charger password hashes are "
			 "cheap to crack if the database leaks; for tests only",
			 app->cfg.kdf_iterations, CFG_KDF_ITERATIONS_MIN);
	sd_notify_text("READY=1\nSTATUS=listening");
	return app;
fail:
	app_destroy(app);
	return NULL;
}

static void close_handle(uv_handle_t *h)
{
	if (h->loop && !uv_is_closing(h))
		uv_close(h, NULL);
}

static void close_all(struct app *app)
{
	transport_stop(&app->transport);
	cluster_close(app->cluster);
	close_handle((uv_handle_t *)&app->commit_check);
	close_handle((uv_handle_t *)&app->commit_prepare);
	close_handle((uv_handle_t *)&app->flush_poll);
	close_handle((uv_handle_t *)&app->hub.call_timer);
	close_handle((uv_handle_t *)&app->hub.sweep_timer);
	close_handle((uv_handle_t *)&app->drain_timer);
	close_handle((uv_handle_t *)&app->plan_timer);
	close_handle((uv_handle_t *)&app->cert_timer);
	close_handle((uv_handle_t *)&app->sig_term);
	close_handle((uv_handle_t *)&app->sig_int);
	uv_run(app->loop, UV_RUN_DEFAULT);
}

int app_run(struct app *app)
{
	uv_run(app->loop, UV_RUN_DEFAULT);
	/* Stopped by a signal: close every connection (their stations go offline), commit. */
	close_all(app);
	group_commit(app, true);
	flush_wait(app);
	log_notice("stopped cleanly (%llu calls in, %llu commits)",
		   (unsigned long long)app->hub.stats.calls_in,
		   (unsigned long long)app->stats.commits);
	return 0;
}

void app_destroy(struct app *app)
{
	if (!app)
		return;
	if (app->loop)
		close_all(app);
	transport_free(&app->transport);
	api_live_stop(&app->api);
	cluster_destroy(app->cluster);
	energy_destroy(app->api.energy);
	api_auth_destroy(app->api.auth);
	svc_destroy(app->svc);
	ca_free(app->ca);
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		ocpp_catalog_destroy(app->catalog[v]);
	store_close(app->store);
	cfg_free(&app->cfg);
	free(app);
}
