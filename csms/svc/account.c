/* SPDX-License-Identifier: MIT */
/* Operator accounts: roles, browser sessions and API tokens over the store, and the token
 * buckets that throttle failed logins. */
#include "account.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/pwhash.h"

static const char *const role_names[_ACCOUNT_ROLE_MAX] = {
    [ACCOUNT_ROLE_VIEWER] = "viewer",
    [ACCOUNT_ROLE_OPERATOR] = "operator",
    [ACCOUNT_ROLE_ADMIN] = "admin",
};

const char *account_role_to_string(int role)
{
	return role >= 0 && role < _ACCOUNT_ROLE_MAX ? role_names[role] : NULL;
}

int account_role_from_string(const char *s)
{
	for (int i = 0; s && i < _ACCOUNT_ROLE_MAX; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -EINVAL;
}

bool account_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > STORE_ACCOUNT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

bool account_password_acceptable(const char *password)
{
	size_t n = password ? strlen(password) : 0;

	if (n < ACCOUNT_PASSWORD_MIN || n > ACCOUNT_PASSWORD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
			return false;
	return true;
}

/* ---------------------------------------------------------------- failed-login throttle */

/* GCRA form of a token bucket: tat is when the bucket will be full again; a try is allowed
 * while tat <= now + (burst - 1) * refill. */
struct bucket {
	int64_t tat;
	char key[];
};

void account_throttle_init(struct account_throttle *t, int burst_name, int64_t refill_ms_name,
			   int burst_addr, int64_t refill_ms_addr, size_t max_entries)
{
	*t = (struct account_throttle){
	    .burst_name = burst_name > 0 ? burst_name : 1,
	    .burst_addr = burst_addr > 0 ? burst_addr : 1,
	    .refill_ms_name = refill_ms_name > 0 ? refill_ms_name : 1,
	    .refill_ms_addr = refill_ms_addr > 0 ? refill_ms_addr : 1,
	    .max_entries = max_entries ? max_entries : 1,
	};
}

static void map_clear(struct hmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].value)
			free(m->slots[i].value);
	hmap_free(m);
}

void account_throttle_free(struct account_throttle *t)
{
	map_clear(&t->names);
	map_clear(&t->addrs);
}

/* Milliseconds until key may try again (0: now). */
static int64_t wait_ms(const struct hmap *m, const char *key, int burst, int64_t refill,
		       int64_t now)
{
	const struct bucket *b = hmap_get(m, key);
	int64_t allowed_until = now + (int64_t)(burst - 1) * refill;

	if (!b || b->tat <= allowed_until)
		return 0;
	return b->tat - allowed_until;
}

int account_throttle_check(struct account_throttle *t, const char *name, const char *addr,
			   int64_t now_ms, int *ret_retry_s)
{
	int64_t a = wait_ms(&t->names, name, t->burst_name, t->refill_ms_name, now_ms);
	int64_t b = wait_ms(&t->addrs, addr, t->burst_addr, t->refill_ms_addr, now_ms);
	int64_t w = a > b ? a : b;

	/* a full table with no bucket to spare: newcomers wait (see the header) */
	if (!w && !hmap_get(&t->names, name) && t->names.count >= t->max_entries)
		w = t->refill_ms_name;
	if (!w && !hmap_get(&t->addrs, addr) && t->addrs.count >= t->max_entries)
		w = t->refill_ms_addr;
	if (!w)
		return 0;
	*ret_retry_s = (int)((w + 999) / 1000);
	return -EAGAIN;
}

/* Drop the buckets that are full again. */
static void prune(struct hmap *m, int64_t now)
{
	for (size_t i = 0; i < m->cap; i++) {
		struct bucket *b = m->slots[i].value;

		if (b && b->tat <= now) {
			hmap_del(m, b->key);
			free(b);
		}
	}
}

static void charge(struct hmap *m, const char *key, int64_t refill, size_t max, int64_t now)
{
	struct bucket *b = hmap_get(m, key);
	size_t n;

	if (!b) {
		if (m->count >= max)
			prune(m, now);
		if (m->count >= max)
			return;
		n = strlen(key) + 1;
		b = calloc(1, sizeof(*b) + n);
		if (!b)
			return;
		memcpy(b->key, key, n);
		if (hmap_put(m, b->key, b) < 0) {
			free(b);
			return;
		}
	}
	b->tat = (b->tat > now ? b->tat : now) + refill;
}

void account_throttle_fail(struct account_throttle *t, const char *name, const char *addr,
			   int64_t now_ms)
{
	charge(&t->names, name, t->refill_ms_name, t->max_entries, now_ms);
	charge(&t->addrs, addr, t->refill_ms_addr, t->max_entries, now_ms);
}

/* ---------------------------------------------------------------- sessions and tokens */

/* Write activity at most this often: a request per second must not be a write per second. */
#define TOUCH_EVERY_MS 60000

int account_session_start(struct store *s, const char *name, int64_t now_ms, int64_t lifetime_ms,
			  char *ret_cookie, char *ret_csrf)
{
	char cookie[ACCOUNT_SECRET_MAX], csrf[ACCOUNT_SECRET_MAX], hash[PWHASH_SHA256_HEX];
	int r;

	if (pwhash_random_hex(32, cookie) < 0 || pwhash_random_hex(32, csrf) < 0)
		return -EIO;
	pwhash_sha256_hex(cookie, hash);
	r = store_auth_sessions_delete(s, NULL, NULL, now_ms);
	if (r < 0)
		return r;
	r = store_auth_session_add(s, hash, name, csrf, now_ms, now_ms + lifetime_ms);
	if (r < 0)
		return r;
	memcpy(ret_cookie, cookie, sizeof(cookie));
	memcpy(ret_csrf, csrf, sizeof(csrf));
	return 0;
}

int account_session_lookup(struct store *s, const char *cookie, int64_t now_ms, int64_t idle_ms,
			   struct account_principal *ret)
{
	char hash[PWHASH_SHA256_HEX];
	struct store_auth_session ss;
	int r, role;

	pwhash_sha256_hex(cookie, hash);
	r = store_auth_session_get(s, hash, &ss);
	if (r < 0)
		return r;
	if (now_ms >= ss.expires_ms || now_ms - ss.last_ms > idle_ms) {
		store_auth_sessions_delete(s, hash, NULL, now_ms);
		return -ETIMEDOUT;
	}
	role = account_role_from_string(ss.role);
	if (ss.disabled || role < 0)
		return -EACCES;
	if (now_ms - ss.last_ms >= TOUCH_EVERY_MS) {
		r = store_auth_session_touch(s, hash, now_ms);
		if (r < 0)
			return r;
	}
	*ret = (struct account_principal){.role = role, .cookie = true};
	snprintf(ret->who, sizeof(ret->who), "%s", ss.account);
	memcpy(ret->csrf, ss.csrf, sizeof(ret->csrf));
	return 0;
}

int account_session_end(struct store *s, const char *cookie)
{
	char hash[PWHASH_SHA256_HEX];

	pwhash_sha256_hex(cookie, hash);
	return store_auth_sessions_delete(s, hash, NULL, 0);
}

int account_token_create(struct store *s, const char *name, int role, const char *created_by,
			 int64_t now_ms, char *ret_token, int64_t *ret_id)
{
	char token[ACCOUNT_SECRET_MAX], hash[PWHASH_SHA256_HEX];
	int64_t id;
	int r;

	if (!account_role_to_string(role) || !account_name_valid(name))
		return -EINVAL;
	memcpy(token, "csms_", 5);
	if (pwhash_random_hex(32, token + 5) < 0)
		return -EIO;
	pwhash_sha256_hex(token, hash);
	r = store_api_token_add(s, name, account_role_to_string(role), hash, created_by, now_ms,
				&id);
	if (r < 0)
		return r;
	memcpy(ret_token, token, sizeof(token));
	*ret_id = id;
	return 0;
}

int account_token_lookup(struct store *s, const char *token, int64_t now_ms,
			 struct account_principal *ret)
{
	char hash[PWHASH_SHA256_HEX];
	struct store_api_token t;
	int r, role;

	pwhash_sha256_hex(token, hash);
	r = store_api_token_get(s, hash, &t);
	if (r < 0)
		return r;
	role = account_role_from_string(t.role);
	if (t.revoked_ms || role < 0)
		return -ENOENT;
	if (now_ms - t.last_used_ms >= TOUCH_EVERY_MS) {
		r = store_api_token_touch(s, t.id, now_ms);
		if (r < 0)
			return r;
	}
	*ret = (struct account_principal){.role = role, .token_id = t.id};
	snprintf(ret->who, sizeof(ret->who), "token:%s", t.name);
	return 0;
}

struct admins {
	const char *except;
	int n;
};

static int count_admin(const struct store_account *a, void *ud)
{
	struct admins *c = ud;

	if (!a->disabled && account_role_from_string(a->role) == ACCOUNT_ROLE_ADMIN &&
	    (!c->except || strcmp(c->except, a->name)))
		c->n++;
	return 0;
}

int account_admins_other_than(struct store *s, const char *except)
{
	struct admins c = {.except = except};
	int r = store_accounts_list(s, count_admin, &c);

	return r < 0 ? r : c.n;
}
