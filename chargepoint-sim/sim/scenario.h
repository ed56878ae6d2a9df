/* SPDX-License-Identifier: MIT */
/* The fleet description: flags and a JSON scenario file parsed into one struct cpsim_scenario. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "site.h"

#define CPSIM_GROUPS_MAX     32
#define CPSIM_STORMS_MAX     8
#define CPSIM_CHARGERS_MAX   1000000
#define CPSIM_DURATION_MAX_S (7 * 86400.0)

enum cpsim_proto {
	CPSIM_PROTO_V16,
	CPSIM_PROTO_V201,
	CPSIM_PROTO_MIXED, /* alternate 1.6 and 2.0.1 by charger */
	CPSIM_PROTO_AUTO,  /* offer both, speak what the server picks */
	_CPSIM_PROTO_MAX,
	_CPSIM_PROTO_INVALID = -22,
};

enum cpsim_auth {
	CPSIM_AUTH_CHECK, /* Authorize before starting; obey the idTagInfo status */
	CPSIM_AUTH_SKIP,  /* free vend: start without Authorize, ignore the status */
};

/* Fault injection. Rates are per charger per simulated hour; durations noted per field. */
struct cpsim_faults {
	double drop_per_h;    /* connection drops (reconnect after the backoff) */
	double offline_per_h; /* offline periods: no connection, transactions queued */
	double offline_min_s; /* offline period length, simulated seconds */
	double offline_max_s;
	double delay_share;	/* share of CSMS calls answered late */
	double delay_ms;	/* by this many real milliseconds */
	double malformed_share; /* share of calls preceded by a malformed frame */
	double duplicate_share; /* share of transaction calls sent twice with the same id */
};

struct cpsim_group {
	enum cpsim_kind kind;
	enum cpsim_proto proto;
	uint32_t count;
	unsigned connectors; /* 0: the kind's default */
	double power_kw;     /* 0: the kind's default */
	double v2g_share;    /* < 0: the kind's default */
	bool has_faults;     /* else the scenario's faults (rural adds offline periods) */
	struct cpsim_faults faults;
	unsigned site_size;    /* chargers per site, own sites "<prefix>-S<letter><group>-NNNNN"
				(0: the kind's default, sites shared with the kind's other groups) */
	double soc_lo, soc_hi; /* the EVs' SoC on arrival, drawn in [lo, hi) (0, 0: the kind's) */
};

/* One charger id and password from --password-file. */
struct cpsim_password {
	char *id;
	char *password;
};

struct cpsim_scenario {
	/* server */
	char host[64];
	int port;
	char path[128];		   /* without the trailing charger id, e.g. "/ocpp" */
	char *password;		   /* one password for every charger, or NULL */
	struct cpsim_password *pw; /* sorted by id, from --password-file */
	size_t npw;
	/* TLS: wss:// (security profiles 2 and 3, docs/simulator.md) */
	bool tls;	       /* --tls, or a wss:// url */
	bool tls_insecure;     /* --insecure: the server's certificate is not checked */
	char *tls_ca;	       /* --ca: PEM CA of the server's certificate; NULL = system's */
	char *tls_cert;	       /* --cert/--key: PEM client certificate for every charger */
	char *tls_key;	       /*   of the process (profile 3: its CN must be the id) */
	char *tls_server_name; /* --server-name: the name in the server's certificate */
	/* profile 3 fleets: a client certificate per charger (--cert-dir, or minted at start from
	 * --client-ca/--client-ca-key, CN = the id, for --cert-valid; 0 = 24 h) */
	char *tls_cert_dir;
	char *tls_client_ca;
	char *tls_client_ca_key;
	unsigned int tls_cert_valid_s;
	/* fleet */
	char id_prefix[12]; /* keeps tags within the 20 characters of a 1.6 idTag */
	unsigned ngroups;
	struct cpsim_group groups[CPSIM_GROUPS_MAX];
	uint32_t total;		 /* sum of the groups' counts */
	unsigned tag_pool;	 /* public/rural id tags SIMTAG-00000.. */
	unsigned ll_per_message; /* SendLocalList entries a charger takes at once (<= LL_MAX) */
	enum cpsim_auth auth;
	/* time */
	double speed;	      /* simulated seconds per real second */
	int64_t sim_start_ms; /* simulated clock at start; 0 = the wall clock */
	int64_t
	    sim_anchor_ms;   /* wall time where the simulated clock was sim_start_ms (0 = at start):
				  the CSMS's clock_anchor, so both read the same simulated time */
	bool timestamps_sim; /* timestamps and profiles in simulated time (else wall) */
	int utc_offset_min;  /* the sites' local time, minutes east of UTC (+480: UTC+08:00);
				 main() hands it to cpsim_site_set_utc_offset() */
	double duration_s;   /* real seconds of load, then the drain */
	double drain_s;	     /* at the end: time to stop sessions and flush queues */
	double heartbeat_s;  /* 0: the interval the CSMS sends */
	double meter_s;	     /* meter sample interval (real seconds) */
	uint32_t aligned_s;  /* ClockAlignedDataInterval, protocol seconds (0: off) */
	double call_timeout_s;
	double ramp_per_s;	 /* new connections per second (0: as fast as possible) */
	unsigned max_connecting; /* handshakes in progress at once */
	double reconnect_min_s, reconnect_max_s;
	/* load mode: every connector in one long session from steady_at_s */
	bool steady;
	double steady_at_s;
	/* faults */
	struct cpsim_faults faults;
	struct cpsim_faults gfaults[CPSIM_GROUPS_MAX]; /* resolved per group by _finish() */
	unsigned nstorms;
	double storm_at_s[CPSIM_STORMS_MAX]; /* real seconds from start */
	double storm_share;
	/* processes and addresses */
	uint32_t per_process;
	uint32_t per_address;
	char source_base[16]; /* first source address, "127.0.0.2" */
	bool source_given;    /* --source-base was given (else cpsim picks free ones) */
	/* output */
	double progress_s;
	bool json;
	char *json_file;
	bool validate;
	int verbose;
	uint64_t seed;
	char *emit_stations;
	char *emit_config;
	char *emit_ratings;
	char *trace_calls; /* append every CALL the CSMS sends: "<charger id> <frame>" lines */
};

/*
** Fill sc from argv (argv[0] is skipped). A --scenario FILE anywhere is read first and
** the other flags override it. On error writes one line to err and returns -EINVAL;
** returns 1 for --help (usage printed to stdout). sc must be released with
** cpsim_scenario_free() in every case.
*/
int cpsim_scenario_from_args(struct cpsim_scenario *sc, int argc, char **argv, char *err,
			     size_t err_len);

/* Defaults only (what from_args starts from); for tests. */
void cpsim_scenario_defaults(struct cpsim_scenario *sc);

/* Read a JSON scenario file (or text when text != NULL) into sc; -EINVAL with err filled. */
int cpsim_scenario_load_json(struct cpsim_scenario *sc, const char *path, const char *text,
			     char *err, size_t err_len);

/* Set sc->host/port/path from "ws://HOST:PORT/PATH" or "wss://HOST:PORT/PATH" (which sets
 * sc->tls). -EINVAL for other shapes. */
int cpsim_scenario_set_url(struct cpsim_scenario *sc, const char *url);

/* Check and complete sc after parsing (totals, bounds). -EINVAL with err filled. */
int cpsim_scenario_finish(struct cpsim_scenario *sc, char *err, size_t err_len);

void cpsim_scenario_free(struct cpsim_scenario *sc);

/* Print the usage text. */
void cpsim_scenario_usage(void);

/* ---------------------------------------------------------------- per-charger facts */

/* The group of global charger index i (i < total). */
const struct cpsim_group *cpsim_scenario_group(const struct cpsim_scenario *sc, uint32_t i,
					       unsigned *ret_group);

/* Charger id of index i: "<prefix>-<letter>-<index:06>". buf >= 32 bytes. */
void cpsim_charger_id(const struct cpsim_scenario *sc, uint32_t i, char *buf, size_t len);

/* Site id of index i (chargers of a kind are grouped into sites of the kind's size). */
void cpsim_site_id(const struct cpsim_scenario *sc, uint32_t i, char *buf, size_t len);

/* The password of charger id, or NULL. */
const char *cpsim_scenario_password(const struct cpsim_scenario *sc, const char *id);

/* The protocol charger i speaks (MIXED resolved by index parity; AUTO stays AUTO). */
enum cpsim_proto cpsim_scenario_proto(const struct cpsim_scenario *sc, uint32_t i);

/* The faults in force for group g (rural groups without their own add offline periods). */
const struct cpsim_faults *cpsim_scenario_faults(const struct cpsim_scenario *sc, unsigned g);

/* The id tag driver d uses at charger i of kind k (pool tags, residential owner, swap). */
void cpsim_tag_for(const struct cpsim_scenario *sc, uint32_t i, enum cpsim_kind k, uint64_t *rng,
		   char *buf, size_t len);

/*
** Write the CSMS import CSV (charger_id,site,site_kind,password) of the whole fleet, or a
** CSMS config fragment {"id_tokens": [...]} with every tag the fleet uses (residential
** owner tags bound to their site). 0 or -errno.
*/
int cpsim_scenario_emit_stations(const struct cpsim_scenario *sc, const char *path);
int cpsim_scenario_emit_config(const struct cpsim_scenario *sc, const char *path);

/*
** Write the hardware ratings of the whole fleet as JSON, for checks on stored energy:
** {"utc_offset": "+08:00", "chargers": [{"id", "site", "kind", "protocol", "connectors",
** "connector_kw", "rated_kw"}, ...]}, rated_kw = connectors x connector_kw (the most the
** charger can draw). 0 or -errno.
*/
int cpsim_scenario_emit_ratings(const struct cpsim_scenario *sc, const char *path);

/*
** Parse a UTC offset "+08:00", "-05:30", "+0800", "+08" or "Z" into minutes east of UTC
** (-14:00..+14:00). 0 or -EINVAL.
*/
int cpsim_parse_utc_offset(const char *s, int *ret_min);

/* Format minutes east of UTC as "+08:00" into buf (len >= 7). */
void cpsim_format_utc_offset(int minutes, char *buf, size_t len);
