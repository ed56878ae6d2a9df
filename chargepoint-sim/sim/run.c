/* SPDX-License-Identifier: MIT */
/* One process's share of the fleet on lws' libuv loop: cpclient transport, ticks, phases. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "cp-private.h"
#include "cpclient.h"
#include "cpsim.h"
#include "scenario.h"
#include "stats.h"

#define TICK_MS	      5
#define CLOSE_WAIT_MS 5000	  /* after close_all, how long connections may take to go */
#define CERT_VALID_S  (24 * 3600) /* minted client certificates, unless --cert-valid */

enum phase { PH_LOAD, PH_DRAIN, PH_CLOSING, PH_OVER };

struct run {
	uv_loop_t loop;
	uv_timer_t tick;
	uv_timer_t progress;
	uv_signal_t sig_int, sig_term;
	struct cpclient_ctx *cc;
	struct cpclient_cert **certs; /* [count]: each charger's own (--cert-dir, --client-ca) */
	uint32_t first, count;
	struct cpsim_fleet *f;
	const struct cpsim_scenario *sc;
	struct cpsim_stats *stats;
	uint64_t t0_ns;
	enum phase phase;
	uint64_t deadline_us;
	cpsim_progress_fn progress_fn;
	void *progress_arg;
	int signals;
};

static uint64_t now_us(const struct run *r)
{
	uint64_t t = uv_hrtime();

	return t > r->t0_ns ? (t - r->t0_ns) / 1000 : 0;
}

/* ---------------------------------------------------------------- transport */

static int tp_connect(void *ctx, struct cpsim_cp *cp, const struct cpsim_connect *req, void **ret)
{
	struct run *r = ctx;
	struct cpclient_opts o = {
	    .host = req->host,
	    .port = req->port,
	    .path = req->path,
	    .subprotocols = req->subprotocols,
	    .user = req->user,
	    .password = req->password,
	    .source_addr = req->source_addr,
	    .ssl = r->sc->tls,
	    .ssl_insecure = r->sc->tls_insecure,
	    .server_name = r->sc->tls_server_name,
	    .cert = r->certs ? r->certs[cp->index - r->first] : NULL,
	    .user_ptr = cp,
	};
	struct cpclient_conn *c;
	int e = cpclient_connect(r->cc, &o, &c);

	if (e < 0)
		return e;
	*ret = c;
	return 0;
}

static int tp_send(void *ctx, void *conn, const char *buf, size_t len)
{
	(void)ctx;
	return cpclient_send_text(conn, buf, len);
}

static void tp_close(void *ctx, void *conn, int code)
{
	(void)ctx;
	cpclient_close(conn, code);
}

static const struct cpsim_transport transport = {
    .connect = tp_connect,
    .send = tp_send,
    .close = tp_close,
};

/* ---------------------------------------------------------------- client certificates */

/*
 * Each charger's own client certificate (security profile 3: CN = its id), before the loop
 * starts: read from --cert-dir (DIR/<id>.crt, DIR/<id>.key) or minted with --client-ca. All
 * connections share cpclient's one SSL_CTX; a certificate is a key and an X509 in memory.
 */
static int load_certs(struct run *r)
{
	const struct cpsim_scenario *sc = r->sc;
	struct cpclient_cert *ca = NULL;
	char id[64], crt[4096], key[4096];
	int e = 0;

	if (!sc->tls_cert_dir && !sc->tls_client_ca)
		return 0;
	r->certs = calloc(r->count ? r->count : 1, sizeof(*r->certs));
	if (!r->certs)
		return -ENOMEM;
	if (sc->tls_client_ca) {
		e = cpclient_cert_load(sc->tls_client_ca, sc->tls_client_ca_key, &ca);
		if (e < 0) {
			fprintf(stderr, "cpsim: --client-ca %s / --client-ca-key %s: %s\n",
				sc->tls_client_ca, sc->tls_client_ca_key,
				e == -ENOENT ? "cannot read"
					     : "not a PEM certificate and the key that matches it");
			return e;
		}
	}
	for (uint32_t i = 0; i < r->count; i++) {
		cpsim_charger_id(sc, r->first + i, id, sizeof(id));
		if (ca) {
			e = cpclient_cert_mint(
			    ca, id, sc->tls_cert_valid_s ? sc->tls_cert_valid_s : CERT_VALID_S,
			    &r->certs[i]);
			if (e < 0) {
				fprintf(stderr, "cpsim: cannot mint a certificate for %s (%d)\n",
					id, e);
				break;
			}
			continue;
		}
		snprintf(crt, sizeof(crt), "%s/%s.crt", sc->tls_cert_dir, id);
		snprintf(key, sizeof(key), "%s/%s.key", sc->tls_cert_dir, id);
		e = cpclient_cert_load(crt, key, &r->certs[i]);
		if (e < 0) {
			fprintf(stderr, "cpsim: %s, %s: %s\n", crt, key,
				e == -ENOENT ? "cannot read"
					     : "not a PEM certificate and the key that matches it");
			break;
		}
	}
	cpclient_cert_free(ca);
	return e < 0 ? e : 0;
}

static void free_certs(struct run *r)
{
	for (uint32_t i = 0; r->certs && i < r->count; i++)
		cpclient_cert_free(r->certs[i]);
	free(r->certs);
	r->certs = NULL;
}

/* ---------------------------------------------------------------- callbacks */

static void on_open(struct cpclient_conn *c, const char *subprotocol)
{
	struct cpsim_cp *cp = cpclient_user(c);

	if (!cp)
		return;
	cpsim_fleet_set_time(cp->f, now_us(cp->f->tp_ctx));
	cpsim_cp_opened(cp, subprotocol);
}

static void on_text(struct cpclient_conn *c, const char *buf, size_t len)
{
	struct cpsim_cp *cp = cpclient_user(c);

	if (!cp)
		return;
	cpsim_fleet_set_time(cp->f, now_us(cp->f->tp_ctx));
	cpsim_cp_text(cp, buf, len);
}

static void on_close(struct cpclient_conn *c, const struct cpclient_close_info *info)
{
	struct cpsim_cp *cp = cpclient_user(c);
	enum cpsim_end end;

	if (!cp)
		return;
	switch (info->end) {
	case CPCLIENT_END_REFUSED:
		end = CPSIM_END_REFUSED;
		break;
	case CPCLIENT_END_PEER:
		end = CPSIM_END_PEER;
		break;
	case CPCLIENT_END_LOCAL:
		end = CPSIM_END_LOCAL;
		break;
	default:
		end = CPSIM_END_ERROR;
		break;
	}
	cpsim_fleet_set_time(cp->f, now_us(cp->f->tp_ctx));
	cpsim_cp_closed(cp, end);
}

static const struct cpclient_callbacks callbacks = {
    .on_open = on_open,
    .on_text = on_text,
    .on_close = on_close,
};

/* ---------------------------------------------------------------- phases */

static void report_progress(struct run *r)
{
	struct cpsim_progress p;

	if (!r->progress_fn)
		return;
	cpsim_fleet_progress(r->f, &p);
	r->progress_fn(&p, (double)now_us(r) / 1e6, r->progress_arg);
}

static void begin_drain(struct run *r)
{
	uint64_t t = now_us(r);

	r->phase = PH_DRAIN;
	r->stats->load_s = (double)t / 1e6;
	r->deadline_us = t + (uint64_t)(r->sc->drain_s * 1e6);
	cpsim_fleet_begin_drain(r->f);
}

static void begin_close(struct run *r)
{
	r->phase = PH_CLOSING;
	r->deadline_us = now_us(r) + CLOSE_WAIT_MS * 1000ull;
	cpsim_fleet_close_all(r->f);
}

static void on_tick(uv_timer_t *t)
{
	struct run *r = t->data;
	uint64_t now = now_us(r);

	cpsim_fleet_run(r->f, now);
	switch (r->phase) {
	case PH_LOAD:
		if (now >= (uint64_t)(r->sc->duration_s * 1e6))
			begin_drain(r);
		break;
	case PH_DRAIN:
		if (now >= r->deadline_us || cpsim_fleet_drained(r->f))
			begin_close(r);
		break;
	case PH_CLOSING:
		if (now >= r->deadline_us || !cpsim_fleet_live_connections(r->f)) {
			r->phase = PH_OVER;
			r->stats->elapsed_s = (double)now / 1e6;
			uv_stop(&r->loop);
		}
		break;
	default:
		break;
	}
}

static void on_progress(uv_timer_t *t)
{
	report_progress(t->data);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct run *r = s->data;

	(void)signum;
	r->signals++;
	if (r->phase == PH_LOAD)
		begin_drain(r);
	else if (r->phase == PH_DRAIN || r->signals >= 3)
		begin_close(r);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int cpsim_run_fleet(const struct cpsim_scenario *sc, uint32_t first, uint32_t count,
		    struct cpsim_stats *stats, int64_t wall_start_ms, uint64_t t0_ns,
		    cpsim_progress_fn fn, void *arg)
{
	struct run r = {.sc = sc,
			.stats = stats,
			.t0_ns = t0_ns,
			.progress_fn = fn,
			.progress_arg = arg,
			.first = first,
			.count = count};
	struct cpclient_ctx_opts co = {.loop = &r.loop,
				       .cb = &callbacks,
				       .tls = sc->tls,
				       .ca_file = sc->tls_ca,
				       .cert_file = sc->tls_cert,
				       .key_file = sc->tls_key};
	struct cpsim_fleet_opts fo = {
	    .sc = sc,
	    .first = first,
	    .count = count,
	    .tp = &transport,
	    .tp_ctx = &r,
	    .stats = stats,
	    .wall_start_ms = wall_start_ms,
	};
	double progress_s = sc->progress_s > 0 ? sc->progress_s : 1.0;
	int ret = 0, spins = 0;
	uint64_t spent_ns = uv_hrtime();

	ret = load_certs(&r);
	if (ret < 0) {
		free_certs(&r);
		return ret;
	}
	if (r.certs) {
		/* the fleet's clock starts once its certificates are there: minting 5,000 takes
		 * a second or two, which is no part of the boot storm being measured */
		spent_ns = uv_hrtime() - spent_ns;
		r.t0_ns += spent_ns;
		fo.wall_start_ms += (int64_t)(spent_ns / 1000000);
		fprintf(stderr,
			"cpsim: %u client certificates %s in %.2f s (before the run's clock)\n",
			count, sc->tls_client_ca ? "minted" : "read", (double)spent_ns / 1e9);
	}
	if (uv_loop_init(&r.loop) < 0) {
		free_certs(&r);
		return -ENOMEM;
	}
	cpclient_set_log_level(sc->verbose > 1 ? 1 : 0);
	r.cc = cpclient_ctx_create(&co);
	r.f = r.cc ? cpsim_fleet_create(&fo) : NULL;
	if (!r.f) {
		ret = -ENOMEM;
		goto out;
	}
	stats->processes = 1;
	uv_timer_init(&r.loop, &r.tick);
	uv_timer_init(&r.loop, &r.progress);
	uv_signal_init(&r.loop, &r.sig_int);
	uv_signal_init(&r.loop, &r.sig_term);
	r.tick.data = r.progress.data = r.sig_int.data = r.sig_term.data = &r;
	uv_timer_start(&r.tick, on_tick, 0, TICK_MS);
	uv_timer_start(&r.progress, on_progress, (uint64_t)(progress_s * 1000),
		       (uint64_t)(progress_s * 1000));
	uv_signal_start(&r.sig_int, on_signal, SIGINT);
	uv_signal_start(&r.sig_term, on_signal, SIGTERM);
	if (sc->duration_s <= 0)
		begin_drain(&r);
	uv_run(&r.loop, UV_RUN_DEFAULT);

	cpsim_fleet_finish(r.f);
	report_progress(&r);
	uv_timer_stop(&r.tick);
	uv_timer_stop(&r.progress);
	uv_signal_stop(&r.sig_int);
	uv_signal_stop(&r.sig_term);
	uv_close((uv_handle_t *)&r.tick, NULL);
	uv_close((uv_handle_t *)&r.progress, NULL);
	uv_close((uv_handle_t *)&r.sig_int, NULL);
	uv_close((uv_handle_t *)&r.sig_term, NULL);
out:
	/* connections still open get on_close(LOCAL) from here: keep the fleet until then */
	cpclient_ctx_destroy(r.cc);
	cpsim_fleet_destroy(r.f);
	free_certs(&r);
	uv_walk(&r.loop, close_walk, NULL);
	while (uv_loop_close(&r.loop) == UV_EBUSY && spins++ < 1000)
		uv_run(&r.loop, UV_RUN_NOWAIT);
	return ret;
}
