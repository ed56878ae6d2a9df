/* SPDX-License-Identifier: MIT */
/* Sites and their policies (docs/sites.md): the policy of a site kind with its per-site settings,
 * reservations tracked by the CSMS, the local authorization list of rural stations, and the
 * availability and connectivity figures of a station's history. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "cmd.h"

struct svc;
struct chg_station;

/* ---------------------------------------------------------------- policy (sites.c) */

/* Defaults of the kinds (docs/sites.md). */
#define SVC_RURAL_HEARTBEAT_S 3600
#define SVC_LOCAL_LIST_MAX    256   /* entries; SendLocalListMaxLength of common chargers */
#define SVC_LATE_MS	      60000 /* a session recorded this long after its start came late */

/* A site's policy: its settings with the kind's defaults applied. */
struct svc_site_policy {
	int heartbeat_s;       /* BootNotification interval of its stations */
	bool local_list;       /* keep a local authorization list on its stations */
	int local_list_max;    /* entries at most */
	bool unbound_tokens;   /* the list holds tokens bound to no site too (not residential) */
	bool reservations;     /* the operator may reserve its connectors */
	int reservation_max_s; /* longest reservation; 0 = no limit */
	double swap_soh_flag_below; /* swap: a pack whose SoH falls below it is flagged (%) */
	double swap_promised_soc;   /* swap: the SoC a pack forecast ready has (%) */
};

/*
** The policy of a site of kind (enum site_kind; -1: a station without a site) whose record is
** rec (NULL: defaults only). default_heartbeat_s is the node's configured interval.
*/
void svc_site_policy_resolve(int kind, const struct store_site_rec *rec, int default_heartbeat_s,
			     struct svc_site_policy *ret);
/* The policy of site_id (NULL or "": no site). -EIO on storage failure. */
int svc_site_policy(struct svc *s, const char *site_id, int kind, struct svc_site_policy *ret);

/* ---------------------------------------------------------------- history, reports (sites.c) */

/* Hooks from svc.c: a station's link came up or went down, a connector changed status. */
void svc__site_link(struct svc *s, const char *station_id, bool online);
void svc__site_status(struct svc *s, const char *station_id, int evse_id, int connector_id,
		      const char *status, int64_t ts_ms);

/* The availability and connectivity of one station (or, summed, of a site) over a window. */
struct svc_avail {
	int64_t from_ms, to_ms;
	int64_t observed_ms; /* online_ms + offline_ms: the window from the first record on */
	int64_t online_ms, offline_ms;
	int64_t faulted_ms;  /* online with the station or a connector Faulted */
	int64_t up_ms;	     /* online and nothing Faulted */
	int offline_periods; /* offline periods in the window (begun in it or before) */
	int64_t longest_offline_ms;
	int64_t late_sessions; /* sessions started in the window that arrived late */
};

/* The percentage of observed time up (0 without observed time). */
double svc_avail_uptime_pct(const struct svc_avail *a);

/* An offline period: start, end (to_ms while still offline), ongoing. */
typedef void (*svc_offline_fn)(void *ud, int64_t start_ms, int64_t end_ms, bool ongoing);

#define SVC_AVAIL_CONNECTORS 32

/* The calculator over a station's history rows (store_station_log_list order). Pure: tests
 * feed it rows. */
struct svc_avail_calc {
	struct svc_avail out;
	int64_t t; /* accounted up to */
	bool known, online;
	int64_t offline_start;
	int n_conn;
	struct {
		int evse_id, connector_id;
		bool faulted;
	} conn[SVC_AVAIL_CONNECTORS];
	svc_offline_fn on_offline; /* may be NULL */
	void *ud;
};

void svc_avail_begin(struct svc_avail_calc *c, int64_t from_ms, int64_t to_ms);
int svc_avail_row(const struct store_log_row *row, void *calc);
/* End the window. online_now: the station is connected now; a history that ends online while
 * it is not (the node stopped) counts it offline from last_seen_ms. */
void svc_avail_end(struct svc_avail_calc *c, bool online_now, int64_t last_seen_ms);

/* The figures of station_id over [from_ms, to_ms) (to_ms past now is cut at now), with its
 * offline periods through fn (may be NULL). -EINVAL for an empty window, -EIO. */
int svc_station_availability(struct svc *s, const char *station_id, bool online_now,
			     int64_t last_seen_ms, int64_t from_ms, int64_t to_ms,
			     struct svc_avail *ret, svc_offline_fn fn, void *ud);

/* ---------------------------------------------------------------- reservations (reservations.c) */

/* Hooks from cmd.c: a ReserveNow or CancelReservation is sent (0, or -EPERM when the site's
 * policy forbids reservations, -EINVAL for an expiry in the past or beyond the policy's
 * longest) and its answer came. */
int svc__resv_sending(struct svc *s, const char *station_id, const struct svc_cmd *cmd);
void svc__resv_answered(struct svc *s, int kind, int64_t reservation_id,
			const struct svc_cmd_result *res);
/* A session used reservation id (1.6 StartTransaction, 2.0.1 TransactionEvent reservationId). */
void svc__resv_used(struct svc *s, const char *station_id, int64_t id, int64_t session_id);
/*
** A station reports what became of a reservation (2.0.1 ReservationStatusUpdate: "Expired" or
** "Removed"). Unknown ids are ignored (0). -EIO.
*/
int svc_reservation_update(struct svc *s, const char *station_id, int64_t id, const char *status);
/* Expire the reservations whose expiry passed on the node's clock. Returns how many. */
int svc_reservations_tick(struct svc *s);

/* ---------------------------------------------------------------- local lists (locallist.c) */

/* A list entry (a token and its authorization) as the differencing sees it. */
struct svc_ll_entry {
	char token[TOKEN_MAX + 1];
	int status;	   /* enum auth_status; -1 in an update: removed */
	int64_t expiry_ms; /* 0 = none */
	char parent[TOKEN_MAX + 1];
};

/* What to send: nothing, or a full list, or a differential update, with its version. */
struct svc_ll_update {
	bool send;
	bool full;
	int64_t version;
	struct svc_ll_entry *entries; /* malloc'd, n of them; free with free() */
	size_t n;
};

/*
** The update that brings a station from what it holds to want.
**   want, n_want: the tokens valid at the site now (any order; sorted in place). Tokens not
**     Accepted or Blocked are left out, and so are Accepted ones whose expiry is at or before
**     now_ms (a list entry the station would trust offline).
**   sent, n_sent, sent_version: the list the station last accepted, by token (-1: none known).
**   station_version: the version the station reports (GetLocalListVersion; -1 unknown).
** When the station's version is not sent_version (a reset station, a list nobody recorded) the
** update is full, at a version above both; else it is differential (changed and new entries,
** removed ones with status -1) at sent_version + 1, or nothing when nothing changed.
** 0, or -ENOMEM.
*/
int svc_ll_plan(struct svc_ll_entry *want, size_t n_want, const struct svc_ll_entry *sent,
		size_t n_sent, int64_t sent_version, int64_t station_version, int64_t now_ms,
		struct svc_ll_update *ret);

/* The listVersion (1.6) or versionNumber (2.0.1) of a GetLocalListVersion answer; -EINVAL. */
int svc_ll_parse_version(const char *payload, int64_t *ret);

/* What one SendLocalList message may carry at a station; 0 = no limit known. */
struct svc_ll_limits {
	size_t items; /* entries (1.6 SendLocalListMaxLength, 2.0.1 ItemsPerMessage) */
	size_t bytes; /* bytes of the message (2.0.1 BytesPerMessage) */
};

/*
** How many of the n entries e[0..n) go into the next SendLocalList message under lim (NULL: no
** limit): at most lim->items, and as many as keep the message's estimated size (a fixed frame
** plus a bound per entry of the longer 2.0.1 shape, with its token and parent) within
** lim->bytes. At least one when n > 0, even if that one is over the byte limit; 0 when n is 0.
** An update of n entries is sent as messages of svc_ll_chunk() entries each, in order: the
** first with the update's type (Full or Differential), the rest Differential, all at the
** update's version.
*/
size_t svc_ll_chunk(const struct svc_ll_entry *e, size_t n, const struct svc_ll_limits *lim);

/*
** The limits in the answer to a SVC_CMD_LOCAL_LIST_LIMITS command (payload: its JSON text): a
** 1.6 GetConfiguration answer (configurationKey SendLocalListMaxLength) or a 2.0.1 GetVariables
** answer (LocalAuthListCtrlr ItemsPerMessage, BytesPerMessage). A limit the answer does not
** give (unknown key, rejected variable) stays 0. 0, or -EINVAL when payload is NULL.
*/
int svc_ll_parse_limits(const char *payload, struct svc_ll_limits *ret);

/*
** Bring station_id's local list up to date (GetLocalListVersion, then SendLocalList if needed;
** a VersionMismatch or Failed differential is retried once as full). Does nothing (0) when the
** site's policy keeps no list. done (may be NULL) hears the outcome: 0 up to date or pushed,
** or a negative errno. Returns 0 if started, -ENOENT unknown station, or -EIO.
*/
typedef void (*svc_ll_done_fn)(void *ud, int result);
int svc_local_list_sync(struct svc *s, const char *station_id, svc_ll_done_fn done, void *ud);
/* Hook from svc.c: a station is up after a boot or a reconnect (first message accepted). */
void svc__ll_station_ready(struct svc *s, struct chg_station *st);
