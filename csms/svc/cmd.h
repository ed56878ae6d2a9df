/* SPDX-License-Identifier: MIT */
/* Operator commands to stations, version-neutral: the request, the domain result, the command
 * log. api -> svc_cmd_send -> link (svc/link.h) -> the station's adapter -> its connection; the
 * answer comes back here, is logged, and the caller hears of it once the log row is durable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

struct svc;
struct svc_link_ops;

/* What the operator asks a station to do. */
enum svc_cmd_kind {
	SVC_CMD_REMOTE_START,
	SVC_CMD_REMOTE_STOP,
	SVC_CMD_RESET,
	SVC_CMD_UNLOCK,
	SVC_CMD_AVAILABILITY,
	SVC_CMD_TRIGGER,
	SVC_CMD_SET_PROFILE,
	SVC_CMD_CLEAR_PROFILE,
	SVC_CMD_COMPOSITE_SCHEDULE,
	SVC_CMD_SEND_LOCAL_LIST,
	SVC_CMD_LOCAL_LIST_VERSION,
	SVC_CMD_RESERVE,
	SVC_CMD_CANCEL_RESERVATION,
	SVC_CMD_RAW,	      /* an action by name with its payload as JSON text */
	SVC_CMD_SET_PASSWORD, /* the station's HTTP Basic password (svc_password_rotate) */
	/* how many list entries (and bytes) one SendLocalList takes (svc/locallist.c) */
	SVC_CMD_LOCAL_LIST_LIMITS,
	/* a bidirectional session's operation mode and setpoint (docs/v2g.md §2: on 1.6 and
	 * 2.0.1 the vendor DataTransfer SetV2GMode) */
	SVC_CMD_SET_V2G_MODE,
	/* the charging profiles a station holds, reported back by ReportChargingProfiles (2.0.1
	 * GetChargingProfiles; OCPP 1.6 has no such message: SVC_RES_UNSUPPORTED) */
	SVC_CMD_GET_PROFILES,
	_SVC_CMD_KIND_MAX,
	_SVC_CMD_KIND_INVALID = -22,
};

/* The message a trigger asks the station to send. */
enum svc_trigger {
	SVC_TRIGGER_BOOT,
	SVC_TRIGGER_HEARTBEAT,
	SVC_TRIGGER_STATUS,
	SVC_TRIGGER_METER_VALUES,
	SVC_TRIGGER_FIRMWARE_STATUS,
	SVC_TRIGGER_DIAGNOSTICS_STATUS, /* 2.0.1: LogStatusNotification */
	SVC_TRIGGER_SIGN_CERTIFICATE,	/* 1.6: ExtendedTriggerMessage SignChargePointCertificate */
	_SVC_TRIGGER_MAX,
	_SVC_TRIGGER_INVALID = -22,
};

enum svc_profile_purpose {
	SVC_PURPOSE_STATION_MAX, /* the whole station's limit */
	SVC_PURPOSE_TX_DEFAULT,	 /* default for every transaction */
	SVC_PURPOSE_TX,		 /* one running transaction */
	_SVC_PURPOSE_MAX,
	_SVC_PURPOSE_INVALID = -22,
};

enum svc_rate_unit { SVC_RATE_W, SVC_RATE_A, _SVC_RATE_MAX, _SVC_RATE_INVALID = -22 };

/* A schedule that repeats from its start (OCPP chargingProfileKind Recurring): every day, or
 * every week. SVC_RECUR_NONE: Absolute when it has a start, else Relative. */
enum svc_recurrency {
	SVC_RECUR_NONE,
	SVC_RECUR_DAILY,
	SVC_RECUR_WEEKLY,
	_SVC_RECUR_MAX,
	_SVC_RECUR_INVALID = -22
};

/* This project's vendorId (DataTransfer, docs/v2g.md). */
#define SVC_VENDOR_ID "org.openchargenet.csms"

/*
** The operation mode of a bidirectional session, the OCPP 2.1 shape: power is signed watts
** (negative = discharge) and the mode says how the station follows it. A 2.1 adapter maps it to
** its own operationMode; 1.6 and 2.0.1 carry it by the vendor convention of docs/v2g.md.
*/
enum svc_op_mode {
	SVC_MODE_IDLE,		   /* neither charge nor discharge */
	SVC_MODE_CHARGING_ONLY,	   /* charge up to the limit, never discharge */
	SVC_MODE_CENTRAL_SETPOINT, /* follow the signed limit: negative = discharge */
	_SVC_MODE_MAX,
	_SVC_MODE_INVALID = -22,
};
const char *svc_op_mode_name(int m); /* "Idle", "ChargingOnly", "CentralSetpoint" */

/* One period of a power schedule: from start_s (seconds from the schedule's start) the limit
 * holds. Limits are signed (negative = discharge, the V2G shape of DESIGN.md §5): watts for
 * SVC_RATE_W, tenths of an ampere for SVC_RATE_A. */
struct svc_power_period {
	int64_t start_s;
	int64_t limit;
	int phases; /* 0 = not given */
};

#define SVC_PROFILE_PERIODS_MAX 48

struct svc_charging_profile {
	int64_t id;
	int purpose;	    /* enum svc_profile_purpose */
	int stack_level;    /* >= 0 */
	int64_t start_ms;   /* 0 = relative to the moment it applies */
	int64_t duration_s; /* 0 = open-ended */
	int rate_unit;	    /* enum svc_rate_unit */
	int recurrency;	    /* enum svc_recurrency; not NONE: needs start_ms, the first day's or
			     * week's start */
	size_t n_periods;   /* 1..SVC_PROFILE_PERIODS_MAX */
	struct svc_power_period periods[SVC_PROFILE_PERIODS_MAX];
};

/* One entry of a local authorization list sent to a station. */
struct svc_local_entry {
	const char *token;
	int status;	    /* enum auth_status; -1 = remove the entry (differential update) */
	int64_t expiry_ms;  /* 0 = none */
	const char *parent; /* NULL = none */
};

/*
** A command request. Everything is borrowed for the duration of svc_cmd_send(). Which members
** count depends on kind; the rest stay zero.
*/
struct svc_cmd {
	int kind;    /* enum svc_cmd_kind */
	int evse_id; /* remote start, reserve (0 = any); unlock; availability, trigger, composite
		      * schedule, set/clear profile (0 = the station); V2G mode (>= 1) */
	int connector_id;	/* unlock (0 = 1) */
	const char *id_tag;	/* remote start, reserve */
	int64_t session_id;	/* remote stop, V2G mode, and set profile of purpose TX (0 =
				 * none): the CSMS session; svc resolves station_tx_id */
	char station_tx_id[65]; /* remote stop: the id the station knows it by (filled by svc) */
	int64_t request_id; /* remote start id, get profiles' requestId (filled by svc when 0) */
	bool hard;	    /* reset: now (Hard/Immediate) or when idle (Soft/OnIdle) */
	bool operative;	    /* availability */
	int trigger;	    /* enum svc_trigger */
	struct svc_charging_profile profile; /* set profile */
	struct {			     /* clear profile: each criterion optional */
		bool has_id;
		int64_t id;
		int purpose;	 /* -1 = any */
		int stack_level; /* -1 = any */
	} clear;
	int64_t duration_s; /* composite schedule */
	int rate_unit;	    /* composite schedule: enum svc_rate_unit, -1 = the station's choice */
	struct {	    /* send local list */
		int64_t version;
		bool full; /* replace the whole list (else: a differential update) */
		const struct svc_local_entry *entries;
		size_t n_entries;
	} list;
	int64_t reservation_id; /* reserve, cancel reservation */
	int64_t expiry_ms;	/* reserve */
	struct {		/* raw */
		const char *action;
		const char *payload; /* JSON text, checked by the link against the catalogue */
	} raw;
	const char *password;	 /* set password */
	struct {		 /* get profiles: each criterion optional */
		bool has_evse;	 /* evse_id (0 = the station's own profiles); else every EVSE */
		int purpose;	 /* -1 = any */
		int stack_level; /* -1 = any */
	} report;
	struct {			/* V2G mode (evse_id, session_id name the session) */
		int mode;		/* enum svc_op_mode */
		int64_t setpoint_w;	/* signed: negative = discharge */
		int64_t valid_until_ms; /* the end of the plan's horizon */
	} v2g;
};

/* How a command ended, as the domain sees it. */
enum svc_cmd_status {
	SVC_RES_ACCEPTED, /* the station agreed (Accepted, Unlocked, Scheduled …) */
	SVC_RES_REJECTED, /* the station refused (Rejected, Occupied, Faulted, UnlockFailed …) */
	SVC_RES_OTHER,	  /* another status word (NotSupported, Unknown …) */
	SVC_RES_ANSWERED, /* an answer without a status word (GetLocalListVersion …) */
	SVC_RES_CALL_ERROR,    /* the station answered with a CALLERROR (code, detail) */
	SVC_RES_BAD_ANSWER,    /* the answer broke the schema (code, detail) */
	SVC_RES_TIMEOUT,       /* no answer within call_timeout_ms */
	SVC_RES_NOT_CONNECTED, /* the station is not connected: nothing was sent */
	SVC_RES_DISCONNECTED,  /* the connection closed before the station answered */
	SVC_RES_BUSY,	       /* too many commands queued for the station */
	SVC_RES_INVALID,       /* the request was refused before sending (detail says why) */
	SVC_RES_FAILED,	       /* internal failure (out of memory, cannot encode) */
	SVC_RES_STORE_FAILED,  /* the answer came, but its log row could not be made durable */
	SVC_RES_UNSUPPORTED, /* the station's protocol version has no such message: nothing sent */
	_SVC_RES_MAX,
	_SVC_RES_INVALID = -22,
};

/* The domain result handed to the caller. Pointers are valid during the callback only. */
struct svc_cmd_result {
	int status;		 /* enum svc_cmd_status */
	char station_status[32]; /* the answer's status word, "" if none */
	char action[48];	 /* the OCPP action that was sent, "" if none */
	const char *payload;	 /* the answer's payload as JSON text (CALLRESULT or bad answer),
				  * or NULL */
	char code[48];		 /* CALLERROR / validation error code, "" if none */
	char detail[256];	 /* CALLERROR description or why it failed, "" if none */
	int64_t latency_ms;	 /* from sending to the answer */
	int64_t log_id;		 /* the command log row, 0 if not logged */
};

typedef void (*svc_cmd_done_fn)(void *ud, const struct svc_cmd_result *res);

const char *svc_cmd_kind_name(int kind);      /* "remote-start" …, NULL if out of range */
int svc_cmd_kind_from_name(const char *name); /* or _SVC_CMD_KIND_INVALID */
const char *svc_cmd_status_name(int status);  /* "accepted", "timeout" … */
const char *svc_trigger_name(int t);	      /* "boot", "heartbeat" … */
int svc_trigger_from_name(const char *name);
const char *svc_profile_purpose_name(int p); /* "station-max", "tx-default", "tx" */
int svc_profile_purpose_from_name(const char *name);

/*
** Write a short human summary of cmd ("type=hard", "session=42 tx=abc" …) into buf.
*/
void svc_cmd_summary(const struct svc_cmd *cmd, char *buf, size_t len);

/*
** Install the link commands travel by (svc/link.h); impl is passed back to its functions.
** Called once by the node before the first command; ops NULL detaches it.
*/
void svc_set_link(struct svc *s, const struct svc_link_ops *ops, void *impl);

/*
** Send a command to station_id on behalf of `who` (NULL = "system"). svc resolves what the
** station knows (the station's transaction id of a CSMS session for a remote stop, a remote
** start id), sends through the link, and when the answer (or a failure) comes back records a
** command log row and calls done(ud, result) only after the group commit that holds the row
** (svc_cmd_release). Returns 0 when done will be called exactly once, later; otherwise done is
** never called and: -ENOENT unknown station, -ESRCH remote stop of a session that is not this
** station's, -EINVAL a malformed request (unknown kind, empty raw action), -ENOLINK no link
** installed, -ENOMEM, -EIO storage error.
*/
int svc_cmd_send(struct svc *s, const char *station_id, const struct svc_cmd *cmd, const char *who,
		 svc_cmd_done_fn done, void *ud);

/*
** The node's group commit has finished (committed: it succeeded). Calls the done callbacks of
** the commands whose log rows it contained; if it failed they get SVC_RES_STORE_FAILED. Runs
** from app_group_commit(); cheap when nothing waits; s may be NULL.
*/
void svc_cmd_release(struct svc *s, bool committed);
/* The same for only the n oldest commands waiting (svc_cmd_waiting): the group commit off the
 * loop releases a batch once it is durable while later batches' commands wait. */
void svc_cmd_release_n(struct svc *s, bool committed, size_t n);

/* A fresh request id (the counter svc fills remote start and get profiles ids from), for a
 * caller that must know the id before the answer. */
int64_t svc_cmd_next_request_id(struct svc *s);

/* Commands answered and waiting for the group commit (for tests and the group commit). */
size_t svc_cmd_waiting(struct svc *s);

/* Internal to svc: the command state hanging off struct svc (svc.c owns the slot). */
struct svc_cmds;
struct svc_cmds **svc__cmds(struct svc *s);
void svc__cmds_free(struct svc_cmds *c);
