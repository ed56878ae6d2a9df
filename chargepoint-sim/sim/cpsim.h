/* SPDX-License-Identifier: MIT */
/* libcpsim: a fleet of virtual OCPP chargers driven by a clock and a pluggable transport. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpsim_scenario;
struct cpsim_stats;
struct cpsim_progress;
struct cpsim_fleet;
struct cpsim_cp;

/* What a charger asks the transport to open. Strings are borrowed for the call. */
struct cpsim_connect {
	const char *host;
	int port;
	const char *path;	  /* "/ocpp/SIM-P-000001" */
	const char *subprotocols; /* "ocpp1.6", "ocpp2.0.1" or "ocpp2.0.1,ocpp1.6" */
	const char *user;	  /* Basic auth user (the charger id), NULL for none */
	const char *password;
	const char *source_addr; /* "127.0.0.2" or NULL */
};

/* How a connection ended, as the transport saw it. */
enum cpsim_end {
	CPSIM_END_REFUSED, /* the upgrade was answered with something other than 101 */
	CPSIM_END_PEER,	   /* the server closed the WebSocket */
	CPSIM_END_ERROR,   /* TCP failure or drop without a close frame */
	CPSIM_END_LOCAL,   /* we closed it */
};

/*
** The seam between the fleet and the network (the real one is cpclient on lws/libuv; the
** unit tests plug in a recorder). connect() returns 0 and a connection handle, after which
** exactly one cpsim_cp_closed() must follow (possibly after cpsim_cp_opened()); or a
** negative errno and no callback. send() copies the frame. close() asks for the end; the
** transport reports it later with cpsim_cp_closed(..., CPSIM_END_LOCAL).
*/
struct cpsim_transport {
	int (*connect)(void *ctx, struct cpsim_cp *cp, const struct cpsim_connect *req,
		       void **ret_conn);
	int (*send)(void *ctx, void *conn, const char *buf, size_t len);
	void (*close)(void *ctx, void *conn, int code);
};

struct cpsim_fleet_opts {
	const struct cpsim_scenario *sc; /* borrowed; outlives the fleet */
	uint32_t first;			 /* global index of the first charger */
	uint32_t count;			 /* chargers in this fleet (this process) */
	const struct cpsim_transport *tp;
	void *tp_ctx;
	struct cpsim_stats *stats; /* borrowed; counters are added to it */
	int64_t wall_start_ms;	   /* wall clock (ms since the epoch) at fleet time 0 */
};

/*
** Build the fleet: chargers, their first arrivals and connect times (spread by the ramp).
** Nothing is sent until cpsim_fleet_run() is called with a time. NULL on ENOMEM or bad
** options.
*/
struct cpsim_fleet *cpsim_fleet_create(const struct cpsim_fleet_opts *o);

/* Free the fleet and every charger; connections must be closed already. NULL-safe. */
void cpsim_fleet_destroy(struct cpsim_fleet *f);

/*
** Set the fleet clock to now_us (microseconds since fleet time 0, monotonic) and run every
** timer due by then. Returns the time (ms) of the next due timer, or UINT32_MAX.
*/
uint32_t cpsim_fleet_run(struct cpsim_fleet *f, uint64_t now_us);

/* Only set the clock (call before delivering transport events). */
void cpsim_fleet_set_time(struct cpsim_fleet *f, uint64_t now_us);

/*
** The end of the load phase: no new arrivals or faults; running sessions are stopped
** (reason Local); chargers that hold queued transaction messages reconnect to deliver
** them. The fleet is drained once cpsim_fleet_drained() says so.
*/
void cpsim_fleet_begin_drain(struct cpsim_fleet *f);

/* True when no charger has anything left to send or a session running. */
bool cpsim_fleet_drained(const struct cpsim_fleet *f);

/* Close every connection and stop reconnecting (final). */
void cpsim_fleet_close_all(struct cpsim_fleet *f);

/* Live numbers for the progress line. */
void cpsim_fleet_progress(const struct cpsim_fleet *f, struct cpsim_progress *ret);

/* Fill the end-of-run fields of the stats (sessions still open, queued messages). */
void cpsim_fleet_finish(struct cpsim_fleet *f);

/* Connections currently open, or being opened. */
uint32_t cpsim_fleet_live_connections(const struct cpsim_fleet *f);

/* The charger with local index i (tests), or NULL. */
struct cpsim_cp *cpsim_fleet_cp(struct cpsim_fleet *f, uint32_t i);

/* ---------------------------------------------------------------- transport events */

/* The WebSocket is open; subprotocol is the server's choice ("" if none). */
void cpsim_cp_opened(struct cpsim_cp *cp, const char *subprotocol);

/* One complete text frame arrived (buf need not be NUL-terminated). */
void cpsim_cp_text(struct cpsim_cp *cp, const char *buf, size_t len);

/* The connection is over (after this the transport forgets the handle). */
void cpsim_cp_closed(struct cpsim_cp *cp, enum cpsim_end end);

/* ---------------------------------------------------------------- introspection (tests) */

struct cpsim_cp_view {
	const char *id; /* the charger id */
	int version;	/* enum ocpp_version, or -1 before the connection is open */
	bool open;
	bool booted;
	unsigned connectors;
	unsigned queued; /* messages waiting (in flight not counted) */
	bool in_flight;
};

struct cpsim_conn_view {
	int phase;	    /* 0 idle, 1 authorizing, 2 in session, 3 finishing */
	const char *status; /* OCPP 1.6 status name */
	double import_wh, export_wh, power_w, limit_w, soc;
	int32_t txid; /* 1.6 id from the CSMS, 0 unknown */
	bool inoperative;
};

void cpsim_cp_view(const struct cpsim_cp *cp, struct cpsim_cp_view *ret);
/* connector is 1-based; -EINVAL when out of range. */
int cpsim_cp_conn_view(const struct cpsim_cp *cp, unsigned connector, struct cpsim_conn_view *ret);

/*
** Test hooks: plug an EV into an idle connector now (as if it arrived), or make the EV
** leave now. -EBUSY/-EINVAL when the connector is not in the right phase.
*/
int cpsim_cp_plug_in(struct cpsim_cp *cp, unsigned connector);
int cpsim_cp_depart(struct cpsim_cp *cp, unsigned connector);

/*
** Test hook: replace the EV on a connector that has one (struct cpsim_ev from ev.h);
** the energy registers are brought up to now first. -EINVAL / -EBUSY (no EV).
*/
struct cpsim_ev;
int cpsim_cp_set_ev(struct cpsim_cp *cp, unsigned connector, const struct cpsim_ev *ev);

/* Test hook: a deliberate offline period of ms, starting now. */
void cpsim_cp_go_offline(struct cpsim_cp *cp, uint32_t ms);
