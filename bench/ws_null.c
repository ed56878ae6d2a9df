/* SPDX-License-Identifier: MIT */
/* The do-nothing baseline of bench/loadtest.sh: libwebsockets on a libuv loop (as the csms)
 * answering every OCPP CALL at once, storing nothing. BootNotification and StartTransaction
 * get the fields a charger needs to go on (Accepted, a transaction id); every other CALL the
 * empty CALLRESULT [3,"<id>",{}].
 *
 *   ws_null PORT-FILE        listens on 127.0.0.1, an ephemeral port written to PORT-FILE
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <uv.h>

#define RX_MAX 65536
#define TX_MAX 8 /* answers queued per connection (OCPP-J: one CALL in flight) */

struct pss {
	char *rx; /* only for a frame in fragments; a whole one is answered from lws' buffer */
	size_t rx_len;
	char *tx[TX_MAX];
	size_t tx_len[TX_MAX];
	unsigned tx_head, tx_n;
};

static unsigned long long next_tx_id;

static int is(const char *a, const char *a_end, const char *name)
{
	return (size_t)(a_end - a) == strlen(name) && !memcmp(a, name, strlen(name));
}

/* [2,"id","Action",{...}] -> the answer frame after LWS_PRE bytes, or NULL */
static char *answer(const char *f, size_t len, size_t *ret_len)
{
	const char *end = f + len, *id = memchr(f, '"', len), *id_end, *act, *act_end;
	char body[160], *out;
	int n;

	if (!id || !(id_end = memchr(id + 1, '"', (size_t)(end - id - 1))) ||
	    !(act = memchr(id_end + 1, '"', (size_t)(end - id_end - 1))) ||
	    !(act_end = memchr(act + 1, '"', (size_t)(end - act - 1))))
		return NULL;
	act++;
	if (is(act, act_end, "BootNotification"))
		snprintf(body, sizeof(body),
			 "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\","
			 "\"interval\":300}");
	else if (is(act, act_end, "StartTransaction"))
		snprintf(body, sizeof(body),
			 "{\"transactionId\":%llu,\"idTagInfo\":{\"status\":\"Accepted\"}}",
			 ++next_tx_id);
	else if (is(act, act_end, "Authorize"))
		snprintf(body, sizeof(body), "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
	else
		snprintf(body, sizeof(body), "{}");
	out = malloc(LWS_PRE + (size_t)(id_end - id) + sizeof(body) + 8);
	if (!out)
		return NULL;
	n = sprintf(out + LWS_PRE, "[3,%.*s,%s]", (int)(id_end - id + 1), id, body);
	*ret_len = (size_t)n;
	return out;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct pss *p = user;

	switch (reason) {
	case LWS_CALLBACK_RECEIVE: {
		const char *f = in;

		if (lws_is_first_fragment(wsi))
			p->rx_len = 0;
		if (!lws_is_final_fragment(wsi) || p->rx_len) {
			if (p->rx_len + len >= RX_MAX)
				return -1;
			if (!p->rx && !(p->rx = malloc(RX_MAX)))
				return -1;
			memcpy(p->rx + p->rx_len, in, len);
			p->rx_len += len;
			if (!lws_is_final_fragment(wsi))
				return 0;
			f = p->rx;
			len = p->rx_len;
			p->rx_len = 0;
		}
		if (len > 2 && f[0] == '[' && f[1] == '2' && p->tx_n < TX_MAX) {
			unsigned i = (p->tx_head + p->tx_n) % TX_MAX;

			p->tx[i] = answer(f, len, &p->tx_len[i]);
			if (p->tx[i]) {
				p->tx_n++;
				lws_callback_on_writable(wsi);
			}
		}
		return 0;
	}
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (p->tx_n) {
			char *f = p->tx[p->tx_head];
			int r = lws_write(wsi, (unsigned char *)f + LWS_PRE, p->tx_len[p->tx_head],
					  LWS_WRITE_TEXT);

			free(f);
			p->tx_head = (p->tx_head + 1) % TX_MAX;
			p->tx_n--;
			if (r < 0)
				return -1;
			if (p->tx_n)
				lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_CLOSED:
		free(p->rx);
		p->rx = NULL;
		while (p->tx_n) {
			free(p->tx[p->tx_head]);
			p->tx_head = (p->tx_head + 1) % TX_MAX;
			p->tx_n--;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
    {"ocpp1.6", cb, sizeof(struct pss), 4096, 0, NULL, 0},
    {"ocpp2.0.1", cb, sizeof(struct pss), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	uv_stop(h->loop);
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	uv_signal_t sig_term, sig_int;
	uv_loop_t loop;
	void *loops[1] = {&loop};
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: ws_null PORT-FILE\n");
		return 2;
	}
	uv_loop_init(&loop);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
		       LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = loops;
	info.protocols = protocols;
	info.port = 0;
	info.iface = "127.0.0.1";
	ctx = lws_create_context(&info);
	if (!ctx)
		return 1;
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default")));
	fclose(f);
	uv_signal_init(&loop, &sig_term);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_init(&loop, &sig_int);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	lws_context_destroy(ctx);
	uv_run(&loop, UV_RUN_DEFAULT);
	lws_context_destroy(ctx);
	uv_loop_close(&loop);
	return 0;
}
