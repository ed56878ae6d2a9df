/* SPDX-License-Identifier: MIT */
/* Internals shared by the fleet, the charger state machine and the two OCPP behaviours. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cpsim.h"
#include "ev.h"
#include "jw.h"
#include "ocpp.h"
#include "profile.h"
#include "scenario.h"
#include "stats.h"
#include "wheel.h"

#define T_NEVER	     UINT32_MAX
#define CP_QUEUE_MAX 64	 /* queued messages per charger (offline transactions included) */
#define CP_ATTEMPTS  3	 /* sends of a transaction message before it is given up */
#define LL_MAX	     256 /* local authorization list entries */
#define TAG_MAX	     36	 /* 2.0.1 idToken; 1.6 idTag is 20 */

/* ---------------------------------------------------------------- enums */

enum cp_state {
	CPS_IDLE, /* not connected yet; t_conn = first connect */
	CPS_CONNECTING,
	CPS_BOOTING, /* open, BootNotification not accepted yet */
	CPS_PENDING, /* open, boot answered Pending/Rejected; retry at t_conn */
	CPS_BOOTED,
	CPS_DISCONNECTED, /* waiting to reconnect at t_conn (backoff, offline period, reset) */
	CPS_DONE,	  /* closed for good */
};

/* OCPP 1.6 ChargePointStatus; 2.0.1 maps them onto its five connector states. */
enum cp_status {
	ST_AVAILABLE,
	ST_PREPARING,
	ST_CHARGING,
	ST_SUSPENDED_EVSE,
	ST_SUSPENDED_EV,
	ST_FINISHING,
	ST_RESERVED,
	ST_UNAVAILABLE,
	ST_FAULTED,
	_ST_MAX,
};

enum cp_phase {
	PH_IDLE,      /* no EV; t_event = next arrival */
	PH_AUTH,      /* EV plugged, Authorize on its way */
	PH_ACTIVE,    /* session running; t_event = departure */
	PH_FINISHING, /* session over or refused, cable still in; t_event = unplug */
};

/* Version-neutral stop reasons. */
enum cp_reason {
	RS_EV_DISCONNECTED,
	RS_LOCAL,
	RS_REMOTE,
	RS_DEAUTHORIZED,
	RS_HARD_RESET,
	RS_SOFT_RESET,
	RS_UNLOCK,
	RS_SOC_LIMIT,
	RS_OTHER,
};

/* Why a transaction message is sent (2.0.1 triggerReason; 1.6 reading context). */
enum cp_trigger {
	TR_AUTHORIZED,
	TR_REMOTE_START,
	TR_PERIODIC,
	TR_TRIGGER,
	TR_STATE_CHANGED,
	TR_CLOCK, /* a clock-aligned reading (ClockAlignedDataInterval) */
};

enum cp_boot_reason { BR_POWER_UP, BR_REMOTE_RESET, BR_TRIGGERED };

/* Connector flags */
#define CF_INOPERATIVE	0x01 /* ChangeAvailability Inoperative in force */
#define CF_PENDING_INOP 0x02 /* ... once the session ends */
#define CF_REMOTE	0x04 /* the session was started remotely */
#define CF_OFFLINE	0x08 /* the session started while offline */
#define CF_RESERVED	0x10
#define CF_NO_DEPART	0x20 /* steady mode / swap slot: the EV stays */

/* Charger configuration bits (1.6 keys / 2.0.1 variables) */
#define CFG_AUTH_REMOTE	    0x01 /* AuthorizeRemoteTxRequests */
#define CFG_LOCAL_LIST	    0x02 /* LocalAuthListEnabled */
#define CFG_STOP_ON_INVALID 0x04 /* StopTransactionOnInvalidId */
#define CFG_LOCAL_PREAUTH   0x08 /* LocalPreAuthorize */
#define CFG_OFFLINE_UNKNOWN 0x10 /* AllowOfflineTxForUnknownId */
#define CFG_LOCAL_OFFLINE   0x20 /* LocalAuthorizeOffline */
#define CFG_DEFAULT	    (CFG_LOCAL_LIST | CFG_STOP_ON_INVALID | CFG_OFFLINE_UNKNOWN | CFG_LOCAL_OFFLINE)

/* ---------------------------------------------------------------- structures */

/*
** One outgoing CALL, queued until sent and kept until answered. The payload was written
** when the event happened (timestamps, meter readings); for a 1.6 message about a
** transaction whose id the CSMS has not given yet, the text lacks its closing brace and
** `"transactionId":N}` is appended when it is sent.
*/
struct cpsim_qmsg {
	struct cpsim_qmsg *next;
	uint32_t id;	  /* message id once sent (kept for retries), 0 before */
	int32_t txid;	  /* needs_txid: the id once known (0 unknown -> -1 on the wire) */
	uint16_t session; /* the connector's session counter when written */
	uint8_t action;	  /* enum cpsim_action */
	uint8_t connector;
	uint8_t attempts;
	bool persist : 1; /* transaction message: survives disconnects, retried */
	bool needs_txid : 1;
	bool droppable : 1; /* a periodic meter value: first to go when the queue is full */
	bool tx_begin : 1;  /* StartTransaction / TransactionEvent Started */
	uint32_t len;
	char text[]; /* the payload JSON */
};

struct cpsim_connector {
	struct cpsim_ev ev;
	double import_wh;	/* Energy.Active.Import.Register */
	double export_wh;	/* Energy.Active.Export.Register */
	double power_w;		/* signed power now */
	double limit_w;		/* signed limit offered now */
	double start_wh;	/* import register at the session start */
	int64_t start_proto_ms; /* session start, protocol clock (Relative profiles) */
	uint32_t t_event;	/* arrival / departure / unplug (phase) */
	uint32_t t_meter;	/* next periodic sample (PH_ACTIVE) */
	uint32_t t_limit;	/* next profile change */
	uint32_t t_last;	/* last integration */
	uint32_t t_reserve;	/* reservation expiry */
	int32_t txid;		/* 1.6: from the CSMS; 0 unknown */
	int32_t reservation_id;
	int32_t remote_start_id; /* 2.0.1 RequestStartTransaction.remoteStartId, -1 none */
	uint32_t seq_no;	 /* 2.0.1 TransactionEvent seqNo */
	uint16_t session;	 /* sessions started here (tx ids, queue matching) */
	uint8_t id;		 /* connector / EVSE id, 1-based */
	uint8_t status;		 /* enum cp_status, as last computed */
	uint8_t sent_status;	 /* the last status notified (per version mapping), 0xff none */
	uint8_t phase;		 /* enum cp_phase */
	uint8_t flags;		 /* CF_* */
	uint8_t charging_state;	 /* 2.0.1 chargingState last reported */
	uint8_t tag_type;	 /* 2.0.1 IdTokenEnumType index (cpsim_tag_types) */
	char tag[TAG_MAX + 1];
	uint8_t v2g_mode;     /* docs/v2g.md SetV2GMode: enum cpsim_v2g_mode */
	int32_t swap_request; /* swap slot: the requestId whose vehicle's pack goes in next
				  * (BatteryIn once its charging starts), 0 = none */
};

/* The operation mode the CSMS set by SetV2GMode (docs/v2g.md). NONE: never told (negative
 * limits discharge, as before the convention). */
enum cpsim_v2g_mode { CPSIM_V2G_NONE, CPSIM_V2G_IDLE, CPSIM_V2G_CHARGING_ONLY, CPSIM_V2G_SETPOINT };

/* Local authorization list: 64-bit hashes of accepted tokens. */
struct cpsim_llist {
	int32_t version;
	uint32_t count;
	uint64_t h[];
};

struct cpsim_cp {
	struct cpsim_wnode wn;
	struct cpsim_fleet *f;
	void *conn;
	struct cpsim_qmsg *q_head, *q_tail;
	struct cpsim_qmsg *inflight;
	char *delayed; /* a reply held back (fault injection) */
	struct cpsim_profiles *profiles;
	struct cpsim_llist *ll;
	uint64_t rng;
	uint64_t sent_us; /* when inflight went out */
	uint32_t index;	  /* global charger index */
	uint32_t t_conn;  /* connect / boot retry / reconnect / reset close */
	uint32_t t_hb;
	uint32_t t_call; /* inflight timeout */
	uint32_t t_delayed;
	uint32_t t_fault;
	uint32_t t_swap; /* next vehicle at a swap station */
	uint32_t hb_ms;
	uint32_t meter_ms;
	uint32_t aligned_s; /* ClockAlignedDataInterval, protocol seconds (0: off) */
	uint32_t t_aligned; /* real fleet ms of the next aligned reading */
	int64_t p_aligned;  /* its protocol time */
	uint32_t msg_seq;
	uint32_t hold_until; /* PENDING: do not send before (boot retry) */
	uint32_t t_reset;    /* resetting: close at the latest then */
	uint16_t q_len;
	uint8_t version; /* enum ocpp_version in use */
	uint8_t proto;	 /* enum cpsim_proto configured */
	uint8_t group;
	uint8_t kind;  /* enum cpsim_kind */
	uint8_t state; /* enum cp_state */
	uint8_t nconn;
	uint8_t backoff;
	uint8_t cfg; /* CFG_* */
	bool booted_once : 1;
	bool offline : 1;   /* in a deliberate offline period */
	bool resetting : 1; /* closing to reboot */
	bool reset_on_idle : 1;
	bool connecting_counted : 1;
	int32_t swap_request; /* RequestBatterySwap: the requestId of the next vehicle, 0 = none */
	uint32_t swap_seq;    /* swaps at this station (request ids of its own) */
	struct cpsim_connector c[];
};

/* ---------------------------------------------------------------- behaviours */

struct cpsim_behaviour {
	enum ocpp_version version;
	struct cpsim_qmsg *(*boot)(struct cpsim_cp *cp, enum cp_boot_reason why);
	struct cpsim_qmsg *(*heartbeat)(struct cpsim_cp *cp);
	/* connector 0: the charger as a whole (1.6 only; 2.0.1 returns NULL) */
	struct cpsim_qmsg *(*status)(struct cpsim_cp *cp, unsigned connector);
	struct cpsim_qmsg *(*authorize)(struct cpsim_cp *cp, struct cpsim_connector *c);
	struct cpsim_qmsg *(*tx_start)(struct cpsim_cp *cp, struct cpsim_connector *c,
				       enum cp_trigger why);
	struct cpsim_qmsg *(*tx_meter)(struct cpsim_cp *cp, struct cpsim_connector *c,
				       enum cp_trigger why);
	struct cpsim_qmsg *(*tx_stop)(struct cpsim_cp *cp, struct cpsim_connector *c,
				      enum cp_reason why);
	/* a meter reading outside a transaction (TriggerMessage MeterValues) */
	struct cpsim_qmsg *(*meter)(struct cpsim_cp *cp, struct cpsim_connector *c);
	/* 2.0.1 only (NULL in 1.6) */
	struct cpsim_qmsg *(*ev_needs)(struct cpsim_cp *cp, struct cpsim_connector *c);
	/* FirmwareStatusNotification, DiagnosticsStatusNotification / LogStatusNotification */
	struct cpsim_qmsg *(*fw_status)(struct cpsim_cp *cp, const char *status, int request_id);
	struct cpsim_qmsg *(*log_status)(struct cpsim_cp *cp, const char *status, int request_id);
	/* the answer to one of our calls (q is still owned by the caller) */
	void (*on_result)(struct cpsim_cp *cp, const struct cpsim_qmsg *q, const json_t *payload);
	void (*on_error)(struct cpsim_cp *cp, const struct cpsim_qmsg *q, const char *code);
	/*
	** A CALL from the CSMS (payload already schema-checked): write the CALLRESULT payload
	** into w and return OCPP_ERR_NONE, or return an error with desc filled.
	*/
	enum ocpp_err (*on_call)(struct cpsim_cp *cp, const char *action, const json_t *payload,
				 struct cpsim_jw *w, char *desc, size_t desc_len);
};

extern const struct cpsim_behaviour cpsim_behaviour_v16;
extern const struct cpsim_behaviour cpsim_behaviour_v201;

/* ---------------------------------------------------------------- fleet internals */

struct cpsim_fleet {
	const struct cpsim_scenario *sc;
	const struct cpsim_transport *tp;
	void *tp_ctx;
	struct cpsim_stats *stats;
	struct ocpp_catalog *cat[_OCPP_VERSION_MAX];
	struct cpsim_cp **cps;
	uint32_t first, count;
	struct cpsim_wheel wheel;
	uint64_t now_us;
	uint32_t now_ms;
	int64_t wall_start_ms;
	int64_t sim_start_ms;
	uint32_t connecting; /* handshakes in progress */
	uint32_t n_open, n_booted, n_sessions, n_started, n_booted_once;
	uint32_t next_storm;
	uint32_t t_storm;
	bool draining;
	bool closing;
	bool all_booted;
	unsigned invalid_logged;
	struct cpsim_jw jw; /* scratch for the payloads of our messages */
	struct cpsim_jw rw; /* scratch for answers to CSMS calls */
	struct cpsim_jw fw; /* scratch for whole frames */
};

/* ---------------------------------------------------------------- helpers for behaviours */

/* The clock of timestamps and profiles (wall or simulated), ms since the epoch. */
int64_t cpsim_proto_now(const struct cpsim_cp *cp);
/* Real fleet ms of a protocol-clock time (saturating). */
uint32_t cpsim_proto_to_real(const struct cpsim_cp *cp, int64_t proto_ms);

/* The charger id of cp into buf (>= 32 bytes). */
void cpsim_cp_id(const struct cpsim_cp *cp, char *buf, size_t len);

/* A queued message from the text of w (copied). NULL on ENOMEM. */
struct cpsim_qmsg *cpsim_qmsg_new(const struct cpsim_jw *w, enum cpsim_action a, unsigned connector,
				  uint16_t session, bool persist);

/* Hardware limit of a connector, W (> 0). */
double cpsim_cp_hw_w(const struct cpsim_cp *cp);
/* The A -> W context of a connector. */
void cpsim_cp_limit_ctx(const struct cpsim_cp *cp, const struct cpsim_connector *c,
			struct cpsim_limit_ctx *ret);
/* 2.0.1 transaction id of the connector's current session into buf (>= 40 bytes). */
void cpsim_cp_tx_id(const struct cpsim_cp *cp, const struct cpsim_connector *c, char *buf,
		    size_t len);
/* Key of a transaction for TxProfile matching. */
uint64_t cpsim_tx_key_int(int32_t txid);
uint64_t cpsim_tx_key_str(const char *txid);

/* Bring the energy registers of every connector up to now. */
void cpsim_cp_advance(struct cpsim_cp *cp);
/* Recompute every connector's limit and power now (after a change of what governs them). */
void cpsim_cp_refresh(struct cpsim_cp *cp);

/* Queue q (no send yet: cpsim_cp_pump() runs at the end of each event). NULL-safe. */
void cpsim_cp_enqueue(struct cpsim_cp *cp, struct cpsim_qmsg *q);

/* ---------------------------------------------------------------- actions for behaviours */

/* Boot answered: 0 accepted, 1 pending, 2 rejected (retry after interval_s), 3 CALLERROR. */
void cpsim_cp_boot_result(struct cpsim_cp *cp, int status, int interval_s);
/* Authorize answered (accepted or not) for connector c's current plug-in. */
void cpsim_cp_auth_result(struct cpsim_cp *cp, struct cpsim_connector *c, bool accepted);
/* The CSMS gave transaction id txid (1.6) to session `session` of connector c. */
void cpsim_cp_tx_started(struct cpsim_cp *cp, struct cpsim_connector *c, uint16_t session,
			 int32_t txid, bool accepted);

/* Remote start: the connector used (>= 1), -EBUSY no free connector, -EINVAL bad connector. */
int cpsim_cp_remote_start(struct cpsim_cp *cp, unsigned connector, const char *tag,
			  uint8_t tag_type, int32_t remote_start_id);
/* Remote stop of the session whose key is key: 0 or -ENOENT. */
int cpsim_cp_remote_stop(struct cpsim_cp *cp, uint64_t key);
/* Reset: hard stops sessions first; on_idle waits for them. Returns 1 when scheduled. */
int cpsim_cp_reset(struct cpsim_cp *cp, bool hard, bool on_idle);
/* ChangeAvailability for connector (0 = all): returns 0 accepted, 1 scheduled, -EINVAL. */
int cpsim_cp_availability(struct cpsim_cp *cp, unsigned connector, bool operative);
/* UnlockConnector: 0 unlocked, 1 a session is running (2.0.1 refuses), -EINVAL. */
int cpsim_cp_unlock(struct cpsim_cp *cp, unsigned connector, bool stop_session);
/* Install a profile for connector (0 = station): 0, -EINVAL, -ENOSPC, -ENOENT (TxProfile w/o tx).
 */
int cpsim_cp_set_profile(struct cpsim_cp *cp, struct cpsim_profile *p);
/* Clear profiles; returns how many. */
unsigned cpsim_cp_clear_profiles(struct cpsim_cp *cp, const struct cpsim_profile_filter *f);
/* Composite schedule (see cpsim_profiles_composite); -ENOENT none, -EINVAL bad connector. */
int cpsim_cp_composite(struct cpsim_cp *cp, unsigned connector, int32_t duration_s, bool amps,
		       struct cpsim_period *out, unsigned max, int64_t *ret_start);
/* Local list: full replaces; entries are tokens with accepted flags. 0, -ENOSPC. */
int cpsim_cp_local_list(struct cpsim_cp *cp, int32_t version, bool full, const char *const *tags,
			const bool *accepted, size_t n);
bool cpsim_cp_local_list_has(const struct cpsim_cp *cp, const char *tag);
/* New heartbeat / meter interval (seconds; 0 keeps). */
void cpsim_cp_set_intervals(struct cpsim_cp *cp, double heartbeat_s, double meter_s);
/* ClockAlignedDataInterval (seconds of the protocol clock, 0 = off): while a transaction runs,
** a reading at every multiple of it from local midnight, timestamped at that instant. */
void cpsim_cp_set_aligned(struct cpsim_cp *cp, uint32_t interval_s);
/* TriggerMessage helpers: queue the message now (connector 0 = all). */
void cpsim_cp_trigger_status(struct cpsim_cp *cp, unsigned connector);
void cpsim_cp_trigger_meter(struct cpsim_cp *cp, unsigned connector, bool tx_event);
/* Find the connector with the given 1-based id, or NULL. */
struct cpsim_connector *cpsim_cp_conn(struct cpsim_cp *cp, unsigned id);
/* ReserveNow / CancelReservation: 0 accepted, -EBUSY occupied, -ENOENT unknown id. */
int cpsim_cp_reserve(struct cpsim_cp *cp, unsigned connector, int32_t id, int64_t expiry_proto_ms,
		     const char *tag);
int cpsim_cp_cancel_reservation(struct cpsim_cp *cp, int32_t id);

/* Status names (1.6) and the 2.0.1 connectorStatus of a 1.6 status. */
const char *cpsim_status_name(enum cp_status s);
const char *cpsim_status_v201(enum cp_status s);
