/* SPDX-License-Identifier: MIT */
/* Benchmark: N cpclient connections to csms over 20 source addresses: time and memory each. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "cpclient.h"
#include "harness.h"

static int opened, failed, closed;

static void on_open(struct cpclient_conn *c, const char *sub)
{
	(void)c;
	(void)sub;
	opened++;
}

static void on_text(struct cpclient_conn *c, const char *buf, size_t len)
{
	(void)c;
	(void)buf;
	(void)len;
}

static void on_close(struct cpclient_conn *c, const struct cpclient_close_info *info)
{
	(void)c;
	if (info->end != CPCLIENT_END_LOCAL)
		failed++;
	closed++;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(void)
{
	static const char *const args[] = {"--registration", "open", "--log-level", "warn", NULL};
	static const struct cpclient_callbacks cb = {on_open, on_text, on_close};
	const char *env = getenv("CPCLIENT_SCALE_N");
	int n = env ? atoi(env) : 5000, i, ret = 1;
	struct cpclient_ctx_opts co = {0};
	struct cpclient_ctx *ctx;
	struct csms_proc *p;
	struct rlimit rl;
	long long t0, t_open, t_destroy;
	long rss0, rss1;
	uv_loop_t loop;
	char path[64], src[32];

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if ((rlim_t)n + 64 > rl.rlim_cur)
			n = (int)rl.rlim_cur - 64;
	}
	p = csms_start(args, NULL);
	if (!p)
		return 1;
	uv_loop_init(&loop);
	cpclient_set_log_level(0);
	co.loop = &loop;
	co.cb = &cb;
	ctx = cpclient_ctx_create(&co);
	if (!ctx)
		goto out;

	rss0 = rss_kib();
	t0 = mono_ms();
	for (i = 0; i < n; i++) {
		struct cpclient_opts o = {.host = "127.0.0.1",
					  .port = p->port,
					  .path = path,
					  .subprotocols = "ocpp1.6",
					  .source_addr = src};
		struct cpclient_conn *c;

		snprintf(path, sizeof(path), "/ocpp/SCALE-%05d", i);
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % 20);
		if (cpclient_connect(ctx, &o, &c) < 0)
			failed++;
		/* keep at most ~100 handshakes in flight */
		while (i - opened - failed - closed > 100)
			uv_run(&loop, UV_RUN_ONCE);
	}
	while (opened + failed + closed < n && mono_ms() - t0 < 120000)
		uv_run(&loop, UV_RUN_ONCE);
	t_open = mono_ms() - t0;
	rss1 = rss_kib();

	t0 = mono_ms();
	cpclient_ctx_destroy(ctx);
	t_destroy = mono_ms() - t0;

	printf("cpclient-connections %d conn\n", opened);
	printf("cpclient-failed %d conn\n", failed);
	printf("cpclient-open-all %lld ms\n", t_open);
	printf("cpclient-rss-per-conn %.2f KiB\n", opened ? (double)(rss1 - rss0) / opened : 0.0);
	printf("cpclient-destroy-all %lld ms\n", t_destroy);
	ret = opened == n && closed == n && !failed ? 0 : 1;
out:
	if (uv_loop_close(&loop))
		ret = 1;
	if (csms_stop(p) != 0)
		ret = 1;
	csms_pass(p);
	csms_destroy(p);
	return ret;
}
