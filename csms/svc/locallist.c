/* SPDX-License-Identifier: MIT */
/* The local authorization list of a station: built from the tokens valid at its site, versioned,
 * pushed with SendLocalList (differential, full on a version mismatch), checked with
 * GetLocalListVersion after each boot or reconnect. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	bool retried;
	svc_ll_done_fn done;
	void *ud;
};

static void finish(struct sync *y, int result)
{
	if (y->done)
		y->done(y->ud, result);
	free(y->u.entries);
	free(y);
}

static void on_sent(void *ud, const struct svc_cmd_result *res);

/* Compute the update for the station's version and send it, or finish when none is needed. */
static void push(struct sync *y, int64_t station_version)
{
	struct svc *s = y->s;
	struct entries want = {0}, sent = {0};
	struct svc_local_entry *le = NULL;
	struct svc_cmd cmd = {.kind = SVC_CMD_SEND_LOCAL_LIST};
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
	le = calloc(y->u.n + 1, sizeof(*le));
	if (!le) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < y->u.n; i++) {
		le[i].token = y->u.entries[i].token;
		le[i].status = y->u.entries[i].status;
		le[i].expiry_ms = y->u.entries[i].expiry_ms;
		le[i].parent = y->u.entries[i].parent[0] ? y->u.entries[i].parent : NULL;
	}
	cmd.list.version = y->u.version;
	cmd.list.full = y->u.full;
	cmd.list.entries = le;
	cmd.list.n_entries = y->u.n;
	log_info("station %s: local list %s v%" PRId64 " (%zu entries, station had v%" PRId64 ")",
		 y->station, y->u.full ? "full" : "differential", y->u.version, y->u.n,
		 station_version);
	r = svc_cmd_send(s, y->station, &cmd, "local-list", on_sent, y);
	free(le);
	free(want.e);
	free(sent.e);
	if (r < 0)
		finish(y, r);
	return;
fail:
	free(want.e);
	free(sent.e);
	finish(y, r);
}

static void on_sent(void *ud, const struct svc_cmd_result *res)
{
	struct sync *y = ud;
	struct store_list_entry *e;
	int r;

	if (res->status != SVC_RES_ACCEPTED) {
		/* VersionMismatch or Failed of a differential: once more, in full */
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
	r = svc_cmd_send(s, station_id, &cmd, "local-list", on_version, y);
	if (r < 0) {
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

		/* other kinds keep a list only when their site says so */
		if (svc_site_policy(s, st->site_id, st->site_kind, &p) < 0 || !p.local_list)
			return;
	}
	r = svc_local_list_sync(s, st->id, NULL, NULL);
	if (r < 0)
		log_notice("station %s: local list check not started: %d", st->id, r);
}

/* Wired by the local-list push (the swap task's svc_locallist_tokens_changed replaces this):
 * until then a change is only noted; stations get it at their next list check. */
void svc_locallist_tokens_changed(struct svc *svc, const char *site_id_or_null)
{
	(void)svc;
	log_debug("id tokens of %s changed", site_id_or_null ? site_id_or_null : "every site");
}
