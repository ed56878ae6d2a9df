/* SPDX-License-Identifier: MIT */
/* Run statistics: counters, per-action latency histograms, the final report (text and JSON). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "ocpp.h"

/* The calls a charger makes (both versions); latency is measured per action. */
enum cpsim_action {
	CPSIM_A_BOOT,
	CPSIM_A_HEARTBEAT,
	CPSIM_A_STATUS,
	CPSIM_A_AUTHORIZE,
	CPSIM_A_START_TX,
	CPSIM_A_STOP_TX,
	CPSIM_A_METER_VALUES,
	CPSIM_A_TX_EVENT,
	CPSIM_A_EV_NEEDS,
	CPSIM_A_NOTIFY_REPORT,
	CPSIM_A_DATA_TRANSFER,
	CPSIM_A_FIRMWARE_STATUS,
	CPSIM_A_DIAG_STATUS,
	CPSIM_A_LOG_STATUS,
	CPSIM_A_REPORT_PROFILES,
	_CPSIM_A_MAX,
};

/* OCPP action name of a. */
const char *cpsim_action_name(enum cpsim_action a);

#define CPSIM_CSMS_ACTIONS_MAX 48
#define CPSIM_SERIES_MAX       4096	     /* seconds of the per-second request series */
#define CPSIM_ERR_OTHER	       _OCPP_ERR_MAX /* a CALLERROR code we do not know */

struct cpsim_call_stats {
	uint64_t sent;		   /* CALLs sent (retries included) */
	uint64_t results;	   /* CALLRESULTs received */
	uint64_t errors;	   /* CALLERRORs received */
	uint64_t timeouts;	   /* no answer within the call timeout */
	struct cpsim_hist latency; /* microseconds, CALL sent -> answer */
};

struct cpsim_csms_stats {
	char action[40];
	uint64_t received; /* CALLs from the CSMS */
	uint64_t answered; /* CALLRESULTs we sent */
	uint64_t errors;   /* CALLERRORs we sent */
};

/* What the progress line shows; sent by workers every second. */
struct cpsim_progress {
	uint32_t chargers;
	uint32_t started;    /* chargers that began connecting */
	uint32_t open;	     /* connections open now */
	uint32_t booted;     /* chargers booted (Accepted) now */
	uint32_t in_session; /* connectors with a session now */
	uint64_t errors;     /* failed connects + CALLERRORs received + timeouts */
	uint64_t answered;   /* calls answered so far */
	double all_booted_s; /* when every charger had been accepted once; < 0 not yet */
};

struct cpsim_stats {
	uint32_t chargers;
	uint32_t processes;
	double elapsed_s; /* start to the end of the drain */
	double load_s;	  /* duration of the load phase */
	/* connections */
	uint64_t conn_attempts, conn_made, conn_failed, conn_refused, conn_peer_closed, conn_lost;
	uint64_t subprotocol_mismatch;
	/* boots */
	uint64_t boots_accepted, boots_pending, boots_rejected;
	double all_booted_s;
	/* sessions and energy */
	uint64_t sessions_started, sessions_stopped, sessions_open_at_end;
	uint64_t auth_rejected, offline_starts, remote_starts, remote_stops, swaps, swaps_missed;
	double import_wh, export_wh;
	/* frames */
	uint64_t frames_sent, frames_received, bytes_sent, bytes_received;
	uint64_t unparsable, unmatched_answers, invalid_sent, invalid_received, send_failed;
	uint64_t queue_dropped, tx_given_up, queued_at_end, meter_skipped;
	/* faults injected */
	uint64_t f_drops, f_offline, f_storm_drops, f_delayed, f_malformed, f_duplicates;
	/* CALLERRORs by code (enum ocpp_err, CPSIM_ERR_OTHER) */
	uint64_t err_received[_OCPP_ERR_MAX + 1];
	uint64_t err_sent[_OCPP_ERR_MAX + 1];
	struct cpsim_call_stats calls[_CPSIM_A_MAX];
	unsigned ncsms;
	struct cpsim_csms_stats csms[CPSIM_CSMS_ACTIONS_MAX];
	/* every answered call after this process's fleet was booted, all actions */
	struct cpsim_hist steady_latency;
	/* calls answered in each real second since the start */
	uint32_t series_len;
	uint32_t series[CPSIM_SERIES_MAX];
	/* live values (progress) */
	struct cpsim_progress now;
	/* rural chargers (issue 11): offline authorisations from the CSMS's local list, and
	 * authorisations refused offline (a tag not on the list) */
	uint64_t offline_list_auth, offline_list_refused;
};

/* Zeroed stats. */
void cpsim_stats_init(struct cpsim_stats *s);

/* Count a CALL from the CSMS, and our answer to it (code OCPP_ERR_NONE for a CALLRESULT). */
void cpsim_stats_csms_call(struct cpsim_stats *s, const char *action, enum ocpp_err answer);

/* Count a CALLERROR code received (spelled either way) or sent. */
void cpsim_stats_err_received(struct cpsim_stats *s, const char *code);
void cpsim_stats_err_sent(struct cpsim_stats *s, enum ocpp_err code);

/* One answered call at second `sec` since start (for the series). */
void cpsim_stats_answer_at(struct cpsim_stats *s, double sec);

/* Add src into dst (parent merging workers): sums, max of times, merged histograms. */
void cpsim_stats_merge(struct cpsim_stats *dst, const struct cpsim_stats *src);

/* Print the human report. */
void cpsim_stats_print(const struct cpsim_stats *s, FILE *out);

/* The report as JSON (new reference), or NULL on ENOMEM. */
json_t *cpsim_stats_json(const struct cpsim_stats *s);

/* The progress line (no newline) into buf. */
void cpsim_progress_format(const struct cpsim_progress *p, double t, char *buf, size_t len);
