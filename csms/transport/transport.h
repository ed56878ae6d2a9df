/* SPDX-License-Identifier: MIT */
/* What the rest of csms asks of the transport (the only code that includes libwebsockets). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct app;

/* Create the lws context on app->loop and listen; fills app->port. 0 or negative errno. */
int transport_start(struct app *app);
/* Destroy the lws context (the loop must then run to let it close its handles). */
void transport_stop(struct app *app);
/* Free what transport_start allocated, once the loop has closed the context's handles. */
void transport_free(struct app *app);
/* Write one text frame now (buf has CONN_PRE bytes of headroom before it). 0 if lws took it
 * (sent, or the unsent rest buffered by lws); -EAGAIN if earlier output is still buffered (queue
 * it and wait for WRITEABLE); -EIO if the connection failed. Saves the POLLOUT round trip (two
 * epoll_ctl calls) per reply. */
int transport_write_text(void *wsi, unsigned char *buf, size_t len);
/* Ask for a WRITEABLE callback on a charger connection. */
void transport_want_write(void *wsi);
/* Close a charger connection from outside its callback (asynchronous). */
void transport_close(void *wsi);
/* An HTTP response is ready for this request handle. */
void transport_http_ready(void *http);


