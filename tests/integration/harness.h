/* SPDX-License-Identifier: MIT */
/* Integration-test harness: run the csms binary, drive test chargers, call the REST API. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "cpclient.h"

/* ---------------------------------------------------------------- the server process */

struct csms_proc {
	pid_t pid;	  /* 0 when not running */
	int port;	  /* port of the running server (chargers and API) */
	char dir[256];	  /* private temp dir, removed by csms_destroy() */
	char db[300];	  /* <dir>/csms.db */
	char log[300];	  /* <dir>/csms.log: the server's stdout + stderr, across restarts */
	char config[300]; /* <dir>/config.json, or "" */
	char **args;	  /* extra arguments, kept for csms_restart() */
	bool passed;	  /* set by csms_pass(); otherwise csms_destroy() prints the log */
	/* The locked API: before the first launch the harness creates the admin account
	 * HARNESS_ADMIN (password in admin_password) with `csms users add`, then logs in and
	 * makes an admin API token that http_request() sends to this server's ports. */
	int api_port; /* the API's own port (api_listen), else port */
	char admin_password[40];
	char token[80]; /* "" if none could be made */
	bool no_admin;	/* set before csms_launch(): leave the database without accounts */
};

#define HARNESS_ADMIN "it-admin"

/*
** Make a temp dir (under $TMPDIR or /tmp) and write config_json (may be NULL) to
** <dir>/config.json; the server is not started.  Use csms_cli() to run a one-shot command
** (such as `stations import`) on the same DB, then csms_launch().  NULL on failure.
*/
struct csms_proc *csms_prepare(const char *config_json);

/*
** Start the server from $CSMS_BIN with `--listen 127.0.0.1:0 --port-file <dir>/port
** --db <dir>/csms.db --log-level info [--config <dir>/config.json]` plus extra_args
** (NULL-terminated, may be NULL; copied).  Waits up to 10 s until the port file names a
** port that accepts connections.  Errors: -ENOENT ($CSMS_BIN unset), -ECHILD (the server
** exited; its log is printed), -ETIMEDOUT, -errno.
*/
int csms_launch(struct csms_proc *p, const char *const *extra_args);

/* csms_prepare() + csms_launch(); NULL on failure (the log is printed). */
struct csms_proc *csms_start(const char *const *extra_args, const char *config_json);

/*
** SIGTERM, then wait up to 10 s.  Returns the exit status (0..255), 128+N if signal N
** ended it, or -ETIMEDOUT if it had to be SIGKILLed.  -ESRCH if it was not running.
*/
int csms_stop(struct csms_proc *p);

/* SIGKILL and reap, without any chance to clean up.  NULL-safe. */
void csms_kill9(struct csms_proc *p);

/*
** Stop the server if it runs (a status other than 0 gives -ECHILD) and launch it again
** with the same DB, config and extra arguments, on a new port.  Returns 0 or < 0.
*/
int csms_restart(struct csms_proc *p);

/*
** Write text to <dir>/<name> and run `csms stations import <that file> --db <db>` on it (as
** csms_cli()).  Its exit status (0..255), or < 0 if the command could not run.  Fails the
** running cmocka test if the file cannot be written.
*/
int csms_import_text(struct csms_proc *p, const char *name, const char *text);

/*
** Run `$CSMS_BIN args…` to completion (10 s at most), output appended to the log.
** Returns its exit status (0..255), or < 0 if it could not run or was killed.
*/
int csms_cli(struct csms_proc *p, const char *const *args);

/* Print the server's log to stderr. */
void csms_dump_log(const struct csms_proc *p);

/* Mark the test as passed, so csms_destroy() stays quiet. */
void csms_pass(struct csms_proc *p);

/*
** SIGKILL the server if it still runs, print its log unless csms_pass() was called
** (or always, with CSMS_TEST_VERBOSE=1), remove the temp dir, free.  NULL-safe.
*/
void csms_destroy(struct csms_proc *p);

/* ---------------------------------------------------------------- test chargers */

/*
** A synchronous test charger ("tcp").  All of them share one uv loop and one cpclient
** context, created on first use; the loop runs only inside the tc_* calls below, and
** every CSMS frame that arrives meanwhile is kept for whichever charger it belongs to.
*/
struct tcp;

/* Why tc_connect() gave no charger. */
struct tc_why {
	enum cpclient_end end; /* REFUSED, PEER, ERROR (or LOCAL) */
	int http_status;       /* for REFUSED, if known */
	int close_code;
	bool timeout; /* no answer to the upgrade within timeout_ms */
	char detail[128];
};

/*
** Connect to ws://127.0.0.1:port/ocpp/<id> with the subprotocol list `subprotocols`, Basic
** auth id:password if password is not NULL.  Returns the open charger, or NULL with
** *ret_why (may be NULL) telling why.
*/
struct tcp *tc_connect(int port, const char *id, const char *password, const char *subprotocols,
		       int timeout_ms, struct tc_why *ret_why);

/* Like tc_connect() with a source address (127.0.0.x) for the socket. */
struct tcp *tc_connect_from(int port, const char *id, const char *password,
			    const char *subprotocols, const char *source_addr, int timeout_ms,
			    struct tc_why *ret_why);

/* The subprotocol the server chose, "" if none. */
const char *tc_subprotocol(const struct tcp *tc);

/*
** Send a CALL [2, id, action, payload] with a fresh unique message id and wait for the
** CALLRESULT or CALLERROR with that id.  payload is stolen.  Returns 0 for a CALLRESULT
** (*ret_payload gets a new reference; may be NULL), 1 for a CALLERROR (ret_errcode, if
** not NULL, gets the code; 64 bytes), -ETIMEDOUT, -EPIPE if the connection closed.
*/
int tc_call(struct tcp *tc, const char *action, json_t *payload, json_t **ret_payload,
	    char *ret_errcode, int timeout_ms);

/* tc_call() with a caller-chosen message id (replayed CALLs). */
int tc_call_id(struct tcp *tc, const char *msg_id, const char *action, json_t *payload,
	       json_t **ret_payload, char *ret_errcode, int timeout_ms);

/* The two halves of tc_call(): send (ret_id gets the id; 64 bytes), then wait. */
int tc_call_send(struct tcp *tc, const char *action, json_t *payload, char *ret_id);
int tc_call_wait(struct tcp *tc, const char *msg_id, json_t **ret_payload, char *ret_errcode,
		 int timeout_ms);

/*
** Wait for the next CALLRESULT/CALLERROR whose id is msg_id, or for any answer if msg_id
** is NULL; *ret_frame gets the whole frame (new reference).  0, -ETIMEDOUT or -EPIPE.
*/
int tc_wait_answer(struct tcp *tc, const char *msg_id, json_t **ret_frame, int timeout_ms);

/* Send text as one WebSocket text message, as is; returns once it is written to the
 * socket.  0 or < 0. */
int tc_send_raw(struct tcp *tc, const char *text);
int tc_send_rawn(struct tcp *tc, const char *buf, size_t len);

/*
** Wait for a CALL from the CSMS; *ret_frame gets [2, id, action, payload] (new reference).
** 0, -ETIMEDOUT, or -EPIPE if the connection closed.
*/
int tc_next_call(struct tcp *tc, int timeout_ms, json_t **ret_frame);

/* Answer a CSMS CALL with [3, id, payload]; payload is stolen.  0 or < 0. */
int tc_reply(struct tcp *tc, const char *msg_id, json_t *payload);

/* True once the connection is gone. */
bool tc_closed(const struct tcp *tc);

/* Wait until the server closes the connection.  0 or -ETIMEDOUT. */
int tc_wait_closed(struct tcp *tc, int timeout_ms);

/*
** A 1.6 login of id with password (NULL: none) is refused: the handshake answered 401,
** or (a password that needs the KDF) upgraded, held with nothing answered and closed with 1008.
** 0, or -1 with the reason on stderr.
*/
int tc_login_refused(int port, const char *id, const char *password);

/* How the connection ended (valid once tc_closed()). */
const struct tc_why *tc_end(const struct tcp *tc);

/* Frames that were not valid OCPP-J arrays, received so far. */
int tc_junk(const struct tcp *tc);

/* Run the loop for ms milliseconds (lets queued frames move).  */
void tc_run(int ms);

/* Close (if open), wait briefly for the close to finish, free.  NULL-safe. */
void tc_close(struct tcp *tc);

/*
** Close every charger, destroy the cpclient context and close the loop.  Returns 0, or
** -EBUSY if a handle was left on the loop (a teardown bug).  The next tc_connect() starts
** afresh.
*/
int tc_shutdown(void);

/* ---------------------------------------------------------------- operator API */

/*
** One blocking HTTP/1.1 request to 127.0.0.1:port (Connection: close).  body may be NULL;
** when given it is sent as application/json.  *ret_status gets the status, *ret_json (may
** be NULL) the parsed body or NULL if the body was not JSON.  0, -ETIMEDOUT,
** -ECONNREFUSED, -EPROTO (not HTTP) or -errno.
*/
int http_request(int port, const char *method, const char *path, const char *body, int *ret_status,
		 json_t **ret_json, int timeout_ms);

/* http_request() in a thread, for requests that wait on a test charger.  NULL on failure. */
struct http_async;
struct http_async *http_request_start(int port, const char *method, const char *path,
				      const char *body, int timeout_ms);
/* Wait for the thread, running the test chargers' loop meanwhile; returns what
 * http_request() returned, and frees `a`. */
int http_request_join(struct http_async *a, int *ret_status, json_t **ret_json);

/*
** The general request behind http_request(): explicit headers, content type and credentials.
** The harness's bearer token (see csms_proc) is added unless no_auth or an "Authorization:"
** line is among headers.
*/
struct http_opts {
	const char *method, *path;
	const char *body;	    /* NULL = none */
	const char *content_type;   /* NULL: application/json for any method but GET */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
	const char *host;	    /* the Host header; NULL = 127.0.0.1:port */
	bool no_auth;
	int timeout_ms; /* 0 = 5000 */
};
struct http_result {
	int status;
	json_t *json;	      /* the body parsed as JSON, or NULL */
	char set_cookie[512]; /* the first Set-Cookie, "" if none */
	char retry_after[32];
	char content_type[128];
	char *body; /* raw body, NUL-terminated (owned) */
	size_t body_len;
};
/* 0 and *ret filled (http_result_clear() it), or < 0 as http_request(). */
int http_exchange(int port, const struct http_opts *o, struct http_result *ret);
void http_result_clear(struct http_result *r);

/* A browser-like session: log in (POST /api/login), keep the cookie and CSRF token. */
struct http_session {
	int port;
	char cookie[160]; /* "csms_session=..." */
	char csrf[80];
	char role[16];
};
/* Lines of the server's log (all its runs so far) that contain needle. */
int csms_log_count(const struct csms_proc *p, const char *needle);

/* Log in as user with password: 0 and *ret, or the HTTP status (> 0) of a refused login, or
 * < 0 if the request failed. */
int http_login(int port, const char *user, const char *password, struct http_session *ret);
/* A request with the session's cookie (and its X-CSRF-Token unless csrf is false). Returns
 * the status (> 0) or < 0; *ret_json (may be NULL) gets the body. */
int http_session_request(const struct http_session *s, const char *method, const char *path,
			 const char *body, bool csrf, json_t **ret_json);

/* GET path, expect 200 and a JSON body: returns it (new reference) or NULL. */
json_t *http_get_json(int port, const char *path);

/*
** http_request() with a 10 s timeout, for tests that check the status: the HTTP status (> 0),
** or < 0 if the request failed.  *ret_json (may be NULL) as http_request().
*/
int http_status(int port, const char *method, const char *path, const char *body,
		json_t **ret_json);

/*
** A request with the credentials of the header line hdr (such as "Authorization: Bearer …";
** NULL: no credentials at all) instead of the harness's token; the answer's body is dropped.
** The HTTP status (> 0), or < 0 if the request failed.
*/
int http_status_as(int port, const char *hdr, const char *method, const char *path,
		   const char *body);

/*
** Make an API token called name with role (POST /api/tokens with the harness's admin token) and
** write its "Authorization: Bearer <token>" header line into hdr (len bytes).  0, the status
** (> 0) of a request answered other than 201, or < 0 if it failed.
*/
int http_bearer_header(int port, const char *name, const char *role, char *hdr, size_t len);

/* ---------------------------------------------------------------- cmocka fixtures */

/* setup: csms_start() with neither extra arguments nor config into *state; 0, or -1. */
int csms_setup(void **state);

/* teardown of csms_setup(): csms_stop(), csms_pass() if the server exited with 0, then
 * csms_destroy(); returns what csms_stop() returned (0 for a clean exit). */
int csms_teardown(void **state);

/*
** teardown of a test with test chargers: tc_shutdown(), then csms_destroy(*state) (the server
** goes first: a failed check must not leave it running).  0, or -1 (the test fails) if
** tc_shutdown() found a handle left on the loop.
*/
/* Run cmd (openssl, usually) by the shell in dir, output to dir/openssl.log; a failure fails
 * the test with that log on stderr. */
void tc_sh(const char *dir, const char *cmd);
int csms_teardown_chargers(void **state);

/*
** A 1.6 charger connected to port as id (Basic auth with password; NULL: none) and booted with
** tc_boot16(), its BootNotification answered Accepted.  Fails the running cmocka test if the
** connection is refused, the boot is not answered or not Accepted.
*/
struct tcp *tc_booted16(int port, const char *id, const char *password);

/* ---------------------------------------------------------------- small helpers */

/* Borrowed: the value of the string member key of o, or NULL (absent, not a string, o NULL). */
const char *json_str(const json_t *o, const char *key);

/* Borrowed: the first object in `array` whose member `key` is the string `value`, or NULL. */
json_t *json_find(const json_t *array, const char *key, const char *value);

/*
** OCPP 1.6 BootNotification with vendor "ITVendor", model "ITModel", serial "SN-<id>" and
** firmware "1.0.0"; as tc_call().
*/
int tc_boot16(struct tcp *tc, json_t **ret_conf, char *ret_errcode);

/* The charger's id as given to tc_connect(). */
const char *tc_id(const struct tcp *tc);

/* Seconds between an RFC 3339 time and now (positive: in the past); 1e9 if unreadable. */
double rfc3339_age_s(const char *s);

/* Current UTC time as RFC 3339 with milliseconds and Z. */
void rfc3339_now(char buf[32]);
/* Now plus offset_s seconds (negative: in the past), formatted as rfc3339_now(). */
void rfc3339_offset(char buf[32], long long offset_s);
/* True if s looks like an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)). */
bool is_rfc3339(const char *s);
/* Millisecond monotonic clock. */
long long mono_ms(void);
