/* SPDX-License-Identifier: MIT */
/* The locked API: the gate every request passes (Origin/Host, credentials, content type,
 * CSRF, role), login and logout, accounts, API tokens, the audit log and /metrics. Password
 * hashing runs on the libuv threadpool; the request stays pending meanwhile. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include <jansson.h>

#include "../core/cfg.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/pwhash.h"
#include "../store/store.h"
#include "../svc/account.h"
#include "api-private.h"

#define SESSION_COOKIE "csms_session"
/* KDF jobs in flight at most: each holds 32 MiB while it runs (4 run at once). */
#define KDF_MAX_IN_FLIGHT 16
/* Verified when the account does not exist, so that an unknown name costs as much as a wrong
 * password (a valid scrypt hash of a random password nobody knows). */
static const char dummy_hash[] = "scrypt$15$8$3$9f1c2ad0a81f3c5e7b4d6e8f0a1b2c3d$"
				 "3f0c1e2d4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

struct api_auth {
	struct account_throttle throttle;
	int64_t idle_ms, lifetime_ms;
	const char *metrics_token; /* borrowed from the config */
	unsigned kdf_in_flight;
};

static int64_t now_ms(void)
{
	/* sessions and the audit log live in real time, whatever a demo clock does */
	return clock_system_now_ms(NULL);
}

struct api_auth *api_auth_create(const struct cfg *cfg)
{
	struct api_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	/* per address: four accounts' worth, refilling twice as fast (an office behind one NAT) */
	account_throttle_init(&a->throttle, cfg->login_fail_burst,
			      (int64_t)cfg->login_fail_refill_s * 1000, 4 * cfg->login_fail_burst,
			      (int64_t)cfg->login_fail_refill_s * 500, 100000);
	a->idle_ms = (int64_t)cfg->session_idle_s * 1000;
	a->lifetime_ms = (int64_t)cfg->session_lifetime_s * 1000;
	a->metrics_token = cfg->metrics_token;
	return a;
}

void api_auth_destroy(struct api_auth *a)
{
	if (!a)
		return;
	account_throttle_free(&a->throttle);
	free(a);
}

/* ---------------------------------------------------------------- pure decisions */

struct authority {
	char scheme[8];
	char host[128];
	int port;
};

static bool is_loopback_name(const char *h)
{
	return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 ||
	       strcasecmp(h, "localhost") == 0;
}

/* "host", "host:port", "[v6]", "[v6]:port" with the scheme's default port. */
static int parse_hostport(const char *s, size_t n, int def_port, struct authority *ret)
{
	const char *host = s, *port = NULL;
	size_t hn;
	char *end;
	long p;

	if (n == 0)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb)
			return -EINVAL;
		host = s + 1;
		hn = (size_t)(rb - host);
		if (rb + 1 < s + n) {
			if (rb[1] != ':')
				return -EINVAL;
			port = rb + 2;
		}
	} else {
		const char *colon = memchr(s, ':', n);

		hn = colon ? (size_t)(colon - s) : n;
		if (colon)
			port = colon + 1;
	}
	if (hn == 0 || hn >= sizeof(ret->host))
		return -EINVAL;
	memcpy(ret->host, host, hn);
	ret->host[hn] = '\0';
	if (!port) {
		ret->port = def_port;
		return 0;
	}
	if (port >= s + n)
		return -EINVAL;
	p = strtol(port, &end, 10);
	if (end != s + n || p < 0 || p > 65535)
		return -EINVAL;
	ret->port = (int)p;
	return 0;
}

/* "scheme://authority[/...]" */
static int parse_url(const char *url, struct authority *ret)
{
	const char *sep = strstr(url, "://"), *auth, *end;
	size_t sn;

	if (!sep)
		return -EINVAL;
	sn = (size_t)(sep - url);
	if (sn == 0 || sn >= sizeof(ret->scheme))
		return -EINVAL;
	memcpy(ret->scheme, url, sn);
	ret->scheme[sn] = '\0';
	for (size_t i = 0; i < sn; i++)
		ret->scheme[i] = (char)(ret->scheme[i] | 0x20);
	if (strcmp(ret->scheme, "http") && strcmp(ret->scheme, "https"))
		return -EINVAL;
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	return parse_hostport(auth, (size_t)(end - auth), strcmp(ret->scheme, "https") ? 80 : 443,
			      ret);
}

static bool same_place(const struct authority *pub, const struct authority *a)
{
	if (a->port != pub->port)
		return false;
	if (strcmp(pub->host, "*") == 0 || strcasecmp(pub->host, a->host) == 0)
		return true;
	return is_loopback_name(pub->host) && is_loopback_name(a->host);
}

int api_auth_origin_check(const char *public_url, const char *host, const char *origin)
{
	struct authority pub, h, o;

	if (!public_url || parse_url(public_url, &pub) < 0)
		return -EPERM;
	if (!host || !*host ||
	    parse_hostport(host, strlen(host), strcmp(pub.scheme, "https") ? 80 : 443, &h) < 0 ||
	    !same_place(&pub, &h))
		return -EPERM;
	if (!origin || !*origin)
		return 0; /* not a browser's cross-site request: the credentials decide */
	if (parse_url(origin, &o) < 0 || strcmp(o.scheme, pub.scheme) || !same_place(&pub, &o))
		return -EPERM; /* also "null" (sandboxed frames, file://) */
	/* a wildcard public host still needs the page and the request on one origin */
	if (strcmp(pub.host, "*") == 0 && strcasecmp(o.host, h.host) &&
	    !(is_loopback_name(o.host) && is_loopback_name(h.host)))
		return -EPERM;
	return 0;
}

int api_auth_write_check(const char *content_type, bool cookie_session, const char *csrf_header,
			 const char *session_csrf)
{
	size_t n = strlen("application/json");

	/* forms and text/plain are what a hostile page can send without a CORS preflight */
	if (!content_type || strncasecmp(content_type, "application/json", n) ||
	    (content_type[n] && content_type[n] != ';' && content_type[n] != ' '))
		return -EPROTO;
	if (cookie_session && (!csrf_header || !session_csrf || !*session_csrf ||
			       !pwhash_equal(csrf_header, session_csrf)))
		return -EPERM;
	return 0;
}

/* ---------------------------------------------------------------- the gate */

/* The value of cookie name in a Cookie header, into out; false if absent. */
static bool cookie_value(const char *hdr, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	for (const char *p = hdr; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			size_t v = strcspn(p + n + 1, "; ");

			if (v == 0 || v >= len)
				return false;
			memcpy(out, p + n + 1, v);
			out[v] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

static const char *bearer(const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	authorization += 7;
	while (*authorization == ' ')
		authorization++;
	return *authorization ? authorization : NULL;
}

int api_auth_principal(struct api *api, const char *cookie_hdr, const char *authorization_hdr,
		       struct account_principal *ret)
{
	const char *tok = bearer(authorization_hdr);
	char cookie[ACCOUNT_SECRET_MAX];

	if (tok)
		return account_token_lookup(api->store, tok, now_ms(), ret);
	if (cookie_hdr && cookie_value(cookie_hdr, SESSION_COOKIE, cookie, sizeof(cookie)))
		return account_session_lookup(api->store, cookie, now_ms(), api->auth->idle_ms,
					      ret);
	return -ENOENT;
}

static const char *method_name(int m)
{
	static const char *const names[] = {
	    [API_GET] = "GET",	     [API_POST] = "POST",   [API_PUT] = "PUT",
	    [API_DELETE] = "DELETE", [API_OTHER] = "OTHER",
	};

	return m >= 0 && m <= API_OTHER ? names[m] : "OTHER";
}

/* Who may do what (contract in docs/api.md): the first row whose path is a prefix of the
 * request's at a segment boundary decides; other paths need a viewer to read and an operator
 * to write. */
static const struct {
	const char *prefix;
	int read, write;
} policy[] = {
    {"/api/health", API_ROLE_PUBLIC, ACCOUNT_ROLE_OPERATOR},
    {"/api/login", ACCOUNT_ROLE_VIEWER, API_ROLE_PUBLIC},
    {"/api/logout", ACCOUNT_ROLE_VIEWER, API_ROLE_SIGNED_IN},
    {"/api/accounts", ACCOUNT_ROLE_ADMIN, ACCOUNT_ROLE_ADMIN},
    {"/api/tokens", ACCOUNT_ROLE_ADMIN, ACCOUNT_ROLE_ADMIN},
    {"/api/audit", ACCOUNT_ROLE_ADMIN, ACCOUNT_ROLE_ADMIN},
    {"/api/settings", ACCOUNT_ROLE_ADMIN, ACCOUNT_ROLE_ADMIN},
    {"/api/sites", ACCOUNT_ROLE_VIEWER, ACCOUNT_ROLE_ADMIN},
    {"/api/tariffs", ACCOUNT_ROLE_VIEWER, ACCOUNT_ROLE_ADMIN},
};

int api_auth_required_role(int method, const char *path)
{
	bool write = method != API_GET;

	for (size_t i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
		size_t n = strlen(policy[i].prefix);

		if (strncmp(path, policy[i].prefix, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return write ? policy[i].write : policy[i].read;
	}
	return write ? ACCOUNT_ROLE_OPERATOR : ACCOUNT_ROLE_VIEWER;
}

int api_auth_gate(struct api_req *r)
{
	struct api *api = r->api;
	bool write = r->method != API_GET;
	int need = api_auth_required_role(r->method, r->path);
	struct account_principal p;
	int e;

	snprintf(r->who, sizeof(r->who), "-");
	if (write)
		r->audit = true; /* every answer from here on is audited */
	if (api_auth_origin_check(api->public_url, r->host, r->origin) < 0) {
		log_notice(
		    "api: %s %s from %s refused: Host \"%.64s\" / Origin \"%.64s\" is not %s",
		    method_name(r->method), r->path, r->peer, r->host, r->origin, api->public_url);
		api_error(r, 403, "Origin or Host is not this server (%s)", api->public_url);
		return -EPERM;
	}
	if (need == API_ROLE_PUBLIC) {
		if (write && api_auth_write_check(r->content_type, false, NULL, NULL) < 0)
			goto not_json;
		return 0;
	}
	e = api_auth_principal(api, r->cookie, r->authorization, &p);
	if (e < 0) {
		api_error(r, 401, "%s",
			  e == -ETIMEDOUT ? "session expired: log in again"
			  : e == -EACCES  ? "account disabled"
			  : e == -ENOENT  ? "authentication required (log in, or an API token)"
					  : "storage error");
		return -EACCES;
	}
	snprintf(r->who, sizeof(r->who), "%s", p.who);
	r->role = p.role;
	e = write ? api_auth_write_check(r->content_type, p.cookie, r->csrf, p.csrf) : 0;
	if (e == -EPROTO)
		goto not_json;
	if (e < 0) {
		api_error(r, 403, "missing or wrong X-CSRF-Token");
		return -EPERM;
	}
	if (p.role < need) {
		api_error(r, 403, "role %s may not %s %s (needs %s)",
			  account_role_to_string(p.role), method_name(r->method), r->path,
			  account_role_to_string(need));
		return -EPERM;
	}
	return 0;
not_json:
	/* forms and text/plain are what a hostile page can send without a CORS preflight */
	api_error(r, 415, "state-changing requests need Content-Type: application/json");
	return -EPROTO;
}

void api_audit(struct api_req *r, int status)
{
	struct store_audit a = {
	    .ts_ms = now_ms(),
	    .who = r->who[0] ? r->who : "-",
	    .method = method_name(r->method),
	    .path = r->path,
	    .peer = r->peer,
	    .status = status,
	};
	int e = store_audit_add(r->api->store, &a);

	if (e < 0)
		log_err("audit: cannot record %s %s by %s: %s", a.method, a.path, a.who,
			store_errmsg(r->api->store));
}

/* ---------------------------------------------------------------- password work off the loop */

enum kdf_kind { KDF_LOGIN, KDF_CREATE, KDF_UPDATE };

struct kdf_job {
	uv_work_t work;
	struct api_req *r;
	enum kdf_kind kind;
	char name[STORE_ACCOUNT_NAME_MAX + 1];
	char password[ACCOUNT_PASSWORD_MAX + 1];
	char hash[STORE_HASH_MAX]; /* in: the stored hash (login); out: the new hash */
	bool exists, ok;
	int role;     /* create, update: -1 = unchanged */
	int disabled; /* update: -1 = unchanged */
};

static void kdf_work(uv_work_t *w)
{
	struct kdf_job *j = w->data;

	if (j->kind == KDF_LOGIN)
		j->ok = pwhash_verify(j->password, j->hash);
	else
		j->ok = pwhash_scrypt_create(j->password, PWHASH_SCRYPT_LOG2N, PWHASH_SCRYPT_R,
					     PWHASH_SCRYPT_P, j->hash, sizeof(j->hash)) == 0;
}

static void login_done(struct kdf_job *j);
static void create_done(struct kdf_job *j);
static void update_done(struct kdf_job *j);

static void kdf_after(uv_work_t *w, int status)
{
	struct kdf_job *j = w->data;

	explicit_bzero(j->password, sizeof(j->password));
	j->r->api->auth->kdf_in_flight--;
	if (status < 0)
		j->ok = false;
	switch (j->kind) {
	case KDF_LOGIN:
		login_done(j);
		break;
	case KDF_CREATE:
		create_done(j);
		break;
	case KDF_UPDATE:
		update_done(j);
		break;
	}
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* Queue j (taken): the request answers when the work is done. */
static void kdf_queue(struct api_req *r, struct kdf_job *j)
{
	struct api_auth *a = r->api->auth;

	if (a->kdf_in_flight >= KDF_MAX_IN_FLIGHT) {
		explicit_bzero(j, sizeof(*j));
		free(j);
		r->retry_after_s = 1;
		api_error(r, 503, "busy checking passwords: try again");
		return;
	}
	j->r = r;
	j->work.data = j;
	r->pending = true;
	if (uv_queue_work(r->api->loop, &j->work, kdf_work, kdf_after) != 0) {
		r->pending = false;
		explicit_bzero(j, sizeof(*j));
		free(j);
		api_error(r, 500, "cannot queue the password work");
		return;
	}
	a->kdf_in_flight++;
}

/* A string member of 1..max bytes into out; -EINVAL after a 400. */
static int member_str(struct api_req *r, const json_t *o, const char *key, bool required, char *out,
		      size_t len, bool *ret_present)
{
	const json_t *v = json_object_get(o, key);

	if (ret_present)
		*ret_present = v != NULL;
	if (!v && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= len ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		api_error(r, 400, "%s: expected a string of 1..%zu characters", key, len - 1);
		return -EINVAL;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* ---------------------------------------------------------------- login, logout, me */

static void post_login(struct api_req *r, char **segs)
{
	struct api_auth *a = r->api->auth;
	struct store_account acc;
	struct kdf_job *j;
	json_t *body;
	int retry, e;

	(void)segs;
	body = api_body_object(r);
	if (!body)
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		json_decref(body);
		api_error(r, 500, "out of memory");
		return;
	}
	j->kind = KDF_LOGIN;
	if (member_str(r, body, "username", true, j->name, sizeof(j->name), NULL) < 0 ||
	    member_str(r, body, "password", true, j->password, sizeof(j->password), NULL) < 0)
		goto fail;
	json_decref(body);
	body = NULL;
	if (account_name_valid(j->name))
		snprintf(r->who, sizeof(r->who), "%s", j->name);
	if (account_throttle_check(&a->throttle, j->name, r->peer, now_ms(), &retry) < 0) {
		log_notice("api: login of \"%s\" from %s throttled (%d s)", r->who, r->peer, retry);
		r->retry_after_s = retry;
		api_error(r, 429, "too many failed logins: try again in %d s", retry);
		goto fail;
	}
	e = account_name_valid(j->name) ? store_account_get(r->api->store, j->name, &acc) : -ENOENT;
	if (e < 0 && e != -ENOENT) {
		api_storage_error(r, e);
		goto fail;
	}
	j->exists = e == 0 && !acc.disabled;
	snprintf(j->hash, sizeof(j->hash), "%s", j->exists ? acc.pw_hash : dummy_hash);
	j->role = j->exists ? account_role_from_string(acc.role) : -1;
	kdf_queue(r, j);
	return;
fail:
	json_decref(body);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void login_done(struct kdf_job *j)
{
	struct api_req *r = j->r;
	struct api *api = r->api;
	char cookie[ACCOUNT_SECRET_MAX], csrf[ACCOUNT_SECRET_MAX];
	int e;

	if (!j->ok || !j->exists || j->role < 0) {
		account_throttle_fail(&api->auth->throttle, j->name, r->peer, now_ms());
		log_notice("api: failed login for \"%s\" from %s", r->who, r->peer);
		api_error(r, 401, "bad username or password");
		return;
	}
	e = account_session_start(api->store, j->name, now_ms(), api->auth->lifetime_ms, cookie,
				  csrf);
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	snprintf(r->set_cookie, sizeof(r->set_cookie),
		 SESSION_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", cookie,
		 (long long)(api->auth->lifetime_ms / 1000), api->tls ? "; Secure" : "");
	explicit_bzero(cookie, sizeof(cookie));
	log_info("api: %s logged in from %s", j->name, r->peer);
	api_respond(r, 200,
		    json_pack("{s:s, s:s, s:s}", "user", j->name, "role",
			      account_role_to_string(j->role), "csrf", csrf));
}

static void post_logout(struct api_req *r, char **segs)
{
	char cookie[ACCOUNT_SECRET_MAX];
	int e;

	(void)segs;
	if (!bearer(r->authorization) &&
	    cookie_value(r->cookie, SESSION_COOKIE, cookie, sizeof(cookie))) {
		e = account_session_end(r->api->store, cookie);
		explicit_bzero(cookie, sizeof(cookie));
		if (e < 0) {
			api_storage_error(r, e);
			return;
		}
		snprintf(r->set_cookie, sizeof(r->set_cookie),
			 SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
			 r->api->tls ? "; Secure" : "");
	}
	api_respond(r, 204, NULL);
}

static void get_me(struct api_req *r, char **segs)
{
	struct account_principal p;

	(void)segs;
	/* the gate let it through: the principal is there */
	if (api_auth_principal(r->api, r->cookie, r->authorization, &p) < 0) {
		api_error(r, 401, "authentication required");
		return;
	}
	api_respond(r, 200,
		    json_pack("{s:s, s:s, s:o}", "user", p.who, "role",
			      account_role_to_string(p.role), "csrf",
			      p.cookie ? json_string(p.csrf) : json_null()));
}

/* ---------------------------------------------------------------- accounts */

static json_t *account_json(const struct store_account *a)
{
	return json_pack("{s:s, s:s, s:b, s:o, s:o}", "name", a->name, "role", a->role, "disabled",
			 a->disabled, "created", api_time_or_null(a->created_ms), "updated",
			 api_time_or_null(a->updated_ms));
}

static int account_row_json(const struct store_account *a, void *ud)
{
	return json_array_append_new(ud, account_json(a)) ? -ENOMEM : 0;
}

static void get_accounts(struct api_req *r, char **segs)
{
	json_t *arr = json_array();
	int e;

	(void)segs;
	e = store_accounts_list(r->api->store, account_row_json, arr);
	api_respond_list(r, e, "accounts", arr);
}

static int role_member(struct api_req *r, const json_t *o, bool required, int *ret)
{
	return api_member_name(r, o, "role", required, -1, account_role_from_string,
			       "viewer, operator or admin", ret);
}

static void post_account(struct api_req *r, char **segs)
{
	struct store_account acc;
	struct kdf_job *j = calloc(1, sizeof(*j));
	json_t *body = NULL;
	int e;

	(void)segs;
	if (!j) {
		api_error(r, 500, "out of memory");
		return;
	}
	body = api_body_object(r);
	if (!body)
		goto fail;
	j->kind = KDF_CREATE;
	if (member_str(r, body, "username", true, j->name, sizeof(j->name), NULL) < 0 ||
	    member_str(r, body, "password", true, j->password, sizeof(j->password), NULL) < 0 ||
	    role_member(r, body, true, &j->role) < 0)
		goto fail;
	if (!account_name_valid(j->name)) {
		api_error(r, 400, "username: 1..64 of A-Z a-z 0-9 . _ @ -");
		goto fail;
	}
	if (!account_password_acceptable(j->password)) {
		api_error(r, 400, "password: %d..%d characters, no control characters",
			  ACCOUNT_PASSWORD_MIN, ACCOUNT_PASSWORD_MAX);
		goto fail;
	}
	e = store_account_get(r->api->store, j->name, &acc);
	if (e == 0) {
		api_error(r, 409, "account %s exists", j->name);
		goto fail;
	}
	if (e != -ENOENT) {
		api_storage_error(r, e);
		goto fail;
	}
	json_decref(body);
	kdf_queue(r, j);
	return;
fail:
	json_decref(body);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void create_done(struct kdf_job *j)
{
	struct api_req *r = j->r;
	int64_t now = now_ms();
	struct store_account acc = {.created_ms = now, .updated_ms = now};
	int e;

	if (!j->ok) {
		api_error(r, 500, "cannot hash the password");
		return;
	}
	snprintf(acc.name, sizeof(acc.name), "%s", j->name);
	snprintf(acc.role, sizeof(acc.role), "%s", account_role_to_string(j->role));
	snprintf(acc.pw_hash, sizeof(acc.pw_hash), "%s", j->hash);
	e = store_account_create(r->api->store, &acc);
	if (e == -EEXIST) {
		api_error(r, 409, "account %s exists", j->name);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	log_notice("api: %s created account %s (%s)", r->who, acc.name, acc.role);
	api_respond(r, 201, account_json(&acc));
}

/* Apply an update to account name (role/disabled -1: unchanged; pw_hash NULL: unchanged). */
static void apply_update(struct api_req *r, const char *name, int role, int disabled,
			 const char *pw_hash)
{
	struct store *s = r->api->store;
	struct store_account acc;
	bool was_admin;
	int e, others;

	e = store_account_get(s, name, &acc);
	if (e == -ENOENT) {
		api_error(r, 404, "no account %s", name);
		return;
	}
	if (e < 0)
		goto storage;
	was_admin = account_role_from_string(acc.role) == ACCOUNT_ROLE_ADMIN && !acc.disabled;
	if (role >= 0)
		snprintf(acc.role, sizeof(acc.role), "%s", account_role_to_string(role));
	if (disabled >= 0)
		acc.disabled = disabled;
	if (pw_hash)
		snprintf(acc.pw_hash, sizeof(acc.pw_hash), "%s", pw_hash);
	if (was_admin &&
	    (acc.disabled || account_role_from_string(acc.role) != ACCOUNT_ROLE_ADMIN)) {
		others = account_admins_other_than(s, name);
		if (others < 0) {
			e = others;
			goto storage;
		}
		if (others == 0) {
			api_error(r, 409, "%s is the last admin", name);
			return;
		}
	}
	acc.updated_ms = now_ms();
	e = store_account_update(s, &acc);
	if (e < 0)
		goto storage;
	/* a new password or a disabled account ends its browser sessions */
	if (pw_hash || acc.disabled) {
		e = store_auth_sessions_delete(s, NULL, name, 0);
		if (e < 0)
			goto storage;
	}
	log_notice("api: %s updated account %s (role %s%s%s)", r->who, name, acc.role,
		   acc.disabled ? ", disabled" : "", pw_hash ? ", new password" : "");
	api_respond(r, 200, account_json(&acc));
	return;
storage:
	api_storage_error(r, e);
}

static void put_account(struct api_req *r, char **segs)
{
	struct kdf_job *j = calloc(1, sizeof(*j));
	json_t *body = NULL;
	const json_t *dis;
	bool has_pw;

	if (!j) {
		api_error(r, 500, "out of memory");
		return;
	}
	body = api_body_object(r);
	if (!body)
		goto fail;
	j->kind = KDF_UPDATE;
	snprintf(j->name, sizeof(j->name), "%s", segs[2]);
	j->disabled = -1;
	if (role_member(r, body, false, &j->role) < 0 ||
	    member_str(r, body, "password", false, j->password, sizeof(j->password), &has_pw) < 0)
		goto fail;
	dis = json_object_get(body, "disabled");
	if (dis && !json_is_boolean(dis)) {
		api_error(r, 400, "disabled: expected true or false");
		goto fail;
	}
	if (dis)
		j->disabled = json_is_true(dis);
	json_decref(body);
	body = NULL;
	if (has_pw && !account_password_acceptable(j->password)) {
		api_error(r, 400, "password: %d..%d characters, no control characters",
			  ACCOUNT_PASSWORD_MIN, ACCOUNT_PASSWORD_MAX);
		goto fail;
	}
	if (has_pw) {
		kdf_queue(r, j);
		return;
	}
	apply_update(r, j->name, j->role, j->disabled, NULL);
fail:
	json_decref(body);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void update_done(struct kdf_job *j)
{
	if (!j->ok) {
		api_error(j->r, 500, "cannot hash the password");
		return;
	}
	apply_update(j->r, j->name, j->role, j->disabled, j->hash);
}

static void delete_account(struct api_req *r, char **segs)
{
	struct store *s = r->api->store;
	struct store_account acc;
	int e, others;

	e = store_account_get(s, segs[2], &acc);
	if (e == -ENOENT) {
		api_error(r, 404, "no account %s", segs[2]);
		return;
	}
	if (e < 0)
		goto storage;
	if (account_role_from_string(acc.role) == ACCOUNT_ROLE_ADMIN && !acc.disabled) {
		others = account_admins_other_than(s, acc.name);
		if (others < 0) {
			e = others;
			goto storage;
		}
		if (others == 0) {
			api_error(r, 409, "%s is the last admin", acc.name);
			return;
		}
	}
	e = store_account_delete(s, acc.name);
	if (e < 0)
		goto storage;
	log_notice("api: %s deleted account %s", r->who, acc.name);
	api_respond(r, 204, NULL);
	return;
storage:
	api_storage_error(r, e);
}

/* ---------------------------------------------------------------- API tokens */

static int token_row_json(const struct store_api_token *t, void *ud)
{
	return json_array_append_new(
		   ud, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:b, s:o}", "id",
				 (json_int_t)t->id, "name", t->name, "role", t->role, "created_by",
				 t->created_by, "created", api_time_or_null(t->created_ms),
				 "last_used", api_time_or_null(t->last_used_ms), "revoked",
				 t->revoked_ms != 0, "revoked_at", api_time_or_null(t->revoked_ms)))
		   ? -ENOMEM
		   : 0;
}

static void get_tokens(struct api_req *r, char **segs)
{
	json_t *arr = json_array();
	int e;

	(void)segs;
	e = store_api_tokens_list(r->api->store, token_row_json, arr);
	api_respond_list(r, e, "tokens", arr);
}

static void post_token(struct api_req *r, char **segs)
{
	char name[STORE_ACCOUNT_NAME_MAX + 1], token[ACCOUNT_SECRET_MAX];
	json_t *body = api_body_object(r);
	int64_t id;
	int role, e;

	(void)segs;
	if (!body)
		return;
	if (member_str(r, body, "name", true, name, sizeof(name), NULL) < 0 ||
	    role_member(r, body, true, &role) < 0) {
		json_decref(body);
		return;
	}
	json_decref(body);
	if (!account_name_valid(name)) {
		api_error(r, 400, "name: 1..64 of A-Z a-z 0-9 . _ @ -");
		return;
	}
	e = account_token_create(r->api->store, name, role, r->who, now_ms(), token, &id);
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	log_notice("api: %s created API token %lld \"%s\" (%s)", r->who, (long long)id, name,
		   account_role_to_string(role));
	api_respond(r, 201,
		    json_pack("{s:s, s:I, s:s, s:s}", "token", token, "id", (json_int_t)id, "name",
			      name, "role", account_role_to_string(role)));
	explicit_bzero(token, sizeof(token));
}

static void delete_token(struct api_req *r, char **segs)
{
	char *end;
	long long id = strtoll(segs[2], &end, 10);
	int e;

	if (end == segs[2] || *end || id <= 0) {
		api_error(r, 400, "token id: expected a positive integer");
		return;
	}
	e = store_api_token_revoke(r->api->store, id, now_ms());
	if (e == -ENOENT) {
		api_error(r, 404, "no active API token %lld", id);
		return;
	}
	if (e < 0) {
		api_storage_error(r, e);
		return;
	}
	log_notice("api: %s revoked API token %lld", r->who, id);
	api_respond(r, 204, NULL);
}

/* ---------------------------------------------------------------- audit log */

static int audit_row_json(const struct store_audit *a, void *ud)
{
	return json_array_append_new(
		   ud, json_pack("{s:I, s:o, s:s, s:s, s:s, s:i, s:s}", "id", (json_int_t)a->id,
				 "time", api_time_or_null(a->ts_ms), "who", a->who, "method",
				 a->method, "path", a->path, "status", a->status, "peer", a->peer))
		   ? -ENOMEM
		   : 0;
}

static void get_audit(struct api_req *r, char **segs)
{
	json_t *arr;
	long limit, offset;
	int e;

	(void)segs;
	if (api_query_page(r, 100, 1000, &limit, &offset) < 0)
		return;
	arr = json_array();
	e = store_audit_list(r->api->store, (int)limit, (int)offset, audit_row_json, arr);
	api_respond_list(r, e, "audit", arr);
}

/* ---------------------------------------------------------------- /metrics */

void api_metrics(struct api_req *r)
{
	const char *want = r->api->auth->metrics_token, *tok = bearer(r->authorization);
	char *text = NULL;

	if (want) {
		if (!tok || !pwhash_equal(tok, want)) {
			api_error(r, 401,
				  "metrics: Authorization: Bearer <metrics_token> required");
			return;
		}
	} else if (!r->on_api_listener) {
		api_error(r, 404,
			  "metrics are served with a metrics_token, or on the api_listen "
			  "listener");
		return;
	}
	if (r->method != API_GET) {
		api_error(r, 405, "method not allowed on %s", r->path);
		return;
	}
	if (!r->api->metrics || r->api->metrics(r->api->metrics_ud, &text) < 0) {
		api_error(r, 500, "metrics unavailable");
		return;
	}
	api_respond_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}

const struct api_route api_auth_routes[] = {
    {API_POST, "api/login", post_login},
    {API_POST, "api/logout", post_logout},
    {API_GET, "api/me", get_me},
    {API_GET, "api/accounts", get_accounts},
    {API_POST, "api/accounts", post_account},
    {API_PUT, "api/accounts/*", put_account},
    {API_DELETE, "api/accounts/*", delete_account},
    {API_GET, "api/tokens", get_tokens},
    {API_POST, "api/tokens", post_token},
    {API_DELETE, "api/tokens/*", delete_token},
    {API_GET, "api/audit", get_audit},
    {0, NULL, NULL},
};
