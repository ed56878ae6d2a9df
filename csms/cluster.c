/* SPDX-License-Identifier: MIT */
/* Several nodes on one PostgreSQL: leases, takeovers, commands and live events across nodes
 * through LISTEN/NOTIFY (docs/scaling.md). */
#include "cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "conn.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "link_conn.h"
#include "store/store.h"
#include "svc/svc.h"

#define CLUSTER_TICK_MS 100 /* command deadlines, lease renewal, LISTEN reconnect */
#define CLUSTER_LIVE_MS 20  /* live events of a node are batched this long at most */
/* A node with /api/live subscribers says so this often (csms_live_want); the others publish
 * their events for three times as long after hearing it, and not at all otherwise */
#define CLUSTER_LIVE_WANT_MS 10000
#define CLUSTER_LIVE_MAX     7600 /* one NOTIFY payload (PostgreSQL's limit is 8000 bytes) */
#define CLUSTER_GRACE_MS     1000 /* a routed command waits call_timeout_ms + this */
#define CLUSTER_PENDING_MAX  4096 /* routed commands waiting for other nodes */
#define CLUSTER_PW_MAX	     64	  /* a sealed password's clear text, at most */

/* A command sent to another node, until its answer row arrives or its deadline. */
struct remote_cmd {
	struct remote_cmd *next;
	int64_t id; /* node_commands.id */
	int64_t deadline_ms;
	svc_link_done_fn done;
	void *ud;
	char action[48];
};

/* A command another node asked this one to send, until the station answers. */
struct owner_cmd {
	struct cluster *c;
	int64_t id;
};

struct cluster {
	uv_loop_t *loop;
	struct store *store;
	struct svc *svc;
	const struct cfg *cfg;
	char node[STORE_NODE_ID_MAX + 1];
	bool active;	   /* the store notifies: several nodes may share it */
	bool polling;	   /* poll is watching the LISTEN connection */
	bool poll_closing; /* poll is being closed: not to be initialised yet */
	bool handles;	   /* the uv handles are initialised */
	bool test_deaf;	   /* CSMS_TEST_IGNORE_TAKEOVER names this node: csms_owner ignored */
	EVP_PKEY *key;	   /* this node's X25519 key: passwords are sealed to its public half */
	char key_hex[STORE_NODE_KEY_MAX + 1];
	uv_poll_t poll;	   /* the LISTEN connection */
	uv_timer_t tick;   /* deadlines, renewal */
	uv_timer_t live_t; /* flushes the batch of live events */
	int64_t next_renew_ms;
	struct remote_cmd *pending_head, *pending_tail;
	size_t n_pending;
	svc_event_fn live_fn;
	bool (*live_watched)(void *ud); /* this node has /api/live subscribers */
	void *live_ud;
	int64_t live_want_sent;	   /* when this node last said it has subscribers, 0: not now */
	int64_t live_wanted_until; /* another node has subscribers: publish until then */
	uint64_t live_dropped;	   /* events not published: no subscriber anywhere else */
	char live_buf[CLUSTER_LIVE_MAX + 512];
	size_t live_len;
	unsigned live_n;
};

void cluster_default_node_id(const struct cfg *cfg, char *buf, size_t len)
{
	char host[64] = "localhost";

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (cfg->listen_port)
		snprintf(buf, len, "%s:%d", host, cfg->listen_port);
	else
		snprintf(buf, len, "%s:pid%d", host, (int)getpid());
}

bool cluster_active(const struct cluster *c)
{
	return c && c->active;
}

/* ---------------------------------------------------------------- commands as JSON */

static json_t *cmd_json(const struct svc_cmd *cmd)
{
	json_t *periods = json_array(), *entries = json_array(), *o;

	for (size_t i = 0; periods && i < cmd->profile.n_periods && i < SVC_PROFILE_PERIODS_MAX;
	     i++)
		json_array_append_new(
		    periods, json_pack("[I,I,i]", (json_int_t)cmd->profile.periods[i].start_s,
				       (json_int_t)cmd->profile.periods[i].limit,
				       cmd->profile.periods[i].phases));
	for (size_t i = 0; entries && i < cmd->list.n_entries; i++) {
		const struct svc_local_entry *e = &cmd->list.entries[i];

		json_array_append_new(entries, json_pack("[s,i,I,s?]", e->token, e->status,
							 (json_int_t)e->expiry_ms, e->parent));
	}
	o = json_pack("{s:i, s:i, s:i, s:s?, s:I, s:s, s:I, s:b, s:b, s:i, s:I, s:i, s:o}", "kind",
		      cmd->kind, "evse", cmd->evse_id, "connector", cmd->connector_id, "id_tag",
		      cmd->id_tag, "session", (json_int_t)cmd->session_id, "tx", cmd->station_tx_id,
		      "request", (json_int_t)cmd->request_id, "hard", cmd->hard, "operative",
		      cmd->operative, "trigger", cmd->trigger, "duration",
		      (json_int_t)cmd->duration_s, "rate_unit", cmd->rate_unit, "profile",
		      json_pack("{s:I, s:i, s:i, s:I, s:I, s:i, s:o*}", "id",
				(json_int_t)cmd->profile.id, "purpose", cmd->profile.purpose,
				"stack", cmd->profile.stack_level, "start",
				(json_int_t)cmd->profile.start_ms, "duration",
				(json_int_t)cmd->profile.duration_s, "unit", cmd->profile.rate_unit,
				"periods", periods));
	if (!o) {
		json_decref(entries);
		return NULL;
	}
	json_object_set_new(o, "clear",
			    json_pack("{s:b, s:I, s:i, s:i}", "has_id", cmd->clear.has_id, "id",
				      (json_int_t)cmd->clear.id, "purpose", cmd->clear.purpose,
				      "stack", cmd->clear.stack_level));
	json_object_set_new(o, "list",
			    json_pack("{s:I, s:b, s:o*}", "version", (json_int_t)cmd->list.version,
				      "full", cmd->list.full, "entries", entries));
	json_object_set_new(o, "reservation", json_integer(cmd->reservation_id));
	json_object_set_new(o, "expiry", json_integer(cmd->expiry_ms));
	json_object_set_new(o, "recur", json_integer(cmd->profile.recurrency));
	json_object_set_new(o, "report",
			    json_pack("{s:b, s:i, s:i}", "has_evse", cmd->report.has_evse,
				      "purpose", cmd->report.purpose, "stack",
				      cmd->report.stack_level));
	json_object_set_new(o, "v2g",
			    json_pack("{s:i, s:I, s:I}", "mode", cmd->v2g.mode, "setpoint",
				      (json_int_t)cmd->v2g.setpoint_w, "until",
				      (json_int_t)cmd->v2g.valid_until_ms));
	if (cmd->raw.action)
		json_object_set_new(o, "raw_action", json_string(cmd->raw.action));
	if (cmd->raw.payload)
		json_object_set_new(o, "raw_payload", json_string(cmd->raw.payload));
	return o;
}

static int64_t j_i64(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *j_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The command in o (borrowed: strings point into o); entries gets the list (free it). */
static int cmd_from_json(const json_t *o, struct svc_cmd *cmd, struct svc_local_entry **entries)
{
	const json_t *p = json_object_get(o, "profile"), *cl = json_object_get(o, "clear");
	const json_t *li = json_object_get(o, "list"), *a;
	size_t i, n;

	memset(cmd, 0, sizeof(*cmd));
	*entries = NULL;
	if (!json_is_object(o) || !json_is_object(p) || !json_is_object(cl) || !json_is_object(li))
		return -EINVAL;
	cmd->kind = (int)j_i64(o, "kind");
	cmd->evse_id = (int)j_i64(o, "evse");
	cmd->connector_id = (int)j_i64(o, "connector");
	cmd->id_tag = j_str(o, "id_tag");
	cmd->session_id = j_i64(o, "session");
	snprintf(cmd->station_tx_id, sizeof(cmd->station_tx_id), "%s",
		 j_str(o, "tx") ? j_str(o, "tx") : "");
	cmd->request_id = j_i64(o, "request");
	cmd->hard = json_is_true(json_object_get(o, "hard"));
	cmd->operative = json_is_true(json_object_get(o, "operative"));
	cmd->trigger = (int)j_i64(o, "trigger");
	cmd->duration_s = j_i64(o, "duration");
	cmd->rate_unit = (int)j_i64(o, "rate_unit");
	cmd->profile.id = j_i64(p, "id");
	cmd->profile.purpose = (int)j_i64(p, "purpose");
	cmd->profile.stack_level = (int)j_i64(p, "stack");
	cmd->profile.start_ms = j_i64(p, "start");
	cmd->profile.duration_s = j_i64(p, "duration");
	cmd->profile.rate_unit = (int)j_i64(p, "unit");
	cmd->profile.recurrency = (int)j_i64(o, "recur");
	{
		const json_t *rp = json_object_get(o, "report");

		cmd->report.has_evse = json_is_true(json_object_get(rp, "has_evse"));
		cmd->report.purpose = rp ? (int)j_i64(rp, "purpose") : -1;
		cmd->report.stack_level = rp ? (int)j_i64(rp, "stack") : -1;
	}
	cmd->v2g.mode = (int)j_i64(json_object_get(o, "v2g"), "mode");
	cmd->v2g.setpoint_w = j_i64(json_object_get(o, "v2g"), "setpoint");
	cmd->v2g.valid_until_ms = j_i64(json_object_get(o, "v2g"), "until");
	json_array_foreach(json_object_get(p, "periods"), i, a) {
		if (i >= SVC_PROFILE_PERIODS_MAX)
			break;
		cmd->profile.periods[i].start_s = json_integer_value(json_array_get(a, 0));
		cmd->profile.periods[i].limit = json_integer_value(json_array_get(a, 1));
		cmd->profile.periods[i].phases = (int)json_integer_value(json_array_get(a, 2));
		cmd->profile.n_periods = i + 1;
	}
	cmd->clear.has_id = json_is_true(json_object_get(cl, "has_id"));
	cmd->clear.id = j_i64(cl, "id");
	cmd->clear.purpose = (int)j_i64(cl, "purpose");
	cmd->clear.stack_level = (int)j_i64(cl, "stack");
	cmd->list.version = j_i64(li, "version");
	cmd->list.full = json_is_true(json_object_get(li, "full"));
	n = json_array_size(json_object_get(li, "entries"));
	if (n) {
		*entries = calloc(n, sizeof(**entries));
		if (!*entries)
			return -ENOMEM;
		json_array_foreach(json_object_get(li, "entries"), i, a) {
			(*entries)[i].token = json_string_value(json_array_get(a, 0));
			(*entries)[i].status = (int)json_integer_value(json_array_get(a, 1));
			(*entries)[i].expiry_ms = json_integer_value(json_array_get(a, 2));
			(*entries)[i].parent = json_string_value(json_array_get(a, 3));
			if (!(*entries)[i].token)
				(*entries)[i].token = "";
		}
		cmd->list.entries = *entries;
		cmd->list.n_entries = n;
	}
	cmd->reservation_id = j_i64(o, "reservation");
	cmd->expiry_ms = j_i64(o, "expiry");
	cmd->raw.action = j_str(o, "raw_action");
	cmd->raw.payload = j_str(o, "raw_payload");
	return 0;
}

/* ---------------------------------------------------------------- sealed passwords */

/*
** A station's new password crosses the database only sealed to the owning node's public key
** (docs/scaling.md): the requester makes a one-time X25519 key, derives a shared secret with
** the owner's published key, and encrypts with AES-256-GCM under SHA-256(label, secret, both
** public keys), the station and the owner's node id as associated data. The owner's private
** key lives in its memory only (a new one at each start), so neither the database, its WAL nor
** a backup can give the password back.
*/
#define SEAL_LABEL "csms set-password v1"

static void hex_of(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Exactly n bytes from hex text; 0 or -EINVAL. */
static int bytes_of(const char *hex, unsigned char *b, size_t n)
{
	if (!hex || strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = (unsigned char)v;
	}
	return 0;
}

/* The AES key of mine (private) and peer (public hex), over pub_a then pub_b. */
static int seal_key(EVP_PKEY *mine, const char *peer_hex, const char *pub_a, const char *pub_b,
		    unsigned char key[32])
{
	unsigned char raw[32], secret[32], buf[sizeof(SEAL_LABEL) + 32 + 2 * 64];
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *dc = NULL;
	size_t slen = sizeof(secret), n = 0;
	int r = -EIO;

	if (bytes_of(peer_hex, raw, sizeof(raw)) < 0)
		return -EINVAL;
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw, sizeof(raw));
	dc = peer ? EVP_PKEY_CTX_new(mine, NULL) : NULL;
	if (!dc || EVP_PKEY_derive_init(dc) <= 0 || EVP_PKEY_derive_set_peer(dc, peer) <= 0 ||
	    EVP_PKEY_derive(dc, secret, &slen) <= 0 || slen != sizeof(secret))
		goto out;
	memcpy(buf, SEAL_LABEL, sizeof(SEAL_LABEL));
	n = sizeof(SEAL_LABEL);
	memcpy(buf + n, secret, sizeof(secret));
	n += sizeof(secret);
	memcpy(buf + n, pub_a, 64);
	n += 64;
	memcpy(buf + n, pub_b, 64);
	n += 64;
	if (EVP_Digest(buf, n, key, NULL, EVP_sha256(), NULL) == 1)
		r = 0;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(buf, sizeof(buf));
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_free(peer);
	return r;
}

/* A new X25519 key and its public half in hex (65 bytes). */
static EVP_PKEY *key_new(char *ret_hex)
{
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	EVP_PKEY *k = NULL;
	unsigned char raw[32];
	size_t len = sizeof(raw);

	if (!kc || EVP_PKEY_keygen_init(kc) <= 0 || EVP_PKEY_keygen(kc, &k) <= 0 ||
	    EVP_PKEY_get_raw_public_key(k, raw, &len) <= 0 || len != sizeof(raw)) {
		EVP_PKEY_free(k);
		k = NULL;
	} else {
		hex_of(raw, sizeof(raw), ret_hex);
	}
	EVP_PKEY_CTX_free(kc);
	return k;
}

/* password sealed to node (its published key) for station: a new JSON object, or NULL. */
static json_t *seal_password(struct cluster *c, const char *node, const char *station,
			     const char *password)
{
	char peer[STORE_NODE_KEY_MAX + 1], eph_hex[65], ct_hex[2 * CLUSTER_PW_MAX + 1];
	char iv_hex[25], tag_hex[33];
	unsigned char key[32], iv[12], ct[CLUSTER_PW_MAX], tag[16];
	size_t n = password ? strlen(password) : 0;
	EVP_PKEY *eph = NULL;
	EVP_CIPHER_CTX *x = NULL;
	json_t *o = NULL;
	int len = 0, fin = 0;

	if (!n || n > CLUSTER_PW_MAX || store_node_key_get(c->store, node, peer) < 0 ||
	    strlen(peer) != 64)
		return NULL;
	eph = key_new(eph_hex);
	if (!eph || seal_key(eph, peer, eph_hex, peer, key) < 0 || RAND_bytes(iv, sizeof(iv)) != 1)
		goto out;
	x = EVP_CIPHER_CTX_new();
	if (!x || EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &len, (const unsigned char *)station,
			      (int)strlen(station)) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &len, (const unsigned char *)node, (int)strlen(node)) != 1 ||
	    EVP_EncryptUpdate(x, ct, &len, (const unsigned char *)password, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(x, ct + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag) != 1)
		goto out;
	hex_of(ct, (size_t)(len + fin), ct_hex);
	hex_of(iv, sizeof(iv), iv_hex);
	hex_of(tag, sizeof(tag), tag_hex);
	o = json_pack("{s:s, s:s, s:s, s:s}", "k", eph_hex, "n", iv_hex, "c", ct_hex, "t", tag_hex);
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(x);
	EVP_PKEY_free(eph);
	return o;
}

/* The password sealed to this node for station into out (len bytes); 0 or -EINVAL/-EIO. */
static int open_password(struct cluster *c, const json_t *o, const char *station, char *out,
			 size_t len)
{
	const char *eph = j_str(o, "k"), *ct_hex = j_str(o, "c");
	unsigned char key[32], iv[12], ct[CLUSTER_PW_MAX], tag[16], pt[CLUSTER_PW_MAX];
	size_t n = ct_hex ? strlen(ct_hex) / 2 : 0;
	EVP_CIPHER_CTX *x = NULL;
	int l = 0, fin = 0, r = -EINVAL;

	if (!c->key || !eph || !n || n > sizeof(ct) || n >= len || bytes_of(ct_hex, ct, n) < 0 ||
	    bytes_of(j_str(o, "n"), iv, sizeof(iv)) < 0 ||
	    bytes_of(j_str(o, "t"), tag, sizeof(tag)) < 0 || strlen(eph) != 64)
		return -EINVAL;
	if (seal_key(c->key, eph, eph, c->key_hex, key) < 0)
		return -EIO;
	x = EVP_CIPHER_CTX_new();
	if (!x || EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, iv) != 1 ||
	    EVP_DecryptUpdate(x, NULL, &l, (const unsigned char *)station, (int)strlen(station)) !=
		1 ||
	    EVP_DecryptUpdate(x, NULL, &l, (const unsigned char *)c->node, (int)strlen(c->node)) !=
		1 ||
	    EVP_DecryptUpdate(x, pt, &l, ct, (int)n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, sizeof(tag), tag) != 1 ||
	    EVP_DecryptFinal_ex(x, pt + l, &fin) != 1)
		goto out; /* not for this node's key (it restarted), or tampered with */
	memcpy(out, pt, (size_t)(l + fin));
	out[l + fin] = '\0';
	r = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(pt, sizeof(pt));
	EVP_CIPHER_CTX_free(x);
	return r;
}

/* ---------------------------------------------------------------- the owner's side */

static void owner_done(void *ud, const struct svc_cmd_result *res)
{
	struct owner_cmd *k = ud;
	json_t *o = json_pack("{s:i, s:s, s:s, s:s?, s:s, s:s}", "status", res->status,
			      "station_status", res->station_status, "action", res->action,
			      "payload", res->payload, "code", res->code, "detail", res->detail);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	/* the requester hears of it when this node's next group commit makes it durable */
	if (!text || store_rcmd_done(k->c->store, k->id, text, svc_now_ms(k->c->svc)) < 0)
		log_err("cluster: cannot record the answer of routed command %" PRId64 ": %s",
			k->id, text ? store_errmsg(k->c->store) : "out of memory");
	free(text);
	json_decref(o);
	free(k);
}

/* Another node asks this one to send command id to a station connected here. */
static void owner_run(struct cluster *c, int64_t id)
{
	char station[STATION_ID_MAX + 1], *request = NULL, password[CLUSTER_PW_MAX + 1] = "";
	struct svc_local_entry *entries = NULL;
	struct owner_cmd *k = NULL;
	struct svc_cmd cmd;
	json_t *o = NULL;
	int r = store_rcmd_claim(c->store, id, station, &request);

	if (r == -ENOENT)
		return; /* claimed already, or not for this node */
	if (r < 0) {
		log_err("cluster: cannot claim routed command %" PRId64 ": %s", id,
			store_errmsg(c->store));
		return;
	}
	o = json_loads(request, JSON_REJECT_DUPLICATES, NULL);
	k = calloc(1, sizeof(*k));
	if (!k)
		goto out;
	k->c = c;
	k->id = id;
	if (!o || cmd_from_json(o, &cmd, &entries) < 0) {
		struct svc_cmd_result res = {.status = SVC_RES_FAILED};

		snprintf(res.detail, sizeof(res.detail), "routed command %" PRId64 " unreadable",
			 id);
		owner_done(k, &res);
		goto out;
	}
	if (cmd.kind == SVC_CMD_SET_PASSWORD) {
		if (open_password(c, json_object_get(o, "pw"), station, password,
				  sizeof(password)) < 0) {
			struct svc_cmd_result res = {.status = SVC_RES_FAILED};

			snprintf(res.detail, sizeof(res.detail),
				 "node %s cannot open the sealed password", c->node);
			owner_done(k, &res);
			goto out;
		}
		cmd.password = password;
	}
	/* still ours? (a newer connection elsewhere may have taken it, its NOTIFY not here yet) */
	r = store_owner_held(c->store, station);
	if (r <= 0) {
		struct svc_cmd_result res = {.status =
						 r < 0 ? SVC_RES_FAILED : SVC_RES_NOT_CONNECTED};

		snprintf(res.detail, sizeof(res.detail), "station %s is not held by node %s now",
			 station, c->node);
		owner_done(k, &res);
		goto out;
	}
	/* the station's adapter encodes it and the connection sends it, as for a local command */
	r = link_conn_ops.send(c->svc, station, &cmd, owner_done, k);
	if (r < 0) {
		struct svc_cmd_result res = {.status = SVC_RES_FAILED};

		snprintf(res.detail, sizeof(res.detail), "%s", strerror(-r));
		owner_done(k, &res);
	}
out:
	OPENSSL_cleanse(password, sizeof(password));
	free(entries);
	json_decref(o);
	free(request);
}

/* ---------------------------------------------------------------- the requester's side */

static void pending_unlink(struct cluster *c, struct remote_cmd *prev, struct remote_cmd *q)
{
	if (prev)
		prev->next = q->next;
	else
		c->pending_head = q->next;
	if (c->pending_tail == q)
		c->pending_tail = prev;
	c->n_pending--;
}

static void remote_answer(struct cluster *c, int64_t id)
{
	struct remote_cmd *q, *prev = NULL;
	struct svc_cmd_result res = {.status = SVC_RES_FAILED};
	char *text = NULL;
	json_t *o = NULL;
	int r;

	for (q = c->pending_head; q && q->id != id; prev = q, q = q->next)
		;
	r = store_rcmd_take(c->store, id, &text);
	if (!q) {
		free(text); /* timed out already: the row is gone now */
		return;
	}
	if (r == -ENOENT) /* not ours (another requester of the same node id?) */
		return;
	pending_unlink(c, prev, q);
	if (r < 0) {
		snprintf(res.detail, sizeof(res.detail), "cannot read the answer: %s",
			 store_errmsg(c->store));
	} else if (!(o = json_loads(text, JSON_REJECT_DUPLICATES, NULL))) {
		snprintf(res.detail, sizeof(res.detail), "unreadable answer");
	} else {
		res.status = (int)j_i64(o, "status");
		if (res.status < 0 || res.status >= _SVC_RES_MAX)
			res.status = SVC_RES_FAILED;
		snprintf(res.station_status, sizeof(res.station_status), "%s",
			 j_str(o, "station_status") ? j_str(o, "station_status") : "");
		snprintf(res.action, sizeof(res.action), "%s",
			 j_str(o, "action") ? j_str(o, "action") : q->action);
		snprintf(res.code, sizeof(res.code), "%s",
			 j_str(o, "code") ? j_str(o, "code") : "");
		snprintf(res.detail, sizeof(res.detail), "%s",
			 j_str(o, "detail") ? j_str(o, "detail") : "");
		res.payload = j_str(o, "payload");
	}
	q->done(q->ud, &res);
	json_decref(o);
	free(text);
	free(q);
}

static void fail_now(svc_link_done_fn done, void *ud, int status, const char *detail)
{
	struct svc_cmd_result res = {.status = status};

	snprintf(res.detail, sizeof(res.detail), "%s", detail);
	done(ud, &res);
}

/* The station is connected here but this node no longer holds it: if another node does (a
 * takeover whose NOTIFY has not arrived), let go of the stale connection as on_notify() would
 * and name that node in ret_node (1); else 0 (no current lease anywhere, or a failure). */
static int held_elsewhere(struct cluster *c, const char *station_id, struct chg_station *st,
			  char *ret_node)
{
	int64_t epoch;

	if (store_owner_get(c->store, station_id, ret_node, &epoch) < 0 ||
	    !strcmp(ret_node, c->node))
		return 0;
	if (store_owner_lost(c->store, station_id, epoch) > 0 && st->conn) {
		log_notice("[cp %s] held by node %s now (seen before a command): closing this "
			   "connection",
			   station_id, ret_node);
		conn_close(st->conn, 1000, "connected to another node");
	}
	return 1;
}

static int cluster_send(void *impl, const char *station_id, const struct svc_cmd *cmd,
			svc_link_done_fn done, void *ud)
{
	struct cluster *c = impl;
	struct chg_station *st = svc_station_find(c->svc, station_id);
	char node[STORE_NODE_ID_MAX + 1];
	struct remote_cmd *q;
	json_t *o, *sealed = NULL;
	char *text;
	int64_t epoch, id;
	int r;

	if (!c->active)
		return link_conn_ops.send(c->svc, station_id, cmd, done, ud);
	if (st && st->conn) {
		/* before a CSMS-initiated CALL: the committed row still names this node at the
		 * epoch it took the station with (one read; docs/scaling.md). Not answered from
		 * the owned-set while the lease is fresh: a takeover never waits for the lease, so
		 * only the row tells a takeover whose NOTIFY has not come yet (docs/postgresql.md
		 * "The ownership check before a command": one round trip, 10-25 us of CPU) */
		r = store_owner_held(c->store, station_id);
		if (r > 0)
			return link_conn_ops.send(c->svc, station_id, cmd, done, ud);
		if (r < 0) {
			fail_now(done, ud, SVC_RES_FAILED, "cannot check the station's node");
			return 0;
		}
		if (!held_elsewhere(c, station_id, st, node)) {
			fail_now(done, ud, SVC_RES_BUSY,
				 "the station's lease on this node is not current: try again");
			return 0;
		}
	} else {
		r = store_owner_get(c->store, station_id, node, &epoch);
		if (r == -ENOENT || (r == 0 && !strcmp(node, c->node)))
			return link_conn_ops.send(c->svc, station_id, cmd, done,
						  ud); /* not connected */
		if (r < 0) {
			fail_now(done, ud, SVC_RES_FAILED, "cannot look the station's node up");
			return 0;
		}
	}
	if (c->n_pending >= CLUSTER_PENDING_MAX) {
		fail_now(done, ud, SVC_RES_BUSY, "too many commands routed to other nodes");
		return 0;
	}
	if (cmd->kind == SVC_CMD_SET_PASSWORD) {
		/* a password crosses the database only sealed to the owner's key */
		sealed = seal_password(c, node, station_id, cmd->password);
		if (!sealed) {
			fail_now(done, ud, SVC_RES_FAILED, "cannot seal the password to its node");
			return 0;
		}
	}
	o = cmd_json(cmd);
	if (o && sealed)
		json_object_set_new(o, "pw", sealed);
	else
		json_decref(sealed);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	q = text ? calloc(1, sizeof(*q)) : NULL;
	if (!q) {
		free(text);
		return -ENOMEM;
	}
	r = store_rcmd_add(c->store, node, station_id, text, svc_now_ms(c->svc), &id);
	free(text);
	if (r < 0) {
		free(q);
		fail_now(done, ud, SVC_RES_FAILED, "cannot route the command to its node");
		return 0;
	}
	q->id = id;
	q->deadline_ms = clock_mono_ms() + c->cfg->call_timeout_ms + CLUSTER_GRACE_MS;
	q->done = done;
	q->ud = ud;
	snprintf(q->action, sizeof(q->action), "%s",
		 cmd->kind == SVC_CMD_RAW && cmd->raw.action ? cmd->raw.action : "");
	if (c->pending_tail)
		c->pending_tail->next = q;
	else
		c->pending_head = q;
	c->pending_tail = q;
	c->n_pending++;
	log_debug("cluster: command %" PRId64 " for %s routed to %s", id, station_id, node);
	return 0;
}

const struct svc_link_ops cluster_link_ops = {
    .version = 1,
    .send = cluster_send,
};

/* ---------------------------------------------------------------- live events */

static json_t *event_json(const struct svc_event *ev)
{
	return json_pack("{s:i, s:s, s:i, s:i, s:s, s:s, s:I, s:I, s:I, s:f, s:I}", "k", ev->kind,
			 "s", ev->station, "e", ev->evse_id, "c", ev->connector_id, "st",
			 ev->status, "d", ev->detail, "sid", (json_int_t)ev->session_id, "lid",
			 (json_int_t)ev->log_id, "wh", (json_int_t)ev->energy_wh, "p", ev->power_w,
			 "t", (json_int_t)ev->ts_ms);
}

static void live_flush(struct cluster *c)
{
	int r;

	if (!c->live_n)
		return;
	c->live_buf[c->live_len++] = ']';
	c->live_buf[c->live_len] = '\0';
	r = store_notify(c->store, "csms_live", c->live_buf);
	if (r < 0)
		log_warn("cluster: %u live event(s) not published: %s", c->live_n,
			 store_errmsg(c->store));
	c->live_len = 0;
	c->live_n = 0;
}

static void on_live_timer(uv_timer_t *t)
{
	live_flush(t->data);
}

/* A committed event of this node: to the other nodes' dashboards, batched. */
static void on_local_event(void *ud, const struct svc_event *ev)
{
	struct cluster *c = ud;
	json_t *o;
	char *text;
	size_t n;

	/* nobody watches elsewhere: a NOTIFY would wake every node's listener for nothing */
	if (clock_mono_ms() >= c->live_wanted_until) {
		c->live_dropped++;
		return;
	}
	o = event_json(ev);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	n = text ? strlen(text) : 0;
	json_decref(o);
	if (!text)
		return;
	if (c->live_n && c->live_len + n + 2 > CLUSTER_LIVE_MAX)
		live_flush(c);
	if (!c->live_n) {
		c->live_len = (size_t)snprintf(c->live_buf, sizeof(c->live_buf), "%s\t[", c->node);
		uv_timer_start(&c->live_t, on_live_timer, CLUSTER_LIVE_MS, 0);
	} else {
		c->live_buf[c->live_len++] = ',';
	}
	if (c->live_len + n + 2 < sizeof(c->live_buf)) {
		memcpy(c->live_buf + c->live_len, text, n);
		c->live_len += n;
		c->live_n++;
	}
	free(text);
}

/* Events another node published; its network power goes out with that node's id in station
 * (the API sums the nodes' figures). */
static void remote_events(struct cluster *c, const char *node, const char *json)
{
	json_t *a = json_loads(json, JSON_REJECT_DUPLICATES, NULL), *o;
	size_t i;

	json_array_foreach(a, i, o) {
		struct svc_event ev = {
		    .kind = (int)j_i64(o, "k"),
		    .evse_id = (int)j_i64(o, "e"),
		    .connector_id = (int)j_i64(o, "c"),
		    .session_id = j_i64(o, "sid"),
		    .log_id = j_i64(o, "lid"),
		    .energy_wh = j_i64(o, "wh"),
		    .power_w = json_number_value(json_object_get(o, "p")),
		    .ts_ms = j_i64(o, "t"),
		};
		const char *who;

		if (ev.kind < 0 || ev.kind >= _SVC_EV_MAX)
			continue;
		who = ev.kind == SVC_EV_NETWORK_POWER ? node : j_str(o, "s");
		snprintf(ev.station, sizeof(ev.station), "%.*s", (int)sizeof(ev.station) - 1,
			 who ? who : "");
		snprintf(ev.status, sizeof(ev.status), "%s", j_str(o, "st") ? j_str(o, "st") : "");
		snprintf(ev.detail, sizeof(ev.detail), "%s", j_str(o, "d") ? j_str(o, "d") : "");
		c->live_fn(c->live_ud, &ev);
	}
	json_decref(a);
}

/* ---------------------------------------------------------------- notifications */

/* "<a> TAB <b>": a into buf, returns b (NULL if there is no TAB). */
static const char *split_tab(const char *payload, char *buf, size_t len)
{
	const char *tab = strchr(payload, '\t');

	if (!tab || (size_t)(tab - payload) >= len)
		return NULL;
	memcpy(buf, payload, (size_t)(tab - payload));
	buf[tab - payload] = '\0';
	return tab + 1;
}

static void on_notify(void *ud, const char *channel, const char *payload)
{
	struct cluster *c = ud;
	char first[STORE_NODE_ID_MAX + 1 > STATION_ID_MAX + 1 ? STORE_NODE_ID_MAX + 1
							      : STATION_ID_MAX + 1];
	const char *rest = split_tab(payload, first, sizeof(first));

	if (!rest)
		return;
	if (!strcmp(channel, "csms_owner")) {
		/* "<station> TAB <epoch> TAB <node>": a newer connection elsewhere wins */
		char epoch_s[24];
		const char *node = split_tab(rest, epoch_s, sizeof(epoch_s));
		struct chg_station *st;

		if (!node || !strcmp(node, c->node) || c->test_deaf)
			return;
		if (store_owner_lost(c->store, first, strtoll(epoch_s, NULL, 10)) <= 0)
			return;
		st = svc_station_find(c->svc, first);
		log_notice("[cp %s] connected to node %s now: closing this connection", first,
			   node);
		if (st && st->conn)
			conn_close(st->conn, 1000, "connected to another node");
	} else if (!strcmp(channel, "csms_cmd")) {
		if (!strcmp(first, c->node))
			owner_run(c, strtoll(rest, NULL, 10));
	} else if (!strcmp(channel, "csms_cmd_done")) {
		if (!strcmp(first, c->node))
			remote_answer(c, strtoll(rest, NULL, 10));
	} else if (!strcmp(channel, "csms_live")) {
		if (strcmp(first, c->node) && c->live_fn)
			remote_events(c, first, rest);
	} else if (!strcmp(channel, "csms_live_want")) {
		if (strcmp(first, c->node))
			c->live_wanted_until = clock_mono_ms() + 3 * CLUSTER_LIVE_WANT_MS;
	}
}

static void on_poll_closed(uv_handle_t *h)
{
	((struct cluster *)h->data)->poll_closing = false;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct cluster *c = h->data;

	(void)events;
	if (status < 0 || store_notify_drain(c->store, on_notify, c) < 0) {
		log_err("cluster: the LISTEN connection broke (%s): reconnecting",
			status < 0 ? uv_strerror(status) : store_errmsg(c->store));
		uv_poll_stop(&c->poll);
		c->poll_closing = true;
		uv_close((uv_handle_t *)&c->poll, on_poll_closed);
		c->polling = false;
	}
}

static int poll_start(struct cluster *c)
{
	int fd = store_notify_fd(c->store);

	if (fd < 0)
		return fd;
	if (c->poll_closing)
		return -EAGAIN; /* the old handle closes during this loop turn */
	if (uv_poll_init(c->loop, &c->poll, fd) < 0)
		return -EIO;
	c->poll.data = c;
	uv_poll_start(&c->poll, UV_READABLE, on_poll);
	c->polling = true;
	/* what arrived while nobody listened is lost: routed commands time out, takeovers still
	 * happen (the charger connected elsewhere), the lease check keeps `online` right */
	return store_notify_drain(c->store, on_notify, c) < 0 ? -EIO : 0;
}

/* owners_check found station_id held by another node (its takeover's NOTIFY never came here) */
static void on_owner_gone(void *ud, const char *station_id)
{
	struct cluster *c = ud;
	struct chg_station *st = svc_station_find(c->svc, station_id);

	log_notice("[cp %s] held by another node now (seen by the lease check): closing this "
		   "connection",
		   station_id);
	if (st && st->conn)
		conn_close(st->conn, 1000, "connected to another node");
}

/* While this node has /api/live subscribers, the others are asked to publish their events: at
 * once when the first one comes (the next tick), then every CLUSTER_LIVE_WANT_MS. */
static void live_want(struct cluster *c, int64_t now)
{
	char payload[STORE_NODE_ID_MAX + 8];

	if (!c->live_watched || !c->live_watched(c->live_ud)) {
		c->live_want_sent = 0;
		return;
	}
	if (c->live_want_sent && now - c->live_want_sent < CLUSTER_LIVE_WANT_MS)
		return;
	snprintf(payload, sizeof(payload), "%s\t1", c->node);
	if (store_notify(c->store, "csms_live_want", payload) < 0)
		log_warn("cluster: could not ask for the other nodes' live events: %s",
			 store_errmsg(c->store));
	else
		c->live_want_sent = now;
}

static void on_tick(uv_timer_t *t)
{
	struct cluster *c = t->data;
	int64_t now = clock_mono_ms();
	int r;

	while (c->pending_head && c->pending_head->deadline_ms <= now) {
		struct remote_cmd *q = c->pending_head;

		pending_unlink(c, NULL, q);
		fail_now(q->done, q->ud, SVC_RES_TIMEOUT, "no answer from the station's node");
		free(q);
	}
	if (now >= c->next_renew_ms) {
		c->next_renew_ms = now + c->cfg->owner_lease_ms / 3;
		/* renewal, and the rows made to agree with the connections held here (a node deaf
		 * to takeovers, the test hook, only renews) */
		r = c->test_deaf ? store_owners_renew(c->store)
				 : store_owners_check(c->store, on_owner_gone, c);
		if (r < 0)
			log_err("cluster: lease renewal failed: %s", store_errmsg(c->store));
		else if (r > 0)
			log_notice("cluster: %d ownership row(s) corrected", r);
	}
	if (!c->polling && poll_start(c) == 0)
		log_notice("cluster: listening again");
	live_want(c, now);
}

/* ---------------------------------------------------------------- life cycle */

struct cluster *cluster_create(uv_loop_t *loop, struct store *store, struct svc *svc,
			       const struct cfg *cfg, const char *node_id)
{
	struct cluster *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return NULL;
	c->loop = loop;
	c->store = store;
	c->svc = svc;
	c->cfg = cfg;
	snprintf(c->node, sizeof(c->node), "%s", node_id);
	r = store_notify_fd(store);
	if (r == -ENOTSUP)
		return c; /* one node: commands go straight to link_conn */
	if (r < 0) {
		log_err("cluster: cannot LISTEN: %s", store_errmsg(store));
		free(c);
		return NULL;
	}
	c->active = true;
	c->test_deaf = getenv("CSMS_TEST_IGNORE_TAKEOVER") &&
		       !strcmp(getenv("CSMS_TEST_IGNORE_TAKEOVER"), c->node);
	/* a set-password for a station here comes sealed to this key (docs/scaling.md) */
	c->key = key_new(c->key_hex);
	if (!c->key || store_node_key_set(store, c->key_hex) < 0)
		log_warn("cluster: no node key published (%s): a set-password through another "
			 "node cannot reach stations here",
			 c->key ? store_errmsg(store) : "out of memory");
	uv_timer_init(loop, &c->tick);
	c->tick.data = c;
	uv_timer_init(loop, &c->live_t);
	c->live_t.data = c;
	c->handles = true;
	if (poll_start(c) < 0 || svc_events_subscribe(svc, on_local_event, c) < 0) {
		log_err("cluster: cannot start listening: %s", store_errmsg(store));
		cluster_close(c);
		uv_run(loop, UV_RUN_NOWAIT);
		EVP_PKEY_free(c->key);
		free(c);
		return NULL;
	}
	c->next_renew_ms = clock_mono_ms() + cfg->owner_lease_ms / 3;
	uv_timer_start(&c->tick, on_tick, CLUSTER_TICK_MS, CLUSTER_TICK_MS);
	log_notice("cluster: node %s on a shared database (lease %d ms)", c->node,
		   cfg->owner_lease_ms);
	return c;
}

void cluster_set_live(struct cluster *c, svc_event_fn fn, bool (*watched)(void *ud), void *ud)
{
	if (!c)
		return;
	c->live_fn = fn;
	c->live_watched = watched;
	c->live_ud = ud;
}

bool cluster_live_wanted(const struct cluster *c)
{
	return c && clock_mono_ms() < c->live_wanted_until;
}

uint64_t cluster_live_dropped(const struct cluster *c)
{
	return c ? c->live_dropped : 0;
}

static void close_handle(uv_handle_t *h)
{
	if (h->loop && !uv_is_closing(h))
		uv_close(h, NULL);
}

void cluster_close(struct cluster *c)
{
	if (!c || !c->handles)
		return;
	live_flush(c); /* committed by the node's last group commit */
	svc_events_unsubscribe(c->svc, on_local_event, c);
	if (c->polling)
		close_handle((uv_handle_t *)&c->poll);
	c->polling = false;
	close_handle((uv_handle_t *)&c->tick);
	close_handle((uv_handle_t *)&c->live_t);
	c->handles = false;
}

void cluster_destroy(struct cluster *c)
{
	struct remote_cmd *q;

	if (!c)
		return;
	while ((q = c->pending_head)) {
		pending_unlink(c, NULL, q);
		fail_now(q->done, q->ud, SVC_RES_FAILED, "the node is stopping");
		free(q);
	}
	EVP_PKEY_free(c->key);
	free(c);
}
