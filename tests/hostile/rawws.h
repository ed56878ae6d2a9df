/* SPDX-License-Identifier: MIT */
/* Raw TCP and WebSocket probes for hostile-client tests: blocking sockets and hand-built frames,
 * so a test can send what no well-behaved client library would (unmasked or binary frames,
 * oversized heads, half-written requests). Loopback only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* One raw connection with a read buffer. */
struct rawc {
	int fd;
	unsigned char in[1 << 16]; /* bytes read but not yet consumed */
	size_t n;
	bool eof; /* the peer closed (or reset) the connection */
};

/*
** Connect to 127.0.0.1:port, from source address src (a 127.0.0.x; NULL: any).  Returns the
** connection or NULL (errno set).
*/
struct rawc *rawc_open(int port, const char *src);

/* Close and free.  NULL-safe. */
void rawc_close(struct rawc *c);

/* Send all of buf within timeout_ms.  0, -ETIMEDOUT, or -EPIPE/-ECONNRESET once the peer is
 * gone. */
int rawc_send(struct rawc *c, const void *buf, size_t len, int timeout_ms);

/*
** Send a WebSocket upgrade GET for path with Sec-WebSocket-Protocol proto (NULL: none) and
** extra header lines (each ending in \r\n; may be NULL), then read the response head.
** Returns the HTTP status (101 when upgraded), 0 if the server closed without an answer,
** or -ETIMEDOUT.
*/
int rawc_upgrade(struct rawc *c, const char *path, const char *proto, const char *extra,
		 int timeout_ms);

/* The request half of rawc_upgrade(): 0, or < 0 as rawc_send(). */
int rawc_upgrade_send(struct rawc *c, const char *path, const char *proto, const char *extra,
		      int timeout_ms);

/* Read a response head (up to the empty line): the HTTP status, 0 on EOF before one, or
 * -ETIMEDOUT.  The head is consumed. */
int rawc_read_head(struct rawc *c, int timeout_ms);

/* Send one WebSocket frame (FIN set), masked with a random key when mask is true. */
int rawc_send_frame(struct rawc *c, int opcode, const void *payload, size_t len, bool mask,
		    int timeout_ms);

/*
** Read one frame from the server: *ret_opcode, and the payload (malloc'd, NUL-terminated, the
** caller frees; ret_payload may be NULL) with its length.  0, -EPIPE at EOF, -ETIMEDOUT,
** -EPROTO for a frame this reader cannot hold (over 64 KiB).
*/
int rawc_read_frame(struct rawc *c, int *ret_opcode, char **ret_payload, size_t *ret_len,
		    int timeout_ms);

/*
** Read (and drop) frames until the server closes the connection, answering its close frame.
** *ret_close_code (may be NULL) gets the code of the server's close frame, or 0 if none came.
** 0, or -ETIMEDOUT.
*/
int rawc_wait_closed(struct rawc *c, int timeout_ms, int *ret_close_code);

/* Milliseconds of a monotonic clock. */
long long rawc_now_ms(void);
