/* SPDX-License-Identifier: MIT */
/* Counters and histograms of a run, merged across workers and reported as text or JSON. */
#include "stats.h"

#include <math.h>
#include <string.h>

#include <jansson.h>

static const char *const action_names[_CPSIM_A_MAX] = {
    [CPSIM_A_BOOT] = "BootNotification",
    [CPSIM_A_HEARTBEAT] = "Heartbeat",
    [CPSIM_A_STATUS] = "StatusNotification",
    [CPSIM_A_AUTHORIZE] = "Authorize",
    [CPSIM_A_START_TX] = "StartTransaction",
    [CPSIM_A_STOP_TX] = "StopTransaction",
    [CPSIM_A_METER_VALUES] = "MeterValues",
    [CPSIM_A_TX_EVENT] = "TransactionEvent",
    [CPSIM_A_EV_NEEDS] = "NotifyEVChargingNeeds",
    [CPSIM_A_NOTIFY_REPORT] = "NotifyReport",
    [CPSIM_A_DATA_TRANSFER] = "DataTransfer",
    [CPSIM_A_FIRMWARE_STATUS] = "FirmwareStatusNotification",
    [CPSIM_A_DIAG_STATUS] = "DiagnosticsStatusNotification",
    [CPSIM_A_LOG_STATUS] = "LogStatusNotification",
    [CPSIM_A_REPORT_PROFILES] = "ReportChargingProfiles",
};

const char *cpsim_action_name(enum cpsim_action a)
{
	return (unsigned)a < _CPSIM_A_MAX ? action_names[a] : "?";
}

/* Error-code names for the report: the 2.0.1 spellings, plus "other". */
static const char *err_name(unsigned e)
{
	if (e == CPSIM_ERR_OTHER)
		return "other";
	return ocpp_err_name(OCPP_V201, (enum ocpp_err)e);
}

void cpsim_stats_init(struct cpsim_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->all_booted_s = -1;
	s->now.all_booted_s = -1;
}

static struct cpsim_csms_stats *csms_slot(struct cpsim_stats *s, const char *action)
{
	for (unsigned i = 0; i < s->ncsms; i++)
		if (!strcmp(s->csms[i].action, action))
			return &s->csms[i];
	if (s->ncsms == CPSIM_CSMS_ACTIONS_MAX)
		return &s->csms[CPSIM_CSMS_ACTIONS_MAX - 1]; /* folded into the last row */
	snprintf(s->csms[s->ncsms].action, sizeof(s->csms[0].action), "%s", action);
	return &s->csms[s->ncsms++];
}

void cpsim_stats_csms_call(struct cpsim_stats *s, const char *action, enum ocpp_err answer)
{
	struct cpsim_csms_stats *c = csms_slot(s, action ? action : "?");

	c->received++;
	if (answer == OCPP_ERR_NONE)
		c->answered++;
	else
		c->errors++;
}

void cpsim_stats_err_received(struct cpsim_stats *s, const char *code)
{
	int e = ocpp_err_from_name(code);

	s->err_received[e > 0 && e < _OCPP_ERR_MAX ? (unsigned)e : CPSIM_ERR_OTHER]++;
}

void cpsim_stats_err_sent(struct cpsim_stats *s, enum ocpp_err code)
{
	s->err_sent[code > 0 && code < _OCPP_ERR_MAX ? (unsigned)code : CPSIM_ERR_OTHER]++;
}

void cpsim_stats_answer_at(struct cpsim_stats *s, double sec)
{
	uint32_t i;

	if (!(sec >= 0))
		sec = 0;
	i = sec >= CPSIM_SERIES_MAX - 1 ? CPSIM_SERIES_MAX - 1 : (uint32_t)sec;
	s->series[i]++;
	if (i + 1 > s->series_len)
		s->series_len = i + 1;
}

void cpsim_stats_merge(struct cpsim_stats *d, const struct cpsim_stats *s)
{
	bool first = d->processes == 0;

#define SUM(f) d->f += s->f
	d->chargers += s->chargers;
	d->processes += s->processes ? s->processes : 1;
	if (s->elapsed_s > d->elapsed_s)
		d->elapsed_s = s->elapsed_s;
	if (s->load_s > d->load_s)
		d->load_s = s->load_s;
	SUM(conn_attempts);
	SUM(conn_made);
	SUM(conn_failed);
	SUM(conn_refused);
	SUM(conn_peer_closed);
	SUM(conn_lost);
	SUM(subprotocol_mismatch);
	SUM(boots_accepted);
	SUM(boots_pending);
	SUM(boots_rejected);
	SUM(sessions_started);
	SUM(sessions_stopped);
	SUM(sessions_open_at_end);
	SUM(auth_rejected);
	SUM(offline_starts);
	SUM(offline_list_auth);
	SUM(offline_list_refused);
	SUM(remote_starts);
	SUM(remote_stops);
	SUM(swaps);
	SUM(swaps_missed);
	SUM(import_wh);
	SUM(export_wh);
	SUM(frames_sent);
	SUM(frames_received);
	SUM(bytes_sent);
	SUM(bytes_received);
	SUM(unparsable);
	SUM(unmatched_answers);
	SUM(invalid_sent);
	SUM(invalid_received);
	SUM(send_failed);
	SUM(queue_dropped);
	SUM(tx_given_up);
	SUM(queued_at_end);
	SUM(meter_skipped);
	SUM(f_drops);
	SUM(f_offline);
	SUM(f_storm_drops);
	SUM(f_delayed);
	SUM(f_malformed);
	SUM(f_duplicates);
#undef SUM
	/* the fleet is booted when the slowest worker is */
	if (first)
		d->all_booted_s = s->all_booted_s;
	else if (d->all_booted_s < 0 || s->all_booted_s < 0)
		d->all_booted_s = -1;
	else if (s->all_booted_s > d->all_booted_s)
		d->all_booted_s = s->all_booted_s;
	for (unsigned e = 0; e <= _OCPP_ERR_MAX; e++) {
		d->err_received[e] += s->err_received[e];
		d->err_sent[e] += s->err_sent[e];
	}
	for (unsigned a = 0; a < _CPSIM_A_MAX; a++) {
		d->calls[a].sent += s->calls[a].sent;
		d->calls[a].results += s->calls[a].results;
		d->calls[a].errors += s->calls[a].errors;
		d->calls[a].timeouts += s->calls[a].timeouts;
		cpsim_hist_merge(&d->calls[a].latency, &s->calls[a].latency);
	}
	for (unsigned i = 0; i < s->ncsms; i++) {
		struct cpsim_csms_stats *c = csms_slot(d, s->csms[i].action);

		c->received += s->csms[i].received;
		c->answered += s->csms[i].answered;
		c->errors += s->csms[i].errors;
	}
	cpsim_hist_merge(&d->steady_latency, &s->steady_latency);
	for (uint32_t i = 0; i < s->series_len && i < CPSIM_SERIES_MAX; i++)
		d->series[i] += s->series[i];
	if (s->series_len > d->series_len)
		d->series_len = s->series_len;
}

static uint64_t total_calls(const struct cpsim_stats *s, uint64_t *ret_answered)
{
	uint64_t sent = 0, answered = 0;

	for (unsigned a = 0; a < _CPSIM_A_MAX; a++) {
		sent += s->calls[a].sent;
		answered += s->calls[a].results + s->calls[a].errors;
	}
	*ret_answered = answered;
	return sent;
}

/* Mean answered calls per second after the fleet was booted, during the load phase. */
static double steady_rate(const struct cpsim_stats *s, double *ret_from, double *ret_to)
{
	double from = s->all_booted_s >= 0 ? ceil(s->all_booted_s) + 1 : 0;
	double to = floor(s->load_s);
	uint64_t n = 0;

	if (to > s->series_len)
		to = s->series_len;
	if (to - from < 1) {
		*ret_from = *ret_to = 0;
		return 0;
	}
	for (uint32_t i = (uint32_t)from; i < (uint32_t)to; i++)
		n += s->series[i];
	*ret_from = from;
	*ret_to = to;
	return (double)n / (to - from);
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

void cpsim_stats_print(const struct cpsim_stats *s, FILE *out)
{
	uint64_t answered, sent = total_calls(s, &answered);
	double from, to, rate = steady_rate(s, &from, &to);

	fprintf(out, "cpsim report: %u chargers in %u process%s, %.1f s (load %.1f s)\n",
		s->chargers, s->processes, s->processes == 1 ? "" : "es", s->elapsed_s, s->load_s);
	fprintf(out,
		"  connections: %llu attempted, %llu made, %llu failed (%llu refused), "
		"%llu closed by the server, %llu lost\n",
		(unsigned long long)s->conn_attempts, (unsigned long long)s->conn_made,
		(unsigned long long)s->conn_failed, (unsigned long long)s->conn_refused,
		(unsigned long long)s->conn_peer_closed, (unsigned long long)s->conn_lost);
	fprintf(out, "  boots: %llu accepted, %llu pending, %llu rejected; all booted %s",
		(unsigned long long)s->boots_accepted, (unsigned long long)s->boots_pending,
		(unsigned long long)s->boots_rejected, s->all_booted_s >= 0 ? "after " : "never");
	if (s->all_booted_s >= 0)
		fprintf(out, "%.2f s", s->all_booted_s);
	fputc('\n', out);
	fprintf(out,
		"  sessions: %llu started, %llu stopped, %llu open at end; %llu auth rejected, "
		"%llu started offline, %llu remote starts, %llu remote stops, %llu swaps\n",
		(unsigned long long)s->sessions_started, (unsigned long long)s->sessions_stopped,
		(unsigned long long)s->sessions_open_at_end, (unsigned long long)s->auth_rejected,
		(unsigned long long)s->offline_starts, (unsigned long long)s->remote_starts,
		(unsigned long long)s->remote_stops, (unsigned long long)s->swaps);
	fprintf(out, "  energy: %.1f kWh imported, %.1f kWh exported\n", s->import_wh / 1000,
		s->export_wh / 1000);
	if (s->meter_skipped)
		fprintf(out, "  meter samples skipped while the previous one waited: %llu\n",
			(unsigned long long)s->meter_skipped);
	fprintf(out,
		"  throughput: %llu calls sent, %llu answered, %.0f/s overall, %.0f/s steady "
		"(s %.0f..%.0f)\n",
		(unsigned long long)sent, (unsigned long long)answered,
		s->load_s > 0 ? (double)answered / s->elapsed_s : 0.0, rate, from, to);
	fprintf(out, "  %-30s %9s %9s %7s %7s %9s %9s %9s %9s\n", "call", "sent", "results",
		"errors", "t/o", "p50 ms", "p95 ms", "p99 ms", "max ms");
	for (unsigned a = 0; a < _CPSIM_A_MAX; a++) {
		const struct cpsim_call_stats *c = &s->calls[a];

		if (!c->sent)
			continue;
		fprintf(out, "  %-30s %9llu %9llu %7llu %7llu %9.2f %9.2f %9.2f %9.2f\n",
			action_names[a], (unsigned long long)c->sent,
			(unsigned long long)c->results, (unsigned long long)c->errors,
			(unsigned long long)c->timeouts, ms(cpsim_hist_percentile(&c->latency, 50)),
			ms(cpsim_hist_percentile(&c->latency, 95)),
			ms(cpsim_hist_percentile(&c->latency, 99)), ms(c->latency.max));
	}
	if (s->steady_latency.count)
		fprintf(out, "  %-30s %9llu %9s %7s %7s %9.2f %9.2f %9.2f %9.2f\n",
			"(all, after boot)", (unsigned long long)s->steady_latency.count, "", "",
			"", ms(cpsim_hist_percentile(&s->steady_latency, 50)),
			ms(cpsim_hist_percentile(&s->steady_latency, 95)),
			ms(cpsim_hist_percentile(&s->steady_latency, 99)),
			ms(s->steady_latency.max));
	if (s->ncsms) {
		fprintf(out, "  calls from the CSMS:");
		for (unsigned i = 0; i < s->ncsms; i++)
			fprintf(out, " %s %llu%s", s->csms[i].action,
				(unsigned long long)s->csms[i].received,
				s->csms[i].errors ? " (some answered with CALLERROR)" : "");
		fputc('\n', out);
	}
	fprintf(out, "  CALLERRORs received:");
	for (unsigned e = 1; e <= _OCPP_ERR_MAX; e++)
		if (s->err_received[e])
			fprintf(out, " %s %llu", err_name(e),
				(unsigned long long)s->err_received[e]);
	fprintf(out, "; sent:");
	for (unsigned e = 1; e <= _OCPP_ERR_MAX; e++)
		if (s->err_sent[e])
			fprintf(out, " %s %llu", err_name(e), (unsigned long long)s->err_sent[e]);
	fputc('\n', out);
	fprintf(out,
		"  faults injected: %llu drops, %llu offline periods, %llu storm drops, "
		"%llu delayed replies, %llu malformed, %llu duplicates\n",
		(unsigned long long)s->f_drops, (unsigned long long)s->f_offline,
		(unsigned long long)s->f_storm_drops, (unsigned long long)s->f_delayed,
		(unsigned long long)s->f_malformed, (unsigned long long)s->f_duplicates);
	if (s->unparsable || s->unmatched_answers || s->invalid_sent || s->invalid_received ||
	    s->queue_dropped || s->tx_given_up || s->queued_at_end || s->send_failed)
		fprintf(out,
			"  anomalies: %llu unparsable frames, %llu unmatched answers, "
			"%llu invalid sent, %llu invalid received, %llu send failures, "
			"%llu queue drops, %llu transaction messages given up, %llu left queued\n",
			(unsigned long long)s->unparsable, (unsigned long long)s->unmatched_answers,
			(unsigned long long)s->invalid_sent,
			(unsigned long long)s->invalid_received, (unsigned long long)s->send_failed,
			(unsigned long long)s->queue_dropped, (unsigned long long)s->tx_given_up,
			(unsigned long long)s->queued_at_end);
}

static json_t *lat_json(const struct cpsim_hist *h)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count,
			 "p50_ms", ms(cpsim_hist_percentile(h, 50)), "p95_ms",
			 ms(cpsim_hist_percentile(h, 95)), "p99_ms",
			 ms(cpsim_hist_percentile(h, 99)), "max_ms", ms(h->max), "min_ms",
			 ms(h->count ? h->min : 0), "mean_ms", cpsim_hist_mean(h) / 1000.0);
}

#define I(x) ((json_int_t)(x))

json_t *cpsim_stats_json(const struct cpsim_stats *s)
{
	json_t *root, *calls, *csms, *er, *es, *series, *sent, *recv;
	uint64_t answered, total = total_calls(s, &answered);
	double from, to, rate = steady_rate(s, &from, &to);

	root = json_object();
	calls = json_object();
	csms = json_object();
	er = json_object();
	es = json_object();
	series = json_array();
	sent = json_object();
	recv = json_object();
	if (!root || !calls || !csms || !er || !es || !series || !sent || !recv)
		goto oom;
	for (unsigned a = 0; a < _CPSIM_A_MAX; a++) {
		const struct cpsim_call_stats *c = &s->calls[a];

		if (!c->sent && !c->results && !c->errors)
			continue;
		json_object_set_new(calls, action_names[a],
				    json_pack("{s:I, s:I, s:I, s:I, s:o}", "sent", I(c->sent),
					      "results", I(c->results), "errors", I(c->errors),
					      "timeouts", I(c->timeouts), "latency",
					      lat_json(&c->latency)));
		json_object_set_new(sent, action_names[a], json_integer(I(c->sent)));
	}
	for (unsigned i = 0; i < s->ncsms; i++) {
		json_object_set_new(csms, s->csms[i].action,
				    json_pack("{s:I, s:I, s:I}", "received", I(s->csms[i].received),
					      "answered", I(s->csms[i].answered), "errors",
					      I(s->csms[i].errors)));
		json_object_set_new(recv, s->csms[i].action, json_integer(I(s->csms[i].received)));
	}
	for (unsigned e = 1; e <= _OCPP_ERR_MAX; e++) {
		if (s->err_received[e])
			json_object_set_new(er, err_name(e), json_integer(I(s->err_received[e])));
		if (s->err_sent[e])
			json_object_set_new(es, err_name(e), json_integer(I(s->err_sent[e])));
	}
	for (uint32_t i = 0; i < s->series_len; i++)
		json_array_append_new(series, json_integer(s->series[i]));

	json_object_set_new(root, "chargers", json_integer(s->chargers));
	json_object_set_new(root, "processes", json_integer(s->processes));
	json_object_set_new(root, "elapsed_s", json_real(s->elapsed_s));
	json_object_set_new(root, "load_s", json_real(s->load_s));
	json_object_set_new(
	    root, "connections",
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "attempted", I(s->conn_attempts),
		      "made", I(s->conn_made), "failed", I(s->conn_failed), "refused",
		      I(s->conn_refused), "closed_by_server", I(s->conn_peer_closed), "lost",
		      I(s->conn_lost), "subprotocol_mismatch", I(s->subprotocol_mismatch)));
	json_object_set_new(
	    root, "boots",
	    json_pack("{s:I, s:I, s:I, s:o}", "accepted", I(s->boots_accepted), "pending",
		      I(s->boots_pending), "rejected", I(s->boots_rejected), "all_booted_s",
		      s->all_booted_s >= 0 ? json_real(s->all_booted_s) : json_null()));
	json_object_set_new(root, "sessions",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "started",
				      I(s->sessions_started), "stopped", I(s->sessions_stopped),
				      "open_at_end", I(s->sessions_open_at_end), "auth_rejected",
				      I(s->auth_rejected), "offline_starts", I(s->offline_starts),
				      "remote_starts", I(s->remote_starts), "remote_stops",
				      I(s->remote_stops), "swaps", I(s->swaps), "swaps_missed",
				      I(s->swaps_missed)));
	json_object_set_new(root, "rural",
			    json_pack("{s:I, s:I}", "offline_list_auth", I(s->offline_list_auth),
				      "offline_list_refused", I(s->offline_list_refused)));
	json_object_set_new(
	    root, "energy_wh",
	    json_pack("{s:f, s:f}", "import", s->import_wh, "export", s->export_wh));
	json_object_set_new(root, "messages",
			    json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "frames_sent",
				      I(s->frames_sent), "frames_received", I(s->frames_received),
				      "bytes_sent", I(s->bytes_sent), "bytes_received",
				      I(s->bytes_received), "sent_by_action", sent,
				      "received_by_action", recv));
	sent = recv = NULL;
	json_object_set_new(root, "calls", calls);
	json_object_set_new(root, "csms_calls", csms);
	json_object_set_new(root, "callerrors",
			    json_pack("{s:o, s:o}", "received", er, "sent", es));
	calls = csms = er = es = NULL;
	json_object_set_new(root, "throughput",
			    json_pack("{s:I, s:I, s:f, s:f, s:f, s:f}", "calls_sent", I(total),
				      "calls_answered", I(answered), "answered_per_s",
				      s->elapsed_s > 0 ? (double)answered / s->elapsed_s : 0.0,
				      "steady_per_s", rate, "steady_from_s", from, "steady_to_s",
				      to));
	json_object_set_new(root, "latency_after_boot", lat_json(&s->steady_latency));
	json_object_set_new(root, "series_answered_per_s", series);
	series = NULL;
	json_object_set_new(root, "faults",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "drops", I(s->f_drops),
				      "offline_periods", I(s->f_offline), "storm_drops",
				      I(s->f_storm_drops), "delayed_replies", I(s->f_delayed),
				      "malformed", I(s->f_malformed), "duplicates",
				      I(s->f_duplicates)));
	json_object_set_new(
	    root, "anomalies",
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "unparsable", I(s->unparsable),
		      "unmatched_answers", I(s->unmatched_answers), "invalid_sent",
		      I(s->invalid_sent), "invalid_received", I(s->invalid_received), "send_failed",
		      I(s->send_failed), "queue_dropped", I(s->queue_dropped), "tx_given_up",
		      I(s->tx_given_up), "queued_at_end", I(s->queued_at_end)));
	return root;
oom:
	json_decref(root);
	json_decref(calls);
	json_decref(csms);
	json_decref(er);
	json_decref(es);
	json_decref(series);
	json_decref(sent);
	json_decref(recv);
	return NULL;
}

void cpsim_progress_format(const struct cpsim_progress *p, double t, char *buf, size_t len)
{
	snprintf(buf, len,
		 "[%6.1fs] chargers %u: connected %u, booted %u, in session %u, errors %llu, "
		 "answered %llu",
		 t, p->chargers, p->open, p->booted, p->in_session, (unsigned long long)p->errors,
		 (unsigned long long)p->answered);
}
