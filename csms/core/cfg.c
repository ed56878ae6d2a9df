/* SPDX-License-Identifier: MIT */
/* Table-driven configuration: every key has a type, bounds and a field. */
#include "cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ocpp.h"

enum key_type {
	KEY_INT,
	KEY_STR,
	KEY_LISTEN,
	KEY_REG,
	KEY_LOG,
	KEY_SYNC,
	KEY_TOKENS,
	KEY_TIME,
	KEY_BOOL,
	KEY_API_LISTEN,
	KEY_LOG_FORMAT
};

struct key {
	const char *name;
	enum key_type type;
	size_t off;
	long min, max;
};

#define F(f) offsetof(struct cfg, f)
static const struct key keys[] = {
    {"allow_demo_clock", KEY_BOOL, F(allow_demo_clock), 0, 0},
    {"allow_open_registration", KEY_BOOL, F(allow_open_registration), 0, 0},
    {"api_listen", KEY_API_LISTEN, 0, 0, 0},
    {"api_tls_cert", KEY_STR, F(api_tls_cert), 0, 0},
    {"api_tls_key", KEY_STR, F(api_tls_key), 0, 0},
    {"auth_backoff_max_s", KEY_INT, F(auth_backoff_max_s), 1, 86400},
    {"auth_fail_free", KEY_INT, F(auth_fail_free), 0, 1000},
    {"boot_rate_per_s", KEY_INT, F(boot_rate_per_s), 1, 1000000},
    {"boot_timeout_s", KEY_INT, F(boot_timeout_s), 1, 3600},
    {"ca_dir", KEY_STR, F(ca_dir), 0, 0},
    {"call_burst", KEY_INT, F(call_burst), 1, 1000000},
    {"call_rate_per_s", KEY_INT, F(call_rate_per_s), 1, 1000000},
    {"call_timeout_ms", KEY_INT, F(call_timeout_ms), 10, 600000},
    {"cert_check_ms", KEY_INT, F(cert_check_ms), 100, 86400000},
    {"cert_days", KEY_INT, F(cert_days), 1, 3650},
    {"cert_renew_days", KEY_INT, F(cert_renew_days), 1, 3650},
    {"clock_anchor", KEY_TIME, F(clock_anchor_ms), 0, 0},
    {"clock_speed", KEY_INT, F(clock_speed), 1, 100000},
    {"clock_start", KEY_TIME, F(clock_start_ms), 0, 0},
    {"commits_in_flight", KEY_INT, F(commits_in_flight), 0, 64},
    {"db", KEY_STR, F(db_path), 0, 0},
    {"drain_ms", KEY_INT, F(drain_ms), 0, 60000},
    {"heartbeat_interval_s", KEY_INT, F(heartbeat_interval_s), 1, 86400},
    {"id_tokens", KEY_TOKENS, F(id_tokens), 0, 0},
    {"idle_factor", KEY_INT, F(idle_factor), 2, 100},
    {"kdf_iterations", KEY_INT, F(kdf_iterations), 1, 10000000},
    {"late_answer_ms", KEY_INT, F(late_answer_ms), 0, 3600000},
    {"listen", KEY_LISTEN, 0, 0, 0},
    {"log_format", KEY_LOG_FORMAT, F(log_json), 0, 0},
    {"log_level", KEY_LOG, F(log_level), 0, 0},
    {"login_fail_burst", KEY_INT, F(login_fail_burst), 1, 1000},
    {"login_fail_refill_s", KEY_INT, F(login_fail_refill_s), 1, 86400},
    {"max_call_queue", KEY_INT, F(max_call_queue), 1, 100000},
    {"max_connections", KEY_INT, F(max_connections), 1, 10000000},
    {"max_connections_per_address", KEY_INT, F(max_connections_per_address), 1, 10000000},
    {"max_connectors", KEY_INT, F(max_connectors), 1, 4096},
    {"max_frame_bytes", KEY_INT, F(max_frame_bytes), 1024, 16 * 1024 * 1024},
    {"max_list_items", KEY_INT, F(max_list_items), 1, 100000},
    {"max_pending_stations", KEY_INT, F(max_pending_stations), 0, 10000000},
    {"max_tx_queue", KEY_INT, F(max_tx_queue), 1, 100000},
    {"metrics_token", KEY_STR, F(metrics_token), 0, 0},
    {"node_id", KEY_STR, F(node_id), 0, 0},
    {"owner_lease_ms", KEY_INT, F(owner_lease_ms), 1000, 3600000},
    {"pending_interval_s", KEY_INT, F(pending_interval_s), 1, 86400},
    {"planner_wear_fen_per_mwh", KEY_INT, F(planner_wear_fen_per_mwh), 0, 100000000},
    {"port_file", KEY_STR, F(port_file), 0, 0},
    {"public_url", KEY_STR, F(public_url), 0, 0},
    {"registration", KEY_REG, F(registration), 0, 0},
    {"registration_rate_per_s", KEY_INT, F(registration_rate_per_s), 1, 1000000},
    {"session_idle_s", KEY_INT, F(session_idle_s), 60, 7 * 86400},
    {"session_lifetime_s", KEY_INT, F(session_lifetime_s), 300, 30 * 86400},
    {"station_boot_burst", KEY_INT, F(station_boot_burst), 1, 1000},
    {"station_boot_interval_s", KEY_INT, F(station_boot_interval_s), 1, 86400},
    {"sync", KEY_SYNC, F(sync_full), 0, 0},
    {"tls_allow_plain", KEY_BOOL, F(tls_allow_plain), 0, 0},
    {"tls_cert", KEY_STR, F(tls_cert), 0, 0},
    {"tls_client_ca", KEY_STR, F(tls_client_ca), 0, 0},
    {"tls_key", KEY_STR, F(tls_key), 0, 0},
    {"tls_min_version", KEY_STR, F(tls_min_version), 0, 0},
    {"web_root", KEY_STR, F(web_root), 0, 0},
};
#undef F

static const char *const reg_names[_CFG_REG_MAX] = {
    [CFG_REG_CLOSED] = "closed",
    [CFG_REG_PENDING] = "pending",
    [CFG_REG_OPEN] = "open",
};

const char *cfg_registration_name(int r)
{
	return r >= 0 && r < _CFG_REG_MAX ? reg_names[r] : "?";
}

void cfg_init(struct cfg *c)
{
	*c = (struct cfg){
	    .listen_host = "127.0.0.1",
	    .listen_port = 8180,
	    .db_path = strdup("csms.db"),
	    .registration = CFG_REG_CLOSED,
	    .log_level = LOG_NOTICE,
	    .heartbeat_interval_s = 300,
	    .pending_interval_s = 60,
	    .call_timeout_ms = 30000,
	    .owner_lease_ms = 30000,
	    .late_answer_ms = 0,
	    .planner_wear_fen_per_mwh = 20000, /* 20 fen (0.20 yuan) per kWh discharged */
	    .max_frame_bytes = 65536,
	    .max_tx_queue = 64,
	    .max_call_queue = 32,
	    .max_connectors = 64,
	    .max_list_items = 256,
	    .boot_rate_per_s = 2000,
	    .kdf_iterations = 100000,
	    .drain_ms = 2000,
	    .sync_full = true,
	    .clock_speed = 1,
	    .session_idle_s = 1800,
	    .session_lifetime_s = 12 * 3600,
	    .login_fail_burst = 5,
	    .login_fail_refill_s = 30,
	    .boot_timeout_s = 60,
	    .idle_factor = 3,
	    .max_connections = 50000,
	    .max_connections_per_address = 1000,
	    .call_rate_per_s = 20,
	    .call_burst = 200,
	    .station_boot_burst = 10,
	    .station_boot_interval_s = 20,
	    .registration_rate_per_s = 50,
	    .max_pending_stations = 1000,
	    .auth_fail_free = 5,
	    .auth_backoff_max_s = 60,
	    .cert_days = 365,
	    .cert_renew_days = 30,
	    .cert_check_ms = 60000,
	};
#ifdef CSMS_WEB_ROOT
	c->web_root =
	    strdup(CSMS_WEB_ROOT); /* the dashboard of the source tree it was built from */
#endif
}

void cfg_free(struct cfg *c)
{
	free(c->db_path);
	free(c->port_file);
	free(c->web_root);
	free(c->api_tls_cert);
	free(c->api_tls_key);
	free(c->public_url);
	free(c->metrics_token);
	json_decref(c->id_tokens);
	c->api_tls_cert = c->api_tls_key = c->public_url = c->metrics_token = NULL;
	free(c->ca_dir);
	c->ca_dir = NULL;
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_client_ca);
	free(c->tls_min_version);
	c->tls_cert = c->tls_key = c->tls_client_ca = c->tls_min_version = NULL;
	free(c->node_id);
	c->node_id = NULL;
	c->db_path = c->port_file = c->web_root = NULL;
	c->id_tokens = NULL;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int parse_host_port(const char *key, const char *v, char *host, size_t host_len,
			   int *ret_port, char *err, size_t err_len)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (!colon || colon == v || (size_t)(colon - v) >= host_len) {
		snprintf(err, err_len, "%s: expected HOST:PORT, got \"%s\"", key, v);
		return -EINVAL;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535) {
		snprintf(err, err_len, "%s: bad port in \"%s\"", key, v);
		return -EINVAL;
	}
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = '\0';
	*ret_port = (int)port;
	return 0;
}

static int parse_listen(struct cfg *c, const char *v, char *err, size_t err_len)
{
	return parse_host_port("listen", v, c->listen_host, sizeof(c->listen_host), &c->listen_port,
			       err, err_len);
}

/* Apply key k from either a JSON value (jv) or a string (sv). */
static int apply(struct cfg *c, const struct key *k, const json_t *jv, const char *sv, char *err,
		 size_t err_len)
{
	char *base = (char *)c;
	long n;
	int r;

	if (k->type == KEY_TOKENS) {
		size_t i;
		json_t *t;

		if (!jv || !json_is_array(jv))
			goto bad_type;
		json_array_foreach(jv, i, t) {
			if (!json_is_object(t) || !json_is_string(json_object_get(t, "token"))) {
				snprintf(err, err_len,
					 "id_tokens[%zu]: expected {\"token\": \"...\", ...}", i);
				return -EINVAL;
			}
		}
		json_decref(c->id_tokens);
		c->id_tokens = json_deep_copy(jv);
		return 0;
	}
	if (jv) {
		if (k->type == KEY_BOOL) {
			if (!json_is_boolean(jv))
				goto bad_type;
			*(bool *)(base + k->off) = json_is_true(jv);
			return 0;
		}
		if (k->type == KEY_INT) {
			if (!json_is_integer(jv))
				goto bad_type;
			n = (long)json_integer_value(jv);
			goto set_int;
		}
		if (!json_is_string(jv))
			goto bad_type;
		sv = json_string_value(jv);
	}
	switch (k->type) {
	case KEY_INT: {
		char *end;

		errno = 0;
		n = strtol(sv, &end, 10);
		if (errno || end == sv || *end) {
			snprintf(err, err_len, "%s: not an integer: \"%s\"", k->name, sv);
			return -EINVAL;
		}
		goto set_int;
	}
	case KEY_STR: {
		char **dst = (char **)(base + k->off);
		char *dup = strdup(sv);

		if (!dup)
			return -ENOMEM;
		free(*dst);
		*dst = dup;
		return 0;
	}
	case KEY_LISTEN:
		return parse_listen(c, sv, err, err_len);
	case KEY_API_LISTEN:
		return parse_host_port("api_listen", sv, c->api_listen_host,
				       sizeof(c->api_listen_host), &c->api_listen_port, err,
				       err_len);
	case KEY_LOG_FORMAT:
		if (strcmp(sv, "text") && strcmp(sv, "json")) {
			snprintf(err, err_len, "log_format: expected text or json, got \"%s\"", sv);
			return -EINVAL;
		}
		c->log_json = strcmp(sv, "json") == 0;
		return 0;
	case KEY_REG:
		for (int i = 0; i < _CFG_REG_MAX; i++)
			if (strcmp(sv, reg_names[i]) == 0) {
				c->registration = i;
				return 0;
			}
		snprintf(err, err_len, "registration: expected closed, pending or open, got \"%s\"",
			 sv);
		return -EINVAL;
	case KEY_LOG:
		r = log_level_from_string(sv);
		if (r < 0) {
			snprintf(err, err_len,
				 "log_level: expected err, warn, notice, info or debug, got \"%s\"",
				 sv);
			return -EINVAL;
		}
		c->log_level = r;
		return 0;
	case KEY_SYNC:
		if (strcmp(sv, "full") && strcmp(sv, "normal")) {
			snprintf(err, err_len, "sync: expected full or normal, got \"%s\"", sv);
			return -EINVAL;
		}
		c->sync_full = strcmp(sv, "full") == 0;
		return 0;
	case KEY_TIME:
		if (ocpp_time_parse(sv, (int64_t *)(base + k->off)) < 0) {
			snprintf(err, err_len, "%s: expected an RFC 3339 date-time, got \"%s\"",
				 k->name, sv);
			return -EINVAL;
		}
		return 0;
	case KEY_BOOL:
		if (strcmp(sv, "true") && strcmp(sv, "false")) {
			snprintf(err, err_len, "%s: expected true or false, got \"%s\"", k->name,
				 sv);
			return -EINVAL;
		}
		*(bool *)(base + k->off) = strcmp(sv, "true") == 0;
		return 0;
	case KEY_TOKENS:
		break;
	}
	return -EINVAL;

set_int:
	if (n < k->min || n > k->max) {
		snprintf(err, err_len, "%s: %ld is out of range %ld..%ld", k->name, n, k->min,
			 k->max);
		return -EINVAL;
	}
	*(int *)(base + k->off) = (int)n;
	return 0;

bad_type:
	snprintf(err, err_len, "%s: wrong type", k->name);
	return -EINVAL;
}

/* Error messages quote keys and values from the input: keep them on one line. */
static int one_line(int r, char *err)
{
	if (r < 0)
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	return r;
}

int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t err_len)
{
	const struct key *k = find_key(key);

	if (!k || k->type == KEY_TOKENS) {
		snprintf(err, err_len, "unknown setting \"%s\"", key);
		return one_line(-EINVAL, err);
	}
	return one_line(apply(c, k, NULL, value, err, err_len), err);
}

int cfg_load_file(struct cfg *c, const char *path, char *err, size_t err_len)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	const char *name;
	json_t *v;
	int r = 0;

	if (!root) {
		snprintf(err, err_len, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return one_line(-EINVAL, err);
	}
	if (!json_is_object(root)) {
		snprintf(err, err_len, "%s: expected a JSON object", path);
		r = -EINVAL;
		goto out;
	}
	json_object_foreach(root, name, v) {
		const struct key *k = find_key(name);
		char kerr[200];

		if (!k) {
			snprintf(err, err_len, "%s: unknown setting \"%s\"", path, name);
			r = -EINVAL;
			goto out;
		}
		r = apply(c, k, v, NULL, kerr, sizeof(kerr));
		if (r < 0) {
			snprintf(err, err_len, "%s: %s", path, kerr);
			goto out;
		}
	}
out:
	json_decref(root);
	return one_line(r, err);
}

bool cfg_clock_simulated(const struct cfg *c)
{
	return c->clock_start_ms != 0 || c->clock_speed != 1 || c->clock_anchor_ms != 0;
}

bool cfg_host_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}

static bool loopback(const char *host)
{
	return cfg_host_loopback(host);
}

int cfg_check(const struct cfg *c, char *err, size_t err_len)
{
	if (c->clock_anchor_ms && !c->clock_start_ms) {
		snprintf(err, err_len, "clock_anchor needs clock_start");
		return -EINVAL;
	}
	if (cfg_clock_simulated(c) && !loopback(c->listen_host) && !c->allow_demo_clock) {
		snprintf(err, err_len,
			 "clock_start/clock_speed make a demo clock; refused on the non-loopback "
			 "listener %s (set allow_demo_clock to run a demo there)",
			 c->listen_host);
		return one_line(-EINVAL, err);
	}
	if (c->registration == CFG_REG_OPEN && !loopback(c->listen_host) &&
	    !c->allow_open_registration) {
		snprintf(
		    err, err_len,
		    "registration open is a lab policy (any charger is Accepted, one without a "
		    "credential can be impersonated); refused on the non-loopback listener %s "
		    "(set allow_open_registration to run it there)",
		    c->listen_host);
		return one_line(-EINVAL, err);
	}
	if (!c->api_listen_host[0] && (c->api_tls_cert || c->api_tls_key)) {
		snprintf(err, err_len,
			 "api_tls_cert/api_tls_key belong to api_listen, which is not set");
		return -EINVAL;
	}
	if (!!c->api_tls_cert != !!c->api_tls_key) {
		snprintf(err, err_len, "api_tls_cert and api_tls_key go together");
		return -EINVAL;
	}
	if (c->api_listen_host[0] && !loopback(c->api_listen_host) && !c->api_tls_cert) {
		snprintf(err, err_len,
			 "api_listen %s:%d is not loopback: refusing to serve the operator API "
			 "without TLS (set api_tls_cert and api_tls_key)",
			 c->api_listen_host, c->api_listen_port);
		return one_line(-EINVAL, err);
	}
	/* the API shares a non-loopback charger listener: only over TLS (plain ws:// chargers
	 * there need api_listen for the operators) */
	if (!c->api_listen_host[0] && !loopback(c->listen_host) &&
	    (!c->tls_cert || c->tls_allow_plain)) {
		snprintf(
		    err, err_len,
		    "listen %s:%d is not loopback and the operator API would share it in clear "
		    "text: set api_listen (loopback, or with api_tls_cert), or tls_cert and "
		    "tls_key without tls_allow_plain",
		    c->listen_host, c->listen_port);
		return one_line(-EINVAL, err);
	}
	/* ---- TLS of the charger listener */
	if (!!c->tls_cert != !!c->tls_key) {
		snprintf(err, err_len, "tls_cert and tls_key go together");
		return -EINVAL;
	}
	if (!c->tls_cert && (c->tls_client_ca || c->tls_allow_plain || c->tls_min_version)) {
		snprintf(err, err_len,
			 "tls_client_ca, tls_allow_plain and tls_min_version need tls_cert and "
			 "tls_key");
		return -EINVAL;
	}
	if (c->tls_min_version && strcmp(c->tls_min_version, "1.2") &&
	    strcmp(c->tls_min_version, "1.3")) {
		snprintf(err, err_len, "tls_min_version: expected 1.2 or 1.3");
		return -EINVAL;
	}
	/* ---- end TLS */
	if (c->metrics_token && strlen(c->metrics_token) < 16) {
		snprintf(err, err_len, "metrics_token: at least 16 characters");
		return -EINVAL;
	}
	if (c->public_url && strncmp(c->public_url, "http://", 7) &&
	    strncmp(c->public_url, "https://", 8)) {
		snprintf(err, err_len,
			 "public_url: expected http://HOST[:PORT] or https://HOST[:PORT]");
		return -EINVAL;
	}
	return 0;
}
