/* SPDX-License-Identifier: MIT */
/* The local authorization list of a station: built from the tokens valid at its site, versioned,
 * pushed with SendLocalList (differential, full on a version mismatch), checked with
 * GetLocalListVersion after each boot or reconnect. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/hmap.h"
#include "../core/log.h"
#include "sites.h"
#include "svc.h"

static int cmp_token(const void *a, const void *b)
{
	return strcmp(((const struct svc_ll_entry *)a)->token,
		      ((const struct svc_ll_entry *)b)->token);
}

static bool same_entry(const struct svc_ll_entry *a, const struct svc_ll_entry *b)
{
	return a->status == b->status && a->expiry_ms == b->expiry_ms &&
	       strcmp(a->parent, b->parent) == 0;
}

int svc_ll_plan(struct svc_ll_entry *want, size_t n_want, const struct svc_ll_entry *sent,
		size_t n_sent, int64_t sent_version, int64_t station_version, int64_t now_ms,
		struct svc_ll_update *ret)
{
	struct svc_ll_update u = {0};
	size_t n = 0, i, j;

	/* what the station should hold: Accepted (not expired) and Blocked tokens */
	for (i = 0; i < n_want; i++) {
		const struct svc_ll_entry *e = &want[i];

		if (e->status == AUTH_BLOCKED ||
		    (e->status == AUTH_ACCEPTED && !(e->expiry_ms && e->expiry_ms <= now_ms)))
			want[n++] = *e;
	}
	n_want = n;
	if (n_want > 1)
		qsort(want, n_want, sizeof(*want), cmp_token);
	u.entries = calloc(n_want + n_sent + 1, sizeof(*u.entries));
	if (!u.entries)
		return -ENOMEM;
	if (station_version < 0 || station_version != sent_version) {
		int64_t v = sent_version > station_version ? sent_version : station_version;

		if (station_version == 0 && sent_version < 0 && n_want == 0) {
			*ret = u; /* an empty station and nothing to give it */
			return 0;
		}
		u.send = true;
		u.full = true;
		u.version = (v < 0 ? 0 : v) + 1;
		memcpy(u.entries, want, n_want * sizeof(*want));
		u.n = n_want;
		*ret = u;
		return 0;
	}
	/* a merge of two lists sorted by token */
	for (i = 0, j = 0; i < n_want || j < n_sent;) {
		int c = i == n_want ? 1 : j == n_sent ? -1 : strcmp(want[i].token, sent[j].token);

		if (c < 0) {
			u.entries[u.n++] = want[i++];
		} else if (c > 0) {
			u.entries[u.n] = sent[j++];
			u.entries[u.n].status = -1;
			u.entries[u.n].expiry_ms = 0;
			u.entries[u.n++].parent[0] = '\0';
		} else {
			if (!same_entry(&want[i], &sent[j]))
				u.entries[u.n++] = want[i];
			i++;
			j++;
		}
	}
	if (u.n) {
		u.send = true;
		u.version = sent_version + 1;
	}
	*ret = u;
	return 0;
}

int svc_ll_parse_version(const char *payload, int64_t *ret)
{
	static const char *const keys[] = {"\"listVersion\"", "\"versionNumber\""};
	char *end;

	for (size_t k = 0; payload && k < 2; k++) {
		const char *p = strstr(payload, keys[k]);
		long long v;

		if (!p)
			continue;
		p += strlen(keys[k]);
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
			p++;
		v = strtoll(p, &end, 10);
		if (end == p)
			return -EINVAL;
		*ret = v;
		return 0;
	}
	return -EINVAL;
}

/* What one entry adds to a SendLocalList payload at most: the 2.0.1 shape (the longer one),
 * {"idToken":{"idToken":T,"type":"Central"},"idTokenInfo":{"status":"Accepted",
 * "cacheExpiryDateTime":"2026-01-01T00:00:00.000Z","groupIdToken":{"idToken":P,"type":"Central"}}},
 * rounded up; and the frame around the entries ([2,"id","SendLocalList",{...,"updateType":...}]). */
#define LL_ENTRY_BYTES 192
#define LL_FRAME_BYTES 160

size_t svc_ll_chunk(const struct svc_ll_entry *e, size_t n, const struct svc_ll_limits *lim)
{
	size_t k = 0, bytes = LL_FRAME_BYTES;

	while (k < n) {
		size_t b = LL_ENTRY_BYTES + strlen(e[k].token) + strlen(e[k].parent);

		if (lim && lim->items && k >= lim->items)
			break;
		if (lim && lim->bytes && k && bytes + b > lim->bytes)
			break;
		bytes += b;
		k++;
	}
	return k;
}

/* The end of the JSON value that starts at p (a string, an object, an array or a scalar). */
static const char *skip_value(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				return p;
			if (!depth)
				return p + 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (!depth)
				return p; /* the end of the container around a scalar */
			if (--depth == 0)
				return p + 1;
		} else if (!depth && *p == ',') {
			return p;
		}
	}
	return p;
}

/* The number in the value (a string or a number) of member key of the object at o, or -1;
 * only the object's own members count, not those of objects inside it. */
static long long member_number(const char *o, const char *key)
{
	size_t kl = strlen(key);
	const char *p = o + 1;

	while (*p) {
		const char *k;
		bool match;

		while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\r' || *p == '\t')
			p++;
		if (*p != '"')
			return -1; /* the end of the object (or not JSON) */
		k = p + 1;
		p = skip_value(p);
		match = (size_t)(p - k) == kl + 1 && !strncmp(k, key, kl);
		while (*p == ' ' || *p == ':')
			p++;
		if (match) {
			char *end;
			long long v = strtoll(*p == '"' ? p + 1 : p, &end, 10);

			if (end == p + (*p == '"'))
				return -1;

			return v < 0 ? -1 : v;
		}
		p = skip_value(p);
	}
	return -1;
}

/* Each object of the answer that names one of the limits: the value it gives. */
static void scan_limits(const char *p, struct svc_ll_limits *l)
{
	static const struct {
		const char *name, *value_key;
		bool items;
	} names[] = {
	    {"\"SendLocalListMaxLength\"", "value", true},
	    {"\"ItemsPerMessage\"", "attributeValue", true},
	    {"\"BytesPerMessage\"", "attributeValue", false},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *hit = strstr(p, names[i].name), *o;
		int depth = 0, levels = 0;
		long long v;

		if (!hit)
			continue;
		/* out to the object that holds the value: 1.6 {"key":K,"value":V}, 2.0.1
		 * {"attributeValue":V,"variable":{"name":K},...} */
		for (o = hit; o >= p && levels < 2; o--) {
			if (*o == '}' || *o == ']') {
				depth++;
			} else if ((*o == '{' || *o == '[') && depth) {
				depth--;
			} else if (*o == '[') {
				break; /* 1.6 unknownKey: a name in a list, no value */
			} else if (*o == '{') {
				levels++;
				v = member_number(o, names[i].value_key);
				if (v >= 0) {
					if (names[i].items)
						l->items = (size_t)v;
					else
						l->bytes = (size_t)v;
					break;
				}
			}
		}
	}
}

int svc_ll_parse_limits(const char *payload, struct svc_ll_limits *ret)
{
	struct svc_ll_limits l = {0};

	if (!payload)
		return -EINVAL;
	scan_limits(payload, &l);
	*ret = l;
	return 0;
}

/* ---------------------------------------------------------------- the exchange */

struct entries {
	struct svc_ll_entry *e;
	size_t n, cap;
};

static int add_entry(const struct store_list_entry *row, void *ud)
{
	struct entries *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct svc_ll_entry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[0]));
	snprintf(l->e[l->n].token, sizeof(l->e[0].token), "%s", row->token);
	l->e[l->n].status = row->status;
	l->e[l->n].expiry_ms = row->expiry_ms;
	snprintf(l->e[l->n].parent, sizeof(l->e[0].parent), "%s", row->parent);
	l->n++;
	return 0;
}

struct sync {
	struct svc *s;
	char station[STATION_ID_MAX + 1];
	struct svc_site_policy policy;
	char site_id[SITE_ID_MAX + 1];
	struct svc_ll_update u;
	struct svc_ll_limits lim; /* per SendLocalList message (GetConfiguration / GetVariables) */
	bool have_lim;
	size_t off, chunk; /* the entries u.entries[off, off + chunk) are in flight */
	bool retried;
	bool tracked; /* in the node's syncs in flight (push->busy) */
	bool again;   /* the tokens changed meanwhile: sync once more when done */
	svc_ll_done_fn done;
	void *ud;
};

#define PUSH_DEBOUNCE_MS  2000
#define PUSH_MAX_DELAY_MS 10000
#define PUSH_SITES_MAX	  64 /* more sites changed at once: push to every site */

/* Token changes waiting for their debounced push, and the syncs in flight. */
struct svc_ll_push {
	struct hmap busy; /* station id -> struct sync (key inside it) */
	bool pending, all;
	int64_t first_ms, due_ms;
	size_t n_sites;
	char sites[PUSH_SITES_MAX][SITE_ID_MAX + 1];
};

static struct svc_ll_push *push_state(struct svc *s)
{
	struct svc_ll_push **pp = svc__ll_push(s);

	if (!*pp)
		*pp = calloc(1, sizeof(**pp));
	return *pp;
}

void svc__ll_push_free(struct svc_ll_push *p)
{
	if (!p)
		return;
	hmap_free(&p->busy);
	free(p);
}

static void finish(struct sync *y, int result)
{
	struct svc *s = y->s;
	char station[STATION_ID_MAX + 1];
	bool again = y->again;

	if (y->tracked)
		hmap_del(&push_state(s)->busy, y->station);
	if (y->done)
		y->done(y->ud, result);
	snprintf(station, sizeof(station), "%s", y->station);
	free(y->u.entries);
	free(y);
	if (again && svc_local_list_sync(s, station, NULL, NULL) < 0)
		log_notice("station %s: local list push not started", station);
}

static void on_sent(void *ud, const struct svc_cmd_result *res);
static void on_limits(void *ud, const struct svc_cmd_result *res);
static void send_chunk(struct sync *y);

/* Compute the update for the station's version and send it, or finish when none is needed. */
static void push(struct sync *y, int64_t station_version)
{
	struct svc *s = y->s;
	struct entries want = {0}, sent = {0};
	int64_t sent_version = -1;
	int r;

	r = store_local_list_version(svc_store(s), y->station, &sent_version);
	if (r == -ENOENT)
		sent_version = -1;
	else if (r < 0)
		goto fail;
	if (store_site_tokens(svc_store(s), y->site_id, y->policy.unbound_tokens,
			      y->policy.local_list_max, add_entry, &want) < 0 ||
	    (sent_version >= 0 &&
	     store_local_list_entries(svc_store(s), y->station, add_entry, &sent) < 0)) {
		r = -EIO;
		goto fail;
	}
	free(y->u.entries);
	y->u = (struct svc_ll_update){0};
	r = svc_ll_plan(want.e, want.n, sent.e, sent.n, sent_version, station_version,
			svc_now_ms(s), &y->u);
	if (r < 0)
		goto fail;
	if (!y->u.send) {
		free(want.e);
		free(sent.e);
		finish(y, 0);
		return;
	}
	free(want.e);
	free(sent.e);
	y->off = 0;
	y->chunk = 0;
	if (y->u.n > 1 && !y->have_lim) {
		struct svc_cmd q = {.kind = SVC_CMD_LOCAL_LIST_LIMITS};

		/* the list may not fit one message: ask the station how much one takes */
		r = svc_cmd_send(s, y->station, &q, "local-list", on_limits, y);
		if (r < 0)
			finish(y, r);
		return;
	}
	send_chunk(y);
	return;
fail:
	free(want.e);
	free(sent.e);
	finish(y, r);
}

/* Send the next message of the update: the first Full (or Differential), the rest Differential
 * at the same version (OCPP 1.6 5.15 / 2.0.1 D01.FR.11: a list longer than the station takes
 * in one message goes in several). */
static void send_chunk(struct sync *y)
{
	struct svc_cmd cmd = {.kind = SVC_CMD_SEND_LOCAL_LIST};
	struct svc_local_entry *le;
	const struct svc_ll_entry *e = y->u.entries + y->off;
	int r;

	y->chunk = svc_ll_chunk(e, y->u.n - y->off, &y->lim);
	le = calloc(y->chunk + 1, sizeof(*le));
	if (!le) {
		finish(y, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < y->chunk; i++) {
		le[i].token = e[i].token;
		le[i].status = e[i].status;
		le[i].expiry_ms = e[i].expiry_ms;
		le[i].parent = e[i].parent[0] ? e[i].parent : NULL;
	}
	cmd.list.version = y->u.version;
	cmd.list.full = y->u.full && y->off == 0;
	cmd.list.entries = le;
	cmd.list.n_entries = y->chunk;
	log_info("station %s: local list %s v%" PRId64 " (entries %zu-%zu of %zu)", y->station,
		 cmd.list.full ? "full" : "differential", y->u.version, y->off, y->off + y->chunk,
		 y->u.n);
	r = svc_cmd_send(y->s, y->station, &cmd, "local-list", on_sent, y);
	free(le);
	if (r < 0)
		finish(y, r);
}

static void on_limits(void *ud, const struct svc_cmd_result *res)
{
	struct sync *y = ud;

	/* a station that does not say (NotSupported, unknown keys) gets the list in one message */
	y->have_lim = true;
	if ((res->status == SVC_RES_ANSWERED || res->status == SVC_RES_ACCEPTED) &&
	    svc_ll_parse_limits(res->payload, &y->lim) < 0)
		y->lim = (struct svc_ll_limits){0};
	if (res->status == SVC_RES_NOT_CONNECTED || res->status == SVC_RES_DISCONNECTED) {
		finish(y, -ENOTCONN);
		return;
	}
	send_chunk(y);
}

static void on_sent(void *ud, const struct svc_cmd_result *res)
{
	struct sync *y = ud;
	struct store_list_entry *e;
	int r;

	if (res->status == SVC_RES_ACCEPTED && y->off + y->chunk < y->u.n) {
		y->off += y->chunk;
		send_chunk(y);
		return;
	}
	if (res->status != SVC_RES_ACCEPTED) {
		/* VersionMismatch or Failed of a differential: once more, in full (a full list cut
		 * short leaves the station at a version the store does not have: the next check
		 * sends it in full again) */
		if (!y->retried && !y->u.full &&
		    (res->status == SVC_RES_REJECTED || res->status == SVC_RES_OTHER)) {
			y->retried = true;
			push(y, -1);
			return;
		}
		log_notice("station %s: local list not taken (%s %s)", y->station,
			   svc_cmd_status_name(res->status), res->station_status);
		finish(y, -EPROTO);
		return;
	}
	e = calloc(y->u.n + 1, sizeof(*e));
	if (!e) {
		finish(y, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < y->u.n; i++) {
		snprintf(e[i].token, sizeof(e[i].token), "%s", y->u.entries[i].token);
		e[i].status = y->u.entries[i].status;
		e[i].expiry_ms = y->u.entries[i].expiry_ms;
		snprintf(e[i].parent, sizeof(e[i].parent), "%s", y->u.entries[i].parent);
	}
	r = store_local_list_save(svc_store(y->s), y->station, y->u.version, y->u.full, e, y->u.n,
				  svc_now_ms(y->s));
	free(e);
	finish(y, r < 0 ? -EIO : 0);
}

static void on_version(void *ud, const struct svc_cmd_result *res)
{
	struct sync *y = ud;
	int64_t v;

	if (res->status != SVC_RES_ANSWERED && res->status != SVC_RES_ACCEPTED) {
		finish(y,
		       res->status == SVC_RES_NOT_CONNECTED || res->status == SVC_RES_DISCONNECTED
			   ? -ENOTCONN
			   : -EPROTO);
		return;
	}
	if (svc_ll_parse_version(res->payload, &v) < 0) {
		finish(y, -EPROTO);
		return;
	}
	push(y, v);
}

int svc_local_list_sync(struct svc *s, const char *station_id, svc_ll_done_fn done, void *ud)
{
	struct svc_cmd cmd = {.kind = SVC_CMD_LOCAL_LIST_VERSION};
	struct store_station st;
	struct sync *y;
	int r = store_station_get(svc_store(s), station_id, &st);

	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EIO;
	y = calloc(1, sizeof(*y));
	if (!y)
		return -ENOMEM;
	y->s = s;
	y->done = done;
	y->ud = ud;
	snprintf(y->station, sizeof(y->station), "%s", station_id);
	snprintf(y->site_id, sizeof(y->site_id), "%s", st.site_id);
	if (svc_site_policy(s, st.site_id, st.site_kind, &y->policy) < 0) {
		free(y);
		return -EIO;
	}
	if (!y->policy.local_list || !st.site_id[0]) {
		finish(y, 0);
		return 0;
	}
	if (!done) {
		/* one background sync per station: a second request waits for the first */
		struct svc_ll_push *p = push_state(s);
		struct sync *busy = p ? hmap_get(&p->busy, station_id) : NULL;

		if (busy) {
			busy->again = true;
			free(y);
			return 0;
		}
		if (p && hmap_put(&p->busy, y->station, y) == 0)
			y->tracked = true;
	}
	r = svc_cmd_send(s, station_id, &cmd, "local-list", on_version, y);
	if (r < 0) {
		if (y->tracked)
			hmap_del(&push_state(s)->busy, y->station);
		free(y);
		return r;
	}
	return 0;
}

void svc__ll_station_ready(struct svc *s, struct chg_station *st)
{
	int r;

	if (st->ll_checked || st->registration != REG_ACCEPTED || !st->site_id[0])
		return;
	st->ll_checked = true;
	if (st->site_kind != SITE_RURAL) {
		struct svc_site_policy p;

		/* other kinds keep a list only when their site says so (read at the boot that
		 * this connection's first status or heartbeat follows) */
		if (st->ll_policy == 0)
			return;
		if (st->ll_policy < 0 &&
		    (svc_site_policy(s, st->site_id, st->site_kind, &p) < 0 || !p.local_list))
			return;
	}
	r = svc_local_list_sync(s, st->id, NULL, NULL);
	if (r < 0)
		log_notice("station %s: local list check not started: %d", st->id, r);
}

/* ---------------------------------------------------------------- token changes */

void svc_locallist_tokens_changed(struct svc *svc, const char *site_id_or_null)
{
	struct svc_ll_push *p = push_state(svc);
	int64_t now = svc_now_ms(svc);
	size_t i;

	if (!p)
		return; /* out of memory: the next reconnect or sync brings the lists up to date */
	if (!p->pending)
		p->first_ms = now;
	p->pending = true;
	p->due_ms = now + PUSH_DEBOUNCE_MS;
	if (p->due_ms > p->first_ms + PUSH_MAX_DELAY_MS)
		p->due_ms = p->first_ms + PUSH_MAX_DELAY_MS;
	if (!site_id_or_null || !*site_id_or_null) {
		p->all =
		    true; /* a token of no site is valid at every site that takes unbound ones */
		return;
	}
	for (i = 0; i < p->n_sites && strcmp(p->sites[i], site_id_or_null); i++)
		;
	if (i < p->n_sites)
		return;
	if (p->n_sites == PUSH_SITES_MAX || strlen(site_id_or_null) > SITE_ID_MAX) {
		p->all = true;
		return;
	}
	snprintf(p->sites[p->n_sites++], sizeof(p->sites[0]), "%s", site_id_or_null);
}

struct due {
	struct svc *s;
	const struct svc_ll_push *p;
	char (*ids)[STATION_ID_MAX + 1];
	size_t n, cap;
	bool oom;
};

static void due_station(struct chg_station *st, void *ud)
{
	struct due *d = ud;
	bool hit = d->p->all;

	if (st->registration != REG_ACCEPTED || !st->site_id[0] || !st->ll_checked)
		return; /* not up yet: its first message after boot checks its list anyway */
	for (size_t i = 0; !hit && i < d->p->n_sites; i++)
		hit = !strcmp(d->p->sites[i], st->site_id);
	if (!hit)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		char(*ids)[STATION_ID_MAX + 1] = realloc(d->ids, cap * sizeof(*ids));

		if (!ids) {
			d->oom = true;
			return;
		}
		d->ids = ids;
		d->cap = cap;
	}
	snprintf(d->ids[d->n++], sizeof(d->ids[0]), "%s", st->id);
}

void svc_locallist_tick(struct svc *s)
{
	struct svc_ll_push *p = *svc__ll_push(s);
	struct due d = {.s = s, .p = p};

	if (!p || !p->pending || svc_now_ms(s) < p->due_ms)
		return;
	/* the stations first: a sync may answer at once (not connected) and detach nothing, but
	 * the list of ids is walked without holding the station table */
	svc_stations_each(s, due_station, &d);
	if (d.oom) {
		free(d.ids);
		return; /* still pending: the next tick tries again */
	}
	p->pending = p->all = false;
	p->n_sites = 0;
	for (size_t i = 0; i < d.n; i++) {
		int r = svc_local_list_sync(s, d.ids[i], NULL, NULL);

		if (r < 0)
			log_notice("station %s: local list push not started: %d", d.ids[i], r);
	}
	if (d.n)
		log_info("local lists: tokens changed, %zu station(s) checked", d.n);
	free(d.ids);
}
