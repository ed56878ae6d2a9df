/* SPDX-License-Identifier: MIT */
/* Raw TCP and WebSocket probes: see rawws.h. */
#include "rawws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

long long rawc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct rawc *rawc_open(int port, const char *src)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct rawc *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c)
		return NULL;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src) {
		struct sockaddr_in b = {.sin_family = AF_INET};

		inet_pton(AF_INET, src, &b.sin_addr);
		if (bind(c->fd, (struct sockaddr *)&b, sizeof(b)) < 0)
			goto fail;
	}
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return c;
fail:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return NULL;
}

void rawc_close(struct rawc *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long left = deadline - rawc_now_ms();
	int r;

	if (left < 0)
		left = 0;
	r = poll(&p, 1, (int)left);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

int rawc_send(struct rawc *c, const void *buf, size_t len, int timeout_ms)
{
	const unsigned char *p = buf;
	long long deadline = rawc_now_ms() + timeout_ms;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET ? -ECONNRESET : -EPIPE;
		if (wait_fd(c->fd, POLLOUT, deadline) < 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Read more bytes into c->in.  0, -EPIPE at EOF, -ETIMEDOUT, -ENOBUFS when full. */
static int fill(struct rawc *c, long long deadline)
{
	ssize_t n;

	if (c->eof)
		return -EPIPE;
	if (c->n == sizeof(c->in))
		return -ENOBUFS;
	for (;;) {
		n = recv(c->fd, c->in + c->n, sizeof(c->in) - c->n, 0);
		if (n > 0) {
			c->n += (size_t)n;
			return 0;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			return -EPIPE;
		}
		if (wait_fd(c->fd, POLLIN, deadline) < 0)
			return -ETIMEDOUT;
	}
}

static void consume(struct rawc *c, size_t n)
{
	memmove(c->in, c->in + n, c->n - n);
	c->n -= n;
}

int rawc_read_head(struct rawc *c, int timeout_ms)
{
	long long deadline = rawc_now_ms() + timeout_ms;
	unsigned char *end;
	int status = 0, r;

	while (!(end = memmem(c->in, c->n, "\r\n\r\n", 4))) {
		r = fill(c, deadline);
		if (r == -EPIPE || r == -ENOBUFS)
			return 0;
		if (r < 0)
			return r;
	}
	if (sscanf((const char *)c->in, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	consume(c, (size_t)(end + 4 - c->in));
	return status;
}

int rawc_upgrade_send(struct rawc *c, const char *path, const char *proto, const char *extra,
		      int timeout_ms)
{
	size_t len = strlen(path) + (proto ? strlen(proto) : 0) + (extra ? strlen(extra) : 0) + 256;
	char *req = malloc(len);
	int n, r;

	if (!req)
		return -ENOMEM;
	n = snprintf(req, len,
		     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		     "Sec-WebSocket-Version: 13\r\n%s%s%s%s\r\n",
		     path, proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "",
		     proto ? "\r\n" : "", extra ? extra : "");
	r = rawc_send(c, req, (size_t)n, timeout_ms);
	free(req);
	return r;
}

int rawc_upgrade(struct rawc *c, const char *path, const char *proto, const char *extra,
		 int timeout_ms)
{
	int r = rawc_upgrade_send(c, path, proto, extra, timeout_ms);

	/* a peer that closed while the request went out may still have answered */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return r;
	return rawc_read_head(c, timeout_ms);
}

int rawc_send_frame(struct rawc *c, int opcode, const void *payload, size_t len, bool mask,
		    int timeout_ms)
{
	unsigned char h[14], key[4];
	size_t hn = 0;
	unsigned char *masked = NULL;
	int r;

	h[hn++] = (unsigned char)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		h[hn++] = (unsigned char)((mask ? 0x80 : 0) | len);
	} else if (len < 65536) {
		h[hn++] = (unsigned char)((mask ? 0x80 : 0) | 126);
		h[hn++] = (unsigned char)(len >> 8);
		h[hn++] = (unsigned char)len;
	} else {
		h[hn++] = (unsigned char)((mask ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			h[hn++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		for (int i = 0; i < 4; i++)
			key[i] = (unsigned char)(rand() & 0xff);
		memcpy(h + hn, key, 4);
		hn += 4;
		masked = malloc(len ? len : 1);
		if (!masked)
			return -ENOMEM;
		for (size_t i = 0; i < len; i++)
			masked[i] = ((const unsigned char *)payload)[i] ^ key[i % 4];
		payload = masked;
	}
	r = rawc_send(c, h, hn, timeout_ms);
	if (r == 0 && len)
		r = rawc_send(c, payload, len, timeout_ms);
	free(masked);
	return r;
}

int rawc_read_frame(struct rawc *c, int *ret_opcode, char **ret_payload, size_t *ret_len,
		    int timeout_ms)
{
	long long deadline = rawc_now_ms() + timeout_ms;
	size_t hn = 0, len = 0;
	int r;

	for (;;) {
		bool whole = false;

		if (c->n >= 2) {
			len = c->in[1] & 0x7f;
			hn = 2;
			if (len == 127)
				return -EPROTO; /* the CSMS sends nothing this large */
			if (len == 126 && c->n >= 4) {
				len = (size_t)c->in[2] << 8 | c->in[3];
				hn = 4;
			}
			if (hn + len > sizeof(c->in))
				return -EPROTO;
			whole = !(hn == 2 && len == 126) && c->n >= hn + len;
		}
		if (whole)
			break;
		r = fill(c, deadline);
		if (r < 0)
			return r == -ENOBUFS ? -EPROTO : r;
	}
	if (ret_payload) {
		char *p = malloc(len + 1);

		if (!p)
			return -ENOMEM;
		memcpy(p, c->in + hn, len);
		p[len] = '\0';
		*ret_payload = p;
	}
	if (ret_len)
		*ret_len = len;
	*ret_opcode = c->in[0] & 0x0f;
	consume(c, hn + len);
	return 0;
}

int rawc_wait_closed(struct rawc *c, int timeout_ms, int *ret_close_code)
{
	long long deadline = rawc_now_ms() + timeout_ms;
	int code = 0, op, r;

	for (;;) {
		char *p = NULL;
		size_t len = 0;
		long long left = deadline - rawc_now_ms();

		r = rawc_read_frame(c, &op, &p, &len, left > 0 ? (int)left : 0);
		if (r == 0 && op == 8) { /* answer the close, as RFC 6455 5.5.1 asks */
			if (len >= 2)
				code = (unsigned char)p[0] << 8 | (unsigned char)p[1];
			rawc_send_frame(c, 8, p, len >= 2 ? 2 : 0, true, 1000);
		}
		free(p);
		if (r == -EPIPE)
			break;
		if (r == -EPROTO) { /* not frames (an HTTP answer?): drop the bytes */
			c->n = 0;
			continue;
		}
		if (r < 0)
			return r;
	}
	if (ret_close_code)
		*ret_close_code = code;
	return 0;
}
