/* SPDX-License-Identifier: MIT */
/* wsecho: a tiny lws WebSocket server in its own thread, to test cpclient without the CSMS. */
#pragma once

struct wsecho;

/*
** Start the server on 127.0.0.1 with a free port, speaking only the subprotocol "ocpp1.6".
** Text messages are echoed, except these commands:
**   "whoami"        -> "<peer ip>|<Authorization header or ->|<request path>"
**   "close:<code>"  -> the server closes with that WebSocket close code
**   "frag:<n>"      -> a message of n 'x' bytes sent as three fragments
**   "big:<n>"       -> a message of n 'y' bytes in one frame
** An upgrade whose path starts with "/refuse" is answered 401.
** Returns NULL on failure.
*/
struct wsecho *wsecho_start(void);
int wsecho_port(const struct wsecho *w);
/* Number of WebSocket connections established so far. */
int wsecho_accepted(struct wsecho *w);
/* Stop the thread and free everything.  NULL-safe. */
void wsecho_stop(struct wsecho *w);
