/* SPDX-License-Identifier: MIT */
/* The hostile-client suite (issue 10): 200 well-behaved chargers (OCPP 1.6 and 2.0.1, each with
 * its password, imported with `csms stations import` as are the probes' own stations) keep
 * sending Heartbeat and MeterValues while other clients on 127.0.0.x try slowloris upgrades, a
 * 16 MB frame, 10,000 pipelined calls, binary, unmasked and invalid UTF-8 frames, 64k-character
 * ids, 1,000 connections that never boot, a password storm, and the defects of the issue: a
 * takeover of connected chargers without or with wrong passwords, 200 unknown ids registering
 * as fast as they can, and one station pipelining 3,000 BootNotifications while another boots.
 * The node runs the `pending` policy with realistic admission limits (SUITE_CONFIG). No good
 * charger may be dropped, every one of their calls is answered, every reading acknowledged is
 * in the database, and the database passes PRAGMA integrity_check. The good chargers' call
 * latency (p50/p99) is printed for a baseline without hostile load and for the hostile phase;
 * it is not asserted (tests do not assert wall-clock times on a shared machine).
 *
 * Every loop is bounded in count and in time. HOSTILE_GOOD (default 200) and
 * HOSTILE_NEVER_BOOT (default 1000) scale it down for a quick look. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"
#include "rawws.h"

#define BOOT_TIMEOUT_S 3
#define PROBE_MAX_MS   60000 /* no probe starts a new attempt after this */
#define HOSTILE_MAX_MS 45000 /* the good chargers' rounds stop by then (the probes are joined) */

/* The admission limits of the node (docs/security.md, "Limits"), written into its config and
 * used by the probes' assertions. Realistic values, chosen so that each limit is what the
 * probe meets: a registration rate (REG_RATE) the registration probe's ids far exceed, reaching
 * the Pending cap (MAX_PENDING) within its 6 s; a boot budget (BOOT_RATE) below what one
 * connection's call bucket lets through at once (call_burst 200), so that only the per-station
 * boot bucket keeps DRAIN-1 from emptying it before VICTIM-1 boots (with station_boot_burst
 * 1000 VICTIM-1 is answered Pending), yet above the 21 boots the probes' own stations can make
 * at once (DRAIN-1's and BAD-1's station bursts, PIPE-1's one). The 200 good chargers boot at
 * BOOT_RATE at start (one answered Pending boots again a second later). */
#define REG_RATE		10 /* registration_rate_per_s (its burst is the same) */
#define MAX_PENDING		50 /* max_pending_stations */
#define BOOT_RATE		25 /* boot_rate_per_s */
#define STATION_BOOT_BURST	10 /* station_boot_burst */
#define STATION_BOOT_INTERVAL_S 20 /* station_boot_interval_s */
#define SUITE_CONFIG                                                                               \
	"{\"registration\": \"pending\", \"boot_timeout_s\": 3, "                                  \
	"\"registration_rate_per_s\": %d, \"max_pending_stations\": %d, \"boot_rate_per_s\": %d, " \
	"\"station_boot_burst\": %d, \"station_boot_interval_s\": %d, \"call_rate_per_s\": 20, "   \
	"\"call_burst\": 200, \"auth_fail_free\": 5}"

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && atoi(v) > 0 ? atoi(v) : def;
}

/* ---------------------------------------------------------------- the probes (threads) */

struct probe {
	const char *name;
	void *(*fn)(void *);
	int port;
	long long deadline; /* no new attempt after this (rawc_now_ms()) */
	pthread_t thread;
	bool started;
	int n; /* the takeover probe: how many good chargers there are */
	/* results, read after join */
	int tried, refused, closed_by_server, code_ok, answered, errors, other;
	int accepted, pending; /* BootNotifications answered so */
	long long elapsed_ms;
	char note[200];
};

static const char *src_addr(int i)
{
	static const char *const a[] = {"127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13",
					"127.0.0.14", "127.0.0.15", "127.0.0.16", "127.0.0.17"};

	return a[i % 8];
}

/* The header line "Authorization: Basic base64(id:password)\r\n". */
static void basic_auth(char *out, size_t len, const char *id, const char *password)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char cred[160], b64[224];
	size_t n = (size_t)snprintf(cred, sizeof(cred), "%s:%s", id, password), o = 0;

	if (n >= sizeof(cred))
		n = sizeof(cred) - 1;
	for (size_t k = 0; k < n; k += 3) {
		unsigned v = (unsigned char)cred[k] << 16;

		v |= k + 1 < n ? (unsigned char)cred[k + 1] << 8 : 0;
		v |= k + 2 < n ? (unsigned char)cred[k + 2] : 0;
		b64[o++] = tbl[v >> 18 & 63];
		b64[o++] = tbl[v >> 12 & 63];
		b64[o++] = k + 1 < n ? tbl[v >> 6 & 63] : '=';
		b64[o++] = k + 2 < n ? tbl[v & 63] : '=';
	}
	b64[o] = '\0';
	snprintf(out, len, "Authorization: Basic %s\r\n", b64);
}

/* The password imported for a probe's own station (16..40 characters). */
static void probe_password(char *out, size_t len, const char *id)
{
	snprintf(out, len, "probe-pw-%s-0123", id);
}

/* A probe's own (imported) station, upgraded with its password; NULL if not answered 101.
 * Its first login needs the KDF: upgraded at once and held (nothing read) until the KDF off
 * the loop lets it in, so what the probe sends meanwhile is read afterwards. */
static struct rawc *probe_connect(struct probe *pr, const char *src, const char *id)
{
	struct rawc *c = rawc_open(pr->port, src);
	char path[64], pw[64], auth[256];

	snprintf(path, sizeof(path), "/ocpp/%s", id);
	probe_password(pw, sizeof(pw), id);
	basic_auth(auth, sizeof(auth), id, pw);
	if (c && rawc_upgrade(c, path, "ocpp1.6", auth, 15000) == 101)
		return c;
	rawc_close(c);
	return NULL;
}

/* Slowloris: 50 upgrades written one byte every 200 ms, never finished. The server must close
 * them (lws' handshake timeout) while everyone else is served. */
static void *probe_slowloris(void *arg)
{
	struct probe *pr = arg;
	static const char head[] =
	    "GET /ocpp/SLOW HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nX-Slow: ";
	struct rawc *c[50] = {0};
	bool done[50] = {0};
	long long end = rawc_now_ms() + 30000;
	size_t pos = 0;
	int open = 0;

	for (int i = 0; i < 50; i++) {
		c[i] = rawc_open(pr->port, "127.0.0.20");
		if (c[i])
			open++;
		pr->tried++;
	}
	while (open > 0 && rawc_now_ms() < end) {
		char ch = pos < sizeof(head) - 1 ? head[pos] : 'x';

		pos++;
		for (int i = 0; i < 50; i++) {
			if (!c[i] || done[i])
				continue;
			if (rawc_send(c[i], &ch, 1, 100) < 0 ||
			    rawc_wait_closed(c[i], 0, NULL) == 0) {
				done[i] = true;
				pr->closed_by_server++;
				open--;
			}
		}
		usleep(200000);
	}
	for (int i = 0; i < 50; i++)
		rawc_close(c[i]);
	snprintf(pr->note, sizeof(pr->note), "%d of 50 closed by the server within 30 s",
		 pr->closed_by_server);
	return NULL;
}

/* A 16 MB text frame: the CSMS closes at max_frame_bytes (1009) without reading it all. */
static void *probe_big_frame(void *arg)
{
	struct probe *pr = arg;
	const size_t total = 16u << 20, chunk = 1u << 16;
	unsigned char h[14] = {0x81, 0x80 | 127}, *buf = malloc(chunk);
	size_t sent = 0;

	for (int k = 0; k < 3 && buf && rawc_now_ms() < pr->deadline; k++) {
		struct rawc *c = probe_connect(pr, "127.0.0.21", "BIG-1");
		int code = 0;

		pr->tried++;
		if (!c) {
			pr->other++;
			continue;
		}
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)total >> (8 * (7 - i)));
		memset(h + 10, 0x5a, 4); /* mask key */
		memset(buf, 'x' ^ 0x5a, chunk);
		sent = 0;
		/* 20 s: the first chunks wait for the KDF of the login (probe_connect()) */
		if (rawc_send(c, h, sizeof(h), 20000) == 0)
			while (sent < total && rawc_send(c, buf, chunk, 20000) == 0) {
				char *p = NULL;
				size_t len = 0;
				int op = 0;

				sent += chunk;
				/* stop at the server's close: writing on would make its kernel reset
				 * the connection (unread data) and the close frame could be lost */
				if (rawc_read_frame(c, &op, &p, &len, 0) == 0 && op == 8 &&
				    len >= 2) {
					code = (unsigned char)p[0] << 8 | (unsigned char)p[1];
					rawc_send_frame(c, 8, p, 2, true, 1000);
					free(p);
					break;
				}
				free(p);
			}
		if (rawc_wait_closed(c, 10000, code ? NULL : &code) == 0) {
			pr->closed_by_server++;
			if (code == 1009)
				pr->code_ok++;
		}
		rawc_close(c);
	}
	free(buf);
	snprintf(pr->note, sizeof(pr->note), "%d of 3 closed, %d with 1009 (last: %zu KiB sent)",
		 pr->closed_by_server, pr->code_ok, sent >> 10);
	return NULL;
}

static int boot_raw(struct rawc *c, const char *id, int timeout_ms)
{
	char frame[256], *payload = NULL;
	int n, op = 0, r;

	n = snprintf(frame, sizeof(frame),
		     "[2,\"boot\",\"BootNotification\",{\"chargePointVendor\":\"H\","
		     "\"chargePointModel\":\"%s\"}]",
		     id);
	r = rawc_send_frame(c, 1, frame, (size_t)n, true, timeout_ms);
	if (r < 0)
		return r;
	r = rawc_read_frame(c, &op, &payload, NULL, timeout_ms);
	if (r == 0 && (op != 1 || !strstr(payload, "\"Accepted\"")))
		r = -EPROTO;
	free(payload);
	return r;
}

/* 10,000 Heartbeats pipelined on one connection, without reading: the call buckets answer the
 * excess with CALLERRORs and close the connection past call_burst refusals in a row. */
static void *probe_pipeline(void *arg)
{
	struct probe *pr = arg;
	struct rawc *c = probe_connect(pr, "127.0.0.22", "PIPE-1");
	enum { N = 10000 };
	char *all = malloc((size_t)N * 48), *p = all;
	long long end = rawc_now_ms() + 20000;
	int code = 0;

	if (!c || !all || boot_raw(c, "PIPE-1", 30000) < 0) {
		pr->other++;
		goto out;
	}
	for (int i = 0; i < N; i++) {
		unsigned char h[8] = {0x81, 0x80};
		int n = snprintf(p + 6, 40, "[2,\"p%d\",\"Heartbeat\",{}]", i);

		h[1] |= (unsigned char)n;
		memcpy(p, h, 2);
		memset(p + 2, 0, 4); /* a zero mask key: the payload as is */
		p += 6 + n;
		pr->tried++;
	}
	rawc_send(c, all, (size_t)(p - all), 10000);
	while (rawc_now_ms() < end) {
		char *payload = NULL;
		int op = 0, r = rawc_read_frame(c, &op, &payload, NULL, (int)(end - rawc_now_ms()));

		if (r == 0 && op == 1 && strncmp(payload, "[3,\"p", 5) == 0)
			pr->answered++;
		else if (r == 0 && op == 1 && strncmp(payload, "[4,\"p", 5) == 0)
			pr->errors++;
		else if (r == 0 && op == 8 && payload)
			code = (unsigned char)payload[0] << 8 | (unsigned char)payload[1];
		else if (r == 0)
			pr->other++;
		free(payload);
		if (r == -EPIPE) {
			pr->closed_by_server = 1;
			break;
		}
		if (r < 0)
			break;
	}
	pr->code_ok = code;
out:
	snprintf(pr->note, sizeof(pr->note),
		 "%d sent, %d answered, %d CALLERRORs, closed %s (code %d)", pr->tried,
		 pr->answered, pr->errors, pr->closed_by_server ? "by the server" : "no",
		 pr->code_ok);
	rawc_close(c);
	free(all);
	return NULL;
}

/* Frames a charger must not send: binary (1003), invalid UTF-8 (1007), unmasked (taken as
 * sent by lws 4.1.6, docs/security.md: the answer must still be a proper one). */
static void *probe_bad_frames(void *arg)
{
	struct probe *pr = arg;
	static const char bad_utf8[] = "[2,\"u\",\"Heartbeat\",{\"x\":\"\xc3\x28\xfe\"}]";

	for (int i = 0; i < 30 && rawc_now_ms() < pr->deadline; i++) {
		struct rawc *c = probe_connect(pr, "127.0.0.23", "BAD-1");
		int code = 0, kind = i % 3, want = kind == 0 ? 1003 : 1007;

		pr->tried++;
		if (!c) {
			pr->other++;
			continue;
		}
		if (kind == 2) { /* unmasked: a boot, then a proper answer or a 1002 close */
			char *payload = NULL;
			int op = 0;
			static const char boot[] =
			    "[2,\"ub\",\"BootNotification\",{\"chargePointVendor\":\"H\","
			    "\"chargePointModel\":\"U\"}]";

			if (rawc_send_frame(c, 1, boot, sizeof(boot) - 1, false, 5000) == 0 &&
			    rawc_read_frame(c, &op, &payload, NULL, 30000) == 0 &&
			    ((op == 1 && strstr(payload, "[3,\"ub\"")) ||
			     (op == 8 && (unsigned char)payload[1] == (1002 & 0xff))))
				pr->code_ok++;
			free(payload);
			rawc_close(c);
			continue;
		}
		if (kind == 0)
			rawc_send_frame(c, 2, "[2,\"1\",\"Heartbeat\",{}]", 22, true, 5000);
		else
			rawc_send_frame(c, 1, bad_utf8, sizeof(bad_utf8) - 1, true, 5000);
		if (rawc_wait_closed(c, 30000, &code) == 0) {
			pr->closed_by_server++;
			if (code == want)
				pr->code_ok++;
		}
		rawc_close(c);
	}
	snprintf(pr->note, sizeof(pr->note),
		 "%d tried: %d closed by the server, %d with the right code/answer", pr->tried,
		 pr->closed_by_server, pr->code_ok);
	return NULL;
}

/* Ids of 64k characters: never upgraded. */
static void *probe_long_ids(void *arg)
{
	struct probe *pr = arg;
	size_t n = 65536;
	char *path = malloc(n + 8);

	if (!path)
		return NULL;
	memcpy(path, "/ocpp/", 6);
	memset(path + 6, 'L', n);
	path[n + 6] = '\0';
	for (int i = 0; i < 20 && rawc_now_ms() < pr->deadline; i++) {
		struct rawc *c = rawc_open(pr->port, "127.0.0.24");
		int st;

		pr->tried++;
		if (!c) {
			pr->other++;
			continue;
		}
		st = rawc_upgrade(c, path, "ocpp1.6", NULL, 10000);
		if (st == 101)
			pr->other++;
		else
			pr->refused++;
		rawc_close(c);
	}
	free(path);
	snprintf(pr->note, sizeof(pr->note), "%d tried, %d refused", pr->tried, pr->refused);
	return NULL;
}

/* 1,000 upgrades that never send a BootNotification: each closed by the boot timeout (1008).
 * Unknown ids without a credential: under `pending` admitted as candidates, with no row unless
 * they boot (none is created, checked in the database afterwards). */
static void *probe_never_boot(void *arg)
{
	struct probe *pr = arg;
	int n = env_int("HOSTILE_NEVER_BOOT", 1000);
	struct rawc **c = calloc((size_t)n, sizeof(*c));
	long long *up = calloc((size_t)n, sizeof(*up)), t0 = rawc_now_ms(), last = 0;

	if (!c || !up) {
		free(c);
		free(up);
		return NULL;
	}
	/* all the requests first, then the answers: the server meets them at once */
	for (int i = 0; i < n && rawc_now_ms() < pr->deadline; i++) {
		char id[32];

		snprintf(id, sizeof(id), "/ocpp/NB-%04d", i);
		pr->tried++;
		c[i] = rawc_open(pr->port, src_addr(i));
		if (c[i] && rawc_upgrade_send(c[i], id, "ocpp1.6", NULL, 10000) < 0) {
			rawc_close(c[i]);
			c[i] = NULL;
		}
		if (!c[i])
			pr->other++;
	}
	for (int i = 0; i < n; i++) {
		long long left = pr->deadline - rawc_now_ms();

		if (c[i] && rawc_read_head(c[i], left > 10000 ? (int)left : 10000) != 101) {
			pr->other++;
			rawc_close(c[i]);
			c[i] = NULL;
		}
		up[i] = rawc_now_ms();
	}
	for (int i = 0; i < n; i++) {
		/* closed by the boot timeout (and the 1 s sweep), with room for a loaded machine */
		long long left = up[i] + (BOOT_TIMEOUT_S + 20) * 1000 - rawc_now_ms();
		int code = 0;

		if (!c[i])
			continue;
		if (rawc_wait_closed(c[i], left > 0 ? (int)left : 0, &code) == 0) {
			pr->closed_by_server++;
			if (code == 1008)
				pr->code_ok++;
			last = rawc_now_ms();
		}
		rawc_close(c[i]);
	}
	free(c);
	free(up);
	snprintf(pr->note, sizeof(pr->note),
		 "%d upgraded, %d closed by the server (%d with 1008), the last %.1f s after the "
		 "first upgrade",
		 pr->tried - pr->other, pr->closed_by_server, pr->code_ok,
		 last ? (double)(last - t0) / 1000 : 0.0);
	return NULL;
}

/* Hundreds of wrong passwords for a station that has one (PW-1, imported): all refused (the KDF
 * runs for the first few: upgraded, held and closed with 1008 when it fails; then the per-id and
 * per-address back-off answers 401 without it). */
static void *probe_password_storm(void *arg)
{
	struct probe *pr = arg;
	int last = 0; /* the last other outcome: an HTTP status, or 1000 + a close code */

	for (int i = 0; i < 320 && rawc_now_ms() < pr->deadline; i++) {
		struct rawc *c = rawc_open(pr->port, "127.0.0.25");
		char auth[256], pw[40];
		int st;

		pr->tried++;
		if (!c) {
			pr->other++;
			continue;
		}
		snprintf(pw, sizeof(pw), "wrong-password-%04d", i);
		basic_auth(auth, sizeof(auth), "PW-1", pw);
		st = rawc_upgrade(c, "/ocpp/PW-1", "ocpp1.6", auth, 15000);
		if (st == 401) {
			pr->refused++;
		} else if (st == 101) {
			/* a password that needs the KDF: held (nothing answered) while the KDF runs
			 * off the event loop, then closed with 1008 (docs/security.md) */
			int code = 0;

			/* the KDFs queue behind the other probes' on a sanitizer build: wait long */
			if (rawc_wait_closed(c, 45000, &code) == 0 && code == 1008)
				pr->refused++;
			else
				pr->other++, last = 1000 + code;
		} else {
			pr->other++, last = st;
		}
		rawc_close(c);
	}
	snprintf(pr->note, sizeof(pr->note),
		 "%d tried, %d refused (401, or held and closed 1008), %d other (last %d)",
		 pr->tried, pr->refused, pr->other, last);
	return NULL;
}

/* Reads frames until the server's close frame: its code (0 if the connection ended without
 * one), or -ETIMEDOUT. *answered counts the text frames that came first. */
static int read_until_close(struct rawc *c, int timeout_ms, int *answered)
{
	long long end = rawc_now_ms() + timeout_ms;

	for (;;) {
		char *p = NULL;
		size_t len = 0;
		int op = 0, code = 0,
		    r = rawc_read_frame(c, &op, &p, &len, (int)(end - rawc_now_ms()));

		if (r == -EPIPE || (r == 0 && op == 8)) {
			if (r == 0 && len >= 2)
				code = (unsigned char)p[0] << 8 | (unsigned char)p[1];
			free(p);
			return code;
		}
		free(p);
		if (r < 0)
			return r;
		if (op == 1)
			(*answered)++;
		if (rawc_now_ms() >= end)
			return -ETIMEDOUT;
	}
}

/* Station takeover: from its own address, connect as 8 connected good chargers (1.6 and 2.0.1)
 * without a password and with wrong ones, 8 attempts each. Every attempt is refused: 401 at
 * once (no password, or the back-off after auth_fail_free failures), or upgraded, held while
 * the KDF runs, and closed with 1008 with nothing it sent answered (its BootNotification). The
 * real chargers are never dropped (asserted for every good charger). */
static void *probe_takeover(void *arg)
{
	struct probe *pr = arg;
	int targets = pr->n < 8 ? pr->n : 8;

	for (int t = 0; t < targets; t++)
		for (int k = 0; k < 8 && rawc_now_ms() < pr->deadline; k++) {
			struct rawc *c = rawc_open(pr->port, "127.0.0.26");
			bool v201 = t % 2;
			char id[32], path[48], pw[40], auth[256], boot[200];
			int st, code, n;

			pr->tried++;
			if (!c) {
				pr->other++;
				continue;
			}
			snprintf(id, sizeof(id), "GOOD-%s-%03d", v201 ? "201" : "16", t);
			snprintf(path, sizeof(path), "/ocpp/%s", id);
			snprintf(pw, sizeof(pw), "intruder-password-%02d", k);
			basic_auth(auth, sizeof(auth), id, pw);
			st = rawc_upgrade(c, path, v201 ? "ocpp2.0.1" : "ocpp1.6", k ? auth : NULL,
					  15000);
			if (st == 401) {
				pr->refused++;
			} else if (st == 101) {
				n = v201 ? snprintf(
					       boot, sizeof(boot),
					       "[2,\"t\",\"BootNotification\",{\"chargingStation\":"
					       "{\"vendorName\":\"X\",\"model\":\"Intruder\"},"
					       "\"reason\":\"PowerUp\"}]")
					 : snprintf(boot, sizeof(boot),
						    "[2,\"t\",\"BootNotification\",{"
						    "\"chargePointVendor\":"
						    "\"X\",\"chargePointModel\":\"Intruder\"}]");
				rawc_send_frame(c, 1, boot, (size_t)n, true, 5000);
				code = read_until_close(c, 30000, &pr->answered);
				if (code == 1008)
					pr->closed_by_server++;
				else
					pr->other++;
			} else {
				pr->other++;
			}
			rawc_close(c);
		}
	pr->refused += pr->closed_by_server;
	snprintf(pr->note, sizeof(pr->note),
		 "%d tried as %d connected chargers: %d refused (%d held and closed 1008), %d "
		 "frames answered",
		 pr->tried, targets, pr->refused, pr->closed_by_server, pr->answered);
	return NULL;
}

static int parse_status(const char *payload, const char *msg_id_prefix)
{
	char want[40];

	snprintf(want, sizeof(want), "[3,\"%s", msg_id_prefix);
	if (strncmp(payload, want, strlen(want)) != 0)
		return strncmp(payload, "[4,", 3) == 0 ? 'E' : '?';
	if (strstr(payload, "\"Accepted\""))
		return 'A';
	if (strstr(payload, "\"Pending\""))
		return 'P';
	return 'R';
}

/* Registration abuse: REG_IDS unknown ids, each with a password, all boot at once, again every
 * 250 ms (the answer read) for REG_MIN_MS at least, which at REG_RATE is past the Pending cap.
 * Rows are created only at registration_rate_per_s and never beyond max_pending_stations
 * (checked in the database afterwards, by the rows' created_ms); every boot is answered,
 * Pending. Beside them, ids whose upgrade is not complete (no Sec-WebSocket-Key),
 * whose BootNotification is not valid, or who never boot get no row (REGX-). */
enum { REG_IDS = 200, REG_MAX_ROUNDS = 30, REG_MIN_MS = 6000 };
static char reg_prefix[16];

static void *probe_registration(void *arg)
{
	struct probe *pr = arg;
	struct rawc *c[REG_IDS] = {0};
	char id[48], path[64], pw[40], auth[256];
	long long t0;
	int bad_refused = 0, bad_errors = 0;

	for (int i = 0; i < REG_IDS; i++) {
		char src[16];

		snprintf(src, sizeof(src), "127.0.0.%d", 30 + i % 8);
		snprintf(id, sizeof(id), "%s-%03d", reg_prefix, i);
		snprintf(path, sizeof(path), "/ocpp/%s", id);
		snprintf(pw, sizeof(pw), "reg-password-%03d-abcdef", i);
		basic_auth(auth, sizeof(auth), id, pw);
		c[i] = rawc_open(pr->port, src);
		if (c[i] && rawc_upgrade_send(c[i], path, "ocpp1.6", auth, 10000) < 0) {
			rawc_close(c[i]);
			c[i] = NULL;
		}
	}
	for (int i = 0; i < REG_IDS; i++)
		if (c[i] && rawc_read_head(c[i], 30000) != 101) {
			rawc_close(c[i]);
			c[i] = NULL;
		}
	t0 = rawc_now_ms();
	/* rounds for REG_MIN_MS at least: long enough for the rate to reach the cap */
	for (int round = 0; round < REG_MAX_ROUNDS && rawc_now_ms() < pr->deadline &&
			    (round < 2 || rawc_now_ms() - t0 < REG_MIN_MS);
	     round++) {
		if (round)
			usleep(250000);
		for (int i = 0; i < REG_IDS; i++) {
			char frame[200];
			int n = snprintf(frame, sizeof(frame),
					 "[2,\"r%d\",\"BootNotification\",{\"chargePointVendor\":"
					 "\"H\",\"chargePointModel\":\"REG\"}]",
					 round);

			if (!c[i])
				continue;
			pr->tried++;
			rawc_send_frame(c[i], 1, frame, (size_t)n, true, 5000);
		}
		for (int i = 0; i < REG_IDS; i++) {
			char *payload = NULL, want[8];
			int op = 0, st;

			if (!c[i])
				continue;
			snprintf(want, sizeof(want), "r%d\"", round);
			if (rawc_read_frame(c[i], &op, &payload, NULL, 30000) < 0 || op != 1) {
				free(payload);
				continue;
			}
			st = parse_status(payload, want);
			free(payload);
			pr->answered += st != '?';
			pr->accepted += st == 'A';
			pr->pending += st == 'P';
			pr->errors += st == 'E';
		}
		pr->elapsed_ms = rawc_now_ms() - t0;
	}
	for (int i = 0; i < REG_IDS; i++)
		rawc_close(c[i]);

	/* no row without a complete upgrade and a valid BootNotification */
	for (int i = 0; i < 10; i++) {
		struct rawc *k = rawc_open(pr->port, "127.0.0.38");
		char req[512];
		int n;

		snprintf(id, sizeof(id), "REGX-K-%d", i);
		snprintf(pw, sizeof(pw), "regx-password-%03d-abc", i);
		basic_auth(auth, sizeof(auth), id, pw);
		n = snprintf(req, sizeof(req),
			     "GET /ocpp/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
			     "Sec-WebSocket-Protocol: ocpp1.6\r\n%s\r\n",
			     id, auth);
		if (k && rawc_send(k, req, (size_t)n, 5000) == 0 && rawc_read_head(k, 15000) != 101)
			bad_refused++;
		if (k) { /* and a boot anyway, as if upgraded */
			static const char boot[] =
			    "[2,\"x\",\"BootNotification\",{\"chargePointVendor\":\"H\","
			    "\"chargePointModel\":\"REGX\"}]";

			rawc_send_frame(k, 1, boot, sizeof(boot) - 1, true, 1000);
		}
		rawc_close(k);
	}
	for (int i = 0; i < 20; i++) {
		struct rawc *k = rawc_open(pr->port, "127.0.0.39");
		static const char bad_boot[] = /* chargePointVendor missing */
		    "[2,\"x\",\"BootNotification\",{\"chargePointModel\":\"REGX\"}]";

		snprintf(id, sizeof(id), "REGX-%c-%d", i < 10 ? 'B' : 'N', i);
		snprintf(path, sizeof(path), "/ocpp/%s", id);
		snprintf(pw, sizeof(pw), "regx-password-%03d-abc", i);
		basic_auth(auth, sizeof(auth), id, pw);
		if (k && rawc_upgrade(k, path, "ocpp1.6", auth, 15000) == 101 && i < 10) {
			char *payload = NULL;
			int op = 0;

			rawc_send_frame(k, 1, bad_boot, sizeof(bad_boot) - 1, true, 5000);
			if (rawc_read_frame(k, &op, &payload, NULL, 30000) == 0 && op == 1 &&
			    strncmp(payload, "[4,\"x\"", 6) == 0)
				bad_errors++;
			free(payload);
		}
		rawc_close(k);
	}
	pr->refused = bad_refused;
	pr->code_ok = bad_errors;
	snprintf(pr->note, sizeof(pr->note),
		 "%d ids, %d boots in %.1f s: %d answered (%d Pending, %d Accepted, %d "
		 "CALLERRORs); no key: %d of 10 refused; bad boot: %d of 10 CALLERRORs",
		 REG_IDS, pr->tried, (double)pr->elapsed_ms / 1000, pr->answered, pr->pending,
		 pr->accepted, pr->errors, bad_refused, bad_errors);
	return NULL;
}

/* A Heartbeat, answered: the login's KDF has let the connection in (until then nothing it sends
 * is read). 0 or -1. */
static int warm_up(struct rawc *c)
{
	static const char hb[] = "[2,\"w\",\"Heartbeat\",{}]";
	char *payload = NULL;
	int op = 0, r;

	r = rawc_send_frame(c, 1, hb, sizeof(hb) - 1, true, 5000);
	if (r == 0)
		r = rawc_read_frame(c, &op, &payload, NULL, 30000);
	free(payload);
	return r == 0 && op == 1 ? 0 : -1;
}

/* Boot drain: DRAIN-1 pipelines 3,000 BootNotifications without reading, and VICTIM-1's boot
 * follows at once, so the node meets it among the first chunks of the drain's. The per-station
 * boot bucket answers DRAIN-1 Pending past station_boot_burst: the node's boot budget
 * (boot_rate_per_s, less than the drain's first chunk) is left to the others, and VICTIM-1 is
 * Accepted. */
static void *probe_boot_drain(void *arg)
{
	struct probe *pr = arg;
	enum { N = 3000 };
	struct rawc *d = probe_connect(pr, "127.0.0.27", "DRAIN-1");
	struct rawc *v = probe_connect(pr, "127.0.0.28", "VICTIM-1");
	char *all = malloc((size_t)N * 128), *p = all, *payload = NULL;
	static const char victim_boot[] =
	    "[2,\"victim\",\"BootNotification\",{\"chargePointVendor\":"
	    "\"H\",\"chargePointModel\":\"VICTIM\"}]";
	long long t0, end;
	int op = 0, victim = '?';

	if (!d || !v || !all || warm_up(d) < 0 || warm_up(v) < 0) {
		pr->other++;
		goto out;
	}
	for (int i = 0; i < N; i++) {
		int n = snprintf(p + 6, 120,
				 "[2,\"d%d\",\"BootNotification\",{\"chargePointVendor\":\"H\","
				 "\"chargePointModel\":\"DRAIN\"}]",
				 i);

		p[0] = (char)0x81;
		p[1] = (char)(0x80 | n); /* n < 126 */
		memset(p + 2, 0, 4);	 /* a zero mask key: the payload as is */
		p += 6 + n;
		pr->tried++;
	}
	t0 = rawc_now_ms();
	end = t0 + 40000;
	rawc_send(d, all, (size_t)(p - all), 20000);
	if (rawc_send_frame(v, 1, victim_boot, sizeof(victim_boot) - 1, true, 5000) == 0 &&
	    rawc_read_frame(v, &op, &payload, NULL, 30000) == 0 && op == 1)
		victim = parse_status(payload, "victim");
	free(payload);
	payload = NULL;
	for (;;) {
		int r = rawc_read_frame(d, &op, &payload, NULL, (int)(end - rawc_now_ms()));

		if (r == 0 && op == 1) {
			int st = parse_status(payload, "d");

			pr->answered++;
			pr->accepted += st == 'A';
			pr->pending += st == 'P';
			pr->errors += st == 'E';
		} else if (r == 0 && op == 8 && payload) {
			pr->code_ok = (unsigned char)payload[0] << 8 | (unsigned char)payload[1];
		}
		free(payload);
		payload = NULL;
		if (r == -EPIPE) {
			pr->closed_by_server = 1;
			break;
		}
		if (r < 0 || rawc_now_ms() >= end)
			break;
	}
	pr->elapsed_ms = rawc_now_ms() - t0;
	pr->refused = victim; /* 'A' when Accepted */
out:
	snprintf(pr->note, sizeof(pr->note),
		 "%d sent: %d Accepted, %d Pending, %d CALLERRORs, closed %s (code %d); the "
		 "other station's boot: %s",
		 pr->tried, pr->accepted, pr->pending, pr->errors,
		 pr->closed_by_server ? "by the server" : "no", pr->code_ok,
		 victim == 'A'	 ? "Accepted"
		 : victim == 'P' ? "Pending"
				 : "not answered/other");
	rawc_close(d);
	rawc_close(v);
	free(all);
	return NULL;
}

/* ---------------------------------------------------------------- the good chargers */

struct good {
	struct tcp *tc;
	char id[32];
	bool v201;
	int readings; /* MeterValues acknowledged */
	int calls, answered;
};

struct lat {
	double *v;
	size_t n, cap;
};

static void lat_add(struct lat *l, double ms)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(struct lat *l, double p)
{
	if (!l->n)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), cmp_double);
	return l->v[(size_t)(p * (double)(l->n - 1))];
}

/* One call of every good charger: Heartbeat on odd rounds, MeterValues (one reading with the
 * round's own timestamp, so each is a new row) on even ones. */
static void round_of_calls(struct good *g, int n, int round, struct lat *l)
{
	char ts[32];

	rfc3339_offset(ts, -3600 + round);
	for (int i = 0; i < n; i++) {
		json_t *payload, *conf = NULL;
		bool meter = round % 2 == 0;
		long long t0;
		char err[64] = "";
		int r;
		char v[24];

		snprintf(v, sizeof(v), "%d", 1000 + round);
		if (!meter)
			payload = json_object();
		else if (g[i].v201) /* 2.0.1: a number */
			payload =
			    json_pack("{s:i, s:[{s:s, s:[{s:i}]}]}", "evseId", 1, "meterValue",
				      "timestamp", ts, "sampledValue", "value", 1000 + round);
		else /* 1.6: a string */
			payload =
			    json_pack("{s:i, s:[{s:s, s:[{s:s}]}]}", "connectorId", 1, "meterValue",
				      "timestamp", ts, "sampledValue", "value", v);
		t0 = mono_ms();
		g[i].calls++;
		r = tc_call(g[i].tc, meter ? "MeterValues" : "Heartbeat", payload, &conf, err,
			    30000);
		if (r == 0) {
			g[i].answered++;
			if (meter)
				g[i].readings++;
			lat_add(l, (double)(mono_ms() - t0));
		} else {
			print_message("good charger %s: %s %s (r %d)\n", g[i].id,
				      meter ? "MeterValues" : "Heartbeat", err, r);
		}
		json_decref(conf);
	}
}

static bool any_running(struct probe *pr, int n)
{
	for (int i = 0; i < n; i++)
		if (pr[i].started && pthread_tryjoin_np(pr[i].thread, NULL) == 0)
			pr[i].started = false;
	for (int i = 0; i < n; i++)
		if (pr[i].started)
			return true;
	return false;
}

/* The good chargers' passwords (16..40 characters). */
static void good_password(char *out, size_t len, int i)
{
	snprintf(out, len, "good-password-%03d-abcdef", i);
}

/* Import the stations: every good charger and the probes' own ones, in batches of 50 rows (each
 * `csms stations import` hashes its passwords at kdf_iterations within the harness's 10 s). */
static void import_stations(struct csms_proc *p, int ngood)
{
	static const char *const probe_ids[] = {"PW-1",	 "PIPE-1",  "BAD-1",
						"BIG-1", "DRAIN-1", "VICTIM-1"};
	int nprobe_ids = (int)(sizeof(probe_ids) / sizeof(probe_ids[0]));
	int total = ngood + nprobe_ids, batch = 0;

	for (int first = 0; first < total; first += 50, batch++) {
		char *text = malloc(64 + 50 * 96), name[32];
		size_t o;

		assert_non_null(text);
		o = (size_t)sprintf(text, "charger_id,site,site_kind,password\n");
		for (int i = first; i < total && i < first + 50; i++) {
			char id[32], pw[64];

			if (i < ngood) {
				snprintf(id, sizeof(id), "GOOD-%s-%03d", i % 2 ? "201" : "16", i);
				good_password(pw, sizeof(pw), i);
			} else {
				snprintf(id, sizeof(id), "%s", probe_ids[i - ngood]);
				if (strcmp(id, "PW-1") == 0)
					snprintf(pw, sizeof(pw), "the-right-password-1");
				else
					probe_password(pw, sizeof(pw), id);
			}
			o += (size_t)sprintf(text + o, "%s,S-HOSTILE,public,%s\n", id, pw);
		}
		snprintf(name, sizeof(name), "stations-%d.csv", batch);
		assert_int_equal(csms_import_text(p, name, text), 0);
		free(text);
	}
}

/* count(*) of the stations whose id is LIKE pattern. */
static int count_stations(sqlite3 *db, const char *pattern)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM stations WHERE id LIKE ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_hostile_clients(void **state)
{
	char config[512], pattern[32];
	int ngood = env_int("HOSTILE_GOOD", 200), rounds = 0;
	struct good *g = calloc((size_t)ngood, sizeof(*g));
	struct lat base = {0}, hostile = {0};
	struct csms_proc *p;
	struct probe pr[] = {
	    {.name = "slowloris", .fn = probe_slowloris},
	    {.name = "16 MB frame", .fn = probe_big_frame},
	    {.name = "10,000 pipelined", .fn = probe_pipeline},
	    {.name = "bad frames", .fn = probe_bad_frames},
	    {.name = "64k ids", .fn = probe_long_ids},
	    {.name = "never boot", .fn = probe_never_boot},
	    {.name = "password storm", .fn = probe_password_storm},
	    {.name = "takeover", .fn = probe_takeover, .n = ngood},
	    {.name = "registration", .fn = probe_registration},
	    {.name = "boot drain", .fn = probe_boot_drain},
	};
	int nprobe = (int)(sizeof(pr) / sizeof(pr[0])), reg_rows;
	long long t_start;
	json_t *conf = NULL;
	char err[64];
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_non_null(g);
	snprintf(config, sizeof(config), SUITE_CONFIG, REG_RATE, MAX_PENDING, BOOT_RATE,
		 STATION_BOOT_BURST, STATION_BOOT_INTERVAL_S);
	snprintf(reg_prefix, sizeof(reg_prefix), "REG-%04x",
		 (unsigned)(getpid() ^ time(NULL)) & 0xffff);
	p = csms_prepare(config);
	*state = p;
	assert_non_null(p);
	import_stations(p, ngood);
	assert_int_equal(csms_launch(p, NULL), 0);

	for (int i = 0; i < ngood; i++) {
		char src[16], pw[64];
		const char *status = NULL;

		g[i].v201 = i % 2;
		snprintf(g[i].id, sizeof(g[i].id), "GOOD-%s-%03d", g[i].v201 ? "201" : "16", i);
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % 4);
		good_password(pw, sizeof(pw), i);
		g[i].tc = tc_connect_from(p->port, g[i].id, pw, g[i].v201 ? "ocpp2.0.1" : "ocpp1.6",
					  src, 20000, NULL);
		assert_non_null(g[i].tc);
		/* boot_rate_per_s is BOOT_RATE: one that comes back Pending boots again later */
		for (int k = 0; k < 5 && !(status && strcmp(status, "Accepted") == 0); k++) {
			if (k)
				tc_run(1000);
			json_decref(conf);
			conf = NULL;
			if (g[i].v201)
				assert_int_equal(
				    tc_call(g[i].tc, "BootNotification",
					    json_pack("{s:{s:s, s:s}, s:s}", "chargingStation",
						      "vendorName", "Good", "model", "G201",
						      "reason", "PowerUp"),
					    &conf, err, 20000),
				    0);
			else
				assert_int_equal(tc_boot16(g[i].tc, &conf, err), 0);
			status = json_string_value(json_object_get(conf, "status"));
		}
		assert_string_equal(status, "Accepted");
		json_decref(conf);
		conf = NULL;
	}

	/* The good chargers' boots emptied the node's boot bucket (BOOT_RATE, refilled at
	 * BOOT_RATE a second): let it fill again, or the boot drain probe's victim meets what
	 * is left of it rather than what DRAIN-1 leaves (seen on a slow CI machine) */
	tc_run(1500);

	/* baseline: the same chargers without hostile load */
	for (int r = 0; r < 4; r++)
		round_of_calls(g, ngood, rounds++, &base);

	t_start = mono_ms();
	for (int i = 0; i < nprobe; i++) {
		pr[i].port = p->port;
		pr[i].deadline = rawc_now_ms() + PROBE_MAX_MS;
		pr[i].started = pthread_create(&pr[i].thread, NULL, pr[i].fn, &pr[i]) == 0;
		assert_true(pr[i].started);
	}
	while (any_running(pr, nprobe) && mono_ms() - t_start < HOSTILE_MAX_MS)
		round_of_calls(g, ngood, rounds++, &hostile);
	for (int i = 0; i < nprobe; i++)
		if (pr[i].started)
			pthread_join(pr[i].thread, NULL); /* each probe is bounded in time itself */
	round_of_calls(g, ngood, rounds++, &hostile);

	print_message("hostile phase: %.1f s, %d rounds of %d good chargers\n",
		      (double)(mono_ms() - t_start) / 1000, rounds, ngood);
	for (int i = 0; i < nprobe; i++)
		print_message("  %-17s %s\n", pr[i].name, pr[i].note);
	print_message("good chargers' call latency: baseline p50 %.1f ms p99 %.1f ms (%zu calls); "
		      "under hostile load p50 %.1f ms p99 %.1f ms max %.1f ms (%zu calls)\n",
		      pct(&base, 0.5), pct(&base, 0.99), base.n, pct(&hostile, 0.5),
		      pct(&hostile, 0.99), pct(&hostile, 1.0), hostile.n);

	/* the good chargers: none dropped, every call answered */
	for (int i = 0; i < ngood; i++) {
		if (tc_closed(g[i].tc))
			fail_msg("good charger %s was dropped (close code %d)", g[i].id,
				 tc_end(g[i].tc)->close_code);
		assert_int_equal(g[i].answered, g[i].calls);
	}
	/* the probes: what each must have met */
	assert_int_equal(pr[7].refused, pr[7].tried);  /* takeover: every attempt refused ... */
	assert_int_equal(pr[7].answered, 0);	       /* ... nothing the intruder sent answered */
	assert_int_equal(pr[8].answered, pr[8].tried); /* registration: every boot answered ... */
	assert_int_equal(pr[8].pending, pr[8].tried);  /* ... Pending */
	assert_true(pr[8].tried >= REG_IDS * 2);
	assert_int_equal(pr[8].refused, 10);  /* no Sec-WebSocket-Key: no upgrade */
	assert_int_equal(pr[8].code_ok, 10);  /* an invalid boot: a CALLERROR */
	assert_int_equal(pr[9].refused, 'A'); /* boot drain: the other station Accepted */
	assert_true(pr[9].pending > 0);	      /* the drain's excess answered Pending ... */
	assert_true(pr[9].accepted <=	      /* ... past the per-station burst */
		    STATION_BOOT_BURST + (int)(pr[9].elapsed_ms / 1000 / STATION_BOOT_INTERVAL_S));
	assert_int_equal(pr[0].closed_by_server, 50); /* slowloris */
	assert_int_equal(pr[1].closed_by_server, 3);  /* 16 MB frames */
	assert_int_equal(pr[1].code_ok, 3);	      /* ... with 1009 */
	assert_int_equal(pr[2].closed_by_server, 1);  /* pipelined: cut ... */
	assert_int_equal(pr[2].code_ok, 1008);	      /* ... for the rate */
	assert_true(pr[2].errors > 0);		      /* refusals came first */
	assert_int_equal(pr[3].code_ok, 30);	      /* binary, bad UTF-8, unmasked */
	assert_int_equal(pr[4].refused, 20);	      /* 64k ids */
	assert_int_equal(pr[5].tried, env_int("HOSTILE_NEVER_BOOT", 1000)); /* never boot */
	assert_int_equal(pr[5].other, 0);		       /* never boot: all upgraded ... */
	assert_int_equal(pr[5].closed_by_server, pr[5].tried); /* ... and closed */
	assert_int_equal(pr[5].code_ok, pr[5].tried);	       /* ... with 1008 */
	/* password storm: every attempt refused (as many as fit in the probe's time: fewer than
	 * 320 on a slow sanitizer build) */
	assert_true(pr[6].tried >= 100);
	assert_int_equal(pr[6].refused, pr[6].tried);

	for (int i = 0; i < ngood; i++)
		tc_close(g[i].tc);
	assert_int_equal(csms_stop(p), 0);

	/* durable: every acknowledged reading is a row; the database is sound */
	assert_int_equal(sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM meter_values WHERE station_id = ?", -1,
			       &st, NULL),
	    SQLITE_OK);
	for (int i = 0; i < ngood; i++) {
		sqlite3_bind_text(st, 1, g[i].id, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		if (sqlite3_column_int(st, 0) != g[i].readings)
			fail_msg("%s: %d readings acknowledged, %d stored", g[i].id, g[i].readings,
				 sqlite3_column_int(st, 0));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	/* no station row for a connection that never booted */
	assert_int_equal(count_stations(db, "NB-%"), 0);
	/* registration: rows never past the Pending cap, created only at the registration rate
	 * (by their created_ms: any run of k rows spans at least (k - burst) / rate seconds), and
	 * none without a complete upgrade and a valid BootNotification */
	snprintf(pattern, sizeof(pattern), "%s-%%", reg_prefix);
	reg_rows = count_stations(db, pattern);
	assert_true(reg_rows >= REG_RATE); /* the burst registered at once */
	assert_true(reg_rows <= MAX_PENDING);
	{
		long long created[MAX_PENDING];
		int n = 0, worst = 0;

		assert_int_equal(
		    sqlite3_prepare_v2(db,
				       "SELECT created_ms FROM stations WHERE id LIKE ? "
				       "ORDER BY created_ms",
				       -1, &st, NULL),
		    SQLITE_OK);
		sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
		while (n < MAX_PENDING && sqlite3_step(st) == SQLITE_ROW)
			created[n++] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		for (int i = 0; i < n; i++)
			for (int j = i; j < n; j++) {
				/* rows i..j: the bucket's burst, plus what it refilled meanwhile (+1
				 * for the rounding of created_ms) */
				int allowed = REG_RATE +
					      (int)(REG_RATE * (created[j] - created[i]) / 1000) +
					      1;

				if (j - i + 1 - allowed > worst)
					worst = j - i + 1 - allowed;
			}
		print_message("registration: %d rows for %d ids, created over %.1f s (rate %d/s, "
			      "burst %d, cap %d)\n",
			      reg_rows, REG_IDS,
			      n ? (double)(created[n - 1] - created[0]) / 1000 : 0.0, REG_RATE,
			      REG_RATE, MAX_PENDING);
		assert_int_equal(worst, 0);
	}
	assert_int_equal(count_stations(db, "REGX-%"), 0);
	sqlite3_close(db);
	free(base.v);
	free(hostile.v);
	free(g);
	csms_pass(p);
}

static int teardown(void **state)
{
	int r = tc_shutdown();

	csms_destroy(*state);
	assert_int_equal(r, 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_hostile_clients, teardown),
	};
	struct rlimit rl;

	/* 200 chargers, 1,000 raw sockets and the probes: more than the default 1,024 files */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
