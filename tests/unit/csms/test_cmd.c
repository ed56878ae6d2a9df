/* SPDX-License-Identifier: MIT */
/* Unit tests of operator commands through the domain (svc/cmd.h): every kind encoded by both
 * adapters and checked against the official schemas, the domain reading of answers, remote-stop
 * resolution, the command log made durable before the caller hears the answer, and failures
 * (timeout, not connected) — svc driven through a fake link, and the real link_conn for a station
 * that is not connected. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapter.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "link_conn.h"
#include "ocpp16/v16.h"
#include "ocpp201/v201.h"
#include "store/store.h"
#include "core/pwhash.h"
#include "svc/cert.h"
#include "svc/cmd.h"
#include "svc/link.h"
#include "svc/svc.h"

#define T0 1795000000000LL /* 2026-11-19, ms */

/* ---------------------------------------------------------------- encoding */

static const struct svc_local_entry entries[] = {
    {.token = "TAG-A", .status = AUTH_ACCEPTED, .expiry_ms = T0 + 86400000, .parent = "GRP"},
    {.token = "TAG-B", .status = AUTH_BLOCKED},
    {.token = "TAG-C", .status = -1}, /* removed (differential) */
};

/* A representative request of each kind. */
static void example(int kind, struct svc_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->rate_unit = -1;
	c->clear.purpose = -1;
	c->clear.stack_level = -1;
	switch (kind) {
	case SVC_CMD_REMOTE_START:
		c->id_tag = "TAG1";
		c->evse_id = 1;
		c->request_id = 7;
		break;
	case SVC_CMD_REMOTE_STOP:
		c->session_id = 42;
		snprintf(c->station_tx_id, sizeof(c->station_tx_id), "%s", "42");
		break;
	case SVC_CMD_RESET:
		c->hard = true;
		break;
	case SVC_CMD_UNLOCK:
		c->evse_id = 2;
		c->connector_id = 1;
		break;
	case SVC_CMD_AVAILABILITY:
		c->evse_id = 1;
		c->operative = false;
		break;
	case SVC_CMD_TRIGGER:
		c->trigger = SVC_TRIGGER_DIAGNOSTICS_STATUS;
		c->evse_id = 1;
		break;
	case SVC_CMD_SET_PROFILE:
		c->evse_id = 1;
		c->profile = (struct svc_charging_profile){
		    .id = 5,
		    .purpose = SVC_PURPOSE_TX_DEFAULT,
		    .stack_level = 2,
		    .start_ms = T0,
		    .duration_s = 3600,
		    .rate_unit = SVC_RATE_A,
		    .n_periods = 3,
		    .periods = {{0, 160, 3}, {900, -80, 0}, {1800, 0, 1}},
		};
		break;
	case SVC_CMD_CLEAR_PROFILE:
		c->evse_id = 1;
		c->clear.has_id = true;
		c->clear.id = 5;
		c->clear.purpose = SVC_PURPOSE_TX;
		c->clear.stack_level = 0;
		break;
	case SVC_CMD_COMPOSITE_SCHEDULE:
		c->evse_id = 1;
		c->duration_s = 86400;
		c->rate_unit = SVC_RATE_W;
		break;
	case SVC_CMD_SEND_LOCAL_LIST:
		c->list.version = 3;
		c->list.entries = entries;
		c->list.n_entries = 3;
		break;
	case SVC_CMD_LOCAL_LIST_VERSION:
	case SVC_CMD_LOCAL_LIST_LIMITS:
		break;
	case SVC_CMD_RESERVE:
		c->reservation_id = 11;
		c->id_tag = "TAG1";
		c->evse_id = 1;
		c->expiry_ms = T0 + 600000;
		break;
	case SVC_CMD_CANCEL_RESERVATION:
		c->reservation_id = 11;
		break;
	case SVC_CMD_SET_PASSWORD:
		c->password = "0123456789abcdef0123456789abcdef01234567";
		break;
	case SVC_CMD_GET_PROFILES:
		c->request_id = 77;
		c->evse_id = 1;
		c->report.has_evse = true;
		c->report.purpose = SVC_PURPOSE_TX;
		c->report.stack_level = -1;
		break;
	case SVC_CMD_SET_V2G_MODE:
		c->evse_id = 1;
		c->session_id = 42;
		snprintf(c->station_tx_id, sizeof(c->station_tx_id), "%s", "tx-abc");
		c->v2g.mode = SVC_MODE_CENTRAL_SETPOINT;
		c->v2g.setpoint_w = -7400;
		c->v2g.valid_until_ms = 1700000000000LL;
		break;
	default:
		fail_msg("no example for kind %d", kind);
	}
}

static const char *const actions16[_SVC_CMD_KIND_MAX] = {
    [SVC_CMD_REMOTE_START] = "RemoteStartTransaction",
    [SVC_CMD_REMOTE_STOP] = "RemoteStopTransaction",
    [SVC_CMD_RESET] = "Reset",
    [SVC_CMD_UNLOCK] = "UnlockConnector",
    [SVC_CMD_AVAILABILITY] = "ChangeAvailability",
    [SVC_CMD_TRIGGER] = "TriggerMessage",
    [SVC_CMD_SET_PROFILE] = "SetChargingProfile",
    [SVC_CMD_CLEAR_PROFILE] = "ClearChargingProfile",
    [SVC_CMD_COMPOSITE_SCHEDULE] = "GetCompositeSchedule",
    [SVC_CMD_SEND_LOCAL_LIST] = "SendLocalList",
    [SVC_CMD_LOCAL_LIST_VERSION] = "GetLocalListVersion",
    [SVC_CMD_RESERVE] = "ReserveNow",
    [SVC_CMD_CANCEL_RESERVATION] = "CancelReservation",
    [SVC_CMD_SET_PASSWORD] = "ChangeConfiguration",
    [SVC_CMD_LOCAL_LIST_LIMITS] = "GetConfiguration",
    [SVC_CMD_SET_V2G_MODE] = "DataTransfer",
    /* SVC_CMD_GET_PROFILES: none in 1.6 (-EOPNOTSUPP) */
};

static const char *const actions201[_SVC_CMD_KIND_MAX] = {
    [SVC_CMD_REMOTE_START] = "RequestStartTransaction",
    [SVC_CMD_REMOTE_STOP] = "RequestStopTransaction",
    [SVC_CMD_RESET] = "Reset",
    [SVC_CMD_UNLOCK] = "UnlockConnector",
    [SVC_CMD_AVAILABILITY] = "ChangeAvailability",
    [SVC_CMD_TRIGGER] = "TriggerMessage",
    [SVC_CMD_SET_PROFILE] = "SetChargingProfile",
    [SVC_CMD_CLEAR_PROFILE] = "ClearChargingProfile",
    [SVC_CMD_COMPOSITE_SCHEDULE] = "GetCompositeSchedule",
    [SVC_CMD_SEND_LOCAL_LIST] = "SendLocalList",
    [SVC_CMD_LOCAL_LIST_VERSION] = "GetLocalListVersion",
    [SVC_CMD_RESERVE] = "ReserveNow",
    [SVC_CMD_CANCEL_RESERVATION] = "CancelReservation",
    [SVC_CMD_SET_PASSWORD] = "SetVariables",
    [SVC_CMD_LOCAL_LIST_LIMITS] = "GetVariables",
    [SVC_CMD_SET_V2G_MODE] = "DataTransfer",
    [SVC_CMD_GET_PROFILES] = "GetChargingProfiles",
};

/* Encode kind for version v, check the action name and the official schema; the payload. */
static json_t *encode_checked(enum ocpp_version v, int kind, const struct svc_cmd *c)
{
	const struct adapter *ad = adapter_for(v);
	struct ocpp_catalog *cat = ocpp_catalog_create(v);
	const char *action = NULL;
	json_t *p = NULL;
	char desc[160] = "";
	enum ocpp_err e;

	assert_non_null(cat);
	assert_non_null(ad->encode_cmd);
	assert_int_equal(ad->encode_cmd(c, &action, &p), 0);
	assert_string_equal(action, (v == OCPP_V16 ? actions16 : actions201)[kind]);
	e = ocpp_catalog_validate(cat, action, false, p, desc, sizeof(desc));
	if (e != OCPP_ERR_NONE) {
		char *s = json_dumps(p, JSON_COMPACT);

		fail_msg("%s %s %s: %s", ocpp_version_name(v), action, s, desc);
	}
	ocpp_catalog_destroy(cat);
	return p;
}

static void test_every_kind_both_versions(void **state)
{
	(void)state;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		for (int k = 0; k < _SVC_CMD_KIND_MAX; k++) {
			struct svc_cmd c;

			if (k == SVC_CMD_RAW || (v == OCPP_V16 && k == SVC_CMD_GET_PROFILES))
				continue;
			example(k, &c);
			json_decref(encode_checked(v, k, &c));
		}
	}
}

static void test_encoded_values(void **state)
{
	struct svc_cmd c;
	json_t *p, *per;

	(void)state;
	/* 1.6 remote stop: the integer transaction id; 2.0.1: the station's own string */
	example(SVC_CMD_REMOTE_STOP, &c);
	p = encode_checked(OCPP_V16, SVC_CMD_REMOTE_STOP, &c);
	assert_int_equal(json_integer_value(json_object_get(p, "transactionId")), 42);
	json_decref(p);
	snprintf(c.station_tx_id, sizeof(c.station_tx_id), "%s", "tx-abc");
	p = encode_checked(OCPP_V201, SVC_CMD_REMOTE_STOP, &c);
	assert_string_equal(json_string_value(json_object_get(p, "transactionId")), "tx-abc");
	json_decref(p);
	/* a non-numeric id is not a 1.6 transaction */
	{
		const char *action;
		json_t *none = NULL;

		assert_int_equal(v16_adapter.encode_cmd(&c, &action, &none), -EINVAL);
		assert_null(none);
	}

	/* signed limits: amperes in tenths become decimals, a negative limit stays negative */
	example(SVC_CMD_SET_PROFILE, &c);
	p = encode_checked(OCPP_V16, SVC_CMD_SET_PROFILE, &c);
	per = json_object_get(
	    json_object_get(json_object_get(p, "csChargingProfiles"), "chargingSchedule"),
	    "chargingSchedulePeriod");
	assert_int_equal(json_array_size(per), 3);
	assert_true(json_number_value(json_object_get(json_array_get(per, 0), "limit")) == 16.0);
	assert_true(json_number_value(json_object_get(json_array_get(per, 1), "limit")) == -8.0);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(p, "csChargingProfiles"), "chargingProfileKind")),
			    "Absolute");
	json_decref(p);
	c.profile.rate_unit = SVC_RATE_W;
	c.profile.periods[1].limit = -7400;
	p = encode_checked(OCPP_V201, SVC_CMD_SET_PROFILE, &c);
	per = json_object_get(
	    json_array_get(
		json_object_get(json_object_get(p, "chargingProfile"), "chargingSchedule"), 0),
	    "chargingSchedulePeriod");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(per, 1), "limit")),
			 -7400);
	json_decref(p);
	/* recurring: Recurring with its recurrencyKind, schema-valid in both versions */
	c.profile.recurrency = SVC_RECUR_WEEKLY;
	p = encode_checked(OCPP_V16, SVC_CMD_SET_PROFILE, &c);
	per = json_object_get(p, "csChargingProfiles");
	assert_string_equal(json_string_value(json_object_get(per, "chargingProfileKind")),
			    "Recurring");
	assert_string_equal(json_string_value(json_object_get(per, "recurrencyKind")), "Weekly");
	json_decref(p);
	c.profile.recurrency = SVC_RECUR_DAILY;
	p = encode_checked(OCPP_V201, SVC_CMD_SET_PROFILE, &c);
	per = json_object_get(p, "chargingProfile");
	assert_string_equal(json_string_value(json_object_get(per, "chargingProfileKind")),
			    "Recurring");
	assert_string_equal(json_string_value(json_object_get(per, "recurrencyKind")), "Daily");
	json_decref(p);

	/* 2.0.1 diagnostics trigger is LogStatusNotification */
	example(SVC_CMD_TRIGGER, &c);
	p = encode_checked(OCPP_V201, SVC_CMD_TRIGGER, &c);
	assert_string_equal(json_string_value(json_object_get(p, "requestedMessage")),
			    "LogStatusNotification");
	json_decref(p);

	/* a removed entry carries no idTagInfo */
	example(SVC_CMD_SEND_LOCAL_LIST, &c);
	p = encode_checked(OCPP_V16, SVC_CMD_SEND_LOCAL_LIST, &c);
	assert_non_null(json_object_get(
	    json_array_get(json_object_get(p, "localAuthorizationList"), 0), "idTagInfo"));
	assert_null(json_object_get(json_array_get(json_object_get(p, "localAuthorizationList"), 2),
				    "idTagInfo"));
	json_decref(p);
}

/* The V2G mode (docs/v2g.md §2): the vendor DataTransfer SetV2GMode in both versions, data a
 * JSON text with its keys sorted, byte for byte what the simulator reads. */
static void test_v2g_mode_encoded(void **state)
{
	struct svc_cmd c;
	json_t *p;
	char *text;

	(void)state;
	example(SVC_CMD_SET_V2G_MODE, &c);
	p = encode_checked(OCPP_V16, SVC_CMD_SET_V2G_MODE, &c);
	text = json_dumps(p, JSON_COMPACT);
	assert_string_equal(
	    text, "{\"vendorId\":\"org.openchargenet.csms\",\"messageId\":\"SetV2GMode\","
		  "\"data\":\"{\\\"evseId\\\":1,\\\"operationMode\\\":\\\"CentralSetpoint\\\","
		  "\\\"setpointW\\\":-7400,\\\"transactionId\\\":42,"
		  "\\\"validUntilMs\\\":1700000000000}\"}");
	free(text);
	json_decref(p);
	/* 2.0.1: the station's transaction id */
	c.v2g.mode = SVC_MODE_CHARGING_ONLY;
	c.v2g.setpoint_w = 0;
	p = encode_checked(OCPP_V201, SVC_CMD_SET_V2G_MODE, &c);
	assert_string_equal(json_string_value(json_object_get(p, "data")),
			    "{\"evseId\":1,\"operationMode\":\"ChargingOnly\",\"setpointW\":0,"
			    "\"transactionId\":\"tx-abc\",\"validUntilMs\":1700000000000}");
	json_decref(p);
	/* no EVSE, or a mode out of range: nothing to send */
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		const char *action;
		json_t *none = NULL;

		c.evse_id = 0;
		assert_int_equal(adapter_for(v)->encode_cmd(&c, &action, &none), -EINVAL);
		c.evse_id = 1;
		c.v2g.mode = _SVC_MODE_MAX;
		assert_int_equal(adapter_for(v)->encode_cmd(&c, &action, &none), -EINVAL);
		c.v2g.mode = SVC_MODE_IDLE;
		assert_null(none);
	}
	assert_string_equal(svc_op_mode_name(SVC_MODE_IDLE), "Idle");
	assert_null(svc_op_mode_name(-1));
}

/* GetChargingProfiles (2.0.1 K09): the request id and the criteria asked; 1.6 has no such
 * message (the link answers SVC_RES_UNSUPPORTED, the API 409). */
static void test_get_profiles_encoded(void **state)
{
	struct svc_cmd c;
	const char *action;
	json_t *p, *none = NULL;
	char *text;

	(void)state;
	example(SVC_CMD_GET_PROFILES, &c);
	p = encode_checked(OCPP_V201, SVC_CMD_GET_PROFILES, &c);
	text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"chargingProfile\":{\"chargingProfilePurpose\":\"TxProfile\"},"
				  "\"evseId\":1,\"requestId\":77}");
	free(text);
	json_decref(p);
	/* no criterion: every profile of every EVSE (the criterion object is required) */
	c.report.has_evse = false;
	c.report.purpose = -1;
	p = encode_checked(OCPP_V201, SVC_CMD_GET_PROFILES, &c);
	text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"chargingProfile\":{},\"requestId\":77}");
	free(text);
	json_decref(p);
	/* the station's own profiles (evse 0) and a stack level */
	c.report.has_evse = true;
	c.evse_id = 0;
	c.report.stack_level = 3;
	p = encode_checked(OCPP_V201, SVC_CMD_GET_PROFILES, &c);
	assert_int_equal(json_integer_value(json_object_get(p, "evseId")), 0);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(p, "chargingProfile"), "stackLevel")),
			 3);
	json_decref(p);
	assert_int_equal(v16_adapter.encode_cmd(&c, &action, &none), -EOPNOTSUPP);
	assert_null(none);
	assert_string_equal(svc_cmd_status_name(SVC_RES_UNSUPPORTED), "unsupported");
	assert_string_equal(svc_cmd_kind_name(SVC_CMD_GET_PROFILES), "get-charging-profiles");
}

static void test_decode(void **state)
{
	static const struct {
		const char *answer;
		int status;
	} cases[] = {
	    {"{\"status\": \"Accepted\"}", SVC_RES_ACCEPTED},
	    {"{\"status\": \"Unlocked\"}", SVC_RES_ACCEPTED},
	    {"{\"status\": \"Scheduled\"}", SVC_RES_ACCEPTED},
	    {"{\"status\": \"Rejected\"}", SVC_RES_REJECTED},
	    {"{\"status\": \"UnlockFailed\"}", SVC_RES_REJECTED},
	    {"{\"status\": \"NotSupported\"}", SVC_RES_OTHER},
	    {"{\"listVersion\": 3}", SVC_RES_ANSWERED},
	};

	(void)state;
	for (int v = 0; v < _OCPP_VERSION_MAX; v++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct svc_cmd_result res = {.status = -1};
			json_t *p = json_loads(cases[i].answer, 0, NULL);

			adapter_for(v)->decode_result("X", p, &res);
			assert_int_equal(res.status, cases[i].status);
			if (json_object_get(p, "status"))
				assert_string_equal(
				    res.station_status,
				    json_string_value(json_object_get(p, "status")));
			else
				assert_string_equal(res.station_status, "");
			json_decref(p);
		}
	}
}

/* ---------------------------------------------------------------- svc with a fake link */

struct fake_link {
	int sends;
	struct svc_cmd last;
	char last_station[STATION_ID_MAX + 1];
	svc_link_done_fn done;
	void *ud;
	bool answer_now; /* answer inside send (like a station that is not connected) */
	struct svc_cmd_result now;
};

static int fake_send(void *impl, const char *station_id, const struct svc_cmd *cmd,
		     svc_link_done_fn done, void *ud)
{
	struct fake_link *l = impl;

	l->sends++;
	l->last = *cmd;
	snprintf(l->last_station, sizeof(l->last_station), "%s", station_id);
	l->done = done;
	l->ud = ud;
	if (l->answer_now) {
		l->done = NULL;
		done(ud, &l->now);
	}
	return 0;
}

static const struct svc_link_ops fake_ops = {.version = 1, .send = fake_send};

struct fx {
	struct cfg cfg;
	struct clock clock;
	char path[64];
	struct store *store;
	struct store *reader; /* a second connection: sees only committed rows */
	struct svc *svc;
	struct fake_link link;
	/* what the done callback saw */
	int dones;
	struct svc_cmd_result res;
	char payload[256];
	int rows_seen_by_reader; /* committed log rows when done was called */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	int fd;

	if (!f)
		return -1;
	log_set_level(LOG_ERR);
	cfg_init(&f->cfg);
	f->clock = (struct clock){.now_ms = clock_fixed_now_ms, .fixed_ms = T0};
	snprintf(f->path, sizeof(f->path), "/tmp/test_cmd_XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	close(fd);
	f->store = store_open(f->path, false, err, sizeof(err));
	f->reader = f->store ? store_open(f->path, false, err, sizeof(err)) : NULL;
	if (!f->reader) {
		print_error("store_open: %s\n", err);
		return -1;
	}
	f->svc = svc_create(f->store, &f->clock, &f->cfg);
	if (!f->svc)
		return -1;
	svc_set_link(f->svc, &fake_ops, &f->link);
	assert_int_equal(store_station_create(f->store, "CP16", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_station_create(f->store, "CP201", REG_ACCEPTED, T0), 0);
	assert_int_equal(store_commit(f->store), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	svc_destroy(f->svc);
	store_close(f->reader);
	store_close(f->store);
	cfg_free(&f->cfg);
	unlink(f->path);
	{
		char side[80];

		snprintf(side, sizeof(side), "%s-wal", f->path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", f->path);
		unlink(side);
	}
	free(f);
	return 0;
}

static int count_row(const struct store_command *row, void *ud)
{
	(void)row;
	++*(int *)ud;
	return 0;
}

static void on_done(void *ud, const struct svc_cmd_result *res)
{
	struct fx *f = ud;

	f->dones++;
	f->res = *res;
	snprintf(f->payload, sizeof(f->payload), "%s", res->payload ? res->payload : "");
	f->res.payload = NULL;
	/* what another connection to the database sees at this moment */
	f->rows_seen_by_reader = 0;
	assert_int_equal(
	    store_commands_list(f->reader, NULL, 100, 0, count_row, &f->rows_seen_by_reader), 0);
}

/* The node's group commit as app_group_commit() does it. */
static void group_commit(struct fx *f)
{
	bool ok = store_commit(f->store) == 0;

	svc_cmd_release(f->svc, ok);
}

static int64_t open_session(struct fx *f, const char *station, const char *station_tx_id)
{
	struct store_session_open in = {
	    .station_id = station,
	    .evse_id = 1,
	    .connector_id = 1,
	    .station_tx_id = station_tx_id,
	    .id_tag = "TAG1",
	    .auth_status = AUTH_ACCEPTED,
	    .start_ms = T0,
	    .now_ms = T0,
	};
	int64_t id;

	assert_int_equal(store_session_open(f->store, &in, &id), 0);
	assert_int_equal(store_commit(f->store), 0);
	return id;
}

static void test_remote_stop_resolution(void **state)
{
	struct fx *f = *state;
	int64_t s16 = open_session(f, "CP16", NULL);
	int64_t s201 = open_session(f, "CP201", "tx-abc-201");
	struct svc_cmd c = {.kind = SVC_CMD_REMOTE_STOP};
	struct svc_cmd_result ans = {.status = SVC_RES_ACCEPTED, .station_status = "Accepted"};
	char want[32];

	/* 1.6: the station knows the CSMS's own id */
	c.session_id = s16;
	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), 0);
	assert_int_equal(f->link.sends, 1);
	snprintf(want, sizeof(want), "%lld", (long long)s16);
	assert_string_equal(f->link.last.station_tx_id, want);
	assert_int_equal(f->link.last.session_id, s16);
	assert_string_equal(f->link.last_station, "CP16");
	f->link.done(f->link.ud, &ans);

	/* 2.0.1: the station's own transaction id */
	c.session_id = s201;
	assert_int_equal(svc_cmd_send(f->svc, "CP201", &c, "api", on_done, f), 0);
	assert_int_equal(f->link.sends, 2);
	assert_string_equal(f->link.last.station_tx_id, "tx-abc-201");
	f->link.done(f->link.ud, &ans);

	/* a station touches only its own sessions; unknown ones are refused before the link */
	c.session_id = s201;
	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), -ESRCH);
	c.session_id = 999999;
	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), -ESRCH);
	assert_int_equal(svc_cmd_send(f->svc, "CP-NOBODY", &c, "api", on_done, f), -ENOENT);
	assert_int_equal(f->link.sends, 2);
	assert_int_equal(f->dones, 0);
	group_commit(f);
	assert_int_equal(f->dones, 2);
}

static void test_log_durable_before_done(void **state)
{
	struct fx *f = *state;
	struct svc_cmd c = {.kind = SVC_CMD_RESET, .hard = true};
	struct svc_cmd_result ans = {.status = SVC_RES_ACCEPTED,
				     .station_status = "Accepted",
				     .action = "Reset",
				     .payload = "{\"status\":\"Accepted\"}"};
	int rows = 0;

	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), 0);
	assert_non_null(f->link.done);
	f->clock.fixed_ms += 250;
	f->link.done(f->link.ud, &ans);
	/* answered, logged in the open group transaction, but not yet durable: no answer yet */
	assert_int_equal(f->dones, 0);
	assert_int_equal(svc_cmd_waiting(f->svc), 1);
	assert_true(store_dirty(f->store));
	assert_int_equal(store_commands_list(f->reader, NULL, 100, 0, count_row, &rows), 0);
	assert_int_equal(rows, 0);

	group_commit(f);
	assert_int_equal(f->dones, 1);
	assert_int_equal(svc_cmd_waiting(f->svc), 0);
	/* when done ran, another connection already saw the row */
	assert_int_equal(f->rows_seen_by_reader, 1);
	assert_int_equal(f->res.status, SVC_RES_ACCEPTED);
	assert_string_equal(f->res.station_status, "Accepted");
	assert_string_equal(f->payload, "{\"status\":\"Accepted\"}");
	assert_int_equal(f->res.latency_ms, 250);
	assert_true(f->res.log_id > 0);

	/* a second commit releases nothing twice */
	group_commit(f);
	assert_int_equal(f->dones, 1);
}

struct row_copy {
	int n;
	char status[32], who[32], kind[32], action[48], request[128], station_status[32];
	int64_t latency_ms, requested_ms;
};

static int copy_row(const struct store_command *row, void *ud)
{
	struct row_copy *c = ud;

	if (c->n++)
		return 0; /* newest first: keep the first */
	snprintf(c->status, sizeof(c->status), "%s", row->status);
	snprintf(c->who, sizeof(c->who), "%s", row->who);
	snprintf(c->kind, sizeof(c->kind), "%s", row->kind);
	snprintf(c->action, sizeof(c->action), "%s", row->action ? row->action : "");
	snprintf(c->request, sizeof(c->request), "%s", row->request ? row->request : "");
	snprintf(c->station_status, sizeof(c->station_status), "%s",
		 row->station_status ? row->station_status : "");
	c->latency_ms = row->latency_ms;
	c->requested_ms = row->requested_ms;
	return 0;
}

static void test_log_row_contents(void **state)
{
	struct fx *f = *state;
	struct svc_cmd c = {.kind = SVC_CMD_UNLOCK, .evse_id = 2, .connector_id = 1};
	struct svc_cmd_result ans = {.status = SVC_RES_REJECTED,
				     .station_status = "UnlockFailed",
				     .action = "UnlockConnector",
				     .payload = "{\"status\":\"UnlockFailed\"}"};
	struct row_copy row = {0};

	assert_int_equal(svc_cmd_send(f->svc, "CP201", &c, "operator-7", on_done, f), 0);
	f->clock.fixed_ms += 40;
	f->link.done(f->link.ud, &ans);
	group_commit(f);
	assert_int_equal(store_commands_list(f->reader, "CP201", 10, 0, copy_row, &row), 0);
	assert_int_equal(row.n, 1);
	assert_string_equal(row.status, "rejected");
	assert_string_equal(row.who, "operator-7");
	assert_string_equal(row.kind, "unlock");
	assert_string_equal(row.action, "UnlockConnector");
	assert_string_equal(row.station_status, "UnlockFailed");
	assert_string_equal(row.request, "evse=2 connector=1");
	assert_int_equal(row.latency_ms, 40);
	assert_int_equal(row.requested_ms, T0);
	/* other stations' logs stay apart */
	row.n = 0;
	assert_int_equal(store_commands_list(f->reader, "CP16", 10, 0, copy_row, &row), 0);
	assert_int_equal(row.n, 0);
}

static void test_timeout_and_not_connected(void **state)
{
	struct fx *f = *state;
	struct svc_cmd c = {.kind = SVC_CMD_RESET};
	struct svc_cmd_result timeout = {
	    .status = SVC_RES_TIMEOUT, .action = "Reset", .detail = "timeout"};
	struct row_copy row = {0};

	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, NULL, on_done, f), 0);
	f->clock.fixed_ms += 30000;
	f->link.done(f->link.ud, &timeout);
	assert_int_equal(f->dones, 0);
	group_commit(f);
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->res.status, SVC_RES_TIMEOUT);
	assert_int_equal(f->res.latency_ms, 30000);
	assert_int_equal(store_commands_list(f->reader, "CP16", 10, 0, copy_row, &row), 0);
	assert_string_equal(row.status, "timeout");
	assert_string_equal(row.who, "system");

	/* a station that is not connected: the link answers at once, svc still logs first */
	f->link.answer_now = true;
	f->link.now = (struct svc_cmd_result){.status = SVC_RES_NOT_CONNECTED,
					      .detail = "station CP16 is not connected"};
	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), 0);
	assert_int_equal(f->dones, 1);
	group_commit(f);
	assert_int_equal(f->dones, 2);
	assert_int_equal(f->res.status, SVC_RES_NOT_CONNECTED);
	assert_string_equal(f->res.detail, "station CP16 is not connected");
	row.n = 0;
	assert_int_equal(store_commands_list(f->reader, "CP16", 10, 0, copy_row, &row), 0);
	assert_int_equal(row.n, 2);
	assert_string_equal(row.status, "not-connected");
	assert_string_equal(row.kind, "reset");
}

static void test_failed_commit_is_not_an_answer(void **state)
{
	struct fx *f = *state;
	struct svc_cmd c = {.kind = SVC_CMD_RESET};
	struct svc_cmd_result ans = {.status = SVC_RES_ACCEPTED,
				     .station_status = "Accepted",
				     .payload = "{\"status\":\"Accepted\"}"};

	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), 0);
	f->link.done(f->link.ud, &ans);
	store_rollback(f->store);
	svc_cmd_release(f->svc, false); /* the group commit failed */
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->res.status, SVC_RES_STORE_FAILED);
	assert_int_equal(f->res.log_id, 0);
	assert_int_equal(f->rows_seen_by_reader, 0);
}

/* The real link: a known station without a connection is "not connected", nothing is sent. */
static void test_link_conn_not_connected(void **state)
{
	struct fx *f = *state;
	struct svc_cmd c = {.kind = SVC_CMD_RAW};

	svc_set_link(f->svc, &link_conn_ops, f->svc);
	c.raw.action = "Reset";
	c.raw.payload = "{\"type\": \"Soft\"}";
	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), 0);
	group_commit(f);
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->res.status, SVC_RES_NOT_CONNECTED);
	assert_string_equal(f->res.detail, "station CP16 is not connected");
	assert_int_equal(f->rows_seen_by_reader, 1);

	/* without a link nothing can be sent */
	svc_set_link(f->svc, NULL, NULL);
	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), -ENOLINK);
	/* and a raw command needs an action */
	svc_set_link(f->svc, &fake_ops, &f->link);
	c.raw.action = "";
	assert_int_equal(svc_cmd_send(f->svc, "CP16", &c, "api", on_done, f), -EINVAL);
	assert_int_equal(f->link.sends, 0);
}

/* ---- password rotation: the new hash is made off the loop (svc_offload_ops) */

struct held_job {
	int queued;
	void (*work)(void *arg);
	void (*done)(void *arg, int status);
	void *arg;
};

static int hold_queue(void *impl, void (*work)(void *arg), void (*done)(void *arg, int status),
		      void *arg)
{
	struct held_job *h = impl;

	h->queued++;
	h->work = work;
	h->done = done;
	h->arg = arg;
	return 0;
}

static const struct svc_offload_ops hold_ops = {hold_queue};

struct rotated_seen {
	int calls;
	bool stored;
	int status;
};

static void on_rotated_seen(void *ud, const struct svc_cmd_result *res, bool stored)
{
	struct rotated_seen *r = ud;

	r->calls++;
	r->stored = stored;
	r->status = res->status;
}

static void test_rotation_hash_off_the_loop(void **state)
{
	struct fx *f = *state;
	struct held_job held = {0};
	struct rotated_seen seen = {0};
	struct store_station_security sec;
	struct svc_cmd_result ans = {.status = SVC_RES_ACCEPTED,
				     .station_status = "Accepted",
				     .action = "ChangeConfiguration",
				     .payload = "{\"status\":\"Accepted\"}"};

	f->cfg.kdf_iterations = 1000;
	svc_set_offload(f->svc, &hold_ops, &held);
	assert_int_equal(svc_password_push(f->svc, "CP16", "rotated-password-0001", "api",
					   on_rotated_seen, &seen),
			 0);
	assert_non_null(f->link.done);
	f->link.done(f->link.ud, &ans);
	group_commit(f);
	/* accepted: the KDF is queued, nothing stored or answered yet */
	assert_int_equal(held.queued, 1);
	assert_int_equal(seen.calls, 0);
	assert_int_equal(store_station_security_get(f->store, "CP16", &sec), 0);
	assert_string_equal(sec.password_hash, "");
	held.work(held.arg); /* the thread pool's part */
	assert_int_equal(seen.calls, 0);
	held.done(held.arg, 0); /* back on the loop: stored, committed, then answered */
	assert_int_equal(seen.calls, 1);
	assert_true(seen.stored);
	assert_int_equal(seen.status, SVC_RES_ACCEPTED);
	assert_int_equal(store_station_security_get(f->reader, "CP16", &sec), 0);
	assert_true(pwhash_verify("rotated-password-0001", sec.password_hash));

	/* rejected: no KDF, nothing stored */
	memset(&seen, 0, sizeof(seen));
	ans.status = SVC_RES_REJECTED;
	snprintf(ans.station_status, sizeof(ans.station_status), "Rejected");
	assert_int_equal(svc_password_push(f->svc, "CP16", "another-password-0001", "api",
					   on_rotated_seen, &seen),
			 0);
	f->link.done(f->link.ud, &ans);
	group_commit(f);
	assert_int_equal(held.queued, 1);
	assert_int_equal(seen.calls, 1);
	assert_false(seen.stored);
	assert_int_equal(store_station_security_get(f->store, "CP16", &sec), 0);
	assert_true(pwhash_verify("rotated-password-0001", sec.password_hash));
}

static void test_names(void **state)
{
	(void)state;
	for (int k = 0; k < _SVC_CMD_KIND_MAX; k++)
		assert_int_equal(svc_cmd_kind_from_name(svc_cmd_kind_name(k)), k);
	for (int t = 0; t < _SVC_TRIGGER_MAX; t++)
		assert_int_equal(svc_trigger_from_name(svc_trigger_name(t)), t);
	for (int s = 0; s < _SVC_RES_MAX; s++)
		assert_non_null(svc_cmd_status_name(s));
	assert_int_equal(svc_cmd_kind_from_name("fly"), _SVC_CMD_KIND_INVALID);
	assert_null(svc_cmd_kind_name(_SVC_CMD_KIND_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_both_versions),
	    cmocka_unit_test(test_encoded_values),
	    cmocka_unit_test(test_v2g_mode_encoded),
	    cmocka_unit_test(test_get_profiles_encoded),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_remote_stop_resolution, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_log_durable_before_done, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_hash_off_the_loop, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_log_row_contents, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_and_not_connected, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_commit_is_not_an_answer, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_link_conn_not_connected, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("csms-cmd", tests, NULL, NULL);
}
