/* SPDX-License-Identifier: MIT */
/* cpclient: an OCPP-J WebSocket client library on lws' libuv loop, built for many connections. */
#pragma once

/*
** One cpclient_ctx (an lws context on the caller's uv loop) holds any number of
** connections: no threads, one small struct per connection plus lws' own wsi, frames
** queued with LWS_PRE headroom and written one per WRITEABLE, messages reassembled up to
** max_message.  Measured with the cpclient-scale benchmark (tests/integration): 19,000
** connections from one process to csms over 20 source addresses, about 2.6 KiB of client
** RSS each.  Spreading source addresses (opts.source_addr, 127.0.0.x) is how one node gets
** past the ~28k ephemeral ports of a single address pair.
*/

#include <stdbool.h>
#include <stddef.h>

struct uv_loop_s;
struct cpclient_ctx;
struct cpclient_conn;
struct cpclient_cert;

/*
** Why a connection ended; given to on_close exactly once per connection.
*/
enum cpclient_end {
	CPCLIENT_END_REFUSED, /* the server answered the upgrade with something other than 101 */
	CPCLIENT_END_PEER,    /* the server sent a WebSocket close frame */
	CPCLIENT_END_ERROR,   /* TCP/TLS failure, or the socket dropped without a close frame */
	CPCLIENT_END_LOCAL,   /* cpclient_close() or cpclient_ctx_destroy() */
	_CPCLIENT_END_MAX,
};

struct cpclient_close_info {
	enum cpclient_end end;
	int http_status;    /* REFUSED: HTTP status of the answer if lws kept it, else 0 */
	int close_code;	    /* PEER: theirs (1005 if none); LOCAL: ours; ERROR: 1009 if we
			     * closed over a message bigger than max_message; else 0 */
	const char *detail; /* borrowed for the callback only: lws' reason text, or NULL */
};

/*
** Event callbacks; all run on the loop thread from inside uv_run().  They may call
** cpclient_send_text() and cpclient_close(), and may start new connections, but must not
** destroy the context.
*/
struct cpclient_callbacks {
	/* The upgrade succeeded; `subprotocol` is the server's choice ("" if it chose none). */
	void (*on_open)(struct cpclient_conn *conn, const char *subprotocol);
	/* One complete text message (fragments already joined); `buf` is NUL-terminated,
	 * borrowed for the call only. */
	void (*on_text)(struct cpclient_conn *conn, const char *buf, size_t len);
	/* The connection is over.  `conn` is freed when this returns: drop every pointer to it. */
	void (*on_close)(struct cpclient_conn *conn, const struct cpclient_close_info *info);
};

struct cpclient_ctx_opts {
	struct uv_loop_s *loop;		     /* the caller's loop; required, outlives the ctx */
	const struct cpclient_callbacks *cb; /* required; borrowed for the ctx's life */
	bool tls;			     /* set up client TLS (needed for opts.ssl) */
	const char *ca_file;		     /* with tls: PEM CA the server's certificate must chain
					      * to; NULL = the system's CAs */
	const char *cert_file, *key_file;    /* with tls: PEM client certificate and key, sent to
					      * a server that asks (security profile 3); NULL =
					      * none. For every connection of the ctx without a
					      * certificate of its own (cpclient_opts.cert) */
	size_t rx_chunk;		     /* lws rx buffer per connection; 0 = 1024 */
	size_t max_message;		     /* largest message accepted; 0 = 1 MiB */
	unsigned int max_tx_queue;	     /* frames queued per connection; 0 = 64 */
};

struct cpclient_opts {
	const char *host; /* numeric server address, e.g. "127.0.0.1" */
	int port;
	const char *path;	  /* "/ocpp/<charger-id>" */
	const char *subprotocols; /* "ocpp1.6", "ocpp2.0.1" or "ocpp2.0.1,ocpp1.6" */
	const char *user;	  /* HTTP Basic user (the charger id), or NULL for no auth */
	const char *password;	  /* HTTP Basic password; with user */
	const char *source_addr;  /* bind the socket to this local address (127.0.0.x), or NULL */
	bool ssl;		  /* wss://; needs cpclient_ctx_opts.tls */
	bool ssl_insecure;	  /* skip certificate checks; refused unless host is 127.x */
	const char *server_name;  /* wss://: the name the server's certificate must carry (and
				   * the Host header); NULL = host */
	void *user_ptr;		  /* returned by cpclient_user() */
	/* wss://: this connection's own client certificate (security profile 3), sent instead of
	 * the ctx's when the server asks for one; borrowed until on_close */
	const struct cpclient_cert *cert;
};

/*
** Client certificates held in memory, one per charger, set on each connection's own SSL object
** (OpenSSL's certificate callback on the context's one client SSL_CTX): thousands of chargers
** with their own certificate share one lws vhost and one SSL_CTX.
*/

/*
** Load a PEM certificate and its PEM private key (also how a CA for cpclient_cert_mint() is
** loaded).  Errors: -ENOENT a file cannot be read, -EINVAL not PEM or the key does not match
** the certificate, -ENOMEM.
*/
int cpclient_cert_load(const char *cert_file, const char *key_file,
		       struct cpclient_cert **ret_cert);

/*
** Mint a client certificate: a new EC P-256 key, subject CN = `cn`, extended key usage
** clientAuth, valid from five minutes ago for `valid_s` seconds, signed by `ca` (SHA-256).
** Errors: -EINVAL bad arguments or a CN OpenSSL refuses, -EIO a signing failure, -ENOMEM.
*/
int cpclient_cert_mint(const struct cpclient_cert *ca, const char *cn, unsigned int valid_s,
		       struct cpclient_cert **ret_cert);

/* NULL-safe. */
void cpclient_cert_free(struct cpclient_cert *cert);

/*
** lws' log output, process-wide: 0 errors only, 1 adds warnings and notices (lws' default
** until this is called), 2 adds info.
*/
void cpclient_set_log_level(int level);

/*
** Create a client context on the caller's loop.  Nothing runs until the caller runs
** the loop.  Returns NULL on bad options or when lws cannot create its context.
*/
struct cpclient_ctx *cpclient_ctx_create(const struct cpclient_ctx_opts *opts);

/*
** Close every connection (each gets on_close with CPCLIENT_END_LOCAL) and free the ctx.
** lws closes its libuv handles asynchronously, so this runs the caller's loop until lws
** reports its context gone: other handles on that loop may see callbacks meanwhile.
** Afterwards no cpclient handle remains on the loop.  NULL-safe.
*/
void cpclient_ctx_destroy(struct cpclient_ctx *ctx);

/*
** Start a connection.  On success *ret_conn is live until its on_close has run; frames
** sent before on_open are queued.  Errors: -EINVAL bad options (ssl without a TLS context,
** ssl_insecure to a host outside 127.0.0.0/8), -ENOMEM, -ECONNREFUSED when lws fails
** synchronously (no on_close is called for it then).
*/
int cpclient_connect(struct cpclient_ctx *ctx, const struct cpclient_opts *opts,
		     struct cpclient_conn **ret_conn);

/*
** Queue one text frame (copied).  Errors: -EPIPE if the connection is closing,
** -ENOBUFS if max_tx_queue frames are already queued, -ENOMEM.
*/
int cpclient_send_text(struct cpclient_conn *conn, const char *buf, size_t len);

/*
** Ask for the connection to end with WebSocket close `code` (1000 normal).  on_close
** follows later from the loop with CPCLIENT_END_LOCAL.  Idempotent.
*/
void cpclient_close(struct cpclient_conn *conn, int code);

void *cpclient_user(const struct cpclient_conn *conn);
void cpclient_set_user(struct cpclient_conn *conn, void *user_ptr);

/* Frames queued by cpclient_send_text() and not yet handed to the socket. */
unsigned int cpclient_tx_queued(const struct cpclient_conn *conn);

/* True between on_open and the start of closing. */
bool cpclient_is_open(const struct cpclient_conn *conn);

/*
** The local address of an established connection as "a.b.c.d:port" into buf.
** Errors: -ENOTCONN before on_open, -ENOSPC if buf is too small, or -errno of getsockname.
*/
int cpclient_local_addr(const struct cpclient_conn *conn, char *buf, size_t len);
