/* SPDX-License-Identifier: MIT */
/* The version-neutral domain: stations, connectors, id tokens, sessions and meter samples. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../store/store.h"
#include "domain.h"

struct cfg;
struct clock;

/* Sessions a station's readings may name that svc remembers per connection (2: a twin charger). */
#define CHG_SESSION_HINTS 2

/* A station that is connected to this node (or was, until it is replaced or leaves). */
struct chg_station {
	char id[STATION_ID_MAX + 1];
	char site_id[SITE_ID_MAX + 1];
	int site_kind;	    /* enum site_kind or -1 */
	int registration;   /* enum reg_status */
	int protocol;	    /* enum ocpp_version as an int; svc does not interpret it */
	void *conn;	    /* the transport's live connection; opaque to svc */
	bool boot_accepted; /* BootNotification answered Accepted on this connection */
	bool ll_checked;    /* its local list was checked on this connection (sites.h) */
	int ll_policy;	    /* its site's policy keeps a local list (1) or not (0), as read at
			     * this connection's Accepted boot; -1: not read */
	bool unregistered;  /* no row yet: created at its first valid BootNotification */
	int interval_s;	    /* the interval of its last boot answer (0: none yet) */
	int64_t seen_ms;    /* last_seen as last written (svc_heartbeat), 0: not yet */
	/* svc's own: the sessions this station's readings went to lately (svc.c, "session
	 * cache"); zero is empty */
	struct chg_session_hint {
		int64_t id;   /* the session (> 0), found this station's in the store */
		int evse_id;  /* its EVSE */
		uint64_t gen; /* svc's cache generation when it was found */
	} sess_hint[CHG_SESSION_HINTS];
};

struct svc;

struct svc_auth {
	int status;		    /* enum auth_status */
	int64_t expiry_ms;	    /* 0 = none */
	char parent[TOKEN_MAX + 1]; /* "" = none */
};

struct svc_boot_result {
	int status;	/* enum reg_status */
	int interval_s; /* heartbeat interval (Accepted) or retry interval (Pending/Rejected) */
};

struct svc *svc_create(struct store *store, const struct clock *clock, const struct cfg *cfg);
void svc_destroy(struct svc *s);
struct store *svc_store(struct svc *s);
/* The storage backend's text of its last error, for the log line of a failed call. */
const char *svc_errmsg(struct svc *s);
int64_t svc_now_ms(const struct svc *s);
/* The node's one clock (real, or the demo clock; see core/clock.h). */
const struct clock *svc_clock(const struct svc *s);
unsigned svc_connected(const struct svc *s);

/* Handshake admission (HTTP Basic auth, security profile 1). 0 admits; -ENOENT unknown charger
 * under a closed registration policy; -EACCES wrong or missing password; -EIO storage failure.
 * Under the pending/open policies an unknown charger is created (Pending/Accepted). */
int svc_station_admit(struct svc *s, const char *id, const char *password_or_null);

/* A connection for station id is established. Loads the station, binds conn to it and returns
 * it. If another connection held the station, its conn is returned in *ret_replaced (the caller
 * closes it); that old connection must then call svc_station_detach, which is a no-op for it. */
struct chg_station *svc_station_attach(struct svc *s, const char *id, int protocol,
				       const char *protocol_name, void *conn, void **ret_replaced);
/* The connection conn has closed. Marks the station offline if conn still held it. */
void svc_station_detach(struct svc *s, struct chg_station *st, void *conn);
/* The connected station with this id, or NULL. */
struct chg_station *svc_station_find(struct svc *s, const char *id);
/* Operator decision on a station's registration; updates a connected station too. -EPERM
 * for Accepted when the station has no credential (no password hash, no certificate). */
int svc_station_set_registration(struct svc *s, const char *id, int registration);

/* ---- security: admission of a charger's handshake (docs/security.md) */
/* A password KDF an admission needs, to run off the event loop (svc_admit.kdf). */
enum svc_kdf_kind {
	SVC_KDF_NONE,
	SVC_KDF_VERIFY, /* check password against hash */
	SVC_KDF_CREATE, /* hash password (a credential bound at first presentation) */
	SVC_KDF_DUMMY,	/* the same work for an unknown id: the answer cannot tell */
};
struct svc_kdf {
	int kind;		   /* enum svc_kdf_kind */
	bool done;		   /* svc_kdf_run() has run for this kind */
	bool ok;		   /* VERIFY: the password matches hash */
	unsigned iterations;	   /* CREATE, DUMMY */
	char hash[STORE_HASH_MAX]; /* VERIFY: the stored hash; CREATE: the new one ("" failed) */
};
/* Run the KDF k asks for, on any thread: touches nothing but k and password. */
void svc_kdf_run(struct svc_kdf *k, const char *password);

/* Work that must not run on the event loop (a KDF): work(arg) on another thread, then
 * done(arg, status) back on the loop's thread (status < 0: work did not run). queue returns 0,
 * or a negative errno and then calls neither. The app sets it (libuv's thread pool); without it
 * svc runs work and done at once, on the caller's thread. */
struct svc_offload_ops {
	int (*queue)(void *impl, void (*work)(void *arg), void (*done)(void *arg, int status),
		     void *arg);
};
void svc_set_offload(struct svc *s, const struct svc_offload_ops *ops, void *impl);
/* Internal to svc (cert.c, svc.c): queue through the hook, or run both now. 0 or -errno. */
int svc__offload(struct svc *s, void (*work)(void *arg), void (*done)(void *arg, int status),
		 void *arg);

struct svc_admit {
	const char *id;
	const char *password;	       /* NULL: no Authorization header */
	const char *peer;	       /* remote address, NULL if unknown */
	int profile;		       /* what the connection offers: 0 nothing, 1 Basic over
					* ws://, 2 Basic over wss://, 3 client certificate */
	const char *cert_cn, *cert_fp; /* profile 3: the verified client certificate */
	bool no_profile0;	       /* the protocol forbids profile 0 (OCPP 2.0.1) */
	struct svc_kdf *kdf;	       /* NULL: run KDFs here, on the caller's thread; else
					* where one is needed, describe it here and return
					* -EINPROGRESS (see svc_station_admit_conn) */
};
/* Admit a handshake. 0 admits (a known station, or under pending/open an unknown id whose row
 * is only created at its first valid BootNotification); -EACCES refuses (unknown id under
 * closed, wrong or missing credential, a weaker profile than the station's, back-off after
 * failures: all alike, the transport answers 401); -EAGAIN too many unregistered candidates;
 * -EIO storage failure. Without a->kdf the KDF runs here. With a->kdf, -EINPROGRESS when a KDF
 * is needed (a password not verified before, a credential to bind, an unknown id's dummy): it
 * is described in *a->kdf and counted as a failed login until it succeeds; run
 * svc_kdf_run(a->kdf, a->password) off the loop, then call again with the same a (every
 * pointer still valid), which decides without the back-off check (it was passed) and counts
 * no second failure. A verified digest is remembered: reconnects need no KDF. */
int svc_station_admit_conn(struct svc *s, const struct svc_admit *a);
/* A call from station st may run now: its per-station token bucket (call_rate_per_s,
 * call_burst) has a token. */
bool svc_station_call_allowed(struct svc *s, const struct chg_station *st);
/* ---- end security */

/* BootNotification: records the station's identity and decides Accepted/Pending/Rejected by
 * registration status and the node's boot rate (over it: Pending with a jittered interval). */
int svc_boot(struct svc *s, struct chg_station *st, const struct store_boot *b,
	     struct svc_boot_result *ret);
int svc_heartbeat(struct svc *s, struct chg_station *st);
/* -ERANGE if the EVSE or connector id is outside 0..max_connectors. */
int svc_connector_status(struct svc *s, struct chg_station *st, int evse_id, int connector_id,
			 const char *status, const char *error_code, const char *info,
			 const char *vendor_error, int64_t ts_ms);
/* A status report about a long-running operation: kind is an enum station_event_kind, status
 * the station's word (stored as given). */
int svc_station_event(struct svc *s, struct chg_station *st, int kind, const char *status);

/* Authorization decision for a token at this station (never fails for unknown tokens: Invalid). */
int svc_authorize(struct svc *s, const struct chg_station *st, const char *token,
		  struct svc_auth *ret);

/* One event of a charging session, whatever the protocol. A session is keyed either by the
 * CSMS's id (session_id, which the CSMS handed out at open: OCPP 1.6 transactionId) or by the
 * station's own id (station_tx_id: OCPP 2.0.1 transactionId). Texts are the station's words,
 * stored as given; the adapters have already translated what svc reasons with into enums. */
struct svc_session_event {
	int64_t session_id;	   /* keyed by the CSMS id; 0 = not */
	const char *station_tx_id; /* keyed by the station's id; NULL = not */
	bool has_seq;		   /* the station numbers its events of this session: */
	int64_t seq_no;		   /* the replay key */
	const char *label;	   /* the protocol's word for the event, kept in the event log */
	const char *trigger;	   /* why the station sent it, kept verbatim; NULL = none */
	bool offline;		   /* the station queued it while offline */
	int64_t ts_ms;		   /* when it happened at the station */
	int evse_id, connector_id; /* 0 = not given */
	const char *id_token;	   /* NULL = none */
	bool has_energy;	   /* the energy import register at ts_ms (meter start at open, */
	int64_t energy_wh;	   /* meter stop at close) */
	bool has_reservation;
	int64_t reservation_id;
	int stop_reason;	      /* close: enum stop_reason */
	const char *stop_reason_text; /* close: the station's word, stored; NULL = none */
};

struct svc_session_result {
	int64_t session_id; /* the session; 0 if the event named one this station does not own */
	int evse_id;	    /* the session's EVSE (readings without one belong there) */
	bool replay;	    /* the event was applied before: nothing changed */
	bool orphan;   /* a close of an unknown or foreign session, recorded for the operator */
	bool has_auth; /* the event carried a token: auth is its decision */
	struct svc_auth auth;
};

/*
** Apply one session event. Durable once the group commit completes. The rules, the same for
** every protocol:
**  - open keyed by the CSMS: a new session, its id in ret->session_id; the same open again
**    (same station, EVSE, token, time and meter) is a replay and gets the same id;
**  - an event keyed by the station's id creates the session when first seen, whatever its kind
**    (events arrive late and out of order); an event seen before (same seq_no) is a replay and
**    changes nothing; a late open moves the start back to its own time; a close ends the
**    session, and nothing after a close reopens it;
**  - update or close keyed by a CSMS id that is unknown or another station's changes no session
**    (ret->session_id 0); such a close is recorded as an orphan (ret->orphan) and the caller
**    still acknowledges it: a station told "error" would retry forever;
**  - a close of a session already ended is a replay;
**  - a close whose register is below the session's start, or a later register below an
**    earlier one, is stored as sent and flagged: a notice "meter_anomaly" in the station's
**    history (docs/wire.md, "Meter readings").
** -ERANGE if an EVSE or connector id is outside 0..max_connectors; -EDOM if the event carries
** a negative energy register (nothing is stored); -EIO on storage failure.
*/
int svc_session_open(struct svc *s, struct chg_station *st, const struct svc_session_event *ev,
		     struct svc_session_result *ret);
int svc_session_update(struct svc *s, struct chg_station *st, const struct svc_session_event *ev,
		       struct svc_session_result *ret);
int svc_session_close(struct svc *s, struct chg_station *st, const struct svc_session_event *ev,
		      struct svc_session_result *ret);

/* A kept value longer than this is compared by its first SVC_SAMPLE_VALUE_MAX - 1 bytes. */
#define SVC_SAMPLE_VALUE_MAX 256

/* What became of a reading. */
enum svc_sample_result {
	SVC_SAMPLE_STORED,    /* a new reading */
	SVC_SAMPLE_DUPLICATE, /* the same reading again (a retry): nothing changed */
	SVC_SAMPLE_CONFLICT,  /* its key again with another value: the first one stays, the new
			       * one is kept as a conflict, counted and logged */
};

/* Store a reading of station st (in->station_id is ignored: the sender is the station).
 * in->session_id is a session of st from svc_session_* (or 0: unlinked). Returns an enum
 * svc_sample_result; -EINVAL without a measurand or value, -ERANGE for an EVSE outside
 * 0..max_connectors, -EDOM for a negative energy register (import or export). */
int svc_sample_add(struct svc *s, const struct chg_station *st, const struct store_sample *in);
/* The readings of one message (a MeterValues, a TransactionEvent's meterValue) with one store
 * call (samples_add): in[0..n-1] in order, each as svc_sample_add() would store it, with
 * in[i].station_id set to st's id. ret[i] gets the reading's enum svc_sample_result. Returns
 * 0; or, before anything is stored, the first reading's -EINVAL, -ERANGE or -EDOM (ret[] not
 * written); -ENOMEM, or the store's negative errno (ret[] then not meaningful). */
int svc_samples_add(struct svc *s, const struct chg_station *st, struct store_sample *in, size_t n,
		    int *ret);
/*
** Session cache (svc.c): the open group of writes did not commit (a failed COMMIT, a flush
** that failed, a rollback), so sessions found in it may not exist: forget every station's
** hints. svc_events_release() and svc_events_release_n() with committed false call it; call it
** after any other rollback of a group that svc wrote to.
*/
void svc_session_hints_forget(struct svc *s);
/* How many session updates the session cache answered without a store lookup. */
uint64_t svc_session_hint_hits(const struct svc *s);
/* Readings recorded as conflicts: of session_id, or in total (0). */
int svc_sample_conflicts(struct svc *s, int64_t session_id, int64_t *ret_count);

/* Device model reporting (multi-part by seq_no; tbc = more parts follow). */
int svc_report_part(struct svc *s, struct chg_station *st, int64_t request_id, int64_t seq_no,
		    bool tbc);
int svc_variable_put(struct svc *s, struct chg_station *st, const struct store_variable *v);
int svc_notice(struct svc *s, struct chg_station *st, const char *kind, int64_t ts_ms,
	       const char *detail);

/*
** The planner at run time (csms/plan_rt.c) lives above svc (it speaks JSON): svc reaches it only
** through these hooks, set by the planner when its state is created. Each may be NULL.
** touch: a session came or went on site_id; sample: a reading was stored (export registers);
** destroy: stop the planner's worker and free its state (from svc_destroy); booted: a station's
** BootNotification is being answered Accepted (send nothing to it before the answer).
*/
struct svc_plan_hooks {
	void (*touch)(struct svc *s, const char *site_id);
	void (*sample)(struct svc *s, const struct store_sample *row);
	void (*destroy)(struct svc *s);
	void (*booted)(struct svc *s, const struct chg_station *st); /* boot Accepted */
};
/* Set (h copied) or clear (NULL) the hooks. */
void svc_set_plan_hooks(struct svc *s, const struct svc_plan_hooks *h);
/* The planner's state slot (opaque to svc). */
struct svc_plans;
struct svc_plans **svc__plans(struct svc *s);
/* The node's configuration. */
const struct cfg *svc_cfg(const struct svc *s);

/* Call fn for each station connected to this node (none may attach or detach meanwhile). */
void svc_stations_each(struct svc *s, void (*fn)(struct chg_station *st, void *ud), void *ud);

/*
** The id tokens valid at site_id_or_null (NULL: at any site, e.g. a token bound to no site)
** changed: recompute the local lists of the affected sites and push them to their connected
** stations that keep one (rural, or a site whose policy says so) as differential updates
** (svc_local_list_sync: GetLocalListVersion first, full on a version mismatch). Debounced: the
** push starts 2 s of the node's clock after the last change, at most 10 s after the first one
** (svc_locallist_tick); a station with a sync in flight gets another one after it. Stations not
** connected get theirs when they reconnect. Never fails (an allocation failure pushes to every
** site).
*/
void svc_locallist_tokens_changed(struct svc *svc, const char *site_id_or_null);
/* Start the pushes that are due (the node's timer, on the loop). */
void svc_locallist_tick(struct svc *s);
/* Local-list state slot (locallist.c; svc_destroy frees it). */
struct svc_ll_push;
struct svc_ll_push **svc__ll_push(struct svc *s);
void svc__ll_push_free(struct svc_ll_push *p);
