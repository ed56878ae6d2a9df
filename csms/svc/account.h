/* SPDX-License-Identifier: MIT */
/* Operator accounts: roles, browser sessions, API tokens and the throttling of failed logins.
 * Plain C over the store; password hashing (slow) is the caller's, off the event loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/hmap.h"
#include "../store/store.h"

/* Ordered: a higher role may do everything a lower one may. */
enum account_role {
	ACCOUNT_ROLE_VIEWER,   /* reads */
	ACCOUNT_ROLE_OPERATOR, /* commands, registrations, id tokens, needs and limits */
	ACCOUNT_ROLE_ADMIN,    /* accounts, sites, tariffs, settings, audit log, API tokens */
	_ACCOUNT_ROLE_MAX,
	_ACCOUNT_ROLE_INVALID = -22,
};

const char *account_role_to_string(int role);
/* -EINVAL if s is NULL or no role's name. */
int account_role_from_string(const char *s);

/* 1..64 characters of [A-Za-z0-9._@-]. */
bool account_name_valid(const char *name);
/* Passwords: 12..256 bytes (a pass phrase is welcome), no control characters. */
#define ACCOUNT_PASSWORD_MIN 12
#define ACCOUNT_PASSWORD_MAX 256
bool account_password_acceptable(const char *password);

/* ---------------------------------------------------------------- failed-login throttle */

/*
** Token buckets of failed logins, one per account name and one per client address: a bucket
** holds up to `burst` failures and regains one every `refill_ms`. A login is refused (before
** any password is checked) while either bucket is empty. At most max_entries buckets are
** kept per kind; when full, buckets that have refilled completely are dropped first, and if
** none has, the new key is throttled at once (a flood of new names cannot evict real ones).
*/
struct account_throttle {
	struct hmap names, addrs;
	int burst_name, burst_addr;
	int64_t refill_ms_name, refill_ms_addr;
	size_t max_entries;
};

void account_throttle_init(struct account_throttle *t, int burst_name, int64_t refill_ms_name,
			   int burst_addr, int64_t refill_ms_addr, size_t max_entries);
void account_throttle_free(struct account_throttle *t);
/* 0 if a login by name from addr may be tried at now_ms; -EAGAIN if throttled, with the
 * seconds until a try is allowed in *ret_retry_s (>= 1). */
int account_throttle_check(struct account_throttle *t, const char *name, const char *addr,
			   int64_t now_ms, int *ret_retry_s);
/* Count one failed login against name and addr. */
void account_throttle_fail(struct account_throttle *t, const char *name, const char *addr,
			   int64_t now_ms);

/* ---------------------------------------------------------------- sessions and tokens */

/* Who a request acts for. */
struct account_principal {
	char who[STORE_ACCOUNT_NAME_MAX + 8]; /* account name, or "token:<name>" */
	int role;			      /* enum account_role */
	bool cookie;			      /* a browser session (needs the CSRF header) */
	char csrf[STORE_SECRET_HASH_MAX];     /* the session's anti-CSRF token */
	int64_t token_id;		      /* for API tokens */
};

/* Secrets handed out: 64 hex digits (32 random bytes); API tokens carry a "csms_" prefix. */
#define ACCOUNT_SECRET_MAX (5 + 64 + 1)

/*
** Start a browser session for account name at now_ms: a random cookie value and anti-CSRF
** token into ret_cookie and ret_csrf (ACCOUNT_SECRET_MAX each). Only the SHA-256 of the cookie
** is stored. Expired sessions are purged on the way. 0 or negative errno.
*/
int account_session_start(struct store *s, const char *name, int64_t now_ms, int64_t lifetime_ms,
			  char *ret_cookie, char *ret_csrf);
/*
** The principal of a session cookie: -ENOENT (unknown), -ETIMEDOUT (idle longer than idle_ms
** or past its lifetime; the session is deleted) or -EACCES (account disabled). Activity is
** recorded at most once a minute (a write joins the group commit).
*/
int account_session_lookup(struct store *s, const char *cookie, int64_t now_ms, int64_t idle_ms,
			   struct account_principal *ret);
/* End the session of this cookie (no error if unknown). */
int account_session_end(struct store *s, const char *cookie);
/* A new API token for role: the secret (shown once) into ret_token (ACCOUNT_SECRET_MAX) and
 * its id into *ret_id. */
int account_token_create(struct store *s, const char *name, int role, const char *created_by,
			 int64_t now_ms, char *ret_token, int64_t *ret_id);
/* The principal of a bearer token: -ENOENT (unknown or revoked). */
int account_token_lookup(struct store *s, const char *token, int64_t now_ms,
			 struct account_principal *ret);
/* Number of enabled admin accounts other than `except` (may be NULL): the last admin cannot
 * be demoted, disabled or deleted. */
int account_admins_other_than(struct store *s, const char *except);
