/* SPDX-License-Identifier: MIT */
/* The version-neutral domain: stations, connectors, id tokens, sessions and meter samples. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../store/store.h"

struct cfg;
struct clock;

/* A station that is connected to this node (or was, until it is replaced or leaves). */
struct chg_station {
	char id[STATION_ID_MAX + 1];
	char site_id[SITE_ID_MAX + 1];
	int site_kind;	  /* enum site_kind or -1 */
	int registration; /* enum reg_status */
	int protocol;	  /* enum ocpp_version as an int; svc does not interpret it */
	void *conn;	  /* the transport's live connection; opaque to svc */
	bool boot_accepted; /* BootNotification answered Accepted on this connection */
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

struct svc_txn_start {
	int evse_id;
	int connector_id;
	const char *id_tag;
	int64_t meter_start_wh;
	int64_t start_ms;
	bool has_reservation;
	int64_t reservation_id;
};

struct svc_txn_stop {
	int64_t txn_id;
	const char *id_tag; /* NULL = none */
	int64_t meter_stop_wh;
	int64_t stop_ms;
	const char *reason; /* NULL = none */
};

struct svc *svc_create(struct store *store, const struct clock *clock, const struct cfg *cfg);
void svc_destroy(struct svc *s);
struct store *svc_store(struct svc *s);
int64_t svc_now_ms(const struct svc *s);
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
/* Operator decision on a station's registration; updates a connected station too. */
int svc_station_set_registration(struct svc *s, const char *id, int registration);

/* BootNotification: records the station's identity and decides Accepted/Pending/Rejected by
 * registration status and the node's boot rate (over it: Pending with a jittered interval). */
int svc_boot(struct svc *s, struct chg_station *st, const struct store_boot *b,
	     struct svc_boot_result *ret);
int svc_heartbeat(struct svc *s, struct chg_station *st);
/* -ERANGE if the EVSE or connector id is outside 0..max_connectors. */
int svc_connector_status(struct svc *s, struct chg_station *st, int evse_id, int connector_id,
			 const char *status,
			 const char *error_code, const char *info, const char *vendor_error,
			 int64_t ts_ms);
int svc_station_event(struct svc *s, struct chg_station *st, const char *kind, const char *status);

/* Authorization decision for a token at this station (never fails for unknown tokens: Invalid). */
int svc_authorize(struct svc *s, const struct chg_station *st, const char *token, struct svc_auth *ret);

/* Start a session: durable once the group commit completes. A replayed start returns the same id. */
int svc_txn_start(struct svc *s, struct chg_station *st, const struct svc_txn_start *in,
		  int64_t *ret_txn_id, struct svc_auth *ret_auth);
/* Stop: a transaction that is unknown or not this station's is recorded as an orphan and
 * *ret_orphan set; the caller still acknowledges. ret_auth is filled when in->id_tag is set. */
int svc_txn_stop(struct svc *s, struct chg_station *st, const struct svc_txn_stop *in,
		 bool *ret_orphan, struct svc_auth *ret_auth);
/* The session id meter samples of txn_id belong to: txn_id if it is this station's, else 0
 * (then samples are kept unlinked and change no session). *ret_connector gets its connector. */
int64_t svc_txn_owned(struct svc *s, const struct chg_station *st, int64_t txn_id, int *ret_evse);
/* Store a sample (session_id from svc_txn_owned, or 0). Duplicates are ignored. */
int svc_meter_sample(struct svc *s, const struct chg_station *st, const struct store_sample *in);

/* OCPP 2.0.1 TransactionEvent, version-neutral: a station-numbered transaction's event. */
enum svc_tx_event_type { SVC_TX_STARTED, SVC_TX_UPDATED, SVC_TX_ENDED, _SVC_TX_EVENT_MAX };

struct svc_tx_event {
	int type; /* enum svc_tx_event_type */
	const char *tx_id;
	int64_t ts_ms;
	int64_t seq_no;
	bool offline;
	const char *trigger;
	const char *stopped_reason; /* NULL = none */
	int evse_id, connector_id;  /* 0 = not given */
	const char *id_token;	    /* NULL = none */
	bool has_energy;	    /* the event carries an Energy.Active.Import.Register reading */
	int64_t energy_wh;
	bool has_reservation;
	int64_t reservation_id;
};

/* Apply one event: creates the session when first seen (whatever the event type, since events
 * can arrive late and out of order), places a late Started at its own timestamp, stops on Ended,
 * tracks seqNo gaps. A replayed event (same seqNo) sets *ret_replay and changes nothing.
 * ret_auth is filled when the event carries an id token. */
int svc_tx_event(struct svc *s, struct chg_station *st, const struct svc_tx_event *ev,
		 int64_t *ret_session, bool *ret_replay, struct svc_auth *ret_auth);
/* Device model reporting (multi-part by seq_no; tbc = more parts follow). */
int svc_report_part(struct svc *s, struct chg_station *st, int64_t request_id, int64_t seq_no,
		    bool tbc);
int svc_variable_put(struct svc *s, struct chg_station *st, const struct store_variable *v);
int svc_notice(struct svc *s, struct chg_station *st, const char *kind, int64_t ts_ms,
	       const char *detail);
