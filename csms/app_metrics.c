/* SPDX-License-Identifier: MIT */
/* /metrics: the node's figures in the Prometheus text format (version 0.0.4). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "cluster.h"
#include "conn.h"
#include "ocpp.h"
#include "plan_rt.h"

struct text {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = t->cap * 2 + (size_t)n;
			char *np = realloc(t->p, cap);

			if (!np) {
				t->oom = true;
				return;
			}
			t->p = np;
			t->cap = cap;
		}
	}
}

static void counter(struct text *t, const char *name, const char *help, uint64_t v)
{
	put(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

static void gauge(struct text *t, const char *name, const char *help, double v)
{
	put(t, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

/* Resident memory (bytes) and open descriptors of this process, from /proc. */
static void process_figures(struct text *t)
{
	long pages = 0, rss = 0, page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	gauge(t, "process_resident_memory_bytes", "Resident memory size in bytes.",
	      (double)rss * (double)page);
	gauge(t, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
	      (double)pages * (double)page);
}

/* A cumulative histogram name from counts per bucket (bounds, then +Inf) and the sum. */
static void histogram(struct text *t, const char *name, const char *help, const double *bounds,
		      size_t nbounds, const uint64_t *counts, double sum)
{
	uint64_t cum = 0;

	put(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t b = 0; b <= nbounds; b++) {
		cum += counts[b];
		if (b < nbounds)
			put(t, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[b],
			    (unsigned long long)cum);
		else
			put(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	}
	put(t, "%s_sum %.9f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

/* One counter family by protocol and action from a [version][action] table; only the actions
 * seen (non-zero) are listed. */
static void by_action(struct text *t, const struct app *app, const char *name, const char *help,
		      const uint64_t (*tab)[CONN_ACTIONS_MAX + 1])
{
	put(t, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		for (int a = 0; a <= CONN_ACTIONS_MAX; a++) {
			const struct ocpp_msg_def *d;

			if (!tab[v][a])
				continue;
			d = a < CONN_ACTIONS_MAX ? ocpp_catalog_at(app->catalog[v], (size_t)a)
						 : NULL;
			put(t, "%s{protocol=\"%s\",action=\"%s\"} %llu\n", name,
			    ocpp_version_name(v), d ? d->action : "unknown",
			    (unsigned long long)tab[v][a]);
		}
	}
}

/* Calls by action, CALLERRORs by action and by code, the latency and batch histograms. */
static void call_figures(struct text *t, const struct app *app)
{
	static const double lat[] = {CONN_LATENCY_BUCKETS_S};
	static const unsigned batch_u[] = {CONN_BATCH_BUCKETS};
	const struct conn_stats *s = &app->hub.stats;
	double batch[sizeof(batch_u) / sizeof(batch_u[0])];

	by_action(t, app, "csms_calls_in_by_action_total",
		  "CALLs received from chargers, by protocol and action.", s->calls_by_action);
	by_action(t, app, "csms_callerrors_out_by_action_total",
		  "CALLERRORs sent to chargers, by protocol and the action of the CALL.",
		  s->errors_by_action);
	put(t, "# HELP csms_callerrors_out_by_code_total CALLERRORs sent to chargers, by protocol "
	       "and error code.\n# TYPE csms_callerrors_out_by_code_total counter\n");
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		for (int e = 1; e < _OCPP_ERR_MAX; e++)
			if (s->errors_by_code[v][e])
				put(t,
				    "csms_callerrors_out_by_code_total{protocol=\"%s\",code=\"%s\"}"
				    " "
				    "%llu\n",
				    ocpp_version_name(v), ocpp_err_name(v, e),
				    (unsigned long long)s->errors_by_code[v][e]);
	histogram(t, "csms_call_seconds",
		  "Handling time of chargers' CALLs, from the frame in to the reply released "
		  "(the wait for the group commit included).",
		  lat, sizeof(lat) / sizeof(lat[0]), s->latency_hist,
		  (double)s->latency_ns_sum / 1e9);
	for (size_t b = 0; b < sizeof(batch) / sizeof(batch[0]); b++)
		batch[b] = batch_u[b];
	histogram(t, "csms_commit_batch_replies", "Replies released to chargers per group commit.",
		  batch, sizeof(batch) / sizeof(batch[0]), s->batch_hist, (double)s->batch_sum);
}

int app_metrics_text(void *ud, char **ret_text)
{
	static const double bounds[] = {APP_COMMIT_BUCKETS_S};
	struct app *app = ud;
	struct text t = {.p = malloc(8192), .cap = 8192};
	unsigned by_version[_OCPP_VERSION_MAX] = {0}, held = 0, calls = 0;
	uint64_t cum = 0, tx_frames = 0, held_frames = 0, queued_calls = 0;

	if (!t.p)
		return -ENOMEM;
	t.p[0] = '\0';
	for (struct list *l = app->hub.conns.next; l != &app->hub.conns; l = l->next) {
		struct conn *c = list_entry(l, struct conn, link);

		if ((int)c->version >= 0 && c->version < _OCPP_VERSION_MAX)
			by_version[c->version]++;
		tx_frames += c->tx_count;
		queued_calls += c->queue_len;
	}
	for (struct list *l = app->hub.held_conns.next; l != &app->hub.held_conns; l = l->next) {
		struct conn *c = list_entry(l, struct conn, held_link);

		held++;
		for (const struct conn_frame *f = c->held_head; f; f = f->next)
			held_frames++;
	}
	for (struct list *l = app->hub.calls.next; l != &app->hub.calls; l = l->next)
		calls++;

	put(&t, "# HELP csms_connections Charger connections open, by OCPP version.\n"
		"# TYPE csms_connections gauge\n");
	for (int v = 0; v < _OCPP_VERSION_MAX; v++)
		put(&t, "csms_connections{protocol=\"%s\"} %u\n", ocpp_version_name(v),
		    by_version[v]);
	counter(&t, "csms_frames_in_total", "WebSocket text frames received from chargers.",
		app->hub.stats.frames_in);
	counter(&t, "csms_calls_in_total", "CALLs received from chargers.",
		app->hub.stats.calls_in);
	counter(&t, "csms_callerrors_out_total", "CALLERRORs sent to chargers.",
		app->hub.stats.callerrors_out);
	counter(&t, "csms_calls_out_total", "CALLs sent to chargers (commands).",
		app->hub.stats.calls_out);
	counter(&t, "csms_commits_total", "Group commits that reached the database.",
		app->stats.commits);
	counter(&t, "csms_commit_failures_total", "Group commits that failed (rolled back).",
		app->stats.commit_failures);
	put(&t, "# HELP csms_commit_seconds Duration of group commits on the loop (the fsync "
		"too when the store has no writer thread).\n"
		"# TYPE csms_commit_seconds histogram\n");
	for (size_t b = 0; b <= sizeof(bounds) / sizeof(bounds[0]); b++) {
		cum += app->commit_hist[b];
		if (b < sizeof(bounds) / sizeof(bounds[0]))
			put(&t, "csms_commit_seconds_bucket{le=\"%g\"} %llu\n", bounds[b],
			    (unsigned long long)cum);
		else
			put(&t, "csms_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	put(&t, "csms_commit_seconds_sum %.9f\ncsms_commit_seconds_count %llu\n",
	    (double)app->commit_ns_sum / 1e9, (unsigned long long)cum);
	/* the group commit off the loop: from a batch's COMMIT to its fsync reported back */
	cum = 0;
	put(&t, "# HELP csms_commit_flush_seconds From a group commit to its flush to disk on the "
		"writer thread reported back to the loop (the fsync and the wait for it).\n"
		"# TYPE csms_commit_flush_seconds histogram\n");
	for (size_t b = 0; b <= sizeof(bounds) / sizeof(bounds[0]); b++) {
		cum += app->flush_hist[b];
		if (b < sizeof(bounds) / sizeof(bounds[0]))
			put(&t, "csms_commit_flush_seconds_bucket{le=\"%g\"} %llu\n", bounds[b],
			    (unsigned long long)cum);
		else
			put(&t, "csms_commit_flush_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	put(&t, "csms_commit_flush_seconds_sum %.9f\ncsms_commit_flush_seconds_count %llu\n",
	    (double)app->flush_ns_sum / 1e9, (unsigned long long)cum);
	gauge(&t, "csms_commits_in_flight", "Group commits written, waiting for their flush.",
	      (double)(app->flush_seq - app->flush_durable));
	gauge(&t, "csms_commit_batches_waiting",
	      "Closed group commits whose answers wait for a flush.", app->batch_n);
	counter(&t, "csms_commit_flush_failures_total",
		"Flushes to disk that failed (their answers went out as errors).",
		app->flush_failures);
	gauge(&t, "csms_held_connections", "Connections whose replies wait for the group commit.",
	      held);
	gauge(&t, "csms_calls_in_flight", "CSMS CALLs waiting for a charger's answer.", calls);
	call_figures(&t, app);
	gauge(&t, "csms_held_replies", "Replies waiting for the group commit.",
	      (double)held_frames);
	gauge(&t, "csms_tx_queued_frames", "Frames queued for chargers, not yet written.",
	      (double)tx_frames);
	gauge(&t, "csms_calls_queued", "CSMS CALLs queued behind the one in flight to a charger.",
	      (double)queued_calls);
	gauge(&t, "csms_live_subscribers", "Dashboards connected to /api/live.",
	      api_live_count(&app->api));
	counter(&t, "csms_live_dropped_total",
		"/api/live subscribers closed for falling behind since start.",
		api_live_dropped(&app->api));
	counter(&t, "csms_planner_runs_total", "Plans the planner applied since start.",
		svc_plan_count(app->svc));
	{
		uint64_t sent, skipped;

		svc_plan_tx_counts(app->svc, &sent, &skipped);
		counter(&t, "csms_planner_tx_profiles_sent_total",
			"Sessions' TxProfiles the planner sent since start.", sent);
		counter(&t, "csms_planner_tx_profiles_skipped_total",
			"Sessions' TxProfiles not sent again: the station follows them already.",
			skipped);
	}
	counter(&t, "csms_planner_rolls_skipped_total",
		"Slot starts where a site's plan stood: its sessions' readings follow it.",
		svc_plan_rolls_skipped(app->svc));
	gauge(&t, "csms_draining", "1 while the node is stopping.", app->draining ? 1 : 0);
	counter(
	    &t, "csms_commits_deferred_total",
	    "Group commits left to accumulate behind the COMMITs in flight (commits_in_flight).",
	    app->commits_deferred);
	gauge(&t, "csms_late", "1 while answers are late_answer_ms late (new chargers get 503).",
	      app->late ? 1 : 0);
	counter(&t, "csms_handshakes_shed_total",
		"Charger handshakes refused (503) while the node's answers were late.",
		app->transport.shed);
	if (cluster_active(app->cluster)) {
		gauge(&t, "csms_cluster_live_wanted",
		      "1 while another node has /api/live subscribers (this node publishes).",
		      cluster_live_wanted(app->cluster) ? 1 : 0);
		counter(&t, "csms_cluster_live_unpublished_total",
			"Live events not published: no other node had subscribers.",
			cluster_live_dropped(app->cluster));
	}
	gauge(&t, "process_start_time_seconds", "Start time of the process (Unix seconds).",
	      (double)app->started_ms / 1000.0);
	process_figures(&t);
	if (t.oom) {
		free(t.p);
		return -ENOMEM;
	}
	*ret_text = t.p;
	return 0;
}
