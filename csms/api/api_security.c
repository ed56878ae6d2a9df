/* SPDX-License-Identifier: MIT */
/* REST routes of station security: security events, the certificates the operator's CA
 * issued, password rotation. Certificate management on the station (InstallCertificate,
 * DeleteCertificate, GetInstalledCertificateIds, GetLog, ExtendedTriggerMessage) goes through
 * the command route POST /api/stations/{id}/commands/{Action}. See docs/security.md. */
#include "api-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../store/store.h"
#include "../svc/cert.h"
#include "../svc/cmd.h"
#include "../svc/svc.h"

static int event_json(const struct store_history_row *row, void *ud)
{
	json_t *detail = row->text ? json_loads(row->text, 0, NULL) : NULL;
	json_t *type = json_object_get(detail, "type");

	return json_array_append_new(
	    ud, json_pack("{s:o, s:O, s:o, s:o}", "time", api_time_or_null(row->ts_ms), "type",
			  json_is_string(type) ? type : json_null(), "tech_info",
			  json_is_object(detail) && json_object_get(detail, "techInfo")
			      ? json_incref(json_object_get(detail, "techInfo"))
			      : json_null(),
			  "detail", detail ? detail : api_str_or_null(row->text)));
}

/* GET /api/stations/{id}/security-events?limit=&offset= : newest first; the station's own
 * (SecurityEventNotification) and the CSMS's (a refused CSR: "source": "csms" in detail). */
static void get_security_events(struct api_req *r, char **segs)
{
	long limit, offset;
	json_t *arr;
	int e;

	if (api_query_page(r, 100, 1000, &limit, &offset) < 0 || api_station_known(r, segs[2]) < 0)
		return;
	arr = json_array();
	e = store_security_events(r->api->store, segs[2], (int)limit, (int)offset, event_json, arr);
	api_respond_list(r, e, "events", arr);
}

static int cert_json(const struct store_cert *row, void *ud)
{
	return json_array_append_new(
	    ud, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "serial", row->serial, "type",
			  row->type, "issued", api_time_or_null(row->issued_ms), "not_after",
			  api_time_or_null(row->not_after_ms), "renewal_requested",
			  api_time_or_null(row->renew_requested_ms), "pem", row->pem));
}

/* GET /api/stations/{id}/certificates: the certificates our CA issued to it, newest (the one
 * in use) first. */
static void get_certificates(struct api_req *r, char **segs)
{
	long limit;
	json_t *arr;
	int e;

	if (api_query_int(r, "limit", 20, 1, 1000, &limit) < 0 || api_station_known(r, segs[2]) < 0)
		return;
	arr = json_array();
	e = store_certs_list(r->api->store, segs[2], (int)limit, cert_json, arr);
	api_respond_list(r, e, "certificates", arr);
}

static void rotated(void *ud, const struct svc_cmd_result *res, bool stored)
{
	struct api_req *r = ud;

	switch (res->status) {
	case SVC_RES_ACCEPTED:
		if (stored)
			api_respond(
			    r, 200,
			    json_pack("{s:s, s:b}", "status", res->station_status, "stored", 1));
		else
			api_error(r, 500,
				  "the station took the new password but it could not be "
				  "stored");
		break;
	case SVC_RES_REJECTED:
	case SVC_RES_OTHER:
	case SVC_RES_ANSWERED:
		/* the station keeps its old password: so do we */
		api_respond(r, 409,
			    json_pack("{s:s, s:s, s:b}", "error",
				      "the station did not accept the new password", "status",
				      res->station_status, "stored", 0));
		break;
	case SVC_RES_NOT_CONNECTED:
		api_error(r, 409, "%s", res->detail);
		break;
	case SVC_RES_TIMEOUT:
		api_error(r, 504, "charger did not answer in time");
		break;
	case SVC_RES_BUSY:
		api_error(r, 503, "%s", res->detail);
		break;
	case SVC_RES_CALL_ERROR:
	case SVC_RES_BAD_ANSWER:
		api_respond(r, 502,
			    json_pack("{s:s, s:s, s:s}", "error", "charger answered with an error",
				      "code", res->code, "description", res->detail));
		break;
	default:
		api_error(r, 502, "password not changed: %s",
			  res->detail[0] ? res->detail : svc_cmd_status_name(res->status));
		break;
	}
}

/* POST /api/stations/{id}/rotate-password: a new random password is set on the station
 * (ChangeConfiguration AuthorizationKey / SetVariables BasicAuthPassword) and, once it
 * accepted, stored (hashed) and committed before this answers. The password itself is never
 * shown: only the station learns it. */
static void post_rotate_password(struct api_req *r, char **segs)
{
	int e;

	r->pending = true;
	e = svc_password_rotate(r->api->svc, segs[2], "api", rotated, r);
	if (e >= 0)
		return;
	r->pending = false;
	if (e == -ENOENT)
		api_error(r, 404, "unknown station %s", segs[2]);
	else
		api_storage_error(r, e);
}

const struct api_route api_security_routes[] = {
    {API_GET, "api/stations/*/security-events", get_security_events},
    {API_GET, "api/stations/*/certificates", get_certificates},
    {API_POST, "api/stations/*/rotate-password", post_rotate_password},
    {0, NULL, NULL},
};
