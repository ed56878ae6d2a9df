/* SPDX-License-Identifier: MIT */
/* Node configuration: defaults, a JSON file, then command-line overrides. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum cfg_registration { CFG_REG_CLOSED, CFG_REG_PENDING, CFG_REG_OPEN, _CFG_REG_MAX };

/* PBKDF2 iterations below this are allowed (tests) but announced at start with a warning. */
#define CFG_KDF_ITERATIONS_MIN 100000

struct cfg {
	char listen_host[64];
	int listen_port;
	char *db_path;
	int registration; /* enum cfg_registration */
	int log_level;	  /* enum log_level */
	char *port_file;
	char *web_root;
	int heartbeat_interval_s;
	int pending_interval_s;
	int call_timeout_ms;
	int max_frame_bytes;
	int max_tx_queue;
	int max_call_queue;
	int max_connectors;
	int max_list_items;
	int boot_rate_per_s;
	int kdf_iterations;
	int drain_ms;
	bool sync_full; /* "sync": "full" (fsync per group commit) or "normal" */
	/* demo/test clock: simulated = clock_start + (wall - clock_anchor) * clock_speed */
	int64_t clock_start_ms;	      /* 0 = real time */
	int64_t clock_anchor_ms;      /* 0 = when the node starts */
	int clock_speed;	      /* 1 = real time */
	bool allow_demo_clock;	      /* accept a simulated clock on a non-loopback listener */
	bool allow_open_registration; /* accept registration open on a non-loopback listener */
	json_t *id_tokens;	      /* optional seed list of tokens; owned */
	/* ---- operator accounts, the API listener, operations */
	char api_listen_host[64]; /* "" = the API is served on the charger listener */
	int api_listen_port;
	char *api_tls_cert, *api_tls_key; /* PEM paths: the API listener speaks https */
	char *public_url;	 /* where operators reach the API; NULL = from the listener */
	int session_idle_s;	 /* a browser session ends after this long unused */
	int session_lifetime_s;	 /* ... and this long after the login in any case */
	int login_fail_burst;	 /* failed logins allowed per account before throttling */
	int login_fail_refill_s; /* one more allowed every this many seconds */
	char *metrics_token;	 /* bearer token of /metrics; NULL = API listener only */
	bool log_json;		 /* "log_format": "json" */
	/* ---- security: admission, limits (docs/security.md, docs/config.md) */
	int boot_timeout_s;  /* a connection must send BootNotification within this */
	int idle_factor;     /* closed when silent for idle_factor x its interval */
	int max_connections; /* charger connections in all */
	int max_connections_per_address;
	int call_rate_per_s; /* token bucket per connection and per station */
	int call_burst;
	int station_boot_burst; /* boots per station: a burst, then one per interval */
	int station_boot_interval_s;
	int registration_rate_per_s; /* new (unknown) stations registered per second */
	int max_pending_stations;    /* Pending rows at most (pending policy) */
	int auth_fail_free;	     /* failed logins per id/address before the back-off starts */
	int auth_backoff_max_s;
	/* ---- end security */
	char *ca_dir;  /* the operator's CA (csms ca init); NULL = none: SignCertificate refused */
	int cert_days; /* validity of the certificates the CA signs */
	int cert_renew_days; /* ask a station to renew this many days before its certificate expires */
	int cert_check_ms; /* how often expiries are checked */
	/* ---- TLS of the charger listener (security profiles 2 and 3, docs/security.md) */
	char *tls_cert, *tls_key; /* PEM paths: the charger port speaks wss:// */
	char *tls_client_ca;	  /* PEM CA of client certificates (profile 3); NULL = none */
	char *tls_min_version;	  /* "1.2" (default) or "1.3" */
	bool tls_allow_plain;	  /* with TLS: still serve plain ws:// on the same port */
				  /* ---- end TLS */
	/* ---- nodes: several nodes on one PostgreSQL (docs/scaling.md) */
	char *node_id;	       /* this node in station_owner; NULL = hostname:port */
	int owner_lease_ms;    /* a station's lease; renewed every third of it */
	int late_answer_ms;    /* answers this late: new chargers get 503 (app.c), 0: never */
	int commits_in_flight; /* group COMMITs not yet durable at once; 0: 1 on PostgreSQL, no
				* limit on SQLite (app.c) */
	/* ---- the planner (docs/v2g.md) */
	int planner_wear_fen_per_mwh; /* battery-wear cost per MWh discharged */
};

void cfg_init(struct cfg *c);
void cfg_free(struct cfg *c);
/* Apply a JSON config file. On error returns -EINVAL and writes one line into err. */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t err_len);
/* Apply one key (as named in the file) from a string, for command-line flags. */
int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t err_len);
const char *cfg_registration_name(int r);
/* Checks that involve several settings, once all are applied. -EINVAL with one line in err:
 * a simulated clock (clock_start or clock_speed) on a production-looking node (a listener that
 * is not loopback) is refused unless allow_demo_clock is set; so is registration open (a lab
 * policy) unless allow_open_registration is set; a non-loopback api_listen needs
 * api_tls_cert and api_tls_key (the operator API is never served in clear text off the
 * machine); TLS files need an api_listen; tls_cert and tls_key go together, and tls_client_ca
 * and tls_allow_plain need them. */
int cfg_check(const struct cfg *c, char *err, size_t err_len);
/* True when the settings ask for a simulated clock. */
bool cfg_clock_simulated(const struct cfg *c);
/* True for a loopback host name or address (127.0.0.0/8, ::1, localhost). */
bool cfg_host_loopback(const char *host);
