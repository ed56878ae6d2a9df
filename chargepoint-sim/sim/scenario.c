/* SPDX-License-Identifier: MIT */
/* Scenario parsing: command-line flags and the JSON scenario file, with bounds on everything. */
#include "scenario.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocpp.h"

#define PW_FILE_MAX (64u << 20) /* bytes of --password-file */

static const char *const proto_names[_CPSIM_PROTO_MAX] = {
    [CPSIM_PROTO_V16] = "ocpp1.6",
    [CPSIM_PROTO_V201] = "ocpp2.0.1",
    [CPSIM_PROTO_MIXED] = "mixed",
    [CPSIM_PROTO_AUTO] = "auto",
};

static int proto_from_name(const char *s)
{
	for (int i = 0; s && i < _CPSIM_PROTO_MAX; i++)
		if (!strcmp(s, proto_names[i]))
			return i;
	return -EINVAL;
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void cpsim_scenario_defaults(struct cpsim_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->host, sizeof(sc->host), "127.0.0.1");
	sc->port = 8180;
	snprintf(sc->path, sizeof(sc->path), "/ocpp");
	snprintf(sc->id_prefix, sizeof(sc->id_prefix), "SIM");
	sc->tag_pool = 1000;
	sc->ll_per_message = 256;
	sc->auth = CPSIM_AUTH_CHECK;
	sc->speed = 1.0;
	sc->duration_s = 60;
	sc->drain_s = 10;
	sc->meter_s = 60;
	sc->call_timeout_s = 30;
	sc->ramp_per_s = 1000;
	sc->max_connecting = 1000;
	sc->reconnect_min_s = 1;
	sc->reconnect_max_s = 60;
	sc->faults.offline_min_s = 600;
	sc->faults.offline_max_s = 3600;
	sc->faults.delay_ms = 2000;
	sc->storm_share = 1.0;
	sc->per_process = 19000;
	sc->per_address = 10000;
	snprintf(sc->source_base, sizeof(sc->source_base), "127.0.0.2");
	sc->progress_s = 0; /* resolved in finish: 1 s on a terminal, 10 s otherwise */
	sc->seed = 1;
}

void cpsim_scenario_free(struct cpsim_scenario *sc)
{
	for (size_t i = 0; i < sc->npw; i++) {
		free(sc->pw[i].id);
		if (sc->pw[i].password)
			explicit_bzero(sc->pw[i].password, strlen(sc->pw[i].password));
		free(sc->pw[i].password);
	}
	free(sc->pw);
	if (sc->password)
		explicit_bzero(sc->password, strlen(sc->password));
	free(sc->password);
	free(sc->json_file);
	free(sc->emit_stations);
	free(sc->emit_config);
	free(sc->emit_ratings);
	free(sc->trace_calls);
	sc->trace_calls = NULL;
	sc->pw = NULL;
	sc->npw = 0;
	sc->password = sc->json_file = sc->emit_stations = sc->emit_config = NULL;
	sc->emit_ratings = NULL;
	free(sc->tls_ca);
	free(sc->tls_cert);
	free(sc->tls_key);
	free(sc->tls_server_name);
	sc->tls_ca = sc->tls_cert = sc->tls_key = sc->tls_server_name = NULL;
	free(sc->tls_cert_dir);
	free(sc->tls_client_ca);
	free(sc->tls_client_ca_key);
	sc->tls_cert_dir = sc->tls_client_ca = sc->tls_client_ca_key = NULL;
}

int cpsim_scenario_set_url(struct cpsim_scenario *sc, const char *url)
{
	const char *p, *colon, *slash;
	char *end;
	long port;

	if (strncmp(url, "wss://", 6) == 0) {
		sc->tls = true;
		p = url + 6;
	} else if (strncmp(url, "ws://", 5) == 0) {
		p = url + 5;
	} else {
		return -EINVAL;
	}
	slash = strchr(p, '/');
	colon = strchr(p, ':');
	if (!colon || (slash && colon > slash) || colon == p ||
	    (size_t)(colon - p) >= sizeof(sc->host))
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/'))
		return -EINVAL;
	memcpy(sc->host, p, (size_t)(colon - p));
	sc->host[colon - p] = '\0';
	sc->port = (int)port;
	if (!slash) {
		sc->path[0] = '\0';
	} else {
		size_t n = strlen(slash);

		while (n > 0 && slash[n - 1] == '/')
			n--;
		if (n >= sizeof(sc->path))
			return -EINVAL;
		memcpy(sc->path, slash, n);
		sc->path[n] = '\0';
	}
	return 0;
}

/* ---------------------------------------------------------------- values */

static int parse_double(const char *s, double lo, double hi, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *ret)
{
	char *end;
	unsigned long long v;

	if (*s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int cmp_pw(const void *a, const void *b)
{
	return strcmp(((const struct cpsim_password *)a)->id,
		      ((const struct cpsim_password *)b)->id);
}

/* "id,password" or "id password" lines; a "charger_id,..." header selects the password column. */
static int load_passwords(struct cpsim_scenario *sc, const char *path, char *err, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int pw_col = 1, lineno = 0, r = 0;
	size_t cap = 0;

	if (!f)
		return fail(err, len, "password-file: cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *fields[8] = {0}, *p = line, *sep;
		int nf = 0;
		bool comma = strchr(line, ',') != NULL;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		while (nf < 8) {
			fields[nf++] = p;
			sep = comma ? strchr(p, ',') : strpbrk(p, " \t");
			if (!sep)
				break;
			*sep = '\0';
			p = sep + 1;
			while (!comma && (*p == ' ' || *p == '\t'))
				p++;
		}
		if (lineno == 1 && !strcmp(fields[0], "charger_id")) {
			pw_col = -1;
			for (int i = 0; i < nf; i++)
				if (!strcmp(fields[i], "password"))
					pw_col = i;
			if (pw_col < 0) {
				r = fail(err, len, "%s:1: header has no password column", path);
				break;
			}
			continue;
		}
		if (nf <= pw_col || !fields[0][0]) {
			r = fail(err, len, "%s:%d: expected charger_id and password", path, lineno);
			break;
		}
		if (sc->npw == cap) {
			struct cpsim_password *n;

			cap = cap ? cap * 2 : 256;
			n = realloc(sc->pw, cap * sizeof(*n));
			if (!n) {
				r = fail(err, len, "password-file: out of memory");
				break;
			}
			sc->pw = n;
		}
		sc->pw[sc->npw].id = strdup(fields[0]);
		sc->pw[sc->npw].password = strdup(fields[pw_col]);
		if (!sc->pw[sc->npw].id || !sc->pw[sc->npw].password) {
			free(sc->pw[sc->npw].id);
			free(sc->pw[sc->npw].password);
			r = fail(err, len, "password-file: out of memory");
			break;
		}
		sc->npw++;
		if ((size_t)ftell(f) > PW_FILE_MAX) {
			r = fail(err, len, "password-file: larger than %u bytes", PW_FILE_MAX);
			break;
		}
	}
	fclose(f);
	if (r == 0)
		qsort(sc->pw, sc->npw, sizeof(*sc->pw), cmp_pw);
	return r;
}

static int set_password(struct cpsim_scenario *sc, const char *pw)
{
	free(sc->password);
	sc->password = strdup(pw);
	return sc->password ? 0 : -ENOMEM;
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

/* "public=30,residential=60,rural=8,swap=2" (shares or counts) -> groups over total */
static int set_mix(struct cpsim_scenario *sc, const char *spec, uint32_t total,
		   enum cpsim_proto proto, char *err, size_t len)
{
	double share[_CPSIM_KIND_MAX] = {0}, sum = 0;
	char buf[256], *save = NULL, *tok;
	uint32_t given = 0;

	if (strlen(spec) >= sizeof(buf))
		return fail(err, len, "mix: too long");
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int k;

		if (!eq)
			return fail(err, len, "mix: expected kind=share, got \"%s\"", tok);
		*eq = '\0';
		k = cpsim_kind_from_name(tok);
		if (k < 0)
			return fail(err, len, "mix: unknown site kind \"%s\"", tok);
		if (parse_double(eq + 1, 0, 1e9, &share[k]) < 0)
			return fail(err, len, "mix: bad share \"%s\"", eq + 1);
		sum += share[k];
	}
	if (!(sum > 0))
		return fail(err, len, "mix: all shares are zero");
	sc->ngroups = 0;
	for (int k = 0; k < _CPSIM_KIND_MAX; k++) {
		uint32_t n;

		if (!(share[k] > 0))
			continue;
		n = (uint32_t)floor((double)total * share[k] / sum);
		sc->groups[sc->ngroups] = (struct cpsim_group){
		    .kind = k,
		    .proto = proto,
		    .count = n,
		    .v2g_share = -1,
		};
		given += n;
		sc->ngroups++;
	}
	/* rounding leftovers go to the largest group */
	if (given < total && sc->ngroups) {
		unsigned big = 0;

		for (unsigned g = 1; g < sc->ngroups; g++)
			if (sc->groups[g].count > sc->groups[big].count)
				big = g;
		sc->groups[big].count += total - given;
	}
	return 0;
}

/* ---------------------------------------------------------------- JSON */

static int json_num(const json_t *o, const char *key, double lo, double hi, double *ret, char *err,
		    size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < lo ||
	    json_number_value(v) > hi)
		return fail(err, len, "%s: expected a number in %g..%g", key, lo, hi);
	*ret = json_number_value(v);
	return 0;
}

static int json_u32(const json_t *o, const char *key, uint32_t lo, uint32_t hi, uint32_t *ret,
		    char *err, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(err, len, "%s: expected an integer in %u..%u", key, lo, hi);
	*ret = (uint32_t)json_integer_value(v);
	return 0;
}

static int check_keys(const json_t *o, const char *const *allowed, const char *where, char *err,
		      size_t len)
{
	const char *key;
	const json_t *v;

	ocpp_json_object_foreach(o, key, v) {
		bool ok = false;

		for (unsigned i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok)
			return fail(err, len, "%s: unknown key \"%s\"", where, key);
	}
	return 0;
}

static int load_faults(const json_t *o, struct cpsim_faults *f, char *err, size_t len)
{
	static const char *const keys[] = {
	    "drop_per_hour", "offline_per_hour", "offline_s",	    "delay_share",
	    "delay_ms",	     "malformed_share",	 "duplicate_share", NULL};
	const json_t *off;
	int r;

	if (!json_is_object(o))
		return fail(err, len, "faults: expected an object");
	if ((r = check_keys(o, keys, "faults", err, len)) < 0 ||
	    (r = json_num(o, "drop_per_hour", 0, 3600, &f->drop_per_h, err, len)) < 0 ||
	    (r = json_num(o, "offline_per_hour", 0, 3600, &f->offline_per_h, err, len)) < 0 ||
	    (r = json_num(o, "delay_share", 0, 1, &f->delay_share, err, len)) < 0 ||
	    (r = json_num(o, "delay_ms", 0, 600000, &f->delay_ms, err, len)) < 0 ||
	    (r = json_num(o, "malformed_share", 0, 1, &f->malformed_share, err, len)) < 0 ||
	    (r = json_num(o, "duplicate_share", 0, 1, &f->duplicate_share, err, len)) < 0)
		return r;
	off = json_object_get(o, "offline_s");
	if (off) {
		if (!json_is_array(off) || json_array_size(off) != 2 ||
		    !json_is_number(json_array_get(off, 0)) ||
		    !json_is_number(json_array_get(off, 1)))
			return fail(err, len, "faults.offline_s: expected [min, max]");
		f->offline_min_s = json_number_value(json_array_get(off, 0));
		f->offline_max_s = json_number_value(json_array_get(off, 1));
		if (!(f->offline_min_s >= 1) || f->offline_max_s < f->offline_min_s ||
		    f->offline_max_s > 7 * 86400)
			return fail(err, len, "faults.offline_s: need 1 <= min <= max <= 604800");
	}
	return 0;
}

static int load_group(struct cpsim_scenario *sc, const json_t *o, unsigned i, char *err, size_t len)
{
	static const char *const keys[] = {"kind",     "count",	    "protocol", "connectors",
					   "power_kw", "v2g_share", "faults",	"site_size",
					   "soc",      NULL};
	struct cpsim_group *g = &sc->groups[i];
	const char *kind, *proto;
	const json_t *v;
	uint32_t u = 0;
	int r;

	*g = (struct cpsim_group){.proto = CPSIM_PROTO_V16, .v2g_share = -1};
	if (!json_is_object(o))
		return fail(err, len, "groups[%u]: expected an object", i);
	if ((r = check_keys(o, keys, "groups[]", err, len)) < 0)
		return r;
	kind = json_string_value(json_object_get(o, "kind"));
	if (!kind || (r = cpsim_kind_from_name(kind)) < 0)
		return fail(err, len,
			    "groups[%u].kind: expected public, residential, rural or swap", i);
	g->kind = r;
	proto = json_string_value(json_object_get(o, "protocol"));
	if (proto && (r = proto_from_name(proto)) < 0)
		return fail(err, len,
			    "groups[%u].protocol: expected ocpp1.6, ocpp2.0.1, mixed or auto", i);
	if (proto)
		g->proto = r;
	if ((r = json_u32(o, "count", 0, CPSIM_CHARGERS_MAX, &g->count, err, len)) < 0 ||
	    (r = json_u32(o, "connectors", 1, 32, &u, err, len)) < 0 ||
	    (r = json_num(o, "power_kw", 0.1, 2000, &g->power_kw, err, len)) < 0 ||
	    (r = json_num(o, "v2g_share", 0, 1, &g->v2g_share, err, len)) < 0)
		return r;
	g->connectors = u;
	u = 0;
	if ((r = json_u32(o, "site_size", 1, CPSIM_CHARGERS_MAX, &u, err, len)) < 0)
		return r;
	g->site_size = u;
	if ((v = json_object_get(o, "soc"))) {
		if (!json_is_array(v) || json_array_size(v) != 2 ||
		    !json_is_number(json_array_get(v, 0)) || !json_is_number(json_array_get(v, 1)))
			return fail(err, len, "groups[%u].soc: expected [lo, hi]", i);
		g->soc_lo = json_number_value(json_array_get(v, 0));
		g->soc_hi = json_number_value(json_array_get(v, 1));
		if (!(g->soc_lo >= 0 && g->soc_lo < g->soc_hi && g->soc_hi <= 1))
			return fail(err, len, "groups[%u].soc: need 0 <= lo < hi <= 1", i);
	}
	if (!json_object_get(o, "count"))
		return fail(err, len, "groups[%u].count: required", i);
	if (json_object_get(o, "faults")) {
		g->faults = sc->faults;
		g->has_faults = true;
		if ((r = load_faults(json_object_get(o, "faults"), &g->faults, err, len)) < 0)
			return r;
	}
	return 0;
}

int cpsim_scenario_load_json(struct cpsim_scenario *sc, const char *path, const char *text,
			     char *err, size_t len)
{
	static const char *const keys[] = {"url",
					   "chargers",
					   "protocol",
					   "mix",
					   "password",
					   "password_file",
					   "id_prefix",
					   "heartbeat_s",
					   "meter_interval_s",
					   "aligned_interval_s",
					   "speed",
					   "start_time",
					   "timestamps",
					   "clock_anchor",
					   "utc_offset",
					   "duration_s",
					   "ramp_per_s",
					   "drain_s",
					   "call_timeout_s",
					   "seed",
					   "steady",
					   "steady_at_s",
					   "auth",
					   "tag_pool",
					   "local_list_per_message",
					   "per_process",
					   "per_address",
					   "max_connecting",
					   "progress_interval_s",
					   "validate",
					   "faults",
					   "storms_at_s",
					   "storm_share",
					   "groups",
					   "reconnect_s",
					   NULL};
	json_error_t je;
	json_t *root, *v;
	const char *s;
	uint32_t u;
	int r = -EINVAL;

	root = text ? json_loads(text, JSON_REJECT_DUPLICATES, &je)
		    : json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fail(err, len, "%s:%d: %s", path ? path : "scenario", je.line, je.text);
	if (!json_is_object(root)) {
		fail(err, len, "%s: expected a JSON object", path ? path : "scenario");
		goto out;
	}
	if (check_keys(root, keys, "scenario", err, len) < 0)
		goto out;
	if ((s = json_string_value(json_object_get(root, "url"))) &&
	    cpsim_scenario_set_url(sc, s) < 0) {
		fail(err, len, "url: expected ws[s]://HOST:PORT/PATH");
		goto out;
	}
	if ((s = json_string_value(json_object_get(root, "password"))) && set_password(sc, s) < 0)
		goto out;
	if ((s = json_string_value(json_object_get(root, "password_file"))) &&
	    load_passwords(sc, s, err, len) < 0)
		goto out;
	if ((s = json_string_value(json_object_get(root, "id_prefix")))) {
		if (!s[0] || strlen(s) >= sizeof(sc->id_prefix) || strpbrk(s, "/?#%\" ")) {
			fail(err, len, "id_prefix: 1..11 characters, no / ? # %% \" or space");
			goto out;
		}
		snprintf(sc->id_prefix, sizeof(sc->id_prefix), "%s", s);
	}
	if ((s = json_string_value(json_object_get(root, "start_time"))) &&
	    ocpp_time_parse(s, &sc->sim_start_ms) < 0) {
		fail(err, len, "start_time: expected an RFC 3339 date-time");
		goto out;
	}
	if ((s = json_string_value(json_object_get(root, "clock_anchor"))) &&
	    ocpp_time_parse(s, &sc->sim_anchor_ms) < 0) {
		fail(err, len, "clock_anchor: expected an RFC 3339 date-time");
		goto out;
	}
	if ((s = json_string_value(json_object_get(root, "utc_offset"))) &&
	    cpsim_parse_utc_offset(s, &sc->utc_offset_min) < 0) {
		fail(err, len, "utc_offset: expected +HH:MM or -HH:MM within 14 hours");
		goto out;
	}
	if ((s = json_string_value(json_object_get(root, "timestamps")))) {
		if (strcmp(s, "sim") && strcmp(s, "wall")) {
			fail(err, len, "timestamps: expected wall or sim");
			goto out;
		}
		sc->timestamps_sim = !strcmp(s, "sim");
	}
	if ((s = json_string_value(json_object_get(root, "auth")))) {
		if (strcmp(s, "check") && strcmp(s, "skip")) {
			fail(err, len, "auth: expected check or skip");
			goto out;
		}
		sc->auth = !strcmp(s, "skip") ? CPSIM_AUTH_SKIP : CPSIM_AUTH_CHECK;
	}
	if (json_num(root, "heartbeat_s", 0, 86400, &sc->heartbeat_s, err, len) < 0 ||
	    json_num(root, "meter_interval_s", 0.01, 86400, &sc->meter_s, err, len) < 0 ||
	    json_num(root, "speed", 0.001, 1e6, &sc->speed, err, len) < 0 ||
	    json_num(root, "duration_s", 0, CPSIM_DURATION_MAX_S, &sc->duration_s, err, len) < 0 ||
	    json_num(root, "ramp_per_s", 0, 1e6, &sc->ramp_per_s, err, len) < 0 ||
	    json_num(root, "drain_s", 0, 600, &sc->drain_s, err, len) < 0 ||
	    json_num(root, "call_timeout_s", 0.1, 600, &sc->call_timeout_s, err, len) < 0 ||
	    json_num(root, "steady_at_s", 0, CPSIM_DURATION_MAX_S, &sc->steady_at_s, err, len) <
		0 ||
	    json_num(root, "progress_interval_s", 0.1, 3600, &sc->progress_s, err, len) < 0 ||
	    json_num(root, "storm_share", 0, 1, &sc->storm_share, err, len) < 0 ||
	    json_u32(root, "tag_pool", 1, 1000000, &sc->tag_pool, err, len) < 0 ||
	    json_u32(root, "aligned_interval_s", 0, 86400, &sc->aligned_s, err, len) < 0 ||
	    json_u32(root, "local_list_per_message", 1, 256, &sc->ll_per_message, err, len) < 0 ||
	    json_u32(root, "per_process", 1, 1000000, &sc->per_process, err, len) < 0 ||
	    json_u32(root, "per_address", 1, 60000, &sc->per_address, err, len) < 0 ||
	    json_u32(root, "max_connecting", 1, 100000, &sc->max_connecting, err, len) < 0)
		goto out;
	u = 0;
	if (json_u32(root, "seed", 0, UINT32_MAX, &u, err, len) < 0)
		goto out;
	if (json_object_get(root, "seed"))
		sc->seed = u;
	if ((v = json_object_get(root, "reconnect_s"))) {
		if (!json_is_array(v) || json_array_size(v) != 2 ||
		    !json_is_number(json_array_get(v, 0)) ||
		    !json_is_number(json_array_get(v, 1)) ||
		    json_number_value(json_array_get(v, 0)) < 0.01 ||
		    json_number_value(json_array_get(v, 1)) <
			json_number_value(json_array_get(v, 0)) ||
		    json_number_value(json_array_get(v, 1)) > 3600) {
			fail(err, len, "reconnect_s: expected [min, max] seconds");
			goto out;
		}
		sc->reconnect_min_s = json_number_value(json_array_get(v, 0));
		sc->reconnect_max_s = json_number_value(json_array_get(v, 1));
	}
	if ((v = json_object_get(root, "steady")))
		sc->steady = json_is_true(v);
	if ((v = json_object_get(root, "validate")))
		sc->validate = json_is_true(v);
	if ((v = json_object_get(root, "faults")) && load_faults(v, &sc->faults, err, len) < 0)
		goto out;
	if ((v = json_object_get(root, "storms_at_s"))) {
		size_t i;
		json_t *t;

		if (!json_is_array(v) || json_array_size(v) > CPSIM_STORMS_MAX) {
			fail(err, len, "storms_at_s: expected an array of at most %d times",
			     CPSIM_STORMS_MAX);
			goto out;
		}
		sc->nstorms = 0;
		json_array_foreach(v, i, t) {
			if (!json_is_number(t) || json_number_value(t) < 0) {
				fail(err, len, "storms_at_s[%zu]: expected seconds >= 0", i);
				goto out;
			}
			sc->storm_at_s[sc->nstorms++] = json_number_value(t);
		}
	}
	if ((v = json_object_get(root, "groups"))) {
		size_t i;
		json_t *g;

		if (!json_is_array(v) || json_array_size(v) > CPSIM_GROUPS_MAX) {
			fail(err, len, "groups: expected an array of at most %d groups",
			     CPSIM_GROUPS_MAX);
			goto out;
		}
		sc->ngroups = 0;
		json_array_foreach(v, i, g) {
			if (load_group(sc, g, (unsigned)i, err, len) < 0)
				goto out;
			sc->ngroups++;
		}
	} else if (json_object_get(root, "chargers")) {
		enum cpsim_proto proto = CPSIM_PROTO_V16;
		const char *mix = json_string_value(json_object_get(root, "mix"));

		u = 0;
		if (json_u32(root, "chargers", 1, CPSIM_CHARGERS_MAX, &u, err, len) < 0)
			goto out;
		if ((s = json_string_value(json_object_get(root, "protocol")))) {
			if ((r = proto_from_name(s)) < 0) {
				r = -EINVAL;
				fail(err, len,
				     "protocol: expected ocpp1.6, ocpp2.0.1, mixed or auto");
				goto out;
			}
			proto = r;
		}
		r = -EINVAL;
		if (set_mix(sc, mix ? mix : "public=1", u, proto, err, len) < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

/* ---------------------------------------------------------------- UTC offsets */

int cpsim_parse_utc_offset(const char *s, int *ret_min)
{
	int h, m = 0, n = 0, sign;

	if (!s)
		return -EINVAL;
	if ((s[0] == 'Z' || s[0] == 'z') && !s[1]) {
		*ret_min = 0;
		return 0;
	}
	if (s[0] != '+' && s[0] != '-')
		return -EINVAL;
	sign = s[0] == '-' ? -1 : 1;
	s++;
	for (int i = 0; i < 2; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	s += 2;
	if (*s == ':')
		s++, n = 1;
	if (*s) {
		if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2])
			return -EINVAL;
		m = (s[0] - '0') * 10 + (s[1] - '0');
	} else if (n) {
		return -EINVAL; /* "+08:" */
	}
	if (m > 59 || h * 60 + m > 14 * 60)
		return -EINVAL;
	*ret_min = sign * (h * 60 + m);
	return 0;
}

void cpsim_format_utc_offset(int minutes, char *buf, size_t len)
{
	int a = minutes < 0 ? -minutes : minutes;

	snprintf(buf, len, "%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60 % 100, a % 60);
}

/* ---------------------------------------------------------------- flags */

enum {
	OPT_SCENARIO = 256,
	OPT_URL,
	OPT_CHARGERS,
	OPT_PROTOCOL,
	OPT_MIX,
	OPT_PASSWORD,
	OPT_PASSWORD_FILE,
	OPT_ID_PREFIX,
	OPT_HEARTBEAT,
	OPT_METER,
	OPT_SPEED,
	OPT_START_TIME,
	OPT_TIMESTAMPS,
	OPT_CLOCK_ANCHOR,
	OPT_UTC_OFFSET,
	OPT_DURATION,
	OPT_RAMP,
	OPT_DRAIN,
	OPT_CALL_TIMEOUT,
	OPT_SEED,
	OPT_STEADY,
	OPT_STEADY_AT,
	OPT_AUTH,
	OPT_TAG_POOL,
	OPT_DROP,
	OPT_OFFLINE,
	OPT_OFFLINE_DURATION,
	OPT_STORM_AT,
	OPT_STORM_SHARE,
	OPT_DELAY_SHARE,
	OPT_DELAY_MS,
	OPT_MALFORMED,
	OPT_DUPLICATE,
	OPT_PER_PROCESS,
	OPT_PER_ADDRESS,
	OPT_MAX_CONNECTING,
	OPT_PROGRESS,
	OPT_JSON,
	OPT_JSON_FILE,
	OPT_TRACE_CALLS,
	OPT_VALIDATE,
	OPT_VERBOSE,
	OPT_EMIT_STATIONS,
	OPT_EMIT_CONFIG,
	OPT_EMIT_RATINGS,
	OPT_HELP,
	OPT_KIND,
	OPT_RECONNECT,
	OPT_SOURCE_BASE,
	OPT_TLS,
	OPT_TLS_CA,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_INSECURE,
	OPT_TLS_SERVER_NAME,
	OPT_TLS_CERT_DIR,
	OPT_TLS_CLIENT_CA,
	OPT_TLS_CLIENT_CA_KEY,
	OPT_TLS_CERT_VALID,
};

static const struct option options[] = {
    {"scenario", required_argument, NULL, OPT_SCENARIO},
    {"url", required_argument, NULL, OPT_URL},
    {"chargers", required_argument, NULL, OPT_CHARGERS},
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"mix", required_argument, NULL, OPT_MIX},
    {"kind", required_argument, NULL, OPT_KIND},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"id-prefix", required_argument, NULL, OPT_ID_PREFIX},
    {"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
    {"meter-interval", required_argument, NULL, OPT_METER},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"start-time", required_argument, NULL, OPT_START_TIME},
    {"timestamps", required_argument, NULL, OPT_TIMESTAMPS},
    {"clock-anchor", required_argument, NULL, OPT_CLOCK_ANCHOR},
    {"utc-offset", required_argument, NULL, OPT_UTC_OFFSET},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"ramp", required_argument, NULL, OPT_RAMP},
    {"drain", required_argument, NULL, OPT_DRAIN},
    {"call-timeout", required_argument, NULL, OPT_CALL_TIMEOUT},
    {"reconnect", required_argument, NULL, OPT_RECONNECT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"steady", no_argument, NULL, OPT_STEADY},
    {"steady-at", required_argument, NULL, OPT_STEADY_AT},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"tag-pool", required_argument, NULL, OPT_TAG_POOL},
    {"drop-rate", required_argument, NULL, OPT_DROP},
    {"offline-rate", required_argument, NULL, OPT_OFFLINE},
    {"offline-duration", required_argument, NULL, OPT_OFFLINE_DURATION},
    {"storm-at", required_argument, NULL, OPT_STORM_AT},
    {"storm-share", required_argument, NULL, OPT_STORM_SHARE},
    {"delay-share", required_argument, NULL, OPT_DELAY_SHARE},
    {"delay-ms", required_argument, NULL, OPT_DELAY_MS},
    {"malformed-share", required_argument, NULL, OPT_MALFORMED},
    {"duplicate-share", required_argument, NULL, OPT_DUPLICATE},
    {"per-process", required_argument, NULL, OPT_PER_PROCESS},
    {"per-address", required_argument, NULL, OPT_PER_ADDRESS},
    {"source-base", required_argument, NULL, OPT_SOURCE_BASE},
    {"max-connecting", required_argument, NULL, OPT_MAX_CONNECTING},
    {"progress-interval", required_argument, NULL, OPT_PROGRESS},
    {"json", no_argument, NULL, OPT_JSON},
    {"json-file", required_argument, NULL, OPT_JSON_FILE},
    {"trace-calls", required_argument, NULL, OPT_TRACE_CALLS},
    {"validate", no_argument, NULL, OPT_VALIDATE},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"emit-stations", required_argument, NULL, OPT_EMIT_STATIONS},
    {"emit-config", required_argument, NULL, OPT_EMIT_CONFIG},
    {"emit-ratings", required_argument, NULL, OPT_EMIT_RATINGS},
    {"help", no_argument, NULL, OPT_HELP},
    {"tls", no_argument, NULL, OPT_TLS},
    {"ca", required_argument, NULL, OPT_TLS_CA},
    {"cert", required_argument, NULL, OPT_TLS_CERT},
    {"key", required_argument, NULL, OPT_TLS_KEY},
    {"insecure", no_argument, NULL, OPT_TLS_INSECURE},
    {"server-name", required_argument, NULL, OPT_TLS_SERVER_NAME},
    {"cert-dir", required_argument, NULL, OPT_TLS_CERT_DIR},
    {"client-ca", required_argument, NULL, OPT_TLS_CLIENT_CA},
    {"client-ca-key", required_argument, NULL, OPT_TLS_CLIENT_CA_KEY},
    {"cert-valid", required_argument, NULL, OPT_TLS_CERT_VALID},
    {NULL, 0, NULL, 0},
};

void cpsim_scenario_usage(void)
{
	fputs(
	    "usage: cpsim [options]   (docs/simulator.md has the details)\n"
	    "  --scenario FILE          JSON scenario; flags given too override it\n"
	    "  --url ws[s]://HOST:PORT/PATH  CSMS endpoint; chargers connect to PATH/<id> (127.x "
	    "only)\n"
	    "  --chargers N --protocol ocpp1.6|ocpp2.0.1|mixed|auto\n"
	    "  --mix public=P,residential=R,rural=U,swap=W   site-kind shares (default "
	    "public=1)\n"
	    "  --kind K                 all chargers of one kind\n"
	    "  --password PW | --password-file FILE   Basic auth (file: id,password lines or\n"
	    "                           the csms import CSV)\n"
	    "  --tls (or a wss:// url) --ca FILE --server-name NAME   wss://, the server's CA\n"
	    "                           and the name in its certificate (default: the host)\n"
	    "  --cert FILE --key FILE   client certificate (security profile 3: CN = the id)\n"
	    "                           of every charger (so: one charger)\n"
	    "  --cert-dir DIR           each charger's own: DIR/<id>.crt and DIR/<id>.key\n"
	    "  --client-ca FILE --client-ca-key FILE  mint each charger's own at start (EC P-256,\n"
	    "                           CN = the id), signed by this CA; --cert-valid HOURS (24)\n"
	    "  --insecure               wss:// without checking the server's certificate\n"
	    "  --id-prefix P            charger ids P-<K>-NNNNNN (default SIM)\n"
	    "  --heartbeat S            override the CSMS heartbeat interval (0 = obey the "
	    "CSMS)\n"
	    "  --meter-interval S       meter sample interval, real seconds (default 60)\n"
	    "  --speed X                simulated seconds per real second (default 1)\n"
	    "  --start-time T           simulated clock at start (RFC 3339; default now)\n"
	    "  --clock-anchor T         the wall-clock instant where the simulated clock is at\n"
	    "                           --start-time (default: when the run starts); give the\n"
	    "                           CSMS the same start, speed and anchor to share its clock\n"
	    "  --timestamps wall|sim    clock of message timestamps and profiles (default wall)\n"
	    "  --utc-offset +HH:MM      the sites' local time: day patterns (evening arrivals,\n"
	    "                           morning departures) follow it (default +00:00)\n"
	    "  --duration S             real seconds to run before the drain (default 60)\n"
	    "  --drain S                time to stop sessions and flush queues at the end (10)\n"
	    "  --ramp N                 connections started per second (0 = no limit; 1000)\n"
	    "  --max-connecting N       handshakes in progress at once (1000)\n"
	    "  --call-timeout S         wait for a CALLRESULT (30)\n"
	    "  --reconnect MIN:MAX      reconnect backoff, seconds (1:60)\n"
	    "  --steady [--steady-at S] load mode: every connector charges from S seconds on\n"
	    "  --auth check|skip        Authorize before starting (check) or free vend (skip)\n"
	    "  --tag-pool N             public/rural id tags SIMTAG-00000.. (1000)\n"
	    "  --drop-rate R --offline-rate R   per charger per simulated hour\n"
	    "  --offline-duration MIN:MAX       simulated seconds (600:3600)\n"
	    "  --storm-at S[,S..] --storm-share F   reconnect storms at real seconds\n"
	    "  --delay-share F --delay-ms MS    answer CSMS calls late\n"
	    "  --malformed-share F --duplicate-share F\n"
	    "  --per-process N --per-address N --source-base 127.0.0.2\n"
	    "  --progress-interval S --json --json-file F --validate --verbose --seed N\n"
	    "  --trace-calls FILE       append each CALL the CSMS sends (\"<id> <frame>\" lines)\n"
	    "  --emit-stations FILE --emit-config FILE   write csms import/config files and "
	    "exit\n"
	    "  --emit-ratings FILE      write each charger's rated power (JSON) and exit\n",
	    stdout);
}

/* "A:B" into two doubles */
static int parse_pair(const char *s, double lo, double hi, double *a, double *b)
{
	char buf[64], *colon;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (parse_double(buf, lo, hi, a) < 0 || parse_double(colon + 1, lo, hi, b) < 0 || *b < *a)
		return -EINVAL;
	return 0;
}

int cpsim_scenario_from_args(struct cpsim_scenario *sc, int argc, char **argv, char *err,
			     size_t len)
{
	const char *mix = NULL, *kind = NULL;
	enum cpsim_proto proto = CPSIM_PROTO_V16;
	bool have_proto = false;
	uint32_t chargers = 0, u;
	int c, r;

	cpsim_scenario_defaults(sc);
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--scenario")) {
			r = cpsim_scenario_load_json(sc, argv[i + 1], NULL, err, len);
			if (r < 0)
				return r;
		} else if (!strncmp(argv[i], "--scenario=", 11)) {
			r = cpsim_scenario_load_json(sc, argv[i] + 11, NULL, err, len);
			if (r < 0)
				return r;
		}
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case OPT_SCENARIO:
			break;
		case OPT_HELP:
			cpsim_scenario_usage();
			return 1;
		case OPT_URL:
			if (cpsim_scenario_set_url(sc, a) < 0)
				return fail(err, len,
					    "--url: expected ws[s]://HOST:PORT/PATH, got \"%s\"",
					    a);
			break;
		case OPT_CHARGERS:
			if (parse_u32(a, 1, CPSIM_CHARGERS_MAX, &chargers) < 0)
				return fail(err, len, "--chargers: expected 1..%d",
					    CPSIM_CHARGERS_MAX);
			break;
		case OPT_PROTOCOL:
			if ((r = proto_from_name(a)) < 0)
				return fail(
				    err, len,
				    "--protocol: expected ocpp1.6, ocpp2.0.1, mixed or auto");
			proto = r;
			have_proto = true;
			break;
		case OPT_MIX:
			mix = a;
			break;
		case OPT_KIND:
			if (cpsim_kind_from_name(a) < 0)
				return fail(err, len,
					    "--kind: expected public, residential, rural or swap");
			kind = a;
			break;
		case OPT_PASSWORD:
			if (set_password(sc, a) < 0)
				return -ENOMEM;
			break;
		case OPT_PASSWORD_FILE:
			if ((r = load_passwords(sc, a, err, len)) < 0)
				return r;
			break;
		case OPT_ID_PREFIX:
			if (!a[0] || strlen(a) >= sizeof(sc->id_prefix) || strpbrk(a, "/?#%\" "))
				return fail(
				    err, len,
				    "--id-prefix: 1..11 characters, no / ? # %% \" or space");
			snprintf(sc->id_prefix, sizeof(sc->id_prefix), "%s", a);
			break;
		case OPT_HEARTBEAT:
			if (parse_double(a, 0, 86400, &sc->heartbeat_s) < 0)
				return fail(err, len, "--heartbeat: expected 0..86400 seconds");
			break;
		case OPT_METER:
			if (parse_double(a, 0.01, 86400, &sc->meter_s) < 0)
				return fail(err, len,
					    "--meter-interval: expected 0.01..86400 seconds");
			break;
		case OPT_SPEED:
			if (parse_double(a, 0.001, 1e6, &sc->speed) < 0)
				return fail(err, len, "--speed: expected 0.001..1000000");
			break;
		case OPT_START_TIME:
			if (ocpp_time_parse(a, &sc->sim_start_ms) < 0)
				return fail(err, len,
					    "--start-time: expected an RFC 3339 date-time");
			break;
		case OPT_CLOCK_ANCHOR:
			if (ocpp_time_parse(a, &sc->sim_anchor_ms) < 0)
				return fail(err, len,
					    "--clock-anchor: expected an RFC 3339 date-time");
			break;
		case OPT_UTC_OFFSET:
			if (cpsim_parse_utc_offset(a, &sc->utc_offset_min) < 0)
				return fail(
				    err, len,
				    "--utc-offset: expected +HH:MM or -HH:MM within 14 hours");
			break;
		case OPT_TIMESTAMPS:
			if (strcmp(a, "wall") && strcmp(a, "sim"))
				return fail(err, len, "--timestamps: expected wall or sim");
			sc->timestamps_sim = !strcmp(a, "sim");
			break;
		case OPT_DURATION:
			if (parse_double(a, 0, CPSIM_DURATION_MAX_S, &sc->duration_s) < 0)
				return fail(err, len, "--duration: expected 0..%g seconds",
					    CPSIM_DURATION_MAX_S);
			break;
		case OPT_RAMP:
			if (parse_double(a, 0, 1e6, &sc->ramp_per_s) < 0)
				return fail(err, len, "--ramp: expected 0..1000000 per second");
			break;
		case OPT_DRAIN:
			if (parse_double(a, 0, 600, &sc->drain_s) < 0)
				return fail(err, len, "--drain: expected 0..600 seconds");
			break;
		case OPT_CALL_TIMEOUT:
			if (parse_double(a, 0.1, 600, &sc->call_timeout_s) < 0)
				return fail(err, len, "--call-timeout: expected 0.1..600 seconds");
			break;
		case OPT_RECONNECT:
			if (parse_pair(a, 0.01, 3600, &sc->reconnect_min_s, &sc->reconnect_max_s) <
			    0)
				return fail(err, len, "--reconnect: expected MIN:MAX seconds");
			break;
		case OPT_SEED:
			if (parse_u32(a, 0, UINT32_MAX, &u) < 0)
				return fail(err, len, "--seed: expected an integer");
			sc->seed = u;
			break;
		case OPT_STEADY:
			sc->steady = true;
			break;
		case OPT_STEADY_AT:
			if (parse_double(a, 0, CPSIM_DURATION_MAX_S, &sc->steady_at_s) < 0)
				return fail(err, len, "--steady-at: expected seconds");
			sc->steady = true;
			break;
		case OPT_AUTH:
			if (strcmp(a, "check") && strcmp(a, "skip"))
				return fail(err, len, "--auth: expected check or skip");
			sc->auth = !strcmp(a, "skip") ? CPSIM_AUTH_SKIP : CPSIM_AUTH_CHECK;
			break;
		case OPT_TAG_POOL:
			if (parse_u32(a, 1, 1000000, &sc->tag_pool) < 0)
				return fail(err, len, "--tag-pool: expected 1..1000000");
			break;
		case OPT_DROP:
			if (parse_double(a, 0, 3600, &sc->faults.drop_per_h) < 0)
				return fail(err, len, "--drop-rate: expected 0..3600 per hour");
			break;
		case OPT_OFFLINE:
			if (parse_double(a, 0, 3600, &sc->faults.offline_per_h) < 0)
				return fail(err, len, "--offline-rate: expected 0..3600 per hour");
			break;
		case OPT_OFFLINE_DURATION:
			if (parse_pair(a, 1, 7 * 86400, &sc->faults.offline_min_s,
				       &sc->faults.offline_max_s) < 0)
				return fail(err, len,
					    "--offline-duration: expected MIN:MAX seconds");
			break;
		case OPT_STORM_AT: {
			char buf[256], *save = NULL, *tok;

			if (strlen(a) >= sizeof(buf))
				return fail(err, len, "--storm-at: too long");
			snprintf(buf, sizeof(buf), "%s", a);
			sc->nstorms = 0;
			for (tok = strtok_r(buf, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (sc->nstorms == CPSIM_STORMS_MAX ||
				    parse_double(tok, 0, CPSIM_DURATION_MAX_S,
						 &sc->storm_at_s[sc->nstorms]) < 0)
					return fail(err, len,
						    "--storm-at: up to %d times in seconds",
						    CPSIM_STORMS_MAX);
				sc->nstorms++;
			}
			break;
		}
		case OPT_STORM_SHARE:
			if (parse_double(a, 0, 1, &sc->storm_share) < 0)
				return fail(err, len, "--storm-share: expected 0..1");
			break;
		case OPT_DELAY_SHARE:
			if (parse_double(a, 0, 1, &sc->faults.delay_share) < 0)
				return fail(err, len, "--delay-share: expected 0..1");
			break;
		case OPT_DELAY_MS:
			if (parse_double(a, 0, 600000, &sc->faults.delay_ms) < 0)
				return fail(err, len, "--delay-ms: expected 0..600000");
			break;
		case OPT_MALFORMED:
			if (parse_double(a, 0, 1, &sc->faults.malformed_share) < 0)
				return fail(err, len, "--malformed-share: expected 0..1");
			break;
		case OPT_DUPLICATE:
			if (parse_double(a, 0, 1, &sc->faults.duplicate_share) < 0)
				return fail(err, len, "--duplicate-share: expected 0..1");
			break;
		case OPT_PER_PROCESS:
			if (parse_u32(a, 1, 1000000, &sc->per_process) < 0)
				return fail(err, len, "--per-process: expected 1..1000000");
			break;
		case OPT_PER_ADDRESS:
			if (parse_u32(a, 1, 60000, &sc->per_address) < 0)
				return fail(err, len, "--per-address: expected 1..60000");
			break;
		case OPT_SOURCE_BASE: {
			unsigned b[4];
			char tail;

			sc->source_given = true;
			if (!strcmp(a, "none")) {
				sc->source_base[0] = '\0';
				break;
			}
			if (sscanf(a, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4 ||
			    b[0] != 127 || b[1] > 255 || b[2] > 255 || b[3] > 255)
				return fail(err, len,
					    "--source-base: expected a 127.x.y.z address");
			snprintf(sc->source_base, sizeof(sc->source_base), "%s", a);
			break;
		}
		case OPT_MAX_CONNECTING:
			if (parse_u32(a, 1, 100000, &sc->max_connecting) < 0)
				return fail(err, len, "--max-connecting: expected 1..100000");
			break;
		case OPT_PROGRESS:
			if (parse_double(a, 0.1, 3600, &sc->progress_s) < 0)
				return fail(err, len,
					    "--progress-interval: expected 0.1..3600 seconds");
			break;
		case OPT_JSON:
			sc->json = true;
			break;
		case OPT_JSON_FILE:
			if (set_str(&sc->json_file, a) < 0)
				return -ENOMEM;
			break;
		case OPT_TRACE_CALLS:
			if (set_str(&sc->trace_calls, a) < 0)
				return -ENOMEM;
			break;
		case OPT_VALIDATE:
			sc->validate = true;
			break;
		case OPT_VERBOSE:
			sc->verbose++;
			break;
		/* ---- TLS */
		case OPT_TLS:
			sc->tls = true;
			break;
		case OPT_TLS_INSECURE:
			sc->tls = sc->tls_insecure = true;
			break;
		case OPT_TLS_CA:
		case OPT_TLS_CERT:
		case OPT_TLS_KEY:
		case OPT_TLS_SERVER_NAME:
			if (set_str(c == OPT_TLS_CA	? &sc->tls_ca
				    : c == OPT_TLS_CERT ? &sc->tls_cert
				    : c == OPT_TLS_KEY	? &sc->tls_key
							: &sc->tls_server_name,
				    a) < 0)
				return -ENOMEM;
			sc->tls = true;
			break;
		case OPT_TLS_CERT_DIR:
		case OPT_TLS_CLIENT_CA:
		case OPT_TLS_CLIENT_CA_KEY:
			if (set_str(c == OPT_TLS_CERT_DIR    ? &sc->tls_cert_dir
				    : c == OPT_TLS_CLIENT_CA ? &sc->tls_client_ca
							     : &sc->tls_client_ca_key,
				    a) < 0)
				return -ENOMEM;
			sc->tls = true;
			break;
		case OPT_TLS_CERT_VALID: {
			double h;

			if (parse_double(a, 0.001, 24 * 3650, &h) < 0)
				return fail(err, len, "--cert-valid: expected hours, 0.001..87600");
			sc->tls_cert_valid_s = (unsigned int)(h * 3600 + 0.5);
			break;
		}
		/* ---- end TLS */
		case OPT_EMIT_STATIONS:
			if (set_str(&sc->emit_stations, a) < 0)
				return -ENOMEM;
			break;
		case OPT_EMIT_CONFIG:
			if (set_str(&sc->emit_config, a) < 0)
				return -ENOMEM;
			break;
		case OPT_EMIT_RATINGS:
			if (set_str(&sc->emit_ratings, a) < 0)
				return -ENOMEM;
			break;
		case ':':
			return fail(err, len, "%s: needs a value", argv[optind - 1]);
		default:
			return fail(err, len, "unknown option %s (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, len, "unexpected argument \"%s\"", argv[optind]);
	if (chargers || mix || kind) {
		char spec[64];

		if (!chargers)
			chargers = sc->total ? sc->total : 10;
		if (kind)
			snprintf(spec, sizeof(spec), "%s=1", kind);
		if (set_mix(sc,
			    kind  ? spec
			    : mix ? mix
				  : "public=1",
			    chargers, proto, err, len) < 0)
			return -EINVAL;
	} else if (have_proto) {
		for (unsigned g = 0; g < sc->ngroups; g++)
			sc->groups[g].proto = proto;
	}
	if (!sc->ngroups && set_mix(sc, "public=1", 10, proto, err, len) < 0)
		return -EINVAL;
	return cpsim_scenario_finish(sc, err, len);
}

int cpsim_scenario_finish(struct cpsim_scenario *sc, char *err, size_t len)
{
	uint64_t total = 0;

	for (unsigned g = 0; g < sc->ngroups; g++) {
		const struct cpsim_group *gr = &sc->groups[g];
		struct cpsim_faults *f = &sc->gfaults[g];

		total += gr->count;
		*f = gr->has_faults ? gr->faults : sc->faults;
		/* rural sites lose their network now and then unless told otherwise */
		if (gr->kind == CPSIM_KIND_RURAL && !gr->has_faults && f->offline_per_h == 0)
			f->offline_per_h = 0.05;
	}
	if (!total || total > CPSIM_CHARGERS_MAX)
		return fail(err, len, "fleet: need 1..%d chargers, have %llu", CPSIM_CHARGERS_MAX,
			    (unsigned long long)total);
	sc->total = (uint32_t)total;
	/* ---- TLS */
	if (!!sc->tls_cert != !!sc->tls_key)
		return fail(err, len, "--cert and --key go together");
	if (!!sc->tls_client_ca != !!sc->tls_client_ca_key)
		return fail(err, len, "--client-ca and --client-ca-key go together");
	if (!!sc->tls_cert + !!sc->tls_cert_dir + !!sc->tls_client_ca > 1)
		return fail(err, len, "--cert, --cert-dir and --client-ca are alternatives");
	if (sc->tls_insecure)
		fprintf(stderr, "cpsim: WARNING: --insecure: the server's certificate is NOT "
				"checked; anyone on the path can read the chargers' passwords\n");
	/* ---- end TLS */
	if (sc->per_process > 19000)
		sc->per_process = 19000;
	if (sc->reconnect_max_s < sc->reconnect_min_s)
		sc->reconnect_max_s = sc->reconnect_min_s;
	return 0;
}

/* ---------------------------------------------------------------- per charger */

const struct cpsim_group *cpsim_scenario_group(const struct cpsim_scenario *sc, uint32_t i,
					       unsigned *ret_group)
{
	for (unsigned g = 0; g < sc->ngroups; g++) {
		if (i < sc->groups[g].count) {
			if (ret_group)
				*ret_group = g;
			return &sc->groups[g];
		}
		i -= sc->groups[g].count;
	}
	if (ret_group)
		*ret_group = sc->ngroups - 1;
	return &sc->groups[sc->ngroups - 1];
}

void cpsim_charger_id(const struct cpsim_scenario *sc, uint32_t i, char *buf, size_t len)
{
	const struct cpsim_group *g = cpsim_scenario_group(sc, i, NULL);

	snprintf(buf, len, "%s-%c-%06u", sc->id_prefix, cpsim_kind_info(g->kind)->letter, i);
}

/* Index of charger i among the chargers of its kind, counted over the groups before it. */
static uint32_t kind_rank(const struct cpsim_scenario *sc, uint32_t i, enum cpsim_kind k)
{
	uint32_t rank = 0, base = 0;

	for (unsigned g = 0; g < sc->ngroups; g++) {
		const struct cpsim_group *gr = &sc->groups[g];

		if (i < base + gr->count) {
			if (gr->kind == k)
				rank += i - base;
			return rank;
		}
		if (gr->kind == k)
			rank += gr->count;
		base += gr->count;
	}
	return rank;
}

void cpsim_site_id(const struct cpsim_scenario *sc, uint32_t i, char *buf, size_t len)
{
	unsigned gi;
	const struct cpsim_group *g = cpsim_scenario_group(sc, i, &gi);
	const struct cpsim_kind_info *ki = cpsim_kind_info(g->kind);

	if (g->site_size) { /* the group's own sites: index within the group / site size */
		uint32_t base = 0;

		for (unsigned k = 0; k < gi; k++)
			base += sc->groups[k].count;
		snprintf(buf, len, "%s-S%c%u-%05u", sc->id_prefix, ki->letter, gi,
			 (i - base) / g->site_size);
		return;
	}
	snprintf(buf, len, "%s-S%c-%05u", sc->id_prefix, ki->letter,
		 kind_rank(sc, i, g->kind) / ki->per_site);
}

const char *cpsim_scenario_password(const struct cpsim_scenario *sc, const char *id)
{
	struct cpsim_password key = {.id = (char *)(uintptr_t)id}, *hit;

	if (sc->npw) {
		hit = bsearch(&key, sc->pw, sc->npw, sizeof(*sc->pw), cmp_pw);
		if (hit)
			return hit->password;
	}
	return sc->password;
}

enum cpsim_proto cpsim_scenario_proto(const struct cpsim_scenario *sc, uint32_t i)
{
	const struct cpsim_group *g = cpsim_scenario_group(sc, i, NULL);

	if (g->proto == CPSIM_PROTO_MIXED)
		return (i & 1) ? CPSIM_PROTO_V201 : CPSIM_PROTO_V16;
	return g->proto;
}

const struct cpsim_faults *cpsim_scenario_faults(const struct cpsim_scenario *sc, unsigned g)
{
	return &sc->gfaults[g < sc->ngroups ? g : 0];
}

void cpsim_tag_for(const struct cpsim_scenario *sc, uint32_t i, enum cpsim_kind k, uint64_t *rng,
		   char *buf, size_t len)
{
	switch (k) {
	case CPSIM_KIND_RESIDENTIAL:
		snprintf(buf, len, "%sOWN%06u", sc->id_prefix, i);
		break;
	case CPSIM_KIND_SWAP:
		snprintf(buf, len, "%sSWAP%06u", sc->id_prefix, i);
		break;
	default:
		snprintf(buf, len, "%sTAG%05u", sc->id_prefix,
			 (unsigned)(cpsim_rng_next(rng) % sc->tag_pool));
		break;
	}
}

int cpsim_scenario_emit_stations(const struct cpsim_scenario *sc, const char *path)
{
	FILE *f = fopen(path, "w");
	char id[40], site[40];
	int r = 0;

	if (!f)
		return -errno;
	fprintf(f, "charger_id,site,site_kind,password\n");
	for (uint32_t i = 0; i < sc->total; i++) {
		const struct cpsim_group *g = cpsim_scenario_group(sc, i, NULL);
		const char *pw;

		cpsim_charger_id(sc, i, id, sizeof(id));
		cpsim_site_id(sc, i, site, sizeof(site));
		pw = cpsim_scenario_password(sc, id);
		fprintf(f, "%s,%s,%s,%s\n", id, site, cpsim_kind_name(g->kind), pw ? pw : "");
	}
	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && !r)
		r = -errno;
	return r;
}

int cpsim_scenario_emit_config(const struct cpsim_scenario *sc, const char *path)
{
	json_t *root = json_object(), *tokens = json_array();
	char tag[40], site[40];
	uint64_t rng = 0;
	int r = -ENOMEM;

	if (!root || !tokens)
		goto out;
	json_object_set_new(root, "id_tokens", tokens);
	for (unsigned t = 0; t < sc->tag_pool; t++) {
		snprintf(tag, sizeof(tag), "%sTAG%05u", sc->id_prefix, t);
		json_array_append_new(tokens, json_pack("{s:s}", "token", tag));
	}
	for (uint32_t i = 0; i < sc->total; i++) {
		const struct cpsim_group *g = cpsim_scenario_group(sc, i, NULL);

		if (g->kind != CPSIM_KIND_RESIDENTIAL && g->kind != CPSIM_KIND_SWAP)
			continue;
		cpsim_tag_for(sc, i, g->kind, &rng, tag, sizeof(tag));
		cpsim_site_id(sc, i, site, sizeof(site));
		json_array_append_new(tokens, json_pack("{s:s, s:s}", "token", tag, "site", site));
	}
	r = json_dump_file(root, path, JSON_INDENT(1)) < 0 ? -EIO : 0;
out:
	json_decref(root);
	return r;
}

int cpsim_scenario_emit_ratings(const struct cpsim_scenario *sc, const char *path)
{
	json_t *root = json_object(), *chargers = json_array();
	char id[40], site[40], off[8];
	int r = -ENOMEM;

	if (!root || !chargers)
		goto out;
	cpsim_format_utc_offset(sc->utc_offset_min, off, sizeof(off));
	json_object_set_new(root, "utc_offset", json_string(off));
	json_object_set_new(root, "chargers", chargers);
	for (uint32_t i = 0; i < sc->total; i++) {
		const struct cpsim_group *g = cpsim_scenario_group(sc, i, NULL);
		const struct cpsim_kind_info *ki = cpsim_kind_info(g->kind);
		/* as the fleet builds its chargers: the group's values, else the kind's */
		unsigned n = g->connectors ? g->connectors : ki->connectors;
		double kw = g->power_kw > 0 ? g->power_kw : ki->power_kw;
		enum cpsim_proto p = cpsim_scenario_proto(sc, i);
		json_t *o;

		n = n < 1 ? 1 : n > 32 ? 32 : n;
		cpsim_charger_id(sc, i, id, sizeof(id));
		cpsim_site_id(sc, i, site, sizeof(site));
		o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:f}", "id", id, "site", site, "kind",
			      ki->name, "protocol", proto_names[p], "connectors", (int)n,
			      "connector_kw", kw, "rated_kw", kw * n);
		if (!o || json_array_append_new(chargers, o) < 0)
			goto out;
	}
	r = json_dump_file(root, path, JSON_INDENT(1)) < 0 ? -EIO : 0;
out:
	json_decref(root);
	if (!root)
		json_decref(chargers);
	return r;
}
